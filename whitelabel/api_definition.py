"""The REST API definition, as plain data: one function builds it for the gateway component (to
create resources) and for the contract tests (to import into an emulator), so what is tested is what
is deployed.

A route's integration URI is `origin + uri_path`: the origin is the only per-deployment part
(`http://<internal ALB>:<port>` for load balancers, the URL of an HTTP backend, a function's invoke ARN,
`arn:aws:apigateway:<region>:s3:path/<bucket>` for S3).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Literal


class BackendKind(StrEnum):
    """What a backend is, which decides its integration.

    ALB, NLB: an internal load balancer reached through the API's VPC link v2 (HTTP_PROXY, private).
    HTTP: a public URL (HTTP_PROXY, no VPC link). LAMBDA: a function (AWS_PROXY). S3: a bucket (AWS
    service integration with a read role, GET only).
    """

    ALB = "ALB"
    NLB = "NLB"
    HTTP = "HTTP"
    LAMBDA = "LAMBDA"
    S3 = "S3"


# Reached through a VPC link v2: for REST APIs it targets an Application or a Network Load Balancer
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html).
PRIVATE_KINDS = frozenset({BackendKind.ALB, BackendKind.NLB})

# How a route is integrated (`Route.kind`). The words of the first release are kept (`http_proxy`, `s3`):
# the route data is hashed into the deployment trigger, so a deployed stack keeps its deployment.
IntegrationKind = Literal["http_proxy", "s3", "aws_proxy"]
INTEGRATION_KINDS: dict[BackendKind, IntegrationKind] = {
    BackendKind.ALB: "http_proxy",
    BackendKind.NLB: "http_proxy",
    BackendKind.HTTP: "http_proxy",
    BackendKind.LAMBDA: "aws_proxy",
    BackendKind.S3: "s3",
}

# API Gateway sets these on every service integration from the request context; a value the
# client sent in the same header is overwritten, so a caller cannot pose as another tenant.
# Tenant, tier and domain come from the tenant authorizer's `context` map (`context.authorizer.<key>`, the
# stringified value the Lambda authorizer returned), never from the host's first label. The domain is the
# normalised hostname the registry matched (`acme.dev.example.com`), not `context.domainName`, which is the
# Host header as the client wrote it (`ACME.DEV.EXAMPLE.COM:443`, a trailing dot):
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
# https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-parameter-mapping-sources.html
TENANT_HEADERS = {
    "integration.request.header.X-Tenant-Id": "context.authorizer.tenantId",
    "integration.request.header.X-Tenant-Tier": "context.authorizer.tier",
    "integration.request.header.X-Tenant-Domain": "context.authorizer.hostname",
}

# The end user (issue 18), set the same way on the same integrations: the verified token's `sub` and `scope`
# claim from the authorizer's context (`userId`, `scopes`). The handler returns both keys on every Allow,
# `-` when the request carries no verified user (no authentication for that tenant, a public prefix), never
# empty: an empty value maps to nothing and the client's header would pass. So a client-sent `X-User-Id` is
# always overwritten, whatever the tenant's configuration.
USER_HEADERS = {
    "integration.request.header.X-User-Id": "context.authorizer.userId",
    "integration.request.header.X-User-Scopes": "context.authorizer.scopes",
}

# What every non-S3 integration maps from the authorizer's answer.
AUTHORIZER_HEADERS = {**TENANT_HEADERS, **USER_HEADERS}

# The tenant authorizer (a REQUEST Lambda authorizer) runs on every method. Its identity source is the
# Host header, so API Gateway caches one decision per host for the authorizer's TTL; a request without
# a Host header is refused with 401 before the function runs.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
AUTHORIZER_IDENTITY_SOURCE = "method.request.header.Host"
AUTHORIZATION = "CUSTOM"
# The authorizer returns the tenant's API key as `usageIdentifierKey`: clients send no key, and the
# tenant's usage plan (its tier) meters and throttles it.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
API_KEY_SOURCE = "AUTHORIZER"

# Caching (stage cache, config `cache`): only GET methods are cached, and every cached method keys its
# entries on the Host header, so one tenant's hostname never receives another's cached response. API
# Gateway splits cache entries only by the integration's declared cache key parameters, and each must be
# a declared method request parameter:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-caching.html
CACHED_METHODS = ("GET",)
CACHE_KEY_HOST = "method.request.header.Host"

# Treat every payload as binary: API Gateway then passes bytes through untouched, so PNG and PDF
# documents from S3 arrive intact (with text-only media types it would corrupt them).
BINARY_MEDIA_TYPES = ("*/*",)

# API Gateway's own ceiling for an integration (29 s); a dead backend answers 5xx sooner.
DEFAULT_TIMEOUT_MS = 29_000

# The S3 response headers worth passing on; S3 sets Content-Type from the object's metadata.
DOCS_HEADERS = ("Content-Type", "Content-Length", "ETag", "Last-Modified")


@dataclass(frozen=True)
class Backend:
    """Where a path prefix goes: routed at `/<prefix>` and `/<prefix>/{proxy+}` (`{key+}` for S3).

    prefix: one or more path segments without slashes at either end (`service1`, `api/v2`).
    key_prefix: S3 only: the folder of the bucket the documents are read from (`site/v1`), prepended to
        every object key; empty: the bucket's root.
    """

    name: str
    prefix: str
    kind: BackendKind
    description: str
    key_prefix: str = ""
    # S3 only (README "Developer portal per tenant"): each tenant reads the fixed names of its own folder
    # `tenants/<tenantId>/` (TENANT_FILES), the tenant id from the tenant authorizer (never from the client's path),
    # and `shared_files` from `portal/`; no route takes a key from the client.
    per_tenant: bool = False
    shared_files: tuple[str, ...] = ()
    # With `per_tenant`: the bucket's documents (the operator's guides) every tenant may read, each a fixed route
    # `/<prefix>/<key>` to the object `<key>` (under the key prefix), so their links keep working.
    documents: tuple[str, ...] = ()

    @property
    def private(self) -> bool:
        """Whether the backend is reached through the API's VPC link."""
        return self.kind in PRIVATE_KINDS


# The reference program's backends (`__main__.py`); their routes are the deployed stacks' routes.
BACKENDS: tuple[Backend, ...] = (
    Backend("service1", "service1", BackendKind.ALB, "ECS Fargate microservice (internal ALB, VPC link v2)"),
    Backend("service2", "service2", BackendKind.ALB, "EC2 Auto Scaling web app (internal ALB, VPC link v2)"),
    Backend("docs", "docs", BackendKind.S3, "private S3 bucket (AWS integration, IAM role)"),
)

# A backend name goes into resource names (`<gateway>-<backend>-invoke-permission`).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
# A path part API Gateway accepts for a resource, without the `{...}` of a path parameter.
SEGMENT_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
# `/ping` and `/sping` are reserved for API Gateway's health check: as root-level resources behind a
# custom domain they "fail to produce the expected result"
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html).
RESERVED_PREFIXES = frozenset({"ping", "sping"})


def backend_problems(backends: Sequence[Backend]) -> list[str]:
    """Why these backends cannot share one API, one line each (empty: they can).

    Names and prefixes must be unique and valid; no prefix may lie under another (its routes would sit
    under the other's `{proxy+}`); no two routes may get the same resource key; a key prefix is for S3.
    """
    problems: list[str] = []
    names: set[str] = set()
    prefixes: dict[str, str] = {}
    for backend in backends:
        where = f"backends.{backend.name}"
        if not NAME_PATTERN.fullmatch(backend.name):
            problems.append(
                f"{where}: the name must be 1-63 letters, digits, '-' or '_', starting with a letter or digit"
            )
        elif backend.name in names:
            problems.append(f"{where}: the name is given twice")
        names.add(backend.name)
        segments = backend.prefix.split("/")
        if not all(SEGMENT_PATTERN.fullmatch(segment) for segment in segments):
            problems.append(
                f"{where}: prefix {backend.prefix!r} must be path segments of letters, digits, '.', '-' or '_', "
                "joined by '/', with no '/' at either end"
            )
            continue
        if segments[0].lower() in RESERVED_PREFIXES:
            problems.append(f"{where}: prefix {backend.prefix!r} is reserved by API Gateway (/ping, /sping)")
        if backend.prefix in prefixes:
            problems.append(
                f"{where}: prefix {backend.prefix!r} is also the prefix of backends.{prefixes[backend.prefix]}"
            )
            continue
        for other, owner in prefixes.items():
            if backend.prefix.startswith(other + "/") or other.startswith(backend.prefix + "/"):
                problems.append(f"{where}: prefix {backend.prefix!r} nests with {other!r} of backends.{owner}")
        prefixes[backend.prefix] = backend.name
        if backend.key_prefix and backend.kind is not BackendKind.S3:
            problems.append(f"{where}: a key prefix is for S3 backends only")
        if (backend.per_tenant or backend.shared_files or backend.documents) and backend.kind is not BackendKind.S3:
            problems.append(f"{where}: per-tenant pages are for S3 backends only")
        for file in backend.shared_files:
            if not SEGMENT_PATTERN.fullmatch(file) or file in (".", ".."):
                problems.append(
                    f"{where}: shared file {file!r} must be one file name of letters, digits, '.', '-', '_'"
                )
        problems += [f"{where}: {problem}" for problem in document_problems(backend.documents)]
        if backend.key_prefix and not all(
            SEGMENT_PATTERN.fullmatch(part) and part not in (".", "..") for part in backend.key_prefix.split("/")
        ):
            problems.append(
                f"{where}: key prefix {backend.key_prefix!r} must be folder names joined by '/', "
                "with no '/' at either end and no '.' or '..'"
            )
    if not problems:
        # Resource names come from the path with `/` and `_` as `-` (`Route.key`): `a_b` and `a/b` would
        # take the names of `a-b`'s resources.
        keys: dict[str, Backend] = {}
        for backend in backends:
            key = backend.prefix.replace("/", "-").replace("_", "-")
            if key in keys:
                problems.append(
                    f"backends.{backend.name}: prefix {backend.prefix!r} gives the resource names of prefix "
                    f"{keys[key].prefix!r} of backends.{keys[key].name}"
                )
            keys.setdefault(key, backend)
    return problems


@dataclass(frozen=True)
class IntegrationResponse:
    status_code: str
    selection_pattern: str | None = None
    response_parameters: dict[str, str] = field(default_factory=dict)
    response_templates: dict[str, str] = field(default_factory=dict)
    content_handling: str | None = None


@dataclass(frozen=True)
class Route:
    """One method on one API resource, and how it is integrated."""

    path: str
    http_method: str
    backend: str
    kind: IntegrationKind
    uri_path: str
    integration_http_method: str
    request_parameters: dict[str, bool] = field(default_factory=dict)
    integration_request_parameters: dict[str, str] = field(default_factory=dict)
    method_responses: dict[str, dict[str, bool]] = field(default_factory=dict)
    integration_responses: tuple[IntegrationResponse, ...] = ()
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    # Every method, the docs included, goes through the tenant authorizer and the tenant's key.
    authorization: str = AUTHORIZATION
    api_key_required: bool = True
    # What splits this method's cache entries (the integration's cacheKeyParameters); empty: never cached.
    cache_key_parameters: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """A stable, name-safe key for resource names: `service1-proxy-any`."""
        parts = [p.strip("{}+") for p in self.path.strip("/").split("/")]
        return "-".join([*parts, self.http_method.lower()]).replace("_", "-")

    @property
    def cached(self) -> bool:
        """Whether the stage cache serves this method when caching is on."""
        return bool(self.cache_key_parameters)

    @property
    def method_settings_path(self) -> str:
        """The stage's method-settings path of this method: every `/` of the resource path as `~1`, then the
        HTTP method (`~1docs~1{key+}/GET`, as `get-stage` returns it; CloudFormation's MethodSetting.ResourcePath:
        https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-apigateway-stage-methodsetting.html,
        hashicorp/terraform-provider-aws#9738)."""
        return f"{self.path.replace('/', '~1')}/{self.http_method}"


def _service_routes(backend: Backend) -> list[Route]:
    """ANY on the prefix and below it, to a load balancer or URL (HTTP_PROXY), tenant headers set."""
    root = f"/{backend.prefix}"
    kind = INTEGRATION_KINDS[backend.kind]
    return [
        # `/service1` alone reaches the backend's root.
        Route(
            path=root,
            http_method="ANY",
            backend=backend.name,
            kind=kind,
            uri_path="/",
            integration_http_method="ANY",
            integration_request_parameters=dict(AUTHORIZER_HEADERS),
        ),
        # `/service1/a/b?q=1` reaches `/a/b?q=1`: the URI names the path explicitly, so the prefix
        # is dropped and the query string is passed on by HTTP_PROXY unchanged.
        Route(
            path=f"{root}/{{proxy+}}",
            http_method="ANY",
            backend=backend.name,
            kind=kind,
            uri_path="/{proxy}",
            integration_http_method="ANY",
            request_parameters={"method.request.path.proxy": True},
            integration_request_parameters={
                "integration.request.path.proxy": "method.request.path.proxy",
                **AUTHORIZER_HEADERS,
            },
        ),
    ]


def _lambda_routes(backend: Backend) -> list[Route]:
    """ANY on the prefix and below it, to a function through a Lambda proxy integration (AWS_PROXY).

    The integration URI is the function's invoke ARN itself (no path: the function gets the request's
    path, `pathParameters.proxy` and headers in its event) and API Gateway always invokes with POST
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integration-using-cli.html).
    Where the tenant reaches the function: API Gateway puts the tenant authorizer's context into the event
    as `requestContext.authorizer.tenantId` / `.tier`, and the host as `requestContext.domainName`; a client
    cannot set those. The tenant headers are mapped as on every other service integration, since AWS allows
    integration-request parameter mapping "for proxy and non-proxy integrations"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-parameter-mapping.html), but a
    function should read the tenant from `requestContext.authorizer`: the event's `headers` are the client's
    request headers (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html).
    """
    root = f"/{backend.prefix}"
    proxy = Route(
        path=root,
        http_method="ANY",
        backend=backend.name,
        kind=INTEGRATION_KINDS[backend.kind],
        uri_path="",
        integration_http_method="POST",
        integration_request_parameters=dict(AUTHORIZER_HEADERS),
    )
    return [proxy, replace(proxy, path=f"{root}/{{proxy+}}", request_parameters={"method.request.path.proxy": True})]


def _docs_error(status: str, pattern: str, message: str) -> IntegrationResponse:
    """An S3 error answered with our own small JSON body: S3's XML (bucket, key) never reaches a client."""
    return IntegrationResponse(
        status,
        pattern,
        {"method.response.header.Content-Type": "'application/json'"},
        {"application/json": json.dumps({"message": message})},
        # With `*/*` every payload is binary; a template applies only to text.
        content_handling="CONVERT_TO_TEXT",
    )


# Per-tenant pages (`Backend.per_tenant`): the tenant's folder and the shared one, under the backend's key prefix.
# The `{tenant}` path parameter of the integration URI is mapped from the tenant authorizer's context, the value the
# authorizer read from the registry for the request's Host: a client's path, query or header never sets it.
# Integration request parameters may take `context.<variable>` as their source, `context.authorizer.<key>` among
# them: https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-parameter-mapping-sources.html
TENANT_FOLDER = "tenants"
SHARED_FOLDER = "portal"
TENANT_PATH_PARAMETER = "integration.request.path.tenant"
TENANT_PATH_SOURCE = "context.authorizer.tenantId"
# The objects of a tenant's folder, each at `/<prefix>/<name>`: its page (also at `/<prefix>` itself), its OpenAPI
# document, its logo (when it has a logo file).
TENANT_FILES = ("index.html", "openapi.json", "logo")


def document_problems(documents: Sequence[str]) -> list[str]:
    """Why these document keys cannot each be a fixed route beside a tenant's pages, one line each (empty: they can)."""
    problems: list[str] = []
    routes: dict[str, str] = {}
    for key in documents:
        parts = key.split("/")
        if not all(SEGMENT_PATTERN.fullmatch(part) and part not in (".", "..") for part in parts):
            problems.append(
                f"document {key!r} cannot be a route of its own: name it with letters, digits, '.', '-', '_' and '/'"
            )
        elif key in TENANT_FILES or parts[0] == SHARED_FOLDER:
            problems.append(f"document {key!r} would take the route of a tenant's {parts[0]!r}: rename it")
        else:
            # Resource names come from the path with `/` and `_` as `-` (`Route.key`).
            name = key.replace("/", "-").replace("_", "-")
            if name in routes:
                problems.append(f"documents {key!r} and {routes[name]!r} would get the same resource names")
            routes[name] = key
    return problems


def tenant_key(tenant: str, key: str, key_prefix: str = "") -> str:
    """The object key of a tenant's page: `tenants/<tenant>/<key>` (under the backend's key prefix)."""
    return "/".join(part for part in (key_prefix, TENANT_FOLDER, tenant, key) if part)


def shared_key(file: str, key_prefix: str = "") -> str:
    """The object key of a file every tenant's page shares (the renderer): `portal/<file>`."""
    return "/".join(part for part in (key_prefix, SHARED_FOLDER, file) if part)


def _docs_routes(backend: Backend) -> list[Route]:
    ok_headers = {f"method.response.header.{h}": True for h in DOCS_HEADERS}
    error_headers = {"method.response.header.Content-Type": True}
    method_responses = {"200": ok_headers, "404": error_headers, "502": error_headers}
    integration_responses = (
        IntegrationResponse(
            "200",
            None,
            {f"method.response.header.{h}": f"integration.response.header.{h}" for h in DOCS_HEADERS},
            # Bytes as stored, whatever the client's Accept header: without it a client that sends
            # no Accept would get a PNG base64-encoded.
            content_handling="CONVERT_TO_BINARY",
        ),
        # With s3:ListBucket granted, a missing key is S3's 404; any 4xx (also a denied 403) is
        # answered as not found, so a client never learns which.
        _docs_error("404", r"4\d{2}", "Not Found"),
        _docs_error("502", r"5\d{2}", "Bad Gateway"),
    )
    root = f"/{backend.prefix}"
    # The bucket's folder, when the backend has one: `/docs/a.pdf` reads `<key prefix>/a.pdf`.
    folder = f"/{backend.key_prefix}" if backend.key_prefix else ""
    index = Route(
        path=root,
        http_method="GET",
        backend=backend.name,
        kind=INTEGRATION_KINDS[backend.kind],
        uri_path=f"{folder}/index.html",
        integration_http_method="GET",
        # Declared so it can key the cache: one entry per tenant hostname.
        request_parameters={CACHE_KEY_HOST: True},
        method_responses=method_responses,
        integration_responses=integration_responses,
        cache_key_parameters=(CACHE_KEY_HOST,),
    )
    document = replace(
        index,
        path=f"{root}/{{key+}}",
        uri_path=f"{folder}/{{key}}",
        request_parameters={CACHE_KEY_HOST: True, "method.request.path.key": True},
        integration_request_parameters={"integration.request.path.key": "method.request.path.key"},
        # Per hostname and per document.
        cache_key_parameters=(CACHE_KEY_HOST, "method.request.path.key"),
    )
    if not backend.per_tenant:
        return [index, document]
    # Per-tenant pages: no route takes an object key from the client. Each reads one fixed name in the tenant's
    # folder, the folder named only by the authorizer's tenant id, or one fixed shared file. So no path, dot
    # segment or encoded slash a client sends can name another tenant's object, whatever normalises the key on
    # the way to S3 (LocalStack resolves `tenants/acme/../globex/…`: tests/contract/test_portal_contract.py).
    tenant = f"{folder}/{TENANT_FOLDER}/{{tenant}}"
    from_authorizer = {TENANT_PATH_PARAMETER: TENANT_PATH_SOURCE}
    own = [
        replace(
            index,
            path=f"{root}/{file}",
            uri_path=f"{tenant}/{file}",
            integration_request_parameters=from_authorizer,
        )
        for file in TENANT_FILES
    ]
    shared = [
        replace(index, path=f"{root}/{SHARED_FOLDER}/{file}", uri_path=f"{folder}/{SHARED_FOLDER}/{file}")
        for file in backend.shared_files
    ]
    documents = [replace(index, path=f"{root}/{key}", uri_path=f"{folder}/{key}") for key in backend.documents]
    return [
        replace(index, uri_path=f"{tenant}/index.html", integration_request_parameters=from_authorizer),
        *own,
        *shared,
        *documents,
    ]


def cache_key_problems(routes: tuple[Route, ...]) -> list[str]:
    """Why a route would be unsafe to cache, one line each (empty: every cached route is tenant-safe).

    A cached route must be a GET, key on Host, key on each of its path parameters (or two documents would
    share an entry), and declare every key as a method request parameter (API Gateway requires it).
    """
    problems: list[str] = []
    for route in routes:
        if not route.cached:
            continue
        where = f"{route.http_method} {route.path}"
        if route.http_method not in CACHED_METHODS:
            problems.append(f"{where}: only {', '.join(CACHED_METHODS)} methods are cached")
        if CACHE_KEY_HOST not in route.cache_key_parameters:
            problems.append(f"{where}: its cache key lacks {CACHE_KEY_HOST}; tenants would share entries")
        for part in route.path.split("/"):
            if part.startswith("{"):
                parameter = f"method.request.path.{part.strip('{}+')}"
                if parameter not in route.cache_key_parameters:
                    problems.append(f"{where}: its cache key lacks {parameter}")
        for parameter in route.cache_key_parameters:
            if parameter not in route.request_parameters:
                problems.append(f"{where}: cache key {parameter} is not a declared method request parameter")
    return problems


def _routes_of(backend: Backend) -> list[Route]:
    if backend.kind is BackendKind.S3:
        return _docs_routes(backend)
    if backend.kind is BackendKind.LAMBDA:
        return _lambda_routes(backend)
    return _service_routes(backend)


def build_routes(backends: Sequence[Backend] = BACKENDS) -> tuple[Route, ...]:
    """Every method of the API, in a stable order: each backend's routes, in the order of `backends`.

    Raises ValueError with `backend_problems` (one line) when the backends cannot share the API.
    """
    problems = backend_problems(backends)
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(route for backend in backends for route in _routes_of(backend))


def resource_paths(routes: tuple[Route, ...]) -> tuple[str, ...]:
    """Every API resource path the routes need, parents before children (`/docs` before `/docs/{key+}`)."""
    paths: set[str] = set()
    for route in routes:
        parts = route.path.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            paths.add("/" + "/".join(parts[:depth]))
    return tuple(sorted(paths, key=lambda p: (p.count("/"), p)))


@dataclass(frozen=True)
class GatewayResponse:
    """Our answer when API Gateway itself refuses or fails a request (the backend never sees it).

    status_code: None keeps the status of the response it stands in for (`DEFAULT_4XX`/`DEFAULT_5XX`).
    """

    response_type: str
    status_code: str | None
    response_templates: dict[str, str]
    response_parameters: dict[str, str]


# A gateway response's mapping template is not VTL: API Gateway only substitutes variables, so
# `$util.escapeJavaScript` is not available there.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseTemplates.html
# Every substituted value must therefore be JSON-safe as it stands: `$context.requestId` (an id API
# Gateway generates) and the tenant authorizer's `reason`/`message` (fixed strings of our handler, no
# quote, backslash or control character; `tests/test_tenant_authorizer.py` checks the handler's).
# Nothing the client sends (Host, path, headers) is ever echoed.
JSON_HEADERS = {"gatewayresponse.header.Content-Type": "'application/json'"}


def _gateway_response(
    response_type: str,
    status_code: str | None,
    error: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: str,
) -> GatewayResponse:
    """headers: more response headers, `gatewayresponse.header.<Name>` → a static value in single quotes."""
    body = {"error": error, **extra, "message": message, "requestId": "$context.requestId"}
    return GatewayResponse(
        response_type,
        status_code,
        {"application/json": json.dumps(body, separators=(",", ":"))},
        {**JSON_HEADERS, **(headers or {})},
    )


# A 401 comes from the tenant authorizer raising "Unauthorized" for a tenant with end-user authentication: no
# bearer token, or one that is expired, malformed, not yet valid, or not signed by the tenant's issuer for its
# audience (the reason is in the authorizer's log line only: an error raised carries no context to this body).
# API Gateway also answers 401 without calling the function when authorizer caching is on (so auth is off) and
# the identity source, Host, is missing, which no HTTP/1.1 request lacks (RFC 9112 §3.2): in practice a 401 is
# about the token. A gateway response can carry a status, headers (static values or request values) and a body
# from a non-VTL template: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html
# A 401 must carry a challenge (RFC 9110 §11.6.1); `Bearer` without an error code is RFC 6750 §3's answer to a
# request without usable credentials, and one response serves both the missing and the invalid token.
UNAUTHORIZED_MESSAGE = (
    "A valid bearer token is required (Authorization: Bearer <token>): none was sent, or it is expired or invalid"
)


# Response types and their default status codes:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
GATEWAY_RESPONSES: tuple[GatewayResponse, ...] = (
    # The tenant authorizer's Deny: an unknown host (`reason` unknown-host) or a suspended tenant
    # (`reason` suspended, "This tenant is suspended"). Both words come from the authorizer's context map.
    _gateway_response(
        "ACCESS_DENIED",
        "403",
        "forbidden",
        "$context.authorizer.message",
        reason="$context.authorizer.reason",
    ),
    # No token, or an invalid one, for a tenant with end-user authentication (UNAUTHORIZED_MESSAGE above).
    _gateway_response(
        "UNAUTHORIZED",
        "401",
        "unauthorized",
        UNAUTHORIZED_MESSAGE,
        headers={"gatewayresponse.header.WWW-Authenticate": "'Bearer'"},
    ),
    # The authorizer failed or could not be reached (e.g. the registry is down): fail closed.
    _gateway_response(
        "AUTHORIZER_FAILURE",
        "500",
        "tenant-check-failed",
        "The tenant could not be verified, so the request was refused; retry later",
    ),
    _gateway_response(
        "AUTHORIZER_CONFIGURATION_ERROR",
        "500",
        "tenant-check-failed",
        "The tenant could not be verified, so the request was refused; retry later",
    ),
    # The tenant's key is not (or no longer) in a usage plan.
    _gateway_response("INVALID_API_KEY", "403", "forbidden", "This tenant has no access to the API"),
    _gateway_response("THROTTLED", "429", "throttled", "Too many requests; slow down and retry"),
    # A managed rule group of the web ACL blocked the request (docs "WAF"); the rate rules answer with their
    # own 429 body instead, as a WAF custom response takes precedence over gateway responses.
    _gateway_response("WAF_FILTERED", "403", "forbidden", "The firewall refused this request", reason="firewall"),
    _gateway_response(
        "QUOTA_EXCEEDED", "429", "quota-exceeded", "This tenant's request quota for the period is used up"
    ),
    # A path or method the API does not have: AWS says "Missing Authentication Token" (403) here.
    _gateway_response("MISSING_AUTHENTICATION_TOKEN", "404", "not-found", "Not found"),
    _gateway_response("RESOURCE_NOT_FOUND", "404", "not-found", "Not found"),
    _gateway_response("INTEGRATION_FAILURE", "504", "service-unavailable", "The service could not be reached"),
    _gateway_response("INTEGRATION_TIMEOUT", "504", "service-timeout", "The service did not answer in time"),
    # Everything else keeps its status code and gets our body instead of AWS's wording.
    _gateway_response("DEFAULT_4XX", None, "bad-request", "The request was refused"),
    _gateway_response("DEFAULT_5XX", None, "server-error", "The request failed; retry later"),
)


def s3_origin(region: str, bucket: str) -> str:
    """The integration URI prefix of an S3 path-style AWS service integration."""
    return f"arn:aws:apigateway:{region}:s3:path/{bucket}"


def http_origin(host: str, port: int) -> str:
    return f"http://{host}:{port}"


def url_origin(url: str) -> str:
    """The origin of an HTTP backend's URL: its routes append `/` or `/{proxy}` to it."""
    return url.rstrip("/")


def definition_document(
    routes: tuple[Route, ...],
    deployed: dict[str, object],
    gateway_responses: tuple[GatewayResponse, ...] = GATEWAY_RESPONSES,
) -> str:
    """Canonical JSON of the API definition and everything deployed into it (origins, link, role,
    authorizer).

    Its hash is the Deployment's trigger: any change, also one that keeps every resource id
    (a changed integration URI, a new header mapping, a reworded gateway response), yields a new
    deployment.
    """
    return json.dumps(
        {
            "binaryMediaTypes": BINARY_MEDIA_TYPES,
            "apiKeySource": API_KEY_SOURCE,
            "authorizerIdentitySource": AUTHORIZER_IDENTITY_SOURCE,
            "routes": [asdict(r) for r in routes],
            "gatewayResponses": [asdict(g) for g in gateway_responses],
            "deployed": deployed,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def definition_hash(
    routes: tuple[Route, ...],
    deployed: dict[str, object],
    gateway_responses: tuple[GatewayResponse, ...] = GATEWAY_RESPONSES,
) -> str:
    return hashlib.sha256(definition_document(routes, deployed, gateway_responses).encode()).hexdigest()


def route_table(routes: tuple[Route, ...], backends: Sequence[Backend] = BACKENDS) -> list[tuple[str, str, str]]:
    """(method, path, backend description) rows for people: the plan and README."""
    described = {b.name: b.description for b in backends}
    return [(r.http_method, r.path, f"{r.backend}: {described[r.backend]} → {r.uri_path}") for r in routes]
