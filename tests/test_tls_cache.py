"""TLS policy, mutual TLS and tenant-safe caching (issue 9 §1, §4), on the real program under the mock engine."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pulumi
import pytest

from whitelabel.api_definition import CACHE_KEY_HOST, build_routes, cache_key_problems
from whitelabel.config import (
    DEFAULT_TLS_POLICY,
    ENHANCED_TLS_POLICIES,
    TLS_POLICIES,
    ConfigError,
    parse_settings,
)
from whitelabel.offline import Registered, StackRun

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "aws:apigateway/domainName:DomainName"
REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
RESOURCE = "aws:apigateway/resource:Resource"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"

TRUSTSTORE = "s3://globex-trust/ca-bundle.pem"
GLOBEX_CA = "CN=Globex Client CA,O=Globex,C=US"
# Mutual TLS needs the authorizer's decisions uncached (docs "Mutual TLS").
NO_DECISION_CACHE = {"cacheTtlSeconds": 0}
MTLS_CUSTOMERS = [
    {"name": "acme"},
    {"name": "globex", "dedicatedDomain": True, "mtlsTruststore": TRUSTSTORE, "mtlsIssuers": [GLOBEX_CA]},
    {
        "name": "initech",
        "dedicatedDomain": True,
        "customDomain": "api.initech.com",
        "customDomainValidated": True,
        "mtlsTruststore": "s3://initech-trust/ca.pem",
        "mtlsIssuers": ["CN=Initech Client CA,O=Initech,C=US"],
    },
    {"name": "umbrella", "dedicatedDomain": True},
]


def _domains(run: StackRun) -> dict[str, Registered]:
    return {d.inputs["domainName"]: d for d in run.of_type(DOMAIN)}


def _parse(**keys: Any) -> Any:
    return parse_settings({"baseDomain": "example.com", "customers": [{"name": "acme"}], **keys}, root=ROOT)


# -- §1 TLS policy ------------------------------------------------------------------------------------
def test_the_default_policy_is_enhanced_admits_tls12_and_is_offered() -> None:
    assert DEFAULT_TLS_POLICY in ENHANCED_TLS_POLICIES
    # TLS13_1_2: TLS 1.3 and TLS 1.2 clients; TLS13_1_3 would refuse TLS 1.2.
    assert DEFAULT_TLS_POLICY.startswith("SecurityPolicy_TLS13_1_2_")
    assert _parse().tls_policy == DEFAULT_TLS_POLICY


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_custom_domain_and_the_api_use_the_enhanced_policy_with_strict(
    stack: str, request: pytest.FixtureRequest
) -> None:
    run: StackRun = request.getfixturevalue(stack)
    domains = run.of_type(DOMAIN)
    assert len(domains) >= 2  # the wildcard and globex's dedicated domain
    for resource in [*domains, *run.of_type(REST_API)]:
        assert resource.inputs["securityPolicy"] == DEFAULT_TLS_POLICY, resource.name
        assert resource.inputs["endpointAccessMode"] == "STRICT", resource.name
        assert "mutualTlsAuthentication" not in resource.inputs


def test_tls_1_2_is_the_legacy_choice_and_takes_no_access_mode(run_with: Callable[..., StackRun]) -> None:
    run = run_with([{"name": "acme"}, {"name": "globex", "dedicatedDomain": True}], tlsPolicy="TLS_1_2")
    for resource in [*run.of_type(DOMAIN), *run.of_type(REST_API)]:
        assert resource.inputs["securityPolicy"] == "TLS_1_2"
        # AWS: the access mode exists only for `SecurityPolicy_` policies.
        assert "endpointAccessMode" not in resource.inputs


def test_another_enhanced_policy_is_set_everywhere(run_with: Callable[..., StackRun]) -> None:
    policy = "SecurityPolicy_TLS13_1_3_2025_09"
    run = run_with([{"name": "acme"}], tlsPolicy=policy)
    assert {(r.inputs["securityPolicy"], r.inputs["endpointAccessMode"]) for r in run.of_type(DOMAIN)} == {
        (policy, "STRICT")
    }


@pytest.mark.parametrize("policy", ["TLS_1_0", "SecurityPolicy_TLS13_2025_EDGE", "tls_1_2", ""])
def test_an_unknown_or_unsuitable_policy_is_refused_in_one_line_listing_the_allowed(policy: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(tlsPolicy=policy)
    message = str(caught.value)
    assert caught.value.key == "tlsPolicy"
    assert "\n" not in message
    assert all(name in message for name in TLS_POLICIES)


# -- §1 mutual TLS ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mtls() -> StackRun:
    from tests.conftest import customers_config, shared_run

    # Mutual TLS requires tlsPolicy TLS_1_2 (the API's policy negotiates the handshake of its domains).
    return shared_run("dev", customers_config(MTLS_CUSTOMERS, tlsPolicy="TLS_1_2", authorizer=NO_DECISION_CACHE))


def test_an_mtls_customer_domain_has_its_truststore_and_tls_1_2(mtls: StackRun) -> None:
    domain = _domains(mtls)["globex.dev.example.com"]
    assert domain.inputs["mutualTlsAuthentication"] == {"truststoreUri": TRUSTSTORE}
    assert domain.inputs["securityPolicy"] == "TLS_1_2"
    assert "endpointAccessMode" not in domain.inputs


def test_an_mtls_customers_own_domain_requires_the_client_certificate_too(mtls: StackRun) -> None:
    domains = _domains(mtls)
    for name in ("initech.dev.example.com", "api.initech.com"):
        assert domains[name].inputs["mutualTlsAuthentication"] == {"truststoreUri": "s3://initech-trust/ca.pem"}
        assert domains[name].inputs["securityPolicy"] == "TLS_1_2"


def test_domains_without_mtls_use_tls_1_2_without_a_truststore(mtls: StackRun) -> None:
    domains = _domains(mtls)
    for name in ("*.dev.example.com", "umbrella.dev.example.com"):
        assert domains[name].inputs["securityPolicy"] == "TLS_1_2"
        assert "endpointAccessMode" not in domains[name].inputs
        assert "mutualTlsAuthentication" not in domains[name].inputs
    (api,) = mtls.of_type(REST_API)
    # The API's policy negotiates the handshake of every domain mapped to it: TLS_1_2, as the mTLS domains.
    assert api.inputs["securityPolicy"] == "TLS_1_2"
    # Clients could skip the client certificate through execute-api: it stays off.
    assert api.inputs["disableExecuteApiEndpoint"] is True


@pytest.mark.parametrize("policy", ENHANCED_TLS_POLICIES)
def test_mtls_with_an_enhanced_policy_is_refused(policy: str) -> None:
    customers = [{"name": "acme"}, MTLS_CUSTOMERS[1]]
    with pytest.raises(ConfigError) as caught:
        parse_settings({"baseDomain": "example.com", "customers": customers, "tlsPolicy": policy}, root=ROOT)
    assert caught.value.key == "customers[1].mtlsTruststore"
    assert caught.value.rule == (
        "needs tlsPolicy TLS_1_2: AWS allows mutual TLS only on TLS_1_2 domains, and the API's policy"
        f" (now {policy!r}) negotiates the handshake of every domain mapped to it"
    )


def test_mtls_with_tls_1_2_logs_no_warning(monkeypatch: pytest.MonkeyPatch, run_with: Callable[..., StackRun]) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    run_with([MTLS_CUSTOMERS[1]], tlsPolicy="TLS_1_2", authorizer=NO_DECISION_CACHE)
    assert warnings == []


@pytest.mark.parametrize(
    ("customer", "key", "words"),
    [
        (
            {"name": "globex", "mtlsTruststore": TRUSTSTORE, "mtlsIssuers": [GLOBEX_CA]},
            "customers[0].mtlsTruststore",
            "dedicatedDomain is not",
        ),
        (
            {
                "name": "globex",
                "dedicatedDomain": True,
                "mtlsTruststore": "https://x.example/ca.pem",
                "mtlsIssuers": [GLOBEX_CA],
            },
            "customers[0].mtlsTruststore",
            "S3 URI",
        ),
        (
            {
                "name": "globex",
                "dedicatedDomain": True,
                "mtlsTruststore": "s3://bucket-only",
                "mtlsIssuers": [GLOBEX_CA],
            },
            "customers[0].mtlsTruststore",
            "S3 URI",
        ),
    ],
)
def test_mtls_refusals_name_the_customer_and_the_rule(customer: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"baseDomain": "example.com", "customers": [customer]}, root=ROOT)
    assert caught.value.key == key
    assert words in caught.value.rule
    assert "\n" not in str(caught.value)


# -- §4 caching: the route data ---------------------------------------------------------------------------
def test_only_get_routes_are_cacheable_and_each_keys_on_host_and_its_path() -> None:
    routes = build_routes()
    cached = {(r.http_method, r.path): r.cache_key_parameters for r in routes if r.cached}
    assert cached == {
        ("GET", "/docs"): (CACHE_KEY_HOST,),
        ("GET", "/docs/{key+}"): (CACHE_KEY_HOST, "method.request.path.key"),
    }
    assert all(r.http_method == "GET" for r in routes if r.cached)
    assert cache_key_problems(routes) == []


def test_the_route_check_fails_when_a_cached_route_loses_its_host_key() -> None:
    routes = list(build_routes())
    index = next(i for i, r in enumerate(routes) if r.path == "/docs/{key+}")
    routes[index] = replace(routes[index], cache_key_parameters=("method.request.path.key",))
    assert cache_key_problems(tuple(routes)) == [
        f"GET /docs/{{key+}}: its cache key lacks {CACHE_KEY_HOST}; tenants would share entries"
    ]
    # A key that is not a declared request parameter is refused by API Gateway: the check says so too.
    routes[index] = replace(routes[index], request_parameters={"method.request.path.key": True})
    routes[index] = replace(routes[index], cache_key_parameters=(CACHE_KEY_HOST, "method.request.path.key"))
    assert cache_key_problems(tuple(routes)) == [
        f"GET /docs/{{key+}}: cache key {CACHE_KEY_HOST} is not a declared method request parameter"
    ]


# -- §4 caching: what the program deploys ----------------------------------------------------------------
def resource_paths_by_id(run: StackRun) -> dict[str, str]:
    """API resource id → its path, rebuilt from the registered resources (root is `/`)."""
    (api,) = run.of_type(REST_API)
    parts = {r.id: (r.inputs["parentId"], r.inputs["pathPart"]) for r in run.of_type(RESOURCE)}

    def path(resource_id: str) -> str:
        if resource_id == api.outputs["rootResourceId"]:
            return ""
        parent, part = parts[resource_id]
        return f"{path(parent)}/{part}"

    return {resource_id: path(resource_id) for resource_id in parts}


def host_key_violations(run: StackRun) -> list[str]:
    """Every method the stage caches whose method or integration does not key the cache on Host.

    A method is cached when a method-settings entry for it (or `*/*`) turns caching on; its method must
    declare the Host header and its integration must list it (and each path parameter) as cache keys.
    """
    paths = resource_paths_by_id(run)
    settings = {m.inputs["methodPath"]: m.inputs["settings"] for m in run.of_type(METHOD_SETTINGS)}
    everything = settings.get("*/*", {}).get("cachingEnabled", False)
    problems: list[str] = []
    for integration in run.of_type(INTEGRATION):
        path, verb = paths[integration.inputs["resourceId"]], integration.inputs["httpMethod"]
        override = settings.get(f"{path.replace('/', '~1')}/{verb}", {})
        if not override.get("cachingEnabled", everything):
            continue
        (method,) = [
            m
            for m in run.of_type(METHOD)
            if (m.inputs["resourceId"], m.inputs["httpMethod"]) == (integration.inputs["resourceId"], verb)
        ]
        keys = integration.inputs.get("cacheKeyParameters") or []
        if CACHE_KEY_HOST not in keys:
            problems.append(f"{verb} {path}: integration's cache keys lack Host")
        if CACHE_KEY_HOST not in (method.inputs.get("requestParameters") or {}):
            problems.append(f"{verb} {path}: method does not declare Host")
        for part in path.split("/"):
            if part.startswith("{") and f"method.request.path.{part.strip('{}+')}" not in keys:
                problems.append(f"{verb} {path}: integration's cache keys lack {part}")
    return problems


@pytest.fixture(scope="module")
def cached() -> StackRun:
    from tests.conftest import customers_config, shared_run

    config = customers_config([{"name": "acme"}, {"name": "globex"}], "prod")
    config["whitelabel-gateway:cache"] = {"enabled": True, "sizeGb": 1.6, "ttlSeconds": 120}
    return shared_run("prod", config)


def test_no_cache_by_default(dev: StackRun, prod: StackRun) -> None:
    for run in (dev, prod):
        (stage,) = run.of_type(STAGE)
        assert stage.inputs["cacheClusterEnabled"] is False
        assert "cacheClusterSize" not in stage.inputs
        (settings,) = run.of_type(METHOD_SETTINGS)
        assert (settings.inputs["methodPath"], settings.inputs["settings"]["cachingEnabled"]) == ("*/*", False)
        assert host_key_violations(run) == []


def test_an_enabled_cache_caches_only_the_get_docs_methods(cached: StackRun) -> None:
    (stage,) = cached.of_type(STAGE)
    assert (stage.inputs["cacheClusterEnabled"], stage.inputs["cacheClusterSize"]) == (True, "1.6")
    settings = {m.inputs["methodPath"]: m.inputs["settings"] for m in cached.of_type(METHOD_SETTINGS)}
    assert settings["*/*"]["cachingEnabled"] is False
    cached_paths = sorted(path for path, s in settings.items() if s["cachingEnabled"])
    assert cached_paths == ["~1docs/GET", "~1docs~1{key+}/GET"]
    for path in cached_paths:
        assert settings[path]["cacheTtlInSeconds"] == 120
        assert settings[path]["cacheDataEncrypted"] is True
        assert settings[path]["requireAuthorizationForCacheControl"] is True
        # An override replaces the stage-wide settings for its method: throttling must be repeated.
        assert settings[path]["throttlingRateLimit"] == settings["*/*"]["throttlingRateLimit"]
        assert settings[path]["throttlingBurstLimit"] == settings["*/*"]["throttlingBurstLimit"]
    # ANY service routes are never cached and carry no cache keys.
    paths = resource_paths_by_id(cached)
    for integration in cached.of_type(INTEGRATION):
        if paths[integration.inputs["resourceId"]].startswith("/service"):
            assert "cacheKeyParameters" not in integration.inputs


def test_every_cached_method_keys_on_host(cached: StackRun) -> None:
    keyed = [
        (i.inputs["httpMethod"], i.inputs["cacheKeyParameters"])
        for i in cached.of_type(INTEGRATION)
        if i.inputs.get("cacheKeyParameters")
    ]
    # Registration order is not fixed (the engine registers concurrently): compare as sorted.
    assert sorted(keyed) == [
        ("GET", [CACHE_KEY_HOST]),
        ("GET", [CACHE_KEY_HOST, "method.request.path.key"]),
    ]
    assert host_key_violations(cached) == []


def test_the_host_check_fails_when_a_cached_method_loses_its_host_key(cached: StackRun) -> None:
    broken = copy.deepcopy(cached)
    paths = resource_paths_by_id(broken)
    integration = next(i for i in broken.of_type(INTEGRATION) if paths[i.inputs["resourceId"]] == "/docs")
    integration.inputs["cacheKeyParameters"] = [
        k for k in integration.inputs["cacheKeyParameters"] if k != CACHE_KEY_HOST
    ]
    method = next(m for m in broken.of_type(METHOD) if m.inputs["resourceId"] == integration.inputs["resourceId"])
    del method.inputs["requestParameters"][CACHE_KEY_HOST]
    assert host_key_violations(broken) == [
        "GET /docs: integration's cache keys lack Host",
        "GET /docs: method does not declare Host",
    ]


def test_the_host_check_covers_a_stage_wide_cache_too(cached: StackRun) -> None:
    broken = copy.deepcopy(cached)
    stage_wide = next(m for m in broken.of_type(METHOD_SETTINGS) if m.inputs["methodPath"] == "*/*")
    stage_wide.inputs["settings"]["cachingEnabled"] = True
    # Caching every method would cache the ANY service routes, which key on nothing.
    assert any(p.startswith("ANY /service1") for p in host_key_violations(broken))


@pytest.mark.parametrize(
    ("cache", "key"),
    [
        ({"sizeGb": 2}, "cache.sizeGb"),
        ({"ttlSeconds": 3601}, "cache.ttlSeconds"),
        ({"ttlSeconds": -1}, "cache.ttlSeconds"),
    ],
)
def test_cache_settings_outside_api_gateways_values_are_refused(cache: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(cache=cache)
    assert caught.value.key == key


def test_a_policy_change_redeploys_the_api(dev: StackRun, run_with: Callable[..., StackRun]) -> None:
    # AWS applies a changed API security policy with the next deployment: the trigger must change with it.
    legacy = run_with([{"name": "acme"}, {"name": "globex", "dedicatedDomain": True}], tlsPolicy="TLS_1_2")
    (before,) = dev.of_type("aws:apigateway/deployment:Deployment")
    (after,) = legacy.of_type("aws:apigateway/deployment:Deployment")
    assert before.inputs["triggers"]["definition"] != after.inputs["triggers"]["definition"]
