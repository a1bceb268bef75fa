"""Edge-optimized endpoints (`endpointType: EDGE`, issue 19): the decisions of `whitelabel.endpoints`, the config's
refusals, both endpoint types side by side under the mock engine, the policy pack, the plan, and the tenant
authorizer on the event AWS documents for an API behind API Gateway's CloudFront distribution."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from functions.tenant_authorizer import handler as authorizer
from tests.conftest import shared_run
from tools.plan import render
from whitelabel.config import ConfigError, parse_settings
from whitelabel.endpoints import (
    CLOUDFRONT_ZONE_ID,
    DEFAULT_EDGE_TLS_POLICY,
    EDGE,
    EDGE_CERTIFICATE_REGION,
    EDGE_TLS_POLICIES,
    REGIONAL,
    tls_policy_endpoint_type,
)
from whitelabel.offline import REGIONAL_ZONE_ID, StackRun, run_program
from whitelabel.quotas import check_quotas, usage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "policy"))
import rules

REST_API = "aws:apigateway/restApi:RestApi"
DOMAIN = "aws:apigateway/domainName:DomainName"
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"
KEY = "whitelabel-gateway:endpointType"


def set_edge(config: dict[str, Any]) -> None:
    config[KEY] = EDGE


def with_own_domain(config: dict[str, Any]) -> None:
    # A validated own domain too: its certificate, validation, domain and handoff record follow the type.
    config["whitelabel-gateway:customers"]["initech"] = {
        "customDomain": "api.initech.test",
        "customDomainValidated": True,
    }


@pytest.fixture(scope="module")
def regional() -> StackRun:
    return run_program("dev", edit=with_own_domain)


@pytest.fixture(scope="module")
def edge() -> StackRun:
    def edit(config: dict[str, Any]) -> None:
        with_own_domain(config)
        set_edge(config)

    return run_program("dev", edit=edit)


# -- the pure decisions ---------------------------------------------------------------------------------------
def test_each_endpoint_type_names_its_certificate_argument_region_and_alias_target() -> None:
    settings = parse_settings({"baseDomain": "example.com", "customers": []})
    regional_endpoint = settings.endpoint
    edge_endpoint = parse_settings({"baseDomain": "example.com", "customers": [], "endpointType": EDGE}).endpoint
    assert (regional_endpoint.type, edge_endpoint.type) == (REGIONAL, EDGE)
    assert (regional_endpoint.certificate_arg, edge_endpoint.certificate_arg) == (
        "regional_certificate_arn",
        "certificate_arn",
    )
    assert (regional_endpoint.certificate_region, edge_endpoint.certificate_region) == (None, "us-east-1")
    assert (edge_endpoint.alias_name_attr, edge_endpoint.alias_zone_attr) == (
        "cloudfront_domain_name",
        "cloudfront_zone_id",
    )
    assert (regional_endpoint.alias_name_attr, regional_endpoint.alias_zone_attr) == (
        "regional_domain_name",
        "regional_zone_id",
    )
    assert regional_endpoint.mutual_tls and not edge_endpoint.mutual_tls
    assert edge_endpoint.tls_policies == (*EDGE_TLS_POLICIES, "TLS_1_2")
    assert not set(edge_endpoint.tls_policies) & set(regional_endpoint.enhanced_tls_policies)


def test_the_edge_policies_are_the_ones_botocore_knows() -> None:
    # botocore's API Gateway model lists every policy AWS accepts: a renamed or invented one fails here.
    import botocore.session

    model = botocore.session.get_session().get_service_model("apigateway")
    known = set(model.shape_for("SecurityPolicy").enum)
    assert set(EDGE_TLS_POLICIES) <= known and "TLS_1_2" in known
    assert {p for p in known if p.endswith("_EDGE")} == set(EDGE_TLS_POLICIES)
    assert [
        tls_policy_endpoint_type(p) for p in ("SecurityPolicy_TLS13_2025_EDGE", "SecurityPolicy_TLS13_1_3_2025_09")
    ] == [
        EDGE,
        REGIONAL,
    ]
    assert tls_policy_endpoint_type("TLS_1_2") is None


# -- config ---------------------------------------------------------------------------------------------------
def test_regional_is_the_default_and_an_edge_stack_gets_the_edge_default_policy() -> None:
    base = {"baseDomain": "example.com", "customers": [{"name": "acme"}]}
    assert parse_settings(base).endpoint_type == REGIONAL
    edge_settings = parse_settings({**base, "endpointType": EDGE})
    assert (edge_settings.endpoint_type, edge_settings.tls_policy) == (EDGE, DEFAULT_EDGE_TLS_POLICY)
    chosen = parse_settings({**base, "endpointType": EDGE, "tlsPolicy": "SecurityPolicy_TLS13_2025_EDGE"})
    assert chosen.tls_policy == "SecurityPolicy_TLS13_2025_EDGE"


MTLS = {
    "name": "acme",
    "dedicatedDomain": True,
    "mtlsTruststore": "s3://truststores/acme.pem",
    "mtlsIssuers": ["CN=Acme CA"],
}


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (
            {"endpointType": EDGE, "tlsPolicy": "SecurityPolicy_TLS13_1_3_2025_09"},
            "whitelabel-gateway:tlsPolicy: 'SecurityPolicy_TLS13_1_3_2025_09' is for REGIONAL endpoints but"
            " endpointType is EDGE: one of SecurityPolicy_TLS13_2025_EDGE,",
        ),
        (
            {"tlsPolicy": "SecurityPolicy_TLS12_PFS_2025_EDGE"},
            "whitelabel-gateway:tlsPolicy: 'SecurityPolicy_TLS12_PFS_2025_EDGE' is for EDGE endpoints but"
            " endpointType is REGIONAL",
        ),
        ({"endpointType": "edge"}, "whitelabel-gateway:endpointType: must be 'REGIONAL' or 'EDGE' (not 'edge')"),
        (
            {"endpointType": EDGE, "tlsPolicy": "TLS_1_2", "customers": [MTLS], "authorizer": {"cacheTtlSeconds": 0}},
            "whitelabel-gateway:customers[0].mtlsTruststore: is not possible with endpointType EDGE: API Gateway does"
            " mutual TLS on Regional custom domains only",
        ),
    ],
)
def test_edge_refusals_are_one_line(extra: dict[str, Any], line: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_settings({"baseDomain": "example.com", "customers": [{"name": "acme"}], **extra})
    message = str(refused.value)
    assert message.startswith(line) and "\n" not in message


def test_the_same_mutual_tls_customer_is_accepted_on_regional() -> None:
    # The refusal above is about the endpoint type, not about the customer.
    settings = parse_settings(
        {"baseDomain": "example.com", "customers": [MTLS], "tlsPolicy": "TLS_1_2", "authorizer": {"cacheTtlSeconds": 0}}
    )
    assert settings.customers[0].mtls_truststore is not None


def test_edge_certificates_count_against_the_us_east_1_quota() -> None:
    raw = {
        "baseDomain": "example.com",
        "customers": [{"name": "acme", "customDomain": "api.acme.test"}],
        "quotas": {"certificates": 1},
    }
    for endpoint_type, region in ((REGIONAL, None), (EDGE, "us-east-1")):
        with pytest.raises(ConfigError) as refused:
            parse_settings({**raw, "endpointType": endpoint_type})
        assert ("in us-east-1" in str(refused.value)) == (region is not None)
    settings = parse_settings({**raw, "endpointType": EDGE, "quotas": {"certificates": 2}})
    assert usage(settings).certificate_region == EDGE_CERTIFICATE_REGION
    check_quotas(settings)


# -- the program under the mock engine, both types side by side ----------------------------------------------
def test_both_types_build_the_same_resources(regional: StackRun, edge: StackRun) -> None:
    assert sorted((r.type, r.name) for r in edge.resources) == sorted((r.type, r.name) for r in regional.resources)


def test_the_api_and_every_custom_domain_have_the_endpoint_type(regional: StackRun, edge: StackRun) -> None:
    for run, endpoint_type in ((regional, REGIONAL), (edge, EDGE)):
        (api,) = run.of_type(REST_API)
        assert api.inputs["endpointConfiguration"]["types"] == endpoint_type
        domains = run.of_type(DOMAIN)
        assert len(domains) == 3  # wildcard, globex (dedicated), initech (own domain)
        assert {d.inputs["endpointConfiguration"]["types"] for d in domains} == {endpoint_type}


def test_edge_certificates_live_in_us_east_1_and_the_domains_take_certificate_arn(
    regional: StackRun, edge: StackRun
) -> None:
    for run, region in ((regional, "eu-west-1"), (edge, "us-east-1")):
        certificates = run.of_type(CERTIFICATE)
        assert len(certificates) == 2  # the wildcard and initech's own domain
        assert {c.inputs.get("region") for c in certificates} == ({None} if region == "eu-west-1" else {region})
        assert {c.outputs["arn"].split(":")[3] for c in certificates} == {region}
        assert {v.inputs.get("region") for v in run.of_type(VALIDATION)} == {
            c.inputs.get("region") for c in certificates
        }
    for domain in edge.of_type(DOMAIN):
        assert "regionalCertificateArn" not in domain.inputs
        assert domain.inputs["certificateArn"].split(":")[3] == "us-east-1"
    for domain in regional.of_type(DOMAIN):
        assert "certificateArn" not in domain.inputs
        assert domain.inputs["regionalCertificateArn"].split(":")[3] == "eu-west-1"


def test_edge_records_alias_the_cloudfront_distribution(regional: StackRun, edge: StackRun) -> None:
    def aliases(run: StackRun) -> dict[str, dict[str, Any]]:
        return {r.name: r.inputs["aliases"][0] for r in run.of_type(RECORD) if r.inputs.get("aliases")}

    edge_aliases, regional_aliases = aliases(edge), aliases(regional)
    assert (
        set(edge_aliases)
        == set(regional_aliases)
        == {
            "whitelabel-tenants-domains-acme-a",
            "whitelabel-tenants-domains-globex-a",
            "whitelabel-tenants-domains-initech-a",
            "whitelabel-tenants-domains-initech-own-a",
        }
    )
    domains = {d.urn: d for d in edge.of_type(DOMAIN)}
    cloudfront_names = {d.outputs["cloudfrontDomainName"] for d in domains.values()}
    for alias in edge_aliases.values():
        assert alias["zoneId"] == CLOUDFRONT_ZONE_ID and alias["name"] in cloudfront_names
        assert alias["name"].endswith(".cloudfront.net")
    for alias in regional_aliases.values():
        assert alias["zoneId"] == REGIONAL_ZONE_ID and ".execute-api.eu-west-1." in alias["name"]
    assert edge.outputs["wildcardDomainTarget"].endswith(".cloudfront.net")
    assert edge.outputs["dedicatedDomains"]["globex"].endswith(".cloudfront.net")
    assert edge.outputs["customDomainHandoff"]["initech"]["pointAtTarget"].endswith(".cloudfront.net")


def test_edge_tls_is_an_edge_policy_with_strict_everywhere(edge: StackRun) -> None:
    for resource in (*edge.of_type(REST_API), *edge.of_type(DOMAIN)):
        assert resource.inputs["securityPolicy"] == DEFAULT_EDGE_TLS_POLICY
        assert resource.inputs["endpointAccessMode"] == "STRICT"
        assert not resource.inputs.get("mutualTlsAuthentication")


def test_an_explicit_regional_stack_registers_exactly_what_it_did_before() -> None:
    before = shared_run("dev")
    explicit = run_program("dev", edit=lambda c: c.update({KEY: REGIONAL}))
    assert sorted((r.urn, str(r.inputs)) for r in explicit.resources) == sorted(
        (r.urn, str(r.inputs)) for r in before.resources
    )


# -- the policy pack ------------------------------------------------------------------------------------------
def test_the_edge_graph_has_zero_violations(edge: StackRun) -> None:
    assert rules.check_graph([rules.from_registered(r) for r in edge.custom]) == []


EDGE_DOMAIN = {"endpointConfiguration": {"types": "EDGE"}, "endpointAccessMode": "STRICT"}


@pytest.mark.parametrize(
    ("props", "passes"),
    [
        ({**EDGE_DOMAIN, "securityPolicy": "SecurityPolicy_TLS13_2025_EDGE"}, True),
        ({**EDGE_DOMAIN, "securityPolicy": "SecurityPolicy_TLS12_PFS_2025_EDGE"}, True),
        ({**EDGE_DOMAIN, "securityPolicy": "SecurityPolicy_TLS12_PFS_2025_EDGE", "endpointAccessMode": "BASIC"}, False),
        ({**EDGE_DOMAIN, "securityPolicy": "SecurityPolicy_TLS13_1_3_2025_09"}, False),
        ({**EDGE_DOMAIN, "securityPolicy": "TLS_1_0"}, False),
        (
            {
                **EDGE_DOMAIN,
                "securityPolicy": "TLS_1_2",
                "mutualTlsAuthentication": {"truststoreUri": "s3://truststores/acme.pem"},
            },
            False,
        ),
        (
            {
                "endpointConfiguration": {"types": "REGIONAL"},
                "endpointAccessMode": "STRICT",
                "securityPolicy": "SecurityPolicy_TLS13_2025_EDGE",
            },
            False,
        ),
    ],
)
def test_strict_tls_knows_the_edge_policies_and_refuses_edge_mutual_tls(props: dict[str, Any], passes: bool) -> None:
    assert (rules.strict_tls(DOMAIN, props) == []) == passes


# -- the plan -------------------------------------------------------------------------------------------------
def test_the_plan_shows_the_endpoint_type(regional: StackRun, edge: StackRun) -> None:
    assert "\nEndpoint type: REGIONAL (certificates in eu-west-1)\n" in render(regional)
    assert (
        "\nEndpoint type: EDGE (edge-optimized: API Gateway's CloudFront distribution in front; certificates in"
        " us-east-1)\n" in render(edge)
    )


# -- the tenant authorizer behind the edge distribution ------------------------------------------------------
API = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"


def documented_request_event(host: str, *, edge_headers: bool) -> dict[str, Any]:
    """The REQUEST authorizer input as AWS's example shows it ("Input to an API Gateway Lambda authorizer",
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html). The
    example's CloudFront-* headers are what API Gateway's distribution adds in front of an edge-optimized API;
    the Host header is the custom domain the client called: `$context.domainName` is "The full domain name used
    to invoke the API. This should be the same as the incoming Host header" (REST API context variables,
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html).
    AWS's example leaves Host out; a regional request has no CloudFront-* headers."""
    headers = {"X-AMZ-Date": "20170718T062915Z", "Accept": "*/*", "HeaderAuth1": "headerValue1"}
    if edge_headers:
        headers |= {
            "CloudFront-Viewer-Country": "US",
            "CloudFront-Forwarded-Proto": "https",
            "CloudFront-Is-Tablet-Viewer": "false",
            "CloudFront-Is-Mobile-Viewer": "false",
        }
    headers |= {"User-Agent": "...", "Host": host}
    return {
        "type": "REQUEST",
        "methodArn": f"{API}/dev/GET/service1",
        "resource": "/service1",
        "path": "/service1",
        "httpMethod": "GET",
        "headers": headers,
        "queryStringParameters": {"QueryString1": "queryValue1"},
        "pathParameters": {},
        "stageVariables": {"StageVar1": "stageValue1"},
        "requestContext": {
            "path": "/service1",
            "accountId": "123456789012",
            "resourceId": "05c7jb",
            "stage": "dev",
            "requestId": "...",
            "identity": {"apiKey": "...", "sourceIp": "..."},
            "resourcePath": "/service1",
            "httpMethod": "GET",
            "apiId": "a1b2c3d4e5",
            "domainName": host,
        },
    }


class Dynamo:
    """GetItem over one registry item, recording what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_item(self, TableName: str, Key: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        hostname = Key["hostname"]["S"]
        self.asked.append(hostname)
        if hostname != "acme.example.com":
            return {}
        item = {"tenantId": "acme", "tier": "gold", "status": "active", "apiKey": "acme-key-0123456789abcdefghij"}
        return {"Item": {"hostname": {"S": hostname}, **{k: {"S": v} for k, v in item.items()}}}


@pytest.mark.parametrize("edge_headers", [False, True], ids=["regional", "edge"])
def test_the_tenant_comes_out_the_same_behind_the_edge_distribution(edge_headers: bool) -> None:
    dynamo = Dynamo()
    registry = authorizer.Registry("tenants", dynamo)
    answer = authorizer.decide(documented_request_event("acme.example.com", edge_headers=edge_headers), registry)
    assert answer["context"]["tenantId"] == "acme" and answer["usageIdentifierKey"] == "acme-key-0123456789abcdefghij"
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert dynamo.asked == ["acme.example.com"]


def test_the_distribution_name_is_not_a_tenant() -> None:
    # Were the Host CloudFront's own name, no tenant would match: the registry is asked for exactly that name.
    dynamo = Dynamo()
    registry = authorizer.Registry("tenants", dynamo)
    answer = authorizer.decide(documented_request_event("d111111abcdef8.cloudfront.net", edge_headers=True), registry)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert dynamo.asked == ["d111111abcdef8.cloudfront.net"]
