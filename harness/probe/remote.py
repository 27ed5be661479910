"""Reach a probe through the probe host: a child process (stdio) or a socket.

:class:`RemoteProbe` has the public surface of :class:`teecert.probe.library.Probe`
(``path``, ``digest``, ``abi_version``, ``description``, ``ops``, ``run``,
``run_into``, ``new_buffer``, ``run_values``, ``fpenv_*``, ``transcript*``,
``attest``), so suites, the session and the stream loop do not care where the
probe runs.  The wire protocol is ``docs/wire-protocol.md``; the host is
``native/host/probe_host.c``.

Authentication and the host key: a client that holds the host's token answers its
challenge before HELLO (``hostkey.auth_proof``); the HELLO reply carries the host's
Ed25519 public key and the facts of its machine (``host_public_key``,
``host_facts``); transcripts come back signed by that key (``host_signature``), and
evidence commits to it (``hostkey.wrap_report_data``, ``attested_report_data``).

Isolation: every call has a deadline (``timeout`` seconds).  A host that dies, hangs,
closes the stream, or answers with a malformed, short or oversized frame ends the
call with a :class:`ProbeError` of one line naming the op and the batch (``probe
crashed with SIGSEGV during f64.div.rne (batch of 65536)``); the connection is torn
down (a child is killed and reaped) and the next call starts a fresh one.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import dataclasses
import fcntl
import hashlib
import json
import mmap
import os
import select
import shlex
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import NotAuthentic, ProbeError, UnsupportedOp, UsageError
from ..ops import Op
from . import hostkey
from .build import host_path, reference_probe_path
from .library import (
    ABI_VERSION,
    CONFORMANCE_CASES,
    E_ARGS,
    E_INTERNAL,
    E_UNSUPPORTED,
    MAX_EVIDENCE,
    OK,
    Conformance,
    FpWatch,
    ffi,
    load_probe,
    parse_description,
    report_data_bytes,
    run_values_with,
    status_error,
)

#: The wire protocol version this teecert speaks (shared memory, RUN_SHM); it falls
#: back to the older one, inline only, for a host that refuses it.
PROTOCOL_VERSION = 3
PROTOCOL_INLINE = 2

#: Largest frame (type + payload) either side sends or accepts.
MAX_FRAME = 64 << 20

#: Default per-call deadline, seconds.
DEFAULT_TIMEOUT = 30.0

HELLO, RUN, FPENV_READ, FPENV_POISON, FPENV_RESET = 0x0001, 0x0002, 0x0003, 0x0004, 0x0005
TRANSCRIPT, TRANSCRIPT_RESET, ATTEST, DESCRIBE, BYE = 0x0006, 0x0007, 0x0008, 0x0009, 0x000A
CHALLENGE = 0x000B
SHM_ATTACH, RUN_SHM, RUN_GEN = 0x0030, 0x0031, 0x0032
#: teecert's own FP state (set and watched by the host) and the ABI's argument checks
FPSTATE, CONFORM = 0x0020, 0x0021
REPLY = 0x8000
ERROR = 0xFFFF

#: Codes of an ERROR frame.
ERROR_CODES = {1: "malformed", 2: "unknown-type", 3: "too-large", 4: "version", 5: "state",
               6: "crashed", 7: "internal", 8: "auth", 9: "busy"}
#: ERROR codes after which the host has closed the connection.
_CLOSING_CODES = (3, 4, 5, 8, 9)
#: ERROR codes that refuse the client itself (authentication, the worker cap).
_REFUSING_CODES = (8, 9)

#: Flags of the HELLO request and reply, and of the ATTEST reply.
HELLO_AUTH_PROOF = 1
#: HELLO request: the client would attach shared memory; reply: SHM_ATTACH is served.
HELLO_WANT_SHM = HELLO_SHM = 0x100
#: HELLO reply: RUN_GEN is served too (the host makes a stream's inputs itself)
HELLO_GEN = 0x200
HELLO_LIBRARY_DIGEST, HELLO_LOAD_FPENV, HELLO_HOST_KEY, HELLO_HOST_FACTS = 1, 2, 4, 8
ATTEST_WRAPPED = 1
_ATTEST_HEAD = 96

_NAMES = {HELLO: "HELLO", RUN: "RUN", FPENV_READ: "FPENV_READ", FPENV_POISON: "FPENV_POISON",
          FPENV_RESET: "FPENV_RESET", TRANSCRIPT: "TRANSCRIPT", TRANSCRIPT_RESET: "TRANSCRIPT_RESET",
          ATTEST: "ATTEST", DESCRIBE: "DESCRIBE", BYE: "BYE", CHALLENGE: "CHALLENGE",
          FPSTATE: "FPSTATE", CONFORM: "CONFORM", SHM_ATTACH: "SHM_ATTACH", RUN_SHM: "RUN_SHM",
          RUN_GEN: "RUN_GEN",
          ERROR: "ERROR"}

_HDR = struct.Struct("<IH")
_RUN_ITEM = struct.Struct("<IIQQQ")
_RUN_REPLY_HEAD = struct.Struct("<II")
_RUN_REPLY_ITEM = struct.Struct("<iIQ")
_SHM_ITEM = struct.Struct("<IIQQQQQ")
#: RUN_GEN's generator parameters per item (docs/wire-protocol.md)
GEN_PARAMS = 14
_GEN_ITEM = struct.Struct(f"<IIQQQQQ{GEN_PARAMS}i")

#: RUN_GEN's generators (docs/wire-protocol.md): teecert-mix-v1, teecert-libm-v1,
#: teecert-data-v1
GEN_MIX, GEN_LIBM, GEN_DATA = 1, 2, 3
#: RUN_GEN's operands per vector of a float stream, at most (a libm domain each)
GEN_MAX_ARITY = 4


@dataclasses.dataclass(frozen=True)
class GenSpec:
    """A stream as RUN_GEN names it: its generator, state ``s0`` and parameters
    (``(arity, width)`` of a teecert-mix-v1 stream; the same and ``(lo, hi, signed)``
    per operand for teecert-libm-v1; ``(rule, width, arg)`` for teecert-data-v1)."""

    generator: int
    s0: int
    params: tuple[int, ...]

    def words(self) -> list[int]:
        if len(self.params) > GEN_PARAMS:
            raise UsageError(f"RUN_GEN takes at most {GEN_PARAMS} generator parameters, not {len(self.params)}")
        return [int(x) for x in self.params] + [0] * (GEN_PARAMS - len(self.params))

#: Bytes of the shared-memory region of a child-process or Unix-socket probe: a
#: sealed memfd, sparse, so only what the stream loop touches is ever allocated.
SHM_BYTES = 32 << 20
#: The fd field of SHM_ATTACH when the descriptor travels with the frame (SCM_RIGHTS).
SHM_FD_WITH_FRAME = 0xFFFFFFFF


class SharedRegion:
    """A memfd shared with probe hosts: created, sized and sealed against shrinking
    and growing (so no host can be made to touch a page past its end), then mapped.
    The harness writes inputs and reads outputs in place (docs/wire-protocol.md,
    "Shared memory"); it outlives host restarts and is handed to each new host."""

    def __init__(self, size: int = SHM_BYTES) -> None:
        self.size = size
        self.fd = os.memfd_create("teecert-shm", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            os.ftruncate(self.fd, size)
            fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS,
                        fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
            self.map = mmap.mmap(self.fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except BaseException:
            os.close(self.fd)
            raise
        self.view = memoryview(self.map)
        #: the region as a native pointer, for the C generator and cffi
        self.ptr = ffi.from_buffer("unsigned char[]", self.map, require_writable=True)
        #: bytes from the start that may have been written (by the harness or a host):
        #: what :meth:`scrub` clears
        self.used = 0

    def lend(self, end: int) -> None:
        """Note that bytes up to ``end`` are being written (inputs) or lent to a host
        (outputs)."""
        self.used = max(self.used, min(end, self.size))

    def scrub(self) -> None:
        """Zero every byte that may have been written, so the next session finds what
        a fresh region holds: a host that answers without writing its outputs must
        leave zeros, never another session's outputs of the same chunk."""
        if self.used:
            ctypes.memset(int(ffi.cast("uintptr_t", self.ptr)), 0, self.used)
            self.used = 0

    @staticmethod
    def create() -> SharedRegion | None:
        """A region (one a finished child session gave back, when there is one), or
        None where this system has no sealable memfd (the inline path is used then)."""
        with _POOL_LOCK:
            if _POOL:
                return _POOL.pop()
        if not hasattr(os, "memfd_create") or not hasattr(fcntl, "F_ADD_SEALS"):
            return None
        try:
            return SharedRegion()
        except OSError:
            return None

    def give_back(self) -> None:
        """Keep this region, scrubbed, for the next child session (or close it when
        enough are kept).  Only for a region no live process maps any more."""
        self.scrub()
        with _POOL_LOCK:
            if len(_POOL) < POOL_MAX and self.fd >= 0:
                _POOL.append(self)
                return
        self.close()

    def close(self) -> None:
        if self.fd < 0:
            return
        with contextlib.suppress(Exception):
            ffi.release(self.ptr)
        with contextlib.suppress(Exception):
            self.view.release()
        with contextlib.suppress(Exception):
            self.map.close()
        os.close(self.fd)
        self.fd = -1

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


#: Regions of child-process sessions that ended cleanly, for the next :func:`spawn`.
#: The kernel allocates and zeroes a fresh region's pages as they are first touched,
#: some 4,000 of them for a stress process (about 20 ms, more than that process's own
#: work on the harness's side); a kept region costs a memset of what was used.  A
#: region is kept only once its host has exited and its process group is gone, and
#: each stress process checks the host's transcript against the outputs it read, so
#: a process that kept the region mapped could not pass other sessions' outputs off.
_POOL: list[SharedRegion] = []
_POOL_LOCK = threading.Lock()
#: at most this many kept regions (the threads perturbation runs 2 per core at once)
POOL_MAX = 4


#: Host facts (docs/wire-protocol.md, "Host facts"): text fields, with the longest
#: value accepted; each must be free of control characters.
_FACT_TEXT = {"arch": 64, "cpu_model": 256, "microcode": 64, "kernel": 256, "kernel_version": 512,
              "libc": 128, "libc_name": 64, "libc_version": 64, "cpu_vendor": 128,
              "cpu_family": 64, "cpu_model_number": 64, "cpu_stepping": 64, "kernel_release": 256}
_FACT_HEX64 = ("cpu_flags_digest", "hostname_digest")
_FACT_COUNTS = ("cores_logical", "cores_physical")
_MAX_FACTS = 1 << 20


def _no_controls(text: str) -> bool:
    return not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)


def _no_floats(text: str) -> Any:
    raise ValueError(f"a number with a fraction or exponent ({text})")


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def parse_host_facts(raw: bytes, where: str) -> dict[str, Any]:
    """The facts of the probe host's machine from its HELLO reply, checked field by
    field (types, lengths, no control characters): a one-line ProbeError naming the
    field otherwise.  Fields this teecert does not know are dropped."""
    if len(raw) > _MAX_FACTS:
        raise ProbeError(f"{where}: host facts of {len(raw)} bytes (limit {_MAX_FACTS})")
    try:
        doc = json.loads(raw.decode("utf-8"), parse_float=_no_floats, parse_constant=_no_floats,
                         object_pairs_hook=_unique)
    except UnicodeDecodeError as exc:
        raise ProbeError(f"{where}: host facts are not UTF-8 (byte {exc.start})") from None
    except (ValueError, RecursionError) as exc:
        raise ProbeError(f"{where}: host facts are not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(doc, dict):
        raise ProbeError(f"{where}: host facts are a JSON {type(doc).__name__}, not an object")

    def bad(field: str, why: str) -> ProbeError:
        return ProbeError(f"{where}: host fact {field} {why}")

    def text(field: str, value: Any, limit: int) -> str:
        if not isinstance(value, str):
            raise bad(field, f"is a {type(value).__name__}, not a string")
        if len(value) > limit:
            raise bad(field, f"has {len(value)} characters (limit {limit})")
        if not _no_controls(value):
            raise bad(field, "contains control characters")
        return value

    out: dict[str, Any] = {}
    for field, limit in _FACT_TEXT.items():
        out[field] = text(field, doc.get(field), limit)
    for field in _FACT_HEX64:
        value = text(field, doc.get(field), 64)
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise bad(field, "is not 64 lower-case hex digits")
        out[field] = value
    for field in _FACT_COUNTS:
        count = doc.get(field)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1 << 20:
            raise bad(field, "is not a count")
        out[field] = count
    memory = text("memory_bytes", doc.get("memory_bytes"), 24)
    if not memory.isdigit() or not memory.isascii():
        raise bad("memory_bytes", "is not a decimal number of bytes")
    out["memory_bytes"] = memory
    flags = doc.get("cpu_flags")
    if not isinstance(flags, list) or len(flags) > 4096:
        raise bad("cpu_flags", "is not a list of at most 4096 flags")
    out["cpu_flags"] = [text("cpu_flags", f, 128) for f in flags]
    variables = doc.get("variables")
    if not isinstance(variables, dict) or len(variables) > 64:
        raise bad("variables", "is not an object of at most 64 variables")
    out["variables"] = {text("variables", k, 64): text(f"variables.{k}", v, 4096)
                        for k, v in sorted(variables.items())}
    proc = doc.get("process")
    if proc is not None:
        if not isinstance(proc, dict):
            raise bad("process", "is not an object")
        affinity = proc.get("affinity")
        if (not isinstance(affinity, list) or len(affinity) > 65536
                or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < 1 << 20
                           for c in affinity)):
            raise bad("process.affinity", "is not a list of CPU numbers")
        locked = proc.get("memory_locked")
        if not isinstance(locked, bool):
            raise bad("process.memory_locked", "is not a boolean")
        rlimit = proc.get("rlimit_memlock")
        if not isinstance(rlimit, dict) or set(rlimit) != {"soft", "hard"}:
            raise bad("process.rlimit_memlock", "is not {soft, hard}")
        for k in ("soft", "hard"):
            v = text(f"process.rlimit_memlock.{k}", rlimit[k], 24)
            if v != "unlimited" and not (v.isdigit() and v.isascii()):
                raise bad(f"process.rlimit_memlock.{k}", "is not a number of bytes or 'unlimited'")
        out["process"] = {"name": text("process.name", proc.get("name"), 256),
                          "affinity": sorted(affinity), "memory_locked": locked,
                          "rlimit_memlock": {"soft": rlimit["soft"], "hard": rlimit["hard"]}}
    return out


def _pad8(n: int) -> int:
    return (n + 7) & ~7


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


class _Failure(Exception):
    """Internal: the connection is unusable; ``reason`` says why (no op yet)."""

    def __init__(self, reason: str, kill: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kill = kill


class _OldHost(Exception):
    """Internal: the host refused this protocol version (it speaks an older one)."""


class _HostError(Exception):
    """Internal: the host answered with an ERROR frame."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --------------------------------------------------------------------- channels


class _Channel:
    """A byte stream to one host session, with deadlines on every read and write."""

    transport = "?"
    #: how a shared region reaches the host: "inherited" (a child's descriptor,
    #: named by number), "scm" (passed over a Unix socket), None (inline only)
    shm_how: str | None = None
    #: the region attached to this session (after SHM_ATTACH succeeded)
    shm: SharedRegion | None = None

    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd, self.wfd = rfd, wfd
        os.set_blocking(rfd, False)
        if wfd != rfd:
            os.set_blocking(wfd, False)

    def _wait(self, fd: int, event: int, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        poller = select.poll()
        poller.register(fd, event)
        if not poller.poll(left * 1000):
            raise TimeoutError

    def send(self, parts: Sequence[Any], deadline: float) -> None:
        views = [memoryview(p).cast("B") for p in parts if len(memoryview(p).cast("B"))]
        while views:
            try:
                k = os.writev(self.wfd, views[:64])
            except BlockingIOError:
                self._wait(self.wfd, select.POLLOUT, deadline)
                continue
            except (BrokenPipeError, ConnectionError):
                raise EOFError from None
            while k and views:
                if k >= len(views[0]):
                    k -= len(views[0])
                    views.pop(0)
                else:
                    views[0] = views[0][k:]
                    k = 0

    def send_attach(self, region: SharedRegion, deadline: float) -> None:
        """Send SHM_ATTACH for ``region`` the way this channel hands descriptors over."""
        fd = region.fd if self.shm_how == "inherited" else SHM_FD_WITH_FRAME
        self.send([_HDR.pack(18, SHM_ATTACH), struct.pack("<IIQ", fd, 0, region.size)], deadline)

    def recv_into(self, view: memoryview, deadline: float) -> None:
        got, n = 0, len(view)
        while got < n:
            try:
                k = os.readv(self.rfd, [view[got:]])
            except BlockingIOError:
                self._wait(self.rfd, select.POLLIN, deadline)
                continue
            except ConnectionError:
                raise EOFError from None
            if k == 0:
                raise EOFError(got)
            got += k

    def recv(self, n: int, deadline: float) -> bytearray:
        buf = bytearray(n)
        self.recv_into(memoryview(buf), deadline)
        return buf

    def diagnose(self, timed_out: bool) -> str | None:
        """Why the peer went away, if the channel can tell (a child's exit)."""
        return None

    def close(self, kill: bool = False) -> None:
        raise NotImplementedError


class _ChildChannel(_Channel):
    transport = "child-process"

    def __init__(self, cmd: Sequence[str], env: Mapping[str, str] | None = None,
                 region: SharedRegion | None = None) -> None:
        self.cmd = list(cmd)
        # The region's descriptor is inherited under its own number, which SHM_ATTACH names.
        self.shm_how = "inherited" if region is not None else None
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._stderr, start_new_session=True,
                                         pass_fds=(region.fd,) if region is not None else (),
                                         env=None if env is None else {**os.environ, **env})
        except OSError as exc:
            self._stderr.close()
            raise ProbeError(f"probe host {shlex.join(self.cmd)}: cannot start "
                             f"({exc.strerror or exc})") from None
        assert self.proc.stdin is not None and self.proc.stdout is not None
        for f in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError, AttributeError):  # bigger pipes: fewer wakeups
                fcntl.fcntl(f.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
        super().__init__(self.proc.stdout.fileno(), self.proc.stdin.fileno())

    def _stderr_tail(self) -> str:
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - 2000))
            lines = [ln.strip() for ln in self._stderr.read().decode("utf-8", "replace").splitlines()
                     if ln.strip()]
        except (OSError, ValueError):
            return ""
        return lines[-1][:300] if lines else ""

    def diagnose(self, timed_out: bool) -> str | None:
        if timed_out:
            return None
        try:
            code = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            return None
        if code < 0:
            return f"probe crashed with {_signal_name(-code)}"
        tail = self._stderr_tail()
        return f"probe host exited with status {code}" + (f" ({tail})" if tail else "")

    def exited_cleanly(self, within: float = 2.0) -> bool:
        """Whether the child exits with status 0 within ``within`` seconds; if so,
        whatever is left in its process group is killed, while the child, not yet
        reaped, still holds the group's id (so no other group can have taken it)."""
        deadline = time.monotonic() + within
        while True:
            try:
                info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except (ChildProcessError, OSError):
                return False
            if info is not None:
                break
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        if info.si_code != os.CLD_EXITED or info.si_status != 0:
            return False
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return True

    def close(self, kill: bool = False) -> None:
        for f in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if f is not None:
                    f.close()
        if kill and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                self.proc.kill()
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                self.proc.kill()
            self.proc.wait()
        self._stderr.close()


class _SocketChannel(_Channel):
    def __init__(self, sock: socket.socket, transport: str) -> None:
        self.sock = sock
        self.transport = transport
        self.shm_how = "scm" if sock.family == socket.AF_UNIX else None
        super().__init__(sock.fileno(), sock.fileno())

    def send_attach(self, region: SharedRegion, deadline: float) -> None:
        if self.shm_how != "scm":
            super().send_attach(region, deadline)
            return
        frame = _HDR.pack(18, SHM_ATTACH) + struct.pack("<IIQ", SHM_FD_WITH_FRAME, 0, region.size)
        while True:  # the descriptor rides on the frame's first bytes (SCM_RIGHTS)
            try:
                k = socket.send_fds(self.sock, [frame], [region.fd])
                break
            except BlockingIOError:
                self._wait(self.wfd, select.POLLOUT, deadline)
            except (BrokenPipeError, ConnectionError):
                raise EOFError from None
        if k < len(frame):
            self.send([frame[k:]], deadline)

    def close(self, kill: bool = False) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _parse_url(url: str) -> tuple[str, Any, int]:
    """``(transport, address, family)`` of ``tcp://HOST:PORT``, ``unix:PATH`` or
    ``vsock://CID:PORT``."""
    if url.startswith("tcp://"):
        rest = url[6:].rstrip("/")
        host, sep, port = rest.rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise UsageError(f"probe URL {url}: expected tcp://HOST:PORT")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        return "tcp", (host, int(port)), socket.AF_UNSPEC
    if url.startswith("unix:"):
        path = url[5:]
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise UsageError(f"probe URL {url}: expected unix:PATH")
        return "unix", path, socket.AF_UNIX
    if url.startswith("vsock://"):
        cid, sep, port = url[8:].rstrip("/").partition(":")
        if not sep or not cid.isdigit() or not port.isdigit():
            raise UsageError(f"probe URL {url}: expected vsock://CID:PORT")
        fam = getattr(socket, "AF_VSOCK", None)
        if fam is None:
            raise UsageError(f"probe URL {url}: this Python has no AF_VSOCK sockets")
        return "vsock", (int(cid), int(port)), int(fam)
    raise UsageError(f"probe URL {url}: expected tcp://HOST:PORT, unix:PATH or vsock://CID:PORT")


def _open_socket(url: str, timeout: float) -> _SocketChannel:
    transport, addr, fam = _parse_url(url)
    try:
        if transport == "tcp":
            sock = socket.create_connection(addr, timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            sock = socket.socket(fam, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(addr)
            except BaseException:
                sock.close()
                raise
    except OSError as exc:
        raise ProbeError(f"probe host {url}: cannot connect ({exc.strerror or exc})") from None
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
    return _SocketChannel(sock, transport)


# ------------------------------------------------------------------ the probe


class RemoteProbe:
    """A probe served by ``teecert-probe-host``.  Create it with :func:`spawn`,
    :func:`connect` or :func:`open_probe`."""

    def __init__(self, opener: Any, endpoint: str, transport: str,
                 timeout: float = DEFAULT_TIMEOUT, token: bytes | None = None,
                 region: SharedRegion | None = None) -> None:
        if not timeout > 0:
            raise UsageError(f"probe call timeout must be positive, not {timeout}")
        self._token = token
        #: the shared-memory region offered to every session (None: inline only)
        self._region = region
        #: the protocol version asked for (drops to PROTOCOL_INLINE for an older host)
        self._version = PROTOCOL_VERSION
        #: why a host that offered shared memory did not attach it (inline then)
        self.shm_refusal: str | None = None
        #: RUN_SHM and RUN_GEN requests sent and not yet answered: (message type, op,
        #: items (the vector count last), what, sent at)
        self._inflight: deque[tuple[int, Op, list[tuple[int, int, int]], str, float]] = deque()
        self._last_reply = 0.0
        #: the host's signature of the last transcript read, and the key that made it
        self.host_signature: bytes | None = None
        self.host_signature_key: bytes | None = None
        #: what the host attested for the last ``attest`` call (the client's report
        #: data wrapped with the host key, ``hostkey.wrap_report_data``)
        self.attested_report_data: bytes | None = None
        self._opener = opener
        self.endpoint = endpoint
        self.transport = transport
        self.timeout = float(timeout)
        self._chan: _Channel | None = None
        self.restarts = 0
        self._hello: dict[str, Any] | None = None
        self._connect("handshake")
        hello = self._hello
        assert hello is not None
        self.path = Path(hello["path"]) if hello["path"] else Path(endpoint)
        self.abi_version: int = hello["abi"]
        self.description: dict[str, Any] = hello["description"]
        self.library_digest: str | None = hello["library_digest"]
        #: the host's raw FP control state (arch, bits) just before and after it
        #: loaded the library, or None from a host that does not report it
        self.load_fpenv: tuple[tuple[str, int], tuple[str, int]] | None = hello["load_fpenv"]
        self.digest: str = self.library_digest or hashlib.sha256(hello["raw_description"]).hexdigest()
        #: the host's raw Ed25519 public key (None: a host built without one)
        self.host_public_key: bytes | None = hello["host_key"]
        #: the facts of the machine the host runs on, as the harness's fingerprint
        #: names them (None: a host that does not report them)
        self.host_facts: dict[str, Any] | None = hello["host_facts"]
        ops = self.description.get("ops")
        self.ops: frozenset[str] = frozenset(
            o for o in (ops if isinstance(ops, list) else []) if isinstance(o, str))

    def __repr__(self) -> str:
        return f"<RemoteProbe {self.endpoint} via {self.transport} abi={self.abi_version}>"

    @property
    def child_pid(self) -> int | None:
        """The process id of the probe host child (None for a socket transport, or
        between a failure and the restart)."""
        chan = self._chan
        return chan.proc.pid if isinstance(chan, _ChildChannel) else None

    def __enter__(self) -> RemoteProbe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _where(self) -> str:
        return f"probe host {self.endpoint}"

    # ------------------------------------------------------------ connection

    def _connect(self, what: str) -> _Channel:
        chan: _Channel = self._opener()
        self._chan = chan
        try:
            try:
                hello = self._hello_exchange(chan, what)
            except _OldHost:
                # An older host closed after ERROR VERSION: ask again, inline only.
                self._drop(kill=True)
                self._version = PROTOCOL_INLINE
                chan = self._opener()
                self._chan = chan
                hello = self._hello_exchange(chan, what)
            if hello["shm"]:
                self._attach(chan, what)
        except BaseException:
            self._drop(kill=True)
            raise
        if self._hello is not None and (hello["abi"], hello["library_digest"]) != (
                self._hello["abi"], self._hello["library_digest"]):
            self._drop(kill=True)
            raise ProbeError(f"{self._where()}: the restarted host serves a different probe "
                             f"(library digest {hello['library_digest']}, was "
                             f"{self._hello['library_digest']})")
        self._hello = hello
        # A restarted child-process host has a key of its own; a socket host keeps one.
        self.host_public_key = hello["host_key"]
        return chan

    def _hello_exchange(self, chan: _Channel, what: str) -> dict[str, Any]:
        where = self._where()
        version = self._version
        want_shm = HELLO_WANT_SHM if (version >= 3 and self._region is not None
                                      and chan.shm_how is not None) else 0
        request = [struct.pack("<II", version, want_shm)]
        if self._token is not None:
            body = self._roundtrip_on(chan, CHALLENGE, [], what)
            if len(body) != 40:
                raise self._fail(_Failure(f"CHALLENGE reply of {len(body)} bytes, need 40"), what)
            proof = hostkey.auth_proof(self._token, bytes(body[:32]))
            request = [struct.pack("<II", version, HELLO_AUTH_PROOF | want_shm), proof]
        try:
            body = self._roundtrip_on(chan, HELLO, request, what, host_errors=True)
        except _HostError as exc:
            # A protocol-2 host refuses version 3 (VERSION) or, first, the shared-memory
            # flag it does not know (MALFORMED); either way it has closed.
            if exc.code in (1, 4) and version > PROTOCOL_INLINE:
                raise _OldHost from None
            raise self._host_error(exc, what) from None
        if len(body) < 56:
            raise self._fail(_Failure(f"HELLO reply of {len(body)} bytes, need at least 56"), what)
        proto, abi, max_frame, flags = struct.unpack_from("<IIII", body, 0)
        digest = bytes(body[16:48])
        dlen, plen = struct.unpack_from("<II", body, 48)
        tail = 56 + dlen + plen
        # bit 1: the host's FP state around dlopen(); bit 2: its public key; bit 3:
        # u32 length and the JSON of its machine's facts
        ext = (32 if flags & HELLO_LOAD_FPENV else 0) + (32 if flags & HELLO_HOST_KEY else 0)
        facts_len = 0
        if flags & HELLO_HOST_FACTS:
            if tail + ext + 4 > len(body):
                raise self._fail(_Failure(f"HELLO reply of {len(body)} bytes ends before its facts"), what)
            facts_len = 4 + struct.unpack_from("<I", body, tail + ext)[0]
        if tail + ext + facts_len != len(body):
            raise self._fail(_Failure(f"HELLO reply lengths ({dlen} + {plen}) do not match its "
                                      f"{len(body)} bytes"), what)
        if proto != version:
            raise ProbeError(f"{where}: speaks wire protocol {proto}, this teecert speaks "
                             f"{PROTOCOL_VERSION}" + (f" (or {version})" if version != PROTOCOL_VERSION else ""))
        if abi != ABI_VERSION:
            raise ProbeError(f"{where}: the probe exports ABI version {abi}, this teecert "
                             f"speaks {ABI_VERSION}")
        raw_desc = bytes(body[56 : 56 + dlen])
        load_fpenv = None
        host_key = None
        host_facts = None
        if flags & HELLO_HOST_KEY:
            at = tail + (32 if flags & HELLO_LOAD_FPENV else 0)
            host_key = bytes(body[at : at + 32])
        if flags & HELLO_HOST_FACTS:
            host_facts = parse_host_facts(bytes(body[tail + ext + 4 :]), where)
        if flags & HELLO_LOAD_FPENV:
            arch = bytes(body[tail : tail + 16]).split(b"\0", 1)[0].decode("ascii", "replace")
            before, after = struct.unpack_from("<QQ", body, tail + 16)
            load_fpenv = ((arch, before), (arch, after))
        return {
            "load_fpenv": load_fpenv,
            "host_key": host_key,
            "host_facts": host_facts,
            "proto": proto, "abi": abi, "max_frame": max_frame,
            "library_digest": digest.hex() if flags & 1 else None,
            "raw_description": raw_desc,
            "description": parse_description(raw_desc, where),
            "path": bytes(body[56 + dlen : 56 + dlen + plen]).decode("utf-8", "replace"),
            "shm": bool(want_shm and flags & HELLO_SHM),
            "gen": bool(want_shm and flags & HELLO_SHM and flags & HELLO_GEN),
        }

    def _attach(self, chan: _Channel, what: str) -> None:
        """Hand this session the shared region (SHM_ATTACH).  A host that cannot map
        it (say, locked memory over its limit) is used inline: ``shm_refusal``."""
        region = self._region
        assert region is not None
        deadline = time.monotonic() + self.timeout
        try:
            chan.send_attach(region, deadline)
            n = self._read_reply_head(chan, SHM_ATTACH, deadline, what)
            body = chan.recv(n, deadline)
        except (EOFError, TimeoutError, _Failure) as exc:
            raise self._fail(exc, what) from None
        except _HostError as exc:
            if exc.code in _CLOSING_CODES or exc.code in _REFUSING_CODES or exc.code == 6:
                raise self._host_error(exc, what) from None
            self.shm_refusal = exc.message
            return
        if len(body) != 8 or struct.unpack("<Q", body)[0] != region.size:
            raise self._fail(_Failure(f"SHM_ATTACH reply of {len(body)} bytes does not confirm the "
                                      f"{region.size}-byte region"), what)
        chan.shm = region
        self.shm_refusal = None

    def _drop(self, kill: bool) -> None:
        self._inflight.clear()
        chan, self._chan = self._chan, None
        if chan is not None:
            chan.close(kill=kill)

    def _channel(self, what: str) -> _Channel:
        if self._chan is None:
            self.restarts += 1
            return self._connect(what)
        return self._chan

    def close(self) -> None:
        """Say BYE and end the host session (a child exits).  The region of a child
        that said goodbye and exited with status 0, the only host it ever had, goes
        back to the pool (:meth:`SharedRegion.give_back`) after anything left in the
        child's process group is killed."""
        chan = self._chan
        if chan is None:
            return
        with contextlib.suppress(Exception):
            chan.send([_HDR.pack(2, BYE)], time.monotonic() + 2.0)
            head = chan.recv(6, time.monotonic() + 2.0)
            length = _HDR.unpack(head)[0]
            if 2 <= length <= 64:
                chan.recv(length - 2, time.monotonic() + 2.0)
        region = self._region
        keep = (region is not None and not self._inflight and self.restarts == 0
                and isinstance(chan, _ChildChannel) and chan.exited_cleanly())
        self._drop(kill=False)
        if keep and region is not None:
            self._region = None
            region.give_back()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._drop(kill=True)

    # ------------------------------------------------------------- framing

    def _fail(self, failure: _Failure | EOFError | TimeoutError, what: str) -> ProbeError:
        """Tear the connection down and build the one-line error for ``what``."""
        chan = self._chan
        if isinstance(failure, TimeoutError):
            reason = f"probe timed out after {self.timeout:g} s"
        elif isinstance(failure, EOFError):
            reason = (chan.diagnose(False) if chan is not None else None) or "probe closed the stream"
        else:
            reason = failure.reason
        self._drop(kill=True)
        return ProbeError(f"{reason} during {what} ({self._where()}, {self.transport})")

    def _read_reply_head(self, chan: _Channel, mtype: int, deadline: float,
                         what: str) -> int:
        """Read a frame header; returns the payload length of a reply to ``mtype``.
        An ERROR frame is read whole and raised as :class:`_HostError`."""
        head = chan.recv(6, deadline)
        length, rtype = _HDR.unpack(head)
        if length < 2 or length > MAX_FRAME:
            raise _Failure(f"probe host sent a frame of {length} bytes (limit {MAX_FRAME})")
        if rtype == ERROR:
            body = chan.recv(length - 2, deadline)
            code = struct.unpack_from("<I", body, 0)[0] if len(body) >= 4 else 0
            # The host's text goes into a one-line reason: control characters escaped.
            text = bytes(body[4:]).decode("utf-8", "replace").strip()[:400]
            raise _HostError(code, "".join(c if c.isprintable() else repr(c)[1:-1] for c in text))
        if rtype != mtype | REPLY:
            raise _Failure(f"probe host answered {_NAMES.get(mtype, hex(mtype))} with message "
                           f"type 0x{rtype:04x}")
        return int(length) - 2

    def _roundtrip_on(self, chan: _Channel, mtype: int, parts: Sequence[Any], what: str,
                      host_errors: bool = False) -> bytearray:
        deadline = time.monotonic() + self.timeout
        size = sum(len(memoryview(p).cast("B")) for p in parts)
        if size + 2 > MAX_FRAME:
            raise UsageError(f"{what}: a request of {size} bytes exceeds the {MAX_FRAME}-byte frame limit")
        try:
            chan.send([_HDR.pack(size + 2, mtype), *parts], deadline)
            n = self._read_reply_head(chan, mtype, deadline, what)
            return chan.recv(n, deadline)
        except (EOFError, TimeoutError, _Failure) as exc:
            raise self._fail(exc, what) from None
        except _HostError as exc:
            if host_errors:
                raise
            raise self._host_error(exc, what) from None

    def _host_error(self, exc: _HostError, what: str) -> ProbeError:
        if exc.code == 6:  # crashed: the supervisor's last word, the connection is gone
            self._drop(kill=True)
            return ProbeError(f"{exc.message} during {what} ({self._where()}, {self.transport})")
        if exc.code in _REFUSING_CODES:  # authentication or the worker cap: closed
            self._drop(kill=True)
            hint = ""
            if exc.code == 8 and self._token is None and "required" in exc.message:
                hint = f" (give the client its token: --probe-token-file FILE or {hostkey.TOKEN_ENV})"
            return ProbeError(f"probe host at {self.endpoint} refused the client: {exc.message}{hint}")
        kind = ERROR_CODES.get(exc.code, f"code {exc.code}")
        if exc.code in _CLOSING_CODES:  # the host closes after these
            self._drop(kill=True)
        return ProbeError(f"{self._where()}: host refused {what} ({kind}): {exc.message}")

    def _call(self, mtype: int, parts: Sequence[Any], what: str) -> bytearray:
        return self._roundtrip_on(self._channel(what), mtype, parts, what)

    # ------------------------------------------------------------------ ops

    def describe(self) -> dict[str, Any]:
        """The self-description as the probe gives it now."""
        raw = self._call(DESCRIBE, [], "describe")
        return parse_description(bytes(raw), self._where())

    def new_buffer(self, nbytes: int) -> Any:
        """A zeroed native buffer of ``nbytes`` for :meth:`run_into`."""
        return ffi.new("unsigned char[]", nbytes)

    def _raise_status(self, status: int, op: Op, n: int, in_bytes: int, out_bytes: int) -> None:
        raise status_error(self._where(), status, op, n, in_bytes, out_bytes)

    def run_batch(self, op: Op, items: Sequence[tuple[Any, Any, int]]) -> None:
        """Several calls of ``op`` in one frame: each ``(inbuf, outbuf, n)`` as for
        :meth:`run_into`.  The outputs are read straight into the ``outbuf``s."""
        if not items:
            return
        if len(items) > 4096:
            raise UsageError(f"{op.id}: at most 4096 calls per batch, not {len(items)}")
        opb = op.id.encode("ascii")
        op_pad = opb + b"\0" * (_pad8(len(opb)) - len(opb))
        parts: list[Any] = [struct.pack("<II", len(items), 0)]
        total = 0
        for inbuf, _outbuf, n in items:
            if n < 0:
                raise UsageError(f"{op.id}: negative vector count {n}")
            in_bytes = n * op.in_bytes
            parts.append(_RUN_ITEM.pack(len(opb), 0, n, in_bytes, n * op.out_bytes))
            parts.append(op_pad)
            if in_bytes:
                parts.append(ffi.buffer(inbuf, in_bytes))
            if in_bytes % 8:
                parts.append(b"\0" * (8 - in_bytes % 8))
            total += n
        what = (f"{op.id} (batch of {total})" if len(items) == 1
                else f"{op.id} (batch of {total} in {len(items)} calls)")
        chan = self._channel(what)
        deadline = time.monotonic() + self.timeout
        size = sum(len(memoryview(p).cast("B")) for p in parts)
        if size + 2 > MAX_FRAME:
            raise UsageError(f"{what}: a request of {size} bytes exceeds the {MAX_FRAME}-byte frame limit")
        statuses: list[tuple[int, int, int]] = []
        try:
            chan.send([_HDR.pack(size + 2, RUN), *parts], deadline)
            left = self._read_reply_head(chan, RUN, deadline, what)
            if left < 8:
                raise _Failure(f"RUN reply of {left} bytes")
            count, _ = _RUN_REPLY_HEAD.unpack(chan.recv(8, deadline))
            left -= 8
            if count != len(items):
                raise _Failure(f"RUN reply for {count} calls, {len(items)} were sent")
            for _inbuf, outbuf, n in items:
                if left < 16:
                    raise _Failure(f"short RUN reply ({left} bytes left for an item header)")
                status, _, out_len = _RUN_REPLY_ITEM.unpack(chan.recv(16, deadline))
                left -= 16
                want = n * op.out_bytes
                if status == OK:
                    if out_len != want:
                        raise _Failure(f"{'short' if out_len < want else 'oversized'} output: "
                                       f"{out_len} bytes, expected {want}")
                    if _pad8(out_len) > left:
                        raise _Failure(f"RUN reply shorter than its {out_len} output bytes")
                    if want:
                        chan.recv_into(memoryview(ffi.buffer(outbuf, want)), deadline)
                    if _pad8(want) != want:
                        chan.recv(_pad8(want) - want, deadline)
                    left -= _pad8(want)
                elif out_len != 0:
                    raise _Failure(f"RUN reply carries {out_len} output bytes with status {status}")
                statuses.append((status, n, want))
            if left != 0:
                raise _Failure(f"RUN reply has {left} trailing bytes")
        except (EOFError, TimeoutError, _Failure) as exc:
            raise self._fail(exc, what) from None
        except _HostError as exc:
            raise self._host_error(exc, what) from None
        for status, n, want in statuses:
            if status != OK:
                self._raise_status(status, op, n, n * op.in_bytes, want)

    def run_into(self, op: Op, inbuf: Any, outbuf: Any, n: int) -> None:
        """``n`` vectors from the native buffer ``inbuf`` into ``outbuf``."""
        self.run_batch(op, [(inbuf, outbuf, n)])

    # ---------------------------------------------------------- shared memory

    def shared_region(self) -> SharedRegion | None:
        """The region attached to the current session (connecting first when the
        last one failed), or None: this host is reached inline only (TCP, vsock, an
        older host, a refused attach).  Inputs written at an offset of it and
        outputs read from it are what :meth:`submit_shm` and :meth:`collect_shm`
        exchange; the region lives as long as this object, across restarts."""
        return self._channel("shared memory").shm

    def generates_inputs(self) -> bool:
        """Whether the current session serves RUN_GEN (:meth:`submit_gen`): the host
        makes a stream's inputs itself.  Ask after :meth:`shared_region`."""
        chan, hello = self._chan, self._hello
        return chan is not None and chan.shm is not None and hello is not None and bool(hello["gen"])

    @property
    def shm_inflight(self) -> int:
        """RUN_SHM and RUN_GEN requests sent and not yet collected."""
        return len(self._inflight)

    def _shm_chan(self) -> _Channel:
        chan = self._chan
        if chan is None or chan.shm is None:
            raise ProbeError(f"{self._where()}: no shared region attached (the session was "
                             f"restarted or the host is reached inline)")
        return chan

    def _submit(self, chan: _Channel, mtype: int, op: Op, parts: list[bytes],
                items: Sequence[tuple[int, int, int]]) -> None:
        total = sum(n for _a, _b, n in items)
        what = (f"{op.id} (batch of {total})" if len(items) == 1
                else f"{op.id} (batch of {total} in {len(items)} calls)")
        body = b"".join(parts)
        now = time.monotonic()
        try:
            chan.send([_HDR.pack(len(body) + 2, mtype), body], now + self.timeout)
        except (EOFError, TimeoutError) as exc:
            raise self._fail(exc, what) from None
        self._inflight.append((mtype, op, list(items), what, now))

    def submit_gen(self, op: Op, spec: GenSpec, items: Sequence[tuple[int, int, int]]) -> None:
        """Send one RUN_GEN request without waiting for it: ``items`` are ``(start,
        out_off, n)``, each one probe call over vectors ``start .. start+n-1`` of the
        stream ``spec``, which the host generates itself; outputs go to ``out_off``
        in the shared region.  Collected like RUN_SHM (:meth:`collect_shm`)."""
        chan = self._shm_chan()
        if not self.generates_inputs():
            raise ProbeError(f"{self._where()}: this host does not serve RUN_GEN")
        if not 1 <= len(items) <= 4096:
            raise UsageError(f"{op.id}: 1 to 4096 calls per batch, not {len(items)}")
        if spec.generator in (GEN_MIX, GEN_LIBM) and spec.params[0] * spec.params[1] != op.in_bytes * 8:
            raise UsageError(f"{op.id}: a stream of {spec.params[0]} operands of {spec.params[1]} bits is "
                             f"not its {op.in_bytes}-byte inputs")
        opb = op.id.encode("ascii")
        op_pad = opb + b"\0" * (_pad8(len(opb)) - len(opb))
        words = spec.words()
        parts: list[bytes] = [struct.pack("<II", len(items), 0)]
        for start, out_off, n in items:
            if n < 0 or start < 0:
                raise UsageError(f"{op.id}: negative vector count {n} or start {start}")
            parts.append(_GEN_ITEM.pack(len(opb), spec.generator, n, spec.s0, start, out_off,
                                        n * op.out_bytes, *words))
            parts.append(op_pad)
        self._submit(chan, RUN_GEN, op, parts, items)

    def submit_shm(self, op: Op, items: Sequence[tuple[int, int, int]]) -> None:
        """Send one RUN_SHM request without waiting for it: ``items`` are ``(in_off,
        out_off, n)`` in the shared region, each one probe call.  Until
        :meth:`collect_shm` has read its answer the host owns those bytes: inputs
        must stay as they are, outputs are not yet written.  Several requests may be
        in flight; answers come in order."""
        chan = self._shm_chan()
        if not 1 <= len(items) <= 4096:
            raise UsageError(f"{op.id}: 1 to 4096 calls per batch, not {len(items)}")
        opb = op.id.encode("ascii")
        op_pad = opb + b"\0" * (_pad8(len(opb)) - len(opb))
        parts: list[bytes] = [struct.pack("<II", len(items), 0)]
        for in_off, out_off, n in items:
            if n < 0:
                raise UsageError(f"{op.id}: negative vector count {n}")
            parts.append(_SHM_ITEM.pack(len(opb), 0, n, in_off, n * op.in_bytes, out_off, n * op.out_bytes))
            parts.append(op_pad)
        self._submit(chan, RUN_SHM, op, parts, items)

    def drain_shm(self) -> None:
        """Read and drop every answer still owed (after the caller gave up on a
        stream), so the session stays in step; one that fails ends the session."""
        while self._inflight:
            try:
                self.collect_shm()
            except ProbeError:
                if self._inflight:
                    self._drop(kill=True)

    def collect_shm(self) -> None:
        """Read the answer to the oldest RUN_SHM or RUN_GEN request in flight; its outputs are
        then in the region.  Each request's deadline runs from when the host could
        start it (it was sent, and the one before it was answered)."""
        if not self._inflight:
            raise UsageError("collect_shm: no RUN_SHM request in flight")
        chan = self._chan
        mtype, op, items, what, sent = self._inflight[0]
        name = _NAMES[mtype]
        if chan is None:
            self._inflight.clear()
            raise ProbeError(f"{self._where()}: the session ended during {what}")
        deadline = max(sent, self._last_reply) + self.timeout
        try:
            left = self._read_reply_head(chan, mtype, deadline, what)
            body = chan.recv(left, deadline)
            self._last_reply = time.monotonic()
            if len(body) != 8 + 16 * len(items):
                raise _Failure(f"{name} reply of {len(body)} bytes, expected {8 + 16 * len(items)}")
            count = struct.unpack_from("<I", body, 0)[0]
            if count != len(items):
                raise _Failure(f"{name} reply for {count} calls, {len(items)} were sent")
            statuses: list[tuple[int, int]] = []
            for j, (_i, _o, n) in enumerate(items):
                status, _, out_len = _RUN_REPLY_ITEM.unpack_from(body, 8 + 16 * j)
                want = n * op.out_bytes
                if status == OK and out_len != want:
                    raise _Failure(f"{'short' if out_len < want else 'oversized'} output: "
                                   f"{out_len} bytes, expected {want}")
                if status != OK and out_len != 0:
                    raise _Failure(f"{name} reply carries {out_len} output bytes with status {status}")
                statuses.append((status, n))
        except (EOFError, TimeoutError, _Failure) as exc:
            raise self._fail(exc, what) from None
        except _HostError as exc:
            # The host answered this request with ERROR and goes on with the next ones
            # (or has closed); either way the requests behind it are abandoned.
            self._drop(kill=True)
            raise self._host_error(exc, what) from None
        self._inflight.popleft()
        for status, n in statuses:
            if status != OK:
                # A refused call (unknown op, bad sizes): the session stays usable once
                # the answers still owed are read.
                with contextlib.suppress(ProbeError):
                    while self._inflight:
                        self.collect_shm()
                self._raise_status(status, op, n, n * op.in_bytes, n * op.out_bytes)

    def run(self, op: Op, inputs: bytes | bytearray | memoryview, n: int) -> bytes:
        """Run ``op`` over ``n`` vectors packed in ``inputs``; the output bytes."""
        if n < 0:
            raise UsageError(f"{op.id}: negative vector count {n}")
        data = bytes(inputs)
        if len(data) != n * op.in_bytes:
            # The same answer the probe gives in process.
            raise status_error(self._where(), E_ARGS, op, n, len(data), n * op.out_bytes)
        inbuf = ffi.from_buffer(data)
        out = ffi.new("unsigned char[]", n * op.out_bytes)
        self.run_batch(op, [(inbuf, out, n)])
        return bytes(ffi.buffer(out))

    def run_values(self, op: Op, vecs: Sequence[tuple[int, ...]]) -> list[int]:
        """Run ``op`` over input tuples of bit patterns; return the output bit patterns."""
        return run_values_with(self.run, op, vecs)

    # ------------------------------------------------------- FP environment

    def fpenv_read(self) -> tuple[str, int]:
        """``(arch, raw control register bits)`` as the host's probe sees them."""
        body = self._call(FPENV_READ, [], "fpenv_read")
        if len(body) != 24:
            raise self._fail(_Failure(f"FPENV_READ reply of {len(body)} bytes, need 24"), "fpenv_read")
        bits = struct.unpack_from("<Q", body, 0)[0]
        arch = bytes(body[8:24]).split(b"\0", 1)[0].decode("ascii", "replace")
        return arch, int(bits)

    def fpenv_poison(self, bits: int) -> int:
        """Poison the host's FP environment; returns the bits applied."""
        body = self._call(FPENV_POISON, [struct.pack("<I", bits & 0xFFFFFFFF)], "fpenv_poison")
        if len(body) != 4:
            raise self._fail(_Failure(f"FPENV_POISON reply of {len(body)} bytes"), "fpenv_poison")
        return int(struct.unpack("<I", body)[0])

    def fpenv_reset(self) -> None:
        self._call(FPENV_RESET, [], "fpenv_reset")

    def fp_state(self, poison: int | None = None) -> FpWatch:
        """The host's own reading of its FP control state and of what changed it behind
        the host; with ``poison``, the host first installs its state before loading with
        those bits applied (FPSTATE, docs/wire-protocol.md), never through the probe."""
        body = self._call(FPSTATE, [struct.pack("<II", 0 if poison is None else 1, poison or 0)], "fp_state")
        if len(body) != 128:
            raise self._fail(_Failure(f"FPSTATE reply of {len(body)} bytes, need 128"), "fp_state")
        state, arch_raw, applied, violations, calls, kind, _z, call_no, want, seen = struct.unpack_from(
            "<Q16sIIQIIQQQ", body, 0)
        what = bytes(body[72:128]).split(b"\0", 1)[0].decode("ascii", "replace")
        arch = arch_raw.split(b"\0", 1)[0].decode("ascii", "replace")
        return FpWatch(arch, state, applied, calls, violations, kind, call_no, want, seen, what)

    def conformance(self, op: Op) -> Conformance:
        """The ABI's argument checks with ``op``, run by the host in a forked child
        (CONFORM): a probe that trusts a null pointer crashes the child, not the host."""
        opb = op.id.encode("ascii")
        body = self._call(CONFORM, [struct.pack("<IIII", len(opb), op.in_bytes, op.out_bytes, 0), opb],
                          "conformance")
        if len(body) < 16:
            raise self._fail(_Failure(f"CONFORM reply of {len(body)} bytes"), "conformance")
        cases, outcome, sig, done = struct.unpack_from("<IIII", body, 0)
        if cases != len(CONFORMANCE_CASES) or done > cases or len(body) != 16 + 4 * done or outcome > 3:
            raise self._fail(_Failure(f"CONFORM reply for {cases} cases, {done} answered, "
                                      f"{len(body)} bytes, outcome {outcome}"), "conformance")
        statuses = struct.unpack_from(f"<{done}i", body, 16)
        return Conformance(op.id, tuple(statuses), outcome, sig)

    def transcript(self) -> tuple[bytes, int]:
        """``(32-byte transcript hash, number of successful runs folded in)``.  A host
        with a key signs it: the signature (checked here) is kept in
        ``host_signature``, the key that made it in ``host_signature_key``."""
        body = self._call(TRANSCRIPT, [], "transcript")
        key = self.host_public_key
        want = 40 + hostkey.SIGNATURE_BYTES if key is not None else 40
        if len(body) != want:
            raise self._fail(_Failure(f"TRANSCRIPT reply of {len(body)} bytes, need {want}"), "transcript")
        t, calls = bytes(body[:32]), int(struct.unpack_from("<Q", body, 32)[0])
        self.host_signature = self.host_signature_key = None
        if key is not None:
            sig = bytes(body[40:])
            entry = {"hash": t.hex(), "calls": calls, "host_signature": base64.b64encode(sig).decode()}
            try:
                hostkey.verify_transcript_signature(base64.b64encode(key).decode(), entry, self._where())
            except NotAuthentic as e:
                self._drop(kill=True)
                raise ProbeError(str(e)) from None
            self.host_signature, self.host_signature_key = sig, key
        return t, calls

    def transcript_reset(self) -> None:
        self._call(TRANSCRIPT_RESET, [], "transcript_reset")

    # ------------------------------------------------------------ attestation

    def attest(self, report_data: bytes) -> tuple[str, bytes]:
        """``(format, evidence)`` for exactly 64 bytes of report data (the host
        follows the ABI's size protocol itself).  The evidence carries
        ``hostkey.wrap_report_data(host_public_key, report_data)``, which is also left
        in ``attested_report_data``."""
        data = report_data_bytes(report_data)
        where = self._where()
        self.attested_report_data = None
        if self.host_public_key is None:
            # Evidence must commit to a host key; without one the host attests nothing.
            raise UnsupportedOp(f"{where}: the probe host has no key (built without OpenSSL), "
                                "so it attests nothing")
        body = self._call(ATTEST, [data], "attest")
        if len(body) < _ATTEST_HEAD:
            raise self._fail(_Failure(f"ATTEST reply of {len(body)} bytes"), "attest")
        status, needed = struct.unpack_from("<iI", body, 0)
        fmt_raw = bytes(body[8:24]).split(b"\0", 1)
        flags = struct.unpack_from("<I", body, 24)[0]
        attested = bytes(body[32:96])
        evidence = bytes(body[_ATTEST_HEAD:])
        # The host attests the report data wrapped with its key, never the bare bytes.
        key = self.host_public_key
        if not flags & ATTEST_WRAPPED or key is None:
            raise self._fail(_Failure("ATTEST reply without the host-key wrapping of the report data"),
                             "attest")
        if attested != hostkey.wrap_report_data(key, data):
            raise self._fail(_Failure("the host attested other report data than "
                                      "SHA-512(label || host key || report data)"), "attest")
        self.attested_report_data = attested
        if status == OK:
            if not evidence:
                raise ProbeError(f"{where}: attestation returned no evidence")
            if len(fmt_raw) < 2 or not fmt_raw[0]:
                raise ProbeError(f"{where}: attestation format name is empty or not "
                                 "NUL-terminated within 16 bytes")
            return fmt_raw[0].decode("ascii", "replace"), evidence
        if status == E_UNSUPPORTED:
            raise UnsupportedOp(f"{where}: reaches no attestation technology")
        if status == E_INTERNAL:
            raise ProbeError(f"{where}: attestation evidence collection failed inside the probe "
                             "(TEECERT_E_INTERNAL)")
        if status == E_ARGS:
            if needed > MAX_EVIDENCE:
                raise ProbeError(f"{where}: attestation evidence of {needed} bytes exceeds "
                                 f"the {MAX_EVIDENCE}-byte limit")
            raise ProbeError(f"{where}: rejected the attestation arguments (needed {needed} bytes)")
        raise ProbeError(f"{where}: attestation returned unknown status {status}")


# -------------------------------------------------------------------- openers


def default_host_cmd(probe: str | os.PathLike[str] | None = None) -> list[str]:
    """``teecert-probe-host --probe LIB``: the host serving ``probe`` (default: the
    reference probe) on stdio."""

    lib = Path(probe) if probe is not None else reference_probe_path()
    return [str(host_path()), "--probe", str(lib.resolve())]


_default_token: bytes | None = None


def set_default_token(token: bytes | None) -> None:
    """The token every later :func:`spawn` and :func:`connect` of this process answers
    a host's challenge with when given none (before ``$TEECERT_HOST_TOKEN``): a
    certification session sets it once, so each of its connections (the stress
    suites' fresh ones too) proves the token the run was given."""
    global _default_token
    _default_token = token


def _token_or_default(token: bytes | None) -> bytes | None:
    if token is not None:
        return token
    return _default_token if _default_token is not None else hostkey.load_token()


def _with_region(make: Any, shared_memory: bool) -> RemoteProbe:
    region = SharedRegion.create() if shared_memory else None
    try:
        probe: RemoteProbe = make(region)
    except BaseException:
        if region is not None:
            region.close()
        raise
    return probe


def spawn(cmd: Sequence[str], timeout: float = DEFAULT_TIMEOUT,
          env: Mapping[str, str] | None = None, token: bytes | None = None,
          shared_memory: bool = True) -> RemoteProbe:
    """A probe served by the child process ``cmd`` on its stdin/stdout (restarted
    after a crash on the next call); ``env`` adds to (or overrides) the harness's
    environment for the child; ``token`` answers the host's challenge (default:
    :func:`set_default_token`'s, else ``$TEECERT_HOST_TOKEN``).  Bulk data goes
    through a shared region the child inherits, when the host offers it
    (``shared_memory=False``: always inline, through the pipes)."""
    argv = list(cmd)
    if not argv:
        raise UsageError("empty probe host command")
    secret = _token_or_default(token)
    return _with_region(lambda region: RemoteProbe(
        lambda: _ChildChannel(argv, env, region), shlex.join(argv), "child-process", timeout,
        token=secret, region=region), shared_memory)


def connect(url: str, timeout: float = DEFAULT_TIMEOUT, token: bytes | None = None,
            shared_memory: bool = True) -> RemoteProbe:
    """A probe served by a listening host: ``tcp://HOST:PORT``, ``unix:PATH`` or
    ``vsock://CID:PORT`` (reconnected after a failure on the next call); ``token``
    answers the host's challenge (default: :func:`set_default_token`'s, else
    ``$TEECERT_HOST_TOKEN``).  Over a Unix socket bulk data goes through a shared
    region passed with SCM_RIGHTS, when the host offers it; TCP and vsock are inline."""
    transport, _addr, _fam = _parse_url(url)
    secret = _token_or_default(token)
    return _with_region(lambda region: RemoteProbe(
        lambda: _open_socket(url, timeout), url, transport, timeout, token=secret, region=region),
        shared_memory and transport == "unix")


def open_probe(*, path: str | os.PathLike[str] | None = None, cmd: Sequence[str] | str | None = None,
               url: str | None = None, timeout: float = DEFAULT_TIMEOUT,
               token_file: str | os.PathLike[str] | None = None) -> Any:
    """The probe of a run: ``cmd`` (a child process), ``url`` (a socket), else the
    library ``path`` in process.  A host's token comes from ``token_file``, else
    ``$TEECERT_HOST_TOKEN`` (``hostkey.load_token``)."""
    if cmd or url:
        token = hostkey.load_token(token_file) if token_file is not None else None
        if cmd:
            return spawn(shlex.split(cmd) if isinstance(cmd, str) else cmd, timeout, token=token)
        assert url is not None
        return connect(url, timeout, token=token)
    if token_file is not None:
        raise UsageError("--probe-token-file is for a probe host (--probe-cmd or --probe-url), "
                         "not a library loaded in process")

    return load_probe(path if path is not None else reference_probe_path())
