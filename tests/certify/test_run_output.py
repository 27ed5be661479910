"""What ``teecert run`` prints: a short summary by default (a table per suite, the
verdict with its reasons grouped, the profile's meaning, the signer, the report and
the next commands), pytest's own output with ``-v``, two lines with ``--quiet``, one
JSON object with ``--json``; and advisory divergences are never called failures, on
the terminal or in a JUnit file.

The runs certify the one-ULP zoo probe under a small development-tier profile that
makes the suites it breaks (ieee754, fpenv) advisory: CERTIFIED, with advisory
divergences whatever this machine's libm does.
"""

from __future__ import annotations

import base64
import json
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from teecert.certify import summary
from teecert.profile import load_profile
from teecert.report import verdict

from conftest import CliResult, no_traceback, teecert_cli
from probezoo import build_zoo_probe

#: the suites the one-ULP probe diverges in (f64.div.rne)
BROKEN = ("fpenv", "ieee754")


def _profile(quick_profile: Path, folder: Path, name: str, advisory: tuple[str, ...]) -> Path:
    """The quick profile without the stress suite (seconds less a run), ``advisory`` suites advisory."""
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


@pytest.fixture(scope="module")
def required_profile(quick_profile: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _profile(quick_profile, tmp_path_factory.mktemp("profiles"), "test-required", ())


def _run(folder: Path, key: Path, profile: Path, *extra: str) -> tuple[CliResult, Path, dict[str, Any]]:
    out = folder / "out"
    res = teecert_cli(["run", "--probe", str(build_zoo_probe("one_ulp")), "--profile", str(profile),
                       "--key", str(key), "--out", str(out), *extra])
    assert no_traceback(res.out + res.err), res.err[-3000:]
    [report] = out.glob("teecert-report-*.json")
    pred = json.loads(base64.b64decode(json.loads(report.read_bytes())["payload"]))["predicate"]
    return res, report, pred


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory, key_file: Path,
                advisory_profile: Path) -> tuple[CliResult, Path, dict[str, Any]]:
    return _run(tmp_path_factory.mktemp("default"), key_file, advisory_profile)


def test_the_default_output_is_a_short_summary(default_run: tuple[CliResult, Path, dict[str, Any]],
                                               key_file: Path) -> None:
    res, report, pred = default_run
    assert res.code == 0, res.out + res.err[-2000:]
    lines = res.out.splitlines()
    assert len(lines) <= 25, res.out
    assert pred["verdict"]["result"] == "CERTIFIED"
    # the table: a header, one row per suite with its level, and the advisory divergences apart
    header = lines[0].split()
    assert header == ["suite", "level", "tests", "passed", "failed", "skipped", "advisory", "vectors", "time"]
    rows = {line.split()[0]: line.split() for line in lines[1:] if line.split() and line.split()[0] in
            {r["suite"] for r in pred["results"]}}
    for suite in BROKEN:
        failing = sum(r["outcome"] in ("failed", "error") for r in pred["results"] if r["suite"] == suite)
        assert failing == 2
        assert rows[suite][1] == "advisory" and rows[suite][4] == "-" and rows[suite][6] == str(failing)
    assert rows["integers"][1] == "required" and rows["integers"][6] == "-"
    # advisory divergences are never called failures
    assert "FAILED" not in res.out and "fail" not in res.out.lower().replace("failed ", "")
    [verdict_line] = [x for x in lines if x.startswith("teecert run: ")]
    assert verdict_line.startswith("teecert run: CERTIFIED (") and "advisory divergences in" in verdict_line
    assert any(x.startswith("profile: test-advisory v") and "not for admission" in x for x in lines)
    [signer] = [x for x in lines if x.startswith("signed by: ")]
    assert pred["signer"]["keyid"] in signer and f"{key_file}.pub" in signer
    assert f"report: {report}" in lines
    # the next command is one to type, and it accepts the report
    [nxt] = [x for x in lines if x.startswith("next: ")]
    words = shlex.split(nxt.removeprefix("next: "))
    assert words[:3] == ["teecert", "verify", str(report)] and "--trust" in words and "--profile" in words
    assert teecert_cli(words[1:]).code == 0
    assert any(x.strip().startswith("teecert render ") for x in lines)


def test_quiet_prints_the_verdict_and_the_report_and_junit_has_no_failure_for_advisory(
        tmp_path: Path, key_file: Path, advisory_profile: Path) -> None:
    junit = tmp_path / "junit.xml"
    res, report, pred = _run(tmp_path, key_file, advisory_profile, "--quiet", "--", f"--junitxml={junit}")
    assert res.code == 0, res.out + res.err[-2000:]
    assert res.out.splitlines() == [res.out.splitlines()[0], f"report: {report}"]
    assert res.out.startswith("teecert run: CERTIFIED")
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert len(cases) > 100 and not [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    advisory = {c.attrib["name"]: c.find("skipped") for c in cases
                if c.find("skipped") is not None and c.find("skipped").attrib.get("type") == "pytest.xfail"}
    diverged = {r["id"].split("::", 1)[1] for r in pred["results"]
                if r["suite"] in BROKEN and r["outcome"] == "failed"}
    assert diverged and diverged <= set(advisory)
    for name in diverged:
        assert advisory[name].attrib["message"].startswith("advisory divergence (suite ")
    # structured properties are JSON, never a Python repr
    values = [p.attrib["value"] for p in ET.parse(junit).getroot().iter("property") if p.attrib["name"] == "teecert"]
    assert values and all(isinstance(json.loads(v), dict) for v in values)


def test_json_is_one_object_that_matches_the_report(tmp_path: Path, key_file: Path,
                                                    advisory_profile: Path) -> None:
    res, report, pred = _run(tmp_path, key_file, advisory_profile, "--json")
    assert res.code == 0, res.out + res.err[-2000:]
    doc = json.loads(res.out)  # the whole of standard output
    assert doc["verdict"] == pred["verdict"]["result"] == "CERTIFIED"
    assert doc["reasons"] == pred["verdict"]["reasons"]
    assert doc["report"] == str(report) and doc["exit_code"] == 0
    assert doc["signer"]["keyid"] == pred["signer"]["keyid"]
    assert doc["signer"]["public_key_file"] == f"{key_file}.pub"
    assert doc["summary"] == pred["summary"]
    assert doc["suites"] == verdict.summarize_suites(pred["results"], load_profile(advisory_profile))
    assert sum(s["tests"] for s in doc["suites"].values()) == pred["summary"]["total"]
    assert sum(s["failed"] for s in doc["suites"].values()) == pred["summary"]["failed"] + pred["summary"]["error"]
    assert sum(s["advisory"] for s in doc["suites"].values()) == pred["summary"]["advisory"]
    assert doc["advisory_divergences"] == sum(s["advisory"] for s in doc["suites"].values()) >= 4
    assert doc["profile"]["id"] == "test-advisory" and doc["profile"]["tier"] == "development"


def test_verbose_shows_pytest_and_a_not_certified_run_groups_its_reasons(
        tmp_path: Path, key_file: Path, required_profile: Path) -> None:
    res, report, pred = _run(tmp_path, key_file, required_profile, "-v")
    assert res.code == 1, res.out + res.err[-2000:]
    assert "short test summary info" in res.out and "FAILED" in res.out  # pytest's own
    reasons = pred["verdict"]["reasons"]
    groups = {(r["code"], r["suite"]) for r in reasons}
    assert len(reasons) > len(groups)  # two failures per broken suite
    summary_part = res.out[res.out.index("\nsuite "):]
    lines = summary_part.splitlines()
    [verdict_line] = [x for x in lines if x.startswith("teecert run: ")]
    assert verdict_line.startswith(f"teecert run: NOT_CERTIFIED: {len(reasons)} reasons")
    grouped = [x for x in lines if x.startswith("  TEST_FAILED ")]
    assert len(grouped) == len(groups)
    for code, suite in groups:
        n = sum((r["code"], r["suite"]) == (code, suite) for r in reasons)
        assert any(x.startswith(f"  {code} {suite}, {n} tests, first ") for x in grouped), grouped
    assert f"report: {report}" in lines


def test_quiet_goes_with_neither_verbose_nor_json(tmp_path: Path) -> None:
    for extra in (["-q", "-v"], ["--quiet", "--json"]):
        res = teecert_cli(["run", "--out", str(tmp_path / "out"), *extra])
        assert res.code == 2 and no_traceback(res.err), res.err
        assert not (tmp_path / "out").exists()


# -- the summary's parts ------------------------------------------------------------


def _row(rid: str, suite: str, outcome: str, vectors: int = 0) -> dict[str, Any]:
    return {"id": rid, "suite": suite, "outcome": outcome, "vectors": vectors, "duration_ms": 100}


def test_suites_count_advisory_divergences_apart() -> None:
    prof = load_profile("development")  # libm advisory, ieee754 required
    rows = [_row("a", "libm", "failed", 5), _row("b", "libm", "error"), _row("c", "libm", "passed", 7),
            _row("d", "ieee754", "failed", 1), _row("e", "ieee754", "skipped"), _row("f", "other", "failed")]
    suites = verdict.summarize_suites(rows, prof)
    assert list(suites) == ["ieee754", "libm", "other"]
    assert suites["libm"] == {"level": "advisory", "tests": 3, "passed": 1, "failed": 0, "skipped": 0,
                              "unsupported": 0, "advisory": 2, "vectors": 12, "duration_ms": 300}
    assert suites["ieee754"]["failed"] == 1 and suites["ieee754"]["skipped"] == 1
    assert suites["other"]["level"] == "none" and suites["other"]["failed"] == 1
    total = verdict.summarize(rows)
    assert sum(s["failed"] + s["advisory"] for s in suites.values()) == total["failed"] + total["error"]
    table = summary.suite_table(suites)
    assert table[0].split()[:2] == ["suite", "level"] and table[-1].split()[0] == "total"
    libm = table[2].split()
    assert libm[:2] == ["libm", "advisory"] and libm[4] == "-" and libm[6] == "2"


def test_reasons_of_one_code_and_suite_are_one_line_with_their_count() -> None:
    reasons = [{"code": "TEST_FAILED", "suite": "ieee754", "test": f"t{i}", "message": "m" * 400} for i in range(3)]
    reasons += [{"code": "TEST_SKIPPED", "suite": "ieee754", "test": "s", "message": "no"},
                {"code": "SUITE_MISSING", "suite": "clocks"}]
    lines = summary.reason_lines(reasons)
    assert lines[0].startswith("  TEST_FAILED ieee754, 3 tests, first t0: mmm") and len(lines[0]) <= 2 + 160
    assert lines[1] == "  TEST_SKIPPED ieee754: s: no"
    assert lines[2] == "  SUITE_MISSING clocks: no result in this suite"
    many = [{"code": "TEST_FAILED", "suite": f"s{i}", "test": "t"} for i in range(12)]
    assert summary.reason_lines(many)[-1].startswith("  ... and 4 more reasons in 4 more groups")


def test_progress_names_the_suite_its_tests_and_vectors() -> None:
    p = summary.RunProgress(started=0.0)
    assert p.line(now=0.5) == "starting the suites, 0.5 s"
    p.feed({"plan": {"ieee754": 112, "probe": 4}})
    p.feed({"id": "x", "suite": "ieee754", "outcome": "passed", "vectors": 1048576})
    p.feed({"id": "x", "suite": "ieee754", "outcome": "failed", "vectors": 1048576})  # a later phase
    assert p.line(now=3.0) == "suite ieee754 1/112, all 1/116 tests, 1,048,576 vectors, 3.0 s"
    p.feed({"report": "/r.json"})
    assert p.end == {"report": "/r.json"}
