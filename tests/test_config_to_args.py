"""One path from config to resources (issue 25 §1, §2): the stack file's keys are the component's args by one rule,
both ways, with nothing lost: every model field has its arg, every config value reaches the args, and the program
registers what the component registers from the same values given as args."""

from __future__ import annotations

import typing
from typing import Any, NotRequired, get_args, get_origin

import pytest
from hypothesis import given
from pydantic import BaseModel

from components.args import WhiteLabelGatewayArgs
from tests.test_config_properties import PROFILE, valid_configs
from whitelabel.component_args import (
    NOT_CONFIG,
    PROGRAM_KEYS,
    RENAMED,
    ArgError,
    args_of_config,
    camel,
    raw_config,
    settings_of,
    snake,
)
from whitelabel.config_rules import customer_entries
from whitelabel.gateway_config import Settings, model_of


def _typed_dict(annotation: Any) -> Any:
    if get_origin(annotation) is NotRequired:
        annotation = get_args(annotation)[0]
    if typing.is_typeddict(annotation):
        return annotation
    for arg in get_args(annotation):
        found = _typed_dict(arg)
        if found is not None:
            return found
    return None


def differences(
    model: type[BaseModel], typed: Any, path: str, skip_config: frozenset[str], skip_args: frozenset[str]
) -> list[str]:
    """Config keys of `model` with no arg in `typed` and args with no config key, recursively, as paths."""
    keys = {(f.alias or name): f.annotation for name, f in model.model_fields.items()} if model else {}
    hints = dict(typed.__annotations__)
    config_keys = {k for k in keys if k not in skip_config}
    arg_of = {k: {c: a for a, c in RENAMED.items()}.get(k) or snake(k) for k in config_keys}
    found = [f"{path}{k}: no arg {arg_of[k]!r}" for k in sorted(config_keys) if arg_of[k] not in hints]
    found += [f"{path}{a}: arg with no config key" for a in sorted(set(hints) - set(arg_of.values()) - skip_args)]
    for key in sorted(config_keys):
        arg = arg_of[key]
        inner_model, inner_typed = model_of(keys[key]), _typed_dict(hints.get(arg))
        if inner_model is not None and inner_typed is not None:
            # A tenant's `off` is the config's `auth: none` (the schema has no string-or-object union).
            found += differences(inner_model, inner_typed, f"{path}{key}.", frozenset(), frozenset({"off"}))
        elif (inner_model is None) != (inner_typed is None) and arg in hints:
            found.append(f"{path}{key}: a {'model' if inner_model else 'value'} in config, not in the args")
    return found


def test_every_config_key_is_an_arg_and_every_arg_a_config_key_at_every_depth() -> None:
    # A field added to the model (or the args) and not to the other fails here, naming it.
    assert differences(Settings, WhiteLabelGatewayArgs, "", PROGRAM_KEYS, NOT_CONFIG) == []


@pytest.mark.parametrize(
    "key", ["perTenantLimit", "latencyP99Ms", "integrationLatencyP99Ms", "cacheTtlSeconds", "mtlsTruststore", "tls"]
)
def test_snake_and_camel_are_each_others_way_back(key: str) -> None:
    assert camel(snake(key)) == key


def _comparable(raw: dict[str, Any]) -> dict[str, Any]:
    """The config without the program's keys, customers in the list form (what `raw_config` gives back)."""
    kept = {k: v for k, v in raw.items() if k not in PROGRAM_KEYS}
    if "customers" in kept:
        kept["customers"] = customer_entries(kept["customers"])
    return kept


@PROFILE
@given(valid_configs())
def test_every_value_of_a_valid_stack_file_reaches_the_args_and_comes_back(raw: dict[str, Any]) -> None:
    args = args_of_config(raw)
    assert not set(args) & NOT_CONFIG
    back, _ = raw_config(args)
    assert back == _comparable(raw)


@pytest.mark.parametrize(
    ("auth", "line"),
    [
        ({"isuer": "https://idp.example.org"}, "tenants[0].auth.isuer: is not a known key; did you mean `issuer`?"),
        ("off", "tenants[0].auth: must be 'none' or a mapping of keys (not 'off')"),
    ],
)
def test_a_component_user_sees_a_wrong_tenant_auth_at_its_arg_path(auth: Any, line: str) -> None:
    # The same rule as a config user's `customers.acme.auth.isuer` (tests/test_config.py), in the args' words.
    with pytest.raises(ArgError) as caught:
        settings_of({"base_domain": "example.com", "tenants": [{"name": "acme", "auth": auth}]})
    assert str(caught.value).startswith(line)
