"""``run_evidence.check_report``: what a report records about its evidence is re-derived.

A run under the development profile, with no TEE, gets simulated evidence over its
binding.  The verifier re-verifies that evidence and requires the recorded outcome,
the ``attestation::evidence`` result row and the verified record to be exactly what
the evidence gives.  Each is changed here in a way the binding does not cover (the
binding leaves out what the evidence decides), and each change must be refused as
not authentic.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert.attestation import binding, run_evidence
from teecert.errors import NotAuthentic, UnsupportedOp
from teecert.profile import Profile, load_profile
from teecert.report import statement as report

import reportfactory as rf

ROW = "attestation::evidence"


class NoTee:
    """A probe that reaches no TEE: a development profile then takes simulated evidence."""

    def attest(self, report_data: bytes) -> tuple[str, bytes]:
        raise UnsupportedOp("test probe: reaches no attestation technology")


@pytest.fixture(scope="module")
def dev() -> Profile:
    return load_profile("development")


@pytest.fixture(scope="module")
def attested(dev: Profile) -> dict[str, Any]:
    st = rf.statement_for(Ed25519PrivateKey.generate(), profile=dev)
    st["predicate"]["attestation"] = run_evidence.blank_section("probe")
    att, row = run_evidence.collect(probe=NoTee(), profile_data=dev.data, statement=st, now=rf.NOW,
                                    measurement=bytes.fromhex(st["predicate"]["probe"]["digest"]))
    return report.with_attestation(st, att, row, dev)


def _row(st: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in st["predicate"]["results"] if r["id"] == ROW)


def test_the_untouched_report_checks(attested: dict[str, Any], dev: Profile) -> None:
    pred = attested["predicate"]
    assert pred["attestation"]["format"] == "sim" and pred["attestation"]["source"] == "simulated"
    assert _row(attested)["outcome"] == "passed"
    assert isinstance(pred["attestation"]["verified"], dict) and pred["attestation"]["failures"] == []
    notes = run_evidence.check_report(attested, dev.data, "r.json")
    assert len(notes) == 1 and notes[0].startswith("attestation: simulated (development only) evidence authentic")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(st: dict[str, Any]) -> None:
        node: Any = st["predicate"]["attestation"] if not path.startswith("row.") else _row(st)
        *parents, last = path.removeprefix("row.").split(".")
        for p in parents:
            node = node[p]
        node[last] = value
    return edit


def _flip_outcome(st: dict[str, Any]) -> None:
    _row(st)["outcome"] = "failed"


EDITS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    # the recorded outcome against the recomputed one
    "outcome passed -> failed": (_flip_outcome, f"result {ROW} says failed, but the embedded evidence gives passed"),
    "outcome passed -> skipped": (_set("row.outcome", "skipped"), "says skipped, but the embedded evidence gives passed"),
    # the rest of the row
    "row message": (_set("row.message", "evidence authentic, policy met"), f"result {ROW} differs from"),
    "row failures": (_set("row.failures", 1), f"result {ROW} differs from"),
    "row vectors": (_set("row.vectors", 3), f"result {ROW} differs from"),
    "row suite": (_set("row.op", "f64.add.rne"), f"result {ROW} differs from"),
    # the verified record
    "verified debug": (_set("verified.debug", True), "predicate.attestation.verified.debug differs"),
    "verified format": (_set("verified.format", "snp"), "predicate.attestation.verified.format differs"),
    "verified report data": (_set("verified.report_data", "00" * 64), "predicate.attestation.verified.report_data"),
    "verified record dropped": (_set("verified", None), "predicate.attestation.verified differs"),
    "failures": (_set("failures", ["policy: made up"]), "predicate.attestation.failures differs"),
    "source": (_set("source", "probe"), "predicate.attestation.source differs"),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_a_changed_record_is_not_authentic(attested: dict[str, Any], dev: Profile, name: str) -> None:
    edit, message = EDITS[name]
    st = copy.deepcopy(attested)
    edit(st)
    # none of these fields is in the binding: only the re-derivation can catch the change
    assert binding.report_data(st, "probe") == binding.report_data(attested, "probe")
    with pytest.raises(NotAuthentic, match=rf"^r\.json: .*{re.escape(message)}"):
        run_evidence.check_report(st, dev.data, "r.json")


def test_verified_fields_are_compared_one_by_one(attested: dict[str, Any], dev: Profile) -> None:
    verified = attested["predicate"]["attestation"]["verified"]
    assert verified, "the simulated evidence gives a verified record"
    for key, value in verified.items():
        st = copy.deepcopy(attested)
        st["predicate"]["attestation"]["verified"][key] = "changed" if value != "changed" else "other"
        with pytest.raises(NotAuthentic, match=f"predicate.attestation.verified.{key} differs"):
            run_evidence.check_report(st, dev.data, "r.json")


def test_a_row_that_claims_a_pass_the_evidence_does_not_give(attested: dict[str, Any], dev: Profile) -> None:
    # Judged under a policy the simulated evidence does not meet, the recomputed outcome
    # is failed, and a row saying passed is refused.
    strict_policy = copy.deepcopy(dev.data)
    strict_policy["attestation"]["policy"]["formats"] = ["snp"]
    with pytest.raises(NotAuthentic, match=f"result {ROW} says passed, but the embedded evidence gives failed"):
        run_evidence.check_report(attested, strict_policy, "r.json")


def test_a_missing_row_or_section_is_not_authentic(attested: dict[str, Any], dev: Profile) -> None:
    st = copy.deepcopy(attested)
    st["predicate"]["results"] = [r for r in st["predicate"]["results"] if r["id"] != ROW]
    with pytest.raises(NotAuthentic, match=f"result {ROW} says nothing, but the embedded evidence gives passed"):
        run_evidence.check_report(st, dev.data, "r.json")
    st = copy.deepcopy(attested)
    del st["predicate"]["attestation"]
    with pytest.raises(NotAuthentic, match=f"result {ROW} without an attestation section"):
        run_evidence.check_report(st, dev.data, "r.json")
    st["predicate"]["results"] = [r for r in st["predicate"]["results"] if r["id"] != ROW]
    assert run_evidence.check_report(st, dev.data, "r.json") == []


def test_the_binding_is_checked_first(attested: dict[str, Any], dev: Profile) -> None:
    st = copy.deepcopy(attested)
    st["predicate"]["run"]["nonce"] = "00" * 32
    with pytest.raises(NotAuthentic, match="the attestation binding does not match this report"):
        run_evidence.check_report(st, dev.data, "r.json")


def test_evidence_is_judged_at_the_run_finish(attested: dict[str, Any], dev: Profile) -> None:
    # Simulated evidence is valid for 30 days: judged 31 days after the run it fails,
    # and check_report, which judges it at the run's finish, still accepts the report.
    pred = attested["predicate"]
    rd = binding.report_data(attested, "probe")
    pol = run_evidence.profile_policy(dev.data, "p")
    later = run_evidence.evaluate(pred["attestation"], rd, pol, rf.NOW + dt.timedelta(days=31), "a")
    assert later[0] == "failed" and "expired" in later[1]
    assert run_evidence.evaluate(pred["attestation"], rd, pol, rf.NOW, "a")[0] == "passed"
    assert run_evidence.check_report(attested, dev.data, "r.json")


@pytest.mark.parametrize("fmt", ["snp", "tdx", "nitro"])
def test_a_recorded_format_other_than_the_evidence_s_is_refused(attested: dict[str, Any], dev: Profile,
                                                                 fmt: str) -> None:
    st = copy.deepcopy(attested)
    st["predicate"]["attestation"]["format"] = fmt
    with pytest.raises(NotAuthentic, match=rf"gives failed: evidence not authentic: .*format says {fmt}, "
                                           r"but the evidence is sim"):
        run_evidence.check_report(st, dev.data, "r.json")
