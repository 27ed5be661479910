"""The second answer for the integer and integer/float conversion ops.

``integers`` computes these ops from first principles on Python integers; a golden
value is only trusted when a second computation, by other means, agrees
(``reference.data`` compares the two).  Each answer here avoids the first
reference's mechanism on purpose:

- wrapping add/sub/mul: the exact result's two's-complement bytes, truncated to the
  width (``int.to_bytes``), instead of masking;
- division: truncation toward zero by ``fractions.Fraction`` and ``math.trunc``, the
  remainder as ``a - b * q``, instead of floor division of magnitudes;
- shifts and bit counts: the ``width``-character binary string, shifted and
  counted as text;
- float -> integer: the float decoded by the host's ``struct`` (an exact widening
  for binary32) and truncated by ``math.trunc``, instead of decoding the fields;
- integer -> float: MPFR (gmpy2) rounding to 24 or 53 bits in the op's direction,
  encoded by ``struct``, instead of the first reference's ratio rounding.

Values are bit patterns in non-negative ints, as everywhere in teecert.  The
semantics are docs/ops-integers.md's; these functions assume operands already
checked by ``integers`` (they are called after it).
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

import gmpy2

#: (bits, signed) of the integer types of the conversions
_TYPES = {"i32": (32, True), "i64": (64, True), "u32": (32, False), "u64": (64, False)}
_PACK = {"f32": "<f", "f64": "<d"}
_UNPACK_INT = {"f32": "<I", "f64": "<Q"}
_PRECISION = {"f32": 24, "f64": 53}
_GMPY_ROUND = {"rne": gmpy2.RoundToNearest, "rtz": gmpy2.RoundToZero,
               "rup": gmpy2.RoundUp, "rdn": gmpy2.RoundDown}
# built once: creating a context costs more than a conversion
_CONTEXTS = {(fmt, rnd): gmpy2.context(precision=p, round=mode)
             for fmt, p in _PRECISION.items() for rnd, mode in _GMPY_ROUND.items()}


def _signed(width: int, bits: int) -> int:
    return int.from_bytes(bits.to_bytes(width // 8, "little"), "little", signed=True)


def _pattern(width: int, value: int) -> int:
    """The low ``width`` bits of ``value``'s two's complement, by its bytes."""
    size = max(width // 8, (value.bit_length() + 8) // 8 + 1)
    raw = value.to_bytes(size, "little", signed=True)
    return int.from_bytes(raw[: width // 8], "little")


def _bits(width: int, a: int) -> str:
    return format(a, f"0{width}b")


def binary(name: str, width: int, a: int, b: int) -> int:
    """``name`` (add, sub, mul, div_s, rem_s, div_u, rem_u, shl, shr_u, shr_s)."""
    sa, sb = _signed(width, a), _signed(width, b if name not in ("shl", "shr_u", "shr_s") else 0)
    if name == "add":
        return _pattern(width, sa + _signed(width, b))
    if name == "sub":
        return _pattern(width, sa - _signed(width, b))
    if name == "mul":
        return _pattern(width, sa * _signed(width, b))
    if name in ("div_s", "rem_s"):
        if sb == 0:
            return _pattern(width, -1) if name == "div_s" else a
        q = math.trunc(Fraction(sa, sb))
        return _pattern(width, q if name == "div_s" else sa - sb * q)
    if name in ("div_u", "rem_u"):
        if b == 0:
            return _pattern(width, -1) if name == "div_u" else a
        q = math.trunc(Fraction(a, b))
        return q if name == "div_u" else a - b * q
    text = _bits(width, a)
    if name == "shl":
        return int((text + "0" * min(b, width))[-width:], 2)
    if name == "shr_u":
        return int(("0" * min(b, width) + text)[:width], 2)
    if name == "shr_s":
        return int((text[0] * min(b, width) + text)[:width], 2)
    raise ValueError(f"no second answer for {name}")  # pragma: no cover


def unary(name: str, width: int, a: int) -> int:
    """``name`` (clz, ctz, popcnt) as text."""
    text = _bits(width, a)
    if name == "clz":
        return len(text) - len(text.lstrip("0"))
    if name == "ctz":
        return len(text) - len(text.rstrip("0"))
    if name == "popcnt":
        return text.count("1")
    raise ValueError(f"no second answer for {name}")  # pragma: no cover


def float_to_int_sat(src: str, bits: int, dst: str) -> int:
    """Saturating truncation: the host's float decoding, then ``math.trunc``."""
    width, signed = _TYPES[dst]
    (x,) = struct.unpack(_PACK[src], struct.pack(_UNPACK_INT[src], bits))
    lo, hi = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)
    if math.isnan(x):
        value = 0
    elif math.isinf(x):
        value = lo if x < 0 else hi
    else:
        value = min(max(math.trunc(x), lo), hi)
    return _pattern(width, value)


def int_to_float(src: str, bits: int, dst: str, rounding: str) -> int:
    """MPFR's rounding of the integer to the destination's precision.  An integer of
    at most 64 bits is far inside both formats' exponent range, so neither
    overflow nor subnormals arise; zero is +0."""
    width, signed = _TYPES[src]
    value = _signed(width, bits) if signed else bits
    with _CONTEXTS[dst, rounding]:
        rounded = gmpy2.mpfr(value)
    # the rounded value has at most 53 significant bits: float() is exact, and so is
    # struct's binary32 encoding of a value with at most 24
    (pattern,) = struct.unpack(_UNPACK_INT[dst], struct.pack(_PACK[dst], float(rounded)))
    return int(pattern)


__all__ = ["binary", "float_to_int_sat", "int_to_float", "unary"]
