"""Stream evaluation: leaves, chunking, re-running one chunk, the transcript it
leaves behind, the pure-Python fallback, and a broken probe found by a stream.

Expected f64 results come from CPython's own binary64 arithmetic (round to
nearest), independent of the probe."""

from __future__ import annotations

import hashlib
import math
import struct
from pathlib import Path

import pytest

from teecert import ops
from teecert.errors import UsageError
from teecert.probe import streams as stream_eval
from teecert.probe.library import TRANSCRIPT_T0, Probe, load_probe, transcript_step
from teecert.vectors import merkle
from teecert.vectors.streams import inputs as stream_inputs

from probezoo import build_zoo_probe

F64_QNAN = 0x7FF8000000000000


@pytest.fixture(scope="module")
def ref() -> Probe:
    return load_probe(build_zoo_probe("reference"))


def _f(bits: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


def _bits(x: float) -> int:
    return F64_QNAN if math.isnan(x) else int(struct.unpack("<Q", struct.pack("<d", x))[0])


def _products(op: ops.Op, vecs: list[tuple[int, ...]]) -> list[int]:
    """f64 add/mul by the exact rational reference: independent of the probe and of
    whatever FP control state this process was left in (an in-process probe of an
    earlier test in this worker may have left it poisoned; Python floats follow it)."""
    from teecert.reference import rational  # pure integer arithmetic

    fn = rational.op_function(op.id)
    return [int(fn(*v)) for v in vecs]


def python_leaves(op_id: str, seed: int, count: int, chunk: int) -> list[bytes]:
    """Leaves of f64 add/mul streams computed independently of the probe."""
    op = ops.get(op_id)
    leaves = []
    for start in range(0, count, chunk):
        vecs = stream_inputs.vectors(op, seed, start, min(chunk, count - start))
        outs = _products(op, vecs)
        leaves.append(merkle.leaf_hash(struct.pack(f"<{len(outs)}Q", *outs)))
    return leaves


@pytest.mark.parametrize(("op_id", "count", "chunk"), [
    ("f64.add.rne", 5000, 1024),  # a short last chunk
    ("f64.mul.rne", 4096, 4096),  # exactly one chunk
    ("f64.add.rne", 10, 64),      # fewer vectors than a chunk
])
def test_leaves_equal_an_independent_computation(ref: Probe, op_id: str, count: int, chunk: int) -> None:
    got = stream_eval.evaluate_stream(ref, ops.get(op_id), 3, count, chunk)
    assert got == python_leaves(op_id, 3, count, chunk)


def test_on_chunk_reports_every_chunk(ref: Probe) -> None:
    seen: list[tuple[int, int, bytes]] = []
    leaves = stream_eval.evaluate_stream(ref, ops.get("f32.sqrt.rtz"), 1, 2500, 1000,
                                         on_chunk=lambda i, n, leaf: seen.append((i, n, leaf)))
    assert [(i, n) for i, n, _ in seen] == [(0, 1000), (1, 1000), (2, 500)]
    assert [leaf for *_, leaf in seen] == leaves


def test_empty_stream_and_bad_chunk_size(ref: Probe) -> None:
    op = ops.get("f64.add.rne")
    assert stream_eval.evaluate_stream(ref, op, 1, 0, 65536) == []
    with pytest.raises(UsageError, match="chunk size must be positive"):
        stream_eval.evaluate_stream(ref, op, 1, 10, 0)
    with pytest.raises(UsageError, match="negative vector count"):
        stream_eval.evaluate_stream(ref, op, 1, -1, 10)


def test_chunk_outputs_gives_the_vectors_of_one_chunk(ref: Probe) -> None:
    op = ops.get("f64.mul.rne")
    inputs, outputs = stream_eval.chunk_outputs(ref, op, 8, 2048, 300)
    assert inputs == stream_inputs.vectors(op, 8, 2048, 300)
    assert outputs == _products(op, inputs)
    leaf = merkle.leaf_hash(struct.pack("<300Q", *outputs))
    assert stream_eval.evaluate_stream(ref, op, 8, 2348, 2048)[1] == leaf


def test_chunk_outputs_for_three_operand_f32(ref: Probe) -> None:
    op = ops.get("f32.fma.rup")
    inputs, outputs = stream_eval.chunk_outputs(ref, op, 2, 0, 50)
    assert inputs == stream_inputs.vectors(op, 2, 0, 50)
    assert len(outputs) == 50 and all(0 <= x < 2**32 for x in outputs)


def test_the_probe_transcript_folds_one_step_per_chunk(ref: Probe) -> None:
    op = ops.get("f64.div.rdn")
    ref.transcript_reset()
    leaves = stream_eval.evaluate_stream(ref, op, 4, 3000, 1000)
    t = TRANSCRIPT_T0
    for leaf in leaves:
        t = transcript_step(t, op.id, 1000, leaf)
    assert ref.transcript() == (t, 3)


def test_python_fallback_warns_and_agrees(ref: Probe, monkeypatch: pytest.MonkeyPatch) -> None:
    op = ops.get("f64.fma.rtz")
    fast = stream_eval.evaluate_stream(ref, op, 6, 700, 256)
    fast_chunk = stream_eval.chunk_outputs(ref, op, 6, 256, 100)
    monkeypatch.setattr(stream_inputs, "_accel", None)
    monkeypatch.setattr(stream_inputs, "_warned", False)
    with pytest.warns(RuntimeWarning, match="pure Python"):
        slow = stream_eval.evaluate_stream(ref, op, 6, 700, 256)
    assert slow == fast
    assert stream_eval.chunk_outputs(ref, op, 6, 256, 100) == fast_chunk


def test_a_stream_finds_the_one_ulp_probe(ref: Probe) -> None:
    bad = load_probe(build_zoo_probe("one_ulp"))
    div = ops.get("f64.div.rne")
    good_leaves = stream_eval.evaluate_stream(ref, div, 1, 8192, 1024)
    bad_leaves = stream_eval.evaluate_stream(bad, div, 1, 8192, 1024)
    differing = [i for i, (g, b) in enumerate(zip(good_leaves, bad_leaves, strict=True)) if g != b]
    assert differing, "subnormal quotients occur in every few thousand vectors"
    i = differing[0]
    ins, good = stream_eval.chunk_outputs(ref, div, 1, i * 1024, 1024)
    _, got = stream_eval.chunk_outputs(bad, div, 1, i * 1024, 1024)
    diffs = [(v, g, b) for v, g, b in zip(ins, good, got, strict=True) if g != b]
    for _vec, g, b in diffs:
        assert (g & 0x7FF0000000000000) == 0 and b == g + 1  # subnormal, one ULP larger
    add = ops.get("f64.add.rne")  # other ops are right
    assert stream_eval.evaluate_stream(bad, add, 1, 4096, 1024) == stream_eval.evaluate_stream(ref, add, 1, 4096, 1024)


def test_stream_eval_needs_no_accelerator_to_import(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, importlib\n"
        "sys.modules['teecert._accel'] = None\n"  # import of it fails
        "from teecert.probe import streams\n"
        "from teecert.vectors.streams import inputs as stream_inputs\n"
        "assert not stream_inputs.have_accelerator()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


def test_leaf_is_the_merkle_leaf_hash() -> None:
    assert merkle.leaf_hash(b"ab") == hashlib.sha256(b"\x00ab").digest()
