"""Every name the program gives AWS fits AWS's limit for its kind (issue 14, part 3).

The real program runs under the mock engine with the committed stack files and with stack names and
prefixes that just fit; every name-like input of every registered resource (a property called `name`,
`…Name`, `…Names`, `family` or `bucket`, nested ones included) is mapped, by resource type and property
path, to a kind of `whitelabel.names.KINDS` and checked against its limit; so are the names Pulumi makes
for resources given none (`<logical name>-<7 hex>`). A named input, or a resource type, that this file
does not map fails the test: a new named resource cannot slip past the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from hypothesis import given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.test_config_properties import PROFILE
from whitelabel.config import NAME_PREFIX_MAX, ConfigError, parse_settings, read_raw_config
from whitelabel.names import AUTONAME_SUFFIX, KINDS, REST_API_ID_STAND_IN, check_names, program_names
from whitelabel.offline import AwsMocks, StackRun, engine_config, run_program, stack_file_config

PROJECT = "whitelabel-gateway"
NAME_LIKE = re.compile(r"(?:^|[a-z])(?:[Nn]ames?|[Ff]amily)$|^(?:name|names|family|bucket)$")

# (resource type, property path) → kind of `KINDS`. Paths are dotted; `[]` marks a list's items.
NAMED_INPUTS: dict[tuple[str, str], str] = {
    ("aws:acm/certificate:Certificate", "domainName"): "dns-name",
    ("aws:acm/certificate:Certificate", "subjectAlternativeNames[]"): "dns-name",
    ("aws:apigateway/authorizer:Authorizer", "name"): "api-authorizer",
    ("aws:apigateway/apiKey:ApiKey", "name"): "api-key",
    ("aws:apigateway/basePathMapping:BasePathMapping", "domainName"): "dns-name",
    ("aws:apigateway/basePathMapping:BasePathMapping", "stageName"): "api-stage",
    ("aws:apigateway/domainName:DomainName", "domainName"): "dns-name",
    ("aws:apigateway/methodSettings:MethodSettings", "stageName"): "api-stage",
    ("aws:apigateway/restApi:RestApi", "name"): "rest-api",
    ("aws:apigateway/stage:Stage", "stageName"): "api-stage",
    ("aws:apigateway/usagePlan:UsagePlan", "name"): "usage-plan",
    ("aws:apigatewayv2/vpcLink:VpcLink", "name"): "vpc-link-v2",
    ("aws:cloudwatch/contributorInsightRule:ContributorInsightRule", "ruleName"): "contributor-insights-rule",
    ("aws:cloudwatch/dashboard:Dashboard", "dashboardName"): "dashboard",
    ("aws:cloudwatch/logGroup:LogGroup", "name"): "log-group",
    ("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "policyName"): "logs-resource-policy",
    ("aws:cloudwatch/logMetricFilter:LogMetricFilter", "name"): "metric-filter",
    ("aws:cloudwatch/logMetricFilter:LogMetricFilter", "logGroupName"): "log-group",
    ("aws:cloudwatch/logMetricFilter:LogMetricFilter", "metricTransformation.name"): "metric-name",
    ("aws:cloudwatch/logMetricFilter:LogMetricFilter", "metricTransformation.namespace"): "metric-namespace",
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "name"): "alarm",
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "metricQueries[].metric.namespace"): "metric-namespace",
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "metricQueries[].metric.metricName"): "metric-name",
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "metricQueries[].metric.dimensions.ApiName"): "metric-dimension-value",
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "metricQueries[].metric.dimensions.FunctionName"): (
        "metric-dimension-value"
    ),
    ("aws:cloudwatch/queryDefinition:QueryDefinition", "name"): "query-definition",
    ("aws:cloudwatch/queryDefinition:QueryDefinition", "logGroupNames[]"): "log-group",
    ("aws:dynamodb/table:Table", "name"): "dynamodb-table",
    ("aws:dynamodb/table:Table", "attributes[].name"): "dynamodb-attribute",
    ("aws:dynamodb/tableItem:TableItem", "tableName"): "dynamodb-table",
    ("aws:ecs/service:Service", "loadBalancers[].containerName"): "ecs-container",
    ("aws:ecs/taskDefinition:TaskDefinition", "family"): "ecs-task-family",
    ("aws:lambda/function:Function", "name"): "lambda-function",
    ("aws:route53/record:Record", "name"): "dns-name",
    ("aws:route53/record:Record", "aliases[].name"): "dns-name",
    ("aws:s3/bucketObjectv2:BucketObjectv2", "bucket"): "s3-bucket",
    ("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "bucket"): "s3-bucket",
    ("aws:s3/bucketPolicy:BucketPolicy", "bucket"): "s3-bucket",
    ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "bucket"): "s3-bucket",
    ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "bucket"): "s3-bucket",
    ("aws:s3/bucketVersioning:BucketVersioning", "bucket"): "s3-bucket",
    ("aws:sns/topic:Topic", "name"): "sns-topic",
    ("aws:wafv2/webAcl:WebAcl", "name"): "waf-web-acl",
    ("aws:wafv2/webAcl:WebAcl", "visibilityConfig.metricName"): "waf-metric",
    ("aws:wafv2/webAcl:WebAcl", "rules[].name"): "waf-rule",
    ("aws:wafv2/webAcl:WebAcl", "rules[].visibilityConfig.metricName"): "waf-metric",
    ("aws:wafv2/webAcl:WebAcl", "rules[].statement.managedRuleGroupStatement.name"): "waf-rule-group",
    ("aws:wafv2/webAcl:WebAcl", "rules[].statement.managedRuleGroupStatement.vendorName"): "waf-rule-group",
    ("aws:wafv2/webAcl:WebAcl", "rules[].statement.rateBasedStatement.customKeys[].header.name"): "waf-header",
    ("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "redactedFields[].singleHeader.name"): (
        "waf-header"
    ),
}
# Values AWS defines (not names we choose): the ECS cluster setting `containerInsights`, the OS family.
AWS_DEFINED_INPUTS = {
    ("aws:ecs/cluster:Cluster", "settings[].name"),
    ("aws:ecs/taskDefinition:TaskDefinition", "runtimePlatform.operatingSystemFamily"),
}

# Types Pulumi names when the program gives no name: the property it fills and the name's kind.
AUTONAMED: dict[str, tuple[str, str]] = {
    "aws:apigateway/restApi:RestApi": ("name", "rest-api"),
    "aws:apigatewayv2/vpcLink:VpcLink": ("name", "vpc-link-v2"),
    "aws:autoscaling/group:Group": ("name", "autoscaling-group"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "log-group"),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": ("name", "metric-filter"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", "alarm"),
    "aws:cloudwatch/queryDefinition:QueryDefinition": ("name", "query-definition"),
    "aws:dynamodb/table:Table": ("name", "dynamodb-table"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", "launch-template"),
    "aws:ec2/securityGroup:SecurityGroup": ("name", "security-group"),
    "aws:ecs/cluster:Cluster": ("name", "ecs-cluster"),
    "aws:ecs/service:Service": ("name", "ecs-service"),
    "aws:iam/instanceProfile:InstanceProfile": ("name", "iam-instance-profile"),
    "aws:iam/role:Role": ("name", "iam-role"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "iam-role-policy"),
    "aws:lambda/function:Function": ("name", "lambda-function"),
    "aws:lb/loadBalancer:LoadBalancer": ("name", "load-balancer"),
    "aws:lb/targetGroup:TargetGroup": ("name", "target-group"),
    "aws:s3/bucket:Bucket": ("bucket", "s3-bucket"),
    "aws:sns/topic:Topic": ("name", "sns-topic"),
    "aws:wafv2/webAcl:WebAcl": ("name", "waf-web-acl"),
}
# Types with no name of their own (ids, attachments, records of another resource), or a name always given.
UNNAMED = {
    "aws:acm/certificate:Certificate",
    "aws:acm/certificateValidation:CertificateValidation",
    "aws:apigateway/account:Account",
    "aws:apigateway/apiKey:ApiKey",
    "aws:apigateway/authorizer:Authorizer",
    "aws:apigateway/basePathMapping:BasePathMapping",
    "aws:apigateway/deployment:Deployment",
    "aws:apigateway/domainName:DomainName",
    "aws:apigateway/integration:Integration",
    "aws:apigateway/integrationResponse:IntegrationResponse",
    "aws:apigateway/method:Method",
    "aws:apigateway/methodResponse:MethodResponse",
    "aws:apigateway/methodSettings:MethodSettings",
    "aws:apigateway/resource:Resource",
    "aws:apigateway/response:Response",
    "aws:apigateway/stage:Stage",
    "aws:apigateway/usagePlan:UsagePlan",
    "aws:apigateway/usagePlanKey:UsagePlanKey",
    "aws:cloudwatch/contributorInsightRule:ContributorInsightRule",
    "aws:cloudwatch/dashboard:Dashboard",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
    "aws:dynamodb/tableItem:TableItem",
    "aws:ec2/eip:Eip",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/route:Route",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/vpc:Vpc",
    "aws:ecs/taskDefinition:TaskDefinition",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:lambda/permission:Permission",
    "aws:lb/listener:Listener",
    "aws:route53/record:Record",
    "aws:s3/bucketObjectv2:BucketObjectv2",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:wafv2/webAclAssociation:WebAclAssociation",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
}

# The longest stack names that fit: the authorizer `<prefix>-tenant-authorizer` at exactly 64 characters.
LONGEST_STACK = "s" * (64 - len(f"{PROJECT}--tenant-authorizer"))  # 27 with the project as prefix
LONGEST_PREFIX = "p" * NAME_PREFIX_MAX
LONGEST_STACK_WITH_PREFIX = "s" * (64 - len(f"{LONGEST_PREFIX}--tenant-authorizer"))  # 21


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, string) for every string inside an input; `[]` stands for any list index."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, f"{path}[]")
    elif isinstance(value, str):
        yield path, value


def _is_tag(path: str) -> bool:
    return path.startswith("tags.") or ".tags." in path


def named_inputs(run: StackRun) -> list[tuple[str, str, str, str]]:
    """(resource name, kind, path, value) for every name-like input of every resource, and each autoname."""
    found: list[tuple[str, str, str, str]] = []
    for resource in run.custom:
        for path, value in _strings(resource.inputs):
            leaf = path.rsplit(".", 1)[-1].removesuffix("[]")
            if _is_tag(path):
                found.append((resource.name, "tag-value", path, value))
            elif (resource.type, path) in NAMED_INPUTS:
                found.append((resource.name, NAMED_INPUTS[resource.type, path], path, value))
            elif NAME_LIKE.search(leaf) and (resource.type, path) not in AWS_DEFINED_INPUTS:
                raise AssertionError(
                    f"{resource.type} {resource.name}: name-like input {path}={value!r} maps to no kind of"
                    " whitelabel.names.KINDS: add it to NAMED_INPUTS"
                )
        if resource.type in AUTONAMED:
            prop, kind = AUTONAMED[resource.type]
            if prop not in resource.inputs:
                autoname = resource.name + "-" + "x" * (AUTONAME_SUFFIX - 1)  # `-` and 7 random hex characters
                found.append((resource.name, kind, f"{prop} (autonamed)", autoname))
        elif resource.type not in UNNAMED:
            raise AssertionError(f"{resource.type} ({resource.name}) is neither in AUTONAMED nor in UNNAMED")
    return found


def too_long(run: StackRun) -> list[str]:
    return [
        f"{name} {path}: {KINDS[kind].what} {value!r} is {len(value)} > {KINDS[kind].limit}"
        for name, kind, path, value in named_inputs(run)
        if KINDS[kind].limit is not None and len(value.rstrip(".")) > KINDS[kind].limit  # type: ignore[operator]
    ]


def _settings(stack_file: str, **keys: Any) -> tuple[dict[str, Any], Any]:
    values = stack_file_config(stack_file)
    values.update({f"{PROJECT}:{k}": v for k, v in keys.items()})
    return values, parse_settings(read_raw_config(engine_config(values)))


def predicted_vs_built(run: StackRun, settings: Any) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """The names `program_names` predicts and the config-built names the run has (prefix or stage name)."""
    prefix = f"{settings.name_prefix or PROJECT}-{run.stack}"
    predicted = {(n.kind, n.value) for n in program_names(settings, PROJECT, run.stack)}
    built = set()
    for _, kind, path, value in named_inputs(run):
        from_config = prefix in value or value.endswith(f"/{run.stack}") or (kind == "api-stage" and value == run.stack)
        if "autonamed" in path or not from_config:
            continue
        # The execution-log group holds the REST API's id, which AWS (here the mock) picks.
        built.add((kind, re.sub(r"_[0-9a-z]{10}/", f"_{REST_API_ID_STAND_IN}/", value)))
    return predicted, built


CASES = [
    ("dev", "dev", {}),
    ("prod", "prod", {}),
    ("dev", LONGEST_STACK, {}),
    ("prod", LONGEST_STACK, {}),
    ("prod", LONGEST_STACK_WITH_PREFIX, {"namePrefix": LONGEST_PREFIX}),
]


@pytest.fixture(scope="module", params=CASES, ids=[f"{f}-{len(s)}-{bool(k)}" for f, s, k in CASES])
def case(request: pytest.FixtureRequest) -> tuple[StackRun, Any]:
    stack_file, stack, keys = request.param
    values, settings = _settings(stack_file, **keys)
    return run_program(stack, values), settings


def test_every_name_of_every_resource_fits_its_kind(case: tuple[StackRun, Any]) -> None:
    run, _ = case
    names = named_inputs(run)
    assert len(names) > 100  # every resource's names were seen, not a few
    assert too_long(run) == []


def test_the_config_check_predicts_every_name_built_from_the_stack_and_prefix(case: tuple[StackRun, Any]) -> None:
    run, settings = case
    predicted, built = predicted_vs_built(run, settings)
    assert built - predicted == set(), "names built from the prefix that whitelabel.names does not check"
    assert predicted - built == set(), "names whitelabel.names checks that the program no longer builds"


def test_the_longest_names_sit_exactly_at_the_lambda_limit(case: tuple[StackRun, Any]) -> None:
    run, _ = case
    (function,) = run.of_type("aws:lambda/function:Function")
    if run.stack in (LONGEST_STACK, LONGEST_STACK_WITH_PREFIX):
        assert len(function.inputs["name"]) == KINDS["lambda-function"].limit == 64


def test_the_committed_stacks_keep_every_name() -> None:
    # Upgrades in place: the check refuses nothing the committed stacks build, and changes no name.
    for stack in ("dev", "prod"):
        _, settings = _settings(stack)
        check_names(settings, PROJECT, stack)
    _, dev = _settings("dev")
    names = {n.value for n in program_names(dev, PROJECT, "dev")}
    assert {
        "whitelabel-gateway-dev",
        "whitelabel-gateway-dev-tenant-authorizer",
        "/aws/apigateway/whitelabel-gateway-dev/access",
        "whitelabel-gateway-dev-tenants",
        "whitelabel-gateway-dev-vpc-link",
        "whitelabel-gateway-dev-acme",
    } <= names


@pytest.mark.parametrize(
    ("stack", "keys", "key", "fix"),
    [
        ("s" * 28, {}, "stack", "use a stack name of at most 27 characters, or set a namePrefix of at most 17"),
        ("s" * 22, {"namePrefix": LONGEST_PREFIX}, "namePrefix", "use a namePrefix of at most 23 characters"),
        ("s" * 45, {"namePrefix": "p"}, "stack", "use a stack name of at most 44 characters"),
    ],
)
def test_one_character_too_many_is_refused_in_one_line_before_any_resource(
    stack: str, keys: dict[str, Any], key: str, fix: str
) -> None:
    values, settings = _settings("dev", **keys)
    with pytest.raises(ConfigError) as refused:
        check_names(settings, PROJECT, stack)
    message = str(refused.value)
    assert message.startswith(f"{PROJECT}:{key}: Lambda function name '") and "\n" not in message
    assert " is 65 characters, AWS allows 64 (" in message and fix in message
    mocks = AwsMocks("eu-west-1")
    with pytest.raises(pulumi.RunError) as stopped:
        run_program(stack, values, mocks=mocks)
    assert str(stopped.value) == message
    assert mocks.registered == []


def test_every_kind_cites_an_aws_page_and_a_limit_or_none() -> None:
    assert set(NAMED_INPUTS.values()) | {kind for _, kind in AUTONAMED.values()} | {"tag-value"} == set(KINDS)
    for kind in KINDS.values():
        assert kind.source.startswith("https://docs.aws.amazon.com/")
        assert kind.limit is None or kind.limit > 0


# -- property: long stack names and prefixes -----------------------------------------------------------------

STACK_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
LABEL = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?\Z")
REFUSAL = re.compile(rf"^{PROJECT}:(namePrefix|stack): .+ '([^']+)' is (\d+) characters, AWS allows (\d+) \(https://")


@hypothesis_settings(PROFILE, max_examples=max(12, PROFILE.max_examples // 16))
@given(
    stack=st.text(STACK_CHARS, min_size=1, max_size=128).filter(lambda s: s.strip("-_") != "")
    | st.integers(15, 50).map(lambda n: "s" * n),
    name_prefix=st.none() | LABEL,
    stack_file=st.sampled_from(["dev", "prod"]),
)
def test_long_stack_names_and_prefixes_are_refused_in_one_line_or_every_name_fits(
    stack: str, name_prefix: str | None, stack_file: str
) -> None:
    keys = {} if name_prefix is None else {"namePrefix": name_prefix}
    values, _ = _settings(stack_file, **keys)
    mocks = AwsMocks("eu-west-1")
    note(f"stack {stack!r} ({len(stack)}), namePrefix {name_prefix!r}")
    try:
        run = run_program(stack, values, mocks=mocks)
    except pulumi.RunError as error:
        message = str(error)
        match = REFUSAL.match(message)
        assert match is not None and "\n" not in message, message
        assert int(match[3]) == len(match[2]) > int(match[4])
        assert mocks.registered == []
        return
    assert too_long(run) == []
