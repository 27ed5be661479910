"""The integers and hashes suites end to end: the reference probe passes them, and
each broken probe is caught by the suite and op that its fault belongs to."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from teecert import ops
from teecert.probe.library import ArgumentsRejected, load_probe
from teecert.reference import data

from conftest import run_report
from probezoo import build_zoo_probe


@pytest.fixture(scope="module")
def data_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The development profile judging only the probe, integers and hashes suites, every
    chunk of every data stream (the other suites run, recorded but not judged)."""
    from teecert.profile import load_profile

    doc = dict(load_profile("development").data)
    doc["id"] = "test-data"
    doc["suites"] = {"probe": "required", "integers": "required", "hashes": "required"}
    # stress compares its ops with the golden outputs too: keep it off the data ops
    # here, so that each broken probe fails exactly its own suite's rows
    doc["stress"] = {**doc["stress"], "ops": ["f64.add.rne"]}
    path = tmp_path_factory.mktemp("profiles") / "data.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


def _failed(pred: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in pred["results"] if r["outcome"] in ("failed", "error")}


def test_reference_probe_passes_every_data_op(tmp_path: Path, key_file: Path, data_profile: Path) -> None:
    code, pred = run_report(build_zoo_probe("reference"), data_profile, key_file, tmp_path)
    assert code == 0 and _failed(pred) == {}
    rows = [r for r in pred["results"] if r["suite"] in ("integers", "hashes")]
    data_ops = {o for o, op in ops.CATALOGUE.items() if op.kind in ops.DATA_KINDS}
    assert {r["op"] for r in rows} == data_ops
    # every op: its explicit vectors and its whole stream
    assert len(rows) == 2 * len(data_ops)
    assert all(r["vectors"] > 0 and r["root"] == r["expected_root"] for r in rows)


def test_an_unstable_sort_is_caught_by_the_integers_suite(tmp_path: Path, key_file: Path,
                                                          data_profile: Path) -> None:
    code, pred = run_report(build_zoo_probe("unstable_sort"), data_profile, key_file, tmp_path)
    assert code == 1
    failed = _failed(pred)
    assert set(failed) == {"test_integers.py::test_explicit[u64.sort_stable]",
                           "test_integers.py::test_stream[u64.sort_stable]"}, set(failed)
    row = failed["test_integers.py::test_explicit[u64.sort_stable]"]
    got = data.sort_items(int(row["divergence"]["got"], 16))
    expected = data.sort_items(int(row["divergence"]["expected"], 16))
    # the same items, sorted by key, equal keys in another order
    assert sorted(got) == sorted(expected) and got != expected
    assert [v >> 48 for v in got] == [v >> 48 for v in expected]
    assert "u64.sort_stable(" in row["message"] and row["divergence"]["ulp"] is None


def test_keccak_that_is_sha3_is_caught_by_the_hashes_suite(tmp_path: Path, key_file: Path,
                                                           data_profile: Path) -> None:
    code, pred = run_report(build_zoo_probe("keccak_sha3"), data_profile, key_file, tmp_path)
    assert code == 1
    failed = _failed(pred)
    assert set(failed) == {"test_hashes.py::test_explicit[hash.keccak256]",
                           "test_hashes.py::test_stream[hash.keccak256]"}, set(failed)
    row = failed["test_hashes.py::test_explicit[hash.keccak256]"]
    d = row["divergence"]
    length, message = (int(x, 16) for x in d["inputs"])
    msg = data.hash_message(length, message)
    # what it gave is SHA3-256 of the message (hashlib), not Keccak-256
    assert d["got"] == hashlib.sha3_256(msg).hexdigest() != d["expected"]


def test_padding_leak_passes_the_integers_suite_but_not_malloc_perturb(
        tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    code, pred = run_report(build_zoo_probe("padding_leak"), quick_profile, key_file, tmp_path)
    assert code == 1
    failed = _failed(pred)
    assert set(failed) == {"test_stress.py::test_perturbation[malloc_perturb]"}, set(failed)
    row = failed["test_stress.py::test_perturbation[malloc_perturb]"]
    assert "rec.serialize vector" in row["message"]
    d = row["divergence"]
    # 23 right bytes; the 24th, fixed as zero, is the perturbed heap's
    assert d["got"][:46] == d["expected"][:46] and d["expected"][46:] == "00" != d["got"][46:]


def test_a_hash_message_longer_than_its_slot_is_refused_whole(tmp_path: Path) -> None:
    probe = load_probe(build_zoo_probe("reference"))
    op = ops.get("hash.sha256")
    assert probe.run_values(op, [(512, 0)]) == [int(hashlib.sha256(bytes(512)).hexdigest(), 16)]
    with pytest.raises(ArgumentsRejected):
        probe.run_values(op, [(3, 0), (513, 0)])


def test_out_of_range_operands_of_data_ops_are_usage_errors() -> None:
    from teecert.errors import UsageError

    probe = load_probe(build_zoo_probe("reference"))
    with pytest.raises(UsageError, match=r"i32\.add: an operand is not a 32-bit pattern"):
        probe.run_values(ops.get("i32.add"), [(1 << 32, 0)])
    with pytest.raises(UsageError, match=r"hash\.sha256: an operand is not a 4096/64-bit pattern"):
        probe.run_values(ops.get("hash.sha256"), [(0, 1 << 4096)])


def test_a_probe_without_data_ops_fails_only_where_the_profile_requires_them(
        tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    """A probe from before the data ops declares none: under a profile that allows
    unsupported ops it is certified (each op an *unsupported* row, stress naming the
    ops it left out); under one that does not, each op is a reason."""
    probe = build_zoo_probe("no_data_ops")
    data_ops = {o for o, op in ops.CATALOGUE.items() if op.kind in ops.DATA_KINDS}
    code, pred = run_report(probe, quick_profile, key_file, tmp_path / "allow")
    assert code == 0 and _failed(pred) == {}
    unsupported = {r["op"] for r in pred["results"] if r["outcome"] == "unsupported"}
    assert unsupported == data_ops
    stress_rows = [r for r in pred["results"] if r["id"].startswith("test_stress.py::test_perturbation[")]
    assert all("not declared by the probe, so not stressed: f64.from_dec, hash.sha256, "
               "rec.serialize, u64.sort_stable" in r["message"] for r in stress_rows)

    doc = json.loads(quick_profile.read_text())
    doc.update(id="test-quick-fail", unsupported_ops="fail")
    failing = tmp_path / "fail.json"
    failing.write_text(json.dumps(doc))
    code, pred = run_report(probe, failing, key_file, tmp_path / "fail")
    assert code == 1
    reasons = pred["verdict"]["reasons"]
    assert {r["code"] for r in reasons} == {"OP_UNSUPPORTED"}
    assert {r["op"] for r in reasons} == data_ops
