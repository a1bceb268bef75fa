"""Tenant shards (issue 17 §1): a stack whose config names a `platform` runs only a TenantSet of its customers
against the platform's export, read through a StackReference the offline engine answers with what the
platform's stack file exports when run first; every stack file of the project directory is the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from tools import plan, shards
from whitelabel.offline import ROOT, STACK_REFERENCE_TYPE, StackRun, record_source_positions, run_program

PLATFORM = "organization/whitelabel-gateway/prod"
LINKED = ("__main__.py", "Pulumi.yaml", "components", "services", "whitelabel", "functions", "documents")
SHARD_TYPES = {
    STACK_REFERENCE_TYPE,
    "whitelabel:index:TenantSet",
    "whitelabel:tenant_domains:TenantDomains",
    "whitelabel:tenant_keys:TenantKeys",
    "aws:route53/record:Record",
    "aws:apigateway/apiKey:ApiKey",
    "aws:apigateway/usagePlanKey:UsagePlanKey",
    "aws:dynamodb/tableItem:TableItem",
}


def project(tmp: Path, files: dict[str, dict[str, Any]], prod: dict[str, Any] | None = None) -> Path:
    """A project directory with this program and the given shard stack files (stack → project config)."""
    for name in LINKED:
        (tmp / name).symlink_to(ROOT / name)
    for stack in ("dev", "prod"):
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
        if stack == "prod" and prod is not None:
            document = yaml.safe_load(text)
            document["config"].update({f"whitelabel-gateway:{k}": v for k, v in prod.items()})
            text = yaml.safe_dump(document)
        (tmp / f"Pulumi.{stack}.yaml").write_text(text)
    for stack, config in files.items():
        write_shard(tmp, stack, config)
    return tmp


def write_shard(tmp: Path, stack: str, config: dict[str, Any]) -> None:
    document = {"config": {"aws:region": "eu-west-1", **{f"whitelabel-gateway:{k}": v for k, v in config.items()}}}
    (tmp / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))


def shard(customers: dict[str, Any]) -> dict[str, Any]:
    return {"platform": PLATFORM, "customers": customers}


@pytest.fixture(scope="module")
def platform() -> StackRun:
    """The prod platform as a real `up` of it exports (its stack file, under the mock engine)."""
    record_source_positions(False)
    return run_program("prod")


def run(tmp: Path, stack: str, platform: StackRun) -> StackRun:
    return run_program(stack, project_dir=tmp, platform_outputs=platform.outputs)


def test_a_shard_registers_only_its_tenants_resources_against_the_platform(tmp_path: Path, platform: StackRun) -> None:
    tmp = project(tmp_path, {"prod-a": shard({"wayne": {}, "stark": {"tier": "premium"}})})
    result = run(tmp, "prod-a", platform)
    assert {r.type for r in result.resources} == SHARD_TYPES
    assert len(result.custom) == 1 + 2 * 4  # the StackReference, and 4 per shared tenant
    (reference,) = result.of_type(STACK_REFERENCE_TYPE)
    assert reference.inputs["name"] == PLATFORM
    export = platform.outputs["platform"]
    # What the tenants' resources point at is the platform's, as it exported it.
    plan_ids = {k.name.split("-")[-3].split(".")[0]: k.inputs["usagePlanId"] for k in result.of_type(SHARD_TYPES_KEY)}
    assert plan_ids == {"wayne": export["usage_plan_ids"]["standard"], "stark": export["usage_plan_ids"]["premium"]}
    items = result.of_type("aws:dynamodb/tableItem:TableItem")
    assert {i.inputs["tableName"] for i in items} == {export["registry_table_name"]}
    assert {r.inputs["aliases"][0]["name"] for r in result.of_type("aws:route53/record:Record")} == {
        export["wildcard_domain_name"]
    }
    assert sorted(result.outputs["tenants"]) == ["stark", "wayne"]


SHARD_TYPES_KEY = "aws:apigateway/usagePlanKey:UsagePlanKey"


def test_the_platform_export_holds_every_tenant_set_arg_and_no_secret(platform: StackRun) -> None:
    export = platform.outputs["platform"]
    assert export["rest_api_id"] and export["registry_table_name"] == "whitelabel-gateway-prod-tenants"
    assert export["tiers"] == ["premium", "standard"] and export["name_prefix"] == "whitelabel-gateway-prod"
    assert not any("secret" in str(k).lower() or k == "api_key" for k in export)


def test_onboarding_into_a_shard_adds_only_that_tenants_resources(tmp_path: Path, platform: StackRun) -> None:
    tmp = project(tmp_path, {"prod-a": shard({"wayne": {}})})
    before = {r.urn for r in run(tmp, "prod-a", platform).custom}
    write_shard(tmp, "prod-a", shard({"wayne": {}, "umbrella": {}}))
    after = run(tmp, "prod-a", platform)
    added = [r for r in after.custom if r.urn not in before]
    assert before < {r.urn for r in after.custom}
    assert len(added) == 4 and all("umbrella" in r.name for r in added)


def test_a_customer_in_two_stack_files_is_refused_naming_the_other(tmp_path: Path, platform: StackRun) -> None:
    tmp = project(tmp_path, {"prod-a": shard({"acme": {}})})  # acme is prod's
    with pytest.raises(pulumi.RunError, match=r"^whitelabel-gateway:customers\.acme: .*also in Pulumi\.prod\.yaml"):
        run(tmp, "prod-a", platform)
    # And the platform refuses it too: its own `up` sees the shard's file.
    with pytest.raises(pulumi.RunError, match=r"customers\.acme: .*also in Pulumi\.prod-a\.yaml"):
        run_program("prod", project_dir=tmp)


def test_a_hostname_in_two_shards_is_refused(tmp_path: Path, platform: StackRun) -> None:
    tmp = project(
        tmp_path,
        {
            "prod-a": shard({"wayne": {"customDomain": "api.wayne.test"}}),
            "prod-b": shard({"stark": {"customDomain": "api.wayne.test"}}),
        },
    )
    with pytest.raises(pulumi.RunError, match=r"customers\.stark: hostname 'api\.wayne\.test' .*Pulumi\.prod-a\.yaml"):
        run(tmp, "prod-b", platform)


def test_quotas_are_counted_over_the_platform_and_all_its_shards(tmp_path: Path, platform: StackRun) -> None:
    # prod holds 3 API keys; two shards of 2 each make 7 over a quota of 6, though each stack alone fits.
    tmp = project(
        tmp_path,
        {"prod-a": shard({"wayne": {}, "stark": {}}), "prod-b": shard({"umbrella": {}, "cyberdyne": {}})},
        prod={"quotas": {"apiKeys": 6}},
    )
    with pytest.raises(pulumi.RunError, match=r"customers: the environment of Pulumi\.prod\.yaml needs 7 of 'API keys"):
        run(tmp, "prod-b", platform)
    write_shard(tmp, "prod-b", shard({"umbrella": {}}))
    assert len(run(tmp, "prod-b", platform).of_type("aws:apigateway/apiKey:ApiKey")) == 1


def test_a_shard_file_holds_only_the_keys_a_shard_uses(tmp_path: Path, platform: StackRun) -> None:
    tmp = project(tmp_path, {"prod-a": {**shard({"wayne": {}}), "baseDomain": "other.example.com"}})
    with pytest.raises(pulumi.RunError, match=r"^whitelabel-gateway:baseDomain: is not used by a tenant shard"):
        run(tmp, "prod-a", platform)
    write_shard(tmp, "prod-a", {"platform": "prod", "customers": {}})
    with pytest.raises(pulumi.RunError, match=r"^whitelabel-gateway:platform: 'prod' must name the platform stack"):
        run(tmp, "prod-a", platform)


def test_moving_a_hostname_between_shards_forces_the_safe_order(tmp_path: Path, platform: StackRun) -> None:
    """The registry item is deleted by key: the shard a hostname leaves must drop it before another writes it."""
    tmp = project(tmp_path, {"prod-a": shard({"wayne": {}}), "prod-b": shard({})})
    item = "whitelabel-tenants-keys-wayne.example.com-item"
    assert run(tmp, "prod-a", platform).named(item)
    # Adding it to the new shard while the old one still has it: refused, before any resource.
    write_shard(tmp, "prod-b", shard({"wayne": {}}))
    with pytest.raises(pulumi.RunError, match=r"also in Pulumi\.prod-a\.yaml.*remove it from Pulumi\.prod-a\.yaml"):
        run(tmp, "prod-b", platform)
    # The safe order: remove it from the old shard (whose `up` deletes the item), then the new one writes it.
    write_shard(tmp, "prod-a", shard({}))
    assert not run(tmp, "prod-a", platform).of_type("aws:dynamodb/tableItem:TableItem")
    assert run(tmp, "prod-b", platform).named(item).inputs["tableName"] == "whitelabel-gateway-prod-tenants"


def test_the_platform_stacks_are_unchanged_by_shards_beside_them(tmp_path: Path, platform: StackRun) -> None:
    tmp = project(tmp_path, {"prod-a": shard({"wayne": {}})})
    beside = run_program("prod", project_dir=tmp)
    assert sorted((r.urn, repr(r.inputs)) for r in beside.resources) == sorted(
        (r.urn, repr(r.inputs)) for r in platform.resources
    )
    assert beside.outputs == platform.outputs


def test_plan_of_a_shard_shows_its_platform(tmp_path: Path, platform: StackRun, capsys: Any) -> None:
    tmp = project(tmp_path, {"prod-a": shard({"wayne": {}})})
    assert plan.main(["--stack", "prod-a", "--project-dir", str(tmp)]) == 0
    out = capsys.readouterr().out
    assert "Stack prod-a: 4 AWS resources" in out
    assert f"Tenant shard of {PLATFORM}" in out and platform.outputs["platform"]["rest_api_id"] in out
    assert "wayne  tier standard" in out


def test_make_shards_lists_the_environment_with_its_headroom(tmp_path: Path, capsys: Any) -> None:
    tmp = project(
        tmp_path,
        {"prod-a": shard({"wayne": {}, "stark": {}}), "dev-a": {**shard({}), "platform": "o/whitelabel-gateway/dev"}},
    )
    assert shards.main(["--env", "prod", "--project-dir", str(tmp)]) == 0
    out = capsys.readouterr().out
    assert "Environment prod: the platform and 1 tenant shards" in out
    assert "prod-a" in out and "dev-a" not in out
    assert "API keys per account per Region                     5 of  10,000   headroom   9,995" in out


def test_a_shard_makes_its_own_pool_keys_for_the_platforms_pooled_tiers(tmp_path: Path) -> None:
    tiers = {
        "standard": {"rateLimit": 50, "burstLimit": 100},
        "premium": {"rateLimit": 500, "burstLimit": 1000},
        "free": {"rateLimit": 5, "burstLimit": 10, "keyMode": "pooled", "poolKeys": 2},
    }
    tmp = project(tmp_path, {"prod-a": shard({"wayne": {"tier": "free"}, "stark": {}})}, prod={"tiers": tiers})
    pooled_platform = run_program("prod", project_dir=tmp)
    assert pooled_platform.outputs["platform"]["pooled_tiers"] == {"free": 2}
    result = run(tmp, "prod-a", pooled_platform)
    # wayne (pooled) costs no key of its own: its item carries one of the shard's two pool keys of `free`.
    keys = sorted(k.name for k in result.of_type("aws:apigateway/apiKey:ApiKey"))
    assert [k for k in keys if "wayne" in k] == [] and any("stark" in k for k in keys)
    assert len([k for k in keys if "pool" in k]) == 2
