"""The stack's configuration: read once, validated before any resource exists.

Every rule here is a public contract (README "Config reference"). A broken rule stops the program
with a `ConfigError` whose one-line message names the key, the entry and the rule.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

PROJECT = "whitelabel-gateway"

# A DNS label as RFC 1123 allows it, lowercased: what a customer's subdomain may be.
LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
LABEL_RULE = "must be a lowercase DNS label: 1 to 63 of a-z, 0-9, '-', not starting or ending with '-'"

# Subdomains the platform keeps for itself: a customer named `www` must not take www.<baseDomain>.
RESERVED_SUBDOMAINS = frozenset({"www", "api", "docs", "admin", "mail", "status", "cname"})

# Customers who bring their own domain point it (CNAME) at `<subdomain>.cname.<baseDomain>`: a name we
# own from the first phase on, aliased to their custom domain once it exists.
HANDOFF_LABEL = "cname"

# ACM puts the first domain name in the certificate's Common Name, which RFC 5280 limits to 64 octets.
CERTIFICATE_NAME_MAX = 64

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy, retentionInDays).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# Fargate's valid cpu/memory pairs (MiB), from the ECS task-size table.
FARGATE_MEMORY = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}


class ConfigError(Exception):
    """A config value breaks a rule; the message is one line: key, entry, rule."""

    def __init__(self, key: str, rule: str) -> None:
        super().__init__(f"{PROJECT}:{key}: {rule}")
        self.key = key
        self.rule = rule


def is_dns_name(value: str) -> bool:
    """True for a lowercase fully qualified DNS name of at least two labels, at most 253 characters."""
    labels = value.split(".")
    return len(value) <= 253 and len(labels) >= 2 and all(LABEL_RE.match(label) for label in labels)


class _Model(BaseModel):
    # A typo in a key must not be ignored; frozen so nothing downstream edits config.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Customer(_Model):
    """One entry of `customers`: a tenant reached at `<subdomain>.<baseDomain>`."""

    name: str
    subdomain_: str | None = Field(default=None, alias="subdomain")
    dedicated_domain: StrictBool = Field(default=False, alias="dedicatedDomain")
    custom_domain: str | None = Field(default=None, alias="customDomain")
    custom_domain_validated: StrictBool = Field(default=False, alias="customDomainValidated")

    @field_validator("dedicated_domain", "custom_domain_validated", mode="before")
    @classmethod
    def _bool_from_cli(cls, value: Any) -> Any:
        # `pulumi config set --path 'customers[0].dedicatedDomain' true` stores the string "true".
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return value

    @field_validator("name")
    @classmethod
    def _name_is_label(cls, value: str) -> str:
        if not LABEL_RE.match(value):
            raise ValueError(f"{value!r} {LABEL_RULE}")
        return value

    @field_validator("subdomain_")
    @classmethod
    def _subdomain_is_label(cls, value: str | None) -> str | None:
        if value is not None and not LABEL_RE.match(value):
            raise ValueError(f"{value!r} {LABEL_RULE}")
        return value

    @field_validator("custom_domain")
    @classmethod
    def _custom_domain_is_dns_name(cls, value: str | None) -> str | None:
        if value is not None and not is_dns_name(value):
            raise ValueError(f"{value!r} must be a lowercase DNS name such as api.customer.com")
        return value

    @model_validator(mode="after")
    def _validated_needs_domain(self) -> Customer:
        if self.custom_domain_validated and self.custom_domain is None:
            raise ValueError("customDomainValidated is set but customDomain is not")
        return self

    @property
    def subdomain(self) -> str:
        return self.subdomain_ if self.subdomain_ is not None else self.name


class NetworkSettings(_Model):
    """The VPC: CIDR, how many availability zones, how many NAT gateways."""

    cidr: str = "10.0.0.0/16"
    availability_zones: int = Field(default=2, ge=2, le=6, alias="availabilityZones")
    nat_gateways: int = Field(default=1, ge=1, le=6, alias="natGateways")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value)
        except ValueError:
            raise ValueError(f"{value!r} must be an IPv4 CIDR block such as 10.0.0.0/16") from None
        if not 16 <= net.prefixlen <= 20:
            raise ValueError(f"{value!r} must have a prefix between /16 and /20 (subnets are cut as /prefix+4)")
        return value

    @model_validator(mode="after")
    def _nat_within_zones(self) -> NetworkSettings:
        if self.nat_gateways > self.availability_zones:
            raise ValueError(
                f"natGateways ({self.nat_gateways}) must not exceed availabilityZones ({self.availability_zones})"
            )
        return self


class Service1Settings(_Model):
    """The ECS Fargate microservice behind `/service1`."""

    image: str = "public.ecr.aws/nginx/nginx:stable-alpine"
    port: int = Field(default=80, ge=1, le=65535)
    cpu: int = 256
    memory: int = 512
    desired_count: int = Field(default=1, ge=0, le=100, alias="desiredCount")
    health_check_path: str = Field(default="/", pattern=r"^/", alias="healthCheckPath")

    @model_validator(mode="after")
    def _fargate_size(self) -> Service1Settings:
        allowed = FARGATE_MEMORY.get(self.cpu)
        if allowed is None:
            raise ValueError(f"cpu {self.cpu} is not a Fargate size: one of {sorted(FARGATE_MEMORY)}")
        if self.memory not in allowed:
            raise ValueError(
                f"memory {self.memory} does not fit cpu {self.cpu} on Fargate: {allowed[0]} to {allowed[-1]} MiB"
            )
        return self


class Service2Settings(_Model):
    """The EC2 web app (Auto Scaling group) behind `/service2`."""

    instance_type: str = Field(default="t3.micro", pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", alias="instanceType")
    port: int = Field(default=80, ge=1, le=65535)
    min_size: int = Field(default=1, ge=0, le=100, alias="minSize")
    max_size: int = Field(default=2, ge=1, le=100, alias="maxSize")
    desired_capacity: int | None = Field(default=None, ge=0, le=100, alias="desiredCapacity")
    health_check_path: str = Field(default="/", pattern=r"^/", alias="healthCheckPath")

    @model_validator(mode="after")
    def _sizes(self) -> Service2Settings:
        if self.min_size > self.max_size:
            raise ValueError(f"minSize ({self.min_size}) must not exceed maxSize ({self.max_size})")
        desired = self.desired_capacity
        if desired is not None and not self.min_size <= desired <= self.max_size:
            raise ValueError(f"desiredCapacity ({desired}) must lie between minSize and maxSize")
        return self


class DocsSettings(_Model):
    """The documents served at `/docs`."""

    folder: str = "documents"
    versioning: StrictBool = False


class ThrottleSettings(_Model):
    """Stage-wide request throttling (API Gateway method settings on `*/*`)."""

    rate_limit: float = Field(default=100, gt=0, alias="rateLimit")
    burst_limit: int = Field(default=200, ge=1, alias="burstLimit")


class QuotaSettings(_Model):
    """Account quotas the program checks before it creates anything; raise them here after AWS does."""

    # API Gateway: "Custom domain names per account per Region" (public), default 120.
    custom_domains: int = Field(default=120, ge=1, alias="customDomains")
    # Route 53: "Records per hosted zone", default 10,000.
    records_per_zone: int = Field(default=10_000, ge=1, alias="recordsPerZone")
    # ACM: "Number of ACM certificates" per account and region, default 2,500.
    certificates: int = Field(default=2_500, ge=1)


class Settings(_Model):
    """The whole validated configuration of one stack."""

    base_domain: str = Field(alias="baseDomain")
    hosted_zone_: str | None = Field(default=None, alias="hostedZone")
    customers: list[Customer]
    network: NetworkSettings = NetworkSettings()
    service1: Service1Settings = Service1Settings()
    service2: Service2Settings = Service2Settings()
    docs: DocsSettings = DocsSettings()
    log_retention_days: int = Field(default=14, alias="logRetentionDays")
    throttle: ThrottleSettings = ThrottleSettings()
    dual_stack: StrictBool = Field(default=False, alias="dualStack")
    quotas: QuotaSettings = QuotaSettings()

    @field_validator("base_domain", "hosted_zone_")
    @classmethod
    def _dns_name(cls, value: str | None) -> str | None:
        if value is not None and not is_dns_name(value):
            raise ValueError(f"{value!r} must be a lowercase DNS name such as example.com")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention period: one of {list(LOG_RETENTION_DAYS)}")
        return value

    @property
    def hosted_zone(self) -> str:
        return self.hosted_zone_ if self.hosted_zone_ is not None else self.base_domain

    def fqdn(self, customer: Customer) -> str:
        return f"{customer.subdomain}.{self.base_domain}"


# Keys read from the project namespace; anything else there is a typo.
TOP_LEVEL_KEYS = tuple((field.alias or name) for name, field in Settings.model_fields.items())
STRUCTURED_KEYS = frozenset({"customers", "network", "service1", "service2", "docs", "throttle", "quotas"})


def _location(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else str(part)
    return key


def _rule(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known key (check its spelling; README lists every key)"
    if kind == "list_type":
        return "must be a list of customer entries (it may be empty: [])"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a mapping of keys to values"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def parse_settings(raw: Mapping[str, Any]) -> Settings:
    """Validate raw config values (key → parsed value) into `Settings`, or raise one `ConfigError`."""
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigError(key, "is not a known key (check its spelling; README lists every key)")
    if "customers" in raw and not isinstance(raw["customers"], list):
        raise ConfigError("customers", "must be a list of customer entries (it may be empty: [])")
    for index, entry in enumerate(raw.get("customers") or []):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"customers[{index}]", "must be a mapping with at least a name")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        # A model-level rule (no field) is reported against its entry.
        raise ConfigError(_location(loc) or "config", _rule(first)) from None
    _check_customers(settings)
    from whitelabel.quotas import check_quotas

    check_quotas(settings)
    return settings


def _check_customers(settings: Settings) -> None:
    names: dict[str, int] = {}
    subdomains: dict[str, int] = {}
    custom_domains: dict[str, int] = {}
    for index, customer in enumerate(settings.customers):
        where = f"customers[{index}]"
        if customer.name in names:
            raise ConfigError(
                f"{where}.name",
                f"{customer.name!r} is already used by customers[{names[customer.name]}]; names must be unique",
            )
        names[customer.name] = index
        sub_key = f"{where}.subdomain" if customer.subdomain_ is not None else f"{where}.name"
        if customer.subdomain in RESERVED_SUBDOMAINS:
            raise ConfigError(
                sub_key,
                f"{customer.subdomain!r} is reserved by the platform ({', '.join(sorted(RESERVED_SUBDOMAINS))}); "
                "set a different subdomain",
            )
        if customer.subdomain in subdomains:
            raise ConfigError(
                sub_key,
                f"subdomain {customer.subdomain!r} is already used by customers[{subdomains[customer.subdomain]}]; "
                "subdomains must be unique",
            )
        subdomains[customer.subdomain] = index
        fqdn = settings.fqdn(customer)
        if len(fqdn) > 253:
            raise ConfigError(sub_key, f"{fqdn!r} is longer than the 253 characters a DNS name may have")
        if customer.custom_domain is not None:
            domain = customer.custom_domain
            if domain == settings.base_domain or domain.endswith("." + settings.base_domain):
                raise ConfigError(
                    f"{where}.customDomain",
                    f"{domain!r} lies inside baseDomain {settings.base_domain!r}; "
                    "use subdomain (and dedicatedDomain) for names we own",
                )
            if len(domain) > CERTIFICATE_NAME_MAX:
                raise ConfigError(
                    f"{where}.customDomain",
                    f"{domain!r} is {len(domain)} characters; an ACM certificate name may have {CERTIFICATE_NAME_MAX}",
                )
            if domain in custom_domains:
                raise ConfigError(
                    f"{where}.customDomain", f"{domain!r} is already used by customers[{custom_domains[domain]}]"
                )
            custom_domains[domain] = index
    wildcard = f"*.{settings.base_domain}"
    if len(wildcard) > CERTIFICATE_NAME_MAX:
        raise ConfigError(
            "baseDomain",
            f"the certificate name {wildcard!r} is {len(wildcard)} characters; ACM allows {CERTIFICATE_NAME_MAX}",
        )
    zone = settings.hosted_zone
    if settings.base_domain != zone and not settings.base_domain.endswith("." + zone):
        raise ConfigError("hostedZone", f"{zone!r} must be baseDomain {settings.base_domain!r} or a parent of it")


def read_raw_config(values: Mapping[str, str]) -> dict[str, Any]:
    """Turn Pulumi's flat `project:key` → string map into key → parsed value for this project.

    Structured values arrive as JSON text (that is how the engine passes objects and lists).
    """
    raw: dict[str, Any] = {}
    prefix = f"{PROJECT}:"
    for full_key, text in values.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        value: Any = text
        if key in STRUCTURED_KEYS or key not in TOP_LEVEL_KEYS:
            try:
                value = json.loads(text)
            except (TypeError, ValueError):
                value = text
        elif key in ("logRetentionDays",):
            value = _number(text)
        elif key in ("dualStack",):
            value = text.lower() == "true" if text.lower() in ("true", "false") else text
        raw[key] = value
    return raw


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def load_settings() -> Settings:
    """Read this stack's config from the Pulumi runtime and validate it."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    values: dict[str, str] = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    try:
        return parse_settings(read_raw_config(values))
    except ConfigError as error:
        # RunError: the engine prints the one line, no traceback, and nothing has been created.
        raise pulumi.RunError(str(error)) from None
