"""The tenant registry: hostnames per customer, the exact item per hostname, key names; the table and its items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import customers_config, shared_run
from tools.urns import AliasAwareMocks, Resolver, snapshot
from whitelabel import offline
from whitelabel.config import PROJECT, Settings, parse_settings
from whitelabel.offline import Registered, StackRun, run_program, stack_file_config
from whitelabel.tenancy import api_key_name, registry_item, tenant_hostnames, tenants


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


def test_tenants_carry_tier_or_default_suspension_and_sorted_hostnames() -> None:
    settings = parse_settings(
        {
            "baseDomain": "dev.example.com",
            "tiers": {"basic": {"rateLimit": 5, "burstLimit": 10}, "gold": {"rateLimit": 50, "burstLimit": 100}},
            "defaultTier": "basic",
            "customers": [
                {"name": "zeta", "tier": "gold", "suspended": True},
                {"name": "acme", "customDomain": "api.acme.com", "customDomainValidated": True},
            ],
        }
    )
    assert [(t.name, t.tier, t.status, t.hostnames) for t in tenants(settings)] == [
        ("acme", "basic", "active", ("acme.dev.example.com", "api.acme.com")),
        ("zeta", "gold", "suspended", ("zeta.dev.example.com",)),
    ]


def test_api_key_name_carries_prefix_and_customer() -> None:
    assert api_key_name("whitelabel-gateway-dev", "acme") == "whitelabel-gateway-dev-acme"
    assert api_key_name("shop-prod", "acme") != api_key_name("shop-dev", "acme")


# -- the table and what TenantKeys writes, from the real program -----------------------------------

# How the engine marks a secret value (pulumi.runtime.rpc: _special_sig_key → _special_secret_sig).
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"

TIERS = {
    "standard": {"rateLimit": 50, "burstLimit": 100},
    "gold": {"rateLimit": 500.5, "burstLimit": 1000, "quota": {"limit": 250000, "period": "WEEK"}},
}
CUSTOMERS = [
    {"name": "acme", "tier": "gold"},
    {"name": "globex", "dedicatedDomain": True, "suspended": True},
    {"name": "umbrella", "customDomain": "api.umbrella.com", "customDomainValidated": True},
    {"name": "initech", "customDomain": "api.initech.com"},
]


@pytest.fixture(scope="module")
def tiered() -> StackRun:
    return shared_run("dev", customers_config(CUSTOMERS, tiers=TIERS))


def _item(run: StackRun, hostname: str) -> dict[str, Any]:
    item = run.named(f"whitelabel-tenants-keys-{hostname}-item").inputs["item"]
    assert item[SECRET_SIG] == SECRET_SIG_VALUE, "the item carries the API key: it must be secret"
    return dict(json.loads(item["value"]))


def test_the_table_is_on_demand_encrypted_keyed_by_hostname_and_unprotected_in_dev(dev: StackRun) -> None:
    table = dev.named("whitelabel-registry-table")
    assert table.parent == dev.named("whitelabel-registry").urn
    assert table.inputs == {
        "name": "whitelabel-gateway-dev-tenants",
        "billingMode": "PAY_PER_REQUEST",
        "hashKey": "hostname",
        "attributes": [{"name": "hostname", "type": "S"}],
        "serverSideEncryption": {"enabled": True},
        "pointInTimeRecovery": {"enabled": False},
        "deletionProtectionEnabled": False,
    }
    assert dev.outputs["tenantRegistry"] == "whitelabel-gateway-dev-tenants"


def test_prod_protects_the_table_with_pitr_and_deletion_protection(prod: StackRun) -> None:
    table = prod.named("whitelabel-registry-table")
    assert table.inputs["name"] == "whitelabel-gateway-prod-tenants"
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
    assert table.inputs["deletionProtectionEnabled"] is True


def test_one_item_per_served_hostname_with_exact_attributes(tiered: StackRun) -> None:
    items = {r.name: r for r in tiered.of_type("aws:dynamodb/tableItem:TableItem")}
    assert sorted(items) == [
        "whitelabel-tenants-keys-acme.dev.example.com-item",
        "whitelabel-tenants-keys-api.umbrella.com-item",
        "whitelabel-tenants-keys-globex.dev.example.com-item",
        "whitelabel-tenants-keys-initech.dev.example.com-item",  # its own domain is not served yet: no item
        "whitelabel-tenants-keys-umbrella.dev.example.com-item",
    ]
    table = tiered.named("whitelabel-registry-table")
    keys = {k.name: k for k in tiered.of_type("aws:apigateway/apiKey:ApiKey")}
    for item in items.values():
        assert item.inputs["tableName"] == table.outputs["name"]
        assert item.inputs["hashKey"] == "hostname"
    acme_key = keys["whitelabel-tenants-keys-acme.gold-api-key"].outputs["value"]
    assert _item(tiered, "acme.dev.example.com") == registry_item(
        "acme.dev.example.com", "acme", "gold", False, acme_key
    )
    assert _item(tiered, "acme.dev.example.com")["apiKey"] == {"S": acme_key} and len(acme_key) == 40
    assert _item(tiered, "globex.dev.example.com")["status"] == {"S": "suspended"}
    umbrella_key = keys["whitelabel-tenants-keys-umbrella.standard-api-key"].outputs["value"]
    for hostname in ("umbrella.dev.example.com", "api.umbrella.com"):
        assert _item(tiered, hostname) == registry_item(hostname, "umbrella", "standard", False, umbrella_key)


def test_one_usage_plan_per_tier_on_the_stage_with_throttle_and_quota(tiered: StackRun) -> None:
    api = tiered.of_type("aws:apigateway/restApi:RestApi")[0]
    stage = tiered.of_type("aws:apigateway/stage:Stage")[0]
    plans = {p.name: p for p in tiered.of_type("aws:apigateway/usagePlan:UsagePlan")}
    assert sorted(plans) == ["whitelabel-gold-usage-plan", "whitelabel-standard-usage-plan"]
    gold, standard = plans["whitelabel-gold-usage-plan"], plans["whitelabel-standard-usage-plan"]
    for plan in (gold, standard):
        assert plan.inputs["apiStages"] == [{"apiId": api.id, "stage": "dev"}]
        # The stage name comes from the Stage resource: the plan is created after the stage exists.
        assert stage.urn in plan.dependencies
    assert gold.inputs["name"] == "whitelabel-gateway-dev-gold"
    assert gold.inputs["throttleSettings"] == {"rateLimit": 500.5, "burstLimit": 1000}
    assert gold.inputs["quotaSettings"] == {"limit": 250000, "period": "WEEK"}
    assert standard.inputs["throttleSettings"] == {"rateLimit": 50, "burstLimit": 100}
    assert "quotaSettings" not in standard.inputs


def test_keys_are_named_after_project_stack_and_customer_and_stay_enabled(tiered: StackRun) -> None:
    keys = {k.name: k.inputs for k in tiered.of_type("aws:apigateway/apiKey:ApiKey")}
    assert {name: inputs["name"] for name, inputs in keys.items()} == {
        f"whitelabel-tenants-keys-{c}.{t}-api-key": f"whitelabel-gateway-dev-{c}"
        for c, t in (("acme", "gold"), ("globex", "standard"), ("initech", "standard"), ("umbrella", "standard"))
    }
    # Suspended globex keeps an enabled key: suspension lives in the registry only.
    assert all(inputs["enabled"] is True for inputs in keys.values())


def test_name_prefix_replaces_the_project_in_key_plan_and_table_names() -> None:
    run = shared_run("dev", customers_config([{"name": "acme"}], namePrefix="shop"))
    assert run.named("whitelabel-tenants-keys-acme.standard-api-key").inputs["name"] == "shop-dev-acme"
    assert run.named("whitelabel-standard-usage-plan").inputs["name"] == "shop-dev-standard"
    assert run.named("whitelabel-registry-table").inputs["name"] == "shop-dev-tenants"


def test_each_plan_key_attaches_its_customers_key_to_its_tiers_plan(tiered: StackRun) -> None:
    plans = {
        p.name.removeprefix("whitelabel-").removesuffix("-usage-plan"): p.id
        for p in tiered.of_type("aws:apigateway/usagePlan:UsagePlan")
    }
    keys = {k.name: k.id for k in tiered.of_type("aws:apigateway/apiKey:ApiKey")}
    expected_tier = {"acme": "gold", "globex": "standard", "initech": "standard", "umbrella": "standard"}
    plan_keys = {k.name: k.inputs for k in tiered.of_type("aws:apigateway/usagePlanKey:UsagePlanKey")}
    assert sorted(plan_keys) == sorted(f"whitelabel-tenants-keys-{c}.{t}-plan-key" for c, t in expected_tier.items())
    for customer, tier in expected_tier.items():
        inputs = plan_keys[f"whitelabel-tenants-keys-{customer}.{tier}-plan-key"]
        assert inputs == {
            "keyId": keys[f"whitelabel-tenants-keys-{customer}.{tier}-api-key"],
            "keyType": "API_KEY",
            "usagePlanId": plans[tier],
        }


def test_tenants_output_lists_hostnames_tier_status_and_key_id_never_the_value(tiered: StackRun) -> None:
    keys = {k.name: k for k in tiered.of_type("aws:apigateway/apiKey:ApiKey")}
    assert tiered.outputs["tenants"] == {
        "acme": {
            "hostnames": ["acme.dev.example.com"],
            "tier": "gold",
            "status": "active",
            "apiKeyId": keys["whitelabel-tenants-keys-acme.gold-api-key"].id,
        },
        "globex": {
            "hostnames": ["globex.dev.example.com"],
            "tier": "standard",
            "status": "suspended",
            "apiKeyId": keys["whitelabel-tenants-keys-globex.standard-api-key"].id,
        },
        "initech": {
            "hostnames": ["initech.dev.example.com"],
            "tier": "standard",
            "status": "active",
            "apiKeyId": keys["whitelabel-tenants-keys-initech.standard-api-key"].id,
        },
        "umbrella": {
            "hostnames": ["api.umbrella.com", "umbrella.dev.example.com"],
            "tier": "standard",
            "status": "active",
            "apiKeyId": keys["whitelabel-tenants-keys-umbrella.standard-api-key"].id,
        },
    }
    values = [k.outputs["value"] for k in keys.values()]
    assert all(v and v not in json.dumps(tiered.outputs) for v in values)


def test_registry_and_keys_are_components_of_their_own(tiered: StackRun) -> None:
    keys = tiered.named("whitelabel-tenants-keys")
    assert keys.type == "whitelabel:tenant_keys:TenantKeys"
    assert tiered.named("whitelabel-registry").type == "whitelabel:tenant_registry:TenantRegistry"
    # The keys component holds what each tenant adds; the tiers' usage plans are the platform's (a TenantSet in
    # another stack joins them).
    owned = {r.type for r in tiered.children_of(keys)}
    assert owned == {
        "aws:apigateway/apiKey:ApiKey",
        "aws:apigateway/usagePlanKey:UsagePlanKey",
        "aws:dynamodb/tableItem:TableItem",
    }
    platform = tiered.named("whitelabel")
    assert platform.type == "whitelabel:index:WhiteLabelGateway"
    assert {p.parent for p in tiered.of_type("aws:apigateway/usagePlan:UsagePlan")} == {platform.urn}


def test_a_plan_key_is_deleted_before_its_replacement_is_created(monkeypatch: pytest.MonkeyPatch) -> None:
    # A key may sit in one usage plan per stage: when a plan key is replaced (its key or plan replaced, or an
    # upgrade that re-tiers in the same `pulumi up`) the old association must go first.
    requested: dict[str, bool] = {}
    register = offline.RecordingMonitor.RegisterResource

    def spy(self: offline.RecordingMonitor, request: Any) -> Any:
        requested[request.name] = request.deleteBeforeReplace
        return register(self, request)

    monkeypatch.setattr(offline.RecordingMonitor, "RegisterResource", spy)
    run_program("dev", customers_config([{"name": "acme"}]))
    assert requested["whitelabel-tenants-keys-acme.standard-plan-key"] is True
    # Nothing else needs it: the key, the item and the plans are updated in place or created beside.
    assert requested["whitelabel-tenants-keys-acme.standard-api-key"] is False
    assert requested["whitelabel-tenants-keys-acme.dev.example.com-item"] is False


# -- upgrading a stack deployed with one key per tenant ------------------------------------------------

# tests/data/tenant_keys_before.json: every child of `tenant-keys` in the committed dev and prod stacks as the
# mock engine registered them before keys were per tenant and tier (URN, id, inputs, the item's JSON, protect).
BEFORE = json.loads((Path(__file__).parent / "data" / "tenant_keys_before.json").read_text())


def _adopted(stack: str) -> tuple[StackRun, dict[str, list[Registered]]]:
    """The program run against the deployed state of tests/fixtures/urns-<stack>.json (06dc122, which holds every
    URN of BEFORE), and old URN → the new resources that take it over, resolved as the engine resolves aliases
    (tools/urns.py): the keys and items through the alias `whitelabel-tenants-keys` inherits from its own
    (`tenant-keys` at the top), the per-tier keys through their alias to the old per-tenant name, the usage plan
    through its URN alias."""
    state = json.loads((Path(__file__).parent / "fixtures" / f"urns-{stack}.json").read_text())
    olds = {r["urn"] for r in state["resources"]}
    assert set(BEFORE[stack]) <= olds
    config = stack_file_config(stack)
    # Answers an adopted resource under its old name, so ids and key values are the ones in the state.
    mocks = AliasAwareMocks(str(config.get("aws:region", "eu-west-1")), stack, olds)
    run = run_program(stack, config, mocks=mocks)
    resolver = Resolver(stack, olds)
    adopters: dict[str, list[Registered]] = {}
    for registered, new in zip(run.resources, snapshot(stack, config, run.resources)["resources"], strict=True):
        taken = resolver.register(new["urn"], new["type"], new["name"], new["parent"], new["aliases"])
        if taken is not None:
            adopters.setdefault(taken, []).append(registered)
    return run, adopters


OLD_KEYS = "whitelabel:tenant_keys:TenantKeys::tenant-keys"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_deployed_key_plan_key_plan_and_item_is_adopted_by_exactly_one_resource(stack: str) -> None:
    run, adopters = _adopted(stack)
    before: dict[str, dict[str, Any]] = BEFORE[stack]
    adopter = {}
    for urn in before:
        (found,) = adopters.get(urn, [])
        adopter[urn] = found
    keys = run.named("whitelabel-tenants-keys")
    # The old component itself is taken over by the one that holds the keys now.
    assert [
        r.urn for r in adopters[f"urn:pulumi:{stack}::{PROJECT}::whitelabel:tenant_keys:TenantKeys::tenant-keys"]
    ] == [keys.urn]
    # Nothing new either: the upgrade creates and deletes nothing under the keys component; the tier's usage plan
    # moved to the platform (WhiteLabelGateway `whitelabel`), still the same plan.
    moved = {r.urn for r in adopter.values() if r.type == "aws:apigateway/usagePlan:UsagePlan"}
    assert {r.urn for r in run.children_of(keys)} == {r.urn for r in adopter.values()} - moved
    assert {run.by_urn()[urn].parent for urn in moved} == {run.named("whitelabel").urn}
    by_old_id = {row["id"]: adopter[urn] for urn, row in before.items()}
    for urn, row in before.items():
        now, old = adopter[urn], row["inputs"]
        if now.type == "aws:apigateway/usagePlanKey:UsagePlanKey":
            # The same key in the same plan: no replacement, no moment outside the plan.
            assert now.inputs == {**old, "keyId": by_old_id[old["keyId"]].id}
            assert by_old_id[old["usagePlanId"]].id == old["usagePlanId"]
        elif now.type == "aws:dynamodb/tableItem:TableItem":
            # Same name below the renamed component: adopted through the inherited alias alone.
            assert now.name == "whitelabel-" + urn.rsplit("::", 1)[1].replace("tenant-keys-", "tenants-keys-", 1)
            item, was = _item(run, now.name.removeprefix("whitelabel-tenants-keys-").removesuffix("-item")), old["item"]
            # Same attributes (others may be added), and the value of the key that adopted the tenant's key.
            assert {k: item[k] for k in was if k != "apiKey"} == {k: v for k, v in was.items() if k != "apiKey"}
            tenant_key = f"{urn.split('$')[0]}$aws:apigateway/apiKey:ApiKey::tenant-keys-{was['tenantId']['S']}-api-key"
            assert item["apiKey"] == {"S": adopter[tenant_key].outputs["value"]}
        else:
            # API keys keep name, description and enabled (so AWS keeps the key and its value); plans are untouched.
            assert now.inputs == old
        # Prod now protects plan keys too (whitelabel/protection.py); nothing else changes its protection.
        assert now.protect == (row["protect"] or (stack == "prod" and "usagePlanKey" in now.type))


def test_without_the_inherited_alias_the_old_keys_would_be_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    # The adoption above rests on the keys component's alias: dropped, no old key, plan key or item is claimed.
    import components.tenant_set as tenant_set

    monkeypatch.setattr(tenant_set, "legacy_alias", lambda adopt, old_name: None)
    _, adopters = _adopted("dev")
    lost = [urn for urn in BEFORE["dev"] if urn not in adopters]
    assert lost and all("UsagePlan::" not in urn for urn in lost)
    assert {urn.rsplit("::", 1)[1] for urn in lost} >= {
        "tenant-keys-acme-api-key",
        "tenant-keys-acme.dev.example.com-item",
    }


# -- mutual TLS: the items of an mTLS customer carry its accepted certificates ----------------------------
STARK_CA = "CN=Stark Client CA,O=Stark Industries,C=US"
STARK_SUBJECT = "CN=billing.stark.example,O=Stark Industries,C=US"
MTLS_CUSTOMERS: list[dict[str, Any]] = [
    {"name": "acme"},
    {
        "name": "stark",
        "dedicatedDomain": True,
        "customDomain": "api.stark.test",
        "customDomainValidated": True,
        "mtlsTruststore": "s3://stark-trust/ca.pem",
        "mtlsIssuers": [STARK_CA],
        "mtlsSubjects": [STARK_SUBJECT],
    },
]


def test_registry_item_records_mtls_only_when_required() -> None:
    plain = registry_item("acme.dev.example.com", "acme", "gold", False, "k3y")
    required = registry_item("stark.dev.example.com", "stark", "gold", False, "k3y", mtls_issuers=(STARK_CA,))
    assert "mtlsIssuers" not in plain and "mtlsSubjects" not in plain
    assert required["mtlsIssuers"] == {"L": [{"S": STARK_CA}]}
    assert "mtlsSubjects" not in required


def test_every_hostname_of_an_mtls_customer_requires_its_certificate_and_no_other_item_changes() -> None:
    run = shared_run("dev", customers_config(MTLS_CUSTOMERS, tlsPolicy="TLS_1_2", authorizer={"cacheTtlSeconds": 0}))
    keys = {k.name: k.outputs["value"] for k in run.of_type("aws:apigateway/apiKey:ApiKey")}
    for hostname in ("stark.dev.example.com", "api.stark.test"):
        item = _item(run, hostname)
        assert item["mtlsIssuers"] == {"L": [{"S": STARK_CA}]}
        assert item["mtlsSubjects"] == {"L": [{"S": STARK_SUBJECT}]}
    # acme has no truststore: its item is the five attributes it always had, byte for byte.
    acme = run.named("whitelabel-tenants-keys-acme.dev.example.com-item").inputs["item"]["value"]
    expected = registry_item(
        "acme.dev.example.com", "acme", "standard", False, keys["whitelabel-tenants-keys-acme.standard-api-key"]
    )
    assert acme == json.dumps(expected, sort_keys=True)
