"""The REST API as the real program deploys it: routes, private integrations, tenant headers, docs."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from tests.conftest import customers_config, shared_run
from tools import openapi as openapi_tool
from tools import plan
from whitelabel.access_log import ACCESS_LOG_FORMAT
from whitelabel.api_definition import BINARY_MEDIA_TYPES, TENANT_HEADERS, build_routes, resource_paths
from whitelabel.offline import Registered, StackRun, run_program
from whitelabel.openapi import ANY_METHOD, TARGET_FIELD

ROUTES = build_routes()


def _one(run: StackRun, type_: str) -> Registered:
    (found,) = run.of_type(type_)
    return found


def _component(run: StackRun, resource: Registered) -> str:
    return run.by_urn()[resource.parent].name


def _load_balancer(run: StackRun, service: str) -> Registered:
    (found,) = [
        lb
        for lb in run.of_type("aws:lb/loadBalancer:LoadBalancer")
        if lb.outputs["dnsName"] == run.outputs[f"{service}LoadBalancer"]
    ]
    return found


def test_rest_api_is_regional_with_execute_api_disabled_and_binary_passthrough(dev: StackRun) -> None:
    api = _one(dev, "aws:apigateway/restApi:RestApi")
    assert api.inputs["endpointConfiguration"] == {"types": "REGIONAL", "ipAddressType": "ipv4"}
    assert api.inputs["disableExecuteApiEndpoint"] is True
    assert api.inputs["binaryMediaTypes"] == list(BINARY_MEDIA_TYPES)
    assert dev.outputs["apiId"] == api.id


def test_with_dual_stack_the_api_accepts_ipv6_like_its_domains() -> None:
    run = shared_run("dev", customers_config([{"name": "acme"}], dualStack=True))
    api = _one(run, "aws:apigateway/restApi:RestApi")
    assert api.inputs["endpointConfiguration"] == {"types": "REGIONAL", "ipAddressType": "dualstack"}
    domains = run.of_type("aws:apigateway/domainName:DomainName")
    assert {d.inputs["endpointConfiguration"]["ipAddressType"] for d in domains} == {"dualstack"}


def test_every_route_of_the_definition_is_a_method_on_the_right_resource(dev: StackRun) -> None:
    resources = {r.name: r for r in dev.of_type("aws:apigateway/resource:Resource")}
    assert sorted(r.inputs["pathPart"] for r in resources.values()) == sorted(
        p.rsplit("/", 1)[1] for p in resource_paths(ROUTES)
    )
    by_id = {r.id: r for r in resources.values()}
    api = _one(dev, "aws:apigateway/restApi:RestApi")

    def path_of(resource_id: str) -> str:
        if resource_id == api.outputs["rootResourceId"]:
            return ""
        resource = by_id[resource_id]
        return path_of(resource.inputs["parentId"]) + "/" + resource.inputs["pathPart"]

    methods = {
        (path_of(m.inputs["resourceId"]), m.inputs["httpMethod"]): m
        for m in dev.of_type("aws:apigateway/method:Method")
    }
    assert set(methods) == {(r.path, r.http_method) for r in ROUTES}
    for route in ROUTES:
        method = methods[(route.path, route.http_method)]
        # Every method goes through the tenant authorizer (`Route.authorization`, issue 8).
        assert method.inputs["authorization"] == route.authorization
        assert method.inputs.get("requestParameters", {}) == route.request_parameters


def _integrations(run: StackRun) -> dict[str, Registered]:
    return {
        i.name.removeprefix("whitelabel-gateway-integration-"): i
        for i in run.of_type("aws:apigateway/integration:Integration")
    }


def test_service_routes_are_private_integrations_through_the_vpc_link_to_the_internal_albs(dev: StackRun) -> None:
    link = _one(dev, "aws:apigatewayv2/vpcLink:VpcLink")
    integrations = _integrations(dev)
    for route in (r for r in ROUTES if r.kind == "http_proxy"):
        integration = integrations[route.key]
        alb = _load_balancer(dev, route.backend)
        assert alb.inputs["internal"] is True
        assert integration.inputs["type"] == "HTTP_PROXY"
        assert integration.inputs["integrationHttpMethod"] == "ANY"
        assert integration.inputs["connectionType"] == "VPC_LINK"
        assert integration.inputs["connectionId"] == link.id
        assert integration.inputs["integrationTarget"] == alb.outputs["arn"]
        assert integration.inputs["uri"] == f"http://{alb.outputs['dnsName']}:80{route.uri_path}"
        assert integration.inputs["requestParameters"] == route.integration_request_parameters
        assert "credentials" not in integration.inputs


def test_every_service_integration_sets_the_tenant_headers_from_the_request_context(dev: StackRun) -> None:
    service_integrations = [i for k, i in _integrations(dev).items() if not k.startswith("docs")]
    assert len(service_integrations) == 4
    for integration in service_integrations:
        params = integration.inputs["requestParameters"]
        # The values are the tenant-identity contract of `whitelabel.api_definition` (issue 8).
        for header, source in TENANT_HEADERS.items():
            assert params[header] == source
    assert {"integration.request.header.X-Tenant-Id", "integration.request.header.X-Tenant-Domain"} <= set(
        TENANT_HEADERS
    )
    assert all(source.startswith("context.") for source in TENANT_HEADERS.values())


def test_proxy_routes_forward_the_path_after_the_prefix(dev: StackRun) -> None:
    integrations = _integrations(dev)
    for service in ("service1", "service2"):
        proxy = integrations[f"{service}-proxy-any"]
        assert proxy.inputs["uri"].endswith("/{proxy}")
        assert proxy.inputs["requestParameters"]["integration.request.path.proxy"] == "method.request.path.proxy"
        assert integrations[f"{service}-any"].inputs["uri"].endswith(":80/")


def test_vpc_link_sits_in_the_private_subnets_with_its_own_security_group(dev: StackRun) -> None:
    link = _one(dev, "aws:apigatewayv2/vpcLink:VpcLink")
    private = [s.id for s in dev.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["tier"] == "private"]
    assert sorted(link.inputs["subnetIds"]) == sorted(private)
    (group,) = link.inputs["securityGroupIds"]
    assert (
        _component(dev, next(s for s in dev.of_type("aws:ec2/securityGroup:SecurityGroup") if s.id == group))
        == "network"
    )


def test_docs_routes_read_the_bucket_with_the_docs_role(dev: StackRun) -> None:
    integrations = _integrations(dev)
    bucket = dev.outputs["docsBucket"]
    role = next(r for r in dev.of_type("aws:iam/role:Role") if _component(dev, r) == "docs")
    index, document = integrations["docs-get"], integrations["docs-key-get"]
    assert index.inputs["uri"] == f"arn:aws:apigateway:eu-west-1:s3:path/{bucket}/index.html"
    assert document.inputs["uri"] == f"arn:aws:apigateway:eu-west-1:s3:path/{bucket}/{{key}}"
    assert document.inputs["requestParameters"] == {"integration.request.path.key": "method.request.path.key"}
    for integration in (index, document):
        assert integration.inputs["type"] == "AWS"
        assert integration.inputs["integrationHttpMethod"] == "GET"
        assert integration.inputs["credentials"] == role.outputs["arn"]
        assert "connectionType" not in integration.inputs


def test_docs_responses_pass_content_type_and_turn_s3_errors_into_404(dev: StackRun) -> None:
    responses = {
        r.name.removeprefix("whitelabel-gateway-integration-response-"): r
        for r in dev.of_type("aws:apigateway/integrationResponse:IntegrationResponse")
    }
    for key in ("docs-get", "docs-key-get"):
        ok = responses[f"{key}-200"]
        assert ok.inputs.get("selectionPattern") in (None, "")
        assert (
            ok.inputs["responseParameters"]["method.response.header.Content-Type"]
            == "integration.response.header.Content-Type"
        )
        assert ok.inputs["contentHandling"] == "CONVERT_TO_BINARY"
        not_found = responses[f"{key}-404"]
        assert not_found.inputs["selectionPattern"] == r"4\d{2}"
        assert not_found.inputs["contentHandling"] == "CONVERT_TO_TEXT"
        assert json.loads(not_found.inputs["responseTemplates"]["application/json"]) == {"message": "Not Found"}
        assert responses[f"{key}-502"].inputs["selectionPattern"] == r"5\d{2}"
    method_responses = {
        r.name.removeprefix("whitelabel-gateway-method-response-"): r
        for r in dev.of_type("aws:apigateway/methodResponse:MethodResponse")
    }
    assert (
        method_responses["docs-key-get-200"].inputs["responseParameters"]["method.response.header.Content-Type"] is True
    )


def test_deployment_comes_after_every_method_and_integration(dev: StackRun) -> None:
    deployment = _one(dev, "aws:apigateway/deployment:Deployment")
    needed = {
        r.urn
        for r in dev.resources
        if r.type
        in (
            "aws:apigateway/method:Method",
            "aws:apigateway/integration:Integration",
            "aws:apigateway/integrationResponse:IntegrationResponse",
        )
    }
    assert len(needed) == 18
    assert needed <= set(deployment.dependencies)


def test_stage_is_named_after_the_stack_and_points_at_the_deployment(dev: StackRun, prod: StackRun) -> None:
    for run, name in ((dev, "dev"), (prod, "prod")):
        stage = _one(run, "aws:apigateway/stage:Stage")
        assert stage.inputs["stageName"] == name
        assert stage.inputs["deployment"] == _one(run, "aws:apigateway/deployment:Deployment").id
        assert run.outputs["stageName"] == name
        access = stage.inputs["accessLogSettings"]
        # One JSON object per request, traceable by API Gateway's request id (its fields, and why no client
        # text is among them: `whitelabel.access_log`, issues 10 and 14).
        assert (
            access["format"] == ACCESS_LOG_FORMAT
            and '"extendedRequestId":"$context.extendedRequestId"' in access["format"]
        )
        assert access["destinationArn"] == run.named("whitelabel-gateway-access-logs").outputs["arn"]


def test_stage_throttling_comes_from_config(dev: StackRun, prod: StackRun) -> None:
    for run, (rate, burst) in ((dev, (100, 200)), (prod, (1000, 2000))):
        settings = _one(run, "aws:apigateway/methodSettings:MethodSettings")
        assert settings.inputs["methodPath"] == "*/*"
        assert settings.inputs["settings"]["throttlingRateLimit"] == rate
        assert settings.inputs["settings"]["throttlingBurstLimit"] == burst


def test_account_logging_role_is_retained_on_delete(dev: StackRun) -> None:
    account = _one(dev, "aws:apigateway/account:Account")
    assert account.retain_on_delete is True
    role = next(r for r in dev.of_type("aws:iam/role:Role") if r.outputs["arn"] == account.inputs["cloudwatchRoleArn"])
    assert role.retain_on_delete is True
    stage = _one(dev, "aws:apigateway/stage:Stage")
    assert account.urn in stage.dependencies


def _trigger(run: StackRun) -> str:
    return _one(run, "aws:apigateway/deployment:Deployment").inputs["triggers"]["definition"]


def test_redeploys_when_an_integration_changes_but_not_otherwise(dev: StackRun) -> None:
    assert _trigger(run_program("dev")) == _trigger(dev)

    def other_port(values: dict) -> None:
        values["whitelabel-gateway:service1"] = {"port": 8080}

    changed = run_program("dev", edit=other_port)
    assert _trigger(changed) != _trigger(dev)

    def add_customer(values: dict) -> None:
        values["whitelabel-gateway:customers"]["initech"] = {}

    assert _trigger(run_program("dev", edit=add_customer)) == _trigger(dev)


# -- account logging, execution logs, names (issue 7 §4) -------------------------------------------


def _cloudwatch_role_resources(run: StackRun) -> list[Registered]:
    return [
        r
        for r in run.custom
        if r.name in ("whitelabel-gateway-cloudwatch-role", "whitelabel-gateway-cloudwatch-role-policy")
    ]


def test_account_logging_setting_waits_for_the_role_policy(dev: StackRun) -> None:
    account = _one(dev, "aws:apigateway/account:Account")
    attachment = dev.named("whitelabel-gateway-cloudwatch-role-policy")
    assert attachment.inputs["policyArn"].endswith("/AmazonAPIGatewayPushToCloudWatchLogs")
    assert attachment.urn in account.dependencies
    assert attachment.retain_on_delete is True
    for type_ in ("aws:apigateway/stage:Stage", "aws:apigateway/methodSettings:MethodSettings"):
        assert account.urn in _one(dev, type_).dependencies


@pytest.fixture(scope="module")
def variant() -> StackRun:
    """dev with the two keys a second project in the same account sets: its own prefix, no account logging."""
    return shared_run("dev", customers_config([{"name": "acme"}], namePrefix="forkco", manageAccountLogging=False))


def test_a_stack_that_does_not_manage_account_logging_creates_no_role_and_no_account_setting(
    variant: StackRun, dev: StackRun
) -> None:
    run = variant
    assert run.of_type("aws:apigateway/account:Account") == []
    assert _cloudwatch_role_resources(run) == []
    assert len(_cloudwatch_role_resources(dev)) == 2
    # The stage still waits for its execution-log group; it depends on nothing that does not exist.
    stage = _one(run, "aws:apigateway/stage:Stage")
    urns = {r.urn for r in run.resources}
    assert set(stage.dependencies) <= urns
    assert run.named("whitelabel-gateway-execution-logs").urn in stage.dependencies


def test_execution_log_group_exists_before_logging_is_switched_on_with_the_configured_retention(
    dev: StackRun, prod: StackRun
) -> None:
    for run, stage_name, days in ((dev, "dev", 14), (prod, "prod", 90)):
        api = _one(run, "aws:apigateway/restApi:RestApi")
        group = run.named("whitelabel-gateway-execution-logs")
        # The name API Gateway gives the group it would otherwise create itself, without retention.
        assert group.inputs["name"] == f"API-Gateway-Execution-Logs_{api.id}/{stage_name}"
        assert group.inputs["retentionInDays"] == days
        settings = _one(run, "aws:apigateway/methodSettings:MethodSettings")
        assert settings.inputs["settings"]["loggingLevel"] == "ERROR"
        assert group.urn in settings.dependencies
        assert group.urn in _one(run, "aws:apigateway/stage:Stage").dependencies


def _unique_names(run: StackRun) -> dict[str, str]:
    return {
        "restApi": _one(run, "aws:apigateway/restApi:RestApi").inputs["name"],
        "vpcLink": _one(run, "aws:apigatewayv2/vpcLink:VpcLink").inputs["name"],
        "accessLogs": run.named("whitelabel-gateway-access-logs").inputs["name"],
        "taskFamily": _one(run, "aws:ecs/taskDefinition:TaskDefinition").inputs["family"],
    }


def test_names_unique_per_account_and_region_carry_the_project_and_stack(dev: StackRun, prod: StackRun) -> None:
    assert _unique_names(dev) == {
        "restApi": "whitelabel-gateway-dev",
        "vpcLink": "whitelabel-gateway-dev-vpc-link",
        "accessLogs": "/aws/apigateway/whitelabel-gateway-dev/access",
        "taskFamily": "whitelabel-gateway-dev-service1",
    }
    assert _unique_names(prod)["restApi"] == "whitelabel-gateway-prod"


def test_name_prefix_replaces_the_project_in_every_unique_name(variant: StackRun) -> None:
    names = _unique_names(variant)
    assert names == {
        "restApi": "forkco-dev",
        "vpcLink": "forkco-dev-vpc-link",
        "accessLogs": "/aws/apigateway/forkco-dev/access",
        "taskFamily": "forkco-dev-service1",
    }


# -- route removal and the OpenAPI document (issue 7 §3) -------------------------------------------


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What `make openapi STACK=dev` writes (run where `make` runs it, so the default path is used)."""
    workdir = tmp_path_factory.mktemp("make-openapi")
    with contextlib.chdir(workdir):
        assert openapi_tool.main(["--stack", "dev"]) == 0
    written: dict[str, Any] = json.loads((workdir / "build" / "openapi-dev.json").read_text())
    return written


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, "ANY" if key == ANY_METHOD else key.upper()): body
        for path, methods in document["paths"].items()
        for key, body in methods.items()
    }


def test_openapi_document_is_json_with_every_route_and_method(document: dict[str, Any], dev: StackRun) -> None:
    assert document["swagger"] == "2.0"
    assert set(_operations(document)) == {(r.path, r.http_method) for r in ROUTES}
    assert document["info"]["title"] == _one(dev, "aws:apigateway/restApi:RestApi").inputs["name"]
    assert document["x-amazon-apigateway-binary-media-types"] == list(BINARY_MEDIA_TYPES)


def test_openapi_integrations_are_the_deployed_integrations(document: dict[str, Any], dev: StackRun) -> None:
    operations = _operations(document)
    integrations = _integrations(dev)
    responses = {r.name: r for r in dev.of_type("aws:apigateway/integrationResponse:IntegrationResponse")}
    method_responses = {r.name: r for r in dev.of_type("aws:apigateway/methodResponse:MethodResponse")}
    for route in ROUTES:
        body = operations[(route.path, route.http_method)]
        written, deployed = body["x-amazon-apigateway-integration"], integrations[route.key].inputs
        assert written["uri"] == deployed["uri"]
        assert written["type"].upper() == deployed["type"]
        assert written["httpMethod"] == deployed["integrationHttpMethod"]
        assert written["timeoutInMillis"] == deployed["timeoutMilliseconds"]
        assert written.get("requestParameters") == deployed.get("requestParameters")
        # The deployed integration declares its cache keys (Host on the docs routes) whether or not the cache is on.
        assert written.get("cacheKeyParameters") == deployed.get("cacheKeyParameters")
        for key in ("connectionType", "connectionId", "credentials"):
            assert written.get(key) == deployed.get(key), key
        assert body.get(TARGET_FIELD) == deployed.get("integrationTarget")
        written_responses = written.get("responses", {})
        assert len(written_responses) == len(route.integration_responses)
        for pattern, response in written_responses.items():
            resource = responses[f"whitelabel-gateway-integration-response-{route.key}-{response['statusCode']}"].inputs
            assert resource.get("selectionPattern", "default") == pattern
            assert response.get("responseParameters") == resource.get("responseParameters")
            assert response.get("responseTemplates") == resource.get("responseTemplates")
            assert response.get("contentHandling") == resource.get("contentHandling")
        assert set(body["responses"]) == set(route.method_responses)
        for status, declared in body["responses"].items():
            resource = method_responses[f"whitelabel-gateway-method-response-{route.key}-{status}"].inputs
            headers = {f"method.response.header.{h}" for h in declared.get("headers", {})}
            assert headers == set(resource.get("responseParameters", {}))
        parameters = {
            f"method.request.{p['in'].replace('query', 'querystring')}.{p['name']}" for p in body.get("parameters", [])
        }
        assert parameters == set(route.request_parameters)


def test_plan_shows_the_command_that_replaces_the_deployment_after_a_route_removal(dev: StackRun) -> None:
    deployment = _one(dev, "aws:apigateway/deployment:Deployment")
    text = plan.render(dev)
    # The engine's URN: every component's type (WhiteLabelGateway, Gateway), then the deployment's; no stack type.
    urn = (
        "urn:pulumi:dev::whitelabel-gateway::whitelabel:index:WhiteLabelGateway$whitelabel:gateway:Gateway"
        f"$aws:apigateway/deployment:Deployment::{deployment.name}"
    )
    assert f"  pulumi up --stack dev --replace '{urn}'" in text.splitlines()
    assert "deployment created in that same run still serves it" in text
