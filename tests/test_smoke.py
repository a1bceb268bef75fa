"""`make smoke`: the checks of a deployed stack, against a stand-in gateway on 127.0.0.1 and stubbed AWS calls.

The stand-in gateway answers by Host header the way the deployed API does (known → the backend's echo
with the tenant the authorizer decided; unknown, suspended, mTLS without a certificate → 403), and can be
told to misbehave (`flaws`) so each check is shown to fail when the behaviour it guards breaks. AWS calls
go through real boto3 clients with botocore's Stubber; the tool's read-only guard runs first on every call.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import ANY, Stubber

from components.operations import load_queries
from tests.stand_in import serve_on_loopback
from tools import smoke
from whitelabel.config import LEGACY_TLS_POLICY, parse_settings, read_raw_config
from whitelabel.offline import ROOT, engine_config, stack_file_config

REGION = "eu-west-1"
API_ID = "a1b2c3d4e5"
STAGE = "prod"
PREFIX = "whitelabel-gateway-prod"
WEB_ACL_ARN = f"arn:aws:wafv2:{REGION}:123456789012:regional/webacl/{PREFIX}/0f1e2d3c-aaaa-bbbb-cccc-111122223333"
ACCESS_LOG_GROUP = f"/aws/apigateway/{PREFIX}/access"
CUSTOMERS = [
    {"name": "acme"},
    {"name": "globex", "dedicatedDomain": True},
    {"name": "umbrella", "suspended": True},
    {
        "name": "vault",
        "dedicatedDomain": True,
        "mtlsTruststore": "s3://vault-trust/truststore.pem",
        "mtlsIssuers": ["CN=Vault Client CA"],
    },
    # End-user authentication of its own (the user-auth check).
    {"name": "hooli", "auth": {"issuer": "https://login.hooli.example", "audiences": ["app"]}},
]


def settings_with(customers: list[dict[str, Any]], **keys: Any) -> Any:
    config = stack_file_config("prod")
    config["whitelabel-gateway:customers"] = customers
    config["whitelabel-gateway:tlsPolicy"] = LEGACY_TLS_POLICY  # what a stack with an mTLS customer must use
    config["whitelabel-gateway:authorizer"] = {"cacheTtlSeconds": 0}  # and its authorizer caches no decision
    for key, value in keys.items():
        config[f"whitelabel-gateway:{key}"] = value
    return parse_settings(read_raw_config(engine_config(config)), root=ROOT)


def outputs(**extra: Any) -> dict[str, Any]:
    tenants = {
        "acme": {"hostnames": ["acme.example.com"], "tier": "standard", "status": "active", "apiKeyId": "k1"},
        "globex": {"hostnames": ["globex.example.com"], "tier": "standard", "status": "active", "apiKeyId": "k2"},
        "umbrella": {"hostnames": ["umbrella.example.com"], "tier": "standard", "status": "suspended"},
        "vault": {"hostnames": ["vault.example.com"], "tier": "standard", "status": "active", "apiKeyId": "k4"},
        "hooli": {"hostnames": ["hooli.example.com"], "tier": "standard", "status": "active", "apiKeyId": "k5"},
    }
    return {"apiId": API_ID, "stageName": STAGE, "tenants": tenants, "webAclArn": WEB_ACL_ARN, **extra}


# --- a stand-in for the deployed gateway --------------------------------------------------------------


@dataclass
class Gateway:
    """Answers like the deployed API, by Host; `flaws` names the behaviours to break; `log` is its access log."""

    tenants: dict[str, tuple[str, str, bool]]  # host → (tenant, status, mtls)
    auth: set[str] = field(default_factory=set)  # hosts whose tenant has end-user authentication
    echo: str = "pairs"  # pairs (a header echo), service2 (the example app), none (nginx's page)
    flaws: set[str] = field(default_factory=set)
    requests: list[dict[str, str]] = field(default_factory=list)
    ids: Iterator[str] = field(default_factory=lambda: (f"00000000-0000-4000-8000-{n:012d}" for n in range(10**6)))

    def answer(self, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.requests.append(headers)
        request_id = next(self.ids)
        host = headers.get("Host", "")
        known = self.tenants.get(host)
        refuse = known is None or known[1] == "suspended" or (known[2] and "mtls-open" not in self.flaws)
        if refuse and not (known is None and "unknown-open" in self.flaws):
            reason = "unknown-host" if known is None else known[1] if known[1] == "suspended" else "mtls"
            body = json.dumps({"error": "forbidden", "reason": reason, "requestId": request_id}).encode()
            return 403, {"x-amzn-RequestId": request_id, "Content-Type": "application/json"}, body
        if host in self.auth and "auth-open" not in self.flaws:
            body = json.dumps({"message": "Unauthorized"}).encode()
            return 401, {"x-amzn-RequestId": request_id, "WWW-Authenticate": "Bearer"}, body
        tenant = known[0] if known else "?"
        pairs = [[k, v] for k, v in headers.items() if k.lower() != "x-tenant-id"]
        if "forward-forged" in self.flaws:
            pairs.append(["X-Tenant-Id", headers.get("X-Tenant-Id", "")])
        else:
            pairs.append(["X-Tenant-Id", tenant])
        if self.echo == "pairs":
            body = json.dumps({"headers": pairs}).encode()
        elif self.echo == "service2":
            echoed = next(v for k, v in pairs if k == "X-Tenant-Id")
            body = json.dumps({"service": "service2", "path": "/smoke", "tenant": echoed}).encode()
        else:
            body = b"<html><body>Welcome to nginx!</body></html>"
        return 200, {"x-amzn-RequestId": request_id, "Content-Type": "application/json"}, body


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, str]]:
    stand_in = Gateway(
        {
            "acme.example.com": ("acme", "active", False),
            "globex.example.com": ("globex", "active", False),
            "umbrella.example.com": ("umbrella", "suspended", False),
            "vault.example.com": ("vault", "active", True),
            "hooli.example.com": ("hooli", "active", False),
        },
        auth={"hooli.example.com"},
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = stand_in.answer(dict(self.headers.items()))
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server, url = serve_on_loopback(Handler, "gateway-stand-in")
    try:
        yield stand_in, f"{url}/prod"
    finally:
        server.shutdown()
        server.server_close()


# --- stubbed AWS --------------------------------------------------------------------------------------


@functools.cache
def aws_session() -> boto3.session.Session:
    """One session for the module: it reads each service's model once (its loader keeps them), not once a test.
    The clients made from it are new for every `Aws`, each with its own Stubber and event handlers (a client
    copies the session's handlers), so no test sees another's."""
    return boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)


class Aws:
    """The tool's own read-only clients, each with a Stubber, and the operations that reached AWS."""

    def __init__(self) -> None:
        self.clients = smoke.Clients(aws_session())
        self.called: list[str] = []
        self.stubbers: dict[str, Stubber] = {}
        for service in smoke.READ_OPERATIONS:
            client = self.clients.get(service)
            client.meta.events.register("before-parameter-build", self._record)
            stubber = Stubber(client)
            stubber.activate()
            self.stubbers[service] = stubber

    def _record(self, model: Any, **_: Any) -> None:
        self.called.append(model.name)

    def add(self, service: str, method: str, response: dict[str, Any], params: dict[str, Any] | None = None) -> None:
        self.stubbers[service].add_response(method, response, params)

    def error(self, service: str, method: str, code: str, message: str) -> None:
        self.stubbers[service].add_client_error(method, service_error_code=code, service_message=message)

    def all_used(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def rest_api(**changes: Any) -> dict[str, Any]:
    return {
        "id": API_ID,
        "name": PREFIX,
        "endpointConfiguration": {"types": ["REGIONAL"]},
        "disableExecuteApiEndpoint": True,
        "securityPolicy": LEGACY_TLS_POLICY,
        "apiStatus": "AVAILABLE",
        **changes,
    }


def stage(**changes: Any) -> dict[str, Any]:
    return {
        "stageName": STAGE,
        "webAclArn": WEB_ACL_ARN,
        "accessLogSettings": {"destinationArn": f"arn:aws:logs:{REGION}:123456789012:log-group:{ACCESS_LOG_GROUP}"},
        **changes,
    }


def web_acl(settings: Any, capacity: int = 1009, drop: str | None = None) -> dict[str, Any]:
    rules = [
        {
            "Name": rule["name"],
            "Priority": rule["priority"],
            "Statement": {},
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"},
        }
        for rule in smoke.expected_waf_rules(settings, PREFIX)
        if rule["name"] != drop
    ]
    return {
        "WebACL": {
            "Name": PREFIX,
            "Id": WEB_ACL_ARN.rsplit("/", 1)[1],
            "ARN": WEB_ACL_ARN,
            "DefaultAction": {"Allow": {}},
            "Rules": rules,
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"},
            "Capacity": capacity,
        },
        "LockToken": "t",
    }


FIRST_REQUEST_ID = "00000000-0000-4000-8000-000000000000"  # the stand-in gateway's first request id


def make(stack: smoke.Stack, base_url: str, aws: Aws | None = None, **options: Any) -> smoke.Smoke:
    ticks = iter(range(0, 10_000, 5))  # a clock that advances 5 s per reading: every wait is bounded
    return smoke.Smoke(
        stack,
        smoke.Http(base_url, timeout=5),
        aws.clients if aws else None,
        sleep=lambda _: None,
        clock=lambda: float(next(ticks)),
        **options,
    )


@pytest.fixture
def stack() -> smoke.Stack:
    return smoke.stack_from(outputs(), settings_with(CUSTOMERS), STAGE)


def by_check(results: list[smoke.Result]) -> dict[str, smoke.Result]:
    return {r.check: r for r in results}


# --- read only ----------------------------------------------------------------------------------------


def test_every_operation_the_tool_may_call_is_a_read_that_exists():
    session = botocore.session.get_session()
    for service, operations in smoke.READ_OPERATIONS.items():
        names = set(session.get_service_model(service).operation_names)
        for operation in operations:
            assert operation.startswith(smoke.READ_PREFIXES), operation
            assert operation in names, f"{service} has no operation {operation}"


@pytest.mark.parametrize(
    ("service", "method", "params"),
    [
        ("logs", "delete_log_group", {"logGroupName": ACCESS_LOG_GROUP}),
        ("apigateway", "update_stage", {"restApiId": API_ID, "stageName": STAGE}),
        ("apigateway", "flush_stage_authorizers_cache", {"restApiId": API_ID, "stageName": STAGE}),
        (
            "wafv2",
            "update_web_acl",
            {
                "Name": PREFIX,
                "Scope": "REGIONAL",
                "Id": "x",
                "DefaultAction": {"Allow": {}},
                "VisibilityConfig": {
                    "SampledRequestsEnabled": True,
                    "CloudWatchMetricsEnabled": True,
                    "MetricName": "m",
                },
                "LockToken": "t",
            },
        ),
    ],
)
def test_the_clients_refuse_a_write_before_it_is_sent(service, method, params):
    aws = Aws()
    aws.add(service, method, {})  # were the guard missing, the stub would answer and the call succeed

    with pytest.raises(smoke.NotReadOnlyError):
        getattr(aws.clients.get(service), method)(**params)

    assert aws.called == []


# --- a whole run against a healthy stack -----------------------------------------------------------------


def queue_healthy_aws(aws: Aws, settings: Any) -> None:
    aws.add("apigateway", "get_rest_api", rest_api(), {"restApiId": API_ID})
    aws.add("wafv2", "get_web_acl", web_acl(settings), {"Name": PREFIX, "Scope": "REGIONAL", "Id": ANY})
    aws.add("apigateway", "get_stage", stage(), {"restApiId": API_ID, "stageName": STAGE})
    aws.add("apigateway", "get_stage", stage(), {"restApiId": API_ID, "stageName": STAGE})
    # The line of the forged-header request (the gateway's first), on the second poll: access logs arrive
    # seconds after the response. API Gateway writes it with the format's JSON escaping of the User-Agent.
    look_up = {"logGroupName": ACCESS_LOG_GROUP, "startTime": ANY, "filterPattern": f'"{FIRST_REQUEST_ID}"'}
    line = {
        "requestId": FIRST_REQUEST_ID,
        "tenantId": "acme",
        "host": "acme.example.com",
        "userAgent": smoke.HOSTILE_USER_AGENT,
        "status": "200",
    }
    aws.add("logs", "filter_log_events", {"events": []}, look_up)
    aws.add("logs", "filter_log_events", {"events": [{"message": json.dumps(line)}]}, look_up)
    queries = load_queries()
    aws.add(
        "logs",
        "describe_query_definitions",
        {
            "queryDefinitions": [
                {
                    "name": f"{PREFIX}/{q.title}",
                    "queryDefinitionId": f"d{i}",
                    "queryString": q.query,
                    "logGroupNames": [ACCESS_LOG_GROUP],
                }
                for i, q in enumerate(queries)
            ]
        },
        {"queryDefinitionNamePrefix": f"{PREFIX}/", "maxResults": 1000},
    )
    for i, q in enumerate(queries):
        aws.add(
            "logs",
            "start_query",
            {"queryId": f"q{i}"},
            {"logGroupNames": [ACCESS_LOG_GROUP], "queryString": q.query, "startTime": ANY, "endTime": ANY},
        )
    for i, _ in enumerate(queries):
        aws.add(
            "logs",
            "get_query_results",
            {"status": "Complete", "results": [[{"field": "n", "value": "1"}]], "statistics": {"recordsScanned": 12.0}},
            {"queryId": f"q{i}"},
        )


def test_a_healthy_stack_passes_every_check_using_read_operations_only(gateway, stack):
    stand_in, base_url = gateway
    aws = Aws()
    queue_healthy_aws(aws, stack.settings)

    # own-domains: this stack has no own domain through CloudFront (tests/test_own_domains_cloudfront.py runs it).
    results = make(stack, base_url, aws).run([c for c in smoke.CHECKS if c != "own-domains"])

    lines = [r.line() for r in results]
    assert [r.outcome for r in results] == ["PASS"] * len(results), lines
    checks = by_check(results)
    assert set(smoke.CHECKS) - {"saved-queries", "own-domains"} <= set(checks)
    assert {f"saved-query {q.title}" for q in load_queries()} <= set(checks)
    assert "saw 'acme' only" in checks["forged-header"].detail
    assert "(unknown-host)" in checks["unknown-host"].detail
    assert "umbrella.example.com" in checks["suspended-tenant"].detail
    assert "Host: vault.example.com" in checks["mtls-bypass"].detail
    assert "quoted User-Agent intact" in checks["access-log"].detail
    # The requests: the forged headers went out; every request named its tenant's host.
    forged = stand_in.requests[0]
    assert forged["X-Tenant-Id"] == smoke.FORGED_TENANT and forged["Host"] == "acme.example.com"
    assert forged["User-Agent"] == smoke.HOSTILE_USER_AGENT
    aws.all_used()
    assert aws.called and set(aws.called) <= set().union(*smoke.READ_OPERATIONS.values())
    assert all(name.startswith(smoke.READ_PREFIXES) for name in aws.called)


# --- each check fails when its behaviour breaks ---------------------------------------------------------


def test_forged_header_fails_when_the_backend_sees_the_clients_value(gateway, stack):
    stand_in, base_url = gateway
    stand_in.flaws.add("forward-forged")

    [result] = make(stack, base_url).run(["forged-header"])

    assert result.outcome == "FAIL"
    assert smoke.FORGED_TENANT in result.detail


def test_forged_header_reads_the_example_service2_app(gateway, stack):
    stand_in, base_url = gateway
    stand_in.echo = "service2"

    [result] = make(stack, base_url).run(["forged-header"])

    assert result.outcome == "PASS", result.line()


def test_forged_header_says_so_when_the_backend_echoes_nothing(gateway, stack):
    stand_in, base_url = gateway
    stand_in.echo = "none"

    [result] = make(stack, base_url).run(["forged-header"])

    assert result.outcome == "SKIP"
    assert "echoes no request headers" in result.detail


def test_unknown_host_fails_when_it_is_served(gateway, stack):
    stand_in, base_url = gateway
    stand_in.flaws.add("unknown-open")

    [result] = make(stack, base_url).run(["unknown-host"])

    assert result.outcome == "FAIL"
    assert "answered 200" in result.detail
    assert stand_in.requests[0]["Host"].endswith(".example.com")
    assert stand_in.requests[0]["Host"] not in stand_in.tenants


def test_mtls_bypass_fails_when_the_mtls_host_is_served_without_a_certificate(gateway, stack):
    stand_in, base_url = gateway
    stand_in.flaws.add("mtls-open")

    [result] = make(stack, base_url).run(["mtls-bypass"])

    assert result.outcome == "FAIL"
    assert stand_in.requests[0]["Host"] == "vault.example.com"


def test_suspended_and_mtls_checks_skip_with_the_reason_when_the_stack_has_none(gateway):
    _, base_url = gateway
    plain = smoke.stack_from(
        {"apiId": API_ID, "stageName": STAGE}, settings_with([{"name": "acme"}, {"name": "globex"}]), STAGE
    )

    results = by_check(make(plain, base_url).run(["suspended-tenant", "mtls-bypass"]))

    assert results["suspended-tenant"].line() == "SKIP suspended-tenant: the stack has no suspended customer"
    assert results["mtls-bypass"].outcome == "SKIP"
    assert "no mTLS customer" in results["mtls-bypass"].detail


def test_the_deployed_status_wins_over_the_config():
    # The config says umbrella is active; the `tenants` output (what is deployed) says suspended.
    customers = [{"name": "acme"}, {"name": "umbrella"}]
    deployed = smoke.stack_from(outputs(), settings_with(customers), STAGE)
    from_config = smoke.stack_from({"apiId": API_ID, "stageName": STAGE}, settings_with(customers), STAGE)

    assert [t.name for t in deployed.tenants if t.suspended] == ["umbrella"]
    assert [t.name for t in from_config.tenants if t.suspended] == []


# --- the access log -------------------------------------------------------------------------------------


def sent_request(run: smoke.Smoke) -> None:
    run.sent = {"tenant": "acme", "host": "acme.example.com", "started": 1_700_000_000.0, "id": "rid-1"}


def test_access_log_fails_on_a_line_the_user_agent_broke(stack):
    aws = Aws()
    aws.add("apigateway", "get_stage", stage())
    # What an unescaped $context.identity.userAgent inside a JSON string makes of the hostile User-Agent.
    broken = '{"requestId":"rid-1","tenantId":"acme","userAgent":"' + smoke.HOSTILE_USER_AGENT + '"}'
    aws.add("logs", "filter_log_events", {"events": [{"message": broken}]})
    run = make(stack, "http://127.0.0.1:9", aws)
    sent_request(run)

    [result] = run.run(["access-log"])

    assert result.outcome == "FAIL"
    assert "is not JSON" in result.detail


def test_access_log_wait_is_bounded(stack):
    aws = Aws()
    aws.add("apigateway", "get_stage", stage())
    for _ in range(3):
        aws.add("logs", "filter_log_events", {"events": []})
    run = make(stack, "http://127.0.0.1:9", aws, log_wait=10)
    sent_request(run)

    [result] = run.run(["access-log"])

    assert result.outcome == "FAIL"
    assert "no line with requestId rid-1" in result.detail
    assert aws.called.count("FilterLogEvents") <= 3


def test_access_log_fails_when_the_line_names_another_tenant(stack):
    aws = Aws()
    aws.add("apigateway", "get_stage", stage())
    line = json.dumps({"requestId": "rid-1", "tenantId": "someone-else", "host": "acme.example.com"})
    aws.add("logs", "filter_log_events", {"events": [{"message": line}]})
    run = make(stack, "http://127.0.0.1:9", aws)
    sent_request(run)

    [result] = run.run(["access-log"])

    assert result.outcome == "FAIL"
    assert "tenantId 'someone-else'" in result.detail


# --- saved queries --------------------------------------------------------------------------------------


def test_saved_queries_report_one_that_does_not_compile_one_missing_and_stop_a_slow_one(stack):
    aws = Aws()
    first, second, *rest = load_queries()
    definitions = [
        {"name": f"{PREFIX}/{q.title}", "queryString": q.query, "logGroupNames": [ACCESS_LOG_GROUP]}
        for q in (first, second)
    ]
    aws.add("logs", "describe_query_definitions", {"queryDefinitions": definitions})
    aws.error("logs", "start_query", "MalformedQueryException", "unexpected symbol at line 2")
    aws.add("logs", "start_query", {"queryId": "slow"})
    aws.add("logs", "get_query_results", {"status": "Running", "results": []}, {"queryId": "slow"})
    aws.add("logs", "stop_query", {"success": True}, {"queryId": "slow"})
    run = make(stack, "http://127.0.0.1:9", aws, query_wait=5)

    results = by_check(run.run(["saved-queries"]))

    assert "saved-queries" not in results, results["saved-queries"].line()
    assert results[f"saved-query {first.title}"].outcome == "FAIL"
    assert "MalformedQueryException" in results[f"saved-query {first.title}"].detail
    assert results[f"saved-query {second.title}"].outcome == "PASS"
    assert "stopped" in results[f"saved-query {second.title}"].detail
    for query in rest:
        assert results[f"saved-query {query.title}"].outcome == "FAIL"
        assert "no saved query named" in results[f"saved-query {query.title}"].detail
    aws.all_used()


# --- the API and the web ACL ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"disableExecuteApiEndpoint": False}, "execute-api endpoint is enabled"),
        ({"securityPolicy": "SecurityPolicy_TLS13_1_2_PQ_2025_09"}, "config says"),
        ({"endpointConfiguration": {"types": ["EDGE"]}}, "endpoint type ['EDGE']"),
        ({"apiStatus": "FAILED", "apiStatusMessage": "certificate"}, "apiStatus FAILED: certificate"),
    ],
)
def test_api_check_fails_on_each_setting_that_differs(stack, changes, expected):
    aws = Aws()
    aws.add("apigateway", "get_rest_api", rest_api(**changes))

    [result] = make(stack, "http://127.0.0.1:9", aws).run(["api"])

    assert result.outcome == "FAIL"
    assert expected in result.detail


@pytest.mark.parametrize(
    ("capacity", "drop", "stage_acl", "expected"),
    [
        (1501, None, WEB_ACL_ARN, "capacity 1501 WCU"),
        (1009, "per-tenant-rate", WEB_ACL_ARN, "rules missing: per-tenant-rate"),
        (1009, None, None, "the stage's web ACL is None"),
    ],
)
def test_waf_check_fails_on_capacity_missing_rules_or_no_association(stack, capacity, drop, stage_acl, expected):
    aws = Aws()
    aws.add("wafv2", "get_web_acl", web_acl(stack.settings, capacity, drop))
    aws.add("apigateway", "get_stage", stage(webAclArn=stage_acl) if stage_acl else {"stageName": STAGE})

    [result] = make(stack, "http://127.0.0.1:9", aws).run(["waf"])

    assert result.outcome == "FAIL"
    assert expected in result.detail


def test_waf_check_skips_without_a_web_acl():
    settings = settings_with([{"name": "acme"}], waf={"enabled": False})
    plain = smoke.stack_from({"apiId": API_ID, "stageName": STAGE}, settings, STAGE)

    [result] = make(plain, "http://127.0.0.1:9", Aws()).run(["waf"])

    assert result.outcome == "SKIP"


# --- the command ----------------------------------------------------------------------------------------


def write_stack(tmp_path: Path, customers: list[dict[str, Any]]) -> tuple[Path, Path]:
    import yaml

    config = stack_file_config("prod")
    config["whitelabel-gateway:customers"] = customers
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}))
    out = tmp_path / "outputs.json"
    out.write_text(json.dumps({"apiId": API_ID, "stageName": STAGE}))
    return stack_file, out


def test_the_command_exits_non_zero_on_a_fail_and_zero_otherwise(gateway, tmp_path, capsys):
    stand_in, base_url = gateway
    stack_file, out = write_stack(tmp_path, [{"name": "acme"}, {"name": "umbrella", "suspended": True}])
    argv = [
        "--stack",
        "prod",
        "--stack-file",
        str(stack_file),
        "--outputs",
        str(out),
        "--base-url",
        base_url,
        "--only",
        "forged-header,unknown-host,suspended-tenant,mtls-bypass",
    ]

    assert smoke.main(argv) == 0
    healthy = capsys.readouterr().out.splitlines()
    stand_in.flaws.add("unknown-open")
    assert smoke.main(argv) == 1
    broken = capsys.readouterr().out.splitlines()

    assert [line.split(" ", 2)[:2] for line in healthy] == [
        ["PASS", "forged-header:"],
        ["PASS", "unknown-host:"],
        ["PASS", "suspended-tenant:"],
        ["SKIP", "mtls-bypass:"],
    ]
    assert any(line.startswith("FAIL unknown-host:") for line in broken)


def test_the_command_needs_outputs_or_the_pulumi_cli(tmp_path, capsys, monkeypatch):
    stack_file, _ = write_stack(tmp_path, [{"name": "acme"}])
    monkeypatch.setattr(smoke.shutil, "which", lambda _: None)

    assert smoke.main(["--stack", "prod", "--stack-file", str(stack_file)]) == 2
    assert "OUTPUTS=" in capsys.readouterr().err


def test_the_command_refuses_an_unknown_check(capsys):
    assert smoke.main(["--only", "forged-header,delete-everything"]) == 2
    assert "delete-everything" in capsys.readouterr().err


def test_api_check_expects_the_configured_endpoint_type_of_an_edge_stack():
    edge_policy = "SecurityPolicy_TLS12_PFS_2025_EDGE"
    # Mutual TLS is Regional only; end-user auth needs a TTL of 0, this stack keeps the default.
    customers = [c for c in CUSTOMERS if "mtlsTruststore" not in c and "auth" not in c]
    settings = settings_with(customers, endpointType="EDGE", tlsPolicy=edge_policy, authorizer={})
    edge_stack = smoke.stack_from(outputs(), settings, STAGE)
    for types, outcome in ((["EDGE"], "PASS"), (["REGIONAL"], "FAIL")):
        aws = Aws()
        aws.add(
            "apigateway",
            "get_rest_api",
            rest_api(endpointConfiguration={"types": types}, securityPolicy=edge_policy, endpointAccessMode="STRICT"),
        )
        [result] = make(edge_stack, "http://127.0.0.1:9", aws).run(["api"])
        assert result.outcome == outcome, result.detail


AUTH = {"issuer": "https://idp.example.org/pool-1", "audiences": ["portal"]}


def auth_stack() -> smoke.Stack:
    # acme inherits the stack's auth; globex opts out.
    customers = [{"name": "acme"}, {"name": "globex", "auth": "none"}]
    return smoke.stack_from({"apiId": API_ID, "stageName": STAGE}, settings_with(customers, auth=AUTH), STAGE)


def test_user_auth_passes_when_each_auth_customer_answers_401_without_and_with_a_garbage_token(gateway):
    stand_in, base_url = gateway
    stand_in.auth.add("acme.example.com")

    [result] = make(auth_stack(), base_url).run(["user-auth"])

    assert result.line() == "PASS user-auth: 1 customer(s) answered 401 without a token and with a garbage one"
    sent = [(r["Host"], r.get("Authorization")) for r in stand_in.requests]
    assert sent == [("acme.example.com", None), ("acme.example.com", "Bearer smoke.not.a-jwt")]


def test_user_auth_fails_when_an_inheriting_customer_is_served_without_a_token(gateway):
    # Issue 23 §1 on a deployed stack: the stack's auth did not reach acme's registry item, so no token passed.
    stand_in, base_url = gateway
    stand_in.auth.add("acme.example.com")
    stand_in.flaws.add("auth-open")

    [result] = make(auth_stack(), base_url).run(["user-auth"])

    assert result.outcome == "FAIL"
    assert result.detail == "acme.example.com (acme) with no token answered 200, not 401"


def test_user_auth_skips_without_an_auth_customer(gateway):
    _, base_url = gateway
    plain = smoke.stack_from({"apiId": API_ID, "stageName": STAGE}, settings_with([{"name": "acme"}]), STAGE)
    [result] = make(plain, base_url).run(["user-auth"])
    assert result.line() == "SKIP user-auth: the stack has no active customer with end-user authentication (auth)"
