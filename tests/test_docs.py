"""The documentation site (issue 25 §5): README is a front door of at most 300 lines that names every config key;
the references are generated from their one source and current; the site builds with --strict."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools import docs
from whitelabel.offline import ROOT


@pytest.mark.parametrize("path", sorted(docs.pages(), key=str), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_generated_page_is_current(path: Path) -> None:
    assert path.read_text() == docs.pages()[path], f"{path.relative_to(ROOT)} is stale: run `make docs`"


def test_readme_is_a_front_door_of_at_most_300_lines() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    headings = re.findall(r"^## (.+)$", text, re.M)
    for needed in ("What it is", "Try it offline", "Deploy for real", "Customers: onboard, suspend, re-tier"):
        assert needed in headings
    assert "```mermaid" in text and "pulumi up --stack dev" in text and "make test" in text


def test_readme_names_every_config_key_and_links_its_rule() -> None:
    text = (ROOT / "README.md").read_text()
    block = text.split(docs.KEYS_START, 1)[1].split(docs.KEYS_END, 1)[0]
    for key, _ in docs.config_keys():
        top, _, rest = key.partition(".")
        line = next(line for line in block.splitlines() if line.startswith(f"- [`{top}`]"))
        assert not rest or f"`{rest}`" in line, key
    assert "(docs/reference/config.md)" in block


def test_the_config_reference_has_a_rule_for_every_key() -> None:
    rows = [line for line in docs.CONFIG_PAGE.read_text().splitlines() if line.startswith("| `")]
    assert len(rows) == len(list(docs.config_keys()))
    empty = [row.split("|")[1].strip() for row in rows if row.rstrip().endswith("|  |")]
    assert empty == [], "keys without a rule: give their model field a docstring"


def test_every_page_of_docs_is_in_the_nav_and_every_readme_link_resolves() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in sorted(docs.DOCS.rglob("*.md")):
        assert f": {page.relative_to(docs.DOCS)}" in nav, page
    for link in re.findall(r"\]\(((?:docs/)?[^)#:]+\.md)(?:#[^)]*)?\)", (ROOT / "README.md").read_text()):
        assert (ROOT / link).exists(), link


def test_the_site_builds_strict(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).parent / "mkdocs"
    done = subprocess.run(
        [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "reference" / "config" / "index.html").exists()
