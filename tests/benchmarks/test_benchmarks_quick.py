"""Every benchmark still runs: ``python benchmarks/bench_X.py --quick`` as a user types it.

Nothing else runs the scripts in benchmarks/, so without this they rot (a benchmark that
no longer links or imports is only found the day someone wants a figure).  Each one is
found by glob, so a new benchmark is covered without touching this file, and run in a
child process from an empty folder with ``--quick``: the same code at tiny sizes, a
few seconds.  It must exit 0 (a benchmark exits non-zero when what it checks is
wrong, e.g. two sides computing different leaves), print no traceback and print at
least one figure.  Exit status 77 means the benchmark needs something absent here
(e.g. the real-world attestation samples) and says what on its last line: a skip.
Timings are not asserted: figures from tiny sizes on a shared machine mean nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("bench_*.py"))

#: exit status of a benchmark whose prerequisites are absent (the test drivers' "skipped")
SKIPPED = 77

#: a figure: a number with a fractional part ("46.1 M vectors/s", "4.61 ms", "1.15x")
FIGURE = re.compile(r"\d\.\d")


def test_benchmarks_are_found() -> None:
    assert SCRIPTS, f"no bench_*.py in {BENCHMARKS}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_quick_run(script: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEECERT_DEBUG"}
    proc = subprocess.run([sys.executable, str(script), "--quick"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    said = f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    if proc.returncode == SKIPPED:
        reason = (proc.stderr.strip() or proc.stdout.strip() or "no reason given").splitlines()[-1]
        pytest.skip(f"{script.name}: {reason}")
    assert proc.returncode == 0, f"{script.name} --quick exited {proc.returncode}\n{said}"
    assert "Traceback (most recent call last)" not in proc.stdout + proc.stderr, said
    figures = [ln for ln in proc.stdout.splitlines() if FIGURE.search(ln)]
    assert figures, f"{script.name} --quick printed no figure\n{said}"
