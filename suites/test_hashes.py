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

import pytest

from teecert import checks, ops
from teecert.session import Session


def test_explicit(vector_op: str, teecert_session: Session, require_op: Callable[[str], object],
                  teecert_record: Callable[..., None]) -> None:
    require_op(vector_op)
    finding = checks.explicit(teecert_session.probe, ops.get(vector_op),
                              teecert_session.vector_set.explicit(vector_op))
    teecert_record(**finding.record)
    if not finding.ok:
        pytest.fail(finding.message, pytrace=False)


def test_stream(vector_op: str, teecert_session: Session, require_op: Callable[[str], object],
                teecert_record: Callable[..., None]) -> None:
    require_op(vector_op)
    st = teecert_session.streams[vector_op]
    finding = checks.stream(teecert_session.probe, st, teecert_session.stream_chunks(st))
    teecert_record(**finding.record)
    if not finding.ok:
        pytest.fail(finding.message, pytrace=False)


test_explicit.teecert_family = "hash"  # type: ignore[attr-defined]
test_stream.teecert_family = "hash"  # type: ignore[attr-defined]
test_stream.teecert_ops = "stream"  # type: ignore[attr-defined]
