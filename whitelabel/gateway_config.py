"""The gateway's config model: every key of a stack file that is a `WhiteLabelGatewayArgs` arg (plus the
reference services' keys, from `services_config`), its values' rules per field, and what is derived from them.

Every rule here is a public contract (docs "Config reference"). Rules across entries live in `config_rules`;
this module imports none of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from whitelabel.api_definition import document_problems
from whitelabel.config_base import (
    LABEL_RE,
    PROJECT,
    CliBool,
    ConfigError,
    Int,
    _Model,
    is_dns_name,
    key_part,
    show,
)
from whitelabel.config_limits import (
    DEFAULT_TLS_POLICY,
    EDGE_ENDPOINT,
    LOG_RETENTION_DAYS,
    NAME_PREFIX_MAX,
    REGIONAL_ENDPOINT,
    STAGE_NAME_RE,
    TIER_RE,
    TIER_RULE,
    TLS_POLICIES,
)
from whitelabel.endpoints import (
    EDGE,
    EDGE_TLS_POLICIES,
    ENDPOINT_TYPES,
    Endpoint,
    tls_policy_endpoint_type,
)
from whitelabel.services_config import DocsSettings, NetworkSettings, Service1Settings, Service2Settings, project_dir
from whitelabel.stage_config import (
    AlarmSettings,
    AuthorizerSettings,
    CacheSettings,
    CustomDomainSettings,
    QuotaSettings,
    ThrottleSettings,
    TierSettings,
    WafSettings,
)
from whitelabel.tenant_config import AuthSettings, Branding, Customer, CustomerAuth, ResolvedAuth

assert tuple(e.type for e in (REGIONAL_ENDPOINT, EDGE_ENDPOINT)) == ENDPOINT_TYPES


class Settings(_Model):
    """The whole validated configuration of one stack."""

    base_domain: str = Field(alias="baseDomain")
    """lowercase DNS name; customers are reached at `<subdomain>.<baseDomain>`; `*.<baseDomain>` at most 64
    characters"""
    hosted_zone_: str | None = Field(default=None, alias="hostedZone")
    """public Route 53 zone holding the records; `baseDomain` or a parent of it. Default: `baseDomain`."""
    customers: list[Customer]
    """customer name → its keys below (see "Customers by name"); a list of entries with `name` works too"""
    network: NetworkSettings = NetworkSettings()
    """the VPC: the `network.*` keys below"""
    service1: Service1Settings = Service1Settings()
    """the ECS Fargate service behind `/service1`: the `service1.*` keys below"""
    service2: Service2Settings = Service2Settings()
    """the EC2 web app behind `/service2`: the `service2.*` keys below"""
    docs: DocsSettings = DocsSettings()
    """the documents behind `/docs`: the `docs.*` keys below"""
    log_retention_days: Int = Field(default=14, alias="logRetentionDays")
    """a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, …)"""
    throttle: ThrottleSettings = ThrottleSettings()
    """the stage-wide throttle: the `throttle.*` keys below"""
    dual_stack: CliBool = Field(default=False, alias="dualStack")
    """IPv6 too: dual-stack API endpoint and custom domains, AAAA alias records"""
    quotas: QuotaSettings = QuotaSettings()
    """account quotas checked before any resource: the `quotas.*` keys below"""
    manage_account_logging: CliBool = Field(default=True, alias="manageAccountLogging")
    """this stack owns the account-wide API Gateway CloudWatch role setting; exactly one stack per account and region"""
    name_prefix: str | None = Field(default=None, alias="namePrefix")
    """lowercase DNS label, at most 24 characters; starts names unique per account and region
    (`<namePrefix>-<stack>-…`); `<namePrefix>-<stack>` at most 46 characters, so that every name fits AWS's limit
    (see the stack name below the table). Default: the project name."""
    protect_resources: CliBool = Field(default=False, alias="protectResources")
    """protected production (prod: `true`): Pulumi refuses to delete or replace the docs bucket, tenant registry,
    certificates, custom domains, customer and validation records, API keys and the REST API; the docs bucket and
    every log group are retained on delete; docs versioning is on"""
    tenant_dns: Literal["perCustomer", "wildcard"] = Field(default="perCustomer", alias="tenantDns")
    """`perCustomer`: one alias record per customer; `wildcard`: one `*.<baseDomain>` alias record"""
    tiers: dict[str, TierSettings] = Field(
        default_factory=lambda: {"standard": TierSettings.model_validate({"rateLimit": 50, "burstLimit": 100})}
    )
    """at least one tier; a name is a lowercase letter, then up to 31 of `a-z`, `0-9`, `-`"""
    default_tier: str = Field(default="standard", alias="defaultTier")
    """must name a tier of `tiers`; the tier of customers that name none"""
    authorizer: AuthorizerSettings = AuthorizerSettings()
    """the tenant authorizer's caches: the `authorizer.*` keys below"""
    auth: AuthSettings = AuthSettings()
    """end-user tokens the authorizer verifies ("End-user authentication (auth)"): the `auth.*` keys below"""
    alarms: AlarmSettings = AlarmSettings()
    """alarm thresholds and recipients: the `alarms.*` keys below"""
    tracing: CliBool = False
    """X-Ray tracing on the stage"""
    tls_policy: str = Field(default=DEFAULT_TLS_POLICY, alias="tlsPolicy")
    """security policy of the REST API and every custom domain: one of the enhanced regional policies
    `SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09`, `SecurityPolicy_TLS13_1_2_PQ_2025_09`,
    `SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09`, `SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09`,
    `SecurityPolicy_TLS13_1_2_2021_06`, `SecurityPolicy_TLS13_1_3_2025_09`, `SecurityPolicy_TLS13_1_3_FIPS_2025_09`
    (endpoint access mode `STRICT`), or the legacy `TLS_1_2`, which any `mtlsTruststore` requires"""
    waf: WafSettings = WafSettings()
    """the stage's web ACL: the `waf.*` keys below"""
    cache: CacheSettings = CacheSettings()
    """the stage's response cache: the `cache.*` keys below"""
    custom_domains: CustomDomainSettings = Field(default=CustomDomainSettings(), alias="customDomains")
    """how customers' own domains are served: the `customDomains.*` key below"""
    # REGIONAL (default: what every stack before it built) or EDGE (docs "Edge-optimized endpoints").
    endpoint_type: Literal["REGIONAL", "EDGE"] = Field(default="REGIONAL", alias="endpointType")
    """edge-optimized: certificates in `us-east-1`, CloudFront alias targets, `_EDGE` TLS policies, no mutual TLS;
    refused with `mtlsTruststore` or a `tlsPolicy` of the other type. See "Edge-optimized endpoints
    (endpointType)\""""
    # A tenant shard's platform stack (docs "Tenant shards"): set, the stack runs only a TenantSet of its
    # customers against that stack's `platform` export. Never set in a platform stack (`load_settings` routes).
    platform: str | None = None
    """only in a tenant shard's stack file: its platform stack as `<organization>/whitelabel-gateway/<stack>`; a
    shard's file then holds only `platform` and `customers` (and `aws:region`), refused otherwise. See "Tenant
    shards\""""
    # The default brand of every customer's developer portal (docs.perTenant).
    branding: Branding = Branding()
    """the default brand of every customer's portal (with `docs.perTenant`): the `branding.*` keys below"""

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
                ' (docs "Edge-optimized endpoints")',
            )
        return self

    @model_validator(mode="after")
    def _portal_files(self, info: ValidationInfo) -> Settings:
        # Only read when pages are made (docs.perTenant): a component validating its tenants has no docs folder.
        if not self.docs.per_tenant:
            return self
        folder = project_dir(info) / self.docs.folder
        # Each document becomes a fixed route beside the tenants' pages (docs "Developer portal per tenant").
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

    def own_domains(self, customer: Customer) -> tuple[str, ...]:
        """The customer's own domains: `customDomain` first, then `customDomains`; none without `customDomain`."""
        if customer.custom_domain is None:
            return ()
        return (customer.custom_domain, *customer.more_domains)

    def own_domain_edge(self, customer: Customer) -> str | None:
        """The edge serving the customer's `customDomain` (`apiGateway` or `cloudFront`), None without one."""
        if customer.custom_domain is None:
            return None
        return customer.custom_domain_via or self.custom_domains.via


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


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation (`X`, `X | None`, `list[X]`, `dict[str, X]`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = model_of(arg)
        if found is not None:
            return found
    return None


# Keys holding mappings or lists: the engine hands them over as JSON text. Derived from the model, so a new
# section cannot be forgotten here.
STRUCTURED_KEYS = frozenset(
    (field.alias or name)
    for name, field in Settings.model_fields.items()
    if model_of(field.annotation) is not None
    or any(get_origin(t) in (list, tuple, dict) for t in (field.annotation, *get_args(field.annotation)))
)
