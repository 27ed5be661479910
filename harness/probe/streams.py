"""Evaluate streams on a probe: the harness's hot loop.

A stream ``(op, seed, count)`` is cut into chunks of ``chunk_size`` vectors.  For
each chunk the C generator (``teecert._accel``) writes the inputs into a reused
native buffer, the probe runs the op over the whole chunk in one call, and the
chunk's output bytes are hashed into a Merkle leaf (``merkle.leaf_hash``).  No
Python object is created per vector, which is what keeps the loop at tens of
millions of vectors per second (``benchmarks/bench_stream.py``).

Without the accelerator the pure-Python generator (the specification) is used,
with a warning: correct, but about a thousand times slower.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from ..ops import DATA_KINDS, Op
from ..vectors.streams import data as data_streams
from ..vectors.streams import libm as libm_streams
from ..vectors.streams.inputs import (
    LEAF_LANES,
    chunk_inputs,
    have_accelerator,
    have_data_generator,
    leaf_hasher,
    native_generator,
    pack_inputs,
    span_leaves,
    stream_state,
    vectors,
    warn_slow,
)
from .library import Probe
from .library import ffi as _probe_ffi
from .remote import GEN_DATA, GEN_LIBM, GEN_MAX_ARITY, GEN_MIX, GenSpec, RemoteProbe, SharedRegion

#: ``on_chunk(index, n, leaf)``: chunk ``index`` of ``n`` vectors has this leaf.
ChunkCallback = Callable[[int, int, bytes], object]
#: ``on_outputs(index, leaf, outputs)``: chunk ``index`` hashed to ``leaf`` from these
#: output bytes, a view into a buffer the loop reuses: valid only during the call.
OutputsCallback = Callable[[int, bytes, memoryview], object]
#: ``known(index, outputs)``: the leaf of chunk ``index``'s outputs when the caller can
#: tell it without hashing (they equal bytes it already checked against that leaf),
#: else None: the loop hashes them.
KnownLeaf = Callable[[int, memoryview], bytes | None]


def _check_span(op: Op, count: int, chunk_size: int) -> None:
    if count < 0:
        raise UsageError(f"stream {op.id}: negative vector count {count}")
    if chunk_size <= 0:
        raise UsageError(f"stream {op.id}: chunk size must be positive, not {chunk_size}")


#: A remote probe gets several chunks per request, up to this many input bytes, so
#: small chunks do not pay one round trip each (benchmarks/bench_transport.py).
REMOTE_BATCH_BYTES = 4 << 20


def evaluate_stream(
    probe: Probe | RemoteProbe,
    op: Op,
    seed: int,
    count: int,
    chunk_size: int,
    on_chunk: ChunkCallback | None = None,
    on_outputs: OutputsCallback | None = None,
    known: KnownLeaf | None = None,
) -> list[bytes]:
    """Merkle leaves of the first ``count`` vectors of the stream ``(op, seed)`` as
    ``probe`` computes them, one leaf per chunk of ``chunk_size`` vectors (the last
    one may be shorter).  One probe call per chunk; ``on_chunk`` is told of each, and
    ``on_outputs`` of each one's outputs (to keep those of a chunk that diverges
    without running it again: a probe may answer differently the second time).
    ``known`` may spare the hash of outputs the caller holds a checked copy of (the
    stress suite runs the same chunks in many processes); only the shared-memory loop
    asks it, the others hash every chunk."""
    _check_span(op, count, chunk_size)
    if op.kind in DATA_KINDS and not have_data_generator():  # a build without datagen.c
        return _evaluate_python(probe, op, seed, count, chunk_size, on_chunk, on_outputs)
    if not have_accelerator():
        warn_slow()
        return _evaluate_python(probe, op, seed, count, chunk_size, on_chunk, on_outputs)

    s0 = stream_state(op, seed)
    size = min(chunk_size, count)
    if isinstance(probe, RemoteProbe) and count > 0:
        region = probe.shared_region()
        spec = gen_spec(op, s0) if HOST_GENERATES and probe.generates_inputs() else None
        group = _shm_group(op, size, region.size, spec is not None) if region is not None else 0
        if region is not None and group > 0:
            return _evaluate_shm(probe, region, group, op, s0, count, chunk_size, on_chunk,
                                 on_outputs, known, spec)
    if isinstance(probe, RemoteProbe) and size * op.in_bytes < REMOTE_BATCH_BYTES:
        return _evaluate_remote(probe, op, s0, count, chunk_size, on_chunk, on_outputs)
    inbuf = probe.new_buffer(size * op.in_bytes)
    # Chunks go in pairs (LEAF_LANES), each into its own output buffer, so that their
    # leaves are hashed side by side (leaf_hasher): much cheaper than one by one.
    starts = range(0, count, chunk_size)
    lanes = max(1, min(LEAF_LANES, len(starts)))
    outs = [probe.new_buffer(size * op.out_bytes) for _ in range(lanes)]
    gen = native_generator(op, s0)
    leaves_of = leaf_hasher(outs)
    run_into = probe.run_into
    out_bytes = op.out_bytes
    leaves: list[bytes] = []
    for first in range(0, len(starts), lanes):
        ns = [min(chunk_size, count - s) for s in starts[first : first + lanes]]
        for outbuf, start, n in zip(outs, starts[first : first + lanes], ns, strict=False):
            gen(start, n, inbuf)
            run_into(op, inbuf, outbuf, n)
        for j, (n, leaf) in enumerate(zip(ns, leaves_of([n * out_bytes for n in ns]), strict=True)):
            leaves.append(leaf)
            if on_outputs is not None:
                on_outputs(first + j, leaf, memoryview(_probe_ffi.buffer(outs[j], n * out_bytes)))
            if on_chunk is not None:
                on_chunk(first + j, n, leaf)
    return leaves


#: Whether the shared-memory loop lets a host that serves RUN_GEN make a
#: stream's inputs itself (tests and benchmarks turn it off to measure RUN_SHM).
HOST_GENERATES = True


def gen_spec(op: Op, s0: int) -> GenSpec | None:
    """``op``'s stream of state ``s0`` (:func:`stream_state`) as RUN_GEN names it, or
    None for one a host does not generate."""
    if op.kind in DATA_KINDS:
        return GenSpec(GEN_DATA, s0, data_streams.native_rule(op))
    if op.arity > GEN_MAX_ARITY or op.fmt.width not in (32, 64):
        return None
    if op.kind == "libm":
        domain = libm_streams.domain(op.name, op.fmt)
        return GenSpec(GEN_LIBM, s0, (op.arity, op.fmt.width, *(int(x) for d in domain for x in d)))
    return GenSpec(GEN_MIX, s0, (op.arity, op.fmt.width))


#: RUN_SHM requests in flight through a shared region: while the host computes one,
#: the harness hashes the one before and generates the one after (double buffering).
SHM_IN_FLIGHT = 2


def _align(n: int) -> int:
    return (n + 63) & ~63  # a cache line: no slot shares one with its neighbour


def _slot_bytes(op: Op, size: int, generated: bool = False) -> int:
    """A chunk's span of the region: its inputs (none when the host generates them),
    then its outputs."""
    return (0 if generated else _align(size * op.in_bytes)) + _align(size * op.out_bytes)


#: Inputs per RUN_SHM request, at most: every request costs a wake-up of a sleeping
#: process on each side, which small chunks share; but the slots of the requests in
#: flight should stay in cache between the generator, the host's copies and the leaf
#: hash.  At a run's chunks (65,536 vectors) that is two chunks of a binary or ternary
#: f64 op (benchmarks/bench_transport.py --op f64.fma.rne: median 0.90 to 0.91 of
#: in-process with two, 0.87 to 0.88 with five).
SHM_BATCH_BYTES = 3 << 20

#: Vectors per RUN_GEN request, at most: the harness only hashes the outputs of such
#: a request, so nothing of its own has to stay in cache, and fewer requests cost
#: fewer wake-ups: half a run's stream per request (8 chunks of 65,536) cost the
#: harness 3.7 to 4.2 ns a vector of f64.fma.rne against 4.0 to 5.0 with two chunks,
#: and still leaves two requests per stream to overlap.
SHM_GEN_VECTORS = 1 << 19
#: and at most this many output bytes (half a stream of an f64 op's 8-byte outputs):
#: the region's pages a request's outputs touch are allocated, and zeroed when a
#: kept region is handed on, so a hash op's 64-byte outputs would otherwise fill the
#: whole region.
SHM_GEN_OUT_BYTES = 4 << 20


def _shm_group(op: Op, size: int, region_size: int, generated: bool = False) -> int:
    """Chunks per RUN_SHM request (up to SHM_BATCH_BYTES of inputs) or RUN_GEN request
    (up to SHM_GEN_VECTORS vectors and SHM_GEN_OUT_BYTES of outputs), an even number when more than one, so that their
    leaves go in pairs (span_leaves); 0 when even one chunk per request does not fit
    the region twice (inline then)."""
    per = max(1, min(4096, min(SHM_GEN_VECTORS // max(1, size), SHM_GEN_OUT_BYTES // max(1, size * op.out_bytes))
                     if generated else SHM_BATCH_BYTES // max(1, size * op.in_bytes)))
    if per > LEAF_LANES:
        per -= per % LEAF_LANES
    return min(per, region_size // (SHM_IN_FLIGHT * _slot_bytes(op, size, generated)))


def _evaluate_shm(probe: RemoteProbe, region: SharedRegion, group: int, op: Op, s0: Any,
                  count: int, chunk_size: int, on_chunk: ChunkCallback | None,
                  on_outputs: OutputsCallback | None = None,
                  known: KnownLeaf | None = None, spec: GenSpec | None = None) -> list[bytes]:
    """The hot loop through the shared region (docs/wire-protocol.md, "Shared
    memory"): the generator writes each chunk straight into its slot of the region,
    a RUN_SHM request names ``group`` of them, and their leaves are hashed from the
    region once the host has answered, while the next request is already being
    computed.  With ``spec`` the host generates the inputs itself (RUN_GEN) and a
    slot holds only outputs.  The slots are reused by every stream on this probe;
    one probe call and one leaf per chunk, as in process."""
    size = min(chunk_size, count)
    generated = spec is not None
    slot = _slot_bytes(op, size, generated)
    in_span = 0 if generated else _align(size * op.in_bytes)
    gen = None if generated else native_generator(op, s0)
    base, view = region.ptr, region.view
    out_bytes = op.out_bytes
    starts = range(0, count, chunk_size)
    requests = range(0, len(starts), group)
    pending: deque[list[tuple[int, int, int]]] = deque()  # per request: (chunk, n, out_off)
    leaves: list[bytes] = []
    region.lend(min(len(requests), SHM_IN_FLIGHT) * group * slot)

    def issue(r: int) -> None:
        first = requests[r]
        at = (r % SHM_IN_FLIGHT) * group * slot
        items, chunks = [], []
        for index in range(first, min(first + group, len(starts))):
            n = min(chunk_size, count - starts[index])
            if gen is None:
                items.append((starts[index], at, n))
            else:
                gen(starts[index], n, base + at)
                items.append((at, at + in_span, n))
            chunks.append((index, n, at + in_span))
            at += slot
        if spec is not None:
            probe.submit_gen(op, spec, items)
        else:
            probe.submit_shm(op, items)
        pending.append(chunks)

    try:
        for r in range(min(SHM_IN_FLIGHT, len(requests))):
            issue(r)
        r = 0
        while pending:
            probe.collect_shm()
            chunks = pending.popleft()
            done: list[tuple[int, int, bytes]] = []
            told = ([known(index, view[out_off : out_off + n * out_bytes]) for index, n, out_off in chunks]
                    if known is not None else [None] * len(chunks))
            hashed = iter(span_leaves([(base + out_off, n * out_bytes)
                                       for (_i, n, out_off), t in zip(chunks, told, strict=True)
                                       if t is None]))
            for (index, n, out_off), t in zip(chunks, told, strict=True):
                leaf = t if t is not None else next(hashed)
                leaves.append(leaf)
                done.append((index, n, leaf))
                if on_outputs is not None:
                    on_outputs(index, leaf, view[out_off : out_off + n * out_bytes])
            if r + SHM_IN_FLIGHT < len(requests):
                issue(r + SHM_IN_FLIGHT)
            r += 1
            if on_chunk is not None:
                for index, n, leaf in done:
                    on_chunk(index, n, leaf)
    finally:
        if probe.shm_inflight:  # an error or an interrupt: no answer may be left owed
            probe.drain_shm()
    return leaves


def _evaluate_remote(probe: RemoteProbe, op: Op, s0: Any, count: int, chunk_size: int,
                     on_chunk: ChunkCallback | None,
                     on_outputs: OutputsCallback | None = None) -> list[bytes]:
    """The hot loop for a probe behind the wire protocol: several chunks per RUN
    request (one frame, one round trip), each still its own probe call and leaf."""
    size = min(chunk_size, count)
    per = max(1, min(4096, REMOTE_BATCH_BYTES // max(1, size * op.in_bytes)))
    bufs = [(probe.new_buffer(size * op.in_bytes), probe.new_buffer(size * op.out_bytes))
            for _ in range(min(per, -(-count // chunk_size)))]
    views = [memoryview(_probe_ffi.buffer(o)) for _i, o in bufs]
    gen = native_generator(op, s0)
    out_bytes = op.out_bytes
    leaves: list[bytes] = []
    starts = list(range(0, count, chunk_size))
    for first in range(0, len(starts), per):
        group = starts[first : first + per]
        items = []
        for (inbuf, outbuf), start in zip(bufs, group, strict=False):
            n = min(chunk_size, count - start)
            gen(start, n, inbuf)
            items.append((inbuf, outbuf, n))
        probe.run_batch(op, items)
        for j, (_i, _o, n) in enumerate(items):
            h = hashlib.sha256(b"\x00")
            h.update(views[j][: n * out_bytes])
            leaf = h.digest()
            leaves.append(leaf)
            if on_outputs is not None:
                on_outputs(first + j, leaf, views[j][: n * out_bytes])
            if on_chunk is not None:
                on_chunk(first + j, n, leaf)
    return leaves


def _evaluate_python(probe: Probe | RemoteProbe, op: Op, seed: int, count: int, chunk_size: int,
                     on_chunk: ChunkCallback | None,
                     on_outputs: OutputsCallback | None = None) -> list[bytes]:
    leaves: list[bytes] = []
    for index, start in enumerate(range(0, count, chunk_size)):
        n = min(chunk_size, count - start)
        packed = chunk_inputs(op, seed, start, n) if op.kind in DATA_KINDS else \
            pack_inputs(op, vectors(op, seed, start, n))
        out = probe.run(op, packed, n)
        leaf = hashlib.sha256(b"\x00" + out).digest()
        leaves.append(leaf)
        if on_outputs is not None:
            on_outputs(index, leaf, memoryview(out))
        if on_chunk is not None:
            on_chunk(index, n, leaf)
    return leaves


def chunk_outputs(probe: Probe | RemoteProbe, op: Op, seed: int, start: int,
                  n: int) -> tuple[list[tuple[int, ...]], list[int]]:
    """Re-run one chunk (vectors ``start .. start+n-1``) and keep every input and
    output, to expand a divergent Merkle leaf into the exact vector.  One probe call."""
    packed = chunk_inputs(op, seed, start, n)
    out = probe.run(op, packed, n)
    return op.unpack_inputs(packed, n), op.unpack_outputs(out, n)
