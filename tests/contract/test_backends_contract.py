"""Contract: an HTTP (URL) backend and a LAMBDA backend, through a `WhiteLabelGateway` program, in LocalStack.

The program (`generic_program`) is what a component user writes: an echo function of its own (a Lambda backend)
and the component with a `HTTP` backend at a stand-in's URL on 127.0.0.1 (as a public URL would be, no VPC link)
and a `LAMBDA` backend at that function. It runs under the mock engine and `tools/applier.py` applies all it
registers: the function, the gateway's routes, its invoke permission, the tenant authorizer, the registry items.
Each test also asserts the authorizer really ran, so a blanket 200 or 403 cannot pass.

Seen in LocalStack 4.12: a Lambda proxy event's `headers` kept a client-sent `X-Tenant-Id` (the mapping of
the tenant headers was not applied to it), while `requestContext.authorizer` held the authorizer's tenant.
Whether AWS applies the mapping there is not proven here; a function reads `requestContext.authorizer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components import tenant_authorizer as authorizer_component
from components.args import BackendArgs, BackendKind, WhiteLabelGatewayArgs
from components.white_label_gateway import WhiteLabelGateway
from whitelabel.policies import assume_role_policy

from .conftest import STAGE, StandIn, run_component, start_stand_in

pytestmark = pytest.mark.contract

HOST, TENANT = "acme.dev.example.com", "acme"

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


def generic_program(partner_url: str, code: Path) -> Callable[[], None]:
    """A component user's program: its own echo function, and a gateway with an HTTP and a LAMBDA backend."""

    def build() -> None:
        role = aws.iam.Role("orders-echo-role", assume_role_policy=assume_role_policy("lambda.amazonaws.com"))
        echo = aws.lambda_.Function(
            "orders-echo",
            name="orders-echo",
            runtime=authorizer_component.RUNTIME,
            architectures=[authorizer_component.ARCHITECTURE],
            handler="echo.handler",
            code=pulumi.AssetArchive({"echo.py": pulumi.FileAsset(str(code / "echo.py"))}),
            role=role.arn,
            memory_size=128,
            timeout=5,
        )
        WhiteLabelGateway(
            "generic",
            WhiteLabelGatewayArgs(
                base_domain="dev.example.com",
                stage_name=STAGE,
                name_prefix="generic-dev",
                backends={
                    "partner": BackendArgs(kind=BackendKind.HTTP, url=partner_url),
                    "orders": BackendArgs(
                        kind=BackendKind.LAMBDA, function_name=echo.name, function_invoke_arn=echo.invoke_arn
                    ),
                },
                tenants=[{"name": TENANT}],
                tiers={"standard": {"rate_limit": 10, "burst_limit": 20}},
                waf={"enabled": False},
            ),
        )

    return build


@pytest.fixture(scope="module")
def partner() -> Iterator[StandIn]:
    stand_in = start_stand_in("partner")
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def generic_api(serve: Any, partner: StandIn, tmp_path_factory: pytest.TempPathFactory) -> str:
    code = tmp_path_factory.mktemp("orders")
    (code / "echo.py").write_text(ECHO)
    # A URL with a base path and a trailing slash, as a user would give it.
    run = run_component(generic_program(f"http://127.0.0.1:{partner.port}/base/", code))
    return serve(run).api_id


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
