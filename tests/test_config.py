"""Every config rule, valid and invalid: one line naming key, entry and rule, before any resource."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest

from tests.conftest import customers_config, inputs_by_urn, shared_run
from whitelabel.config import (
    AWS_CONFIG_KEYS,
    ConfigError,
    check_provider_keys,
    check_stack_name,
    customer_entries,
    parse_settings,
    read_raw_config,
    resource_prefix,
)
from whitelabel.offline import ROOT, AwsMocks, StackFileError, engine_config, run_program, stack_file_config

BASE = {"baseDomain": "example.com", "customers": [{"name": "acme"}]}


def with_(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


def test_committed_stack_files_are_valid() -> None:
    for stack in ("dev", "prod"):
        raw = read_raw_config(engine_config(stack_file_config(stack)))
        settings = parse_settings(raw)
        assert settings.customers, stack


def test_defaults_keep_a_stack_file_short() -> None:
    settings = parse_settings(BASE)
    assert settings.hosted_zone == "example.com"
    customer = settings.customers[0]
    assert (customer.subdomain, customer.dedicated_domain, customer.custom_domain) == ("acme", False, None)
    assert settings.network.nat_gateways == 1 and settings.network.availability_zones == 2
    assert settings.service1.cpu == 256 and settings.service1.memory == 512
    assert settings.log_retention_days == 14
    assert settings.quotas.custom_domains == 120 and settings.quotas.records_per_zone == 10_000


def test_customer_list_may_be_empty() -> None:
    assert parse_settings(with_(customers=[])).customers == []


def test_subdomain_defaults_to_name_and_can_differ() -> None:
    settings = parse_settings(with_(customers=[{"name": "initech", "subdomain": "initech-portal"}]))
    assert settings.fqdn(settings.customers[0]) == "initech-portal.example.com"


def test_cli_strings_for_booleans_are_accepted() -> None:
    # `pulumi config set --path 'customers[0].dedicatedDomain' true` stores the string "true".
    settings = parse_settings(with_(customers=[{"name": "acme", "dedicatedDomain": "true"}]))
    assert settings.customers[0].dedicated_domain is True


def test_hosted_zone_may_be_a_parent_of_the_base_domain() -> None:
    settings = parse_settings(with_(baseDomain="dev.example.com", hostedZone="example.com"))
    assert settings.hosted_zone == "example.com"


INVALID = [
    ({"customers": []}, "baseDomain", "is required"),
    (with_(baseDomain="Example.com"), "baseDomain", "lowercase DNS name"),
    (with_(baseDomain="localhost"), "baseDomain", "lowercase DNS name"),
    (with_(hostedZone="other.org"), "hostedZone", "must be baseDomain"),
    ({"baseDomain": "example.com"}, "customers", "is required"),
    (with_(customers="acme"), "customers", "must be a mapping from customer name to its keys, or a list"),
    (with_(customers={"name": "acme"}), "customers.name", "must be a mapping of the customer's keys"),
    (with_(customers=[{"name": "acme"}, "globex"]), "customers[1]", "must be a mapping"),
    (with_(customers=[{"subdomain": "acme"}]), "customers[0].name", "is required"),
    (with_(customers=[{"name": "Acme"}]), "customers[0].name", "lowercase DNS label"),
    (with_(customers=[{"name": "-acme"}]), "customers[0].name", "lowercase DNS label"),
    (with_(customers=[{"name": "acme-"}]), "customers[0].name", "lowercase DNS label"),
    (with_(customers=[{"name": "a" * 64}]), "customers[0].name", "lowercase DNS label"),
    (with_(customers=[{"name": "ac_me"}]), "customers[0].name", "lowercase DNS label"),
    (with_(customers=[{"name": ""}]), "customers[0].name", "lowercase DNS label"),
    (with_(customers=[{"name": "acme"}, {"name": "acme"}]), "customers[1].name", "already used by customers[0]"),
    (with_(customers=[{"name": "acme", "subdomain": "a.b"}]), "customers[0].subdomain", "lowercase DNS label"),
    (
        with_(customers=[{"name": "acme"}, {"name": "globex", "subdomain": "acme"}]),
        "customers[1].subdomain",
        "already used by customers[0]",
    ),
    (with_(customers=[{"name": "www"}]), "customers[0].name", "reserved by the platform"),
    (with_(customers=[{"name": "wildcard", "subdomain": "wild"}]), "customers[0].name", "is reserved"),
    (with_(customers=[{"name": "acme", "subdomain": "api"}]), "customers[0].subdomain", "reserved by the platform"),
    (with_(customers=[{"name": "acme", "subdomain": "status"}]), "customers[0].subdomain", "reserved"),
    (
        with_(customers=[{"name": "acme", "dedicatedDomain": "yes"}]),
        "customers[0].dedicatedDomain",
        "must be true or false (not 'yes')",
    ),
    (with_(customers=[{"name": "acme", "dedicated": True}]), "customers[0].dedicated", "not a known key"),
    (
        with_(
            customers=[
                {
                    "name": "acme",
                    "dedicatedDomain": True,
                    "mtlsTruststore": "s3://trust/ca.pem",
                    "mtlsIssuers": ["CN=Acme CA"],
                }
            ]
        ),
        "customers[0].mtlsTruststore",
        "needs tlsPolicy TLS_1_2: AWS allows mutual TLS only on TLS_1_2 domains",
    ),
    (with_(customers=[{"name": "acme", "subdomian": "x"}]), "customers[0].subdomian", "not a known key"),
    (with_(customers=[{"name": "acme", "customDomain": "API.x.com"}]), "customers[0].customDomain", "DNS name"),
    (
        with_(customers=[{"name": "acme", "customDomain": "api.example.com"}]),
        "customers[0].customDomain",
        "inside baseDomain",
    ),
    (
        with_(customers=[{"name": "acme", "customDomainValidated": True}]),
        "customers[0].customDomainValidated",
        "customDomain is not",
    ),
    (with_(baseDmain="x.com"), "baseDmain", "not a known key"),
    (with_(logRetentionDays=10), "logRetentionDays", "retention period"),
    (with_(network={"natGateways": 3}), "network.natGateways", "3 must not exceed availabilityZones (2)"),
    (with_(network={"cidr": "10.0.0.0/8"}), "network.cidr", "prefix between /16 and /20"),
    (with_(network={"cidr": "banana"}), "network.cidr", "IPv4 CIDR"),
    (with_(network={"availabilityZones": 1}), "network.availabilityZones", "must be at least 2 (not 1)"),
    (with_(service1={"cpu": 256, "memory": 4096}), "service1.memory", "4096 does not fit cpu 256"),
    (with_(service1={"cpu": 300}), "service1.cpu", "300 is not a Fargate size"),
    (with_(service1={"image": "x", "prot": 80}), "service1.prot", "not a known key"),
    (with_(service2={"minSize": 3, "maxSize": 2}), "service2.minSize", "3 must not exceed maxSize (2)"),
    (with_(service2={"desiredCapacity": 9}), "service2.desiredCapacity", "9 must lie between minSize (1)"),
    (with_(throttle={"rateLimit": 0}), "throttle.rateLimit", "must be greater than 0 (not 0)"),
    (with_(quotas={"customDomains": 0}), "quotas.customDomains", "must be at least 1 (not 0)"),
    (with_(manageAccountLogging="maybe"), "manageAccountLogging", "must be true or false (not 'maybe')"),
    (with_(protectResources=1), "protectResources", "must be true or false (not 1)"),
    (with_(namePrefix="Acme"), "namePrefix", "lowercase DNS label of at most 24"),
    (with_(namePrefix="a" * 25), "namePrefix", "at most 24"),
    (with_(namePrefix="-acme"), "namePrefix", "lowercase DNS label"),
    (with_(tenantDns="perTenant"), "tenantDns", "must be 'perCustomer' or 'wildcard' (not 'perTenant')"),
    (with_(tiers={"Gold": {"rateLimit": 1, "burstLimit": 1}}), "tiers.Gold", "must be a tier name"),
    (with_(tiers={"gold": {"rateLimit": 1, "burstLimit": 1}}), "defaultTier", "one of gold"),
    (with_(tiers={}), "tiers", "at least one tier"),
    (with_(tiers={"gold": {"rateLimit": 0, "burstLimit": 1}}), "tiers.gold.rateLimit", "must be greater than 0"),
    (with_(tiers={"gold": {"rateLimit": 1, "burstLimit": -1}}), "tiers.gold.burstLimit", "must be at least 0 (not -1)"),
    (with_(tiers={"gold": {"rateLimit": 1}}), "tiers.gold.burstLimit", "is required"),
    (with_(tiers={"gold": {"rateLimit": 1, "burstLimit": 1, "qouta": {}}}), "tiers.gold.qouta", "not a known"),
    (
        with_(tiers={"standard": {"rateLimit": 1, "burstLimit": 1, "quota": {"limit": 0, "period": "DAY"}}}),
        "tiers.standard.quota.limit",
        "must be at least 1 (not 0)",
    ),
    (
        with_(tiers={"standard": {"rateLimit": 1, "burstLimit": 1, "quota": {"limit": 5, "period": "YEAR"}}}),
        "tiers.standard.quota.period",
        "must be 'DAY', 'WEEK' or 'MONTH' (not 'YEAR')",
    ),
    (with_(defaultTier="gold"), "defaultTier", "is not a configured tier: one of standard"),
    (with_(customers=[{"name": "acme", "tier": "gold"}]), "customers[0].tier", "not a configured tier: one of"),
    (with_(customers=[{"name": "acme", "tier": "Gold"}]), "customers[0].tier", "must be a tier name"),
    (
        with_(customers=[{"name": "acme", "suspended": "yes"}]),
        "customers[0].suspended",
        "must be true or false (not 'yes')",
    ),
    (with_(authorizer={"cacheTtlSeconds": 3601}), "authorizer.cacheTtlSeconds", "must be at most 3600 (not 3601)"),
    (with_(authorizer={"cacheTtlSeconds": -1}), "authorizer.cacheTtlSeconds", "must be at least 0 (not -1)"),
    (with_(authorizer={"registryCacheSeconds": 301}), "authorizer.registryCacheSeconds", "must be at most 300"),
    (with_(quotas={"apiKeys": 10_001}), "quotas.apiKeys", "AWS does not raise"),
    (with_(quotas={"apiKeys": 0}), "quotas.apiKeys", "must be at least 1 (not 0)"),
    (with_(quotas={"usagePlans": 0}), "quotas.usagePlans", "must be at least 1 (not 0)"),
    (with_(network={"zoneIds": ["euw1-az1", "eu-west-1a"]}), "network.zoneIds", "'eu-west-1a' is not an"),
    (with_(network={"zoneIds": ["euw1-az1", "euw1-az1"]}), "network.zoneIds", "euw1-az1 listed more than once"),
    (
        with_(network={"zoneIds": ["euw1-az1", "euw1-az2", "euw1-az3"]}),
        "network.zoneIds",
        "lists 3 zones but availabilityZones is 2",
    ),
]


@pytest.mark.parametrize(("raw", "key", "rule"), INVALID, ids=[f"{k}:{r}" for _, k, r in INVALID])
def test_each_broken_rule_names_key_entry_and_rule(raw: dict[str, Any], key: str, rule: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    message = str(caught.value)
    assert caught.value.key == key
    assert message.startswith(f"whitelabel-gateway:{key}: ")
    assert rule in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("customers", "expected"),
    [
        ([{"name": "acme"}, {"name": "Bad Name"}], "whitelabel-gateway:customers[1].name: 'Bad Name' must be"),
        ([{"name": "acme", "dedicatedDomian": True}], "whitelabel-gateway:customers[0].dedicatedDomian: is not"),
        ("acme", "whitelabel-gateway:customers: must be a mapping from customer name to its keys, or a list"),
        (
            [
                {
                    "name": "acme",
                    "dedicatedDomain": True,
                    "mtlsTruststore": "s3://trust/ca.pem",
                    "mtlsIssuers": ["CN=Acme CA"],
                }
            ],
            "whitelabel-gateway:customers[0].mtlsTruststore: needs tlsPolicy TLS_1_2: AWS allows mutual TLS only on"
            " TLS_1_2 domains, and the API's policy (now 'SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09') negotiates",
        ),
    ],
)
def test_bad_config_stops_the_real_program_before_any_resource(customers: Any, expected: str) -> None:
    mocks = AwsMocks("eu-west-1")
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", customers_config(customers), mocks=mocks)
    assert str(caught.value).startswith(expected)
    assert mocks.registered == []


def test_missing_base_domain_stops_the_program() -> None:
    values = stack_file_config("dev")
    del values["whitelabel-gateway:baseDomain"]
    mocks = AwsMocks("eu-west-1")
    with pytest.raises(pulumi.RunError, match=r"^whitelabel-gateway:baseDomain: is required$"):
        run_program("dev", values, mocks=mocks)
    assert mocks.registered == []


def test_unknown_top_level_key_in_a_stack_file_is_refused() -> None:
    values = {**stack_file_config("dev"), "whitelabel-gateway:customer": [{"name": "x"}]}
    with pytest.raises(pulumi.RunError, match="customer: is not a known key"):
        run_program("dev", values)


def test_errors_carry_no_pydantic_noise() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_(customers=[{"name": "acme", "dedicatedDomain": "maybe"}]))
    assert "pydantic" not in str(caught.value) and "For further information" not in str(caught.value)


def test_new_keys_default_to_todays_behaviour() -> None:
    settings = parse_settings(BASE)
    assert settings.manage_account_logging is True and settings.protect_resources is False
    assert settings.name_prefix is None and settings.tenant_dns == "perCustomer"
    assert list(settings.tiers) == ["standard"] and settings.default_tier == "standard"
    standard = settings.tiers["standard"]
    assert (standard.rate_limit, standard.burst_limit, standard.quota) == (50, 100, None)
    assert (settings.authorizer.cache_ttl_seconds, settings.authorizer.registry_cache_seconds) == (300, 30)
    assert (settings.quotas.api_keys, settings.quotas.usage_plans) == (10_000, 300)
    assert settings.network.zone_ids is None
    customer = settings.customers[0]
    assert customer.tier is None and customer.suspended is False


def test_prod_protects_its_resources_and_dev_does_not() -> None:
    dev = parse_settings(read_raw_config(engine_config(stack_file_config("dev"))))
    prod = parse_settings(read_raw_config(engine_config(stack_file_config("prod"))))
    assert (dev.protect_resources, prod.protect_resources) == (False, True)


@pytest.mark.parametrize("key", ["manageAccountLogging", "protectResources", "dualStack"])
def test_top_level_booleans_set_from_the_cli_arrive_as_strings(key: str) -> None:
    # `pulumi config set whitelabel-gateway:<key> false` hands the program the string "false".
    for text, expected in (("false", False), ("true", True), ("True", True)):
        raw = read_raw_config(engine_config({**BASE, key: text}))
        assert parse_settings(raw).model_dump(by_alias=True)[key] is expected


def test_nested_booleans_and_numbers_set_with_path_arrive_as_strings() -> None:
    settings = parse_settings(
        with_(
            customers=[{"name": "acme", "suspended": "true", "tier": "gold"}],
            tiers={"gold": {"rateLimit": "12.5", "burstLimit": "20", "quota": {"limit": "1000", "period": "DAY"}}},
            defaultTier="gold",
            authorizer={"cacheTtlSeconds": "0"},
            quotas={"apiKeys": "500", "usagePlans": "10"},
        )
    )
    assert settings.customers[0].suspended is True
    gold = settings.tiers["gold"]
    assert (gold.rate_limit, gold.burst_limit) == (12.5, 20)
    assert gold.quota is not None and (gold.quota.limit, gold.quota.period) == (1000, "DAY")
    assert settings.authorizer.cache_ttl_seconds == 0
    assert (settings.quotas.api_keys, settings.quotas.usage_plans) == (500, 10)


def test_tier_of_falls_back_to_the_default_tier() -> None:
    settings = parse_settings(
        with_(
            customers=[{"name": "acme"}, {"name": "globex", "tier": "gold"}],
            tiers={"silver": {"rateLimit": 5, "burstLimit": 10}, "gold": {"rateLimit": 50, "burstLimit": 100}},
            defaultTier="silver",
        )
    )
    assert [settings.tier_of(c) for c in settings.customers] == ["silver", "gold"]


def test_hostnames_add_the_own_domain_only_once_validated() -> None:
    settings = parse_settings(
        with_(
            customers=[
                {"name": "acme"},
                {"name": "globex", "customDomain": "api.globex.com"},
                {
                    "name": "initech",
                    "subdomain": "ini",
                    "customDomain": "api.initech.com",
                    "customDomainValidated": True,
                },
            ]
        )
    )
    assert [settings.hostnames(c) for c in settings.customers] == [
        ("acme.example.com",),
        ("globex.example.com",),
        ("ini.example.com", "api.initech.com"),
    ]


def test_zone_ids_are_taken_when_one_per_zone() -> None:
    settings = parse_settings(with_(network={"availabilityZones": 3, "zoneIds": ["use1-az1", "use1-az4", "use1-az6"]}))
    assert settings.network.zone_ids == ("use1-az1", "use1-az4", "use1-az6")


def test_resource_prefix_is_name_prefix_or_project_then_stack() -> None:
    assert resource_prefix(parse_settings(BASE), "whitelabel-gateway", "dev") == "whitelabel-gateway-dev"
    assert resource_prefix(parse_settings(with_(namePrefix="wl")), "whitelabel-gateway", "prod") == "wl-prod"


@pytest.mark.parametrize("stack", ["dev", "prod", "Prod_2", "feature-x", "a" * 128])
def test_stage_like_stack_names_are_accepted(stack: str) -> None:
    check_stack_name(stack)


@pytest.mark.parametrize("stack", ["", "my.stack", "a b", "dev/eu", "ünï", "a" * 129])
def test_stack_names_that_are_not_stage_names_are_refused(stack: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_stack_name(stack)
    assert str(caught.value).startswith("whitelabel-gateway:stack: ")
    assert "letters, digits, '-' or '_'" in str(caught.value)


def test_a_control_character_in_a_key_keeps_the_error_on_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_(**{"bad\nkey": 1}))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "key", "suggestion"),
    [
        (with_(baseDmain="x.com"), "baseDmain", "baseDomain"),
        (
            with_(customers=[{"name": "acme", "dedicatedDomian": True}]),
            "customers[0].dedicatedDomian",
            "dedicatedDomain",
        ),
        (with_(network={"zoneId": ["euw1-az1"]}), "network.zoneId", "zoneIds"),
        (with_(tiers={"standard": {"rateLimt": 1, "burstLimit": 1}}), "tiers.standard.rateLimt", "rateLimit"),
        (
            with_(tiers={"standard": {"rateLimit": 1, "burstLimit": 1, "quota": {"limit": 1, "perod": "DAY"}}}),
            "tiers.standard.quota.perod",
            "period",
        ),
        (with_(authorizer={"cacheTTLSeconds": 5}), "authorizer.cacheTTLSeconds", "cacheTtlSeconds"),
    ],
)
def test_a_misspelt_key_gets_a_did_you_mean_at_every_level(raw: dict[str, Any], key: str, suggestion: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    assert str(caught.value) == (
        f"whitelabel-gateway:{key}: is not a known key; did you mean `{suggestion}`? (README lists every key)"
    )


@pytest.mark.parametrize(
    ("auth", "line"),
    [
        # A key that is either 'none' or a mapping: pydantic refuses it once per form and names the form in its
        # location (`auth.CustomerAuth.a`, `auth["literal['none']"]`); the reader wrote neither.
        ({"isuer": "https://idp.example.org"}, "customers.acme.auth.isuer: is not a known key; did you mean `issuer`?"),
        ({"a": 1}, "customers.acme.auth.a: is not a known key (check its spelling"),
        ({"issuer": 5}, "customers.acme.auth.issuer: must be text (not 5)"),
        ({"audiences": "portal"}, "customers.acme.auth.audiences: must be a list (not 'portal')"),
        (True, "customers.acme.auth: must be 'none' or a mapping of keys (not True)"),
        ("off", "customers.acme.auth: must be 'none' or a mapping of keys (not 'off')"),
        ([], "customers.acme.auth: must be 'none' or a mapping of keys (not [])"),
    ],
)
def test_a_key_of_two_forms_is_refused_in_the_form_written_at_the_key_written(auth: Any, line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_(customers={"acme": {"auth": auth}}))
    assert str(caught.value).startswith(f"whitelabel-gateway:{line}")
    assert "literal" not in str(caught.value) and "CustomerAuth" not in str(caught.value)
    with pytest.raises(ConfigError) as listed:  # the list form: the entry by its index
        parse_settings(with_(customers=[{"name": "acme", "auth": auth}]))
    assert listed.value.key == caught.value.key.replace("customers.acme", "customers[0]")


def test_an_unknown_key_far_from_every_known_key_gets_no_guess() -> None:
    with pytest.raises(ConfigError, match=r"customers\[0\]\.colour: is not a known key \(check its spelling"):
        parse_settings(with_(customers=[{"name": "acme", "colour": "red"}]))


# -- quotas of issue 8: API keys, usage plans, records by DNS mode -----------------------------------


def shared(count: int) -> list[dict[str, Any]]:
    return [{"name": f"c{i}"} for i in range(count)]


def test_more_customers_than_api_keys_aws_allows_is_refused_and_says_it_cannot_be_raised() -> None:
    raw = with_(customers=shared(10_001), tenantDns="wildcard")
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    assert str(caught.value) == (
        "whitelabel-gateway:customers: needs 10001 API keys (one per customer), over the quota 'API keys per"
        " account per Region' of 10,000 (AWS does not raise it: serve some customers from a stack in another"
        " account or region)"
    )
    assert len(parse_settings(with_(customers=shared(10_000), tenantDns="wildcard")).customers) == 10_000


def test_a_lowered_api_key_quota_is_enforced_and_named() -> None:
    with pytest.raises(ConfigError, match=r"needs 11 API keys .* of 10 \(quotas\.apiKeys lowers AWS's 10,000"):
        parse_settings(with_(customers=shared(11), quotas={"apiKeys": 10}))
    assert parse_settings(with_(customers=shared(11), quotas={"apiKeys": 11}))


def test_suspended_customers_keep_their_api_keys_in_the_count() -> None:
    customers = [{"name": "a"}, {"name": "b", "suspended": True}]
    with pytest.raises(ConfigError, match="needs 2 API keys"):
        parse_settings(with_(customers=customers, quotas={"apiKeys": 1}))


def test_more_tiers_than_usage_plans_is_refused_with_how_to_raise_it() -> None:
    tiers = {f"t{i}": {"rateLimit": 1, "burstLimit": 1} for i in range(4)}
    raw = with_(tiers=tiers, defaultTier="t0")
    with pytest.raises(ConfigError) as caught:
        parse_settings({**raw, "quotas": {"usagePlans": 3}})
    assert str(caught.value) == (
        "whitelabel-gateway:tiers: needs 4 usage plans (one per tier), over the quota 'Usage plans per account per"
        " Region' of 3; request an increase in Service Quotas (Amazon API Gateway), then set quotas.usagePlans to"
        " the new value"
    )
    assert parse_settings({**raw, "quotas": {"usagePlans": 4}}).tiers.keys() == tiers.keys()


@pytest.mark.parametrize(
    ("dns", "dual_stack", "expected"),
    [
        # SOA + NS, the certificate's validation record, then the customers' names:
        ("perCustomer", False, 2 + 1 + 102 + 1),  # every customer's name, one handoff
        ("perCustomer", True, 2 + 1 + 2 * (102 + 1)),
        ("wildcard", False, 2 + 1 + 1 + 1 + 1),  # `*.<baseDomain>`, the dedicated name, one handoff
        ("wildcard", True, 2 + 1 + 2 * (1 + 1 + 1)),
    ],
)
def test_zone_records_follow_the_tenant_dns_mode(dns: str, dual_stack: bool, expected: int) -> None:
    from whitelabel.quotas import usage

    customers = [
        *shared(100),
        {"name": "ded", "dedicatedDomain": True},
        {"name": "own", "customDomain": "api.own.org", "customDomainValidated": True},
    ]
    settings = parse_settings(with_(customers=customers, tenantDns=dns, dualStack=dual_stack))
    assert usage(settings).records == expected


def test_wildcard_dns_lifts_the_zone_record_quota_off_the_customer_count() -> None:
    raw = with_(customers=shared(60), quotas={"recordsPerZone": 50})
    with pytest.raises(ConfigError, match=r"needs 63 records in hosted zone 'example.com'"):
        parse_settings(raw)
    assert len(parse_settings({**raw, "tenantDns": "wildcard"}).customers) == 60


def test_an_api_key_quota_refusal_stops_the_real_program_before_any_resource() -> None:
    mocks = AwsMocks("eu-west-1")
    with pytest.raises(pulumi.RunError, match=r"^whitelabel-gateway:customers: needs 3 API keys"):
        run_program("dev", customers_config(shared(3), quotas={"apiKeys": 2}), mocks=mocks)
    assert mocks.registered == []


# -- issue 7 §4: stack name, the SDK's config listing --------------------------------------------------


def test_a_stack_name_that_is_not_a_stage_name_stops_the_program_before_any_resource() -> None:
    mocks = AwsMocks("eu-west-1")
    with pytest.raises(pulumi.RunError, match=r"^whitelabel-gateway:stack: 'dev\.eu' is used as the API Gateway"):
        run_program("dev.eu", stack_file_config("dev"), mocks=mocks)
    assert mocks.registered == []


def test_the_sdk_still_keeps_config_where_we_list_it() -> None:
    # If this fails after a Pulumi upgrade, the SDK moved its config map: update engine_config_keys.
    import contextvars

    from pulumi.runtime import config as runtime_config
    from pulumi.runtime import set_all_config

    from whitelabel.config import engine_config_keys

    def listed() -> set[str]:
        set_all_config({"whitelabel-gateway:baseDomain": "example.com", "aws:region": "eu-west-1"})
        assert pulumi.Config("whitelabel-gateway").get("baseDomain") == "example.com"
        return engine_config_keys()

    assert isinstance(runtime_config.CONFIG, contextvars.ContextVar)
    keys = contextvars.copy_context().run(listed)
    assert {"whitelabel-gateway:baseDomain", "aws:region"} <= keys


def test_a_changed_sdk_config_map_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi.runtime import config as runtime_config

    from whitelabel.config import engine_config_keys

    monkeypatch.setattr(runtime_config, "CONFIG", {"whitelabel-gateway:baseDomain": "example.com"})
    with pytest.raises(RuntimeError, match=r"update whitelabel\.config\.engine_config_keys"):
        engine_config_keys()


# -- issue 11: strict types, image references, the docs folder ------------------------------------------

BOOLEAN_AS_NUMBER = [
    ("service2", "desiredCapacity", True),
    ("service1", "desiredCount", False),
    ("service1", "port", True),
    ("network", "availabilityZones", True),
    ("throttle", "rateLimit", True),
    ("quotas", "apiKeys", False),
    ("authorizer", "cacheTtlSeconds", True),
]


@pytest.mark.parametrize(("section", "key", "value"), BOOLEAN_AS_NUMBER)
def test_a_boolean_where_a_number_belongs_is_refused(section: str, key: str, value: bool) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_(**{section: {key: value}}))
    assert str(caught.value) == f"whitelabel-gateway:{section}.{key}: {value!r} is a boolean; a number is expected here"


def test_booleans_are_refused_as_numbers_nested_and_at_the_top_level() -> None:
    tiers = {"standard": {"rateLimit": 1, "burstLimit": True}}
    with pytest.raises(ConfigError, match=r"^whitelabel-gateway:tiers\.standard\.burstLimit: True is a boolean"):
        parse_settings(with_(tiers=tiers))
    quota = {"standard": {"rateLimit": 1, "burstLimit": 1, "quota": {"limit": True, "period": "DAY"}}}
    with pytest.raises(ConfigError, match=r"^whitelabel-gateway:tiers\.standard\.quota\.limit: True is a boolean"):
        parse_settings(with_(tiers=quota))
    with pytest.raises(ConfigError, match=r"^whitelabel-gateway:logRetentionDays: True is a boolean"):
        parse_settings(with_(logRetentionDays=True))


def test_numbers_as_strings_are_still_accepted() -> None:
    settings = parse_settings(
        with_(
            service1={"desiredCount": "2", "port": "8080"},
            service2={"minSize": "1", "maxSize": "3", "desiredCapacity": "2"},
            throttle={"rateLimit": "12.5", "burstLimit": "20"},
            logRetentionDays="30",
        )
    )
    assert (settings.service1.desired_count, settings.service1.port) == (2, 8080)
    assert settings.service2.desired_capacity == 2
    assert (settings.throttle.rate_limit, settings.log_retention_days) == (12.5, 30)


@pytest.mark.parametrize(
    "image",
    [
        "nginx",
        "nginx:1.27",
        "library/nginx:stable-alpine",
        "public.ecr.aws/nginx/nginx:stable-alpine",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1.2.3",
        "localhost:5000/app",
        "registry.example.com:443/a/b/c@sha256:" + "0123456789abcdef" * 4,
        "ghcr.io/org/app:v1@sha256:" + "a" * 64,
        "[::1]:5000/app:latest",
        "my_app__x.y-z",
    ],
)
def test_pullable_image_references_are_accepted(image: str) -> None:
    assert parse_settings(with_(service1={"image": image})).service1.image == image


@pytest.mark.parametrize(
    "image",
    [
        "../../etc/passwd",
        "",
        "Nginx",
        "nginx:",
        "nginx:-bad",
        "nginx@sha256:abc",
        "http://registry.example.com/app",
        "app name",
        "nginx:ünïcode",
        "a//b",
        "app/",
        "nginx:" + "t" * 129,
        "r.io/" + "a" * 260,
    ],
)
def test_image_references_that_cannot_be_pulled_are_refused(image: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_(service1={"image": image}))
    message = str(caught.value)
    assert message.startswith("whitelabel-gateway:service1.image: ")
    assert "is not an image reference: [registry[:port]/]repository[:tag][@digest]" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("folder", "rule"),
    [
        ("s3://", "'s3://' is a URL; must be a folder inside the repository"),
        ("s3://bucket/docs", "is a URL"),
        ("../outside", "'../outside' lies outside the repository"),
        ("documents/../../outside", "lies outside the repository"),
        ("/etc", "'/etc' lies outside the repository"),
        (".", "lies outside the repository or is its root"),
        ("nope", "'nope' is not a folder of the repository; create it or set docs.folder"),
        ("README.md", "is not a folder of the repository"),
        ("docs\x00x", "must be a folder inside the repository"),
        ("", "must be a folder inside the repository"),
    ],
)
def test_the_docs_folder_must_lie_inside_the_repository(folder: str, rule: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_(docs={"folder": folder}), root=ROOT)
    message = str(caught.value)
    assert message.startswith("whitelabel-gateway:docs.folder: ") and rule in message
    # Never a path of the operator's machine.
    assert str(ROOT) not in message and "/work" not in message.replace(folder, "")


def test_a_docs_folder_inside_the_repository_is_accepted_relative_or_absolute() -> None:
    assert parse_settings(with_(docs={"folder": "documents"}), root=ROOT).docs.folder == "documents"
    assert parse_settings(with_(docs={"folder": "./documents/"}), root=ROOT).docs.folder == "./documents/"
    absolute = str(ROOT / "documents")
    assert parse_settings(with_(docs={"folder": absolute}), root=ROOT).docs.folder == absolute


def test_a_symlink_leading_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "docs").symlink_to(outside)
    with pytest.raises(ConfigError, match=r"^whitelabel-gateway:docs\.folder: 'docs' lies outside the repository"):
        parse_settings(with_(docs={"folder": "docs"}), root=project)


def test_a_docs_folder_of_s3_stops_the_real_program_in_the_common_shape() -> None:
    mocks = AwsMocks("eu-west-1")
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", customers_config([{"name": "acme"}], docs={"folder": "s3://"}), mocks=mocks)
    assert str(caught.value).startswith("whitelabel-gateway:docs.folder: 's3://' is a URL")
    assert mocks.registered == []


# -- found by the property tests (tests/test_config_properties.py) ----------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (with_(baseDomain="example.com\n"), "baseDomain"),
        (with_(customers=[{"name": "acme\n"}]), "customers[0].name"),
        (with_(namePrefix="wl\n"), "namePrefix"),
        (with_(defaultTier="standard\n"), "defaultTier"),
        (with_(network={"zoneIds": ["euw1-az1\n", "euw1-az2"]}), "network.zoneIds"),
        (with_(service1={"image": "nginx\n"}), "service1.image"),
        (with_(alarms={"email": ["ops@example.com\n"]}), "alarms.email"),
    ],
)
def test_a_trailing_newline_is_not_part_of_a_valid_value(raw: dict[str, Any], key: str) -> None:
    # Python's `$` also matches before a final newline: every rule anchors with `\Z`.
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    assert caught.value.key == key


@pytest.mark.parametrize(
    ("section", "key", "value", "rule"),
    [
        ("throttle", "burstLimit", 2**31, "must be at most 2147483647"),
        ("alarms", "authorizerErrors", 10**100, "must be at most 2147483647"),
        ("quotas", "recordsPerZone", 2**63, "must be at most 2147483647"),
        ("throttle", "rateLimit", float("inf"), "finite number"),
        ("throttle", "rateLimit", "inf", "finite number"),
        ("throttle", "rateLimit", float("nan"), "finite number"),
        ("alarms", "serverErrorRatePercent", "NaN", "finite number"),
    ],
)
def test_numbers_are_finite_and_fit_awss_32_bit_integers(section: str, key: str, value: Any, rule: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_(**{section: {key: value}}))
    assert caught.value.key == f"{section}.{key}" and rule in caught.value.rule


def test_a_tier_quota_limit_beyond_32_bits_is_refused() -> None:
    tiers = {"standard": {"rateLimit": 1, "burstLimit": 1, "quota": {"limit": 2**31, "period": "DAY"}}}
    with pytest.raises(
        ConfigError,
        match=r"^whitelabel-gateway:tiers\.standard\.quota\.limit: must be at most 2147483647 \(not 2147483648\)$",
    ):
        parse_settings(with_(tiers=tiers))


@pytest.mark.parametrize("path", ["/\n", "/ health", "healthz", "", "/é", "/" + "a" * 1024])
def test_a_health_check_path_a_load_balancer_cannot_request_is_refused(path: str) -> None:
    for section in ("service1", "service2"):
        with pytest.raises(ConfigError) as caught:
            parse_settings(with_(**{section: {"healthCheckPath": path}}))
        assert caught.value.key == f"{section}.healthCheckPath"
        assert "must be a URL path: '/' then up to 1023 visible ASCII characters" in caught.value.rule


def test_ordinary_health_check_paths_are_accepted() -> None:
    settings = parse_settings(with_(service1={"healthCheckPath": "/healthz?full=1"}, service2={"healthCheckPath": "/"}))
    assert (settings.service1.health_check_path, settings.service2.health_check_path) == ("/healthz?full=1", "/")


def test_an_error_line_stays_short_whatever_the_input() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_(**{"x" * 100_000: 1}))
    assert len(str(caught.value)) < 300 and caught.value.key == f'["{"x" * 59}\\u2026"]'
    many = {f"t{i}": {"rateLimit": 1, "burstLimit": 1} for i in range(50)}
    with pytest.raises(ConfigError, match=r"one of t0, t1, .* and 40 more$") as caught:
        parse_settings(with_(tiers=many, defaultTier="gold"))
    assert len(str(caught.value)) < 300


# -- mutual TLS: whose certificates a customer accepts -------------------------------------------------------
STARK = {"name": "stark", "dedicatedDomain": True, "mtlsTruststore": "s3://trust/stark.pem"}
WAYNE = {"name": "wayne", "dedicatedDomain": True, "mtlsTruststore": "s3://trust/wayne.pem"}
MTLS_STACK = {"baseDomain": "example.com", "tlsPolicy": "TLS_1_2", "authorizer": {"cacheTtlSeconds": 0}}


def mtls_stack(*customers: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {**MTLS_STACK, "customers": list(customers), **keys}


def test_mtls_issuers_and_subjects_are_read() -> None:
    settings = parse_settings(mtls_stack({**STARK, "mtlsIssuers": ["CN=Stark CA"], "mtlsSubjects": ["CN=billing"]}))
    assert (settings.customers[0].mtls_issuers, settings.customers[0].mtls_subjects) == (
        ("CN=Stark CA",),
        ("CN=billing",),
    )


@pytest.mark.parametrize(
    ("raw", "key", "rule"),
    [
        (
            mtls_stack(STARK),
            "customers[0].mtlsIssuers",
            "is required with mtlsTruststore: list the issuer DNs of this customer's client certificates; without it"
            " a request with no certificate, or with one issued for another customer's truststore, would be accepted",
        ),
        (
            mtls_stack({"name": "acme", "mtlsIssuers": ["CN=Acme CA"]}),
            "customers[0].mtlsIssuers",
            "is set but mtlsTruststore is not",
        ),
        (
            mtls_stack({"name": "acme", "mtlsSubjects": ["CN=acme"]}),
            "customers[0].mtlsSubjects",
            "is set but mtlsTruststore is not",
        ),
        (mtls_stack({**STARK, "mtlsIssuers": [" "]}), "customers[0].mtlsIssuers", "distinguished name"),
        (mtls_stack({**STARK, "mtlsIssuers": ["CN=a\nCN=b"]}), "customers[0].mtlsIssuers", "printable"),
        (mtls_stack({**STARK, "mtlsIssuers": ["CN=a", "CN=a"]}), "customers[0].mtlsIssuers", "more than once"),
        (
            mtls_stack({**STARK, "mtlsIssuers": ["CN=Shared CA"]}, {**WAYNE, "mtlsIssuers": ["CN=Shared CA"]}),
            "customers[1].mtlsIssuers",
            "'CN=Shared CA' is also accepted for customers[0]: a certificate issued for one would be accepted for",
        ),
        (
            mtls_stack(
                {**STARK, "mtlsIssuers": ["CN=Shared CA"], "mtlsSubjects": ["CN=ops"]},
                {**WAYNE, "mtlsIssuers": ["CN=Shared CA"], "mtlsSubjects": ["CN=ops", "CN=wayne"]},
            ),
            "customers[1].mtlsIssuers",
            "is also accepted for customers[0]",
        ),
        (
            {**mtls_stack({"name": "acme"}, {**STARK, "mtlsIssuers": ["CN=Stark CA"]}), "authorizer": {}},
            "authorizer.cacheTtlSeconds",
            "must be 0 while customers[1] has mtlsTruststore: API Gateway caches one decision per Host header",
        ),
    ],
)
def test_mtls_rules_name_the_key_and_why(raw: dict[str, Any], key: str, rule: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    assert caught.value.key == key
    assert rule in caught.value.rule
    assert "\n" not in str(caught.value)


def test_one_issuer_for_two_customers_is_accepted_with_disjoint_subjects() -> None:
    settings = parse_settings(
        mtls_stack(
            {**STARK, "mtlsIssuers": ["CN=Shared CA"], "mtlsSubjects": ["CN=stark"]},
            {**WAYNE, "mtlsIssuers": ["CN=Shared CA"], "mtlsSubjects": ["CN=wayne"]},
        )
    )
    assert [c.mtls_subjects for c in settings.customers] == [("CN=stark",), ("CN=wayne",)]


def test_an_issuer_shared_by_three_customers_is_checked_for_every_pair() -> None:
    # stark and bruce both accept CN=ops; wayne, listed between them, overlaps neither.
    bruce = {"name": "bruce", "dedicatedDomain": True, "mtlsTruststore": "s3://trust/bruce.pem"}
    raw = mtls_stack(
        {**STARK, "mtlsIssuers": ["CN=Shared CA"], "mtlsSubjects": ["CN=ops"]},
        {**WAYNE, "mtlsIssuers": ["CN=Shared CA"], "mtlsSubjects": ["CN=wayne"]},
        {**bruce, "mtlsIssuers": ["CN=Shared CA"], "mtlsSubjects": ["CN=ops"]},
    )
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    assert caught.value.key == "customers[2].mtlsIssuers"
    assert "is also accepted for customers[0]" in caught.value.rule


# -- issue 15: customers by name; errors a person can act on -------------------------------------------

CUSTOMERS_KEY = "whitelabel-gateway:customers"


def test_the_committed_stack_files_name_their_customers() -> None:
    for stack, names in (("dev", ["acme", "globex"]), ("prod", ["acme", "globex", "initech"])):
        customers = stack_file_config(stack)[CUSTOMERS_KEY]
        assert isinstance(customers, dict) and list(customers) == names, stack


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_forms_of_customers_give_the_same_resources_under_the_same_urns(stack: str) -> None:
    by_name = stack_file_config(stack)
    as_list = {**by_name, CUSTOMERS_KEY: customer_entries(by_name[CUSTOMERS_KEY])}
    assert isinstance(as_list[CUSTOMERS_KEY], list) and as_list[CUSTOMERS_KEY][0] == {"name": "acme"}
    named, listed = shared_run(stack, by_name), shared_run(stack, as_list)
    # Every URN, its parent, its inputs, dependencies (registered concurrently: compared as sets) and options;
    # and the stack's outputs.
    shape = {
        r.urn: (r.type, r.parent, r.inputs, sorted(r.dependencies), r.protect, r.retain_on_delete)
        for r in named.resources
    }
    assert len(shape) == len(named.resources) > 100
    assert shape == {
        r.urn: (r.type, r.parent, r.inputs, sorted(r.dependencies), r.protect, r.retain_on_delete)
        for r in listed.resources
    }
    assert named.outputs == listed.outputs and set(named.outputs["customerEndpoints"]) == set(by_name[CUSTOMERS_KEY])


def test_the_order_of_named_customers_changes_no_resource() -> None:
    # The engine hands an object over as JSON text; the order of its keys is not the operator's.
    values = stack_file_config("prod")
    reversed_ = {**values, CUSTOMERS_KEY: dict(reversed(values[CUSTOMERS_KEY].items()))}
    assert inputs_by_urn(shared_run("prod", values)) == inputs_by_urn(shared_run("prod", reversed_))


def test_a_named_customer_takes_its_name_from_its_key_and_an_empty_entry_is_all_defaults() -> None:
    # `pulumi config set --path 'customers.acme.tier' gold` (and an `acme: null` left by an edit), as the
    # engine hands them over: JSON text.
    customers = {"acme": {"tier": "gold"}, "globex": None, "initech": {}, "hooli": {"name": "hooli"}}
    raw = read_raw_config(
        engine_config(
            {
                **BASE,
                "customers": customers,
                "tiers": {"standard": {"rateLimit": 1, "burstLimit": 1}, "gold": {"rateLimit": 2, "burstLimit": 2}},
            }
        )
    )
    settings = parse_settings(raw)
    assert [(c.name, c.subdomain, c.tier, c.dedicated_domain) for c in settings.customers] == [
        ("acme", "acme", "gold", False),
        ("globex", "globex", None, False),
        ("initech", "initech", None, False),
        ("hooli", "hooli", None, False),
    ]
    assert parse_settings(with_(customers={})).customers == []


BY_NAME_INVALID = [
    ({"acme": {"tier": "gold"}}, "customers.acme.tier", "'gold' is not a configured tier: one of standard"),
    ({"acme": {"dedicatedDomain": "yes"}}, "customers.acme.dedicatedDomain", "must be true or false (not 'yes')"),
    ({"acme": {"dedicatedDomian": True}}, "customers.acme.dedicatedDomian", "did you mean `dedicatedDomain`?"),
    ({"acme": {"name": "globex"}}, "customers.acme.name", "'globex' differs from the entry's key 'acme'"),
    ({"acme": "dedicated"}, "customers.acme", "must be a mapping of the customer's keys (it may be empty: {})"),
    ({"acme": [], "globex": {}}, "customers.acme", "must be a mapping of the customer's keys"),
    ({"Acme": {}}, "customers.Acme", "'Acme' must be a lowercase DNS label"),
    ({"bad name": {}}, 'customers["bad name"]', "'bad name' must be a lowercase DNS label"),
    ({"www": {}}, "customers.www", "'www' is reserved by the platform"),
    ({"wildcard": {"subdomain": "wild"}}, "customers.wildcard", "'wildcard' is reserved"),
    ({"acme": {"subdomain": "api"}}, "customers.acme.subdomain", "'api' is reserved by the platform"),
    (
        {"acme": {}, "globex": {"subdomain": "acme"}},
        "customers.globex.subdomain",
        "subdomain 'acme' is already used by customers.acme; subdomains must be unique",
    ),
    (
        {"acme": {"customDomain": "api.acme.org"}, "globex": {"customDomain": "api.acme.org"}},
        "customers.globex.customDomain",
        "'api.acme.org' is already used by customers.acme",
    ),
    ({"acme": {"customDomainValidated": True}}, "customers.acme.customDomainValidated", "customDomain is not"),
    (
        {"acme": {"dedicatedDomain": True, "mtlsTruststore": "s3://trust/ca.pem", "mtlsIssuers": ["CN=Acme CA"]}},
        "customers.acme.mtlsTruststore",
        "needs tlsPolicy TLS_1_2",
    ),
]


@pytest.mark.parametrize(("customers", "key", "rule"), BY_NAME_INVALID, ids=[k for _, k, _ in BY_NAME_INVALID])
def test_errors_in_the_name_form_name_the_customer(customers: dict[str, Any], key: str, rule: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_(customers=customers))
    assert caught.value.key == key
    assert str(caught.value).startswith(f"whitelabel-gateway:{key}: ") and rule in caught.value.rule
    assert not re.search(r"customers\[\d", str(caught.value)), "an index where the operator wrote a name"


def test_errors_in_the_list_form_keep_the_index() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_(customers=[{"name": "acme"}, {"name": "globex", "subdomain": "acme"}]))
    assert str(caught.value) == (
        "whitelabel-gateway:customers[1].subdomain: subdomain 'acme' is already used by customers[0];"
        " subdomains must be unique"
    )


def test_a_named_customers_error_stops_the_real_program_before_any_resource() -> None:
    mocks = AwsMocks("eu-west-1")
    values = stack_file_config("dev")
    values[CUSTOMERS_KEY]["initech"] = {"tier": "premium"}
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", values, mocks=mocks)
    assert (
        str(caught.value)
        == "whitelabel-gateway:customers.initech.tier: 'premium' is not a configured tier: one of standard"
    )
    assert mocks.registered == []


# Wrong types, in our words: never pydantic's "Input should be a valid boolean".
WRONG_TYPES = [
    (with_(dualStack="maybe"), "dualStack", "must be true or false (not 'maybe')"),
    (with_(waf={"enabled": 1}), "waf.enabled", "must be true or false (not 1)"),
    (with_(tracing=None), "tracing", "must be true or false (it is empty)"),
    (with_(service1={"port": "eighty"}), "service1.port", "must be a whole number (not 'eighty')"),
    (with_(service1={"port": 80.5}), "service1.port", "must be a whole number (not 80.5)"),
    (with_(logRetentionDays="two weeks"), "logRetentionDays", "must be a whole number (not 'two weeks')"),
    (with_(throttle={"rateLimit": "fast"}), "throttle.rateLimit", "must be a number (not 'fast')"),
    (with_(cache={"sizeGb": [1]}), "cache.sizeGb", "must be a number (not [1])"),
    (with_(baseDomain=5), "baseDomain", "must be text (not 5)"),
    (with_(customers=[{"name": "acme", "tier": 3}]), "customers[0].tier", "must be text (not 3)"),
    (with_(customers={"acme": {"subdomain": True}}), "customers.acme.subdomain", "must be text (not True)"),
    (with_(alarms={"email": "ops@example.com"}), "alarms.email", "must be a list (not 'ops@example.com')"),
    (with_(network={"zoneIds": "euw1-az1"}), "network.zoneIds", "must be a list (not 'euw1-az1')"),
    (with_(network="big"), "network", "must be a mapping of keys to values"),
    (with_(waf={"mode": "deny"}), "waf.mode", "must be 'block' or 'count' (not 'deny')"),
    (with_(service1={"port": 0}), "service1.port", "must be at least 1 (not 0)"),
    (with_(service1={"port": 70000}), "service1.port", "must be at most 65535 (not 70000)"),
    (with_(alarms={"serverErrorRatePercent": 0}), "alarms.serverErrorRatePercent", "must be greater than 0 (not 0)"),
    (
        with_(service2={"instanceType": "t3"}),
        "service2.instanceType",
        "'t3' must be an EC2 instance type such as t3.micro or m7i.large",
    ),
]


@pytest.mark.parametrize(("raw", "key", "rule"), WRONG_TYPES, ids=[f"{k}:{r}" for _, k, r in WRONG_TYPES])
def test_a_wrong_type_is_refused_in_our_words(raw: dict[str, Any], key: str, rule: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    assert (caught.value.key, caught.value.rule) == (key, rule)
    assert "should" not in str(caught.value) and "Input" not in str(caught.value)


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("customers[4].name", "customers[4].name"),
        ("customers.acme.tier", "customers.acme.tier"),
        ("waf.enabled", "waf.enabled"),
        ("tiers.gold.quota.limit", "tiers.gold.quota.limit"),
    ],
)
def test_a_key_set_without_path_says_to_use_path(key: str, shown: str) -> None:
    # `pulumi config set 'waf.enabled' false` (no --path) stores a key literally named `waf.enabled`.
    with pytest.raises(ConfigError) as caught:
        parse_settings(read_raw_config(engine_config({**BASE, key: "x"})))
    assert str(caught.value) == (
        f"whitelabel-gateway:{shown}: is not a known key; it looks like a path: use pulumi config set --path"
        f" '{key}' <value> (and remove this one: pulumi config rm '{key}')"
    )


def test_a_dotted_key_that_is_no_path_into_our_keys_is_only_unknown() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_(**{"wafs.enabled": False}))
    assert caught.value.key == '["wafs.enabled"]' and "looks like a path" not in caught.value.rule


def test_a_forgotten_path_stops_the_real_program_before_any_resource() -> None:
    mocks = AwsMocks("eu-west-1")
    values = {**stack_file_config("dev"), "whitelabel-gateway:customers[2].name": "initech"}
    with pytest.raises(
        pulumi.RunError, match=r"^whitelabel-gateway:customers\[2\]\.name: is not a known key; it looks"
    ):
        run_program("dev", values, mocks=mocks)
    assert mocks.registered == []


def installed_aws_config_keys() -> set[str]:
    """The `aws:` keys the installed pulumi-aws SDK reads (`__config__.get…('<key>')` in config/vars.py)."""
    import importlib.util

    spec = importlib.util.find_spec("pulumi_aws.config.vars")
    assert spec is not None and spec.origin is not None
    return set(re.findall(r"__config__\.get\w*\('(\w+)'\)", Path(spec.origin).read_text()))


def test_the_aws_key_list_is_the_installed_providers() -> None:
    # If this fails after a pulumi-aws upgrade, copy the new key list into AWS_CONFIG_KEYS.
    assert set(AWS_CONFIG_KEYS) == installed_aws_config_keys()
    assert {"region", "profile", "accessKey", "secretKey", "token", "assumeRoles", "defaultTags"} <= set(
        AWS_CONFIG_KEYS
    )


@pytest.mark.parametrize(
    ("key", "meant"),
    [("regoin", "region"), ("Region", "region"), ("profle", "profile"), ("defaultTag", "defaultTags")],
)
def test_a_misspelt_aws_key_stops_the_real_program_with_did_you_mean(key: str, meant: str) -> None:
    mocks = AwsMocks("eu-west-1")
    values = {**stack_file_config("dev"), f"aws:{key}": "x"}
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", values, mocks=mocks)
    assert str(caught.value) == f"aws:{key}: is not a key of the aws provider; did you mean `aws:{meant}`?"
    assert mocks.registered == []


def test_known_aws_keys_and_unrelated_ones_are_left_to_the_provider() -> None:
    check_provider_keys(f"aws:{key}" for key in AWS_CONFIG_KEYS)
    # Far from every key we know: a newer provider's key, which the provider itself judges.
    check_provider_keys(["aws:somethingQuiteNew", "whitelabel-gateway:regoin", "other:profle"])
    with pytest.raises(ConfigError, match=r"^aws:defaultTags\.tags\.team: is not a known key; it looks like a path"):
        check_provider_keys(["aws:defaultTags.tags.team"])


def test_a_yaml_syntax_error_in_a_stack_file_is_one_line_with_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import functools

    from tools import plan

    lines = (ROOT / "Pulumi.dev.yaml").read_text().splitlines()
    broken = next(i for i, line in enumerate(lines) if line.strip() == "dedicatedDomain: true")
    lines[broken] = lines[broken] + ": yes"  # a colon too many
    (tmp_path / "Pulumi.dev.yaml").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(plan, "run_program", functools.partial(run_program, project_dir=tmp_path))
    assert plan.main(["--stack", "dev"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: Pulumi.dev.yaml:{broken + 1}: mapping values are not allowed here\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            'config:\n  aws:region: "eu-west-1\n',
            3,
            "found unexpected end of stream (while scanning a quoted scalar from line 2)",
        ),
        ("config:\n  whitelabel-gateway:customers: [acme\n  aws:region: x\n", 3, "expected ',' or ']'"),
        ("config:\n\taws:region: x\n", 2, "found character '\\t' that cannot start any token"),
    ],
)
def test_yaml_errors_name_the_line_yaml_stopped_at(tmp_path: Path, text: str, line: int, words: str) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    with pytest.raises(StackFileError) as caught:
        stack_file_config("dev", tmp_path)
    assert str(caught.value).startswith(f"Pulumi.dev.yaml:{line}: {words}")
    assert "\n" not in str(caught.value) and str(tmp_path) not in str(caught.value)


def test_a_stack_file_that_is_no_mapping_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text("- config\n")
    with pytest.raises(StackFileError, match=r"^Pulumi\.dev\.yaml: must be a mapping whose config: holds"):
        stack_file_config("dev", tmp_path)


def test_make_preview_reports_a_yaml_error_in_either_stack_file_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools import preview

    base = tmp_path / "base.yaml"
    base.write_text("config:\n  whitelabel-gateway:customers:\n    acme: {\n")
    assert preview.main(["--stack", "dev", "--base", str(base)]) == 1
    err = capsys.readouterr().err
    assert err == f"error: {base}:4: expected the node content, but found '<stream end>' (while parsing a flow node)\n"
    # The working tree's stack file, named as the operator knows it.
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n   baseDomain: x\n")
    monkeypatch.setattr(preview, "stack_file_config", functools.partial(stack_file_config, project_dir=tmp_path))
    assert preview.main(["--stack", "dev", "--base", str(base)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Pulumi.dev.yaml:3: mapping values are not allowed here") and err.count("\n") == 1
