"""End-user authentication config: off by default, its rules, the registry items and the authorizer's environment."""

from __future__ import annotations

from typing import Any

import pytest

from components.tenant_authorizer import TenantAuthorizerArgs
from whitelabel.config import ConfigError, parse_settings
from whitelabel.tenancy import registry_item, tenants

ISSUER = "https://idp.example.com/pool"
BASE: dict[str, Any] = {
    "baseDomain": "example.com",
    "customers": [
        {"name": "acme"},
        {"name": "initech", "auth": "none"},
        {"name": "globex", "auth": {"issuer": "https://login.globex.com", "audiences": ["gw"], "tenantClaim": None}},
    ],
}
ON = {
    "auth": {"issuer": ISSUER, "audiences": ["c1"], "publicPrefixes": ["/docs"]},
    "authorizer": {"cacheTtlSeconds": 0},
}


def items(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    settings = parse_settings(raw)
    return {
        t.name: registry_item(h, t.name, t.tier, t.suspended, "k", auth=t.auth)
        for t in tenants(settings)
        for h in t.hostnames
    }


def test_without_auth_items_and_environment_are_as_before() -> None:
    raw = {"baseDomain": "example.com", "customers": [{"name": "acme"}]}
    assert items(raw)["acme"] == registry_item("acme.example.com", "acme", "standard", False, "k")
    args = TenantAuthorizerArgs.from_settings(parse_settings(raw), "p", "t", "arn")
    assert (args.user_auth, args.public_prefixes) == (False, ())


def test_each_customer_gets_its_resolved_issuer_audiences_and_claim() -> None:
    found = items({**BASE, **ON})
    assert found["acme"]["authIssuer"] == {"S": ISSUER}
    assert found["acme"]["authAudiences"] == {"L": [{"S": "c1"}]}
    assert found["acme"]["authTenantClaim"] == {"S": "custom:tenantId"}
    assert "authIssuer" not in found["initech"]
    assert found["globex"]["authIssuer"] == {"S": "https://login.globex.com"}
    assert "authTenantClaim" not in found["globex"]  # null: the issuer alone names the tenant
    args = TenantAuthorizerArgs.from_settings(parse_settings({**BASE, **ON}), "p", "t", "arn")
    assert (args.user_auth, args.public_prefixes) == (True, ("/docs",))


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({**BASE, "auth": {"issuer": ISSUER, "audiences": ["c1"]}}, "authorizer.cacheTtlSeconds"),
        ({**BASE, **ON, "auth": {"issuer": "http://idp.example.com", "audiences": ["c1"]}}, "auth.issuer"),
        ({**BASE, **ON, "auth": {"issuer": ISSUER}}, "auth.audiences"),
        (
            {**BASE, **ON, "auth": {"issuer": ISSUER, "audiences": ["c1"], "publicPrefixes": ["docs"]}},
            "auth.publicPrefixes",
        ),
        (
            {
                **ON,
                "baseDomain": "example.com",
                "customers": [{"name": "acme"}, {"name": "globex", "auth": {"tenantClaim": None}}],
            },
            "customers[1].auth.tenantClaim",
        ),
        # Claim names and audiences are one printable word (a control character would reach the registry item).
        ({**BASE, **ON, "auth": {"issuer": ISSUER, "audiences": ["c1"], "tenantClaim": "x\n"}}, "auth.tenantClaim"),
        ({**BASE, **ON, "auth": {"issuer": ISSUER, "audiences": ["c 1"]}}, "auth.audiences"),
        ({**BASE, **ON, "auth": {"issuer": ISSUER + "\t", "audiences": ["c1"]}}, "auth.issuer"),
    ],
)
def test_each_rule_stops_the_program_naming_its_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings(raw)
    assert str(raised.value).startswith(f"whitelabel-gateway:{key}: ")
