"""The two golden-value references (``teecert.reference``) against independent truth.

Nothing here takes an expected value from the code under test:

(a) binary64 round-to-nearest add/sub/mul/div/sqrt against this host's hardware
    double arithmetic (CPython floats, bit patterns through ``struct``);
(b) binary32 round-to-nearest against double arithmetic rounded to binary32 by
    ``struct``: double rounding is innocuous for +, -, *, / and sqrt when the
    wider precision p' satisfies p' >= 2p + 2 (Figueroa, "When is double
    rounding innocuous?", ACM SIGNUM Newsletter 30(3), 1995): 53 >= 2*24 + 2,
    and also for binary32 subnormal results, whose precision is even smaller;
(c) directed roundings through the sandwich property checked with exact
    ``fractions.Fraction`` arithmetic, and hand-derived cases (overflow, tiny
    products, ties, signed zeros, invalid operations, the contraction vector);
(d) the two references agree on > 200,000 stream vectors over all float ops;
(e) a reference made wrong is caught as ``ReferenceDisagreement``.

Run the heavier agreement checks with ``pytest --runslow``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teecert import ops
from teecert.errors import MalformedInput, TeecertError
from teecert.ops import F32, F64, FloatFormat
from teecert.reference import golden, mpfr, rational
from teecert.vectors.streams import inputs as stream_inputs

REFERENCES: list[tuple[str, Callable[[str, list[tuple[int, ...]]], list[int]]]] = [
    ("rational", rational.evaluate_many),
    ("mpfr", mpfr.evaluate_many),
    ("golden", golden.evaluate_many),
]
MODES = ("rne", "rtz", "rup", "rdn")

# --------------------------------------------------------------------------------------
# Bit-pattern strategies: every class of value, with the awkward ones over-weighted.


def _edge_values(fmt: FloatFormat) -> list[int]:
    s = fmt.sign_bit
    one = fmt.bias << fmt.frac_bits
    values = [
        0,
        fmt.inf,
        fmt.canonical_nan,
        fmt.canonical_nan | fmt.frac_mask,  # quiet NaN with payload
        fmt.exp_mask | 1,  # signalling NaN
        fmt.max_finite,
        fmt.max_finite - 1,
        1 << fmt.frac_bits,  # min normal
        (1 << fmt.frac_bits) + 1,
        1,  # min subnormal
        2,
        3,
        fmt.frac_mask,  # max subnormal
        one,
        one + 1,
        one - 1,
        one + (1 << fmt.frac_bits),  # 2
        (fmt.bias + 1) << fmt.frac_bits | (1 << (fmt.frac_bits - 1)),  # 3
    ]
    return values + [v | s for v in values]


def bits(fmt: FloatFormat) -> st.SearchStrategy[int]:
    sign = st.integers(0, 1).map(lambda b: b << (fmt.width - 1))
    frac = st.integers(0, fmt.frac_mask)
    # A significand with only its top k bits free: sums, products and quotients
    # of such values are often exact or exactly halfway.
    short_frac = st.tuples(frac, st.integers(0, fmt.frac_bits)).map(
        lambda t: t[0] & ~((1 << t[1]) - 1) & fmt.frac_mask
    )
    emax_field = (1 << fmt.exp_bits) - 2

    def compose(s: int, e: int, f: int) -> int:
        return s | (e << fmt.frac_bits) | f

    exponent = st.one_of(
        st.integers(fmt.bias - 3, fmt.bias + 3),  # near one: cancellation
        st.integers(1, 4),  # smallest normal binades
        st.integers(emax_field - 3, emax_field),  # largest finite binades
        st.integers(1, emax_field),
        st.just(0),  # subnormal or zero
    )
    return st.one_of(
        st.integers(0, fmt.mask),
        st.sampled_from(_edge_values(fmt)),
        st.builds(compose, sign, exponent, frac),
        st.builds(compose, sign, exponent, short_frac),
    )


HYP = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def batches(fmt: FloatFormat, arity: int) -> st.SearchStrategy[list[tuple[int, ...]]]:
    return st.lists(st.tuples(*[bits(fmt)] * arity), min_size=1, max_size=48)


# --------------------------------------------------------------------------------------
# (a) and (b): round to nearest against the host's hardware arithmetic.


def f64_value(b: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", b))[0])


def f64_bits(x: float) -> int:
    if math.isnan(x):
        return F64.canonical_nan
    return int(struct.unpack("<Q", struct.pack("<d", x))[0])


def f32_value(b: int) -> float:
    return float(struct.unpack("<f", struct.pack("<I", b))[0])


def f32_bits(x: float) -> int:
    """Round a double to binary32 (to nearest) with the C cast inside ``struct``."""
    if math.isnan(x):
        return F32.canonical_nan
    try:
        return int(struct.unpack("<I", struct.pack("<f", x))[0])
    except OverflowError:
        # struct refuses exactly when the cast gave an infinity from a finite
        # double; that infinity is the round-to-nearest result.
        return F32.inf | (F32.sign_bit if x < 0 else 0)


def hw_sqrt(x: float) -> float:
    try:
        return math.sqrt(x)  # sqrt(-0.0) is -0.0, sqrt(nan) is nan
    except ValueError:  # x < 0: invalid
        return math.nan


HW_OPS: dict[str, Callable[..., float]] = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "sqrt": hw_sqrt,
}


def hardware_rne(fmt: FloatFormat, name: str, vec: Sequence[int]) -> int | None:
    """The host's result, or None where Python cannot give one (x / 0 raises;
    those cases are hand-derived below)."""
    to_value, to_bits = (f64_value, f64_bits) if fmt is F64 else (f32_value, f32_bits)
    xs = [to_value(b) for b in vec]
    if name == "div" and xs[1] == 0:
        return None
    return to_bits(HW_OPS[name](*xs))


def check_against_hardware(fmt: FloatFormat, name: str, vecs: list[tuple[int, ...]]) -> int:
    op_id = f"{fmt.name}.{name}.rne"
    pairs: list[tuple[tuple[int, ...], int]] = []
    for v in vecs:
        e = hardware_rne(fmt, name, v)
        if e is not None:
            pairs.append((v, e))
    inputs = [v for v, _ in pairs]
    for ref_name, fn in REFERENCES:
        got = fn(op_id, inputs)
        for (v, e), g in zip(pairs, got, strict=True):
            assert g == e, (
                f"{ref_name} {op_id}({', '.join(fmt.hex(x) for x in v)}) = {fmt.hex(g)}, "
                f"hardware {fmt.hex(e)}"
            )
    return len(inputs)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
@HYP
@given(data=st.data())
def test_f64_rne_binary_ops_match_hardware(name: str, data: st.DataObject) -> None:
    check_against_hardware(F64, name, data.draw(batches(F64, 2)))


@HYP
@given(vecs=batches(F64, 1))
def test_f64_rne_sqrt_matches_hardware(vecs: list[tuple[int, ...]]) -> None:
    check_against_hardware(F64, "sqrt", vecs)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
@HYP
@given(data=st.data())
def test_f32_rne_binary_ops_match_double_rounded_to_float(name: str, data: st.DataObject) -> None:
    check_against_hardware(F32, name, data.draw(batches(F32, 2)))


@HYP
@given(vecs=batches(F32, 1))
def test_f32_rne_sqrt_matches_double_rounded_to_float(vecs: list[tuple[int, ...]]) -> None:
    check_against_hardware(F32, "sqrt", vecs)


@pytest.mark.parametrize("fmt", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(HW_OPS))
def test_rne_stream_vectors_match_hardware(fmt: FloatFormat, name: str) -> None:
    """The generator's value classes too (ties, near-halfway runs, extremes)."""
    vecs = stream_inputs.vectors(ops.get(f"{fmt.name}.{name}.rne"), 5, 0, 10_000)
    assert check_against_hardware(fmt, name, vecs) > 9000


# --------------------------------------------------------------------------------------
# (c) Directed roundings: the sandwich property with exact rationals.

Value = Fraction | float  # float only for +-inf


def decode(fmt: FloatFormat, b: int) -> Value | None:
    """The exact value of a bit pattern (None for a NaN), infinities as floats."""
    if fmt.is_nan(b):
        return None
    neg = b & fmt.sign_bit
    e_field = (b & fmt.exp_mask) >> fmt.frac_bits
    f = b & fmt.frac_mask
    if e_field == (1 << fmt.exp_bits) - 1:
        return -math.inf if neg else math.inf
    if e_field == 0:
        v = Fraction(f) * Fraction(2) ** (fmt.emin - fmt.frac_bits)
    else:
        v = Fraction(f | (1 << fmt.frac_bits)) * Fraction(2) ** (e_field - fmt.bias - fmt.frac_bits)
    return -v if neg else v


def order_key(fmt: FloatFormat, b: int) -> int:
    """Position on the number line: adjacent values differ by one, +0 and -0 tie."""
    mag = b & (fmt.mask >> 1)
    return -mag if b & fmt.sign_bit else mag


def exact_result(fmt: FloatFormat, name: str, vec: Sequence[int]) -> Fraction | None:
    """The exact value of ``name`` on finite operands; None where there is none
    here (a special operand, division by zero, sqrt: see the sqrt check)."""
    xs = [decode(fmt, b) for b in vec]
    if not all(isinstance(x, Fraction) for x in xs):
        return None
    v = [x for x in xs if isinstance(x, Fraction)]
    if name == "add":
        return v[0] + v[1]
    if name == "sub":
        return v[0] - v[1]
    if name == "mul":
        return v[0] * v[1]
    if name == "div":
        return v[0] / v[1] if v[1] else None
    if name == "fma":
        return v[0] * v[1] + v[2]
    return None


def check_sandwich(fmt: FloatFormat, exact: Fraction, results: dict[str, int], where: str) -> None:
    """rdn <= exact <= rup, adjacent or equal; rtz the one toward zero; rne the
    nearer one (ties to even, overflow to inf from max + half an ulp)."""
    d, u, z, n = results["rdn"], results["rup"], results["rtz"], results["rne"]
    dv, uv = decode(fmt, d), decode(fmt, u)
    assert dv is not None and uv is not None, where
    assert dv <= exact <= uv, where
    if exact == 0:
        assert dv == uv == 0 and decode(fmt, z) == 0 and decode(fmt, n) == 0, where
        return  # the sign of an exact zero: hand-derived cases below
    if dv == exact:
        assert d == u == z == n, where
        return
    assert order_key(fmt, u) == order_key(fmt, d) + 1, where
    assert z == (d if exact > 0 else u), where
    # A non-zero result rounded to zero keeps the exact result's sign.
    for r in results.values():
        if decode(fmt, r) == 0:
            assert bool(r & fmt.sign_bit) == (exact < 0), where
    max_v = decode(fmt, fmt.max_finite)
    assert isinstance(max_v, Fraction)
    overflow_at = max_v + Fraction(2) ** (fmt.emax - fmt.frac_bits - 1)  # max + half ulp
    if abs(exact) > max_v:
        big = exact >= overflow_at if exact > 0 else -exact >= overflow_at
        want_n = (u if exact > 0 else d) if big else (d if exact > 0 else u)
        assert n == want_n, where
        return
    assert isinstance(dv, Fraction) and isinstance(uv, Fraction), where
    below, above = exact - dv, uv - exact
    if below != above:
        assert n == (d if below < above else u), where
    else:
        assert n == (d if d & 1 == 0 else u), where  # ties to the even significand


def all_modes(fmt: FloatFormat, name: str, vecs: list[tuple[int, ...]]) -> list[dict[str, int]]:
    """Each vector's result in the four directions (both references, agreeing)."""
    per_mode = {m: golden.evaluate_many(f"{fmt.name}.{name}.{m}", vecs) for m in MODES}
    return [{m: per_mode[m][i] for m in MODES} for i in range(len(vecs))]


def check_directed(fmt: FloatFormat, name: str, vecs: list[tuple[int, ...]]) -> int:
    checked = 0
    for vec, res in zip(vecs, all_modes(fmt, name, vecs), strict=True):
        where = f"{fmt.name}.{name}({', '.join(fmt.hex(x) for x in vec)}) -> " + ", ".join(
            f"{m} {fmt.hex(r)}" for m, r in res.items()
        )
        if name == "sqrt":
            checked += check_sqrt_sandwich(fmt, vec[0], res, where)
            continue
        if name == "mul_add_unfused":
            # Two roundings in the op's direction, each one a sandwich of its own.
            for m in MODES:
                p = golden.evaluate(f"{fmt.name}.mul.{m}", vec[:2])
                assert res[m] == golden.evaluate(f"{fmt.name}.add.{m}", (p, vec[2])), where
            continue
        exact = exact_result(fmt, name, vec)
        if exact is None:
            continue
        check_sandwich(fmt, exact, res, where)
        checked += 1
    return checked


def check_sqrt_sandwich(fmt: FloatFormat, a: int, res: dict[str, int], where: str) -> int:
    x = decode(fmt, a)
    if not isinstance(x, Fraction) or x <= 0:
        return 0
    d, u = res["rdn"], res["rup"]
    dv, uv = decode(fmt, d), decode(fmt, u)
    assert isinstance(dv, Fraction) and isinstance(uv, Fraction), where
    assert 0 <= dv and dv * dv <= x <= uv * uv, where
    if dv * dv == x:
        assert d == u == res["rtz"] == res["rne"], where
        return 1
    assert order_key(fmt, u) == order_key(fmt, d) + 1 and res["rtz"] == d, where
    mid = (dv + uv) / 2  # sqrt(x) < mid  <=>  x < mid^2 (both sides positive)
    if x != mid * mid:
        assert res["rne"] == (d if x < mid * mid else u), where
    return 1


EXACT_NAMES = ["add", "sub", "mul", "div", "sqrt", "fma", "mul_add_unfused"]


@pytest.mark.parametrize("fmt", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", EXACT_NAMES)
def test_directed_roundings_sandwich_the_exact_result_on_streams(fmt: FloatFormat, name: str) -> None:
    op = ops.get(f"{fmt.name}.{name}.rne")
    vecs = stream_inputs.vectors(op, 9, 0, 3000)
    n = check_directed(fmt, name, vecs)
    if name != "mul_add_unfused":
        assert n > 1000  # enough vectors had a finite exact result


@pytest.mark.parametrize("fmt", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", EXACT_NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_directed_roundings_sandwich_the_exact_result(fmt: FloatFormat, name: str, data: st.DataObject) -> None:
    arity = ops.FLOAT_OPS[name][0]
    check_directed(fmt, name, data.draw(batches(fmt, arity)))


# Hand-derived cases: (op without direction, inputs, results for rne, rtz, rup, rdn).
# Every expected value is worked out from the definition, in the comment or below.
MAX64, NMAX64, INF64, NINF64 = "7fefffffffffffff", "ffefffffffffffff", "7ff0000000000000", "fff0000000000000"
NAN64, NAN32 = "7ff8000000000000", "7fc00000"
Z64, NZ64 = "0000000000000000", "8000000000000000"
ONE64, NONE64 = "3ff0000000000000", "bff0000000000000"
TINY64 = "1a70000000000000"  # 2^-600: its square 2^-1200 is far below the subnormals
HAND: list[tuple[str, tuple[str, ...], tuple[str, str, str, str]]] = [
    # -- overflow in each direction (docs/ops.md): 2 max > max
    ("f64.add", (MAX64, MAX64), (INF64, MAX64, INF64, MAX64)),
    ("f64.add", (NMAX64, NMAX64), (NINF64, NMAX64, NMAX64, NINF64)),
    ("f64.mul", (MAX64, "c000000000000000"), (NINF64, NMAX64, NMAX64, NINF64)),
    ("f32.mul", ("7f7fffff", "7f7fffff"), ("7f800000", "7f7fffff", "7f800000", "7f7fffff")),
    ("f32.div", ("ff7fffff", "3f000000"), ("ff800000", "ff7fffff", "ff7fffff", "ff800000")),
    # max + 2^970 is max + half an ulp: a tie, and max's significand is odd -> inf
    ("f64.add", (MAX64, "7c90000000000000"), (INF64, MAX64, INF64, MAX64)),
    # just under half an ulp: rne stays at max, rup still leaves the format
    ("f64.add", (MAX64, "7c8fffffffffffff"), (MAX64, MAX64, INF64, MAX64)),
    # -- smallest subnormal products: 2^-1074 * 0.5 = 2^-1075 is halfway to 0 (even)
    ("f64.mul", ("0000000000000001", "3fe0000000000000"), (Z64, Z64, "0000000000000001", Z64)),
    ("f64.mul", ("8000000000000001", "3fe0000000000000"), (NZ64, NZ64, NZ64, "8000000000000001")),
    # 0.75 * 2^-1074: above halfway
    ("f64.mul", ("0000000000000001", "3fe8000000000000"), ("0000000000000001", Z64, "0000000000000001", Z64)),
    # 3 * 2^-1074 * 0.5 = 1.5 quanta: tie between 1 and 2 -> 2 (even)
    ("f64.mul", ("0000000000000003", "3fe0000000000000"),
     ("0000000000000002", "0000000000000001", "0000000000000002", "0000000000000001")),
    # 2^-1074 squared
    ("f64.mul", ("0000000000000001", "0000000000000001"), (Z64, Z64, "0000000000000001", Z64)),
    ("f32.mul", ("00000001", "3f000000"), ("00000000", "00000000", "00000001", "00000000")),
    ("f32.mul", ("80000001", "3f400000"), ("80000001", "80000000", "80000000", "80000001")),
    # min normal / 2 is an exact subnormal; min normal / 2^53 = 2^-1075 a tie with 0
    ("f64.mul", ("0010000000000000", "3fe0000000000000"), ("0008000000000000",) * 4),
    ("f64.div", ("0010000000000000", "4340000000000000"), (Z64, Z64, "0000000000000001", Z64)),
    # max subnormal + min subnormal = min normal; max subnormal * (1 + 2^-52)
    # = (2^52 - 2^-52) quanta rounds up to min normal, or down to max subnormal
    ("f64.add", ("000fffffffffffff", "0000000000000001"), ("0010000000000000",) * 4),
    ("f64.mul", ("000fffffffffffff", "3ff0000000000001"),
     ("0010000000000000", "000fffffffffffff", "0010000000000000", "000fffffffffffff")),
    # -- halfway cases: 1 + 2^-53 (tie, even 1); (1 + 2^-52) + 2^-53 (tie, odd -> up)
    ("f64.add", (ONE64, "3ca0000000000000"), (ONE64, ONE64, "3ff0000000000001", ONE64)),
    ("f64.add", ("3ff0000000000001", "3ca0000000000000"),
     ("3ff0000000000002", "3ff0000000000001", "3ff0000000000002", "3ff0000000000001")),
    # 1 - 2^-54: halfway between 1 - 2^-53 (odd) and 1 (even)
    ("f64.sub", (ONE64, "3c90000000000000"), (ONE64, "3fefffffffffffff", ONE64, "3fefffffffffffff")),
    ("f32.add", ("3f800000", "33800000"), ("3f800000", "3f800000", "3f800001", "3f800000")),
    ("f32.add", ("3f800001", "33800000"), ("3f800002", "3f800001", "3f800002", "3f800001")),
    # tiny addends far below half an ulp
    ("f64.add", (ONE64, "0000000000000001"), (ONE64, ONE64, "3ff0000000000001", ONE64)),
    ("f64.sub", (ONE64, "0000000000000001"), (ONE64, "3fefffffffffffff", ONE64, "3fefffffffffffff")),
    # -- exact division and sqrt: 1/3 = 0.010101..., the next bit after 53 is 0 in
    # binary64 (down) and 1 followed by more in binary32 (up)
    ("f64.div", (ONE64, "4008000000000000"),
     ("3fd5555555555555", "3fd5555555555555", "3fd5555555555556", "3fd5555555555555")),
    ("f64.div", (NONE64, "4008000000000000"),
     ("bfd5555555555555", "bfd5555555555555", "bfd5555555555555", "bfd5555555555556")),
    ("f32.div", ("3f800000", "40400000"), ("3eaaaaab", "3eaaaaaa", "3eaaaaab", "3eaaaaaa")),
    # sqrt(2) = 1.41421356237309504880...; ...3bcd = 1.41421356237309514547 (above),
    # ...3bcc = 1.41421356237309492343 (below, farther)
    ("f64.sqrt", ("4000000000000000",),
     ("3ff6a09e667f3bcd", "3ff6a09e667f3bcc", "3ff6a09e667f3bcd", "3ff6a09e667f3bcc")),
    # 3fb504f3 = 1.41421353816986083984375 (below, nearer), 3fb504f4 above
    ("f32.sqrt", ("40000000",), ("3fb504f3", "3fb504f3", "3fb504f4", "3fb504f3")),
    ("f64.sqrt", ("0000000000000001",), ("1e60000000000000",) * 4),  # sqrt(2^-1074) = 2^-537
    ("f64.sqrt", ("4010000000000000",), ("4000000000000000",) * 4),
    # -- signed zeros: x - x is +0 except in rdn; zeros of one sign keep it
    ("f64.sub", (ONE64, ONE64), (Z64, Z64, Z64, NZ64)),
    ("f64.add", (NONE64, ONE64), (Z64, Z64, Z64, NZ64)),
    ("f32.sub", ("40490fdb", "40490fdb"), ("00000000", "00000000", "00000000", "80000000")),
    ("f64.add", (Z64, NZ64), (Z64, Z64, Z64, NZ64)),
    ("f64.add", (NZ64, NZ64), (NZ64,) * 4),
    ("f64.add", (Z64, Z64), (Z64,) * 4),
    ("f64.sub", (Z64, Z64), (Z64, Z64, Z64, NZ64)),
    ("f64.sub", (NZ64, Z64), (NZ64,) * 4),
    ("f64.mul", (NZ64, ONE64), (NZ64,) * 4),
    ("f64.mul", (NONE64, Z64), (NZ64,) * 4),
    ("f64.div", (Z64, NONE64), (NZ64,) * 4),
    ("f64.sqrt", (NZ64,), (NZ64,) * 4),
    ("f32.sqrt", ("80000000",), ("80000000",) * 4),
    # -- invalid operations and NaNs: always the canonical NaN
    ("f64.sqrt", (NONE64,), (NAN64,) * 4),
    ("f64.sqrt", ("8000000000000001",), (NAN64,) * 4),
    ("f64.sqrt", (NINF64,), (NAN64,) * 4),
    ("f64.sqrt", (INF64,), (INF64,) * 4),
    ("f64.sqrt", ("fff8000000000001",), (NAN64,) * 4),
    ("f32.sqrt", ("bf800000",), (NAN32,) * 4),
    ("f32.sqrt", ("7f800001",), (NAN32,) * 4),
    ("f64.mul", (Z64, INF64), (NAN64,) * 4),
    ("f64.mul", (NINF64, NZ64), (NAN64,) * 4),
    ("f64.mul", (NINF64, ONE64), (NINF64,) * 4),
    ("f64.add", (INF64, NINF64), (NAN64,) * 4),
    ("f64.sub", (INF64, INF64), (NAN64,) * 4),
    ("f64.add", (INF64, INF64), (INF64,) * 4),
    ("f64.sub", (NINF64, INF64), (NINF64,) * 4),
    ("f64.add", (MAX64, NINF64), (NINF64,) * 4),
    ("f64.div", (Z64, Z64), (NAN64,) * 4),
    ("f64.div", (NZ64, Z64), (NAN64,) * 4),
    ("f64.div", (INF64, INF64), (NAN64,) * 4),
    ("f64.div", (NINF64, INF64), (NAN64,) * 4),
    ("f64.div", (INF64, NONE64), (NINF64,) * 4),
    ("f64.div", (ONE64, INF64), (Z64,) * 4),
    ("f64.div", (ONE64, NINF64), (NZ64,) * 4),
    # division by zero: an infinity with the xor of the signs
    ("f64.div", (ONE64, Z64), (INF64,) * 4),
    ("f64.div", (ONE64, NZ64), (NINF64,) * 4),
    ("f64.div", (NONE64, NZ64), (INF64,) * 4),
    ("f64.div", ("0000000000000001", Z64), (INF64,) * 4),
    ("f32.div", ("bf800000", "00000000"), ("ff800000",) * 4),
    ("f64.add", ("fff8000000000001", ONE64), (NAN64,) * 4),  # negative NaN with payload
    ("f64.mul", ("7ff0000000000001", Z64), (NAN64,) * 4),  # signalling NaN
    ("f32.add", ("ffc00001", "3f800000"), (NAN32,) * 4),
    ("f64.fma", (ONE64, ONE64, "fff4000000000000"), (NAN64,) * 4),
    # -- fma invalid cases: 0 * inf whatever c is (even a NaN), inf - inf
    ("f64.fma", (Z64, INF64, NAN64), (NAN64,) * 4),
    ("f64.fma", (Z64, INF64, "fff0000000000001"), (NAN64,) * 4),
    ("f64.fma", (INF64, Z64, ONE64), (NAN64,) * 4),
    ("f64.fma", (INF64, ONE64, NINF64), (NAN64,) * 4),
    ("f64.fma", (INF64, NONE64, INF64), (NAN64,) * 4),
    ("f64.fma", (INF64, ONE64, INF64), (INF64,) * 4),
    ("f64.fma", (NINF64, ONE64, "4000000000000000"), (NINF64,) * 4),
    ("f64.fma", (ONE64, ONE64, NINF64), (NINF64,) * 4),
    ("f64.fma", (MAX64, MAX64, NINF64), (NINF64,) * 4),  # the product is finite, exactly
    ("f32.fma", ("00000000", "7f800000", "7fc00000"), (NAN32,) * 4),
    ("f32.fma", ("7f800000", "00000000", "3f800000"), (NAN32,) * 4),
    # -- fma exact zeros: the exact product takes the first operand's place
    ("f64.fma", (Z64, ONE64, NZ64), (Z64, Z64, Z64, NZ64)),
    ("f64.fma", (NZ64, ONE64, NZ64), (NZ64,) * 4),
    ("f64.fma", (Z64, NONE64, Z64), (Z64, Z64, Z64, NZ64)),
    ("f64.fma", (Z64, ONE64, Z64), (Z64,) * 4),
    ("f64.fma", (NONE64, Z64, Z64), (Z64, Z64, Z64, NZ64)),
    ("f64.fma", (ONE64, ONE64, NONE64), (Z64, Z64, Z64, NZ64)),  # exact cancellation
    # a non-zero exact result (+-2^-1200) that rounds to zero keeps its sign
    ("f64.fma", (TINY64, TINY64, NZ64), (Z64, Z64, "0000000000000001", Z64)),
    ("f64.fma", ("9a70000000000000", TINY64, Z64), (NZ64, NZ64, NZ64, "8000000000000001")),
    ("f64.fma", (TINY64, TINY64, ONE64), (ONE64, ONE64, "3ff0000000000001", ONE64)),
    ("f64.fma", ("9a70000000000000", TINY64, ONE64), (ONE64, "3fefffffffffffff", ONE64, "3fefffffffffffff")),
    # -- mul_add_unfused: the product is rounded first, in the op's direction
    # (2^-1200 -> 0 or 2^-1074; then + 1, or + -0 where rdn makes +0 + -0 = -0)
    ("f64.mul_add_unfused", (TINY64, TINY64, ONE64), (ONE64, ONE64, "3ff0000000000001", ONE64)),
    ("f64.mul_add_unfused", (TINY64, TINY64, NZ64), (Z64, Z64, "0000000000000001", NZ64)),
    # 2 max - max: exact with fma; the separately rounded product overflows to inf
    # (rne, rup) or stops at max (rtz, rdn), then max - max = +0 / -0 in rdn
    ("f64.fma", (MAX64, "4000000000000000", NMAX64), (MAX64,) * 4),
    ("f64.mul_add_unfused", (MAX64, "4000000000000000", NMAX64), (INF64, Z64, INF64, NZ64)),
    # -- the contraction vector (docs/ops.md): (1 + 2^-52)(1 - 2^-53) - 1; the exact
    # product 1 + 2^-53 - 2^-105 rounds to 1 (rne, rtz, rdn) or 1 + 2^-52 (rup)
    ("f64.mul_add_unfused", ("3ff0000000000001", "3fefffffffffffff", NONE64),
     (Z64, Z64, "3cb0000000000000", NZ64)),
    ("f64.fma", ("3ff0000000000001", "3fefffffffffffff", NONE64), ("3c9ffffffffffffe",) * 4),
]


@pytest.mark.parametrize(
    ("op", "args", "want"), HAND, ids=[f"{op}({','.join(a)})" for op, a, _ in HAND]
)
def test_hand_derived_cases(op: str, args: tuple[str, ...], want: tuple[str, ...]) -> None:
    vec = tuple(int(a, 16) for a in args)
    for mode, expected in zip(MODES, want, strict=True):
        op_id = f"{op}.{mode}"
        fmt = ops.get(op_id).fmt
        results = {
            "rational": rational.evaluate(op_id, vec),
            "mpfr": mpfr.evaluate(op_id, vec),
            "golden": golden.evaluate(op_id, vec),
        }
        for ref_name, got in results.items():
            assert fmt.hex(got) == expected, f"{ref_name} {op_id}{args} = {fmt.hex(got)}, want {expected}"


def test_contraction_vector() -> None:
    args = (0x3FF0000000000001, 0x3FEFFFFFFFFFFFFF, 0xBFF0000000000000)
    assert golden.evaluate("f64.mul_add_unfused.rne", args) == 0
    assert golden.evaluate("f64.fma.rne", args) == 0x3C9FFFFFFFFFFFFE


@pytest.mark.parametrize("fmt", [F32, F64], ids=["f32", "f64"])
def test_every_nan_input_gives_the_canonical_nan(fmt: FloatFormat) -> None:
    nans = [v for v in _edge_values(fmt) if fmt.is_nan(v)]
    others = [0, fmt.sign_bit, fmt.inf, 1, fmt.bias << fmt.frac_bits]
    for op_id, op in ops.CATALOGUE.items():
        if op.kind != "float" or op.fmt is not fmt:  # libm: test_libm_reference.py
            continue
        vecs = []
        for pos in range(op.arity):
            for nan in nans:
                for other in others:
                    v = [other] * op.arity
                    v[pos] = nan
                    vecs.append(tuple(v))
        assert set(golden.evaluate_many(op_id, vecs)) == {op.result_fmt.canonical_nan}, op_id


# --------------------------------------------------------------------------------------
# (d) The two references agree on the streams.


def agreement(seed: int, per_op: int) -> int:
    total = 0
    for op_id, op in ops.CATALOGUE.items():
        vecs = stream_inputs.vectors(op, seed, 0, per_op)
        golden.evaluate_many(op_id, vecs)  # raises ReferenceDisagreement on any difference
        total += len(vecs)
    return total


def test_references_agree_on_200k_stream_vectors() -> None:
    assert agreement(seed=2024, per_op=3600) >= 200_000


@pytest.mark.slow
def test_references_agree_on_millions_of_stream_vectors() -> None:
    assert agreement(seed=77, per_op=40_000) >= 2_000_000


@pytest.mark.slow
@pytest.mark.parametrize("fmt", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", EXACT_NAMES)
def test_directed_sandwich_on_more_stream_vectors(fmt: FloatFormat, name: str) -> None:
    check_directed(fmt, name, stream_inputs.vectors(ops.get(f"{fmt.name}.{name}.rne"), 31, 0, 20_000))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(HW_OPS))
def test_rne_more_stream_vectors_match_hardware(fmt: FloatFormat, name: str) -> None:
    check_against_hardware(fmt, name, stream_inputs.vectors(ops.get(f"{fmt.name}.{name}.rne"), 32, 0, 100_000))


# --------------------------------------------------------------------------------------
# (e) Disagreement and malformed input are refused.


def test_disagreement_is_raised_when_rational_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    real = rational.op_function

    def wrong(op_id: str) -> Callable[..., int]:
        fn = real(op_id)

        def off_by_one_ulp(*args: int) -> int:
            r = fn(*args)
            return r ^ 1 if args == (0x3FF0000000000000, 0x4000000000000000) else r

        return off_by_one_ulp

    monkeypatch.setattr(rational, "op_function", wrong)
    vecs = [(0x3FF0000000000000, 0x3FF0000000000000), (0x3FF0000000000000, 0x4000000000000000)]
    assert golden.evaluate_many("f64.add.rne", vecs[:1]) == [0x4000000000000000]
    with pytest.raises(golden.ReferenceDisagreement) as err:
        golden.evaluate_many("f64.add.rne", vecs)
    e = err.value
    assert isinstance(e, TeecertError)
    assert (e.op_id, e.inputs, e.rational_result, e.mpfr_result) == (
        "f64.add.rne", vecs[1], 0x4008000000000001, 0x4008000000000000)
    msg = str(e)
    for part in ("f64.add.rne", "3ff0000000000000", "4000000000000000", "4008000000000001", "4008000000000000"):
        assert part in msg
    with pytest.raises(golden.ReferenceDisagreement):
        golden.evaluate("f64.add.rne", vecs[1])


def test_disagreement_is_raised_when_mpfr_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    real = mpfr.evaluate_many

    def wrong(op_id: str, args_list: list[tuple[int, ...]]) -> list[int]:
        out = real(op_id, args_list)
        return [r ^ F32.sign_bit for r in out]  # every sign flipped

    monkeypatch.setattr(mpfr, "evaluate_many", wrong)
    with pytest.raises(golden.ReferenceDisagreement, match=r"f32\.sqrt\.rdn\(40800000\).*40000000.*c0000000"):
        golden.evaluate_many("f32.sqrt.rdn", [(0x40800000,)])
    with pytest.raises(golden.ReferenceDisagreement):
        golden.evaluate("f32.mul.rne", (0x3F800000, 0x3F800000))


def test_mpfr_fast_path_runs_mpfr_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(op_id: str) -> Callable[..., int]:
        raise AssertionError("the fast path must not call the rational reference")

    monkeypatch.setattr(rational, "op_function", broken)
    vecs = stream_inputs.vectors(ops.get("f64.div.rup"), 3, 0, 100)
    assert golden.evaluate_mpfr_many("f64.div.rup", vecs) == mpfr.evaluate_many("f64.div.rup", vecs)


@pytest.mark.parametrize(
    ("op_id", "vecs"),
    [
        ("f64.add.rne", [(1,)]),  # arity
        ("f64.add.rne", [(1, 2), (1, 2, 3)]),
        ("f64.sqrt.rne", [(1 << 64,)]),  # too wide
        ("f32.sqrt.rne", [(1 << 32,)]),
        ("f64.mul.rne", [(-1, 0)]),  # negative
        ("f64.mul.rne", [(1.0, 0)]),  # not an integer
        ("f64.nope.rne", [(1, 2)]),  # unknown op
    ],
)
def test_malformed_inputs_are_refused(op_id: str, vecs: list[tuple[int, ...]]) -> None:
    with pytest.raises(MalformedInput):
        golden.evaluate_many(op_id, vecs)
    with pytest.raises(MalformedInput):
        golden.evaluate(op_id, vecs[-1])


def test_unknown_op_in_each_reference() -> None:
    with pytest.raises(MalformedInput):
        rational.op_function("f16.add.rne")
    with pytest.raises(MalformedInput):
        mpfr.evaluate("f16.add.rne", (1, 2))


def test_empty_batches() -> None:
    assert golden.evaluate_many("f64.fma.rne", []) == []
    assert golden.evaluate_mpfr_many("f32.sqrt.rtz", iter([])) == []


def test_batches_accept_any_iterable() -> None:
    vecs = stream_inputs.vectors(ops.get("f32.fma.rdn"), 4, 0, 50)
    assert golden.evaluate_many("f32.fma.rdn", iter(vecs)) == [golden.evaluate("f32.fma.rdn", v) for v in vecs]
