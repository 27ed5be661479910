"""The rows of a run's results, made from what pytest reports: one per test, plus
the harness's own checks (each worker's transcript, a crashed worker, an incomplete
run).  Suites attach what they found to their test report; these turn it into the
report's ``results`` rows (docs/report-format.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..vectors.testplan import INCOMPLETE_ID, TRANSCRIPT_PREFIX

#: the ``user_properties`` key under which a test records what it found
RESULT_PROPERTY = "teecert"
#: the ``user_properties`` key marking a phase report of an advisory suite's test that
#: pytest was told is an expected failure: its value is the phase's own outcome
ADVISORY_PROPERTY = "teecert_advisory"


def suite_relative(nodeid: str, rootdir: Path, suites: Path) -> str | None:
    """``nodeid`` (relative to pytest's ``rootdir``) relative to the ``suites`` folder
    instead, as results name tests whatever folder pytest was started from
    (``test_ieee754.py::test_explicit[f64.add.rne]``); None for a test or collector
    outside it, which is no part of a certification."""
    path, sep, rest = nodeid.partition("::")
    if not path:
        return nodeid
    try:
        rel = (rootdir / path).resolve().relative_to(suites)
    except ValueError:
        return None
    return rel.as_posix() + sep + rest


def suite_of(nodeid: str) -> str:
    name = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    if name.endswith(".py"):
        name = name[:-3]
    return name[5:] if name.startswith("test_") else name


def message_of(rep: pytest.TestReport) -> str:
    crash = getattr(rep.longrepr, "reprcrash", None)
    if crash is not None:
        text = str(crash.message)
    elif isinstance(rep.longrepr, tuple) and len(rep.longrepr) == 3:
        text = str(rep.longrepr[2])  # skip: (file, line, reason)
    else:
        text = str(rep.longrepr or "")
    text = text.strip().splitlines()[0] if text.strip() else ""
    for prefix in ("Failed: ", "Skipped: "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text[:500]


def row_of(report: pytest.TestReport, prev: dict[str, Any] | None,
           result_id: str | None = None) -> dict[str, Any] | None:
    """The result row of one test from its setup, call or teardown report (None when
    this phase does not decide the outcome); ``prev`` is the row so far, ``result_id``
    the test's id (default: its node id)."""
    result_id = result_id or report.nodeid
    properties = dict(report.user_properties)
    props = properties.get(RESULT_PROPERTY, {})
    if not isinstance(props, dict):
        props = {}
    # what the phase found, also when pytest was told it is an expected failure
    advisory = properties.get(ADVISORY_PROPERTY)
    phase = advisory if advisory in ("failed", "passed", "skipped") else report.outcome
    outcome: str
    if report.when == "call":
        outcome = phase
    elif report.when == "setup" and phase != "passed":
        outcome = "error" if phase == "failed" else "skipped"
    elif report.when == "teardown" and phase == "failed":
        outcome = "error"
    else:
        return None
    if outcome == "skipped" and props.get("unsupported"):
        outcome = "unsupported"
    msg = props.get("message") or ("" if outcome == "passed" else message_of(report))
    entry = {
        "id": result_id,
        "suite": props.get("suite") or suite_of(result_id),
        "op": props.get("op"),
        "kind": props.get("kind", "check"),
        "outcome": outcome,
        "message": str(msg)[:500],
        "vectors": int(props.get("vectors", 0)),
        "failures": int(props.get("failures", 0)),
        "root": props.get("root"),
        "expected_root": props.get("expected_root"),
        "divergence": props.get("divergence"),
        "duration_ms": int(report.duration * 1000) + (prev["duration_ms"] if prev else 0),
    }
    if isinstance(props.get("challenge"), dict):  # the challenge suite's chosen chunks
        entry["challenge"] = props["challenge"]
    if prev is not None and report.when == "teardown":
        entry = {**prev, "outcome": "error", "message": entry["message"], "duration_ms": entry["duration_ms"]}
    return entry


def collection_error_row(report: pytest.CollectReport, result_id: str | None = None) -> dict[str, Any]:
    """A module that failed to collect fails its suite (or the probe suite)."""
    nodeid = (report.nodeid if result_id is None else result_id) or "collection"
    return {
        "id": nodeid,
        "suite": suite_of(nodeid) if nodeid.endswith(".py") else "probe",
        "op": None,
        "kind": "check",
        "outcome": "error",
        "message": ("collection failed: " + str(report.longrepr).strip().splitlines()[-1])[:500],
        "vectors": 0,
        "failures": 0,
        "root": None,
        "expected_root": None,
        "divergence": None,
        "duration_ms": 0,
    }


def transcript_row(worker: str, info: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{TRANSCRIPT_PREFIX}{worker}",
        "suite": "probe",
        "op": None,
        "kind": "check",
        "outcome": "passed" if info["ok"] else "failed",
        "message": info["message"][:500],
        "vectors": 0,
        "failures": 0 if info["ok"] else 1,
        "root": None,
        "expected_root": None,
        "divergence": None,
        "duration_ms": 0,
    }


def incomplete_row(why: str) -> dict[str, Any]:
    """The row that fails a run that did not run every test it collected."""
    return {**transcript_row("session", {"ok": False, "message": f"incomplete run: {why}"}), "id": INCOMPLETE_ID}


def not_run_row(result_id: str, suite: str, why: str) -> dict[str, Any]:
    """The row of a test the run had to run and did not: skipped, which fails a
    required suite as any skipped test does (``TEST_SKIPPED``)."""
    return {**transcript_row("session", {"ok": True, "message": f"did not run: {why}"}),
            "id": result_id, "suite": suite, "outcome": "skipped"}
