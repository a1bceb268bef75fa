"""Per-tenant operations: access-log format, saved queries, Contributor Insights, dashboard, alarms, tracing."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.operations import (
    AUTHORIZER_FAILURE_TYPES,
    HANDLER_ERROR_PATTERN,
    TENANT_PLACEHOLDER,
    AlarmSpec,
    Operations,
    OperationsArgs,
    alarm_specs,
    alb_dimension,
    load_queries,
    query_body,
)
from functions.tenant_authorizer import handler as authorizer
from tests import test_authorizer_jwt as jwt_cases
from tests.conftest import customers_config, deploy, inputs_by_urn, shared_run
from tests.test_access_log import render
from tools import dashboard as dashboard_tool
from whitelabel.access_log import (
    ACCESS_LOG_FORMAT,
    CONTEXT_VARIABLES,
    FIELDS,
    QUERY_COMMANDS,
    QUERY_FUNCTIONS,
    context_variables,
    is_documented,
    query_problems,
    referenced_fields,
)
from whitelabel.config import AlarmSettings, customer_entries, parse_settings
from whitelabel.offline import StackRun, stack_file_config

QUERY_TYPE = "aws:cloudwatch/queryDefinition:QueryDefinition"
RULE_TYPE = "aws:cloudwatch/contributorInsightRule:ContributorInsightRule"
ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD_TYPE = "aws:cloudwatch/dashboard:Dashboard"
FILTER_TYPE = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
TOPIC_TYPE = "aws:sns/topic:Topic"
SUBSCRIPTION_TYPE = "aws:sns/topicSubscription:TopicSubscription"


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate keys: {duplicates}")
    return dict(pairs)


def operations_resources(run: StackRun) -> list[Any]:
    component = run.named("whitelabel-operations")
    return run.children_of(component)


def of_type(run: StackRun, type_: str) -> list[Any]:
    return sorted((r for r in operations_resources(run) if r.type == type_), key=lambda r: r.name)


def dashboard_body(run: StackRun) -> dict[str, Any]:
    (board,) = of_type(run, DASHBOARD_TYPE)
    return json.loads(board.inputs["dashboardBody"])


def access_log_group(run: StackRun) -> str:
    return str(run.named("whitelabel-gateway-access-logs").inputs["name"])


def metric_filter(run: StackRun, role: str) -> Any:
    """The operations component's metric filter `whitelabel-operations-<role>`."""
    (found,) = [f for f in of_type(run, FILTER_TYPE) if f.name == f"whitelabel-operations-{role}"]
    return found


def pattern_matches(pattern: str, line: dict[str, Any]) -> bool:
    """Whether a JSON metric filter pattern of the two shapes we write matches a parsed log line:
    `{ $.k = "v" }`, or `{ ($.k = "v") || ($.k = "w") … }` (any term). Any other shape fails the test."""
    body = re.fullmatch(r"\{ (.+) \}", pattern)
    assert body, pattern
    terms = body.group(1).split(" || ")
    shape = r'\$\.(\w+) = "([^"]*)"' if len(terms) == 1 else r'\(\$\.(\w+) = "([^"]*)"\)'
    parsed = [re.fullmatch(shape, term) for term in terms]
    assert all(parsed), pattern
    return any(line.get(m.group(1)) == m.group(2) for m in parsed if m)


# -- the access log ---------------------------------------------------------------------------------
def test_access_log_format_is_one_json_object_with_unique_keys() -> None:
    # With every variable substituted (the quoted error message as a JSON string), the line is FIELDS.
    parsed = json.loads(render(ACCESS_LOG_FORMAT, {}), object_pairs_hook=_unique_keys)
    assert set(parsed) == set(FIELDS) and list(parsed) == list(FIELDS)
    assert "\n" not in ACCESS_LOG_FORMAT and " " not in ACCESS_LOG_FORMAT
    with pytest.raises(ValueError, match="duplicate keys"):
        json.loads('{"status":"$context.status","status":"$context.status"}', object_pairs_hook=_unique_keys)


def test_every_context_variable_of_the_format_is_in_aws_list() -> None:
    used = context_variables(ACCESS_LOG_FORMAT)
    assert len(used) == len(FIELDS)  # one variable per key, nothing else substituted
    assert [v for v in used if not is_documented(v)] == []
    # Each value is exactly one variable (a JSON string API Gateway fills in).
    assert all(value == context_variables(value)[0] for value in FIELDS.values())


def test_the_documented_list_check_can_fail() -> None:
    assert not is_documented("$context.tenantId")  # what a naive format might write
    assert not is_documented("$context.identity.tenant")
    assert not is_documented("$context.integration.latencyMs")
    assert is_documented("$context.authorizer.tenantId")  # a key of the authorizer's context map
    assert "$context.authorizer.{property}" in CONTEXT_VARIABLES


def test_access_log_has_the_fields_the_issue_asks_for() -> None:
    asked = {
        "extendedRequestId": "$context.extendedRequestId",
        "tenantId": "$context.authorizer.tenantId",
        "tier": "$context.authorizer.tier",
        "host": "$context.authorizer.hostname",
        "apiKeyId": "$context.identity.apiKeyId",
        "ip": "$context.identity.sourceIp",
        "method": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integration.latency",
        "authorizerStatus": "$context.authorizer.status",
        "authorizerLatency": "$context.authorizer.latency",
        "tlsVersion": "$context.tlsVersion",
        "errorMessage": "$context.error.messageString",
    }
    assert {key: FIELDS[key] for key in asked} == asked
    # Asked for earlier, out since issue 14: a client writes them, and API Gateway does not escape them
    # (tests/test_access_log.py). requestId (client-overridable) gave way to extendedRequestId, host is the
    # authorizer's hostname, not the Host header; no client text at all, and nothing from the host's first label.
    for gone in ("userAgent", "requestId", "path", "integrationError", "authorizerError"):
        assert gone not in FIELDS
    used = context_variables(ACCESS_LOG_FORMAT)
    assert "$context.domainPrefix" not in used and "$context.domainName" not in used


def test_the_stage_logs_in_this_format(dev: StackRun) -> None:
    (stage,) = dev.of_type("aws:apigateway/stage:Stage")
    settings = stage.inputs["accessLogSettings"]
    assert settings["format"] == ACCESS_LOG_FORMAT
    assert settings["destinationArn"] == dev.named("whitelabel-gateway-access-logs").outputs["arn"]


# -- saved queries ----------------------------------------------------------------------------------
QUESTIONS = {
    "requests-and-error-rate-by-tenant",
    "latency-by-tenant",
    "top-tenants-by-traffic",
    "tenant-recent-errors",
    "refused-by-host",
    "refused-tokens-by-tenant",
}


def test_there_is_a_query_for_every_question() -> None:
    queries = {q.slug: q for q in load_queries()}
    assert set(queries) >= QUESTIONS
    for query in queries.values():
        assert query.title and "?" in query.question
        # The console files a saved query under each "/" of its name: the title must not add a folder.
        assert "/" not in query.title, query.title
        assert query_body(query.query) and not query_body(query.query).startswith("#")
    assert TENANT_PLACEHOLDER in queries["tenant-recent-errors"].query
    assert [q.slug for q in queries.values() if TENANT_PLACEHOLDER in q.query] == ["tenant-recent-errors"]


@pytest.mark.parametrize("query", load_queries(), ids=lambda q: q.slug)
def test_every_query_names_only_fields_the_access_log_has(query: Any) -> None:
    fields = referenced_fields(query.query)
    assert fields, "a query that reads no field proves nothing"
    assert fields - set(FIELDS) == set()


def test_a_query_naming_a_missing_field_fails_the_check() -> None:
    assert referenced_fields('filter tenant = "acme" | stats count(*) by customer') == {"tenant", "customer"}
    # Aliases, functions, literals, regexes, comments and @ fields are not log fields.
    query = (
        "# comment naming nothing\n"
        'fields abs(responseLatency) as ms, @timestamp\n| filter status like /^5\\d\\d$/ and host != "x y"\n'
        "| stats pct(ms, 99) as p99 by bin(5m), tenantId"
    )
    assert referenced_fields(query) == {"responseLatency", "status", "host", "tenantId"}


@pytest.mark.parametrize("query", load_queries(), ids=lambda q: q.slug)
def test_every_query_uses_only_documented_commands_and_functions(query: Any) -> None:
    assert query_problems(query.query) == []


def test_the_query_check_refuses_what_the_reference_does_not_list() -> None:
    # What the saved queries did before issue 14.
    assert query_problems("fields toNumber(responseLatency) as ms | stats pct(ms, 99) as p99 by tenantId") == [
        "toNumber() is not a documented function"
    ]
    assert query_problems('stats sum(startsWith(status, "5")) as e by tenantId') == [
        "startsWith() is not a documented function"
    ]
    assert query_problems("stats count(*) as requests, sum(e) as errors, 100 * errors / requests as pct by t") == [
        "stats computes over its own alias 'requests'",
        "stats computes over its own alias 'errors'",
    ]
    assert query_problems("filter x = 1 | head 5") == ["'head' is not a documented command"]
    # An alias of an earlier command, and a stats alias read by a later command, are fine.
    assert query_problems("fields abs(a) as b | stats avg(b) as c by d | sort c desc | limit 5") == []
    # A function name inside a literal or a regex is not a call.
    assert query_problems('filter m like /toNumber(/ or m = "startsWith(x)"') == []
    assert {"stats", "fields", "filter", "sort", "limit", "parse"} <= QUERY_COMMANDS
    assert {"pct", "sum", "avg", "count", "strcontains", "substr"} <= QUERY_FUNCTIONS
    assert not {"toNumber", "startsWith", "tonumber"} & QUERY_FUNCTIONS


def test_one_query_definition_per_file_on_the_access_log(dev: StackRun) -> None:
    queries = {q.slug: q for q in load_queries()}
    definitions = of_type(dev, QUERY_TYPE)
    assert sorted(d.name for d in definitions) == sorted(f"whitelabel-operations-query-{slug}" for slug in queries)
    for definition in definitions:
        query = queries[definition.name.removeprefix("whitelabel-operations-query-")]
        assert definition.inputs["name"] == f"whitelabel-gateway-dev/{query.title}"
        assert definition.inputs["logGroupNames"] == [access_log_group(dev)]
        assert definition.inputs["queryString"] == query.query
        assert 1 <= len(definition.inputs["name"]) <= 255 and 1 <= len(query.query) <= 10_000


# -- Contributor Insights ---------------------------------------------------------------------------
def _json_fields(paths: list[str]) -> set[str]:
    assert all(p.startswith("$.") for p in paths)
    return {p.removeprefix("$.") for p in paths}


def test_contributor_insights_rules_rank_tenants_by_requests_and_5xx(dev: StackRun) -> None:
    rules = {r.name: r for r in of_type(dev, RULE_TYPE)}
    assert sorted(rules) == ["whitelabel-operations-top-tenants-5xx", "whitelabel-operations-top-tenants-requests"]
    for name, rule in rules.items():
        assert rule.inputs["ruleState"] == "ENABLED"
        assert rule.inputs["ruleName"] == f"whitelabel-gateway-dev-top-tenants-by-{name.rsplit('-', 1)[1]}"
        body = json.loads(rule.inputs["ruleDefinition"])
        assert body["Schema"] == {"Name": "CloudWatchLogRule", "Version": 1}
        assert body["LogGroupNames"] == [access_log_group(dev)]
        assert body["LogFormat"] == "JSON"
        assert body["AggregateOn"] == "Count"
        contribution = body["Contribution"]
        assert contribution["Keys"] == ["$.tenantId"]
        assert len(contribution["Filters"]) <= 4
        matched = _json_fields([f["Match"] for f in contribution["Filters"]])
        assert _json_fields(contribution["Keys"]) | matched <= set(FIELDS)
    five = json.loads(rules["whitelabel-operations-top-tenants-5xx"].inputs["ruleDefinition"])["Contribution"][
        "Filters"
    ]
    assert five == [{"Match": "$.status", "StartsWith": ["5"]}]
    everyone = json.loads(rules["whitelabel-operations-top-tenants-requests"].inputs["ruleDefinition"])
    assert everyone["Contribution"]["Filters"] == [{"Match": "$.tenantId", "NotIn": ["-"]}]


def test_throttled_requests_are_counted_from_the_access_log(dev: StackRun) -> None:
    throttled = metric_filter(dev, "throttled")
    assert throttled.inputs["logGroupName"] == access_log_group(dev)
    assert throttled.inputs["pattern"] == '{ $.errorType = "THROTTLED" }'
    transformation = throttled.inputs["metricTransformation"]
    assert transformation["name"] == "ThrottledRequests"
    assert _json_fields(list(transformation["dimensions"].values())) <= set(FIELDS)
    assert {"errorType"} <= set(FIELDS)


def _logged(**values: str) -> dict[str, Any]:
    """A line as API Gateway writes it in the real format, from access-log keys (others "-")."""
    line = render(ACCESS_LOG_FORMAT, {FIELDS[key]: value for key, value in values.items()})
    return json.loads(line)


# Three requests as the access log has them: a throttled one, a backend 502, an unknown host refused,
# each with a hostile message API Gateway quotes itself.
TRAFFIC = (
    _logged(stage="dev", tenantId="acme", status="429", errorType="THROTTLED", errorMessage='Too "Many"\n'),
    _logged(stage="dev", tenantId="globex", status="502", errorType="BAD_GATEWAY", errorMessage="x\\"),
    _logged(stage="dev", status="403", errorType="ACCESS_DENIED", authorizerReason="unknown-host"),
)


def _json_path(line: dict[str, Any], path: str) -> Any:
    assert path.startswith("$.") and path.count(".") == 1, path
    return line.get(path.removeprefix("$."))


def _rule_matches(rule: dict[str, Any], line: dict[str, Any]) -> bool:
    for condition in rule["Contribution"]["Filters"]:
        value = _json_path(line, condition["Match"])
        if "NotIn" in condition and value in condition["NotIn"]:
            return False
        if "StartsWith" in condition and not any(str(value).startswith(p) for p in condition["StartsWith"]):
            return False
    return True


def test_the_rules_and_the_metric_filter_match_the_real_format(dev: StackRun) -> None:
    rules = {r.name.rsplit("-", 1)[1]: json.loads(r.inputs["ruleDefinition"]) for r in of_type(dev, RULE_TYPE)}
    contributors = {
        kind: [
            [_json_path(line, key) for key in rule["Contribution"]["Keys"]]
            for line in TRAFFIC
            if _rule_matches(rule, line)
        ]
        for kind, rule in rules.items()
    }
    assert contributors == {"requests": [["acme"], ["globex"]], "5xx": [["globex"]]}
    throttled = metric_filter(dev, "throttled")
    counted = [line for line in TRAFFIC if pattern_matches(throttled.inputs["pattern"], line)]
    assert [line["tenantId"] for line in counted] == ["acme"]
    dimensions = throttled.inputs["metricTransformation"]["dimensions"]
    assert {name: _json_path(counted[0], path) for name, path in dimensions.items()} == {"Stage": "dev"}


# -- the tenant authorizer: what is broken, not what a client got wrong --------------------------------
# Requests as the access log has them: two the authorizer could not decide (500), and the ordinary refusals and
# errors that must not count: a missing or invalid token (401), an unknown host (403), a throttle, a backend 502.
AUTHORIZER_TRAFFIC = (
    _logged(stage="dev", status="500", errorType="AUTHORIZER_CONFIGURATION_ERROR", errorMessage="null"),
    _logged(stage="dev", status="500", errorType="AUTHORIZER_FAILURE", errorMessage="null"),
    _logged(stage="dev", status="401", errorType="UNAUTHORIZED", errorMessage="Unauthorized"),
    _logged(stage="dev", status="403", errorType="ACCESS_DENIED", authorizerReason="unknown-host"),
    *TRAFFIC,
)


def test_authorizer_failures_are_counted_from_the_access_log_and_401s_are_not(dev: StackRun) -> None:
    failures = metric_filter(dev, "authorizer-failures")
    assert failures.inputs["name"] == "whitelabel-gateway-dev-authorizer-failures"
    assert failures.inputs["logGroupName"] == access_log_group(dev)
    counted = [line for line in AUTHORIZER_TRAFFIC if pattern_matches(failures.inputs["pattern"], line)]
    assert sorted(line["errorType"] for line in counted) == sorted(AUTHORIZER_FAILURE_TYPES)
    assert all(line["status"] == "500" for line in counted)
    transformation = failures.inputs["metricTransformation"]
    assert (transformation["namespace"], transformation["name"]) == ("WhitelabelGateway", "AuthorizerFailures")
    assert transformation["value"] == "1"
    assert {name: _json_path(counted[0], path) for name, path in transformation["dimensions"].items()} == {
        "Stage": "dev"
    }
    # The field the pattern reads is API Gateway's gateway-response type in the real format.
    assert FIELDS["errorType"] == "$context.error.responseType"


class _Unreachable:
    def get_item(self, **_: Any) -> dict[str, Any]:
        raise ConnectionError("registry down")


def _handler_log(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """What the real handler logs for an allow, two 401s, an unknown host, an issuer down and a registry down."""
    issuers = jwt_cases.Issuers()
    keys = authorizer.KeySets(fetch=issuers, clock=jwt_cases.Clock())
    requests = (
        jwt_cases.event(host="initech.example.com"),  # a tenant without end-user auth: Allow
        jwt_cases.event(),  # no token: 401
        jwt_cases.event(authorization="Bearer not-a-token"),  # garbage: 401
        jwt_cases.event(host="unknown.example.com"),  # 403
    )
    for request in requests:
        with contextlib.suppress(authorizer.UnauthorizedError):
            jwt_cases.decide(request, keys)
    issuers.down = True
    with pytest.raises(authorizer.JwksUnavailableError):
        jwt_cases.decide(jwt_cases.event(authorization=jwt_cases.bearer(jwt_cases.token())), keys)
    registry = authorizer.Registry(jwt_cases.TABLE, _Unreachable(), ttl_seconds=0)
    with pytest.raises(ConnectionError):
        authorizer.decide(jwt_cases.event(), registry, keys=keys)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_the_handlers_error_decisions_are_counted_from_its_own_log(
    dev: StackRun, capsys: pytest.CaptureFixture[str]
) -> None:
    decisions = metric_filter(dev, "authorizer-error-decisions")
    assert decisions.inputs["pattern"] == HANDLER_ERROR_PATTERN
    # The log group the function writes to (the TenantAuthorizer's own), not the access log.
    (function,) = [f for f in dev.of_type("aws:lambda/function:Function") if f.name.endswith("authorizer-function")]
    (group,) = [g for g in dev.of_type("aws:cloudwatch/logGroup:LogGroup") if g.name.endswith("authorizer-logs")]
    assert decisions.inputs["logGroupName"] == group.inputs["name"] == f"/aws/lambda/{function.inputs['name']}"
    lines = _handler_log(capsys)
    assert [line["decision"] for line in lines] == ["allow", "deny", "deny", "deny", "error", "error"]
    counted = [line["reason"] for line in lines if pattern_matches(decisions.inputs["pattern"], line)]
    assert counted == ["jwks-unavailable", "registry-error"]
    transformation = decisions.inputs["metricTransformation"]
    assert transformation["namespace"] == "WhitelabelGateway/whitelabel-gateway-dev"
    assert transformation["name"] == "AuthorizerErrorDecisions"
    assert transformation["value"] == "1" and "dimensions" not in transformation


# -- alarms -----------------------------------------------------------------------------------------
DEFAULT_ALARMS = {
    "whitelabel-operations-alarm-5xx-rate": 5.0,
    "whitelabel-operations-alarm-p99-latency": 3000.0,
    "whitelabel-operations-alarm-integration-latency-service1": 2000.0,
    "whitelabel-operations-alarm-integration-latency-service2": 2000.0,
    "whitelabel-operations-alarm-integration-latency-docs": 2000.0,
    "whitelabel-operations-alarm-throttled": 10.0,
}


def authorizer_function(run: StackRun) -> str | None:
    """The tenant authorizer's function name, when the program wires one."""
    found = [f for f in run.of_type("aws:lambda/function:Function") if f.name.startswith("whitelabel-authorizer")]
    return str(found[0].outputs["name"]) if found else None


def expected_alarms(
    run: StackRun, thresholds: dict[str, float], authorizer_errors: float = 1.0, concurrency: float = 800.0
) -> dict[str, float]:
    if authorizer_function(run) is None:
        return thresholds
    return {
        **thresholds,
        "whitelabel-operations-alarm-authorizer-failures": authorizer_errors,
        "whitelabel-operations-alarm-authorizer-error-decisions": authorizer_errors,
        "whitelabel-operations-alarm-authorizer-throttles": 1.0,
        "whitelabel-operations-alarm-authorizer-concurrency": concurrency,
    }


def test_alarms_have_the_documented_default_thresholds(dev: StackRun) -> None:
    alarms = {a.name: a for a in of_type(dev, ALARM_TYPE)}
    assert {name: a.inputs["threshold"] for name, a in alarms.items()} == expected_alarms(dev, DEFAULT_ALARMS)
    (topic,) = of_type(dev, TOPIC_TYPE)
    for name, alarm in alarms.items():
        assert alarm.inputs["treatMissingData"] == "notBreaching"
        assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]
        assert alarm.inputs["okActions"] == [topic.outputs["arn"]]
        # A throttled authorizer is a refused request: one minute of the five alarms; the others want three.
        datapoints = 1 if name.endswith("authorizer-throttles") else 3
        assert alarm.inputs["evaluationPeriods"] == 5 and alarm.inputs["datapointsToAlarm"] == datapoints
        assert sum(1 for q in alarm.inputs["metricQueries"] if q["returnData"]) == 1
    assert of_type(dev, SUBSCRIPTION_TYPE) == []


def _alarm_metric(run: StackRun, key: str) -> dict[str, Any]:
    (query,) = run.named(f"whitelabel-operations-alarm-{key}").inputs["metricQueries"]
    assert query["returnData"] is True
    return dict(query["metric"])


def test_no_alarm_pages_on_lambda_errors_where_every_401_counts(dev: StackRun, prod: StackRun) -> None:
    for run in (dev, prod):
        read = [
            (q["metric"]["namespace"], q["metric"]["metricName"])
            for alarm in of_type(run, ALARM_TYPE)
            for q in alarm.inputs["metricQueries"]
            if "metric" in q
        ]
        assert read and ("AWS/Lambda", "Errors") not in read
        assert "whitelabel-operations-alarm-authorizer-errors" not in {a.name for a in of_type(run, ALARM_TYPE)}


def test_authorizer_failure_alarms_read_what_the_metric_filters_write(dev: StackRun) -> None:
    failures = _alarm_metric(dev, "authorizer-failures")
    written = metric_filter(dev, "authorizer-failures").inputs["metricTransformation"]
    assert (failures["namespace"], failures["metricName"]) == (written["namespace"], written["name"])
    # The filter's dimension is the line's `stage`; the alarm asks for this stack's stage.
    (stage,) = dev.of_type("aws:apigateway/stage:Stage")
    assert failures["dimensions"] == {"Stage": stage.inputs["stageName"]} and failures["stat"] == "Sum"
    decisions = _alarm_metric(dev, "authorizer-error-decisions")
    written = metric_filter(dev, "authorizer-error-decisions").inputs["metricTransformation"]
    assert (decisions["namespace"], decisions["metricName"]) == (written["namespace"], written["name"])
    assert not decisions.get("dimensions") and decisions["stat"] == "Sum"
    for key in ("authorizer-failures", "authorizer-error-decisions"):
        alarm = dev.named(f"whitelabel-operations-alarm-{key}")
        assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_authorizers_throttles_and_concurrency_are_alarmed(dev: StackRun) -> None:
    function = authorizer_function(dev)
    assert function == "whitelabel-gateway-dev-tenant-authorizer"
    throttles = _alarm_metric(dev, "authorizer-throttles")
    assert (throttles["namespace"], throttles["metricName"], throttles["stat"]) == ("AWS/Lambda", "Throttles", "Sum")
    assert throttles["dimensions"] == {"FunctionName": function}
    concurrency = _alarm_metric(dev, "authorizer-concurrency")
    assert (concurrency["namespace"], concurrency["metricName"]) == ("AWS/Lambda", "ConcurrentExecutions")
    assert concurrency["stat"] == "Maximum" and concurrency["dimensions"] == {"FunctionName": function}
    for key, threshold in (("authorizer-throttles", 1), ("authorizer-concurrency", 800)):
        alarm = dev.named(f"whitelabel-operations-alarm-{key}")
        assert alarm.inputs["threshold"] == threshold
        assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_alarm_thresholds_and_emails_come_from_config(run_with: Callable[..., StackRun]) -> None:
    run = run_with(
        [{"name": "acme"}],
        alarms={
            "serverErrorRatePercent": 1.5,
            "latencyP99Ms": 900,
            "integrationLatencyP99Ms": 700,
            "throttledRequests": 50,
            "authorizerErrors": 4,
            "lambdaConcurrencyLimit": 500,
            "authorizerConcurrencyPercent": 90,
            "email": ["ops@example.com", "oncall@example.org"],
        },
    )
    alarms = {a.name: a.inputs["threshold"] for a in of_type(run, ALARM_TYPE)}
    configured = {
        "whitelabel-operations-alarm-5xx-rate": 1.5,
        "whitelabel-operations-alarm-p99-latency": 900.0,
        "whitelabel-operations-alarm-integration-latency-service1": 700.0,
        "whitelabel-operations-alarm-integration-latency-service2": 700.0,
        "whitelabel-operations-alarm-integration-latency-docs": 700.0,
        "whitelabel-operations-alarm-throttled": 50.0,
    }
    assert alarms == expected_alarms(run, configured, authorizer_errors=4.0, concurrency=450.0)
    (topic,) = of_type(run, TOPIC_TYPE)
    subscriptions = of_type(run, SUBSCRIPTION_TYPE)
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == ["oncall@example.org", "ops@example.com"]
    assert {s.inputs["protocol"] for s in subscriptions} == {"email"}
    assert {s.inputs["topic"] for s in subscriptions} == {topic.outputs["arn"]}


def test_5xx_rate_is_metric_math_over_the_apis_count(dev: StackRun) -> None:
    (api,) = dev.of_type("aws:apigateway/restApi:RestApi")
    alarm = dev.named("whitelabel-operations-alarm-5xx-rate")
    queries = {q["id"]: q for q in alarm.inputs["metricQueries"]}
    assert queries["rate"]["expression"] == "100 * FILL(errors, 0) / requests"
    assert queries["rate"]["returnData"] is True
    for metric_id, name in (("errors", "5XXError"), ("requests", "Count")):
        metric = queries[metric_id]["metric"]
        assert (metric["namespace"], metric["metricName"], metric["stat"]) == ("AWS/ApiGateway", name, "Sum")
        assert metric["dimensions"] == {"ApiName": api.inputs["name"], "Stage": "dev"}


def test_integration_latency_is_alarmed_per_backend(dev: StackRun) -> None:
    albs = {r.name: r for r in dev.of_type("aws:lb/loadBalancer:LoadBalancer")}
    for backend in ("service1", "service2"):
        alarm = dev.named(f"whitelabel-operations-alarm-integration-latency-{backend}")
        queries = {q["id"]: q for q in alarm.inputs["metricQueries"]}
        dimension = queries["seconds"]["metric"]["dimensions"]["LoadBalancer"]
        # The mock answers like AWS: arn_suffix is the LoadBalancer dimension CloudWatch uses.
        (alb,) = [a for a in albs.values() if a.outputs["arnSuffix"] == dimension]
        assert alb.name.startswith(backend)
        assert queries["seconds"]["metric"]["stat"] == "p99"
        assert queries["ms"]["expression"] == "1000 * seconds"
    docs = dev.named("whitelabel-operations-alarm-integration-latency-docs")
    (metric,) = [q["metric"] for q in docs.inputs["metricQueries"]]
    assert metric["metricName"] == "IntegrationLatency"
    assert metric["dimensions"]["Resource"] == "/docs/{key+}" and metric["dimensions"]["Method"] == "GET"


def test_alb_dimension_is_the_arns_final_portion() -> None:
    arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188"
    assert alb_dimension(arn) == "app/my-alb/50dc6c495c0c9188"
    with pytest.raises(ValueError):
        alb_dimension("arn:aws:s3:::bucket")


def test_alarm_specs_follow_the_thresholds() -> None:
    settings = AlarmSettings.model_validate(
        {"authorizerErrors": 3, "lambdaConcurrencyLimit": 200, "authorizerConcurrencyPercent": 75}
    )
    all_specs = alarm_specs(settings, "api", "dev", {"service1": "app/a/1"}, "fn", handler_namespace="ns")
    specs = {s.key: s for s in all_specs}
    assert isinstance(specs["authorizer-failures"], AlarmSpec)
    assert specs["authorizer-failures"].threshold == specs["authorizer-error-decisions"].threshold == 3
    assert specs["authorizer-concurrency"].threshold == 150  # 75 % of 200
    assert specs["authorizer-throttles"].threshold == 1 and specs["authorizer-throttles"].datapoints_to_alarm == 1
    (query,) = specs["authorizer-error-decisions"].metric_queries
    assert query["metric"]["namespace"] == "ns"
    (query,) = specs["authorizer-concurrency"].metric_queries
    assert query["metric"]["dimensions"] == {"FunctionName": "fn"} and query["metric"]["stat"] == "Maximum"
    assert "authorizer-errors" not in specs
    # Without the function's log group, no alarm on its log; without the function, none about it at all.
    keys = {s.key for s in alarm_specs(settings, "api", "dev", {}, "fn")}
    assert "authorizer-error-decisions" not in keys and "authorizer-failures" in keys
    assert not any(s.key.startswith("authorizer") for s in alarm_specs(settings, "api", "dev", {}, None))


# -- the dashboard ----------------------------------------------------------------------------------
def test_dashboard_body_is_valid_for_cloudwatch(dev: StackRun, prod: StackRun) -> None:
    for run in (dev, prod):
        assert dashboard_tool.validate_body(dashboard_body(run)) == []
    (board,) = of_type(dev, DASHBOARD_TYPE)
    assert board.inputs["dashboardName"] == "whitelabel-gateway-dev-operations"


def _broken(body: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> list[str]:
    copied = copy.deepcopy(body)
    change(copied)
    return dashboard_tool.validate_body(copied)


def _integration_widget(body: dict[str, Any]) -> dict[str, Any]:
    return next(w for w in body["widgets"] if w["properties"].get("title", "").startswith("Integration latency"))


def test_the_validator_refuses_what_cloudwatch_refuses(dev: StackRun) -> None:
    body = dashboard_body(dev)

    def widget(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        return lambda b: next(w for w in b["widgets"] if w["type"] == kind)

    cases: list[tuple[Callable[[dict[str, Any]], None], str]] = [
        (lambda b: b.pop("widgets"), "widgets"),
        (lambda b: b.update(extra=1), "extra"),
        (lambda b: widget("text")(b).update(type="chart"), "type"),
        (lambda b: widget("text")(b).update(x=24), ".x"),
        (lambda b: widget("metric")(b).update(width=25), ".width"),
        (lambda b: widget("metric")(b).update(x=20, width=8), "24-column"),
        (lambda b: widget("metric")(b).update(height=0), ".height"),
        (lambda b: widget("metric")(b).pop("y"), "x and y"),
        (lambda b: widget("text")(b)["properties"].pop("markdown"), "markdown"),
        (lambda b: widget("log")(b)["properties"].pop("region"), "region"),
        (lambda b: widget("log")(b)["properties"].update(query="filter x"), "SOURCE"),
        (lambda b: widget("metric")(b)["properties"].pop("metrics"), "metrics"),
        (lambda b: widget("metric")(b)["properties"].update(period=90), "period"),
        (lambda b: widget("metric")(b)["properties"].update(stat="Median"), "stat"),
        (lambda b: widget("metric")(b)["properties"]["metrics"][0].__setitem__(0, 5), "Namespace"),
        (lambda b: widget("alarm")(b)["properties"].update(alarms=[]), "alarms"),
        (lambda b: _integration_widget(b)["properties"]["metrics"][0][-1].pop("id"), "not an id of this widget"),
        (lambda b: b["variables"][0].update(id="tenant id!"), "id"),
        (lambda b: b["variables"][0].update(inputType="select"), "values"),
        (lambda b: b.update(periodOverride="never"), "periodOverride"),
    ]
    for change, expected in cases:
        errors = _broken(body, change)
        assert errors and any(expected in e for e in errors), (expected, errors)


def test_dashboard_shows_what_the_operator_asked_for(dev: StackRun) -> None:
    body = dashboard_body(dev)
    titles = [w["properties"].get("title", "") for w in body["widgets"]]
    for wanted in (
        "Requests (Count)",
        "4xx / 5xx",
        "Latency p50 / p99 (ms)",
        "Integration latency per backend (p99, ms)",
        "Throttled requests",
        "Top tenants by requests (Contributor Insights)",
        "Top tenants by 5xx (Contributor Insights)",
        "Alarms",
    ):
        assert wanted in titles
    rules = {r.inputs["ruleName"] for r in of_type(dev, RULE_TYPE)}
    insight = [w["properties"]["insightRule"]["ruleName"] for w in body["widgets"] if "insightRule" in w["properties"]]
    assert sorted(insight) == sorted(rules)
    alarms = next(w for w in body["widgets"] if w["type"] == "alarm")["properties"]["alarms"]
    assert sorted(alarms) == sorted(a.outputs["arn"] for a in of_type(dev, ALARM_TYPE))
    # WAF is off (issue 9 is not built): no widget pretends otherwise.
    assert not any("WAF" in t for t in titles)
    function = authorizer_function(dev)
    assert function is not None
    widgets = {
        w["properties"]["title"]: w["properties"]
        for w in body["widgets"]
        if w["properties"].get("title", "").startswith("Tenant authorizer")
    }
    # Lambda Errors stay on the dashboard, in a widget whose title says 401s are in them.
    errors = ["AWS/Lambda", "Errors", "FunctionName", function]
    (lambda_errors,) = [p for p in widgets.values() if errors in p["metrics"]]
    assert "401" in lambda_errors["title"]
    failures = widgets["Tenant authorizer failures (alarmed; 401s excluded)"]["metrics"]
    assert [m[:2] for m in failures] == [
        ["WhitelabelGateway", "AuthorizerFailures"],
        ["WhitelabelGateway/whitelabel-gateway-dev", "AuthorizerErrorDecisions"],
    ]
    concurrency = widgets["Tenant authorizer: concurrent executions (max) / throttles"]
    assert [m[:4] for m in concurrency["metrics"]] == [
        ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", function],
        ["AWS/Lambda", "Throttles", "FunctionName", function],
    ]
    threshold = dev.named("whitelabel-operations-alarm-authorizer-concurrency").inputs["threshold"]
    assert concurrency["annotations"]["horizontal"][0]["value"] == threshold


def test_log_widgets_run_the_saved_queries_on_the_access_log(dev: StackRun) -> None:
    body = dashboard_body(dev)
    logs = [w["properties"] for w in body["widgets"] if w["type"] == "log"]
    saved = {q.title: q for q in load_queries()}
    assert {p["title"] for p in logs} == set(saved)
    for props in logs:
        source, _, query = props["query"].partition(" | ")
        assert source == f"SOURCE '{access_log_group(dev)}'"
        assert query == query_body(saved[props["title"]].query)
        assert referenced_fields(query) <= set(FIELDS)
    (variable,) = body["variables"]
    assert variable["type"] == "pattern" and variable["pattern"] == TENANT_PLACEHOLDER
    assert sum(TENANT_PLACEHOLDER in p["query"] for p in logs) == 1


def test_widgets_do_not_overlap(dev: StackRun) -> None:
    cells: set[tuple[int, int]] = set()
    for w in dashboard_body(dev)["widgets"]:
        mine = {(x, y) for x in range(w["x"], w["x"] + w["width"]) for y in range(w["y"], w["y"] + w["height"])}
        assert not cells & mine, w["properties"].get("title")
        cells |= mine


def _component_run(**extra: Any) -> Any:
    settings = AlarmSettings()

    def program() -> Operations:
        return Operations(
            "ops",
            OperationsArgs(
                resource_prefix="wl-test",
                api_name="wl-test",
                stage_name="test",
                access_log_group_name="/aws/apigateway/wl-test/access",
                load_balancers={
                    "service1": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/s1/abc"
                },
                alarms=settings,
                **extra,
            ),
        )

    return deploy(program)


def test_the_component_alarms_on_the_authorizer_it_is_given() -> None:
    deployed = _component_run(
        authorizer_function_name="wl-test-tenant-authorizer",
        authorizer_log_group_name="/aws/lambda/wl-test-tenant-authorizer",
    )
    filters = {f.name: f.inputs for f in deployed.of_type(FILTER_TYPE)}
    assert filters["ops-authorizer-failures"]["logGroupName"] == "/aws/apigateway/wl-test/access"
    assert filters["ops-authorizer-error-decisions"]["logGroupName"] == "/aws/lambda/wl-test-tenant-authorizer"
    assert filters["ops-authorizer-error-decisions"]["metricTransformation"]["namespace"] == "WhitelabelGateway/wl-test"
    alarms = {a.name: a.inputs for a in deployed.of_type(ALARM_TYPE)}
    assert {n for n in alarms if "authorizer" in n} == {
        "ops-alarm-authorizer-failures",
        "ops-alarm-authorizer-error-decisions",
        "ops-alarm-authorizer-throttles",
        "ops-alarm-authorizer-concurrency",
    }
    (query,) = alarms["ops-alarm-authorizer-failures"]["metricQueries"]
    assert query["metric"]["dimensions"] == {"Stage": "test"}
    (query,) = alarms["ops-alarm-authorizer-error-decisions"]["metricQueries"]
    assert query["metric"]["namespace"] == "WhitelabelGateway/wl-test"
    for key in ("throttles", "concurrency"):
        (query,) = alarms[f"ops-alarm-authorizer-{key}"]["metricQueries"]
        assert query["metric"]["dimensions"] == {"FunctionName": "wl-test-tenant-authorizer"}
    assert alarms["ops-alarm-authorizer-concurrency"]["threshold"] == 800
    (board,) = deployed.of_type(DASHBOARD_TYPE)
    body = json.loads(board.inputs["dashboardBody"])
    assert dashboard_tool.validate_body(body) == []
    widget = next(w for w in body["widgets"] if "401" in w["properties"].get("title", ""))
    assert widget["properties"]["metrics"][0] == ["AWS/Lambda", "Errors", "FunctionName", "wl-test-tenant-authorizer"]


def test_without_its_log_group_the_handlers_log_is_not_watched_and_without_a_function_nothing_is() -> None:
    only_function = _component_run(authorizer_function_name="wl-test-tenant-authorizer")
    assert [f.name for f in only_function.of_type(FILTER_TYPE)] == ["ops-authorizer-failures", "ops-throttled"]
    assert "ops-alarm-authorizer-error-decisions" not in {a.name for a in only_function.of_type(ALARM_TYPE)}
    body = json.loads(only_function.of_type(DASHBOARD_TYPE)[0].inputs["dashboardBody"])
    assert dashboard_tool.validate_body(body) == []
    none = _component_run()
    assert [f.name for f in none.of_type(FILTER_TYPE)] == ["ops-throttled"]
    assert not any("authorizer" in a.name for a in none.of_type(ALARM_TYPE))
    body = json.loads(none.of_type(DASHBOARD_TYPE)[0].inputs["dashboardBody"])
    assert dashboard_tool.validate_body(body) == []
    assert not any(w["properties"].get("title", "").startswith("Tenant authorizer") for w in body["widgets"])


def test_a_component_user_sizes_the_concurrency_alarm_in_any_language() -> None:
    from tests.test_component_gateway import args, build
    from tools.schema import schema

    deployed = build(args(alarms={"lambda_concurrency_limit": 100, "authorizer_concurrency_percent": 50}))
    assert deployed.named("wl-operations-alarm-authorizer-concurrency").inputs["threshold"] == 50
    group = deployed.named("wl-authorizer-logs").inputs["name"]
    assert group == "/aws/lambda/acme-test-tenant-authorizer"
    assert deployed.named("wl-operations-authorizer-error-decisions").inputs["logGroupName"] == group
    # Other languages see only the schema: the two keys are in AlarmArgs there, with their types.
    alarms = schema()["types"]["whitelabel:index:AlarmArgs"]["properties"]
    assert alarms["lambdaConcurrencyLimit"]["type"] == "integer"
    assert alarms["authorizerConcurrencyPercent"]["type"] == "number"


def test_waf_widget_only_when_waf_is_on() -> None:
    off = json.loads(_component_run().of_type(DASHBOARD_TYPE)[0].inputs["dashboardBody"])
    assert not any("WAF" in w["properties"].get("title", "") for w in off["widgets"])
    on = json.loads(
        _component_run(waf_web_acl_metric_name="wl-test-acl").of_type(DASHBOARD_TYPE)[0].inputs["dashboardBody"]
    )
    assert dashboard_tool.validate_body(on) == []
    (waf,) = [w for w in on["widgets"] if w["properties"].get("title") == "WAF blocked requests"]
    assert waf["properties"]["metrics"] == [
        ["AWS/WAFV2", "BlockedRequests", "WebACL", "wl-test-acl", "Region", "eu-west-1", "Rule", "ALL"]
    ]


# -- onboarding changes nothing here ----------------------------------------------------------------
def test_adding_a_customer_changes_nothing_in_operations(dev: StackRun) -> None:
    customers = customer_entries(stack_file_config("dev")["whitelabel-gateway:customers"])
    after = shared_run("dev", customers_config([*customers, {"name": "initech"}]))
    before_ops = {r.urn: r.inputs for r in operations_resources(dev)}
    after_ops = {r.urn: r.inputs for r in operations_resources(after)}
    assert before_ops and before_ops == after_ops
    assert not any("initech" in json.dumps(inputs) for inputs in after_ops.values())
    assert inputs_by_urn(after)  # the run itself registered the customer elsewhere
    assert any("initech" in r.name for r in after.resources)


# -- tracing ----------------------------------------------------------------------------------------
def test_xray_tracing_is_off_in_dev_and_on_in_prod(dev: StackRun, prod: StackRun) -> None:
    (dev_stage,) = dev.of_type("aws:apigateway/stage:Stage")
    (prod_stage,) = prod.of_type("aws:apigateway/stage:Stage")
    assert not dev_stage.inputs.get("xrayTracingEnabled", False)
    assert prod_stage.inputs["xrayTracingEnabled"] is True


# -- config -----------------------------------------------------------------------------------------
def test_alarm_config_defaults_and_rules() -> None:
    base = {"baseDomain": "example.com", "customers": []}
    settings = parse_settings(base)
    assert settings.alarms == AlarmSettings()
    assert settings.tracing is False
    assert parse_settings({**base, "tracing": "true"}).tracing is True
    assert parse_settings({**base, "alarms": {"latencyP99Ms": "1200"}}).alarms.latency_p99_ms == 1200
    assert (settings.alarms.lambda_concurrency_limit, settings.alarms.authorizer_concurrency_percent) == (1000, 80)
    for bad, message in (
        ({"alarms": {"email": ["not-an-address"]}}, "alarms.email: 'not-an-address' must be an email address"),
        ({"alarms": {"email": ["a@b.io", "a@b.io"]}}, "alarms.email: lists an address twice"),
        ({"alarms": {"serverErrorRatePercent": 0}}, "alarms.serverErrorRatePercent"),
        ({"alarms": {"latencyMs": 5}}, "alarms.latencyMs: is not a known key"),
        ({"alarms": {"lambdaConcurrencyLimit": 0}}, "alarms.lambdaConcurrencyLimit"),
        ({"alarms": {"authorizerConcurrencyPercent": 0}}, "alarms.authorizerConcurrencyPercent"),
        ({"alarms": {"authorizerConcurrencyPercent": 101}}, "alarms.authorizerConcurrencyPercent"),
        ({"tracing": "sometimes"}, "tracing"),
    ):
        with pytest.raises(Exception, match=message.replace("(", r"\(")):
            parse_settings({**base, **bad})


# -- offline commands -------------------------------------------------------------------------------
def test_make_dashboard_writes_a_valid_body(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], share_tool_runs: None
) -> None:
    out = tmp_path / "dashboard.json"
    assert dashboard_tool.main(["--stack", "dev", "--out", str(out)]) == 0
    body = json.loads(out.read_text())
    assert dashboard_tool.validate_body(body) == []
    assert "whitelabel-gateway-dev-operations" in capsys.readouterr().out
    assert dashboard_tool.main(["--stack", "nosuchstack", "--out", str(out)]) == 2


def test_plan_shows_the_dashboard_widgets_and_the_alarm_thresholds(run_with: Callable[..., StackRun]) -> None:
    from tools import plan

    run = run_with([{"name": "acme"}], alarms={"latencyP99Ms": 1234, "email": ["ops@example.com"]})
    text = plan.render(run)
    body = dashboard_body(run)
    assert f"Dashboard whitelabel-gateway-dev-operations: {len(body['widgets'])} widgets" in text
    assert "  metric (0,20 12x6)      Top tenants by requests (Contributor Insights)" in text
    assert "  metric (0,14 8x6)       Tenant authorizer (Lambda): Errors, every 401 included / Invocations" in text
    assert "variable 'Tenant': replaces '__TENANT__'" in text
    count = len(of_type(run, ALARM_TYPE))
    assert count == len(expected_alarms(run, DEFAULT_ALARMS))
    assert f"Alarms ({count}) → whitelabel-gateway-dev-alarms; email: ops@example.com" in text
    assert "  whitelabel-gateway-dev-p99-latency: > 1234, 3 of 5 min, missing data notBreaching" in text
    assert "  whitelabel-gateway-dev-authorizer-throttles: >= 1, 1 of 5 min, missing data notBreaching" in text
    assert "  whitelabel-gateway-dev-authorizer-concurrency: >= 800, 3 of 5 min, missing data notBreaching" in text
    assert "authorizer-errors" not in text
    # What each alarm reads comes from its registered metric queries, not from its description.
    function = authorizer_function(run)
    assert (
        "  whitelabel-gateway-dev-authorizer-concurrency: >= 800, 3 of 5 min, missing data notBreaching\n"
        "      Tenant authorizer ConcurrentExecutions (Maximum) at 80% of the account's Lambda concurrency quota"
        " of 1,000; threshold 800 concurrent executions\n"
        f"      reads AWS/Lambda ConcurrentExecutions {{FunctionName={function}}} Maximum/60s\n"
    ) in text
    api = "{ApiName=whitelabel-gateway-dev,Stage=dev}"
    assert f"reads AWS/ApiGateway 5XXError {api} Sum/60s; AWS/ApiGateway Count {api} Sum/60s → 100 *" in text
    assert "Metric filters (3): the log lines our own metrics count" in text
    assert (
        "  whitelabel-gateway-dev-authorizer-error-decisions on /aws/lambda/whitelabel-gateway-dev-tenant-authorizer:"
        ' { $.decision = "error" }\n      → WhitelabelGateway/whitelabel-gateway-dev AuthorizerErrorDecisions\n'
    ) in text


def test_operations_resources_per_stack(dev: StackRun, prod: StackRun) -> None:
    for run in (dev, prod):
        component = run.named("whitelabel-operations")
        assert component.type == "whitelabel:operations:Operations"
        children = operations_resources(run)
        assert all(child.custom for child in children)
        counts: dict[str, int] = {}
        for child in children:
            counts[child.type] = counts.get(child.type, 0) + 1
        assert counts == {
            QUERY_TYPE: len(load_queries()),
            RULE_TYPE: 2,
            FILTER_TYPE: 3,  # throttled requests, authorizer failures, the authorizer's error decisions
            TOPIC_TYPE: 1,
            ALARM_TYPE: len(expected_alarms(run, DEFAULT_ALARMS)),
            DASHBOARD_TYPE: 1,
        }
        prefix = f"whitelabel-gateway-{run.stack}"
        (topic,) = of_type(run, TOPIC_TYPE)
        assert topic.inputs["name"] == f"{prefix}-alarms"
        assert all(str(a.inputs["name"]).startswith(f"{prefix}-") for a in of_type(run, ALARM_TYPE))
        assert run.outputs["operationsDashboard"] == f"{prefix}-operations"
        assert run.outputs["alarmTopicArn"] == topic.outputs["arn"]


def test_a_logged_request_has_every_field_the_rules_and_queries_read() -> None:
    # What API Gateway would write for a refused request: variables without a value become "-".
    logged = json.loads(render(ACCESS_LOG_FORMAT, {}))
    assert set(logged) == set(FIELDS) and set(logged.values()) == {"-"}
    read = set().union(*(referenced_fields(q.query) for q in load_queries()))
    assert read <= set(logged)
