"""The component package's public types: the args of `WhiteLabelGateway` and `TenantSet`, and their enums.

Typed dicts, not dataclasses: through Pulumi's component provider host a component receives its args as a
plain dict with snake_case keys, so the Python API and every other language's see the same shape. Pulumi's
schema inference (`pulumi.provider.experimental.analyzer`) refuses unions other than Optional and refuses
`Literal`, so a backend is one type with a `kind` enum and every choice is an `Enum`. A bare `T` is plain
(known when the component is constructed: tenants, tiers and backends' kinds fan out into resources);
`pulumi.Input[T]` may be another resource's output (a load balancer's ARN, a subnet list).

Defaults are the program's (docs "Config reference"): an arg left out behaves as the config key left out.
The component validates its args with the program's config model (`whitelabel.config`), so a bad arg stops
before any child resource with the same one-line error shape, naming the arg path (`backends.orders.kind`).
"""

from enum import Enum
from typing import NotRequired, TypedDict

import pulumi


class BackendKind(Enum):
    """How the API reaches a backend."""

    ALB = "ALB"
    """An internal Application Load Balancer, through the API's VPC link v2 (private integration)."""
    NLB = "NLB"
    """An internal Network Load Balancer, through the API's VPC link v2 (private integration)."""
    HTTP = "HTTP"
    """A public HTTP(S) URL (HTTP_PROXY integration, no VPC link)."""
    LAMBDA = "LAMBDA"
    """A Lambda function (AWS_PROXY integration); the component grants API Gateway its invoke permission."""
    S3 = "S3"
    """Objects of an S3 bucket (AWS service integration, GET only) read with an IAM role."""


class TenantDns(Enum):
    """How tenants' subdomains resolve."""

    PER_CUSTOMER = "perCustomer"
    """One alias record per shared tenant: a subdomain that is not a tenant does not resolve."""
    WILDCARD = "wildcard"
    """One `*.<baseDomain>` alias record: onboarding makes no Route 53 change; unknown names resolve and the
    tenant authorizer refuses them."""


class EndpointType(Enum):
    """How clients reach the API and its custom domains (whitelabel/endpoints.py)."""

    REGIONAL = "REGIONAL"
    """In the API's region; certificates there; Route 53 aliases the domains' regional names."""
    EDGE = "EDGE"
    """Edge-optimized: API Gateway's CloudFront distribution in front; certificates in us-east-1; no mutual TLS;
    `SecurityPolicy_*_EDGE` TLS policies."""


class WafMode(Enum):
    """What the web ACL's managed rule groups and rate rules do with a match."""

    BLOCK = "block"
    """Block (managed groups as AWS ships them; rate rules answer 429)."""
    COUNT = "count"
    """Only count (tuning against real traffic)."""


class CustomDomainEdge(Enum):
    """Which edge serves tenants' own domains (docs "Own domains: two edges")."""

    API_GATEWAY = "apiGateway"
    """An API Gateway custom domain and a DNS-validated ACM certificate per own domain, in two phases."""
    CLOUD_FRONT = "cloudFront"
    """A distribution tenant per own domain on the platform's CloudFront multi-tenant distribution, with a
    certificate CloudFront requests and renews (HTTP validation once the domain points at the connection group)."""


class CustomDomainMove(Enum):
    """A step of moving a tenant's `custom_domain` from API Gateway to CloudFront without downtime, one update each
    (docs "Moving a customer from an API Gateway domain to CloudFront")."""

    PREPARE = "prepare"
    """Still on API Gateway: a DNS-validated ACM certificate in us-east-1 and a distribution tenant with it."""
    SWITCH = "switch"
    """The `<subdomain>.cname.<baseDomain>` record names the connection group; the API Gateway domain still serves."""
    DONE = "done"
    """Through CloudFront: the API Gateway custom domain goes; kept afterwards (the tenant keeps its certificate)."""


class QuotaPeriod(Enum):
    """The period of a tier's request quota."""

    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


class BackendArgs(TypedDict):
    """One backend: its kind, its path prefix, and what its integration reaches (the fields of its kind)."""

    kind: BackendKind
    """ALB, NLB, HTTP, LAMBDA or S3."""
    prefix: NotRequired[str]
    """The path prefix its routes sit at (`/<prefix>` and `/<prefix>/{proxy+}`); default: the backend's name."""
    description: NotRequired[str]
    """For people: shown by the offline plan."""
    load_balancer_arn: NotRequired[pulumi.Input[str]]
    """ALB, NLB: the internal load balancer's ARN (the integration target)."""
    load_balancer_dns_name: NotRequired[pulumi.Input[str]]
    """ALB, NLB: its DNS name (the Host the integration sends)."""
    port: NotRequired[int]
    """ALB, NLB: the listener's port."""
    url: NotRequired[pulumi.Input[str]]
    """HTTP: the base URL (`https://api.example.net/v1`); the request's path after the prefix is appended."""
    function_name: NotRequired[pulumi.Input[str]]
    """LAMBDA: the function's name or ARN (for the invoke permission)."""
    function_invoke_arn: NotRequired[pulumi.Input[str]]
    """LAMBDA: the function's invoke ARN."""
    bucket_name: NotRequired[pulumi.Input[str]]
    """S3: the bucket."""
    key_prefix: NotRequired[str]
    """S3: the folder read (`docs/`); default: the whole bucket."""
    read_role_arn: NotRequired[pulumi.Input[str]]
    """S3: the role API Gateway reads the bucket with; default: one the component makes (s3:GetObject on the
    key prefix, s3:ListBucket so a missing key is 404)."""
    per_tenant: NotRequired[bool]
    """S3: a developer portal per tenant: `/<prefix>` and `/<prefix>/{key+}` read `tenants/<tenantId>/…` under the key
    prefix, the tenant id mapped from the tenant authorizer's context (never from the client's path). Default false:
    every tenant reads the same objects."""
    documents: NotRequired[list[str]]
    """S3 with `per_tenant`: object keys every tenant may read (the operator's guides), each a fixed route
    `/<prefix>/<key>` (no key is taken from the client)."""
    shared_files: NotRequired[list[str]]
    """S3 with `per_tenant`: files every tenant's pages load (the renderer), served at `/<prefix>/portal/<file>` from
    `portal/<file>`."""


class KeyMode(Enum):
    """How a tier's tenants hold API keys (docs "Pooled tiers (keyMode)")."""

    PER_TENANT = "perTenant"
    """An API key and plan key per tenant: the tier's throttle and quota apply to each tenant."""
    POOLED = "pooled"
    """The tier's `pool_keys` keys shared by its tenants (a stable hash of the name picks one): a tenant costs no
    API key; the throttle and quota apply per pool key, to its tenants together."""


class TierQuotaArgs(TypedDict):
    """A usage plan's request quota: `limit` requests per `period`, per tenant."""

    limit: int
    period: QuotaPeriod


class TierArgs(TypedDict):
    """One tier: a usage plan whose throttle and quota apply to each API key in it (a tenant's, or a pool's)."""

    rate_limit: float
    """Requests per second, per tenant (pooled: per pool key)."""
    burst_limit: int
    """Token-bucket burst, per tenant (pooled: per pool key)."""
    quota: NotRequired[TierQuotaArgs]
    key_mode: NotRequired[KeyMode]
    """perTenant (default) or pooled."""
    pool_keys: NotRequired[int]
    """pooled only: how many keys the tier's tenants share, 1 to 100; default 1."""


class TenantAuthArgs(TypedDict):
    """One tenant's end-user authentication over the platform's `auth`: what it names replaces the platform's,
    what it leaves out is inherited; `off` turns authentication off for the tenant (the config's `auth: none`)."""

    issuer: NotRequired[str]
    """Its own token issuer (https)."""
    audiences: NotRequired[list[str]]
    """Its own accepted `aud` values."""
    tenant_claim: NotRequired[str | None]
    """The claim that must equal its name; null: its issuer alone names it (an issuer no other tenant shares)."""
    off: NotRequired[bool]
    """No user needed for this tenant, whatever the platform's `auth`."""


class BrandingArgs(TypedDict):
    """A tenant's developer portal brand (README "Developer portal per tenant"); the program's `docs.perTenant`
    pages use it. Each key left out is the stack's `branding`'s."""

    display_name: NotRequired[str]
    logo_url: NotRequired[str]
    """An https URL; or `logo_file`."""
    logo_file: NotRequired[str]
    """An image under the docs folder, relative to it."""
    primary_color: NotRequired[str]
    """`#rrggbb`."""
    support_url: NotRequired[str]
    """An https URL; or `support_email`."""
    support_email: NotRequired[str]


class TenantArgs(TypedDict):
    """One tenant (customer): reached at `<subdomain>.<baseDomain>`, and at its own domain once validated."""

    name: str
    """A lowercase DNS label, unique: names the tenant's resources and its `X-Tenant-Id`."""
    subdomain: NotRequired[str]
    """Default: the name."""
    dedicated_domain: NotRequired[bool]
    """Its own custom domain `<subdomain>.<baseDomain>` instead of the shared wildcard domain."""
    custom_domain: NotRequired[str]
    """A domain the customer owns (`api.customer.com`): phase 1 issues its certificate."""
    custom_domain_validated: NotRequired[bool]
    """Phase 2 of `custom_domain`: the domain is served."""
    custom_domain_via: NotRequired[CustomDomainEdge]
    """The edge serving `custom_domain`; default: the platform's `custom_domains.via`."""
    custom_domain_move: NotRequired[CustomDomainMove]
    """Moves `custom_domain` from API Gateway to CloudFront without downtime: prepare, switch, done (kept)."""
    custom_domains: NotRequired[list[str]]
    """More own domains beside `custom_domain` (cloudFront only): one distribution tenant holds them all."""
    tier: NotRequired[str]
    """A tier of `tiers`; default: `default_tier`."""
    previous_tier: NotRequired[str]
    """The tier being left: its key stays metered until this is removed (a re-tier without 403s)."""
    suspended: NotRequired[bool]
    """The tenant authorizer refuses the tenant's hostnames (403)."""
    mtls_truststore: NotRequired[str]
    """`s3://<bucket>/<key>` of a PEM bundle: mutual TLS on the tenant's custom domains."""
    mtls_issuers: NotRequired[list[str]]
    """With `mtls_truststore`: the issuer DNs its client certificates must have."""
    mtls_subjects: NotRequired[list[str]]
    """With `mtls_truststore`: when set, the subject DNs its client certificates must have."""
    auth: NotRequired[TenantAuthArgs]
    """End-user authentication: unset inherits the platform's `auth`; an override, or `off`."""
    branding: NotRequired[BrandingArgs]
    """Its developer portal's brand, over the stack's (README "Developer portal per tenant")."""


class ThrottleArgs(TypedDict):
    """Stage-wide throttling: the ceiling over every tenant together."""

    rate_limit: NotRequired[float]
    burst_limit: NotRequired[int]


class AuthArgs(TypedDict):
    """End-user authentication: tokens the tenant authorizer verifies (docs "End-user authentication (auth)")."""

    issuer: NotRequired[str]
    """The token issuer, an https URL; its `/.well-known/openid-configuration` names the key set."""
    audiences: NotRequired[list[str]]
    """Accepted `aud` values (client ids)."""
    tenant_claim: NotRequired[str]
    """The claim that must equal the host's tenant (default `custom:tenantId`)."""
    public_prefixes: NotRequired[list[str]]
    """Path prefixes that need no user, such as `/docs`."""
    enabled: NotRequired[bool]
    """Run end-user authentication even when no tenant of this stack has it: for tenants of TenantSets in other
    stacks with an issuer of their own. Default false (on anyway with an issuer or a tenant's own auth)."""


class AuthorizerArgs(TypedDict):
    """The tenant authorizer's caches: how long a suspension or tier change takes to bite."""

    cache_ttl_seconds: NotRequired[int]
    """API Gateway's cache of one decision per Host (0 to 3600; 0 with mutual TLS)."""
    registry_cache_seconds: NotRequired[int]
    """The function's own cache of registry items (0 to 300)."""


class WafArgs(TypedDict):
    """The web ACL in front of the stage."""

    enabled: NotRequired[bool]
    mode: NotRequired[WafMode]
    per_tenant_limit: NotRequired[int]
    """Requests per 5 minutes per Host; default and minimum: derived from the highest tier."""
    per_ip_limit: NotRequired[int]
    """Requests per 5 minutes per client IP; default: derived from the highest tier."""


class CacheArgs(TypedDict):
    """The stage's response cache (GET methods, keyed on Host)."""

    enabled: NotRequired[bool]
    size_gb: NotRequired[float]
    ttl_seconds: NotRequired[int]


class AlarmArgs(TypedDict):
    """Alarm thresholds and who is mailed."""

    server_error_rate_percent: NotRequired[float]
    latency_p99_ms: NotRequired[int]
    integration_latency_p99_ms: NotRequired[int]
    authorizer_errors: NotRequired[int]
    """Authorizer failures per minute: requests answered AUTHORIZER_*, and the handler's error decisions (not 401s)."""
    lambda_concurrency_limit: NotRequired[int]
    """The account's Lambda concurrent-executions quota in the region (default 1,000, AWS's default)."""
    authorizer_concurrency_percent: NotRequired[float]
    """The share of that quota, in percent, the authorizer's concurrency may reach before it alarms (default 80)."""
    throttled_requests: NotRequired[int]
    email: NotRequired[list[str]]


class QuotaArgs(TypedDict):
    """Account quotas checked before anything is created; raise them here after AWS does."""

    custom_domains: NotRequired[int]
    records_per_zone: NotRequired[int]
    certificates: NotRequired[int]
    api_keys: NotRequired[int]
    usage_plans: NotRequired[int]
    distribution_tenants: NotRequired[int]
    multitenant_distributions: NotRequired[int]
    connection_groups: NotRequired[int]
    domains_per_tenant: NotRequired[int]


class CustomDomainsArgs(TypedDict):
    """How tenants' own domains are served."""

    via: NotRequired[CustomDomainEdge]
    """apiGateway (default) or cloudFront."""


class WhiteLabelGatewayArgs(TypedDict):
    """The platform: one REST API in front of `backends`, every tenant on its own subdomain of `base_domain`."""

    base_domain: str
    """Tenants are reached at `<subdomain>.<base_domain>`."""
    hosted_zone: NotRequired[str]
    """The public Route 53 zone holding the records: `base_domain` or a parent of it; default `base_domain`."""
    stage_name: str
    """The API Gateway stage (the program uses its stack name)."""
    name_prefix: str
    """Names unique per account and region start with it (`<project>-<stack>` in the program)."""
    backends: dict[str, BackendArgs]
    """Backend name → backend; each is routed at its prefix behind the tenant authorizer."""
    vpc_link_subnet_ids: NotRequired[pulumi.Input[list[str]]]
    """Private subnets of the VPC link v2; required when an ALB or NLB backend exists."""
    vpc_link_security_group_id: NotRequired[pulumi.Input[str]]
    """The VPC link's security group (the load balancers admit it); required with an ALB or NLB backend."""
    tenants: NotRequired[list[TenantArgs]]
    """The tenants this component serves itself (a `TenantSet` of its own); more may live in other stacks."""
    tiers: NotRequired[dict[str, TierArgs]]
    """Tier name → its usage plan; default: `standard` at 50 requests/s, burst 100."""
    default_tier: NotRequired[str]
    tenant_dns: NotRequired[TenantDns]
    endpoint_type: NotRequired[EndpointType]
    """REGIONAL (default) or EDGE: the API's and its custom domains' endpoint type."""
    tls_policy: NotRequired[str]
    """The security policy of the API and its custom domains; default the enhanced TLS 1.3/1.2 PFS PQ policy
    (with EDGE: `SecurityPolicy_TLS12_PFS_2025_EDGE`)."""
    dual_stack: NotRequired[bool]
    throttle: NotRequired[ThrottleArgs]
    authorizer: NotRequired[AuthorizerArgs]
    auth: NotRequired[AuthArgs]
    """End-user authentication for every tenant (off when unset)."""
    waf: NotRequired[WafArgs]
    cache: NotRequired[CacheArgs]
    alarms: NotRequired[AlarmArgs]
    quotas: NotRequired[QuotaArgs]
    custom_domains: NotRequired[CustomDomainsArgs]
    """The edge of tenants' own domains: with cloudFront the platform adds a multi-tenant distribution, a connection
    group, a viewer-request function and (WAF on) a CLOUDFRONT-scope web ACL."""
    tracing: NotRequired[bool]
    log_retention_days: NotRequired[int]
    manage_account_logging: NotRequired[bool]
    """Whether this stack owns API Gateway's account-wide CloudWatch role setting (one stack per account)."""
    protect_resources: NotRequired[bool]
    """Protected production: stateful resources protected, log groups retained."""
    adopt_program_stack: NotRequired[bool]
    """Only for a stack that this repository's program deployed before the component package existed: the
    component's children take over that stack's resources through aliases to their old top-level URNs, so the
    upgrade replaces nothing. At most one component in a stack may set it; default false."""


class TenantSetArgs(TypedDict):
    """Per-tenant resources only, against a platform that exists (a `WhiteLabelGateway`'s outputs)."""

    tenants: list[TenantArgs]
    base_domain: str
    hosted_zone: NotRequired[str]
    name_prefix: str
    """The platform's name prefix: API key names start with it."""
    rest_api_id: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    usage_plan_ids: pulumi.Input[dict[str, str]]
    """Tier name → the platform's usage plan id."""
    tiers: list[str]
    """The platform's tier names (plain: each tenant's tier must be one of them)."""
    pooled_tiers: NotRequired[dict[str, int]]
    """The platform's pooled tiers (key_mode pooled) → their pool_keys; this set makes each one's pool keys itself."""
    default_tier: NotRequired[str]
    registry_table_name: pulumi.Input[str]
    wildcard_domain_name: pulumi.Input[str]
    """The platform's wildcard custom domain's regional domain name, or with EDGE its CloudFront domain name (the
    alias target of shared tenants: the platform's `wildcard_domain_target`)."""
    wildcard_domain_zone_id: pulumi.Input[str]
    """The hosted zone id of that target (the platform's `wildcard_domain_zone_id`)."""
    certificate_arn: NotRequired[pulumi.Input[str]]
    """The platform's validated `*.<base_domain>` certificate: dedicated domains use it (required with one)."""
    tenant_dns: NotRequired[TenantDns]
    endpoint_type: NotRequired[EndpointType]
    """The platform's endpoint type (REGIONAL by default): the tenants' custom domains and certificates follow it."""
    tls_policy: NotRequired[str]
    dual_stack: NotRequired[bool]
    protect_resources: NotRequired[bool]
    auth: NotRequired[AuthArgs]
    """The platform's end-user authentication (its `auth`): tenants without an `auth` of their own inherit it, and
    an override inherits what it leaves out (the platform's `shard_platform` carries it)."""
    user_auth: NotRequired[bool]
    """Whether the platform's authorizer runs end-user authentication (its `shard_platform` says): a tenant with
    auth is refused while it does not. Unset: not known (a platform export before 0.1.0), so refused too."""
    authorizer_cache_ttl_seconds: NotRequired[int]
    """The platform's authorizer cache TTL (its `shard_platform` says): a tenant with auth or mutual TLS needs 0.
    Unset: not known, so such a tenant is refused."""
    custom_domains: NotRequired[CustomDomainsArgs]
    """The platform's edge of own domains (its `shard_platform` says); default apiGateway."""
    own_domain_distribution_id: NotRequired[pulumi.Input[str]]
    """The platform's multi-tenant distribution (required with an own domain through cloudFront)."""
    own_domain_connection_group_id: NotRequired[pulumi.Input[str]]
    """The platform's connection group: distribution tenants join it."""
    own_domain_routing_endpoint: NotRequired[pulumi.Input[str]]
    """The connection group's routing endpoint: what customers point their domain at (CNAME)."""
    adopt_program_stack: NotRequired[bool]
    """Only for a stack that this repository's program deployed before the component package existed: the
    component's children take over that stack's resources through aliases to their old top-level URNs, so the
    upgrade replaces nothing. At most one component in a stack may set it; default false."""
