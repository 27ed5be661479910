"""``teecert run``: certify a probe on this machine and write a signed report.

Checks everything a user can get wrong before pytest starts (probe, profile, vector
set, key), so that those errors are one clear line and no report is written; then
drives the certification suites through pytest with the teecert plugin.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._internal import canonical
from ..errors import MalformedInput, TeecertError, UsageError
from ..governance.profiles import load_governed
from ..report import keys
from ..vectors.store import load_set
from . import pending, preflight
from .options import RunOptions


@dataclass
class RunOutcome:
    """What a run ended with: the signed report and its verdict (``CERTIFIED`` or
    ``NOT_CERTIFIED``) with its reasons, or ``PENDING`` with the pending run and the
    report data to attest out of band."""

    report_path: Path | None
    verdict: str
    reasons: list[dict[str, Any]]
    pending_path: Path | None = None
    report_data: str | None = None


def finish(*, pending_path: Path, evidence: Path, fmt: str, certs: list[Path], collateral: Path | None,
           key: Path | None, out: Path) -> RunOutcome:
    """``teecert run --evidence FILE --pending PENDING``: complete a pending run."""

    def read(p: Path, what: str) -> bytes:
        try:
            return p.read_bytes()
        except OSError as e:
            raise UsageError(f"{p}: cannot read {what} ({e.strerror})") from None

    private = keys.load_private(key) if key else keys.load_or_create_default()
    path, statement = pending.finish(
        pending_path, key=private, data=read(evidence, "evidence"), fmt=fmt,
        certs=[read(c, "certificate") for c in certs], collateral=read(collateral, "collateral") if collateral else None,
        out_dir=out,
    )
    verdict = statement["predicate"]["verdict"]
    return RunOutcome(path, verdict["result"], verdict["reasons"])


def run(options: RunOptions) -> RunOutcome:
    """Check everything a user can get wrong, then run the suites through pytest in a
    child process; the outcome names the signed report (or the pending run)."""
    o = options
    o.probe.check()
    # With a governance file, a certification profile must be signed by the threshold
    # of governance keys, in force, and not superseded (docs/profile-format.md).
    prof = load_governed(o.profile, o.governance, revocations=o.revocations)
    target = preflight.resolve_probe(o.probe, prof)
    vs = load_set(o.vectors)
    preflight.check_pinned_vectors(prof, vs)
    preflight.check_vector_contents(vs)
    preflight.check_profile_plan(prof, vs, f"profile {o.profile}")
    preflight.check_workers(o.workers)
    preflight.check_pytest_args(o.pytest_args)
    key, out, workers = o.key, o.out, o.workers
    key_path = key or keys.default_key_path()
    if key is not None:
        keys.load_private(key)
    else:
        keys.load_or_create_default()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {out}: cannot make the report folder ({e.strerror or type(e).__name__})") from None
    run_id = str(uuid.uuid4())
    suites = preflight.suites_path()
    args = [
        str(suites),
        "--rootdir",
        str(suites),
        "-c",
        str(suites / "pytest.ini"),
        "-q",
        "--teecert-profile",
        o.profile,
        "--teecert-report-dir",
        str(out),
        "--teecert-key",
        str(key_path),
        "--teecert-run-id",
        run_id,
        "--teecert-nonce",
        secrets.token_hex(32),
        "--teecert-command",
        "\x1f".join(o.argv),
    ]
    if target.cmd:
        args += ["--teecert-probe-cmd", target.cmd]
    elif target.url:
        args += ["--teecert-probe-url", target.url]
    else:
        args += ["--teecert-probe", str(target.path)]
    if target.timeout is not None:
        args += ["--teecert-probe-timeout", str(target.timeout)]
    if o.vectors is not None:
        args += ["--teecert-vectors", str(o.vectors)]
    if o.seed is not None:
        args += ["--teecert-seed", str(o.seed)]
    if workers:
        args += ["-n", workers]
    if o.print_report_data:
        args.append("--teecert-print-report-data")
    args += o.pytest_args
    # pytest runs in a child process: a probe that crashes the process or changes
    # its FP state when loaded cannot take the CLI (and its diagnosis) with it.
    env = {**os.environ, "TEECERT_HARNESS_PID": str(os.getpid())}  # the environment suite's
    code = subprocess.run([sys.executable, "-m", "pytest", *args], check=False, env=env).returncode
    pending_path = out / f"teecert-pending-{run_id}.json"
    if o.print_report_data and pending_path.exists():
        doc = pending.load(pending_path)
        return RunOutcome(None, "PENDING", [], pending_path=pending_path, report_data=doc["report_data"])
    report_path = out / f"teecert-report-{run_id}.json"
    if not report_path.exists():
        if code < 0 and target.in_process:
            try:
                sig = signal.Signals(-code).name
            except ValueError:
                sig = f"signal {-code}"
            raise TeecertError(f"no report was written: the test process died from {sig}, "
                               "which a probe loaded --in-process can cause; run without "
                               "--in-process to isolate the probe in a probe host")
        raise TeecertError(f"no report was written (pytest exit code {code}); see the output above")
    statement = _statement_of(report_path)
    verdict = statement["predicate"]["verdict"]
    return RunOutcome(report_path, verdict["result"], verdict["reasons"])


def _statement_of(path: Path) -> dict[str, Any]:
    env = canonical.loads(path.read_bytes(), str(path))
    if not isinstance(env, dict) or not isinstance(env.get("payload"), str):
        raise MalformedInput(f"{path}: not a DSSE envelope")
    stmt = canonical.loads(base64.b64decode(env["payload"]), str(path) + ": payload")
    if not isinstance(stmt, dict):
        raise MalformedInput(f"{path}: payload is not an object")
    return stmt
