"""A developer portal per tenant (issue 27, README "Developer portal per tenant"): what the program registers with
`docs.perTenant`, the docs integrations' mapping, the tenants' documents and pages, the branding keys."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest

from tests.conftest import customers_config, name_diff, shared_run
from whitelabel.offline import StackRun
from whitelabel.portal import LOCK, RENDERER, ResolvedBranding, page, shared_files

OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
PORTAL = "whitelabel:docs_portal:TenantPortal"
INTEGRATION = "aws:apigateway/integration:Integration"
ISSUER = "https://login.acme.example"
CUSTOMERS: dict[str, Any] = {
    "acme": {
        "customDomain": "api.acme.example",
        "customDomainValidated": True,
        "branding": {"displayName": "Acme Rockets", "primaryColor": "#c0392b", "logoFile": "logo.png"},
        "auth": {"issuer": ISSUER, "audiences": ["acme-web"]},
    },
    "globex": {"dedicatedDomain": True, "branding": {"supportUrl": "https://help.globex.example"}},
}
KEYS: dict[str, Any] = {
    "docs": {"perTenant": True},
    "branding": {"displayName": "Example Cloud", "supportEmail": "help@example.com"},
    # End-user auth needs an uncached authorizer; the portal itself must open without a token.
    "authorizer": {"cacheTtlSeconds": 0},
    "auth": {"publicPrefixes": ["/docs"]},
}


def _run(customers: dict[str, Any] | None = None, **keys: Any) -> StackRun:
    return shared_run("dev", customers_config(customers or CUSTOMERS, **{**KEYS, **keys}))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def portal() -> StackRun:
    return _run()


def _objects(run: StackRun) -> dict[str, Any]:
    return {r.inputs["key"]: r for r in run.of_type(OBJECT)}


def _document(run: StackRun, tenant: str) -> dict[str, Any]:
    return json.loads(_objects(run)[f"tenants/{tenant}/openapi.json"].inputs["content"])


def test_off_by_default_the_docs_routes_and_objects_stay_as_they_were(dev: StackRun) -> None:
    assert dev.of_type(PORTAL) == []
    assert not [k for k in _objects(dev) if k.startswith(("tenants/", "portal/"))]
    index = dev.named("whitelabel-gateway-integration-docs-get")
    assert index.inputs["uri"].endswith("/index.html") and "{tenant}" not in index.inputs["uri"]
    assert "integration.request.path.tenant" not in (index.inputs.get("requestParameters") or {})


def test_each_tenant_has_a_portal_of_its_own_objects_under_its_folder(portal: StackRun) -> None:
    by_urn = portal.by_urn()
    docs = portal.named("docs")
    for tenant, names in (("acme", ["index.html", "openapi.json", "logo"]), ("globex", ["index.html", "openapi.json"])):
        component = portal.named(f"docs-{tenant}.portal")
        assert component.type == PORTAL and component.parent == docs.urn
        children = portal.children_of(component)
        assert sorted(c.inputs["key"] for c in children) == sorted(f"tenants/{tenant}/{n}" for n in names)
        assert all(c.type == OBJECT for c in children)
        assert {by_urn[c.parent].name for c in children} == {f"docs-{tenant}.portal"}
    logo = portal.named("docs-acme.portal-logo")
    assert logo.inputs["source"] == {"fileAsset": "documents/logo.png"} or "documents/logo.png" in json.dumps(
        logo.inputs["source"]
    )
    assert logo.inputs["contentType"] == "image/png"


def test_the_renderer_is_uploaded_once_for_every_tenant_under_portal(portal: StackRun) -> None:
    shared = {k: r for k, r in _objects(portal).items() if k.startswith("portal/")}
    assert set(shared) == {"portal/redoc.standalone.js", "portal/redoc.standalone.js.LICENSE.txt"}
    assert {r.parent for r in shared.values()} == {portal.named("docs").urn}
    assert shared["portal/redoc.standalone.js"].inputs["contentType"] == "text/javascript"


def test_every_docs_integration_reads_a_fixed_key_and_the_tenant_only_from_the_authorizer(portal: StackRun) -> None:
    docs = [r for r in portal.of_type(INTEGRATION) if "-integration-docs" in r.name]
    assert sorted(r.name.removeprefix("whitelabel-gateway-integration-") for r in docs) == [
        "docs-get",
        "docs-guide.pdf-get",
        "docs-index.html-get",
        "docs-logo-get",
        "docs-logo.png-get",
        "docs-openapi.json-get",
        "docs-portal-redoc.standalone.js-get",
        "docs-portal-redoc.standalone.js.LICENSE.txt-get",
        "docs-style.css-get",
    ]
    # The operator's documents (all but index.html, which the tenant's page replaces) keep their addresses.
    documents = {"guide.pdf", "logo.png", "style.css"}
    for integration in docs:
        uri, mapped = integration.inputs["uri"], integration.inputs.get("requestParameters") or {}
        key = uri.split(":s3:path/", 1)[1].split("/", 1)[1]
        # The only path parameter of any docs key is the tenant, and it comes from the authorizer's context.
        assert re.findall(r"\{[^}]+\}", key) == (["{tenant}"] if key.startswith("tenants/") else []), key
        assert mapped == (
            {"integration.request.path.tenant": "context.authorizer.tenantId"} if "{tenant}" in key else {}
        )
        assert key.startswith(("tenants/{tenant}/", "portal/")) or key in documents, key
    # No docs resource takes a path parameter from the client (no `/docs/{key+}` with per-tenant pages).
    parts = [r.inputs["pathPart"] for r in portal.of_type("aws:apigateway/resource:Resource")]
    assert "{key+}" not in parts


def test_each_tenants_document_names_its_hostnames_its_brand_and_its_authentication(portal: StackRun) -> None:
    acme, globex = _document(portal, "acme"), _document(portal, "globex")
    assert [s["url"] for s in acme["servers"]] == ["https://acme.dev.example.com", "https://api.acme.example"]
    assert [s["url"] for s in globex["servers"]] == ["https://globex.dev.example.com"]
    assert acme["info"]["title"] == "Acme Rockets API" and acme["info"]["x-logo"]["url"] == "/docs/logo"
    # globex: the stack's brand, its own support contact (a pair: the stack's email does not join it).
    assert globex["info"]["title"] == "Example Cloud API"
    assert globex["info"]["contact"] == {"name": "Example Cloud support", "url": "https://help.globex.example"}
    scheme = acme["components"]["securitySchemes"]["user"]
    assert scheme["openIdConnectUrl"] == f"{ISSUER}/.well-known/openid-configuration"
    assert ISSUER in scheme["description"] and "acme-web" in scheme["description"]
    assert all(op["security"] == [{"user": []}] for item in acme["paths"].values() for op in item.values())
    assert "components" not in globex and all(
        "security" not in op for i in globex["paths"].values() for op in i.values()
    )
    # The API as a client calls it: no integration, role, load balancer or the portal's own routes.
    text = json.dumps([acme, globex])
    assert "x-amazon-apigateway" not in text and "arn:aws" not in text and "/docs" not in json.dumps(acme["paths"])
    assert {"/service1", "/service1/{proxy}", "/service2", "/service2/{proxy}"} == set(acme["paths"])
    assert set(acme["paths"]["/service1/{proxy}"]) == {"get", "post", "put", "patch", "delete"}


def test_each_tenants_page_carries_its_colour_and_loads_only_from_its_own_site(portal: StackRun) -> None:
    objects = _objects(portal)
    acme = objects["tenants/acme/index.html"].inputs["content"]
    globex = objects["tenants/globex/index.html"].inputs["content"]
    assert "#c0392b" in acme and "#c0392b" not in globex and "<title>Acme Rockets API reference</title>" in acme
    assert '<script src="/docs/portal/redoc.standalone.js">' in acme and '"/docs/openapi.json"' in acme


def test_the_pages_policy_allows_its_one_inline_script_and_no_other_origin() -> None:
    html = page(ResolvedBranding("Acme", "#123456", logo_url="https://cdn.acme.example/logo.svg"))
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)[1]  # type: ignore[index]
    (inline,) = re.findall(r"<script>(.*?)</script>", html)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in policy.replace("&#x27;", "'")
    origins = set(re.findall(r"https?://[^\s;']+", policy))
    assert origins == {"https://cdn.acme.example"}, "only the tenant's own logo host besides the site itself"


def test_onboarding_a_tenant_adds_only_its_portal_beside_its_tenant_resources(portal: StackRun) -> None:
    after = _run({**CUSTOMERS, "initech": {}})
    created, deleted, updated = name_diff(portal, after)
    assert [n for n in created if "portal" in n] == [
        "docs-initech.portal",
        "docs-initech.portal-index.html",
        "docs-initech.portal-openapi.json",
    ]
    assert all("initech" in n for n in created), created
    assert deleted == [] and updated == []


def test_a_brand_change_updates_only_that_tenants_objects(portal: StackRun) -> None:
    globex = CUSTOMERS["globex"]
    recoloured = {**CUSTOMERS, "globex": {**globex, "branding": {**globex["branding"], "primaryColor": "#000000"}}}
    assert name_diff(portal, _run(recoloured)) == ([], [], ["docs-globex.portal-index.html"])
    renamed = {**CUSTOMERS, "globex": {**globex, "branding": {**globex["branding"], "displayName": "Globex Cloud"}}}
    # The name is in the page's title and in the document's.
    assert name_diff(portal, _run(renamed)) == (
        [],
        [],
        ["docs-globex.portal-index.html", "docs-globex.portal-openapi.json"],
    )


def test_removing_a_tenant_deletes_its_portal(portal: StackRun) -> None:
    _, deleted, updated = name_diff(portal, _run({"acme": CUSTOMERS["acme"]}))
    assert [n for n in deleted if "portal" in n] == [
        "docs-globex.portal",
        "docs-globex.portal-index.html",
        "docs-globex.portal-openapi.json",
    ]
    assert updated == []


def test_the_pages_renderer_is_a_served_file_of_the_lock() -> None:
    assert RENDERER in shared_files()
    assert json.loads(LOCK.read_text())["files"][f"redoc/{RENDERER}"]["served"] is True


def test_a_quote_in_a_display_name_stays_text_in_the_page() -> None:
    html = page(ResolvedBranding('Acme" onload="x', "#000000"))
    assert 'onload="x' not in html and "Acme&quot; onload=&quot;x API reference" in html


def test_the_docs_latency_alarm_measures_the_page_when_no_route_takes_a_key(portal: StackRun, dev: StackRun) -> None:
    # Off: the object route `/docs/{key+}`; per-tenant pages have none, so the alarm watches `/docs`, not nothing.
    for run, resource in ((dev, "/docs/{key+}"), (portal, "/docs")):
        alarm = run.named("whitelabel-operations-alarm-integration-latency-docs")
        assert f'"Resource": "{resource}"' in json.dumps(alarm.inputs["metricQueries"]), resource


def test_make_preview_shows_an_onboarded_tenants_portal_under_the_tenant(portal: StackRun) -> None:
    from tools.preview import compare

    steps = compare(portal, _run({**CUSTOMERS, "initech": {}})).steps
    portal_steps = [s for s in steps if ".portal-" in s.name]
    names = ["docs-initech.portal-index.html", "docs-initech.portal-openapi.json"]
    assert sorted(s.name for s in portal_steps) == names
    assert {(s.op, s.tenant) for s in portal_steps} == {("create", "initech")}


def test_a_pooled_tier_customer_gets_its_portal_too() -> None:
    tiers = {
        "standard": {"rateLimit": 50, "burstLimit": 100},
        "free": {"rateLimit": 5, "burstLimit": 10, "keyMode": "pooled"},
    }
    run = _run({**CUSTOMERS, "wonka": {"tier": "free"}}, tiers=tiers)
    assert sorted(c.inputs["key"] for c in run.children_of(run.named("docs-wonka.portal"))) == [
        "tenants/wonka/index.html",
        "tenants/wonka/openapi.json",
    ]
    assert [s["url"] for s in _document(run, "wonka")["servers"]] == ["https://wonka.dev.example.com"]


def test_the_operators_guides_are_linked_from_every_tenants_reference(portal: StackRun) -> None:
    for tenant in ("acme", "globex"):
        assert "Guides: [guide.pdf](/docs/guide.pdf)" in _document(portal, tenant)["info"]["description"]
