"""The comparisons the suites make, kept out of the suites so they stay readable.

Every check returns plain data for the report (``teecert_record``) and a one-line
message naming the op and the first differing vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ... import ops
from ...vectors import merkle
from ...vectors.store import ExplicitVector, Stream
from ..session import TrackedProbe


@dataclass
class Finding:
    ok: bool
    message: str
    record: dict[str, Any]


def divergence(op: ops.Op, index: int, inputs: tuple[int, ...], expected: int, got: int) -> dict[str, Any]:
    return {
        "index": index,
        "inputs": op.in_hex(inputs),
        "expected": op.out_hex(expected),
        "got": op.out_hex(got),
        # ULPs measure float results; a data op's result is right or wrong
        "ulp": ops.ulp_distance(op.result_fmt, expected, got) if op.float_format else None,
    }


def _describe(op: ops.Op, d: dict[str, Any]) -> str:
    ulp = f" ({d['ulp']} ulp)" if d.get("ulp") is not None else ""
    return f"{op.id}({', '.join(_short(x) for x in d['inputs'])}) = {d['got']}, expected {d['expected']}{ulp}"


def _short(hexval: str) -> str:
    """A long byte-string operand (a hash message, a decimal text) shortened for the
    one-line message; the report's record keeps it whole."""
    return hexval if len(hexval) <= 80 else f"{hexval[:64]}...({len(hexval) // 2} bytes)"


def explicit(probe: TrackedProbe, op: ops.Op, vecs: list[ExplicitVector]) -> Finding:
    """Run every explicit vector of ``op`` in one batch and compare bit for bit."""
    got = probe.run_values(op, [v.inputs for v in vecs])
    bad = [(v, g) for v, g in zip(vecs, got, strict=True) if g != v.expected]
    expected_digest = merkle.leaf_hash(_pack(op, [v.expected for v in vecs])).hex()
    got_digest = merkle.leaf_hash(_pack(op, got)).hex()
    record: dict[str, Any] = {
        "op": op.id,
        "kind": "explicit",
        "vectors": len(vecs),
        "failures": len(bad),
        "root": got_digest,
        "expected_root": expected_digest,
        "divergence": None,
    }
    if not bad:
        return Finding(True, f"{len(vecs)} vectors match", record)
    v, g = bad[0]
    d = divergence(op, v.tc_id, v.inputs, v.expected, g)
    record["divergence"] = d
    groups = sorted({b[0].group for b in bad})
    msg = (
        f"{len(bad)} of {len(vecs)} vectors differ (groups: {', '.join(groups)}); "
        f"first tcId {v.tc_id} [{v.group}: {v.comment}]: {_describe(op, d)}"
    )
    record["message"] = msg
    return Finding(False, msg, record)


def _pack(op: ops.Op, values: list[int]) -> bytes:
    return op.pack_outputs(values)


def stream(probe: TrackedProbe, st: Stream, chunks: int) -> Finding:
    """Evaluate ``chunks`` chunks of a stream and compare their leaves with the golden
    ones; expand the first divergent chunk to the first differing vector."""
    leaves = probe.stream_leaves(st, chunks)
    expected = list(st.leaves[:chunks])
    full = chunks == st.chunks
    vectors = min(st.count, chunks * st.chunk_size)
    record: dict[str, Any] = {
        "op": st.op.id,
        "kind": "stream",
        "vectors": vectors,
        "root": merkle.root(leaves).hex(),
        "expected_root": (st.root if full else merkle.root(expected)).hex(),
        "divergence": None,
    }
    bad = [i for i, (a, b) in enumerate(zip(leaves, expected, strict=True)) if a != b]
    record["failures"] = len(bad)
    if not bad:
        return Finding(True, f"{vectors} vectors, root {record['root'][:16]} matches", record)
    first = bad[0]
    d = locate(probe, st, first)
    record["divergence"] = d
    where = _describe(st.op, d) if d else "re-running the chunk gave the golden outputs: nondeterministic probe"
    msg = (
        f"{len(bad)} of {chunks} chunks diverge; first in chunk {first}: "
        f"vector {d['index'] if d else '?'}: {where}"
    )
    record["message"] = msg
    return Finding(False, msg, record)


def locate(probe: TrackedProbe, st: Stream, chunk: int) -> dict[str, Any] | None:
    """The first vector of ``chunk`` where the probe differs from the references.

    The chunk is re-run on the probe, then compared against MPFR block by block
    (fast); the differing vector found is confirmed with both references."""
    from ...reference import (
        golden,  # the references import gmpy2 (~0.1 s): only golden values need them
    )

    inputs, outputs = probe.chunk(st, chunk)
    start, _n = st.chunk_span(chunk)
    block = 512
    for b in range(0, len(inputs), block):
        exp = golden.evaluate_mpfr_many(st.op.id, inputs[b : b + block])
        for j, (e, g) in enumerate(zip(exp, outputs[b : b + block], strict=True)):
            if e != g:
                i = b + j
                both = golden.evaluate(st.op.id, inputs[i])
                return divergence(st.op, start + i, inputs[i], both, g)
    return None  # the re-run matched the references: the probe is not deterministic
