"""Completeness: a report must carry a result for every test its profile and vector
set ask for (``teecert.verify.expected``, ``teecert.vectors.testplan``).

The key holder can leave tests out of a run (``-k``, a subset of the suites, a run
stopped early) or rows out of a report, then re-sign; the verdict, recomputed from
the rows left, would be CERTIFIED.  One real report is made per module (``teecert
run`` under the quick profile) and forged the ways that matter; each forgery is
re-signed with the run's own key and verified with that key and the profile pinned,
so that what refuses it is completeness.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert._internal import canonical, dsse
from teecert.errors import NotAuthentic, UsageError
from teecert.profile import Profile, from_document, load_profile
from teecert.report import keys, verdict
from teecert.report import statement as report
from teecert.vectors import testplan
from teecert.vectors.store import load_set
from teecert.verify import decision, verifier
from teecert.verify.expected import check_complete, expected_ids

from conftest import no_traceback, teecert_cli


@dataclass(frozen=True)
class Real:
    path: Path
    statement: dict[str, Any]
    key: Ed25519PrivateKey
    pub: Path
    profile_path: Path
    profile: Profile


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory, quick_profile: Path) -> Real:
    d = tmp_path_factory.mktemp("complete")
    key = d / "run-key.pem"
    assert teecert_cli(["keys", "generate", str(key)]).code == 0
    out = d / "out"
    res = teecert_cli(["run", "--profile", str(quick_profile), "--key", str(key), "--out", str(out)])
    assert no_traceback(res.out + res.err), res.err[-3000:]
    assert res.code == 0, res.out[-3000:] + res.err[-3000:]
    (path,) = out.glob("teecert-report-*.json")
    stmt = json.loads(base64.b64decode(json.loads(path.read_bytes())["payload"]))
    return Real(path, stmt, keys.load_private(key), Path(f"{key}.pub"), quick_profile, load_profile(quick_profile))


def forge(real: Real, tmp_path: Path, edit: Callable[[dict[str, Any]], None], name: str = "forged.json") -> Path:
    """The real statement, unattested (the quick profile does not require evidence),
    edited, its summary and verdict recomputed, re-signed with the run key: what the
    key holder can make."""
    st = copy.deepcopy(real.statement)
    pred = st["predicate"]
    pred.pop("attestation", None)
    pred["results"] = [r for r in pred["results"] if r["id"] != testplan.EVIDENCE_ID]
    edit(st)
    pred["summary"] = verdict.summarize(pred["results"], real.profile)
    pred["verdict"] = verdict.compute(pred["results"], real.profile)
    path = tmp_path / name
    path.write_text(json.dumps(dsse.sign(report.PAYLOAD_TYPE, canonical.dumps(st), [real.key])))
    return path


def verify(real: Real, path: Path) -> Any:
    res = teecert_cli(["verify", str(path), "--trust", str(real.pub), "--profile", str(real.profile_path)])
    assert no_traceback(res.out + res.err), res.err
    return res


def refused(real: Real, path: Path) -> str:
    """Exit 2 (not authentic), one line on stderr naming the report; that line."""
    res = verify(real, path)
    assert res.code == 2, (res.code, res.out, res.err)
    assert res.out == ""
    (line,) = res.err.splitlines()
    assert line.startswith(f"teecert verify: {path}: "), line
    return line


def verify_in_process(real: Real, path: Path) -> verifier.VerifyOutcome:
    pub = real.key.public_key()
    return verifier.verify_report(path.read_bytes(), str(path), trusted={keys.keyid(pub): pub},
                                  profile=real.profile)


# -- the rule ---------------------------------------------------------------------------


def test_the_rows_of_a_real_run_are_exactly_the_expected_tests(real: Real) -> None:
    pred = real.statement["predicate"]
    check_complete(pred, real.profile, str(real.path))
    tests = expected_ids(real.profile, load_set())
    rows = {r["id"]: r["suite"] for r in pred["results"]}
    harness = {i for i in rows if testplan.harness_row_suite(i) is not None}
    assert harness == {testplan.EVIDENCE_ID, "transcript::main"}
    assert {i: s for i, s in rows.items() if i not in harness} == tests
    res = verify(real, real.path)
    assert res.code == 0, res.out + res.err


def test_expected_tests_under_the_built_in_profiles() -> None:
    vs = load_set()
    dev = testplan.expected_tests(load_profile("development").data, vs)
    by_suite: dict[str, int] = {}
    for suite in dev.values():
        by_suite[suite] = by_suite.get(suite, 0) + 1
    # one per op and kind (explicit, stream), the fixed checks, one per perturbation
    assert by_suite == {"probe": 7, "ieee754": 150, "integers": 124, "hashes": 10, "libm": 80, "contraction": 2,
                        "fpenv": 16, "stress": 22, "clocks": 1, "environment": 2, "attestation": 1}
    assert "test_ieee754.py::test_stream[f64.div.rne]" in dev
    assert "test_stress.py::test_libm_determinism[glibc_tunables]" in dev
    assert "test_stress.py::test_perturbation[cpu_load]" in dev
    # every built-in lists the same perturbations: the same tests
    assert testplan.expected_tests(load_profile("strict").data, vs) == dev
    # a profile without a stress plan still reports one (skipped) test of each perturbation suite
    doc = copy.deepcopy(load_profile("development").data)
    del doc["stress"]
    bare = testplan.expected_tests(doc, vs)
    assert {i for i in bare if i not in dev} == {"test_stress.py::test_perturbation[NOTSET]",
                                                "test_stress.py::test_libm_determinism[NOTSET]"}


def test_harness_rows_other_than_transcripts_and_evidence_must_fail() -> None:
    tests = {"test_probe.py::test_abi_version": "probe"}
    row = {"id": "test_probe.py::test_abi_version", "suite": "probe", "outcome": "passed"}
    for rid, suite in (("session::complete", "probe"), ("worker::gw0", "probe"), ("test_fpenv.py", "fpenv")):
        assert testplan.gaps([row, {"id": rid, "suite": suite, "outcome": "failed"}], tests).unexpected == []
        assert testplan.gaps([row, {"id": rid, "suite": suite, "outcome": "passed"}], tests).unexpected == [rid]
    ok = [row, {"id": "transcript::gw0", "suite": "probe", "outcome": "passed"},
          {"id": "attestation::evidence", "suite": "attestation", "outcome": "passed"}]
    assert not testplan.gaps(ok, tests)
    moved = [row, {"id": "attestation::evidence", "suite": "libm", "outcome": "failed"}]
    assert testplan.gaps(moved, tests).relabelled == [("attestation::evidence", "libm", "attestation")]


# -- forged reports -------------------------------------------------------------------


def _one_row_per_suite(st: dict[str, Any]) -> None:
    """What verify used to accept: one row for each required suite."""
    pred, seen = st["predicate"], set()
    keep = []
    for r in pred["results"]:
        if r["suite"] not in seen or r["id"].startswith(testplan.TRANSCRIPT_PREFIX):
            seen.add(r["suite"])
            keep.append(r)
    pred["results"] = keep


def _drop(fragment: str) -> Callable[[dict[str, Any]], None]:
    def edit(st: dict[str, Any]) -> None:
        st["predicate"]["results"] = [r for r in st["predicate"]["results"] if fragment not in r["id"]]
    return edit


@pytest.mark.parametrize("name, edit, first", [
    ("one row per suite", _one_row_per_suite,
     "test_contraction.py::test_contraction_vector[f64.mul_add_unfused.rne-vector0-verdicts0]"),
    ("an op left out (-k 'not f64.div')", _drop("f64.div.rne"), "test_fpenv.py::test_poisoned_caller[f64.div.rne-"),
    ("a suite but one test left out", _drop("test_fpenv.py::test_poisoned_caller[f64"),
     "test_fpenv.py::test_poisoned_caller[f64.add.rne-"),
    ("the last test left out (-x)", _drop("test_stress.py::test_perturbation[tz]"),
     "test_stress.py::test_perturbation[tz]"),
])
def test_rows_removed_and_re_signed_are_refused(real: Real, tmp_path: Path, name: str,
                                                edit: Callable[[dict[str, Any]], None], first: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = forge(real, tmp_path, edit)
    line = refused(real, path)
    assert "incomplete: " in line and "tests that profile test-quick and vector set teecert-core" in line, line
    assert f"have no result, first {first}" in line, line
    with pytest.raises(NotAuthentic, match="incomplete"):
        verify_in_process(real, path)
    # Without the completeness check the forgery would be accepted as CERTIFIED: it is
    # that check, nothing else, that refuses it.
    monkeypatch.setattr(verifier, "check_complete", lambda *a: None)
    out = verify_in_process(real, path)
    assert out.verdict["result"] == "CERTIFIED", out.verdict


def test_a_complete_report_forged_the_same_way_verifies(real: Real, tmp_path: Path) -> None:
    """The control: the same re-signing with nothing removed is accepted."""
    res = verify(real, forge(real, tmp_path, lambda st: None))
    assert res.code == 0, res.out + res.err


def test_a_row_no_suite_runs_is_refused(real: Real, tmp_path: Path) -> None:
    def edit(st: dict[str, Any]) -> None:
        row = next(r for r in st["predicate"]["results"] if r["suite"] == "ieee754")
        st["predicate"]["results"].append({**row, "id": "test_ieee754.py::test_explicit[f64.made_up.rne]"})
        st["predicate"]["results"].sort(key=lambda r: r["id"])

    line = refused(real, forge(real, tmp_path, edit))
    assert "result test_ieee754.py::test_explicit[f64.made_up.rne] is not a test profile test-quick" in line, line


def test_a_row_moved_to_an_advisory_suite_is_refused(real: Real, tmp_path: Path) -> None:
    """A failing required test relabelled into the advisory libm suite would no longer fail the verdict."""
    target = "test_ieee754.py::test_explicit[f64.div.rne]"

    def edit(st: dict[str, Any]) -> None:
        row = next(r for r in st["predicate"]["results"] if r["id"] == target)
        row.update(suite="libm", outcome="failed", failures=1, message="1 ulp")

    line = refused(real, forge(real, tmp_path, edit))
    assert f"result {target} claims suite libm, but it is a test of suite ieee754" in line, line


def test_a_transcript_without_its_row_is_refused(real: Real, tmp_path: Path) -> None:
    line = refused(real, forge(real, tmp_path, _drop("transcript::main")))
    assert "a probe transcript without its result: transcript::main" in line, line


def test_a_vector_set_this_teecert_does_not_ship_is_refused(real: Real, tmp_path: Path) -> None:
    """Which tests a run had follows from the vector set: one this teecert does not
    have cannot be checked, and is refused rather than believed."""
    doc = copy.deepcopy(real.profile.data)
    doc["id"] = "test-other-vectors"
    doc["vector_set"]["digest"] = "ab" * 32
    other = from_document(doc, "other")

    def edit(st: dict[str, Any]) -> None:
        pred = st["predicate"]
        pred["profile"] = {**other.identity(), "document": other.data}
        pred["vector_set"]["digest"] = "ab" * 32

    path = forge(real, tmp_path, edit)
    prof_path = tmp_path / "other.json"
    prof_path.write_text(json.dumps(doc))
    res = teecert_cli(["verify", str(path), "--trust", str(real.pub), "--profile", str(prof_path)])
    assert res.code == 2 and res.out == "", res.out + res.err
    (line,) = res.err.splitlines()
    assert f"{path}: made with vector set teecert-core" in line and "which this teecert does not ship" in line, line
    with pytest.raises(UsageError):
        check_complete({**real.statement["predicate"], "vector_set": {"name": "teecert-core", "version": "3",
                                                                      "digest": "ab" * 32}}, other, "r")


def test_a_vector_set_version_that_does_not_match_its_digest_is_refused(real: Real) -> None:
    pred = {**real.statement["predicate"], "vector_set": {**real.statement["predicate"]["vector_set"],
                                                          "version": "1"}}
    with pytest.raises(NotAuthentic, match="names vector set teecert-core v1 with the digest of teecert-core v"):
        check_complete(pred, real.profile, "r")


def test_compare_and_decide_refuse_an_incomplete_report(real: Real, tmp_path: Path) -> None:
    path = forge(real, tmp_path, _one_row_per_suite)
    res = teecert_cli(["compare", str(real.path), str(path), "--trust", str(real.pub),
                       "--profile", str(real.profile_path)])
    assert res.code == 2, res.out + res.err
    assert "incomplete: " in res.err.splitlines()[0]
    pub = real.key.public_key()
    with pytest.raises(NotAuthentic, match="incomplete"):
        decision.build([(path.read_bytes(), str(path))], real.profile, trusted={keys.keyid(pub): pub})
