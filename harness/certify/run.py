"""``teecert run``: certify a probe on this machine and write a signed report.

Checks everything a user can get wrong before pytest starts (probe, profile, vector
set, key), so that those errors are one clear line and no report is written; then
drives the certification suites through pytest with the teecert plugin.
"""

from __future__ import annotations

import base64
import os
import secrets
import shlex
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .. import ops
from .._internal import canonical
from ..errors import MalformedInput, TeecertError, UsageError
from ..governance.profiles import load_governed
from ..probe.build import reference_probe_path
from ..probe.library import load_probe
from ..probe.remote import default_host_cmd, open_probe
from ..profile import Profile
from ..report import keys
from ..vectors.store import VectorSet, load_set
from . import pending
from .stress import plan_from_profile

DEFAULT_OUT = Path("teecert-reports")


@dataclass
class RunOutcome:
    exit_code: int
    report_path: Path | None
    verdict: str | None
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
    return RunOutcome(0 if verdict["result"] == "CERTIFIED" else 1, path, verdict["result"], verdict["reasons"])


def check_pinned_vectors(profile: Profile, vs: VectorSet) -> None:
    """A run under a profile uses exactly the vector set the profile pins."""
    if vs.name != profile.vector_set_name or vs.digest != profile.vector_digest:
        raise UsageError(
            f"vector set {vs.name} ({vs.path}, digest {vs.digest[:16]}...) is not the one profile "
            f"{profile.id} pins ({profile.vector_set_name}, digest {profile.vector_digest[:16]}...)"
        )


def check_profile_plan(profile: Profile, vs: VectorSet, where: str) -> None:
    """What a profile asks of the vector set beyond its schema: the stress plan's ops
    and chunks, and libm pins naming libm functions; one line naming ``where``."""
    if "stress" in profile.data:

        plan_from_profile(profile.data["stress"], vs.streams(), where)
    for op_id in profile.data.get("libm", {}).get("pinned", {}):
        op = ops.get(op_id, f"{where}: field libm.pinned")
        if op.kind != "libm":
            raise MalformedInput(f"{where}: field libm.pinned: {op_id} is not a libm function")


def check_vector_contents(vs: VectorSet) -> None:
    """Parse every file of the set (about 0.25 s for the shipped one), so a malformed
    file is one line naming it and its field, before the run, rather than test
    failures blamed on the probe in a NOT_CERTIFIED report."""
    for op_id in vs.explicit_ops():
        vs.explicit(op_id)
    vs.streams()


def suites_path() -> Path:
    return Path(str(resources.files("teecert.suites")))


def run(
    *,
    probe: Path | None,
    profile: str,
    out: Path,
    key: Path | None,
    workers: str | None,
    vectors: Path | None,
    seed: int | None,
    pytest_args: list[str],
    argv: list[str],
    print_report_data: bool = False,
    governance: Path | None = None,
    revocations: Path | None = None,
    probe_cmd: str | None = None,
    probe_url: str | None = None,
    probe_timeout: float | None = None,
    in_process: bool = False,
) -> RunOutcome:
    # Transport wiring (issue 3): --probe-cmd / --probe-url reach the probe through
    # the probe host; the handshake is checked here, with one line, like a library.
    if sum(x is not None for x in (probe, probe_cmd, probe_url)) > 1:
        raise UsageError("give one of --probe, --probe-cmd and --probe-url")
    if in_process and (probe_cmd or probe_url):
        raise UsageError("--in-process loads a library: it does not go with --probe-cmd or --probe-url")
    if probe_timeout is not None and not probe_timeout > 0:
        raise UsageError(f"--probe-timeout must be positive, not {probe_timeout}")
    # With a governance file, a certification profile must be signed by the threshold
    # of governance keys, in force, and not superseded (docs/profile-format.md).
    prof = load_governed(profile, governance, revocations=revocations)
    probe_path: Path | None = None
    if not (in_process or probe_cmd or probe_url):
        # Certification runs reach even a library through a probe host in a child
        # process: a probe that crashes, aborts or hangs fails its tests instead of
        # taking the harness down (docs/wire-protocol.md).  A profile that requires
        # the consensus process's memory locked gets a host started with --mlock.

        if probe is not None and not probe.exists():
            raise UsageError(f"--probe {probe}: no such file")
        words = default_host_cmd(probe)
        if prof.data.get("environment", {}).get("isolation", {}).get("locked_memory"):
            words.append("--mlock")
        probe_cmd = shlex.join(words)
    if probe_cmd or probe_url:

        open_probe(cmd=probe_cmd, url=probe_url,
                   timeout=probe_timeout or prof.probe_timeout).close()
    else:
        probe_path = probe.resolve() if probe else reference_probe_path()
        load_probe(probe_path)  # fails here, with one line, for a bad probe
    vs = load_set(vectors)
    check_pinned_vectors(prof, vs)
    check_vector_contents(vs)
    check_profile_plan(prof, vs, f"profile {profile}")
    if workers is not None and workers != "auto" and not (workers.isdigit() and 1 <= int(workers) <= 1024):
        raise UsageError(f"-n {workers}: the number of workers must be 'auto' or 1 to 1024")
    key_path = key or keys.default_key_path()
    if key is not None:
        keys.load_private(key)
    else:
        keys.load_or_create_default()
    out.mkdir(parents=True, exist_ok=True)
    run_id = str(uuid.uuid4())
    suites = suites_path()
    args = [
        str(suites),
        "--rootdir",
        str(suites),
        "-c",
        str(suites / "pytest.ini"),
        "-q",
        "--teecert-profile",
        profile,
        "--teecert-report-dir",
        str(out),
        "--teecert-key",
        str(key_path),
        "--teecert-run-id",
        run_id,
        "--teecert-nonce",
        secrets.token_hex(32),
        "--teecert-command",
        "\x1f".join(argv),
    ]
    if probe_cmd:
        args += ["--teecert-probe-cmd", probe_cmd]
    elif probe_url:
        args += ["--teecert-probe-url", probe_url]
    else:
        args += ["--teecert-probe", str(probe_path)]
    if probe_timeout is not None:
        args += ["--teecert-probe-timeout", str(probe_timeout)]
    if vectors is not None:
        args += ["--teecert-vectors", str(vectors)]
    if seed is not None:
        args += ["--teecert-seed", str(seed)]
    if workers:
        args += ["-n", workers]
    if print_report_data:
        args.append("--teecert-print-report-data")
    args += pytest_args
    # pytest runs in a child process: a probe that crashes the process or changes
    # its FP state when loaded cannot take the CLI (and its diagnosis) with it.
    env = {**os.environ, "TEECERT_HARNESS_PID": str(os.getpid())}  # the environment suite's
    code = subprocess.run([sys.executable, "-m", "pytest", *args], check=False, env=env).returncode
    pending_path = out / f"teecert-pending-{run_id}.json"
    if print_report_data and pending_path.exists():
        doc = pending.load(pending_path)
        return RunOutcome(0, None, "PENDING", [], pending_path=pending_path, report_data=doc["report_data"])
    report_path = out / f"teecert-report-{run_id}.json"
    if not report_path.exists():
        if code < 0 and in_process:

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
    return RunOutcome(0 if verdict["result"] == "CERTIFIED" else 1, report_path, verdict["result"], verdict["reasons"])


def _statement_of(path: Path) -> dict[str, Any]:

    env = canonical.loads(path.read_bytes(), str(path))
    if not isinstance(env, dict) or not isinstance(env.get("payload"), str):
        raise MalformedInput(f"{path}: not a DSSE envelope")
    stmt = canonical.loads(base64.b64decode(env["payload"]), str(path) + ": payload")
    if not isinstance(stmt, dict):
        raise MalformedInput(f"{path}: payload is not an object")
    return stmt
