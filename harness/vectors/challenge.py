"""Fresh challenge streams: answers nobody can hold before the challenge is known.

The vector set's streams are fixed, so a probe could answer them from a table.  A
challenge (for example a block hash governance publishes) derives, per op, a fresh
stream of the same generator: its seed is a hash of the challenge and the op, so no
output of it exists anywhere before the challenge does.  A run with a challenge
evaluates each fresh stream on the probe and commits to its outputs by their Merkle
root (chunks of :data:`CHUNK` vectors, the tree of ``vectors.merkle``).  Only then
are the chunks to check chosen, from the challenge, the op and that root
(Fiat-Shamir): teecert recomputes those chunks with its references, and the report
carries each chosen chunk's outputs with its audit path, so a verifier re-derives
the same choice, checks the outputs against the root and recomputes them again.

Soundness, stated plainly: per op, a probe whose outputs are wrong in a fraction
``f`` of the chunks passes the :data:`SAMPLES` checks with probability about
``(1 - f) ** SAMPLES`` (a table-driven probe is wrong nearly everywhere on a fresh
stream: ``f`` near 1).  Someone who controls the run and may re-run it can grind
roots to dodge a few wrong chunks; what a challenge adds beyond the samples is
agreement: every platform that ran the same challenge must give the same root for
every op, which ``teecert compare`` checks over their reports.

This module is pure derivation (seeds, counts, sample choice, proofs); running the
streams is ``certify.judge.challenge`` and re-checking a report ``verify.challenge``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import MalformedInput, UsageError
from ..ops import DATA_KINDS, Op
from . import merkle

#: the name of this derivation, recorded in the report and mixed into every hash
DERIVATION = "teecert-challenge-v1"
#: vectors per Merkle leaf of a challenge stream: a chosen chunk travels in the report
CHUNK = 64
#: vectors per challenge stream, at most (fewer where the op's fixed stream is shorter)
MAX_COUNT = 65536
#: chunks chosen per op and recomputed with the references
SAMPLES = 2
#: challenge length in bytes: at least 16 (unguessable), at most 64 (a SHA-512 hash)
MIN_BYTES, MAX_BYTES = 16, 64


def parse(text: str, where: str = "--challenge") -> bytes:
    """The challenge bytes of ``text`` (hex), or a one-line ``UsageError``."""
    raw = text.strip().lower()
    raw = raw[2:] if raw.startswith("0x") else raw
    try:
        value = bytes.fromhex(raw)
    except ValueError:
        raise UsageError(f"{where}: {text!r} is not hex") from None
    if not MIN_BYTES <= len(value) <= MAX_BYTES:
        raise UsageError(f"{where}: a challenge is {MIN_BYTES} to {MAX_BYTES} bytes "
                         f"({2 * MIN_BYTES} to {2 * MAX_BYTES} hex digits), not {len(value)}")
    return value


def _hash(label: str, *parts: bytes) -> bytes:
    h = hashlib.sha256(f"{DERIVATION}:{label}\0".encode())
    for p in parts:
        h.update(len(p).to_bytes(4, "big"))
        h.update(p)
    return h.digest()


def seed(challenge: bytes, op_id: str) -> int:
    """The seed of ``op_id``'s fresh stream (its generator is the op's usual one)."""
    return int.from_bytes(_hash("seed", challenge, op_id.encode())[:8], "big")


def challenged(op: Op) -> bool:
    """Whether a challenge covers ``op``: every float and data op.  libm functions
    need not be correctly rounded, so recomputing them proves nothing; their
    determinism is the stress suite's."""
    return op.kind == "float" or op.kind in DATA_KINDS


def count(fixed_count: int) -> int:
    """Vectors of the fresh stream of an op whose fixed stream has ``fixed_count``."""
    return min(fixed_count, MAX_COUNT)


def chunks(n: int) -> int:
    return -(-n // CHUNK)


def chunk_span(n: int, index: int) -> tuple[int, int]:
    start = index * CHUNK
    return start, min(CHUNK, n - start)


def sample(challenge: bytes, op_id: str, root: bytes, n: int) -> list[int]:
    """The chunks of a stream of ``n`` vectors (root ``root``) to recompute: derived
    from the challenge, the op and the committed root, so they cannot be known
    before the outputs are fixed.  Distinct, ascending; all chunks if there are no
    more than :data:`SAMPLES`."""
    total = chunks(n)
    if total <= SAMPLES:
        return list(range(total))
    chosen: list[int] = []
    counter = 0
    while len(chosen) < SAMPLES:
        digest = _hash("sample", challenge, op_id.encode(), root, counter.to_bytes(4, "big"))
        index = int.from_bytes(digest, "big") % total
        if index not in chosen:
            chosen.append(index)
        counter += 1
    return sorted(chosen)


@dataclass(frozen=True)
class Proof:
    """One chosen chunk: its outputs and its audit path to the stream's root."""

    chunk: int
    outputs: bytes
    path: tuple[bytes, ...]

    def record(self) -> dict[str, Any]:
        return {"chunk": self.chunk, "outputs": base64.b64encode(self.outputs).decode("ascii"),
                "path": [p.hex() for p in self.path]}


def proof(leaves: Sequence[bytes], index: int, outputs: bytes) -> Proof:
    return Proof(index, bytes(outputs), tuple(merkle.inclusion_path(leaves, index)))


def proves(p: Proof, root: bytes, n: int) -> bool:
    """Whether ``p``'s outputs are chunk ``p.chunk`` of a stream of ``n`` vectors
    whose Merkle root is ``root``."""
    return merkle.root_from_path(merkle.leaf_hash(p.outputs), p.chunk, chunks(n), p.path) == root


def record(challenge: bytes, op: Op, n: int, proofs: Sequence[Proof]) -> dict[str, Any]:
    """The ``challenge`` object of a result row."""
    return {"derivation": DERIVATION, "seed": str(seed(challenge, op.id)), "count": n,
            "chunk_size": CHUNK, "samples": [p.record() for p in proofs]}


def parse_record(doc: Mapping[str, Any], where: str) -> tuple[int, int, int, list[Proof]]:
    """(seed, count, chunk size, proofs) of a result row's ``challenge`` object, or a
    one-line ``MalformedInput`` naming ``where`` and the field."""
    try:
        seed_value = int(str(doc["seed"]))
        n, size = int(doc["count"]), int(doc["chunk_size"])
        proofs = [Proof(int(s["chunk"]), base64.b64decode(str(s["outputs"]), validate=True),
                        tuple(bytes.fromhex(str(h)) for h in s["path"]))
                  for s in doc["samples"]]
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise MalformedInput(f"{where}: field challenge: {exc}") from None
    return seed_value, n, size, proofs


__all__ = ["CHUNK", "DERIVATION", "MAX_COUNT", "SAMPLES", "Proof", "challenged", "chunk_span", "chunks",
           "count", "parse", "parse_record", "proof", "proves", "record", "sample", "seed"]
