"""``teecert attest verify`` and ``teecert trust add|list``: the command-line layer
over ``teecert.attestation``.

Exit codes (DESIGN.md): 0 authentic and policy met; 1 authentic but the policy is
not met (every failed rule listed); 2 not authentic at the verification time, or
malformed input.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

from .._internal.atomic import write_atomic
from .._internal.files import read_input
from ..errors import UsageError


def trust_dir() -> Path:
    """Where ``teecert trust add`` installs roots: ``$TEECERT_TRUST_DIR`` or
    ``$XDG_CONFIG_HOME/teecert/roots`` (``~/.config/teecert/roots``)."""
    env = os.environ.get("TEECERT_TRUST_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "teecert" / "roots"


def _read(path: str, what: str) -> bytes:
    return read_input(path, what)


def default_roots() -> list[Any]:
    """The bundled pinned roots plus any installed with ``teecert trust add``."""
    # imported when the command runs, so that `teecert` starts without it
    from ..attestation.verify.roots import bundled_roots, load_roots

    roots = bundled_roots()
    d = trust_dir()
    if d.is_dir() and any(d.iterdir()):
        roots += load_roots(d)
    return roots


def _cmd_attest_verify(a: argparse.Namespace, parse_time: Any) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..attestation import evidence
    from ..attestation.validate.policy import default_policy, load_policy
    from ..attestation.verify.roots import load_roots

    data = _read(a.evidence, "evidence")
    certs = [_read(c, "certificate") for c in (a.cert or [])]
    collateral = _read(a.collateral, "collateral") if a.collateral else None
    roots = load_roots(a.roots) if a.roots else default_roots()
    policy = load_policy(Path(a.policy)) if a.policy else default_policy()
    at = parse_time(a.at) if a.at else None
    out = evidence.verify_and_validate(data, a.evidence, policy=policy, fmt=a.format, certs=certs,
                                       collateral=collateral, roots=roots, at=at)
    code = 0 if out.accepted else 1
    if a.json:
        print(json.dumps({"evidence": a.evidence, "authentic": True, "accepted": out.accepted,
                          "failures": out.failures, "verified": evidence.verified_to_json(out.verified),
                          "exit_code": code}, indent=2))
        return code
    v = out.verified
    head = f"{a.evidence}: {v.format} evidence authentic at {v.time.astimezone(_dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
    if out.failures:
        print(f"{head}; policy NOT met: {out.failures[0]}")
        for f in out.failures[1:]:
            print(f"  also: {f}")
    else:
        print(f"{head}; policy met")
    print(f"  signer {v.signer}; debug {v.debug}; TCB {v.tcb or '-'}; status {v.tcb_status or '-'}"
          + (f"; advisories {', '.join(v.advisories)}" if v.advisories else ""))
    for note in v.notes:
        print(f"  note: {note}")
    return code


def _cmd_attest_reverify(a: argparse.Namespace, parse_time: Any) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..attestation.validate.policy import load_policy
    from ..profile import load_profile
    from ..report import keys
    from ..verify.reverify import load_collateral, reverified_to_json, reverify
    from ..verify.verifier import verify_report_file

    at = parse_time(a.at)
    bundles = [load_collateral(_read(c, "collateral"), c) for c in (a.collateral or [])]
    trusted = keys.load_trusted(Path(a.trust)) if a.trust else None
    profile = load_profile(a.profile) if a.profile else None
    policy = load_policy(Path(a.policy)) if a.policy else None
    # Every report is verified (signature, schema, recomputed verdict and attestation at
    # its run time) before anything in it is re-judged.
    outcomes = [verify_report_file(r, trusted=trusted, profile=profile, at=at) for r in a.reports]
    results = reverify(outcomes, collateral=bundles, at=at, policy=policy)
    for i, (o, r) in enumerate(zip(outcomes, results, strict=True)):
        # Fail closed as `teecert verify` does: nothing pins an unpinned signer or profile.
        unpinned = [w for w, pinned in (("signer", o.signer_pinned), ("profile", o.profile_pinned)) if not pinned]
        if r.accepted_then and unpinned and not a.allow_unpinned:
            why = f"{' and '.join(unpinned)} not pinned (pass --trust and --profile, or --allow-unpinned)"
            results[i] = dataclasses.replace(r, accepted_then=False, accepted_now=False, now=why)
    code = 0 if all(r.accepted_now for r in results) else 1
    if a.json:
        print(json.dumps({"at": a.at, "reports": [reverified_to_json(r) for r in results],
                          "accepted": code == 0, "exit_code": code}, indent=2))
        return code
    for r in results:
        stamp = f"{r.at.astimezone(_dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
        if r.accepted_now:
            print(f"{r.where}: still accepted at {stamp} ({r.format or 'no evidence'}, TCB status "
                  f"{r.tcb_status_then or '-'} -> {r.tcb_status_now or '-'}; collateral: {r.collateral})")
        elif r.accepted_then:
            print(f"{r.where}: FELL OUT at {stamp}: {r.now} (collateral: {r.collateral})")
            for f in r.failures[1:]:
                print(f"  also: {f}")
        else:
            print(f"{r.where}: not accepted: {r.now}")
    return code


def _cmd_attest_simulate(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..attestation.testing import sim

    try:
        rd = bytes.fromhex(a.report_data)
    except ValueError:
        rd = b""
    if len(rd) != 64:
        raise UsageError("--report-data: expected 128 hex digits (the 64 bytes `teecert run --print-report-data` states)")
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    write_atomic(Path(a.out), sim.make(rd, measurement=bytes(48), now=now))
    print(f"{a.out}: simulated evidence (development only) for report data {a.report_data[:16]}...")
    return 0


def _cmd_trust(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from cryptography.hazmat.primitives.serialization import Encoding

    # imported when the command runs, so that `teecert` starts without it
    from ..attestation.verify.roots import load_roots, pinned_name
    from ..attestation.verify.x509chain import fingerprint, subject

    d = Path(a.dir) if a.dir else trust_dir()
    if a.trust_cmd == "list":
        # imported when the command runs, so that `teecert` starts without it
        from ..attestation.verify.roots import bundled_roots

        listed = bundled_roots() + (load_roots(d) if d.is_dir() and any(d.iterdir()) else [])
        for c in listed:
            print(f"{fingerprint(c)}  {pinned_name(c) or 'intermediate'}  {subject(c)}")
        return 0
    certs = load_roots(Path(a.file))  # refuses anything not pinned or not signed by a pinned root
    d.mkdir(parents=True, exist_ok=True)
    for c in certs:
        fp = fingerprint(c)
        write_atomic(d / f"{fp}.pem", c.public_bytes(Encoding.PEM))
        print(f"installed {pinned_name(c) or 'intermediate'} {subject(c)} ({fp}) into {d}")
    return 0


def add_parsers(sub: Any, parse_time: Any) -> None:
    at = sub.add_parser("attest", help="verify attestation evidence against pinned vendor roots and a policy")
    asub = at.add_subparsers(dest="attest_cmd", required=True)
    v = asub.add_parser("verify", help="verify (authenticity) then validate (policy) one piece of evidence")
    v.add_argument("evidence", metavar="EVIDENCE")
    v.add_argument("--format", default="auto", choices=["auto", "snp", "tdx", "sgx", "nitro", "cca", "sim"])
    v.add_argument("--cert", action="append", metavar="FILE", help="VCEK/VLEK certificate (SEV-SNP), or the CCA platform key (PEM, JWK or COSE_Key)")
    v.add_argument("--collateral", metavar="FILE", help="DCAP collateral bundle (JSON) or, for SEV-SNP, the AMD CRL (DER/PEM); docs/attestation.md")
    v.add_argument("--roots", metavar="FILE|DIR", help="vendor roots (each must be pinned; default: bundled)")
    v.add_argument("--at", metavar="TIME", help="verification time, RFC 3339 (Nitro default: the document's own)")
    v.add_argument("--policy", metavar="FILE", help="attestation policy JSON (default: the strict default policy)")
    v.add_argument("--json", action="store_true")
    sm = asub.add_parser("simulate", help="make simulated evidence (development profiles only) for report data")
    sm.add_argument("--report-data", required=True, metavar="HEX", help="128 hex digits")
    sm.add_argument("--out", required=True, metavar="FILE")
    rv = asub.add_parser(
        "reverify", help="re-judge verified reports' embedded evidence against newer collateral at a time",
        description="Verify every REPORT, then re-verify the attestation evidence it embeds at TIME with the "
                    "given DCAP collateral (chosen by the quote's FMSPC; else the report's own) and the "
                    "profile's policy (or --policy). Exit 0 when every report is still accepted, 1 when any "
                    "fell out or was not accepted, 2 for a report that is not authentic or malformed input.")
    rv.add_argument("reports", nargs="+", metavar="REPORT")
    rv.add_argument("--collateral", action="append", metavar="FILE",
                    help="newer DCAP collateral bundle (JSON); repeat for several platforms")
    rv.add_argument("--at", required=True, metavar="TIME", help="re-verification time, RFC 3339")
    rv.add_argument("--policy", metavar="FILE", help="governance's current attestation policy (default: each "
                                                     "report's profile policy)")
    rv.add_argument("--trust", metavar="KEYS", help="PEM public key file or folder of trusted signers")
    rv.add_argument("--profile", metavar="NAME|FILE", help="the profile the reports must have been made under")
    rv.add_argument("--allow-unpinned", action="store_true",
                    help="count reports whose signer or profile nothing pins")
    rv.add_argument("--json", action="store_true")
    at.set_defaults(func=lambda a: _cmd_attest_simulate(a) if a.attest_cmd == "simulate"
                    else _cmd_attest_reverify(a, parse_time) if a.attest_cmd == "reverify"
                    else _cmd_attest_verify(a, parse_time))

    t = sub.add_parser("trust", help="install or list trusted vendor roots (pinned by SHA-256)")
    tsub = t.add_subparsers(dest="trust_cmd", required=True)
    ta = tsub.add_parser("add", help="install a vendor root after checking its pin")
    ta.add_argument("file", metavar="FILE")
    ta.add_argument("--dir", metavar="DIR", help="trust folder (default: ~/.config/teecert/roots)")
    tl = tsub.add_parser("list", help="list the trusted roots")
    tl.add_argument("--dir", metavar="DIR")
    t.set_defaults(func=_cmd_trust)

