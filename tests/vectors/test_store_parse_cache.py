"""Explicit files are parsed once per content; the cache never stands in for the file.

A run reads every explicit file twice (the preflight, then the suites).  The parse of
a file's exact bytes is kept in the cache folder; these tests pin what may and may
not come from there: the same vectors as a parse, the file hashed on every read
regardless, no entry for a file that did not parse, and an unreadable or foreign
entry ignored.
"""

from __future__ import annotations

import hashlib
import marshal
import shutil
from pathlib import Path

import pytest

from teecert._internal import canonical
from teecert.certify import preflight
from teecert.errors import MalformedInput
from teecert.vectors import store

OP = "f64.add.rne"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "teecert" / "explicit"


@pytest.fixture
def vset(tmp_path: Path) -> store.VectorSet:
    root = tmp_path / "v"
    shutil.copytree(store.default_path(), root, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return store.load_set(root)


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each JSON parse of a vector file from now on."""
    seen: list[str] = []
    real = canonical.loads

    def counting(data: bytes, where: str) -> object:
        seen.append(where)
        return real(data, where)

    monkeypatch.setattr(canonical, "loads", counting)
    return seen


def test_a_second_read_comes_from_the_cache_and_equals_the_parse(
        vset: store.VectorSet, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = _parses(monkeypatch)
    first = vset.explicit(OP)
    assert len(parses) == 1 and len(list(cache.glob(f"{OP}-*.marshal"))) == 1
    again = vset.explicit(OP)
    assert len(parses) == 1  # no second parse
    assert again == first and len(first) > 100
    assert [type(v.inputs) for v in again] == [tuple] * len(again)


def test_a_cache_hit_still_hashes_the_file(vset: store.VectorSet, cache: Path) -> None:
    vecs = vset.explicit(OP)
    path = vset.path / "explicit" / f"{OP}.json"
    want = f'"expected":"{vecs[0].expected:016x}"'.encode()
    path.write_bytes(path.read_bytes().replace(want, f'"expected":"{vecs[0].expected ^ 1:016x}"'.encode(), 1))
    with pytest.raises(MalformedInput, match="does not match the manifest"):
        vset.explicit(OP)


def test_other_bytes_under_another_manifest_are_parsed_not_taken_from_the_cache(
        vset: store.VectorSet, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vecs = vset.explicit(OP)
    path = vset.path / "explicit" / f"{OP}.json"
    text = path.read_bytes()
    want = f'"expected":"{vecs[0].expected:016x}"'.encode()
    path.write_bytes(text.replace(want, f'"expected":"{vecs[0].expected ^ 1:016x}"'.encode(), 1))
    # the same set, with the manifest's digest of the edited file
    files = dict(vset.files)
    files[f"explicit/{OP}.json"] = hashlib.sha256(path.read_bytes()).hexdigest()
    edited = store.VectorSet(vset.name, vset.version, vset.digest, vset.path, files)
    parses = _parses(monkeypatch)
    got = edited.explicit(OP)
    assert len(parses) == 1
    assert got[0].expected == vecs[0].expected ^ 1 and got[1:] == vecs[1:]
    assert len(list(cache.glob(f"{OP}-*.marshal"))) == 2


@pytest.mark.parametrize("entry", [b"", b"\x00garbage", marshal.dumps(("another signature", [])),
                                   marshal.dumps(("x", "not rows")), marshal.dumps(42)])
def test_an_unreadable_or_foreign_entry_is_ignored(
        vset: store.VectorSet, cache: Path, monkeypatch: pytest.MonkeyPatch, entry: bytes) -> None:
    first = vset.explicit(OP)
    (path,) = cache.glob(f"{OP}-*.marshal")
    path.write_bytes(entry)
    parses = _parses(monkeypatch)
    assert vset.explicit(OP) == first
    assert len(parses) == 1  # parsed again, and the entry made again
    assert vset.explicit(OP) == first and len(parses) == 1


def test_an_entry_whose_rows_are_not_vectors_is_ignored(
        vset: store.VectorSet, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = vset.explicit(OP)
    (path,) = cache.glob(f"{OP}-*.marshal")
    sig, _rows = marshal.loads(path.read_bytes())
    path.write_bytes(marshal.dumps((sig, [(1, 2)])))  # the right signature, rows of the wrong shape
    parses = _parses(monkeypatch)
    assert vset.explicit(OP) == first and len(parses) == 1


def test_a_malformed_file_gets_no_entry_and_the_preflight_still_refuses_it(
        tmp_path: Path, cache: Path) -> None:
    root = tmp_path / "bad"
    shutil.copytree(store.default_path(), root, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    path = root / "explicit" / f"{OP}.json"
    path.write_bytes(path.read_bytes().replace(b'"tcId":', b'"tcid":', 1))
    # re-pin the manifest so that only the parse can refuse it
    files = dict(store.load_set(store.default_path()).files)
    files[f"explicit/{OP}.json"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (root / store.MANIFEST).write_text(store.manifest_text(files), encoding="utf-8")
    vs = store.load_set(root)
    for _ in range(2):
        with pytest.raises(MalformedInput, match=r"f64\.add\.rne\.json: testGroups\[0\]\.tests\[0\]: "
                                                 r"missing field 'tcId'"):
            preflight.check_vector_contents(vs)
        assert not list(cache.glob(f"{OP}-*.marshal"))
        assert not store.explicit_parsed(vs, OP)


def test_the_preflight_parses_only_what_was_not_parsed_before(
        vset: store.VectorSet, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = _parses(monkeypatch)
    preflight.check_vector_contents(vset)
    n_explicit = len(vset.explicit_ops())
    assert sum("explicit" in w for w in parses) == n_explicit
    assert all(store.explicit_parsed(vset, op) for op in vset.explicit_ops())
    parses.clear()
    preflight.check_vector_contents(vset)
    assert not [w for w in parses if "explicit" in w]


def test_only_the_newest_entries_of_an_op_are_kept(
        vset: store.VectorSet, cache: Path) -> None:
    path = vset.path / "explicit" / f"{OP}.json"
    text = path.read_bytes()
    for k in range(store.KEEP_PARSED + 3):
        edited = text.replace(b'"comment":"', f'"comment":"{k}'.encode(), 1)
        path.write_bytes(edited)
        files = {**vset.files, f"explicit/{OP}.json": hashlib.sha256(edited).hexdigest()}
        store.VectorSet(vset.name, vset.version, vset.digest, vset.path, files).explicit(OP)
    assert len(list(cache.glob(f"{OP}-*.marshal"))) == store.KEEP_PARSED
