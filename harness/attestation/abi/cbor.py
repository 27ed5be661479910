"""One CBOR item from untrusted bytes, for the CBOR evidence formats (Nitro, Arm CCA)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import cbor2

from ...errors import MalformedInput


def decode_one(data: bytes, what: str, where: str) -> Any:
    """The single CBOR item ``data`` holds (``what``, in the file or evidence ``where``),
    or a one-line ``MalformedInput``: invalid CBOR, or bytes after the item."""
    fp = io.BytesIO(data)
    try:
        obj = cbor2.CBORDecoder(fp).decode()
    except Exception as exc:  # untrusted input: cbor2's semantic tag decoders raise many kinds
        msg = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise MalformedInput(f"{where}: {what} is not valid CBOR ({msg})") from None
    if fp.tell() != len(data):
        raise MalformedInput(f"{where}: {what} has {len(data) - fp.tell()} trailing bytes after the CBOR item "
                             f"(offset {fp.tell()})")
    return obj


#: the CBOR tag of a COSE_Sign1 structure (RFC 9052); the structure may also come untagged
TAG_COSE_SIGN1 = 18


def cose_sign1(raw: bytes, what: str, where: str) -> tuple[bytes, Mapping[Any, Any], bytes, bytes]:
    """(protected, unprotected, payload, signature) of the COSE_Sign1 ``raw`` holds,
    tagged or not, each of its type; a one-line ``MalformedInput`` otherwise."""
    top = decode_one(raw, what, where)
    if isinstance(top, cbor2.CBORTag):
        if top.tag != TAG_COSE_SIGN1:
            raise MalformedInput(f"{where}: {what} has CBOR tag {top.tag}, expected a COSE_Sign1 (tag 18)")
        top = top.value
    if not isinstance(top, list | tuple) or len(top) != 4:
        raise MalformedInput(f"{where}: {what} must be a COSE_Sign1 array of 4 items")
    protected, unprotected, payload, signature = top
    types: tuple[tuple[str, Any, type], ...] = (
        ("protected", protected, bytes), ("unprotected", unprotected, Mapping),
        ("payload", payload, bytes), ("signature", signature, bytes),
    )
    for name, val, typ in types:
        if not isinstance(val, typ):
            raise MalformedInput(f"{where}: {what} COSE_Sign1 {name} must be a {typ.__name__}, "
                                 f"not {type(val).__name__}")
    return protected, unprotected, payload, signature


__all__ = ["TAG_COSE_SIGN1", "cose_sign1", "decode_one"]
