"""Load a probe library in process (cffi, ABI mode) and call it.

:func:`load_probe` checks everything a probe can get wrong before the harness
relies on it: the file, the shared library, every ABI symbol, the ABI version and
the self-description.  Each problem is a :class:`~teecert.errors.ProbeError` with
one line naming the library and what is wrong.  The ABI is ``native/teecert_probe.h``
and ``docs/probe-abi.md``.

The transcript a probe keeps of everything it computed is recomputed here from the
outputs the harness received (:func:`transcript_step`), so the harness can show
that the transcript an attestation commits to describes exactly these results.

A call into C cannot be interrupted, so a probe given a ``timeout`` (or loaded after
:func:`set_call_timeout`) is watched: a call that overruns it ends the process with
one line naming the probe, the call and the deadline (:class:`_Watchdog`).  Code
that must survive a probe which crashes or hangs while loading checks it with
:func:`describe_in_child`, which loads it in a child process.
"""

from __future__ import annotations

import faulthandler
import functools
import hashlib
import json
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import cffi

from .._internal import accel
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
#: teecert's own poison bit, never passed to a probe: x87 precision control reduced to
#: 24 bits where the CPU has x87 (native/fpenv.h, TEECERT_FPENV_POISON_X87_PC).
POISON_X87_PC = 0x10

#: The probe ABI's argument checks (docs/probe-abi.md, "Argument checks"): each case
#: and the status it must give, in the order the probe host's CONFORM message runs
#: them (native/host/probe_host.c, conform_child).
CONFORMANCE_CASES: tuple[tuple[str, int], ...] = (
    ("n = 0 with null buffers and zero sizes", OK),
    ("input size one vector short", E_ARGS),
    ("input size one byte long", E_ARGS),
    ("output size one vector short", E_ARGS),
    ("output size one byte long", E_ARGS),
    ("null input with n = 1", E_ARGS),
    ("null output with n = 1", E_ARGS),
    ("null op id", E_ARGS),
    ("unknown op id", E_ARGS),
    ("n whose buffer sizes overflow size_t", E_ARGS),
    ("n = 0 with the sizes of one vector", E_ARGS),
)


@dataclass(frozen=True)
class FpWatch:
    """What teecert itself saw of the FP control state of the thread that calls the
    probe (the probe host's, or this process's through the accelerator): the state
    now, the poison bits its last set applied, and the first change of the control
    bits it did not make (``kind`` 1 between two calls, 2 during call ``call_no``)."""

    arch: str
    state: int
    applied: int
    calls: int
    violations: int
    kind: int
    call_no: int
    expected: int
    seen: int
    what: str

    def problem(self) -> str | None:
        """One line naming the call, or None when the state never changed behind teecert."""
        if not self.violations:
            return None
        when = "between calls, found before" if self.kind == 1 else "during"
        return (f"the FP control state changed {when} call {self.call_no} ({self.what}): "
                f"{self.arch} {self.expected:#x} set by teecert, {self.seen:#x} found "
                f"({self.violations} change(s) in {self.calls} calls)")


@dataclass(frozen=True)
class Conformance:
    """The statuses a probe gave to :data:`CONFORMANCE_CASES`, run in a child process:
    ``outcome`` 0 every case answered, 1 the child died by ``signal`` during case
    ``len(statuses)``, 2 it did not answer in time, 3 no child could be made."""

    op: str
    statuses: tuple[int, ...]
    outcome: int
    signal: int = 0

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

#: Exit status of a process the watchdog ended because a probe call overran its deadline.
OVERDUE_EXIT = 2

_T = TypeVar("_T")


def _one_line(text: str) -> str:
    """``text`` with control and other unprintable characters escaped, so a path
    cannot start a second line of a message written straight to a file descriptor."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class _Watchdog:
    """Ends this process when an in-process probe call overruns its deadline.

    A call into C cannot be interrupted from Python, and a probe that loops for ever
    would hang the run for ever: ending the process is the only bounded way out.
    A daemon thread looks at the calls in flight (one per thread: the probe never
    calls back into Python) and, when one is overdue, writes one line naming the
    probe, the call and the deadline, then ``os._exit(OVERDUE_EXIT)``.  The line
    goes to ``report_to`` when the process that started this one reads it there
    (``teecert run``), else to standard error.  The C call releases the GIL, so
    the thread runs while the probe spins.
    """

    #: longest sleep between two looks at the calls in flight, seconds
    TICK = 0.25

    def __init__(self) -> None:
        #: thread id -> (deadline, timeout, "probe PATH", call)
        self.calls: dict[int, tuple[float, float, str, str]] = {}
        #: the deadline of probes loaded without one (None: unbounded)
        self.default_timeout: float | None = None
        self.report_to: str | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    thread = threading.Thread(target=self._watch, name="teecert-probe-watchdog",
                                              daemon=True)
                    thread.start()
                    self._thread = thread

    def after_fork(self) -> None:
        # A forked child has no watchdog thread and none of the parent's calls.
        self._thread = None
        self._lock = threading.Lock()
        self.calls.clear()

    def _watch(self) -> None:
        while True:
            now = time.monotonic()
            wake = now + self.TICK
            for deadline, timeout, where, what in tuple(self.calls.values()):
                if now >= deadline:
                    self._expire(where, what, timeout)
                wake = min(wake, deadline)
            time.sleep(max(0.0, wake - now) + 0.002)

    def _expire(self, where: str, what: str, timeout: float) -> None:
        line = _one_line(f"{where}: {what} did not return within {timeout:g} s (in-process call)")
        try:
            if self.report_to:
                try:
                    fd = os.open(self.report_to, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                    try:
                        os.write(fd, (line + "\n").encode("utf-8", "replace"))
                        return
                    finally:
                        os.close(fd)
                except OSError:
                    pass  # said on standard error instead
            os.write(_STDERR, f"teecert: {line}; ending the test process\n".encode("utf-8", "replace"))
        finally:
            os._exit(OVERDUE_EXIT)


def _saved_stderr() -> int:
    try:
        return os.dup(2)
    except OSError:
        return 2


#: Where the watchdog writes without a ``report_to``: standard error as it was when
#: this module was imported.  pytest captures descriptor 2 into a file while tests
#: run, which nobody reads after ``os._exit``; the teecert plugin imports this module
#: before capturing starts.
_STDERR = _saved_stderr()

_WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WATCHDOG.after_fork)


def set_call_timeout(seconds: float | None, report_to: str | None = None) -> None:
    """The deadline of every call into probes this process loads from now on without
    a ``timeout`` of their own (None: unbounded), and where the watchdog writes its
    one line when a call overruns it (a file, appended to; None: standard error)."""
    if seconds is not None and not seconds > 0:
        raise UsageError(f"probe call timeout must be positive, not {seconds}")
    _WATCHDOG.default_timeout = seconds
    _WATCHDOG.report_to = report_to


def _bounded(timeout: float | None, where: str, what: str, fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)``: a call into the probe, watched when it has a deadline."""
    if timeout is None:
        return fn(*args)
    wd = _WATCHDOG
    wd.ensure_running()
    ident = threading.get_ident()
    wd.calls[ident] = (time.monotonic() + timeout, timeout, where, what)
    try:
        return fn(*args)
    finally:
        wd.calls.pop(ident, None)


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
                 description: dict[str, Any], timeout: float | None = None) -> None:
        self.path = path
        #: the deadline of each call, seconds (None: unbounded); see :class:`_Watchdog`
        self.timeout = timeout
        self._where_text = f"probe {path}"
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
        self._fp = _FpWatcher.create()

    def __repr__(self) -> str:
        return f"<Probe {self.path} abi={self.abi_version} ops={len(self.ops)}>"

    def _where(self) -> str:
        return self._where_text

    def _op_id(self, op: Op) -> bytes:
        b = self._op_ids.get(op.id)
        if b is None:
            b = self._op_ids[op.id] = op.id.encode("ascii")
        return b

    def _raise_status(self, status: int, op: Op, n: int, in_bytes: int, out_bytes: int) -> None:
        raise status_error(self._where(), status, op, n, in_bytes, out_bytes)

    def _call(self, what: str, fn: Callable[..., _T], *args: Any) -> _T:
        fp = self._fp
        if fp is None:
            return _bounded(self.timeout, self._where(), what, fn, *args)
        fp.before(what)
        try:
            return _bounded(self.timeout, self._where(), what, fn, *args)
        finally:
            if what in ("fpenv_poison()", "fpenv_reset()"):
                fp.accept()  # the calls allowed to change it: watched from what they left
            else:
                fp.after(what)

    # ------------------------------------------ FP state, by teecert itself

    def fp_state(self, poison: int | None = None) -> FpWatch:
        """teecert's own reading of this thread's FP control state and of what changed
        it behind teecert; with ``poison``, first install the state before loading with
        those bits applied (through the accelerator, never the probe).  ProbeError when
        the accelerator is not built: teecert cannot then set or watch the state."""
        fp = self._fp
        if fp is None:
            raise ProbeError(f"{self._where()}: teecert cannot set or watch the FP state in "
                             "process: its accelerator teecert._accel is not built (reinstall teecert)")
        return fp.report(poison)

    def conformance(self, op: Op) -> Conformance:
        """The ABI's argument checks (:data:`CONFORMANCE_CASES`) with ``op``, run in a
        forked child so that a probe trusting a null pointer crashes only the child."""
        return _conformance_in_child(self._lib, op, self.timeout or 30.0)

    # ------------------------------------------------------------------ ops

    def describe(self) -> dict[str, Any]:
        """The self-description as the probe gives it now (``fpenv_at_entry`` is
        the caller's environment at this call)."""
        return _describe(self._lib, self._where(), self.timeout)

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
        fp = self._fp
        if fp is not None:
            fp.before(op.id)
        status = _bounded(self.timeout, self._where(), op.id,
                          self._run, self._op_id(op), inbuf, in_bytes, out, out_bytes, n)
        if fp is not None:
            fp.after(op.id)
        if status != OK:
            self._raise_status(status, op, n, in_bytes, out_bytes)
        return bytes(ffi.buffer(out))

    def run_into(self, op: Op, inbuf: Any, outbuf: Any, n: int) -> None:
        """The stream loop's call: ``n`` vectors from the native buffer ``inbuf`` into
        ``outbuf`` (cdata of at least ``n * op.in_bytes`` and ``n * op.out_bytes``
        bytes, e.g. from :meth:`new_buffer`), without copying."""
        in_bytes = n * op.in_bytes
        out_bytes = n * op.out_bytes
        fp = self._fp
        if fp is not None:
            fp.before(op.id)
        status = _bounded(self.timeout, self._where(), op.id,
                          self._run, self._op_id(op), inbuf, in_bytes, outbuf, out_bytes, n)
        if fp is not None:
            fp.after(op.id)
        if status != OK:
            self._raise_status(status, op, n, in_bytes, out_bytes)

    def run_values(self, op: Op, vecs: Sequence[tuple[int, ...]]) -> list[int]:
        """Run ``op`` over input tuples of bit patterns; return the output bit patterns."""
        return run_values_with(self.run, op, vecs)

    # ------------------------------------------------------- FP environment

    def fpenv_read(self) -> tuple[str, int]:
        """``(arch, raw control register bits)`` as the probe sees them on entry."""
        arch = ffi.new("char[16]")
        bits = int(self._call("fpenv_read()", self._lib.teecert_probe_fpenv_read, arch))
        return ffi.string(arch, 16).decode("ascii", "replace"), bits

    def fpenv_poison(self, bits: int) -> int:
        """Poison the calling thread's FP environment; returns the bits applied."""
        return int(self._call("fpenv_poison()", self._lib.teecert_probe_fpenv_poison, bits))

    def fpenv_reset(self) -> None:
        """Restore the default FP environment of the calling thread."""
        self._call("fpenv_reset()", self._lib.teecert_probe_fpenv_reset)

    # ------------------------------------------------------------- transcript

    def transcript(self) -> tuple[bytes, int]:
        """``(32-byte transcript hash, number of successful runs folded in)``."""
        out = ffi.new("uint8_t[32]")
        calls = ffi.new("uint64_t *")
        self._call("transcript()", self._lib.teecert_probe_transcript, out, calls)
        return bytes(ffi.buffer(out)), int(calls[0])

    def transcript_reset(self) -> None:
        self._call("transcript_reset()", self._lib.teecert_probe_transcript_reset)

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
            status = int(self._call("attest()", self._lib.teecert_probe_attest, rd, evidence, cap,
                                    length, fmt))
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


class _FpWatcher:
    """The in-process twin of the probe host's watch (native/host/probe_host.c): the
    accelerator reads this thread's FP control state before and after every call into
    the probe; a change teecert did not make is kept with the call that showed it,
    then undone."""

    def __init__(self, mod: Any) -> None:
        self._ffi, self._lib = mod.ffi, mod.lib
        arch = self._ffi.new("char[16]")
        self.base = int(self._lib.teecert_accel_fpenv(arch))
        self.arch = self._ffi.string(arch).decode("ascii", "replace")
        self.mask = int(self._lib.teecert_accel_fpenv_control_mask())
        self.expected = self.base
        self.calls = self.violations = self.kind = self.call_no = self.seen = self.want = 0
        self.what = ""
        self.applied = 0

    @classmethod
    def create(cls) -> _FpWatcher | None:
        mod = accel.load()
        if mod is None or not hasattr(mod.lib, "teecert_accel_fpenv_restore"):
            return None
        return cls(mod)

    def _check(self, what: str, kind: int) -> None:
        now = int(self._lib.teecert_accel_fpenv(self._ffi.NULL))
        if not (now ^ self.expected) & self.mask:
            return
        if self.violations == 0:
            self.kind, self.call_no, self.want, self.seen, self.what = kind, self.calls, self.expected, now, what
        self.violations += 1
        self._lib.teecert_accel_fpenv_restore(self.expected)

    def before(self, what: str) -> None:
        self.calls += 1
        self._check(what, 1)

    def after(self, what: str) -> None:
        self._check(what, 2)

    def accept(self) -> None:
        self.expected = int(self._lib.teecert_accel_fpenv(self._ffi.NULL))

    def report(self, poison: int | None) -> FpWatch:
        if poison is not None:
            applied = self._ffi.new("uint32_t *")
            self._lib.teecert_accel_fpenv_set(poison, self.base, applied)
            self.applied = int(applied[0])
            self.accept()
        now = int(self._lib.teecert_accel_fpenv(self._ffi.NULL))
        return FpWatch(self.arch, now, self.applied if poison is not None else 0, self.calls,
                       self.violations, self.kind, self.call_no, self.want, self.seen, self.what)


def _conformance_cases(lib: Any, op: Op) -> list[tuple[Any, ...]]:
    """The arguments of each of :data:`CONFORMANCE_CASES` (the probe host's twin)."""
    isz, osz = op.in_bytes, op.out_bytes
    room = 4 * max(isz, osz) + 4096
    inb, outb = ffi.new("unsigned char[]", room), ffi.new("unsigned char[]", room)
    opid, null = op.id.encode("ascii"), ffi.NULL
    huge = (2**64 - 1) // isz + 2
    wrap = 2**64
    return [
        (opid, null, 0, null, 0, 0),
        (opid, inb, isz, outb, 2 * osz, 2),
        (opid, inb, 2 * isz + 1, outb, 2 * osz, 2),
        (opid, inb, 2 * isz, outb, osz, 2),
        (opid, inb, 2 * isz, outb, 2 * osz + 1, 2),
        (opid, null, isz, outb, osz, 1),
        (opid, inb, isz, null, osz, 1),
        (null, inb, isz, outb, osz, 1),
        (b"teecert.no-such-op", inb, isz, outb, osz, 1),
        (opid, inb, (huge * isz) % wrap, outb, (huge * osz) % wrap, huge),
        (opid, inb, isz, outb, osz, 0),
    ]


def _conformance_in_child(lib: Any, op: Op, timeout: float) -> Conformance:
    cases = _conformance_cases(lib, op)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: only cffi calls and raw writes, then _exit
        try:
            # a crash here is the finding, reported by the parent: no interpreter dump
            faulthandler.disable()
            os.close(rfd)
            for args in cases:
                os.write(wfd, struct.pack("<i", int(lib.teecert_probe_run(*args))))
        finally:
            os._exit(0)
    os.close(wfd)
    statuses: list[int] = []
    outcome, sig = 0, 0
    deadline = time.monotonic() + timeout
    buf = b""
    try:
        while len(statuses) < len(cases):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([rfd], [], [], left)[0]:
                outcome = 2
                break
            chunk = os.read(rfd, 4096)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 4:
                statuses.append(struct.unpack("<i", buf[:4])[0])
                buf = buf[4:]
    finally:
        os.close(rfd)
        if outcome == 2:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if outcome == 0 and len(statuses) < len(cases):
        if os.WIFSIGNALED(status):
            outcome, sig = 1, os.WTERMSIG(status)
        else:
            outcome = 2
    return Conformance(op.id, tuple(statuses), outcome, sig)


#: The calls into a library while it is loaded, by the step names :func:`load_probe`
#: announces: the loader (the library's constructors run in dlopen), its ABI version,
#: its self-description.
_LOAD_CALLS = {"dlopen": "dlopen()", "abi": "abi_version()", "describe": "describe()"}


def _describe(lib: Any, where: str, timeout: float | None) -> dict[str, Any]:
    ptr = _bounded(timeout, where, _LOAD_CALLS["describe"], lib.teecert_probe_describe)
    if ptr == ffi.NULL:
        raise ProbeError(f"{where}: teecert_probe_describe() returned NULL")
    raw = ffi.string(ptr, MAX_DESCRIPTION)
    if len(raw) >= MAX_DESCRIPTION:
        raise ProbeError(f"{where}: self-description longer than {MAX_DESCRIPTION} bytes "
                         "(or not NUL-terminated)")
    return parse_description(raw, where)


@functools.cache
def _libc_dlopen() -> tuple[Any, Any] | None:
    """libc's dlopen, dlerror and dlclose, called through cffi (None where the
    process has none to call)."""
    dl = cffi.FFI()
    dl.cdef("void *dlopen(const char *file, int mode); char *dlerror(void); int dlclose(void *handle);")
    try:
        libc = dl.dlopen(None)
        for name in ("dlopen", "dlerror", "dlclose"):
            getattr(libc, name)  # every one must resolve
    except (OSError, AttributeError):
        return None
    return dl, libc


def _load_bounded(resolved: str, where: str, timeout: float) -> Any:
    """``ffi.dlopen(resolved)`` with its constructors bounded by ``timeout``.

    cffi's loader (and ctypes') keeps the GIL while the library's constructors run,
    so the watchdog thread could not act on one that never returns; a plain cffi
    call releases it.  So libc's dlopen() is called first, under the watchdog, and
    cffi's loader then gets the library already loaded; the first handle is closed
    once cffi holds its own, which keeps the library loaded."""
    found = _libc_dlopen()
    if found is None:
        return ffi.dlopen(resolved, ffi.RTLD_NOW | ffi.RTLD_LOCAL)
    dl, libc = found
    handle = _bounded(timeout, where, _LOAD_CALLS["dlopen"], libc.dlopen, resolved.encode(),
                      ffi.RTLD_NOW | ffi.RTLD_LOCAL)
    if handle == dl.NULL:
        err = libc.dlerror()
        msg = dl.string(err).decode("utf-8", "replace") if err != dl.NULL else ""
        raise OSError((msg.splitlines() or ["dlopen() failed"])[0])
    try:
        return ffi.dlopen(resolved, ffi.RTLD_NOW | ffi.RTLD_LOCAL)
    finally:
        libc.dlclose(handle)


def load_probe(path: str | os.PathLike[str], timeout: float | None = None,
               step: Callable[[str], object] | None = None) -> Probe:
    """Load and check a probe library; raises :class:`ProbeError` naming the path.

    ``timeout`` bounds every call into the library, loading included (default: the
    one :func:`set_call_timeout` set, else unbounded); ``step`` is told each call into
    the library (a key of ``_LOAD_CALLS``) before it is made."""
    p = Path(path)
    where = f"probe {p}"
    if timeout is None:
        timeout = _WATCHDOG.default_timeout
    elif not timeout > 0:
        raise UsageError(f"probe call timeout must be positive, not {timeout}")
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
    if step is not None:
        step("dlopen")
    try:
        # An absolute path, so the dynamic loader does no library search.
        lib = (ffi.dlopen(resolved, ffi.RTLD_NOW | ffi.RTLD_LOCAL) if timeout is None
               else _load_bounded(resolved, where, timeout))
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
    if step is not None:
        step("abi")
    abi = int(_bounded(timeout, where, _LOAD_CALLS["abi"], lib.teecert_probe_abi_version))
    if abi != ABI_VERSION:
        raise ProbeError(f"{where}: exports ABI version {abi}, this teecert speaks {ABI_VERSION}")
    if step is not None:
        step("describe")
    description = _describe(lib, where, timeout)
    return Probe(p, lib, digest, abi, description, timeout)


# ------------------------------------------------------------ in a child process


@dataclass(frozen=True)
class ProbeInfo:
    """What :func:`describe_in_child` learnt of a library that loaded and checked."""

    path: Path
    digest: str
    abi_version: int
    description: dict[str, Any]


#: Longest wait for the child of :func:`describe_in_child` to start Python and
#: import this module, or to exit once it answered: generous, since neither runs any
#: of the probe's code and a loaded machine can be slow.
CHILD_GRACE = 60.0

_CHILD_CODE = f"import sys; from {__name__} import _child_main; _child_main(sys.argv[1])"


def _child_main(path: str) -> None:
    """The child of :func:`describe_in_child`: load ``path`` and tell the parent, one
    line at a time on the original standard output, each call before it is made
    (``step NAME``), then ``ok INFO`` or ``error MESSAGE`` (JSON)."""
    out = os.dup(1)
    os.dup2(2, 1)  # whatever the library prints goes to standard error, not to the parent

    def tell(line: str) -> None:
        data = (line + "\n").encode("utf-8")
        while data:
            data = data[os.write(out, data):]

    try:
        probe = load_probe(path, step=lambda name: tell(f"step {name}"))
    except ProbeError as exc:
        tell("error " + json.dumps(str(exc)))
        os._exit(1)
    tell("ok " + json.dumps({"digest": probe.digest, "abi_version": probe.abi_version,
                             "description": probe.description}))
    # The library's destructors are not part of the check, and must not decide it.
    os._exit(0)


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _stderr_tail(f: Any) -> str:
    try:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 2000))
        lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except (OSError, ValueError):
        return ""
    return lines[-1][:300] if lines else ""


def describe_in_child(path: str | os.PathLike[str], timeout: float) -> ProbeInfo:
    """Load and check the library at ``path`` as :func:`load_probe` does, in a child
    process, so that the caller never runs the probe's code: a library that crashes,
    exits or hangs while it is loaded, asked its ABI version or its self-description
    is one :class:`ProbeError` line (``probe LIB: describe() crashed (SIGSEGV)``,
    ``probe LIB: dlopen() did not return within 30 s``).  ``timeout`` bounds each
    of those calls, measured from the moment the child starts it."""
    p = Path(path)
    where = f"probe {p}"
    if not timeout > 0:
        raise UsageError(f"probe call timeout must be positive, not {timeout}")
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen([sys.executable, "-c", _CHILD_CODE, str(p)], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=err)
        except OSError as exc:
            raise ProbeError(f"{where}: cannot start a process to load it ({exc.strerror or exc})") from None
        assert proc.stdout is not None
        try:
            step, answer, overdue = _follow(proc.stdout.fileno(), timeout, where)
        finally:
            if proc.poll() is None:
                proc.kill()
            code = proc.wait()
            proc.stdout.close()
        call = _LOAD_CALLS.get(step or "", "")
        if overdue:
            if call:
                raise ProbeError(f"{where}: {call} did not return within {timeout:g} s")
            raise ProbeError(f"{where}: the process checking it did not answer within {CHILD_GRACE:g} s")
        if answer is not None:
            kind, body = answer
            if kind == "error" or not isinstance(body, dict):
                raise ProbeError(str(body))
            return ProbeInfo(p, str(body["digest"]), int(body["abi_version"]), body["description"])
        if code < 0:
            raise ProbeError(f"{where}: {call or 'loading'} crashed ({_signal_name(-code)})")
        tail = _stderr_tail(err)
        raise ProbeError(f"{where}: the process checking it exited with status {code}"
                         + (f" during {call}" if call else "") + (f" ({tail})" if tail else ""))


def _follow(fd: int, timeout: float, where: str) -> tuple[str | None, tuple[str, Any] | None, bool]:
    """Read the child's lines until it closes its end: ``(last step announced, the
    answer, whether a deadline passed)``.  Each step has ``timeout`` from its
    announcement; the start and the exit after the answer have :data:`CHILD_GRACE`."""
    buf = b""
    step: str | None = None
    answer: tuple[str, Any] | None = None
    deadline = time.monotonic() + CHILD_GRACE
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return step, answer, answer is None
        ready, _w, _x = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return step, answer, False
        buf += chunk
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            word, _sp, rest = raw.decode("utf-8", "replace").partition(" ")
            if word == "step":
                step = rest
                deadline = time.monotonic() + timeout
            elif word in ("ok", "error") and answer is None:
                try:
                    answer = (word, json.loads(rest))
                except ValueError:
                    answer = ("error", f"{where}: unreadable answer from the process checking it")
                deadline = time.monotonic() + CHILD_GRACE
