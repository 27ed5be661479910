"""``teecert watch``: keep checking a certified machine against its report, and
``teecert watch verify``: check a heartbeat log."""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import re
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .common import ACCEPTED, REJECTED, printable

#: ``teecert watch --once``: the probe faulted (crashed, hung past --probe-timeout,
#: answered garbage), so the cycle could not check everything.  Beside the codes
#: every command shares (0 no drift, 1 drift, 2 bad input).
PROBE_FAULT = 3

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, option: str) -> float:
    """``600``, ``600s``, ``10m``, ``1h``, ``1d``: seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise UsageError(f"{option}: {text!r} is not a duration such as 600, 10m, 1h or 1d")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def load_report(path: Path, trust: str | None) -> tuple[dict[str, Any], bytes, list[str]]:
    """The verified statement of a CERTIFIED report, its payload's SHA-256, and notes."""
    # imported when the command runs, so that `teecert` starts without it
    from .._internal import canonical
    from ..report import keys
    from ..verify.verifier import verify_report_file

    trusted = dict(keys.load_trusted(Path(trust))) if trust else None
    outcome = verify_report_file(path, trusted=trusted, profile=None, at=None)
    if outcome.verdict["result"] != "CERTIFIED":
        raise UsageError(f"{path}: NOT_CERTIFIED: there is no certified machine to watch")
    notes = [f"report {path}: authentic, CERTIFIED" + (", signer pinned" if outcome.signer_pinned
                                                        else ", signer not pinned (pass --trust)")]
    digest = hashlib.sha256(canonical.dumps(outcome.statement)).digest()
    return outcome.statement, digest, notes


def _cmd_watch(a: argparse.Namespace) -> int:
    if a.watch_cmd == "verify":
        return _cmd_verify(a)
    if not a.report:
        raise UsageError("--report is required: the certified report to watch the machine against")
    # imported when the command runs, so that `teecert` starts without it
    from ..certify.watch.heartbeat import HeartbeatLog
    from ..certify.watch.metrics import WatchMetrics
    from ..certify.watch.watcher import WatchConfig, Watcher, drift_lines, summary_line
    from ..report import keys

    config = WatchConfig(
        interval=parse_duration(a.interval, "--interval"),
        cover=parse_duration(a.cover, "--cover"),
        probe_path=Path(a.probe) if a.probe else None,
        probe_cmd=a.probe_cmd, probe_url=a.probe_url,
        probe_timeout=parse_duration(a.probe_timeout, "--probe-timeout"),
        token_file=Path(a.probe_token_file) if a.probe_token_file else None,
        collateral=_read(a.collateral, "collateral") if a.collateral else None,
        expiry_warning=_dt.timedelta(seconds=parse_duration(a.expiry_warning, "--expiry-warning")),
        hook=a.hook, textfile=Path(a.textfile) if a.textfile else None,
    )
    statement, digest, notes = load_report(Path(a.report), a.trust)
    log = None
    metrics = WatchMetrics() if (a.metrics_port is not None or a.textfile) else None
    try:
        if a.log:
            log = HeartbeatLog(a.log, keys.load_private(Path(a.key) if a.key else keys.default_key_path()))
            if log.recovered:
                print(f"teecert watch: {printable(log.recovered)}", file=sys.stderr)
        watcher = Watcher(statement, config, report_digest=digest, report_path=str(a.report),
                          log=log, metrics=metrics, notes=notes)
        if metrics is not None and a.metrics_port is not None:
            port = metrics.serve(a.metrics_port, a.metrics_addr)
            print(f"teecert watch: metrics at http://{a.metrics_addr}:{port}/metrics", flush=True)

        def show(result: Any) -> None:
            print(printable(summary_line(result)))
            for line in drift_lines(result):
                print(printable(line))
            sys.stdout.flush()

        last = watcher.run(cycles=1 if a.once else None, on_cycle=show)
    finally:
        if metrics is not None:
            metrics.close()
        if log is not None:
            log.close()
    assert last is not None
    return {"ok": ACCEPTED, "drift": REJECTED, "fault": PROBE_FAULT}[last.outcome]


def _read(path: str, what: str) -> bytes:
    # imported when the command runs, so that `teecert` starts without it
    from .._internal.files import read_input

    return read_input(Path(path), what)


def _cmd_verify(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..certify.watch.heartbeat import verify_log
    from ..report import keys

    trusted = dict(keys.load_trusted(Path(a.log_trust))) if a.log_trust else None
    s = verify_log(a.log, trusted)
    if not s.records:
        print(printable(f"{s.path}: no records yet"))
        return ACCEPTED
    who = (f"signer {(s.keyid or '')[:16]} " + ("pinned" if s.pinned else "not pinned (pass --trust KEY)"))
    counts = ", ".join(f"{n} {k}" for k, n in sorted(s.outcomes.items()))
    print(printable(f"{s.path}: {s.records} records, chain and signatures verified; {who}"))
    print(printable(f"  {s.first_time} .. {s.last_time}: {counts}; last: {s.last_outcome}"))
    return ACCEPTED


def add_parsers(sub: Any) -> None:
    """Register ``teecert watch`` and ``teecert watch verify``."""
    p = sub.add_parser(
        "watch", help="keep checking a certified machine against its report",
        description="Every --interval: a rotating slice of the certified streams against the report's "
                    "roots, the FP state, the environment fingerprint and probe digest, fresh attestation "
                    "evidence and expiry.  Exit (--once): 0 no drift, 1 drift, 2 bad input, 3 probe fault.")
    p.add_argument("--report", metavar="CERTIFIED.json", help="the certified report to hold the machine to")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--probe", metavar="LIB", help="the probe library (default: the report's probe path)")
    target.add_argument("--probe-cmd", metavar="CMD", help="a probe host command speaking the wire protocol on stdio")
    target.add_argument("--probe-url", metavar="URL", help="a listening probe host: tcp://HOST:PORT, unix:PATH, "
                        "vsock://CID:PORT")
    p.add_argument("--probe-token-file", metavar="FILE", help="the probe host's token (else $TEECERT_HOST_TOKEN)")
    p.add_argument("--probe-timeout", default="30", metavar="S", help="deadline of every probe call (default 30 s)")
    p.add_argument("--interval", default="10m", metavar="DURATION", help="time between cycles (default 10m)")
    p.add_argument("--cover", default="24h", metavar="DURATION",
                   help="the canary checks every certified chunk once in this period (default 24h)")
    p.add_argument("--once", action="store_true", help="run one cycle and exit with its outcome")
    p.add_argument("--trust", metavar="KEYS", help="PEM public key file or folder: the report's signer must be one")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--metrics-port", type=int, metavar="N", help="serve Prometheus metrics on /metrics (0: any port)")
    out.add_argument("--textfile", metavar="PATH", help="write the metrics for node-exporter's textfile collector")
    p.add_argument("--metrics-addr", default="127.0.0.1", metavar="ADDR",
                   help="address --metrics-port listens on (default 127.0.0.1)")
    p.add_argument("--log", metavar="LOG", help="append one signed, hash-chained record per cycle")
    p.add_argument("--key", metavar="KEY", help="the run key that signs --log records "
                   "(default $TEECERT_KEY or ~/.config/teecert/run-key.pem)")
    p.add_argument("--hook", metavar="CMD", help="run CMD (with /bin/sh -c) when what drifted changes; "
                   "details in TEECERT_WATCH_* variables")
    p.add_argument("--collateral", metavar="FILE", help="current collateral to verify fresh evidence with "
                   "(default: the report's)")
    p.add_argument("--expiry-warning", default="7d", metavar="DURATION",
                   help="report or evidence expiry this close is drift (default 7d)")
    p.set_defaults(func=_cmd_watch, watch_cmd=None)
    wsub = p.add_subparsers(dest="watch_cmd", metavar="verify")
    v = wsub.add_parser("verify", help="check a heartbeat log: chain and signatures",
                        description="Exit 0 when every record's signature and chain verify; 2 naming the "
                                    "first line that does not (edited, removed, inserted, torn).")
    v.add_argument("log", metavar="LOG")
    v.add_argument("--trust", dest="log_trust", metavar="KEY",
                   help="PEM public key file or folder the records must be signed by")
    v.set_defaults(func=_cmd_watch)

