"""Contract-test fixtures: LocalStack from its own virtualenv, local stand-in backends, the program applied.

LocalStack runs as a child process in host mode (no Docker) for the whole session, bound to a free
port on 127.0.0.1, with its files in a temporary folder. Each test chooses a stack config (or a component
program): the real `__main__.py` runs for it under the mock engine, and `tools/applier.py` creates in the
emulator every resource it registered, from the registered inputs (`serve`). No test creates API Gateway,
Lambda or DynamoDB state itself. Everything listens on loopback only, and every wait is bounded.

The tenant authorizer runs for real: its function (the registered code archive) runs in LocalStack's
Lambda through the emulator site's local-process executor, LocalStack calls it through the emulator
site's authorizer step (an emulation of API Gateway's, see `emulator_site/lambda_authorizer.py`), and it
reads the tenant registry from moto's DynamoDB server on 127.0.0.1, holding the items the program registered.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `pytest` run without `python -m` does not put the repo root on the path
    sys.path.insert(0, str(REPO))

from tools.applier import Applied, Clients, Substitutions, apply  # noqa: E402
from whitelabel.api_definition import http_origin  # noqa: E402
from whitelabel.config import Settings, customer_entries, parse_settings, read_raw_config  # noqa: E402
from whitelabel.offline import (  # noqa: E402
    AwsMocks,
    Registered,
    StackRun,
    run_function,
    run_program,
    stack_file_config,
)

STACK_FILE = REPO / "Pulumi.dev.yaml"
STAGE = "dev"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}  # LocalStack accepts any
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
CLIENT_TIMEOUT_S = 35.0  # above the integration's 29 s ceiling, so the gateway answers before we give up
EMULATOR_SITE = Path(__file__).parent / "emulator_site"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "contract: drives real HTTP through the deployed API definition in LocalStack")


def dev_stack() -> tuple[Settings, str]:
    """The dev stack's validated settings and AWS region, read from its stack file like `pulumi up` would."""
    config = yaml.safe_load(STACK_FILE.read_text())["config"]
    flat = {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    return parse_settings(read_raw_config(flat)), config["aws:region"]


# The contract stack: the dev stack file plus the customers the tenant cases need (dev has one shared and
# one dedicated customer): a second shared customer on another tier, a customer with its own (validated)
# domain whose first label is not its name, a suspended one, and two on a pooled tier sharing its one key.
# Each applied config has its own `namePrefix`, so the names it gives (function, table) do not collide in the
# one emulator.
PROJECT = "whitelabel-gateway"
EXTRA_CUSTOMERS = [
    {"name": "initech", "tier": "gold"},
    {"name": "hooli", "customDomain": "api.hooli-portal.example", "customDomainValidated": True},
    {"name": "umbrella", "suspended": True},
    {"name": "wonka", "tier": "free"},
    {"name": "soylent", "tier": "free"},
]
TIERS = {
    "standard": {"rateLimit": 50, "burstLimit": 100},
    "gold": {"rateLimit": 200, "burstLimit": 400, "quota": {"limit": 100000, "period": "MONTH"}},
    "free": {"rateLimit": 20, "burstLimit": 40, "keyMode": "pooled", "poolKeys": 1},
}


def contract_config(
    extra: list[dict[str, Any]] | None = None,
    *,
    prefix: str = "contract",
    customers: list[dict[str, Any]] | None = None,
    **keys: Any,
) -> dict[str, Any]:
    """The contract stack's config, as a stack file holds it: the dev stack file with `EXTRA_CUSTOMERS` (or
    `customers`), `TIERS` and `namePrefix: <prefix>`.

    extra: more customers; keys: more project keys (`tlsPolicy="TLS_1_2"`).
    """
    config = stack_file_config(STAGE)
    listed = customer_entries(config[f"{PROJECT}:customers"]) + EXTRA_CUSTOMERS if customers is None else customers
    config[f"{PROJECT}:customers"] = [*listed, *(extra or [])]
    config[f"{PROJECT}:tiers"] = TIERS
    config[f"{PROJECT}:namePrefix"] = prefix
    for key, value in keys.items():
        config[f"{PROJECT}:{key}"] = value
    return config


def settings_of(config: Mapping[str, Any]) -> Settings:
    """The validated settings of a config (what the program reads), for a test's expectations."""
    flat = {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    return parse_settings(read_raw_config(flat))


def contract_stack(extra: list[dict[str, Any]] | None = None, **keys: Any) -> Settings:
    """The contract stack's validated settings (`contract_config`'s)."""
    return settings_of(contract_config(extra, **keys))


# The mutual-TLS contract stack: two dedicated customers, each with its own truststore and client-certificate
# issuer, on TLS_1_2 with the authorizer's decisions uncached (what the config requires with mutual TLS).
STARK_CA = "CN=Stark Client CA,O=Stark Industries,C=US"
WAYNE_CA = "CN=Wayne Client CA,O=Wayne Enterprises,C=US"
MTLS_CUSTOMERS = [
    {"name": "stark", "dedicatedDomain": True, "mtlsTruststore": "s3://trust/stark.pem", "mtlsIssuers": [STARK_CA]},
    {"name": "wayne", "dedicatedDomain": True, "mtlsTruststore": "s3://trust/wayne.pem", "mtlsIssuers": [WAYNE_CA]},
]


def mtls_contract_config() -> dict[str, Any]:
    """The contract stack plus `MTLS_CUSTOMERS`, `tlsPolicy: TLS_1_2`, `authorizer.cacheTtlSeconds: 0`."""
    return contract_config(MTLS_CUSTOMERS, prefix="mtls", tlsPolicy="TLS_1_2", authorizer={"cacheTtlSeconds": 0})


# --- LocalStack -------------------------------------------------------------------------------------


def localstack_python() -> Path:
    """LocalStack's own interpreter: `LOCALSTACK_PYTHON`, else `<repo>/.localstack-venv/bin/python`."""
    python = Path(os.environ.get("LOCALSTACK_PYTHON") or REPO / ".localstack-venv" / "bin" / "python")
    if not python.exists():
        pytest.fail(
            f"LocalStack's interpreter {python} does not exist. Create its virtualenv with "
            "`python3 -m venv .localstack-venv && .localstack-venv/bin/pip install -r requirements-localstack.txt` "
            "(or `make contract`), or point LOCALSTACK_PYTHON at a Python that has localstack-core 4.12.0.",
            pytrace=False,
        )
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else "(no log written)"
    return "\n".join(text.splitlines()[-lines:])


def wait_healthy(endpoint: str, process: subprocess.Popen[bytes], deadline: float) -> str | None:
    """Poll the health endpoint until apigateway, s3 and iam are up; return why not, or None when ready."""
    reason = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"LocalStack exited with code {process.returncode}"
        try:
            conn = http.client.HTTPConnection(endpoint.removeprefix("http://"), timeout=2)
            conn.request("GET", "/_localstack/health")
            services = json.loads(conn.getresponse().read())["services"]
            conn.close()
            if all(services.get(s) in ("available", "running") for s in ("apigateway", "s3", "iam", "sts", "lambda")):
                return None
            reason = f"services not ready: {services}"
        except (OSError, ValueError, KeyError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        time.sleep(0.25)
    return f"not healthy after {STARTUP_TIMEOUT_S:.0f} s ({reason})"


@dataclass(frozen=True)
class Emulator:
    """The running LocalStack: its endpoint, its process id and the file its output goes to."""

    endpoint: str
    pid: int
    log_path: Path


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """Start LocalStack for the session; stop it by its process id afterwards, then check its log.

    The log check runs after the process has stopped because LocalStack's shutdown hooks (its analytics
    publisher) are among the callers that try to go out; a failure here is reported by pytest as an error
    at teardown and fails the run.
    """
    python = localstack_python()
    _, region = dev_stack()
    root = tmp_path_factory.mktemp("localstack")
    log_path = root / "localstack.log"
    port = free_port()
    # A port bound but never listening, held for the session: a proxy there refuses every connection at
    # once, so a client that ignores the settings below fails visibly (a ProxyError in the log) instead of
    # reaching the network. NO_PROXY keeps the emulator's own loopback calls (stand-ins, itself) direct.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),  # its caches (plugin index, self-signed certificate) stay out of the user's home
        "FILESYSTEM_ROOT": str(root / "fs"),  # host-mode state and tmp: otherwise inside its virtualenv
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        # The default (twisted) server ignores the host of GATEWAY_LISTEN and binds 0.0.0.0;
        # hypercorn binds the address given, so nothing listens beyond loopback.
        "GATEWAY_SERVER": "hypercorn",
        "DNS_ADDRESS": "0",  # no DNS server (it would bind port 53 on all interfaces)
        "SERVICES": "apigateway,s3,iam,sts,lambda",
        # Lambda without Docker: the emulator site's executor runs each execution environment as a local
        # Python process on 127.0.0.1 (emulator_site/local_process_executor.py); nothing is downloaded.
        "LAMBDA_RUNTIME_EXECUTOR": "local-process",
        "LOCALSTACK_TELEMETRY_DISABLED": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        # Telemetry off does not stop its runtime events (sent to analytics.localstack.cloud); this does.
        "DISABLE_EVENTS": "1",
        # This sandbox has /.dockerenv, so LocalStack would believe it runs in Docker: it pings Docker
        # bridge addresses, ignores FILESYSTEM_ROOT and deletes /tmp/localstack on shutdown.
        "OVERRIDE_IN_DOCKER": "0",
        # Without credentials in its environment the boto3 clients inside it fall back to the EC2
        # instance-metadata service (169.254.169.254); LocalStack accepts any credentials.
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": region,
        **{name: closed_proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")},
        **{name: "127.0.0.1,localhost" for name in ("NO_PROXY", "no_proxy")},
        # sitecustomize: `*/*` binary media types and CONVERT_TO_TEXT as AWS does them, no S3 DNS probe
        "PYTHONPATH": str(EMULATOR_SITE),
    }
    endpoint = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(python), "-m", "localstack.runtime.main"],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        problem = wait_healthy(endpoint, process, time.monotonic() + STARTUP_TIMEOUT_S)
        if problem:
            pytest.fail(
                f"LocalStack could not start ({python} -m localstack.runtime.main on {endpoint}): {problem}.\n"
                f"Last lines of {log_path}:\n{tail(log_path)}",
                pytrace=False,
            )
        yield Emulator(endpoint, process.pid, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
        closed.close()
    fail_on_outbound_attempts(log_path)


@pytest.fixture(scope="session")
def localstack(emulator: Emulator) -> str:
    """LocalStack's endpoint URL (`http://127.0.0.1:<port>`)."""
    return emulator.endpoint


# --- Loopback only ----------------------------------------------------------------------------------

# Log lines that show an attempt to reach beyond loopback. Inside the emulator every outside call fails
# at once (the closed proxy; no route in a loopback-only namespace) and its callers log why.
OUTBOUND_SIGNS = re.compile(
    r"ProxyError|Unable to connect to proxy|Cannot connect to proxy"  # a client went for the guard proxy
    r"|NameResolutionError|Failed to resolve|name resolution|Name or service not known|gaierror"
    r"|getaddrinfo failed|nodename nor servname"  # a DNS lookup
    r"|Network is unreachable|No route to host"  # a connect beyond loopback (loopback-only namespace)
    r"|169\.254\.169\.254|fd00:ec2::254|instance metadata|IMDS"  # the EC2 metadata service
    r"|analytics\.localstack\.cloud|api\.localstack\.cloud",  # LocalStack's own hosts
    re.IGNORECASE,
)
# urllib3 names the host of a failed or retried connection as host='<name>'.
CONNECTION_HOST = re.compile(r"host='([^']+)'")


def is_loopback(host: str) -> bool:
    """True for `localhost` and addresses in 127.0.0.0/8 or ::1 (IPv4-mapped included)."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # any other name needs DNS, which is already beyond loopback
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def outbound_attempts(log: str) -> list[str]:
    """The lines of an emulator log that show an attempt to reach a host outside loopback."""
    return [
        line
        for line in log.splitlines()
        if OUTBOUND_SIGNS.search(line) or any(not is_loopback(host) for host in CONNECTION_HOST.findall(line))
    ]


def fail_on_outbound_attempts(log_path: Path) -> None:
    """Fail (pytest.fail) naming each line of the log at `log_path` that shows an outside attempt."""
    attempts = outbound_attempts(log_path.read_text(errors="replace"))
    if attempts:
        pytest.fail(
            f"the emulator tried to reach beyond loopback ({len(attempts)} line(s) of {log_path}):\n"
            + "\n".join(attempts),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def aws(localstack: str) -> Any:
    """A factory of boto3 clients pointed at LocalStack, with dummy credentials."""
    import boto3

    _, region = dev_stack()

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=localstack, region_name=region, **CREDENTIALS)

    return client


# --- Stand-in backends ------------------------------------------------------------------------------


@dataclass
class StandIn:
    """A local HTTP server that answers every request with a JSON echo of it and records it."""

    name: str
    server: ThreadingHTTPServer
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_stand_in(name: str) -> StandIn:
    stand_in: StandIn

    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _echo(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path, _, query = self.path.partition("?")
            record = {
                "backend": name,
                "method": self.command,
                "path": path,
                "query": query,
                "body_b64": base64.b64encode(body).decode(),
                "headers": [[k, v] for k, v in self.headers.items()],  # pairs: a repeated header shows twice
            }
            stand_in.received.append(record)
            payload = json.dumps(record).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        setattr(Echo, f"do_{method}", Echo._echo)  # http.server dispatches on `do_<METHOD>`
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    host = server.server_address[0]
    assert host == "127.0.0.1", f"stand-in {name} bound {host}, not loopback"
    server.daemon_threads = True
    stand_in = StandIn(name, server)
    threading.Thread(target=server.serve_forever, name=f"stand-in-{name}", daemon=True).start()
    return stand_in


@pytest.fixture(scope="session")
def backends() -> Iterator[dict[str, StandIn]]:
    """The stand-ins for service1 (ECS behind its ALB) and service2 (EC2 behind its ALB)."""
    started = {name: start_stand_in(name) for name in ("service1", "service2")}
    yield started
    for stand_in in started.values():
        stand_in.stop()


@pytest.fixture(autouse=True)
def _forget_requests(request: pytest.FixtureRequest) -> None:
    """Each test sees only the requests it caused."""
    if "backends" in request.fixturenames:
        for stand_in in request.getfixturevalue("backends").values():
            stand_in.received.clear()


# --- The tenant registry's server (moto's DynamoDB) -------------------------------------------------------


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """moto's DynamoDB server, in this process, on a free port of 127.0.0.1; stopped at the end."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    # Its werkzeug server logs each request at INFO, which would bury a failing test's own output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dynamodb(dynamodb_endpoint: str) -> Any:
    """A boto3 client of the registry's server (the applier puts the registered items there)."""
    import boto3

    _, region = dev_stack()
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=region, **CREDENTIALS)


# --- The program, applied ------------------------------------------------------------------------------


def stand_in_origins(stand_ins: Mapping[str, StandIn]) -> dict[str, str]:
    """Component name → the loopback origin of its stand-in (`Substitutions.origins`)."""
    return {name: http_origin("127.0.0.1", stand_in.port) for name, stand_in in stand_ins.items()}


def run_component(build: Callable[[], Any], stack: str = STAGE) -> StackRun:
    """Run `build` (a program that builds components) under the mock engine: what it registered."""
    _, region = dev_stack()
    mocks = AwsMocks(region)
    _, outputs = run_function(build, stack, {}, mocks)
    return StackRun(stack=stack, resources=mocks.registered, outputs=outputs)


@pytest.fixture(scope="session")
def serve(aws: Any, dynamodb: Any, dynamodb_endpoint: str, backends: dict[str, StandIn]) -> Callable[..., Applied]:
    """serve(config or run, **substitutions) → Applied: the program run for the `dev` stack on `config` (or a
    component run), and every resource it registered applied to the emulator (`tools/applier.py`).

    previous: that stack's last apply, for a later `pulumi up` of it; references: the applied stacks its
    StackReferences read (a shard's platform); after_step: called after each resource.

    By default service1 and service2 go to the session's stand-ins and the functions read moto's server; a
    keyword replaces that field of `Substitutions`.
    """
    clients = Clients(aws, dynamodb)

    def _serve(
        config: Mapping[str, Any] | StackRun,
        *,
        previous: Applied | None = None,
        references: tuple[Applied, ...] = (),
        after_step: Callable[[Registered], None] | None = None,
        **substitutions: Any,
    ) -> Applied:
        run = config if isinstance(config, StackRun) else run_program(STAGE, dict(config))
        fields = {"origins": stand_in_origins(backends), "registry_endpoint": dynamodb_endpoint, **substitutions}
        return apply(
            run, clients, Substitutions(**fields), previous=previous, references=references, after_step=after_step
        )

    return _serve


@pytest.fixture(scope="session")
def contract(serve: Callable[..., Applied]) -> Applied:
    """The contract stack (`contract_config()`) applied, its services at the session's stand-ins."""
    return serve(contract_config())


@pytest.fixture(scope="session")
def api(contract: Applied) -> str:
    """The contract stack's API id in the emulator."""
    return contract.api_id


@pytest.fixture(scope="session")
def documents(contract: Applied) -> list[tuple[str, Path, str]]:
    """(key, file, Content-Type) of every document the program uploads, as registered (and so applied)."""
    return [
        (str(r.inputs["key"]), REPO / r.inputs["source"]["fileAsset"], str(r.inputs["contentType"]))
        for r in contract.run.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    ]


@pytest.fixture(scope="session")
def api_with_backends_down(serve: Callable[..., Applied]) -> str:
    """The contract stack again (its own name prefix), its services at stand-ins that have been stopped."""
    stopped = {name: start_stand_in(name) for name in ("service1", "service2")}
    for stand_in in stopped.values():
        stand_in.stop()
    return serve(contract_config(prefix="down"), origins=stand_in_origins(stopped)).api_id


# --- The authorizer's decisions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Decisions:
    """The emulator's record of the authorizer step (`emulator_site/lambda_authorizer.py`).

    Each decision names the API, the identity (the Host value), the method ARN, whether the function
    was invoked (false: a cached decision) and the outcome (allow, deny, implicit-deny, unauthorized,
    function-error, invoke-failed, invalid-output, identity-missing).
    """

    endpoint: str

    def _request(self, method: str) -> list[dict[str, Any]]:
        conn = http.client.HTTPConnection(self.endpoint.removeprefix("http://"), timeout=10)
        try:
            conn.request(method, "/_emulator/authorizer/decisions")
            response = conn.getresponse()
            assert response.status == 200, response.status
            return json.loads(response.read())
        finally:
            conn.close()

    def all(self) -> list[dict[str, Any]]:
        return self._request("GET")

    def invoked(self, api_id: str, host: str | None = None) -> list[dict[str, Any]]:
        """The decisions on `api_id` (and `host`) for which the function really ran."""
        return [
            d for d in self.all() if d["invoked"] and d["apiId"] == api_id and (host is None or d["identity"] == [host])
        ]

    def reset(self) -> None:
        """Forget the decisions and empty the authorizer cache (as FlushStageAuthorizersCache would)."""
        self._request("DELETE")


@pytest.fixture(scope="session")
def decisions(localstack: str) -> Decisions:
    return Decisions(localstack)


# --- Calling it -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture(scope="session")
def call(localstack: str) -> Any:
    """call(api_id, method, path, host, body=None, headers=None) → Response, as a client of `host` would."""
    address = localstack.removeprefix("http://")

    def _call(
        api_id: str,
        method: str,
        path: str,
        host: str,
        body: bytes | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> Response:
        # Deployed, the client calls https://<host><path> through the wildcard custom domain. LocalStack
        # does not route custom domains by Host in this edition, so the request goes to the stage's
        # path-based URL; the Host header still sets context.domainName and context.domainPrefix.
        conn = http.client.HTTPConnection(address, timeout=CLIENT_TIMEOUT_S)
        started = time.monotonic()
        try:
            conn.request(
                method,
                f"/restapis/{api_id}/{STAGE}/_user_request_{path}",
                body=body,
                # Like curl's default; API Gateway picks binary passthrough from the Accept header.
                # A header given as None is left out (to call as a client that sends no Accept).
                headers={k: v for k, v in {"Host": host, "Accept": "*/*", **(headers or {})}.items() if v is not None},
            )
            response = conn.getresponse()
            return Response(response.status, response.headers, response.read(), time.monotonic() - started)
        finally:
            conn.close()

    return _call
