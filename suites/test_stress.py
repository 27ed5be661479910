"""Stress under perturbation: the profile's streams in fresh probe processes, round
after round, under every perturbation the profile lists (``teecert.certify.stress``).

Every output of every process must equal the golden one; a difference names the
perturbation, the round, the process, the op and the first differing vector.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from teecert.certify import stress
from teecert.certify.session import Session

_GOLDEN: dict[int, tuple[stress.Plan, list[stress.GoldenChunk], tuple[str, ...]]] = {}


def _plan(session: Session) -> tuple[stress.Plan, list[stress.GoldenChunk], tuple[str, ...]]:
    """The plan (the ops the probe declares), the golden outputs of its float and data
    streams (libm streams are the libm suite's: ``test_libm.py::test_libm_perturbation``)
    and the plan's ops the probe does not declare."""
    key = id(session)
    if key not in _GOLDEN:
        plan = stress.plan_from_profile(session.profile.data["stress"], session.streams,
                                        f"profile {session.profile.id}")
        plan, undeclared = stress.declared_by(plan, session.probe.declared)
        _GOLDEN[key] = (plan, [stress.golden_chunk(st, k)
                               for st, k in stress.chunks_of(plan, "golden")], undeclared)
    return _GOLDEN[key]


def test_perturbation(perturbation: str, teecert_session: Session,
                      teecert_record: Callable[..., None]) -> None:
    plan, goldens, undeclared = _plan(teecert_session)
    ok, record = stress.check(plan, perturbation, goldens, teecert_session, "golden", undeclared)
    teecert_record(**record)
    if not ok:
        pytest.fail(record["message"], pytrace=False)
