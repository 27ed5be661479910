"""Governance: who may sign policy, and what it has withdrawn.

A **governance file** (``teecert-governance/1``) lists the n governance keys and the
threshold k: a signed profile, revocation list or decision is authentic only when at
least k *distinct* listed keys signed it (DSSE, Ed25519; other signatures are
ignored, a key that signed twice counts once).  A **revocation list**
(``teecert-revocations/1``, payloadType ``application/vnd.teecert.revocations+json``)
withdraws, each from a time on: profile versions below a minimum, vector sets,
report signing keys, governance keys and platforms.  ``check_report`` applies a list
(and a profile's activation window) to a run report; ``docs/profile-format.md``
specifies both files.

Governance state cannot be rolled back.  A list is accepted only between its
``issued`` and ``expires`` times, and only if its ``sequence`` is not below the
highest this machine has accepted for the same governance (``state.py``; an equal
sequence must be the very same list).  A governance key a list revokes stops
counting toward the threshold from its ``from`` time, for every governance-signed
document; on the list that revokes it, it never counts (a key does not vote on its
own revocation), and a key revoked by a list accepted earlier does not count on
later lists either (``governance_at``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .._internal import canonical, dsse
from .._internal.atomic import write_atomic
from .._internal.files import read_input
from .._internal.schema import schema_error
from .._internal.schema import validator as schema_validator
from .._internal.timefmt import format_time, parse_time
from ..errors import MalformedInput, NotAuthentic, UsageError
from ..report import keys
from . import state

if TYPE_CHECKING:
    import jsonschema

GOVERNANCE_SCHEMA = "teecert-governance/1"
REVOCATIONS_SCHEMA = "teecert-revocations/1"
REVOCATIONS_PAYLOAD_TYPE = "application/vnd.teecert.revocations+json"
DECISION_PAYLOAD_TYPE = "application/vnd.teecert.verify.decision+json"
#: Tiers whose profiles must be signed by governance wherever governance is in force.
CERTIFICATION_TIERS = frozenset({"bootstrap", "strict"})


# -- small shared pieces -------------------------------------------------------------


def resolve_at(at: _dt.datetime | None) -> _dt.datetime:
    """The verification time: ``at`` (naive taken as UTC) or now."""
    when = at or _dt.datetime.now(_dt.UTC)
    return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)


def _validator(name: str) -> jsonschema.protocols.Validator:
    return schema_validator(name)


def check_schema(doc: Any, name: str, where: str) -> None:
    """``MalformedInput`` (file and JSON path) unless ``doc`` fits ``schemas/<name>.schema.json``."""
    err = schema_error(list(_validator(name).iter_errors(doc)), where)
    if err is not None:
        raise err


def read_bytes(path: str | Path, what: str) -> bytes:
    return read_input(path, what)


is_envelope = dsse.is_envelope


def payload_type_of(data: bytes, where: str) -> str | None:
    """The ``payloadType`` of an envelope file, or None if the file is not an envelope."""
    doc = canonical.loads(data, where)
    if not is_envelope(doc):
        return None
    t = doc["payloadType"]
    if not isinstance(t, str):
        raise MalformedInput(f"{where}: envelope 'payloadType' must be a string")
    return t


def write_envelope(path: str | Path, envelope: Mapping[str, Any], *, overwrite: bool = False) -> Path:
    """Write an envelope as indented JSON (its layout is not signed), atomically."""
    data = (json.dumps(envelope, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return write_atomic(Path(path), data, 0o644, overwrite=overwrite)


# -- the governance file -------------------------------------------------------------


@dataclass(frozen=True)
class Governance:
    """The governance keys (by key id) and how many distinct ones must sign."""

    threshold: int
    keys: Mapping[str, Ed25519PublicKey]
    source: str = ""
    #: Governance keys whose signatures do not count (key id -> why, for messages);
    #: ``governance_at`` fills it for a verification time.
    revoked: Mapping[str, str] = field(default_factory=dict)

    @property
    def keyset_id(self) -> str:
        """The SHA-256 of the RFC 8785 form of the sorted key ids: what the state folder
        knows this governance by (names and threshold may change; the keys are the authority)."""
        return canonical.sha256_hex(sorted(self.keys))

    def describe(self, signers: Iterable[str]) -> str:
        n = len(list(signers))
        return f"{n} of the {len(self.keys)} governance keys (threshold {self.threshold})"

    def revoking(self, revoked: Mapping[str, str]) -> Governance:
        """This governance with ``revoked`` (key id -> why) no longer counting as well."""
        extra = {k: v for k, v in revoked.items() if k in self.keys and k not in self.revoked}
        return replace(self, revoked={**self.revoked, **extra}) if extra else self


def governance_from_document(doc: Any, where: str) -> Governance:
    """Check a governance document (schema, key ids, distinct keys, k ≤ n) and wrap it."""
    if not isinstance(doc, dict):
        raise MalformedInput(f"{where}: a governance file is a JSON object")
    check_schema(doc, "governance", where)
    trusted: dict[str, Ed25519PublicKey] = {}
    for i, entry in enumerate(doc["keys"]):
        at = f"{where}: $.keys[{i}]"
        pub = keys.public_from_raw_b64(entry["public_key"], f"{at}.public_key")
        kid = keys.keyid(pub)
        if kid != entry["keyid"]:
            raise MalformedInput(f"{at}.keyid is not the key id of its public_key (expected {kid})")
        if kid in trusted:
            raise MalformedInput(f"{at}: key {kid[:16]} is listed twice; each key counts once")
        trusted[kid] = pub
    if doc["threshold"] > len(trusted):
        raise MalformedInput(f"{where}: $.threshold {doc['threshold']} exceeds the {len(trusted)} keys listed")
    return Governance(threshold=int(doc["threshold"]), keys=trusted, source=where)


def load_governance(path: str | Path | Governance) -> Governance:
    """A governance file (or an already loaded ``Governance``, returned as is)."""
    if isinstance(path, Governance):
        return path
    return governance_from_document(canonical.loads(read_bytes(path, "governance"), str(path)), str(path))


def governance_document(pubs: Iterable[Ed25519PublicKey], threshold: int,
                        names: Iterable[str] | None = None) -> dict[str, Any]:
    """A governance document for ``pubs`` (deduplicated, in key id order) and ``threshold``."""
    pubs = list(pubs)
    named = dict(zip((keys.keyid(p) for p in pubs), names, strict=False)) if names is not None else {}
    by_id = {keys.keyid(p): p for p in pubs}
    entries: list[dict[str, Any]] = []
    for kid in sorted(by_id):
        e = {"keyid": kid, "public_key": keys.public_raw_b64(by_id[kid])}
        if kid in named:
            e["name"] = named[kid]
        entries.append(e)
    doc = {"schema": GOVERNANCE_SCHEMA, "threshold": threshold, "keys": entries}
    if not 1 <= threshold <= len(entries):
        raise UsageError(f"threshold {threshold}: must be between 1 and the {len(entries)} distinct keys")
    governance_from_document(doc, "governance")
    return doc


# -- threshold-signed documents ---------------------------------------------------------


def verify_signed(data: bytes | Mapping[str, Any], where: str, gov: Governance, payload_type: str,
                  what: str) -> tuple[Any, list[str]]:
    """Verify a governance-signed envelope; return (parsed canonical payload, signer key ids).

    The signatures are checked over the raw payload before it is parsed; fewer than
    ``gov.threshold`` distinct governance keys is ``NotAuthentic``.  The payload must
    be of ``payload_type`` and in RFC 8785 canonical form.
    """
    ptype, payload, sigs = dsse.parse_envelope(data, where)
    try:
        signers = dsse.verify_signatures(ptype, payload, sigs, gov.keys, where)
    except NotAuthentic:
        raise NotAuthentic(f"{where}: {what} carries no valid signature by a governance key "
                           f"(threshold {gov.threshold} of {len(gov.keys)})") from None
    signers = require_threshold(signers, gov, where, what)
    if ptype != payload_type:
        raise MalformedInput(f"{where}: payloadType is {ptype!r}, expected {payload_type!r} for a {what}")
    doc = canonical.loads(payload, f"{where}: payload")
    if canonical.dumps(doc) != payload:
        raise MalformedInput(f"{where}: payload is not in RFC 8785 canonical form")
    return doc, signers


def require_threshold(signers: Iterable[str], gov: Governance, where: str, what: str) -> list[str]:
    """The ``signers`` that count (not in ``gov.revoked``); ``NotAuthentic`` below the threshold."""
    signers = sorted(set(signers))
    counted = [s for s in signers if s not in gov.revoked]
    if len(counted) < gov.threshold:
        dropped = [s for s in signers if s in gov.revoked]
        why = "".join(f", not counting revoked key {s[:16]} ({gov.revoked[s]})" for s in dropped)
        raise NotAuthentic(f"{where}: {what} is signed by {len(counted)} of the {len(gov.keys)} governance keys"
                           f"{why}; {gov.threshold} distinct governance keys must sign")
    return counted


def sign_document(payload_type: str, doc: Any, private_keys: Iterable[Ed25519PrivateKey]) -> dict[str, Any]:
    """A DSSE envelope of the canonical form of ``doc``, one signature per distinct key."""
    unique = {keys.keyid(k.public_key()): k for k in private_keys}
    if not unique:
        raise UsageError("signing needs at least one --key")
    return dsse.sign(payload_type, canonical.dumps(doc), [unique[k] for k in sorted(unique)])


def cosign(envelope: bytes | Mapping[str, Any], where: str, payload_type: str,
           private_keys: Iterable[Ed25519PrivateKey]) -> tuple[dict[str, Any], bytes]:
    """Add signatures by ``private_keys`` to an envelope of ``payload_type``.

    A key whose valid signature is already there is not added again.  Returns the new
    envelope and its payload (for the caller to check before writing).
    """
    ptype, payload, sigs = dsse.parse_envelope(envelope, where)
    if ptype != payload_type:
        raise MalformedInput(f"{where}: payloadType is {ptype!r}, expected {payload_type!r}")
    raw: Mapping[str, Any] = canonical.loads(envelope, where) if isinstance(envelope, bytes | bytearray) else envelope
    out_sigs = [dict(s) for s in raw["signatures"]]
    message = dsse.pae(ptype, payload)
    added = 0
    for k in private_keys:
        pub = k.public_key()
        kid = keys.keyid(pub)
        try:
            already = dsse.verify_signatures(ptype, payload, sigs, {kid: pub}, where)
        except NotAuthentic:
            already = []
        if already:
            continue
        out_sigs.append({"keyid": kid, "sig": base64.b64encode(k.sign(message)).decode("ascii")})
        added += 1
    if not added:
        raise UsageError(f"{where}: every given key has already signed it")
    return {"payload": raw["payload"], "payloadType": ptype, "signatures": out_sigs}, payload


# -- revocation lists -------------------------------------------------------------------


@dataclass(frozen=True)
class Revocations:
    """A verified revocation list."""

    data: dict[str, Any]
    source: str = ""
    signers: tuple[str, ...] = ()

    @property
    def issued(self) -> _dt.datetime:
        return parse_time(self.data["issued"], self.source)

    @property
    def expires(self) -> _dt.datetime:
        return parse_time(self.data["expires"], self.source)

    @property
    def sequence(self) -> int:
        return int(self.data["sequence"])

    @property
    def digest(self) -> str:
        """SHA-256 of the list's canonical form: the same with any set of signatures."""
        return canonical.sha256_hex(self.data)

    def check_in_date(self, at: _dt.datetime | None) -> None:
        """``NotAuthentic`` (naming the list and its dates) unless ``issued <= at <= expires``.

        A list that never expired could be replayed for ever by whoever wants the
        revocations of a newer one forgotten; one used before its ``issued`` time
        claims knowledge the verification time did not have.
        """
        when = resolve_at(at)
        issued, expires = self.data["issued"], self.data["expires"]
        if when < self.issued:
            raise NotAuthentic(f"{self.source}: revocation list not yet issued: $.issued {issued} is after the "
                               f"verification time {format_time(when)} (expires {expires})")
        if when > self.expires:
            raise NotAuthentic(f"{self.source}: revocation list expired: $.expires {expires} is before the "
                               f"verification time {format_time(when)} (issued {issued})")

    def revoked_keys(self) -> dict[str, str]:
        """Every key id in ``keys`` -> the earliest ``from`` the list gives it."""
        out: dict[str, str] = {}
        for e in self._entries("keys"):
            kid, frm = e["keyid"], e["from"]
            if kid not in out or parse_time(frm, self.source) < parse_time(out[kid], self.source):
                out[kid] = frm
        return out

    def _entries(self, name: str) -> list[dict[str, Any]]:
        return list(self.data.get(name) or ())

    def superseding(self, profile_id: str, version: int, at: _dt.datetime) -> dict[str, Any] | None:
        """The entry that supersedes ``profile_id`` v``version`` at ``at``, if any."""
        for e in self._entries("profiles"):
            if e["id"] == profile_id and version < e["min_version"] and at >= parse_time(e["from"], self.source):
                return e
        return None

    def check_profile(self, profile_id: str, version: int, at: _dt.datetime, where: str) -> None:
        """``NotAuthentic`` when the list is not in date at ``at`` or supersedes the version."""
        self.check_in_date(at)
        e = self.superseding(profile_id, version, at)
        if e is not None:
            raise NotAuthentic(f"{where}: profile {profile_id} v{version} is superseded by v{e['min_version']} "
                               f"from {e['from']} ({self.source})")

    def check_report(self, pred: Mapping[str, Any], signers: Iterable[str], at: _dt.datetime, where: str) -> None:
        """``NotAuthentic`` if the list withdraws anything the report depends on at ``at``."""
        prof = pred["profile"]
        self.check_profile(str(prof["id"]), int(prof["version"]), at, where)
        vs = pred["vector_set"]["digest"]
        for e in self._entries("vector_sets"):
            if e["digest"] == vs and at >= parse_time(e["revoked_from"], self.source):
                raise NotAuthentic(f"{where}: vector set {vs[:16]} is revoked from {e['revoked_from']} "
                                   f"({self.source})")
        names = {pred["signer"]["keyid"], *signers}
        for e in self._entries("keys"):
            if e["keyid"] in names and at >= parse_time(e["from"], self.source):
                raise NotAuthentic(f"{where}: signing key {e['keyid'][:16]} is revoked from {e['from']}: "
                                   f"{e['reason']} ({self.source})")
        env = pred["environment"]["digest"]
        for e in self._entries("platforms"):
            if e["environment_digest"] == env and at >= parse_time(e["from"], self.source):
                raise NotAuthentic(f"{where}: platform-environment {env[:16]} is revoked from {e['from']}: "
                                   f"{e['reason']} ({self.source})")


def revocations_from_document(doc: Any, where: str, signers: Iterable[str] = ()) -> Revocations:
    """Check a revocation list document (schema and times) and wrap it."""
    if not isinstance(doc, dict):
        raise MalformedInput(f"{where}: a revocation list is a JSON object")
    check_schema(doc, "revocations", where)
    issued = parse_time(doc["issued"], f"{where}: $.issued")
    if parse_time(doc["expires"], f"{where}: $.expires") < issued:
        raise MalformedInput(f"{where}: $.expires {doc['expires']} is before $.issued {doc['issued']}")
    for name, when in (("profiles", "from"), ("vector_sets", "revoked_from"), ("keys", "from"), ("platforms", "from")):
        for i, e in enumerate(doc.get(name) or ()):
            parse_time(e[when], f"{where}: $.{name}[{i}].{when}")
    return Revocations(data=doc, source=where, signers=tuple(signers))


def _recorded_revocations(seen: state.Seen | None, when: _dt.datetime, state_path: Path) -> dict[str, str]:
    """The governance keys revoked at ``when`` by the lists this machine accepted before."""
    if seen is None:
        return {}
    return {kid: f"revoked from {frm} by a revocation list accepted before, recorded in {state_path}"
            for kid, frm in seen.revoked_keys.items() if when >= parse_time(frm, str(state_path))}


def governance_at(gov: Governance, at: _dt.datetime | None, revocations: Revocations | None = None) -> Governance:
    """``gov`` as it counts signatures at ``at``: without the governance keys revoked by
    then, by the lists accepted before (the state folder, ``state.py``) or by ``revocations``."""
    when = resolve_at(at)
    if revocations is not None:  # first, so that a message names the list the user gave
        gov = gov.revoking({kid: f"revoked from {frm} by {revocations.source}"
                            for kid, frm in revocations.revoked_keys().items() if when >= parse_time(frm, "")})
    path = state.state_file()
    return gov.revoking(_recorded_revocations(state.seen(gov.keyset_id, path), when, path))


def _check_sequence(rev: Revocations, seen: state.Seen | None, state_path: Path) -> None:
    """Refuse a list older than, or different from, the newest accepted for its governance."""
    if seen is None:
        return
    if rev.sequence < seen.sequence:
        raise NotAuthentic(f"{rev.source}: revocation list $.sequence {rev.sequence} is below sequence "
                           f"{seen.sequence}, the highest already accepted for this governance (recorded in "
                           f"{state_path}): an older list cannot replace a newer one")
    if rev.sequence == seen.sequence and rev.digest != seen.digest:
        raise NotAuthentic(f"{rev.source}: revocation list $.sequence {rev.sequence} was already accepted for this "
                           f"governance with other content (digest {seen.digest[:16]}, this list "
                           f"{rev.digest[:16]}; recorded in {state_path}): two lists cannot share a sequence number")


def load_revocations(path: str | Path | Revocations, governance: str | Path | Governance,
                     at: _dt.datetime | None = None) -> Revocations:
    """A revocation list signed by the governance threshold, in date at ``at`` (default:
    now) and not older than the newest accepted before for this governance.

    The threshold is counted without the governance keys revoked by then by the lists
    accepted before, and without any governance key this list itself revokes (from
    whatever time): a key does not vote on its own revocation.  A list newer than the
    recorded one is recorded (``state.py``), with the governance keys it revokes.
    Refusals are ``NotAuthentic``, one line naming the list.  An already loaded
    ``Revocations`` is only checked to be in date at ``at``.
    """
    when = resolve_at(at)
    if isinstance(path, Revocations):
        path.check_in_date(when)
        return path
    gov = load_governance(governance)
    where = str(path)
    data = read_bytes(path, "revocation list")
    with state.locked() as state_path:
        recorded = state.read(state_path)
        seen = recorded.get(gov.keyset_id)
        counting = gov.revoking(_recorded_revocations(seen, when, state_path))
        doc, signers = verify_signed(data, where, counting, REVOCATIONS_PAYLOAD_TYPE, "revocation list")
        rev = revocations_from_document(doc, where, signers)
        own = rev.revoked_keys()
        counting = counting.revoking({kid: f"revoked by this list, from {frm}" for kid, frm in own.items()})
        rev = replace(rev, signers=tuple(require_threshold(signers, counting, where, "revocation list")))
        rev.check_in_date(when)
        _check_sequence(rev, seen, state_path)
        if seen is None or rev.sequence > seen.sequence:
            revoked = dict(seen.revoked_keys) if seen else {}
            for kid, frm in own.items():
                if kid in gov.keys and (kid not in revoked or parse_time(frm, where) < parse_time(revoked[kid], "")):
                    revoked[kid] = frm
            recorded[gov.keyset_id] = state.Seen(sequence=rev.sequence, digest=rev.digest, issued=doc["issued"],
                                                 expires=doc["expires"], source=str(Path(path).absolute()),
                                                 revoked_keys=revoked)
            state.write(recorded, state_path)
    return rev


def sign_revocations(source: bytes, where: str, private_keys: Iterable[Ed25519PrivateKey]) -> dict[str, Any]:
    """Sign a revocation list document, or add signatures to a signed one."""
    doc = canonical.loads(source, where)
    if is_envelope(doc):
        env, payload = cosign(doc, where, REVOCATIONS_PAYLOAD_TYPE, private_keys)
        revocations_from_document(canonical.loads(payload, f"{where}: payload"), where)
        return env
    revocations_from_document(doc, where)
    return sign_document(REVOCATIONS_PAYLOAD_TYPE, doc, private_keys)


# -- applying governance to a run report --------------------------------------------------


def check_report(pred: Mapping[str, Any], signers: Iterable[str], profile_data: Mapping[str, Any],
                 at: _dt.datetime, where: str, revocations: Revocations | None) -> None:
    """The governance checks of ``verify_report`` (step 6b, docs/report-format.md).

    A report must have been made while its profile was in force (from ``activates``
    to ``expires``, when the profile sets them); with a revocation list, nothing the
    report depends on may be withdrawn at the verification time ``at``.
    """
    made = parse_time(pred["validity"]["not_before"], where)
    pid = f"{profile_data['id']} v{profile_data['version']}"
    if "activates" in profile_data and made < parse_time(profile_data["activates"], where):
        raise NotAuthentic(f"{where}: made at {pred['validity']['not_before']}, before profile {pid} "
                           f"activates ({profile_data['activates']})")
    if "expires" in profile_data and made > parse_time(profile_data["expires"], where):
        raise NotAuthentic(f"{where}: made at {pred['validity']['not_before']}, after profile {pid} "
                           f"expired ({profile_data['expires']})")
    if revocations is not None:
        revocations.check_report(pred, signers, at, where)
