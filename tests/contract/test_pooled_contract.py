"""A pooled tier through the API in LocalStack: two tenants sharing one pool key, each reaching the services as
itself, beside a perTenant tenant with a key of its own (docs "Pooled tiers (keyMode)").

The contract stack's `free` tier is pooled with one key (`tests/contract/conftest.py`): the program registers
`wonka`'s and `soylent`'s registry items with the same key, and the applier puts them as registered.
"""

from __future__ import annotations

from typing import Any

import pytest

from whitelabel.config import resource_prefix

from .conftest import PROJECT, STAGE, contract_stack

pytestmark = pytest.mark.contract

SETTINGS = contract_stack()


@pytest.fixture(autouse=True)
def _fresh_authorizer(decisions: Any) -> None:
    decisions.reset()


def header_values(record: dict, name: str) -> list[str]:
    return [value for key, value in record["headers"] if key.lower() == name.lower()]


def test_pooled_tenants_share_one_key_in_the_tiers_plan_and_a_per_tenant_one_has_its_own(aws, api, contract):
    apigateway = aws("apigateway")
    prefix = resource_prefix(SETTINGS, PROJECT, STAGE)
    key_ids = {name: tenant["apiKeyId"] for name, tenant in contract.outputs["tenants"].items()}
    assert key_ids["wonka"] == key_ids["soylent"] != key_ids["acme"]
    pool = apigateway.get_api_key(apiKey=key_ids["wonka"], includeValue=True)
    assert pool["name"] == f"{prefix}-free.pool-0"
    items = contract.items()
    # The registry items carry the pool key's value, the one the emulator generated for it.
    assert (
        items["wonka.dev.example.com"]["apiKey"] == items["soylent.dev.example.com"]["apiKey"] == {"S": pool["value"]}
    )
    plans = apigateway.get_usage_plans(keyId=pool["id"])["items"]
    assert [p["name"] for p in plans if {"apiId": api, "stage": STAGE} in p["apiStages"]] == [f"{prefix}-free"]
    # The pooled tenants cost no key of their own.
    names = {key["name"] for key in apigateway.get_api_keys(limit=500)["items"]}
    assert f"{prefix}-wonka" not in names and f"{prefix}-soylent" not in names
    assert f"{prefix}-acme" in names


@pytest.mark.parametrize(
    ("host", "tenant", "tier"),
    [
        pytest.param("wonka.dev.example.com", "wonka", "free", id="pooled-wonka"),
        pytest.param("soylent.dev.example.com", "soylent", "free", id="pooled-soylent"),
        pytest.param("acme.dev.example.com", "acme", "standard", id="per-tenant-acme"),
    ],
)
def test_each_tenant_reaches_the_backend_as_itself_whatever_its_key(call, api, backends, decisions, host, tenant, tier):
    response = call(api, "GET", "/service1/orders/7", host, headers={"X-Tenant-Id": "forged"})

    assert response.status == 200, response.body
    [record] = backends["service1"].received
    # Identity is the tenant's (the authorizer's context), never the shared key's.
    assert header_values(record, "X-Tenant-Id") == [tenant]
    assert header_values(record, "X-Tenant-Tier") == [tier]
    assert header_values(record, "X-Tenant-Domain") == [host]
    # The authorizer really ran and allowed it; the key it returned passed LocalStack's own key check.
    [decision] = decisions.invoked(api, host)
    assert decision["outcome"] == "allow"
