"""The ``cca`` fuzz target: Arm CCA attestation tokens and their platform keys.

Seeds: the public example tokens of ``tests/data/realworld/attestation/cca`` with their
platform keys (where present), and a token signed here with fixed keys (RFC 6979
deterministic ECDSA, so every case replays exactly) whose claims the fuzzer can change
and re-sign, so that mutated claims get past the signatures and reach the policy.

Mutations: the whole token's bytes; one inner COSE_Sign1's bytes (re-wrapped in the
collection); the collection itself (tag, keys, CMW form); one claim of either token
(deleted, retyped, resized, nested) re-signed with the seed's key, with the platform
challenge re-bound to the realm key or not; the platform key file (PEM, JWK, COSE_Key).
Each case calls ``evidence.verify`` (format ``auto`` or ``cca``) with the key, then
``policy.validate`` under a pinned policy with every CCA rule set, and
``evidence.verified_to_json``.  ``register()`` adds the target to ``targets.TARGETS``
and ``targets.MAKERS`` (``tests/fuzz/run.py`` calls it).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from teecert.attestation import evidence
from teecert.attestation.validate import policy

from . import mutators as mu
from . import targets as tg

NAME = "cca"
WHERE = "fuzz-cca-token.cbor"
KEY_WHERE = "fuzz-cca-cpak"
AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
REALWORLD = Path(os.environ.get("TEECERT_REALWORLD") or tg.TESTS / "data" / "realworld" / "attestation") / "cca"
REAL = (("rmm_example_token.cbor", "rmm_example_cpak.pem"), ("veraison_token_02.cbor", "veraison_token_02_cpak.jwk"))

# fixed scalars: the fuzzer's own keys, the same in every process (never secrets of anyone)
_CPAK = ec.derive_private_key(0x5EED_CCA_0001, ec.SECP384R1())
_RAK = ec.derive_private_key(0x5EED_CCA_0002, ec.SECP384R1())
_SIZE = {"secp256r1": (-7, hashes.SHA256(), 32), "secp384r1": (-35, hashes.SHA384(), 48),
         "secp521r1": (-36, hashes.SHA512(), 66)}


def _sign1(key: ec.EllipticCurvePrivateKey, payload: bytes, alg: int | None = None) -> bytes:
    want, h, size = _SIZE[key.curve.name]
    protected = cbor2.dumps({1: want if alg is None else alg})
    der = key.sign(cbor2.dumps(["Signature1", protected, b"", payload]), ec.ECDSA(h, deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, r.to_bytes(size, "big") + s.to_bytes(size, "big")]))


def _rak_bytes() -> bytes:
    return _RAK.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def _claims() -> tuple[dict[Any, Any], dict[Any, Any]]:
    realm: dict[Any, Any] = {10: bytes(range(64)), 44235: b"\x5a" * 64, 44238: b"\x01" * 32,
                             44239: [b"\x00" * 32] * 4, 44236: "sha-256", 44237: _rak_bytes(), 44240: "sha-256",
                             265: "tag:arm.com,2024:realm#1.0.0"}
    platform: dict[Any, Any] = {
        265: "tag:arm.com,2023:cca_platform#1.0.0", 10: hashlib.sha256(_rak_bytes()).digest(),
        2396: b"\x7f" * 32, 256: b"\x01" + b"\x07" * 32, 2401: b"\xcf" * 4, 2395: 0x3000,
        2399: [{1: "RMM", 2: b"\x11" * 32, 4: "1.0", 5: b"\x22" * 32, 6: "sha-256"}, {2: b"\x33" * 32, 5: b"\x44" * 32}],
        2400: "https://veraison.example", 2402: "sha-256"}
    return platform, realm


def _collection(platform: bytes, realm: bytes, tag: int = 399) -> bytes:
    return cbor2.dumps(cbor2.CBORTag(tag, {44234: platform, 44241: realm}))


def _selfsigned() -> bytes:
    platform, realm = _claims()
    return _collection(_sign1(_CPAK, cbor2.dumps(platform)), _sign1(_RAK, cbor2.dumps(realm)))


def _cpak_pem() -> bytes:
    return _CPAK.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _fp(key_pem: bytes) -> str:
    der = serialization.load_pem_public_key(key_pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


@functools.cache
def seeds() -> list[tuple[str, bytes, bytes]]:
    """(name, token, platform key file) of every seed."""
    out = [("selfsigned", tg.cached("cca-selfsigned.cbor", _selfsigned), _cpak_pem())]
    for token, key in REAL:
        if (REALWORLD / token).is_file() and (REALWORLD / key).is_file():
            out.append((token, (REALWORLD / token).read_bytes(), (REALWORLD / key).read_bytes()))
    return out


@functools.cache
def _policy() -> dict[str, Any]:
    return {"formats": ["cca"], "cca_platform_keys": [_fp(_cpak_pem())], "report_data": bytes(range(64)).hex(),
            "allowed_measurements": [{"RIM": "01" * 32, "RPV": "5a" * 64}],
            "cca_sw_components": [{"type": "RMM", "signer_id": "22" * 32}], "cca_lifecycles": ["secured"]}


def _mutate_claim(claims: dict[Any, Any], rng: random.Random) -> str:
    key = rng.choice(sorted(claims, key=repr))
    r = rng.random()
    if r < 0.2:
        del claims[key]
        return f"delete:{key}"
    v = claims[key]
    if r < 0.5 and isinstance(v, bytes):
        claims[key] = mu.mutate_bytes(v, rng)[1]
        return f"bytes:{key}"
    if r < 0.6 and isinstance(v, list) and v:
        i = rng.randrange(len(v))
        if isinstance(v[i], dict) and v[i]:
            sub = dict(v[i])
            _mutate_claim(sub, rng)
            v = [*v[:i], sub, *v[i + 1:]]
        else:
            v = [*v[:i], mu.interesting_value(rng), *v[i + 1:]]
        claims[key] = v
        return f"item:{key}"
    if r < 0.7:
        claims[rng.choice((key, mu.interesting_int(rng), mu.interesting_string(rng)[:8]))] = mu.interesting_value(rng)
        return f"add:{key}"
    claims[key] = rng.choice((mu.interesting_value(rng), mu.interesting_int(rng), b"", b"\x00" * rng.randrange(200),
                              "sha-384", "md5", [], [b"\x00" * 32] * rng.randrange(6)))
    return f"retype:{key}"


def _resigned(rng: random.Random) -> tuple[str, bytes]:
    platform, realm = _claims()
    which = rng.choice(("platform", "realm", "both"))
    kinds = []
    if which in ("realm", "both"):
        kinds.append("realm:" + _mutate_claim(realm, rng))
    if which in ("platform", "both"):
        kinds.append("platform:" + _mutate_claim(platform, rng))
    rak = realm.get(44237)
    algo = realm.get(44240)
    if rng.random() < 0.7 and isinstance(rak, bytes) and algo in ("sha-256", "sha-384", "sha-512"):
        platform[10] = hashlib.new(algo.replace("-", ""), rak).digest()  # keep the binding where it can be kept
    try:
        p_payload, r_payload = cbor2.dumps(platform), cbor2.dumps(realm)
    except Exception:  # a value cbor2 cannot encode (the mutators make floats, deep nests): the bytes as they are
        return "claims:unencodable", _selfsigned_cached()
    alg = rng.choice((None, None, None, -7, -36, 5))
    return "claims:" + "+".join(kinds), _collection(_sign1(_CPAK, p_payload), _sign1(_RAK, r_payload, alg))


def _selfsigned_cached() -> bytes:
    return seeds()[0][1]


def _encodable(kind: str, obj: Any) -> tuple[str, bytes]:
    """``obj`` as CBOR, or an empty tag-399 map where the mutators made what CBOR cannot
    hold (lone surrogates, floats in keys): the fuzzer's own limit, not teecert's."""
    try:
        return kind, cbor2.dumps(obj)
    except Exception:  # cbor2 refuses such values with several exception types
        return kind + ":unencodable", cbor2.dumps(cbor2.CBORTag(399, {}))


def _mutate_collection(token: bytes, rng: random.Random) -> tuple[str, bytes]:
    coll = dict(cbor2.loads(token).value)
    r = rng.random()
    if r < 0.25:
        return _encodable("collection:tag", cbor2.CBORTag(rng.choice((18, 398, 400, 907, 61, 0)), coll))
    if r < 0.5:
        cmw = {k: [rng.choice((263, "application/eat+cwt", -1, 0)), v] for k, v in coll.items()}
        if rng.random() < 0.5:
            k = rng.choice(list(cmw))
            cmw[k] = rng.choice(([], [1], [263, "text"], [263, coll[k], coll[k]], coll[k]))
        return _encodable("collection:cmw", cbor2.CBORTag(907, cmw))
    if r < 0.75:
        k = rng.choice(list(coll))
        if rng.random() < 0.5:
            del coll[k]
        else:
            coll[rng.choice((1, 44235, "44234", k))] = mu.interesting_value(rng)
        return _encodable("collection:keys", cbor2.CBORTag(399, coll))
    p, q = coll[44234], coll[44241]
    return "collection:swap", _collection(q, p)


def _mutate_inner(token: bytes, rng: random.Random) -> tuple[str, bytes]:
    coll = cbor2.loads(token).value
    which = rng.choice((44234, 44241))
    kind, data = mu.mutate_bytes(coll[which], rng)
    other = 44241 if which == 44234 else 44234
    return f"inner:{which}:{kind}", cbor2.dumps(cbor2.CBORTag(399, {which: data, other: coll[other]}))


def _mutate_key(key: bytes, rng: random.Random) -> tuple[str, bytes]:
    r = rng.random()
    if r < 0.5:
        k, data = mu.mutate_bytes(key, rng)
        return f"key:{k}", data
    n = _CPAK.public_key().public_numbers()
    if r < 0.75:
        jwk: dict[str, Any] = {"kty": "EC", "crv": "P-384", "x": n.x.to_bytes(48, "big").hex(), "y": "AA"}
        jwk[rng.choice(("kty", "crv", "x", "y", "d"))] = mu.interesting_value(rng)
        try:
            return "key:jwk", json.dumps(jwk).encode()
        except (TypeError, ValueError):
            return "key:jwk", b"{"
    cose: dict[Any, Any] = {1: 2, -1: 2, -2: n.x.to_bytes(48, "big"), -3: n.y.to_bytes(48, "big")}
    cose[rng.choice((1, -1, -2, -3, 3))] = mu.interesting_value(rng)
    try:
        return "key:cose", cbor2.dumps(cose)
    except Exception:  # a value cbor2 cannot encode
        return "key:cose", b"\xa0"


def make_cca(rng: random.Random) -> tg.Case:
    name, token, key = rng.choice(seeds())
    r = rng.random()
    if r < 0.3:
        kind, data = mu.mutate_bytes(token, rng)
    elif r < 0.5:
        kind, data = _mutate_inner(token, rng)
    elif r < 0.6:
        kind, data = _mutate_collection(token, rng)
    elif r < 0.85:
        name, (kind, data) = "selfsigned", _resigned(rng)
        key = _cpak_pem()
    else:
        data = token
        kind, key = _mutate_key(key, rng)
    fmt = rng.choice(("auto", "cca", "cca"))

    def run() -> str:
        v = evidence.verify(data, WHERE, fmt=fmt, certs=[key], at=AT)
        fails = policy.validate(v, _policy())
        evidence.verified_to_json(v)
        return "accepted" if not fails else "rejected"
    return tg.Case(f"{kind}@{name}", run, (WHERE,), data)


def register() -> None:
    if NAME not in tg.TARGETS:
        # TARGETS is a fixed tuple in targets.py: extended in place for run.py and the smoke test
        setattr(tg, "TARGETS", (*tg.TARGETS, NAME))  # noqa: B010
        tg.MAKERS[NAME] = make_cca
