"""Generic backends (issue 16): the five kinds in the route table, and the gateway component wiring each one."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from components.gateway import BackendTarget, Gateway, GatewayArgs
from tests.conftest import Deployed, deploy
from whitelabel.api_definition import (
    AUTHORIZER_HEADERS,
    BACKENDS,
    TENANT_HEADERS,
    USER_HEADERS,
    Backend,
    BackendKind,
    backend_problems,
    build_routes,
)
from whitelabel.config import ThrottleSettings
from whitelabel.offline import AwsMocks, run_function

SNAPSHOT = Path(__file__).parent / "snapshots" / "program-routes.json"
INVOKE_ARN = (
    "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:eu-west-1:123456789012:function:orders/invocations"
)
ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/orders/1"
NLB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/ledger/2"


# --- the route table --------------------------------------------------------------------------------------


def _snapshot_row(route: Any) -> dict[str, Any]:
    """A route as the snapshot holds it: the tenant headers as a flag (their values belong to issue 8's work)."""
    row = json.loads(json.dumps(asdict(route)))
    params = row["integration_request_parameters"]
    row["tenant_headers"] = all(params.get(k) == v for k, v in TENANT_HEADERS.items())
    # The user headers (issue 18) go wherever the tenant headers go; the flag says both are there.
    row["tenant_headers"] = row["tenant_headers"] and all(params.get(k) == v for k, v in USER_HEADERS.items())
    row["integration_request_parameters"] = {k: v for k, v in params.items() if k not in AUTHORIZER_HEADERS}
    row["key"] = route.key
    return row


def test_the_programs_three_backends_build_exactly_the_routes_deployed_before_generic_backends() -> None:
    # Taken from build_routes() before BackendKind had five kinds: same keys, paths, methods, parameters, so
    # no resource name or input of a deployed dev/prod stack changes.
    assert [_snapshot_row(r) for r in build_routes(BACKENDS)] == json.loads(SNAPSHOT.read_text())


def test_an_http_backend_is_proxied_at_its_prefix_with_the_tenant_headers() -> None:
    root, proxy = build_routes([Backend("partner", "partner/v2", BackendKind.HTTP, "partner API")])
    assert (root.path, proxy.path) == ("/partner/v2", "/partner/v2/{proxy+}")
    assert {root.http_method, proxy.http_method} == {"ANY"}
    assert {root.kind, proxy.kind} == {"http_proxy"}
    assert (root.uri_path, proxy.uri_path) == ("/", "/{proxy}")
    for route in (root, proxy):
        assert AUTHORIZER_HEADERS.items() <= route.integration_request_parameters.items()
        assert route.authorization == "CUSTOM" and route.api_key_required


def test_a_lambda_backend_is_a_proxy_integration_posting_to_the_function() -> None:
    root, proxy = build_routes([Backend("orders", "orders", BackendKind.LAMBDA, "orders function")])
    assert (root.path, proxy.path) == ("/orders", "/orders/{proxy+}")
    assert {root.kind, proxy.kind} == {"aws_proxy"}
    # The URI is the invoke ARN itself; Lambda is always invoked with POST.
    assert {root.uri_path, proxy.uri_path} == {""}
    assert {root.integration_http_method, proxy.integration_http_method} == {"POST"}
    assert proxy.request_parameters == {"method.request.path.proxy": True}
    for route in (root, proxy):
        assert AUTHORIZER_HEADERS.items() <= route.integration_request_parameters.items()


def test_an_s3_backend_reads_under_its_key_prefix_with_get_only() -> None:
    index, document = build_routes([Backend("manuals", "manuals", BackendKind.S3, "manuals", key_prefix="site/v1")])
    assert {index.http_method, document.http_method} == {"GET"}
    assert index.uri_path == "/site/v1/index.html"
    assert document.uri_path == "/site/v1/{key}"
    # No tenant header on an S3 integration: S3 would take it as object metadata, never needed.
    assert not AUTHORIZER_HEADERS.keys() & document.integration_request_parameters.keys()


@pytest.mark.parametrize(
    ("backends", "problem"),
    [
        (
            [Backend("a", "api", BackendKind.HTTP, ""), Backend("b", "api", BackendKind.ALB, "")],
            "backends.b: prefix 'api' is also the prefix of backends.a",
        ),
        ([Backend("a", "/api", BackendKind.HTTP, "")], "backends.a: prefix '/api' must be path segments"),
        ([Backend("a", "api/{id}", BackendKind.HTTP, "")], "backends.a: prefix 'api/{id}' must be path segments"),
        ([Backend("a", "ping", BackendKind.HTTP, "")], "backends.a: prefix 'ping' is reserved by API Gateway"),
        (
            [Backend("a", "a-b", BackendKind.HTTP, ""), Backend("b", "a/b", BackendKind.HTTP, "")],
            "backends.b: prefix 'a/b' gives the resource names of prefix 'a-b' of backends.a",
        ),
        (
            [Backend("a", "api", BackendKind.HTTP, ""), Backend("b", "api/v2", BackendKind.HTTP, "")],
            "backends.b: prefix 'api/v2' nests with 'api' of backends.a",
        ),
        (
            [Backend("a", "a", BackendKind.HTTP, ""), Backend("a", "b", BackendKind.HTTP, "")],
            "backends.a: the name is given twice",
        ),
        ([Backend("a", "a", BackendKind.HTTP, "", key_prefix="x")], "backends.a: a key prefix is for S3 backends only"),
        (
            [Backend("a", "a", BackendKind.S3, "", key_prefix="../x")],
            "backends.a: key prefix '../x' must be folder names",
        ),
        (
            [Backend("a", "a-b", BackendKind.HTTP, ""), Backend("b", "a_b", BackendKind.HTTP, "")],
            "backends.b: prefix 'a_b' gives the resource names of prefix 'a-b' of backends.a",
        ),
    ],
)
def test_backends_that_cannot_share_the_api_are_refused_in_one_line_each(backends: list[Backend], problem: str) -> None:
    problems = backend_problems(backends)
    assert len(problems) == 1 and problems[0].startswith(problem), problems
    with pytest.raises(ValueError, match=r"^backends\."):
        build_routes(backends)


def test_the_programs_backends_have_no_problem() -> None:
    assert backend_problems(BACKENDS) == []


# --- the gateway component ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authorizer:
    function_name: str = "tenant-authorizer"
    invoke_arn: str = INVOKE_ARN.replace("orders", "tenant-authorizer")


def _args(backends: dict[str, BackendTarget], *, link: bool = True) -> GatewayArgs:
    return GatewayArgs(
        stage_name="dev",
        resource_prefix="wl-dev",
        backends=backends,
        throttle=ThrottleSettings(),
        log_retention_days=7,
        authorizer=Authorizer(),
        authorizer_cache_ttl_seconds=300,
        vpc_link_subnet_ids=["subnet-a", "subnet-b"] if link else None,
        vpc_link_security_group_id="sg-link" if link else None,
    )


def _gateway(backends: dict[str, BackendTarget], *, link: bool = True) -> Deployed:
    return deploy(lambda: Gateway("gw", _args(backends, link=link)))


def _integrations(run: Deployed) -> dict[str, dict[str, Any]]:
    return {
        i.name.removeprefix("gw-integration-"): i.inputs for i in run.of_type("aws:apigateway/integration:Integration")
    }


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    dns_name: str
    port: int


def test_each_kind_gets_its_integration_type_uri_and_connection() -> None:
    run = _gateway(
        {
            "web": BackendTarget.load_balancer(LoadBalancer(ALB_ARN, "internal-orders.elb", 8080)),
            "ledger": BackendTarget.load_balancer(LoadBalancer(NLB_ARN, "ledger.elb", 80), BackendKind.NLB),
            "partner": BackendTarget.http("https://api.partner.example/v2/"),
            "orders": BackendTarget.function("orders", INVOKE_ARN),
            "manuals": BackendTarget.bucket("manuals-bucket", "arn:aws:iam::123456789012:role/read", key_prefix="v1"),
        }
    )
    (link,) = run.of_type("aws:apigatewayv2/vpcLink:VpcLink")
    found = _integrations(run)
    for key, arn, uri in (
        ("web-proxy-any", ALB_ARN, "http://internal-orders.elb:8080/{proxy}"),
        ("ledger-any", NLB_ARN, "http://ledger.elb:80/"),
    ):
        assert found[key]["type"] == "HTTP_PROXY"
        assert (found[key]["connectionType"], found[key]["connectionId"]) == ("VPC_LINK", link.id)
        assert found[key]["integrationTarget"] == arn
        assert found[key]["uri"] == uri
    partner = found["partner-proxy-any"]
    assert partner["type"] == "HTTP_PROXY"
    assert partner["uri"] == "https://api.partner.example/v2/{proxy}"
    assert "connectionType" not in partner and "integrationTarget" not in partner
    orders = found["orders-proxy-any"]
    assert (orders["type"], orders["integrationHttpMethod"], orders["uri"]) == ("AWS_PROXY", "POST", INVOKE_ARN)
    assert "credentials" not in orders and "connectionType" not in orders
    manuals = found["manuals-key-get"]
    assert manuals["type"] == "AWS"
    assert manuals["uri"] == "arn:aws:apigateway:eu-west-1:s3:path/manuals-bucket/v1/{key}"
    assert manuals["credentials"] == "arn:aws:iam::123456789012:role/read"
    # The tenant headers on every non-S3 integration, none on S3's.
    for key, inputs in found.items():
        has_headers = AUTHORIZER_HEADERS.items() <= inputs.get("requestParameters", {}).items()
        assert has_headers == (not key.startswith("manuals")), key


def test_a_lambda_backend_gets_an_invoke_permission_from_this_api_under_its_prefix_only() -> None:
    run = _gateway({"orders": BackendTarget.function("orders", INVOKE_ARN, prefix="shop/orders")}, link=False)
    permission = run.named("gw-orders-invoke-permission")
    (api,) = run.of_type("aws:apigateway/restApi:RestApi")
    assert permission.inputs["function"] == "orders"
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["sourceArn"] == f"{api.outputs['executionArn']}/*/*/shop/orders*"
    # No request reaches the function before API Gateway may invoke it.
    (deployment,) = run.of_type("aws:apigateway/deployment:Deployment")
    assert permission.urn in deployment.dependencies


def test_an_s3_backend_without_a_role_gets_one_reading_only_its_key_prefix() -> None:
    run = _gateway({"manuals": BackendTarget.bucket("manuals-bucket", key_prefix="site/v1")}, link=False)
    role = run.named("gw-manuals-read-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    get, listing = json.loads(run.named("gw-manuals-read-policy").inputs["policy"])["Statement"]
    assert (get["Action"], get["Resource"]) == ("s3:GetObject", "arn:aws:s3:::manuals-bucket/site/v1/*")
    assert (listing["Action"], listing["Resource"]) == ("s3:ListBucket", "arn:aws:s3:::manuals-bucket")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "site/v1/*"}}
    for integration in _integrations(run).values():
        assert integration["credentials"] == role.outputs["arn"]


def test_no_vpc_link_without_a_private_backend() -> None:
    run = _gateway(
        {
            "partner": BackendTarget.http("https://api.partner.example"),
            "orders": BackendTarget.function("orders", INVOKE_ARN),
        },
        link=False,
    )
    assert run.of_type("aws:apigatewayv2/vpcLink:VpcLink") == []
    assert run.value.vpc_link_id is None


def test_one_vpc_link_is_shared_by_every_private_backend() -> None:
    run = _gateway(
        {
            "a": BackendTarget.load_balancer(LoadBalancer(ALB_ARN, "a.elb", 80)),
            "b": BackendTarget.load_balancer(LoadBalancer(ALB_ARN.replace("/1", "/3"), "b.elb", 80)),
            "c": BackendTarget.load_balancer(LoadBalancer(NLB_ARN, "c.elb", 80), BackendKind.NLB),
        }
    )
    (link,) = run.of_type("aws:apigatewayv2/vpcLink:VpcLink")
    assert link.inputs["subnetIds"] == ["subnet-a", "subnet-b"]
    assert link.inputs["securityGroupIds"] == ["sg-link"]
    assert {i["connectionId"] for i in _integrations(run).values()} == {link.id}
    assert {i["integrationTarget"] for i in _integrations(run).values()} == {
        ALB_ARN,
        ALB_ARN.replace("/1", "/3"),
        NLB_ARN,
    }


def _refusal(backends: dict[str, BackendTarget], *, link: bool = True) -> tuple[str, list[Any]]:
    mocks = AwsMocks("eu-west-1")
    with pytest.raises(Exception) as raised:
        run_function(lambda: Gateway("gw", _args(backends, link=link)), "dev", {}, mocks)
    return str(raised.value), mocks.registered


def test_a_private_backend_without_vpc_link_subnets_is_refused_before_any_resource() -> None:
    message, registered = _refusal(
        {
            "web": BackendTarget.load_balancer(LoadBalancer(ALB_ARN, "web.elb", 80)),
            "p": BackendTarget.http("https://x.example"),
        },
        link=False,
    )
    assert "Gateway gw: backends web are reached through a VPC link: give vpc_link_subnet_ids" in message
    assert "\n" not in message
    assert not [r for r in registered if r.type.startswith(("aws:apigateway", "whitelabel:"))]


def test_duplicate_prefixes_are_refused_before_any_resource() -> None:
    message, registered = _refusal(
        {
            "a": BackendTarget.http("https://a.example", prefix="api"),
            "b": BackendTarget.function("b", INVOKE_ARN, prefix="api"),
        }
    )
    assert "backends.b: prefix 'api' is also the prefix of backends.a" in message
    assert not [r for r in registered if r.type.startswith(("aws:apigateway", "whitelabel:"))]


def test_a_target_missing_what_its_kind_needs_is_refused() -> None:
    message, _ = _refusal({"p": BackendTarget(BackendKind.HTTP), "q": BackendTarget.http("ftp://q.example")})
    assert "backends.p: a HTTP backend needs url" in message
    assert "backends.q: url 'ftp://q.example' must start with http:// or https://" in message


def test_a_changed_backend_target_changes_the_deployment_trigger() -> None:
    # The trigger hashes origins and targets: moving an HTTP backend to another URL keeps every integration's
    # id, so only the hash can make the stage serve the new URL.
    def trigger(url: str) -> str:
        (deployment,) = _gateway({"p": BackendTarget.http(url)}, link=False).of_type(
            "aws:apigateway/deployment:Deployment"
        )
        return str(deployment.inputs["triggers"]["definition"])

    assert trigger("https://a.example") != trigger("https://b.example")
