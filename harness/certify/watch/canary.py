"""The canary: a rotating slice of the certified streams, checked against the roots
the report recorded.

A report records, for each stream test, the Merkle root (``root``) of the leaves the
certified machine computed over the chunks it evaluated (all of them under
``stream_scale`` 100, the first few under a smaller scale).  The vector set holds the
golden leaf of every chunk.  So each stream row becomes canary *units*:

* **chunk units** when the report's root is the root of the golden leaves over the
  same chunks (the certified machine computed the golden outputs, as every passing
  stream did): one unit per chunk.  The probe computes that chunk again and its leaf,
  with the chunk's audit path (RFC 9162 inclusion proof, built once from the golden
  leaves), must give the report's root.  A chunk is 65,536 vectors (2,048 for the
  data ops): one probe call, about a millisecond for a float op.  A leaf that does
  not fit is expanded to the first differing vector by the references, as the
  certification does (``judge.vectors.locate``).
* **whole units** when it is not (an advisory suite's stream that differed from the
  golden values at certification, e.g. a libm that is not correctly rounded): the
  certified machine's own leaves are not recorded anywhere, only their root, so the
  whole certified span is computed again and its root compared.  Those streams are
  the libm ones, one or two chunks each.

The units are dealt, heaviest first (an estimate by op kind), round-robin into
``slices`` slices, as many as there are cycles in the coverage period (a day by
default: 144 slices at the 10-minute interval), and a cycle checks the slice its
time falls in: ``(epoch seconds // interval) mod slices``.  So consecutive cycles,
of one long-running watch or of ``--once`` runs from a timer, check consecutive
slices, and every certified chunk is checked once per period.  Checking every chunk
of the default development report (about 1,200 units) costs 3 to 4 s of CPU in all,
most of it the pure-Python generation of the data ops' inputs: under 30 ms a cycle
over a day (``benchmarks/bench_watch.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...errors import ArgumentsRejected, ProbeError, TeecertError, UnsupportedOp
from ...ops import DATA_KINDS, Op
from ...vectors import merkle
from ...vectors.store import Stream
from ...vectors.streams import data as data_streams
from ...vectors.streams.inputs import chunk_inputs
from ..judge.vectors import locate
from ..session import TrackedProbe
from .model import Drift

#: Relative CPU cost of one vector, by op kind (measured on the reference probe:
#: the data ops' inputs are generated in Python, the others in C).
WEIGHTS = {"float": 1, "libm": 2, "int": 150, "hash": 1500}


@dataclass(frozen=True)
class Unit:
    """One piece of the canary: chunk ``chunk`` of a stream (checked with its audit
    ``path`` against the report's ``root`` over ``chunks`` leaves), or the whole
    certified span (``chunk`` None)."""

    op_id: str
    test: str
    chunk: int | None
    chunks: int
    root: bytes
    path: tuple[bytes, ...]
    vectors: int
    cost: int


@dataclass
class Plan:
    units: list[Unit]
    #: indices into ``units``, one list per slice
    slices: list[list[int]]
    #: stream rows of the report that are not watched, and why
    notes: list[str] = field(default_factory=list)

    def slice_at(self, epoch_seconds: float, interval: float) -> int:
        """The slice a cycle at this time checks."""
        return int(epoch_seconds // interval) % len(self.slices) if self.slices else 0

    @property
    def chunk_units(self) -> int:
        return sum(u.chunk is not None for u in self.units)


def build_plan(results: Sequence[Mapping[str, Any]], streams: Mapping[str, Stream], *,
               interval: float, cover: float) -> Plan:
    """The canary units of a report's stream rows, dealt into one slice per cycle of
    the ``cover`` period (seconds) at ``interval`` (seconds)."""
    units: list[Unit] = []
    notes: list[str] = []
    seen: set[str] = set()
    for row in sorted(results, key=lambda r: str(r.get("id"))):
        if row.get("kind") != "stream" or not row.get("root") or not row.get("op"):
            continue
        op_id, test = str(row["op"]), str(row["id"])
        st = streams.get(op_id)
        if st is None:
            notes.append(f"{test}: the vector set has no stream for {op_id}")
            continue
        if op_id in seen:
            notes.append(f"{test}: a second stream row for {op_id}")
            continue
        seen.add(op_id)
        vectors = int(row.get("vectors") or 0)
        chunks = -(-vectors // st.chunk_size)
        if not 1 <= chunks <= st.chunks or vectors != min(st.count, chunks * st.chunk_size):
            notes.append(f"{test}: {vectors} vectors are not whole chunks of the {op_id} stream")
            continue
        try:
            root = bytes.fromhex(str(row["root"]))
        except ValueError:
            notes.append(f"{test}: root is not hex")
            continue
        golden = list(st.leaves[:chunks])
        weight = WEIGHTS.get(st.op.kind, 1)
        if merkle.root(golden) == root:
            for i in range(chunks):
                _start, n = st.chunk_span(i)
                units.append(Unit(op_id, test, i, chunks, root, tuple(merkle.inclusion_path(golden, i)),
                                  n, n * weight))
        else:
            units.append(Unit(op_id, test, None, chunks, root, (), vectors, vectors * weight))
    count = min(len(units), max(1, math.ceil(cover / interval)))
    order = sorted(range(len(units)), key=lambda i: (-units[i].cost, units[i].op_id, units[i].chunk or 0))
    slices: list[list[int]] = [[] for _ in range(count)]
    for k, i in enumerate(order):
        slices[k % count].append(i)
    return Plan(units, slices, notes)


def chunk_leaf(probe: Any, st: Stream, index: int) -> bytes:
    """The Merkle leaf of chunk ``index`` of ``st`` as ``probe`` computes it now: one
    probe call.  A data op's inputs are generated here rather than through the
    run's chunk cache, which a watch touring every chunk would only fill."""
    start, n = st.chunk_span(index)
    op: Op = st.op
    packed = (data_streams.packed_inputs(op, st.seed, start, n) if op.kind in DATA_KINDS
              else chunk_inputs(op, st.seed, start, n))
    return merkle.leaf_hash(probe.run(op, packed, n))


def _describe(op: Op, d: Mapping[str, Any]) -> str:
    args = ", ".join(x if len(x) <= 40 else f"{x[:32]}...({len(x) // 2} bytes)" for x in d["inputs"])
    ulp = f" ({d['ulp']} ulp)" if d.get("ulp") is not None else ""
    got = d["got"] if len(d["got"]) <= 40 else d["got"][:32] + "..."
    expected = d["expected"] if len(d["expected"]) <= 40 else d["expected"][:32] + "..."
    return f"{op.id}({args}) = {got}, expected {expected}{ulp}"


def _localize(probe: Any, st: Stream, unit: Unit) -> Drift:
    """The drift of a chunk unit whose leaf does not fit: the first differing vector,
    found by re-running the chunk and comparing with the references."""
    assert unit.chunk is not None
    start, n = st.chunk_span(unit.chunk)
    head = (f"{unit.op_id}: chunk {unit.chunk} of {unit.chunks} (vectors {start}..{start + n - 1}) "
            f"no longer gives the root {unit.root.hex()[:16]} the report recorded for {unit.test}")
    detail: dict[str, Any] = {"op": unit.op_id, "test": unit.test, "chunk": unit.chunk,
                              "report_root": unit.root.hex(), "index": None}
    try:
        d = locate(TrackedProbe(probe), st, unit.chunk)
    except ProbeError:
        raise
    except TeecertError as exc:  # the references could not decide a golden value
        return Drift("canary", unit.op_id, f"{head}; the vector could not be located: {exc}", detail)
    if d is None:
        return Drift("canary", unit.op_id,
                     f"{head}; computing the chunk again gave the golden outputs: the probe is "
                     "not deterministic", detail)
    detail.update(index=d["index"], inputs=[x[:128] for x in d["inputs"]], expected=d["expected"][:128],
                  got=d["got"][:128], ulp=d.get("ulp"))
    return Drift("canary", unit.op_id, f"{head}; first differing vector {d['index']}: {_describe(st.op, d)}",
                 detail)


def check_slice(probe: Any, plan: Plan, index: int,
                streams: Mapping[str, Stream]) -> tuple[dict[str, Any], list[Drift]]:
    """Compute slice ``index`` of ``plan`` on ``probe``; (summary, drift).  A probe
    that fails (crash, hang, garbage frame) raises its ``ProbeError``: the caller
    records it as a fault."""
    drift: list[Drift] = []
    members = [plan.units[i] for i in plan.slices[index]] if plan.slices else []
    chunks = vectors = 0
    diverged: list[str] = []
    for unit in members:
        st = streams[unit.op_id]
        try:
            if unit.chunk is not None:
                leaf = chunk_leaf(probe, st, unit.chunk)
                chunks += 1
                vectors += unit.vectors
                if merkle.root_from_path(leaf, unit.chunk, unit.chunks, unit.path) != unit.root:
                    drift.append(_localize(probe, st, unit))
                    diverged.append(unit.op_id)
                continue
            leaves = [chunk_leaf(probe, st, i) for i in range(unit.chunks)]
            chunks += unit.chunks
            vectors += unit.vectors
            got = merkle.root(leaves)
            if got != unit.root:
                diverged.append(unit.op_id)
                drift.append(Drift(
                    "canary", unit.op_id,
                    f"{unit.op_id}: the certified span ({unit.chunks} chunks, {unit.vectors} vectors) gives "
                    f"root {got.hex()[:16]}, the report recorded {unit.root.hex()[:16]} for {unit.test} "
                    "(the certified outputs were not the golden ones, so only the root can be compared)",
                    {"op": unit.op_id, "test": unit.test, "chunk": None, "report_root": unit.root.hex(),
                     "root": got.hex()}))
        except (UnsupportedOp, ArgumentsRejected) as exc:
            diverged.append(unit.op_id)
            drift.append(Drift("canary", unit.op_id,
                               f"{unit.op_id}: the probe no longer computes it ({exc})",
                               {"op": unit.op_id, "test": unit.test}))
    summary = {
        "slice": index,
        "slices": len(plan.slices),
        "units": len(members),
        "chunks": chunks,
        "vectors": vectors,
        "ops": sorted({u.op_id for u in members}),
        "diverged": sorted(set(diverged)),
    }
    return summary, drift
