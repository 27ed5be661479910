"""DSSE v1 envelopes (github.com/secure-systems-lab/dsse), signed with Ed25519.

A signature covers ``PAE(payloadType, payload)``, never the JSON envelope, so the
envelope's own formatting does not matter and the payload type cannot be swapped.
``verify`` checks signatures over the raw payload bytes *before* anything parses
the payload: a forged payload never reaches the JSON parser or the schema.

Key ids are the SHA-256 (hex) of the raw 32-byte Ed25519 public key.  As the
specification requires, a ``keyid`` in an envelope is only a hint: every signature
is tried against every trusted key, and only keys that verify count.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pybase64
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .._internal import canonical
from ..errors import MalformedInput, NotAuthentic

ENVELOPE_FIELDS = frozenset({"payload", "payloadType", "signatures"})
SIGNATURE_FIELDS = frozenset({"keyid", "sig"})

_STD = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: ``DSSEv1 SP LEN(type) SP type SP LEN(body) SP body``."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(t), t, len(payload), payload)


def keyid_of(pub: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the raw 32-byte public key."""
    return hashlib.sha256(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


#: The most signatures an envelope may carry: one per key a governance file can list.
MAX_SIGNATURES = 1000


def b64decode(text: str, what: str) -> bytes:
    """Standard or URL-safe base64 (the specification allows both), in canonical form only.

    Non-canonical encodings (non-zero padding bits, stray characters) are refused so
    that one envelope has one meaning.
    """
    urlsafe = "-" in text or "_" in text
    if not urlsafe and text.isascii():
        # The usual case, checked by its round trip alone: the encoder writes the one
        # canonical form, so a text equal to it (padded or not) is exactly what the
        # checks below accept, without their two passes of regular expressions over
        # a payload of hundreds of kilobytes.  Anything else takes those checks, for
        # the reason.  pybase64 (SIMD) decodes and encodes a report's payload in a
        # fifth of binascii's time.
        try:
            raw = pybase64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            pass
        else:
            encoded = pybase64.b64encode_as_string(raw)
            if encoded == text or encoded.rstrip("=") == text:
                return raw
    if not (_URL if urlsafe else _STD).fullmatch(text) or len(text.rstrip("=")) % 4 == 1:
        raise MalformedInput(f"{what} is not base64")
    body = text.rstrip("=")
    if "=" in text and len(text) % 4:
        raise MalformedInput(f"{what} has wrong base64 padding")
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded) if urlsafe else base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedInput(f"{what} is not base64") from None
    again = base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)
    if again.decode("ascii").rstrip("=") != body:
        raise MalformedInput(f"{what} is not canonical base64")
    return raw


def sign(payload_type: str, payload: bytes, private_keys: Iterable[Ed25519PrivateKey]) -> dict[str, Any]:
    """A DSSE envelope of ``payload`` signed by each key (standard base64)."""
    message = pae(payload_type, payload)
    signatures = [
        {"keyid": keyid_of(k.public_key()), "sig": base64.b64encode(k.sign(message)).decode("ascii")}
        for k in private_keys
    ]
    if not signatures:
        raise ValueError("dsse.sign needs at least one private key")
    return {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": payload_type,
        "signatures": signatures,
    }


def parse_envelope(envelope: bytes | Mapping[str, Any], where: str) -> tuple[str, bytes, list[tuple[str | None, bytes]]]:
    """Check an envelope's shape strictly; return (payload type, payload, [(keyid, sig)])."""
    env: Any = (canonical.loads(envelope, where, few_numbers=True) if isinstance(envelope, bytes | bytearray)
                else envelope)
    if not isinstance(env, Mapping):
        raise MalformedInput(f"{where}: not a DSSE envelope (expected a JSON object)")
    unknown = sorted(set(env) - ENVELOPE_FIELDS)
    if unknown:
        raise MalformedInput(f"{where}: unknown envelope field {unknown[0]!r}")
    for name in sorted(ENVELOPE_FIELDS):
        if name not in env:
            raise MalformedInput(f"{where}: envelope has no {name!r}")
    payload_type = env["payloadType"]
    if not isinstance(payload_type, str):
        raise MalformedInput(f"{where}: envelope 'payloadType' must be a string")
    if not isinstance(env["payload"], str):
        raise MalformedInput(f"{where}: envelope 'payload' must be a base64 string")
    payload = b64decode(env["payload"], f"{where}: envelope 'payload'")
    sigs = env["signatures"]
    if not isinstance(sigs, list) or not sigs:
        raise MalformedInput(f"{where}: envelope 'signatures' must be a non-empty list")
    if len(sigs) > MAX_SIGNATURES:
        # Each signature is tried against every trusted key: without a cap, a file of
        # bogus signatures costs minutes.
        raise MalformedInput(f"{where}: envelope carries {len(sigs)} signatures, more than the "
                             f"{MAX_SIGNATURES} any teecert document may have")
    out: list[tuple[str | None, bytes]] = []
    for i, s in enumerate(sigs):
        at = f"{where}: signatures[{i}]"
        if not isinstance(s, Mapping):
            raise MalformedInput(f"{at} must be an object")
        extra = sorted(set(s) - SIGNATURE_FIELDS)
        if extra:
            raise MalformedInput(f"{at}: unknown field {extra[0]!r}")
        if not isinstance(s.get("sig"), str):
            raise MalformedInput(f"{at}: 'sig' must be a base64 string")
        keyid = s.get("keyid")
        if keyid is not None and not isinstance(keyid, str):
            raise MalformedInput(f"{at}: 'keyid' must be a string")
        out.append((keyid, b64decode(s["sig"], f"{at}.sig")))
    return payload_type, payload, out


def verify(
    envelope: bytes | Mapping[str, Any],
    trusted: Mapping[str, Ed25519PublicKey],
    where: str,
) -> tuple[str, bytes, list[str]]:
    """Verify ``envelope`` against ``trusted`` keys; return (payload type, payload, keyids).

    At least one signature must verify under a trusted key; signatures by other keys
    are ignored, and a key that signed twice counts once.  The payload is returned as
    bytes, unparsed.  Raises ``MalformedInput`` for a broken envelope and
    ``NotAuthentic`` when no trusted key signed it.
    """
    payload_type, payload, sigs = parse_envelope(envelope, where)
    return payload_type, payload, verify_signatures(payload_type, payload, sigs, trusted, where)


def verify_signatures(
    payload_type: str,
    payload: bytes,
    sigs: list[tuple[str | None, bytes]],
    trusted: Mapping[str, Ed25519PublicKey],
    where: str,
) -> list[str]:
    """The sorted ids of the trusted keys with a valid signature (at least one, else
    ``NotAuthentic``) over an envelope already taken apart by ``parse_envelope``."""
    if not trusted:
        raise NotAuthentic(f"{where}: no trusted keys to verify the signature with")
    message = pae(payload_type, payload)
    verified: set[str] = set()
    for hint, sig in sigs:
        if len(sig) != 64:
            continue  # not an Ed25519 signature: cannot be by any key we trust
        # The hinted key is tried first only to save time; the hint decides nothing.
        for kid in sorted(trusted, key=lambda k: k != hint):
            if kid in verified:
                continue
            try:
                trusted[kid].verify(sig, message)
            except InvalidSignature:
                continue
            verified.add(kid)
            break
    if not verified:
        hints = sorted({h for h, _ in sigs if h})
        named = f" (signature key ids: {', '.join(h[:16] for h in hints)})" if hints else ""
        raise NotAuthentic(f"{where}: no valid signature by a trusted key{named}")
    return sorted(verified)


def is_envelope(doc: Any) -> bool:
    """Whether a parsed JSON document looks like a DSSE envelope (rather than a bare document)."""
    return isinstance(doc, dict) and "payloadType" in doc
