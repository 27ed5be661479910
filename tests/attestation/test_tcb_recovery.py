"""Intel DCAP TCB recovery: what a platform lacks, platforms no TCB level covers, and
the policy keys governance raises after a recovery.

The real samples' collateral is signed by Intel's TCB signing key, which no test can
forge.  Where a test needs collateral Intel has not published for these platforms (a
TCB recovery that raises a level above them), it wraps ``dcap._signed_json``: the real
text is still checked against Intel's real signature and chain, and only the parsed
result is then changed, standing in for the newer collateral Intel would sign.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert.attestation import run_evidence
from teecert.attestation.validate import policy
from teecert.attestation.verify import dcap
from teecert.cli.main import main as teecert_main
from teecert.errors import MalformedInput
from teecert.profile import load_profile
from teecert.report import keys
from teecert.report import statement as report

import reportfactory as rf
from conftest import REALWORLD

pytestmark = pytest.mark.skipif(not REALWORLD.is_dir(), reason=f"real-world attestation samples absent ({REALWORLD})")

TDX_V4 = "tdx/tdx_v4_quote_uptodate.dat"
TDX_V4_COLL = "tdx/tdx_v4_quote_uptodate.collateral.json"
TDX_V5 = "tdx/tdx_v5_td15_quote.dat"
SGX_V3 = "sgx/sgx_v3_quote_swhardening.dat"
SGX_V3_COLL = "sgx/sgx_v3_quote_swhardening.collateral.json"
IN_WINDOW = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)


def _read(name: str) -> bytes:
    return (REALWORLD / name).read_bytes()


def _verify(quote: str, coll: str | None, at: dt.datetime = IN_WINDOW) -> Any:
    return dcap.verify(_read(quote), collateral=_read(coll) if coll else None, roots=None, at=at, where="q.dat")


def _tdx_levels() -> list[dict[str, Any]]:
    body = json.loads(json.loads(_read(TDX_V4_COLL))["tcb_info"])
    levels = body["tcbLevels"]
    assert isinstance(levels, list)
    return levels


def _newer_collateral(monkeypatch: pytest.MonkeyPatch, name: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Collateral ``name`` as a TCB recovery would reissue it (module docstring)."""
    real = dcap._signed_json

    def signed_then_edited(doc: dict[str, Any], which: str, *args: Any) -> Any:
        body, path = real(doc, which, *args)
        if which == name:
            body = copy.deepcopy(body)
            edit(body)
        return body, path

    monkeypatch.setattr(dcap, "_signed_json", signed_then_edited)


# --- what a platform lacks, from the real collateral ------------------------------------


def test_sgx_status_names_the_short_component_and_what_fixes_it() -> None:
    v = _verify(SGX_V3, SGX_V3_COLL)
    assert v.tcb_status == "ConfigurationAndSWHardeningNeeded"
    # The best level of this FMSPC needs SGX TCB component 7 at 12; the PCK shows 0.
    assert v.claims["tcb_shortfall"][0] == ("for the SWHardeningNeeded level of 2024-03-13: SGX TCB component 07 "
                                            "has 0, needs 12: BIOS/microcode update")
    [fail] = policy.validate(v, {})
    assert fail.startswith("accepted_tcb_statuses: TCB status ConfigurationAndSWHardeningNeeded is not among UpToDate: ")
    assert "SGX TCB component 07 has 0, needs 12" in fail
    assert "configuration change named by INTEL-SA-00289, INTEL-SA-00615" in fail
    assert "enclave/TD software must carry the mitigations" in fail


def test_an_up_to_date_platform_has_no_shortfall() -> None:
    v = _verify(TDX_V4, TDX_V4_COLL)
    assert v.tcb_status == "UpToDate" and "tcb_shortfall" not in v.claims
    assert v.claims["tcb_evaluation_data_number"] == 17
    assert v.claims["qe_identity_tcb_evaluation_data_number"] == 17
    assert policy.validate(v, {}) == []


PCK_TDX = [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]  # what the TDX sample's PCK shows
TEE_TDX = [6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]


def test_pcesvn_short_is_a_pce_qe_update() -> None:
    plat = dcap.Platform(sgx=PCK_TDX, pcesvn=10, tdx=TEE_TDX, tdx_from=2)
    matched, short = dcap.evaluate_tcb_levels(_tdx_levels(), 3, plat, "t")
    assert matched is not None and matched["tcbStatus"] == "OutOfDate"
    assert short == ["for the UpToDate level of 2024-03-13: PCESVN has 10, needs 11: " + dcap.FIX_PCE_QE]


def test_sgx_component_short_of_every_level_is_not_supported_and_named() -> None:
    sgx = list(PCK_TDX)
    sgx[1] = 1  # SGX Late Microcode Update below both levels
    matched, short = dcap.evaluate_tcb_levels(_tdx_levels(), 3, dcap.Platform(sgx, 11, TEE_TDX, 2), "t")
    assert matched is None
    assert short == ["no TCB level of collateral tcb_info matches this platform; for the closest, the UpToDate "
                     "level of 2024-03-13: SGX TCB component 02 (OS/VMM: SGX Late Microcode Update) has 1, needs 2: "
                     "BIOS/microcode update"]


def test_tdx_components_name_module_and_microcode_fixes() -> None:
    tee = list(TEE_TDX)
    tee[0], tee[2] = 4, 1  # module SVN 4 (< 5), TDX late microcode 1 (< 2)
    matched, short = dcap.evaluate_tcb_levels(_tdx_levels(), 3, dcap.Platform(PCK_TDX, 11, tee, 0), "t")
    assert matched is None
    assert "TDX TCB component 01 (OS/VMM: TDX Module) has 4, needs 5: TDX module update" in short[0]
    assert short[1] == "TDX TCB component 03 (OS/VMM: TDX Late Microcode Update) has 1, needs 2: BIOS/microcode update"


def test_the_closest_level_is_the_one_with_fewest_short_components() -> None:
    sgx = list(PCK_TDX)
    sgx[0] = 1  # short of both levels' component 01; the UpToDate level is also short of PCESVN
    matched, short = dcap.evaluate_tcb_levels(_tdx_levels(), 3, dcap.Platform(sgx, 6, TEE_TDX, 2), "t")
    assert matched is None
    assert "the closest, the OutOfDate level of 2018-01-04: SGX TCB component 01" in short[0]
    assert len(short) == 1


# --- a TCB recovery that leaves a platform behind: authentic, not accepted (exit 1) -------


def _raise_every_level(body: dict[str, Any]) -> None:
    for level in body["tcbLevels"]:
        level["tcb"]["sgxtcbcomponents"][1]["svn"] = 4  # the sample's PCK shows 3


def test_a_platform_below_every_level_is_authentic_but_not_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    _newer_collateral(monkeypatch, "tcb_info", _raise_every_level)
    v = _verify(TDX_V4, TDX_V4_COLL)
    assert v.tcb_status == dcap.TCB_NOT_SUPPORTED
    [fail] = policy.validate(v, {"accepted_tcb_statuses": ["UpToDate", "OutOfDate", "SWHardeningNeeded"]})
    assert fail.startswith("accepted_tcb_statuses: TCB not supported: no TCB level of collateral tcb_info matches")
    assert "SGX TCB component 02 (OS/VMM: SGX Late Microcode Update) has 3, needs 4: BIOS/microcode update" in fail


def test_attest_verify_exits_1_for_a_platform_no_level_covers(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    _newer_collateral(monkeypatch, "tcb_info", _raise_every_level)
    code = teecert_main(["attest", "verify", str(REALWORLD / TDX_V4), "--collateral", str(REALWORLD / TDX_V4_COLL),
                         "--at", "2025-07-01T00:00:00Z"])
    out = capsys.readouterr()
    assert code == 1, out
    first = out.out.splitlines()[0]
    assert "policy NOT met: accepted_tcb_statuses: TCB not supported" in first
    assert "SGX TCB component 02" in first and "has 3, needs 4" in first


def test_a_tdx_module_below_every_level_is_not_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    def edit(body: dict[str, Any]) -> None:
        [mod] = [m for m in body["tdxModuleIdentities"] if m["id"] == "TDX_01"]
        mod["tcbLevels"] = [{"tcb": {"isvsvn": 7}, "tcbDate": "2025-05-14T00:00:00Z", "tcbStatus": "UpToDate"}]

    _newer_collateral(monkeypatch, "tcb_info", edit)
    v = _verify(TDX_V4, TDX_V4_COLL)
    assert v.tcb_status == dcap.TCB_NOT_SUPPORTED
    assert v.claims["tcb_shortfall"] == ["TDX module TDX_01 SVN has 6, needs 7: TDX module update"]


def test_a_tdx_module_out_of_date_names_the_module_update(monkeypatch: pytest.MonkeyPatch) -> None:
    def edit(body: dict[str, Any]) -> None:
        [mod] = [m for m in body["tdxModuleIdentities"] if m["id"] == "TDX_01"]
        mod["tcbLevels"] = [{"tcb": {"isvsvn": 8}, "tcbDate": "2025-05-14T00:00:00Z", "tcbStatus": "UpToDate"},
                            {"tcb": {"isvsvn": 4}, "tcbDate": "2024-03-13T00:00:00Z", "tcbStatus": "OutOfDate"}]

    _newer_collateral(monkeypatch, "tcb_info", edit)
    v = _verify(TDX_V4, TDX_V4_COLL)
    assert v.tcb_status == "OutOfDate"
    [fail] = policy.validate(v, {})
    assert fail.endswith("TDX module TDX_01 SVN has 6, needs 8: TDX module update")


def test_a_missing_tdx_module_identity_is_not_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    _newer_collateral(monkeypatch, "tcb_info",
                      lambda b: b.update(tdxModuleIdentities=[m for m in b["tdxModuleIdentities"] if m["id"] != "TDX_01"]))
    v = _verify(TDX_V4, TDX_V4_COLL)
    assert v.tcb_status == dcap.TCB_NOT_SUPPORTED
    assert "no TDX module identity TDX_01" in v.claims["tcb_shortfall"][0]


def test_an_out_of_date_qe_names_the_pce_qe_update(monkeypatch: pytest.MonkeyPatch) -> None:
    def edit(body: dict[str, Any]) -> None:
        body["tcbLevels"] = [{"tcb": {"isvsvn": 7}, "tcbDate": "2025-05-14T00:00:00Z", "tcbStatus": "UpToDate"},
                             {"tcb": {"isvsvn": 4}, "tcbDate": "2024-03-13T00:00:00Z", "tcbStatus": "OutOfDate"}]

    _newer_collateral(monkeypatch, "qe_identity", edit)
    v = _verify(TDX_V4, TDX_V4_COLL)
    assert v.tcb_status == "OutOfDate" and v.claims["qe_identity_status"] == "OutOfDate"
    assert v.claims["tcb_shortfall"] == ["QE ISVSVN has 6, needs 7: " + dcap.FIX_PCE_QE]


# --- the policy keys governance raises after a recovery ---------------------------------


def test_min_tcb_evaluation_data_number() -> None:
    v = _verify(TDX_V4, TDX_V4_COLL)
    assert policy.validate(v, {"min_tcb_evaluation_data_number": 17}) == []
    fails = policy.validate(v, {"min_tcb_evaluation_data_number": 18})
    assert fails[0] == ("min_tcb_evaluation_data_number: collateral TCB info has tcbEvaluationDataNumber 17, the policy "
                    "needs at least 18: fetch newer collateral")
    fails = policy.validate(v, {"min_tcb_evaluation_data_number": 18, "tcb_update": "early"})
    assert len(fails) == 2 and "QE identity" in fails[1]
    assert "(standard collateral where early is required)" in fails[0]


def test_min_tcb_evaluation_data_number_without_collateral_fails_closed() -> None:
    v = _verify(TDX_V5, None, at=dt.datetime(2026, 2, 3, tzinfo=dt.UTC))
    fails = policy.validate(v, {"min_tcb_evaluation_data_number": 1, "require_collateral": False})
    assert fails == ["min_tcb_evaluation_data_number: the collateral shows no tcbEvaluationDataNumber (TCB info and "
                     "QE identity), the policy needs at least 1"]


def test_early_without_a_minimum_number_is_refused_at_load() -> None:
    with pytest.raises(MalformedInput, match="tcb_update is early, but min_tcb_evaluation_data_number is not set"):
        policy.from_document({"tcb_update": "early"}, "p.json")
    with pytest.raises(MalformedInput, match="tcb_update"):
        policy.from_document({"tcb_update": "latest"}, "p.json")


def test_allowed_fmspcs() -> None:
    v = _verify(TDX_V4, TDX_V4_COLL)
    assert policy.validate(v, {"allowed_fmspcs": ["b0c06f000000"]}) == []
    [fail] = policy.validate(v, {"allowed_fmspcs": ["00A067110000"]})
    assert fail == "allowed_fmspcs: the PCK certificate's FMSPC B0C06F000000 is not among 00A067110000"


def test_allowed_tdx_module_identities() -> None:
    v = _verify(TDX_V4, TDX_V4_COLL)
    zeros = "00" * 48
    assert policy.validate(v, {"allowed_tdx_module_identities": [{"id": "TDX_01", "mrsigner": zeros}]}) == []
    assert policy.validate(v, {"allowed_tdx_module_identities": [{"id": "TDX_03"}, {"attributes": "00" * 8}]}) == []
    [fail] = policy.validate(v, {"allowed_tdx_module_identities": [{"id": "TDX_03"}, {"id": "TDX_01", "mrsigner": "11" * 48}]})
    assert fail.startswith("allowed_tdx_module_identities: TDX module TDX_01 MRSIGNERSEAM ")
    assert fail.endswith("matches none of the 2 allowed")


def test_allowed_advisories() -> None:
    v = _verify(SGX_V3, SGX_V3_COLL)
    ok = {"accepted_tcb_statuses": ["ConfigurationAndSWHardeningNeeded"]}
    assert policy.validate(v, {**ok, "allowed_advisories": ["INTEL-SA-00289", "intel-sa-00615"]}) == []
    [fail] = policy.validate(v, {**ok, "allowed_advisories": ["INTEL-SA-00615"]})
    assert fail == "allowed_advisories: the platform is affected by INTEL-SA-00289, not in the allow-list"


def test_allowed_advisories_without_collateral_fails_closed() -> None:
    v = _verify(TDX_V5, None, at=dt.datetime(2026, 2, 3, tzinfo=dt.UTC))
    fails = policy.validate(v, {"allowed_advisories": [], "require_collateral": False})
    assert fails == ["allowed_advisories: no collateral was checked, so the advisories are unknown"]


@pytest.mark.parametrize("doc", [
    {"allowed_fmspcs": ["b0c06f"]},
    {"allowed_tdx_module_identities": [{}]},
    {"allowed_tdx_module_identities": [{"id": "TDX_01", "svn": 3}]},
    {"allowed_advisories": ["not an advisory"]},
    {"min_tcb_evaluation_data_number": -1},
])
def test_bad_policy_keys_are_malformed_naming_the_key(doc: dict[str, Any]) -> None:
    with pytest.raises(MalformedInput, match=next(iter(doc))):
        policy.from_document(doc, "p.json")


def test_a_report_whose_platform_no_level_covers_is_not_certified(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Report verification: a run whose evidence is authentic but of a platform no TCB
    level covers is NOT_CERTIFIED (exit 1), and its attestation row says why.  No TEE can
    attest a statement a test makes, so the quote's own report data stands in for the
    binding (tests/attestation/test_run_evidence.py covers the binding)."""
    quote = _read(TDX_V4)
    monkeypatch.setattr(run_evidence, "evidence_report_data", lambda st, rd, where: quote[48 + 520: 48 + 584])
    _newer_collateral(monkeypatch, "tcb_info", _raise_every_level)
    doc = json.loads(json.dumps(load_profile("development").data))
    doc["id"], doc["attestation"]["required"] = "test-tdx-required", True
    (tmp_path / "p.json").write_text(json.dumps(doc))
    prof = load_profile(tmp_path / "p.json")
    key = Ed25519PrivateKey.generate()
    st = rf.statement_for(key, profile=prof, now=IN_WINDOW)
    st["predicate"]["attestation"] = run_evidence.blank_section("file")
    att, row = run_evidence.from_evidence(profile_data=prof.data, statement=st, data=quote, fmt="tdx", certs=[],
                                          collateral=_read(TDX_V4_COLL))
    assert row["outcome"] == "failed"
    assert "accepted_tcb_statuses: TCB not supported" in row["message"]
    st = report.with_attestation(st, att, row, prof)
    path = report.write_report(tmp_path, report.sign_statement(st, key), st)
    keys.write_public(tmp_path / "k.pub", key.public_key())
    code = teecert_main(["verify", str(path), "--trust", str(tmp_path / "k.pub"), "--profile", str(tmp_path / "p.json"),
                         "--at", "2025-07-02T00:00:00Z"])
    assert code == 1, capsys.readouterr()
    assert "NOT_CERTIFIED" in capsys.readouterr().out
