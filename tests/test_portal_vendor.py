"""The portal's renderer is the pinned npm release byte for byte (vendor/portal.lock.json), and what pages load."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).resolve().parents[1] / "vendor"
LOCK = VENDOR / "portal.lock.json"


def lock() -> dict[str, Any]:
    return json.loads(LOCK.read_text())


# What the committed renderer may weigh: the one script and its licence files. A bigger renderer (or a second
# script) is a choice to make on purpose (README "Developer portal per tenant").
COMMITTED_MAX_BYTES = 1_200_000


def test_every_vendored_file_matches_its_pinned_sha256() -> None:
    pinned = lock()
    assert pinned["package"] == "redoc" and pinned["version"] == "2.5.4"
    for path, entry in pinned["files"].items():
        digest = hashlib.sha256((VENDOR / path).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"vendor/{path} is not the file npm pack redoc@{pinned['version']} gave"


def test_the_vendor_folder_holds_only_pinned_files_and_stays_small() -> None:
    pinned = set(lock()["files"]) | {LOCK.name}
    present = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()}
    assert present == pinned, "a file under vendor/ without a pin, or a pin without its file"
    assert sum((VENDOR / p).stat().st_size for p in lock()["files"]) <= COMMITTED_MAX_BYTES
