"""``teecert run``: certify a probe on this machine and write a signed report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .common import printable


def _cmd_run(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..certify.options import ProbeTarget, RunOptions
    from ..certify.run import finish, run

    if a.evidence or a.pending:
        if not (a.evidence and a.pending):
            raise UsageError("--evidence and --pending go together: the evidence finishes that pending run")
        done = finish(pending_path=Path(a.pending), evidence=Path(a.evidence), fmt=a.evidence_format,
                      certs=[Path(c) for c in a.evidence_cert or []],
                      collateral=Path(a.evidence_collateral) if a.evidence_collateral else None,
                      key=Path(a.key) if a.key else None, out=Path(a.out))
        print(f"teecert run: {done.verdict}")
        print(f"report: {done.report_path}")
        print(_signer_line(Path(a.key) if a.key else None))
        return 0 if done.verdict == "CERTIFIED" else 1

    extra = list(a.pytest_args or [])
    if extra and extra[0] == "--":
        extra = extra[1:]
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
        print_report_data=a.print_report_data,
        pytest_args=tuple(extra),
        argv=("teecert", *sys.argv[1:]),
    ))
    if outcome.pending_path is not None:
        print(f"teecert run: waiting for attestation evidence of report data {outcome.report_data}")
        print(f"pending run: {outcome.pending_path}")
        print(f"then: teecert run --evidence EVIDENCE --pending {outcome.pending_path} --out {a.out}"
              + (f" --key {a.key}" if a.key else ""))
        return 0
    line = f"teecert run: {outcome.verdict}"
    if outcome.reasons:
        first = outcome.reasons[0]
        line += f" ({len(outcome.reasons)} reasons; first: {first.get('code')} {first.get('test') or first.get('suite')})"
    print(printable(line))
    print(f"report: {outcome.report_path}")
    print(_signer_line(Path(a.key) if a.key else None))
    return 0 if outcome.verdict == "CERTIFIED" else 1


def _signer_line(key: Path | None) -> str:
    """Which key signed the report, and the public key file a verifier pins (--trust)."""
    # imported when the command runs, so that `teecert` starts without it
    from ..report import keys

    path = key or keys.default_key_path()
    pub = keys.load_private(path).public_key()
    beside = keys.public_path_of(path)
    where = (f"public key for --trust: {beside}" if beside.exists()
             else f"no {beside.name} beside it: `teecert keys show {path}` prints the public key")
    return printable(f"signed by: Ed25519 key {keys.keyid(pub)} ({where})")


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
    r.add_argument("--governance", metavar="GOV.json",
                   help="governance trust file: the profile must carry its threshold of signatures")
    r.add_argument("--revocations", metavar="FILE", help="signed revocation list (superseded profiles)")
    r.add_argument("--print-report-data", action="store_true",
                   help="write a pending run and print the 64 bytes of report data to attest out of band")
    r.add_argument("--evidence", metavar="FILE", help="evidence obtained out of band (finishes --pending)")
    r.add_argument("--pending", metavar="FILE", help="the pending run that --print-report-data wrote")
    r.add_argument("--evidence-format", default="auto", choices=["auto", "snp", "tdx", "sgx", "nitro", "sim"])
    r.add_argument("--evidence-cert", action="append", metavar="FILE", help="VCEK/VLEK certificate (SEV-SNP)")
    r.add_argument("--evidence-collateral", metavar="FILE", help="DCAP collateral bundle")
    r.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then arguments for pytest")
    r.set_defaults(func=_cmd_run)

