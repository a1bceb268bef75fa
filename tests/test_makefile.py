"""The Makefile a person meets first: `make help` lists every target with one line, and `make preview`'s command."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

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
    assert commands[-1] == "venv/bin/python -m tools.preview --stack prod --base old/Pulumi.prod.yaml || [ $? -eq 2 ]"
    without_base = make("-n", "preview").splitlines()[-1]
    assert without_base == "venv/bin/python -m tools.preview --stack dev || [ $? -eq 2 ]"


@pytest.mark.parametrize(("tool_status", "make_status"), [(0, 0), (2, 0), (1, 2)])
def test_make_preview_fails_on_an_error_only_not_on_changes(tmp_path: Path, tool_status: int, make_status: int) -> None:
    # The recipe as written, with a stand-in for the tool that exits as the tool does (0 no change, 2 changes,
    # 1 error); -o: the stand-in's venv is not installed.
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.write_text(f'#!/bin/sh\necho "ran $*"\nexit {tool_status}\n')
    python.chmod(0o755)
    done = subprocess.run(
        ["make", "-s", "preview", f"VENV={tmp_path}", "-o", f"{tmp_path}/.installed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout == "ran -m tools.preview --stack dev\n"
    assert done.returncode == make_status
    if tool_status == 1:
        assert re.search(r"\*\*\* \[Makefile:\d+: preview\] Error 1$", done.stderr.strip())
    else:
        assert done.stderr == ""


def test_make_preview_of_a_change_prints_it_and_exits_0_without_an_error_line(tmp_path: Path) -> None:
    # The real tool: the committed dev file against a base where acme is suspended (a resume, one item update).
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"]["whitelabel-gateway:customers"]["acme"] = {"suspended": True}
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(document))
    done = subprocess.run(
        ["make", "-s", "preview", f"BASE={base}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[-1].strip() == 'item.status: "suspended" → "active"'


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
