"""Contract: a developer portal per tenant through the API in LocalStack (README "Developer portal per tenant").

The contract stack with `docs.perTenant` on and a brand for acme and globex, applied by `tools/applier.py`: the docs
backend's per-tenant routes (`{tenant}` mapped from the tenant authorizer's `context.authorizer.tenantId`), the
real authorizer, and in the bucket exactly the objects the program registers (keys, bodies, Content-Types). acme's host
must get acme's page and document, globex's globex's; no path, encoding or header on acme's host reaches globex's.
A headless Chromium (Debian's `chromium`) then opens acme's page and must list the API's operations.

Loopback only: the page is served by a stand-in for acme's domain on 127.0.0.1 and Chromium resolves no name. Run in
a loopback-only namespace under strace, its one connect elsewhere is its IPv6 reachability probe: connect(2) of a
UDP socket to 2001:4860:4860::8888, which sends no packet (ENETUNREACH there); every other connect is to 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from services.docs_bucket import document_files
from tools.applier import Applied
from whitelabel.config import customer_entries
from whitelabel.offline import stack_file_config
from whitelabel.portal import guide_documents

from .conftest import EXTRA_CUSTOMERS, PROJECT, REPO, STAGE, contract_config

pytestmark = pytest.mark.contract

ACME, GLOBEX = "acme.dev.example.com", "globex.dev.example.com"
BRANDING = {
    "acme": {"displayName": "Acme Rockets", "primaryColor": "#c0392b", "supportEmail": "dev@acme.example"},
    "globex": {"displayName": "Globex Cloud", "primaryColor": "#1e8449", "supportUrl": "https://help.globex.example"},
}
BUILD = REPO / "build"
# The operator's documents that keep their addresses beside the tenants' pages (docs.perTenant).
GUIDES = guide_documents([key for key, _, _ in document_files(str(REPO / "documents"))])


def portal_config() -> dict[str, Any]:
    """The contract stack's config (the dev stack file, `EXTRA_CUSTOMERS`, `TIERS`) with `docs.perTenant` and a
    brand for the stack, acme and globex."""
    entries = [*customer_entries(stack_file_config(STAGE)[f"{PROJECT}:customers"]), *EXTRA_CUSTOMERS]
    customers = [{**e, **({"branding": BRANDING[e["name"]]} if e["name"] in BRANDING else {})} for e in entries]
    return contract_config(
        prefix="portal", customers=customers, docs={"perTenant": True}, branding={"displayName": "Example"}
    )


@pytest.fixture(scope="module")
def portal(serve: Any) -> Applied:
    """The portal stack applied: its routes, and every object it registers in its docs bucket."""
    return serve(portal_config())


@pytest.fixture(scope="module")
def portal_objects(portal: Applied) -> dict[str, dict[str, Any]]:
    """What the program registers under `tenants/` and `portal/`; key → inputs."""
    return {
        r.inputs["key"]: r.inputs
        for r in portal.run.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
        if r.inputs["key"].startswith(("tenants/", "portal/"))
    }


@pytest.fixture(scope="module")
def portal_api(portal: Applied) -> str:
    return portal.api_id


def _document(call, api: str, host: str) -> dict[str, Any]:
    response = call(api, "GET", "/docs/openapi.json", host)
    assert response.status == 200, response.body[:200]
    return json.loads(response.body)


def test_each_tenants_host_serves_its_own_brand_and_servers(call, portal_api, portal_objects, decisions):
    for host, tenant, other in ((ACME, "acme", "globex"), (GLOBEX, "globex", "acme")):
        page = call(portal_api, "GET", "/docs", host)
        assert page.status == 200, page.body[:200]
        assert page.headers["Content-Type"].startswith("text/html")
        assert page.body.decode() == portal_objects[f"tenants/{tenant}/index.html"]["content"]
        assert BRANDING[tenant]["primaryColor"] in page.body.decode()
        assert BRANDING[other]["primaryColor"] not in page.body.decode()

        document = _document(call, portal_api, host)
        assert document["info"]["title"] == f"{BRANDING[tenant]['displayName']} API"
        assert [s["url"] for s in document["servers"]] == [f"https://{host}"]
        assert other not in json.dumps(document)
        assert decisions.invoked(portal_api, host), f"the authorizer never ran for {host}"


def test_the_shared_renderer_is_served_to_every_tenant_as_pinned(call, portal_api):
    pinned = (REPO / "vendor/redoc/redoc.standalone.js").read_bytes()
    for host in (ACME, GLOBEX):
        response = call(portal_api, "GET", "/docs/portal/redoc.standalone.js", host)
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/javascript"
        assert response.body == pinned


def test_the_operators_documents_keep_their_addresses_for_every_tenant(call, portal_api):
    assert "guide.pdf" in GUIDES
    for host in (ACME, GLOBEX):
        for key in GUIDES:
            response = call(portal_api, "GET", f"/docs/{key}", host)
            assert response.status == 200, (host, key, response.status)
            assert response.body == (REPO / "documents" / key).read_bytes()
        assert "Guides: [guide.pdf](/docs/guide.pdf)" in _document(call, portal_api, host)["info"]["description"]


# Ways a client on acme's host might name globex's objects: its path (plain, dot segments, encoded slashes and
# dots), and headers that name a tenant. None may return anything of globex's.
TRAVERSALS = [
    "/docs/../globex/index.html",
    "/docs/..%2Fglobex%2Findex.html",
    "/docs/%2e%2e/globex/openapi.json",
    "/docs/%2E%2E%2Fglobex%2Fopenapi.json",
    "/docs/tenants/globex/index.html",
    "/docs/..%2F..%2Ftenants%2Fglobex%2Fopenapi.json",
    "/docs/../../tenants/globex/openapi.json",
    "/docs/%252e%252e%252fglobex%252fopenapi.json",
    "/docs/portal/../../tenants/globex/openapi.json",
]
FORGED_HEADERS = [
    {"X-Tenant-Id": "globex"},
    {"X-Forwarded-Host": GLOBEX},
    {"X-Original-Host": GLOBEX},
    {"Forwarded": f"host={GLOBEX}"},
]


def _nothing_of_globex(body: bytes) -> None:
    text = body.decode(errors="replace")
    assert "Globex" not in text and BRANDING["globex"]["primaryColor"] not in text, text[:300]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_on_acmes_host_reads_globexs_pages(call, portal_api, path):
    # No per-tenant route takes a key from the client, so each of these matches no route at all: not found.
    response = call(portal_api, "GET", path, ACME)
    _nothing_of_globex(response.body)
    assert response.status == 404, (response.status, response.body[:200])
    assert response.json()["error"] == "not-found"
    # The same host still gets its own pages: the 404 is about the path, not a broken API.
    assert _document(call, portal_api, ACME)["info"]["title"] == "Acme Rockets API"


@pytest.mark.parametrize("headers", FORGED_HEADERS, ids=lambda h: next(iter(h)))
def test_a_forged_header_on_acmes_host_still_gets_acmes_pages(call, portal_api, headers):
    for path in ("/docs", "/docs/openapi.json"):
        response = call(portal_api, "GET", path, ACME, headers=headers)
        assert response.status == 200
        _nothing_of_globex(response.body)
        assert b"Acme Rockets" in response.body or BRANDING["acme"]["primaryColor"].encode() in response.body


def test_an_unknown_host_gets_no_tenants_pages(call, portal_api):
    response = call(portal_api, "GET", "/docs", "nobody.dev.example.com")
    assert response.status == 403
    _nothing_of_globex(response.body)
    assert b"Acme" not in response.body


# --- a real browser -----------------------------------------------------------------------------------------


class _Site:
    """A loopback stand-in for acme's custom domain: forwards `/docs...` to the stage with acme's Host."""

    def __init__(self, call: Any, api: str, host: str) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                response = call(api, "GET", self.path, host)
                site.requests.append((self.path, response.status))
                self.send_response(response.status)
                for name in ("Content-Type", "Content-Length"):
                    if response.headers.get(name):
                        self.send_header(name, response.headers[name])
                self.end_headers()
                self.wfile.write(response.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.requests: list[tuple[str, int]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def acme_site(call, portal_api) -> Iterator[_Site]:
    site = _Site(call, portal_api, ACME)
    try:
        yield site
    finally:
        site.stop()


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Loopback only: every name resolves to nothing but 127.0.0.1 itself.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,900",
    # Redoc fetches the document and renders after the load event: give the page (virtual) time to finish.
    "--virtual-time-budget=15000",
]
CHROMIUM_TIMEOUT_S = 90


def chromium() -> str | None:
    return shutil.which("chromium")


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    binary = chromium()
    assert binary is not None
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=CHROMIUM_TIMEOUT_S,
        check=False,
        env={**os.environ, "HOME": str(profile)},
    )


def test_a_browser_shows_acmes_portal_with_the_apis_operations(acme_site, tmp_path):
    if chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install Debian's chromium (apt-get install -y chromium): .ci/run does")
        pytest.skip("no chromium on this machine (apt-get install -y chromium); CI runs this test")
    url = f"{acme_site.url}/docs"
    with tempfile.TemporaryDirectory(dir=tmp_path) as profile:
        dom = _chromium(["--dump-dom", url], Path(profile))
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    # Redoc rendered the document: the brand, and the operations of the API (not a blank page).
    assert "Acme Rockets API" in html, html[:2000]
    for operation in ("GET /service1", "POST /service2/{proxy}", "DELETE /service1/{proxy}"):
        assert operation in html, f"{operation} is not on the page"
    assert "Globex" not in html
    # Every request the page made stayed on acme's site and was answered.
    paths = {path for path, _ in acme_site.requests}
    assert {"/docs", "/docs/portal/redoc.standalone.js", "/docs/openapi.json"} <= paths, acme_site.requests
    assert all(status == 200 for _, status in acme_site.requests), acme_site.requests

    BUILD.mkdir(exist_ok=True)
    screenshot = BUILD / "portal-acme.png"
    screenshot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_path) as profile:
        shot = _chromium([f"--screenshot={screenshot}", url], Path(profile))
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.stat().st_size > 10_000, "a blank screenshot"
    # Kept as the test's artifact under build/; README's picture (docs/portal-acme.png) is a copy of one.
