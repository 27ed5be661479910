"""Reference 1 of 2: exact integer arithmetic with a hand-written IEEE 754 rounding.

Every op of ``docs/ops.md`` is computed here from first principles, so that the
golden values do not rest on MPFR alone (``reference.mpfr`` is the other
reference; ``reference.golden`` insists that the two agree):

1. decode each bit pattern into a sign, an integer significand ``m`` and an
   exponent ``e`` (value ``(-1)^s * m * 2^e``), or a special (infinity, NaN);
2. compute the exact result: for add, sub, mul and fma it is an integer times a
   power of two, held exactly; for div and sqrt the quotient or root is computed
   to at least ``precision + 2`` bits and a *sticky* flag records whether the
   remainder was non-zero (``divmod``, ``math.isqrt``);
3. round that to the format's precision and exponent range in the op's
   direction (``_make_rounder``), with gradual underflow, overflow per direction
   and the signed-zero and invalid-operation rules of the consensus semantics.

Round to integral, the conversions between the formats and minimum/maximum reuse
the decoding and the rounder: round to integral rounds the integer significand at
the binary point (ties away from zero too), a conversion feeds the operand's exact
significand to the destination format's rounder, and minimum/maximum compare exact
integers (each value times ``2^-QMIN``).

Only Python integers are used.  Not ``fractions.Fraction``: every Fraction
operation normalizes by a gcd and allocates several objects, which is ~20x slower
and buys nothing when every denominator is a power of two.  Not gmpy2, mpmath or
the host's float arithmetic either (not even ``struct``): this reference must not
share a failure mode with the other one or with the host's FP environment
(rounding mode, FTZ/DAZ).

Speed matters (``teecert vectors generate`` pushes tens of millions of vectors
through here), so each ``(format, direction)`` gets its own closures with the
format constants bound as free variables, special values are tested with a single
exponent-field comparison before any decoding, and the rounding has no generic
dispatch.  ``benchmarks/bench_reference.py`` measures it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import starmap
from math import isqrt

from ..errors import MalformedInput
from ..ops import CATALOGUE, FLOAT_OPS, FloatFormat, Op

OpFunction = Callable[..., int]
#: ``rnd(sign, m, e, sticky)`` -> bit pattern of the rounding of
#: ``(-1)^sign * (m + d) * 2^e`` where ``d`` is 0 if ``sticky`` is false and lies
#: strictly between 0 and 1 otherwise.  Needs ``m > 0``.
Rounder = Callable[[int, int, int, bool], int]


def _make_rounder(fmt: FloatFormat, rounding: str) -> Rounder:
    """The IEEE 754 rounding of an exact (or exact-plus-sticky) magnitude.

    The result's quantum (its last significand bit weighs ``2^q``) is
    ``q = max(e + bitlen(m) - P, QMIN)`` where ``2^QMIN`` is the smallest
    subnormal: the clamp at ``QMIN`` is what makes underflow gradual.  The ``sh =
    q - e`` low bits of ``m`` decide the rounding (none when ``sh <= 0``: the
    value is exact and is only shifted into place).  When ``sticky`` is set the
    callers guarantee ``bitlen(m) >= P + 1``, so ``sh >= 1`` and ``sticky`` only
    ever breaks a tie or turns a zero remainder into a non-zero one.

    Encoding uses the classic identity ``bits = ((q - QMIN) << FB) + r`` for the
    rounded significand ``r``: for a subnormal (``q = QMIN``, ``r < 2^FB``) the
    exponent field stays 0; for a normal number the implicit bit of ``r`` adds
    one to the biased exponent, which is exactly the ``+1`` of ``biased = q -
    QMIN + 1``; and a carry out of rounding (``r`` reaching ``2^P``, or ``2^FB``
    from the largest subnormal) lands on the next binade's encoding with no
    special case.  A result whose encoding reaches the infinity pattern overflowed.
    """
    P = fmt.precision
    FB = fmt.frac_bits
    QMIN = fmt.emin - fmt.frac_bits
    INF = fmt.inf
    SB = fmt.width - 1
    pos_inf, neg_inf = INF, fmt.sign_bit | INF
    pos_max, neg_max = fmt.max_finite, fmt.sign_bit | fmt.max_finite
    # Overflow per direction (docs/ops.md): index by the sign of the result.
    overflow = {
        "rne": (pos_inf, neg_inf),
        "rtz": (pos_max, neg_max),
        "rup": (pos_inf, neg_max),
        "rdn": (pos_max, neg_inf),
    }[rounding]

    if rounding == "rne":

        def rnd(s: int, m: int, e: int, sticky: bool) -> int:
            q = e + m.bit_length() - P
            if q < QMIN:
                q = QMIN
            sh = q - e
            if sh > 0:
                r = m >> sh
                rem = m & ((1 << sh) - 1)
                half = 1 << (sh - 1)
                # Up when the discarded part exceeds half an ulp, or equals it
                # with something below (sticky) or with an odd kept part (ties
                # to even).  Down otherwise: rem < half with rem an integer means
                # rem + sticky fraction < half as well.
                if rem > half or (rem == half and (sticky or r & 1)):
                    r += 1
                bits = ((q - QMIN) << FB) + r
            else:
                bits = ((q - QMIN) << FB) + (m << -sh)
            if bits >= INF:
                return overflow[s]
            return (s << SB) | bits

        return rnd

    # Directed roundings: the magnitude is rounded away from zero exactly when the
    # direction points away from zero for this sign (rup for +, rdn for -) and
    # something non-zero was discarded; toward zero otherwise.
    away = {"rtz": (False, False), "rup": (True, False), "rdn": (False, True)}[rounding]

    def rnd_directed(s: int, m: int, e: int, sticky: bool) -> int:
        q = e + m.bit_length() - P
        if q < QMIN:
            q = QMIN
        sh = q - e
        if sh > 0:
            r = m >> sh
            if away[s] and (sticky or m & ((1 << sh) - 1)):
                r += 1
            bits = ((q - QMIN) << FB) + r
        else:
            bits = ((q - QMIN) << FB) + (m << -sh)
        if bits >= INF:
            return overflow[s]
        return (s << SB) | bits

    return rnd_directed


def _make_ops(fmt: FloatFormat, rounding: str) -> dict[str, OpFunction]:
    """The seven ops of one format and rounding direction, on bit patterns."""
    rnd = _make_rounder(fmt, rounding)
    P = fmt.precision
    FB = fmt.frac_bits
    FMASK = fmt.frac_mask
    HID = 1 << FB  # the implicit leading significand bit of normal numbers
    EALL = (1 << fmt.exp_bits) - 1  # exponent field of infinities and NaNs
    QMIN = fmt.emin - fmt.frac_bits  # exponent of the smallest subnormal (-1074, -149)
    E0 = QMIN - 1  # e = biased exponent + E0 for normal numbers
    SB = fmt.width - 1
    SIGN = fmt.sign_bit
    ABS = fmt.mask >> 1
    INF = fmt.inf
    CNAN = fmt.canonical_nan
    # An exact zero sum of operands of opposite sign: -0 in rdn, +0 otherwise.
    ZMIX = SIGN if rounding == "rdn" else 0
    # Beyond this exponent gap the smaller addend is below a quarter ulp of the
    # larger (whose significand then has P bits): see add().
    GAP = P + 3

    def add_special(a: int, b: int) -> int:
        aa = a & ABS
        ab = b & ABS
        if aa > INF or ab > INF:
            return CNAN
        if aa == INF:
            if ab == INF and a != b:
                return CNAN  # inf + (-inf)
            return a
        return b

    def add(a: int, b: int) -> int:
        xa = (a >> FB) & EALL
        xb = (b >> FB) & EALL
        if xa == EALL or xb == EALL:
            return add_special(a, b)
        if xa:
            ma = (a & FMASK) | HID
            ea = xa + E0
        else:
            ma = a & FMASK
            ea = QMIN
        if xb:
            mb = (b & FMASK) | HID
            eb = xb + E0
        else:
            mb = b & FMASK
            eb = QMIN
        sa = a >> SB
        sb = b >> SB
        if sa:
            ma = -ma
        if sb:
            mb = -mb
        # Exact sum as a signed integer times 2^e.  When the exponents are more
        # than GAP apart, the larger operand is normal (its exponent exceeds QMIN)
        # and the smaller one is below 2^-2 of the larger's quantum, so it lies
        # strictly inside the gap between the larger value and its neighbours'
        # midpoints; any stand-in of the same sign inside that gap rounds the same
        # in every direction.  ±1 at 2^(ea - GAP) is such a stand-in and keeps
        # the integers small (the exact sum would have up to ~2100 bits).
        # (A zero stand-in for a zero operand is exact as well.)
        d = ea - eb
        if d >= 0:
            if d > GAP:
                S = (ma << GAP) + ((mb > 0) - (mb < 0))
                e = ea - GAP
            else:
                S = (ma << d) + mb
                e = eb
        elif d < -GAP:
            S = (mb << GAP) + ((ma > 0) - (ma < 0))
            e = eb - GAP
        else:
            S = ma + (mb << -d)
            e = ea
        if S > 0:
            return rnd(0, S, e, False)
        if S < 0:
            return rnd(1, -S, e, False)
        if sa == sb:
            return a  # two zeros of the same sign keep it
        return ZMIX

    def sub(a: int, b: int) -> int:
        return add(a, b ^ SIGN)  # flipping a NaN's sign leaves a NaN

    def mul(a: int, b: int) -> int:
        xa = (a >> FB) & EALL
        xb = (b >> FB) & EALL
        s = (a ^ b) >> SB
        if xa == EALL or xb == EALL:
            aa = a & ABS
            ab = b & ABS
            if aa > INF or ab > INF or aa == 0 or ab == 0:
                return CNAN  # NaN operand, or 0 * inf
            return (s << SB) | INF
        if xa:
            ma = (a & FMASK) | HID
            ea = xa + E0
        else:
            ma = a & FMASK
            ea = QMIN
        if xb:
            mb = (b & FMASK) | HID
            eb = xb + E0
        else:
            mb = b & FMASK
            eb = QMIN
        m = ma * mb
        if not m:
            return s << SB  # an exact zero product has the xor of the signs
        return rnd(s, m, ea + eb, False)

    def div(a: int, b: int) -> int:
        xa = (a >> FB) & EALL
        xb = (b >> FB) & EALL
        s = (a ^ b) >> SB
        if xa == EALL or xb == EALL:
            aa = a & ABS
            ab = b & ABS
            if aa > INF or ab > INF or (aa == INF and ab == INF):
                return CNAN  # NaN operand, or inf / inf
            if aa == INF:
                return (s << SB) | INF
            return s << SB  # finite / inf
        if xa:
            ma = (a & FMASK) | HID
            ea = xa + E0
        else:
            ma = a & FMASK
            ea = QMIN
        if xb:
            mb = (b & FMASK) | HID
            eb = xb + E0
        else:
            mb = b & FMASK
            eb = QMIN
        if not mb:
            if not ma:
                return CNAN  # 0 / 0
            return (s << SB) | INF  # division by zero
        if not ma:
            return s << SB
        # Scale the dividend so that the quotient has at least P + 2 bits:
        # (ma << k) / mb >= 2^(la - 1 + k - lb) = 2^(P + 1).  For two normal
        # operands la = lb = P and k is the constant P + 2.
        if xa and xb:
            k = P + 2
        else:
            k = P + 2 + mb.bit_length() - ma.bit_length()
        qt, r = divmod(ma << k, mb)
        return rnd(s, qt, ea - eb - k, r != 0)

    def sqrt(a: int) -> int:
        xa = (a >> FB) & EALL
        if xa == EALL:
            if a == INF:
                return INF
            return CNAN  # NaN, or -inf
        if not a & ABS:
            return a  # sqrt(±0) = ±0
        if a >> SB:
            return CNAN  # negative non-zero
        if xa:
            ma = (a & FMASK) | HID
            ea = xa + E0
            k = P + 3  # bitlen(ma) = P: radicand gets 2P + 3 bits
        else:
            ma = a
            ea = QMIN
            k = 2 * P + 3 - ma.bit_length()
        # The radicand ma << k has >= 2P + 3 bits, so its integer root has
        # >= P + 2 bits; the exponent ea - k must be even to halve it exactly.
        if (ea - k) & 1:
            k += 1
        M = ma << k
        r = isqrt(M)
        return rnd(0, r, (ea - k) >> 1, r * r != M)

    def fma(a: int, b: int, c: int) -> int:
        xa = (a >> FB) & EALL
        xb = (b >> FB) & EALL
        xc = (c >> FB) & EALL
        sp = (a ^ b) >> SB  # sign of the exact product
        if xa == EALL or xb == EALL or xc == EALL:
            aa = a & ABS
            ab = b & ABS
            ac = c & ABS
            if aa > INF or ab > INF or ac > INF:
                return CNAN
            if aa == INF or ab == INF:
                if aa == 0 or ab == 0:
                    return CNAN  # fma(0, inf, c) and fma(inf, 0, c)
                if ac == INF and (c >> SB) != sp:
                    return CNAN  # product inf + opposite inf
                return (sp << SB) | INF
            return c  # finite product + inf
        if xa:
            ma = (a & FMASK) | HID
            ea = xa + E0
        else:
            ma = a & FMASK
            ea = QMIN
        if xb:
            mb = (b & FMASK) | HID
            eb = xb + E0
        else:
            mb = b & FMASK
            eb = QMIN
        if xc:
            mc = (c & FMASK) | HID
            ec = xc + E0
        else:
            mc = c & FMASK
            ec = QMIN
        mp = ma * mb
        sc = c >> SB
        if not mp:
            if not mc:
                # Exact zero: both terms zero.  Same signs keep it, else per direction.
                return (sp << SB) if sp == sc else ZMIX
            return c  # 0 + c is c exactly, and c is representable
        ep = ea + eb
        if not mc:
            return rnd(sp, mp, ep, False)
        if sp:
            mp = -mp
        if sc:
            mc = -mc
        # The exact sum, held exactly: the terms differ by at most ~3200 bits,
        # cheap for Python integers and never on the common path.
        if ep >= ec:
            S = (mp << (ep - ec)) + mc
            e = ec
        else:
            S = mp + (mc << (ec - ep))
            e = ep
        if S > 0:
            return rnd(0, S, e, False)
        if S < 0:
            return rnd(1, -S, e, False)
        return ZMIX  # exact cancellation of non-zero terms

    def mul_add_unfused(a: int, b: int, c: int) -> int:
        # Two roundings in the op's direction: the product is a format value.
        return add(mul(a, b), c)

    return {
        "add": add,
        "sub": sub,
        "mul": mul,
        "div": div,
        "sqrt": sqrt,
        "fma": fma,
        "mul_add_unfused": mul_add_unfused,
    }


def _make_round_integral(fmt: FloatFormat, rounding: str) -> OpFunction:
    """roundToIntegral of one direction (``INTEGRAL_ROUNDINGS``, ties-away included),
    on the integer significand: the discarded bits decide, as in ``_make_rounder``,
    and the rounded integer is encoded exactly (it has at most ``P`` bits)."""
    encode = _make_rounder(fmt, "rne")  # only ever given exact integers: no rounding
    FB = fmt.frac_bits
    FMASK = fmt.frac_mask
    HID = 1 << FB
    EALL = (1 << fmt.exp_bits) - 1
    QMIN = fmt.emin - fmt.frac_bits
    E0 = QMIN - 1
    SB = fmt.width - 1
    ABS = fmt.mask >> 1
    INF = fmt.inf
    CNAN = fmt.canonical_nan

    def round_integral(a: int) -> int:
        x = (a >> FB) & EALL
        if x == EALL:
            return CNAN if a & ABS > INF else a  # NaN canonical, infinities kept
        if not a & ABS:
            return a  # ±0
        if x:
            m = (a & FMASK) | HID
            e = x + E0
        else:
            m = a & FMASK
            e = QMIN
        if e >= 0:
            return a  # an integer already: every bit weighs at least 1
        s = a >> SB
        sh = -e
        q = m >> sh
        rem = m & ((1 << sh) - 1)
        half = 1 << (sh - 1)
        if rounding == "rne":
            up = rem > half or (rem == half and q & 1 == 1)
        elif rounding == "rna":
            up = rem >= half
        elif rounding == "rtz":
            up = False
        elif rounding == "rup":
            up = rem != 0 and not s
        else:  # rdn
            up = rem != 0 and bool(s)
        q += up
        if not q:
            return s << SB  # a zero result keeps the operand's sign
        return encode(s, q, 0, False)

    return round_integral


def _make_convert(src: FloatFormat, dst: FloatFormat, rounding: str) -> OpFunction:
    """convertFormat from ``src`` to ``dst``: the exact value of the operand rounded
    once to ``dst`` (exact when ``dst`` is the wider format)."""
    rnd = _make_rounder(dst, rounding or "rne")  # widening never rounds
    FB = src.frac_bits
    FMASK = src.frac_mask
    HID = 1 << FB
    EALL = (1 << src.exp_bits) - 1
    QMIN = src.emin - src.frac_bits
    E0 = QMIN - 1
    SB = src.width - 1
    DSB = dst.width - 1
    ABS = src.mask >> 1
    INF = src.inf

    def convert(a: int) -> int:
        x = (a >> FB) & EALL
        s = a >> SB
        if x == EALL:
            return dst.canonical_nan if a & ABS > INF else (s << DSB) | dst.inf
        if x:
            m = (a & FMASK) | HID
            e = x + E0
        else:
            m = a & FMASK
            e = QMIN
        if not m:
            return s << DSB
        return rnd(s, m, e, False)

    return convert


def _make_min_max(fmt: FloatFormat, maximum: bool) -> OpFunction:
    """IEEE 754-2019 minimum / maximum, decided on the operands' exact values.

    Each operand becomes a signed integer: its value times ``2^-QMIN`` (exact, since
    no value has bits below the smallest subnormal), infinities a number beyond every
    finite one.  ``reference.mpfr`` decides with MPFR's comparison instead."""
    FB = fmt.frac_bits
    FMASK = fmt.frac_mask
    HID = 1 << FB
    EALL = (1 << fmt.exp_bits) - 1
    SB = fmt.width - 1
    ABS = fmt.mask >> 1
    INF = fmt.inf
    CNAN = fmt.canonical_nan
    BEYOND = 1 << (2 * fmt.width + (1 << fmt.exp_bits))  # above max * 2^-QMIN

    def scaled(a: int) -> int:
        x = (a >> FB) & EALL
        if x == EALL:
            v = BEYOND
        elif x:
            v = ((a & FMASK) | HID) << (x - 1)
        else:
            v = a & FMASK
        return -v if a >> SB else v

    def min_max(a: int, b: int) -> int:
        if a & ABS > INF or b & ABS > INF:
            return CNAN  # NaN-propagating, and canonical like every NaN result
        va = scaled(a)
        vb = scaled(b)
        if va != vb:
            return a if (va > vb) == maximum else b
        if va == 0 and a != b:  # +0 and -0: -0 is the smaller
            return 0 if maximum else fmt.sign_bit
        return a  # equal values have equal bit patterns

    return min_max


def _extra_op(op: Op) -> OpFunction:
    """The functions of the ops of ``FLOAT_EXTRA_OPS`` and ``FORMAT_CONVERSIONS``."""
    if op.name == "round_integral":
        return _make_round_integral(op.fmt, op.rounding)
    if op.name in ("minimum", "maximum"):
        return _make_min_max(op.fmt, op.name == "maximum")
    return _make_convert(op.fmt, op.result_fmt, op.rounding)


def _build() -> dict[str, OpFunction]:
    table: dict[str, OpFunction] = {}
    built: dict[tuple[str, str], dict[str, OpFunction]] = {}
    for op_id, op in CATALOGUE.items():
        if op.kind != "float":  # libm functions have their own reference (libm.py)
            continue
        if op.name not in FLOAT_OPS:
            table[op_id] = _extra_op(op)
            continue
        key = (op.fmt.name, op.rounding)
        if key not in built:
            built[key] = _make_ops(op.fmt, op.rounding)
        table[op_id] = built[key][op.name]
    return table


_FUNCTIONS: dict[str, OpFunction] = _build()


def op_function(op_id: str) -> OpFunction:
    """The function computing ``op_id`` on bit patterns: ``f(*args) -> bits``.

    Arguments must be valid bit patterns of the op's format (unsigned, below
    ``2^width``); ``reference.golden`` checks that before calling."""
    try:
        return _FUNCTIONS[op_id]
    except (KeyError, TypeError):
        raise MalformedInput(f"rational reference: unknown op {op_id!r} (see docs/ops.md)") from None


def evaluate(op_id: str, args: Sequence[int]) -> int:
    """The result bit pattern of one op on one vector of input bit patterns."""
    return op_function(op_id)(*args)


def evaluate_many(op_id: str, args_list: Iterable[Sequence[int]]) -> list[int]:
    """The results of one op over many vectors (the function looked up once)."""
    return list(starmap(op_function(op_id), args_list))
