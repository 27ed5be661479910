"""What this machine has seen of governance: the newest revocation list, per governance.

A revocation list that was once accepted must not be replaced by an older one that
an attacker (or a stale mirror) hands over later: the older list withdraws less.
So the verifier remembers, per governance, the highest ``sequence`` it accepted,
that list's digest, and the governance keys revoked so far, in one small JSON file
in the user's state folder::

    $XDG_STATE_HOME/teecert/revocations.json      (default ~/.local/state/teecert/)

A governance is known by the SHA-256 of the RFC 8785 form of the sorted list of its
key ids (``trust.Governance.keyset_id``): the same keys are the same authority, so
renaming a member or changing the threshold keeps the history, while another key
set starts its own.  The file is replaced atomically and read-modify-written under
an exclusive lock (``<file>.lock``), so two verifiers running at once cannot record
an older list over a newer one.  A file that does not parse is never taken as empty
(that would re-open the rollback): it is a one-line error naming it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._internal import canonical
from .._internal.atomic import write_atomic
from .._internal.files import read_input
from .._internal.timefmt import parse_time
from ..errors import MalformedInput, TeecertError, UsageError

if sys.platform != "win32":
    import fcntl

STATE_SCHEMA = "teecert-state/1"
STATE_FILE = "revocations.json"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_SEQUENCE = 2**53 - 1


@dataclass(frozen=True)
class Seen:
    """The newest revocation list accepted for one governance."""

    sequence: int
    digest: str  # SHA-256 of the list's canonical payload: co-signing does not change it
    issued: str
    expires: str
    source: str = ""
    #: governance key id -> the earliest ``from`` any accepted list gave it.  Kept
    #: even when a newer list leaves the key out: a governance key, once revoked,
    #: stays revoked (rotate to a new governance file instead).
    revoked_keys: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "digest": self.digest, "issued": self.issued,
                "expires": self.expires, "source": self.source,
                "revoked_keys": dict(sorted(self.revoked_keys.items()))}


def state_dir() -> Path:
    """``$XDG_STATE_HOME/teecert``, or ``~/.local/state/teecert``."""
    xdg = os.environ.get("XDG_STATE_HOME", "")
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative value is ignored
        return Path(xdg) / "teecert"
    try:
        home = Path.home()
    except (RuntimeError, KeyError):
        raise UsageError("no home folder to keep teecert's state in (newest revocation list seen): "
                         "set XDG_STATE_HOME") from None
    return home / ".local" / "state" / "teecert"


def state_file() -> Path:
    """The file that records the newest revocation list seen per governance."""
    return state_dir() / STATE_FILE


def _corrupt(path: Path, detail: str) -> MalformedInput:
    return MalformedInput(f"{path}: teecert state file is corrupt: {detail}; restore it from a backup, or "
                          "delete it to trust the next revocation list seen as the newest")


def _entry(path: Path, gid: str, raw: Any) -> Seen:
    at = f"$.governance.{gid[:16]}"
    if not isinstance(raw, dict):
        raise _corrupt(path, f"{at} is not an object")
    unknown = sorted(set(raw) - {"sequence", "digest", "issued", "expires", "source", "revoked_keys"})
    if unknown:
        raise _corrupt(path, f"{at} has unknown field {unknown[0]!r}")
    seq = raw.get("sequence")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= _MAX_SEQUENCE:
        raise _corrupt(path, f"{at}.sequence is not an integer ≥ 1")
    digest = raw.get("digest")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise _corrupt(path, f"{at}.digest is not a SHA-256 in hex")
    times: dict[str, str] = {}
    for name in ("issued", "expires"):
        value = raw.get(name)
        if not isinstance(value, str):
            raise _corrupt(path, f"{at}.{name} is not an RFC 3339 UTC time")
        try:
            parse_time(value, "")
        except TeecertError:
            raise _corrupt(path, f"{at}.{name} is not an RFC 3339 UTC time") from None
        times[name] = value
    source = raw.get("source", "")
    if not isinstance(source, str):
        raise _corrupt(path, f"{at}.source is not a string")
    revoked = raw.get("revoked_keys", {})
    if not isinstance(revoked, dict):
        raise _corrupt(path, f"{at}.revoked_keys is not an object")
    for kid, frm in revoked.items():
        if not _HEX64.fullmatch(kid):
            raise _corrupt(path, f"{at}.revoked_keys has a key id that is not 64 hex digits")
        try:
            parse_time(frm, "")
        except TeecertError:
            raise _corrupt(path, f"{at}.revoked_keys.{kid[:16]} is not an RFC 3339 UTC time") from None
    return Seen(sequence=seq, digest=digest, issued=times["issued"], expires=times["expires"], source=source,
                revoked_keys=dict(revoked))


def read(path: Path | None = None) -> dict[str, Seen]:
    """Every governance's newest list, by key set id; empty when the file does not exist.

    Anything else that is not a well-formed state file is ``MalformedInput`` naming it.
    """
    path = path or state_file()
    if not os.path.lexists(path):
        return {}
    try:
        data = read_input(path, "teecert state")
        doc = canonical.loads(data, str(path))
    except MalformedInput as e:
        raise _corrupt(path, str(e).removeprefix(f"{path}: ")) from None
    if not isinstance(doc, dict) or doc.get("schema") != STATE_SCHEMA:
        raise _corrupt(path, f"not a {STATE_SCHEMA} document")
    if set(doc) != {"schema", "governance"} or not isinstance(doc["governance"], dict):
        raise _corrupt(path, "expected exactly 'schema' and a 'governance' object")
    out: dict[str, Seen] = {}
    for gid, raw in doc["governance"].items():
        if not _HEX64.fullmatch(gid):
            raise _corrupt(path, f"$.governance has a key {gid[:20]!r} that is not a key set id")
        out[gid] = _entry(path, gid, raw)
    return out


def seen(keyset_id: str, path: Path | None = None) -> Seen | None:
    """The newest list accepted for the governance ``keyset_id``, if any."""
    return read(path).get(keyset_id)


def write(entries: Mapping[str, Seen], path: Path | None = None) -> Path:
    """Replace the state file atomically (mode 0600: it is nobody else's business)."""
    path = path or state_file()
    _make_dir(path.parent)
    doc = {"schema": STATE_SCHEMA, "governance": {gid: entries[gid].to_json() for gid in sorted(entries)}}
    # indented: it is small, and a user should be able to read what was recorded
    return write_atomic(path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8"), 0o600)


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"{directory}: cannot create teecert's state folder ({e.strerror}); "
                         "set XDG_STATE_HOME to a folder you can write") from None


@contextlib.contextmanager
def locked(path: Path | None = None) -> Iterator[Path]:
    """Hold an exclusive lock on the state file while reading, checking and recording,
    so that concurrent verifiers cannot interleave and record an older list last."""
    path = path or state_file()
    _make_dir(path.parent)
    if sys.platform == "win32":  # no flock there; the atomic replace still keeps the file whole
        yield path
        return
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise UsageError(f"{lock}: cannot open teecert's state lock ({e.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        os.close(fd)
