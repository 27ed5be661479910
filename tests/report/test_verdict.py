"""The verdict rules, one case each, and the summary counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from teecert.profile import Profile, load_profile
from teecert.report import verdict

from reportfactory import make_results, result

ALL = ("probe", "ieee754", "integers", "hashes", "contraction", "fpenv", "stress", "clocks", "libm",
       "environment")


@pytest.fixture(scope="module")
def dev() -> Profile:
    return load_profile("development")


@pytest.fixture(scope="module")
def strict() -> Profile:
    return load_profile("strict")


def passing() -> list[dict[str, Any]]:
    return [result(f"test_{s}.py::test_ok", s) for s in ALL]


def test_all_required_suites_pass(dev: Profile) -> None:
    assert verdict.compute(passing(), dev) == {"result": "CERTIFIED", "reasons": []}


def test_missing_suite(dev: Profile) -> None:
    rows = [r for r in passing() if r["suite"] != "fpenv"]
    assert verdict.compute(rows, dev) == {
        "result": "NOT_CERTIFIED", "reasons": [{"code": "SUITE_MISSING", "suite": "fpenv"}]}


def test_no_results_at_all_misses_every_suite(dev: Profile) -> None:
    v = verdict.compute([], dev)
    assert v["result"] == "NOT_CERTIFIED"
    assert [r["suite"] for r in v["reasons"]] == sorted(s for s in ALL if s != "libm")  # advisory


@pytest.mark.parametrize("outcome", ["failed", "error"])
def test_failed_or_error_fails(dev: Profile, outcome: str) -> None:
    rows = [*passing(), result("test_ieee754.py::test_explicit[f64.add.rne]", "ieee754", outcome,
                               op="f64.add.rne", kind="explicit", message="1 of 120 vectors differ")]
    assert verdict.compute(rows, dev)["reasons"] == [{
        "code": "TEST_FAILED", "test": "test_ieee754.py::test_explicit[f64.add.rne]", "suite": "ieee754",
        "message": "1 of 120 vectors differ"}]


def test_skipped_required_test_fails(dev: Profile) -> None:
    rows = [*passing(), result("test_fpenv.py::test_ftz", "fpenv", "skipped", message="no x86")]
    assert verdict.compute(rows, dev)["reasons"] == [{
        "code": "TEST_SKIPPED", "test": "test_fpenv.py::test_ftz", "suite": "fpenv", "message": "no x86"}]


#: strict requires attestation: the row that records authentic, policy-meeting evidence
ATTESTED = result("attestation::evidence", "attestation", "passed")


def test_unsupported_op_depends_on_the_profile(dev: Profile, strict: Profile) -> None:
    rows = [*passing(), ATTESTED, result("test_ieee754.py::test_explicit[f32.sqrt.rdn]", "ieee754", "unsupported",
                                         op="f32.sqrt.rdn", kind="explicit")]
    assert verdict.compute(rows, dev) == {"result": "CERTIFIED", "reasons": []}
    assert verdict.compute(rows, strict)["reasons"] == [{
        "code": "OP_UNSUPPORTED", "test": "test_ieee754.py::test_explicit[f32.sqrt.rdn]", "suite": "ieee754",
        "op": "f32.sqrt.rdn"}]


def test_advisory_and_unknown_suites_never_fail(tmp_path: Path, dev: Profile) -> None:
    doc = dict(dev.data, id="advisory-fpenv", suites={**dev.data["suites"], "fpenv": "advisory"})
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    prof = load_profile(path)
    rows = [r for r in passing() if r["suite"] != "fpenv"] + [
        result("test_fpenv.py::test_ftz", "fpenv", "failed"),
        result("test_moon.py::test_phase", "moon", "failed"),
    ]
    assert verdict.compute(rows, prof) == {"result": "CERTIFIED", "reasons": []}
    # An advisory suite with no results is not missing either.
    assert verdict.compute([r for r in passing() if r["suite"] != "fpenv"], prof)["result"] == "CERTIFIED"


def test_reasons_are_sorted_and_deterministic(strict: Profile) -> None:
    rows = [*make_results(6, 5, n_skip=3, n_unsupported=3, n_error=2), ATTESTED]
    v = verdict.compute(rows, strict)
    assert v == verdict.compute(list(reversed(rows)), strict)
    keys = [(r["suite"], r.get("test", ""), r["code"]) for r in v["reasons"]]
    assert keys == sorted(keys)
    assert {r["code"] for r in v["reasons"]} == {"TEST_FAILED", "TEST_SKIPPED", "OP_UNSUPPORTED"}


def test_summary_counts() -> None:
    rows = make_results(4, 3, n_skip=2, n_unsupported=1, n_error=1)
    s = verdict.summarize(rows)
    assert s == {"total": 11, "passed": 4, "failed": 3, "error": 1, "skipped": 2, "unsupported": 1,
                 "vectors": sum(r["vectors"] for r in rows)}
    assert all(type(v) is int for v in s.values())
    assert verdict.summarize([]) == {"total": 0, "passed": 0, "failed": 0, "error": 0, "skipped": 0,
                                     "unsupported": 0, "vectors": 0}
