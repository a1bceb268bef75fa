"""The offline engine: run the real `__main__.py` with a real stack file under Pulumi's mock engine.

Used by the offline plan (`make plan`), the tests and the benchmark. The mocks answer like AWS would
for what the program reads back (ARNs, DNS names, zone ids, validation records), with values derived
from the resource's name so that two runs of the same config produce identical inputs.
"""

from __future__ import annotations

import concurrent.futures
import copy
import hashlib
import json
import os
import runpy
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import known_types, rpc
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from whitelabel.config_base import PROJECT
from whitelabel.endpoints import CLOUDFRONT_ZONE_ID, EDGE
from whitelabel.waf import rules_capacity

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789012"
# API Gateway's hosted zone for regional custom domains in eu-west-1 (what AWS returns there).
REGIONAL_ZONE_ID = "ZLY8HYME6SFDD"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
ALB_ZONE_ID = "Z32O12XQLNTSW2"


@dataclass
class Registered:
    """One resource as the program registered it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: tuple[str, ...] = ()
    # The URNs this resource answers to besides its own (`aliases`), as the engine would resolve them.
    aliases: tuple[str, ...] = ()
    retain_on_delete: bool = False
    protect: bool = False
    id: str = ""
    # What the engine needs to diff a resource against its last state (tools/preview.py): a replacement
    # order and the properties that force a replacement.
    delete_before_replace: bool = False
    replace_on_changes: tuple[str, ...] = ()
    # The same aliases as the request carried them, `{"urn": ...}` or `{"spec": {...}}` (name, type, stack,
    # project, parentUrn, noParent): what the engine resolves (tools/urns.py), parents' aliases not multiplied in.
    alias_specs: tuple[dict[str, Any], ...] = ()
    # Properties whose changes the engine ignores after creation (`ignore_changes`).
    ignore_changes: tuple[str, ...] = ()


@dataclass
class StackRun:
    """Everything one run of the program registered, and its stack outputs."""

    stack: str
    resources: list[Registered]
    outputs: dict[str, Any]
    config: dict[str, str] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Registered:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r}")
        return found[0]

    def by_urn(self) -> dict[str, Registered]:
        return {r.urn: r for r in self.resources}

    def children_of(self, parent: Registered) -> list[Registered]:
        return [r for r in self.resources if r.parent == parent.urn]

    @property
    def custom(self) -> list[Registered]:
        """The cloud resources (what AWS would hold), without the components that group them."""
        return [r for r in self.resources if r.custom]


# Region-name words and the letters AWS uses for them in zone IDs (`ap-northeast-1` → `apne1-az1`).
_ZONE_ID_WORDS = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "gov": "g"}


def zone_id_prefix(region: str) -> str:
    """The prefix of a region's zone IDs: `eu-west-1` → `euw1`, `us-gov-west-1` → `usgw1`."""
    area, *words, number = region.split("-")
    letters = ""
    for word in words:
        for whole, letter in _ZONE_ID_WORDS.items():
            # `northeast` is north + east.
            word = word.replace(whole, letter)
        letters += word
    return f"{area}{letters}{number}"


def _digest(*parts: str, length: int = 10) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


class AwsMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes the way AWS would, deterministically."""

    def __init__(self, region: str, stack_outputs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.region = region
        # A StackReference's answer: referenced stack (as named, `organization/project/stack`) → its exports.
        self.stack_outputs = dict(stack_outputs or {})
        self.registered: list[Registered] = []
        # The monitor serves registrations from several threads; what it learns of one registration
        # (parent, dependencies, options) is handed to `new_resource` on the same thread.
        self.pending = threading.local()

    # -- resources -------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == STACK_REFERENCE_TYPE:
            return self._stack_reference(args)
        inputs = {key: _comparable(value) for key, value in args.inputs.items()}
        # An archive goes back as itself: the SDK checks an archive-typed output's type (a Lambda's `code`).
        archives = {k: v for k, v in args.inputs.items() if isinstance(v, pulumi.Archive)}
        outputs = {**inputs, **archives, **self._computed(args.typ, args.name, inputs)}
        resource_id = outputs.pop("id", None) or f"{args.name}-{_digest(args.typ, args.name, length=8)}"
        meta: dict[str, Any] = getattr(self.pending, "meta", {})
        self.registered.append(
            Registered(
                urn=meta.get("urn", ""),
                type=args.typ,
                name=args.name,
                parent=meta.get("parent", ""),
                custom=bool(args.custom),
                inputs=inputs,
                outputs=outputs,
                dependencies=tuple(meta.get("dependencies", ())),
                aliases=tuple(meta.get("aliases", ())),
                retain_on_delete=bool(meta.get("retain_on_delete", False)),
                protect=bool(meta.get("protect", False)),
                id=resource_id if args.custom else "",
                delete_before_replace=bool(meta.get("delete_before_replace", False)),
                replace_on_changes=tuple(meta.get("replace_on_changes", ())),
                alias_specs=tuple(meta.get("alias_specs", ())),
                ignore_changes=tuple(meta.get("ignore_changes", ())),
            )
        )
        return (resource_id if args.custom else None), outputs

    def _stack_reference(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """A read of another stack's outputs (the SDK reads a StackReference by the referenced stack's name)."""
        referenced = str(args.resource_id or args.inputs.get("name") or args.name)
        if referenced not in self.stack_outputs:
            raise KeyError(f"the offline engine holds no outputs of stack {referenced!r} (give AwsMocks stack_outputs)")
        outputs = {"name": referenced, "outputs": dict(self.stack_outputs[referenced]), "secretOutputNames": []}
        meta: dict[str, Any] = getattr(self.pending, "meta", {})
        self.registered.append(
            Registered(
                urn=meta.get("urn", ""),
                type=args.typ,
                name=args.name,
                parent=meta.get("parent", ""),
                custom=True,
                inputs={"name": referenced},
                outputs=outputs,
                id=referenced,
            )
        )
        return referenced, outputs

    def _computed(self, typ: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        region, h = self.region, _digest(typ, name)
        service = typ.split(":")[1].split("/")[0]
        out: dict[str, Any] = {"arn": f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{name}"}
        if typ == "aws:apigateway/restApi:RestApi":
            out.update(
                id=h, rootResourceId=f"root{h[:6]}", executionArn=f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{h}"
            )
        elif typ == "aws:apigateway/domainName:DomainName":
            out.update(domainNameId=h, arn=f"arn:aws:apigateway:{region}::/domainnames/{inputs.get('domainName')}")
            # AWS fills the attributes of the domain's own type only: a regional endpoint, or the CloudFront
            # distribution API Gateway puts in front of an edge domain (whitelabel/endpoints.py).
            if (inputs.get("endpointConfiguration") or {}).get("types") == EDGE:
                out.update(cloudfrontDomainName=f"d{h[:13]}.cloudfront.net", cloudfrontZoneId=CLOUDFRONT_ZONE_ID)
            else:
                out.update(
                    regionalDomainName=f"d-{h}.execute-api.{region}.amazonaws.com", regionalZoneId=REGIONAL_ZONE_ID
                )
        elif typ == "aws:acm/certificate:Certificate":
            domain = str(inputs.get("domainName", ""))
            names = [domain, *inputs.get("subjectAlternativeNames", [])]
            out["arn"] = f"arn:aws:acm:{inputs.get('region') or region}:{ACCOUNT_ID}:certificate/{h}"
            out["domainValidationOptions"] = [
                {
                    "domainName": n,
                    # `*.x` and `x` are validated by the same record, as ACM does it.
                    "resourceRecordName": f"_{_digest(n.removeprefix('*.'))}.{n.removeprefix('*.')}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{_digest('v', n.removeprefix('*.'))}.acm-validations.aws.",
                }
                for n in names
            ]
        elif typ == "aws:acm/certificateValidation:CertificateValidation":
            out = {"certificateArn": inputs.get("certificateArn")}
        elif typ == "aws:lb/loadBalancer:LoadBalancer":
            prefix = "internal-" if inputs.get("internal") else ""
            out.update(
                arn=f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:loadbalancer/app/{name[:32]}/{h}",
                dnsName=f"{prefix}{name[:32]}-{h[:8]}.{region}.elb.amazonaws.com",
                zoneId=ALB_ZONE_ID,
                arnSuffix=f"app/{name[:32]}/{h}",
            )
        elif typ == "aws:lb/targetGroup:TargetGroup":
            out.update(
                arn=f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:targetgroup/{name[:32]}/{h}",
                arnSuffix=f"targetgroup/{name[:32]}/{h}",
            )
        elif typ == "aws:lb/listener:Listener":
            out["arn"] = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:listener/app/{name[:32]}/{h}"
        elif typ == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or f"{name}-{h[:7]}"
            out.update(
                id=bucket,
                bucket=bucket,
                arn=f"arn:aws:s3:::{bucket}",
                bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com",
            )
        elif typ == "aws:iam/role:Role":
            out.update(arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{name}", name=inputs.get("name") or name)
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            # In the provider's region, or the one its `region` argument names (a CloudFront web ACL's logs).
            where = inputs.get("region") or region
            out.update(
                arn=f"arn:aws:logs:{where}:{ACCOUNT_ID}:log-group:{inputs.get('name') or name}",
                name=inputs.get("name") or name,
            )
        elif typ == "aws:lambda/function:Function":
            function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{inputs.get('name') or name}"
            out.update(
                arn=function_arn,
                name=inputs.get("name") or name,
                invokeArn=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
            )
        elif typ == "aws:apigateway/apiKey:ApiKey" and not inputs.get("value"):
            # API Gateway generates a 40-character alphanumeric value when none is given.
            out["value"] = _digest("api-key-value", name, length=40)
        elif typ == "aws:apigateway/stage:Stage":
            out["invokeUrl"] = f"https://api.execute-api.{region}.amazonaws.com/{inputs.get('stageName')}"
            # A stage's ARN has no account: arn:aws:apigateway:region::/restapis/api-id/stages/stage-name.
            api, stage = inputs.get("restApi"), inputs.get("stageName")
            out["arn"] = f"arn:aws:apigateway:{region}::/restapis/{api}/stages/{stage}"
        elif typ == "aws:wafv2/webAcl:WebAcl":
            acl = inputs.get("name") or name
            # A CLOUDFRONT-scope web ACL is global, made in us-east-1 (arn:aws:wafv2:us-east-1:<account>:global/...)
            scope = "global" if inputs.get("scope") == "CLOUDFRONT" else "regional"
            where = inputs.get("region") or region
            out.update(id=h, arn=f"arn:aws:wafv2:{where}:{ACCOUNT_ID}:{scope}/webacl/{acl}/{h}")
            # AWS computes the web ACL's WCU from its rules; so do we, from what was registered.
            out["capacity"] = rules_capacity(inputs.get("rules") or [])
        elif typ == "aws:ecs/cluster:Cluster":
            out["arn"] = f"arn:aws:ecs:{region}:{ACCOUNT_ID}:cluster/{name}"
            out["name"] = inputs.get("name") or name
        elif typ in ("aws:ecs/service:Service", "aws:autoscaling/group:Group"):
            out["name"] = inputs.get("name") or name
        elif typ == "aws:ec2/eip:Eip":
            out["allocationId"] = f"eipalloc-{h[:8]}"
        elif typ == "aws:route53/record:Record":
            out["fqdn"] = inputs.get("name")
        elif typ.startswith("aws:cloudfront/"):
            out.update(self._cloudfront(typ, name, h))
        return out

    @staticmethod
    def _cloudfront(typ: str, name: str, h: str) -> dict[str, Any]:
        """CloudFront's ids and ARNs (global: no region in them), as its API returns them."""
        if typ == "aws:cloudfront/multitenantDistribution:MultitenantDistribution":
            dist = f"E{h[:13].upper()}"
            return {"id": dist, "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{dist}", "status": "Deployed"}
        if typ == "aws:cloudfront/connectionGroup:ConnectionGroup":
            group = f"cg_{h}"
            return {
                "id": group,
                "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:connection-group/{group}",
                # The customers' CNAME target, a name under cloudfront.net.
                "routingEndpoint": f"d{h[:13]}.cloudfront.net",
                "status": "Deployed",
            }
        if typ == "aws:cloudfront/distributionTenant:DistributionTenant":
            tenant = f"dt_{h}"
            # Created without waiting for deployment (wait_for_deployment false): still rolling out.
            return {
                "id": tenant,
                "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution-tenant/{tenant}",
                "status": "InProgress",
            }
        if typ == "aws:cloudfront/function:Function":
            return {"arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:function/{name}", "status": "UNASSOCIATED"}
        return {}

    # -- invokes -----------------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        token, a = args.token, args.args
        if token == "aws:index/getRegion:getRegion":
            return {
                "region": self.region,
                "name": self.region,
                "id": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
            }, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/ci",
                "userId": "AIDA",
                "id": ACCOUNT_ID,
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            # Three zones, with the zone IDs AWS gives the region (eu-west-1 → euw1-az1..3).
            names = [f"{self.region}{z}" for z in "abc"]
            prefix = zone_id_prefix(self.region)
            return {"names": names, "zoneIds": [f"{prefix}-az{i + 1}" for i in range(3)], "id": self.region}, []
        if token == "aws:route53/getZone:getZone":
            zone = str(a.get("name", "")).rstrip(".")
            return {
                "zoneId": f"Z{_digest(zone, length=12).upper()}",
                "name": zone,
                "id": f"Z{_digest(zone, length=12).upper()}",
                "nameServers": [],
            }, []
        if token == "aws:lb/getLoadBalancer:getLoadBalancer":
            return self._load_balancer_lookup(a), []
        if token == "aws:lambda/getFunction:getFunction":
            return self._function_lookup(a), []
        raise NotImplementedError(f"the offline engine has no answer for invoke {token}")

    def _load_balancer_lookup(self, a: Mapping[str, Any]) -> dict[str, Any]:
        """An existing load balancer looked up by ARN (a program that brings its own): internal, like the load
        balancers the gateway's private integrations reach; its kind, name and id read from the ARN."""
        arn = str(a.get("arn") or "")
        kind, name, lb_id = arn.split(":loadbalancer/", 1)[1].split("/") if ":loadbalancer/" in arn else ("app", "", "")
        return {
            "arn": arn,
            "arnSuffix": f"{kind}/{name}/{lb_id}",
            "id": arn,
            "name": name,
            "internal": True,
            "loadBalancerType": {"app": "application", "net": "network"}.get(kind, kind),
            "dnsName": f"internal-{name}-{lb_id[:8]}.{self.region}.elb.amazonaws.com",
            "zoneId": ALB_ZONE_ID,
            "vpcId": f"vpc-{_digest(arn, length=8)}",
            "securityGroups": [f"sg-{_digest(arn, 'sg', length=8)}"],
            "subnets": [f"subnet-{_digest(arn, z, length=8)}" for z in "abc"],
        }

    def _function_lookup(self, a: Mapping[str, Any]) -> dict[str, Any]:
        """An existing Lambda function looked up by name or ARN, with the ARNs AWS returns for it."""
        given = str(a.get("functionName") or "")
        name = given.split(":function:", 1)[1].split(":")[0] if ":function:" in given else given
        arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
        return {
            "arn": arn,
            "functionName": name,
            "id": name,
            "invokeArn": f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
            "qualifiedArn": f"{arn}:$LATEST",
            "qualifiedInvokeArn": (
                f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/{arn}:$LATEST/invocations"
            ),
            "runtime": "python3.12",
            "handler": "index.handler",
            "version": "$LATEST",
        }


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping what mocks are not told: parent, dependencies, options."""

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks)
        self.aws = mocks

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        if request.type != "pulumi:pulumi:Stack":
            self.aws.pending.meta = {
                "urn": self.make_urn(request.parent, request.type, request.name),
                "parent": request.parent,
                "dependencies": list(request.dependencies),
                "retain_on_delete": request.retainOnDelete,
                "protect": request.protect,
                "delete_before_replace": request.deleteBeforeReplace,
                "replace_on_changes": list(request.replaceOnChanges),
                "aliases": self._alias_urns(request),
                "alias_specs": _alias_specs(request),
                "ignore_changes": list(request.ignoreChanges),
            }
        return super().RegisterResource(request)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        # A read (a StackReference) has no options to keep; its URN and parent, not the last registration's.
        self.aws.pending.meta = {
            "urn": self.make_urn(request.parent, request.type, request.name),
            "parent": request.parent,
        }
        return super().ReadResource(request)

    def _alias_urns(self, request: Any) -> list[str]:
        """The URNs (as this monitor makes them) that `aliases=` says the resource had before."""
        urns: list[str] = []
        for alias in request.aliases:
            if alias.urn:
                urns.append(alias.urn)
                continue
            spec = alias.spec
            # An unset field of a spec means "the same as now" (pulumi/pulumi, sdk/proto/alias.proto).
            parent = "" if spec.noParent else (spec.parentUrn or request.parent)
            urns.append(self.make_urn(parent, spec.type or request.type, spec.name or request.name))
        return urns


def _alias_specs(request: Any) -> list[dict[str, Any]]:
    """The request's aliases as sent: specs (the SDK sends them when the monitor supports them) or URNs."""
    found: list[dict[str, Any]] = []
    for alias in request.aliases:
        if alias.WhichOneof("alias") == "urn":
            found.append({"urn": alias.urn})
            continue
        spec = alias.spec
        fields = ("name", "type", "stack", "project", "parentUrn", "noParent")
        found.append({"spec": {key: getattr(spec, key) for key in fields}})
    # Older engines get full URNs the SDK computed itself, parents' aliases already multiplied in.
    found.extend({"urn": urn} for urn in request.aliasURNs)
    return found


class StackFileError(pulumi.RunError):
    """A stack file that is not YAML: one line `Pulumi.<stack>.yaml:<line>: <problem>`, no traceback.

    A RunError, so the offline commands report it as they report a refused config (tools/cli.py).
    """


def stack_file_config(stack: str, project_dir: Path = ROOT) -> dict[str, Any]:
    """The `config:` block of `Pulumi.<stack>.yaml`, values as YAML gives them."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    return stack_file_text_config(path.read_text(), path.name)


def stack_file_text_config(text: str, name: str) -> dict[str, Any]:
    """The `config:` block of a stack file's text, or `StackFileError` naming `name` (and the line).

    Each text is parsed once per process (the tests run the same stack files hundreds of times); every caller
    gets its own copy, free to change.
    """
    parsed = _PARSED.get(text)
    if parsed is None:
        parsed = _parse_stack_text(text, name)
        if len(_PARSED) >= 256:
            _PARSED.clear()
        _PARSED[text] = parsed
    return _copied(parsed)


# Stack file text → its parsed `config:` block, never handed out itself (`_copied`).
_PARSED: dict[str, dict[str, Any]] = {}


def _copied(value: Any) -> Any:
    """A deep copy of YAML data: new dicts and lists all the way down (scalars are immutable)."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, str | int | float | bool | None):
        return value
    return copy.deepcopy(value)


def _parse_stack_text(text: str, name: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise StackFileError(_yaml_error_line(name, error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackFileError(f"{name}: must be a mapping whose config: holds `namespace:key: value` lines")
    return dict(document.get("config") or {})


def _yaml_error_line(name: str, error: yaml.YAMLError) -> str:
    """`Pulumi.dev.yaml:7: mapping values are not allowed here`: the file's name (never a path of this
    machine), the 1-based line YAML stopped at, and its words for the problem."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if context and context_mark is not None and (mark is None or context_mark.line != mark.line):
        # An unclosed quote or bracket: YAML notices at the end, the mistake is where it opened.
        context = f"{context} from line {context_mark.line + 1}"
    where = f"{name}:{mark.line + 1}" if mark is not None else name
    text = f"{where}: {problem}" + (f" ({context})" if context else "")
    return " ".join(text.split())


def engine_config(values: Mapping[str, Any]) -> dict[str, str]:
    """Encode config the way the Pulumi engine hands it to a program: strings, objects as JSON."""
    encoded: dict[str, str] = {}
    for key, value in values.items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        encoded[full] = value if isinstance(value, str) else json.dumps(value)
    return encoded


def run_program(
    stack: str,
    config: Mapping[str, Any] | None = None,
    *,
    edit: Callable[[dict[str, Any]], None] | None = None,
    project_dir: Path = ROOT,
    mocks: AwsMocks | None = None,
    platform_outputs: Mapping[str, Any] | None = None,
) -> StackRun:
    """Run `__main__.py` for `stack` under the mock engine and return what it registered.

    `config` replaces the stack file's config entirely; `edit` changes a copy of it in place
    (for example to append a customer). Exceptions of the program propagate; pass `mocks` to see
    what was registered before one was raised. A tenant shard's StackReference answers with
    `platform_outputs`, by default what its platform's stack file exports when run here first (as a real
    platform `up` exports it).
    """
    values = dict(stack_file_config(stack, project_dir) if config is None else config)
    if edit is not None:
        values = json.loads(json.dumps(values))
        edit(values)
    encoded = engine_config(values)
    if mocks is None:
        references: dict[str, Mapping[str, Any]] = {}
        platform = values.get(f"{PROJECT}:platform")
        if isinstance(platform, str):
            if platform_outputs is None:
                platform_outputs = run_program(platform.rsplit("/", 1)[-1], project_dir=project_dir).outputs
            references[platform] = platform_outputs
        mocks = AwsMocks(str(values.get("aws:region", "eu-west-1")), references)

    def program() -> None:
        with _on_path(project_dir):
            runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")

    _, stack_outputs = run_function(program, stack, encoded, mocks)
    outputs = {k: _resolve(v) for k, v in stack_outputs.items()}
    return StackRun(stack=stack, resources=mocks.registered, outputs=outputs, config=encoded)


def run_function(
    program: Callable[[], Any], stack: str, config: Mapping[str, str], mocks: AwsMocks
) -> tuple[Any, dict[str, Any]]:
    """Run `program` as a Pulumi program under `mocks` (preview off), waiting for every registration.

    Returns what `program` returned and the stack's exports. The program, a component test and the
    benchmark's baseline all go through here, so they pay the same engine overhead.
    """
    pulumi_settings.reset_options()
    pulumi_mocks._sync_await = _mock_sync_await
    # The SDK hands each call to the monitor to its event loop's default executor.
    _ensure_event_loop().set_default_executor(_MONITOR_EXECUTOR)
    pulumi_mocks.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(mocks))
    pulumi.runtime.set_all_config(dict(config))
    root = pulumi.runtime.get_root_resource()
    result: list[Any] = [None]

    def run() -> None:
        result[0] = program()

    _sync_await(pulumi.runtime.stack.run_pulumi_func(run))
    return result[0], dict(getattr(root, "outputs", {}))


_SERIALIZE_PROPERTIES = rpc.serialize_properties.__code__


def _mock_sync_await(awaitable: Any) -> Any:
    """The mock monitor's `_sync_await`, without a run of an event loop to serialise a mock's answer.

    At every registration the mock monitor serialises what the mocks answered (`rpc.serialize_properties` of plain
    values) through `_sync_await`: a task and a run of the worker thread's event loop each time, though that
    coroutine never waits on anything. When the answer is plain data (nothing in it to await: what AwsMocks gives),
    it is run here to its end directly; should it wait after all, it is closed (it only builds a message from its
    arguments) and serialised again on the loop. Everything else goes to the SDK's `_sync_await` unchanged.
    """
    if getattr(awaitable, "cr_code", None) is not _SERIALIZE_PROPERTIES:
        return _sync_await(awaitable)
    arguments = dict(awaitable.cr_frame.f_locals)
    if not _plain(arguments["inputs"]):
        return _sync_await(awaitable)
    try:
        awaitable.send(None)
    except StopIteration as done:
        return done.value
    awaitable.close()
    return _sync_await(rpc.serialize_properties(**{**arguments, "property_deps": {}}))


def _plain(value: Any) -> bool:
    """Whether `value` is JSON-like data all the way down (no Output, future, resource or asset in it)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


_SDK_STACK_TRACE = getattr(pulumi_resource, "_get_stack_trace", None)


def record_source_positions(enabled: bool) -> None:
    """Whether the SDK walks the Python stack at every registration to send its source position.

    The SDK sends it for the engine's diagnostics (`sourcePosition`, `stackTrace` of RegisterResource); the mock
    monitor and `Registered` keep neither, so turning it off changes nothing that is recorded. The tests turn it
    off: the walk was 17% of a prod run's CPU under the profiler. The plan and the benchmark leave it on, as
    `pulumi up` runs it.
    """
    if _SDK_STACK_TRACE is None:
        return  # an SDK without the walk: nothing to skip
    pulumi_resource._get_stack_trace = _SDK_STACK_TRACE if enabled else source_pb2.StackTrace


_SDK_CONTAINS_UNKNOWNS = rpc.contains_unknowns


def contains_unknowns(val: Any) -> bool:
    """`rpc.contains_unknowns` without its recursive closure: the same answer, and no garbage cycle per call.

    The SDK's version defines a recursive inner function at every call, so each call leaves a function, its cell and
    its annotations in a reference cycle that only the cyclic collector frees. The SDK calls it dozens of times a
    resource (every Output's value is checked): 6,310 times in a dev run, 88% of the run's cyclic garbage. Same rule:
    true when an Unknown is reachable through dicts and lists, each object visited once (cycles end).
    """
    if not isinstance(val, dict | list):  # most values the SDK checks: a string, a number, None
        return known_types.is_unknown(val)
    seen: set[int] = set()
    pending = [val]
    while pending:
        item = pending.pop()
        if known_types.is_unknown(item):
            return True
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def acyclic_unknowns_check(enabled: bool) -> None:
    """Whether the SDK checks values for Unknowns with `contains_unknowns` above instead of its own.

    The tests turn it on: the cyclic collector then has a tenth of the garbage to find after each program run
    (measured with gc.DEBUG_SAVEALL: 42,067 cyclic objects a dev run with the SDK's check, 4,207 with this one;
    `make unit` 89 → 78 s of CPU). The plan and the benchmark leave the SDK's own, as `pulumi up` runs it. Both
    answer alike, and runs with either record the same resources (tests/test_offline.py).
    """
    rpc.contains_unknowns = contains_unknowns if enabled else _SDK_CONTAINS_UNKNOWNS


class _MonitorExecutor(concurrent.futures.ThreadPoolExecutor):
    """The event loop's default executor in a run here: the SDK's calls to the mock monitor (RegisterResource,
    ReadResource, Invoke) in its thread pool, or, with `inline_monitor_calls(True)`, each at once in the thread that
    hands it over: the event loop's."""

    inline = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        if not self.inline:
            return super().submit(fn, *args, **kwargs)
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as error:  # as the pool's worker does: the caller gets it from the future
            done.set_exception(error)
        return done


_MONITOR_EXECUTOR = _MonitorExecutor(thread_name_prefix="mock-monitor")


def inline_monitor_calls(enabled: bool) -> None:
    """Whether the SDK's calls to the mock monitor run in the event loop's thread instead of a pool thread.

    `pulumi up` talks to the engine over gRPC from pool threads; here the monitor is a Python object, and each call
    handed to a thread costs two thread switches and the interpreter lock for a few microseconds of work. The tests
    turn it on: a dev run 0.20 → 0.18 s of CPU, a 100-customer run 0.59 → 0.52 s (best of three each). The SDK wraps
    every such call with its caller's context (pulumi.runtime._context), so it sees the same context either way, and
    the mock monitor's answers are plain data, serialised without the event loop (`_mock_sync_await`), so a call
    never re-enters the loop. The plan and the benchmark leave the pool, as `pulumi up` has it. Runs either way record
    the same resources (tests/test_offline.py).
    """
    _MONITOR_EXECUTOR.inline = enabled


def _comparable(value: Any) -> Any:
    """Assets compare by identity; record them by what they are, so two runs can be compared."""
    if isinstance(value, pulumi.FileAsset):
        return {"fileAsset": str(value.path)}
    if isinstance(value, pulumi.StringAsset):
        return {"stringAsset": value.text}
    if isinstance(value, pulumi.AssetArchive):
        return {"assetArchive": {k: _comparable(v) for k, v in value.assets.items()}}
    if isinstance(value, pulumi.FileArchive):
        return {"fileArchive": str(value.path)}
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _resolve(value: Any) -> Any:
    return _sync_await(pulumi.Output.from_input(value).future())


class _on_path:  # noqa: N801 (used as a context manager)
    def __init__(self, directory: Path) -> None:
        self.directory = str(directory)

    def __enter__(self) -> None:
        self.cwd = os.getcwd()
        os.chdir(self.directory)
        sys.path.insert(0, self.directory)

    def __exit__(self, *exc: object) -> None:
        os.chdir(self.cwd)
        if self.directory in sys.path:
            sys.path.remove(self.directory)


def walk_types(run: StackRun) -> Iterator[tuple[str, int]]:
    counts: dict[str, int] = {}
    for r in run.custom:
        counts[r.type] = counts.get(r.type, 0) + 1
    yield from sorted(counts.items())
