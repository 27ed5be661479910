"""Simulated evidence and the run binding, without any hardware."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import struct
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert.attestation import binding, evidence, run_evidence
from teecert.attestation.abi import snp as snp_abi
from teecert.attestation.testing import sim
from teecert.attestation.validate import policy
from teecert.errors import MalformedInput, NotAuthentic

import reportfactory as rf

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


def _by_hand(statement: dict[str, Any], collection: str) -> bytes:
    """The binding as docs/report-format.md states it, computed here without teecert."""
    view = copy.deepcopy(statement)
    pred = view["predicate"]
    del pred["summary"], pred["verdict"]
    pred["results"] = [r for r in pred["results"] if r["id"] != "attestation::evidence"]
    pred["attestation"] = {"binding": "teecert-binding-v2", "collection": collection}
    return hashlib.sha512(rfc8785.dumps(view)).digest()


def _edits() -> dict[str, Callable[[dict[str, Any]], None]]:
    def at(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
        def edit(st: dict[str, Any]) -> None:
            *parents, last = path.split(".")
            node: Any = st
            for p in parents:
                node = node[int(p)] if isinstance(node, list) else node[p]
            node[int(last) if isinstance(node, list) else last] = value
        return edit
    return {
        "subject digest": at("subject.0.digest.sha256", "ab" * 32),
        "fingerprint (relabelled platform)": at("predicate.environment.fingerprint.cpu_model", "Other CPU"),
        "environment digest": at("predicate.environment.digest", "cd" * 32),
        "not_before (re-dated)": at("predicate.validity.not_before", "2027-01-01T00:00:00Z"),
        "not_after (extended)": at("predicate.validity.not_after", "2030-01-01T00:00:00Z"),
        "profile document": at("predicate.profile.document.description", "weaker"),
        "profile version": at("predicate.profile.version", 99),
        "vector set version": at("predicate.vector_set.version", "2"),
        "harness version": at("predicate.harness.version", "9.9.9"),
        "harness source digest": at("predicate.harness.source_digest", "ef" * 32),
        "a result row": at("predicate.results.0.outcome", "failed"),
        "signer": at("predicate.signer.public_key", "A" * 43 + "="),
        "transcripts": at("predicate.probe.transcripts.0.calls", 1),
        "nonce": at("predicate.run.nonce", "00" * 32),
        "run finish": at("predicate.run.finished", "2026-11-21T05:00:01Z"),
    }


@pytest.fixture(scope="module")
def statement() -> dict[str, Any]:
    st = rf.statement_for(Ed25519PrivateKey.generate())
    st["predicate"]["attestation"] = run_evidence.blank_section("probe")
    return st


def test_binding_is_the_documented_hash_of_the_statement(statement: dict[str, Any]) -> None:
    for collection in ("probe", "file"):
        assert binding.report_data(statement, collection) == _by_hand(statement, collection)
    assert binding.report_data(statement, "probe") != binding.report_data(statement, "file")


@pytest.mark.parametrize("name", sorted(_edits()))
def test_binding_covers_every_field_a_reviewer_relies_on(statement: dict[str, Any], name: str) -> None:
    edited = copy.deepcopy(statement)
    _edits()[name](edited)
    assert binding.report_data(edited, "probe") != binding.report_data(statement, "probe"), name


def test_binding_leaves_out_only_what_the_evidence_decides(statement: dict[str, Any]) -> None:
    base = binding.report_data(statement, "probe")
    edited = copy.deepcopy(statement)
    pred = edited["predicate"]
    pred["attestation"].update(evidence="AAAA", verified={"debug": False}, failures=["x"], source="probe")
    pred["results"].append({"id": "attestation::evidence", "suite": "attestation", "outcome": "passed"})
    pred["summary"] = {"passed": 999}
    pred["verdict"] = {"result": "CERTIFIED", "reasons": []}
    assert binding.report_data(edited, "probe") == base


def test_a_host_attests_its_key_with_the_report_data() -> None:
    k1, k2 = b"\x01" * 32, b"\x02" * 32
    assert binding.host_report_data(k1, RD) == hashlib.sha512(b"teecert-host-attest-v1\x00" + k1 + RD).digest()
    assert binding.host_report_data(k1, RD) != binding.host_report_data(k2, RD)
    with pytest.raises(ValueError):
        binding.host_report_data(k1[:31], RD)


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
