"""Simulated evidence and the run binding, without any hardware."""

from __future__ import annotations

import datetime as dt
import struct
import uuid

import pytest

from teecert.attestation import binding, evidence, run_evidence
from teecert.attestation.abi import snp as snp_abi
from teecert.attestation.testing import sim
from teecert.attestation.validate import policy
from teecert.errors import MalformedInput, NotAuthentic

NOW = dt.datetime(2026, 11, 21, 6, 0, tzinfo=dt.UTC)
RD = bytes(range(64))


@pytest.fixture(scope="module")
def ev() -> bytes:
    return sim.make(RD, measurement=b"\x07" * 48, now=NOW)


def test_simulated_evidence_verifies_and_carries_the_report_data(ev: bytes) -> None:
    assert evidence.detect(ev, "x") == "sim"
    v = sim.verify(ev, at=NOW, where="x")
    assert v.format == "sim" and v.report_data == RD and not v.debug
    assert v.measurements["MEASUREMENT"] == "07" * 48
    assert policy.validate(v, policy.from_document({"formats": ["snp", "tdx"]}, "p")) != []


@pytest.mark.parametrize("offset", [16 + 4 + 0x50, 16 + 4 + 0x2A0 + 3, 16 + 4 + 1184 + 4 + 200, -40])
def test_any_flipped_byte_is_not_authentic(ev: bytes, offset: int) -> None:
    bad = bytearray(ev)
    bad[offset] ^= 0x01
    with pytest.raises((NotAuthentic, MalformedInput)):
        sim.verify(bytes(bad), at=NOW, where="x")


def test_expired_and_malformed(ev: bytes) -> None:
    with pytest.raises(NotAuthentic, match="expired"):
        sim.verify(ev, at=NOW + dt.timedelta(days=31), where="x")
    for cut in (10, 16 + 2, 16 + 4 + 100, len(ev) - 1):
        with pytest.raises(MalformedInput):
            sim.verify(ev[:cut], at=NOW, where="x")
    with pytest.raises(MalformedInput, match="after the simulated evidence"):
        sim.verify(ev + b"\0", at=NOW, where="x")
    huge = ev[:16] + struct.pack("<I", 1 << 30) + ev[20:]
    with pytest.raises(MalformedInput, match="runs past the end"):
        sim.verify(huge, at=NOW, where="x")


def test_binding_changes_with_every_input() -> None:
    rows = [{"id": "a", "suite": "ieee754", "outcome": "passed"}, {"id": "attestation::evidence", "suite": "attestation"}]
    t = [{"worker": "gw0", "hash": "00" * 32, "calls": 3}]
    base = binding.report_data(nonce="ab", results=rows, signer_public_key="K", transcripts=t)
    assert len(base) == 64
    # the attestation row itself is not bound (it is computed from the evidence)
    assert base == binding.report_data(nonce="ab", results=rows[:1], signer_public_key="K", transcripts=t)
    variants = [
        dict(nonce="ac", results=rows, signer_public_key="K", transcripts=t),
        dict(nonce="ab", results=[{**rows[0], "outcome": "failed"}], signer_public_key="K", transcripts=t),
        dict(nonce="ab", results=rows, signer_public_key="L", transcripts=t),
        dict(nonce="ab", results=rows, signer_public_key="K", transcripts=[{**t[0], "calls": 4}]),
    ]
    assert all(binding.report_data(**v) != base for v in variants)  # type: ignore[arg-type]


def test_snp_container_certificate_table() -> None:
    report = b"R" * snp_abi.REPORT_SIZE
    vcek, ask = b"vcek-der", b"ask-der!!"
    guid_vcek = uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd").bytes_le
    guid_ask = uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782").bytes_le
    head = 3 * 24
    table = (guid_ask + struct.pack("<II", head, len(ask)) + guid_vcek + struct.pack("<II", head + len(ask), len(vcek))
             + b"\0" * 24 + ask + vcek)
    r, certs = run_evidence.split_snp(report + table, "x")
    assert r == report and certs == [vcek, ask]
    bad = guid_vcek + struct.pack("<II", 10_000, 5) + b"\0" * 24
    with pytest.raises(MalformedInput, match="runs past the table"):
        run_evidence.split_snp(report + bad, "x")
