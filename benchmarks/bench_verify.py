"""Benchmark: `teecert verify` as governance runs it, one report and a thousand.

Generates N distinct signed reports (``bench_compare.fleet``: ``tests/reportfactory.py``
reports of the development profile, 200 varied results each, a few NOT_CERTIFIED),
then times, as a user types the commands (a child process each, the clock around it):

- one ``teecert verify REPORT --trust KEY --profile development`` process, run
  ``--repeat`` times (min and median, as hyperfine reports them);
- one ``teecert verify --from LIST ...`` process over all N reports (batch mode);
- one ``teecert compare`` process over all N reports;

and, in this process, verifying the N reports with the library (ms per report).
Targets (DESIGN.md, Qualities): a single verify under 0.15 s; a batch of 1,000 and a
compare of 1,000 each under 5 s on one core.

    python benchmarks/bench_verify.py [--reports 1000] [--repeat 20] [--rounds 2]
    python benchmarks/bench_verify.py --quick

Python writes no bytecode in some environments (``PYTHONDONTWRITEBYTECODE``), and an
editable checkout then compiles every teecert module in every process; an installed
teecert has its bytecode.  So the single-process figure is given both ways: with
bytecode cached (in a temporary ``PYTHONPYCACHEPREFIX``, warmed by one run) and with
the environment as it is.  ``--rounds`` repeats the batch and compare runs (min and
median).  ``--quick`` runs 20 reports, 3 repeats, 1 round: a check that the benchmark
still runs, not a figure.  Exits 1 when a command's exit code or summary is not
what the generated reports must give.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import bench_compare

from teecert._internal.timefmt import format_time
from teecert.report import keys
from teecert.verify import verifier

import reportfactory as rf


def teecert_command() -> list[str]:
    """The ``teecert`` console script beside this interpreter, else ``python -m teecert``."""
    script = Path(sys.executable).with_name("teecert")
    return [str(script)] if script.exists() else [sys.executable, "-m", "teecert"]


#: CPU seconds (user + system) of each child process timed, in order: on a machine
#: shared with other work the wall clock also counts the neighbours' time.
CPU: list[float] = []


def timed(argv: Sequence[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(list(argv), env=env, capture_output=True, text=True, check=False, timeout=600)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, proc


def spread(times: Sequence[float]) -> str:
    cpu = CPU[-len(times):]
    return (f"wall min {min(times):.3f} s, median {statistics.median(times):.3f} s; "
            f"CPU min {min(cpu):.3f} s, median {statistics.median(cpu):.3f} s ({len(times)} runs)")


def expect(proc: subprocess.CompletedProcess[str], code: int, what: str) -> None:
    if proc.returncode != code:
        print(f"{what}: exit {proc.returncode}, expected {code}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--results", type=int, default=200, help="varied rows per report (the rest pass)")
    ap.add_argument("--diverging", type=int, default=10, help="reports that fail one stream (NOT_CERTIFIED)")
    ap.add_argument("--repeat", type=int, default=20, help="single-report processes to time")
    ap.add_argument("--rounds", type=int, default=2, help="times to run the batch and the compare")
    ap.add_argument("--quick", action="store_true", help="20 reports, 3 repeats, 1 round: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(reports=20, results=20, diverging=2, repeat=3, rounds=1)
    a = ap.parse_args(argv)
    teecert = teecert_command()
    at = format_time(rf.NOW)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "reports"
        out.mkdir()
        key = Ed25519PrivateKey.generate()
        pub = Path(tmp) / "signer.pub"
        keys.write_public(pub, key.public_key())
        t0 = time.perf_counter()
        paths = bench_compare.fleet(out, a.reports, a.results, diverging=a.diverging, worst=False, key=key)
        listing = Path(tmp) / "reports.txt"
        listing.write_text("".join(f"{p}\n" for p in paths))
        print(f"generated {len(paths)} signed reports of {a.results} varied results "
              f"in {time.perf_counter() - t0:.1f} s")
        pins = ["--trust", str(pub), "--profile", "development", "--at", at]

        # In this process: the library alone, no start-up.
        cache = verifier.ReportCache()
        t0, c0 = time.perf_counter(), time.process_time()
        for p in paths:
            verifier.verify_report_file(p, trusted={keys.keyid(key.public_key()): key.public_key()},
                                        profile=None, at=rf.NOW, cache=cache)
        lib, lib_cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"library: {len(paths)} reports in {lib:.2f} s wall, {lib_cpu:.2f} s CPU "
              f"({1000 * lib_cpu / len(paths):.2f} ms of CPU per report)")

        # One report per process, as a script verifying reports one by one runs it.
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        as_is = dict(os.environ)
        single = [*teecert, "verify", str(paths[0]), *pins]
        for name, env in (("bytecode cached", cached), ("environment as is", as_is)):
            _, proc = timed(single, env)  # warm-up: the page cache, and bytecode where it is written
            expect(proc, 0, f"verify {paths[0].name}")
            times = [timed(single, env)[0] for _ in range(a.repeat)]
            print(f"single verify process ({name}): {spread(times)}  (target < 0.15 s)")
        shutil.rmtree(Path(tmp) / "pycache", ignore_errors=True)
        _, proc = timed(single, cached)

        # Every report in one process: batch mode, then compare.
        batch = [*teecert, "verify", "--from", str(listing), *pins]
        runs = []
        for _ in range(a.rounds):
            secs, proc = timed(batch, cached)
            expect(proc, 1 if a.diverging else 0, "verify --from")
            runs.append(secs)
        summary = proc.stdout.strip().splitlines()[-1]
        wanted = f"verified {len(paths)} reports: {len(paths) - a.diverging} accepted, {a.diverging} not accepted"
        if not summary.startswith(wanted):
            print(f"verify --from: summary {summary!r}, expected it to start {wanted!r}")
            sys.exit(1)
        print(f"  {summary}")
        print(f"batch verify of {len(paths)} reports (one process): {spread(runs)}  "
              f"({1000 * min(runs) / len(paths):.2f} ms per report; target < 5 s for 1,000)")
        compare = [*teecert, "compare", *map(str, paths), *pins]
        runs = []
        for _ in range(a.rounds):
            secs, proc = timed(compare, cached)
            expect(proc, 1 if a.diverging else 0, "compare")
            runs.append(secs)
        print(f"  {proc.stdout.splitlines()[0]}")
        print(f"compare of {len(paths)} reports (one process): {spread(runs)}  (target < 5 s for 1,000)")


if __name__ == "__main__":
    main()
