"""Stream throughput through the probe host (child process, stdio pipes) against
the in-process probe, at several batch sizes (vectors per probe call).

Three columns per batch size:

* ``in-process``: ``evaluate_stream`` on the cffi-loaded reference probe;
* ``child 1/rt``: the probe host as a child process, one RUN request (one round
  trip) per chunk (``stream_eval.REMOTE_BATCH_BYTES = 0``);
* ``child grouped``: the default loop for a remote probe, which packs several chunks
  into one RUN request of up to ``REMOTE_BATCH_BYTES`` of inputs.

It prints vectors per second and states the smallest batch size at which one round
trip per chunk reaches at least half the in-process throughput.  Asserts nothing
but that every transport computed the same leaves.

``--cross`` instead builds the reference probe and host for AArch64 and RISC-V
(``teecert probe build --target``) and measures the child-process transport under
qemu-user beside the native host, at chunks of 65,536 vectors, for a few ops.

    python benchmarks/bench_transport.py [--op f64.add.rne] [--count 4194304] [--repeat 3]
    python benchmarks/bench_transport.py --cross [--count 1048576]
    python benchmarks/bench_transport.py --quick

``--quick`` runs the same loop over 16,384 vectors at every batch size, once: a check
that the benchmark still runs (seconds), not a figure.  Exits 1 when two transports
(or, with ``--cross``, two architectures) computed different leaves.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from functools import partial

from teecert import ops
from teecert.probe import build as probe_build
from teecert.probe import remote as transport
from teecert.probe import streams as stream_eval
from teecert.probe.library import load_probe

BATCHES = (64, 256, 1024, 4096, 16384, 65536, 262144)


def best(fn: Callable[[], list[bytes]], repeat: int) -> tuple[float, str]:
    times: list[float] = []
    digest = ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        leaves = fn()
        times.append(time.perf_counter() - t0)
        digest = hashlib.sha256(b"".join(leaves)).hexdigest()
    return min(times), digest


CROSS_TARGETS = ("aarch64-linux-gnu", "riscv64-linux-gnu")
CROSS_OPS = ("f64.add.rne", "f64.div.rne", "f64.fma.rne", "f32.sqrt.rtz")


def cross(count: int, repeat: int) -> None:
    import shlex
    import tempfile

    hosts: dict[str, list[str]] = {"native": transport.default_host_cmd()}
    with tempfile.TemporaryDirectory() as tmp:
        for target in CROSS_TARGETS:
            try:
                built = probe_build.build_for_target(target, f"{tmp}/{target}")
            except Exception as exc:
                print(f"{target}: not built: {exc}")
                continue
            if built.missing:
                print(f"{target}: {built.missing}")
                continue
            hosts[target] = built.probe_cmd
        print(f"child-process transport, {count} vectors per op in chunks of 65536, best of "
              f"{repeat}; million vectors per second")
        print(f"{'op':<14}" + "".join(f"{name:>20}" for name in hosts))
        for op_id in CROSS_OPS:
            op = ops.get(op_id)
            rates, digests = [], set()
            for cmd in hosts.values():
                with transport.spawn(cmd, timeout=600) as rp:
                    t, d = best(partial(stream_eval.evaluate_stream, rp, op, 1, count, 65536), repeat)
                rates.append(count / t / 1e6)
                digests.add(d)
            if len(digests) != 1:
                sys.exit(f"{op_id}: architectures disagree")
            print(f"{op_id:<14}" + "".join(f"{r:>20.2f}" for r in rates))
        for name, cmd in hosts.items():
            print(f"  {name}: {shlex.join(cmd)}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--op", default="f64.add.rne")
    ap.add_argument("--count", type=int, default=1 << 22)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cross", action="store_true", help="AArch64 and RISC-V under qemu-user")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(count=1 << 14, repeat=1)
    a = ap.parse_args(argv)
    if a.cross:
        cross(a.count if a.count != 1 << 22 else 1 << 20, a.repeat)
        return
    op = ops.get(a.op)
    lib = probe_build.reference_probe_path()
    local = load_probe(lib)
    remote = transport.spawn(transport.default_host_cmd(lib))
    grouped_bytes = stream_eval.REMOTE_BATCH_BYTES
    print(f"{op.id}, {a.count} vectors, best of {a.repeat}; million vectors per second")
    print(f"{'batch':>8} {'in-process':>11} {'child 1/rt':>11} {'ratio':>6} {'child grouped':>14} {'ratio':>6}")
    half_at = None
    try:
        for b in BATCHES:
            count = min(a.count, max(b * 64, 1 << 18)) if b < 4096 else a.count
            t_in, d_in = best(partial(stream_eval.evaluate_stream, local, op, 1, count, b), a.repeat)
            stream_eval.REMOTE_BATCH_BYTES = 0
            t_rt, d_rt = best(partial(stream_eval.evaluate_stream, remote, op, 1, count, b), a.repeat)
            stream_eval.REMOTE_BATCH_BYTES = grouped_bytes
            t_gr, d_gr = best(partial(stream_eval.evaluate_stream, remote, op, 1, count, b), a.repeat)
            if not d_in == d_rt == d_gr:
                sys.exit(f"transports disagree at batch {b}")
            r_in, r_rt, r_gr = (count / t / 1e6 for t in (t_in, t_rt, t_gr))
            print(f"{b:>8} {r_in:>11.1f} {r_rt:>11.1f} {r_rt / r_in:>6.2f} {r_gr:>14.1f} {r_gr / r_in:>6.2f}")
            if half_at is None and r_rt >= 0.5 * r_in:
                half_at = b
    finally:
        stream_eval.REMOTE_BATCH_BYTES = grouped_bytes
        remote.close()
    if half_at is None:
        print("one round trip per chunk never reached half the in-process throughput")
    else:
        print(f"one round trip per chunk reaches at least half the in-process throughput "
              f"from a batch of {half_at} vectors")


if __name__ == "__main__":
    main()
