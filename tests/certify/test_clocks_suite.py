"""The clocks suite end to end: the reference probe's clocks pass the development
thresholds; a probe whose clocks are coarse, or step back, is NOT_CERTIFIED naming
the clock and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from teecert.certify.run import _statement_of

from conftest import no_traceback, teecert_cli
from probezoo import build_zoo_probe


@pytest.mark.parametrize("zoo, words", [
    # 100,000 reads may all fall inside one 4 ms step: "did not advance" fails too
    ("coarse_clock", "monotonic max_resolution_ns: "),
    ("clock_backwards", "monotonic monotonic: "),
])
def test_bad_clocks_are_not_certified(tmp_path: Path, key_file: Path, quick_profile: Path,
                                      zoo: str, words: str) -> None:
    res = teecert_cli(["run", "--probe", str(build_zoo_probe(zoo)), "--profile", str(quick_profile),
                       "--key", str(key_file), "--out", str(tmp_path)], timeout=300)
    assert res.code == 1, res.out[-1500:] + res.err
    assert no_traceback(res.err)
    [report] = tmp_path.glob("teecert-report-*.json")
    pred = _statement_of(report)["predicate"]
    failed = {r["id"]: r["message"] for r in pred["results"] if r["outcome"] == "failed"}
    assert set(failed) == {"test_clocks.py::test_clocks"}, failed
    assert words in failed["test_clocks.py::test_clocks"]
    if zoo == "clock_backwards":
        assert "backward step(s)" in failed["test_clocks.py::test_clocks"]
