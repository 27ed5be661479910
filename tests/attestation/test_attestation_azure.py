"""Azure confidential VM evidence (HCL reports): the real bundles of
tests/data/realworld/attestation/azure give the outcomes SOURCES.md states at
2025-06-01; flips in the header, the hardware report, the runtime claims, the TD report,
the TD quote and the vTPM quote, a wrong or self-made chain, truncation and bad bundles
are refused with one line; a run's report data binds only through the claims' user-data."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import struct
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from teecert.attestation import evidence, run_evidence
from teecert.attestation.abi import azure_hcl as abi
from teecert.attestation.abi import snp as snp_abi
from teecert.attestation.validate import policy
from teecert.attestation.verify import azure_hcl
from teecert.errors import MalformedInput, NotAuthentic, UsageError

from conftest import REALWORLD, ok, one_line, teecert_cli

AZ = REALWORLD / "azure"
pytestmark = pytest.mark.skipif(not AZ.is_dir(), reason=f"real-world Azure samples not present ({AZ})")

T = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
AT = ["--at", "2025-06-01T00:00:00Z"]
SNP_FILE = "trustee_az_snp_vtpm_evidence_v1.json"
TDX_FILE = "trustee_az_tdx_vtpm_evidence_v1.json"
HW = 0x20  # hardware report offset in the HCL report
CLAIMS = 0x4D4
SNP_POL = {"formats": ["azure-snp-hcl"]}
TDX_POL = {"formats": ["azure-tdx-hcl"], "require_collateral": False}


def _b64url(s: str) -> bytes:
    s = s.rstrip("=")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _doc(name: str) -> dict[str, Any]:
    return dict(json.loads((AZ / name).read_bytes()))


def _bundle(name: str, **repl: Any) -> bytes:
    d = _doc(name)
    d.update(repl)
    return json.dumps(d).encode()


def _hcl(name: str) -> bytes:
    return _b64url(_doc(name)["hcl_report"])


def _enc(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _flip(data: bytes, off: int, bit: int = 0) -> bytes:
    b = bytearray(data)
    b[off] ^= 1 << bit
    return bytes(b)


def _claims_bytes(hcl: bytes) -> bytes:
    return hcl[CLAIMS:CLAIMS + struct.unpack_from("<I", hcl, 0x4D0)[0]]


def _with_claims(hcl: bytes, claims: bytes) -> bytes:
    b = bytearray(hcl[:CLAIMS])
    struct.pack_into("<I", b, 8, CLAIMS + len(claims))
    struct.pack_into("<I", b, 0x4C0, 20 + len(claims))
    struct.pack_into("<I", b, 0x4D0, len(claims))
    return bytes(b) + claims + bytes(64)


def _verify(data: bytes, **kw: Any) -> Any:
    kw.setdefault("at", T)
    return evidence.verify(data, "az.json", **kw)


# -- the real samples ---------------------------------------------------------------------------------


def test_snp_sample_verifies_with_the_documented_outcome() -> None:
    v = _verify((AZ / SNP_FILE).read_bytes())
    assert v.format == "azure-snp-hcl" and v.signer == "VCEK via Azure HCL"
    assert [c.split(",")[0] for c in v.chain] == ["CN=SEV-VCEK", "CN=SEV-Milan", "CN=ARK-Milan"]
    # REPORTED_TCB equals the VCEK's TCB extensions (SOURCES.md)
    assert v.tcb == {"bootloader": 4, "tee": 0, "snp": 24, "microcode": 219}
    assert v.vmpl == 0 and v.debug is False and v.claims["version"] == 3
    # the hardware report data is the SHA-256 of the claims bytes, computed here independently
    hcl = _hcl(SNP_FILE)
    want = hashlib.sha256(_claims_bytes(hcl)).digest()
    assert hcl[HW + 0x50:HW + 0x70] == want and want.hex().startswith("af2910341dd81083")
    assert v.claims["azure.hcl.hw_report_data"] == want.hex() + "00" * 32
    # the record's report data is the claims' user-data, not the hardware report data
    assert v.report_data == bytes(64)
    assert v.claims["azure.vm-configuration.secure-boot"] is True
    assert v.claims["azure.vm-configuration.console-enabled"] is True
    assert v.claims["azure.tpm_quote.nonce"] == b"challenge".hex()
    assert "PCR0" not in v.measurements and v.claims["azure.tpm_quote.PCR0"].startswith("e15c4479")
    assert "MEASUREMENT" in v.measurements and "AKPUB_SHA256" in v.measurements
    assert any("paravisor" in n for n in v.notes)


def test_tdx_sample_verifies_with_the_documented_outcome() -> None:
    v = _verify((AZ / TDX_FILE).read_bytes())
    assert v.format == "azure-tdx-hcl" and v.signer == "PCK (Platform CA) via Azure HCL"
    assert v.chain[-1].endswith("CN=Intel SGX Root CA")
    hcl = _hcl(TDX_FILE)
    assert hcl[HW] == 0x81  # TDREPORT type TDX
    want = hashlib.sha256(_claims_bytes(hcl)).hexdigest()
    assert want.startswith("9734504f161d104c") and v.claims["report_data"] == want + "00" * 32
    # MRTD of the quote is the TDINFO MRTD of the HCL's TD report (TDINFO at 512, MRTD at +16)
    assert v.measurements["MRTD"] == hcl[HW + 512 + 16:HW + 512 + 64].hex()
    assert v.report_data == bytes(64) and v.debug is False
    assert v.claims["azure.vm-configuration.tpm-persisted"] is False


@pytest.mark.parametrize(("name", "pol", "failure"), [
    (SNP_FILE, None, "formats: evidence is azure-snp-hcl"),
    (SNP_FILE, SNP_POL, None),
    (TDX_FILE, {"formats": ["azure-tdx-hcl"]}, "require_collateral:"),
    (TDX_FILE, TDX_POL, None),
    (SNP_FILE, {**SNP_POL, "azure_vm_configuration": {"secure-boot": True, "tpm-enabled": True}}, None),
    (SNP_FILE, {**SNP_POL, "azure_vm_configuration": {"console-enabled": False}},
     "azure_vm_configuration.console-enabled: the runtime claims say True"),
    (TDX_FILE, {**TDX_POL, "azure_vm_configuration": {"no-such-flag": True}},
     "azure_vm_configuration.no-such-flag: the runtime claims say nothing"),
    (SNP_FILE, {**SNP_POL, "require_collateral": True}, "require_collateral: no AMD CRL"),
    (SNP_FILE, {**SNP_POL, "vmpl": 1}, "vmpl: evidence is at VMPL 0"),
])
def test_policy_outcomes(name: str, pol: dict[str, Any] | None, failure: str | None) -> None:
    out = evidence.verify_and_validate((AZ / name).read_bytes(), "az.json", policy=pol, at=T)
    if failure is None:
        assert out.failures == []
    else:
        assert out.failures and out.failures[0].startswith(failure), out.failures


def test_paravisor_measurement_can_be_pinned() -> None:
    v = _verify((AZ / SNP_FILE).read_bytes())
    good = {**SNP_POL, "allowed_measurements": [{"MEASUREMENT": v.measurements["MEASUREMENT"],
                                                 "AKPUB_SHA256": v.measurements["AKPUB_SHA256"]}]}
    assert policy.validate(v, good) == []
    bad = {**SNP_POL, "allowed_measurements": [{"AKPUB_SHA256": "00" * 32}]}
    assert policy.validate(v, bad)[0].startswith("allowed_measurements:")


def test_vm_configuration_rule_fails_other_formats() -> None:
    v = _verify((AZ / SNP_FILE).read_bytes())
    v.format = "snp"
    assert policy.validate(v, {"azure_vm_configuration": {"secure-boot": True}}) == [
        "azure_vm_configuration.secure-boot: the snp evidence carries no Azure runtime claims"]


def test_raw_hcl_report_with_cert() -> None:
    vcek = _b64url(_doc(SNP_FILE)["vcek"])
    raw = _hcl(SNP_FILE)
    assert evidence.detect(raw, "r") == "azure-snp-hcl"
    v = _verify(raw, certs=[vcek])
    assert v.format == "azure-snp-hcl" and v.report_data == bytes(64)
    with pytest.raises(UsageError, match="needs the VCEK: pass --cert"):
        _verify(raw)
    with pytest.raises(UsageError, match="needs its TD quote"):
        _verify(_hcl(TDX_FILE))


def test_detection_and_declared_format() -> None:
    assert evidence.detect((AZ / TDX_FILE).read_bytes(), "x") == "azure-tdx-hcl"
    with pytest.raises(MalformedInput, match="makes this azure-snp-hcl evidence, not azure-tdx-hcl"):
        _verify((AZ / SNP_FILE).read_bytes(), fmt="azure-tdx-hcl")


def test_expired_vcek() -> None:
    with pytest.raises(NotAuthentic, match="expired"):
        _verify((AZ / SNP_FILE).read_bytes(), at=dt.datetime(2032, 6, 1, tzinfo=dt.UTC))


# -- forgeries and bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(("off", "err", "match"), [
    (0, MalformedInput, "header.signature at offset 0x0"),
    (4, MalformedInput, "header.version"),
    (8, MalformedInput, "header.report_size"),
    (16, MalformedInput, "header.status"),
    (24, MalformedInput, "header.reserved"),
    (HW + 0x90, NotAuthentic, "signature"),  # MEASUREMENT (the paravisor's)
    (HW + 0x50, NotAuthentic, "signature"),  # REPORT_DATA
    (HW + 0x2A0, NotAuthentic, "signature"),  # the signature itself
    (HW + 0x70, MalformedInput, "hardware report data after the sha256"),  # tail of REPORT_DATA
    (0x4C0, MalformedInput, "request_data.data_size"),
    (0x4C4, MalformedInput, "request_data.version"),
    (0x4C8, MalformedInput, "request_data.report_type"),
    (0x4CC, MalformedInput, "request_data.hash_type"),
    (0x4D0, MalformedInput, "variable_data_size"),
    (CLAIMS + 40, NotAuthentic, "not the ones the hardware report binds"),
    (2400, MalformedInput, "must be zero padding"),
])
def test_snp_bit_flips(off: int, err: type[Exception], match: str) -> None:
    bad = _flip(_hcl(SNP_FILE), off, 2)
    with pytest.raises(err, match=match) as e:
        _verify(_bundle(SNP_FILE, hcl_report=_enc(bad)))
    assert str(e.value).startswith("az.json: hcl_report") or str(e.value).startswith("az.json:")
    assert "\n" not in str(e.value)


def test_claims_rewritten_with_sizes_fixed_are_refused() -> None:
    """A guest OS that rewrites the claims (say, to put its own user-data in) cannot
    redo the hash in the hardware report."""
    for name in (SNP_FILE, TDX_FILE):
        hcl = _hcl(name)
        claims = json.loads(_claims_bytes(hcl))
        claims["user-data"] = "11" * 64
        forged = _with_claims(hcl, json.dumps(claims, separators=(",", ":")).encode())
        with pytest.raises(NotAuthentic, match="not the ones the hardware report binds"):
            _verify(_bundle(name, hcl_report=_enc(forged)))


@pytest.mark.parametrize(("where", "match"), [
    ("td_report_mrtd", "TD report in the HCL report is not the one the TD quote signs"),
    ("td_report_data", "TD report in the HCL report is not the one the TD quote signs"),
    ("claims", "not the ones the hardware report binds"),
    ("quote_body", "signature"),
    ("quote_sig", "signature"),
])
def test_tdx_flips(where: str, match: str) -> None:
    hcl, quote = _hcl(TDX_FILE), _b64url(_doc(TDX_FILE)["td_quote"])
    if where == "td_report_mrtd":
        hcl = _flip(hcl, HW + 512 + 16)
    elif where == "td_report_data":
        hcl = _flip(hcl, HW + 128)
    elif where == "claims":
        hcl = _flip(hcl, CLAIMS + 100)
    elif where == "quote_body":
        quote = _flip(quote, 48 + 136)  # MRTD in the signed body
    else:
        quote = _flip(quote, 636 + 5)
    with pytest.raises(NotAuthentic, match=match):
        _verify(_bundle(TDX_FILE, hcl_report=_enc(hcl), td_quote=_enc(quote)))


@pytest.mark.parametrize("what", ["signature", "pcr", "nonce"])
def test_tpm_quote_forgeries(what: str) -> None:
    tq = dict(_doc(SNP_FILE)["tpm_quote"])
    if what == "signature":
        tq["signature"] = _flip(bytes.fromhex(tq["signature"]), 10).hex()
        match = "signature does not verify under the vTPM attestation key"
    elif what == "pcr":
        tq["pcrs"] = [("00" * 32 if i == 7 else p) for i, p in enumerate(tq["pcrs"])]
        match = "not the ones the quote's pcrDigest signs"
    else:  # the nonce (extraData "challenge") changed to claim a fresh quote
        tq["message"] = tq["message"].replace(b"challenge".hex(), b"CHALLENGE".hex())
        match = "signature does not verify"
    with pytest.raises(NotAuthentic, match=match):
        _verify(_bundle(SNP_FILE, tpm_quote=tq))


def test_another_vcek_is_refused() -> None:
    other = (REALWORLD / "snp" / "milan_v2_vcek_report.vcek.der").read_bytes()
    with pytest.raises(NotAuthentic, match="report signature does not verify under the VCEK"):
        _verify(_hcl(SNP_FILE), certs=[other])
    with pytest.raises(NotAuthentic, match="report signature does not verify under the VCEK"):
        _verify(_bundle(SNP_FILE, vcek=base64.b64encode(other).decode()))


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Advanced Micro Devices")])


def _cert(subject: str, issuer: str, key: Any, signer: Any, vcek: x509.Certificate | None = None,
          ca: bool = True) -> x509.Certificate:
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
         .not_valid_after(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if vcek is not None:  # the real VCEK's AMD extensions (product, TCB, hwID)
        for ext in vcek.extensions:
            if ext.oid.dotted_string.startswith("1.3.6.1.4.1.3704."):
                b = b.add_extension(ext.value, critical=False)
    return b.sign(signer, hashes.SHA384())


def test_self_made_chain_is_refused() -> None:
    """The SNP report re-signed by a self-made VCEK (with the real one's extensions)
    whose chain ends at a self-made ARK-Milan: the signature now verifies, the chain
    reaches no pinned root."""
    with warnings.catch_warnings():  # AMD VCEKs have serial number 0, which cryptography warns about
        warnings.simplefilter("ignore")
        real = x509.load_der_x509_certificate(_b64url(_doc(SNP_FILE)["vcek"]))
    ark_key = rsa.generate_private_key(65537, 2048)
    vcek_key = ec.generate_private_key(ec.SECP384R1())
    ark = _cert("ARK-Milan", "ARK-Milan", ark_key, ark_key)
    ask = _cert("SEV-Milan", "ARK-Milan", ark_key, ark_key)
    vcek = _cert("SEV-VCEK", "SEV-Milan", vcek_key, ark_key, vcek=real, ca=False)
    hcl = bytearray(_hcl(SNP_FILE))
    report = bytes(hcl[HW:HW + snp_abi.REPORT_SIZE])
    r, s = decode_dss_signature(vcek_key.sign(report[:snp_abi.SIGNED_END], ec.ECDSA(hashes.SHA384())))
    hcl[HW:HW + snp_abi.REPORT_SIZE] = snp_abi.with_signature(report, r, s)
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (vcek, ask, ark))
    with pytest.raises(NotAuthentic, match=r"no chain from .*SEV-VCEK.* to a trusted root"):
        _verify(bytes(hcl), certs=[pem])
    with pytest.raises(NotAuthentic, match="no pinned AMD root"):  # a self-made root passed as a root adds no trust
        _verify(bytes(hcl), certs=[pem], roots=[ark])


def test_tdx_wrong_root_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(_name("Intel SGX Root CA")).issuer_name(_name("Intel SGX Root CA"))
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    with pytest.raises(NotAuthentic):
        _verify((AZ / TDX_FILE).read_bytes(), roots=[root])


@pytest.mark.parametrize("cut", [0, 3, 0x20, 0x4C0, 0x4D3, 0x4D4, 0x600])
def test_truncated_hcl_names_the_field(cut: int) -> None:
    raw = _hcl(SNP_FILE)[:cut]
    with pytest.raises(MalformedInput, match=r"truncated HCL report|not a recognized|header\.signature") as e:
        evidence.verify(raw, "cut.bin", fmt="azure-snp-hcl", certs=[b"x"], at=T)
    assert str(e.value).startswith("cut.bin: ")


@pytest.mark.parametrize(("repl", "match"), [
    ({"extra": 1}, "unknown key 'extra'"),
    ({"version": 2}, "version 2 of the Azure evidence bundle is not 1"),
    ({"hcl_report": "!!!"}, "hcl_report is not base64"),
    ({"tpm_quote": {"message": "zz", "signature": "", "pcrs": []}}, "tpm_quote.message is not hex"),
    ({"tpm_quote": {"message": "ff"}}, "exactly message, signature and pcrs"),
])
def test_bad_bundles(repl: dict[str, Any], match: str) -> None:
    with pytest.raises(MalformedInput, match=match):
        _verify(_bundle(SNP_FILE, **repl))


def test_bundle_without_its_hardware_evidence() -> None:
    d = _doc(SNP_FILE)
    del d["vcek"]
    with pytest.raises(MalformedInput, match="has no vcek"):
        _verify(json.dumps(d).encode())
    d = _doc(TDX_FILE)
    del d["td_quote"]
    with pytest.raises(MalformedInput, match="has no td_quote"):
        _verify(json.dumps(d).encode())


def test_claims_that_are_not_json() -> None:
    hcl = _hcl(SNP_FILE)
    with pytest.raises(MalformedInput, match="runtime claims"):
        _verify(_bundle(SNP_FILE, hcl_report=_enc(_with_claims(hcl, b'{"a": 1, "a": 2}'))))
    with pytest.raises(MalformedInput, match="user-data is 3 bytes"):
        abi.user_data({"user-data": "abcdef"}, "x")


# -- the run binding ---------------------------------------------------------------------------------


def _att(data: bytes) -> dict[str, Any]:
    return {"evidence": base64.b64encode(data).decode(), "certs": [], "collateral": None, "format": None}


def test_run_binding_goes_through_user_data() -> None:
    pol = policy.from_document(SNP_POL, "p")
    data = (AZ / SNP_FILE).read_bytes()
    outcome, msg, record, _ = run_evidence.evaluate(_att(data), bytes(64), pol, T, "rep")
    assert outcome == "passed" and "bound to this run" in msg and record is not None
    outcome, _msg, _rec, failures = run_evidence.evaluate(_att(data), b"\x01" * 64, pol, T, "rep")
    assert outcome == "failed" and any(f.startswith("binding:") for f in failures)


def test_claims_without_user_data_bind_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Claims that carry no user-data (a paravisor that dropped it) must not bind a run:
    the record's report data is empty, so no run's binding matches it."""
    monkeypatch.setattr(azure_hcl._abi, "user_data", lambda claims, where: None)
    data = (AZ / SNP_FILE).read_bytes()
    v = _verify(data)
    assert v.report_data == b"" and any("no user-data" in n for n in v.notes)
    pol = policy.from_document(SNP_POL, "p")
    outcome, _msg, _rec, failures = run_evidence.evaluate(_att(data), bytes(64), pol, T, "rep")
    assert outcome == "failed" and any(f.startswith("binding:") for f in failures)


def test_pcrs_are_measurements_only_over_the_user_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """A vTPM quote over the same 64 bytes as the user data makes its PCRs measurements;
    the sample's quote (nonce "challenge") leaves them as claims only."""
    monkeypatch.setattr(azure_hcl._abi, "user_data", lambda claims, where: b"challenge")
    v = _verify((AZ / SNP_FILE).read_bytes())
    assert v.measurements["PCR0"].startswith("e15c4479")


# -- the command line ----------------------------------------------------------------------------------


def test_cli_exit_codes(tmp_path: Path) -> None:
    pol = tmp_path / "p.json"
    pol.write_text(json.dumps(SNP_POL))
    good = str(AZ / SNP_FILE)
    res = ok(teecert_cli(["attest", "verify", good, *AT, "--policy", str(pol)]), 0)
    assert "azure-snp-hcl evidence authentic at 2025-06-01T00:00:00Z; policy met" in res.out
    res = ok(teecert_cli(["attest", "verify", good, *AT]), 1)
    assert "policy NOT met: formats: evidence is azure-snp-hcl" in res.out
    bad = tmp_path / "flipped.json"
    bad.write_bytes(_bundle(SNP_FILE, hcl_report=_enc(_flip(_hcl(SNP_FILE), CLAIMS + 40))))
    one_line(teecert_cli(["attest", "verify", str(bad), *AT, "--policy", str(pol)]), "attest",
             "not the ones the hardware report binds")
    trunc = tmp_path / "trunc.bin"
    trunc.write_bytes(_hcl(SNP_FILE)[:0x500])
    one_line(teecert_cli(["attest", "verify", str(trunc), "--cert", str(tmp_path / "p.json"), *AT]), "attest",
             "truncated HCL report")
