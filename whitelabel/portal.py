"""A developer portal per tenant (README "Developer portal per tenant"): the objects of each tenant's `/docs`, as data.

Pure functions (no Pulumi import): `services/docs_portal.py` uploads what `tenant_objects` returns, the tests read
the same. Per tenant: its page (`index.html`), its OpenAPI 3 document (`openapi.json`: the routes of the API as the
tenant calls them, `servers` = its hostnames, its end-user authentication, its brand) and, with `logoFile`, its
logo. The renderer (Redoc, pinned in `vendor/portal.lock.json`) is shared by every tenant under `portal/`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from whitelabel.api_definition import SHARED_FOLDER, Route, shared_key, tenant_key
from whitelabel.gateway_config import Settings
from whitelabel.openapi import method_responses, parameters
from whitelabel.tenant_config import Branding, Customer, ResolvedAuth
from whitelabel.version import package_version

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "vendor"
LOCK = VENDOR / "portal.lock.json"
RENDERER = "redoc.standalone.js"
# The pages link absolute paths under `/docs` (as the documents do: tests/contract/test_docs_page.py).
DOCS_PATH = "/docs"
ASSET_PATH = f"{DOCS_PATH}/{SHARED_FOLDER}"
DEFAULT_COLOR = "#32329f"  # Redoc's own
# What an operation marked ANY is offered as in the reference: OpenAPI has no "any method".
ANY_METHODS = ("get", "post", "put", "patch", "delete")
# Redoc's sidebar ends with an "API docs by Redocly" link: a white-label page does not show it.
LOGO_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
# Documents linked from a tenant's reference as guides (a stylesheet or an image is not one).
GUIDE_EXTENSIONS = (".pdf", ".html", ".htm", ".md", ".txt")
PAGE_STYLE = 'body{margin:0}a[href^="https://redocly.com"]{display:none!important}'


@dataclass(frozen=True)
class ResolvedBranding:
    """A tenant's brand: `customers.<name>.branding` key by key over the stack's `branding`, and the defaults."""

    display_name: str
    primary_color: str
    logo_url: str | None = None
    logo_file: str | None = None
    support_url: str | None = None
    support_email: str | None = None


def branding_of(settings: Settings, customer: Customer) -> ResolvedBranding:
    """The customer's brand. A logo (URL or file) and a support contact (URL or email) are each taken as a pair, so
    a customer's `logoFile` replaces the stack's `logoUrl` instead of joining it."""
    stack, own = settings.branding, customer.branding or Branding()

    def pick(*names: str) -> Branding:
        return own if any(getattr(own, n) is not None for n in names) else stack

    logo, support = pick("logo_url", "logo_file"), pick("support_url", "support_email")
    return ResolvedBranding(
        display_name=own.display_name or stack.display_name or customer.name,
        primary_color=own.primary_color or stack.primary_color or DEFAULT_COLOR,
        logo_url=logo.logo_url,
        logo_file=logo.logo_file,
        support_url=support.support_url,
        support_email=support.support_email,
    )


def logo_type(branding: ResolvedBranding) -> str | None:
    """The Content-Type of the tenant's logo file (stored as `logo` in its folder), None without `logoFile`."""
    if branding.logo_file is None:
        return None
    return LOGO_TYPES[PurePosixPath(branding.logo_file).suffix.lower()]


def _oas3_path(path: str) -> str:
    # API Gateway's greedy `{proxy+}` is OpenAPI's `{proxy}` (a path parameter may not carry the `+`).
    return path.replace("+}", "}")


def _operation(route: Route, method: str, auth: ResolvedAuth | None, public: Sequence[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "operationId": route.key if route.http_method != "ANY" else f"{route.key.removesuffix('-any')}-{method}",
        "summary": f"{method.upper()} {_oas3_path(route.path)}",
        "tags": [route.backend],
    }
    found = []
    for parameter in parameters(route):
        if parameter["in"] == "header" and parameter["name"].lower() == "host":
            continue  # the tenant's hostname: the server the client calls, not a parameter
        item = {k: v for k, v in parameter.items() if k != "type"} | {"schema": {"type": "string"}}
        if parameter["name"] in ("proxy", "key"):
            item["description"] = "The rest of the path, slashes included"
        found.append(item)
    if found:
        body["parameters"] = found
    declared = method_responses(route)
    body["responses"] = {status: {"description": value["description"]} for status, value in declared.items()} or {
        "default": {"description": "The service's response, passed on as it answered"}
    }
    if auth is not None and not any(route.path == prefix or route.path.startswith(prefix + "/") for prefix in public):
        body["security"] = [{"user": []}]
    return body


def public_document(
    routes: Sequence[Route],
    hostnames: Sequence[str],
    branding: ResolvedBranding,
    auth: ResolvedAuth | None,
    public_prefixes: Sequence[str] = (),
    version: str = "",
) -> dict[str, Any]:
    """The tenant's OpenAPI 3.0 document: its routes as a client calls them (no integration, role, load balancer or
    API key: what API Gateway reads stays in `make openapi`'s document), `servers` = its hostnames, its brand and,
    when end-user authentication is on for it, the issuer and audiences of the tokens it needs.

    routes: the gateway's routes; the S3 routes (this portal itself) are left out.
    version: `info.version`; default the package's (pyproject.toml), which changes with a release only.
    """
    paths: dict[str, dict[str, Any]] = {}
    guides: list[str] = []
    for route in routes:
        if route.kind == "s3":
            # The operator's guides: fixed routes to documents outside the tenants' and the renderer's folders.
            fixed = "{" not in route.uri_path and f"/{SHARED_FOLDER}/" not in route.uri_path
            if fixed and route.path.lower().endswith(GUIDE_EXTENSIONS):
                guides.append(route.path)
            continue
        methods = ANY_METHODS if route.http_method == "ANY" else (route.http_method.lower(),)
        item = paths.setdefault(_oas3_path(route.path), {})
        for method in methods:
            item[method] = _operation(route, method, auth, public_prefixes)
    info: dict[str, Any] = {
        "title": f"{branding.display_name} API",
        "version": version or package_version(),
        "description": f"The {branding.display_name} API, at each server below."
        + (("\n\nGuides: " + ", ".join(f"[{path.rsplit('/', 1)[1]}]({path})" for path in guides)) if guides else ""),
    }
    logo = (
        branding.logo_url
        if branding.logo_url is not None
        else (f"{DOCS_PATH}/logo" if branding.logo_file is not None else None)
    )
    if logo is not None:
        info["x-logo"] = {"url": logo, "altText": branding.display_name}
    if branding.support_url is not None:
        info["contact"] = {"name": f"{branding.display_name} support", "url": branding.support_url}
    elif branding.support_email is not None:
        info["contact"] = {"name": f"{branding.display_name} support", "email": branding.support_email}
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": info,
        "servers": [{"url": f"https://{hostname}"} for hostname in hostnames],
        "paths": paths,
    }
    if auth is not None:
        audiences = ", ".join(auth.audiences) or "any"
        document["components"] = {
            "securitySchemes": {
                "user": {
                    "type": "openIdConnect",
                    "openIdConnectUrl": f"{auth.issuer.rstrip('/')}/.well-known/openid-configuration",
                    "description": (
                        f"A bearer token (Authorization: Bearer <JWT>) issued by {auth.issuer} for audience"
                        f" {audiences}."
                    ),
                }
            }
        }
    return document


def _script_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def page(branding: ResolvedBranding) -> str:
    """The tenant's `index.html`: Redoc from `/docs/portal/`, the tenant's `openapi.json`, its colour.

    A Content-Security-Policy keeps the page on its own origin: no script, style, font or request goes to a third
    party (the only other origin allowed is the tenant's own `logoUrl`, for that image).
    """
    options = {
        "theme": {"colors": {"primary": {"main": branding.primary_color}}},
        "expandResponses": "200",
        "hideDownloadButton": False,
        "nativeScrollbars": True,
        # The document's descriptions are markdown holding config text (the display name): no raw HTML from it.
        "sanitize": True,
    }
    target = 'document.getElementById("portal")'
    script = f'Redoc.init("{DOCS_PATH}/openapi.json", {json.dumps(options, sort_keys=True)}, {target});'
    images = "'self' data:"
    if branding.logo_url is not None:
        parts = urlsplit(branding.logo_url)
        images += f" https://{parts.netloc}"
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {_script_hash(script)}",
            # Redoc's styled components write <style> elements; its search runs in a worker made from a blob.
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src blob:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    title = _escape(f"{branding.display_name} API reference")
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_escape(policy)}">\n'
        # No favicon request: the tenant's site has none of ours to show.
        '<link rel="icon" href="data:,">\n'
        f"<title>{title}</title>\n<style>{PAGE_STYLE}</style>\n</head>\n<body>\n"
        '<div id="portal"></div>\n'
        f'<script src="{ASSET_PATH}/{RENDERER}"></script>\n'
        f"<script>{script}</script>\n</body>\n</html>\n"
    )


@dataclass(frozen=True)
class PortalObject:
    """One object of the docs bucket: its key, its content (text) or source file, its Content-Type."""

    key: str
    content_type: str
    content: str | None = None
    source: str | None = None

    @property
    def name(self) -> str:
        """Its name in the tenant's folder (`index.html`), or in the shared one."""
        return PurePosixPath(self.key).name


def json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def tenant_objects(
    settings: Settings, customer: Customer, routes: Sequence[Route], key_prefix: str = ""
) -> tuple[PortalObject, ...]:
    """The objects under `tenants/<name>/` for one customer: page, OpenAPI document, and its logo file if any.

    The tenant id is the customer's name (what the registry's items and so the authorizer's `tenantId` carry).
    """
    branding = branding_of(settings, customer)
    document = public_document(
        routes, settings.hostnames(customer), branding, settings.auth_of(customer), settings.auth.public_prefixes
    )
    found = [
        PortalObject(tenant_key(customer.name, "index.html", key_prefix), "text/html", content=page(branding)),
        PortalObject(
            tenant_key(customer.name, "openapi.json", key_prefix), "application/json", content=json_text(document)
        ),
    ]
    kind = logo_type(branding)
    if kind is not None and branding.logo_file is not None:
        source = (PurePosixPath(settings.docs.folder) / branding.logo_file).as_posix()
        found.append(PortalObject(tenant_key(customer.name, "logo", key_prefix), kind, source=source))
    return tuple(found)


def guide_documents(keys: Sequence[str]) -> tuple[str, ...]:
    """The documents of `docs.folder` served beside the tenants' pages: all but `index.html`, which the tenant's
    page replaces."""
    return tuple(key for key in keys if key != "index.html")


def lock() -> dict[str, Any]:
    """`vendor/portal.lock.json`: the renderer's package, version and each file's sha256."""
    return json.loads(LOCK.read_text())


def shared_objects(key_prefix: str = "") -> tuple[PortalObject, ...]:
    """The renderer's files every tenant's page loads, under `portal/` (served ones only, as the lock marks them)."""
    found = []
    for path, entry in sorted(lock()["files"].items()):
        if entry["served"]:
            name = PurePosixPath(path).name
            kind = "text/javascript" if name.endswith(".js") else "text/plain"
            # Relative to the project directory, as the documents' sources are (Pulumi runs the program there).
            source = (VENDOR / path).relative_to(ROOT).as_posix()
            found.append(PortalObject(shared_key(name, key_prefix), kind, source=source))
    return tuple(found)


def shared_files() -> tuple[str, ...]:
    """The file names the API serves at `/docs/portal/<name>` (the gateway's `shared_files`)."""
    return tuple(obj.name for obj in shared_objects())
