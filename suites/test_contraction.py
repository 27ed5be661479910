"""Contraction and excess precision: one vector tells three builds apart.

``(1 + 2^-52) * (1 - 2^-53) - 1`` is 0 with two binary64 roundings,
``3c9ffffffffffffe`` when the compiler fused it into an FMA and ``3ca0000000000000``
when it was evaluated in x87 80-bit registers (docs/ops.md).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from teecert.certify.judge import vectors as checks
from teecert.certify.session import TrackedProbe

CONTRACTION = (0x3FF0000000000001, 0x3FEFFFFFFFFFFFFF, 0xBFF0000000000000)
VERDICTS = {
    0x0000000000000000: "two roundings (consensus semantics)",
    0x3C9FFFFFFFFFFFFE: "fused into an FMA (contraction)",
    0x3CA0000000000000: "x87 80-bit intermediate (excess precision)",
}
# The binary32 analogue: (1 + 2^-23) * (1 - 2^-24) - 1
CONTRACTION_F32 = (0x3F800001, 0x3F7FFFFF, 0xBF800000)
VERDICTS_F32 = {
    0x00000000: "two roundings (consensus semantics)",
    0x337FFFFE: "fused into an FMA, or evaluated in a wider format",
}


@pytest.mark.parametrize(
    ("op_id", "vector", "verdicts"),
    [
        ("f64.mul_add_unfused.rne", CONTRACTION, VERDICTS),
        ("f32.mul_add_unfused.rne", CONTRACTION_F32, VERDICTS_F32),
    ],
)
def test_contraction_vector(op_id: str, vector: tuple[int, ...], verdicts: dict[int, str],
                            probe: TrackedProbe, require_op: Callable[[str], object],
                            teecert_record: Callable[..., None]) -> None:
    op = require_op(op_id)
    (got,) = probe.run_values(op, [vector])  # type: ignore[arg-type]
    width = 16 if op_id.startswith("f64") else 8
    build = verdicts.get(got, "unknown evaluation")
    msg = f"{op_id}({', '.join(format(x, f'0{width}x') for x in vector)}) = {got:0{width}x}: {build}"
    divergence = None if got == 0 else checks.divergence(op, 0, vector, 0, got)  # type: ignore[arg-type]
    teecert_record(op=op_id, kind="explicit", vectors=1, failures=int(got != 0), message=msg,
                   divergence=divergence)
    if got != 0:
        pytest.fail(msg, pytrace=False)
