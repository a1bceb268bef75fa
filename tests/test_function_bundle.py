"""The tenant authorizer's pinned libraries: verified against the lock, unpacked for arm64, shipped in its zip."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from components.tenant_authorizer import ARCHITECTURE, RUNTIME, code_archive
from whitelabel import function_bundle
from whitelabel.function_bundle import BundleError, locked_wheels, read_pins, unpacked_files


def test_every_pin_has_exactly_its_hashed_wheel_and_nothing_else_is_vendored() -> None:
    wheels = locked_wheels()
    pins = read_pins(function_bundle.REQUIREMENTS.read_text())
    assert sorted(p.name for p in pins) == ["cffi", "cryptography", "pycparser", "pyjwt"]
    assert sorted(wheels) == sorted(function_bundle.WHEELS.glob("*.whl"))


def test_the_binary_wheels_are_built_for_the_functions_runtime_and_architecture() -> None:
    assert (RUNTIME, ARCHITECTURE) == ("python3.14", "arm64")
    names = {w.name.split("-")[0]: w.name for w in locked_wheels()}
    # cryptography's abi3 wheel runs on any CPython from 3.11; cffi's is built per version: 3.14.
    assert names["cryptography"].endswith("-cp311-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl")
    assert names["cffi"].endswith("-cp314-cp314-manylinux2014_aarch64.manylinux_2_17_aarch64.whl")
    assert names["pyjwt"].endswith("-py3-none-any.whl") and names["pycparser"].endswith("-py3-none-any.whl")


def test_the_functions_zip_holds_the_handler_and_the_unpacked_libraries() -> None:
    shipped = code_archive().assets
    assert "handler.py" in shipped and "requirements.txt" in shipped
    assert "jwt/__init__.py" in shipped and "jwt/algorithms.py" in shipped
    assert "cryptography/hazmat/bindings/_rust.abi3.so" in shipped
    assert "_cffi_backend.cpython-314-aarch64-linux-gnu.so" in shipped
    assert not [p for p in shipped if p.endswith(".whl") or ".data/" in p or "__pycache__" in p]


def _copy_lock(tmp_path: Path) -> tuple[Path, Path]:
    wheels = tmp_path / "wheels"
    shutil.copytree(function_bundle.WHEELS, wheels)
    requirements = tmp_path / "requirements.txt"
    shutil.copy(function_bundle.REQUIREMENTS, requirements)
    return requirements, wheels


def test_an_altered_wheel_stops_the_program(tmp_path: Path) -> None:
    requirements, wheels = _copy_lock(tmp_path)
    target = next(wheels.glob("pyjwt-*.whl"))
    target.write_bytes(target.read_bytes() + b"\0")
    with pytest.raises(BundleError, match=r"pyjwt-2\.15\.1-py3-none-any\.whl: sha256"):
        unpacked_files(requirements, wheels, tmp_path / "build")
    assert not (tmp_path / "build").exists()


def test_a_missing_wheel_stops_the_program(tmp_path: Path) -> None:
    requirements, wheels = _copy_lock(tmp_path)
    next(wheels.glob("cffi-*.whl")).unlink()
    with pytest.raises(BundleError, match=r"cffi==2.1.1: expected one wheel"):
        locked_wheels(requirements, wheels)


def test_a_pin_without_a_hash_is_refused() -> None:
    with pytest.raises(BundleError, match="one wheel each"):
        read_pins("pyjwt==2.15.1\n")


def test_unpacking_is_reused_for_the_same_lock(tmp_path: Path) -> None:
    requirements, wheels = _copy_lock(tmp_path)
    first = unpacked_files(requirements, wheels, tmp_path / "build")
    second = unpacked_files(requirements, wheels, tmp_path / "build")
    assert first == second
    assert [p.name for p in (tmp_path / "build").iterdir()] == [
        next(iter(first.values())).relative_to(tmp_path / "build").parts[0]
    ]


def test_a_wheel_changed_after_a_first_run_is_verified_again(tmp_path: Path) -> None:
    # The hashes are kept per process (one program run after another in the tests): a wheel altered on disk
    # after a run that accepted it, same size, must still be refused on the next run.
    requirements, wheels = _copy_lock(tmp_path)
    unpacked_files(requirements, wheels, tmp_path / "build")
    target = next(wheels.glob("pyjwt-*.whl"))
    before = target.stat()
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    # A clock coarser than the two writes could leave the time as it was; a real edit comes later than that.
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert target.stat().st_size == before.st_size
    with pytest.raises(BundleError, match=r"pyjwt-2\.15\.1-py3-none-any\.whl: sha256"):
        unpacked_files(requirements, wheels, tmp_path / "build")
    with pytest.raises(BundleError, match=r"pyjwt-2\.15\.1-py3-none-any\.whl: sha256"):
        locked_wheels(requirements, wheels)
