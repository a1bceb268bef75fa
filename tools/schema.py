"""Write the component package's schema (what `pulumi package add` reads from the plugin) to plugin/schema.json.

The schema is inferred from the components' type annotations by Pulumi's analyzer, exactly as the plugin's
provider does it when it starts (`component_provider_host` builds a `ComponentProvider` from the same list and
name, version "0.0.0"). The committed file lets people and other languages read the package's API without running
it, and tests/test_schema.py fails when it is stale: re-run `make schema` after changing the args or outputs.

    python -m tools.schema            # → plugin/schema.json
    python -m tools.schema --check    # exit 1 when plugin/schema.json is not what the code gives
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
# component_provider_host's version when none is given; the served schema carries it.
VERSION = "0.0.0"


def plugin_entry() -> tuple[str, list[type[pulumi.ComponentResource]]]:
    """The package name and components the plugin's entry (`plugin/__main__.py`) serves, read from that file."""
    # Not run as __main__: the entry only defines its names, it does not start serving.
    entry = runpy.run_path(str(PLUGIN_DIR / "__main__.py"), run_name="whitelabel_plugin")
    return entry["PACKAGE_NAME"], entry["components"]()


def provider() -> ComponentProvider:
    """The provider the plugin would start (the same arguments `component_provider_host` passes)."""
    name, components = plugin_entry()
    return ComponentProvider(components, name, None, VERSION)


def schema() -> dict[str, Any]:
    """The package schema as the provider serves it (GetSchema)."""
    served = provider().schema
    assert served is not None
    return json.loads(served)


def render(document: dict[str, Any]) -> str:
    """Deterministic text: sorted keys, two-space indent, UTF-8 as is (→ stays →), a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only compare with the committed file")
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
    SCHEMA_FILE.write_text(text)
    print(f"wrote {relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
