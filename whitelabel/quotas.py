"""Quota arithmetic: what a stack's config will hold of each AWS quota, checked before anything exists.

These quotas are per account and region (per hosted zone for records): other stacks in the same account
(dev and prod side by side) use them too. The defaults are AWS's; set `quotas.*` after a raise.
"""

from __future__ import annotations

from dataclasses import dataclass

from whitelabel.cloudfront import has_tenant, uses_cloudfront
from whitelabel.config_base import ConfigError
from whitelabel.config_limits import API_KEYS_MAX
from whitelabel.gateway_config import Settings

# Route 53 keeps an SOA and an NS record at the apex of every hosted zone.
ZONE_APEX_RECORDS = 2


@dataclass(frozen=True)
class Usage:
    """How much of each quota one stack uses."""

    custom_domains: int
    records: int
    certificates: int
    dedicated: int
    own_domains: int
    api_keys: int
    usage_plans: int
    # Of `api_keys`: the pooled tiers' shared keys (`poolKeys` each, made whatever their tenants).
    pool_keys: int = 0
    # Where the certificates count against ACM's per-region quota: the API's region (None) or, for edge
    # endpoints, us-east-1 (whitelabel/endpoints.py), shared with every edge or CloudFront certificate there.
    certificate_region: str | None = None
    # CloudFront SaaS Manager (whitelabel/cloudfront.py): one distribution tenant per own domain served through
    # CloudFront; the platform's one multi-tenant distribution and one connection group; the most domains a tenant has.
    distribution_tenants: int = 0
    multitenant_distributions: int = 0
    connection_groups: int = 0
    domains_per_tenant: int = 0


def usage(settings: Settings) -> Usage:
    """Count what the program will create for this config."""
    per_name = 2 if settings.dual_stack else 1  # A, and AAAA when dual-stack
    dedicated = sum(1 for c in settings.customers if c.dedicated_domain)
    # Own domains on API Gateway: an ACM certificate and (validated) a custom domain each; through CloudFront: a
    # distribution tenant whose certificate CloudFront requests itself.
    own = [c for c in settings.customers if settings.own_domain_edge(c) == "apiGateway"]
    # A customer moving from API Gateway (`customDomainMove`) has its tenant already, beside its custom domain.
    tenants = sum(1 for c in settings.customers if has_tenant(settings, c))
    edge = 1 if uses_cloudfront(settings) else 0
    pooled = {name for name, tier in settings.tiers.items() if tier.pooled}
    pool_keys = sum(tier.pool_size for tier in settings.tiers.values())
    own_validated = sum(1 for c in own if c.custom_domain_validated)
    # perCustomer: every customer's <subdomain>.<baseDomain>. wildcard: one `*.<baseDomain>` alias answers
    # for every shared customer; a dedicated customer's record is more specific and keeps its own target.
    customer_names = 1 + dedicated if settings.tenant_dns == "wildcard" else len(settings.customers)
    records = (
        ZONE_APEX_RECORDS
        + 1  # the wildcard certificate's validation record
        + per_name * customer_names
        + per_name * own_validated  # <subdomain>.cname.<baseDomain> for each own domain in service
    )
    return Usage(
        custom_domains=1 + dedicated + own_validated,
        records=records,
        certificates=1 + len(own),
        dedicated=dedicated,
        own_domains=own_validated,
        # One per customer of a perTenant tier, suspended ones included (their key stays), and one more per
        # customer leaving a perTenant tier (`previousTier`): both keys exist until the config drops it. A pooled
        # tier's customers own none: its poolKeys keys count once, with or without tenants.
        api_keys=sum(1 for c in settings.customers if settings.tier_of(c) not in pooled)
        + sum(1 for c in settings.customers if c.previous_tier is not None and c.previous_tier not in pooled)
        + pool_keys,
        usage_plans=len(settings.tiers),  # one per configured tier
        pool_keys=pool_keys,
        certificate_region=settings.endpoint.certificate_region,
        distribution_tenants=tenants,
        multitenant_distributions=edge,
        connection_groups=edge,
        domains_per_tenant=max(
            (len(settings.own_domains(c)) for c in settings.customers if settings.own_domain_edge(c) == "cloudFront"),
            default=0,
        ),
    )


def check_quotas(settings: Settings) -> None:
    """Refuse a config that would run into an AWS quota, naming the quota, its value and how to raise it."""
    used = usage(settings)
    quotas = settings.quotas
    # "API keys per account per Region": 10,000, "Can be increased: No"; "Usage plans per account per
    # Region": 300, can be increased.
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
    if used.api_keys > quotas.api_keys:
        lowered = (
            f" (quotas.apiKeys lowers AWS's {API_KEYS_MAX:,} for this stack: raise it if the account's other"
            " stacks leave room, or"
            if quotas.api_keys < API_KEYS_MAX
            else " (AWS does not raise it:"
        )
        own = used.api_keys - used.pool_keys
        leaving = own - sum(1 for c in settings.customers if not settings.tiers[settings.tier_of(c)].pooled)
        whose = "customer of a perTenant tier" if used.pool_keys else "customer"
        parts = f"one per {whose}{f', {leaving} more for previousTier' if leaving else ''}"
        pools = f", {used.pool_keys} pool keys of pooled tiers" if used.pool_keys else ""
        raise ConfigError(
            "customers",
            f"needs {used.api_keys} API keys ({parts}{pools}), over the quota 'API keys per account per"
            f" Region' of {quotas.api_keys:,}{lowered} serve some customers from a stack in another account or region)",
        )
    if used.usage_plans > quotas.usage_plans:
        raise ConfigError(
            "tiers",
            f"needs {used.usage_plans} usage plans (one per tier), over the quota 'Usage plans per account per"
            f" Region' of {quotas.usage_plans}; request an increase in Service Quotas (Amazon API Gateway), then"
            " set quotas.usagePlans to the new value",
        )
    if used.custom_domains > quotas.custom_domains:
        raise ConfigError(
            "customers",
            f"needs {used.custom_domains} API Gateway custom domain names (1 wildcard + {used.dedicated} dedicated"
            f" + {used.own_domains} own domains, {settings.endpoint_type}; edge-optimized and Regional count alike),"
            " over the quota 'Custom domain names per account per Region'"
            f" of {quotas.custom_domains}; request an increase in Service Quotas (Amazon API Gateway), then set"
            " quotas.customDomains to the new value",
        )
    if used.records > quotas.records_per_zone:
        raise ConfigError(
            "customers",
            f"needs {used.records} records in hosted zone {settings.hosted_zone!r}, over the quota 'Records per"
            f" hosted zone' of {quotas.records_per_zone}; request an increase in Service Quotas (Amazon Route 53),"
            " then set quotas.recordsPerZone to the new value",
        )
    if used.certificates > quotas.certificates:
        where = f" in {used.certificate_region} (edge certificates live there)" if used.certificate_region else ""
        raise ConfigError(
            "customers",
            f"needs {used.certificates} ACM certificates{where} (1 wildcard + {used.certificates - 1} own domains),"
            f" over the quota 'Number of ACM certificates' of {quotas.certificates}; request an increase in Service"
            " Quotas (AWS Certificate Manager) in that region, then set quotas.certificates to the new value",
        )
    _check_cloudfront_quotas(used, settings)


# CloudFront SaaS Manager's quotas per account, with the key that holds each and AWS's name for it ("Quotas on
# multi-tenant distributions", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html).
CLOUDFRONT_QUOTAS = (
    ("distribution_tenants", "distributionTenants", "Distribution tenants per AWS account"),
    ("multitenant_distributions", "multitenantDistributions", "Multi-tenant distributions per AWS account"),
    ("connection_groups", "connectionGroups", "Connection groups per AWS account"),
    ("domains_per_tenant", "domainsPerTenant", "Domains per distribution tenant"),
)


def _check_cloudfront_quotas(used: Usage, settings: Settings) -> None:
    for field, key, name in CLOUDFRONT_QUOTAS:
        limit = getattr(settings.quotas, field)
        if getattr(used, field) > limit:
            raise ConfigError(
                "customers" if field in ("distribution_tenants", "domains_per_tenant") else "customDomains.via",
                f"needs {getattr(used, field):,} of '{name}' (limit {limit:,}; own domains through CloudFront);"
                f" request an increase in Service Quotas (Amazon CloudFront), then set quotas.{key} to the new value",
            )
