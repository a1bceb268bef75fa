"""AWS's limits and names the config is checked against (each with its source): label and name lengths, log
retention periods, TLS policies and endpoint types, truststores, cache sizes, WAF rate bounds. Constants only."""

from __future__ import annotations

import re

from whitelabel.endpoints import (
    EDGE,
    REGIONAL,
    endpoint,
)

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


# Tier names are config keys and usage-plan name parts: short lowercase labels.
TIER_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}\Z")
TIER_RULE = "must be a tier name: a lowercase letter, then up to 31 of a-z, 0-9, '-'"

# `namePrefix` starts names that must be unique per account and region (REST API, VPC link, log group,
# ECS task family); 24 characters leave room for the stack name and each resource's own suffix.
NAME_PREFIX_MAX = 24

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


# The stack name is the API Gateway stage name: "Stage names can only contain alphanumeric characters,
# hyphens, and underscores. Maximum length is 128 characters." (Stage.stageName,
# https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/apigateway/aws.sdk.kotlin.services.apigateway.model/-stage/stage-name.html)
STAGE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}\Z")

# An email address as alarms and portals take it: something@domain.tld, no spaces.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
