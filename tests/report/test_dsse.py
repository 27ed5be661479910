"""DSSE envelopes: the specification's known answers, Ed25519, and strict parsing.

Known answers come from the DSSE specification (github.com/secure-systems-lab/dsse:
protocol.md's worked example and testvectors/vectors.json, whose keys are RFC 8032
section 7.1 TEST 1 and TEST 2) and from RFC 8032 itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teecert._internal import dsse
from teecert.errors import MalformedInput, NotAuthentic

# RFC 8032 section 7.1, TEST 1 and TEST 2: (secret key, public key, message, signature).
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065"
        "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]
KEY_A = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032[0][0]))
KEY_B = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032[1][0]))
INTOTO = "application/vnd.in-toto+json"
STATEMENT_B64 = "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ=="
# Signature by key A over the PAE of STATEMENT_B64 as an in-toto payload (vectors.json).
SIG_A_STATEMENT = "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA=="


def trust(*keys: Ed25519PrivateKey) -> dict[str, Any]:
    return {dsse.keyid_of(k.public_key()): k.public_key() for k in keys}


# -- known answers -----------------------------------------------------------------------


def test_pae_matches_the_protocol_example() -> None:
    # protocol.md, "Test Vectors".
    assert dsse.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_protocol_example_signature_verifies_over_our_pae() -> None:
    # The example's ECDSA P-256 signature was made by the reference implementation
    # over its PAE; it verifies over ours only if the bytes are identical.
    x = 46950820868899156662930047687818585632848591499744589407958293238635476079160
    y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
    pub = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    raw = base64.b64decode("A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==")
    sig = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    pub.verify(sig, dsse.pae("http://example.com/HelloWorld", b"hello world"), ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize(
    ("payload_type", "payload", "pae_hex"),
    [
        # vectors.json "single-signature"
        (INTOTO, base64.b64decode(STATEMENT_B64),
         "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e203433207b225f7479"
         "7065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f7631227d"),
        # "non-ascii-payload-type": LEN is the UTF-8 byte length (29), not 28 characters
        ("application/vnd.ex\u00e4mple+json", base64.b64decode(STATEMENT_B64),
         "445353457631203239206170706c69636174696f6e2f766e642e6578c3a46d706c652b6a736f6e203433207b225f"
         "74797065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f7631227d"),
        # "empty-payload": a trailing space after the zero length
        (INTOTO, b"", "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e203020"),
    ],
)
def test_pae_matches_the_dsse_test_vectors(payload_type: str, payload: bytes, pae_hex: str) -> None:
    assert dsse.pae(payload_type, payload).hex() == pae_hex


@pytest.mark.parametrize(("sk", "pk", "msg", "sig"), RFC8032)
def test_ed25519_rfc8032_vectors(sk: str, pk: str, msg: str, sig: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sk))
    assert key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex() == pk
    assert key.sign(bytes.fromhex(msg)).hex() == sig


def test_keyid_is_sha256_of_the_raw_public_key() -> None:
    assert dsse.keyid_of(KEY_A.public_key()) == hashlib.sha256(bytes.fromhex(RFC8032[0][1])).hexdigest()


def test_spec_envelope_verifies_and_foreign_keyid_hint_is_ignored() -> None:
    # The spec's keyid "A" is not our key id format: the hint must not matter.
    env = {"payload": STATEMENT_B64, "payloadType": INTOTO, "signatures": [{"sig": SIG_A_STATEMENT, "keyid": "A"}]}
    ptype, payload, signers = dsse.verify(env, trust(KEY_A), "spec")
    assert (ptype, payload) == (INTOTO, base64.b64decode(STATEMENT_B64))
    assert signers == [dsse.keyid_of(KEY_A.public_key())]
    # Our signer produces the same deterministic signature.
    assert dsse.sign(INTOTO, payload, [KEY_A])["signatures"][0]["sig"] == SIG_A_STATEMENT


def test_url_safe_base64_is_accepted() -> None:
    env = {"payload": "-_-_Pj8=", "payloadType": INTOTO, "signatures": [{
        "sig": "P-_KHICeR7tI6S_YyejJTRtrXhcQyQ2LYPaL8h90KjC9qN8HU_svOQ6TuDOT1HIrsGW886DbWNWcCmX5twLrAw==",
        "keyid": "A"}]}
    assert dsse.verify(env, trust(KEY_A), "spec")[1] == bytes.fromhex("fbffbf3e3f")


def test_swapped_payload_type_is_refused() -> None:
    env = {"payload": STATEMENT_B64, "payloadType": "application/vnd.example.other+json",
           "signatures": [{"sig": SIG_A_STATEMENT, "keyid": "A"}]}
    with pytest.raises(NotAuthentic):
        dsse.verify(env, trust(KEY_A), "spec")


def test_one_key_signing_twice_counts_once() -> None:
    env = {"payload": STATEMENT_B64, "payloadType": INTOTO,
           "signatures": [{"sig": SIG_A_STATEMENT, "keyid": "A"}, {"sig": SIG_A_STATEMENT, "keyid": "A"}]}
    assert dsse.verify(env, trust(KEY_A, KEY_B), "spec")[2] == [dsse.keyid_of(KEY_A.public_key())]


# -- sign / verify -----------------------------------------------------------------------------


def test_roundtrip_with_two_signers() -> None:
    env = dsse.sign("application/x-test", b"\x00payload\xff", [KEY_A, KEY_B])
    assert [s["keyid"] for s in env["signatures"]] == [dsse.keyid_of(KEY_A.public_key()),
                                                       dsse.keyid_of(KEY_B.public_key())]
    ptype, payload, signers = dsse.verify(json.dumps(env).encode(), trust(KEY_A, KEY_B), "e.json")
    assert (ptype, payload) == ("application/x-test", b"\x00payload\xff")
    assert signers == sorted(trust(KEY_A, KEY_B))
    # Only trusted keys count; the other signature is ignored, not an error.
    assert dsse.verify(env, trust(KEY_B), "e.json")[2] == [dsse.keyid_of(KEY_B.public_key())]


def test_untrusted_signer_is_refused() -> None:
    env = dsse.sign(INTOTO, b"{}", [KEY_A])
    with pytest.raises(NotAuthentic, match="no valid signature by a trusted key"):
        dsse.verify(env, trust(KEY_B), "e.json")
    with pytest.raises(NotAuthentic, match="no trusted keys"):
        dsse.verify(env, {}, "e.json")


def test_flipped_payload_byte_is_refused() -> None:
    env = dsse.sign(INTOTO, b'{"verdict":"NOT_CERTIFIED"}', [KEY_A])
    payload = bytearray(base64.b64decode(env["payload"]))
    payload[5] ^= 0x01
    env["payload"] = base64.b64encode(bytes(payload)).decode()
    with pytest.raises(NotAuthentic):
        dsse.verify(env, trust(KEY_A), "e.json")


def test_signature_checked_before_payload_is_parsed() -> None:
    # A payload that is not JSON at all: verify never parses it, so a good signature
    # passes it through and a bad one is NotAuthentic, never MalformedInput.
    env = dsse.sign(INTOTO, b"\xff{{ not json", [KEY_A])
    assert dsse.verify(env, trust(KEY_A), "e.json")[1] == b"\xff{{ not json"
    with pytest.raises(NotAuthentic):
        dsse.verify(env, trust(KEY_B), "e.json")


def test_signature_of_wrong_length_does_not_count() -> None:
    env = dsse.sign(INTOTO, b"{}", [KEY_A])
    env["signatures"][0]["sig"] = base64.b64encode(b"\x01" * 63).decode()
    with pytest.raises(NotAuthentic):
        dsse.verify(env, trust(KEY_A), "e.json")


# -- strict envelope parsing -----------------------------------------------------------------


def _env() -> dict[str, Any]:
    return dsse.sign(INTOTO, b"{}", [KEY_A])


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda e: e.update(extra=1), "unknown envelope field 'extra'"),
        (lambda e: e.pop("payloadType"), "envelope has no 'payloadType'"),
        (lambda e: e.pop("signatures"), "envelope has no 'signatures'"),
        (lambda e: e.update(payloadType=5), "'payloadType' must be a string"),
        (lambda e: e.update(payload=["x"]), "'payload' must be a base64 string"),
        (lambda e: e.update(payload="e30=!"), "'payload' is not base64"),
        (lambda e: e.update(payload="e31="), "'payload' is not canonical base64"),
        (lambda e: e.update(payload="e30"), None),  # unpadded is fine
        (lambda e: e.update(payload="e30=="), "wrong base64 padding"),
        (lambda e: e.update(signatures=[]), "non-empty list"),
        (lambda e: e.update(signatures={"sig": "x"}), "non-empty list"),
        (lambda e: e["signatures"].append("sig"), r"signatures\[1\] must be an object"),
        (lambda e: e["signatures"][0].update(alg="ed25519"), "unknown field 'alg'"),
        (lambda e: e["signatures"][0].pop("sig"), "'sig' must be a base64 string"),
        (lambda e: e["signatures"][0].update(keyid=7), "'keyid' must be a string"),
    ],
)
def test_envelope_shape_is_strict(edit: Any, problem: str | None) -> None:
    env = _env()
    edit(env)
    if problem is None:
        dsse.verify(env, trust(KEY_A), "e.json")
        return
    with pytest.raises(MalformedInput, match=problem) as e:
        dsse.verify(json.dumps(env).encode(), trust(KEY_A), "e.json")
    assert str(e.value).startswith("e.json")


@pytest.mark.parametrize(
    "data",
    [b"", b"[]", b'"envelope"', b'{"payload": "e30=", "payload": "e30="}', b'{"payload": "e30=", "payloadType":'],
)
def test_broken_envelope_json_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedInput):
        dsse.verify(data, trust(KEY_A), "e.json")
