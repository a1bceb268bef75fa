"""Tenant authorizer: decides which tenant, if any, a request's Host belongs to.

API Gateway calls it (REQUEST authorizer, identity source the Host header) before every method. It
normalises the host, reads the tenant registry (DynamoDB, key `hostname`) and answers:

- known and active → Allow on the whole stage (`<api arn>/<stage>/*/*`, because API Gateway caches one
  policy per host and reuses it for every path), principal and context = the tenant, `usageIdentifierKey`
  = the tenant's API key (so the tenant's usage plan meters it);
- unknown, malformed or not servable → Deny (403), context `reason` = `unknown-host`;
- suspended → Deny (403), context `reason` = `suspended`;
- a host whose item requires mutual TLS (`mtlsIssuers`) without a client certificate that customer's
  truststore issued (none, another issuer or subject, outside its validity) → Deny (403) exactly as an
  unknown host, the precise reason in the log line only (a decision that depends on the certificate must
  not be cached per Host by API Gateway: the config requires `authorizer.cacheTtlSeconds: 0` then);
- the registry errs or cannot be reached → the exception propagates (API Gateway answers 500): fail closed.

Each decision is one JSON log line; `decision` is "error" only when the function itself could not decide
(see DECISION_ERROR), never for a refusal a client caused.

Why here and not from the host's first label: a prefix is neither unique (own domains) nor unforgeable.
Plain Python with boto3 only (it is in the Lambda runtime); nothing from Pulumi or the program.
Environment: `TENANT_TABLE` (required), `REGISTRY_CACHE_SECONDS` (default 30, 0 disables the cache).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

# -- host normalisation --------------------------------------------------------------------------

# RFC 1035 / RFC 1123 host names: letters, digits and inner hyphens, labels of 1 to 63 characters,
# 253 characters in all (without the root dot).
MAX_HOST_LENGTH = 253
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT = re.compile(r":[0-9]{1,5}")
# Anything longer than this is refused before any other work (a host, a port and a dot fit well within).
_MAX_RAW_LENGTH = MAX_HOST_LENGTH + 8


def normalise_host(raw: object) -> str | None:
    """The registry key for a Host header value, or None when it is not a plain DNS host name.

    Lowercase, without a port and without one trailing dot. Refused: empty, non-ASCII (an IDN must
    arrive as its xn-- form, and that form must decode), userinfo, paths, spaces, IP literals (v4 and
    v6), labels over 63 characters, names over 253. Refusing here keeps junk out of the cache and
    out of DynamoDB (whose key-size and validation errors would otherwise become 500s on demand).
    """
    if not isinstance(raw, str) or not raw or len(raw) > _MAX_RAW_LENGTH or not raw.isascii():
        return None
    host = raw.lower()
    colon = host.rfind(":")
    if colon != -1:
        port = host[colon:]
        if not _PORT.fullmatch(port) or not 0 < int(port[1:]) <= 65535:
            return None  # IPv6 literals (`[::1]`, `::1`) and userinfo land here or fail below
        host = host[:colon]
    if host.endswith("."):
        host = host[:-1]
    if not host or len(host) > MAX_HOST_LENGTH:
        return None
    labels = host.split(".")
    if len(labels) < 2:
        return None  # a registry hostname is always <name>.<domain>
    for label in labels:
        if not _LABEL.fullmatch(label):
            return None
        if label.startswith("xn--") and not _is_punycode(label[4:]):
            return None
    if labels[-1].isdigit():
        return None  # no top-level domain is all digits (RFC 3696 §2): this is an IPv4 literal
    return host


def _is_punycode(encoded: str) -> bool:
    try:
        decoded = encoded.encode("ascii").decode("punycode")
    except UnicodeError:
        return False
    # An A-label must stand for a real U-label: not empty, not plain ASCII, no control characters.
    return bool(decoded) and not decoded.isascii() and decoded.isprintable()


def host_header(event: Mapping[str, Any]) -> str | None:
    """The request's Host header value (header names are case-insensitive), or None if absent.

    The REQUEST authorizer event carries `headers` (one value per name) and `multiValueHeaders`
    (every value); two different Host values make the request ambiguous, and ambiguity is refused.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
    """
    return single_header(event, "host")


def single_header(event: Mapping[str, Any], wanted: str) -> str | None:
    """The one value of header `wanted` (lowercase; names are case-insensitive) across `headers` and
    `multiValueHeaders`; None when absent, not text, or given two different values (ambiguity is refused)."""
    values: set[str] = set()
    for field in ("headers", "multiValueHeaders"):
        headers = event.get(field)
        if not isinstance(headers, Mapping):
            continue
        for name, value in headers.items():
            if isinstance(name, str) and name.lower() == wanted:
                for one in value if field == "multiValueHeaders" and isinstance(value, list) else [value]:
                    if not isinstance(one, str):
                        return None
                    values.add(one)
    return values.pop() if len(values) == 1 else None


def stage_resource(method_arn: object) -> str:
    """`<arn up to the API id>/<stage>/*/*` from the methodArn API Gateway sends.

    The method ARN is `arn:<partition>:execute-api:<region>:<account>:<api id>/<stage>/<verb>/<path>`;
    a policy for `<stage>/*/*` covers every verb and path, which is what a policy cached per host needs.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
    """
    if not isinstance(method_arn, str):
        raise ValueError("the event has no methodArn")
    api, _, rest = method_arn.partition("/")
    stage = rest.partition("/")[0]
    fields = api.split(":")
    if len(fields) != 6 or fields[0] != "arn" or fields[2] != "execute-api" or not fields[5] or not stage:
        raise ValueError(f"not an execute-api method ARN: {method_arn[:200]!r}")
    return f"{api}/{stage}/*/*"


# -- the registry and its cache ------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    """One registry item: the tenant served at a hostname."""

    hostname: str
    tenant_id: str
    tier: str
    status: str  # "active" or "suspended"
    api_key: str
    # Mutual TLS: empty for a customer without a truststore; else the issuer DNs (and, when given, the
    # subject DNs) a request's client certificate must have.
    mtls_issuers: tuple[str, ...] = ()
    mtls_subjects: tuple[str, ...] = ()
    # End-user authentication: None for a customer without it; else the token issuer (https URL), the
    # accepted audiences and the claim that must equal tenant_id (None: the issuer alone names the tenant).
    auth_issuer: str | None = None
    auth_audiences: tuple[str, ...] = ()
    auth_tenant_claim: str | None = None

    def __repr__(self) -> str:  # the API key must never reach a log line through a repr
        return f"Tenant({self.hostname!r}, {self.tenant_id!r}, {self.tier!r}, {self.status!r})"


class InvalidItemError(Exception):
    """A registry item that does not have the contract's shape (a deployment defect, not a tenant)."""


_STATUSES = ("active", "suspended")


def parse_item(hostname: str, item: Mapping[str, Any]) -> Tenant:
    """A low-level GetItem `Item` (DynamoDB JSON) as a Tenant; InvalidItemError when a field is missing or wrong."""

    def text(name: str) -> str:
        value = item.get(name)
        if not isinstance(value, Mapping) or not isinstance(value.get("S"), str) or not value["S"]:
            raise InvalidItemError(f"{name} is not a non-empty string")
        return str(value["S"])

    def names(name: str) -> tuple[str, ...]:
        # Absent: no requirement. Present: a non-empty list of non-empty strings, or the item is invalid
        # (denied): a malformed requirement must never read as "no requirement".
        if name not in item:
            return ()
        value = item[name]
        listed = value.get("L") if isinstance(value, Mapping) else None
        if not isinstance(listed, list) or not listed:
            raise InvalidItemError(f"{name} is not a non-empty list")
        found = []
        for entry in listed:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("S"), str) or not entry["S"]:
                raise InvalidItemError(f"{name} holds something other than non-empty strings")
            found.append(str(entry["S"]))
        return tuple(found)

    tenant = Tenant(text("hostname"), text("tenantId"), text("tier"), text("status"), "")
    if tenant.hostname != hostname:
        raise InvalidItemError("hostname does not match the key it was read under")
    if tenant.status not in _STATUSES:
        raise InvalidItemError(f"status {tenant.status[:32]!r} is neither active nor suspended")
    # A suspended tenant's key is never used; an active one without a key cannot be metered.
    api_key = text("apiKey") if tenant.status == "active" else ""
    issuers = names("mtlsIssuers")
    subjects = names("mtlsSubjects")
    if subjects and not issuers:
        raise InvalidItemError("mtlsSubjects is set without mtlsIssuers")
    auth_issuer = text("authIssuer") if "authIssuer" in item else None
    audiences = names("authAudiences")
    claim = text("authTenantClaim") if "authTenantClaim" in item else None
    if auth_issuer is None and (audiences or claim is not None):
        raise InvalidItemError("authAudiences or authTenantClaim is set without authIssuer")
    if auth_issuer is not None and not audiences:
        raise InvalidItemError("authIssuer is set without authAudiences")
    return Tenant(
        tenant.hostname,
        tenant.tenant_id,
        tenant.tier,
        tenant.status,
        api_key,
        issuers,
        subjects,
        auth_issuer,
        audiences,
        claim,
    )


@dataclass(frozen=True)
class Lookup:
    """What the registry said about a hostname: a tenant, None (no item), or an invalid item."""

    tenant: Tenant | None
    cache_hit: bool
    invalid: str | None = None


class Registry:
    """GetItem on the tenant table with a small in-process cache of recent answers.

    Found and not-found answers are cached for `ttl_seconds` (0: no cache), at most `max_entries` of
    them (the oldest is evicted first). Errors and invalid items are never cached: the next request
    asks again. `clock` is injectable for tests (seconds, monotonic).
    """

    def __init__(
        self,
        table: str,
        client: Any,
        ttl_seconds: float = 30,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.table = table
        self.client = client
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, Tenant | None]] = OrderedDict()

    def lookup(self, hostname: str) -> Lookup:
        now = self.clock()
        cached = self._cache.get(hostname)
        if cached is not None:
            expires, tenant = cached
            if now < expires:
                return Lookup(tenant, cache_hit=True)
            del self._cache[hostname]
        # Eventually consistent read: a change reaches readers within about a second, far inside
        # the caches' TTLs. No Item in the answer means no such key.
        # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html
        answer = self.client.get_item(TableName=self.table, Key={"hostname": {"S": hostname}})
        item = answer.get("Item")
        try:
            tenant = None if item is None else parse_item(hostname, item)
        except InvalidItemError as error:
            return Lookup(None, cache_hit=False, invalid=str(error))
        if self.ttl_seconds > 0:
            while len(self._cache) >= self.max_entries:
                self._cache.popitem(last=False)
            self._cache[hostname] = (now + self.ttl_seconds, tenant)
        return Lookup(tenant, cache_hit=False)


def new_client() -> Any:
    """A low-level DynamoDB client that gives up quickly, so an outage fails closed in seconds.

    Standard retry mode, two attempts in all, 0.5 s to connect and 1 s to read each (an in-region
    GetItem takes milliseconds): at worst about 4 s with the backoff, inside the function's 5 s timeout,
    so the error is ours (logged) rather than a timeout. boto3 honours AWS_ENDPOINT_URL_DYNAMODB, which
    the contract tests use.
    https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
    https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html
    """
    config = Config(connect_timeout=0.5, read_timeout=1, retries={"mode": "standard", "total_max_attempts": 2})
    return boto3.client("dynamodb", config=config)


_registry: Registry | None = None


def registry() -> Registry:
    """The container's registry, built from the environment on first use and kept for its life."""
    global _registry
    if _registry is None:
        _registry = Registry(
            table=os.environ["TENANT_TABLE"],
            client=new_client(),
            ttl_seconds=float(os.environ.get("REGISTRY_CACHE_SECONDS", "30")),
        )
    return _registry


# -- mutual TLS ----------------------------------------------------------------------------------

# With a truststore on a custom domain, API Gateway validates the client certificate in the handshake
# and forwards it to Lambda authorizers as `requestContext.identity.clientCert` (`clientCertPem`,
# `subjectDN`, `issuerDN`, `serialNumber`, `validity.notBefore`/`notAfter`); a request that came in
# through a domain without a truststore has none.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mutual-tls.html
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
# Nothing ties the handshake's domain to the Host header on a TLS_1_2 stack (no endpoint access mode),
# so the Host alone proves nothing: a client could shake hands on another domain (with no certificate,
# or with a certificate another customer's truststore accepts) and name this customer's host.
_MONTHS = {
    m: i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])
}
# OpenSSL's notBefore/notAfter form, which AWS's example shows: "May 28 12:30:02 2019 GMT" (the day may be
# padded with a space: "Aug  5 09:36:04 2021 GMT").
_CERT_TIME = re.compile(r"([A-Z][a-z]{2}) +([0-9]{1,2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([0-9]{4}) GMT")


# How much of a certificate's issuer or subject DN a log line carries.
_DN_LOG_CHARS = 2048


def certificate_time(text: object) -> float | None:
    """Seconds since the epoch of a certificate validity time as API Gateway writes it, None if unreadable."""
    if not isinstance(text, str):
        return None
    match = _CERT_TIME.fullmatch(text.strip())
    if match is None or match[1] not in _MONTHS:
        return None
    day, hour, minute, second, year = (int(match[i]) for i in (2, 3, 4, 5, 6))
    try:  # datetime refuses a day or an hour that does not exist (Feb 30, 24:00:00)
        return datetime(year, _MONTHS[match[1]] + 1, day, hour, minute, second, tzinfo=UTC).timestamp()
    except (ValueError, OverflowError):
        return None


def client_certificate(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """`requestContext.identity.clientCert` of the event, or None when the handshake presented none."""
    request_context = event.get("requestContext")
    identity = request_context.get("identity") if isinstance(request_context, Mapping) else None
    cert = identity.get("clientCert") if isinstance(identity, Mapping) else None
    return cert if isinstance(cert, Mapping) else None


def certificate_refusal(tenant: Tenant, cert: Mapping[str, Any] | None, now: float) -> str | None:
    """Why the request's client certificate does not admit it to `tenant` (a log reason), or None if it does.

    A tenant without `mtls_issuers` needs no certificate. Otherwise the certificate must be present, its
    issuerDN one of the tenant's issuers (an exact match, as API Gateway formats it), its subjectDN one of
    the tenant's subjects when any are listed, and `now` inside its validity.
    """
    if not tenant.mtls_issuers:
        return None
    if cert is None:
        return "mtls-no-certificate"
    if cert.get("issuerDN") not in tenant.mtls_issuers:
        return "mtls-issuer-not-accepted"
    if tenant.mtls_subjects and cert.get("subjectDN") not in tenant.mtls_subjects:
        return "mtls-subject-not-accepted"
    validity = cert.get("validity")
    not_before = certificate_time(validity.get("notBefore")) if isinstance(validity, Mapping) else None
    not_after = certificate_time(validity.get("notAfter")) if isinstance(validity, Mapping) else None
    if not_before is None or not_after is None or not not_before <= now <= not_after:
        return "mtls-certificate-not-valid-now"
    return None


# -- end-user tokens -----------------------------------------------------------------------------

# Asymmetric algorithms only: the JWKS holds public keys, and a token naming `none` or an HMAC algorithm
# (HS256 "signed" with the public key as the secret) is refused before any key is looked at.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")
# Clock skew allowed on exp and nbf (and iat) between the issuer and Lambda.
LEEWAY_SECONDS = 60
# How long a fetched key set is used before it is fetched again, and the least time between two fetches
# for one issuer (an unknown kid triggers a refetch, which a flood of forged kids must not turn into a
# flood of requests to the issuer).
JWKS_CACHE_SECONDS = 3600
JWKS_REFETCH_SECONDS = 60
# When a refresh fails, the last good key set stays in use this long past its hour. An outage of the issuer's
# key endpoint then costs nothing to users whose tokens it signed with a key we already hold (it is the same
# key set it published an hour ago), for as long as a regional outage has lasted in practice (hours); six hours
# also bounds how long a key the issuer withdrew in the meantime stays trusted (at most 7 hours after the last
# good fetch, against 1 hour normally). An instance that never held a good set has nothing to fall back on:
# its requests fail closed (500).
JWKS_GRACE_SECONDS = 6 * 3600
# After a failed fetch, the issuer is not asked again for this long (per issuer, per function instance): a down
# or slow issuer costs one fetch per instance per 30 s, not one per request, and only that one request waits
# for the fetch's timeout; the others answer at once from the last good set or fail closed.
JWKS_FAILURE_SECONDS = 30
# The whole fetch (discovery document and key set together) gets at most this long, and never more than the
# invocation has left minus FETCH_MARGIN_SECONDS (time to verify, log and answer before Lambda's timeout, so
# the failure is our logged 500 rather than a timeout without a decision line).
FETCH_TIMEOUT_SECONDS = 1.5
FETCH_MARGIN_SECONDS = 0.25
_MAX_DOCUMENT_BYTES = 512 * 1024
_LOOPBACK = re.compile(r"^(127(\.[0-9]{1,3}){3}|localhost|\[::1\])$")


class UnauthorizedError(Exception):
    """Raised with the message "Unauthorized", which API Gateway answers with 401 (gateway response UNAUTHORIZED).

    A Lambda authorizer has no other way to answer 401: a returned policy is Allow or Deny (403), and any other
    error is a 500. AWS's example authorizers do exactly this (`callback("Unauthorized"); // Return a 401
    Unauthorized response`; in Python, `raise Exception('Unauthorized')`), and the 401 is customised through the
    UNAUTHORIZED gateway response:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
    Lambda counts the raise in its `Errors` metric; the decision's log line (`decision` deny, `status` 401) is what
    tells it from a real failure (`decision` error).
    """

    def __init__(self) -> None:
        super().__init__("Unauthorized")


class JwksUnavailableError(Exception):
    """The issuer's discovery document or key set could not be read: the request fails closed (500)."""


class TokenRefusedError(Exception):
    """A token that does not prove a user of this tenant; `reason` is the log's and the access log's code."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def url_allowed(url: object) -> bool:
    """True for an https URL, or an http URL whose host is a loopback address.

    Plain http to anything else could be read or altered on the way; a loopback address never leaves the
    machine the function runs on, so it is as trustworthy as the function itself (Lambda has no issuer
    there; a local stand-in does, which is how the contract tests serve a key set without a test branch).
    """
    if not isinstance(url, str):
        return False
    scheme, sep, rest = url.partition("://")
    authority = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    host = authority if authority.startswith("[") else authority.split(":", 1)[0]
    if not sep or not host:
        return False
    return scheme == "https" or (scheme == "http" and bool(_LOOPBACK.match(host)))


class _DeadlineSocket:
    """A connected socket whose every send and receive waits only for what is left until `deadline`.

    A socket timeout bounds one operation, not a response: a server that sends a byte now and then would
    keep `urlopen(timeout=...)` reading for ever. Here each operation's timeout is the time left, so the
    whole exchange (TLS handshake aside, bounded by the timeout it starts with) ends by the deadline.
    """

    def __init__(self, sock: Any, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._readers = 0  # open makefile() readers; the socket closes only once the last one has
        self._closed = False

    def _arm(self) -> None:
        self._sock.settimeout(_time_until(self._deadline))

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._arm()
        return int(self._sock.recv_into(buffer, nbytes, flags))

    def recv(self, size: int, flags: int = 0) -> bytes:
        self._arm()
        return bytes(self._sock.recv(size, flags))

    def sendall(self, data: bytes, flags: int = 0) -> None:
        self._arm()
        self._sock.sendall(data, flags)

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        # http.client reads the status line, headers and body through makefile("rb"): route that through us.
        import io
        import socket

        self._readers += 1
        return io.BufferedReader(socket.SocketIO(self, "rb"))  # type: ignore[arg-type]

    # urllib closes the connection's socket as soon as the headers are read, while the body is still to come
    # through the reader: as socket.socket does, the real close waits for the last reader to close.
    def _decref_socketios(self) -> None:
        self._readers -= 1
        if self._closed:
            self.close()

    def close(self) -> None:
        self._closed = True
        if self._readers <= 0:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _time_until(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the key-set fetch ran out of time")
    return left


class _BoundedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection whose connect and every later send or receive end by `deadline`."""

    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def connect(self) -> None:
        self.timeout = _time_until(self.deadline)  # connecting (and a TLS handshake) waits at most this long
        super().connect()
        self.sock: Any = _DeadlineSocket(self.sock, self.deadline)


class _BoundedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS (certificate and host name verified by the default context, as urlopen's)."""

    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def connect(self) -> None:
        self.timeout = _time_until(self.deadline)
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self.deadline)


def _opener(deadline: float) -> Any:
    """A urllib opener whose connections end by `deadline` (time.monotonic())."""
    import functools
    import ssl
    import urllib.request

    context = ssl.create_default_context()

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(functools.partial(_BoundedHTTPConnection, deadline=deadline), req)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            connection = functools.partial(_BoundedHTTPSConnection, deadline=deadline)
            return self.do_open(connection, req, context=context)

    return urllib.request.build_opener(Http(), Https(context=context))


def fetch_json(url: str, deadline: float) -> Any:
    """GET a JSON document (discovery or key set), all of it by `deadline` (time.monotonic()).

    JwksUnavailableError on any failure: refused URL, network, HTTP status, time, size, JSON.
    """
    if not url_allowed(url):
        raise JwksUnavailableError(f"refusing to fetch {url[:200]!r}: https (or loopback http) only")
    import urllib.request

    try:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with _opener(deadline).open(request, timeout=_time_until(deadline)) as response:
            body = response.read(_MAX_DOCUMENT_BYTES + 1)
        if len(body) > _MAX_DOCUMENT_BYTES:
            raise JwksUnavailableError(f"{url[:200]!r} answered more than {_MAX_DOCUMENT_BYTES} bytes")
        return json.loads(body)
    except JwksUnavailableError:
        raise
    except Exception as error:  # network, time, HTTP status, JSON: all mean the keys cannot be known
        raise JwksUnavailableError(f"{url[:200]!r}: {type(error).__name__}") from error


@dataclass
class _IssuerKeys:
    """One issuer's last good key set (None: never fetched) and its latest failed fetch, if more recent."""

    keys: dict[str, Mapping[str, Any]] | None = None
    fetched: float = 0.0
    failed: float | None = None
    error: str | None = None


class KeySets:
    """Each issuer's signing keys (its JWKS, found through its OpenID discovery document), cached per issuer.

    https://openid.net/specs/openid-connect-discovery-1_0.html (`jwks_uri`; the document's `issuer` must be
    the issuer it was fetched for). A set is used for `cache_seconds`, refetched for an unknown kid at most once
    per `refetch_seconds`, kept `grace_seconds` longer while refreshes fail; a failure is remembered for
    `failure_seconds` (no fetch meanwhile); one fetch takes at most `timeout_seconds`, less when the invocation
    has less left. `fetch(url, deadline)` and `clock` (cache ages, not deadlines) are injectable for tests.
    """

    def __init__(
        self,
        fetch: Callable[[str, float], Any] = fetch_json,
        clock: Callable[[], float] = time.monotonic,
        cache_seconds: float = JWKS_CACHE_SECONDS,
        refetch_seconds: float = JWKS_REFETCH_SECONDS,
        grace_seconds: float = JWKS_GRACE_SECONDS,
        failure_seconds: float = JWKS_FAILURE_SECONDS,
        timeout_seconds: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        self.fetch = fetch
        self.clock = clock
        self.cache_seconds = cache_seconds
        self.refetch_seconds = refetch_seconds
        self.grace_seconds = grace_seconds
        self.failure_seconds = failure_seconds
        self.timeout_seconds = timeout_seconds
        self._issuers: dict[str, _IssuerKeys] = {}
        self.fetches = 0

    def _load(self, issuer: str, deadline: float) -> dict[str, Mapping[str, Any]]:
        self.fetches += 1
        discovery = self.fetch(issuer.rstrip("/") + "/.well-known/openid-configuration", deadline)
        if not isinstance(discovery, Mapping) or discovery.get("issuer") != issuer:
            raise JwksUnavailableError(f"the discovery document of {issuer[:200]!r} does not name that issuer")
        jwks_uri = discovery.get("jwks_uri")
        if not url_allowed(jwks_uri):
            raise JwksUnavailableError(f"the jwks_uri of {issuer[:200]!r} is not https")
        document = self.fetch(str(jwks_uri), deadline)
        keys = document.get("keys") if isinstance(document, Mapping) else None
        if not isinstance(keys, list):
            raise JwksUnavailableError(f"the key set of {issuer[:200]!r} has no keys list")
        return {
            str(key["kid"]): key
            for key in keys
            if isinstance(key, Mapping) and isinstance(key.get("kid"), str) and key.get("use", "sig") == "sig"
        }

    def key(self, issuer: str, kid: str, time_left: Callable[[], float] | None = None) -> Mapping[str, Any] | None:
        """The issuer's JWK with this kid, fetching the key set when absent, stale, or (rate-limited) lacking it.

        time_left: seconds the invocation has left (None: no bound but `timeout_seconds`).
        None: the kid is not in the set (401). JwksUnavailableError: no usable set at all (fail closed, 500).
        """
        now = self.clock()
        state = self._issuers.setdefault(issuer, _IssuerKeys())
        if state.keys is not None:
            age = now - state.fetched
            if kid in state.keys and age < self.cache_seconds:
                return state.keys[kid]
            if kid not in state.keys and age < self.refetch_seconds:
                return None  # fetched moments ago and the kid was not there: do not ask again yet
        error = state.error
        if state.failed is None or now - state.failed >= self.failure_seconds:
            budget = (
                self.timeout_seconds
                if time_left is None
                else min(self.timeout_seconds, time_left() - FETCH_MARGIN_SECONDS)
            )
            if budget > 0:
                try:
                    keys = self._load(issuer, time.monotonic() + budget)
                except JwksUnavailableError as failed:
                    state.failed, state.error = now, str(failed)
                    error = state.error
                else:
                    state.keys, state.fetched, state.failed, state.error = keys, now, None, None
                    return keys.get(kid)
            else:
                error = f"no time left to fetch the key set of {issuer[:200]!r}"  # not the issuer's failure
        # The set could not be refreshed, now or within failure_seconds: the last good one, while in grace.
        if state.keys is not None and now - state.fetched < self.cache_seconds + self.grace_seconds:
            return state.keys.get(kid)
        raise JwksUnavailableError(str(error))

    def refresh_error(self, issuer: str) -> str | None:
        """Why the issuer's latest fetch failed, while that failure is newer than its last good set; else None."""
        state = self._issuers.get(issuer)
        return state.error if state is not None and state.failed is not None else None


_key_sets: KeySets | None = None


def key_sets() -> KeySets:
    """The container's key-set cache, kept for its life."""
    global _key_sets
    if _key_sets is None:
        _key_sets = KeySets()
    return _key_sets


def _jwt() -> Any:
    # PyJWT (pinned in requirements.txt, unpacked into the function's zip): imported on first use, so an API
    # without end-user authentication loads none of it. With it, the init phase imports it (end of module).
    import jwt

    return jwt


def bearer_token(event: Mapping[str, Any]) -> str | None:
    """The token of `Authorization: Bearer <token>`; None when absent, ambiguous or of another scheme."""
    value = single_header(event, "authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token and len(token) <= 16384 else None


def verify_token(
    token: str, tenant: Tenant, keys: KeySets, time_left: Callable[[], float] | None = None
) -> dict[str, Any]:
    """The claims of a token that proves a user of `tenant`; TokenRefusedError (401, or 403 for another tenant's user).

    Checked: an asymmetric algorithm from the allow-list, a kid in the issuer's key set, the signature,
    exp and nbf (with LEEWAY_SECONDS), iss, aud, sub present, and the tenant claim equal to the tenant.
    time_left: seconds the invocation has left, which bounds a key-set fetch (KeySets.key).
    """
    jwt = _jwt()
    assert tenant.auth_issuer is not None
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRefusedError("token-malformed") from None
    algorithm, kid = header.get("alg"), header.get("kid")
    if algorithm not in ALGORITHMS:
        raise TokenRefusedError("token-algorithm")
    if not isinstance(kid, str):
        raise TokenRefusedError("token-no-key-id")
    jwk = keys.key(tenant.auth_issuer, kid, time_left)
    if jwk is None:
        raise TokenRefusedError("token-unknown-key")
    # The key's own type and algorithm must fit the header's: an RSA key is never used for ES256.
    if jwk.get("alg") not in (None, algorithm) or jwk.get("kty") != ("EC" if algorithm.startswith("ES") else "RSA"):
        raise TokenRefusedError("token-algorithm")
    try:
        key = jwt.PyJWK(dict(jwk), algorithm=algorithm)
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[algorithm],
            audience=list(tenant.auth_audiences),
            issuer=tenant.auth_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefusedError("token-expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenRefusedError("token-not-yet-valid") from None
    except jwt.InvalidAudienceError:
        raise TokenRefusedError("token-audience") from None
    except jwt.InvalidIssuerError:
        raise TokenRefusedError("token-issuer") from None
    except jwt.InvalidSignatureError:
        raise TokenRefusedError("token-signature") from None
    except jwt.MissingRequiredClaimError:
        raise TokenRefusedError("token-claims") from None
    except (jwt.PyJWKError, jwt.InvalidAlgorithmError):
        raise TokenRefusedError("token-algorithm") from None
    except jwt.PyJWTError:
        raise TokenRefusedError("token-invalid") from None
    if not isinstance(claims.get("sub"), str) or not claims["sub"].strip() or claims["sub"] == NO_USER:
        raise TokenRefusedError("token-claims")
    if tenant.auth_tenant_claim is not None and claims.get(tenant.auth_tenant_claim) != tenant.tenant_id:
        raise TokenRefusedError("wrong-tenant", status=403)
    return claims


def public_prefixes(text: str | None) -> tuple[str, ...]:
    """`PUBLIC_PREFIXES` (a JSON list of route prefixes such as "/docs") as a tuple; empty when unset."""
    if not text:
        return ()
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(p, str) and p.startswith("/") for p in value):
        raise ValueError("PUBLIC_PREFIXES must be a JSON list of paths starting with /")
    return tuple(p.rstrip("/") for p in value)


def is_public(resource: object, prefixes: tuple[str, ...]) -> bool:
    """True when the API resource the request matched is one of the prefixes or lies under one (whole segments).

    `resource` is the event's `resource`: the route API Gateway matched, as defined (`/docs/{key+}`), not the
    path the client sent (`event["path"]`). A client shapes its path (`/docs/../service1/x`, `/docs%2F..`,
    `//docs`), and whatever API Gateway and the backend make of such a path, the resource is the route whose
    integration the request reaches: judging that, a crafted path can never be public and reach a private
    backend. A prefix must therefore name routes (`/docs`); one inside a greedy route (`/service1/health` with
    `/service1/{proxy+}`) matches nothing, and those paths need a token (fails closed). No resource: not public.
    The REQUEST event carries both fields (`"resource"`, `"path"`, and `requestContext.resourcePath`):
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
    and `resource` is "the resource path", the template (`/{proxy+}`), as in the proxy-integration event:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
    """
    return isinstance(resource, str) and any(resource == p or resource.startswith(p + "/") for p in prefixes)


# -- decisions -----------------------------------------------------------------------------------

# X-User-Id and X-User-Scopes of a request without a verified user (or a user without scopes): never empty.
NO_USER = "-"

UNKNOWN_HOST_MESSAGE = "No tenant is served at this host"
SUSPENDED_MESSAGE = "This tenant is suspended"
WRONG_TENANT_MESSAGE = "This token is not for this tenant"


def _policy(principal: str, effect: str, resource: str, context: dict[str, str]) -> dict[str, Any]:
    # Output format (principalId, policyDocument, context of string values, usageIdentifierKey):
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context,
    }


def log(record: Mapping[str, Any]) -> None:
    """One JSON line on stdout (Lambda sends it to CloudWatch Logs; Logs Insights reads its fields)."""
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")


# Every decision writes exactly one log line, `decision` one of:
# - "allow": the request goes on to its backend;
# - "deny": the client's own doing, answered 403 (Deny policy) or 401 (raised "Unauthorized"); `status` says which;
# - "error": the function itself could not decide (registry error, key set unavailable, anything unexpected) and
#   raised, so API Gateway answers 500 (AUTHORIZER_FAILURE) and the request fails closed; `status` 500.
# Only "error" means something is broken: a CloudWatch Logs metric filter `{ $.decision = "error" }` counts those
# and nothing a client can cause (docs "End-user authentication (auth)"). Lambda's `Errors` metric counts every
# raise, 401s included, so it cannot tell them apart.
DECISION_ERROR = "error"
ERROR_LOG_FILTER = '{ $.decision = "error" }'


def decide(
    event: Mapping[str, Any],
    registry: Registry,
    now: Callable[[], float] = time.time,
    *,
    keys: KeySets | None = None,
    public: tuple[str, ...] = (),
    time_left: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """The authorizer's answer for one REQUEST event; raises when it cannot decide (logged as `decision` error).

    now: wall-clock seconds since the epoch (a client certificate's validity is checked against it).
    keys: the issuers' key sets when the API has end-user authentication (`USER_AUTH`); None otherwise, and
    then a tenant whose item names an issuer is refused (fail closed), never let in without a token.
    public: route prefixes that need no user (`PUBLIC_PREFIXES`), matched on the event's `resource` (is_public).
    time_left: seconds the invocation has left (Lambda's context); a key-set fetch ends before it runs out.
    A tenant with an issuer needs a valid bearer token outside `public`: none or an invalid one raises
    Unauthorized (401); another tenant's user gets Deny (403, reason `wrong-tenant`).
    """
    request_context = event.get("requestContext")
    request_id = request_context.get("requestId") if isinstance(request_context, Mapping) else None
    record: dict[str, Any] = {"authorizer": "tenant", "requestId": request_id}
    try:
        return _decide(event, record, registry, now, keys, public, time_left)
    except UnauthorizedError:
        raise  # logged as a deny (status 401) before it was raised
    except Exception as error:
        if "decision" not in record:  # not logged yet: our own code failed, or the event is not what AWS sends
            record.update(decision=DECISION_ERROR, status=500, reason="unexpected-error", error=type(error).__name__)
            record["detail"] = str(error)[:200]
            log(record)
        raise


def _decide(
    event: Mapping[str, Any],
    record: dict[str, Any],
    registry: Registry,
    now: Callable[[], float],
    keys: KeySets | None,
    public: tuple[str, ...],
    time_left: Callable[[], float] | None,
) -> dict[str, Any]:
    resource = stage_resource(event.get("methodArn"))
    raw = host_header(event)
    host = normalise_host(raw)
    record["host"] = host
    if host is None:
        record.update(host=None if raw is None else raw[:100], decision="deny", status=403, reason="malformed-host")
        log(record)
        return _policy("unknown", "Deny", resource, {"reason": "unknown-host", "message": UNKNOWN_HOST_MESSAGE})
    try:
        found = registry.lookup(host)
    except Exception as error:
        record.update(decision=DECISION_ERROR, status=500, reason="registry-error", error=type(error).__name__)
        log(record)
        raise
    record["cacheHit"] = found.cache_hit
    tenant = found.tenant
    if tenant is None:
        # An invalid item (unknown status, missing field) is denied as unknown, not raised: it is a
        # deployment defect on one host that a retry cannot fix, and a 403 is cached where a 500 is not.
        record.update(decision="deny", status=403, reason="unknown-host")
        if found.invalid is not None:
            record.update(reason="invalid-registry-item", detail=found.invalid)
        log(record)
        return _policy("unknown", "Deny", resource, {"reason": "unknown-host", "message": UNKNOWN_HOST_MESSAGE})
    record["tenantId"] = tenant.tenant_id
    cert = client_certificate(event)
    refusal = certificate_refusal(tenant, cert, now()) if tenant.mtls_issuers else None
    if refusal is not None:
        # Answered as an unknown host: the 403 says nothing about which check failed. The log says it,
        # with the certificate's names (never its PEM) so an operator can compare them with the config.
        # Checked before suspension, so a client without the certificate cannot tell a suspended host either.
        # The DNs are what an operator copies into mtlsIssuers / mtlsSubjects, which must match exactly: logged
        # whole (JSON-escaped), up to a length no real DN reaches, and marked when cut.
        if cert is not None:
            for field in ("issuerDN", "subjectDN"):
                value = str(cert.get(field))
                record[field] = value[:_DN_LOG_CHARS]
                if len(value) > _DN_LOG_CHARS:
                    record[field + "Truncated"] = True
        record.update(decision="deny", status=403, reason=refusal)
        log(record)
        return _policy("unknown", "Deny", resource, {"reason": "unknown-host", "message": UNKNOWN_HOST_MESSAGE})
    if tenant.status == "suspended":
        record.update(decision="deny", status=403, reason="suspended")
        log(record)
        context = {"reason": "suspended", "tenantId": tenant.tenant_id, "message": SUSPENDED_MESSAGE}
        return _policy(tenant.tenant_id, "Deny", resource, context)
    user: dict[str, str] = {}
    if tenant.auth_issuer is not None and not is_public(event.get("resource"), public):
        token = bearer_token(event)
        try:
            if keys is None:
                raise TokenRefusedError("auth-not-deployed")
            if token is None:
                raise TokenRefusedError("token-missing")
            claims = verify_token(token, tenant, keys, time_left)
        except JwksUnavailableError as error:
            record.update(decision=DECISION_ERROR, status=500, reason="jwks-unavailable", error=str(error)[:300])
            log(record)
            raise
        except TokenRefusedError as refused:
            # The reason is ours (a fixed code), never text from the token.
            _note_stale_keys(record, tenant.auth_issuer, keys)
            record.update(decision="deny", status=refused.status, reason=refused.reason)
            log(record)
            if refused.status == 403:
                context = {"reason": refused.reason, "tenantId": tenant.tenant_id, "message": WRONG_TENANT_MESSAGE}
                return _policy(tenant.tenant_id, "Deny", resource, context)
            raise UnauthorizedError() from None
        scopes = claims.get("scope")
        scopes = scopes[:1024] if isinstance(scopes, str) and scopes.strip() else NO_USER
        user = {"userId": str(claims["sub"])[:256], "scopes": scopes}
        record["userId"] = user["userId"]
        _note_stale_keys(record, tenant.auth_issuer, keys)
    else:
        # The integrations map X-User-Id and X-User-Scopes from these on every method, with or without
        # end-user authentication, so a request without a verified user must still write a value over the
        # client's: an absent or empty context value maps to nothing and leaves the client's header in place
        # (LocalStack's mapping skips empty values, `if value:`, and tests/contract/test_auth_contract.py saw a
        # forged X-User-Id pass with ""). Hence `-`, which no accepted token's `sub` can be (verify_token).
        user = {"userId": NO_USER, "scopes": NO_USER}
    record.update(decision="allow", reason="active", tier=tenant.tier)
    log(record)
    answer = _policy(
        tenant.tenant_id,
        "Allow",
        resource,
        {"tenantId": tenant.tenant_id, "tier": tenant.tier, "hostname": host, **user},
    )
    answer["usageIdentifierKey"] = tenant.api_key
    return answer


def _note_stale_keys(record: dict[str, Any], issuer: str, keys: KeySets | None) -> None:
    # Decided on the last good key set because the issuer could not be read: still a decision, not an error,
    # but the line says so (`jwks` stale), which is how an issuer outage shows while its grace lasts.
    error = keys.refresh_error(issuer) if keys is not None else None
    if error is not None:
        record.update(jwks="stale", jwksError=error[:300])


def _time_left(context: object) -> Callable[[], float] | None:
    """Seconds the invocation has left, from Lambda's context object (None without one, e.g. in tests)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    return lambda: float(remaining()) / 1000


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """Lambda entry point (`handler.handler`).

    Environment, besides the registry's: `USER_AUTH` ("on" when any customer has end-user authentication)
    and `PUBLIC_PREFIXES` (a JSON list of route prefixes that need no user).
    """
    auth = os.environ.get("USER_AUTH") == "on"
    public = public_prefixes(os.environ.get("PUBLIC_PREFIXES"))
    try:
        keys = key_sets() if auth else None
        return decide(event, registry(), keys=keys, public=public, time_left=_time_left(context))
    except UnauthorizedError:
        # Raising is the only way a REQUEST authorizer answers 401, and Lambda's runtime then writes its own
        # error record with the exception's traceback. Raised afresh here, that traceback is this one frame
        # (not the path through decide); the decision itself is already logged as one line.
        raise UnauthorizedError() from None


# Lambda runs a module's top level in its init phase, which has a full vCPU whatever the memory size
# (https://serverlessland.com/content/service/lambda/guides/effectively-running-java-on-serverless/init-heavy-lifting),
# so the client (about 70 ms to build here) is made there, not in the first request, as Lambda's best
# practices advise (https://docs.aws.amazon.com/lambda/latest/dg/best-practices.html). Lambda always sets
# AWS_LAMBDA_FUNCTION_NAME (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html);
# importing this module anywhere else (tests, tools) creates nothing and reads no environment.
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    registry()
    if os.environ.get("USER_AUTH") == "on":
        _jwt()  # the JWT library and cryptography's bindings load here, not in the first request
