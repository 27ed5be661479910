"""The challenge suite's judgement: a fresh stream per op, committed, then sampled.

``vectors.challenge`` derives the stream and chooses the chunks; here the probe
evaluates the whole fresh stream (its Merkle root is the commitment), the chosen
chunks are run again (the same leaf, or the probe is not deterministic) and
recomputed with both references.  The result row carries the chosen chunks with
their audit paths so that ``verify`` repeats every step but the probe's.
"""

from __future__ import annotations

from typing import Any

from ... import ops
from ...vectors import challenge, merkle
from ...vectors.generate import pack_outputs
from ...vectors.store import Stream
from ..session import TrackedProbe
from .vectors import Finding, divergence


def golden_outputs(op: ops.Op, inputs: list[tuple[int, ...]]) -> list[int]:
    """Both references' outputs of ``inputs`` (they must agree, or this raises)."""
    from ...reference import golden  # the references import gmpy2: only golden values need them

    return golden.evaluate_many(op.id, inputs)


def run(probe: TrackedProbe, op: ops.Op, value: bytes, fixed_count: int) -> Finding:
    """Evaluate ``op``'s fresh stream for the challenge ``value`` and judge the chosen
    chunks; the finding's record is the result row's fields, ``challenge`` included."""
    n = challenge.count(fixed_count)
    fresh = Stream(op, challenge.seed(value, op.id), n, challenge.CHUNK, b"", ())
    leaves = probe.stream_leaves(fresh, challenge.chunks(n))
    root = merkle.root(leaves)
    proofs: list[challenge.Proof] = []
    failures = 0
    first: dict[str, Any] | None = None
    problem = ""
    for index in challenge.sample(value, op.id, root, n):
        inputs, outputs = probe.chunk(fresh, index)
        packed = pack_outputs(op, outputs)
        if merkle.leaf_hash(packed) != leaves[index]:
            problem = (f"chunk {index} gave other outputs when run again: the probe is not "
                       "deterministic")
            failures += 1
        proofs.append(challenge.proof(leaves, index, packed))
        want = golden_outputs(op, inputs)
        start, _n = challenge.chunk_span(n, index)
        for i, (w, g) in enumerate(zip(want, outputs, strict=True)):
            if w != g:
                failures += 1
                if first is None:
                    first = divergence(op, start + i, inputs[i], w, g)
    checked = sum(challenge.chunk_span(n, p.chunk)[1] for p in proofs)
    what = (f"fresh stream of {n} vectors, root {root.hex()[:16]}; {len(proofs)} chunks "
            f"chosen by that root ({checked} vectors) recomputed")
    if failures == 0:
        message = f"{what}: all equal to the references"
    elif problem:
        message = f"{what}: {problem}"
    else:
        assert first is not None
        message = (f"{what}: {failures} differ; first: {op.id} vector {first['index']}: "
                   f"{op.id}({', '.join(first['inputs'])}) = {first['got']}, expected "
                   f"{first['expected']}")
    record = {"op": op.id, "kind": "stream", "vectors": n, "failures": failures,
              "root": root.hex(), "expected_root": None, "divergence": first,
              "message": message, "challenge": challenge.record(value, op, n, proofs)}
    return Finding(failures == 0, message, record)


__all__ = ["golden_outputs", "run"]
