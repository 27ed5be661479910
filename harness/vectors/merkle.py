"""Merkle commitments over stream outputs (the tree hash of RFC 6962, section 2.1).

A stream's outputs are cut into fixed-size chunks of vectors; each chunk's output
bytes (values little-endian, in order) are a leaf.  Leaf hash ``SHA-256(0x00 ||
bytes)``, node hash ``SHA-256(0x01 || left || right)``, and a tree of ``n > 1``
leaves splits at the largest power of two below ``n``.  RFC 6962's shape is used
so that an odd number of chunks needs no padding rule of our own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes | bytearray | memoryview) -> bytes:
    h = hashlib.sha256(b"\x00")
    h.update(data)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """Merkle tree hash over already-hashed leaves (RFC 6962 MTH, leaves pre-hashed)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(root(leaves[:k]), root(leaves[k:]))
