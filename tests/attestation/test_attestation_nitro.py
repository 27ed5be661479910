"""AWS Nitro Enclaves: the real documents of tests/data/realworld/attestation/nitro give the
outcomes SOURCES.md states (valid at their own timestamp, expired in 2026, debug rejected by
policy); bit flips, swapped signatures, foreign roots and truncation are refused."""

from __future__ import annotations

import base64
import datetime as dt
import random
from pathlib import Path

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from teecert.attestation.validate import policy
from teecert.attestation.verify import nitro, roots
from teecert.cli.common import exit_code_of
from teecert.errors import MalformedInput, NotAuthentic, TeecertError, UsageError

REPO = Path(__file__).resolve().parents[2]
from conftest import REALWORLD as RW  # noqa: E402

NITRO = RW / "nitro"
pytestmark = pytest.mark.skipif(not NITRO.is_dir(), reason=f"real-world Nitro samples not present ({NITRO})")

UTC = dt.UTC
PROD = "nitro_prod_2022-10-13.cose"
DEBUG = "nitro_debug_2022-10-12.cose"
NOW = dt.datetime(2026, 11, 21, tzinfo=UTC)


def _doc(name: str) -> bytes:
    return (NITRO / name).read_bytes()


def _flip(data: bytes, offset: int, bit: int = 0) -> bytes:
    b = bytearray(data)
    b[offset] ^= 1 << bit
    return bytes(b)


def _parts(name: str) -> list[bytes | dict[int, int]]:
    parts: list[bytes | dict[int, int]] = cbor2.loads(_doc(name))
    return parts


# ---- expected outcomes (SOURCES.md 8-9) ------------------------------------------------

def test_prod_document_valid_at_its_own_timestamp() -> None:
    raw = _doc(PROD)
    assert raw[:8].hex() == "8444a1013822a059"
    v = nitro.verify(raw, where=PROD)
    assert v.format == "nitro" and v.signer == "AWS Nitro" and v.debug is False
    assert v.time == dt.datetime(2022, 10, 13, 8, 58, 2, 136000, tzinfo=UTC)
    assert any("own timestamp 2022-10-13T08:58:02.136Z" in n for n in v.notes)
    assert v.claims["module_id"] == "i-020b6af9246d90e92-enc0183d09086c24190"
    assert v.claims["timestamp"] == 1665651482136 and v.claims["digest"] == "SHA384"
    assert len(v.measurements) == 16 and all(len(h) == 96 for h in v.measurements.values())
    assert v.measurements["PCR0"] == ("f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687"
                                      "e6f66fc890ac8cf150142d8b")
    assert v.measurements["PCR1"].startswith("bcdf05fe") and v.measurements["PCR1"].endswith("54e63f")
    assert v.measurements["PCR2"].startswith("d8f114da") and v.measurements["PCR2"].endswith("dc469a")
    assert v.measurements["PCR8"].startswith("8790eb3c") and v.measurements["PCR8"].endswith("0201cb")
    assert len(v.report_data) == 256 and v.claims["nonce"] == v.report_data.hex()
    assert v.claims["user_data"] is None and v.claims["public_key"] is None
    assert len(v.chain) == 5 and v.chain[-1] == "CN=aws.nitro-enclaves,OU=AWS,O=Amazon,C=US"
    assert policy.validate(v) == []


@pytest.mark.parametrize("at", [dt.datetime(2022, 10, 13, 9, 0, tzinfo=UTC),
                                dt.datetime(2022, 10, 13, 11, 58, tzinfo=UTC)])
def test_prod_document_valid_at_pinned_time_in_window(at: dt.datetime) -> None:
    v = nitro.verify(_doc(PROD), at=at, where=PROD)
    assert v.time == at and not any("own timestamp" in n for n in v.notes)


@pytest.mark.parametrize("name", [PROD, DEBUG])
def test_documents_expired_now(name: str) -> None:
    with pytest.raises(NotAuthentic, match="expired") as exc:
        nitro.verify(_doc(name), at=NOW, where=name)
    assert str(exc.value).startswith(name + ":") and exit_code_of(exc.value) == 2


def test_prod_leaf_not_yet_valid_before_issue() -> None:
    with pytest.raises(NotAuthentic, match="not yet valid"):
        nitro.verify(_doc(PROD), at=dt.datetime(2022, 10, 13, 8, 0, tzinfo=UTC), where=PROD)


def test_debug_document_verified_but_policy_rejects() -> None:
    v = nitro.verify(_doc(DEBUG), where=DEBUG)
    assert v.debug is True
    assert v.time == dt.datetime(2022, 10, 12, 13, 50, 6, 81000, tzinfo=UTC)
    for i in (0, 1, 2, 8):
        assert v.measurements[f"PCR{i}"] == "00" * 48
    assert any(c != "0" for c in v.measurements["PCR3"]) and any(c != "0" for c in v.measurements["PCR4"])
    assert bytes.fromhex(v.claims["public_key"]) == b"my super secret key"
    assert v.report_data == b"hello, world!" and v.claims["nonce"] is None
    fails = policy.validate(v)
    assert len(fails) == 1 and fails[0].startswith("debug_allowed:") and "PCR0" in fails[0]
    assert policy.validate(v, {"debug_allowed": True, "report_data": b"hello, world!".hex()}) == []


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode, base64.encodebytes,
                                    lambda b: base64.b64encode(b).rstrip(b"=") + b"\n"])
def test_base64_input(encode: object) -> None:
    assert callable(encode)
    v = nitro.verify(encode(_doc(PROD)), where=PROD)
    assert v.measurements["PCR0"].startswith("f4d48b81")


def test_tagged_cose_sign1_tolerated() -> None:
    tagged = cbor2.dumps(cbor2.CBORTag(18, _parts(PROD)))
    assert nitro.verify(tagged, where=PROD).debug is False


def test_explicit_roots() -> None:
    g1 = roots.load_roots(NITRO / "root_aws_nitro_enclaves_g1.pem")
    assert nitro.verify(_doc(PROD), roots=g1, where=PROD).signer == "AWS Nitro"


def test_naive_time_refused() -> None:
    with pytest.raises(UsageError):
        nitro.verify(_doc(PROD), at=dt.datetime(2022, 10, 13, 9, 0), where=PROD)


# ---- negative tests built from the real samples ----------------------------------------

def test_flipped_bit_in_signed_payload() -> None:
    raw = _doc(PROD)
    pcr0 = bytes.fromhex("f4d48b81a460c9916d1e685119074bf2")
    with pytest.raises(NotAuthentic, match="signature does not verify"):
        nitro.verify(_flip(raw, raw.index(pcr0) + 3), where=PROD)


def test_flipped_bit_in_protected_header() -> None:
    raw = _doc(PROD)
    with pytest.raises(MalformedInput, match="ES384"):
        nitro.verify(_flip(raw, 5, 1), where=PROD)  # alg -35 -> -33


@pytest.mark.parametrize("back", [1, 20, 48, 49, 70, 96])
def test_flipped_bit_in_signature(back: int) -> None:
    raw = _doc(PROD)
    with pytest.raises(NotAuthentic):
        nitro.verify(_flip(raw, len(raw) - back), where=PROD)


def test_flipped_bit_in_certificate() -> None:
    # The leaf certificate sits inside the signed payload: a flip there breaks the COSE
    # signature or, if the key bytes still parse, the chain.
    raw = _doc(PROD)
    payload = cbor2.loads(_parts(PROD)[2])  # type: ignore[arg-type]
    cert = payload["certificate"]
    for off in (40, 200, len(cert) - 30):
        with pytest.raises((NotAuthentic, MalformedInput)):
            nitro.verify(_flip(raw, raw.index(cert) + off), where=PROD)


def test_swapped_signature_between_documents() -> None:
    prod, dbg = _parts(PROD), _parts(DEBUG)
    mixed = cbor2.dumps([dbg[0], dbg[1], dbg[2], prod[3]])
    with pytest.raises(NotAuthentic, match="signature does not verify"):
        nitro.verify(mixed, where="mixed")


def test_swapped_cabundle_between_documents() -> None:
    """A payload re-assembled with the other document's certificate no longer verifies."""
    prod, dbg = _parts(PROD), _parts(DEBUG)
    p = cbor2.loads(prod[2])  # type: ignore[arg-type]
    p["certificate"] = cbor2.loads(dbg[2])["certificate"]  # type: ignore[arg-type]
    doc = cbor2.dumps([prod[0], prod[1], cbor2.dumps(p), prod[3]])
    with pytest.raises(NotAuthentic):
        nitro.verify(doc, where="swapped")


def test_different_root_genoa() -> None:
    genoa = roots.load_roots(RW / "snp" / "root_ask_ark_genoa.pem") if (RW / "snp").is_dir() else []
    with pytest.raises(NotAuthentic, match="pinned AWS Nitro Enclaves G1 root"):
        nitro.verify(_doc(PROD), roots=genoa, where=PROD)


def _own_chain(anchor_self_signed: bool) -> tuple[bytes, x509.Certificate]:
    """A well-formed document signed by a key of ours, with our own root (or AWS's)."""
    now = dt.datetime(2022, 10, 13, tzinfo=UTC)
    root_key = ec.generate_private_key(ec.SECP384R1())
    leaf_key = ec.generate_private_key(ec.SECP384R1())
    rname = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "aws.nitro-enclaves")])
    lname = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "enclave")])
    root = (x509.CertificateBuilder().subject_name(rname).issuer_name(rname).public_key(root_key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(root_key, hashes.SHA384()))
    leaf = (x509.CertificateBuilder().subject_name(lname).issuer_name(rname).public_key(leaf_key.public_key())
            .serial_number(2).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(root_key, hashes.SHA384()))
    der = serialization.Encoding.DER
    g1 = roots.load_roots(NITRO / "root_aws_nitro_enclaves_g1.pem")[0]
    bundle = [(root if anchor_self_signed else g1).public_bytes(der)]
    payload = cbor2.dumps({"module_id": "i-0-enc0", "digest": "SHA384", "timestamp": 1665651482136,
                           "pcrs": {i: bytes([i]) * 48 for i in range(16)}, "certificate": leaf.public_bytes(der),
                           "cabundle": bundle, "public_key": None, "user_data": b"x", "nonce": None})
    protected = cbor2.dumps({1: -35})
    sig = leaf_key.sign(cbor2.dumps(["Signature1", protected, b"", payload]), ec.ECDSA(hashes.SHA384()))
    r, s = decode_dss_signature(sig)
    return cbor2.dumps([protected, {}, payload, r.to_bytes(48, "big") + s.to_bytes(48, "big")]), root


def test_own_root_refused_even_with_valid_signature() -> None:
    doc, root = _own_chain(anchor_self_signed=True)
    with pytest.raises(NotAuthentic, match="not the pinned AWS Nitro Enclaves G1 root"):
        nitro.verify(doc, where="forged")
    # and passing it as a "root" does not help: only pinned roots are anchors
    with pytest.raises(NotAuthentic):
        nitro.verify(doc, roots=[root], where="forged")


def test_real_g1_root_in_cabundle_but_leaf_not_issued_by_it() -> None:
    doc, _ = _own_chain(anchor_self_signed=False)
    with pytest.raises(NotAuthentic, match="no chain"):
        nitro.verify(doc, where="forged")


@pytest.mark.parametrize("length", [0, 1, 8, 100, 2000, 4653])
def test_truncated_document(length: int) -> None:
    with pytest.raises(MalformedInput):
        nitro.verify(_doc(PROD)[:length], where=PROD)


def test_trailing_bytes_and_garbage() -> None:
    with pytest.raises(MalformedInput, match="trailing"):
        nitro.verify(_doc(PROD) + b"\0", where=PROD)
    with pytest.raises(MalformedInput, match="neither CBOR"):
        nitro.verify(b"not a document at all!", where="junk")
    with pytest.raises(MalformedInput, match="array of 4"):
        nitro.verify(cbor2.dumps(cbor2.CBORTag(18, [1, 2, 3])), where="junk")


def test_payload_fields_checked() -> None:
    prod = _parts(PROD)
    p = cbor2.loads(prod[2])  # type: ignore[arg-type]
    for key, value, msg in [("digest", "SHA256", "digest"), ("timestamp", -1, "timestamp"),
                            ("pcrs", {0: b"\0" * 32}, "pcrs"), ("cabundle", [], "cabundle"),
                            ("user_data", b"x" * 513, "user_data"), ("module_id", 5, "module_id")]:
        q = dict(p)
        q[key] = value
        with pytest.raises(MalformedInput, match=msg):
            nitro.verify(cbor2.dumps([prod[0], prod[1], cbor2.dumps(q), prod[3]]), where="edited")
    q = dict(p)
    del q["certificate"]
    with pytest.raises(MalformedInput, match="certificate"):
        nitro.verify(cbor2.dumps([prod[0], prod[1], cbor2.dumps(q), prod[3]]), where="edited")


def test_random_damage_gives_only_documented_errors() -> None:
    rng = random.Random(5)
    raw = _doc(PROD)
    for _ in range(300):
        b = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        cut = bytes(b[: rng.randint(0, len(b))]) if rng.random() < 0.3 else bytes(b)
        try:
            nitro.verify(cut, where="fuzz")
        except TeecertError as exc:
            assert exit_code_of(exc) == 2 and "\n" not in str(exc)


def test_evidence_far_from_the_verification_time_fails_the_maximum_age() -> None:
    # The document's timestamp is 2022-10-13T08:58:02.136Z; its leaf lives until 11:58:02.
    stamp = dt.datetime(2022, 10, 13, 8, 58, 2, 136000, tzinfo=dt.UTC)
    pol = policy.from_document({"max_evidence_age_seconds": 3600}, "p")
    near = nitro.verify(_doc(PROD), at=stamp + dt.timedelta(minutes=30), where=PROD)
    assert near.issued == stamp and policy.validate(near, pol) == []
    far = nitro.verify(_doc(PROD), at=stamp + dt.timedelta(hours=2), where=PROD)
    fails = policy.validate(far, pol)
    assert len(fails) == 1 and fails[0].startswith("max_evidence_age_seconds: evidence made 2022-10-13T08:58:02Z"), fails
