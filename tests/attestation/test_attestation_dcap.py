"""Intel DCAP quotes (SGX v3, TDX v4, TDX v5) against real evidence and collateral.

The samples and their expected outcomes are described in
``tests/data/realworld/attestation/SOURCES.md`` (sections tdx/ and sgx/); every test
here skips cleanly where that folder is absent.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import struct
from typing import Any

import pytest

from teecert.attestation.abi import dcap as dcap_abi
from teecert.attestation.validate import policy
from teecert.attestation.verify import dcap
from teecert.attestation.verify.x509chain import load_certificates
from teecert.errors import MalformedInput, NotAuthentic, UsageError

from conftest import REALWORLD

pytestmark = pytest.mark.skipif(not REALWORLD.is_dir(), reason=f"real-world attestation samples absent ({REALWORLD})")

TDX_V4 = "tdx/tdx_v4_quote_uptodate.dat"
TDX_V4_COLL = "tdx/tdx_v4_quote_uptodate.collateral.json"
TDX_V5 = "tdx/tdx_v5_td15_quote.dat"
SGX_V3 = "sgx/sgx_v3_quote_swhardening.dat"
SGX_V3_COLL = "sgx/sgx_v3_quote_swhardening.collateral.json"
SGX_DEBUG = "sgx/sgx_v3_quote_debug_enclave.dat"

IN_WINDOW = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
TDX_V5_AT = dt.datetime(2026, 2, 3, tzinfo=dt.UTC)
NOW_2026 = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)


def _read(name: str) -> bytes:
    return (REALWORLD / name).read_bytes()


def _coll(name: str) -> dict[str, Any]:
    doc = json.loads(_read(name))
    assert isinstance(doc, dict)
    return doc


def _verify(quote: bytes, collateral: Any = None, at: dt.datetime = IN_WINDOW) -> Any:
    return dcap.verify(quote, collateral=collateral, roots=None, at=at, where="sample.dat")


def _flip(data: bytes, offset: int, bit: int = 0) -> bytes:
    b = bytearray(data)
    b[offset] ^= 1 << bit
    return bytes(b)


# --- the expected outcomes of SOURCES.md ---------------------------------------------


def test_tdx_v4_with_collateral_is_up_to_date() -> None:
    v = _verify(_read(TDX_V4), _coll(TDX_V4_COLL))
    assert v.format == "tdx"
    assert v.time == IN_WINDOW
    assert v.debug is False
    assert v.collateral is True
    assert v.tcb_status == "UpToDate"
    assert v.advisories == []
    assert v.signer == "PCK (Platform CA)"
    assert [c.split("CN=")[-1] for c in v.chain] == [
        "Intel SGX PCK Certificate", "Intel SGX PCK Platform CA", "Intel SGX Root CA"]
    assert v.measurements["MRTD"] == (
        "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407"
        "de03ae6dc5f87f27428b2538873118b7")
    assert {"RTMR0", "RTMR1", "RTMR2", "RTMR3", "MRCONFIGID", "MROWNER"} <= set(v.measurements)
    assert "MRSERVICETD" not in v.measurements
    assert len(v.report_data) == 64 and v.report_data.hex().startswith("9a9d48e7")
    assert v.report_data.hex().endswith("523f20")
    assert v.claims["header.tee_type"] == 0x81
    assert v.claims["header.qe_vendor_id"] == dcap_abi.INTEL_QE_VENDOR_ID
    assert v.claims["td_attributes"] == "0000001000000000"
    assert v.claims["pck.fmspc"] == "b0c06f000000"
    assert v.claims["pck.pcesvn"] == 11
    assert v.claims["tdx_module_identity"] == "TDX_01"
    assert v.claims["tdx_module_status"] == "UpToDate"
    assert v.claims["qe_identity_status"] == "UpToDate"
    assert v.claims["collateral_valid_from"] == "2025-06-19T10:32:27+00:00"
    assert v.claims["collateral_valid_until"] == "2025-07-19T10:00:35+00:00"
    assert v.claims["quote_bytes_used"] == 4936 and v.claims["trailing_bytes"] == 70
    assert any("70 trailing bytes" in n for n in v.notes)
    assert v.tcb["tdx_comp01"] == 6 and v.tcb["tdx_comp02"] == 1 and v.tcb["pcesvn"] == 11


def test_tdx_v4_collateral_as_json_bytes_is_the_same() -> None:
    v = _verify(_read(TDX_V4), _read(TDX_V4_COLL))
    assert v.tcb_status == "UpToDate" and v.collateral is True


@pytest.mark.parametrize("field", ["tcb_info", "tcb_info_issuer_chain", "pck_crl_issuer_chain"])
def test_collateral_with_a_lone_surrogate_is_malformed_naming_the_field(field: str) -> None:
    """A "\\ud800" escape in the collateral JSON is a string no UTF-8 encodes: one line
    naming the field, not a UnicodeEncodeError where the field is checked."""
    doc = json.loads(_read(SGX_V3_COLL))
    doc[field] = doc.get(field, "") + "\ud800"
    with pytest.raises(MalformedInput, match=rf"^sample\.dat: collateral\.{field} holds a lone UTF-16 surrogate"):
        _verify(_read(SGX_V3), json.dumps(doc).encode())


def test_tdx_v4_collateral_expired_in_2026() -> None:
    with pytest.raises(NotAuthentic, match=r"^sample\.dat: collateral expired") as exc:
        _verify(_read(TDX_V4), _coll(TDX_V4_COLL), at=NOW_2026)
    assert "\n" not in str(exc.value)


def test_tdx_v4_collateral_not_yet_valid() -> None:
    with pytest.raises(NotAuthentic, match="collateral not yet valid"):
        _verify(_read(TDX_V4), _coll(TDX_V4_COLL), at=dt.datetime(2025, 6, 19, 10, 20, tzinfo=dt.UTC))


def test_tdx_v5_signature_and_chain_without_collateral() -> None:
    v = _verify(_read(TDX_V5), None, at=TDX_V5_AT)
    assert v.format == "tdx"
    assert v.debug is False
    assert v.collateral is False
    assert v.tcb_status is None
    assert any("no collateral" in n for n in v.notes)
    assert v.claims["header.version"] == 5
    assert v.claims["body_type"] == 3
    assert v.claims["pck.fmspc"] == "90c06f000000"
    assert v.claims["tee_tcb_svn"].startswith("0b0104")
    assert v.claims["tee_tcb_svn2"].startswith("0d0104")
    assert v.measurements["MRTD"].startswith("7348651a") and v.measurements["MRTD"].endswith("c8f876")
    assert v.measurements["MRSERVICETD"] == "00" * 48
    assert v.signer == "PCK (Platform CA)"


def test_tdx_v5_signed_data_covers_the_body_descriptor() -> None:
    quote = _read(TDX_V5)
    q = dcap_abi.parse_quote(quote, "v5")
    assert q.signed == quote[: 48 + 2 + 4 + 648]
    assert struct.unpack_from("<HI", quote, 48) == (3, 648)
    # A descriptor that still parses (type 3 -> 2 would change the size) cannot be altered
    # without the parse failing; a changed header byte before it breaks the signature.
    with pytest.raises(NotAuthentic, match="quote signature"):
        _verify(_flip(quote, 30), None, at=TDX_V5_AT)
    with pytest.raises(MalformedInput, match="body"):
        _verify(_flip(quote, 48), None, at=TDX_V5_AT)


def test_sgx_v3_with_collateral_needs_configuration_and_sw_hardening() -> None:
    v = _verify(_read(SGX_V3), _coll(SGX_V3_COLL))
    assert v.format == "sgx"
    assert v.debug is False
    assert v.collateral is True
    assert v.tcb_status == "ConfigurationAndSWHardeningNeeded"
    assert v.advisories == ["INTEL-SA-00289", "INTEL-SA-00615"]
    assert v.measurements == {
        "MRENCLAVE": "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb",
        "MRSIGNER": "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6",
    }
    assert v.claims["ISVPRODID"] == 0 and v.claims["ISVSVN"] == 0
    assert v.report_data == b"Hello, world!" + bytes(64 - 13)
    assert v.signer == "PCK (Processor CA)"
    assert v.claims["pck.fmspc"] == "00a067110000"
    assert v.claims["header.qe_svn"] == 10 and v.claims["header.pce_svn"] == 15
    assert v.claims["qe_identity_status"] == "UpToDate"
    assert v.claims["collateral_valid_from"] == "2025-06-19T10:56:11+00:00"
    assert v.claims["collateral_valid_until"] == "2025-07-19T10:01:18+00:00"


def test_sgx_debug_enclave_verifies_without_collateral() -> None:
    v = _verify(_read(SGX_DEBUG), None)
    assert v.format == "sgx"
    assert v.debug is True
    assert v.tcb_status is None and v.collateral is False
    assert v.measurements["MRENCLAVE"] == "8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68"
    assert v.measurements["MRSIGNER"].startswith("83d719e7") and v.measurements["MRSIGNER"].endswith("c7ce9e")
    assert v.report_data == b"test" + bytes(60)
    assert v.claims["header.qe_svn"] == 8 and v.claims["header.pce_svn"] == 13
    assert v.claims["pck.fmspc"] == "00606a000000"
    assert v.signer == "PCK (Platform CA)"


# --- tampering -------------------------------------------------------------------------


@pytest.mark.parametrize("name", [TDX_V4, TDX_V5, SGX_V3])
def test_flipped_bit_in_signed_body(name: str) -> None:
    quote = _read(name)
    at = TDX_V5_AT if name == TDX_V5 else IN_WINDOW
    body_start = len(dcap_abi.parse_quote(quote, "x").signed) - 64  # inside REPORTDATA
    with pytest.raises(NotAuthentic, match=r"^sample\.dat: quote signature"):
        _verify(_flip(quote, body_start + 3, 5), None, at=at)


def test_flipped_bit_in_quote_signature() -> None:
    quote = _read(TDX_V4)
    sig_off = 632 + 4  # header 48 + TD10 body 584, then the 4-byte signature data length
    with pytest.raises(NotAuthentic, match="quote signature"):
        _verify(_flip(quote, sig_off + 10), None)


@pytest.mark.parametrize("name", [TDX_V4, SGX_V3])
def test_flipped_bit_in_qe_report(name: str) -> None:
    quote = _read(name)
    off = quote.index(dcap_abi.parse_quote(quote, "x").qe_report_raw)
    with pytest.raises(NotAuthentic, match="QE report signature"):
        _verify(_flip(quote, off + 70), None)


def test_flipped_bit_in_qe_auth_data_breaks_the_binding() -> None:
    quote = _read(TDX_V4)
    q = dcap_abi.parse_quote(quote, "x")
    assert q.qe_auth
    off = quote.index(q.qe_report_sig) + 64 + 2  # after the 2-byte QE auth data size
    with pytest.raises(NotAuthentic, match="does not bind the attestation key"):
        _verify(_flip(quote, off), None)


def _with_tampered_pck(quote: bytes) -> bytes:
    """The quote with one letter changed inside the PCK certificate's signed subject."""
    q = dcap_abi.parse_quote(quote, "x")
    pems = re.findall(rb"-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----", q.pck_chain_pem)
    pck_pem = pems[0]
    body = b"".join(pck_pem.split(b"\n")[1:-1])
    der = bytearray(base64.b64decode(body))
    i = der.index(b"Intel SGX PCK Certificate")
    der[i] ^= 0x01  # 'I' -> 'H': still valid DER, no longer what Intel signed
    new_b64 = base64.b64encode(bytes(der))
    lines = [new_b64[k : k + 64] for k in range(0, len(new_b64), 64)]
    new_pem = b"\n".join([b"-----BEGIN CERTIFICATE-----", *lines, b"-----END CERTIFICATE-----"])
    assert len(new_pem) == len(pck_pem)
    return quote.replace(pck_pem, new_pem)


@pytest.mark.parametrize("name", [TDX_V4, SGX_V3, SGX_DEBUG])
def test_flipped_bit_in_pck_certificate(name: str) -> None:
    tampered = _with_tampered_pck(_read(name))
    assert len(tampered) == len(_read(name))
    with pytest.raises(NotAuthentic, match="PCK chain"):
        _verify(tampered, None)


def test_flipped_bit_in_pck_pem_text_is_refused() -> None:
    quote = _read(SGX_DEBUG)
    q = dcap_abi.parse_quote(quote, "x")
    off = quote.index(q.pck_chain_pem) + 200
    with pytest.raises((NotAuthentic, MalformedInput)):
        _verify(_flip(quote, off, 1), None)


@pytest.mark.parametrize("extra", [b"\x00" * 7, b"\nextra bytes(only for testing purpose)\n"])
def test_trailing_bytes_after_signature_data_are_ignored(extra: bytes) -> None:
    v = _verify(_read(TDX_V4) + extra, _coll(TDX_V4_COLL))
    assert v.tcb_status == "UpToDate"
    assert v.claims["trailing_bytes"] == 70 + len(extra)
    v = _verify(_read(SGX_V3) + extra, _coll(SGX_V3_COLL))
    assert v.tcb_status == "ConfigurationAndSWHardeningNeeded"
    assert any(f"{len(extra)} trailing bytes" in n for n in v.notes)


@pytest.mark.parametrize("name", [TDX_V4, TDX_V5, SGX_V3])
def test_truncated_quote_is_malformed(name: str) -> None:
    quote = _read(name)
    used = dcap_abi.parse_quote(quote, "x").used
    for cut in (0, 1, 10, 47, 48, 100, 631, 700, 1200, used - 1):
        with pytest.raises(MalformedInput, match=r"^sample\.dat: truncated") as exc:
            _verify(quote[:cut], None)
        assert "\n" not in str(exc.value)


@pytest.mark.parametrize("name", [TDX_V4, TDX_V5, SGX_V3, SGX_DEBUG])
def test_bit_flips_anywhere_give_only_teecert_errors(name: str) -> None:
    """Every flip inside the used bytes either fails as MalformedInput / NotAuthentic or
    leaves a quote that still verifies (e.g. in the redundant copy of the root in the PEM
    chain); no other exception escapes."""
    quote = _read(name)
    at = TDX_V5_AT if name == TDX_V5 else IN_WINDOW
    used = dcap_abi.parse_quote(quote, "x").used
    refused = 0
    for off in range(0, used, 5):
        try:
            _verify(_flip(quote, off, off % 8), None, at=at)
        except (MalformedInput, NotAuthentic) as exc:
            assert str(exc).startswith("sample.dat") and "\n" not in str(exc)
            refused += 1
    assert refused > used // 5 * 0.9


def test_huge_lengths_are_bounded() -> None:
    quote = bytearray(_read(TDX_V4))
    struct.pack_into("<I", quote, 632, 0xFFFFFFFF)  # signature data length
    with pytest.raises(MalformedInput, match=r"signature data needs 4294967295 bytes at offset 636"):
        _verify(bytes(quote), None)
    quote = bytearray(_read(TDX_V4))
    struct.pack_into("<I", quote, 636 + 130, 0xFFFFFFF0)  # certification data size
    with pytest.raises(MalformedInput, match="certification_data"):
        _verify(bytes(quote), None)


def test_unknown_version_and_key_type_are_malformed() -> None:
    quote = bytearray(_read(SGX_V3))
    struct.pack_into("<H", quote, 0, 7)
    with pytest.raises(MalformedInput, match="version 7"):
        _verify(bytes(quote), None)
    quote = bytearray(_read(SGX_V3))
    struct.pack_into("<H", quote, 2, 3)
    with pytest.raises(MalformedInput, match="attestation key type 3"):
        _verify(bytes(quote), None)


# --- collateral ------------------------------------------------------------------------


def test_collateral_from_the_other_platform_is_not_authentic() -> None:
    with pytest.raises(NotAuthentic, match="another platform"):
        _verify(_read(TDX_V4), _coll(SGX_V3_COLL))
    with pytest.raises(NotAuthentic, match="another platform"):
        _verify(_read(SGX_V3), _coll(TDX_V4_COLL))


def test_tcb_info_for_another_fmspc_is_not_authentic() -> None:
    # The SGX debug enclave has a Platform-CA PCK like the TDX sample, but FMSPC 00606a000000.
    coll = _coll(TDX_V4_COLL)
    with pytest.raises(NotAuthentic, match="another platform"):
        _verify(_read(SGX_DEBUG), coll)


@pytest.mark.parametrize(("field", "old", "new"), [
    ("tcb_info", '"tcbStatus":"OutOfDate"', '"tcbStatus":"UpToDate"'),
    ("tcb_info", '"pcesvn":11', '"pcesvn":10'),
    ("qe_identity", '"isvsvn":4', '"isvsvn":3'),
])
def test_tampered_signed_json_is_not_authentic(field: str, old: str, new: str) -> None:
    coll = _coll(TDX_V4_COLL)
    assert old in coll[field]
    coll[field] = coll[field].replace(old, new, 1)
    with pytest.raises(NotAuthentic, match=f"collateral.{field} signature does not verify"):
        _verify(_read(TDX_V4), coll)


def test_tampered_tcb_info_that_is_no_longer_json_is_not_authentic() -> None:
    coll = _coll(SGX_V3_COLL)
    coll["tcb_info"] = coll["tcb_info"][:-1]
    with pytest.raises(NotAuthentic, match=r"collateral\.tcb_info signature"):
        _verify(_read(SGX_V3), coll)


def test_tampered_signature_and_crl_are_not_authentic() -> None:
    coll = _coll(TDX_V4_COLL)
    sig = bytearray(bytes.fromhex(coll["qe_identity_signature"]))
    sig[5] ^= 1
    coll["qe_identity_signature"] = sig.hex()
    with pytest.raises(NotAuthentic, match="qe_identity signature"):
        _verify(_read(TDX_V4), coll)
    coll = _coll(TDX_V4_COLL)
    crl = bytearray(bytes.fromhex(coll["pck_crl"]))
    crl[-10] ^= 1  # inside the CRL's signature value
    coll["pck_crl"] = crl.hex()
    with pytest.raises(NotAuthentic, match="pck_crl"):
        _verify(_read(TDX_V4), coll)


@pytest.mark.filterwarnings("ignore::UserWarning")  # cryptography on damaged names
@pytest.mark.parametrize("field", ["tcb_info", "tcb_info_signature", "tcb_info_issuer_chain", "qe_identity",
                                   "qe_identity_issuer_chain", "root_ca_crl", "pck_crl", "pck_crl_issuer_chain"])
def test_collateral_flips_give_only_teecert_errors(field: str) -> None:
    """A changed character anywhere in the collateral is refused as NotAuthentic or
    MalformedInput, or (only inside the redundant root copy of an issuer chain) ignored."""
    base = _coll(TDX_V4_COLL)
    quote = _read(TDX_V4)
    val = base[field]
    hexfield = field.endswith(("crl", "signature"))
    refused = tried = 0
    for off in range(0, len(val), 11):
        coll = dict(base)
        if hexfield:
            raw = bytearray(bytes.fromhex(val))
            if off // 2 >= len(raw):
                break
            raw[off // 2] ^= 1 << (off % 8)
            coll[field] = raw.hex()
        else:
            coll[field] = val[:off] + chr(ord(val[off]) ^ 1) + val[off + 1 :]
        tried += 1
        try:
            _verify(quote, coll)
        except (MalformedInput, NotAuthentic) as exc:
            assert str(exc).startswith("sample.dat") and "\n" not in str(exc)
            refused += 1
    if field.endswith("issuer_chain"):
        assert refused > tried // 2
    else:
        assert refused == tried


def test_collateral_signed_by_a_non_tcb_signing_certificate_is_refused() -> None:
    coll = _coll(TDX_V4_COLL)
    coll["tcb_info_issuer_chain"] = coll["pck_crl_issuer_chain"]  # Platform CA -> Root
    with pytest.raises(NotAuthentic, match="Intel SGX TCB Signing"):
        _verify(_read(TDX_V4), coll)


def test_incomplete_collateral_is_malformed() -> None:
    coll = _coll(TDX_V4_COLL)
    del coll["pck_crl"]
    with pytest.raises(MalformedInput, match=r"collateral\.pck_crl is missing"):
        _verify(_read(TDX_V4), coll)
    with pytest.raises(MalformedInput, match="collateral is not JSON"):
        _verify(_read(TDX_V4), b"{not json")


# --- time and roots --------------------------------------------------------------------


def test_pck_not_yet_valid_is_not_authentic() -> None:
    with pytest.raises(NotAuthentic, match="not yet valid"):
        _verify(_read(TDX_V4), None, at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))


def test_naive_time_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        dcap.verify(_read(TDX_V4), collateral=None, roots=None, at=dt.datetime(2025, 7, 1), where="x")


def test_pinned_root_and_foreign_roots() -> None:
    root = dcap.intel_sgx_root()
    assert root.subject.rfc4514_string().endswith("CN=Intel SGX Root CA")
    v = dcap.verify(_read(SGX_DEBUG), collateral=None, roots=[root], at=IN_WINDOW, where="x")
    assert v.claims["root_sha256"] == dcap.INTEL_SGX_ROOT_CA_SHA256
    nitro = load_certificates(_read("nitro/root_aws_nitro_enclaves_g1.pem"), "nitro") if (
        REALWORLD / "nitro").is_dir() else []
    if nitro:
        with pytest.raises(NotAuthentic, match="PCK chain"):
            dcap.verify(_read(SGX_DEBUG), collateral=None, roots=nitro, at=IN_WINDOW, where="x")


# -- freshness: collateral older than the policy allows ----------------------------------


def test_collateral_older_than_the_policy_allows_is_refused_with_its_dates() -> None:
    coll = _coll(TDX_V4_COLL)
    tcb_issued = dt.datetime.fromisoformat(json.loads(coll["tcb_info"])["issueDate"].replace("Z", "+00:00"))
    at = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    v = _verify(_read(TDX_V4), coll, at=at)
    assert v.collateral_issued is not None and v.collateral_issued <= tcb_issued
    old = policy.validate(v, policy.from_document({"max_collateral_age_days": 5}, "p"))
    assert len(old) == 1 and old[0].startswith("max_collateral_age_days: collateral issued "), old
    assert "2025-07-01T00:00:00Z" in old[0] and "over the 5 allowed" in old[0]
    assert policy.validate(v, policy.from_document({"max_collateral_age_days": 30}, "p")) == []
