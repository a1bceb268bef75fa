"""Tenant registry data: which hostnames a customer is served at, and the exact item Pulumi writes per hostname.

Pure functions (no Pulumi import): the registry component, the contract tests' emulator seed and the
tests all build items here, so what is tested is what is written.
"""

from __future__ import annotations

from typing import Any

from whitelabel.config import Customer, Settings

ACTIVE = "active"
SUSPENDED = "suspended"


def hostnames(settings: Settings, customer: Customer) -> tuple[str, ...]:
    """The hostnames a customer is served at: `<subdomain>.<baseDomain>`, and its own domain once validated.

    An own domain is not served (no custom domain exists) before phase 2, so it has no registry item yet.
    """
    names = [f"{customer.subdomain}.{settings.base_domain}"]
    if customer.custom_domain is not None and customer.custom_domain_validated:
        names.append(customer.custom_domain)
    return tuple(names)


def tenant_hostnames(settings: Settings) -> list[tuple[Customer, str]]:
    """Every (customer, hostname) the registry holds, sorted by customer name, then hostname.

    Sorted, never in list order: reordering `customers` must not change anything.
    """
    pairs = [(customer, hostname) for customer in settings.customers for hostname in hostnames(settings, customer)]
    return sorted(pairs, key=lambda pair: (pair[0].name, pair[1]))


def registry_item(hostname: str, tenant_id: str, tier: str, suspended: bool, api_key: str) -> dict[str, Any]:
    """One registry item in DynamoDB JSON (attribute name → {type: value}), exactly as Pulumi writes it.

    The authorizer reads `tenantId`, `tier`, `status` and `apiKey` by `hostname` (the partition key).
    """
    return {
        "hostname": {"S": hostname},
        "tenantId": {"S": tenant_id},
        "tier": {"S": tier},
        "status": {"S": SUSPENDED if suspended else ACTIVE},
        "apiKey": {"S": api_key},
    }


def api_key_name(prefix: str, customer_name: str) -> str:
    """The API key's name: unique per account and region across projects and stacks (`<prefix>-<customer>`).

    prefix: `resource_prefix(settings, project, stack)`, i.e. `<namePrefix or project>-<stack>`.
    """
    return f"{prefix}-{customer_name}"
