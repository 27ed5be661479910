"""Verify a signed run report and recompute its verdict.

The order matters: the envelope is checked, then the signature over the raw payload
bytes, and only then is the payload parsed (strictly, and it must already be in
canonical form), schema-checked and compared with the profile it claims.  Nothing a
report says about itself is believed: the verdict and summary are recomputed from
its results under the profile, and a report claiming anything else is refused.

``verify_report`` raises ``MalformedInput`` or ``NotAuthentic`` (exit 2) with one line
naming the report and the problem; an authentic report comes back as a
``VerifyOutcome`` whose recomputed verdict decides between exit 0 and exit 1.
The algorithm is specified step by step in ``docs/report-format.md``.
"""

from __future__ import annotations

import datetime as _dt
import json
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .. import profile as profiles
from .._internal import canonical, dsse
from .._internal.files import read_input
from .._internal.timefmt import format_time, parse_time
from ..attestation import EVIDENCE_RESULT_ID
from ..errors import MalformedInput, NotAuthentic, TeecertError
from ..governance import trust as governance
from ..probe import hostkey
from ..profile import Profile
from ..report import keys, verdict
from ..report import statement as report
from .expected import check_complete

_ID = operator.itemgetter("id")


@dataclass
class VerifyOutcome:
    """What verifying one authentic report established."""

    where: str
    authentic: bool
    verdict: dict[str, Any]  # recomputed from the results and the profile
    claimed_verdict: dict[str, Any]
    statement: dict[str, Any]
    signer_keyids: list[str]
    profile: Profile
    signer_pinned: bool
    profile_pinned: bool
    reasons: list[str] = field(default_factory=list)  # notes a reviewer should read


class ReportCache:
    """What verifying many reports in one process shares: the profiles reports were
    made under, each parsed and schema-checked once.

    Keyed by content, never by name or path: an embedded profile by the digest that
    ``check_consistency`` has just recomputed from the document itself, so two
    reports naming different profiles with one id and version get their own.  The
    shared ``Profile`` objects are read, never altered, by the verifier and compare.
    """

    def __init__(self) -> None:
        self._profiles: dict[tuple[str, str], Profile] = {}

    def builtin(self, name: str) -> Profile:
        key = ("builtin", name)
        if key not in self._profiles:
            self._profiles[key] = profiles.builtin(name)
        return self._profiles[key]

    def embedded(self, statement: Mapping[str, Any], where: str) -> Profile:
        digest = statement["predicate"]["profile"]["digest"]  # recomputed by check_consistency
        key = ("embedded", digest)
        if key not in self._profiles:
            self._profiles[key] = report.embedded_profile(statement, where)
        return self._profiles[key]


def _signer_key(doc: Any, where: str) -> Ed25519PublicKey:
    """The key a report names as its signer, read from the not-yet-verified payload
    ``doc`` (parsed strictly).

    Only used when the verifier pins no keys; only this one field is read before the
    signature is checked under it.
    """
    try:
        text = doc["predicate"]["signer"]["public_key"]
    except (KeyError, TypeError):
        raise MalformedInput(f"{where}: payload has no predicate.signer.public_key") from None
    if not isinstance(text, str):
        raise MalformedInput(f"{where}: predicate.signer.public_key must be a base64 string")
    return keys.public_from_raw_b64(text, f"{where}: predicate.signer.public_key")


def _is_canonical(statement: Any, payload: bytes) -> bool:
    """Whether ``payload`` is the RFC 8785 form of ``statement``, its strict parse.

    ``canonical.loads`` has already refused floats, unsafe integers and duplicate
    keys, so for an all-ASCII payload (every member name ASCII) Python's C encoder
    with sorted keys gives the RFC 8785 bytes (see ``canonical.dumps``) without
    ``canonical.dumps``'s walk over every value, a third of the time a report took.
    Anything else goes through ``canonical.dumps``.
    """
    if payload.isascii():
        try:
            text = json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)
            return text.encode("utf-8") == payload
        except (UnicodeEncodeError, ValueError):
            pass  # a lone surrogate from an escape: canonical.dumps refuses it by name
    return canonical.dumps(statement) == payload


def _check_attestation(statement: Mapping[str, Any], prof: Profile, where: str) -> list[str]:
    """``run_evidence.check_report``: notes, or ``NotAuthentic``.

    A report with neither an attestation section nor an evidence row needs none of
    the evidence parsers, verifiers and policy (about a fifth of what a ``teecert
    verify`` process imported), and ``check_report`` returns no note for it; any
    other report is checked by ``check_report`` itself."""
    pred = statement["predicate"]
    if pred.get("attestation") is None and EVIDENCE_RESULT_ID not in map(_ID, pred["results"]):
        return []
    # imported here: slow (every evidence format), and only reports with evidence need it
    from ..attestation.run_evidence import check_report

    return check_report(statement, prof.data, where)


def _resolve_profile(pred: Mapping[str, Any], given: Profile | None, where: str,
                     statement: Mapping[str, Any], cache: ReportCache) -> tuple[Profile, bool, str | None]:
    """The profile to judge by, whether it was pinned, and a note when it was not."""
    rp = pred["profile"]
    claimed = f"{rp['id']} v{rp['version']} ({rp['digest'][:16]})"
    if given is not None:
        if (rp["id"], rp["version"], rp["digest"]) != (given.id, given.version, given.digest):
            raise NotAuthentic(
                f"{where}: made under profile {claimed}, not the required "
                f"{given.id} v{given.version} ({given.digest[:16]})"
            )
        return given, True, None
    if rp["id"] in profiles.BUILTIN:
        b = cache.builtin(rp["id"])
        if b.digest == rp["digest"]:
            return b, True, None
        # A reviewer reads the name: a weakened document under a built-in's name is a
        # forgery of the policy, whoever signed it.
        raise NotAuthentic(f"{where}: made under profile {claimed}, which carries the built-in name "
                           f"{b.id} but not its document ({b.digest[:16]}); pin the profile it was "
                           f"made under with --profile FILE")
    else:
        note = f"profile not pinned: judged by the profile {claimed} recorded in the report (pass --profile)"
    return cache.embedded(statement, where), False, note


def verify_report(
    data: bytes,
    where: str,
    *,
    trusted: Mapping[str, Ed25519PublicKey] | None,
    profile: Profile | None,
    at: _dt.datetime | None = None,
    revocations: governance.Revocations | None = None,
    cache: ReportCache | None = None,
) -> VerifyOutcome:
    """Verify the report ``data`` (read from ``where``); see the module docstring.

    ``revocations`` is a verified revocation list (``governance.load_revocations``).
    ``cache`` lets many reports verified in one process share what they have in
    common (see ``ReportCache``); each report gets a fresh one otherwise.
    """
    cache = cache if cache is not None else ReportCache()
    notes: list[str] = []
    # 1. The envelope, strictly; 2. the signature, before the payload is parsed.
    payload_type, payload, sigs = dsse.parse_envelope(data, where)
    unverified: Any = None
    in_canonical_form = False
    if trusted is not None:
        signers = dsse.verify_signatures(payload_type, payload, sigs, trusted, where)
        signer_pinned = True
    else:
        # The parse is needed now for the signer's key; a canonical payload is parsed once.
        in_canonical_form, unverified = canonical.parse_canonical(payload)
        if not in_canonical_form:
            unverified = canonical.loads(payload, f"{where}: payload")
        pub = _signer_key(unverified, where)
        signers = dsse.verify_signatures(payload_type, payload, sigs, {keys.keyid(pub): pub}, where)
        signer_pinned = False
        notes.append(f"signer not pinned: signature checked against the key the report names "
                     f"({signers[0][:16]}); pass --trust to pin signers")
    # 3. What was signed must be an in-toto statement in canonical JSON.
    if payload_type != report.PAYLOAD_TYPE:
        raise MalformedInput(f"{where}: payloadType is {payload_type!r}, expected {report.PAYLOAD_TYPE!r}")
    # One parse and one serialization when the payload is canonical, as it must be;
    # otherwise the strict parse (of these very bytes, now signed, when the signer's
    # key was read from it) and the canonical check say what is wrong.
    if trusted is not None:
        in_canonical_form, unverified = canonical.parse_canonical(payload)
    if in_canonical_form:
        statement = unverified
    else:
        statement = unverified if unverified is not None else canonical.loads(payload, f"{where}: payload")
        if not _is_canonical(statement, payload):
            raise MalformedInput(f"{where}: payload is not in RFC 8785 canonical form")
    # 4. Schema, types, and the cross-field facts the schema cannot state.
    if isinstance(statement, dict):
        if statement.get("_type") != report.STATEMENT_TYPE:
            raise MalformedInput(f"{where}: _type is {statement.get('_type')!r}, expected {report.STATEMENT_TYPE!r}")
        if statement.get("predicateType") != report.PREDICATE_TYPE:
            raise MalformedInput(
                f"{where}: predicateType is {statement.get('predicateType')!r}, expected {report.PREDICATE_TYPE!r}"
            )
    report.validate_schema(statement, f"{where}: payload")
    report.check_consistency(statement, where)
    pred = statement["predicate"]
    if pred["signer"]["keyid"] not in signers:
        raise NotAuthentic(
            f"{where}: the report names signer {pred['signer']['keyid'][:16]} but was signed by "
            f"{', '.join(s[:16] for s in signers)}"
        )
    # 5. The profile, and the vector set it pins (no downgrade to other test data).
    prof, profile_pinned, note = _resolve_profile(pred, profile, where, statement, cache)
    if note:
        notes.append(note)
    vs = pred["vector_set"]
    if vs["name"] != prof.vector_set_name or vs["digest"] != prof.vector_digest:
        raise NotAuthentic(
            f"{where}: vector set {vs['name']} ({vs['digest'][:16]}) is not the one profile {prof.id} "
            f"pins ({prof.vector_set_name}, {prof.vector_digest[:16]})"
        )
    # 5b. Completeness: a row for every test that profile and vector set ask for.
    check_complete(pred, prof, where)
    # 6. Validity at the verification time, within what the profile allows.
    when = at or _dt.datetime.now(_dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    nb = parse_time(pred["validity"]["not_before"], where)
    na = parse_time(pred["validity"]["not_after"], where)
    if na - nb > _dt.timedelta(days=prof.validity_days):
        raise NotAuthentic(
            f"{where}: validity of {(na - nb).days} days exceeds the {prof.validity_days} days "
            f"profile {prof.id} allows"
        )
    if when > na:
        raise NotAuthentic(f"{where}: expired at {pred['validity']['not_after']} "
                           f"(verification time {format_time(when)})")
    if when < nb:
        raise NotAuthentic(f"{where}: not valid before {pred['validity']['not_before']} "
                           f"(verification time {format_time(when)})")
    # --- governance (harness/governance.py): the profile's activation window, and
    #     what a revocation list withdraws at the verification time.
    governance.check_report(pred, signers, prof.data, when, where, revocations)
    # --- end governance
    # 7. The verdict and summary are recomputed, never believed.  Waivers are judged
    #    at the run's time (what the signer could know); see below for the
    #    verification time.
    computed = verdict.compute(pred["results"], prof, at=nb)
    claimed = pred["verdict"]
    if computed != claimed:
        if computed["result"] != claimed["result"]:
            first = computed["reasons"][0] if computed["reasons"] else None
            why = f": first reason {first['code']} {first.get('test') or first['suite']}" if first else ""
            raise NotAuthentic(
                f"{where}: report claims {claimed['result']} but its results give {computed['result']}{why}"
            )
        raise NotAuthentic(f"{where}: the verdict's reasons differ from those its results give")
    if verdict.summarize(pred["results"], prof) != pred["summary"]:
        raise NotAuthentic(f"{where}: the summary does not count the report's results")
    if prof.waivers:  # a waiver expired by the verification time no longer covers anything
        now_verdict = verdict.compute(pred["results"], prof, at=when)
        if now_verdict != computed:
            notes.append("a waiver the report's verdict relied on has expired by the verification time")
            computed = now_verdict
    # 8. Attestation: the binding is recomputed and the embedded evidence re-verified
    #    and re-validated under the profile's policy; the recorded outcome must hold.

    notes.extend(_check_attestation(statement, prof, where))
    # 9. A remote probe host co-signs the transcripts it served, with the key its
    #    evidence commits to: the results came from the attested machine.
    notes.extend(hostkey.check_report_host(pred, where))
    return VerifyOutcome(
        where=where,
        authentic=True,
        verdict=computed,
        claimed_verdict=claimed,
        statement=statement,
        signer_keyids=signers,
        profile=prof,
        signer_pinned=signer_pinned,
        profile_pinned=profile_pinned,
        reasons=notes,
    )


def outcome_to_json(outcome: VerifyOutcome) -> dict[str, Any]:
    """The machine-readable form of an outcome (``teecert verify --json``)."""
    pred = outcome.statement["predicate"]
    return {
        "report": outcome.where,
        "authentic": outcome.authentic,
        "verdict": outcome.verdict,
        "signers": outcome.signer_keyids,
        "signer_pinned": outcome.signer_pinned,
        "profile": {**outcome.profile.identity(), "pinned": outcome.profile_pinned},
        "vector_set": pred["vector_set"],
        "run": {"id": pred["run"]["id"], "started": pred["run"]["started"], "finished": pred["run"]["finished"]},
        "environment_digest": pred["environment"]["digest"],
        "probe_digest": pred["probe"]["digest"],
        "validity": pred["validity"],
        "summary": pred["summary"],
        "notes": outcome.reasons,
    }


def error_to_json(error: TeecertError, where: str) -> dict[str, Any]:
    """The machine-readable form of a refusal, for ``--json`` on the error path."""
    return {
        "report": where,
        "authentic": False,
        "error": type(error).__name__,
        "message": str(error),
    }


def verify_report_file(path: str | Path, *, trusted: Mapping[str, Any] | None, profile: Profile | None,
                       at: _dt.datetime | None, revocations: governance.Revocations | None = None,
                       cache: ReportCache | None = None) -> VerifyOutcome:
    """Read the report at ``path`` and verify it; ``UsageError`` if it cannot be read,
    ``MalformedInput`` or ``NotAuthentic`` (naming ``path``) if it is refused."""
    p = Path(path)
    return verify_report(read_input(p, "report"), str(p), trusted=trusted, profile=profile, at=at,
                         revocations=revocations, cache=cache)
