"""Canonical JSON: RFC 8785 known answers out, strict parsing in."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from teecert._internal import canonical
from teecert.errors import MalformedInput

# -- dumps: RFC 8785 known answers -------------------------------------------------------


def test_rfc8785_sorting_example() -> None:
    # RFC 8785 section 3.2.3: member names sort by UTF-16 code units, so the emoji
    # (a surrogate pair, 0xD83D...) sorts before U+FB33 although its code point is larger.
    doc = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode()
    assert canonical.dumps(doc) == expected


def test_rfc8785_string_and_literal_example() -> None:
    # RFC 8785 section 3.2.2 (its "numbers" member left out: teecert refuses floats).
    doc = json.loads('{"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
                     ' "literals": [null, true, false]}')
    expected = b'{"literals":[null,true,false],"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert canonical.dumps(doc) == expected


def test_integers_and_nesting() -> None:
    assert canonical.dumps({"b": [1, -2, 0], "a": {"z": None, "y": 9007199254740991}}) == (
        b'{"a":{"y":9007199254740991,"z":null},"b":[1,-2,0]}'
    )


def test_sha256_hex_is_of_the_canonical_form() -> None:
    assert canonical.sha256_hex({"b": 1, "a": "x"}) == hashlib.sha256(b'{"a":"x","b":1}').hexdigest()


_no_surrogates = st.characters(exclude_categories=["Cs"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-canonical.MAX_SAFE_INTEGER, canonical.MAX_SAFE_INTEGER)
    | st.text(_no_surrogates),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(_no_surrogates, max_size=4), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_dumps_agrees_with_the_rfc8785_package(doc: Any) -> None:
    # dumps takes a faster encoder for ASCII member names; it must never differ.
    assert canonical.dumps(doc) == rfc8785.dumps(doc)
    assert canonical.loads(canonical.dumps(doc), "t.json") == doc


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        (1.5, "$"),
        ({"a": [1, {"b": 0.0}]}, "$.a[1].b"),
        ({"x y": float("nan")}, '$["x y"]'),
    ],
)
def test_dumps_refuses_floats_with_their_path(doc: object, where: str) -> None:
    with pytest.raises(MalformedInput, match="float at " + re.escape(where)):
        canonical.dumps(doc)


def test_dumps_refuses_unsafe_integers_and_non_json() -> None:
    with pytest.raises(MalformedInput, match=r"\$\.n is beyond 2\*\*53"):
        canonical.dumps({"n": 2**53})
    with pytest.raises(MalformedInput, match="non-string key"):
        canonical.dumps({1: "a"})
    with pytest.raises(MalformedInput, match="type set"):
        canonical.dumps({"s": {1}})
    with pytest.raises(MalformedInput):
        canonical.dumps({"s": "\ud800"})


# -- loads: strict parsing ---------------------------------------------------------------


def test_loads_duplicate_key_names_key_and_path() -> None:
    data = b'{"predicate": {"verdict": 1, "x": [], "verdict": 2}}'
    with pytest.raises(MalformedInput) as e:
        canonical.loads(data, "report.json")
    assert str(e.value) == "report.json: duplicate key 'verdict' in $.predicate"


def test_loads_duplicate_key_at_top_and_in_list() -> None:
    with pytest.raises(MalformedInput, match=r"duplicate key 'a' in \$$"):
        canonical.loads(b'{"a": 1, "a": 1}', "f")
    with pytest.raises(MalformedInput, match=r"duplicate key 'k' in \$\.l\[1\]"):
        canonical.loads(b'{"l": [{}, {"k": 1, "k": 2}]}', "f")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"a": 1.0}', r"float 1\.0 at \$\.a"),
        (b'{"a": [1e5]}', r"float 1e5 at \$\.a\[0\]"),
        (b'{"a": NaN}', r"NaN at \$\.a"),
        (b'{"a": -Infinity}', r"-Infinity at \$\.a"),
        (b'{"a": 9007199254740992}', r"integer 9007199254740992 beyond 2\*\*53 - 1 at \$\.a"),
        (b'{"a": -' + b"9" * 5000 + b"}", r"integer -9{23}\.\.\. beyond"),
    ],
)
def test_loads_refuses_numbers_teecert_does_not_sign(data: bytes, problem: str) -> None:
    with pytest.raises(MalformedInput, match=r"^f\.json: " + problem):
        canonical.loads(data, "f.json")


def test_loads_accepts_the_largest_safe_integer() -> None:
    assert canonical.loads(b"[9007199254740991, -9007199254740991]", "f") == [2**53 - 1, -(2**53 - 1)]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"a": "\xff"}', r"not UTF-8 \(invalid byte at offset 7\)"),
        (b"\xef\xbb\xbf{}", "byte order mark"),
        (b'{"a": "\\ud800"}', r"lone UTF-16 surrogate in a string at \$\.a"),
        (b'{"a": 1', "not valid JSON"),
        (b"", "empty file"),
        (b"{} {}", "not valid JSON: Extra data"),
        (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    ],
)
def test_loads_refuses_broken_text(data: bytes, problem: str) -> None:
    with pytest.raises(MalformedInput, match=problem) as e:
        canonical.loads(data, "f.json")
    assert str(e.value).startswith("f.json: ")
    assert "\n" not in str(e.value)


def test_loads_keeps_valid_surrogate_pairs_and_unicode() -> None:
    assert canonical.loads(b'{"e": "\\ud83d\\ude00", "o": "\xc3\xb6"}', "f") == {"e": "\U0001f600", "o": "ö"}


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_loads_refuses_nesting_deeper_than_the_limit_naming_the_path(opener: bytes) -> None:
    """Nesting the decoder takes (a few hundred levels) but copies and views of the
    document would recurse through until the stack runs out: refused when read."""
    closer = b"]" if opener == b"[" else b"}"
    depth = canonical.MAX_DEPTH + 1
    deep = b'{"predicate": {"probe": ' + opener * depth + b"0" + closer * depth + b"}}"
    with pytest.raises(MalformedInput, match=r"^f\.json: JSON nested too deeply \(more than 64 levels\) "
                                             r"at \$\.predicate\.probe") as e:
        canonical.loads(deep, "f.json")
    assert "\n" not in str(e.value)
    at_limit = opener * (canonical.MAX_DEPTH - 2) + b"0" + closer * (canonical.MAX_DEPTH - 2)
    assert canonical.loads(b'{"a": ' + at_limit + b"}", "f.json") is not None


def test_dumps_refuses_what_loads_would_refuse_as_too_deep() -> None:
    doc: list[object] = []
    for _ in range(canonical.MAX_DEPTH + 1):
        doc = [doc]
    with pytest.raises(MalformedInput, match=r"nests deeper than 64 levels"):
        canonical.dumps({"a": doc})


def test_dumps_names_where_a_lone_surrogate_is() -> None:
    """A probe's self-description may carry one (JSON lets "\\ud800" through); the
    report that embeds it cannot be signed, and the refusal says where it is."""
    with pytest.raises(MalformedInput, match=r"^lone UTF-16 surrogate in a string at \$\.probe\.description\.name$"):
        canonical.dumps({"probe": {"description": {"name": "x\ud800"}}})
