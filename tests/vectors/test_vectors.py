"""The shipped vector set: its shape, its integrity, and that it is reproducible.

Golden values here come from outside the code under test: DESIGN.md's contraction
vector, and the machine's own binary64 arithmetic for round-to-nearest add, mul and
div (Python floats are IEEE binary64 on every platform teecert supports).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

from teecert import ops
from teecert.errors import MalformedInput
from teecert.profile import load_profile
from teecert.vectors import generate as vector_gen
from teecert.vectors import merkle
from teecert.vectors import store as vectors
from teecert.vectors.streams import data as data_streams


@pytest.fixture(scope="module")
def shipped() -> vectors.VectorSet:
    return vectors.load_set()


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "v"
    shutil.copytree(vectors.default_path(), dst, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return dst


def _redigest(root: Path) -> None:
    """Rewrite the manifest so it matches the files as they are now."""
    doc = json.loads((root / "manifest.json").read_text())
    files = {name: hashlib.sha256((root / name).read_bytes()).hexdigest() for name in doc["files"]}
    (root / "manifest.json").write_text(vectors.manifest_text(files))


def test_shape_every_op_has_explicit_vectors_and_a_million_vector_stream(shipped: vectors.VectorSet) -> None:
    assert shipped.name == "teecert-core"
    assert shipped.explicit_ops() == sorted(ops.CATALOGUE)
    streams = shipped.streams()
    assert sorted(streams) == sorted(ops.CATALOGUE)
    for st in streams.values():
        # float ops: a million vectors; libm functions: 2 chunks (f64) or 1 (f32);
        # data ops: teecert-data-v1's counts, in its chunks
        if st.op.kind in ops.DATA_KINDS:
            assert (st.count, st.chunk_size) == (data_streams.count_of(st.op), data_streams.CHUNK_SIZE)
            assert st.count >= 1 << 20
        else:
            want = (vectors.LIBM_CHUNKS[st.op.fmt.name] * vectors.CHUNK_SIZE if st.op.kind == "libm"
                    else 16 * vectors.CHUNK_SIZE)
            assert st.count == want and st.chunk_size == vectors.CHUNK_SIZE
        assert merkle.root(st.leaves) == st.root
    assert len([o for o in streams if ops.get(o).kind in ops.DATA_KINDS]) == 67
    assert {v.group for v in shipped.explicit("hash.keccak256")} == {"known", "lengths", "garbage_tail"}
    assert {v.group for v in shipped.explicit("u64.sort_stable")} >= {"stability", "few_keys"}
    assert {v.group for v in shipped.explicit("f64.sin.rne")} == {"special", "hard", "domain"}
    groups = {v.group for v in shipped.explicit("f64.fma.rne")}
    assert {"specials", "nan", "subnormal", "halfway", "range", "cancellation", "contraction", "random"} <= groups


def test_profiles_pin_the_shipped_set(shipped: vectors.VectorSet) -> None:
    for name in ("development", "strict"):
        p = load_profile(name)
        assert (p.vector_set_name, p.vector_digest) == (shipped.name, shipped.digest)


def test_contraction_vector_has_the_design_values(shipped: vectors.VectorSet) -> None:
    vec = (0x3FF0000000000001, 0x3FEFFFFFFFFFFFFF, 0xBFF0000000000000)
    unfused = {v.inputs: v.expected for v in shipped.explicit("f64.mul_add_unfused.rne")}
    fused = {v.inputs: v.expected for v in shipped.explicit("f64.fma.rne")}
    assert unfused[vec] == 0
    assert fused.get(vec, 0x3C9FFFFFFFFFFFFE) == 0x3C9FFFFFFFFFFFFE


def _f(bits: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


def _bits(x: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", x))[0])


@pytest.mark.parametrize(("op_id", "fn"), [
    ("f64.add.rne", lambda a, b: a + b),
    ("f64.mul.rne", lambda a, b: a * b),
    ("f64.div.rne", lambda a, b: a / b),
])
def test_round_to_nearest_goldens_match_the_hardware(shipped: vectors.VectorSet, op_id: str, fn) -> None:  # type: ignore[no-untyped-def]
    fmt = ops.F64
    checked = 0
    for v in shipped.explicit(op_id):
        a, b = (_f(x) for x in v.inputs)
        try:
            r = fn(a, b)
        except ZeroDivisionError:
            continue
        want = fmt.canonical_nan if r != r else _bits(r)
        assert v.expected == want, (v.tc_id, v.comment)
        checked += 1
    assert checked > 500


def test_generate_reproduces_files_byte_for_byte(tmp_path: Path, shipped: vectors.VectorSet) -> None:
    chosen = ["f32.sqrt.rtz", "f64.mul_add_unfused.rne", "f64.div.rup"]
    for op_id in chosen:
        text = vector_gen.explicit_file(ops.get(op_id)).encode()
        assert text == (shipped.path / "explicit" / f"{op_id}.json").read_bytes(), op_id
    streams = shipped.streams()
    rng = random.Random(5)
    for op_id in chosen:
        st = streams[op_id]
        i = rng.randrange(st.chunks)
        start, n = st.chunk_span(i)
        assert vector_gen.golden_chunk(op_id, st.seed, start, n) == st.leaves[i], (op_id, i)


def test_check_recomputes_a_sample(shipped: vectors.VectorSet) -> None:
    res = vector_gen.check(explicit_sample=300, stream_chunks=1, seed=3)
    assert res["digest"] == shipped.digest and res["explicit_checked"] == 300


def test_edited_file_is_refused_naming_it(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    f = root / "explicit" / "f64.add.rne.json"
    f.write_bytes(f.read_bytes().replace(b'"expected":"3ff0000000000000"', b'"expected":"3ff0000000000001"', 1))
    with pytest.raises(MalformedInput, match=r"f64\.add\.rne\.json: SHA-256"):
        vectors.load_set(root)


def test_wrong_golden_with_a_consistent_manifest_is_caught_by_check(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    f = root / "explicit" / "f32.add.rne.json"
    lines = f.read_text().splitlines(keepends=True)
    i = next(k for k, line in enumerate(lines) if '"expected":"3f800000"' in line)
    lines[i] = lines[i].replace('"expected":"3f800000"', '"expected":"3f800001"')
    f.write_text("".join(lines))
    _redigest(root)
    vs = vectors.load_set(root)  # authentic to its own manifest...
    assert vs.digest != vectors.load_set().digest  # ...but not the pinned set
    with pytest.raises(MalformedInput, match=r"f32\.add\.rne\.json: tcId \d+ expects 3f800001"):
        vector_gen.check(root, explicit_sample=10**6, stream_chunks=0, seed=1)


@pytest.mark.parametrize(("old", "new", "message"), [
    ('"tcId":2,', '"tcId":1,', "duplicate tcId"),
    ('"inputs":["0000000000000000","8000000000000000"]', '"inputs":["0000000000000000"]', "takes 2"),
    ('"expected":"7ff0000000000000"', '"expected":"7FF0000000000000"', "lower-case hex"),
    ('"numberOfTests":', '"numberOfTests":1,"x":', "numberOfTests"),
    ('"op":"f64.add.rne"', '"op":"f64.add.rne","op":"f64.add.rne"', "duplicate key"),
])
def test_malformed_explicit_file_names_the_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    root = _copy(tmp_path)
    f = root / "explicit" / "f64.add.rne.json"
    text = f.read_text()
    assert old in text
    f.write_text(text.replace(old, new, 1))
    _redigest(root)
    vs = vectors.load_set(root)
    with pytest.raises(MalformedInput, match=message) as e:
        vs.explicit("f64.add.rne")
    assert "f64.add.rne.json" in str(e.value)


def test_stream_root_must_match_its_leaves(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    f = root / "streams.json"
    doc = f.read_text()
    first_root = json.loads(doc)["streams"][0]["root"]
    f.write_text(doc.replace(first_root, "0" * 64, 1))
    _redigest(root)
    with pytest.raises(MalformedInput, match="not the Merkle root"):
        vectors.load_set(root).streams()


@pytest.mark.parametrize("count", ["more", "fewer", "zero"])
def test_stream_leaves_must_cover_its_count_exactly(tmp_path: Path, count: str) -> None:
    root = _copy(tmp_path)
    f = root / "streams.json"
    doc = json.loads(f.read_text())
    st = doc["streams"][0]
    n, chunk = st["count"], doc["chunk_size"]
    st["count"] = {"more": n + chunk, "fewer": n - chunk, "zero": 0}[count]
    f.write_text(vectors.streams_text(doc["streams"], doc["generator"], chunk))
    _redigest(root)
    with pytest.raises(MalformedInput, match=r"streams\[0\]: \d+ leaves do not cover"):
        vectors.load_set(root).streams()


def test_generate_reproduces_data_op_files_byte_for_byte(shipped: vectors.VectorSet) -> None:
    chosen = ["i32.div_s", "f64.from_dec", "u64.sort_stable", "hash.keccak256"]
    for op_id in chosen:
        text = vector_gen.explicit_file(ops.get(op_id)).encode()
        assert text == (shipped.path / "explicit" / f"{op_id}.json").read_bytes(), op_id
    streams = shipped.streams()
    for op_id in chosen:
        st = streams[op_id]
        start, n = st.chunk_span(st.chunks - 1)
        assert vector_gen.golden_chunk(op_id, st.seed, start, n) == st.leaves[-1], op_id


def _edit_first_test(root: Path, op_id: str, edit: Any) -> None:
    f = root / "explicit" / f"{op_id}.json"
    lines = f.read_text().splitlines(keepends=True)
    i = next(k for k, line in enumerate(lines) if line.startswith('{"tcId":'))
    test = json.loads(lines[i].rstrip().rstrip(","))
    edit(test)
    lines[i] = json.dumps(test, separators=(",", ":")) + ("," if lines[i].rstrip().endswith(",") else "") + "\n"
    f.write_text("".join(lines))
    _redigest(root)


@pytest.mark.parametrize(("op_id", "edit", "message"), [
    # a byte-string slot one byte short
    ("hash.sha256", lambda t: t["inputs"].__setitem__(1, t["inputs"][1][:-2]),
     r"inputs\[1\]: expected 1024 hex digits"),
    # an i32 operand written as 64 bits
    ("i32.add", lambda t: t["inputs"].__setitem__(0, "00000000" + t["inputs"][0]),
     r"inputs\[0\]: expected 8 hex digits"),
    # the digest of the wrong size
    ("hash.sha512", lambda t: t.__setitem__("expected", t["expected"][:64]), r"expected: expected 128 hex digits"),
    # a shift without its count
    ("i64.shl", lambda t: t["inputs"].pop(), "takes 2"),
])
def test_malformed_data_op_vectors_name_the_field(tmp_path: Path, op_id: str, edit: Any, message: str) -> None:
    root = _copy(tmp_path)
    _edit_first_test(root, op_id, edit)
    with pytest.raises(MalformedInput, match=message) as e:
        vectors.load_set(root).explicit(op_id)
    assert f"{op_id}.json" in str(e.value)


def test_a_wrong_data_golden_is_caught_by_check(tmp_path: Path) -> None:
    """A Keccak-256 vector file holding SHA3-256 digests (the classic mix-up), with a
    manifest that matches it, is refused by ``vectors check`` naming the file."""
    root = _copy(tmp_path)

    def to_sha3(t: dict[str, Any]) -> None:
        import hashlib as h

        from teecert.reference import data

        msg = data.hash_message(int(t["inputs"][0], 16), int(t["inputs"][1], 16))
        t["expected"] = h.sha3_256(msg).hexdigest()

    _edit_first_test(root, "hash.keccak256", to_sha3)
    with pytest.raises(MalformedInput, match=r"hash\.keccak256\.json: tcId 1 expects"):
        vector_gen.check(root, explicit_sample=10**6, stream_chunks=0, seed=1)


def test_a_data_stream_in_the_float_file_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    f = root / "streams.json"
    f.write_text(f.read_text().replace('"op":"f32.add.rdn"', '"op":"i32.add"', 1))
    _redigest(root)
    with pytest.raises(MalformedInput, match=r"streams\.json: streams\[0\]\.op: i32\.add is an op of kind .int."):
        vectors.load_set(root).streams()
