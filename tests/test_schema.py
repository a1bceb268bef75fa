"""The component package's schema (plugin/schema.json): current, and describing both components as their args say.

Other languages see only the schema: a required arg that the schema calls optional, a missing enum value or a
lost description is a broken API for them even when the Python classes are right.
"""

from __future__ import annotations

import json
import re
import typing
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pulumi.provider.experimental.util import camel_case

from components import args as public
from tools.schema import SCHEMA_FILE, plugin_entry, render, schema

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "whitelabel"
GATEWAY = f"{PACKAGE}:index:WhiteLabelGateway"
TENANT_SET = f"{PACKAGE}:index:TenantSet"


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    return schema()


def type_ref(name: str) -> str:
    return f"#/types/{PACKAGE}:index:{name}"


def test_committed_schema_is_what_the_code_gives(generated: dict[str, Any]) -> None:
    committed = SCHEMA_FILE.read_text()
    assert committed == render(generated), (
        "plugin/schema.json is stale: the components' args or outputs changed. Run `make schema` and commit it."
    )


def test_the_plugin_serves_both_components_under_the_package_name(generated: dict[str, Any]) -> None:
    name, components = plugin_entry()
    assert name == generated["name"] == PACKAGE
    assert [c.__name__ for c in components] == ["WhiteLabelGateway", "TenantSet"]
    assert set(generated["resources"]) == {GATEWAY, TENANT_SET}
    for token in (GATEWAY, TENANT_SET):
        resource = generated["resources"][token]
        assert resource["isComponent"] is True
        # The class docstring: what `pulumi package add` puts on the generated class in every language.
        assert resource["description"]


@pytest.mark.parametrize(
    ("token", "typed_dict"), [(GATEWAY, public.WhiteLabelGatewayArgs), (TENANT_SET, public.TenantSetArgs)]
)
def test_component_inputs_and_required_ones_are_the_typed_dicts(
    generated: dict[str, Any], token: str, typed_dict: type
) -> None:
    resource = generated["resources"][token]
    keys = typed_dict.__required_keys__ | typed_dict.__optional_keys__  # type: ignore[attr-defined]
    assert set(resource["inputProperties"]) == {camel_case(k) for k in keys}
    assert set(resource.get("requiredInputs", [])) == {camel_case(k) for k in typed_dict.__required_keys__}  # type: ignore[attr-defined]


def test_nested_arg_types_keep_their_required_fields(generated: dict[str, Any]) -> None:
    """Every TypedDict of components/args.py reachable from the components is an object type with its required keys."""
    checked = 0
    for name, cls in vars(public).items():
        if not (isinstance(cls, type) and typing.is_typeddict(cls)) or name.endswith(("GatewayArgs", "SetArgs")):
            continue
        schema_type = generated["types"].get(f"{PACKAGE}:index:{name}")
        if schema_type is None:
            continue
        checked += 1
        assert schema_type["type"] == "object"
        assert set(schema_type["properties"]) == {
            camel_case(k) for k in cls.__required_keys__ | cls.__optional_keys__
        }, name
        assert set(schema_type.get("required", [])) == {camel_case(k) for k in cls.__required_keys__}, name
    # BackendArgs, TenantArgs, TierArgs, TierQuotaArgs, ThrottleArgs, AuthorizerArgs, WafArgs, CacheArgs, AlarmArgs,
    # QuotaArgs: all reachable from WhiteLabelGatewayArgs.
    assert checked >= 10


def test_what_other_languages_must_give_and_may_leave_out(generated: dict[str, Any]) -> None:
    gateway = generated["resources"][GATEWAY]
    assert {"baseDomain", "stageName", "namePrefix", "backends"} <= set(gateway["requiredInputs"])
    assert "tenants" not in gateway["requiredInputs"]
    # Backends: a map of one object type with a kind enum (the analyzer refuses unions).
    backends = gateway["inputProperties"]["backends"]
    assert backends["type"] == "object"
    assert backends["additionalProperties"]["$ref"] == type_ref("BackendArgs")
    backend = generated["types"][f"{PACKAGE}:index:BackendArgs"]
    assert backend["required"] == ["kind"]
    assert backend["properties"]["kind"]["$ref"] == type_ref("BackendKind")
    # Plain where the component fans out at construct time; an Input where another resource's output may come.
    assert gateway["inputProperties"]["tenants"]["plain"] is True
    assert backend["properties"]["loadBalancerArn"].get("plain") is None
    tenant_set = generated["resources"][TENANT_SET]
    assert {"tenants", "restApiId", "usagePlanIds", "registryTableName"} <= set(tenant_set["requiredInputs"])
    assert tenant_set["inputProperties"]["restApiId"].get("plain") is None
    assert tenant_set["inputProperties"]["tiers"] == {
        "description": "The platform's tier names (plain: each tenant's tier must be one of them).",
        "type": "array",
        "items": {
            "description": "The platform's tier names (plain: each tenant's tier must be one of them).",
            "type": "string",
            "plain": True,
        },
        "plain": True,
    }


@pytest.mark.parametrize("enum", [public.BackendKind, public.TenantDns, public.WafMode, public.QuotaPeriod])
def test_enums_carry_every_value(generated: dict[str, Any], enum: type[Enum]) -> None:
    schema_enum = generated["types"][f"{PACKAGE}:index:{enum.__name__}"]
    assert schema_enum["type"] == "string"
    assert [(v["name"], v["value"]) for v in schema_enum["enum"]] == [(m.name, m.value) for m in enum]
    assert schema_enum["description"] == (enum.__doc__ or "").strip()


def test_descriptions_come_from_the_docstrings(generated: dict[str, Any]) -> None:
    kinds = {v["value"]: v.get("description") for v in generated["types"][f"{PACKAGE}:index:BackendKind"]["enum"]}
    assert kinds["LAMBDA"] == (
        "A Lambda function (AWS_PROXY integration); the component grants API Gateway its invoke permission."
    )
    gateway = generated["resources"][GATEWAY]["inputProperties"]
    assert gateway["baseDomain"]["description"] == "Tenants are reached at `<subdomain>.<base_domain>`."
    tenant = generated["types"][f"{PACKAGE}:index:TenantArgs"]["properties"]
    assert tenant["previousTier"]["description"].startswith("The tier being left")


def test_outputs_other_languages_read(generated: dict[str, Any]) -> None:
    gateway = generated["resources"][GATEWAY]
    assert {
        "apiId",
        "stageName",
        "stageArn",
        "vpcLinkId",
        "usagePlanIds",
        "registryTableName",
        "certificateArn",
        "wildcardDomainTarget",
        "wildcardDomainZoneId",
        "endpoints",
        "tenants",
    } <= set(gateway["properties"])
    # Optional in Python, so not required in the schema: there is no VPC link without an ALB or NLB backend.
    assert "vpcLinkId" not in gateway["required"]
    assert gateway["properties"]["usagePlanIds"] == {
        "description": gateway["properties"]["usagePlanIds"]["description"],
        "type": "object",
        "additionalProperties": {"description": gateway["properties"]["usagePlanIds"]["description"], "type": "string"},
    }
    assert set(generated["resources"][TENANT_SET]["properties"]) >= {"endpoints", "tenants"}


# -- the docs page "Use it as a component" names every arg and output the schema has -----------------------------


def _component_section() -> str:
    """The docs page "Use it as a component" (README's section before the docs site), whole."""
    return (ROOT / "docs" / "component.md").read_text()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _bullet(section: str, opening: str) -> str:
    start = section.index(f"- {opening}")
    end = section.find("\n- ", start + 1)
    return section[start : end if end != -1 else len(section)]


def test_readme_names_every_input_and_exactly_the_outputs_of_each_component() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())["resources"]
    section = _component_section()
    mentioned = set(re.findall(r"`([a-z][a-z0-9_]*)`", section))
    for token in ("whitelabel:index:WhiteLabelGateway", "whitelabel:index:TenantSet"):
        inputs = {_snake(name) for name in schema[token]["inputProperties"]}
        assert inputs <= mentioned, f"docs 'Use it as a component' does not name {sorted(inputs - mentioned)}"
    listed = set(re.findall(r"`([a-z][a-z0-9_]*)`", _bullet(section, "Outputs:")))
    outputs = {_snake(name) for name in schema["whitelabel:index:WhiteLabelGateway"]["properties"]}
    assert listed == outputs
