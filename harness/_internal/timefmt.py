"""Times in signed documents: RFC 3339 UTC to the second, ``2026-11-21T05:00:00Z``.

Reports, profiles, revocation lists and decisions all write times this one way, so
that a time is one string, never a float, and compares as it sorts.
"""

from __future__ import annotations

import datetime as _dt

from ..errors import MalformedInput

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(t: _dt.datetime) -> str:
    """RFC 3339 UTC to the second (naive times are taken as UTC)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return t.astimezone(_dt.UTC).strftime(TIME_FORMAT)


def parse_time(text: str, where: str) -> _dt.datetime:
    """The inverse of ``format_time``, UTC-aware; ``MalformedInput`` naming ``where`` otherwise."""
    try:
        return _dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=_dt.UTC)
    except (ValueError, TypeError):
        raise MalformedInput(f"{where}: {text!r} is not an RFC 3339 UTC time like 2026-11-21T05:00:00Z") from None
