"""Certification profiles: the policy a run is judged by.

A profile is a small JSON document (``docs/profile-format.md``, checked against
``schemas/profile.schema.json``) naming the suites that must pass, whether ops a probe
declares unsupported fail the run, which vector set is pinned, and how long a report
stays valid.  Its identity is ``(id, version, digest)``, the digest being SHA-256 of
its RFC 8785 form: a report records all three so it cannot be re-read under another
policy.  The built-in profiles ship as package data and are loaded by name.

A profile is also a governance document: signed by governance keys (a DSSE envelope,
payloadType ``application/vnd.teecert.profile+json``, around its canonical JSON),
in force from ``activates`` to ``expires``, and superseded by newer versions through
a revocation list (``governance.py``).  ``load_profile`` reads signed and unsigned
profiles alike without judging signatures; ``load_governed`` is what enforces them.
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from ._internal import canonical
from ._internal.atomic import write_atomic
from .errors import MalformedInput, NotAuthentic, UsageError

SCHEMA_ID = "teecert-profile/1"
SCHEMA_FILE = "profile.schema.json"
#: Profiles shipped with teecert, loadable by name.
BUILTIN = ("development", "strict", "bootstrap")
_HEX64 = re.compile(r"[0-9a-f]{64}")
#: ``probe_timeout`` of a profile that does not set it.
DEFAULT_PROBE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Profile:
    """A schema-checked profile; ``data`` is the document exactly as loaded."""

    data: dict[str, Any]
    digest: str
    source: str = field(default="", compare=False)
    builtin: bool = field(default=False, compare=False)
    #: Governance key ids whose signatures verified (``load_governed``); empty otherwise.
    signers: tuple[str, ...] = field(default=(), compare=False)

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def version(self) -> int:
        return int(self.data["version"])

    @property
    def probe_timeout(self) -> float:
        """Seconds allowed for each call to a probe host (one batch)."""
        return float(self.data.get("probe_timeout", DEFAULT_PROBE_TIMEOUT))

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

    @property
    def certification_tier(self) -> bool:
        """Whether the tier admits to consensus (``bootstrap``, ``strict``): such a
        profile must be signed by governance wherever governance is in force."""
        return self.tier in ("bootstrap", "strict")

    @property
    def activates(self) -> _dt.datetime | None:
        return _time(self.data["activates"], self.source) if "activates" in self.data else None

    @property
    def expires(self) -> _dt.datetime | None:
        return _time(self.data["expires"], self.source) if "expires" in self.data else None

    @property
    def waivers(self) -> list[dict[str, Any]]:
        return [dict(w) for w in self.data.get("waivers") or ()]

    def check_in_force(self, at: _dt.datetime, where: str | None = None) -> None:
        """``NotAuthentic`` unless ``at`` lies within ``activates`` .. ``expires``."""
        name = f"{where or self.source}: profile {self.id} v{self.version}"
        start, end = self.activates, self.expires
        if start is not None and at < start:
            raise NotAuthentic(f"{name} is not active before {self.data['activates']} "
                               f"(time {_fmt(at)})")
        if end is not None and at > end:
            raise NotAuthentic(f"{name} expired at {self.data['expires']} (time {_fmt(at)})")


def _time(text: str, where: str) -> _dt.datetime:
    try:
        return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.UTC)
    except (TypeError, ValueError):
        raise MalformedInput(f"{where}: {text!r} is not an RFC 3339 UTC time like 2026-11-21T05:00:00Z") from None


def _fmt(t: _dt.datetime) -> str:
    return (t if t.tzinfo else t.replace(tzinfo=_dt.UTC)).astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    # The schema fixes the shape of times; these are the facts it cannot state.
    start = _time(doc["activates"], f"{where}: $.activates") if "activates" in doc else None
    end = _time(doc["expires"], f"{where}: $.expires") if "expires" in doc else None
    if start is not None and end is not None and end <= start:
        raise MalformedInput(f"{where}: $.expires ({doc['expires']}) is not after $.activates ({doc['activates']})")
    for i, w in enumerate(doc.get("waivers") or ()):
        _time(w["expires"], f"{where}: $.waivers[{i}].expires")
    pol = (doc.get("attestation") or {}).get("policy")
    if pol is not None:  # checked now, so a bad policy is refused with the profile's name
        from .attestation.validate.policy import from_document as policy_from_document

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


def _read(name_or_path: str | Path) -> bytes:
    path = Path(name_or_path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"unknown profile {str(name_or_path)!r}: not a built-in ({', '.join(BUILTIN)}) and no such file"
        ) from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read the profile ({e.strerror})") from None


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by name (``development``, ``bootstrap``, ``strict``) or a profile file.

    A signed profile file (an envelope) gives the profile it carries, with its
    signatures *not* checked: that is ``load_governed``'s job.  Verifiers pin profiles
    by digest, which the signatures do not change.
    """
    if isinstance(name_or_path, str) and name_or_path in BUILTIN:
        return builtin(name_or_path)
    where = str(name_or_path)
    doc = canonical.loads(_read(name_or_path), where)
    from .governance import trust as governance
    from .report import dsse

    if governance.is_envelope(doc):
        ptype, payload, _ = dsse.parse_envelope(doc, where)
        if ptype != governance.PROFILE_PAYLOAD_TYPE:
            raise MalformedInput(f"{where}: payloadType is {ptype!r}, expected {governance.PROFILE_PAYLOAD_TYPE!r}")
        doc = canonical.loads(payload, f"{where}: payload")
    return from_document(doc, where)


# -- governance: signed profiles ---------------------------------------------------------


def sign_profile(source: bytes, where: str, private_keys: Any) -> dict[str, Any]:
    """Sign a profile document (schema-checked first), or add signatures to a signed one.

    Returns the envelope: payloadType ``application/vnd.teecert.profile+json`` around the
    profile's RFC 8785 form.  A key that already signed is not added twice.
    """
    from .governance import trust as governance

    doc = canonical.loads(source, where)
    if governance.is_envelope(doc):
        env, payload = governance.cosign(doc, where, governance.PROFILE_PAYLOAD_TYPE, private_keys)
        inner = canonical.loads(payload, f"{where}: payload")
        if canonical.dumps(inner) != payload:
            raise MalformedInput(f"{where}: payload is not in RFC 8785 canonical form")
        from_document(inner, f"{where}: payload")
        return env
    from_document(doc, where)
    return governance.sign_document(governance.PROFILE_PAYLOAD_TYPE, doc, private_keys)


def verify_signed_profile(data: bytes, where: str, governance: Any, at: _dt.datetime | None = None,
                          *, revocations: Any = None) -> Profile:
    """A signed profile verified under ``governance`` (a file or ``governance.Governance``).

    Refused (``NotAuthentic``) when fewer than the threshold of distinct governance
    keys signed it, when ``at`` (default: now) is outside its ``activates`` ..
    ``expires``, or when ``revocations`` (a file or ``governance.Revocations``)
    supersede its version at ``at``.
    """
    from .governance import trust as gv

    gov = gv.load_governance(governance)
    doc, signers = gv.verify_signed(data, where, gov, gv.PROFILE_PAYLOAD_TYPE, "profile")
    prof = from_document(doc, where)
    prof = Profile(data=prof.data, digest=prof.digest, source=where, signers=tuple(signers))
    when = gv.resolve_at(at)
    prof.check_in_force(when, where)
    if revocations is not None:
        gv.load_revocations(revocations, gov).check_profile(prof.id, prof.version, when, where)
    return prof


def load_governed(name_or_path: str | Path, governance: Any = None, at: _dt.datetime | None = None,
                  *, revocations: Any = None) -> Profile:
    """The profile a certification run may use, with governance enforced.

    Without ``governance`` this is ``load_profile`` (signatures are not judged).  With
    it (a governance file or ``governance.Governance``): a signed profile must carry
    the threshold of governance signatures, be in force at ``at`` (default: now) and
    not be superseded by ``revocations``; an unsigned profile (a built-in or a plain
    file) is accepted only in the ``development`` tier.  Refusals are ``NotAuthentic``
    (exit 2), one line naming the file.
    """
    if governance is None:
        return load_profile(name_or_path)
    from .governance import trust as gv

    is_name = isinstance(name_or_path, str) and name_or_path in BUILTIN
    data = b"" if is_name else _read(name_or_path)
    where = f"profile {name_or_path}" if is_name else str(name_or_path)
    if not is_name and gv.is_envelope(canonical.loads(data, where)):
        return verify_signed_profile(data, where, governance, at, revocations=revocations)
    prof = load_profile(name_or_path)
    if prof.certification_tier:
        raise NotAuthentic(f"{where}: unsigned {prof.tier} profile {prof.id} v{prof.version}; the {prof.tier} "
                           f"tier needs a profile signed by governance (teecert profile sign)")
    gov = gv.load_governance(governance)
    when = gv.resolve_at(at)
    prof.check_in_force(when, where)
    if revocations is not None:
        gv.load_revocations(revocations, gov).check_profile(prof.id, prof.version, when, where)
    return prof


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
