"""``teecert run``: certify a probe on this machine and write a signed report.

Checks everything a user can get wrong before pytest starts (probe, profile, vector
set, key), so that those errors are one clear line and no report is written; then
drives the certification suites through pytest with the teecert plugin.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import psutil

from .._internal import canonical
from ..errors import MalformedInput, ProbeError, TeecertError, UsageError
from ..governance.profiles import load_governed
from ..profile import Profile, from_document
from ..report import keys
from ..vectors import challenge
from ..vectors.store import load_set
from . import bundle, pending, preflight
from .options import PROBE_FAULT_FILE_ENV, PROGRESS_OPTION, RunOptions
from .summary import RunProgress

#: where ``RunOptions.pytest_output`` may send pytest's own output
PYTEST_OUTPUTS = ("captured", "stdout", "stderr")


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
    #: the signed statement (None for a pending run)
    statement: dict[str, Any] | None = None
    #: the profile the run was judged under
    profile: Profile | None = None
    #: the key that signed the report
    key_path: Path | None = None
    #: seconds from the start of the test process to its end
    elapsed: float = 0.0
    #: the suites' progress as the test process reported it
    progress: RunProgress = field(default_factory=RunProgress)
    #: the folder the run's results bundle is put together in (``bundle.complete``)
    staging: bundle.Staging | None = None
    #: the JUnit file the user asked pytest for (``-- --junitxml=FILE``), if any
    user_junit: Path | None = None


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
    return RunOutcome(path, verdict["result"], verdict["reasons"], statement=statement,
                      profile=from_document(statement["predicate"]["profile"]["document"], str(path)),
                      key_path=key or keys.default_key_path())


def run(options: RunOptions, progress: Callable[[RunProgress], None] | None = None) -> RunOutcome:
    """Check everything a user can get wrong, then run the suites through pytest in a
    child process; the outcome names the signed report (or the pending run).
    ``progress`` is called with the suites' progress a few times a second while
    they run."""
    o = options
    if o.pytest_output not in PYTEST_OUTPUTS:
        raise UsageError(f"pytest_output {o.pytest_output!r}: one of {', '.join(PYTEST_OUTPUTS)}")
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
    made = [p for p in (out, *out.parents) if not p.exists()]  # removed again if the run is cut short
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {out}: cannot make the report folder ({e.strerror or type(e).__name__})") from None
    run_id = str(uuid.uuid4())
    # the folder the results bundle is put together in; the caller completes it (cli.run)
    staging = bundle.Staging(out, run_id) if o.bundle else None
    user_junit = _user_junit(o.pytest_args)
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
    if target.token_file is not None:  # the file's name only: the secret stays in it
        args += ["--teecert-probe-token-file", str(target.token_file.resolve())]
    if o.vectors is not None:
        args += ["--teecert-vectors", str(o.vectors)]
    if o.seed is not None:
        args += ["--teecert-seed", str(o.seed)]
    if o.challenge is not None:
        args += ["--teecert-challenge", challenge.parse(o.challenge).hex()]
    # The plugins by module, with pytest's entry-point autoloading off: autoloading
    # marks every module of every distribution that declares a plugin for assertion
    # rewriting, so each teecert module the plugin imports was parsed and rewritten
    # anew in every run where bytecode is not cached (PYTHONDONTWRITEBYTECODE), about
    # a second of CPU; and no other installed plugin is loaded by accident.
    args += ["-p", "teecert.certify.plugin"]
    if workers:
        args += ["-p", "xdist.plugin", "-n", workers]
    if o.print_report_data:
        args.append("--teecert-print-report-data")
    env = {**os.environ, "TEECERT_HARNESS_PID": str(os.getpid()),  # the environment suite's
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    if not os.environ.get("TEECERT_DEBUG"):
        # A probe that crashes the test process is told in one line below, not with
        # the interpreter's dump of every thread's stack first.
        args += ["-p", "no:faulthandler"]
        env.pop("PYTHONFAULTHANDLER", None)
    if staging is not None:
        # the bundle's JUnit file (one the user asks for after -- comes later, and wins)
        args.append(f"--junitxml={staging.junit}")
    if (staging is not None and o.pytest_output != "captured"
            and _is_terminal(sys.stdout if o.pytest_output == "stdout" else sys.stderr)):
        # its output goes to the terminal through the bundle's run.log: keep it as pytest draws it there
        env.setdefault("PY_COLORS", "1")
        env.setdefault("COLUMNS", str(shutil.get_terminal_size().columns))
    args += o.pytest_args
    # pytest runs in a child process: a probe that crashes the process or changes
    # its FP state when loaded cannot take the CLI (and its diagnosis) with it.
    tracker = RunProgress()
    with tempfile.TemporaryDirectory(prefix="teecert-run-") as scratch:
        fault_file = Path(scratch) / "probe-fault" if target.in_process else None
        if fault_file is not None:
            env[PROBE_FAULT_FILE_ENV] = str(fault_file)
        progress_file = Path(scratch) / "progress.jsonl"
        progress_file.touch()
        args += [PROGRESS_OPTION, str(progress_file)]
        kept = staging.log if staging is not None else Path(scratch) / "pytest.log"
        log = kept if o.pytest_output == "captured" else None
        try:
            started = time.monotonic()
            tracker.started = started
            code, fault = _run_pytest([sys.executable, "-m", "pytest", *args], env, fault_file,
                                      _Output(o.pytest_output, kept if staging is not None else log),
                                      _ProgressFeed(progress_file, tracker, progress))
            elapsed = time.monotonic() - started
            why = _why_no_report(tracker, log)
        except BaseException:
            # Ctrl-C or SIGTERM: the test process is gone (it never writes a report
            # later); leave nothing of the run behind either.
            _discard_run_files(out, run_id)
            _remove_empty(made)
            raise
    if fault:
        # An in-process call overran its deadline and the watchdog ended the test
        # process; with xdist workers the controller may have gone on to a report.
        _discard_run_files(out, run_id)
        _remove_empty(made)
        raise ProbeError(f"{fault}; no report was written")
    pending_path = out / f"teecert-pending-{run_id}.json"
    if o.print_report_data and pending_path.exists():
        if staging is not None:
            staging.discard()  # a pending run is no result yet: the report its evidence completes has no bundle
        doc = pending.load(pending_path)
        return RunOutcome(None, "PENDING", [], pending_path=pending_path, report_data=doc["report_data"])
    report_path = out / f"teecert-report-{run_id}.json"
    if not report_path.exists():
        _discard_run_files(out, run_id)
        if code < 0 and target.in_process:
            try:
                sig = signal.Signals(-code).name
            except ValueError:
                sig = f"signal {-code}"
            _remove_empty(made)
            raise ProbeError(f"probe {target.path}: the test process died from {sig}, which a probe "
                             "loaded --in-process can cause (run without --in-process to isolate "
                             "the probe in a probe host); no report was written")
        if why is None:
            raise TeecertError(f"no report was written (pytest exit code {code}); see the output above")
        raise TeecertError(f"no report was written (pytest exit code {code}): {why}")
    statement = _statement_of(report_path)
    verdict = statement["predicate"]["verdict"]
    return RunOutcome(report_path, verdict["result"], verdict["reasons"], statement=statement, profile=prof,
                      key_path=key_path, elapsed=elapsed, progress=tracker, staging=staging,
                      user_junit=user_junit if user_junit is not None and user_junit.is_file() else None)


def _user_junit(pytest_args: tuple[str, ...]) -> Path | None:
    """The JUnit file named by ``--junitxml`` (``--junit-xml``) among the arguments for
    pytest, the last one given; None when none is."""
    found = None
    for i, x in enumerate(pytest_args):
        name, eq, value = x.partition("=")
        if name in ("--junitxml", "--junit-xml"):
            if eq:
                found = value
            elif i + 1 < len(pytest_args):
                found = pytest_args[i + 1]
    return Path(found) if found else None


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@dataclass
class _Output:
    """Where the test process's output goes: kept in ``log`` (``captured``), or this
    process's standard output or error, and ``log`` as well when there is one."""

    to: str
    log: Path | None

    @contextlib.contextmanager
    def opened(self) -> Iterator[tuple[dict[str, Any], BinaryIO | None]]:
        """``subprocess.Popen``'s stream arguments for the test process, and the log
        file its output is to be copied to (``tee``)."""
        if self.log is None:
            yield ({"stdout": sys.stderr.fileno()} if self.to == "stderr" else {}), None
            return
        with self.log.open("wb") as f:
            if self.to == "captured":
                yield {"stdout": f, "stderr": subprocess.STDOUT}, None
            else:
                yield {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}, f

    def tee(self, proc: subprocess.Popen[bytes], log: BinaryIO | None) -> list[threading.Thread]:
        """Copy the test process's output to where it goes and to ``log`` as it comes."""
        if log is None:
            return []
        lock = threading.Lock()
        out = sys.stderr if self.to == "stderr" else sys.stdout
        threads = [threading.Thread(target=_copy, args=(src, dst, log, lock), daemon=True)
                   for src, dst in ((proc.stdout, out), (proc.stderr, sys.stderr)) if src is not None]
        for t in threads:
            t.start()
        return threads


def _copy(src: Any, dst: Any, log: BinaryIO, lock: threading.Lock) -> None:
    """Copy ``src`` to ``dst`` (a text stream) and ``log`` to its end."""
    fd = dst.fileno()
    for chunk in iter(lambda: os.read(src.fileno(), 65536), b""):
        with lock:
            log.write(chunk)
            log.flush()
        dst.flush()
        view = memoryview(chunk)
        while view:
            try:
                view = view[os.write(fd, view):]
            except OSError:
                break


class _ProgressFeed:
    """Reads the test process's progress events as they come (whole lines only) into
    ``tracker`` and tells ``notify``."""

    def __init__(self, path: Path, tracker: RunProgress,
                 notify: Callable[[RunProgress], None] | None) -> None:
        self.path, self.tracker, self.notify = path, tracker, notify
        self.offset = 0
        self.partial = b""

    def poll(self) -> None:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            data = b""
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                self.tracker.feed(event)
        if self.notify is not None:
            self.notify(self.tracker)


def _why_no_report(tracker: RunProgress, log: Path | None) -> str | None:
    """Why the test process wrote no report, in one line: what the plugin said, else
    pytest's own error line from its captured output; None when its output was shown."""
    end = tracker.end or {}
    if isinstance(end.get("error"), str):
        return str(end["error"])
    if log is None:
        return None
    try:
        lines = [x.strip() for x in log.read_text("utf-8", "replace").splitlines() if x.strip()]
    except OSError:
        lines = []
    errors = []
    for i, x in enumerate(lines):
        if x.startswith("ERROR: usage:") and i + 1 < len(lines):  # argparse's: the error is below
            errors.append(lines[i + 1].split(": error: ", 1)[-1])
        elif x.startswith("ERROR: "):
            errors.append(x.removeprefix("ERROR: "))
    internal = [x for x in lines if x.startswith("INTERNALERROR>")]
    last = errors[0] if errors else internal[-1] if internal else lines[-1] if lines else "no output"
    return f"{last} (run again with -v to see pytest's output)"


def _run_pytest(argv: list[str], env: dict[str, str], fault_file: Path | None, output: _Output,
                feed: _ProgressFeed) -> tuple[int, str]:
    """Run the test process to its end; returns its exit code and the line a probe
    call's watchdog left in ``fault_file`` ("" when none).  Once that line is there
    the test process is ended at once with every process it started: xdist's
    controller would otherwise replace the worker and go on to the next overdue call."""
    # Its own process group: Ctrl-C reaches this process alone, which ends the whole
    # group, so pytest never gets to run its interrupted session's hooks (a report).
    with output.opened() as (streams, log):
        proc = subprocess.Popen(argv, env=env, process_group=0, preexec_fn=_die_with_parent(), **streams)
        copying = output.tee(proc, log)
        try:
            while True:
                try:
                    code = proc.wait(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    feed.poll()
                    if fault_file is not None and _fault_of(fault_file):
                        _end_tree(proc)
                        code = proc.wait()
                        break
        except BaseException:
            _end_tree(proc)
            proc.wait()
            raise
        finally:
            for t in copying:
                t.join(timeout=5)  # a process the test process started may hold its output open
    feed.poll()
    return code, _fault_of(fault_file) if fault_file is not None else ""


def _fault_of(path: Path) -> str:
    """The first complete line of the fault file, or ""."""
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""
    line, newline, _rest = text.partition("\n")
    return line.strip() if newline else ""


def _end_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the test process and the processes it started (xdist workers)."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    with contextlib.suppress(OSError):
        proc.kill()
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)  # its group (_run_pytest), not yet reaped
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.kill()


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has Linux SIGKILL the test process when this process dies,
    however it dies (SIGKILL too, where nothing here can clean up): a test process
    left running could write a report after the command has given up."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up now, not in the child
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the line above armed it
            os._exit(1)

    return arm


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a run made (deepest first) while they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _discard_run_files(out: Path, run_id: str) -> None:
    """Remove what a test process ended part way may have left of this run in ``out``:
    its report or pending run, their atomic writes' temporary files, and the folder its
    results bundle was being put together in."""
    shutil.rmtree(bundle.staging_path(out, run_id), ignore_errors=True)
    for name in (f"teecert-report-{run_id}.json", f"teecert-pending-{run_id}.json"):
        for path in (out / name, *out.glob(f".{name}.*.tmp")):
            with contextlib.suppress(OSError):
                path.unlink()


def _statement_of(path: Path) -> dict[str, Any]:
    env = canonical.loads(path.read_bytes(), str(path))
    if not isinstance(env, dict) or not isinstance(env.get("payload"), str):
        raise MalformedInput(f"{path}: not a DSSE envelope")
    stmt = canonical.loads(base64.b64decode(env["payload"]), str(path) + ": payload")
    if not isinstance(stmt, dict):
        raise MalformedInput(f"{path}: payload is not an object")
    return stmt
