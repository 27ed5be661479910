"""Stress under perturbation: the profile's streams in fresh probe processes, round
after round, under every perturbation the profile lists (``teecert.stress``).

Every output of every process must equal the golden one; a difference names the
perturbation, the round, the process, the op and the first differing vector.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

import pytest

from teecert import stress
from teecert.session import Session

_GOLDEN: dict[int, tuple[stress.Plan, list[stress.GoldenChunk]]] = {}


def _plan(session: Session) -> tuple[stress.Plan, list[stress.GoldenChunk]]:
    key = id(session)
    if key not in _GOLDEN:
        plan = stress.plan_from_profile(session.profile.data["stress"], session.streams,
                                        f"profile {session.profile.id}")
        goldens = [stress.golden_chunk(st, k) for st in plan.streams for k in range(plan.chunks)]
        _GOLDEN[key] = (plan, goldens)
    return _GOLDEN[key]


def _host(session: Session) -> list[str] | str:
    """The command that starts a fresh probe host, or the URL of a listening one."""
    from teecert.transport import default_host_cmd

    if session.probe_cmd:
        return shlex.split(session.probe_cmd)
    if session.probe_url:
        return session.probe_url
    return default_host_cmd(session.probe_path)


def test_perturbation(perturbation: str, teecert_session: Session,
                      teecert_record: Callable[..., None]) -> None:
    plan, goldens = _plan(teecert_session)
    teecert_record(op=None, kind="check", vectors=0, failures=0)
    host = _host(teecert_session)
    p = stress.perturbation(perturbation, teecert_session.seed)
    if isinstance(host, str):
        p = stress.over_url(p)
    if p.not_applicable:
        teecert_record(message=f"{perturbation}: not applicable here: {p.not_applicable}")
        return
    out = stress.run(plan, p, host, goldens, teecert_session.probe_timeout)
    what = (f"{perturbation} ({p.note}): " if p.note else f"{perturbation}: ") + (
        f"{out.runs} fresh processes in {plan.repeats} rounds, {out.vectors} vectors over "
        f"{len(plan.streams)} streams")
    if not out.divergences:
        teecert_record(vectors=out.vectors, message=f"{what}: all identical to golden")
        return
    first = out.divergences[0]
    bad_runs = len({(d.round, d.process) for d in out.divergences})
    msg = f"{bad_runs} of {out.runs} processes differ under {perturbation}; first: {first.message()}"
    teecert_record(op=first.op or None, vectors=out.vectors, failures=len(out.divergences),
                   divergence=first.record(), message=msg)
    pytest.fail(msg, pytrace=False)
