"""Re-verification: do certified machines still pass attestation with newer collateral?

A report's attestation is judged at the run's finish with the collateral the run
embedded; that judgement never changes (``run_evidence.check_report``).  After an Intel
TCB recovery, governance needs the other question: judged *now*, with the collateral
and CRLs Intel publishes now and the policy governance sets now, which of the machines
it admitted still pass?  This module answers it for reports the verifier already
accepted as authentic (``verifier.verify_report``), without changing them.

``reverify_report(outcome, collateral=[...], at=T, policy=None) -> Reverified``
    Re-runs the report's embedded evidence verification and the attestation policy at
    ``T``.  For Intel DCAP evidence the collateral is the given bundle for the quote's
    platform (TCB info id and FMSPC), else the report's own (named in ``collateral``).
    The policy is ``policy`` when given (governance's newer policy), else the one in
    the report's profile; either way without ``max_evidence_age_seconds``: the evidence
    is old by nature when re-verified, and the question is whether the platform it
    shows is still accepted.  The binding to the report is required as at run time.

``load_collateral(data, where) -> Collateral``
    A DCAP collateral bundle (docs/attestation-dcap.md) with the platform its TCB info
    names; its signatures are checked when it is used, not here.

A report accepted then is accepted now when its attestation gives the same outcome as
at run time (``passed``, or ``skipped`` where its profile took no evidence) at ``T``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._internal import dsse
from .._internal.timefmt import format_time
from ..attestation import EVIDENCE_RESULT_ID, binding, run_evidence
from ..attestation.validate import policy as _policy
from ..attestation.verify import dcap
from ..errors import UsageError
from .verifier import VerifyOutcome

__all__ = ["Collateral", "Reverified", "load_collateral", "reverified_to_json", "reverify", "reverify_report"]

_DCAP = {"sgx": "SGX", "tdx": "TDX"}


@dataclass(frozen=True)
class Collateral:
    """A DCAP collateral bundle and the platform its TCB info names."""

    where: str
    data: bytes
    tee: str  # "SGX" | "TDX"
    fmspc: str  # lower-case hex


@dataclass(frozen=True)
class Reverified:
    """One report judged again at ``at``."""

    where: str
    at: _dt.datetime
    format: str | None
    accepted_then: bool  # CERTIFIED, with the attestation outcome recorded at run time
    then: str  # the attestation at run time, as the verifier re-derived it
    accepted_now: bool
    now: str  # the attestation at ``at``: why it is no longer accepted, or that it is
    collateral: str  # which collateral the re-verification used
    failures: list[str] = field(default_factory=list)  # every policy rule failed at ``at``
    tcb_status_then: str | None = None
    tcb_status_now: str | None = None


def load_collateral(data: bytes, where: str) -> Collateral:
    """``data`` as a DCAP collateral bundle (``MalformedInput`` naming ``where``)."""
    tee, fmspc = dcap.collateral_platform(data, where)
    return Collateral(where, data, tee, fmspc)


def _row(statement: Mapping[str, Any]) -> Mapping[str, Any] | None:
    rows = statement["predicate"]["results"]
    return next((r for r in rows if r["id"] == EVIDENCE_RESULT_ID), None)


def _pick(att: Mapping[str, Any], collateral: Sequence[Collateral], where: str) -> tuple[bytes | None, str]:
    """(collateral to use, which one) for the evidence of ``att``."""
    own = dsse.b64decode(att["collateral"], f"{where}.collateral") if att.get("collateral") else None
    fmt = (att.get("verified") or {}).get("format") or att.get("format")
    if fmt not in _DCAP or not att.get("evidence"):
        return own, "the report's own"
    quote = dsse.b64decode(att["evidence"], f"{where}.evidence")
    tee, fmspc = dcap.quote_platform(quote, f"{where}.evidence")
    for c in collateral:
        if c.tee == tee and c.fmspc == fmspc:
            return c.data, f"{c.where} ({tee}, FMSPC {fmspc.upper()})"
    return own, f"the report's own (none given for {tee} FMSPC {fmspc.upper()})"


def _now_policy(profile_data: Mapping[str, Any], given: _policy.Policy | None, where: str) -> _policy.Policy:
    pol = given if given is not None else run_evidence.profile_policy(profile_data, where)
    return dataclasses.replace(pol, max_evidence_age_seconds=None)


def reverify_report(outcome: VerifyOutcome, *, collateral: Sequence[Collateral], at: _dt.datetime,
                    policy: _policy.Policy | None = None) -> Reverified:
    """``outcome`` (an authentic report) judged again at ``at``; see the module docstring."""
    if at.tzinfo is None:
        raise UsageError("re-verification time must be timezone-aware (UTC)")
    where = outcome.where
    statement = outcome.statement
    att = statement["predicate"].get("attestation")
    row = _row(statement)
    certified = outcome.verdict["result"] == "CERTIFIED"
    then_outcome = row["outcome"] if row is not None else None
    then_msg = row["message"] if row is not None else "no attestation in this report"
    recorded = (att or {}).get("verified") or {}
    fmt = (att or {}).get("format")
    status_then = recorded.get("tcb_status") if isinstance(recorded, dict) else None
    if att is None or row is None:
        why = "the report holds no attestation evidence to re-judge; its certification stands as it was"
        return Reverified(where, at, fmt, certified, then_msg, certified,
                          why if certified else "not certified at its run time", "none", [], status_then, None)
    # The report data the evidence must carry: the same binding as at run time.
    rd = binding.report_data(statement, binding.collection_of(att))
    rd_in_evidence = run_evidence.evidence_report_data(statement, rd, where)
    coll, used = _pick(att, collateral, f"{where}: predicate.attestation")
    redo = dict(att)
    redo["collateral"] = base64.b64encode(coll).decode() if coll is not None else None
    pol = _now_policy(outcome.profile.data, policy, where)
    now_outcome, now_msg, record, failures = run_evidence.evaluate(redo, rd_in_evidence, pol, at,
                                                                   f"{where}: attestation")
    accepted_now = certified and now_outcome == then_outcome and now_outcome in ("passed", "skipped")
    if not certified:
        now_msg = f"not certified at its run time; at {format_time(at)}: {now_msg}"
    return Reverified(where, at, fmt, certified, then_msg, accepted_now, now_msg, used, list(failures),
                      status_then, (record or {}).get("tcb_status"))


def reverify(outcomes: Iterable[VerifyOutcome], *, collateral: Sequence[Collateral], at: _dt.datetime,
             policy: _policy.Policy | None = None) -> list[Reverified]:
    """``reverify_report`` for each report, in order."""
    return [reverify_report(o, collateral=collateral, at=at, policy=policy) for o in outcomes]


def reverified_to_json(r: Reverified) -> dict[str, Any]:
    """A JSON-ready view (times in RFC 3339 UTC)."""
    return {"report": r.where, "at": format_time(r.at), "format": r.format, "accepted_then": r.accepted_then,
            "then": r.then, "accepted_now": r.accepted_now, "now": r.now, "collateral": r.collateral,
            "failures": list(r.failures), "tcb_status_then": r.tcb_status_then, "tcb_status_now": r.tcb_status_now}
