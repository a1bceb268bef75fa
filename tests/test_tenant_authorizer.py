"""The tenant authorizer on the gateway side: the API definition's data (headers, authorizer, gateway
responses) as plain data, and its wiring under the mock engine."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from components.tenant_authorizer import CODE_DIR, TenantAuthorizer, TenantAuthorizerArgs, code_archive
from tests.conftest import Deployed, deploy, resolve
from tools.openapi import openapi_document
from whitelabel.api_definition import (
    API_KEY_SOURCE,
    AUTHORIZER_IDENTITY_SOURCE,
    GATEWAY_RESPONSES,
    TENANT_HEADERS,
    UNAUTHORIZED_MESSAGE,
    USER_HEADERS,
    GatewayResponse,
    build_routes,
    definition_document,
    definition_hash,
)
from whitelabel.config import customer_entries
from whitelabel.offline import ACCOUNT_ID, Registered, StackRun, stack_file_config

# Every variable a gateway response template may substitute; anything else would be echoed
# literally or filled from the request.
ALLOWED_VARIABLES = {"$context.requestId", "$context.authorizer.message", "$context.authorizer.reason"}


def _responses() -> dict[str, GatewayResponse]:
    return {r.response_type: r for r in GATEWAY_RESPONSES}


def _render(template: str, values: dict[str, str]) -> str:
    """What API Gateway's plain variable substitution makes of a template."""
    return re.sub(r"\$context\.[A-Za-z.]+", lambda m: values.get(m.group(0), ""), template)


def test_tenant_headers_come_from_the_authorizer_never_the_host_as_sent_or_its_prefix() -> None:
    # X-Tenant-Domain is the hostname the registry matched (the handler's `hostname` context key), not
    # context.domainName, which carries the Host header as the client wrote it (case, port, trailing dot).
    assert TENANT_HEADERS == {
        "integration.request.header.X-Tenant-Id": "context.authorizer.tenantId",
        "integration.request.header.X-Tenant-Tier": "context.authorizer.tier",
        "integration.request.header.X-Tenant-Domain": "context.authorizer.hostname",
    }
    for route in build_routes():
        values = route.integration_request_parameters.values()
        assert not any("domainPrefix" in v or "domainName" in v for v in values)


def test_user_headers_come_from_the_authorizers_context_keys_the_handler_always_returns() -> None:
    # The handler's Allow context carries `userId` and `scopes` (`-` without a verified user), so the
    # mapping always has a value to write over a client's X-User-Id (tests/test_authorizer_jwt.py).
    assert USER_HEADERS == {
        "integration.request.header.X-User-Id": "context.authorizer.userId",
        "integration.request.header.X-User-Scopes": "context.authorizer.scopes",
    }
    for route in build_routes():
        has_user = USER_HEADERS.items() <= route.integration_request_parameters.items()
        # Every non-S3 integration, as the tenant headers; S3 would store a header as object metadata.
        assert has_user == (route.kind != "s3"), route.key


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
        "WAF_FILTERED": "403",
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
    challenge = {"gatewayresponse.header.WWW-Authenticate": "'Bearer'"} if response.status_code == "401" else {}
    assert response.response_parameters == {"gatewayresponse.header.Content-Type": "'application/json'", **challenge}
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


def test_a_401_challenges_for_a_bearer_token_and_says_what_is_wrong() -> None:
    unauthorized = _responses()["UNAUTHORIZED"]
    assert unauthorized.status_code == "401"
    # RFC 6750 §3: the challenge a client without a usable bearer token gets (a static value: single quotes).
    assert unauthorized.response_parameters["gatewayresponse.header.WWW-Authenticate"] == "'Bearer'"
    body = json.loads(_render(unauthorized.response_templates["application/json"], {"$context.requestId": "r-1"}))
    assert body == {"error": "unauthorized", "message": UNAUTHORIZED_MESSAGE, "requestId": "r-1"}
    assert "Authorization: Bearer" in body["message"] and "expired or invalid" in body["message"]


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


# -- the Lambda function (component under the mock engine) ------------------------------------------

TABLE_NAME = "whitelabel-gateway-dev-tenants"
TABLE_ARN = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT_ID}:table/{TABLE_NAME}"


def _authorizer(**overrides: Any) -> Deployed:
    values: dict[str, Any] = {
        "resource_prefix": "whitelabel-gateway-dev",
        "table_name": TABLE_NAME,
        "table_arn": TABLE_ARN,
        "registry_cache_seconds": 30,
        "log_retention_days": 14,
        **overrides,
    }
    return deploy(lambda: TenantAuthorizer("authorizer", TenantAuthorizerArgs(**values)))


def _customer_words(stack: str = "dev") -> set[str]:
    """Every customer name and hostname label the stack file holds."""
    config = stack_file_config(stack)
    base = config["whitelabel-gateway:baseDomain"]
    names = {c["name"] for c in customer_entries(config["whitelabel-gateway:customers"])}
    return names | {f"{n}.{base}" for n in names}


def test_function_runs_the_handler_folder_on_current_python_arm64_small_and_short() -> None:
    deployed = _authorizer()
    (function,) = deployed.of_type("aws:lambda/function:Function")
    assert function.inputs["name"] == "whitelabel-gateway-dev-tenant-authorizer"
    assert function.inputs["runtime"] == "python3.14"
    assert function.inputs["architectures"] == ["arm64"]
    assert function.inputs["handler"] == "handler.handler"
    assert function.inputs["memorySize"] <= 256
    assert function.inputs["timeout"] <= 5
    shipped = function.inputs["code"]["assetArchive"]
    assert "handler.py" in shipped
    assert shipped["handler.py"] == {"fileAsset": str(CODE_DIR / "handler.py")}
    assert not any("__pycache__" in path or path.endswith(".pyc") for path in shipped)


def test_function_environment_names_the_table_and_the_cache_only() -> None:
    deployed = _authorizer(registry_cache_seconds=12)
    (function,) = deployed.of_type("aws:lambda/function:Function")
    assert function.inputs["environment"] == {"variables": {"TENANT_TABLE": TABLE_NAME, "REGISTRY_CACHE_SECONDS": "12"}}


def test_no_customer_appears_in_the_functions_code_environment_or_configuration() -> None:
    deployed = _authorizer()
    words = _customer_words()
    assert words  # the dev stack has customers: the check below is not vacuous
    for resource in deployed.resources:
        text = json.dumps(resource.inputs)
        assert not [w for w in words if w in text], resource.name
    (function,) = deployed.of_type("aws:lambda/function:Function")
    for entry in function.inputs["code"]["assetArchive"].values():
        code = Path(entry["fileAsset"]).read_bytes()  # the libraries' compiled modules are not text
        assert not [w for w in words if w.encode() in code]


def test_role_may_only_read_items_of_the_registry_and_write_its_own_log_group() -> None:
    deployed = _authorizer()
    (role,) = deployed.of_type("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert deployed.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []
    (policy,) = deployed.of_type("aws:iam/rolePolicy:RolePolicy")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    (log_group,) = deployed.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [
        ("Allow", ["dynamodb:GetItem"], [TABLE_ARN]),
        ("Allow", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group.outputs['arn']}:*"]),
    ]
    assert not any("*" in action for s in statements for action in s["Action"])


def test_function_has_its_own_log_group_with_retention_created_first() -> None:
    deployed = _authorizer(log_retention_days=30)
    (log_group,) = deployed.of_type("aws:cloudwatch/logGroup:LogGroup")
    (function,) = deployed.of_type("aws:lambda/function:Function")
    (policy,) = deployed.of_type("aws:iam/rolePolicy:RolePolicy")
    assert log_group.inputs["name"] == f"/aws/lambda/{function.inputs['name']}"
    assert log_group.inputs["retentionInDays"] == 30
    assert {log_group.urn, policy.urn} <= set(function.dependencies)


def test_component_exposes_the_invoke_arn_api_gateway_calls() -> None:
    deployed = _authorizer()
    component: TenantAuthorizer = deployed.value
    (function,) = deployed.of_type("aws:lambda/function:Function")
    assert resolve(component.invoke_arn) == function.outputs["invokeArn"]
    assert resolve(component.invoke_arn).endswith(f"/functions/{function.outputs['arn']}/invocations")
    assert resolve(component.function_name) == "whitelabel-gateway-dev-tenant-authorizer"
    for child in deployed.resources:
        if child.custom:
            assert child.parent.endswith("TenantAuthorizer::authorizer"), child.name


def test_code_archive_refuses_a_folder_without_the_handler(tmp_path: Path) -> None:
    (tmp_path / "other.py").write_text("")
    with pytest.raises(FileNotFoundError, match=r"handler\.py"):
        code_archive(tmp_path)


def test_deny_messages_of_the_handler_are_safe_inside_our_json_bodies() -> None:
    """Gateway response templates cannot escape (not VTL): the handler's words must need no escaping."""
    handler = _load_handler()
    template = _responses()["ACCESS_DENIED"].response_templates["application/json"]
    resource = "arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/docs"
    for message in (handler.UNKNOWN_HOST_MESSAGE, handler.SUSPENDED_MESSAGE):
        assert json.dumps(message) == f'"{message}"'  # nothing to escape
    # A malformed host is denied before any registry lookup: the handler's real Deny answer.
    denied = handler.decide({"headers": {"Host": "bad host/x"}, "methodArn": resource}, None)
    values = {f"$context.authorizer.{k}": str(v) for k, v in denied["context"].items()}
    body = json.loads(_render(template, {**values, "$context.requestId": "r-2"}))
    assert body["reason"] == "unknown-host"
    assert body["message"] == handler.UNKNOWN_HOST_MESSAGE


def _load_handler() -> Any:
    spec = importlib.util.spec_from_file_location("tenant_authorizer_handler_for_d1", CODE_DIR / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


# -- wired into the real program (`__main__.py`, dev stack file) ------------------------------------


def _one(run: StackRun, type_: str) -> Registered:
    (found,) = run.of_type(type_)
    return found


def test_every_method_runs_the_tenant_authorizer_and_requires_the_tenant_key(dev: StackRun) -> None:
    authorizer = _one(dev, "aws:apigateway/authorizer:Authorizer")
    methods = dev.of_type("aws:apigateway/method:Method")
    assert len(methods) == len(build_routes()) == 6
    for method in methods:
        assert method.inputs["authorization"] == "CUSTOM", method.name
        assert method.inputs["authorizerId"] == authorizer.id, method.name
        assert method.inputs["apiKeyRequired"] is True, method.name
    docs = [m for m in methods if "docs" in m.name]
    assert len(docs) == 2  # the docs are behind the authorizer too


def test_authorizer_is_a_request_authorizer_on_the_host_calling_the_function(dev: StackRun) -> None:
    authorizer = _one(dev, "aws:apigateway/authorizer:Authorizer")
    function = _one(dev, "aws:lambda/function:Function")
    api = _one(dev, "aws:apigateway/restApi:RestApi")
    assert authorizer.inputs["type"] == "REQUEST"
    assert authorizer.inputs["identitySource"] == "method.request.header.Host"
    assert authorizer.inputs["authorizerUri"] == function.outputs["invokeArn"]
    assert authorizer.inputs["restApi"] == api.id
    assert authorizer.inputs["authorizerResultTtlInSeconds"] == 300  # the config default
    assert "authorizerCredentials" not in authorizer.inputs  # invoked under the function's own permission


def test_cache_settings_come_from_config(run_with: Callable[..., StackRun]) -> None:
    run = run_with([{"name": "acme"}], authorizer={"cacheTtlSeconds": 60, "registryCacheSeconds": 12})
    assert _one(run, "aws:apigateway/authorizer:Authorizer").inputs["authorizerResultTtlInSeconds"] == 60
    env = _one(run, "aws:lambda/function:Function").inputs["environment"]["variables"]
    assert env["REGISTRY_CACHE_SECONDS"] == "12"


def test_function_reads_the_registry_table_and_nothing_else(dev: StackRun) -> None:
    table = _one(dev, "aws:dynamodb/table:Table")
    function = _one(dev, "aws:lambda/function:Function")
    assert function.inputs["environment"]["variables"] == {
        "TENANT_TABLE": table.outputs["name"],
        "REGISTRY_CACHE_SECONDS": "30",
    }
    assert function.inputs["runtime"] == "python3.14"
    assert function.inputs["architectures"] == ["arm64"]
    role = dev.named("whitelabel-authorizer-role")
    assert function.inputs["role"] == role.outputs["arn"]
    (policy,) = [p for p in dev.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert statements[0]["Action"] == ["dynamodb:GetItem"]
    assert statements[0]["Resource"] == [table.outputs["arn"]]
    assert all(s["Action"][0].startswith("logs:") for s in statements[1:])


def test_only_this_apis_authorizer_may_invoke_the_function(dev: StackRun) -> None:
    permission = _one(dev, "aws:lambda/permission:Permission")
    api = _one(dev, "aws:apigateway/restApi:RestApi")
    authorizer = _one(dev, "aws:apigateway/authorizer:Authorizer")
    function = _one(dev, "aws:lambda/function:Function")
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["function"] == function.outputs["name"]
    assert permission.inputs["sourceArn"] == f"{api.outputs['executionArn']}/authorizers/{authorizer.id}"


def test_api_takes_the_key_from_the_authorizer(dev: StackRun) -> None:
    assert _one(dev, "aws:apigateway/restApi:RestApi").inputs["apiKeySource"] == "AUTHORIZER"


def test_every_gateway_response_is_deployed_with_our_body(dev: StackRun) -> None:
    api = _one(dev, "aws:apigateway/restApi:RestApi")
    deployed = {r.inputs["responseType"]: r for r in dev.of_type("aws:apigateway/response:Response")}
    assert set(deployed) == {r.response_type for r in GATEWAY_RESPONSES}
    for response in GATEWAY_RESPONSES:
        resource = deployed[response.response_type]
        assert resource.inputs["restApiId"] == api.id
        assert resource.inputs.get("statusCode") == response.status_code
        assert resource.inputs["responseTemplates"] == response.response_templates
        assert resource.inputs["responseParameters"] == response.response_parameters


def test_service_integrations_map_tenant_headers_from_the_authorizer(dev: StackRun) -> None:
    integrations = dev.of_type("aws:apigateway/integration:Integration")
    services = [i for i in integrations if i.inputs["type"] == "HTTP_PROXY"]
    assert len(services) == 4
    for integration in services:
        assert TENANT_HEADERS.items() <= integration.inputs["requestParameters"].items()
        # The dev stack has no end-user authentication; the user headers are mapped all the same (issue 18).
        assert USER_HEADERS.items() <= integration.inputs["requestParameters"].items()
    for integration in integrations:
        assert "context.domainPrefix" not in json.dumps(integration.inputs)


def test_deployment_waits_for_the_authorizer_its_permission_and_every_gateway_response(dev: StackRun) -> None:
    deployment = _one(dev, "aws:apigateway/deployment:Deployment")
    needed = {r.urn for r in dev.of_type("aws:apigateway/response:Response")}
    needed |= {_one(dev, t).urn for t in ("aws:apigateway/authorizer:Authorizer", "aws:lambda/permission:Permission")}
    assert len(needed) == len(GATEWAY_RESPONSES) + 2
    assert needed <= set(deployment.dependencies)


def test_changing_the_authorizer_cache_redeploys_the_api(run_with: Callable[..., StackRun]) -> None:
    def trigger(run: StackRun) -> str:
        return str(_one(run, "aws:apigateway/deployment:Deployment").inputs["triggers"]["definition"])

    customers = [{"name": "acme"}]
    assert trigger(run_with(customers)) != trigger(run_with(customers, authorizer={"cacheTtlSeconds": 60}))


def test_onboarding_and_suspending_never_touch_the_authorizer(run_with: Callable[..., StackRun]) -> None:
    """The customer list lives in the registry only: the function, its role and the authorizer stay as they are."""
    kinds = (
        "aws:lambda/function:Function",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:apigateway/authorizer:Authorizer",
        "aws:lambda/permission:Permission",
        "aws:apigateway/deployment:Deployment",
    )

    def authorizer_side(run: StackRun) -> dict[str, Any]:
        return {r.urn: r.inputs for k in kinds for r in run.of_type(k)}

    one = run_with([{"name": "acme"}])
    many = run_with([{"name": "acme", "suspended": True}, {"name": "zqxcorp"}, {"name": "vwyind", "tier": "standard"}])
    assert authorizer_side(one) == authorizer_side(many)
    for resource in many.resources:
        if resource.type in kinds[:4] or resource.type in (
            "aws:iam/role:Role",
            "aws:cloudwatch/logGroup:LogGroup",
        ):
            text = json.dumps(resource.inputs)
            assert "zqxcorp" not in text and "vwyind" not in text, resource.name


def test_openapi_document_describes_the_authorizer_key_source_and_responses(dev: StackRun) -> None:
    document = openapi_document("dev")
    function = _one(dev, "aws:lambda/function:Function")
    tenant = document["securityDefinitions"]["tenant"]
    assert tenant["x-amazon-apigateway-authtype"] == "custom"
    assert tenant["x-amazon-apigateway-authorizer"] == {
        "type": "request",
        "identitySource": "method.request.header.Host",
        "authorizerUri": function.outputs["invokeArn"],
        "authorizerResultTtlInSeconds": 300,
    }
    assert document["securityDefinitions"]["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    assert document["x-amazon-apigateway-api-key-source"] == "AUTHORIZER"
    operations = [op for methods in document["paths"].values() for op in methods.values()]
    assert len(operations) == 6
    for op in operations:
        assert op["security"] == [{"tenant": [], "api_key": []}], op["operationId"]
    responses = document["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == {r.response_type for r in GATEWAY_RESPONSES}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert "statusCode" not in responses["DEFAULT_4XX"]
    assert responses["ACCESS_DENIED"]["responseTemplates"] == _responses()["ACCESS_DENIED"].response_templates
    assert responses["UNAUTHORIZED"]["responseParameters"]["gatewayresponse.header.WWW-Authenticate"] == "'Bearer'"
