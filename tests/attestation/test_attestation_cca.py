"""Arm CCA attestation tokens: the public example tokens of tests/data/realworld/attestation/cca
give the outcomes its SOURCES.md states; bit flips in either token, a realm token spliced onto
another platform token, a wrong platform key and malformed CBOR are refused; tokens signed here
with fresh keys exercise every policy rule (pin, lifecycle, RIM, RPV, components, report data)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from teecert.attestation import evidence, run_evidence
from teecert.attestation.abi import cca as cca_abi
from teecert.attestation.model import Verified
from teecert.attestation.validate import policy
from teecert.attestation.verify import cca
from teecert.errors import MalformedInput, NotAuthentic, UsageError

from conftest import REALWORLD, one_line, teecert_cli

CCA = REALWORLD / "cca"
real = pytest.mark.skipif(not CCA.is_dir(), reason=f"real-world CCA samples not present ({CCA})")

AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
RMM_TOKEN, RMM_KEY = "rmm_example_token.cbor", "rmm_example_cpak.pem"
V02_TOKEN, V02_KEY = "veraison_token_02.cbor", "veraison_token_02_cpak.jwk"
# SHA-256 of the DER SubjectPublicKeyInfo, computed with `openssl pkey -pubin -outform DER | sha256sum`
RMM_KEY_SHA256 = "0928f896cb02326566530a62a1e36329a12d0a4a308f4fc81e8ff5560bca6bca"
# the P-256 SubjectPublicKeyInfo header (RFC 5480: id-ecPublicKey, prime256v1), to build the DER by hand
P256_SPKI_HEADER = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


def _read(name: str) -> bytes:
    return (CCA / name).read_bytes()


def _b64u(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _v02_key_sha256() -> str:
    jwk = json.loads(_read(V02_KEY))
    return hashlib.sha256(P256_SPKI_HEADER + b"\x04" + _b64u(jwk["x"]) + _b64u(jwk["y"])).hexdigest()


def _pinned(*keys: str, **more: Any) -> dict[str, Any]:
    return {"formats": ["cca"], "cca_platform_keys": list(keys), **more}


def _split(token: bytes) -> tuple[bytes, bytes]:
    coll = cbor2.loads(token).value
    return coll[44234], coll[44241]


def _collection(platform: bytes, realm: bytes, tag: int = 399) -> bytes:
    return cbor2.dumps(cbor2.CBORTag(tag, {44234: platform, 44241: realm}))


# ---- tokens signed here -------------------------------------------------------------------

_ALG = {"secp256r1": (-7, hashes.SHA256(), 32), "secp384r1": (-35, hashes.SHA384(), 48),
        "secp521r1": (-36, hashes.SHA512(), 66)}


def _sign1(key: ec.EllipticCurvePrivateKey, payload: bytes, alg: int | None = None) -> bytes:
    want, h, size = _ALG[key.curve.name]
    protected = cbor2.dumps({1: want if alg is None else alg})
    der = key.sign(cbor2.dumps(["Signature1", protected, b"", payload]), ec.ECDSA(h))
    r, s = decode_dss_signature(der)
    sig = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, sig]))


def _raw_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def _cose_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    n = key.public_key().public_numbers()
    size = _ALG[key.curve.name][2]
    crv = {"secp256r1": 1, "secp384r1": 2, "secp521r1": 3}[key.curve.name]
    return cbor2.dumps({1: 2, -1: crv, -2: n.x.to_bytes(size, "big"), -3: n.y.to_bytes(size, "big")})


# fixed keys, so that a failure replays (the tests that need another key make a fresh one)
CPAK = ec.derive_private_key(0xC0FFEE_C9A0_0001, ec.SECP384R1())
RAK = ec.derive_private_key(0xC0FFEE_C9A0_0002, ec.SECP384R1())
COMPONENTS = [
    {1: "RMM", 2: bytes([0x11]) * 32, 4: "1.0.0", 5: bytes([0x22]) * 32, 6: "sha-256"},
    {1: "BL2", 2: bytes([0x33]) * 32, 5: bytes([0x44]) * 32},
]


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _fp(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def make(*, cpak: ec.EllipticCurvePrivateKey = CPAK, rak: ec.EllipticCurvePrivateKey = RAK,
         report_data: bytes = bytes(range(64)), rpv: bytes = b"\x5a" * 64, rim: bytes = b"\x01" * 32,
         lifecycle: int = 0x3000, components: list[dict[int, Any]] | None = None, rak_form: str = "raw",
         rak_hash: str = "sha-256", platform_challenge: bytes | None = None,
         platform: dict[Any, Any] | None = None, realm: dict[Any, Any] | None = None,
         drop: tuple[tuple[str, int], ...] = ()) -> bytes:
    rak_bytes = _raw_point(rak) if rak_form == "raw" else _cose_key(rak)
    realm_claims: dict[int, Any] = {
        10: report_data, 44235: rpv, 44238: rim, 44239: [b"\x00" * 32] * 4, 44236: "sha-256",
        44237: rak_bytes, 44240: rak_hash,
    }
    bound = hashlib.new(rak_hash.replace("-", ""), rak_bytes).digest()
    platform_claims: dict[int, Any] = {
        265: "tag:arm.com,2023:cca_platform#1.0.0", 10: bound if platform_challenge is None else platform_challenge,
        2396: b"\x7f" * 32, 256: b"\x01" + b"\x07" * 32, 2401: b"\xcf\xcf\xcf\xcf", 2395: lifecycle,
        2399: COMPONENTS if components is None else components, 2402: "sha-256",
    }
    realm_claims.update(realm or {})
    platform_claims.update(platform or {})
    for which, key in drop:
        (realm_claims if which == "realm" else platform_claims).pop(key)
    return _collection(_sign1(cpak, cbor2.dumps(platform_claims)), _sign1(rak, cbor2.dumps(realm_claims)))


def _verify(token: bytes, key: bytes | None = None) -> Verified:
    return cca.verify(token, platform_key=_pem(CPAK) if key is None else key, at=AT, where="token.cbor")


# ---- the real samples (SOURCES.md) --------------------------------------------------------

@real
def test_rmm_example_token_is_authentic_and_meets_a_pinned_policy() -> None:
    v = cca.verify(_read(RMM_TOKEN), platform_key=_read(RMM_KEY), at=AT, where=RMM_TOKEN)
    assert v.format == "cca" and v.debug is False and v.time == AT
    assert v.claims["platform_key_sha256"] == RMM_KEY_SHA256
    assert v.claims["lifecycle"] == 0x3003 and v.claims["lifecycle_state"] == "secured"
    assert v.claims["platform_profile"] == "http://arm.com/CCA-SSD/1.0.0"
    assert v.claims["platform_alg"] == "ES384" and v.claims["realm_alg"] == "ES384"
    assert v.report_data == b"\xab" * 64
    assert v.measurements["RIM"] == "00" * 32
    assert bytes.fromhex(v.measurements["RPV"]).startswith(b"The quick brown fox jumps over 13 lazy dogs.")
    assert [c["type"] for c in v.claims["sw_components"]] == ["BL", "M1", "M2", "M3"]
    assert policy.validate(v, _pinned(RMM_KEY_SHA256)) == []
    # the default policy names neither the format nor a key: rejected, with both reasons
    fails = policy.validate(v, None)
    assert [f.split(":")[0] for f in fails] == ["formats", "cca_platform_keys"]


@real
def test_veraison_token_02_is_authentic_under_its_jwk() -> None:
    v = cca.verify(_read(V02_TOKEN), platform_key=_read(V02_KEY), at=AT, where=V02_TOKEN)
    assert v.claims["platform_key_sha256"] == _v02_key_sha256()
    assert v.claims["platform_alg"] == "ES256" and v.claims["realm_public_key_hash_algo"] == "sha-512"
    assert v.measurements["RIM"] == "43" * 64 and v.measurements["RPV"] == "4144" * 32
    assert v.report_data == b"AB" * 32 and v.claims["lifecycle"] == 0x3000
    assert policy.validate(v, _pinned(_v02_key_sha256(), allowed_measurements=[{"RIM": "43" * 64}])) == []


@real
def test_real_samples_through_detect_and_evidence_verify() -> None:
    for token, key in ((RMM_TOKEN, RMM_KEY), (V02_TOKEN, V02_KEY)):
        assert evidence.detect(_read(token), token) == "cca"
        v = evidence.verify(_read(token), token, certs=[_read(key)], at=AT)
        assert v.format == "cca"


@real
def test_the_outcome_does_not_depend_on_the_verification_time() -> None:
    for at in (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)):
        v = cca.verify(_read(RMM_TOKEN), platform_key=_read(RMM_KEY), at=at, where=RMM_TOKEN)
        assert v.time == at and policy.validate(v, _pinned(RMM_KEY_SHA256)) == []
    with pytest.raises(UsageError, match="--at"):
        evidence.verify(_read(RMM_TOKEN), RMM_TOKEN, certs=[_read(RMM_KEY)], at=None)


@real
@pytest.mark.parametrize("token,key", [(RMM_TOKEN, RMM_KEY), (V02_TOKEN, V02_KEY)])
def test_every_bit_flip_in_either_signed_token_is_refused(token: str, key: str) -> None:
    raw = _read(token)
    platform, realm = _split(raw)
    accepted = []
    for which in ("platform", "realm"):
        part = platform if which == "platform" else realm
        for i in range(len(part)):
            b = bytearray(part)
            b[i] ^= 1 << (i % 8)
            forged = _collection(bytes(b), realm) if which == "platform" else _collection(platform, bytes(b))
            try:
                cca.verify(forged, platform_key=_read(key), at=AT, where=token)
            except (NotAuthentic, MalformedInput):
                continue
            accepted.append((which, i))
    assert accepted == []


@real
def test_flips_in_the_signatures_and_payloads_fail_the_signature_check() -> None:
    platform, realm = _split(_read(RMM_TOKEN))
    flipped_sig = platform[:-1] + bytes([platform[-1] ^ 1])
    with pytest.raises(NotAuthentic, match="platform token COSE_Sign1 signature does not verify under the platform key"):
        cca.verify(_collection(flipped_sig, realm), platform_key=_read(RMM_KEY), at=AT, where="t")
    rpv_at = realm.index(b"The quick brown")
    flipped_rpv = realm[:rpv_at] + b"t" + realm[rpv_at + 1:]
    with pytest.raises(NotAuthentic, match="realm token COSE_Sign1 signature does not verify under the realm public"):
        cca.verify(_collection(platform, flipped_rpv), platform_key=_read(RMM_KEY), at=AT, where="t")


@real
def test_a_realm_token_spliced_onto_another_platform_token_is_not_bound() -> None:
    p1, _ = _split(_read(RMM_TOKEN))
    _, r2 = _split(_read(V02_TOKEN))
    with pytest.raises(NotAuthentic, match="not bound to this platform token"):
        cca.verify(_collection(p1, r2), platform_key=_read(RMM_KEY), at=AT, where="spliced")


@real
def test_a_wrong_platform_key_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(NotAuthentic, match="does not verify under the platform key"):
        cca.verify(_read(RMM_TOKEN), platform_key=_pem(other), at=AT, where=RMM_TOKEN)
    with pytest.raises(NotAuthentic, match="signed with ES256, but its key is secp384r1"):
        cca.verify(_read(V02_TOKEN), platform_key=_read(RMM_KEY), at=AT, where=V02_TOKEN)
    with pytest.raises(NotAuthentic, match="no CCA platform key"):
        cca.verify(_read(RMM_TOKEN), platform_key=None, at=AT, where=RMM_TOKEN)


@real
def test_cli_exit_codes(tmp_path: Path) -> None:
    tok, key = str(CCA / RMM_TOKEN), str(CCA / RMM_KEY)
    pol = tmp_path / "policy.json"
    pol.write_text(json.dumps(_pinned(RMM_KEY_SHA256)))
    at = ["--at", "2026-12-01T00:00:00Z"]
    res = teecert_cli(["attest", "verify", tok, "--cert", key, "--policy", str(pol), *at, "--json"])
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert out["accepted"] and out["verified"]["format"] == "cca"
    res = teecert_cli(["attest", "verify", tok, "--cert", key, *at])
    assert res.code == 1 and "cca_platform_keys: no CCA platform key is pinned" in res.out
    other = tmp_path / "other.pem"
    other.write_bytes(_pem(ec.generate_private_key(ec.SECP384R1())))
    one_line(teecert_cli(["attest", "verify", tok, "--cert", str(other), "--policy", str(pol), *at]),
             "attest", "does not verify under the platform key")
    one_line(teecert_cli(["attest", "verify", tok, "--policy", str(pol), *at]), "attest", "no CCA platform key")
    bad = tmp_path / "trunc.cbor"
    bad.write_bytes(_read(RMM_TOKEN)[:600])
    one_line(teecert_cli(["attest", "verify", str(bad), "--format", "cca", "--cert", key, *at]),
             "attest", "trunc.cbor", "not valid CBOR")


# ---- self-signed tokens: authenticity -----------------------------------------------------

@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()])
@pytest.mark.parametrize("rak_form", ["raw", "cose"])
def test_self_signed_tokens_verify_for_every_curve_and_rak_form(curve: ec.EllipticCurve, rak_form: str) -> None:
    cpak, rak = ec.generate_private_key(curve), ec.generate_private_key(curve)
    v = _verify(make(cpak=cpak, rak=rak, rak_form=rak_form, rak_hash="sha-384"), _pem(cpak))
    assert v.claims["platform_key_sha256"] == _fp(cpak)
    assert v.report_data == bytes(range(64))


def test_every_platform_key_encoding_names_the_same_key() -> None:
    n = CPAK.public_key().public_numbers()
    jwk = json.dumps({"kty": "EC", "crv": "P-384", "x": base64.urlsafe_b64encode(n.x.to_bytes(48, "big")).decode(),
                      "y": base64.urlsafe_b64encode(n.y.to_bytes(48, "big")).decode().rstrip("=")}).encode()
    der = CPAK.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    for enc in (_pem(CPAK), der, jwk, _cose_key(CPAK)):
        assert _verify(make(), enc).claims["platform_key_sha256"] == _fp(CPAK)


def test_a_der_key_ending_in_a_white_space_byte_is_read_whole() -> None:
    # DER is binary: a key whose last byte is 0x20, 0x09 or 0x0a .. 0x0d must not be trimmed
    for scalar in range(1, 2000):
        priv = ec.derive_private_key(scalar, ec.SECP384R1())
        der = priv.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        if der[-1:].isspace():
            break
    else:
        pytest.fail("no key with a white-space last byte among the first 2000 scalars")
    assert _verify(make(cpak=priv), der).claims["platform_key_sha256"] == hashlib.sha256(der).hexdigest()


@pytest.mark.parametrize("key,msg", [
    (b"", "empty platform key"),
    (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key"),
    (b'{"kty": "RSA"}', "JWK kty"),
    (b'{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}', "coordinates must be 48 bytes"),
    (b'{"kty": "EC", "crv": "P-384", "d": "AA"}', "private key"),
    (b"{not json", "JWK"),
    (b'{"kty": "EC", "crv": {"a": 1}, "x": "AA", "y": "AA"}', "JWK crv"),
    (b"{" * 100000, "JWK"),
    (cbor2.dumps({1: 2, -1: 9, -2: b"", -3: b""}), "COSE_Key crv"),
    (b"\x30\x03\x02\x01\x00", "not a DER public key"),
    (b"hello", "not a platform key"),
])
def test_bad_platform_key_files_are_named(key: bytes, msg: str) -> None:
    with pytest.raises(MalformedInput, match=msg) as e:
        _verify(make(), key)
    assert str(e.value).startswith("token.cbor: platform key")


def test_a_platform_key_off_the_curve_is_malformed() -> None:
    n = CPAK.public_key().public_numbers()
    bad = {1: 2, -1: 2, -2: n.x.to_bytes(48, "big"), -3: (n.y ^ 1).to_bytes(48, "big")}
    with pytest.raises(MalformedInput, match="not a point on secp384r1"):
        _verify(make(), cbor2.dumps(bad))


def test_a_platform_challenge_that_is_not_the_realm_key_hash_is_refused() -> None:
    with pytest.raises(NotAuthentic, match="not bound to this platform token"):
        _verify(make(platform_challenge=b"\x00" * 32))
    # the hash must use the algorithm claim 44240 names, not any other
    rak_hash = hashlib.sha384(_raw_point(RAK)).digest()
    with pytest.raises(NotAuthentic, match="not bound"):
        _verify(make(platform_challenge=rak_hash, rak_hash="sha-256"))


def test_a_realm_token_signed_by_another_key_than_the_one_it_carries_is_refused() -> None:
    good = make()
    other = make(rak=ec.generate_private_key(ec.SECP384R1()))
    platform, _ = _split(good)
    _, realm_other = _split(other)
    realm_claims = cbor2.loads(cbor2.loads(realm_other).value[2])
    realm_claims[44237] = _raw_point(RAK)  # claims the good RAK, signed by the other one
    forged = _sign1(ec.generate_private_key(ec.SECP384R1()), cbor2.dumps(realm_claims))
    with pytest.raises(NotAuthentic, match="realm token COSE_Sign1 signature does not verify"):
        _verify(_collection(platform, forged))


def test_an_algorithm_that_does_not_match_the_key_curve_is_refused() -> None:
    cpak = ec.generate_private_key(ec.SECP256R1())
    platform_claims = cbor2.loads(cbor2.loads(_split(make(cpak=cpak))[0]).value[2])
    wrong = _sign1(cpak, cbor2.dumps(platform_claims), alg=-35)  # says ES384, is P-256
    _, realm = _split(make(cpak=cpak))
    with pytest.raises(MalformedInput, match="signature is 64 bytes, expected 96"):
        _verify(_collection(wrong, realm), _pem(cpak))


def test_cmw_collection_framing_is_accepted() -> None:
    platform, realm = _split(make())
    cmw = cbor2.dumps(cbor2.CBORTag(907, {44234: [263, platform], 44241: [263, realm]}))
    assert evidence.detect(cmw, "cmw") == "cca"
    assert _verify(cmw).claims["framing"] == "CMW collection (tag 907)"


# ---- self-signed tokens: policy -----------------------------------------------------------

def _fails(token: bytes, pol: dict[str, Any]) -> list[str]:
    return policy.validate(_verify(token), {"formats": ["cca"], "cca_platform_keys": [_fp(CPAK)], **pol})


def test_a_pinned_key_and_a_secured_lifecycle_pass() -> None:
    assert _fails(make(), {}) == []


def test_an_unpinned_or_other_platform_key_is_rejected() -> None:
    v = _verify(make())
    assert policy.validate(v, {"formats": ["cca"]})[0].startswith("cca_platform_keys: no CCA platform key is pinned")
    fails = policy.validate(v, {"formats": ["cca"], "cca_platform_keys": ["ab" * 32]})
    assert fails == [f"cca_platform_keys: the platform token was signed by the key sha256 {_fp(CPAK)}, which is "
                     "not among the 1 pinned"]


@pytest.mark.parametrize("lc,state", [(0x4000, "non_cca_platform_rot_debug"),
                                      (0x50FF, "recoverable_cca_platform_rot_debug")])
def test_debug_lifecycles_are_refused_unless_debug_is_allowed(lc: int, state: str) -> None:
    tok = make(lifecycle=lc)
    v = _verify(tok)
    assert v.debug is True and v.claims["lifecycle_state"] == state
    fails = _fails(tok, {})
    assert [f.split(":")[0] for f in fails] == ["debug_allowed", "cca_lifecycles"]
    assert "CCA platform lifecycle is a debug state" in fails[0] and state in fails[1]
    assert _fails(tok, {"debug_allowed": True}) == []


@pytest.mark.parametrize("lc,state", [(0x0000, "unknown"), (0x1000, "assembly_and_test"),
                                      (0x2001, "cca_platform_rot_provisioning"), (0x6000, "decommissioned")])
def test_other_lifecycles_are_refused_by_default_and_accepted_when_listed(lc: int, state: str) -> None:
    tok = make(lifecycle=lc)
    assert _verify(tok).debug is False
    assert _fails(tok, {}) == [f"cca_lifecycles: platform lifecycle {lc:#06x} ({state}) is not among secured"]
    assert _fails(tok, {"cca_lifecycles": [state]}) == []


def test_rim_and_rpv_mismatches_are_rejected() -> None:
    tok = make(rim=b"\x01" * 32, rpv=b"\x5a" * 64)
    assert _fails(tok, {"allowed_measurements": [{"RIM": "01" * 32, "RPV": "5a" * 64}]}) == []
    assert _fails(tok, {"allowed_measurements": [{"RIM": "02" * 32}]})[0].startswith("allowed_measurements:")
    assert _fails(tok, {"allowed_measurements": [{"RIM": "01" * 32, "RPV": "5b" * 64}]})[0].startswith(
        "allowed_measurements:")


def test_required_software_components() -> None:
    tok = make()
    assert _fails(tok, {"cca_sw_components": [{"type": "RMM", "measurement": "11" * 32, "signer_id": "22" * 32},
                                              {"signer_id": "44" * 32}]}) == []
    fails = _fails(tok, {"cca_sw_components": [{"type": "RMM", "measurement": "33" * 32}]})
    assert len(fails) == 1 and fails[0].startswith("cca_sw_components: no platform software component matches")
    assert _fails(tok, {"cca_sw_components": [{"type": "TF-A"}]})[0].startswith("cca_sw_components:")
    assert _fails(tok, {"cca_sw_components": [{"type": "RMM", "version": "1.0.1"}]})[0].startswith(
        "cca_sw_components:")


def test_report_data_is_the_realm_challenge() -> None:
    rd = bytes(range(64))
    assert _fails(make(report_data=rd), {"report_data": rd.hex()}) == []
    assert _fails(make(report_data=rd), {"report_data": "ff" * 64})[0].startswith("report_data:")


def test_schema_refuses_bad_cca_keys() -> None:
    for bad in ({"cca_platform_keys": ["xyz"]}, {"cca_lifecycles": ["debug"]},
                {"cca_sw_components": [{"hash": "sha-256"}]}, {"cca_sw_components": [{"measurement": "0"}]}):
        with pytest.raises(MalformedInput):
            policy.from_document(bad, "policy.json")


# ---- malformed tokens ---------------------------------------------------------------------

@pytest.mark.parametrize("token,msg", [
    (b"", "empty CCA attestation token"),
    (b"\xd9\x01\x8f", "not valid CBOR"),
    (cbor2.dumps(cbor2.CBORTag(400, {})), "CBOR tag 400, expected 399"),
    (cbor2.dumps(cbor2.CBORTag(399, [])), "must be a map"),
    (cbor2.dumps(cbor2.CBORTag(399, {44234: b""})), "no realm token"),
    (cbor2.dumps(cbor2.CBORTag(399, {44234: b"", 44241: b"", 1: 2})), "unexpected key 1"),
    (cbor2.dumps(cbor2.CBORTag(399, {44234: "text", 44241: b""})), "platform token must be a byte string"),
    (cbor2.dumps(cbor2.CBORTag(399, {44234: cbor2.dumps([1, 2]), 44241: b""})), "array of 4 items"),
    (cbor2.dumps(cbor2.CBORTag(907, {44234: b"", 44241: b""})), "must be \\[content type, bytes\\]"),
])
def test_malformed_collections_name_the_field(token: bytes, msg: str) -> None:
    with pytest.raises(MalformedInput, match=msg) as e:
        _verify(token)
    assert str(e.value).startswith("token.cbor: ")


@pytest.mark.parametrize("which,key,value,msg", [
    ("realm", 44238, None, "realm token claim 44238 \\(initial measurement\\) is missing"),
    ("realm", 10, b"\x00" * 32, "realm token claim 10 \\(challenge\\) is 32 bytes, expected 64"),
    ("realm", 44235, "text", "claim 44235 \\(personalization value\\) must be a byte string"),
    ("realm", 44239, [b"\x00" * 32] * 3, "claim 44239 \\(extensible measurements\\) must be an array of 4"),
    ("realm", 44240, "md5", "claim 44240 \\(realm public key hash algorithm\\) = 'md5'"),
    ("realm", 44237, b"\x04" + b"\x01" * 96, "claim 44237 \\(realm public key\\) is not a point"),
    ("realm", 44237, b"\x05\x06", "neither an uncompressed EC point"),
    ("platform", 2395, 0x7000, "platform token claim 2395 \\(lifecycle\\) = 0x7000 lies in no defined"),
    ("platform", 2395, True, "claim 2395 \\(lifecycle\\) must be an unsigned 16-bit integer"),
    ("platform", 256, b"\x02" + b"\x00" * 32, "claim 256 \\(instance id\\) starts with 0x02"),
    ("platform", 2396, b"\x00" * 31, "claim 2396 \\(implementation id\\) is 31 bytes"),
    ("platform", 2399, [], "claim 2399 \\(software components\\) must be an array of 1 to 256"),
    ("platform", 2399, [{1: "x"}], "software components\\) \\[0\\] claim 2 \\(measurement value\\) is missing"),
    ("platform", 265, None, "platform token claim 265 \\(profile\\) is missing"),
    ("platform", 265, "tag:arm.com,2099:cca_platform#9", "claim 265 \\(profile\\) = 'tag:arm.com,2099"),
])
def test_malformed_claims_name_the_token_and_claim(which: str, key: int, value: Any, msg: str) -> None:
    if value is None:
        tok = make(drop=((which, key),))
    else:
        tok = make(**{which: {key: value}})  # type: ignore[arg-type]
    with pytest.raises(MalformedInput, match=msg):
        _verify(tok)


def test_unsupported_algorithms_and_trailing_bytes_are_malformed() -> None:
    platform, realm = _split(make())
    arr = cbor2.loads(platform).value
    hs256 = cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: 5}), {}, arr[2], arr[3]]))
    with pytest.raises(MalformedInput, match="alg \\(label 1\\) = 5"):
        _verify(_collection(hs256, realm))
    with pytest.raises(MalformedInput, match="1 trailing bytes"):
        _verify(make() + b"\x00")
    with pytest.raises(MalformedInput, match="only the protected one counts"):
        _verify(_collection(cbor2.dumps(cbor2.CBORTag(18, [arr[0], {1: -7}, arr[2], arr[3]])), realm))


def test_unknown_claims_are_kept_but_never_interpreted() -> None:
    v = _verify(make(realm={44243: 1}, platform={"x": 1}))
    assert any("claims not interpreted: platform 'x', realm 44243" in n for n in v.notes)


def test_lifecycle_ranges_match_the_specification() -> None:
    # PSA / CCA security lifecycle: the high byte names the state (Arm DEN0137, tf-m-tools cca_claims)
    assert [cca_abi.lifecycle_name(v) for v in (0x00FF, 0x1000, 0x20FF, 0x3000, 0x30FF, 0x4001, 0x5000, 0x60FF,
                                                0x3100, 0x7000)] == [
        "unknown", "assembly_and_test", "cca_platform_rot_provisioning", "secured", "secured",
        "non_cca_platform_rot_debug", "recoverable_cca_platform_rot_debug", "decommissioned", "invalid", "invalid"]


# ---- a run's evidence ---------------------------------------------------------------------

def test_a_run_binds_its_report_data_in_the_realm_challenge() -> None:
    """What a run does with CCA evidence obtained out of band (``teecert run --evidence
    TOKEN --evidence-cert CPAK``): the report data is the realm challenge."""
    rd = hashlib.sha512(b"the run's statement").digest()
    pol = run_evidence.profile_policy({"attestation": {"policy": {"formats": ["cca"],
                                                                   "cca_platform_keys": [_fp(CPAK)]}}}, "profile")
    att = {"evidence": base64.b64encode(make(report_data=rd)).decode(), "format": "cca",
           "certs": [base64.b64encode(_pem(CPAK)).decode()]}
    outcome, message, record, failures = run_evidence.evaluate(att, rd, pol, AT, "attestation evidence")
    assert (outcome, failures) == ("passed", []), message
    assert record is not None and record["report_data"] == rd.hex()
    # evidence of another run: authentic, but not this run's binding
    outcome, _, _, failures = run_evidence.evaluate(att, hashlib.sha512(b"another run").digest(), pol, AT, "ev")
    assert outcome == "failed" and failures[-1].startswith("binding:")
    # no platform key in the report: not authentic, the run fails closed
    outcome, message, _, _ = run_evidence.evaluate({**att, "certs": []}, rd, pol, AT, "ev")
    assert outcome == "failed" and "no CCA platform key" in message


def test_an_out_of_band_cca_run_is_certified_and_reverifies(tmp_path: Path, key_file: Path,
                                                          quick_profile: Path) -> None:
    """``teecert run --print-report-data``, a realm token over that report data, then
    ``teecert run --evidence TOKEN --evidence-cert CPAK``: the report carries both and
    ``teecert verify`` re-checks them; a token over other report data is refused."""
    doc = json.loads(quick_profile.read_text())
    doc["id"] = "test-quick-cca"
    doc["suites"]["attestation"] = "required"
    # sim too: the attestation suite's own probe check has only the simulated platform here
    doc["attestation"] = {"required": True, "policy": {"formats": ["cca", "sim"], "cca_platform_keys": [_fp(CPAK)]}}
    prof = tmp_path / "cca-profile.json"
    prof.write_text(json.dumps(doc))
    out = tmp_path / "out"
    first = teecert_cli(["run", "--profile", str(prof), "--key", str(key_file), "--out", str(out),
                         "--print-report-data"])
    assert first.code == 0, first.out[-2000:] + first.err[-2000:]
    (pending,) = out.glob("teecert-pending-*.json")
    rd = bytes.fromhex(json.loads(pending.read_text())["report_data"])
    cpak = tmp_path / "cpak.pem"
    cpak.write_bytes(_pem(CPAK))
    saved = pending.read_bytes()

    wrong = tmp_path / "wrong.cbor"
    wrong.write_bytes(make(report_data=b"\xab" * 64))
    bad = teecert_cli(["run", "--evidence", str(wrong), "--evidence-cert", str(cpak), "--pending", str(pending),
                       "--key", str(key_file), "--out", str(tmp_path / "bad")])
    assert bad.code == 1, bad.out[-2000:] + bad.err[-2000:]

    pending.write_bytes(saved)
    good = tmp_path / "token.cbor"
    good.write_bytes(make(report_data=rd))
    done = teecert_cli(["run", "--evidence", str(good), "--evidence-cert", str(cpak), "--pending", str(pending),
                        "--key", str(key_file), "--out", str(out)])
    assert done.code == 0, done.out[-2000:] + done.err[-2000:]
    (report_path,) = out.glob("teecert-report-*.json")
    stmt = json.loads(base64.b64decode(json.loads(report_path.read_text())["payload"]))
    att = stmt["predicate"]["attestation"]
    assert att["format"] == "cca" and att["verified"]["report_data"] == rd.hex()
    assert teecert_cli(["verify", str(report_path), "--profile", str(prof), "--trust", f"{key_file}.pub"]).code == 0
