"""pytest run by hand with the teecert plugin: what it collects, what it refuses, and
why a run that leaves tests out never writes a CERTIFIED report.

``teecert run`` passes on only pytest's output options; running ``pytest
--teecert-probe ...`` directly, the plugin applies the same rule once a report is
to be written (``preflight.check_pytest_options``), refuses tests and conftest files
from outside the suites, and makes whatever still did not run a skipped row
(``vectors.testplan``).  Runs here are in process (the reference probe) under the
quick profile, and most stop at the plugin's checks before any test runs.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from teecert.certify.preflight import suites_path
from teecert.probe.build import reference_probe_path
from teecert.profile import load_profile
from teecert.vectors import testplan
from teecert.vectors.store import load_set

from conftest import no_traceback, teecert_cli

SUITES = suites_path()


def direct(*extra: str, profile: Path | str, key: Path | None = None, out: Path | None = None,
           paths: tuple[str | Path, ...] = (SUITES,), rootdir: Path = SUITES,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``pytest PATHS -c SUITES/pytest.ini --teecert-probe REFERENCE ...``, as a vendor
    would start it; a report is asked for when ``out`` is given."""
    args = [sys.executable, "-m", "pytest", *map(str, paths), "-c", str(SUITES / "pytest.ini"),
            "--rootdir", str(rootdir), "-q", "--teecert-probe", str(reference_probe_path()),
            "--teecert-profile", str(profile)]
    if out is not None:
        assert key is not None
        args += ["--teecert-report-dir", str(out), "--teecert-key", str(key)]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    p = subprocess.run([*args, *extra], capture_output=True, text=True, cwd=rootdir, timeout=600, check=False,
                       env={**full_env, **(env or {})})
    assert no_traceback(p.stdout + p.stderr), p.stdout[-3000:] + p.stderr[-3000:]
    return p


def statement(out: Path) -> tuple[Path, dict[str, Any]]:
    (path,) = out.glob("teecert-report-*.json")
    return path, json.loads(base64.b64decode(json.loads(path.read_bytes())["payload"]))


# -- what the suites collect is what completeness expects ----------------------------


@pytest.fixture(scope="module")
def no_stress_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    doc = copy.deepcopy(load_profile("development").data)
    doc["id"] = "test-no-stress"
    del doc["stress"]
    path = tmp_path_factory.mktemp("profiles") / "no-stress.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("profile", ["development", "strict", "bootstrap", "no-stress"])
def test_the_suites_collect_exactly_the_expected_tests(profile: str, no_stress_profile: Path) -> None:
    """``vectors.testplan`` states the suites' parametrization as data; if a suite
    changes what it collects, this fails until the plan says the same."""
    prof = no_stress_profile if profile == "no-stress" else profile
    p = direct("--collect-only", profile=prof)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    collected = {line for line in p.stdout.splitlines() if "::" in line}
    expected = testplan.expected_tests(load_profile(str(prof)).data, load_set())
    assert collected == set(expected), (sorted(collected - set(expected))[:5], sorted(set(expected) - collected)[:5])
    assert all(testplan.harness_row_suite(i) is None for i in expected)


# -- options that change what runs --------------------------------------------------


@pytest.mark.parametrize("extra, env, first", [
    (["-k", "probe"], None, "-k:"),
    (["-m", "slow"], None, "-m:"),
    (["--deselect", "test_probe.py::test_abi_version"], None, "--deselect:"),
    (["-o", "python_functions=xyz"], None, "-o python_functions=xyz:"),
    (["--ignore-glob=*ieee754*"], None, "--ignore-glob:"),
    (["--ignore", "test_fpenv.py"], None, "--ignore:"),
    (["-x"], None, "-x/--maxfail:"),
    (["--maxfail=5"], None, "-x/--maxfail:"),
    (["--runxfail"], None, "--runxfail:"),
    (["--collect-only"], None, "--collect-only:"),
    (["-p", "no:python"], None, "-p no:python:"),
    (["-p", "teecert.certify.judge.clocks"], None, "-p teecert.certify.judge.clocks:"),
    ([], {"PYTEST_ADDOPTS": "-k probe"}, "-k:"),
    ([], {"PYTEST_PLUGINS": "teecert.certify.judge.clocks"}, "PYTEST_PLUGINS=teecert.certify.judge.clocks:"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_options_that_change_what_runs_are_a_usage_error(tmp_path: Path, key_file: Path, quick_profile: Path,
                                                         extra: list[str], env: dict[str, str] | None,
                                                         first: str) -> None:
    out = tmp_path / "out"
    p = direct(*extra, profile=quick_profile, key=key_file, out=out, env=env)
    assert p.returncode == 4, p.stdout[-2000:] + p.stderr[-2000:]
    (line,) = [x for x in p.stderr.splitlines() if x.strip()]
    assert line.startswith(f"ERROR: {first}") and "certification run" in line, line
    assert not out.exists() or not any(out.iterdir())


def test_last_failed_is_not_even_an_option_of_the_suites(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    """The suites' pytest.ini turns the cache off: --lf is pytest's own usage error."""
    out = tmp_path / "out"
    p = direct("--lf", profile=quick_profile, key=key_file, out=out)
    assert p.returncode == 4 and "--lf" in p.stderr, p.stderr
    assert not out.exists() or not any(out.iterdir())


def test_options_are_free_when_no_report_is_written(quick_profile: Path) -> None:
    """A vendor narrowing down a divergence with -k writes no report: nothing to refuse."""
    p = direct("-k", "test_abi_version", profile=quick_profile)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert "1 passed" in p.stdout and "teecert verdict" not in p.stdout


# -- what runs must be the suites, all of them -------------------------------------------


def test_a_subset_of_the_suites_is_a_complete_not_certified_report(tmp_path: Path, key_file: Path,
                                                                   quick_profile: Path) -> None:
    """Given only test_probe.py, every other test gets a skipped row: the report is
    complete (it verifies) and NOT_CERTIFIED, never CERTIFIED."""
    out = tmp_path / "out"
    p = direct(profile=quick_profile, key=key_file, out=out, paths=(SUITES / "test_probe.py",))
    assert "teecert verdict: NOT_CERTIFIED" in p.stdout, p.stdout[-3000:] + p.stderr[-3000:]
    path, st = statement(out)
    pred = st["predicate"]
    assert pred["verdict"]["result"] == "NOT_CERTIFIED"
    rows = {r["id"]: r for r in pred["results"]}
    expected = testplan.expected_tests(load_profile(quick_profile).data, load_set())
    assert set(expected) <= set(rows)
    skipped = [r for r in rows.values() if r["message"].startswith("did not run")]
    ran = [t for t in expected if t.startswith("test_probe.py::")]
    assert len(ran) == 7 and len(skipped) == len(expected) - len(ran)
    assert {r["outcome"] for r in skipped} == {"skipped"}
    assert rows["session::complete"]["outcome"] == "failed"
    assert "did not run" in rows["session::complete"]["message"]
    assert {r["code"] for r in pred["verdict"]["reasons"]} == {"TEST_FAILED", "TEST_SKIPPED"}
    res = teecert_cli(["verify", str(path), "--trust", f"{key_file}.pub", "--profile", str(quick_profile)])
    assert res.code == 1, res.out + res.err
    assert res.out.startswith(f"{path}: NOT_CERTIFIED: ")


def test_a_complete_run_started_from_another_folder_is_certified(tmp_path: Path, key_file: Path,
                                                                 quick_profile: Path) -> None:
    """Result ids are relative to the suites folder, whichever folder pytest names
    its node ids from: a complete run is complete wherever it was started."""
    out = tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    p = direct(profile=quick_profile, key=key_file, out=out, rootdir=elsewhere)
    assert "teecert verdict: CERTIFIED" in p.stdout, p.stdout[-3000:] + p.stderr[-3000:]
    path, st = statement(out)
    ids = {r["id"] for r in st["predicate"]["results"]}
    assert "test_probe.py::test_abi_version" in ids
    res = teecert_cli(["verify", str(path), "--trust", f"{key_file}.pub", "--profile", str(quick_profile)])
    assert res.code == 0, res.out + res.err


def test_tests_from_outside_the_suites_are_refused(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    """A module of one's own under a suite's name, with the same test names, is not the suite."""
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "test_probe.py").write_text("def test_abi_version():\n    pass\n")
    out = tmp_path / "out"
    p = direct(profile=quick_profile, key=key_file, out=out, paths=(SUITES, fake / "test_probe.py"))
    assert p.returncode == 4, p.stdout[-2000:] + p.stderr[-2000:]
    (line,) = [x for x in p.stderr.splitlines() if x.strip()]
    assert line.startswith(f"ERROR: {fake / 'test_probe.py'}::test_abi_version: a test from outside teecert's suites")
    assert not out.exists() or not any(out.iterdir())


def test_a_conftest_outside_the_suites_is_refused(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    """A conftest.py could override the suites' fixtures (``judge_op``) and pass everything."""
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "conftest.py").write_text("import pytest\n\n@pytest.fixture\ndef judge_op():\n    return lambda *a: None\n")
    out = tmp_path / "out"
    p = direct(profile=quick_profile, key=key_file, out=out, paths=(SUITES, fake), rootdir=fake)
    assert p.returncode == 4, p.stdout[-2000:] + p.stderr[-2000:]
    (line,) = [x for x in p.stderr.splitlines() if x.strip()]
    assert line.startswith(f"ERROR: {fake / 'conftest.py'}: a conftest.py outside teecert's suites"), line
    assert not out.exists() or not any(out.iterdir())
