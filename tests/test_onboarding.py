"""Onboarding at scale: isolation at 1, 10 and 100 customers, quotas, bring-your-own domains."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from tests.conftest import customers_config, name_diff, shared_run
from whitelabel.config import DEFAULT_TLS_POLICY, ConfigError, parse_settings
from whitelabel.offline import AwsMocks, StackRun, run_program
from whitelabel.quotas import usage

# How the engine marks a secret value (pulumi.runtime.rpc: _special_sig_key → _special_secret_sig).
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def _customers(count: int) -> list[dict[str, Any]]:
    # Every seventh customer is dedicated, so both kinds are in every stack of more than a few.
    return [{"name": f"c{i:04d}", **({"dedicatedDomain": True} if i % 7 == 3 else {})} for i in range(count)]


def _secret(value: Any) -> str:
    """The plain text of a secret input as the mock engine records it (the secret signature and its value)."""
    assert value[SECRET_SIG] == SECRET_SIG_VALUE, "expected a secret"
    return str(value["value"])


# Two tiers, so a tier change is possible in every stack; every customer starts on the default.
TIERS = {
    "standard": {"rateLimit": 50, "burstLimit": 100},
    "gold": {"rateLimit": 500, "burstLimit": 1000, "quota": {"limit": 1000000, "period": "MONTH"}},
}


def _run(customers: list[dict[str, Any]], **keys: Any) -> StackRun:
    # Shared: a tier change's run is also the second `up` after a previousTier one.
    return shared_run("dev", customers_config(customers, tiers=TIERS, **keys))


def _keys(customer: str, tier: str = "standard") -> list[str]:
    """The API key and plan key of one customer in one tier."""
    return [f"whitelabel-tenants-keys-{customer}.{tier}-api-key", f"whitelabel-tenants-keys-{customer}.{tier}-plan-key"]


def _own(customer: str, hostname: str | None = None) -> list[str]:
    """The tenant resources one shared customer has: API key, plan key, registry item(s)."""
    return [*_keys(customer), f"whitelabel-tenants-keys-{hostname or customer + '.dev.example.com'}-item"]


@pytest.fixture(scope="module", params=[1, 10, 100], ids=lambda n: f"{n}-customers")
def stack(request: pytest.FixtureRequest) -> tuple[list[dict[str, Any]], StackRun]:
    customers = _customers(request.param)
    return customers, _run(customers)


@pytest.fixture(scope="module")
def with_newco(stack: tuple[list, StackRun]) -> StackRun:
    customers, _ = stack
    return _run([*customers, {"name": "newco"}])


def test_adding_a_shared_customer_creates_only_its_record_key_plan_key_and_item(
    stack: tuple[list, StackRun], with_newco: StackRun
) -> None:
    _, before = stack
    assert name_diff(before, with_newco) == (sorted([*_own("newco"), "whitelabel-tenants-domains-newco-a"]), [], [])


def test_adding_a_dual_stack_shared_customer_creates_two_records() -> None:
    # The record count per customer does not depend on the stack's size: one size is enough here.
    customers = _customers(10)
    before = _run(customers, dualStack=True)
    after = _run([*customers, {"name": "newco"}], dualStack=True)
    assert name_diff(before, after) == (
        sorted([*_own("newco"), "whitelabel-tenants-domains-newco-a", "whitelabel-tenants-domains-newco-aaaa"]),
        [],
        [],
    )


def test_adding_a_dedicated_customer_creates_only_its_domain_mapping_records_and_keys(
    stack: tuple[list, StackRun],
) -> None:
    customers, before = stack
    after = _run([*customers, {"name": "newco", "dedicatedDomain": True}])
    expected = [
        *_own("newco"),
        "whitelabel-tenants-domains-newco-a",
        "whitelabel-tenants-domains-newco-domain",
        "whitelabel-tenants-domains-newco-mapping",
    ]
    assert name_diff(before, after) == (sorted(expected), [], [])


def test_removing_a_customer_deletes_only_its_own_resources(stack: tuple[list, StackRun]) -> None:
    customers, before = stack
    after = _run(customers[1:])
    assert name_diff(before, after) == ([], sorted([*_own("c0000"), "whitelabel-tenants-domains-c0000-a"]), [])


def test_reordering_the_list_changes_nothing(stack: tuple[list, StackRun]) -> None:
    customers, before = stack
    after = _run(list(reversed(customers)))
    assert name_diff(before, after) == ([], [], [])


def test_onboarding_creates_no_custom_domain_and_no_usage_plan(
    with_newco: StackRun, stack: tuple[list, StackRun]
) -> None:
    # CreateDomainName (one call per 30 s per account) and usage plans (300 per account) stay untouched:
    # a shared customer costs a record, a key, its plan key and its registry item.
    _, before = stack
    added, _, changed = name_diff(before, with_newco)
    touched = {r.type for r in with_newco.resources if r.name in added + changed}
    assert touched == {
        "aws:route53/record:Record",
        "aws:apigateway/apiKey:ApiKey",
        "aws:apigateway/usagePlanKey:UsagePlanKey",
        "aws:dynamodb/tableItem:TableItem",
    }


def test_a_tier_change_creates_the_new_tiers_key_first_and_switches_its_item(stack: tuple[list, StackRun]) -> None:
    customers, before = stack
    after = _run([{**customers[0], "tier": "gold"}, *customers[1:]])
    # Created: the gold key and plan key. Updated: the item (its key and tier). Gone from the program, so Pulumi
    # deletes them after every create and update: the standard key and plan key.
    item_name = "whitelabel-tenants-keys-c0000.dev.example.com-item"
    assert name_diff(before, after) == (_keys("c0000", "gold"), _keys("c0000", "standard"), [item_name])
    key, plan_key = (after.named(n) for n in _keys("c0000", "gold"))
    item = after.named(item_name)
    assert json.loads(_secret(item.inputs["item"]))["apiKey"] == {"S": key.outputs["value"]}
    assert json.loads(_secret(item.inputs["item"]))["tier"] == {"S": "gold"}
    # The item is written only once the new key is in the gold plan: no allowed request meets an unmetered key.
    assert plan_key.urn in item.dependencies and key.urn in plan_key.dependencies
    assert after.named("whitelabel-gold-usage-plan").urn in plan_key.dependencies
    assert plan_key.inputs["usagePlanId"] == after.named("whitelabel-gold-usage-plan").id


def test_previous_tier_keeps_the_old_key_metered_until_a_later_up_drops_it(stack: tuple[list, StackRun]) -> None:
    customers, before = stack
    leaving = _run([{**customers[0], "tier": "gold", "previousTier": "standard"}, *customers[1:]])
    # First `pulumi up`: nothing is deleted; the standard key stays in the standard plan, unchanged, for the
    # decisions the authorizer cached with it.
    item_name = "whitelabel-tenants-keys-c0000.dev.example.com-item"
    assert name_diff(before, leaving) == (_keys("c0000", "gold"), [], [item_name])
    old_plan_key = leaving.named("whitelabel-tenants-keys-c0000.standard-plan-key")
    assert old_plan_key.inputs["usagePlanId"] == leaving.named("whitelabel-standard-usage-plan").id
    key = leaving.named("whitelabel-tenants-keys-c0000.gold-api-key")
    assert json.loads(_secret(leaving.named(item_name).inputs["item"]))["apiKey"] == {"S": key.outputs["value"]}
    # Second `pulumi up`, previousTier removed: only the old key and plan key go; the item is not touched again.
    done = _run([{**customers[0], "tier": "gold"}, *customers[1:]])
    assert name_diff(leaving, done) == ([], _keys("c0000", "standard"), [])


def _deletion_order(run: StackRun, names: list[str]) -> list[list[str]]:
    """The order Pulumi deletes these resources of `run` in, when the program drops them: batches, each after
    every resource that depends on its members is gone (the engine's ScheduleDeletes: dependents first)."""
    urns = {run.named(n).urn: n for n in names}
    left, batches = set(urns), []
    while left:
        batch = {u for u in left if not any(u in run.by_urn()[o].dependencies for o in left if o != u)}
        assert batch, "a dependency cycle"
        batches.append(sorted(urns[u] for u in batch))
        left -= batch
    return batches


def test_removing_a_customer_deletes_its_host_before_its_plan_key_before_its_key(
    stack: tuple[list, StackRun],
) -> None:
    _, before = stack
    names = ["whitelabel-tenants-keys-c0000.dev.example.com-item", *reversed(_keys("c0000"))]
    assert _deletion_order(before, names) == [[n] for n in names]


def test_onboarding_writes_the_item_after_its_key_is_in_its_tiers_plan(with_newco: StackRun) -> None:
    key, plan_key = (with_newco.named(n) for n in _keys("newco"))
    item = with_newco.named("whitelabel-tenants-keys-newco.dev.example.com-item")
    assert {key.urn, plan_key.urn} <= set(item.dependencies)
    assert {key.urn, with_newco.named("whitelabel-standard-usage-plan").urn} <= set(plan_key.dependencies)


def test_suspending_changes_only_its_registry_items(stack: tuple[list, StackRun]) -> None:
    customers, before = stack
    after = _run([{**customers[0], "suspended": True}, *customers[1:]])
    assert name_diff(before, after) == ([], [], ["whitelabel-tenants-keys-c0000.dev.example.com-item"])
    item = json.loads(_secret(after.named("whitelabel-tenants-keys-c0000.dev.example.com-item").inputs["item"]))
    assert item["status"] == {"S": "suspended"}
    # The key stays enabled and in its plan: resuming is the same one flag.
    assert after.named("whitelabel-tenants-keys-c0000.standard-api-key").inputs["enabled"] is True


def test_wildcard_dns_onboarding_creates_only_key_plan_key_and_item(stack: tuple[list, StackRun]) -> None:
    customers, _ = stack
    before = _run(customers, tenantDns="wildcard")
    after = _run([*customers, {"name": "newco"}], tenantDns="wildcard")
    assert name_diff(before, after) == (sorted(_own("newco")), [], [])
    # No Route 53 record per shared customer: the one `*.` record (and the dedicated customers') only.
    names = sorted(r.inputs["name"] for r in after.of_type("aws:route53/record:Record") if r.inputs["type"] == "A")
    dedicated = sorted(f"{c['name']}.dev.example.com" for c in customers if c.get("dedicatedDomain"))
    assert names == sorted(["*.dev.example.com", *dedicated])


# -- quotas ------------------------------------------------------------------------------------------


def test_the_custom_domain_quota_counts_wildcard_dedicated_and_own_domains() -> None:
    settings = parse_settings(
        {
            "baseDomain": "example.com",
            "customers": [
                {"name": "a", "dedicatedDomain": True},
                {"name": "b", "customDomain": "api.b.com", "customDomainValidated": True},
                {"name": "c", "customDomain": "api.c.com"},
            ],
        }
    )
    used = usage(settings)
    assert (used.custom_domains, used.certificates) == (3, 3)
    # SOA + NS, one validation record, three customer records, one cname handoff record.
    assert used.records == 2 + 1 + 3 + 1


def test_more_dedicated_domains_than_the_quota_is_refused_with_how_to_raise_it() -> None:
    raw = {"baseDomain": "example.com", "customers": [{"name": f"c{i}", "dedicatedDomain": True} for i in range(120)]}
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    message = str(caught.value)
    assert "needs 121 API Gateway custom domain names" in message
    assert "'Custom domain names per account per Region' of 120" in message
    assert "Service Quotas" in message and "quotas.customDomains" in message
    assert len(parse_settings({**raw, "quotas": {"customDomains": 200}}).customers) == 120


def test_more_records_than_the_zone_quota_is_refused() -> None:
    raw = {"baseDomain": "example.com", "customers": [{"name": f"c{i}"} for i in range(40)], "dualStack": True}
    with pytest.raises(ConfigError, match=r"needs 83 records in hosted zone 'example.com'.* of 50;.*recordsPerZone"):
        parse_settings({**raw, "quotas": {"recordsPerZone": 50}})
    assert parse_settings({**raw, "quotas": {"recordsPerZone": 83}})


def test_more_certificates_than_the_acm_quota_is_refused() -> None:
    raw = {
        "baseDomain": "example.com",
        "customers": [{"name": f"c{i}", "customDomain": f"api.c{i}.com"} for i in range(3)],
    }
    with pytest.raises(ConfigError, match=r"needs 4 ACM certificates.*'Number of ACM certificates' of 3"):
        parse_settings({**raw, "quotas": {"certificates": 3}})


def test_certificate_names_longer_than_acm_allows_are_refused() -> None:
    long_base = "a" * 60 + ".com"
    with pytest.raises(ConfigError, match=r"^whitelabel-gateway:baseDomain: the certificate name '\*\.a+\.com' is 66"):
        parse_settings({"baseDomain": long_base, "customers": []})
    with pytest.raises(ConfigError, match=r"customers\[0\]\.customDomain: .* is 67 characters"):
        parse_settings({"baseDomain": "example.com", "customers": [{"name": "a", "customDomain": "x" * 63 + ".com"}]})


def test_a_config_over_quota_stops_the_program_before_any_resource() -> None:
    mocks = AwsMocks("eu-west-1")
    customers = [{"name": f"c{i}", "dedicatedDomain": True} for i in range(3)]
    with pytest.raises(pulumi.RunError, match=r"quotas\.customDomains"):
        run_program("dev", customers_config(customers, quotas={"customDomains": 3}), mocks=mocks)
    assert mocks.registered == []


# -- bring your own domain ---------------------------------------------------------------------------

OWN = {"name": "umbrella", "customDomain": "api.umbrella.com"}


@pytest.fixture(scope="module")
def phase1() -> StackRun:
    return shared_run("dev", customers_config([{"name": "acme"}, OWN]))


@pytest.fixture(scope="module")
def phase2() -> StackRun:
    return shared_run("dev", customers_config([{"name": "acme"}, {**OWN, "customDomainValidated": True}]))


def test_phase1_requests_the_certificate_and_hands_off_records_without_a_domain(phase1: StackRun) -> None:
    certificate = phase1.named("whitelabel-tenants-domains-umbrella-own-certificate")
    assert certificate.inputs["domainName"] == "api.umbrella.com"
    assert certificate.inputs["validationMethod"] == "DNS"
    domains = [d.inputs["domainName"] for d in phase1.of_type("aws:apigateway/domainName:DomainName")]
    assert "api.umbrella.com" not in domains
    # Nothing waits on DNS we do not control: no validation resource for the customer's certificate.
    assert [v.name for v in phase1.of_type("aws:acm/certificateValidation:CertificateValidation")] == [
        "whitelabel-certificate-validation"
    ]
    option = certificate.outputs["domainValidationOptions"][0]
    assert phase1.outputs["customDomainHandoff"] == {
        "umbrella": {
            "domain": "api.umbrella.com",
            "status": "awaiting-validation",
            "validationRecords": [
                {"name": option["resourceRecordName"], "type": "CNAME", "value": option["resourceRecordValue"]}
            ],
            "pointAt": "umbrella.cname.dev.example.com",
            "pointAtTarget": None,
        }
    }
    # The customer keeps its subdomain on the shared domain meanwhile.
    assert phase1.outputs["customerEndpoints"]["umbrella"] == "https://umbrella.dev.example.com"


def test_phase2_creates_the_validation_domain_mapping_and_the_handoff_record(phase2: StackRun) -> None:
    certificate = phase2.named("whitelabel-tenants-domains-umbrella-own-certificate")
    validation = phase2.named("whitelabel-tenants-domains-umbrella-own-validation")
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    assert not validation.inputs.get("validationRecordFqdns")
    domain = phase2.named("whitelabel-tenants-domains-umbrella-own-domain")
    assert domain.inputs["domainName"] == "api.umbrella.com"
    assert domain.inputs["regionalCertificateArn"] == validation.outputs["certificateArn"]
    assert domain.inputs["securityPolicy"] == DEFAULT_TLS_POLICY
    assert domain.inputs["endpointAccessMode"] == "STRICT"
    mapping = phase2.named("whitelabel-tenants-domains-umbrella-own-mapping")
    assert mapping.inputs["domainName"] == "api.umbrella.com" and mapping.inputs["stageName"] == "dev"
    record = phase2.named("whitelabel-tenants-domains-umbrella-own-a")
    assert record.inputs["name"] == "umbrella.cname.dev.example.com"
    assert record.inputs["aliases"][0]["name"] == domain.outputs["regionalDomainName"]
    handoff = phase2.outputs["customDomainHandoff"]["umbrella"]
    assert handoff["status"] == "validated"
    assert handoff["pointAtTarget"] == domain.outputs["regionalDomainName"]


def test_moving_to_phase2_only_adds_the_customers_domain_resources(phase1: StackRun, phase2: StackRun) -> None:
    # The own domain is served from phase 2 on, so its registry item appears with the domain.
    assert name_diff(phase1, phase2) == (
        sorted(
            [
                "whitelabel-tenants-keys-api.umbrella.com-item",
                "whitelabel-tenants-domains-umbrella-own-a",
                "whitelabel-tenants-domains-umbrella-own-domain",
                "whitelabel-tenants-domains-umbrella-own-mapping",
                "whitelabel-tenants-domains-umbrella-own-validation",
            ]
        ),
        [],
        [],
    )


def test_adding_an_own_domain_customer_costs_one_certificate_first(phase1: StackRun) -> None:
    before = shared_run("dev", customers_config([{"name": "acme"}]))
    assert name_diff(before, phase1) == (
        sorted(
            [
                *_own("umbrella"),
                "whitelabel-tenants-domains-umbrella-a",
                "whitelabel-tenants-domains-umbrella-own-certificate",
            ]
        ),
        [],
        [],
    )


# -- previousTier: config and quota ------------------------------------------------------------------


def test_the_api_key_quota_counts_the_second_key_of_a_customer_leaving_a_tier() -> None:
    raw = {
        "baseDomain": "example.com",
        "tiers": TIERS,
        "customers": [{"name": "a", "tier": "gold", "previousTier": "standard"}, {"name": "b"}],
    }
    assert usage(parse_settings(raw)).api_keys == 3
    with pytest.raises(ConfigError, match=r"needs 3 API keys \(one per customer, 1 more for previousTier\)"):
        parse_settings({**raw, "quotas": {"apiKeys": 2}})


@pytest.mark.parametrize(
    ("customer", "rule"),
    [
        (
            {"name": "a", "tier": "gold", "previousTier": "bronze"},
            "^whitelabel-gateway:customers\\[0\\]\\.previousTier: 'bronze' is not a configured tier: one of gold,",
        ),
        (
            {"name": "a", "previousTier": "standard"},
            "^whitelabel-gateway:customers\\[0\\]\\.previousTier: 'standard' is the customer's tier: name the tier",
        ),
    ],
)
def test_previous_tier_must_be_another_configured_tier(customer: dict[str, Any], rule: str) -> None:
    with pytest.raises(ConfigError, match=rule):
        parse_settings({"baseDomain": "example.com", "tiers": TIERS, "customers": [customer]})
