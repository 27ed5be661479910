"""The explicit edge-case vectors of the data ops (kinds ``int`` and ``hash``).

The counterpart of ``vector_design`` for the ops of ``docs/ops-integers.md``:
wrapping integer arithmetic, RISC-V division, unmasked shifts, bit counts, the
saturating float -> int and correctly rounded int -> float conversions, decimal <->
binary64, the canonical record, the stable sort and the hashes.  ``groups_for``
returns the groups of ``(inputs, flags, comment)`` of one op; golden outputs are
filled in later by ``reference.data``.

Everything is deterministic: the few pseudo-random choices come from
``vector_design.Rand`` seeded with the op id, and all arithmetic on float values is
exact integer or ``Fraction`` arithmetic (no host floats).  Byte-string slots are
the int their bytes spell big-endian (``ops.Slot``).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from ...ops import DEC_TEXT_BYTES, F64, FORMATS, HASH_MSG_BYTES, SORT_ITEMS, FloatFormat, Op
from ...reference.data import items_slot, text_slot
from .common import Group, Rand, pow2

__all__ = ["groups_for"]

# ----------------------------------------------------------------- helpers


def _group(name: str, comment: str, seen: set[tuple[int, ...]]) -> Group:
    """A group whose ``add`` skips inputs already present in the op (``seen``)."""
    g = _DedupGroup(name, comment)
    g.seen = seen
    return g


class _DedupGroup(Group):
    seen: set[tuple[int, ...]]

    def add(self, inputs: tuple[int, ...], flags: tuple[str, ...] = (), comment: str = "") -> None:
        if inputs in self.seen:
            return
        self.seen.add(inputs)
        super().add(inputs, flags, comment)


def _nonempty(groups: Iterable[Group]) -> list[Group]:
    return [g for g in groups if g.cases]


def _rand_bytes(r: Rand, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        out += r.next().to_bytes(8, "little")
    return bytes(out[:n])


# ------------------------------------------------------- exact float helpers


def _parts(fmt: FloatFormat, bits: int) -> tuple[int, int]:
    """(m, e) of a finite non-negative pattern: the value is ``m * 2^e``."""
    biased = (bits & fmt.exp_mask) >> fmt.frac_bits
    frac = bits & fmt.frac_mask
    qmin = fmt.emin - fmt.frac_bits
    if biased == 0:
        return frac, qmin
    return frac | (1 << fmt.frac_bits), qmin + biased - 1


def _value(fmt: FloatFormat, bits: int) -> Fraction:
    """The exact value of a finite pattern."""
    m, e = _parts(fmt, bits & ~fmt.sign_bit)
    v = Fraction(m) * Fraction(2) ** e
    return -v if bits & fmt.sign_bit else v


def _floor_mag(fmt: FloatFormat, v: Fraction) -> int:
    """Bits of the largest non-negative float <= ``v`` (``v >= 0``), at most max finite."""
    if v <= 0:
        return 0
    num, den = v.numerator, v.denominator
    e = num.bit_length() - den.bit_length()  # floor(log2 v) is e or e - 1
    if Fraction(2) ** e > v:
        e -= 1
    qmin = fmt.emin - fmt.frac_bits
    q = max(e - fmt.frac_bits, qmin)
    sig = (num << -q) // den if q < 0 else num // (den << q)
    bits = ((q - qmin) << fmt.frac_bits) + sig
    return min(bits, fmt.max_finite)


def _nearest(fmt: FloatFormat, v: Fraction) -> int:
    """Bits of ``v`` (finite, in range) rounded to nearest, ties to even."""
    neg = v < 0
    a = -v if neg else v
    lo = _floor_mag(fmt, a)
    if _value(fmt, lo) != a and lo < fmt.max_finite:
        hi = lo + 1
        d_lo, d_hi = a - _value(fmt, lo), _value(fmt, hi) - a
        if d_hi < d_lo or (d_hi == d_lo and hi & 1 == 0):
            lo = hi
    return (fmt.sign_bit if neg else 0) | lo


def _around(fmt: FloatFormat, c: Fraction) -> list[tuple[int, str]]:
    """The floats next to ``c`` (non-zero): the largest below, ``c`` itself if it is
    representable, the smallest above; each with how it relates to ``c``."""
    neg = c < 0
    mag = -c if neg else c
    f = _floor_mag(fmt, mag)
    exact = _value(fmt, f) == mag
    below_mag = f - 1 if exact else f  # magnitudes just under / over |c|
    above_mag = f + 1
    sign = fmt.sign_bit if neg else 0
    out: list[tuple[int, str]] = []
    # "below" in value: for a negative c, the larger magnitude
    out.append((sign | (above_mag if neg else below_mag), "largest float below"))
    if exact:
        out.append((sign | f, "exactly"))
    out.append((sign | (below_mag if neg else above_mag), "smallest float above"))
    return out


def _nans(fmt: FloatFormat) -> list[tuple[int, str]]:
    s, q, x = fmt.sign_bit, fmt.quiet_bit, fmt.exp_mask
    return [
        (fmt.canonical_nan, "canonical qNaN"),
        (s | fmt.canonical_nan, "-qNaN (x86 default NaN)"),
        (x | q | 0x5A5, "qNaN with payload"),
        (s | x | q | (q - 1), "-qNaN all-ones payload"),
        (x | 1, "sNaN payload 1"),
        (s | x | 3, "-sNaN payload 3"),
        (x | (q >> 1), "sNaN high payload"),
        (x | q | (q - 1), "qNaN all-ones payload"),
    ]


# ------------------------------------------------------------ integer ops


def _boundary(width: int) -> list[tuple[int, str]]:
    m = (1 << width) - 1
    top = 1 << (width - 1)
    return [
        (0, "0"),
        (1, "1"),
        (2, "2"),
        (m, "-1"),
        (m - 1, "-2"),
        (top, "MIN"),
        (top + 1, "MIN+1"),
        (top - 1, "MAX"),
        (top - 2, "MAX-1"),
        (m // 3, "0x55..55"),
        (m - m // 3, "0xaa..aa"),
        (7, "7"),
        (m - 6, "-7"),
    ]


def _int_groups(op: Op, width: int) -> list[Group]:
    seen: set[tuple[int, ...]] = set()
    r = Rand(op.id)
    m = (1 << width) - 1
    name = op.name
    if name in ("clz", "ctz", "popcnt"):
        return _bitcount_groups(op, width, r, seen)
    if name in ("shl", "shr_u", "shr_s"):
        return _shift_groups(op, width, r, seen)
    out: list[Group] = []
    table = _boundary(width)
    division = name in ("div_s", "rem_s", "div_u", "rem_u")
    g = _group("boundary", "every pair of boundary values (0, +-1, +-2, MIN, MIN+1, MAX, MAX-1, "
               "0x55.., 0xaa.., +-7)", seen)
    for a, na in table:
        for b, nb in table:
            flags = ("DivByZero",) if division and b == 0 else ()
            g.add((a, b), flags, f"{na}, {nb}")
    out.append(g)
    if division:
        out.append(_division_group(width, r, seen))
    if name == "mul":
        g = _group("wide_products", "products whose high half is non-zero: only the low half "
                   "is kept", seen)
        h = width // 2
        g.add(((1 << h), (1 << h)), (), f"2^{h} * 2^{h} = 2^{width}: wraps to 0")
        g.add(((1 << h) + 1, (1 << h) - 1), (), f"(2^{h}+1)(2^{h}-1) = 2^{width}-1")
        g.add(((1 << h) - 1, (1 << h) - 1), (), f"(2^{h}-1)^2: carries into the high half")
        g.add((m, m), (), "(2^N-1)^2 as unsigned: low half 1")
        g.add((0x10001, m // 0xFFFF if width == 32 else 0x0001000100010001), (),
              "repeating patterns")
        g.add(((1 << (width - 1)) | 1, 3), (), "MIN+1 times 3")
        out.append(g)
    if name in ("add", "sub"):
        g = _group("carries", "carry and borrow chains through every bit", seen)
        g.add((m, 1), (), "all ones + 1: the carry runs through every bit")
        g.add((0, 1), (), "0 - 1 borrows through every bit" if name == "sub" else "0 + 1")
        g.add((1 << (width - 1), 1 << (width - 1)), (), "MIN, MIN: only the carry out")
        g.add((m >> 1, m >> 1), (), "MAX, MAX")
        g.add((0xFFFF, 1), (), "carry out of the low 16 bits")
        g.add((0xFFFFFFFF & m, 1), (), "carry out of the low 32 bits")
        out.append(g)
    g = _group("random", "pseudo-random operands", seen)
    for _ in range(20):
        a = r.next() & m
        bits = 1 + r.below(width)
        b = r.next() & ((1 << bits) - 1)
        if r.below(2):
            b = (-b) & m
        g.add((a, b), ("DivByZero",) if division and b == 0 else (),
              f"random; 2nd operand of about {bits} bits")
    out.append(g)
    return _nonempty(out)


def _division_group(width: int, r: Rand, seen: set[tuple[int, ...]]) -> Group:
    m = (1 << width) - 1
    mn, mx = 1 << (width - 1), (1 << (width - 1)) - 1
    g = _group("division", "RISC-V edges (x / 0, MIN / -1), truncation and the signs of "
               "quotient and remainder", seen)

    def add(a: int, b: int, comment: str) -> None:
        a &= m
        b &= m
        g.add((a, b), ("DivByZero",) if b == 0 else (), comment)

    for a, b in ((7, 2), (-7, 2), (7, -2), (-7, -2), (100, 7), (-100, 7), (100, -7),
                 (-100, -7), (6, -3), (-6, 3), (-6, -3), (1, 2), (-1, 2), (1, -2), (-1, -2),
                 (2, 3), (-2, 3), (2, -3), (-2, -3)):
        add(a, b, f"{a} / {b}: truncation toward zero, remainder takes the dividend's sign")
    add(5, 0, "5 / 0: quotient all ones, remainder the dividend")
    add(0, 0, "0 / 0")
    add(-5, 0, "-5 / 0")
    add(mn, 0, "MIN / 0")
    add(mx, 0, "MAX / 0")
    add(m, 0, "all ones / 0")
    add(mn, -1, "MIN / -1: quotient MIN, remainder 0 (x86 traps)")
    add(mn + 1, -1, "(MIN+1) / -1 = MAX")
    add(mn, 1, "MIN / 1")
    add(mn, 2, "MIN / 2")
    add(mn, -2, "MIN / -2")
    add(mn, 3, "MIN / 3: inexact")
    add(mn, -3, "MIN / -3: inexact")
    add(mn, mn, "MIN / MIN")
    add(mn, mx, "MIN / MAX")
    add(mx, mn, "MAX / MIN: 0 signed, 0 unsigned")
    add(-1, mn, "-1 / MIN")
    add(1, mn, "1 / MIN")
    add(mx, -1, "MAX / -1")
    add(m, 2, "all ones / 2: -1 signed, MAX unsigned")
    add(m, m - 1, "2^N-1 / 2^N-2 unsigned")
    add(m - 1, m, "2^N-2 / 2^N-1 unsigned")
    add(m, 3, "all ones / 3")
    if width == 64:
        add(m, (1 << 32) + 1, "divisor above 32 bits")
        add((1 << 63) + 5, 1 << 33, "divisor a power of two above 32 bits")
        add(0xFEDCBA9876543210, 0x12345, "large quotient")
        add(0xFEDCBA9876543210, 0xFEDCBA987654321, "quotient 16, divisor 60 bits")
        add((1 << 62) + 1, (1 << 31) + 1, "quotient near 2^31")
    else:
        add(m, 65537, "2^32-1 = 65537 * 65535")
        add(0xFEDCBA98, 0x123, "large quotient")
        add(0x7FFFFFFF, 0x10000, "MAX / 2^16")
    for _ in range(8):
        b = r.next() & ((1 << (1 + r.below(width // 2))) - 1) or 3
        q = r.next() & ((1 << (width // 2 - 1)) - 1)
        sa, sb = (-1) ** r.below(2), (-1) ** r.below(2)
        add(sa * (q * b), sb * b, "random exact quotient (remainder 0)")
    return g


def _shift_counts(width: int) -> list[tuple[int, str]]:
    raw = [
        (0, "0"), (1, "1"), (2, "2"), (width // 2, f"{width // 2}"),
        (width - 1, "W-1"), (width, "W: every bit out"), (width + 1, "W+1 (masked: 1)"),
        (2 * width, "2W (masked: 0)"), (2 * width + 1, "2W+1"), (63, "63"), (64, "64 (masked: 0)"),
        (65, "65 (masked: 1)"), (127, "127"), (256, "256"),
        (1 << 32, "2^32 (32-bit truncation: 0)"), ((1 << 32) + 1, "2^32+1 (32-bit truncation: 1)"),
        ((1 << 32) + width - 1, "2^32+W-1"), (1 << 63, "2^63 (negative as i64)"),
        ((1 << 63) + 1, "2^63+1"), ((1 << 64) - 1, "2^64-1"),
    ]
    out: list[tuple[int, str]] = []
    have: set[int] = set()
    for c, n in raw:
        if c not in have:
            have.add(c)
            out.append((c, n))
    return out


def _shift_groups(op: Op, width: int, r: Rand, seen: set[tuple[int, ...]]) -> list[Group]:
    m = (1 << width) - 1
    top = 1 << (width - 1)
    values = [
        (0, "0"), (1, "1"), (m, "-1"), (top, "MIN"), (top - 1, "MAX"),
        (m // 3, "0x55..55"), (m - m // 3, "0xaa..aa"), (r.next() & m, "random"),
    ]
    g = _group("counts", "values x counts: small, W-1, W, beyond W (never masked), and counts "
               "that a 5-, 6-, 7- or 32-bit truncation of the count would change", seen)
    for c, nc in _shift_counts(width):
        for v, nv in values:
            g.add((v, c), (), f"{nv} by {nc}")
    every = _group("every_count", "1 and MIN shifted by every count 0..W", seen)
    for c in range(width + 1):
        every.add((1 if op.name == "shl" else top, c), (), f"by {c}")
    rnd = _group("random", "pseudo-random values and counts below the width", seen)
    for _ in range(16):
        v = r.next() & m
        rnd.add((v, r.below(width)), (), "random value, count < W")
    for _ in range(4):
        v = r.next() & m
        rnd.add((v, r.next()), (), "random value, random 64-bit count")
    return _nonempty([g, every, rnd])


def _bitcount_groups(op: Op, width: int, r: Rand, seen: set[tuple[int, ...]]) -> list[Group]:
    m = (1 << width) - 1
    sp = _group("specials", "0 (the width), 1, all ones, MIN and the boundary table", seen)
    sp.add((0,), (), f"0: gives {width} for clz and ctz, 0 for popcnt")
    for v, n in _boundary(width):
        sp.add((v,), (), n)
    p2 = _group("powers_of_two", "every power of two: one bit at each position", seen)
    for k in range(width):
        p2.add((1 << k,), (), f"2^{k}")
    masks = _group("masks", "runs of ones from the bottom and from the top", seen)
    for k in range(2, width):
        masks.add(((1 << k) - 1,), (), f"low {k} bits set")
    for k in range(1, width):
        masks.add((m ^ ((1 << k) - 1),), (), f"top {width - k} bits set")
    rnd = _group("random", "pseudo-random values of random bit length", seen)
    for _ in range(16):
        nbits = 1 + r.below(width)
        rnd.add((r.next() & ((1 << nbits) - 1),), (), f"random, at most {nbits} bits")
    return _nonempty([sp, p2, masks, rnd])


# --------------------------------------------------- saturating float -> int


def _sat_groups(op: Op) -> list[Group]:
    src = FORMATS[op.id.split(".")[0]]
    dst = op.name[3:-4]
    signed = dst[0] == "i"
    width = int(dst[1:])
    seen: set[tuple[int, ...]] = set()
    r = Rand(op.id)
    s = src.sign_bit
    one = pow2(src, 0)

    small = _group("small", "zeros, subnormals and values around 1: truncation toward zero",
                   seen)
    pairs: list[tuple[int, str, tuple[str, ...]]] = [
        (0, "+0", ("SignedZero",)), (s, "-0", ("SignedZero",)),
        (1, "min subnormal", ("Subnormal",)), (src.frac_mask, "max subnormal", ("Subnormal",)),
        (1 << src.frac_bits, "min normal", ()), (pow2(src, -1), "0.5", ()),
        (one - 1, "0.99999..: largest below 1", ()), (one, "1", ()), (one + 1, "1 + ulp", ()),
        (one | src.quiet_bit, "1.5", ()), (pow2(src, 1) - 1, "2 - ulp: truncates to 1", ()),
        (pow2(src, 1), "2", ()), (pow2(src, 1) | (src.quiet_bit >> 1), "2.5: truncates to 2", ()),
        (pow2(src, 1) | src.quiet_bit, "3", ()),
        (_nearest(src, Fraction(100)) | (1 << (src.frac_bits - 8)), "100.25", ()),
    ]
    for bits, name, flags in pairs:
        small.add((bits,), flags, name)
        if bits != 0:
            small.add((bits | s,), flags, "-" + name if name != "-0" else name)

    rng = _group("range", "the destination's MIN and MAX, the other destinations' boundaries "
                 "and the floats next to them, as exact or nearest floats", seen)
    lo = -(1 << (width - 1)) if signed else 0
    hi = (1 << (width - 1)) - 1 if signed else (1 << width) - 1
    crit: list[tuple[int, str]] = [(hi, f"{dst} MAX"), (hi + 1, f"{dst} MAX+1")]
    if signed:
        crit += [(lo, f"{dst} MIN"), (lo - 1, f"{dst} MIN-1")]
    else:
        crit += [(-1, "-1"), (-2, "-2")]
    for k in (31, 32, 53, 63, 64):
        crit += [(1 << k, f"2^{k}"), (-(1 << k), f"-2^{k}"),
                 ((1 << k) - 1, f"2^{k}-1"), (-(1 << k) - 1, f"-2^{k}-1")]
    for c, cname in crit:
        for bits, rel in _around(src, Fraction(c)):
            rng.add((bits,), (), f"{rel} {cname}")

    sp = _group("specials", "infinities, the largest finite values and NaNs (any NaN gives 0)",
                seen)
    sp.add((src.inf,), ("Infinity",), "+inf: saturates to MAX")
    sp.add((s | src.inf,), ("Infinity",), "-inf: saturates to MIN")
    sp.add((src.max_finite,), (), "max finite")
    sp.add((s | src.max_finite,), (), "-max finite")
    sp.add((pow2(src, 100),), (), "2^100")
    sp.add((pow2(src, 100, 1),), (), "-2^100")
    for bits, name in _nans(src):
        sp.add((bits,), ("NaN",), name)

    rnd = _group("random", "pseudo-random values of magnitude 2^-3 to 2^(N+3), either sign",
                 seen)
    for _ in range(20):
        e = r.below(width + 7) - 3
        bits = (r.below(2) << (src.width - 1)) | ((e + src.bias) << src.frac_bits) \
            | (r.next() & src.frac_mask)
        rnd.add((bits,), (), f"random, exponent {e}")
    return _nonempty([small, rng, sp, rnd])


# ----------------------------------------------------------- int -> float


def _int_to_float_groups(op: Op) -> list[Group]:
    src = op.id.split(".")[0]
    dst = FORMATS[op.name[3:]]
    p = dst.precision
    width = int(src[1:])
    signed = src[0] == "i"
    m = (1 << width) - 1
    lo = -(1 << (width - 1)) if signed else 0
    hi = (1 << (width - 1)) - 1 if signed else m
    seen: set[tuple[int, ...]] = set()
    r = Rand(op.id)

    def fits(v: int) -> bool:
        return lo <= v <= hi

    def add(g: Group, v: int, flags: tuple[str, ...], comment: str) -> None:
        if fits(v):
            g.add((v & m,), flags, comment)

    exact = _group("exact", "values the destination holds exactly: zero (+0 in every "
                   "direction), small integers, powers of two, p-bit values", seen)
    for v in (0, 1, -1, 2, -2, 3, 7, -7, 10, 100, 1000, 12345, -12345):
        add(exact, v, (), f"{v}")
    for k in range(0, width, 3):
        add(exact, 1 << k, (), f"2^{k}")
        add(exact, -(1 << k), (), f"-2^{k}")
    add(exact, (1 << p) - 1, (), f"2^{p}-1: all {p} significand bits")
    add(exact, -(1 << p) + 1, (), f"-(2^{p}-1)")
    add(exact, 1 << p, (), f"2^{p}")
    add(exact, (1 << p) + 2, (), f"2^{p}+2: exact")
    if p < width - int(signed):
        add(exact, ((1 << p) - 1) << (width - int(signed) - p), (),
            f"{p} ones at the top of the range")

    rng = _group("range", "the source's MIN, MAX and its other boundaries (u32 and 2^53 among "
                 "them), which round up to a power of two or are exact", seen)
    for v, name in ((lo, "MIN"), (lo + 1, "MIN+1"), (hi, "MAX"), (hi - 1, "MAX-1"),
                    ((1 << 31) - 1, "2^31-1"), (1 << 31, "2^31"), ((1 << 31) + 1, "2^31+1"),
                    (-(1 << 31), "-2^31"), (-(1 << 31) - 1, "-2^31-1"),
                    ((1 << 32) - 1, "2^32-1 (u32 MAX)"), (1 << 32, "2^32"),
                    ((1 << 32) + 1, "2^32+1"), ((1 << 53) - 1, "2^53-1"), (1 << 53, "2^53"),
                    (-(1 << 53), "-2^53"), ((1 << 63) - 1, "2^63-1"), (1 << 63, "2^63"),
                    ((1 << 63) + 1, "2^63+1"), ((1 << 64) - 2, "2^64-2"),
                    ((1 << 64) - 1, "2^64-1"), (-(1 << 63) + 1, "-2^63+1")):
        add(rng, v, (), name)

    ties = _group("ties", f"values exactly halfway between two {dst.name} values (p+1 "
                  "significant bits ending in 1), at every scale and both signs, and a single "
                  "sticky bit above or below the halfway point", seen)
    for s in (0, 1, 2, 8, 20, 30, 38):
        for base, what in (((1 << p) + 1, "tie, to even is down"),
                           ((1 << p) + 3, "tie, to even is up"),
                           ((1 << (p + 1)) - 1, "tie, rounds up to a power of two")):
            v = base << s
            if v.bit_length() > width:
                continue
            add(ties, v, ("Halfway",), f"({what}) * 2^{s}")
            add(ties, -v, ("Halfway",), f"-({what}) * 2^{s}")
            if s >= 1:
                add(ties, v + 1, ("NearHalfway",), f"({what}) * 2^{s} + 1: just above the tie")
                add(ties, v - 1, ("NearHalfway",), f"({what}) * 2^{s} - 1: just below the tie")
                add(ties, -v - 1, ("NearHalfway",), f"-({what}) * 2^{s} - 1")
                add(ties, -v + 1, ("NearHalfway",), f"-({what}) * 2^{s} + 1")
    add(ties, (1 << (p + 1)) + 2, ("Halfway",), f"2^{p + 1}+2: tie")
    for _ in range(8):  # random (p+1)-bit odd significands at the top of the range
        room = width - int(signed) - (p + 1)
        if room < 0:
            break
        sig = (1 << p) | (r.next() & ((1 << p) - 1)) | 1
        v = sig << r.below(room + 1)
        add(ties, v if not signed or r.below(2) == 0 else -v, ("Halfway",), "random tie")

    dbl = _group("double_rounding", "x = 2^k + 2^(k-24) +- small: rounding to f64 first "
                 "and then to f32 gives a different f32 than rounding once", seen)
    for k in (54, 55, 58, 60, 62, 63):
        for delta, what in ((1, "+1: above the f32 tie, but f64 rounds onto it"),
                            (-1, "-1: below the f32 tie"),
                            (1 << (k - 54), "+ a quarter f64 ulp")):
            v = (1 << k) + (1 << (k - 24)) + delta
            add(dbl, v, ("NearHalfway",), f"2^{k} + 2^{k - 24} {what}")
            add(dbl, -v, ("NearHalfway",), f"-(2^{k} + 2^{k - 24}) {what}")
    for k in (60, 63):
        v = (1 << k) + (3 << (k - 24)) - 1
        add(dbl, v, ("NearHalfway",), f"2^{k} + 3*2^{k - 24} - 1: just below a tie to odd")
        v = (1 << k) + (1 << (k - 53)) + 1
        add(dbl, v, ("NearHalfway",), f"2^{k} + 2^{k - 53} + 1: just above an f64 tie")

    rnd = _group("random", "pseudo-random integers of random bit length, either sign", seen)
    for _ in range(16):
        n = 1 + r.below(width)
        v = r.next() & ((1 << n) - 1)
        if signed and r.below(2):
            v = -v
        if fits(v):
            rnd.add((v & m,), (), f"random, {n} bits")
    return _nonempty([exact, rng, ties, dbl, rnd])


# --------------------------------------------------------------- f64.to_dec


def _dec_tie_values(r: Rand) -> list[tuple[int, str]]:
    """Binary64 values whose 17-digit rounding is an exact decimal tie: m / 2^j with m odd
    and m * 5^j of exactly 18 digits (the last one a 5)."""
    out = []
    for j in (2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 20, 22, 24, 25):
        five = 5**j
        lo = max(1, -(-(10**17) // five))
        hi = min((10**18 - 1) // five, (1 << 53) - 1)
        for _ in range(2):
            span = hi - lo + 1
            mm = lo + (r.next() % span)
            if mm % 2 == 0:
                mm = mm + 1 if mm < hi else mm - 1
            bits = _nearest(F64, Fraction(mm, 1 << j))
            assert _value(F64, bits) == Fraction(mm, 1 << j)
            out.append((bits, f"{mm}/2^{j}: 18 significant digits ending in 5, a tie"))
    return out


def _carry_values() -> list[tuple[int, str]]:
    """The largest binary64 below 10^k whenever its 17-digit rounding carries into the
    next power of ten (``1.0000000000000000e+k``): it lies within half a unit of the
    17th digit, ``5 * 10^(k - 18)``, of 10^k."""
    out = []
    for k in range(-307, 309):
        p10 = Fraction(10) ** k
        f = _floor_mag(F64, p10)
        if _value(F64, f) == p10:
            f -= 1
        if p10 - _value(F64, f) <= Fraction(5) * Fraction(10) ** (k - 18):
            out.append((f, f"largest below 1e{k}: rounds up to 1.0000000000000000e{k:+03d}"))
    return out


def _to_dec_groups(op: Op) -> list[Group]:
    seen: set[tuple[int, ...]] = set()
    r = Rand(op.id)
    s = F64.sign_bit

    sp = _group("specials", "zeros, infinities and NaNs (every NaN prints as nan)", seen)
    sp.add((0,), ("SignedZero",), "+0")
    sp.add((s,), ("SignedZero",), "-0: keeps its sign")
    sp.add((F64.inf,), ("Infinity",), "+inf")
    sp.add((s | F64.inf,), ("Infinity",), "-inf")
    for bits, name in _nans(F64):
        sp.add((bits,), ("NaN",), name)

    bd = _group("boundaries", "the ends of the range, small integers and simple fractions",
                seen)
    for bits, name, flags in (
        (1, "min subnormal", ("Subnormal",)),
        (F64.frac_mask, "max subnormal", ("Subnormal",)),
        (1 << F64.frac_bits, "min normal", ()),
        ((1 << F64.frac_bits) + 1, "min normal + ulp", ()),
        (F64.max_finite, "max finite", ()),
        (F64.max_finite - 1, "max finite - ulp", ()),
        (pow2(F64, 0), "1", ()),
        (pow2(F64, 0) + 1, "1 + ulp", ()),
        (pow2(F64, 0) - 1, "1 - ulp/2", ()),
        (pow2(F64, 1), "2", ()),
        (pow2(F64, -1), "0.5", ()),
        (pow2(F64, 53), "2^53", ()),
        (pow2(F64, 53) + 1, "2^53 + 2", ()),
        (pow2(F64, 63), "2^63", ()),
        (pow2(F64, 64), "2^64", ()),
        (pow2(F64, 1023), "2^1023", ()),
        (pow2(F64, -1022), "2^-1022", ()),
        (0x009C16C5C5253575, "largest below 1e-305: the carry example of the spec", ()),
    ):
        bd.add((bits,), flags, name)
        bd.add((bits | s,), flags, "-" + name)
    for num, den, name in ((1, 10, "0.1"), (2, 10, "0.2"), (3, 10, "0.3"), (1, 3, "1/3"),
                           (2, 3, "2/3"), (314159265358979, 10**14, "3.14159265358979"),
                           (123456789012345678, 1, "123456789012345678"),
                           (10**17 - 1, 1, "99999999999999999 (17 nines)"),
                           (10**16 + 1, 1, "10000000000000001")):
        bits = _nearest(F64, Fraction(num, den))
        bd.add((bits,), (), f"nearest to {name}")
        bd.add((bits | s,), (), f"nearest to -{name}")

    p10 = _group("powers_of_ten", "the two floats around 10^k for k = -320..300 and at "
                 "the two- to three-digit exponent switch (e+99 / e+100)", seen)
    ks = [*range(-300, 301, 50), -323, -320, -310, -308, -307, -100, -99, -1, 0, 1, 15, 16, 17,
          22, 23, 99, 100, 308]
    for k in ks:
        for bits, rel in _around(F64, Fraction(10) ** k):
            p10.add((bits,), ("Subnormal",) if bits < 1 << 52 else (), f"{rel} 1e{k}")

    sub = _group("subnormal_multiples", "k * 2^-1074 for small k and the subnormal "
                 "boundaries", seen)
    for k in (1, 2, 3, 4, 5, 7, 9, 10, 99, 100, 1000, 12345, 1 << 20, (1 << 51) + 1,
              (1 << 52) - 2):
        sub.add((k,), ("Subnormal",), f"{k} * 2^-1074")
        sub.add((k | s,), ("Subnormal",), f"-{k} * 2^-1074")

    ties = _group("ties", "values whose 17-digit rounding is an exact decimal tie (to even)",
                  seen)
    ties.add((_nearest(F64, Fraction(800000000000001, 8)),), ("Halfway",),
             "100000000000000.125: the spec's tie, gives 1.0000000000000012e+14")
    ties.add((_nearest(F64, Fraction((1 << 52) + 1, 4)),), ("Halfway",),
             "(2^52+1)/4 = 1125899906842624.25")
    ties.add((pow2(F64, -25),), ("Halfway",), "2^-25 = 2.98023223876953125e-08: 5^25 has 18 "
             "digits")
    ties.add((pow2(F64, -25, 1),), ("Halfway",), "-2^-25")
    for bits, name in _dec_tie_values(r):
        ties.add((bits,), ("Halfway",), name)
        if r.below(3) == 0:
            ties.add((bits | s,), ("Halfway",), "-" + name)

    carry = _group("carries", "17-digit rounding that carries into the exponent "
                   "(9.99...9|5.. -> 1.0000000000000000e(k+1)), and their neighbours", seen)
    for bits, name in _carry_values():
        carry.add((bits,), (), name)
        carry.add((bits - 1,), (), name.split(":")[0] + ", one ulp lower: no carry")
    for bits, name in ((0x44B52D02C7E14AF6, "nearest to 1e23 (below it)"),
                       (0x44B52D02C7E14AF7, "the float above 1e23")):
        carry.add((bits,), (), name)

    rnd = _group("random", "pseudo-random finite values over the whole range and near 1", seen)
    for _ in range(24):
        bits = r.next()
        if bits & F64.exp_mask == F64.exp_mask:
            bits ^= 1 << 62
        rnd.add((bits,), ("Subnormal",) if bits & F64.exp_mask == 0 else (), "random")
    for _ in range(8):
        e = r.below(41) - 20
        bits = _bits64(r.below(2), e, r.next() & F64.frac_mask)
        rnd.add((bits,), (), f"random, exponent {e}")
    return _nonempty([sp, bd, p10, sub, ties, carry, rnd])


def _bits64(sign: int, e: int, frac: int) -> int:
    return (sign << 63) | ((e + F64.bias) << F64.frac_bits) | frac


# ------------------------------------------------------------- f64.from_dec


def _sci(n: int, e10: int) -> tuple[str, int]:
    """``n * 10^e10`` (n > 0) as (significant digits without trailing zeros, decimal
    exponent of the first digit)."""
    digits = str(n)
    stripped = digits.rstrip("0")
    return stripped, e10 + len(digits) - 1


def _text(digits: str, exp10: int) -> str:
    """Scientific text ``d.ddd...e<exp10>`` of the digits."""
    if len(digits) == 1:
        return f"{digits}e{exp10}"
    return f"{digits[0]}.{digits[1:]}e{exp10}"


def _exact(m: int, e: int) -> tuple[str, int]:
    """The exact decimal digits of ``m * 2^e``."""
    if e >= 0:
        return _sci(m << e, 0)
    return _sci(m * 5**-e, e)


def _midpoint(bits: int) -> tuple[str, int]:
    """Exact digits of the midpoint between the finite positive ``bits`` and the next
    float up (``2^1024 - 2^970`` above max finite)."""
    m, e = _parts(F64, bits)
    return _exact(2 * m + 1, e - 1)


def _nudged_up(digits: str, exp10: int, at: int) -> str:
    """The decimal plus one unit in significant digit ``at`` (1-based, beyond the digits)."""
    assert at > len(digits)
    return _text(digits + "0" * (at - len(digits) - 1) + "1", exp10)


def _nudged_down(digits: str, exp10: int, at: int) -> str:
    """The decimal minus one unit in significant digit ``at``: ``...(d-1)999..9``."""
    assert at > len(digits)
    n = int(digits) * 10 ** (at - len(digits)) - 1
    s = str(n)
    return _text(s, exp10 - (at - len(s)))


def _from_dec_groups(op: Op) -> list[Group]:
    seen: set[tuple[int, ...]] = set()
    r = Rand(op.id)

    def grp(name: str, comment: str) -> Group:
        return _group(name, comment, seen)

    def add(g: Group, text: str | bytes, comment: str, flags: tuple[str, ...] = ()) -> None:
        raw = text.encode("latin-1") if isinstance(text, str) else text
        assert len(raw) <= DEC_TEXT_BYTES, (len(raw), comment)
        g.add((text_slot(raw),), flags, comment)

    hard = grp("hard", "classic hard inputs: boundaries that hung or misrounded real parsers "
               "and near-halfway decimals")
    for text, comment, flags in (
        ("2.2250738585072011e-308", "the largest subnormal (hung PHP)", ("Subnormal",)),
        ("2.2250738585072012e-308", "the smallest normal (hung Java, CVE-2010-4476)", ()),
        ("2.2250738585072014e-308", "the smallest normal, shortest text", ()),
        ("2.225073858507201e-308", "the largest subnormal, shortest text", ("Subnormal",)),
        ("9007199254740993", "2^53 + 1: a tie, to even (down)", ("Halfway",)),
        ("9007199254740995", "2^53 + 3: a tie, to even (up)", ("Halfway",)),
        ("9007199254740992.5", "2^53 + 0.5: below the midpoint", ()),
        ("9007199254740993.0000000000000001", "just above the 2^53 + 1 tie", ("NearHalfway",)),
        ("9007199254740992.9999999999999999", "just below the 2^53 + 1 tie", ("NearHalfway",)),
        ("1.7976931348623157e308", "max finite", ()),
        ("1.7976931348623158e308", "rounds to max finite (below the overflow threshold)", ()),
        ("1.7976931348623159e308", "above the overflow threshold: inf", ("Overflow",)),
        ("-1.7976931348623159e308", "-inf by overflow", ("Overflow",)),
        ("4.9406564584124654e-324", "min subnormal", ("Subnormal",)),
        ("5e-324", "min subnormal, shortest", ("Subnormal",)),
        ("2.4703282292062327e-324", "just below half the min subnormal: +0", ("Underflow",)),
        ("2.4703282292062328e-324", "just above half the min subnormal: min subnormal",
         ("Subnormal",)),
        ("-2.4703282292062327e-324", "-0 by underflow", ("Underflow",)),
        ("0.1", "0.1", ()),
        ("1e23", "1e23: exactly the midpoint of two floats, to even (down)", ("Halfway",)),
        ("8.988465674311579e307", "about 2^1023", ()),
        ("8.98846567431158e307", "2^1023, shortest", ()),
        ("7.0420557077594588e-308", "a normal value between 2^-1021 and 2^-1020, 17 digits", ()),
        ("2.225073858507201136057409796709131975934819546351645648e-308",
         "55 digits just below the midpoint of max subnormal and min normal: max subnormal",
         ("Subnormal",)),
        ("8.533e+68", "hard case (docs table)", ()),
        ("4.1006e-184", "hard case (docs table)", ()),
        ("9.998e+307", "hard case (docs table)", ()),
        ("9.9538452227e-280", "hard case (docs table)", ()),
        ("6.47660115e-260", "hard case (docs table)", ()),
        ("7.4e+47", "hard case (docs table)", ()),
        ("5.92e+48", "hard case (docs table)", ()),
        ("7.35e+66", "hard case (docs table)", ()),
        ("8.32116e+55", "hard case (docs table)", ()),
    ):
        add(hard, text, comment, flags)

    pax = grp("near_halfway", "8-digit decimals within 2^-23 to 2^-30 ulp of a binary64 "
              "midpoint (found by an exhaustive search over all 8-digit significands, "
              "Paxson's idea), and an 8-digit decimal that is an exact midpoint")
    for text, comment in _NEAR_HALFWAY:
        add(pax, text, comment, ("Halfway",) if "exact" in comment else ("NearHalfway",))

    mid = grp("midpoints", "exact decimal expansions of midpoints between neighbouring "
              "binary64 values (ties to even), and the same nudged one unit up or down "
              "hundreds of digits further")
    named = [
        (0, "0 and min subnormal (2^-1075, 752 digits)", "+0"),
        (pow2(F64, 0), "1 and 1+ulp", "1"),
        (pow2(F64, 0) + 1, "1+ulp and 1+2ulp", "1+2ulp"),
        (F64.frac_mask, "max subnormal and min normal", "min normal"),
        (1 << F64.frac_bits, "min normal and its successor (768 digits)", "min normal"),
        (F64.frac_mask - 1, "the two largest subnormals", "max subnormal"),
        (0x44B52D02C7E14AF6, "the two floats around 1e23 (1e23 itself)", "44b52d02c7e14af6"),
        (pow2(F64, 52), "2^52 and 2^52+1", "2^52"),
        (F64.max_finite, "max finite and 2^1024 (the overflow threshold)", "inf"),
    ]
    for bits, name, to in named:
        d, x = _midpoint(bits)
        over = bits == F64.max_finite
        add(mid, _text(d, x), f"midpoint of {name}: a tie, to {to}",
            ("Overflow",) if over else ("Halfway",))
        at = len(d) + 200 if len(d) + 210 < 1000 else len(d) + 1
        add(mid, _nudged_up(d, x, at), f"midpoint of {name} plus one unit of digit {at}: "
            "rounds up", ("NearHalfway",))
        add(mid, _nudged_down(d, x, at), f"midpoint of {name} minus one unit of digit {at}: "
            "rounds down", ("NearHalfway",))
    d, x = _midpoint(F64.max_finite)
    add(mid, d + "0" * (x + 1 - len(d)), "overflow threshold 2^1024 - 2^970 as a 309-digit "
        "integer: inf", ("Overflow",))
    add(mid, str(int(d + "0" * (x + 1 - len(d))) - 1), "overflow threshold minus 1: max "
        "finite", ())
    dm, xm = _exact(*_parts(F64, F64.max_finite))
    add(mid, dm + "0" * (xm + 1 - len(dm)), "max finite as a 309-digit integer", ())
    for _ in range(10):
        bits = r.next() & (F64.mask >> 1)
        if bits >= F64.max_finite:
            bits = F64.max_finite - 1
        d, x = _midpoint(bits)
        at = min(len(d) + 1 + r.below(200), 1000 - 10)
        if at <= len(d):
            at = len(d) + 1
        sign = "-" if r.below(2) else ""
        where = f"{sign}midpoint of {bits:016x} and its successor"
        add(mid, sign + _text(d, x), f"{where}: a tie, to even", ("Halfway",))
        add(mid, sign + _nudged_up(d, x, at), f"{where}, magnitude plus one unit of digit "
            f"{at}: rounds away from zero", ("NearHalfway",))
        add(mid, sign + _nudged_down(d, x, at), f"{where}, magnitude minus one unit of digit "
            f"{at}: rounds toward zero", ("NearHalfway",))

    long = grp("long_inputs", "800 and more significant digits: only the first 800 are "
               "kept, any later non-zero digit only sets the sticky bit")
    one_mid, one_x = _midpoint(pow2(F64, 0))
    for at in (800, 801, 802, 1000):
        add(long, _nudged_up(one_mid, one_x, at), f"midpoint 1 / 1+ulp plus a 1 at digit {at}: "
            "rounds up", ("NearHalfway",))
        add(long, _nudged_down(one_mid, one_x, at), f"midpoint 1 / 1+ulp, minus one unit at "
            f"digit {at}: rounds down", ("NearHalfway",))
    add(long, _text(one_mid + "0" * (1000 - len(one_mid)), one_x),
        "midpoint 1 / 1+ulp padded with zeros to 1000 digits: still a tie, to 1", ("Halfway",))
    add(long, _nudged_up(one_mid, one_x, len(one_mid) + 1), "midpoint 1 / 1+ulp with a "
        "final 1 appended: 1+ulp", ("NearHalfway",))
    zmid, zx = _midpoint(0)
    add(long, _nudged_up(zmid, zx, len(zmid) + 1), "2^-1075 (752 digits) with a final 1 "
        "appended: min subnormal", ("NearHalfway",))
    for at in (800, 801, 1000):
        add(long, _nudged_up(zmid, zx, at), f"2^-1075 plus a 1 at digit {at}: min subnormal",
            ("NearHalfway",))
    add(long, _text(zmid + "0" * (1000 - len(zmid)), zx),
        "2^-1075 padded with zeros to 1000 digits: a tie, to +0", ("Halfway",))
    nmid, nx = _midpoint(1 << F64.frac_bits)
    for at in (799, 800, 801, 802):
        add(long, _nudged_up(nmid, nx, at), f"midpoint above min normal ({len(nmid)} digits) "
            f"plus a 1 at digit {at}", ("NearHalfway",))
    for at in (800, 801):
        add(long, _nudged_down(nmid, nx, at), f"midpoint above min normal minus one unit at "
            f"digit {at}", ("NearHalfway",))
    add(long, "1" + "0" * 1000 + "e-1000", "1 followed by 1000 zeros, e-1000: 1", ())
    add(long, "0." + "0" * 1000 + "1e1001", "1000 leading zeros after the point, e1001: 1", ())
    add(long, "0" * 1000 + "1", "1000 leading zeros: 1", ())
    add(long, "1" + "0" * 1017 + "e-1017", "1024 bytes, no NUL terminator in the slot: 1", ())
    add(long, "0." + "0" * 318 + "1" * 690, "0.(318 zeros)111...: a subnormal, 690 digits",
        ("Subnormal",))
    for e10 in (-1222, -1207, -1000, -899, -600, -591, -500):
        digits = "".join(str(r.below(10)) for _ in range(900))
        digits = str(1 + r.below(9)) + digits[1:]
        add(long, f"{digits}e{e10}", f"900 random digits e{e10}", ())
    for e10 in (-1000, -1020):
        digits = "".join(str(r.below(10)) for _ in range(1000))
        digits = str(1 + r.below(9)) + digits[1:]
        add(long, f"{digits}e{e10}", f"1000 random digits e{e10}", ())

    rng = grp("range", "overflow, underflow and huge exponents")
    for text, comment, flags in (
        ("1e308", "1e308", ()),
        ("1e309", "1e309: inf", ("Overflow",)),
        ("-1e309", "-inf", ("Overflow",)),
        ("1.8e308", "inf", ("Overflow",)),
        ("1e-324", "below half the min subnormal: +0", ("Underflow",)),
        ("3e-324", "min subnormal", ("Subnormal",)),
        ("1e-323", "2 * min subnormal", ("Subnormal",)),
        ("7.4e-324", "1.5 * min subnormal is 7.41e-324: 7.4e-324 rounds down to 1",
         ("Subnormal",)),
        ("7.5e-324", "above 1.5 * min subnormal: 2", ("Subnormal",)),
        ("1e-320", "subnormal 1e-320", ("Subnormal",)),
        ("-1e-400", "-0", ("Underflow",)),
        ("1e-400", "+0", ("Underflow",)),
        ("1e99999999999999999999", "huge exponent: inf", ("Overflow",)),
        ("-1e99999999999999999999", "huge exponent: -inf", ("Overflow",)),
        ("1e-99999999999999999999", "huge negative exponent: +0", ("Underflow",)),
        ("0e999999999999999999999", "zero with a huge exponent: +0", ("SignedZero",)),
        ("-0e999999999999999999999", "-0 with a huge exponent", ("SignedZero",)),
        ("1e18446744073709551616", "exponent 2^64: a wrapping u64 parser sees 1e0", ("Overflow",)),
        ("1e-18446744073709551617", "exponent -(2^64+1): wrapping gives 1e-1", ("Underflow",)),
        ("1e4294967296", "exponent 2^32: a wrapping u32 parser sees 1e0", ("Overflow",)),
        ("1e4294967297", "exponent 2^32+1", ("Overflow",)),
        ("1e-4294967295", "exponent -(2^32-1)", ("Underflow",)),
        ("1e2147483648", "exponent 2^31: an int32 overflow goes negative", ("Overflow",)),
        ("1e" + "0" * 40 + "5", "exponent with 40 leading zeros: 1e5", ()),
        ("0.000001e6", "leading zeros offset by the exponent: 1", ()),
        ("100000e-5", "trailing zeros offset by the exponent: 1", ()),
        ("1" + "0" * 400 + "e-400", "1 and 400 zeros, e-400: 1", ()),
        ("0." + "0" * 400 + "1e401", "0.(400 zeros)1 e401: 1", ()),
        ("0." + "0" * 400 + "1e100000000000000000000", "tiny mantissa, huge exponent: inf",
         ("Overflow",)),
        ("123456789012345678901234567890", "30-digit integer", ()),
        ("18446744073709551615", "2^64 - 1", ()),
        ("18446744073709551616", "2^64", ()),
        ("9223372036854775807", "2^63 - 1", ()),
    ):
        add(rng, text, comment, flags)

    forms = grp("forms", "every form of the grammar: signs, optional parts, case of e, "
                "inf and nan")
    for text, comment, flags in (
        ("1", "digits", ()), ("-1.", "sign, digits and a point", ()), (".5", "point first", ()),
        ("-.5", "sign, point first", ()), ("+.5e1", "plus, point first, exponent", ()),
        ("1.5E-3", "upper-case E", ()), ("1.5e+3", "explicit + in the exponent", ()),
        ("1.e5", "point then exponent", ()), ("+00012.500e0005", "leading zeros everywhere", ()),
        ("0", "0", ("SignedZero",)), ("-0", "-0", ("SignedZero",)), ("+0", "+0", ("SignedZero",)),
        ("0.0", "0.0", ("SignedZero",)), ("-0.0e-5", "-0.0e-5", ("SignedZero",)),
        ("00000", "zeros", ("SignedZero",)), ("-.0", "-.0", ("SignedZero",)),
        ("INF", "INF", ("Infinity",)), ("inf", "inf", ("Infinity",)),
        ("-inf", "-inf", ("Infinity",)), ("+Inf", "+Inf", ("Infinity",)),
        ("iNf", "mixed case", ("Infinity",)), ("nan", "nan: canonical NaN", ("NaN",)),
        ("-nan", "-nan: canonical (positive) NaN", ("NaN",)), ("NaN", "NaN", ("NaN",)),
        ("+NAN", "+NAN", ("NaN",)), ("3.14159265358979323846", "pi to 21 digits", ()),
        ("2.718281828459045", "e", ()), ("0.3", "0.3", ()), ("0.2", "0.2", ()),
        ("4503599627370496.5", "2^52 + 0.5: a tie, to even", ("Halfway",)),
        ("4503599627370497.5", "2^52 + 1.5: a tie, to even", ("Halfway",)),
        ("1.5\x00999", "bytes after the first NUL are not part of the text: 1.5", ()),
    ):
        add(forms, text, comment, flags)

    bad = grp("syntax_errors", "texts outside the grammar: status 1, bits 0")
    for text, comment in (
        ("", "empty"), (".", "a point alone"), ("e5", "no digits before e"), ("1e", "no exponent digits"),
        ("1e+", "exponent sign without digits"), ("1e-", "exponent sign without digits"),
        (" 1", "leading space"), ("1 ", "trailing space"), ("\t1", "leading tab"),
        ("1\n", "trailing newline"), ("1_000", "underscore"), ("0x10", "hexadecimal"),
        ("0x1p3", "hex float"), ("infinity", "infinity"), ("-Infinity", "-Infinity"),
        ("nan(1)", "NaN with payload syntax"), ("nan1", "nan then a digit"), ("in", "in"),
        ("infs", "inf then a letter"), ("1,5", "comma as the decimal point"),
        ("1.2.3", "two points"), ("--1", "two signs"), ("+-1", "two signs"), ("+", "sign only"),
        ("-", "sign only"), ("+.", "sign and point"), (".e1", "point and exponent"),
        ("1e5.5", "fractional exponent"), ("1e5e5", "two exponents"), ("1..5", "two points"),
        ("1f", "C suffix"), ("1.5L", "C suffix"), ("1d5", "Fortran exponent"), ("e", "e alone"),
        ("E5", "E without digits"), ("0b1", "binary"), ("1e--1", "two exponent signs"),
        ("- 1", "space after the sign"), ("inf.", "inf with a point"), ("nane", "nan then e"),
        ("1e+-1", "two exponent signs"),
    ):
        add(bad, text, comment)
    for raw, comment in (
        (b"\xef\xbc\x91", "fullwidth digit one (UTF-8)"),
        (b"\xd9\xa1", "Arabic-Indic digit one (UTF-8)"),
        (b"1\xc2\xa0", "1 and a no-break space"),
        (b"\xe2\x88\x9e", "infinity sign (UTF-8)"),
        (b"1.5\xff", "1.5 and a 0xff byte"),
        (b"\x80", "a 0x80 byte"),
        (b"\xb9", "superscript one (Latin-1)"),
        (b"1\x7f", "1 and DEL"),
    ):
        add(bad, raw, comment)

    rnd = grp("random", "pseudo-random decimals: 1 to 25 digits, exponents -340..320, "
              "random signs and forms")
    for _ in range(32):
        n = 1 + r.below(25)
        digits = str(1 + r.below(9)) + "".join(str(r.below(10)) for _ in range(n - 1))
        e10 = r.below(661) - 340
        point = r.below(n + 1)
        sign = ("", "-", "+")[r.below(3)]
        mant = digits[:point] + "." + digits[point:] if point < n else digits
        exp = e10 - (n - point if point < n else 0)
        add(rnd, f"{sign}{mant}{'eE'[r.below(2)]}{exp}", f"random, {n} digits")
    return _nonempty([hard, pax, mid, long, rng, forms, bad, rnd])


#: Found offline by scanning every 8-digit significand d for d * 10^E (E fixed per
#: line) and measuring, exactly, the distance to the nearest midpoint of binary64.
_NEAR_HALFWAY: tuple[tuple[str, str], ...] = (
    ("9.9342952e-315", "subnormal, 2^-30.2 ulp above a midpoint"),
    ("3.4008628e-308", "2^-26.2 ulp below a midpoint"),
    ("2.5283313e-293", "2^-23.5 ulp below a midpoint"),
    ("5.3284071e-243", "2^-27.2 ulp below a midpoint"),
    ("1.2193445e-193", "2^-26.8 ulp above a midpoint"),
    ("9.7259821e-143", "2^-27.4 ulp above a midpoint"),
    ("2.2307291e-93", "2^-27.9 ulp below a midpoint"),
    ("1.3096780e-53", "2^-26.0 ulp below a midpoint"),
    ("2.3016425e-18", "2^-29.4 ulp above a midpoint"),
    ("1.0027008e27", "an exact midpoint: ties to even"),
    ("3.1754493e67", "2^-26.7 ulp above a midpoint"),
    ("4.3226037e107", "2^-26.7 ulp above a midpoint"),
    ("6.4423545e157", "2^-26.4 ulp below a midpoint"),
    ("3.3061637e207", "2^-26.8 ulp above a midpoint"),
    ("5.5153767e257", "2^-27.1 ulp below a midpoint"),
    ("5.1226599e297", "2^-26.9 ulp above a midpoint"),
    ("8.2290011e307", "2^-26.0 ulp above a midpoint"),
)


# ------------------------------------------------------------- rec.serialize


def _serialize_groups(op: Op) -> list[Group]:
    seen: set[tuple[int, ...]] = set()
    r = Rand(op.id)
    m64 = (1 << 64) - 1
    one_half = pow2(F64, 0) | F64.quiet_bit
    base = (1, 0x0203040506070809, 0xFFFFFFFE, one_half, 0xBEEF)

    z = _group("whole", "the zero record, all-ones slots (higher bits ignored) and the spec's "
               "example", seen)
    z.add((0, 0, 0, 0, 0), (), "zero record")
    z.add((m64,) * 5, ("NaN",), "every slot all ones: kind ff, delta -1, NaN price canonical, "
          "flags ffff")
    z.add(base, (), "docs example: kind 01, amount 0203040506070809, delta -2, price 1.5, "
          "flags beef")
    names = ("kind", "amount", "delta", "price", "flags")
    for i, n in enumerate(names):
        v = [0] * 5
        v[i] = m64
        z.add(tuple(v), ("NaN",) if n == "price" else (), f"{n} slot all ones, others 0")

    hi = _group("high_bits", "bits above a field's width are ignored", seen)
    for i, (n, bits) in enumerate((("kind", 8), ("delta", 32), ("flags", 16))):
        idx = (0, 2, 4)[i]
        for slot, what in ((m64 ^ ((1 << bits) - 1), "only bits above the field set"),
                           (1 << bits, f"bit {bits} set: the field is 0"),
                           ((1 << 63) | 1, "bit 63 and bit 0"),
                           (0xDEADBEEF00000000 | ((1 << bits) - 2), "garbage above, field "
                            "all ones but bit 0")):
            v = list(base)
            v[idx] = slot
            hi.add(tuple(v), (), f"{n}: {what}")
    v = list(base)
    v[2] = 0xFFFFFFFF80000000
    hi.add(tuple(v), (), "delta slot the sign extension of i32 MIN: delta MIN")

    fields = _group("fields", "boundary values of every field", seen)
    for k in (0, 1, 0x7F, 0x80, 0xFE, 0xFF):
        v = list(base)
        v[0] = k
        fields.add(tuple(v), (), f"kind {k:#x}")
    for a in (0, 1, 0xFF, 0x100, (1 << 63) - 1, 1 << 63, m64, 0x0102030405060708,
              0x8000000000000001):
        v = list(base)
        v[1] = a
        fields.add(tuple(v), (), f"amount {a:#x}")
    for d, dn in ((0, "0"), (1, "1"), (0xFFFFFFFF, "-1"), (0x80000000, "i32 MIN"),
                  (0x7FFFFFFF, "i32 MAX"), (0x80000001, "i32 MIN+1"), (0x01020304, "01020304")):
        v = list(base)
        v[2] = d
        fields.add(tuple(v), (), f"delta {dn}")
    for p, pn, fl in ((0, "+0", ("SignedZero",)), (F64.sign_bit, "-0: stays -0", ("SignedZero",)),
                      (pow2(F64, 0), "1", ()), (pow2(F64, 0, 1), "-1", ()),
                      (F64.inf, "+inf", ("Infinity",)),
                      (F64.sign_bit | F64.inf, "-inf", ("Infinity",)),
                      (F64.max_finite, "max finite", ()), (1, "min subnormal", ("Subnormal",)),
                      (F64.sign_bit | F64.frac_mask, "-max subnormal", ("Subnormal",)),
                      (0x0102030405060708, "a byte-order probe", ())):
        v = list(base)
        v[3] = p
        fields.add(tuple(v), fl, f"price {pn}")
    for f in (0, 1, 0xFF, 0x100, 0x8000, 0xFFFF, 0x1234):
        v = list(base)
        v[4] = f
        fields.add(tuple(v), (), f"flags {f:#06x}")

    nan = _group("nan_prices", "every NaN price is written as 7ff8000000000000", seen)
    more = [(F64.exp_mask | F64.frac_mask, "+NaN all-ones payload"),
            (F64.exp_mask | (1 << 51) | 0xDEAD, "qNaN payload dead")]
    for p, pn in [*_nans(F64), *more]:
        v = list(base)
        v[3] = p
        nan.add(tuple(v), ("NaN",), f"price {pn}")

    rnd = _group("random", "pseudo-random records: full 64-bit slots (higher bits ignored) "
                 "and in-range fields", seen)
    for _ in range(24):
        vec = tuple(r.next() for _ in range(5))
        rnd.add(vec, ("NaN",) if F64.is_nan(vec[3]) else (), "random slots")
    for _ in range(16):
        vec = (r.below(256), r.next(), r.next() & 0xFFFFFFFF, _bits64(r.below(2),
               r.below(61) - 30, r.next() & F64.frac_mask), r.below(1 << 16))
        rnd.add(vec, (), "random in-range record")
    return _nonempty([z, hi, fields, nan, rnd])


# ------------------------------------------------------------ u64.sort_stable


def _sort_groups(op: Op) -> list[Group]:
    seen: set[tuple[int, ...]] = set()
    r = Rand(op.id)
    n = SORT_ITEMS
    payload_mask = (1 << 48) - 1

    def item(key: int, payload: int) -> int:
        return (key << 48) | (payload & payload_mask)

    def add(g: Group, items: list[int], comment: str) -> None:
        assert len(items) == n
        g.add((items_slot(items),), (), comment)

    o = _group("orders", "sorted, reverse sorted, all keys equal, all items equal", seen)
    add(o, [item(i, i) for i in range(n)], "already sorted, distinct keys")
    add(o, [item(n - i, i) for i in range(n)], "reverse sorted, distinct keys")
    add(o, [item(0x1234, i) for i in range(n)], "all keys equal, payloads ascending")
    add(o, [item(0x1234, n - i) for i in range(n)], "all keys equal, payloads descending: "
        "must stay in input order")
    add(o, [0] * n, "all zero")
    add(o, [(1 << 64) - 1] * n, "all items ffffffffffffffff")
    add(o, [item(7 * i % 64, 0) for i in range(n)], "distinct keys, a permutation, payload 0")
    add(o, [item(0xFFFF - i, i) for i in range(n)], "reverse sorted at the top of the key range")
    add(o, [item(i // 2, n - i) for i in range(n)], "sorted keys in pairs, payloads descending")

    few = _group("few_keys", "two or three keys, many items per key with distinct payloads: "
                 "instability is visible", seen)
    add(few, [item(i % 2, n - i) for i in range(n)], "2 keys alternating, payloads descending")
    add(few, [item(1 - i % 2, i) for i in range(n)], "2 keys alternating, starting with the "
        "larger")
    add(few, [item((i % 3) * 0x5555, n - i) for i in range(n)], "3 keys cycling, payloads "
        "descending")
    add(few, [item(2 - i % 3, i) for i in range(n)], "3 keys cycling downwards")
    add(few, [item(0xFFFF if i % 2 else 0, n - i) for i in range(n)], "keys 0 and ffff "
        "alternating (max key)")
    add(few, [item(1 if i < n // 2 else 0, i) for i in range(n)], "two blocks, larger key "
        "first")
    add(few, [item(0x8000 if i % 2 else 0x7FFF, n - i) for i in range(n)], "keys 8000 and 7fff: "
        "a signed comparison would swap them")
    add(few, [item(0xFFFF if i % 4 == 0 else 0x0001, payload_mask - i) for i in range(n)],
        "max key every 4th item, payloads near 2^48")
    add(few, [item(5, payload_mask - i) if i % 2 else item(4, i) for i in range(n)],
        "key 4 payload small vs key 5 payload large: only the top 16 bits decide")
    add(few, [item(3, 0) if i == 0 else item(3, n - i) for i in range(n)],
        "one key, payload 0 first, then descending")

    stab = _group("stability", "equal keys across the 16-item runs and merges of the C "
                  "implementation; a heap sort or quicksort reorders them", seen)
    add(stab, [item(i % 16, n - i) for i in range(n)], "4 rising runs of 16, equal keys in "
        "different runs")
    add(stab, [item(15 - i % 16, n - i) for i in range(n)], "4 falling runs of 16")
    add(stab, [item(i % 15, n - i) for i in range(n)], "period 15: runs misaligned with 16")
    add(stab, [item(i % 17, n - i) for i in range(n)], "period 17")
    add(stab, [item(1 if 10 <= i < 26 else (0 if i < 10 else 2), n - i) for i in range(n)],
        "one key spanning the first two runs (items 10..25)")
    add(stab, [item(0 if i in (15, 16, 31, 32, 47, 48) else 1, n - i) for i in range(n)],
        "equal small keys at every run boundary")
    add(stab, [item(min(i, n - 1 - i) // 4, n - i) for i in range(n)], "organ pipe")
    add(stab, [item(i % 2 * 0xFFFF, (i * 0x9E3779B97F4A7C15) >> 16) for i in range(n)],
        "two keys, scrambled payloads")
    add(stab, [item(0, n - i) if i % 16 == 15 else item(1, n - i) for i in range(n)],
        "the smallest key last in each run")
    add(stab, [item(0 if i >= n - 8 else 1, n - i) for i in range(n)], "8 small keys at the "
        "end, payloads descending")

    rnd = _group("random", "pseudo-random items: keys from small sets (many ties) and "
                 "full-range keys", seen)
    for kinds in (2, 3, 4, 8, 16, 64, 1 << 16):
        for _ in range(2):
            keys = [r.below(kinds) for _ in range(n)]
            if kinds == 1 << 16:
                add(rnd, [item(k, r.next()) for k in keys], "random keys and payloads")
            else:
                spread = 0xFFFF // max(kinds - 1, 1)
                add(rnd, [item(k * spread, n - i) for i, k in enumerate(keys)],
                    f"{kinds} random keys, payloads descending")
    for _ in range(2):
        add(rnd, [r.next() for _ in range(n)], "random 64-bit items")
    return _nonempty([o, few, stab, rnd])


# -------------------------------------------------------------------- hashes

#: The NIST two-block messages of FIPS 180 (448 and 896 bits).
_ABC = b"abcdefghijklmnopqrstu"
_MSG448 = b"".join(_ABC[i : i + 4] for i in range(14))  # abcd bcde cdef ... nopq
_MSG896 = b"".join(_ABC[i : i + 8] for i in range(14))  # abcdefgh bcdefghi ... nopqrstu

#: Lengths around every padding boundary: SHA-256 (55/56/64), SHA-512 (111/112/128),
#: SHA3/Keccak-256 rate 136, BLAKE2b block 128, and two Keccak blocks (272).
_HASH_LENGTHS = (0, 1, 3, 55, 56, 57, 63, 64, 65, 111, 112, 113, 127, 128, 129, 135, 136, 137,
                 200, 255, 256, 271, 272, 273, 511, 512)


def _hash_groups(op: Op) -> list[Group]:
    seen: set[tuple[int, ...]] = set()
    r = Rand(op.id)
    n = HASH_MSG_BYTES

    def add(g: Group, msg: bytes, comment: str, tail: bytes = b"") -> None:
        assert len(msg) + len(tail) <= n
        g.add((len(msg), text_slot(msg + tail, n)), (), comment)

    kat = _group("known", "published messages: the empty string, \"abc\", the 448- and 896-bit "
                 "NIST messages, a pangram", seen)
    add(kat, b"", "empty message")
    add(kat, b"abc", "\"abc\" (FIPS 180 / FIPS 202 example)")
    add(kat, _MSG448, "the 448-bit NIST message")
    add(kat, _MSG896, "the 896-bit NIST message")
    add(kat, b"The quick brown fox jumps over the lazy dog", "the pangram")
    add(kat, b"\x00", "one zero byte")

    lens = _group("lengths", "every length around the padding and block boundaries of the five "
                  "hashes; zero, 0xff, counting and pseudo-random bytes", seen)
    for length in _HASH_LENGTHS:
        add(lens, bytes(length), f"{length} zero bytes")
        add(lens, b"\xff" * length, f"{length} bytes ff")
        add(lens, bytes(i & 0xFF for i in range(length)), f"{length} counting bytes 00 01 02 ..")
        add(lens, _rand_bytes(r, length), f"{length} pseudo-random bytes")

    gar = _group("garbage_tail", "bytes after the message in the 512-byte slot are not zero: "
                 "the probe must hash only the first `length` bytes", seen)
    for length in (0, 1, 3, 55, 56, 63, 64, 111, 112, 128, 135, 136, 200, 271, 272, 511):
        msg = b"abc"[:length] if length <= 3 else bytes(i & 0xFF for i in range(length))
        rest = n - length
        add(gar, msg, f"{length} bytes, then 0xff to the end", b"\xff" * rest)
        add(gar, msg, f"{length} bytes, then pseudo-random garbage", _rand_bytes(r, rest))
        add(gar, msg, f"{length} bytes, then 80 00 00 ..: looks like SHA-2 padding",
            b"\x80" + bytes(rest - 1) if rest else b"")
        add(gar, msg, f"{length} bytes, then 01 / 06: looks like Keccak or SHA-3 padding",
            (b"\x01\x06" * rest)[:rest])
    return _nonempty([kat, lens, gar])


# ---------------------------------------------------------------- dispatch


def groups_for(op: Op) -> list[Group]:
    """All explicit groups of one data op (kind ``int`` or ``hash``)."""
    if op.kind == "hash":
        return _hash_groups(op)
    if op.kind != "int":
        raise ValueError(f"{op.id} is a {op.kind} op, not a data op")
    if op.id == "f64.from_dec":
        return _from_dec_groups(op)
    if op.id == "f64.to_dec":
        return _to_dec_groups(op)
    if op.id == "rec.serialize":
        return _serialize_groups(op)
    if op.id == "u64.sort_stable":
        return _sort_groups(op)
    if op.name.endswith("_sat"):
        return _sat_groups(op)
    if op.name.startswith("to_f"):
        return _int_to_float_groups(op)
    if op.id[:4] in ("i32.", "i64."):
        return _int_groups(op, int(op.id[1:3]))
    raise ValueError(f"no explicit vector design for data op {op.id}")

