"""The tenant authorizer on the gateway side: the API definition's data (headers, authorizer, gateway
responses) as plain data, and its wiring under the mock engine."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from whitelabel.api_definition import (
    API_KEY_SOURCE,
    AUTHORIZER_IDENTITY_SOURCE,
    GATEWAY_RESPONSES,
    TENANT_HEADERS,
    GatewayResponse,
    build_routes,
    definition_document,
    definition_hash,
)

# Every variable a gateway response template may substitute; anything else would be echoed
# literally or filled from the request.
ALLOWED_VARIABLES = {"$context.requestId", "$context.authorizer.message", "$context.authorizer.reason"}


def _responses() -> dict[str, GatewayResponse]:
    return {r.response_type: r for r in GATEWAY_RESPONSES}


def _render(template: str, values: dict[str, str]) -> str:
    """What API Gateway's plain variable substitution makes of a template."""
    return re.sub(r"\$context\.[A-Za-z.]+", lambda m: values.get(m.group(0), ""), template)


def test_tenant_headers_come_from_the_authorizer_and_the_domain_never_the_domain_prefix() -> None:
    assert TENANT_HEADERS == {
        "integration.request.header.X-Tenant-Id": "context.authorizer.tenantId",
        "integration.request.header.X-Tenant-Tier": "context.authorizer.tier",
        "integration.request.header.X-Tenant-Domain": "context.domainName",
    }
    for route in build_routes():
        assert not any("domainPrefix" in v for v in route.integration_request_parameters.values())


def test_every_service_route_maps_all_three_tenant_headers() -> None:
    service_routes = [r for r in build_routes() if r.kind == "http_proxy"]
    assert len(service_routes) == 4
    for route in service_routes:
        assert TENANT_HEADERS.items() <= route.integration_request_parameters.items()


def test_every_route_docs_included_uses_the_custom_authorizer_and_requires_the_tenant_key() -> None:
    routes = build_routes()
    assert {r.backend for r in routes} == {"service1", "service2", "docs"}
    for route in routes:
        assert route.authorization == "CUSTOM", route.key
        assert route.api_key_required is True, route.key


def test_authorizer_is_keyed_on_the_host_and_supplies_the_api_key() -> None:
    assert AUTHORIZER_IDENTITY_SOURCE == "method.request.header.Host"
    assert API_KEY_SOURCE == "AUTHORIZER"


def test_every_refusal_has_our_own_response_with_its_status() -> None:
    expected = {
        "ACCESS_DENIED": "403",
        "UNAUTHORIZED": "401",
        "AUTHORIZER_FAILURE": "500",
        "AUTHORIZER_CONFIGURATION_ERROR": "500",
        "INVALID_API_KEY": "403",
        "THROTTLED": "429",
        "QUOTA_EXCEEDED": "429",
        "MISSING_AUTHENTICATION_TOKEN": "404",
        "RESOURCE_NOT_FOUND": "404",
        "INTEGRATION_FAILURE": "504",
        "INTEGRATION_TIMEOUT": "504",
        "DEFAULT_4XX": None,
        "DEFAULT_5XX": None,
    }
    assert len(GATEWAY_RESPONSES) == len(_responses())
    assert {t: r.status_code for t, r in _responses().items()} == expected


@pytest.mark.parametrize("response", GATEWAY_RESPONSES, ids=lambda r: r.response_type)
def test_gateway_response_is_json_with_the_request_id_and_no_aws_wording(response: GatewayResponse) -> None:
    assert set(response.response_templates) == {"application/json"}
    assert response.response_parameters == {"gatewayresponse.header.Content-Type": "'application/json'"}
    template = response.response_templates["application/json"]
    assert set(re.findall(r"\$[A-Za-z.]+", template)) <= ALLOWED_VARIABLES
    assert "$util" not in template  # not VTL: it would reach the client literally
    body = json.loads(_render(template, {"$context.requestId": "c0ffee-1"}))
    assert body["requestId"] == "c0ffee-1"
    assert body["error"] and isinstance(body["message"], str)
    for aws_wording in ("Missing Authentication Token", "Forbidden", "Internal server error", "Limit Exceeded"):
        assert aws_wording not in template


def test_access_denied_says_why_from_the_authorizer_context() -> None:
    template = _responses()["ACCESS_DENIED"].response_templates["application/json"]
    suspended = {
        "$context.requestId": "r-1",
        "$context.authorizer.reason": "suspended",
        "$context.authorizer.message": "This tenant is suspended",
    }
    body = json.loads(_render(template, suspended))
    assert body == {
        "error": "forbidden",
        "reason": "suspended",
        "message": "This tenant is suspended",
        "requestId": "r-1",
    }
    # An ACCESS_DENIED not caused by our authorizer has no context: still valid JSON.
    assert json.loads(_render(template, {}))["error"] == "forbidden"


def test_missing_route_is_not_found_and_authorizer_errors_fail_closed() -> None:
    responses = _responses()
    missing = json.loads(_render(responses["MISSING_AUTHENTICATION_TOKEN"].response_templates["application/json"], {}))
    assert missing["error"] == "not-found"
    for kind in ("AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"):
        body = json.loads(_render(responses[kind].response_templates["application/json"], {}))
        assert "refused" in body["message"]


def test_definition_hash_covers_authorizer_settings_and_gateway_responses() -> None:
    routes = build_routes()
    base = definition_hash(routes, {})
    document = json.loads(definition_document(routes, {}))
    assert document["apiKeySource"] == "AUTHORIZER"
    assert document["authorizerIdentitySource"] == "method.request.header.Host"
    assert len(document["gatewayResponses"]) == len(GATEWAY_RESPONSES)
    assert all(r["authorization"] == "CUSTOM" and r["api_key_required"] is True for r in document["routes"])

    reworded = tuple(
        replace(r, response_templates={"application/json": '{"message":"x"}'}) if r.response_type == "THROTTLED" else r
        for r in GATEWAY_RESPONSES
    )
    assert definition_hash(routes, {}, reworded) != base
    no_key = tuple(replace(r, api_key_required=False) if r.backend == "docs" else r for r in routes)
    assert definition_hash(no_key, {}) != base
    assert definition_hash(routes, {"authorizer": {"ttl": 60}}) != base
