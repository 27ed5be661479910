"""What every command shares: the exit code of an error, the verification time as
users type it, and the options of the commands that verify reports."""

from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path
from typing import Any

from ..errors import Rejected, TeecertError, UsageError

#: DESIGN.md's contract: 0 accepted, 1 authentic but rejected, 2 not authentic at the
#: verification time, malformed input or usage error.
ACCEPTED, REJECTED, INVALID = 0, 1, 2
#: A command cut short exits as a shell reports a process that signal ended (128 + the
#: signal): Ctrl-C (SIGINT), the reader of its output gone (SIGPIPE: ``teecert ... |
#: head -1``), SIGTERM.  Whatever the command started is ended and removed first.
INTERRUPTED, OUTPUT_CLOSED, TERMINATED = 130, 141, 143


def printable(text: str) -> str:
    """``text`` with every control or other unprintable character escaped (``\\n``,
    ``\\x1b``): a reason quoted from a report, a file name or a probe cannot start a
    second output line or send escape sequences to the reader's terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def exit_code_of(error: TeecertError) -> int:
    """The exit code an error ends a command with."""
    return REJECTED if isinstance(error, Rejected) else INVALID


def verdict_code(result: str) -> int:
    """0 for a CERTIFIED verdict, 1 for any other."""
    return ACCEPTED if result == "CERTIFIED" else REJECTED


def parse_at(text: str | None) -> _dt.datetime | None:
    """``--at``: RFC 3339 (``2026-11-21T05:00:00Z``) or a date, always UTC-aware."""
    if text is None:
        return None
    try:
        t = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--at: {text!r} is not an RFC 3339 time such as 2026-11-21T05:00:00Z") from None
    return t if t.tzinfo else t.replace(tzinfo=_dt.UTC)


def parse_time(text: str) -> _dt.datetime:
    """A given ``--at`` (never None)."""
    t = parse_at(text)
    assert t is not None
    return t


def add_verify_options(p: argparse.ArgumentParser, *, profile: bool = True) -> None:
    """The options every command that verifies reports takes, as ``teecert verify`` spells them."""
    p.add_argument("--trust", metavar="KEYS", help="PEM public key file or folder of trusted signers")
    if profile:
        p.add_argument("--profile", metavar="NAME|FILE", help="the profile the report must have been made under")
    p.add_argument("--at", metavar="TIME", help="verification time, RFC 3339 (default: now)")


def verify_inputs(a: argparse.Namespace) -> tuple[dict[str, Any] | None, Any, _dt.datetime]:
    """Trusted keys, pinned profile and verification time from ``add_verify_options`` options."""
    # Imported here: every command's parser is built at start-up, and only the commands
    # that verify reports need the profile and key machinery.
    from ..profile import load_profile
    from ..report import keys

    trusted = dict(keys.load_trusted(Path(a.trust))) if a.trust else None
    prof = load_profile(a.profile) if getattr(a, "profile", None) else None
    at = parse_at(a.at) or _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    return trusted, prof, at
