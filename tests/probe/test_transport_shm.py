"""Shared memory between the harness and the probe host (docs/wire-protocol.md,
"Shared memory"): SHM_ATTACH and RUN_SHM, the negotiation in HELLO, the fallback to
inline, and a host that treats the region as hostile.

The stream leaves and the probe's transcript through the region are the ones the
probe gives in process; a request naming bytes outside the region, a descriptor that
is not a sealed memfd, or a region of the wrong size gets a one-line ERROR and the
session goes on; a probe that crashes or hangs while requests are pipelined still
ends the call with the one-line reason.

``TEECERT_SHM_TEST_HOST`` runs these tests against another build of the host (a
mutated one, to see that they catch what each check guards).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import socket
import struct
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hostwire import (
    ADD,
    MIB,
    ONE,
    TWO,
    Raw,
    attach_number,
    error_of,
    frame,
    memfd,
    still_serves,
)

from teecert import ops
from teecert.errors import ProbeError, UnsupportedOp
from teecert.probe import build as probe_build
from teecert.probe import hostkey
from teecert.probe import remote as transport
from teecert.probe import streams as stream_eval
from teecert.probe.library import load_probe

from probezoo import PROBES_DIR, zoo_dir

DIV = ops.get("f64.div.rne")


def misbehaving(kind: int) -> Path:
    """tests/probes/misbehave.c: f64.div.rne segfaults (1) or hangs (2)."""
    src = PROBES_DIR / "misbehave.c"
    key = hashlib.sha256(src.read_bytes() + probe_build.reference_build_key().encode()).hexdigest()[:16]
    out = zoo_dir() / f"misbehave-{kind}-{key}.so"
    if out.is_file():
        return out
    return probe_build.build_probe(out, source=src, defines={"TEECERT_ZOO_MISBEHAVE": str(kind)})


def spawn(host: str, lib: Path, **kw: Any) -> transport.RemoteProbe:
    return transport.spawn([host, "--probe", str(lib)], **kw)


class UnixHost:
    """``teecert-probe-host --listen unix:PATH`` in the background."""

    def __init__(self, host: str, lib: Path, path: Path, spec: str | None = None) -> None:
        self.proc = subprocess.Popen([host, "--probe", str(lib), "--listen", spec or f"unix:{path}"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "listening", line
        self.shown = line[1]
        self.path = path

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def unix_host(host: str, reference: Path, tmp_path: Path) -> Iterator[UnixHost]:
    h = UnixHost(host, reference, tmp_path / "host.sock")
    yield h
    h.stop()


# ------------------------------------------------------------ raw frames


def shm_item(op: str, n: int, in_off: int, in_bytes: int, out_off: int, out_bytes: int) -> bytes:
    opb = op.encode()
    return struct.pack("<IIQQQQQ", len(opb), 0, n, in_off, in_bytes, out_off, out_bytes) + \
        opb + b"\0" * (-len(opb) % 8)


def run_shm(*items: bytes) -> bytes:
    return frame(transport.RUN_SHM, struct.pack("<II", len(items), 0) + b"".join(items))


@pytest.fixture
def attached(host: str, reference: Path) -> Iterator[tuple[Raw, mmap.mmap, int]]:
    """A child host with a 1 MiB region attached by number."""
    fd, region = memfd()
    raw = Raw(host, reference, pass_fds=(fd,))
    assert raw.hello() & transport.HELLO_SHM
    mtype, body = raw.call(attach_number(fd, 1 << 20))
    assert (mtype, body) == (transport.SHM_ATTACH | transport.REPLY, struct.pack("<Q", 1 << 20))
    yield raw, region, fd
    raw.close()
    region.close()
    os.close(fd)


# ------------------------------------------------------ the stream loop


STREAM_OPS = ("f64.add.rne", "f64.fma.rne", "f32.sqrt.rtz", "f64.div.rtz", "i64.mul", "hash.sha256")


@pytest.mark.parametrize("inputs", ["copied", "generated"])
@pytest.mark.parametrize("per_request", ["one chunk", "grouped"])
@pytest.mark.parametrize("op_id", STREAM_OPS)
def test_stream_leaves_and_transcript_through_the_region_are_in_process_ones(
        host: str, reference: Path, op_id: str, per_request: str, inputs: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Through RUN_SHM (inputs generated here, copied by the host) and RUN_GEN (made
    by the host)."""
    op = ops.get(op_id)
    monkeypatch.setattr(stream_eval, "HOST_GENERATES", inputs == "generated")
    if per_request == "one chunk":  # many requests, two in flight at a time
        monkeypatch.setattr(stream_eval, "SHM_BATCH_BYTES", 1)
        monkeypatch.setattr(stream_eval, "SHM_GEN_VECTORS", 1)
    else:  # several chunks per request, still more than two requests per stream
        monkeypatch.setattr(stream_eval, "SHM_BATCH_BYTES", 3 * 4096 * op.in_bytes)
        monkeypatch.setattr(stream_eval, "SHM_GEN_VECTORS", 3 * 4096)
    local = load_probe(reference)
    with spawn(host, reference) as rp:
        assert rp.shared_region() is not None, rp.shm_refusal
        rp.transcript_reset()
        local.transcript_reset()
        # Two streams (the slots are reused), one ending in a short chunk, several
        # requests in flight.
        for seed, count, chunk in ((3, 5 * 4096 + 17, 4096), (4, 3 * 4096, 4096)):
            seen: list[tuple[int, int]] = []
            got = stream_eval.evaluate_stream(rp, op, seed, count, chunk,
                                              on_chunk=lambda i, n, _leaf, seen=seen: seen.append((i, n)))
            assert got == stream_eval.evaluate_stream(local, op, seed, count, chunk)
            assert seen == [(i, min(chunk, count - i * chunk)) for i in range(-(-count // chunk))]
        assert rp.transcript() == local.transcript()
        assert rp.restarts == 0


def test_a_chunk_too_large_for_the_region_goes_inline(host: str, reference: Path) -> None:
    chunk = 1 << 20  # 24 MiB of inputs and outputs: two slots do not fit 32 MiB
    assert 2 * chunk * (ADD.in_bytes + ADD.out_bytes) > transport.SHM_BYTES
    with spawn(host, reference) as rp:
        assert rp.shared_region() is not None
        assert stream_eval.evaluate_stream(rp, ADD, 6, chunk + 5, chunk) == \
            stream_eval.evaluate_stream(load_probe(reference), ADD, 6, chunk + 5, chunk)


def test_the_unix_socket_gets_the_region_by_scm_rights(unix_host: UnixHost, reference: Path) -> None:
    local = load_probe(reference)
    with transport.connect(f"unix:{unix_host.path}") as rp:
        assert rp.shared_region() is not None, rp.shm_refusal
        rp.transcript_reset()
        local.transcript_reset()
        got = stream_eval.evaluate_stream(rp, ADD, 9, 6 * 8192, 8192)
        assert got == stream_eval.evaluate_stream(local, ADD, 9, 6 * 8192, 8192)
        assert rp.transcript() == local.transcript()


def test_tcp_stays_inline(host: str, reference: Path, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_bytes(b"t" * 40)
    token.chmod(0o600)
    proc = subprocess.Popen([host, "--probe", str(reference), "--listen", "tcp:127.0.0.1:0",
                             "--token-file", str(token)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        shown = proc.stdout.readline().split()[1]
        host_port = shown[4:].rsplit(":", 1)
        with socket.create_connection((host_port[0], int(host_port[1])), timeout=10) as s:
            # Even asked for it, a TCP host offers no shared memory.
            raw = Raw("", reference, sock=s)
            mtype, body = raw.call(frame(transport.CHALLENGE))
            assert mtype == transport.CHALLENGE | transport.REPLY
            proof = hostkey.auth_proof(b"t" * 40, body[:32])
            flags = transport.HELLO_WANT_SHM | transport.HELLO_AUTH_PROOF
            assert not raw.hello(struct.pack("<II", transport.PROTOCOL_VERSION, flags) + proof) \
                & transport.HELLO_SHM
            code, _msg = error_of(raw.call(attach_number(transport.SHM_FD_WITH_FRAME, MIB)))
            assert code == 5
        with transport.connect("tcp://" + shown[4:], token=b"t" * 40) as rp:
            assert rp.shared_region() is None
            local = load_probe(reference)
            assert stream_eval.evaluate_stream(rp, ADD, 2, 3 * 4096, 4096) == \
                stream_eval.evaluate_stream(local, ADD, 2, 3 * 4096, 4096)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_without_shared_memory_the_child_is_inline(host: str, reference: Path) -> None:
    with spawn(host, reference, shared_memory=False) as rp:
        assert rp.shared_region() is None
        assert stream_eval.evaluate_stream(rp, ADD, 2, 2 * 4096, 4096) == \
            stream_eval.evaluate_stream(load_probe(reference), ADD, 2, 2 * 4096, 4096)


def test_outputs_come_from_the_host_and_overlapping_ranges_are_safe(
        host: str, reference: Path) -> None:
    """The host copies inputs out before the probe runs and outputs in after: the
    client's stale bytes in the output area do not survive, and a request whose
    output range is its own input range still gets the probe's results."""
    with spawn(host, reference) as rp:
        region = rp.shared_region()
        assert region is not None
        region.view[0:32] = struct.pack("<QQQQ", ONE, ONE, ONE, TWO)
        region.view[4096:4104] = b"\xff" * 8
        rp.submit_shm(ADD, [(0, 4096, 1), (16, 16, 1)])
        rp.collect_shm()
        assert struct.unpack_from("<Q", region.view, 4096)[0] == TWO
        assert struct.unpack_from("<Q", region.view, 16)[0] == 0x4008000000000000  # 1 + 2


def test_several_requests_in_flight_are_answered_in_order(host: str, reference: Path) -> None:
    with spawn(host, reference) as rp:
        region = rp.shared_region()
        assert region is not None
        for k in range(4):
            region.view[64 * k : 64 * k + 16] = struct.pack("<QQ", ONE, ONE + k)
        for k in range(4):
            rp.submit_shm(ADD, [(64 * k, 4096 + 64 * k, 1)])
        assert rp.shm_inflight == 4
        for _ in range(4):
            rp.collect_shm()
        local = load_probe(reference)
        assert [struct.unpack_from("<Q", region.view, 4096 + 64 * k)[0] for k in range(4)] == \
            local.run_values(ADD, [(ONE, ONE + k) for k in range(4)])
        assert rp.shm_inflight == 0 and rp.restarts == 0


def test_an_unsupported_op_in_flight_is_reported_and_the_rest_drained(
        host: str, reference: Path) -> None:
    bogus = ops.get("f64.add.rne")
    with spawn(host, reference) as rp:
        region = rp.shared_region()
        assert region is not None
        # An op id the probe does not know: its call is refused (a status), the
        # request behind it is still answered and read, the session stays up.
        fake = _renamed(bogus, "f64.nothing.rne")
        rp.submit_shm(fake, [(0, 4096, 1)])
        rp.submit_shm(ADD, [(0, 8192, 1)])
        with pytest.raises(ProbeError, match=r"f64\.nothing\.rne") as info:
            rp.collect_shm()
        assert "\n" not in str(info.value)
        assert rp.shm_inflight == 0 and rp.restarts == 0
        assert rp.run_values(ADD, [(ONE, ONE)]) == [TWO]
        assert rp.restarts == 0


def test_a_caller_that_gives_up_mid_stream_leaves_no_answer_owed(host: str, reference: Path) -> None:
    """At the run's chunk size (four chunks per request, two requests in flight)."""
    class Enough(Exception):
        pass

    def stop_at_first(_index: int, _n: int, _leaf: bytes) -> None:
        raise Enough

    with spawn(host, reference) as rp:
        with pytest.raises(Enough):
            stream_eval.evaluate_stream(rp, ADD, 1, 12 * 65536, 65536, on_chunk=stop_at_first)
        assert rp.shm_inflight == 0
        # The session is in step: the next stream is right, on the same host.
        assert stream_eval.evaluate_stream(rp, ADD, 2, 4 * 4096, 4096) == \
            stream_eval.evaluate_stream(load_probe(reference), ADD, 2, 4 * 4096, 4096)
        assert rp.restarts == 0


def _renamed(op: ops.Op, new_id: str) -> ops.Op:
    import dataclasses
    return dataclasses.replace(op, id=new_id)


@pytest.mark.parametrize("inputs", ["copied", "generated"])
def test_the_transcript_covers_what_the_probe_computed_while_the_client_scribbles(
        host: str, reference: Path, inputs: str) -> None:
    """A hostile client writes over the output area the whole time the host works
    (RUN_SHM, or RUN_GEN, where the host also makes the inputs): the host's transcript
    (which it signs) must still be the in-process one of the same calls, because the
    probe computes and folds into the host's own memory."""
    import ctypes

    n, calls = 65536, 12
    local = load_probe(reference)
    s0 = stream_eval.stream_state(ADD, 5)
    inbuf, outbuf = local.new_buffer(n * 16), local.new_buffer(n * 8)
    stream_eval.native_generator(ADD, s0)(0, n, inbuf)
    with spawn(host, reference) as rp:
        region = rp.shared_region()
        assert region is not None and rp.generates_inputs()
        spec = stream_eval.gen_spec(ADD, s0)
        assert spec is not None
        region.view[0 : n * 16] = bytes(ffi_buffer(inbuf, n * 16))
        out_off = 8 << 20
        scribbler = mmap.mmap(region.fd, region.size)  # the client's own second mapping
        target = ctypes.addressof(ctypes.c_char.from_buffer(scribbler, out_off))
        stop = threading.Event()

        def scribble() -> None:
            k = 0
            while not stop.is_set():
                ctypes.memset(target, k & 0xFF, n * 8)  # releases the GIL
                k += 1

        rp.transcript_reset()
        local.transcript_reset()
        worker = threading.Thread(target=scribble, daemon=True)
        worker.start()
        try:
            for _ in range(calls):
                if inputs == "copied":
                    rp.submit_shm(ADD, [(0, out_off, n)])
                else:
                    rp.submit_gen(ADD, spec, [(0, out_off, n)])
                rp.collect_shm()
                local.run_into(ADD, inbuf, outbuf, n)
        finally:
            stop.set()
            worker.join()
        assert rp.transcript() == local.transcript()


def ffi_buffer(buf: Any, size: int) -> Any:
    from teecert.probe.library import ffi

    return ffi.buffer(buf, size)


# ------------------------------------------------ a host that misbehaves


def test_a_probe_that_crashes_mid_pipeline_is_one_line(host: str) -> None:
    with spawn(host, misbehaving(1)) as rp:
        with pytest.raises(ProbeError) as info:
            stream_eval.evaluate_stream(rp, DIV, 1, 4 * 4096, 4096)
        msg = str(info.value)
        assert "\n" not in msg
        assert msg.startswith("probe crashed with SIGSEGV during f64.div.rne (batch of ")
        assert "child-process" in msg
        assert rp.shm_inflight == 0
        # The next call starts a fresh host, which gets the region again.
        assert rp.run_values(ADD, [(ONE, ONE)]) == [TWO]
        assert rp.shared_region() is not None and rp.restarts == 1


def test_a_probe_that_hangs_mid_pipeline_times_out(host: str) -> None:
    with spawn(host, misbehaving(2), timeout=1.5) as rp:
        with pytest.raises(ProbeError) as info:
            stream_eval.evaluate_stream(rp, DIV, 1, 4 * 4096, 4096)
        msg = str(info.value)
        assert "\n" not in msg and msg.startswith("probe timed out after 1.5 s during f64.div.rne")
        assert rp.shm_inflight == 0


def test_a_probe_that_crashes_behind_a_unix_socket_is_one_line(host: str, tmp_path: Path) -> None:
    h = UnixHost(host, misbehaving(1), tmp_path / "crash.sock")
    try:
        with transport.connect(f"unix:{h.path}") as rp:
            assert rp.shared_region() is not None
            with pytest.raises(ProbeError, match=r"^probe crashed with SIGSEGV during f64\.div\.rne"):
                stream_eval.evaluate_stream(rp, DIV, 1, 4 * 4096, 4096)
    finally:
        h.stop()


# ------------------------------------------ a client that misbehaves


OUTSIDE = [
    ("inputs past the end", shm_item("f64.add.rne", 1, MIB - 8, 16, 0, 8), "inputs at"),
    ("inputs start past the end", shm_item("f64.add.rne", 1, MIB + 8, 16, 0, 8), "inputs at"),
    ("input range wraps around", shm_item("f64.add.rne", 1, 2**64 - 8, 16, 0, 8), "inputs at"),
    ("outputs past the end", shm_item("f64.add.rne", 1, 0, 16, MIB - 4, 8), "outputs at"),
    ("output range wraps around", shm_item("f64.add.rne", 1, 0, 16, 8, 2**64 - 4), "outputs at"),
    ("output length past the end", shm_item("f64.add.rne", 1, 0, 16, 0, MIB + 1), "outputs at"),
]


@pytest.mark.parametrize("item,why", [(i, w) for _n, i, w in OUTSIDE], ids=[n for n, _i, _w in OUTSIDE])
def test_ranges_outside_the_region_are_refused(attached: tuple[Raw, mmap.mmap, int], item: bytes,
                                               why: str) -> None:
    raw, region, _fd = attached
    region[0:8] = b"\x5a" * 8
    code, msg = error_of(raw.call(run_shm(item)))
    assert code == 1 and why in msg and "region" in msg, msg
    assert region[0:8] == b"\x5a" * 8  # nothing was written
    still_serves(raw)


def test_a_bad_item_refuses_the_whole_request_before_anything_runs(
        attached: tuple[Raw, mmap.mmap, int]) -> None:
    raw, region, _fd = attached
    region[0:16] = struct.pack("<QQ", ONE, ONE)
    region[64:72] = b"\x00" * 8
    good = shm_item("f64.add.rne", 1, 0, 16, 64, 8)
    bad = shm_item("f64.add.rne", 1, 0, 16, MIB, 8)
    code, msg = error_of(raw.call(run_shm(good, bad)))
    assert code == 1 and "item 1" in msg
    assert region[64:72] == b"\x00" * 8  # the good item did not run either
    mtype, body = raw.call(run_shm(good))
    assert mtype == transport.RUN_SHM | transport.REPLY
    assert struct.unpack_from("<IIiIQ", body) == (1, 0, 0, 0, 8)
    assert struct.unpack_from("<Q", region, 64)[0] == TWO


def test_malformed_run_shm_frames_are_refused(attached: tuple[Raw, mmap.mmap, int]) -> None:
    raw, _region, _fd = attached
    item = shm_item("f64.add.rne", 1, 0, 16, 64, 8)
    cases = [
        frame(transport.RUN_SHM, b"\0" * 4),
        frame(transport.RUN_SHM, struct.pack("<II", 0, 0)),
        frame(transport.RUN_SHM, struct.pack("<II", 2, 0) + item),
        frame(transport.RUN_SHM, struct.pack("<II", 1, 0) + item + b"\0" * 8),
        frame(transport.RUN_SHM, struct.pack("<II", 1, 0) + item[:40]),
        frame(transport.RUN_SHM, struct.pack("<II", 1, 0) + struct.pack("<IIQQQQQ", 0, 0, 1, 0, 16, 64, 8)),
        run_shm(shm_item("f64.add.rne", 1 << 23, 0, 16 << 23, 0, 8)),  # past the frame limit
    ]
    for data in cases:
        code, msg = error_of(raw.call(data))
        assert code in (1, 3) and msg.startswith("RUN_SHM"), msg
    still_serves(raw)


def test_run_shm_before_a_region_is_attached_is_a_state_error(host: str, reference: Path) -> None:
    raw = Raw(host, reference)
    try:
        raw.hello()
        code, msg = error_of(raw.call(run_shm(shm_item("f64.add.rne", 1, 0, 16, 64, 8))))
        assert code == 5 and "SHM_ATTACH first" in msg
        still_serves(raw)
    finally:
        raw.close()


def test_attach_without_asking_in_hello_is_a_state_error(host: str, reference: Path) -> None:
    fd, region = memfd()
    raw = Raw(host, reference, pass_fds=(fd,))
    try:
        assert not raw.hello(struct.pack("<II", transport.PROTOCOL_VERSION, 0)) & transport.HELLO_SHM
        code, msg = error_of(raw.call(attach_number(fd, MIB)))
        assert code == 5 and "without shared memory offered in HELLO" in msg, msg
        still_serves(raw)
    finally:
        raw.close()
        region.close()
        os.close(fd)


def test_a_protocol_2_hello_gets_no_shared_memory(host: str, reference: Path) -> None:
    raw = Raw(host, reference)
    try:
        mtype, body = raw.call(frame(transport.HELLO, struct.pack("<II", 2, 0)))
        assert mtype == transport.HELLO | transport.REPLY
        proto, _abi, _mf, flags = struct.unpack_from("<IIII", body)
        assert proto == 2 and not flags & transport.HELLO_SHM
        code, _msg = error_of(raw.call(attach_number(3, MIB)))
        assert code == 5
        still_serves(raw)
    finally:
        raw.close()


def _attach_refusal(host: str, reference: Path, fd: int, named: int, size: int) -> tuple[int, str]:
    raw = Raw(host, reference, pass_fds=(fd,))
    try:
        assert raw.hello() & transport.HELLO_SHM
        reply = error_of(raw.call(attach_number(named, size)))
        still_serves(raw)
        code, _ = error_of(raw.call(run_shm(shm_item("f64.add.rne", 1, 0, 16, 64, 8))))
        assert code == 5  # nothing is attached after a refusal
        return reply
    finally:
        raw.close()


def test_attach_refuses_an_unsealed_memfd(host: str, reference: Path) -> None:
    fd, region = memfd(seal=False)
    try:
        code, msg = _attach_refusal(host, reference, fd, fd, MIB)
        assert code == 1 and "sealed against shrinking" in msg
    finally:
        region.close()
        os.close(fd)


def test_attach_refuses_a_regular_file(host: str, reference: Path, tmp_path: Path) -> None:
    path = tmp_path / "plain"
    path.write_bytes(b"\0" * MIB)
    fd = os.open(path, os.O_RDWR)
    try:
        code, msg = _attach_refusal(host, reference, fd, fd, MIB)
        assert code == 1 and "not a memfd" in msg
    finally:
        os.close(fd)


@pytest.mark.parametrize("named", [0, 1, 2, 0xFFFFFFFF])
def test_attach_refuses_the_hosts_own_descriptors(host: str, reference: Path, named: int) -> None:
    fd, region = memfd()
    try:
        code, msg = _attach_refusal(host, reference, fd, named, MIB)
        assert code == 1 and "not an inherited memfd" in msg
    finally:
        region.close()
        os.close(fd)


@pytest.mark.parametrize("size,why", [(2 * MIB, "the memfd is smaller"), (100, "allowed"),
                                      ((1 << 30) + 4096, "allowed")])
def test_attach_refuses_a_size_the_region_does_not_have(host: str, reference: Path, size: int,
                                                        why: str) -> None:
    fd, region = memfd()
    try:
        code, msg = _attach_refusal(host, reference, fd, fd, size)
        assert code == 1 and why in msg, msg
    finally:
        region.close()
        os.close(fd)


def _unix_raw(h: UnixHost, reference: Path) -> Raw:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(h.path))
    return Raw("", reference, sock=s)


def test_unix_attach_needs_the_descriptor_with_the_frame(unix_host: UnixHost, reference: Path) -> None:
    fd, region = memfd()
    raw = _unix_raw(unix_host, reference)
    try:
        assert raw.hello() & transport.HELLO_SHM
        # A descriptor sent with another frame is not kept for a later SHM_ATTACH.
        still_serves_with = frame(transport.DESCRIBE)
        assert raw.call(still_serves_with, fds=(fd,))[0] == transport.DESCRIBE | transport.REPLY
        code, msg = error_of(raw.call(attach_number(transport.SHM_FD_WITH_FRAME, MIB)))
        assert code == 1 and "SCM_RIGHTS" in msg
        # A number is meaningless across a socket.
        code, msg = error_of(raw.call(attach_number(fd, MIB), fds=(fd,)))
        assert code == 1 and "SCM_RIGHTS" in msg
        mtype, body = raw.call(attach_number(transport.SHM_FD_WITH_FRAME, MIB), fds=(fd,))
        assert (mtype, body) == (transport.SHM_ATTACH | transport.REPLY, struct.pack("<Q", MIB))
        region[0:16] = struct.pack("<QQ", ONE, ONE)
        mtype, body = raw.call(run_shm(shm_item("f64.add.rne", 1, 0, 16, 64, 8)))
        assert mtype == transport.RUN_SHM | transport.REPLY
        assert struct.unpack_from("<Q", region, 64)[0] == TWO
    finally:
        raw.close()
        region.close()
        os.close(fd)


def test_unix_attach_refuses_an_unsealed_memfd(unix_host: UnixHost, reference: Path) -> None:
    fd, region = memfd(seal=False)
    raw = _unix_raw(unix_host, reference)
    try:
        raw.hello()
        code, msg = error_of(raw.call(attach_number(transport.SHM_FD_WITH_FRAME, MIB), fds=(fd,)))
        assert code == 1 and "sealed against shrinking" in msg
        still_serves(raw)
    finally:
        raw.close()
        region.close()
        os.close(fd)


def test_the_client_reports_a_refused_range_in_one_line(host: str, reference: Path) -> None:
    with spawn(host, reference) as rp:
        assert rp.shared_region() is not None
        rp.submit_shm(ADD, [(transport.SHM_BYTES - 8, 0, 1)])
        with pytest.raises(ProbeError) as info:
            rp.collect_shm()
        msg = str(info.value)
        assert "\n" not in msg and "host refused f64.add.rne (batch of 1) (malformed)" in msg
        assert "outside the 33554432-byte region" in msg
        assert rp.run_values(ADD, [(ONE, ONE)]) == [TWO]


# ------------------------------------------------ an older host


def _old_host_opener(first_code: int, log: list[tuple[int, int]]) -> Callable[[], transport._Channel]:
    import json

    desc = json.dumps({"name": "old", "abi": 1, "ops": ["f64.add.rne"]}).encode()
    path = b"/old/lib.so"

    def serve(s: socket.socket) -> None:
        try:
            raw = Raw("", Path(), sock=s)
            mtype, body = raw.recv()
            version, flags = struct.unpack_from("<II", body)
            log.append((version, flags))
            if version != 2:
                raw.send(frame(transport.ERROR, struct.pack("<I", first_code) + b"speaks wire protocol 2"))
                return
            raw.send(frame(transport.HELLO | transport.REPLY,
                           struct.pack("<IIII", 2, 1, 1 << 26, 1) + b"\x11" * 32
                           + struct.pack("<II", len(desc), len(path)) + desc + path))
            mtype, body = raw.recv()
            assert mtype == transport.RUN
            raw.send(frame(transport.RUN | transport.REPLY, struct.pack("<IIiIQQ", 1, 0, 0, 0, 8, TWO)))
            raw.recv()
        except (OSError, EOFError, AssertionError):
            pass
        finally:
            s.close()

    def opener() -> transport._Channel:
        a, b = socket.socketpair()
        threading.Thread(target=serve, args=(b,), daemon=True).start()
        return transport._SocketChannel(a, "unix")

    return opener


@pytest.mark.parametrize("first_code", [4, 1], ids=["version", "malformed-flags"])
def test_an_older_host_is_spoken_to_inline(first_code: int) -> None:
    log: list[tuple[int, int]] = []
    region = transport.SharedRegion.create()
    assert region is not None
    try:
        rp = transport.RemoteProbe(_old_host_opener(first_code, log), "old", "unix", 5.0, region=region)
        assert log == [(3, transport.HELLO_WANT_SHM), (2, 0)]
        assert rp.shared_region() is None
        assert rp.run_values(ADD, [(ONE, ONE)]) == [TWO]
        rp.close()
    finally:
        region.close()


def test_unsupported_is_still_unsupported_through_the_region(host: str, reference: Path) -> None:
    op = _renamed(ADD, "f64.add.nope")
    with spawn(host, reference) as rp:
        with pytest.raises((UnsupportedOp, ProbeError)):
            stream_eval.evaluate_stream(rp, op, 1, 2 * 4096, 4096)
        assert rp.shm_inflight == 0 and rp.restarts == 0
