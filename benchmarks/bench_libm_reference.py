"""Benchmark of the libm golden reference (``teecert.reference.libm``).

Prints microseconds per evaluation of each method (MPFR, mpmath) and of
``golden`` (both plus the comparison) for every function and format, over inputs
with random bits (deterministic seed), so the mix of special, huge, tiny and
ordinary arguments is that of a uniformly random bit pattern.  The figures are
quoted in the module docstring of ``teecert.reference.libm``.

How often the platform's libm differs from the golden values is what the libm
suite reports (``teecert run``; ``tests/reference/test_libm_reference.py -m slow`` counts it
for glibc through ctypes too).

    python benchmarks/bench_libm_reference.py [-n INPUTS] [--seed SEED] [--repeat R]
    python benchmarks/bench_libm_reference.py --quick

``--quick`` evaluates five inputs per function and format, once: a check that the
benchmark still runs (a second), not a figure.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence

from teecert.ops import F32, F64, FloatFormat
from teecert.reference import libm

Method = Callable[[str, FloatFormat, Sequence[int]], int]


def per_call_us(method: Method, fn: str, fmt: FloatFormat, vecs: list[tuple[int, ...]],
                repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for v in vecs:
            method(fn, fmt, v)
        best = min(best, time.perf_counter() - t0)
    return best / len(vecs) * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("-n", type=int, default=2000, help="inputs per function (default 2000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2, help="runs per measurement, best kept")
    ap.add_argument("--quick", action="store_true", help="five inputs per function, once: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(n=5, repeat=1)
    a = ap.parse_args(argv)

    methods: list[tuple[str, Method]] = [
        ("mpfr", libm.mpfr_value),
        ("mpmath", libm.mpmath_value),
        ("golden", libm.golden),
    ]
    print(f"us per evaluation over {a.n} random-bit inputs per function (seed {a.seed}), "
          f"best of {a.repeat}")
    header = " ".join(f"{fmt} {m:>7}" for fmt in ("f64", "f32") for m, _ in methods)
    print(f"{'fn':<6} {header}")
    for fn, arity in libm.FUNCTIONS.items():
        row = []
        for fmt in (F64, F32):
            r = random.Random(f"{a.seed}-{fn}-{fmt.name}")
            vecs = [tuple(r.getrandbits(fmt.width) for _ in range(arity)) for _ in range(a.n)]
            for _name, method in methods:
                row.append(per_call_us(method, fn, fmt, vecs, a.repeat))
        print(f"{fn:<6} " + " ".join(f"{v:11.1f}" for v in row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
