"""Stream evaluation speed: teecert's Python loop against the same work in plain C.

Both sides generate the stream's inputs with native/accel/mixgen.c, run the op with
the reference probe's code (which also hashes every output into its transcript),
and hash each chunk's outputs into a Merkle leaf, two chunks side by side
(native/probe/sha256.c on the CPU's SHA instructions).  The C side is
native/bench/stream_bench.c, built here with the reference probe's flags.

Prints millions of vectors per CPU-second (user + system time of the loop, from
getrusage on the Python side and CLOCK_PROCESS_CPUTIME_ID in the C program), the
minimum and median over ``--repeat`` runs, and the ratio of the medians.  CPU time,
not wall time, because the machine is shared: a neighbour's load stretches wall
time but not the CPU time the loop itself used.  It asserts nothing (a benchmark,
not a test), except that both sides computed the same leaves.

    python benchmarks/bench_stream.py [--op f64.add.rne] [--count 16777216]
                                      [--chunk 65536] [--repeat 5] [--breakdown]
    python benchmarks/bench_stream.py --quick

``--quick`` runs the same code, breakdown included, over 65,536 vectors in chunks of
4,096, twice: a check that the benchmark still builds and runs (a few seconds), not
a figure.  Exits 1 when the two sides computed different leaves.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
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
        str(nd / "accel" / "mixgen.c"),
        # The reference probe as teecert.probe.build compiles it, whatever it is made of.
        str(probe_build.reference_source()), *(str(s) for s in probe_build.support_sources()),
        "-o", str(out), *probe_build.LDLIBS,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"building {out.name} failed:\n{proc.stderr}")
    return out


def cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def run_c(exe: Path, op: str, seed: int, count: int, chunk: int) -> tuple[float, str, str]:
    """(CPU seconds of the loop, SHA-256 of the leaves, the SHA-256 code in use)."""
    out = subprocess.run([str(exe), op, str(seed), str(count), str(chunk)], capture_output=True,
                         text=True, check=True).stdout
    doc = json.loads(out)
    return float(doc["cpu_seconds"]), doc["leaves_sha256"], doc["sha256"]


def run_python(probe: Probe, op: ops.Op, seed: int, count: int, chunk: int) -> tuple[float, str]:
    """(CPU seconds of the loop, SHA-256 of the leaves)."""
    c0 = cpu_seconds()
    leaves = stream_eval.evaluate_stream(probe, op, seed, count, chunk)
    cpu = cpu_seconds() - c0
    return cpu, hashlib.sha256(b"".join(leaves)).hexdigest()


def breakdown(probe: Probe, op: ops.Op, seed: int, count: int, chunk: int) -> dict[str, float]:
    """CPU nanoseconds per vector of each stage of the Python loop, timed apart, and of
    the other ways to hash the leaves."""
    from teecert._internal import accel

    lib = accel.load().lib
    s0 = generator.initial_state(op.id, seed)
    inbuf = probe.new_buffer(chunk * op.in_bytes)
    lanes = stream_inputs.LEAF_LANES
    outs = [probe.new_buffer(chunk * op.out_bytes) for _ in range(lanes)]
    nbytes = chunk * op.out_bytes
    view = memoryview(ffi.buffer(outs[0]))
    calls = max(1, count // chunk)
    leaves_of = stream_inputs.leaf_hasher(outs)

    def hashlib_leaf() -> None:
        h = hashlib.sha256(b"\x00")
        h.update(view)
        h.digest()

    # (what, chunks per call, the call)
    stages: list[tuple[str, int, Callable[[], object]]] = [
        ("generate", 1, lambda: lib.teecert_gen(s0, 0, chunk, op.arity, op.fmt.width, inbuf)),
        ("probe call (op + transcript hash)", 1, lambda: probe.run_into(op, inbuf, outs[0], chunk)),
        (f"leaf hash, {lanes} chunks side by side", lanes, lambda: leaves_of([nbytes] * lanes)),
        ("leaf hash, one chunk (C)", 1, lambda: leaves_of([nbytes])),
        ("leaf hash, one chunk (hashlib)", 1, hashlib_leaf),
    ]
    per: dict[str, float] = {}
    for name, chunks, fn in stages:
        rounds = max(1, calls // chunks)
        c0 = cpu_seconds()
        for _ in range(rounds):
            fn()
        per[name] = (cpu_seconds() - c0) / (rounds * chunks * chunk) * 1e9
    return per


def _rates(count: int, cpu: list[float]) -> str:
    """'min X  median Y' in millions of vectors per CPU-second."""
    rates = [count / max(c, 1e-9) / 1e6 for c in cpu]
    return f"min {min(rates):7.1f}  median {statistics.median(rates):7.1f} M vectors per CPU-second"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--op", default="f64.add.rne")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=1 << 24)
    ap.add_argument("--chunk", type=int, default=65536)
    ap.add_argument("--repeat", type=int, default=5, help="runs of each side (min and median)")
    ap.add_argument("--probe", help="probe library for the Python side (default: the reference probe)")
    ap.add_argument("--breakdown", action="store_true", help="also time each stage of the Python loop")
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes, two runs, with the breakdown: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(count=1 << 16, chunk=4096, repeat=2, breakdown=True)
    a = ap.parse_args(argv)
    if a.repeat < 1 or a.count < 1 or a.chunk < 1:
        ap.error("--repeat, --count and --chunk must be positive")

    if not stream_inputs.have_accelerator():
        print("warning: teecert._accel is not built; the Python side uses the pure-Python generator")
    op = ops.get(a.op)
    probe = load_probe(a.probe or probe_build.reference_probe_path())
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_c_bench(Path(tmp) / "stream_bench")
        run_python(probe, op, a.seed, min(a.count, a.chunk * 4), a.chunk)  # warm up
        py, c = [], []
        for _ in range(a.repeat):  # alternate, so that a busy spell hits both sides
            py.append(run_python(probe, op, a.seed, a.count, a.chunk))
            c.append(run_c(exe, a.op, a.seed, a.count, a.chunk))

    py_cpu = statistics.median(s for s, _ in py)
    c_cpu = statistics.median(s for s, _, _ in c)
    same = {d for _, d in py} == {d for _, d, _ in c}
    py_sha = probe.description.get("transcript_sha256", "?")
    gen = "C generator" if stream_inputs.have_accelerator() else "Python generator"
    print(f"stream {op.id} seed {a.seed}: {a.count:,} vectors in chunks of {a.chunk:,} "
          f"({a.repeat} runs each)")
    print(f"  python  teecert.probe.streams      {_rates(a.count, [s for s, _ in py])}"
          f"   ({gen}; probe {probe.path.name}, transcript SHA-256 {py_sha})")
    print(f"  C       native/bench/stream_bench  {_rates(a.count, [s for s, _, _ in c])}"
          f"   (reference probe code, transcript SHA-256 {c[0][2]})")
    print(f"  ratio   C / python (median CPU time) {py_cpu / max(c_cpu, 1e-9):8.2f}x")
    print(f"  same leaves on both sides: {'yes' if same else 'NO'}")
    if a.breakdown and stream_inputs.have_accelerator():
        for stage, ns in breakdown(probe, op, a.seed, a.count, a.chunk).items():
            print(f"  {stage:36s} {ns:6.1f} CPU ns/vector")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
