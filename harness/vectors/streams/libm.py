"""The libm stream generator ``teecert-libm-v1``: inputs in each function's domain.

Random bit patterns, the float ops' generator ``teecert-mix-v1``, are a poor test of
a libm: most of them send ``exp`` to infinity or zero and ``sin`` to arguments of
2^900.  This generator draws, for each argument of each function, a value whose
binade lies in the function's interesting range, with one value in sixteen from
``teecert-mix-v1`` instead (specials, NaNs, subnormals, the extremes).

It uses the same SplitMix64 draws as ``teecert-mix-v1`` (``generator.draw``: two per
input value, ``c`` then ``m``, vector ``i`` of arity ``a`` at draws ``2ai .. 2ai+2a-1``)
and the same initial state ``generator.initial_state(op, seed)``.  For argument ``j``
with domain ``(lo, hi, signed)`` (unbiased exponents, clamped to the format's normal
range):

* ``c >> 60 == 0``: ``generator.value(fmt, (c << 4) mod 2^64, m)``;
* otherwise: exponent ``lo + ((c >> 32) & 0xFFFF) mod (hi - lo + 1)``, sign
  ``m >> 63`` when ``signed`` (else +), fraction the low fraction bits of ``m``.

``native/accel/mixgen.c`` (``teecert_gen_libm``) implements the same function in C,
given the clamped domain table from :func:`domain`; ``tests/certify/test_libm_suite.py``
checks the two agree.  Specified in ``docs/vectors.md``.
"""

from __future__ import annotations

import struct

from ...ops import FloatFormat, Op
from . import mix as generator

GENERATOR = "teecert-libm-v1"

#: Per function, per argument: (lowest exponent, highest exponent, signed).  A value
#: in binade e lies in [2^e, 2^(e+1)).
DOMAINS: dict[str, tuple[tuple[int, int, bool], ...]] = {
    "exp": ((-30, 9, True),),
    "expm1": ((-60, 9, True),),
    "log": ((-1022, 1023, False),),
    "log1p": ((-60, 60, True),),
    "log2": ((-1022, 1023, False),),
    "log10": ((-1022, 1023, False),),
    "pow": ((-20, 20, False), (-10, 6, True)),
    "sin": ((-30, 20, True),),
    "cos": ((-30, 20, True),),
    "tan": ((-30, 20, True),),
    "asin": ((-30, -1, True),),
    "acos": ((-30, -1, True),),
    "atan": ((-30, 60, True),),
    "atan2": ((-30, 30, True), (-30, 30, True)),
    "sinh": ((-30, 9, True),),
    "cosh": ((-30, 9, True),),
    "tanh": ((-30, 5, True),),
    "cbrt": ((-1022, 1023, True),),
    "hypot": ((-500, 500, True), (-500, 500, True)),
    "erf": ((-30, 3, True),),
}

M64 = (1 << 64) - 1


def domain(fn: str, fmt: FloatFormat) -> tuple[tuple[int, int, bool], ...]:
    """The domain of ``fn``'s arguments, exponents clamped to ``fmt``'s normal range."""
    return tuple((max(lo, fmt.emin), min(hi, fmt.emax), signed) for lo, hi, signed in DOMAINS[fn])


def value(fmt: FloatFormat, dom: tuple[int, int, bool], c: int, m: int) -> int:
    """One input value from the class draw ``c`` and the material draw ``m``."""
    if c >> 60 == 0:
        return generator.value(fmt, (c << 4) & M64, m)
    lo, hi, signed = dom
    e = lo + ((c >> 32) & 0xFFFF) % (hi - lo + 1)
    sign = (m >> 63) if signed else 0
    return (sign << (fmt.width - 1)) | ((e + fmt.bias) << fmt.frac_bits) | (m & fmt.frac_mask)


def vectors(op: Op, seed: int, start: int, count: int) -> list[tuple[int, ...]]:
    """Inputs of vectors ``start .. start+count-1`` of the libm stream ``(op, seed)``."""
    s0 = generator.initial_state(op.id, seed)
    fmt = op.fmt
    dom = domain(op.name, fmt)
    per = 2 * op.arity
    out: list[tuple[int, ...]] = []
    for i in range(start, start + count):
        k = per * i
        out.append(tuple(value(fmt, dom[j], generator.draw(s0, k + 2 * j),
                               generator.draw(s0, k + 2 * j + 1)) for j in range(op.arity)))
    return out


def pack(op: Op, vecs: list[tuple[int, ...]]) -> bytes:
    return struct.pack(op.fmt.struct_code(len(vecs) * op.arity), *(v for vec in vecs for v in vec))

