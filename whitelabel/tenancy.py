"""Tenant registry data: which hostnames a customer is served at, and the exact item Pulumi writes per hostname.

Pure functions (no Pulumi import): the registry component, the contract tests' emulator seed and the
tests all build items here, so what is tested is what is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from whitelabel.config import Customer, ResolvedAuth, Settings

ACTIVE = "active"
SUSPENDED = "suspended"


def hostnames(settings: Settings, customer: Customer) -> tuple[str, ...]:
    """The hostnames a customer is served at (`Settings.hostnames`): `<subdomain>.<baseDomain>`, and its own
    domain once validated. An own domain is not served before phase 2, so it has no registry item yet.
    """
    return settings.hostnames(customer)


def tenant_hostnames(settings: Settings) -> list[tuple[Customer, str]]:
    """Every (customer, hostname) the registry holds, sorted by customer name, then hostname.

    Sorted, never in list order: reordering `customers` must not change anything.
    """
    pairs = [(customer, hostname) for customer in settings.customers for hostname in hostnames(settings, customer)]
    return sorted(pairs, key=lambda pair: (pair[0].name, pair[1]))


def registry_item(
    hostname: str,
    tenant_id: str,
    tier: str,
    suspended: bool,
    api_key: str,
    *,
    mtls_issuers: Sequence[str] = (),
    mtls_subjects: Sequence[str] = (),
    auth: ResolvedAuth | None = None,
) -> dict[str, Any]:
    """One registry item in DynamoDB JSON (attribute name → {type: value}), exactly as Pulumi writes it.

    The authorizer reads `tenantId`, `tier`, `status` and `apiKey` by `hostname` (the partition key).
    mtls_issuers, mtls_subjects: a mutual-TLS customer's accepted client-certificate issuer (and subject) DNs;
    the authorizer then admits a request only with such a certificate. Empty (every other customer): the
    attributes are left out, so the item is the same as before mutual TLS was checked.
    """
    item: dict[str, Any] = {
        "hostname": {"S": hostname},
        "tenantId": {"S": tenant_id},
        "tier": {"S": tier},
        "status": {"S": SUSPENDED if suspended else ACTIVE},
        "apiKey": {"S": api_key},
    }
    # Lists (L), not string sets (SS): a list keeps the order written, so the item Pulumi reads back is
    # the item it wrote and a refresh shows no diff.
    if mtls_issuers:
        item["mtlsIssuers"] = {"L": [{"S": dn} for dn in mtls_issuers]}
    if mtls_subjects:
        item["mtlsSubjects"] = {"L": [{"S": dn} for dn in mtls_subjects]}
    # End-user authentication (README "End-user authentication (auth)"): left out when off, so the items of
    # customers without it are byte-identical to before; no tenant claim means the issuer alone names the tenant.
    if auth is not None:
        item["authIssuer"] = {"S": auth.issuer}
        item["authAudiences"] = {"L": [{"S": audience} for audience in auth.audiences]}
        if auth.tenant_claim is not None:
            item["authTenantClaim"] = {"S": auth.tenant_claim}
    return item


def api_key_name(prefix: str, customer_name: str) -> str:
    """The API key's name: unique per account and region across projects and stacks (`<prefix>-<customer>`).

    prefix: `resource_prefix(settings, project, stack)`, i.e. `<namePrefix or project>-<stack>`.
    """
    return f"{prefix}-{customer_name}"


@dataclass(frozen=True)
class Tenant:
    """One customer as the registry and the keys see it."""

    name: str
    tier: str
    suspended: bool
    hostnames: tuple[str, ...]
    # `previousTier`: the tier being left, whose key stays in its plan until the config drops it.
    previous_tier: str | None = None
    # Mutual TLS (`mtlsIssuers`, `mtlsSubjects`): empty for a customer without a truststore.
    mtls_issuers: tuple[str, ...] = ()
    mtls_subjects: tuple[str, ...] = ()
    # End-user authentication (`auth`, `customers[i].auth`): None when this customer's requests need no user.
    auth: ResolvedAuth | None = None

    @property
    def status(self) -> str:
        return SUSPENDED if self.suspended else ACTIVE

    @property
    def key_tiers(self) -> tuple[str, ...]:
        """The tiers this tenant has an API key in: its tier, then the one it is leaving (if any)."""
        return (self.tier,) if self.previous_tier is None else (self.tier, self.previous_tier)


def tenants(settings: Settings) -> list[Tenant]:
    """Every customer with its tier (or `defaultTier`), suspension and hostnames, sorted by name."""
    return [
        Tenant(
            name=customer.name,
            tier=settings.tier_of(customer),
            suspended=customer.suspended,
            hostnames=tuple(sorted(hostnames(settings, customer))),
            previous_tier=customer.previous_tier,
            mtls_issuers=customer.mtls_issuers,
            mtls_subjects=customer.mtls_subjects,
            auth=settings.auth_of(customer),
        )
        for customer in sorted(settings.customers, key=lambda c: c.name)
    ]
