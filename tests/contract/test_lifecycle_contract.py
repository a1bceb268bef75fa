"""Contract: config changes as successive `pulumi up`s, each applied from what the program registers for the new
config (`serve(..., previous=...)`: creates, in-place updates, deletes, in the engine's order), with requests sent
between the steps; and a tenant shard served by its platform's API.

- Re-tier with `previousTier` (README "Re-tiering without a 403"): the first `up` moves acme to gold keeping its
  standard key in its plan, the second drops it. A decision API Gateway cached with the old key (TTL 300) stays
  good through the first `up`; the second comes after the caches have expired (the test flushes the authorizer
  cache; the stack's registry cache is 0). Without `previousTier`, one `up` deletes the key a cached decision
  names: that tenant is refused until the decision expires.
- Removing a customer deletes its items, plan key and key: its host is refused at once (a cached decision names
  a deleted key), and unknown once the decision is gone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from whitelabel.offline import Registered, run_program

from .conftest import EXTRA_CUSTOMERS, PROJECT, STAGE, contract_config, customer_entries, stack_file_config

pytestmark = pytest.mark.contract

ACME = "acme.dev.example.com"
# Decisions cached for API Gateway's default 300 s; the function reads the registry afresh each time.
CACHES = {"registryCacheSeconds": 0}


def retier_config(prefix: str, acme: dict[str, Any]) -> dict[str, Any]:
    dev = [c for c in customer_entries(stack_file_config(STAGE)[f"{PROJECT}:customers"]) if c["name"] != "acme"]
    return contract_config(
        prefix=prefix, customers=[{"name": "acme", **acme}, *dev, *EXTRA_CUSTOMERS], authorizer=CACHES
    )


@pytest.fixture(autouse=True)
def _fresh_authorizer(decisions: Any) -> None:
    decisions.reset()


def header_values(record: dict, name: str) -> list[str]:
    return [value for key, value in record["headers"] if key.lower() == name.lower()]


def probe(call: Any, api_id: str, host: str, seen: list[tuple[str, int]]) -> Callable[[Registered], None]:
    """After each step of an `up`: one request as `host`, its status recorded with the step."""

    def step(resource: Registered) -> None:
        seen.append((resource.name, call(api_id, "GET", "/service1/orders", host).status))

    return step


def test_a_re_tier_with_previous_tier_refuses_no_request_through_both_ups(
    serve, call, aws, backends, decisions, dynamodb
):
    first = serve(retier_config("retier", {}))
    api_id = first.api_id
    assert call(api_id, "GET", "/service1/orders", ACME).status == 200  # a decision cached with the standard key
    old_key = first.outputs["tenants"]["acme"]["apiKeyId"]

    moving: list[tuple[str, int]] = []
    second = serve(
        retier_config("retier", {"tier": "gold", "previousTier": "standard"}),
        previous=first,
        after_step=probe(call, api_id, ACME, moving),
    )
    decisions.reset()  # the caches have expired before the next `up` (README: wait the TTL)
    settled: list[tuple[str, int]] = []
    third = serve(
        retier_config("retier", {"tier": "gold"}), previous=second, after_step=probe(call, api_id, ACME, settled)
    )

    # What each `up` did, step by step, and every request in between was served.
    assert [name for name, _ in moving] == [
        "whitelabel-tenants-keys-acme.gold-api-key",
        "whitelabel-tenants-keys-acme.gold-plan-key",
        "whitelabel-tenants-keys-acme.dev.example.com-item",
    ]
    assert [name for name, _ in settled] == [
        "whitelabel-tenants-keys-acme.standard-plan-key",
        "whitelabel-tenants-keys-acme.standard-api-key",
    ]
    assert {status for _, status in moving + settled} == {200}
    # acme is gold now, on the gold key, in the gold plan; its standard key is gone.
    backends["service1"].received.clear()
    assert call(api_id, "GET", "/service1/orders", ACME).status == 200
    [record] = backends["service1"].received
    assert header_values(record, "X-Tenant-Tier") == ["gold"]
    new_key = third.outputs["tenants"]["acme"]["apiKeyId"]
    apigateway = aws("apigateway")
    assert [p["name"] for p in apigateway.get_usage_plans(keyId=new_key)["items"]] == ["retier-dev-gold"]
    assert old_key not in {k["id"] for k in apigateway.get_api_keys(limit=500)["items"]}
    item = dynamodb.get_item(TableName="retier-dev-tenants", Key={"hostname": {"S": ACME}})["Item"]
    assert item["tier"] == {"S": "gold"}
    assert item["apiKey"]["S"] == apigateway.get_api_key(apiKey=new_key, includeValue=True)["value"]


def test_a_re_tier_without_previous_tier_refuses_a_tenant_whose_decision_names_the_old_key(
    serve, call, backends, decisions
):
    first = serve(retier_config("retier-direct", {}))
    api_id = first.api_id
    assert call(api_id, "GET", "/service1/orders", ACME).status == 200  # cached with the standard key

    steps: list[tuple[str, int]] = []
    serve(retier_config("retier-direct", {"tier": "gold"}), previous=first, after_step=probe(call, api_id, ACME, steps))

    # The same `up` deletes the standard key the cached decision names: refused until the decision expires.
    assert steps[-1] == ("whitelabel-tenants-keys-acme.standard-api-key", 403)
    assert [d["invoked"] for d in decisions.all() if d["identity"] == [ACME]][-1] is False  # the cached one
    decisions.reset()
    assert call(api_id, "GET", "/service1/orders", ACME).status == 200  # a fresh decision: the gold key


def test_a_removed_customer_is_refused_and_the_others_are_still_served(serve, call, aws, backends, decisions):
    host = "initech.dev.example.com"
    first = serve(contract_config(prefix="removal", authorizer=CACHES))
    api_id = first.api_id
    assert call(api_id, "GET", "/service1/orders", host).status == 200  # a decision cached for initech
    initech_key = first.outputs["tenants"]["initech"]["apiKeyId"]
    without = [c for c in EXTRA_CUSTOMERS if c["name"] != "initech"]
    dev = customer_entries(stack_file_config(STAGE)[f"{PROJECT}:customers"])

    second = serve(contract_config(prefix="removal", customers=[*dev, *without], authorizer=CACHES), previous=first)
    cached = call(api_id, "GET", "/service1/orders", host)
    decisions.reset()
    fresh = call(api_id, "GET", "/service1/orders", host)
    other = call(api_id, "GET", "/service1/orders", ACME)

    assert "initech" not in second.outputs["tenants"]
    assert initech_key not in {k["id"] for k in aws("apigateway").get_api_keys(limit=500)["items"]}
    assert cached.status == 403, cached.body  # the cached decision names its deleted key
    assert fresh.status == 403 and json.loads(fresh.body)["reason"] == "unknown-host", fresh.body
    assert other.status == 200, other.body
    assert [d["outcome"] for d in decisions.invoked(api_id, host)] == ["deny"]
    assert all(header_values(r, "X-Tenant-Id") != ["initech"] for r in backends["service1"].received[1:])


def test_a_shard_tenant_is_served_by_its_platforms_api_as_itself(serve, call, aws, backends, decisions, dynamodb):
    # The platform (its own prefix) applied first; the shard's StackReference reads its real exports.
    platform = serve(contract_config(prefix="platform"))
    shard_config = {
        "aws:region": "eu-west-1",
        f"{PROJECT}:platform": f"organization/{PROJECT}/{STAGE}",
        f"{PROJECT}:customers": {"initrode": {}},
    }
    shard = serve(run_program("dev-a", shard_config, platform_outputs=platform.run.outputs), references=(platform,))
    host = "initrode.dev.example.com"

    response = call(platform.api_id, "GET", "/service1/orders", host)

    assert response.status == 200, response.body
    [record] = backends["service1"].received
    assert header_values(record, "X-Tenant-Id") == ["initrode"]
    assert [d["outcome"] for d in decisions.invoked(platform.api_id, host)] == ["allow"]
    # The shard made only its tenant's key, plan key and item: into the platform's plan and registry table.
    key_id = shard.outputs["tenants"]["initrode"]["apiKeyId"]
    plans = aws("apigateway").get_usage_plans(keyId=key_id)["items"]
    assert [(p["name"], p["apiStages"]) for p in plans] == [
        ("platform-dev-standard", [{"apiId": platform.api_id, "stage": STAGE}])
    ]
    item = dynamodb.get_item(TableName="platform-dev-tenants", Key={"hostname": {"S": host}})["Item"]
    assert item["tenantId"] == {"S": "initrode"}
