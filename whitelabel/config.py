"""The stack's configuration: read once, validated before any resource exists.

Every rule here is a public contract (README "Config reference"). A broken rule stops the program
with a `ConfigError` whose one-line message names the key, the entry and the rule.
"""

from __future__ import annotations

import difflib
import ipaddress
import itertools
import json
import math
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from whitelabel.api_definition import document_problems
from whitelabel.endpoints import (
    EDGE,
    EDGE_TLS_POLICIES,
    ENDPOINT_TYPES,
    REGIONAL,
    Endpoint,
    endpoint,
    tls_policy_endpoint_type,
)

PROJECT = "whitelabel-gateway"

# A DNS label as RFC 1123 allows it, lowercased: what a customer's subdomain may be.
LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
LABEL_RULE = "must be a lowercase DNS label: 1 to 63 of a-z, 0-9, '-', not starting or ending with '-'"

# Subdomains the platform keeps for itself: a customer named `www` must not take www.<baseDomain>.
RESERVED_SUBDOMAINS = frozenset({"www", "api", "docs", "admin", "mail", "status", "cname"})

# Customer names the components use for their own resources (`tenants-wildcard-domain`, `tenants-wildcard-a`):
# a customer of that name would collide with them. Its subdomain may still be anything.
RESERVED_NAMES = frozenset({"wildcard"})

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


# Tier names are config keys and usage-plan name parts: short lowercase labels.
TIER_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}\Z")
TIER_RULE = "must be a tier name: a lowercase letter, then up to 31 of a-z, 0-9, '-'"

# `namePrefix` starts names that must be unique per account and region (REST API, VPC link, log group,
# ECS task family); 24 characters leave room for the stack name and each resource's own suffix.
NAME_PREFIX_MAX = 24

# An AZ ID is "the first three letters of the Region code, followed by the number at the end of the Region
# code, followed by -az, followed by a number" (euw1-az1; apse2-az1 for ap-southeast-2):
# https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html
ZONE_ID_RE = re.compile(r"^[a-z]{2,5}[0-9]{1,2}-az[0-9]{1,2}\Z")

# API Gateway: "API keys per account per Region" is 10,000 and "Can be increased: No":
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
API_KEYS_MAX = 10_000

# The security policies API Gateway offers REST APIs and regional custom domains ("Supported security
# policies": https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies-list.html).
# `SecurityPolicy_*` are the enhanced ones and need an endpoint access mode; the `*_EDGE` ones are for
# edge-optimized endpoints only, and `TLS_1_0` admits TLS 1.0, so neither is offered here.
LEGACY_TLS_POLICY = "TLS_1_2"
ENHANCED_TLS_POLICIES = (
    "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_2021_06",
    "SecurityPolicy_TLS13_1_3_2025_09",
    "SecurityPolicy_TLS13_1_3_FIPS_2025_09",
)
# The default still admits TLS 1.2 clients (not every tenant's HTTP stack speaks TLS 1.3), but on TLS 1.2
# offers only ECDHE (forward-secret) AES-GCM suites, and adds the hybrid post-quantum key exchange for
# clients that support it. The FIPS variants narrow the suites further for regulated workloads.
DEFAULT_TLS_POLICY = "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09"
TLS_POLICIES = (*ENHANCED_TLS_POLICIES, LEGACY_TLS_POLICY)
# "You can't enable mutual TLS on a domain name that uses an enhanced security policy" (Considerations,
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html):
# a domain with a truststore uses the legacy TLS 1.2 policy. And "When you invoke that custom domain name, API
# Gateway uses the API's security policy to negotiate the TLS handshake" (same page): so mutual TLS needs
# `tlsPolicy` TLS_1_2 too, or the API's enhanced policy would negotiate the mTLS domains' handshakes.
MTLS_TLS_POLICY = LEGACY_TLS_POLICY

# The two endpoint types' build decisions (whitelabel/endpoints.py), with the regional policies above.
REGIONAL_ENDPOINT = endpoint(REGIONAL, regional_tls_policies=ENHANCED_TLS_POLICIES, regional_default=DEFAULT_TLS_POLICY)
EDGE_ENDPOINT = endpoint(EDGE, regional_tls_policies=ENHANCED_TLS_POLICIES, regional_default=DEFAULT_TLS_POLICY)
assert tuple(e.type for e in (REGIONAL_ENDPOINT, EDGE_ENDPOINT)) == ENDPOINT_TYPES


def endpoint_access_mode(policy: str) -> str | None:
    """STRICT for an enhanced policy (it requires a mode); None for the legacy one, which takes none.

    STRICT: requests must come through the resource's own endpoint type and, on regional endpoints, the
    TLS SNI must match the Host header, so one tenant's connection cannot be fronted with another's name
    ("Endpoint access mode",
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies.html).
    """
    return "STRICT" if policy.startswith("SecurityPolicy_") else None


# An mTLS truststore: a PEM bundle in S3 ("an Amazon S3 URL ... for example s3://bucket-name/key-name",
# MutualTlsAuthentication.truststoreUri,
# https://docs.aws.amazon.com/apigateway/latest/api/API_MutualTlsAuthentication.html); bucket names follow
# S3's rules: 3 to 63 of a-z, 0-9, '.', '-', starting and ending with a letter or digit.
TRUSTSTORE_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+\Z")

# Our own bound on a distinguished name in `mtlsIssuers`/`mtlsSubjects` (real ones are far shorter).
DN_MAX = 1024

# Cache sizes a stage's cache cluster may have, in GB (Stage.cacheClusterSize,
# https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html).
CACHE_SIZES_GB = (0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118.0, 237.0)

# A rate-based rule's limit: at least 10 requests per evaluation window, at most 2,000,000,000
# (RateBasedStatement.Limit, https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html).
WAF_RATE_LIMIT_MIN = 10
WAF_RATE_LIMIT_MAX = 2_000_000_000


def _one_line(text: str) -> str:
    """Control characters (a newline in a key or value) must not break the one-line contract."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


# An image reference as docker/distribution parses it (reference.go, v0.5.0: "reference := name [ ":" tag ]
# [ "@" digest ]"; https://github.com/distribution/reference/blob/v0.5.0/reference.go). ASCII only: Python's
# `\w` would take any Unicode letter.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*"
_NAME = rf"(?:{_HOST}(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_RE = re.compile(rf"^(?P<name>{_NAME})(?::{_TAG})?(?:@{_DIGEST})?\Z", re.ASCII)
NAME_TOTAL_LENGTH_MAX = 255  # distribution/reference: "NameTotalLengthMax"
IMAGE_RULE = (
    "is not an image reference: [registry[:port]/]repository[:tag][@digest], repository path in lowercase"
    " (such as public.ecr.aws/nginx/nginx:stable-alpine)"
)


def is_image_reference(value: str) -> bool:
    """True for a reference a container runtime can pull: registry, repository path, tag or digest."""
    if len(value) > 2 * NAME_TOTAL_LENGTH_MAX + 256:  # a name, a tag and a long digest at most
        return False
    match = IMAGE_RE.match(value)
    return match is not None and len(match["name"]) <= NAME_TOTAL_LENGTH_MAX


# A target group's health-check path: a URL path the load balancer requests, so '/' then visible ASCII (no
# space, no control character); 1024 characters is our own bound, far above any real health check.
HEALTH_CHECK_PATH_RE = re.compile(r"^/[!-~]{0,1023}\Z")


def check_health_check_path(value: str) -> str:
    """Refuse a health-check path a load balancer could not request."""
    if not HEALTH_CHECK_PATH_RE.match(value):
        raise ValueError(
            f"{show(value)} must be a URL path: '/' then up to 1023 visible ASCII characters, no spaces"
            " (such as /healthz)"
        )
    return value


# The longest key part an error line shows as it is (known keys are far shorter).
KEY_PART_SHOWN_MAX = 60


class ConfigError(Exception):
    """A config value breaks a rule; the message is one line: key, entry, rule."""

    def __init__(self, key: str, rule: str, namespace: str = PROJECT) -> None:
        # namespace: the config namespace of the key; `aws` for provider keys such as `aws:region`.
        key, rule = _one_line(key), _one_line(rule)
        super().__init__(f"{namespace}:{key}: {rule}")
        self.key = key
        self.rule = rule


class FieldRuleError(ValueError):
    """A rule across fields of one entry, broken by `field`: reported against that field's key."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(rule)
        self.field = field


def show(value: Any, limit: int = 80) -> str:
    """`repr` of a config value for an error line, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}…{text[-4:]}"


def _bool_from_cli(value: Any) -> Any:
    # `pulumi config set --path 'customers[0].dedicatedDomain' true` stores the string "true".
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _no_bool(value: Any) -> Any:
    # Python's bool is an int: without this `desiredCount: true` would be taken as 1.
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean; a number is expected here")
    return value


def _finite(value: Any) -> Any:
    # YAML's .nan/.inf (and the strings "nan", "inf") are floats to Python, never a rate or a threshold.
    value = _no_bool(value)
    text = value.strip().lower().lstrip("+-") if isinstance(value, str) else None
    if (isinstance(value, float) and not math.isfinite(value)) or text in ("nan", "inf", "infinity"):
        raise ValueError(f"{show(value)} is not a finite number")
    return value


# Booleans: true/false, or the strings "true"/"false" that `pulumi config set --path` stores.
CliBool = Annotated[StrictBool, BeforeValidator(_bool_from_cli)]
# Numbers: a number, or the numeric string `pulumi config set --path` stores; never a boolean. Integers
# fit the 32-bit integers AWS's APIs take (usage-plan and stage burst limits, quota limits); numbers are
# finite (YAML's .inf and .nan are not a rate).
INT32_MAX = 2**31 - 1
Int = Annotated[int, BeforeValidator(_no_bool), Field(ge=-INT32_MAX, le=INT32_MAX)]
Float = Annotated[float, BeforeValidator(_finite), AllowInfNan(False), Field(le=INT32_MAX)]


def is_dns_name(value: str) -> bool:
    """True for a lowercase fully qualified DNS name of at least two labels, at most 253 characters."""
    labels = value.split(".")
    return len(value) <= 253 and len(labels) >= 2 and all(LABEL_RE.match(label) for label in labels)


class _Model(BaseModel):
    # A typo in a key must not be ignored; frozen so nothing downstream edits config.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


DEFAULT_TENANT_CLAIM = "custom:tenantId"  # as Cognito names a custom attribute in its tokens


def _https_issuer(value: str | None) -> str | None:
    # The issuer is the token's `iss` and the root of its discovery document: it must be https, so the keys
    # that decide who a user is cannot be altered on the way (README "End-user authentication (auth)").
    if value is not None and (not value.startswith("https://") or len(value) <= 8 or not _claim_text(value)):
        raise ValueError(f"{show(value)} must be an https URL (the issuer as its tokens' iss claim names it)")
    return value


def _claim_text(value: str) -> bool:
    # Issuer, audiences and the tenant claim's name go into registry items and are compared with token claims:
    # one printable word (no whitespace or control characters), as a claim name or client id is.
    return 0 < len(value) <= 1024 and value.isprintable() and not any(ch.isspace() for ch in value)


def _claim_names(value: Any) -> Any:
    names = [value] if isinstance(value, str) else list(value or ())
    for name in names:
        if isinstance(name, str) and not _claim_text(name):
            raise ValueError(f"{show(name)} must be one printable word of at most 1024 characters")
    return value


class CustomerAuth(_Model):
    """`customers[i].auth`: one customer's own issuer, audiences or tenant claim (each overrides `auth`'s)."""

    issuer: str | None = None
    audiences: tuple[str, ...] | None = None
    # Explicit null: the issuer alone identifies the tenant (`model_fields_set` tells null from absent).
    tenant_claim: str | None = Field(default=None, alias="tenantClaim")

    _issuer = field_validator("issuer")(_https_issuer)
    _names = field_validator("audiences", "tenant_claim")(_claim_names)


# Brand of a tenant's developer portal (README "Developer portal per tenant"). A colour is a colour, a URL is https:
# each value is written into the tenant's page and its Content-Security-Policy, so nothing may hold a quote, angle
# bracket or whitespace that could leave its attribute.
HEX_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}\Z")
HTTPS_URL_RE = re.compile(r"^https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*)?\Z")
LOGO_EXTENSIONS = (".png", ".svg", ".jpg", ".jpeg", ".webp", ".gif")
DISPLAY_NAME_MAX = 80


def _https_url(value: str | None) -> str | None:
    if value is not None and (len(value) > 2048 or not HTTPS_URL_RE.match(value)):
        raise ValueError(f"{show(value)} must be an https URL such as https://acme.example/logo.svg")
    return value


class Branding(_Model):
    """`branding` (the stack's) or `customers.<name>.branding` (over it, key by key): a tenant portal's brand."""

    display_name: str | None = Field(default=None, alias="displayName")
    logo_url: str | None = Field(default=None, alias="logoUrl")
    logo_file: str | None = Field(default=None, alias="logoFile")
    primary_color: str | None = Field(default=None, alias="primaryColor")
    support_url: str | None = Field(default=None, alias="supportUrl")
    support_email: str | None = Field(default=None, alias="supportEmail")

    _urls = field_validator("logo_url", "support_url")(_https_url)

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str | None) -> str | None:
        if value is not None and (
            not value.strip() or not value.isprintable() or len(value) > DISPLAY_NAME_MAX or value != value.strip()
        ):
            raise ValueError(
                f"{show(value)} must be a printable name of 1 to {DISPLAY_NAME_MAX} characters, no leading or"
                " trailing space"
            )
        return value

    @field_validator("primary_color")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not HEX_COLOR_RE.match(value):
            raise ValueError(f"{show(value)} must be a colour as #rrggbb, such as #0a66c2")
        return value

    @field_validator("support_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and (not EMAIL_RE.match(value) or not re.fullmatch(r"[A-Za-z0-9._%+@-]+", value)):
            raise ValueError(f"{show(value)} must be an email address such as support@acme.example")
        return value

    @field_validator("logo_file")
    @classmethod
    def _logo_file(cls, value: str | None) -> str | None:
        if value is not None and (
            not re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", value)
            or any(part in (".", "..") for part in value.split("/"))
            or not value.lower().endswith(LOGO_EXTENSIONS)
        ):
            raise ValueError(
                f"{show(value)} must be an image file under docs.folder, relative to it (such as acme/logo.svg):"
                f" one of {', '.join(LOGO_EXTENSIONS)}, no '..'"
            )
        return value

    @model_validator(mode="after")
    def _one_logo_one_support(self) -> Branding:
        if self.logo_url is not None and self.logo_file is not None:
            raise FieldRuleError("logoFile", "is set but so is logoUrl: give one logo")
        if self.support_url is not None and self.support_email is not None:
            raise FieldRuleError("supportEmail", "is set but so is supportUrl: give one way to reach support")
        return self


class Customer(_Model):
    """One entry of `customers`: a tenant reached at `<subdomain>.<baseDomain>`."""

    name: str
    subdomain_: str | None = Field(default=None, alias="subdomain")
    dedicated_domain: CliBool = Field(default=False, alias="dedicatedDomain")
    custom_domain: str | None = Field(default=None, alias="customDomain")
    custom_domain_validated: CliBool = Field(default=False, alias="customDomainValidated")
    tier: str | None = None
    # The tier a re-tiered customer is leaving: its key stays in that tier's plan until this is removed, so
    # decisions the authorizer cached before the change keep a metered key (README "Re-tiering without a 403").
    previous_tier: str | None = Field(default=None, alias="previousTier")
    suspended: CliBool = False
    mtls_truststore: str | None = Field(default=None, alias="mtlsTruststore")
    # The client-certificate issuer DNs (and optionally subject DNs) this customer's hostnames accept, as API
    # Gateway writes `clientCert.issuerDN`/`subjectDN`: the tenant authorizer checks them (README "Mutual TLS").
    mtls_issuers: tuple[str, ...] = Field(default=(), alias="mtlsIssuers")
    mtls_subjects: tuple[str, ...] = Field(default=(), alias="mtlsSubjects")
    # End-user authentication: absent → the stack's `auth`; `none` → off for this customer; an object → overrides.
    auth: Literal["none"] | CustomerAuth | None = None
    # Its developer portal's brand, key by key over the stack's `branding` (with docs.perTenant).
    branding: Branding | None = None

    @field_validator("mtls_issuers", "mtls_subjects")
    @classmethod
    def _distinguished_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for dn in value:
            if not dn.strip() or not dn.isprintable() or len(dn) > DN_MAX:
                raise ValueError(
                    f"{show(dn)} must be a distinguished name as API Gateway writes it (such as"
                    f" 'CN=Acme Client CA,O=Acme,C=US'): printable, not blank, at most {DN_MAX} characters"
                )
        duplicates = sorted({dn for dn in value if value.count(dn) > 1})
        if duplicates:
            raise ValueError(f"{show(duplicates[0])} is listed more than once")
        return value

    @field_validator("mtls_truststore")
    @classmethod
    def _truststore_is_s3_uri(cls, value: str | None) -> str | None:
        if value is not None and not TRUSTSTORE_RE.match(value):
            raise ValueError(f"{show(value)} must be an S3 URI of a PEM bundle such as s3://bucket/truststore.pem")
        return value

    @field_validator("name")
    @classmethod
    def _name_is_label(cls, value: str) -> str:
        if not LABEL_RE.match(value):
            raise ValueError(f"{show(value)} {LABEL_RULE}")
        return value

    @field_validator("subdomain_")
    @classmethod
    def _subdomain_is_label(cls, value: str | None) -> str | None:
        if value is not None and not LABEL_RE.match(value):
            raise ValueError(f"{show(value)} {LABEL_RULE}")
        return value

    @field_validator("tier", "previous_tier")
    @classmethod
    def _tier_is_name(cls, value: str | None) -> str | None:
        if value is not None and not TIER_RE.match(value):
            raise ValueError(f"{show(value)} {TIER_RULE}")
        return value

    @field_validator("custom_domain")
    @classmethod
    def _custom_domain_is_dns_name(cls, value: str | None) -> str | None:
        if value is not None and not is_dns_name(value):
            raise ValueError(f"{show(value)} must be a lowercase DNS name such as api.customer.com")
        return value

    @model_validator(mode="after")
    def _validated_needs_domain(self) -> Customer:
        if self.custom_domain_validated and self.custom_domain is None:
            raise FieldRuleError("customDomainValidated", "is set but customDomain is not (phase 2 needs the domain)")
        return self

    @model_validator(mode="after")
    def _mtls_needs_dedicated_domain(self) -> Customer:
        # A truststore belongs to one custom domain; the shared wildcard domain serves every tenant.
        if self.mtls_truststore is not None and not self.dedicated_domain:
            raise FieldRuleError(
                "mtlsTruststore",
                "is set but dedicatedDomain is not: mutual TLS needs the customer's own custom domain",
            )
        return self

    @model_validator(mode="after")
    def _mtls_needs_issuers(self) -> Customer:
        # API Gateway checks a certificate against the truststore of the domain the handshake came in on,
        # and the Host header may name any other customer: the authorizer must know whose certificates this
        # customer's hostnames accept.
        if self.mtls_truststore is not None and not self.mtls_issuers:
            raise FieldRuleError(
                "mtlsIssuers",
                "is required with mtlsTruststore: list the issuer DNs of this customer's client certificates;"
                " without it a request with no certificate, or with one issued for another customer's"
                " truststore, would be accepted for this customer's hostnames",
            )
        if self.mtls_truststore is None and (self.mtls_issuers or self.mtls_subjects):
            field = "mtlsIssuers" if self.mtls_issuers else "mtlsSubjects"
            raise FieldRuleError(
                field,
                "is set but mtlsTruststore is not: without a truststore no client certificate reaches the"
                " authorizer, so every request to this customer would be refused",
            )
        return self

    @property
    def subdomain(self) -> str:
        return self.subdomain_ if self.subdomain_ is not None else self.name


class NetworkSettings(_Model):
    """The VPC: CIDR, how many availability zones, how many NAT gateways."""

    cidr: str = "10.0.0.0/16"
    availability_zones: Int = Field(default=2, ge=2, le=6, alias="availabilityZones")
    nat_gateways: Int = Field(default=1, ge=1, le=6, alias="natGateways")
    # Explicit AZ IDs (VPC links v2 exist only in some zone IDs per region); the region check is the
    # network's, this one checks the shape.
    zone_ids: tuple[str, ...] | None = Field(default=None, alias="zoneIds")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value)
        except ValueError:
            raise ValueError(f"{show(value)} must be an IPv4 CIDR block such as 10.0.0.0/16") from None
        if not 16 <= net.prefixlen <= 20:
            raise ValueError(f"{show(value)} must have a prefix between /16 and /20 (subnets are cut as /prefix+4)")
        return value

    @field_validator("zone_ids")
    @classmethod
    def _zone_ids(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return value
        for zone_id in value:
            if not ZONE_ID_RE.match(zone_id):
                raise ValueError(f"{show(zone_id)} is not an availability-zone ID such as euw1-az1 or use1-az4")
        duplicates = sorted({z for z in value if value.count(z) > 1})
        if duplicates:
            raise ValueError(f"{', '.join(duplicates)} listed more than once; zone IDs must be unique")
        return value

    @model_validator(mode="after")
    def _nat_within_zones(self) -> NetworkSettings:
        if self.nat_gateways > self.availability_zones:
            raise FieldRuleError(
                "natGateways",
                f"{self.nat_gateways} must not exceed availabilityZones ({self.availability_zones})",
            )
        if self.zone_ids is not None and len(self.zone_ids) != self.availability_zones:
            raise FieldRuleError(
                "zoneIds",
                f"lists {len(self.zone_ids)} zones but availabilityZones is {self.availability_zones};"
                " list exactly one zone ID per availability zone",
            )
        return self


class Service1Settings(_Model):
    """The ECS Fargate microservice behind `/service1`."""

    image: str = "public.ecr.aws/nginx/nginx:stable-alpine"
    port: Int = Field(default=80, ge=1, le=65535)
    cpu: Int = 256
    memory: Int = 512
    desired_count: Int = Field(default=1, ge=0, le=100, alias="desiredCount")
    health_check_path: str = Field(default="/", alias="healthCheckPath")

    @field_validator("health_check_path")
    @classmethod
    def _health_check_path(cls, value: str) -> str:
        return check_health_check_path(value)

    @field_validator("image")
    @classmethod
    def _image_reference(cls, value: str) -> str:
        if not is_image_reference(value):
            raise ValueError(f"{show(value)} {IMAGE_RULE}")
        return value

    @model_validator(mode="after")
    def _fargate_size(self) -> Service1Settings:
        allowed = FARGATE_MEMORY.get(self.cpu)
        if allowed is None:
            raise FieldRuleError("cpu", f"{self.cpu} is not a Fargate size: one of {sorted(FARGATE_MEMORY)}")
        if self.memory not in allowed:
            raise FieldRuleError(
                "memory", f"{self.memory} does not fit cpu {self.cpu} on Fargate: {allowed[0]} to {allowed[-1]} MiB"
            )
        return self


# An EC2 instance type: family, generation and options, a dot, then the size (t3.micro, m7i-flex.large).
INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+\Z")


class Service2Settings(_Model):
    """The EC2 web app (Auto Scaling group) behind `/service2`."""

    instance_type: str = Field(default="t3.micro", alias="instanceType")
    port: Int = Field(default=80, ge=1, le=65535)
    min_size: Int = Field(default=1, ge=0, le=100, alias="minSize")
    max_size: Int = Field(default=2, ge=1, le=100, alias="maxSize")
    desired_capacity: Int | None = Field(default=None, ge=0, le=100, alias="desiredCapacity")
    health_check_path: str = Field(default="/", alias="healthCheckPath")

    @field_validator("health_check_path")
    @classmethod
    def _health_check_path(cls, value: str) -> str:
        return check_health_check_path(value)

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        # A pattern in the field would be refused in pydantic's words ("String should match pattern").
        if not INSTANCE_TYPE_RE.match(value):
            raise ValueError(f"{show(value)} must be an EC2 instance type such as t3.micro or m7i.large")
        return value

    @model_validator(mode="after")
    def _sizes(self) -> Service2Settings:
        if self.min_size > self.max_size:
            raise FieldRuleError("minSize", f"{self.min_size} must not exceed maxSize ({self.max_size})")
        desired = self.desired_capacity
        if desired is not None and not self.min_size <= desired <= self.max_size:
            raise FieldRuleError(
                "desiredCapacity", f"{desired} must lie between minSize ({self.min_size}) and maxSize ({self.max_size})"
            )
        return self


# A URL (`s3://bucket`, `https://…`) where a folder of the repository belongs.
URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Linux's PATH_MAX; longer paths make the filesystem calls themselves fail.
PATH_MAX = 4096
FOLDER_RULE = "must be a folder inside the repository, relative to the project directory (such as documents)"


def project_dir(info: ValidationInfo | None = None) -> Path:
    """The project directory: the validation context's `project_dir`, else the working directory (where
    Pulumi runs the program, and where the program reads `docs.folder` from)."""
    context = info.context if info is not None else None
    if isinstance(context, Mapping) and context.get("project_dir") is not None:
        return Path(context["project_dir"])
    return Path.cwd()


def check_docs_folder(folder: str, root: Path) -> str:
    """Refuse a docs folder that is not a folder inside the repository at `root`; the message never holds
    an absolute path of this machine."""
    if URL_RE.match(folder):
        raise ValueError(f"{show(folder)} is a URL; {FOLDER_RULE}")
    if not folder or len(folder) > PATH_MAX or not folder.isprintable():
        raise ValueError(f"{show(folder)} {FOLDER_RULE}")
    try:
        base = root.resolve()
        resolved = (base / folder).resolve()  # an absolute `folder` replaces `base` here
        inside = resolved.is_relative_to(base) and resolved != base
        is_folder = inside and resolved.is_dir()
    except (OSError, ValueError):
        raise ValueError(f"{show(folder)} {FOLDER_RULE}") from None
    if not inside:
        # `..` leaving the repository, an absolute path elsewhere, a symlink out, or the repository itself
        # (which would upload the program, its stack files and its virtualenv).
        raise ValueError(f"{show(folder)} lies outside the repository or is its root; {FOLDER_RULE}")
    if not is_folder:
        raise ValueError(f"{show(folder)} is not a folder of the repository; create it or set docs.folder")
    return folder


class DocsSettings(_Model):
    """The documents served at `/docs`."""

    folder: str = "documents"
    versioning: CliBool = False
    # A developer portal per tenant (README "Developer portal per tenant"): `/docs` reads the tenant's own pages
    # under `tenants/<tenantId>/`. Off (the default): one shared page, as every stack before it.
    per_tenant: CliBool = Field(default=False, alias="perTenant")

    @field_validator("folder")
    @classmethod
    def _folder_in_repository(cls, value: str, info: ValidationInfo) -> str:
        return check_docs_folder(value, project_dir(info))


class ThrottleSettings(_Model):
    """Stage-wide request throttling (API Gateway method settings on `*/*`)."""

    rate_limit: Float = Field(default=100, gt=0, alias="rateLimit")
    burst_limit: Int = Field(default=200, ge=1, alias="burstLimit")


class TierQuota(_Model):
    """A usage plan's request quota: `limit` requests per `period`."""

    limit: Int = Field(ge=1)
    period: Literal["DAY", "WEEK", "MONTH"]


# How a tier's tenants hold API keys (README "Pooled tiers (keyMode)"): `perTenant`, a key each, throttled each;
# `pooled`, a few keys of the tier shared, throttled per pool key (AWS Architecture Blog, "Throttling a tiered,
# multi-tenant REST API at scale using API Gateway: Part 2",
# https://aws.amazon.com/blogs/architecture/throttling-a-tiered-multi-tenant-rest-api-at-scale-using-api-gateway-part-2/).
PER_TENANT = "perTenant"
POOLED = "pooled"
# A pool saves keys: 100 keys is 1% of the 10,000 API keys a region may hold, which AWS does not raise, and about
# 20 s of CreateApiKey at its fixed 5 requests per second (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html);
# a tier wanting more keys than that wants perTenant.
POOL_KEYS_MAX = 100


class TierSettings(_Model):
    """One tier: its usage plan's throttle and optional quota, per API key (per customer, or per pool key)."""

    rate_limit: Float = Field(gt=0, alias="rateLimit")
    burst_limit: Int = Field(ge=0, alias="burstLimit")
    quota: TierQuota | None = None
    key_mode: Literal["perTenant", "pooled"] = Field(default="perTenant", alias="keyMode")
    pool_keys: Int | None = Field(default=None, ge=1, le=POOL_KEYS_MAX, alias="poolKeys")

    @model_validator(mode="after")
    def _pool_keys_need_pooled(self) -> TierSettings:
        if self.pool_keys is not None and self.key_mode != POOLED:
            raise FieldRuleError(
                "poolKeys", "is set but keyMode is not 'pooled': a perTenant tier gives each customer its own key"
            )
        return self

    @property
    def pooled(self) -> bool:
        return self.key_mode == POOLED

    @property
    def pool_size(self) -> int:
        """The keys the tier's pool shares: `poolKeys` (default 1) when pooled, 0 for a perTenant tier."""
        if not self.pooled:
            return 0
        return self.pool_keys if self.pool_keys is not None else 1


class AuthorizerSettings(_Model):
    """The tenant authorizer's caches: how long a suspension or tier change takes to bite."""

    # authorizerResultTtlInSeconds: "If this field is not set, the default value is 300. The maximum value is
    # 3600, or 1 hour." https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/apigateway/aws.sdk.kotlin.services.apigateway.model/-authorizer/authorizer-result-ttl-in-seconds.html
    cache_ttl_seconds: Int = Field(default=300, ge=0, le=3600, alias="cacheTtlSeconds")
    registry_cache_seconds: Int = Field(default=30, ge=0, le=300, alias="registryCacheSeconds")


class AuthSettings(_Model):
    """`auth`: end-user tokens the tenant authorizer verifies (off while `issuer` is unset)."""

    issuer: str | None = None
    audiences: tuple[str, ...] = ()
    tenant_claim: str = Field(default=DEFAULT_TENANT_CLAIM, alias="tenantClaim")
    public_prefixes: tuple[str, ...] = Field(default=(), alias="publicPrefixes")
    # The authorizer runs end-user authentication (USER_AUTH) even when no customer of this stack has it: for
    # tenants of shards (or of TenantSets in other stacks) with an issuer of their own. The program turns it on by
    # itself for the shards beside it; a component user sets it.
    enabled: bool = False

    _issuer = field_validator("issuer")(_https_issuer)
    _names = field_validator("audiences", "tenant_claim")(_claim_names)

    @field_validator("public_prefixes")
    @classmethod
    def _prefixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for prefix in value:
            if not re.fullmatch(r"/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*", prefix):
                raise ValueError(f"{show(prefix)} must be a path such as '/docs': a slash, then path segments")
        return value


@dataclass(frozen=True)
class ResolvedAuth:
    """One customer's end-user authentication as the registry item carries it (tenant_claim None: issuer alone)."""

    issuer: str
    audiences: tuple[str, ...]
    tenant_claim: str | None


# An address SNS can mail; SNS itself sends the confirmation link, so the shape is all we check.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")


class AlarmSettings(_Model):
    """Alarm thresholds (one alarm each, per stack) and who is mailed; README "Operating it"."""

    # 5XXError / Count over one minute, in percent; 3 of 5 minutes above it alarm.
    server_error_rate_percent: Float = Field(default=5, gt=0, le=100, alias="serverErrorRatePercent")
    # p99 of API Gateway Latency (ms); API Gateway gives up on an integration at 29 s.
    latency_p99_ms: Int = Field(default=3000, ge=1, le=60_000, alias="latencyP99Ms")
    # p99 of each backend's latency (ms): ALB TargetResponseTime for services, IntegrationLatency for docs.
    integration_latency_p99_ms: Int = Field(default=2000, ge=1, le=60_000, alias="integrationLatencyP99Ms")
    # Tenant authorizer Lambda Errors per minute; it fails closed, so one error is a refused request.
    authorizer_errors: Int = Field(default=1, ge=1, alias="authorizerErrors")
    # Requests answered 429 THROTTLED per minute, across tenants.
    throttled_requests: Int = Field(default=10, ge=1, alias="throttledRequests")
    email: list[str] = Field(default_factory=list)

    @field_validator("email")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for address in value:
            if not EMAIL_RE.match(address):
                raise ValueError(f"{show(address)} must be an email address such as ops@example.com")
        if len(set(value)) != len(value):
            raise ValueError("lists an address twice")
        return value


class WafSettings(_Model):
    """The web ACL in front of the stage (AWS WAF); README "WAF"."""

    enabled: CliBool = True
    # block: the managed rule groups and rate rules block; count: they only count (tuning).
    mode: Literal["block", "count"] = "block"
    # Requests per 5 minutes: per Host header (one tenant's hostname) and per client IP. Unset: derived from the
    # tiers, and a per-Host limit below that is refused (whitelabel/waf.py, README "WAF").
    per_tenant_limit: Int | None = Field(
        default=None, ge=WAF_RATE_LIMIT_MIN, le=WAF_RATE_LIMIT_MAX, alias="perTenantLimit"
    )
    per_ip_limit: Int | None = Field(default=None, ge=WAF_RATE_LIMIT_MIN, le=WAF_RATE_LIMIT_MAX, alias="perIpLimit")


class CacheSettings(_Model):
    """The stage's response cache (GET methods only, keyed on Host); README "Tenant-safe caching"."""

    enabled: CliBool = False
    size_gb: Float = Field(default=0.5, alias="sizeGb")
    # "The default TTL value for API caching is 300 seconds. The maximum TTL value is 3600 seconds."
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-caching.html
    ttl_seconds: Int = Field(default=300, ge=0, le=3600, alias="ttlSeconds")

    @field_validator("size_gb")
    @classmethod
    def _cache_size(cls, value: float) -> float:
        if value not in CACHE_SIZES_GB:
            sizes = ", ".join(f"{size:g}" for size in CACHE_SIZES_GB)
            raise ValueError(f"{show(value)} is not an API Gateway cache size: one of {sizes} (GB)")
        return value

    @property
    def cluster_size(self) -> str:
        """The size as API Gateway names it (`0.5`, `118`)."""
        return f"{self.size_gb:g}"


class QuotaSettings(_Model):
    """Account quotas the program checks before it creates anything; raise them here after AWS does."""

    # API Gateway: "Custom domain names per account per Region" (public), default 120.
    custom_domains: Int = Field(default=120, ge=1, alias="customDomains")
    # Route 53: "Records per hosted zone", default 10,000.
    records_per_zone: Int = Field(default=10_000, ge=1, alias="recordsPerZone")
    # ACM: "Number of ACM certificates" per account and region, default 2,500.
    certificates: Int = Field(default=2_500, ge=1)
    # API Gateway: "API keys per account per Region", 10,000, not raisable: this may only lower it
    # (for an account shared by several stacks).
    api_keys: Int = Field(default=API_KEYS_MAX, ge=1, alias="apiKeys")
    # API Gateway: "Usage plans per account per Region", default 300, can be increased (same page as API keys).
    usage_plans: Int = Field(default=300, ge=1, alias="usagePlans")

    @field_validator("api_keys")
    @classmethod
    def _api_keys_not_raisable(cls, value: int) -> int:
        if value > API_KEYS_MAX:
            raise ValueError(
                f"{value} is above {API_KEYS_MAX:,}, the quota 'API keys per account per Region', which AWS does"
                " not raise; this key may only lower it"
            )
        return value


class Settings(_Model):
    """The whole validated configuration of one stack."""

    base_domain: str = Field(alias="baseDomain")
    hosted_zone_: str | None = Field(default=None, alias="hostedZone")
    customers: list[Customer]
    network: NetworkSettings = NetworkSettings()
    service1: Service1Settings = Service1Settings()
    service2: Service2Settings = Service2Settings()
    docs: DocsSettings = DocsSettings()
    log_retention_days: Int = Field(default=14, alias="logRetentionDays")
    throttle: ThrottleSettings = ThrottleSettings()
    dual_stack: CliBool = Field(default=False, alias="dualStack")
    quotas: QuotaSettings = QuotaSettings()
    manage_account_logging: CliBool = Field(default=True, alias="manageAccountLogging")
    name_prefix: str | None = Field(default=None, alias="namePrefix")
    protect_resources: CliBool = Field(default=False, alias="protectResources")
    tenant_dns: Literal["perCustomer", "wildcard"] = Field(default="perCustomer", alias="tenantDns")
    tiers: dict[str, TierSettings] = Field(
        default_factory=lambda: {"standard": TierSettings.model_validate({"rateLimit": 50, "burstLimit": 100})}
    )
    default_tier: str = Field(default="standard", alias="defaultTier")
    authorizer: AuthorizerSettings = AuthorizerSettings()
    auth: AuthSettings = AuthSettings()
    alarms: AlarmSettings = AlarmSettings()
    tracing: CliBool = False
    tls_policy: str = Field(default=DEFAULT_TLS_POLICY, alias="tlsPolicy")
    waf: WafSettings = WafSettings()
    cache: CacheSettings = CacheSettings()
    # REGIONAL (default: what every stack before it built) or EDGE (README "Edge-optimized endpoints").
    endpoint_type: Literal["REGIONAL", "EDGE"] = Field(default="REGIONAL", alias="endpointType")
    # A tenant shard's platform stack (README "Tenant shards"): set, the stack runs only a TenantSet of its
    # customers against that stack's `platform` export. Never set in a platform stack (`load_settings` routes).
    platform: str | None = None
    # The default brand of every customer's developer portal (docs.perTenant).
    branding: Branding = Branding()

    @field_validator("platform")
    @classmethod
    def _platform_reference(cls, value: str | None) -> str | None:
        if value is not None:
            platform_stack(value)
        return value

    @field_validator("tls_policy")
    @classmethod
    def _tls_policy(cls, value: str) -> str:
        offered = (*TLS_POLICIES, *EDGE_TLS_POLICIES)
        if value not in offered:
            raise ValueError(f"{show(value)} is not a security policy offered here: one of {', '.join(offered)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _edge_default_tls_policy(cls, data: Any) -> Any:
        # An edge stack that names no policy gets the edge default: the regional default does not exist for
        # edge endpoints (whitelabel/endpoints.py), and an unset tlsPolicy must not become a refusal.
        if isinstance(data, Mapping) and data.get("endpointType") == EDGE and data.get("tlsPolicy") is None:
            return {**data, "tlsPolicy": EDGE_ENDPOINT.default_tls_policy}
        return data

    @model_validator(mode="after")
    def _tls_policy_fits_endpoint(self) -> Settings:
        owner = tls_policy_endpoint_type(self.tls_policy)
        if owner is not None and owner != self.endpoint_type:
            offered = ", ".join(self.endpoint.tls_policies)
            raise ConfigError(
                "tlsPolicy",
                f"{show(self.tls_policy)} is for {owner} endpoints but endpointType is {self.endpoint_type}:"
                f" one of {offered}"
                ' (README "Edge-optimized endpoints")',
            )
        return self

    @model_validator(mode="after")
    def _portal_files(self, info: ValidationInfo) -> Settings:
        # Only read when pages are made (docs.perTenant): a component validating its tenants has no docs folder.
        if not self.docs.per_tenant:
            return self
        folder = project_dir(info) / self.docs.folder
        # Each document becomes a fixed route beside the tenants' pages (README "Developer portal per tenant").
        keys = sorted(
            path.relative_to(folder).as_posix()
            for path in folder.rglob("*")
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        )
        problems = document_problems([key for key in keys if key != "index.html"])
        if problems:
            raise ConfigError("docs.folder", f"{problems[0]} (with docs.perTenant each document has a route)")
        brandings = [("branding", self.branding)] + [
            (f"customers[{index}].branding", c.branding) for index, c in enumerate(self.customers)
        ]
        for key, branding in brandings:
            if branding is not None and branding.logo_file is not None and not (folder / branding.logo_file).is_file():
                raise ConfigError(
                    f"{key}.logoFile",
                    f"{show(branding.logo_file)} is not a file of docs.folder ({show(self.docs.folder)}); add it or"
                    " give logoUrl",
                )
        return self

    @property
    def endpoint(self) -> Endpoint:
        """What the endpoint type decides: certificate argument and region, alias target, TLS policies."""
        return EDGE_ENDPOINT if self.endpoint_type == EDGE else REGIONAL_ENDPOINT

    @field_validator("base_domain", "hosted_zone_")
    @classmethod
    def _dns_name(cls, value: str | None) -> str | None:
        if value is not None and not is_dns_name(value):
            raise ValueError(f"{show(value)} must be a lowercase DNS name such as example.com")
        return value

    @field_validator("name_prefix")
    @classmethod
    def _name_prefix(cls, value: str | None) -> str | None:
        if value is not None and (not LABEL_RE.match(value) or len(value) > NAME_PREFIX_MAX):
            raise ValueError(
                f"{show(value)} must be a lowercase DNS label of at most {NAME_PREFIX_MAX} characters"
                " (a-z, 0-9, '-', not starting or ending with '-')"
            )
        return value

    @model_validator(mode="after")
    def _tiers_named(self) -> Settings:
        for name in self.tiers:
            if not TIER_RE.match(name):
                raise ConfigError(f"tiers{key_part(name)}", f"{show(name)} {TIER_RULE}")
        if not self.tiers:
            raise ConfigError("tiers", "must define at least one tier (leave it unset for the default 'standard')")
        if self.default_tier not in self.tiers:
            raise ConfigError(
                "defaultTier", f"{show(self.default_tier)} is not a configured tier: one of {self._tier_list()}"
            )
        for index, customer in enumerate(self.customers):
            if customer.tier is not None and customer.tier not in self.tiers:
                raise ConfigError(
                    f"customers[{index}].tier",
                    f"{show(customer.tier)} is not a configured tier: one of {self._tier_list()}",
                )
            previous = customer.previous_tier
            if previous is not None and previous not in self.tiers:
                raise ConfigError(
                    f"customers[{index}].previousTier",
                    f"{show(previous)} is not a configured tier: one of {self._tier_list()}",
                )
            if previous is not None and previous == self.tier_of(customer):
                raise ConfigError(
                    f"customers[{index}].previousTier",
                    f"{show(previous)} is the customer's tier: name the tier it is leaving, or remove previousTier",
                )
        return self

    def _tier_list(self) -> str:
        names = sorted(self.tiers)
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        return ", ".join(names[:10]) + more

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

    def auth_of(self, customer: Customer) -> ResolvedAuth | None:
        """The customer's end-user authentication (`auth` with `customers[i].auth` over it), None when off."""
        own = customer.auth
        if own == "none":
            return None
        issuer, audiences = self.auth.issuer, self.auth.audiences
        claim: str | None = self.auth.tenant_claim
        if isinstance(own, CustomerAuth):
            issuer = own.issuer or issuer
            audiences = own.audiences if own.audiences is not None else audiences
            claim = own.tenant_claim if "tenant_claim" in own.model_fields_set else claim
        if issuer is None:
            return None
        return ResolvedAuth(issuer, audiences, claim)

    @property
    def user_auth(self) -> bool:
        """True when the authorizer runs end-user authentication: `auth.enabled`, a stack issuer (which tenants of
        this stack's shards inherit too), or any customer's own."""
        return (
            self.auth.enabled
            or self.auth.issuer is not None
            or any(self.auth_of(customer) is not None for customer in self.customers)
        )

    def tier_of(self, customer: Customer) -> str:
        """The customer's tier, or `defaultTier` when it names none."""
        return customer.tier if customer.tier is not None else self.default_tier

    def hostnames(self, customer: Customer) -> tuple[str, ...]:
        """The hostnames the customer is served at (and the registry holds): its subdomain, and its
        own domain once `customDomainValidated` (phase 2)."""
        names = [self.fqdn(customer)]
        if customer.custom_domain is not None and customer.custom_domain_validated:
            names.append(customer.custom_domain)
        return tuple(names)


# A shard's stack file holds only these keys of the project namespace: everything else is the platform's.
SHARD_KEYS = ("platform", "customers")
PLATFORM_RULE = (
    f"must name the platform stack as <organization>/{PROJECT}/<stack> (what `pulumi stack ls` shows), such as"
    f" organization/{PROJECT}/prod"
)


def platform_stack(reference: str) -> str:
    """The stack name in a shard's `platform` (`organization/whitelabel-gateway/prod` → `prod`), or ValueError."""
    parts = reference.split("/") if isinstance(reference, str) else []
    if len(parts) != 3 or parts[1] != PROJECT or not all(parts) or not STAGE_NAME_RE.match(parts[2]):
        raise ValueError(f"{show(reference)} {PLATFORM_RULE}")
    return parts[2]


def check_shard_keys(raw: Mapping[str, Any], platform_file: str) -> None:
    """Refuse a key a shard does not use (it would be silently ignored: the platform decides it)."""
    for key in raw:
        if key not in SHARD_KEYS:
            raise ConfigError(
                key_part(key, first=True),
                f"is not used by a tenant shard (it has only {' and '.join(SHARD_KEYS)}); the platform decides it:"
                f" set it in {platform_file}, or remove it here",
            )
    if "customers" not in raw:
        raise ConfigError("customers", "a tenant shard lists its customers (may be {})")


def resource_prefix(settings: Settings, project: str, stack: str) -> str:
    """The start of names unique per account and region: `namePrefix` (or the project), then the stack."""
    return f"{settings.name_prefix or project}-{stack}"


# Keys read from the project namespace; anything else there is a typo.
TOP_LEVEL_KEYS = tuple((field.alias or name) for name, field in Settings.model_fields.items())


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation (`X`, `X | None`, `list[X]`, `dict[str, X]`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


# Keys holding mappings or lists: the engine hands them over as JSON text. Derived from the model, so a new
# section cannot be forgotten here.
STRUCTURED_KEYS = frozenset(
    (field.alias or name)
    for name, field in Settings.model_fields.items()
    if _model_of(field.annotation) is not None
    or any(get_origin(t) in (list, tuple, dict) for t in (field.annotation, *get_args(field.annotation)))
)


# A key part shown bare; anything else (a typo with a dot, a space, non-ASCII) is shown quoted, ["…"], so
# the line stays unambiguous: `quotas["."]`, not `quotas..`.
PLAIN_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+\Z")


def key_part(name: str, first: bool = False) -> str:
    """One part of an error's key: `.name` (or `name` first), or `["…"]` when it is not a plain name
    (or longer than any key: an unknown key may be any text, the line shows its start)."""
    if PLAIN_KEY_RE.match(name) and len(name) <= KEY_PART_SHOWN_MAX:
        return name if first else f".{name}"
    shown = name if len(name) <= KEY_PART_SHOWN_MAX else name[: KEY_PART_SHOWN_MAX - 1] + "…"
    return f"[{json.dumps(shown)}]"


def _location(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else key_part(str(part), first=not key)
    return key


UNKNOWN_KEY_RULE = "is not a known key (check its spelling; README lists every key)"


def known_keys(parent: tuple[int | str, ...]) -> tuple[str, ...]:
    """The keys valid inside the entry at `parent` (a validation location; () is the top level)."""
    model: type[BaseModel] = Settings
    mapping_key_next = False
    for part in parent:
        if isinstance(part, int) or mapping_key_next:
            mapping_key_next = False  # a list index, or a mapping's own key (a tier name): same model
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        inner = _model_of(field.annotation) if field is not None else None
        if field is None or inner is None:
            return ()
        # A tier's name, or a customer's (customers in the name form): the entry's own key.
        mapping_key_next = get_origin(field.annotation) in (dict, list)
        model = inner
    return tuple((f.alias or n) for n, f in model.model_fields.items())


def unknown_key_rule(key: str, known: tuple[str, ...]) -> str:
    """The rule for an unknown key, with the closest known key when one is close (a likely typo)."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6) if len(key) <= 100 else []
    if close:
        return f"is not a known key; did you mean `{close[0]}`? (README lists every key)"
    return UNKNOWN_KEY_RULE


def _given(value: Any) -> str:
    """The value a type rule refused, for the end of its line: `(not 'yes')`, `(it is empty)`."""
    return "(it is empty)" if value is None else f"(not {show(value)})"


# Pydantic's type errors in our words: "must be true or false", not "Input should be a valid boolean".
TYPE_RULES = {
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_parsing_size": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be text",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
}
# Bounds, with the pydantic context key holding the bound.
BOUND_RULES = {
    "greater_than": ("gt", "must be greater than {}"),
    "greater_than_equal": ("ge", "must be at least {}"),
    "less_than": ("lt", "must be less than {}"),
    "less_than_equal": ("le", "must be at most {}"),
}


def _rule(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        loc = tuple(error["loc"])
        return unknown_key_rule(str(loc[-1]), known_keys(loc[:-1]))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a mapping of keys to values"
    if kind in TYPE_RULES:
        return f"{TYPE_RULES[kind]} {_given(error.get('input'))}"
    if kind in BOUND_RULES:
        bound, rule = BOUND_RULES[kind]
        limit = ctx.get(bound)
        shown = f"{limit:g}" if isinstance(limit, float) else limit  # 0, not 0.0
        return f"{rule.format(shown)} {_given(error.get('input'))}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')} {_given(error.get('input'))}"
    message = str(error["msg"]).removeprefix("Value error, ")
    # Any other pydantic rule (a new one after an upgrade) still reads as a rule of ours.
    return message.replace("Input should be", "must be").replace("should be", "must be")


CUSTOMERS_RULE = (
    "must be a mapping from customer name to its keys, or a list of customer entries (either may be empty: {} or [])"
)


def customer_entries(customers: Any) -> list[Any]:
    """`customers` in the list form: in the mapping form each entry's `name` is its key, and an empty entry
    (`acme: {}`, or `acme: null` as `pulumi config set --path 'customers.acme.<key>'` may leave it) is a
    customer with every default."""
    if not isinstance(customers, Mapping):
        return list(customers)
    return [
        {**(entry or {}), "name": str(name)} if entry is None or isinstance(entry, Mapping) else entry
        for name, entry in customers.items()
    ]


def _customer_entry_keys(customers: Mapping[Any, Any]) -> list[str]:
    """The error key of each entry of the mapping form (`customers.acme`), checking each entry's shape."""
    keys = []
    for name, entry in customers.items():
        key = f"customers{key_part(str(name))}"
        if entry is not None and not isinstance(entry, Mapping):
            raise ConfigError(key, "must be a mapping of the customer's keys (it may be empty: {})")
        if entry and "name" in entry and entry["name"] != str(name):
            raise ConfigError(
                f"{key}.name",
                f"{show(entry['name'])} differs from the entry's key {show(str(name))}: in the mapping form the key"
                " is the name (leave name out)",
            )
        keys.append(key)
    return keys


_ENTRY_RE = re.compile(r"\bcustomers\[(\d+)\]")


def _by_name(error: ConfigError, entry_keys: list[str]) -> ConfigError:
    """The error with `customers[i]` said as the mapping form's `customers.<name>`: the entry the operator
    wrote. The name is the entry's key there, so `customers[i].name` is the entry itself."""

    def entry(match: re.Match[str]) -> str:
        return entry_keys[int(match[1])]

    key = _ENTRY_RE.sub(entry, re.sub(r"^(customers\[\d+\])\.name\Z", r"\1", error.key), count=1)
    return ConfigError(key, _ENTRY_RE.sub(entry, error.rule))


# A key such as `customers[4].name` or `waf.enabled`: what `pulumi config set` without `--path` stores.
PATH_LIKE_RE = re.compile(r"^([A-Za-z0-9_-]+)[.\[][A-Za-z0-9_.\[\]-]{1,120}\Z")


def forgotten_path_rule(key: str, known: tuple[str, ...], namespace: str = "") -> str | None:
    """The rule for a key that is a path into a known key, set without `--path`; None for any other key.

    namespace: written before the key in the commands (`aws:`); our own keys need none.
    """
    match = PATH_LIKE_RE.match(key)
    if match is None or match[1] not in known:
        return None
    return (
        f"is not a known key; it looks like a path: use pulumi config set --path '{namespace}{key}' <value>"
        f" (and remove this one: pulumi config rm '{namespace}{key}')"
    )


def parse_settings(raw: Mapping[str, Any], *, root: Path | None = None) -> Settings:
    """Validate raw config values (key → parsed value) into `Settings`, or raise one `ConfigError`.

    root: the project directory `docs.folder` is resolved in (default: the working directory, as Pulumi runs
    the program there).
    """
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            rule = forgotten_path_rule(key, TOP_LEVEL_KEYS)
            shown = key if rule is not None else key_part(key, first=True)
            raise ConfigError(shown, rule or unknown_key_rule(key, TOP_LEVEL_KEYS))
    customers = raw.get("customers")
    entry_keys: list[str] | None = None  # the mapping form's entry keys, in the list form's order
    if isinstance(customers, Mapping):
        entry_keys = _customer_entry_keys(customers)
        raw = {**raw, "customers": customer_entries(customers)}
    elif "customers" in raw and not isinstance(customers, list):
        raise ConfigError("customers", CUSTOMERS_RULE)
    else:
        for index, entry in enumerate(customers or []):
            if not isinstance(entry, Mapping):
                raise ConfigError(f"customers[{index}]", "must be a mapping with at least a name")
    try:
        return _validate(raw, root)
    except ConfigError as error:
        if entry_keys is None:
            raise
        raise _by_name(error, entry_keys) from None


def _validate(raw: Mapping[str, Any], root: Path | None) -> Settings:
    """`parse_settings` once `customers` is in the list form."""
    try:
        settings = Settings.model_validate(raw, context={"project_dir": root})
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt key also makes the key it meant "missing": report the typo, the cause.
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = tuple(first["loc"])
        cause = (first.get("ctx") or {}).get("error")
        if isinstance(cause, FieldRuleError):
            loc = (*loc, cause.field)
        # A model-level rule (no field) is reported against its entry.
        raise ConfigError(_location(loc) or "config", _rule(first)) from None
    _check_customers(settings)
    from whitelabel.quotas import check_quotas

    check_quotas(settings)
    from whitelabel.waf import check_waf

    check_waf(settings)
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
        if customer.name in RESERVED_NAMES:
            raise ConfigError(
                f"{where}.name",
                f"{customer.name!r} is reserved: the platform names its own resources with it; choose another name"
                " (set subdomain to keep the address)",
            )
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
        if customer.mtls_truststore is not None and not settings.endpoint.mutual_tls:
            raise ConfigError(
                f"{where}.mtlsTruststore",
                f"is not possible with endpointType {settings.endpoint_type}: API Gateway does mutual TLS on Regional"
                " custom domains only; use endpointType REGIONAL for a mutual-TLS customer",
            )
        if customer.mtls_truststore is not None and settings.tls_policy != MTLS_TLS_POLICY:
            raise ConfigError(
                f"{where}.mtlsTruststore",
                f"needs tlsPolicy {MTLS_TLS_POLICY}: AWS allows mutual TLS only on {MTLS_TLS_POLICY} domains, and"
                f" the API's policy (now {show(settings.tls_policy)}) negotiates the handshake of every domain"
                " mapped to it",
            )
    _check_mutual_tls(settings)
    _check_auth(settings)
    wildcard = f"*.{settings.base_domain}"
    if len(wildcard) > CERTIFICATE_NAME_MAX:
        raise ConfigError(
            "baseDomain",
            f"the certificate name {wildcard!r} is {len(wildcard)} characters; ACM allows {CERTIFICATE_NAME_MAX}",
        )
    zone = settings.hosted_zone
    if settings.base_domain != zone and not settings.base_domain.endswith("." + zone):
        raise ConfigError("hostedZone", f"{zone!r} must be baseDomain {settings.base_domain!r} or a parent of it")


def _check_mutual_tls(settings: Settings) -> None:
    """Rules across customers with mutual TLS: certificates that tell them apart, decisions never cached."""
    accepted: dict[str, list[int]] = {}
    for index, customer in enumerate(settings.customers):
        for dn in customer.mtls_issuers:
            accepted.setdefault(dn, []).append(index)
    for dn, indices in accepted.items():
        for earlier, later in itertools.combinations(indices, 2):  # every pair, not only neighbours
            first, second = settings.customers[earlier], settings.customers[later]
            # One issuer for two customers is safe only when subject DNs tell their certificates apart.
            if not (first.mtls_subjects and second.mtls_subjects) or set(first.mtls_subjects) & set(
                second.mtls_subjects
            ):
                raise ConfigError(
                    f"customers[{later}].mtlsIssuers",
                    f"{show(dn)} is also accepted for customers[{earlier}]: a certificate issued for one would be"
                    " accepted for the other; give each customer its own issuer, or disjoint mtlsSubjects to both",
                )
    mtls = [index for index, customer in enumerate(settings.customers) if customer.mtls_truststore is not None]
    if mtls and settings.authorizer.cache_ttl_seconds != 0:
        raise ConfigError(
            "authorizer.cacheTtlSeconds",
            f"must be 0 while customers[{mtls[0]}] has mtlsTruststore: API Gateway caches one decision per Host"
            " header, so an Allow earned with a client certificate would be reused for requests without one"
            " (and a Deny would lock the certificate's holder out) for that many seconds",
        )


def _check_auth(settings: Settings) -> None:
    """Rules of end-user authentication: audiences known, tenants told apart, decisions never cached."""
    if settings.auth.issuer is not None and not settings.auth.audiences:
        raise ConfigError("auth.audiences", "is required with auth.issuer: list the token audiences (client ids)")
    by_issuer: dict[str, list[int]] = {}
    for index, customer in enumerate(settings.customers):
        resolved = settings.auth_of(customer)
        if isinstance(customer.auth, CustomerAuth) and resolved is None:
            raise ConfigError(f"customers[{index}].auth.issuer", "is required: auth.issuer is not set for the stack")
        if resolved is None:
            continue
        if not resolved.audiences:
            raise ConfigError(f"customers[{index}].auth.audiences", "is required: no audiences for this issuer")
        by_issuer.setdefault(resolved.issuer, []).append(index)
    for issuer, indices in by_issuer.items():
        for index in indices:
            if len(indices) > 1 and settings.auth_of(settings.customers[index]).tenant_claim is None:  # type: ignore[union-attr]
                other = next(i for i in indices if i != index)
                raise ConfigError(
                    f"customers[{index}].auth.tenantClaim",
                    f"may be null only for an issuer of its own, but customers[{other}] shares {show(issuer)}:"
                    " without a tenant claim a user of one would be let into the other",
                )
    authenticated = [i for i, c in enumerate(settings.customers) if settings.auth_of(c) is not None]
    if authenticated and settings.authorizer.cache_ttl_seconds != 0:
        raise ConfigError(
            "authorizer.cacheTtlSeconds",
            f"must be 0 while customers[{authenticated[0]}] has end-user authentication: API Gateway caches one"
            " decision per Host header, so one user's Allow would be served to requests with another token or none",
        )


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
        # Scalars stay text: the model takes "true"/"false" for booleans and numeric text for numbers.
        if key in STRUCTURED_KEYS or key not in TOP_LEVEL_KEYS:
            try:
                value = json.loads(text)
            except (TypeError, ValueError):
                value = text
        raw[key] = value
    return raw


# The stack name is the API Gateway stage name: "Stage names can only contain alphanumeric characters,
# hyphens, and underscores. Maximum length is 128 characters." (Stage.stageName,
# https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/apigateway/aws.sdk.kotlin.services.apigateway.model/-stage/stage-name.html)
STAGE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}\Z")


def check_stack_name(stack: str) -> None:
    """Refuse a stack name API Gateway would not take as a stage name."""
    if not STAGE_NAME_RE.match(stack):
        raise ConfigError(
            "stack",
            f"{show(stack)} is used as the API Gateway stage name: 1 to 128 letters, digits, '-' or '_';"
            " use another stack name",
        )


def engine_config_keys() -> set[str]:
    """Every `namespace:key` the engine passed to this program: the only use of the SDK's private config map.

    The SDK has no public call that lists config keys (`pulumi.Config` reads one named key), and a
    misspelt key must be refused, not ignored, so the names come from `pulumi.runtime.config.CONFIG`
    (and the `PULUMI_CONFIG` environment the SDK falls back to). If a new SDK keeps config elsewhere
    this raises at once, and `tests/test_config.py::test_the_sdk_still_keeps_config_where_we_list_it`
    fails, instead of every key silently looking unset.
    """
    from pulumi.runtime import config as runtime_config

    store = getattr(runtime_config, "CONFIG", None)
    current = store.get() if isinstance(store, ContextVar) else None
    if not isinstance(current, dict):
        raise RuntimeError(
            "pulumi.runtime.config.CONFIG is no longer a ContextVar holding the config map;"
            " update whitelabel.config.engine_config_keys for this Pulumi SDK"
        )
    return set(runtime_config.get_config_env()) | set(current)


# The aws provider's own config keys (`aws:<key>`), as pulumi-aws 7.51 reads them
# (`pulumi_aws/config/vars.py`; "Configuration options",
# https://www.pulumi.com/registry/packages/aws/installation-configuration/).
# tests/test_config.py compares this with the installed provider SDK.
AWS_CONFIG_KEYS = (
    "accessKey",
    "allowedAccountIds",
    "assumeRoleWithWebIdentity",
    "assumeRoles",
    "customCaBundle",
    "defaultTags",
    "ec2MetadataServiceEndpoint",
    "ec2MetadataServiceEndpointMode",
    "endpoints",
    "forbiddenAccountIds",
    "httpProxy",
    "httpsProxy",
    "ignoreTags",
    "insecure",
    "maxRetries",
    "noProxy",
    "profile",
    "region",
    "retryMode",
    "s3UsEast1RegionalEndpoint",
    "s3UsePathStyle",
    "secretKey",
    "sharedConfigFiles",
    "sharedCredentialsFiles",
    "skipCredentialsValidation",
    "skipMetadataApiCheck",
    "skipRegionValidation",
    "skipRequestingAccountId",
    "stsRegion",
    "tagPolicyCompliance",
    "token",
    "tokenBucketRateLimiterCapacity",
    "useDualstackEndpoint",
    "useFipsEndpoint",
    "userAgents",
)


def check_provider_keys(full_keys: Iterable[str]) -> None:
    """Refuse an `aws:` key that is a typo of a provider key (`aws:regoin`) or a path set without `--path`.

    An unknown key close to none is left to the provider: a newer pulumi-aws may read keys this list lacks.
    """
    for full_key in sorted(full_keys):
        namespace, _, key = full_key.partition(":")
        if namespace != "aws" or key in AWS_CONFIG_KEYS:
            continue
        rule = forgotten_path_rule(key, AWS_CONFIG_KEYS, namespace="aws:")
        if rule is not None:
            raise ConfigError(key, rule, namespace="aws")
        close = difflib.get_close_matches(key, AWS_CONFIG_KEYS, n=1, cutoff=0.6) if len(key) <= 100 else []
        if close:
            raise ConfigError(
                key_part(key, first=True),
                f"is not a key of the aws provider; did you mean `aws:{close[0]}`?",
                namespace="aws",
            )


def runtime_config() -> tuple[dict[str, str], set[str]]:
    """This stack's project config values (`project:key` → text) and every config key the engine passed."""
    import pulumi

    # Names from the one private listing; every value through the public `pulumi.Config`.
    project_config = pulumi.Config(PROJECT)
    values: dict[str, str] = {}
    keys = engine_config_keys()
    for full_key in keys:
        namespace, _, key = full_key.partition(":")
        value = project_config.get(key) if namespace == PROJECT else None
        if value is not None:
            values[full_key] = value
    return values, keys


def load_settings() -> Settings:
    """Read this stack's config from the Pulumi runtime and validate it (and the stack name)."""
    return load_config()[0]


def load_config() -> tuple[Settings, dict[str, Any]]:
    """This stack's validated settings and its config as the stack file says it (key → value): the program maps
    the latter to the component's args by one rule (`component_args.args_of_config`)."""
    import pulumi

    values, keys = runtime_config()
    # names.py builds on this module: imported here, where both are loaded.
    from whitelabel.names import check_names

    try:
        check_stack_name(pulumi.get_stack())
        check_provider_keys(keys)
        raw = read_raw_config(values)
        settings = parse_settings(raw)
        # Every name built from the stack name and namePrefix fits AWS's limit for its kind (issue 14).
        check_names(settings, pulumi.get_project(), pulumi.get_stack())
        # Its shards' customers, hostnames and quotas, from the stack files beside it (README "Tenant shards").
        from whitelabel.environment import check_environment, environment, needs_user_auth, read_stack_files

        env = environment(pulumi.get_stack(), raw, read_stack_files(Path.cwd()))
        check_environment(env, pulumi.get_stack())
        if needs_user_auth(env) and not settings.user_auth:
            # A shard's tenant with an issuer of its own: the platform's authorizer runs end-user authentication for
            # it (issue 23 §2), as `auth.enabled` would; its TTL rule was checked with the shard's customers.
            settings = settings.model_copy(update={"auth": settings.auth.model_copy(update={"enabled": True})})
            raw = {**raw, "auth": {**(raw.get("auth") or {}), "enabled": True}}
        return settings, raw
    except ConfigError as error:
        # RunError: the engine prints the one line, no traceback, and nothing has been created.
        raise pulumi.RunError(str(error)) from None
