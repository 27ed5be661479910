"""Attestation policy: the schema, the defaults, and every knob with both outcomes.

Validation only judges a ``Verified`` record, so these tests build records directly; the
real-evidence policy outcomes are in test_attestation_snp.py and test_attestation_nitro.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from teecert.attestation.model import Verified
from teecert.attestation.validate import policy
from teecert.errors import MalformedInput

T = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
MEAS = "ab" * 48


def _snp(**kw: Any) -> Verified:
    v = Verified(format="snp", time=T, report_data=bytes.fromhex("0102") + bytes(62), debug=False,
                 measurements={"MEASUREMENT": MEAS, "HOST_DATA": "00" * 32},
                 tcb={"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}, vmpl=0, signer="VCEK")
    return dataclasses.replace(v, **kw)


def _tdx(**kw: Any) -> Verified:
    v = Verified(format="tdx", time=T, report_data=bytes(64), debug=False,
                 measurements={"MRTD": "11" * 48, "RTMR0": "22" * 48}, tcb={"pcesvn": 11, "qesvn": 8},
                 tcb_status="UpToDate", collateral=True, signer="PCK (Platform CA)")
    return dataclasses.replace(v, **kw)


def _nitro(**kw: Any) -> Verified:
    v = Verified(format="nitro", time=T, report_data=b"hello", debug=False,
                 measurements={f"PCR{i}": f"{i:02x}" * 48 for i in range(16)}, signer="AWS Nitro")
    return dataclasses.replace(v, **kw)


# ---- loading and the schema --------------------------------------------------------------

def test_defaults() -> None:
    p = policy.from_document({}, "empty")
    assert p.debug_allowed is False
    assert p.accepted_tcb_statuses == ("UpToDate",)
    assert p.min_tcb == {} and p.allowed_measurements is None and p.vmpl is None and p.report_data is None
    assert p.require_collateral is None and p.formats == ("snp", "tdx", "sgx", "nitro")  # never sim
    assert dataclasses.replace(p, source="default policy") == policy.DEFAULT


def test_load_full_policy_file(tmp_path: Path) -> None:
    doc = {"schema": "teecert-attestation-policy/1", "description": "validators, SEV-SNP",
           "formats": ["snp"], "debug_allowed": False, "accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded"],
           "min_tcb": {"bootloader": 3, "microcode": 115}, "allowed_measurements": [{"MEASUREMENT": MEAS.upper()}],
           "vmpl": 0, "report_data": "0102", "require_collateral": True}
    f = tmp_path / "policy.json"
    f.write_text(json.dumps(doc))
    p = policy.load(f)
    assert p.source == str(f) and p.formats == ("snp",) and p.vmpl == 0 and p.report_data == b"\x01\x02"
    assert p.allowed_measurements == ({"MEASUREMENT": MEAS},)
    assert policy.validate(_snp(collateral=True), p) == []  # verified with an AMD CRL
    assert [f.split(":")[0] for f in policy.validate(_snp(), p)] == ["require_collateral"]


@pytest.mark.parametrize("doc, field", [
    ({"debug_allowd": False}, "debug_allowd"),
    ({"debug_allowed": "no"}, "debug_allowed"),
    ({"accepted_tcb_statuses": ["Revoked"]}, "accepted_tcb_statuses"),
    ({"accepted_tcb_statuses": []}, "accepted_tcb_statuses"),
    ({"min_tcb": {"microcode": -1}}, "min_tcb"),
    ({"min_tcb": {"Microcode": 1}}, "min_tcb"),
    ({"allowed_measurements": [{"MEASUREMENT": "xyz"}]}, "allowed_measurements"),
    ({"allowed_measurements": [{}]}, "allowed_measurements"),
    ({"allowed_measurements": []}, "allowed_measurements"),
    ({"vmpl": 4}, "vmpl"),
    ({"report_data": "abc"}, "report_data"),
    ({"require_collateral": 1}, "require_collateral"),
    ({"formats": ["tpm"]}, "formats"),
    ({"schema": "teecert-attestation-policy/2"}, "schema"),
])
def test_schema_refuses(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(MalformedInput, match=field) as exc:
        policy.from_document(doc, "bad.json")
    assert str(exc.value).startswith("bad.json:") and "\n" not in str(exc.value)


@pytest.mark.parametrize("text", ['{"vmpl": 0, "vmpl": 1}', '{"vmpl": 0.0}', "[]", "", '{"report_data": "0102"'])
def test_malformed_policy_files(tmp_path: Path, text: str) -> None:
    f = tmp_path / "p.json"
    f.write_text(text)
    with pytest.raises(MalformedInput, match=str(f)):
        policy.load(f)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(MalformedInput, match="cannot read"):
        policy.load(tmp_path / "nope.json")


def test_validate_accepts_a_mapping_and_checks_it() -> None:
    assert policy.validate(_snp(), {"vmpl": 0}) == []
    with pytest.raises(MalformedInput):
        policy.validate(_snp(), {"vmpl": "0"})


# ---- every knob, both outcomes -------------------------------------------------------------

def test_formats() -> None:
    assert policy.validate(_snp(), {"formats": ["snp", "tdx"]}) == []
    (fail,) = policy.validate(_nitro(), {"formats": ["snp", "tdx"]})
    assert fail.startswith("formats:") and "nitro" in fail


@pytest.mark.parametrize("make, word", [(_snp, "bit 19"), (_tdx, "DEBUG"), (_nitro, "PCR0")])
def test_debug(make: Any, word: str) -> None:
    assert policy.validate(make()) == []
    (fail,) = policy.validate(make(debug=True))
    assert fail.startswith("debug_allowed:") and word in fail
    assert policy.validate(make(debug=True), {"debug_allowed": True}) == []
    assert len(policy.validate(make(debug=True), {"debug_allowed": False})) == 1


def test_accepted_tcb_statuses() -> None:
    assert policy.validate(_tdx()) == []
    sw = _tdx(tcb_status="ConfigurationAndSWHardeningNeeded")
    (fail,) = policy.validate(sw)
    assert fail.startswith("accepted_tcb_statuses:") and "ConfigurationAndSWHardeningNeeded" in fail
    assert policy.validate(sw, {"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"]}) == []
    assert len(policy.validate(_tdx(tcb_status="OutOfDate"), {"accepted_tcb_statuses": ["SWHardeningNeeded"]})) == 1
    # formats without a TCB status are not judged by it
    assert policy.validate(_snp(), {"accepted_tcb_statuses": ["OutOfDate"]}) == []


def test_min_tcb() -> None:
    assert policy.validate(_snp(), {"min_tcb": {"bootloader": 3, "snp": 8, "microcode": 100}}) == []
    fails = policy.validate(_snp(), {"min_tcb": {"bootloader": 4, "snp": 9, "tee": 0}})
    assert fails == ["min_tcb.bootloader: evidence has 3, the minimum is 4",
                     "min_tcb.snp: evidence has 8, the minimum is 9"]
    (fail,) = policy.validate(_snp(), {"min_tcb": {"pcesvn": 1}})
    assert fail.startswith("min_tcb.pcesvn:") and "no TCB component" in fail
    assert policy.validate(_tdx(), {"min_tcb": {"pcesvn": 11}}) == []
    assert len(policy.validate(_tdx(), {"min_tcb": {"pcesvn": 12}})) == 1


def test_allowed_measurements() -> None:
    other = "cd" * 48
    assert policy.validate(_snp(), {"allowed_measurements": [{"MEASUREMENT": other}, {"MEASUREMENT": MEAS}]}) == []
    (fail,) = policy.validate(_snp(), {"allowed_measurements": [{"MEASUREMENT": other}]})
    assert fail.startswith("allowed_measurements:") and "MEASUREMENT=abab" in fail
    # every name of an entry must match
    both = {"MEASUREMENT": MEAS, "HOST_DATA": "11" * 32}
    assert len(policy.validate(_snp(), {"allowed_measurements": [both]})) == 1
    assert policy.validate(_snp(), {"allowed_measurements": [{**both, "HOST_DATA": "00" * 32}]}) == []
    # a name the evidence does not have never matches
    (fail,) = policy.validate(_snp(), {"allowed_measurements": [{"MRTD": "11" * 48}]})
    assert "none of MRTD" in fail
    # TDX and Nitro names
    assert policy.validate(_tdx(), {"allowed_measurements": [{"MRTD": "11" * 48, "RTMR0": "22" * 48}]}) == []
    pcrs = {"PCR0": "00" * 48, "PCR1": "01" * 48, "PCR2": "02" * 48}
    assert policy.validate(_nitro(), {"allowed_measurements": [pcrs]}) == []
    assert len(policy.validate(_nitro(), {"allowed_measurements": [{**pcrs, "PCR8": "00" * 48}]})) == 1


def test_vmpl() -> None:
    assert policy.validate(_snp(), {"vmpl": 0}) == []
    (fail,) = policy.validate(_snp(vmpl=1), {"vmpl": 0})
    assert fail == "vmpl: evidence is at VMPL 1, the policy requires VMPL 0"
    assert policy.validate(_snp(vmpl=1), {"vmpl": 1}) == []
    assert policy.validate(_snp(vmpl=3), {"vmpl": None}) == []
    (fail,) = policy.validate(_nitro(), {"vmpl": 0})
    assert fail.startswith("vmpl:") and "no VMPL" in fail


def test_report_data() -> None:
    v = _snp()
    assert policy.validate(v, {"report_data": "0102"}) == []
    assert policy.validate(v, {"report_data": v.report_data.hex()}) == []
    assert policy.validate(v, {"report_data": "0102" + "00" * 10}) == []
    (fail,) = policy.validate(v, {"report_data": "0103"})
    assert fail.startswith("report_data:")
    # data after the expected prefix must be zero
    assert len(policy.validate(_snp(report_data=bytes.fromhex("0102") + b"\x01" + bytes(61)),
                               {"report_data": "0102"})) == 1
    # longer than the evidence's report data
    assert len(policy.validate(v, {"report_data": "00" * 65})) == 1
    assert policy.validate(_nitro(), {"report_data": b"hello".hex()}) == []
    assert len(policy.validate(_nitro(report_data=b""), {"report_data": "00"})) == 1


def test_require_collateral() -> None:
    bare = _tdx(collateral=False, tcb_status=None)
    (fail,) = policy.validate(bare)  # default: required where the format has collateral
    assert fail.startswith("require_collateral:")
    assert len(policy.validate(bare, {"require_collateral": True})) == 1
    assert len(policy.validate(bare, {"require_collateral": None})) == 1
    assert policy.validate(bare, {"require_collateral": False}) == []
    assert policy.validate(_tdx()) == []
    sgx = dataclasses.replace(bare, format="sgx")
    assert len(policy.validate(sgx)) == 1
    # SEV-SNP's collateral is AMD's CRL: required only when asked; Nitro has none
    assert policy.validate(_snp()) == []
    assert len(policy.validate(_snp(), {"require_collateral": True})) == 1
    assert policy.validate(_nitro(), {"require_collateral": True}) == []


def test_every_failed_rule_is_listed() -> None:
    v = _tdx(debug=True, tcb_status="OutOfDate", collateral=False)
    fails = policy.validate(v, {"formats": ["snp"], "min_tcb": {"pcesvn": 99},
                                "allowed_measurements": [{"MRTD": "00" * 48}], "vmpl": 0, "report_data": "ff"})
    keys = [f.split(":", 1)[0] for f in fails]
    assert keys == ["formats", "debug_allowed", "accepted_tcb_statuses", "min_tcb.pcesvn", "allowed_measurements",
                    "vmpl", "report_data", "require_collateral"]
    assert all("\n" not in f for f in fails)


def test_schema_file_is_a_valid_schema() -> None:
    from teecert._internal.schema import make_validator

    make_validator(policy.schema())
    assert set(policy.schema()["properties"]) >= {"debug_allowed", "accepted_tcb_statuses", "min_tcb",
                                                  "allowed_measurements", "vmpl", "report_data",
                                                  "require_collateral"}
