"""The checks of a watch cycle besides the canary: the environment fingerprint and
the probe's digest, the FP state, fresh attestation evidence, and expiry.

Each compares what the machine shows now with what the report recorded, the way the
run recorded it, and names every difference as a :class:`~.model.Drift`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..._internal import dsse
from ..._internal.timefmt import format_time, parse_time
from ...attestation import REAL_FORMATS, evidence, run_evidence
from ...attestation.validate.policy import Policy, validate
from ...errors import MalformedInput, NotAuthentic, ProbeError, UnsupportedOp, UsageError
from ...ops import Op, get
from ...probe import hostkey
from ...probe.library import POISON_FTZ_DAZ, POISON_ROUND_UP, POISON_ROUND_ZERO, POISON_X87_PC
from ...report.identity import IDENTITY_FIELDS, identity_digest
from ...vectors import merkle
from ...vectors.store import VectorSet
from ..facts import fingerprint as environment
from ..facts.characterization import characterize
from ..judge import environment as environment_checks
from .model import Drift, clip

# -- fingerprint and probe ------------------------------------------------------------------


def current_fingerprint(probe: Any, pred: Mapping[str, Any]) -> dict[str, Any]:
    """The fingerprint of the machine ``probe`` runs on, computed as the run that made
    the report computed it: the probe host's own facts when the report's were the
    host's (``probe.host.facts_source``), else this machine's."""
    description = probe.description
    host = pred["probe"].get("host") or {}
    facts = getattr(probe, "host_facts", None)
    if host.get("facts_source") == hostkey.FACTS_SOURCE:
        if facts is None:
            raise ProbeError(f"{probe!r}: the probe host reports no facts of its machine, the report's did")
        return environment_checks.extended_fingerprint(
            environment.host_fingerprint(facts, description, probe.digest), description,
            pid=getattr(probe, "child_pid", None))
    return environment_checks.extended_fingerprint(
        environment.fingerprint(description, probe.digest), description, pid=os.getpid())


def _text(value: Any) -> str:
    if value is None:
        return "unset"
    text = repr(value) if isinstance(value, str) else str(value)
    return clip(text, 120)


def compare_fingerprint(recorded: Mapping[str, Any], now: Mapping[str, Any], *,
                        recorded_digest: str) -> tuple[dict[str, Any], list[Drift]]:
    """Field by field: which fingerprint fields changed since the report.  The probe's
    digest is left to :func:`compare_probe`, and the ``process`` facts are not
    compared: they describe the process that served the probe during the run, and a
    watch's probe host is a process of its own, started by the watch (its name
    follows the host's build, its limits the watch's service)."""
    drift: list[Drift] = []
    for name, before, after in environment_checks.drift(recorded, now):
        if name == "probe_digest" or name == "process" or name.startswith("process."):
            continue
        if (before in ({}, None) and after in ({}, None)) or isinstance(before, Mapping) or isinstance(after, Mapping):
            continue  # an empty object on one side: its members are compared by name
        identity = name in IDENTITY_FIELDS
        detail: dict[str, Any] = {"field": name, "identity": identity}
        if name == "cpu_flags" and isinstance(before, list) and isinstance(after, list):
            added = sorted(set(map(str, after)) - set(map(str, before)))
            removed = sorted(set(map(str, before)) - set(map(str, after)))
            detail.update(added=added[:64], removed=removed[:64])
            change = " ".join([*(f"-{f}" for f in removed), *(f"+{f}" for f in added)]) or "reordered"
        else:
            detail.update(before=_bounded(before), after=_bounded(after))
            change = _word_change(before, after) or f"{_text(before)} -> {_text(after)}"
        where = " (part of the platform identity: the report no longer describes this machine)" if identity else ""
        drift.append(Drift("fingerprint", name, f"fingerprint {name}: {change}{where}", detail))
    digest = identity_digest(now)
    summary = {"environment_digest": digest, "identity_matches": digest == recorded_digest,
               "fields": [d.field for d in drift]}
    return summary, drift


def _word_change(before: Any, after: Any) -> str | None:
    """For two long texts of words (compiler flags, a kernel version), the words
    removed and added, which a clipped before/after would hide; None otherwise."""
    if not (isinstance(before, str) and isinstance(after, str)) or max(len(before), len(after)) <= 60:
        return None
    a, b = before.split(), after.split()
    removed = [w for w in a if w not in b]
    added = [w for w in b if w not in a]
    if not removed and not added:
        return None
    return clip(" ".join([*(f"-{w!r}" for w in removed), *(f"+{w!r}" for w in added)]), 300)


def _bounded(value: Any) -> Any:
    """A fingerprint value small enough for a log record."""
    if isinstance(value, str):
        return clip(value, 300)
    if isinstance(value, list):
        return [_bounded(v) for v in value[:64]]
    if isinstance(value, bool | int) or value is None:
        return value
    return clip(str(value), 300)


def compare_probe(probe: Any, pred: Mapping[str, Any]) -> tuple[dict[str, Any], list[Drift]]:
    """The probe library's digest and ABI version against the report's."""
    recorded = pred["probe"]
    drift: list[Drift] = []
    if probe.digest != recorded["digest"]:
        drift.append(Drift("probe", "probe.digest",
                           f"probe library {probe.path}: SHA-256 {probe.digest[:16]}..., the report certified "
                           f"{recorded['digest'][:16]}... (the library was replaced or rebuilt)",
                           {"before": recorded["digest"], "after": probe.digest}))
    if probe.abi_version != recorded["abi_version"]:
        drift.append(Drift("probe", "probe.abi_version",
                           f"probe ABI version {probe.abi_version}, the report's was {recorded['abi_version']}"))
    summary = {"digest": probe.digest, "path": clip(str(probe.path), 300),
               "transport": getattr(probe, "transport", "in-process")}
    return summary, drift


# -- FP state -------------------------------------------------------------------------------

#: The caller states the fpenv suite poisons (suites/test_fpenv.py), by the names its
#: test ids carry (the bits teecert installs itself), and the explicit-vector groups it
#: runs under them.
POISONS = {"round-up+ftz-daz": POISON_ROUND_UP | POISON_FTZ_DAZ | POISON_X87_PC, "round-toward-zero": POISON_ROUND_ZERO}
GROUPS = frozenset({"subnormal", "halfway", "range"})
FPENV_TEST = "test_fpenv.py::test_poisoned_caller["


@dataclass(frozen=True)
class FpenvCase:
    """One fpenv test of the report, to repeat: ``op`` over the explicit vectors of
    :data:`GROUPS` with the caller's FP state poisoned by ``bits``; the outputs' leaf
    hash must be the report's ``root``."""

    test: str
    op: Op
    poison: str
    bits: int
    tc_ids: tuple[int, ...]
    inputs: tuple[tuple[int, ...], ...]
    expected: tuple[int, ...]
    root: str


def fpenv_cases(results: Sequence[Mapping[str, Any]], vs: VectorSet) -> tuple[list[FpenvCase], list[str]]:
    """The fpenv tests of a report that can be repeated, and notes on those that cannot."""
    cases: list[FpenvCase] = []
    notes: list[str] = []
    explicit: dict[str, list[Any]] = {}
    for row in sorted(results, key=lambda r: str(r.get("id"))):
        test = str(row.get("id"))
        if not test.startswith(FPENV_TEST) or not row.get("root") or not row.get("op"):
            continue
        op_id = str(row["op"])
        params = test[len(FPENV_TEST):].rstrip("]")
        poison = params[len(op_id) + 1:] if params.startswith(op_id + "-") else ""
        if poison not in POISONS:
            notes.append(f"{test}: unknown caller state {poison!r}")
            continue
        if op_id not in explicit:
            explicit[op_id] = [v for v in vs.explicit(op_id) if v.group in GROUPS]
        vecs = explicit[op_id]
        if len(vecs) != row.get("vectors"):
            notes.append(f"{test}: {row.get('vectors')} vectors in the report, {len(vecs)} in the groups now")
            continue
        cases.append(FpenvCase(test, get(op_id), poison, POISONS[poison], tuple(v.tc_id for v in vecs),
                               tuple(v.inputs for v in vecs), tuple(v.expected for v in vecs), str(row["root"])))
    return cases, notes


def check_fpenv(probe: Any, cases: Sequence[FpenvCase],
                recorded_characterization: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[Drift]]:
    """Repeat the report's fpenv tests (the caller's FP state poisoned, the probe must
    compute as before and give the state back untouched), then read the FP control
    state and the raw hardware behaviour (characterization) as the run did."""
    drift: list[Drift] = []
    for case in cases:
        # No reset when a call fails: the host is gone (a reset would start another
        # one), and the cycle's host is never used again after its fault.
        # teecert sets the poisoned state and watches it itself, never through the probe
        before = probe.fp_state(case.bits)
        got = probe.run_values(case.op, list(case.inputs))
        after = probe.fp_state()
        probe.fp_state(0)
        if after.violations > before.violations:
            drift.append(Drift("fpenv", case.op.id,
                               f"{case.op.id} under {case.poison}: the probe changed the caller's FP "
                               f"environment: {after.problem()}",
                               {"test": case.test, "before": f"{after.expected:x}", "after": f"{after.seen:x}"}))
        leaf = merkle.leaf_hash(case.op.pack_outputs(got)).hex()
        if leaf != case.root:
            bad = next((i for i, (g, e) in enumerate(zip(got, case.expected, strict=True)) if g != e), None)
            if bad is None:
                where = "its outputs are golden but differ from what the certified machine computed"
                detail: dict[str, Any] = {"test": case.test, "tcId": None}
            else:
                where = (f"first tcId {case.tc_ids[bad]}: {case.op.id}({', '.join(case.op.in_hex(case.inputs[bad]))})"
                         f" = {case.op.out_hex(got[bad])}, expected {case.op.out_hex(case.expected[bad])}")
                detail = {"test": case.test, "tcId": case.tc_ids[bad], "got": case.op.out_hex(got[bad]),
                          "expected": case.op.out_hex(case.expected[bad])}
            drift.append(Drift("fpenv", case.op.id,
                               f"{case.op.id} with the caller's FP state poisoned ({case.poison}): "
                               f"outputs no longer give the report's root; {where}", detail))
    now = characterize(probe)
    errors = [v for v in now.get("cases", {}).values() if isinstance(v, str) and v.startswith("error: ")]
    if errors:
        raise ProbeError(errors[0][len("error: "):])
    if recorded_characterization is not None:
        for name, before, after in environment_checks.drift(recorded_characterization, now):
            drift.append(Drift("fpenv", f"characterization.{name}",
                               f"characterization {name}: {_text(before)} -> {_text(after)}",
                               {"before": _bounded(before), "after": _bounded(after)}))
    control = now.get("fp_control", {})
    summary = {"cases": len(cases), "fp_control": control.get("control") if isinstance(control, dict) else None,
               "diverged": sorted({d.field for d in drift})}
    return summary, drift


# -- attestation ----------------------------------------------------------------------------

#: Report data of a watch's evidence: SHA-512(label || nonce || SHA-256 of the
#: report's payload), fresh each cycle and tied to the report watched.
WATCH_LABEL = b"teecert-watch-v1\0"

#: How far ahead an expiry is looked for, and to what precision.
EXPIRY_HORIZON = _dt.timedelta(days=3650)
EXPIRY_PRECISION = _dt.timedelta(hours=1)


def watch_report_data(nonce: bytes, report_digest: bytes) -> bytes:
    return hashlib.sha512(WATCH_LABEL + nonce + report_digest).digest()


def authentic_until(verify_at: Callable[[_dt.datetime], None],
                    now: _dt.datetime) -> tuple[_dt.datetime | None, str]:
    """The last time (to the hour) at which ``verify_at`` still accepts, given that it
    accepts at ``now``, and the refusal just after it (what expires); None when it
    accepts until :data:`EXPIRY_HORIZON`.  Certificates, CRLs and collateral each stop
    verifying at some time; searching for it with the verifier itself covers every
    format the same way."""
    def ok(t: _dt.datetime) -> str | None:
        try:
            verify_at(t)
        except (NotAuthentic, MalformedInput, UsageError) as exc:
            return str(exc)
        return None

    lo, step = now, _dt.timedelta(days=1)
    hi: _dt.datetime | None = None
    why = ""
    while step <= EXPIRY_HORIZON:
        refused = ok(now + step)
        if refused is not None:
            hi, why = now + step, refused
            break
        lo = now + step
        step *= 2
    if hi is None:
        return None, ""
    while hi - lo > EXPIRY_PRECISION:
        mid = lo + (hi - lo) / 2
        refused = ok(mid)
        if refused is None:
            lo = mid
        else:
            hi, why = mid, refused
    return lo.replace(microsecond=0), why


def _tcb_drift(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Drift]:
    out: list[Drift] = []
    for comp in sorted(set(before) | set(after)):
        a, b = before.get(comp), after.get(comp)
        if a == b:
            continue
        if b is None:
            msg = f"TCB component {comp} fell out of the evidence (was {a})"
        elif a is None:
            msg = f"TCB component {comp} appeared ({b}), the report's evidence had none"
        elif isinstance(a, int) and isinstance(b, int) and b < a:
            msg = f"TCB component {comp} fell from {a} to {b}"
        else:
            msg = f"TCB component {comp} changed from {a} to {b} (a TCB update: re-certify)"
        out.append(Drift("attestation", f"tcb.{comp}", msg, {"before": a, "after": b}))
    return out


def check_attestation(probe: Any, *, recorded: Mapping[str, Any] | None, policy: Policy,
                      now: _dt.datetime, nonce: bytes, report_digest: bytes,
                      collateral: bytes | None,
                      expiry_cache: dict[str, tuple[_dt.datetime | None, str]]
                      ) -> tuple[dict[str, Any], list[Drift], _dt.datetime | None]:
    """Fresh evidence over a fresh nonce, verified at ``now`` (certificates and CRLs
    that came with it, the collateral given, else the report's) and validated with
    the report's profile policy; compared with the evidence the report recorded.
    Returns (summary, drift, the time the evidence stops verifying)."""
    rd = watch_report_data(nonce, report_digest)
    rec = recorded or {}
    rec_format = rec.get("format")
    rec_real = rec.get("source") == "probe" and rec_format in REAL_FORMATS
    summary: dict[str, Any] = {"nonce": nonce.hex()}
    try:
        fmt, data = probe.attest(rd)
    except UnsupportedOp:
        summary.update(status="n/a", reason="the probe reaches no TEE")
        gone = [Drift("attestation", "format",
                      f"the report's evidence came from the probe ({rec_format}); the probe now reaches no TEE")]
        return summary, gone if rec_real else [], None
    expected = getattr(probe, "attested_report_data", None) or rd
    certs: list[bytes] = []
    if fmt == "snp":
        data, certs = run_evidence.split_snp(data, "fresh evidence")
    same = fmt == rec_format
    if not certs and same:
        certs = [dsse.b64decode(c, "report: predicate.attestation.certs") for c in rec.get("certs") or []]
    if collateral is None and same and rec.get("collateral"):
        collateral = dsse.b64decode(rec["collateral"], "report: predicate.attestation.collateral")
    summary.update(format=fmt, report_data=rd.hex(), evidence_sha256=hashlib.sha256(data).hexdigest())

    def verify_at(t: _dt.datetime) -> Any:
        return evidence.verify(data, "fresh evidence", fmt=fmt, certs=certs, collateral=collateral, at=t)

    drift: list[Drift] = []
    try:
        v = verify_at(now)
    except (NotAuthentic, MalformedInput, UsageError) as exc:
        summary["status"] = "failed"
        drift.append(Drift("attestation", "authenticity",
                           f"fresh {fmt} evidence is not authentic at {format_time(now)}: {exc}"))
        return summary, drift, None
    failures = validate(v, policy)
    if v.report_data[:64] != expected:
        failures.append("binding: the evidence does not carry this cycle's report data")
    for failure in failures:
        rule = failure.split(":", 1)[0].strip() or "policy"
        drift.append(Drift("attestation", rule, f"fresh {fmt} evidence fails the report's policy: {failure}"))
    before = rec.get("verified") if rec_real else None
    if isinstance(before, Mapping):
        if fmt != rec_format:
            drift.append(Drift("attestation", "format", f"evidence format {fmt}, the report's was {rec_format}"))
        drift.extend(_tcb_drift(before.get("tcb") or {}, v.tcb))
        if before.get("tcb_status") != v.tcb_status:
            drift.append(Drift("attestation", "tcb_status",
                               f"TCB status {before.get('tcb_status')} -> {v.tcb_status}"))
        for name in sorted(set(before.get("measurements") or {}) | set(v.measurements)):
            a, b = (before.get("measurements") or {}).get(name), v.measurements.get(name)
            if a != b:
                drift.append(Drift("attestation", f"measurements.{name}",
                                   f"measurement {name} changed: {str(a)[:16]}... -> {str(b)[:16]}..."))
        if bool(before.get("debug")) != v.debug:
            drift.append(Drift("attestation", "debug", f"debug {before.get('debug')} -> {v.debug}"))
    key = hashlib.sha256(fmt.encode() + b"\0" + b"".join(hashlib.sha256(c).digest() for c in certs)
                         + hashlib.sha256(collateral or b"").digest()).hexdigest()
    if fmt in ("nitro", "sim") or key not in expiry_cache:
        # The chain of a Nitro document (or simulated evidence) is inside it: no two
        # cycles share it.  SEV-SNP and DCAP chains and collateral change rarely.
        expiry_cache.clear()
        expiry_cache[key] = authentic_until(verify_at, now)
    until, why = expiry_cache[key]
    if policy.max_collateral_age_days is not None and v.collateral_issued is not None:
        aged = v.collateral_issued + _dt.timedelta(days=policy.max_collateral_age_days)
        if until is None or aged < until:
            until, why = aged, (f"collateral issued {format_time(v.collateral_issued)} becomes older than "
                                f"the policy's {policy.max_collateral_age_days} days")
    summary.update(status="failed" if drift else "ok", tcb=dict(v.tcb), tcb_status=v.tcb_status,
                   valid_until=None if until is None else format_time(until),
                   expires=clip(why, 300) if why else None)
    return summary, drift, until


# -- expiry ---------------------------------------------------------------------------------


def check_expiry(*, not_after: str, evidence_until: _dt.datetime | None, now: _dt.datetime,
                 warning: _dt.timedelta) -> tuple[dict[str, Any], list[Drift]]:
    """Seconds until the report's ``not_after`` and until the fresh evidence stops
    verifying; drift when either is within ``warning`` (or past)."""
    end = parse_time(not_after, "report: predicate.validity.not_after")
    left = int((end - now).total_seconds())
    drift: list[Drift] = []
    if left <= 0:
        drift.append(Drift("expiry", "report.not_after",
                           f"the report expired {_days(-left)} ago (not_after {not_after}): re-certify",
                           {"seconds": left}))
    elif end - now < warning:
        drift.append(Drift("expiry", "report.not_after",
                           f"the report expires in {_days(left)} (not_after {not_after}): re-certify",
                           {"seconds": left}))
    ev_left = None if evidence_until is None else int((evidence_until - now).total_seconds())
    if ev_left is not None and ev_left < warning.total_seconds():
        drift.append(Drift("expiry", "evidence",
                           f"fresh evidence stops verifying in {_days(ev_left)} (at {format_time(evidence_until)})"
                           if evidence_until is not None else "", {"seconds": ev_left}))
    summary = {"not_after": not_after, "report_seconds": left, "evidence_seconds": ev_left}
    return summary, drift


def _days(seconds: int) -> str:
    days = seconds / 86400
    return f"{days:.1f} days" if days >= 1 else f"{seconds // 3600} hours"
