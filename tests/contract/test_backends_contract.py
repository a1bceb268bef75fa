"""Contract: an HTTP (URL) backend and a LAMBDA backend, through the API `build_routes()` makes of them, in LocalStack.

The HTTP backend is a stand-in on 127.0.0.1 reached by its URL (as a public URL would be, no VPC link); the
Lambda backend is a small echo function run by the emulator site's local executor. Both sit behind the
tenant authorizer; each test also asserts the authorizer really ran, so a blanket 200 or 403 cannot pass.

Seen in LocalStack 4.12: a Lambda proxy event's `headers` kept a client-sent `X-Tenant-Id` (the mapping of
the tenant headers was not applied to it), while `requestContext.authorizer` held the authorizer's tenant.
Whether AWS applies the mapping there is not proven here; a function reads `requestContext.authorizer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components import tenant_authorizer as authorizer_component
from tools.localstack_api import AuthorizerFunction, create_authorizer_function
from whitelabel.api_definition import Backend, BackendKind, url_origin
from whitelabel.policies import assume_role_policy

from .conftest import StandIn, deploy, start_stand_in

pytestmark = pytest.mark.contract

HOST, TENANT = "acme.dev.example.com", "acme"
BACKENDS = (
    Backend("partner", "partner", BackendKind.HTTP, "a partner's public API"),
    Backend("orders", "orders", BackendKind.LAMBDA, "an orders function"),
)

# The function echoes what API Gateway gave it: where the tenant reaches a Lambda backend.
ECHO = """
import json


def handler(event, context):
    echoed = {
        "authorizer": event["requestContext"].get("authorizer"),
        "domainName": event["requestContext"].get("domainName"),
        "path": event["path"],
        "pathParameters": event.get("pathParameters"),
        "headers": event.get("headers") or {},
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(echoed)}
"""


@pytest.fixture(scope="module")
def partner() -> Iterator[StandIn]:
    stand_in = start_stand_in("partner")
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def orders_function(aws: Any, tmp_path_factory: pytest.TempPathFactory) -> AuthorizerFunction:
    code = tmp_path_factory.mktemp("orders")
    (code / "echo.py").write_text(ECHO)
    role = aws("iam").create_role(
        RoleName="orders-echo-role", AssumeRolePolicyDocument=assume_role_policy("lambda.amazonaws.com")
    )["Role"]["Arn"]
    return create_authorizer_function(
        aws("lambda"),
        name="orders-echo",
        role_arn=role,
        code_dir=Path(code),
        handler="echo.handler",
        runtime=authorizer_component.RUNTIME,
        architecture=authorizer_component.ARCHITECTURE,
        memory_mb=128,
        timeout_seconds=5,
        environment={},
    )


@pytest.fixture(scope="module")
def generic_api(aws, docs_role_arn, authorizer_function, registry, partner, orders_function) -> str:
    origins = {
        # A URL with a base path and a trailing slash, as a user would give it.
        "partner": url_origin(f"http://127.0.0.1:{partner.port}/base/"),
        "orders": orders_function.invoke_arn,
    }
    return deploy(
        aws, origins, docs_role_arn, "whitelabel-generic-backends", authorizer_function, registry, backends=BACKENDS
    )


@pytest.fixture(autouse=True)
def _fresh(decisions: Any, partner: StandIn) -> None:
    decisions.reset()
    partner.received.clear()


def _headers(record: dict, name: str) -> list[str]:
    return [value for key, value in record["headers"] if key.lower() == name.lower()]


@pytest.mark.parametrize(("path", "reached"), [("/partner/a/b?x=1", "/base/a/b"), ("/partner", "/base/")])
def test_an_http_backend_gets_the_path_after_its_prefix_under_its_url_with_the_tenant(
    call, generic_api, partner, decisions, path, reached
):
    response = call(generic_api, "GET", path, HOST, headers={"X-Tenant-Id": "globex"})

    assert response.status == 200, response.body
    [record] = partner.received
    assert record["path"] == reached
    # The client's own X-Tenant-Id is overwritten by the authorizer's tenant.
    assert _headers(record, "X-Tenant-Id") == [TENANT]
    assert _headers(record, "X-Tenant-Domain") == [HOST]
    [decision] = decisions.invoked(generic_api, HOST)
    assert decision["outcome"] == "allow"


@pytest.mark.parametrize(("path", "proxy"), [("/orders/7/lines", "7/lines"), ("/orders", None)])
def test_a_lambda_backend_gets_the_tenant_in_its_request_context(call, generic_api, decisions, path, proxy):
    response = call(generic_api, "POST", path, HOST, b"{}", {"X-Tenant-Id": "globex"})

    assert response.status == 200, response.body
    echoed = response.json()
    assert echoed["path"] == path
    assert (echoed["pathParameters"] or {}).get("proxy") == proxy
    # Where the tenant identity reaches a function: the authorizer's context, which no client can set.
    assert echoed["authorizer"]["tenantId"] == TENANT
    assert echoed["domainName"] == HOST
    [decision] = decisions.invoked(generic_api, HOST)
    assert decision["outcome"] == "allow"


def test_an_unknown_host_reaches_neither_backend(call, generic_api, partner, decisions):
    for path in ("/partner/a", "/orders/a"):
        response = call(generic_api, "GET", path, "nobody.dev.example.com")
        assert response.status == 403, response.body
    assert partner.received == []
    assert [d["outcome"] for d in decisions.invoked(generic_api)] == ["deny"]
