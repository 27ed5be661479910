"""FP control state: results must not depend on what the caller left set.

Before each batch the caller's environment is poisoned (rounding toward +inf,
toward zero, FTZ/DAZ where the CPU has them); the probe must still compute in the
default environment with the op's own direction, and must give the caller's
environment back untouched.  The explicit vectors of the subnormal and halfway
groups are the ones a leaked mode changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from teecert import ops
from teecert.certify.judge import vectors as checks
from teecert.certify.session import Session

POISON_ROUND_UP = 0x1
POISON_ROUND_ZERO = 0x2
POISON_FTZ_DAZ = 0x4

POISONS = {
    "round-up+ftz-daz": POISON_ROUND_UP | POISON_FTZ_DAZ,
    "round-toward-zero": POISON_ROUND_ZERO,
}
OPS = ["f64.add.rne", "f64.mul.rne", "f64.div.rne", "f64.fma.rne", "f32.mul.rne", "f32.sqrt.rne", "f64.sub.rdn"]
GROUPS = {"subnormal", "halfway", "range"}


@pytest.fixture
def poisoned(teecert_session: Session, request: pytest.FixtureRequest) -> Iterator[int]:
    probe = teecert_session.probe.probe
    applied = probe.fpenv_poison(POISONS[request.node.callspec.params["poison"]])
    try:
        yield applied
    finally:
        probe.fpenv_reset()


@pytest.mark.parametrize("poison", sorted(POISONS))
@pytest.mark.parametrize("op_id", OPS)
def test_poisoned_caller(op_id: str, poison: str, poisoned: int, teecert_session: Session,
                         require_op: Callable[[str], object], teecert_record: Callable[..., None]) -> None:
    require_op(op_id)
    op = ops.get(op_id)
    probe = teecert_session.probe
    arch, before = probe.probe.fpenv_read()
    vecs = [v for v in teecert_session.vector_set.explicit(op_id) if v.group in GROUPS]
    finding = checks.explicit(probe, op, vecs)
    _arch, after = probe.probe.fpenv_read()
    record = dict(finding.record)
    if after != before:
        record["message"] = (
            f"the probe changed the caller's FP environment ({arch}: {before:#x} -> {after:#x})"
        )
        teecert_record(**record)
        pytest.fail(record["message"], pytrace=False)
    if not finding.ok:
        record["message"] = f"with the caller's FP environment poisoned ({poison}, {arch} {before:#x}): {finding.message}"
        teecert_record(**record)
        pytest.fail(record["message"], pytrace=False)
    teecert_record(**record)
