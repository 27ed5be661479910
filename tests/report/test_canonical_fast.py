"""Fast paths held to the strict checks they stand in for.

``canonical.loads`` leaves out its per-integer range check when a byte scan finds no
integer token long enough to exceed 2**53 - 1.  These tests hold the fast path to the
strict one (``canonical._parse`` with every check on): same value or same refusal,
word for word, on generated JSON texts full of what strict parsing refuses.
``canonical.parse_canonical`` (verify's one parse of a payload) accepts exactly the
payloads that the strict parse and the canonical serialization accept together, in
both of its forms: the one-pass check in C (native/accel/jcs.c) and the Python
definition it is held to.
``dsse.b64decode`` accepts a payload by its round trip: only canonical base64.
``statement.validate_schema`` checks a report without its rows by the schema's compiled
check: a forged profile document, or a field beside it, is still refused by name."""

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


# -- canonical payloads: one parse and one serialization, as strict as loads + dumps ----


def _loads_then_dumps(raw: bytes) -> tuple[bool, Any]:
    """What verify did before ``parse_canonical``: the strict parse, then the canonical form."""
    try:
        value = canonical.loads(raw, "p.json")
        same = canonical.dumps(value) == raw
    except MalformedInput:
        return False, None
    return same, value


def _forms(text: str) -> list[bytes]:
    """``text`` and the compact, key-sorted forms a lenient parser gives of it (which
    may hold floats, NaN, unsafe integers, escapes or keys a duplicate dropped)."""
    out = [text.encode("utf-8")]
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return out
    for ascii_only in (False, True):
        for sort in (True, False):
            out.append(json.dumps(value, sort_keys=sort, separators=(",", ":"), ensure_ascii=ascii_only)
                       .encode("utf-8", "surrogatepass"))
    return out


def _agree(raw: bytes) -> None:
    slow, expected = _loads_then_dumps(raw)
    for parse in (canonical.parse_canonical, canonical.parse_canonical_py):
        fast, value = parse(raw)
        if fast:
            assert slow and json.dumps(value) == json.dumps(expected), (parse.__name__, raw)
        if raw.isascii():  # only ASCII payloads are tried; the others go the strict way
            assert fast == slow, (parse.__name__, raw)


def test_the_one_pass_check_is_built() -> None:
    # Otherwise parse_canonical is parse_canonical_py and the tests here hold nothing
    # against the C check that ``pip install`` builds and verify uses.
    assert canonical._jcs is not None


# Member names and string values that order and escape differently: control
# characters (short escapes and \u00XX), DEL, quotes, backslashes, prefixes.
_NAMES = st.text(alphabet="ab\x00\x01\x08\t\n\x0b\x0c\r\x1f \"\\/\x7fB~", max_size=4)
_SCALARS = st.one_of(st.none(), st.booleans(), _NAMES, st.sampled_from(_EDGE_INTS),
                     st.integers(-(2**53 - 1), 2**53 - 1))
_DOCS = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(_NAMES, inner, max_size=4), max_leaves=12)


def _canonical_text(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(_DOCS, st.data())
def test_parse_canonical_on_canonical_texts_and_one_byte_edits(doc: Any, data: st.DataObject) -> None:
    raw = _canonical_text(doc)
    _agree(raw)
    # One byte replaced, inserted or removed: the C check and the definition must
    # still agree, whatever the edit makes of the text.
    i = data.draw(st.integers(0, len(raw)))
    b = bytes([data.draw(st.sampled_from(b' "\\,:[]{}-019aeufnrtE.\x00\x1f\x7f\x80'))])
    edit = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    edited = {"replace": raw[:i] + b + raw[i + 1:], "insert": raw[:i] + b + raw[i:],
              "delete": raw[:i] + raw[i + 1:]}[edit]
    _agree(edited)


@pytest.mark.parametrize("raw", [
    b'{"a":1,"a\\u0000":2}', b'{"a\\u0000":1,"a":2}', b'{"a":1,"a\\n":2}', b'{"a\\n":1,"a\\u000b":2}',
    b'{"\\"":1,"\\\\":2}', b'{"\\\\":1,"\\"":2}', b'{"":1,"a":2}', b'{"a":1,"":2}', b'{"\x7f":1,"~":2}',
    b'{"~":1,"\x7f":2}', b'{"a\\u001f":1,"a ":2}', b'{"a":"\\u0008"}', b'{"a":"\\u000c"}', b'{"a":"\\u000d"}',
    b'{"a":"\\u0009"}', b'{"a":"\\u0000"}', b'{"a":"\\u0020"}', b'{"a":"\\u007f"}', b'{"a":"\\u00"}',
    b'{"a":"\\u001"}', b'{"a":"\\"}', b'{"a":"\\x"}', b'"\\u001g"', b'"', b'"\\', b'-', b'-1', b'-01', b'0',
    b'00', b'1', b'[0,-0]', b'9007199254740991', b'-9007199254740991', b'9007199254740992',
    b'10000000000000000', b'0000000000000001', b'1.0', b'1e0', b'1E0', b'[1,]', b'[,1]', b'{"a"}', b'{"a":}',
    b'{"a":1,}', b'{,"a":1}', b'{1:1}', b'tru', b'truee', b'nul', b'[true,false,null]', b'[]', b'{}', b'[{}]',
    b'[[],[[]]]', b'{"a":{"b":{}}}', b'[' * 64 + b'{}' + b']' * 64, b'{"a":' * 64 + b'1' + b'}' * 64,
    b'{"a":' * 65 + b'1' + b'}' * 65, b'[' * 63 + b'{"a":1}' + b']' * 63,
], ids=lambda r: r[:24].decode("latin-1"))
def test_parse_canonical_on_the_grammar_s_edges(raw: bytes) -> None:
    _agree(raw)


@settings(max_examples=400, deadline=None)
@given(_texts())
def test_parse_canonical_accepts_exactly_what_loads_and_dumps_accept(text: str) -> None:
    for raw in _forms(text):
        _agree(raw)


@pytest.mark.parametrize("raw", [
    b'{"a":1,"a":1}', b'{"a":1,"a":2}', b'{"b":1,"a":2}', b'{"a":1,"b":2}', b' {"a":1}', b'{"a":1}\n',
    b'{"a":1.0}', b'{"a":1e3}', b'{"a":-0}', b'{"a":01}', b'{"a":NaN}', b'{"a":9007199254740991}',
    b'{"a":9007199254740992}', b'{"a":-9007199254740992}', b'{"a":"\\ud800"}', b'{"a":"\\udc00x"}',
    b'{"a":"\\u00e9"}', '{"a":"\u00e9"}'.encode(), b'{"a":"\\u001f"}', b'{"a":"\\u001F"}', b'{"a":"\\/"}',
    b'{"a":"\\n"}', b'{"a":"\\u000a"}', b'{"\\u0061":1}', b'\xef\xbb\xbf{"a":1}', b'', b'null', b'"x"',
    b'[' * 64 + b']' * 64, b'[' * 65 + b']' * 65, b'[' * 2000 + b']' * 2000, b'{"a":[1,2,{"b":null}]}',
    b'{"a":true,"b":false}', b'\xff', b'{"a":1}{"b":2}', b'{"a":"\x01"}',
], ids=lambda r: r[:24].decode("latin-1"))
def test_parse_canonical_on_edge_cases(raw: bytes) -> None:
    _agree(raw)


def test_parse_canonical_takes_a_real_report() -> None:
    import reportfactory as rf

    payload = canonical.dumps(rf.statement_for(Ed25519PrivateKey.generate()))
    assert canonical.parse_canonical(payload) == (True, canonical.loads(payload, "p.json"))
    assert canonical.parse_canonical(payload.replace(b'":', b'": ', 1)) == (False, None)


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
