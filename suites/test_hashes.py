"""Hash functions: SHA-256, SHA-512, SHA3-256, Keccak-256 and BLAKE2b-512.

Consensus code hashes blocks, transactions and state; a platform whose hash differs
in one case (a message length at a block boundary, a padding byte, Keccak-256
mistaken for SHA3-256, bytes past the message read) forks.  Per hash: the explicit
messages (the published test messages, every length around each block and rate
boundary) bit for bit, then a stream of generated messages of 0 to 512 bytes
(``teecert-data-v1``) by its Merkle root.  Golden digests come from ``hashlib``, and
for Keccak-256, which ``hashlib`` lacks, from the reference's own sponge.
"""

from __future__ import annotations

from collections.abc import Callable


def test_explicit(vector_op: str, judge_op: Callable[[str, str], None]) -> None:
    judge_op(vector_op, "explicit")


def test_stream(vector_op: str, judge_op: Callable[[str, str], None]) -> None:
    judge_op(vector_op, "stream")


test_explicit.teecert_family = "hash"  # type: ignore[attr-defined]
test_stream.teecert_family = "hash"  # type: ignore[attr-defined]
test_stream.teecert_ops = "stream"  # type: ignore[attr-defined]
