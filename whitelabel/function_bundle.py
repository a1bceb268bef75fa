"""The tenant authorizer's third-party libraries: pinned wheels, checked against their hashes, unpacked for its zip.

Pure Python (no Pulumi import). `functions/tenant_authorizer/requirements.txt` pins each library with the sha256
of the one wheel built for the function's runtime and architecture; the wheels themselves are committed in
`functions/vendor/tenant_authorizer/`. The component calls `unpacked_files` at program time, so every
`pulumi up` ships them and a missing or altered wheel stops the program before any resource is made.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "functions" / "tenant_authorizer" / "requirements.txt"
WHEELS = ROOT / "functions" / "vendor" / "tenant_authorizer"
# Unpacked once per lock content (the digest names the folder), outside the source tree (`build/` is ignored).
BUILD = ROOT / "build" / "tenant_authorizer"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$")
_HASH = re.compile(r"^--hash=sha256:([0-9a-f]{64})$")


class BundleError(Exception):
    """The pinned libraries cannot be shipped as locked (a wheel missing, altered or ambiguous)."""


@dataclass(frozen=True)
class Pin:
    """One locked library: its name and version, and the sha256 of the wheel that ships it."""

    name: str
    version: str
    sha256: str

    @property
    def wheel_prefix(self) -> str:
        # Wheel file names normalise the project name to lowercase with underscores (PEP 427, PEP 503).
        return f"{re.sub(r'[-_.]+', '_', self.name).lower()}-{self.version}-"


def read_pins(text: str) -> list[Pin]:
    """The `name==version --hash=sha256:<hex>` entries of a pip requirements file (one hash per pin)."""
    logical = re.sub(r"\\\n", " ", text)
    pins = []
    for line in logical.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        pin = _PIN.match(words[0])
        hashes = [m[1] for m in (_HASH.match(w) for w in words[1:]) if m]
        if pin is None or len(hashes) != 1 or len(words) != 2:
            raise BundleError(f"{line.strip()[:80]!r}: expected name==version --hash=sha256:<hex>, one wheel each")
        pins.append(Pin(pin[1], pin[2], hashes[0]))
    if not pins:
        raise BundleError("the requirements file pins nothing")
    return pins


# sha256 of a file already read in this process, by (path, size, mtime in ns, inode): a changed file (its size,
# its modification time or, replaced, its inode) is read again. A `pulumi up` reads each wheel once anyway; the
# offline runs (tests, plan, benchmark) run the program many times in one process.
_HASHED: dict[tuple[str, int, int, int], str] = {}
_LISTED: dict[tuple[str, int, int], dict[str, Path]] = {}


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        stat = os.fstat(stream.fileno())
        key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
        known = _HASHED.get(key)
        if known is None:
            digest = hashlib.sha256()
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
            known = _HASHED[key] = digest.hexdigest()
    return known


def locked_wheels(requirements: Path = REQUIREMENTS, wheels: Path = WHEELS) -> list[Path]:
    """The wheel file of every pin, each checked against its hash; BundleError names the first that is not."""
    return [wheel for wheel, _ in _verified_wheels(requirements, wheels)]


def _verified_wheels(requirements: Path, wheels: Path) -> list[tuple[Path, str]]:
    """(wheel file, its sha256) of every pin, each hash read from the file and equal to the locked one."""
    found = []
    present = sorted(p for p in wheels.glob("*.whl")) if wheels.is_dir() else []
    for pin in read_pins(requirements.read_text()):
        matches = [p for p in present if p.name.lower().startswith(pin.wheel_prefix)]
        if len(matches) != 1:
            raise BundleError(f"{pin.name}=={pin.version}: expected one wheel in {wheels}, found {len(matches)}")
        actual = sha256_of(matches[0])
        if actual != pin.sha256:
            raise BundleError(f"{matches[0].name}: sha256 {actual} is not the locked {pin.sha256}")
        found.append((matches[0], actual))
    return found


def _unpack(wheels: list[Path], target: Path) -> None:
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.infolist():
                name = member.filename
                # A wheel's `<name>.data/` holds scripts and headers for an install, not importable code.
                if member.is_dir() or name.split("/", 1)[0].endswith(".data"):
                    continue
                if name.startswith("/") or ".." in name.split("/"):
                    raise BundleError(f"{wheel.name}: refusing the member path {name!r}")
                path = target / name
                path.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, path.open("wb") as sink:
                    shutil.copyfileobj(source, sink)


def unpacked_files(requirements: Path = REQUIREMENTS, wheels: Path = WHEELS, build: Path = BUILD) -> dict[str, Path]:
    """Zip path → unpacked file for every file of every locked wheel (site-packages layout, the zip's root).

    The wheels are verified on every call (each file's hash read once per process while it stays the same file,
    size and modification time: `sha256_of`); the unpacked folder is reused when its name (the digest of the
    verified hashes) already exists, and is made in a temporary folder and renamed into place, so two
    programs running at once never see half of it.
    """
    verified = _verified_wheels(requirements, wheels)
    located = [wheel for wheel, _ in verified]
    # Each wheel is read and hashed once per call: the check above, whose hashes also name the folder.
    digest = hashlib.sha256("".join(sha256 for _, sha256 in verified).encode()).hexdigest()[:16]
    target = build / digest
    if not target.is_dir():
        build.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=build))
        try:
            _unpack(located, staging)
            os.replace(staging, target)
        except OSError:
            if not target.is_dir():  # another program renamed its copy first: theirs is as good
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    # The folder is only ever made whole and renamed into place, never changed after: its listing is kept per
    # process, by the folder's inode and modification time (a folder made again is listed again).
    stat = target.stat()
    key = (str(target), stat.st_ino, stat.st_mtime_ns)
    listed = _LISTED.get(key)
    if listed is None:
        listed = _LISTED[key] = {
            p.relative_to(target).as_posix(): p
            for p in sorted(target.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }
    return dict(listed)
