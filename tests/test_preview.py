"""`make preview`: what `pulumi up` would do to a stack, one test per kind of change README documents.

Each test runs the real program twice under the mock engine (the stack's last config, then the edited one)
and asserts on the exact resources listed as create, update, replace and delete, and the properties shown.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import customers_config, shared_run
from tools import preview as preview_tool
from whitelabel import diff
from whitelabel.offline import ROOT, StackRun

DEV_CUSTOMERS: list[dict[str, Any]] = [{"name": "acme"}, {"name": "globex", "dedicatedDomain": True}]
TIERS = {"standard": {"rateLimit": 50, "burstLimit": 100}, "premium": {"rateLimit": 500, "burstLimit": 1000}}
SECURE = "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09"


def steps(preview: diff.Preview) -> dict[str, set[str]]:
    """op → the names of the resources it touches (only the ops that occur)."""
    out: dict[str, set[str]] = {}
    for step in preview.steps:
        out.setdefault(step.op, set()).add(step.name)
    return out


def shown(preview: diff.Preview, name: str) -> list[str]:
    (step,) = [s for s in preview.steps if s.name == name]
    return [str(c) for c in step.changes]


def compare(old: StackRun, customers: list[dict[str, Any]], stack: str = "dev", **keys: Any) -> diff.Preview:
    return preview_tool.compare(old, shared_run(stack, customers_config(customers, stack, **keys)))


@pytest.fixture(scope="module")
def tiered() -> StackRun:
    """dev with a second tier, so a customer can move between tiers."""
    return shared_run("dev", customers_config(DEV_CUSTOMERS, tiers=TIERS))


def test_onboarding_a_customer_creates_only_its_four_resources(dev: StackRun) -> None:
    result = compare(dev, [*DEV_CUSTOMERS, {"name": "initech"}])
    assert steps(result) == {
        "create": {
            "whitelabel-tenants-domains-initech-a",
            "whitelabel-tenants-keys-initech.standard-api-key",
            "whitelabel-tenants-keys-initech.standard-plan-key",
            "whitelabel-tenants-keys-initech.dev.example.com-item",
        }
    }
    assert {s.tenant for s in result.steps} == {"initech"}
    text = diff.render(result, "t")
    assert "Tenant initech:" in text and "+  create  aws:route53/record:Record" in text


def test_suspending_shows_the_registry_item_as_a_changed_secret_never_its_value(dev: StackRun) -> None:
    result = compare(dev, [{"name": "acme", "suspended": True}, DEV_CUSTOMERS[1]])
    assert steps(result) == {"update": {"whitelabel-tenants-keys-acme.dev.example.com-item"}}
    assert shown(result, "whitelabel-tenants-keys-acme.dev.example.com-item") == ["item: [secret] changed"]
    text = diff.render(result, "t")
    key_value = dev.named("whitelabel-tenants-keys-acme.standard-api-key").outputs["value"]
    assert key_value not in text and "suspended" not in text and "apiKey" not in text


def test_re_tiering_creates_the_new_tiers_key_switches_the_item_and_deletes_the_old_key(tiered: StackRun) -> None:
    result = compare(tiered, [{"name": "acme", "tier": "premium"}, DEV_CUSTOMERS[1]], tiers=TIERS)
    # A key per customer and tier (issue 14 §4): the premium key is created and metered, the item switches to
    # it, and only then are the standard key and its plan key deleted; nothing is replaced.
    assert steps(result) == {
        "create": {"whitelabel-tenants-keys-acme.premium-api-key", "whitelabel-tenants-keys-acme.premium-plan-key"},
        "update": {"whitelabel-tenants-keys-acme.dev.example.com-item"},
        "delete": {"whitelabel-tenants-keys-acme.standard-api-key", "whitelabel-tenants-keys-acme.standard-plan-key"},
    }
    assert not any(step.protect for step in result.steps)
    assert shown(result, "whitelabel-tenants-keys-acme.dev.example.com-item") == ["item: [secret] changed"]


def test_tls_policy_change_updates_api_and_domains_and_redeploys_the_stage(dev: StackRun) -> None:
    result = compare(dev, DEV_CUSTOMERS, tlsPolicy="TLS_1_2")
    assert steps(result) == {
        "update": {
            "whitelabel-gateway-api",
            "whitelabel-wildcard-domain",
            "whitelabel-tenants-domains-globex-domain",
            "whitelabel-gateway-stage",
        },
        "replace": {"whitelabel-gateway-deployment"},
    }
    for name in ("whitelabel-gateway-api", "whitelabel-wildcard-domain", "whitelabel-tenants-domains-globex-domain"):
        assert shown(result, name) == [
            'endpointAccessMode: "STRICT" → (none)',
            f'securityPolicy: "{SECURE}" → "TLS_1_2"',
        ]
    (trigger,) = shown(result, "whitelabel-gateway-deployment")
    assert trigger.startswith("triggers.definition: ") and trigger.endswith("(forces replacement)")
    # The stage takes the new deployment's id, which only AWS knows: shown as such, not as the mock's id.
    deployment_id = dev.named("whitelabel-gateway-deployment").id
    assert shown(result, "whitelabel-gateway-stage") == [f'deployment: "{deployment_id}" → (known after the apply)']
    (stage,) = [s for s in result.steps if s.name == "whitelabel-gateway-stage"]
    assert stage.cascaded and result.unchanged == len(dev.custom) - 5


def test_dedicated_domain_creates_domain_and_mapping_and_repoints_the_record(dev: StackRun) -> None:
    result = compare(dev, [{"name": "acme", "dedicatedDomain": True}, DEV_CUSTOMERS[1]])
    assert steps(result) == {
        "create": {"whitelabel-tenants-domains-acme-domain", "whitelabel-tenants-domains-acme-mapping"},
        "update": {"whitelabel-tenants-domains-acme-a"},
    }
    wildcard = dev.named("whitelabel-wildcard-domain").outputs["regionalDomainName"]
    (change,) = shown(result, "whitelabel-tenants-domains-acme-a")
    assert change.startswith(f'aliases[0].name: "{wildcard}" → "d-') and "forces" not in change


def test_own_domain_phase_2_creates_validation_domain_mapping_record_and_item() -> None:
    phase_1 = [{"name": "acme", "customDomain": "api.acme.com"}, DEV_CUSTOMERS[1]]
    before = shared_run("dev", customers_config(phase_1))
    result = compare(before, [{**phase_1[0], "customDomainValidated": True}, DEV_CUSTOMERS[1]])
    assert steps(result) == {
        "create": {
            "whitelabel-tenants-domains-acme-own-validation",
            "whitelabel-tenants-domains-acme-own-domain",
            "whitelabel-tenants-domains-acme-own-mapping",
            "whitelabel-tenants-domains-acme-own-a",
            "whitelabel-tenants-keys-api.acme.com-item",
        }
    }
    # The own domain's item is named by its hostname: still grouped under its customer.
    assert {s.tenant for s in result.steps} == {"acme"}


def test_removing_a_customer_deletes_only_its_resources(dev: StackRun) -> None:
    result = compare(dev, DEV_CUSTOMERS[:1])
    assert steps(result) == {
        "delete": {
            "whitelabel-tenants-domains-globex-domain",
            "whitelabel-tenants-domains-globex-mapping",
            "whitelabel-tenants-domains-globex-a",
            "whitelabel-tenants-keys-globex.standard-api-key",
            "whitelabel-tenants-keys-globex.standard-plan-key",
            "whitelabel-tenants-keys-globex.dev.example.com-item",
        }
    }


def test_removing_a_protected_customer_says_pulumi_will_refuse(prod: StackRun) -> None:
    customers = [{"name": "acme"}, {"name": "globex", "dedicatedDomain": True, "tier": "premium"}]
    result = compare(prod, customers, stack="prod")
    assert steps(result) == {
        "delete": {
            "whitelabel-tenants-domains-initech-a",
            "whitelabel-tenants-keys-initech.standard-api-key",
            "whitelabel-tenants-keys-initech.standard-plan-key",
            "whitelabel-tenants-keys-initech-portal.example.com-item",
        }
    }
    refused = {s.name for s in result.steps if s.protect}
    assert refused == {
        "whitelabel-tenants-domains-initech-a",
        "whitelabel-tenants-keys-initech.standard-api-key",
        "whitelabel-tenants-keys-initech.standard-plan-key",
    }
    assert "whitelabel-tenants-keys-initech.standard-api-key  [protected: `pulumi up` refuses this" in diff.render(
        result, "t"
    )


def test_reordering_customers_is_no_change(dev: StackRun) -> None:
    result = compare(dev, list(reversed(DEV_CUSTOMERS)))
    assert not result.changes and result.steps == ()
    assert result.unchanged == len(dev.custom)
    assert "No changes" in diff.render(result, "t")


def test_a_replace_on_change_property_and_a_secret_inside_a_list_are_both_seen() -> None:
    secret = {diff.SECRET_SIG_KEY: diff.SECRET_SIG, "value": "s3cr3t-old"}
    changes = diff.property_changes(
        "aws:route53/record:Record",
        {"name": "a.example.com", "records": [secret], "ttl": 60},
        {"name": "b.example.com", "records": [{**secret, "value": "s3cr3t-new"}], "ttl": 60},
    )
    assert [str(c) for c in changes] == [
        'name: "a.example.com" → "b.example.com"  (forces replacement)',
        "records: [secret] changed",
    ]


def _write_stack_file(path: Path, customers: list[dict[str, Any]]) -> Path:
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"]["whitelabel-gateway:customers"] = customers
    path.write_text(yaml.safe_dump(document))
    return path


def test_exit_status_is_0_without_changes_2_with_changes_1_on_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The base is the stack's last state: the working tree's dev file has two customers; a base of one is a create.
    same = _write_stack_file(
        tmp_path / "same.yaml",
        yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]["whitelabel-gateway:customers"],
    )
    assert preview_tool.main(["--stack", "dev", "--base", str(same)]) == 0
    fewer = _write_stack_file(tmp_path / "fewer.yaml", DEV_CUSTOMERS[:1])
    assert preview_tool.main(["--stack", "dev", "--base", str(fewer)]) == 2
    out = capsys.readouterr().out
    assert "6 to create" in out and "Tenant globex:" in out
    assert preview_tool.main(["--stack", "dev", "--base", str(tmp_path / "missing.yaml")]) == 1
    broken = _write_stack_file(tmp_path / "broken.yaml", [{"name": "Not A Label"}])
    assert preview_tool.main(["--stack", "dev", "--base", str(broken)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"error: no base stack file: {tmp_path / 'missing.yaml'}"
    assert err[1].startswith(f"error: {broken}: ") and "customers[0].name" in err[1] and len(err) == 2


def test_the_base_is_the_stack_file_at_head_or_nothing_for_a_new_stack(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  whitelabel-gateway:baseDomain: committed.example.com\n")
    git("add", "Pulumi.dev.yaml")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "dev")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  whitelabel-gateway:baseDomain: edited.example.com\n")
    assert preview_tool.committed_config("dev", tmp_path) == {"whitelabel-gateway:baseDomain": "committed.example.com"}
    assert preview_tool.committed_config("prod", tmp_path) is None
