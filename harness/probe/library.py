"""Load a probe library in process (cffi, ABI mode) and call it.

:func:`load_probe` checks everything a probe can get wrong before the harness
relies on it: the file, the shared library, every ABI symbol, the ABI version and
the self-description.  Each problem is a :class:`~teecert.errors.ProbeError` with
one line naming the library and what is wrong.  The ABI is ``native/teecert_probe.h``
and ``docs/probe-abi.md``.

The transcript a probe keeps of everything it computed is recomputed here from the
outputs the harness received (:func:`transcript_step`), so the harness can show
that the transcript an attestation commits to describes exactly these results.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cffi

from ..errors import ArgumentsRejected, ProbeError, UnsupportedOp, UsageError
from ..ops import Op

#: The one ABI version this teecert speaks.
ABI_VERSION = 1

#: Status codes of teecert_probe_run / teecert_probe_attest.
OK = 0
E_UNSUPPORTED = 1
E_ARGS = 2
E_INTERNAL = 3

#: Poison bits of teecert_probe_fpenv_poison.
POISON_ROUND_UP = 0x1
POISON_ROUND_ZERO = 0x2
POISON_FTZ_DAZ = 0x4
POISON_TRAPS = 0x8

#: The declarations of native/teecert_probe.h (constants are above: cffi's cdef
#: does not take the header's unsigned-suffixed #defines).
CDEF = """
uint32_t teecert_probe_abi_version(void);
const char *teecert_probe_describe(void);
int32_t teecert_probe_run(const char *op, const void *in, size_t in_bytes, void *out,
                          size_t out_bytes, size_t n);
uint64_t teecert_probe_fpenv_read(char *arch);
uint32_t teecert_probe_fpenv_poison(uint32_t what);
void teecert_probe_fpenv_reset(void);
void teecert_probe_transcript(uint8_t out[32], uint64_t *calls);
void teecert_probe_transcript_reset(void);
int32_t teecert_probe_attest(const uint8_t report_data[64], uint8_t *evidence, size_t cap,
                             size_t *len, char *format);
"""

SYMBOLS = (
    "teecert_probe_abi_version",
    "teecert_probe_describe",
    "teecert_probe_run",
    "teecert_probe_fpenv_read",
    "teecert_probe_fpenv_poison",
    "teecert_probe_fpenv_reset",
    "teecert_probe_transcript",
    "teecert_probe_transcript_reset",
    "teecert_probe_attest",
)

ffi = cffi.FFI()
ffi.cdef(CDEF)

#: T0 of the transcript: SHA-256("teecert-transcript-v1").
TRANSCRIPT_T0 = hashlib.sha256(b"teecert-transcript-v1").digest()

#: Longest self-description accepted (a missing NUL must not read the whole heap).
MAX_DESCRIPTION = 1 << 20

#: Largest attestation evidence accepted from a probe.
MAX_EVIDENCE = 1 << 24

#: Evidence buffer of the first attestation call: room for an SEV-SNP report with
#: its certificate table, a TDX quote with its PCK chain, or a Nitro document, so
#: the size protocol's retry is rarely needed.
ATTEST_FIRST_CAP = 1 << 16

#: Digest of each library file when this process first loaded it, by resolved path.
#: The dynamic loader hands back the already-loaded library for a path it knows,
#: even when the file was replaced since, so a second load of a changed file would
#: run the old code under the new file's digest.
_LOADED: dict[str, str] = {}


def transcript_step(prev: bytes, op_id: str, n: int, out_leaf: bytes) -> bytes:
    """One transcript step: ``SHA-256(prev || u32le(len(op)) || op || u64le(n) || leaf)``
    with ``leaf = merkle.leaf_hash(output bytes)``."""
    op = op_id.encode("utf-8")
    return hashlib.sha256(
        prev + struct.pack("<I", len(op)) + op + struct.pack("<Q", n) + out_leaf
    ).digest()


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def parse_description(raw: bytes, where: str) -> dict[str, Any]:
    """A probe's self-description as a dict; floats (and NaN/Infinity) become their
    text, since reports carry no floats.  ``where`` prefixes the error message."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProbeError(f"{where}: self-description is not UTF-8 (byte {exc.start})") from None
    try:
        doc = json.loads(text, parse_float=str, parse_constant=str,
                         object_pairs_hook=_reject_duplicates)
    except ValueError as exc:
        raise ProbeError(f"{where}: self-description is not valid JSON ({exc})") from None
    except RecursionError:
        raise ProbeError(f"{where}: self-description nests too deep to be a description") from None
    if not isinstance(doc, dict):
        raise ProbeError(f"{where}: self-description is a JSON {type(doc).__name__}, not an object")
    return doc


def _dlopen_message(exc: BaseException) -> str:
    # cffi appends a note about ctypes.util.find_library that only confuses here.
    msg = str(exc).split(".  Additionally", 1)[0].strip()
    return msg.splitlines()[0] if msg else type(exc).__name__


def report_data_bytes(report_data: object) -> bytes:
    """Exactly 64 bytes of attestation report data, or a one-line ``UsageError``
    (shared by in-process and remote probes)."""
    if not isinstance(report_data, (bytes, bytearray, memoryview)):
        raise UsageError(f"attestation report data must be bytes, not {type(report_data).__name__}")
    data = bytes(report_data)
    if len(data) != 64:
        raise UsageError(f"attestation report data must be 64 bytes, not {len(data)}")
    return data


def status_error(where: str, status: int, op: Op, n: int, in_bytes: int, out_bytes: int) -> ProbeError:
    """The error for a non-OK status of a run call (shared by in-process and remote probes)."""
    if status == E_UNSUPPORTED:
        return UnsupportedOp(f"{where}: does not implement {op.id}")
    if status == E_ARGS:
        return ArgumentsRejected(
            f"{where}: rejected the arguments of {op.id} (n={n}, in_bytes={in_bytes}, "
            f"out_bytes={out_bytes}; expected {n * op.in_bytes} and {n * op.out_bytes})"
        )
    if status == E_INTERNAL:
        return ProbeError(f"{where}: internal failure in {op.id} (n={n})")
    return ProbeError(f"{where}: {op.id} returned unknown status {status}")


def run_values_with(run: Callable[[Op, bytes, int], bytes], op: Op,
                    vecs: Sequence[tuple[int, ...]]) -> list[int]:
    """Pack input tuples into a probe-ABI buffer, ``run`` them, unpack the outputs
    (shared by the in-process and the remote probe)."""
    for i, vec in enumerate(vecs):
        if len(vec) != op.arity:
            raise UsageError(f"{op.id}: vector {i} has {len(vec)} operands, the op takes {op.arity}")
    try:
        packed = op.pack_inputs(vecs)
    except (struct.error, OverflowError, AttributeError, TypeError):
        bits = "/".join(sorted({str(s.bits) for s in op.inputs}))
        raise UsageError(f"{op.id}: an operand is not a {bits}-bit pattern") from None
    out = run(op, packed, len(vecs))
    return op.unpack_outputs(out, len(vecs))


class Probe:
    """A loaded probe library.  Create it with :func:`load_probe`."""

    #: how the harness reaches this probe (remote transports: teecert.probe.remote)
    transport = "in-process"

    def __init__(self, path: Path, lib: Any, digest: str, abi_version: int,
                 description: dict[str, Any]) -> None:
        self.path = path
        self.digest = digest
        self.abi_version = abi_version
        self.description = description
        ops = description.get("ops")
        self.ops: frozenset[str] = frozenset(
            o for o in (ops if isinstance(ops, list) else []) if isinstance(o, str)
        )
        self._lib = lib
        self._run = lib.teecert_probe_run
        self._op_ids: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return f"<Probe {self.path} abi={self.abi_version} ops={len(self.ops)}>"

    def _where(self) -> str:
        return f"probe {self.path}"

    def _op_id(self, op: Op) -> bytes:
        b = self._op_ids.get(op.id)
        if b is None:
            b = self._op_ids[op.id] = op.id.encode("ascii")
        return b

    def _raise_status(self, status: int, op: Op, n: int, in_bytes: int, out_bytes: int) -> None:
        raise status_error(self._where(), status, op, n, in_bytes, out_bytes)

    # ------------------------------------------------------------------ ops

    def describe(self) -> dict[str, Any]:
        """The self-description as the probe gives it now (``fpenv_at_entry`` is
        the caller's environment at this call)."""
        return _describe(self._lib, self._where())

    def new_buffer(self, nbytes: int) -> Any:
        """A zeroed native buffer of ``nbytes`` for :meth:`run_into`."""
        return ffi.new("unsigned char[]", nbytes)

    def run(self, op: Op, inputs: bytes | bytearray | memoryview, n: int) -> bytes:
        """Run ``op`` over ``n`` vectors packed in ``inputs`` (probe-ABI layout) and
        return the ``n`` output values as bytes.  The probe checks the input size."""
        if n < 0:
            raise UsageError(f"{op.id}: negative vector count {n}")
        inbuf = ffi.from_buffer(inputs)
        in_bytes = ffi.sizeof(inbuf)
        out_bytes = n * op.out_bytes
        out = ffi.new("unsigned char[]", out_bytes)
        status = self._run(self._op_id(op), inbuf, in_bytes, out, out_bytes, n)
        if status != OK:
            self._raise_status(status, op, n, in_bytes, out_bytes)
        return bytes(ffi.buffer(out))

    def run_into(self, op: Op, inbuf: Any, outbuf: Any, n: int) -> None:
        """The stream loop's call: ``n`` vectors from the native buffer ``inbuf`` into
        ``outbuf`` (cdata of at least ``n * op.in_bytes`` and ``n * op.out_bytes``
        bytes, e.g. from :meth:`new_buffer`), without copying."""
        in_bytes = n * op.in_bytes
        out_bytes = n * op.out_bytes
        status = self._run(self._op_id(op), inbuf, in_bytes, outbuf, out_bytes, n)
        if status != OK:
            self._raise_status(status, op, n, in_bytes, out_bytes)

    def run_values(self, op: Op, vecs: Sequence[tuple[int, ...]]) -> list[int]:
        """Run ``op`` over input tuples of bit patterns; return the output bit patterns."""
        return run_values_with(self.run, op, vecs)

    # ------------------------------------------------------- FP environment

    def fpenv_read(self) -> tuple[str, int]:
        """``(arch, raw control register bits)`` as the probe sees them on entry."""
        arch = ffi.new("char[16]")
        bits = int(self._lib.teecert_probe_fpenv_read(arch))
        return ffi.string(arch, 16).decode("ascii", "replace"), bits

    def fpenv_poison(self, bits: int) -> int:
        """Poison the calling thread's FP environment; returns the bits applied."""
        return int(self._lib.teecert_probe_fpenv_poison(bits))

    def fpenv_reset(self) -> None:
        """Restore the default FP environment of the calling thread."""
        self._lib.teecert_probe_fpenv_reset()

    # ------------------------------------------------------------- transcript

    def transcript(self) -> tuple[bytes, int]:
        """``(32-byte transcript hash, number of successful runs folded in)``."""
        out = ffi.new("uint8_t[32]")
        calls = ffi.new("uint64_t *")
        self._lib.teecert_probe_transcript(out, calls)
        return bytes(ffi.buffer(out)), int(calls[0])

    def transcript_reset(self) -> None:
        self._lib.teecert_probe_transcript_reset()

    # ------------------------------------------------------------ attestation

    def attest(self, report_data: bytes) -> tuple[str, bytes]:
        """``(format, evidence)`` over exactly 64 bytes of report data.

        The format is the probe's short name (``snp``, ``tdx``, ``nitro``, ``sim``);
        the evidence containers of the reference probe are in docs/probe-abi.md.
        Follows the ABI's size protocol: a first call with a buffer of
        :data:`ATTEST_FIRST_CAP` bytes, and when the probe answers ``E_ARGS`` with a
        larger size, one retry with exactly that size (the probe keeps the evidence
        it generated for the retry).  Raises :class:`UsageError` for report data of
        another length, :class:`UnsupportedOp` when the probe reaches no attestation
        technology, and :class:`ProbeError` with one line when it fails.
        """
        data = report_data_bytes(report_data)
        where = self._where()
        rd = ffi.new("uint8_t[64]", data)
        fmt = ffi.new("char[16]")
        length = ffi.new("size_t *")
        cap = ATTEST_FIRST_CAP
        evidence = ffi.new("uint8_t[]", cap)
        retried = False
        while True:
            length[0] = 0
            status = int(self._lib.teecert_probe_attest(rd, evidence, cap, length, fmt))
            needed = int(length[0])
            if status == OK:
                if needed > cap:
                    raise ProbeError(f"{where}: attestation claims {needed} bytes of evidence "
                                     f"in a {cap}-byte buffer")
                if needed == 0:
                    raise ProbeError(f"{where}: attestation returned no evidence")
                raw_fmt = bytes(ffi.buffer(fmt, 16)).split(b"\0", 1)
                if len(raw_fmt) < 2 or not raw_fmt[0]:
                    raise ProbeError(f"{where}: attestation format name is empty or not "
                                     "NUL-terminated within 16 bytes")
                name = raw_fmt[0].decode("ascii", "replace")
                return name, bytes(ffi.buffer(evidence, needed))
            if status == E_UNSUPPORTED:
                raise UnsupportedOp(f"{where}: reaches no attestation technology")
            if status == E_INTERNAL:
                raise ProbeError(f"{where}: attestation evidence collection failed inside the probe "
                                 "(TEECERT_E_INTERNAL: the TEE interface refused or returned "
                                 "unusable evidence)")
            if status == E_ARGS:
                if needed <= cap:
                    raise ProbeError(f"{where}: rejected the attestation arguments "
                                     f"(buffer {cap} bytes, needed {needed})")
                if needed > MAX_EVIDENCE:
                    raise ProbeError(f"{where}: attestation evidence of {needed} bytes exceeds "
                                     f"the {MAX_EVIDENCE}-byte limit")
                if retried:
                    raise ProbeError(f"{where}: attestation asked for a larger buffer twice "
                                     f"({cap}, then {needed} bytes)")
                retried = True
                cap = needed
                evidence = ffi.new("uint8_t[]", cap)
                continue
            raise ProbeError(f"{where}: attestation returned unknown status {status}")


def _describe(lib: Any, where: str) -> dict[str, Any]:
    ptr = lib.teecert_probe_describe()
    if ptr == ffi.NULL:
        raise ProbeError(f"{where}: teecert_probe_describe() returned NULL")
    raw = ffi.string(ptr, MAX_DESCRIPTION)
    if len(raw) >= MAX_DESCRIPTION:
        raise ProbeError(f"{where}: self-description longer than {MAX_DESCRIPTION} bytes "
                         "(or not NUL-terminated)")
    return parse_description(raw, where)


def load_probe(path: str | os.PathLike[str]) -> Probe:
    """Load and check a probe library; raises :class:`ProbeError` naming the path."""
    p = Path(path)
    where = f"probe {p}"
    if not p.exists():
        raise ProbeError(f"{where}: no such file")
    if not p.is_file():
        raise ProbeError(f"{where}: not a file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ProbeError(f"{where}: cannot read ({exc.strerror or exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    resolved = str(p.resolve())
    first = _LOADED.get(resolved)
    if first is not None and first != digest:
        raise ProbeError(f"{where}: the file changed since this process loaded it (sha256 "
                         f"{first[:16]}... then, {digest[:16]}... now); load it in a new process")
    try:
        # An absolute path, so the dynamic loader does no library search.
        lib = ffi.dlopen(resolved, ffi.RTLD_NOW | ffi.RTLD_LOCAL)
    except OSError as exc:
        raise ProbeError(f"{where}: not a loadable shared library ({_dlopen_message(exc)})") from None
    _LOADED[resolved] = digest
    missing = []
    for name in SYMBOLS:
        try:
            getattr(lib, name)
        except AttributeError:
            missing.append(name)
    if missing:
        raise ProbeError(f"{where}: missing symbol{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    abi = int(lib.teecert_probe_abi_version())
    if abi != ABI_VERSION:
        raise ProbeError(f"{where}: exports ABI version {abi}, this teecert speaks {ABI_VERSION}")
    description = _describe(lib, where)
    return Probe(p, lib, digest, abi, description)
