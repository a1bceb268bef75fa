"""The operator's view of one stack: saved queries, Contributor Insights, one dashboard, alarms.

API Gateway's metrics have no tenant dimension (ApiName, Stage, Method, Resource only:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html),
so everything per tenant here reads the access log (`whitelabel.access_log.FIELDS`): Logs Insights
queries, Contributor Insights rules and the dashboard's log widgets. Nothing here is per customer:
onboarding a customer creates no widget, rule or alarm (tenants appear as values in the log).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from whitelabel.api_definition import BACKENDS, Backend, BackendKind, build_routes

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
QUERY_SUFFIX = ".logsinsights"
# The saved "one tenant" query carries this placeholder; on the dashboard a pattern variable (the
# "Tenant" box) replaces it, so one widget serves every tenant.
TENANT_PLACEHOLDER = "__TENANT__"

# One minute is API Gateway's publishing interval; alarms look at 5 one-minute points and fire on 3,
# so one bad minute does not page anybody and three do within five minutes.
PERIOD_SECONDS = 60
EVALUATION_PERIODS = 5
DATAPOINTS_TO_ALARM = 3
# Our own metric (from the access log) lives here, one namespace for every stack: the Stage dimension
# keeps stacks apart.
METRIC_NAMESPACE = "WhitelabelGateway"

# The tenant authorizer could not answer: API Gateway's gateway-response types for an authorizer it could not
# reach or that failed (both 500 by default), as the access log's `errorType` ($context.error.responseType) has
# them: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
# A 401 is UNAUTHORIZED and a refused host ACCESS_DENIED: neither counts. Compound JSON patterns (`||`):
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
AUTHORIZER_FAILURE_TYPES = ("AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR")
AUTHORIZER_FAILURES_PATTERN = "{ " + " || ".join(f'($.errorType = "{t}")' for t in AUTHORIZER_FAILURE_TYPES) + " }"
# The handler's own JSON log line for a decision it could not make (registry or issuer unreachable), written
# to stdout as one JSON object (functions/tenant_authorizer/handler.py `log`). The one place that knows the
# field: change it here if the handler's log changes.
HANDLER_ERROR_PATTERN = '{ $.decision = "error" }'
# A metric filter's dimensions can only be fields of the log line, and the handler's line has no stage, so
# its metric keeps stacks apart by namespace: `WhitelabelGateway/<prefix>`.
HANDLER_METRIC = "AuthorizerErrorDecisions"
# Lambda throttles are rare and each is a refused request (API Gateway cannot run the authorizer): one in
# any minute of the 5 alarms, where the others want 3 of 5.
THROTTLE_DATAPOINTS_TO_ALARM = 1


def handler_metric_namespace(resource_prefix: str) -> str:
    """The namespace of the tenant authorizer's own metric (from its log) in the stack `resource_prefix`."""
    return f"{METRIC_NAMESPACE}/{resource_prefix}"


@dataclass(frozen=True)
class SavedQuery:
    """One file of `queries/`: its first comment line is the title, the second the question it answers."""

    slug: str
    title: str
    question: str
    query: str


def load_queries(folder: Path = QUERIES_DIR) -> tuple[SavedQuery, ...]:
    """Every `*.logsinsights` file of `folder`, sorted by name."""
    queries = []
    for path in sorted(folder.glob(f"*{QUERY_SUFFIX}")):
        text = path.read_text()
        comments = [line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")]
        if len(comments) < 2:
            raise ValueError(f"{path.name}: the first two lines must be '# <title>' and '# <question>'")
        queries.append(SavedQuery(path.name.removesuffix(QUERY_SUFFIX), comments[0], comments[1], text))
    return tuple(queries)


def query_body(query: str) -> str:
    """The query without its comment lines (what a dashboard widget runs)."""
    return "\n".join(line for line in query.splitlines() if line.strip() and not line.startswith("#"))


def alb_dimension(load_balancer_arn: str) -> str:
    """The ALB's CloudWatch `LoadBalancer` dimension: the ARN's final portion, `app/<name>/<id>`.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
    """
    _, found, suffix = load_balancer_arn.partition(":loadbalancer/")
    if not found:
        raise ValueError(f"not a load balancer ARN: {load_balancer_arn!r}")
    return suffix


def contributor_rule(log_group_name: str, *, server_errors_only: bool) -> dict[str, Any]:
    """A Contributor Insights rule over the JSON access log, keyed by tenant.

    Syntax: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContributorInsights-RuleSyntax.html
    (`Match` fields in JSON property notation; `StartsWith`/`NotIn` take arrays of strings, which is
    what the access log holds: every value is a string).
    """
    filters: list[dict[str, Any]] = [{"Match": "$.tenantId", "NotIn": ["-"]}]
    if server_errors_only:
        # Keep the refused ("-") requests here: a registry outage (500, AUTHORIZER_CONFIGURATION_ERROR) shows as "-".
        filters = [{"Match": "$.status", "StartsWith": ["5"]}]
    return {
        "Schema": {"Name": "CloudWatchLogRule", "Version": 1},
        "LogGroupNames": [log_group_name],
        "LogFormat": "JSON",
        "Contribution": {"Keys": ["$.tenantId"], "Filters": filters},
        "AggregateOn": "Count",
    }


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm, as plain data: the component creates it, the plan prints it."""

    key: str
    description: str
    threshold: float
    unit: str
    comparison: str
    metric_queries: tuple[dict[str, Any], ...]
    datapoints_to_alarm: int = DATAPOINTS_TO_ALARM
    evaluation_periods: int = EVALUATION_PERIODS


@dataclass(frozen=True)
class OperationsArgs:
    """Inputs of `Operations`.

    resource_prefix: names every resource AWS shows (`<prefix>-operations` dashboard, `<prefix>/…` queries).
    api_name: the REST API's name (API Gateway metrics' `ApiName` dimension).
    load_balancers: backend name → its internal ALB's ARN (integration latency per backend: ALB
        TargetResponseTime; an NLB has no such metric, so NLB backends are left out).
    backends: the API's route-table entries (`BackendTarget.backend`); S3 ones are measured per method.
    alarms: the validated `alarms` config (thresholds, emails).
    authorizer_function_name: the tenant authorizer's Lambda function: alarms on its throttles and concurrency,
        on the requests API Gateway answered with an authorizer failure, and a widget of its Lambda metrics.
    authorizer_log_group_name: that function's log group: its `"decision": "error"` lines are counted and alarmed.
    waf_web_acl_metric_name: the web ACL's CloudWatch metric name when WAF protects the stage (off: None).
    """

    resource_prefix: str
    api_name: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    access_log_group_name: pulumi.Input[str]
    load_balancers: Mapping[str, pulumi.Input[str]]
    alarms: Any
    authorizer_function_name: pulumi.Input[str] | None = None
    waf_web_acl_metric_name: pulumi.Input[str] | None = None
    backends: Sequence[Backend] = BACKENDS
    authorizer_log_group_name: pulumi.Input[str] | None = None


def _metric(
    query_id: str, namespace: str, name: str, dimensions: Mapping[str, str], stat: str, return_data: bool = False
) -> dict[str, Any]:
    return {
        "id": query_id,
        "return_data": return_data,
        "metric": {
            "namespace": namespace,
            "metric_name": name,
            "dimensions": dict(dimensions),
            "period": PERIOD_SECONDS,
            "stat": stat,
        },
    }


def docs_resources(backends: Sequence[Backend] = BACKENDS) -> tuple[tuple[str, str, str], ...]:
    """(backend, resource path, method) of every S3 backend's route: an S3 integration has no load balancer to
    measure, so API Gateway's per-method IntegrationLatency stands in."""
    buckets = {b.name for b in backends if b.kind is BackendKind.S3}
    if not buckets:
        return ()
    return tuple((r.backend, r.path, r.http_method) for r in build_routes(tuple(backends)) if r.backend in buckets)


def alarm_specs(
    alarms: Any,
    api_name: str,
    stage_name: str,
    albs: Mapping[str, str],
    authorizer_function_name: str | None,
    backends: Sequence[Backend] = BACKENDS,
    handler_namespace: str | None = None,
) -> tuple[AlarmSpec, ...]:
    """Every alarm of the stack with its threshold from config.

    albs: backend → ALB `LoadBalancer` dimension (`app/<name>/<id>`).
    backends: the API's route-table entries; each S3 backend's object route gets an IntegrationLatency alarm.
    handler_namespace: where the authorizer's own error decisions are counted (`handler_metric_namespace`);
        None: its log is not watched.
    """
    api = {"ApiName": api_name, "Stage": stage_name}
    specs = [
        AlarmSpec(
            key="5xx-rate",
            description="Share of requests answered 5xx (API Gateway 5XXError / Count, metric math)",
            threshold=alarms.server_error_rate_percent,
            unit="%",
            comparison="GreaterThanThreshold",
            metric_queries=(
                _metric("errors", "AWS/ApiGateway", "5XXError", api, "Sum"),
                _metric("requests", "AWS/ApiGateway", "Count", api, "Sum"),
                # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
                {
                    "id": "rate",
                    "expression": "100 * FILL(errors, 0) / requests",
                    "label": "5xx %",
                    "return_data": True,
                },
            ),
        ),
        AlarmSpec(
            key="p99-latency",
            description="p99 of API Gateway Latency (request in to response out)",
            threshold=alarms.latency_p99_ms,
            unit="ms",
            comparison="GreaterThanThreshold",
            metric_queries=(_metric("latency", "AWS/ApiGateway", "Latency", api, "p99", True),),
        ),
    ]
    for backend, dimension in sorted(albs.items()):
        # The ALB's own view of its targets, in seconds: the backend half of IntegrationLatency.
        specs.append(
            AlarmSpec(
                key=f"integration-latency-{backend}",
                description=f"p99 of {backend}'s response time at its internal ALB (TargetResponseTime)",
                threshold=alarms.integration_latency_p99_ms,
                unit="ms",
                comparison="GreaterThanThreshold",
                metric_queries=(
                    _metric("seconds", "AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": dimension}, "p99"),
                    {"id": "ms", "expression": "1000 * seconds", "label": f"{backend} p99 ms", "return_data": True},
                ),
            )
        )
    docs = docs_resources(backends)
    for backend, path, method in docs:
        # `/docs` and `/docs/{key+}` share the bucket; the object route carries the traffic. A backend with per-tenant
        # pages has no object route (README "Developer portal per tenant"): its page, its first route, stands in.
        paths = [p for b, p, _ in docs if b == backend]
        if path != next((p for p in paths if "{" in p), paths[0]):
            continue
        # Per-method metrics exist because the stage enables detailed metrics (`metrics_enabled`).
        specs.append(
            AlarmSpec(
                key=f"integration-latency-{backend}",
                description=f"p99 of API Gateway IntegrationLatency for {method} {path} (S3)",
                threshold=alarms.integration_latency_p99_ms,
                unit="ms",
                comparison="GreaterThanThreshold",
                metric_queries=(
                    _metric(
                        "latency",
                        "AWS/ApiGateway",
                        "IntegrationLatency",
                        {**api, "Resource": path, "Method": method},
                        "p99",
                        True,
                    ),
                ),
            )
        )
    if authorizer_function_name is not None:
        # Not Lambda `Errors`: with end-user authentication every 401 is the function's raised "Unauthorized",
        # an ordinary client mistake that Lambda counts as an error. What is broken is a request API Gateway
        # got no usable decision for (the access log's errorType: a crash, a timeout, a throttle, a missing
        # invoke permission, an answer it could not read; AWS does not say which cause gives which of the two
        # types, so both count). The authorizer fails closed, so each is a 500 to a client.
        specs.append(
            AlarmSpec(
                key="authorizer-failures",
                description=(
                    "Requests answered AUTHORIZER_FAILURE or AUTHORIZER_CONFIGURATION_ERROR per minute"
                    " (access log: the tenant authorizer failed, timed out or was throttled; 401s do not count)"
                ),
                threshold=alarms.authorizer_errors,
                unit="requests/min",
                comparison="GreaterThanOrEqualToThreshold",
                metric_queries=(
                    _metric("failures", METRIC_NAMESPACE, "AuthorizerFailures", {"Stage": stage_name}, "Sum", True),
                ),
            )
        )
        if handler_namespace is not None:
            # The handler's own account of the same outage, with its cause in the log line (`reason`:
            # registry-error, jwks-unavailable): what the function knew was broken, not what a client did.
            specs.append(
                AlarmSpec(
                    key="authorizer-error-decisions",
                    description=(
                        "Tenant authorizer decisions logged as errors per minute (its log, decision=error:"
                        " registry or issuer unreachable)"
                    ),
                    threshold=alarms.authorizer_errors,
                    unit="decisions/min",
                    comparison="GreaterThanOrEqualToThreshold",
                    metric_queries=(_metric("errors", handler_namespace, HANDLER_METRIC, {}, "Sum", True),),
                )
            )
        # With cacheTtlSeconds 0 every request invokes the function: a throttled invocation is a refused
        # request, and concurrency near the account's quota comes before throttling (and takes it from every
        # other function of the account). https://docs.aws.amazon.com/lambda/latest/dg/monitoring-concurrency.html
        function = {"FunctionName": authorizer_function_name}
        specs.append(
            AlarmSpec(
                key="authorizer-throttles",
                description="Tenant authorizer Lambda Throttles (each is a request API Gateway could not authorize)",
                threshold=1,
                unit="throttles/min",
                comparison="GreaterThanOrEqualToThreshold",
                metric_queries=(_metric("throttles", "AWS/Lambda", "Throttles", function, "Sum", True),),
                datapoints_to_alarm=THROTTLE_DATAPOINTS_TO_ALARM,
            )
        )
        limit, percent = alarms.lambda_concurrency_limit, alarms.authorizer_concurrency_percent
        specs.append(
            AlarmSpec(
                key="authorizer-concurrency",
                description=(
                    f"Tenant authorizer ConcurrentExecutions (Maximum) at {percent:g}% of the account's"
                    f" Lambda concurrency quota of {limit:,}"
                ),
                threshold=limit * percent / 100,
                unit="concurrent executions",
                comparison="GreaterThanOrEqualToThreshold",
                metric_queries=(
                    _metric("concurrency", "AWS/Lambda", "ConcurrentExecutions", function, "Maximum", True),
                ),
            )
        )
    specs.append(
        AlarmSpec(
            key="throttled",
            description="Requests API Gateway throttled (errorType THROTTLED in the access log) per minute",
            threshold=alarms.throttled_requests,
            unit="requests/min",
            comparison="GreaterThanOrEqualToThreshold",
            metric_queries=(
                _metric("throttled", METRIC_NAMESPACE, "ThrottledRequests", {"Stage": stage_name}, "Sum", True),
            ),
        )
    )
    return tuple(specs)


def _widget(kind: str, x: int, y: int, width: int, height: int, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "x": x, "y": y, "width": width, "height": height, "properties": properties}


def _log_widget(title: str, query: str, log_group: str, region: str, view: str = "table") -> dict[str, Any]:
    # A log widget's query starts with `SOURCE '<log group>' |`, then the query itself.
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
    return {"region": region, "title": title, "view": view, "query": f"SOURCE '{log_group}' | {query_body(query)}"}


def dashboard_body(
    *,
    resource_prefix: str,
    region: str,
    api_name: str,
    stage_name: str,
    log_group: str,
    albs: Mapping[str, str],
    rule_names: Mapping[str, str],
    alarm_arns: Sequence[str],
    queries: Sequence[SavedQuery],
    authorizer_function_name: str | None = None,
    waf_web_acl_metric_name: str | None = None,
    backends: Sequence[Backend] = BACKENDS,
    handler_namespace: str | None = None,
    authorizer_concurrency_alarm: float | None = None,
) -> dict[str, Any]:
    """The dashboard as CloudWatch's DashboardBody structure (AWS "Dashboard Body Structure and Syntax").

    rule_names: "requests" / "5xx" → the Contributor Insights rule's name.
    handler_namespace: the namespace of the authorizer's error decisions (None: its log is not watched).
    authorizer_concurrency_alarm: the concurrency the authorizer's alarm fires at, drawn on its graph.
    """
    api = ["ApiName", api_name, "Stage", stage_name]
    by_slug = {q.slug: q for q in queries}
    widgets: list[dict[str, Any]] = []

    def metric(title: str, metrics: list[list[Any]], stat: str = "Sum", **extra: Any) -> dict[str, Any]:
        return {"title": title, "region": region, "metrics": metrics, "stat": stat, "period": PERIOD_SECONDS, **extra}

    intro = (
        f"# {resource_prefix}: per-tenant operations\n"
        "API Gateway's metrics have no tenant; the tenant widgets below read the access log "
        f"(`{log_group}`). Type a tenant id (the customer's name) in the **Tenant** box to fill "
        f"*One tenant's recent errors*. Saved queries: Logs Insights → Queries → `{resource_prefix}/`."
    )
    widgets.append(_widget("text", 0, 0, 24, 2, {"markdown": intro}))
    widgets.append(_widget("metric", 0, 2, 8, 6, metric("Requests (Count)", [["AWS/ApiGateway", "Count", *api]])))
    widgets.append(
        _widget(
            "metric",
            8,
            2,
            8,
            6,
            metric(
                "4xx / 5xx",
                [["AWS/ApiGateway", "4XXError", *api], ["AWS/ApiGateway", "5XXError", *api]],
            ),
        )
    )
    widgets.append(
        _widget(
            "metric",
            16,
            2,
            8,
            6,
            metric(
                "Latency p50 / p99 (ms)",
                [
                    ["AWS/ApiGateway", "Latency", *api, {"stat": "p50", "label": "p50"}],
                    ["AWS/ApiGateway", "Latency", *api, {"stat": "p99", "label": "p99"}],
                ],
                stat="p99",
            ),
        )
    )
    # ALB TargetResponseTime is in seconds: each line is hidden and shown as `1000 *` it, so every
    # backend reads in milliseconds on one axis.
    backend_lines: list[list[Any]] = []
    for index, (backend, dimension) in enumerate(sorted(albs.items())):
        backend_lines.append(
            [
                "AWS/ApplicationELB",
                "TargetResponseTime",
                "LoadBalancer",
                dimension,
                {"stat": "p99", "id": f"alb{index}", "visible": False},
            ]
        )
        backend_lines.append([{"expression": f"1000 * alb{index}", "label": f"{backend} p99 (ALB)"}])
    backend_lines += [
        [
            "AWS/ApiGateway",
            "IntegrationLatency",
            *api,
            "Resource",
            path,
            "Method",
            method,
            {"stat": "p99", "label": f"{backend} {method} {path} p99"},
        ]
        for backend, path, method in docs_resources(backends)
    ]
    widgets.append(
        _widget("metric", 0, 8, 12, 6, metric("Integration latency per backend (p99, ms)", backend_lines, stat="p99"))
    )
    widgets.append(
        _widget(
            "metric",
            12,
            8,
            12,
            6,
            metric("Throttled requests", [[METRIC_NAMESPACE, "ThrottledRequests", "Stage", stage_name]]),
        )
    )
    y = 14
    if authorizer_function_name is not None:
        fn = ["FunctionName", authorizer_function_name]
        # Lambda's own Errors stay here, and only here: every 401 (a missing or invalid token) is a raised
        # "Unauthorized" and counts in them, so they are a graph to read, never a reason to page.
        widgets.append(
            _widget(
                "metric",
                0,
                y,
                8,
                6,
                metric(
                    "Tenant authorizer (Lambda): Errors, every 401 included / Invocations",
                    [["AWS/Lambda", "Errors", *fn], ["AWS/Lambda", "Invocations", *fn, {"yAxis": "right"}]],
                ),
            )
        )
        failures: list[list[Any]] = [
            [METRIC_NAMESPACE, "AuthorizerFailures", "Stage", stage_name, {"label": "answered AUTHORIZER_* (log)"}]
        ]
        if handler_namespace is not None:
            failures.append([handler_namespace, HANDLER_METRIC, {"label": "decision=error (its log)"}])
        widgets.append(
            _widget("metric", 8, y, 8, 6, metric("Tenant authorizer failures (alarmed; 401s excluded)", failures))
        )
        concurrency = metric(
            "Tenant authorizer: concurrent executions (max) / throttles",
            [
                ["AWS/Lambda", "ConcurrentExecutions", *fn, {"stat": "Maximum"}],
                ["AWS/Lambda", "Throttles", *fn, {"stat": "Sum", "yAxis": "right"}],
            ],
            stat="Maximum",
        )
        if authorizer_concurrency_alarm is not None:
            concurrency["annotations"] = {
                "horizontal": [{"label": "concurrency alarm", "value": authorizer_concurrency_alarm}]
            }
        widgets.append(_widget("metric", 16, y, 8, 6, concurrency))
        y += 6
    if waf_web_acl_metric_name is not None:
        # https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html (AWS/WAFV2, Rule ALL = whole ACL)
        waf = ["WebACL", waf_web_acl_metric_name, "Region", region, "Rule", "ALL"]
        widgets.append(
            _widget(
                "metric",
                0,
                y,
                24,
                4,
                metric("WAF blocked requests", [["AWS/WAFV2", "BlockedRequests", *waf]]),
            )
        )
        y += 4
    for x, (kind, title) in zip(
        (0, 12), (("requests", "Top tenants by requests"), ("5xx", "Top tenants by 5xx")), strict=True
    ):
        widgets.append(
            _widget(
                "metric",
                x,
                y,
                12,
                6,
                {
                    "title": f"{title} (Contributor Insights)",
                    "region": region,
                    "period": PERIOD_SECONDS,
                    "view": "timeSeries",
                    "insightRule": {"maxContributorCount": 10, "orderBy": "Sum", "ruleName": rule_names[kind]},
                },
            )
        )
    y += 6
    layout = (
        ("requests-and-error-rate-by-tenant", 0, 12, 6),
        ("latency-by-tenant", 12, 12, 6),
        ("tenant-recent-errors", 0, 24, 6),
        ("refused-by-host", 0, 12, 6),
        ("throttled-by-tenant", 12, 12, 6),
        ("top-tenants-by-traffic", 0, 24, 6),
        ("refused-tokens-by-tenant", 0, 24, 6),
    )
    for slug, x, width, height in layout:
        if slug not in by_slug:
            continue
        query = by_slug[slug]
        widgets.append(_widget("log", x, y, width, height, _log_widget(query.title, query.query, log_group, region)))
        if x + width == 24:
            y += height
    if alarm_arns:
        widgets.append(_widget("alarm", 0, y, 24, 3, {"title": "Alarms", "alarms": list(alarm_arns)}))
    return {
        "start": "-PT3H",
        "periodOverride": "inherit",
        "widgets": widgets,
        "variables": [
            {
                # A pattern variable rewrites `__TENANT__` everywhere in the body, so the one-tenant
                # widget follows what the operator types; no widget exists per customer.
                "type": "pattern",
                "pattern": TENANT_PLACEHOLDER,
                "inputType": "input",
                "id": "tenant",
                "label": "Tenant",
                "defaultValue": TENANT_PLACEHOLDER,
                "visible": True,
            }
        ],
    }


def _rule_json(log_group_name: str, server_errors_only: bool) -> str:
    return json.dumps(contributor_rule(log_group_name, server_errors_only=server_errors_only), separators=(",", ":"))


def _metric_queries(
    alarms: Any, backends: Sequence[Backend], handler_namespace: str | None, index: int, names: Mapping[str, Any]
) -> list[Any]:
    """The metric queries of alarm `index` once the API, stage, ALB and function names are known."""
    specs = alarm_specs(alarms, names["api"], names["stage"], names["albs"], names["fn"], backends, handler_namespace)
    return [dict(query) for query in specs[index].metric_queries]


def _email_slug(email: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", email.lower()).strip("-")


class Operations(pulumi.ComponentResource):
    """Saved queries, Contributor Insights rules, one dashboard and the alarms of one stack.

    Resources per stack, not per customer: one query definition per `queries/` file, two Contributor
    Insights rules, metric filters (throttled requests; with the authorizer, its failures in the access log
    and its error decisions in its own log), one dashboard, one SNS topic (+ one subscription per
    `alarms.email`), one alarm per `AlarmSpec`.
    """

    dashboard_name: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: OperationsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:operations:Operations", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.resource_prefix
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        queries = load_queries()

        for query in queries:
            # "To create a folder, use a forward slash (/) to prefix your desired query name with your desired
            # folder name" (name 1-255, query 1-10000 characters):
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-logs-querydefinition.html
            aws.cloudwatch.QueryDefinition(
                f"{name}-query-{query.slug}",
                name=f"{prefix}/{query.title}",
                log_group_names=[args.access_log_group_name],
                query_string=query.query,
                opts=child,
            )

        rules: dict[str, aws.cloudwatch.ContributorInsightRule] = {}
        for kind, server_errors_only in (("requests", False), ("5xx", True)):
            rules[kind] = aws.cloudwatch.ContributorInsightRule(
                f"{name}-top-tenants-{kind}",
                rule_name=f"{prefix}-top-tenants-by-{kind}",
                rule_state="ENABLED",
                rule_definition=pulumi.Output.from_input(args.access_log_group_name).apply(
                    functools.partial(_rule_json, server_errors_only=server_errors_only)
                ),
                opts=child,
            )

        # API Gateway publishes no throttling metric for REST APIs; the access log says THROTTLED.
        # Metric filter pattern syntax for JSON logs:
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
        aws.cloudwatch.LogMetricFilter(
            f"{name}-throttled",
            name=f"{prefix}-throttled-requests",
            log_group_name=args.access_log_group_name,
            pattern='{ $.errorType = "THROTTLED" }',
            metric_transformation={
                "name": "ThrottledRequests",
                "namespace": METRIC_NAMESPACE,
                "value": "1",
                "unit": "Count",
                "dimensions": {"Stage": "$.stage"},
            },
            opts=child,
        )
        if args.authorizer_function_name is not None:
            aws.cloudwatch.LogMetricFilter(
                f"{name}-authorizer-failures",
                name=f"{prefix}-authorizer-failures",
                log_group_name=args.access_log_group_name,
                pattern=AUTHORIZER_FAILURES_PATTERN,
                metric_transformation={
                    "name": "AuthorizerFailures",
                    "namespace": METRIC_NAMESPACE,
                    "value": "1",
                    "unit": "Count",
                    "dimensions": {"Stage": "$.stage"},
                },
                opts=child,
            )
        handler_namespace = None
        if args.authorizer_log_group_name is not None:
            handler_namespace = handler_metric_namespace(prefix)
            aws.cloudwatch.LogMetricFilter(
                f"{name}-authorizer-error-decisions",
                name=f"{prefix}-authorizer-error-decisions",
                log_group_name=args.authorizer_log_group_name,
                pattern=HANDLER_ERROR_PATTERN,
                metric_transformation={
                    "name": HANDLER_METRIC,
                    "namespace": handler_namespace,
                    "value": "1",
                    "unit": "Count",
                },
                opts=child,
            )

        topic = aws.sns.Topic(f"{name}-alarms", name=f"{prefix}-alarms", opts=child)
        for email in args.alarms.email:
            # Email subscriptions stay pending until the address confirms (AWS sends the link).
            aws.sns.TopicSubscription(
                f"{name}-alarms-{_email_slug(email)}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=child,
            )

        albs = {
            backend: pulumi.Output.from_input(arn).apply(alb_dimension)
            for backend, arn in sorted(args.load_balancers.items())
        }
        names = pulumi.Output.all(
            api=args.api_name,
            stage=args.stage_name,
            fn=args.authorizer_function_name,
            albs=pulumi.Output.all(**albs) if albs else {},
        )
        alarm_arns: list[pulumi.Output[str]] = []
        # The alarm set is known without resolving any output: its shape depends only on config and
        # the backends, so no resource is created inside `apply`.
        shape = alarm_specs(
            args.alarms,
            "api",
            "stage",
            dict.fromkeys(albs, "lb"),
            None if args.authorizer_function_name is None else "fn",
            args.backends,
            handler_namespace,
        )
        concurrency_alarm = next((s.threshold for s in shape if s.key == "authorizer-concurrency"), None)
        for index, spec in enumerate(shape):
            queries_of = functools.partial(_metric_queries, args.alarms, args.backends, handler_namespace, index)
            resolved: pulumi.Output[list[Any]] = names.apply(queries_of)
            alarm = aws.cloudwatch.MetricAlarm(
                f"{name}-alarm-{spec.key}",
                name=f"{prefix}-{spec.key}",
                alarm_description=f"{spec.description}; threshold {spec.threshold:g} {spec.unit}",
                comparison_operator=spec.comparison,
                threshold=spec.threshold,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                metric_queries=resolved,
                # Every metric here is published only when there is traffic (API Gateway, ALB, Lambda,
                # and the metric filter when a log line arrives). A minute without requests is not
                # an outage, so missing points count as good; "breaching" would page every quiet
                # night in dev, "missing" would leave the alarm in INSUFFICIENT_DATA after each lull.
                treat_missing_data="notBreaching",
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                opts=child,
            )
            alarm_arns.append(alarm.arn)

        body = pulumi.Output.all(
            names=names,
            region=region,
            log_group=args.access_log_group_name,
            rules={kind: rule.rule_name for kind, rule in rules.items()},
            alarms=alarm_arns,
            waf=args.waf_web_acl_metric_name,
        ).apply(
            lambda v: json.dumps(
                dashboard_body(
                    resource_prefix=prefix,
                    region=v["region"],
                    api_name=v["names"]["api"],
                    stage_name=v["names"]["stage"],
                    log_group=v["log_group"],
                    albs=v["names"]["albs"],
                    rule_names=v["rules"],
                    alarm_arns=v["alarms"],
                    queries=queries,
                    authorizer_function_name=v["names"]["fn"],
                    waf_web_acl_metric_name=v["waf"],
                    backends=args.backends,
                    handler_namespace=handler_namespace,
                    authorizer_concurrency_alarm=concurrency_alarm,
                ),
                separators=(",", ":"),
            )
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard", dashboard_name=f"{prefix}-operations", dashboard_body=body, opts=child
        )

        self.dashboard_name = dashboard.dashboard_name
        self.alarm_topic_arn = topic.arn
        self.register_outputs({"dashboardName": self.dashboard_name, "alarmTopicArn": self.alarm_topic_arn})
