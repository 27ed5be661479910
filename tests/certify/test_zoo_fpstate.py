"""Probes that only an observing harness catches end NOT_CERTIFIED for their fault:
one whose fpenv_poison applies nothing (and whose arithmetic leaks the caller's
FTZ/DAZ), one that changes its host's FP state asynchronously after load, four whose
self-description lies about something teecert observes, and one that accepts wrong
buffer sizes.  Each is a whole run under a profile of the two suites that judge
them (probe, fpenv), some in process and some through the probe host, so that both
of teecert's own FP-state paths and conformance paths are exercised.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import no_traceback, teecert_cli
from probezoo import IS_X86_64, ZOO, build_zoo_probe

#: zoo probe -> (in process?, [(failing test id, words of its message)])
EXPECT: dict[str, tuple[bool, list[tuple[str, str]]]] = {
    "poison_noop": (True, [
        ("test_fpenv.py::test_probe_poison_claims[round-up+ftz-daz]", "claims rounding toward +inf"),
        ("test_fpenv.py::test_poisoned_caller[f64.mul.rne-round-up+ftz-daz]", "poisoned (round-up+ftz-daz, set by teecert"),
    ]),
    "fp_async": (False, [
        # "between calls" nearly always; "during" if the signal lands just after the
        # probe restored its caller's state, which a loaded machine can make happen
        ("test_probe.py::test_fp_state_watched", "the FP control state changed "),
    ]),
    "lying_arch": (False, [
        ("test_probe.py::test_self_description_matches", "arch is 'aarch64', teecert observes 'x86_64'"),
    ]),
    "lying_fpenv_entry": (True, [
        ("test_probe.py::test_self_description_matches", "fpenv_at_entry is 0000000000000000"),
    ]),
    "lying_compiler": (False, [
        ("test_probe.py::test_self_description_matches", "compiler is 'Debian clang version 99.1.0'"),
    ]),
    "lying_abi": (False, [
        ("test_probe.py::test_self_description_matches", "abi is 2, teecert observes 1"),
    ]),
    "lenient_args": (True, [
        ("test_probe.py::test_abi_conformance", "input size one vector short: TEECERT_OK"),
    ]),
}


@pytest.fixture(scope="module")
def fp_profile(quick_profile: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick profile with only the probe and fpenv suites required."""
    doc = json.loads(quick_profile.read_text())
    doc["id"] = "test-fpstate"
    doc["suites"] = {"probe": "required", "fpenv": "required"}
    doc.pop("stress", None)
    path = tmp_path_factory.mktemp("fp-profile") / "fpstate.json"
    path.write_text(json.dumps(doc))
    return path


def _run(tmp_path: Path, key: Path, profile: Path, probe: Path, in_process: bool) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "out"
    args = ["run", "--probe", str(probe), "--out", str(out), "--key", str(key), "--profile", str(profile),
            "-n", "1"]
    if in_process:
        args.append("--in-process")
    res = teecert_cli(args, timeout=600)
    assert no_traceback(res.err + res.out), res.err[-3000:]
    [report] = out.glob("teecert-report-*.json")
    stmt = json.loads(base64.b64decode(json.loads(report.read_bytes())["payload"]))
    return res.code, stmt["predicate"]


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_escape_is_not_certified_for_its_fault(name: str, tmp_path: Path, key_file: Path,
                                               fp_profile: Path) -> None:
    if ZOO[name].x86_only and not IS_X86_64:
        pytest.skip("an x86-64 probe")
    in_process, expect = EXPECT[name]
    code, pred = _run(tmp_path, key_file, fp_profile, build_zoo_probe(name), in_process)
    assert code == 1 and pred["verdict"]["result"] == "NOT_CERTIFIED", pred["verdict"]
    assert pred["run"]["transport"] == ("in-process" if in_process else "child-process")
    failed = {r["id"]: r.get("message", "") for r in pred["results"] if r["outcome"] in ("failed", "error")}
    reasons = {r.get("test") for r in pred["verdict"]["reasons"]}
    for test_id, words in expect:
        assert test_id in failed, f"{name}: {test_id} did not fail; failing: {sorted(failed)}"
        assert words in failed[test_id], failed[test_id]
        assert test_id in reasons, reasons
    # the fault is the probe's own: nothing about the probe's identity or the FP state at load
    assert "test_probe.py::test_loading_keeps_fp_environment" not in failed
