"""Protected production (`protectResources`): what prod protects and retains, as the mock engine records each
registration's options, and what a stack without the flag leaves alone."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from tests.conftest import customers_config, shared_run
from whitelabel.offline import StackRun, run_program
from whitelabel.protection import ROLES, resource_options

CERTIFICATE = "aws:acm/certificate:Certificate"
DOMAIN = "aws:apigateway/domainName:DomainName"
RECORD = "aws:route53/record:Record"
API_KEY = "aws:apigateway/apiKey:ApiKey"
PLAN_KEY = "aws:apigateway/usagePlanKey:UsagePlanKey"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"

# The account-wide CloudWatch role setting of API Gateway is retained in every stack, protected or not
# (components/gateway.py: destroying one stack must not switch logging off for the others).
ACCOUNT_LOGGING = {
    ("aws:iam/role:Role", "whitelabel-gateway-cloudwatch-role"),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "whitelabel-gateway-cloudwatch-role-policy"),
    ("aws:apigateway/account:Account", "whitelabel-gateway-account"),
}

PROD_PROTECTED = {
    ("aws:s3/bucket:Bucket", "docs-bucket"),
    ("aws:dynamodb/table:Table", "whitelabel-registry-table"),
    (CERTIFICATE, "whitelabel-certificate"),
    (DOMAIN, "whitelabel-wildcard-domain"),
    (DOMAIN, "whitelabel-tenants-domains-globex-domain"),
    (RECORD, "whitelabel-tenants-domains-acme-a"),
    (RECORD, "whitelabel-tenants-domains-globex-a"),
    (RECORD, "whitelabel-tenants-domains-initech-a"),
    (RECORD, "whitelabel-certificate-validation-example-com"),
    (API_KEY, "whitelabel-tenants-keys-acme.standard-api-key"),
    (API_KEY, "whitelabel-tenants-keys-globex.premium-api-key"),
    (API_KEY, "whitelabel-tenants-keys-initech.standard-api-key"),
    (PLAN_KEY, "whitelabel-tenants-keys-acme.standard-plan-key"),
    (PLAN_KEY, "whitelabel-tenants-keys-globex.premium-plan-key"),
    (PLAN_KEY, "whitelabel-tenants-keys-initech.standard-plan-key"),
    ("aws:apigateway/restApi:RestApi", "whitelabel-gateway-api"),
}

PROD_RETAINED = {
    ("aws:s3/bucket:Bucket", "docs-bucket"),
    (LOG_GROUP, "whitelabel-gateway-access-logs"),
    (LOG_GROUP, "whitelabel-gateway-execution-logs"),
    (LOG_GROUP, "whitelabel-authorizer-logs"),
    (LOG_GROUP, "service1-logs"),
    (LOG_GROUP, "whitelabel-waf-logs"),
    *ACCOUNT_LOGGING,
}


def protected(run: StackRun) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in run.resources if r.protect}


def retained(run: StackRun) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in run.resources if r.retain_on_delete}


def test_prod_protects_exactly_what_customers_and_data_depend_on(prod: StackRun) -> None:
    assert protected(prod) == PROD_PROTECTED


def test_prod_retains_the_docs_bucket_and_every_log_group(prod: StackRun) -> None:
    assert retained(prod) == PROD_RETAINED
    # Every log group the stack has, so a new one added without the helper fails here.
    assert {(LOG_GROUP, r.name) for r in prod.of_type(LOG_GROUP)} <= retained(prod)


def test_dev_protects_nothing_and_retains_only_the_account_setting(dev: StackRun) -> None:
    assert "whitelabel-gateway:protectResources" not in dev.config  # the default, false
    assert protected(dev) == set()
    assert retained(dev) == ACCOUNT_LOGGING


def test_no_component_is_protected_so_nothing_else_inherits_it(prod: StackRun) -> None:
    # Pulumi children inherit protect from their parent: a protected component would protect every child.
    assert [r.name for r in prod.resources if not r.custom and (r.protect or r.retain_on_delete)] == []


def test_prod_registry_table_is_refused_by_dynamodb_and_restorable(prod: StackRun) -> None:
    table = prod.named("whitelabel-registry-table")
    assert table.inputs["deletionProtectionEnabled"] is True
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}


def test_prod_docs_bucket_is_versioned(prod: StackRun) -> None:
    (versioning,) = prod.of_type(VERSIONING)
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    assert versioning.inputs["bucket"] == prod.named("docs-bucket").id


def test_protect_turns_versioning_on_even_when_docs_versioning_is_off() -> None:
    config = customers_config([{"name": "acme"}], protectResources=True, docs={"versioning": False})
    run = shared_run("dev", config)
    (versioning,) = run.of_type(VERSIONING)
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    unprotected = shared_run("dev", customers_config([{"name": "acme"}], docs={"versioning": False}))
    assert unprotected.of_type(VERSIONING) == []


def test_every_domain_shape_is_protected_own_domains_dual_stack_and_wildcard_dns() -> None:
    customers: list[dict[str, Any]] = [
        {"name": "acme"},
        {"name": "globex", "dedicatedDomain": True},
        {"name": "initech", "customDomain": "api.initech.test", "customDomainValidated": True},
        {"name": "hooli", "customDomain": "api.hooli.test"},  # phase 1: certificate only
    ]
    run = shared_run("dev", customers_config(customers, protectResources=True, dualStack=True))
    names = {name for _, name in protected(run)}
    assert {
        "whitelabel-tenants-domains-initech-own-certificate",
        "whitelabel-tenants-domains-hooli-own-certificate",
        "whitelabel-tenants-domains-initech-own-domain",
        "whitelabel-tenants-domains-initech-own-a",
        "whitelabel-tenants-domains-initech-own-aaaa",
        "whitelabel-tenants-domains-acme-aaaa",
        "whitelabel-tenants-domains-globex-aaaa",
    } <= names
    # Every certificate, custom domain and DNS record of the stack, and nothing of those kinds left out.
    for kind in (CERTIFICATE, DOMAIN, RECORD, API_KEY, PLAN_KEY):
        assert all(r.protect for r in run.of_type(kind)), kind
    wildcard = shared_run("dev", customers_config(customers[:2], protectResources=True, tenantDns="wildcard"))
    assert wildcard.named("whitelabel-wildcard-a").protect


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_role_sets_its_options_only_when_enabled(role: str) -> None:
    parent = pulumi.ComponentResource.__new__(pulumi.ComponentResource)
    keep = ROLES[role]  # type: ignore[index]
    on = resource_options(role, True, parent=parent)  # type: ignore[arg-type]
    off = resource_options(role, False, parent=parent, delete_before_replace=True)  # type: ignore[arg-type]
    assert (on.protect, on.retain_on_delete) == (keep.protect or None, keep.retain_on_delete or None)
    assert (off.protect, off.retain_on_delete) == (None, None)
    assert off.parent is parent and off.delete_before_replace is True


def test_offboarding_a_prod_customer_is_refused_until_its_resources_are_unprotected(prod: StackRun) -> None:
    """Removing globex (dedicated) from prod deletes protected resources, which `pulumi up` refuses: these are
    the URNs an operator unprotects first (docs "Protected production")."""

    def drop_globex(values: dict[str, Any]) -> None:
        key = "whitelabel-gateway:customers"
        del values[key]["globex"]

    after = run_program("prod", edit=drop_globex)
    removed = {r.urn for r in prod.resources} - {r.urn for r in after.resources}
    assert sorted(r.name for r in prod.resources if r.urn in removed and r.protect) == [
        "whitelabel-tenants-domains-globex-a",
        "whitelabel-tenants-domains-globex-domain",
        "whitelabel-tenants-keys-globex.premium-api-key",
        "whitelabel-tenants-keys-globex.premium-plan-key",
    ]
    # Everything else of globex goes without ceremony: its mapping and registry item.
    assert sorted(r.name for r in prod.resources if r.urn in removed and not r.protect) == [
        "whitelabel-tenants-domains-globex-mapping",
        "whitelabel-tenants-keys-globex.example.com-item",
    ]


def test_prod_releases_the_key_and_plan_key_of_a_tier_a_customer_is_leaving(prod: StackRun) -> None:
    """With previousTier the old tier's key and plan key are unprotected, so the `pulumi up` that drops it may
    delete them; the new tier's are protected like every key in service."""

    def retier_acme(values: dict[str, Any]) -> None:
        # The committed stack file names its customers (`customers.acme`).
        values["whitelabel-gateway:customers"]["acme"] = {"tier": "premium", "previousTier": "standard"}

    run = run_program("prod", edit=retier_acme)
    acme = {r.name: r.protect for r in run.resources if r.name.startswith("whitelabel-tenants-keys-acme.")}
    assert acme == {
        "whitelabel-tenants-keys-acme.premium-api-key": True,
        "whitelabel-tenants-keys-acme.premium-plan-key": True,
        "whitelabel-tenants-keys-acme.standard-api-key": False,
        "whitelabel-tenants-keys-acme.standard-plan-key": False,
        "whitelabel-tenants-keys-acme.example.com-item": False,
    }
