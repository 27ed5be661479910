"""The reviewer's commands: ``teecert verify``, ``render`` and ``compare``.

Each verifies first (``teecert.verify``) and prints one line per report; the views
and the comparison are the library's, the options and exit codes are here.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._internal.atomic import write_atomic
from .._internal.files import read_input
from ..errors import TeecertError, UsageError
from . import governance as governance_cli
from .common import (
    ACCEPTED,
    INVALID,
    REJECTED,
    add_verify_options,
    exit_code_of,
    parse_at,
    parse_time,
    printable,
    verdict_code,
    verify_inputs,
)


def _verdict_line(where: str, verdict: dict[str, Any]) -> str:
    if verdict["result"] == "CERTIFIED":
        return printable(f"{where}: CERTIFIED")
    first = verdict["reasons"][0] if verdict["reasons"] else {}
    line = f"{where}: NOT_CERTIFIED: {first.get('code', '')} {first.get('test') or first.get('suite') or ''}"
    return printable(line.rstrip())


def _judged(a: argparse.Namespace, outcome: Any) -> tuple[int, str, dict[str, Any]]:
    """The exit code of an authentic report's outcome, its line, and its JSON."""
    # imported when the command runs, so that `teecert` starts without it
    from ..verify.verifier import outcome_to_json

    code = verdict_code(outcome.verdict["result"])
    # Fail closed: a CERTIFIED verdict is accepted only when the signer and the profile
    # are pinned; anyone can sign a report that names their own key and policy.
    unpinned = [what for what, pinned in (("signer not pinned (pass --trust KEYS)", outcome.signer_pinned),
                                          ("profile not pinned (pass --profile)", outcome.profile_pinned))
                if not pinned]
    if code == 0 and unpinned and not a.allow_unpinned:
        code = 1
    line = _verdict_line(outcome.where, outcome.verdict)
    if outcome.verdict["result"] == "CERTIFIED" and unpinned:
        line += (": not accepted, " if code else ": accepted with --allow-unpinned, ") + "; ".join(unpinned)
    return code, line, {**outcome_to_json(outcome), "accepted": code == 0, "exit_code": code}


def _cmd_verify(a: argparse.Namespace) -> int:
    paths = _report_paths(a)
    if len(paths) != 1 or a.from_file or Path(a.reports[0]).is_dir():
        return _verify_batch(a, paths)
    # Imported per command: `teecert --help` and the other commands need none of it.
    from ..profile import load_profile
    from ..report import keys
    from ..verify.verifier import verify_report

    path = paths[0]
    a.report = str(path)  # main names it in the --json form of a refusal
    data = read_input(path, "report")
    decided = governance_cli.verify_decision_file(a, data, path, parse_time)  # a decision, by payloadType
    if decided is not None:
        return decided
    trusted = keys.load_trusted(Path(a.trust)) if a.trust else None
    profile = load_profile(a.profile) if a.profile else None
    outcome = verify_report(data, str(path), trusted=trusted, profile=profile, at=parse_at(a.at),
                            revocations=governance_cli.revocations_option(a))
    code, line, doc = _judged(a, outcome)
    if a.json:
        print(json.dumps(doc, indent=2))
    else:
        print(line)
        for note in outcome.reasons:
            print(f"  {printable(note)}")
    return code


def _report_paths(a: argparse.Namespace) -> list[Path]:
    """The reports named: each REPORT (a folder: the ``*.json`` files in it, sorted), then
    the lines of ``--from`` (``-`` for standard input; blank lines and ``#`` comments skipped)."""
    paths: list[Path] = []
    for name in a.reports:
        p = Path(name)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix == ".json" and not q.is_dir())
            if not found:
                raise UsageError(f"{p}: a folder with no .json report in it")
            paths.extend(found)
        else:
            paths.append(p)
    if a.from_file:
        if a.from_file == "-":
            text = sys.stdin.read()
        else:
            raw = read_input(Path(a.from_file), "list of reports")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise UsageError(f"{a.from_file}: not UTF-8 text (invalid byte at offset {e.start})") from None
        paths.extend(Path(line.strip()) for line in text.splitlines()
                     if line.strip() and not line.lstrip().startswith("#"))
    if not paths:
        raise UsageError("no report to verify: give REPORT paths, a folder of reports, or --from FILE")
    return paths


def _not_a_report(path: Path) -> UsageError | None:
    """For a refused batch member: a clearer reason when the file is another signed teecert
    document (a decision, profile or revocation list), which ``verify`` takes alone.

    Only refused files are looked at again, so verifying good reports costs nothing more.
    """
    # imported when the command runs, so that `teecert` starts without it
    from ..governance import trust as governance
    from ..profile import PROFILE_PAYLOAD_TYPE

    kinds = {governance.DECISION_PAYLOAD_TYPE: ("decision", "teecert verify DECISION --governance GOV.json"),
             PROFILE_PAYLOAD_TYPE: ("profile", "teecert profile verify"),
             governance.REVOCATIONS_PAYLOAD_TYPE: ("revocation list", "teecert revocations verify")}
    try:
        kind = kinds.get(governance.payload_type_of(read_input(path, "report"), str(path)) or "")
    except TeecertError:
        return None
    if kind is None:
        return None
    return UsageError(f"{path}: a signed {kind[0]}, not a run report; check it on its own with `{kind[1]}`")


def _refusal_line(path: Path, error: BaseException) -> str:
    """``PATH: REFUSED: reason``: the reason without the path most messages start with."""
    text = str(error)
    for prefix in (f"{path}: ", f"{path}"):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    return printable(f"{path}: REFUSED: {text}")


def _verify_batch(a: argparse.Namespace, paths: Sequence[Path]) -> int:
    """``teecert verify`` of many reports: one line each, then a summary; the exit code is
    the worst report's (2 over 1 over 0).  Keys, profile, revocation list and time are
    read once; the profiles reports were made under are parsed once each (by digest)."""
    # imported when the command runs, so that `teecert` starts without it
    from ..verify.verifier import ReportCache, error_to_json, verify_report_file

    trusted, profile, at = verify_inputs(a)  # one verification time for the whole batch
    revocations = governance_cli.revocations_option(a)
    cache = ReportCache()
    docs: list[dict[str, Any]] = []
    counts = {ACCEPTED: 0, REJECTED: 0, INVALID: 0}
    for path in paths:
        try:
            outcome = verify_report_file(path, trusted=trusted, profile=profile, at=at,
                                         revocations=revocations, cache=cache)
            code, line, doc = _judged(a, outcome)
        except TeecertError as e:
            e = _not_a_report(path) or e
            code, line = exit_code_of(e), _refusal_line(path, e)
            doc = {**error_to_json(e, str(path)), "accepted": False, "exit_code": code}
        except Exception as e:  # a bug met on one report: say so on its line, verify the rest
            code = INVALID
            line = printable(f"{path}: REFUSED: internal error: {type(e).__name__}: {e}")
            doc = {"report": str(path), "authentic": False, "error": "InternalError",
                   "message": f"{type(e).__name__}: {e}", "accepted": False, "exit_code": code}
        counts[code] += 1
        if a.json:
            docs.append(doc)
        else:
            print(line)
    worst = max(code for code, n in counts.items() if n)
    summary = {"reports": len(paths), "accepted": counts[ACCEPTED], "rejected": counts[REJECTED],
               "refused": counts[INVALID]}
    if a.json:
        print(json.dumps({"reports": docs, "summary": summary, "exit_code": worst}, indent=2))
    else:
        print(f"verified {len(paths)} reports: {counts[ACCEPTED]} accepted, {counts[REJECTED]} not accepted, "
              f"{counts[INVALID]} refused (not authentic, malformed or unreadable); exit {worst}")
    return worst


def _cmd_render(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..verify.render import render_html, render_markdown
    from ..verify.verifier import verify_report_file

    trusted, prof, at = verify_inputs(a)
    if a.html and a.md and Path(a.html).resolve() == Path(a.md).resolve():
        raise UsageError(f"--html and --md both name {a.html}; give two files")
    outcome = verify_report_file(a.report, trusted=trusted, profile=prof, at=at)
    code = verdict_code(outcome.verdict["result"])
    # Render both before writing either, so a failure leaves no half set of views.
    pages: list[tuple[Path, str]] = []
    if a.html:
        pages.append((Path(a.html), render_html(outcome, at)))
    if a.md:
        pages.append((Path(a.md), render_markdown(outcome, at)))
    if not pages:
        print(_verdict_line(outcome.where, outcome.verdict), file=sys.stderr)
        sys.stdout.write(render_markdown(outcome, at))
        return code
    print(_verdict_line(outcome.where, outcome.verdict))
    for path, text in pages:
        write_atomic(path, text.encode("utf-8"), 0o644)
        print(f"wrote {path}")
    return code


def _cmd_compare(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..verify.compare import compare, comparison_lines, comparison_to_json, render_compare_html
    from ..verify.verifier import ReportCache, verify_report_file

    trusted, prof, at = verify_inputs(a)
    reverify_at, bundles = governance_cli.reverify_options(a, parse_time)  # bad input refused before any work
    cache = ReportCache()  # the profiles the reports were made under, parsed once each
    outcomes = []
    try:
        for path in a.reports:
            outcomes.append(verify_report_file(path, trusted=trusted, profile=prof, at=at, cache=cache))
            # Every outcome is kept to the end, thousands of objects each: frozen, the
            # cycle collector stops walking them again and again as the list grows.
            gc.freeze()
    finally:
        gc.unfreeze()
    cmp = compare(outcomes)
    code = 0 if cmp.agree else 1
    reverified = _reverified(outcomes, reverify_at, bundles)  # [] without --reverify-at
    if any(not r.accepted_now for r in reverified):
        code = 1  # a machine that no longer passes attestation is no evidence of agreement
    if a.html:
        write_atomic(Path(a.html), render_compare_html(cmp, at).encode("utf-8"), 0o644)
    if a.json:
        extra = {"reverify": [_reverified_json(r) for r in reverified]} if reverified else {}
        print(json.dumps({**comparison_to_json(cmp), **extra, "exit_code": code}, indent=2, sort_keys=True))
    else:
        for line in comparison_lines(cmp):
            print(line)
        for r in reverified:
            if not r.accepted_now:
                print(printable(f"{r.where}: fell out when re-verified at {r.at:%Y-%m-%dT%H:%M:%SZ}: {r.now}"))
        if a.html:
            print(f"wrote {a.html}")
    return code


def _reverified(outcomes: list[Any], when: Any, bundles: list[Any]) -> list[Any]:
    """``reverify.reverify`` over ``outcomes`` when ``--reverify-at`` is given, else []."""
    if when is None:
        return []
    # imported when the command runs, so that `teecert` starts without it
    from ..verify.reverify import reverify

    return reverify(outcomes, collateral=bundles, at=when)


def _reverified_json(r: Any) -> dict[str, Any]:
    # imported when the command runs, so that `teecert` starts without it
    from ..verify.reverify import reverified_to_json

    return reverified_to_json(r)


def add_verify_parser(sub: Any) -> None:
    """Register ``teecert verify``."""
    v = sub.add_parser(
        "verify", help="verify signed reports and recompute their verdicts",
        description="Verify REPORT (a run report or a governance decision) and recompute its verdict. "
                    "Given several reports, a folder of reports or --from, verify each (run reports "
                    "only) and print one line per report and a summary; the exit code is the worst "
                    "report's: 2 if any is refused, else 1 if any is not accepted, else 0.",
    )
    v.add_argument("reports", nargs="*", metavar="REPORT",
                   help="report file, or a folder: every *.json file in it")
    v.add_argument("--from", dest="from_file", metavar="FILE",
                   help="also verify the reports listed in FILE, one path a line ('-': standard input)")
    v.add_argument("--trust", metavar="KEYS", help="PEM public key file or folder of trusted signers")
    v.add_argument("--profile", metavar="NAME|FILE", help="the profile the report must have been made under")
    v.add_argument("--at", metavar="TIME", help="verification time, RFC 3339 (default: now)")
    v.add_argument("--json", action="store_true", help="machine-readable result")
    v.add_argument("--allow-unpinned", action="store_true",
                   help="accept a CERTIFIED report whose signer or profile nothing pins (exit 0); "
                        "without it such a report exits 1")
    governance_cli.add_verify_options(v)
    v.set_defaults(func=_cmd_verify)


def add_render_parser(subparsers: Any) -> None:
    """Register ``teecert render``."""
    p = subparsers.add_parser(
        "render", help="verify a report, then render it as HTML and/or Markdown",
        description="Verify REPORT (as `teecert verify` does) and render it for reviewers. "
                    "Without --html or --md, Markdown goes to standard output. "
                    "Exit 0 CERTIFIED, 1 NOT_CERTIFIED, 2 not authentic or malformed (nothing written).",
    )
    p.add_argument("report", metavar="REPORT")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML page")
    p.add_argument("--md", metavar="FILE", help="write Markdown")
    add_verify_options(p)
    p.set_defaults(func=_cmd_render)


def add_compare_parser(subparsers: Any) -> None:
    """Register ``teecert compare``."""
    p = subparsers.add_parser(
        "compare", help="verify reports and show which platforms agree on every consensus result",
        description="Verify every REPORT (as `teecert verify` does), then compare the output roots of "
                    "their consensus results. Exit 0 when all agree, 1 when any diverge (or, with "
                    "--reverify-at, any report's evidence no longer passes its attestation policy), "
                    "2 when a report is not authentic or malformed.",
    )
    p.add_argument("reports", nargs="+", metavar="REPORT")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML page")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    add_verify_options(p)
    governance_cli.add_reverify_options(p)
    p.set_defaults(func=_cmd_compare)
