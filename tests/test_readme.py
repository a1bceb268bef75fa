"""README's commands work as written: the customer steps on the dev stack, and the resource totals it states.

The onboard, suspend and re-tier blocks of README's "Customers" section are replayed the way a user runs them:
each `pulumi config set --path` / `pulumi config rm --path` line changes the dev stack file's config as the
Pulumi CLI would, and each `pulumi up` runs the real program under the mock engine on the config so far.
The same steps as stack-file edits ("Try it offline") are applied in turn, and `make preview`'s comparison of
each with the one before must show what README says it shows.
"""

from __future__ import annotations

import copy
import re
import shlex
from typing import Any

import pytest
import yaml

from tests.conftest import shared_run
from tools import preview as preview_tool
from whitelabel.config import PROJECT
from whitelabel.offline import ROOT, StackRun, stack_file_config

README = (ROOT / "README.md").read_text(encoding="utf-8")
# The stack-file steps live on the docs page "Try it offline" (README keeps the `pulumi config set` blocks).
OFFLINE_PAGE = (ROOT / "docs" / "try-it-offline.md").read_text(encoding="utf-8")
# The blocks in the order README gives them; each builds on the state the one before left.
CUSTOMER_BLOCKS = ("onboard", "suspend", "re-tier")


# -- `pulumi config set --path`, as the CLI applies it to a stack's config ---------------------------------


def path_segments(path: str) -> list[str | int]:
    """`customers.initech.tier` → ['customers', 'initech', 'tier']; `names[0]` → ['names', 0]."""
    segments: list[str | int] = []
    for part in path.split("."):
        match = re.fullmatch(r"([^\[\]]+)((?:\[\d+\])*)", part)
        assert match, f"a path form this helper does not read: {path!r}"
        segments.append(match[1])
        segments.extend(int(index) for index in re.findall(r"\[(\d+)\]", match[2]))
    return segments


def cli_value(text: str, typed: bool) -> Any:
    """The value as the CLI stores it under a path: "true"/"false" as booleans and integers as numbers
    (https://www.pulumi.com/docs/iac/cli/commands/pulumi_config_set/), or, `typed=False`, every value as
    a string, as older CLIs and `--type string` do. The program must accept both."""
    if not typed:
        return text
    if text in ("true", "false"):
        return text == "true"
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def config_key(name: str) -> str:
    return name if ":" in name else f"{PROJECT}:{name}"


def set_path(config: dict[str, Any], path: str, value: Any) -> None:
    """`pulumi config set --path <path> <value>`: creates the maps (or lists, for an index) on the way."""
    first, *rest = path_segments(path)
    assert isinstance(first, str)
    if not rest:
        config[config_key(first)] = value
        return
    node: Any = config.setdefault(config_key(first), {} if isinstance(rest[0], str) else [])
    for segment, following in zip(rest, [*rest[1:], None], strict=True):
        if following is None:
            _put(node, segment, value)
        else:
            if _get(node, segment) is None:
                _put(node, segment, {} if isinstance(following, str) else [])
            node = _get(node, segment)


def remove_path(config: dict[str, Any], path: str) -> None:
    """`pulumi config rm --path <path>`."""
    first, *rest = path_segments(path)
    assert isinstance(first, str)
    if not rest:
        config.pop(config_key(first), None)
        return
    node: Any = config[config_key(first)]
    for segment in rest[:-1]:
        node = _get(node, segment)
    del node[rest[-1]]


def _get(node: Any, segment: str | int) -> Any:
    if isinstance(node, list):
        assert isinstance(segment, int)
        return node[segment] if segment < len(node) else None
    return node.get(segment)


def _put(node: Any, segment: str | int, value: Any) -> None:
    if isinstance(node, list):
        assert isinstance(segment, int)
        node.extend([None] * (segment + 1 - len(node)))
    node[segment] = value


def test_set_path_builds_maps_and_lists_as_the_cli_does() -> None:
    config: dict[str, Any] = {"whitelabel-gateway:customers": {"acme": {}}}
    set_path(config, "customers.initech.tier", "premium")
    set_path(config, "tiers.premium.quota.limit", 5)
    set_path(config, "alarms.email[1]", "b@example.com")
    set_path(config, "aws:region", "eu-west-2")
    assert config == {
        "whitelabel-gateway:customers": {"acme": {}, "initech": {"tier": "premium"}},
        "whitelabel-gateway:tiers": {"premium": {"quota": {"limit": 5}}},
        "whitelabel-gateway:alarms": {"email": [None, "b@example.com"]},
        "aws:region": "eu-west-2",
    }
    remove_path(config, "customers.initech.tier")
    assert config["whitelabel-gateway:customers"]["initech"] == {}


# -- README's blocks -----------------------------------------------------------------------------------------


def shell_blocks(text: str) -> list[list[str]]:
    """Every ```sh block of `text`, as its lines."""
    return [block.splitlines() for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S)]


def customer_block(kind: str) -> list[str]:
    """The one ```sh block of README's customers section whose first line is `# <kind>…`."""
    section = README.split("\n## Customers", 1)[1].split("\n## ", 1)[0]
    found = [lines for lines in shell_blocks(section) if lines and lines[0].startswith(f"# {kind}")]
    assert len(found) == 1, f"README's customers section has {len(found)} sh blocks starting `# {kind}`"
    return found[0]


def replay(lines: list[str], config: dict[str, Any], typed: bool) -> list[StackRun]:
    """Apply the block's config commands to `config`; run the program at each `pulumi up`."""
    runs: list[StackRun] = []
    for line in lines:
        words = shlex.split(line, comments=True)
        if not words:
            continue
        assert words[0] == "pulumi", f"a command README's customer blocks should not need: {line}"
        if words[1:3] == ["config", "set"]:
            args = [w for w in words[3:] if not w.startswith("--")]
            assert len(args) == 2, line
            value = cli_value(args[1], typed) if "--path" in words else args[1]  # top level: always a string
            set_path(config, args[0], value)
        elif words[1:3] == ["config", "rm"]:
            assert "--path" in words, line
            remove_path(config, words[-1])
        elif words[1] == "up":
            assert "--stack" in words and words[words.index("--stack") + 1] == "dev", f"not the dev stack: {line}"
            runs.append(shared_run("dev", copy.deepcopy(config)))
        else:
            raise AssertionError(f"a command README's customer blocks should not need: {line}")
    return runs


@pytest.mark.parametrize("typed", [True, False], ids=["typed-as-documented", "all-strings"])
def test_onboard_suspend_and_re_tier_blocks_run_on_the_dev_stack_as_written(typed: bool) -> None:
    config = stack_file_config("dev")
    assert "premium" not in str(config), "the re-tier block is meant to work on dev's own single tier"

    (onboarded,) = replay(customer_block("onboard"), config, typed)
    initech = onboarded.outputs["tenants"]["initech"]
    assert (initech["tier"], initech["status"]) == ("standard", "active")

    (suspended,) = replay(customer_block("suspend"), config, typed)
    assert suspended.outputs["tenants"]["initech"]["status"] == "suspended"

    switched, settled = replay(customer_block("re-tier"), config, typed)
    assert switched.outputs["tenants"]["initech"]["tier"] == "premium"
    names = {r.name for r in switched.custom}
    # Step 1 keeps the old tier's key in its plan, step 2 deletes it (docs "Re-tiering without a 403").
    assert {
        "whitelabel-tenants-keys-initech.premium-api-key",
        "whitelabel-tenants-keys-initech.standard-api-key",
    } <= names
    after = {r.name for r in settled.custom}
    assert "whitelabel-tenants-keys-initech.standard-api-key" not in after
    assert "whitelabel-tenants-keys-initech.premium-api-key" in after
    # The other customers keep the tier they had: adding a tier must not move them.
    assert {settled.outputs["tenants"][name]["tier"] for name in ("acme", "globex")} == {"standard"}


# -- the same steps as edits of the stack file ("Try it offline") -----------------------------------------


def offline_step(kind: str) -> dict[str, Any]:
    """The ```yaml block of README's offline steps whose first line is `# <kind>…`, as config keys."""
    section = OFFLINE_PAGE.split("\n## Onboard, suspend and re-tier a customer offline\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```yaml\n(.*?)^```", section, flags=re.M | re.S)
    found = [block for block in blocks if block.lstrip().startswith(f"# {kind}")]
    assert len(found) == 1, f"README's offline steps have {len(found)} yaml blocks starting `# {kind}`"
    # Indented as under the stack file's `config:`: parse it there, as the file would be.
    values = yaml.safe_load("config:\n" + found[0])["config"]
    assert isinstance(values, dict) and values
    return values


def ops(old: StackRun, new: StackRun) -> dict[str, set[str]]:
    """What `make preview` lists between two runs: op → resource names."""
    listed: dict[str, set[str]] = {}
    for step in preview_tool.compare(old, new).steps:
        listed.setdefault(step.op, set()).add(step.name)
    return listed


def test_offline_stack_file_steps_preview_as_readme_says(dev: StackRun) -> None:
    config = stack_file_config("dev")
    config.update(offline_step("onboard"))
    onboarded = shared_run("dev", copy.deepcopy(config))
    assert ops(dev, onboarded) == {
        "create": {
            "whitelabel-tenants-domains-initech-a",
            "whitelabel-tenants-keys-initech.standard-api-key",
            "whitelabel-tenants-keys-initech.standard-plan-key",
            "whitelabel-tenants-keys-initech.dev.example.com-item",
        }
    }

    config.update(offline_step("suspend"))
    suspended = shared_run("dev", copy.deepcopy(config))
    assert ops(onboarded, suspended) == {"update": {"whitelabel-tenants-keys-initech.dev.example.com-item"}}
    assert suspended.outputs["tenants"]["initech"]["status"] == "suspended"

    config.update(offline_step("re-tier"))
    re_tiered = shared_run("dev", copy.deepcopy(config))
    listed = ops(suspended, re_tiered)
    assert listed["delete"] == {
        "whitelabel-tenants-keys-initech.standard-api-key",
        "whitelabel-tenants-keys-initech.standard-plan-key",
    }
    assert listed["update"] == {"whitelabel-tenants-keys-initech.dev.example.com-item"}
    assert listed["create"] == {
        "whitelabel-premium-usage-plan",
        "whitelabel-tenants-keys-initech.premium-api-key",
        "whitelabel-tenants-keys-initech.premium-plan-key",
    }
    assert set(listed) == {"create", "update", "delete"}  # acme's and globex's resources unchanged
    assert (re_tiered.outputs["tenants"]["initech"]["tier"], re_tiered.outputs["tenants"]["initech"]["status"]) == (
        "premium",
        "active",
    )


# -- the resource totals README states -------------------------------------------------------------------


def stated_totals() -> dict[str, int]:
    """`Stack <stack>: <n> AWS resources` as README quotes `make plan`'s first line, per stack."""
    found = re.findall(r"`Stack (\w+): (\d+) AWS resources", README)
    totals = {stack: int(count) for stack, count in found}
    assert len(totals) == len(found), "README states a stack's total twice"
    return totals


def test_readme_states_each_committed_stacks_resource_total_as_the_plan_counts_it(
    dev: StackRun, prod: StackRun
) -> None:
    committed = {path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml")}
    totals = stated_totals()
    assert set(totals) == committed, "README states a total for each committed stack, and only those"
    for run in (dev, prod):
        # tools/plan.py's first line counts the same thing: the AWS resources, not the components.
        assert totals[run.stack] == len(run.custom), f"README says {run.stack} has {totals[run.stack]} resources"
