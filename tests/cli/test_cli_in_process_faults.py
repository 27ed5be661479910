"""``teecert run`` against probes that hang or crash: every run ends, within a
generous bound, with exactly one line naming the fault, the probe-fault exit code
(2: no report, docs/cli.md), and nothing written: no report, no temporary file.

The deadline of ``--probe-timeout`` (or the profile's ``probe_timeout``) holds for a
probe loaded ``--in-process`` too, and the command line never loads a probe in its
own process, so a probe that crashes while describing itself cannot kill it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from teecert.certify.preflight import suites_path

from conftest import CliResult, teecert_cli
from probezoo import build_faulty_probe

#: Generous: the deadline of the hanging probes below is 2 s.
BOUND = 60.0

PROBE_FAULT = 2


@pytest.fixture(scope="module")
def fault_profile(quick_profile: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick profile without the stress suite, whose fresh probe hosts would each
    meet the hang once before the in-process tests do."""
    doc = json.loads(quick_profile.read_text())
    doc["id"] = "test-faults"
    doc.pop("stress")
    doc["suites"].pop("stress")
    path = tmp_path_factory.mktemp("profiles") / "faults.json"
    path.write_text(json.dumps(doc))
    return path


def _run(tmp_path: Path, key_file: Path, profile: Path, *args: str) -> tuple[CliResult, float]:
    """``teecert run ARGS`` with ``tmp_path/out`` for reports and ``tmp_path/tmp`` as
    the temporary folder, so that what a run leaves behind can be seen."""
    (tmp_path / "tmp").mkdir()
    t0 = time.monotonic()
    res = teecert_cli(["run", *args, "--profile", str(profile), "--key", str(key_file),
                       "--out", str(tmp_path / "out")], env={"TMPDIR": str(tmp_path / "tmp")},
                      timeout=BOUND * 3)
    return res, time.monotonic() - t0


def _one_line(res: CliResult) -> str:
    """The one line of standard error, after checking it is the only one and that no
    interpreter dump or traceback came with it."""
    for noise in ("Fatal Python error", "Traceback", "Current thread"):
        assert noise not in res.err and noise not in res.out, res.out[-2000:] + res.err
    lines = res.err.strip().splitlines()
    assert len(lines) == 1, res.err
    return lines[0]


def _nothing_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert not out.exists() or not list(out.iterdir())
    # pytest-xdist's workers make pytest's own base temp folder, which pytest keeps by design
    assert not [p for p in (tmp_path / "tmp").iterdir() if not p.name.startswith("pytest-of-")]


@pytest.mark.parametrize("given", ["flag", "profile", "workers"])
def test_an_in_process_op_that_never_returns_ends_the_run_in_one_line(
        given: str, tmp_path: Path, key_file: Path, fault_profile: Path) -> None:
    lib = build_faulty_probe("hang_after")
    args = ["--in-process", "--probe", str(lib)]
    profile = fault_profile
    if given == "profile":
        doc = json.loads(fault_profile.read_text())
        doc["probe_timeout"] = 2
        profile = tmp_path / "timeout.json"
        profile.write_text(json.dumps(doc))
    else:
        args += ["--probe-timeout", "2"]
    if given == "workers":
        args += ["-n", "2"]
    res, took = _run(tmp_path, key_file, profile, *args)
    assert took < BOUND, res.err
    assert res.code == PROBE_FAULT, res.out[-2000:] + res.err
    line = _one_line(res)
    assert line == (f"teecert run: probe {lib}: f64.div.rne did not return within 2 s "
                    "(in-process call); no report was written")
    _nothing_written(tmp_path)


def test_an_in_process_crash_is_one_line_without_the_interpreter_dump(
        tmp_path: Path, key_file: Path, fault_profile: Path) -> None:
    lib = build_faulty_probe("run_segv")
    res, took = _run(tmp_path, key_file, fault_profile, "--in-process", "--probe", str(lib))
    assert took < BOUND
    assert res.code == PROBE_FAULT, res.out[-2000:] + res.err
    line = _one_line(res)
    assert line.startswith(f"teecert run: probe {lib}: the test process died from SIGSEGV")
    assert "run without --in-process" in line and line.endswith("no report was written")
    _nothing_written(tmp_path)


@pytest.mark.parametrize(("name", "in_process", "child_process"), [
    ("describe_segv", "describe() crashed (SIGSEGV)", "probe crashed with SIGSEGV during handshake"),
    ("load_segv", "dlopen() crashed (SIGSEGV)", "probe crashed with SIGSEGV during handshake"),
    ("describe_hang", "describe() did not return within 2 s", "probe timed out after 2 s during handshake"),
    ("load_hang", "dlopen() did not return within 2 s", "probe timed out after 2 s during handshake"),
])
@pytest.mark.parametrize("transport", ["in-process", "child-process"])
def test_a_probe_that_fails_while_loading_or_describing_itself_is_one_line(
        name: str, in_process: str, child_process: str, transport: str, tmp_path: Path,
        key_file: Path, fault_profile: Path) -> None:
    lib = build_faulty_probe(name)
    args = ["--probe", str(lib), "--probe-timeout", "2"]
    if transport == "in-process":
        args.insert(0, "--in-process")
    res, took = _run(tmp_path, key_file, fault_profile, *args)
    assert took < BOUND
    assert res.code == PROBE_FAULT, res.out[-2000:] + res.err
    line = _one_line(res)
    if transport == "in-process":
        assert line == f"teecert run: probe {lib}: {in_process}"
    else:
        assert line.startswith(f"teecert run: {child_process}") and str(lib) in line
    assert res.out == ""  # refused before any test ran
    _nothing_written(tmp_path)


def test_pytest_run_directly_is_bounded_too(tmp_path: Path, key_file: Path, fault_profile: Path) -> None:
    """The plugin's own deadline: ``pytest --teecert-probe`` loads the probe in process."""
    lib = build_faulty_probe("hang_after")
    suites = suites_path()
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "pytest", str(suites), "--rootdir", str(suites), "-c",
                        str(suites / "pytest.ini"), "-q", "-p", "no:faulthandler", "--teecert-probe", str(lib),
                        "--teecert-profile", str(fault_profile), "--teecert-key", str(key_file),
                        "--teecert-probe-timeout", "2", "--teecert-report-dir", str(tmp_path / "out")],
                       capture_output=True, text=True, cwd=tmp_path, timeout=BOUND * 3, check=False)
    assert time.monotonic() - t0 < BOUND
    assert p.returncode != 0
    line = _one_line(CliResult(p.returncode, p.stdout, p.stderr))
    assert line.startswith(f"teecert: probe {lib}: f64.div.rne did not return within 2 s")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
