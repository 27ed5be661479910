"""Signed profiles: governance signs the profiles that certification runs may use.

A profile is a governance document: a DSSE envelope around its RFC 8785 form, signed
by a threshold of the keys in the governance file (``trust.py``), in force between
its ``activates`` and ``expires``, and withdrawn by a revocation list that
supersedes its version.  A governance key a revocation list revokes stops counting
toward a profile's threshold from the revocation's time on.  ``load_governed`` is what ``teecert run --governance``
enforces.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from .._internal import canonical
from ..errors import MalformedInput, NotAuthentic
from ..profile import (
    BUILTIN,
    PROFILE_PAYLOAD_TYPE,
    Profile,
    from_document,
    load_profile,
    read_profile_bytes,
)
from . import trust as gv


def sign_profile(source: bytes, where: str, private_keys: Any) -> dict[str, Any]:
    """Sign a profile document (schema-checked first), or add signatures to a signed one.

    Returns the envelope: payloadType ``application/vnd.teecert.profile+json`` around the
    profile's RFC 8785 form.  A key that already signed is not added twice.
    """
    doc = canonical.loads(source, where)
    if gv.is_envelope(doc):
        env, payload = gv.cosign(doc, where, PROFILE_PAYLOAD_TYPE, private_keys)
        inner = canonical.loads(payload, f"{where}: payload")
        if canonical.dumps(inner) != payload:
            raise MalformedInput(f"{where}: payload is not in RFC 8785 canonical form")
        from_document(inner, f"{where}: payload")
        return env
    from_document(doc, where)
    return gv.sign_document(PROFILE_PAYLOAD_TYPE, doc, private_keys)


def verify_signed_profile(data: bytes, where: str, governance: Any, at: _dt.datetime | None = None,
                          *, revocations: Any = None) -> Profile:
    """A signed profile verified under ``governance`` (a file or ``governance.Governance``).

    Refused (``NotAuthentic``) when fewer than the threshold of distinct governance
    keys signed it (a governance key revoked at ``at``, by ``revocations`` or by a list
    accepted before, does not count), when ``at`` (default: now) is outside its
    ``activates`` .. ``expires``, or when ``revocations`` (a file or
    ``governance.Revocations``, itself in date at ``at`` and not rolled back)
    supersede its version at ``at``.
    """
    gov = gv.load_governance(governance)
    when = gv.resolve_at(at)
    # The list first: the governance keys it revokes must not count toward the profile's threshold.
    revs = gv.load_revocations(revocations, gov, when) if revocations is not None else None
    doc, signers = gv.verify_signed(data, where, gv.governance_at(gov, when, revs), PROFILE_PAYLOAD_TYPE, "profile")
    prof = from_document(doc, where)
    prof = Profile(data=prof.data, digest=prof.digest, source=where, signers=tuple(signers))
    prof.check_in_force(when, where)
    if revs is not None:
        revs.check_profile(prof.id, prof.version, when, where)
    return prof


def load_governed(name_or_path: str | Path, governance: Any = None, at: _dt.datetime | None = None,
                  *, revocations: Any = None) -> Profile:
    """The profile a certification run may use, with governance enforced.

    Without ``governance`` this is ``load_profile`` (signatures are not judged).  With
    it (a governance file or ``governance.Governance``): a signed profile must carry
    the threshold of governance signatures (revoked governance keys not counting), be
    in force at ``at`` (default: now) and not be superseded by ``revocations`` (a list
    that must itself be in date and not rolled back); an unsigned profile (a built-in
    or a plain file) is accepted only in the ``development`` tier.  Refusals are
    ``NotAuthentic`` (exit 2), one line naming the file.
    """
    if governance is None:
        return load_profile(name_or_path)
    is_name = isinstance(name_or_path, str) and name_or_path in BUILTIN
    data = b"" if is_name else read_profile_bytes(name_or_path)
    where = f"profile {name_or_path}" if is_name else str(name_or_path)
    if not is_name and gv.is_envelope(canonical.loads(data, where)):
        return verify_signed_profile(data, where, governance, at, revocations=revocations)
    prof = load_profile(name_or_path)
    if prof.certification_tier:
        raise NotAuthentic(f"{where}: unsigned {prof.tier} profile {prof.id} v{prof.version}; the {prof.tier} "
                           f"tier needs a profile signed by governance (teecert profile sign)")
    gov = gv.load_governance(governance)
    when = gv.resolve_at(at)
    prof.check_in_force(when, where)
    if revocations is not None:
        gv.load_revocations(revocations, gov, when).check_profile(prof.id, prof.version, when, where)
    return prof
