"""JSON Schema validation with the semantics our schemas are written for, and one
error line for the most relevant failure."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema
import referencing

from ..errors import MalformedInput

_PATTERNS: dict[str, re.Pattern[str]] = {}


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
    # JSON Schema patterns are ECMA-262 regular expressions, where "$" matches only at
    # the very end; Python's "$" also matches before a final newline, which would let
    # "<digest>\n" pass.  Our patterns use "$" only as their last character.
    if not isinstance(instance, str):
        return
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        body = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
        compiled = _PATTERNS[pattern] = re.compile(body)
    if not compiled.search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The packaged schema ``name`` (``profile`` for ``schemas/profile.schema.json``)."""
    doc: dict[str, Any] = json.loads(resources.files("teecert").joinpath("schemas", f"{name}.schema.json").read_bytes())
    return doc


def packaged() -> list[str]:
    """The names of every packaged schema (``profile``, ``run-report``, ...)."""
    return sorted(res.name.removesuffix(".schema.json") for res in resources.files("teecert").joinpath("schemas").iterdir()
                  if res.name.endswith(".schema.json"))


@functools.cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """The validator of the packaged schema ``name``, built once per process.

    A packaged schema is not checked against its meta-schema here: it ships with
    teecert and cannot change between runs, and checking it cost every process half
    a second.  ``tests/cli/test_cli_startup.py`` checks every one of them
    instead; a schema from anywhere else goes through ``make_validator``, which checks.
    """
    return _extended(load(name))


@functools.cache
def _registry() -> referencing.Registry[Any]:
    # Every packaged schema under its $id, so that one may $ref another (a report
    # embeds a profile, a profile embeds an attestation policy).
    reg: referencing.Registry[Any] = referencing.Registry()
    for res in resources.files("teecert").joinpath("schemas").iterdir():
        if res.name.endswith(".schema.json"):
            doc = json.loads(res.read_bytes())
            reg = reg.with_resource(doc["$id"], referencing.Resource.from_contents(doc))
    return reg


def make_validator(doc: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator for ``doc`` (checked first) with ECMA-262 ``pattern`` semantics, which
    resolves references to the other packaged schemas."""
    jsonschema.validators.validator_for(doc).check_schema(doc)
    return _extended(doc)


@functools.cache
def _extended_class(base: Any) -> Any:
    # One class per draft: ``extend`` builds a new class each time it is called.
    return jsonschema.validators.extend(base, {"pattern": _ecma_pattern})


def _extended(doc: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator for ``doc``, not checked against its meta-schema."""
    cls = _extended_class(jsonschema.validators.validator_for(doc))
    v: jsonschema.protocols.Validator = cls(doc, registry=_registry())
    return v


def schema_error(errors: list[jsonschema.ValidationError], where: str) -> MalformedInput | None:
    """One ``MalformedInput`` line for the most relevant schema error, or None."""
    best = jsonschema.exceptions.best_match(errors)
    if best is None:
        return None
    message = best.message if len(best.message) <= 200 else best.message[:197] + "..."
    return MalformedInput(f"{where}: {best.json_path}: {message}")
