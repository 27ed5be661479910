"""The environment: the values the profile pins for its approved platform, and the
consensus process's isolation (dedicated cores, locked memory) where the profile
requires it (``teecert.certify.judge.environment``).

The consensus process is the probe host the run started (the probe's own process
in process, for ``--in-process``); a host reached with ``--probe-url`` runs on
another machine, whose isolation this harness cannot see.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import psutil
import pytest

from teecert.certify.facts import fingerprint as environment
from teecert.certify.judge import environment as environment_checks
from teecert.certify.session import Session


def _section(session: Session) -> dict[str, Any]:
    env = session.profile.data.get("environment")
    return dict(env) if isinstance(env, dict) else {}


def _consensus_pid(session: Session) -> int | None:
    probe = session.probe.probe
    if getattr(probe, "transport", "in-process") == "in-process":
        return os.getpid()
    return getattr(probe, "child_pid", None)


def _harness_pids() -> set[int]:
    """This run's own processes (teecert run, pytest, xdist workers, stress loads):
    busy by design, never the 'other busy processes' of the isolation check."""
    root = int(os.environ.get("TEECERT_HARNESS_PID", "0") or 0) or os.getpid()
    pids = {os.getpid(), root}
    try:
        me = psutil.Process(root)
        pids |= {p.pid for p in me.children(recursive=True)}
        pids |= {p.pid for p in psutil.Process().parents()[:2]}
    except psutil.Error:
        pass
    return pids


def test_pinned_environment(teecert_session: Session, teecert_record: Callable[..., None]) -> None:
    pins = _section(teecert_session).get("pinned") or {}
    teecert_record(op=None, kind="check", vectors=0, failures=0)
    if not pins:
        teecert_record(message="the profile pins no environment values")
        return
    probe = teecert_session.probe.probe
    # Pins are about the machine the probe runs on: a probe host reports its own.
    host_facts = getattr(probe, "host_facts", None)
    base = (environment.host_fingerprint(host_facts, probe.description, probe.digest) if host_facts is not None
            else environment.fingerprint(probe.description, probe.digest))
    fp = environment_checks.extended_fingerprint(base, probe.description)
    findings = environment_checks.check_pinned(fp, pins)
    bad = [f for f in findings if not f.passed]
    msg = "; ".join(f.message for f in (bad or findings))
    teecert_record(failures=len(bad), message=msg[:1900])
    if bad:
        pytest.fail(msg, pytrace=False)


def test_consensus_isolation(teecert_session: Session, teecert_record: Callable[..., None]) -> None:
    req = _section(teecert_session).get("isolation") or {}
    teecert_record(op=None, kind="check", vectors=0, failures=0)
    if not any(req.get(k) for k in ("dedicated_cores", "locked_memory", "min_cores")):
        teecert_record(message="the profile requires no isolation of the consensus process")
        return
    pid = _consensus_pid(teecert_session)
    if pid is None:
        msg = ("the consensus process is a probe host reached with --probe-url: its isolation "
               "cannot be checked from here; run teecert on that machine")
        teecert_record(failures=1, message=msg)
        pytest.fail(msg, pytrace=False)
    findings = environment_checks.check_isolation(pid, req, exclude_pids=_harness_pids() - {pid})
    bad = [f for f in findings if not f.passed]
    msg = "; ".join(f.message for f in (bad or findings))
    teecert_record(failures=len(bad), message=msg[:1900])
    if bad:
        pytest.fail(msg, pytrace=False)
