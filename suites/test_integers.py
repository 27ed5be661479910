"""Integers, conversions and the data model under consensus semantics.

Everything C leaves undefined or implementation-defined, and hardware answers in
its own way, given one result (docs/ops-integers.md): wrapping i32/i64 arithmetic,
division by zero and ``MIN / -1``, shifts by the width or more, clz/ctz/popcnt of
0, saturating float -> int (NaN -> 0), correctly rounded int -> float in every
direction, locale-free correctly rounded decimal <-> binary64, the canonical byte
layout of a record (no padding, no uninitialized byte), and a stable sort with many
equal keys.  Per op: the explicit edge cases bit for bit, then the op's stream of
generated vectors (``teecert-data-v1``) by its Merkle root.
"""

from __future__ import annotations

from collections.abc import Callable


def test_explicit(vector_op: str, judge_op: Callable[[str, str], None]) -> None:
    judge_op(vector_op, "explicit")


def test_stream(vector_op: str, judge_op: Callable[[str, str], None]) -> None:
    judge_op(vector_op, "stream")


test_explicit.teecert_family = "int"  # type: ignore[attr-defined]
test_stream.teecert_family = "int"  # type: ignore[attr-defined]
test_stream.teecert_ops = "stream"  # type: ignore[attr-defined]
