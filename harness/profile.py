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
profiles alike without judging signatures; ``governance.profiles.load_governed`` is what enforces them.
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

from ._internal import canonical, dsse
from ._internal.atomic import write_atomic
from ._internal.files import package_dir, read_input
from ._internal.schema import load as load_schema
from ._internal.schema import schema_error
from ._internal.schema import validator as schema_validator
from ._internal.timefmt import format_time, parse_time
from .errors import MalformedInput, NotAuthentic, UsageError

SCHEMA_ID = "teecert-profile/1"
#: Profiles shipped with teecert, loadable by name.
BUILTIN = ("development", "strict", "bootstrap")
#: ``payloadType`` of a profile signed by governance (a DSSE envelope).
PROFILE_PAYLOAD_TYPE = "application/vnd.teecert.profile+json"
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
    #: Governance key ids whose signatures verified (``governance.profiles.load_governed``); empty otherwise.
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

    @property
    def attestation_required(self) -> bool:
        """Whether a run must carry authentic evidence that meets the policy."""
        return bool((self.data.get("attestation") or {}).get("required"))

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
        return parse_time(self.data["activates"], self.source) if "activates" in self.data else None

    @property
    def expires(self) -> _dt.datetime | None:
        return parse_time(self.data["expires"], self.source) if "expires" in self.data else None

    @property
    def waivers(self) -> list[dict[str, Any]]:
        return [dict(w) for w in self.data.get("waivers") or ()]

    def check_in_force(self, at: _dt.datetime, where: str | None = None) -> None:
        """``NotAuthentic`` unless ``at`` lies within ``activates`` .. ``expires``."""
        name = f"{where or self.source}: profile {self.id} v{self.version}"
        start, end = self.activates, self.expires
        if start is not None and at < start:
            raise NotAuthentic(f"{name} is not active before {self.data['activates']} "
                               f"(time {format_time(at)})")
        if end is not None and at > end:
            raise NotAuthentic(f"{name} expired at {self.data['expires']} (time {format_time(at)})")


def schema() -> dict[str, Any]:
    """The profile JSON Schema (package data)."""
    return load_schema("profile")


def _validator() -> jsonschema.protocols.Validator:
    return schema_validator("profile")


def from_document(doc: Any, where: str, *, builtin: bool = False) -> Profile:
    """Check a parsed profile document against the schema and wrap it."""
    if not isinstance(doc, dict):
        raise MalformedInput(f"{where}: a profile is a JSON object")
    err = schema_error(list(_validator().iter_errors(doc)), where)
    if err is not None:
        raise err
    # The schema fixes the shape of times; these are the facts it cannot state.
    start = parse_time(doc["activates"], f"{where}: $.activates") if "activates" in doc else None
    end = parse_time(doc["expires"], f"{where}: $.expires") if "expires" in doc else None
    if start is not None and end is not None and end <= start:
        raise MalformedInput(f"{where}: $.expires ({doc['expires']}) is not after $.activates ({doc['activates']})")
    formats = ((doc.get("attestation") or {}).get("policy") or {}).get("formats") or ()
    if "sim" in formats and doc.get("tier") != "development":
        raise MalformedInput(f"{where}: $.attestation.policy.formats: 'sim' (simulated evidence, which anyone "
                             f"can make) is accepted only by development profiles, not tier {doc.get('tier')!r}")
    for i, w in enumerate(doc.get("waivers") or ()):
        parse_time(w["expires"], f"{where}: $.waivers[{i}].expires")
    try:
        digest = canonical.sha256_hex(doc)
    except MalformedInput as e:  # a document built in Python, not parsed: a float the schema took as an integer
        raise MalformedInput(f"{where}: {e}") from None
    return Profile(data=doc, digest=digest, source=where, builtin=builtin)


def builtin_path(name: str) -> Path:
    """Where the built-in profile ``name`` lives (inside the installed package)."""
    return package_dir("teecert") / "profiles" / f"{name}.json"


@functools.cache
def _builtin(name: str) -> Profile:
    data = builtin_path(name).read_bytes()
    return from_document(canonical.loads(data, f"{name}.json"), f"profile {name}", builtin=True)


def builtin(name: str) -> Profile:
    """A built-in profile by name (a private copy: callers may not alter the shared one)."""
    if name not in BUILTIN:
        raise UsageError(f"unknown built-in profile {name!r}; built-ins are {', '.join(BUILTIN)}")
    p = _builtin(name)
    return Profile(data=copy.deepcopy(p.data), digest=p.digest, source=p.source, builtin=True)


def read_profile_bytes(name_or_path: str | Path) -> bytes:
    path = Path(name_or_path)
    if not path.exists() and not path.is_symlink():
        raise UsageError(
            f"unknown profile {str(name_or_path)!r}: not a built-in ({', '.join(BUILTIN)}) and no such file")
    return read_input(path, "profile")


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by name (``development``, ``bootstrap``, ``strict``) or a profile file.

    A signed profile file (an envelope) gives the profile it carries, with its
    signatures *not* checked: that is ``governance.profiles.load_governed``'s job.  Verifiers pin profiles
    by digest, which the signatures do not change.
    """
    if isinstance(name_or_path, str) and name_or_path in BUILTIN:
        return builtin(name_or_path)
    where = str(name_or_path)
    doc = canonical.loads(read_profile_bytes(name_or_path), where)
    if dsse.is_envelope(doc):
        ptype, payload, _ = dsse.parse_envelope(doc, where)
        if ptype != PROFILE_PAYLOAD_TYPE:
            raise MalformedInput(f"{where}: payloadType is {ptype!r}, expected {PROFILE_PAYLOAD_TYPE!r}")
        doc = canonical.loads(payload, f"{where}: payload")
    return from_document(doc, where)


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
