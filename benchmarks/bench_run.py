"""Benchmark: wall time and peak memory of a whole default `teecert run`.

Runs ``teecert run`` (development profile, the full 58.7 million stream vectors)
as a user would, with one process and with ``-n 2``, and samples the resident
memory of the whole process tree (controller, pytest, xdist workers) every 20 ms.

    python benchmarks/bench_run.py [--repeat 3] [--profile development]

Prints figures; asserts nothing (figures go in the issue notes, not in tests).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def measure(args: list[str]) -> tuple[float, int, int]:
    """(seconds, peak tree RSS in bytes, exit code) of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        peak = max(peak, total)
        time.sleep(0.02)
    return time.perf_counter() - t0, peak, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", default="development")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key.pem"
        subprocess.run([sys.executable, "-m", "teecert", "keys", "generate", str(key)], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"teecert run --profile {a.profile}: {psutil.cpu_count()} logical cores")
        for workers in (None, "2"):
            cmd = [sys.executable, "-m", "teecert", "run", "--profile", a.profile, "--key", str(key),
                   "--out", str(Path(tmp) / "out")]
            if workers:
                cmd += ["-n", workers]
            runs = [measure(cmd) for _ in range(a.repeat)]
            best = min(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            codes = sorted({r[2] for r in runs})
            label = f"-n {workers}" if workers else "one process"
            print(f"  {label:12s} best {best:6.2f} s of {a.repeat}, peak memory of the process tree "
                  f"{peak / 2**20:7.1f} MiB, exit codes {codes}")


if __name__ == "__main__":
    main()
