"""Re-verification: reports accepted at their run time with real Intel quotes and
their real collateral, judged again later.

Three realistic ways a certified machine falls out, all with Intel-signed collateral:

* a TCB recovery: the SGX machine was certified with Intel's *standard* TCB info for its
  FMSPC (evaluation 17: ConfigurationAndSWHardeningNeeded, which its profile accepts);
  re-verified with the *early* TCB info Intel published the same day (evaluation 19,
  the 2025-05 recovery) it is OutOfDateConfigurationNeeded, short of SGX TCB
  components 01 and 02 (SOURCES.md, sample 6b);
* after a TCB recovery governance raises ``min_tcb_evaluation_data_number`` above the
  collateral's (17 here; Intel published 18 and 19 since), so a machine whose operator
  has not fetched collateral of the new evaluation is out;
* the collateral the machine was certified with is past its ``nextUpdate`` and nothing
  newer was given for its FMSPC, so nothing shows its TCB is still acceptable.

No TEE can attest a statement a test makes: the quote carries its own report data.  The
tests stand that in for the binding (``run_evidence.evidence_report_data``), which
tests/attestation/test_run_evidence.py covers; everything else (the quote, Intel's
chain, signatures, CRLs and TCB levels) is real.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert.attestation import run_evidence
from teecert.attestation.validate import policy as att_policy
from teecert.cli.main import main as teecert_main
from teecert.errors import MalformedInput, UnsupportedOp
from teecert.profile import load_profile
from teecert.report import keys
from teecert.report import statement as report
from teecert.verify.reverify import (
    _now_policy,
    load_collateral,
    reverified_to_json,
    reverify,
    reverify_report,
)
from teecert.verify.verifier import verify_report_file

import reportfactory as rf
from conftest import REALWORLD

pytestmark = pytest.mark.skipif(not REALWORLD.is_dir(), reason=f"real-world attestation samples absent ({REALWORLD})")

QUOTE = REALWORLD / "tdx/tdx_v4_quote_uptodate.dat"
COLL = REALWORLD / "tdx/tdx_v4_quote_uptodate.collateral.json"
SGX_COLL = REALWORLD / "sgx/sgx_v3_quote_swhardening.collateral.json"
RUN_AT = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)  # inside the collateral's window (to 2025-07-19)
LATER = dt.datetime(2025, 7, 10, tzinfo=dt.UTC)  # still inside it
EXPIRED = dt.datetime(2025, 7, 25, tzinfo=dt.UTC)  # past it, inside the report's 30 days
SGX_QUOTE = REALWORLD / "sgx/sgx_v3_quote_swhardening.dat"
SGX_STANDARD = REALWORLD / "sgx/sgx_00a067110000_standard17.collateral.json"
SGX_EARLY = REALWORLD / "sgx/sgx_00a067110000_early19.collateral.json"


@pytest.fixture
def quote_binding(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """The real quote's report data stands in for the binding (module docstring)."""
    rd = QUOTE.read_bytes()[48 + 520: 48 + 584]
    monkeypatch.setattr(run_evidence, "evidence_report_data", lambda statement, rd_, where: rd)
    return rd


@pytest.fixture
def signed(tmp_path: Path, quote_binding: bytes) -> tuple[Path, Path]:
    """(report, signer's public key): a development-profile run at ``RUN_AT`` whose
    evidence is the real TDX quote with its real collateral."""
    prof = load_profile("development")
    key = Ed25519PrivateKey.generate()
    st = rf.statement_for(key, profile=prof, now=RUN_AT)
    st["predicate"]["attestation"] = run_evidence.blank_section("file")
    att, row = run_evidence.from_evidence(profile_data=prof.data, statement=st, data=QUOTE.read_bytes(), fmt="tdx",
                                          certs=[], collateral=COLL.read_bytes())
    assert row["outcome"] == "passed", row["message"]
    st = report.with_attestation(st, att, row, prof)
    path = report.write_report(tmp_path, report.sign_statement(st, key), st)
    pub = tmp_path / "signer.pub"
    keys.write_public(pub, key.public_key())
    return path, pub


def _outcome(signed: tuple[Path, Path], at: dt.datetime = LATER) -> Any:
    path, pub = signed
    return verify_report_file(path, trusted=keys.load_trusted(pub), profile=load_profile("development"), at=at)


def _raised(tmp_path: Path, minimum: int) -> att_policy.Policy:
    doc = {**load_profile("development").data["attestation"]["policy"], "min_tcb_evaluation_data_number": minimum}
    return att_policy.from_document(doc, "governance policy")


def test_accepted_then_and_still_accepted_with_the_same_collateral_in_its_window(signed: tuple[Path, Path]) -> None:
    outcome = _outcome(signed)
    assert outcome.verdict["result"] == "CERTIFIED"
    r = reverify_report(outcome, collateral=[load_collateral(COLL.read_bytes(), "coll.json")], at=LATER)
    assert r.accepted_then and r.accepted_now
    assert r.tcb_status_then == r.tcb_status_now == "UpToDate"
    assert r.collateral == "coll.json (TDX, FMSPC B0C06F000000)"


def test_a_governance_minimum_after_a_tcb_recovery_takes_the_machine_out(signed: tuple[Path, Path],
                                                                         tmp_path: Path) -> None:
    r = reverify_report(_outcome(signed), collateral=[load_collateral(COLL.read_bytes(), "coll.json")], at=LATER,
                        policy=_raised(tmp_path, 18))
    assert r.accepted_then and not r.accepted_now
    assert "min_tcb_evaluation_data_number: collateral TCB info has tcbEvaluationDataNumber 17, the policy needs " \
           "at least 18" in r.now
    assert reverified_to_json(r)["failures"][0].startswith("min_tcb_evaluation_data_number:")


def test_expired_collateral_and_none_newer_for_its_fmspc_takes_the_machine_out(signed: tuple[Path, Path]) -> None:
    # Newer collateral for another platform is given; none for this FMSPC.
    [r] = reverify([_outcome(signed, EXPIRED)], collateral=[load_collateral(SGX_COLL.read_bytes(), "sgx.json")],
                   at=EXPIRED)
    assert r.accepted_then and not r.accepted_now
    assert r.collateral == "the report's own (none given for TDX FMSPC B0C06F000000)"
    assert "collateral expired" in r.now and "2025-07-19" in r.now


def test_the_binding_still_holds_when_re_judged(signed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = _outcome(signed)
    monkeypatch.setattr(run_evidence, "evidence_report_data", lambda statement, rd_, where: bytes(64))
    r = reverify_report(outcome, collateral=[], at=LATER)
    assert r.accepted_then and not r.accepted_now
    assert "binding" in r.now


def test_malformed_collateral_names_the_file_and_field() -> None:
    with pytest.raises(MalformedInput, match=r"^bad.json: collateral.tcb_info is missing"):
        load_collateral(b'{"pck_crl": "00"}', "bad.json")


def test_cli_still_accepted_exits_0(signed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    path, pub = signed
    code = teecert_main(["attest", "reverify", str(path), "--collateral", str(COLL), "--at", "2025-07-10T00:00:00Z",
                         "--trust", str(pub), "--profile", "development"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith(f"{path}: still accepted at 2025-07-10T00:00:00Z (tdx, TCB status UpToDate -> UpToDate")


def test_cli_fell_out_exits_1_with_the_reason(signed: tuple[Path, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path, pub = signed
    pol = tmp_path / "policy.json"
    pol.write_text(json.dumps({"formats": ["tdx"], "min_tcb_evaluation_data_number": 18}))
    code = teecert_main(["attest", "reverify", str(path), "--collateral", str(COLL), "--at", "2025-07-10T00:00:00Z",
                         "--trust", str(pub), "--profile", "development", "--policy", str(pol), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["exit_code"] == 1
    [entry] = doc["reports"]
    assert entry["accepted_then"] is True and entry["accepted_now"] is False
    assert "tcbEvaluationDataNumber 17" in entry["now"]


def test_cli_unpinned_reports_are_not_counted(signed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = signed
    code = teecert_main(["attest", "reverify", str(path), "--collateral", str(COLL), "--at", "2025-07-10T00:00:00Z"])
    out = capsys.readouterr().out
    assert code == 1
    assert "not accepted: signer not pinned" in out


def test_cli_bad_collateral_exits_2(signed: tuple[Path, Path], tmp_path: Path) -> None:
    path, pub = signed
    bad = tmp_path / "bad.json"
    bad.write_bytes(base64.b64encode(b"not json"))
    code = teecert_main(["attest", "reverify", str(path), "--collateral", str(bad), "--at", "2025-07-10T00:00:00Z",
                         "--trust", str(pub)])
    assert code == 2


# --- the SGX machine and Intel's early TCB info of a recovery -------------------------


@pytest.fixture
def sgx_signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """(report, signer's key, profile file): a run at ``RUN_AT`` under a profile that
    accepts ConfigurationAndSWHardeningNeeded after review, with the real SGX quote and
    Intel's standard TCB info (evaluation 17) for its FMSPC."""
    rd = SGX_QUOTE.read_bytes()[48 + 320: 48 + 384]
    monkeypatch.setattr(run_evidence, "evidence_report_data", lambda statement, rd_, where: rd)
    doc = json.loads(json.dumps(load_profile("development").data))
    doc["id"] = "test-sgx-reviewed"
    doc["attestation"]["policy"]["accepted_tcb_statuses"] = ["UpToDate", "ConfigurationAndSWHardeningNeeded"]
    prof_path = tmp_path / "profile.json"
    prof_path.write_text(json.dumps(doc))
    prof = load_profile(prof_path)
    key = Ed25519PrivateKey.generate()
    st = rf.statement_for(key, profile=prof, now=RUN_AT)
    st["predicate"]["attestation"] = run_evidence.blank_section("file")
    att, row = run_evidence.from_evidence(profile_data=prof.data, statement=st, data=SGX_QUOTE.read_bytes(),
                                          fmt="sgx", certs=[], collateral=SGX_STANDARD.read_bytes())
    assert row["outcome"] == "passed", row["message"]
    st = report.with_attestation(st, att, row, prof)
    path = report.write_report(tmp_path, report.sign_statement(st, key), st)
    pub = tmp_path / "signer.pub"
    keys.write_public(pub, key.public_key())
    return path, pub, prof_path


def test_intel_s_early_tcb_info_of_a_recovery_takes_the_sgx_machine_out(sgx_signed: tuple[Path, Path, Path]) -> None:
    path, pub, prof_path = sgx_signed
    outcome = verify_report_file(path, trusted=keys.load_trusted(pub), profile=load_profile(prof_path), at=RUN_AT)
    assert outcome.verdict["result"] == "CERTIFIED"
    same = reverify_report(outcome, collateral=[load_collateral(SGX_STANDARD.read_bytes(), "standard.json")],
                           at=RUN_AT)
    assert same.accepted_now and same.tcb_status_now == "ConfigurationAndSWHardeningNeeded"
    r = reverify_report(outcome, collateral=[load_collateral(SGX_EARLY.read_bytes(), "early.json")], at=RUN_AT)
    assert r.accepted_then and not r.accepted_now
    assert (r.tcb_status_then, r.tcb_status_now) == ("ConfigurationAndSWHardeningNeeded", "OutOfDateConfigurationNeeded")
    assert "TCB status OutOfDateConfigurationNeeded is not among UpToDate, ConfigurationAndSWHardeningNeeded" in r.now
    assert "SGX TCB component 01 has 11, needs 13: BIOS/microcode update" in r.now


def test_cli_reports_the_machine_that_fell_out_after_the_recovery(sgx_signed: tuple[Path, Path, Path],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path, pub, prof_path = sgx_signed
    code = teecert_main(["attest", "reverify", str(path), "--collateral", str(SGX_EARLY), "--collateral", str(COLL),
                         "--at", "2025-07-01T00:00:00Z", "--trust", str(pub), "--profile", str(prof_path)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert out.startswith(f"{path}: FELL OUT at 2025-07-01T00:00:00Z: sgx evidence authentic but policy not met: "
                          "accepted_tcb_statuses: TCB status OutOfDateConfigurationNeeded")
    assert f"(collateral: {SGX_EARLY} (SGX, FMSPC 00A067110000))" in out


def test_compare_and_decide_use_the_re_verification(sgx_signed: tuple[Path, Path, Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path, pub, prof_path = sgx_signed
    common = [str(path), "--trust", str(pub), "--profile", str(prof_path), "--at", "2025-07-01T00:00:00Z"]
    assert teecert_main(["compare", *common]) == 0
    capsys.readouterr()
    assert teecert_main(["compare", *common, "--reverify-collateral", str(SGX_EARLY),
                         "--reverify-at", "2025-07-01T00:00:00Z"]) == 1
    out = capsys.readouterr().out
    assert f"{path}: fell out when re-verified at 2025-07-01T00:00:00Z: sgx evidence authentic but policy " \
           "not met: accepted_tcb_statuses: TCB status OutOfDateConfigurationNeeded" in out

    gov_key = tmp_path / "gov.pem"
    keys.generate(gov_key)
    decide = ["decide", *common, "--key", str(gov_key)]
    assert teecert_main([*decide, "--out", str(tmp_path / "before.json")]) == 0
    assert teecert_main([*decide, "--out", str(tmp_path / "after.json"), "--reverify-collateral", str(SGX_EARLY),
                         "--reverify-at", "2025-07-01T00:00:00Z"]) == 1
    env = json.loads((tmp_path / "after.json").read_text())
    pred = json.loads(base64.b64decode(env["payload"]))["predicate"]
    assert pred["verificationResult"] == "FAILED"
    assert [v["result"] for v in pred["verdicts"]] == ["NOT_CERTIFIED"]
    assert any("re-verified at 2025-07-01T00:00:00Z" in c and "OutOfDateConfigurationNeeded" in c
               for c in pred["caveats"])


def test_reverify_collateral_without_a_time_is_a_usage_error(sgx_signed: tuple[Path, Path, Path],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path, pub, _ = sgx_signed
    code = teecert_main(["compare", str(path), "--trust", str(pub), "--reverify-collateral", str(SGX_EARLY)])
    assert code == 2
    assert "--reverify-collateral needs --reverify-at" in capsys.readouterr().err


# --- evidence without collateral, and reports without evidence ------------------------


class _NoTee:
    """A probe that reaches no TEE: a development run then takes simulated evidence."""

    def attest(self, report_data: bytes) -> tuple[str, bytes]:
        raise UnsupportedOp("test probe: reaches no attestation technology")


def test_the_run_s_evidence_age_limit_does_not_apply() -> None:
    """Evidence is old by nature when re-verified: the run's evidence-age limit (an hour)
    would take out every machine whose evidence carries its own time (Nitro)."""
    prof = load_profile("development")
    assert run_evidence.profile_policy(prof.data, "p").max_evidence_age_seconds == 3600
    assert _now_policy(prof.data, None, "p").max_evidence_age_seconds is None
    given = att_policy.from_document({"max_evidence_age_seconds": 60, "min_tcb_evaluation_data_number": 18}, "g")
    again = _now_policy(prof.data, given, "p")
    assert again.max_evidence_age_seconds is None and again.min_tcb_evaluation_data_number == 18


def test_simulated_evidence_is_re_judged_under_the_given_policy(tmp_path: Path) -> None:
    prof = load_profile("development")
    key = Ed25519PrivateKey.generate()
    st = rf.statement_for(key, profile=prof, now=RUN_AT)
    st["predicate"]["attestation"] = run_evidence.blank_section("probe")
    att, row = run_evidence.collect(probe=_NoTee(), profile_data=prof.data, statement=st, now=RUN_AT,
                                    measurement=bytes.fromhex(st["predicate"]["probe"]["digest"]))
    st = report.with_attestation(st, att, row, prof)
    path = report.write_report(tmp_path, report.sign_statement(st, key), st)
    outcome = verify_report_file(path, trusted={keys.keyid(key.public_key()): key.public_key()}, profile=prof,
                                 at=LATER)
    r = reverify_report(outcome, collateral=[], at=LATER)
    assert r.format == "sim" and r.accepted_then and r.accepted_now, r.now
    assert r.collateral == "the report's own"
    # The same evidence under a policy that takes no simulated evidence falls out.
    strict = att_policy.from_document({"formats": ["tdx"]}, "governance policy")
    r = reverify_report(outcome, collateral=[], at=LATER, policy=strict)
    assert not r.accepted_now and "formats: evidence is sim" in r.now


def test_a_report_without_evidence_stands_as_it_was(tmp_path: Path) -> None:
    signed = rf.make_signed_report(tmp_path)
    outcome = verify_report_file(signed.path, trusted=signed.trusted, profile=signed.profile, at=rf.NOW)
    r = reverify_report(outcome, collateral=[], at=rf.NOW)
    assert r.accepted_then == r.accepted_now == (outcome.verdict["result"] == "CERTIFIED")
    assert r.collateral == "none" and "no attestation evidence" in r.now
