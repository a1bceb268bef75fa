"""The stack-wide settings of the gateway: stage throttling, tiers and their keys, the authorizer's caches, alarms,
the web ACL, the stage cache, own domains' edge and the account quotas checked before anything is created."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from whitelabel.config_base import (
    CliBool,
    FieldRuleError,
    Float,
    Int,
    _Model,
    show,
)
from whitelabel.config_limits import (
    API_KEYS_MAX,
    CACHE_SIZES_GB,
    EMAIL_RE,
    WAF_RATE_LIMIT_MAX,
    WAF_RATE_LIMIT_MIN,
)


class ThrottleSettings(_Model):
    """Stage-wide request throttling (API Gateway method settings on `*/*`)."""

    rate_limit: Float = Field(default=100, gt=0, alias="rateLimit")
    """stage-wide throttling, the ceiling above every tier: rate greater than 0, burst 1 or more"""
    burst_limit: Int = Field(default=200, ge=1, alias="burstLimit")
    """stage-wide throttling, the ceiling above every tier: rate greater than 0, burst 1 or more"""


class TierQuota(_Model):
    """A usage plan's request quota: `limit` requests per `period`."""

    limit: Int = Field(ge=1)
    """1 or more requests per period"""
    period: Literal["DAY", "WEEK", "MONTH"]
    """the quota's period"""


# How a tier's tenants hold API keys (docs "Pooled tiers (keyMode)"): `perTenant`, a key each, throttled each;
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
    """requests per second per customer, greater than 0"""
    burst_limit: Int = Field(ge=0, alias="burstLimit")
    """0 or more"""
    quota: TierQuota | None = None
    """a usage-plan quota: `limit` requests per `period`. Default: unset (no quota)."""
    key_mode: Literal["perTenant", "pooled"] = Field(default="perTenant", alias="keyMode")
    """`perTenant`: an API key per customer, limits per customer; `pooled`: the tier's customers share `poolKeys`
    keys, limits per pool key ("Pooled tiers (keyMode)")"""
    pool_keys: Int | None = Field(default=None, ge=1, le=POOL_KEYS_MAX, alias="poolKeys")
    """1 to 100, only with `keyMode: pooled`: how many keys the tier's customers share. Default: `1` with `pooled`."""

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
    """0 to 3600: how long API Gateway caches the authorizer's answer per hostname; must be 0 while any customer has
    `mtlsTruststore`"""
    registry_cache_seconds: Int = Field(default=30, ge=0, le=300, alias="registryCacheSeconds")
    """0 to 300: how long the authorizer keeps a registry lookup in memory"""


# An address SNS can mail; SNS itself sends the confirmation link, so the shape is all we check.


class AlarmSettings(_Model):
    """Alarm thresholds (one alarm each, per stack) and who is mailed; docs "Operating it"."""

    # 5XXError / Count over one minute, in percent; 3 of 5 minutes above it alarm.
    server_error_rate_percent: Float = Field(default=5, gt=0, le=100, alias="serverErrorRatePercent")
    """greater than 0, at most 100: 5XX responses in percent of requests per minute"""
    # p99 of API Gateway Latency (ms); API Gateway gives up on an integration at 29 s.
    latency_p99_ms: Int = Field(default=3000, ge=1, le=60_000, alias="latencyP99Ms")
    """1 to 60000: p99 of the API's latency (ms)"""
    # p99 of each backend's latency (ms): ALB TargetResponseTime for services, IntegrationLatency for docs.
    integration_latency_p99_ms: Int = Field(default=2000, ge=1, le=60_000, alias="integrationLatencyP99Ms")
    """1 to 60000: p99 of each backend's latency (ms)"""
    # Authorizer failures per minute: requests API Gateway answered AUTHORIZER_FAILURE or
    # AUTHORIZER_CONFIGURATION_ERROR (access log), and the handler's own `"decision": "error"` lines (its log).
    # Not Lambda Errors: every 401 is a raised "Unauthorized" and counts there.
    authorizer_errors: Int = Field(default=1, ge=1, alias="authorizerErrors")
    """1 or more per minute: requests answered AUTHORIZER_FAILURE / AUTHORIZER_CONFIGURATION_ERROR, and the
    authorizer's own error decisions (two alarms; a 401 counts in neither)"""
    # The account's Lambda concurrent-executions quota in the region (AWS's default 1,000; new accounts get
    # less), and the share of it the authorizer's ConcurrentExecutions (Maximum) may reach before it alarms.
    lambda_concurrency_limit: Int = Field(default=1000, ge=1, alias="lambdaConcurrencyLimit")
    """1 or more: the account's Lambda concurrent-executions quota in the region (AWS's default; new accounts get
    less)"""
    authorizer_concurrency_percent: Float = Field(default=80, gt=0, le=100, alias="authorizerConcurrencyPercent")
    """greater than 0, at most 100: the authorizer's ConcurrentExecutions (Maximum) alarms at this share of
    `alarms.lambdaConcurrencyLimit`"""
    # Requests answered 429 THROTTLED per minute, across tenants.
    throttled_requests: Int = Field(default=10, ge=1, alias="throttledRequests")
    """1 or more requests answered 429 per minute"""
    email: list[str] = Field(default_factory=list)
    """email addresses mailed by the alarms; each once"""

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
    """The web ACL in front of the stage (AWS WAF); docs "WAF"."""

    enabled: CliBool = True
    """a regional AWS WAF web ACL on the stage (dev: `false`)"""
    # block: the managed rule groups and rate rules block; count: they only count (tuning).
    mode: Literal["block", "count"] = "block"
    """`count`: managed rule groups and rate rules only count (tuning); the anonymous-IP group always counts"""
    # Requests per 5 minutes: per Host header (one tenant's hostname) and per client IP. Unset: derived from the
    # tiers, and a per-Host limit below that is refused (whitelabel/waf.py, docs "WAF").
    per_tenant_limit: Int | None = Field(
        default=None, ge=WAF_RATE_LIMIT_MIN, le=WAF_RATE_LIMIT_MAX, alias="perTenantLimit"
    )
    """10 to 2000000000 requests per 5 minutes per lowercased `Host` header; not below the derived figure (refused
    otherwise). Default: unset (2 × the highest tier's `rateLimit` × 300 + `burstLimit`; prod: 302,000)."""
    per_ip_limit: Int | None = Field(default=None, ge=WAF_RATE_LIMIT_MIN, le=WAF_RATE_LIMIT_MAX, alias="perIpLimit")
    """10 to 2000000000 requests per 5 minutes per client IP; lower only if one address may cut a tenant below its
    plan. Default: unset (the same derived figure)."""


class CacheSettings(_Model):
    """The stage's response cache (GET methods only, keyed on Host); docs "Tenant-safe caching"."""

    enabled: CliBool = False
    """the stage's response cache, GET methods only, keyed on `Host`"""
    size_gb: Float = Field(default=0.5, alias="sizeGb")
    """an API Gateway cache size: 0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118 or 237"""
    # "The default TTL value for API caching is 300 seconds. The maximum TTL value is 3600 seconds."
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-caching.html
    ttl_seconds: Int = Field(default=300, ge=0, le=3600, alias="ttlSeconds")
    """0 to 3600 seconds a cached response is served"""

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


class CustomDomainSettings(_Model):
    """`customDomains`: the edge that serves customers' own domains (docs "Own domains: two edges")."""

    # apiGateway: a custom domain and ACM certificate per own domain (what every stack before it built);
    # cloudFront: one CloudFront multi-tenant distribution, a distribution tenant per own domain.
    via: Literal["apiGateway", "cloudFront"] = "apiGateway"
    """`apiGateway`: an API Gateway custom domain and ACM certificate per own domain, in two phases; `cloudFront`:
    one CloudFront multi-tenant distribution, a distribution tenant per own domain with a CloudFront-managed
    certificate; refused with `endpointType: EDGE`, and for a customer with `mtlsTruststore` (pin it with
    `customDomainVia: apiGateway`). See "Own domains: two edges\""""


class QuotaSettings(_Model):
    """Account quotas the program checks before it creates anything; raise them here after AWS does."""

    # API Gateway: "Custom domain names per account per Region" (public), default 120.
    custom_domains: Int = Field(default=120, ge=1, alias="customDomains")
    """1 or more; see Quotas"""
    # Route 53: "Records per hosted zone", default 10,000.
    records_per_zone: Int = Field(default=10_000, ge=1, alias="recordsPerZone")
    """1 or more; see Quotas"""
    # ACM: "Number of ACM certificates" per account and region, default 2,500.
    certificates: Int = Field(default=2_500, ge=1)
    """1 or more; see Quotas"""
    # API Gateway: "API keys per account per Region", 10,000, not raisable: this may only lower it
    # (for an account shared by several stacks).
    api_keys: Int = Field(default=API_KEYS_MAX, ge=1, alias="apiKeys")
    """1 to 10000: AWS does not raise this quota, so the key may only lower it; see Quotas"""
    # API Gateway: "Usage plans per account per Region", default 300, can be increased (same page as API keys).
    usage_plans: Int = Field(default=300, ge=1, alias="usagePlans")
    """1 or more; see Quotas"""
    # CloudFront SaaS Manager, per account (docs "Own domains: two edges"): distribution tenants 10,000,
    # multi-tenant distributions 20, connection groups 100, domains per distribution tenant 100.
    distribution_tenants: Int = Field(default=10_000, ge=1, alias="distributionTenants")
    """1 or more: CloudFront distribution tenants per account, counted over the environment; see Quotas"""
    multitenant_distributions: Int = Field(default=20, ge=1, alias="multitenantDistributions")
    """1 or more: CloudFront multi-tenant distributions per account; see Quotas"""
    connection_groups: Int = Field(default=100, ge=1, alias="connectionGroups")
    """1 or more: CloudFront connection groups per account; see Quotas"""
    domains_per_tenant: Int = Field(default=100, ge=1, alias="domainsPerTenant")
    """1 or more: domains per distribution tenant (a customer's `customDomain` and `customDomains`); see Quotas"""

    @field_validator("api_keys")
    @classmethod
    def _api_keys_not_raisable(cls, value: int) -> int:
        if value > API_KEYS_MAX:
            raise ValueError(
                f"{value} is above {API_KEYS_MAX:,}, the quota 'API keys per account per Region', which AWS does"
                " not raise; this key may only lower it"
            )
        return value
