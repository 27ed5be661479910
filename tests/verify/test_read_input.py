"""Reading a user's file (``_internal.files.read_input``): what the size check reads,
a file larger than the cap, and one that grows between the size check and the read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from teecert._internal import files
from teecert.errors import MalformedInput


def test_the_file_is_read_whole(tmp_path: Path) -> None:
    p = tmp_path / "r.json"
    p.write_bytes(b"x" * 300_000)
    assert files.read_input(p, "report") == b"x" * 300_000


def test_a_file_larger_than_the_cap_is_refused_naming_it(tmp_path: Path) -> None:
    p = tmp_path / "big.json"
    p.write_bytes(b"x" * 1001)
    with pytest.raises(MalformedInput, match=r"big\.json: 1001 bytes, more than the 1000 a report may have"):
        files.read_input(p, "report", limit=1000)
    assert files.read_input(p, "report", limit=1001) == b"x" * 1001


def test_a_file_that_grew_after_its_size_was_taken_is_read_whole_or_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The read asks for the size stat gave and one byte more; a file that grew
    meanwhile is read to its end, up to the cap, never cut at the old size."""
    p = tmp_path / "r.json"
    p.write_bytes(b"y" * 5000)
    real_stat = os.stat

    def stale(path: object, *a: object, **k: object) -> os.stat_result:
        st = real_stat(path)  # type: ignore[arg-type]
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, 100,
                               int(st.st_atime), int(st.st_mtime), int(st.st_ctime)))

    monkeypatch.setattr(files.os, "stat", stale)
    assert files.read_input(p, "report") == b"y" * 5000
    with pytest.raises(MalformedInput, match=r"r\.json: more than the 4999 bytes a report may have"):
        files.read_input(p, "report", limit=4999)


def test_the_shipped_data_is_found_where_importlib_resources_finds_it() -> None:
    # package_dir stands in for importlib.resources (slow to import) on packages on
    # disk; both must name the same folders, in a checkout and installed alike.
    from importlib import resources

    for package, member in [("teecert", "schemas"), ("teecert", "profiles"), ("teecert.vector_data", "manifest.json"),
                            ("teecert.attestation", "roots"), ("teecert.suites", "conftest.py")]:
        got = files.package_dir(package)
        assert got == Path(str(resources.files(package)))
        assert (got / member).exists()
    with pytest.raises(ModuleNotFoundError):
        files.package_dir("teecert.no_such_package")
