"""The probe itself: ABI, self-description and transcript.

A probe that lies about what it is, declares ops teecert does not know, or keeps a
transcript that does not match what it returned cannot be certified: attestation
commits to that transcript.
"""

from __future__ import annotations

import hashlib
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from teecert import ops
from teecert.certify.facts.characterization import STATUS_FLAG_MASKS
from teecert.certify.judge import probe_checks
from teecert.certify.session import Session
from teecert.probe.library import transcript_step
from teecert.probe.remote import RemoteProbe
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


def _observed(session: Session) -> probe_checks.Observed:
    """What teecert itself knows of the probe and the machine it runs on."""
    p = session.probe.probe
    obs = probe_checks.Observed(abi_version=p.abi_version)
    facts = getattr(p, "host_facts", None)
    if isinstance(p, RemoteProbe):
        machine = facts.get("arch") if isinstance(facts, dict) else None
        obs.arch = machine if isinstance(machine, str) else None
        # the wire protocol is little-endian whatever the machine: the byte order
        # comes from the machine name the host reported (uname -m)
        obs.byte_order = None if obs.arch is None else probe_checks.byte_order_of(obs.arch)
        local = Path(p.path)
        if p.library_digest and local.is_file() and hashlib.sha256(local.read_bytes()).hexdigest() == p.library_digest:
            obs.compiler_comments = probe_checks.elf_comments(local)
    else:
        obs.arch = platform.machine()
        obs.byte_order = sys.byteorder
        obs.compiler_comments = probe_checks.elf_comments(Path(p.path))
    # the state teecert read just before describe(), the first call into the probe
    after_load = session.load_fpenv[1]
    obs.fpenv_first = after_load
    if obs.arch is not None:
        obs.char_signed, obs.ldbl_mant_dig = probe_checks.target_facts(obs.arch, platform.machine())
    return obs


def test_self_description_matches(teecert_session: Session, teecert_record: Callable[..., None]) -> None:
    """Every fact of the self-description that teecert can observe must agree with
    it; what teecert cannot observe is recorded as unverified, never as passed."""
    p = teecert_session.probe.probe
    result = probe_checks.cross_check(p.description, _observed(teecert_session))
    msg = result.message()
    teecert_record(message=msg)
    if result.lies:
        pytest.fail(msg, pytrace=False)


def test_abi_conformance(teecert_session: Session, teecert_record: Callable[..., None]) -> None:
    """Wrong sizes, null buffers with n > 0, unknown or null op ids, an overflowing n
    and n = 0 must give the statuses of docs/probe-abi.md ("Argument checks"); teecert
    runs them in a child process, so a probe that trusts its arguments crashes only it."""
    tp = teecert_session.probe
    op_id = next((o for o in ("f64.add.rne", "f32.add.rne", *sorted(tp.declared)) if o in tp.declared
                  and o in ops.CATALOGUE), None)
    if op_id is None:
        msg = "the probe declares no op teecert knows: nothing to check the arguments of"
        teecert_record(message=msg)
        pytest.fail(msg, pytrace=False)
    conf = tp.probe.conformance(ops.get(op_id))
    problems = probe_checks.conformance_problems(conf)
    msg = (f"argument checks with {op_id}: " + "; ".join(problems) if problems
           else f"{len(conf.statuses)} argument checks with {op_id} gave the documented statuses")
    teecert_record(message=msg)
    if problems:
        pytest.fail(msg, pytrace=False)


def test_fp_state_watched(teecert_session: Session, teecert_record: Callable[..., None]) -> None:
    """teecert reads the FP control state of the thread that calls the probe before
    and after every call: nothing may change it after load but teecert (and the
    probe's own fpenv_poison/reset when asked).  A few calls spread out in time give
    an asynchronous change (a timer's signal handler) the chance to show."""
    tp = teecert_session.probe
    op = ops.get("f64.add.rne")
    if op.id in tp.declared:
        for _ in range(5):
            tp.run_values(op, [(0x3FF0000000000000, 0x0000000000000001)])
            time.sleep(0.05)
    watch = tp.probe.fp_state()
    problem = watch.problem()
    msg = problem or f"{watch.calls} calls watched, the {watch.arch} FP control state never changed behind teecert"
    teecert_record(message=msg)
    if problem:
        pytest.fail(problem, pytrace=False)
