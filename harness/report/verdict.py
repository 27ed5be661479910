"""The verdict: CERTIFIED or NOT_CERTIFIED, computed from results and a profile alone.

The verdict is a pure function of the per-test results and the profile so that any
verifier can recompute it from a report and refuse a report whose claimed verdict
differs.  Reasons are machine-readable and sorted, so the same inputs always give
the same bytes.

Rules, for each suite the profile marks required:
- no result at all for the suite: ``SUITE_MISSING``;
- (whatever the suite levels) a profile that requires attestation and no
  ``attestation::evidence`` result: ``ATTESTATION_MISSING``;
- a result ``failed`` or ``error``: ``TEST_FAILED``;
- a result ``skipped``: ``TEST_SKIPPED`` (a skipped required test proves nothing);
- a result ``unsupported``: ``OP_UNSUPPORTED``, only if the profile says
  ``"unsupported_ops": "fail"``;
- any other outcome (the schema admits none): ``TEST_FAILED``, because an outcome the
  verdict does not know must never read as a pass.
Advisory suites, and suites the profile does not name, never give reasons, with one
exception: a libm function whose results changed under a perturbation
(``stress::test_libm_determinism``, outcome ``failed`` or ``error``) is
``TEST_FAILED`` in every profile.  Correct rounding may be advisory; results that
depend on the environment can never be agreed on.  So is a failed fresh challenge
(``test_challenge.py``, present only in a run given one): a probe that answers the
fixed streams and not a fresh one has shown nothing.

A profile's ``waivers`` may cover a test's reason (not ``SUITE_MISSING``) up to and
including the waiver's ``expires`` instant (as a profile's own ``expires`` does): the
reason then moves to a separate ``waived`` list as a ``WAIVED`` entry.  Whether a
waiver is in effect depends on the time ``at``; a profile without waivers gives
exactly the output it always gave (no ``waived`` key), and so does a profile whose
waivers cover nothing at ``at``.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from ..attestation import EVIDENCE_RESULT_ID
from ..profile import Profile

CERTIFIED = "CERTIFIED"
NOT_CERTIFIED = "NOT_CERTIFIED"
OUTCOMES = ("passed", "failed", "error", "skipped", "unsupported")
#: Tests whose failure costs the verdict whatever the levels of the profile's suites.
ALWAYS_REQUIRED_FAILURES = ("test_stress.py::test_libm_determinism[", "test_challenge.py::")


def _always_required_failure(r: Mapping[str, Any]) -> bool:
    return (str(r["id"]).startswith(ALWAYS_REQUIRED_FAILURES)
            and r["outcome"] in ("failed", "error"))


def _reason_key(r: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(r["suite"]), str(r.get("test", "")), str(r["code"]))


def waiver_covers(waiver: Mapping[str, Any], test_id: str) -> bool:
    """Whether ``waiver`` names ``test_id``: exactly, or by an fnmatch pattern.

    The exact comparison comes first because test ids hold ``[...]``, which fnmatch
    would read as a character class.
    """
    return any(t == test_id or fnmatch.fnmatchcase(test_id, t) for t in waiver["tests"])


def _waiver_for(waivers: list[Mapping[str, Any]], test_id: str, at: _dt.datetime) -> Mapping[str, Any] | None:
    for w in waivers:
        expires = _dt.datetime.strptime(str(w["expires"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.UTC)
        if at <= expires and waiver_covers(w, test_id):
            return w
    return None


def compute(results: Iterable[Mapping[str, Any]], profile: Profile,
            at: _dt.datetime | None = None) -> dict[str, Any]:
    """``{"result": CERTIFIED|NOT_CERTIFIED, "reasons": [...]}`` for ``results`` under ``profile``.

    With waivers in force at ``at`` (default: now) the covered reasons are listed
    under ``"waived"`` instead; see the module docstring.
    """
    results = list(results)
    required = set(profile.required_suites())
    fail_unsupported = profile.unsupported_ops_fail
    seen: set[str] = set()
    reasons: list[dict[str, Any]] = []
    for r in results:
        suite = r["suite"]
        seen.add(suite)
        if suite not in required and not _always_required_failure(r):
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
    if profile.attestation_required:
        # Evidence a profile requires is never optional, whatever the suite levels say.
        row = next((r for r in results if r["id"] == EVIDENCE_RESULT_ID), None)
        if row is None:
            reasons.append({"code": "ATTESTATION_MISSING", "suite": "attestation",
                            "message": "the profile requires attestation evidence and the run has none"})
        elif row["suite"] not in required and row["outcome"] != "passed":
            reasons.append({"code": "TEST_FAILED", "test": row["id"], "suite": "attestation",
                            "message": row.get("message", "")})
    waived: list[dict[str, Any]] = []
    waivers = list(profile.data.get("waivers") or ())
    if waivers:
        when = at or _dt.datetime.now(_dt.UTC)
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.UTC)
        kept: list[dict[str, Any]] = []
        for reason in reasons:
            w = _waiver_for(waivers, reason["test"], when) if "test" in reason else None
            if w is None:
                kept.append(reason)
                continue
            waived.append({"code": "WAIVED", "suite": reason["suite"], "test": reason["test"],
                           "failure": reason["code"], "message": str(reason.get("message") or ""),
                           "tracking": str(w["tracking"]), "expires": str(w["expires"])})
        reasons = kept
    reasons.sort(key=_reason_key)
    out: dict[str, Any] = {"result": NOT_CERTIFIED if reasons else CERTIFIED, "reasons": reasons}
    if waived:
        waived.sort(key=_reason_key)
        out["waived"] = waived
    return out


def summarize(results: Iterable[Mapping[str, Any]], profile: Profile | None = None) -> dict[str, int]:
    """Counts of results by outcome, their total, and the vectors they checked.

    With ``profile``, a ``failed`` or ``error`` result of a suite the profile marks
    advisory is counted as ``advisory`` (a divergence reported, not a failure), never
    as ``failed`` or ``error``; without it, ``advisory`` is 0 and nothing is set apart.
    A signed report's summary is always made with its profile."""
    levels = profile.suites if profile is not None else {}
    counts = dict.fromkeys(OUTCOMES, 0)
    total = vectors = advisory = 0
    for r in results:
        total += 1
        outcome = r["outcome"]
        if outcome in ("failed", "error") and levels.get(str(r["suite"])) == "advisory":
            advisory += 1
        else:
            counts[outcome] = counts.get(outcome, 0) + 1
        vectors += int(r.get("vectors", 0))
    return {"total": total, **counts, "advisory": advisory, "vectors": vectors}


#: the keys of each suite's counts in ``summarize_suites``
SUITE_COUNTS = ("tests", "passed", "failed", "skipped", "unsupported", "advisory", "vectors", "duration_ms")


def summarize_suites(results: Iterable[Mapping[str, Any]], profile: Profile) -> dict[str, dict[str, Any]]:
    """Per suite, sorted by name: its ``level`` under ``profile`` (``required``,
    ``advisory``, or ``none`` when the profile does not name it) and counts of its
    results.  A ``failed`` or ``error`` result of an advisory suite is counted as
    ``advisory`` (a divergence the profile reports without failing the run), never as
    ``failed``; elsewhere both count as ``failed``.  So, over all suites, ``failed`` +
    ``advisory`` is ``failed`` + ``error`` of ``summarize``.  A view of the results,
    recomputable like the verdict; the signed report's ``summary`` stays ``summarize``'s."""
    levels = profile.suites
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        suite = str(r["suite"])
        level = levels.get(suite, "none")
        row = out.setdefault(suite, {"level": level, **dict.fromkeys(SUITE_COUNTS, 0)})
        row["tests"] += 1
        outcome = r["outcome"]
        if outcome in ("failed", "error") or outcome not in OUTCOMES:
            row["advisory" if level == "advisory" else "failed"] += 1
        else:
            row[outcome] += 1
        row["vectors"] += int(r.get("vectors", 0))
        row["duration_ms"] += int(r.get("duration_ms", 0))
    return dict(sorted(out.items()))
