"""The applier's rules, without an emulator: every type the program registers is created, substituted or refused
with a reason; an unknown type or input stops it; placeholders are resolved where they stand on their own."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import shared_run
from tools.applier import (
    HANDLED_TYPES,
    IGNORED,
    SUBSTITUTED,
    Applied,
    Applier,
    ApplyError,
    Clients,
    Resolver,
    Substitutions,
    apply,
    dependency_order,
    ignored_reason,
    unknown_types,
    unsecret,
)
from whitelabel.offline import ROOT, Registered, StackRun, stack_file_config


class FakeSts:
    meta = SimpleNamespace(region_name="eu-west-1")

    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": "000000000000"}


def clients() -> Clients:
    return Clients(lambda service: FakeSts(), None)


def registered(type_: str, name: str, inputs: dict[str, Any] | None = None, **more: Any) -> Registered:
    urn = f"urn:pulumi:dev::p::{type_}::{name}"
    return Registered(urn, type_, name, "", True, inputs or {}, dict(inputs or {}), **more)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_type_the_program_registers_is_created_substituted_or_refused_with_a_reason(request, stack):
    run: StackRun = request.getfixturevalue(stack)

    assert unknown_types(run.custom) == []
    # The tenant's path is created, not skipped: API, authorizer, function, keys, plans, registry items.
    created = {r.type for r in run.custom} & set(HANDLED_TYPES)
    assert {
        "aws:apigateway/restApi:RestApi",
        "aws:apigateway/authorizer:Authorizer",
        "aws:lambda/function:Function",
        "aws:apigateway/usagePlan:UsagePlan",
        "aws:apigateway/apiKey:ApiKey",
        "aws:apigateway/usagePlanKey:UsagePlanKey",
        "aws:dynamodb/tableItem:TableItem",
    } <= created


MTLS = {"dedicatedDomain": True, "mtlsTruststore": "s3://trust/a.pem", "mtlsIssuers": ["CN=A"]}


@pytest.mark.parametrize(
    "keys",
    [
        {"waf": {"enabled": True}},
        {"dualStack": True},
        {"endpointType": "EDGE"},
        {"alarms": {"email": ["ops@example.com"]}},
        {"cache": {"enabled": True}},
        {"tlsPolicy": "TLS_1_2", "authorizer": {"cacheTtlSeconds": 0}, "customers": {"acme": MTLS}},
        {"customDomains": {"via": "cloudFront"}, "customers": {"acme": {"customDomain": "api.acme.io"}}},
        {"docs": {"perTenant": True}},
    ],
    ids=["waf", "dual-stack", "edge", "alarm-email", "cache", "mtls", "own-domains-cloudfront", "portal"],
)
def test_every_type_of_every_optional_feature_is_known_too(keys):
    values = stack_file_config("dev")
    values.update({f"whitelabel-gateway:{key}": value for key, value in keys.items()})

    assert unknown_types(shared_run("dev", values).custom) == []


def test_a_new_type_of_a_refused_service_must_be_placed_too():
    alarm = registered("aws:cloudwatch/compositeAlarm:CompositeAlarm", "alarm")

    assert unknown_types([alarm]) == ["aws:cloudwatch/compositeAlarm:CompositeAlarm"]


def test_no_type_is_both_created_and_skipped():
    skipped = [t for t in HANDLED_TYPES if t in SUBSTITUTED or ignored_reason(t)]

    assert skipped == []
    assert all(reason for reason in [*IGNORED.values(), *SUBSTITUTED.values()])


def test_a_type_nobody_knows_stops_the_apply_naming_it(dev):
    run = dataclasses.replace(dev, resources=[*dev.resources, registered("aws:sqs/queue:Queue", "jobs")])

    with pytest.raises(ApplyError, match=r"aws:sqs/queue:Queue"):
        apply(run, clients(), Substitutions())


def test_an_input_the_handler_does_not_know_stops_the_apply_naming_it():
    resource = registered("aws:apigateway/restApi:RestApi", "api", {"name": "x", "policy": "{}"})

    with pytest.raises(ApplyError, match=r"inputs \['policy'\] are not applied"):
        Applier.take(resource, resource.inputs, ("name",))


def test_a_dropped_input_needs_its_reason_and_is_not_sent():
    resource = registered("aws:apigateway/restApi:RestApi", "api", {"name": "x", "securityPolicy": "TLS_1_2"})

    assert Applier.take(resource, resource.inputs, ("name",), securityPolicy="no TLS here") == {"name": "x"}


def test_a_placeholder_is_resolved_whole_or_inside_an_arn_or_json_but_not_inside_a_longer_name():
    resolve = Resolver({"123456789012": "000000000000"})
    resolve.learn("958ec62b3e", "abc123")
    resolve.learn("authorizer-role", "authorizer-role-1a2b3c4")

    assert resolve("958ec62b3e") == "abc123"
    assert resolve("arn:aws:execute-api:eu-west-1:123456789012:958ec62b3e/authorizers/x") == (
        "arn:aws:execute-api:eu-west-1:000000000000:abc123/authorizers/x"
    )
    assert json.loads(resolve(json.dumps({"Resource": "arn:aws:iam::123456789012:role/authorizer-role"}))) == {
        "Resource": "arn:aws:iam::000000000000:role/authorizer-role-1a2b3c4"
    }
    assert resolve("authorizer-role-policy") == "authorizer-role-policy"
    assert resolve({"a": ["958ec62b3e", 5]}) == {"a": ["abc123", 5]}


def test_a_secret_is_handed_on_as_its_value():
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": '{"k": 1}'}

    assert unsecret({"item": secret, "other": [secret]}) == {"item": '{"k": 1}', "other": ['{"k": 1}']}


def test_dependencies_come_first_whatever_the_registration_order():
    api = registered("aws:apigateway/restApi:RestApi", "api")
    stage = registered("aws:apigateway/stage:Stage", "stage", dependencies=(api.urn,))
    plan = registered("aws:apigateway/usagePlan:UsagePlan", "plan", dependencies=(stage.urn, api.urn))

    assert [r.name for r in dependency_order([plan, stage, api])] == ["api", "stage", "plan"]


def test_an_integration_beyond_loopback_is_refused(dev):
    # No stand-in for service1: its private integration would go to the load balancer's address.
    applier = Applier(dev, clients(), Substitutions(origins={"service2": "http://127.0.0.1:1"}), ROOT)
    [integration] = [r for r in dev.of_type("aws:apigateway/integration:Integration") if "service1-any" in r.name]

    with pytest.raises(ApplyError, match="beyond loopback"):
        applier.integration(integration, unsecret(integration.inputs))


def _applied(run: StackRun) -> Applied:
    return Applied(run, {r.urn: {"id": r.id} for r in run.custom}, {}, {})


def test_a_later_up_that_changes_a_type_it_cannot_update_stops_naming_it(dev):
    api = dev.named("whitelabel-gateway-api")
    changed = dataclasses.replace(api, inputs={**api.inputs, "description": "another"})
    later = dataclasses.replace(dev, resources=[changed if r is api else r for r in dev.resources])

    with pytest.raises(ApplyError, match="updating aws:apigateway/restApi:RestApi 'whitelabel-gateway-api'"):
        apply(later, clients(), Substitutions(), previous=_applied(dev))


def test_a_later_up_that_drops_a_type_it_cannot_delete_stops_naming_it(dev):
    permission = dev.named("whitelabel-gateway-authorizer-permission")
    later = dataclasses.replace(dev, resources=[r for r in dev.resources if r is not permission])

    with pytest.raises(ApplyError, match="deleting aws:lambda/permission:Permission"):
        apply(later, clients(), Substitutions(), previous=_applied(dev))


def test_an_unchanged_later_up_touches_nothing(dev):
    steps: list[str] = []

    applied = apply(dev, clients(), Substitutions(), previous=_applied(dev), after_step=lambda r: steps.append(r.name))

    assert steps == []  # no client was called either: the fake has none but STS
    assert set(applied.real) == {r.urn for r in dev.custom}
