"""Apply what a program registered (a mock-engine run) to an emulator: LocalStack for API Gateway, Lambda, IAM
and S3, moto's server for DynamoDB. The contract tests serve exactly this, never a copy built beside the program.

Every custom resource of the run is handled by its type, in dependency order, from its registered inputs:
- created from its inputs (`HANDLED_TYPES`): the REST API and its resources, methods, integrations, method and
  integration responses, gateway responses, authorizer, deployment, stage and method settings; usage plans, API
  keys and plan keys; the functions (their code archive, zipped as registered, and their environment), their
  permissions, IAM roles and their policies; the S3 bucket, its settings and objects; the registry table and
  every registry item exactly as registered.
- substituted (`SUBSTITUTED`, and `Substitutions`: the one place the emulator differs from AWS on purpose):
  the VPC link (LocalStack has none: a private integration goes straight to its backend's stand-in), the
  backends' origins (a load balancer's address becomes a loopback stand-in's), the identity provider's URL (a
  loopback stand-in), two variables the functions get here only (where the registry is; where the x86_64
  builds of the bundled libraries are), and the execute-api endpoint, left on because its stage URL is how the
  tests reach the stage. API Gateway's Lambda-authorizer step, which LocalStack lacks, is the emulator site's.
- refused as not servable here (`IGNORED`, each with its reason): certificates, custom domains, DNS, WAF,
  CloudWatch, the backends' own infrastructure, ...

A type in none of the three tables, or an input of a handled type the handler does not know, stops the apply
(`ApplyError`): a new resource or property cannot be left out silently.

A later `pulumi up` of the same stack (`previous=`) creates what is new, updates what changed and then deletes what
the program no longer registers, dependents first, as the engine orders it; only the types in `UPDATED_TYPES` and
`DELETED_TYPES` (the registry items, API keys and plan keys a config change touches) can change, any other change
stops it. A tenant shard's StackReference is resolved from its platform's apply (`references=`).

Outputs one resource reads from another (ids, ARNs, names, key values) are resolved as the engine would: the
mock engine's placeholder for an output is replaced, wherever it appears in a later input (whole, or inside an
ARN, a URI or a JSON policy), by the value the emulator returned for it. A resource the program does not name
gets a unique name, as the engine's autonaming gives it (`<name>-<7 hex>`).
"""

from __future__ import annotations

import io
import json
import re
import secrets as random
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whitelabel.offline import ACCOUNT_ID, ROOT, Registered, StackRun

# Pulumi's marker of a secret value in a registration (`{<sig>: <secret sig>, "value": ...}`).
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
STACK_REFERENCE = "pulumi:pulumi:StackReference"

_BACKEND_INFRASTRUCTURE = (
    "a backend's own infrastructure: the backend is a loopback stand-in here (Substitutions.origins)"
)
_CLOUDWATCH = "CloudWatch is not among the emulator's services: no logs, metrics, alarms or dashboards are served"
# Types created from their registered inputs: type → the `Applier` method that creates one.
HANDLED_TYPES: dict[str, str] = {
    "aws:apigateway/restApi:RestApi": "rest_api",
    "aws:apigateway/resource:Resource": "resource",
    "aws:apigateway/method:Method": "method",
    "aws:apigateway/integration:Integration": "integration",
    "aws:apigateway/methodResponse:MethodResponse": "method_response",
    "aws:apigateway/integrationResponse:IntegrationResponse": "integration_response",
    "aws:apigateway/response:Response": "gateway_response",
    "aws:apigateway/authorizer:Authorizer": "authorizer",
    "aws:apigateway/deployment:Deployment": "deployment",
    "aws:apigateway/stage:Stage": "stage",
    "aws:apigateway/methodSettings:MethodSettings": "method_settings",
    "aws:apigateway/usagePlan:UsagePlan": "usage_plan",
    "aws:apigateway/apiKey:ApiKey": "api_key",
    "aws:apigateway/usagePlanKey:UsagePlanKey": "usage_plan_key",
    "aws:lambda/function:Function": "function",
    "aws:lambda/permission:Permission": "permission",
    "aws:iam/role:Role": "role",
    "aws:iam/rolePolicy:RolePolicy": "role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "role_policy_attachment",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketObjectv2:BucketObjectv2": "bucket_object",
    "aws:s3/bucketPolicy:BucketPolicy": "bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "bucket_public_access_block",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "bucket_ownership_controls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "bucket_encryption",
    "aws:s3/bucketVersioning:BucketVersioning": "bucket_versioning",
    "aws:dynamodb/table:Table": "table",
    "aws:dynamodb/tableItem:TableItem": "table_item",
}
# Types whose changed inputs are applied in place on a later `up` (others stop it): type → method.
UPDATED_TYPES: dict[str, str] = {
    # An item is written whole; its key (the hostname) is in its name, so a changed key is another resource.
    "aws:dynamodb/tableItem:TableItem": "table_item",
}
# Types a later `up` deletes when the program no longer registers them (others stop it): type → method.
DELETED_TYPES: dict[str, str] = {
    "aws:dynamodb/tableItem:TableItem": "delete_table_item",
    "aws:apigateway/usagePlanKey:UsagePlanKey": "delete_usage_plan_key",
    "aws:apigateway/apiKey:ApiKey": "delete_api_key",
}
# Types that cannot be served here, each named (a new type, even of these services, must be placed), with why.
_CERTIFICATES = "certificates: LocalStack serves plain HTTP on loopback, there is no TLS handshake to present them"
_WAF = "WAF is not in LocalStack community: the web ACL, its association and logging are not served"
IGNORED: dict[str, str] = {
    "aws:acm/certificate:Certificate": _CERTIFICATES,
    "aws:acm/certificateValidation:CertificateValidation": _CERTIFICATES,
    "aws:route53/record:Record": "DNS: nothing resolves names here (loopback only); tests send the customer's Host",
    "aws:apigateway/domainName:DomainName": (
        "custom domains: LocalStack 4.12 stores them but does not route by Host; requests go to the stage URL "
        "with the customer's Host header"
    ),
    "aws:apigateway/basePathMapping:BasePathMapping": "maps a custom domain (not routed here, see DomainName)",
    "aws:apigateway/account:Account": f"the account-wide CloudWatch role for execution logs; {_CLOUDWATCH}",
    **{
        f"aws:cloudwatch/{kind}": _CLOUDWATCH
        for kind in (
            "contributorInsightRule:ContributorInsightRule",
            "dashboard:Dashboard",
            "logGroup:LogGroup",
            "logMetricFilter:LogMetricFilter",
            "logResourcePolicy:LogResourcePolicy",
            "metricAlarm:MetricAlarm",
            "queryDefinition:QueryDefinition",
        )
    },
    **{
        f"aws:cloudfront/{kind}": (
            "CloudFront (own domains through SaaS Manager) is not in LocalStack community: a contract case runs the "
            "registered function in node and sends the stage what the distribution sends its origin "
            "(tests/contract/test_cloudfront_origin_contract.py)"
        )
        for kind in (
            "connectionGroup:ConnectionGroup",
            "distributionTenant:DistributionTenant",
            "function:Function",
            "multitenantDistribution:MultitenantDistribution",
        )
    },
    "aws:sns/topic:Topic": "alarm notifications: there is no alarm to send (CloudWatch) and nowhere to deliver",
    "aws:sns/topicSubscription:TopicSubscription": "alarm notifications: nowhere to deliver (loopback only)",
    "aws:wafv2/webAcl:WebAcl": _WAF,
    "aws:wafv2/webAclAssociation:WebAclAssociation": _WAF,
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": _WAF,
    **{
        kind: _BACKEND_INFRASTRUCTURE
        for kind in (
            "aws:ec2/eip:Eip",
            "aws:ec2/internetGateway:InternetGateway",
            "aws:ec2/launchTemplate:LaunchTemplate",
            "aws:ec2/natGateway:NatGateway",
            "aws:ec2/routeTable:RouteTable",
            "aws:ec2/routeTableAssociation:RouteTableAssociation",
            "aws:ec2/securityGroup:SecurityGroup",
            "aws:ec2/subnet:Subnet",
            "aws:ec2/vpc:Vpc",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "aws:ecs/cluster:Cluster",
            "aws:ecs/service:Service",
            "aws:ecs/taskDefinition:TaskDefinition",
            "aws:autoscaling/group:Group",
            "aws:lb/listener:Listener",
            "aws:lb/loadBalancer:LoadBalancer",
            "aws:lb/targetGroup:TargetGroup",
            "aws:iam/instanceProfile:InstanceProfile",
        )
    },
    STACK_REFERENCE: "a read of another stack's outputs: the engine resolved it into this run's inputs",
}
# What the emulator replaces on purpose (the resource itself is not created; `Substitutions` says with what).
SUBSTITUTED: dict[str, str] = {
    "aws:apigatewayv2/vpcLink:VpcLink": (
        "LocalStack has no VPC links: a VPC_LINK integration goes straight to its backend's loopback stand-in"
    ),
}


# MethodSettings' `settings` keys → the stage's patch paths below `/<methodPath>/`.
METHOD_SETTINGS = {
    "metricsEnabled": "metrics/enabled",
    "loggingLevel": "logging/loglevel",
    "dataTraceEnabled": "logging/dataTrace",
    "throttlingBurstLimit": "throttling/burstLimit",
    "throttlingRateLimit": "throttling/rateLimit",
    "cachingEnabled": "caching/enabled",
    "cacheTtlInSeconds": "caching/ttlInSeconds",
    "cacheDataEncrypted": "caching/dataEncrypted",
    "requireAuthorizationForCacheControl": "caching/requireAuthorizationForCacheControl",
    "unauthorizedCacheControlHeaderStrategy": "caching/unauthorizedCacheControlHeaderStrategy",
}


class ApplyError(Exception):
    """The graph holds something the applier does not know how to serve (or refuses)."""


@dataclass(frozen=True)
class Substitutions:
    """Everything the emulator serves differently from AWS on purpose; nothing else is changed.

    origins: component name → loopback origin (`http://127.0.0.1:<port>`): an integration whose URI is the
        address of a load balancer registered under that component (the name of the balancer itself or of any
        of its parents, such as `service1`) goes to that origin instead, with no VPC link.
    registry_endpoint: the DynamoDB endpoint every function reaches (moto's server on 127.0.0.1, or a stand-in
        for an outage), given to it as `AWS_ENDPOINT_URL_DYNAMODB`, which boto3 honours.
    function_environment: more emulator-only variables for every function (`EMULATOR_EXTRA_SITE`).
    urls: external URL → loopback stand-in, replaced in every input (an identity provider's issuer).
    """

    origins: Mapping[str, str] = field(default_factory=dict)
    registry_endpoint: str = ""
    function_environment: Mapping[str, str] = field(default_factory=dict)
    urls: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Clients:
    """boto3 clients: `aws(service)` for LocalStack, `dynamodb` for the registry's server."""

    aws: Callable[[str], Any]
    dynamodb: Any


@dataclass
class Applied:
    """What an apply created: each registered resource's real outputs, and the stack's outputs resolved."""

    run: StackRun
    real: dict[str, dict[str, Any]]
    outputs: dict[str, Any]
    skipped: dict[str, str]
    # The mock engine's placeholder → the emulator's value, for every output resolved so far (a later `up`).
    placeholders: dict[str, str] = field(default_factory=dict)

    def one(self, type_: str) -> Registered:
        found = self.run.of_type(type_)
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {type_}")
        return found[0]

    def id_of(self, resource: Registered) -> str:
        return str(self.real[resource.urn]["id"])

    @property
    def api_id(self) -> str:
        """The id of the run's REST API in the emulator."""
        return self.id_of(self.one("aws:apigateway/restApi:RestApi"))

    @property
    def stage(self) -> str:
        return str(self.one("aws:apigateway/stage:Stage").inputs["stageName"])

    def items(self) -> dict[str, dict[str, Any]]:
        """The registry items as put (hostname → DynamoDB JSON item)."""
        return {
            item["hostname"]["S"]: item
            for item in (self.real[r.urn]["item"] for r in self.run.of_type("aws:dynamodb/tableItem:TableItem"))
        }

    def api_key(self, name: str) -> dict[str, str]:
        """The API key named `name` (as registered): its emulator id and value."""
        [key] = [r for r in self.run.of_type("aws:apigateway/apiKey:ApiKey") if r.inputs.get("name") == name]
        return {"id": self.id_of(key), "value": str(self.real[key.urn]["value"])}


def ignored_reason(type_: str) -> str | None:
    return IGNORED.get(type_)


def unknown_types(resources: Iterable[Registered]) -> list[str]:
    """The types among `resources` the applier neither creates, substitutes nor refuses with a reason."""
    handled = set(HANDLED_TYPES)
    return sorted(
        {
            r.type
            for r in resources
            if r.type not in handled and r.type not in SUBSTITUTED and not ignored_reason(r.type)
        }
    )


def unsecret(value: Any) -> Any:
    """The value with Pulumi's secret wrappers removed (the engine hands the provider plain values)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return unsecret(value.get("value"))
        return {k: unsecret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unsecret(v) for v in value]
    return value


def dependency_order(resources: Iterable[Registered]) -> list[Registered]:
    """The resources with every dependency (and parent) before its dependants; otherwise registration order."""
    listed = list(resources)
    by_urn = {r.urn: r for r in listed}
    done: set[str] = set()
    ordered: list[Registered] = []

    def visit(resource: Registered, path: tuple[str, ...]) -> None:
        if resource.urn in done:
            return
        if resource.urn in path:
            raise ApplyError(f"dependency cycle through {resource.urn}")
        for urn in (*resource.dependencies, resource.parent):
            if urn in by_urn:
                visit(by_urn[urn], (*path, resource.urn))
        done.add(resource.urn)
        ordered.append(resource)

    for resource in listed:
        visit(resource, ())
    return ordered


# A placeholder is replaced where it stands on its own: not as part of a longer name (`role-x` in `role-x-policy`).
_EDGE = r"A-Za-z0-9_.\-"


class Resolver:
    """Placeholder → real value, applied to every string of an input (whole values, or inside ARNs and JSON)."""

    def __init__(self, fixed: Mapping[str, str]) -> None:
        self.values: dict[str, str] = {k: v for k, v in fixed.items() if k != v}
        self._pattern: re.Pattern[str] | None = None

    def learn(self, placeholder: Any, real: Any) -> None:
        if isinstance(placeholder, str) and isinstance(real, str) and placeholder and placeholder != real:
            self.values[placeholder] = real
            self._pattern = None

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, str) or not self.values:
            return value
        if value in self.values:
            return self.values[value]
        if self._pattern is None:
            alternatives = "|".join(re.escape(p) for p in sorted(self.values, key=len, reverse=True))
            self._pattern = re.compile(f"(?<![{_EDGE}])(?:{alternatives})(?![{_EDGE}])")
        return self._pattern.sub(lambda m: self.values[m.group(0)], value)


def code_zip(archive: Mapping[str, Any], project_dir: Path) -> bytes:
    """A registered `AssetArchive` of file assets as the zip the provider uploads."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, asset in sorted(archive.items()):
            if set(asset) != {"fileAsset"}:
                raise ApplyError(f"code archive entry {name!r}: only file assets are applied, not {sorted(asset)}")
            zipped.write(project_dir / asset["fileAsset"], name)
    return buffer.getvalue()


def _int(value: Any) -> int:
    return int(float(value))


class Applier:
    """One apply of one run: the resolver and each type's handler."""

    def __init__(
        self,
        run: StackRun,
        clients: Clients,
        substitutions: Substitutions,
        project_dir: Path,
        previous: Applied | None = None,
        references: Sequence[Applied] = (),
        after_step: Callable[[Registered], None] | None = None,
    ) -> None:
        self.run = run
        # Called after each resource is created, updated or deleted (a test probes the API in between).
        self.after_step: Callable[[Registered], None] = after_step or (lambda resource: None)
        self.clients = clients
        self.subs = substitutions
        self.project_dir = project_dir
        self.previous = previous
        self.account = str(clients.aws("sts").get_caller_identity()["Account"])
        self.region = str(clients.aws("sts").meta.region_name)
        self.real: dict[str, dict[str, Any]] = dict(previous.real) if previous else {}
        self.resolve = Resolver({ACCOUNT_ID: self.account, **substitutions.urls})
        if previous is not None:
            self.resolve.values.update(previous.placeholders)
        for stack in references:
            # A StackReference reads the other stack's real exports: each placeholder there is its applied value.
            self._learn_pairs(unsecret(stack.run.outputs), stack.outputs)
        self.load_balancers = self._load_balancer_origins()
        self.handlers: dict[str, Callable[[Registered, dict[str, Any]], dict[str, Any]]] = {
            type_: getattr(self, method) for type_, method in HANDLED_TYPES.items()
        }

    # -- the walk ---------------------------------------------------------------------------------------
    def apply(self) -> Applied:
        skipped: dict[str, str] = {}
        unknown = unknown_types(self.run.custom)
        if unknown:
            raise ApplyError(
                "the applier does not know these resource types (handle them in tools/applier.py, or list them in "
                f"IGNORED with the reason they cannot be served): {', '.join(unknown)}"
            )
        before = self.previous.run.by_urn() if self.previous else {}
        # As `pulumi up` orders it: creates and updates in dependency order, then deletes, dependents first.
        for resource in dependency_order(self.run.custom):
            if resource.type not in self.handlers:
                skipped[resource.urn] = SUBSTITUTED.get(resource.type) or ignored_reason(resource.type) or ""
                continue
            old = before.get(resource.urn)
            if old is not None and unsecret(old.inputs) == unsecret(resource.inputs):
                continue  # unchanged: the emulator already holds it
            inputs = self.resolve(unsecret(resource.inputs))
            step = "applying" if old is None else "updating"
            handler = self.handlers[resource.type] if old is None else self._updater(resource)
            try:
                real = handler(resource, inputs)
            except ApplyError:
                raise
            except Exception as error:
                raise ApplyError(f"{step} {resource.type} {resource.name!r}: {error}") from error
            self.real[resource.urn] = real
            self.resolve.learn(resource.id, real.get("id"))
            for key, value in real.items():
                if key != "id":
                    self.resolve.learn(unsecret(resource.outputs.get(key)), value)
            self.after_step(resource)
        if self.previous is not None:
            now = {r.urn for r in self.run.custom}
            for resource in reversed(dependency_order(self.previous.run.custom)):
                if resource.urn in now or resource.type not in self.handlers:
                    continue
                deleter = DELETED_TYPES.get(resource.type)
                if deleter is None:
                    raise ApplyError(f"deleting {resource.type} {resource.name!r} is not applied by tools/applier.py")
                try:
                    getattr(self, deleter)(resource, self.real.pop(resource.urn))
                except Exception as error:
                    raise ApplyError(f"deleting {resource.type} {resource.name!r}: {error}") from error
                self.after_step(resource)
        outputs = self.resolve(unsecret(self.run.outputs))
        return Applied(self.run, self.real, outputs, skipped, dict(self.resolve.values))

    def _updater(self, resource: Registered) -> Callable[[Registered, dict[str, Any]], dict[str, Any]]:
        method = UPDATED_TYPES.get(resource.type)
        if method is None:
            raise ApplyError(f"updating {resource.type} {resource.name!r} is not applied by tools/applier.py")
        handler: Callable[[Registered, dict[str, Any]], dict[str, Any]] = getattr(self, method)
        return handler

    def _learn_pairs(self, placeholder: Any, real: Any) -> None:
        if isinstance(placeholder, dict) and isinstance(real, dict):
            for key in placeholder.keys() & real.keys():
                self._learn_pairs(placeholder[key], real[key])
        elif isinstance(placeholder, list) and isinstance(real, list):
            for one, other in zip(placeholder, real, strict=False):
                self._learn_pairs(one, other)
        else:
            self.resolve.learn(placeholder, real)

    @staticmethod
    def take(resource: Registered, inputs: dict[str, Any], known: Iterable[str], **dropped: str) -> dict[str, Any]:
        """The inputs this handler applies; any other input stops the apply, unless `dropped` says why."""
        unknown = sorted(set(inputs) - set(known) - set(dropped))
        if unknown:
            raise ApplyError(
                f"{resource.type} {resource.name!r}: inputs {unknown} are not applied by tools/applier.py "
                "(apply them, or drop them there with the reason)"
            )
        return {k: v for k, v in inputs.items() if k in known}

    def autoname(self, resource: Registered, inputs: Mapping[str, Any], key: str = "name") -> str:
        """The physical name: the program's, else the engine's autonaming (`<name>-<7 hex>`)."""
        return str(inputs.get(key) or f"{resource.name}-{random.token_hex(4)[:7]}")

    def _load_balancer_origins(self) -> dict[str, str]:
        """Each registered load balancer's DNS name → the origin of the stand-in named for it (or a parent)."""
        by_urn = self.run.by_urn()
        found: dict[str, str] = {}
        for balancer in self.run.of_type("aws:lb/loadBalancer:LoadBalancer"):
            current: Registered | None = balancer
            while current is not None:
                if current.name in self.subs.origins:
                    found[str(balancer.outputs["dnsName"])] = self.subs.origins[current.name].rstrip("/")
                    break
                current = by_urn.get(current.parent)
        return found

    # -- API Gateway ------------------------------------------------------------------------------------
    @property
    def apigateway(self) -> Any:
        return self.clients.aws("apigateway")

    def rest_api(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(
            r,
            i,
            ("name", "description", "binaryMediaTypes", "apiKeySource", "endpointConfiguration"),
            # The stage URL of the execute-api endpoint is how the tests reach the stage (Substitutions).
            disableExecuteApiEndpoint="substituted: the tests call the stage through its execute-api URL",
            securityPolicy="TLS: LocalStack serves plain HTTP here",
            endpointAccessMode="TLS (SNI must match Host): LocalStack serves plain HTTP here",
        )
        endpoint = dict(given.pop("endpointConfiguration", {}) or {})
        types = endpoint.get("types")
        created = self.apigateway.create_rest_api(
            **given, endpointConfiguration={"types": [types] if isinstance(types, str) else list(types or [])}
        )
        api_id = created["id"]
        root = next(x["id"] for x in self.apigateway.get_resources(restApiId=api_id)["items"] if x["path"] == "/")
        return {
            "id": api_id,
            "rootResourceId": root,
            "executionArn": f"arn:aws:execute-api:{self.region}:{self.account}:{api_id}",
            "arn": f"arn:aws:apigateway:{self.region}::/restapis/{api_id}",
        }

    def resource(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("restApi", "parentId", "pathPart"))
        created = self.apigateway.create_resource(
            restApiId=given["restApi"], parentId=given["parentId"], pathPart=given["pathPart"]
        )
        return {"id": created["id"]}

    def method(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(
            r,
            i,
            (
                "restApi",
                "resourceId",
                "httpMethod",
                "authorization",
                "authorizerId",
                "apiKeyRequired",
                "requestParameters",
                "authorizationScopes",
                "requestValidatorId",
                "operationName",
            ),
        )
        rename = {"restApi": "restApiId", "authorization": "authorizationType"}
        self.apigateway.put_method(**{rename.get(k, k): v for k, v in given.items()})
        return {"id": r.id}

    def integration(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(
            r,
            i,
            (
                "restApi",
                "resourceId",
                "httpMethod",
                "type",
                "integrationHttpMethod",
                "uri",
                "credentials",
                "requestParameters",
                "requestTemplates",
                "passthroughBehavior",
                "cacheKeyParameters",
                "cacheNamespace",
                "contentHandling",
                "timeoutMilliseconds",
                "connectionType",
                "connectionId",
                "integrationTarget",
            ),
        )
        if given.get("connectionType") == "VPC_LINK":
            # Substituted: no VPC link here; the integration reaches its backend's stand-in directly.
            for key in ("connectionType", "connectionId", "integrationTarget"):
                given.pop(key, None)
        uri = str(given.get("uri", ""))
        for dns_name, origin in self.load_balancers.items():
            uri = re.sub(rf"^https?://{re.escape(dns_name)}(:\d+)?", origin, uri)
        if "uri" in given:
            given["uri"] = uri
        if re.match(r"^https?://", uri) and not re.match(r"^https?://(127\.\d+\.\d+\.\d+|localhost)[:/]", uri):
            raise ApplyError(
                f"integration {r.name!r} would reach {uri} beyond loopback: give Substitutions.origins a stand-in"
            )
        rename = {"restApi": "restApiId", "timeoutMilliseconds": "timeoutInMillis"}
        params = {rename.get(k, k): v for k, v in given.items()}
        if "timeoutInMillis" in params:
            params["timeoutInMillis"] = _int(params["timeoutInMillis"])
        self.apigateway.put_integration(**params)
        return {"id": r.id}

    def method_response(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(
            r, i, ("restApi", "resourceId", "httpMethod", "statusCode", "responseParameters", "responseModels")
        )
        self.apigateway.put_method_response(**{("restApiId" if k == "restApi" else k): v for k, v in given.items()})
        return {"id": r.id}

    def integration_response(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(
            r,
            i,
            (
                "restApi",
                "resourceId",
                "httpMethod",
                "statusCode",
                "selectionPattern",
                "responseParameters",
                "responseTemplates",
                "contentHandling",
            ),
        )
        self.apigateway.put_integration_response(
            **{("restApiId" if k == "restApi" else k): v for k, v in given.items()}
        )
        return {"id": r.id}

    def gateway_response(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("restApiId", "responseType", "statusCode", "responseParameters", "responseTemplates"))
        self.apigateway.put_gateway_response(**given)
        return {"id": r.id}

    def authorizer(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(
            r,
            i,
            (
                "restApi",
                "name",
                "type",
                "identitySource",
                "authorizerUri",
                "authorizerResultTtlInSeconds",
                "authorizerCredentials",
                "identityValidationExpression",
                "providerArns",
            ),
        )
        rename = {"restApi": "restApiId", "providerArns": "providerARNs"}
        params = {rename.get(k, k): v for k, v in given.items()}
        if "authorizerResultTtlInSeconds" in params:
            params["authorizerResultTtlInSeconds"] = _int(params["authorizerResultTtlInSeconds"])
        return {"id": self.apigateway.create_authorizer(**params)["id"]}

    def deployment(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(
            r, i, ("restApi", "description"), triggers="the engine's replacement trigger; nothing to send to AWS"
        )
        created = self.apigateway.create_deployment(
            restApiId=given["restApi"], description=given.get("description", "")
        )
        return {"id": created["id"]}

    def stage(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(
            r,
            i,
            ("restApi", "stageName", "deployment", "description", "cacheClusterEnabled", "xrayTracingEnabled"),
            variables="",
            accessLogSettings=f"the access log's destination is a log group; {_CLOUDWATCH}",
            cacheClusterSize="LocalStack has no stage cache",
        )
        if given.get("variables"):
            raise ApplyError(f"stage {r.name!r}: stage variables are not applied yet")
        self.apigateway.create_stage(
            restApiId=given["restApi"],
            stageName=given["stageName"],
            deploymentId=given["deployment"],
            description=given.get("description", ""),
            cacheClusterEnabled=bool(given.get("cacheClusterEnabled", False)),
            tracingEnabled=bool(given.get("xrayTracingEnabled", False)),
        )
        api, stage = given["restApi"], given["stageName"]
        return {
            "id": f"ags-{api}-{stage}",
            "arn": f"arn:aws:apigateway:{self.region}::/restapis/{api}/stages/{stage}",
            "invokeUrl": f"{self.apigateway.meta.endpoint_url}/restapis/{api}/{stage}/_user_request_",
        }

    def method_settings(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("restApi", "stageName", "methodPath", "settings"))
        operations = []
        for key, value in sorted(given["settings"].items()):
            if key not in METHOD_SETTINGS:
                raise ApplyError(f"method settings {r.name!r}: setting {key!r} is not applied by tools/applier.py")
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, float) and value.is_integer() and key != "throttlingRateLimit":
                text = str(int(value))
            else:
                text = str(value)
            path = f"/{given['methodPath']}/{METHOD_SETTINGS[key]}"
            operations.append({"op": "replace", "path": path, "value": text})
        self.apigateway.update_stage(
            restApiId=given["restApi"], stageName=given["stageName"], patchOperations=operations
        )
        return {"id": r.id}

    def usage_plan(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("name", "description", "apiStages", "throttleSettings", "quotaSettings"))
        params: dict[str, Any] = {"name": given["name"], "description": given.get("description", "")}
        params["apiStages"] = [{"apiId": s["apiId"], "stage": s["stage"]} for s in given.get("apiStages", [])]
        if "throttleSettings" in given:
            throttle = given["throttleSettings"]
            params["throttle"] = {
                "rateLimit": float(throttle["rateLimit"]),
                "burstLimit": _int(throttle["burstLimit"]),
            }
        if "quotaSettings" in given:
            quota = given["quotaSettings"]
            params["quota"] = {"limit": _int(quota["limit"]), "period": quota["period"]}
            if "offset" in quota:
                params["quota"]["offset"] = _int(quota["offset"])
        return {"id": self.apigateway.create_usage_plan(**params)["id"]}

    def api_key(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("name", "description", "enabled", "value", "customerId"))
        created = self.apigateway.create_api_key(**given)
        # API Gateway generates the value when none is given; the engine hands that value to its readers.
        return {"id": created["id"], "value": created["value"]}

    def usage_plan_key(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("usagePlanId", "keyId", "keyType"))
        created = self.apigateway.create_usage_plan_key(**given)
        return {"id": created["id"]}

    # -- Lambda and IAM ---------------------------------------------------------------------------------
    def function(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(
            r,
            i,
            (
                "name",
                "description",
                "runtime",
                "architectures",
                "handler",
                "code",
                "role",
                "memorySize",
                "timeout",
                "environment",
            ),
        )
        name = self.autoname(r, given)
        environment = dict((given.get("environment") or {}).get("variables") or {})
        environment.update(self._function_substitutions())
        lambda_client = self.clients.aws("lambda")
        created = lambda_client.create_function(
            FunctionName=name,
            Description=given.get("description", ""),
            Runtime=given["runtime"],
            Architectures=list(given.get("architectures") or ["x86_64"]),
            Handler=given["handler"],
            Role=given["role"],
            Code={"ZipFile": code_zip(given["code"]["assetArchive"], self.project_dir)},
            MemorySize=_int(given.get("memorySize", 128)),
            Timeout=_int(given.get("timeout", 3)),
            Environment={"Variables": environment},
        )
        lambda_client.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 0.25, "MaxAttempts": 120}
        )
        arn = created["FunctionArn"]
        return {
            "id": name,
            "name": name,
            "arn": arn,
            "invokeArn": f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        }

    def _function_substitutions(self) -> dict[str, str]:
        """The variables a function gets in the emulator only (Substitutions)."""
        extra = dict(self.subs.function_environment)
        if self.subs.registry_endpoint:
            extra["AWS_ENDPOINT_URL_DYNAMODB"] = self.subs.registry_endpoint
        return extra

    def permission(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("function", "action", "principal", "sourceArn", "statementId"))
        statement = given.get("statementId") or f"{r.name}-{random.token_hex(4)[:7]}"
        params = {"FunctionName": given["function"], "StatementId": statement, "Action": given["action"]}
        params["Principal"] = given["principal"]
        if "sourceArn" in given:
            params["SourceArn"] = given["sourceArn"]
        self.clients.aws("lambda").add_permission(**params)
        return {"id": statement}

    def role(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("name", "assumeRolePolicy", "description", "path"))
        name = self.autoname(r, given)
        created = self.clients.aws("iam").create_role(
            RoleName=name,
            AssumeRolePolicyDocument=given["assumeRolePolicy"],
            Description=given.get("description", ""),
            Path=given.get("path", "/"),
        )["Role"]
        return {"id": name, "name": name, "arn": created["Arn"]}

    def role_policy(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("role", "policy", "name"))
        name = self.autoname(r, given)
        self.clients.aws("iam").put_role_policy(RoleName=given["role"], PolicyName=name, PolicyDocument=given["policy"])
        return {"id": f"{given['role']}:{name}", "name": name}

    def role_policy_attachment(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("role", "policyArn"))
        self.clients.aws("iam").attach_role_policy(RoleName=given["role"], PolicyArn=given["policyArn"])
        return {"id": f"{given['role']}-{random.token_hex(4)}"}

    # -- S3 ---------------------------------------------------------------------------------------------
    @property
    def s3(self) -> Any:
        return self.clients.aws("s3")

    def bucket(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("bucket", "forceDestroy"), tags="")
        name = self.autoname(r, given, "bucket")
        self.s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        return {
            "id": name,
            "bucket": name,
            "arn": f"arn:aws:s3:::{name}",
            "bucketRegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
        }

    def bucket_object(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("bucket", "key", "source", "content", "contentType", "cacheControl"))
        extra = {"ContentType": given["contentType"]} if "contentType" in given else {}
        if "cacheControl" in given:
            extra["CacheControl"] = given["cacheControl"]
        if "content" in given:
            body = str(given["content"]).encode()
        elif set(given.get("source") or {}) == {"fileAsset"}:
            body = (self.project_dir / given["source"]["fileAsset"]).read_bytes()
        else:
            raise ApplyError(f"object {r.name!r}: only `content` or a file asset source is applied")
        self.s3.put_object(Bucket=given["bucket"], Key=given["key"], Body=body, **extra)
        return {"id": given["key"]}

    def bucket_policy(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("bucket", "policy"))
        self.s3.put_bucket_policy(Bucket=given["bucket"], Policy=given["policy"])
        return {"id": given["bucket"]}

    def bucket_public_access_block(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        keys = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        given = self.take(r, i, ("bucket", *keys))
        self.s3.put_public_access_block(
            Bucket=given["bucket"],
            PublicAccessBlockConfiguration={k[0].upper() + k[1:]: bool(given.get(k, False)) for k in keys},
        )
        return {"id": given["bucket"]}

    def bucket_ownership_controls(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("bucket", "rule"))
        self.s3.put_bucket_ownership_controls(
            Bucket=given["bucket"],
            OwnershipControls={"Rules": [{"ObjectOwnership": given["rule"]["objectOwnership"]}]},
        )
        return {"id": given["bucket"]}

    def bucket_encryption(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("bucket", "rules"))
        rules = []
        for rule in given["rules"]:
            default = rule.get("applyServerSideEncryptionByDefault") or {}
            entry: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": default["sseAlgorithm"]}}
            if default.get("kmsMasterKeyId"):
                entry["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] = default["kmsMasterKeyId"]
            if "bucketKeyEnabled" in rule:
                entry["BucketKeyEnabled"] = bool(rule["bucketKeyEnabled"])
            rules.append(entry)
        self.s3.put_bucket_encryption(Bucket=given["bucket"], ServerSideEncryptionConfiguration={"Rules": rules})
        return {"id": given["bucket"]}

    def bucket_versioning(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("bucket", "versioningConfiguration"))
        status = given["versioningConfiguration"]["status"]
        self.s3.put_bucket_versioning(Bucket=given["bucket"], VersioningConfiguration={"Status": status})
        return {"id": given["bucket"]}

    # -- DynamoDB (moto) ---------------------------------------------------------------------------------
    def table(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(
            r,
            i,
            ("name", "attributes", "hashKey", "rangeKey", "billingMode", "serverSideEncryption"),
            pointInTimeRecovery="backups: nothing is restored here",
            deletionProtectionEnabled="guards a delete; the emulator's table lives for the run",
        )
        name = self.autoname(r, given)
        keys = [{"AttributeName": given["hashKey"], "KeyType": "HASH"}]
        if given.get("rangeKey"):
            keys.append({"AttributeName": given["rangeKey"], "KeyType": "RANGE"})
        params: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": [
                {"AttributeName": a["name"], "AttributeType": a["type"]} for a in given["attributes"]
            ],
            "KeySchema": keys,
            "BillingMode": given.get("billingMode", "PROVISIONED"),
        }
        if (given.get("serverSideEncryption") or {}).get("enabled"):
            params["SSESpecification"] = {"Enabled": True}
        created = self.clients.dynamodb.create_table(**params)["TableDescription"]
        return {"id": name, "name": name, "arn": created["TableArn"]}

    def delete_table_item(self, r: Registered, real: dict[str, Any]) -> None:
        table, _, _ = str(real["id"]).partition("|")
        key = r.inputs["hashKey"]
        self.clients.dynamodb.delete_item(TableName=table, Key={key: real["item"][key]})

    def delete_usage_plan_key(self, r: Registered, real: dict[str, Any]) -> None:
        plan = self.resolve(r.inputs["usagePlanId"])
        self.apigateway.delete_usage_plan_key(usagePlanId=plan, keyId=real["id"])

    def delete_api_key(self, r: Registered, real: dict[str, Any]) -> None:
        self.apigateway.delete_api_key(apiKey=real["id"])

    def table_item(self, r: Registered, i: dict[str, Any]) -> dict[str, Any]:
        given = self.take(r, i, ("tableName", "hashKey", "rangeKey", "item"))
        item = json.loads(given["item"])
        self.clients.dynamodb.put_item(TableName=given["tableName"], Item=item)
        return {"id": f"{given['tableName']}|{item[given['hashKey']]['S']}", "item": item}


def apply(
    run: StackRun,
    clients: Clients,
    substitutions: Substitutions,
    *,
    project_dir: Path = ROOT,
    previous: Applied | None = None,
    references: Sequence[Applied] = (),
    after_step: Callable[[Registered], None] | None = None,
) -> Applied:
    """Create in the emulator every resource `run` registered (see the module docstring); return what it made.

    project_dir: where the program ran (relative asset paths, such as the documents, are read from there).
    previous: the same stack's last apply: this one is a later `pulumi up` of it (creates what is new, updates what
        changed, deletes what the program no longer registers; a type without an update or delete stops it).
    references: the applied stacks this run's StackReferences read (a tenant shard's platform).
    after_step: called after each resource is created, updated or deleted.
    """
    return Applier(run, clients, substitutions, project_dir, previous, references, after_step).apply()
