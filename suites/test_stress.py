"""Stress under perturbation: the profile's streams in fresh probe processes, round
after round, under every perturbation the profile lists (``teecert.certify.stress``).

Every output of every process must equal the golden one; a difference names the
perturbation, the round, the process, the op and the first differing vector.

The libm functions of the plan are held to determinism, not to correct rounding:
a platform's libm need not be correctly rounded (the libm suite measures that, at
the level the profile gives it), but its results must not change with the
environment (glibc picks exp, sin, pow ... by CPU feature, and some libms follow
the caller's rounding mode).  Each is compared with a fresh unperturbed process, and
a difference is a required failure in every profile (``teecert.report.verdict``).

A check that compared nothing (the perturbation cannot be applied here, or the plan
has no stream for it) is skipped with the reason, never passed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from teecert.certify import stress
from teecert.certify.session import Session

_Plan = tuple[stress.Plan, list[stress.GoldenChunk], tuple[str, ...]]
_GOLDEN: dict[int, _Plan] = {}
_BASELINES: dict[int, _Plan] = {}


def _declared_plan(session: Session, kind: str) -> tuple[stress.Plan, tuple[str, ...]]:
    """The profile's plan without the ops the probe does not declare, and the plan's
    ``kind`` ops ("golden": float and data; "libm") that the probe does not declare."""
    plan = stress.plan_from_profile(session.profile.data["stress"], session.streams,
                                    f"profile {session.profile.id}")
    kept, undeclared = stress.declared_by(plan, session.probe.declared)
    libm = {st.op.id for st in plan.streams if st.op.kind == "libm"}
    mine = tuple(o for o in undeclared if (o in libm) == (kind == "libm"))
    return kept, mine


def _golden(session: Session) -> _Plan:
    """The plan, the golden outputs of its float and data streams, and the plan's
    float and data ops the probe does not declare."""
    key = id(session)
    if key not in _GOLDEN:
        plan, undeclared = _declared_plan(session, "golden")
        checked = stress.CheckedOutputs()  # the first outputs that hash to each leaf
        _GOLDEN[key] = (plan, [stress.golden_chunk(st, k, checked)
                               for st, k in stress.chunks_of(plan, "golden")], undeclared)
    return _GOLDEN[key]


def _baselines(session: Session) -> _Plan:
    """The plan, what a fresh unperturbed process gives for its libm streams, and the
    plan's libm ops the probe does not declare."""
    key = id(session)
    if key not in _BASELINES:
        plan, undeclared = _declared_plan(session, "libm")
        pairs = stress.chunks_of(plan, "libm")
        chunks = (stress.baseline_chunks(pairs, stress.host_of(session), session.probe_timeout)
                  if pairs else [])
        _BASELINES[key] = (plan, chunks, undeclared)
    return _BASELINES[key]


def _judge(status: str, record: dict[str, Any], teecert_record: Callable[..., None]) -> None:
    if status == stress.UNSUPPORTED:
        record["unsupported"] = True
    teecert_record(**record)
    if status in (stress.NOT_APPLICABLE, stress.UNSUPPORTED):
        pytest.skip(record["message"])
    if status != stress.PASSED:
        pytest.fail(record["message"], pytrace=False)


def _run(plan_of: Callable[[Session], _Plan], perturbation: str, session: Session,
         against: str, what: str, teecert_record: Callable[..., None]) -> None:
    plan, chunks, undeclared = plan_of(session)
    status, record = stress.check(plan, perturbation, chunks, session, against, undeclared, what)
    _judge(status, record, teecert_record)


def test_perturbation(perturbation: str, teecert_session: Session,
                      teecert_record: Callable[..., None]) -> None:
    _run(_golden, perturbation, teecert_session, "golden", "float and data", teecert_record)


def test_libm_determinism(perturbation: str, teecert_session: Session,
                          teecert_record: Callable[..., None]) -> None:
    _run(_baselines, perturbation, teecert_session, "an unperturbed process", "libm",
         teecert_record)
