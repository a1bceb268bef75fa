"""The examples: the YAML program checked against the package schema, the bring-your-own program run under the
mock engine. Both would be a user's first contact with the package; a property the schema does not know, or a
backend the program wires wrong, must fail here rather than at their `pulumi up`."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.sync_await import _sync_await

from tools.schema import PLUGIN_DIR, SCHEMA_FILE
from whitelabel.offline import ROOT, AwsMocks, RecordingMonitor, Registered

EXAMPLES = ROOT / "examples"
GATEWAY_TOKEN = "whitelabel:index:WhiteLabelGateway"
SECRET_SIG = "4dabf18193072939515e22adb298388d"

# -- the YAML program against the schema ------------------------------------------------------------------------

WHOLE_REFERENCE = re.compile(r"^\$\{([^}]+)\}$")
# The types Pulumi YAML's config declarations take, as schema property specs.
CONFIG_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "List<String>": {"type": "array", "items": {"type": "string"}},
}


class SchemaChecker:
    """Every property of a YAML program's resources of one package, checked against that package's schema."""

    def __init__(self, schema: dict[str, Any], program: dict[str, Any]) -> None:
        self.schema = schema
        self.program = program
        self.problems: list[str] = []

    def check(self) -> list[str]:
        for name, resource in self.program["resources"].items():
            token = resource["type"]
            if not token.startswith(f"{self.schema['name']}:"):
                continue
            spec = self.schema["resources"].get(token)
            if spec is None:
                self.problems.append(f"{name}: no resource {token} in the schema")
                continue
            self._object(
                resource.get("properties") or {},
                spec["inputProperties"],
                spec.get("requiredInputs", []),
                f"{name}.properties",
            )
        return self.problems

    def _object(self, value: Any, properties: dict[str, Any], required: list[str], path: str) -> None:
        if not isinstance(value, dict):
            self.problems.append(f"{path}: an object expected, got {value!r}")
            return
        for key in required:
            if key not in value:
                self.problems.append(f"{path}: required {key} missing")
        for key, item in value.items():
            if key not in properties:
                self.problems.append(f"{path}.{key}: not a property of the schema")
                continue
            self._value(item, properties[key], f"{path}.{key}")

    def _value(self, value: Any, spec: dict[str, Any], path: str) -> None:
        if isinstance(value, str) and "${" in value:
            self._reference(value, spec, path)
            return
        if "$ref" in spec:
            referenced = self._type(spec["$ref"])
            if "enum" in referenced:
                allowed = [v["value"] for v in referenced["enum"]]
                if value not in allowed:
                    self.problems.append(f"{path}: {value!r} is not one of {allowed}")
            else:
                self._object(value, referenced["properties"], referenced.get("required", []), path)
            return
        kind = spec.get("type")
        if kind == "array":
            if not isinstance(value, list):
                self.problems.append(f"{path}: a list expected, got {value!r}")
                return
            for i, item in enumerate(value):
                self._value(item, spec["items"], f"{path}[{i}]")
        elif kind == "object":
            if not isinstance(value, dict):
                self.problems.append(f"{path}: a map expected, got {value!r}")
                return
            for key, item in value.items():
                self._value(item, spec["additionalProperties"], f"{path}.{key}")
        elif not self._scalar_fits(value, kind):
            self.problems.append(f"{path}: {value!r} is not a {kind}")

    @staticmethod
    def _scalar_fits(value: Any, kind: str | None) -> bool:
        if kind == "string":
            return isinstance(value, str)
        if kind == "boolean":
            return isinstance(value, bool)
        if kind == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if kind == "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        return True  # Any

    def _reference(self, text: str, spec: dict[str, Any], path: str) -> None:
        whole = WHOLE_REFERENCE.match(text)
        if whole is None:
            # Interpolation inside a longer text: the result is a string.
            if not self._same({"type": "string"}, spec):
                self.problems.append(f"{path}: text given, the schema wants {self._shape(spec)}")
            return
        expression = whole.group(1)
        if expression in ("pulumi.stack", "pulumi.project", "pulumi.organization"):
            given: dict[str, Any] | None = {"type": "string"}
        elif expression in (self.program.get("config") or {}):
            given = CONFIG_TYPES[self.program["config"][expression]["type"]]
        else:
            resource_name, _, output = expression.partition(".")
            resource = self.program["resources"].get(resource_name)
            if resource is None:
                self.problems.append(f"{path}: {expression} names no config key or resource")
                return
            if spec.get("plain"):
                # A plain input is used when the component is constructed; another resource's output is not
                # known then.
                self.problems.append(f"{path}: plain, but given {expression}, an output of {resource_name}")
            resource_spec = self.schema["resources"].get(resource["type"])
            if resource_spec is None:
                return  # another package's output: its schema is not ours to check
            given = resource_spec["properties"].get(output)
            if given is None:
                self.problems.append(f"{path}: {resource_name} has no output {output}")
                return
        if not self._same(given, spec):
            self.problems.append(f"{path}: {expression} is {self._shape(given)}, the schema wants {self._shape(spec)}")

    def _type(self, ref: str) -> dict[str, Any]:
        return self.schema["types"][ref.removeprefix("#/types/")]

    @classmethod
    def _shape(cls, spec: dict[str, Any] | None) -> Any:
        """A spec without descriptions and plainness: what makes two specs the same type."""
        if spec is None:
            return None
        shape: dict[str, Any] = {k: spec[k] for k in ("type", "$ref") if k in spec}
        for nested in ("items", "additionalProperties"):
            if nested in spec:
                shape[nested] = cls._shape(spec[nested])
        return shape

    @classmethod
    def _same(cls, given: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
        return cls._shape(given) == cls._shape(wanted)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


@pytest.fixture(scope="module")
def yaml_program() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())


def test_yaml_program_refers_to_the_plugin_folder(yaml_program: dict[str, Any], schema: dict[str, Any]) -> None:
    source = yaml_program["packages"][schema["name"]]
    assert (EXAMPLES / "yaml" / source).resolve() == PLUGIN_DIR
    assert (PLUGIN_DIR / "PulumiPlugin.yaml").exists()


def test_yaml_program_uses_both_components(yaml_program: dict[str, Any]) -> None:
    types = {r["type"] for r in yaml_program["resources"].values()}
    assert {"whitelabel:index:WhiteLabelGateway", "whitelabel:index:TenantSet"} <= types


def test_yaml_program_properties_match_the_schema(yaml_program: dict[str, Any], schema: dict[str, Any]) -> None:
    assert SchemaChecker(schema, yaml_program).check() == []


def test_yaml_program_outputs_exist(yaml_program: dict[str, Any], schema: dict[str, Any]) -> None:
    for name, text in yaml_program["outputs"].items():
        resource, _, output = WHOLE_REFERENCE.match(text).group(1).partition(".")  # type: ignore[union-attr]
        token = yaml_program["resources"][resource]["type"]
        assert output in schema["resources"][token]["properties"], name


def test_the_schema_checker_catches_what_it_is_for(yaml_program: dict[str, Any], schema: dict[str, Any]) -> None:
    """The checker itself: each kind of mistake a YAML user makes, one at a time, is reported."""
    broken = json.loads(json.dumps(yaml_program))
    gateway = broken["resources"]["gateway"]["properties"]
    del gateway["stageName"]
    gateway["backends"]["orders"]["kind"] = "ELB"
    gateway["backends"]["orders"]["port"] = "443"
    gateway["tiers"]["premium"]["burst"] = 400
    gateway["dualStack"] = "${albArn}"
    partners = broken["resources"]["partners"]["properties"]
    partners["tiers"] = "${gateway.usagePlanIds}"
    partners["restApiId"] = "${gateway.restApi}"
    problems = SchemaChecker(schema, broken).check()
    assert problems == [
        "gateway.properties: required stageName missing",
        "gateway.properties.backends.orders.kind: 'ELB' is not one of ['ALB', 'NLB', 'HTTP', 'LAMBDA', 'S3']",
        "gateway.properties.backends.orders.port: '443' is not a integer",
        "gateway.properties.tiers.premium.burst: not a property of the schema",
        "gateway.properties.dualStack: albArn is {'type': 'string'}, the schema wants {'type': 'boolean'}",
        "partners.properties.tiers: plain, but given gateway.usagePlanIds, an output of gateway",
        "partners.properties.tiers: gateway.usagePlanIds is "
        + str(
            SchemaChecker._shape(
                schema["resources"]["whitelabel:index:WhiteLabelGateway"]["properties"]["usagePlanIds"]
            )
        )
        + ", the schema wants {'type': 'array', 'items': {'type': 'string'}}",
        "partners.properties.restApiId: gateway has no output restApi",
    ]


# -- the bring-your-own program under the mock engine -----------------------------------------------------------


def run_example(folder: Path, stack: str = "dev") -> tuple[list[Registered], dict[str, Any]]:
    """Run `folder/__main__.py` as Pulumi would: its project name, its Pulumi.yaml config defaults, preview off."""
    project = yaml.safe_load((folder / "Pulumi.yaml").read_text())
    config = {f"{project['name']}:{key}": str(spec["default"]) for key, spec in project["config"].items()}
    config["aws:region"] = "eu-west-1"
    mocks = AwsMocks("eu-west-1")
    pulumi_settings.reset_options()
    pulumi_mocks.set_mocks(mocks, project=project["name"], stack=stack, preview=False, monitor=RecordingMonitor(mocks))
    pulumi.runtime.set_all_config(config)
    root = pulumi.runtime.get_root_resource()
    _sync_await(
        pulumi.runtime.stack.run_pulumi_func(lambda: runpy.run_path(str(folder / "__main__.py"), run_name="__main__"))
    )
    outputs = {k: _sync_await(pulumi.Output.from_input(v).future()) for k, v in getattr(root, "outputs", {}).items()}
    return mocks.registered, outputs


@pytest.fixture(scope="module")
def byo() -> tuple[list[Registered], dict[str, Any]]:
    return run_example(EXAMPLES / "bring-your-own")


def of_type(resources: list[Registered], type_: str) -> list[Registered]:
    return [r for r in resources if r.type == type_]


ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/orders-internal/50dc6c495c0c9188"


def test_byo_owns_none_of_the_backends(byo: tuple[list[Registered], dict[str, Any]]) -> None:
    resources, _ = byo
    assert of_type(resources, "aws:lb/loadBalancer:LoadBalancer") == []
    # The only function is the gateway's own tenant authorizer; the reports function is only looked up.
    functions = of_type(resources, "aws:lambda/function:Function")
    assert [f.inputs.get("name") for f in functions] != ["reports-api"]
    assert all("reports" not in f.name for f in functions)


def test_byo_routes_each_prefix(byo: tuple[list[Registered], dict[str, Any]]) -> None:
    resources, _ = byo
    paths = {r.inputs["pathPart"] for r in of_type(resources, "aws:apigateway/resource:Resource")}
    assert {"orders", "reports", "legacy", "{proxy+}"} <= paths


def test_byo_alb_backend_goes_through_the_vpc_link_to_the_looked_up_load_balancer(
    byo: tuple[list[Registered], dict[str, Any]],
) -> None:
    resources, _ = byo
    private = [
        i
        for i in of_type(resources, "aws:apigateway/integration:Integration")
        if i.inputs.get("connectionType") == "VPC_LINK"
    ]
    assert len(private) == 2  # /orders and /orders/{proxy+}
    (link,) = of_type(resources, "aws:apigatewayv2/vpcLink:VpcLink")
    # The lookup's answer (whitelabel.offline: the DNS name and subnets AWS would return for that ARN).
    assert link.inputs["subnetIds"] == AwsMocks("eu-west-1")._load_balancer_lookup({"arn": ALB_ARN})["subnets"]
    assert link.inputs["securityGroupIds"] == ["sg-0123456789abcdef0"]
    for integration in private:
        assert integration.inputs["integrationTarget"] == ALB_ARN
        assert integration.inputs["connectionId"] == link.id
        assert integration.inputs["uri"].startswith(
            "http://internal-orders-internal-50dc6c49.eu-west-1.elb.amazonaws.com:443/"
        )
        assert integration.inputs["type"] == "HTTP_PROXY"


def test_byo_lambda_backend_invokes_the_looked_up_function(byo: tuple[list[Registered], dict[str, Any]]) -> None:
    resources, _ = byo
    function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:reports-api"
    invoke_arn = f"arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    proxies = [
        i for i in of_type(resources, "aws:apigateway/integration:Integration") if i.inputs["type"] == "AWS_PROXY"
    ]
    assert len(proxies) == 2
    assert all(i.inputs["uri"] == invoke_arn for i in proxies)
    (permission,) = [
        p for p in of_type(resources, "aws:lambda/permission:Permission") if p.inputs["function"] == "reports-api"
    ]
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["sourceArn"].endswith("/*/*/reports*")


def test_byo_http_backend_proxies_to_the_url(byo: tuple[list[Registered], dict[str, Any]]) -> None:
    resources, _ = byo
    http = [
        i
        for i in of_type(resources, "aws:apigateway/integration:Integration")
        if i.inputs["type"] == "HTTP_PROXY" and i.inputs.get("connectionType") != "VPC_LINK"
    ]
    assert len(http) == 2
    assert all(i.inputs["uri"].startswith("https://legacy.partner.example/v1") for i in http)


def test_byo_registers_each_tenant_with_its_tier(byo: tuple[list[Registered], dict[str, Any]]) -> None:
    resources, outputs = byo
    items = {}
    for item in of_type(resources, "aws:dynamodb/tableItem:TableItem"):
        secret = item.inputs["item"]
        assert secret[SECRET_SIG] == "1b47061264138c4ac30d75fd1eb44270"  # the item carries the API key: secret
        record = json.loads(secret["value"])
        items[record["hostname"]["S"]] = (record["tenantId"]["S"], record["tier"]["S"])
    assert items == {
        "acme.saas.example.com": ("acme", "standard"),
        "globex.saas.example.com": ("globex", "premium"),
        "initech.saas.example.com": ("initech", "standard"),
    }
    # initech has its own custom domain; the others share the wildcard one.
    domains = {d.inputs["domainName"] for d in of_type(resources, "aws:apigateway/domainName:DomainName")}
    assert domains == {"*.saas.example.com", "initech.saas.example.com"}
    assert outputs["apiId"]
