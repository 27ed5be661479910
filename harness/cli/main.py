"""The ``teecert`` command line: a thin layer over the library.

Only this module turns errors into exit codes (DESIGN.md): 0 accepted, 1 authentic
but rejected, 2 not authentic, malformed input or usage error.  Every rejection
prints a one-line reason first.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shlex
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from .._internal.version import __version__
from ..errors import TeecertError, UsageError


def _parse_time(text: str) -> _dt.datetime:
    """RFC 3339 (``2025-06-01T00:00:00Z``) or a plain date, always UTC-aware."""
    from ..verify.render import parse_at

    t = parse_at(text)
    assert t is not None
    return t


def _cmd_run(a: argparse.Namespace) -> int:
    from ..certify.options import ProbeTarget, RunOptions
    from ..certify.run import finish, run

    if a.evidence or a.pending:
        if not (a.evidence and a.pending):
            raise UsageError("--evidence and --pending go together: the evidence finishes that pending run")
        done = finish(pending_path=Path(a.pending), evidence=Path(a.evidence), fmt=a.evidence_format,
                      certs=[Path(c) for c in a.evidence_cert or []],
                      collateral=Path(a.evidence_collateral) if a.evidence_collateral else None,
                      key=Path(a.key) if a.key else None, out=Path(a.out))
        print(f"teecert run: {done.verdict}")
        print(f"report: {done.report_path}")
        return 0 if done.verdict == "CERTIFIED" else 1

    extra = list(a.pytest_args or [])
    if extra and extra[0] == "--":
        extra = extra[1:]
    outcome = run(RunOptions(
        probe=ProbeTarget(path=Path(a.probe) if a.probe else None, cmd=a.probe_cmd_line, url=a.probe_url,
                          timeout=a.probe_timeout, in_process=a.in_process),
        profile=a.profile,
        governance=Path(a.governance) if a.governance else None,
        revocations=Path(a.revocations) if a.revocations else None,
        vectors=Path(a.vectors) if a.vectors else None,
        out=Path(a.out),
        key=Path(a.key) if a.key else None,
        workers=a.workers,
        seed=a.seed,
        print_report_data=a.print_report_data,
        pytest_args=tuple(extra),
        argv=("teecert", *sys.argv[1:]),
    ))
    if outcome.pending_path is not None:
        print(f"teecert run: waiting for attestation evidence of report data {outcome.report_data}")
        print(f"pending run: {outcome.pending_path}")
        print(f"then: teecert run --evidence EVIDENCE --pending {outcome.pending_path} --out {a.out}"
              + (f" --key {a.key}" if a.key else ""))
        return 0
    line = f"teecert run: {outcome.verdict}"
    if outcome.reasons:
        first = outcome.reasons[0]
        line += f" ({len(outcome.reasons)} reasons; first: {first.get('code')} {first.get('test') or first.get('suite')})"
    print(line)
    print(f"report: {outcome.report_path}")
    return 0 if outcome.verdict == "CERTIFIED" else 1


def _cmd_verify(a: argparse.Namespace) -> int:
    from ..profile import load_profile
    from ..report import keys
    from ..verify.verifier import outcome_to_json, verify_report

    path = Path(a.report)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror})") from None
    from . import governance as governance_cli

    decided = governance_cli.verify_decision_file(a, data, path, _parse_time)  # a decision, by payloadType
    if decided is not None:
        return decided
    trusted = keys.load_trusted(Path(a.trust)) if a.trust else None
    profile = load_profile(a.profile) if a.profile else None
    at = _parse_time(a.at) if a.at else None
    outcome = verify_report(data, str(path), trusted=trusted, profile=profile, at=at,
                            revocations=governance_cli.revocations_option(a))
    verdict = outcome.verdict["result"]
    code = 0 if verdict == "CERTIFIED" else 1
    if a.json:
        print(json.dumps({**outcome_to_json(outcome), "exit_code": code}, indent=2))
    else:
        if code:
            first = outcome.verdict["reasons"][0] if outcome.verdict["reasons"] else {}
            print(f"{path}: NOT_CERTIFIED: {first.get('code', '')} {first.get('test') or first.get('suite') or ''}".rstrip())
        else:
            print(f"{path}: CERTIFIED")
        for note in outcome.reasons:
            print(f"  {note}")
    return code


def _cmd_vectors(a: argparse.Namespace) -> int:
    from ..vectors import generate as vector_gen

    if a.vectors_cmd == "generate":
        out = Path(a.out)
        files = vector_gen.generate(out, jobs=a.jobs, op_ids=a.op or None, progress=vector_gen.main_progress)
        from ..vectors.store import SET_NAME, SET_VERSION, set_digest

        digest = set_digest(SET_NAME, SET_VERSION, dict(sorted(files.items())))
        if a.pin_profiles:
            from ..profile import update_pinned_vector_digest

            update_pinned_vector_digest(Path(a.pin_profiles), digest)
        print(f"vector set {SET_NAME} v{SET_VERSION}: {len(files)} files, digest {digest}")
        return 0
    result = vector_gen.check(
        Path(a.path) if a.path else None,
        explicit_sample=a.sample,
        stream_chunks=a.chunks,
        seed=a.seed,
        progress=None if a.json else vector_gen.main_progress,
    )
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"vector set OK: digest {result['digest']} (sample seed {result['seed']})")
    return 0


def _cmd_probe(a: argparse.Namespace) -> int:
    from ..probe.build import build_probe, reference_probe_path
    from ..probe.library import load_probe

    if a.probe_cmd == "build":
        if a.target:
            # Issue 3: the reference probe and its host for a target triple, with the
            # target's gcc; the last line is the --probe-cmd that runs them.
            from ..probe.build import build_for_target

            if a.source or a.cflags or a.host:
                raise UsageError("--target builds the reference probe and its host: "
                                 "--source, --cflags and --host do not apply")
            tb = build_for_target(a.target, Path(a.out or f"teecert-probe-{a.target}"), cc=a.cc)
            print(f"probe: {tb.probe.resolve()}")
            print(f"host: {tb.host.resolve()}")
            if tb.missing:
                print(f"teecert probe build: note: {tb.missing}", file=sys.stderr)
            print(shlex.join(tb.probe_cmd))
            return 0
        if a.host:  # issue 3: the probe host
            from ..probe.build import HOST_NAME, build_host

            if a.source or a.cflags:
                raise UsageError("--host builds the probe host: --source and --cflags do not apply")
            print(build_host(Path(a.out) if a.out else Path(HOST_NAME), cc=a.cc).resolve())
            return 0
        out = Path(a.out) if a.out else Path("libteecert_probe.so")
        built = build_probe(
            out,
            source=Path(a.source) if a.source else None,
            cc=a.cc,
            extra_cflags=tuple(a.cflags.split()) if a.cflags else (),
        )
        print(built.resolve())
        return 0
    path = Path(a.probe) if a.probe else reference_probe_path()
    probe = load_probe(path)
    print(json.dumps({"path": str(path), "digest": probe.digest, "abi_version": probe.abi_version,
                      "description": probe.description}, indent=2))
    return 0


def _cmd_keys(a: argparse.Namespace) -> int:
    from ..report import keys

    path = Path(a.file)
    pub = keys.generate(path).public_key()
    pub_path = keys.write_public(Path(str(path) + ".pub"), pub)
    print(f"{path}: Ed25519 key {keys.keyid(pub)} (public key for --trust: {pub_path})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="teecert", description="Certify consensus TEEs: run, verify, inspect.")
    p.add_argument("--version", action="version", version=f"teecert {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="certify a probe on this machine and write a signed report")
    r.add_argument("--probe", metavar="PATH", help="probe library (default: the reference probe)")
    # Transport wiring (issue 3): the probe behind the probe host (docs/wire-protocol.md).
    r.add_argument("--probe-cmd", dest="probe_cmd_line", metavar="CMD",
                   help="probe host command serving the probe on its stdio, e.g. "
                        "'teecert-probe-host --probe LIB.so' (a child process)")
    r.add_argument("--probe-url", metavar="URL",
                   help="listening probe host: tcp://HOST:PORT, unix:PATH or vsock://CID:PORT")
    r.add_argument("--probe-timeout", type=float, metavar="SECONDS",
                   help="deadline of each call to a probe host (default: the profile's, else 30)")
    r.add_argument("--in-process", action="store_true",
                   help="load the probe library into the test process instead of serving it "
                        "from a probe host child process (faster; a crash ends the run)")
    r.add_argument("--profile", default="development", metavar="NAME|FILE", help="certification profile (default: development)")
    r.add_argument("--out", default=str(Path("teecert-reports")), metavar="DIR", help="where the signed report goes")
    r.add_argument("--key", metavar="FILE", help="Ed25519 signing key (default: created on first use, 0600)")
    r.add_argument("-n", dest="workers", metavar="WORKERS", help="pytest-xdist workers (a number or 'auto')")
    r.add_argument("--vectors", metavar="DIR", help="vector set folder (default: built in)")
    r.add_argument("--seed", type=int, help="seed of the run's random choices (recorded in the report)")
    r.add_argument("--governance", metavar="GOV.json",
                   help="governance trust file: the profile must carry its threshold of signatures")
    r.add_argument("--revocations", metavar="FILE", help="signed revocation list (superseded profiles)")
    r.add_argument("--print-report-data", action="store_true",
                   help="write a pending run and print the 64 bytes of report data to attest out of band")
    r.add_argument("--evidence", metavar="FILE", help="evidence obtained out of band (finishes --pending)")
    r.add_argument("--pending", metavar="FILE", help="the pending run that --print-report-data wrote")
    r.add_argument("--evidence-format", default="auto", choices=["auto", "snp", "tdx", "sgx", "nitro", "sim"])
    r.add_argument("--evidence-cert", action="append", metavar="FILE", help="VCEK/VLEK certificate (SEV-SNP)")
    r.add_argument("--evidence-collateral", metavar="FILE", help="DCAP collateral bundle")
    r.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then arguments for pytest")
    r.set_defaults(func=_cmd_run)

    v = sub.add_parser("verify", help="verify a signed report and recompute its verdict")
    v.add_argument("report", metavar="REPORT")
    v.add_argument("--trust", metavar="KEYS", help="PEM public key file or folder of trusted signers")
    v.add_argument("--profile", metavar="NAME|FILE", help="the profile the report must have been made under")
    v.add_argument("--at", metavar="TIME", help="verification time, RFC 3339 (default: now)")
    v.add_argument("--json", action="store_true", help="machine-readable result")
    from .governance import add_verify_options

    add_verify_options(v)
    v.set_defaults(func=_cmd_verify)

    vec = sub.add_parser("vectors", help="generate or check the golden vector set")
    vsub = vec.add_subparsers(dest="vectors_cmd", required=True)
    g = vsub.add_parser("generate", help="recompute every golden file with both references")
    g.add_argument("--out", default="vectors", metavar="DIR")
    g.add_argument("--jobs", type=int, default=0, help="worker processes (default: all cores)")
    g.add_argument("--op", action="append", metavar="OP", help="only this op (repeatable)")
    g.add_argument("--pin-profiles", metavar="DIR", help="write the new set digest into the profiles in DIR")
    c = vsub.add_parser("check", help="re-verify the manifest and recompute a random sample")
    c.add_argument("--path", metavar="DIR", help="vector set folder (default: built in)")
    c.add_argument("--sample", type=int, default=2000, help="explicit vectors to recompute")
    c.add_argument("--chunks", type=int, default=2, help="stream chunks to recompute")
    c.add_argument("--seed", type=int, help="seed of the sample")
    c.add_argument("--json", action="store_true")
    vec.set_defaults(func=_cmd_vectors)

    pr = sub.add_parser("probe", help="build or describe a probe")
    psub = pr.add_subparsers(dest="probe_cmd", required=True)
    b = psub.add_parser("build", help="build the reference probe (or a variant) as a shared library")
    b.add_argument("--cc", help="C compiler (default: $CC, cc, gcc, clang)")
    b.add_argument("--target", metavar="TRIPLE",
                   help="build the reference probe and the probe host for this target, e.g. "
                        "aarch64-linux-gnu or riscv64-linux-gnu, with its gcc, into --out "
                        "(default ./teecert-probe-TRIPLE/); the last line printed is the "
                        "--probe-cmd that runs them (under qemu-user for another architecture)")
    b.add_argument("--out", metavar="PATH",
                   help="output library (default: ./libteecert_probe.so), or folder with --target")
    b.add_argument("--source", metavar="FILE", help="C source instead of the reference probe")
    b.add_argument("--cflags", metavar="FLAGS", help="extra compiler flags, e.g. '-ffast-math'")
    # Issue 3: the probe host executable (native/host/probe_host.c).
    b.add_argument("--host", action="store_true",
                   help="build the probe host (default output ./teecert-probe-host) instead of a probe")
    d = psub.add_parser("describe", help="print a probe's self-description")
    d.add_argument("--probe", metavar="PATH")
    pr.set_defaults(func=_cmd_probe)

    k = sub.add_parser("keys", help="manage signing keys")
    ksub = k.add_subparsers(dest="keys_cmd", required=True)
    kg = ksub.add_parser("generate", help="create an Ed25519 signing key (0600)")
    kg.add_argument("file", metavar="FILE")
    k.set_defaults(func=_cmd_keys)

    from ..verify import compare, render
    from . import attest as attest_cli
    from . import governance as governance_cli

    governance_cli.add_parsers(sub, _parse_time)

    render.add_parser(sub)
    compare.add_parser(sub)
    attest_cli.add_parsers(sub, _parse_time)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except TeecertError as e:
        if getattr(args, "json", False):
            if args.cmd == "verify" and getattr(args, "report", None):
                from ..verify.verifier import error_to_json

                doc = error_to_json(e, args.report)
            else:
                doc = {"error": type(e).__name__, "message": str(e), "exit_code": e.exit_code}
            print(json.dumps(doc, indent=2))
        print(f"teecert {args.cmd}: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"teecert {args.cmd}: interrupted", file=sys.stderr)
        return 2
    except Exception as e:  # a bug in teecert, not the user's input
        if os.environ.get("TEECERT_DEBUG"):
            traceback.print_exc()
        print(f"teecert {args.cmd}: internal error: {type(e).__name__}: {e} (set TEECERT_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
