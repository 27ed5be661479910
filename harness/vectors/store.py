"""Golden vector sets: the format on disk, the manifest and the one loader.

A vector set is a folder with ``manifest.json`` (per-file SHA-256 and the set
digest), one explicit file per op under ``explicit/`` and ``streams.json`` (stream
specifications with their Merkle leaves and roots).  The format is specified in
``docs/vectors.md``.  Every file is checked against the manifest when it is opened;
a mismatch names the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import rfc8785

from .. import ops
from .._internal import canonical
from .._internal.cachedir import cache_dir, put
from .._internal.files import package_dir
from ..errors import MalformedInput
from . import merkle

FORMAT = "teecert-vectors/1"
SET_NAME = "teecert-core"
SET_VERSION = "3"
GENERATOR = "teecert-mix-v1"
CHUNK_SIZE = 65536
STREAM_CHUNKS = 16
STREAM_SEED = 1
MANIFEST = "manifest.json"
STREAMS = "streams.json"
#: Streams of the libm functions, from their own generator (``libm_streams``):
#: two chunks per binary64 function, one per binary32 function.
LIBM_STREAMS = "libm-streams.json"
LIBM_GENERATOR = "teecert-libm-v1"
LIBM_CHUNKS = {"f64": 2, "f32": 1}
#: Streams of the data ops (integers, conversions, data model, hashes), from
#: ``data_streams`` (teecert-data-v1), in smaller chunks.
DATA_STREAMS = "data-streams.json"
DATA_GENERATOR = "teecert-data-v1"


class ExplicitVector(NamedTuple):
    """One golden vector of an explicit file (a tuple: a run builds some 75,000 of
    them, and a tuple is built in a fifth of the time of a frozen dataclass)."""

    group: str
    tc_id: int
    inputs: tuple[int, ...]
    expected: int
    flags: tuple[str, ...]
    comment: str


@dataclass(frozen=True)
class Stream:
    op: ops.Op
    seed: int
    count: int
    chunk_size: int
    root: bytes
    leaves: tuple[bytes, ...]

    @property
    def chunks(self) -> int:
        return len(self.leaves)

    def chunk_span(self, index: int) -> tuple[int, int]:
        """(first vector, number of vectors) of chunk ``index``."""
        start = index * self.chunk_size
        return start, min(self.chunk_size, self.count - start)


@dataclass(frozen=True)
class VectorSet:
    name: str
    version: str
    digest: str
    path: Path
    files: dict[str, str]

    def explicit_ops(self) -> list[str]:
        return sorted(
            name[len("explicit/") : -len(".json")] for name in self.files if name.startswith("explicit/")
        )

    def explicit(self, op_id: str) -> list[ExplicitVector]:
        return load_explicit(self, op_id)

    def streams(self) -> dict[str, Stream]:
        return load_streams(self)

    def stream_ops(self) -> list[str]:
        """The ops of the set's streams, in id order (``load_stream_ops``)."""
        return load_stream_ops(self)


def default_path() -> Path:
    """The vector set shipped with teecert (package data, also after ``pip install .``)."""
    return package_dir("teecert.vector_data")


def set_digest(name: str, version: str, files: dict[str, str]) -> str:
    """SHA-256 of the RFC 8785 form of ``{"files", "name", "version"}``."""
    body = rfc8785.dumps({"name": name, "version": version, "files": files})
    return hashlib.sha256(body).hexdigest()


def _field(obj: Any, key: str, typ: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise MalformedInput(f"{where}: missing field {key!r}")
    val = obj[key]
    if not isinstance(val, typ) or (typ is int and isinstance(val, bool)):
        raise MalformedInput(f"{where}: field {key!r} has the wrong type")
    return val


def parse_hex(text: Any, width: int, where: str) -> int:
    """A lower-case hex bit pattern of exactly ``width`` bits."""
    if not isinstance(text, str) or len(text) != width // 4:
        raise MalformedInput(f"{where}: expected {width // 4} hex digits, got {text!r}")
    try:
        if text != text.lower():
            raise ValueError
        return int(text, 16)
    except ValueError:
        raise MalformedInput(f"{where}: {text!r} is not lower-case hex") from None


def load_set(path: Path | None = None, *, check_files: bool = True) -> VectorSet:
    """Open a vector set and check every file against its manifest.

    ``check_files=False`` checks the manifest alone (its fields, and that its digest is
    that of the files it lists): for a reader of a few files, each of which is checked
    when it is read, as every file is, rather than all of them up front."""
    root = path or default_path()
    mpath = root / MANIFEST
    where = str(mpath)
    try:
        raw = mpath.read_bytes()
    except OSError as e:
        raise MalformedInput(f"{where}: cannot read manifest ({e.strerror})") from None
    doc = canonical.loads(raw, where)
    if _field(doc, "format", str, where) != FORMAT:
        raise MalformedInput(f"{where}: field 'format' must be {FORMAT!r}")
    name = _field(doc, "name", str, where)
    version = _field(doc, "version", str, where)
    files = _field(doc, "files", dict, where)
    digest = _field(doc, "digest", str, where)
    for fname, fdigest in files.items():
        if not isinstance(fdigest, str) or len(fdigest) != 64:
            raise MalformedInput(f"{where}: files[{fname!r}] is not a SHA-256 hex digest")
        if fname.startswith("/") or ".." in Path(fname).parts:
            raise MalformedInput(f"{where}: files[{fname!r}] leaves the vector folder")
        if not fname or any(not c.isprintable() for c in fname):
            raise MalformedInput(f"{where}: files[{fname!r}] is not a file name (empty, or control characters)")
    if set_digest(name, version, files) != digest:
        raise MalformedInput(f"{where}: field 'digest' does not match the files listed")
    for fname, fdigest in sorted(files.items()) if check_files else ():
        fpath = root / fname
        try:
            actual = hashlib.sha256(fpath.read_bytes()).hexdigest()
        except OSError as e:
            raise MalformedInput(f"{fpath}: listed in the manifest but cannot be read ({e.strerror})") from None
        if actual != fdigest:
            raise MalformedInput(f"{fpath}: SHA-256 {actual[:16]}... does not match the manifest ({fdigest[:16]}...)")
    return VectorSet(name, version, digest, root, dict(files))


def _read_checked(vs: VectorSet, fname: str) -> bytes:
    """The bytes of a listed file, checked against the manifest again: the file may
    have changed since the set was opened (or the set was opened without checking
    it, ``load_set(check_files=False)``)."""
    fpath = vs.path / fname
    data = fpath.read_bytes()
    actual, listed = hashlib.sha256(data).hexdigest(), vs.files.get(fname)
    if actual != listed:
        raise MalformedInput(f"{fpath}: SHA-256 {actual[:16]}... does not match the manifest "
                             f"({listed[:16] + '...' if listed else 'not listed'})")
    return data


def _read_listed(vs: VectorSet, fname: str) -> Any:
    return canonical.loads(_read_checked(vs, fname), str(vs.path / fname))


#: Explicit files are parsed once per content: a run reads the whole set twice (the
#: preflight and the suites), about 0.6 s of CPU each, and the parse of the same bytes
#: by the same rules is the same.  An entry is named by the file's SHA-256 (the
#: manifest's, checked on every read) and by what the parse depends on (this format,
#: the op's slot sizes); it is written only after a parse that succeeded.
PARSED_FORMAT = "teecert-explicit-parsed-1"


def _parsed_entry(vs: VectorSet, fname: str, op_id: str) -> tuple[Path, str] | None:
    op = ops.CATALOGUE.get(op_id)
    digest = vs.files.get(fname)
    if op is None or digest is None:
        return None  # the parse itself says what is wrong
    sig = (f"{PARSED_FORMAT}\0{digest}\0{op.id}\0{[s.size for s in op.inputs]}"
           f"\0{op.out_slot.size}")
    key = hashlib.sha256(sig.encode()).hexdigest()[:32]
    return cache_dir() / "explicit" / f"{op_id}-{key}.marshal", sig


def _parsed(entry: tuple[Path, str] | None) -> list[ExplicitVector] | None:
    """The vectors of a cache entry, or None when there is none or it is unreadable.
    marshal, not JSON: the entry is read in about a tenth of the time of a parse."""
    if entry is None:
        return None
    path, sig = entry
    try:
        got_sig, rows = marshal.loads(path.read_bytes())
        if got_sig != sig or type(rows) is not list:
            return None
        if any(len(row) != 6 for row in rows):
            return None
        return list(map(ExplicitVector._make, rows))
    except (OSError, EOFError, ValueError, TypeError):
        return None


def explicit_parsed(vs: VectorSet, op_id: str) -> bool:
    """Whether these exact bytes of ``op_id``'s explicit file were parsed without error
    before (their cache entry exists), so the preflight need not parse them again."""
    entry = _parsed_entry(vs, f"explicit/{op_id}.json", op_id)
    return entry is not None and entry[0].is_file()


def load_explicit(vs: VectorSet, op_id: str) -> list[ExplicitVector]:
    fname = f"explicit/{op_id}.json"
    if fname not in vs.files:
        raise MalformedInput(f"{vs.path / MANIFEST}: no explicit vectors for op {op_id!r}")
    where = str(vs.path / fname)
    data = _read_checked(vs, fname)
    entry = _parsed_entry(vs, fname, op_id)
    cached = _parsed(entry)
    if cached is not None:
        return cached
    doc = canonical.loads(data, where)
    if _field(doc, "format", str, where) != FORMAT:
        raise MalformedInput(f"{where}: field 'format' must be {FORMAT!r}")
    if _field(doc, "op", str, where) != op_id:
        raise MalformedInput(f"{where}: field 'op' is {doc['op']!r}, expected {op_id!r}")
    op = ops.get(op_id, where + ": field 'op'")
    out: list[ExplicitVector] = []
    seen: set[int] = set()
    for gi, group in enumerate(_field(doc, "testGroups", list, where)):
        gwhere = f"{where}: testGroups[{gi}]"
        gname = _field(group, "group", str, gwhere)
        digits = tuple(s.size * 2 for s in op.inputs)
        out_digits = op.out_slot.size * 2
        for ti, test in enumerate(_field(group, "tests", list, gwhere)):
            vec = _well_formed_test(test, gname, digits, out_digits)
            if vec is None:  # something is wrong: find it and name it
                vec = _checked_test(test, gname, op, f"{gwhere}.tests[{ti}]")
            if vec.tc_id in seen:
                raise MalformedInput(f"{gwhere}.tests[{ti}]: duplicate tcId {vec.tc_id}")
            seen.add(vec.tc_id)
            out.append(vec)
    if len(out) != _field(doc, "numberOfTests", int, where):
        raise MalformedInput(f"{where}: field 'numberOfTests' does not match the tests present")
    if entry is not None:
        put(entry[0], marshal.dumps((entry[1], list(map(tuple, out)))))
        _prune(entry[0])
    return out


#: Entries kept per op: a few versions of a file (a checkout and an install, a set
#: being edited), not one for every file ever parsed.
KEEP_PARSED = 4


def _prune(kept: Path) -> None:
    """Remove all but the newest :data:`KEEP_PARSED` entries of ``kept``'s op.  A
    worker that loses its entry to another's prune only parses again."""
    op_id = kept.name.rsplit("-", 1)[0]
    with contextlib.suppress(OSError):
        entries = sorted(kept.parent.glob(f"{op_id}-*.marshal"), key=lambda p: p.stat().st_mtime,
                         reverse=True)
        for old in entries[KEEP_PARSED:]:
            if old != kept:
                old.unlink(missing_ok=True)


_LOWER_HEX = re.compile(r"[0-9a-f]*\Z")


def _well_formed_test(test: Any, group: str, digits: tuple[int, ...],
                      out_digits: int) -> ExplicitVector | None:
    """The test as a vector when every field is present and well formed, else None.

    The fast path of ``load_explicit`` (every run parses the whole set, about 68,000
    tests, before it starts): one type check per field and one regular expression
    over all the hex of the test, instead of ``_checked_test``'s field by field
    validation, which runs only to name what is wrong."""
    if type(test) is not dict:
        return None
    tc, raw, exp = test.get("tcId"), test.get("inputs"), test.get("expected")
    flags, comment = test.get("flags"), test.get("comment")
    if (type(tc) is not int or type(raw) is not list or type(exp) is not str
            or type(flags) is not list or type(comment) is not str
            or len(raw) != len(digits) or len(exp) != out_digits):
        return None
    for x, n in zip(raw, digits, strict=True):
        if type(x) is not str or len(x) != n:
            return None
    if not _LOWER_HEX.match("".join(raw) + exp):
        return None
    return ExplicitVector(group, tc, tuple(int(x, 16) for x in raw), int(exp, 16), tuple(flags), comment)


def _checked_test(test: Any, group: str, op: ops.Op, twhere: str) -> ExplicitVector:
    """The test as a vector, or ``MalformedInput`` naming the field that is wrong."""
    tc = _field(test, "tcId", int, twhere)
    raw_inputs = _field(test, "inputs", list, twhere)
    if len(raw_inputs) != op.arity:
        raise MalformedInput(f"{twhere}: field 'inputs' has {len(raw_inputs)} values, {op.id} takes {op.arity}")
    inputs = tuple(parse_hex(x, s.bits, f"{twhere}.inputs[{k}]")
                   for k, (s, x) in enumerate(zip(op.inputs, raw_inputs, strict=True)))
    expected = parse_hex(_field(test, "expected", str, twhere), op.out_slot.bits, f"{twhere}.expected")
    flags = tuple(_field(test, "flags", list, twhere))
    comment = _field(test, "comment", str, twhere)
    return ExplicitVector(group, tc, inputs, expected, flags, comment)


def _stream_files(vs: VectorSet) -> list[tuple[str, str, tuple[str, ...]]]:
    """(file, generator, op kinds) of each stream file the set lists."""
    out: list[tuple[str, str, tuple[str, ...]]] = [(STREAMS, GENERATOR, ("float",))]
    if LIBM_STREAMS in vs.files:
        out.append((LIBM_STREAMS, LIBM_GENERATOR, ("libm",)))
    if DATA_STREAMS in vs.files:
        out.append((DATA_STREAMS, DATA_GENERATOR, ops.DATA_KINDS))
    return out


def load_stream_ops(vs: VectorSet) -> list[str]:
    """The ops of the set's streams, in id order, from the stream files (each checked
    against the manifest, its header and every stream's op) without reading the
    leaves: which tests a run has depends on the ops alone, and checking every
    stream's Merkle tree took a single ``teecert verify`` a fifth of its time."""
    found: list[str] = []
    for fname, gen, kinds in _stream_files(vs):
        found.extend(op.id for _, _, op, _ in _stream_entries(vs, fname, gen, kinds))
    return sorted(found)


def load_streams(vs: VectorSet) -> dict[str, Stream]:
    """Every stream of the set: ``streams.json`` (float ops) and, when the manifest
    lists it, ``libm-streams.json`` (libm functions)."""
    out: dict[str, Stream] = {}
    for fname, gen, kinds in _stream_files(vs):
        out.update(_load_stream_file(vs, fname, gen, kinds))
    return out


def stream_file_of(op: ops.Op) -> tuple[str, str]:
    """(file, generator) of ``op``'s stream."""
    if op.kind == "libm":
        return LIBM_STREAMS, LIBM_GENERATOR
    if op.kind in ops.DATA_KINDS:
        return DATA_STREAMS, DATA_GENERATOR
    return STREAMS, GENERATOR


def _stream_entries(vs: VectorSet, fname: str, gen: str,
                    kinds: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any], ops.Op, int]]:
    """(where, entry, op, chunk size) of every stream of the file ``fname``, its header
    checked and each op a known one of ``kinds``, never two streams of one op."""
    where = str(vs.path / fname)
    doc = _read_listed(vs, fname)
    if _field(doc, "format", str, where) != FORMAT:
        raise MalformedInput(f"{where}: field 'format' must be {FORMAT!r}")
    if _field(doc, "generator", str, where) != gen:
        raise MalformedInput(f"{where}: field 'generator' must be {gen!r}")
    chunk = _field(doc, "chunk_size", int, where)
    if chunk <= 0:
        raise MalformedInput(f"{where}: field 'chunk_size' must be positive")
    seen: set[str] = set()
    for i, s in enumerate(_field(doc, "streams", list, where)):
        sw = f"{where}: streams[{i}]"
        op = ops.get(_field(s, "op", str, sw), sw + ".op")
        if op.kind not in kinds:
            raise MalformedInput(f"{sw}.op: {op.id} is an op of kind {op.kind!r}, not one of this file's")
        if op.id in seen:
            raise MalformedInput(f"{sw}: a second stream for op {op.id}")
        seen.add(op.id)
        yield sw, s, op, chunk


def _load_stream_file(vs: VectorSet, fname: str, gen: str, kinds: tuple[str, ...]) -> dict[str, Stream]:
    out: dict[str, Stream] = {}
    for sw, s, op, chunk in _stream_entries(vs, fname, gen, kinds):
        seed = _field(s, "seed", int, sw)
        count = _field(s, "count", int, sw)
        leaves = tuple(bytes.fromhex(x) for x in _hexlist(_field(s, "leaves", list, sw), sw + ".leaves"))
        root = bytes.fromhex(_hexlist([_field(s, "root", str, sw)], sw + ".root")[0])
        if count <= 0 or len(leaves) != -(-count // chunk):
            raise MalformedInput(f"{sw}: {len(leaves)} leaves do not cover {count} vectors in chunks of {chunk}")
        if merkle.root(leaves) != root:
            raise MalformedInput(f"{sw}: field 'root' is not the Merkle root of its leaves")
        out[op.id] = Stream(op, seed, count, chunk, root, leaves)
    return out


def _hexlist(items: list[Any], where: str) -> list[str]:
    for x in items:
        if not isinstance(x, str) or len(x) != 64:
            raise MalformedInput(f"{where}: expected 64 hex digits, got {x!r}")
        try:
            bytes.fromhex(x)
        except ValueError:
            raise MalformedInput(f"{where}: {x!r} is not hex") from None
    return items


# -- writing (used by ``teecert vectors generate``) -------------------------------


def _line(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True)


def explicit_text(op: ops.Op, groups: list[tuple[str, str, list[tuple[tuple[int, ...], int, tuple[str, ...], str]]]]) -> str:
    """The explicit file of one op, one test per line, deterministic byte for byte."""
    n = sum(len(cases) for _, _, cases in groups)
    head = {"format": FORMAT, "op": op.id, "numberOfTests": n}
    lines = [_line(head)[:-1] + ',"testGroups":[']
    tc = 0
    for gi, (gname, gcomment, cases) in enumerate(groups):
        lines.append(_line({"group": gname, "comment": gcomment})[:-1] + ',"tests":[')
        for ci, (inputs, expected, flags, comment) in enumerate(cases):
            tc += 1
            test = {
                "tcId": tc,
                "inputs": op.in_hex(inputs),
                "expected": op.out_hex(expected),
                "flags": list(flags),
                "comment": comment,
            }
            lines.append(_line(test) + ("," if ci + 1 < len(cases) else ""))
        lines.append("]}" + ("," if gi + 1 < len(groups) else ""))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def streams_text(streams: list[dict[str, Any]], generator: str = GENERATOR,
                 chunk_size: int = CHUNK_SIZE) -> str:
    head = {"format": FORMAT, "generator": generator, "chunk_size": chunk_size}
    lines = [_line(head)[:-1] + ',"streams":[']
    for i, s in enumerate(streams):
        lines.append(_line(s) + ("," if i + 1 < len(streams) else ""))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def manifest_text(files: dict[str, str]) -> str:
    files = dict(sorted(files.items()))
    doc = {
        "format": FORMAT,
        "name": SET_NAME,
        "version": SET_VERSION,
        "digest": set_digest(SET_NAME, SET_VERSION, files),
        "files": files,
    }
    return json.dumps(doc, indent=1) + "\n"


def iter_ops() -> Iterator[ops.Op]:
    return iter(ops.CATALOGUE[k] for k in sorted(ops.CATALOGUE))
