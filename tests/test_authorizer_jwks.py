"""The tenant authorizer's key sets against a stand-in issuer on 127.0.0.1: slow, down, rotating its keys.

The handler's own fetch (urllib, sockets) talks HTTP to a local server that serves a discovery document and a
key set, and can stall, drip, fail or go away. Cache ages run on a fake clock; the fetch's deadlines are real
time (they are what is being tested), so the slow cases take about a second in all.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.stand_in import send_json, serve_on_loopback
from whitelabel.function_bundle import locked_wheels

sys.path.insert(0, str(next(p for p in locked_wheels() if p.name.startswith("pyjwt-"))))
import jwt  # from the locked wheel, put on the path just above
from jwt.algorithms import RSAAlgorithm

from functions.tenant_authorizer import handler as authorizer

TABLE = "whitelabel-gateway-dev-tenants"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev/GET/service1/orders"
HOST = "acme.example.com"
AUDIENCE = "gateway-client"
KEY_1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_3 = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: Any, kid: str) -> dict[str, Any]:
    return {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "alg": "RS256", "use": "sig"}


class Issuer:
    """An OpenID issuer stand-in on 127.0.0.1; `mode`: ok, slow (never answers), drip (a header byte every
    50 ms, never done), late-body (the body 0.1 s after the headers), unavailable (503).

    Records each path asked for; `stop()` closes its port.
    """

    def __init__(self) -> None:
        issuer = self
        self.keys = [jwk(KEY_1, "rsa-1")]
        self.mode = "ok"
        self.paths: list[str] = []
        self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.paths.append(self.path)
                if issuer.mode == "slow":
                    issuer.release.wait(10)
                    return
                if issuer.mode == "drip":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
                    while not issuer.release.wait(0.05):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                    return
                if issuer.mode == "late-body":  # headers first, the body in a later segment
                    payload = json.dumps({"keys": issuer.keys}).encode()
                    self.wfile.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(payload)}\r\n\r\n".encode())
                    self.wfile.flush()
                    time.sleep(0.1)
                    self.wfile.write(payload)
                    return
                if issuer.mode == "unavailable":
                    self.send_error(503)
                    return
                documents = {
                    "/.well-known/openid-configuration": {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks.json"},
                    "/jwks.json": {"keys": issuer.keys},
                }
                found = documents.get(self.path)
                send_json(self, 200 if found else 404, found)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server, self.url = serve_on_loopback(Handler, "issuer-stand-in")

    def fetch_rounds(self) -> int:
        """How many times the handler started a fetch (each starts with the discovery document)."""
        return self.paths.count("/.well-known/openid-configuration")

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeDynamo:
    def __init__(self, issuer: str) -> None:
        self.item = {
            "hostname": {"S": HOST},
            "tenantId": {"S": "acme"},
            "tier": {"S": "standard"},
            "status": {"S": "active"},
            "apiKey": {"S": "acme-key-0123456789abcdefghij"},
            "authIssuer": {"S": issuer},
            "authAudiences": {"L": [{"S": AUDIENCE}]},
            "authTenantClaim": {"S": "custom:tenantId"},
        }

    def get_item(self, TableName: str, Key: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        return {"Item": self.item} if Key["hostname"]["S"] == HOST else {}


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    stand_in = Issuer()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def event(issuer: Issuer, key: Any = KEY_1, kid: str = "rsa-1") -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": issuer.url, "aud": AUDIENCE, "sub": "user-7", "custom:tenantId": "acme", "exp": now + 600}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
    headers = {"Host": HOST, "Authorization": f"Bearer {token}"}
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/service1/{proxy+}",
        "path": "/service1/orders",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": {"requestId": "req-1"},
    }


class Outcome:
    """One decision: 'allow', 'deny' (a Deny policy), 401 or 500 (what API Gateway answers), its log line, its time."""

    def __init__(self, answer: str, line: dict[str, Any], seconds: float) -> None:
        self.answer, self.line, self.seconds = answer, line, seconds


def decide(
    issuer: Issuer,
    keys: authorizer.KeySets,
    capsys: pytest.CaptureFixture[str],
    time_left: float = 5.0,
    **token: Any,
) -> Outcome:
    registry = authorizer.Registry(TABLE, FakeDynamo(issuer.url), ttl_seconds=0)
    request = event(issuer, **token)
    start = time.monotonic()
    try:
        policy = authorizer.decide(request, registry, keys=keys, time_left=lambda: time_left)
        answer = policy["policyDocument"]["Statement"][0]["Effect"].lower()
    except authorizer.UnauthorizedError:
        answer = "401"
    except authorizer.JwksUnavailableError:
        answer = "500"
    seconds = time.monotonic() - start
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    return Outcome(answer, line, seconds)


# -- slow: the fetch ends within the invocation's time, never later than FETCH_TIMEOUT_SECONDS ------------


def test_the_whole_fetch_is_bounded_by_the_existing_timeout() -> None:
    assert authorizer.FETCH_TIMEOUT_SECONDS == 1.5
    assert authorizer.KeySets().timeout_seconds == authorizer.FETCH_TIMEOUT_SECONDS


def test_a_slow_issuer_gets_only_the_time_the_invocation_has_left(
    issuer: Issuer, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    # A generous own timeout, so only the invocation's remaining time can end the wait.
    keys = authorizer.KeySets(clock=clock, timeout_seconds=30)
    issuer.mode = "slow"

    outcome = decide(issuer, keys, capsys, time_left=0.6)

    # 0.6 s left, 0.25 s kept to answer: the fetch gave up after 0.35 s, well before the invocation's end.
    assert outcome.answer == "500"
    assert 0.3 <= outcome.seconds < 0.6
    assert outcome.line.items() >= {"decision": "error", "status": 500, "reason": "jwks-unavailable"}.items()
    assert "TimeoutError" in outcome.line["error"] or "URLError" in outcome.line["error"]
    assert issuer.fetch_rounds() == 1


def test_the_entry_point_bounds_the_fetch_by_lambdas_remaining_time(
    issuer: Issuer, clock: Clock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class LambdaContext:  # the one method of Lambda's context object the handler reads
        def get_remaining_time_in_millis(self) -> int:
            return 600

    monkeypatch.setenv("USER_AUTH", "on")
    monkeypatch.setattr(authorizer, "_registry", authorizer.Registry(TABLE, FakeDynamo(issuer.url), ttl_seconds=0))
    monkeypatch.setattr(authorizer, "_key_sets", authorizer.KeySets(clock=clock, timeout_seconds=30))
    issuer.mode = "slow"

    start = time.monotonic()
    with pytest.raises(authorizer.JwksUnavailableError):
        authorizer.handler(event(issuer), LambdaContext())
    assert time.monotonic() - start < 0.6
    assert json.loads(capsys.readouterr().out)["reason"] == "jwks-unavailable"


def test_a_slow_issuer_is_given_at_most_the_fetch_timeout_however_long_the_invocation_has(
    issuer: Issuer, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = authorizer.KeySets(clock=clock, timeout_seconds=0.25)
    issuer.mode = "slow"

    outcome = decide(issuer, keys, capsys, time_left=30)

    assert outcome.answer == "500"
    assert 0.2 <= outcome.seconds < 1.0


def test_an_issuer_that_drips_bytes_is_cut_off_at_the_deadline(
    issuer: Issuer, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    # A byte every 50 ms keeps each socket read inside any per-read timeout: only a deadline on the whole ends it.
    keys = authorizer.KeySets(clock=clock, timeout_seconds=0.3)
    issuer.mode = "drip"

    outcome = decide(issuer, keys, capsys, time_left=30)

    assert outcome.answer == "500"
    assert outcome.seconds < 1.0


def test_a_body_that_arrives_after_the_headers_is_read_whole(issuer: Issuer) -> None:
    # urllib closes the connection's socket once the headers are in; the deadline socket must keep the body's
    # reader working (as socket.socket does), or every such response would fail.
    issuer.mode = "late-body"
    document = authorizer.fetch_json(issuer.url + "/jwks.json", time.monotonic() + 2)
    assert document == {"keys": issuer.keys}


def test_no_fetch_starts_when_the_invocation_has_no_time_left(
    issuer: Issuer, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = authorizer.KeySets(clock=clock)

    outcome = decide(issuer, keys, capsys, time_left=authorizer.FETCH_MARGIN_SECONDS)

    assert outcome.answer == "500" and outcome.line["reason"] == "jwks-unavailable"
    assert issuer.paths == []
    # Not the issuer's failure, so not remembered as one: the next request with time fetches at once.
    assert decide(issuer, keys, capsys).answer == "allow"


def test_while_a_slow_issuer_is_retried_only_one_request_waits_and_the_last_good_set_serves(
    issuer: Issuer, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = authorizer.KeySets(clock=clock, timeout_seconds=0.4)
    assert decide(issuer, keys, capsys).answer == "allow"
    clock.now += authorizer.JWKS_CACHE_SECONDS  # the set is due for a refresh
    issuer.mode = "slow"

    first = decide(issuer, keys, capsys)
    clock.now += 1
    second = decide(issuer, keys, capsys)

    assert (first.answer, second.answer) == ("allow", "allow")
    assert first.seconds >= 0.35  # this one waited for the refresh ...
    assert second.seconds < 0.2  # ... this one did not: the failure is remembered
    assert issuer.fetch_rounds() == 2
    assert first.line["jwks"] == second.line["jwks"] == "stale"
    assert first.line["decision"] == "allow" and "jwksError" in first.line


# -- down: the failure is remembered, the last good set used within its grace --------------------------------


def test_a_down_issuer_is_asked_at_most_once_per_failure_interval(
    issuer: Issuer, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = authorizer.KeySets(clock=clock)
    issuer.mode = "unavailable"

    answers = []
    for _ in range(20):
        answers.append(decide(issuer, keys, capsys).answer)
        clock.now += 1  # 20 requests over 20 s, inside JWKS_FAILURE_SECONDS
    assert answers == ["500"] * 20
    assert issuer.fetch_rounds() == 1

    clock.now += authorizer.JWKS_FAILURE_SECONDS
    decide(issuer, keys, capsys)
    assert issuer.fetch_rounds() == 2


def test_a_down_issuer_is_covered_by_the_last_good_set_for_the_grace_period_then_fails_closed(
    issuer: Issuer, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = authorizer.KeySets(clock=clock)
    assert decide(issuer, keys, capsys).answer == "allow"
    fetched = clock.now
    issuer.stop()  # its port is closed: connections are refused

    clock.now = fetched + authorizer.JWKS_CACHE_SECONDS + 1
    stale = decide(issuer, keys, capsys)
    assert stale.answer == "allow"
    assert stale.line.items() >= {"decision": "allow", "jwks": "stale"}.items()
    assert "ConnectionRefusedError" in stale.line["jwksError"] or "URLError" in stale.line["jwksError"]
    assert keys.fetches == 2

    clock.now += 10
    assert decide(issuer, keys, capsys).answer == "allow"
    assert keys.fetches == 2  # the failure is remembered: no new attempt

    # A token signed with a key the last good set lacks is still a 401, not an error.
    unknown = decide(issuer, keys, capsys, key=KEY_2, kid="rsa-2")
    assert (unknown.answer, unknown.line["reason"], unknown.line["decision"]) == ("401", "token-unknown-key", "deny")

    clock.now = fetched + authorizer.JWKS_CACHE_SECONDS + authorizer.JWKS_GRACE_SECONDS - 1
    assert decide(issuer, keys, capsys).answer == "allow"
    clock.now = fetched + authorizer.JWKS_CACHE_SECONDS + authorizer.JWKS_GRACE_SECONDS
    expired = decide(issuer, keys, capsys)
    assert expired.answer == "500"
    assert expired.line.items() >= {"decision": "error", "reason": "jwks-unavailable"}.items()


def test_the_grace_is_hours_and_the_failure_interval_seconds() -> None:
    assert authorizer.JWKS_GRACE_SECONDS == 6 * 3600
    assert authorizer.JWKS_FAILURE_SECONDS == 30
    assert authorizer.JWKS_REFETCH_SECONDS == 60


def test_a_recovered_issuer_is_used_again_and_the_stale_mark_goes(
    issuer: Issuer, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = authorizer.KeySets(clock=clock)
    decide(issuer, keys, capsys)
    clock.now += authorizer.JWKS_CACHE_SECONDS
    issuer.mode = "unavailable"
    assert decide(issuer, keys, capsys).line["jwks"] == "stale"

    issuer.mode = "ok"
    clock.now += authorizer.JWKS_FAILURE_SECONDS
    fresh = decide(issuer, keys, capsys)
    assert fresh.answer == "allow" and "jwks" not in fresh.line
    assert issuer.fetch_rounds() == 3


# -- rotating keys: a new kid is fetched for, at most once per JWKS_REFETCH_SECONDS ----------------------------


def test_a_rotated_key_is_fetched_for_at_most_once_per_refetch_interval(
    issuer: Issuer, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = authorizer.KeySets(clock=clock)
    assert decide(issuer, keys, capsys).answer == "allow"
    assert issuer.fetch_rounds() == 1

    # The issuer rotates: rsa-2 signs from now on, rsa-1 is withdrawn.
    issuer.keys = [jwk(KEY_2, "rsa-2")]
    clock.now += 10
    early = decide(issuer, keys, capsys, key=KEY_2, kid="rsa-2")
    assert (early.answer, early.line["reason"]) == ("401", "token-unknown-key")
    assert issuer.fetch_rounds() == 1  # inside the interval: the issuer is not asked

    clock.now += authorizer.JWKS_REFETCH_SECONDS
    assert decide(issuer, keys, capsys, key=KEY_2, kid="rsa-2").answer == "allow"
    assert issuer.fetch_rounds() == 2
    # The new set replaced the old one: the withdrawn key no longer verifies anything.
    assert decide(issuer, keys, capsys).line["reason"] == "token-unknown-key"

    # Another new kid at once (a second rotation, or a forged kid): no fetch until the interval has passed.
    for _ in range(5):
        assert decide(issuer, keys, capsys, key=KEY_3, kid="rsa-3").answer == "401"
    assert issuer.fetch_rounds() == 2
    issuer.keys.append(jwk(KEY_3, "rsa-3"))
    clock.now += authorizer.JWKS_REFETCH_SECONDS
    assert decide(issuer, keys, capsys, key=KEY_3, kid="rsa-3").answer == "allow"
    assert issuer.fetch_rounds() == 3


# -- the key-set cache's clock, without a server: a fetch that answers from memory and counts ------------------


ISSUER = "https://idp.example.com/pool-1"


class Documents:
    """The handler's fetch over an in-memory issuer: counts fetch rounds; `down` makes every fetch fail."""

    def __init__(self) -> None:
        self.rounds = 0
        self.down = False

    def __call__(self, url: str, deadline: float) -> Any:
        if self.down:
            raise authorizer.JwksUnavailableError(f"{url}: URLError")
        if url.endswith("/.well-known/openid-configuration"):
            self.rounds += 1
            return {"issuer": ISSUER, "jwks_uri": ISSUER + "/jwks.json"}
        return {"keys": [jwk(KEY_1, "rsa-1")]}


def test_by_default_a_key_set_is_used_for_one_hour(clock: Clock) -> None:
    documents = Documents()
    keys = authorizer.KeySets(fetch=documents, clock=clock)
    keys.key(ISSUER, "rsa-1")

    clock.now += 3599.5
    keys.key(ISSUER, "rsa-1")
    assert documents.rounds == 1
    clock.now += 0.5
    keys.key(ISSUER, "rsa-1")
    assert documents.rounds == 2


def test_a_failure_is_remembered_for_30_seconds_even_just_after_boot() -> None:
    # Lambda's monotonic clock starts near zero when its micro-VM boots: the interval is a difference of times.
    clock = Clock()
    clock.now = 1.5
    documents = Documents()
    documents.down = True
    keys = authorizer.KeySets(fetch=documents, clock=clock)
    with pytest.raises(authorizer.JwksUnavailableError):
        keys.key(ISSUER, "rsa-1")
    documents.down = False

    clock.now = 1.5 + 29.9
    with pytest.raises(authorizer.JwksUnavailableError):
        keys.key(ISSUER, "rsa-1")
    clock.now = 1.5 + 30
    assert keys.key(ISSUER, "rsa-1") is not None


def test_a_last_good_set_long_past_its_grace_is_not_used(clock: Clock) -> None:
    documents = Documents()
    keys = authorizer.KeySets(fetch=documents, clock=clock)
    keys.key(ISSUER, "rsa-1")
    documents.down = True

    clock.now += authorizer.JWKS_CACHE_SECONDS + authorizer.JWKS_GRACE_SECONDS + 3600

    with pytest.raises(authorizer.JwksUnavailableError):
        keys.key(ISSUER, "rsa-1")


def test_less_time_left_than_the_margin_starts_no_fetch(clock: Clock) -> None:
    documents = Documents()
    keys = authorizer.KeySets(fetch=documents, clock=clock)

    with pytest.raises(authorizer.JwksUnavailableError, match="no time left"):
        keys.key(ISSUER, "rsa-1", time_left=lambda: authorizer.FETCH_MARGIN_SECONDS / 2)

    assert documents.rounds == 0
    assert keys.refresh_error(ISSUER) is None  # not the issuer's failure


# -- the fetch's deadline and its socket ----------------------------------------------------------------------


def test_the_invocations_time_left_is_lambdas_milliseconds_in_seconds() -> None:
    class LambdaContext:
        def get_remaining_time_in_millis(self) -> int:
            return 800

    time_left = authorizer._time_left(LambdaContext())

    assert time_left is not None and time_left() == 0.8


def test_a_deadline_that_has_passed_or_is_now_leaves_no_time(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TimeoutError):
        authorizer._time_until(time.monotonic() - 0.5)
    with monkeypatch.context() as frozen:
        frozen.setattr(authorizer.time, "monotonic", lambda: 500.0)
        with pytest.raises(TimeoutError):
            authorizer._time_until(500.0)
        assert authorizer._time_until(500.25) == 0.25


class RecordingSocket:
    """The connected socket under a _DeadlineSocket: records timeouts and whether it was closed."""

    def __init__(self) -> None:
        self.closed = 0

    def settimeout(self, seconds: float) -> None:
        pass

    def close(self) -> None:
        self.closed += 1


def test_the_deadline_socket_closes_its_socket_when_no_reader_is_open() -> None:
    raw = RecordingSocket()

    authorizer._DeadlineSocket(raw, time.monotonic() + 5).close()

    assert raw.closed == 1


def test_a_reader_closed_before_its_owner_leaves_the_socket_to_the_owner() -> None:
    raw = RecordingSocket()
    sock = authorizer._DeadlineSocket(raw, time.monotonic() + 5)

    sock.makefile("rb").close()
    assert raw.closed == 0
    sock.close()
    assert raw.closed == 1


def test_the_deadline_socket_closes_only_once_its_owner_and_every_reader_have() -> None:
    # urllib closes the connection as soon as the headers are read, while the body's reader is still open.
    raw = RecordingSocket()
    sock = authorizer._DeadlineSocket(raw, time.monotonic() + 5)
    first, second = sock.makefile("rb"), sock.makefile("rb")

    first.close()
    assert raw.closed == 0  # the owner has not closed it yet
    sock.close()
    assert raw.closed == 0  # a reader is still open
    second.close()
    assert raw.closed == 1


def test_the_deadline_socket_sends_and_receives_as_a_socket_does() -> None:
    import socket

    left, right = socket.socketpair()
    with left, right:
        sock = authorizer._DeadlineSocket(left, time.monotonic() + 5)
        right.sendall(b"hello")
        buffer = bytearray(16)
        assert sock.recv_into(buffer) == 5 and bytes(buffer[:5]) == b"hello"
        right.sendall(b"again")
        assert sock.recv(16) == b"again"
        sock.sendall(b"back")
        assert right.recv(16) == b"back"
