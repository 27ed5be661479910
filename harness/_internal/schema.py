"""JSON Schema validation with the semantics our schemas are written for, and one
error line for the most relevant failure.

The packaged schemas are also compiled into plain Python checks (``compiled``) that
answer valid documents quickly; jsonschema still decides, and explains, the rest."""

from __future__ import annotations

import functools
import json
import numbers
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urldefrag, urljoin

from ..errors import MalformedInput
from .files import package_dir

if TYPE_CHECKING:
    import jsonschema
    import referencing

_PATTERNS: dict[str, re.Pattern[str]] = {}


def _ecma(pattern: str) -> re.Pattern[str]:
    # JSON Schema patterns are ECMA-262 regular expressions, where "$" matches only at
    # the very end; Python's "$" also matches before a final newline, which would let
    # "<digest>\n" pass.  Our patterns use "$" only as their last character.
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        body = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
        compiled = _PATTERNS[pattern] = re.compile(body)
    return compiled


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
    if not isinstance(instance, str):
        return
    if not _ecma(pattern).search(instance):
        import jsonschema  # slow to import; loaded already, by the validator calling this

        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _schemas() -> Path:
    return package_dir("teecert") / "schemas"


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The packaged schema ``name`` (``profile`` for ``schemas/profile.schema.json``)."""
    doc: dict[str, Any] = json.loads((_schemas() / f"{name}.schema.json").read_bytes())
    return doc


def packaged() -> list[str]:
    """The names of every packaged schema (``profile``, ``run-report``, ...)."""
    return sorted(res.name.removesuffix(".schema.json") for res in _schemas().iterdir()
                  if res.name.endswith(".schema.json"))


@functools.cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """The validator of the packaged schema ``name``, built once per process.

    A packaged schema is not checked against its meta-schema here: it ships with
    teecert and cannot change between runs, and checking it cost every process half
    a second.  ``tests/cli/test_cli_startup.py`` checks every one of them
    instead; a schema from anywhere else goes through ``make_validator``, which checks.

    A valid document is answered by the schema's compiled check (``compiled``), so a
    command that only reads valid documents never builds jsonschema's validator (and
    its registry of every packaged schema); the rest is jsonschema's.
    """
    return cast("jsonschema.protocols.Validator", _Packaged(name))


class _Packaged:
    """A packaged schema's validator: ``is_valid`` and ``iter_errors`` take the compiled
    check's word for a valid document; everything else is jsonschema's validator,
    built on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.check = compiled(name)

    @functools.cached_property
    def slow(self) -> jsonschema.protocols.Validator:
        return _extended(load(self.name))

    def is_valid(self, instance: Any) -> bool:
        if self.check is not None:
            return self.check(instance)
        return bool(self.slow.is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[jsonschema.ValidationError]:
        if self.check is not None and self.check(instance):
            return iter(())
        errors: Iterator[jsonschema.ValidationError] = self.slow.iter_errors(instance)
        return errors

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.slow, attr)


@functools.cache
def _registry() -> referencing.Registry[Any]:
    # Every packaged schema under its $id, so that one may $ref another (a report
    # embeds a profile, a profile embeds an attestation policy).
    import referencing  # slow to import, and only jsonschema's validators use the registry

    reg: referencing.Registry[Any] = referencing.Registry()
    for res in _schemas().iterdir():
        if res.name.endswith(".schema.json"):
            doc = json.loads(res.read_bytes())
            reg = reg.with_resource(doc["$id"], referencing.Resource.from_contents(doc))
    return reg


def make_validator(doc: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator for ``doc`` (checked first) with ECMA-262 ``pattern`` semantics, which
    resolves references to the other packaged schemas."""
    import jsonschema  # slow to import: a document read by a command is checked without it

    jsonschema.validators.validator_for(doc).check_schema(doc)
    return _extended(doc)


@functools.cache
def _extended_class(base: Any) -> Any:
    # One class per draft: ``extend`` builds a new class each time it is called.
    import jsonschema  # slow to import: a document read by a command is checked without it

    return jsonschema.validators.extend(base, {"pattern": _ecma_pattern})


def _extended(doc: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator for ``doc``, not checked against its meta-schema."""
    import jsonschema  # slow to import: a document read by a command is checked without it

    cls = _extended_class(jsonschema.validators.validator_for(doc))
    v: jsonschema.protocols.Validator = cls(doc, registry=_registry())
    return v


def schema_error(errors: list[jsonschema.ValidationError], where: str) -> MalformedInput | None:
    """One ``MalformedInput`` line for the most relevant schema error, or None."""
    if not errors:  # what every valid document gives: no need to import jsonschema
        return None
    import jsonschema  # slow to import: only a refused document gets here

    best = jsonschema.exceptions.best_match(errors)
    if best is None:
        return None
    message = best.message if len(best.message) <= 200 else best.message[:197] + "..."
    return MalformedInput(f"{where}: {best.json_path}: {message}")


# -- compiled checks -------------------------------------------------------------------
#
# jsonschema walks a schema anew for every document, resolving each $ref through its
# registry: about a millisecond for a run report without its rows, most of what
# verifying a batch of reports cost after the signatures.  A packaged schema is
# compiled here, once, into nested Python closures that answer only whether a
# document is valid, with jsonschema's semantics for every keyword they know (and
# ``_ecma`` for patterns).  A schema using any other keyword, a nested ``$id``, an
# anchor or a reference outside the packaged schemas is not compiled, and jsonschema
# answers alone.  An invalid document always goes to jsonschema for its error
# (``schema_error``), so messages do not change.  tests/report/test_schema_compiled.py
# checks that both answer alike on mutated reports, profiles and governance documents.
# Written here because the schema compilers on PyPI (fastjsonschema) stop at draft 7,
# and the packaged schemas are draft 2020-12 (prefixItems, $defs).

Check = Callable[[Any], bool]

#: Keywords that assert nothing (annotations and containers of subschemas reached by $ref).
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default",
                          "deprecated", "readOnly", "writeOnly"})
_OBJECT_KEYS = frozenset({"properties", "required", "additionalProperties", "propertyNames", "minProperties",
                          "maxProperties"})
_ARRAY_KEYS = frozenset({"prefixItems", "items", "minItems", "maxItems", "uniqueItems"})
_STRING_KEYS = frozenset({"minLength", "maxLength", "pattern"})
_NUMBER_KEYS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_OTHER_KEYS = frozenset({"type", "enum", "const", "$ref", "anyOf", "oneOf", "allOf", "not"})
_KNOWN = _ANNOTATIONS | _OBJECT_KEYS | _ARRAY_KEYS | _STRING_KEYS | _NUMBER_KEYS | _OTHER_KEYS
_ANONYMOUS = "https://teecert.invalid/anonymous.schema.json"


class _Unsupported(Exception):
    """The schema uses something the compiler does not implement."""


def _is_integer(x: Any) -> bool:
    # jsonschema's draft 6+ "integer": an int that is not a bool, or an integral float.
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())


def _is_number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, numbers.Number)


_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "integer": _is_integer,
    "number": _is_number,
}


def _true(x: Any) -> bool:
    return True


def _false(x: Any) -> bool:
    return False


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _true
    if len(checks) == 1:
        return checks[0]
    todo = tuple(checks)

    def check(x: Any) -> bool:
        for c in todo:
            if not c(x):
                return False
        return True
    return check


def _equal_to(value: Any) -> Check:
    """``jsonschema``'s ``equal(x, value)``: for a string, plain string equality."""
    if isinstance(value, str):
        return lambda x: isinstance(x, str) and x == value
    from jsonschema import _utils  # slow to import; its equality is the one const and enum apply

    equal = _utils.equal
    return lambda x: bool(equal(x, value))


def _unique(x: list[Any]) -> bool:
    """``jsonschema``'s ``uniq``; for strings alone, that no two are equal."""
    if all(isinstance(v, str) for v in x):
        return len(set(x)) == len(x)
    from jsonschema import _utils  # slow to import; its uniqueness is the one uniqueItems applies

    return bool(_utils.uniq(x))


class _Compiler:
    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.refs: dict[tuple[str, str], Check] = {}

    def ref(self, base: str, ref: str) -> Check:
        uri, fragment = urldefrag(urljoin(base, ref))
        if uri not in self.documents or (fragment and not fragment.startswith("/")):
            raise _Unsupported(ref)
        key = (uri, fragment)
        if key not in self.refs:
            cell: list[Check] = []
            self.refs[key] = lambda x: cell[0](x)  # a reference back into itself
            try:
                target: Any = self.documents[uri]
                for part in fragment.split("/")[1:]:
                    part = unquote(part).replace("~1", "/").replace("~0", "~")
                    target = target[int(part) if isinstance(target, list) else part]
                cell.append(self.compile(target, uri))
            except (KeyError, IndexError, ValueError, TypeError):
                del self.refs[key]
                raise _Unsupported(ref) from None
            except BaseException:
                del self.refs[key]  # no half-compiled reference is left for the next schema
                raise
            self.refs[key] = cell[0]
        return self.refs[key]

    def compile(self, schema: Any, base: str) -> Check:
        if schema is True:
            return _true
        if schema is False:
            return _false
        if not isinstance(schema, dict) or not schema.keys() <= _KNOWN:
            raise _Unsupported(str(sorted(set(schema) - _KNOWN)) if isinstance(schema, dict) else schema)
        if "$id" in schema and urljoin(base, schema["$id"]) != base:
            raise _Unsupported("$id below a document's root")
        checks: list[Check] = []
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not all(isinstance(n, str) and n in _TYPES for n in names):
                raise _Unsupported(schema["type"])
            preds = tuple(_TYPES[n] for n in names)
            checks.append(preds[0] if len(preds) == 1 else (lambda x: any(p(x) for p in preds)))
        if "enum" in schema:
            options = [_equal_to(v) for v in schema["enum"]]
            strings = frozenset(v for v in schema["enum"] if isinstance(v, str))
            if len(strings) == len(options):
                checks.append(lambda x: isinstance(x, str) and x in strings)
            else:
                checks.append(lambda x: any(o(x) for o in options))
        if "const" in schema:
            checks.append(_equal_to(schema["const"]))
        if schema.keys() & _STRING_KEYS:
            checks.append(self._string(schema))
        if schema.keys() & _NUMBER_KEYS:
            checks.append(self._number(schema))
        if schema.keys() & _OBJECT_KEYS:
            checks.append(self._object(schema, base))
        if schema.keys() & _ARRAY_KEYS:
            checks.append(self._array(schema, base))
        if "$ref" in schema:
            checks.append(self.ref(base, schema["$ref"]))
        if "allOf" in schema:
            checks.append(_all([self.compile(s, base) for s in schema["allOf"]]))
        if "anyOf" in schema:
            any_of = tuple(self.compile(s, base) for s in schema["anyOf"])
            checks.append(lambda x: any(c(x) for c in any_of))
        if "oneOf" in schema:
            one_of = tuple(self.compile(s, base) for s in schema["oneOf"])
            checks.append(lambda x: sum(1 for c in one_of if c(x)) == 1)
        if "not" in schema:
            negated = self.compile(schema["not"], base)
            checks.append(lambda x: not negated(x))
        return _all(checks)

    def _string(self, schema: dict[str, Any]) -> Check:
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        pattern = schema.get("pattern")  # compiled when first needed: most never are in a process
        if pattern is not None and not isinstance(pattern, str):
            raise _Unsupported(pattern)

        def check(x: Any) -> bool:
            if not isinstance(x, str):
                return True
            n = len(x)
            return (n >= low and (high is None or n <= high)
                    and (pattern is None or _ecma(pattern).search(x) is not None))
        return check

    def _number(self, schema: dict[str, Any]) -> Check:
        low, high = schema.get("minimum"), schema.get("maximum")
        above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")

        def check(x: Any) -> bool:
            if not _is_number(x):
                return True
            return ((low is None or x >= low) and (high is None or x <= high)
                    and (above is None or x > above) and (below is None or x < below))
        return check

    def _object(self, schema: dict[str, Any], base: str) -> Check:
        required = tuple(schema.get("required", ()))
        props = {k: self.compile(s, base) for k, s in schema.get("properties", {}).items()}
        items = tuple(props.items())
        known = frozenset(props)
        extra_schema = schema.get("additionalProperties", True)
        no_extra = extra_schema is False
        extra = None if isinstance(extra_schema, bool) else self.compile(extra_schema, base)
        names = self.compile(schema["propertyNames"], base) if "propertyNames" in schema else None
        low, high = schema.get("minProperties", 0), schema.get("maxProperties")
        missing = object()

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            if len(x) < low or (high is not None and len(x) > high):
                return False
            for k in required:
                if k not in x:
                    return False
            for k, c in items:
                v = x.get(k, missing)
                if v is not missing and not c(v):
                    return False
            if no_extra and not x.keys() <= known:
                return False
            if extra is not None:
                for k, v in x.items():
                    if k not in known and not extra(v):
                        return False
            if names is not None:
                for k in x:
                    if not names(k):
                        return False
            return True
        return check

    def _array(self, schema: dict[str, Any], base: str) -> Check:
        prefix = tuple(self.compile(s, base) for s in schema.get("prefixItems", ()))
        rest_schema = schema.get("items", True)
        no_rest = rest_schema is False
        rest = None if isinstance(rest_schema, bool) else self.compile(rest_schema, base)
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        unique = schema.get("uniqueItems", False) is True
        skip = len(prefix)

        def check(x: Any) -> bool:
            if not isinstance(x, list):
                return True
            n = len(x)
            if n < low or (high is not None and n > high):
                return False
            for c, v in zip(prefix, x, strict=False):
                if not c(v):
                    return False
            if no_rest and n > skip:
                return False
            if rest is not None:
                for v in (x[skip:] if skip else x):
                    if not rest(v):
                        return False
            return not unique or _unique(x)
        return check


@functools.cache
def _documents() -> dict[str, Any]:
    return {load(name)["$id"]: load(name) for name in packaged()}


@functools.cache
def _packaged_compiler() -> _Compiler:
    # One for every packaged schema, so that one referred to by another (a profile in
    # a report) is compiled once.
    return _Compiler(_documents())


def compile_check(doc: dict[str, Any]) -> Check | None:
    """A compiled check of the schema ``doc`` (its references may name the packaged
    schemas): true exactly when jsonschema finds ``doc`` valid (for this module's
    validators), or None when ``doc`` uses what the compiler does not implement."""
    base = doc.get("$id", _ANONYMOUS) if isinstance(doc, dict) else _ANONYMOUS
    try:
        return _Compiler({**_documents(), base: doc}).ref(base, "")
    except (_Unsupported, RecursionError):
        return None


@functools.cache
def compiled(name: str) -> Check | None:
    """The compiled check of the packaged schema ``name``, built once per process (None
    if it cannot be compiled: then only ``validator(name)`` answers)."""
    try:
        return _packaged_compiler().ref(load(name)["$id"], "")
    except (_Unsupported, RecursionError):
        return None


def is_valid(name: str, doc: Any) -> bool:
    """Whether ``doc`` fits the packaged schema ``name``: the compiled check, else jsonschema."""
    return bool(validator(name).is_valid(doc))
