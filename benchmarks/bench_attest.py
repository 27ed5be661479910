"""Benchmark: verify + validate one piece of attestation evidence, then a thousand.

For each real sample (``tests/data/realworld/attestation``, see its SOURCES.md), after
start-up and a warm-up call, measures the CPU time (``time.process_time``) of
``evidence.verify`` + ``policy.validate`` (default policy) for one piece, then for N in a
loop (default 1,000).  The targets are under 20 ms of CPU for one piece
and under 20 s for a thousand.

    python benchmarks/bench_attest.py [--n 1000] [--realworld DIR]
    python benchmarks/bench_attest.py --quick

``--quick`` runs the same calls with a loop of 2: a check that the benchmark still
runs (a second), not a figure.  Prints figures; asserts nothing.  Without the samples
it says so and exits 77 (the usual "skipped" status of test drivers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

from teecert.attestation import evidence
from teecert.attestation.validate import policy

UTC = dt.UTC
SKIPPED = 77  # exit status: what the benchmark needs is absent
DEFAULT_REALWORLD = Path(os.environ.get("TEECERT_REALWORLD") or Path(__file__).resolve().parents[1]
                         / "tests" / "data" / "realworld" / "attestation")


def samples(root: Path) -> list[tuple[str, bytes, dict[str, Any]]]:
    """(label, evidence bytes, verify keywords) for every benchmarked sample."""
    def rd(rel: str) -> bytes:
        return (root / rel).read_bytes()

    july = dt.datetime(2025, 7, 1, tzinfo=UTC)
    return [
        ("snp (VCEK) @2026-01-01", rd("snp/milan_v2_vcek_report.bin"),
         {"fmt": "snp", "certs": [rd("snp/milan_v2_vcek_report.vcek.der")],
          "at": dt.datetime(2026, 1, 1, tzinfo=UTC)}),
        ("tdx v4 + collateral @2025-07-01", rd("tdx/tdx_v4_quote_uptodate.dat"),
         {"fmt": "tdx", "collateral": rd("tdx/tdx_v4_quote_uptodate.collateral.json"), "at": july}),
        ("sgx v3 + collateral @2025-07-01", rd("sgx/sgx_v3_quote_swhardening.dat"),
         {"fmt": "sgx", "collateral": rd("sgx/sgx_v3_quote_swhardening.collateral.json"), "at": july}),
        ("nitro prod @own timestamp", rd("nitro/nitro_prod_2022-10-13.cose"),
         {"fmt": "nitro", "at": None}),
    ]


def one(data: bytes, kw: dict[str, Any]) -> list[str]:
    return policy.validate(evidence.verify(data, "bench", **kw))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="pieces of evidence in the loop (default 1000)")
    ap.add_argument("--realworld", type=Path, default=DEFAULT_REALWORLD)
    ap.add_argument("--quick", action="store_true", help="a loop of 2: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(n=2)
    args = ap.parse_args(argv)
    if not args.realworld.is_dir():
        print(f"real-world attestation samples absent ({args.realworld})", file=sys.stderr)
        return SKIPPED

    startup = time.process_time()  # CPU since the process began: interpreter start-up + imports
    todo = samples(args.realworld)
    print(f"start-up (interpreter + imports): {startup * 1000:.0f} ms CPU; then per format: the first call "
          "(lazy imports, bundled roots), one warm call, and the loop")
    print(f"{'evidence':34s} {'first call':>11s} {'one (warm)':>11s} {f'{args.n} total':>12s} {'per piece':>10s}"
          "  policy outcome")
    for label, data, kw in todo:
        t = time.process_time()
        outcome = one(data, kw)  # first call: lazy imports, root loading, caches
        first = time.process_time() - t
        t = time.process_time()
        one(data, kw)
        single = time.process_time() - t
        t = time.process_time()
        for _ in range(args.n):
            one(data, kw)
        total = time.process_time() - t
        verdict = "accepted" if not outcome else "rejected: " + outcome[0].split(":")[0]
        print(f"{label:34s} {first * 1000:9.2f}ms {single * 1000:9.2f}ms {total:10.3f} s "
              f"{total / args.n * 1000:8.3f}ms  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
