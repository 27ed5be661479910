"""A report checks out with other people's DSSE and in-toto code, not only teecert's.

The report is plain DSSE around an in-toto Statement v1 (docs/report-format.md); a
reviewer should not need teecert to check one.  These tests check a report signed by
teecert's own signing path (``reportfactory``) with:

- ``securesystemslib.dsse`` (the Secure Systems Lab's DSSE implementation) and its
  Ed25519 ``SSlibKey``, under teecert's key id (SHA-256 of the raw public key; see
  docs/report-format.md, *Key ids in other tools*);
- ``in_toto_attestation.v1`` (the in-toto attestation framework's Python bindings):
  the payload parses strictly into its ``Statement`` message and passes its
  ``validate()``;

and the other way round: an envelope that securesystemslib signs verifies with
teecert's DSSE code.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from google.protobuf import json_format
from in_toto_attestation.v1 import statement as ita_statement
from in_toto_attestation.v1 import statement_pb2
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey

from teecert._internal import dsse
from teecert.errors import NotAuthentic
from teecert.report import keys
from teecert.report import statement as report

import reportfactory as rf


@pytest.fixture
def signed(tmp_path: Path) -> rf.SignedReport:
    return rf.make_signed_report(tmp_path, results=rf.make_results(9, 1))


def _envelope(signed: rf.SignedReport) -> Envelope:
    # from_dict rewrites the signatures' ``sig`` in place: give it a copy
    return Envelope.from_dict(copy.deepcopy(json.loads(signed.path.read_bytes())))


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# -- key ids ----------------------------------------------------------------------------------


def test_teecert_key_id_is_the_sha256_of_the_raw_key(signed: rf.SignedReport) -> None:
    raw = _raw(signed.key)
    keyid = hashlib.sha256(raw).hexdigest()
    env = json.loads(signed.path.read_bytes())
    assert [s["keyid"] for s in env["signatures"]] == [keyid]
    assert keys.keyid(signed.key.public_key()) == keyid == signed.statement["predicate"]["signer"]["keyid"]


def test_securesystemslib_key_id_differs_and_maps(signed: rf.SignedReport) -> None:
    """securesystemslib's default key id hashes its key metadata, not the raw key; give
    it teecert's id explicitly (the mapping docs/report-format.md shows)."""
    raw = _raw(signed.key)
    default = SSlibKey.from_crypto(signed.key.public_key())
    assert (default.keytype, default.scheme, default.keyval) == ("ed25519", "ed25519", {"public": raw.hex()})
    metadata = json.dumps({"keytype": "ed25519", "keyval": {"public": raw.hex()}, "scheme": "ed25519"},
                          separators=(",", ":"), sort_keys=True)
    assert default.keyid == hashlib.sha256(metadata.encode()).hexdigest() != keys.keyid(signed.key.public_key())
    mapped = SSlibKey.from_crypto(signed.key.public_key(), keyid=keys.keyid(signed.key.public_key()))
    assert mapped == SSlibKey(keys.keyid(signed.key.public_key()), "ed25519", "ed25519", {"public": raw.hex()})


# -- a teecert report, checked with securesystemslib and in-toto-attestation ---------------------


def test_report_verifies_with_securesystemslib_dsse(signed: rf.SignedReport) -> None:
    env = _envelope(signed)
    key = SSlibKey.from_crypto(signed.key.public_key(), keyid=keys.keyid(signed.key.public_key()))
    accepted = env.verify([key], 1)
    assert list(accepted) == [key.keyid]
    assert env.payload_type == report.PAYLOAD_TYPE == "application/vnd.in-toto+json"
    assert json.loads(env.payload) == signed.statement
    # the pre-authentication encoding is the one teecert signs
    assert env.pae() == dsse.pae(report.PAYLOAD_TYPE, env.payload)


def test_securesystemslib_refuses_what_teecert_refuses(signed: rf.SignedReport) -> None:
    key = SSlibKey.from_crypto(signed.key.public_key(), keyid=keys.keyid(signed.key.public_key()))
    # under its default key id securesystemslib does not even try the signature
    with pytest.raises(VerificationError):
        _envelope(signed).verify([SSlibKey.from_crypto(signed.key.public_key())], 1)
    # another signer, under the right id
    other = Ed25519PrivateKey.generate()
    impostor = SSlibKey.from_crypto(other.public_key(), keyid=key.keyid)
    with pytest.raises(VerificationError):
        _envelope(signed).verify([impostor], 1)
    # a payload changed after signing (one byte more)
    env = _envelope(signed)
    env.payload += b" "
    with pytest.raises(VerificationError):
        env.verify([key], 1)


def _statement_pb(payload: bytes) -> Any:
    # strict: a member the in-toto Statement does not define is an error
    return json_format.Parse(payload, statement_pb2.Statement(), ignore_unknown_fields=False)


def test_statement_validates_with_in_toto_attestation(signed: rf.SignedReport) -> None:
    payload = base64.b64decode(json.loads(signed.path.read_bytes())["payload"])
    pb = _statement_pb(payload)
    stmt = ita_statement.Statement.copy_from_pb(pb)
    stmt.validate()
    assert pb.type == ita_statement.STATEMENT_TYPE_URI == signed.statement["_type"]
    assert pb.predicate_type == signed.statement["predicateType"]
    assert [(s.name, dict(s.digest)) for s in pb.subject] == \
        [(s["name"], s["digest"]) for s in signed.statement["subject"]]
    assert json_format.MessageToDict(pb.predicate)["verdict"] == signed.statement["predicate"]["verdict"]


def test_in_toto_attestation_refuses_a_broken_statement(signed: rf.SignedReport) -> None:
    """The validator is a real check: the same payload without subjects, or under
    another statement type, fails it."""
    for edit in (lambda st: st.update(subject=[]), lambda st: st.update(_type="https://in-toto.io/Statement/v0.1")):
        st = copy.deepcopy(signed.statement)
        edit(st)
        with pytest.raises(ValueError):
            ita_statement.Statement.copy_from_pb(_statement_pb(json.dumps(st).encode())).validate()
    st = copy.deepcopy(signed.statement)
    st["extra"] = 1
    with pytest.raises(json_format.ParseError):
        _statement_pb(json.dumps(st).encode())


# -- and the other way round --------------------------------------------------------------------


def test_envelope_signed_by_securesystemslib_verifies_with_teecert(signed: rf.SignedReport) -> None:
    key = Ed25519PrivateKey.generate()
    keyid = keys.keyid(key.public_key())
    signer = CryptoSigner(key, SSlibKey.from_crypto(key.public_key(), keyid=keyid))
    payload = base64.b64decode(json.loads(signed.path.read_bytes())["payload"])
    env = Envelope(payload, report.PAYLOAD_TYPE, {})
    env.sign(signer)
    data = json.dumps(env.to_dict()).encode()
    ptype, body, keyids = dsse.verify(data, {keyid: key.public_key()}, "sslib envelope")
    assert (ptype, body, keyids) == (report.PAYLOAD_TYPE, payload, [keyid])
    with pytest.raises(NotAuthentic):
        dsse.verify(data, {keys.keyid(signed.key.public_key()): signed.key.public_key()}, "sslib envelope")
