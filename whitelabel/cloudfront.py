"""Own domains through CloudFront SaaS Manager, as plain values and rules: the multi-tenant distribution's origin
and parameter, the managed policies, the viewer-request function, and what the config may not combine with it.
`components/own_domains.py` wires it to resources (docs "Own domains: two edges").

Identity stays what it is (design note "Tenant identity"): CloudFront does not forward the viewer's Host to the
origin (AWS's preset for an API Gateway origin forwards every viewer header except Host; forwarding Host to API
Gateway answers 403), so each tenant's origin is its own subdomain on the regional wildcard domain,
`{{tenant}}.<baseDomain>`. API Gateway then sees Host and SNI of that subdomain (STRICT holds) and the tenant
registry needs no new item.
"""

from __future__ import annotations

import json

from whitelabel.config_base import ConfigError
from whitelabel.endpoints import EDGE
from whitelabel.gateway_config import Settings
from whitelabel.tenant_config import Customer

API_GATEWAY = "apiGateway"
CLOUD_FRONT = "cloudFront"

# The distribution's one parameter: "Parameters are key-value pairs that you can use for the origin domain or
# origin paths" (Distribution tenant customizations, "How parameters work with distribution tenants",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/tenant-customization.html). Its value is the
# customer's subdomain label; the origin domain is built from it.
TENANT_PARAMETER = "tenant"
ORIGIN_ID = "api"

# AWS managed policies (fixed ids, the same in every account):
# "Use managed cache policies", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
# "Use managed origin request policies",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html
CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
# Every viewer header, cookie and query string except Host: CloudFront sends the origin's own name as Host.
ALL_VIEWER_EXCEPT_HOST_POLICY_ID = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # Managed-AllViewerExceptHostHeader

# The header carrying the domain the viewer asked for. Set by a CloudFront Function on viewer request (origin custom
# headers are static text, so they cannot carry a per-request value); a value the client sent is replaced.
FORWARDED_HOST_HEADER = "x-forwarded-host"

ALLOWED_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
CACHED_METHODS = ("GET", "HEAD")

# How the managed certificate's HTTP validation token is served: by CloudFront once the customer's CNAME points
# at the connection group (ManagedCertificateRequest.ValidationTokenHost, `cloudfront` | `self-hosted`,
# https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ManagedCertificateRequest.html).
VALIDATION_TOKEN_HOST = "cloudfront"


def origin_domain(base_domain: str) -> str:
    """The multi-tenant distribution's origin: each tenant's own subdomain of the regional wildcard domain."""
    return f"{{{{{TENANT_PARAMETER}}}}}.{base_domain}"


def forwarded_host_function() -> str:
    """The viewer-request CloudFront Function (cloudfront-js-2.0): `X-Forwarded-Host` = the Host the viewer sent.

    The viewer's Host is the domain CloudFront matched to the distribution tenant (its connection and SNI), so a
    client cannot name another tenant's domain here and still reach this one. Whatever the client sent as
    X-Forwarded-Host is overwritten: the header is assigned, never appended.
    """
    return (
        "function handler(event) {\n"
        "    var request = event.request;\n"
        f"    request.headers[{json.dumps(FORWARDED_HOST_HEADER)}] = {{ value: request.headers.host.value }};\n"
        "    return request;\n"
        "}\n"
    )


# `customDomainMove` (docs "Moving a customer from an API Gateway domain to CloudFront"): the steps of a move without
# downtime. `prepare` and `switch` keep the API Gateway custom domain serving beside the new distribution tenant;
# `done` is the state after the move, kept in the config.
MOVE_PREPARE = "prepare"
MOVE_SWITCH = "switch"
MOVE_DONE = "done"
# Where the DNS-validated certificate a moved tenant is given lives: "To use an ACM certificate with CloudFront, make
# sure you request (or import) the certificate in the US East (N. Virginia) Region (us-east-1)"; for a distribution
# tenant "The certificate must exist in the US East (N. Virginia) Region" (Request certificates for your CloudFront
# distribution tenant, https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/managed-cloudfront-certificates.html).
MOVED_CERTIFICATE_REGION = "us-east-1"
# Our `<subdomain>.cname.<baseDomain>` record once it names the connection group (a CNAME: a Route 53 alias to
# CloudFront needs the record's own name among the distribution's domains, which it is not here).
SWITCHED_RECORD_TTL = 300


def moving(customer: Customer) -> bool:
    """Whether the customer's own domain is between the two edges: served by API Gateway, with a distribution tenant
    made ready beside it (`customDomainMove: prepare | switch`)."""
    return customer.custom_domain_move in (MOVE_PREPARE, MOVE_SWITCH)


def has_tenant(settings: Settings, customer: Customer) -> bool:
    """Whether the customer's own domain has a distribution tenant: through CloudFront, or moving to it."""
    return edge_of(settings, customer) == CLOUD_FRONT or moving(customer)


def edge_of(settings: Settings, customer: Customer) -> str | None:
    """The edge serving the customer's own domain, None without one."""
    return settings.own_domain_edge(customer)


def cloudfront_customers(settings: Settings) -> list[Customer]:
    """The customers whose own domain is a distribution tenant (those moving to CloudFront too), sorted by name (never
    by list position)."""
    return sorted((c for c in settings.customers if has_tenant(settings, c)), key=lambda c: c.name)


def uses_cloudfront(settings: Settings) -> bool:
    """Whether the stack builds the multi-tenant distribution: `customDomains.via: cloudFront`, or a customer
    that asks for it."""
    return settings.custom_domains.via == CLOUD_FRONT or any(
        c.custom_domain_via == CLOUD_FRONT or c.custom_domain_move is not None for c in settings.customers
    )


def check_own_domain_edge(settings: Settings) -> None:
    """Refuse in one line what CloudFront cannot serve: an edge-optimized API behind it, a mutual-TLS customer's
    own domain through it, and the API Gateway-only phase key on a distribution tenant."""
    edge_rule = (
        "cloudFront needs endpointType REGIONAL: the distribution's origin is the regional wildcard domain"
        " (an edge-optimized API already sits behind API Gateway's own CloudFront distribution)"
    )
    if settings.custom_domains.via == CLOUD_FRONT and settings.endpoint_type == EDGE:
        raise ConfigError("customDomains.via", edge_rule)
    owners: dict[str, int] = {}
    for index, customer in enumerate(settings.customers):
        where = f"customers[{index}]"
        if customer.more_domains and customer.custom_domain is None:
            raise ConfigError(
                f"{where}.customDomains", "needs customDomain: the customer's first own domain (its certificate's name)"
            )
        for domain in settings.own_domains(customer):
            if domain in owners and owners[domain] != index:
                raise ConfigError(
                    f"{where}.customDomains", f"{domain!r} is already used by customers[{owners[domain]}]"
                )
            if domain in customer.more_domains and domain == customer.custom_domain:
                raise ConfigError(f"{where}.customDomains", f"{domain!r} is its customDomain already")
            if domain == settings.base_domain or domain.endswith("." + settings.base_domain):
                raise ConfigError(
                    f"{where}.customDomains",
                    f"{domain!r} lies inside baseDomain {settings.base_domain!r}; use subdomain for names we own",
                )
            owners[domain] = index
        if customer.custom_domain_via is not None and customer.custom_domain is None:
            raise ConfigError(
                f"{where}.customDomainVia", "is set but customDomain is not (it says which edge serves it)"
            )
        if customer.custom_domain_move is not None:
            _check_move(settings, customer, where)
        if edge_of(settings, customer) != CLOUD_FRONT:
            if customer.more_domains:
                raise ConfigError(
                    f"{where}.customDomains",
                    "more own domains per customer are served through CloudFront only (one distribution tenant"
                    " holds them; on API Gateway each would be a custom domain and certificate): set customDomainVia"
                    " cloudFront",
                )
            continue
        via_key = f"{where}.customDomainVia" if customer.custom_domain_via is not None else "customDomains.via"
        if settings.endpoint_type == EDGE:
            raise ConfigError(via_key, edge_rule)
        if customer.mtls_truststore is not None:
            raise ConfigError(
                via_key,
                f"cloudFront cannot serve {customer.custom_domain!r}: the customer has mtlsTruststore, and through"
                " CloudFront API Gateway sees CloudFront's connection, never the client's certificate; set"
                f" {where}.customDomainVia: apiGateway",
            )
        if customer.custom_domain_validated:
            raise ConfigError(
                f"{where}.customDomainValidated",
                "is a phase of own domains on API Gateway; a distribution tenant's certificate is requested and"
                " attached by CloudFront once the domain points at it (remove customDomainValidated)",
            )


def _check_move(settings: Settings, customer: Customer, where: str) -> None:
    """`customDomainMove`'s rules: a moved domain is one API Gateway serves (`prepare`, `switch`) or served through
    CloudFront (`done`), with the one name its ACM certificate covers, and nothing CloudFront cannot serve."""
    key = f"{where}.customDomainMove"
    step = customer.custom_domain_move
    if settings.endpoint_type == EDGE:
        raise ConfigError(key, "needs endpointType REGIONAL: the distribution's origin is the regional wildcard domain")
    if customer.mtls_truststore is not None:
        raise ConfigError(
            key,
            "cannot move a mutual-TLS customer: through CloudFront API Gateway never sees the client's certificate",
        )
    if customer.more_domains:
        raise ConfigError(
            f"{where}.customDomains",
            "is refused with customDomainMove: the moved tenant's ACM certificate names customDomain only",
        )
    edge = edge_of(settings, customer)
    if step in (MOVE_PREPARE, MOVE_SWITCH):
        if edge != API_GATEWAY:
            raise ConfigError(
                key,
                f"{step} keeps the domain on its API Gateway custom domain until done: set {where}.customDomainVia"
                " apiGateway",
            )
        if not customer.custom_domain_validated:
            raise ConfigError(
                key,
                f"{step} moves a domain API Gateway already serves (customDomainValidated: true); a domain not yet"
                " served needs no move: set customDomainVia cloudFront",
            )
    elif edge != CLOUD_FRONT:
        raise ConfigError(
            key, f"done serves the domain through CloudFront: set {where}.customDomainVia cloudFront (or remove it)"
        )
    elif customer.custom_domain_validated:
        raise ConfigError(
            f"{where}.customDomainValidated",
            "is an API Gateway phase; with customDomainMove done the API Gateway custom domain goes: remove it",
        )
