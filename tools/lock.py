"""Every locked file of the project, made from its declaration (`make lock`) or checked against it (`make lock-check`).

Standard library only, so it runs with the machine's `python3` before any virtualenv exists; it calls uv (the
Makefile's bootstrapped copy, or `UV=<path>`). What it owns:

| declaration | lock | how |
| --- | --- | --- |
| `pyproject.toml` (runtime deps, groups) | `uv.lock` | `uv lock` (`--upgrade` under `make lock`) |
| `uv.lock`, runtime set | `plugin/requirements.txt`, `examples/bring-your-own/requirements.txt` | `uv export` |
| `uv.lock`, group `policy` + runtime | `policy/requirements.txt` | `uv export` |
| `uv.lock`, group `authorizer` | `functions/tenant_authorizer/requirements.txt`, arm64 wheels | Lambda's wheel |
| `requirements-localstack.in` | `requirements-localstack.txt` | `uv pip compile --generate-hashes` |

The authorizer runs on Lambda's python3.14 on arm64 (Amazon Linux 2023, glibc 2.34), so its file pins, for each
locked library, the one wheel of the locked version that this runtime installs, with the hash uv.lock records;
`make lock` downloads exactly those files into `functions/vendor/tenant_authorizer/` and checks them. The tests
(`tests/test_lock.py`) hold every exported file to uv.lock without a network; `--check` also asks uv whether
uv.lock still satisfies pyproject.toml.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "uv.lock"
AUTHORIZER_REQUIREMENTS = ROOT / "functions" / "tenant_authorizer" / "requirements.txt"
AUTHORIZER_WHEELS = ROOT / "functions" / "vendor" / "tenant_authorizer"
LOCALSTACK_IN = ROOT / "requirements-localstack.in"
LOCALSTACK_LOCK = ROOT / "requirements-localstack.txt"

# The Lambda runtime the authorizer is deployed to (components/tenant_authorizer.py: python3.14, arm64). Amazon
# Linux 2023 has glibc 2.34, so a manylinux wheel up to 2.34 runs there (PEP 600).
LAMBDA_PYTHON = (3, 14)
LAMBDA_ARCH = "aarch64"
LAMBDA_GLIBC = (2, 34)

# (file, `uv export` arguments, header) for every requirements file made from uv.lock for pip.
EXPORTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "plugin/requirements.txt",
        ("--no-dev",),
        "What the plugin's own virtualenv needs (Pulumi builds `venv` in this folder from this file): the components'\n"
        "imports, the runtime set of uv.lock.",
    ),
    (
        "examples/bring-your-own/requirements.txt",
        ("--no-dev",),
        "The gateway package's own imports (the runtime set of uv.lock); this program adds nothing else.",
    ),
    (
        "policy/requirements.txt",
        ("--no-dev", "--group", "policy"),
        "What the Pulumi CLI installs for this policy pack (the rules themselves use the standard library only):\n"
        "pulumi-policy and the runtime set, from uv.lock.",
    ),
)
_GENERATED = "Generated from uv.lock by `make lock` (tools/lock.py); do not edit, tests/test_lock.py checks it."


class LockError(Exception):
    """A lock cannot be made or does not match its declaration."""


def uv_command() -> str:
    return os.environ.get("UV") or str(ROOT / ".uv" / "bin" / "uv")


def run_uv(*args: str, capture: bool = False) -> str:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    done = subprocess.run([uv_command(), *args], cwd=ROOT, env=env, text=True, capture_output=capture, check=False)
    if done.returncode != 0:
        detail = (done.stderr or "").strip().splitlines()[-1:] if capture else []
        raise LockError(f"uv {' '.join(args)} failed ({done.returncode}) {' '.join(detail)}".strip())
    return done.stdout if capture else ""


def exported(args: tuple[str, ...], header: str) -> str:
    body = run_uv(
        "export", "--frozen", "--no-emit-project", "--no-header", "--no-annotate", "--format", "requirements-txt",
        *args, capture=True,
    )  # fmt: skip
    comments = "".join(f"# {line}\n" for line in [*header.splitlines(), _GENERATED])
    return comments + body


# ---- the authorizer's wheels -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockedWheel:
    name: str
    version: str
    filename: str
    url: str
    sha256: str


def locked_packages(lock_text: str | None = None) -> dict[str, dict]:
    """uv.lock's packages by normalised name."""
    data = tomllib.loads(lock_text if lock_text is not None else LOCK.read_text())
    return {normalise(p["name"]): p for p in data.get("package", [])}


def locked_versions(lock_text: str | None = None) -> dict[str, set[str]]:
    """Every version uv.lock pins of each package (more than one where the resolution forks by Python version)."""
    data = tomllib.loads(lock_text if lock_text is not None else LOCK.read_text())
    versions: dict[str, set[str]] = {}
    for package in data.get("package", []):
        versions.setdefault(normalise(package["name"]), set()).add(package["version"])
    return versions


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def group_members(packages: dict[str, dict], group: str) -> list[str]:
    """The group's direct requirements and everything they need, by normalised name (from uv.lock)."""
    project = next(p for p in packages.values() if p.get("source", {}).get("virtual") == ".")
    roots = [normalise(r["name"]) for r in project.get("dev-dependencies", {}).get(group, [])]
    seen: list[str] = []
    queue = list(roots)
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.append(name)
        for dep in packages[name].get("dependencies", []):
            # A dependency only for another platform or implementation (a marker Lambda's CPython on Linux fails).
            if re.search(
                r"sys_platform == '(win32|darwin)'|platform_python_implementation == 'PyPy'", dep.get("marker", "")
            ):
                continue
            queue.append(normalise(dep["name"]))
    return sorted(seen)


def _wheel_rank(filename: str) -> tuple[int, ...] | None:
    """How well a wheel fits Lambda's python3.14 on arm64 (higher is better); None when it does not run there."""
    parts = filename[: -len(".whl")].split("-")
    python_tags, abi_tags, platform_tags = parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")
    best_platform = -1
    for platform in platform_tags:
        if platform == "any":
            best_platform = max(best_platform, 0)
            continue
        many = re.fullmatch(r"manylinux_(\d+)_(\d+)_" + LAMBDA_ARCH, platform)
        if platform == f"manylinux2014_{LAMBDA_ARCH}":
            many = re.fullmatch(r"(\d+)_(\d+)", "2_17")
        if many and (int(many[1]), int(many[2])) <= LAMBDA_GLIBC:
            # The oldest glibc a release is built for (manylinux2014 where there is one): the widest-tested build.
            best_platform = max(best_platform, 10_000 - (int(many[1]) * 100 + int(many[2])))
    if best_platform < 0:
        return None
    major, minor = LAMBDA_PYTHON
    best_python = -1
    for python in python_tags:
        for abi in abi_tags:
            if python == f"cp{major}{minor}" and abi == f"cp{major}{minor}":
                best_python = max(best_python, 300)
            elif abi == "abi3" and (m := re.fullmatch(r"cp3(\d+)", python)) and int(m[1]) <= minor:
                # The newest stable-ABI build the runtime can load (cp311-abi3 before cp39-abi3).
                best_python = max(best_python, 200 + int(m[1]))
            elif python in ("py3", f"py{major}{minor}") and abi == "none":
                best_python = max(best_python, 100)
    if best_python < 0:
        return None
    return (best_python, best_platform)


def lambda_wheels(lock_text: str | None = None) -> list[LockedWheel]:
    """For each library of the `authorizer` group, the locked wheel that Lambda's python3.14 on arm64 installs."""
    packages = locked_packages(lock_text)
    chosen = []
    for name in group_members(packages, "authorizer"):
        package = packages[name]
        ranked = []
        for wheel in package.get("wheels", []):
            filename = wheel["url"].rsplit("/", 1)[-1]
            rank = _wheel_rank(filename)
            if rank is not None:
                ranked.append((rank, filename, wheel))
        if not ranked:
            raise LockError(f"uv.lock has no wheel of {name} {package['version']} for python3.14 on arm64")
        _, filename, wheel = max(ranked, key=lambda item: (item[0], item[1]))
        digest = wheel["hash"].removeprefix("sha256:")
        chosen.append(LockedWheel(name, package["version"], filename, wheel["url"], digest))
    return chosen


AUTHORIZER_HEADER = """\
# The tenant authorizer's libraries (end-user JWTs, docs "End-user authentication (auth)"): PyJWT for the
# JOSE rules, cryptography for RS256/ES256 signatures, with what they need. Built for the function as deployed:
# python3.14 on arm64 (Amazon Linux 2023, glibc 2.34). Each pin is the locked version (uv.lock, group
# `authorizer`, the same versions the tests import) and the sha256 of the one wheel of it that this runtime
# installs, as uv.lock records it. The wheels are committed in functions/vendor/tenant_authorizer/ and
# `pulumi up` unpacks them into the function's zip after checking each file against its hash
# (whitelabel/function_bundle.py), so nothing is downloaded at deploy or test time.
# Generated from uv.lock by `make lock` (tools/lock.py), which also downloads the wheels; do not edit.
"""


def authorizer_requirements(wheels: list[LockedWheel]) -> str:
    pins = "".join(f"{w.name}=={w.version} \\\n    --hash=sha256:{w.sha256}\n" for w in wheels)
    return AUTHORIZER_HEADER + pins


def fetch_wheels(wheels: list[LockedWheel], folder: Path = AUTHORIZER_WHEELS) -> None:
    """Put exactly the locked wheels in the vendor folder (download what is missing), each checked by its hash."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {w.filename for w in wheels}
    for stale in folder.glob("*.whl"):
        if stale.name not in wanted:
            stale.unlink()
    for wheel in wheels:
        target = folder / wheel.filename
        if not target.exists() or hashlib.sha256(target.read_bytes()).hexdigest() != wheel.sha256:
            print(f"downloading {wheel.filename}")
            with urllib.request.urlopen(wheel.url, timeout=120) as response:
                data = response.read()
            if hashlib.sha256(data).hexdigest() != wheel.sha256:
                raise LockError(f"{wheel.filename}: the download does not match uv.lock's sha256")
            target.write_bytes(data)


# ---- LocalStack's own set ----------------------------------------------------------------------------------------


def localstack_compile(output: Path, upgrade: bool) -> None:
    args = ["pip", "compile", "--quiet", "--generate-hashes", "--python-version", "3.11", "--no-header"]
    if upgrade:
        args.append("--upgrade")
    run_uv(*args, str(LOCALSTACK_IN), "-o", str(output))


# ---- the commands ------------------------------------------------------------------------------------------------


def derived_files() -> dict[Path, str]:
    """Every file made from uv.lock, as it should read now."""
    files = {ROOT / path: exported(args, header) for path, args, header in EXPORTS}
    files[AUTHORIZER_REQUIREMENTS] = authorizer_requirements(lambda_wheels())
    return files


def make(upgrade: bool) -> None:
    run_uv("lock", *(["--upgrade"] if upgrade else []))
    for path, text in derived_files().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    fetch_wheels(lambda_wheels())
    print(f"checked {AUTHORIZER_WHEELS.relative_to(ROOT)}/ against uv.lock")
    if LOCALSTACK_LOCK.exists() and not upgrade:
        # Keep what is pinned; resolve only what the declaration changed.
        localstack_compile(LOCALSTACK_LOCK, upgrade=False)
    else:
        localstack_compile(LOCALSTACK_LOCK, upgrade=True)
    print(f"wrote {LOCALSTACK_LOCK.relative_to(ROOT)}")


def check() -> list[str]:
    """What is stale: one line per file that does not match its declaration."""
    stale = []
    try:
        run_uv("lock", "--check", capture=True)
    except LockError as error:
        stale.append(f"uv.lock: does not satisfy pyproject.toml ({error}); run `make lock`")
        return stale
    for path, text in derived_files().items():
        if not path.exists() or path.read_text() != text:
            stale.append(f"{path.relative_to(ROOT)}: differs from what uv.lock gives; run `make lock`")
    for wheel in lambda_wheels():
        target = AUTHORIZER_WHEELS / wheel.filename
        if not target.exists() or hashlib.sha256(target.read_bytes()).hexdigest() != wheel.sha256:
            stale.append(f"{target.relative_to(ROOT)}: missing or not the locked file; run `make lock`")
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "localstack.txt"
        fresh.write_text(LOCALSTACK_LOCK.read_text())
        localstack_compile(fresh, upgrade=False)
        if fresh.read_text() != LOCALSTACK_LOCK.read_text():
            stale.append(f"{LOCALSTACK_LOCK.name}: does not satisfy {LOCALSTACK_IN.name}; run `make lock`")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.lock", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when a lock is stale against its declaration")
    parser.add_argument("--no-upgrade", action="store_true", help="re-lock without taking newer releases")
    options = parser.parse_args(argv)
    try:
        if options.check:
            stale = check()
            for line in stale:
                print(f"stale: {line}", file=sys.stderr)
            if not stale:
                print("every lock matches its declaration")
            return 1 if stale else 0
        make(upgrade=not options.no_upgrade)
    except LockError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
