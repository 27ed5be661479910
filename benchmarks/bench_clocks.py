"""The clocks of this machine: resolution, monotonicity and jitter of every clock of
native/probe/clocks.h, read in process (teecert.certify.judge.clocks.sample_in_process), and the
findings of the default thresholds.  Asserts nothing: a measurement, not a test.

    python benchmarks/bench_clocks.py [--samples 100000] [--json]
    python benchmarks/bench_clocks.py --quick

``--quick`` samples 1,000 reads per clock: a check that the benchmark still runs, not
a figure (a FAIL among the findings is a measurement, not an error).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from teecert.certify.judge import clocks


def fmt(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=100_000, help="reads per clock")
    ap.add_argument("--json", action="store_true", help="print the report form instead")
    ap.add_argument("--quick", action="store_true", help="1,000 reads per clock: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(samples=1000)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    stats = clocks.sample_in_process(args.samples)
    seconds = time.perf_counter() - t0
    thresholds = dict(clocks.DEFAULT_THRESHOLDS, samples=args.samples)
    findings = clocks.check(stats, thresholds)
    if args.json:
        print(json.dumps(clocks.to_report(stats, findings), indent=2))
        return

    print(f"{platform.machine()}, {args.samples:,} samples per clock "
          f"(sampled and analyzed in {seconds:.2f} s)")
    cols = ("clock", "unit", "getres", "observed", "backward", "equal", "median", "p99", "max",
            "jitter")
    rows = [cols]
    for st in stats.values():
        if st.unsupported:
            rows.append((st.clock, "unsupported", *("",) * (len(cols) - 2)))
            continue
        rows.append((st.clock, st.unit, fmt(st.resolution_ns), fmt(st.observed_resolution),
                     fmt(st.backward_steps), fmt(st.equal_steps), fmt(st.median_delta),
                     fmt(st.p99_delta), fmt(st.max_delta), fmt(st.jitter)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
    for r in rows:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    counter = stats.get("counter")
    if counter is not None and not counter.unsupported and counter.unit == "ticks":
        print("counter: frequency not architecturally readable here, figures in ticks")
    print("\ndefault thresholds:")
    for f in findings:
        print(f"  {'FAIL' if f.failure else 'pass'}  {f.clock:<14} {f.rule:<18} {f.detail}")


if __name__ == "__main__":
    main()
