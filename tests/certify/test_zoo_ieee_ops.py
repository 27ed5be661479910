"""Round to integral, binary64 -> binary32 and minimum got wrong the classic way: each
zoo probe ends a whole ``teecert run`` NOT_CERTIFIED, failing the ``ieee754`` suite on
exactly the op it breaks (its explicit vectors and its stream), and nothing else."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import pytest

from teecert import ops
from teecert.probe.library import load_probe
from teecert.reference import golden
from teecert.vectors import store
from teecert.vectors.streams import inputs

from conftest import run_report
from probezoo import build_zoo_probe


@pytest.fixture(scope="module")
def ieee_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The development profile judging only the probe and ieee754 suites, one chunk of
    each stream (the first: the one each probe's fault is known to show in)."""
    from teecert.profile import load_profile

    doc = dict(load_profile("development").data)
    doc["id"] = "test-ieee-ops"
    doc["suites"] = {"probe": "required", "ieee754": "required"}
    doc["stream_scale"] = 6  # 1 of 16 chunks: 65,536 vectors per op
    doc["stress"] = {**doc["stress"], "ops": ["f64.add.rne"]}
    path = tmp_path_factory.mktemp("profiles") / "ieee.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


NEW_OPS = [op for op in ops.CATALOGUE.values() if op.kind == "float" and op.name not in ops.FLOAT_OPS]


def test_the_reference_probe_gives_the_golden_values_of_every_new_op() -> None:
    """In process, no run: the stored explicit vectors and the first 4,096 vectors of
    each stream (golden values from both references) bit for bit."""
    probe = load_probe(build_zoo_probe("reference"))
    vs = store.load_set()
    for op in NEW_OPS:
        vecs = vs.explicit(op.id)
        assert vecs, op.id
        got = probe.run_values(op, [v.inputs for v in vecs])
        bad = [(v.comment, v.inputs, g) for v, g in zip(vecs, got, strict=True) if g != v.expected]
        assert not bad, (op.id, bad[:3])
        stream = inputs.vectors(op, store.STREAM_SEED, 0, 4096)
        assert probe.run_values(op, stream) == golden.evaluate_many(op.id, stream), op.id


def _failed(pred: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in pred["results"] if r["outcome"] in ("failed", "error")}


def _caught(probe: str, op_id: str, profile: Path, key: Path, out: Path) -> dict[str, Any]:
    code, pred = run_report(build_zoo_probe(probe), profile, key, out)
    assert code == 1
    assert pred["verdict"]["result"] == "NOT_CERTIFIED"
    failed = _failed(pred)
    assert set(failed) == {f"test_ieee754.py::test_explicit[{op_id}]",
                           f"test_ieee754.py::test_stream[{op_id}]"}, set(failed)
    row = failed[f"test_ieee754.py::test_explicit[{op_id}]"]
    assert row["op"] == op_id and f": {op_id}(" in row["message"]
    d: dict[str, Any] = row["divergence"]
    return d


def _f64(hexval: str) -> float:
    return float(struct.unpack("<d", bytes.fromhex(hexval)[::-1])[0])


def test_round_to_integral_ties_away_is_caught(tmp_path: Path, key_file: Path, ieee_profile: Path) -> None:
    d = _caught("round_ties_away", "f64.round_integral.rne", ieee_profile, key_file, tmp_path)
    # the first wrong vector is a tie n + 1/2: it went away from zero, not to even
    (x,) = (_f64(v) for v in d["inputs"])
    got, expected = _f64(d["got"]), _f64(d["expected"])
    assert abs(x) % 1 == 0.5
    assert got == math.copysign(math.floor(abs(x)) + 1, x)
    assert expected % 2 == 0 and abs(got - expected) == 1


def test_narrowing_that_rounds_twice_is_caught(tmp_path: Path, key_file: Path, ieee_profile: Path) -> None:
    d = _caught("narrow_twice", "f64.to_f32.rne", ieee_profile, key_file, tmp_path)
    (x,) = d["inputs"]
    # a binary64 operand below the binary32 normal range, one binary32 ulp off
    assert abs(int(d["got"], 16) - int(d["expected"], 16)) == 1
    assert (int(x, 16) >> 52) & 0x7FF < 1023 - 126


def test_minimum_that_is_fmin_is_caught(tmp_path: Path, key_file: Path, ieee_profile: Path) -> None:
    d = _caught("minimum_fmin", "f64.minimum", ieee_profile, key_file, tmp_path)
    # one of fmin's two differences from minimum: +0 for (+0, -0) (the zeros are 0 ulp
    # apart, yet not the same result), or a number where a NaN operand makes a NaN
    zeros = {"0000000000000000", "8000000000000000"}
    if d["expected"] in zeros:
        assert {d["expected"], d["got"]} == zeros and d["ulp"] == "0"
        assert "8000000000000000" in d["inputs"] and "0000000000000000" in d["inputs"]
    else:
        assert d["expected"] == "7ff8000000000000" and d["ulp"] == "nan"
