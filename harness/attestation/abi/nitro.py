"""AWS Nitro Enclaves attestation documents: the COSE_Sign1 structure and its payload.

Decoding only (authenticity is ``verify.nitro``, policy ``validate.policy``).

``parse_document(doc, where) -> Document``
    ``doc`` is the raw CBOR (an untagged COSE_Sign1 array ``[protected, unprotected,
    payload, signature]``; a CBOR tag 18 wrapper is tolerated) or its base64 text
    (standard or URL-safe alphabet, whitespace ignored).  The protected header must
    be ``{1: -35}`` (ES384) and the payload a map with ``module_id``, ``digest``
    ("SHA384"), ``timestamp`` (ms since the epoch), ``pcrs`` (index → 48 bytes),
    ``certificate`` (DER), ``cabundle`` (DER list, root first) and the optional
    ``public_key``, ``user_data``, ``nonce`` (bytes or null).  ``MalformedInput`` names
    the field.  ``Document.sig_structure()`` is the COSE ``Sig_structure`` the
    signature covers.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

from ...errors import MalformedInput
from .cbor import cose_sign1, decode_one

MAX_DOCUMENT = 64 * 1024  # real documents are ~5 KiB; the NSM caps its output at 16 KiB
ALG_ES384 = -35
FIRST_BYTES = (0x84, 0xD2)  # CBOR array(4) (untagged COSE_Sign1), or tag 18
PCR_LEN = {"SHA384": 48}
# How AWS marks a debug-mode enclave: these PCRs are all zero.
DEBUG_PCRS = (0, 1, 2, 8)
_MAX_TIMESTAMP_MS = 253402300800000  # 10000-01-01T00:00:00Z
_OPTIONAL_MAX = {"public_key": 1024, "user_data": 512, "nonce": 512}


@dataclass(frozen=True)
class Document:
    """A parsed (not yet trusted) attestation document."""

    protected: bytes
    payload: bytes
    signature: bytes
    module_id: str
    digest: str
    timestamp_ms: int
    pcrs: dict[int, bytes]
    certificate: bytes
    cabundle: list[bytes]
    public_key: bytes | None
    user_data: bytes | None
    nonce: bytes | None

    @property
    def timestamp(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.timestamp_ms / 1000, tz=_dt.UTC)

    def sig_structure(self) -> bytes:
        return cbor2.dumps(["Signature1", self.protected, b"", self.payload])


def _raw_bytes(doc: bytes, where: str) -> bytes:
    if not isinstance(doc, bytes | bytearray | memoryview):
        raise MalformedInput(f"{where}: a Nitro attestation document must be bytes")
    b = bytes(doc)
    if not b:
        raise MalformedInput(f"{where}: empty Nitro attestation document")
    if len(b) > MAX_DOCUMENT * 2:
        raise MalformedInput(f"{where}: {len(b)} bytes, larger than any Nitro attestation document")
    if b[0] in FIRST_BYTES:
        return b
    text = b"".join(b.split())
    try:
        altchars = b"-_" if (b"-" in text or b"_" in text) else None
        text += b"=" * (-len(text) % 4)
        out = base64.b64decode(text, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedInput(f"{where}: neither CBOR (first byte {b[0]:#04x}, expected 0x84) nor base64") from None
    if not out or out[0] not in FIRST_BYTES:
        raise MalformedInput(f"{where}: base64 content is not a COSE_Sign1 array (first byte "
                             f"{out[0] if out else 'none'}, expected 0x84)")
    return out




def _bytes_field(p: Mapping[Any, Any], key: str, where: str, *, optional: bool = False) -> bytes | None:
    if key not in p:
        if optional:
            return None
        raise MalformedInput(f"{where}: payload field {key!r} is missing")
    v = p[key]
    if v is None and optional:
        return None
    if not isinstance(v, bytes):
        raise MalformedInput(f"{where}: payload field {key!r} must be a byte string, not {type(v).__name__}")
    return v


def parse_document(doc: bytes, where: str) -> Document:
    """Decode the COSE_Sign1 structure and the payload (nothing is trusted yet)."""
    raw = _raw_bytes(doc, where)
    if len(raw) > MAX_DOCUMENT:
        raise MalformedInput(f"{where}: {len(raw)} bytes, larger than any Nitro attestation document")
    protected, _unprotected, payload, signature = cose_sign1(raw, "document", where)
    hdr = decode_one(protected, "COSE protected header", where)
    if not isinstance(hdr, Mapping) or hdr.get(1) != ALG_ES384:
        alg = hdr.get(1) if isinstance(hdr, Mapping) else None
        raise MalformedInput(f"{where}: COSE protected header alg (label 1) = {alg!r}, expected -35 (ES384)")
    if len(signature) != 96:
        raise MalformedInput(f"{where}: COSE signature is {len(signature)} bytes, expected 96 (ES384 r||s)")
    p = decode_one(payload, "payload", where)
    if not isinstance(p, Mapping):
        raise MalformedInput(f"{where}: payload must be a CBOR map")
    module_id = p.get("module_id")
    if not isinstance(module_id, str) or not module_id:
        raise MalformedInput(f"{where}: payload field 'module_id' must be a non-empty text string")
    digest = p.get("digest")
    if digest not in PCR_LEN:
        raise MalformedInput(f"{where}: payload field 'digest' = {digest!r}, expected 'SHA384'")
    ts = p.get("timestamp")
    if not isinstance(ts, int) or isinstance(ts, bool) or not 0 < ts < _MAX_TIMESTAMP_MS:
        raise MalformedInput(f"{where}: payload field 'timestamp' must be a positive integer (ms since the epoch)")
    pcrs_in = p.get("pcrs")
    if not isinstance(pcrs_in, Mapping) or not 1 <= len(pcrs_in) <= 32:
        raise MalformedInput(f"{where}: payload field 'pcrs' must be a map of 1 to 32 entries")
    pcrs: dict[int, bytes] = {}
    for k, v in pcrs_in.items():
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < 32:
            raise MalformedInput(f"{where}: payload pcrs key {k!r} is not an index 0..31")
        if not isinstance(v, bytes) or len(v) != PCR_LEN[digest]:
            raise MalformedInput(f"{where}: payload pcrs[{k}] must be {PCR_LEN[digest]} bytes")
        pcrs[k] = v
    certificate = _bytes_field(p, "certificate", where)
    cab = p.get("cabundle")
    if not isinstance(cab, list | tuple) or not 1 <= len(cab) <= 16 or not all(isinstance(c, bytes) for c in cab):
        raise MalformedInput(f"{where}: payload field 'cabundle' must be a list of 1 to 16 DER certificates")
    opt: dict[str, bytes | None] = {}
    for key, limit in _OPTIONAL_MAX.items():
        val = _bytes_field(p, key, where, optional=True)
        if val is not None and len(val) > limit:
            raise MalformedInput(f"{where}: payload field {key!r} is {len(val)} bytes, at most {limit}")
        opt[key] = val
    assert certificate is not None
    return Document(protected=protected, payload=payload, signature=signature, module_id=module_id,
                    digest=digest, timestamp_ms=ts, pcrs=pcrs, certificate=certificate, cabundle=list(cab),
                    public_key=opt["public_key"], user_data=opt["user_data"], nonce=opt["nonce"])
