"""Every config rule, valid and invalid: one line naming key, entry and rule, before any resource."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from tests.conftest import customers_config
from whitelabel.config import ConfigError, parse_settings, read_raw_config
from whitelabel.offline import AwsMocks, engine_config, run_program, stack_file_config

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
    (with_(customers="acme"), "customers", "must be a list"),
    (with_(customers={"name": "acme"}), "customers", "must be a list"),
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
    (with_(customers=[{"name": "acme", "subdomain": "api"}]), "customers[0].subdomain", "reserved by the platform"),
    (with_(customers=[{"name": "acme", "subdomain": "status"}]), "customers[0].subdomain", "reserved"),
    (with_(customers=[{"name": "acme", "dedicatedDomain": "yes"}]), "customers[0].dedicatedDomain", "boolean"),
    (with_(customers=[{"name": "acme", "dedicated": True}]), "customers[0].dedicated", "not a known key"),
    (with_(customers=[{"name": "acme", "subdomian": "x"}]), "customers[0].subdomian", "not a known key"),
    (with_(customers=[{"name": "acme", "customDomain": "API.x.com"}]), "customers[0].customDomain", "DNS name"),
    (
        with_(customers=[{"name": "acme", "customDomain": "api.example.com"}]),
        "customers[0].customDomain",
        "inside baseDomain",
    ),
    (with_(customers=[{"name": "acme", "customDomainValidated": True}]), "customers[0]", "customDomain is not"),
    (with_(baseDmain="x.com"), "baseDmain", "not a known key"),
    (with_(logRetentionDays=10), "logRetentionDays", "retention period"),
    (with_(network={"natGateways": 3}), "network", "must not exceed availabilityZones"),
    (with_(network={"cidr": "10.0.0.0/8"}), "network.cidr", "prefix between /16 and /20"),
    (with_(network={"cidr": "banana"}), "network.cidr", "IPv4 CIDR"),
    (with_(network={"availabilityZones": 1}), "network.availabilityZones", "greater than or equal to 2"),
    (with_(service1={"cpu": 256, "memory": 4096}), "service1", "does not fit cpu 256"),
    (with_(service1={"cpu": 300}), "service1", "not a Fargate size"),
    (with_(service1={"image": "x", "prot": 80}), "service1.prot", "not a known key"),
    (with_(service2={"minSize": 3, "maxSize": 2}), "service2", "minSize (3) must not exceed maxSize (2)"),
    (with_(service2={"desiredCapacity": 9}), "service2", "desiredCapacity (9)"),
    (with_(throttle={"rateLimit": 0}), "throttle.rateLimit", "greater than 0"),
    (with_(quotas={"customDomains": 0}), "quotas.customDomains", "greater than or equal to 1"),
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
        ("acme", "whitelabel-gateway:customers: must be a list"),
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
