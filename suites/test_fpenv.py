"""FP control state: results must not depend on what the caller left set.

teecert poisons the caller's environment itself (rounding toward +inf with FTZ/DAZ
and, on x86, x87 precision cut to 24 bits; rounding toward zero), never through the
probe: through the probe host (FPSTATE) or, in process, through its own accelerator.
The probe must still compute in the default environment with the op's own
direction, and must give the caller's state back: teecert reads it before and after
every call and names the first call that changed it.  The explicit vectors of the
subnormal and halfway groups are the ones a leaked mode changes.

The probe's own ``fpenv_poison`` is still called, to record what it claims to apply
against what teecert reads afterwards: a probe that says it applied a mode it did
not is lying about its environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from teecert import ops
from teecert.certify.judge import probe_checks
from teecert.certify.judge import vectors as checks
from teecert.certify.session import Session
from teecert.probe.library import (
    POISON_FTZ_DAZ,
    POISON_ROUND_UP,
    POISON_ROUND_ZERO,
    POISON_X87_PC,
    FpWatch,
)

#: what teecert itself installs (POISON_X87_PC is teecert's own bit: the probe's
#: fpenv_poison never sees it)
POISONS = {
    "round-up+ftz-daz": POISON_ROUND_UP | POISON_FTZ_DAZ | POISON_X87_PC,
    "round-toward-zero": POISON_ROUND_ZERO,
}
#: the bits of the probe ABI (native/teecert_probe.h) for the probe's own fpenv_poison
PROBE_BITS = 0x7
OPS = ["f64.add.rne", "f64.mul.rne", "f64.div.rne", "f64.fma.rne", "f32.mul.rne", "f32.sqrt.rne", "f64.sub.rdn"]
GROUPS = {"subnormal", "halfway", "range"}


@pytest.fixture
def poisoned(teecert_session: Session, request: pytest.FixtureRequest) -> Iterator[FpWatch]:
    probe = teecert_session.probe.probe
    state = probe.fp_state(POISONS[request.node.callspec.params["poison"]])
    try:
        yield state
    finally:
        probe.fp_state(0)


@pytest.mark.parametrize("poison", sorted(POISONS))
@pytest.mark.parametrize("op_id", OPS)
def test_poisoned_caller(op_id: str, poison: str, poisoned: FpWatch, teecert_session: Session,
                         require_op: Callable[[str], object], teecert_record: Callable[..., None]) -> None:
    require_op(op_id)
    op = ops.get(op_id)
    probe = teecert_session.probe
    vecs = [v for v in teecert_session.vector_set.explicit(op_id) if v.group in GROUPS]
    finding = checks.explicit(probe, op, vecs)
    after = probe.probe.fp_state()
    record = dict(finding.record)
    if after.violations > poisoned.violations:
        record["message"] = f"the probe changed the caller's FP environment: {after.problem()}"
        teecert_record(**record)
        pytest.fail(record["message"], pytrace=False)
    if not finding.ok:
        record["message"] = (f"with the caller's FP environment poisoned ({poison}, set by teecert: "
                             f"{poisoned.arch} {poisoned.state:#x}): {finding.message}")
        teecert_record(**record)
        pytest.fail(record["message"], pytrace=False)
    teecert_record(**record)


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_probe_poison_claims(poison: str, teecert_session: Session,
                             teecert_record: Callable[..., None]) -> None:
    """The probe's fpenv_poison must apply what it says it applied: teecert reads the
    state after the call.  Its reset must give the default state back."""
    probe = teecert_session.probe.probe
    asked = POISONS[poison] & PROBE_BITS
    probe.fp_state(0)
    try:
        claimed = probe.fpenv_poison(asked)
        seen = probe.fp_state()
        probe.fpenv_reset()
        reset = probe.fp_state()
    finally:
        probe.fp_state(0)
    lie = probe_checks.poison_claim(seen.arch, asked, claimed, seen.state)
    reset_mode = probe_checks.decode_fpenv(reset.arch, reset.state)
    if lie is None and reset_mode != probe_checks.FpMode("nearest", False):
        lie = f"fpenv_reset() left {reset.arch} {reset.state:#x} ({reset_mode.show()}), not the default"
    msg = lie or (f"fpenv_poison({asked:#x}) applied {claimed:#x}: teecert read {seen.arch} {seen.state:#x} "
                  f"({probe_checks.decode_fpenv(seen.arch, seen.state).show()})")
    teecert_record(message=msg)
    if lie:
        pytest.fail(lie, pytrace=False)
