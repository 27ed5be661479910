"""``teecert probe build|describe``: build probes and their host, read a probe's
self-description."""

from __future__ import annotations

import argparse
import base64
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError


def _cmd_probe(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..probe.build import build_probe, reference_probe_path
    from ..probe.library import load_probe

    if a.probe_cmd == "build":
        if a.target:
            # The reference probe and its host for a target triple, with the target's
            # gcc; the last line is the --probe-cmd that runs them.
            from ..probe.build import build_for_target

            if a.source or a.cflags or a.host:
                raise UsageError("--target builds the reference probe and its host: "
                                 "--source, --cflags and --host do not apply")
            tb = build_for_target(a.target, Path(a.out or f"teecert-probe-{a.target}"), cc=a.cc)
            print(f"probe: {tb.probe.resolve()}")
            print(f"host: {tb.host.resolve()}")
            if tb.missing:
                print(f"teecert probe build: note: {tb.missing}", file=sys.stderr)
            if tb.degraded:
                print(f"teecert probe build: note: {tb.degraded}", file=sys.stderr)
            print(shlex.join(tb.probe_cmd))
            return 0
        if a.host:
            # imported when the command runs, so that `teecert` starts without it
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
    if a.probe_url or a.probe_cmd_line or a.probe_token_file:
        # a probe behind a probe host: its handshake, key and machine facts
        from ..probe.remote import open_probe  # imported when the command runs, as above

        if a.probe or (a.probe_url and a.probe_cmd_line):
            raise UsageError("give one of --probe, --probe-cmd and --probe-url")
        if not (a.probe_url or a.probe_cmd_line):
            raise UsageError("--probe-token-file is for a probe host: give --probe-cmd or --probe-url")
        with open_probe(cmd=a.probe_cmd_line, url=a.probe_url, token_file=a.probe_token_file) as rp:
            key = rp.host_public_key
            print(json.dumps({"path": str(rp.path), "digest": rp.digest, "abi_version": rp.abi_version,
                              "description": rp.description,
                              "host": {"public_key": base64.b64encode(key).decode() if key else None,
                                       "facts": rp.host_facts}}, indent=2))
        return 0
    path = Path(a.probe) if a.probe else reference_probe_path()
    probe = load_probe(path)
    print(json.dumps({"path": str(path), "digest": probe.digest, "abi_version": probe.abi_version,
                      "description": probe.description}, indent=2))
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``teecert probe``."""
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
    b.add_argument("--host", action="store_true",
                   help="build the probe host (default output ./teecert-probe-host) instead of a probe")
    d = psub.add_parser("describe", help="print a probe's self-description (behind a probe host: "
                                          "also the host's key and its machine's facts)")
    d.add_argument("--probe", metavar="PATH")
    d.add_argument("--probe-cmd", dest="probe_cmd_line", metavar="CMD",
                   help="probe host command serving the probe on its stdio")
    d.add_argument("--probe-url", metavar="URL",
                   help="listening probe host: tcp://HOST:PORT, unix:PATH or vsock://CID:PORT")
    d.add_argument("--probe-token-file", metavar="FILE",
                   help="the probe host's token (default: $TEECERT_HOST_TOKEN)")
    pr.set_defaults(func=_cmd_probe)

