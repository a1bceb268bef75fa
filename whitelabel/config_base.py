"""What every part of the config builds on: the one-line `ConfigError`, how a value is shown in it, and the
value types of the models (booleans and numbers as `pulumi config set --path` stores them). No model, no rule."""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
)

PROJECT = "whitelabel-gateway"

# A DNS label as RFC 1123 allows it, lowercased: what a customer's subdomain may be.
LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
LABEL_RULE = "must be a lowercase DNS label: 1 to 63 of a-z, 0-9, '-', not starting or ending with '-'"


def _one_line(text: str) -> str:
    """Control characters (a newline in a key or value) must not break the one-line contract."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


# The longest key part an error line shows as it is (known keys are far shorter).
KEY_PART_SHOWN_MAX = 60


class ConfigError(Exception):
    """A config value breaks a rule; the message is one line: key, entry, rule."""

    def __init__(self, key: str, rule: str, namespace: str = PROJECT) -> None:
        # namespace: the config namespace of the key; `aws` for provider keys such as `aws:region`.
        key, rule = _one_line(key), _one_line(rule)
        super().__init__(f"{namespace}:{key}: {rule}")
        self.key = key
        self.rule = rule


class FieldRuleError(ValueError):
    """A rule across fields of one entry, broken by `field`: reported against that field's key."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(rule)
        self.field = field


def show(value: Any, limit: int = 80) -> str:
    """`repr` of a config value for an error line, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}…{text[-4:]}"


def _bool_from_cli(value: Any) -> Any:
    # `pulumi config set --path 'customers[0].dedicatedDomain' true` stores the string "true".
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _no_bool(value: Any) -> Any:
    # Python's bool is an int: without this `desiredCount: true` would be taken as 1.
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean; a number is expected here")
    return value


def _finite(value: Any) -> Any:
    # YAML's .nan/.inf (and the strings "nan", "inf") are floats to Python, never a rate or a threshold.
    value = _no_bool(value)
    text = value.strip().lower().lstrip("+-") if isinstance(value, str) else None
    if (isinstance(value, float) and not math.isfinite(value)) or text in ("nan", "inf", "infinity"):
        raise ValueError(f"{show(value)} is not a finite number")
    return value


# Booleans: true/false, or the strings "true"/"false" that `pulumi config set --path` stores.
CliBool = Annotated[StrictBool, BeforeValidator(_bool_from_cli)]
# Numbers: a number, or the numeric string `pulumi config set --path` stores; never a boolean. Integers
# fit the 32-bit integers AWS's APIs take (usage-plan and stage burst limits, quota limits); numbers are
# finite (YAML's .inf and .nan are not a rate).
INT32_MAX = 2**31 - 1
Int = Annotated[int, BeforeValidator(_no_bool), Field(ge=-INT32_MAX, le=INT32_MAX)]
Float = Annotated[float, BeforeValidator(_finite), AllowInfNan(False), Field(le=INT32_MAX)]


def is_dns_name(value: str) -> bool:
    """True for a lowercase fully qualified DNS name of at least two labels, at most 253 characters."""
    labels = value.split(".")
    return len(value) <= 253 and len(labels) >= 2 and all(LABEL_RE.match(label) for label in labels)


class _Model(BaseModel):
    # A typo in a key must not be ignored; frozen so nothing downstream edits config.
    # Attribute docstrings are the fields' descriptions: docs/reference/config.md is made from them.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True)


# A key part shown bare; anything else (a typo with a dot, a space, non-ASCII) is shown quoted, ["…"], so
# the line stays unambiguous: `quotas["."]`, not `quotas..`.
PLAIN_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+\Z")


def key_part(name: str, first: bool = False) -> str:
    """One part of an error's key: `.name` (or `name` first), or `["…"]` when it is not a plain name
    (or longer than any key: an unknown key may be any text, the line shows its start)."""
    if PLAIN_KEY_RE.match(name) and len(name) <= KEY_PART_SHOWN_MAX:
        return name if first else f".{name}"
    shown = name if len(name) <= KEY_PART_SHOWN_MAX else name[: KEY_PART_SHOWN_MAX - 1] + "…"
    return f"[{json.dumps(shown)}]"
