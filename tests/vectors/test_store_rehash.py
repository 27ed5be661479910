"""A vector file is hashed again every time it is read, not only when the set is opened.

``load_set`` checks every file against the manifest; a run reads the explicit files
and the stream files later, and a file changed in between (by a person, another
process, a bad disk) must be refused then, naming the file, instead of feeding
vectors nobody committed to into the run.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

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
    with pytest.raises(MalformedInput, match=rf"{OP}\.json: changed since the manifest was checked"):
        vset.explicit(OP)
    with pytest.raises(MalformedInput, match="changed since the manifest was checked"):
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
    with pytest.raises(MalformedInput, match="changed since the manifest was checked"):
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
    with pytest.raises(MalformedInput, match=rf"{name}: changed since the manifest was checked"):
        vset.streams()
    with pytest.raises(MalformedInput, match="changed since the manifest was checked"):
        store.load_streams(vset)


def test_a_file_removed_from_the_recorded_list_is_not_read(vset: store.VectorSet) -> None:
    # The digest compared with is the one recorded when the manifest was checked: a
    # file the set does not list has none, and is refused whatever it holds.
    fname = f"explicit/{OP}.json"
    partial = store.VectorSet(vset.name, vset.version, vset.digest, vset.path,
                              {k: v for k, v in vset.files.items() if k != store.STREAMS})
    partial.files[fname] = "0" * 64
    with pytest.raises(MalformedInput, match="changed since the manifest was checked"):
        partial.explicit(OP)
    assert store._read_listed(vset, fname)["op"] == OP
    with pytest.raises(MalformedInput, match="changed since the manifest was checked"):
        store._read_listed(partial, store.STREAMS)
