"""Golden values: both references, which must agree, or no golden value at all.

DESIGN.md: "Every golden value is computed by two independent references that
must agree".  ``rational`` (exact integers and a hand-written IEEE 754 rounding)
and ``mpfr`` (MPFR through gmpy2 emulating the format) share no arithmetic code,
so a bug or a host-environment fault in one shows up as a disagreement here,
which is raised (``ReferenceDisagreement``) rather than written into a vector
file or a stream commitment.

``evaluate_mpfr_many`` runs MPFR alone.  It is only for re-deriving outputs that
both references already produced once (``checks.locate`` searching a chunk
whose committed root was generated with ``evaluate_many``); whatever it finds is
confirmed with ``evaluate``.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from itertools import chain

from ..errors import MalformedInput, TeecertError
from ..ops import CATALOGUE, DATA_KINDS, Op
from . import data, mpfr, rational


class ReferenceDisagreement(TeecertError):
    """The two references computed different results for the same op and inputs.

    This is a defect of teecert (or of the host it runs on), never of a probe:
    no golden value exists for the vector until it is resolved."""

    def __init__(self, op_id: str, args: Sequence[int], rational_result: int, mpfr_result: int) -> None:
        op = CATALOGUE[op_id]
        fmt, out = op.fmt, op.result_fmt  # a conversion's result is of the other format
        super().__init__(
            f"references disagree on {op_id}({', '.join(fmt.hex(a) for a in args)}): "
            f"rational gives {out.hex(rational_result)}, mpfr gives {out.hex(mpfr_result)}"
        )
        # (Not ``args``: BaseException keeps the message there.)
        self.op_id = op_id
        self.inputs = tuple(args)
        self.rational_result = rational_result
        self.mpfr_result = mpfr_result


def _op(op_id: str) -> Op:
    try:
        return CATALOGUE[op_id]
    except (KeyError, TypeError):
        raise MalformedInput(f"golden: unknown op {op_id!r} (see docs/ops.md)") from None


def _checked(op: Op, args_list: Iterable[Sequence[int]]) -> list[Sequence[int]]:
    """The vectors as a list, after checking arity and that every value is an
    unsigned integer of the format's width (the references assume both)."""
    vecs = args_list if isinstance(args_list, list) else list(args_list)
    if not vecs:
        return vecs
    if op.kind in DATA_KINDS:

        for v in vecs:
            data.check_vector(op, v)
        return vecs
    lengths = set(map(len, vecs))
    if lengths != {op.arity}:
        bad = next(v for v in vecs if len(v) != op.arity)
        raise MalformedInput(f"golden: {op.id} takes {op.arity} operands, got {len(bad)}: {bad!r}")
    # One C-level pass: array() refuses non-integers (TypeError) and values
    # outside 0 .. 2^width - 1 (OverflowError).
    try:
        array("Q" if op.fmt.width == 64 else "I", chain.from_iterable(vecs))
    except (TypeError, OverflowError):
        for v in vecs:
            for x in v:
                if type(x) is not int or not 0 <= x <= op.fmt.mask:
                    raise MalformedInput(
                        f"golden: {op.id} operand {x!r} is not a {op.fmt.width}-bit pattern"
                    ) from None
        raise  # pragma: no cover - array() failed for a reason we did not foresee
    return vecs


def evaluate(op_id: str, args: Sequence[int]) -> int:
    """The golden result bit pattern of ``op_id`` on one vector of bit patterns.

    Raises ``ReferenceDisagreement`` if the references differ, ``MalformedInput``
    for an unknown op or inputs that are not bit patterns of the op's format."""
    op = _op(op_id)
    (vec,) = _checked(op, [args])
    if op.kind in DATA_KINDS:

        return data.evaluate_many(op, [vec])[0]
    if op.kind == "libm":  # correctly rounded: MPFR and mpmath must agree
        from . import libm  # mpmath costs ~0.1 s to import: only libm ops need it

        return libm.golden(op.name, op.fmt, vec)
    r = rational.op_function(op_id)(*vec)
    m = mpfr.evaluate(op_id, vec)
    if r != m:
        raise ReferenceDisagreement(op_id, vec, r, m)
    return r


def evaluate_many(op_id: str, args_list: Iterable[Sequence[int]]) -> list[int]:
    """Golden results of ``op_id`` over many vectors, both references agreeing.

    Each reference runs over the whole batch with its function looked up once;
    the first vector where they differ is raised as ``ReferenceDisagreement``."""
    op = _op(op_id)
    vecs = _checked(op, args_list)
    if op.kind in DATA_KINDS:

        return data.evaluate_many(op, vecs)
    if op.kind == "libm":
        from . import libm  # mpmath costs ~0.1 s to import: only libm ops need it

        return libm.golden_many(op.name, op.fmt, vecs)
    r = rational.evaluate_many(op_id, vecs)
    m = mpfr.evaluate_many(op_id, vecs)
    if r != m:
        for vec, x, y in zip(vecs, r, m, strict=True):
            if x != y:
                raise ReferenceDisagreement(op_id, vec, x, y)
    return r


def evaluate_mpfr_many(op_id: str, args_list: Iterable[Sequence[int]]) -> list[int]:
    """MPFR results alone, for localizing a divergence in a chunk whose golden
    outputs both references already produced (see the module docstring)."""
    op = _op(op_id)
    if op.kind in DATA_KINDS:  # one reference, confirmed as it goes (reference.data)
        return evaluate_many(op_id, args_list)
    if op.kind == "libm":
        from . import libm  # mpmath costs ~0.1 s to import: only libm ops need it

        return libm.mpfr_values(op.name, op.fmt, _checked(op, args_list))
    return mpfr.evaluate_many(op_id, _checked(op, args_list))
