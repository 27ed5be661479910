"""The stream generator ``teecert-data-v1``: inputs of the data ops (kinds ``int`` and
``hash``, docs/ops-integers.md), weighted toward the cases that break them.

Uniform bit patterns are a poor test of integer and conversion code: a uniform
divisor is almost never 0 or -1, a uniform shift count is almost never below the
width, a uniform double almost never lies within an ulp of 2^63, a uniform 64-bit
integer is almost never a rounding tie, and random bytes are almost never a decimal
number.  Every rule below therefore mixes uniform values with classes of edge
cases, chosen by bit fields of the draws.

State and draws are those of ``teecert-mix-v1`` (``generator.mix``/``draw``) with
its own name in the initial state.  The stream is counter based per vector: vector
``i`` of stream ``(op, seed)`` has its own state ``t_i = draw(s0, i)`` and its
material is the sequence ``d_k = draw(t_i, k)``, ``k = 0, 1, 2, ...``; a rule may
read as many ``d_k`` as it needs, by index.  Any chunk can be generated alone.

This module is the specification in code; ``docs/vectors.md`` ("The data generator
teecert-data-v1") states the same rules in tables.  Keep the two in step.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable

from ...errors import MalformedInput
from ...ops import F32, F64, HASH_MSG_BYTES, INT_TO_FLOAT, SORT_ITEMS, FloatFormat, Op
from ...reference.data import items_slot, text_slot
from . import mix as generator

GENERATOR = "teecert-data-v1"
GAMMA = generator.GAMMA
M64 = generator.M64
M48 = (1 << 48) - 1

#: Vectors per chunk of a stream's outputs (the Merkle leaves of ``docs/vectors.md``):
#: 128 leaves per stream, and at most 8 MiB of inputs per probe call (f64.from_dec's
#: 1024-byte texts), which the shared region of a remote probe holds twice.
CHUNK_SIZE = 8192


def initial_state(op_id: str, seed: int) -> int:
    """s0 = first 8 bytes (little-endian) of SHA-256("teecert-data-v1:" op ":" seed)."""
    text = f"{GENERATOR}:{op_id}:{seed}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


def material(t: int, n: int) -> list[int]:
    """``d_0 .. d_{n-1}`` of the vector whose state is ``t``: ``draw(t, k)``."""
    out = []
    z0 = t
    for _ in range(n):
        z0 = (z0 + GAMMA) & M64
        z = ((z0 ^ (z0 >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        out.append(z ^ (z >> 31))
    return out


def _p16(d: int) -> int:
    """Bits 32..47 of a draw: the parameter field of a class draw."""
    return (d >> 32) & 0xFFFF


# --------------------------------------------------------------- integers


def int_operand(width: int, c: int, m: int) -> int:
    """An integer operand of ``width`` bits from a class draw ``c`` and material ``m``."""
    mask = (1 << width) - 1
    cls = c >> 60
    p = _p16(c)
    if cls <= 7:  # uniform
        return m & mask
    if cls <= 9:  # small signed values -32 .. 32
        return (m % 65 - 32) & mask
    if cls <= 11:  # boundary table
        top = 1 << (width - 1)
        return (0, 1, mask, top, top - 1, top + 1, top - 2, 2)[p % 8]
    if cls <= 13:  # +-(2^k - 1, 2^k, 2^k + 1)
        v = (1 << (p % width)) + (p >> 8) % 3 - 1
        return (-v if (p >> 10) & 1 else v) & mask
    b = p % (width + 1)  # cls 14, 15: exactly b significant bits, 15 negated
    v = 0 if b == 0 else (1 << (b - 1)) | (m & ((1 << (b - 1)) - 1))
    return (-v if cls == 15 else v) & mask


def shift_count(width: int, c: int, m: int) -> int:
    """A 64-bit shift count for a ``width``-bit shift."""
    cls = c >> 60
    if cls <= 9:  # 0 .. 2W+1
        return m % (2 * width + 2)
    if cls <= 12:  # W-1, W, W+1
        return width - 1 + m % 3
    if cls == 13:  # counts a masking shifter reduces to a small one
        table = (1 << 32, (1 << 32) + 1, 1 << 63, M64, (1 << 64) - width, 2 * width + 1,
                 4 * width, (1 << 32) + width - 1)
        return table[_p16(c) % 8]
    return m  # uniform 64-bit


DIVISIONS = ("div_s", "rem_s", "div_u", "rem_u")


def _int_rule(op: Op) -> Callable[[int], tuple[int, ...]]:
    width = 32 if op.id.startswith("i32.") else 64
    mask = (1 << width) - 1
    top = 1 << (width - 1)
    if op.arity == 1:
        return lambda t: (int_operand(width, *material(t, 2)),)
    if op.name in ("shl", "shr_u", "shr_s"):
        def shift(t: int) -> tuple[int, ...]:
            d = material(t, 4)
            return int_operand(width, d[0], d[1]), shift_count(width, d[2], d[3])
        return shift
    if op.name in DIVISIONS:
        def division(t: int) -> tuple[int, ...]:
            d = material(t, 5)
            a, b = int_operand(width, d[0], d[1]), int_operand(width, d[2], d[3])
            sel = d[4] >> 60
            if sel in (2, 3, 4):
                a = top
            if sel in (0, 3):
                b = 0
            elif sel in (1, 2):
                b = mask
            return a, b
        return division

    def pair(t: int) -> tuple[int, ...]:
        d = material(t, 4)
        return int_operand(width, d[0], d[1]), int_operand(width, d[2], d[3])
    return pair


# -------------------------------------------------------------- conversions


def _bits_of(fmt: FloatFormat, x: float) -> int:
    code = "<d" if fmt.width == 64 else "<f"
    return int.from_bytes(struct.pack(code, x), "little")


#: Magnitudes next to which a float -> int conversion changes behaviour.
SAT_BOUNDARIES = (0.5, 1.0, 2.0**31, 2.0**32, 2.0**63, 2.0**64)
_SAT_BITS = {fmt.name: tuple(_bits_of(fmt, x) for x in SAT_BOUNDARIES) for fmt in (F32, F64)}


def sat_operand(fmt: FloatFormat, c: int, m: int) -> int:
    """A float operand of a saturating conversion."""
    if c >> 60 <= 11:  # teecert-mix-v1, its class from bits 56..59 of c
        return generator.value(fmt, (c << 4) & M64, m)
    p = _p16(c)  # a boundary, -3 .. +3 ulps, either sign
    bits = _SAT_BITS[fmt.name][p % 6] + (p >> 8) % 7 - 3
    return bits | (((p >> 11) & 1) << (fmt.width - 1))


def int_source(width: int, signed: bool, precision: int, d: list[int]) -> int:
    """An integer source of an int -> float conversion to a format of ``precision``
    bits, from ``d_0, d_1, d_2``."""
    c, m, low = d[0], d[1], d[2]
    mask = (1 << width) - 1
    cls = c >> 60
    p = _p16(c)
    if cls <= 3:  # uniform
        return m & mask
    top = width - 1 if signed else width  # bits of the largest magnitude
    neg = signed and (p >> 10) & 1 == 1
    if cls <= 7 or top <= precision:  # exactly b significant bits
        b = 1 + p % top
        mag = (1 << (b - 1)) | (m & ((1 << (b - 1)) - 1))
    else:  # tie-shaped: a p-bit significand s, then k more bits
        k = 1 + p % (top - precision)
        half = 1 << (k - 1)
        s = (1 << (precision - 1)) | (m & ((1 << (precision - 1)) - 1))
        mode = (p >> 8) & 3
        mag = (s << k) + half  # modes 0 and 1: exactly halfway
        if mode == 2:  # above halfway (or on it)
            mag |= low & (half - 1)
        elif mode == 3:  # just below halfway
            mag -= 1
    return (-mag if neg else mag) & mask


# ------------------------------------------------------------ decimal texts

#: Class (e): texts outside the grammar of f64.from_dec.
MALFORMED = (
    b"", b".", b"e5", b"1e", b"1e+", b"+", b"-", b" 1",
    b"1 ", b"\t1", b"1_000", b"0x10", b"infinity", b"nan(1)", b"1,5", b"+-1",
    b"--1", b"1.2.3", b"1e5.5", b"1e+-3", b"..1", b".e1", b"1d5", b"1.0f",
    b"inf1", b"-in", b"nanq", b"1e1e1", b"\xd9\xa1", b"\xef\xbc\x91", b"1\n", b"0.5E",
)

#: Class (g): valid texts of unusual spelling.
SPELLINGS = (
    b"inf", b"-inf", b"+INF", b"Inf", b"nan", b"-nan", b"NaN", b"+nAn",
    b"0", b"-0", b"+0.000e-999", b"-.0", b"1e99999999999999999999", b"-1e-400",
    b"+00012.500e0005", b"9007199254740993",
)

#: Class (d): exact values N * 2^k at the ends of the binary64 range.
LIMITS = (
    ((1 << 53) - 1, 971),  # the largest finite value
    (1, -1022),  # the smallest normal
    (1, -1074),  # the smallest subnormal
    (1, -1075),  # half the smallest subnormal
    ((1 << 54) - 1, 970),  # the overflow threshold (midpoint above the largest)
    ((1 << 52) - 1, -1074),  # the largest subnormal
    ((1 << 53) - 1, -1075),  # midpoint of the largest subnormal and the smallest normal
    (3, -1075),  # midpoint of the smallest subnormal and twice it
)

#: Class (f): powers of two near which integers stop being exact.
INT_BASES = (1 << 53, 1 << 54, 1 << 63, 1 << 64)


def exact_decimal(n: int, k: int) -> tuple[str, int]:
    """``(digits, E)`` with ``n * 2^k == int(digits) * 10^E`` exactly, ``n > 0``,
    ``digits`` without trailing zeros."""
    if k >= 0:
        d, e = n << k, 0
    else:
        d, e = n * 5**-k, k
    digits = str(d)
    stripped = digits.rstrip("0")
    return stripped, e + len(digits) - len(stripped)


def scientific(neg: bool, digits: str, e: int) -> bytes:
    """``int(digits) * 10^E`` as ``[-]D[.DDD]e(+|-)X``, the exponent without padding."""
    x = e + len(digits) - 1
    body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{'-' if neg else ''}{body}e{'-' if x < 0 else '+'}{abs(x)}".encode()


def extend(digits: str, e: int, z: int, up: bool) -> tuple[str, int]:
    """``int(digits) * 10^E`` plus (``up``) or minus one unit ``z + 1`` digits
    further down: ``digits`` then ``z`` zeros then 1, or ``digits - 1`` then
    ``z + 1`` nines."""
    return str(int(digits) * 10 ** (z + 1) + (1 if up else -1)), e - z - 1


def nudge(variant: int, digits: str, e: int, r: int) -> tuple[str, int]:
    """Variant 0: as is; 1: truncated to ``t`` digits; 2 and 3: ``extend`` with
    ``z = r mod 192``, up and down."""
    n = len(digits)
    if variant == 1:
        t = 17 + r % (n - 17) if n > 17 else max(n - 1, 1)
        return digits[:t], e + n - t
    if variant >= 2:
        return extend(digits, e, r % 192, variant == 2)
    return digits, e


def _double_parts(bits: int) -> tuple[int, int]:
    """(M, q): a finite non-negative binary64 pattern is M * 2^q."""
    biased = (bits >> 52) & 0x7FF
    frac = bits & F64.frac_mask
    if biased == 0:
        return frac, -1074
    return frac | (1 << 52), biased - 1075


def _finite(bits: int) -> int:
    """A pattern with an all-ones exponent field gets bit 62 cleared."""
    return bits & ~(1 << 62) if bits & F64.exp_mask == F64.exp_mask else bits


def _midpoint(bits: int) -> tuple[str, int]:
    """Exact decimal of the midpoint of a finite non-negative double and its successor."""
    mant, q = _double_parts(bits)
    return exact_decimal(2 * mant + 1, q - 1)


def dec_text(d: list[int]) -> bytes:
    """The text of an f64.from_dec vector, from ``d_0 .. d_5``."""
    sel = d[0] >> 60
    p = _p16(d[0])
    neg = (p >> 6) & 1 == 1
    if sel <= 3:  # (a) a double printed with 1..17 significant digits
        x = _finite(d[1])
        sig = 1 + p % 17
        value = struct.unpack("<d", x.to_bytes(8, "little"))[0]
        return format(value, f".{sig - 1}e").encode()
    if sel <= 6:  # (b) the midpoint of a double and its successor, nudged
        b = d[1] & ~F64.sign_bit
        if sel == 6:  # binades 2^-20 .. 2^75
            b = (b & ~F64.exp_mask) | ((1003 + ((b >> 52) % 96)) << 52)
        digits, e = _midpoint(_finite(b))
        return scientific(neg, *nudge((p >> 4) & 3, digits, e, d[2]))
    if sel <= 9:  # (c) random digits, point, sign, exponent
        n = 1 + d[1] % 40
        pool = "".join(f"{x % 10**19:019d}" for x in d[2:5])
        body = "0" * (p & 3 if (p >> 2) & 1 else 0) + pool[:n]
        pos = (d[1] >> 32) % (len(body) + 2)
        if pos <= len(body):
            body = body[:pos] + "." + body[pos:]
        sign = ("", "+", "-", "-")[(p >> 3) & 3]
        letter = ("", "e", "E", "e")[(p >> 5) & 3]
        if letter:
            x = d[5] % 701 - 350
            body += letter + ("-" if x < 0 else "+" if (p >> 7) & 1 else "") + str(abs(x))
        return (sign + body).encode()
    if sel <= 11:  # (d) the ends of the range, nudged
        n, k = LIMITS[p % 8]
        return scientific(neg, *nudge((p >> 4) & 3, *exact_decimal(n, k), d[1]))
    if sel == 12:  # (e) malformed
        return MALFORMED[p % 32]
    if sel == 13:  # (f) integers near 2^53, 2^54, 2^63, 2^64
        base = INT_BASES[p % 4]
        half = base >> 53  # half the spacing of the doubles above base
        off = (d[1] % 17 - 8) * half
        if (p >> 2) & 1:
            off += (d[1] >> 32) % 3 - 1
        return f"{'-' if (p >> 3) & 1 else ''}{base + off}".encode()
    if sel == 14:  # (g) unusual spellings
        return SPELLINGS[p % 16]
    # (h) a midpoint with one unit beyond the 800th significant digit, either way
    digits, e = _midpoint(_finite(d[1] & ~F64.sign_bit))
    z = 800 - len(digits) + d[2] % 64
    return scientific(neg, *extend(digits, e, z, (p >> 4) & 1 == 0))


# ------------------------------------------------------------ data model, hashes

SORT_ALPHABETS = (1, 2, 3, 4, 8, 64, 65536)
HASH_BOUNDARIES = (0, 55, 56, 64, 111, 112, 128, 135, 136, 192, 256, 272, 384, 408, 512)
_HASH_DRAWS = HASH_MSG_BYTES // 8


def _record(t: int) -> tuple[int, ...]:
    d = material(t, 6)
    return d[0], d[1], d[2], generator.value(F64, d[3], d[4]), d[5]


def _sort(t: int) -> tuple[int, ...]:
    d = material(t, 1 + SORT_ITEMS)
    alphabet = SORT_ALPHABETS[_p16(d[0]) % 7]
    return (items_slot([(((x >> 48) % alphabet) << 48) | (x & M48) for x in d[1:]]),)


def hash_length(d0: int) -> int:
    p = _p16(d0)
    if d0 >> 63 == 0:
        return p % (HASH_MSG_BYTES + 1)
    n = HASH_BOUNDARIES[p % 15] + (d0 & 0xFFFF) % 5 - 2
    return min(max(n, 0), HASH_MSG_BYTES)


def _hash(t: int) -> tuple[int, ...]:
    d = material(t, 1 + _HASH_DRAWS)
    slot = int.from_bytes(b"".join(x.to_bytes(8, "big") for x in d[1:]), "big")
    return hash_length(d[0]), slot


# ---------------------------------------------------------------- the streams


def _rule(op: Op) -> Callable[[int], tuple[int, ...]]:
    """The function from a vector's state ``t_i`` to its inputs."""
    if op.kind == "hash":
        return _hash
    if op.kind != "int":
        raise MalformedInput(f"{GENERATOR}: {op.id} is a {op.kind} op, not a data op")
    if op.id == "f64.from_dec":
        return lambda t: (text_slot(dec_text(material(t, 6))),)
    if op.id == "f64.to_dec":
        return lambda t: (generator.value(F64, *material(t, 2)),)
    if op.id == "rec.serialize":
        return _record
    if op.id == "u64.sort_stable":
        return _sort
    src = op.id.split(".")[0]
    if op.name.endswith("_sat"):
        fmt = F64 if src == "f64" else F32
        return lambda t: (sat_operand(fmt, *material(t, 2)),)
    if op.name.startswith("to_f"):
        width, signed = INT_TO_FLOAT[src], src.startswith("i")
        precision = (F64 if op.name == "to_f64" else F32).precision
        return lambda t: (int_source(width, signed, precision, material(t, 3)),)
    return _int_rule(op)


#: Rule numbers of the C generator (native/accel/accel.h, TEECERT_DATA_*).
NATIVE_RULES = {"unary": 1, "shift": 2, "division": 3, "pair": 4, "sat": 5, "to_float": 6,
                "to_dec": 7, "record": 8, "sort": 9, "hash": 10, "from_dec": 11}


def native_rule(op: Op) -> tuple[int, int, int]:
    """``(rule, width, arg)`` of ``op`` for ``teecert_gen_data``: the same choice as
    :func:`_rule`, as numbers (``arg`` is ``signed << 8 | precision`` of an int ->
    float conversion)."""
    if op.kind == "hash":
        return NATIVE_RULES["hash"], 0, 0
    if op.kind != "int":
        raise MalformedInput(f"{GENERATOR}: {op.id} is a {op.kind} op, not a data op")
    special = {"f64.from_dec": "from_dec", "f64.to_dec": "to_dec", "rec.serialize": "record",
               "u64.sort_stable": "sort"}
    if op.id in special:
        return NATIVE_RULES[special[op.id]], 0, 0
    src = op.id.split(".")[0]
    if op.name.endswith("_sat"):
        return NATIVE_RULES["sat"], (64 if src == "f64" else 32), 0
    if op.name.startswith("to_f"):
        precision = (F64 if op.name == "to_f64" else F32).precision
        return NATIVE_RULES["to_float"], INT_TO_FLOAT[src], int(src.startswith("i")) << 8 | precision
    width = 32 if op.id.startswith("i32.") else 64
    if op.arity == 1:
        return NATIVE_RULES["unary"], width, 0
    if op.name in ("shl", "shr_u", "shr_s"):
        return NATIVE_RULES["shift"], width, 0
    return NATIVE_RULES["division" if op.name in DIVISIONS else "pair"], width, 0


def vectors(op: Op, seed: int, start: int, count: int) -> list[tuple[int, ...]]:
    """Inputs of vectors ``start .. start+count-1`` of the stream ``(op, seed)``."""
    rule = _rule(op)
    s0 = initial_state(op.id, seed)
    return [rule(generator.draw(s0, i)) for i in range(start, start + count)]


def packed_inputs(op: Op, seed: int, start: int, count: int) -> bytes:
    """The probe-ABI input buffer of those vectors."""
    return op.pack_inputs(vectors(op, seed, start, count))


#: Vectors per stream of a data op, as many as a float stream holds: a fault that
#: shows only after thousands of vectors (a table that fills up, a counter that
#: wraps) must fall inside the stream.
STREAM_COUNT = 1 << 20



def count_of(op: Op) -> int:
    """Vectors per stream of ``op``."""
    if op.kind in ("int", "hash"):
        return STREAM_COUNT
    raise MalformedInput(f"{GENERATOR}: {op.id} is a {op.kind} op, not a data op")


__all__ = ["CHUNK_SIZE", "GENERATOR", "NATIVE_RULES", "STREAM_COUNT", "count_of", "initial_state",
           "material", "native_rule", "packed_inputs", "vectors"]
