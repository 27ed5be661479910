"""The example reports in reports/ (made by `python reports/regenerate.py`) verify
with the shipped public key, at their own run time: one CERTIFIED, one NOT_CERTIFIED
with real failures from a broken probe."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import teecert_cli
from probezoo import build_zoo_probe

REPORTS = Path(__file__).resolve().parents[2] / "reports"


def _finished(report: Path) -> str:
    return str(json.loads(base64.b64decode(json.loads(report.read_text())["payload"]))["predicate"]["run"]["finished"])


REGENERATE = "stale examples: run `python reports/regenerate.py` (and commit reports/)"


def test_examples_verify_with_the_shipped_key() -> None:
    pub = str(REPORTS / "example-signer.pub")
    for name, code in (("example-certified.json", 0), ("example-not-certified.json", 1)):
        report = REPORTS / name
        at = _finished(report)
        res = teecert_cli(["verify", str(report), "--trust", pub, "--profile",
                           str(REPORTS / "example-profile.json"), "--at", at])
        assert res.code == code, f"{REGENERATE}\n{res.out}{res.err}"
        first = res.out.splitlines()[0]
        assert first.endswith(": CERTIFIED") if code == 0 else "NOT_CERTIFIED" in first and "f64.div.rne" in first
        # reports expire (development profile: 30 days): past that, verify refuses them (2)
        expired = teecert_cli(["verify", str(report), "--trust", pub, "--at", "2999-01-01T00:00:00Z"])
        assert expired.code == 2 and "expired" in expired.err, expired.out + expired.err
        # the README tells readers the exact --at of each example
        assert at in (REPORTS / "README.md").read_text(), REGENERATE
    for name in ("example-certified.html", "example-not-certified.html", "example-certified.md",
                 "example-not-certified.md", "example-compare.html"):
        text = (REPORTS / name).read_text()
        assert len(text) > 1000
        # paths in the views are relative to the repository, not to the machine that made them
        assert "/tmp/" not in text and str(REPORTS.parent) not in text, name
    assert "NOT_CERTIFIED" in (REPORTS / "example-not-certified.html").read_text()
    assert "DIVERGE" in (REPORTS / "example-compare.html").read_text()


def test_junit_xml_for_ci_systems(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    junit = tmp_path / "junit.xml"
    res = teecert_cli(["run", "--probe", str(build_zoo_probe("one_ulp")), "--profile", str(quick_profile),
                       "--key", str(key_file), "--out", str(tmp_path / "out"), "--", f"--junitxml={junit}"])
    assert res.code == 1, res.out[-2000:]
    root = ET.parse(junit).getroot()
    cases = list(root.iter("testcase"))
    failed = {c.attrib["name"] for c in cases if c.find("failure") is not None}
    # f64.div.rne is in the stress plan: every perturbation sees the wrong quotient too
    assert len(cases) > 100 and failed == {"test_explicit[f64.div.rne]", "test_stream[f64.div.rne]",
                                          "test_poisoned_caller[f64.div.rne-round-toward-zero]",
                                          "test_poisoned_caller[f64.div.rne-round-up+ftz-daz]",
                                          *(f"test_perturbation[{p}]"
                                            for p in json.loads(quick_profile.read_text())["stress"]["perturbations"])}
