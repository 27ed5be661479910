"""AMD SEV-SNP revocation (``snp.verify(..., crl=...)``): no AMD CRL sample exists, so
a synthetic ARK (RSA-4096, RSASSA-PSS), ASK and P-384 VCEK sign a synthetic report;
the synthetic ARK is pinned for the test by monkeypatching ``roots._BY_FP``.  The
command line is exercised (in a child process, where no pin can be patched in) only
for a garbled CRL with the real sample report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from teecert.attestation import evidence
from teecert.attestation.abi import snp as snp_abi
from teecert.attestation.model import Verified
from teecert.attestation.validate import policy
from teecert.attestation.verify import roots, snp, x509chain
from teecert.cli.common import exit_code_of
from teecert.errors import MalformedInput, NotAuthentic

from conftest import REALWORLD, no_traceback, teecert_cli

UTC = dt.UTC
T0 = dt.datetime(2025, 1, 1, tzinfo=UTC)  # chain issued
AT = dt.datetime(2025, 6, 1, tzinfo=UTC)  # verification time
CRL_THIS = dt.datetime(2025, 5, 20, tzinfo=UTC)
CRL_NEXT = dt.datetime(2025, 6, 20, tzinfo=UTC)
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
CHIP_ID = bytes(range(1, 65))


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Engineering"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "teecert synthetic AMD"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _der_int(v: int) -> bytes:
    body = v.to_bytes((v.bit_length() + 8) // 8 or 1, "big")
    return bytes([0x02, len(body)]) + body


def _ia5(s: str) -> bytes:
    return bytes([0x16, len(s)]) + s.encode()


def _ext(oid: str, value: bytes) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value)


@dataclasses.dataclass
class Chain:
    ark_key: rsa.RSAPrivateKey
    ark: x509.Certificate
    ask_key: rsa.RSAPrivateKey
    ask: x509.Certificate
    vcek: x509.Certificate
    report: bytes

    @property
    def vcek_der(self) -> bytes:
        return self.vcek.public_bytes(serialization.Encoding.DER)

    @property
    def roots(self) -> list[x509.Certificate]:
        return [self.ark, self.ask]


def _ca(subject: str, key: rsa.RSAPrivateKey, issuer: x509.Name, signer: rsa.RSAPrivateKey, serial: int,
        path_length: int | None) -> x509.Certificate:
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(T0).not_valid_after(T0 + dt.timedelta(days=25 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(signer, hashes.SHA384(), rsa_padding=PSS))


def _report(vcek_key: ec.EllipticCurvePrivateKey) -> bytes:
    rep = bytearray(snp_abi.REPORT_SIZE)
    struct.pack_into("<IIQ", rep, 0x000, 2, 1, 0x30000)  # VERSION 2, GUEST_SVN, POLICY (no debug)
    struct.pack_into("<II", rep, 0x030, 0, snp_abi.SIG_ALGO_ECDSA_P384_SHA384)  # VMPL 0, SIGNATURE_ALGO
    struct.pack_into("<I", rep, 0x048, 0)  # SIGNING_KEY 0 = VCEK, MASK_CHIP_KEY 0
    rep[0x050:0x090] = b"\xab" * 64  # REPORT_DATA
    rep[0x090:0x0C0] = bytes(range(48))  # MEASUREMENT
    tcb = bytes([TCB["bootloader"], TCB["tee"], 0, 0, 0, 0, TCB["snp"], TCB["microcode"]])
    for off in (0x038, 0x180, 0x1E0, 0x1F0):  # CURRENT, REPORTED, COMMITTED, LAUNCH TCB
        rep[off:off + 8] = tcb
    rep[0x1A0:0x1E0] = CHIP_ID
    r, s = decode_dss_signature(vcek_key.sign(bytes(rep[:snp_abi.SIGNED_END]), ec.ECDSA(hashes.SHA384())))
    rep[0x2A0:0x2E8] = r.to_bytes(72, "little")
    rep[0x2E8:0x330] = s.to_bytes(72, "little")
    return bytes(rep)


@pytest.fixture(scope="module")
def chain() -> Chain:
    ark_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    ark = _ca("ARK-Milan", ark_key, _name("ARK-Milan"), ark_key, 0x10000, 1)
    ask_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ask = _ca("SEV-Milan", ask_key, ark.subject, ark_key, 0x10001, 0)
    vcek_key = ec.generate_private_key(ec.SECP384R1())
    b = (x509.CertificateBuilder().subject_name(_name("SEV-VCEK")).issuer_name(ask.subject)
         .public_key(vcek_key.public_key()).serial_number(0x2A)
         .not_valid_before(T0).not_valid_after(T0 + dt.timedelta(days=7 * 365))
         .add_extension(_ext("1.3.6.1.4.1.3704.1.2", _ia5("Milan-B0")), critical=False)
         .add_extension(_ext("1.3.6.1.4.1.3704.1.4", CHIP_ID), critical=False))
    for comp, oid in (("bootloader", 1), ("tee", 2), ("snp", 3), ("microcode", 8)):
        b = b.add_extension(_ext(f"1.3.6.1.4.1.3704.1.3.{oid}", _der_int(TCB[comp])), critical=False)
    vcek = b.sign(ask_key, hashes.SHA384(), rsa_padding=PSS)
    return Chain(ark_key, ark, ask_key, ask, vcek, _report(vcek_key))


@pytest.fixture(autouse=True)
def pinned(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pin the synthetic ARK as ARK-Milan (roots trusts only pinned fingerprints)."""
    fp = x509chain.fingerprint(chain.ark)
    monkeypatch.setitem(roots.PINNED, "ARK-Milan (synthetic test root)", fp)
    monkeypatch.setitem(roots._BY_FP, fp, "ARK-Milan")
    yield


def _crl(chain: Chain, revoked: Sequence[tuple[int, dt.datetime]] = (), *,
         key: rsa.RSAPrivateKey | None = None, issuer: x509.Name | None = None,
         this_update: dt.datetime = CRL_THIS, next_update: dt.datetime = CRL_NEXT,
         pem: bool = False) -> bytes:
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer or chain.ark.subject)
         .last_update(this_update).next_update(next_update))
    for serial, when in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(when).build())
    crl = b.sign(key or chain.ark_key, hashes.SHA384(), rsa_padding=PSS)
    return crl.public_bytes(serialization.Encoding.PEM if pem else serialization.Encoding.DER)


def _verify(chain: Chain, crl: bytes | None, at: dt.datetime = AT) -> Verified:
    return snp.verify(chain.report, cert=chain.vcek_der, roots=chain.roots, at=at, where="synthetic.bin", crl=crl)


# ---- the synthetic chain itself -------------------------------------------------------

def test_synthetic_chain_verifies_without_crl(chain: Chain) -> None:
    v = _verify(chain, None)
    assert v.signer == "VCEK" and v.tcb == TCB and v.collateral is False
    assert [s.split(",")[0] for s in v.chain] == ["CN=SEV-VCEK", "CN=SEV-Milan", "CN=ARK-Milan"]
    assert any("not checked" in n for n in v.notes)


def test_synthetic_ark_is_not_trusted_without_the_pin(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(roots._BY_FP, x509chain.fingerprint(chain.ark))
    with pytest.raises(NotAuthentic, match="no pinned AMD root"):
        _verify(chain, _crl(chain))


# ---- CRL outcomes ---------------------------------------------------------------------

@pytest.mark.parametrize("pem", [False, True], ids=["der", "pem"])
def test_empty_crl_accepted_with_collateral(chain: Chain, pem: bool) -> None:
    v = _verify(chain, _crl(chain, pem=pem))
    assert v.collateral is True
    assert not any("not checked" in n for n in v.notes)
    assert any(n.startswith("AMD CRL of ARK-Milan checked: 0 revoked") for n in v.notes)
    assert policy.validate(v) == []


def test_crl_listing_other_serials_accepted(chain: Chain) -> None:
    v = _verify(chain, _crl(chain, [(0x10002, T0), (0x99, T0)]))
    assert v.collateral is True and any("2 revoked serial(s), none in the chain" in n for n in v.notes)


def test_revoked_ask(chain: Chain) -> None:
    with pytest.raises(NotAuthentic) as exc:
        _verify(chain, _crl(chain, [(0x10002, T0), (chain.ask.serial_number, dt.datetime(2025, 3, 4, tzinfo=UTC))]))
    msg = str(exc.value)
    assert msg.startswith("synthetic.bin: revoked: ") and "CN=SEV-Milan" in msg and "serial 10001" in msg
    assert "since 2025-03-04T00:00:00Z" in msg and "\n" not in msg
    assert exit_code_of(exc.value) == 2


def test_revoked_vcek(chain: Chain) -> None:
    with pytest.raises(NotAuthentic, match=r"revoked: CN=SEV-VCEK,.* serial 2a since 2025-02-01"):
        _verify(chain, _crl(chain, [(chain.vcek.serial_number, dt.datetime(2025, 2, 1, tzinfo=UTC))]))


def test_crl_signed_by_another_key(chain: Chain) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(NotAuthentic, match="CRL signature does not verify"):
        _verify(chain, _crl(chain, key=other))
    # the ASK is not the ARK either, even though it is in the chain
    with pytest.raises(NotAuthentic, match="CRL signature does not verify"):
        _verify(chain, _crl(chain, key=chain.ask_key))


def test_crl_with_pkcs1_signature_refused(chain: Chain) -> None:
    crl = (x509.CertificateRevocationListBuilder().issuer_name(chain.ark.subject)
           .last_update(CRL_THIS).next_update(CRL_NEXT).sign(chain.ark_key, hashes.SHA384()))
    with pytest.raises(NotAuthentic, match="RSASSA-PSS"):
        _verify(chain, crl.public_bytes(serialization.Encoding.DER))


def test_crl_of_another_issuer(chain: Chain) -> None:
    with pytest.raises(NotAuthentic, match=r"CRL issuer .*ARK-Genoa.* is not the ARK"):
        _verify(chain, _crl(chain, issuer=_name("ARK-Genoa")))


def test_crl_expired_and_not_yet_valid(chain: Chain) -> None:
    crl = _crl(chain)
    with pytest.raises(NotAuthentic, match="CRL expired"):
        _verify(chain, crl, at=dt.datetime(2025, 7, 1, tzinfo=UTC))
    with pytest.raises(NotAuthentic, match="CRL not yet valid"):
        _verify(chain, crl, at=dt.datetime(2025, 5, 1, tzinfo=UTC))
    assert _verify(chain, crl, at=CRL_THIS).collateral is True  # window bounds included
    assert _verify(chain, crl, at=CRL_NEXT).collateral is True


@pytest.mark.parametrize("data", [b"", b"garbage", b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
                                  b"\x30\x82\x01\x00" + bytes(10)], ids=["empty", "text", "bad-pem", "bad-der"])
def test_garbage_crl_is_malformed(chain: Chain, data: bytes) -> None:
    with pytest.raises(MalformedInput, match=r"^synthetic.bin: AMD CRL \(collateral\): not a well-formed") as exc:
        _verify(chain, data)
    assert "\n" not in str(exc.value)


def test_truncated_crl_is_malformed(chain: Chain) -> None:
    crl = _crl(chain, [(5, T0)])
    for n in (1, 10, len(crl) // 2, len(crl) - 1):
        with pytest.raises(MalformedInput):
            _verify(chain, crl[:n])


def test_flipped_crl_never_accepted(chain: Chain) -> None:
    crl = _crl(chain, [(chain.ask.serial_number, T0)])
    for off in range(0, len(crl), 7):
        b = bytearray(crl)
        b[off] ^= 0x01
        try:
            v = _verify(chain, bytes(b))
        except (NotAuthentic, MalformedInput):
            continue
        raise AssertionError(f"flipped CRL byte {off} accepted: {v.notes}")


# ---- through evidence.verify and the policy ---------------------------------------------

def test_evidence_passes_collateral_as_crl(chain: Chain) -> None:
    kw: dict[str, Any] = {"fmt": "snp", "certs": [chain.vcek_der], "roots": chain.roots, "at": AT}
    assert evidence.verify(chain.report, "synthetic.bin", collateral=_crl(chain), **kw).collateral is True
    assert evidence.verify(chain.report, "synthetic.bin", collateral=None, **kw).collateral is False
    with pytest.raises(NotAuthentic, match="revoked"):
        evidence.verify(chain.report, "synthetic.bin", collateral=_crl(chain, [(0x10001, T0)]), **kw)
    assert evidence.verified_to_json(evidence.verify(chain.report, "synthetic.bin", collateral=_crl(chain),
                                                     **kw))["collateral"] is True


def test_require_collateral_accepts_snp_with_crl(chain: Chain) -> None:
    v = _verify(chain, _crl(chain))
    assert policy.validate(v, {"require_collateral": True}) == []
    assert policy.validate(v) == []


def test_default_policy_does_not_require_snp_crl(chain: Chain) -> None:
    assert policy.validate(_verify(chain, None)) == []  # default (None): collateral required only for sgx/tdx


def test_require_collateral_rejects_snp_without_crl(chain: Chain) -> None:
    fails = policy.validate(_verify(chain, None), {"require_collateral": True})
    assert len(fails) == 1 and fails[0].startswith("require_collateral:")


# ---- command line (real sample report, garbled CRL) ------------------------------------

SNP_DIR = REALWORLD / "snp"


@pytest.mark.skipif(not SNP_DIR.is_dir(), reason=f"real-world SEV-SNP samples not present ({SNP_DIR})")
def test_cli_garbage_crl_is_malformed(tmp_path: Path) -> None:
    bad = tmp_path / "crl.der"
    bad.write_bytes(os.urandom(64))
    report = str(SNP_DIR / "milan_v2_vcek_report.bin")
    res = teecert_cli(["attest", "verify", report, "--cert", str(SNP_DIR / "milan_v2_vcek_report.vcek.der"),
                       "--collateral", str(bad), "--at", "2025-06-01T00:00:00Z"])
    assert no_traceback(res.out + res.err)
    assert res.code == 2, res.out + res.err
    first = res.err.splitlines()[0]
    assert report in first and "AMD CRL" in first and "not a well-formed" in first, first
