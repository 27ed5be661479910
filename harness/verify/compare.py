"""Compare verified run reports: which platforms compute the same consensus results.

Every result that carries an output commitment (a stream's Merkle root, an explicit
set's leaf hash) is a consensus result: two platforms that may both join consensus
must give the same root for it.  ``compare`` builds, for each such result id, which
reports produced which root, and groups the reports into **agreement classes**:
reports in one class give identical roots on every consensus result they both carry.
Results some reports lack are listed apart (a missing result is not a divergence,
but it is not evidence of agreement either).  Reports of one machine also show
**environment drift**: the fingerprint fields that changed between them.

**Caveats** come first in every output: reports made under different profiles, and
signers or profiles that nothing pinned (``VerifyOutcome.signer_pinned`` and
``profile_pinned``), make an agreement worth less than it looks.

Reports agree (exit 0) when no consensus result has two roots among the reports
that carry it; otherwise they diverge (exit 1).  Only reports that ``verify_report``
accepted are compared; one that is not authentic stops the comparison (exit 2).
"""

from __future__ import annotations

import datetime as _dt
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._internal.timefmt import format_time
from .._internal.version import __version__
from ..errors import UsageError
from .render import (
    SHORT,
    environment,
    flatten,
)
from .verifier import VerifyOutcome

#: Fingerprint field that names one machine across environment changes.
MACHINE_FIELD = "hostname_digest"


@dataclass(frozen=True)
class Platform:
    """One compared report: the platform-environment pair it certified."""

    index: int
    report: str  # where the report was read from
    environment_digest: str
    probe_digest: str
    cpu_model: str
    verdict: str
    profile: str  # "id vN"
    vector_set_digest: str
    profile_digest: str = ""
    signer_pinned: bool = True  # the signer is a key --trust named
    profile_pinned: bool = True  # the profile is a built-in by its digest, or the one --profile named

    @property
    def name(self) -> str:
        return Path(self.report).name

    @property
    def label(self) -> str:
        """Environment digest (short), CPU model and report file name."""
        return f"{self.environment_digest[:SHORT]} {self.cpu_model} ({self.name})"


@dataclass
class RootGroup:
    """The reports (by index) that produced one root for one result."""

    root: str
    platforms: list[int]
    divergences: dict[int, dict[str, Any]] = field(default_factory=dict)  # index → first differing vector


@dataclass
class ResultComparison:
    """One consensus result across the reports: its roots, and who lacks it."""

    id: str
    suite: str
    op: str | None
    kind: str
    groups: list[RootGroup]  # most reports first
    missing: list[int]

    @property
    def diverges(self) -> bool:
        return len(self.groups) > 1


@dataclass
class Drift:
    """Fingerprint fields that differ between reports of one machine."""

    kind: str  # "machine" (same hostname digest) or "platform-environment" (same identity digest)
    digest: str
    platforms: list[int]
    fields: dict[str, list[str | None]]  # field → value per platform (None: absent)


@dataclass
class Comparison:
    """What comparing reports found: agreement classes, missing results and drift."""

    platforms: list[Platform]
    results: list[ResultComparison]  # every consensus result, sorted by id
    classes: list[list[int]]  # agreement classes, largest first
    drift: list[Drift]
    notes: list[str]
    #: What a reader must know before trusting the comparison at all: reports judged
    #: under different profiles, signers or profiles nothing pinned.
    caveats: list[str] = field(default_factory=list)

    @property
    def diverging(self) -> list[ResultComparison]:
        return [r for r in self.results if r.diverges]

    @property
    def partial(self) -> list[ResultComparison]:
        return [r for r in self.results if r.missing]

    @property
    def agree(self) -> bool:
        return not any(r.diverges for r in self.results)

    def class_of(self) -> dict[int, str]:
        """Report index → class name (A, B, ...)."""
        return {i: class_name(n) for n, members in enumerate(self.classes) for i in members}


def class_name(n: int) -> str:
    """A, B, ..., Z, AA, AB, ...: the name of the ``n``-th agreement class."""
    letters = string.ascii_uppercase
    name = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        name = letters[rem] + name
    return name


def _platform(i: int, o: VerifyOutcome) -> Platform:
    pred = o.statement["predicate"]
    fp = pred["environment"]["fingerprint"]
    return Platform(
        index=i,
        report=o.where,
        environment_digest=pred["environment"]["digest"],
        probe_digest=pred["probe"]["digest"],
        cpu_model=str(fp.get("cpu_model") or "unknown CPU"),
        verdict=o.verdict["result"],
        profile=f"{pred['profile']['id']} v{pred['profile']['version']}",
        vector_set_digest=pred["vector_set"]["digest"],
        profile_digest=pred["profile"]["digest"],
        signer_pinned=o.signer_pinned,
        profile_pinned=o.profile_pinned,
    )


def _classes(signatures: list[dict[str, str]]) -> list[list[int]]:
    """Partition reports so that within a class every two agree on every result both carry.

    Reports with identical signatures (result id → root) are merged first; then each
    distinct signature, in report order, joins the first class whose merged roots it
    does not contradict, or starts a new one.  A signature that carries every result
    can only join a class whose merged roots equal it or one that still lacks some
    result, so complete classes are found by lookup and only incomplete ones are
    scanned: a thousand mutually disagreeing reports cost a thousand lookups, not
    half a million comparisons.
    """
    by_sig: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for i, sig in enumerate(signatures):
        by_sig.setdefault(tuple(sorted(sig.items())), []).append(i)
    every = len(set().union(*signatures))
    members: list[list[int]] = []
    merged: list[dict[str, str]] = []
    incomplete: list[int] = []  # classes (in creation order) whose merged roots lack some result
    complete: dict[tuple[tuple[str, str], ...], int] = {}  # merged roots of complete classes → class

    def fits(c: int, sig: dict[str, str]) -> bool:
        m = merged[c]
        return all(m.get(k, root) == root for k, root in sig.items())

    for key, reports in by_sig.items():
        sig = dict(key)
        found: int | None
        if len(sig) == every:
            found = complete.get(key)
            limit = len(members) if found is None else found
            found = next((c for c in incomplete if c < limit and fits(c, sig)), found)
        else:
            found = next((c for c in range(len(members)) if fits(c, sig)), None)
        if found is None:
            members.append(list(reports))
            merged.append(dict(sig))
            found = len(members) - 1
            if len(sig) < every:
                incomplete.append(found)
            else:
                complete[key] = found
            continue
        members[found].extend(reports)
        if found in incomplete:
            merged[found].update(sig)
            if len(merged[found]) == every:
                incomplete.remove(found)
                done = tuple(sorted(merged[found].items()))
                complete[done] = min(found, complete.get(done, found))
    out = [sorted(m) for m in members]
    out.sort(key=lambda c: (-len(c), c[0]))
    return out


def _drift(outcomes: list[VerifyOutcome]) -> list[Drift]:
    groups: dict[tuple[str, str], list[int]] = {}
    for i, o in enumerate(outcomes):
        pred = o.statement["predicate"]
        host = pred["environment"]["fingerprint"].get(MACHINE_FIELD)
        key = ("machine", host) if isinstance(host, str) and host else \
            ("platform-environment", pred["environment"]["digest"])
        groups.setdefault(key, []).append(i)
    out = []
    for key, members in groups.items():
        if len(members) < 2:
            continue
        flat = [flatten(outcomes[i].statement["predicate"]["environment"]["fingerprint"]) for i in members]
        first = flat[0]
        names = set().union(*flat)
        if all(f == first for f in flat[1:]):
            continue
        differing = {n: [f.get(n) for f in flat] for n in sorted(names)
                     if any(f.get(n) != first.get(n) for f in flat)}
        out.append(Drift(kind=key[0], digest=key[1], platforms=members, fields=differing))
    return out


def compare(outcomes: list[VerifyOutcome]) -> Comparison:
    """Compare verified reports (see the module docstring)."""
    if not outcomes:
        raise UsageError("compare: no reports given")
    platforms = [_platform(i, o) for i, o in enumerate(outcomes)]
    n = len(outcomes)
    signatures: list[dict[str, str]] = []
    rows: dict[str, dict[str, Any]] = {}  # id → first row seen (suite, op, kind)
    roots: dict[str, dict[str, list[int]]] = {}  # id → root → report indices
    divergences: dict[str, dict[int, dict[str, Any]]] = {}
    # A challenge row's root is of a stream derived from its run's challenge: it is
    # compared only with the same row of reports given the same challenge.
    given: dict[str, list[int]] = {}  # challenge → the reports given it
    for i, o in enumerate(outcomes):
        value = o.statement["predicate"]["run"].get("challenge")
        if value is not None:
            given.setdefault(str(value), []).append(i)
    for i, o in enumerate(outcomes):
        sig: dict[str, str] = {}
        value = o.statement["predicate"]["run"].get("challenge")
        for r in o.statement["predicate"]["results"]:
            root = r["root"]
            if root is None:
                continue
            rid = r["id"] if r["suite"] != "challenge" else f"{r['id']} @ challenge {value}"
            sig[rid] = root
            if rid not in rows:
                rows[rid] = r
                roots[rid] = {}
            roots[rid].setdefault(root, []).append(i)
            if r["divergence"] is not None:
                divergences.setdefault(rid, {})[i] = r["divergence"]
        signatures.append(sig)
    results = []
    for rid in sorted(rows):
        r = rows[rid]
        by_root = roots[rid]
        present = {i for members in by_root.values() for i in members}
        div = divergences.get(rid, {})
        groups = [RootGroup(root=root, platforms=members,
                            divergences={i: div[i] for i in members if i in div})
                  for root, members in by_root.items()]
        groups.sort(key=lambda g: (-len(g.platforms), g.platforms[0]))
        population = (given.get(rid.rpartition(" @ challenge ")[2], []) if r["suite"] == "challenge"
                      else range(n))
        missing = [i for i in population if i not in present]
        results.append(ResultComparison(id=rid, suite=r["suite"], op=r["op"], kind=r["kind"],
                                        groups=groups, missing=missing))
    notes = []
    vector_sets = {p.vector_set_digest for p in platforms}
    if len(vector_sets) > 1:
        notes.append(f"the reports were made with {len(vector_sets)} different vector sets: roots of a "
                     f"result differ when its vector data differ, not only when platforms disagree")
    scales = {o.profile.stream_scale for o in outcomes}
    if len(scales) > 1:
        notes.append(f"the reports' profiles evaluate streams at {len(scales)} different scales "
                     f"({', '.join(str(s) for s in sorted(scales))}): stream roots are only comparable at one scale")
    for value, members in sorted(given.items()):
        notes.append(f"{_count(members, n)} given challenge {value[:16]}…: their challenge results "
                     "are compared with each other only (fresh streams nobody could answer in advance)")
    run_ids: dict[str, int] = {}
    for i, o in enumerate(outcomes):
        rid = o.statement["predicate"]["run"]["id"]
        if rid in run_ids:
            notes.append(f"{platforms[i].name} is the same run as {platforms[run_ids[rid]].name} "
                         f"(run {rid}): it adds no evidence")
        else:
            run_ids[rid] = i
    return Comparison(platforms=platforms, results=results, classes=_classes(signatures),
                      drift=_drift(outcomes), notes=notes, caveats=_caveats(platforms))


def _caveats(platforms: list[Platform]) -> list[str]:
    """Profiles that differ, and signers or profiles that nothing pinned, named first
    on every output: each makes agreement mean less than it seems to."""
    out = []
    profiles: dict[tuple[str, str], list[int]] = {}
    for p in platforms:
        profiles.setdefault((p.profile, p.profile_digest), []).append(p.index)
    if len(profiles) > 1:
        listed = "; ".join(f"{name} ({digest[:SHORT]}): {len(members)} report{'s' if len(members) != 1 else ''}"
                           for (name, digest), members in profiles.items())
        out.append(f"the reports were made under {len(profiles)} different profiles ({listed}): their "
                   f"verdicts follow different rules, and results one profile asks for and another does "
                   f"not are missing rather than compared")
    n = len(platforms)
    unsigned = [p.index for p in platforms if not p.signer_pinned]
    if unsigned:
        out.append(f"signer not pinned for {_count(unsigned, n)} (pass --trust KEYS): a signature was "
                   f"checked against the key its report names, which anyone can make: "
                   f"{_list(platforms, unsigned)}")
    unpinned = [p.index for p in platforms if not p.profile_pinned]
    if unpinned:
        out.append(f"profile not pinned for {_count(unpinned, n)} (pass --profile NAME|FILE; built-ins are "
                   f"pinned by their digest): a report names the policy it was judged by: "
                   f"{_list(platforms, unpinned)}")
    return out


def _count(members: list[int], n: int) -> str:
    return "every report" if len(members) == n else f"{len(members)} of {n} reports"


def _list(platforms: list[Platform], members: list[int], limit: int = 8) -> str:
    shown = ", ".join(platforms[i].name for i in members[:limit])
    return shown + (f" and {len(members) - limit} more" if len(members) > limit else "")


# -- output -------------------------------------------------------------------------------


def _first_divergence(cmp: Comparison, res: ResultComparison) -> tuple[int, dict[str, Any]] | None:
    for g in res.groups:
        for i in g.platforms:
            if i in g.divergences:
                return i, g.divergences[i]
    return None


def counts(cmp: Comparison) -> dict[str, int]:
    """How many reports, classes, consensus results, diverging and partial results."""
    return {
        "reports": len(cmp.platforms),
        "classes": len(cmp.classes),
        "consensus_results": len(cmp.results),
        "diverging": sum(1 for r in cmp.results if r.diverges),
        "missing_from_some": sum(1 for r in cmp.results if r.missing),
    }


def comparison_to_json(cmp: Comparison) -> dict[str, Any]:
    """The machine-readable form of a comparison (``teecert compare --json``); keys are stable."""
    names = cmp.class_of()
    where = [p.report for p in cmp.platforms]

    def roots(res: ResultComparison) -> list[dict[str, Any]]:
        return [{"root": g.root,
                 "reports": [where[i] for i in g.platforms],
                 "divergences": [{"report": where[i], **g.divergences[i]} for i in g.platforms
                                 if i in g.divergences]}
                for g in res.groups]

    return {
        "agree": cmp.agree,
        "reports": [{
            "report": p.report,
            "label": p.label,
            "class": names[p.index],
            "environment_digest": p.environment_digest,
            "probe_digest": p.probe_digest,
            "cpu_model": p.cpu_model,
            "verdict": p.verdict,
            "profile": p.profile,
            "profile_digest": p.profile_digest,
            "profile_pinned": p.profile_pinned,
            "signer_pinned": p.signer_pinned,
            "vector_set_digest": p.vector_set_digest,
        } for p in cmp.platforms],
        "classes": [{"name": class_name(n), "reports": [where[i] for i in members]}
                    for n, members in enumerate(cmp.classes)],
        "counts": counts(cmp),
        "diverging": [{"id": r.id, "suite": r.suite, "op": r.op, "kind": r.kind, "roots": roots(r),
                       "missing": [where[i] for i in r.missing]} for r in cmp.diverging],
        "missing": [{"id": r.id, "suite": r.suite, "op": r.op, "kind": r.kind,
                     "present": len(cmp.platforms) - len(r.missing),
                     "missing": [where[i] for i in r.missing]} for r in cmp.partial],
        "drift": [{"kind": d.kind, "digest": d.digest, "reports": [where[i] for i in d.platforms],
                   "fields": [{"field": k, "values": [{"report": where[i], "value": v}
                                                      for i, v in zip(d.platforms, vals, strict=True)]}
                              for k, vals in d.fields.items()]}
                  for d in cmp.drift],
        "notes": list(cmp.notes),
        "caveats": list(cmp.caveats),
    }


def _names(cmp: Comparison, members: Iterable[int], limit: int = 8) -> str:
    members = list(members)
    shown = ", ".join(cmp.platforms[i].name for i in members[:limit])
    return shown + (f" and {len(members) - limit} more" if len(members) > limit else "")


def _divergence_text(d: Mapping[str, Any]) -> str:
    return (f"vector {d['index']}: inputs {' '.join(d['inputs'])}, expected {d['expected']}, "
            f"got {d['got']} ({d['ulp']} ulp)")


def comparison_lines(cmp: Comparison, *, missing_limit: int = 20) -> list[str]:
    """The text output: the outcome first, one line per diverging result, then the classes."""
    n = len(cmp.platforms)
    diverging = cmp.diverging
    partial = cmp.partial
    if cmp.agree:
        head = f"reports agree: {n} reports, {len(cmp.results)} consensus results, 1 agreement class"
    else:
        head = (f"reports diverge: {len(diverging)} of {len(cmp.results)} consensus results differ; "
                f"{n} reports in {len(cmp.classes)} agreement classes")
    lines = [head]
    lines.extend(f"caveat: {c}" for c in cmp.caveats)
    names = cmp.class_of()
    for r in diverging:
        parts = [f"{g.root[:SHORT]} ({'class ' + '/'.join(sorted({names[i] for i in g.platforms}))}: "
                 f"{_names(cmp, g.platforms)})" for g in r.groups]
        line = f"DIVERGES {r.id}: " + " vs ".join(parts)
        if r.missing:
            line += f"; missing from {len(r.missing)}"
        first = _first_divergence(cmp, r)
        if first is not None:
            i, d = first
            line += f"; {cmp.platforms[i].name} first differs at {_divergence_text(d)}"
        lines.append(line)
    for r in partial[:missing_limit]:
        lines.append(f"MISSING {r.id}: in {n - len(r.missing)} of {n} reports; absent from {_names(cmp, r.missing)}")
    if len(partial) > missing_limit:
        lines.append(f"MISSING ... and {len(partial) - missing_limit} more results (see --json)")
    for k, members in enumerate(cmp.classes):
        p = cmp.platforms[members[0]]
        others = f" and {len(members) - 1} more" if len(members) > 1 else ""
        lines.append(f"class {class_name(k)}: {len(members)} report{'s' if len(members) != 1 else ''}: "
                     f"{p.label}{others}")
    for drift in cmp.drift:
        fields = ", ".join(drift.fields)
        lines.append(f"drift on {drift.kind} {drift.digest[:SHORT]}: {_names(cmp, drift.platforms)} "
                     f"differ in {fields}")
    lines.extend(f"note: {note}" for note in cmp.notes)
    return lines


def _matrix(cmp: Comparison) -> list[dict[str, Any]]:
    """Rows of the HTML matrix: per diverging or partial result, per class, the root labels
    (``r1`` is the root most reports gave) its members produced, and how many lack it."""
    rows = []
    for res in cmp.results:
        if not (res.diverges or res.missing):
            continue
        label = {i: f"r{k + 1}" for k, g in enumerate(res.groups) for i in g.platforms}
        cells = []
        for members in cmp.classes:
            got = sorted({label[i] for i in members if i in label}, key=lambda s: int(s[1:]))
            cells.append({"roots": got, "missing": sum(1 for i in members if i not in label)})
        rows.append({"result": res, "cells": cells})
    return rows


def render_compare_html(cmp: Comparison, at: _dt.datetime | None = None, *, list_limit: int = 50) -> str:
    """The comparison as one self-contained HTML page (inline CSS, no scripts, works offline).

    Lists of reports inside a cell stop after ``list_limit`` names; the JSON has them all.
    """
    return environment(False).get_template("compare.html.j2").render(
        c=cmp,
        counts=counts(cmp),
        names=cmp.class_of(),
        class_name=class_name,
        matrix=_matrix(cmp),
        at=format_time(at) if at else None,
        teecert_version=__version__,
        limit=list_limit,
    )
