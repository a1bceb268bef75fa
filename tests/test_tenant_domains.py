"""Customer subdomains: wildcard certificate and domain, dedicated domains, alias records, both DNS modes."""

from __future__ import annotations

from collections.abc import Callable

from whitelabel.config import DEFAULT_TLS_POLICY
from whitelabel.offline import Registered, StackRun


def _one(run: StackRun, type_: str) -> Registered:
    (found,) = run.of_type(type_)
    return found


def _domains(run: StackRun) -> dict[str, Registered]:
    return {d.inputs["domainName"]: d for d in run.of_type("aws:apigateway/domainName:DomainName")}


def _records(run: StackRun) -> dict[tuple[str, str], Registered]:
    return {(r.inputs["name"], r.inputs["type"]): r for r in run.of_type("aws:route53/record:Record")}


def test_one_wildcard_certificate_validated_through_the_hosted_zone(dev: StackRun) -> None:
    certificate = _one(dev, "aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == "*.dev.example.com"
    assert certificate.inputs["validationMethod"] == "DNS"
    option = certificate.outputs["domainValidationOptions"][0]
    validation_records = [r for r in dev.of_type("aws:route53/record:Record") if r.inputs["type"] == "CNAME"]
    assert len(validation_records) == 1
    record = validation_records[0]
    assert record.inputs["name"] == option["resourceRecordName"]
    assert record.inputs["records"] == [option["resourceRecordValue"]]
    validation = _one(dev, "aws:acm/certificateValidation:CertificateValidation")
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    assert validation.inputs["validationRecordFqdns"] == [record.outputs["fqdn"]]


def test_records_live_in_the_configured_hosted_zone(dev: StackRun, prod: StackRun) -> None:
    # dev: baseDomain dev.example.com inside the example.com zone; prod: the zone is the base domain.
    for run in (dev, prod):
        zones = {r.inputs["zoneId"] for r in run.of_type("aws:route53/record:Record")}
        assert len(zones) == 1
    assert {r.inputs["zoneId"] for r in dev.of_type("aws:route53/record:Record")} == {
        r.inputs["zoneId"] for r in prod.of_type("aws:route53/record:Record")
    }


def test_wildcard_domain_is_regional_with_the_default_tls_policy_and_the_validated_certificate(dev: StackRun) -> None:
    wildcard = _domains(dev)["*.dev.example.com"]
    validation = _one(dev, "aws:acm/certificateValidation:CertificateValidation")
    assert wildcard.inputs["endpointConfiguration"] == {"types": "REGIONAL", "ipAddressType": "ipv4"}
    assert wildcard.inputs["securityPolicy"] == DEFAULT_TLS_POLICY
    assert wildcard.inputs["endpointAccessMode"] == "STRICT"
    assert wildcard.inputs["regionalCertificateArn"] == validation.outputs["certificateArn"]
    assert "certificateArn" not in wildcard.inputs
    assert dev.outputs["wildcardDomainTarget"] == wildcard.outputs["regionalDomainName"]


def test_each_domain_is_mapped_to_the_stage_with_an_empty_base_path(dev: StackRun) -> None:
    api = _one(dev, "aws:apigateway/restApi:RestApi")
    mappings = {m.inputs["domainName"]: m for m in dev.of_type("aws:apigateway/basePathMapping:BasePathMapping")}
    assert set(mappings) == set(_domains(dev))
    for mapping in mappings.values():
        assert mapping.inputs["restApi"] == api.id
        assert mapping.inputs["stageName"] == "dev"
        assert not mapping.inputs.get("basePath")


def test_shared_customer_is_one_alias_record_to_the_wildcard_domain(dev: StackRun) -> None:
    wildcard = _domains(dev)["*.dev.example.com"]
    record = _records(dev)[("acme.dev.example.com", "A")]
    assert record.inputs["aliases"] == [
        {
            "name": wildcard.outputs["regionalDomainName"],
            "zoneId": wildcard.outputs["regionalZoneId"],
            "evaluateTargetHealth": False,
        }
    ]
    assert ("acme.dev.example.com", "AAAA") not in _records(dev)
    assert "acme.dev.example.com" not in _domains(dev)


def test_dedicated_customer_has_its_own_domain_mapping_and_records(dev: StackRun) -> None:
    domain = _domains(dev)["globex.dev.example.com"]
    validation = _one(dev, "aws:acm/certificateValidation:CertificateValidation")
    assert domain.inputs["regionalCertificateArn"] == validation.outputs["certificateArn"]
    assert domain.inputs["securityPolicy"] == DEFAULT_TLS_POLICY
    assert domain.inputs["endpointAccessMode"] == "STRICT"
    record = _records(dev)[("globex.dev.example.com", "A")]
    assert record.inputs["aliases"][0]["name"] == domain.outputs["regionalDomainName"]
    assert dev.outputs["dedicatedDomains"] == {"globex": domain.outputs["regionalDomainName"]}


def test_no_wildcard_dns_record_so_unknown_subdomains_do_not_resolve(dev: StackRun, prod: StackRun) -> None:
    for run in (dev, prod):
        names = [r.inputs["name"] for r in run.of_type("aws:route53/record:Record")]
        assert not [n for n in names if n.startswith("*")]
        alias_names = sorted(n for (n, t) in _records(run) if t == "A")
        assert alias_names == sorted(u.removeprefix("https://") for u in run.outputs["customerEndpoints"].values())


def test_customer_endpoints_output_uses_the_subdomain(prod: StackRun) -> None:
    assert prod.outputs["customerEndpoints"] == {
        "acme": "https://acme.example.com",
        "globex": "https://globex.example.com",
        "initech": "https://initech-portal.example.com",
    }


def test_dual_stack_adds_aaaa_records_and_dualstack_domains(run_with: Callable[..., StackRun]) -> None:
    run = run_with([{"name": "acme"}, {"name": "globex", "dedicatedDomain": True}], dualStack=True)
    records = _records(run)
    for fqdn in ("acme.dev.example.com", "globex.dev.example.com"):
        assert records[(fqdn, "A")].inputs["aliases"] == records[(fqdn, "AAAA")].inputs["aliases"]
    for domain in _domains(run).values():
        assert domain.inputs["endpointConfiguration"] == {"types": "REGIONAL", "ipAddressType": "dualstack"}


def test_dedicated_domains_are_created_one_after_another(run_with: Callable[..., StackRun]) -> None:
    # CreateDomainName: one call per 30 s per account; a chain keeps one `pulumi up` inside that limit.
    run = run_with([{"name": n, "dedicatedDomain": True} for n in ("umbrella", "acme", "globex")])
    domains = _domains(run)
    chain = [domains[f"{n}.dev.example.com"] for n in ("acme", "globex", "umbrella")]
    wildcard = domains["*.dev.example.com"]
    assert [d for d in chain[0].dependencies if "domainName:DomainName" in d] == [wildcard.urn]
    assert chain[0].urn in chain[1].dependencies
    assert chain[1].urn in chain[2].dependencies


def test_dual_stack_off_says_ipv4_explicitly_on_every_domain(run_with: Callable[..., StackRun]) -> None:
    # The provider sees no drift on an unset ipAddressType: turning dualStack off must say "ipv4".
    run = run_with(
        [
            {"name": "acme"},
            {"name": "globex", "dedicatedDomain": True},
            {"name": "umbrella", "customDomain": "api.umbrella.com", "customDomainValidated": True},
        ]
    )
    domains = _domains(run)
    assert set(domains) == {"*.dev.example.com", "globex.dev.example.com", "api.umbrella.com"}
    for domain in domains.values():
        assert domain.inputs["endpointConfiguration"] == {"types": "REGIONAL", "ipAddressType": "ipv4"}


WILDCARD_CUSTOMERS = [
    {"name": "acme"},
    {"name": "initech", "subdomain": "initech-portal"},
    {"name": "globex", "dedicatedDomain": True},
    {"name": "umbrella", "customDomain": "api.umbrella.com", "customDomainValidated": True},
]


def test_wildcard_dns_is_one_star_record_and_no_shared_customer_record(run_with: Callable[..., StackRun]) -> None:
    run = run_with(WILDCARD_CUSTOMERS, tenantDns="wildcard")
    wildcard = _domains(run)["*.dev.example.com"]
    records = _records(run)
    star = records[("*.dev.example.com", "A")]
    assert star.name == "whitelabel-wildcard-a"
    assert star.inputs["aliases"] == [
        {
            "name": wildcard.outputs["regionalDomainName"],
            "zoneId": wildcard.outputs["regionalZoneId"],
            "evaluateTargetHealth": False,
        }
    ]
    # Shared customers (acme, initech, umbrella's subdomain) have no record of their own.
    alias_names = sorted(n for (n, t) in records if t == "A")
    assert alias_names == ["*.dev.example.com", "globex.dev.example.com", "umbrella.cname.dev.example.com"]
    # The dedicated domain and the own domain's handoff name keep their records, to their own domains.
    domains = _domains(run)
    assert (
        records[("globex.dev.example.com", "A")].inputs["aliases"][0]["name"]
        == (domains["globex.dev.example.com"].outputs["regionalDomainName"])
    )
    assert (
        records[("umbrella.cname.dev.example.com", "A")].inputs["aliases"][0]["name"]
        == (domains["api.umbrella.com"].outputs["regionalDomainName"])
    )
    # The endpoints output does not depend on the DNS mode.
    assert run.outputs["customerEndpoints"]["initech"] == "https://initech-portal.dev.example.com"


def test_wildcard_dns_with_dual_stack_adds_one_star_aaaa_record(run_with: Callable[..., StackRun]) -> None:
    run = run_with(WILDCARD_CUSTOMERS, tenantDns="wildcard", dualStack=True)
    records = _records(run)
    assert (
        records[("*.dev.example.com", "AAAA")].inputs["aliases"]
        == records[("*.dev.example.com", "A")].inputs["aliases"]
    )
    assert sorted(n for (n, t) in records if t == "AAAA") == [
        "*.dev.example.com",
        "globex.dev.example.com",
        "umbrella.cname.dev.example.com",
    ]
