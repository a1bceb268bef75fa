"""The component package's provider: serves `WhiteLabelGateway` and `TenantSet` to Pulumi programs in any language.

Pulumi's Python language host runs this folder as `python <plugin folder> <engine address> ...` (a bare folder with
a `__main__.py`), so only this folder is on `sys.path`; the package itself (`components/`, `whitelabel/`,
`functions/`) is the repository root above it, put on the path first. The schema is inferred from the components'
type annotations each time the provider starts; `make schema` writes the same schema to `plugin/schema.json`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pulumi

# The repository root holds the package; the program's own `__main__.py` and `Pulumi.yaml` there are not run.
ROOT = Path(__file__).resolve().parent.parent

# The package name: the first part of every type token (`whitelabel:index:WhiteLabelGateway`) and the name of the
# SDK `pulumi package add` generates (`pulumi_whitelabel` in Python, `@pulumi/whitelabel` in TypeScript).
PACKAGE_NAME = "whitelabel"


def components() -> list[type[pulumi.ComponentResource]]:
    """The components the provider serves (imported here, after the repository root is on the path)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from components.tenant_set import TenantSet
    from components.white_label_gateway import WhiteLabelGateway

    return [WhiteLabelGateway, TenantSet]


def version() -> str:
    """The package's version (pyproject.toml's, read through the package): what the provider and schema carry."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from whitelabel.version import package_version

    return package_version()


def main() -> None:
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(components=components(), name=PACKAGE_NAME, version=version())


if __name__ == "__main__":
    main()
