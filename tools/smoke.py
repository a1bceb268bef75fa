"""Smoke checks of a deployed stack: requests through the gateway and read-only AWS calls, one line per check.

What only a real deployment shows: which tenant the backend sees when a client forges `X-Tenant-Id`, that
unknown, suspended and mTLS-bypass requests are refused, that the access-log line of a request parses, that
each saved query compiles, and how the API, its stage and its web ACL are set. Prints
`PASS|FAIL|SKIP <check>: <detail>` per check and exits 1 on any FAIL (2 when it cannot start).

It never changes what is deployed: HTTP GETs to the tenants' hostnames and AWS read operations only
(`READ_OPERATIONS`; every client refuses any other operation before it is sent).

    python -m tools.smoke --stack dev --outputs outputs.json   # outputs: `pulumi stack output --json`
    python -m tools.smoke --stack dev                          # runs `pulumi stack output --json` itself
    # another address (here LocalStack's stage URL), still with the tenant's Host header:
    python -m tools.smoke --stack dev --outputs o.json --only forged-header,unknown-host,suspended-tenant \
        --base-url http://127.0.0.1:4566/restapis/<id>/dev/_user_request_

The stack's config (customers, suspension, mTLS, tlsPolicy, waf) comes from `Pulumi.<stack>.yaml`
(`--stack-file`), read with the program's own config model.
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import shutil
import ssl
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from whitelabel.config import (
    PROJECT,
    ConfigError,
    Settings,
    endpoint_access_mode,
    parse_settings,
    read_raw_config,
    resource_prefix,
)
from whitelabel.offline import ROOT, engine_config

# The only AWS operations the tool may call, per boto3 service name. Reads, plus running a Logs Insights
# query (StartQuery/GetQueryResults/StopQuery), which reads logs and changes nothing deployed.
READ_OPERATIONS: dict[str, frozenset[str]] = {
    "apigateway": frozenset({"GetRestApi", "GetStage"}),
    "wafv2": frozenset({"GetWebACL"}),
    "logs": frozenset({"FilterLogEvents", "DescribeQueryDefinitions", "StartQuery", "GetQueryResults", "StopQuery"}),
    # Own domains through CloudFront: each distribution tenant and its managed certificate.
    "cloudfront": frozenset({"GetDistributionTenant", "GetManagedCertificateDetails"}),
}
READ_PREFIXES = ("Get", "List", "Describe", "Filter", "StartQuery", "GetQueryResults", "StopQuery")

CHECKS = (
    "api",
    "waf",
    "forged-header",
    "unknown-host",
    "suspended-tenant",
    "mtls-bypass",
    "user-auth",
    "access-log",
    "saved-queries",
    "own-domains",
)

# A managed certificate in one of these states will not become `issued` by waiting (ManagedCertificateDetails,
# https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ManagedCertificateDetails.html); `pending-validation`
# waits for the customer's CNAME.
CERTIFICATE_FAILED = frozenset({"validation-timed-out", "failed", "revoked", "expired", "inactive"})

FORGED_TENANT = "someone-else"
# Quotes, a backslash and a brace in the User-Agent: the access-log line of this request must still be one
# JSON object (the format puts `$context.identity.userAgent` inside a JSON string).
HOSTILE_USER_AGENT = 'whitelabel-smoke/1 "x":"y"} \\ end'
# API Gateway returns the request id ($context.requestId, the access log's `requestId`) in this header:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-access-logging.html
REQUEST_ID_HEADER = "x-amzn-requestid"
# Logs Insights query states that end a query (GetQueryResults `status`):
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetQueryResults.html
QUERY_DONE = frozenset({"Complete", "Failed", "Cancelled", "Timeout", "Unknown"})
QUERY_WINDOW_SECONDS = 3600
POLL_SECONDS = 5.0


class NotReadOnlyError(RuntimeError):
    """An AWS operation outside `READ_OPERATIONS` was about to be sent."""


# --- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    outcome: str  # PASS, FAIL or SKIP
    check: str
    detail: str

    def line(self) -> str:
        return f"{self.outcome} {self.check}: {self.detail}"


def passed(check: str, detail: str) -> Result:
    return Result("PASS", check, detail)


def failed(check: str, detail: str) -> Result:
    return Result("FAIL", check, detail)


def skipped(check: str, detail: str) -> Result:
    return Result("SKIP", check, detail)


# --- what the tool knows about the stack -------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    name: str
    hostnames: tuple[str, ...]
    suspended: bool
    mtls: bool
    # End-user authentication on for it (`auth`, inherited or its own): a request needs a verified token.
    auth: bool = False


@dataclass(frozen=True)
class Stack:
    """The deployed stack as the checks need it: its outputs joined with its config."""

    api_id: str
    stage: str
    base_domain: str
    prefix: str
    settings: Settings
    tenants: tuple[Tenant, ...]
    web_acl_arn: str | None
    # Own domains through CloudFront, from `customDomainHandoff`: (customer, domain, distribution tenant id).
    own_domains: tuple[tuple[str, str, str], ...] = ()

    def active(self, mtls: bool | None = None) -> list[Tenant]:
        return [t for t in self.tenants if not t.suspended and (mtls is None or t.mtls == mtls)]


def settings_from_stack_file(path: Path) -> tuple[Settings, str | None]:
    """The stack file's validated settings and its `aws:region` (or None)."""
    import yaml

    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    return parse_settings(read_raw_config(engine_config(config)), root=ROOT), config.get("aws:region")


def stack_from(outputs: Mapping[str, Any], settings: Settings, stack_name: str) -> Stack:
    """Join the stack's outputs (`pulumi stack output --json`) with its config.

    Hostnames and suspension come from the `tenants` output (what is deployed) when present, else from the
    config; mTLS from the config (customers with `mtlsTruststore`).
    """
    for key in ("apiId", "stageName"):
        if not isinstance(outputs.get(key), str):
            raise ValueError(f"the stack outputs have no {key!r} (is this a whitelabel-gateway stack, deployed?)")
    mtls = {c.name for c in settings.customers if c.mtls_truststore is not None}
    auth = {c.name for c in settings.customers if settings.auth_of(c) is not None}
    deployed = outputs.get("tenants")
    if isinstance(deployed, dict):
        tenants = [
            Tenant(
                name,
                tuple(entry.get("hostnames") or ()),
                entry.get("status") == "suspended",
                name in mtls,
                name in auth,
            )
            for name, entry in sorted(deployed.items())
            if isinstance(entry, dict)
        ]
    else:
        tenants = [
            Tenant(c.name, settings.hostnames(c), c.suspended, c.name in mtls, c.name in auth)
            for c in sorted(settings.customers, key=lambda c: c.name)
        ]
    web_acl = outputs.get("webAclArn")
    handoff = outputs.get("customDomainHandoff")
    own_domains = tuple(
        (name, str(entry["domain"]), str(entry["distributionTenantId"]))
        for name, entry in sorted((handoff if isinstance(handoff, dict) else {}).items())
        if isinstance(entry, dict) and entry.get("edge") == "cloudFront" and entry.get("distributionTenantId")
    )
    return Stack(
        api_id=outputs["apiId"],
        stage=outputs["stageName"],
        base_domain=settings.base_domain,
        prefix=resource_prefix(settings, PROJECT, outputs["stageName"]),
        settings=settings,
        tenants=tuple(t for t in tenants if t.hostnames),
        web_acl_arn=web_acl if isinstance(web_acl, str) else None,
        own_domains=own_domains,
    )


def read_outputs(path: Path | None, stack: str, timeout: float = 60.0) -> dict[str, Any]:
    """The stack outputs from `path`, else from `pulumi stack output --json --stack <stack>`."""
    if path is not None:
        return dict(json.loads(path.read_text()))
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise ValueError(
            "no outputs: pass OUTPUTS=<file> (`pulumi stack output --json --stack <stack> > <file>`) "
            "or run where the Pulumi CLI is installed"
        )
    done = subprocess.run(
        [pulumi, "stack", "output", "--json", "--stack", stack],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise ValueError(f"`pulumi stack output` failed: {done.stderr.strip() or done.returncode}")
    return dict(json.loads(done.stdout))


# --- AWS: read-only clients ------------------------------------------------------------------------


def refuse_writes(service: str) -> Callable[..., None]:
    """A botocore `before-parameter-build` handler that refuses every operation outside `READ_OPERATIONS`."""
    allowed = READ_OPERATIONS[service]

    def guard(model: Any, **_: Any) -> None:
        if model.name not in allowed:
            raise NotReadOnlyError(f"{service}:{model.name} is not one of the smoke test's read operations")

    return guard


class Clients:
    """boto3 clients, one per service, each refusing any operation outside `READ_OPERATIONS`."""

    def __init__(self, session: Any, endpoint_url: str | None = None) -> None:
        from botocore.config import Config

        self.session = session
        self.endpoint_url = endpoint_url
        # Bounded: a few seconds to connect, a retry or two, never the SDK's long defaults.
        self.config = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"})
        self._clients: dict[str, Any] = {}

    def get(self, service: str) -> Any:
        if service not in self._clients:
            client = self.session.client(service, endpoint_url=self.endpoint_url, config=self.config)
            # Before the request is built: a refused operation is never sent (nor answered by a Stubber).
            client.meta.events.register_first("before-parameter-build", refuse_writes(service))
            self._clients[service] = client
        return self._clients[service]


# --- HTTP ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lowercase names
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Http:
    """GET requests as a tenant's client makes them: HTTPS to `connect_host` (its SNI), `Host` set apart.

    base_url: send every request to this address instead (path appended), still with the tenant's Host.
    """

    def __init__(self, base_url: str | None = None, timeout: float = 10.0) -> None:
        self.base = urllib.parse.urlsplit(base_url) if base_url else None
        self.timeout = timeout

    def get(self, connect_host: str, host: str, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        conn: http.client.HTTPConnection
        if self.base is not None:
            netloc, target = self.base.netloc, self.base.path.rstrip("/") + path
            if self.base.scheme == "https":
                conn = http.client.HTTPSConnection(netloc, timeout=self.timeout)
            else:
                conn = http.client.HTTPConnection(netloc, timeout=self.timeout)
        else:
            # The TLS handshake (SNI, certificate check) is with `connect_host`; `Host` may name another.
            context = ssl.create_default_context()
            conn, target = http.client.HTTPSConnection(connect_host, 443, timeout=self.timeout, context=context), path
        try:
            conn.request("GET", target, headers={"Host": host, "Accept": "*/*", **(headers or {})})
            response = conn.getresponse()
            body = response.read()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
        finally:
            conn.close()


def echoed_tenant_ids(body: Any) -> list[str] | None:
    """The `X-Tenant-Id` values a backend echoed, or None when its answer echoes no request headers.

    Understands the example service2 app (`{"tenant": <X-Tenant-Id>}`, services/web_app.py) and a header
    echo (`{"headers": [[name, value], ...]}` or `{"headers": {name: value}}`).
    """
    if not isinstance(body, dict):
        return None
    headers = body.get("headers")
    if isinstance(headers, list):
        return [str(p[1]) for p in headers if isinstance(p, list | tuple) and len(p) == 2 and _is_tenant(p[0])]
    if isinstance(headers, dict):
        return [str(v) for k, v in headers.items() if _is_tenant(k)]
    if "tenant" in body:
        return [] if body["tenant"] is None else [str(body["tenant"])]
    return None


def _is_tenant(name: object) -> bool:
    return isinstance(name, str) and name.lower() == "x-tenant-id"


def reason_of(reply: Reply) -> str:
    body = reply.json()
    reason = body.get("reason") if isinstance(body, dict) else None
    return f" ({reason})" if reason else ""


# --- the checks -------------------------------------------------------------------------------------


@dataclass
class Smoke:
    """Runs the checks against one stack; `sent` carries the forged-header request to the access-log check."""

    stack: Stack
    http: Http
    clients: Clients | None
    echo_path: str = "/service2/smoke"
    log_wait: float = 90.0
    query_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sent: dict[str, Any] = field(default_factory=dict)

    def run(self, only: Iterable[str] = CHECKS) -> list[Result]:
        selected = set(only)
        results: list[Result] = []
        for check in CHECKS:
            if check not in selected:
                continue
            method = getattr(self, "check_" + check.replace("-", "_"))
            try:
                outcome = method()
            except NotReadOnlyError:
                raise
            except Exception as error:  # one broken check must not hide the others
                outcome = failed(check, f"{type(error).__name__}: {error}")
            results.extend(outcome if isinstance(outcome, list) else [outcome])
        return results

    def _aws(self, service: str) -> Any:
        if self.clients is None:
            raise RuntimeError("no AWS clients")
        return self.clients.get(service)

    def _connect_host(self) -> str | None:
        """A hostname that resolves and completes a handshake: any tenant's, active ones without mTLS first."""
        candidates = sorted(self.stack.tenants, key=lambda t: (t.mtls, t.suspended, t.name))
        return candidates[0].hostnames[0] if candidates else None

    # -- the API, its stage, its web ACL

    def check_api(self) -> Result:
        api = self._aws("apigateway").get_rest_api(restApiId=self.stack.api_id)
        problems, seen = [], []
        types = (api.get("endpointConfiguration") or {}).get("types")
        seen.append(f"endpoint {types}")
        expected_types = [self.stack.settings.endpoint_type]  # config `endpointType`: REGIONAL or EDGE
        if types != expected_types:
            problems.append(f"endpoint type {types}, expected {expected_types}")
        if api.get("disableExecuteApiEndpoint") is not True:
            policy = "a resource policy" if api.get("policy") else "no resource policy"
            problems.append(f"the execute-api endpoint is enabled ({policy}); the program disables it")
        else:
            seen.append("execute-api endpoint disabled")
        expected_policy = self.stack.settings.tls_policy
        if api.get("securityPolicy") is not None:
            seen.append(f"securityPolicy {api['securityPolicy']}")
            if api["securityPolicy"] != expected_policy:
                problems.append(f"securityPolicy {api['securityPolicy']}, config says {expected_policy}")
            mode = endpoint_access_mode(expected_policy)
            if mode is not None and api.get("endpointAccessMode") != mode:
                problems.append(f"endpointAccessMode {api.get('endpointAccessMode')}, expected {mode}")
        else:
            seen.append("securityPolicy not reported")
        status = api.get("apiStatus")
        if status is not None:
            seen.append(f"status {status}")
            if status != "AVAILABLE":
                problems.append(f"apiStatus {status}: {api.get('apiStatusMessage') or 'no message'}")
        return failed("api", "; ".join(problems)) if problems else passed("api", ", ".join(seen))

    def check_waf(self) -> Result:
        if self.stack.web_acl_arn is None:
            return skipped("waf", "the stack has no webAclArn output (waf.enabled is false)")
        from whitelabel.waf import WCU_INCLUDED

        # arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>
        *_, name, acl_id = self.stack.web_acl_arn.split("/")
        acl = self._aws("wafv2").get_web_acl(Name=name, Scope="REGIONAL", Id=acl_id)["WebACL"]
        problems = []
        capacity = acl.get("Capacity")
        if not isinstance(capacity, int) or capacity > WCU_INCLUDED:
            problems.append(f"capacity {capacity} WCU, above the {WCU_INCLUDED} in the base price")
        present = {rule["Name"] for rule in acl.get("Rules", [])}
        expected = {rule["name"] for rule in expected_waf_rules(self.stack.settings, self.stack.prefix)}
        if expected - present:
            problems.append(f"rules missing: {', '.join(sorted(expected - present))}")
        stage = self._aws("apigateway").get_stage(restApiId=self.stack.api_id, stageName=self.stack.stage)
        if stage.get("webAclArn") != self.stack.web_acl_arn:
            problems.append(f"the stage's web ACL is {stage.get('webAclArn')}, not {self.stack.web_acl_arn}")
        if problems:
            return failed("waf", "; ".join(problems))
        return passed("waf", f"capacity {capacity} WCU, {len(present)} rules, associated with stage {self.stack.stage}")

    def check_own_domains(self) -> Result:
        """Each own domain through CloudFront: its distribution tenant enabled and holding the domain, and its
        managed certificate's state (docs "Own domains: two edges"). Pending validation passes (it waits for the
        customer's CNAME); a certificate that can no longer be issued fails."""
        check = "own-domains"
        if not self.stack.own_domains:
            return skipped(check, "no own domain through CloudFront in customDomainHandoff")
        cloudfront = self._aws("cloudfront")
        problems, seen = [], []
        for name, domain, tenant_id in self.stack.own_domains:
            tenant = cloudfront.get_distribution_tenant(Identifier=tenant_id)["DistributionTenant"]
            domains = {d.get("Domain"): d.get("Status") for d in tenant.get("Domains") or []}
            try:
                details = cloudfront.get_managed_certificate_details(Identifier=tenant_id)["ManagedCertificateDetails"]
                certificate = str(details.get("CertificateStatus"))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "EntityNotFound":
                    raise
                certificate = "none requested"
            seen.append(f"{name} {domain}: tenant {tenant.get('Status')}, certificate {certificate}")
            if tenant.get("Enabled") is not True:
                problems.append(f"{name}: distribution tenant {tenant_id} is disabled")
            if domain not in domains:
                problems.append(f"{name}: {domain} is not a domain of distribution tenant {tenant_id}")
            if certificate in CERTIFICATE_FAILED:
                problems.append(
                    f"{name}: managed certificate {certificate} for {domain}: re-request it once the CNAME resolves"
                )
        if problems:
            return failed(check, "; ".join(problems))
        return passed(check, "; ".join(seen))

    # -- requests

    def check_forged_header(self) -> Result:
        check = "forged-header"
        tenants = self.stack.active(mtls=False)
        if not tenants:
            return skipped(check, "no active customer without mTLS to send it as")
        tenant = tenants[0]
        host = tenant.hostnames[0]
        started = self.wall()
        reply = self.http.get(
            host,
            host,
            self.echo_path,
            {
                "X-Tenant-Id": FORGED_TENANT,
                "X-Tenant-Tier": FORGED_TENANT,
                "X-Tenant-Domain": f"{FORGED_TENANT}.{self.stack.base_domain}",
                "User-Agent": HOSTILE_USER_AGENT,
            },
        )
        self.sent = {
            "tenant": tenant.name,
            "host": host,
            "started": started,
            "id": reply.headers.get(REQUEST_ID_HEADER),
        }
        if reply.status != 200:
            return failed(check, f"GET https://{host}{self.echo_path} answered {reply.status}, expected 200")
        seen = echoed_tenant_ids(reply.json())
        if seen is None:
            return skipped(
                check,
                f"{host} answered 200 but the backend at {self.echo_path} echoes no request headers, so the "
                "X-Tenant-Id it saw cannot be observed here (access-log shows the gateway's tenant)",
            )
        if seen != [tenant.name]:
            return failed(check, f"sent X-Tenant-Id: {FORGED_TENANT} as {host}; the backend saw {seen}")
        return passed(check, f"sent X-Tenant-Id: {FORGED_TENANT} as {host}; the backend saw {tenant.name!r} only")

    def check_unknown_host(self) -> Result:
        connect = self._connect_host()
        if connect is None:
            return skipped("unknown-host", "the stack has no customer hostname to connect to")
        unknown = f"smoke-unknown-{secrets.token_hex(4)}.{self.stack.base_domain}"
        reply = self.http.get(connect, unknown, self.echo_path)
        detail = f"Host: {unknown} (via {connect}) answered {reply.status}{reason_of(reply)}"
        return passed("unknown-host", detail) if reply.status == 403 else failed("unknown-host", detail + ", not 403")

    def check_suspended_tenant(self) -> Result:
        suspended = [t for t in self.stack.tenants if t.suspended]
        if not suspended:
            return skipped("suspended-tenant", "the stack has no suspended customer")
        host = suspended[0].hostnames[0]
        reply = self.http.get(host, host, self.echo_path)
        detail = f"{host} ({suspended[0].name}) answered {reply.status}{reason_of(reply)}"
        return (
            passed("suspended-tenant", detail)
            if reply.status == 403
            else failed("suspended-tenant", detail + ", not 403")
        )

    def check_mtls_bypass(self) -> Result:
        check = "mtls-bypass"
        mtls = [t for t in self.stack.tenants if t.mtls]
        if not mtls:
            return skipped(check, "the stack has no mTLS customer (mtlsTruststore)")
        target = mtls[0]
        # Its own hostname would ask for a client certificate: the handshake must be with one that does not.
        plain = sorted((t for t in self.stack.tenants if not t.mtls), key=lambda t: (t.suspended, t.name))
        if not plain:
            return skipped(check, "the stack has no customer without mTLS whose hostname could carry the handshake")
        connect = plain[0].hostnames[0]
        host = target.hostnames[0]
        # The handshake is with a hostname that asks for no client certificate; Host names the mTLS one.
        reply = self.http.get(connect, host, self.echo_path)
        detail = (
            f"handshake with {connect}, Host: {host} ({target.name}, mTLS) answered {reply.status}{reason_of(reply)}"
        )
        return passed(check, detail) if reply.status == 403 else failed(check, detail + ", not 403")

    def check_user_auth(self) -> Result:
        """Each active customer with end-user authentication answers 401 to a request without a token and to one
        with a token that is no JWT: the stack's `auth` reached its registry item (issue 23 §1)."""
        check = "user-auth"
        tenants = [t for t in self.stack.active(mtls=False) if t.auth]
        if not tenants:
            return skipped(check, "the stack has no active customer with end-user authentication (auth)")
        for tenant in tenants:
            host = tenant.hostnames[0]
            for label, headers in (("no token", {}), ("a garbage token", {"Authorization": "Bearer smoke.not.a-jwt"})):
                reply = self.http.get(host, host, self.echo_path, headers)
                if reply.status != 401:
                    return failed(check, f"{host} ({tenant.name}) with {label} answered {reply.status}, not 401")
        return passed(check, f"{len(tenants)} customer(s) answered 401 without a token and with a garbage one")

    # -- logs

    def check_access_log(self) -> Result:
        check = "access-log"
        if not self.sent:
            return skipped(check, "no request to look for (the forged-header check did not send one)")
        request_id = self.sent["id"]
        if not request_id:
            return failed(check, f"the response to the forged-header request carried no {REQUEST_ID_HEADER} header")
        stage = self._aws("apigateway").get_stage(restApiId=self.stack.api_id, stageName=self.stack.stage)
        destination = (stage.get("accessLogSettings") or {}).get("destinationArn")
        if not destination:
            return failed(check, f"stage {self.stack.stage} has no access-log destination")
        group = log_group_name(destination)
        logs = self._aws("logs")
        deadline = self.clock() + self.log_wait
        start_ms = int((self.sent["started"] - 300) * 1000)  # clocks differ; API Gateway stamps the event
        while True:
            messages = self._filter(logs, group, start_ms, request_id, deadline)
            if messages:
                return judge_access_log(messages, request_id, self.sent["tenant"], self.sent["host"], group)
            if self.clock() >= deadline:
                return failed(check, f"no line with requestId {request_id} in {group} after {self.log_wait:.0f} s")
            self.sleep(POLL_SECONDS)

    def _filter(self, logs: Any, group: str, start_ms: int, request_id: str, deadline: float) -> list[str]:
        messages: list[str] = []
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start_ms, "filterPattern": f'"{request_id}"'}
        while True:
            page = logs.filter_log_events(**kwargs)
            messages += [event["message"] for event in page.get("events", [])]
            token = page.get("nextToken")
            if not token or messages or self.clock() >= deadline:
                return messages
            kwargs["nextToken"] = token

    def check_saved_queries(self) -> list[Result]:
        from components.operations import load_queries

        logs = self._aws("logs")
        folder = f"{self.stack.prefix}/"
        found = logs.describe_query_definitions(queryDefinitionNamePrefix=folder, maxResults=1000)
        by_name = {d["name"]: d for d in found.get("queryDefinitions", [])}
        results: list[Result] = []
        running: list[tuple[str, str]] = []
        end = int(self.wall())
        for query in load_queries():
            check = f"saved-query {query.title}"
            definition = by_name.get(folder + query.title)
            if definition is None:
                results.append(failed(check, f"no saved query named {folder + query.title}"))
                continue
            try:
                started = logs.start_query(
                    logGroupNames=definition["logGroupNames"],
                    queryString=definition["queryString"],
                    startTime=end - QUERY_WINDOW_SECONDS,
                    endTime=end,
                )
            except ClientError as error:
                # MalformedQueryException: the query does not compile (StartQuery checks the syntax).
                code, message = error.response["Error"].get("Code"), error.response["Error"].get("Message")
                results.append(failed(check, f"StartQuery refused it: {code}: {message}"))
                continue
            running.append((check, started["queryId"]))
        deadline = self.clock() + self.query_wait
        for check, query_id in running:
            while True:
                answer = logs.get_query_results(queryId=query_id)
                status = answer.get("status")
                if status in QUERY_DONE:
                    rows = len(answer.get("results", []))
                    scanned = int((answer.get("statistics") or {}).get("recordsScanned", 0))
                    outcome = passed if status == "Complete" else failed
                    results.append(outcome(check, f"{status}: {rows} rows, {scanned} records scanned in the last hour"))
                    break
                if self.clock() >= deadline:
                    logs.stop_query(queryId=query_id)
                    results.append(
                        passed(
                            check,
                            f"compiles (StartQuery accepted it); still {status} after {self.query_wait:.0f} s, stopped",
                        )
                    )
                    break
                self.sleep(POLL_SECONDS)
        return results


def log_group_name(arn: str) -> str:
    """`arn:aws:logs:<region>:<account>:log-group:<name>[:*]` → `<name>`."""
    return arn.split(":log-group:", 1)[1].removesuffix(":*")


def judge_access_log(messages: Sequence[str], request_id: str, tenant: str, host: str, group: str) -> Result:
    """The access-log check's verdict on the lines FilterLogEvents found for `request_id`."""
    check = "access-log"
    lines = []
    for message in messages:
        try:
            line = json.loads(message)
        except ValueError:
            return failed(check, f"a line for {request_id} in {group} is not JSON: {message[:300]}")
        if not isinstance(line, dict):
            return failed(check, f"a line for {request_id} in {group} is not a JSON object: {message[:300]}")
        lines.append(line)
    mine = [line for line in lines if line.get("requestId") == request_id]
    if len(mine) != 1:
        return failed(check, f"{len(mine)} lines with requestId {request_id} in {group}, expected 1")
    line = mine[0]
    problems = [
        f"{key} {line.get(key)!r}, expected {want!r}"
        for key, want in (("tenantId", tenant), ("host", host))
        if line.get(key) != want
    ]
    if problems:
        return failed(check, "; ".join(problems))
    agent = "intact" if line.get("userAgent") == HOSTILE_USER_AGENT else f"logged as {line.get('userAgent')!r}"
    return passed(check, f"one JSON line in {group}: tenantId {tenant!r}, host {host}; quoted User-Agent {agent}")


# --- command line -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="the stack (default: dev); its Pulumi.<stack>.yaml is read")
    parser.add_argument("--stack-file", type=Path, help="the stack file (default: Pulumi.<stack>.yaml)")
    parser.add_argument("--outputs", type=Path, help="stack outputs as `pulumi stack output --json` prints them")
    parser.add_argument("--base-url", help="send requests here (http or https) with the tenant's Host header")
    parser.add_argument("--region", help="AWS region (default: the stack's aws:region)")
    parser.add_argument("--endpoint-url", help="AWS API endpoint (an emulator); default: AWS's")
    parser.add_argument("--only", help=f"comma-separated checks to run (default: all: {','.join(CHECKS)})")
    parser.add_argument("--echo-path", default="/service2/smoke", help="path whose backend echoes X-Tenant-Id")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per HTTP request (default 10)")
    parser.add_argument("--log-wait", type=float, default=90.0, help="seconds to wait for the access-log line")
    parser.add_argument("--query-wait", type=float, default=60.0, help="seconds to wait for the saved queries")
    args = parser.parse_args(argv)

    only = CHECKS if not args.only else tuple(c.strip() for c in args.only.split(",") if c.strip())
    unknown = [c for c in only if c not in CHECKS]
    if unknown:
        print(f"error: unknown check(s) {', '.join(unknown)}: one of {', '.join(CHECKS)}", file=sys.stderr)
        return 2
    stack_file = args.stack_file or ROOT / f"Pulumi.{args.stack}.yaml"
    try:
        settings, region = settings_from_stack_file(stack_file)
        stack = stack_from(read_outputs(args.outputs, args.stack), settings, args.stack)
    except (OSError, ValueError, ConfigError, subprocess.TimeoutExpired) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    clients = None
    if {"api", "waf", "access-log", "saved-queries", "own-domains"} & set(only):
        import boto3

        clients = Clients(boto3.session.Session(region_name=args.region or region), args.endpoint_url)
    smoke = Smoke(
        stack,
        Http(args.base_url, args.timeout),
        clients,
        echo_path=args.echo_path,
        log_wait=args.log_wait,
        query_wait=args.query_wait,
    )
    results = smoke.run(only)
    for result in results:
        print(result.line(), flush=True)
    return 1 if any(r.outcome == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())


def expected_waf_rules(settings: Any, prefix: str) -> list[Any]:
    """The web ACL's rules as the program defines them for this stack's config (what `check_waf` expects)."""
    from components.waf import web_acl_rules
    from whitelabel.waf import waf_limits

    limits = waf_limits(settings)
    return web_acl_rules(settings.waf.mode == "block", limits.per_ip, limits.per_host, prefix)
