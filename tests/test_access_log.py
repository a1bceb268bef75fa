"""The access log stays one parseable JSON object per request whatever a client sends.

API Gateway fills the format by plain text replacement: no escaping, except the variables AWS documents
as already quoted (`QUOTED`). `render` does the same, so a value that could break the line breaks it here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest

from whitelabel.access_log import (
    ACCESS_LOG_FORMAT,
    BOUNDED,
    CLIENT_TEXT,
    FIELDS,
    QUOTED,
    context_variables,
    is_documented,
    log_format,
)
from whitelabel.api_definition import build_routes

_VARIABLE_RE = re.compile(r"\$context(?:\.[A-Za-z0-9_-]+)+")

# What a client can put in a header, a path, a Host or an error message that quotes them.
HOSTILE = (
    'say "hi"',
    '","tenantId":"victim',
    '"}{"tenantId":"victim","x":"',
    "back\\slash\\",
    '\\"',
    "\\u0022",
    "line\nbreak\r\n",
    "\x00\x01\x07\x1b[31m\x1f\x7f",
    "tab\there",
    "ünïcødé ☃ 𝄞 \u2028 \u2029 \ufeff",
    "$context.authorizer.tenantId",
    "-",
    "",
)


def render(log_format: str, values: Mapping[str, str]) -> str:
    """The line API Gateway writes: each variable replaced by its value in one pass, verbatim; a `QUOTED`
    variable replaced by its value as a JSON string (quotes included)."""

    def value(match: re.Match[str]) -> str:
        variable = match.group(0)
        text = values.get(variable, "-")
        return json.dumps(text, ensure_ascii=False) if variable in QUOTED else text

    return _VARIABLE_RE.sub(value, log_format)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate keys: {keys}")
    return dict(pairs)


def parsed_fields(log_format: str, fields: Mapping[str, str], values: Mapping[str, str]) -> dict[str, Any]:
    """The logged line as JSON, refusing anything but exactly `fields`' keys (an injected key fails)."""
    logged = json.loads(render(log_format, values), object_pairs_hook=_unique_keys)
    if set(logged) != set(fields):
        raise ValueError(f"keys {sorted(set(logged) ^ set(fields))} differ from the format's")
    return logged


def test_every_variable_of_the_format_is_classified_and_none_carries_client_text() -> None:
    used = set(context_variables(ACCESS_LOG_FORMAT))
    assert used == set(FIELDS.values())
    assert used & set(CLIENT_TEXT) == set()
    # Adding a variable means saying why a client cannot break the line with it.
    assert used - set(BOUNDED) - QUOTED == set()
    assert set(BOUNDED) & set(CLIENT_TEXT) == set() and QUOTED & set(CLIENT_TEXT) == set()
    assert all(is_documented(v) for v in (*BOUNDED, *QUOTED, *CLIENT_TEXT))


def test_the_variables_the_issue_names_are_decided() -> None:
    for variable in (
        "$context.identity.userAgent",
        "$context.path",
        "$context.domainName",
        "$context.authorizer.error",
        "$context.error.message",
        "$context.requestId",
    ):
        assert variable in CLIENT_TEXT and variable not in context_variables(ACCESS_LOG_FORMAT)
    assert "$context.resourcePath" in BOUNDED and "$context.identity.sourceIp" in BOUNDED
    # The error message is logged in its quoted form, as a JSON value of its own (no quotes around it).
    assert '"errorMessage":$context.error.messageString,' in ACCESS_LOG_FORMAT


@pytest.mark.parametrize("hostile", HOSTILE, ids=repr)
def test_hostile_text_keeps_every_field_its_own_value(hostile: str) -> None:
    # Every variable a client can reach gets the hostile text; the rest their "no value" `-`.
    reachable = {v: hostile for v in FIELDS.values() if v in QUOTED or v in CLIENT_TEXT}
    assert reachable  # the error message at least
    logged = parsed_fields(ACCESS_LOG_FORMAT, FIELDS, reachable)
    assert logged == {key: reachable.get(variable, "-") for key, variable in FIELDS.items()}
    assert logged["tenantId"] == "-" and logged["errorMessage"] == hostile


@pytest.mark.parametrize("hostile", [h for h in HOSTILE if set(h) & set('"\\\x00\n\x1f')], ids=repr)
def test_the_check_catches_the_old_format(hostile: str) -> None:
    # What the format was before: the user agent, path, host and error message between quotes.
    old = {
        **FIELDS,
        "userAgent": "$context.identity.userAgent",
        "path": "$context.path",
        "host": "$context.domainName",
        "errorMessage": "$context.error.message",
    }
    old_format = log_format(old)
    values = {v: hostile for v in old.values() if v in CLIENT_TEXT}
    with pytest.raises(ValueError):  # json.JSONDecodeError is a ValueError
        logged = parsed_fields(old_format, old, values)
        # A line that still parses must at least keep every field its own value.
        if logged != {key: values.get(variable, "-") for key, variable in old.items()}:
            raise ValueError("a field lost its value")


def test_bounded_values_in_their_documented_forms_parse() -> None:
    routes = sorted({route.path for route in build_routes()})
    samples = {
        "$context.extendedRequestId": "Jf3lqGUAoAMEYXw=",
        "$context.requestTimeEpoch": "1735689600123",
        "$context.xrayTraceId": "Root=1-5e1b4151-5ac6c58f5f4d4c4e8f1b5d3e",
        "$context.stage": "prod",
        "$context.authorizer.tenantId": "acme",
        "$context.authorizer.tier": "premium",
        "$context.authorizer.reason": "suspended",
        "$context.authorizer.hostname": "api.acme-corp.com",
        "$context.identity.apiKeyId": "a1b2c3d4e5",
        "$context.identity.sourceIp": "2001:db8::1",
        "$context.tlsVersion": "TLSv1.3",
        "$context.cipherSuite": "TLS_AES_128_GCM_SHA256",
        "$context.httpMethod": "DELETE",
        "$context.resourcePath": routes[-1],
        "$context.protocol": "HTTP/1.1",
        "$context.status": "429",
        "$context.error.responseType": "QUOTA_EXCEEDED",
        "$context.error.messageString": "Limit Exceeded",
        "$context.responseLength": "0",
        "$context.responseLatency": "12",
        "$context.integration.latency": "-",
        "$context.integration.status": "-",
        "$context.authorizer.status": "200",
        "$context.authorizer.latency": "3",
        "$context.wafResponseCode": "WAF_ALLOW",
    }
    assert set(samples) == set(FIELDS.values())
    logged = parsed_fields(ACCESS_LOG_FORMAT, FIELDS, samples)
    assert logged == {key: samples[variable] for key, variable in FIELDS.items()}


def test_route_templates_hold_no_character_that_breaks_a_json_string() -> None:
    # `resourcePath` is logged between quotes because it is one of these, never the client's path.
    paths = {route.path for route in build_routes()}
    assert paths and all(re.fullmatch(r"/[A-Za-z0-9/{}+_.-]*", path) for path in paths), paths
