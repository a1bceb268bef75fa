"""The whole program with the committed stack files: parents, outputs, onboarding isolation, the plan."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import customers_config, inputs_by_urn, shared_run
from tools import plan
from whitelabel.offline import Registered, StackRun

STACK_URN_SUFFIX = "::pulumi:pulumi:Stack::whitelabel-gateway-"


def test_every_aws_resource_belongs_to_a_component(dev: StackRun, prod: StackRun) -> None:
    for run in (dev, prod):
        components = {r.urn: r for r in run.resources if not r.custom}
        assert run.custom
        orphans = [r.name for r in run.custom if r.parent not in components]
        assert orphans == []

        def children(parent: str, components: dict[str, Registered] = components) -> set[str]:
            return {r.name for r in components.values() if r.parent == parent}

        top_level = {r.name for r in components.values() if STACK_URN_SUFFIX in r.parent}
        assert top_level == {"docs", "network", "service1", "service2", "whitelabel"}
        (platform,) = [r for r in components.values() if r.name == "whitelabel"]
        assert platform.type == "whitelabel:index:WhiteLabelGateway"
        waf = {"whitelabel-waf"} if run is prod else set()
        assert children(platform.urn) == {
            "whitelabel-authorizer",
            "whitelabel-gateway",
            "whitelabel-operations",
            "whitelabel-registry",
            "whitelabel-tenants",
            *waf,
        }
        (tenant_set,) = [r for r in components.values() if r.name == "whitelabel-tenants"]
        assert tenant_set.type == "whitelabel:index:TenantSet"
        assert children(tenant_set.urn) == {"whitelabel-tenants-domains", "whitelabel-tenants-keys"}


def test_outputs_an_operator_needs(dev: StackRun) -> None:
    api = dev.of_type("aws:apigateway/restApi:RestApi")[0]
    bucket = dev.of_type("aws:s3/bucket:Bucket")[0]
    link = dev.of_type("aws:apigatewayv2/vpcLink:VpcLink")[0]
    assert dev.outputs["customerEndpoints"] == {
        "acme": "https://acme.dev.example.com",
        "globex": "https://globex.dev.example.com",
    }
    assert dev.outputs["apiId"] == api.id
    assert dev.outputs["stageName"] == "dev"
    assert dev.outputs["docsBucket"] == bucket.outputs["bucket"]
    assert dev.outputs["vpcLinkId"] == link.id
    assert dev.outputs["wildcardDomain"] == "*.dev.example.com"
    assert dev.outputs["certificateArn"].startswith("arn:aws:acm:eu-west-1:")


def test_prod_differs_from_dev_only_by_its_stack_file(dev: StackRun, prod: StackRun) -> None:
    assert len(dev.of_type("aws:ec2/natGateway:NatGateway")) == 1
    assert len(prod.of_type("aws:ec2/natGateway:NatGateway")) == 3
    assert len(prod.of_type("aws:ec2/subnet:Subnet")) == 6
    assert not dev.of_type("aws:s3/bucketVersioning:BucketVersioning")
    assert prod.of_type("aws:s3/bucketVersioning:BucketVersioning")
    assert {type(r).__name__ for r in dev.custom} == {"Registered"}
    assert {r.type for r in dev.custom} <= {r.type for r in prod.custom} | {"aws:s3/bucketVersioning:BucketVersioning"}


def _diff(before: StackRun, after: StackRun) -> tuple[set[str], set[str], list[str]]:
    """(added URNs, removed URNs, URNs whose inputs changed)."""
    old, new = inputs_by_urn(before), inputs_by_urn(after)
    changed = [urn for urn in old.keys() & new.keys() if old[urn] != new[urn]]
    return new.keys() - old.keys(), old.keys() - new.keys(), changed


def _names(urns: set[str]) -> list[str]:
    return sorted(urn.rsplit("::", 1)[1] for urn in urns)


BASE_CUSTOMERS: list[dict[str, Any]] = [{"name": "acme"}, {"name": "globex", "dedicatedDomain": True}]


@pytest.fixture(scope="module")
def base() -> StackRun:
    return shared_run("dev", customers_config(BASE_CUSTOMERS))


def _keys(customer: str) -> list[str]:
    # Sorted as `_names` sorts: keys and plan keys are per customer and tier (`<customer>.<tier>`).
    return sorted(
        [
            f"whitelabel-tenants-keys-{customer}.standard-api-key",
            f"whitelabel-tenants-keys-{customer}.standard-plan-key",
            f"whitelabel-tenants-keys-{customer}.dev.example.com-item",
        ]
    )


def test_adding_a_shared_customer_creates_only_its_record_key_plan_key_and_item(base: StackRun) -> None:
    after = shared_run("dev", customers_config([*BASE_CUSTOMERS, {"name": "initech"}]))
    added, removed, changed = _diff(base, after)
    assert _names(added) == sorted([*_keys("initech"), "whitelabel-tenants-domains-initech-a"])
    assert removed == set() and changed == []


def test_adding_a_dedicated_customer_creates_only_its_domain_mapping_and_record(base: StackRun) -> None:
    after = shared_run("dev", customers_config([*BASE_CUSTOMERS, {"name": "initech", "dedicatedDomain": True}]))
    added, removed, changed = _diff(base, after)
    assert _names(added) == sorted(
        [
            *_keys("initech"),
            "whitelabel-tenants-domains-initech-a",
            "whitelabel-tenants-domains-initech-domain",
            "whitelabel-tenants-domains-initech-mapping",
        ]
    )
    assert removed == set() and changed == []


def test_removing_a_customer_deletes_only_its_own_resources(base: StackRun) -> None:
    after = shared_run("dev", customers_config([{"name": "acme"}]))
    added, removed, changed = _diff(base, after)
    assert _names(removed) == sorted(
        [
            *_keys("globex"),
            "whitelabel-tenants-domains-globex-a",
            "whitelabel-tenants-domains-globex-domain",
            "whitelabel-tenants-domains-globex-mapping",
        ]
    )
    assert added == set() and changed == []


def test_reordering_customers_changes_nothing(base: StackRun) -> None:
    after = shared_run("dev", customers_config(list(reversed(BASE_CUSTOMERS))))
    assert _diff(base, after) == (set(), set(), [])


def test_plan_shows_components_endpoints_and_routes(dev: StackRun) -> None:
    text = plan.render(dev)
    # One group per concern: the components below the package's WhiteLabelGateway and TenantSet (found by type),
    # and the WhiteLabelGateway itself for its own children (wildcard certificate and domain, usage plans).
    groups = {m[1]: (m[2], int(m[3])) for m in re.finditer(r"(?m)^  (\S+) \((\S+)\): (\d+)$", text)}
    assert text.startswith(f"Stack dev: {len(dev.custom)} AWS resources in {len(groups)} components")
    assert sum(count for _, count in groups.values()) == len(dev.custom)
    assert sorted(groups) == [
        "docs",
        "network",
        "service1",
        "service2",
        "whitelabel",
        "whitelabel-authorizer",
        "whitelabel-gateway",
        "whitelabel-operations",
        "whitelabel-registry",
        "whitelabel-tenants-domains",
        "whitelabel-tenants-keys",
    ]
    assert groups["whitelabel-gateway"] == ("whitelabel:gateway:Gateway", 56)
    assert groups["whitelabel"] == ("whitelabel:index:WhiteLabelGateway", 6)
    assert "6  aws:apigateway/integration:Integration" in text
    assert "acme    https://acme.dev.example.com" in text and "shared wildcard domain" in text
    assert "globex  https://globex.dev.example.com" in text and "dedicated domain" in text
    assert "ANY  /service1/{proxy+}     → service1" in text
    assert "GET  /docs/{key+}           → docs" in text


def test_plan_command_reports_bad_config_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    assert plan.main(["--stack", "dev"]) == 0
    assert "Customer endpoints (2):" in capsys.readouterr().out
    assert plan.main(["--stack", "nosuchstack"]) == 2
    assert "no stack file" in capsys.readouterr().err


def test_plan_exit_code_for_invalid_config(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import pulumi

    def broken(stack: str) -> StackRun:
        raise pulumi.RunError("whitelabel-gateway:customers[0].name: 'X' must be a lowercase DNS label")

    monkeypatch.setattr(plan, "run_program", broken)
    assert plan.main(["--stack", "dev"]) == 1
    assert capsys.readouterr().err == "error: whitelabel-gateway:customers[0].name: 'X' must be a lowercase DNS label\n"


def test_run_with_fixture_builds_from_the_stack_file(run_with: Callable[..., StackRun]) -> None:
    run = run_with([{"name": "solo"}])
    assert run.outputs["customerEndpoints"] == {"solo": "https://solo.dev.example.com"}
