"""Benchmark of the data ops (integers, conversions, data model, hashes).

For every data op, over one stream chunk (8,192 vectors of ``teecert-data-v1``; ``-n``):
milliseconds to generate the inputs in pure Python (the specification) and with the
C generator (native/accel/datagen.c, what a run uses; checked equal here), milliseconds
for the golden values (``teecert.reference.data``, each confirmed by its second
answer), and the reference probe's throughput in process, in vectors per second.
The C generator's cost is what a run pays per chunk; the reference's is what
``teecert vectors generate`` and a divergence search pay.

    python benchmarks/bench_data_ops.py [--repeat N] [-n VECTORS] [--op OP ...]
    python benchmarks/bench_data_ops.py --quick

``--quick`` runs every op over 64 vectors, once: a check that the benchmark still
runs (seconds), not a figure.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

from teecert import ops
from teecert.probe.build import reference_probe_path
from teecert.probe.library import load_probe
from teecert.reference import data
from teecert.vectors.streams import data as data_streams
from teecert.vectors.streams import inputs


def best_of(repeat: int, fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("-n", type=int, default=data_streams.CHUNK_SIZE,
                    help=f"vectors per op (default one chunk, {data_streams.CHUNK_SIZE})")
    ap.add_argument("--op", action="append", help="only this op (repeatable)")
    ap.add_argument("--quick", action="store_true", help="64 vectors per op, once: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(n=64, repeat=1)
    args = ap.parse_args(argv)
    selected = [ops.get(o) for o in args.op] if args.op else \
        [op for op in ops.CATALOGUE.values() if op.kind in ops.DATA_KINDS]
    probe = load_probe(reference_probe_path())
    n = args.n
    native = inputs.have_data_generator()
    print(f"{'op':<18} {'Python gen ms':>13} {'C gen ms':>9} {'golden ms':>10} {'probe M/s':>10}")
    totals = [0.0, 0.0, 0.0]
    for op in selected:
        vecs = data_streams.vectors(op, 1, 0, n)
        packed = op.pack_inputs(vecs)
        gen = best_of(args.repeat, lambda op=op: data_streams.packed_inputs(op, 1, 0, n))
        cgen = float("nan")
        if native:
            if inputs.chunk_inputs(op, 1, 0, n) != packed:
                print(f"{op.id}: the C generator differs from the Python specification")
                return 1
            cgen = best_of(args.repeat, lambda op=op: inputs.chunk_inputs(op, 1, 0, n))
        gold = best_of(1, lambda op=op, vecs=vecs: data.evaluate_many(op, vecs))
        run = best_of(args.repeat, lambda op=op, packed=packed: probe.run(op, packed, n))
        totals[0] += gen
        totals[1] += cgen
        totals[2] += gold
        print(f"{op.id:<18} {gen * 1e3:>13.1f} {cgen * 1e3:>9.3f} {gold * 1e3:>10.1f} "
              f"{n / run / 1e6:>10.2f}")
    print(f"{'all ' + str(len(selected)):<18} {totals[0] * 1e3:>13.1f} {totals[1] * 1e3:>9.3f} "
          f"{totals[2] * 1e3:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
