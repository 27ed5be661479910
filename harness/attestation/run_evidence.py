"""Attestation of a run: collect evidence over the binding at report time, and
re-check it when the report is verified.

Both sides call ``evaluate`` so that the outcome recorded in a report (the result
``attestation::evidence`` of suite ``attestation``) is exactly what any verifier
recomputes from the embedded evidence, the binding and the profile's policy.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from .._internal import dsse
from .._internal.timefmt import parse_time
from ..errors import MalformedInput, NotAuthentic, ProbeError, TeecertError, UnsupportedOp
from . import EVIDENCE_RESULT_ID, binding, evidence
from .abi import snp as snp_abi
from .abi.snp import split_snp as split_snp  # re-exported: suites call run_evidence.split_snp
from .testing import sim
from .validate import policy

RESULT_ID = EVIDENCE_RESULT_ID


def _b64(b: bytes | None) -> str | None:
    return base64.b64encode(b).decode() if b is not None else None


def evaluate(att: Mapping[str, Any], rd: bytes, pol: policy.Policy, at: _dt.datetime,
             where: str) -> tuple[str, str, dict[str, Any] | None, list[str]]:
    """(outcome, message, verified record, policy failures) of an attestation section."""
    if att.get("error"):
        return "failed", f"no evidence: {att['error']}", None, []
    if att.get("evidence") is None:
        return "skipped", "no attestation evidence: the probe reaches no TEE and the profile accepts no simulated evidence", None, []
    # Strict, canonical base64 (the report's own fields): MalformedInput naming the field.
    data = dsse.b64decode(att["evidence"], f"{where}.evidence")
    certs = [dsse.b64decode(c, f"{where}.certs[{i}]") for i, c in enumerate(att.get("certs", []))]
    coll = dsse.b64decode(att["collateral"], f"{where}.collateral") if att.get("collateral") else None
    try:
        v = evidence.verify(data, where, fmt=att.get("format") or "auto", certs=certs, collateral=coll, at=at)
    except (NotAuthentic, MalformedInput) as e:
        return "failed", f"evidence not authentic: {e}", None, []
    failures = policy.validate(v, pol)
    if v.report_data[:64] != rd:
        failures.append("binding: the evidence's report data is not this run's binding (evidence from another run?)")
    record = evidence.verified_to_json(v)
    kind = "simulated (development only) " if v.format == "sim" else ""
    if failures:
        return "failed", f"{kind or v.format + ' '}evidence authentic but policy not met: {failures[0]}", record, failures
    return "passed", f"{kind or v.format + ' '}evidence authentic, policy met, bound to this run", record, failures


def profile_policy(profile_data: Mapping[str, Any], where: str) -> policy.Policy:
    doc = (profile_data.get("attestation") or {}).get("policy") or {}
    return policy.from_document(dict(doc), f"{where}: attestation.policy")


def collect(*, probe: Any, profile_data: Mapping[str, Any], nonce: str, results: Sequence[Mapping[str, Any]],
            signer_public_key: str, transcripts: Sequence[Mapping[str, Any]], now: _dt.datetime,
            measurement: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(attestation section, result row) for a run, at report time."""
    pol = profile_policy(profile_data, "profile")
    rd = binding.report_data(nonce=nonce, results=results, signer_public_key=signer_public_key,
                             transcripts=transcripts)
    att: dict[str, Any] = {"binding": binding.BINDING, "report_data": rd.hex(), "source": "none", "format": None,
                           "evidence": None, "certs": [], "collateral": None, "verified": None, "failures": [],
                           "error": None}
    try:
        fmt, data = probe.attest(rd)
        att.update(source="probe", format=fmt)
        if fmt == "snp":
            report, certs = split_snp(data, "probe evidence")
            att.update(evidence=_b64(report), certs=[_b64(c) for c in certs])
        else:
            att["evidence"] = _b64(data)
    except UnsupportedOp:
        if "sim" in pol.formats:
            att.update(source="simulated", format="sim",
                       evidence=_b64(sim.make(rd, measurement=hashlib.sha384(measurement).digest(), now=now)))
    except (ProbeError, TeecertError) as e:
        att["error"] = str(e)[:500]
    return _conclude(att, rd, pol, now)


def from_evidence(*, profile_data: Mapping[str, Any], report_data: bytes, data: bytes, fmt: str,
                  certs: Sequence[bytes], collateral: bytes | None, now: _dt.datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """(attestation section, result row) for evidence obtained out of band
    (``teecert run --evidence``) for the report data ``--print-report-data`` stated."""
    pol = profile_policy(profile_data, "profile")
    if fmt == "auto":
        fmt = evidence.detect(data, "evidence")
    cert_list = list(certs)
    if fmt == "snp" and len(data) > snp_abi.REPORT_SIZE and not cert_list:
        data, cert_list = split_snp(data, "evidence")
    att: dict[str, Any] = {"binding": binding.BINDING, "report_data": report_data.hex(), "source": "file",
                           "format": fmt, "evidence": _b64(data), "certs": [_b64(c) for c in cert_list],
                           "collateral": _b64(collateral), "verified": None, "failures": [], "error": None}
    return _conclude(att, report_data, pol, now)


def _conclude(att: dict[str, Any], rd: bytes, pol: policy.Policy,
              now: _dt.datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    outcome, message, record, failures = evaluate(att, rd, pol, now, "attestation evidence")
    att.update(verified=record, failures=failures)
    row = {"id": RESULT_ID, "suite": binding.ATTESTATION_SUITE, "op": None, "kind": "check", "outcome": outcome,
           "message": message[:500], "vectors": 0, "failures": len(failures) + (outcome == "failed" and not failures),
           "root": None, "expected_root": None, "divergence": None, "duration_ms": 0}
    return att, row


def check_report(pred: Mapping[str, Any], profile_data: Mapping[str, Any], where: str) -> list[str]:
    """Re-verify the attestation of a (signature-checked, schema-valid) report.
    Raises ``NotAuthentic`` when the binding or the recorded outcome does not hold;
    returns notes for the reader."""
    att = pred.get("attestation")
    rows = pred["results"]
    entry = next((r for r in rows if r["id"] == RESULT_ID), None)
    if att is None:
        if entry is not None:
            raise NotAuthentic(f"{where}: result {RESULT_ID} without an attestation section")
        return []
    rd = binding.report_data(nonce=pred["run"]["nonce"], results=rows,
                             signer_public_key=pred["signer"]["public_key"], transcripts=pred["probe"]["transcripts"])
    if rd.hex() != att["report_data"]:
        raise NotAuthentic(f"{where}: the attestation binding does not match this report "
                           "(results, transcripts, nonce or signing key differ from what was attested)")

    at = parse_time(pred["run"]["finished"], f"{where}: predicate.run.finished")
    outcome, message, _record, _f = evaluate(att, rd, profile_policy(profile_data, where), at, f"{where}: attestation")
    if entry is None or entry["outcome"] != outcome:
        raise NotAuthentic(f"{where}: result {RESULT_ID} says {entry['outcome'] if entry else 'nothing'}, "
                           f"but the embedded evidence gives {outcome}: {message}")
    note = f"attestation: {message} (checked at the run's time {pred['run']['finished']})"
    return [note]
