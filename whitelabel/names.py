"""AWS's name-length limits, and every name the program builds from the stack name and `namePrefix`.

One table (`KINDS`) holds each kind of name the program gives AWS, with its limit and the AWS page that
states it. `program_names` lists the names the components build from `<namePrefix or project>-<stack>`
(the names that grow with config); `check_names` refuses, in one line and before any resource, a stack
name or prefix that makes one of them too long. The mock-engine test (tests/test_names.py) maps every
name-like input of every registered resource to a kind of this table, so a resource the table forgets,
or a name this module does not predict, fails there.

Refuse, never shorten: the names are documented (docs "Names unique per account and region") and read
by operators, dashboards and alarms; a hash suffix would make them unpredictable, and every too-long case
has a fix in config (a shorter `namePrefix` or stack name). No committed stack comes near a limit, so
nothing deployed changes name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from whitelabel.config_base import ConfigError
from whitelabel.gateway_config import Settings, resource_prefix
from whitelabel.waf import MANAGED_GROUPS, PER_IP_RULE, PER_TENANT_RULE

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"


@dataclass(frozen=True)
class Kind:
    """One kind of AWS name: what it is, its longest length (None: AWS documents no limit), the page."""

    what: str
    limit: int | None
    source: str


# The limits, each from the AWS API reference of the call that creates (or names) the thing.
KINDS: dict[str, Kind] = {
    # "If you specify only the function name, it is limited to 64 characters in length."
    "lambda-function": Kind(
        "Lambda function name", 64, "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html"
    ),
    "iam-role": Kind("IAM role name", 64, "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html"),
    "iam-role-policy": Kind(
        "IAM inline policy name", 128, "https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html"
    ),
    "iam-instance-profile": Kind(
        "IAM instance profile name",
        128,
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateInstanceProfile.html",
    ),
    # "can have a maximum of 32 characters" (load balancer and target group alike).
    "load-balancer": Kind(
        "load balancer name",
        32,
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
    ),
    "target-group": Kind(
        "target group name",
        32,
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
    ),
    # API Gateway's REST API reference gives `name` of a REST API, API key, usage plan and authorizer no
    # length constraint: listed so that every named input maps to a kind, checked against none.
    "rest-api": Kind("REST API name", None, "https://docs.aws.amazon.com/apigateway/latest/api/API_CreateRestApi.html"),
    "api-key": Kind("API key name", None, "https://docs.aws.amazon.com/apigateway/latest/api/API_CreateApiKey.html"),
    "usage-plan": Kind(
        "usage plan name", None, "https://docs.aws.amazon.com/apigateway/latest/api/API_CreateUsagePlan.html"
    ),
    "api-authorizer": Kind(
        "API Gateway authorizer name",
        None,
        "https://docs.aws.amazon.com/apigateway/latest/api/API_CreateAuthorizer.html",
    ),
    # "Stage names can only contain alphanumeric characters, hyphens, and underscores. Maximum length is 128."
    "api-stage": Kind(
        "API Gateway stage name",
        128,
        "https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/apigateway/aws.sdk.kotlin.services.apigateway.model/-stage/stage-name.html",
    ),
    # CreateVpcLinkInput.name: StringWithLengthBetween1And128.
    "vpc-link-v2": Kind(
        "VPC link (v2) name", 128, "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks.html"
    ),
    # PutResourcePolicy documents no length constraint for `policyName` (only the document's 5,120 characters).
    "logs-resource-policy": Kind(
        "CloudWatch Logs resource policy name",
        None,
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html",
    ),
    "log-group": Kind(
        "log group name",
        512,
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
    ),
    "query-definition": Kind(
        "saved query name",
        255,
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutQueryDefinition.html",
    ),
    "metric-filter": Kind(
        "metric filter name",
        512,
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html",
    ),
    "contributor-insights-rule": Kind(
        "Contributor Insights rule name",
        128,
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutInsightRule.html",
    ),
    "alarm": Kind(
        "alarm name", 255, "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"
    ),
    # "The maximum length is 255, and valid characters are A-Z, a-z, 0-9, "-", and "_"."
    "dashboard": Kind(
        "dashboard name", 255, "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html"
    ),
    "metric-name": Kind(
        "CloudWatch metric name",
        255,
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Metric.html",
    ),
    "metric-namespace": Kind(
        "CloudWatch metric namespace",
        255,
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Metric.html",
    ),
    "metric-dimension-value": Kind(
        "CloudWatch dimension value",
        1024,
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html",
    ),
    "sns-topic": Kind("SNS topic name", 256, "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html"),
    "dynamodb-table": Kind(
        "DynamoDB table name",
        255,
        "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html",
    ),
    "dynamodb-attribute": Kind(
        "DynamoDB attribute name",
        255,
        "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeDefinition.html",
    ),
    "ecs-cluster": Kind(
        "ECS cluster name", 255, "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html"
    ),
    "ecs-service": Kind(
        "ECS service name", 255, "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html"
    ),
    "ecs-task-family": Kind(
        "ECS task definition family",
        255,
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
    ),
    "ecs-container": Kind(
        "ECS container name",
        255,
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html",
    ),
    "waf-web-acl": Kind(
        "web ACL name", 128, "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html"
    ),
    "waf-rule": Kind("WAF rule name", 128, "https://docs.aws.amazon.com/waf/latest/APIReference/API_Rule.html"),
    # The page's length constraint says 255, its text "from one to 128 characters": the smaller one holds.
    "waf-metric": Kind(
        "WAF metric name", 128, "https://docs.aws.amazon.com/waf/latest/APIReference/API_VisibilityConfig.html"
    ),
    "waf-rule-group": Kind(
        "WAF managed rule group or vendor name",
        128,
        "https://docs.aws.amazon.com/waf/latest/APIReference/API_ManagedRuleGroupStatement.html",
    ),
    "waf-header": Kind(
        "WAF header name", 64, "https://docs.aws.amazon.com/waf/latest/APIReference/API_SingleHeader.html"
    ),
    "security-group": Kind(
        "security group name",
        255,
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
    ),
    "launch-template": Kind(
        "launch template name",
        128,
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html",
    ),
    "autoscaling-group": Kind(
        "Auto Scaling group name",
        255,
        "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html",
    ),
    "s3-bucket": Kind(
        "S3 bucket name", 63, "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
    ),
    "tag-value": Kind("tag value", 256, "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Tag.html"),
    # ACM's DomainName: "Length Constraints: Minimum length of 1. Maximum length of 253." A domain name is
    # at most 253 characters in text whichever service holds it (custom domains, Route 53 records).
    "dns-name": Kind(
        "domain name", 253, "https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html"
    ),
}

# Pulumi names a resource that is given no name `<logical name>-<7 random hex characters>` ("Autonaming",
# https://www.pulumi.com/docs/iac/concepts/resources/names/#autonaming): 8 characters after the logical name.
AUTONAME_SUFFIX = 8

# API Gateway's execution-log group holds the REST API's id, which AWS picks; its ids are 10 characters
# (`API-Gateway-Execution-Logs_{rest-api-id}/{stage_name}`); any id leaves this group far inside its limit.
REST_API_ID_STAND_IN = "a" * 10

# The names the components build from the prefix, by kind. Keep in step with the components: the mock
# test fails on a prefixed name this list does not predict.
ALARM_KEYS = (
    "5xx-rate",
    "p99-latency",
    "integration-latency-service1",
    "integration-latency-service2",
    "integration-latency-docs",
    "authorizer-failures",
    "authorizer-error-decisions",
    "authorizer-throttles",
    "authorizer-concurrency",
    "throttled",
)
CONTRIBUTOR_RULE_KINDS = ("requests", "5xx")
# Web ACL rule metric names are `<prefix>-<rule>` (components/waf.py): the managed groups and the two rate rules.
WAF_RULES = (*(group.name for group in MANAGED_GROUPS), PER_IP_RULE, PER_TENANT_RULE)


@dataclass(frozen=True)
class Name:
    """One name the program gives AWS: its kind (a key of `KINDS`) and its value."""

    kind: str
    value: str

    @property
    def limit(self) -> int | None:
        return KINDS[self.kind].limit

    @property
    def fits(self) -> bool:
        return self.limit is None or len(self.value) <= self.limit


def query_titles(folder: Path = QUERIES_DIR) -> tuple[str, ...]:
    """The saved queries' titles: the first `# ` line of each `queries/*.logsinsights` (their names' tails)."""
    titles = []
    for path in sorted(folder.glob("*.logsinsights")):
        first = next((line for line in path.read_text().splitlines() if line.startswith("#")), "")
        titles.append(first.lstrip("# ").strip())
    return tuple(titles)


def program_names(settings: Settings, project: str, stack: str) -> list[Name]:
    """Every name the program builds from `<namePrefix or project>-<stack>` (or the stack name), by kind."""
    prefix = resource_prefix(settings, project, stack)
    # The example backend's task family (services/), then what the WhiteLabelGateway names.
    return [Name("ecs-task-family", f"{prefix}-service1"), *gateway_names(settings, prefix, stack)]


def gateway_names(settings: Settings, prefix: str, stack: str) -> list[Name]:
    """Every name a `WhiteLabelGateway` builds from its `name_prefix` (`prefix`) and `stage_name` (`stack`)."""
    function = f"{prefix}-tenant-authorizer"
    access_logs = f"/aws/apigateway/{prefix}/access"
    names = [
        Name("api-stage", stack),
        Name("rest-api", prefix),
        Name("metric-dimension-value", prefix),  # the API's `ApiName` dimension in alarms
        Name("vpc-link-v2", f"{prefix}-vpc-link"),
        Name("log-group", access_logs),
        Name("log-group", f"API-Gateway-Execution-Logs_{REST_API_ID_STAND_IN}/{stack}"),
        Name("lambda-function", function),
        Name("metric-dimension-value", function),  # the authorizer's `FunctionName` dimension
        Name("log-group", f"/aws/lambda/{function}"),
        Name("dynamodb-table", f"{prefix}-tenants"),
        Name("sns-topic", f"{prefix}-alarms"),
        Name("dashboard", f"{prefix}-operations"),
        Name("metric-filter", f"{prefix}-throttled-requests"),
        Name("metric-filter", f"{prefix}-authorizer-failures"),
        Name("metric-filter", f"{prefix}-authorizer-error-decisions"),
        Name("metric-namespace", f"WhitelabelGateway/{prefix}"),  # the authorizer's error decisions
        *(Name("alarm", f"{prefix}-{key}") for key in ALARM_KEYS),
        *(Name("contributor-insights-rule", f"{prefix}-top-tenants-by-{kind}") for kind in CONTRIBUTOR_RULE_KINDS),
        *(Name("query-definition", f"{prefix}/{title}") for title in query_titles()),
        *(Name("api-key", f"{prefix}-{customer.name}") for customer in settings.customers),
        *(Name("usage-plan", f"{prefix}-{tier}") for tier in settings.tiers),
    ]
    if settings.waf.enabled:
        names += [
            Name("waf-web-acl", prefix),
            Name("waf-metric", prefix),
            Name("log-group", f"aws-waf-logs-{prefix}"),
            Name("logs-resource-policy", f"aws-waf-logs-{prefix}"),
            *(Name("waf-metric", f"{prefix}-{rule}") for rule in WAF_RULES),
        ]
    return names


def _characters(count: int) -> str:
    return f"{count} character" if count == 1 else f"{count} characters"


def check_names(settings: Settings, project: str, stack: str) -> None:
    """Refuse, with one line naming the name, its kind, limit and length, a config whose names AWS would refuse.

    The key is `namePrefix` when a shorter `namePrefix` would do, else `stack` (the stack name alone is too long).
    """
    for name in program_names(settings, project, stack):
        if name.fits:
            continue
        limit = name.limit
        assert limit is not None  # a name that does not fit has a limit
        base = settings.name_prefix or project
        over = len(name.value) - limit
        kind = KINDS[name.kind]
        head = f"{kind.what} {name.value!r} is {len(name.value)} characters, AWS allows {limit} ({kind.source})"
        shorter_stack = f"a stack name of at most {_characters(len(stack) - over)}"
        if len(base) > over:  # a shorter prefix is enough
            fix = f"a namePrefix of at most {_characters(len(base) - over)}"
            if settings.name_prefix is not None:
                raise ConfigError("namePrefix", f"{head}: use {fix}, or a shorter stack name")
            raise ConfigError("stack", f"{head}: use {shorter_stack}, or set {fix}")
        raise ConfigError("stack", f"{head}: use {shorter_stack}")
