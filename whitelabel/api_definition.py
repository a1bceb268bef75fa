"""The REST API definition, as plain data: one function builds it for the gateway component (to
create resources) and for the contract tests (to import into an emulator), so what is tested is what
is deployed.

A route's integration URI is `origin + uri_path`: the origin is the only per-deployment part
(`http://<internal ALB>:<port>` for services, `arn:aws:apigateway:<region>:s3:path/<bucket>` for docs).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

BackendKind = Literal["http_proxy", "s3"]

# API Gateway sets these on every service integration from the request context; a value the
# client sent in the same header is overwritten, so a caller cannot pose as another tenant.
# Tenant and tier come from the tenant authorizer's `context` map (`context.authorizer.<key>`, the
# stringified value the Lambda authorizer returned), never from the host's first label:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
# https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-parameter-mapping-sources.html
TENANT_HEADERS = {
    "integration.request.header.X-Tenant-Id": "context.authorizer.tenantId",
    "integration.request.header.X-Tenant-Tier": "context.authorizer.tier",
    "integration.request.header.X-Tenant-Domain": "context.domainName",
}

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
    """Where a prefix goes: `service1` and `service2` are load balancers, `docs` is the bucket."""

    name: str
    prefix: str
    kind: BackendKind
    description: str


BACKENDS: tuple[Backend, ...] = (
    Backend("service1", "service1", "http_proxy", "ECS Fargate microservice (internal ALB, VPC link v2)"),
    Backend("service2", "service2", "http_proxy", "EC2 Auto Scaling web app (internal ALB, VPC link v2)"),
    Backend("docs", "docs", "s3", "private S3 bucket (AWS integration, IAM role)"),
)


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
    kind: BackendKind
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
    root = f"/{backend.prefix}"
    return [
        # `/service1` alone reaches the backend's root.
        Route(
            path=root,
            http_method="ANY",
            backend=backend.name,
            kind=backend.kind,
            uri_path="/",
            integration_http_method="ANY",
            integration_request_parameters=dict(TENANT_HEADERS),
        ),
        # `/service1/a/b?q=1` reaches `/a/b?q=1`: the URI names the path explicitly, so the prefix
        # is dropped and the query string is passed on by HTTP_PROXY unchanged.
        Route(
            path=f"{root}/{{proxy+}}",
            http_method="ANY",
            backend=backend.name,
            kind=backend.kind,
            uri_path="/{proxy}",
            integration_http_method="ANY",
            request_parameters={"method.request.path.proxy": True},
            integration_request_parameters={
                "integration.request.path.proxy": "method.request.path.proxy",
                **TENANT_HEADERS,
            },
        ),
    ]


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
    index = Route(
        path=root,
        http_method="GET",
        backend=backend.name,
        kind=backend.kind,
        uri_path="/index.html",
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
        uri_path="/{key}",
        request_parameters={CACHE_KEY_HOST: True, "method.request.path.key": True},
        integration_request_parameters={"integration.request.path.key": "method.request.path.key"},
        # Per hostname and per document.
        cache_key_parameters=(CACHE_KEY_HOST, "method.request.path.key"),
    )
    return [index, document]


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


def build_routes(backends: tuple[Backend, ...] = BACKENDS) -> tuple[Route, ...]:
    """Every method of the API, in a stable order."""
    routes: list[Route] = []
    for backend in backends:
        routes += _service_routes(backend) if backend.kind == "http_proxy" else _docs_routes(backend)
    return tuple(routes)


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
    response_type: str, status_code: str | None, error: str, message: str, **extra: str
) -> GatewayResponse:
    body = {"error": error, **extra, "message": message, "requestId": "$context.requestId"}
    return GatewayResponse(
        response_type,
        status_code,
        {"application/json": json.dumps(body, separators=(",", ":"))},
        dict(JSON_HEADERS),
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
    # No Host header (the identity source is missing: the function is not even called).
    _gateway_response("UNAUTHORIZED", "401", "unauthorized", "The request names no tenant"),
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
    # A managed rule group of the web ACL blocked the request (README "WAF"); the rate rules answer with their
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


def route_table(routes: tuple[Route, ...]) -> list[tuple[str, str, str]]:
    """(method, path, backend description) rows for people: the plan and README."""
    described = {b.name: b.description for b in BACKENDS}
    return [(r.http_method, r.path, f"{r.backend}: {described[r.backend]} → {r.uri_path}") for r in routes]
