"""RUN_GEN (docs/wire-protocol.md, "Shared memory"): the probe host makes a stream's
inputs itself, with the same generators as the harness (native/accel/mixgen.c and
datagen.c), and only outputs cross the shared region.

The leaves and transcript of a stream through RUN_GEN are the in-process ones and,
over a short stream, the ones of the pure-Python generators (the specification),
on the host's AVX-512 and scalar paths alike; a request whose generator, arity,
width, libm domain, data rule or output range is wrong gets a one-line ERROR before
anything runs, and the session goes on.  (A client that scribbles over the output area
while the host works: test_transport_shm.py, for RUN_SHM and RUN_GEN.)

``TEECERT_SHM_TEST_HOST`` runs these tests against another build of the host.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostwire import HELLO_V3, MIB, Raw, attach_number, error_of, frame, memfd, still_serves

from teecert import ops
from teecert.errors import ProbeError, UsageError
from teecert.probe import remote as transport
from teecert.probe import streams as stream_eval
from teecert.probe.library import load_probe

ADD = ops.get("f64.add.rne")
FMA = ops.get("f64.fma.rne")

#: binary and ternary f64, unary and binary f32, libm functions of both formats, and
#: a data op of every rule of teecert-data-v1
GEN_OPS = ("f64.add.rne", "f64.fma.rne", "f32.sqrt.rtz", "f32.mul.rtz", "f64.exp.rne", "f32.pow.rne",
           "i32.clz", "i64.shl", "i64.div_s", "i32.add", "f32.to_i32_sat", "i64.to_f32.rne", "u64.to_f64.rne",
           "f64.to_dec", "rec.serialize", "u64.sort_stable", "hash.sha256", "f64.from_dec")


class Calls:
    """Counts the RUN_GEN and RUN_SHM requests a RemoteProbe sends."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gen = self.shm = 0
        real_gen, real_shm = transport.RemoteProbe.submit_gen, transport.RemoteProbe.submit_shm

        def submit_gen(rp: transport.RemoteProbe, *a: Any) -> None:
            self.gen += 1
            real_gen(rp, *a)

        def submit_shm(rp: transport.RemoteProbe, *a: Any) -> None:
            self.shm += 1
            real_shm(rp, *a)

        monkeypatch.setattr(transport.RemoteProbe, "submit_gen", submit_gen)
        monkeypatch.setattr(transport.RemoteProbe, "submit_shm", submit_shm)


# ------------------------------------------------------ the stream loop


@pytest.mark.parametrize("op_id", GEN_OPS)
def test_generated_streams_give_the_in_process_leaves_and_transcript(
        host: str, reference: Path, op_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    op = ops.get(op_id)
    calls = Calls(monkeypatch)
    monkeypatch.setattr(stream_eval, "SHM_GEN_VECTORS", 3 * 4096)  # several requests per stream
    local = load_probe(reference)
    with transport.spawn([host, "--probe", str(reference)]) as rp:
        assert rp.shared_region() is not None and rp.generates_inputs(), rp.shm_refusal
        rp.transcript_reset()
        local.transcript_reset()
        for seed, count, chunk in ((3, 5 * 4096 + 17, 4096), (4, 3 * 4096, 4096)):
            got = stream_eval.evaluate_stream(rp, op, seed, count, chunk)
            assert got == stream_eval.evaluate_stream(local, op, seed, count, chunk)
        assert rp.transcript() == local.transcript()
        assert rp.restarts == 0
    assert calls.gen >= 4 and calls.shm == 0


def spec_leaves(local: Any, op: ops.Op, seed: int, count: int, chunk: int) -> list[bytes]:
    """The leaves of ``local``'s outputs over inputs from the Python generators."""
    from teecert.vectors import merkle
    from teecert.vectors.streams import data as data_streams

    leaves = []
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        packed = (data_streams.packed_inputs(op, seed, start, n) if op.kind in ops.DATA_KINDS
                  else stream_eval.pack_inputs(op, stream_eval.vectors(op, seed, start, n)))
        leaves.append(merkle.leaf_hash(local.run(op, packed, n)))
    return leaves


@pytest.mark.parametrize("scalar", [False, True], ids=["host's best path", "host's scalar path"])
@pytest.mark.parametrize("op_id", GEN_OPS)
def test_generated_inputs_follow_the_python_specification(host: str, reference: Path, op_id: str,
                                                          scalar: bool) -> None:
    """Leaves of the host's generated inputs against those of the inputs the Python
    generators (docs/vectors.md's specification) make, chunk sizes not a multiple
    of the eight lanes."""
    op = ops.get(op_id)
    local = load_probe(reference)
    count, chunk = 2 * 333 + 5, 333
    want = spec_leaves(local, op, 11, count, chunk)
    env = {**os.environ, "TEECERT_ACCEL_SCALAR": "1"} if scalar else None
    with transport.spawn([host, "--probe", str(reference)], env=env) as rp:
        assert rp.shared_region() is not None and rp.generates_inputs()
        assert stream_eval.evaluate_stream(rp, op, 11, count, chunk) == want


def test_every_data_rule_the_specification_uses_is_one_the_host_takes() -> None:
    """The host's table of (rule, width, arg) and their input sizes (datagen.c's
    teecert_data_in_bytes) against every data op of the catalogue."""
    from teecert._internal import accel
    from teecert.vectors.streams import data as data_streams

    lib = accel.load()
    if lib is None:
        pytest.skip("teecert._accel is not built")
    for op in ops.CATALOGUE.values():
        if op.kind in ops.DATA_KINDS:
            assert lib.lib.teecert_data_in_bytes(*data_streams.native_rule(op)) == op.in_bytes, op.id


def test_turning_generation_off_gives_the_same_leaves(host: str, reference: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls(monkeypatch)
    with transport.spawn([host, "--probe", str(reference)]) as rp:
        on = stream_eval.evaluate_stream(rp, FMA, 6, 4 * 4096, 4096)
        monkeypatch.setattr(stream_eval, "HOST_GENERATES", False)
        assert stream_eval.evaluate_stream(rp, FMA, 6, 4 * 4096, 4096) == on
    assert calls.gen >= 1 and calls.shm >= 1


def test_a_refused_call_is_reported_and_the_session_goes_on(host: str, reference: Path) -> None:
    """A call the probe refuses (an op id it does not know) answers with its status
    in one line; the request behind it is still read and the session serves the
    next stream without a restart."""
    import dataclasses

    fake = dataclasses.replace(ADD, id="f64.nothing.rne")
    with transport.spawn([host, "--probe", str(reference)]) as rp:
        with pytest.raises(ProbeError, match=r"f64\.nothing\.rne") as info:
            stream_eval.evaluate_stream(rp, fake, 1, 4 * 4096, 4096)
        assert "\n" not in str(info.value)
        assert rp.shm_inflight == 0
        assert stream_eval.evaluate_stream(rp, ADD, 1, 4096, 4096) == \
            stream_eval.evaluate_stream(load_probe(reference), ADD, 1, 4096, 4096)
        assert rp.restarts == 0


# ------------------------------------------------ the client's checks


def test_a_spec_that_is_not_the_ops_inputs_is_refused_before_sending(host: str, reference: Path) -> None:
    with transport.spawn([host, "--probe", str(reference)]) as rp:
        assert rp.generates_inputs()
        bad = transport.GenSpec(transport.GEN_MIX, 1, (2, 64))  # fma has three operands
        with pytest.raises(UsageError, match=r"^f64\.fma\.rne: a stream of 2 operands of 64 bits"):
            rp.submit_gen(FMA, bad, [(0, 0, 16)])
        assert rp.shm_inflight == 0


def test_an_inline_host_does_not_generate(host: str, reference: Path) -> None:
    with transport.spawn([host, "--probe", str(reference)], shared_memory=False) as rp:
        assert rp.shared_region() is None and not rp.generates_inputs()
        spec = transport.GenSpec(transport.GEN_MIX, 1, (2, 64))
        with pytest.raises(ProbeError, match="no shared region attached"):
            rp.submit_gen(ADD, spec, [(0, 0, 16)])


# ------------------------------------------ a client that misbehaves


def gen_item(op: str = "f64.add.rne", n: int = 4, generator: int = 1, s0: int = 7, start: int = 0,
             params: tuple[int, ...] = (2, 64), out_off: int = 0, out_bytes: int | None = None) -> bytes:
    opb = op.encode()
    if out_bytes is None:
        out_bytes = n * ops.get(op).out_bytes
    words = list(params) + [0] * (14 - len(params))
    return struct.pack("<IIQQQQQ14i", len(opb), generator, n, s0, start, out_off, out_bytes, *words) + \
        opb + b"\0" * (-len(opb) % 8)


def run_gen(*items: bytes) -> bytes:
    return frame(transport.RUN_GEN, struct.pack("<II", len(items), 0) + b"".join(items))


@pytest.fixture
def attached(host: str, reference: Path) -> Iterator[tuple[Raw, mmap.mmap]]:
    """A child host with a 1 MiB region attached by number, RUN_GEN offered."""
    fd, region = memfd()
    raw = Raw(host, reference, pass_fds=(fd,))
    flags = raw.hello()
    assert flags & transport.HELLO_SHM and flags & transport.HELLO_GEN
    assert raw.call(attach_number(fd, MIB))[0] == transport.SHM_ATTACH | transport.REPLY
    yield raw, region
    raw.close()
    region.close()
    os.close(fd)


def test_a_raw_request_answers_the_python_generators_outputs(attached: tuple[Raw, mmap.mmap],
                                                              reference: Path) -> None:
    """The reply's layout, and outputs at the offset named: the in-process probe's
    outputs for the inputs the Python generator makes, vectors 5..9."""
    raw, region = attached
    s0 = stream_eval.stream_state(ADD, 3)
    mtype, body = raw.call(run_gen(gen_item(n=5, s0=s0, start=5, out_off=4096)))
    assert mtype == transport.RUN_GEN | transport.REPLY
    assert struct.unpack_from("<IIiIQ", body) == (1, 0, 0, 0, 40) and len(body) == 24
    packed = stream_eval.pack_inputs(ADD, stream_eval.vectors(ADD, 3, 5, 5))
    assert region[4096 : 4096 + 40] == load_probe(reference).run(ADD, packed, 5)


def _libm(width: int, *doms: tuple[int, int, int]) -> tuple[int, ...]:
    return (len(doms), width, *(x for d in doms for x in d))


REFUSED = [
    ("generator 0", gen_item(generator=0), 1, "unknown generator"),
    ("generator 4", gen_item(generator=4), 1, "unknown generator"),
    ("arity 0", gen_item(params=(0, 64)), 1, "arity outside 1..4"),
    ("arity 5", gen_item(params=(5, 64)), 1, "arity outside 1..4"),
    ("width 16", gen_item(params=(2, 16)), 1, "width is neither 32 nor 64"),
    ("width 128", gen_item(params=(2, 128)), 1, "width is neither 32 nor 64"),
    ("a domain for teecert-mix-v1", gen_item(params=(2, 64, 0, 1)), 1, "does not take is not 0"),
    ("a libm domain reversed", gen_item("f64.exp.rne", generator=2, params=_libm(64, (5, 2, 1))), 1,
     "outside the format's normal exponents"),
    ("a libm domain below binary64's", gen_item("f64.exp.rne", generator=2, params=_libm(64, (-1023, 2, 1))), 1,
     "normal exponents"),
    ("a libm domain above binary32's", gen_item("f32.exp.rne", generator=2, params=_libm(32, (0, 128, 1))), 1,
     "normal exponents"),
    ("a libm sign flag of 2", gen_item("f64.exp.rne", generator=2, params=_libm(64, (0, 2, 2))), 1,
     "normal exponents"),
    ("a libm domain past the arity", gen_item("f64.exp.rne", generator=2, params=(1, 64, 0, 2, 1, 0, 2, 1)), 1,
     "a domain past the arity"),
    ("data rule 0", gen_item("i64.add", generator=3, params=(0, 64, 0)), 1, "not a (rule, width, arg)"),
    ("data rule 12", gen_item("i64.add", generator=3, params=(12, 0, 0)), 1, "not a (rule, width, arg)"),
    ("a data width of 16", gen_item("i64.add", generator=3, params=(4, 16, 0)), 1, "not a (rule, width, arg)"),
    ("an int to float precision of 7", gen_item("i64.to_f64.rne", generator=3, params=(6, 64, 256 | 7)), 1,
     "not a (rule, width, arg)"),
    ("a hash stream with a width", gen_item("hash.sha256", generator=3, params=(10, 64, 0)), 1, "not a (rule, width, arg)"),
    ("a fourth data parameter", gen_item("i64.add", generator=3, params=(4, 64, 0, 1)), 1, "does not take is not 0"),
    ("outputs past the region", gen_item(out_off=MIB - 8), 1, "outputs at"),
    ("an output range that wraps", gen_item(out_off=8, out_bytes=2**64 - 4), 3, "more than"),
    ("inputs past the frame limit", gen_item(n=1 << 23), 3, "more than"),
    ("hash inputs past the frame limit", gen_item("hash.sha256", n=1 << 17, generator=3, params=(10, 0, 0)), 3,
     "more than"),
    ("an op id of 0 bytes", struct.pack("<IIQQQQQ14i", 0, 1, 1, 0, 0, 0, 8, 2, 64, *(0,) * 12), 1,
     "op id of 0 bytes"),
]


@pytest.mark.parametrize("item,code,why", [(i, c, w) for _n, i, c, w in REFUSED],
                         ids=[n for n, _i, _c, _w in REFUSED])
def test_bad_items_are_refused_in_one_line_and_nothing_runs(attached: tuple[Raw, mmap.mmap], item: bytes,
                                                            code: int, why: str) -> None:
    raw, region = attached
    region[0:64] = b"\x5a" * 64
    good = gen_item(out_off=0)
    got, msg = error_of(raw.call(run_gen(good, item)))
    assert got == code and msg.startswith("RUN_GEN item 1: ") and why in msg, msg
    assert "\n" not in msg
    assert region[0:64] == b"\x5a" * 64  # the good item did not run either
    still_serves(raw)


def test_malformed_run_gen_frames_are_refused(attached: tuple[Raw, mmap.mmap]) -> None:
    raw, _region = attached
    item = gen_item()
    for data in (frame(transport.RUN_GEN, b"\0" * 4),
                 frame(transport.RUN_GEN, struct.pack("<II", 0, 0)),
                 frame(transport.RUN_GEN, struct.pack("<II", 2, 0) + item),
                 frame(transport.RUN_GEN, struct.pack("<II", 1, 0) + item + b"\0" * 8),
                 frame(transport.RUN_GEN, struct.pack("<II", 1, 0) + item[:100])):
        code, msg = error_of(raw.call(data))
        assert code == 1 and msg.startswith("RUN_GEN") and "\n" not in msg, msg
    still_serves(raw)


def test_a_wrong_arity_for_the_op_is_the_probes_argument_error(attached: tuple[Raw, mmap.mmap]) -> None:
    """The host generates what it is asked; the probe checks that the input bytes
    fit the op (two operands for fma are too few) and nothing is written."""
    raw, region = attached
    region[0:32] = b"\x5a" * 32
    mtype, body = raw.call(run_gen(gen_item("f64.fma.rne", n=4, params=(2, 64))))
    assert mtype == transport.RUN_GEN | transport.REPLY
    status, _pad, out_len = struct.unpack_from("<iIQ", body, 8)
    assert status != 0 and out_len == 0
    assert region[0:32] == b"\x5a" * 32
    still_serves(raw)


def test_run_gen_before_a_region_is_attached_is_a_state_error(host: str, reference: Path) -> None:
    raw = Raw(host, reference)
    try:
        assert raw.hello() & transport.HELLO_GEN
        code, msg = error_of(raw.call(run_gen(gen_item())))
        assert code == 5 and msg.startswith("RUN_GEN without an attached region"), msg
    finally:
        raw.close()


def test_hello_offers_run_gen_only_with_shared_memory(host: str, reference: Path) -> None:
    for payload, offered in ((HELLO_V3, True),
                             (struct.pack("<II", transport.PROTOCOL_VERSION, 0), False),
                             (struct.pack("<II", transport.PROTOCOL_INLINE, 0), False)):
        raw = Raw(host, reference)
        try:
            assert bool(raw.hello(payload) & transport.HELLO_GEN) == offered
        finally:
            raw.close()
