"""The plugin on its own: ``pytest --teecert-probe LIB`` without naming the suites
finds the suites teecert ships, takes its defaults from ini keys, hides the options
only ``teecert run`` passes, exits with the verdict's status (0 CERTIFIED although
advisory tests diverged, 1 NOT_CERTIFIED), and a run narrowed down by hand gives no
verdict at all rather than one without reasons.

Runs start from an empty folder (no ini file, no conftest.py of teecert's own
tests) with the one-ULP zoo probe under a small development-tier profile.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from teecert.certify.preflight import suites_path

from conftest import no_traceback, teecert_cli
from probezoo import build_zoo_probe

#: the suites the one-ULP probe diverges in (f64.div.rne)
BROKEN = ("fpenv", "ieee754")


def _profile(quick_profile: Path, folder: Path, name: str, advisory: tuple[str, ...]) -> Path:
    """The quick profile without the stress suite, ``advisory`` suites advisory."""
    doc = json.loads(quick_profile.read_text())
    doc["id"] = name
    doc.pop("stress")
    doc["suites"].pop("stress")
    for suite in advisory:
        doc["suites"][suite] = "advisory"
    path = folder / f"{name}.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture(scope="module")
def advisory_profile(quick_profile: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _profile(quick_profile, tmp_path_factory.mktemp("profiles"), "test-advisory", BROKEN)


def pytest_run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``pytest ARGS`` as a vendor types it in ``cwd``, outside any pytest session's
    variables (an xdist worker running this test has some)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=600, check=False)
    assert no_traceback(p.stdout + p.stderr), p.stdout[-3000:] + p.stderr[-3000:]
    return p


def _predicate(out: Path) -> tuple[Path, dict[str, Any]]:
    [report] = out.glob("teecert-report-*.json")
    return report, json.loads(base64.b64decode(json.loads(report.read_bytes())["payload"]))["predicate"]


def _verify(report: Path, key: Path, profile: Path) -> None:
    res = teecert_cli(["verify", str(report), "--trust", f"{key}.pub", "--profile", str(profile)])
    assert res.code == 0, res.out + res.err


def test_help_hides_the_options_only_teecert_run_passes(tmp_path: Path) -> None:
    p = pytest_run("--help", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "--teecert-probe=PATH" in p.stdout and "--teecert-report-dir" in p.stdout
    for hidden in ("--teecert-run-id", "--teecert-nonce", "--teecert-command", "--teecert-progress", "SUPPRESS"):
        assert hidden not in p.stdout
    for ini in ("teecert_probe", "teecert_profile", "teecert_report_dir", "teecert_key"):
        assert f"{ini} (string)" in p.stdout


def test_without_paths_it_runs_the_suites_and_exits_0_on_certified(tmp_path: Path, key_file: Path,
                                                                   advisory_profile: Path) -> None:
    out = tmp_path / "out"
    p = pytest_run(f"--teecert-probe={build_zoo_probe('one_ulp')}", f"--teecert-profile={advisory_profile}",
                   f"--teecert-report-dir={out}", f"--teecert-key={key_file}", cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    report, pred = _predicate(out)
    assert pred["verdict"]["result"] == "CERTIFIED"
    diverged = [r for r in pred["results"] if r["suite"] in BROKEN and r["outcome"] == "failed"]
    assert len(diverged) == 4  # recorded as they are: failed, in suites that are advisory
    assert "teecert verdict: CERTIFIED (" in p.stdout and "advisory divergences" in p.stdout
    assert "xfailed" in p.stdout and "FAILED" not in p.stdout
    assert f"signed report: {report}" in p.stdout
    _verify(report, key_file, advisory_profile)


def test_ini_keys_give_the_options_defaults(tmp_path: Path, key_file: Path, advisory_profile: Path) -> None:
    """A project's certification ini in a folder of its own (docs/guide-vendor.md):
    relative paths are the ini file's, the project's own conftest.py takes no part;
    over two xdist workers."""
    project = tmp_path / "project"
    (project / "certify").mkdir(parents=True)
    (project / "conftest.py").write_text("import pytest\n\n@pytest.fixture\ndef judge_op():\n    return None\n")
    (project / "certify" / "adv.json").write_bytes(advisory_profile.read_bytes())
    (project / "certify" / "pytest.ini").write_text(
        "[pytest]\n"
        f"teecert_probe = {build_zoo_probe('one_ulp')}\n"
        "teecert_profile = adv.json\n"
        "teecert_report_dir = reports\n"
        f"teecert_key = {key_file}\n")
    p = pytest_run("-c", "certify/pytest.ini", "-n", "2", "-q", cwd=project)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    report, pred = _predicate(project / "certify" / "reports")
    assert pred["profile"]["id"] == "test-advisory" and pred["verdict"]["result"] == "CERTIFIED"
    assert pred["run"]["workers"] == 2
    assert len([r for r in pred["results"] if r["suite"] in BROKEN and r["outcome"] == "failed"]) == 4
    _verify(report, key_file, advisory_profile)


def test_not_certified_is_exit_1_even_when_no_test_failed(tmp_path: Path, key_file: Path,
                                                          advisory_profile: Path) -> None:
    """One suite's module given: its tests pass, the others are skipped rows of a
    complete report, NOT_CERTIFIED."""
    out = tmp_path / "out"
    p = pytest_run(str(suites_path() / "test_probe.py"), f"--teecert-probe={build_zoo_probe('one_ulp')}",
                   f"--teecert-profile={advisory_profile}", f"--teecert-report-dir={out}",
                   f"--teecert-key={key_file}", cwd=tmp_path)
    assert p.returncode == 1, p.stdout[-3000:] + p.stderr[-3000:]
    assert " failed" not in p.stdout.splitlines()[-1]  # pytest itself saw none
    assert _predicate(out)[1]["verdict"]["result"] == "NOT_CERTIFIED"
    assert "teecert verdict: NOT_CERTIFIED: " in p.stdout


def test_x_without_a_report_is_a_partial_run_without_a_verdict(tmp_path: Path, quick_profile: Path) -> None:
    required = _profile(quick_profile, tmp_path, "test-required", ())
    p = pytest_run("-x", f"--teecert-probe={build_zoo_probe('one_ulp')}", f"--teecert-profile={required}",
                   cwd=tmp_path)
    assert p.returncode == 1, p.stdout[-3000:] + p.stderr[-3000:]
    assert "teecert: partial run, no verdict" in p.stdout and "teecert verdict" not in p.stdout
    assert "a verdict needs every test the profile asks for" in p.stdout
    assert not list(tmp_path.rglob("teecert-report-*"))


def test_a_whole_run_without_a_report_gives_its_verdict(tmp_path: Path, advisory_profile: Path) -> None:
    p = pytest_run(f"--teecert-probe={build_zoo_probe('one_ulp')}", f"--teecert-profile={advisory_profile}",
                   cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "teecert verdict, no report written: CERTIFIED (" in p.stdout
    assert "no report written: pass --teecert-report-dir DIR" in p.stdout
    assert not list(tmp_path.rglob("teecert-report-*"))
