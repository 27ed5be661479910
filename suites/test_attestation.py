"""Attestation: the probe can produce evidence that verifies and meets the profile's
policy, inside the run, for a fresh nonce.

The report's own evidence is collected at the end (its report data binds the final
results, transcripts and signing key; see docs/attestation.md) and recorded as the
result ``attestation::evidence``.  This suite exercises the same path early, per
worker, so a TEE that cannot attest, or attests a debug or out-of-date platform, is
diagnosed with the run's other results.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

import pytest

from teecert.attestation import evidence, run_evidence
from teecert.attestation.testing import sim
from teecert.attestation.validate import policy
from teecert.certify.session import Session
from teecert.probe.library import UnsupportedOp


def test_probe_evidence_for_a_fresh_nonce(teecert_session: Session, teecert_record: Callable[..., None]) -> None:
    probe = teecert_session.probe.probe
    pol = run_evidence.profile_policy(teecert_session.profile.data, "profile")
    rd = hashlib.sha512(b"teecert-suite-attestation\0" + str(teecert_session.seed).encode()).digest()
    now = dt.datetime.now(dt.UTC)
    # Through a probe host the evidence carries the report data wrapped with the
    # host's key (the host attests nothing bare); in process, and for simulated
    # evidence, the bytes themselves.
    attested = rd
    try:
        fmt, data = probe.attest(rd)
        attested = getattr(probe, "attested_report_data", None) or rd
        certs: list[bytes] = []
        if fmt == "snp":
            data, certs = run_evidence.split_snp(data, "probe evidence")
    except UnsupportedOp:
        if pol.formats is not None and "sim" not in pol.formats:
            teecert_record(message="the probe reaches no TEE and the profile accepts no simulated evidence")
            pytest.skip("the probe reaches no TEE and the profile accepts no simulated evidence")
        fmt, data, certs = "sim", sim.make(rd, measurement=bytes(48), now=now), []
    v = evidence.verify(data, "probe evidence", fmt=fmt, certs=certs, at=now)
    failures = policy.validate(v, pol)
    if v.report_data[:64] != attested:
        failures.append("report data: the evidence does not carry the report data it was asked for")
    msg = (f"{fmt} evidence from {v.signer}: " + ("; ".join(failures) if failures else "authentic, policy met"))
    teecert_record(message=msg[:500])
    if failures:
        pytest.fail(msg, pytrace=False)
