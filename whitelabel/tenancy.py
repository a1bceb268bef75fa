"""Tenant registry data: which hostnames a customer is served at, and the exact item Pulumi writes per hostname.

Pure functions (no Pulumi import): the registry component, the contract tests' emulator seed and the
tests all build items here, so what is tested is what is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from whitelabel.gateway_config import Settings
from whitelabel.tenant_config import Customer, ResolvedAuth

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
    # End-user authentication (docs "End-user authentication (auth)"): left out when off, so the items of
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


def pool_key_name(prefix: str, tier: str, index: int) -> str:
    """A pooled tier's API key name (`<prefix>-<tier>.pool-<index>`): the dot, which no customer name has, keeps it
    apart from every customer's key name (`api_key_name`)."""
    return f"{prefix}-{tier}.pool-{index}"


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
    # The configured tiers whose keyMode is `pooled`: a tenant has no key of its own in them.
    pooled_tiers: frozenset[str] = frozenset()
    # In a pooled tier: the index of the tier's pool key this tenant's items carry (`pool_index`).
    pool_key: int | None = None
    # End-user authentication (`auth`, `customers[i].auth`): None when this customer's requests need no user.
    auth: ResolvedAuth | None = None

    @property
    def status(self) -> str:
        return SUSPENDED if self.suspended else ACTIVE

    @property
    def key_tiers(self) -> tuple[str, ...]:
        """The tiers this tenant has an API key of its own in: its tier, then the one it is leaving (if any);
        pooled tiers left out (their keys are the tier's, and stay while the tier exists)."""
        tiers = (self.tier,) if self.previous_tier is None else (self.tier, self.previous_tier)
        return tuple(tier for tier in tiers if tier not in self.pooled_tiers)


def pool_index(tenant_name: str, pool_keys: int) -> int:
    """The pool key (0 .. pool_keys - 1) a pooled tenant uses: sha256 of its name, modulo the pool's size.

    A function of the name and the pool's size only: adding or removing tenants never moves another one; a new
    `poolKeys` moves about (1 - 1/n) of the tier's tenants (each then switches keys, gaplessly: README
    "Pooled tiers (keyMode)"). sha256, not `hash()`: Python salts str hashes per process.
    """
    digest = hashlib.sha256(tenant_name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % pool_keys


def tenants(settings: Settings) -> list[Tenant]:
    """Every customer with its tier (or `defaultTier`), suspension, hostnames, end-user authentication and, in a
    pooled tier, its pool key, sorted by name."""
    pooled = frozenset(name for name, tier in settings.tiers.items() if tier.pooled)
    result = []
    for customer in sorted(settings.customers, key=lambda c: c.name):
        tier = settings.tier_of(customer)
        result.append(
            Tenant(
                name=customer.name,
                tier=tier,
                suspended=customer.suspended,
                hostnames=tuple(sorted(hostnames(settings, customer))),
                previous_tier=customer.previous_tier,
                mtls_issuers=customer.mtls_issuers,
                mtls_subjects=customer.mtls_subjects,
                pooled_tiers=pooled,
                pool_key=pool_index(customer.name, settings.tiers[tier].pool_size) if tier in pooled else None,
                auth=settings.auth_of(customer),
            )
        )
    return result
