"""A command cut short: its output's reader gone (``teecert ... | head -1``), Ctrl-C
(SIGINT) or SIGTERM during ``teecert run``.

The reader gone is a quiet exit (141, as a shell reports SIGPIPE), never "internal
error: BrokenPipeError".  An interrupted run exits 130 (SIGTERM: 143) after ending the
pytest child and everything it started, writes no report then or later, and removes
the output folder it made.  Every wait here polls with a generous deadline: these
tests run on loaded two-core machines.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from conftest import no_traceback

QUIET = ("internal error", "Traceback", "Exception ignored", "BrokenPipeError")


def _with_reader_gone(args: list[str], *, unbuffered: bool) -> subprocess.CompletedProcess[str]:
    """``teecert ARGS`` writing to a pipe whose reading end is already closed: the
    first write fails with EPIPE, whatever the timing."""
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "teecert", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=300, check=False)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("args", [["verify", "--help"], ["--version"], ["profile", "show", "strict"]],
                         ids=["help", "version", "profile-show"])
def test_reader_gone_is_a_quiet_exit(args: list[str], unbuffered: bool) -> None:
    res = _with_reader_gone(args, unbuffered=unbuffered)
    for word in QUIET:
        assert word not in res.stderr, res.stderr
    assert res.stderr == ""
    if args[0] == "profile":
        assert res.returncode == 141
    else:
        # argparse itself ignores a failed write of --help/--version; what it left
        # buffered fails on the way out, quietly
        assert res.returncode in (0, 141)


def test_head_in_a_shell_pipeline(tmp_path: Path) -> None:
    """As typed: ``teecert profile show strict | head -1``."""
    err = tmp_path / "err"
    cmd = f"{sys.executable} -m teecert profile show strict 2>{err} | head -1"
    res = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=300, check=False)
    assert res.stdout.strip() == "{"
    for word in QUIET:
        assert word not in err.read_text()


def _poll(what: str, condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _gone(proc: psutil.Process) -> bool:
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated")],
                         ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_ends_its_pytest_child_and_leaves_nothing(
        sig: signal.Signals, code: int, word: str, tmp_path: Path, quick_profile: Path,
        key_file: Path) -> None:
    out = tmp_path / "fresh" / "out"
    log_out, log_err = tmp_path / "stdout", tmp_path / "stderr"

    def default_sigint() -> None:
        # a test run started in the background may ignore SIGINT, and children inherit that
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    with log_out.open("w") as so, log_err.open("w") as se:
        proc = subprocess.Popen(
            [sys.executable, "-m", "teecert", "run", "--profile", str(quick_profile), "--key", str(key_file),
             "--out", str(out)],
            stdout=so, stderr=se, text=True, preexec_fn=default_sigint)
    try:
        pytest_child: list[psutil.Process] = []

        def suites_started() -> bool:
            """The pytest child has started a probe host of its own: the suites run."""
            assert proc.poll() is None, f"teecert run ended first: {log_err.read_text()[-2000:]}"
            for child in _descendants(proc.pid):
                try:
                    if child.ppid() == proc.pid and "pytest" in " ".join(child.cmdline()):
                        pytest_child[:] = [child]
                        return bool(_descendants(child.pid))
                except psutil.Error:
                    continue
            return False

        _poll("the pytest child and its probe host", suites_started, timeout=300)
        started = [*pytest_child, *_descendants(pytest_child[0].pid)]
        proc.send_signal(sig)
        assert proc.wait(timeout=120) == code, log_err.read_text()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = log_err.read_text()
    assert no_traceback(err), err
    assert err.strip().splitlines()[-1] == f"teecert run: {word}"
    _poll("the pytest child and what it started to end", lambda: all(_gone(p) for p in started), timeout=60)
    assert not (tmp_path / "fresh").exists(), list((tmp_path / "fresh").rglob("*"))
    time.sleep(3)  # nothing may write a report after the command has returned
    assert not list(tmp_path.rglob("teecert-report-*")) and not list(tmp_path.rglob("teecert-pending-*"))
    assert not (tmp_path / "fresh").exists()
