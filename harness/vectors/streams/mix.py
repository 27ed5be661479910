"""The portable stream generator ``teecert-mix-v1``.

A stream is ``(op, generator, seed, count)``; this module turns it into the exact
input bit patterns, in pure Python.  ``native/accel/mixgen.c`` implements the same
function in C for speed; the two must agree bit for bit (``tests/vectors/test_generator.py``).
The specification is in ``docs/vectors.md``; keep the three in step.

SplitMix64 is counter based: draw ``k`` (0-based) of a stream is
``mix(s0 + (k + 1) * GAMMA)``, so any chunk can be generated without the ones
before it.  Each input value uses two draws, ``c`` (class selector) then ``m``
(material); vector ``i`` of an op with arity ``a`` uses draws ``2*a*i .. 2*a*i+2a-1``.
"""

from __future__ import annotations

import hashlib
import struct

from ...errors import UsageError
from ...ops import FloatFormat, Op

GENERATOR = "teecert-mix-v1"
GAMMA = 0x9E3779B97F4A7C15
M64 = (1 << 64) - 1


def initial_state(op_id: str, seed: int) -> int:
    """s0 = first 8 bytes (little-endian) of SHA-256("teecert-mix-v1:" op ":" seed)."""
    text = f"{GENERATOR}:{op_id}:{seed}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


def mix(z: int) -> int:
    """The SplitMix64 output function."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def draw(s0: int, k: int) -> int:
    """Draw number ``k`` of the stream that starts in state ``s0``."""
    return mix((s0 + (k + 1) * GAMMA) & M64)


def _special(fmt: FloatFormat, index: int, sign: int, frac: int) -> int:
    """Entry ``index`` (0..15) of the special-value table of class 13."""
    s = fmt.sign_bit
    q = fmt.quiet_bit
    table = (
        0,  # +0
        s,  # -0
        fmt.inf,  # +inf
        s | fmt.inf,  # -inf
        fmt.canonical_nan,  # canonical quiet NaN
        (sign * s) | fmt.exp_mask | q | (frac & (q - 1)),  # quiet NaN, payload, either sign
        (sign * s) | fmt.exp_mask | ((frac & (q - 1)) | 1),  # signalling NaN, payload
        s | fmt.canonical_nan,  # negative quiet NaN (x86 "default NaN")
        fmt.bias << fmt.frac_bits,  # +1
        s | (fmt.bias << fmt.frac_bits),  # -1
        fmt.max_finite,  # +max
        s | fmt.max_finite,  # -max
        1 << fmt.frac_bits,  # +min normal
        1,  # +min subnormal
        s | 1,  # -min subnormal
        fmt.frac_mask,  # +max subnormal
    )
    return table[index]


def small_integer_bits(fmt: FloatFormat, k: int) -> int:
    """Bit pattern of the (exactly representable) integer ``k``, |k| <= 1024."""
    if fmt.width == 64:
        return int.from_bytes(struct.pack("<d", float(k)), "little")
    return int.from_bytes(struct.pack("<f", float(k)), "little")


def value(fmt: FloatFormat, c: int, m: int) -> int:
    """One input value from the class draw ``c`` and the material draw ``m``."""
    cls = c >> 60
    p = (c >> 32) & 0xFFFF
    sign = m >> 63
    frac = m & fmt.frac_mask
    if cls <= 5:  # uniform bit patterns: every class of the format, NaNs included
        return m & fmt.mask
    if cls <= 9:  # near one: exponents bias-4 .. bias+4 (cancellation, ties)
        e = fmt.bias - 4 + p % 9
    elif cls == 10:  # subnormal (or zero)
        e = 0
    elif cls == 11:  # smallest normal binades
        e = 1 + p % 4
    elif cls == 12:  # largest finite binades
        e = (1 << fmt.exp_bits) - 2 - p % 4
    elif cls == 13:
        return _special(fmt, p % 16, sign, frac)
    elif cls == 14:
        return small_integer_bits(fmt, (m % 2049) - 1024)
    else:  # cls 15: a run of low fraction bits all set or all clear (near-halfway)
        e = fmt.bias - 4 + p % 9
        r = (p >> 8) % (fmt.frac_bits + 1)
        low = (1 << r) - 1
        frac = (frac | low) if (p >> 15) & 1 else (frac & ~low & fmt.frac_mask)
    return (sign << (fmt.width - 1)) | (e << fmt.frac_bits) | frac


def vectors(op: Op, seed: int, start: int, count: int) -> list[tuple[int, ...]]:
    """Inputs of vectors ``start .. start+count-1`` of the stream ``(op, seed)`` of a
    float op (``inputs.vectors`` picks the generator of any op)."""
    if op.kind != "float":
        raise UsageError(f"stream {op.id}: teecert-mix-v1 makes inputs of float ops, not {op.kind} ops")
    s0 = initial_state(op.id, seed)
    fmt = op.fmt  # the operands' format: f64.to_f32 draws binary64 values
    per = 2 * op.arity
    out: list[tuple[int, ...]] = []
    for i in range(start, start + count):
        k = per * i
        vals = []
        for j in range(op.arity):
            c = draw(s0, k + 2 * j)
            m = draw(s0, k + 2 * j + 1)
            vals.append(value(fmt, c, m))
        out.append(tuple(vals))
    return out


def pack_inputs(op: Op, vecs: list[tuple[int, ...]]) -> bytes:
    """The probe-ABI input buffer for these vectors: values little-endian, in order."""
    return op.pack_inputs(vecs)
