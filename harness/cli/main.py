"""The ``teecert`` command line: a thin layer over the library.

One module per command group registers its commands; this one builds the parser and
is the only place that turns errors into exit codes (DESIGN.md): 0 accepted, 1
authentic but rejected, 2 not authentic, malformed input or usage error.  Every
rejection prints a one-line reason first.  A command cut short exits as shells
expect of a process a signal ended: 130 after Ctrl-C, 143 after SIGTERM (both once
what the command started is ended and removed), 141, silently, when the reader of
its output went away (``teecert ... | head -1``).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from .._internal.version import __version__
from ..errors import TeecertError
from .common import (
    INTERRUPTED,
    INVALID,
    OUTPUT_CLOSED,
    TERMINATED,
    exit_code_of,
    parse_time,
    printable,
)

#: Who registers each command, in the order ``teecert --help`` lists them: the commands,
#: the module under cli/ and its function, and whether that takes ``parse_time``.
#: Only the module of the command that runs is imported (``command_of``): importing
#: them all, and the libraries they import, cost every ``teecert`` process a third of
#: a second.  tests/cli/test_cli_startup.py checks this table against the parsers.
COMMANDS: tuple[tuple[tuple[str, ...], str, str, bool], ...] = (
    (("run",), "run", "add_parsers", False),
    (("verify",), "verify", "add_verify_parser", False),
    (("vectors",), "vectors", "add_parsers", False),
    (("probe",), "probe", "add_parsers", False),
    (("keys",), "keys", "add_parsers", False),
    (("profile", "decide", "revocations", "governance"), "governance", "add_parsers", True),
    (("render",), "verify", "add_render_parser", False),
    (("compare",), "verify", "add_compare_parser", False),
    (("attest", "trust"), "attest", "add_parsers", True),
    (("doctor",), "doctor", "add_parsers", False),
    (("watch",), "watch", "add_parsers", False),
)


def command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names when it is one ``COMMANDS`` lists, else None.

    The top-level parser takes no option with a value, so the command is the first
    word that is not an option; ``--`` or anything unknown gives None (and the full
    parser, which explains the error with every command).
    """
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if any(word in names for names, *_ in COMMANDS) else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``teecert`` parser: every command, or only ``command`` (a name ``COMMANDS``
    lists), so that only its module is imported."""
    p = argparse.ArgumentParser(prog="teecert", description="Certify consensus TEEs: run, verify, inspect.")
    p.add_argument("--version", action="version", version=f"teecert {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    for names, module, function, takes_time in COMMANDS:
        if command is not None and command not in names:
            continue
        # __import__ rather than importlib.import_module: `python -X importtime` lists only
        # what the import statement's machinery imports, and start-up is profiled with it.
        register = getattr(__import__(f"{__package__}.{module}", fromlist=[function]), function)
        if takes_time:
            register(sub, parse_time)
        else:
            register(sub)
    return p


class _Terminated(BaseException):
    """SIGTERM, raised where the command is, so that the way out ends and removes what
    it started (``teecert run``'s test process, temporary files) as Ctrl-C does."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def _closed_output() -> list[int]:
    """The descriptors of standard output and error that are pipes (or sockets) whose
    reader has gone: writing to them fails with EPIPE."""
    closed = []
    for stream in (sys.stdout, sys.stderr):
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            continue
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        if any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)):
            closed.append(fd)
    return closed


def _internal_error(who: str, e: BaseException) -> int:
    if os.environ.get("TEECERT_DEBUG"):
        import traceback  # slow to import (linecache, tokenize), and needed only after a bug

        traceback.print_exc()
    print(f"{who}: internal error: {type(e).__name__}: {printable(str(e))} "
          "(set TEECERT_DEBUG=1 for a traceback)",
          file=sys.stderr)
    return INVALID


def _dispatch(args: argparse.Namespace) -> int:
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
    except BrokenPipeError as e:
        if _closed_output():
            raise  # the reader of our output went away: main's quiet exit
        return _internal_error(f"teecert {args.cmd}", e)  # another pipe: a bug in teecert
    except Exception as e:  # a bug in teecert, not the user's input
        return _internal_error(f"teecert {args.cmd}", e)


def _command(argv: Sequence[str] | None) -> int:
    who = "teecert"
    try:
        words = sys.argv[1:] if argv is None else list(argv)
        args = build_parser(command_of(words)).parse_args(words)
        who = f"teecert {args.cmd}"
        return _dispatch(args)
    except KeyboardInterrupt:
        print(f"{who}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except _Terminated:
        print(f"{who}: terminated", file=sys.stderr)
        return TERMINATED


def main(argv: Sequence[str] | None = None) -> int:
    previous: Any = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        try:
            code = _command(argv)
            sys.stdout.flush()  # a closed pipe shows here, not as "Exception ignored" at exit
            return code
        except SystemExit:  # argparse's --help, --version and usage errors, printed
            sys.stdout.flush()
            raise
    except BrokenPipeError:
        # Nothing more can reach the reader; the interpreter flushes again on exit, so
        # the closed descriptors now point at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in _closed_output() or [sys.stdout.fileno()]:
            os.dup2(devnull, fd)
        os.close(devnull)
        return OUTPUT_CLOSED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
