"""A vector file is hashed again every time it is read, not only when the set is opened.

``load_set`` checks every file against the manifest; a run reads the explicit files
and the stream files later, and a file changed in between (by a person, another
process, a bad disk) must be refused then, naming the file, instead of feeding
vectors nobody committed to into the run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from teecert.errors import MalformedInput
from teecert.vectors import store

OP = "f64.add.rne"


@pytest.fixture
def vset(tmp_path: Path) -> store.VectorSet:
    root = tmp_path / "v"
    shutil.copytree(store.default_path(), root, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return store.load_set(root)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_loaded_set_records_the_manifest_digests(vset: store.VectorSet) -> None:
    for name in (f"explicit/{OP}.json", store.STREAMS, store.LIBM_STREAMS, store.DATA_STREAMS):
        assert vset.files[name] == _sha256(vset.path / name)


def test_an_explicit_file_changed_after_loading_is_refused_on_the_next_read(vset: store.VectorSet) -> None:
    path = vset.path / "explicit" / f"{OP}.json"
    first = vset.explicit(OP)
    assert first and vset.explicit(OP) == first  # reading twice is fine
    original = path.read_bytes()
    # A change that keeps the file well formed: only the hash can tell.
    edited = original.replace(b'"comment":"', b'"comment":"x', 1)
    assert edited != original
    path.write_bytes(edited)
    with pytest.raises(MalformedInput, match=rf"{OP}\.json: SHA-256 .* does not match the manifest"):
        vset.explicit(OP)
    with pytest.raises(MalformedInput, match="does not match the manifest"):
        store.load_explicit(vset, OP)
    path.write_bytes(original)  # back as committed: readable again
    assert vset.explicit(OP) == first


def test_a_golden_value_changed_after_loading_is_refused(vset: store.VectorSet) -> None:
    path = vset.path / "explicit" / f"{OP}.json"
    vecs = vset.explicit(OP)
    want = f'"expected":"{vecs[0].expected:016x}"'.encode()
    wrong = f'"expected":"{vecs[0].expected ^ 1:016x}"'.encode()
    text = path.read_bytes()
    assert want in text
    path.write_bytes(text.replace(want, wrong, 1))
    with pytest.raises(MalformedInput, match="does not match the manifest"):
        vset.explicit(OP)


@pytest.mark.parametrize("name", [store.STREAMS, store.LIBM_STREAMS, store.DATA_STREAMS])
def test_a_stream_file_changed_after_loading_is_refused(vset: store.VectorSet, name: str) -> None:
    assert vset.streams()
    path = vset.path / name
    text = path.read_bytes()
    # The same JSON with one more space: well formed, and the same streams, but not the
    # bytes the manifest committed to.
    path.write_bytes(text.replace(b'{"op"', b'{ "op"', 1))
    assert path.read_bytes() != text
    with pytest.raises(MalformedInput, match=rf"{name}: SHA-256 .* does not match the manifest"):
        vset.streams()
    with pytest.raises(MalformedInput, match="does not match the manifest"):
        store.load_streams(vset)


def test_a_file_removed_from_the_recorded_list_is_not_read(vset: store.VectorSet) -> None:
    # The digest compared with is the one recorded when the manifest was checked: a
    # file the set does not list has none, and is refused whatever it holds.
    fname = f"explicit/{OP}.json"
    partial = store.VectorSet(vset.name, vset.version, vset.digest, vset.path,
                              {k: v for k, v in vset.files.items() if k != store.STREAMS})
    partial.files[fname] = "0" * 64
    with pytest.raises(MalformedInput, match="does not match the manifest"):
        partial.explicit(OP)
    assert store._read_listed(vset, fname)["op"] == OP
    with pytest.raises(MalformedInput, match="does not match the manifest"):
        store._read_listed(partial, store.STREAMS)


# -- opening by the manifest alone (what ``teecert verify`` does) ----------------------


def test_opening_by_the_manifest_alone_checks_each_file_when_it_is_read(vset: store.VectorSet) -> None:
    explicit = vset.path / "explicit" / f"{OP}.json"
    explicit.write_bytes(explicit.read_bytes().replace(b'"comment":"', b'"comment":"x', 1))
    with pytest.raises(MalformedInput, match=rf"{OP}\.json: SHA-256 .* does not match the manifest"):
        store.load_set(vset.path)
    lazy = store.load_set(vset.path, check_files=False)
    assert lazy.digest == vset.digest and lazy.files == vset.files
    assert lazy.stream_ops() == sorted(vset.streams())  # the stream files are intact
    with pytest.raises(MalformedInput, match=rf"{OP}\.json: SHA-256 .* does not match the manifest"):
        lazy.explicit(OP)
    streams = vset.path / store.DATA_STREAMS
    streams.write_bytes(streams.read_bytes().replace(b'{"op"', b'{ "op"', 1))
    with pytest.raises(MalformedInput, match=rf"{store.DATA_STREAMS}: SHA-256 .* does not match the manifest"):
        lazy.stream_ops()


def test_opening_by_the_manifest_alone_still_checks_the_manifest(vset: store.VectorSet) -> None:
    manifest = vset.path / store.MANIFEST
    doc = json.loads(manifest.read_text())
    doc["files"][f"explicit/{OP}.json"] = "0" * 64  # listed, but not what the digest covers
    manifest.write_text(json.dumps(doc))
    with pytest.raises(MalformedInput, match="field 'digest' does not match the files listed"):
        store.load_set(vset.path, check_files=False)


def _rewrite_streams(vset: store.VectorSet, name: str, edit: Callable[[dict[str, Any]], None]) -> store.VectorSet:
    """``vset`` with the stream file ``name`` edited and the manifest signed off on it:
    a set whose files match their manifest, and whose content is wrong."""
    path = vset.path / name
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    files = dict(vset.files, **{name: _sha256(path)})
    manifest = json.loads((vset.path / store.MANIFEST).read_text())
    manifest.update(files=files, digest=store.set_digest(vset.name, vset.version, files))
    (vset.path / store.MANIFEST).write_text(json.dumps(manifest))
    return store.load_set(vset.path, check_files=False)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["streams"].append(d["streams"][0]), "a second stream for op"),
    (lambda d: d["streams"][0].update(op="f64.add.rne"), "is an op of kind 'float', not one of this file's"),
    (lambda d: d["streams"][0].update(op="no.such.op"), "no.such.op"),
    (lambda d: d.update(generator="teecert-mix-v1"), "field 'generator' must be 'teecert-data-v1'"),
    (lambda d: d.update(chunk_size=0), "field 'chunk_size' must be positive"),
], ids=["repeated op", "wrong kind", "unknown op", "generator", "chunk size"])
def test_the_stream_ops_are_read_as_strictly_as_the_streams(vset: store.VectorSet, edit: Callable[[dict[str, Any]], None],
                                                             message: str) -> None:
    bad = _rewrite_streams(vset, store.DATA_STREAMS, edit)
    with pytest.raises(MalformedInput, match=message):
        bad.stream_ops()
    with pytest.raises(MalformedInput, match=message):
        bad.streams()


def test_the_stream_ops_do_not_check_the_leaves(vset: store.VectorSet) -> None:
    # Which tests a run has depends on the ops alone; the leaves are checked by whoever
    # reads them (a run, the challenge check), and a wrong root is refused there.
    def wrong_root(d: dict[str, Any]) -> None:
        d["streams"][0]["root"] = "00" * 32

    want = vset.stream_ops()
    bad = _rewrite_streams(vset, store.DATA_STREAMS, wrong_root)
    assert bad.stream_ops() == want
    with pytest.raises(MalformedInput, match="field 'root' is not the Merkle root of its leaves"):
        bad.streams()
