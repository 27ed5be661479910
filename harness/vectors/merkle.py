"""Merkle commitments over stream outputs (the tree hash of RFC 6962, section 2.1).

A stream's outputs are cut into fixed-size chunks of vectors; each chunk's output
bytes (values little-endian, in order) are a leaf.  Leaf hash ``SHA-256(0x00 ||
bytes)``, node hash ``SHA-256(0x01 || left || right)``, and a tree of ``n > 1``
leaves splits at the largest power of two below ``n``.  RFC 6962's shape is used
so that an odd number of chunks needs no padding rule of our own, and so that one
chunk can be checked against a root with its audit path (RFC 9162, section 2.1.3)
alone: ``teecert watch`` checks one chunk at a time against a report's root.
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


def inclusion_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree over ``leaves`` (RFC 9162,
    section 2.1.3.1): the sibling hashes from the leaf up to the root, so that one
    chunk can be checked against a root without the other chunks' outputs."""
    n = len(leaves)
    if not 0 <= index < n:
        raise IndexError(f"leaf {index} of a tree of {n}")
    path: list[bytes] = []
    lo, hi = 0, n
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if index - lo < k:
            path.append(root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            path.append(root(leaves[lo : lo + k]))
            lo += k
    path.reverse()
    return path


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root that leaf ``index`` of a tree of ``size`` leaves gives with its audit
    ``path`` (RFC 9162, section 2.1.3.2), or None when the path cannot be one of such
    a tree (wrong length for that index and size)."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None
