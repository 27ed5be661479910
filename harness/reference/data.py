"""Golden values of the data ops (kinds ``int`` and ``hash``): docs/ops-integers.md.

Each op is computed by the first-principles reference of ``integers`` (Python's
unbounded integers and ``fractions``) or ``hashes`` (``hashlib``, and the module's
own Keccak sponge for Keccak-256), and then confirmed by a second, independent
answer: ``intcheck`` for the integer ops and the integer/float conversions (other
means: bytes, text, ``math.trunc``, ``struct`` and MPFR), ``struct`` for the record
layout, Python's own stable ``sorted`` (decorated with positions) for the sort,
``float()`` and ``format(x, ".16e")`` (CPython's correctly rounded David Gay
conversions) for the decimal ones, ``hashlib.sha3_256`` against the sponge with
SHA-3's padding.  Keccak-256 has one answer: ``hashlib`` lacks it, and the sponge
is the only implementation (checked against published Keccak-256 vectors in the
tests).  A disagreement raises, like ``golden`` does for
the float references: no golden value exists until it is resolved.

Byte-string slots arrive as the int their bytes spell big-endian (``ops.Slot``).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence

from ..errors import MalformedInput, TeecertError
from ..ops import DEC_OUT_BYTES, DEC_TEXT_BYTES, F64, HASH_MSG_BYTES, SORT_ITEMS, Op
from . import hashes, intcheck, integers


class DataReferenceDisagreement(TeecertError):
    """The reference of a data op and its independent confirmation differ."""


def _disagree(op: Op, vec: Sequence[int], a: object, b: object) -> DataReferenceDisagreement:
    return DataReferenceDisagreement(
        f"references disagree on {op.id}({', '.join(op.in_hex(vec))}): {a!r} vs {b!r}")


def dec_text(value: int) -> bytes:
    """The text of a from_dec input slot: its bytes up to the first NUL."""
    raw = value.to_bytes(DEC_TEXT_BYTES, "big")
    return raw.split(b"\0", 1)[0]


def text_slot(text: bytes, size: int = DEC_TEXT_BYTES) -> int:
    """The slot value of ``text``, NUL-padded to ``size`` bytes."""
    if len(text) > size:
        raise MalformedInput(f"a {size}-byte text slot cannot hold {len(text)} bytes")
    return int.from_bytes(text.ljust(size, b"\0"), "big")


def hash_message(length: int, slot: int) -> bytes:
    if length > HASH_MSG_BYTES:
        raise MalformedInput(f"a hash message is at most {HASH_MSG_BYTES} bytes, not {length}")
    return slot.to_bytes(HASH_MSG_BYTES, "big")[:length]


def sort_items(slot: int) -> list[int]:
    raw = slot.to_bytes(8 * SORT_ITEMS, "big")
    return [int.from_bytes(raw[i : i + 8], "big") for i in range(0, len(raw), 8)]


def items_slot(items: Sequence[int]) -> int:
    return int.from_bytes(b"".join(x.to_bytes(8, "big") for x in items), "big")


# ----------------------------------------------------------------- the ops


def _from_dec(op: Op, vec: Sequence[int]) -> int:
    text = dec_text(vec[0])
    bits = integers.f64_from_dec(text)
    if bits is None:
        return 1 << 64  # status 1 (syntax error), bits 0
    # Confirmation: CPython's float() is correctly rounded (ties to even); its grammar
    # is wider (underscores, spaces, "infinity"), so only texts of ours are compared.
    try:
        other = struct.unpack("<Q", struct.pack("<d", float(text.decode("ascii"))))[0]
    except (ValueError, OverflowError):  # pragma: no cover - our grammar is float()'s subset
        raise _disagree(op, vec, bits, "float() refuses the text") from None
    if F64.is_nan(bits) and F64.is_nan(other):
        other = bits
    if other != bits:
        raise _disagree(op, vec, bits, other)
    return bits


def _to_dec(op: Op, vec: Sequence[int]) -> int:
    text = integers.f64_to_dec(vec[0])
    x = struct.unpack("<d", vec[0].to_bytes(8, "little"))[0]
    if math.isnan(x):
        other = "nan"
    elif math.isinf(x):
        other = "-inf" if x < 0 else "inf"
    else:
        other = format(x, ".16e")
        mant, exp = other.split("e")
        other = f"{mant}e{exp[0]}{int(exp[1:]):02d}"
    if other != text:
        raise _disagree(op, vec, text, other)
    return text_slot(text.encode("ascii"), DEC_OUT_BYTES)


def _serialize(op: Op, vec: Sequence[int]) -> int:
    out = integers.serialize_record(vec)
    kind, amount, delta, price, flags = vec
    if F64.is_nan(price):
        price = F64.canonical_nan
    other = struct.pack("<BQIQH", kind & 0xFF, amount, delta & 0xFFFFFFFF, price, flags & 0xFFFF) + b"\0"
    if other != out:
        raise _disagree(op, vec, out.hex(), other.hex())
    return int.from_bytes(out, "big")


def _sort(op: Op, vec: Sequence[int]) -> int:
    items = sort_items(vec[0])
    out = integers.sort_stable_u64(items)
    # Confirmation by decorating with the position: equal keys must keep input order.
    other = [v for _k, _i, v in sorted((v >> integers.SORT_KEY_SHIFT, i, v) for i, v in enumerate(items))]
    if other != out:
        raise _disagree(op, vec, out, other)
    return items_slot(out)


def _hash(op: Op, vec: Sequence[int]) -> int:
    msg = hash_message(vec[0], vec[1])
    out = hashes.digest(op.name, msg)
    if op.name == "sha3_256":  # the sponge, with SHA-3's padding, must agree with hashlib
        other = hashes.keccak_sponge(msg, hashes.RATE_256, 0x06, 32)
        if other != out:
            raise _disagree(op, vec, out.hex(), other.hex())
    return int.from_bytes(out, "big")


def _confirmed(op: Op, first: Callable[..., int], second: Callable[..., int],
               *pre: object) -> Callable[[Op, Sequence[int]], int]:
    """``first(*pre, *vec)``, confirmed by ``second`` (``intcheck``'s other means)."""

    def both(_op: Op, vec: Sequence[int]) -> int:
        out = int(first(*pre, *vec))
        other = int(second(*pre, *vec))
        if other != out:
            raise _disagree(op, vec, out, other)
        return out

    return both


def _int_op(op: Op) -> Callable[[Op, Sequence[int]], int]:
    width = int(op.id[1:3])
    fn = getattr(integers, op.name)
    name = op.name
    if op.arity == 1:
        return _confirmed(op, fn, lambda w, a: intcheck.unary(name, w, a), width)
    return _confirmed(op, fn, lambda w, a, b: intcheck.binary(name, w, a, b), width)


def _function(op: Op) -> Callable[[Op, Sequence[int]], int]:
    if op.kind == "hash":
        return _hash
    if op.id == "f64.from_dec":
        return _from_dec
    if op.id == "f64.to_dec":
        return _to_dec
    if op.id == "rec.serialize":
        return _serialize
    if op.id == "u64.sort_stable":
        return _sort
    if op.name.endswith("_sat"):
        src, dst = op.id.split(".")[0], op.name[3:-4]
        return _confirmed(op, lambda x: integers.float_to_int_sat(src, x, dst),
                          lambda x: intcheck.float_to_int_sat(src, x, dst))
    if op.name.startswith("to_f"):
        src, dst, rnd = op.id.split(".")[0], op.name[3:], op.rounding
        return _confirmed(op, lambda x: integers.int_to_float(src, x, dst, rnd),
                          lambda x: intcheck.int_to_float(src, x, dst, rnd))
    if op.id[:3] in ("i32", "i64"):
        return _int_op(op)
    raise MalformedInput(f"golden: no reference for data op {op.id}")  # pragma: no cover


def check_vector(op: Op, vec: Sequence[int]) -> None:
    """Every value a bit pattern of its slot."""
    if len(vec) != op.arity:
        raise MalformedInput(f"golden: {op.id} takes {op.arity} operands, got {len(vec)}: {vec!r}")
    for slot, x in zip(op.inputs, vec, strict=True):
        if type(x) is not int or not 0 <= x < (1 << slot.bits):
            raise MalformedInput(f"golden: {op.id} operand {x!r} is not a {slot.bits}-bit pattern")


def evaluate_many(op: Op, vecs: Sequence[Sequence[int]]) -> list[int]:
    fn = _function(op)
    out = []
    for vec in vecs:
        check_vector(op, vec)
        out.append(fn(op, vec))
    return out


__all__ = ["DataReferenceDisagreement", "dec_text", "evaluate_many", "hash_message",
           "items_slot", "sort_items", "text_slot"]
