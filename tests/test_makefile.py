"""The Makefile a person meets first: `make help` lists every target with one line, and `make preview`'s command."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from whitelabel.offline import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def phony_targets() -> list[str]:
    text = (ROOT / "Makefile").read_text()
    return [name for line in re.findall(r"^\.PHONY:(.*)$", text, re.M) for name in line.split()]


def make(*args: str) -> str:
    return subprocess.run(["make", "-s", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_make_help_lists_every_phony_target_with_one_line() -> None:
    listed = {}
    for line in make("help", "STACK=prod").splitlines():
        target, _, what = line.strip().partition(" ")
        listed[target] = what.strip()
    targets = phony_targets()
    assert {"help", "plan", "preview", "test", "lint", "clean"} <= set(targets)
    assert set(targets) == set(listed)
    assert all(listed[t] for t in targets)
    # The stack named on the command line is the one the line speaks of.
    assert listed["plan"] == "what `pulumi up --stack prod` would create, without a cloud"


def test_make_preview_passes_stack_and_base() -> None:
    commands = make("-n", "preview", "STACK=prod", "BASE=old/Pulumi.prod.yaml").splitlines()
    assert commands[-1] == "venv/bin/python -m tools.preview --stack prod --base old/Pulumi.prod.yaml"
    without_base = make("-n", "preview").splitlines()[-1]
    assert without_base.rstrip() == "venv/bin/python -m tools.preview --stack dev"


def test_a_first_install_says_what_it_does_and_how_long_it_takes() -> None:
    # -B: as on a fresh machine, whatever is installed here already.
    commands = make("-n", "-B", "venv/.installed", ".localstack-venv/.installed")
    assert "Installing uv into .uv/ (first run only; about 2 s)" in commands
    assert "Installing the program's packages from uv.lock into venv/ (first run only; a few seconds" in commands
    assert (
        "Installing LocalStack from requirements-localstack.txt into .localstack-venv/ for the contract tests"
        " (first run only; under a minute)" in commands
    )
    # Each install reports its own time, and installs exactly the lock (no resolution, hashes required).
    assert commands.count("ready in $(( $(date +%s) - start )) s") == 2
    assert "sync --frozen" in commands and "pip sync --quiet --require-hashes" in commands
