"""Shared fixtures of the certification suites (the plugin provides the session)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from teecert import ops
from teecert.certify.judge import vectors as checks
from teecert.certify.session import Session, TrackedProbe
from teecert.vectors import testplan


@pytest.fixture(scope="session")
def probe(teecert_session: Session) -> TrackedProbe:
    return teecert_session.probe


@pytest.fixture
def require_op(probe: TrackedProbe, teecert_record: Callable[..., None]) -> Callable[[str], ops.Op]:
    """Return the op, or end the test as *unsupported* when the probe does not declare
    it (the profile decides whether that fails the run)."""

    def need(op_id: str) -> ops.Op:
        op = ops.get(op_id)
        if op_id not in probe.declared:
            teecert_record(op=op_id, unsupported=True, message=f"probe does not declare {op_id}")
            pytest.skip(f"probe does not declare {op_id}")
        return op

    return need


@pytest.fixture
def judge_op(teecert_session: Session, require_op: Callable[[str], ops.Op],
             teecert_record: Callable[..., None]) -> Callable[[str, str], None]:
    """``judge_op(op_id, kind)``: the op's explicit vectors bit for bit (kind
    "explicit") or its stream by Merkle root ("stream"), as ``teecert.certify.judge.vectors`` does
    them; the finding is recorded and a difference fails the test.  The body of the
    ieee754, integers and hashes suites."""

    def judge(op_id: str, kind: str) -> None:
        op = require_op(op_id)
        if kind == "explicit":
            finding = checks.explicit(teecert_session.probe, op, teecert_session.vector_set.explicit(op_id))
        else:
            st = teecert_session.streams[op_id]
            finding = checks.stream(teecert_session.probe, st, teecert_session.stream_chunks(st))
        teecert_record(**finding.record)
        if not finding.ok:
            pytest.fail(finding.message, pytrace=False)

    return judge


def pytest_generate_tests(metafunc: Any) -> None:
    """Parametrize ``vector_op`` over the ops of this run's vector set,
    ``perturbation`` over the profile's stress perturbations, and ``challenge_op``
    over the ops a challenge covers."""
    from teecert.certify.plugin import SESSION

    if "perturbation" in metafunc.fixturenames:
        sess = metafunc.config.stash.get(SESSION, None)
        stress = sess.profile.data.get("stress") if sess is not None else None
        metafunc.parametrize("perturbation", list(stress["perturbations"]) if stress else [])
        return
    if "challenge_op" in metafunc.fixturenames:
        # the challenge suite is collected only in a run with a challenge (the plugin)
        sess = metafunc.config.stash.get(SESSION, None)
        metafunc.parametrize("challenge_op", [] if sess is None else testplan.challenge_ops(sess.vector_set))
        return
    if "vector_op" not in metafunc.fixturenames:
        return
    sess = metafunc.config.stash.get(SESSION, None)
    if sess is None:
        metafunc.parametrize("vector_op", [])
        return
    kind = getattr(metafunc.function, "teecert_ops", "explicit")
    # float ops (ieee754 suite) or libm functions (libm suite)
    family = getattr(metafunc.function, "teecert_family", "float")
    if kind == "explicit":
        ids = sess.vector_set.explicit_ops()
    else:
        ids = sorted(sess.streams)
    metafunc.parametrize("vector_op", [i for i in ids if ops.get(i).kind == family])
