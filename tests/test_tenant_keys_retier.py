"""Tenant keys in the cases `make mutate` found unguarded: a re-tier to a tier whose name sorts first (the item
must carry the new tier's key whatever the names' order, and protected production must release the old tier's
key whatever that order), and a plan key replaced only after the old one is gone (a key is in at most one plan
per stage, so create-before-delete would fail)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import customers_config, shared_run
from whitelabel.offline import StackRun

# "bronze" sorts before "standard", "zinc" after it: a re-tier both ways against the default tier.
TIERS = {
    "bronze": {"rateLimit": 5, "burstLimit": 10},
    "standard": {"rateLimit": 50, "burstLimit": 100},
    "zinc": {"rateLimit": 500, "burstLimit": 1000},
    "free": {"rateLimit": 2, "burstLimit": 4, "keyMode": "pooled", "poolKeys": 1},
}
ITEM = "whitelabel-tenants-keys-acme.dev.example.com-item"


def run(acme: dict[str, Any]) -> StackRun:
    return shared_run(
        "dev",
        customers_config(
            [{"name": "acme", **acme}, {"name": "globex"}, {"name": "wonka", "tier": "free"}], tiers=TIERS
        ),
    )


def item_key(result: StackRun) -> str:
    value = result.named(ITEM).inputs["item"]
    return str(json.loads(value.get("value", value) if isinstance(value, dict) else value)["apiKey"]["S"])


@pytest.mark.parametrize("tier", ["bronze", "zinc"])
def test_while_leaving_a_tier_the_item_carries_the_new_tiers_key(tier):
    leaving = run({"tier": tier, "previousTier": "standard"})

    new_key = leaving.named(f"whitelabel-tenants-keys-acme.{tier}-api-key")
    old_key = leaving.named("whitelabel-tenants-keys-acme.standard-api-key")
    assert item_key(leaving) == new_key.outputs["value"] != old_key.outputs["value"]
    assert leaving.outputs["tenants"]["acme"]["apiKeyId"] == new_key.id


def test_a_plan_key_is_deleted_before_its_replacement_is_created():
    result = run({})

    plan_keys = {p.name: p.delete_before_replace for p in result.of_type("aws:apigateway/usagePlanKey:UsagePlanKey")}
    # A tenant's own plan keys and the pooled tier's.
    assert "whitelabel-tenants-keys-acme.standard-plan-key" in plan_keys
    assert "whitelabel-tenants-keys-pool.free.0-plan-key" in plan_keys
    assert all(plan_keys.values()), plan_keys


@pytest.mark.parametrize("tier", ["bronze", "zinc"])
def test_protected_prod_releases_the_leaving_tiers_key_whichever_name_sorts_first(tier):
    leaving = shared_run(
        "prod",
        customers_config([{"name": "acme", "tier": tier, "previousTier": "standard"}], stack="prod", tiers=TIERS),
    )

    acme_keys = {
        r.name: r.protect
        for r in leaving.resources
        if r.name.startswith("whitelabel-tenants-keys-acme.") and r.name.endswith(("-api-key", "-plan-key"))
    }
    assert acme_keys == {
        f"whitelabel-tenants-keys-acme.{tier}-api-key": True,
        f"whitelabel-tenants-keys-acme.{tier}-plan-key": True,
        "whitelabel-tenants-keys-acme.standard-api-key": False,
        "whitelabel-tenants-keys-acme.standard-plan-key": False,
    }
