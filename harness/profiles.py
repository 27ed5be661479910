"""Certification profiles: the policy a run is judged by.

A profile is a small JSON document (``docs/profile-format.md``, checked against
``schemas/profile.schema.json``) naming the suites that must pass, whether ops a probe
declares unsupported fail the run, which vector set is pinned, and how long a report
stays valid.  Its identity is ``(id, version, digest)``, the digest being SHA-256 of
its RFC 8785 form: a report records all three so it cannot be re-read under another
policy.  The built-in profiles ship as package data and are loaded by name.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from . import canonical
from .atomic import write_atomic
from .errors import MalformedInput, UsageError

SCHEMA_ID = "teecert-profile/1"
SCHEMA_FILE = "profile.schema.json"
#: Profiles shipped with teecert, loadable by name.
BUILTIN = ("development", "strict")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Profile:
    """A schema-checked profile; ``data`` is the document exactly as loaded."""

    data: dict[str, Any]
    digest: str
    source: str = field(default="", compare=False)
    builtin: bool = field(default=False, compare=False)

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def version(self) -> int:
        return int(self.data["version"])

    @property
    def tier(self) -> str:
        return str(self.data["tier"])

    @property
    def suites(self) -> dict[str, str]:
        return dict(self.data["suites"])

    def required_suites(self) -> list[str]:
        return sorted(s for s, how in self.data["suites"].items() if how == "required")

    def advisory_suites(self) -> list[str]:
        return sorted(s for s, how in self.data["suites"].items() if how == "advisory")

    @property
    def unsupported_ops_fail(self) -> bool:
        return bool(self.data["unsupported_ops"] == "fail")

    @property
    def validity_days(self) -> int:
        return int(self.data["report_validity_days"])

    @property
    def stream_scale(self) -> int:
        return int(self.data["stream_scale"])

    @property
    def vector_set_name(self) -> str:
        return str(self.data["vector_set"]["name"])

    @property
    def vector_digest(self) -> str:
        return str(self.data["vector_set"]["digest"])

    def identity(self) -> dict[str, Any]:
        """``{"id", "version", "digest"}`` as recorded in a report."""
        return {"id": self.id, "version": self.version, "digest": self.digest}


@functools.cache
def schema() -> dict[str, Any]:
    """The profile JSON Schema (package data)."""
    text = resources.files("teecert").joinpath("schemas", SCHEMA_FILE).read_bytes()
    doc: dict[str, Any] = json.loads(text)
    return doc


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


def make_validator(doc: dict[str, Any], registry: Any = None) -> jsonschema.protocols.Validator:
    """A validator for ``doc`` (checked first) with ECMA-262 ``pattern`` semantics."""
    base = jsonschema.validators.validator_for(doc)
    base.check_schema(doc)
    cls = jsonschema.validators.extend(base, {"pattern": _ecma_pattern})
    v: jsonschema.protocols.Validator = cls(doc) if registry is None else cls(doc, registry=registry)
    return v


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    return make_validator(schema())


def schema_error(errors: list[jsonschema.ValidationError], where: str) -> MalformedInput | None:
    """One ``MalformedInput`` line for the most relevant schema error, or None."""
    best = jsonschema.exceptions.best_match(errors)
    if best is None:
        return None
    message = best.message if len(best.message) <= 200 else best.message[:197] + "..."
    return MalformedInput(f"{where}: {best.json_path}: {message}")


def from_document(doc: Any, where: str, *, builtin: bool = False) -> Profile:
    """Check a parsed profile document against the schema and wrap it."""
    if not isinstance(doc, dict):
        raise MalformedInput(f"{where}: a profile is a JSON object")
    err = schema_error(list(_validator().iter_errors(doc)), where)
    if err is not None:
        raise err
    pol = (doc.get("attestation") or {}).get("policy")
    if pol is not None:  # checked now, so a bad policy is refused with the profile's name
        from .attestation.policy import from_document as policy_from_document

        policy_from_document(pol, f"{where}: attestation.policy")
    return Profile(data=doc, digest=canonical.sha256_hex(doc), source=where, builtin=builtin)


def builtin_path(name: str) -> Path:
    """Where the built-in profile ``name`` lives (inside the installed package)."""
    return Path(str(resources.files("teecert").joinpath("profiles", f"{name}.json")))


@functools.cache
def _builtin(name: str) -> Profile:
    data = resources.files("teecert").joinpath("profiles", f"{name}.json").read_bytes()
    return from_document(canonical.loads(data, f"{name}.json"), f"profile {name}", builtin=True)


def builtin(name: str) -> Profile:
    """A built-in profile by name (a private copy: callers may not alter the shared one)."""
    if name not in BUILTIN:
        raise UsageError(f"unknown built-in profile {name!r}; built-ins are {', '.join(BUILTIN)}")
    p = _builtin(name)
    return Profile(data=copy.deepcopy(p.data), digest=p.digest, source=p.source, builtin=True)


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by name (``development``, ``strict``) or a profile file."""
    if isinstance(name_or_path, str) and name_or_path in BUILTIN:
        return builtin(name_or_path)
    path = Path(name_or_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"unknown profile {str(name_or_path)!r}: not a built-in ({', '.join(BUILTIN)}) and no such file"
        ) from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read the profile ({e.strerror})") from None
    return from_document(canonical.loads(data, str(path)), str(path))


def update_pinned_vector_digest(profile_dir: Path, digest: str) -> list[Path]:
    """Pin ``digest`` as ``vector_set.digest`` in the built-in profile files in ``profile_dir``.

    Used by ``teecert vectors generate`` after it recomputes the vector set.  Each
    file is rewritten atomically, keeping its key order; the result must still pass
    the schema.  Returns the files written (unchanged files are not rewritten).
    """
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise UsageError(f"vector set digest {digest!r} is not 64 lowercase hex digits")
    profile_dir = Path(profile_dir)
    if not profile_dir.is_dir():
        raise UsageError(f"{profile_dir}: not a folder of profiles")
    updates: list[tuple[Path, bytes]] = []
    # Check every file before writing any, so a bad file leaves all of them as they were.
    for name in BUILTIN:
        path = profile_dir / f"{name}.json"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise UsageError(f"{path}: missing; {profile_dir} should hold the built-in profiles") from None
        doc = canonical.loads(raw, str(path))
        from_document(doc, str(path))
        if doc["vector_set"]["digest"] == digest:
            continue
        doc["vector_set"]["digest"] = digest
        from_document(doc, str(path))
        updates.append((path, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")))
    for path, data in updates:
        write_atomic(path, data, 0o644)
    _builtin.cache_clear()
    return [p for p, _ in updates]
