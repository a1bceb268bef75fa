"""The policy pack (`policy/`): each rule on a passing and a failing resource or graph, the CrossGuard wrappers
through the policy SDK's own analyzer service, and every rule over the whole dev and prod graphs."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from tests.conftest import customers_config, shared_run
from whitelabel.offline import StackRun, stack_file_config

# The pack's modules import each other by plain name, as the Pulumi CLI runs them from their folder.
POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
sys.path.insert(0, str(POLICY_DIR))
import crossguard  # noqa: E402
import rules  # noqa: E402
from rules import Resource  # noqa: E402

ENHANCED = "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09"


# -- resource rules --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("type_", rules.LOAD_BALANCERS)
def test_load_balancers_must_be_internal(type_: str) -> None:
    assert rules.internal_load_balancers(type_, {"internal": True}) == []
    assert rules.internal_load_balancers(type_, {"internal": False})
    # Unset means internet-facing (ELB's default scheme).
    assert rules.internal_load_balancers(type_, {})
    assert rules.internal_load_balancers("aws:ec2/vpc:Vpc", {}) == []


def test_the_execute_api_endpoint_must_be_disabled() -> None:
    assert rules.execute_api_disabled(rules.REST_API, {"disableExecuteApiEndpoint": True}) == []
    assert rules.execute_api_disabled(rules.REST_API, {"disableExecuteApiEndpoint": False})
    assert rules.execute_api_disabled(rules.REST_API, {})


@pytest.mark.parametrize(
    ("type_", "props", "passes"),
    [
        (rules.DOMAIN_NAME, {"securityPolicy": ENHANCED, "endpointAccessMode": "STRICT"}, True),
        (
            rules.DOMAIN_NAME,
            {"securityPolicy": "SecurityPolicy_TLS13_1_3_2025_09", "endpointAccessMode": "STRICT"},
            True,
        ),
        (rules.DOMAIN_NAME, {"securityPolicy": ENHANCED, "endpointAccessMode": "BASIC"}, False),
        (rules.DOMAIN_NAME, {"securityPolicy": ENHANCED}, False),
        (
            rules.DOMAIN_NAME,
            {"securityPolicy": "TLS_1_2", "mutualTlsAuthentication": {"truststoreUri": "s3://b/ca.pem"}},
            True,
        ),
        (rules.DOMAIN_NAME, {"securityPolicy": "TLS_1_0"}, False),
        (rules.DOMAIN_NAME, {}, False),
        (rules.REST_API, {"securityPolicy": ENHANCED, "endpointAccessMode": "STRICT"}, True),
        (rules.REST_API, {"securityPolicy": ENHANCED, "endpointAccessMode": "BASIC"}, False),
        (rules.REST_API, {"securityPolicy": "TLS_1_0"}, False),
        # TLS_1_2 is judged with the graph (tls-1-2-only-with-mutual-tls).
        (rules.DOMAIN_NAME, {"securityPolicy": "TLS_1_2"}, True),
        (rules.REST_API, {"securityPolicy": "TLS_1_2"}, True),
    ],
)
def test_custom_domains_and_the_api_use_strict_tls(type_: str, props: dict[str, Any], passes: bool) -> None:
    assert (rules.strict_tls(type_, props) == []) is passes


MTLS_DOMAIN = {"securityPolicy": "TLS_1_2", "mutualTlsAuthentication": {"truststoreUri": "s3://b/ca.pem"}}
STRICT_DOMAIN = {"securityPolicy": ENHANCED, "endpointAccessMode": "STRICT"}


@pytest.mark.parametrize(
    ("api", "domains", "failing"),
    [
        (STRICT_DOMAIN, [STRICT_DOMAIN], []),
        (STRICT_DOMAIN, [MTLS_DOMAIN, STRICT_DOMAIN], []),
        # With mutual TLS, tlsPolicy TLS_1_2: the API and every domain use it (the API's policy negotiates the
        # handshake of the domains mapped to it).
        ({"securityPolicy": "TLS_1_2"}, [MTLS_DOMAIN, {"securityPolicy": "TLS_1_2"}], []),
        ({"securityPolicy": "TLS_1_2"}, [STRICT_DOMAIN], ["api"]),
        ({"securityPolicy": "TLS_1_2"}, [{"securityPolicy": "TLS_1_2"}], ["api", "d0"]),
        # A truststore on an enhanced domain is no mutual-TLS domain (AWS refuses it).
        (
            {"securityPolicy": "TLS_1_2"},
            [{**STRICT_DOMAIN, "mutualTlsAuthentication": {"truststoreUri": "s3://b"}}],
            ["api"],
        ),
        (STRICT_DOMAIN, [{"securityPolicy": "TLS_1_2"}], ["d0"]),
    ],
)
def test_tls_1_2_only_in_a_stack_with_a_mutual_tls_domain(
    api: dict[str, Any], domains: list[dict[str, Any]], failing: list[str]
) -> None:
    graph = [res(rules.REST_API, "api", **api), *(res(rules.DOMAIN_NAME, f"d{i}", **d) for i, d in enumerate(domains))]
    violations = rules.tls_1_2_only_with_mutual_tls(graph)
    assert sorted(v.urn or "" for v in violations) == [f"urn:{name}" for name in failing]
    assert {v.rule for v in violations} <= {"tls-1-2-only-with-mutual-tls"}


# -- graphs for the stack rules --------------------------------------------------------------------------------
def res(
    type_: str, name: str, protect: bool = False, deps: Mapping[str, tuple[str, ...]] | None = None, **props: Any
) -> Resource:
    return Resource(type_, name, f"urn:{name}", props, protect, dict(deps or {}), id=f"{name}-id")


def without(graph: list[Resource], name: str) -> list[Resource]:
    assert any(r.name == name for r in graph), f"no resource named {name!r} to drop"
    return [r for r in graph if r.name != name]


def changed(graph: list[Resource], name: str, **props: Any) -> list[Resource]:
    assert any(r.name == name for r in graph), f"no resource named {name!r} to change"
    return [dataclasses.replace(r, props={**r.props, **props}) if r.name == name else r for r in graph]


TLS_ONLY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::docs", "arn:aws:s3:::docs/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


def bucket_graph() -> list[Resource]:
    return [
        res(rules.BUCKETS[0], "docs", bucket="docs", arn="arn:aws:s3:::docs"),
        res(
            rules.PUBLIC_ACCESS_BLOCK,
            "pab",
            bucket="docs-id",
            blockPublicAcls=True,
            blockPublicPolicy=True,
            ignorePublicAcls=True,
            restrictPublicBuckets=True,
        ),
        res(
            rules.ENCRYPTION[0],
            "sse",
            bucket="docs-id",
            rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
        ),
        res(rules.BUCKET_POLICY, "policy", bucket="docs-id", policy=json.dumps(TLS_ONLY)),
    ]


def test_a_locked_down_bucket_passes() -> None:
    assert rules.s3_buckets_locked_down(bucket_graph()) == []


def test_buckets_are_linked_by_property_dependencies_as_crossguard_gives_them() -> None:
    # In a preview the `bucket` value is unknown; the dependency on the bucket's URN is what links them.
    graph = [
        r
        if r.name == "docs"
        else dataclasses.replace(r, props={**r.props, "bucket": "?"}, property_dependencies={"bucket": ("urn:docs",)})
        for r in bucket_graph()
    ]
    assert rules.s3_buckets_locked_down(graph) == []
    elsewhere = [
        dataclasses.replace(r, property_dependencies={"bucket": ("urn:other",)}) if r.name == "pab" else r
        for r in graph
    ]
    (violation,) = rules.s3_buckets_locked_down(elsewhere)
    assert violation.message.startswith("bucket docs: no public access block with blockPublicAcls")


@pytest.mark.parametrize(
    "broken",
    [
        lambda g: without(g, "pab"),
        lambda g: changed(g, "pab", restrictPublicBuckets=False),
        lambda g: without(g, "sse"),
        lambda g: changed(g, "sse", rules=[]),
        lambda g: without(g, "policy"),
        lambda g: changed(
            g, "policy", policy=json.dumps({**TLS_ONLY, "Statement": [{**TLS_ONLY["Statement"][0], "Effect": "Allow"}]})
        ),
        lambda g: changed(
            g,
            "policy",
            policy=json.dumps(
                {
                    **TLS_ONLY,
                    "Statement": [{**TLS_ONLY["Statement"][0], "Condition": {"Bool": {"aws:SecureTransport": "true"}}}],
                }
            ),
        ),
        # Objects only: bucket-level calls (ListBucket) would still be allowed over plain HTTP.
        lambda g: changed(
            g,
            "policy",
            policy=json.dumps(
                {**TLS_ONLY, "Statement": [{**TLS_ONLY["Statement"][0], "Resource": "arn:aws:s3:::docs/*"}]}
            ),
        ),
        lambda g: changed(g, "pab", bucket="another-bucket"),
    ],
)
def test_a_bucket_missing_a_safeguard_fails(broken: Callable[[list[Resource]], list[Resource]]) -> None:
    violations = rules.s3_buckets_locked_down(broken(bucket_graph()))
    assert len(violations) == 1
    assert violations[0].urn == "urn:docs"


def api_graph(**method_props: Any) -> list[Resource]:
    return [
        res(rules.REST_API, "api"),
        res(rules.AUTHORIZER, "tenant", type="REQUEST", identitySource="method.request.header.Host", restApi="api-id"),
        res(rules.API_RESOURCE, "docs", restApi="api-id", parentId="root", pathPart="docs"),
        res(
            rules.METHOD,
            "docs-get",
            restApi="api-id",
            resourceId="docs-id",
            httpMethod="GET",
            **{"authorization": "CUSTOM", "authorizerId": "tenant-id", **method_props},
        ),
        res(rules.INTEGRATION, "docs-get-integration", restApi="api-id", resourceId="docs-id", httpMethod="GET"),
    ]


def test_a_method_with_the_tenant_authorizer_passes() -> None:
    assert rules.tenant_authorizer_on_every_method(api_graph()) == []


@pytest.mark.parametrize(
    "graph",
    [
        api_graph(authorization="NONE", authorizerId=None),
        api_graph(authorizerId=None),
        changed(api_graph(), "tenant", type="TOKEN"),
        changed(api_graph(), "tenant", identitySource="method.request.header.Authorization"),
    ],
    ids=["no-authorization", "custom-without-authorizer", "token-authorizer", "not-keyed-on-host"],
)
def test_a_method_without_the_tenant_authorizer_fails(graph: list[Resource]) -> None:
    assert [v.urn for v in rules.tenant_authorizer_on_every_method(graph)] == ["urn:docs-get"]


def auth_graph(ttl: int | None = 0, **authorizer_props: Any) -> list[Resource]:
    """The API graph with the tenant authorizer's function running with end-user authentication on."""
    function = res(rules.FUNCTION, "tenant-fn", environment={"variables": {"TENANT_TABLE": "t", "USER_AUTH": "on"}})
    graph = changed(api_graph(), "tenant", authorizerResultTtlInSeconds=ttl, **authorizer_props)
    return [function, *graph]


def test_user_auth_with_an_uncached_tenant_authorizer_passes() -> None:
    assert rules.user_auth_decisions_per_token(auth_graph(ttl=0)) == []


def test_user_auth_with_the_token_among_the_identity_sources_may_cache() -> None:
    sources = f"{rules.HOST_HEADER},{rules.TOKEN_HEADER}"
    assert rules.user_auth_decisions_per_token(auth_graph(ttl=300, identitySource=sources)) == []


def test_without_user_auth_a_host_keyed_cache_is_fine() -> None:
    graph = changed(auth_graph(ttl=300), "tenant-fn", environment={"variables": {"TENANT_TABLE": "t"}})
    assert not rules.has_user_auth(graph)
    assert rules.user_auth_decisions_per_token(graph) == []


@pytest.mark.parametrize(
    "graph",
    [
        auth_graph(ttl=300),
        # No TTL set: API Gateway's default of 300 s applies.
        auth_graph(ttl=None),
        changed(auth_graph(), "docs-get", authorization="NONE", authorizerId=None),
        changed(auth_graph(), "tenant", type="TOKEN"),
    ],
    ids=["host-keyed-ttl-300", "default-ttl", "no-authorizer", "token-authorizer"],
)
def test_user_auth_with_a_decision_shared_across_tokens_fails(graph: list[Resource]) -> None:
    violations = rules.user_auth_decisions_per_token(graph)
    assert [(v.rule, v.urn) for v in violations] == [("user-auth-decisions-per-token", "urn:docs-get")]


def cached(graph: list[Resource], method_path: str = "~1docs/GET") -> list[Resource]:
    settings = res(
        rules.METHOD_SETTINGS, "cache", restApi="api-id", methodPath=method_path, settings={"cachingEnabled": True}
    )
    return [*graph, settings]


def host_keyed() -> list[Resource]:
    graph = api_graph(requestParameters={rules.HOST_HEADER: True})
    return changed(graph, "docs-get-integration", cacheKeyParameters=[rules.HOST_HEADER])


def test_a_cached_method_keyed_on_host_passes() -> None:
    assert rules.cached_methods_key_on_host(cached(host_keyed())) == []
    assert rules.cached_methods_key_on_host(cached(host_keyed(), "*/*")) == []


@pytest.mark.parametrize("method_path", ["~1docs/GET", "~1docs/*", "*/*"])
def test_a_cached_method_not_keyed_on_host_fails(method_path: str) -> None:
    no_key = changed(host_keyed(), "docs-get-integration", cacheKeyParameters=["method.request.path.key"])
    assert [v.message for v in rules.cached_methods_key_on_host(cached(no_key, method_path))] == [
        f"cached method GET /docs: its cache key lacks {rules.HOST_HEADER}"
    ]
    undeclared = changed(host_keyed(), "docs-get", requestParameters={})
    assert len(rules.cached_methods_key_on_host(cached(undeclared, method_path))) == 1


def test_an_uncached_method_needs_no_host_key() -> None:
    assert rules.cached_methods_key_on_host(api_graph()) == []
    assert rules.cached_methods_key_on_host(cached(api_graph(), "~1other/GET")) == []
    off = [
        *api_graph(),
        res(rules.METHOD_SETTINGS, "s", restApi="api-id", methodPath="*/*", settings={"cachingEnabled": False}),
    ]
    assert rules.cached_methods_key_on_host(off) == []


def production_graph() -> list[Resource]:
    return [
        res(
            rules.TABLE, "registry", protect=True, deletionProtectionEnabled=True, pointInTimeRecovery={"enabled": True}
        ),
        res(rules.BUCKETS[0], "docs", protect=True, bucket="docs"),
        res(rules.VERSIONING[0], "versioning", bucket="docs-id", versioningConfiguration={"status": "Enabled"}),
        res(rules.API_KEY, "acme-key", protect=True),
        res(rules.STAGE, "stage", arn="arn:aws:apigateway:eu-west-1::/restapis/a/stages/prod"),
        res(rules.WAF_ASSOCIATION, "waf", resourceArn="arn:aws:apigateway:eu-west-1::/restapis/a/stages/prod"),
    ]


def test_a_protected_stack_with_waf_protection_and_recovery_passes() -> None:
    assert rules.is_protected_production(production_graph())
    assert rules.protected_production(production_graph()) == []


@pytest.mark.parametrize(
    ("broken", "urn"),
    [
        (lambda g: without(g, "waf"), "urn:stage"),
        (lambda g: changed(g, "waf", resourceArn="arn:aws:apigateway:eu-west-1::/restapis/b/stages/prod"), "urn:stage"),
        (lambda g: [dataclasses.replace(r, protect=False) if r.name == "acme-key" else r for r in g], "urn:acme-key"),
        (lambda g: changed(g, "registry", pointInTimeRecovery={"enabled": False}), "urn:registry"),
        (lambda g: without(g, "versioning"), "urn:docs"),
        (lambda g: changed(g, "versioning", versioningConfiguration={"status": "Suspended"}), "urn:docs"),
    ],
)
def test_a_protected_stack_missing_a_safeguard_fails(
    broken: Callable[[list[Resource]], list[Resource]], urn: str
) -> None:
    assert [v.urn for v in rules.protected_production(broken(production_graph()))] == [urn]


def test_an_unprotected_stack_needs_no_waf_or_protection() -> None:
    dev = [dataclasses.replace(r, protect=False) for r in without(production_graph(), "waf")]
    dev = changed(dev, "registry", deletionProtectionEnabled=False)
    assert not rules.is_protected_production(dev)
    assert rules.protected_production(dev) == []


# -- the CrossGuard wrappers, through the policy SDK's analyzer service ------------------------------------------
def analyzer() -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer(crossguard.PACK_NAME, "1.0.0", crossguard.POLICIES, EnforcementLevel.MANDATORY)


def struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    # Archives and other non-JSON values (the Lambda's code) travel as text; no rule reads them.
    json_format.ParseDict(json.loads(json.dumps(props, default=repr)), message)
    return message


def test_the_pack_holds_every_rule_mandatory() -> None:
    names = [p.name for p in crossguard.POLICIES]
    assert names == [r.name for r in rules.RESOURCE_RULES] + [r.name for r in rules.STACK_RULES]
    assert {p.enforcement_level for p in crossguard.POLICIES} == {EnforcementLevel.MANDATORY}


def test_a_resource_policy_reports_through_the_sdk() -> None:
    def analyze(internal: bool) -> list[Any]:
        request = analyzer_pb2.AnalyzeRequest(
            type=rules.LOAD_BALANCERS[0], properties=struct({"internal": internal}), urn="urn:lb", name="lb"
        )
        return list(analyzer().Analyze(request, None).diagnostics)

    assert analyze(True) == []
    (diagnostic,) = analyze(False)
    assert diagnostic.policyName == "no-internet-facing-load-balancer"
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY


def stack_request(run: StackRun, drop: str | None = None) -> analyzer_pb2.AnalyzeStackRequest:
    """The graph as the engine sends it to a policy pack: outputs, protect, parent, and property dependencies
    (rebuilt here from ids: a property holding another resource's id came from that resource)."""
    urn_of_id = {r.id: r.urn for r in run.custom if r.id}

    def dependencies(outputs: Mapping[str, Any]) -> dict[str, analyzer_pb2.AnalyzerPropertyDependencies]:
        return {
            prop: analyzer_pb2.AnalyzerPropertyDependencies(urns=[urn_of_id[value]])
            for prop, value in outputs.items()
            if isinstance(value, str) and value in urn_of_id
        }

    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                urn=r.urn,
                name=r.name,
                properties=struct(r.outputs),
                options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect),
                parent=r.parent,
                propertyDependencies=dependencies(r.outputs),
            )
            for r in run.custom
            if r.name != drop
        ]
    )


def test_stack_policies_report_through_the_sdk_on_the_prod_graph(prod: StackRun) -> None:
    # Values travel as protobuf (numbers as floats, no ids): resources are linked by property dependencies.
    assert [d.message for d in analyzer().AnalyzeStack(stack_request(prod), None).diagnostics] == []
    diagnostics = analyzer().AnalyzeStack(stack_request(prod, drop="whitelabel-waf-association"), None).diagnostics
    assert [(d.policyName, d.urn) for d in diagnostics] == [
        ("protected-production", prod.named("whitelabel-gateway-stage").urn)
    ]


# -- every rule over the whole graphs of the mock engine ----------------------------------------------------------
def graph(run: StackRun) -> list[Resource]:
    return [rules.from_registered(r) for r in run.custom]


def test_dev_and_prod_have_zero_violations(dev: StackRun, prod: StackRun) -> None:
    assert rules.check_graph(graph(dev)) == []
    assert rules.check_graph(graph(prod)) == []


def test_the_whole_graph_check_is_not_vacuous(dev: StackRun, prod: StackRun) -> None:
    """What the zero above stands on: each rule found what it judges, and breaks on the real graph."""
    assert rules.is_protected_production(graph(prod)) and not rules.is_protected_production(graph(dev))
    assert len(prod.of_type(rules.METHOD)) == 6 and len(prod.of_type(rules.WAF_ASSOCIATION)) == 1
    broken = [
        dataclasses.replace(r, protect=False) if r.type == rules.API_KEY else r
        for r in without(graph(prod), "whitelabel-waf-association")
    ]
    broken = changed(broken, "whitelabel-gateway-method-docs-get", authorization="NONE")
    broken = changed(broken, "docs-public-access-block", blockPublicPolicy=False)
    broken = changed(broken, "service1-alb-lb", internal=False)
    broken = changed(broken, "whitelabel-tenants-domains-globex-domain", endpointAccessMode="BASIC")
    broken = changed(broken, "whitelabel-gateway-api", disableExecuteApiEndpoint=False)
    broken = changed(broken, "whitelabel-wildcard-domain", securityPolicy="TLS_1_2")
    assert sorted({v.rule for v in rules.check_graph(broken)}) == sorted(
        [r.name for r in rules.RESOURCE_RULES]
        # prod has neither the cache nor end-user authentication: the tests above break those two on graphs that do.
        + [
            r.name
            for r in rules.STACK_RULES
            if r.name not in ("cached-methods-key-on-host", "user-auth-decisions-per-token")
        ]
    )


def test_a_cached_prod_stack_keys_every_cached_method_on_host() -> None:
    config = stack_file_config("prod")
    config["whitelabel-gateway:cache"] = {"enabled": True, "sizeGb": 0.5, "ttlSeconds": 300}
    cached_graph = graph(shared_run("prod", config))
    assert rules.check_graph(cached_graph) == []
    assert any(
        r.props.get("settings", {}).get("cachingEnabled") for r in rules._of(cached_graph, rules.METHOD_SETTINGS)
    )
    unkeyed = [
        dataclasses.replace(r, props={**r.props, "cacheKeyParameters": ["method.request.path.key"]})
        if r.type == rules.INTEGRATION and r.props.get("cacheKeyParameters")
        else r
        for r in cached_graph
    ]
    assert {v.message for v in rules.check_graph(unkeyed)} == {
        f"cached method GET /docs: its cache key lacks {rules.HOST_HEADER}",
        f"cached method GET /docs/{{key+}}: its cache key lacks {rules.HOST_HEADER}",
    }


def test_an_onboarded_dev_stack_with_every_domain_shape_passes() -> None:
    customers: list[dict[str, Any]] = [
        {"name": "acme"},
        {
            "name": "globex",
            "dedicatedDomain": True,
            "mtlsTruststore": "s3://truststores/globex.pem",
            "mtlsIssuers": ["CN=Globex Client CA"],
        },
        {"name": "initech", "customDomain": "api.initech.test", "customDomainValidated": True},
    ]
    config = customers_config(customers, dualStack=True, tlsPolicy="TLS_1_2", authorizer={"cacheTtlSeconds": 0})
    run = shared_run("dev", config)
    assert rules.check_graph(graph(run)) == []
    # The TLS_1_2 API passes only because globex's domain does mutual TLS.
    without_mtls = [
        dataclasses.replace(r, props={k: v for k, v in r.props.items() if k != "mutualTlsAuthentication"})
        for r in graph(run)
    ]
    violations = rules.check_graph(without_mtls)
    assert {v.rule for v in violations} == {"tls-1-2-only-with-mutual-tls"}
    assert len(violations) == len(run.of_type(rules.DOMAIN_NAME)) + 1


def test_a_dev_stack_with_end_user_auth_passes_and_fails_when_the_authorizer_caches_per_host() -> None:
    auth = {"issuer": "https://idp.example.com", "audiences": ["gw"], "publicPrefixes": ["/docs"]}
    config = customers_config([{"name": "acme"}], auth=auth, authorizer={"cacheTtlSeconds": 0})
    auth_graph = graph(shared_run("dev", config))
    assert rules.has_user_auth(auth_graph)
    assert rules.check_graph(auth_graph) == []
    caching = [
        dataclasses.replace(r, props={**r.props, "authorizerResultTtlInSeconds": 300})
        if r.type == rules.AUTHORIZER
        else r
        for r in auth_graph
    ]
    violations = rules.check_graph(caching)
    assert {v.rule for v in violations} == {"user-auth-decisions-per-token"}
    assert len(violations) == len(rules._of(auth_graph, rules.METHOD)) == 6


# -- the pack as the Pulumi CLI starts it, and `make policy` -----------------------------------------------------
def test_the_pack_serves_its_policies_over_grpc_on_loopback() -> None:
    """`policy/__main__.py` run as a program prints its port and answers the engine's analyzer calls."""
    import subprocess

    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import analyzer_pb2_grpc

    process = subprocess.Popen(
        [sys.executable, "-u", str(POLICY_DIR / "__main__.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(process.stdout.readline()) if process.stdout else 0
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
            assert info.name == crossguard.PACK_NAME
            assert [p.name for p in info.policies] == [p.name for p in crossguard.POLICIES]
            assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}
            public = analyzer_pb2.AnalyzeRequest(
                type=rules.LOAD_BALANCERS[0], properties=struct({"internal": False}), urn="urn:lb", name="lb"
            )
            (diagnostic,) = stub.Analyze(public, timeout=10).diagnostics
            assert diagnostic.policyName == "no-internet-facing-load-balancer"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_make_policy_fails_on_a_violation(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import check

    violation = rules.Violation("strict-tls", "the custom domain uses 'TLS_1_0'", "urn:domain")
    monkeypatch.setattr(check, "check_stack", lambda stack: ([], [violation]))
    assert check.main(["--stack", "prod"]) == 1
    assert "FAIL strict-tls" in capsys.readouterr().out
    monkeypatch.setattr(check, "check_stack", lambda stack: ([], []))
    assert check.main(["--stack", "prod"]) == 0
