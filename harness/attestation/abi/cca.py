"""Arm CCA attestation tokens: the collection, its two COSE_Sign1 tokens and their claims.

Decoding only (authenticity is ``verify.cca``, policy ``validate.policy``).  The layout
follows the Realm Management Monitor specification (Arm DEN0137, "Attestation token
format") and the IETF draft draft-ffm-rats-cca-token; the claim keys agree with the
reference implementations (veraison/ccatoken, TF-M tools' iat-verifier).

``parse_token(data, where) -> Token``
    ``data`` is the CCA attestation token as the RMM returns it (``RSI_ATTEST_TOKEN``,
    configfs-tsm ``outblob`` with provider ``arm_cca_guest``): CBOR tag 399 around a
    map ``{44234: platform token, 44241: realm token}``, each a byte string holding a
    COSE_Sign1 (CBOR tag 18 optional).  The CMW collection form (tag 907, each entry
    ``[content type, bytes]``) that newer firmware emits is accepted too.
    ``MalformedInput`` names the token and the claim.

Platform claims (CCA platform profile): 265 profile, 10 challenge (32, 48 or 64
bytes: the hash of the realm key), 2396 implementation id (32 bytes), 256 instance id
(33 bytes, first byte 0x01), 2401 configuration, 2395 lifecycle, 2399 software
components (each: 1 type, 2 measurement, 4 version, 5 signer id, 6 hash algorithm),
2400 verification service (optional), 2402 hash algorithm.

Realm claims: 10 challenge (64 bytes: the report data), 44235 personalization value
(64 bytes), 44238 initial measurement, 44239 four extensible measurements, 44236
measurement hash algorithm, 44237 realm public key (the RAK: a raw EC point or a
COSE_Key), 44240 realm public key hash algorithm, 265 profile (optional).

Claims that neither profile defines are kept (``unknown``) but never interpreted: an
EAT verifier ignores claims it does not know, and none of them can weaken a check here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cbor2

from ...errors import MalformedInput
from .cbor import cose_sign1, decode_one

MAX_TOKEN = 64 * 1024  # real tokens are ~1.5 KiB; the RMM's buffer is a few pages
TAG_CCA_TOKEN = 399  # the CCA token collection (RMM specification)
TAG_CMW_COLLECTION = 907  # the same pair as a CMW collection (draft-ietf-rats-msg-wrap)
FIRST_BYTES = (b"\xd9\x01\x8f", b"\xd9\x03\x8b")  # tag 399, tag 907 (two-byte tag heads)

KEY_PLATFORM = 44234
KEY_REALM = 44241

# COSE algorithm → (hash name, signature length r||s)
ALGORITHMS = {-7: ("sha256", 64), -35: ("sha384", 96), -36: ("sha512", 132)}
ALG_NAMES = {-7: "ES256", -35: "ES384", -36: "ES512"}
# hash algorithm names the tokens use (IANA "Named Information Hash Algorithm")
HASH_NAMES = {"sha-256": ("sha256", 32), "sha-384": ("sha384", 48), "sha-512": ("sha512", 64)}

# The platform profiles whose claims this module interprets (CCA platform profile 1.0.0
# as the RMM 1.0 token names it, and as draft-ffm-rats-cca-token names it); a token of
# another profile may give the same keys another meaning, so it is refused.
PLATFORM_PROFILES = ("http://arm.com/CCA-SSD/1.0.0", "tag:arm.com,2023:cca_platform#1.0.0")

# Platform lifecycle ranges (PSA/CCA security lifecycle, high byte).
LIFECYCLES = (
    ("unknown", 0x0000, 0x00FF),
    ("assembly_and_test", 0x1000, 0x10FF),
    ("cca_platform_rot_provisioning", 0x2000, 0x20FF),
    ("secured", 0x3000, 0x30FF),
    ("non_cca_platform_rot_debug", 0x4000, 0x40FF),
    ("recoverable_cca_platform_rot_debug", 0x5000, 0x50FF),
    ("decommissioned", 0x6000, 0x60FF),
)
DEBUG_LIFECYCLES = ("non_cca_platform_rot_debug", "recoverable_cca_platform_rot_debug")

P_PROFILE, P_CHALLENGE, P_IMPL_ID, P_INSTANCE_ID = 265, 10, 2396, 256
P_CONFIG, P_LIFECYCLE, P_SW_COMPONENTS, P_VERIFICATION_SERVICE, P_HASH_ALGO = 2401, 2395, 2399, 2400, 2402
R_CHALLENGE, R_PERSONALIZATION, R_INITIAL, R_EXTENSIBLE = 10, 44235, 44238, 44239
R_HASH_ALGO, R_PUBLIC_KEY, R_PUBLIC_KEY_HASH_ALGO, R_PROFILE = 44236, 44237, 44240, 265
SW_TYPE, SW_MEASUREMENT, SW_VERSION, SW_SIGNER_ID, SW_HASH_ALGO = 1, 2, 4, 5, 6

_PLATFORM_KNOWN = {P_PROFILE, P_CHALLENGE, P_IMPL_ID, P_INSTANCE_ID, P_CONFIG, P_LIFECYCLE, P_SW_COMPONENTS,
                   P_VERIFICATION_SERVICE, P_HASH_ALGO}
_REALM_KNOWN = {R_CHALLENGE, R_PERSONALIZATION, R_INITIAL, R_EXTENSIBLE, R_HASH_ALGO, R_PUBLIC_KEY,
                R_PUBLIC_KEY_HASH_ALGO, R_PROFILE}


def lifecycle_name(value: int) -> str:
    """The lifecycle state a 16-bit lifecycle value lies in, or ``invalid``."""
    for name, lo, hi in LIFECYCLES:
        if lo <= value <= hi:
            return name
    return "invalid"


@dataclass(frozen=True)
class Sign1:
    """One COSE_Sign1 (not yet trusted)."""

    protected: bytes
    payload: bytes
    signature: bytes
    alg: int

    def sig_structure(self) -> bytes:
        return cbor2.dumps(["Signature1", self.protected, b"", self.payload])


@dataclass(frozen=True)
class SwComponent:
    measurement: bytes
    signer_id: bytes
    type: str | None = None
    version: str | None = None
    hash_algo: str | None = None


@dataclass(frozen=True)
class PlatformClaims:
    profile: str
    challenge: bytes
    implementation_id: bytes
    instance_id: bytes
    config: bytes
    lifecycle: int
    sw_components: tuple[SwComponent, ...]
    hash_algo: str
    verification_service: str | None = None
    unknown: tuple[int | str, ...] = ()


@dataclass(frozen=True)
class RealmClaims:
    challenge: bytes
    personalization: bytes
    initial_measurement: bytes
    extensible_measurements: tuple[bytes, bytes, bytes, bytes]
    hash_algo: str
    public_key: bytes
    public_key_hash_algo: str
    profile: str | None = None
    unknown: tuple[int | str, ...] = ()


@dataclass(frozen=True)
class Token:
    platform: Sign1
    realm: Sign1
    platform_claims: PlatformClaims
    realm_claims: RealmClaims
    framing: str = "tag 399"
    notes: list[str] = field(default_factory=list)




def _sign1(raw: Any, what: str, where: str) -> Sign1:
    if not isinstance(raw, bytes):
        raise MalformedInput(f"{where}: {what} must be a byte string holding a COSE_Sign1, "
                             f"not {type(raw).__name__}")
    protected, unprotected, payload, signature = cose_sign1(raw, what, where)
    hdr = decode_one(protected, f"{what} protected header", where) if protected else {}
    alg = hdr.get(1) if isinstance(hdr, Mapping) else None
    if not isinstance(alg, int) or isinstance(alg, bool) or alg not in ALGORITHMS:
        raise MalformedInput(f"{where}: {what} protected header alg (label 1) = {alg!r}, "
                             "expected -7 (ES256), -35 (ES384) or -36 (ES512)")
    if 1 in unprotected:
        raise MalformedInput(f"{where}: {what} names alg in the unprotected header; only the protected one counts")
    want = ALGORITHMS[alg][1]
    if len(signature) != want:
        raise MalformedInput(f"{where}: {what} signature is {len(signature)} bytes, expected {want} "
                             f"({ALG_NAMES[alg]} r||s)")
    return Sign1(protected=protected, payload=payload, signature=signature, alg=alg)


class _Claims:
    """Typed access to one claims map, every error naming the token and the claim."""

    def __init__(self, m: Mapping[Any, Any], what: str, where: str) -> None:
        self.m, self.what, self.where = m, what, where

    def fail(self, key: int, name: str, why: str) -> MalformedInput:
        return MalformedInput(f"{self.where}: {self.what} claim {key} ({name}) {why}")

    def get(self, key: int, name: str, optional: bool = False) -> Any:
        if key not in self.m:
            if optional:
                return None
            raise self.fail(key, name, "is missing")
        return self.m[key]

    def bytes_(self, key: int, name: str, sizes: tuple[int, ...] | None = None, *, max_len: int = 1024,
               optional: bool = False) -> bytes | None:
        v = self.get(key, name, optional)
        if v is None and optional:
            return None
        if not isinstance(v, bytes):
            raise self.fail(key, name, f"must be a byte string, not {type(v).__name__}")
        if sizes is not None and len(v) not in sizes:
            raise self.fail(key, name, f"is {len(v)} bytes, expected {' or '.join(map(str, sizes))}")
        if len(v) > max_len:
            raise self.fail(key, name, f"is {len(v)} bytes, at most {max_len}")
        return v

    def text(self, key: int, name: str, *, optional: bool = False) -> str | None:
        v = self.get(key, name, optional)
        if v is None and optional:
            return None
        if not isinstance(v, str) or not v or len(v) > 256:
            raise self.fail(key, name, "must be a non-empty text string of at most 256 characters")
        return v

    def hash_name(self, key: int, name: str) -> str:
        v = self.text(key, name)
        assert v is not None
        if v not in HASH_NAMES:
            raise self.fail(key, name, f"= {v!r}, expected one of {', '.join(HASH_NAMES)}")
        return v


def _sw_component(item: Any, i: int, where: str) -> SwComponent:
    what = f"platform token claim 2399 (software components) [{i}]"
    if not isinstance(item, Mapping):
        raise MalformedInput(f"{where}: {what} must be a map")
    c = _Claims(item, what, where)
    measurement = c.bytes_(SW_MEASUREMENT, "measurement value", (32, 48, 64))
    signer = c.bytes_(SW_SIGNER_ID, "signer id", (32, 48, 64))
    assert measurement is not None and signer is not None
    return SwComponent(measurement=measurement, signer_id=signer, type=c.text(SW_TYPE, "type", optional=True),
                       version=c.text(SW_VERSION, "version", optional=True),
                       hash_algo=c.text(SW_HASH_ALGO, "hash algorithm", optional=True))


def parse_platform_claims(payload: bytes, where: str) -> PlatformClaims:
    m = decode_one(payload, "platform token payload", where)
    if not isinstance(m, Mapping):
        raise MalformedInput(f"{where}: platform token payload must be a CBOR map of claims")
    c = _Claims(m, "platform token", where)
    profile = c.text(P_PROFILE, "profile")
    if profile not in PLATFORM_PROFILES:
        raise c.fail(P_PROFILE, "profile", f"= {profile!r}, expected one of {', '.join(PLATFORM_PROFILES)}")
    challenge = c.bytes_(P_CHALLENGE, "challenge", (32, 48, 64))
    impl = c.bytes_(P_IMPL_ID, "implementation id", (32,))
    inst = c.bytes_(P_INSTANCE_ID, "instance id", (33,))
    assert inst is not None
    if inst[0] != 0x01:
        raise c.fail(P_INSTANCE_ID, "instance id", f"starts with {inst[0]:#04x}, expected 0x01 (EAT UEID type RAND)")
    config = c.bytes_(P_CONFIG, "configuration", max_len=4096)
    lc = c.get(P_LIFECYCLE, "lifecycle")
    if not isinstance(lc, int) or isinstance(lc, bool) or not 0 <= lc <= 0xFFFF:
        raise c.fail(P_LIFECYCLE, "lifecycle", "must be an unsigned 16-bit integer")
    if lifecycle_name(lc) == "invalid":
        raise c.fail(P_LIFECYCLE, "lifecycle", f"= {lc:#06x} lies in no defined lifecycle state")
    comps = c.get(P_SW_COMPONENTS, "software components")
    if not isinstance(comps, list | tuple) or not 1 <= len(comps) <= 256:
        raise c.fail(P_SW_COMPONENTS, "software components", "must be an array of 1 to 256 components")
    sw = tuple(_sw_component(x, i, where) for i, x in enumerate(comps))
    hash_algo = c.text(P_HASH_ALGO, "hash algorithm")
    assert profile is not None and challenge is not None and impl is not None
    assert config is not None and hash_algo is not None
    return PlatformClaims(profile=profile, challenge=challenge, implementation_id=impl, instance_id=inst,
                          config=config, lifecycle=lc, sw_components=sw, hash_algo=hash_algo,
                          verification_service=c.text(P_VERIFICATION_SERVICE, "verification service",
                                                      optional=True),
                          unknown=tuple(sorted((k for k in m if k not in _PLATFORM_KNOWN), key=repr)))


def parse_realm_claims(payload: bytes, where: str) -> RealmClaims:
    m = decode_one(payload, "realm token payload", where)
    if not isinstance(m, Mapping):
        raise MalformedInput(f"{where}: realm token payload must be a CBOR map of claims")
    c = _Claims(m, "realm token", where)
    challenge = c.bytes_(R_CHALLENGE, "challenge", (64,))
    rpv = c.bytes_(R_PERSONALIZATION, "personalization value", (64,))
    rim = c.bytes_(R_INITIAL, "initial measurement", (32, 48, 64))
    rems = c.get(R_EXTENSIBLE, "extensible measurements")
    if not isinstance(rems, list | tuple) or len(rems) != 4:
        raise c.fail(R_EXTENSIBLE, "extensible measurements", "must be an array of 4 measurements (REM0..REM3)")
    for i, r in enumerate(rems):
        if not isinstance(r, bytes) or len(r) not in (32, 48, 64):
            raise c.fail(R_EXTENSIBLE, "extensible measurements", f"[{i}] must be 32, 48 or 64 bytes")
    hash_algo = c.hash_name(R_HASH_ALGO, "measurement hash algorithm")
    rak = c.bytes_(R_PUBLIC_KEY, "realm public key", max_len=512)
    rak_hash = c.hash_name(R_PUBLIC_KEY_HASH_ALGO, "realm public key hash algorithm")
    assert challenge is not None and rpv is not None and rim is not None and rak is not None
    return RealmClaims(challenge=challenge, personalization=rpv, initial_measurement=rim,
                       extensible_measurements=(rems[0], rems[1], rems[2], rems[3]), hash_algo=hash_algo,
                       public_key=rak, public_key_hash_algo=rak_hash,
                       profile=c.text(R_PROFILE, "profile", optional=True),
                       unknown=tuple(sorted((k for k in m if k not in _REALM_KNOWN), key=repr)))


def is_cca(data: bytes) -> bool:
    """Whether ``data`` starts like a CCA token collection (tag 399 or 907)."""
    return any(data.startswith(p) for p in FIRST_BYTES)


def parse_token(data: bytes, where: str) -> Token:
    """Decode the collection, both COSE_Sign1 tokens and both claim sets (nothing trusted yet)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedInput(f"{where}: a CCA attestation token must be bytes")
    data = bytes(data)
    if not data:
        raise MalformedInput(f"{where}: empty CCA attestation token")
    if len(data) > MAX_TOKEN:
        raise MalformedInput(f"{where}: {len(data)} bytes, larger than any CCA attestation token")
    top = decode_one(data, "CCA token collection", where)
    if not isinstance(top, cbor2.CBORTag) or top.tag not in (TAG_CCA_TOKEN, TAG_CMW_COLLECTION):
        tag = top.tag if isinstance(top, cbor2.CBORTag) else None
        raise MalformedInput(f"{where}: CCA token collection has CBOR tag {tag}, expected 399 (or 907)")
    coll = top.value
    if not isinstance(coll, Mapping):
        raise MalformedInput(f"{where}: CCA token collection (tag {top.tag}) must be a map")
    extra = sorted((k for k in coll if k not in (KEY_PLATFORM, KEY_REALM)), key=repr)
    if extra:
        raise MalformedInput(f"{where}: CCA token collection has unexpected key {extra[0]!r} "
                             "(only 44234 platform and 44241 realm)")
    raw: dict[int, Any] = {}
    for key, what in ((KEY_PLATFORM, "platform token (collection key 44234)"),
                      (KEY_REALM, "realm token (collection key 44241)")):
        if key not in coll:
            raise MalformedInput(f"{where}: CCA token collection has no {what}")
        v = coll[key]
        if top.tag == TAG_CMW_COLLECTION:
            # CMW record: [content type, value]; the value is the COSE_Sign1 bytes
            if (not isinstance(v, list | tuple) or len(v) != 2 or not isinstance(v[0], int | str)
                    or isinstance(v[0], bool) or not isinstance(v[1], bytes)):
                raise MalformedInput(f"{where}: {what} in a CMW collection must be [content type, bytes]")
            v = v[1]
        raw[key] = v
    platform = _sign1(raw[KEY_PLATFORM], "platform token", where)
    realm = _sign1(raw[KEY_REALM], "realm token", where)
    return Token(platform=platform, realm=realm,
                 platform_claims=parse_platform_claims(platform.payload, where),
                 realm_claims=parse_realm_claims(realm.payload, where),
                 framing="tag 399" if top.tag == TAG_CCA_TOKEN else "CMW collection (tag 907)")
