"""Times in signed documents are read in exactly the one form they are written in."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teecert._internal.timefmt import format_time, parse_time
from teecert.errors import MalformedInput


@given(st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)))
def test_a_written_time_reads_back(t: dt.datetime) -> None:
    t = t.replace(microsecond=0, tzinfo=dt.UTC)
    text = format_time(t)
    assert parse_time(text, "doc.json") == t
    # the independent reader of the same form
    assert dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC) == t


@pytest.mark.parametrize("text", [
    "2026-1-02T03:04:05Z", "2026-01-2T03:04:05Z", "2026-01-02T3:04:05Z", "2026-01-02T03:4:05Z",
    "2026-01-02T03:04:5Z", "226-01-02T03:04:05Z",  # strptime takes fewer digits
    " 2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z ", "2026-01-02T03:04:05", "2026-01-02 03:04:05Z",
    "2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05.0Z", "2026-01-02t03:04:05z",
    "\u0662\u0660\u0662\u0666-01-02T03:04:05Z",  # Arabic-Indic digits: int() would take them
    "2026-13-02T03:04:05Z", "2026-02-30T03:04:05Z", "2026-01-02T24:00:00Z", "2026-01-02T03:04:60Z",
    "0000-01-01T00:00:00Z", "", "2026",
])
def test_any_other_form_is_refused_by_name(text: str) -> None:
    with pytest.raises(MalformedInput, match=r"doc\.json: .* is not an RFC 3339 UTC time"):
        parse_time(text, "doc.json")


@pytest.mark.parametrize("value", [None, 20260102, ["2026-01-02T03:04:05Z"], b"2026-01-02T03:04:05Z"])
def test_a_value_that_is_not_a_string_is_refused(value: object) -> None:
    with pytest.raises(MalformedInput, match="is not an RFC 3339 UTC time"):
        parse_time(value, "doc.json")  # type: ignore[arg-type]
