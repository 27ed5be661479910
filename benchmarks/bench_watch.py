"""``teecert watch`` over a simulated day: CPU per cycle, canary coverage, memory.

A day of cycles at the default 10-minute interval (144) runs in fast time: the
watch's clock is a fake one that the sleep between cycles moves on, so the day
takes as long as its cycles' work.  Everything else is real: a fresh probe host
per cycle, the canary slices, the FP-state tests, the fingerprint, attestation
(n/a where the probe reaches no TEE), the signed heartbeat log and the metrics.

The report watched is a statement of this machine as it is now, built here the way
a run records it (the probe host's facts, the characterization, a root per stream
row, the fpenv rows), over the development profile's full stream set: 56 float
streams of 16 chunks, the libm and the data streams, about 1,200 canary units.
Building it evaluates every stream once (seconds).

Two passes over the same day.  The first, as a watch runs by default (every
unit once in 24 hours), gives the CPU per cycle of the watch process and of the
probe host child (mean and largest), the wall time, and checks that the 144 slices
covered every canary unit.  The second runs under tracemalloc (which slows the
pure-Python generation of the data ops' inputs about tenfold) with a 12-hour
coverage period, so that the day's second half checks the same slices in the same
order as its first: each cycle's allocation peak is compared with that of its twin
half a day earlier, and the largest peak and the memory still allocated are
printed for each half, with the resident set size before and after.  Memory that a
cycle leaves behind would show as a second half above the first.  (The traced pass
writes no metrics textfile: see ``run_day``.)

    python benchmarks/bench_watch.py [--cycles 144] [--interval 600]
    python benchmarks/bench_watch.py --quick

``--quick``: 8 cycles over the first chunk of the float and libm streams and of two
data streams, a check that the script still runs (seconds), not a figure.  Exits 1
when a cycle is not ok, when the first pass did not cover every unit, or when a
cycle of the second half peaked more than 10 % (and 256 KiB) above its twin.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import psutil

from teecert import ops
from teecert.certify.facts.characterization import characterize
from teecert.certify.watch import checks
from teecert.certify.watch.heartbeat import HeartbeatLog, verify_log
from teecert.certify.watch.metrics import WatchMetrics
from teecert.certify.watch.watcher import WatchConfig, Watcher
from teecert.probe import build as probe_build
from teecert.probe.remote import default_host_cmd, spawn
from teecert.probe.streams import evaluate_stream
from teecert.profile import load_profile
from teecert.report import keys
from teecert.report.identity import identity_digest
from teecert.vectors import merkle
from teecert.vectors.store import load_set

#: The data streams --quick watches (the others are generated in Python: slow under tracemalloc).
QUICK_DATA_OPS = ("i64.mul", "hash.sha256")
FPENV_OPS = ("f64.add.rne", "f64.mul.rne", "f64.div.rne", "f64.fma.rne", "f32.mul.rne", "f32.sqrt.rne", "f64.sub.rdn")


def statement_of_this_machine(quick: bool) -> dict[str, Any]:
    """A report's statement (unsigned: the watch library takes a verified one) of the
    reference probe on this machine, as ``teecert run`` would record it."""
    lib = probe_build.reference_probe_path()
    vs = load_set()
    probe = spawn(default_host_cmd(lib))
    try:
        pred: dict[str, Any] = {
            "run": {"id": "bench-watch", "transport": "child-process"},
            "probe": {"path": str(lib), "digest": probe.digest, "abi_version": probe.abi_version,
                      "host": {"facts_source": "probe-host"}},
            "vector_set": {"digest": vs.digest},
            "profile": {"id": "development", "document": load_profile("development").data},
            "validity": {"not_after": (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")},
            "attestation": None,
        }
        fp = checks.current_fingerprint(probe, pred)
        pred["environment"] = {"fingerprint": fp, "digest": identity_digest(fp)}
        pred["probe"]["characterization"] = characterize(probe)
        rows = []
        for op_id, st in sorted(vs.streams().items()):
            if quick and st.op.kind in ("int", "hash") and op_id not in QUICK_DATA_OPS:
                continue
            chunks = 1 if quick else st.chunks
            count = min(st.count, chunks * st.chunk_size)
            if st.op.kind == "libm":  # the platform's libm: its own root, as the run records it
                root = merkle.root(evaluate_stream(probe, st.op, st.seed, count, st.chunk_size)).hex()
            else:
                root = merkle.root(list(st.leaves[:chunks])).hex()
            rows.append({"id": f"test_stream[{op_id}]", "kind": "stream", "op": op_id, "root": root,
                         "vectors": count})
        for op_id in FPENV_OPS:
            vecs = [v for v in vs.explicit(op_id) if v.group in checks.GROUPS]
            op = ops.get(op_id)
            root = merkle.leaf_hash(op.pack_outputs([v.expected for v in vecs])).hex()
            for poison in checks.POISONS:
                rows.append({"id": f"{checks.FPENV_TEST}{op_id}-{poison}]", "kind": "explicit", "op": op_id,
                             "root": root, "vectors": len(vecs)})
        pred["results"] = rows
    finally:
        probe.close()
    return {"predicate": pred}


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def run_day(statement: dict[str, Any], cycles: int, interval: float, cover: float, folder: Path,
            trace: bool) -> tuple[list[Any], list[tuple[int, int]], set[int], int]:
    """``cycles`` cycles in fast time: (results, per cycle (slice, allocation peak),
    the canary units covered, the number of units)."""
    clock = FakeClock()
    key = keys.generate(folder / f"key-{trace}.pem")
    log = HeartbeatLog(folder / f"watch-{trace}.log", key)
    metrics = WatchMetrics()
    # The traced pass writes no textfile: pathlib interns the name of each temporary
    # file write_atomic makes, and when the interpreter rebuilds its table of interned
    # strings, tracemalloc sees the new table (about 1 MiB) but not the old one it
    # replaces, a one-off step at an unpredictable cycle that is not the watch's memory.
    config = WatchConfig(interval=interval, cover=cover,
                         textfile=None if trace else folder / "teecert_watch.prom")
    watcher = Watcher(statement, config, report_digest=b"\0" * 32, report_path="bench", clock=clock,
                      log=log, metrics=metrics)
    results: list[Any] = []
    peaks: list[tuple[int, int]] = []
    covered: set[int] = set()
    if trace:
        tracemalloc.reset_peak()

    def on_cycle(result: Any) -> None:
        results.append(result.outcome if trace else result)
        if result.canary:
            covered.update(watcher.plan.slices[result.canary["slice"]])
        if trace:
            peaks.append((result.canary.get("slice", -1), tracemalloc.get_traced_memory()[1]))
            tracemalloc.reset_peak()

    watcher.run(cycles=cycles, sleep=clock.sleep, on_cycle=on_cycle)
    log.close()
    return results, peaks, covered, len(watcher.plan.units)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cycles", type=int, default=144)
    ap.add_argument("--interval", type=float, default=600.0)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    cycles = 8 if a.quick else a.cycles
    if cycles < 4 or cycles % 2:
        print("--cycles: an even number, at least 4")
        return 2
    cover = cycles * a.interval if a.quick else 86400.0
    t0 = time.perf_counter()
    statement = statement_of_this_machine(a.quick)
    print(f"statement of this machine: {len(statement['predicate']['results'])} rows in "
          f"{time.perf_counter() - t0:.1f} s")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results, _p, covered, units = run_day(statement, cycles, a.interval, cover, folder, trace=False)
        cpu = [r.cpu_ms for r in results]
        host = [r.probe_cpu_ms for r in results if r.probe_cpu_ms is not None]
        wall = [r.wall_ms for r in results]
        print(f"{cycles} cycles at {a.interval:g} s: watch CPU per cycle mean {statistics.mean(cpu):.1f} ms, "
              f"max {max(cpu):.1f} ms; probe host CPU mean {statistics.mean(host) if host else 0:.1f} ms, "
              f"max {max(host) if host else 0:.1f} ms; wall mean {statistics.mean(wall):.1f} ms")
        chunks = sum(r.canary.get("chunks", 0) for r in results)
        vectors = sum(r.canary.get("vectors", 0) for r in results)
        print(f"canary: {len(covered)} of {units} units covered in {cycles} cycles ("
              f"{100.0 * len(covered) / max(1, units):.1f} %), {chunks} chunks, {vectors:,} vectors")
        bad = [r for r in results if r.outcome != "ok"]
        if bad:
            ok = False
            print(f"{len(bad)} cycles not ok; first: {bad[0].outcome}: "
                  f"{bad[0].fault or bad[0].drift[0].message}")
        if len(covered) != units:
            ok = False
            print("the cycles did not cover every canary unit")
        rss0 = psutil.Process().memory_info().rss
        tracemalloc.start()
        outcomes, peaks, _c, _u = run_day(statement, cycles, a.interval, cycles * a.interval / 2, folder,
                                          trace=True)
        current = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        rss1 = psutil.Process().memory_info().rss
        half = len(peaks) // 2
        first, second = peaks[:half], peaks[half:]
        if [s for s, _ in first] != [s for s, _ in second]:
            ok = False
            print("the two halves did not check the same slices")
        # the first cycle also makes what the watch keeps for good (imports, caches)
        worst = max(((b - a_, i) for i, ((_s, a_), (_t, b)) in enumerate(zip(first, second, strict=True))
                     if i > 0), default=(0, 0))
        print(f"memory (tracemalloc, {cycles} cycles, two rounds of {half} slices): largest cycle peak "
              f"first half {max(p for _, p in first[1:]) / 1024:.1f} KiB, second half "
              f"{max(p for _, p in second[1:]) / 1024:.1f} KiB; largest growth over the twin cycle "
              f"{worst[0] / 1024:.1f} KiB; still allocated after the day {current / 1024:.1f} KiB; "
              f"RSS {rss0 / 2**20:.1f} -> {rss1 / 2**20:.1f} MiB")
        twin = first[worst[1]][1]
        if worst[0] > twin * 0.10 + 256 * 1024:
            ok = False
            print(f"memory grew over the day: cycle {half + worst[1]} peaked {worst[0] / 1024:.1f} KiB "
                  "above its twin")
        if set(outcomes) != {"ok"}:
            ok = False
            print(f"the traced day had cycles that were not ok: {sorted(set(outcomes))}")
        summary = verify_log(folder / "watch-True.log", None)
        print(f"heartbeat log: {summary.records} records verified")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
