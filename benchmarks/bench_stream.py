"""Stream evaluation speed: teecert's Python loop against the same work in plain C.

Both sides generate the stream's inputs with native/accel/accel.c, run the op with
the reference probe's code (which also hashes every output into its transcript),
and hash each chunk's outputs into a Merkle leaf.  The C side is
native/bench/stream_bench.c, built here with the reference probe's flags.  Prints
vectors per second for each and their ratio; it asserts nothing (a benchmark, not
a test), except that both computed the same leaves.

    python benchmarks/bench_stream.py [--op f64.add.rne] [--count 16777216]
                                      [--chunk 65536] [--repeat 3] [--breakdown]
    python benchmarks/bench_stream.py --quick

``--quick`` runs the same code, breakdown included, over 65,536 vectors in chunks of
4,096, once: a check that the benchmark still builds and runs (a few seconds), not a
figure.  Exits 1 when the two sides computed different leaves.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from teecert import ops
from teecert.probe import build as probe_build
from teecert.probe import streams as stream_eval
from teecert.probe.library import Probe, ffi, load_probe
from teecert.vectors.streams import inputs as stream_inputs
from teecert.vectors.streams import mix as generator


def build_c_bench(out: Path) -> Path:
    nd = probe_build.native_dir()
    compiler = probe_build.find_compiler()
    # The reference probe's flags, for an executable instead of a shared library.
    flags = [f for f in probe_build.reference_cflags(compiler) if f not in ("-shared", "-fPIC")]
    cmd = [
        *compiler, *flags, "-I", str(nd), "-I", str(nd / "probe"), "-I", str(nd / "accel"),
        '-DTEECERT_CFLAGS="' + " ".join(flags) + '"',
        str(nd / "bench" / "stream_bench.c"), str(nd / "accel" / "accel.c"),
        # The reference probe as teecert.probe.build compiles it, whatever it is made of.
        str(probe_build.reference_source()), *(str(s) for s in probe_build.support_sources()),
        "-o", str(out), *probe_build.LDLIBS,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"building {out.name} failed:\n{proc.stderr}")
    return out


def run_c(exe: Path, op: str, seed: int, count: int, chunk: int) -> tuple[float, str, str]:
    out = subprocess.run([str(exe), op, str(seed), str(count), str(chunk)], capture_output=True,
                         text=True, check=True).stdout
    doc = json.loads(out)
    return float(doc["seconds"]), doc["leaves_sha256"], doc["sha256"]


def run_python(probe: Probe, op: ops.Op, seed: int, count: int, chunk: int) -> tuple[float, str]:
    t0 = time.perf_counter()
    leaves = stream_eval.evaluate_stream(probe, op, seed, count, chunk)
    seconds = time.perf_counter() - t0
    return seconds, hashlib.sha256(b"".join(leaves)).hexdigest()


def breakdown(probe: Probe, op: ops.Op, seed: int, count: int, chunk: int) -> dict[str, float]:
    """Nanoseconds per vector of each stage of the Python loop, timed apart."""
    from teecert import _accel  # type: ignore[attr-defined]

    s0 = generator.initial_state(op.id, seed)
    inbuf = probe.new_buffer(chunk * op.in_bytes)
    outbuf = probe.new_buffer(chunk * op.out_bytes)
    view = memoryview(ffi.buffer(outbuf))
    starts = range(0, count - count % chunk, chunk)
    t0 = time.perf_counter()
    for s in starts:
        _accel.lib.teecert_gen(s0, s, chunk, op.arity, op.fmt.width, inbuf)
    t1 = time.perf_counter()
    for _ in starts:
        probe.run_into(op, inbuf, outbuf, chunk)
    t2 = time.perf_counter()
    for _ in starts:
        h = hashlib.sha256(b"\x00")
        h.update(view)
        h.digest()
    t3 = time.perf_counter()
    n = len(starts) * chunk
    return {"generate": (t1 - t0) / n * 1e9, "probe call (op + transcript hash)": (t2 - t1) / n * 1e9,
            "leaf hash (hashlib)": (t3 - t2) / n * 1e9}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--op", default="f64.add.rne")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=1 << 24)
    ap.add_argument("--chunk", type=int, default=65536)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--probe", help="probe library for the Python side (default: the reference probe)")
    ap.add_argument("--breakdown", action="store_true", help="also time each stage of the Python loop")
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes, one repeat, with the breakdown: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(count=1 << 16, chunk=4096, repeat=1, breakdown=True)
    a = ap.parse_args(argv)

    if not stream_inputs.have_accelerator():
        print("warning: teecert._accel is not built; the Python side uses the pure-Python generator")
    op = ops.get(a.op)
    probe = load_probe(a.probe or probe_build.reference_probe_path())
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_c_bench(Path(tmp) / "stream_bench")
        run_python(probe, op, a.seed, min(a.count, a.chunk * 4), a.chunk)  # warm up
        py = [run_python(probe, op, a.seed, a.count, a.chunk) for _ in range(a.repeat)]
        c = [run_c(exe, a.op, a.seed, a.count, a.chunk) for _ in range(a.repeat)]

    py_best = min(s for s, _ in py)
    c_best = min(s for s, _, _ in c)
    same = {d for _, d in py} == {d for _, d, _ in c}
    py_sha = probe.description.get("transcript_sha256", "?")
    gen = "C generator" if stream_inputs.have_accelerator() else "Python generator"
    print(f"stream {op.id} seed {a.seed}: {a.count:,} vectors in chunks of {a.chunk:,} (best of {a.repeat})")
    print(f"  python  teecert.probe.streams     {a.count / py_best / 1e6:8.1f} M vectors/s"
          f"   ({gen}; probe {probe.path.name}, transcript SHA-256 {py_sha})")
    print(f"  C       native/bench/stream_bench {a.count / c_best / 1e6:6.1f} M vectors/s"
          f"   (reference probe code, transcript SHA-256 {c[0][2]})")
    print(f"  ratio   C / python              {py_best / c_best:8.2f}x")
    print(f"  same leaves on both sides: {'yes' if same else 'NO'}")
    if a.breakdown and stream_inputs.have_accelerator():
        for stage, ns in breakdown(probe, op, a.seed, a.count, a.chunk).items():
            print(f"  {stage:36s} {ns:6.1f} ns/vector")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
