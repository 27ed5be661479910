"""Arm CCA attestation tokens: authenticity.

The collection and its claims are decoded by ``abi.cca``; policy is ``validate.policy``.

``verify(data, *, platform_key, at, where) -> Verified``
    1. The realm token's COSE_Sign1 signature (ES256/ES384/ES512, raw ``r || s``, over
       ``Sig_structure = ["Signature1", protected, h'', payload]``) verifies under the
       Realm Attestation Key (RAK) the realm token itself carries (claim 44237: an
       uncompressed EC point or a COSE_Key); the key's curve must be the algorithm's.
    2. The platform token's challenge (claim 10) equals the hash, with the algorithm of
       claim 44240, of the claim-44237 bytes: this binds the realm to the platform.
    3. The platform token's signature verifies under ``platform_key``, the CCA Platform
       Attestation Key (CPAK).  CCA has no public vendor root to chain to, so the key
       must be given (PEM or DER SubjectPublicKeyInfo, an X.509 certificate, a JWK or a
       COSE_Key); without one nothing can be authenticated and ``NotAuthentic`` says
       so.  Whether that key is trusted is the policy's ``cca_platform_keys`` pin
       (its SHA-256), which the record carries as ``claims["platform_key_sha256"]``.

    CCA tokens carry no time and no certificate: ``at`` is recorded as the verification
    time but cannot change the outcome.  ``report_data`` is the realm challenge (64
    bytes); ``debug`` is a debug platform lifecycle (0x4000-0x50ff); ``measurements``
    are ``RIM``, ``RPV``, ``REM0``-``REM3``, ``PLATFORM_CONFIG``, ``IMPLEMENTATION_ID``.

``load_platform_key(data, where) -> EllipticCurvePublicKey``
    The accepted key encodings above; ``MalformedInput`` naming ``where`` otherwise.

``key_fingerprint(key) -> str``
    Lower-case hex SHA-256 of the key's DER SubjectPublicKeyInfo (how CPAKs are pinned).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import io
from collections.abc import Mapping
from typing import Any

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..._internal import canonical
from ...errors import MalformedInput, NotAuthentic
from ..abi import cca as _abi
from ..model import Verified
from .x509chain import ecdsa_raw_to_der, require_utc

# curve → (COSE alg it signs with, coordinate size)
_CURVES: dict[str, tuple[int, int]] = {"secp256r1": (-7, 32), "secp384r1": (-35, 48), "secp521r1": (-36, 66)}
_CURVE_BY_LEN = {65: ec.SECP256R1(), 97: ec.SECP384R1(), 133: ec.SECP521R1()}
_COSE_CRV = {1: ec.SECP256R1(), 2: ec.SECP384R1(), 3: ec.SECP521R1()}
_JWK_CRV = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
_HASHES: dict[str, hashes.HashAlgorithm] = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
                                            "sha512": hashes.SHA512()}


def key_fingerprint(key: ec.EllipticCurvePublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _point(curve: ec.EllipticCurve, x: bytes, y: bytes, where: str) -> ec.EllipticCurvePublicKey:
    size = (curve.key_size + 7) // 8
    if len(x) != size or len(y) != size:
        raise MalformedInput(f"{where}: {curve.name} coordinates must be {size} bytes each")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + x + y)
    except ValueError:
        raise MalformedInput(f"{where}: the key is not a point on {curve.name}") from None


def _cose_key(m: Mapping[Any, Any], where: str) -> ec.EllipticCurvePublicKey:
    # COSE_Key (RFC 9053): kty 2 = EC2, crv -1, x -2, y -3
    if m.get(1) != 2:
        raise MalformedInput(f"{where}: COSE_Key kty (label 1) = {m.get(1)!r}, expected 2 (EC2)")
    crv = m.get(-1)
    if not isinstance(crv, int) or isinstance(crv, bool) or crv not in _COSE_CRV:
        raise MalformedInput(f"{where}: COSE_Key crv (label -1) = {crv!r}, expected 1, 2 or 3 (P-256/384/521)")
    x, y = m.get(-2), m.get(-3)
    if not isinstance(x, bytes) or not isinstance(y, bytes):
        raise MalformedInput(f"{where}: COSE_Key x (label -2) and y (label -3) must be byte strings")
    return _point(_COSE_CRV[crv], x, y, where)


def _b64url(v: Any, name: str, where: str) -> bytes:
    if not isinstance(v, str):
        raise MalformedInput(f"{where}: JWK {name!r} must be a base64url string")
    try:
        return base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))
    except (binascii.Error, ValueError):
        raise MalformedInput(f"{where}: JWK {name!r} is not base64url") from None


def _jwk(doc: Any, where: str) -> ec.EllipticCurvePublicKey:
    if not isinstance(doc, Mapping):
        raise MalformedInput(f"{where}: a JWK must be a JSON object")
    if doc.get("kty") != "EC":
        raise MalformedInput(f"{where}: JWK kty = {doc.get('kty')!r}, expected 'EC'")
    crv = doc.get("crv")
    if not isinstance(crv, str) or crv not in _JWK_CRV:
        raise MalformedInput(f"{where}: JWK crv = {crv!r}, expected P-256, P-384 or P-521")
    if "d" in doc:
        raise MalformedInput(f"{where}: the JWK holds a private key ('d'); give the public key only")
    return _point(_JWK_CRV[crv], _b64url(doc.get("x"), "x", where), _b64url(doc.get("y"), "y", where), where)


def _ec(key: Any, where: str) -> ec.EllipticCurvePublicKey:
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _CURVES:
        raise MalformedInput(f"{where}: the platform key is not an ECDSA P-256, P-384 or P-521 public key")
    return key


def load_platform_key(data: bytes, where: str) -> ec.EllipticCurvePublicKey:
    """The CPAK from PEM/DER SubjectPublicKeyInfo, an X.509 certificate, a JWK or a COSE_Key."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise MalformedInput(f"{where}: empty platform key")
    raw = bytes(data)
    b = raw.strip()  # text forms only: a binary key may end in a byte that looks like white space
    if b.startswith(b"-----BEGIN CERTIFICATE"):
        try:
            return _ec(x509.load_pem_x509_certificate(b).public_key(), where)
        except (ValueError, UnsupportedAlgorithm):
            raise MalformedInput(f"{where}: the PEM certificate does not decode") from None
    if b.startswith(b"-----BEGIN"):
        try:
            return _ec(serialization.load_pem_public_key(b), where)
        except (ValueError, UnsupportedAlgorithm):
            raise MalformedInput(f"{where}: not a PEM public key (expected -----BEGIN PUBLIC KEY-----)") from None
    if b[:1] == b"{":
        return _jwk(canonical.loads(b, f"{where} (JWK)"), where)
    if raw[:1] == b"\x30":
        try:
            return _ec(serialization.load_der_public_key(raw), where)
        except (ValueError, UnsupportedAlgorithm):
            pass
        try:
            return _ec(x509.load_der_x509_certificate(raw).public_key(), where)
        except (ValueError, UnsupportedAlgorithm):
            raise MalformedInput(f"{where}: not a DER public key or certificate") from None
    fp = io.BytesIO(raw)
    try:
        m = cbor2.CBORDecoder(fp).decode()
    except Exception:  # untrusted input: cbor2's semantic tag decoders raise many kinds
        m = None
    if isinstance(m, Mapping) and fp.tell() == len(raw):
        return _cose_key(m, where)
    raise MalformedInput(f"{where}: not a platform key (PEM, DER, JWK or COSE_Key)")


def realm_key(raw: bytes, where: str) -> ec.EllipticCurvePublicKey:
    """The RAK of claim 44237: an uncompressed point (curve by length) or a COSE_Key."""
    what = f"{where}: realm token claim 44237 (realm public key)"
    if raw[:1] == b"\x04" and len(raw) in _CURVE_BY_LEN:
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE_BY_LEN[len(raw)], raw)
        except ValueError:
            raise MalformedInput(f"{what} is not a point on the curve its length names") from None
    fp = io.BytesIO(raw)
    try:
        m = cbor2.CBORDecoder(fp).decode()
    except Exception:  # untrusted input: cbor2's semantic tag decoders raise many kinds
        m = None
    if not isinstance(m, Mapping) or fp.tell() != len(raw):
        raise MalformedInput(f"{what} is neither an uncompressed EC point (65, 97 or 133 bytes) nor a COSE_Key")
    return _cose_key(m, what)


def _verify_sign1(s: _abi.Sign1, key: ec.EllipticCurvePublicKey, what: str, key_name: str, where: str) -> None:
    want_alg, _ = _CURVES[key.curve.name]
    if s.alg != want_alg:
        raise NotAuthentic(f"{where}: {what} is signed with {_abi.ALG_NAMES[s.alg]}, but its key is "
                           f"{key.curve.name} ({_abi.ALG_NAMES[want_alg]})")
    digest = _HASHES[_abi.ALGORITHMS[s.alg][0]]
    try:
        key.verify(ecdsa_raw_to_der(s.signature, f"{where}: {what}"), s.sig_structure(), ec.ECDSA(digest))
    except InvalidSignature:
        raise NotAuthentic(f"{where}: {what} COSE_Sign1 signature does not verify under {key_name}") from None


def verify(data: bytes, *, platform_key: bytes | None, at: _dt.datetime, where: str) -> Verified:
    """Authenticity of a CCA token under the supplied platform key (policy pins it)."""
    at = require_utc(at, where)
    tok = _abi.parse_token(data, where)
    pc, rc = tok.platform_claims, tok.realm_claims

    rak = realm_key(rc.public_key, where)
    _verify_sign1(tok.realm, rak, "realm token", "the realm public key (RAK) it carries", where)

    name = _abi.HASH_NAMES[rc.public_key_hash_algo][0]
    bound = hashlib.new(name, rc.public_key).digest()
    if pc.challenge != bound:
        raise NotAuthentic(f"{where}: platform token claim 10 (challenge) {pc.challenge.hex()[:16]}… is not the "
                           f"{rc.public_key_hash_algo} of the realm public key ({bound.hex()[:16]}…): the realm "
                           "token is not bound to this platform token")

    if platform_key is None:
        raise NotAuthentic(f"{where}: no CCA platform key (CPAK) was supplied, so the platform token cannot be "
                           "authenticated: pass the key with --cert FILE (PEM, JWK or COSE_Key)")
    cpak = load_platform_key(platform_key, f"{where}: platform key")
    _verify_sign1(tok.platform, cpak, "platform token",
                  f"the platform key (CPAK) sha256:{key_fingerprint(cpak)[:16]}", where)

    cpak_fp = key_fingerprint(cpak)
    state = _abi.lifecycle_name(pc.lifecycle)
    debug = state in _abi.DEBUG_LIFECYCLES
    notes = ["CCA tokens carry no time or certificate: the verification time does not change the outcome",
             f"platform key (CPAK) sha256:{cpak_fp} verified the platform token; the policy's "
             "cca_platform_keys decides whether it is trusted",
             f"platform lifecycle {pc.lifecycle:#06x} ({state})"]
    if pc.unknown or rc.unknown:
        notes.append("claims not interpreted: " + ", ".join(
            [f"platform {k!r}" for k in pc.unknown] + [f"realm {k!r}" for k in rc.unknown]))
    measurements = {
        "RIM": rc.initial_measurement.hex(),
        "RPV": rc.personalization.hex(),
        **{f"REM{i}": r.hex() for i, r in enumerate(rc.extensible_measurements)},
        "PLATFORM_CONFIG": pc.config.hex(),
        "IMPLEMENTATION_ID": pc.implementation_id.hex(),
    }
    sw = [{"type": c.type, "measurement": c.measurement.hex(), "signer_id": c.signer_id.hex(),
           "version": c.version, "hash_algo": c.hash_algo} for c in pc.sw_components]
    claims: dict[str, Any] = {
        "framing": tok.framing,
        "platform_profile": pc.profile,
        "platform_challenge": pc.challenge.hex(),
        "implementation_id": pc.implementation_id.hex(),
        "instance_id": pc.instance_id.hex(),
        "platform_config": pc.config.hex(),
        "lifecycle": pc.lifecycle,
        "lifecycle_state": state,
        "sw_components": sw,
        "verification_service": pc.verification_service,
        "platform_hash_algo": pc.hash_algo,
        "platform_alg": _abi.ALG_NAMES[tok.platform.alg],
        "platform_key_sha256": cpak_fp,
        "realm_profile": rc.profile,
        "realm_challenge": rc.challenge.hex(),
        "realm_hash_algo": rc.hash_algo,
        "realm_public_key": rc.public_key.hex(),
        "realm_public_key_hash_algo": rc.public_key_hash_algo,
        "realm_alg": _abi.ALG_NAMES[tok.realm.alg],
    }
    return Verified(
        format="cca",
        time=at,
        report_data=rc.challenge,
        debug=debug,
        measurements=measurements,
        tcb={},
        tcb_status=None,
        vmpl=None,
        signer=f"CCA platform key sha256:{cpak_fp[:16]}",
        chain=[f"CPAK sha256:{cpak_fp}", f"RAK sha256:{key_fingerprint(rak)}"],
        collateral=False,
        claims=claims,
        notes=notes,
    )
