"""The reviewer's commands: ``teecert verify``, ``render`` and ``compare``.

Each verifies first (``teecert.verify``) and prints one line per report; the views
and the comparison are the library's, the options and exit codes are here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .._internal.atomic import write_atomic
from .._internal.files import read_input
from ..errors import UsageError
from . import governance as governance_cli
from .common import add_verify_options, parse_at, parse_time, printable, verdict_code, verify_inputs


def _verdict_line(where: str, verdict: dict[str, Any]) -> str:
    if verdict["result"] == "CERTIFIED":
        return printable(f"{where}: CERTIFIED")
    first = verdict["reasons"][0] if verdict["reasons"] else {}
    line = f"{where}: NOT_CERTIFIED: {first.get('code', '')} {first.get('test') or first.get('suite') or ''}"
    return printable(line.rstrip())


def _cmd_verify(a: argparse.Namespace) -> int:
    # Imported per command: `teecert --help` and the other commands need none of it.
    from ..profile import load_profile
    from ..report import keys
    from ..verify.verifier import outcome_to_json, verify_report

    path = Path(a.report)
    data = read_input(path, "report")
    decided = governance_cli.verify_decision_file(a, data, path, parse_time)  # a decision, by payloadType
    if decided is not None:
        return decided
    trusted = keys.load_trusted(Path(a.trust)) if a.trust else None
    profile = load_profile(a.profile) if a.profile else None
    outcome = verify_report(data, str(path), trusted=trusted, profile=profile, at=parse_at(a.at),
                            revocations=governance_cli.revocations_option(a))
    code = verdict_code(outcome.verdict["result"])
    # Fail closed: a CERTIFIED verdict is accepted only when the signer and the profile
    # are pinned; anyone can sign a report that names their own key and policy.
    unpinned = [what for what, pinned in (("signer not pinned (pass --trust KEYS)", outcome.signer_pinned),
                                          ("profile not pinned (pass --profile)", outcome.profile_pinned))
                if not pinned]
    if code == 0 and unpinned and not a.allow_unpinned:
        code = 1
    if a.json:
        print(json.dumps({**outcome_to_json(outcome), "accepted": code == 0, "exit_code": code}, indent=2))
    else:
        line = _verdict_line(str(path), outcome.verdict)
        if outcome.verdict["result"] == "CERTIFIED" and unpinned:
            line += (": not accepted, " if code else ": accepted with --allow-unpinned, ") + "; ".join(unpinned)
        print(line)
        for note in outcome.reasons:
            print(f"  {printable(note)}")
    return code


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
    from ..verify.verifier import verify_report_file

    trusted, prof, at = verify_inputs(a)
    outcomes = [verify_report_file(path, trusted=trusted, profile=prof, at=at) for path in a.reports]
    cmp = compare(outcomes)
    code = 0 if cmp.agree else 1
    if a.html:
        write_atomic(Path(a.html), render_compare_html(cmp, at).encode("utf-8"), 0o644)
    if a.json:
        print(json.dumps({**comparison_to_json(cmp), "exit_code": code}, indent=2, sort_keys=True))
    else:
        for line in comparison_lines(cmp):
            print(line)
        if a.html:
            print(f"wrote {a.html}")
    return code


def add_verify_parser(sub: Any) -> None:
    """Register ``teecert verify``."""
    v = sub.add_parser("verify", help="verify a signed report and recompute its verdict")
    v.add_argument("report", metavar="REPORT")
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
                    "their consensus results. Exit 0 when all agree, 1 when any diverge, "
                    "2 when a report is not authentic or malformed.",
    )
    p.add_argument("reports", nargs="+", metavar="REPORT")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML page")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    add_verify_options(p)
    p.set_defaults(func=_cmd_compare)
