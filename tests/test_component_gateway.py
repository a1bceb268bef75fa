"""WhiteLabelGateway with small args, directly (no program): each backend kind, the VPC link only with a
private backend, the WAF off, refusals naming the arg path, outputs without API key values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.args import BackendArgs, BackendKind, WhiteLabelGatewayArgs
from components.white_label_gateway import WhiteLabelGateway
from tests.conftest import Deployed, deploy, resolve

LB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/orders/abc"
NLB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/stock/def"
BACKENDS: dict[str, BackendArgs] = {
    "orders": BackendArgs(
        kind=BackendKind.ALB, load_balancer_arn=LB_ARN, load_balancer_dns_name="orders.internal", port=80
    ),
    "stock": BackendArgs(
        kind=BackendKind.NLB, load_balancer_arn=NLB_ARN, load_balancer_dns_name="stock.internal", port=8080
    ),
    "partners": BackendArgs(kind=BackendKind.HTTP, url="https://api.partner.example.net/v1"),
    "reports": BackendArgs(
        kind=BackendKind.LAMBDA,
        function_name="reports",
        function_invoke_arn="arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/reports/invocations",
    ),
    "files": BackendArgs(kind=BackendKind.S3, bucket_name="files-bucket", key_prefix="public"),
}
PUBLIC = {name: BACKENDS[name] for name in ("partners", "reports", "files")}


def args(backends: dict[str, BackendArgs] | None = None, **more: Any) -> WhiteLabelGatewayArgs:
    base: dict[str, Any] = {
        "base_domain": "example.com",
        "stage_name": "test",
        "name_prefix": "acme-test",
        "backends": PUBLIC if backends is None else backends,
        "tenants": [{"name": "acme"}, {"name": "globex", "tier": "gold", "dedicated_domain": True}],
        "tiers": {"standard": {"rate_limit": 10, "burst_limit": 20}, "gold": {"rate_limit": 100, "burst_limit": 200}},
        "waf": {"enabled": False},
    }
    base.update(more)
    return WhiteLabelGatewayArgs(**base)  # type: ignore[typeddict-item]


def build(a: WhiteLabelGatewayArgs, name: str = "wl") -> Deployed:
    return deploy(lambda: WhiteLabelGateway(name, a))


@pytest.fixture(scope="module")
def every_kind() -> Deployed:
    return build(
        args(
            BACKENDS,
            vpc_link_subnet_ids=["subnet-a", "subnet-b"],
            vpc_link_security_group_id="sg-link",
            waf={"enabled": True},
        )
    )


def _integrations(run: Deployed) -> dict[str, dict[str, Any]]:
    return {r.name: r.inputs for r in run.of_type("aws:apigateway/integration:Integration")}


def test_each_backend_kind_is_integrated_its_way(every_kind: Deployed) -> None:
    integrations = _integrations(every_kind)
    (link,) = every_kind.of_type("aws:apigatewayv2/vpcLink:VpcLink")
    assert link.inputs["subnetIds"] == ["subnet-a", "subnet-b"]
    alb = integrations["wl-gateway-integration-orders-any"]
    assert (alb["type"], alb["connectionType"], alb["integrationTarget"]) == ("HTTP_PROXY", "VPC_LINK", LB_ARN)
    assert alb["uri"].startswith("http://orders.internal")
    nlb = integrations["wl-gateway-integration-stock-any"]
    assert (nlb["connectionType"], nlb["integrationTarget"]) == ("VPC_LINK", NLB_ARN)
    http = integrations["wl-gateway-integration-partners-any"]
    assert http["type"] == "HTTP_PROXY" and "connectionType" not in http
    assert http["uri"].startswith("https://api.partner.example.net/v1")
    assert integrations["wl-gateway-integration-reports-any"]["type"] == "AWS_PROXY"
    s3 = [i for n, i in integrations.items() if "-files-" in n]
    assert s3 and all(i["type"] == "AWS" and i["credentials"] for i in s3)
    # Tenant headers on every non-S3 integration, from the authorizer.
    for name, integration in integrations.items():
        if "-files-" not in name:
            assert integration["requestParameters"]["integration.request.header.X-Tenant-Id"] == (
                "context.authorizer.tenantId"
            )
    (permission,) = [p for p in every_kind.of_type("aws:lambda/permission:Permission") if "reports" in p.name]
    assert permission.inputs["function"] == "reports"


def test_operations_measure_the_albs_and_the_buckets_it_was_given(every_kind: Deployed) -> None:
    alarms = {r.name for r in every_kind.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert "wl-operations-alarm-integration-latency-orders" in alarms
    assert "wl-operations-alarm-integration-latency-files" in alarms
    # No ALB response time for an NLB, and nothing of the program's service1/service2/docs.
    assert not {a for a in alarms if "stock" in a or "service1" in a or "docs" in a}


def test_children_are_named_by_role_under_the_component(every_kind: Deployed) -> None:
    component = every_kind.named("wl")
    assert component.type == "whitelabel:index:WhiteLabelGateway"
    for role, type_ in (
        ("registry", "whitelabel:tenant_registry:TenantRegistry"),
        ("authorizer", "whitelabel:tenant_authorizer:TenantAuthorizer"),
        ("gateway", "whitelabel:gateway:Gateway"),
        ("waf", "whitelabel:waf:Waf"),
        ("operations", "whitelabel:operations:Operations"),
        ("tenants", "whitelabel:index:TenantSet"),
    ):
        child = every_kind.named(f"wl-{role}")
        assert (child.type, child.parent) == (type_, component.urn)
    assert every_kind.named("wl-tenants-keys").parent == every_kind.named("wl-tenants").urn
    # Without adopt_program_stack nothing aliases the program's old top-level URNs (only the per-tier keys keep
    # their own component's one-key-per-tenant names).
    specs = [spec for r in every_kind.resources for spec in r.alias_specs]
    assert specs and not [s for s in specs if "urn" in s or s["spec"].get("noParent")]


def test_no_vpc_link_without_a_private_backend_and_no_waf_when_off() -> None:
    run = build(args())
    assert run.of_type("aws:apigatewayv2/vpcLink:VpcLink") == []
    assert run.of_type("aws:wafv2/webAcl:WebAcl") == []
    assert resolve(run.value.vpc_link_id) is None and resolve(run.value.web_acl_arn) is None


def test_platform_and_tenant_resources(every_kind: Deployed) -> None:
    plans = {r.inputs["name"] for r in every_kind.of_type("aws:apigateway/usagePlan:UsagePlan")}
    assert plans == {"acme-test-standard", "acme-test-gold"}
    # One wildcard domain (the platform's) and globex's dedicated one, which waits for it.
    domains = {r.inputs["domainName"]: r for r in every_kind.of_type("aws:apigateway/domainName:DomainName")}
    assert set(domains) == {"*.example.com", "globex.example.com"}
    assert domains["*.example.com"].parent == every_kind.named("wl").urn
    records = {r.inputs["name"] for r in every_kind.of_type("aws:route53/record:Record") if "aliases" in r.inputs}
    assert records == {"acme.example.com", "globex.example.com"}
    keys = every_kind.of_type("aws:apigateway/apiKey:ApiKey")
    assert {k.name for k in keys} == {"wl-tenants-keys-acme.standard-api-key", "wl-tenants-keys-globex.gold-api-key"}


def test_outputs_never_hold_an_api_key_value(every_kind: Deployed) -> None:
    gateway = every_kind.value
    tenants = resolve(gateway.tenants)
    assert tenants["globex"]["tier"] == "gold" and tenants["globex"]["apiKeyId"]
    outputs = {
        key: resolve(getattr(gateway, key))
        for key in ("api_id", "stage_name", "usage_plan_ids", "registry_table_name", "endpoints", "tenants")
    }
    assert outputs["endpoints"] == {"acme": "https://acme.example.com", "globex": "https://globex.example.com"}
    assert set(outputs["usage_plan_ids"]) == {"standard", "gold"}
    values = [k.outputs["value"] for k in every_kind.of_type("aws:apigateway/apiKey:ApiKey")]
    assert len(values) == 2 and all(values)
    assert not any(value in json.dumps(outputs) for value in values)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"tenants": [{"name": "acme", "tier": "platinum"}]},
            "WhiteLabelGateway wl: tenants[0].tier: 'platinum' is not",
        ),
        ({"waf": {"per_tenant_limit": 5}}, "WhiteLabelGateway wl: waf.per_tenant_limit: "),
        ({"backends": {"x": {"kind": "FTP"}}}, "WhiteLabelGateway wl: backends.x.kind: 'FTP' is not a backend kind"),
        ({"backends": {"x": {"kind": BackendKind.HTTP}}}, "WhiteLabelGateway wl: backends.x.url: a HTTP backend needs"),
        (
            {"backends": {"x": {"kind": BackendKind.LAMBDA, "function_name": "f"}}},
            "WhiteLabelGateway wl: backends.x.function_invoke_arn: a LAMBDA backend needs it",
        ),
        (
            {
                "backends": {
                    "a": {"kind": BackendKind.HTTP, "url": "https://a.example.net", "prefix": "api"},
                    "b": {"kind": BackendKind.HTTP, "url": "https://b.example.net", "prefix": "api"},
                }
            },
            "WhiteLabelGateway wl: backends.b: prefix 'api' is also the prefix of backends.a",
        ),
        ({"backends": {"orders": BACKENDS["orders"]}}, "WhiteLabelGateway wl: vpc_link_subnet_ids: backends orders"),
        (
            {
                "tls_policy": "TLS_1_2",
                "authorizer": {"cache_ttl_seconds": 0},
                "tenants": [{"name": "acme", "mtls_truststore": "s3://trust-bucket/acme.pem"}],
            },
            "WhiteLabelGateway wl: tenants[0].mtls_",
        ),
        ({"name_prefix": "Acme Test"}, "WhiteLabelGateway wl: name_prefix: "),
    ],
)
def test_bad_args_are_refused_in_one_line_naming_the_arg_before_any_resource(
    changes: dict[str, Any], message: str
) -> None:
    registered: list[Any] = []
    with pytest.raises(ValueError) as error:
        registered = build(args(**changes)).resources
    assert str(error.value).startswith(message), str(error.value)
    assert "\n" not in str(error.value) and registered == []
