"""Canonical JSON: RFC 8785 (JCS) out, strict JSON in.

Everything teecert signs or hashes is serialized by ``dumps`` (RFC 8785, through the
``rfc8785`` package), so one document has exactly one byte form and its digest is
well defined.  Signed documents carry no floats (their text form is a portability
trap across languages) and no integers beyond 2**53 - 1 (larger ones travel as
strings), so ``dumps`` refuses both.

``loads`` is the one parser for every file teecert reads: it refuses what a lenient
parser would silently accept and a second parser might read differently (duplicate
keys, NaN and Infinity, floats, huge integers, lone surrogates, invalid UTF-8), and
nesting deeper than ``MAX_DEPTH``, and its errors name the file and the JSON path of
the offending value.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from itertools import chain, compress
from typing import Any

import rfc8785

from ..errors import MalformedInput


def _load_jcs() -> Any | None:
    """``teecert._jcs``, the one-pass canonical form check (native/accel/jcs.c), or None
    in a tree where it is not built.  By name, as ``accel.load`` does: a module below
    the package root must not import the root."""
    try:
        return importlib.import_module("teecert._jcs")
    except ImportError:
        return None


_jcs = _load_jcs()

#: Largest integer a JSON number carries exactly in every common implementation.
MAX_SAFE_INTEGER = 2**53 - 1

#: Deepest nesting of arrays and objects in a document teecert reads or writes (its
#: own documents nest about a dozen levels).  The JSON decoder itself would take
#: close to a thousand, and what reads the parsed document (copies, views, schema
#: checks) recurses once or more per level: a document that parses must not exhaust
#: the stack later, far from the file it came from.
MAX_DEPTH = 64

# A \uD800-\uDFFF escape: the only way a lone surrogate gets into a parsed string.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _path(parts: list[str | int]) -> str:
    out = "$"
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p):
            out += f".{p}"
        else:
            out += f"[{json.dumps(p)}]"
    return out


def _check_dumpable(obj: Any) -> bool:
    """Refuse, with a JSON path, what RFC 8785 output must not contain for teecert.

    Returns whether every member name is ASCII (see ``dumps``).
    """
    ascii_keys = True
    stack: list[tuple[Any, list[str | int]]] = [(obj, [])]
    while stack:
        value, parts = stack.pop()
        if value is None or isinstance(value, bool | str):
            continue
        if len(parts) >= MAX_DEPTH and isinstance(value, dict | list | tuple):
            raise MalformedInput(f"value at {_path(parts)} nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, int):
            if abs(value) > MAX_SAFE_INTEGER:
                raise MalformedInput(
                    f"integer at {_path(parts)} is beyond 2**53 - 1; large integers go in strings"
                )
            continue
        if isinstance(value, float):
            raise MalformedInput(f"float at {_path(parts)}: signed teecert documents carry no floats")
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    raise MalformedInput(f"non-string key {k!r} at {_path(parts)}")
                if ascii_keys and not k.isascii():
                    ascii_keys = False
                stack.append((v, [*parts, k]))
            continue
        if isinstance(value, list | tuple):
            stack.extend((v, [*parts, i]) for i, v in enumerate(value))
            continue
        raise MalformedInput(f"value of type {type(value).__name__} at {_path(parts)} is not JSON")
    return ascii_keys


def dumps(obj: Any) -> bytes:
    """The RFC 8785 canonical form of ``obj``; floats and unsafe integers are refused.

    For documents without floats, RFC 8785 and Python's own ``json.dumps`` with
    sorted keys, no whitespace and no ASCII escaping agree byte for byte, except in
    how member names are ordered: RFC 8785 compares UTF-16 code units, Python code
    points, and the two differ only for names outside ASCII.  So ASCII-named
    documents (all of teecert's) take the C-accelerated encoder, about ten times
    faster, which ``verify`` needs for thousands of reports; anything else goes
    through the ``rfc8785`` package.  tests/report/test_canonical.py checks the two paths
    agree on generated documents.
    """
    if _check_dumpable(obj):
        try:
            text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 refuse it with its own message
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as e:
        at = _find_surrogate(obj)
        if at is not None:  # the one refusal left that the checks above cannot name
            raise MalformedInput(f"lone UTF-16 surrogate in a string at {_path(at)}") from None
        raise MalformedInput(f"cannot canonicalize: {e}") from None


def sha256_hex(obj: Any) -> str:
    """SHA-256 (hex) of the canonical form of ``obj``."""
    return hashlib.sha256(dumps(obj)).hexdigest()


class _Bad:
    """Stands in for a refused value during parsing, so the error can name its path.

    ``json`` hooks do not know where in the document they are; the marker is found
    afterwards by a walk that does, which costs nothing for well-formed input.
    """

    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _find_bad(obj: Any) -> tuple[str, list[str | int]] | None:
    stack: list[tuple[Any, list[str | int]]] = [(obj, [])]
    while stack:
        value, parts = stack.pop()
        if isinstance(value, _Bad):
            return value.problem, parts
        if isinstance(value, dict):
            stack.extend((v, [*parts, k]) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((v, [*parts, i]) for i, v in reversed(list(enumerate(value))))
    return None


_CONTAINERS = (dict, list)
_CONTAINER_TYPES = frozenset(_CONTAINERS)


def _too_deep(obj: Any) -> bool:
    """Whether arrays and objects nest more than ``MAX_DEPTH`` levels (level by
    level, so a deep document costs no more than ``MAX_DEPTH`` levels of it).

    Each level's values are gathered and sorted out by builtins (``compress`` over
    their types) rather than one comparison a value in Python: a report's level of
    result rows holds thousands of values and only a few containers."""
    level = [obj] if type(obj) in _CONTAINERS else []
    depth = 0
    is_container = _CONTAINER_TYPES.__contains__
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return True
        values = list(chain.from_iterable([v.values() if type(v) is dict else v for v in level]))
        level = list(compress(values, map(is_container, map(type, values))))
    return False


def _deep_path(obj: Any) -> list[str | int]:
    """The path of a container at depth ``MAX_DEPTH`` (the document is known to have one)."""
    stack: list[tuple[Any, list[str | int]]] = [(obj, [])]
    while stack:
        value, parts = stack.pop()
        if len(parts) >= MAX_DEPTH:
            return parts
        if isinstance(value, dict):
            stack.extend((v, [*parts, k]) for k, v in value.items() if type(v) in _CONTAINERS)
        elif isinstance(value, list):
            stack.extend((v, [*parts, i]) for i, v in enumerate(value) if type(v) in _CONTAINERS)
    return []


def _find_surrogate(obj: Any) -> list[str | int] | None:
    stack: list[tuple[Any, list[str | int]]] = [(obj, [])]
    while stack:
        value, parts = stack.pop()
        if isinstance(value, str):
            if _has_surrogate(value):
                return parts
        elif isinstance(value, dict):
            for k, v in value.items():
                if _has_surrogate(k):
                    return parts
                stack.append((v, [*parts, k]))
        elif isinstance(value, list):
            stack.extend((v, [*parts, i]) for i, v in enumerate(value))
    return None


def _has_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# Every byte that can come right before a JSON number token maps to ":", every digit
# to "0": a number of 16 or more digits (the only ones that can exceed 2**53 - 1)
# then shows as ":" and sixteen "0"s, with or without a "-" between.  A digit run in a
# string after a space, comma, colon or bracket shows the same way; that only costs
# the document the slower path, never a wrong answer.  (A scan by hand: the ``json``
# module exposes no tokenizer, and a regular expression over the text is ten times
# slower than this translate.)
_NUMBER_CONTEXT = bytes.maketrans(b"0123456789[:, \t\n\r", b"0000000000:::::::")
_LONG_NUMBER = b":" + b"0" * 16
_LONG_NEGATIVE = b":-" + b"0" * 16


def _may_hold_long_int(raw: bytes) -> bool:
    """Whether the JSON text ``raw`` may hold an integer of 16 or more digits."""
    mapped = raw.translate(_NUMBER_CONTEXT)
    return (_LONG_NUMBER in mapped or _LONG_NEGATIVE in mapped  # the start of the text counts as a ":"
            or mapped.startswith((_LONG_NUMBER[1:], _LONG_NEGATIVE[1:])))


def loads(data: bytes | str, where: str, *, few_numbers: bool = False) -> Any:
    """Parse ``data`` strictly; errors are ``MalformedInput`` naming ``where`` and the path.

    An integer token of at most 15 digits is below 2**53 - 1 whatever its digits, so
    when a byte scan (``_may_hold_long_int``) finds no longer one, the per-integer
    range check is left out, about a third of the parse of a report; what is refused,
    and how, does not change (tests/report/test_canonical_fast.py checks both paths
    agree).  ``few_numbers`` says the document holds few of them (a DSSE envelope: a
    few strings, one of them hundreds of kilobytes of base64), so the scan would cost
    more than the checks it saves; either way the answer is the same.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedInput(f"{where}: not UTF-8 (invalid byte at offset {e.start})") from None
    else:
        text = data
        raw = b"" if few_numbers else text.encode("utf-8", "surrogatepass")
    return _parse(text, where, check_ints=few_numbers or _may_hold_long_int(raw))


def parse_canonical(raw: bytes) -> tuple[bool, Any]:
    """``(True, document)`` when ``raw`` is the RFC 8785 form of a document that
    ``loads`` takes, ``(False, None)`` otherwise (then ``loads`` and ``dumps`` say why).

    With ``teecert._jcs`` (native/accel/jcs.c, built by ``pip install``) one pass over
    the bytes decides, and a plain parse builds the document; without it,
    ``parse_canonical_py`` decides by serializing the parse again.  Both accept the same
    texts (tests/report/test_canonical_fast.py): the C check is the grammar of exactly
    what the serializer writes.  Only all-ASCII ``raw`` is tried.
    """
    if _jcs is None:
        return parse_canonical_py(raw)
    if not _jcs.is_canonical(raw):
        return False, None
    # The text is canonical: no whitespace, duplicates, floats, constants, unsafe
    # integers or deep nesting, one spelling of every string; the plain parse reads it
    # as every strict parser would.  Should the two ever disagree, the text is
    # refused, and the strict parse says why.
    try:
        return True, json.loads(raw.decode("ascii"))
    except (ValueError, RecursionError):  # pragma: no cover - the check's grammar is JSON's
        return False, None


def parse_canonical_py(raw: bytes) -> tuple[bool, Any]:
    """``parse_canonical`` in Python, the definition the C check is held to.

    One parse without ``loads``'s per-object hook, then one serialization compared
    with ``raw``, where ``loads`` and a canonical check would parse with the hook and
    walk the document again.  Equally strict: ``raw`` is exactly Python's serializer's
    output for the parse, so it has no duplicate member names (a dict has none), no
    whitespace and one spelling of every string and number; floats, NaN and unsafe
    integers are flagged while parsing, lone surrogates cannot be encoded, and depth
    is checked as ``loads`` checks it.  Only all-ASCII ``raw`` is tried: then every
    member name is ASCII and Python's key order is RFC 8785's (see ``dumps``).
    """
    if not raw.isascii():
        return False, None
    bad = False

    def refuse(s: str) -> None:
        nonlocal bad
        bad = True

    def parse_int(s: str) -> int | None:
        nonlocal bad
        if len(s.lstrip("-")) > 16 or abs(int(s)) > MAX_SAFE_INTEGER:
            bad = True
            return None
        return int(s)

    try:
        text = raw.decode("ascii")
        obj = json.loads(text, parse_float=refuse, parse_constant=refuse,
                         parse_int=parse_int if _may_hold_long_int(raw) else None)
        if bad or _too_deep(obj):
            return False, None
        # Compared as text: a character the parse took from an escape (a lone
        # surrogate, anything beyond ASCII) comes back unescaped, so never equal.
        if json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False) != text:
            return False, None
    except (ValueError, RecursionError):
        return False, None
    return True, obj


def _parse(text: str, where: str, *, check_ints: bool = True) -> Any:
    """``loads`` of decoded text; ``check_ints=False`` only when no integer token in
    ``text`` has more than 15 digits."""
    if not text.strip():
        raise MalformedInput(f"{where}: empty file, expected JSON")
    if text.startswith("\ufeff"):
        raise MalformedInput(f"{where}: starts with a byte order mark; JSON must not")
    bad = False

    def pairs(items: list[tuple[str, Any]]) -> Any:
        nonlocal bad
        out: dict[str, Any] = dict(items)
        if len(out) != len(items):
            seen: set[str] = set()
            for k, _ in items:
                if k in seen:
                    bad = True
                    return _Bad(f"duplicate key {k!r} in")
                seen.add(k)
        return out

    def parse_float(s: str) -> Any:
        nonlocal bad
        bad = True
        return _Bad(f"float {s} at")

    def parse_int(s: str) -> Any:
        nonlocal bad
        # Check the length first: int() of thousands of digits is slow or refused.
        if len(s.lstrip("-")) > 16 or abs(int(s)) > MAX_SAFE_INTEGER:
            bad = True
            return _Bad(f"integer {s[:24]}{'...' if len(s) > 24 else ''} beyond 2**53 - 1 at")
        return int(s)

    def parse_constant(s: str) -> Any:
        nonlocal bad
        bad = True
        return _Bad(f"{s} at")

    try:
        obj = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_float=parse_float,
            parse_int=parse_int if check_ints else None,
            parse_constant=parse_constant,
        )
    except json.JSONDecodeError as e:
        raise MalformedInput(f"{where}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise MalformedInput(f"{where}: JSON nested too deeply (more than {MAX_DEPTH} levels)") from None
    if _too_deep(obj):
        raise MalformedInput(f"{where}: JSON nested too deeply (more than {MAX_DEPTH} levels) at "
                             f"{_path(_deep_path(obj))}")
    if bad:
        found = _find_bad(obj)
        if found is not None:
            problem, parts = found
            # A duplicate key is reported with the object that holds it; others at
            # the value's own position.
            raise MalformedInput(f"{where}: {problem} {_path(parts)}")
    if "\\" in text and _SURROGATE_ESCAPE.search(text):  # a search for one character is ~50 times faster
        parts_s = _find_surrogate(obj)
        if parts_s is not None:
            raise MalformedInput(f"{where}: lone UTF-16 surrogate in a string at {_path(parts_s)}")
    return obj
