"""Attestation of a run: collect evidence over the binding at report time, and
re-check it when the report is verified.

Both sides call ``evaluate`` so that the outcome recorded in a report (the result
``attestation::evidence`` of suite ``attestation``) is exactly what any verifier
recomputes from the embedded evidence, the binding and the profile's policy.  The
evidence is verified at the run's finish (``predicate.run.finished``, which is also
the start of the report's validity), never at a time the signer picks.
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from .._internal import dsse
from .._internal.timefmt import parse_time
from ..errors import (
    MalformedInput,
    NotAuthentic,
    ProbeError,
    TeecertError,
    UnsupportedOp,
    UsageError,
)
from . import EVIDENCE_RESULT_ID, binding
from .abi import snp as snp_abi
from .abi.snp import split_snp as split_snp  # re-exported: suites call run_evidence.split_snp
from .validate import policy

RESULT_ID = EVIDENCE_RESULT_ID


def _b64(b: bytes | None) -> str | None:
    return base64.b64encode(b).decode() if b is not None else None


#: What a run applies when its profile's policy sets no maximum age: evidence made
#: more than an hour from the run's finish, or collateral issued more than 30 days
#: before it, is not evidence of this run's machine as it was.
RUN_MAX_EVIDENCE_AGE_SECONDS = 3600
RUN_MAX_COLLATERAL_AGE_DAYS = 30


def evaluate(att: Mapping[str, Any], rd: bytes, pol: policy.Policy, at: _dt.datetime,
             where: str) -> tuple[str, str, dict[str, Any] | None, list[str]]:
    """(outcome, message, verified record, policy failures) of an attestation section
    whose evidence must carry the report data ``rd``."""
    if att.get("error"):
        return "failed", f"no evidence: {att['error']}", None, []
    if att.get("evidence") is None:
        return "skipped", "no attestation evidence: the probe reaches no TEE and the profile accepts no simulated evidence", None, []
    # Strict, canonical base64 (the report's own fields): MalformedInput naming the field.
    data = dsse.b64decode(att["evidence"], f"{where}.evidence")
    certs = [dsse.b64decode(c, f"{where}.certs[{i}]") for i, c in enumerate(att.get("certs", []))]
    coll = dsse.b64decode(att["collateral"], f"{where}.collateral") if att.get("collateral") else None
    from . import evidence  # every format's parser: a report without evidence needs none

    try:
        fmt = evidence.detect(data, f"{where}.evidence")
        if att.get("format") not in (None, fmt):
            raise NotAuthentic(f"{where}.format says {att.get('format')}, but the evidence is {fmt}")
        v = evidence.verify(data, where, fmt=fmt, certs=certs, collateral=coll, at=at)
    except (NotAuthentic, MalformedInput, UsageError) as e:
        # UsageError: what verifying this format needs (a VCEK, a time) is not in the
        # report, which is the report's fault here, not the reader's.
        return "failed", f"evidence not authentic: {e}", None, []
    failures = policy.validate(v, pol)
    # Azure HCL evidence: report_data is the runtime claims' user-data, which the
    # hardware report binds through the claims' hash (verify.azure_hcl); the guest
    # cannot choose the hardware report data there.
    if v.report_data[:64] != rd:
        failures.append("binding: the evidence's report data is not this run's binding (evidence from another run?)")
    record = evidence.verified_to_json(v)
    kind = "simulated (development only) " if v.format == "sim" else ""
    if failures:
        return "failed", f"{kind or v.format + ' '}evidence authentic but policy not met: {failures[0]}", record, failures
    return "passed", f"{kind or v.format + ' '}evidence authentic, policy met, bound to this run", record, failures


def profile_policy(profile_data: Mapping[str, Any], where: str) -> policy.Policy:
    """The profile's attestation policy, with the run's maximum ages where it sets none."""
    doc = dict((profile_data.get("attestation") or {}).get("policy") or {})
    doc.setdefault("max_evidence_age_seconds", RUN_MAX_EVIDENCE_AGE_SECONDS)
    doc.setdefault("max_collateral_age_days", RUN_MAX_COLLATERAL_AGE_DAYS)
    return policy.from_document(doc, f"{where}: attestation.policy")


def _host_key(statement: Mapping[str, Any], where: str) -> bytes | None:
    """The raw public key of the probe host that served the run, when it names one."""
    host = statement["predicate"]["probe"].get("host")
    if not host:
        return None
    key = dsse.b64decode(host["public_key"], f"{where}: predicate.probe.host.public_key")
    if len(key) != 32:
        raise MalformedInput(f"{where}: predicate.probe.host.public_key is not a 32-byte Ed25519 key")
    return key


def evidence_report_data(statement: Mapping[str, Any], rd: bytes, where: str) -> bytes:
    """The report data the evidence carries: ``rd``, or, when a probe host served the
    run, what that host attests for it (``binding.host_report_data``)."""
    key = _host_key(statement, where)
    return rd if key is None else binding.host_report_data(key, rd)


def _placeholder(collection: str) -> dict[str, Any]:
    return {"binding": binding.BINDING, "report_data": None, "source": "none" if collection == "probe" else "file",
            "format": None, "evidence": None, "certs": [], "collateral": None, "verified": None, "failures": [],
            "error": None}


def collect(*, probe: Any, profile_data: Mapping[str, Any], statement: Mapping[str, Any], now: _dt.datetime,
            measurement: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(attestation section, result row) for a run whose unsigned ``statement`` is
    complete but for its attestation: the probe attests the statement's binding."""
    pol = profile_policy(profile_data, "profile")
    rd = binding.report_data(statement, "probe")
    att = _placeholder("probe")
    att["report_data"] = rd.hex()
    at = parse_time(statement["predicate"]["run"]["finished"], "statement")
    expected = evidence_report_data(statement, rd, "statement")
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
            # the simulator imports X.509: verifying a report needs it only for its evidence
            from .testing import sim

            att.update(source="simulated", format="sim",
                       evidence=_b64(sim.make(expected, measurement=hashlib.sha384(measurement).digest(), now=now)))
    except (ProbeError, TeecertError) as e:
        att["error"] = str(e)[:500]
    return _conclude(att, expected, pol, at)


def pending_report_data(statement: Mapping[str, Any]) -> bytes:
    """The report data of a run whose evidence is obtained out of band."""
    return binding.report_data(statement, "file")


def from_evidence(*, profile_data: Mapping[str, Any], statement: Mapping[str, Any], data: bytes, fmt: str,
                  certs: Sequence[bytes], collateral: bytes | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(attestation section, result row) for evidence obtained out of band
    (``teecert run --evidence``) for the report data ``--print-report-data`` stated."""
    pol = profile_policy(profile_data, "profile")
    rd = pending_report_data(statement)
    if fmt == "auto":
        from . import evidence  # every format's parser, wanted only here

        fmt = evidence.detect(data, "evidence")
    cert_list = list(certs)
    if fmt == "snp" and len(data) > snp_abi.REPORT_SIZE and not cert_list:
        data, cert_list = split_snp(data, "evidence")
    att = _placeholder("file")
    att.update(report_data=rd.hex(), format=fmt, evidence=_b64(data), certs=[_b64(c) for c in cert_list],
               collateral=_b64(collateral))
    at = parse_time(statement["predicate"]["run"]["finished"], "pending run")
    return _conclude(att, evidence_report_data(statement, rd, "pending run"), pol, at)


def _row(outcome: str, message: str, failures: list[str]) -> dict[str, Any]:
    return {"id": RESULT_ID, "suite": binding.ATTESTATION_SUITE, "op": None, "kind": "check", "outcome": outcome,
            "message": message[:500], "vectors": 0, "failures": len(failures) + (outcome == "failed" and not failures),
            "root": None, "expected_root": None, "divergence": None, "duration_ms": 0}


def _conclude(att: dict[str, Any], rd: bytes, pol: policy.Policy,
              at: _dt.datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    outcome, message, record, failures = evaluate(att, rd, pol, at, "attestation evidence")
    att.update(verified=record, failures=failures)
    return att, _row(outcome, message, failures)


def check_report(statement: Mapping[str, Any], profile_data: Mapping[str, Any], where: str) -> list[str]:
    """Re-verify the attestation of a (signature-checked, schema-valid) report.
    Raises ``NotAuthentic`` when the binding does not hold or anything the report
    records about its evidence differs from what the evidence gives; returns notes
    for the reader."""
    pred = statement["predicate"]
    att = pred.get("attestation")
    rows = pred["results"]
    entry = next((r for r in rows if r["id"] == RESULT_ID), None)
    if att is None:
        if entry is not None:
            raise NotAuthentic(f"{where}: result {RESULT_ID} without an attestation section")
        return []
    collection = binding.collection_of(att)
    rd = binding.report_data(statement, collection)
    if rd.hex() != att["report_data"]:
        raise NotAuthentic(f"{where}: the attestation binding does not match this report "
                           "(something the evidence commits to was changed after it was attested)")
    at = parse_time(pred["run"]["finished"], f"{where}: predicate.run.finished")
    rd_in_evidence = evidence_report_data(statement, rd, where)
    outcome, message, record, failures = evaluate(att, rd_in_evidence, profile_policy(profile_data, where), at,
                                                  f"{where}: attestation")
    if entry is None or entry["outcome"] != outcome:
        raise NotAuthentic(f"{where}: result {RESULT_ID} says {entry['outcome'] if entry else 'nothing'}, "
                           f"but the embedded evidence gives {outcome}: {message}")
    if entry != _row(outcome, message, failures):
        raise NotAuthentic(f"{where}: result {RESULT_ID} differs from what the embedded evidence gives")
    # The record of the evidence is derived, not believed: every field must be what
    # re-verifying the evidence gives (debug flag, TCB status, measurements, ...).
    fields = _recorded_fields(att, record, failures)
    if fields:
        raise NotAuthentic(f"{where}: predicate.attestation.{fields[0]} differs from what the embedded evidence gives")
    note = f"attestation: {message} (checked at the run's time {pred['run']['finished']})"
    return [note]


def _recorded_fields(att: Mapping[str, Any], record: dict[str, Any] | None, failures: list[str]) -> list[str]:
    """The fields of an attestation section that differ from the re-derived ones."""
    bad: list[str] = []
    if att["verified"] != record:
        recorded = att["verified"] if isinstance(att["verified"], dict) else {}
        keys = sorted(set(recorded) | set(record or {}))
        diff = [k for k in keys if recorded.get(k) != (record or {}).get(k)]
        bad.append(f"verified.{diff[0]}" if diff and record is not None and recorded else "verified")
    if att["failures"] != failures:
        bad.append("failures")
    fmt = (record or {}).get("format")
    if record is not None and att["format"] != fmt:
        bad.append("format")
    has_evidence = att["evidence"] is not None
    # Simulated evidence comes from teecert during the run or from a file for a pending
    # run; real evidence from the probe or a file; none from nowhere.
    want_source = {True: ("simulated", "file") if fmt == "sim" else ("probe", "file"),
                   False: ("none", "file")}[has_evidence]
    if att["source"] not in want_source:
        bad.append("source")
    if att["source"] == "simulated" and fmt != "sim":
        bad.append("source")
    return bad


def blank_section(collection: str) -> dict[str, Any]:
    """An attestation section before the evidence exists (what the binding sees)."""
    return copy.deepcopy(_placeholder(collection))
