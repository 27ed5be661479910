"""One CBOR item from untrusted bytes, for the CBOR evidence formats (Nitro, Arm CCA)."""

from __future__ import annotations

import io
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


__all__ = ["decode_one"]
