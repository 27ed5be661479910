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

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def _finished(report: Path) -> str:
    return str(json.loads(base64.b64decode(json.loads(report.read_text())["payload"]))["predicate"]["run"]["finished"])


def test_examples_verify_with_the_shipped_key() -> None:
    pub = str(REPORTS / "example-signer.pub")
    for name, code in (("example-certified.json", 0), ("example-not-certified.json", 1)):
        report = REPORTS / name
        res = teecert_cli(["verify", str(report), "--trust", pub, "--at", _finished(report)])
        assert res.code == code, res.out + res.err
    for name in ("example-certified.html", "example-not-certified.html", "example-certified.md",
                 "example-not-certified.md", "example-compare.html"):
        assert (REPORTS / name).stat().st_size > 1000


def test_junit_xml_for_ci_systems(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    junit = tmp_path / "junit.xml"
    res = teecert_cli(["run", "--probe", str(build_zoo_probe("one_ulp")), "--profile", str(quick_profile),
                       "--key", str(key_file), "--out", str(tmp_path / "out"), "--", f"--junitxml={junit}"])
    assert res.code == 1, res.out[-2000:]
    root = ET.parse(junit).getroot()
    cases = list(root.iter("testcase"))
    failed = {c.attrib["name"] for c in cases if c.find("failure") is not None}
    assert len(cases) > 100 and failed == {"test_explicit[f64.div.rne]", "test_stream[f64.div.rne]",
                                          "test_poisoned_caller[f64.div.rne-round-toward-zero]",
                                          "test_poisoned_caller[f64.div.rne-round-up+ftz-daz]"}
