"""The tenant registry: hostnames per customer, the exact item per hostname, key names; the table and its items."""

from __future__ import annotations

from typing import Any

from whitelabel.config import Settings, parse_settings
from whitelabel.tenancy import api_key_name, registry_item, tenant_hostnames


def _settings(customers: list[dict[str, Any]]) -> Settings:
    return parse_settings({"baseDomain": "dev.example.com", "hostedZone": "example.com", "customers": customers})


def test_hostnames_are_the_subdomain_and_a_validated_own_domain_sorted_by_customer() -> None:
    settings = _settings(
        [
            {"name": "zeta"},
            {"name": "acme", "subdomain": "a"},
            {"name": "initech", "customDomain": "api.initech.com"},
            {"name": "globex", "customDomain": "api.globex.com", "customDomainValidated": True},
        ]
    )
    pairs = [(customer.name, hostname) for customer, hostname in tenant_hostnames(settings)]
    assert pairs == [
        ("acme", "a.dev.example.com"),
        ("globex", "api.globex.com"),
        ("globex", "globex.dev.example.com"),
        # initech's own domain is not served before phase 2: no item for it yet.
        ("initech", "initech.dev.example.com"),
        ("zeta", "zeta.dev.example.com"),
    ]


def test_reordering_customers_gives_the_same_hostnames() -> None:
    forward = _settings([{"name": "acme"}, {"name": "globex"}])
    backward = _settings([{"name": "globex"}, {"name": "acme"}])
    assert tenant_hostnames(forward) == tenant_hostnames(backward)


def test_registry_item_is_dynamodb_json_with_status_from_suspension() -> None:
    assert registry_item("acme.dev.example.com", "acme", "gold", False, "k3y") == {
        "hostname": {"S": "acme.dev.example.com"},
        "tenantId": {"S": "acme"},
        "tier": {"S": "gold"},
        "status": {"S": "active"},
        "apiKey": {"S": "k3y"},
    }
    assert registry_item("acme.dev.example.com", "acme", "gold", True, "k3y")["status"] == {"S": "suspended"}


def test_api_key_name_carries_prefix_and_customer() -> None:
    assert api_key_name("whitelabel-gateway-dev", "acme") == "whitelabel-gateway-dev-acme"
    assert api_key_name("shop-prod", "acme") != api_key_name("shop-dev", "acme")
