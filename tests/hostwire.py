"""Speaking to the probe host frame by frame (docs/wire-protocol.md), for the tests
that send it what the harness never would: a session on pipes or a Unix socket,
frames, a sealed memfd, and the checks that an ERROR is one line and the session
goes on."""

from __future__ import annotations

import fcntl
import mmap
import os
import socket
import struct
import subprocess
from pathlib import Path

from teecert import ops
from teecert.probe import remote as transport

ADD = ops.get("f64.add.rne")
ONE = 0x3FF0000000000000
TWO = 0x4000000000000000
MIB = 1 << 20
HELLO_V3 = struct.pack("<II", transport.PROTOCOL_VERSION, transport.HELLO_WANT_SHM)


def frame(mtype: int, payload: bytes = b"") -> bytes:
    return struct.pack("<IH", len(payload) + 2, mtype) + payload


def memfd(size: int = 1 << 20, seal: bool = True) -> tuple[int, mmap.mmap]:
    fd = os.memfd_create("teecert-test", os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, size)
    if seal:
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
    return fd, mmap.mmap(fd, size)


class Raw:
    """A host session spoken frame by frame: a child on pipes, or a Unix socket."""

    def __init__(self, host: str, lib: Path, pass_fds: tuple[int, ...] = (),
                 sock: socket.socket | None = None) -> None:
        self.sock = sock
        self.proc: subprocess.Popen[bytes] | None = None
        if sock is None:
            self.proc = subprocess.Popen([host, "--probe", str(lib)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         pass_fds=pass_fds)

    def send(self, data: bytes, fds: tuple[int, ...] = ()) -> None:
        if self.sock is not None:
            if fds:
                socket.send_fds(self.sock, [data], list(fds))
            else:
                self.sock.sendall(data)
        else:
            assert self.proc is not None and self.proc.stdin is not None
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def _read(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            if self.sock is not None:
                chunk = self.sock.recv(n - len(out))
            else:
                assert self.proc is not None and self.proc.stdout is not None
                chunk = self.proc.stdout.read(n - len(out))
            if not chunk:
                raise EOFError(f"closed after {len(out)} of {n} bytes")
            out += chunk
        return out

    def recv(self) -> tuple[int, bytes]:
        length, mtype = struct.unpack("<IH", self._read(6))
        return mtype, self._read(length - 2)

    def call(self, data: bytes, fds: tuple[int, ...] = ()) -> tuple[int, bytes]:
        self.send(data, fds)
        return self.recv()

    def hello(self, payload: bytes = HELLO_V3) -> int:
        mtype, body = self.call(frame(transport.HELLO, payload))
        assert mtype == transport.HELLO | transport.REPLY, body
        return int(struct.unpack_from("<I", body, 12)[0])

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            for f in (self.proc.stdin, self.proc.stdout):
                if f is not None:
                    f.close()


def error_of(reply: tuple[int, bytes]) -> tuple[int, str]:
    mtype, body = reply
    assert mtype == transport.ERROR, (hex(mtype), body)
    return int(struct.unpack_from("<I", body, 0)[0]), body[4:].decode()


def attach_number(fd: int, size: int) -> bytes:
    return frame(transport.SHM_ATTACH, struct.pack("<IIQ", fd, 0, size))


def still_serves(raw: Raw) -> None:
    """The session goes on: an inline RUN of 1 + 1 answers 2."""
    body = struct.pack("<II", 1, 0) + struct.pack("<IIQQQ", len(ADD.id), 0, 1, 16, 8) + \
        ADD.id.encode() + b"\0" * (-len(ADD.id) % 8) + struct.pack("<QQ", ONE, ONE)
    mtype, reply = raw.call(frame(transport.RUN, body))
    assert mtype == transport.RUN | transport.REPLY
    assert struct.unpack_from("<iIQQ", reply, 8) == (0, 0, 8, TWO)
