"""Moving a customer's own domain from its API Gateway custom domain to CloudFront without downtime
(`customDomainMove: prepare | switch | done`, docs/customers.md "Moving a customer from an API Gateway domain to
CloudFront"): each step's preview, the resources each step registers, and that no step leaves the domain without an
edge that serves it."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import shared_run
from tools import preview as preview_tool
from whitelabel import diff
from whitelabel.config import ConfigError, parse_settings
from whitelabel.offline import ROOT, Registered, StackRun, run_program, stack_file_text_config

EXAMPLE = ROOT / "examples" / "own-domain-move"
STEPS = ("0-before", "1-prepare", "2-switch", "3-done")
DOMAIN = "api.umbrella.com"
POINT_AT = "umbrella.cname.dev.example.com"
SUBDOMAIN_HOST = "umbrella.dev.example.com"

TENANT = "aws:cloudfront/distributionTenant:DistributionTenant"
GROUP = "aws:cloudfront/connectionGroup:ConnectionGroup"
GATEWAY_DOMAIN = "aws:apigateway/domainName:DomainName"
MAPPING = "aws:apigateway/basePathMapping:BasePathMapping"
RECORD = "aws:route53/record:Record"
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"

OWN = "whitelabel-tenants-own-domains-umbrella"  # the tenant's component prefix (OwnDomainTenants)
GW = "whitelabel-tenants-domains-umbrella-own"  # the API Gateway side (TenantDomains)


def step_file(step: str) -> Path:
    return EXAMPLE / step / "Pulumi.move.yaml"


def step_config(step: str, **extra: Any) -> dict[str, Any]:
    config = stack_file_text_config(step_file(step).read_text(), step)
    config.update({f"whitelabel-gateway:{key}": value for key, value in extra.items()})
    return config


def run_step(step: str, **extra: Any) -> StackRun:
    return shared_run("move", step_config(step, **extra))


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return {step: run_step(step) for step in STEPS}


@pytest.fixture(scope="module")
def dual() -> dict[str, StackRun]:
    return {step: run_step(step, dualStack=True) for step in STEPS}


def steps(preview: diff.Preview) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for step in preview.steps:
        out.setdefault(step.op, set()).add(step.name)
    return out


def _one(run: StackRun, type_: str, **inputs: Any) -> Registered:
    (found,) = [r for r in run.of_type(type_) if all(r.inputs.get(k) == v for k, v in inputs.items())]
    return found


def _umbrella_tenant(run: StackRun) -> Registered:
    return run.named(f"{OWN}-tenant")


# -- what `make preview` shows for each step ------------------------------------------------------------------------

EXPECTED = {
    "1-prepare": {
        "create": {f"{OWN}-certificate", f"{OWN}-certificate-validation", f"{OWN}-tenant"},
    },
    "2-switch": {"update": {f"{GW}-a"}},
    "3-done": {
        "delete": {
            f"{GW}-certificate",
            f"{GW}-validation",
            f"{GW}-domain",
            f"{GW}-mapping",
            f"whitelabel-tenants-keys-{DOMAIN}-item",
        }
    },
}


@pytest.mark.parametrize("index", [1, 2, 3])
def test_each_step_is_one_config_change_whose_preview_shows_only_that_steps_resources(
    index: int, capsys: pytest.CaptureFixture[str], share_tool_runs: None
) -> None:
    before, after = STEPS[index - 1], STEPS[index]
    status = preview_tool.main(["--stack-file", str(step_file(after)), "--base", str(step_file(before))])
    text = capsys.readouterr().out
    assert status == preview_tool.CHANGES
    result, _ = preview_tool.preview("move", step_file(before), step_file(after))
    assert steps(result) == EXPECTED[after]
    # Only umbrella's resources: globex, acme and the platform are untouched.
    assert {s.tenant for s in result.steps} == {"umbrella"}
    assert f"Preview of stack move: {step_file(after)}" in text
    if after == "2-switch":
        (step,) = result.steps
        assert [str(c).split(":")[0] for c in step.changes] == ["aliases", "records", "ttl", "type"]
        assert 'type: "A" → "CNAME"' in text and "ttl: (none) → 300\n" in text


def test_a_stack_file_previews_against_its_own_committed_version_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, share_tool_runs: None
) -> None:
    # The example is committed: against HEAD it has no change (exit 0), as a stack file does before it is edited.
    assert preview_tool.main(["--stack-file", str(step_file("3-done"))]) == preview_tool.NO_CHANGES
    assert "against HEAD:examples/own-domain-move/3-done/Pulumi.move.yaml" in capsys.readouterr().out
    misnamed = tmp_path / "move.yaml"
    misnamed.write_text(step_file("3-done").read_text())
    assert preview_tool.main(["--stack-file", str(misnamed)]) == preview_tool.ERROR
    assert "a stack file is named Pulumi.<stack>.yaml" in capsys.readouterr().err


def test_after_done_the_stack_is_stable_and_stays_so(runs: dict[str, StackRun]) -> None:
    # `done` is kept in the config: the next `up` changes nothing, above all not the tenant's certificate. A run of
    # its own (not the session's, which is `runs["3-done"]` itself).
    again = run_program("move", step_config("3-done"))
    assert steps(preview_tool.compare(runs["3-done"], again)) == {}


# -- step 1: prepare ------------------------------------------------------------------------------------------------


def test_prepare_gives_the_tenant_an_issued_us_east_1_certificate_on_the_customers_validation_record(
    runs: dict[str, StackRun],
) -> None:
    run = runs["1-prepare"]
    certificate = run.named(f"{OWN}-certificate")
    assert certificate.inputs["domainName"] == DOMAIN
    assert certificate.inputs["validationMethod"] == "DNS"
    assert certificate.inputs["region"] == "us-east-1"  # CloudFront takes certificates from us-east-1 only
    validation = run.named(f"{OWN}-certificate-validation")
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    assert validation.inputs["region"] == "us-east-1"
    # No validation record of ours: the customer's record validates it (ACM's record is per domain and account).
    assert "validationRecordFqdns" not in validation.inputs
    assert not [r for r in run.of_type(RECORD) if DOMAIN in str(r.inputs.get("name"))]

    tenant = _umbrella_tenant(run)
    # The tenant is given the certificate once ACM has issued it (the validation's output), not a managed request.
    assert tenant.inputs["customizations"] == {"certificate": {"arn": validation.outputs["certificateArn"]}}
    assert validation.urn in tenant.dependencies
    assert "managedCertificateRequest" not in tenant.inputs
    # The provider waits for the tenant to be deployed (no certificate wait without a managed request): `prepare`
    # returns when CloudFront serves the domain, so `switch` may follow.
    assert tenant.inputs["waitForDeployment"] is True
    assert tenant.inputs["domains"] == [{"domain": DOMAIN}]
    assert tenant.inputs["parameters"] == [{"name": "tenant", "value": "umbrella"}]
    assert tenant.inputs["connectionGroupId"] == run.of_type(GROUP)[0].id

    # The customer changes nothing: its CNAME keeps naming our record, and the validation record it published for
    # the regional certificate is the one ACM names for this one (the mocks answer as ACM does: per domain).
    handoff = run.outputs["customDomainHandoff"]["umbrella"]
    assert handoff["move"] == "prepare" and handoff["servedBy"] == "apiGateway"
    assert handoff["pointAt"] == POINT_AT
    regional = run.named(f"{GW}-certificate")
    assert regional.inputs.get("region") != "us-east-1"  # the regional one, in the API's region (eu-west-1)
    assert handoff["validationRecords"] == [
        {"name": o["resourceRecordName"], "type": o["resourceRecordType"], "value": o["resourceRecordValue"]}
        for o in regional.outputs["domainValidationOptions"]
    ]


def test_prepare_keeps_the_api_gateway_domain_record_and_registry_item_as_they_were(
    runs: dict[str, StackRun],
) -> None:
    before, prepared = runs["0-before"], runs["1-prepare"]
    for name in (f"{GW}-domain", f"{GW}-mapping", f"{GW}-certificate", f"{GW}-validation", f"{GW}-a"):
        assert prepared.named(name).inputs == before.named(name).inputs
    assert DOMAIN in prepared.outputs["tenants"]["umbrella"]["hostnames"]


def test_a_managed_tenant_is_unchanged_by_the_move_of_another(runs: dict[str, StackRun]) -> None:
    globex = {s: runs[s].named("whitelabel-tenants-own-domains-globex-tenant").inputs for s in STEPS}
    assert all(inputs == globex["0-before"] for inputs in globex.values())
    assert globex["0-before"]["managedCertificateRequest"]["validationTokenHost"] == "cloudfront"


# -- step 2: switch -------------------------------------------------------------------------------------------------


def test_switch_turns_our_cname_record_into_a_cname_to_the_routing_endpoint_in_one_update(
    runs: dict[str, StackRun],
) -> None:
    prepared, switched = runs["1-prepare"], runs["2-switch"]
    old, new = prepared.named(f"{GW}-a"), switched.named(f"{GW}-a")
    assert old.urn == new.urn  # one resource, updated: the provider deletes and creates in one change batch
    assert old.inputs["type"] == "A" and old.inputs["name"] == POINT_AT
    gateway = _one(prepared, GATEWAY_DOMAIN, domainName=DOMAIN)
    assert old.inputs["aliases"][0]["name"] == gateway.outputs["regionalDomainName"]
    routing_endpoint = switched.of_type(GROUP)[0].outputs["routingEndpoint"]
    assert new.inputs["type"] == "CNAME" and new.inputs["name"] == POINT_AT
    assert new.inputs["records"] == [routing_endpoint]
    assert new.inputs["ttl"] == 300
    assert "aliases" not in new.inputs
    assert switched.outputs["customDomainHandoff"]["umbrella"]["servedBy"].startswith("apiGateway and cloudFront")


# -- step 3: done ---------------------------------------------------------------------------------------------------


def test_done_keeps_the_tenant_its_certificate_and_the_switched_record_exactly(runs: dict[str, StackRun]) -> None:
    switched, done = runs["2-switch"], runs["3-done"]
    for name in (f"{OWN}-tenant", f"{OWN}-certificate", f"{OWN}-certificate-validation", f"{GW}-a"):
        assert done.named(name).inputs == switched.named(name).inputs
        assert done.named(name).urn == switched.named(name).urn
    assert not [d for d in done.of_type(GATEWAY_DOMAIN) if d.inputs["domainName"] == DOMAIN]
    # The registry keeps the subdomain, which is all CloudFront's origin request names as Host.
    assert done.outputs["tenants"]["umbrella"]["hostnames"] == [SUBDOMAIN_HOST]
    assert done.outputs["customDomainHandoff"]["umbrella"]["servedBy"] == "cloudFront"


def test_the_tenant_is_registered_alike_from_prepare_on(runs: dict[str, StackRun]) -> None:
    tenants = [_umbrella_tenant(runs[s]) for s in STEPS[1:]]
    assert all(t.inputs == tenants[0].inputs and t.urn == tenants[0].urn for t in tenants)


# -- no step leaves the domain without a serving edge ---------------------------------------------------------------


def resolves_to(run: StackRun) -> str:
    """The edge our `<subdomain>.cname.<baseDomain>` record leads to (the customer's CNAME names that record)."""
    (record,) = [r for r in run.of_type(RECORD) if r.inputs["name"] == POINT_AT and r.inputs["type"] in ("A", "CNAME")]
    if record.inputs["type"] == "A":
        (gateway,) = [d for d in run.of_type(GATEWAY_DOMAIN) if d.inputs["domainName"] == DOMAIN]
        assert record.inputs["aliases"][0]["name"] == gateway.outputs["regionalDomainName"]
        return "apiGateway"
    assert record.inputs["records"] == [run.of_type(GROUP)[0].outputs["routingEndpoint"]]
    return "cloudFront"


def serving(run: StackRun) -> set[str]:
    """The edges that would answer `https://api.umbrella.com` for umbrella in this state."""
    edges = set()
    hostnames = run.outputs["tenants"]["umbrella"]["hostnames"]
    gateways = [d for d in run.of_type(GATEWAY_DOMAIN) if d.inputs["domainName"] == DOMAIN]
    if gateways and DOMAIN in hostnames:
        (gateway,) = gateways
        # Mapped to the stage, with a certificate, and the registry holds the Host API Gateway then sees.
        assert gateway.inputs.get("regionalCertificateArn")
        if [m for m in run.of_type(MAPPING) if m.inputs["domainName"] == DOMAIN]:
            edges.add("apiGateway")
    group = run.of_type(GROUP)
    for tenant in run.of_type(TENANT):
        if {"domain": DOMAIN} not in tenant.inputs["domains"]:
            continue
        certificate = (tenant.inputs.get("customizations") or {}).get("certificate", {}).get("arn")
        # Through CloudFront the origin is the tenant's subdomain: the registry must hold that one.
        if (
            certificate
            and tenant.inputs["connectionGroupId"] == group[0].id
            and tenant.inputs["parameters"] == [{"name": "tenant", "value": "umbrella"}]
            and SUBDOMAIN_HOST in hostnames
        ):
            edges.add("cloudFront")
    return edges


@pytest.mark.parametrize("fixture", ["runs", "dual"])
def test_no_step_leaves_the_domain_without_a_serving_edge(fixture: str, request: pytest.FixtureRequest) -> None:
    states: dict[str, StackRun] = request.getfixturevalue(fixture)
    answers = {step: resolves_to(states[step]) for step in STEPS}
    assert answers == {
        "0-before": "apiGateway",
        "1-prepare": "apiGateway",
        "2-switch": "cloudFront",
        "3-done": "cloudFront",
    }
    edges = {step: serving(states[step]) for step in STEPS}
    assert edges == {
        "0-before": {"apiGateway"},
        "1-prepare": {"apiGateway", "cloudFront"},  # the tenant serves before any DNS answer names it
        "2-switch": {"apiGateway", "cloudFront"},  # resolvers holding the old answer still reach API Gateway
        "3-done": {"cloudFront"},
    }
    # After each step, both the answer resolvers held before it and the one they get now lead to a serving edge.
    for before, after in itertools.pairwise(STEPS):
        assert {answers[before], answers[after]} <= edges[after], (before, after)


def test_dual_stack_drops_the_aaaa_alias_at_prepare_so_the_switch_is_one_update(dual: dict[str, StackRun]) -> None:
    def at_point(run: StackRun) -> dict[str, str]:
        return {r.inputs["type"]: r.name for r in run.of_type(RECORD) if r.inputs["name"] == POINT_AT}

    assert at_point(dual["0-before"]) == {"A": f"{GW}-a", "AAAA": f"{GW}-aaaa"}
    assert at_point(dual["1-prepare"]) == {"A": f"{GW}-a"}
    assert at_point(dual["2-switch"]) == {"CNAME": f"{GW}-a"}
    assert at_point(dual["3-done"]) == {"CNAME": f"{GW}-a"}
    assert steps(preview_tool.compare(dual["1-prepare"], dual["2-switch"])) == {"update": {f"{GW}-a"}}
    assert f"{GW}-aaaa" in steps(preview_tool.compare(dual["0-before"], dual["1-prepare"]))["delete"]
    # Route 53 refuses a CNAME beside any other record of its name, in every state of every run.
    for run in dual.values():
        names: dict[str, set[str]] = {}
        for record in run.of_type(RECORD):
            names.setdefault(str(record.inputs["name"]), set()).add(str(record.inputs["type"]))
        assert all(types == {"CNAME"} for types in names.values() if "CNAME" in types)


def test_protected_production_protects_the_moved_tenant_its_certificate_and_record() -> None:
    run = run_step("3-done", protectResources=True)
    for name in (f"{OWN}-tenant", f"{OWN}-certificate", f"{GW}-a"):
        assert run.named(name).protect is True


# -- what the config refuses, in one line naming key, entry and rule ------------------------------------------------


def _umbrella(**keys: Any) -> dict[str, Any]:
    return {"name": "umbrella", "customDomain": DOMAIN, **keys}


REFUSED = [
    (
        _umbrella(customDomainMove="prepare", customDomainValidated=True, customDomainVia="cloudFront"),
        {},
        "customers[1].customDomainMove: prepare keeps the domain on its API Gateway custom domain until done",
    ),
    (
        _umbrella(customDomainMove="prepare"),
        {},
        "customers[1].customDomainMove: prepare moves a domain API Gateway already serves (customDomainValidated",
    ),
    (
        _umbrella(customDomainMove="switch", customDomainValidated=True, customDomainVia="apiGateway"),
        {"endpointType": "EDGE"},
        "customers[1].customDomainMove: needs endpointType REGIONAL",
    ),
    (
        _umbrella(customDomainMove="done"),
        {},
        "customers[1].customDomainMove: done serves the domain through CloudFront: set customers[1].customDomainVia",
    ),
    (
        _umbrella(customDomainMove="done", customDomainVia="cloudFront", customDomainValidated=True),
        {},
        "customers[1].customDomainValidated: is an API Gateway phase; with customDomainMove done",
    ),
    (
        _umbrella(customDomainMove="done", customDomainVia="cloudFront", customDomains=["www.umbrella.com"]),
        {},
        "customers[1].customDomains: is refused with customDomainMove",
    ),
    (
        {"name": "umbrella", "customDomainMove": "prepare"},
        {},
        "customers[1].customDomainMove: is set but customDomain is not",
    ),
    (
        _umbrella(customDomainMove="sideways"),
        {},
        "customers[1].customDomainMove:",
    ),
]


@pytest.mark.parametrize(("customer", "keys", "message"), REFUSED)
def test_the_move_refuses_in_one_line(customer: dict[str, Any], keys: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_settings({"baseDomain": "dev.example.com", "customers": [{"name": "acme"}, customer], **keys})
    text = str(refused.value)
    assert "\n" not in text
    assert message in text, text


def test_a_mutual_tls_customer_cannot_move() -> None:
    customer = {
        **_umbrella(customDomainMove="prepare", customDomainValidated=True),
        "dedicatedDomain": True,
        "mtlsTruststore": "s3://trust/umbrella.pem",
        "mtlsIssuers": ["CN=Umbrella CA"],
    }
    config = {
        "baseDomain": "dev.example.com",
        "tlsPolicy": "TLS_1_2",
        "authorizer": {"cacheTtlSeconds": 0},
        "customers": [customer],
    }
    with pytest.raises(ConfigError, match=r"customers\[0\]\.customDomainMove: cannot move a mutual-TLS customer"):
        parse_settings(config)
