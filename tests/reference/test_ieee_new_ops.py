"""Round to integral, the conversions between the formats, minimum and maximum: the two
references (``reference.rational`` and ``reference.mpfr``) against each other and
against a third witness that shares no code with either.

The third witness is Python's own arithmetic where it is exact or correctly rounded:
``math.floor``/``ceil``/``trunc`` and ``round()`` (ties to even) for round to integral,
``fractions.Fraction`` for ties away from zero, ``struct``'s ``f`` packing (one C cast
to float, round to nearest even) for binary64 -> binary32, with the directed roundings
derived from it by exact ``Fraction`` comparisons, and ``struct`` widening for
binary32 -> binary64.  Hand-derived cases pin the semantics of docs/ops.md.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teecert import ops
from teecert.ops import F32, F64, FloatFormat
from teecert.reference import golden, mpfr, rational
from teecert.vectors import design

NEW_OPS = [op for op in ops.CATALOGUE.values() if op.kind == "float" and op.name not in ops.FLOAT_OPS]
HYP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_catalogue_has_the_new_ops() -> None:
    ids = {op.id for op in NEW_OPS}
    for fmt in ("f32", "f64"):
        assert {f"{fmt}.round_integral.{r}" for r in ("rne", "rtz", "rup", "rdn", "rna")} <= ids
        assert {f"{fmt}.minimum", f"{fmt}.maximum"} <= ids
    assert {f"f64.to_f32.{r}" for r in ("rne", "rtz", "rup", "rdn")} | {"f32.to_f64"} <= ids
    assert len(ids) == 19
    narrow, widen = ops.get("f64.to_f32.rne"), ops.get("f32.to_f64")
    assert (narrow.in_bytes, narrow.out_bytes, narrow.result_fmt) == (8, 4, F32)
    assert (widen.in_bytes, widen.out_bytes, widen.result_fmt) == (4, 8, F64)


# --------------------------------------------------------------------------------------
# Bit patterns <-> Python floats, through struct (not the references' code).


def to_float(fmt: FloatFormat, bits: int) -> float:
    code = "<d" if fmt.width == 64 else "<f"
    return float(struct.unpack(code, bits.to_bytes(fmt.bytes, "little"))[0])


def to_bits(fmt: FloatFormat, x: float) -> int:
    if math.isnan(x):
        return fmt.canonical_nan
    code, icode = ("<d", "<Q") if fmt.width == 64 else ("<f", "<I")
    return int(struct.unpack(icode, struct.pack(code, x))[0])


def witness_round_integral(fmt: FloatFormat, rounding: str, bits: int) -> int:
    x = to_float(fmt, bits)
    if math.isnan(x):
        return fmt.canonical_nan
    if math.isinf(x) or x == 0:
        return bits
    n: int
    if rounding == "rne":
        n = round(x)  # Python's round() ties to even
    elif rounding == "rtz":
        n = math.trunc(x)
    elif rounding == "rup":
        n = math.ceil(x)
    elif rounding == "rdn":
        n = math.floor(x)
    else:  # rna: away from zero on a tie, from the exact value
        n = int(math.copysign(math.floor(abs(Fraction(x)) + Fraction(1, 2)), x))
    # a zero result keeps the operand's sign; any other integer is exact in the format
    return to_bits(fmt, math.copysign(0.0, x) if n == 0 else float(n))


def _next32(bits: int, up: bool) -> int:
    """The binary32 neighbour of ``bits`` above (``up``) or below, as bit patterns."""
    if bits & 0x7FFFFFFF == 0:
        return 1 if up else 0x80000001
    toward_bigger_magnitude = up != bool(bits >> 31)
    return bits + 1 if toward_bigger_magnitude else bits - 1


def witness_narrow(rounding: str, bits: int) -> int:
    x = to_float(F64, bits)
    if math.isnan(x):
        return F32.canonical_nan
    try:
        r = to_bits(F32, x)  # one C cast (float)x: round to nearest even
    except OverflowError:  # struct refuses a finite x that rounds to infinity
        r = F32.inf | (F32.sign_bit if x < 0 else 0)
    if math.isinf(x) or rounding == "rne":
        return r
    exact = Fraction(x)

    def value(b: int) -> Fraction | None:
        v = to_float(F32, b)
        return None if math.isinf(v) else Fraction(v)

    def above(b: int) -> bool:  # the binary32 value b lies above x
        v = value(b)
        return v > exact if v is not None else b == F32.inf

    def below(b: int) -> bool:
        v = value(b)
        return v < exact if v is not None else b == F32.sign_bit | F32.inf

    down = rounding == "rdn" or (rounding == "rtz" and x > 0)
    if down and above(r):
        r = _next32(r, up=False)
    elif not down and below(r):
        r = _next32(r, up=True)
    if r & 0x7FFFFFFF == 0:  # a result that rounds to zero keeps the sign of x
        r = F32.sign_bit if x < 0 or (x == 0 and bits >> 63) else 0
    return r


def witness_min_max(fmt: FloatFormat, maximum: bool, a: int, b: int) -> int:
    x, y = to_float(fmt, a), to_float(fmt, b)
    if math.isnan(x) or math.isnan(y):
        return fmt.canonical_nan
    if x == y:  # equal: only +0 and -0 can differ; -0 is the smaller
        signs = (math.copysign(1, x) < 0, math.copysign(1, y) < 0)
        neg = all(signs) if maximum else any(signs)
        return to_bits(fmt, x) if x != 0 else (fmt.sign_bit if neg else 0)
    return to_bits(fmt, max(x, y) if maximum else min(x, y))


def witness(op: ops.Op, vec: Sequence[int]) -> int:
    if op.name == "round_integral":
        return witness_round_integral(op.fmt, op.rounding, vec[0])
    if op.name in ("minimum", "maximum"):
        return witness_min_max(op.fmt, op.name == "maximum", vec[0], vec[1])
    if op.id == "f32.to_f64":
        return to_bits(F64, to_float(F32, vec[0]))
    return witness_narrow(op.rounding, vec[0])


# --------------------------------------------------------------------------------------
# The explicit edge cases: both references and the witness agree on every one.


@pytest.mark.parametrize("op_id", [op.id for op in NEW_OPS])
def test_references_and_witness_agree_on_the_edge_cases(op_id: str) -> None:
    op = ops.get(op_id)
    vecs = [c[0] for g in design.groups_for(op) for c in g.cases]
    r = rational.evaluate_many(op_id, vecs)
    m = mpfr.evaluate_many(op_id, vecs)
    w = [witness(op, v) for v in vecs]
    for v, a, b, c in zip(vecs, r, m, w, strict=True):
        assert a == b == c, (op_id, [hex(x) for x in v], hex(a), hex(b), hex(c))


def _bits(fmt: FloatFormat) -> st.SearchStrategy[int]:
    """Any bit pattern, with the awkward ones (zeros, ties, subnormals, near-integers)
    over-weighted."""
    s = fmt.sign_bit
    near_one = st.builds(lambda sg, e, f: sg | ((fmt.bias + e) << fmt.frac_bits) | f,
                         st.sampled_from([0, s]), st.integers(-3, fmt.precision + 1),
                         st.integers(0, fmt.frac_mask))
    tie_low = st.builds(lambda v, k: v & ~((1 << k) - 1) | (1 << k >> 1), near_one,
                        st.integers(1, fmt.frac_bits))
    edges = st.sampled_from([0, s, 1, s | 1, fmt.frac_mask, fmt.inf, s | fmt.inf, fmt.canonical_nan,
                             fmt.exp_mask | 1, fmt.max_finite, s | fmt.max_finite])
    return st.one_of(st.integers(0, fmt.mask), near_one, tie_low, edges)


@pytest.mark.parametrize("op_id", [op.id for op in NEW_OPS])
@HYP
@given(data=st.data())
def test_references_and_witness_agree_on_random_operands(op_id: str, data: st.DataObject) -> None:
    op = ops.get(op_id)
    vecs = data.draw(st.lists(st.tuples(*[_bits(op.fmt)] * op.arity), min_size=1, max_size=40))
    r = rational.evaluate_many(op_id, vecs)
    m = mpfr.evaluate_many(op_id, vecs)
    assert r == m
    assert r == [witness(op, v) for v in vecs]


@HYP
@given(bits=st.integers(0, F64.mask))
def test_narrowing_near_binary32_ties(bits: int) -> None:
    """Move any binary64 value next to a binary32 tie (the low 29 bits 1000..0, one
    either side): the case a double rounding gets wrong."""
    for low in ((1 << 28) - 1, 1 << 28, (1 << 28) + 1):
        v = (bits & ~((1 << 29) - 1)) | low
        for r in ("rne", "rtz", "rup", "rdn"):
            assert golden.evaluate(f"f64.to_f32.{r}", [v]) == witness_narrow(r, v)


# --------------------------------------------------------------------------------------
# Hand-derived cases (docs/ops.md): inputs and results written out, not computed.

D = {"0": 0, "-0": 0x8000000000000000, "0.3": 0x3FD3333333333333, "-0.3": 0xBFD3333333333333,
     "0.5": 0x3FE0000000000000, "-0.5": 0xBFE0000000000000, "1": 0x3FF0000000000000,
     "-1": 0xBFF0000000000000, "1.5": 0x3FF8000000000000, "2": 0x4000000000000000,
     "2.5": 0x4004000000000000, "-2.5": 0xC004000000000000, "3": 0x4008000000000000,
     "-2": 0xC000000000000000, "-3": 0xC008000000000000}
HAND_INTEGRAL = [  # operand -> rne, rtz, rup, rdn, rna
    ("0.5", ("0", "0", "1", "0", "1")),
    ("-0.5", ("-0", "-0", "-0", "-1", "-1")),
    ("1.5", ("2", "1", "2", "1", "2")),
    ("2.5", ("2", "2", "3", "2", "3")),
    ("-2.5", ("-2", "-2", "-2", "-3", "-3")),
    ("0.3", ("0", "0", "1", "0", "0")),
    ("-0.3", ("-0", "-0", "-0", "-1", "-0")),
    ("-0", ("-0", "-0", "-0", "-0", "-0")),
]


@pytest.mark.parametrize(("x", "want"), HAND_INTEGRAL)
def test_round_integral_by_hand(x: str, want: tuple[str, ...]) -> None:
    for r, w in zip(("rne", "rtz", "rup", "rdn", "rna"), want, strict=True):
        assert golden.evaluate(f"f64.round_integral.{r}", [D[x]]) == D[w], (x, r)


def test_round_integral_of_large_values_and_the_f32_boundary() -> None:
    # 2^52 + 1 (4330000000000001) is an integer; 2^52 - 1/2 (432fffffffffffff) is the
    # tie between 2^52 - 1 and 2^52: even is 2^52
    assert golden.evaluate("f64.round_integral.rne", [0x4330000000000001]) == 0x4330000000000001
    assert golden.evaluate("f64.round_integral.rne", [0x432FFFFFFFFFFFFF]) == 0x4330000000000000
    assert golden.evaluate("f64.round_integral.rtz", [0x432FFFFFFFFFFFFF]) == 0x432FFFFFFFFFFFFE
    # f32: 2^23 - 0.5 = 4aff ffff -> 2^23 = 4b000000 (ties to even), rdn 2^23 - 1 = 4afffffe
    assert golden.evaluate("f32.round_integral.rne", [0x4AFFFFFF]) == 0x4B000000
    assert golden.evaluate("f32.round_integral.rdn", [0x4AFFFFFF]) == 0x4AFFFFFE
    # the largest double below 0.5 (3fdfffffffffffff): rne and rna give +0, not 1
    assert golden.evaluate("f64.round_integral.rna", [0x3FDFFFFFFFFFFFFF]) == 0
    assert golden.evaluate("f64.round_integral.rne", [0x7FF0000000000001]) == 0x7FF8000000000000


def test_narrowing_by_hand() -> None:
    # 1 + 2^-24 is the tie between 1 and 1 + 2^-23: even is 1 (3f800000)
    assert golden.evaluate("f64.to_f32.rne", [0x3FF0000010000000]) == 0x3F800000
    # 1 + 2^-24 + 2^-52: just above the tie -> 1 + 2^-23 (3f800001); a first rounding to
    # fewer than 52 bits would land on the tie and give 3f800000
    assert golden.evaluate("f64.to_f32.rne", [0x3FF0000010000001]) == 0x3F800001
    # FLT_MAX = 47efffffe0000000; + half an ulp (2^103) = 47effffff0000000 ties to even: inf
    half_over = 0x47EFFFFFF0000000
    assert [golden.evaluate(f"f64.to_f32.{r}", [half_over]) for r in ("rne", "rtz", "rup", "rdn")] == [
        0x7F800000, 0x7F7FFFFF, 0x7F800000, 0x7F7FFFFF]
    assert golden.evaluate("f64.to_f32.rne", [half_over - 1]) == 0x7F7FFFFF
    # 2^-150 is half the smallest binary32 subnormal: ties to even gives +0, rup 2^-149
    assert golden.evaluate("f64.to_f32.rne", [0x3690000000000000]) == 0
    assert golden.evaluate("f64.to_f32.rup", [0x3690000000000000]) == 1
    assert golden.evaluate("f64.to_f32.rdn", [0xB690000000000000]) == 0x80000001
    assert golden.evaluate("f64.to_f32.rtz", [0xB690000000000000]) == 0x80000000
    # 3 * 2^-150 (1.5 subnormal ulps): tie between 1 and 2 ulps -> even, 2 (00000002)
    assert golden.evaluate("f64.to_f32.rne", [0x36A8000000000000]) == 2
    # NaNs of every kind: canonical
    for nan in (0x7FF0000000000001, 0xFFF8000000000000, 0x7FFFFFFFFFFFFFFF):
        assert golden.evaluate("f64.to_f32.rne", [nan]) == 0x7FC00000


def test_widening_by_hand() -> None:
    # the smallest binary32 subnormal 2^-149 is a normal binary64: 36a0000000000000
    assert golden.evaluate("f32.to_f64", [1]) == 0x36A0000000000000
    assert golden.evaluate("f32.to_f64", [0x80000000]) == 0x8000000000000000
    assert golden.evaluate("f32.to_f64", [0xFF800000]) == 0xFFF0000000000000
    # a signalling NaN with a payload does not survive: canonical quiet NaN
    assert golden.evaluate("f32.to_f64", [0x7F800001]) == 0x7FF8000000000000


def test_minimum_and_maximum_by_hand() -> None:
    z, nz, one, nan, snan = D["0"], D["-0"], D["1"], 0x7FF8000000000000, 0x7FF0000000000001
    for a, b in ((z, nz), (nz, z)):
        assert golden.evaluate("f64.minimum", [a, b]) == nz
        assert golden.evaluate("f64.maximum", [a, b]) == z
    for a, b in ((nan, one), (one, nan), (snan, one), (one, 0xFFF0000000000001), (nan, snan)):
        assert golden.evaluate("f64.minimum", [a, b]) == nan
        assert golden.evaluate("f64.maximum", [a, b]) == nan
    assert golden.evaluate("f64.minimum", [D["-1"], one]) == D["-1"]
    assert golden.evaluate("f64.maximum", [0xFFF0000000000000, D["-3"]]) == D["-3"]
    assert golden.evaluate("f32.minimum", [0x00000000, 0x80000000]) == 0x80000000
    assert golden.evaluate("f32.maximum", [0x7F800000, 0x7FC00000]) == 0x7FC00000


# --------------------------------------------------------------------------------------
# A reference made wrong is caught.


def test_a_wrong_reference_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Round-to-integral ties-to-even swapped for ties-away in the rational reference:
    golden must refuse a tie rather than pick either answer."""
    away = rational.op_function("f64.round_integral.rna")
    monkeypatch.setitem(rational._FUNCTIONS, "f64.round_integral.rne", away)
    assert golden.evaluate("f64.round_integral.rne", [D["0.3"]]) == 0  # not a tie: agree
    with pytest.raises(golden.ReferenceDisagreement, match=r"f64\.round_integral\.rne\("):
        golden.evaluate("f64.round_integral.rne", [D["2.5"]])


def test_a_disagreement_on_a_conversion_names_both_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(rational._FUNCTIONS, "f64.to_f32.rne", rational.op_function("f64.to_f32.rtz"))
    with pytest.raises(golden.ReferenceDisagreement) as info:
        golden.evaluate("f64.to_f32.rne", [0x3FF0000018000000])  # 1 + 3 * 2^-25: rne rounds up
    # the operand in binary64 hex, the results in binary32 hex
    assert "f64.to_f32.rne(3ff0000018000000)" in str(info.value)
    assert "rational gives 3f800000, mpfr gives 3f800001" in str(info.value)
