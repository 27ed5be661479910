"""The heartbeat log: one signed record per cycle, each chained to the one before.

The log is a file of lines, one record each: the RFC 8785 JSON of an object with

* ``format`` ``teecert-watch-log/1``, ``seq`` (0, 1, 2, ... from the log's first
  line), ``prev`` (SHA-256, hex, of the previous line's bytes without its newline;
  64 zeros on the first line), ``signer`` (``keyid`` and ``public_key``, as a report
  names its signer), the cycle's body (``event``, ``time``, ``outcome``, ``drift``,
  ...; :meth:`~.model.CycleResult.as_record`),
* and ``sig``: the Ed25519 signature, by the run key, of
  ``"teecert-watch-log/1\\0" || RFC 8785 JSON of the record without sig``.

So a record cannot be edited (its signature), removed or inserted (the next record's
``seq`` and ``prev``) without it showing at that line; only the newest records can be
cut off, which the metrics (the last record's number) and the cycle times show.

**Writing.**  Each record is appended with a single ``write`` of the whole line on
a descriptor opened with ``O_APPEND``, then ``fsync``, before the next record is
written.  A rewrite-and-rename of the whole file per record would cost a copy of
the log every cycle, growing for ever; an append costs the record.  A process
killed at any point leaves either the whole line or nothing (one small write is
not split), and the one thing a machine crash can leave is the tail of the last
write, without its newline: on start the watch finds such a torn last line (the
file does not end with a newline), cuts it off with a message, and says so in its
next record.  An exclusive lock (``flock``) held for the life of the watch keeps a
second watch from interleaving its chain with this one's.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..._internal import canonical, dsse
from ...errors import MalformedInput, NotAuthentic, UsageError
from ...report import keys

FORMAT = "teecert-watch-log/1"
GENESIS = "0" * 64
SIG_CONTEXT = FORMAT.encode() + b"\0"
#: The longest record written or read (the model caps what a record carries well
#: below this): a line longer than this is not a record.
MAX_RECORD = 256 << 10


def _signed_bytes(record: Mapping[str, Any]) -> bytes:
    return SIG_CONTEXT + canonical.dumps({k: v for k, v in record.items() if k != "sig"})


def line_hash(line: bytes) -> str:
    """The ``prev`` of the record after ``line`` (its bytes without the newline)."""
    return hashlib.sha256(line).hexdigest()


class HeartbeatLog:
    """The log at ``path``, open for appending records signed by ``key``.

    Opening it locks it, cuts off a torn last line (``torn_bytes`` says how many
    bytes were removed, ``recovered`` how), and continues the chain from the last
    record, which must be signed by ``key``."""

    def __init__(self, path: str | os.PathLike[str], key: Ed25519PrivateKey) -> None:
        self.path = Path(path)
        self._key = key
        pub = key.public_key()
        self.signer = {"keyid": keys.keyid(pub), "public_key": keys.public_raw_b64(pub)}
        self.torn_bytes = 0
        self.recovered: str | None = None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as e:
            raise UsageError(f"{self.path}: cannot open the heartbeat log ({e.strerror})") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UsageError(f"{self.path}: not a regular file")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UsageError(f"{self.path}: in use by another teecert watch (locked)") from None
            self._fd = fd
            self.seq, self.prev, self.size = self._resume()
        except BaseException:
            os.close(fd)
            raise

    def _resume(self) -> tuple[int, str, int]:
        size = os.fstat(self._fd).st_size
        if size == 0:
            return 0, GENESIS, 0
        start = max(0, size - 2 * MAX_RECORD)
        tail = os.pread(self._fd, size - start, start)
        if not tail.endswith(b"\n"):
            cut = tail.rfind(b"\n")
            if cut < 0 and start > 0:
                raise MalformedInput(f"{self.path}: its last {len(tail)} bytes hold no complete record")
            keep = start + cut + 1
            self.torn_bytes = size - keep
            os.ftruncate(self._fd, keep)
            os.fsync(self._fd)
            self.recovered = (f"{self.path}: removed a torn last record of {self.torn_bytes} bytes "
                              "(a write cut short by a crash); the chain continues from the record before it")
            tail, size = tail[: cut + 1], keep
            if size == 0:
                return 0, GENESIS, 0
        body = tail[:-1]
        line = body[body.rfind(b"\n") + 1:]
        where = f"{self.path}: last record"
        try:
            record = canonical.loads(line, where)
            if not isinstance(record, dict) or record.get("format") != FORMAT:
                raise MalformedInput(f"{where}: not a {FORMAT} record")
            seq = record.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
                raise MalformedInput(f"{where}: field 'seq' is not a record number")
            signer = record.get("signer")
            keyid = signer.get("keyid") if isinstance(signer, dict) else None
        except MalformedInput as exc:
            raise MalformedInput(f"{exc}; check it with `teecert watch verify {self.path}` "
                                 "and start a new log") from None
        if keyid != self.signer["keyid"]:
            raise UsageError(f"{self.path}: its records are signed by key {str(keyid)[:16]}, this watch signs "
                             f"with {self.signer['keyid'][:16]}: give another --log or --key")
        try:
            self._key.public_key().verify(dsse.b64decode(str(record.get("sig", "")), f"{where}: sig"),
                                          _signed_bytes(record))
        except (InvalidSignature, MalformedInput):
            raise NotAuthentic(f"{where}: the signature does not verify (edited or forged); check it with "
                               f"`teecert watch verify {self.path}`") from None
        return seq + 1, line_hash(line), size

    def append(self, body: Mapping[str, Any]) -> int:
        """Sign ``body`` into the next record and append it; returns its ``seq``."""
        record = {**body, "format": FORMAT, "seq": self.seq, "prev": self.prev, "signer": self.signer}
        sig = self._key.sign(_signed_bytes(record))
        line = canonical.dumps({**record, "sig": base64.b64encode(sig).decode("ascii")})
        if len(line) > MAX_RECORD:
            raise UsageError(f"{self.path}: a record of {len(line)} bytes exceeds {MAX_RECORD}")
        data = line + b"\n"
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(28, f"short write ({written} of {len(data)} bytes)")
            os.fsync(self._fd)
        except OSError as e:
            # Never leave part of a record: give the file back as it was.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self.size)
            raise UsageError(f"{self.path}: cannot append a record ({e.strerror or e})") from None
        seq = self.seq
        self.seq, self.prev, self.size = seq + 1, line_hash(line), self.size + len(data)
        return seq

    def close(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)  # the lock goes with it

    def __enter__(self) -> HeartbeatLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- verifying ------------------------------------------------------------------------------


@dataclass
class LogSummary:
    path: Path
    records: int
    keyid: str | None
    pinned: bool
    outcomes: dict[str, int] = field(default_factory=dict)
    first_time: str | None = None
    last_time: str | None = None
    last_outcome: str | None = None


def _field(record: dict[str, Any], name: str, typ: type, where: str) -> Any:
    value = record.get(name)
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise MalformedInput(f"{where}: field {name!r} is missing or of the wrong type")
    return value


def verify_log(path: str | os.PathLike[str],
               trusted: Mapping[str, Ed25519PublicKey] | None) -> LogSummary:
    """Check every line of the log: canonical form, signature (by a key of ``trusted``;
    without it, by the key the first record names, the same on every line), ``seq``
    and ``prev``.  ``NotAuthentic`` or ``MalformedInput`` names the first line that
    fails; line numbers count from 1."""
    p = Path(path)
    try:
        f = open(p, "rb")  # closed by the with below, which reads it line by line
    except OSError as e:
        raise UsageError(f"{p}: cannot read the heartbeat log ({e.strerror})") from None
    summary = LogSummary(p, 0, None, trusted is not None)
    prev = GENESIS
    first_key: Ed25519PublicKey | None = None
    with f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise UsageError(f"{p}: not a regular file")
        number = 0
        while True:
            raw = f.readline(MAX_RECORD + 2)
            if not raw:
                break
            number += 1
            where = f"{p} line {number}"
            if not raw.endswith(b"\n"):
                if len(raw) > MAX_RECORD:
                    raise MalformedInput(f"{where}: longer than {MAX_RECORD} bytes: not a record")
                raise NotAuthentic(f"{where}: torn record: the log ends in the middle of a record "
                                   "(a write cut short); `teecert watch` removes it when it next starts")
            line = raw[:-1]
            record = canonical.loads(line, where)
            if not isinstance(record, dict):
                raise MalformedInput(f"{where}: not a JSON object")
            if canonical.dumps(record) != line:
                raise MalformedInput(f"{where}: not in RFC 8785 canonical form")
            if record.get("format") != FORMAT:
                raise MalformedInput(f"{where}: field 'format' is not {FORMAT!r}")
            signer = _field(record, "signer", dict, where)
            keyid = _field(signer, "keyid", str, f"{where}: signer")
            sig = dsse.b64decode(_field(record, "sig", str, where), f"{where}: sig")
            if trusted is not None:
                key = trusted.get(keyid)
                if key is None:
                    raise NotAuthentic(f"{where}: signed by key {keyid[:16]}, which --trust does not name")
            else:
                key = keys.public_from_raw_b64(_field(signer, "public_key", str, f"{where}: signer"),
                                               f"{where}: signer.public_key")
                if keys.keyid(key) != keyid:
                    raise NotAuthentic(f"{where}: signer.keyid is not the key id of signer.public_key")
                if first_key is None:
                    first_key = key
                elif keys.keyid(first_key) != keyid:
                    raise NotAuthentic(f"{where}: signed by key {keyid[:16]}, line 1 by "
                                       f"{keys.keyid(first_key)[:16]}")
            try:
                key.verify(sig, _signed_bytes(record))
            except InvalidSignature:
                raise NotAuthentic(f"{where}: the signature does not verify (the record was edited, "
                                   "or forged)") from None
            seq = _field(record, "seq", int, where)
            if seq != number - 1:
                raise NotAuthentic(f"{where}: record number {seq}, expected {number - 1} (a record "
                                   "before it was removed, or one inserted)")
            if _field(record, "prev", str, where) != prev:
                what = "does not start a chain" if number == 1 else f"does not match line {number - 1}"
                raise NotAuthentic(f"{where}: 'prev' {what} (a record before it was edited, removed "
                                   "or inserted)")
            prev = line_hash(line)
            summary.records = number
            summary.keyid = keyid
            outcome = str(record.get("outcome"))
            summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
            summary.first_time = summary.first_time or str(record.get("time"))
            summary.last_time, summary.last_outcome = str(record.get("time")), outcome
    return summary
