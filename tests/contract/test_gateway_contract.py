"""Contract: real HTTP through the API definition we deploy, in LocalStack, for every dev customer.

The API is what the program registers for the contract stack, applied by `tools/applier.py`; only the
services' origins are local stand-ins (its `Substitutions`). Each customer calls with
`Host: <subdomain>.<baseDomain>`. The tenant authorizer is in front of every method, as deployed: each dev
customer is a known, active tenant in the registry (the program's registered items), and the tenant headers
come from its decision (the tenant cases, and what of the authorizer step is emulated, are in
`test_tenant_contract.py`).

Known emulator limitations (LocalStack 4.12.0, host mode), so not proven here:
- VPC link v2 private integrations (connection_type/connection_id/integration_target) are not emulated;
  the services are reached directly at the stand-ins' loopback addresses.
- Custom domain names are not routed by Host: requests go to the stage's path-based URL with the
  customer's Host header, which LocalStack turns into context.domainName / context.domainPrefix.
- Its binary-media-type matcher ignores a `*/*` entry, unlike AWS; `emulator_site/sitecustomize.py`
  makes `*/*` match as AWS documents, inside the emulator only (the API definition is unchanged).
- It returns a CONVERT_TO_TEXT integration response's base64 as bytes and then refuses to apply the
  response template (a 500); the same sitecustomize hands it on as text, as AWS does.
- IAM is not enforced: the docs role is created and set as the integration's credentials, but its
  policy (s3:GetObject, s3:ListBucket) is not evaluated, so a missing key is S3's 404 regardless.
- A dead backend is "connection refused"; a backend that accepts and never answers (the 29 s
  integration timeout) is not exercised, to keep the suite fast.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from .conftest import REPO, dev_stack

pytestmark = pytest.mark.contract

SETTINGS, _ = dev_stack()
CUSTOMERS = [pytest.param(SETTINGS.fqdn(c), c.subdomain, id=c.subdomain) for c in SETTINGS.customers]
SERVICES = ["service1", "service2"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
REPO_DOCS = REPO / SETTINGS.docs.folder
DOCUMENT_TYPES = {
    "index.html": "text/html",
    "style.css": "text/css",
    "logo.png": "image/png",
    "guide.pdf": "application/pdf",
}


def content_type_of(documents: list[tuple[str, Path, str]], key: str) -> str:
    return next(content_type for k, _, content_type in documents if k == key)


def assert_single_header(record: dict, name: str, value: str) -> None:
    values = [v for k, v in record["headers"] if k.lower() == name.lower()]
    assert values == [value], f"{name}: {values}"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(("host", "subdomain"), CUSTOMERS)
def test_service_request_reaches_its_backend_after_the_prefix(call, api, backends, host, subdomain, service, method):
    body = '{"order": 7, "note": "grüße €"}'.encode() if method != "GET" else None
    headers = {"Content-Type": "application/json"} if body else {}

    response = call(api, method, f"/{service}/orders/7/lines?x=1&tag=a&tag=b%20c", host, body, headers)

    assert response.status == 200, response.body
    [record] = backends[service].received
    assert record["method"] == method
    assert record["path"] == "/orders/7/lines"
    assert parse_qs(record["query"]) == {"x": ["1"], "tag": ["a", "b c"]}
    assert base64.b64decode(record["body_b64"]) == (body or b"")
    other = next(s for s in SERVICES if s != service)
    assert backends[other].received == []


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(("host", "subdomain"), CUSTOMERS)
def test_binary_request_body_reaches_the_backend_byte_for_byte(call, api, backends, host, subdomain, service):
    body = bytes(range(256)) * 4

    response = call(api, "PUT", f"/{service}/uploads/blob", host, body, {"Content-Type": "application/octet-stream"})

    assert response.status == 200, response.body
    [record] = backends[service].received
    assert base64.b64decode(record["body_b64"]) == body


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(("host", "subdomain"), CUSTOMERS)
def test_prefix_alone_reaches_the_backend_root(call, api, backends, host, subdomain, service, method):
    response = call(api, method, f"/{service}?page=2", host, b"{}" if method == "POST" else None)

    assert response.status == 200, response.body
    [record] = backends[service].received
    assert (record["method"], record["path"], record["query"]) == (method, "/", "page=2")


@pytest.mark.parametrize("path", ["", "/orders/7"])
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(("host", "subdomain"), CUSTOMERS)
def test_backend_learns_the_tenant_from_the_host(call, api, backends, host, subdomain, service, path):
    call(api, "GET", f"/{service}{path}", host)

    [record] = backends[service].received
    assert_single_header(record, "X-Tenant-Id", subdomain)
    assert_single_header(
        record, "X-Tenant-Tier", next(SETTINGS.tier_of(c) for c in SETTINGS.customers if c.subdomain == subdomain)
    )
    assert_single_header(record, "X-Tenant-Domain", host)


@pytest.mark.parametrize("path", ["", "/orders/7"])
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(("host", "subdomain"), CUSTOMERS)
def test_forged_tenant_headers_are_overwritten(call, api, backends, host, subdomain, service, path):
    forged = {"X-Tenant-Id": "someone-else", "X-Tenant-Domain": "someone-else.dev.example.com"}

    call(api, "POST", f"/{service}{path}", host, b"{}", forged)

    [record] = backends[service].received
    assert_single_header(record, "X-Tenant-Id", subdomain)
    assert_single_header(record, "X-Tenant-Domain", host)


@pytest.mark.parametrize(("host", "subdomain"), CUSTOMERS)
def test_docs_root_serves_the_index(call, api, documents, host, subdomain):
    index = REPO_DOCS / "index.html"

    response = call(api, "GET", "/docs", host)

    assert response.status == 200, response.body
    assert response.headers["Content-Type"] == content_type_of(documents, "index.html")
    assert response.body == index.read_bytes()


@pytest.mark.parametrize(("key", "media_type"), DOCUMENT_TYPES.items())
@pytest.mark.parametrize(("host", "subdomain"), CUSTOMERS)
def test_document_is_served_with_its_content_type_and_exact_bytes(
    call, api, documents, host, subdomain, key, media_type
):
    uploaded_type = content_type_of(documents, key)
    assert uploaded_type.split(";")[0] == media_type  # the program stores the type a browser needs

    response = call(api, "GET", f"/docs/{key}", host)

    assert response.status == 200, response.body[:200]
    assert response.headers["Content-Type"] == uploaded_type
    assert response.body == (REPO_DOCS / key).read_bytes()


@pytest.mark.parametrize("key", ["missing.pdf", "no/such/folder/page.html"])
@pytest.mark.parametrize(("host", "subdomain"), CUSTOMERS)
def test_missing_document_is_a_client_error(call, api, documents, host, subdomain, key):
    response = call(api, "GET", f"/docs/{key}", host)

    assert 400 <= response.status < 500, (response.status, response.body)
    # Our own small body, never S3's error document (which names the bucket and the key).
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body) == {"message": "Not Found"}


@pytest.mark.parametrize("key", ["logo.png", "guide.pdf"])
@pytest.mark.parametrize(("host", "subdomain"), CUSTOMERS[:1])
def test_binary_document_is_intact_without_an_accept_header(call, api, documents, host, subdomain, key):
    response = call(api, "GET", f"/docs/{key}", host, headers={"Accept": None})

    assert response.status == 200, response.body[:200]
    assert response.body == (REPO_DOCS / key).read_bytes()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/admin"),
        ("GET", "/service3/orders"),
        ("GET", "/service1x/orders"),
        ("POST", "/docs"),
        ("DELETE", "/docs/index.html"),
    ],
)
@pytest.mark.parametrize(("host", "subdomain"), CUSTOMERS)
def test_request_outside_the_routes_is_refused_and_reaches_no_backend(
    call, api, backends, host, subdomain, method, path
):
    response = call(api, method, path, host, b"{}" if method == "POST" else None)

    assert 400 <= response.status < 500, (response.status, response.body)
    assert all(stand_in.received == [] for stand_in in backends.values())


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(("host", "subdomain"), CUSTOMERS)
def test_backend_that_is_down_gives_a_gateway_error_promptly(call, api_with_backends_down, host, subdomain, service):
    response = call(api_with_backends_down, "GET", f"/{service}/orders/7", host)

    assert response.status >= 500, (response.status, response.body)
    assert response.seconds < 30  # within the 29 s integration timeout, never a hang
