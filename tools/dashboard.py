"""Offline dashboard: the CloudWatch dashboard body a stack would deploy, checked and written to a file.

Runs the real `__main__.py` with `Pulumi.<stack>.yaml` under the mock engine, takes the dashboard's
`dashboard_body`, checks it against CloudWatch's DashboardBody structure and writes it as JSON, so a
person can review it (or paste it into the console's "View/edit source") without a cloud.

    python -m tools.dashboard --stack dev [--out build/dashboard-dev.json]

The checks follow AWS's "Dashboard Body Structure and Syntax":
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from tools import cli
from whitelabel.offline import ROOT, StackRun, run_program

DASHBOARD_TYPE = "aws:cloudwatch/dashboard:Dashboard"

TOP_LEVEL_KEYS = {"widgets", "variables", "start", "end", "periodOverride"}
WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer"}
METRIC_VIEWS = {"timeSeries", "singleValue", "gauge", "bar", "pie", "table"}
LOG_VIEWS = {"table", "timeSeries", "bar", "pie"}
STAT_RE = re.compile(r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d+)?)$")
ID_RE = re.compile(r"^[a-z][A-Za-z0-9_]*$")
VARIABLE_ID_RE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
ALARM_STATES = {"ALARM", "INSUFFICIENT_DATA", "OK"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_period(period: Any, where: str, errors: list[str]) -> None:
    # "Any multiple of 60, with 60 as the minimum."
    if period is not None and not (_is_int(period) and period >= 60 and period % 60 == 0):
        errors.append(f"{where}.period: {period!r} must be a multiple of 60, at least 60")


def _check_stat(stat: Any, where: str, errors: list[str]) -> None:
    if stat is not None and not (isinstance(stat, str) and STAT_RE.match(stat)):
        errors.append(f"{where}.stat: {stat!r} is not SampleCount, Average, Sum, Minimum, Maximum or p??")


def _check_metric_line(line: Any, where: str, errors: list[str]) -> None:
    """One entry of `metrics`: `[Namespace, MetricName, (DimensionName, DimensionValue)…, {render}?]`
    or `[{"expression": …, "id"?, "label"?}]`."""
    if not isinstance(line, list) or not line:
        errors.append(f"{where}: must be a non-empty array")
        return
    render = line[-1] if isinstance(line[-1], dict) else None
    names = line[:-1] if render is not None else line
    if render is not None and "expression" in render:
        if names:
            errors.append(f"{where}: an expression entry holds only its object")
        if not isinstance(render["expression"], str) or not render["expression"]:
            errors.append(f"{where}.expression: must be a non-empty string")
    else:
        if len(names) < 2 or not all(isinstance(n, str) and n for n in names):
            errors.append(f"{where}: needs Namespace and MetricName strings")
        elif len(names) % 2:
            errors.append(f"{where}: dimension names and values must come in pairs")
    if render is not None:
        if "id" in render and not (isinstance(render["id"], str) and ID_RE.match(render["id"])):
            errors.append(f"{where}.id: {render['id']!r} must start with a lowercase letter")
        _check_stat(render.get("stat"), where, errors)
        _check_period(render.get("period"), where, errors)
        if render.get("yAxis", "left") not in ("left", "right"):
            errors.append(f"{where}.yAxis: must be left or right")


def _check_expression_ids(metrics: list[Any], where: str, errors: list[str]) -> None:
    """A math expression may only name ids of the same widget ("This Id can be used as part of a math
    expression"); functions are upper case (FILL, METRICS, SEARCH), quoted text is not an id."""
    renders = [line[-1] for line in metrics if isinstance(line, list) and line and isinstance(line[-1], dict)]
    ids = {r["id"] for r in renders if isinstance(r.get("id"), str)}
    for render in renders:
        expression = render.get("expression")
        if not isinstance(expression, str):
            continue
        unquoted = re.sub(r"'[^']*'|\"[^\"]*\"", " ", expression)
        for name in sorted(set(re.findall(r"\b[a-z][A-Za-z0-9_]*\b", unquoted)) - ids):
            errors.append(f"{where}.metrics: expression {expression!r} names {name!r}, not an id of this widget")


def _check_metric_widget(props: dict[str, Any], where: str, errors: list[str]) -> None:
    if not isinstance(props.get("region"), str):
        errors.append(f"{where}.region: required")
    metrics = props.get("metrics")
    alarms = (props.get("annotations") or {}).get("alarms")
    # `insightRule` (a Contributor Insights rule's top-N graph) is how the console saves such a graph in
    # a metric widget; AWS's body-structure page does not list it, so it is accepted only as the one
    # source of the widget, with the fields the console writes.
    insight = props.get("insightRule")
    if metrics is None and alarms is None and insight is None:
        errors.append(f"{where}.metrics: required when no alarm annotation is given")
    if insight is not None:
        if metrics is not None:
            errors.append(f"{where}.insightRule: a Contributor Insights graph has no metrics array")
        if not isinstance(insight, dict) or not isinstance(insight.get("ruleName"), str):
            errors.append(f"{where}.insightRule.ruleName: required")
        elif not (_is_int(insight.get("maxContributorCount")) and 1 <= insight["maxContributorCount"] <= 100):
            errors.append(f"{where}.insightRule.maxContributorCount: 1 to 100")
    if alarms is not None and (metrics is not None or not isinstance(alarms, list) or len(alarms) > 1):
        errors.append(f"{where}.annotations.alarms: 0-1 alarm, and only without a metrics array")
    if metrics is not None:
        if not isinstance(metrics, list) or len(metrics) > 500:
            errors.append(f"{where}.metrics: an array of 0-500 metrics")
        else:
            for index, line in enumerate(metrics):
                _check_metric_line(line, f"{where}.metrics[{index}]", errors)
            _check_expression_ids(metrics, where, errors)
    _check_stat(props.get("stat"), where, errors)
    _check_period(props.get("period"), where, errors)
    if props.get("view", "timeSeries") not in METRIC_VIEWS:
        errors.append(f"{where}.view: one of {sorted(METRIC_VIEWS)}")


def _check_widget(widget: Any, where: str, errors: list[str]) -> None:
    if not isinstance(widget, dict):
        errors.append(f"{where}: must be an object")
        return
    kind = widget.get("type")
    if kind not in WIDGET_TYPES:
        errors.append(f"{where}.type: {kind!r} is not one of {sorted(WIDGET_TYPES)}")
    if ("x" in widget) != ("y" in widget):
        errors.append(f"{where}: x and y go together")
    x, y = widget.get("x", 0), widget.get("y", 0)
    width, height = widget.get("width", 6), widget.get("height", 6)
    if not (_is_int(x) and 0 <= x <= 23):
        errors.append(f"{where}.x: {x!r} must be 0-23")
    if not (_is_int(y) and y >= 0):
        errors.append(f"{where}.y: {y!r} must be 0 or higher")
    if not (_is_int(width) and 1 <= width <= 24):
        errors.append(f"{where}.width: {width!r} must be 1-24")
    if not (_is_int(height) and 1 <= height <= 1000):
        errors.append(f"{where}.height: {height!r} must be 1-1000")
    if _is_int(x) and _is_int(width) and x + width > 24:
        errors.append(f"{where}: x + width = {x + width} leaves the 24-column grid")
    props = widget.get("properties")
    if not isinstance(props, dict):
        errors.append(f"{where}.properties: required object")
        return
    where = f"{where}.properties"
    if kind == "text":
        if not isinstance(props.get("markdown"), str):
            errors.append(f"{where}.markdown: required for a text widget")
        if props.get("background", "solid") not in ("solid", "transparent"):
            errors.append(f"{where}.background: solid or transparent")
    elif kind == "log":
        if not isinstance(props.get("region"), str):
            errors.append(f"{where}.region: required")
        query = props.get("query")
        # "The query string starts with the names of the log groups ... pre-pend each log group name with SOURCE."
        if not isinstance(query, str) or not query.startswith("SOURCE '"):
            errors.append(f"{where}.query: required, starting with SOURCE '<log group>'")
        if props.get("view", "table") not in LOG_VIEWS:
            errors.append(f"{where}.view: one of {sorted(LOG_VIEWS)}")
    elif kind == "metric":
        _check_metric_widget(props, where, errors)
    elif kind == "alarm":
        alarms = props.get("alarms")
        if not (isinstance(alarms, list) and 1 <= len(alarms) <= 100 and all(isinstance(a, str) for a in alarms)):
            errors.append(f"{where}.alarms: 1-100 alarm ARNs")
        if props.get("sortBy", "default") not in ("default", "stateUpdatedTimestamp", "timestamp"):
            errors.append(f"{where}.sortBy: default, stateUpdatedTimestamp or timestamp")
        if not set(props.get("states", [])) <= ALARM_STATES:
            errors.append(f"{where}.states: subset of {sorted(ALARM_STATES)}")
    elif kind == "explorer":
        metrics = props.get("metrics")
        if not (isinstance(metrics, list) and 1 <= len(metrics) <= 100):
            errors.append(f"{where}.metrics: 1-100 metrics")
        if not isinstance(props.get("labels"), list):
            errors.append(f"{where}.labels: required")


def _check_variable(variable: Any, where: str, errors: list[str]) -> None:
    if not isinstance(variable, dict):
        errors.append(f"{where}: must be an object")
        return
    kind, input_type = variable.get("type"), variable.get("inputType")
    if kind not in ("property", "pattern"):
        errors.append(f"{where}.type: property or pattern")
    elif not isinstance(variable.get(kind), str):
        errors.append(f"{where}.{kind}: required for a {kind} variable")
    if input_type not in ("input", "select", "radio"):
        errors.append(f"{where}.inputType: input, select or radio")
    if not (isinstance(variable.get("id"), str) and VARIABLE_ID_RE.match(variable["id"])):
        errors.append(f"{where}.id: required, up to 32 of 0-9A-Za-z-_")
    if "label" in variable and not (isinstance(variable["label"], str) and len(variable["label"]) <= 30):
        errors.append(f"{where}.label: at most 30 characters")
    searchable = isinstance(variable.get("search"), str) and isinstance(variable.get("populateFrom"), str)
    if input_type in ("select", "radio") and "values" not in variable and not searchable:
        errors.append(f"{where}: a {input_type} needs values, or search and populateFrom")
    if isinstance(variable.get("search"), str) and len(variable["search"]) > 2048:
        errors.append(f"{where}.search: at most 2048 characters")
    if isinstance(variable.get("defaultValue"), str) and len(variable["defaultValue"]) > 255:
        errors.append(f"{where}.defaultValue: at most 255 characters")


def validate_body(body: Any) -> list[str]:
    """Every way `body` breaks CloudWatch's DashboardBody structure (empty when it is valid)."""
    errors: list[str] = []
    if not isinstance(body, dict):
        return ["body: must be a JSON object"]
    for key in sorted(set(body) - TOP_LEVEL_KEYS):
        errors.append(f"{key}: not a DashboardBody key ({', '.join(sorted(TOP_LEVEL_KEYS))})")
    widgets = body.get("widgets")
    if not isinstance(widgets, list) or len(widgets) > 500:
        errors.append("widgets: required array of 0-500 widgets")
        widgets = []
    for index, widget in enumerate(widgets):
        _check_widget(widget, f"widgets[{index}]", errors)
    variables = body.get("variables", [])
    if not isinstance(variables, list) or len(variables) > 25:
        errors.append("variables: array of 0-25 variables")
        variables = []
    for index, variable in enumerate(variables):
        _check_variable(variable, f"variables[{index}]", errors)
    if "end" in body and "start" not in body:
        errors.append("end: needs start")
    if body.get("periodOverride", "auto") not in ("auto", "inherit"):
        errors.append("periodOverride: auto or inherit")
    return errors


def dashboard_bodies(run: StackRun) -> dict[str, dict[str, Any]]:
    """Dashboard name → parsed body, for every dashboard the run registered."""
    return {str(r.inputs["dashboardName"]): json.loads(r.inputs["dashboardBody"]) for r in run.of_type(DASHBOARD_TYPE)}


COMPARISONS = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">="}


def operations_summary(run: StackRun) -> str:
    """The dashboard's widgets and the alarms with their thresholds, for `make plan`."""
    lines: list[str] = []
    for name, body in sorted(dashboard_bodies(run).items()):
        lines.append(f"Dashboard {name}: {len(body['widgets'])} widgets")
        for widget in body["widgets"]:
            props = widget["properties"]
            title = props.get("title") or props.get("markdown", "").splitlines()[0].lstrip("# ")
            where = f"({widget['x']},{widget['y']} {widget['width']}x{widget['height']})"
            lines.append(f"  {widget['type']:<6} {where:<16} {title}")
        for variable in body.get("variables", []):
            lines.append(f"  variable {variable['label']!r}: replaces {variable.get('pattern')!r} in the log widgets")
    alarms = sorted(run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"), key=lambda r: str(r.inputs["name"]))
    topics = run.of_type("aws:sns/topic:Topic")
    emails = sorted(str(s.inputs["endpoint"]) for s in run.of_type("aws:sns/topicSubscription:TopicSubscription"))
    target = ", ".join(str(t.inputs.get("name")) for t in topics) or "no topic"
    lines.append(f"\nAlarms ({len(alarms)}) → {target}; email: {', '.join(emails) or 'none (alarms.email)'}")
    for alarm in alarms:
        inputs = alarm.inputs
        comparison = COMPARISONS.get(str(inputs["comparisonOperator"]), inputs["comparisonOperator"])
        rule = (
            f"{comparison} {inputs['threshold']:g},"
            f" {inputs['datapointsToAlarm']:g} of {inputs['evaluationPeriods']:g} min, missing data"
            f" {inputs['treatMissingData']}"
        )
        lines.append(f"  {inputs['name']}: {rule}\n      {inputs['alarmDescription']}")
        lines.append(f"      reads {alarm_reads(inputs.get('metricQueries') or [])}")
    filters = sorted(run.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter"), key=lambda r: str(r.inputs["name"]))
    lines.append(f"\nMetric filters ({len(filters)}): the log lines our own metrics count")
    for found in filters:
        inputs, metric = found.inputs, found.inputs["metricTransformation"]
        lines.append(
            f"  {inputs['name']} on {inputs['logGroupName']}: {inputs['pattern']}"
            f"\n      → {metric['namespace']} {metric['name']}"
            + "".join(f" {{{k}={v}}}" for k, v in sorted((metric.get("dimensions") or {}).items()))
        )
    return "\n".join(lines)


def alarm_reads(queries: list[dict[str, Any]]) -> str:
    """What an alarm evaluates, from its registered metric queries: the metrics (namespace, name, dimensions,
    statistic) and the expression it returns, so the plan says what the alarm reads, not what its text claims."""
    parts = []
    for query in queries:
        metric = query.get("metric")
        if metric:
            dimensions = ",".join(f"{k}={v}" for k, v in sorted((metric.get("dimensions") or {}).items()))
            parts.append(
                f"{metric['namespace']} {metric['metricName']}{f' {{{dimensions}}}' if dimensions else ''}"
                f" {metric['stat']}/{metric['period']:g}s"
            )
    returned = [q["expression"] for q in queries if q.get("returnData") and q.get("expression")]
    return "; ".join(parts) + (f" → {returned[0]}" if returned else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to use (default: dev)")
    parser.add_argument("--out", type=Path, help="output file (default: build/dashboard-<stack>.json)")
    args = parser.parse_args(argv)
    try:
        run = cli.load(run_program, args.stack)
    except cli.StackError as failure:
        return failure.report()
    bodies = dashboard_bodies(run)
    if len(bodies) != 1:
        print(f"error: expected one dashboard, the program registered {len(bodies)}", file=sys.stderr)
        return 1
    ((name, body),) = bodies.items()
    errors = validate_body(body)
    for problem in errors:
        print(f"invalid dashboard body: {problem}", file=sys.stderr)
    if errors:
        return 1
    out: Path = args.out or ROOT / "build" / f"dashboard-{args.stack}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(body, indent=2) + "\n")
    print(f"{name}: {len(body['widgets'])} widgets → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
