"""``teecert vectors generate`` and ``teecert vectors check``.

Generation computes every golden value with both references (``reference.golden``
raises if they disagree) and writes the set deterministically, so that running it
again reproduces every file byte for byte.  Stream chunks are independent (the
generator is counter based), so they are spread over worker processes.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import ops
from .._internal.atomic import write_atomic
from ..errors import MalformedInput
from . import design, merkle
from . import store as vectors
from .streams import data as data_streams
from .streams.inputs import chunk_inputs as packed_inputs


def chunk_inputs(op: ops.Op, seed: int, start: int, n: int) -> list[tuple[int, ...]]:
    """Inputs of one stream chunk (the C generator when built; it is tested equal to
    the Python specification)."""


    return op.unpack_inputs(packed_inputs(op, seed, start, n), n)


def pack_outputs(op: ops.Op, outs: list[int]) -> bytes:
    return op.pack_outputs(outs)


def golden_chunk(op_id: str, seed: int, start: int, n: int) -> bytes:
    """Merkle leaf of the golden outputs of one chunk, both references agreeing."""
    from ..reference import (
        golden,  # the references import gmpy2 (~0.1 s): only golden values need them
    )

    op = ops.get(op_id)
    outs = golden.evaluate_many(op_id, chunk_inputs(op, seed, start, n))
    return merkle.leaf_hash(pack_outputs(op, outs))


def _golden_chunk_task(args: tuple[str, int, int, int]) -> tuple[str, int, bytes]:
    op_id, seed, start, n = args
    return op_id, start, golden_chunk(op_id, seed, start, n)


def explicit_file(op: ops.Op) -> str:
    from ..reference import (
        golden,  # the references import gmpy2 (~0.1 s): only golden values need them
    )

    groups = design.groups_for(op)
    rendered = []
    for g in groups:
        expected = golden.evaluate_many(op.id, [c[0] for c in g.cases])
        cases = [(inp, exp, flags, cm) for (inp, flags, cm), exp in zip(g.cases, expected, strict=True)]
        rendered.append((g.name, g.comment, cases))
    return vectors.explicit_text(op, rendered)


def generate(
    out: Path,
    *,
    jobs: int = 0,
    op_ids: list[str] | None = None,
    chunks: int = vectors.STREAM_CHUNKS,
    progress: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Write the whole vector set into ``out`` and return the manifest's file map."""
    say = progress or (lambda _m: None)
    selected = [ops.get(o) for o in op_ids] if op_ids else list(vectors.iter_ops())
    (out / "explicit").mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for op in selected:
        text = explicit_file(op).encode()
        write_atomic(out / "explicit" / f"{op.id}.json", text)
        files[f"explicit/{op.id}.json"] = hashlib.sha256(text).hexdigest()
    say(f"explicit vectors: {len(selected)} files")

    def span(op: ops.Op) -> tuple[int, int]:
        """(chunk size, vectors) of ``op``'s stream."""
        if op.kind in ops.DATA_KINDS:

            return data_streams.CHUNK_SIZE, data_streams.count_of(op)
        if op.kind == "libm":
            return vectors.CHUNK_SIZE, vectors.LIBM_CHUNKS[op.fmt.name] * vectors.CHUNK_SIZE
        return vectors.CHUNK_SIZE, chunks * vectors.CHUNK_SIZE

    tasks: list[tuple[str, int, int, int]] = []
    for op in selected:
        size, count = span(op)
        tasks.extend((op.id, vectors.STREAM_SEED, start, min(size, count - start))
                     for start in range(0, count, size))
    leaves: dict[str, dict[int, bytes]] = {op.id: {} for op in selected}
    jobs = jobs or os.cpu_count() or 1
    ctx = multiprocessing.get_context("fork")
    done = 0
    with ctx.Pool(jobs) as pool:
        for op_id, start, leaf in pool.imap_unordered(_golden_chunk_task, tasks, chunksize=1):
            leaves[op_id][start] = leaf
            done += 1
            if done % 16 == 0 or done == len(tasks):
                say(f"stream chunks: {done}/{len(tasks)}")
    by_file: dict[str, list[dict[str, Any]]] = {vectors.STREAMS: []}
    sizes: dict[str, tuple[str, int]] = {vectors.STREAMS: (vectors.GENERATOR, vectors.CHUNK_SIZE)}
    for op in selected:
        lv = [leaves[op.id][k] for k in sorted(leaves[op.id])]
        fname, gen = vectors.stream_file_of(op)
        sizes[fname] = (gen, span(op)[0])
        by_file.setdefault(fname, []).append(
            {
                "op": op.id,
                "seed": vectors.STREAM_SEED,
                "count": span(op)[1],
                "root": merkle.root(lv).hex(),
                "leaves": [x.hex() for x in lv],
            }
        )
    for fname, entries in by_file.items():
        gen, size = sizes[fname]
        text = vectors.streams_text(entries, gen, size).encode()
        write_atomic(out / fname, text)
        files[fname] = hashlib.sha256(text).hexdigest()
    write_atomic(out / vectors.MANIFEST, vectors.manifest_text(files).encode())
    return files


def check(
    path: Path | None = None,
    *,
    explicit_sample: int = 2000,
    stream_chunks: int = 2,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Re-verify the manifest and recompute a random sample of goldens with both
    references.  Raises ``MalformedInput`` naming the file on any mismatch."""
    say = progress or (lambda _m: None)
    vs = vectors.load_set(path)
    say(f"manifest: {len(vs.files)} files match, set digest {vs.digest}")
    seed = seed if seed is not None else random.SystemRandom().randrange(1 << 63)
    rng = random.Random(seed)
    from ..reference import (
        golden,  # the references import gmpy2 (~0.1 s): only golden values need them
    )

    all_vectors: list[tuple[str, vectors.ExplicitVector]] = []
    for op_id in vs.explicit_ops():
        all_vectors.extend((op_id, v) for v in vs.explicit(op_id))
    sample = rng.sample(all_vectors, min(explicit_sample, len(all_vectors)))
    for op_id, v in sample:
        got = golden.evaluate(op_id, v.inputs)
        if got != v.expected:
            op = ops.get(op_id)
            raise MalformedInput(
                f"{vs.path / 'explicit' / (op_id + '.json')}: tcId {v.tc_id} expects "
                f"{op.out_hex(v.expected)}, both references give {op.out_hex(got)}"
            )
    say(f"explicit: {len(sample)} of {len(all_vectors)} vectors recomputed, all agree")
    streams = vs.streams()
    picked = rng.sample(sorted(streams), min(stream_chunks, len(streams)))
    for op_id in picked:
        st = streams[op_id]
        idx = rng.randrange(st.chunks)
        start, n = st.chunk_span(idx)
        leaf = golden_chunk(op_id, st.seed, start, n)
        if leaf != st.leaves[idx]:
            fname = vectors.stream_file_of(st.op)[0]
            raise MalformedInput(f"{vs.path / fname}: stream {op_id} chunk {idx} leaf does not match the references")
        say(f"stream {op_id}: chunk {idx} ({n} vectors) recomputed, leaf matches")
    return {
        "digest": vs.digest,
        "files": len(vs.files),
        "explicit_checked": len(sample),
        "stream_chunks_checked": len(picked),
        "seed": seed,
    }


def main_progress(msg: str) -> None:
    """Progress goes to standard output: standard error is for the one-line reason."""
    print(msg, flush=True)
