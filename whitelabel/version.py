"""The package's own version, read from its one place: `[project] version` in pyproject.toml.

The plugin's provider serves it (plugin/__main__.py), the schema carries it (plugin/schema.json, `make schema`) and
CHANGELOG.md has a section for it; tests/test_version.py holds the four together and refuses a schema that changes an
existing input or output without a new version and a CHANGELOG entry that names the change.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def package_version(pyproject: Path = PYPROJECT) -> str:
    """`[project] version` of pyproject.toml (the repository root: the plugin's provider runs from there too)."""
    with pyproject.open("rb") as stream:
        return str(tomllib.load(stream)["project"]["version"])
