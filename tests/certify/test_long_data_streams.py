"""Data-op streams long enough to catch a fault that appears only after thousands of
vectors: the zoo probe ``wrong_after_data`` (tests/probes/wrong_after_data.c) gets
i64.mul right for its first 10,000 vectors in a process and wrong after that."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from teecert import ops
from teecert.vectors import store
from teecert.vectors.streams import data as data_streams

from conftest import run_report
from probezoo import build_zoo_probe

#: Run in a fresh interpreter: the probe counts vectors per process, and a library
#: loaded once stays loaded (dlopen), so this process may have run it already.
_FIRST_WRONG = r"""
import json, sys
from teecert import ops
from teecert.probe.library import load_probe
from teecert.reference import golden
from teecert.vectors.streams.inputs import chunk_inputs
op = ops.get("i64.mul")
probe = load_probe(sys.argv[1])
wrong = []
for start in range(0, 16384, 4096):
    packed = chunk_inputs(op, 1, start, 4096)
    got = op.unpack_outputs(probe.run(op, packed, 4096), 4096)
    want = golden.evaluate_many(op.id, op.unpack_inputs(packed, 4096))
    wrong += [start + i for i, (g, w) in enumerate(zip(got, want)) if g != w]
print(json.dumps({"first": wrong[0] if wrong else None, "count": len(wrong)}))
"""


def test_the_probe_is_right_for_10000_vectors_then_wrong() -> None:
    """Against the references (not against the probe's own code): vectors 0..9,999 of
    the stream are right, every later one wrong.  The former stream of i64.mul was
    vectors 0..8,191 of this same stream (teecert-data-v1 defines each vector by its
    index alone), and the development run evaluated it once after 194 explicit
    vectors: 8,386 vectors, all below the threshold, so that stream could not see
    the fault.  The next test shows the current one does."""
    res = subprocess.run([sys.executable, "-c", _FIRST_WRONG, str(build_zoo_probe("wrong_after_data"))],
                         capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert got == {"first": 10000, "count": 16384 - 10000}, got


def test_data_streams_are_long() -> None:
    """Every data op's committed stream holds 1,048,576 vectors, as the generator
    says, and the development profile evaluates all of them (stream_scale 100)."""
    from teecert.profile import load_profile

    streams = store.load_set().streams()
    data_ops = [op for op in ops.CATALOGUE.values() if op.kind in ops.DATA_KINDS]
    counts = {op.id: streams[op.id].count for op in data_ops}
    assert counts == {op.id: data_streams.count_of(op) for op in data_ops}
    short = {o: n for o, n in counts.items() if n < 1 << 20}
    assert short == {}, short
    assert {streams[op.id].chunk_size for op in data_ops} == {data_streams.CHUNK_SIZE}
    assert load_profile("development").stream_scale == 100


def _failed(pred: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in pred["results"] if r["outcome"] in ("failed", "error")}


@pytest.fixture(scope="module")
def integers_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The development profile judging the probe and integers suites (the others run,
    recorded but not judged), its stress plan off the data ops so that the fault
    fails exactly the integers suite's row."""
    from teecert.profile import load_profile

    doc = dict(load_profile("development").data)
    doc["id"] = "test-long-data"
    doc["suites"] = {"probe": "required", "integers": "required"}
    doc["stress"] = {**doc["stress"], "ops": ["f64.add.rne"]}
    path = tmp_path_factory.mktemp("profiles") / "integers.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


def test_wrong_after_data_is_not_certified(tmp_path: Path, key_file: Path,
                                           integers_profile: Path) -> None:
    code, pred = run_report(build_zoo_probe("wrong_after_data"), integers_profile, key_file, tmp_path)
    assert code == 1
    assert pred["verdict"]["result"] == "NOT_CERTIFIED", pred["verdict"]
    failed = _failed(pred)
    stream_row = "test_integers.py::test_stream[i64.mul]"
    # the explicit vectors run first, below the threshold: only the stream fails, and
    # the run's transcript check, since the divergent chunk re-run to name the vector
    # came back other than the first time (the counter had moved on)
    assert set(failed) <= {stream_row, "test_integers.py::test_explicit[i64.mul]", "transcript::main"}, \
        {k: r["message"] for k, r in failed.items()}
    assert stream_row in failed
    row = failed[stream_row]
    assert "i64.mul" in row["message"]
    d = row["divergence"]
    # the first chunk (vectors 0..8,191) agreed; the divergent chunk, re-run to name
    # the vector, is wrong from its start: the right product with its lowest bit flipped
    assert d["index"] >= data_streams.CHUNK_SIZE, d
    assert int(d["got"], 16) == int(d["expected"], 16) ^ 1, d


# ------------------------------------------- stress: the committed leaf is the check


def _count_derivations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ops whose golden outputs get re-derived from now on."""
    from teecert.reference import golden

    calls: list[str] = []
    real = golden.evaluate_mpfr_many

    def counted(op_id: str, vecs: Any) -> Any:
        calls.append(op_id)
        return real(op_id, vecs)

    monkeypatch.setattr(golden, "evaluate_mpfr_many", counted)
    return calls


def _stress_chunks(op_id: str, upto: int) -> list[Any]:
    from teecert.certify import stress

    st = store.load_set().streams()[op_id]
    return [stress.golden_chunk(st, k) for k in range(-(-upto // st.chunk_size))]


def test_stress_compares_leaves_and_derives_nothing_when_all_agree(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from teecert.certify import stress
    from teecert.probe.remote import default_host_cmd

    calls = _count_derivations(monkeypatch)
    goldens = _stress_chunks("i64.mul", 12000)
    assert all(g.outputs is None for g in goldens)
    p = stress.perturbation("fresh_processes", 1)
    vectors, found = stress._one_process(default_host_cmd(), p, goldens, 0, 0, 120.0, [])
    assert found == [] and vectors == sum(g.n for g in goldens)
    assert calls == []  # no MPFR, no data reference: the leaves alone decided


def test_stress_names_the_first_wrong_vector_deriving_only_that_chunk(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """wrong_after_data in fresh stress processes: the chunk past vector 10,000 differs
    from its committed leaf; only it is re-derived (once, for every process), and the
    divergence names vector 10,000 with the flipped product."""
    from teecert.certify import stress
    from teecert.probe.remote import default_host_cmd

    calls = _count_derivations(monkeypatch)
    goldens = _stress_chunks("i64.mul", 12000)
    host = default_host_cmd(build_zoo_probe("wrong_after_data"))
    p = stress.perturbation("fresh_processes", 1)
    found = [d for proc in range(2)
             for d in stress._one_process(host, p, goldens, 0, proc, 120.0, [])[1]]
    diverging = [g for g in goldens if g.start + g.n > 10000]
    # the probe flips its products after folding its transcript: each process's
    # transcript is not of the outputs read back, which fails it too
    lies = [d for d in found if d.error is not None]
    assert len(lies) == 2 and all("is not the one of the outputs read back" in str(d.error) for d in lies)
    found = [d for d in found if d.error is None]
    assert [d.index for d in found] == [max(10000, g.start) for g in diverging] * 2
    assert calls == ["i64.mul"] * len(diverging)  # derived once, shared by both processes
    first = found[0]
    assert first.op == "i64.mul" and first.got == first.expected ^ 1
    assert "i64.mul vector 10000: i64.mul(" in first.message()


def test_stress_refuses_a_leaf_its_references_do_not_reproduce() -> None:
    """A forged committed leaf (or faulty reference arithmetic on this host): the
    probe's outputs differ from it, the re-derived outputs do not hash to it either,
    and stress stops with that reason instead of blaming the probe."""
    import dataclasses

    from teecert.certify import stress
    from teecert.errors import TeecertError
    from teecert.probe.remote import default_host_cmd

    [g] = _stress_chunks("i64.mul", 1)
    forged = dataclasses.replace(g, leaf=bytes(32))
    p = stress.perturbation("fresh_processes", 1)
    with pytest.raises(TeecertError, match=r"reference outputs of chunk 0 of i64\.mul do not "
                                           r"hash to the committed leaf"):
        stress._one_process(default_host_cmd(), p, [forged], 0, 0, 120.0, [])
