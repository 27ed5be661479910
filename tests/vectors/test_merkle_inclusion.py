"""Audit paths (RFC 9162 inclusion proofs) over the stream trees: one chunk checked
against a root without the other chunks, as ``teecert watch`` checks its canary."""

from __future__ import annotations

import hashlib

import pytest

from teecert.vectors import merkle


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "little")) for i in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 16, 17, 31])
def test_every_leaf_proves_into_the_root(n: int) -> None:
    leaves = _leaves(n)
    root = merkle.root(leaves)
    for i in range(n):
        path = merkle.inclusion_path(leaves, i)
        assert len(path) <= max(1, n - 1).bit_length()
        assert merkle.root_from_path(leaves[i], i, n, path) == root


def test_a_wrong_leaf_index_size_or_path_does_not() -> None:
    leaves = _leaves(16)
    root = merkle.root(leaves)
    path = merkle.inclusion_path(leaves, 5)
    other = hashlib.sha256(b"x").digest()
    assert merkle.root_from_path(other, 5, 16, path) != root
    assert merkle.root_from_path(leaves[5], 6, 16, path) != root
    assert merkle.root_from_path(leaves[5], 5, 16, path[:-1]) is None
    assert merkle.root_from_path(leaves[5], 5, 16, [*path, other]) is None
    assert merkle.root_from_path(leaves[5], 16, 16, path) is None
    with pytest.raises(IndexError):
        merkle.inclusion_path(leaves, 16)
