"""Fresh challenges: streams derived from a value nobody knew in advance.

Collected only in a run given ``--challenge HEX``.  For every float and data op the
probe evaluates a fresh stream derived from the challenge (``vectors.challenge``);
its Merkle root is the commitment, the chunks to check are chosen from that root,
and teecert recomputes them with both references.  A probe that answers the fixed
streams from a table passes them and fails here.  A failure here fails the run
under every profile (``teecert.report.verdict``); ``verify`` repeats the choice, the
audit paths and the recomputation.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from teecert.certify.judge import challenge as judge
from teecert.certify.session import Session


def test_challenge_stream(challenge_op: str, teecert_session: Session,
                          require_op: Callable[[str], object],
                          teecert_record: Callable[..., None]) -> None:
    op = require_op(challenge_op)
    value = teecert_session.challenge
    assert value is not None  # the plugin collects this suite only with a challenge
    finding = judge.run(teecert_session.probe, op,  # type: ignore[arg-type]
                        value, teecert_session.streams[challenge_op].count)
    teecert_record(**finding.record)
    if not finding.ok:
        pytest.fail(finding.message, pytrace=False)
