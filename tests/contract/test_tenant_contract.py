"""Contract: who a request belongs to, decided by the real tenant authorizer over real HTTP.

Everything served is what the program registers for the contract stack, applied by `tools/applier.py`: the
routes, the REQUEST authorizer with the Host identity source and the configured TTL, API key source
AUTHORIZER, our gateway responses, a usage plan per tier, a key per tenant; the authorizer function with its
registered code archive and environment, run by LocalStack's Lambda; the registry table (moto's server on
127.0.0.1) with the program's registered items. The contract stack is the dev stack plus a second shared
customer on another tier, a customer with its own domain and a suspended one (`conftest.contract_config`).

What is emulated, and so proven only as far as the emulation is faithful (see `emulator_site/`):
- API Gateway's Lambda authorizer step: LocalStack 4.12 community never calls a REST API's Lambda
  authorizer. `emulator_site/lambda_authorizer.py` adds the step as AWS documents it (REQUEST event,
  cache per identity source for the TTL, policy evaluated against the method ARN, 401/403/500, context
  into `$context.authorizer.*`, `usageIdentifierKey` as the request's API key). Every test here checks the
  emulator's record of that step, so a blanket 403 or 200 cannot pass: the function really ran (or, for a
  missing route, really did not).
- Mutual TLS: LocalStack has no TLS client certificates; the emulated authorizer step turns a test-only
  header into `requestContext.identity.clientCert` (standing for a certificate the handshake presented and
  the domain's truststore accepted). What is proven is the authorizer's decision on AWS's event shape, not
  the handshake.
- Lambda: LocalStack's executor needs Docker; `emulator_site/local_process_executor.py` runs the function
  in a local Python process (LocalStack's Python 3.11 with boto3, not the deployed runtime's version).
- Gateway responses: LocalStack ignores their templates and header mappings; `emulator_site/gateway_responses.py`
  applies them as AWS does (simple variable substitution).

Not emulated, so not proven here: usage-plan throttling and quotas (LocalStack checks that the key is in a
usage plan of the stage, and nothing more). The key wiring is proven instead: a tenant's request passes
LocalStack's API-key check only with the key the authorizer returns, and a tenant whose key was taken out of
its plan (outside Pulumi) is refused (403, INVALID_API_KEY) although the authorizer allowed it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tools.applier import Applied
from whitelabel.config import resource_prefix

from .conftest import (
    PROJECT,
    STAGE,
    STARK_CA,
    WAYNE_CA,
    contract_config,
    contract_stack,
    dev_stack,
    mtls_contract_config,
    settings_of,
)

pytestmark = pytest.mark.contract

SETTINGS = contract_stack()
UNKNOWN_HOST = "nobody.dev.example.com"
# (host, tenant id, tier): the two shared customers on different tiers, the dedicated one, and the own
# domain, whose first label (`api`) is not the customer's name.
SERVED = [
    pytest.param("acme.dev.example.com", "acme", "standard", id="shared-acme"),
    pytest.param("initech.dev.example.com", "initech", "gold", id="shared-initech-gold"),
    pytest.param("globex.dev.example.com", "globex", "standard", id="dedicated-globex"),
    pytest.param("api.hooli-portal.example", "hooli", "standard", id="own-domain-hooli"),
]


@pytest.fixture(autouse=True)
def _fresh_authorizer(decisions: Any) -> None:
    """Each test starts with an empty authorizer cache and record, so it sees its own invocations."""
    decisions.reset()


def header_values(record: dict, name: str) -> list[str]:
    return [value for key, value in record["headers"] if key.lower() == name.lower()]


def no_backend_hit(backends: dict) -> bool:
    return all(stand_in.received == [] for stand_in in backends.values())


def assert_our_body(response: Any, error: str, **fields: str) -> dict:
    """Our gateway-response body (never AWS's wording), with the request id filled in."""
    assert response.headers["Content-Type"] == "application/json", response.headers
    body = response.json()
    assert body["error"] == error, body
    assert body["requestId"], body  # $context.requestId was substituted
    for key, value in fields.items():
        assert body[key] == value, body
    return body


@pytest.mark.parametrize(("host", "tenant", "tier"), SERVED)
@pytest.mark.parametrize("path", ["/service1/orders/7", "/service2"])
def test_tenant_reaches_the_backend_as_itself(call, api, contract, backends, decisions, host, tenant, tier, path):
    assert contract.outputs["tenants"][tenant]["tier"] == tier  # the contract stack's tiers, as configured

    response = call(api, "GET", path, host)

    assert response.status == 200, response.body
    [record] = backends[path.split("/")[1]].received
    assert header_values(record, "X-Tenant-Id") == [tenant]
    assert header_values(record, "X-Tenant-Tier") == [tier]
    assert header_values(record, "X-Tenant-Domain") == [host]
    [decision] = decisions.invoked(api, host)
    assert decision["outcome"] == "allow"


def test_own_domain_identity_is_the_customer_not_the_first_label(call, api, backends, decisions):
    response = call(api, "GET", "/service1/whoami", "api.hooli-portal.example")

    assert response.status == 200, response.body
    [record] = backends["service1"].received
    assert header_values(record, "X-Tenant-Id") == ["hooli"]  # context.domainPrefix would say "api"
    assert len(decisions.invoked(api, "api.hooli-portal.example")) == 1


def test_docs_are_behind_the_authorizer_too(call, api, documents, decisions):
    allowed = call(api, "GET", "/docs/index.html", "acme.dev.example.com")
    refused = call(api, "GET", "/docs/index.html", UNKNOWN_HOST)

    assert allowed.status == 200, allowed.body
    assert refused.status == 403, refused.body
    assert_our_body(refused, "forbidden", reason="unknown-host")
    assert [d["outcome"] for d in decisions.invoked(api)] == ["allow", "deny"]


def test_suspended_tenant_is_refused_with_our_body_and_reaches_no_backend(call, api, backends, decisions):
    host = "umbrella.dev.example.com"

    response = call(api, "POST", "/service1/orders", host, b"{}", {"Content-Type": "application/json"})

    assert response.status == 403, response.body
    assert_our_body(response, "forbidden", reason="suspended", message="This tenant is suspended")
    assert no_backend_hit(backends)
    [decision] = decisions.invoked(api, host)
    assert decision["outcome"] == "deny"


@pytest.mark.parametrize("path", ["/service1/orders/7", "/service2", "/docs"])
def test_unknown_host_is_refused_and_reaches_no_backend(call, api, backends, decisions, path):
    response = call(api, "GET", path, UNKNOWN_HOST)

    assert response.status == 403, response.body
    assert_our_body(response, "forbidden", reason="unknown-host")
    assert no_backend_hit(backends)
    [decision] = decisions.invoked(api, UNKNOWN_HOST)
    assert decision["outcome"] == "deny"


def test_execute_api_hostname_is_an_unknown_host(localstack, api, backends, decisions):
    # Deployed, the execute-api endpoint is disabled; were it reachable, its hostname is in no registry item.
    # (LocalStack routes this hostname itself, like AWS: `https://<host>/<stage>/<path>`.)
    _, region = dev_stack()
    host = f"{api}.execute-api.{region}.amazonaws.com"
    conn = http.client.HTTPConnection(localstack.removeprefix("http://"), timeout=10)
    try:
        conn.request("GET", f"/{STAGE}/service1/orders", headers={"Host": host})
        raw = conn.getresponse()
        status, content_type, body = raw.status, raw.headers["Content-Type"], raw.read()
    finally:
        conn.close()

    assert status == 403, body
    assert content_type == "application/json"
    assert json.loads(body)["reason"] == "unknown-host"
    assert no_backend_hit(backends)
    assert [d["outcome"] for d in decisions.invoked(api, host)] == ["deny"]


def test_one_decision_per_host_is_cached_and_serves_every_path(call, api, backends, decisions):
    host = "initech.dev.example.com"

    first = call(api, "GET", "/service1/a", host)
    second = call(api, "POST", "/service2/b/c", host, b"{}")
    other_tenant = call(api, "GET", "/service1/a", "acme.dev.example.com")

    assert (first.status, second.status, other_tenant.status) == (200, 200, 200)
    # The function ran once for initech: its Allow (for the whole stage) was reused for another method
    # and path; acme, another identity, got its own invocation and its own tenant id.
    assert len(decisions.invoked(api, host)) == 1
    assert len(decisions.invoked(api, "acme.dev.example.com")) == 1
    assert [d["invoked"] for d in decisions.all() if d["identity"] == [host]] == [True, False]
    assert header_values(backends["service1"].received[-1], "X-Tenant-Id") == ["acme"]


@pytest.mark.parametrize("service", ["service1", "service2"])
def test_forged_tenant_headers_are_overwritten(call, api, backends, decisions, service):
    forged = {"X-Tenant-Id": "acme", "X-Tenant-Tier": "gold", "X-Tenant-Domain": "acme.dev.example.com"}

    response = call(api, "GET", f"/{service}/orders", "globex.dev.example.com", headers=forged)

    assert response.status == 200, response.body
    [record] = backends[service].received
    assert header_values(record, "X-Tenant-Id") == ["globex"]
    assert header_values(record, "X-Tenant-Tier") == ["standard"]
    assert header_values(record, "X-Tenant-Domain") == ["globex.dev.example.com"]
    assert len(decisions.invoked(api, "globex.dev.example.com")) == 1


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nothing-here"), ("GET", "/service3/orders"), ("DELETE", "/docs/index.html")]
)
def test_missing_route_gives_our_404_without_calling_the_authorizer(call, api, backends, decisions, method, path):
    response = call(api, method, path, "acme.dev.example.com")

    assert response.status == 404, response.body
    assert_our_body(response, "not-found", message="Not found")
    assert no_backend_hit(backends)
    # API Gateway answers a path or method the API does not have before any authorizer runs (there is no
    # method, so no authorizer): the record shows no decision at all, not a cached one.
    assert decisions.all() == []


# --- The key the authorizer returns is the tenant's usage identifier ------------------------------------


@pytest.fixture(scope="module")
def drifted(serve: Any, aws: Any) -> tuple[str, str]:
    """The contract stack applied again (its own prefix), then initech's key taken out of its usage plan by hand,
    as an operator could do outside Pulumi (the registry item still names the key); yields (API id, host)."""
    applied: Applied = serve(contract_config(prefix="drift"))
    apigateway = aws("apigateway")
    key_id = applied.outputs["tenants"]["initech"]["apiKeyId"]
    [plan] = apigateway.get_usage_plans(keyId=key_id)["items"]
    apigateway.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key_id)
    return applied.api_id, "initech.dev.example.com"


def test_tenant_key_from_the_authorizer_passes_the_api_key_check(call, api, contract, aws, decisions):
    # Clients send no key: the request passes LocalStack's check (apiKeyRequired, key source AUTHORIZER)
    # only through the usageIdentifierKey the authorizer read from the registry.
    apigateway = aws("apigateway")
    key = apigateway.get_api_key(apiKey=contract.outputs["tenants"]["initech"]["apiKeyId"], includeValue=True)
    plans = apigateway.get_usage_plans(keyId=key["id"])["items"]

    response = call(api, "GET", "/service1/orders", "initech.dev.example.com", headers={"X-API-Key": "ignored"})

    assert response.status == 200, response.body
    assert key["name"] == f"{resource_prefix(SETTINGS, PROJECT, STAGE)}-initech"
    # The value the emulator generated for the key is the one the registered item carries (resolved as the engine
    # resolves `ApiKey.value`).
    assert contract.items()["initech.dev.example.com"]["apiKey"] == {"S": key["value"]}
    assert [p["name"] for p in plans if {"apiId": api, "stage": STAGE} in p["apiStages"]] == [
        f"{resource_prefix(SETTINGS, PROJECT, STAGE)}-gold"
    ]
    assert [d["outcome"] for d in decisions.invoked(api)] == ["allow"]


def test_allowed_host_with_a_key_outside_every_plan_is_refused(call, backends, decisions, drifted):
    api_id, host = drifted

    response = call(api_id, "GET", "/service1/orders", host)

    assert response.status == 403, response.body
    assert_our_body(response, "forbidden", message="This tenant has no access to the API")
    assert no_backend_hit(backends)
    # The authorizer allowed it: the refusal is the usage-plan check on the key it returned.
    assert [d["outcome"] for d in decisions.invoked(api_id, host)] == ["allow"]


# --- Registry outage: fail closed, nothing cached ------------------------------------------------------


class RegistryStandIn:
    """The registry's address as the function sees it: a port of 127.0.0.1 that refuses every connection (bound,
    not listening) until `forward()`, or holds each connection without answering (`hang=True`); once forwarding,
    it relays each connection to moto's server."""

    def __init__(self, hang: bool = False) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.target: tuple[str, int] | None = None
        if hang:
            self._listen()

    def forward(self, endpoint: str) -> None:
        host, port = endpoint.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self._listen()

    def _listen(self) -> None:
        self.socket.listen()
        threading.Thread(target=self._accept, name="registry-stand-in", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.socket.accept()
            except OSError:
                return  # closed
            if self.target is None:
                self.held.append(client)  # never answered: the function's read times out
                continue
            upstream = socket.create_connection(self.target, timeout=10)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.socket.close()
        for held in self.held:
            held.close()


@pytest.fixture(scope="module")
def registry_down(serve: Any) -> Iterator[tuple[str, RegistryStandIn]]:
    """The contract stack applied with its functions reaching the registry at a stand-in that refuses every
    connection (until told to forward); yields (API id, the stand-in)."""
    stand_in = RegistryStandIn()
    try:
        yield serve(contract_config(prefix="outage"), registry_endpoint=stand_in.endpoint).api_id, stand_in
    finally:
        stand_in.close()


def test_registry_outage_fails_closed_and_is_not_cached(call, backends, decisions, dynamodb_endpoint, registry_down):
    api_id, stand_in = registry_down
    host = "acme.dev.example.com"

    first = call(api_id, "GET", "/service1/orders", host)
    second = call(api_id, "GET", "/service1/orders", host)

    for response in (first, second):
        assert response.status == 500, response.body
        assert_our_body(response, "tenant-check-failed")
    assert no_backend_hit(backends)
    # Both requests ran the function, which failed because it could not reach the registry (not for
    # any other reason): a failure is never cached as a decision.
    failures = decisions.invoked(api_id, host)
    assert [d["outcome"] for d in failures] == ["function-error", "function-error"]
    assert all("Could not connect to the endpoint URL" in d["error"] for d in failures), failures

    # The registry is back (its address now reaches moto's server): the next request is served, without a flush.
    stand_in.forward(dynamodb_endpoint)
    recovered = call(api_id, "GET", "/service1/orders", host)

    assert recovered.status == 200, recovered.body
    assert [d["outcome"] for d in decisions.invoked(api_id, host)][-1] == "allow"


@pytest.fixture(scope="module")
def registry_hangs(serve: Any) -> Iterator[str]:
    """The contract stack applied with its functions reaching a registry that accepts and never answers."""
    stand_in = RegistryStandIn(hang=True)
    try:
        yield serve(contract_config(prefix="hang"), registry_endpoint=stand_in.endpoint).api_id
    finally:
        stand_in.close()


def test_a_registry_that_never_answers_fails_closed_promptly(call, backends, decisions, registry_hangs):
    # The function gives up on the registry (its own read timeout and retry, inside its registered 5 s timeout):
    # API Gateway gets a function error and refuses the request with our 500, never the backend.
    response = call(registry_hangs, "GET", "/service1/orders", "acme.dev.example.com")

    assert response.status == 500, response.body
    assert_our_body(response, "tenant-check-failed")
    assert response.seconds < 6
    assert no_backend_hit(backends)
    [decision] = decisions.invoked(registry_hangs)
    assert decision["outcome"] == "function-error"
    assert "Read timeout on endpoint URL" in decision["error"], decision


# --- X-Tenant-Domain is the hostname the registry matched, not the Host as sent --------------------------


@pytest.mark.parametrize("sent", ["ACME.DEV.EXAMPLE.COM:443", "acme.dev.example.com.", "Acme.Dev.Example.Com."])
def test_tenant_domain_is_the_normalised_hostname_not_the_host_as_sent(call, api, backends, decisions, sent):
    response = call(api, "GET", "/service1/orders", sent)

    assert response.status == 200, response.body
    [record] = backends["service1"].received
    assert header_values(record, "X-Tenant-Domain") == ["acme.dev.example.com"]
    assert header_values(record, "X-Tenant-Id") == ["acme"]
    [decision] = decisions.invoked(api, sent)  # the function really ran on the Host as sent
    assert decision["outcome"] == "allow"


# --- Mutual TLS: an mTLS customer's hostnames need that customer's client certificate ---------------------
# LocalStack has no TLS client certificates: the emulator's authorizer step turns the test-only header
# `X-Emulator-Client-Cert` into `requestContext.identity.clientCert`, as API Gateway forwards a certificate the
# domain's truststore accepted (emulator_site/lambda_authorizer.py). Its shape is AWS's:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
MTLS_SETTINGS = settings_of(mtls_contract_config())
STARK_HOST = "stark.dev.example.com"
CLIENT_CERT_HEADER = "X-Emulator-Client-Cert"


def presented(issuer: str, subject: str) -> dict[str, str]:
    """Headers for a request whose TLS handshake presented a certificate from `issuer` (emulated)."""
    cert = {
        "clientCertPem": "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n",
        "subjectDN": subject,
        "issuerDN": issuer,
        "serialNumber": "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
        "validity": {"notBefore": "May 28 12:30:02 2025 GMT", "notAfter": "Aug  5 09:36:04 2035 GMT"},
    }
    return {CLIENT_CERT_HEADER: json.dumps(cert)}


@pytest.fixture(scope="module")
def mtls_api(serve: Any) -> str:
    """The mutual-TLS contract stack applied (authorizer TTL 0, stark's and wayne's issuers in their registry
    items as the program registers them); returns its API id."""
    applied: Applied = serve(mtls_contract_config())
    items = applied.items()
    assert items[STARK_HOST]["mtlsIssuers"] == {"L": [{"S": STARK_CA}]}, items[STARK_HOST]
    return applied.api_id


def test_mtls_customer_with_its_certificate_reaches_the_backend(call, mtls_api, backends, decisions):
    headers = presented(STARK_CA, "CN=billing.stark.example,O=Stark Industries,C=US")

    response = call(mtls_api, "GET", "/service1/orders", STARK_HOST, headers=headers)

    assert response.status == 200, response.body
    [record] = backends["service1"].received
    assert header_values(record, "X-Tenant-Id") == ["stark"]
    assert header_values(record, CLIENT_CERT_HEADER) == []  # the stand-in header never leaves the emulator
    assert [d["outcome"] for d in decisions.invoked(mtls_api, STARK_HOST)] == ["allow"]


def test_mtls_host_without_a_certificate_is_refused_and_reaches_no_backend(call, mtls_api, backends, decisions):
    # Attack 1: a plain handshake on another domain (the wildcard: no truststore, so no clientCert), then
    # `Host: <the mTLS customer's hostname>`.
    response = call(mtls_api, "GET", "/service1/orders", STARK_HOST)

    assert response.status == 403, response.body
    assert_our_body(response, "forbidden", reason="unknown-host")
    assert no_backend_hit(backends)
    assert [d["outcome"] for d in decisions.invoked(mtls_api, STARK_HOST)] == ["deny"]


def test_mtls_host_with_another_customers_certificate_is_refused(call, mtls_api, backends, decisions):
    # Attack 2: a certificate Wayne's truststore accepts (handshake on Wayne's domain), then `Host: stark...`.
    headers = presented(WAYNE_CA, "CN=ops.wayne.example,O=Wayne Enterprises,C=US")

    refused = call(mtls_api, "GET", "/service1/orders", STARK_HOST, headers=headers)
    own = call(mtls_api, "GET", "/service1/orders", "wayne.dev.example.com", headers=headers)

    assert refused.status == 403, refused.body
    assert_our_body(refused, "forbidden", reason="unknown-host")
    assert own.status == 200, own.body  # the same certificate is good for Wayne's own hostname
    [record] = backends["service1"].received
    assert header_values(record, "X-Tenant-Id") == ["wayne"]
    assert [d["outcome"] for d in decisions.invoked(mtls_api, STARK_HOST)] == ["deny"]


def test_an_allowed_mtls_request_is_not_reused_for_one_without_a_certificate(call, mtls_api, backends, decisions):
    # With API Gateway's per-Host decision cache on, the first Allow would serve the second request: the
    # config requires authorizer.cacheTtlSeconds 0 with mutual TLS, and this API is deployed with it.
    assert MTLS_SETTINGS.authorizer.cache_ttl_seconds == 0
    headers = presented(STARK_CA, "CN=billing.stark.example,O=Stark Industries,C=US")

    allowed = call(mtls_api, "GET", "/service1/orders", STARK_HOST, headers=headers)
    replayed = call(mtls_api, "GET", "/service1/orders", STARK_HOST)

    assert (allowed.status, replayed.status) == (200, 403), (allowed.body, replayed.body)
    assert len(backends["service1"].received) == 1
    assert [d["outcome"] for d in decisions.invoked(mtls_api, STARK_HOST)] == ["allow", "deny"]
