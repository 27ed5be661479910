"""Benchmark of the two golden-value references (``teecert.reference``).

Prints microseconds per op for each op family and format, for the rational
reference, the MPFR reference and ``golden.evaluate_many`` (both plus the
comparison and input checks), over stream inputs from ``teecert.vectors.streams.mix`` so
the mix of value classes is the one ``teecert vectors generate`` sees.
Targets (docs in the reference modules): rational <= ~6 us and mpfr <= ~2 us per
f64 binary op on average.

    python benchmarks/bench_reference.py [-n VECTORS] [--seed SEED] [--repeat R]
    python benchmarks/bench_reference.py --quick

``--quick`` evaluates ten vectors per op, once: a check that the benchmark still runs
(a second), not a figure.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

from teecert import ops
from teecert.reference import golden, mpfr, rational
from teecert.vectors.streams import inputs as stream_inputs

Evaluator = Callable[[str, list[tuple[int, ...]]], list[int]]


def best_time(fn: Evaluator, op_id: str, vecs: list[tuple[int, ...]], repeat: int) -> float:
    """Best of ``repeat`` runs, in microseconds per vector (best filters noise)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(op_id, vecs)
        best = min(best, time.perf_counter() - t0)
    return best / len(vecs) * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("-n", type=int, default=4000, help="vectors per op (default 4000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement, best kept")
    ap.add_argument("--quick", action="store_true", help="ten vectors per op, once: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(n=10, repeat=1)
    a = ap.parse_args(argv)

    refs: list[tuple[str, Evaluator]] = [
        ("rational", rational.evaluate_many),
        ("mpfr", mpfr.evaluate_many),
        ("golden", golden.evaluate_many),
    ]
    print(f"us/op over {a.n} stream vectors per op (seed {a.seed}), best of {a.repeat}")
    print(f"{'family':<16} {'fmt':<4} " + " ".join(f"{name:>9}" for name, _ in refs))
    totals: dict[str, dict[str, list[float]]] = {"f32": {}, "f64": {}}
    for fmt in ("f32", "f64"):
        for family in ops.FLOAT_OPS:
            per_ref: dict[str, list[float]] = {name: [] for name, _ in refs}
            for rnd in ops.ROUNDINGS:
                op_id = f"{fmt}.{family}.{rnd}"
                vecs = stream_inputs.vectors(ops.get(op_id), a.seed, 0, a.n)
                for name, fn in refs:
                    per_ref[name].append(best_time(fn, op_id, vecs, a.repeat))
            means = {name: sum(v) / len(v) for name, v in per_ref.items()}
            for name, m in means.items():
                totals[fmt].setdefault(name, []).append(m)
            print(f"{family:<16} {fmt:<4} " + " ".join(f"{means[name]:9.3f}" for name, _ in refs))
    binary = [list(ops.FLOAT_OPS).index(f) for f in ("add", "sub", "mul", "div")]
    for fmt, by_ref in totals.items():
        all_mean = " ".join(f"{sum(v) / len(v):9.3f}" for v in by_ref.values())
        bin_mean = " ".join(f"{sum(v[i] for i in binary) / len(binary):9.3f}" for v in by_ref.values())
        print(f"{'mean (all)':<16} {fmt:<4} {all_mean}")
        print(f"{'mean (binary)':<16} {fmt:<4} {bin_mean}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
