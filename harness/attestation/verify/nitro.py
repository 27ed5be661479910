"""AWS Nitro Enclaves attestation documents: authenticity.

The COSE_Sign1 structure and its payload are decoded by ``abi.nitro``; policy is
``validate.policy``.  Here: the signature, and the chain to the pinned AWS root.

``verify(doc, *, roots=None, at=None, where) -> Verified``
    Authenticity only (policy is ``policy.validate``): the ES384 signature (raw
    ``r || s``) over ``Sig_structure = ["Signature1", protected, h'', payload]`` with
    the leaf ``certificate``'s P-384 key; ``cabundle[0]`` is the pinned AWS Nitro
    Enclaves G1 root and one of ``roots`` (default: bundled roots); the chain
    ``certificate`` → ``cabundle[-1]`` → … → ``cabundle[0]`` verifies at ``at``.
    ``at=None`` means the document's own timestamp (stated in ``notes``): AWS leaf
    certificates live about three hours, so a document is only ever verifiable at a
    pinned time.  Failures are ``NotAuthentic``.

    ``Verified.report_data`` is ``user_data`` if present, else ``nonce``, else empty
    (its full length: a nonce may exceed 64 bytes).  ``debug`` is true when PCR0, 1, 2
    and 8 are all zero (how AWS marks a debug-mode enclave; a missing PCR counts as
    zero).  ``measurements`` holds every PCR as ``PCR<n>``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ...errors import MalformedInput, NotAuthentic
from ..abi import nitro as _abi
from ..model import Verified
from . import roots as _roots
from .x509chain import (
    ecdsa_raw_to_der,
    fingerprint,
    load_certificates,
    require_utc,
    subject,
    verify_chain,
)

G1_ROOT = "AWS Nitro Enclaves G1"


def _iso_ms(t: _dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def verify(doc: bytes, *, roots: list[x509.Certificate] | None = None, at: _dt.datetime | None = None,
           where: str) -> Verified:
    """Verify a Nitro attestation document at ``at`` (None: the document's timestamp)."""
    d = _abi.parse_document(doc, where)
    notes: list[str] = []
    if at is None:
        at = d.timestamp
        notes.append(f"verification time is the document's own timestamp {_iso_ms(at)}")
    else:
        at = require_utc(at, where)

    leaf = load_certificates(d.certificate, f"{where}: payload certificate")[0]
    bundle = [load_certificates(c, f"{where}: payload cabundle[{i}]")[0] for i, c in enumerate(d.cabundle)]

    try:
        key = leaf.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise MalformedInput(f"{where}: payload certificate public key does not parse") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        raise NotAuthentic(f"{where}: payload certificate key is not ECDSA P-384")
    try:
        key.verify(ecdsa_raw_to_der(d.signature, where), d.sig_structure(), ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise NotAuthentic(f"{where}: COSE_Sign1 signature does not verify under the payload certificate") from None

    pool = _roots.bundled_roots() if roots is None else list(roots)
    anchors = [r for r in _roots.anchors(pool) if _roots.pinned_name(r) == G1_ROOT]
    root_fp = fingerprint(bundle[0])
    if not any(fingerprint(a) == root_fp for a in anchors):
        raise NotAuthentic(f"{where}: cabundle[0] {subject(bundle[0])} (SHA-256 {root_fp}) is not the pinned "
                           "AWS Nitro Enclaves G1 root among the trusted roots")
    path = verify_chain(leaf, bundle[1:], anchors, at, where)
    if len(path) != len(bundle) + 1:
        notes.append(f"chain uses {len(path) - 1} of the {len(bundle)} cabundle certificates")

    measurements = {f"PCR{i}": v.hex() for i, v in sorted(d.pcrs.items())}
    zero = bytes(_abi.PCR_LEN[d.digest])
    debug = all(d.pcrs.get(i, zero) == zero for i in _abi.DEBUG_PCRS)
    if debug:
        notes.append("PCR0, PCR1, PCR2 and PCR8 are all zero: debug-mode enclave")
    report_data = d.user_data if d.user_data is not None else d.nonce if d.nonce is not None else b""
    notes.append("report_data is " + ("user_data" if d.user_data is not None else
                                      "nonce" if d.nonce is not None else "empty (no user_data or nonce)"))
    claims: dict[str, Any] = {
        "module_id": d.module_id,
        "digest": d.digest,
        "timestamp": d.timestamp_ms,
        "timestamp_iso": _iso_ms(d.timestamp),
        "pcrs": {str(i): v.hex() for i, v in sorted(d.pcrs.items())},
        "public_key": d.public_key.hex() if d.public_key is not None else None,
        "user_data": d.user_data.hex() if d.user_data is not None else None,
        "nonce": d.nonce.hex() if d.nonce is not None else None,
        "certificate_fingerprint": fingerprint(leaf),
    }
    return Verified(
        format="nitro",
        time=at,
        report_data=report_data,
        debug=debug,
        measurements=measurements,
        tcb={},
        tcb_status=None,
        vmpl=None,
        signer="AWS Nitro",
        chain=[subject(c) for c in path],
        collateral=False,
        issued=d.timestamp,
        claims=claims,
        notes=notes,
    )
