"""``teecert probe build|describe``: build probes and their host, read a probe's
self-description."""

from __future__ import annotations

import argparse
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
    d = psub.add_parser("describe", help="print a probe's self-description")
    d.add_argument("--probe", metavar="PATH")
    pr.set_defaults(func=_cmd_probe)

