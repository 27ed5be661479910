"""The governance commands: ``teecert profile``, ``decide``, ``revocations``, ``governance``.

A thin layer over ``profiles``, ``governance`` and ``decision``: options in, one line
out, errors left for ``cli.main`` to turn into exit codes.  ``teecert verify`` calls
``verify_decision_file`` and ``revocations_option`` to handle decisions and
revocation lists (``add_verify_options`` adds its ``--governance``/``--revocations``).
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import profile as profiles
from .._internal.atomic import write_atomic
from .._internal.timefmt import format_time
from ..errors import MalformedInput, UsageError
from ..governance import profiles as governed
from ..governance import trust as governance
from ..governance.trust import DECISION_PAYLOAD_TYPE
from ..report import keys
from .common import parse_at

ParseTime = Callable[[str], _dt.datetime]


def _at(a: argparse.Namespace, parse_time: ParseTime) -> _dt.datetime:
    return governance.resolve_at(parse_time(a.at) if getattr(a, "at", None) else None).replace(microsecond=0)


def _private_keys(paths: list[str] | None) -> list[Any]:
    if not paths:
        raise UsageError("give at least one --key FILE (an Ed25519 private key, `teecert keys generate`)")
    return [keys.load_private(Path(p)) for p in paths]


def _emit(envelope: dict[str, Any], out: str | None, *, overwrite: bool) -> str:
    if out:
        return str(governance.write_envelope(out, envelope, overwrite=overwrite))
    sys.stdout.write(json.dumps(envelope, indent=2, ensure_ascii=False) + "\n")
    return "standard output"


# -- teecert profile --------------------------------------------------------------------


def _profile_show(a: argparse.Namespace) -> int:
    prof = profiles.load_profile(a.profile)
    print(json.dumps({"id": prof.id, "version": prof.version, "digest": prof.digest, "document": prof.data}, indent=2))
    return 0


def _profile_export(a: argparse.Namespace, parse_time: ParseTime) -> int:
    """Write a profile document (unsigned) that ``profile sign`` accepts, from a built-in
    or a profile file, with a new identity and window when given."""
    prof = profiles.load_profile(a.profile)
    doc = dict(prof.data)
    if a.id is not None:
        doc["id"] = a.id
    if a.version is not None:
        doc["version"] = a.version
    for name in ("activates", "expires"):
        given = getattr(a, name)
        if given is not None:
            doc[name] = format_time(parse_time(given))
    # A profile is known by its digest: another document under a built-in's name is
    # refused wherever a report names it, so a changed copy needs a name of its own.
    if doc != prof.data and doc["id"] in profiles.BUILTIN:
        raise UsageError(f"profile export: a changed copy of {prof.id!r} needs an id of its own (--id NAME); "
                         f"a document other than the built-in under the name {doc['id']!r} is refused")
    out = profiles.from_document(doc, a.out)  # the schema's checks: what comes out can be signed
    write_atomic(Path(a.out), (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"), 0o644,
                 overwrite=a.force)
    print(f"{a.out}: profile {out.id} v{out.version} ({out.digest[:16]}, {out.tier}) from {prof.source}; "
          f"sign it with `teecert profile sign {a.out} --key K --out SIGNED`")
    return 0


def _profile_sign(a: argparse.Namespace) -> int:
    src = governance.read_bytes(a.profile, "profile")
    env = governed.sign_profile(src, a.profile, _private_keys(a.key))
    same = Path(a.out).resolve() == Path(a.profile).resolve()
    written = _emit(env, a.out, overwrite=same or a.force)
    prof = profiles.load_profile(written)
    print(f"{written}: profile {prof.id} v{prof.version} ({prof.digest[:16]}) with "
          f"{len(env['signatures'])} signature(s)", file=sys.stderr)
    return 0


def _profile_verify(a: argparse.Namespace, parse_time: ParseTime) -> int:
    at = _at(a, parse_time)
    gov = governance.load_governance(a.governance)
    prof = governed.verify_signed_profile(governance.read_bytes(a.signed, "signed profile"), a.signed, gov, at,
                                          revocations=a.revocations)
    if a.json:
        print(json.dumps({"profile": a.signed, "authentic": True, **prof.identity(), "tier": prof.tier,
                          "signers": list(prof.signers), "threshold": gov.threshold,
                          "verification_time": format_time(at), "exit_code": 0}, indent=2))
    else:
        print(f"{a.signed}: profile {prof.id} v{prof.version} ({prof.digest[:16]}, {prof.tier}) signed by "
              f"{gov.describe(prof.signers)}; in force at {format_time(at)}")
    return 0


# -- teecert decide ---------------------------------------------------------------------


def _decide(a: argparse.Namespace, parse_time: ParseTime) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..verify import decision

    signing = _private_keys(a.key)
    if a.cosign:
        if a.reports or a.profile:
            raise UsageError("--cosign adds signatures to an existing decision: give no REPORT or --profile")
        env = decision.cosign(governance.read_bytes(a.cosign, "decision"), a.cosign, signing)
        same = a.out is not None and Path(a.out).resolve() == Path(a.cosign).resolve()
        written = _emit(env, a.out, overwrite=same or a.force)
        print(f"{written}: decision with {len(env['signatures'])} signature(s)", file=sys.stderr)
        return 0
    if not a.reports or not a.profile:
        raise UsageError("teecert decide REPORT... --profile P --key K (or --cosign DECISION --key K)")
    at = _at(a, parse_time)
    gov = governance.load_governance(a.governance) if a.governance else None
    if a.revocations and gov is None:
        raise UsageError("--revocations needs --governance: a revocation list is checked against governance keys")
    revs = governance.load_revocations(a.revocations, gov, at) if a.revocations and gov else None
    prof = governed.load_governed(a.profile, gov, at, revocations=revs)
    trusted = dict(keys.load_trusted(Path(a.trust))) if a.trust else None
    reports = [(governance.read_bytes(r, "report"), r) for r in a.reports]
    reverify_at, bundles = reverify_options(a, parse_time)
    statement = decision.build(reports, prof, trusted=trusted, at=at, revocations=revs,
                               reverify_collateral=bundles, reverify_at=reverify_at)
    env = decision.sign(statement, signing)
    written = _emit(env, a.out, overwrite=a.force)
    pred = statement["predicate"]
    levels = " ".join(pred["verifiedLevels"]) or "no level"
    print(f"decision: {pred['verificationResult']} ({levels}) for {pred['resourceUri']} over "
          f"{len(reports)} report(s), valid until {pred['validity']['not_after']}; written to {written}",
          file=sys.stderr)
    return 0 if pred["verificationResult"] == "PASSED" else 1


# -- teecert revocations / governance -------------------------------------------------------


def _revocations(a: argparse.Namespace, parse_time: ParseTime) -> int:
    if a.revocations_cmd == "sign":
        env = governance.sign_revocations(governance.read_bytes(a.file, "revocation list"), a.file,
                                          _private_keys(a.key))
        same = Path(a.out).resolve() == Path(a.file).resolve()
        written = _emit(env, a.out, overwrite=same or a.force)
        doc = json.loads(base64.b64decode(env["payload"]))
        print(f"{written}: revocation list sequence {doc['sequence']} (issued {doc['issued']}, expires "
              f"{doc['expires']}) with {len(env['signatures'])} signature(s)", file=sys.stderr)
        return 0
    at = _at(a, parse_time)
    gov = governance.load_governance(a.governance)
    rev = governance.load_revocations(a.file, gov, at)
    counts = ", ".join(f"{len(rev.data.get(n) or ())} {n}" for n in ("profiles", "vector_sets", "keys", "platforms"))
    print(f"{a.file}: revocation list sequence {rev.sequence}, issued {rev.data['issued']}, expires "
          f"{rev.data['expires']} ({counts}) signed by {gov.describe(rev.signers)}; in date at {format_time(at)}")
    return 0


def _governance(a: argparse.Namespace) -> int:
    pubs: list[Any] = []
    for f in a.public_keys:
        pubs.extend(keys.load_trusted(Path(f)).values())
    doc = governance.governance_document(pubs, a.threshold)
    data = (json.dumps(doc, indent=2) + "\n").encode("utf-8")

    write_atomic(Path(a.out), data, 0o644, overwrite=a.force)
    print(f"{a.out}: governance of {len(doc['keys'])} keys, threshold {doc['threshold']}")
    return 0


# -- teecert verify hooks -------------------------------------------------------------------


def add_verify_options(p: argparse.ArgumentParser) -> None:
    """``--governance`` and ``--revocations`` for ``teecert verify``."""
    p.add_argument("--governance", metavar="GOV.json",
                   help="governance file: verifies decisions and revocation lists (k-of-n keys)")
    p.add_argument("--revocations", metavar="FILE",
                   help="signed revocation list: refuse reports under superseded profiles or vector sets, "
                        "or by revoked keys or platforms (needs --governance)")


def add_reverify_options(p: argparse.ArgumentParser) -> None:
    """``--reverify-collateral`` and ``--reverify-at``: re-judge each report's embedded
    evidence with newer DCAP collateral at a time (``teecert attest reverify``)."""
    p.add_argument("--reverify-collateral", action="append", metavar="FILE",
                   help="newer DCAP collateral bundle to re-verify the reports' evidence with (repeatable)")
    p.add_argument("--reverify-at", metavar="TIME",
                   help="re-verify each report's embedded evidence at this time, RFC 3339")


def reverify_options(a: argparse.Namespace, parse_time: ParseTime) -> tuple[_dt.datetime | None, list[Any]]:
    """(re-verification time or None, collateral bundles) from ``add_reverify_options``."""
    if a.reverify_collateral and not a.reverify_at:
        raise UsageError("--reverify-collateral needs --reverify-at: the time to re-verify at")
    if not a.reverify_at:
        return None, []
    # imported when the command runs, so that `teecert` starts without it
    from ..verify.reverify import load_collateral

    bundles = [load_collateral(governance.read_bytes(c, "collateral"), c) for c in (a.reverify_collateral or [])]
    return parse_time(a.reverify_at), bundles


def revocations_option(a: argparse.Namespace) -> governance.Revocations | None:
    """The verified revocation list of ``teecert verify --revocations``, or None."""
    if not getattr(a, "revocations", None):
        return None
    if not a.governance:
        raise UsageError("--revocations needs --governance: a revocation list is checked against governance keys")
    return governance.load_revocations(a.revocations, a.governance, parse_at(getattr(a, "at", None)))


def verify_decision_file(a: argparse.Namespace, data: bytes, path: Path, parse_time: ParseTime) -> int | None:
    """``teecert verify`` on a decision (told by its payloadType): the exit code; None otherwise."""
    try:
        ptype = governance.payload_type_of(data, str(path))
    except MalformedInput:
        return None  # not ours to judge: the report path gives its own error
    other = {profiles.PROFILE_PAYLOAD_TYPE: "profile", governance.REVOCATIONS_PAYLOAD_TYPE: "revocations"}
    if ptype in other:
        raise UsageError(f"{path}: a signed {other[ptype]} document, not a report or decision; "
                         f"check it with `teecert {other[ptype]} verify`")
    if ptype != DECISION_PAYLOAD_TYPE:
        return None
    # imported only for a decision: it pulls in re-verification and every evidence format
    from ..verify import decision

    if not a.governance:
        raise UsageError(f"{path}: a decision is verified against governance keys: pass --governance GOV.json")
    at = governance.resolve_at(parse_time(a.at) if a.at else None)
    gov = governance.load_governance(a.governance)
    revs = governance.load_revocations(a.revocations, gov, at) if getattr(a, "revocations", None) else None
    # Governance keys revoked by the time of the check (by --revocations or a list accepted
    # before) do not count toward the decision's threshold.
    out = decision.verify(data, str(path), governance.governance_at(gov, at, revs), at)
    pred = out.statement["predicate"]
    code = 0 if out.passed else 1
    if a.json:
        print(json.dumps({**out.to_json(), "exit_code": code}, indent=2))
    else:
        levels = " ".join(pred["verifiedLevels"]) or "no level"
        print(f"{path}: decision {out.result} ({levels}) for {pred['resourceUri']}, signed by "
              f"{out.governance.describe(out.signers)}; valid until {pred['validity']['not_after']}")
        for c in pred["caveats"]:
            print(f"  caveat: {c}")
    return code


# -- registration -------------------------------------------------------------------------


def add_parsers(sub: Any, parse_time: ParseTime) -> None:
    """Register ``profile``, ``decide``, ``revocations`` and ``governance`` on the CLI."""
    pf = sub.add_parser("profile", help="show, export, sign and verify certification profiles")
    pfsub = pf.add_subparsers(dest="profile_cmd", required=True)
    ps = pfsub.add_parser("show", help="print a profile and its digest")
    ps.add_argument("profile", metavar="NAME|FILE")
    ps.set_defaults(func=_profile_show)
    pe = pfsub.add_parser(
        "export", help="write a profile document to sign, from a built-in or a profile file",
        description="Write the profile NAME|FILE (a built-in, a profile file, or a signed profile, whose "
                    "signatures are left out) to OUT as a profile document that `teecert profile sign` "
                    "accepts, with --id, --version, --activates and --expires replaced when given. "
                    "A changed copy of a built-in needs its own --id.")
    pe.add_argument("profile", metavar="NAME|FILE")
    pe.add_argument("out", metavar="OUT", help="where the profile document goes")
    pe.add_argument("--id", metavar="ID", help="the new profile's id")
    pe.add_argument("--version", type=int, metavar="N", help="its version (an integer, 1 or more)")
    pe.add_argument("--activates", metavar="TIME", help="when it takes effect, RFC 3339")
    pe.add_argument("--expires", metavar="TIME", help="when it stops being in force, RFC 3339")
    pe.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    pe.set_defaults(func=lambda a: _profile_export(a, parse_time))
    sg = pfsub.add_parser("sign", help="sign a profile with governance keys, or co-sign a signed one")
    sg.add_argument("profile", metavar="PROFILE.json", help="a profile document, or a signed profile to co-sign")
    sg.add_argument("--key", action="append", metavar="K", help="governance private key (repeatable)")
    sg.add_argument("--out", required=True, metavar="SIGNED", help="where the signed profile goes")
    sg.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    sg.set_defaults(func=_profile_sign)
    vf = pfsub.add_parser("verify", help="verify a signed profile against the governance threshold")
    vf.add_argument("signed", metavar="SIGNED")
    vf.add_argument("--governance", required=True, metavar="GOV.json")
    vf.add_argument("--revocations", metavar="FILE", help="signed revocation list (superseded versions)")
    vf.add_argument("--at", metavar="TIME", help="verification time, RFC 3339 (default: now)")
    vf.add_argument("--json", action="store_true")
    vf.set_defaults(func=lambda a: _profile_verify(a, parse_time))

    d = sub.add_parser("decide", help="verify reports and sign a governance decision (or co-sign one)",
                       description="Verify each REPORT under --profile and sign a decision about their "
                                   "platform-environment. Exit 0 PASSED, 1 FAILED, 2 a report or input refused.")
    d.add_argument("reports", nargs="*", metavar="REPORT")
    d.add_argument("--profile", metavar="P", help="the profile the reports must have been made under")
    d.add_argument("--key", action="append", metavar="K", help="governance private key (repeatable)")
    d.add_argument("--cosign", metavar="DECISION", help="add --key's signature to this decision")
    d.add_argument("--out", metavar="FILE", help="write the signed decision here (default: standard output)")
    d.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    d.add_argument("--trust", metavar="KEYS", help="PEM public key file or folder of trusted report signers")
    d.add_argument("--governance", metavar="GOV.json", help="verify a signed --profile against governance")
    d.add_argument("--revocations", metavar="FILE", help="signed revocation list (needs --governance)")
    d.add_argument("--at", metavar="TIME", help="decision time, RFC 3339 (default: now)")
    add_reverify_options(d)
    d.set_defaults(func=lambda a: _decide(a, parse_time))

    rv = sub.add_parser("revocations", help="sign or verify a revocation list")
    rsub = rv.add_subparsers(dest="revocations_cmd", required=True)
    rs = rsub.add_parser("sign", help="sign a revocation list, or co-sign a signed one")
    rs.add_argument("file", metavar="REVOCATIONS.json")
    rs.add_argument("--key", action="append", metavar="K")
    rs.add_argument("--out", required=True, metavar="SIGNED")
    rs.add_argument("--force", action="store_true")
    rr = rsub.add_parser("verify", help="verify a signed revocation list (threshold, dates, sequence) and "
                                        "record it as the newest seen")
    rr.add_argument("file", metavar="SIGNED")
    rr.add_argument("--governance", required=True, metavar="GOV.json")
    rr.add_argument("--at", metavar="TIME", help="verification time, RFC 3339 (default: now)")
    rv.set_defaults(func=lambda a: _revocations(a, parse_time))

    g = sub.add_parser("governance", help="write a governance file (k-of-n keys)")
    gsub = g.add_subparsers(dest="governance_cmd", required=True)
    gi = gsub.add_parser("init", help="list the governance public keys and the signing threshold")
    gi.add_argument("public_keys", nargs="+", metavar="PUB", help="PEM public key files (or folders)")
    gi.add_argument("--threshold", type=int, required=True, metavar="K")
    gi.add_argument("--out", required=True, metavar="GOV.json")
    gi.add_argument("--force", action="store_true")
    g.set_defaults(func=_governance)
