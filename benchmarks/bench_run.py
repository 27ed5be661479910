"""Benchmark: wall time and peak memory of a whole default `teecert run`.

Runs ``teecert run`` (development profile: 58.7 million float and libm stream vectors, 0.5 million of the data ops)
as a user would, with one process and with ``-n 2``, and samples the memory
(proportional set size) of the whole process tree (controller, pytest, xdist workers)
every 20 ms.

    python benchmarks/bench_run.py [--repeat 3] [--profile development|strict] [--workers 2]
    python benchmarks/bench_run.py --quick

After each configuration it also prints, from the last run's report, the time the
tests of each suite took (summed over tests, so with -n 2 the sum exceeds the wall
time): the stress suite's share is the "stress run" figure of the strict profile.
The libm suite caches its MPFR re-derivations under ~/.cache/teecert/libm, so the
first run on a machine is slower than the best of several.

``--quick`` runs once, in one process, a tiny copy of the profile, written to a temporary
folder: one chunk of each stream (``stream_scale`` 6) and no libm suite, as the tests'
quick profile (tests/conftest.py); a check that the benchmark still runs (seconds), not
a figure.

Prints figures; asserts nothing (figures go in the issue notes, not in tests), except
that every run wrote its report: a run that exits 2 or dies (nothing written) makes
the benchmark exit 1 with the run's last line of standard error.
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def _memory(p: psutil.Process) -> int:
    """A process's proportional set size (PSS): pages shared with other processes
    count in fractions.  Summed RSS would count a forked child's copy-on-write pages
    twice: a 300 MiB pytest forking to start a probe host would briefly look like
    600 MiB.  RSS only where PSS cannot be read (not Linux)."""
    try:
        return int(p.memory_full_info().pss)
    except (AttributeError, psutil.AccessDenied):
        return int(p.memory_info().rss)


def measure(args: list[str], log: Path) -> tuple[float, int, int]:
    """(seconds, peak tree PSS in bytes, exit code) of one command; its standard error
    goes to ``log``."""
    t0 = time.perf_counter()
    with log.open("wb") as err:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += _memory(p)
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        peak = max(peak, total)
        time.sleep(0.02)
    return time.perf_counter() - t0, peak, proc.returncode


def quick_profile(name: str, folder: Path) -> Path:
    """A copy of profile ``name`` with one chunk of each stream and without the libm
    suite (as tests/conftest.py's quick_profile), written into ``folder``."""
    from teecert.profile import load_profile

    doc = dict(load_profile(name).data)
    doc["id"] = f"{doc['id']}-quick"
    doc["stream_scale"] = 6  # 1 of 16 chunks: 65,536 vectors per float op
    doc["suites"] = {k: v for k, v in doc["suites"].items() if k != "libm"}
    path = folder / f"{doc['id']}.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def last_line(log: Path) -> str:
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return lines[-1] if lines else "(nothing on standard error)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", default="development")
    ap.add_argument("--workers", action="append", help="worker counts to try (default: one "
                    "process and -n 2; with --quick, one process)")
    ap.add_argument("--quick", action="store_true",
                    help="once, in one process, a tiny copy of the profile: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(repeat=1)
    a = ap.parse_args(argv)
    if a.quick and not a.workers:
        a.workers = ["1"]
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key.pem"
        subprocess.run([sys.executable, "-m", "teecert", "keys", "generate", str(key)], check=True,
                       stdout=subprocess.DEVNULL)
        profile = str(quick_profile(a.profile, Path(tmp))) if a.quick else a.profile
        shown = f"{a.profile} (quick copy: stream_scale 6, no libm)" if a.quick else a.profile
        print(f"teecert run --profile {shown}: {psutil.cpu_count()} logical cores")
        for workers in ([None if w == "1" else w for w in a.workers] if a.workers else (None, "2")):
            out = Path(tmp) / f"out-{workers}"
            log = Path(tmp) / f"stderr-{workers}.txt"
            cmd = [sys.executable, "-m", "teecert", "run", "--profile", profile, "--key", str(key),
                   "--out", str(out)]
            if workers:
                cmd += ["-n", workers]
            runs = [measure(cmd, log) for _ in range(a.repeat)]
            best = min(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            codes = sorted({r[2] for r in runs})
            label = f"-n {workers}" if workers else "one process"
            print(f"  {label:12s} best {best:6.2f} s of {a.repeat}, peak memory of the process tree "
                  f"{peak / 2**20:7.1f} MiB, exit codes {codes}")
            print("    " + suite_times(out))
            # 0 CERTIFIED and 1 NOT_CERTIFIED are outcomes of a run; anything else
            # (2: nothing written, negative: killed) means there was no run to measure.
            if any(c not in (0, 1) for c in codes):
                failed.append(f"{label}: exit codes {codes}: {last_line(log)}")
    for line in failed:
        print(f"teecert run failed, {line}", file=sys.stderr)
    return 1 if failed else 0


def suite_times(out: Path) -> str:
    """Seconds the tests of each suite took in the newest report of ``out``."""
    reports = sorted(out.glob("teecert-report-*.json"), key=lambda p: p.stat().st_mtime)
    if not reports:
        return "no report"
    env = json.loads(reports[-1].read_bytes())
    pred = json.loads(base64.b64decode(env["payload"]))["predicate"]
    per: dict[str, int] = {}
    for r in pred["results"]:
        per[r["suite"]] = per.get(r["suite"], 0) + int(r["duration_ms"])
    return ", ".join(f"{s} {ms / 1000:.1f} s" for s, ms in sorted(per.items()))


if __name__ == "__main__":
    sys.exit(main())
