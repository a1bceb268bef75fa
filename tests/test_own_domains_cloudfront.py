"""Own domains through CloudFront SaaS Manager (`customDomains.via: cloudFront`): the multi-tenant distribution, its
connection group, function and web ACL, one distribution tenant per own domain, and what is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.args import TenantSetArgs
from components.tenant_set import ComponentArgsError, TenantSet
from tests.conftest import customers_config, name_diff, shared_run
from whitelabel.cloudfront import (
    ALL_VIEWER_EXCEPT_HOST_POLICY_ID,
    CACHING_DISABLED_POLICY_ID,
    forwarded_host_function,
)
from whitelabel.config import ConfigError, parse_settings
from whitelabel.environment import check_environment, environment
from whitelabel.offline import Registered, StackRun, run_program

DISTRIBUTION = "aws:cloudfront/multitenantDistribution:MultitenantDistribution"
TENANT = "aws:cloudfront/distributionTenant:DistributionTenant"
GROUP = "aws:cloudfront/connectionGroup:ConnectionGroup"
FUNCTION = "aws:cloudfront/function:Function"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"

# Three own-domain customers through CloudFront, beside a plain one (the issue's "Done when" stack).
THREE = [
    {"name": "acme"},
    {"name": "umbrella", "customDomain": "api.umbrella.com"},
    {"name": "initech", "subdomain": "initech-portal", "customDomain": "portal.initech.io"},
    {"name": "globex", "customDomain": "api.globex.net"},
]
VIA = {"customDomains": {"via": "cloudFront"}}


@pytest.fixture(scope="module")
def edge(request: pytest.FixtureRequest) -> StackRun:

    return shared_run("dev", customers_config(THREE, **VIA))


def _one(run: StackRun, type_: str) -> Registered:
    (found,) = run.of_type(type_)
    return found


def _tenants(run: StackRun) -> dict[str, Registered]:
    return {t.inputs["domains"][0]["domain"]: t for t in run.of_type(TENANT)}


def test_todays_stacks_build_no_cloudfront_edge(dev: StackRun, prod: StackRun) -> None:
    for run in (dev, prod):
        assert not [r for r in run.resources if r.type.startswith("aws:cloudfront/")]
        assert "own_domain_distribution_id" not in run.outputs["platform"]


def test_the_origin_is_each_tenants_subdomain_of_the_wildcard_domain_over_tls12_https_only(edge: StackRun) -> None:
    distribution = _one(edge, DISTRIBUTION)
    (origin,) = distribution.inputs["origins"]
    assert origin["domainName"] == "{{tenant}}.dev.example.com"
    assert origin["customOriginConfigs"] == [
        {"httpPort": 80, "httpsPort": 443, "originProtocolPolicy": "https-only", "originSslProtocols": ["TLSv1.2"]}
    ]
    (parameter,) = distribution.inputs["tenantConfig"]["parameterDefinitions"]
    assert parameter["name"] == "tenant"
    assert parameter["definitions"][0]["stringSchemas"][0]["required"] is True


def test_nothing_is_cached_and_host_is_not_forwarded_and_viewers_use_https(edge: StackRun) -> None:
    behaviour = _one(edge, DISTRIBUTION).inputs["defaultCacheBehavior"]
    assert behaviour["cachePolicyId"] == CACHING_DISABLED_POLICY_ID
    assert behaviour["originRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_POLICY_ID
    assert behaviour["viewerProtocolPolicy"] == "https-only"
    assert behaviour["targetOriginId"] == _one(edge, DISTRIBUTION).inputs["origins"][0]["id"]
    function = _one(edge, FUNCTION)
    assert behaviour["functionAssociations"] == [
        {"eventType": "viewer-request", "functionArn": function.outputs["arn"]}
    ]
    assert function.inputs["runtime"] == "cloudfront-js-2.0" and function.inputs["publish"] is True
    assert function.inputs["code"] == forwarded_host_function()


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the CloudFront Function's code")
def test_the_function_sets_x_forwarded_host_to_the_viewers_host_over_a_forged_one(edge: StackRun) -> None:
    code = _one(edge, FUNCTION).inputs["code"]
    event = {
        "request": {
            "method": "GET",
            "uri": "/service1/orders",
            "headers": {
                "host": {"value": "api.umbrella.com"},
                "x-forwarded-host": {"value": "api.globex.net"},  # forged by the client
            },
        }
    }
    script = f"{code}\nprocess.stdout.write(JSON.stringify(handler({json.dumps(event)})));"
    result = json.loads(subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout)
    assert result["headers"]["x-forwarded-host"] == {"value": "api.umbrella.com"}
    assert result["headers"]["host"] == {"value": "api.umbrella.com"}
    assert result["uri"] == "/service1/orders"


def test_each_own_domain_is_a_tenant_with_its_subdomain_and_a_managed_certificate(edge: StackRun) -> None:
    tenants = _tenants(edge)
    assert set(tenants) == {"api.umbrella.com", "portal.initech.io", "api.globex.net"}
    distribution, group = _one(edge, DISTRIBUTION), _one(edge, GROUP)
    subdomains = {"api.umbrella.com": "umbrella", "portal.initech.io": "initech-portal", "api.globex.net": "globex"}
    for domain, tenant in tenants.items():
        assert tenant.inputs["parameters"] == [{"name": "tenant", "value": subdomains[domain]}]
        assert tenant.inputs["distributionId"] == distribution.id
        assert tenant.inputs["connectionGroupId"] == group.id
        assert tenant.inputs["managedCertificateRequest"] == {
            "primaryDomainName": domain,
            "validationTokenHost": "cloudfront",
            "certificateTransparencyLoggingPreference": "enabled",
        }
        # Provider issues #46790 and #48353: no certificate wait; #45987: CloudFront's own certificate attachment.
        assert tenant.inputs["waitForDeployment"] is False
        assert tenant.ignore_changes == ("customizations",)
    assert tenants["portal.initech.io"].inputs["name"] == "whitelabel-gateway-dev-initech"


def test_an_own_domain_through_cloudfront_gets_no_api_gateway_domain_certificate_record_or_registry_item(
    edge: StackRun,
) -> None:
    domains = {d.inputs["domainName"] for d in edge.of_type("aws:apigateway/domainName:DomainName")}
    assert domains == {"*.dev.example.com"}
    certificates = {c.inputs["domainName"] for c in edge.of_type("aws:acm/certificate:Certificate")}
    assert certificates == {"*.dev.example.com"}
    records = {r.inputs["name"] for r in edge.of_type("aws:route53/record:Record")}
    assert not [name for name in records if ".cname." in name]
    # API Gateway only ever sees the tenant's subdomain as Host: the registry needs no item for the own domain.
    assert edge.outputs["tenants"]["umbrella"]["hostnames"] == ["umbrella.dev.example.com"]


def test_handoff_names_the_connection_groups_routing_endpoint_and_where_the_certificate_stands(
    edge: StackRun,
) -> None:
    group = _one(edge, GROUP)
    tenant = _tenants(edge)["api.umbrella.com"]
    handoff = edge.outputs["customDomainHandoff"]["umbrella"]
    assert handoff["pointAt"] == group.outputs["routingEndpoint"]
    assert handoff["recordType"] == "CNAME" and handoff["edge"] == "cloudFront"
    assert handoff["distributionTenantId"] == tenant.id
    assert handoff["tenantStatus"] == tenant.outputs["status"]
    assert tenant.id in handoff["certificate"]["state"]
    assert set(edge.outputs["customDomainHandoff"]) == {"umbrella", "initech", "globex"}


def test_onboarding_an_own_domain_customer_creates_only_its_distribution_tenant(
    run_with: Callable[..., StackRun], edge: StackRun
) -> None:
    plain = run_with([*THREE, {"name": "hooli"}], **VIA)
    own = run_with([*THREE, {"name": "hooli", "customDomain": "api.hooli.xyz"}], **VIA)
    created, deleted, updated = name_diff(plain, own)
    assert (created, deleted, updated) == (["whitelabel-tenants-own-domains-hooli-tenant"], [], [])
    # From the three-customer stack: hooli's own resources and nothing of the platform or the other tenants.
    created, deleted, updated = name_diff(edge, own)
    assert deleted == [] and updated == []
    assert all("hooli" in name for name in created)


def test_the_first_own_domain_customer_adds_only_its_tenant_to_a_cloudfront_platform(
    run_with: Callable[..., StackRun],
) -> None:
    before = run_with([{"name": "acme"}], **VIA)
    after = run_with([{"name": "acme", "customDomain": "api.acme.dev"}], **VIA)
    assert name_diff(before, after) == (
        ["whitelabel-tenants-own-domains", "whitelabel-tenants-own-domains-acme-tenant"],
        [],
        [],
    )


def test_the_edge_web_acl_is_cloudfront_scope_in_us_east_1_with_the_regional_rate_rules(
    run_with: Callable[..., StackRun],
) -> None:
    run = run_with(THREE, **VIA, waf={"enabled": True})
    acls = {a.inputs["scope"]: a for a in run.of_type(WEB_ACL)}
    edge_acl, regional = acls["CLOUDFRONT"], acls["REGIONAL"]
    assert edge_acl.inputs["region"] == "us-east-1"
    assert ":global/webacl/" in edge_acl.outputs["arn"]
    assert _one(run, DISTRIBUTION).inputs["webAclId"] == edge_acl.outputs["arn"]

    def rates(acl: Registered) -> dict[str, Any]:
        return {
            r["name"]: r["statement"]["rateBasedStatement"]
            for r in acl.inputs["rules"]
            if "rateBasedStatement" in r["statement"]
        }

    assert set(rates(edge_acl)) == {"per-ip-rate", "per-tenant-rate"}
    for name, statement in rates(edge_acl).items():
        assert statement["limit"] == rates(regional)[name]["limit"]
    # Per Host at the edge is per own domain: the viewer's Host, lowercased.
    assert rates(edge_acl)["per-tenant-rate"]["customKeys"][0]["header"]["name"] == "Host"


def test_a_customer_pinned_to_api_gateway_keeps_its_custom_domain(run_with: Callable[..., StackRun]) -> None:
    run = run_with(
        [
            *THREE,
            {
                "name": "hooli",
                "customDomain": "api.hooli.xyz",
                "customDomainValidated": True,
                "customDomainVia": "apiGateway",
            },
        ],
        **VIA,
    )
    assert "api.hooli.xyz" in {d.inputs["domainName"] for d in run.of_type("aws:apigateway/domainName:DomainName")}
    assert "api.hooli.xyz" not in _tenants(run)
    assert set(run.outputs["tenants"]["hooli"]["hostnames"]) == {"hooli.dev.example.com", "api.hooli.xyz"}


def _refusal(**raw: Any) -> str:
    with pytest.raises(ConfigError) as error:
        parse_settings({"baseDomain": "dev.example.com", **raw})
    return str(error.value)


def test_refused_in_one_line_edge_optimized_api_behind_cloudfront() -> None:
    assert _refusal(customers=[], endpointType="EDGE", **VIA).startswith(
        "whitelabel-gateway:customDomains.via: cloudFront needs endpointType REGIONAL"
    )
    message = _refusal(
        customers=[{"name": "umbrella", "customDomain": "api.umbrella.com", "customDomainVia": "cloudFront"}],
        endpointType="EDGE",
    )
    assert message.startswith("whitelabel-gateway:customers[0].customDomainVia: cloudFront needs endpointType")


def test_refused_in_one_line_a_mutual_tls_customers_own_domain_through_cloudfront() -> None:
    customer = {
        "name": "umbrella",
        "dedicatedDomain": True,
        "customDomain": "api.umbrella.com",
        "mtlsTruststore": "s3://trust/umbrella.pem",
        "mtlsIssuers": ["CN=Umbrella CA"],
    }
    message = _refusal(customers=[customer], tlsPolicy="TLS_1_2", authorizer={"cacheTtlSeconds": 0}, **VIA)
    assert message.startswith("whitelabel-gateway:customDomains.via: cloudFront cannot serve 'api.umbrella.com'")
    assert "\n" not in message
    # Pinned to API Gateway, the same customer is served as before.
    parse_settings(
        {
            "baseDomain": "dev.example.com",
            "customers": [{**customer, "customDomainVia": "apiGateway"}],
            "tlsPolicy": "TLS_1_2",
            "authorizer": {"cacheTtlSeconds": 0},
            **VIA,
        }
    )


def test_refused_the_api_gateway_phase_key_on_a_distribution_tenant_and_a_via_without_a_domain() -> None:
    message = _refusal(
        customers=[{"name": "umbrella", "customDomain": "api.umbrella.com", "customDomainValidated": True}], **VIA
    )
    assert message.startswith("whitelabel-gateway:customers[0].customDomainValidated: is a phase of own domains")
    message = _refusal(customers=[{"name": "umbrella", "customDomainVia": "cloudFront"}])
    assert message == (
        "whitelabel-gateway:customers[0].customDomainVia: is set but customDomain is not (it says which edge serves it)"
    )


def test_distribution_tenants_are_counted_against_their_quota() -> None:
    message = _refusal(
        customers=[{"name": n, "customDomain": f"api.{n}.com"} for n in ("a", "b", "c")],
        quotas={"distributionTenants": 2},
        **VIA,
    )
    assert message.startswith("whitelabel-gateway:customers: needs 3 of 'Distribution tenants per AWS account'")
    assert "quotas.distributionTenants" in message


def test_the_environment_counts_distribution_tenants_over_the_platform_and_its_shards() -> None:
    project = "whitelabel-gateway"
    platform = {
        f"{project}:baseDomain": "example.com",
        f"{project}:customers": {"acme": {"customDomain": "api.acme.com"}},
        f"{project}:customDomains": {"via": "cloudFront"},
        f"{project}:quotas": {"distributionTenants": 2},
    }
    shard = {
        f"{project}:platform": f"organization/{project}/prod",
        f"{project}:customers": {
            "umbrella": {"customDomain": "api.umbrella.com"},
            "globex": {"customDomain": "api.globex.net"},
        },
    }
    own = {key.split(":", 1)[1]: value for key, value in shard.items()}
    env = environment("prod-shard-1", own, {"prod": platform, "prod-shard-1": shard})
    with pytest.raises(ConfigError) as error:
        check_environment(env, "prod-shard-1")
    assert "needs 3 of 'Distribution tenants per AWS account' (limit 2)" in str(error.value)


def test_a_tenant_set_refuses_an_own_domain_through_cloudfront_without_the_platforms_distribution() -> None:
    args = {
        "base_domain": "example.com",
        "name_prefix": "acme-prod",
        "rest_api_id": "api123",
        "stage_name": "prod",
        "usage_plan_ids": {"standard": "plan-std"},
        "tiers": ["standard"],
        "registry_table_name": "acme-prod-tenants",
        "wildcard_domain_name": "d-wild.execute-api.eu-west-1.amazonaws.com",
        "wildcard_domain_zone_id": "ZWILD",
        "custom_domains": {"via": "cloudFront"},
        "tenants": [{"name": "hooli", "custom_domain": "api.hooli.xyz"}],
    }
    with pytest.raises(ComponentArgsError) as error:
        TenantSet("more", TenantSetArgs(**args))  # type: ignore[typeddict-item]
    assert error.value.path == "tenants[0].custom_domain"
    assert "own_domain_distribution_id unset" in error.value.rule


def test_the_plan_shows_the_distribution_and_each_tenant_with_its_parameter(edge: StackRun) -> None:
    from tools.plan import render

    text = render(edge)
    assert (
        "multi-tenant distribution whitelabel-own-domain-edge-distribution: origin {{tenant}}.dev.example.com" in text
    )
    assert "distribution tenant whitelabel-gateway-dev-initech: portal.initech.io (tenant=initech-portal;" in text
    group = _one(edge, GROUP)
    assert f"api.umbrella.com CNAME {group.outputs['routingEndpoint']}" in text


def test_a_shards_own_domains_are_tenants_of_the_platforms_exported_distribution(tmp_path: Path) -> None:
    from tests.test_shards import project, shard

    tmp = project(
        tmp_path,
        {"prod-a": shard({"wayne": {}, "stark": {"customDomain": "api.stark.io"}})},
        prod={"customDomains": {"via": "cloudFront"}},
    )
    platform = run_program("prod", project_dir=tmp)
    export = platform.outputs["platform"]
    assert export["own_domain_distribution_id"] == _one(platform, DISTRIBUTION).id
    result = run_program("prod-a", project_dir=tmp, platform_outputs=platform.outputs)
    (tenant,) = result.of_type(TENANT)
    assert tenant.inputs["domains"] == [{"domain": "api.stark.io"}]
    assert tenant.inputs["distributionId"] == export["own_domain_distribution_id"]
    assert tenant.inputs["connectionGroupId"] == export["own_domain_connection_group_id"]
    assert tenant.inputs["parameters"] == [{"name": "tenant", "value": "stark"}]
    # The shard makes tenants only: the distribution, group, function and web ACLs stay the platform's.
    assert not result.of_type(DISTRIBUTION) and not result.of_type(GROUP) and not result.of_type(WEB_ACL)
    assert result.outputs["customDomainHandoff"]["stark"]["pointAt"] == export["own_domain_routing_endpoint"]


def _smoke_stack(edge: StackRun) -> Any:
    from tools import smoke

    return smoke.stack_from(edge.outputs, parse_settings(_raw(edge)), "dev")


def _raw(run: StackRun) -> dict[str, Any]:
    from whitelabel.config import read_raw_config

    return read_raw_config(run.config)


@pytest.mark.parametrize(
    ("certificate", "enabled", "outcome", "expected"),
    [
        ("issued", True, "PASS", "umbrella api.umbrella.com: tenant Deployed, certificate issued"),
        ("pending-validation", True, "PASS", "certificate pending-validation"),
        (
            "validation-timed-out",
            True,
            "FAIL",
            "umbrella: managed certificate validation-timed-out for api.umbrella.com",
        ),
        ("issued", False, "FAIL", "is disabled"),
    ],
)
def test_make_smoke_reads_each_tenant_and_its_certificate_with_read_only_calls(
    edge: StackRun, certificate: str, enabled: bool, outcome: str, expected: str
) -> None:
    from tests.test_smoke import Aws, make

    stack = _smoke_stack(edge)
    assert [(n, d) for n, d, _ in stack.own_domains] == [
        ("globex", "api.globex.net"),
        ("initech", "portal.initech.io"),
        ("umbrella", "api.umbrella.com"),
    ]
    aws = Aws()
    for name, domain, tenant_id in stack.own_domains:
        tenant = {
            "Id": tenant_id,
            "DistributionId": _one(edge, DISTRIBUTION).id,
            "Name": f"whitelabel-gateway-dev-{name}",
            "Domains": [{"Domain": domain, "Status": "active"}],
            "Enabled": enabled if name == "umbrella" else True,
            "Status": "Deployed",
        }
        aws.add("cloudfront", "get_distribution_tenant", {"DistributionTenant": tenant}, {"Identifier": tenant_id})
        details = {"CertificateStatus": certificate if name == "umbrella" else "issued"}
        aws.add(
            "cloudfront",
            "get_managed_certificate_details",
            {"ManagedCertificateDetails": details},
            {"Identifier": tenant_id},
        )

    [result] = make(stack, "http://127.0.0.1:9", aws).run(["own-domains"])

    assert result.outcome == outcome
    assert expected in result.detail
    aws.all_used()
    assert set(aws.called) == {"GetDistributionTenant", "GetManagedCertificateDetails"}


def test_make_smoke_skips_own_domains_without_cloudfront(dev: StackRun) -> None:
    from tests.test_smoke import Aws, make

    stack = _smoke_stack(dev)
    [result] = make(stack, "http://127.0.0.1:9", Aws()).run(["own-domains"])
    assert result.outcome == "SKIP"


def test_the_environment_check_reads_each_customers_identity_once_not_once_per_pair(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Onboarding into a shard of 1,000 in an environment of 10,000 compared every pair (10 million) on each `up`.
    from whitelabel.config import Settings

    project = "whitelabel-gateway"
    platform = {
        f"{project}:baseDomain": "example.com",
        f"{project}:customers": {f"p{i}": {"customDomain": f"api.p{i}.net"} for i in range(300)},
        **VIA_KEY,
    }
    shard = {
        f"{project}:platform": f"organization/{project}/prod",
        f"{project}:customers": {f"s{i}": {"customDomain": f"api.s{i}.net"} for i in range(300)},
    }
    own = {key.split(":", 1)[1]: value for key, value in shard.items()}
    env = environment("prod-shard-1", own, {"prod": platform, "prod-shard-1": shard})
    calls = 0
    auth_of = Settings.auth_of

    def counted(self: Settings, customer: Any) -> Any:
        nonlocal calls
        calls += 1
        return auth_of(self, customer)

    monkeypatch.setattr(Settings, "auth_of", counted)
    check_environment(env, "prod-shard-1")
    assert calls <= 2 * 600  # once per customer (ours and theirs), not 300 x 300


VIA_KEY = {"whitelabel-gateway:customDomains": {"via": "cloudFront"}}


def test_bench_shards_own_domains_builds_an_environment_of_exactly_size_own_domains(tmp_path: Path) -> None:
    import yaml

    from tools.bench_shards import make_project

    stack = make_project(tmp_path, 1000, "pooled", own_domains=True)
    prod = yaml.safe_load((tmp_path / "Pulumi.prod.yaml").read_text())["config"]
    assert prod["whitelabel-gateway:customDomains"] == {"via": "cloudFront"}
    customers = yaml.safe_load((tmp_path / f"Pulumi.{stack}.yaml").read_text())["config"][
        "whitelabel-gateway:customers"
    ]
    # 1,000 own domains in all, the onboarded tenant the last of them: CloudFront's quota is 10,000 per account.
    assert len(customers) == 1000 and all(c["customDomain"].startswith("api.") for c in customers.values())


def test_moving_a_customer_to_cloudfront_previews_as_readme_says(run_with: Callable[..., StackRun]) -> None:
    """docs "Own domains: two edges", moving a customer: step 1 adds the edge and changes no customer; step 2 swaps
    the customer's API Gateway domain for its distribution tenant, under that customer in `make preview`."""
    from tools.preview import compare
    from whitelabel import diff

    own = {"name": "umbrella", "customDomain": "api.umbrella.com", "customDomainValidated": True}
    today = run_with([{"name": "acme"}, own])
    pinned = run_with([{"name": "acme"}, {**own, "customDomainVia": "apiGateway"}], **VIA)
    moved = run_with(
        [{"name": "acme"}, {"name": "umbrella", "customDomain": "api.umbrella.com", "customDomainVia": "cloudFront"}],
        **VIA,
    )

    step1 = compare(today, pinned)
    assert sorted((s.op, s.type) for s in step1.steps) == sorted(
        [("create", FUNCTION), ("create", GROUP), ("create", DISTRIBUTION)]
    )
    step2 = compare(pinned, moved)
    created = [(s.op, s.type, s.tenant) for s in step2.steps if s.op == "create"]
    assert created == [("create", TENANT, "umbrella")]
    deleted = sorted(s.type for s in step2.steps if s.op == "delete")
    assert deleted == sorted(
        [
            "aws:acm/certificate:Certificate",
            "aws:acm/certificateValidation:CertificateValidation",
            "aws:apigateway/basePathMapping:BasePathMapping",
            "aws:apigateway/domainName:DomainName",
            "aws:route53/record:Record",
            "aws:dynamodb/tableItem:TableItem",
        ]
    )
    assert all(s.tenant == "umbrella" for s in step2.steps)
    assert "Tenant umbrella:" in diff.render(step2, "step 2")


def test_a_customers_more_domains_are_one_tenant_with_one_certificate(run_with: Callable[..., StackRun]) -> None:
    more = {
        "name": "umbrella",
        "customDomain": "api.umbrella.com",
        "customDomains": ["www.umbrella.com", "umbrella.co.uk"],
    }
    run = run_with([{"name": "acme"}, more], **VIA)
    (tenant,) = run.of_type(TENANT)
    assert tenant.inputs["domains"] == [
        {"domain": "api.umbrella.com"},
        {"domain": "www.umbrella.com"},
        {"domain": "umbrella.co.uk"},
    ]
    assert tenant.inputs["managedCertificateRequest"]["primaryDomainName"] == "api.umbrella.com"
    handoff = run.outputs["customDomainHandoff"]["umbrella"]
    assert handoff["domains"] == ["api.umbrella.com", "www.umbrella.com", "umbrella.co.uk"]
    assert handoff["domain"] == "api.umbrella.com"


def test_more_domains_are_refused_on_api_gateway_taken_twice_or_over_the_per_tenant_quota() -> None:
    on_api_gateway = _refusal(
        customers=[{"name": "umbrella", "customDomain": "api.umbrella.com", "customDomains": ["www.umbrella.com"]}]
    )
    assert on_api_gateway.startswith(
        "whitelabel-gateway:customers[0].customDomains: more own domains per customer are served through CloudFront"
    )
    taken = _refusal(
        customers=[
            {"name": "umbrella", "customDomain": "api.umbrella.com", "customDomains": ["www.umbrella.com"]},
            {"name": "hooli", "customDomain": "www.umbrella.com"},
        ],
        **VIA,
    )
    assert taken == "whitelabel-gateway:customers[1].customDomains: 'www.umbrella.com' is already used by customers[0]"
    without_primary = _refusal(customers=[{"name": "umbrella", "customDomains": ["www.umbrella.com"]}], **VIA)
    assert without_primary.startswith("whitelabel-gateway:customers[0].customDomains: needs customDomain")
    over = _refusal(
        customers=[
            {
                "name": "umbrella",
                "customDomain": "api.umbrella.com",
                "customDomains": ["a.umbrella.com", "b.umbrella.com"],
            }
        ],
        quotas={"domainsPerTenant": 2},
        **VIA,
    )
    assert over.startswith("whitelabel-gateway:customers: needs 3 of 'Domains per distribution tenant' (limit 2")


def test_protected_production_protects_the_edge_and_tenants_and_logs_the_edge_acl_in_us_east_1(
    run_with: Callable[..., StackRun],
) -> None:
    run = run_with(THREE, **VIA, waf={"enabled": True}, protectResources=True)
    assert _one(run, DISTRIBUTION).protect and _one(run, GROUP).protect
    assert all(t.protect for t in run.of_type(TENANT))
    edge_acl = next(a for a in run.of_type(WEB_ACL) if a.inputs["scope"] == "CLOUDFRONT")
    group = run.named("whitelabel-own-domain-edge-waf-logs")
    assert group.inputs["name"] == "aws-waf-logs-whitelabel-gateway-dev-edge"
    assert group.inputs["region"] == "us-east-1" and group.retain_on_delete
    logging = run.named("whitelabel-own-domain-edge-waf-logging")
    assert logging.inputs["resourceArn"] == edge_acl.outputs["arn"]
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]]
    assert logging.inputs["region"] == "us-east-1"
    policy = run.named("whitelabel-own-domain-edge-waf-log-policy")
    assert policy.inputs["region"] == "us-east-1" and policy.urn in logging.dependencies
    assert ":logs:us-east-1:" in policy.inputs["policyDocument"]  # delivery from the web ACL's region only
    # Dev protects nothing: the same stack without protectResources.
    plain = run_with(THREE, **VIA, waf={"enabled": True})
    assert not any(r.protect for r in plain.resources if r.type.startswith("aws:cloudfront/"))


def test_make_plan_plans_the_committed_own_domains_example(capsys: pytest.CaptureFixture[str]) -> None:
    from tools import plan
    from whitelabel.offline import ROOT

    assert plan.main(["--stack-file", str(ROOT / "examples/own-domains/Pulumi.own-domains.yaml")]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Stack own-domains:")
    for line in (
        "distribution tenant whitelabel-gateway-own-domains-globex: api.globex.net (tenant=globex;",
        "distribution tenant whitelabel-gateway-own-domains-initech: portal.initech.io (tenant=initech-portal;",
        "distribution tenant whitelabel-gateway-own-domains-umbrella: api.umbrella.com, www.umbrella.com (tenant=",
        "multi-tenant distribution whitelabel-own-domain-edge-distribution: origin {{tenant}}.dev.example.com,",
    ):
        assert line in text
    assert "    www.umbrella.com CNAME d" in text
