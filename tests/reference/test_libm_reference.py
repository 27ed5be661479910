"""Tests of the libm golden reference (``teecert.reference.libm``).

Expected values come from outside the code under test: decimal expansions of
constants rounded with exact rational arithmetic (``fractions``), Python's
correctly rounded int -> float conversion, the values C11 Annex F states for
special operands, and, for the hard cases, evaluations at 1000 bits by both gmpy2
and mpmath, which must agree before a case is accepted as hard.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import random
import struct
from collections.abc import Callable
from fractions import Fraction
from math import isqrt

import gmpy2
import mpmath
import pytest

from teecert.errors import MalformedInput, TeecertError
from teecert.ops import F32, F64, FloatFormat
from teecert.reference import libm

FORMATS = (F64, F32)
PI = Fraction("3.14159265358979323846264338327950288419716939937510582097494459230781640628620899")

# ---------------------------------------------------------------------------
# Helpers (independent of the module under test)
# ---------------------------------------------------------------------------


def bits(fmt: FloatFormat, x: float) -> int:
    if fmt.width == 64:
        return int(struct.unpack("<Q", struct.pack("<d", x))[0])
    b = int(struct.unpack("<I", struct.pack("<f", x))[0])
    assert value(fmt, b) == x or x != x, f"{x!r} is not a binary32 value"
    return b


def value(fmt: FloatFormat, b: int) -> float:
    if fmt.width == 64:
        return float(struct.unpack("<d", struct.pack("<Q", b))[0])
    return float(struct.unpack("<f", struct.pack("<I", b))[0])


def nearest(fmt: FloatFormat, v: Fraction) -> int:
    """Bits of the format value nearest to ``v`` (checked with exact rationals; a
    tie fails the test: constants used here are never ties)."""
    d = float(v)  # correctly rounded to binary64 by CPython
    c = bits(fmt, d) if fmt.width == 64 else int(struct.unpack("<I", struct.pack("<f", d))[0])
    cands = [b for b in (c - 1, c, c + 1) if 0 <= b & ~fmt.sign_bit < fmt.inf]
    dist = sorted((abs(Fraction(value(fmt, b)) - v), b) for b in cands)
    assert dist[0][0] < dist[1][0], "unexpected tie"
    return dist[0][1]


def ulp_at(fmt: FloatFormat, v: Fraction) -> Fraction:
    """The format's ulp in the binade of ``v`` (subnormal-aware, unbounded above)."""
    e = v.numerator.bit_length() - v.denominator.bit_length()
    if Fraction(2) ** e > abs(v):
        e -= 1
    q = max(e - (fmt.precision - 1), fmt.emin - (fmt.precision - 1))
    return Fraction(2) ** q


NAN = "nan"


def representable(fmt: FloatFormat, x: float | str) -> bool:
    if x == NAN or fmt.width == 64:
        return True
    x = float(x)
    try:
        return not math.isfinite(x) or float(struct.unpack("<f", struct.pack("<f", x))[0]) == x
    except OverflowError:
        return False


def expect(fmt: FloatFormat, x: float | str) -> int:
    return fmt.canonical_nan if x == NAN else bits(fmt, float(x))


# ---------------------------------------------------------------------------
# Known answers
# ---------------------------------------------------------------------------

# Decimal expansions (60 digits), from the mathematical literature.
E_DIGITS = "2.71828182845904523536028747135266249775724709369995957496697"
LN2_DIGITS = "0.69314718055994530941723212145817656807550013436025525412068"
SIN1_DIGITS = "0.841470984807896506652502321630298999622563060798371065672752"

KNOWN = [
    ("exp", 1.0, E_DIGITS, 0x4005BF0A8B145769, 0x402DF854),
    ("log", 2.0, LN2_DIGITS, 0x3FE62E42FEFA39EF, 0x3F317218),
    ("sin", 1.0, SIN1_DIGITS, 0x3FEAED548F090CEE, 0x3F576AA4),
]


@pytest.mark.parametrize("fn, x, digits, b64, b32", KNOWN)
def test_known_constants(fn: str, x: float, digits: str, b64: int, b32: int) -> None:
    # The digits agree with an independent evaluation ...
    mpmath.mp.dps = 70
    try:
        assert mpmath.nstr(getattr(mpmath, fn)(x), 55, strip_zeros=False)[:50] == digits[:50]
    finally:
        mpmath.mp.dps = 15
    exact = Fraction(digits)
    for fmt, want in ((F64, b64), (F32, b32)):
        # ... the expected bits are the correct rounding of the digits (the 60-digit
        # truncation error is far below half an ulp) ...
        assert nearest(fmt, exact) == want
        half = ulp_at(fmt, exact) / 2
        assert abs(Fraction(value(fmt, want)) - exact) < half - Fraction(10) ** -58
        # ... and both methods produce them.
        args = (bits(fmt, x),)
        assert libm.mpfr_value(fn, fmt, args) == want
        assert libm.mpmath_value(fn, fmt, args) == want
        assert libm.golden(fn, fmt, args) == want


def test_pi_multiples_rounded() -> None:
    for fmt in FORMATS:
        one = bits(fmt, 1.0)
        zero, minus_zero, inf = 0, fmt.sign_bit, fmt.inf
        cases = [
            ("atan2", (zero, fmt.sign_bit | one), PI),
            ("atan2", (minus_zero, minus_zero), -PI),
            ("atan2", (one, zero), PI / 2),
            ("atan2", (fmt.sign_bit | one, minus_zero), -PI / 2),
            ("atan2", (inf, inf), PI / 4),
            ("atan2", (fmt.sign_bit | inf, fmt.sign_bit | inf), -3 * PI / 4),
            ("atan2", (one, fmt.sign_bit | inf), PI),
            ("atan2", (fmt.sign_bit | one, fmt.sign_bit | inf), -PI),
            ("atan2", (inf, fmt.sign_bit | one), PI / 2),
            ("atan2", (fmt.sign_bit | inf, one), -PI / 2),
            ("atan2", (inf, fmt.sign_bit | inf), 3 * PI / 4),
            ("atan2", (fmt.sign_bit | inf, inf), -PI / 4),
            ("atan", (inf,), PI / 2),
            ("atan", (fmt.sign_bit | inf,), -PI / 2),
            ("acos", (zero,), PI / 2),
            ("acos", (fmt.sign_bit | one,), PI),
            ("asin", (one,), PI / 2),
        ]
        for fn, args, exact in cases:
            want = nearest(fmt, exact)
            assert libm.golden(fn, fmt, args) == want, (fmt.name, fn)


EXACT_F64: list[tuple[str, tuple[float, ...], float]] = [
    ("exp", (0.0,), 1.0), ("exp", (-0.0,), 1.0), ("log", (1.0,), 0.0), ("log2", (1.0,), 0.0),
    ("log10", (1.0,), 0.0), ("log2", (2.0**-1074,), -1074.0), ("log2", (2.0**1023,), 1023.0),
    ("log2", (0.125,), -3.0), ("log10", (1e22,), 22.0), ("log10", (1000.0,), 3.0),
    ("pow", (2.0, 10.0), 1024.0), ("pow", (4.0, 0.5), 2.0), ("pow", (16.0, 0.25), 2.0),
    ("pow", (9.0, 0.5), 3.0), ("pow", (-1.5, 3.0), -3.375), ("pow", (10.0, 22.0), 1e22),
    ("pow", (2.0, -1074.0), 2.0**-1074), ("pow", (0.5, 1074.0), 2.0**-1074),
    ("cbrt", (27.0,), 3.0), ("cbrt", (-27.0,), -3.0), ("cbrt", (2.0**-1074,), 2.0**-358),
    ("cbrt", (3.0**33,), 3.0**11), ("cbrt", (0.125,), 0.5),
    ("hypot", (3.0, 4.0), 5.0), ("hypot", (-5.0, 12.0), 13.0), ("hypot", (3e-320, 4e-320), 5e-320),
    ("sin", (0.0,), 0.0), ("tan", (-0.0,), -0.0), ("atan2", (0.0, 1.0), 0.0), ("acos", (1.0,), 0.0),
    ("cos", (0.0,), 1.0), ("cosh", (-0.0,), 1.0), ("expm1", (0.0,), 0.0), ("log1p", (-0.0,), -0.0),
]


def test_exact_results_f64() -> None:
    for fn, xs, want in EXACT_F64:
        args = tuple(bits(F64, x) for x in xs)
        assert libm.golden(fn, F64, args) == bits(F64, want), (fn, xs)


EXACT_F32: list[tuple[str, tuple[float, ...], float]] = [
    ("log2", (2.0**-149,), -149.0), ("log10", (1e10,), 10.0), ("pow", (2.0, 10.0), 1024.0),
    ("pow", (2.0, -149.0), 2.0**-149), ("cbrt", (2.0**-147,), 2.0**-49), ("cbrt", (-3.0**15,), -243.0),
    ("hypot", (3.0, 4.0), 5.0), ("exp", (0.0,), 1.0), ("pow", (16.0, 0.25), 2.0),
]


def test_exact_results_f32() -> None:
    for fn, xs, want in EXACT_F32:
        args = tuple(bits(F32, x) for x in xs)
        assert libm.golden(fn, F32, args) == bits(F32, want), (fn, xs)


def test_exact_midpoints_round_to_even() -> None:
    # pow(m, 2) for odd m with m^2 one bit too long: CPython's int -> float rounds
    # to nearest, ties to even, independently of the code under test.
    m = 2**27 - 1
    assert libm.golden("pow", F64, (bits(F64, float(m)), bits(F64, 2.0))) == bits(F64, float(m * m))
    assert float(m * m) == m * m - 1  # it was a tie, broken to even
    # binary32: 4097^2 = 2^24 + 8193 is a tie between 2^24 + 8192 and 2^24 + 8194.
    assert libm.golden("pow", F32, (bits(F32, 4097.0), bits(F32, 2.0))) == bits(F32, 16785408.0)
    # 2^-1075 is the midpoint between +0 and the smallest subnormal: ties to +0 / -0.
    assert libm.golden("pow", F64, (bits(F64, 2.0), bits(F64, -1075.0))) == 0
    assert libm.golden("pow", F64, (bits(F64, -2.0), bits(F64, -1075.0))) == F64.sign_bit
    assert libm.golden("pow", F32, (bits(F32, 2.0), bits(F32, -150.0))) == 0
    # A published exact hypot midpoint: sqrt(a^2 + b^2) is an integer with 54 bits.
    x, y = float.fromhex("0x1.000001cc784cbp+52"), float.fromhex("0x1.fdd67bceb35fp+52")
    s = int(x) ** 2 + int(y) ** 2
    r = isqrt(s)
    assert r * r == s and r.bit_length() == 54 and r & 1
    assert libm.golden("hypot", F64, (bits(F64, x), bits(F64, y))) == bits(F64, float(r))


def test_pow_square_near_midpoints() -> None:
    for fmt in FORMATS:
        for text in libm.POW_SQUARE_NEAR_MIDPOINT[fmt.name]:
            x = float.fromhex(text)
            xb = bits(fmt, x)
            m = Fraction(x) ** 2
            # m is exact and dyadic: measure its distance to the nearest midpoint.
            ulp = ulp_at(fmt, m)
            frac = (m / ulp) - math.floor(m / ulp)
            dist = abs(frac - Fraction(1, 2))
            assert 0 < dist <= 7 * Fraction(2) ** -(fmt.precision - 1)
            assert libm.golden("pow", fmt, (xb, bits(fmt, 2.0))) == nearest(fmt, m)


# ---------------------------------------------------------------------------
# Annex F special values
# ---------------------------------------------------------------------------

INF = math.inf
NZ = -0.0
# (function, arguments, the value C11 Annex F states)
SPECIALS: list[tuple[str, tuple[float | str, ...], float | str]] = [
    ("exp", (INF,), INF), ("exp", (-INF,), 0.0), ("exp", (NAN,), NAN), ("exp", (NZ,), 1.0),
    ("expm1", (INF,), INF), ("expm1", (-INF,), -1.0), ("expm1", (NZ,), NZ), ("expm1", (0.0,), 0.0),
    ("log", (0.0,), -INF), ("log", (NZ,), -INF), ("log", (-1.0,), NAN), ("log", (-INF,), NAN),
    ("log", (INF,), INF), ("log", (1.0,), 0.0), ("log", (NAN,), NAN),
    ("log2", (NZ,), -INF), ("log2", (-2.0,), NAN), ("log2", (INF,), INF), ("log2", (1.0,), 0.0),
    ("log10", (0.0,), -INF), ("log10", (-1e-30,), NAN), ("log10", (INF,), INF), ("log10", (1.0,), 0.0),
    ("log1p", (-1.0,), -INF), ("log1p", (-2.0,), NAN), ("log1p", (-INF,), NAN), ("log1p", (INF,), INF),
    ("log1p", (NZ,), NZ), ("log1p", (0.0,), 0.0),
    ("sin", (INF,), NAN), ("sin", (-INF,), NAN), ("sin", (NZ,), NZ), ("sin", (0.0,), 0.0),
    ("cos", (INF,), NAN), ("cos", (NZ,), 1.0), ("tan", (-INF,), NAN), ("tan", (NZ,), NZ),
    ("asin", (1.5,), NAN), ("asin", (-INF,), NAN), ("asin", (NZ,), NZ),
    ("acos", (-1.5,), NAN), ("acos", (1.0,), 0.0), ("acos", (INF,), NAN),
    ("atan", (NZ,), NZ), ("atan", (0.0,), 0.0), ("atan", (NAN,), NAN),
    ("sinh", (INF,), INF), ("sinh", (-INF,), -INF), ("sinh", (NZ,), NZ),
    ("cosh", (INF,), INF), ("cosh", (-INF,), INF), ("cosh", (NZ,), 1.0),
    ("tanh", (INF,), 1.0), ("tanh", (-INF,), -1.0), ("tanh", (NZ,), NZ),
    ("cbrt", (INF,), INF), ("cbrt", (-INF,), -INF), ("cbrt", (NZ,), NZ), ("cbrt", (NAN,), NAN),
    ("erf", (INF,), 1.0), ("erf", (-INF,), -1.0), ("erf", (NZ,), NZ), ("erf", (0.0,), 0.0),
    # pow (F.10.4.5)
    ("pow", (NAN, 0.0), 1.0), ("pow", (NAN, NZ), 1.0), ("pow", (INF, 0.0), 1.0), ("pow", (-3.0, NZ), 1.0),
    ("pow", (1.0, NAN), 1.0), ("pow", (1.0, INF), 1.0), ("pow", (1.0, -INF), 1.0),
    ("pow", (-1.0, INF), 1.0), ("pow", (-1.0, -INF), 1.0),
    ("pow", (0.0, -3.0), INF), ("pow", (NZ, -3.0), -INF), ("pow", (NZ, -2.0), INF),
    ("pow", (NZ, -0.5), INF), ("pow", (0.0, -INF), INF), ("pow", (NZ, -INF), INF),
    ("pow", (NZ, 3.0), NZ), ("pow", (0.0, 3.0), 0.0), ("pow", (NZ, 2.0), 0.0), ("pow", (NZ, 0.5), 0.0),
    ("pow", (NZ, INF), 0.0),
    ("pow", (0.5, -INF), INF), ("pow", (-0.5, -INF), INF), ("pow", (2.0, -INF), 0.0),
    ("pow", (-2.0, -INF), 0.0), ("pow", (0.5, INF), 0.0), ("pow", (-0.5, INF), 0.0),
    ("pow", (2.0, INF), INF), ("pow", (-2.0, INF), INF),
    ("pow", (-INF, -3.0), NZ), ("pow", (-INF, -2.0), 0.0), ("pow", (-INF, -0.5), 0.0),
    ("pow", (-INF, 3.0), -INF), ("pow", (-INF, 2.0), INF), ("pow", (-INF, 0.5), INF),
    ("pow", (INF, -1.0), 0.0), ("pow", (INF, 0.5), INF),
    ("pow", (-8.0, 1.0 / 3.0), NAN), ("pow", (-2.0, 0.5), NAN), ("pow", (-2.0, 3.0), -8.0),
    ("pow", (-2.0, 2.0), 4.0), ("pow", (NAN, 1.0), NAN), ("pow", (2.0, NAN), NAN),
    ("pow", (-1.0, NAN), NAN),
    # atan2 (F.10.1.4), the pi multiples are in test_pi_multiples_rounded
    ("atan2", (0.0, 0.0), 0.0), ("atan2", (NZ, 0.0), NZ), ("atan2", (0.0, 5.0), 0.0),
    ("atan2", (NZ, INF), NZ), ("atan2", (2.0, INF), 0.0), ("atan2", (-2.0, INF), NZ),
    ("atan2", (NAN, 1.0), NAN), ("atan2", (1.0, NAN), NAN),
    # hypot (F.10.4.3)
    ("hypot", (INF, NAN), INF), ("hypot", (NAN, -INF), INF), ("hypot", (-INF, 0.0), INF),
    ("hypot", (NZ, NZ), 0.0), ("hypot", (-3.0, NZ), 3.0), ("hypot", (NZ, -7.0), 7.0),
    ("hypot", (NAN, 1.0), NAN),
    # overflow, underflow, tiny arguments
    ("exp", (1000.0,), INF), ("exp", (-1000.0,), 0.0), ("expm1", (-1000.0,), -1.0),
    ("sinh", (-1000.0,), -INF), ("cosh", (-1000.0,), INF), ("tanh", (-1000.0,), -1.0),
    ("erf", (-30.0,), -1.0), ("pow", (10.0, 400.0), INF), ("pow", (-10.0, 401.0), -INF),
    ("pow", (-10.0, -401.0), NZ), ("pow", (10.0, -400.0), 0.0), ("hypot", (1.5e308, 1.5e308), INF),
]


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_annex_f_specials(fmt: FloatFormat) -> None:
    for fn, xs, want in SPECIALS:
        if not all(representable(fmt, x) for x in (*xs, want)):
            continue  # e.g. 1e308 or 1/3 in binary32
        args = tuple(expect(fmt, x) for x in xs)
        expected = expect(fmt, want)
        assert libm.mpfr_value(fn, fmt, args) == expected, ("mpfr", fmt.name, fn, xs)
        assert libm.mpmath_value(fn, fmt, args) == expected, ("mpmath", fmt.name, fn, xs)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_nan_inputs_give_canonical_nan(fmt: FloatFormat) -> None:
    payload_nans = [fmt.sign_bit | fmt.inf | fmt.quiet_bit | 5, fmt.inf | 1, fmt.canonical_nan]
    one = bits(fmt, 1.0)
    for n in payload_nans:
        for fn, arity in libm.FUNCTIONS.items():
            if arity == 1:
                assert libm.golden(fn, fmt, (n,)) == fmt.canonical_nan, fn
        assert libm.golden("atan2", fmt, (n, one)) == fmt.canonical_nan
        assert libm.golden("pow", fmt, (n, one)) == fmt.canonical_nan
        # IEEE 754-2019 9.2.1: these exceptions hold for quiet NaNs; a signalling
        # NaN operand signals invalid and gives NaN (6.2), as glibc does.
        quiet = bool(n & fmt.quiet_bit)
        assert libm.golden("pow", fmt, (n, 0)) == (one if quiet else fmt.canonical_nan)
        assert libm.golden("pow", fmt, (one, n)) == (one if quiet else fmt.canonical_nan)
        assert libm.golden("hypot", fmt, (fmt.sign_bit | fmt.inf, n)) == (
            fmt.inf if quiet else fmt.canonical_nan)


def test_tiny_arguments_keep_sign_and_round() -> None:
    for fmt in FORMATS:
        tiny = 1  # smallest subnormal
        for fn in ("sin", "tan", "asin", "atan", "sinh", "tanh", "expm1", "log1p", "cbrt"):
            for t in (tiny, tiny | fmt.sign_bit, 1 << fmt.frac_bits):
                want = t if fn != "cbrt" else None
                got = libm.golden(fn, fmt, (t,))
                if want is not None:
                    assert got == want, (fmt.name, fn, hex(t))
                assert got & fmt.sign_bit == t & fmt.sign_bit
        for fn in ("cos", "cosh", "exp"):
            assert libm.golden(fn, fmt, (tiny | fmt.sign_bit,)) == bits(fmt, 1.0)
        # erf(x) ~ 2x/sqrt(pi) ~ 1.128x: the smallest subnormal rounds to itself
        assert libm.golden("erf", fmt, (tiny,)) == tiny
        assert libm.golden("erf", fmt, (3,)) == 3  # 3.38 -> 3
        assert libm.golden("erf", fmt, (fmt.sign_bit | 4,)) == fmt.sign_bit | 5  # 4.51 -> 5
        # underflow keeps the sign of the exact result
        assert libm.golden("atan2", fmt, (fmt.sign_bit | 1, fmt.max_finite)) == fmt.sign_bit


def test_overflow_threshold_of_exp() -> None:
    # The largest x with exp(x) below the overflow threshold (2 - 2^-53) 2^1023:
    # its successor overflows.  Threshold in closed form: ln((2 - 2^-53) 2^1023).
    mpmath.mp.prec = 300
    try:
        t = mpmath.log((2 - mpmath.mpf(2) ** -53) * mpmath.mpf(2) ** 1023)
        x = float(mpmath.mpf(t))  # nearest double
        b = bits(F64, x)
        if Fraction(x) > Fraction(mpmath.nstr(t, 80)):
            b -= 1
    finally:
        mpmath.mp.prec = 53
    assert libm.golden("exp", F64, (b,)) < F64.inf  # finite: below the threshold
    assert libm.golden("exp", F64, (b + 1,)) == F64.inf


# ---------------------------------------------------------------------------
# The two methods agree
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("fn", sorted(libm.FUNCTIONS))
def test_methods_agree_on_hard_cases(fn: str, fmt: FloatFormat) -> None:
    cases = libm.hard_cases(fn, fmt)
    assert len(cases) >= 40
    assert cases == libm.hard_cases(fn, fmt)  # deterministic
    for args in cases:
        assert len(args) == libm.FUNCTIONS[fn]
        libm.golden(fn, fmt, args)  # raises on disagreement


def _random_inputs(fmt: FloatFormat, arity: int, n: int, seed: str) -> list[tuple[int, ...]]:
    """Half raw random bit patterns, half random values of moderate magnitude."""
    r = random.Random(seed)
    out = []
    for i in range(n):
        vec = []
        for _ in range(arity):
            if i % 2:
                vec.append(r.getrandbits(fmt.width))
            else:
                x = r.choice((-1.0, 1.0)) * (1 + r.random()) * 2.0 ** r.randint(-40, 12)
                if fmt.width == 32:
                    x = float(struct.unpack("<f", struct.pack("<f", x))[0])
                vec.append(bits(fmt, x))
        out.append(tuple(vec))
    return out


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("fn", sorted(libm.FUNCTIONS))
def test_methods_agree_on_random_inputs(fn: str, fmt: FloatFormat) -> None:
    vecs = _random_inputs(fmt, libm.FUNCTIONS[fn], 3000, seed=f"{fn}-{fmt.name}")
    got = libm.golden_many(fn, fmt, vecs)
    assert len(got) == len(vecs)
    assert all(0 <= g <= fmt.mask for g in got)


def test_mpmath_accuracy_assumption() -> None:
    """The enclosure assumes mpmath is within 2^16 units of the working precision;
    measure it (working precision vs four times it) on assorted arguments."""
    ctx = libm._MP  # the module's own context: its precision is set before every use
    r = random.Random(5)
    funcs: dict[str, Callable[..., object]] = {
        "exp": ctx.exp, "expm1": ctx.expm1, "log": ctx.ln, "log1p": ctx.log1p,
        "log10": ctx.log10, "sin": ctx.sin, "cos": ctx.cos, "tan": ctx.tan,
        "asin": ctx.asin, "acos": ctx.acos, "atan": ctx.atan, "sinh": ctx.sinh,
        "cosh": ctx.cosh, "tanh": ctx.tanh, "cbrt": ctx.cbrt, "erf": ctx.erf,
        "pow": ctx.power, "atan2": ctx.atan2, "hypot": ctx.hypot,
    }
    args_for: dict[str, list[tuple[float, ...]]] = {}
    for fn in funcs:
        lst: list[tuple[float, ...]] = []
        for _ in range(40):
            x = (1 + r.random()) * 2.0 ** r.randint(-30, 8)
            if fn in ("asin", "acos"):
                x = min(x, 1 - 2.0**-40) * r.choice((-1, 1))
            elif fn in ("sin", "cos", "tan", "atan", "erf", "tanh", "sinh", "cosh", "expm1", "exp"):
                x *= r.choice((-1, 1))
            lst.append((x, r.uniform(-30, 30)) if fn in ("pow", "atan2", "hypot") else (x,))
        lst += [(1 + 2.0**-52,)] if fn in ("log", "log10") else []
        lst += [(1 - 2.0**-53,)] if fn == "acos" else []
        lst += [(1e22,), (2.0**1000,), (6381956970095103.0 * 2.0**797,)] if fn in ("sin", "cos", "tan") else []
        lst += [(6.5,), (9.0,), (15.0,)] if fn == "erf" else []
        args_for[fn] = lst
    worst = 0.0
    try:
        for fn, f in funcs.items():
            for args in args_for[fn]:
                if fn == "pow" and args[0] < 0:
                    continue
                for wp in (136, 223):
                    ctx.prec = wp
                    a = f(*(ctx.mpf(x) for x in args))
                    ctx.prec = 4 * wp
                    b = f(*(ctx.mpf(x) for x in args))
                    if b:
                        err = abs((a - b) / b) * ctx.mpf(2) ** wp
                        worst = max(worst, float(err))
    finally:
        ctx.prec = 53
    assert worst < 2.0**4, worst  # observed: about one unit


# ---------------------------------------------------------------------------
# Published worst cases: verified, not trusted
# ---------------------------------------------------------------------------

_HI_FUNCS: dict[str, tuple[Callable[..., object], Callable[..., object]]] = {
    "exp": (gmpy2.exp, mpmath.exp), "expm1": (gmpy2.expm1, mpmath.expm1), "log": (gmpy2.log, mpmath.ln),
    "log1p": (gmpy2.log1p, mpmath.log1p), "log2": (gmpy2.log2, lambda x: mpmath.log(x, 2)),
    "log10": (gmpy2.log10, mpmath.log10), "sin": (gmpy2.sin, mpmath.sin), "cos": (gmpy2.cos, mpmath.cos),
    "tan": (gmpy2.tan, mpmath.tan), "asin": (gmpy2.asin, mpmath.asin), "acos": (gmpy2.acos, mpmath.acos),
    "atan": (gmpy2.atan, mpmath.atan), "sinh": (gmpy2.sinh, mpmath.sinh), "cosh": (gmpy2.cosh, mpmath.cosh),
    "tanh": (gmpy2.tanh, mpmath.tanh), "cbrt": (gmpy2.cbrt, lambda x: mpmath.sign(x) * mpmath.cbrt(abs(x))), "erf": (gmpy2.erf, mpmath.erf),
    "pow": (lambda x, y: x**y, mpmath.power), "atan2": (gmpy2.atan2, mpmath.atan2),
    "hypot": (gmpy2.hypot, mpmath.hypot),
}


def position(fn: str, fmt: FloatFormat, xs: tuple[float, ...]) -> tuple[Fraction, Fraction, Fraction]:
    """(distance to the nearest midpoint, distance to the nearest representable, the
    value) of fn(xs), distances in ulps, from two 1000-bit evaluations that agree."""
    g, m = _HI_FUNCS[fn]
    with gmpy2.context(gmpy2.get_context(), precision=1000, emin=-(10**6), emax=10**6):
        vg = g(*(gmpy2.mpfr(x) for x in xs))
        num, den = vg.as_integer_ratio()
        exact_g = Fraction(int(num), int(den))
    mpmath.mp.prec = 1000
    try:
        vm = m(*(mpmath.mpf(x) for x in xs))
        sign, man, ex, _bc = mpmath.mpf(vm)._mpf_
        exact_m = (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(ex)
    finally:
        mpmath.mp.prec = 53
    ulp = ulp_at(fmt, exact_g)
    assert abs(exact_g - exact_m) < ulp * Fraction(2) ** -900
    s = abs(exact_g) / ulp
    frac = s - math.floor(s)
    return abs(frac - Fraction(1, 2)), min(frac, 1 - frac), exact_g


def _worst_vectors() -> list[tuple[str, str, str]]:
    return [(fmt, fn, s) for (fmt, fn), lst in libm.WORST_CASES.items() for s in lst]


@pytest.mark.parametrize("fmt_name, fn, text", _worst_vectors())
def test_published_worst_cases_are_hard(fmt_name: str, fn: str, text: str) -> None:
    fmt = F64 if fmt_name == "f64" else F32
    xs = tuple(float.fromhex(t) for t in text.split(","))
    mid, _rep, exact = position(fn, fmt, xs)
    assert mid < Fraction(2) ** -40, float(mid)
    vec = tuple(bits(fmt, x) for x in xs)
    assert vec in libm.hard_cases(fn, fmt)
    if mid:  # (the exact hypot midpoint is checked in test_exact_midpoints_round_to_even)
        assert libm.golden(fn, fmt, vec) == nearest(fmt, exact)


def test_own_f32_search_cases_are_hard() -> None:
    for fn, lst in libm.F32_SEARCHED.items():
        for text in lst:
            x = float.fromhex(text)
            mid, _, exact = position(fn, F32, (x,))
            assert mid < Fraction(2) ** -15, (fn, text, float(mid))
            assert (bits(F32, x),) in libm.hard_cases(fn, F32)
            assert libm.golden(fn, F32, (bits(F32, x),)) == nearest(F32, exact)


def test_near_representable_pow_cases() -> None:
    for text in libm.NEAR_REPRESENTABLE_POW:
        xs = tuple(float.fromhex(t) for t in text.split(","))
        _mid, rep, exact = position("pow", F64, xs)
        assert 0 < rep < Fraction(2) ** -100
        assert libm.golden("pow", F64, tuple(bits(F64, x) for x in xs)) == nearest(F64, exact)


def test_argument_reduction_traps() -> None:
    # The binary64 value nearest to a multiple of pi/2 (Kahan-McDonald, Muller's
    # "Elementary Functions"), and a binary32 one: check the distance ourselves.
    mpmath.mp.prec = 3000
    try:
        for m, e, bound, fmt in ((6381956970095103, 797, -60, F64), (16367173, 72, -29, F32)):
            x = mpmath.mpf(m) * mpmath.mpf(2) ** e
            half_pi = mpmath.pi / 2
            r = x - mpmath.nint(x / half_pi) * half_pi
            assert abs(r) < mpmath.mpf(2) ** bound
            b = bits(fmt, float(m) * 2.0**e)
            for fn in ("sin", "cos", "tan"):
                assert (b,) in libm.hard_cases(fn, fmt)
                libm.golden(fn, fmt, (b,))
            # cos(x) = +-sin(r) is tiny and must come out right.
            got = value(fmt, libm.golden("cos", fmt, (b,)))
            assert abs(got) < 2.0 ** (bound + 1)
    finally:
        mpmath.mp.prec = 53


# ---------------------------------------------------------------------------
# ulp_error
# ---------------------------------------------------------------------------


def test_ulp_error_of_correct_and_wrong_values() -> None:
    x = bits(F64, 1.0)
    cr = libm.golden("exp", F64, (x,))
    exact = Fraction(E_DIGITS)
    ulp = ulp_at(F64, exact)
    err0 = libm.ulp_error("exp", F64, (x,), cr)
    assert err0 == pytest.approx(float(abs(Fraction(value(F64, cr)) - exact) / ulp), abs=1e-9)
    assert 0 < err0 <= 0.5
    errs = {d: libm.ulp_error("exp", F64, (x,), cr + d) for d in (-1, 1, 5, -5)}
    assert all(e > 0 for e in errs.values())
    assert errs[1] + errs[-1] == pytest.approx(2.0, abs=1e-9)
    away = max(errs[1], errs[-1])
    assert 1.0 <= away < 1.5
    assert 0.5 <= min(errs[1], errs[-1]) <= 1.0
    assert 4.5 <= errs[5] <= 5.5 and 4.5 <= errs[-5] <= 5.5
    # A grossly wrong value
    assert libm.ulp_error("exp", F64, (x,), bits(F64, 3.0)) > 1e14


def test_ulp_error_specials_and_subnormals() -> None:
    one = bits(F64, 1.0)
    # exact results: zero error; NaN/inf mismatches: infinite error
    assert libm.ulp_error("exp", F64, (0,), one) == 0.0
    assert libm.ulp_error("log", F64, (one,), 0) == 0.0
    assert libm.ulp_error("log", F64, (bits(F64, -1.0),), F64.canonical_nan) == 0.0
    assert libm.ulp_error("log", F64, (bits(F64, -1.0),), F64.inf | 7) == 0.0  # any NaN is a NaN here
    assert libm.ulp_error("log", F64, (bits(F64, -1.0),), 0) == math.inf
    assert libm.ulp_error("log", F64, (0,), F64.sign_bit | F64.inf) == 0.0
    assert libm.ulp_error("log", F64, (0,), F64.sign_bit | F64.max_finite) == math.inf
    assert libm.ulp_error("exp", F64, (one,), F64.canonical_nan) == math.inf
    assert libm.ulp_error("exp", F64, (one,), F64.inf) == math.inf
    # overflow: the correctly rounded infinity costs nothing, the largest finite a lot
    big = bits(F64, 1000.0)
    assert libm.ulp_error("exp", F64, (big,), F64.inf) == 0.0
    assert 1e15 < libm.ulp_error("exp", F64, (big,), F64.max_finite) < math.inf
    # underflow to zero is 0.0 when it is the correctly rounded result
    assert libm.ulp_error("exp", F64, (bits(F64, -1000.0),), 0) == 0.0
    # subnormal-aware: 2^-1073 for the exact 2^-1074 is one subnormal ulp off
    two = bits(F64, 2.0)
    assert libm.ulp_error("pow", F64, (two, bits(F64, -1074.0)), 2) == 1.0
    assert libm.ulp_error("pow", F32, (bits(F32, 2.0), bits(F32, -149.0)), 3) == 2.0
    # one ulp off in binary32
    c = libm.golden("sin", F32, (bits(F32, 1.0),))
    e = libm.ulp_error("sin", F32, (bits(F32, 1.0),), c + 1) + libm.ulp_error(
        "sin", F32, (bits(F32, 1.0),), c - 1
    )
    assert e == pytest.approx(2.0, abs=1e-6)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_bad_arguments() -> None:
    with pytest.raises(MalformedInput):
        libm.golden("gamma", F64, (0,))
    with pytest.raises(MalformedInput):
        libm.golden("exp", F64, (0, 0))
    with pytest.raises(MalformedInput):
        libm.golden("exp", F32, (1 << 32,))
    with pytest.raises(MalformedInput):
        libm.mpmath_value("exp", "f16", (0,))
    with pytest.raises(MalformedInput):
        libm.ulp_error("exp", F64, (0,), -1)
    assert libm.golden("exp", "f64", (0,)) == bits(F64, 1.0)


def test_disagreement_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    real = libm._mpmath_unchecked
    monkeypatch.setattr(libm, "_mpmath_unchecked", lambda fn, fmt, vec: real(fn, fmt, vec) ^ 1)
    x = bits(F64, 0.5)
    with pytest.raises(libm.LibmReferenceDisagreement) as info:
        libm.golden("sin", F64, (x,))
    err = info.value
    assert isinstance(err, TeecertError)
    msg = str(err)
    assert "\n" not in msg and "f64.sin" in msg and F64.hex(x) in msg
    assert F64.hex(err.mpfr_result) in msg and F64.hex(err.mpmath_result) in msg
    with pytest.raises(libm.LibmReferenceDisagreement):
        libm.golden_many("sin", F64, [(x,)])


def test_precision_escalation_and_cap() -> None:
    mp = libm._MP
    one_plus = lambda: mp.one + mp.ldexp(1, -53) + mp.ldexp(1, -300)  # noqa: E731
    # Just above a midpoint by 2^-300: undecided at 223 bits, decided at 446.
    assert libm._ziv(F64, lambda: "test", one_plus) == bits(F64, 1.0 + 2.0**-52)
    one_minus = lambda: mp.one + mp.ldexp(1, -53) - mp.ldexp(1, -300)  # noqa: E731
    assert libm._ziv(F64, lambda: "test", one_minus) == bits(F64, 1.0)
    # An exact midpoint is never decided: a clear error at the cap.
    with pytest.raises(libm.LibmPrecisionExhausted, match="cannot decide"):
        libm._ziv(F64, lambda: "midpoint", lambda: mp.one + mp.ldexp(1, -53))


# ---------------------------------------------------------------------------
# glibc (Python's math module calls it; ctypes calls it directly)
# ---------------------------------------------------------------------------


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("m")
    return ctypes.CDLL(name) if name else None


def glibc_divergence(fn: str, fmt: FloatFormat, n: int, seed: int = 2024) -> tuple[int, int]:
    """How many of ``n`` deterministic inputs glibc rounds differently from golden,
    and in how many of those golden is nearer to the exact value (mpmath at 600 bits,
    an evaluation independent of the golden methods' precision choices)."""
    lib = _glibc()
    assert lib is not None
    ctype = ctypes.c_double if fmt.width == 64 else ctypes.c_float
    f = getattr(lib, fn if fmt.width == 64 else fn + "f")
    arity = libm.FUNCTIONS[fn]
    f.argtypes = [ctype] * arity
    f.restype = ctype
    r = random.Random(f"{seed}-{fn}-{fmt.name}")

    def rnd(x: float) -> float:
        if fmt.width == 64:
            return x
        return float(struct.unpack("<f", struct.pack("<f", x))[0])

    top, low = (709.0, -745.0) if fmt.width == 64 else (88.0, -103.0)
    exact_fn: Callable[..., object] = {
        "exp": mpmath.exp, "sin": mpmath.sin, "pow": mpmath.power,
        "cbrt": lambda x: mpmath.sign(x) * mpmath.cbrt(abs(x)),
    }[fn]
    diff = golden_nearer = 0
    for _ in range(n):
        if fn == "exp":
            xs: tuple[float, ...] = (rnd(r.uniform(low, top)),)
        elif fn == "sin":
            xs = (rnd(r.choice((-1, 1)) * (1 + r.random()) * 2.0 ** r.randint(-10, 30)),)
        elif fn == "pow":
            xs = (rnd(2.0 ** r.uniform(-10, 10)), rnd(r.uniform(-12, 12)))
        else:  # cbrt: any finite value
            while True:
                b = r.getrandbits(fmt.width)
                if b & fmt.exp_mask != fmt.exp_mask:
                    break
            xs = (value(fmt, b),)
        vec = tuple(bits(fmt, x) for x in xs)
        got = bits(fmt, float(f(*xs)))
        want = libm.golden(fn, fmt, vec)
        if got != want:
            diff += 1
            mpmath.mp.prec = 600
            try:
                ex = exact_fn(*(mpmath.mpf(x) for x in xs))
                d_got = abs(mpmath.mpf(value(fmt, got)) - ex)
                d_want = abs(mpmath.mpf(value(fmt, want)) - ex)
            finally:
                mpmath.mp.prec = 53
            golden_nearer += d_want < d_got
    return diff, golden_nearer


@pytest.mark.slow
def test_glibc_divergence_counts(capsys: pytest.CaptureFixture[str]) -> None:
    if _glibc() is None:
        pytest.skip("no libm to load")
    n = 100_000
    counts = {}
    for fmt in FORMATS:
        for fn in ("exp", "sin", "pow", "cbrt"):
            counts[(fmt.name, fn)] = glibc_divergence(fn, fmt, n)
    with capsys.disabled():
        for (fmt_name, fn), (c, nearer) in counts.items():
            print(f"glibc {fmt_name}.{fn}: {c} of {n} differ from golden "
                  f"(golden nearer to the exact value in {nearer})")
    for diff, nearer in counts.values():
        assert nearer == diff  # every divergence is glibc's misrounding
    # Python's math module (binary64) is glibc: it agrees almost always.
    assert counts[("f64", "exp")][0] <= n // 100
    assert counts[("f64", "sin")][0] <= n // 100


def test_glibc_mostly_agrees_small_sample() -> None:
    if _glibc() is None:
        pytest.skip("no libm to load")
    for fn in ("exp", "sin"):
        diff, nearer = glibc_divergence(fn, F64, 2000)
        assert diff <= 20 and nearer == diff


@pytest.mark.parametrize("fmt", [F64, F32], ids=lambda f: f.name)
def test_the_column_at_a_time_values_are_the_one_at_a_time_values(fmt: FloatFormat) -> None:
    # mpfr_values converts whole columns for speed; every result must be mpfr_value's,
    # for finite operands of every size and for the special ones (zeros, infinities,
    # NaNs with payloads, subnormals).
    rng = random.Random(f"mpfr-values:{fmt.name}")
    specials = [0, fmt.sign_bit, 1, fmt.sign_bit | 1, fmt.inf, fmt.inf | fmt.sign_bit, fmt.canonical_nan,
                fmt.exp_mask | 12345, fmt.max_finite, fmt.frac_mask]
    pool = specials + [rng.getrandbits(fmt.width) for _ in range(300)]
    for fn, arity in libm.FUNCTIONS.items():
        vecs = [tuple(rng.choice(pool) for _ in range(arity)) for _ in range(120)]
        assert libm.mpfr_values(fn, fmt, vecs) == [libm.mpfr_value(fn, fmt, v) for v in vecs], fn
