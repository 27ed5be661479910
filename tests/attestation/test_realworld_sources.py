"""The real-world samples are the files their SOURCES.md describes: every file listed
with its SHA-256 and size, and no sample that is not listed."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from conftest import REALWORLD

pytestmark = pytest.mark.skipif(not REALWORLD.is_dir(), reason=f"real-world attestation samples absent ({REALWORLD})")

#: a table row: | `dir/file` ... | SHA-256 | size |
_ROW = re.compile(r"^\| `([a-z]+/[^`]+)`[^|]*\|[^|]*\| ([0-9a-f]{64}) \| (\d+) \|$")


def _listed() -> dict[str, tuple[str, int]]:
    rows = {}
    for line in (REALWORLD / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line.strip())
        if m:
            rows[m.group(1)] = (m.group(2), int(m.group(3)))
    return rows


def test_every_sample_is_listed_with_its_digest_and_size() -> None:
    listed = _listed()
    present = {p.relative_to(REALWORLD).as_posix() for p in REALWORLD.rglob("*")
               if p.is_file() and p.name != "SOURCES.md"}
    assert present == set(listed)
    for rel, (digest, size) in listed.items():
        data = (REALWORLD / rel).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (digest, size), rel


def test_the_copy_in_the_repository_carries_the_licences() -> None:
    text = (Path(__file__).resolve().parents[1] / "data" / "realworld" / "attestation" / "SOURCES.md").read_text(
        encoding="utf-8")
    assert "## Licences" in text and "Apache License 2.0" in text and "MIT License" in text
