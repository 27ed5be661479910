"""Benchmark: `teecert compare` over a fleet of signed reports.

Generates N distinct signed reports (``tests/reportfactory.py``, 200 results each by
default: one per platform, each with its own environment digest and host), a few
of which diverge on one stream and a few of which lack one result, then times
reading + verifying them and, separately, comparing them and producing the text,
JSON and HTML outputs.  The target (DESIGN.md, Qualities) is a compare of 1,000
reports in under 5 s on one core beyond the verify time.

    python benchmarks/bench_compare.py [--reports 1000] [--results 200] [--worst-case]
    python benchmarks/bench_compare.py --quick

``--worst-case`` also times a fleet where every report disagrees with every other
(one class per report), the slowest input for the class grouping.  ``--quick`` runs
both fleets at 20 reports of 20 results: a check that the benchmark still runs (a
second or two), not a figure.
Prints figures; asserts nothing (figures go in the issue notes, not in tests).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from teecert.verify import compare, verifier

import reportfactory as rf


def fleet(out: Path, n: int, per: int, *, diverging: int, worst: bool,
          key: Ed25519PrivateKey | None = None) -> list[Path]:
    """``n`` signed, complete reports in ``out`` (``per`` of their rows with varied
    outcomes, the rest passing), signed by ``key`` (a new one if None); the last
    ``diverging`` give another root for one stream; with ``worst`` each report has its
    own root.  No report lacks a result: verify refuses an incomplete one."""
    key = key or Ed25519PrivateKey.generate()
    paths = []
    base = rf.complete(rf.make_results(per))
    streams = [i for i, r in enumerate(base) if r["kind"] == "stream"]
    for k in range(n):
        rows: list[dict[str, Any]] = [dict(r) for r in base]
        if worst:
            j = streams[k % len(streams)]
            rows[j]["root"] = rows[j]["expected_root"] = rf._hex(f"platform {k}")
        elif k >= n - diverging:
            j = streams[0]
            rows[j].update(outcome="failed", failures=1, root="ab" * 32, message="1 of 16 chunks diverge",
                           divergence={"index": 1181, "inputs": ["3ff0000000000001", "3fefffffffffffff"],
                                       "expected": "000b6e6b8c0f1c3a", "got": "000b6e6b8c0f1c3b", "ulp": "1"})

        def host(st: dict[str, Any], k: int = k) -> None:
            st["predicate"]["environment"]["fingerprint"]["hostname_digest"] = rf._hex(f"host {k}")

        r = rf.make_signed_report(out, key=key, results=rows, microcode=f"0x{k:x}", mutate=host)
        paths.append(r.path)
    return paths


def measure(paths: list[Path], at: Any) -> dict[str, float]:
    t0 = time.perf_counter()
    cache = verifier.ReportCache()  # as `teecert compare` shares it between reports
    outcomes = [verifier.verify_report_file(p, trusted=None, profile=None, at=at, cache=cache) for p in paths]
    t1 = time.perf_counter()
    cmp = compare.compare(outcomes)
    t2 = time.perf_counter()
    lines = compare.comparison_lines(cmp)
    t3 = time.perf_counter()
    text = json.dumps(compare.comparison_to_json(cmp), indent=2, sort_keys=True)
    t4 = time.perf_counter()
    page = compare.render_compare_html(cmp, at)
    t5 = time.perf_counter()
    print(f"  {lines[0]}")
    print(f"  JSON {len(text) / 1e6:.2f} MB, HTML {len(page) / 1e6:.2f} MB")
    return {"verify": t1 - t0, "compare": t2 - t1, "text": t3 - t2, "json": t4 - t3, "html": t5 - t4}


def report(name: str, n: int, figures: dict[str, float]) -> None:
    beyond = figures["compare"] + figures["text"] + figures["json"] + figures["html"]
    print(f"{name}: {n} reports")
    print(f"  read + verify     {figures['verify']:7.2f} s  ({1000 * figures['verify'] / n:.2f} ms per report)")
    print(f"  compare           {figures['compare']:7.3f} s")
    print(f"  text output       {figures['text']:7.3f} s")
    print(f"  JSON output       {figures['json']:7.3f} s")
    print(f"  HTML output       {figures['html']:7.3f} s")
    print(f"  beyond verify     {beyond:7.3f} s  (target < 5 s)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--results", type=int, default=200)
    ap.add_argument("--diverging", type=int, default=20, help="reports that diverge on one stream")
    ap.add_argument("--worst-case", action="store_true", help="also time one class per report")
    ap.add_argument("--quick", action="store_true",
                    help="both fleets at 20 reports of 20 results: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(reports=20, results=20, diverging=2, worst_case=True)
    a = ap.parse_args(argv)
    scenarios = [("fleet", False)] + ([("worst case", True)] if a.worst_case else [])
    for name, worst in scenarios:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            paths = fleet(Path(tmp), a.reports, a.results, diverging=a.diverging, worst=worst)
            print(f"{name}: generated {len(paths)} signed reports of {a.results} results "
                  f"in {time.perf_counter() - t0:.1f} s")
            report(name, len(paths), measure(paths, rf.NOW))


if __name__ == "__main__":
    main()
