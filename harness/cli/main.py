"""The ``teecert`` command line: a thin layer over the library.

One module per command group registers its commands; this one builds the parser and
is the only place that turns errors into exit codes (DESIGN.md): 0 accepted, 1
authentic but rejected, 2 not authentic, malformed input or usage error.  Every
rejection prints a one-line reason first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence

from .._internal.version import __version__
from ..errors import TeecertError
from . import attest, governance, keys, probe, run, vectors, verify
from .common import exit_code_of, parse_time, printable


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="teecert", description="Certify consensus TEEs: run, verify, inspect.")
    p.add_argument("--version", action="version", version=f"teecert {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    run.add_parsers(sub)
    verify.add_verify_parser(sub)
    vectors.add_parsers(sub)
    probe.add_parsers(sub)
    keys.add_parsers(sub)
    governance.add_parsers(sub, parse_time)
    verify.add_render_parser(sub)
    verify.add_compare_parser(sub)
    attest.add_parsers(sub, parse_time)
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
                # imported when the command runs, so that `teecert` starts without it
                from ..verify.verifier import error_to_json

                doc = {**error_to_json(e, args.report), "exit_code": exit_code_of(e)}
            else:
                doc = {"error": type(e).__name__, "message": str(e), "exit_code": exit_code_of(e)}
            print(json.dumps(doc, indent=2))
        print(f"teecert {args.cmd}: {printable(str(e))}", file=sys.stderr)
        return exit_code_of(e)
    except KeyboardInterrupt:
        print(f"teecert {args.cmd}: interrupted", file=sys.stderr)
        return 2
    except Exception as e:  # a bug in teecert, not the user's input
        if os.environ.get("TEECERT_DEBUG"):
            traceback.print_exc()
        print(f"teecert {args.cmd}: internal error: {type(e).__name__}: {printable(str(e))} "
              "(set TEECERT_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
