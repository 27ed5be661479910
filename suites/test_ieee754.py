"""IEEE 754 binary32/binary64 arithmetic under consensus semantics.

Every op of the vector set, in every rounding direction: the explicit edge cases
(zeros, subnormals, infinities, NaN payloads, ties, overflow and underflow
boundaries) bit for bit, and the op's stream of a million generated vectors by
its Merkle root.
"""

from __future__ import annotations

from collections.abc import Callable


def test_explicit(vector_op: str, judge_op: Callable[[str, str], None]) -> None:
    judge_op(vector_op, "explicit")


def test_stream(vector_op: str, judge_op: Callable[[str, str], None]) -> None:
    judge_op(vector_op, "stream")


test_stream.teecert_ops = "stream"  # type: ignore[attr-defined]
