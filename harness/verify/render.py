"""Render a verified run report as a self-contained HTML page or as Markdown.

A reviewer reads these views; the signed JSON stays authoritative and every page
says so first.  Only a report that ``verify_report`` accepted is rendered: the
view is built from the statement it verified and from the verdict it recomputed,
never from what the report claims.  Sections come in the order a reviewer decides
on (DESIGN.md, Reports): verdict, identity, validity, signers, counts, failures,
advisory results and waivers; then the full results, the environment, the digests
and how to verify.  Reasons that repeat one code in one suite are shown once, with
their count and the list folded under them; results of suites the profile does not
require never read as failures, since the verdict does not count them.

The HTML has its CSS inline, no scripts and no external references, and a
Content-Security-Policy that forbids loading anything, so it works offline and
a hostile string in a report cannot run or fetch anything.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import shlex
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import profile as profiles
from .._internal import canonical
from .._internal.timefmt import format_time, parse_time
from .._internal.version import __version__
from .verifier import VerifyOutcome

if TYPE_CHECKING:
    import jinja2

#: How many characters of a digest the views show where space is short.
SHORT = 12
_FAILING = ("failed", "error")
#: Outcomes counted per advisory suite besides its divergences (``failed``).
OUTCOME_COLUMNS = ("passed", "error", "skipped", "unsupported")
#: Up to this many advisory divergences are listed open; more are collapsed.
ADVISORY_OPEN_MAX = 10


# -- the view model ---------------------------------------------------------------------


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        if not value and prefix:
            out[prefix] = ""
        for k in sorted(value):
            _flatten(value[k], f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list):
        out[prefix] = " ".join(str(v) for v in value)
    elif value is None:
        out[prefix] = ""
    else:
        out[prefix] = str(value)


def flatten(value: Mapping[str, Any]) -> dict[str, str]:
    """``{"a": {"b": 1}, "c": [1, 2]}`` → ``{"a.b": "1", "c": "1 2"}``, keys sorted."""
    out: dict[str, str] = {}
    _flatten(value, "", out)
    return out


def _reason_view(r: Mapping[str, Any]) -> dict[str, Any]:
    """A verdict reason as ``subject`` (the test, or the suite) and a ``detail`` line."""
    code = r["code"]
    if code == "SUITE_MISSING":
        return {**r, "subject": f"suite {r['suite']}", "detail": "has no results"}
    if code == "ATTESTATION_MISSING":
        return {**r, "subject": "attestation", "detail": r.get("message") or "no evidence"}
    if code == "OP_UNSUPPORTED":
        return {**r, "subject": r.get("test", ""), "detail": f"op {r.get('op')} is not supported by the probe"}
    return {**r, "subject": r.get("test", ""), "detail": r.get("message") or ""}


def _reason_groups(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Verdict reasons with one code in one suite, gathered under that code and suite.

    A probe with one wrong op fails it in every suite that calls it (the streams, the
    FP environment, each stress perturbation), so a flat list would repeat one cause
    a dozen times; a group shows the code and suite once, with the count, and lists
    its members.  Groups keep the verdict's order (by suite, then test).
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for r in reasons:
        key = (str(r["code"]), str(r.get("suite", "")))
        g = groups.setdefault(key, {"code": key[0], "suite": key[1], "reasons": []})
        g["reasons"].append(r)
    return [{**g, "count": len(g["reasons"])} for g in groups.values()]


def _counted_tests(verdict: Mapping[str, Any]) -> set[str]:
    """Test ids the verdict holds against the report, waived ones included."""
    return {str(r["test"]) for r in [*verdict["reasons"], *verdict.get("waived", ())] if "test" in r}


def _outcome_label(r: Mapping[str, Any], advisory: bool) -> tuple[str, str]:
    """(text, CSS class) of a result's outcome: an advisory suite's failed or errored
    result never decides the verdict, so it is not shown as a failure."""
    outcome = str(r["outcome"])
    if advisory and outcome in _FAILING:
        return ("diverges (advisory)" if outcome == "failed" else "error (advisory)"), "outcome-advisory"
    return outcome, f"outcome-{outcome}"


def _advisory(rows: list[dict[str, Any]], how: Mapping[str, str]) -> dict[str, Any]:
    """The advisory section over ``rows``, the results of suites the profile does not
    require: per suite its counts, and every divergence (a failed or errored result,
    which the verdict ignores by design).  Skips are only counted: a suite the profile
    does not name is skipped whole, and listing it would bury the divergences."""
    suites: dict[str, dict[str, Any]] = {}
    listed = []
    for r in rows:
        suite = r["suite"]
        s = suites.setdefault(suite, {"name": suite, "policy": how.get(suite, "not in profile"),
                                      "total": 0, "diverges": 0, **dict.fromkeys(OUTCOME_COLUMNS, 0)})
        s["total"] += 1
        outcome = r["outcome"]
        key = "diverges" if outcome == "failed" else outcome
        s[key] = s.get(key, 0) + 1
        if outcome in _FAILING:
            label, css = _outcome_label(r, True)
            listed.append({**r, "policy": s["policy"], "label": label, "css": css})
    return {"suites": [suites[k] for k in sorted(suites)], "results": listed, "diverges": len(listed),
            # a short list stays open; a long one (a libm that is not correctly
            # rounded differs in dozens of functions) is one click away
            "open": len(listed) <= ADVISORY_OPEN_MAX}


def verify_command(outcome: VerifyOutcome, at: _dt.datetime | None) -> str:
    """The exact ``teecert verify`` command that re-checks what this view shows."""
    prof = outcome.profile
    words = ["teecert", "verify", outcome.where, "--trust", "SIGNER.pem", "--profile",
             prof.id if prof.id in profiles.BUILTIN and outcome.profile_pinned else "PROFILE.json"]
    if at is not None:
        words += ["--at", format_time(at)]
    return shlex.join(words)


def _characterization(char: Any) -> dict[str, Any]:
    """The report's ``probe.characterization`` as two flat tables (facts, cases)."""
    if not isinstance(char, Mapping):
        return {"facts": {}, "cases": {}}
    facts = {k: v for k, v in char.items() if k != "cases"}
    cases = char.get("cases")
    return {"facts": flatten(facts), "cases": dict(cases) if isinstance(cases, Mapping) else {}}


def view(outcome: VerifyOutcome, at: _dt.datetime | None = None) -> dict[str, Any]:
    """Everything the templates show, computed once; ``at`` is the verification time."""
    st = outcome.statement
    pred = st["predicate"]
    fp = pred["environment"]["fingerprint"]
    desc = pred["probe"]["description"]
    prof = outcome.profile
    how = prof.suites
    verdict = outcome.verdict
    counted = _counted_tests(verdict)

    def advisory(r: Mapping[str, Any]) -> bool:
        return how.get(r["suite"]) != "required" and r["id"] not in counted

    results = []
    failures = []
    for r in pred["results"]:
        label, css = _outcome_label(r, advisory(r))
        results.append({**r, "label": label, "css": css})
        # Failures are what the verdict holds against the report: failed or errored
        # results of required suites (and any the profile's attestation rule counts);
        # the advisory suites' have their own section.
        if r["outcome"] in _FAILING and not advisory(r):
            policy = how.get(r["suite"], "not in profile")
            failures.append({**r, "policy": policy if policy == "required" else f"{policy}, counted by the verdict"})
    nb = parse_time(pred["validity"]["not_before"], outcome.where)
    na = parse_time(pred["validity"]["not_after"], outcome.where)
    validity: dict[str, Any] = {**pred["validity"], "days": (na - nb).days}
    if at is not None:
        validity["at"] = format_time(at)
        left = na - at
        validity["remaining"] = (f"{left.days} days {left.seconds // 3600} hours" if left.days
                                 else f"{left.seconds // 3600} hours {left.seconds % 3600 // 60} minutes")
    name = str(desc.get("name", "")) if isinstance(desc, Mapping) else ""
    version = str(desc.get("version", "")) if isinstance(desc, Mapping) else ""
    return {
        "where": outcome.where,
        "file": Path(outcome.where).name,
        "payload_sha256": canonical.sha256_hex(st),
        "verdict": verdict["result"],
        "certified": verdict["result"] == "CERTIFIED",
        "reasons": [_reason_view(r) for r in verdict["reasons"]],
        "reason_groups": _reason_groups([_reason_view(r) for r in verdict["reasons"]]),
        "notes": list(outcome.reasons),
        "identity": {
            "environment_digest": pred["environment"]["digest"],
            "probe_digest": pred["probe"]["digest"],
            "probe_name": f"{name} {version}".strip() or "not recorded",
            "cpu_model": str(fp.get("cpu_model") or "not recorded"),
            "kernel": str(fp.get("kernel") or "not recorded"),
            "libc": str(fp.get("libc") or "not recorded"),
            "arch": str(fp.get("arch") or "not recorded"),
            "microcode": str(fp.get("microcode") or "not recorded"),
        },
        "profile": {**prof.identity(), "tier": prof.tier, "pinned": outcome.profile_pinned,
                    "suites": sorted(how.items())},
        "validity": validity,
        "signer": pred["signer"],
        "signers": list(outcome.signer_keyids),
        "signer_pinned": outcome.signer_pinned,
        "summary": pred["summary"],
        "failures": failures,
        "advisory": _advisory([r for r in pred["results"] if advisory(r)], how),
        "waivers": [],  # report format v1 records none; the section shows its empty state
        "results": results,
        "fingerprint": flatten(fp),
        "probe_description": flatten(desc) if isinstance(desc, Mapping) else {},
        # raw hardware behaviour under the consensus semantics (never judged)
        "characterization": _characterization(pred["probe"].get("characterization")),
        "harness": pred["harness"],
        "vector_set": pred["vector_set"],
        "run": pred["run"],
        "transcripts": pred["probe"]["transcripts"],
        "command": verify_command(outcome, at),
        "teecert_version": __version__,
    }


# -- templates ----------------------------------------------------------------------------


def _load_template(name: str) -> str:
    return resources.files("teecert").joinpath("templates", name).read_text(encoding="utf-8")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md_text(value: Any) -> str:
    """Markdown prose: one line, Markdown punctuation escaped, HTML characters as entities
    (a Markdown viewer passes raw HTML through)."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_code(value: Any) -> str:
    """A Markdown code span holding ``value`` literally, safe inside a table cell."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    if not text:
        return ""
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def short(value: Any, n: int = SHORT) -> str:
    text = "" if value is None else str(value)
    return text[:n]


@functools.cache
def environment(markdown: bool) -> jinja2.Environment:
    """The jinja2 environment: HTML autoescaped, Markdown through ``md``/``code`` filters."""
    # imported here: slow, and `teecert compare` without --html renders nothing with it
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_text
    env.filters["code"] = md_code
    env.filters["short"] = short
    return env


def render_html(outcome: VerifyOutcome, at: _dt.datetime | None = None) -> str:
    """The report as one self-contained HTML page (``at``: the verification time to show)."""
    return environment(False).get_template("report.html.j2").render(v=view(outcome, at))


def render_markdown(outcome: VerifyOutcome, at: _dt.datetime | None = None) -> str:
    """The report as Markdown, in the same order as the HTML page."""
    return environment(True).get_template("report.md.j2").render(v=view(outcome, at))


# -- command line ---------------------------------------------------------------------------
