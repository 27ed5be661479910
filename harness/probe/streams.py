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
from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from ..ops import DATA_KINDS, Op
from ..vectors.streams import mix
from ..vectors.streams.inputs import (
    chunk_inputs,
    have_accelerator,
    native_generator,
    pack_inputs,
    vectors,
    warn_slow,
)
from .library import Probe
from .library import ffi as _probe_ffi
from .remote import RemoteProbe

#: ``on_chunk(index, n, leaf)``: chunk ``index`` of ``n`` vectors has this leaf.
ChunkCallback = Callable[[int, int, bytes], object]


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
) -> list[bytes]:
    """Merkle leaves of the first ``count`` vectors of the stream ``(op, seed)`` as
    ``probe`` computes them, one leaf per chunk of ``chunk_size`` vectors (the last
    one may be shorter).  One probe call per chunk; ``on_chunk`` is told of each."""
    _check_span(op, count, chunk_size)
    if op.kind in DATA_KINDS:  # teecert-data-v1 is Python only (small streams)
        return _evaluate_python(probe, op, seed, count, chunk_size, on_chunk)
    if not have_accelerator():
        warn_slow()
        return _evaluate_python(probe, op, seed, count, chunk_size, on_chunk)

    s0 = mix.initial_state(op.id, seed)
    size = min(chunk_size, count)
    if isinstance(probe, RemoteProbe) and size * op.in_bytes < REMOTE_BATCH_BYTES:
        return _evaluate_remote(probe, op, s0, count, chunk_size, on_chunk)
    inbuf = probe.new_buffer(size * op.in_bytes)
    outbuf = probe.new_buffer(size * op.out_bytes)
    out_view = memoryview(_probe_ffi.buffer(outbuf))
    gen = native_generator(op, s0)
    run_into = probe.run_into
    out_bytes = op.out_bytes
    sha256 = hashlib.sha256
    leaves: list[bytes] = []
    for index, start in enumerate(range(0, count, chunk_size)):
        n = min(chunk_size, count - start)
        gen(start, n, inbuf)
        run_into(op, inbuf, outbuf, n)
        h = sha256(b"\x00")
        h.update(out_view[: n * out_bytes])
        leaf = h.digest()
        leaves.append(leaf)
        if on_chunk is not None:
            on_chunk(index, n, leaf)
    return leaves


def _evaluate_remote(probe: RemoteProbe, op: Op, s0: Any, count: int, chunk_size: int,
                     on_chunk: ChunkCallback | None) -> list[bytes]:
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
            if on_chunk is not None:
                on_chunk(first + j, n, leaf)
    return leaves


def _evaluate_python(probe: Probe | RemoteProbe, op: Op, seed: int, count: int, chunk_size: int,
                     on_chunk: ChunkCallback | None) -> list[bytes]:
    leaves: list[bytes] = []
    for index, start in enumerate(range(0, count, chunk_size)):
        n = min(chunk_size, count - start)
        packed = chunk_inputs(op, seed, start, n) if op.kind in DATA_KINDS else \
            pack_inputs(op, vectors(op, seed, start, n))
        out = probe.run(op, packed, n)
        leaf = hashlib.sha256(b"\x00" + out).digest()
        leaves.append(leaf)
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
