"""Pooled tiers (`tiers.<name>.keyMode: pooled`): a tier's few shared keys, a tenant that costs its items only."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from components.args import KeyMode, TenantSetArgs
from components.tenant_set import TenantSet
from tests.conftest import Deployed, customers_config, deploy, name_diff, resolve, shared_run
from whitelabel.component_args import raw_config
from whitelabel.config import ConfigError, parse_settings
from whitelabel.offline import StackRun
from whitelabel.quotas import usage
from whitelabel.tenancy import pool_index, tenants

# How the engine marks a secret value (pulumi.runtime.rpc: _special_sig_key → _special_secret_sig).
SECRET_SIG = "4dabf18193072939515e22adb298388d"

TIERS: dict[str, Any] = {
    "standard": {"rateLimit": 50, "burstLimit": 100},
    "free": {
        "rateLimit": 5,
        "burstLimit": 10,
        "quota": {"limit": 10000, "period": "DAY"},
        "keyMode": "pooled",
        "poolKeys": 3,
    },
}
POOLED = [{"name": f"p{i:02d}", "tier": "free"} for i in range(12)]
CUSTOMERS = [*POOLED, {"name": "acme"}]
KEYS = "whitelabel-tenants-keys"


def _run(customers: list[dict[str, Any]], tiers: dict[str, Any] = TIERS, **keys: Any) -> StackRun:
    return shared_run("dev", customers_config(customers, tiers=tiers, **keys))


def _item(run: StackRun, tenant: str) -> dict[str, Any]:
    value = run.named(f"{KEYS}-{tenant}.dev.example.com-item").inputs["item"]
    assert SECRET_SIG in value, "the item carries a key's value: it must stay secret"
    return json.loads(value["value"])  # type: ignore[no-any-return]


def _pool(run: StackRun, tier: str, index: int) -> tuple[Any, Any]:
    return run.named(f"{KEYS}-pool.{tier}.{index}-api-key"), run.named(f"{KEYS}-pool.{tier}.{index}-plan-key")


def _keys(customer: str, tier: str) -> list[str]:
    return [f"{KEYS}-{customer}.{tier}-api-key", f"{KEYS}-{customer}.{tier}-plan-key"]


@pytest.fixture(scope="module")
def pooled() -> StackRun:
    return _run(CUSTOMERS)


# -- config ------------------------------------------------------------------------------------------


def _settings(tiers: dict[str, Any], customers: list[dict[str, Any]] | None = None) -> Any:
    return parse_settings({"baseDomain": "example.com", "tiers": tiers, "customers": customers or []})


def test_key_mode_defaults_to_per_tenant_and_a_pool_to_one_key() -> None:
    settings = _settings({"standard": {"rateLimit": 1, "burstLimit": 1}, "free": {**TIERS["free"], "poolKeys": None}})
    assert (settings.tiers["standard"].key_mode, settings.tiers["standard"].pool_size) == ("perTenant", 0)
    assert (settings.tiers["free"].key_mode, settings.tiers["free"].pool_size) == ("pooled", 1)


@pytest.mark.parametrize(
    ("tier", "line"),
    [
        (
            {"keyMode": "shared"},
            "whitelabel-gateway:tiers.standard.keyMode: must be 'perTenant' or 'pooled' (not 'shared')",
        ),
        (
            {"poolKeys": 4},
            "whitelabel-gateway:tiers.standard.poolKeys: is set but keyMode is not 'pooled': a perTenant tier gives"
            " each customer its own key",
        ),
        (
            {"keyMode": "perTenant", "poolKeys": 1},
            "whitelabel-gateway:tiers.standard.poolKeys: is set but keyMode is not 'pooled': a perTenant tier gives"
            " each customer its own key",
        ),
        (
            {"keyMode": "pooled", "poolKeys": 0},
            "whitelabel-gateway:tiers.standard.poolKeys: must be at least 1 (not 0)",
        ),
        (
            {"keyMode": "pooled", "poolKeys": 101},
            "whitelabel-gateway:tiers.standard.poolKeys: must be at most 100 (not 101)",
        ),
        (
            {"keyMode": "pooled", "poolKeys": True},
            "whitelabel-gateway:tiers.standard.poolKeys: True is a boolean; a number is expected here",
        ),
    ],
)
def test_bad_key_modes_and_pool_sizes_are_refused_in_one_line(tier: dict[str, Any], line: str) -> None:
    with pytest.raises(ConfigError) as error:
        _settings({"standard": {"rateLimit": 1, "burstLimit": 1, **tier}})
    assert str(error.value) == line
    assert "\n" not in str(error.value)


# -- the hash ----------------------------------------------------------------------------------------


def test_the_pool_index_is_sha256_of_the_name_and_stable_across_processes() -> None:
    # Pinned values: a change of function (or Python's per-process salted hash()) would move live tenants.
    names = ("acme", "globex", "initech", "p00", "p01")
    assert [pool_index(name, 3) for name in names] == [0, 1, 1, 2, pool_index("p01", 3)]
    assert [pool_index(name, 7) for name in names] == [2, 2, 1, 6, 5]
    assert [pool_index(name, 1) for name in names] == [0] * 5
    # Another interpreter with another str-hash seed picks the same keys.
    code = f"from whitelabel.tenancy import pool_index; print([pool_index(n, 7) for n in {names!r}])"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[2, 2, 1, 6, 5]"


def test_the_pool_index_spreads_tenants_evenly() -> None:
    names = [f"tenant-{i}" for i in range(10_000)]
    for size in (2, 3, 10, 100):
        counts = collections.Counter(pool_index(name, size) for name in names)
        assert set(counts) == set(range(size))
        mean = len(names) / size
        # A uniform hash: every key within 5 standard deviations of the mean (binomial), far from skew.
        spread = 5 * (mean * (1 - 1 / size)) ** 0.5
        assert all(abs(count - mean) <= spread for count in counts.values()), counts


def test_changing_pool_keys_moves_some_tenants_and_adding_tenants_moves_none() -> None:
    names = [f"tenant-{i}" for i in range(10_000)]
    three = {name: pool_index(name, 3) for name in names}
    four = {name: pool_index(name, 4) for name in names}
    moved = sum(three[n] != four[n] for n in names) / len(names)
    # Modulo hashing: a tenant stays only where both residues agree, about 1/4 of them from 3 to 4 keys.
    assert 0.70 < moved < 0.80
    settings = _settings(TIERS, POOLED)
    grown = _settings(TIERS, [*POOLED, {"name": "newco", "tier": "free"}])
    assert {t.name: t.pool_key for t in tenants(settings)} == {
        t.name: t.pool_key for t in tenants(grown) if t.name != "newco"
    }


# -- resources ---------------------------------------------------------------------------------------


def test_a_pooled_tier_has_its_pool_keys_each_in_the_tiers_plan(pooled: StackRun) -> None:
    plan = pooled.named("whitelabel-free-usage-plan")
    for index in range(3):
        key, plan_key = _pool(pooled, "free", index)
        assert key.inputs["name"] == f"whitelabel-gateway-dev-free.pool-{index}"
        assert key.inputs["enabled"] is True
        assert plan_key.inputs["keyId"] == key.id and plan_key.inputs["usagePlanId"] == plan.id
        assert plan.urn in plan_key.dependencies
    assert not [r for r in pooled.resources if ".pool.free.3-" in r.name or "pool.standard" in r.name]
    assert plan.inputs["throttleSettings"] == {"rateLimit": 5, "burstLimit": 10}
    assert plan.inputs["description"] == "Tier free: per pool key throttle and quota"
    assert pooled.named("whitelabel-standard-usage-plan").inputs["description"] == (
        "Tier standard: per-tenant throttle and quota"
    )


def test_a_pooled_tenant_owns_no_key_and_its_item_carries_its_pool_key(pooled: StackRun) -> None:
    keys = {r.name for r in pooled.of_type("aws:apigateway/apiKey:ApiKey")}
    assert keys == {f"{KEYS}-pool.free.{i}-api-key" for i in range(3)} | {f"{KEYS}-acme.standard-api-key"}
    used = set()
    for customer in POOLED:
        index = pool_index(customer["name"], 3)
        used.add(index)
        key, plan_key = _pool(pooled, "free", index)
        item = _item(pooled, customer["name"])
        # Identity stays the tenant's; the key (throttle and quota) is the pool's.
        assert item["tenantId"] == {"S": customer["name"]} and item["tier"] == {"S": "free"}
        assert item["apiKey"] == {"S": key.outputs["value"]}
        assert plan_key.urn in pooled.named(f"{KEYS}-{customer['name']}.dev.example.com-item").dependencies
    assert used == {0, 1, 2}  # twelve tenants reach every key of the pool
    tenants_output = pooled.outputs["tenants"]
    assert tenants_output["p00"]["poolKey"] == pool_index("p00", 3)
    assert tenants_output["p00"]["apiKeyId"] == _pool(pooled, "free", pool_index("p00", 3))[0].id
    assert "poolKey" not in tenants_output["acme"]


def test_adding_a_pooled_tenant_creates_only_its_item_and_record(pooled: StackRun) -> None:
    after = _run([*CUSTOMERS, {"name": "newco", "tier": "free"}])
    assert name_diff(pooled, after) == (
        ["whitelabel-tenants-domains-newco-a", f"{KEYS}-newco.dev.example.com-item"],
        [],
        [],
    )


def test_adding_a_pooled_tenant_with_wildcard_dns_creates_only_its_item() -> None:
    before = _run(CUSTOMERS, tenantDns="wildcard")
    after = _run([*CUSTOMERS, {"name": "newco", "tier": "free"}], tenantDns="wildcard")
    assert name_diff(before, after) == ([f"{KEYS}-newco.dev.example.com-item"], [], [])
    removed = _run(CUSTOMERS[1:], tenantDns="wildcard")
    assert name_diff(before, removed) == ([], [f"{KEYS}-p00.dev.example.com-item"], [])


def test_per_tenant_to_pooled_switches_the_item_to_a_metered_pool_key_and_keeps_the_old_key(
    pooled: StackRun,
) -> None:
    item_name = f"{KEYS}-acme.dev.example.com-item"
    leaving = _run([*POOLED, {"name": "acme", "tier": "free", "previousTier": "standard"}])
    # First `pulumi up`: nothing created (the pool exists), nothing deleted; the item switches.
    assert name_diff(pooled, leaving) == ([], [], [item_name])
    key, plan_key = _pool(leaving, "free", pool_index("acme", 3))
    assert _item(leaving, "acme")["apiKey"] == {"S": key.outputs["value"]}
    assert plan_key.urn in leaving.named(item_name).dependencies
    # The old per-tenant key stays in the standard plan for decisions the authorizer cached with it.
    old_plan_key = leaving.named(f"{KEYS}-acme.standard-plan-key")
    assert old_plan_key.inputs["usagePlanId"] == leaving.named("whitelabel-standard-usage-plan").id
    # Second `pulumi up`, previousTier dropped: only the old key and plan key go.
    done = _run([*POOLED, {"name": "acme", "tier": "free"}])
    assert name_diff(leaving, done) == ([], _keys("acme", "standard"), [])


def test_pooled_to_per_tenant_creates_the_tenants_key_before_its_item_switches(pooled: StackRun) -> None:
    item_name = f"{KEYS}-p00.dev.example.com-item"
    moving = [{"name": "p00", "tier": "standard", "previousTier": "free"}, *POOLED[1:], {"name": "acme"}]
    after = _run(moving)
    # previousTier names a pooled tier: the pool key stays anyway (it is the tier's), no extra key.
    assert name_diff(pooled, after) == (_keys("p00", "standard"), [], [item_name])
    key, plan_key = (after.named(n) for n in _keys("p00", "standard"))
    assert _item(after, "p00")["apiKey"] == {"S": key.outputs["value"]}
    assert plan_key.urn in after.named(item_name).dependencies
    done = _run([{"name": "p00", "tier": "standard"}, *POOLED[1:], {"name": "acme"}])
    assert name_diff(after, done) == ([], [], [])


def test_more_pool_keys_adds_keys_and_moves_only_the_tenants_the_hash_moves(pooled: StackRun) -> None:
    tiers = {**TIERS, "free": {**TIERS["free"], "poolKeys": 4}}
    after = _run(CUSTOMERS, tiers)
    moved = sorted(
        f"{KEYS}-{c['name']}.dev.example.com-item"
        for c in POOLED
        if pool_index(c["name"], 3) != pool_index(c["name"], 4)
    )
    assert moved
    assert name_diff(pooled, after) == ([f"{KEYS}-pool.free.3-api-key", f"{KEYS}-pool.free.3-plan-key"], [], moved)


# -- quotas ------------------------------------------------------------------------------------------


def test_pool_keys_count_in_the_api_key_quota_and_pooled_tenants_do_not() -> None:
    customers = [*POOLED, {"name": "acme"}, {"name": "hooli", "tier": "free", "previousTier": "standard"}]
    used = usage(_settings(TIERS, customers))
    # acme's key, hooli's standard key it is leaving, and the free tier's 3 pool keys; no key per pooled tenant.
    assert (used.api_keys, used.pool_keys) == (5, 3)
    empty = usage(_settings(TIERS))
    assert (empty.api_keys, empty.pool_keys) == (3, 3)  # a pooled tier's keys exist before its first tenant


def test_over_the_key_quota_names_the_pool_keys() -> None:
    raw = {
        "baseDomain": "example.com",
        "tiers": {**TIERS, "free": {**TIERS["free"], "poolKeys": 50}},
        "customers": [{"name": "a"}, {"name": "b", "tier": "free"}],
        "quotas": {"apiKeys": 50},
    }
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    assert str(error.value).startswith(
        "whitelabel-gateway:customers: needs 51 API keys (one per customer of a perTenant tier, 50 pool keys of"
        " pooled tiers), over the quota 'API keys per account per Region' of 50"
    )
    # Twice as many pooled tenants as a region has API keys: their tier's pool counts, not the tenants.
    many = usage(
        parse_settings(
            {
                "baseDomain": "example.com",
                "tenantDns": "wildcard",
                "tiers": TIERS,
                "customers": [{"name": f"t{i}", "tier": "free"} for i in range(20_000)],
            }
        )
    )
    assert many.api_keys == 3


# -- dev and prod ------------------------------------------------------------------------------------


def test_the_stack_files_have_no_pooled_tier_and_no_pool_key(dev: StackRun, prod: StackRun) -> None:
    for run in (dev, prod):
        assert not [r.name for r in run.resources if ".pool" in r.name or "pool." in r.name]
        for plan in run.of_type("aws:apigateway/usagePlan:UsagePlan"):
            assert plan.inputs["description"].endswith(": per-tenant throttle and quota")
        assert all("poolKey" not in entry for entry in run.outputs["tenants"].values())


# -- the component package ---------------------------------------------------------------------------


def test_tier_args_key_mode_and_pool_keys_map_to_the_config_keys() -> None:
    raw, _ = raw_config(
        {"tiers": {"free": {"rate_limit": 5, "burst_limit": 10, "key_mode": KeyMode.POOLED, "pool_keys": 2}}}
    )
    assert raw == {"tiers": {"free": {"rateLimit": 5, "burstLimit": 10, "keyMode": "pooled", "poolKeys": 2}}}
    settings = parse_settings({"baseDomain": "example.com", "defaultTier": "free", "customers": [], **raw})
    assert settings.tiers["free"].pool_size == 2


PLATFORM: dict[str, Any] = {
    "base_domain": "example.com",
    "name_prefix": "acme-prod",
    "rest_api_id": "api123",
    "stage_name": "prod",
    "usage_plan_ids": {"standard": "plan-std", "free": "plan-free"},
    "tiers": ["free", "standard"],
    "registry_table_name": "acme-prod-tenants",
    "wildcard_domain_name": "d-wild.execute-api.eu-west-1.amazonaws.com",
    "wildcard_domain_zone_id": "ZWILD",
    "tenant_dns": None,
}


def _tenant_set(tenants_: list[dict[str, Any]], **more: Any) -> Deployed:
    args = TenantSetArgs(**{**PLATFORM, "tenants": tenants_, **more})  # type: ignore[typeddict-item]
    args.pop("tenant_dns")  # type: ignore[misc]
    return deploy(lambda: TenantSet("more", args))


def test_a_tenant_set_makes_the_pool_of_its_pooled_tiers() -> None:
    deployed = _tenant_set([{"name": "initech", "tier": "free"}, {"name": "hooli"}], pooled_tiers={"free": 2.0})
    plan_keys = {k.name: k.inputs["usagePlanId"] for k in deployed.of_type("aws:apigateway/usagePlanKey:UsagePlanKey")}
    assert plan_keys == {
        "more-keys-pool.free.0-plan-key": "plan-free",
        "more-keys-pool.free.1-plan-key": "plan-free",
        "more-keys-hooli.standard-plan-key": "plan-std",
    }
    index = pool_index("initech", 2)
    assert resolve(deployed.value.tenants)["initech"]["poolKey"] == index
    key = deployed.named(f"more-keys-pool.free.{index}-api-key")
    assert key.inputs["name"] == f"acme-prod-free.pool-{index}"


@pytest.mark.parametrize(
    ("pooled_tiers", "message"),
    [
        ({"gold": 2}, "TenantSet more: pooled_tiers.gold: 'gold' is not one of tiers: free, standard"),
        ({"free": 0}, "TenantSet more: pooled_tiers.free: 0 must be the tier's poolKeys: 1 to 100"),
        ({"free": 2.5}, "TenantSet more: pooled_tiers.free: 2.5 must be the tier's poolKeys: 1 to 100"),
    ],
)
def test_a_tenant_set_refuses_bad_pooled_tiers(pooled_tiers: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as error:
        _tenant_set([{"name": "initech"}], pooled_tiers=pooled_tiers)
    assert str(error.value) == message


def test_the_schema_has_key_mode_pool_keys_and_pooled_tiers() -> None:
    from pathlib import Path

    schema = json.loads((Path(__file__).parent.parent / "plugin" / "schema.json").read_text())
    types = schema["types"]
    assert [e["value"] for e in types["whitelabel:index:KeyMode"]["enum"]] == ["perTenant", "pooled"]
    tier = types["whitelabel:index:TierArgs"]["properties"]
    assert tier["keyMode"]["$ref"] == "#/types/whitelabel:index:KeyMode"
    assert tier["poolKeys"]["type"] == "integer"
    tenant_set = schema["resources"]["whitelabel:index:TenantSet"]["inputProperties"]
    assert tenant_set["pooledTiers"]["additionalProperties"]["type"] == "integer"
