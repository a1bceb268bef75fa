"""Loopback only: nothing the contract tests start tries to reach beyond 127.0.0.0/8.

Three checks, from cheap to hard:
- The emulator's log. Its site (`emulator_site/loopback_guard.py`) refuses every socket call and name
  lookup beyond loopback and writes a line for each; the `emulator` fixture reads the log after the
  process has stopped (its shutdown hooks are among the callers that go out) and fails the run on any
  such line, or on any proxy, name-resolution or metadata-service error. The tests below show that a
  line of each kind trips the check, that the site really refuses, and that a failed check fails a run.
- The sockets: every socket of this process and its descendants (LocalStack, its children, the
  stand-ins' threads) is bound to loopback and connected only to loopback, read from the kernel's tables.
- The kernel itself: `.ci/run` runs this suite again in a network namespace that has only loopback
  (`unshare -n`), so an attempt that the checks above missed fails at once.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import ipaddress
import os
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import urllib3

from .conftest import EMULATOR_SITE, REPO, Emulator, StandIn, is_loopback, localstack_python, outbound_attempts

pytestmark = pytest.mark.contract

# Lines as LocalStack 4.12 wrote them here before the emulator's environment was fixed.
ANALYTICS_AT_SHUTDOWN = (
    "2026-11-26T06:25:54.755  WARN --- [ime-Shutdown] localstack.utils.functions : [shutdown] error calling "
    "shutdown hook: MyHTTPSConnectionPool(host='analytics.localstack.cloud', port=443): Max retries exceeded "
    "with url: /v1/events (Caused by NameResolutionError(\"HTTPSConnection(host='analytics.localstack.cloud', "
    "port=443): Failed to resolve 'analytics.localstack.cloud' ([Errno -3] Temporary failure in name resolution)\"))"
)
GUARD_LINES = [
    # Without DISABLE_EVENTS / AWS credentials / the S3 host setting, with the site's guard in place.
    "loopback guard (emulator_site): refused lookup of analytics.localstack.cloud: no name resolution beyond loopback",
    "loopback guard (emulator_site): refused lookup of 169.254.169.254: no name resolution beyond loopback",
    "loopback guard (emulator_site): refused lookup of s3.localhost.localstack.cloud: no name resolution beyond "
    "loopback",
    "loopback guard (emulator_site): refused connect 10.255.255.53:53: Network is unreachable",
]
# botocore's own wording when it retries the instance-metadata service (debug level, botocore/utils.py).
METADATA_RETRY = (
    "DEBUG --- [   asgi_gw_0] botocore.utils : Caught retryable HTTP exception while making metadata service "
    "request to http://169.254.169.254/latest/api/token: Connect timeout on endpoint URL"
)
CLEAN_LINES = [
    "2026-11-26T06:25:42.785  INFO --- [  MainThread] hypercorn.error            : Running on https://127.0.0.1:53811 "
    "(CTRL + C to quit)",
    "2026-11-26T06:25:42.397  WARN --- [  MainThread] localstack.dns.plugins     : Unable to start DNS: cannot import "
    "name 'snicaddr' from 'psutil._common'",
    "2026-11-26T06:25:49.522  WARN --- [   asgi_gw_0] localstack.deprecations    : /restapis/<api_id>/<stage>/"
    "_user_request_ is deprecated (since 3.8.0)",
    "2026-11-26T06:25:54.489  INFO --- [   asgi_gw_1] l.s.a.n.e.h.gateway_except : Error raised during invocation: "
    "API_CONFIGURATION_ERROR",
    # A stopped stand-in: refused on loopback is the expected outcome of the backend-down cases.
    "HTTPConnectionPool(host='127.0.0.1', port=40123): Max retries exceeded with url: /orders/7 "
    "(Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))",
    "LocalStack version: 4.12.0",
    "Ready.",
]


# --- The log check ----------------------------------------------------------------------------------


@pytest.mark.parametrize("line", [ANALYTICS_AT_SHUTDOWN, METADATA_RETRY, *GUARD_LINES])
def test_an_outside_attempt_in_the_log_is_caught(line):
    log = "\n".join([*CLEAN_LINES, line, *CLEAN_LINES])

    assert outbound_attempts(log) == [line]


def test_a_client_sent_to_the_guard_proxy_leaves_a_line_the_check_catches():
    # The emulator's HTTP(S)_PROXY is a loopback port that is bound but never listens, as here: a client
    # that ignores NO_PROXY fails at the proxy, before any name lookup, and its caller logs the error.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        proxy = urllib3.ProxyManager(f"http://127.0.0.1:{closed.getsockname()[1]}")
        with pytest.raises(urllib3.exceptions.MaxRetryError) as failure:
            proxy.request("GET", "https://analytics.localstack.cloud/v1/events", retries=0)
    line = (
        f"WARN --- [ime-Shutdown] localstack.utils.functions : [shutdown] error calling shutdown hook: {failure.value}"
    )

    assert "ProxyError" in line
    assert outbound_attempts(line) == [line]


def test_the_emulators_ordinary_lines_pass():
    assert outbound_attempts("\n".join(CLEAN_LINES)) == []


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("localhost", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("169.254.169.254", False),
        ("10.255.255.53", False),
        ("0.0.0.0", False),
        ("localhost.localstack.cloud", False),  # a name: it needs DNS
    ],
)
def test_loopback_means_127_slash_8_and_colon_colon_1(host, loopback):
    assert is_loopback(host) is loopback


GUARD_PROGRAM = """
import socket, sys
import loopback_guard

def sentinel(event, args):  # added after the guard: it sees only what the guard let through
    if event in ("socket.connect", "socket.bind", "socket.getaddrinfo"):
        target = args[0] if event == "socket.getaddrinfo" else args[1][0]
        if target not in ("127.0.0.1", "localhost", "") and args[1] != ("0.0.0.0", 0):
            raise RuntimeError(f"the guard let {event} {target} through")

sys.addaudithook(sentinel)
calls = {
    "lookup analytics.localstack.cloud": lambda: socket.getaddrinfo("analytics.localstack.cloud", 443),
    "connect 169.254.169.254:80": lambda: socket.socket().connect(("169.254.169.254", 80)),
    "bind 0.0.0.0:8080": lambda: socket.socket().bind(("0.0.0.0", 8080)),
    "connect [::ffff:10.0.0.1]:443": lambda: socket.socket(socket.AF_INET6).connect(("::ffff:10.0.0.1", 443)),
    "lookup localhost": lambda: socket.getaddrinfo("localhost", 80),
    "bind 0.0.0.0:0": lambda: socket.socket().bind(("0.0.0.0", 0)),
    "bind 127.0.0.1:0": lambda: socket.socket().bind(("127.0.0.1", 0)),
}
for name, call in calls.items():
    try:
        call()
        print(name, "allowed")
    except OSError as exc:
        print(name, type(exc).__name__, exc.errno)
"""


def test_the_emulator_site_guard_refuses_outside_calls_before_they_happen():
    # The guard module alone (-S: without the rest of the site) in LocalStack's interpreter. A second
    # audit hook, added after the guard, raises a sentinel for any outside call the guard let through,
    # so even a broken guard makes no attempt.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(EMULATOR_SITE)}

    done = subprocess.run(
        [str(localstack_python()), "-S", "-c", GUARD_PROGRAM],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    unreachable, no_name = f"OSError {errno.ENETUNREACH}", f"gaierror {socket.EAI_NONAME}"
    assert done.stdout.splitlines() == [
        f"lookup analytics.localstack.cloud {no_name}",
        f"connect 169.254.169.254:80 {unreachable}",
        f"bind 0.0.0.0:8080 {unreachable}",
        f"connect [::ffff:10.0.0.1]:443 {unreachable}",
        "lookup localhost allowed",
        "bind 0.0.0.0:0 allowed",  # how LocalStack picks a free port (the socket test covers listeners)
        "bind 127.0.0.1:0 allowed",
    ]
    guard_lines = done.stderr.splitlines()
    assert len(guard_lines) == 4
    assert outbound_attempts(done.stderr) == guard_lines  # each refusal leaves a line the log check catches


def test_the_emulator_site_installs_the_guard_before_anything_else():
    site = ast.parse((EMULATOR_SITE / "sitecustomize.py").read_text())
    imports = [node for node in site.body if isinstance(node, ast.Import | ast.ImportFrom)]

    assert isinstance(imports[0], ast.Import)
    assert [alias.name for alias in imports[0].names] == ["loopback_guard"]


FAKE_LOCALSTACK = """
import json, os, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

host, port = os.environ["GATEWAY_LISTEN"].split(":")
services = {name: "running" for name in os.environ["SERVICES"].split(",")}

class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"services": services}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

def stop(signum, frame):
    # Like LocalStack's shutdown hooks: the line is written only as the process stops.
    print(os.environ["FAKE_SHUTDOWN_LINE"], flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
print("Ready.", flush=True)
HTTPServer((host, int(port)), Health).serve_forever()
"""


@pytest.mark.parametrize(("shutdown_line", "fails"), [(ANALYTICS_AT_SHUTDOWN, True), ("Stopping all services", False)])
def test_an_outside_attempt_at_emulator_shutdown_fails_the_pytest_run(tmp_path, shutdown_line, fails):
    # The real `emulator` fixture (the contract conftest, loaded as a plugin) around a stand-in for
    # LocalStack that writes `shutdown_line` when it is stopped; a plain test uses it.
    fake = tmp_path / "fake_localstack.py"
    fake.write_text(FAKE_LOCALSTACK)
    interpreter = tmp_path / "python"
    # The fixture gives LocalStack only its own environment, so the line is set in the launcher.
    launcher = f"export FAKE_SHUTDOWN_LINE={shlex.quote(shutdown_line)}\nexec {shlex.quote(sys.executable)} {fake}"
    interpreter.write_text(f"#!/bin/sh\n{launcher}\n")
    interpreter.chmod(0o755)
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(
        "def test_uses_the_emulator(localstack):\n    assert localstack.startswith('http://127.0.0.1:')\n"
    )
    env = {**os.environ, "LOCALSTACK_PYTHON": str(interpreter)}
    command = [sys.executable, "-m", "pytest", "-p", "tests.contract.conftest", "-p", "no:cacheprovider", "-q"]

    done = subprocess.run(
        [*command, "--rootdir", str(tmp_path), "--basetemp", str(tmp_path / "base"), str(test_file)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    if fails:
        assert done.returncode == 1, done.stdout
        assert "1 passed, 1 error" in done.stdout
        assert "ERROR at teardown of test_uses_the_emulator" in done.stdout
        assert "the emulator tried to reach beyond loopback" in done.stdout
        assert "analytics.localstack.cloud" in done.stdout
    else:
        assert done.returncode == 0, done.stdout
        assert "1 passed" in done.stdout


# --- The real emulator, mid-run ---------------------------------------------------------------------


def test_the_emulator_log_shows_no_outside_attempt_so_far(emulator: Emulator, api, documents, call):
    # The fixture checks the whole log once the emulator has stopped; this shows start-up and the calls
    # above are clean on their own, with the emulator still running.
    call(api, "GET", "/docs", "acme.dev.example.com")
    call(api, "GET", "/service1/orders", "acme.dev.example.com")

    assert outbound_attempts(emulator.log_path.read_text(errors="replace")) == []


# --- Sockets, as the kernel sees them ---------------------------------------------------------------


@dataclass(frozen=True)
class InetSocket:
    pid: int
    proto: str
    local: tuple[str, int]
    remote: tuple[str, int]
    listening: bool


def proc_address(field: str) -> tuple[str, int]:
    """`0100007F:1F90` → ('127.0.0.1', 8080): /proc/net/tcp gives host-order 32-bit words in hex, then the port."""
    hex_address, hex_port = field.split(":")
    raw = b"".join(bytes.fromhex(hex_address[i : i + 8])[::-1] for i in range(0, len(hex_address), 8))
    return str(ipaddress.ip_address(raw)), int(hex_port, 16)


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (LocalStack is a child of this process; its helpers are its own)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):  # the task ended meanwhile
                queue.extend(int(child) for child in (task / "children").read_text().split())
    return found


def inet_sockets(pid: int) -> list[InetSocket]:
    """The TCP and UDP sockets (IPv4 and IPv6) that process `pid` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    sockets = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                listening = proto.startswith("tcp") and fields[3] == "0A"  # TCP_LISTEN
                sockets.append(InetSocket(pid, proto, proc_address(fields[1]), proc_address(fields[2]), listening))
    return sockets


def beyond_loopback(sock: InetSocket) -> bool:
    (local_host, local_port), (remote_host, remote_port) = sock.local, sock.remote
    unspecified = {"0.0.0.0", "::"}
    local_ok = is_loopback(local_host) or (local_host in unspecified and local_port == 0)
    remote_ok = is_loopback(remote_host) or (remote_host in unspecified and remote_port == 0)
    return not (local_ok and remote_ok)


@pytest.mark.parametrize(
    ("local", "remote", "beyond"),
    [
        ("0100007F:1F90", "00000000:0000", False),  # listening on 127.0.0.1:8080
        ("0100007F:A1B2", "0100007F:1F90", False),  # connected on loopback
        ("00000000000000000000000001000000:1F90", "00000000000000000000000000000000:0000", False),  # [::1]:8080
        ("00000000:0000", "00000000:0000", False),  # a fresh socket, not bound yet
        ("00000000:1F90", "00000000:0000", True),  # listening on every interface
        ("00000000000000000000000000000000:1F90", "00000000000000000000000000000000:0000", True),  # [::]:8080
        ("0F02000A:C350", "FEA9FEA9:0050", True),  # 10.0.2.15 → 169.254.169.254:80
        ("0100007F:C350", "35FFFF0A:0035", True),  # to the resolver 10.255.255.53:53
    ],
)
def test_a_socket_beyond_loopback_is_told_apart(local, remote, beyond):
    sock = InetSocket(1, "tcp", proc_address(local), proc_address(remote), listening=False)

    assert beyond_loopback(sock) is beyond


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="reads Linux's /proc socket tables")
def test_every_socket_of_every_test_process_is_on_loopback(
    emulator: Emulator, backends: dict[str, StandIn], api, api_with_backends_down, call
):
    call(api, "GET", "/service2/orders", "acme.dev.example.com")  # open connections as the suite does
    processes = descendants(os.getpid())
    sockets = [sock for pid in processes for sock in inet_sockets(pid)]

    assert emulator.pid in processes
    listening = {(sock.pid, sock.local[1]) for sock in sockets if sock.listening}
    emulator_port = int(emulator.endpoint.rsplit(":", 1)[1])
    assert (emulator.pid, emulator_port) in listening  # the check sees the emulator's listener …
    assert {(os.getpid(), s.port) for s in backends.values()} <= listening  # … and the stand-ins'
    assert [sock for sock in sockets if beyond_loopback(sock)] == []
