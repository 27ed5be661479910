"""Seeded mutators: of bytes, of parsed JSON documents, and of their serialization.

Everything here takes a ``random.Random`` and nothing else random, so a case is
reproduced from its seed alone.  The JSON mutators work on parsed documents (dicts,
lists, scalars) and may leave two markers in them that only ``serialize`` knows how to
write: ``Pairs`` (an object whose member names may repeat) and ``Raw`` (text written
as it is: deep nesting, numbers no Python value writes, broken tokens).
"""

from __future__ import annotations

import base64
import copy
import json
import math
import random
from typing import Any

#: How many markers were made since ``mutate_doc`` last started from a plain copy: a
#: document can hold one only if this is not zero (``serialize``'s fast path).
_made = 0


class Pairs(list):  # type: ignore[type-arg]
    """A JSON object written member by member, in this order (names may repeat)."""

    def __init__(self, *args: Any) -> None:
        global _made
        _made += 1
        super().__init__(*args)


class Raw(str):
    """JSON text written verbatim."""

    __slots__ = ()

    def __new__(cls, text: str) -> Raw:
        global _made
        _made += 1
        return super().__new__(cls, text)


# -- pools of interesting values ------------------------------------------------------------

INTS = (0, 1, -1, 2, 7, 255, 256, 65535, 2**31 - 1, 2**31, 2**32, 2**32 + 1, 2**53 - 1, 2**53, 2**53 + 1,
        -(2**53 - 1), -(2**53), 2**63 - 1, 2**63, 2**64, -(2**63), 10**20, 10**400, 3650, 3651, 4096, 4097,
        64 << 20, (64 << 20) + 1)
FLOATS = (0.0, -0.0, 0.5, 1.5, 1e308, 5e-324, 1e-7, math.nan, math.inf, -math.inf, 30.0, 3600.5)
STRINGS = (
    "", " ", "a", "A", "\x00", "\x01", "\x1f", "\x7f", "\n", "\r\n", "\t", "\u2028", "\u2029", "\ufeff",
    "\ud800", "\udfff", "\ud83e\udd80", "é", "e\u0301", "🦀", "\u202e", "\x1b[31mred\x1b[0m", "null", "true",
    "0", "-0", "1e400", "NaN", "Infinity", "9" * 30, "9" * 5000, "=", "==", "AAAA", "AA==", "AB==", "A===",
    "AAAA\n", " AAAA", "____", "-_-_", "+/+/", "AAA", "AQID", "AQI=", "AQI", "%s%n%x", "{}", "[]", "../..",
    "/etc/passwd", "C:\\x", "..", ".", "x" * 300, "x" * 2001, "x" * 70000,
    "2026-11-21T05:00:00Z", "2026-11-21T05:00:00", "2026-11-21t05:00:00z", "2026-02-30T00:00:00Z",
    "2026-13-01T00:00:00Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "2026-11-21T05:00:60Z", "2026-11-21T05:00:00+01:00", "2026-11-21T05:00:00.5Z", "2026-11-21T05:00:00Z\n",
    "1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z",
    "00" * 32, "ff" * 32, "FF" * 32, "g" * 64, "0" * 63, "0" * 65, "00" * 64, "0" * 128, "0" * 2049,
    "f64.add.rne", "f32.sqrt.rdn", "hash.sha256", "f64.exp.rne", "no.such.op", "CERTIFIED", "NOT_CERTIFIED",
    "passed", "failed", "error", "skipped", "unsupported", "required", "advisory", "fail", "allow",
    "development", "bootstrap", "strict", "sim", "snp", "tdx", "sgx", "nitro", "auto", "bogus",
    "teecert-core", "teecert-profile/1", "teecert-vectors/1", "teecert-revocations/1", "teecert-governance/1",
    "application/vnd.in-toto+json", "attestation", "attestation::evidence", "[", "[[]", "*", "?", "[!a-z]",
    "test_ieee754.py::*", "teecert-binding-v1", "0x1", "-1", "1.5",
)


def interesting_string(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.75:
        return rng.choice(STRINGS)
    if r < 0.85:
        return "".join(chr(rng.choice((rng.randrange(0, 0x80), rng.randrange(0x80, 0x800),
                                       rng.randrange(0x800, 0x10000), rng.randrange(0x10000, 0x110000))))
                       for _ in range(rng.randrange(1, 20)))
    if r < 0.95:
        return base64.b64encode(rng.randbytes(rng.choice((0, 1, 2, 3, 31, 32, 33, 64, 1184)))).decode()
    return rng.randbytes(rng.randrange(1, 40)).hex()


def interesting_int(rng: random.Random) -> int:
    if rng.random() < 0.8:
        return rng.choice(INTS)
    return rng.randrange(-(2**70), 2**70) >> rng.randrange(0, 70)


def interesting_value(rng: random.Random, depth: int = 0) -> Any:
    r = rng.random()
    if r < 0.08:
        return None
    if r < 0.14:
        return rng.choice((True, False))
    if r < 0.34:
        return interesting_int(rng)
    if r < 0.42:
        return rng.choice(FLOATS)
    if r < 0.72:
        return interesting_string(rng)
    if r < 0.80:
        return deep_nesting(rng)
    if depth > 2:
        return interesting_string(rng)
    if r < 0.90:
        return [interesting_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {interesting_string(rng)[:20]: interesting_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def deep_nesting(rng: random.Random) -> Raw:
    depth = rng.choice((30, 200, 900, 990, 1000, 1100, 3000, 20000, 100000))
    opener, closer = rng.choice((("[", "]"), ('{"a":', "}")))
    inner = rng.choice(("0", "null", '"x"', "[]", "{}"))
    return Raw(opener * depth + inner + closer * depth)


# -- serialization --------------------------------------------------------------------------


def _scalar(v: Any, ensure_ascii: bool) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=ensure_ascii)
    return json.dumps(str(v))


def _marked(doc: Any) -> set[int]:
    """The ids of the containers that hold a ``Pairs`` or ``Raw`` at or below them."""
    out: set[int] = set()
    stack: list[tuple[Any, tuple[int, ...]]] = [(doc, ())]
    while stack:
        v, above = stack.pop()
        if isinstance(v, Pairs | Raw):
            out.update(above)
            out.add(id(v))
            if isinstance(v, Pairs):
                stack.extend((x, (*above, id(v))) for _k, x in v)
        elif isinstance(v, dict):
            stack.extend((x, (*above, id(v))) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, (*above, id(v))) for x in v)
    return out


def _plain(v: Any, sort: bool, ensure_ascii: bool, space: bool) -> str | None:
    """``v`` through the C encoder (floats, NaN and large integers as Python writes
    them, which is what the writer wants), or None where it cannot."""
    try:
        return json.dumps(v, sort_keys=sort, ensure_ascii=ensure_ascii, allow_nan=True,
                          separators=(", ", ": ") if space else (",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None


def write_json(doc: Any, *, sort: bool = True, indent: int | None = None, ensure_ascii: bool = False,
               space: bool = False) -> str:
    """JSON text of ``doc`` (markers included); iterative, so nesting costs no stack."""
    marked = _marked(doc) if indent is None else None
    out: list[str] = []
    sep, colon = (", ", ": ") if space else (",", ":")
    # Work items: ("v", value, level) writes a value; ("t", text) writes text.
    work: list[tuple[Any, ...]] = [("v", doc, 0)]
    while work:
        item = work.pop()
        if item[0] == "t":
            out.append(item[1])
            continue
        _, v, level = item
        if marked is not None and isinstance(v, dict | list) and id(v) not in marked:
            text = _plain(v, sort, ensure_ascii, space)
            if text is not None:
                out.append(text)
                continue
        if isinstance(v, dict | Pairs | list) and not isinstance(v, Raw):
            if isinstance(v, Pairs):
                members = [(k, x) for k, x in v]
            elif isinstance(v, dict):
                members = sorted(v.items(), key=lambda kv: str(kv[0])) if sort else list(v.items())
            else:
                members = None
            open_, close = ("[", "]") if members is None else ("{", "}")
            entries = list(v) if members is None else members
            if not entries:
                out.append(open_ + close)
                continue
            nl = "\n" + " " * (indent * (level + 1)) if indent is not None else ""
            end = "\n" + " " * (indent * level) if indent is not None else ""
            pieces: list[tuple[Any, ...]] = [("t", open_)]
            for i, e in enumerate(entries):
                pieces.append(("t", (sep.rstrip() if i else "") + nl if indent is not None else (sep if i else "")))
                if members is None:
                    pieces.append(("v", e, level + 1))
                else:
                    pieces.append(("t", json.dumps(str(e[0]), ensure_ascii=ensure_ascii) + colon))
                    pieces.append(("v", e[1], level + 1))
            pieces.append(("t", end + close))
            work.extend(reversed(pieces))
            continue
        out.append(_scalar(v, ensure_ascii))
    return "".join(out)


def encode_text(text: str) -> bytes:
    """UTF-8, with lone surrogates written as the (invalid) bytes they would be."""
    return text.encode("utf-8", "surrogatepass")


def serialize(doc: Any, rng: random.Random | None = None, *, canonical_form: bool = True) -> bytes:
    """``doc`` as bytes: its RFC 8785 form where teecert's own writer accepts it (what a
    signer would produce), else the closest JSON text; with ``rng`` and not
    ``canonical_form``, one of the non-canonical layouts."""
    if canonical_form or rng is None:
        if not _made:  # no markers: the C encoder (RFC 8785 for ASCII member names, as teecert's are)
            try:
                return encode_text(json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                              allow_nan=True))
            except (TypeError, ValueError, RecursionError):
                pass
        return encode_text(write_json(doc))
    style = rng.randrange(7)
    if style == 0:
        return encode_text(write_json(doc, indent=rng.choice((1, 2, 4))))
    if style == 1:
        return encode_text(write_json(doc, sort=False))
    if style == 2:
        return encode_text(write_json(doc, ensure_ascii=True))
    if style == 3:
        return encode_text(write_json(doc, space=True))
    if style == 4:
        return serialize(doc) + rng.choice((b"\n", b" ", b"\r\n", b"\x00", b"\t"))
    if style == 5:
        return rng.choice((b"\xef\xbb\xbf", b" ", b"\n")) + serialize(doc)
    # an escape where none is needed: "\u0061" for "a", "\/" for "/"
    text = write_json(doc)
    i = text.find('"', rng.randrange(max(1, len(text))))
    if i >= 0 and i + 1 < len(text) and text[i + 1].isalnum():
        text = text[: i + 1] + f"\\u{ord(text[i + 1]):04x}" + text[i + 2:]
    return encode_text(text)


# -- byte mutations --------------------------------------------------------------------------

TOKENS = (b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\\u0000", b"\\ud800", b"\\u", b"NaN", b"1e400",
          b"-0", b"99999999999999999999", b"\xef\xbb\xbf", b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\x00",
          b"null", b"true", b"=", b"\n", b" ", b"\t")


def mutate_bytes(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One to several byte-level mutations; returns (kind, bytes)."""
    b = bytearray(data)
    kind = rng.choice(("truncate", "bitflip", "replace", "insert", "delete", "duplicate", "token", "random",
                       "splice"))
    if kind == "truncate":
        return kind, bytes(b[: rng.randrange(len(b) + 1)])
    if kind == "random":
        return kind, rng.randbytes(rng.choice((0, 1, 2, 6, 16, 100, 1000, rng.randrange(5000))))
    for _ in range(rng.choice((1, 1, 1, 2, 3, 8, 32))):
        pos = rng.randrange(len(b) + 1)
        if kind == "bitflip" and b:
            p = min(pos, len(b) - 1)
            b[p] ^= 1 << rng.randrange(8)
        elif kind == "replace" and b:
            p = min(pos, len(b) - 1)
            b[p] = rng.choice((0, 0xFF, 0x7F, 0x80, 0x22, 0x5C, rng.randrange(256)))
        elif kind == "insert":
            b[pos:pos] = rng.randbytes(rng.randrange(1, 16))
        elif kind == "delete":
            del b[pos : pos + rng.randrange(1, 64)]
        elif kind == "duplicate":
            n = rng.randrange(1, 128)
            b[pos:pos] = b[pos : pos + n] * rng.choice((1, 2, 100))
        elif kind == "token":
            t = rng.choice(TOKENS)
            if rng.random() < 0.5:
                b[pos:pos] = t
            else:
                b[pos : pos + len(t)] = t
        elif kind == "splice":
            src = rng.randrange(len(b) + 1)
            n = rng.randrange(1, 256)
            b[pos:pos] = b[src : src + n]
    return kind, bytes(b)


# -- JSON document mutations --------------------------------------------------------------------

Path = tuple[Any, ...]


def get(doc: Any, path: Path) -> Any:
    for k in path:
        doc = doc[k]
    return doc


def _set(doc: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    get(doc, path[:-1])[path[-1]] = value
    return doc


def _delete(doc: Any, path: Path) -> Any:
    parent = get(doc, path[:-1])
    del parent[path[-1]]
    return doc


def _string_edit(s: str, rng: random.Random) -> str:
    op = rng.randrange(10)
    if op == 0:
        return s[: rng.randrange(len(s) + 1)]
    if op == 1:
        i = rng.randrange(len(s) + 1)
        return s[:i] + interesting_string(rng)[:8] + s[i:]
    if op == 2 and s:
        i = rng.randrange(len(s))
        return s[:i] + rng.choice("0aA/+=-_.:Z \x00\n\ud800é") + s[i + 1:]
    if op == 3:
        return s.upper() if s != s.upper() else s.lower()
    if op == 4:  # longer, up to a megabyte
        return s * min(rng.choice((2, 100, 5000)), 1 + (1 << 20) // len(s)) if s else "x" * 70000
    if op == 5:
        return s + rng.choice(("\n", " ", "=", "==", "\x00", "Z", "0"))
    if op == 6:
        return rng.choice(("\n", " ", "\ufeff")) + s
    if op == 7 and len(s) % 4 == 0 and s:
        # base64: the URL-safe alphabet, or the padding dropped
        return s.replace("+", "-").replace("/", "_") if rng.random() < 0.5 else s.rstrip("=")
    if op == 8:
        return "".join(reversed(s))
    return interesting_string(rng)


def _int_edit(v: int, rng: random.Random) -> Any:
    op = rng.randrange(8)
    if op == 0:
        return v + rng.choice((1, -1))
    if op == 1:
        return -v
    if op == 2:
        return v * rng.choice((2, 1000, 2**32))
    if op == 3:
        return float(v) + rng.choice((0.0, 0.5)) if abs(v) < 2**1000 else math.inf
    if op == 4:
        return str(v)
    if op == 5:
        return bool(v)
    if op == 6:
        return Raw(rng.choice((f"{v}.0", f"{v}e0", f"0{v}", f"+{v}", f"{v}E+0", "-0", "1" + "0" * 400)))
    return interesting_int(rng)


MUTATIONS = ("delete", "replace", "retype", "edit", "add_key", "dup_key", "rename_key", "wrap", "nest",
             "grow", "swap", "dup_item", "empty")


def mutate_node(doc: Any, path: Path, rng: random.Random, donor: Any = None,
                kinds: tuple[str, ...] = MUTATIONS) -> tuple[str, Any]:
    """One mutation at ``path``; returns (kind, new document). ``doc`` is changed in place
    where it can be (pass a copy)."""
    value = get(doc, path)
    kind = rng.choice(kinds)
    if kind == "delete" and path:
        return kind, _delete(doc, path)
    if kind == "replace":
        return kind, _set(doc, path, interesting_value(rng))
    if kind == "retype":
        options: list[Any] = [None, True, 0, "", [], {}, interesting_int(rng), interesting_string(rng)]
        if isinstance(value, str):
            options += [[value], {"value": value}, len(value)]
        elif isinstance(value, list):
            options += [{str(i): x for i, x in enumerate(value)}, len(value)]
        elif isinstance(value, dict):
            options += [list(value.values()), list(value)]
        return kind, _set(doc, path, rng.choice(options))
    if kind == "edit":
        if isinstance(value, str):
            return kind, _set(doc, path, _string_edit(value, rng))
        if isinstance(value, int) and not isinstance(value, bool):
            return kind, _set(doc, path, _int_edit(value, rng))
        if isinstance(value, bool):
            return kind, _set(doc, path, not value)
        return kind, _set(doc, path, interesting_value(rng))
    if isinstance(value, dict):
        if kind == "add_key":
            name = rng.choice(("x", "extra", "", "\u0000", "__proto__", "é", "\ud800", "waived", "sequence",
                               "expires", "waivers", "characterization", "attestation", "keyid",
                               *list(value)[:3]))
            value[name + ("" if name not in value else "_")] = interesting_value(rng)
            return kind, doc
        if kind == "dup_key" and value:
            k = rng.choice(list(value))
            items = list(value.items())
            other = interesting_value(rng) if rng.random() < 0.5 else copy.deepcopy(value[k])
            at = rng.randrange(len(items) + 1)
            items.insert(at, (k, other))
            return kind, _set(doc, path, Pairs(items))
        if kind == "rename_key" and value:
            k = rng.choice(list(value))
            v = value.pop(k)
            value[_string_edit(k, rng) or "_"] = v
            return kind, doc
    if isinstance(value, list) and not isinstance(value, Pairs):
        if kind == "dup_item" and value:
            value.insert(rng.randrange(len(value) + 1), copy.deepcopy(rng.choice(value)))
            return kind, doc
        if kind == "grow":
            fill = copy.deepcopy(value[0]) if value and rng.random() < 0.7 else interesting_value(rng)
            # at most a few MB more, however large the item (or the document) already is
            n = min(rng.choice((10, 1000, 5000)), max(1, 2_000_000 // max(1, len(str(fill)))),
                    max(1, 8_000_000 // max(1, len(str(doc)))))
            value.extend(copy.deepcopy(fill) if isinstance(fill, dict | list) else fill for _ in range(n))
            return kind, doc
    if kind == "wrap":
        return kind, _set(doc, path, rng.choice(([value], {"value": value}, [value, value])))
    if kind == "nest":
        return kind, _set(doc, path, deep_nesting(rng))
    if kind == "swap" and donor is not None:
        return kind, _set(doc, path, copy.deepcopy(get(donor, random_path(donor, rng))))
    if kind == "empty":
        return kind, _set(doc, path, rng.choice(([], {}, "", 0, None)))
    return "replace", _set(doc, path, interesting_value(rng))


def random_path(doc: Any, rng: random.Random, under: Path = ()) -> Path:
    """A path at or below ``under`` by random descent: every child of a node is as
    likely as any other, so a list of hundreds of rows is one choice among its
    siblings (not hundreds), and deep nodes are reached as often as shallow ones."""
    try:
        node = get(doc, under)
    except (KeyError, IndexError, TypeError):
        node, under = doc, ()
    path = under
    while True:
        if isinstance(node, dict) and node:
            children: Any = list(node)
        elif isinstance(node, list) and node and not isinstance(node, Pairs):
            children = range(len(node))
        else:
            return path
        if len(path) > len(under) and rng.random() < (0.15 if len(path) - len(under) == 1 else 0.3):
            return path
        k = rng.choice(children)
        node, path = node[k], (*path, k)


def _copy(doc: Any) -> Any:
    """A deep copy; a JSON round trip where the document is plain JSON (many times faster)."""
    try:
        return json.loads(json.dumps(doc))
    except (TypeError, ValueError):
        return copy.deepcopy(doc)


def mutate_doc(doc: Any, rng: random.Random, *, under: Path = (), count: int | None = None,
               kinds: tuple[str, ...] = MUTATIONS) -> tuple[str, Any]:
    """A mutated deep copy of ``doc`` (1 to 4 mutations of ``kinds`` at or below ``under``)."""
    global _made
    doc = _copy(doc)
    _made = 0
    done = []
    for _ in range(count or rng.choice((1, 1, 1, 2, 2, 3, 4))):
        path = random_path(doc, rng, under)
        try:
            kind, doc = mutate_node(doc, path, rng, donor=doc, kinds=kinds)
        except (KeyError, IndexError, TypeError):
            kind = "skipped"
        done.append(kind)
    return "+".join(done), doc
