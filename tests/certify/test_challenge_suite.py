"""Fresh challenges: a run given one, what it proves, and what verify refuses.

A probe that answers the fixed streams from a table certifies on them and fails a
challenge.  A report's challenge rows are re-derived by ``verify`` (seed, chosen
chunks, audit paths, the references), so a row cannot claim more than its samples
show.  The known answers here come from the reference probe and the references,
never from the challenge code under test.
"""

from __future__ import annotations

import base64
import copy
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from teecert import ops
from teecert.errors import NotAuthentic, UsageError
from teecert.probe.build import reference_probe_path
from teecert.probe.library import load_probe
from teecert.vectors import challenge, merkle, testplan
from teecert.vectors.store import load_set
from teecert.vectors.streams.inputs import chunk_inputs
from teecert.verify import challenge as verify_challenge

from conftest import no_traceback, one_line, teecert_cli
from probezoo import build_zoo_probe

VALUE = bytes.fromhex("5eed" * 16)
DIV = ops.get("f64.div.rne")


@pytest.fixture(scope="module")
def small_profile(quick_profile: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    doc = json.loads(quick_profile.read_text())
    doc["id"] = "test-challenge"
    doc["stress"] = {**doc["stress"], "perturbations": ["fresh_processes"], "repeats": 1}
    path = tmp_path_factory.mktemp("profiles") / "challenge.json"
    path.write_text(json.dumps(doc))
    return path


def _run(probe: Path, profile: Path, key: Path, out: Path, *extra: str,
         env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], Path]:
    from teecert.certify.run import _statement_of

    res = teecert_cli(["run", "--probe", str(probe), "--profile", str(profile), "--key", str(key),
                       "--out", str(out), *extra], env=env, timeout=600)
    assert no_traceback(res.err), res.err
    [report] = out.glob("teecert-report-*.json")
    return res.code, _statement_of(report)["predicate"], report


@pytest.fixture(scope="module")
def challenged_run(small_profile: Path, key_file: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("challenged")
    return _run(build_zoo_probe("reference"), small_profile, key_file, out, "--challenge", VALUE.hex())


def _rows(pred: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["op"]: r for r in pred["results"] if r["suite"] == "challenge"}


def test_a_challenge_run_certifies_the_reference_probe_and_verifies(
        challenged_run: tuple[int, dict[str, Any], Path], small_profile: Path, key_file: Path) -> None:
    code, pred, report = challenged_run
    assert code == 0
    assert pred["run"]["challenge"] == VALUE.hex()
    rows = _rows(pred)
    vs = load_set()
    assert sorted(rows) == testplan.challenge_ops(vs)
    assert all(r["outcome"] == "passed" for r in rows.values())
    div = rows["f64.div.rne"]
    assert div["vectors"] == challenge.MAX_COUNT and len(div["challenge"]["samples"]) == challenge.SAMPLES
    # the fresh stream is not the fixed one: another root
    assert div["root"] != vs.streams()["f64.div.rne"].root.hex()
    res = teecert_cli(["verify", str(report), "--trust", str(key_file) + ".pub", "--profile", str(small_profile)])
    assert res.code == 0, res.out + res.err


def test_samples_are_the_probe_s_real_outputs(challenged_run: tuple[int, dict[str, Any], Path]) -> None:
    """The sampled outputs equal what the reference probe computes for the inputs the
    challenge derives, independently of the judge that recorded them."""
    row = _rows(challenged_run[1])["f64.div.rne"]
    lib = load_probe(reference_probe_path())
    seed = challenge.seed(VALUE, DIV.id)
    assert row["challenge"]["seed"] == str(seed)
    for s in row["challenge"]["samples"]:
        start = s["chunk"] * challenge.CHUNK
        packed = chunk_inputs(DIV, seed, start, challenge.CHUNK)
        assert base64.b64decode(s["outputs"]) == lib.run(DIV, packed, challenge.CHUNK)


def _self_consistent_row(wrong: bool) -> tuple[dict[str, Any], load_set]:
    """A whole fresh f64.div.rne stream computed by the reference probe, with (if
    ``wrong``) one output of every chunk off by one bit, committed, sampled and proved
    exactly as a run does: a lie no audit path can reveal, only the references."""
    vs = load_set()
    n = challenge.count(vs.streams()[DIV.id].count)
    seed = challenge.seed(VALUE, DIV.id)
    lib = load_probe(reference_probe_path())
    outs = bytearray(lib.run(DIV, chunk_inputs(DIV, seed, 0, n), n))
    if wrong:
        for k in range(challenge.chunks(n)):
            (v,) = struct.unpack_from("<Q", outs, k * challenge.CHUNK * 8)
            struct.pack_into("<Q", outs, k * challenge.CHUNK * 8, v ^ 1)
    size = challenge.CHUNK * 8
    leaves = [merkle.leaf_hash(outs[i:i + size]) for i in range(0, len(outs), size)]
    root = merkle.root(leaves)
    proofs = [challenge.proof(leaves, k, bytes(outs[k * size:(k + 1) * size]))
              for k in challenge.sample(VALUE, DIV.id, root, n)]
    row = {"id": f"test_challenge.py::test_challenge_stream[{DIV.id}]", "suite": "challenge", "op": DIV.id,
           "kind": "stream", "outcome": "passed", "message": "", "vectors": n, "failures": 0,
           "root": root.hex(), "expected_root": None, "divergence": None, "duration_ms": 1,
           "challenge": challenge.record(VALUE, DIV, n, proofs)}
    return row, vs


def test_verify_recomputes_a_self_consistent_lie() -> None:
    row, vs = _self_consistent_row(wrong=False)
    verify_challenge.check_row(row, VALUE, vs, "r.json")  # the truth passes
    lie, vs = _self_consistent_row(wrong=True)
    with pytest.raises(NotAuthentic, match=r"r.json: result .*f64.div.rne.*says passed, but 2 of its "
                                           r"sampled outputs differ from the references"):
        verify_challenge.check_row(lie, VALUE, vs, "r.json")
    # the same samples under a row that admits failure cost the verdict, and are accepted
    verify_challenge.check_row({**lie, "outcome": "failed", "failures": 2}, VALUE, vs, "r.json")


@pytest.mark.parametrize("forgery, words", [
    (lambda r: r["challenge"]["samples"][0].update(
        outputs=base64.b64encode(b"\1" + base64.b64decode(r["challenge"]["samples"][0]["outputs"])[1:]).decode()),
     "are not the ones its root commits to"),
    (lambda r: r.update(root="00" * 32), "but its root chooses"),
    (lambda r: r["challenge"]["samples"].reverse(), "but its root chooses"),
    (lambda r: r["challenge"].update(seed="1"), "is not the one the challenge gives"),
    (lambda r: r["challenge"].update(count=1024), "is not the one the challenge gives"),
    (lambda r: r.update(vectors=1), "claims 1 vectors"),
    (lambda r: r.update(op="f64.add.rne"), "names op"),
    (lambda r: r.pop("challenge"), "without its samples"),
    (lambda r: r["challenge"]["samples"][0].update(path=[]), "are not the ones its root commits to"),
    (lambda r: r["challenge"]["samples"][0].update(outputs="%%%"), "field challenge"),
])
def test_verify_refuses_edited_challenge_rows(challenged_run: tuple[int, dict[str, Any], Path],
                                              forgery: Any, words: str) -> None:
    row = copy.deepcopy(_rows(challenged_run[1])["f64.div.rne"])
    vs = load_set()
    verify_challenge.check_row(row, VALUE, vs, "r.json")
    forgery(row)
    with pytest.raises(NotAuthentic, match=r"r\.json: ") as err:
        verify_challenge.check_row(row, VALUE, vs, "r.json")
    assert words in str(err.value) and "\n" not in str(err.value)


def test_another_challenge_does_not_verify_the_same_rows(
        challenged_run: tuple[int, dict[str, Any], Path]) -> None:
    row = _rows(challenged_run[1])["f64.div.rne"]
    with pytest.raises(NotAuthentic, match="is not the one the challenge gives"):
        verify_challenge.check_row(row, bytes(32), load_set(), "r.json")


def test_challenge_tests_are_expected_only_with_a_challenge() -> None:
    vs = load_set()
    doc = json.loads(json.dumps(__import__("teecert.profile", fromlist=["x"]).load_profile("development").data))
    plain = testplan.expected_tests(doc, vs)
    with_challenge = testplan.expected_tests(doc, vs, challenged=True)
    extra = set(with_challenge) - set(plain)
    assert extra == {f"test_challenge.py::test_challenge_stream[{o}]" for o in testplan.challenge_ops(vs)}
    assert {ops.get(o).kind for o in testplan.challenge_ops(vs)} <= {"float", "int", "hash"}


@pytest.mark.parametrize("text, words", [
    ("zz" * 32, "is not hex"),
    ("ab" * 8 + "a", "is not hex"),
    ("ab" * 15, "16 to 64 bytes"),
    ("ab" * 65, "16 to 64 bytes"),
])
def test_a_bad_challenge_is_one_line(text: str, words: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=words):
        challenge.parse(text)
    res = teecert_cli(["run", "--challenge", text, "--out", str(tmp_path / "out")], timeout=120)
    one_line(res, "run", "--challenge", words)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("teecert-report-*"))


# ------------------------------------------------------------------ the table probe


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The answers to every f64.div.rne input of the fixed vector set that the quick
    profile uses (its explicit vectors and the first chunk of its stream), computed by
    the reference probe: what a probe that memorizes would store."""
    vs = load_set()
    st = vs.streams()[DIV.id]
    _start, n = st.chunk_span(0)
    lib = load_probe(reference_probe_path())
    inputs = [v.inputs for v in vs.explicit(DIV.id)]
    outputs = DIV.unpack_outputs(lib.run(DIV, DIV.pack_inputs(inputs), len(inputs)), len(inputs))
    packed = chunk_inputs(DIV, st.seed, 0, n)
    inputs += DIV.unpack_inputs(packed, n)
    outputs += DIV.unpack_outputs(lib.run(DIV, packed, n), n)
    rows = sorted(set(zip(inputs, outputs, strict=True)))
    path = tmp_path_factory.mktemp("table") / "div.bin"
    path.write_bytes(b"".join(struct.pack("<QQQ", a, b, r) for (a, b), r in rows))
    return path


def test_a_probe_that_answers_from_a_table_certifies_on_the_fixed_streams_and_fails_a_challenge(
        table: Path, small_profile: Path, key_file: Path, tmp_path: Path) -> None:
    probe = build_zoo_probe("table_div")
    env = {"TEECERT_ZOO_TABLE": str(table)}
    code, pred, _ = _run(probe, small_profile, key_file, tmp_path / "fixed", env=env)
    assert code == 0 and pred["verdict"]["result"] == "CERTIFIED"
    code, pred, _ = _run(probe, small_profile, key_file, tmp_path / "fresh", "--challenge", VALUE.hex(), env=env)
    assert code == 1
    assert [r["test"] for r in pred["verdict"]["reasons"]] == [
        "test_challenge.py::test_challenge_stream[f64.div.rne]"]
    row = _rows(pred)["f64.div.rne"]
    # every sampled output is one bit off, but for the NaN results (canonicalized)
    assert row["outcome"] == "failed" and challenge.CHUNK < row["failures"] <= 2 * challenge.CHUNK
    assert row["divergence"]["ulp"] == "1" and "differ; first: f64.div.rne vector" in row["message"]
