"""Write the component package's schema (what `pulumi package add` reads from the plugin) to plugin/schema.json.

The schema is inferred from the components' type annotations by Pulumi's analyzer, exactly as the plugin's
provider does it when it starts (`component_provider_host` builds a `ComponentProvider` from the same list, name
and version: pyproject.toml's, whitelabel/version.py). The committed file lets people and other languages read the
package's API without running it, and tests/test_schema.py fails when it is stale: re-run `make schema` after
changing the args or outputs.

    python -m tools.schema            # → plugin/schema.json
    python -m tools.schema --check    # exit 1 when plugin/schema.json is not what the code gives
    python -m tools.schema --release  # on a release: plugin/schema.json becomes the baseline, schema-released.json

A release's schema is kept as plugin/schema-released.json; `breaking_changes` lists what the current schema changes
of it for users (an input or output removed or renamed, its type changed, an input newly required, an enum value
dropped), and tests/test_version.py refuses such a change unless the version moved past the release and CHANGELOG.md
names it.
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from pathlib import Path
from typing import Any

import pulumi
from pulumi.provider.experimental.component import ComponentProvider

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DIR = ROOT / "plugin"
SCHEMA_FILE = PLUGIN_DIR / "schema.json"
RELEASED_FILE = PLUGIN_DIR / "schema-released.json"


def plugin_entry() -> tuple[str, list[type[pulumi.ComponentResource]]]:
    """The package name and components the plugin's entry (`plugin/__main__.py`) serves, read from that file."""
    name, components, _ = plugin_served()
    return name, components


def plugin_served() -> tuple[str, list[type[pulumi.ComponentResource]], str]:
    """The package name, components and version the plugin's entry passes to `component_provider_host`."""
    # Not run as __main__: the entry only defines its names, it does not start serving.
    entry = runpy.run_path(str(PLUGIN_DIR / "__main__.py"), run_name="whitelabel_plugin")
    return entry["PACKAGE_NAME"], entry["components"](), entry["version"]()


def provider() -> ComponentProvider:
    """The provider the plugin would start (the same arguments `component_provider_host` passes)."""
    name, components, version = plugin_served()
    return ComponentProvider(components, name, None, version)


def schema() -> dict[str, Any]:
    """The package schema as the provider serves it (GetSchema)."""
    served = provider().schema
    assert served is not None
    return json.loads(served)


def render(document: dict[str, Any]) -> str:
    """Deterministic text: sorted keys, two-space indent, UTF-8 as is (→ stays →), a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _shape(spec: dict[str, Any]) -> Any:
    """What a property's users depend on: its type, reference, items and values, without the prose."""
    if not isinstance(spec, dict):
        return spec
    kept = {k: _shape(v) for k, v in spec.items() if k not in ("description", "deprecationMessage", "language")}
    return kept


def breaking_changes(released: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Every change of `current` that breaks a user of `released`: `<token>.<property>: <what>`, sorted."""
    found: list[str] = []

    def compare(owner: str, old: dict[str, Any], new: dict[str, Any], kind: str) -> None:
        for prop, spec in (old or {}).items():
            if prop not in (new or {}):
                found.append(f"{owner}.{prop}: {kind} removed or renamed")
            elif _shape(spec) != _shape(new[prop]):
                found.append(f"{owner}.{prop}: {kind} type changed")

    # (schema section, what one entry is, its property maps with what each holds, its required list and what it names)
    sections = (
        ("resources", "resource", (("inputProperties", "input"), ("properties", "output")), "requiredInputs", "input"),
        ("types", "type", (("properties", "field"),), "required", "field"),
    )
    for section, entry, maps, required, named in sections:
        for token, spec in released.get(section, {}).items():
            now = current.get(section, {}).get(token)
            if now is None:
                found.append(f"{token}: {entry} removed or renamed")
                continue
            for key, kind_name in maps:
                compare(token, spec.get(key, {}), now.get(key, {}), kind_name)
            for prop in sorted(set(now.get(required, [])) - set(spec.get(required, []))):
                found.append(f"{token}.{prop}: {named} newly required")
            # An enum type's values (only types have them).
            old_values = {json.dumps(e.get("value")) for e in spec.get("enum", [])}
            new_values = {json.dumps(e.get("value")) for e in now.get("enum", [])}
            for value in sorted(old_values - new_values):
                found.append(f"{token}: enum value {value} removed")
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only compare with the committed file")
    parser.add_argument("--release", action="store_true", help="make the current schema the released baseline")
    args = parser.parse_args(argv)
    text = render(schema())
    relative = SCHEMA_FILE.relative_to(ROOT)
    if args.check:
        current = SCHEMA_FILE.read_text() if SCHEMA_FILE.exists() else ""
        if current != text:
            print(f"{relative} is stale: run `make schema` and commit it", file=sys.stderr)
            return 1
        print(f"{relative} is current")
        return 0
    if args.release:
        RELEASED_FILE.write_text(text)
        print(f"wrote {RELEASED_FILE.relative_to(ROOT)} (the baseline tests/test_version.py compares with)")
    SCHEMA_FILE.write_text(text)
    print(f"wrote {relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
