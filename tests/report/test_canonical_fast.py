"""Fast paths held to the strict checks they stand in for.

``canonical.loads`` leaves out its per-integer range check when a byte scan finds no
integer token long enough to exceed 2**53 - 1.  These tests hold the fast path to the
strict one (``canonical._parse`` with every check on): same value or same refusal,
word for word, on generated JSON texts full of what strict parsing refuses.
``dsse.b64decode`` accepts a payload by its round trip: only canonical base64.
``statement.validate_schema`` skips a profile document it has validated before: only
one with the very same content."""

from __future__ import annotations

import base64
import copy
import json
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from teecert._internal import canonical, dsse
from teecert.errors import MalformedInput
from teecert.report import statement as report

# Integers around every boundary the scan relies on: 15 digits (always safe), 16
# digits (safe up to 2**53 - 1, unsafe above), 17 and more (always unsafe).
_EDGE_INTS = [0, -0, 10**15 - 1, -(10**15 - 1), 10**15, 2**53 - 1, -(2**53 - 1), 2**53, -(2**53),
              10**16 - 1, 10**16, -(10**16), 10**17, 10**40]
_WS = st.sampled_from(["", " ", "\n", "\t", "\r\n", "  "])
# Number-like text that is not an integer token, and strings with long digit runs in
# the places the scan looks (after a space, comma, colon or bracket).
_TOKENS = st.sampled_from(["1.5", "-0.0", "1e400", "2E3", "NaN", "Infinity", "-Infinity", "true", "false", "null",
                           '"a 12345678901234567"', '"[9007199254740992"', '",-99999999999999999"',
                           '"\\u0031234567890123456"', '"x:1234567890123456"'])


@st.composite
def _texts(draw: st.DrawFn, depth: int = 0) -> str:
    """A JSON-like text: objects may repeat keys, numbers may be too big or floats."""
    ws = draw(_WS)
    kind = draw(st.sampled_from(["int", "edge", "token", "string", "list", "object"] if depth < 4
                                else ["int", "edge", "token", "string"]))
    if kind == "int":
        return ws + str(draw(st.integers(-(10**20), 10**20)))
    if kind == "edge":
        return ws + str(draw(st.sampled_from(_EDGE_INTS)))
    if kind == "token":
        return ws + draw(_TOKENS)
    if kind == "string":
        return ws + json.dumps(draw(st.text(alphabet="0123456789 :,[-a\"\\", max_size=24)))
    if kind == "list":
        items = draw(st.lists(_texts(depth + 1), max_size=4))
        return ws + "[" + ",".join(items) + draw(_WS) + "]"
    keys = draw(st.lists(st.sampled_from(["a", "b", "1234567890123456789", "k:1"]), max_size=4))
    members = [f"{draw(_WS)}{json.dumps(k)}{draw(_WS)}:{draw(_texts(depth + 1))}" for k in keys]
    return ws + "{" + ",".join(members) + draw(_WS) + "}"


def _outcome(parse: Any) -> tuple[str, Any]:
    try:
        value = parse()
    except MalformedInput as e:
        return "refused", str(e)
    return "parsed", json.dumps(value)  # the text form tells 1 from True and 1 from 1.0


def _strict(text: str) -> tuple[str, Any]:
    return _outcome(lambda: canonical._parse(text, "f.json", check_ints=True))


@settings(max_examples=400, deadline=None)
@given(_texts())
def test_fast_path_parses_and_refuses_exactly_as_the_strict_path(text: str) -> None:
    assert _outcome(lambda: canonical.loads(text.encode("utf-8"), "f.json")) == _strict(text)
    assert _outcome(lambda: canonical.loads(text, "f.json")) == _strict(text)
    assert _outcome(lambda: canonical.loads(text.encode("utf-8"), "f.json", few_numbers=True)) == _strict(text)


@pytest.mark.parametrize("number", [str(2**53), str(-(2**53)), str(10**16), str(-(10**16)), str(10**17),
                                    "9" * 4400], ids=lambda n: n[:20])
@pytest.mark.parametrize("frame", ["{}", " {}", "[{}]", "[1,{}]", '{{"a":{}}}', '{{"a": {}}}', "[\n{}\n]",
                                   "[1,\t{}]"])
def test_every_unsafe_integer_is_refused_wherever_it_stands(number: str, frame: str) -> None:
    text = frame.format(number)
    with pytest.raises(MalformedInput, match="beyond 2\\*\\*53 - 1"):
        canonical.loads(text.encode("utf-8"), "f.json")


@pytest.mark.parametrize("number", [2**53 - 1, -(2**53 - 1), 10**15, 10**16 - 10**15])
def test_the_scan_sends_sixteen_digit_integers_to_the_range_check(number: int) -> None:
    # 16 digits may or may not fit: the scan must not decide them, the range check does.
    raw = f'{{"n": [{number}]}}'.encode()
    assert canonical._may_hold_long_int(raw)
    assert canonical.loads(raw, "f.json") == {"n": [number]}


def test_the_scan_lets_short_integers_and_hex_digests_take_the_fast_path() -> None:
    digest = "0123456789012345678901234567890123456789012345678901234567890123"
    raw = json.dumps({"root": digest, "n": [10**15 - 1, -(10**15 - 1)], "s": "a1234567890123456"}).encode()
    assert not canonical._may_hold_long_int(raw)
    assert canonical.loads(raw, "f.json")["n"] == [10**15 - 1, -(10**15 - 1)]


# -- base64 in DSSE envelopes: the round-trip fast path accepts only canonical text ----


def _canonical_forms(raw: bytes) -> set[str]:
    std = base64.b64encode(raw).decode("ascii")
    url = base64.urlsafe_b64encode(raw).decode("ascii")
    return {std, std.rstrip("="), url, url.rstrip("=")}


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40), st.data())
def test_base64_accepts_exactly_the_canonical_forms(raw: bytes, data: st.DataObject) -> None:
    for text in _canonical_forms(raw):
        assert dsse.b64decode(text, "payload") == raw
    # A one-character edit of the canonical text: decoded only if it is still the
    # canonical form of what it decodes to, refused otherwise.
    text = base64.b64encode(raw).decode("ascii")
    i = data.draw(st.integers(0, len(text)))
    edited = text[:i] + data.draw(st.sampled_from("A/+=-_ \n.é")) + text[i + 1:]
    try:
        got = dsse.b64decode(edited, "payload")
    except MalformedInput as e:
        assert "payload" in str(e)
    else:
        assert edited in _canonical_forms(got)


@pytest.mark.parametrize("text", ["QR==", "QUJ=", "QUJ", "Q", "QQ=", "QQ===", "QQ==QQ==", "QU I=", "QUI=\n", "QUIé"])
def test_base64_refuses_non_canonical_text(text: str) -> None:
    with pytest.raises(MalformedInput, match="payload"):
        dsse.b64decode(text, "payload")


# -- schema: a profile document is validated once per process, by its content --------


def _valid_statement() -> dict[str, Any]:
    import reportfactory as rf

    statement: dict[str, Any] = rf.statement_for(Ed25519PrivateKey.generate())
    report.validate_schema(statement, "first.json")  # now the document is known
    return statement


@pytest.mark.parametrize("edit", [
    lambda doc: doc.update(unknown_field=1),
    lambda doc: doc.update(version="2"),
    lambda doc: doc.pop("id"),
], ids=["unknown field", "wrong type", "missing field"])
def test_a_known_profile_document_does_not_vouch_for_an_edited_one(edit: Any) -> None:
    statement = _valid_statement()
    forged = copy.deepcopy(statement)
    edit(forged["predicate"]["profile"]["document"])
    with pytest.raises(MalformedInput, match=re.escape("second.json: $.predicate.profile.document")):
        report.validate_schema(forged, "second.json")


def test_a_known_profile_document_leaves_the_rest_of_the_report_checked() -> None:
    statement = _valid_statement()
    forged = copy.deepcopy(statement)
    forged["predicate"]["profile"]["version"] = "2"  # beside the document, not in it
    forged["predicate"]["run"]["workers"] = 0
    with pytest.raises(MalformedInput, match=re.escape("second.json")):
        report.validate_schema(forged, "second.json")
    report.validate_schema(copy.deepcopy(statement), "third.json")  # the same content still passes
