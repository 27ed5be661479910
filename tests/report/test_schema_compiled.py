"""The compiled schema checks (``_internal/schema.compiled``) answer exactly as
jsonschema does: the same documents, mutated at random, through both."""

from __future__ import annotations

import copy
import json
import random
from importlib import resources
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert._internal import schema

import reportfactory as rf

_JUNK: list[Any] = [None, True, False, 0, 1, -1, 1.0, 2.5, 2**53, -(2**53), "", "x", "a\n", "0" * 64,
                    "0" * 64 + "\n", "A" * 3000, "2026-11-21T05:00:00Z", [], ["x"], [1, 1], ["a", "a"], {},
                    {"x": 1}, [[]], [{}], {"id": "x"}]


def _paths(doc: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, (*at, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, (*at, i)))
    return out


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _junk(rnd: random.Random) -> Any:
    """A copy of one of _JUNK: a shared list put into a document would be mutated
    with it, and grow or contain itself over many mutations."""
    return copy.deepcopy(rnd.choice(_JUNK))


def _variants(value: Any, rnd: random.Random) -> Any:
    """A value near ``value`` that a schema may or may not take."""
    if isinstance(value, bool):
        return rnd.choice([not value, int(value), None])
    if isinstance(value, int):
        return rnd.choice([value + 1, value - 1, -value - 1, float(value), 2**53, True, str(value)])
    if isinstance(value, str):
        return rnd.choice([value + "\n", value.upper(), value[:-1], value + "x", "", value * 40, " " + value])
    return _junk(rnd)


def mutate(doc: Any, rnd: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(rnd.randint(1, 3)):
        path = rnd.choice(_paths(doc))
        target = _get(doc, path)
        op = rnd.randrange(6)
        if not path:
            if isinstance(target, dict) and target and op < 3:
                del target[rnd.choice(list(target))]
            continue
        parent, last = _get(doc, path[:-1]), path[-1]
        if op == 0:
            parent[last] = _variants(target, rnd)
        elif op == 1:
            parent[last] = _junk(rnd)
        elif op == 2:
            del parent[last]
        elif op == 3 and isinstance(target, dict):
            target[rnd.choice(["extra", *target])] = _junk(rnd)
        elif op == 4 and isinstance(target, list):
            if target and rnd.random() < 0.5:
                target.append(copy.deepcopy(rnd.choice(target)))
            else:
                target.append(_junk(rnd))
        elif op == 5 and isinstance(target, dict) and target:
            k = rnd.choice(list(target))
            target[k] = _variants(target[k], rnd)
    return doc


def _statement() -> dict[str, Any]:
    st = rf.statement_for(Ed25519PrivateKey.generate())
    rows = st["predicate"]["results"]
    failing = dict(rows[-1], outcome="failed", failures=1, root="ab" * 32, expected_root="cd" * 32,
                   divergence={"index": 3, "inputs": ["3ff0", "00"], "expected": "01", "got": "02", "ulp": "1"})
    st["predicate"]["results"] = [*rows[:5], failing]
    st["predicate"]["verdict"]["reasons"] = [{"code": "TEST_FAILED", "suite": failing["suite"],
                                              "test": failing["id"], "message": "m", "op": None}]
    return st


def _profile(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(resources.files("teecert").joinpath("profiles", f"{name}.json").read_bytes())
    return doc


SEEDS: list[tuple[str, Any]] = [
    ("run-report", _statement),
    ("profile", lambda: _profile("development")),
    ("profile", lambda: _profile("strict")),
    ("attestation-policy", lambda: _profile("strict")["attestation"]["policy"]),
    ("revocations", lambda: {"schema": "teecert-revocations/1", "sequence": 1, "issued": "2026-11-01T00:00:00Z",
                             "expires": "2027-01-01T00:00:00Z",
                             "profiles": [{"id": "acme", "min_version": 2, "from": "2026-11-21T12:00:00Z"}]}),
]


@pytest.mark.parametrize("name", schema.packaged())
def test_every_packaged_schema_compiles(name: str) -> None:
    assert schema.compiled(name) is not None


@pytest.mark.parametrize(("name", "seed"), SEEDS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SEEDS)])
def test_compiled_check_agrees_with_jsonschema(name: str, seed: Any) -> None:
    check = schema.compiled(name)
    assert check is not None
    slow = schema.make_validator(schema.load(name))  # jsonschema alone
    doc = seed()
    assert check(doc) and slow.is_valid(doc)  # the seed itself is valid
    rnd = random.Random(f"{name}-{json.dumps(doc, sort_keys=True)[:64]}")
    valid = 0
    for i in range(1500):
        m = mutate(doc, rnd)
        expected = slow.is_valid(m)
        assert check(m) == expected, f"mutation {i}: {json.dumps(m)[:2000]}"
        valid += expected
    assert 0 < valid < 1500  # both kinds were tried


def test_keyword_semantics_match_jsonschema() -> None:
    # Edge cases of the keywords the compiler implements, each against jsonschema.
    cases: list[tuple[dict[str, Any], list[Any]]] = [
        ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None]),
        ({"type": "number", "minimum": 0, "maximum": 3}, [0, 3, 3.5, -1, True, False, "2"]),
        ({"exclusiveMinimum": 0}, [0, 1, 0.5, False, "x"]),
        ({"type": ["string", "null"], "minLength": 2, "maxLength": 3}, [None, "ab", "abcd", "a", 5]),
        ({"pattern": "^[0-9a-f]{4}$"}, ["abcd", "abcd\n", "ABCD", 5, "abcde"]),
        ({"enum": ["a", 1, None]}, ["a", 1, True, 1.0, None, "b", [1]]),
        ({"const": 0}, [0, False, 0.0, "0"]),
        ({"const": ["a", 1]}, [["a", 1], ["a", True], ["a", 1.0]]),
        ({"uniqueItems": True}, [[1, True], [1, 1.0], ["a", "a"], ["a", "b"], [{"a": 1}, {"a": 1}], [[1], [True]]]),
        ({"prefixItems": [{"type": "string"}], "items": False}, [["a"], ["a", "b"], [], [1], "x"]),
        ({"prefixItems": [{"type": "string"}], "items": {"type": "integer"}, "minItems": 1, "maxItems": 3},
         [["a", 1, 2], ["a", 1, 2, 3], [], ["a", "b"]]),
        ({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}},
          "additionalProperties": {"type": "string"}, "propertyNames": {"maxLength": 2}, "maxProperties": 2},
         [{"a": 1}, {"a": 1, "b": "x"}, {"a": 1, "b": 2}, {"a": 1, "bcd": "x"}, {"b": "x"}, {"a": 1, "b": "x", "c": "y"},
          [], "a"]),
        ({"oneOf": [{"type": "integer"}, {"minimum": 2}]}, [1, 3, 2.5, "x"]),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}], "not": {"const": 3}}, [1, None, 3, "x"]),
    ]
    for body, instances in cases:
        doc = {"$schema": "https://json-schema.org/draft/2020-12/schema", **body}
        check = schema.compile_check(doc)
        assert check is not None, body
        slow = schema.make_validator(doc)
        for x in instances:
            assert check(x) == slow.is_valid(x), (body, x)


def test_unknown_keywords_are_left_to_jsonschema() -> None:
    assert schema.compile_check({"type": "string", "format": "date-time"}) is None
    assert schema.compile_check({"patternProperties": {"^a": {"type": "string"}}}) is None
    assert schema.compile_check({"$ref": "https://example.com/elsewhere.json"}) is None
    assert schema.compile_check({"properties": {"a": {"$id": "https://example.com/a", "type": "string"}}}) is None


def test_the_clock_thresholds_check_agrees_with_jsonschema() -> None:
    # the clocks judge checks a profile's thresholds with the compiled check and words
    # an error with jsonschema: both must draw the line in the same place
    import jsonschema

    from teecert.certify.judge import clocks
    from teecert.profile import load_profile

    check = clocks._thresholds_check()
    assert check is not None
    v = jsonschema.Draft202012Validator(clocks.PROFILE_SCHEMA)
    base = load_profile("development").data["clocks"]
    rnd = random.Random(11)
    seen = {True: 0, False: 0}
    for _ in range(1500):
        doc = mutate(copy.deepcopy(base), rnd)
        want = v.is_valid(doc)
        assert check(doc) == want, doc
        seen[want] += 1
    assert seen[True] > 50 and seen[False] > 50
