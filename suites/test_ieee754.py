"""IEEE 754 binary32/binary64 arithmetic under consensus semantics.

Every op of the vector set, in every rounding direction: the explicit edge cases
(zeros, subnormals, infinities, NaN payloads, ties, overflow and underflow
boundaries) bit for bit, and the op's stream of a million generated vectors by
its Merkle root.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from teecert import checks
from teecert.session import Session


def test_explicit(vector_op: str, teecert_session: Session, require_op: Callable[[str], object],
                  teecert_record: Callable[..., None]) -> None:
    require_op(vector_op)
    from teecert import ops

    op = ops.get(vector_op)
    finding = checks.explicit(teecert_session.probe, op, teecert_session.vector_set.explicit(vector_op))
    teecert_record(**finding.record)
    if not finding.ok:
        pytest.fail(finding.message, pytrace=False)


def test_stream(vector_op: str, teecert_session: Session, require_op: Callable[[str], object],
                teecert_record: Callable[..., None]) -> None:
    require_op(vector_op)
    st = teecert_session.streams[vector_op]
    finding = checks.stream(teecert_session.probe, st, teecert_session.stream_chunks(st))
    teecert_record(**finding.record)
    if not finding.ok:
        pytest.fail(finding.message, pytrace=False)


test_stream.teecert_ops = "stream"  # type: ignore[attr-defined]
