"""The probe itself: ABI, self-description and transcript.

A probe that lies about what it is, declares ops teecert does not know, or keeps a
transcript that does not match what it returned cannot be certified: attestation
commits to that transcript.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from teecert import ops
from teecert.certify.facts.characterization import STATUS_FLAG_MASKS
from teecert.certify.session import Session
from teecert.probe.library import transcript_step
from teecert.vectors import merkle
from teecert.vectors.generate import pack_outputs

REQUIRED_KEYS = {
    "name": str,
    "version": str,
    "abi": int,
    "compiler": str,
    "cflags": str,
    "flt_eval_method": int,
    "ldbl_mant_dig": int,
    "char_signed": bool,
    "byte_order": str,
    "ops": list,
}


def test_abi_version(teecert_session: Session, teecert_record: Callable[..., None]) -> None:
    p = teecert_session.probe.probe
    teecert_record(message=f"ABI version {p.abi_version}")
    assert p.abi_version == 1, f"probe speaks ABI {p.abi_version}, teecert speaks 1"


def test_description(teecert_session: Session, teecert_record: Callable[..., None]) -> None:
    desc = teecert_session.probe.probe.description
    problems = [
        f"{k!r} missing or not {t.__name__}"
        for k, t in REQUIRED_KEYS.items()
        if not isinstance(desc.get(k), t) or (t is int and isinstance(desc.get(k), bool))
    ]
    unknown = sorted(o for o in desc.get("ops", []) if o not in ops.CATALOGUE)
    if unknown:
        problems.append(f"declares unknown ops {unknown[:5]}")
    if desc.get("flt_eval_method") not in (0, None):
        problems.append(f"FLT_EVAL_METHOD is {desc.get('flt_eval_method')}: excess precision")
    msg = "; ".join(problems) or f"{desc.get('name')} {desc.get('version')}, {len(desc.get('ops', []))} ops"
    teecert_record(message=msg)
    if problems:
        pytest.fail(msg, pytrace=False)


def test_transcript_step(teecert_session: Session, teecert_record: Callable[..., None]) -> None:
    """One call advances the probe's transcript exactly as the definition says."""
    tp = teecert_session.probe
    op = ops.get("f64.add.rne")
    if op.id not in tp.declared:
        pytest.skip("probe does not declare f64.add.rne")
    before, calls = tp.probe.transcript()
    vecs = [(0x3FF0000000000000, 0x4000000000000000), (0x0000000000000001, 0x8000000000000000)]
    outs = tp.run_values(op, vecs)
    after, calls_after = tp.probe.transcript()
    want = transcript_step(before, op.id, len(vecs), merkle.leaf_hash(pack_outputs(op, outs)))
    msg = f"transcript {before.hex()[:16]} -> {after.hex()[:16]}"
    teecert_record(message=msg)
    assert calls_after == calls + 1, "the transcript's call count did not advance by one"
    assert after == want, f"the transcript does not follow its definition ({msg}, expected {want.hex()[:16]})"


def test_loading_keeps_fp_environment(teecert_session: Session, teecert_record: Callable[..., None]) -> None:
    """Loading the probe must not change the process's FP control state: a library
    built with -ffast-math (crtfastmath.o) or with a constructor that sets FTZ/DAZ
    changes every computation of the process that loads it, not only its own."""
    teecert_session.probe  # noqa: B018 - loads the probe if no test has yet
    before, after = teecert_session.load_fpenv
    if before is None or after is None:
        pytest.skip("the FP state at load is unknown: teecert._accel is not built, or the probe "
                    "host does not report it")
    arch = before[0]
    # Only control bits count: the sticky exception flags change whenever Python
    # computes with floats between the two reads.
    mask = STATUS_FLAG_MASKS.get(arch, 0)
    b, a = before[1] & ~mask, after[1] & ~mask
    msg = f"{arch} FP control state {b:#x} before loading the probe, {a:#x} after"
    if b != a:
        msg = f"loading the probe changed the process FP environment: {msg}"
        teecert_record(message=msg)
        pytest.fail(msg, pytrace=False)
    teecert_record(message=msg)
