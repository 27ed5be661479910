"""The explicit edge-case vectors: which inputs each op is tested on, and why.

Each recipe returns groups of ``(inputs, flags, comment)``; expected outputs are
filled in later by both references (``reference.golden``).  Recipes are
deterministic: a private SplitMix64 stream with fixed seeds supplies the few random
choices, so ``teecert vectors generate`` reproduces every file byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from ...ops import FLOAT_OPS, FloatFormat, Op
from ..streams import mix as generator
from .common import Case, Group, Rand, float_bits, pow2


def specials(fmt: FloatFormat) -> list[tuple[int, str]]:
    """Named special and boundary values of the format."""
    s = fmt.sign_bit
    one = pow2(fmt, 0)
    q = fmt.quiet_bit
    return [
        (0, "+0"),
        (s, "-0"),
        (fmt.inf, "+inf"),
        (s | fmt.inf, "-inf"),
        (fmt.canonical_nan, "qNaN"),
        (s | fmt.canonical_nan, "-qNaN"),
        (fmt.exp_mask | q | 0x5A5, "qNaN payload"),
        (s | fmt.exp_mask | 0x3, "-sNaN payload"),
        (fmt.exp_mask | 1, "sNaN"),
        (one, "1"),
        (s | one, "-1"),
        (pow2(fmt, 1), "2"),
        (pow2(fmt, -1), "0.5"),
        (one + 1, "1+ulp"),
        (one - 1, "1-ulp/2"),
        (one | (fmt.quiet_bit), "1.5"),
        (pow2(fmt, 1) | (fmt.quiet_bit), "3"),
        (fmt.max_finite, "max"),
        (s | fmt.max_finite, "-max"),
        (1 << fmt.frac_bits, "min normal"),
        (s | (1 << fmt.frac_bits), "-min normal"),
        (1, "min subnormal"),
        (s | 1, "-min subnormal"),
        (fmt.frac_mask, "max subnormal"),
        (s | fmt.frac_mask, "-max subnormal"),
    ]


def _special_flags(name: str) -> tuple[str, ...]:
    if "NaN" in name:
        return ("NaN",)
    if "inf" in name:
        return ("Infinity",)
    if "subnormal" in name:
        return ("Subnormal",)
    if name in ("+0", "-0"):
        return ("SignedZero",)
    return ()


def _cross(fmt: FloatFormat, arity: int, values: list[tuple[int, str]]) -> Iterator[Case]:
    if arity == 1:
        for v, n in values:
            yield (v,), _special_flags(n), n
    elif arity == 2:
        for a, na in values:
            for b, nb in values:
                flags = tuple(sorted(set(_special_flags(na) + _special_flags(nb))))
                yield (a, b), flags, f"{na}, {nb}"
    else:
        for a, na in values:
            for b, nb in values:
                for c, nc in values:
                    flags = tuple(sorted(set(_special_flags(na) + _special_flags(nb) + _special_flags(nc))))
                    yield (a, b, c), flags, f"{na}, {nb}, {nc}"


def _random_normal(fmt: FloatFormat, r: Rand, emin: int, emax: int, sign: int | None = None) -> int:
    e = emin + r.below(emax - emin + 1)
    sg = r.below(2) if sign is None else sign
    return float_bits(fmt, sg, e + fmt.bias, r.next() & fmt.frac_mask)


def _odd_with_bits(r: Rand, nbits: int) -> int:
    """A random odd integer of exactly ``nbits`` bits."""
    if nbits <= 1:
        return 1
    return (1 << (nbits - 1)) | (r.next() & ((1 << (nbits - 1)) - 1)) | 1


def _near_midpoint(
    r: Rand, p: int, f: Callable[[int, int, int], int], tries_per_bit: int
) -> tuple[int, int]:
    """Search random p-bit operands for a result whose bits past the p-th are closest
    to 1000...: the rounding of such a result is decided very far down."""
    best: tuple[int, int, int] | None = None
    t = p + 24
    for _ in range(400 * tries_per_bit):
        a = (1 << (p - 1)) | (r.next() & ((1 << (p - 1)) - 1))
        b = (1 << (p - 1)) | (r.next() & ((1 << (p - 1)) - 1)) | 1
        q = f(a, b, t)
        extra = q.bit_length() - p  # bits below the p-th significant bit
        tail = q & ((1 << extra) - 1)
        dist = abs(tail - (1 << (extra - 1))) << (t + p - extra)  # normalize scale
        if best is None or dist < best[0]:
            best = (dist, a, b)
    assert best is not None
    return best[1], best[2]


def _int_to_bits(fmt: FloatFormat, sign: int, mant: int, exp2: int) -> int:
    """Bits of ``(-1)**sign * mant * 2**exp2`` where the value is exactly representable."""
    n = mant.bit_length()
    assert 0 < n <= fmt.precision
    e = exp2 + n - 1  # unbiased exponent of the leading bit
    frac = (mant << (fmt.precision - n)) & fmt.frac_mask
    return float_bits(fmt, sign, e + fmt.bias, frac)


def groups_for(op: Op) -> list[Group]:
    """All explicit groups of one float op."""
    if op.name not in FLOAT_OPS:
        return _extra_groups(op)
    fmt = op.fmt
    p = fmt.precision
    r = Rand(op.id)
    out: list[Group] = []

    sp = specials(fmt)
    g = Group("specials", "every pair (or triple) of special and boundary values")
    pool = sp if op.arity < 3 else [sp[i] for i in (0, 1, 2, 3, 4, 7, 9, 10, 17, 19, 21)]
    for case in _cross(fmt, op.arity, pool):
        g.add(*case)
    out.append(g)

    g = Group("nan", "NaN operands of every kind, in every position: the result is canonical")
    nans = [
        (fmt.canonical_nan, "qNaN"),
        (fmt.sign_bit | fmt.canonical_nan, "-qNaN"),
        (fmt.exp_mask | fmt.quiet_bit | (fmt.quiet_bit - 1), "qNaN all-ones payload"),
        (fmt.sign_bit | fmt.exp_mask | 1, "-sNaN payload 1"),
        (fmt.exp_mask | (fmt.quiet_bit >> 1), "sNaN high payload"),
    ]
    one = pow2(fmt, 0)
    for nv, nn in nans:
        for pos in range(op.arity):
            args = [one] * op.arity
            args[pos] = nv
            g.add(tuple(args), ("NaN",), f"{nn} as operand {pos + 1}")
    if op.name in ("add", "sub", "mul", "div", "fma", "mul_add_unfused"):
        inf, ninf, zero = fmt.inf, fmt.sign_bit | fmt.inf, 0
        invalid: dict[str, list[tuple[tuple[int, ...], str]]] = {
            "add": [((inf, ninf), "inf + -inf")],
            "sub": [((inf, inf), "inf - inf")],
            "mul": [((zero, inf), "0 * inf"), ((ninf, zero), "-inf * 0")],
            "div": [((zero, zero), "0 / 0"), ((inf, ninf), "inf / -inf")],
            "fma": [((zero, inf, fmt.canonical_nan), "fma(0, inf, NaN)"), ((inf, one, ninf), "fma(inf, 1, -inf)")],
            "mul_add_unfused": [((inf, zero, one), "inf * 0 + 1"), ((inf, one, ninf), "inf * 1 + -inf")],
        }
        for inv_args, cm in invalid[op.name]:
            g.add(inv_args, ("NaN", "Invalid"), cm)
    if op.name == "sqrt":
        g.add((pow2(fmt, 0, 1),), ("NaN", "Invalid"), "sqrt(-1)")
        g.add((fmt.sign_bit | 1,), ("NaN", "Invalid"), "sqrt(-min subnormal)")
    out.append(g)

    out.append(_subnormal_group(op, r))
    out.append(_rounding_group(op, r))
    out.append(_range_group(op, r))
    out.append(_cancellation_group(op, r))
    if op.arity == 3:
        out.append(_contraction_group(op, r))

    g = Group("random", "pseudo-random operands from the stream generator, seed 7")
    for vec in generator.vectors(op, 7, 0, 64):
        g.add(vec, (), "")
    out.append(g)
    del p
    return out


def _subnormal_group(op: Op, r: Rand) -> Group:
    fmt = op.fmt
    g = Group("subnormal", "subnormal inputs and results; FTZ or DAZ gets these wrong")
    one = pow2(fmt, 0)
    minn = 1 << fmt.frac_bits
    for _ in range(12):
        a = r.next() & fmt.frac_mask or 1
        b = r.next() & fmt.frac_mask or 1
        s = r.below(2)
        if op.arity == 1:
            g.add((a | (s << (fmt.width - 1)),), ("Subnormal",), "subnormal operand")
        elif op.arity == 2:
            if op.name in ("add", "sub"):
                g.add((a, b | (s << (fmt.width - 1))), ("Subnormal",), "subnormal operands")
                g.add((minn | (a & 0xFF), minn), ("Subnormal",), "normal difference of tiny normals")
            elif op.name == "mul":
                g.add((a, one), ("Subnormal",), "subnormal * 1")
                k = 1 + r.below(fmt.frac_bits + 2)
                g.add((_random_normal(fmt, r, fmt.emin, fmt.emin + 3), pow2(fmt, -k)), ("Subnormal",), "tiny normal * 2^-k")
            else:  # div
                g.add((a, one), ("Subnormal",), "subnormal / 1")
                k = 1 + r.below(fmt.frac_bits + 2)
                g.add((_random_normal(fmt, r, fmt.emin, fmt.emin + 3), pow2(fmt, k)), ("Subnormal",), "tiny normal / 2^k")
                g.add((_random_normal(fmt, r, fmt.emin, fmt.emin + 1), _random_normal(fmt, r, 1, 3)), ("Subnormal",), "tiny / small")
        else:
            k = 1 + r.below(fmt.frac_bits + 2)
            g.add((_random_normal(fmt, r, fmt.emin, fmt.emin + 2), pow2(fmt, -k), a), ("Subnormal",), "tiny product plus subnormal")
            g.add((a, one, b), ("Subnormal",), "subnormal * 1 + subnormal")
    return g


def _rounding_group(op: Op, r: Rand) -> Group:
    """Exact ties and near-ties: results exactly halfway between two neighbours, or one
    bit either side, where every rounding direction gives a different answer."""
    fmt = op.fmt
    p = fmt.precision
    g = Group("halfway", "results exactly halfway between neighbours, and one bit either side")
    for i in range(16):
        s = r.below(2)
        if op.name in ("add", "sub"):
            # a = 1.f (p bits); b = 2^-p * (1, or 1 +/- tiny): the sum lies at, above or
            # below the midpoint after a.
            a = _random_normal(fmt, r, 0, 0, sign=s)
            sub = op.name == "sub"
            bs = (1 - s) if sub else s
            mid = pow2(fmt, -p, bs)
            g.add((a, mid), ("Halfway",), "tie")
            g.add((a, mid + 1), ("NearHalfway",), "just above a tie")
            g.add((a, mid - 1), ("NearHalfway",), "just below a tie")
        elif op.name in ("mul", "fma", "mul_add_unfused"):
            # odd A (k bits) * odd B (p+1-k bits) needs exactly p+1 bits: a tie.
            k = 2 + r.below(p - 2)
            A = _odd_with_bits(r, k)
            B = _odd_with_bits(r, p + 1 - k)
            if (A * B).bit_length() != p + 1:
                B = _odd_with_bits(r, p + 2 - k)
            ea = r.below(7) - 3
            a = _int_to_bits(fmt, s, A, ea - k + 1)
            b = _int_to_bits(fmt, r.below(2), B, -B.bit_length() + 1)
            flag = "Halfway" if (A * B).bit_length() == p + 1 else "NearHalfway"
            if op.arity == 2:
                g.add((a, b), (flag,), "product needs p+1 bits")
            else:
                g.add((a, b, 0), (flag,), "product needs p+1 bits, + 0")
                g.add((a, b, pow2(fmt, ea - 2 * p, r.below(2))), ("NearHalfway",), "tie nudged by a tiny addend")
        elif op.name == "div":
            # No quotient of two binary floats is an exact tie, so search for one
            # within 2^-24 of an ulp of a midpoint (a hard case for double rounding).
            A, B = _near_midpoint(r, p, lambda a, b, t: (a << t) // b, 2)
            a = _int_to_bits(fmt, s, A, r.below(5) - 2 - p)
            b = _int_to_bits(fmt, r.below(2), B, 1 - p)
            g.add((a, b), ("NearHalfway",), "quotient near a midpoint")
        elif op.name == "sqrt":
            A, _ = _near_midpoint(r, p, lambda a, b, t: math.isqrt(a << (2 * t)), 1)
            e2 = 2 * (r.below(9) - 4 - p // 2)  # even: keeps the searched digits of the root
            g.add((_int_to_bits(fmt, 0, A, e2),), ("NearHalfway",), "root near a midpoint")
        del i
    return g


def _range_group(op: Op, r: Rand) -> Group:
    fmt = op.fmt
    p = fmt.precision
    g = Group("range", "overflow and underflow boundaries in every direction")
    mx, one = fmt.max_finite, pow2(fmt, 0)
    half_ulp_max = pow2(fmt, fmt.emax - p)
    minsub = 1
    for s in (0, 1):
        sg = s << (fmt.width - 1)
        if op.name == "add":
            g.add((mx | sg, mx | sg), ("Overflow",), "max + max")
            g.add((mx | sg, half_ulp_max | sg), ("Overflow", "Halfway"), "max + half an ulp: ties to even overflows")
            g.add((mx | sg, (half_ulp_max - 1) | sg), ("NearHalfway",), "max + just under half an ulp")
            g.add((minsub | sg, minsub | sg), ("Subnormal",), "min subnormal + min subnormal")
        elif op.name == "sub":
            g.add((mx | sg, mx | (sg ^ fmt.sign_bit)), ("Overflow",), "max - -max")
            g.add((mx | sg, half_ulp_max | sg ^ fmt.sign_bit), ("Overflow", "Halfway"), "max - -(half an ulp)")
            g.add((pow2(fmt, fmt.emin) | sg, minsub | sg), ("Subnormal",), "min normal - min subnormal")
        elif op.name == "mul":
            g.add((mx | sg, pow2(fmt, 1)), ("Overflow",), "max * 2")
            g.add((mx | sg, one + 1), ("Overflow",), "max * (1+ulp)")
            g.add((minsub | sg, pow2(fmt, -1)), ("Underflow", "Halfway"), "min subnormal * 0.5: a tie with zero")
            g.add((minsub | sg, pow2(fmt, -1) | fmt.quiet_bit), ("Underflow",), "min subnormal * 0.75")
            g.add((minsub | sg, pow2(fmt, -2)), ("Underflow",), "min subnormal * 0.25")
            g.add((pow2(fmt, fmt.emin) | sg, one - 1), ("Subnormal",), "min normal * (1-ulp/2): rounds to min normal or below")
        elif op.name == "div":
            g.add((mx | sg, pow2(fmt, -1)), ("Overflow",), "max / 0.5")
            g.add((one | sg, minsub), ("Overflow",), "1 / min subnormal")
            g.add((minsub | sg, pow2(fmt, 1)), ("Underflow", "Halfway"), "min subnormal / 2: a tie with zero")
            g.add((minsub | sg, pow2(fmt, 0) | fmt.quiet_bit), ("Underflow",), "min subnormal / 1.5")
            g.add((one | sg, 0), ("DivByZero",), "1 / +0")
            g.add((one | sg, fmt.sign_bit), ("DivByZero",), "1 / -0")
            g.add((pow2(fmt, fmt.emin) | sg, one + 1), ("Subnormal",), "min normal / (1+ulp)")
        elif op.name == "sqrt":
            if s == 0:
                g.add((mx,), (), "sqrt(max)")
                g.add((minsub,), ("Subnormal",), "sqrt(min subnormal)")
                g.add((pow2(fmt, fmt.emin),), (), "sqrt(min normal)")
                g.add((fmt.frac_mask,), ("Subnormal",), "sqrt(max subnormal)")
        else:  # fma, mul_add_unfused
            g.add((mx | sg, pow2(fmt, 1), fmt.sign_bit | mx | sg), ("Overflow",), "max * 2 - max: exact in fma, overflows unfused")
            g.add((mx | sg, one, half_ulp_max | sg), ("Overflow", "Halfway"), "max * 1 + half an ulp")
            g.add((minsub | sg, pow2(fmt, -1), 0), ("Underflow", "Halfway"), "min subnormal * 0.5 + 0")
            g.add((minsub | sg, pow2(fmt, -1), minsub), ("Underflow",), "min subnormal * 0.5 + min subnormal")
    return g


def _cancellation_group(op: Op, r: Rand) -> Group:
    fmt = op.fmt
    g = Group("cancellation", "exact zeros and their signs, massive cancellation")
    for _ in range(6):
        x = _random_normal(fmt, r, -10, 10)
        nx = x ^ fmt.sign_bit
        if op.name == "add":
            g.add((x, nx), ("SignedZero",), "x + -x")
            g.add((0, fmt.sign_bit), ("SignedZero",), "+0 + -0")
            g.add((fmt.sign_bit, fmt.sign_bit), ("SignedZero",), "-0 + -0")
        elif op.name == "sub":
            g.add((x, x), ("SignedZero",), "x - x")
            g.add((fmt.sign_bit, 0), ("SignedZero",), "-0 - +0")
            g.add((x, x + 1), (), "x - next(x)")
        elif op.name == "mul":
            g.add((x, fmt.sign_bit), ("SignedZero",), "x * -0")
            g.add((nx, 0), ("SignedZero",), "-x * +0")
        elif op.name == "div":
            g.add((fmt.sign_bit, x), ("SignedZero",), "-0 / x")
            g.add((x, fmt.inf | fmt.sign_bit), ("SignedZero",), "x / -inf")
        elif op.name == "sqrt":
            g.add((fmt.sign_bit,), ("SignedZero",), "sqrt(-0)")
            g.add((pow2(fmt, 2 * (r.below(20) - 10)),), (), "sqrt of an even power of two")
        else:
            y = _random_normal(fmt, r, -10, 10)
            g.add((x, y, 0), ("SignedZero",), "x * y + 0")
            g.add((x, 0, fmt.sign_bit), ("SignedZero",), "x * 0 + -0")
            g.add((fmt.sign_bit, y, 0), ("SignedZero",), "-0 * y + +0")
            g.add((x, pow2(fmt, 0), nx), ("SignedZero",), "x * 1 - x")
    return g


def _contraction_group(op: Op, r: Rand) -> Group:
    fmt = op.fmt
    g = Group("contraction", "a * b + c where fused, unfused and extended-precision evaluation differ")
    one = pow2(fmt, 0)
    if fmt.width == 64:
        g.add((0x3FF0000000000001, 0x3FEFFFFFFFFFFFFF, 0xBFF0000000000000), ("Contraction",),
              "DESIGN.md: 0 unfused, 3c9ffffffffffffe fused, 3ca0000000000000 under x87")
    # (1 + u)(1 - u/2) - 1 in any format: the same shape as the classic vector
    g.add((one + 1, one - 1, one | fmt.sign_bit), ("Contraction",), "(1+ulp)(1-ulp/2) - 1")
    for _ in range(8):
        a = _random_normal(fmt, r, -2, 2)
        b = _random_normal(fmt, r, -2, 2)
        # c = -round(a*b) to p bits, approximated by truncating the exact product
        A = (a & fmt.frac_mask) | (1 << fmt.frac_bits)
        B = (b & fmt.frac_mask) | (1 << fmt.frac_bits)
        P = A * B
        ea = ((a >> fmt.frac_bits) & ((1 << fmt.exp_bits) - 1)) - fmt.bias
        eb = ((b >> fmt.frac_bits) & ((1 << fmt.exp_bits) - 1)) - fmt.bias
        shift = P.bit_length() - fmt.precision
        Pt = P >> shift
        c_exp = ea + eb - 2 * fmt.frac_bits + shift
        sa = (a >> (fmt.width - 1)) ^ (b >> (fmt.width - 1))
        c = _int_to_bits(fmt, 1 - sa, Pt, c_exp)
        g.add((a, b, c), ("Contraction",), "a * b - trunc(a * b): the rounding error of the product")
    return g


# ------------------------------------------------ round to integral, conversions, min/max


def _extra_groups(op: Op) -> list[Group]:
    """Round-to-integral, minimum/maximum and the conversions between the formats:
    the specials and NaNs of the operands' format, the op's own hazards, then
    generated operands."""
    fmt = op.fmt
    r = Rand(op.id)
    out: list[Group] = []
    g = Group("specials", "every special and boundary value (every pair for minimum and maximum)")
    for case in _cross(fmt, op.arity, specials(fmt)):
        g.add(*case)
    out.append(g)
    g = Group("nan", "NaN operands of every kind, in every position: the result is canonical")
    one = pow2(fmt, 0)
    nans = [
        (fmt.canonical_nan, "qNaN"),
        (fmt.sign_bit | fmt.canonical_nan, "-qNaN"),
        (fmt.exp_mask | fmt.quiet_bit | (fmt.quiet_bit - 1), "qNaN all-ones payload"),
        (fmt.sign_bit | fmt.exp_mask | 1, "-sNaN payload 1"),
        (fmt.exp_mask | (fmt.quiet_bit >> 1), "sNaN high payload"),
    ]
    others = [(one, "1"), (0, "+0"), (fmt.sign_bit, "-0"), (fmt.sign_bit | fmt.inf, "-inf")]
    for nv, nn in nans:
        if op.arity == 1:
            g.add((nv,), ("NaN",), nn)
            continue
        for ov, on in others:
            g.add((nv, ov), ("NaN",), f"{nn}, {on}: a NaN wins (C fmin/fmax return {on})")
            g.add((ov, nv), ("NaN",), f"{on}, {nn}")
        g.add((nv, nans[0][0]), ("NaN",), f"{nn}, qNaN")
    out.append(g)
    if op.name == "round_integral":
        out.extend(_round_integral_groups(op, r))
    elif op.name in ("minimum", "maximum"):
        out.append(_min_max_group(op, r))
    elif op.result_fmt.width < fmt.width:
        out.extend(_narrowing_groups(op, r))
    else:
        out.append(_widening_group(op, r))
    g = Group("random", "pseudo-random operands from the stream generator, seed 7")
    for vec in generator.vectors(op, 7, 0, 64):
        g.add(vec, (), "")
    out.append(g)
    return out


def _round_integral_groups(op: Op, r: Rand) -> list[Group]:
    fmt = op.fmt
    p = fmt.precision
    ties = Group("halfway", "n + 1/2 (a tie: even, away and the directions all differ) and one ulp either side")
    for s in (0, 1):
        minus = "-" if s else ""
        for n in (0, 1, 2, 3, 4, 5, 6, 7, 100, 1001):
            half = _int_to_bits(fmt, s, 2 * n + 1, -1)
            ties.add((half,), ("Halfway",), f"{minus}{n}.5")
            ties.add((half - 1,), ("NearHalfway",), f"{minus}{n}.5 - ulp")
            ties.add((half + 1,), ("NearHalfway",), f"{minus}{n}.5 + ulp")
        # the last binade with a fraction bit: ulp 1/2, every value n or n + 1/2
        big_half = _int_to_bits(fmt, s, (1 << (p - 1)) - 1, -1)
        ties.add((big_half,), ("Halfway",), f"{minus}(2^{p - 2} - 1/2): the largest tie")
        ties.add((big_half - 2,), ("Halfway",), f"{minus}(2^{p - 2} - 3/2)")
        ties.add((_int_to_bits(fmt, s, (1 << (p - 1)) + 1, -1),), ("Halfway",), f"{minus}(2^{p - 2} + 1/2)")
        ties.add((_int_to_bits(fmt, s, (1 << (p - 1)) + 3, -1),), ("Halfway",), f"{minus}(2^{p - 2} + 3/2)")
        for k in range(2, 8):  # random ties and near-ties in the binades with a fraction
            e = r.below(p - 2)
            m = _odd_with_bits(r, e + 2)
            ties.add((_int_to_bits(fmt, s, m, -1),), ("Halfway",), "a random n + 1/2")
            x = _random_normal(fmt, r, -3, p - 2, sign=s)
            ties.add((x,), (), "a random value with a fraction")
            del k
    big = Group("integers", "values that are integers already, at and past 2^(p-1), and the largest")
    for s in (0, 1):
        sg = s << (fmt.width - 1)
        for k, cm in ((p - 1, f"2^{p - 1}: ulp 1"), (p, f"2^{p}: ulp 2"), (p + 1, f"2^{p + 1}")):
            v = pow2(fmt, k, s)
            big.add((v,), (), cm)
            big.add((v - 1,), (), f"{cm}, the value before it in magnitude")
            big.add((v + 1,), (), f"{cm}, the value after it in magnitude")
        big.add((pow2(fmt, p - 1, s) - 1,), ("NearHalfway",), f"2^{p - 1} - 1/2: the largest value with a fraction")
        big.add((fmt.max_finite | sg,), (), "max")
        big.add((_random_normal(fmt, r, p, fmt.emax, sign=s),), (), "a random large integer")
        big.add((pow2(fmt, 0, s),), (), "1")
    tiny = Group("small", "|x| < 1: zero or one in every direction, with the sign of the operand")
    for s in (0, 1):
        sg = s << (fmt.width - 1)
        tiny.add((1 | sg,), ("Subnormal",), "min subnormal")
        tiny.add((fmt.frac_mask | sg,), ("Subnormal",), "max subnormal")
        tiny.add(((1 << fmt.frac_bits) | sg,), (), "min normal")
        tiny.add((pow2(fmt, -2, s),), (), "0.25")
        tiny.add((pow2(fmt, -1, s) | (fmt.quiet_bit),), (), "0.75")
        tiny.add((pow2(fmt, 0, s) - 1,), ("NearHalfway",), "1 - ulp/2: the largest below 1")
        tiny.add((pow2(fmt, -1, s) - 1,), ("NearHalfway",), "0.5 - ulp/4")
        tiny.add((_random_normal(fmt, r, -20, -2, sign=s),), (), "a random small value")
    return [ties, big, tiny]


def _min_max_group(op: Op, r: Rand) -> Group:
    fmt = op.fmt
    g = Group("order", "signed zeros (-0 < +0), neighbours, infinities, subnormals, equal operands")
    s = fmt.sign_bit
    pairs = [
        ((0, s), "+0, -0"), ((s, 0), "-0, +0"), ((0, 0), "+0, +0"), ((s, s), "-0, -0"),
        ((1, s | 1), "min subnormal, -min subnormal"), ((s | 1, 0), "-min subnormal, +0"),
        ((1, s), "min subnormal, -0"), ((fmt.inf, s | fmt.inf), "+inf, -inf"),
        ((fmt.max_finite, fmt.inf), "max, +inf"), ((s | fmt.inf, s | fmt.max_finite), "-inf, -max"),
    ]
    for (a, b), cm in pairs:
        g.add((a, b), ("SignedZero",) if not (a | b) & ~s & fmt.mask else (), cm)
    for _ in range(12):
        x = _random_normal(fmt, r, -20, 20)
        g.add((x, x + 1), (), "x, next(x)")
        g.add((x ^ s, x), (), "-x, x")
        g.add((x, x), (), "x, x")
        y = _random_normal(fmt, r, -20, 20)
        g.add((x, y), (), "random")
    return g


def _narrowing_groups(op: Op, r: Rand) -> list[Group]:
    """binary64 -> binary32: ties between binary32 neighbours, the cases that two
    roundings (through an intermediate precision, or scaling a tiny value into the
    normal range first) get wrong, and the overflow and underflow boundaries."""
    src, dst = op.fmt, op.result_fmt
    shift = src.frac_bits - dst.frac_bits  # 29: binary64 bits below a binary32 ulp
    half = 1 << (shift - 1)

    def from_dst(bits32: int, low: int) -> int:
        """The binary64 value of binary32 ``bits32`` (normal) plus ``low`` binary64 ulps."""
        sgn = bits32 >> (dst.width - 1)
        e = ((bits32 >> dst.frac_bits) & 0xFF) - dst.bias + src.bias
        return float_bits(src, sgn, e, (bits32 & dst.frac_mask) << shift) + low

    ties = Group("halfway", "halfway between binary32 neighbours, and one binary64 ulp either side")
    dr = Group("double_rounding", "a first rounding to any precision between 24 and 53 bits lands on a tie")
    for i in range(10):
        s = r.below(2)
        b32 = float_bits(dst, s, dst.bias - 8 + r.below(17), r.next() & dst.frac_mask)
        for low, cm, fl in ((half, "tie", "Halfway"), (half - 1, "just below a tie", "NearHalfway"),
                            (half + 1, "just above a tie", "NearHalfway")):
            ties.add((from_dst(b32, low),), (fl,), cm)
        # below / above a tie by a little less than half an ulp of a k-bit intermediate
        k = 1 + r.below(shift - 2)  # intermediate precision 24 + k bits
        dr.add((from_dst(b32 | 1, half - 1),), ("DoubleRounding",), "odd, tie - 1 ulp: 53 -> 24+k -> 24 rounds up")
        dr.add((from_dst(b32 & ~1, half + 1),), ("DoubleRounding",), "even, tie + 1 ulp: 53 -> 24+k -> 24 rounds down")
        dr.add((from_dst(b32 | 1, half - (1 << (shift - 1 - k)) // 2),), ("DoubleRounding",),
               f"odd, just below a tie by a quarter ulp of a {24 + k}-bit intermediate")
        del i
    # Subnormal binary32 results: a conversion that scales into the normal range,
    # rounds to 24 bits, then scales back rounds twice.
    qmin32 = dst.emin - dst.frac_bits  # -149
    for _ in range(8):
        s = r.below(2)
        e = qmin32 + 2 + r.below(20)  # exponent of the binary32 quantum grid 2^qmin32
        k = r.next() % (1 << (e - qmin32))  # a subnormal (k + 1/2) * 2^qmin32
        for odd in (1, 0):
            kk = (k | 1) if odd else (k & ~1)
            if not kk:
                continue
            # the tie, and one a little off it on the side that the second rounding gets wrong
            tie = _int_to_bits(src, s, 2 * kk + 1, qmin32 - 1)
            dr.add((tie,), ("Subnormal", "Halfway"), "a tie between binary32 subnormals")
            m = ((2 * kk + 1) << 25) + (-1 if odd else 1)  # at most 47 bits
            dr.add((_int_to_bits(src, s, m, qmin32 - 26),), ("Subnormal", "DoubleRounding"),
                   "next to a subnormal tie: rounding to 24 bits first lands on it")
    rng = Group("range", "overflow at max + half an ulp, underflow to subnormals and to zero")
    mx = from_dst(dst.max_finite, 0)
    for s in (0, 1):
        sg = s << (src.width - 1)
        rng.add((mx | sg,), (), "binary32 max")
        rng.add(((mx + half) | sg,), ("Overflow", "Halfway"), "max + half an ulp: ties to even overflows")
        rng.add(((mx + half - 1) | sg,), ("NearHalfway",), "max + just under half an ulp")
        rng.add(((mx + 1) | sg,), (), "just above max")
        rng.add((pow2(src, dst.emax + 1, s),), ("Overflow",), "2^128")
        rng.add((src.max_finite | sg,), ("Overflow",), "binary64 max")
        rng.add((pow2(src, dst.emin, s),), (), "binary32 min normal")
        rng.add((pow2(src, dst.emin, s) - 1,), ("Subnormal",), "just below binary32 min normal")
        rng.add((pow2(src, qmin32, s),), ("Subnormal",), "binary32 min subnormal")
        rng.add((pow2(src, qmin32 - 1, s),), ("Underflow", "Halfway"), "half the min subnormal: a tie with zero")
        rng.add((pow2(src, qmin32 - 1, s) + 1,), ("Underflow",), "just above half the min subnormal")
        rng.add((pow2(src, qmin32 - 2, s),), ("Underflow",), "a quarter of the min subnormal")
        rng.add((1 | sg,), ("Underflow", "Subnormal"), "binary64 min subnormal")
        rng.add((float_bits(src, s, 0, src.frac_mask),), ("Underflow", "Subnormal"), "binary64 max subnormal")
    return [ties, dr, rng]


def _widening_group(op: Op, r: Rand) -> Group:
    """binary32 -> binary64 is exact: subnormal binary32 values become normal."""
    fmt = op.fmt
    g = Group("exact", "binary32 subnormals (normal in binary64), extremes, random values")
    for _ in range(16):
        s = r.below(2)
        g.add((float_bits(fmt, s, 0, r.next() & fmt.frac_mask or 1),), ("Subnormal",), "a subnormal")
        g.add((_random_normal(fmt, r, fmt.emin, fmt.emax),), (), "a random normal value")
    return g

