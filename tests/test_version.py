"""The package's version: one place (pyproject.toml), carried by the plugin, the schema and CHANGELOG.md; a schema
that breaks an existing input or output needs a new version and a CHANGELOG entry that names the change."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from tools.schema import RELEASED_FILE, SCHEMA_FILE, breaking_changes, plugin_served
from whitelabel.offline import ROOT
from whitelabel.version import package_version

GATEWAY = "whitelabel:index:WhiteLabelGateway"


def changelog_sections() -> dict[str, str]:
    """CHANGELOG.md's `## <version>` sections, in file order (newest first)."""
    text = (ROOT / "CHANGELOG.md").read_text()
    parts = re.split(r"^## \[?(\d+\.\d+\.\d+)\]?.*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def semver(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(x) for x in version.split("."))
    return major, minor, patch


def test_one_version_in_pyproject_the_plugin_the_schema_and_the_changelog() -> None:
    version = package_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version) and semver(version) >= (0, 1, 0)
    assert plugin_served()[2] == version
    assert json.loads(SCHEMA_FILE.read_text())["version"] == version
    assert next(iter(changelog_sections())) == version, "CHANGELOG.md's newest section is not this version"


def test_a_schema_change_that_breaks_users_needs_a_new_version_and_a_changelog_entry() -> None:
    released = json.loads(RELEASED_FILE.read_text())
    current = json.loads(SCHEMA_FILE.read_text())
    breaks = breaking_changes(released, current)
    if not breaks:
        return
    version, was = semver(package_version()), semver(released["version"])
    # Semantic versioning: a breaking change moves the major version, the minor one while it is 0.
    assert (version[0] > was[0]) if was[0] >= 1 else (version[:2] > was[:2]), (
        f"plugin/schema.json breaks {breaks} against release {released['version']}: raise the version"
    )
    entry = changelog_sections()[package_version()]
    unnamed = [b for b in breaks if b.split(":")[-2].rsplit(".", 1)[-1] not in entry]
    assert unnamed == [], f"CHANGELOG.md's {package_version()} section does not name {unnamed}"


def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


def test_breaking_changes_finds_a_removed_renamed_retyped_or_newly_required_input_and_output() -> None:
    old = _schema()
    assert breaking_changes(old, old) == []
    new = copy.deepcopy(old)
    inputs = new["resources"][GATEWAY]["inputProperties"]
    name = sorted(inputs)[0]
    inputs[f"{name}Renamed"] = inputs.pop(name)
    outputs = new["resources"][GATEWAY]["properties"]
    typed = next(p for p, s in sorted(outputs.items()) if s.get("type") == "string")
    outputs[typed] = {**outputs[typed], "type": "integer"}
    optional = next(p for p in sorted(inputs) if p not in new["resources"][GATEWAY].get("requiredInputs", []))
    new["resources"][GATEWAY].setdefault("requiredInputs", []).append(optional)
    assert breaking_changes(old, new) == sorted(
        [
            f"{GATEWAY}.{name}: input removed or renamed",
            f"{GATEWAY}.{typed}: output type changed",
            f"{GATEWAY}.{optional}: input newly required",
        ]
    )


def test_breaking_changes_ignores_prose_and_new_optional_inputs() -> None:
    old = _schema()
    new = copy.deepcopy(old)
    resource = new["resources"][GATEWAY]
    for spec in resource["inputProperties"].values():
        spec["description"] = "reworded"
    resource["inputProperties"]["somethingNew"] = {"type": "string"}
    assert breaking_changes(old, new) == []


def test_breaking_changes_finds_a_dropped_enum_value() -> None:
    old = _schema()
    token = next(t for t, kind in sorted(old["types"].items()) if kind.get("enum"))
    new = copy.deepcopy(old)
    dropped = new["types"][token]["enum"].pop()
    assert breaking_changes(old, new) == [f"{token}: enum value {json.dumps(dropped['value'])} removed"]


@pytest.mark.parametrize("field", ["version"])
def test_the_released_baseline_is_a_release(field: str) -> None:
    released = json.loads(RELEASED_FILE.read_text())
    assert released[field] in changelog_sections()
