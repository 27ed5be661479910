"""Stream throughput through the probe host against the in-process probe, per
CPU-second of the whole process tree, at the stream size a run evaluates.

A certification run evaluates each float op's stream as 16 chunks of 65,536
vectors (``vectors.store.CHUNK_SIZE``, ``STREAM_CHUNKS``): 1 Mi vectors.  This
benchmark evaluates such streams (``evaluate_stream``) through:

* ``in-process``: the cffi-loaded reference probe;
* ``child shm``: the probe host as a child process (the default of ``teecert run``),
  bulk data through the shared region, two requests in flight; a stream's
  inputs made by the host itself (RUN_GEN), only outputs in the region;
* ``child shm copy``: the same with the inputs generated here and copied by the host
  out of the region (RUN_SHM, what a host without RUN_GEN gets);
* ``child inline``: the same host with ``shared_memory=False``: every byte through
  the pipes (what an older host, or protocol 2, gets);
* ``unix shm`` / ``unix inline``: a host listening on a Unix socket, the region
  passed with SCM_RIGHTS, or not.

Each figure is million vectors per CPU-second: CPU time of this process (its
``process_time``) plus that of every host process serving it (the child, or the
listener's supervisor and worker; the scheduler's nanosecond count from
``/proc/PID/task/*/schedstat``, not ``psutil``'s clock ticks), so a transport cannot look fast by
keeping a second core busy.  Wall-clock rates are printed beside them.  The
transports are measured in turn, ``--repeat`` rounds, each one between two
in-process measurements, and its ratio is taken against their mean (so a
neighbour's load that comes and goes weighs on both alike); the table gives the
minimum and median ratio over the rounds.  It
exits 1 when two transports computed different leaves or transcripts.

``--sweep`` instead prints the older table: wall-clock throughput at several
vectors per call (64 to 262,144), in-process against the child-process host with
one request per chunk (inline and shared memory) and with chunks grouped inline.

``--cross`` builds the reference probe and host for AArch64 and RISC-V
(``teecert probe build --target``) and measures the child-process transport under
qemu-user beside the native host, at chunks of 65,536 vectors, for a few ops.

    python benchmarks/bench_transport.py [--op f64.add.rne] [--streams 32] [--repeat 5]
    python benchmarks/bench_transport.py --sweep [--count 4194304]
    python benchmarks/bench_transport.py --cross [--count 1048576]
    python benchmarks/bench_transport.py --quick

``--quick`` runs every transport over one small stream, two rounds: a check that
the benchmark still runs (seconds), not a figure.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import psutil

from teecert import ops
from teecert.probe import build as probe_build
from teecert.probe import remote as transport
from teecert.probe import streams as stream_eval
from teecert.probe.library import load_probe
from teecert.vectors import store

BATCHES = (64, 256, 1024, 4096, 16384, 65536, 262144)
#: the stream a run evaluates per float op
RUN_CHUNK = store.CHUNK_SIZE
RUN_COUNT = store.CHUNK_SIZE * store.STREAM_CHUNKS


def best(fn: Callable[[], list[bytes]], repeat: int) -> tuple[float, str]:
    times: list[float] = []
    digest = ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        leaves = fn()
        times.append(time.perf_counter() - t0)
        digest = hashlib.sha256(b"".join(leaves)).hexdigest()
    return min(times), digest


# ------------------------------------------------------------ CPU of the tree


def _proc_cpu(proc: psutil.Process) -> float:
    """CPU seconds of one process: the scheduler's nanosecond count summed over its
    threads (/proc/PID/task/*/schedstat) where Linux has it, since ``cpu_times`` counts
    in clock ticks (10 ms: a few per cent of a measurement); else ``cpu_times``."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{proc.pid}/task")
        for tid in tasks:
            with contextlib.suppress(OSError), open(f"/proc/{proc.pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        t = proc.cpu_times()
        return t.user + t.system


def _tree_cpu(pids: list[int]) -> float:
    """CPU seconds of these live processes and their descendants."""
    total = 0.0
    seen: set[int] = set()
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for proc in procs:
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            with contextlib.suppress(psutil.Error):
                total += _proc_cpu(proc)
    return total


class Side:
    """One transport: a probe, and the processes (besides this one) that serve it."""

    def __init__(self, name: str, probe: Any, pids: Callable[[], list[int]],
                 host_generates: bool = True) -> None:
        self.name, self.probe, self.pids = name, probe, pids
        self.host_generates = host_generates

    def measure(self, op: ops.Op, streams: int, count: int) -> tuple[float, float, str]:
        """``(vectors per CPU-second, vectors per wall second, digest of leaves and
        transcript)`` over ``streams`` streams of ``count`` vectors."""
        saved, stream_eval.HOST_GENERATES = stream_eval.HOST_GENERATES, self.host_generates
        try:
            stream_eval.evaluate_stream(self.probe, op, 1, count, RUN_CHUNK)  # warm: pages, caches
            pids = self.pids()
            c0, w0, t0 = time.process_time(), time.perf_counter(), _tree_cpu(pids)
            h = hashlib.sha256()
            for s in range(streams):
                h.update(b"".join(stream_eval.evaluate_stream(self.probe, op, 1 + s, count, RUN_CHUNK)))
            wall = time.perf_counter() - w0
            cpu = time.process_time() - c0 + _tree_cpu(pids) - t0
        finally:
            stream_eval.HOST_GENERATES = saved
        vectors = streams * count
        return vectors / max(cpu, 1e-9), vectors / wall, h.hexdigest()


@contextlib.contextmanager
def unix_host(lib: str) -> Iterator[tuple[str, int]]:
    """A host listening on a Unix socket in a private folder: its URL and pid."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "host.sock")
        cmd = [*transport.default_host_cmd(lib), "--listen", f"unix:{path}"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("listening"):
                sys.exit(f"the Unix-socket host did not start: {line!r}")
            yield f"unix:{path}", proc.pid
        finally:
            proc.kill()
            proc.wait()


def compare(op: ops.Op, streams: int, count: int, repeat: int) -> None:
    lib = str(probe_build.reference_probe_path())
    with contextlib.ExitStack() as stack, unix_host(lib) as (url, listener):
        child = stack.enter_context(transport.spawn(transport.default_host_cmd(lib)))
        inline = stack.enter_context(transport.spawn(transport.default_host_cmd(lib), shared_memory=False))
        sock = stack.enter_context(transport.connect(url))
        sock_inline = stack.enter_context(transport.connect(url, shared_memory=False))
        for rp in (child, sock):
            if rp.shared_region() is None:
                sys.exit(f"{rp.endpoint}: no shared memory ({rp.shm_refusal or 'not offered'})")
        sides = [
            Side("in-process", load_probe(lib), list),
            Side("child shm", child, lambda: [p for p in [child.child_pid] if p]),
            Side("child shm copy", child, lambda: [p for p in [child.child_pid] if p], host_generates=False),
            Side("child inline", inline, lambda: [p for p in [inline.child_pid] if p]),
            Side("unix shm", sock, lambda: [listener]),
            Side("unix inline", sock_inline, lambda: [listener]),
        ]
        rates: dict[str, list[tuple[float, float]]] = {s.name: [] for s in sides}
        ratios: dict[str, list[float]] = {s.name: [] for s in sides}
        digests = set()
        here = sides[0]
        for _ in range(repeat):
            # In-process is measured before and after each transport, and the ratio
            # taken against their mean: a neighbour's load that comes and goes then
            # weighs on both sides of it alike.
            before = here.measure(op, streams, count)
            rates[here.name].append(before[:2])
            digests.add(before[2])
            for side in sides[1:]:
                cpu_rate, wall_rate, digest = side.measure(op, streams, count)
                after = here.measure(op, streams, count)
                rates[side.name].append((cpu_rate, wall_rate))
                rates[here.name].append(after[:2])
                digests.update((digest, after[2]))
                ratios[side.name].append(cpu_rate / ((before[0] + after[0]) / 2))
                before = after
            if len(digests) != 1:
                sys.exit("transports disagree: different leaves")
        ratios[here.name] = [1.0]
        # The same stream through every transport: the probe's transcripts agree too.
        transcripts = {}
        for side in sides:
            side.probe.transcript_reset()
            stream_eval.evaluate_stream(side.probe, op, 7, count, RUN_CHUNK)
            transcripts[side.name] = side.probe.transcript()
        if len({t for t in transcripts.values()}) != 1:
            sys.exit(f"transports disagree: transcripts {transcripts}")
    print(f"{op.id}: {streams} streams of {count} vectors in chunks of {RUN_CHUNK}, {repeat} rounds; "
          "million vectors per CPU-second of the process tree (median), wall-clock M/s (median), "
          "ratio to in-process per CPU-second (min / median)")
    print(f"{'transport':<15} {'M/CPU-s':>9} {'wall M/s':>9} {'min':>6} {'median':>7}")
    for side in sides:
        cpu = statistics.median(r[0] for r in rates[side.name]) / 1e6
        wall = statistics.median(r[1] for r in rates[side.name]) / 1e6
        rs = ratios[side.name]
        print(f"{side.name:<15} {cpu:>9.1f} {wall:>9.1f} {min(rs):>6.2f} {statistics.median(rs):>7.2f}")


def sweep(op: ops.Op, count_max: int, repeat: int) -> None:
    lib = probe_build.reference_probe_path()
    local = load_probe(lib)
    inline = transport.spawn(transport.default_host_cmd(lib), shared_memory=False)
    shm = transport.spawn(transport.default_host_cmd(lib))
    grouped_bytes = stream_eval.REMOTE_BATCH_BYTES
    print(f"{op.id}, up to {count_max} vectors, best of {repeat}; million vectors per wall second")
    print(f"{'batch':>8} {'in-process':>11} {'inline 1/rt':>12} {'ratio':>6} {'inline grouped':>15} "
          f"{'ratio':>6} {'shm':>8} {'ratio':>6}")
    try:
        for b in BATCHES:
            count = min(count_max, max(b * 64, 1 << 18)) if b < 4096 else count_max
            t_in, d_in = best(partial(stream_eval.evaluate_stream, local, op, 1, count, b), repeat)
            stream_eval.REMOTE_BATCH_BYTES = 0
            t_rt, d_rt = best(partial(stream_eval.evaluate_stream, inline, op, 1, count, b), repeat)
            stream_eval.REMOTE_BATCH_BYTES = grouped_bytes
            t_gr, d_gr = best(partial(stream_eval.evaluate_stream, inline, op, 1, count, b), repeat)
            t_sh, d_sh = best(partial(stream_eval.evaluate_stream, shm, op, 1, count, b), repeat)
            if not d_in == d_rt == d_gr == d_sh:
                sys.exit(f"transports disagree at batch {b}")
            r_in, r_rt, r_gr, r_sh = (count / t / 1e6 for t in (t_in, t_rt, t_gr, t_sh))
            print(f"{b:>8} {r_in:>11.1f} {r_rt:>12.1f} {r_rt / r_in:>6.2f} {r_gr:>15.1f} "
                  f"{r_gr / r_in:>6.2f} {r_sh:>8.1f} {r_sh / r_in:>6.2f}")
    finally:
        stream_eval.REMOTE_BATCH_BYTES = grouped_bytes
        inline.close()
        shm.close()


CROSS_TARGETS = ("aarch64-linux-gnu", "riscv64-linux-gnu")
CROSS_OPS = ("f64.add.rne", "f64.div.rne", "f64.fma.rne", "f32.sqrt.rtz")


def cross(count: int, repeat: int) -> None:
    import shlex

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
    ap.add_argument("--count", type=int, default=None,
                    help=f"vectors per stream (default {RUN_COUNT}, a run's; --sweep: 4194304)")
    ap.add_argument("--streams", type=int, default=32, help="streams per measurement")
    ap.add_argument("--repeat", type=int, default=5, help="rounds (--sweep, --cross: best of)")
    ap.add_argument("--sweep", action="store_true", help="wall-clock rates at several batch sizes")
    ap.add_argument("--cross", action="store_true", help="AArch64 and RISC-V under qemu-user")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(count=1 << 17, streams=1, repeat=2)
    a = ap.parse_args(argv)
    op = ops.get(a.op)
    if a.cross:
        cross(a.count or 1 << 20, a.repeat)
    elif a.sweep:
        sweep(op, a.count or 1 << 22, a.repeat)
    else:
        compare(op, a.streams, a.count or RUN_COUNT, a.repeat)


if __name__ == "__main__":
    main()
