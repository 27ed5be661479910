"""``teecert run``'s results bundle: the report, the key that signed it, its
renderings, the JUnit file, the run's output and its summary, in one folder of
``--out`` that ``latest`` points at (docs/cli.md#teecert-run)."""

from __future__ import annotations

import json
import os
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from teecert.certify import bundle
from teecert.certify.run import _statement_of

from conftest import no_traceback, teecert_cli

SEVEN = {"signer.pub", "report.html", "report.md", "junit.xml", "run.log", "summary.json"}


def _run(out: Path, key: Path, profile: Path, *extra: str) -> tuple[str, Path]:
    res = teecert_cli(["run", "--profile", str(profile), "--key", str(key), "--out", str(out), *extra],
                      timeout=300)
    assert no_traceback(res.err), res.err
    assert res.code == 0, res.out + res.err[-2000:]
    [line] = [x for x in res.out.splitlines() if x.startswith("bundle: ")]
    return res.out, Path(line.removeprefix("bundle: "))


def _bundles(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink())


def test_a_run_writes_a_bundle_that_verifies_and_latest_follows_the_newest(
        tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    out = tmp_path / "out"
    text, folder = _run(out, key_file, quick_profile, "--tar")
    [report] = out.glob("teecert-report-*.json")  # still directly in --out, as before
    stmt = _statement_of(report)
    pred = stmt["predicate"]
    assert folder.parent == out and folder.name == bundle.name_of(stmt)
    fp = pred["environment"]["fingerprint"]
    slug = bundle.platform_slug(fp)
    assert folder.name.startswith(f"{slug}-") and set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert folder.name.endswith("-" + pred["run"]["id"][:8])
    assert {p.name for p in folder.iterdir()} == SEVEN | {report.name}
    assert (folder / report.name).read_bytes() == report.read_bytes()
    assert f"report: {report}" in text.splitlines() and f"bundle: {folder}" in text.splitlines()
    assert _bundles(out) == [folder] and not [p for p in out.iterdir() if p.name.startswith(".")]

    # the report in the bundle verifies with the bundle's own signer.pub
    res = teecert_cli(["verify", str(folder / report.name), "--trust", str(folder / "signer.pub"),
                       "--profile", str(quick_profile)])
    assert res.code == 0, res.out + res.err
    assert (folder / "signer.pub").read_bytes() == Path(f"{key_file}.pub").read_bytes()
    assert "<html" in (folder / "report.html").read_text().lower()
    assert pred["run"]["id"] in (folder / "report.md").read_text()

    # JUnit: every test, none a failure (advisory results are xfail)
    cases = list(ET.parse(folder / "junit.xml").getroot().iter("testcase"))
    assert len(cases) >= pred["summary"]["total"] - 100
    assert not [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    assert (folder / "run.log").stat().st_size > 0

    summary = json.loads((folder / "summary.json").read_text())
    assert summary["verdict"] == pred["verdict"]["result"] == "CERTIFIED"
    assert summary["reasons"] == pred["verdict"]["reasons"] and summary["summary"] == pred["summary"]
    assert summary["report"] == str(report) and summary["bundle"] == str(folder)
    assert summary["run"]["id"] == pred["run"]["id"] and summary["exit_code"] == 0

    latest = out / "latest"
    assert latest.is_symlink() and os.readlink(latest) == folder.name and latest.resolve() == folder.resolve()

    with tarfile.open(out / f"{folder.name}.tar.gz") as tf:
        names = tf.getnames()
        assert names == sorted(names)
        assert {n for n in names if "/" in n} == {f"{folder.name}/{n}" for n in SEVEN | {report.name}}
        member = tf.extractfile(f"{folder.name}/summary.json")
        assert member is not None and json.loads(member.read()) == summary

    # a second run: its own bundle, and latest moves to it; --json is summary.json
    res = teecert_cli(["run", "--profile", str(quick_profile), "--key", str(key_file), "--out", str(out),
                       "--json"], timeout=300)
    assert res.code == 0, res.err[-2000:]
    doc = json.loads(res.out)
    second = Path(doc["bundle"])
    assert second != folder and _bundles(out) == sorted([folder, second])
    assert os.readlink(latest) == second.name
    assert json.loads((second / "summary.json").read_text()) == doc
    assert not (out / f"{second.name}.tar.gz").exists()  # only with --tar


def test_a_users_junit_file_is_the_bundles_too(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    junit = tmp_path / "ci" / "junit.xml"
    _text, folder = _run(tmp_path / "out", key_file, quick_profile, "--", f"--junitxml={junit}")
    assert (folder / "junit.xml").read_bytes() == junit.read_bytes()


def test_a_run_that_fails_early_leaves_no_bundle(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # pytest refuses its arguments: no report, so no bundle, and no staging folder left
    res = teecert_cli(["run", "--profile", str(quick_profile), "--key", str(key_file), "--out", str(out),
                       "--", "--junit-prefix"], timeout=300)
    assert res.code != 0 and no_traceback(res.err), res.err
    assert list(out.iterdir()) == []


def test_a_pending_run_has_no_bundle(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    out = tmp_path / "out"
    res = teecert_cli(["run", "--profile", str(quick_profile), "--key", str(key_file), "--out", str(out),
                       "--print-report-data"], timeout=300)
    assert res.code == 0, res.err[-2000:]
    assert [p.name.startswith("teecert-pending-") for p in out.iterdir()] == [True]


@pytest.mark.parametrize(("fp", "slug"), [
    ({"arch": "x86_64", "cpu_model": "AMD EPYC 7763 64-Core Processor"}, "x86-64-amd-epyc-7763"),
    ({"arch": "x86_64", "cpu_model": "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz"},
     "x86-64-intel-xeon-platinum-8370c"),
    ({"arch": "aarch64", "cpu_model": "Neoverse-N1"}, "aarch64-neoverse-n1"),
    ({}, "unknown"),
])
def test_platform_slug(fp: dict[str, str], slug: str) -> None:
    assert bundle.platform_slug(fp) == slug
