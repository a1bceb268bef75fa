"""`make preview`: what `pulumi up` would do to a stack, one test per kind of change README documents.

Each test runs the real program twice under the mock engine (the stack's last config, then the edited one)
and asserts on the exact resources listed as create, update, replace and delete, and the properties shown.
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import customers_config, shared_run
from tools import preview as preview_tool
from whitelabel import diff
from whitelabel.config import ResolvedAuth
from whitelabel.offline import ROOT, StackRun, stack_file_config
from whitelabel.tenancy import registry_item

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


def test_suspending_updates_only_the_registry_items_status(dev: StackRun) -> None:
    result = compare(dev, [{"name": "acme", "suspended": True}, DEV_CUSTOMERS[1]])
    assert steps(result) == {"update": {"whitelabel-tenants-keys-acme.dev.example.com-item"}}
    assert shown(result, "whitelabel-tenants-keys-acme.dev.example.com-item") == ['item.status: "active" → "suspended"']


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
    assert shown(result, "whitelabel-tenants-keys-acme.dev.example.com-item") == [
        "item.apiKey: [secret] changed",
        'item.tier: "standard" → "premium"',
    ]


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
    tmp_path: Path, capsys: pytest.CaptureFixture[str], share_tool_runs: None
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


# The registry item is one secret input (it holds the tenant's API key): a preview names the attributes that
# changed and masks only the key. Each case edits a temp copy of the committed stack file and reads what
# `python -m tools.preview` prints, with the committed file as the last state.

CUSTOMERS = "whitelabel-gateway:customers"
ITEM_STEP = "  aws:dynamodb/tableItem:TableItem"


def preview_edited(
    stack: str, edit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, list[str]]]:
    """The exit status and, per registry item it updates, the change lines of `make preview STACK=<stack>` once
    `edit` has changed (in place) the config of a temp copy of the committed stack file. Asserts that no API key
    value either run holds appears anywhere in the output."""
    committed = (ROOT / f"Pulumi.{stack}.yaml").read_text()
    base = tmp_path / "base.yaml"
    base.write_text(committed)
    document = yaml.safe_load(committed)
    edit(document["config"])  # the tests take share_tool_runs: the tool's runs are the ones read below
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    # The edited copy stands for the working tree's file.
    monkeypatch.setattr(preview_tool, "stack_file_config", functools.partial(stack_file_config, project_dir=tmp_path))
    status = preview_tool.main(["--stack", stack, "--base", str(base)])
    out = capsys.readouterr().out
    runs = [shared_run(stack), shared_run(stack, document["config"])]
    keys = {key.outputs["value"] for run in runs for key in run.of_type("aws:apigateway/apiKey:ApiKey")}
    assert keys and not [key for key in keys if key in out]
    items: dict[str, list[str]] = {}
    lines = out.splitlines()
    for index, line in enumerate(lines):
        if ITEM_STEP in line:
            changes = items.setdefault(line.split()[-1], [])
            for change in lines[index + 1 :]:
                if not change.startswith(" " * 10):
                    break
                changes.append(change.strip())
    return status, items


def test_preview_of_a_suspension_shows_the_status_and_nothing_of_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], share_tool_runs: None
) -> None:
    def suspend(config: dict[str, Any]) -> None:
        config[CUSTOMERS]["acme"] = {"suspended": True}

    status, items = preview_edited("dev", suspend, tmp_path, monkeypatch, capsys)
    assert status == 2
    assert items == {"whitelabel-tenants-keys-acme.dev.example.com-item": ['item.status: "active" → "suspended"']}


def test_preview_of_a_re_tier_shows_the_tier_and_masks_the_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], share_tool_runs: None
) -> None:
    def re_tier(config: dict[str, Any]) -> None:
        config[CUSTOMERS]["acme"] = {"tier": "premium"}

    status, items = preview_edited("prod", re_tier, tmp_path, monkeypatch, capsys)
    assert status == 2
    assert items == {
        "whitelabel-tenants-keys-acme.example.com-item": [
            "item.apiKey: [secret] changed",
            'item.tier: "standard" → "premium"',
        ]
    }


def test_preview_of_an_auth_issuer_added_shows_the_issuer_and_audiences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], share_tool_runs: None
) -> None:
    def add_auth(config: dict[str, Any]) -> None:
        config[CUSTOMERS]["acme"] = {"auth": {"issuer": "https://idp.example.org/pool-1", "audiences": ["portal"]}}
        config["whitelabel-gateway:authorizer"] = {"cacheTtlSeconds": 0}

    status, items = preview_edited("dev", add_auth, tmp_path, monkeypatch, capsys)
    assert status == 2
    (changes,) = items.values()
    assert 'item.authIssuer: (none) → "https://idp.example.org/pool-1"' in changes
    assert 'item.authAudiences: (none) → ["portal"]' in changes
    assert not [change for change in changes if diff.SECRET in change]


def test_preview_of_a_key_rotation_says_only_that_the_key_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], share_tool_runs: None
) -> None:
    # A tier made pooled: its customers' items switch from their own keys to the pool's, nothing else changes.
    def pool(config: dict[str, Any]) -> None:
        config["whitelabel-gateway:tiers"]["standard"]["keyMode"] = "pooled"

    status, items = preview_edited("prod", pool, tmp_path, monkeypatch, capsys)
    assert status == 2
    assert items == {
        "whitelabel-tenants-keys-acme.example.com-item": ["item.apiKey: [secret] changed"],
        "whitelabel-tenants-keys-initech-portal.example.com-item": ["item.apiKey: [secret] changed"],
    }


def _item(**attributes: Any) -> dict[str, Any]:
    """A registry item input as the program registers it: DynamoDB JSON text, secret."""
    document = {name: {"S": value} if isinstance(value, str) else value for name, value in attributes.items()}
    return {"item": {diff.SECRET_SIG_KEY: diff.SECRET_SIG, "value": json.dumps(document)}}


def test_an_item_attribute_not_known_to_be_clear_stays_masked() -> None:
    changes = diff.property_changes(
        "aws:dynamodb/tableItem:TableItem",
        _item(apiKey="k" * 40, status="active"),
        _item(apiKey="k" * 40, status="active", signingSecret="s3cr3t-value"),
    )
    assert [str(c) for c in changes] == ["item.signingSecret: [secret] changed"]


def test_a_clear_attribute_holding_the_keys_value_is_masked_too() -> None:
    key = "k" * 40
    changes = diff.property_changes(
        "aws:dynamodb/tableItem:TableItem",
        _item(apiKey=key, tenantId="acme"),
        _item(apiKey=key, tenantId=f"acme-{key}"),
    )
    assert [str(c) for c in changes] == ["item.tenantId: [secret] changed"]


def test_a_secret_that_is_not_a_registry_item_stays_masked_whole() -> None:
    before, after = _item(apiKey="k" * 40, status="active"), _item(apiKey="k" * 40, status="suspended")
    changes = diff.property_changes("aws:s3/bucketObject:BucketObject", before, after)
    assert [str(c) for c in changes] == ["item: [secret] changed"]
    text = {"item": {diff.SECRET_SIG_KEY: diff.SECRET_SIG, "value": "not json"}}
    assert [str(c) for c in diff.property_changes("aws:dynamodb/tableItem:TableItem", text, after)] == [
        "item: [secret] changed"
    ]


def test_every_registry_item_attribute_but_the_key_is_shown_in_clear() -> None:
    # A new attribute of the item is masked until diff.OPEN_SECRETS names it: this says which list to update.
    item = registry_item(
        "acme.example.com",
        "acme",
        "standard",
        False,
        "k" * 40,
        mtls_issuers=["CN=ca"],
        mtls_subjects=["CN=client"],
        auth=ResolvedAuth("https://idp.example.org", ("portal",), "custom:tenantId"),
    )
    shown_in_clear = diff.OPEN_SECRETS["aws:dynamodb/tableItem:TableItem", "item"].shown
    assert set(item) - {"apiKey"} == shown_in_clear
