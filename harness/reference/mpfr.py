"""Reference 2 of 2: MPFR (through gmpy2) emulating IEEE 754 binary32/binary64.

MPFR computes every basic operation correctly rounded at any precision; a gmpy2
context with the format's precision, the format's exponent range and
``subnormalize=True`` makes each result the IEEE 754 result, subnormals and
overflow included (MPFR manual, "mpfr_subnormalize": the subnormal rounding uses
the ternary value of the first rounding, so there is no double rounding).  This
is the second, independent way of computing each golden value; ``golden``
compares it with ``rational``.  It is also the fast path that ``checks.locate``
uses to find a divergent vector in a chunk already verified by both.

Exponent convention: MPFR significands lie in [1/2, 1), IEEE's in [1, 2), so an
MPFR exponent is the IEEE exponent plus one.  The context therefore has
``emax = emax_IEEE + 1`` (1024 / 128) and ``emin`` = the MPFR exponent of the
smallest subnormal ``2^QMIN`` = ``QMIN + 1`` (-1073 / -148), as ``gmpy2.ieee()``
does.

Bit patterns cross into and out of MPFR as host doubles, converted by memory
reinterpretation (``array``), never by arithmetic: every binary32 and binary64
value is a double exactly, gmpy2 converts a double argument exactly (at 53 bits,
whatever the context precision), and ``float()`` of an MPFR value that is a
format value is exact.  The binary32 widening/narrowing casts are exact for the
same reason.  This relies on the host's default FP environment (no FTZ/DAZ)
while converting; were it poisoned, the rational reference (pure integers)
would disagree and ``golden`` would refuse the value.

Round to integral, the conversions between the formats and minimum/maximum are
MPFR's own functions in these contexts (``_extra_kernel``); a conversion's result
is subnormalized in the destination format's context.

Every NaN result becomes the canonical NaN (docs/ops.md); MPFR has no NaN
payloads or signs to leak, but the canonicalization is explicit anyway.  MPFR's
signed-zero rules (``x - x = +0`` except ``-0`` rounding down, ``sqrt(-0) = -0``,
``fma`` zero signs) match IEEE 754 and are checked against the rational
reference and hand-derived cases in ``tests/reference/test_reference.py``.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

import gmpy2

from ..errors import MalformedInput
from ..ops import CATALOGUE, F32, F64, FLOAT_OPS, FloatFormat, Op

_ROUND = {
    "rne": gmpy2.RoundToNearest,
    "rtz": gmpy2.RoundToZero,
    "rup": gmpy2.RoundUp,
    "rdn": gmpy2.RoundDown,
}

# array typecodes holding one format value as an unsigned integer / a host float.
_INT_CODE = {32: "I", 64: "Q"}
_FLOAT_CODE = {32: "f", 64: "d"}
# "I" is 4 bytes and "Q", "f", "d" the expected sizes on every platform teecert
# runs on; the reinterpretation below depends on it, so check rather than assume.
for _w, _codes in ((32, "If"), (64, "Qd")):
    for _code in _codes:
        if array(_code).itemsize * 8 != _w:  # pragma: no cover - exotic C data model
            raise ImportError(f"array typecode {_code!r} is not {_w} bits wide here")


def context(fmt: FloatFormat, rounding: str) -> Any:
    """A gmpy2 context emulating ``fmt`` in the rounding direction ``rounding``."""
    qmin = fmt.emin - fmt.frac_bits  # exponent of the smallest subnormal (-1074, -149)
    return gmpy2.context(
        precision=fmt.precision,
        emin=qmin + 1,
        emax=fmt.emax + 1,
        subnormalize=True,
        round=_ROUND[rounding],
        # Invalid operations, division by zero, overflow: return NaN / inf as
        # IEEE says rather than raising (these are gmpy2's defaults; pinned here).
        trap_invalid=False,
        trap_divzero=False,
        trap_overflow=False,
        trap_underflow=False,
        trap_inexact=False,
        trap_erange=False,
        allow_complex=False,
    )


def _build_contexts() -> dict[tuple[str, str], Any]:
    # One context per (format, direction), built once: creating a context costs
    # more than an operation.  Ops whose id has no direction (exact ones) and
    # round-to-integral ties-away (``round_away`` below) use the "rne" context.
    return {(fmt.name, rnd): context(fmt, rnd) for fmt in (F32, F64) for rnd in _ROUND}


_CONTEXTS = _build_contexts()


def _get_op(op_id: str) -> Op:
    op = CATALOGUE.get(op_id) if isinstance(op_id, str) else None
    if op is None or op.kind != "float":  # libm functions: reference/libm.py
        raise MalformedInput(f"mpfr reference: unknown op {op_id!r} (see docs/ops.md)")
    return op


def _columns(op: Op, args_list: Sequence[Sequence[int]]) -> list[list[float]]:
    """The inputs as host doubles carrying the exact values, one list per operand."""
    fmt = op.fmt
    flat = array(_INT_CODE[fmt.width], chain.from_iterable(args_list))
    floats: array[float] = array(_FLOAT_CODE[fmt.width])
    floats.frombytes(flat.tobytes())
    values = floats.tolist()  # binary32 is widened to double here: exact
    a = op.arity
    if a == 1:
        return [values]
    return [values[i::a] for i in range(a)]


def _to_bits(fmt: FloatFormat, results: Iterable[Any]) -> list[int]:
    """Bit patterns of MPFR results that are values of ``fmt``; NaN -> canonical."""
    # float() of a format value is exact; the binary32 array narrows exactly too.
    floats = array(_FLOAT_CODE[fmt.width], map(float, results))
    ints: array[int] = array(_INT_CODE[fmt.width])
    ints.frombytes(floats.tobytes())
    abs_mask = fmt.mask >> 1
    inf = fmt.inf
    cnan = fmt.canonical_nan
    return [b if b & abs_mask <= inf else cnan for b in ints.tolist()]


def _extra_kernel(op: Op) -> Callable[[list[list[float]]], list[Any]]:
    """Round-to-integral, the conversions between the formats, minimum and maximum.

    - roundToIntegral: ``mpfr_rint`` in the direction's context (``mpfr_round``,
      ties away from zero, for ``rna``); the integer has at most ``P`` bits, so the
      context's precision never rounds it again, and MPFR keeps the operand's sign
      on a zero result.
    - convertFormat: ``mpfr_set`` (gmpy2's ``plus``) into the *destination*
      format's context: one rounding, subnormalized there.
    - minimum / maximum: NaN first (either operand NaN gives NaN), then
      ``mpfr_min`` / ``mpfr_max``, which order -0 below +0 exactly as IEEE 754-2019
      minimum and maximum do (MPFR manual, "mpfr_min").  The rational reference
      decides on exact integers instead of MPFR's comparison."""
    name = op.name
    if name == "round_integral":
        ctx = _CONTEXTS[(op.fmt.name, "rne" if op.rounding == "rna" else op.rounding)]
        fn = ctx.round_away if op.rounding == "rna" else ctx.rint
        return lambda cols: list(map(fn, cols[0]))
    if name in ("minimum", "maximum"):
        ctx = _CONTEXTS[(op.fmt.name, "rne")]
        pick = ctx.maxnum if name == "maximum" else ctx.minnum  # mpfr_max / mpfr_min
        nan = gmpy2.nan()
        is_nan = gmpy2.is_nan

        def min_max(cols: list[list[float]]) -> list[Any]:
            return [nan if is_nan(a) or is_nan(b) else pick(a, b) for a, b in zip(cols[0], cols[1], strict=True)]

        return min_max
    ctx = _CONTEXTS[(op.result_fmt.name, op.rounding or "rne")]
    plus = ctx.plus
    return lambda cols: list(map(plus, cols[0]))


def _kernel(op: Op) -> Callable[[list[list[float]]], list[Any]]:
    """The batch computation of ``op`` over operand columns, as MPFR values."""
    if op.name not in FLOAT_OPS:
        return _extra_kernel(op)
    ctx = _CONTEXTS[(op.fmt.name, op.rounding)]
    name = op.name
    if name == "mul_add_unfused":
        mul, add = ctx.mul, ctx.add

        def unfused(cols: list[list[float]]) -> list[Any]:
            # Two roundings in the same emulated context: the product is rounded
            # (and subnormalized, or overflowed) before the addition sees it.
            products = list(map(mul, cols[0], cols[1]))
            return list(map(add, products, cols[2]))

        return unfused
    fn = getattr(ctx, name)  # add, sub, mul, div, sqrt, fma: one MPFR call each

    def single(cols: list[list[float]]) -> list[Any]:
        return list(map(fn, *cols))

    return single


#: Vectors per internal block: bounds the live MPFR objects (~100 bytes each) for
#: callers that pass millions of vectors at once; large enough to amortize setup.
_BLOCK = 1 << 16


def evaluate_many(op_id: str, args_list: Iterable[Sequence[int]]) -> list[int]:
    """The results of one op over many vectors of input bit patterns.

    Inputs must be valid bit patterns of the op's format (``golden`` checks)."""
    op = _get_op(op_id)
    vecs = args_list if isinstance(args_list, list) else list(args_list)
    kernel = _kernel(op)
    if len(vecs) <= _BLOCK:
        return _to_bits(op.result_fmt, kernel(_columns(op, vecs))) if vecs else []
    out: list[int] = []
    for i in range(0, len(vecs), _BLOCK):
        out.extend(_to_bits(op.result_fmt, kernel(_columns(op, vecs[i : i + _BLOCK]))))
    return out


def evaluate(op_id: str, args: Sequence[int]) -> int:
    """The result bit pattern of one op on one vector of input bit patterns."""
    return evaluate_many(op_id, [args])[0]
