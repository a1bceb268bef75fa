"""TenantSet on its own, against a platform given by its outputs (a stack that does not own the gateway)."""

from __future__ import annotations

from typing import Any

import pytest

from components.args import TenantSetArgs
from components.tenant_set import TenantSet
from tests.conftest import Deployed, deploy, resolve

PLATFORM: dict[str, Any] = {
    "base_domain": "example.com",
    "name_prefix": "acme-prod",
    "rest_api_id": "api123",
    "stage_name": "prod",
    "usage_plan_ids": {"standard": "plan-std", "gold": "plan-gold"},
    "tiers": ["gold", "standard"],
    "registry_table_name": "acme-prod-tenants",
    "wildcard_domain_name": "d-wild.execute-api.eu-west-1.amazonaws.com",
    "wildcard_domain_zone_id": "ZWILD",
    "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/wild",
}


def tenant_set(tenants: list[dict[str, Any]], **more: Any) -> Deployed:
    args = TenantSetArgs(**{**PLATFORM, "tenants": tenants, **more})  # type: ignore[typeddict-item]
    return deploy(lambda: TenantSet("more", args))


@pytest.fixture(scope="module")
def alone() -> Deployed:
    return tenant_set([{"name": "initech", "tier": "gold"}, {"name": "hooli", "dedicated_domain": True}])


def test_only_per_tenant_resources_are_registered(alone: Deployed) -> None:
    types = {r.type for r in alone.resources}
    assert types == {
        "whitelabel:index:TenantSet",
        "whitelabel:tenant_domains:TenantDomains",
        "whitelabel:tenant_keys:TenantKeys",
        "aws:route53/record:Record",
        "aws:apigateway/domainName:DomainName",  # hooli's dedicated domain only
        "aws:apigateway/basePathMapping:BasePathMapping",
        "aws:apigateway/apiKey:ApiKey",
        "aws:apigateway/usagePlanKey:UsagePlanKey",
        "aws:dynamodb/tableItem:TableItem",
    }
    (domain,) = alone.of_type("aws:apigateway/domainName:DomainName")
    assert domain.inputs["domainName"] == "hooli.example.com"
    assert domain.inputs["regionalCertificateArn"] == PLATFORM["certificate_arn"]


def test_records_point_at_the_given_domain_target_and_items_carry_the_given_table(alone: Deployed) -> None:
    (shared,) = [r for r in alone.of_type("aws:route53/record:Record") if r.inputs["name"] == "initech.example.com"]
    assert shared.inputs["aliases"][0]["name"] == PLATFORM["wildcard_domain_name"]
    assert shared.inputs["aliases"][0]["zoneId"] == "ZWILD"
    items = alone.of_type("aws:dynamodb/tableItem:TableItem")
    assert len(items) == 2 and {i.inputs["tableName"] for i in items} == {"acme-prod-tenants"}
    plan_keys = {k.name: k.inputs["usagePlanId"] for k in alone.of_type("aws:apigateway/usagePlanKey:UsagePlanKey")}
    assert plan_keys == {
        "more-keys-initech.gold-plan-key": "plan-gold",
        "more-keys-hooli.standard-plan-key": "plan-std",
    }


def test_outputs(alone: Deployed) -> None:
    tenant_set_ = alone.value
    assert resolve(tenant_set_.endpoints) == {
        "hooli": "https://hooli.example.com",
        "initech": "https://initech.example.com",
    }
    assert set(resolve(tenant_set_.dedicated_domain_targets)) == {"hooli"}
    keys = [k.outputs["value"] for k in alone.of_type("aws:apigateway/apiKey:ApiKey")]
    assert all(keys) and not any(key in repr(resolve(tenant_set_.tenants)) for key in keys)


@pytest.mark.parametrize(
    ("tenants", "more", "message"),
    [
        ([{"name": "initech", "tier": "platinum"}], {}, "TenantSet more: tenants[0].tier: 'platinum' is not"),
        (
            [{"name": "hooli", "dedicated_domain": True}],
            {"certificate_arn": None},
            "TenantSet more: tenants[0].dedicated_domain",
        ),
        ([{"name": "Bad Name"}], {}, "TenantSet more: tenants[0].name: "),
    ],
)
def test_bad_args_are_refused_before_any_resource(
    tenants: list[dict[str, Any]], more: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as error:
        tenant_set(tenants, **more)
    assert str(error.value).startswith(message), str(error.value)
