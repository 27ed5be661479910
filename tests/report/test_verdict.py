"""The verdict rules, one case each, and the summary counts."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert.profile import Profile, load_profile
from teecert.report import keys, verdict
from teecert.vectors import store, testplan

import reportfactory as rf
from conftest import CliResult, no_traceback, teecert_cli
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


@pytest.mark.parametrize("outcome", ["failed", "error"])
def test_libm_that_changes_under_a_perturbation_fails_whatever_the_levels(
        tmp_path: Path, dev: Profile, outcome: str) -> None:
    """Correct rounding may be advisory; results that change with the environment are
    a failure in every profile, even one where the stress suite is advisory."""
    prof = _profile(dev, tmp_path, suites={**dev.data["suites"], "stress": "advisory", "libm": "advisory"})
    test_id = "test_stress.py::test_libm_determinism[fp_poison]"
    rows = [*passing(), result(test_id, "stress", outcome, message="f64.exp.rne differs")]
    assert verdict.compute(rows, prof)["reasons"] == [{
        "code": "TEST_FAILED", "test": test_id, "suite": "stress", "message": "f64.exp.rne differs"}]
    # what the stress suite's level covers stays advisory: a skip, or another stress test
    for other in (result(test_id, "stress", "skipped", message="not applicable"),
                  result("test_stress.py::test_perturbation[fp_poison]", "stress", outcome)):
        assert verdict.compute([*passing(), other], prof) == {"result": "CERTIFIED", "reasons": []}


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
                 "advisory": 0, "vectors": sum(r["vectors"] for r in rows)}
    assert all(type(v) is int for v in s.values())
    assert verdict.summarize([]) == {"total": 0, "passed": 0, "failed": 0, "error": 0, "skipped": 0,
                                     "unsupported": 0, "advisory": 0, "vectors": 0}


# -- outcomes the verdict does not know --------------------------------------------------


@pytest.mark.parametrize("outcome", ["pased", "PASSED", "xfailed", "", "ok"])
def test_an_unknown_outcome_in_a_required_suite_fails_closed(dev: Profile, outcome: str) -> None:
    # The schema admits only the five outcomes; anything else reaching the verdict is a
    # bug upstream, and a bug must never read as a pass.
    rows = [*passing(), result("test_ieee754.py::test_explicit[f64.add.rne]", "ieee754", outcome,
                               op="f64.add.rne", kind="explicit")]
    v = verdict.compute(rows, dev)
    assert v["result"] == "NOT_CERTIFIED"
    assert [(r["code"], r["test"]) for r in v["reasons"]] == [
        ("TEST_FAILED", "test_ieee754.py::test_explicit[f64.add.rne]")]
    assert repr(outcome) in v["reasons"][0]["message"]


def test_an_unknown_outcome_in_an_advisory_suite_gives_no_reason(dev: Profile) -> None:
    assert dev.data["suites"]["libm"] == "advisory"
    rows = [*passing(), result("test_libm.py::test_libm_explicit[f64.exp.rne]", "libm", "pased")]
    assert verdict.compute(rows, dev) == {"result": "CERTIFIED", "reasons": []}


def _profile(base: Profile, tmp_path: Path, **changes: Any) -> Profile:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({**base.data, "id": "test-variant", **changes}))
    return load_profile(path)


def test_required_attestation_without_evidence_is_missing(strict: Profile) -> None:
    v = verdict.compute(passing(), strict)
    assert v["result"] == "NOT_CERTIFIED"
    assert [(r["code"], r["suite"]) for r in v["reasons"]] == [
        ("ATTESTATION_MISSING", "attestation"), ("SUITE_MISSING", "attestation")]
    assert verdict.compute([*passing(), ATTESTED], strict) == {"result": "CERTIFIED", "reasons": []}


@pytest.mark.parametrize("outcome", ["failed", "skipped", "error", "unsupported", "pased"])
def test_required_evidence_must_pass_even_where_the_suite_is_advisory(
        tmp_path: Path, strict: Profile, outcome: str) -> None:
    prof = _profile(strict, tmp_path, suites={**strict.data["suites"], "attestation": "advisory"})
    rows = [*passing(), result("attestation::evidence", "attestation", outcome, message="no evidence")]
    v = verdict.compute(rows, prof)
    assert v["result"] == "NOT_CERTIFIED"
    assert [(r["code"], r["test"], r["suite"]) for r in v["reasons"]] == [
        ("TEST_FAILED", "attestation::evidence", "attestation")]
    ok = [*passing(), result("attestation::evidence", "attestation", "passed")]
    assert verdict.compute(ok, prof) == {"result": "CERTIFIED", "reasons": []}


def test_summary_counts_an_unknown_outcome_under_its_own_name() -> None:
    rows = [result("a", "probe"), result("b", "probe", "pased", vectors=5)]
    s = verdict.summarize(rows)
    assert (s["total"], s["passed"], s["pased"], s["vectors"]) == (2, 1, 1, 5)


# -- waivers: the boundary, to the second ------------------------------------------------

FAILING_ID = "test_ieee754.py::test_explicit[f64.mul.rtz]"
EXPIRES = "2027-03-01T00:00:00Z"
#: EXPIRES as a datetime, written out here rather than parsed by teecert
EXPIRES_AT = dt.datetime(2027, 3, 1, 0, 0, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def _waived(dev: Profile, tmp_path: Path, tests: list[str], expires: str = EXPIRES) -> Profile:
    waiver = {"tests": tests, "reason": "vendor SDK rounds toward zero", "tracking": "https://example.org/t/1",
              "expires": expires}
    return _profile(dev, tmp_path, waivers=[waiver])


def _failing() -> list[dict[str, Any]]:
    return [*passing(), result(FAILING_ID, "ieee754", "failed", op="f64.mul.rtz", kind="explicit",
                               message="1 of 120 vectors differ")]


@pytest.mark.parametrize(("at", "in_force"), [
    (EXPIRES_AT - dt.timedelta(days=30), True),
    (EXPIRES_AT - SECOND, True),
    (EXPIRES_AT, True),  # the expires instant itself still counts
    (EXPIRES_AT + SECOND, False),
    (EXPIRES_AT + dt.timedelta(days=1), False),
])
def test_a_waiver_is_in_force_up_to_and_including_its_expires_second(
        dev: Profile, tmp_path: Path, at: dt.datetime, in_force: bool) -> None:
    v = verdict.compute(_failing(), _waived(dev, tmp_path, [FAILING_ID]), at=at)
    if in_force:
        assert v == {"result": "CERTIFIED", "reasons": [], "waived": [{
            "code": "WAIVED", "suite": "ieee754", "test": FAILING_ID, "failure": "TEST_FAILED",
            "message": "1 of 120 vectors differ", "tracking": "https://example.org/t/1", "expires": EXPIRES}]}
    else:
        assert v == verdict.compute(_failing(), dev)  # exactly as if there were no waiver
        assert "waived" not in v and v["reasons"][0]["test"] == FAILING_ID


def test_a_naive_time_is_read_as_utc(dev: Profile, tmp_path: Path) -> None:
    prof = _waived(dev, tmp_path, [FAILING_ID])
    naive = EXPIRES_AT.replace(tzinfo=None)
    assert verdict.compute(_failing(), prof, at=naive)["result"] == "CERTIFIED"
    assert verdict.compute(_failing(), prof, at=naive + SECOND)["result"] == "NOT_CERTIFIED"


def test_without_a_time_a_waiver_is_judged_now(dev: Profile, tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    past = (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    future = (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert verdict.compute(_failing(), _waived(dev, tmp_path, [FAILING_ID], future))["result"] == "CERTIFIED"
    assert verdict.compute(_failing(), _waived(dev, tmp_path, [FAILING_ID], past))["result"] == "NOT_CERTIFIED"


@pytest.mark.parametrize("outcome", ["skipped", "error", "pased"])
def test_a_waiver_covers_every_reason_of_a_test_it_names(dev: Profile, tmp_path: Path, outcome: str) -> None:
    rows = [*passing(), result(FAILING_ID, "ieee754", outcome)]
    v = verdict.compute(rows, _waived(dev, tmp_path, [FAILING_ID]), at=EXPIRES_AT)
    assert v["result"] == "CERTIFIED"
    assert [(w["test"], w["failure"]) for w in v["waived"]] == [
        (FAILING_ID, "TEST_SKIPPED" if outcome == "skipped" else "TEST_FAILED")]


def test_a_waiver_covers_only_the_tests_it_names(dev: Profile, tmp_path: Path) -> None:
    other = "test_ieee754.py::test_explicit[f64.add.rne]"
    rows = [*_failing(), result(other, "ieee754", "failed")]
    v = verdict.compute(rows, _waived(dev, tmp_path, [FAILING_ID]), at=EXPIRES_AT)
    assert v["result"] == "NOT_CERTIFIED"
    assert [r["test"] for r in v["reasons"]] == [other]
    assert [w["test"] for w in v["waived"]] == [FAILING_ID]


def test_test_ids_match_exactly_before_they_match_as_patterns(dev: Profile, tmp_path: Path) -> None:
    # As an fnmatch pattern, "[f64.mul.rtz]" is a character class matching one
    # character, so the id would not match itself.
    assert not fnmatch.fnmatchcase(FAILING_ID, FAILING_ID)
    assert verdict.waiver_covers({"tests": [FAILING_ID]}, FAILING_ID)
    assert verdict.waiver_covers({"tests": ["nothing", "test_ieee754.py::test_explicit[[]f64.mul.*"]}, FAILING_ID)
    assert not verdict.waiver_covers({"tests": ["test_ieee754.py::test_explicit[[]f64.add.*"]}, FAILING_ID)
    v = verdict.compute(_failing(), _waived(dev, tmp_path, [FAILING_ID]), at=EXPIRES_AT)
    assert v["result"] == "CERTIFIED"


def test_a_waiver_never_covers_a_missing_suite(dev: Profile, tmp_path: Path) -> None:
    rows = [r for r in _failing() if r["suite"] != "fpenv"]
    v = verdict.compute(rows, _waived(dev, tmp_path, ["*"]), at=EXPIRES_AT)
    assert v["reasons"] == [{"code": "SUITE_MISSING", "suite": "fpenv"}]
    assert [w["test"] for w in v["waived"]] == [FAILING_ID]


def test_the_first_waiver_in_force_is_the_one_recorded(dev: Profile, tmp_path: Path) -> None:
    old = {"tests": [FAILING_ID], "reason": "r", "tracking": "https://example.org/t/old",
           "expires": "2027-01-01T00:00:00Z"}
    new = {"tests": ["test_ieee754.py::*"], "reason": "r", "tracking": "https://example.org/t/new",
           "expires": EXPIRES}
    prof = _profile(dev, tmp_path, waivers=[old, new])
    early = verdict.compute(_failing(), prof, at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    late = verdict.compute(_failing(), prof, at=dt.datetime(2027, 2, 1, tzinfo=dt.UTC))
    assert [w["tracking"] for w in early["waived"]] == ["https://example.org/t/old"]
    assert [(w["tracking"], w["expires"]) for w in late["waived"]] == [("https://example.org/t/new", EXPIRES)]


def test_waived_entries_are_sorted(dev: Profile, tmp_path: Path) -> None:
    ids = [f"test_ieee754.py::test_explicit[f64.add.rne#{i}]" for i in (3, 1, 2)]
    rows = [*passing(), *(result(i, "ieee754", "failed") for i in ids),
            result("test_hashes.py::test_explicit[sha256]", "hashes", "failed")]
    v = verdict.compute(rows, _waived(dev, tmp_path, ["*"]), at=EXPIRES_AT)
    keys = [(w["suite"], w["test"]) for w in v["waived"]]
    assert keys == sorted(keys) and len(keys) == 4
    assert v == verdict.compute(list(reversed(rows)), _waived(dev, tmp_path, ["*"]), at=EXPIRES_AT)


# -- waivers at verification time: `teecert verify --at` --------------------------------


def _complete_failing(prof: Profile) -> list[dict[str, Any]]:
    """A row for every test a complete run under ``prof`` reports (verify refuses a
    report that leaves tests out), all passed but ``FAILING_ID``, and the factory
    statement's two transcript rows."""
    tests = testplan.expected_tests(prof.data, store.load_set())
    assert tests[FAILING_ID] == "ieee754"
    rows = [result(FAILING_ID, "ieee754", "failed", op="f64.mul.rtz", kind="explicit",
                   message="1 of 120 vectors differ") if tid == FAILING_ID else result(tid, suite)
            for tid, suite in tests.items()]
    rows += [result(f"{testplan.TRANSCRIPT_PREFIX}{w}", "probe") for w in ("gw0", "gw1")]
    return sorted(rows, key=lambda r: str(r["id"]))


def test_verify_refuses_a_verdict_that_relied_on_a_waiver_after_it_expired(dev: Profile, tmp_path: Path) -> None:
    expires = "2026-11-25T00:00:00Z"
    prof = _waived(dev, tmp_path, [FAILING_ID], expires)
    key = Ed25519PrivateKey.generate()
    st = rf.statement_for(key, profile=prof, results=_complete_failing(prof))
    pred = st["predicate"]
    pred["vector_set"]["version"] = store.SET_VERSION  # the version of the digest the profile pins
    # made while the waiver was in force, the report claims CERTIFIED with the failure waived
    assert pred["verdict"]["result"] == "CERTIFIED", pred["verdict"]
    assert [w["test"] for w in pred["verdict"]["waived"]] == [FAILING_ID]
    report_path = tmp_path / "report.json"
    report_path.write_bytes(rf.resign(st, key))
    pub = tmp_path / "signer.pub"
    keys.write_public(pub, key.public_key())

    def verify(at: str) -> CliResult:
        return teecert_cli(["verify", str(report_path), "--trust", str(pub), "--profile",
                            str(tmp_path / "profile.json"), "--at", at, "--json"])

    for at in ("2026-11-22T00:00:00Z", "2026-11-24T23:59:59Z", expires):
        res = verify(at)
        assert res.code == 0, (at, res.out, res.err)
        out = json.loads(res.out)
        assert out["verdict"]["result"] == "CERTIFIED" and out["verdict"]["waived"][0]["test"] == FAILING_ID
    for at in ("2026-11-25T00:00:01Z", "2026-12-01T00:00:00Z"):
        res = verify(at)
        assert res.code == 1, (at, res.out, res.err)  # authentic, but not certified
        assert no_traceback(res.out + res.err)
        out = json.loads(res.out)
        assert out["authentic"] is True and out["verdict"]["result"] == "NOT_CERTIFIED"
        assert [(r["code"], r["test"]) for r in out["verdict"]["reasons"]] == [("TEST_FAILED", FAILING_ID)]
        assert "waived" not in out["verdict"]
        assert any("waiver" in n and "expired" in n for n in out["notes"]), out["notes"]
    # The report itself is valid from its run's finish to 30 days later (the development
    # profile's validity), both instants included; the verdict there is the expired one.
    assert (pred["validity"]["not_before"], pred["validity"]["not_after"]) == (
        "2026-11-21T05:00:00Z", "2026-12-21T05:00:00Z")
    assert verify("2026-12-21T05:00:00Z").code == 1
    late = verify("2026-12-21T05:00:01Z")
    assert late.code == 2 and "expired at 2026-12-21T05:00:00Z" in late.err
    early = verify("2026-11-21T04:59:59Z")
    assert early.code == 2 and "not valid before 2026-11-21T05:00:00Z" in early.err
    first = verify("2026-11-21T05:00:00Z")
    assert first.code == 0 and json.loads(first.out)["verdict"]["result"] == "CERTIFIED"
