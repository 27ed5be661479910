"""The explicit vectors of the libm functions: hard cases and domain values."""

from __future__ import annotations

from ...ops import Op
from ..streams import libm as libm_streams
from .common import Group


def groups_for(op: Op) -> list[Group]:
    """A libm function's explicit vectors: its hard cases (``reference.libm.hard_cases``:
    special and boundary values, exact results, argument-reduction traps, published
    worst cases of correct rounding), split into those with a non-finite or zero
    operand and the rest, plus values drawn from its stream domain."""
    from ...reference import libm  # mpmath costs ~0.1 s to import: only libm ops need it

    fmt = op.fmt
    special = Group("special", "NaN, infinite or zero operands (C11 Annex F special values)")
    hard = Group("hard", "boundaries, exact results, argument-reduction traps and known worst "
                 "cases of correct rounding")

    def odd(x: int) -> bool:
        return fmt.is_nan(x) or (x & ~fmt.sign_bit) in (0, fmt.inf)

    seen: set[tuple[int, ...]] = set()
    for case in libm.hard_cases(op.name, fmt):
        if case in seen:
            continue
        seen.add(case)
        (special if any(odd(x) for x in case) else hard).add(case)
    domain = Group("domain", "values drawn from the function's stream domain (teecert-libm-v1)")
    for vec in libm_streams.vectors(op, 0xE0, 0, 64):
        if vec not in seen:
            seen.add(vec)
            domain.add(vec)
    return [g for g in (special, hard, domain) if g.cases]
