"""The environment suite end to end: pinned platform values and the isolation of
the consensus process (the probe host), each caught when wrong."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from teecert.certify.run import _statement_of
from teecert.probe.remote import default_host_cmd

from conftest import no_traceback, teecert_cli


def _profile(tmp_path: Path, base: Path, environment: dict[str, Any]) -> Path:
    doc = json.loads(base.read_text())
    doc["id"] = "test-environment"
    doc["environment"] = environment
    path = tmp_path / "env-profile.json"
    path.write_text(json.dumps(doc))
    return path


def _run(tmp_path: Path, key: Path, profile: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "out"
    res = teecert_cli(["run", *extra, "--profile", str(profile), "--key", str(key), "--out", str(out)],
                      timeout=300)
    assert no_traceback(res.err), res.err
    [report] = out.glob("teecert-report-*.json")
    return res.code, _statement_of(report)["predicate"], res.err


def _row(pred: dict[str, Any], test: str) -> dict[str, Any]:
    return next(r for r in pred["results"] if r["id"] == f"test_environment.py::{test}")


def test_pinned_values_of_another_platform_fail_naming_the_field(
        tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    prof = _profile(tmp_path, quick_profile, {"pinned": {"cpu_model": "Imaginary CPU 9000",
                                                         "libc_name": {"one_of": ["glibc", "musl"]}}})
    code, pred, _ = _run(tmp_path, key_file, prof)
    assert code == 1
    row = _row(pred, "test_pinned_environment")
    assert row["outcome"] == "failed" and row["failures"] == 1
    assert "cpu_model" in row["message"] and "Imaginary CPU 9000" in row["message"]
    failed = {r["id"] for r in pred["results"] if r["outcome"] == "failed"}
    assert failed == {"test_environment.py::test_pinned_environment"}


def test_this_machines_own_values_pass(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    # the reference values a governance would copy from an earlier report of the machine
    first = tmp_path / "first"
    first.mkdir()
    _code, pred, _ = _run(first, key_file, quick_profile)
    fp = pred["environment"]["fingerprint"]
    pins = {k: fp[k] for k in ("arch", "cpu_model", "kernel_release", "libc_version", "probe_digest")}
    prof = _profile(tmp_path, quick_profile, {"pinned": pins})
    code, pred, _ = _run(tmp_path, key_file, prof)
    assert code == 0
    assert _row(pred, "test_pinned_environment")["outcome"] == "passed"


def test_locked_memory_is_checked_on_the_probe_host(tmp_path: Path, key_file: Path,
                                                   quick_profile: Path) -> None:
    prof = _profile(tmp_path, quick_profile, {"isolation": {"locked_memory": True}})
    # a host started without --mlock: its memory is not locked
    unlocked = tmp_path / "unlocked"
    unlocked.mkdir()
    code, pred, _ = _run(unlocked, key_file, prof, "--probe-cmd", shlex.join(default_host_cmd()))
    row = _row(pred, "test_consensus_isolation")
    assert code == 1 and row["outcome"] == "failed", row
    assert "locked" in row["message"]
    # the default: teecert run starts the host with --mlock for this profile
    if os.geteuid() != 0:
        pytest.skip("locking a probe host's memory needs CAP_IPC_LOCK or a large RLIMIT_MEMLOCK")
    code, pred, _ = _run(tmp_path, key_file, prof)
    row = _row(pred, "test_consensus_isolation")
    assert code == 0 and row["outcome"] == "passed", row
    assert pred["environment"]["fingerprint"]["process"]["memory_locked"] is True


@pytest.fixture
def busy_neighbour() -> Iterator[int]:
    """A busy process outside the harness, allowed on every core."""
    p = subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield p.pid
    finally:
        p.kill()
        p.wait()


def test_a_busy_neighbour_on_the_consensus_cores_fails_dedicated_cores(
        tmp_path: Path, key_file: Path, quick_profile: Path, busy_neighbour: int) -> None:
    prof = _profile(tmp_path, quick_profile, {"isolation": {"dedicated_cores": True,
                                                            "busy_threshold_percent": 20}})
    code, pred, _ = _run(tmp_path, key_file, prof)
    row = _row(pred, "test_consensus_isolation")
    assert code == 1 and row["outcome"] == "failed", row
    assert str(busy_neighbour) in row["message"]


def test_unknown_isolation_keys_are_one_line(tmp_path: Path, key_file: Path,
                                             quick_profile: Path) -> None:
    prof = _profile(tmp_path, quick_profile, {"isolation": {"dedicated_cpus": True}})
    res = teecert_cli(["run", "--profile", str(prof), "--key", str(key_file), "--out",
                       str(tmp_path / "out")])
    assert res.code == 2
    [line] = res.err.strip().splitlines()
    assert "environment" in line and str(prof) in line
