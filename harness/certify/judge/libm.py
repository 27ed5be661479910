"""The libm suite's comparisons: how far the platform's libm is from correctly rounded.

A libm op's golden value is the correctly rounded result (``reference.libm``).  A
probe calls the platform's libm, which is rarely correctly rounded everywhere, so
beside the pass/fail a run records, per function, how many outputs differ from
correctly rounded and the largest error in ULPs (of the exact value).  A profile
decides what passes (docs/profile-format.md, "libm"): bit-exact with correctly
rounded, or equal to the digest it pins for its approved environment (the
``root`` a report of that environment gives); whether a failure costs the verdict
is the suite's ``required`` / ``advisory`` level.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import ops
from ..._internal.cachedir import cache_dir, put
from ...vectors import merkle
from ...vectors.generate import pack_outputs
from ...vectors.store import ExplicitVector, Stream
from ..session import TrackedProbe
from .vectors import Finding, divergence


@dataclass
class Tally:
    """Outputs compared with correctly rounded: how many differ, the worst error."""

    vectors: int = 0
    differ: int = 0
    max_ulp: float = 0.0
    first: dict[str, Any] | None = None

    def add(self, op: ops.Op, index: int, args: Sequence[int], want: int, got: int) -> None:
        from ...reference import libm  # mpmath costs ~0.1 s to import: only libm ops need it

        self.differ += 1
        err = libm.ulp_error(op.name, op.fmt, args, got, cr=want)
        self.max_ulp = max(self.max_ulp, err)
        if self.first is None:
            self.first = divergence(op, index, tuple(args), want, got)

    def describe(self) -> str:
        worst = "inf" if self.max_ulp == float("inf") else f"{self.max_ulp:.3f}"
        return (f"{self.differ} of {self.vectors} outputs differ from correctly rounded "
                f"(max error {worst} ulp)")


def pinned_for(pins: Mapping[str, Any], op_id: str, kind: str) -> str | None:
    """The digest the profile pins for ``op_id``'s ``kind`` ("explicit"/"stream")."""
    entry = pins.get(op_id)
    return str(entry[kind]) if isinstance(entry, dict) and kind in entry else None


def _verdict(op: ops.Op, tally: Tally, got_root: str, golden_root: str, pinned: str | None,
             what: str) -> tuple[bool, str]:
    summary = f"{what}: {tally.describe()}"
    if got_root == golden_root:
        return True, summary
    if pinned is not None and got_root == pinned:
        return True, f"{summary}; equal to the root the profile pins for its approved environment"
    first = tally.first
    where = (f"; first: {op.id}({', '.join(first['inputs'])}) = {first['got']}, expected "
             f"{first['expected']}" if first else "")
    pin = "" if pinned is None else f"; not the pinned root {pinned[:16]} either"
    return False, summary + where + pin


def explicit(probe: TrackedProbe, op: ops.Op, vecs: list[ExplicitVector],
             pins: Mapping[str, Any]) -> Finding:
    """The hard cases of one function, bit for bit against correctly rounded."""
    got = probe.run_values(op, [v.inputs for v in vecs])
    tally = Tally(vectors=len(vecs))
    for v, g in zip(vecs, got, strict=True):
        if g != v.expected:
            tally.add(op, v.tc_id, v.inputs, v.expected, g)

    got_root = merkle.leaf_hash(pack_outputs(op, got)).hex()
    golden_root = merkle.leaf_hash(pack_outputs(op, [v.expected for v in vecs])).hex()
    ok, msg = _verdict(op, tally, got_root, golden_root, pinned_for(pins, op.id, "explicit"),
                       f"{len(vecs)} hard cases")
    return Finding(ok, msg, {"op": op.id, "kind": "explicit", "vectors": len(vecs),
                             "failures": tally.differ, "root": got_root,
                             "expected_root": golden_root, "divergence": tally.first,
                             "message": msg})


def _cache_file(st: Stream, index: int, what: str) -> Path:
    digest = hashlib.sha256(st.leaves[index] + what.encode()).hexdigest()[:32]
    return cache_dir() / "libm" / f"{st.op.id}-{index}-{digest}.json"


def _chunk_tally(probe: TrackedProbe, st: Stream, index: int, leaf: bytes) -> dict[str, Any]:
    """How chunk ``index``'s outputs (whose leaf is ``leaf``) differ from correctly
    rounded: count, worst ULP error, first difference.  The chunk is run again; its
    correctly rounded outputs come from the accelerator's long double libm with MPFR
    wherever that rounding is in doubt (``reference.libm.cr_candidates``), and from
    MPFR alone when that is not at hand or does not reproduce the committed leaf:
    either way they are accepted only when they hash to the committed leaf.
    Deterministic in (committed leaf, probe leaf), so it is cached under the user's
    cache folder (``probe_build.cache_dir``): a cache entry is a convenience, and one
    that does not parse is recomputed."""
    path = _cache_file(st, index, leaf.hex())
    with contextlib.suppress(OSError, ValueError):
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, dict) and set(cached) == {"differ", "max_ulp", "first"}:
            return cached
    op = st.op
    start, n = st.chunk_span(index)
    if isinstance(probe, TrackedProbe):
        packed, outputs = probe.chunk_packed(st, index)
        _check_rerun(op, index, outputs, leaf)
        out = _fast_tally(op, start, n, packed, outputs, st.leaves[index])
        if out is None:
            out = tally_exact(op, start, op.unpack_inputs(packed, n),
                              op.unpack_outputs(outputs, n), st.leaves[index], index)
    else:
        args, got = probe.chunk(st, index)
        _check_rerun(op, index, pack_outputs(op, got), leaf)
        out = tally_exact(op, start, args, got, st.leaves[index], index)
    put(path, json.dumps(out).encode())
    return out


def _check_rerun(op: ops.Op, index: int, outputs: bytes, leaf: bytes) -> None:
    if merkle.leaf_hash(outputs) != leaf:
        raise AssertionError(f"{op.id}: chunk {index} gave other outputs when run again: "
                             "the probe is not deterministic")  # the stress suite says more


def tally_exact(op: ops.Op, start: int, args: Sequence[tuple[int, ...]], outputs: Sequence[int],
                committed: bytes, index: int) -> dict[str, Any]:
    """The chunk tally of :func:`_chunk_tally` (vectors ``start ..`` with these inputs
    and outputs, ``committed`` the leaf of the correctly rounded outputs) with every
    correctly rounded output computed by MPFR and every error by ``libm.ulp_error``:
    the specification of the fast tally, and its fallback."""
    from ...reference import (
        golden,  # the references import gmpy2 (~0.1 s): only golden values need them
    )

    want = golden.evaluate_mpfr_many(op.id, args)
    if merkle.leaf_hash(pack_outputs(op, want)) != committed:
        raise AssertionError(f"{op.id}: MPFR does not reproduce the committed leaf of "
                             f"chunk {index}: this host's reference arithmetic is faulty")
    t = Tally()
    for i, (w, g) in enumerate(zip(want, outputs, strict=True)):
        if w != g:
            t.add(op, start + i, args[i], w, g)
    return {"differ": t.differ, "max_ulp": repr(t.max_ulp), "first": t.first}


def _fast_tally(op: ops.Op, start: int, n: int, packed: bytes, outputs: bytes,
                committed: bytes) -> dict[str, Any] | None:
    """:func:`tally_exact`'s result without MPFR on every vector, or None when the
    accelerator cannot give it (not built, not wide enough, or candidate outputs
    that do not hash to ``committed``)."""
    from ...reference import libm  # gmpy2 and mpmath (~0.1 s): only libm ops need them

    want = libm.cr_candidates(op.name, op.fmt, packed, n)
    if want is None or merkle.leaf_hash(want) != committed:
        return None
    d = libm.differences(op.name, op.fmt, packed, want, outputs, n)
    if d is None:
        return None
    fmt = op.fmt
    size = fmt.width // 8
    word = struct.Struct("<Q" if size == 8 else "<I")
    vec = struct.Struct("<" + ("Q" if size == 8 else "I") * op.arity)
    step = op.in_bytes

    def exact(j: int) -> float:
        i = d.indices[j]
        return libm.ulp_error(op.name, fmt, vec.unpack_from(packed, i * step),
                              word.unpack_from(outputs, i * size)[0],
                              cr=word.unpack_from(want, i * size)[0])

    # The worst error is among the vectors whose approximation may reach the largest
    # lower bound of any (and those with no reliable approximation): only those are
    # measured exactly.  The slack is the approximation's bound with room for this
    # arithmetic's own roundings.  An approximation found off by more than that where
    # it is checked discredits them all, and every error is measured exactly.
    approx = d.approx
    bound = d.bound * (1 + 2.0**-20)
    top = max((a for a in approx if math.isfinite(a)), default=None)
    low = -math.inf if top is None else top - bound - top * 2.0**-45
    errs = {j: exact(j) for j, a in enumerate(approx)
            if not a + bound + a * 2.0**-45 < low}  # NaN and inf compare false: kept
    if any(math.isfinite(approx[j]) and abs(e - approx[j]) > bound + approx[j] * 2.0**-45
           for j, e in errs.items()):
        errs = {j: errs[j] if j in errs else exact(j) for j in range(len(approx))}
    max_ulp = 0.0
    for e in errs.values():
        max_ulp = max(max_ulp, e)
    first = None
    if d.indices:
        i = d.indices[0]
        first = divergence(op, start + i, vec.unpack_from(packed, i * step),
                           word.unpack_from(want, i * size)[0],
                           word.unpack_from(outputs, i * size)[0])
    return {"differ": len(d.indices), "max_ulp": repr(max_ulp), "first": first}


def stream(probe: TrackedProbe, st: Stream, pins: Mapping[str, Any],
           chunks: int | None = None) -> Finding:
    """The first ``chunks`` chunks (default all) of one function's stream.  Chunks
    whose leaf differs from the golden one are compared output by output with the
    correctly rounded results, to count and measure the differences."""
    op = st.op
    chunks = st.chunks if chunks is None else chunks
    leaves = probe.stream_leaves(st, chunks)
    vectors = min(st.count, chunks * st.chunk_size)
    tally = Tally(vectors=vectors)
    for index, (leaf, want_leaf) in enumerate(zip(leaves, st.leaves[:chunks], strict=True)):
        if leaf == want_leaf:
            continue
        c = _chunk_tally(probe, st, index, leaf)
        tally.differ += int(c["differ"])
        tally.max_ulp = max(tally.max_ulp, float(c["max_ulp"]))
        if tally.first is None:
            tally.first = c["first"]
    full = chunks == st.chunks
    got_root = merkle.root(leaves).hex()
    golden_root = (st.root if full else merkle.root(list(st.leaves[:chunks]))).hex()
    ok, msg = _verdict(op, tally, got_root, golden_root, pinned_for(pins, op.id, "stream"),
                       f"{vectors} stream vectors")
    return Finding(ok, msg, {"op": op.id, "kind": "stream", "vectors": vectors,
                             "failures": tally.differ, "root": got_root,
                             "expected_root": golden_root, "divergence": tally.first,
                             "message": msg})
