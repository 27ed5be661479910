"""Governance decisions: a signed admission built on verified run reports.

A decision is an in-toto Statement v1 about one platform-environment (its subject)
whose predicate uses the field names of the SLSA Verification Summary Attestation v1
(``verifier``, ``timeVerified``, ``resourceUri``, ``policy``, ``inputAttestations``,
``verificationResult``, ``verifiedLevels``), plus ``validity``, ``caveats`` and the
recomputed verdict of each input report.  It travels in a DSSE envelope of payloadType
``application/vnd.teecert.verify.decision+json`` and is authentic once the governance
threshold of distinct keys has signed it (``cosign`` adds signatures).

Every input report is verified first (``verify.verify_report``); one that is not
authentic refuses the whole decision.  ``schemas/decision.schema.json`` and
``docs/guide-governance.md`` specify the format.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .._internal import canonical
from .._internal.timefmt import format_time, parse_time
from .._internal.version import __version__
from ..errors import MalformedInput, NotAuthentic, UsageError
from ..governance import trust as governance
from ..governance.trust import (
    DECISION_PAYLOAD_TYPE,
    Governance,
    Revocations,
)
from ..profile import Profile
from .reverify import Collateral, reverify_report
from .verifier import verify_report

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://teecert.dev/decision/v1"
VERIFIER_ID = "https://teecert.dev/verifier/teecert"
SUBJECT = "platform-environment"
PASSED = "PASSED"
FAILED = "FAILED"


def resource_uri(environment_digest: str) -> str:
    """``teecert:env:<digest>``: the platform-environment a decision is about."""
    return f"teecert:env:{environment_digest}"


def level(tier: str) -> str:
    """The verified level a passing decision under a profile of ``tier`` grants."""
    return f"TEECERT_CERTIFIED_{tier.upper()}"


def _passed(verdicts: Sequence[Mapping[str, Any]]) -> bool:
    """A decision passes when every report is CERTIFIED and signed by a pinned key."""
    return all(v["result"] == "CERTIFIED" and v["signer_pinned"] for v in verdicts)


def build(reports: Sequence[tuple[bytes, str]], profile: Profile, *,
          trusted: Mapping[str, Ed25519PublicKey] | None, at: _dt.datetime | None = None,
          revocations: Revocations | None = None, reverify_collateral: Sequence[Collateral] = (),
          reverify_at: _dt.datetime | None = None) -> dict[str, Any]:
    """The decision statement over ``reports`` (``(data, where)`` pairs) under ``profile``.

    Each report is verified at ``at`` (default: now) with the profile pinned; any
    refusal propagates (exit 2).  All reports must be of one platform-environment.
    The result is PASSED when every report's recomputed verdict is CERTIFIED.

    With ``reverify_at``, each report's embedded evidence is also re-verified then with
    ``reverify_collateral`` (``reverify.reverify_report``): a report whose attestation
    no longer passes counts as NOT_CERTIFIED, with a caveat saying why.
    """

    if not reports:
        raise UsageError("a decision needs at least one report")
    when = governance.resolve_at(at).replace(microsecond=0)
    profile.check_in_force(when, profile.source or f"profile {profile.id}")
    if revocations is not None:
        revocations.check_profile(profile.id, profile.version, when, profile.source or f"profile {profile.id}")
    inputs: list[dict[str, Any]] = []
    verdicts: list[dict[str, Any]] = []
    caveats: list[str] = []
    envs: dict[str, str] = {}
    not_after = when + _dt.timedelta(days=profile.validity_days)
    if profile.expires is not None:
        not_after = min(not_after, profile.expires)
    for data, where in reports:
        out = verify_report(data, where, trusted=trusted, profile=profile, at=when, revocations=revocations)
        pred = out.statement["predicate"]
        uri = f"teecert:report:{pred['run']['id']}"
        if any(i["uri"] == uri for i in inputs):
            raise UsageError(f"{where}: run {pred['run']['id']} is given twice")
        envs.setdefault(pred["environment"]["digest"], where)
        digest = hashlib.sha256(canonical.dumps(out.statement)).hexdigest()
        inputs.append({"uri": uri, "digest": {"sha256": digest}})
        v = out.verdict
        if reverify_at is not None and v["result"] == "CERTIFIED":
            again = reverify_report(out, collateral=reverify_collateral, at=reverify_at)
            if not again.accepted_now:
                # The recomputed verdict at the re-verification time: its attestation fails.
                v = {**v, "result": "NOT_CERTIFIED", "reasons": [*v["reasons"], {"code": "REVERIFY", "suite": "attestation"}]}
                caveats.append(f"{uri}: re-verified at {format_time(reverify_at)} ({again.collateral}): {again.now}")
        verdicts.append({"uri": uri, "result": v["result"], "reasons": len(v["reasons"]),
                         "waived": len(v.get("waived", [])), "not_after": pred["validity"]["not_after"],
                         "signer_pinned": out.signer_pinned})
        not_after = min(not_after, parse_time(pred["validity"]["not_after"], where))
        for w in v.get("waived", []):  # the admission cannot outlive a waiver it relies on
            not_after = min(not_after, parse_time(w["expires"], where))
        caveats.extend(f"{uri}: {note}" for note in out.reasons)
        if v["reasons"]:
            first = v["reasons"][0]
            caveats.append(f"{uri}: NOT_CERTIFIED: {len(v['reasons'])} reasons; first {first['code']} "
                           f"{first.get('test') or first['suite']}")
        caveats.extend(f"{uri}: WAIVED {w['failure']} {w['test']} (tracking {w['tracking']}, until {w['expires']})"
                       for w in v.get("waived", []))
    if len(envs) > 1:
        raise UsageError(f"the reports are of {len(envs)} platform-environments ({', '.join(envs.values())}); "
                         "a decision covers one: decide on each separately")
    (env,) = envs
    if not profile.certification_tier:
        caveats.append(f"profile {profile.id} is of the {profile.tier} tier: not for admission to consensus")
    if not profile.signers:
        caveats.append(f"profile {profile.id} v{profile.version} was not verified against governance signatures")
    # Governance admits only reports whose signer it pinned (--trust): a signature
    # that checks against the key the report itself names proves nothing.
    caveats.extend(f"{v['uri']}: signer not pinned (pass --trust): not admitted"
                   for v in verdicts if not v["signer_pinned"])
    passed = _passed(verdicts)
    order = sorted(range(len(inputs)), key=lambda i: inputs[i]["uri"])
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": SUBJECT, "digest": {"sha256": env}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "verifier": {"id": VERIFIER_ID, "version": {"teecert": __version__}},
            "timeVerified": format_time(when),
            "resourceUri": resource_uri(env),
            "policy": {"uri": f"teecert:profile:{profile.id}@{profile.version}", "digest": {"sha256": profile.digest}},
            "inputAttestations": [inputs[i] for i in order],
            "verificationResult": PASSED if passed else FAILED,
            "verifiedLevels": [level(profile.tier)] if passed else [],
            "validity": {"not_before": format_time(when), "not_after": format_time(max(not_after, when))},
            "caveats": caveats,
            "verdicts": [verdicts[i] for i in order],
        },
    }


def sign(statement: Mapping[str, Any], private_keys: Iterable[Ed25519PrivateKey]) -> dict[str, Any]:
    """Check a decision statement and sign it into a DSSE envelope."""
    check(statement, "decision")
    return governance.sign_document(DECISION_PAYLOAD_TYPE, statement, private_keys)


def cosign(data: bytes, where: str, private_keys: Iterable[Ed25519PrivateKey]) -> dict[str, Any]:
    """Add signatures to a signed decision (its payload is checked, not re-decided)."""
    env, payload = governance.cosign(canonical.loads(data, where), where, DECISION_PAYLOAD_TYPE, private_keys)
    doc = canonical.loads(payload, f"{where}: payload")
    if canonical.dumps(doc) != payload:
        raise MalformedInput(f"{where}: payload is not in RFC 8785 canonical form")
    check(doc, where)
    return env


def check(statement: Any, where: str) -> None:
    """Schema and the facts it cannot state; ``MalformedInput`` otherwise."""
    governance.check_schema(statement, "decision", where)
    pred = statement["predicate"]
    env = statement["subject"][0]["digest"]["sha256"]
    if pred["resourceUri"] != resource_uri(env):
        raise MalformedInput(f"{where}: predicate.resourceUri does not name the subject {env[:16]}")
    nb = parse_time(pred["validity"]["not_before"], where)
    if parse_time(pred["validity"]["not_after"], where) < nb:
        raise MalformedInput(f"{where}: predicate.validity.not_after is before not_before")
    parse_time(pred["timeVerified"], where)
    passed = _passed(pred["verdicts"])
    if (pred["verificationResult"] == PASSED) != passed:
        raise MalformedInput(f"{where}: predicate.verificationResult {pred['verificationResult']} "
                             "is not what the recorded verdicts give")
    if pred["verifiedLevels"] and not passed:
        raise MalformedInput(f"{where}: a FAILED decision grants no verifiedLevels")
    uris = [i["uri"] for i in pred["inputAttestations"]]
    if sorted(uris) != sorted(v["uri"] for v in pred["verdicts"]) or len(set(uris)) != len(uris):
        raise MalformedInput(f"{where}: predicate.verdicts do not match predicate.inputAttestations one to one")


@dataclass
class DecisionOutcome:
    """A decision verified under governance at a time."""

    where: str
    statement: dict[str, Any]
    signers: list[str]
    governance: Governance

    @property
    def result(self) -> str:
        return str(self.statement["predicate"]["verificationResult"])

    @property
    def passed(self) -> bool:
        return self.result == PASSED

    def to_json(self) -> dict[str, Any]:
        pred = self.statement["predicate"]
        return {
            "decision": self.where,
            "authentic": True,
            "verificationResult": self.result,
            "verifiedLevels": pred["verifiedLevels"],
            "resourceUri": pred["resourceUri"],
            "policy": pred["policy"],
            "validity": pred["validity"],
            "signers": self.signers,
            "threshold": self.governance.threshold,
            "caveats": pred["caveats"],
        }


def verify(data: bytes, where: str, gov: Governance, at: _dt.datetime | None = None) -> DecisionOutcome:
    """Verify a signed decision: threshold of governance signatures, format, validity at ``at``."""
    when = governance.resolve_at(at)
    # A governance key revoked by then does not count toward the threshold.
    gov = governance.governance_at(gov, when)
    doc, signers = governance.verify_signed(data, where, gov, DECISION_PAYLOAD_TYPE, "decision")
    check(doc, where)
    validity = doc["predicate"]["validity"]
    if when < parse_time(validity["not_before"], where):
        raise NotAuthentic(f"{where}: decision not valid before {validity['not_before']} "
                           f"(verification time {format_time(when)})")
    if when > parse_time(validity["not_after"], where):
        raise NotAuthentic(f"{where}: decision expired at {validity['not_after']} "
                           f"(verification time {format_time(when)})")
    return DecisionOutcome(where=where, statement=doc, signers=signers, governance=gov)
