"""``teecert run``: certify a probe on this machine and write a signed report."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import TeecertError, UsageError
from .common import printable, verdict_code

#: pytest options after ``--`` that only write files: they do not ask to see pytest's output
_FILE_OPTIONS = ("--junitxml", "--junit-xml", "--junit-prefix")
#: a terminal gets its progress line redrawn at most this often (seconds)
_TTY_EVERY = 0.25
#: elsewhere (a CI log) a plain line after this long, and then this often (seconds)
_LOG_EVERY = 30.0


def _cmd_run(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..certify.options import ProbeTarget, RunOptions
    from ..certify.run import finish, run

    if a.quiet and (a.verbose or a.json):
        raise UsageError("--quiet goes with neither -v nor --json")
    if a.evidence or a.pending:
        if not (a.evidence and a.pending):
            raise UsageError("--evidence and --pending go together: the evidence finishes that pending run")
        done = finish(pending_path=Path(a.pending), evidence=Path(a.evidence), fmt=a.evidence_format,
                      certs=[Path(c) for c in a.evidence_cert or []],
                      collateral=Path(a.evidence_collateral) if a.evidence_collateral else None,
                      key=Path(a.key) if a.key else None, out=Path(a.out))
        return _print_outcome(a, done)

    extra = list(a.pytest_args or [])
    if extra and extra[0] == "--":
        extra = extra[1:]
    # pytest's own output is shown with -v, or when options after -- ask for more of it
    shown = a.verbose or any(not x.startswith(_FILE_OPTIONS) for x in extra if x.startswith("-"))
    ticker = None if (shown or a.quiet or a.json) else _Ticker(sys.stderr)
    try:
        outcome = run(RunOptions(
            probe=ProbeTarget(path=Path(a.probe) if a.probe else None, cmd=a.probe_cmd_line, url=a.probe_url,
                              timeout=a.probe_timeout, in_process=a.in_process,
                              token_file=Path(a.probe_token_file) if a.probe_token_file else None),
            profile=a.profile,
            governance=Path(a.governance) if a.governance else None,
            revocations=Path(a.revocations) if a.revocations else None,
            vectors=Path(a.vectors) if a.vectors else None,
            out=Path(a.out),
            key=Path(a.key) if a.key else None,
            workers=a.workers,
            seed=a.seed,
            challenge=a.challenge,
            print_report_data=a.print_report_data,
            pytest_args=tuple(extra),
            argv=("teecert", *sys.argv[1:]),
            # --json keeps standard output for its one object
            pytest_output=("stderr" if a.json else "stdout") if shown else "captured",
            bundle=True,
        ), progress=ticker.update if ticker else None)
    finally:
        if ticker is not None:
            ticker.clear()
    if outcome.pending_path is not None:
        then = (f"teecert run --evidence EVIDENCE --pending {outcome.pending_path} --out {a.out}"
                + (f" --key {a.key}" if a.key else ""))
        if a.json:
            print(json.dumps({"verdict": "PENDING", "pending": str(outcome.pending_path),
                              "report_data": outcome.report_data, "next": then, "exit_code": 0}, indent=2))
            return 0
        print(f"teecert run: waiting for attestation evidence of report data {outcome.report_data}")
        print(printable(f"pending run: {outcome.pending_path}"))
        print(printable(f"then: {then}"))
        return 0
    bundle = _make_bundle(a, outcome) if outcome.staging is not None else None
    return _print_outcome(a, outcome, bundle)


def _make_bundle(a: argparse.Namespace, outcome: Any) -> Path:
    """The run's results bundle (``certify.bundle``): the report verified with the key
    that signed it pinned and rendered as ``teecert render`` does, the summary
    ``--json`` prints, and the test process's JUnit file and output."""
    # imported when the command runs, so that `teecert` starts without it
    from ..certify import bundle
    from ..report import keys
    from ..verify.render import render_html, render_markdown
    from ..verify.verifier import verify_report_file

    staging = outcome.staging
    try:
        pub = keys.load_private(outcome.key_path).public_key()
        keyid = keys.keyid(pub)
        if keyid != outcome.statement["predicate"]["signer"]["keyid"]:
            raise TeecertError(f"{outcome.report_path}: not signed by {outcome.key_path}; no bundle was made")
        at = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
        verified = verify_report_file(outcome.report_path, trusted={keyid: pub}, profile=outcome.profile, at=at)
        name = bundle.name_of(outcome.statement)
        folder = outcome.report_path.parent / name
        obj = _run_object(outcome, folder)
        pages = {
            bundle.REPORT_HTML: render_html(verified, at).encode("utf-8"),
            bundle.REPORT_MD: render_markdown(verified, at).encode("utf-8"),
            bundle.SUMMARY: (json.dumps(obj, indent=2) + "\n").encode("utf-8"),
        }
    except BaseException:
        staging.discard()
        raise
    return bundle.complete(staging, report=outcome.report_path, name=name, public_pem=keys.public_pem(pub),
                           pages=pages, user_junit=outcome.user_junit, tar=a.tar)


def _run_object(outcome: Any, bundle: Path | None) -> dict[str, Any]:
    """What ``--json`` prints, and the bundle's ``summary.json``."""
    # imported when the command runs, so that `teecert` starts without it
    from ..certify import summary
    from ..report import keys

    pub = keys.public_path_of(outcome.key_path or keys.default_key_path())
    return summary.run_object(
        outcome.statement, outcome.profile, report=str(outcome.report_path),
        bundle=str(bundle) if bundle is not None else None,
        public_key_file=str(pub) if pub.exists() else None, elapsed=outcome.elapsed,
        exit_code=verdict_code(outcome.statement["predicate"]["verdict"]["result"]))


def _print_outcome(a: argparse.Namespace, outcome: Any, bundle: Path | None = None) -> int:
    """The run's summary: the table per suite, the verdict with its reasons grouped,
    what the profile is for, who signed, where the report is and what to do next
    (``--quiet``: the verdict and the report; ``--json``: one object)."""
    # imported when the command runs, so that `teecert` starts without it
    from ..certify import summary
    from ..profile import BUILTIN, builtin
    from ..report import keys
    from ..report.verdict import summarize_suites

    pred = outcome.statement["predicate"]
    prof = outcome.profile
    verdict = pred["verdict"]
    code = verdict_code(verdict["result"])
    suites = summarize_suites(pred["results"], prof)
    text = summary.verdict_text(verdict, suites, prof)
    path = outcome.report_path
    key_path = outcome.key_path or keys.default_key_path()
    pub = keys.public_path_of(key_path)
    keyid = pred["signer"]["keyid"]
    if a.json:
        print(json.dumps(_run_object(outcome, bundle), indent=2))
        return code
    if a.quiet:
        print(printable(f"teecert run: {text}"))
        print(printable(f"report: {path}"))
        return code
    for line in summary.suite_table(suites):
        print(printable(line))
    print(printable(f"teecert run: {text}"))
    for line in summary.reason_lines(verdict["reasons"]):
        print(printable(line))
    print(printable(summary.profile_line(prof)))
    print(_signer_line(key_path, keyid))
    print(printable(f"report: {path}"))
    if bundle is not None:
        print(printable(f"bundle: {bundle}"))
    # verify pins a built-in profile by its digest; any other it must be given
    typed = None if (a.evidence or a.pending) else a.profile
    pin = [] if prof.id in BUILTIN and builtin(prof.id).digest == prof.digest else \
        ["--profile", typed if typed and typed not in BUILTIN else "PROFILE.json"]
    signer_pub = bundle / "signer.pub" if bundle is not None else None
    trust = ["--trust", str(pub) if pub.exists() else str(signer_pub) if signer_pub else "PUBLIC_KEY.pem"]
    print(printable("next: " + shlex.join(["teecert", "verify", str(path), *trust, *pin])))
    print(printable("      " + shlex.join(["teecert", "render", str(path), *trust, *pin, "--html", "report.html"])))
    return code


def _signer_line(key: Path, keyid: str) -> str:
    """Which key signed the report, and the public key file a verifier pins (--trust)."""
    # imported when the command runs, so that `teecert` starts without it
    from ..report import keys

    beside = keys.public_path_of(key)
    where = (f"public key for --trust: {beside}" if beside.exists()
             else f"no {beside.name} beside it: `teecert keys show {key}` prints the public key")
    return printable(f"signed by: Ed25519 key {keyid} ({where})")


class _Ticker:
    """The suites' progress on standard error: on a terminal one line redrawn in
    place (and wiped at the end); elsewhere, such as a CI log, a plain line now and
    then, so that a long run shows it is alive without burying the summary."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        try:
            self.tty = bool(stream.isatty())
        except (AttributeError, ValueError):
            self.tty = False
        self.last = 0.0
        self.drawn = False

    def update(self, progress: Any) -> None:
        now = time.monotonic()
        if self.tty:
            if now - self.last < _TTY_EVERY:
                return
            width = shutil.get_terminal_size().columns
            line = printable(f"teecert run: {progress.line(now)}")[: max(width - 1, 20)]
            self.stream.write("\r\x1b[2K" + line)
            self.drawn = True
        else:
            if now - max(self.last, progress.started) < _LOG_EVERY:
                return
            self.stream.write(printable(f"teecert run: {progress.line(now)}") + "\n")
        self.stream.flush()
        self.last = now

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.drawn = False


def add_parsers(sub: Any) -> None:
    """Register ``teecert run``."""
    r = sub.add_parser("run", help="certify a probe on this machine and write a signed report")
    r.add_argument("--probe", metavar="PATH", help="probe library (default: the reference probe)")
    # or the probe behind a probe host (docs/wire-protocol.md)
    r.add_argument("--probe-cmd", dest="probe_cmd_line", metavar="CMD",
                   help="probe host command serving the probe on its stdio, e.g. "
                        "'teecert-probe-host --probe LIB.so' (a child process)")
    r.add_argument("--probe-url", metavar="URL",
                   help="listening probe host: tcp://HOST:PORT, unix:PATH or vsock://CID:PORT")
    r.add_argument("--probe-timeout", type=float, metavar="SECONDS",
                   help="deadline of each call into the probe, over every transport; in process an "
                        "overdue call ends the run with one line (default: the profile's, else 30)")
    r.add_argument("--probe-token-file", metavar="FILE",
                   help="the probe host's token (a file only you can read; default: "
                        "$TEECERT_HOST_TOKEN), proved to a host that asks for it")
    r.add_argument("--in-process", action="store_true",
                   help="load the probe library into the test process instead of serving it "
                        "from a probe host child process (faster; a crash ends the run)")
    r.add_argument("--profile", default="development", metavar="NAME|FILE", help="certification profile (default: development)")
    r.add_argument("--out", default=str(Path("teecert-reports")), metavar="DIR", help="where the signed report goes")
    r.add_argument("--key", metavar="FILE", help="Ed25519 signing key (default: created on first use, 0600)")
    r.add_argument("-n", dest="workers", metavar="WORKERS", help="pytest-xdist workers (a number or 'auto')")
    r.add_argument("--vectors", metavar="DIR", help="vector set folder (default: built in)")
    r.add_argument("--seed", type=int, help="seed of the run's random choices (recorded in the report)")
    r.add_argument("--challenge", metavar="HEX",
                   help="a fresh challenge, 16 to 64 bytes in hex (e.g. a block hash governance "
                        "published): adds streams derived from it that nobody could answer in advance")
    r.add_argument("--governance", metavar="GOV.json",
                   help="governance trust file: the profile must carry its threshold of signatures")
    r.add_argument("--revocations", metavar="FILE", help="signed revocation list (superseded profiles)")
    r.add_argument("--print-report-data", action="store_true",
                   help="write a pending run and print the 64 bytes of report data to attest out of band")
    r.add_argument("--evidence", metavar="FILE", help="evidence obtained out of band (finishes --pending)")
    r.add_argument("--pending", metavar="FILE", help="the pending run that --print-report-data wrote")
    r.add_argument("--evidence-format", default="auto", choices=["auto", "snp", "tdx", "sgx", "nitro", "cca", "azure-snp-hcl", "azure-tdx-hcl", "sim"])
    r.add_argument("--evidence-cert", action="append", metavar="FILE", help="VCEK/VLEK certificate (SEV-SNP), or the platform key (CPAK) of an Arm CCA token")
    r.add_argument("--evidence-collateral", metavar="FILE", help="DCAP collateral bundle")
    shown = r.add_mutually_exclusive_group()
    shown.add_argument("-v", "--verbose", action="store_true",
                       help="show pytest's own output (every test, every failure) before the summary")
    shown.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line and the report's path")
    r.add_argument("--tar", action="store_true",
                   help="also write the results bundle as BUNDLE.tar.gz beside its folder (for governance)")
    r.add_argument("--json", action="store_true",
                   help="print one JSON object (verdict, reasons, counts per suite, report, signer) and nothing else")
    r.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then arguments for pytest")
    r.set_defaults(func=_cmd_run)

