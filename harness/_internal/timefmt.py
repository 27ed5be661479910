"""Times in signed documents: RFC 3339 UTC to the second, ``2026-11-21T05:00:00Z``.

Reports, profiles, revocation lists and decisions all write times this one way, so
that a time is one string, never a float, and compares as it sorts.
"""

from __future__ import annotations

import datetime as _dt
import re

from ..errors import MalformedInput

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Exactly the form format_time writes: ASCII digits (int() takes other scripts' too),
# two of them to a field (strptime takes one), nothing around it.
_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


def format_time(t: _dt.datetime) -> str:
    """RFC 3339 UTC to the second (naive times are taken as UTC)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return t.astimezone(_dt.UTC).strftime(TIME_FORMAT)


def parse_time(text: str, where: str) -> _dt.datetime:
    """The inverse of ``format_time``, UTC-aware; ``MalformedInput`` naming ``where`` otherwise."""
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    try:
        if match is None:
            raise ValueError(text)
        # the fields' ranges (a 13th month, a 61st second) are datetime's to refuse
        year, month, day, hour, minute, second = map(int, match.groups())
        return _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.UTC)
    except ValueError:
        raise MalformedInput(f"{where}: {text!r} is not an RFC 3339 UTC time like 2026-11-21T05:00:00Z") from None
