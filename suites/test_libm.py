"""libm: the platform's elementary functions against correctly rounded results.

Per function and format: the hard cases bit for bit, and the function's stream of
generated inputs (``teecert-libm-v1``) by its Merkle root.  Each result records how
many outputs differ from correctly rounded and the largest error in ULPs; the
profile decides what passes (correctly rounded, or the digest it pins for its
approved environment) and whether the suite is required or advisory.  Whether the
results change under perturbation is the stress suite's ``test_libm_determinism``,
required in every profile.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from teecert.certify.judge import libm as libm_check
from teecert.certify.session import Session


@pytest.fixture(autouse=True)
def _named_by_the_profile(teecert_session: Session) -> None:
    """The libm suite costs seconds a run; a profile that does not name it (so would
    never judge it) skips it."""
    if "libm" not in teecert_session.profile.suites:
        pytest.skip(f"profile {teecert_session.profile.id} does not name the libm suite")


def _pins(session: Session) -> dict[str, object]:
    libm = session.profile.data.get("libm")
    return dict(libm.get("pinned", {})) if isinstance(libm, dict) else {}


def test_libm_explicit(vector_op: str, teecert_session: Session,
                       require_op: Callable[[str], object],
                       teecert_record: Callable[..., None]) -> None:
    op = require_op(vector_op)
    finding = libm_check.explicit(teecert_session.probe, op,  # type: ignore[arg-type]
                                  teecert_session.vector_set.explicit(vector_op),
                                  _pins(teecert_session))
    teecert_record(**finding.record)
    if not finding.ok:
        pytest.fail(finding.message, pytrace=False)


def test_libm_stream(vector_op: str, teecert_session: Session,
                     require_op: Callable[[str], object],
                     teecert_record: Callable[..., None]) -> None:
    require_op(vector_op)
    st = teecert_session.streams[vector_op]
    finding = libm_check.stream(teecert_session.probe, st, _pins(teecert_session),
                                teecert_session.stream_chunks(st))
    teecert_record(**finding.record)
    if not finding.ok:
        pytest.fail(finding.message, pytrace=False)


test_libm_explicit.teecert_family = "libm"  # type: ignore[attr-defined]
test_libm_stream.teecert_family = "libm"  # type: ignore[attr-defined]
test_libm_stream.teecert_ops = "stream"  # type: ignore[attr-defined]
