"""The verdict: CERTIFIED or NOT_CERTIFIED, computed from results and a profile alone.

The verdict is a pure function of the per-test results and the profile so that any
verifier can recompute it from a report and refuse a report whose claimed verdict
differs.  Reasons are machine-readable and sorted, so the same inputs always give
the same bytes.

Rules, for each suite the profile marks required:
- no result at all for the suite: ``SUITE_MISSING``;
- a result ``failed`` or ``error``: ``TEST_FAILED``;
- a result ``skipped``: ``TEST_SKIPPED`` (a skipped required test proves nothing);
- a result ``unsupported``: ``OP_UNSUPPORTED``, only if the profile says
  ``"unsupported_ops": "fail"``.
Advisory suites, and suites the profile does not name, never give reasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .profiles import Profile

CERTIFIED = "CERTIFIED"
NOT_CERTIFIED = "NOT_CERTIFIED"
OUTCOMES = ("passed", "failed", "error", "skipped", "unsupported")


def _reason_key(r: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(r["suite"]), str(r.get("test", "")), str(r["code"]))


def compute(results: Iterable[Mapping[str, Any]], profile: Profile) -> dict[str, Any]:
    """``{"result": CERTIFIED|NOT_CERTIFIED, "reasons": [...]}`` for ``results`` under ``profile``."""
    required = set(profile.required_suites())
    fail_unsupported = profile.unsupported_ops_fail
    seen: set[str] = set()
    reasons: list[dict[str, Any]] = []
    for r in results:
        suite = r["suite"]
        seen.add(suite)
        if suite not in required:
            continue
        outcome = r["outcome"]
        if outcome in ("failed", "error"):
            reasons.append({"code": "TEST_FAILED", "test": r["id"], "suite": suite, "message": r.get("message", "")})
        elif outcome == "skipped":
            reasons.append({"code": "TEST_SKIPPED", "test": r["id"], "suite": suite, "message": r.get("message", "")})
        elif outcome == "unsupported":
            if fail_unsupported:
                reasons.append({"code": "OP_UNSUPPORTED", "test": r["id"], "suite": suite, "op": r.get("op")})
        elif outcome != "passed":
            # The schema admits only OUTCOMES; anything else is a bug upstream and
            # must never read as a pass.
            reasons.append({"code": "TEST_FAILED", "test": r["id"], "suite": suite,
                            "message": f"unknown outcome {outcome!r}"})
    reasons.extend({"code": "SUITE_MISSING", "suite": s} for s in required - seen)
    reasons.sort(key=_reason_key)
    return {"result": NOT_CERTIFIED if reasons else CERTIFIED, "reasons": reasons}


def summarize(results: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Counts of results by outcome, their total, and the vectors they checked."""
    counts = dict.fromkeys(OUTCOMES, 0)
    total = vectors = 0
    for r in results:
        total += 1
        outcome = r["outcome"]
        counts[outcome] = counts.get(outcome, 0) + 1
        vectors += int(r.get("vectors", 0))
    return {"total": total, **counts, "vectors": vectors}
