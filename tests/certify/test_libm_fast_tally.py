"""The libm suite's fast chunk tally (``judge.libm._fast_tally``, over
``reference.libm.cr_candidates`` and ``differences``, native/accel/libm_cr.c) against
the tally that computes every correctly rounded output with MPFR and every error with
``libm.ulp_error`` (``judge.libm.tally_exact``): the same count, the same largest
error as the same float, the same first difference, on small chunks of the libm
streams with the platform's outputs, perturbed correctly rounded outputs and
correctly rounded ones; and a wrong or doubtful candidate from C never reaches a
result."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from teecert import ops
from teecert._internal import accel
from teecert.certify.judge import libm as judge
from teecert.certify.session import TrackedProbe
from teecert.errors import MalformedInput
from teecert.probe.library import Probe
from teecert.reference import libm
from teecert.vectors import merkle
from teecert.vectors.generate import pack_outputs
from teecert.vectors.store import Stream, load_set
from teecert.vectors.streams.inputs import chunk_inputs

pytestmark = pytest.mark.skipif(libm.cr_candidates("exp", "f64", b"", 0) is None,
                                reason="the accelerator has no long double libm here")

#: binary and unary functions in both formats; the chunks are small (N vectors)
OPS = ["f64.pow.rne", "f32.pow.rne", "f64.atan2.rne", "f32.atan2.rne", "f64.hypot.rne",
       "f32.hypot.rne", "f64.exp.rne", "f32.log1p.rne", "f64.sin.rne", "f32.tan.rne",
       "f64.erf.rne", "f32.cosh.rne"]
N = 3000
#: where the chunk starts in the stream
START = 70_000


@pytest.fixture(scope="module")
def streams() -> dict[str, Stream]:
    loaded: dict[str, Stream] = load_set().streams()
    return loaded



@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield


def chunk(st: Stream, start: int = START, n: int = N) -> tuple[ops.Op, bytes, list[int], bytes]:
    """(op, packed inputs, correctly rounded outputs by MPFR, their leaf)."""
    op = st.op
    packed = chunk_inputs(op, st.seed, start, n)
    want = libm.mpfr_values(op.name, op.fmt, op.unpack_inputs(packed, n))
    return op, packed, want, merkle.leaf_hash(pack_outputs(op, want))


def both(op: ops.Op, packed: bytes, outputs: Sequence[int], committed: bytes,
         n: int = N) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(fast tally, exact tally) of the same chunk."""
    raw = pack_outputs(op, list(outputs))
    fast = judge._fast_tally(op, START, n, packed, raw, committed)
    slow = judge.tally_exact(op, START, op.unpack_inputs(packed, n), list(outputs), committed, 0)
    return fast, slow


def perturbed(fmt: ops.FloatFormat, want: Sequence[int]) -> list[int]:
    """``want`` with every 7th output changed: ulps either way, NaNs, infinities,
    sign flips, zeros."""
    out = list(want)
    mag_mask = fmt.mask >> 1
    for k, i in enumerate(range(0, len(out), 7)):
        w = out[i]
        mag = w & mag_mask
        kind = k % 10
        if kind < 4 and 2 < mag < fmt.inf - 2:
            out[i] = w + (1, -1, 2, -2)[kind]
        elif kind == 4:
            out[i] = fmt.canonical_nan
        elif kind == 5:
            out[i] = fmt.inf | fmt.quiet_bit | 0x55  # a NaN with a payload
        elif kind == 6:
            out[i] = fmt.inf
        elif kind == 7:
            out[i] = fmt.inf | fmt.sign_bit
        elif kind == 8:
            out[i] = w ^ fmt.sign_bit
        else:
            out[i] = 0 if w else 1
    return out


@pytest.mark.parametrize("op_id", OPS)
def test_the_platform_outputs(op_id: str, streams: dict[str, Stream], probe: Probe) -> None:
    op, packed, _want, committed = chunk(streams[op_id])
    got = op.unpack_outputs(probe.run(op, packed, N), N)
    fast, slow = both(op, packed, got, committed)
    assert fast == slow


@pytest.mark.parametrize("op_id", OPS)
def test_perturbed_and_correctly_rounded_outputs(op_id: str, streams: dict[str, Stream]) -> None:
    op, packed, want, committed = chunk(streams[op_id])
    fast, slow = both(op, packed, perturbed(op.fmt, want), committed)
    assert fast == slow
    assert slow["differ"] > N // 8 and float(slow["max_ulp"]) == math.inf
    fast, slow = both(op, packed, want, committed)
    assert fast == slow == {"differ": 0, "max_ulp": "0.0", "first": None}


@pytest.mark.parametrize("op_id", ["f64.exp.rne", "f32.pow.rne"])
def test_a_few_ulps_off_everywhere(op_id: str, streams: dict[str, Stream]) -> None:
    """Many finite differences of similar sizes: the largest is found among them, as
    the same float."""
    op, packed, want, committed = chunk(streams[op_id])
    mag_mask = op.fmt.mask >> 1
    got = [w + 1 + i % 3 if 3 < w & mag_mask < op.fmt.inf - 3 else w for i, w in enumerate(want)]
    fast, slow = both(op, packed, got, committed)
    assert fast == slow
    assert 1 < float(slow["max_ulp"]) < 8  # 6 and a bit across a binade


def test_hard_cases_are_correctly_rounded() -> None:
    """Special operands, midpoints, subnormal and overflowing results, published worst
    cases: the candidates (C, MPFR where C is in doubt) are the correctly rounded
    outputs for every function and format."""
    for fmt in ("f32", "f64"):
        for fn in libm.FUNCTIONS:
            op = ops.get(f"{fmt}.{fn}.rne")
            cases = libm.hard_cases(fn, fmt)
            cand = libm.cr_candidates(fn, fmt, op.pack_inputs(cases), len(cases))
            assert cand == pack_outputs(op, libm.mpfr_values(fn, fmt, cases)), op.id


def test_an_exact_midpoint_is_left_to_mpfr() -> None:
    mod = accel.load()
    op = ops.get("f64.hypot.rne")
    x, y = (float.fromhex(s) for s in ("0x1.000001cc784cbp+52", "0x1.fdd67bceb35fp+52"))
    packed = struct.pack("<dddd", x, y, 3.0, 4.0)
    out = mod.ffi.new("unsigned char[]", 16)
    amb = mod.ffi.new("uint32_t[]", 2)
    k = mod.lib.teecert_libm_cr(b"hypot", 64, mod.ffi.from_buffer(packed), 2, out, amb)
    assert (k, amb[0]) == (1, 0)
    assert struct.unpack("<d", mod.ffi.buffer(out)[8:16]) == (5.0,)
    want = libm.mpfr_values("hypot", "f64", op.unpack_inputs(packed, 2))
    assert libm.cr_candidates("hypot", "f64", packed, 2) == pack_outputs(op, want)


def _wrapped(monkeypatch: pytest.MonkeyPatch, cr: Any) -> None:
    """Replace the accelerator's teecert_libm_cr by ``cr(real, *args)``."""
    mod = accel.load()
    real = mod.lib.teecert_libm_cr
    lib = SimpleNamespace(teecert_libm_cr=lambda *a: cr(real, *a),
                          teecert_libm_diff=mod.lib.teecert_libm_diff,
                          teecert_libm_err_bound=mod.lib.teecert_libm_err_bound)
    monkeypatch.setattr(libm, "_accel_libm", lambda: SimpleNamespace(ffi=mod.ffi, lib=lib))


def test_a_wrong_candidate_falls_back_to_mpfr(monkeypatch: pytest.MonkeyPatch,
                                              streams: dict[str, Stream]) -> None:
    op, packed, want, committed = chunk(streams["f64.pow.rne"])
    got = perturbed(op.fmt, want)
    _fast, slow = both(op, packed, got, committed)

    def corrupt(real: Any, name: bytes, width: int, inp: Any, n: int, out: Any, amb: Any) -> int:
        k = int(real(name, width, inp, n, out, amb))
        flagged = set(amb[0:k])
        i = next(i for i in range(n) if i not in flagged)
        out[8 * i] ^= 1  # one output off by an ulp, not flagged
        return k

    _wrapped(monkeypatch, corrupt)
    raw = pack_outputs(op, got)
    assert judge._fast_tally(op, START, N, packed, raw, committed) is None
    st = Stream(op, streams["f64.pow.rne"].seed, START + N, START, b"", (b"", committed))
    tp = TrackedProbe(SimpleNamespace(run=lambda _op, _p, _n: raw))
    result = judge._chunk_tally(tp, st, 1, merkle.leaf_hash(raw))
    assert result == slow
    assert (tp.calls, tp.ops_run) == (1, {op.id: N})


def test_doubtful_vectors_are_computed_by_mpfr(monkeypatch: pytest.MonkeyPatch,
                                               streams: dict[str, Stream]) -> None:
    """Outputs C flags as ambiguous are never taken from C, whatever it wrote there."""
    op, packed, want, committed = chunk(streams["f32.atan2.rne"])
    got = perturbed(op.fmt, want)
    _fast, slow = both(op, packed, got, committed)

    def doubtful(real: Any, name: bytes, width: int, inp: Any, n: int, out: Any, amb: Any) -> int:
        k = int(real(name, width, inp, n, out, amb))
        extra = [i for i in range(0, n, 3) if i not in set(amb[0:k])]
        for i in extra:
            out[4 * i + 1] ^= 0x10  # garbage where C is in doubt
            amb[k] = i
            k += 1
        return k

    _wrapped(monkeypatch, doubtful)
    fast, _ = both(op, packed, got, committed)
    assert fast == slow


def test_without_the_accelerator(monkeypatch: pytest.MonkeyPatch, streams: dict[str, Stream],
                                 probe: Probe) -> None:
    """No accelerator (or none with this code): every output by MPFR, as before; the
    re-run is folded into the transcript as the probe folds it."""
    monkeypatch.setattr(libm, "_accel_libm", lambda: None)
    st0 = streams["f64.cbrt.rne"]
    op, packed, _want, committed = chunk(st0, 0, N)
    assert libm.cr_candidates("cbrt", "f64", packed, N) is None
    st = Stream(op, st0.seed, N, N, committed, (committed,))
    got = probe.run(op, packed, N)
    t, calls = probe.transcript()
    tp = TrackedProbe(probe, transcript=t, calls=calls)
    slow = judge.tally_exact(op, 0, op.unpack_inputs(packed, N), op.unpack_outputs(got, N),
                             committed, 0)
    assert judge._chunk_tally(tp, st, 0, merkle.leaf_hash(got)) == slow
    assert tp.transcript_check()[0]


def test_the_fast_path_feeds_the_transcript(streams: dict[str, Stream], probe: Probe) -> None:
    st0 = streams["f32.sin.rne"]
    op, packed, _want, committed = chunk(st0, 0, N)
    st = Stream(op, st0.seed, N, N, committed, (committed,))
    got = probe.run(op, packed, N)
    t, calls = probe.transcript()
    tp = TrackedProbe(probe, transcript=t, calls=calls)
    slow = judge.tally_exact(op, 0, op.unpack_inputs(packed, N), op.unpack_outputs(got, N),
                             committed, 0)
    assert judge._chunk_tally(tp, st, 0, merkle.leaf_hash(got)) == slow
    assert tp.transcript_check()[0]
    assert tp.ops_run == {op.id: N}


def test_the_callers_fp_state_neither_matters_nor_changes(streams: dict[str, Stream]) -> None:
    """Round upward, FTZ/DAZ and x87 double precision set by the caller: the same
    candidates, the same ambiguous vectors, and the caller's state back after."""
    mod = accel.load()
    ffi, lib = mod.ffi, mod.lib
    for op_id in ("f64.exp.rne", "f64.pow.rne", "f32.erf.rne"):
        op = streams[op_id].op
        packed = chunk_inputs(op, streams[op_id].seed, 0, N)

        def run(op: ops.Op = op, packed: bytes = packed) -> tuple[bytes, list[int]]:
            out = ffi.new("unsigned char[]", N * op.out_bytes)
            amb = ffi.new("uint32_t[]", N)
            k = lib.teecert_libm_cr(op.name.encode(), op.fmt.width, ffi.from_buffer(packed), N,
                                    out, amb)
            return bytes(ffi.buffer(out)), list(amb[0:k])

        clean = run()
        base = lib.teecert_accel_fpenv(ffi.new("char[16]"))
        applied = ffi.new("uint32_t *")
        poisoned = lib.teecert_accel_fpenv_set(0x1 | 0x4 | 0x10, base, applied)
        try:
            assert applied[0] != 0
            again = run()
            after = lib.teecert_accel_fpenv(ffi.new("char[16]"))
        finally:
            lib.teecert_accel_fpenv_restore(base)
        mask = lib.teecert_accel_fpenv_control_mask()
        assert after & mask == poisoned & mask
        # candidates of ambiguous vectors are unwritten: compare the rest
        assert again[1] == clean[1]
        size = op.out_bytes
        flagged = set(clean[1])
        assert all(again[0][i * size:(i + 1) * size] == clean[0][i * size:(i + 1) * size]
                   for i in range(N) if i not in flagged)


def test_the_error_approximations_hold_their_bound(streams: dict[str, Stream]) -> None:
    """Where ``differences`` gives an approximation, it is within its bound of
    ``ulp_error`` (outputs one and two ulps off, so every vector differs)."""
    for op_id in ("f64.tanh.rne", "f64.pow.rne", "f32.sinh.rne", "f32.atan2.rne"):
        op, packed, want, _committed = chunk(streams[op_id], 0, 600)
        fmt = op.fmt
        got = [w + 1 + i % 2 if 3 < w & (fmt.mask >> 1) < fmt.inf - 3 else w ^ 1
               for i, w in enumerate(want)]
        d = libm.differences(op.name, fmt, packed, pack_outputs(op, want),
                             pack_outputs(op, got), 600)
        assert d is not None and d.indices == list(range(600))
        vecs = op.unpack_inputs(packed, 600)
        reliable = 0
        for i, a in zip(d.indices, d.approx, strict=True):
            if math.isfinite(a):
                reliable += 1
                e = libm.ulp_error(op.name, fmt, vecs[i], got[i], cr=want[i])
                assert abs(a - e) <= d.bound + a * 2.0**-50, (op_id, i)
        assert reliable > 500


def test_buffers_of_the_wrong_size_are_refused() -> None:
    if libm._accel_libm() is None:
        pytest.skip("teecert._accel is not built")
    ok = bytes(16)
    with pytest.raises(MalformedInput, match="other sizes than 2 pow vectors"):
        libm.cr_candidates("pow", "f64", bytes(31), 2)
    with pytest.raises(MalformedInput, match="other sizes than 2 pow vectors"):
        libm.differences("pow", "f64", bytes(32), ok, bytes(15), 2)
    assert libm.cr_candidates("pow", "f64", bytes(32), 2) is not None
