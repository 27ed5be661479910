"""Characterization: the raw hardware behaviour behind the consensus semantics.

Consensus ops hide what the hardware does (NaNs are canonicalized, conversions are
defined); a report should still say how each platform differs underneath, so that
a reviewer comparing an x86-64 report with an AArch64 one sees *why* the probe had
to canonicalize.  The probe runs the ``hw.*`` ops of ``docs/ops.md`` over the fixed
cases below, and its self-description adds the C data model (``char``
signedness, ``long double`` width, ``FLT_EVAL_METHOD``).  The result goes into the
report's ``characterization`` field.

None of this is judged: characterization never fails a run, never enters a
consensus root or the probe transcript, and a probe without ``hw.*`` ops (they are
optional in the ABI) simply records ``"unsupported"`` for each case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import ArgumentsRejected, ProbeError, TeecertError, UnsupportedOp
from ...ops import F64, Op

#: The characterization ops.  Every value travels in an 8-byte slot (binary32 and
#: 32-bit integers in its low half), so all of them are laid out like f64 ops.
HW_OPS: dict[str, Op] = {
    op_id: Op(op_id, F64, op_id.split(".", 2)[2], "hw", arity)
    for op_id, arity in (
        ("hw.f64.add", 2), ("hw.f64.mul", 2), ("hw.f64.div", 2), ("hw.f64.sqrt", 1),
        ("hw.f32.add", 2), ("hw.f32.div", 2),
        ("hw.f64.to_i32", 1), ("hw.f64.to_i64", 1), ("hw.u32.clz", 1),
        ("hw.clock.sample", 1), ("hw.clock.info", 1),
    )
}


@dataclass(frozen=True)
class Case:
    """One characterization question: ``op`` over ``args``, shown ``digits`` hex wide."""

    name: str
    op: str
    args: tuple[int, ...]
    digits: int


_ONE = 0x3FF0000000000000
_INF = 0x7FF0000000000000

CASES: tuple[Case, ...] = (
    Case("f64 0/0", "hw.f64.div", (0, 0), 16),
    Case("f64 inf-inf", "hw.f64.add", (_INF, _INF | 1 << 63), 16),
    Case("f64 0*inf", "hw.f64.mul", (0, _INF), 16),
    Case("f64 sqrt(-1)", "hw.f64.sqrt", (_ONE | 1 << 63,), 16),
    Case("f64 qnan(1)+qnan(2)", "hw.f64.add", (0x7FF8000000000001, 0x7FF8000000000002), 16),
    Case("f64 qnan(2)+qnan(1)", "hw.f64.add", (0x7FF8000000000002, 0x7FF8000000000001), 16),
    Case("f64 snan(1)+qnan(2)", "hw.f64.add", (0x7FF0000000000001, 0x7FF8000000000002), 16),
    Case("f64 qnan(1)+snan(2)", "hw.f64.add", (0x7FF8000000000001, 0x7FF0000000000002), 16),
    Case("f64 -qnan(5)*1", "hw.f64.mul", (0xFFF8000000000005, _ONE), 16),
    Case("f32 0/0", "hw.f32.div", (0, 0), 8),
    Case("f32 qnan(1)+qnan(2)", "hw.f32.add", (0x7FC00001, 0x7FC00002), 8),
    Case("f32 snan(1)+1", "hw.f32.add", (0x7F800001, 0x3F800000), 8),
    Case("(int32) nan", "hw.f64.to_i32", (0x7FF8000000000000,), 8),
    Case("(int32) -nan", "hw.f64.to_i32", (0xFFF8000000000000,), 8),
    Case("(int32) +inf", "hw.f64.to_i32", (_INF,), 8),
    Case("(int32) -inf", "hw.f64.to_i32", (_INF | 1 << 63,), 8),
    Case("(int32) 3e9", "hw.f64.to_i32", (0x41E65A0BC0000000,), 8),
    Case("(int32) -3e9", "hw.f64.to_i32", (0xC1E65A0BC0000000,), 8),
    Case("(int64) nan", "hw.f64.to_i64", (0x7FF8000000000000,), 16),
    Case("(int64) 1e19", "hw.f64.to_i64", (0x43E158E460913D00,), 16),
    Case("(int64) -1e19", "hw.f64.to_i64", (0xC3E158E460913D00,), 16),
    Case("clz32(0)", "hw.u32.clz", (0,), 8),
    Case("clz32(1)", "hw.u32.clz", (1,), 8),
)

#: Keys of the self-description copied into the characterization (the C data
#: model), with the type each must have; a value of another type is left out.
DESCRIPTION_KEYS: dict[str, type] = {
    "arch": str, "char_signed": bool, "ldbl_mant_dig": int, "ldbl_bytes": int,
    "flt_eval_method": int, "byte_order": str,
}

UNSUPPORTED = "unsupported"

#: The sticky exception-flag bits of each ``fpenv_read`` layout (docs/probe-abi.md;
#: x86-64 MXCSR bits 0-5, RISC-V fcsr fflags bits 0-4, AArch64 FPCR has none):
#: they change whenever anything computes with floats, so only the control bits
#: (rounding, flush modes, trap masks, precision control) characterize a platform.
STATUS_FLAG_MASKS = {"x86_64": 0x3F, "riscv64": 0x1F, "aarch64": 0}


def characterize(probe: Any) -> dict[str, Any]:
    """Ask ``probe`` (in process or remote) every case; never raises for what the
    probe answers.  Returns the report's ``characterization`` object."""
    desc = probe.description if isinstance(probe.description, dict) else {}
    out: dict[str, Any] = {
        k: desc[k] for k, t in DESCRIPTION_KEYS.items()
        # bool is an int in Python: a probe saying "ldbl_bytes": true is left out
        if isinstance(desc.get(k), t) and (t is bool or not isinstance(desc[k], bool))
    }
    try:
        arch, bits = probe.fpenv_read()
        control = bits & ~STATUS_FLAG_MASKS.get(arch, 0)
        out["fp_control"] = {"arch": arch, "control": f"{control:016x}"}
    except TeecertError as exc:
        out["fp_control"] = {"error": str(exc)}
    results: dict[str, str] = {}
    by_op: dict[str, list[Case]] = {}
    for case in CASES:
        by_op.setdefault(case.op, []).append(case)
    for op_id, cases in by_op.items():
        op = HW_OPS[op_id]
        try:
            got = probe.run_values(op, [c.args for c in cases])
        except (UnsupportedOp, ArgumentsRejected):  # an older probe knows no hw.* ids
            got = None
        except ProbeError as exc:  # a crash behind a probe host: recorded as it is
            for c in cases:
                results[c.name] = f"error: {exc}"
            continue
        for i, c in enumerate(cases):
            if got is None:
                results[c.name] = UNSUPPORTED
            else:
                results[c.name] = f"{got[i] & ((1 << (4 * c.digits)) - 1):0{c.digits}x}"
    out["cases"] = {c.name: results[c.name] for c in CASES}
    return out
