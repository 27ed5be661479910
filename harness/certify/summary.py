"""What a certification run tells the person who started it: its progress while the
suites run, then a summary read in about ten lines: a table per suite, the verdict
with its reasons grouped, what the profile is for.  ``teecert run`` prints it, and
the plugin's terminal summary when pytest is started by hand.

Advisory divergences (a failed result of a suite the profile marks advisory) are
counted on their own, never as failures: they do not decide the verdict.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..profile import Profile
from ..report import verdict as verdicts

#: the widest a reason line grows before its message is cut (the report has it whole)
LINE_WIDTH = 160
#: how many groups of reasons the summary lists before it points at the report
REASON_GROUPS = 8


@dataclass(frozen=True)
class ReasonGroup:
    """The reasons of one code in one suite: how many, and the first of them."""

    code: str
    suite: str
    count: int
    first: Mapping[str, Any]


def group_reasons(reasons: Iterable[Mapping[str, Any]]) -> list[ReasonGroup]:
    """``reasons`` grouped by (code, suite), in the order their first reason comes."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in reasons:
        groups.setdefault((str(r.get("code", "")), str(r.get("suite", ""))), []).append(r)
    return [ReasonGroup(code, suite, len(rs), rs[0]) for (code, suite), rs in groups.items()]


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def reason_line(group: ReasonGroup, width: int = LINE_WIDTH) -> str:
    """``TEST_FAILED ieee754, 2 tests, first test_ieee754.py::...: message``."""
    r = group.first
    if group.code == "SUITE_MISSING":
        detail = "no result in this suite"
    elif group.code == "OP_UNSUPPORTED":
        detail = f"op {r.get('op')} is not supported by the probe"
    else:
        detail = str(r.get("message") or "")
    test = str(r.get("test") or "")
    if group.count > 1:
        head = f"{group.code} {group.suite}, {group.count} tests, first {test}"
    else:
        head = f"{group.code} {group.suite}" + (f": {test}" if test else "")
    return _cut(f"{head}: {detail}" if detail else head, width)


def reason_lines(reasons: Sequence[Mapping[str, Any]], *, limit: int = REASON_GROUPS,
                 width: int = LINE_WIDTH, indent: str = "  ") -> list[str]:
    """One line per group of reasons, at most ``limit`` groups."""
    groups = group_reasons(reasons)
    lines = [indent + reason_line(g, width) for g in groups[:limit]]
    if len(groups) > limit:
        rest = sum(g.count for g in groups[limit:])
        lines.append(f"{indent}... and {rest} more reasons in {len(groups) - limit} more groups "
                     "(`teecert verify REPORT --json` lists every one)")
    return lines


def advisory_total(suites: Mapping[str, Mapping[str, Any]]) -> tuple[int, list[str]]:
    """How many advisory divergences, and in which suites."""
    hit = [s for s, row in suites.items() if row["advisory"]]
    return sum(int(suites[s]["advisory"]) for s in hit), hit


def verdict_text(verdict: Mapping[str, Any], suites: Mapping[str, Mapping[str, Any]], profile: Profile) -> str:
    """``CERTIFIED`` or ``NOT_CERTIFIED: N reasons``, with the advisory divergences the
    profile does not count said as such."""
    result = str(verdict["result"])
    n = len(verdict.get("reasons") or ())
    text = result if result == verdicts.CERTIFIED else f"{result}: {n} reason{'s' if n != 1 else ''}"
    waived = len(verdict.get("waived") or ())
    if waived:
        text += f" ({waived} reason{'s' if waived != 1 else ''} waived by the profile)"
    count, where = advisory_total(suites)
    if count:
        text += (f" ({'and ' if result != verdicts.CERTIFIED else ''}{count} advisory "
                 f"divergence{'s' if count != 1 else ''} in {', '.join(where)}: reported, not counted "
                 f"under profile {profile.id})")
    return text


def run_object(statement: Mapping[str, Any], profile: Profile, *, report: str, bundle: str | None,
               public_key_file: str | None, elapsed: float, exit_code: int) -> dict[str, Any]:
    """What ``teecert run --json`` prints (and a results bundle's ``summary.json``)."""
    pred = statement["predicate"]
    verdict = pred["verdict"]
    suites = verdicts.summarize_suites(pred["results"], profile)
    advisory, _where = advisory_total(suites)
    return {
        "verdict": verdict["result"],
        "reasons": verdict["reasons"],
        "reason_groups": [{"code": g.code, "suite": g.suite, "count": g.count,
                           "first": g.first.get("test") or g.first.get("suite")}
                          for g in group_reasons(verdict["reasons"])],
        **({"waived": verdict["waived"]} if "waived" in verdict else {}),
        "advisory_divergences": advisory,
        "suites": suites,
        "summary": pred["summary"],
        "profile": {**profile.identity(), "tier": profile.tier},
        "report": report,
        **({"bundle": bundle} if bundle is not None else {}),
        "signer": {"keyid": pred["signer"]["keyid"], "public_key_file": public_key_file},
        "run": {"id": pred["run"]["id"], "elapsed_ms": int(elapsed * 1000)},
        "exit_code": exit_code,
    }


_TIERS = {
    "development": "not for admission (for trying teecert and probes; governance admits on the "
                   "profile it requires, e.g. --profile strict)",
    "bootstrap": "admits the first validators of a network",
    "strict": "for admission to consensus",
}


def profile_line(profile: Profile) -> str:
    """What a report under ``profile`` is good for, in one line."""
    meaning = _TIERS.get(profile.tier, profile.tier)
    line = f"profile: {profile.id} v{profile.version}, {profile.tier} tier: {meaning}"
    if profile.tier != "development":
        line += f"; the report is valid {profile.validity_days} days"
    if profile.signers:
        line += f"; signed by {len(profile.signers)} governance key{'s' if len(profile.signers) != 1 else ''}"
    return line


def duration(ms: float) -> str:
    """``0.4 s``, ``17.9 s``, ``2 min 05 s``."""
    s = ms / 1000
    if s < 60:
        return f"{s:.1f} s"
    return f"{int(s // 60)} min {int(s % 60):02d} s"


_COLUMNS = (("tests", 5), ("passed", 6), ("failed", 6), ("skipped", 7), ("advisory", 8))


def suite_table(suites: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """A table of ``report.verdict.summarize_suites``: one row per suite and a total.
    An advisory suite shows its divergences under ``advisory`` and ``-`` under
    ``failed``; a required one the other way round."""
    name_w = max([len("suite"), len("total"), *(len(s) for s in suites)])
    vec_w = max(len("vectors"), len(f"{sum(int(r['vectors']) for r in suites.values()):,}"))

    def row(name: str, level: str, counts: Mapping[str, Any], ms: str) -> str:
        cells = [f"{name:<{name_w}}", f"{level:<8}"]
        for key, w in _COLUMNS:
            value = counts.get(key)
            cells.append(f"{'-' if value is None else value:>{w}}")
        cells.append(f"{counts['vectors']:>{vec_w},}" if isinstance(counts.get("vectors"), int)
                     else f"{'vectors':>{vec_w}}")
        cells.append(f"{ms:>9}")
        return "  ".join(cells).rstrip()

    header = "  ".join([f"{'suite':<{name_w}}", f"{'level':<8}", *(f"{k:>{w}}" for k, w in _COLUMNS),
                        f"{'vectors':>{vec_w}}", f"{'time':>9}"])
    lines = [header]
    total = dict.fromkeys(verdicts.SUITE_COUNTS, 0)
    for name, r in suites.items():
        counts = {k: int(r[k]) for k in verdicts.SUITE_COUNTS}
        for k in total:
            total[k] += counts[k]
        shown: dict[str, Any] = {**counts, "skipped": counts["skipped"] + counts["unsupported"]}
        if r["level"] == "advisory":
            shown["failed"] = None
        else:
            shown["advisory"] = None
        level = r["level"] if r["level"] != "none" else "-"
        lines.append(row(name, level, shown, duration(counts["duration_ms"])))
    lines.append(row("total", "", {**total, "skipped": total["skipped"] + total["unsupported"]},
                     duration(total["duration_ms"])))
    return lines


# -- progress ---------------------------------------------------------------------------


class RunProgress:
    """The suites' progress as the plugin reports it (``plugin.PROGRESS_OPTION``):
    a ``{"plan": {suite: tests}}`` event first, then one event per result as it is
    known (``{"id", "suite", "outcome", "vectors"}``, a later one for the same id
    replacing it), and at the end ``{"report": PATH}``, ``{"pending": PATH}`` or
    ``{"error": MESSAGE}``."""

    def __init__(self, started: float | None = None) -> None:
        self.started = time.monotonic() if started is None else started
        self.plan: dict[str, int] = {}
        self.rows: dict[str, Mapping[str, Any]] = {}
        self.current: str | None = None
        self.end: Mapping[str, Any] | None = None

    def feed(self, event: Mapping[str, Any]) -> None:
        if isinstance(event.get("plan"), Mapping):
            self.plan = {str(k): int(v) for k, v in event["plan"].items()}
        elif isinstance(event.get("id"), str):
            self.rows[event["id"]] = event
            self.current = str(event.get("suite"))
        elif any(k in event for k in ("report", "pending", "error")):
            self.end = event

    def done(self, suite: str | None = None) -> int:
        return sum(1 for r in self.rows.values() if suite is None or r.get("suite") == suite)

    def vectors(self) -> int:
        return sum(int(r.get("vectors") or 0) for r in self.rows.values())

    def total(self, suite: str | None = None) -> int:
        return sum(self.plan.values()) if suite is None else self.plan.get(suite, 0)

    def line(self, now: float | None = None) -> str:
        """``suite ieee754 112/224, all 48/370 tests, 12,582,912 vectors, 4.1 s``."""
        elapsed = (time.monotonic() if now is None else now) - self.started
        if not self.plan and not self.rows:
            return f"starting the suites, {duration(elapsed * 1000)}"
        parts = []
        if self.current is not None:
            parts.append(f"suite {self.current} {self.done(self.current)}/{self.total(self.current)}")
        parts.append(f"all {self.done()}/{self.total()} tests")
        parts.append(f"{self.vectors():,} vectors")
        parts.append(duration(elapsed * 1000))
        return ", ".join(parts)
