"""Re-checking a report's fresh challenge (``vectors.challenge``) without the probe.

For each challenge-suite row that claims a result, the verifier re-derives the
fresh stream (seed, count, chunk size) from the challenge and the op, re-derives
which chunks the committed root chooses, checks each chosen chunk's outputs against
that root through its audit path, regenerates the chunk's inputs and recomputes
its outputs with the references.  A row that says ``passed`` over outputs the
references do not give, a chunk the root did not choose, or outputs the root does
not commit to is refused: the report would say more than the run showed.  A row
that says ``failed`` costs the verdict anyway (``report.verdict``) and is not
second-guessed: the run may have seen what the verifier cannot (a chunk that gave
other outputs when run again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .. import ops
from ..errors import MalformedInput, NotAuthentic
from ..vectors import challenge, testplan
from ..vectors.store import VectorSet

_PREFIX = f"{testplan.CHALLENGE_MODULE}::test_challenge_stream["


def _recompute(op: ops.Op, inputs: list[tuple[int, ...]]) -> list[int]:
    # MPFR alone (the data ops: their reference, confirmed as it goes): the run
    # already required both references to agree on these vectors
    from ..reference import golden  # the references import gmpy2: only this check needs them

    return golden.evaluate_mpfr_many(op.id, inputs)


def check_row(row: Mapping[str, Any], value: bytes, vs: VectorSet, where: str) -> None:
    """``NotAuthentic`` (one line) unless the challenge row ``row`` is what its
    fresh stream, its committed root and the references give."""
    rid = str(row["id"])
    op_id = rid[len(_PREFIX):-1]
    here = f"{where}: result {rid}"
    if row.get("op") != op_id:
        raise NotAuthentic(f"{here}: names op {row.get('op')!r}, not {op_id}")
    if row["outcome"] not in ("passed", "failed"):
        if "challenge" in row:
            raise NotAuthentic(f"{here}: a {row['outcome']} result carries challenge samples")
        return
    doc = row.get("challenge")
    if not isinstance(doc, Mapping):
        raise NotAuthentic(f"{here}: a {row['outcome']} challenge result without its samples")
    try:
        seed, n, size, proofs = challenge.parse_record(doc, here)
        op = ops.get(op_id, here)
        root = bytes.fromhex(str(row["root"]))
    except (MalformedInput, ValueError, TypeError) as exc:
        raise NotAuthentic(str(exc) if isinstance(exc, MalformedInput) else f"{here}: field root: {exc}") from None
    want = (challenge.seed(value, op_id), challenge.count(vs.streams()[op_id].count), challenge.CHUNK)
    if (seed, n, size) != want:
        raise NotAuthentic(f"{here}: fresh stream (seed {seed}, {n} vectors, chunks of {size}) is not the "
                           f"one the challenge gives (seed {want[0]}, {want[1]} vectors, chunks of {want[2]})")
    if int(row["vectors"]) != n:
        raise NotAuthentic(f"{here}: claims {row['vectors']} vectors of a {n}-vector stream")
    chosen = challenge.sample(value, op_id, root, n)
    if [p.chunk for p in proofs] != chosen:
        raise NotAuthentic(f"{here}: samples chunks {[p.chunk for p in proofs]}, but its root chooses {chosen}")
    # The stream generator imports the reference data (gmpy2, cffi): only a report
    # with a challenge needs it, and only once its chunks are known to be the root's.
    from ..vectors.streams.inputs import chunk_inputs

    differ = 0
    for p in proofs:
        start, count = challenge.chunk_span(n, p.chunk)
        if len(p.outputs) != count * op.out_bytes or not challenge.proves(p, root, n):
            raise NotAuthentic(f"{here}: the outputs of chunk {p.chunk} are not the ones its root "
                               "commits to")
        inputs = op.unpack_inputs(chunk_inputs(op, seed, start, count), count)
        got = op.unpack_outputs(p.outputs, count)
        differ += sum(1 for w, g in zip(_recompute(op, inputs), got, strict=True) if w != g)
    if row["outcome"] == "passed" and differ:
        raise NotAuthentic(f"{here}: says passed, but {differ} of its sampled outputs differ from "
                           "the references")


def check(rows: Iterable[Mapping[str, Any]], value: bytes, vs: VectorSet, where: str) -> None:
    """Every challenge row of a report whose run had the challenge ``value``."""
    for row in rows:
        if str(row["id"]).startswith(_PREFIX):
            check_row(row, value, vs, where)


__all__ = ["check", "check_row"]
