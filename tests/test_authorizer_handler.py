"""The tenant authorizer's Lambda handler as plain Python: decisions, host rules, caches, failure, imports.

No Pulumi and no network: the registry is an in-process fake or a real botocore client under `Stubber`
(which checks every request against DynamoDB's API model); the one unreachable-registry test points a
real client at a closed loopback port.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from functions.tenant_authorizer import handler as authorizer
from whitelabel.function_bundle import read_pins

HANDLER_DIR = Path(authorizer.__file__).parent
TABLE = "whitelabel-gateway-dev-tenants"
API = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
METHOD_ARN = f"{API}/dev/GET/orders/42"
STAGE_RESOURCE = f"{API}/dev/*/*"
ACME_KEY = "acme-key-0123456789abcdefghij"


# -- fixtures and helpers ------------------------------------------------------------------------
def item(hostname: str, tenant_id: str, tier: str = "standard", status: str = "active", api_key: str = ACME_KEY):
    """A registry item as the low-level client returns it (DynamoDB JSON), per the helpers' contract."""
    return {
        "hostname": {"S": hostname},
        "tenantId": {"S": tenant_id},
        "tier": {"S": tier},
        "status": {"S": status},
        "apiKey": {"S": api_key},
    }


REGISTRY = {
    "acme.example.com": item("acme.example.com", "acme", tier="gold"),
    "api.acme-corp.com": item("api.acme-corp.com", "acme", tier="gold"),
    "globex.example.com": item("globex.example.com", "globex", status="suspended", api_key="globex-key-0123456789abcd"),
}


class FakeDynamo:
    """GetItem over a dict; counts calls; raises `error` when set."""

    def __init__(self, items: dict[str, dict[str, Any]] | None = None) -> None:
        self.items = dict(REGISTRY if items is None else items)
        self.calls: list[str] = []
        self.error: Exception | None = None

    def get_item(self, TableName: str, Key: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        assert TableName == TABLE
        hostname = Key["hostname"]["S"]
        self.calls.append(hostname)
        if self.error is not None:
            raise self.error
        found = self.items.get(hostname)
        return {"Item": found} if found is not None else {}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def event(host: str | None = "acme.example.com", header: str = "Host", method_arn: str = METHOD_ARN) -> dict[str, Any]:
    """A REQUEST authorizer event shaped like AWS's example (headers, multiValueHeaders, requestContext)."""
    headers: dict[str, str] = {"Accept": "*/*", "User-Agent": "curl/8.5.0"}
    if host is not None:
        headers[header] = host
    path = "/" + method_arn.split("/", 3)[3] if method_arn.count("/") >= 3 else "/"
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": path,
        "path": path,
        "httpMethod": method_arn.split("/")[2] if method_arn.count("/") >= 2 else "GET",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {"requestId": "req-1", "stage": "dev", "apiId": "a1b2c3d4e5", "httpMethod": "GET"},
    }


@pytest.fixture
def dynamo() -> FakeDynamo:
    return FakeDynamo()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(dynamo: FakeDynamo, clock: Clock) -> authorizer.Registry:
    return authorizer.Registry(TABLE, dynamo, ttl_seconds=30, clock=clock)


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def effect(answer: dict[str, Any]) -> str:
    [statement] = answer["policyDocument"]["Statement"]
    assert statement["Action"] == "execute-api:Invoke"
    return str(statement["Effect"])


# -- decisions -----------------------------------------------------------------------------------
def test_known_active_host_is_allowed_on_the_whole_stage_with_its_key(registry: authorizer.Registry) -> None:
    answer = authorizer.decide(event("acme.example.com"), registry)

    assert effect(answer) == "Allow"
    assert answer["policyDocument"]["Statement"][0]["Resource"] == STAGE_RESOURCE
    assert answer["principalId"] == "acme"
    assert answer["usageIdentifierKey"] == ACME_KEY
    assert answer["context"] == {
        "tenantId": "acme",
        "tier": "gold",
        "hostname": "acme.example.com",
        "userId": "-",
        "scopes": "-",
    }


def test_an_own_domain_is_its_customers_tenant_whatever_its_first_label(registry: authorizer.Registry) -> None:
    answer = authorizer.decide(event("api.acme-corp.com"), registry)

    assert effect(answer) == "Allow"
    assert answer["context"]["tenantId"] == "acme"
    assert answer["context"]["hostname"] == "api.acme-corp.com"


@pytest.mark.parametrize(
    "method_arn",
    [
        f"{API}/dev/GET/",
        f"{API}/dev/GET/orders",
        f"{API}/dev/POST/orders/42/items",
        f"{API}/dev/DELETE/docs/a/b/c.pdf",
        f"{API}/dev/OPTIONS/health",
    ],
)
def test_the_allow_resource_covers_every_method_and_path_of_the_stage(
    registry: authorizer.Registry, method_arn: str
) -> None:
    # API Gateway caches one policy per Host and applies it to later requests on any path: the
    # resource must match every method ARN of the stage (IAM's `*` matches any run of characters).
    answer = authorizer.decide(event(method_arn=method_arn), registry)
    resource = answer["policyDocument"]["Statement"][0]["Resource"]

    assert resource == STAGE_RESOURCE
    for other in (METHOD_ARN, f"{API}/dev/PUT/any/path", f"{API}/dev/GET/"):
        assert fnmatch.fnmatchcase(other, resource)
    assert not fnmatch.fnmatchcase(f"{API}/prod/GET/orders", resource)
    assert not fnmatch.fnmatchcase("arn:aws:execute-api:eu-west-1:123456789012:otherapi/dev/GET/x", resource)


def test_the_stage_resource_keeps_the_partition_of_the_method_arn() -> None:
    arn = "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/prod/GET/x"
    assert authorizer.stage_resource(arn) == "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/prod/*/*"


@pytest.mark.parametrize("method_arn", [None, "", "not-an-arn", f"{API}", "arn:aws:s3:::bucket/dev/GET/x"])
def test_a_malformed_method_arn_raises_and_is_logged_as_an_error(
    registry: authorizer.Registry, method_arn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError):
        authorizer.decide({**event(), "methodArn": method_arn}, registry)
    # Nothing AWS sends looks like this: an unexpected failure, logged once so the error filter counts it.
    [line] = log_lines(capsys)
    expected = {"decision": "error", "status": 500, "reason": "unexpected-error", "error": "ValueError"}
    assert line.items() >= expected.items()


def test_unknown_host_is_denied_as_unknown(registry: authorizer.Registry, dynamo: FakeDynamo) -> None:
    answer = authorizer.decide(event("gone.example.com"), registry)

    assert effect(answer) == "Deny"
    assert answer["policyDocument"]["Statement"][0]["Resource"] == STAGE_RESOURCE
    assert answer["context"] == {"reason": "unknown-host", "message": authorizer.UNKNOWN_HOST_MESSAGE}
    assert "usageIdentifierKey" not in answer
    assert dynamo.calls == ["gone.example.com"]


def test_suspended_tenant_is_denied_with_its_id_and_no_key(registry: authorizer.Registry) -> None:
    answer = authorizer.decide(event("globex.example.com"), registry)

    assert effect(answer) == "Deny"
    assert answer["principalId"] == "globex"
    assert answer["context"] == {
        "reason": "suspended",
        "tenantId": "globex",
        "message": "This tenant is suspended",
    }
    assert "usageIdentifierKey" not in answer


@pytest.mark.parametrize("host", ["acme.example.com", "globex.example.com", "gone.example.com", "bad host"])
def test_context_values_are_strings(registry: authorizer.Registry, host: str) -> None:
    # API Gateway accepts only string, number and boolean context values; everything here is a string
    # so that `$context.authorizer.*` mappings read the same value the handler wrote.
    answer = authorizer.decide(event(host), registry)

    assert answer["context"]
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in answer["context"].items())
    assert isinstance(answer["principalId"], str) and answer["principalId"]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (item("acme.example.com", "acme", status="deleted"), "status 'deleted'"),
        (item("acme.example.com", "acme", status="ACTIVE"), "status 'ACTIVE'"),
        ({k: v for k, v in item("acme.example.com", "acme").items() if k != "tier"}, "tier"),
        ({k: v for k, v in item("acme.example.com", "acme").items() if k != "apiKey"}, "apiKey"),
        ({**item("acme.example.com", "acme"), "tenantId": {"N": "7"}}, "tenantId"),
        ({**item("acme.example.com", "acme"), "tenantId": {"S": ""}}, "tenantId"),
        (item("other.example.com", "acme"), "hostname does not match"),
    ],
)
def test_an_invalid_registry_item_is_denied_as_unknown_and_not_cached(
    dynamo: FakeDynamo, clock: Clock, capsys: pytest.CaptureFixture[str], bad: dict[str, Any], reason: str
) -> None:
    dynamo.items["acme.example.com"] = bad
    registry = authorizer.Registry(TABLE, dynamo, ttl_seconds=30, clock=clock)

    answer = authorizer.decide(event(), registry)
    authorizer.decide(event(), registry)

    assert effect(answer) == "Deny"
    assert answer["context"]["reason"] == "unknown-host"
    assert "usageIdentifierKey" not in answer
    assert dynamo.calls == ["acme.example.com"] * 2  # asked again: a fixed item bites at once
    first = log_lines(capsys)[0]
    assert first["reason"] == "invalid-registry-item"
    assert reason in first["detail"]


def test_a_suspended_item_needs_no_api_key(registry: authorizer.Registry, dynamo: FakeDynamo) -> None:
    dynamo.items["globex.example.com"] = {
        k: v for k, v in item("globex.example.com", "globex", status="suspended").items() if k != "apiKey"
    }
    assert authorizer.decide(event("globex.example.com"), registry)["context"]["reason"] == "suspended"


@pytest.mark.parametrize("suspended", [False, True])
def test_the_item_pulumi_writes_is_the_item_the_handler_reads(
    dynamo: FakeDynamo, registry: authorizer.Registry, suspended: bool
) -> None:
    # The registry component writes `whitelabel.tenancy.registry_item`; the handler must read it as is.
    from whitelabel.tenancy import registry_item

    dynamo.items["shop.example.com"] = registry_item("shop.example.com", "shop", "gold", suspended, ACME_KEY)

    answer = authorizer.decide(event("shop.example.com"), registry)

    if suspended:
        assert (effect(answer), answer["context"]["reason"], answer["context"]["tenantId"]) == (
            "Deny",
            "suspended",
            "shop",
        )
    else:
        assert (effect(answer), answer["usageIdentifierKey"]) == ("Allow", ACME_KEY)
        assert answer["context"] == {
            "tenantId": "shop",
            "tier": "gold",
            "hostname": "shop.example.com",
            "userId": "-",
            "scopes": "-",
        }


def test_an_item_as_dynamodb_returns_it_is_decided_by_value(dynamo: FakeDynamo, clock: Clock) -> None:
    # A real client builds every string from the response's JSON at run time: none is the literal "active" or
    # "suspended" the handler compares with, so the status must be compared by value.
    as_read = json.loads(json.dumps(REGISTRY))
    registry = authorizer.Registry(TABLE, FakeDynamo(as_read), ttl_seconds=30, clock=clock)

    allowed = authorizer.decide(event("acme.example.com"), registry)
    suspended = authorizer.decide(event("globex.example.com"), registry)

    assert (effect(allowed), allowed["usageIdentifierKey"]) == ("Allow", ACME_KEY)
    assert (effect(suspended), suspended["context"]["reason"]) == ("Deny", "suspended")


@pytest.mark.parametrize("named", ["aaa.example.com", "zzz.example.com"])
def test_an_item_naming_another_hostname_is_invalid_whichever_sorts_first(named: str) -> None:
    with pytest.raises(authorizer.InvalidItemError, match="hostname does not match"):
        authorizer.parse_item("acme.example.com", item(named, "acme"))


def test_an_invalid_item_line_quotes_its_status_up_to_32_characters_and_is_no_cache_hit(
    dynamo: FakeDynamo, registry: authorizer.Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    status = "x" * 40
    dynamo.items["acme.example.com"] = item("acme.example.com", "acme", status=status)

    authorizer.decide(event(), registry)

    [line] = log_lines(capsys)
    assert line["detail"] == f"status {status[:32]!r} is neither active nor suspended"
    assert line["cacheHit"] is False


# -- mutual TLS: the certificate must be this customer's ------------------------------------------
# Shaped as AWS documents `requestContext.identity.clientCert` for REST Lambda authorizers:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
STARK_CA = "CN=Stark Client CA,O=Stark Industries,C=US"
WAYNE_CA = "CN=Wayne Client CA,O=Wayne Enterprises,C=US"
STARK_HOST = "stark.example.com"
# 2026-01-01T00:00:00Z: inside the certificates' validity below.
NOW = 1767225600.0


def cert(
    issuer: str = STARK_CA,
    subject: str = "CN=billing.stark.example,O=Stark Industries,C=US",
    not_before: str = "May 28 12:30:02 2025 GMT",
    not_after: str = "Aug  5 09:36:04 2027 GMT",
) -> dict[str, Any]:
    return {
        "clientCertPem": "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n",
        "subjectDN": subject,
        "issuerDN": issuer,
        "serialNumber": "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
        "validity": {"notBefore": not_before, "notAfter": not_after},
    }


def mtls_event(client_cert: dict[str, Any] | None, host: str = STARK_HOST) -> dict[str, Any]:
    request = event(host)
    if client_cert is not None:
        request["requestContext"]["identity"] = {"sourceIp": "203.0.113.7", "clientCert": client_cert}
    return request


def mtls_item(subjects: tuple[str, ...] = (), status: str = "active") -> dict[str, Any]:
    from whitelabel.tenancy import registry_item

    return registry_item(
        STARK_HOST, "stark", "gold", status == "suspended", ACME_KEY, mtls_issuers=(STARK_CA,), mtls_subjects=subjects
    )


def decide_at(request: dict[str, Any], registry: authorizer.Registry, now: float = NOW) -> dict[str, Any]:
    return authorizer.decide(request, registry, now=lambda: now)


def assert_denied_as_unknown(answer: dict[str, Any]) -> None:
    assert effect(answer) == "Deny"
    assert answer["principalId"] == "unknown"
    assert answer["context"] == {"reason": "unknown-host", "message": authorizer.UNKNOWN_HOST_MESSAGE}
    assert "usageIdentifierKey" not in answer


def test_mtls_host_with_its_customers_certificate_is_allowed(dynamo: FakeDynamo, registry: authorizer.Registry) -> None:
    dynamo.items[STARK_HOST] = mtls_item()

    answer = decide_at(mtls_event(cert()), registry)

    assert effect(answer) == "Allow"
    assert answer["context"] == {
        "tenantId": "stark",
        "tier": "gold",
        "hostname": STARK_HOST,
        "userId": "-",
        "scopes": "-",
    }
    assert answer["usageIdentifierKey"] == ACME_KEY


def test_mtls_host_without_a_certificate_is_denied_as_unknown(
    dynamo: FakeDynamo, registry: authorizer.Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    # A normal handshake on another domain (the wildcard), then `Host: <the mTLS customer's domain>`.
    dynamo.items[STARK_HOST] = mtls_item()

    assert_denied_as_unknown(decide_at(mtls_event(None), registry))
    [line] = log_lines(capsys)
    assert (line["decision"], line["reason"], line["tenantId"]) == ("deny", "mtls-no-certificate", "stark")


def test_mtls_host_with_another_customers_certificate_is_denied_as_unknown(
    dynamo: FakeDynamo, registry: authorizer.Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    # A certificate Wayne's truststore accepted (handshake on Wayne's domain), then `Host: stark...`.
    dynamo.items[STARK_HOST] = mtls_item()

    assert_denied_as_unknown(decide_at(mtls_event(cert(issuer=WAYNE_CA)), registry))
    [line] = log_lines(capsys)
    assert (line["reason"], line["issuerDN"]) == ("mtls-issuer-not-accepted", WAYNE_CA)
    assert "clientCertPem" not in json.dumps(line) and "MIIB" not in json.dumps(line)


def test_a_refused_certificate_logs_its_exact_dns_for_the_operator_to_copy(
    dynamo: FakeDynamo, registry: authorizer.Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    # docs "Mutual TLS": the operator reads these strings to fill mtlsIssuers / mtlsSubjects, which must match
    # byte for byte: a long DN (many OUs) and escaped characters must come through whole.
    issuer = "CN=Issuing CA 7,OU=" + ",OU=".join(f"Unit {n}" for n in range(30)) + r",O=Stark\, Inc.,C=US"
    subject = 'CN=device "42",O=Stark Industries,C=US'
    assert len(issuer) > 300
    dynamo.items[STARK_HOST] = mtls_item()

    assert_denied_as_unknown(decide_at(mtls_event(cert(issuer=issuer, subject=subject)), registry))
    [line] = log_lines(capsys)
    assert (line["reason"], line["issuerDN"], line["subjectDN"]) == ("mtls-issuer-not-accepted", issuer, subject)
    assert "issuerDNTruncated" not in line

    assert_denied_as_unknown(decide_at(mtls_event(cert(issuer="CN=" + "x" * 5000)), registry))
    [line] = log_lines(capsys)
    assert line["issuerDNTruncated"] is True and len(line["issuerDN"]) == 2048


def test_mtls_subjects_when_listed_must_match_too(dynamo: FakeDynamo, registry: authorizer.Registry) -> None:
    billing = "CN=billing.stark.example,O=Stark Industries,C=US"
    dynamo.items[STARK_HOST] = mtls_item(subjects=(billing,))

    assert effect(decide_at(mtls_event(cert(subject=billing)), registry)) == "Allow"
    assert_denied_as_unknown(decide_at(mtls_event(cert(subject="CN=intern,O=Stark Industries,C=US")), registry))


@pytest.mark.parametrize(
    ("not_before", "not_after", "now"),
    [
        pytest.param("May 28 12:30:02 2025 GMT", "Aug  5 09:36:04 2027 GMT", 1893456000.0, id="expired"),
        pytest.param("May 28 12:30:02 2025 GMT", "Aug  5 09:36:04 2027 GMT", 1735689600.0, id="not-yet-valid"),
        pytest.param("2025-05-28T12:30:02Z", "Aug  5 09:36:04 2027 GMT", NOW, id="unreadable-not-before"),
        pytest.param("May 28 12:30:02 2025 GMT", "Feb 30 00:00:00 2027 GMT", NOW, id="impossible-date"),
        pytest.param("May 28 12:30:02 2025 GMT", None, NOW, id="missing-not-after"),
    ],
)
def test_mtls_certificate_outside_its_validity_is_denied(
    dynamo: FakeDynamo, registry: authorizer.Registry, not_before: str, not_after: Any, now: float
) -> None:
    dynamo.items[STARK_HOST] = mtls_item()

    answer = decide_at(mtls_event(cert(not_before=not_before, not_after=not_after)), registry, now)

    assert_denied_as_unknown(answer)


@pytest.mark.parametrize("edge", ["notBefore", "notAfter"])
def test_mtls_certificate_is_valid_at_the_very_second_of_either_end(
    dynamo: FakeDynamo, registry: authorizer.Registry, edge: str
) -> None:
    dynamo.items[STARK_HOST] = mtls_item()
    client_cert = cert()
    at = authorizer.certificate_time(client_cert["validity"][edge])
    assert at is not None

    assert effect(decide_at(mtls_event(client_cert), registry, at)) == "Allow"


def test_a_refused_certificate_is_a_403_line_and_a_dn_of_exactly_2048_characters_is_logged_whole(
    dynamo: FakeDynamo, registry: authorizer.Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    issuer = "CN=" + "x" * 2045
    assert len(issuer) == 2048
    dynamo.items[STARK_HOST] = mtls_item()

    decide_at(mtls_event(cert(issuer=issuer)), registry)

    [line] = log_lines(capsys)
    assert (line["decision"], line["status"], line["reason"]) == ("deny", 403, "mtls-issuer-not-accepted")
    assert line["issuerDN"] == issuer and "issuerDNTruncated" not in line


def test_certificate_times_are_read_as_utc() -> None:
    assert authorizer.certificate_time("May 28 12:30:02 2019 GMT") == 1559046602.0
    assert authorizer.certificate_time("Aug  5 09:36:04 2021 GMT") == 1628156164.0
    assert authorizer.certificate_time("Aug 5 09:36:04 2021 UTC") is None


def test_a_suspended_mtls_customer_is_not_revealed_without_the_certificate(
    dynamo: FakeDynamo, registry: authorizer.Registry
) -> None:
    dynamo.items[STARK_HOST] = mtls_item(status="suspended")

    assert_denied_as_unknown(decide_at(mtls_event(None), registry))
    assert decide_at(mtls_event(cert()), registry)["context"]["reason"] == "suspended"


def test_a_certificate_changes_nothing_for_a_customer_without_mtls(registry: authorizer.Registry) -> None:
    # acme's item has no mtlsIssuers: with or without a certificate it is served as before.
    for client_cert in (None, cert(issuer=WAYNE_CA)):
        answer = decide_at(mtls_event(client_cert, host="acme.example.com"), registry)
        assert effect(answer) == "Allow"
        assert answer["context"]["tenantId"] == "acme"


@pytest.mark.parametrize(
    "requirement",
    [
        {"mtlsIssuers": {"L": []}},
        {"mtlsIssuers": {"SS": [STARK_CA]}},
        {"mtlsIssuers": {"L": [{"S": ""}]}},
        {"mtlsIssuers": {"L": [{"N": "1"}]}},
        {"mtlsSubjects": {"L": [{"S": "CN=x"}]}},
    ],
)
def test_a_malformed_mtls_requirement_is_an_invalid_item_never_no_requirement(
    dynamo: FakeDynamo, registry: authorizer.Registry, requirement: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    dynamo.items[STARK_HOST] = {**item(STARK_HOST, "stark"), **requirement}

    assert_denied_as_unknown(decide_at(mtls_event(cert()), registry))
    assert log_lines(capsys)[0]["reason"] == "invalid-registry-item"


# -- registry failures: fail closed --------------------------------------------------------------
def stubbed_client() -> Any:
    """A real DynamoDB client whose requests never leave: Stubber answers (and validates) each one."""
    return boto3.client(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def test_a_registry_client_error_raises_and_is_not_cached(clock: Clock, capsys: pytest.CaptureFixture[str]) -> None:
    client = stubbed_client()
    registry = authorizer.Registry(TABLE, client, ttl_seconds=30, clock=clock)
    expected = {"TableName": TABLE, "Key": {"hostname": {"S": "acme.example.com"}}}
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_item", service_error_code="ProvisionedThroughputExceededException", http_status_code=400
        )
        stub.add_response("get_item", {"Item": REGISTRY["acme.example.com"]}, expected)

        with pytest.raises(ClientError):
            authorizer.decide(event(), registry)
        answer = authorizer.decide(event(), registry)  # the error was not cached: the registry is asked again

        stub.assert_no_pending_responses()
    assert effect(answer) == "Allow"
    error_line, allow_line = log_lines(capsys)
    assert (
        error_line.items()
        >= {
            "decision": "error",
            "reason": "registry-error",
            "error": "ProvisionedThroughputExceededException",  # botocore's modeled ClientError subclass
        }.items()
    )
    assert allow_line["decision"] == "allow"
    assert allow_line["cacheHit"] is False


def test_a_registry_that_cannot_be_reached_raises(registry: authorizer.Registry, dynamo: FakeDynamo) -> None:
    dynamo.error = EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/")

    with pytest.raises(EndpointConnectionError):
        authorizer.decide(event(), registry)
    with pytest.raises(EndpointConnectionError):
        authorizer.decide(event(), registry)
    assert dynamo.calls == ["acme.example.com"] * 2


@pytest.fixture
def closed_loopback_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound without listen, so connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_the_handlers_own_client_fails_closed_and_fast_when_the_registry_is_down(
    monkeypatch: pytest.MonkeyPatch, closed_loopback_port: int
) -> None:
    # The real client the handler builds (timeouts, retries), pointed through boto3's standard
    # variable at a refused loopback port; dummy credentials, instance metadata off: nothing leaves.
    for name, value in {
        "TENANT_TABLE": TABLE,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{closed_loopback_port}",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(authorizer, "_registry", None)

    with pytest.raises(EndpointConnectionError) as raised:
        authorizer.handler(event(), None)

    assert str(closed_loopback_port) in str(raised.value)  # it was the loopback endpoint that refused


def test_the_handlers_own_client_connects_for_half_a_second_reads_for_one_and_tries_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What bounds a registry outage to about 4 s, inside the function's 5 s timeout (new_client's docstring).
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    config = authorizer.new_client().meta.config

    assert (config.connect_timeout, config.read_timeout) == (0.5, 1)
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}


# -- the cache -----------------------------------------------------------------------------------
def test_a_second_request_within_the_ttl_is_a_cache_hit(
    registry: authorizer.Registry, dynamo: FakeDynamo, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    authorizer.decide(event(), registry)
    clock.now += 29.9
    answer = authorizer.decide(event("ACME.example.com:443"), registry)  # same registry key

    assert effect(answer) == "Allow"
    assert dynamo.calls == ["acme.example.com"]
    assert [line["cacheHit"] for line in log_lines(capsys)] == [False, True]


def test_the_cache_expires_after_the_ttl(registry: authorizer.Registry, dynamo: FakeDynamo, clock: Clock) -> None:
    authorizer.decide(event(), registry)
    dynamo.items["acme.example.com"] = item("acme.example.com", "acme", status="suspended")
    clock.now += 30.0

    answer = authorizer.decide(event(), registry)

    assert dynamo.calls == ["acme.example.com"] * 2
    assert answer["context"]["reason"] == "suspended"  # the suspension bit once the entry expired


def test_not_found_is_cached_too(registry: authorizer.Registry, dynamo: FakeDynamo, clock: Clock) -> None:
    for _ in range(3):
        authorizer.decide(event("gone.example.com"), registry)
        clock.now += 10

    assert dynamo.calls == ["gone.example.com"]


def test_a_zero_ttl_disables_the_cache(dynamo: FakeDynamo, clock: Clock) -> None:
    registry = authorizer.Registry(TABLE, dynamo, ttl_seconds=0, clock=clock)
    for _ in range(3):
        authorizer.decide(event(), registry)

    assert dynamo.calls == ["acme.example.com"] * 3


def test_the_cache_is_bounded_and_evicts_the_oldest_entry(dynamo: FakeDynamo, clock: Clock) -> None:
    registry = authorizer.Registry(TABLE, dynamo, ttl_seconds=30, max_entries=3, clock=clock)
    hosts = [f"h{index}.example.com" for index in range(4)]
    for host in hosts:
        registry.lookup(host)
    for host in hosts[1:]:
        assert registry.lookup(host).cache_hit

    assert not registry.lookup(hosts[0]).cache_hit  # evicted when the fourth came in
    assert len(registry._cache) == 3


def test_by_default_an_answer_is_cached_for_30_seconds(dynamo: FakeDynamo, clock: Clock) -> None:
    registry = authorizer.Registry(TABLE, dynamo, clock=clock)
    registry.lookup("acme.example.com")

    clock.now += 29.999
    assert registry.lookup("acme.example.com").cache_hit
    clock.now += 0.001
    assert not registry.lookup("acme.example.com").cache_hit


def test_a_one_second_ttl_still_caches(dynamo: FakeDynamo, clock: Clock) -> None:
    registry = authorizer.Registry(TABLE, dynamo, ttl_seconds=1, clock=clock)
    registry.lookup("acme.example.com")
    clock.now += 0.5

    assert registry.lookup("acme.example.com").cache_hit
    assert dynamo.calls == ["acme.example.com"]


def test_an_entry_is_never_served_once_its_ttl_has_passed(
    registry: authorizer.Registry, dynamo: FakeDynamo, clock: Clock
) -> None:
    registry.lookup("acme.example.com")
    for late in (30.5, 600):
        clock.now += late
        assert not registry.lookup("acme.example.com").cache_hit
    assert dynamo.calls == ["acme.example.com"] * 3


def test_by_default_the_cache_holds_1024_hosts_and_evicts_the_oldest_beyond(dynamo: FakeDynamo, clock: Clock) -> None:
    registry = authorizer.Registry(TABLE, dynamo, clock=clock)
    hosts = [f"h{index}.example.com" for index in range(1025)]
    for host in hosts[:1024]:
        registry.lookup(host)
    assert registry.lookup(hosts[0]).cache_hit  # 1024 fit

    registry.lookup(hosts[1024])  # the 1025th pushes out the first written (a hit does not renew an entry)

    assert len(registry._cache) == 1024
    assert registry.lookup(hosts[1]).cache_hit
    assert not registry.lookup(hosts[0]).cache_hit


def test_malformed_hosts_never_reach_the_registry_or_the_cache(
    registry: authorizer.Registry, dynamo: FakeDynamo
) -> None:
    for host in ["", "a b.example.com", "x" * 300, "acme.example.com/../admin", "[::1]"]:
        assert effect(authorizer.decide(event(host), registry)) == "Deny"

    assert dynamo.calls == []
    assert len(registry._cache) == 0


# -- host rules ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.example.com", "acme.example.com"),
        ("ACME.Example.COM", "acme.example.com"),
        ("acme.example.com:443", "acme.example.com"),
        ("acme.example.com:8080", "acme.example.com"),
        ("acme.example.com.", "acme.example.com"),
        ("ACME.example.com.:443", "acme.example.com"),
        ("a-b.c-d.example.com", "a-b.c-d.example.com"),
        ("xn--bcher-kva.example.com", "xn--bcher-kva.example.com"),  # an IDN in its ASCII form
        (("a" * 63 + ".") * 3 + "a" * 61, ("a" * 63 + ".") * 3 + "a" * 61),  # 253 characters
        ("", None),
        (None, None),
        (42, None),
        (".", None),
        ("acme.example.com..", None),  # one trailing dot is stripped, not two
        ("localhost", None),
        ("acme..example.com", None),
        (".acme.example.com", None),
        ("-acme.example.com", None),
        ("acme-.example.com", None),
        ("acme_corp.example.com", None),
        ("a" * 64 + ".example.com", None),  # a label over 63
        (("a" * 63 + ".") * 3 + "a" * 62, None),  # 254 characters
        ("x" * 10_000, None),
        ("bücher.example.com", None),  # non-ASCII: must arrive as xn--
        ("acme.example.com\u200b", None),
        ("xn--.example.com", None),  # an empty A-label
        ("xn--ls8h.example.com", "xn--ls8h.example.com"),
        ("xn--abc.example.com", None),  # decodes to control characters
        ("xn--zz.example.com", None),  # not punycode at all
        ("xn--a-.example.com", None),  # punycode of plain ASCII is no IDN
        ("xn--a-ecp.example.com\x00", None),
        ("acme.example.com/admin", None),
        ("acme.example.com?x=1", None),
        ("acme.example.com#x", None),
        ("user@acme.example.com", None),
        ("user:pass@acme.example.com", None),
        ("acme.example.com ", None),
        (" acme.example.com", None),
        ("acme example.com", None),
        ("acme.example.com\t", None),
        ("acme.example.com:", None),
        ("acme.example.com:0", None),
        ("acme.example.com:65536", None),
        ("acme.example.com:443:443", None),
        ("acme.example.com:https", None),
        ("[::1]", None),
        ("[::1]:443", None),
        ("[2001:db8::1]", None),
        ("2001:db8::1", None),
        ("::1", None),
        ("127.0.0.1", None),
        ("10.0.0.1:443", None),
        ("*.example.com", None),
    ],
)
def test_host_normalisation(raw: Any, expected: str | None) -> None:
    assert authorizer.normalise_host(raw) == expected


def test_an_uppercase_host_with_port_and_trailing_dot_is_its_tenant(registry: authorizer.Registry) -> None:
    answer = authorizer.decide(event("ACME.EXAMPLE.COM.:443"), registry)

    assert effect(answer) == "Allow"
    assert answer["context"]["hostname"] == "acme.example.com"


def test_a_lower_case_host_header_name_is_read(registry: authorizer.Registry) -> None:
    assert effect(authorizer.decide(event(header="host"), registry)) == "Allow"
    assert effect(authorizer.decide(event(header="HOST"), registry)) == "Allow"


def test_a_missing_host_header_is_denied(registry: authorizer.Registry, dynamo: FakeDynamo) -> None:
    missing = event(host=None)
    also_missing = {**event(), "headers": None, "multiValueHeaders": None}

    for answer in (authorizer.decide(missing, registry), authorizer.decide(also_missing, registry)):
        assert effect(answer) == "Deny"
        assert answer["context"]["reason"] == "unknown-host"
    assert dynamo.calls == []


def test_the_host_from_multi_value_headers_alone_is_read(registry: authorizer.Registry) -> None:
    only_multi = {**event(), "headers": {}, "multiValueHeaders": {"Host": ["acme.example.com"]}}

    assert effect(authorizer.decide(only_multi, registry)) == "Allow"


def test_the_host_from_multi_value_headers_is_read_when_headers_is_null(registry: authorizer.Registry) -> None:
    request = {**event(), "headers": None, "multiValueHeaders": {"Host": ["acme.example.com"]}}

    assert effect(authorizer.decide(request, registry)) == "Allow"


@pytest.mark.parametrize(
    "headers",
    [
        {"headers": {"Host": "acme.example.com"}, "multiValueHeaders": {"Host": ["acme.example.com", "x.example.com"]}},
        {"headers": {"Host": "acme.example.com", "host": "globex.example.com"}, "multiValueHeaders": {}},
        {"headers": {"Host": ["acme.example.com"]}, "multiValueHeaders": {}},
    ],
)
def test_two_different_hosts_in_one_request_are_denied(
    registry: authorizer.Registry, dynamo: FakeDynamo, headers: dict[str, Any]
) -> None:
    answer = authorizer.decide({**event(), **headers}, registry)

    assert effect(answer) == "Deny"
    assert dynamo.calls == []


# -- logs ----------------------------------------------------------------------------------------
def test_one_json_log_line_per_decision_without_the_api_key(
    registry: authorizer.Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    for host in ["acme.example.com", "globex.example.com", "gone.example.com", "bad host", "acme.example.com"]:
        authorizer.decide(event(host), registry)
    output = capsys.readouterr().out

    lines = [json.loads(line) for line in output.splitlines()]
    assert [(line["host"], line["decision"], line["reason"]) for line in lines] == [
        ("acme.example.com", "allow", "active"),
        ("globex.example.com", "deny", "suspended"),
        ("gone.example.com", "deny", "unknown-host"),
        ("bad host", "deny", "malformed-host"),
        ("acme.example.com", "allow", "active"),
    ]
    assert [line.get("tenantId") for line in lines] == ["acme", "globex", None, None, "acme"]
    assert [line.get("cacheHit") for line in lines] == [False, False, False, None, True]
    assert all(line["requestId"] == "req-1" for line in lines)
    assert ACME_KEY not in output and "globex-key" not in output
    assert ACME_KEY not in repr(registry.lookup("acme.example.com").tenant)


def test_a_malformed_host_is_logged_up_to_100_characters(
    registry: authorizer.Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = "bad host " + "x" * 200

    authorizer.decide(event(raw), registry)

    [line] = log_lines(capsys)
    assert (line["reason"], line["host"]) == ("malformed-host", raw[:100])


def test_an_unexpected_errors_detail_is_logged_up_to_200_characters(
    registry: authorizer.Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = "arn:aws:execute-api:eu-west-1:123456789012:" + "a" * 300

    with pytest.raises(ValueError) as raised:
        authorizer.decide(event(method_arn=arn), registry)

    [line] = log_lines(capsys)
    assert (line["reason"], line["detail"]) == ("unexpected-error", str(raised.value)[:200])
    assert len(str(raised.value)) > 200


def matches_error_filter(line: dict[str, Any]) -> bool:
    """What the metric filter `{ $.decision = "error" }` selects (a JSON line whose decision is "error")."""
    assert authorizer.ERROR_LOG_FILTER == '{ $.decision = "error" }'
    return line.get("decision") == "error"


def test_only_the_functions_own_failures_match_the_error_filter(
    registry: authorizer.Registry, dynamo: FakeDynamo, capsys: pytest.CaptureFixture[str]
) -> None:
    # Refusals a client causes (unknown, malformed, suspended host): one line each, status 403, not errors.
    for host in ["gone.example.com", "bad host", "globex.example.com"]:
        authorizer.decide(event(host), registry)
    dynamo.error = EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/")
    with pytest.raises(EndpointConnectionError):
        authorizer.decide(event("acme.example.com"), registry)
    with pytest.raises(ValueError):
        authorizer.decide(event(method_arn="not-an-arn"), registry)

    lines = log_lines(capsys)
    assert [(line["decision"], line["status"], line["reason"]) for line in lines] == [
        ("deny", 403, "unknown-host"),
        ("deny", 403, "malformed-host"),
        ("deny", 403, "suspended"),
        ("error", 500, "registry-error"),
        ("error", 500, "unexpected-error"),
    ]
    assert [matches_error_filter(line) for line in lines] == [False, False, False, True, True]


def test_no_decision_writes_a_traceback(
    registry: authorizer.Registry, dynamo: FakeDynamo, capsys: pytest.CaptureFixture[str]
) -> None:
    dynamo.error = EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/")
    with pytest.raises(EndpointConnectionError):
        authorizer.decide(event(), registry)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert len(captured.out.splitlines()) == 1


# -- the Lambda entry point and the module's boundaries -------------------------------------------
def test_the_entry_point_reads_its_table_and_cache_ttl_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, dynamo: FakeDynamo
) -> None:
    monkeypatch.setenv("TENANT_TABLE", TABLE)
    monkeypatch.setenv("REGISTRY_CACHE_SECONDS", "0")
    monkeypatch.setattr(authorizer, "_registry", None)
    monkeypatch.setattr(authorizer, "new_client", lambda: dynamo)

    answers = [authorizer.handler(event(), None) for _ in range(2)]

    assert [effect(answer) for answer in answers] == ["Allow", "Allow"]
    assert dynamo.calls == ["acme.example.com"] * 2  # REGISTRY_CACHE_SECONDS=0: no cache
    assert authorizer.registry().table == TABLE


def test_the_entry_point_caches_for_30_seconds_by_default(monkeypatch: pytest.MonkeyPatch, dynamo: FakeDynamo) -> None:
    monkeypatch.setenv("TENANT_TABLE", TABLE)
    monkeypatch.delenv("REGISTRY_CACHE_SECONDS", raising=False)
    monkeypatch.setattr(authorizer, "_registry", None)
    monkeypatch.setattr(authorizer, "new_client", lambda: dynamo)

    assert authorizer.registry().ttl_seconds == 30


# boto3 is in the Lambda runtime; jwt (PyJWT) is pinned in the handler's requirements.txt and shipped in its zip.
ALLOWED_IMPORTS = {"boto3", "botocore", "jwt"}


def test_the_handler_imports_only_the_standard_library_boto3_and_its_pinned_library() -> None:
    tree = ast.parse((HANDLER_DIR / "handler.py").read_text())
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: the zip's root is the handler's folder"
            modules.add(str(node.module))
    tops = {module.split(".")[0] for module in modules}

    assert tops - ALLOWED_IMPORTS <= set(sys.stdlib_module_names)
    assert {"boto3", "botocore"} <= tops
    assert not tops & {"pulumi", "pulumi_aws", "whitelabel", "components", "services", "tools", "functions"}
    pinned = {pin.name for pin in read_pins((HANDLER_DIR / "requirements.txt").read_text())}
    assert "pyjwt" in pinned and "cryptography" in pinned


IMPORT_HANDLER = "import sys; sys.path.insert(0, '.'); import handler; "


def run_in_handler_folder(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter whose path starts at the handler's folder, as Lambda's does."""
    base = {"PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=HANDLER_DIR,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_importing_the_handler_loads_nothing_from_pulumi_or_the_program() -> None:
    code = IMPORT_HANDLER + "print('\\n'.join(sorted(m.split('.')[0] for m in sys.modules)))"
    done = run_in_handler_folder(code)

    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert {"handler", "boto3", "botocore"} <= loaded
    assert not loaded & {"pulumi", "pulumi_aws", "whitelabel", "components", "services", "tools", "functions"}


def test_in_lambda_the_client_is_built_at_import_and_a_missing_table_fails_the_init() -> None:
    lambda_env = {
        "AWS_LAMBDA_FUNCTION_NAME": "tenant-authorizer",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    code = IMPORT_HANDLER + "print(handler._registry.table, handler._registry.ttl_seconds)"

    built = run_in_handler_folder(code, TENANT_TABLE=TABLE, REGISTRY_CACHE_SECONDS="5", **lambda_env)
    no_table = run_in_handler_folder(code, **lambda_env)
    outside_lambda = run_in_handler_folder(
        "import sys; sys.path.insert(0, '.'); import handler; print(handler._registry)"
    )

    assert built.returncode == 0, built.stderr
    assert built.stdout.split() == [TABLE, "5.0"]
    assert no_table.returncode != 0 and "TENANT_TABLE" in no_table.stderr
    assert outside_lambda.stdout.strip() == "None"


def test_in_lambda_the_jwt_library_is_loaded_at_init_only_with_user_auth_on() -> None:
    from whitelabel.function_bundle import locked_wheels

    # In the zip, PyJWT sits beside the handler; here the locked wheel stands in for it.
    wheel = str(next(p for p in locked_wheels() if p.name.startswith("pyjwt-")))
    lambda_env = {
        "AWS_LAMBDA_FUNCTION_NAME": "tenant-authorizer",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TENANT_TABLE": TABLE,
        "PYTHONPATH": wheel,
    }
    code = IMPORT_HANDLER + "print('jwt' in sys.modules)"

    on = run_in_handler_folder(code, USER_AUTH="on", **lambda_env)
    off = run_in_handler_folder(code, **lambda_env)

    assert (on.returncode, off.returncode) == (0, 0), on.stderr + off.stderr
    assert (on.stdout.split(), off.stdout.split()) == (["True"], ["False"])


# -- the benchmark (tiny sizes: it runs and measures what it says) --------------------------------
def test_the_benchmark_measures_every_row_and_restores_the_container_registry() -> None:
    from tools import bench_authorizer

    rows = (
        bench_authorizer.decision_rows(50) + bench_authorizer.auth_decision_rows(20) + bench_authorizer.import_rows(1)
    )
    table = bench_authorizer.markdown(rows)

    assert [row.measure.split(",")[0] for row in rows] == (
        ["decision"] * 3 + ["decision with a token"] * 2 + ["cold import"] * 3
    )
    assert [row.goal_ms for row in rows[-3:]] == [300.0, 300.0, 400.0]
    assert all(row.p50_ms > 0 for row in rows)
    assert all(row.p99_ms is not None and row.p99_ms >= row.p50_ms for row in rows[:5])
    assert table.count("\n") == len(rows) + 1
    assert authorizer._registry is None
