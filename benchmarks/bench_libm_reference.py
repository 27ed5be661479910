"""Benchmark of the libm golden reference (``teecert.reference.libm``).

Prints microseconds per evaluation of each method (MPFR, mpmath) and of
``golden`` (both plus the comparison) for every function and format, over inputs
with random bits (deterministic seed), so the mix of special, huge, tiny and
ordinary arguments is that of a uniformly random bit pattern.  The figures are
quoted in the module docstring of ``teecert.reference.libm``.

With ``--glibc N`` it also counts, over N deterministic inputs per function,
how often the host's libm (glibc, through ctypes, as Python's math module calls
it) differs from the golden value, for exp, sin, pow and cbrt in both formats.

    python benchmarks/bench_libm_reference.py [-n INPUTS] [--seed SEED] [--glibc N]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import random
import struct
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


def _value(fmt: FloatFormat, b: int) -> float:
    if fmt.width == 64:
        return float(struct.unpack("<d", struct.pack("<Q", b))[0])
    return float(struct.unpack("<f", struct.pack("<I", b))[0])


def _bits(fmt: FloatFormat, x: float) -> int:
    if fmt.width == 64:
        return int(struct.unpack("<Q", struct.pack("<d", x))[0])
    return int(struct.unpack("<I", struct.pack("<f", x))[0])


def glibc_counts(n: int, seed: int) -> None:
    name = ctypes.util.find_library("m")
    if not name:
        print("no libm found")
        return
    lib = ctypes.CDLL(name)
    print(f"\nglibc vs golden over {n} deterministic inputs per function (seed {seed})")
    for fmt in (F64, F32):
        ctype = ctypes.c_double if fmt.width == 64 else ctypes.c_float

        def rnd(x: float, fmt: FloatFormat = fmt) -> float:
            return x if fmt.width == 64 else _value(fmt, _bits(fmt, x))

        top, low = (709.0, -745.0) if fmt.width == 64 else (88.0, -103.0)
        for fn in ("exp", "sin", "pow", "cbrt"):
            f = getattr(lib, fn if fmt.width == 64 else fn + "f")
            f.argtypes = [ctype] * libm.FUNCTIONS[fn]
            f.restype = ctype
            r = random.Random(f"{seed}-{fn}-{fmt.name}")
            diff = 0
            for _ in range(n):
                if fn == "exp":
                    xs: tuple[float, ...] = (rnd(r.uniform(low, top)),)
                elif fn == "sin":
                    xs = (rnd(r.choice((-1, 1)) * (1 + r.random()) * 2.0 ** r.randint(-10, 30)),)
                elif fn == "pow":
                    xs = (rnd(2.0 ** r.uniform(-10, 10)), rnd(r.uniform(-12, 12)))
                else:
                    while True:
                        b = r.getrandbits(fmt.width)
                        if b & fmt.exp_mask != fmt.exp_mask:
                            break
                    xs = (_value(fmt, b),)
                vec = tuple(_bits(fmt, x) for x in xs)
                diff += _bits(fmt, float(f(*xs))) != libm.golden(fn, fmt, vec)
            print(f"{fmt.name}.{fn:<5} {diff:>7} of {n} differ ({100 * diff / n:.3f}%)")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("-n", type=int, default=2000, help="inputs per function (default 2000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2, help="runs per measurement, best kept")
    ap.add_argument("--glibc", type=int, default=0, metavar="N",
                    help="also count glibc divergences over N inputs per function")
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
    if a.glibc:
        glibc_counts(a.glibc, a.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
