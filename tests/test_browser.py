"""A real browser: the rendered report and compare page, opened in headless Chromium.

The pages are self-contained (inline CSS, a CSP forbidding any load), so the
rendered DOM must show the verdict, the failing test, the op and the differing bit
patterns with the browser's networking switched off.  Chromium comes from Debian's
`chromium` package, which `.ci/run` installs; the test skips where it is absent.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import teecert_cli

REPORTS = Path(__file__).resolve().parent.parent / "reports"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


def _finished(report: Path) -> str:
    stmt = json.loads(base64.b64decode(json.loads(report.read_text())["payload"]))
    return str(stmt["predicate"]["run"]["finished"])


def _chromium(tmp: Path, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp / 'profile'}", "--window-size=1280,1600", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


def test_rendered_report_shows_verdict_and_failures_in_a_browser(tmp_path: Path) -> None:
    report = REPORTS / "example-not-certified.json"
    page = tmp_path / "report.html"
    res = teecert_cli(["render", str(report), "--trust", str(REPORTS / "example-signer.pub"),
                       "--at", _finished(report), "--html", str(page)])
    assert res.code == 1, res.err  # NOT_CERTIFIED
    dom = _chromium(tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "NOT_CERTIFIED" in html and "authoritative" in html
    stmt = json.loads(base64.b64decode(json.loads(report.read_text())["payload"]))
    failed = [r for r in stmt["predicate"]["results"] if r["outcome"] == "failed"]
    assert failed and all(r["op"] == "f64.div.rne" for r in failed)
    for r in failed:
        assert r["id"] in html
        d = r["divergence"]
        assert d["expected"] in html and d["got"] in html
    shot = tmp_path / "report.png"
    assert _chromium(tmp_path, page, f"--screenshot={shot}").returncode == 0
    assert shot.stat().st_size > 10_000  # a real rendering, not an empty page


def test_compare_page_shows_the_diverging_results_in_a_browser(tmp_path: Path) -> None:
    a, b = REPORTS / "example-certified.json", REPORTS / "example-not-certified.json"
    page = tmp_path / "compare.html"
    res = teecert_cli(["compare", str(a), str(b), "--trust", str(REPORTS / "example-signer.pub"),
                       "--at", _finished(b), "--html", str(page)])
    assert res.code == 1, res.out + res.err  # the two platforms diverge
    dom = _chromium(tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "test_stream[f64.div.rne]" in dom.stdout and "example-not-certified.json" in dom.stdout
