"""Every environment installs from the one lock: uv.lock pins what pyproject.toml declares, every exported file
and the authorizer's bundled wheels say the same, and this test environment is exactly that lock."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from tools import lock
from whitelabel import function_bundle
from whitelabel.function_bundle import read_pins

ROOT = lock.ROOT


# uv.lock is read when a test first needs it, not at import: every worker of `make unit` imports this file.
@functools.cache
def locked() -> dict[str, dict]:
    return lock.locked_packages()


@functools.cache
def versions() -> dict[str, set[str]]:
    return lock.locked_versions()


def uv() -> str:
    command = lock.uv_command()
    if not Path(command).exists():
        pytest.fail(f"uv is not at {command}: run the tests through make (it installs .uv/), or set UV", pytrace=False)
    return command


@functools.cache
def _hashes() -> dict[str, set[str]]:
    """Normalised name → the sha256 of every file uv.lock records for it, across all its locked versions."""
    found: dict[str, set[str]] = {}
    for package in tomllib.loads(lock.LOCK.read_text())["package"]:
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        found.setdefault(lock.normalise(package["name"]), set()).update(
            f["hash"].removeprefix("sha256:") for f in files
        )
    return found


def locked_hashes(name: str) -> set[str]:
    return _hashes().get(lock.normalise(name), set())


def test_uv_lock_satisfies_pyproject_without_a_network() -> None:
    # The same question CI's `make lock-check` asks; --offline: a test never reaches the index.
    done = subprocess.run([uv(), "lock", "--check", "--offline"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_this_environment_is_exactly_the_lock() -> None:
    # What `uv sync --frozen` installed: every distribution here is a locked package at its locked version.
    installed = {lock.normalise(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    drift = {
        name: (version, versions()[name])
        for name, version in installed.items()
        if name in versions() and version not in versions()[name]
    }
    assert drift == {}
    assert {"pulumi", "pulumi-aws", "pyjwt", "cryptography", "pytest", "moto"} <= installed.keys()
    unlocked = set(installed) - set(locked())
    assert unlocked == set(), f"installed but not in uv.lock: {sorted(unlocked)}"


def test_the_authorizers_bundled_libraries_are_the_locked_versions_and_files() -> None:
    pins = read_pins(function_bundle.REQUIREMENTS.read_text())
    group = lock.group_members(locked(), "authorizer")
    assert sorted(p.name for p in pins) == group == ["cffi", "cryptography", "pycparser", "pyjwt"]
    for pin in pins:
        assert pin.version == locked()[pin.name]["version"], pin.name
        assert pin.sha256 in locked_hashes(pin.name), f"{pin.name}: its wheel is not one uv.lock records"
    # The vendored files are those pins (function_bundle refuses anything else at `pulumi up`).
    vendored = {hashlib.sha256(w.read_bytes()).hexdigest() for w in function_bundle.WHEELS.glob("*.whl")}
    assert vendored == {p.sha256 for p in pins}


def test_the_tests_verify_tokens_with_the_versions_the_function_ships() -> None:
    # The drift that broke a fresh clone on 2026-12-07: cryptography 51.0.1 here, 50.0.2 in the bundle.
    for pin in read_pins(function_bundle.REQUIREMENTS.read_text()):
        assert importlib.metadata.version(pin.name) == pin.version, pin.name


def test_the_lambda_wheel_is_chosen_for_python_3_14_on_arm64() -> None:
    rank = lock._wheel_rank
    assert rank("cryptography-51.0.1-cp311-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl") is not None
    # Not for this runtime: another architecture, musl, macOS, a newer CPython's ABI, free-threaded, glibc > 2.34.
    for other in (
        "cryptography-51.0.1-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "cryptography-51.0.1-cp311-abi3-musllinux_1_2_aarch64.whl",
        "cryptography-51.0.1-cp311-abi3-macosx_11_0_arm64.whl",
        "cryptography-51.0.1-cp315-abi3.abi3t-manylinux2014_aarch64.manylinux_2_17_aarch64.whl",
        "cffi-2.1.1-cp314-cp314t-manylinux2014_aarch64.manylinux_2_17_aarch64.whl",
        "cffi-2.1.1-cp313-cp313-manylinux2014_aarch64.manylinux_2_17_aarch64.whl",
        "x-1.0-cp314-cp314-manylinux_2_39_aarch64.whl",
    ):
        assert rank(other) is None, other
    # The newest stable ABI the runtime loads, then the oldest glibc: cp311-abi3 manylinux2014 over the rest.
    assert rank("c-1-cp311-abi3-manylinux2014_aarch64.whl") > rank("c-1-cp39-abi3-manylinux2014_aarch64.whl")  # type: ignore[operator]
    assert rank("c-1-cp311-abi3-manylinux2014_aarch64.whl") > rank("c-1-cp311-abi3-manylinux_2_28_aarch64.whl")  # type: ignore[operator]
    names = {w.name: w.filename for w in lock.lambda_wheels()}
    assert names["cryptography"].endswith("-cp311-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl")
    assert names["cffi"].endswith("-cp314-cp314-manylinux2014_aarch64.manylinux_2_17_aarch64.whl")


def test_a_changed_lock_changes_the_authorizers_pins() -> None:
    # The pins follow uv.lock: another locked cryptography gives another pin (what `make lock` writes).
    text = lock.LOCK.read_text()
    version = locked()["cryptography"]["version"]
    bumped = re.sub(
        rf'(name = "cryptography"\nversion = ")({re.escape(version)})"', r'\g<1>99.0.0"', text, count=1
    ).replace(f"cryptography-{version}-", "cryptography-99.0.0-")
    pins = read_pins(lock.authorizer_requirements(lock.lambda_wheels(bumped)))
    assert {p.name: p.version for p in pins}["cryptography"] == "99.0.0"


@pytest.mark.parametrize("path", [path for path, _, _ in lock.EXPORTS])
def test_every_exported_requirements_file_is_what_the_lock_gives(path: str) -> None:
    os.environ.setdefault("UV", uv())
    args, header = next((a, h) for p, a, h in lock.EXPORTS if p == path)
    assert (ROOT / path).read_text() == lock.exported(args, header), f"{path} is stale: run `make lock`"
    # And every pin in it has the locked version with only locked hashes (pip installs it with --require-hashes).
    text = (ROOT / path).read_text().replace("\\\n", " ")
    pins = re.findall(r"^([A-Za-z0-9._-]+)==(\S+)(.*)$", text, re.M)
    assert {lock.normalise(n) for n, _, _ in pins} >= {"pulumi", "pulumi-aws", "pydantic", "pyyaml"}
    for name, version, rest in pins:
        assert version in versions()[lock.normalise(name)], name
        hashes = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", rest))
        assert hashes and hashes <= locked_hashes(name), name


def test_the_authorizers_requirements_file_is_what_the_lock_gives() -> None:
    text = lock.authorizer_requirements(lock.lambda_wheels())
    assert function_bundle.REQUIREMENTS.read_text() == text, "stale: run `make lock`"


def test_localstacks_lock_pins_its_declaration_with_hashes() -> None:
    declared = dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)$", lock.LOCALSTACK_IN.read_text(), re.M))
    locked_text = lock.LOCALSTACK_LOCK.read_text().replace("\\\n", " ")
    locked = {
        lock.normalise(n): (v, rest) for n, v, rest in re.findall(r"^([A-Za-z0-9._-]+)==(\S+)(.*)$", locked_text, re.M)
    }
    assert declared and {lock.normalise(n) for n in declared} <= locked.keys()
    for name, version in declared.items():
        assert locked[lock.normalise(name)][0] == version, name
    assert all("--hash=sha256:" in rest for _, rest in locked.values())
    assert locked["localstack-core"][0] == "4.12.0" and locked["cryptography"][0].startswith("43.")


def test_pulumi_builds_the_programs_environment_from_the_same_lock() -> None:
    text = (ROOT / "Pulumi.yaml").read_text()
    assert re.search(r"^\s+toolchain: uv$", text, re.M) and re.search(r"^\s+virtualenv: venv$", text, re.M)
    makefile = (ROOT / "Makefile").read_text()
    assert "sync --frozen" in makefile and "pip sync --quiet --require-hashes" in makefile
    assert not (ROOT / "requirements.txt").exists() and not (ROOT / "requirements-dev.txt").exists()
