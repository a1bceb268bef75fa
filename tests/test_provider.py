"""The package through the provider interface, as the engine drives it for a program in another language.

Two halves, because nothing here runs the Pulumi engine:
- the real plugin entry (`python plugin/ <engine address>`, what Pulumi's Python language host runs) started as a
  process on 127.0.0.1, asked for its schema over gRPC (GetSchema, what `pulumi package add` does);
- `Construct` through the SDK's `ComponentProvider` (what the gRPC servicer calls after decoding the request) with
  the inputs as the engine sends them (camelCase names, enums as strings, every number a float), under the mock
  engine, asserting the children registered and the outputs returned.
A gRPC Construct would also need a resource monitor server for the children to register with; the mock engine
is that monitor in-process, so the second half runs the same `construct` without the wire.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.errors import InputPropertyError
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tests.conftest import resolve
from tools.schema import PLUGIN_DIR, SCHEMA_FILE, provider
from whitelabel.offline import AwsMocks, Registered, run_function
from whitelabel.version import package_version

# Nothing listens here: the provider only dials the engine when a Construct asks it to log.
CLOSED_ENGINE_ADDRESS = "127.0.0.1:9"
START_TIMEOUT_S = 60


def start_plugin(plugin_dir: Path, cwd: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Run the plugin folder as the language host does and read the port it prints (bounded wait)."""
    process = subprocess.Popen(
        [sys.executable, str(plugin_dir), CLOSED_ENGINE_ADDRESS],
        # The language host runs it from the consumer's project, with nothing of ours on the path: the entry
        # must find the package by itself.
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    line = b""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.strip() or process.poll() is not None:
            break
    if not line.strip().isdigit():
        process.kill()
        _, err = process.communicate(timeout=10)
        pytest.fail(f"the plugin did not start: {err.decode()[-2000:]}")
    return process, int(line)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def test_the_plugin_entry_serves_the_committed_schema_over_grpc(tmp_path: Path) -> None:
    process, port = start_plugin(PLUGIN_DIR, tmp_path)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            served = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
            info = stub.GetPluginInfo(empty_pb2.Empty(), timeout=30)
    finally:
        stop(process)
    assert json.loads(served.schema) == json.loads(SCHEMA_FILE.read_text())
    assert info.version == package_version() == "0.1.0"


# -- Construct, as the servicer calls it ------------------------------------------------------------------------

GATEWAY_INPUTS: dict[str, Any] = {
    # As the engine decodes them: camelCase, enums by value, numbers as floats (a protobuf Struct has no ints).
    "baseDomain": "saas.example.com",
    "stageName": "dev",
    "namePrefix": "pkg-dev",
    "backends": {
        "orders": {
            "kind": "ALB",
            "loadBalancerArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/orders/0a1b2c3d",
            "loadBalancerDnsName": "internal-orders-1.eu-west-1.elb.amazonaws.com",
            "port": 8443.0,
        },
        "legacy": {"kind": "HTTP", "url": "https://legacy.partner.example/v1"},
    },
    "vpcLinkSubnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
    "vpcLinkSecurityGroupId": "sg-0123456789abcdef0",
    "tiers": {"standard": {"rateLimit": 50.0, "burstLimit": 100.0}},
    "tenants": [{"name": "acme"}, {"name": "globex"}],
    "tenantDns": "perCustomer",
    "logRetentionDays": 30.0,
}


@dataclass
class Constructed:
    resources: list[Registered]
    urn: str
    state: dict[str, Any]


def construct(resource_type: str, inputs: dict[str, Any]) -> Constructed:
    """`ComponentProvider.construct` under the mock engine (preview off); the URN and state resolved."""
    component_provider = provider()
    mocks = AwsMocks("eu-west-1")
    result, _ = run_function(lambda: component_provider.construct("pkg", resource_type, inputs, None), "dev", {}, mocks)
    return Constructed(mocks.registered, resolve(result.urn), resolve(result.state))


@pytest.fixture(scope="module")
def gateway() -> Constructed:
    return construct("whitelabel:index:WhiteLabelGateway", GATEWAY_INPUTS)


def test_construct_registers_the_component_under_the_requested_type(gateway: Constructed) -> None:
    # The engine asked for whitelabel:index:WhiteLabelGateway; the URN it gets back must be of that type.
    *_, type_chain, name = gateway.urn.split("::")
    assert (type_chain.split("$")[-1], name) == ("whitelabel:index:WhiteLabelGateway", "pkg")
    (component,) = [r for r in gateway.resources if r.urn == gateway.urn]
    assert component.custom is False


def test_construct_builds_the_platform_as_children(gateway: Constructed) -> None:
    types = {r.type for r in gateway.resources}
    assert {
        "aws:apigateway/restApi:RestApi",
        "aws:apigateway/stage:Stage",
        "aws:apigatewayv2/vpcLink:VpcLink",
        "aws:apigateway/usagePlan:UsagePlan",
        "aws:dynamodb/table:Table",
        "aws:apigateway/apiKey:ApiKey",
    } <= types
    by_urn = {r.urn: r for r in gateway.resources}

    def under_component(resource: Registered) -> bool:
        while resource.parent and resource.parent in by_urn:
            if resource.parent == gateway.urn:
                return True
            resource = by_urn[resource.parent]
        return False

    # Every resource but the component itself descends from it: nothing lands at the consumer's stack root.
    assert all(under_component(r) for r in gateway.resources if r.urn != gateway.urn)


def test_construct_takes_the_engines_floats_as_integers(gateway: Constructed) -> None:
    """A port of 8443.0 must reach AWS as 8443 (the SDK's integer mapping keeps the float)."""
    private = [
        r
        for r in gateway.resources
        if r.type == "aws:apigateway/integration:Integration" and r.inputs.get("connectionType") == "VPC_LINK"
    ]
    assert private
    assert all(
        r.inputs["uri"].startswith("http://internal-orders-1.eu-west-1.elb.amazonaws.com:8443/") for r in private
    )


def test_construct_returns_the_outputs_by_schema_name(gateway: Constructed) -> None:
    (rest_api,) = [r for r in gateway.resources if r.type == "aws:apigateway/restApi:RestApi"]
    assert gateway.state["apiId"] == rest_api.id
    assert gateway.state["stageName"] == "dev"
    assert set(gateway.state["usagePlanIds"]) == {"standard"}
    assert set(
        json.loads(SCHEMA_FILE.read_text())["resources"]["whitelabel:index:WhiteLabelGateway"]["properties"]
    ) >= set(gateway.state)
    # Never an API key's value among the outputs.
    keys = [r.outputs["value"] for r in gateway.resources if r.type == "aws:apigateway/apiKey:ApiKey"]
    assert keys and not any(key in json.dumps(gateway.state) for key in keys)


def test_construct_refuses_a_missing_required_input() -> None:
    inputs = {k: v for k, v in GATEWAY_INPUTS.items() if k != "baseDomain"}
    with pytest.raises(InputPropertyError) as refused:
        construct("whitelabel:index:WhiteLabelGateway", inputs)
    assert refused.value.reason == "Missing required input 'baseDomain' on 'WhiteLabelGateway'"


def test_construct_refuses_an_unknown_backend_kind_by_its_path() -> None:
    inputs = json.loads(json.dumps(GATEWAY_INPUTS))
    inputs["backends"]["orders"]["kind"] = "ELB"
    with pytest.raises(InputPropertyError) as refused:
        construct("whitelabel:index:WhiteLabelGateway", inputs)
    assert refused.value.property_path == "backends.orders.kind"


def test_construct_tenant_set_against_another_stacks_platform() -> None:
    """TenantSet alone, as a stack that does not own the gateway constructs it: the platform's values as text."""
    constructed = construct(
        "whitelabel:index:TenantSet",
        {
            "tenants": [{"name": "initech"}, {"name": "umbrella", "tier": "premium"}],
            "baseDomain": "saas.example.com",
            "namePrefix": "pkg-dev",
            "restApiId": "a1b2c3d4e5",
            "stageName": "dev",
            "usagePlanIds": {"standard": "plan-std", "premium": "plan-prem"},
            "tiers": ["standard", "premium"],
            "defaultTier": "standard",
            "registryTableName": "pkg-dev-tenants",
            "wildcardDomainName": "d-abc123.execute-api.eu-west-1.amazonaws.com",
            "wildcardDomainZoneId": "ZLY8HYME6SFDD",
            "tenantDns": "perCustomer",
        },
    )
    plan_keys = {
        r.name: r.inputs["usagePlanId"]
        for r in constructed.resources
        if r.type == "aws:apigateway/usagePlanKey:UsagePlanKey"
    }
    assert sorted(plan_keys.values()) == ["plan-prem", "plan-std"]
    items = [r for r in constructed.resources if r.type == "aws:dynamodb/tableItem:TableItem"]
    assert {r.inputs["tableName"] for r in items} == {"pkg-dev-tenants"}
    assert len(items) == 2
    assert set(constructed.state["endpoints"]) == {"initech", "umbrella"}
    # No usage plan or API of its own: only per-tenant resources.
    assert not any(
        r.type in ("aws:apigateway/usagePlan:UsagePlan", "aws:apigateway/restApi:RestApi")
        for r in constructed.resources
    )
