"""Benchmark: what a fresh challenge costs, against the same run without one.

Runs ``teecert run`` as a user would, under a profile (default development), without
and with ``--challenge`` (a fixed 32-byte value), ``--repeat`` times each, and prints
the wall time and the CPU time of the whole process tree (controller, pytest, probe
hosts: ``RUSAGE_CHILDREN``) of each, min and median, and the ratio of the medians.

    python benchmarks/bench_challenge.py [--repeat 2] [--profile development|strict|FILE]
    python benchmarks/bench_challenge.py --quick

``--quick`` measures, in this process, the challenge suite's work on three ops (the
fresh stream, the chosen chunks run again and recomputed with both references)
against evaluating the same ops' fixed streams with the reference probe: a check that
the benchmark still runs (seconds), not a figure.  Exits 1 when a run writes no
report or a challenge row fails on the reference probe.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHALLENGE = "c0ffee" * 10 + "c0ffee00"  # 32 bytes


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def one_run(profile: str, out: Path, challenge: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process tree) of one ``teecert run``."""
    cmd = [sys.executable, "-m", "teecert", "run", "-q", "--profile", profile, "--out", str(out)]
    if challenge:
        cmd += ["--challenge", CHALLENGE]
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if not list(out.glob("teecert-report-*.json")):
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"run wrote no report (exit {proc.returncode}): {last}", file=sys.stderr)
        sys.exit(1)
    return wall, cpu


def full(profile: str, repeat: int) -> None:
    figures: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            for challenge in (False, True):
                figures[challenge].append(one_run(profile, Path(tmp) / f"{i}-{challenge}", challenge))
    for challenge, runs in figures.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{'with' if challenge else 'without':>7} --challenge: wall min {min(walls):.1f} s, median "
              f"{statistics.median(walls):.1f} s; CPU min {min(cpus):.1f} s, median {statistics.median(cpus):.1f} s")
    wall_ratio = statistics.median(w for w, _ in figures[True]) / statistics.median(w for w, _ in figures[False])
    cpu_ratio = statistics.median(c for _, c in figures[True]) / statistics.median(c for _, c in figures[False])
    print(f"ratio with / without (medians): wall {wall_ratio:.2f}x, CPU {cpu_ratio:.2f}x")


def quick() -> None:
    from teecert import ops
    from teecert.certify.judge import challenge as judge
    from teecert.certify.session import TrackedProbe
    from teecert.probe.build import reference_probe_path
    from teecert.probe.library import load_probe
    from teecert.vectors.store import load_set

    vs = load_set()
    streams = vs.streams()
    probe = TrackedProbe(load_probe(reference_probe_path()))
    value = bytes.fromhex(CHALLENGE)
    fixed = fresh = 0.0
    for op_id in ("f64.div.rne", "f32.fma.rtz", "i64.div_s"):
        st = streams[op_id]
        t0 = time.perf_counter()
        probe.stream_leaves(st, 1)
        fixed += time.perf_counter() - t0
        t0 = time.perf_counter()
        finding = judge.run(probe, ops.get(op_id), value, st.count)
        fresh += time.perf_counter() - t0
        if not finding.ok:
            print(f"{op_id}: {finding.message}", file=sys.stderr)
            sys.exit(1)
    print(f"fixed streams (first chunk of 3 ops): {fixed * 1000:.1f} ms")
    print(f"challenge (3 ops: fresh stream, 2 chunks recomputed): {fresh * 1000:.1f} ms")
    print(json.dumps({"fixed_ms": round(fixed * 1000, 1), "challenge_ms": round(fresh * 1000, 1)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--profile", default="development")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if a.quick:
        quick()
    else:
        full(a.profile, a.repeat)


if __name__ == "__main__":
    main()
