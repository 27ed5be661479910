"""``teecert.certify.judge.vectors`` and ``ops.ulp_distance``, without a probe.

A fake probe stands in for ``TrackedProbe``: it answers ``f64.add.rne`` with this
host's double addition (IEEE 754 round to nearest, through ``struct``), except at the
vectors a test makes it get wrong.  Every expected value (outputs, Merkle leaves and
roots, ULP distances) is computed here, independently of the code under test: the
leaves and roots by RFC 6962 with ``hashlib``, the ULP distances by counting
representable values with ``math.frexp`` and ``fractions`` (and, for short
distances, by stepping with ``math.nextafter``).
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teecert import ops
from teecert.certify.judge import vectors as judge
from teecert.certify.session import TrackedProbe
from teecert.vectors.store import ExplicitVector, Stream

ADD = ops.get("f64.add.rne")
ADD32 = ops.get("f32.add.rne")


# -- independent truth ---------------------------------------------------------------------


def b64(x: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", x))[0])


def f64(bits: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


def b32(x: float) -> int:
    return int(struct.unpack("<I", struct.pack("<f", x))[0])


def f32(bits: int) -> float:
    return float(struct.unpack("<f", struct.pack("<I", bits))[0])


def hw_add(vec: Sequence[int]) -> int:
    return b64(f64(vec[0]) + f64(vec[1]))


def leaf(outputs: Sequence[int]) -> bytes:
    """RFC 6962 leaf hash of the outputs packed as little-endian u64."""
    return hashlib.sha256(b"\x00" + b"".join(struct.pack("<Q", o) for o in outputs)).digest()


def mth(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash over already-hashed leaves."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


#: (precision p, emin, emax) of binary64 and binary32
F64_PARAMS = (53, -1022, 1023)
F32_PARAMS = (24, -126, 127)


def position(x: float, params: tuple[int, int, int]) -> int:
    """How many representable non-negative values lie below |x| (signed like x; both
    zeros at 0), counted binade by binade: 2^(p-1) subnormals and zero, then 2^(p-1)
    values per binade."""
    p, emin, emax = params
    if x < 0:
        return -position(-x, params)
    per = 2 ** (p - 1)
    if math.isinf(x):
        return per * (1 + emax - emin + 1)
    if x < 2.0 ** emin:
        return int(Fraction(x) / Fraction(2) ** (emin - p + 1))
    _m, e = math.frexp(x)  # x = m * 2^e, 1/2 <= m < 1: x is in binade e - 1
    binade = e - 1
    within = (Fraction(x) / Fraction(2) ** binade - 1) * per
    assert within.denominator == 1
    return per + (binade - emin) * per + int(within)


def distance(a: float, b: float, params: tuple[int, int, int] = F64_PARAMS) -> str:
    if math.isnan(a) or math.isnan(b):
        return "0" if math.isnan(a) and math.isnan(b) else "nan"
    return str(abs(position(a, params) - position(b, params)))


def steps(a: float, b: float) -> int:
    """math.nextafter steps from a to b (a short walk only), -0 and +0 one point."""
    n, x = 0, a
    while x != b:
        x = math.nextafter(x, b)
        n += 1
        assert n < 10_000
    return n


# -- ulp_distance --------------------------------------------------------------------------

TINY = 5e-324  # the smallest positive subnormal binary64
MIN_NORMAL = 2.0 ** -1022
MAX_SUB = MIN_NORMAL - TINY
MAX = 1.7976931348623157e308
INF = math.inf

F64_CASES = [
    (1.0, 1.0, "0"),
    (1.0, math.nextafter(1.0, 2.0), "1"),
    (1.5, 1.5 + 3 * 2.0 ** -52, "3"),
    (1.5, 1.5 + 2.0 ** 40 * 2.0 ** -52, str(2 ** 40)),
    (1.0, math.nextafter(1.0, 0.0), "1"),  # the binade below is twice as dense
    (2.0, 1.0, str(2 ** 52)),
    # sign crossings, through the one point both zeros are
    (-TINY, TINY, "2"),
    (-1.0, 1.0, str(2 * 1023 * 2 ** 52)),  # 2^52 subnormals and zero, 1022 binades below 1
    (-1.5, 1.5 + 3 * 2.0 ** -52, str(2 * position(1.5, F64_PARAMS) + 3)),
    (-MAX, MAX, str(2 * (2047 * 2 ** 52 - 1))),
    # zeros
    (0.0, -0.0, "0"),
    (-0.0, TINY, "1"),
    (0.0, -TINY, "1"),
    (-0.0, -TINY, "1"),
    # subnormals
    (TINY, 2 * TINY, "1"),
    (TINY, MIN_NORMAL, str(2 ** 52 - 1)),
    (MAX_SUB, MIN_NORMAL, "1"),
    (-MAX_SUB, MIN_NORMAL, str(2 * 2 ** 52 - 1)),
    # infinities
    (MAX, INF, "1"),
    (-MAX, -INF, "1"),
    (INF, INF, "0"),
    (-INF, INF, str(2 * 2047 * 2 ** 52)),
    (0.0, INF, str(2047 * 2 ** 52)),
    (-INF, 1.0, str(2047 * 2 ** 52 + 1023 * 2 ** 52)),
]


@pytest.mark.parametrize(("a", "b", "want"), F64_CASES)
def test_ulp_distance_binary64(a: float, b: float, want: str) -> None:
    assert distance(a, b) == want  # the counting in this file agrees with the table
    assert ops.ulp_distance(ops.F64, b64(a), b64(b)) == want
    assert ops.ulp_distance(ops.F64, b64(b), b64(a)) == want


@pytest.mark.parametrize(("a", "b"), [
    (1.0, 1.0 + 5 * 2.0 ** -52), (-TINY, TINY), (-3 * TINY, 2 * TINY), (-0.0, TINY), (0.0, -4 * TINY),
    (MAX_SUB, math.nextafter(MIN_NORMAL, 1.0)), (math.nextafter(MAX, 0.0), INF), (-1.0, math.nextafter(-1.0, -2.0)),
])
def test_short_distances_are_nextafter_steps(a: float, b: float) -> None:
    assert ops.ulp_distance(ops.F64, b64(a), b64(b)) == str(steps(a, b)) == distance(a, b)


QNAN = 0x7FF8000000000000


@pytest.mark.parametrize(("a", "b", "want"), [
    (QNAN, b64(1.0), "nan"),
    (b64(1.0), QNAN, "nan"),
    (QNAN | ops.F64.sign_bit, b64(-1.0), "nan"),
    (b64(INF), QNAN, "nan"),  # a NaN is no step beyond infinity
    (QNAN, QNAN, "0"),
    (QNAN, 0x7FF0000000000001, "0"),  # payloads are judged bit for bit, not in ULPs
    (0xFFF8000000000000, QNAN, "0"),
])
def test_ulp_distance_nan(a: int, b: int, want: str) -> None:
    assert ops.ulp_distance(ops.F64, a, b) == want


TINY32 = f32(1)
F32_CASES = [
    (1.0, f32(b32(1.0) + 1), "1"),
    (1.5, f32(b32(1.5) + 3), "3"),
    (-TINY32, TINY32, "2"),
    (0.0, -0.0, "0"),
    (-0.0, TINY32, "1"),
    (TINY32, 2.0 ** -126, str(2 ** 23 - 1)),
    (f32(0x7F7FFFFF), INF, "1"),
    (-INF, INF, str(2 * 255 * 2 ** 23)),
    (-1.0, 1.0, str(2 * 127 * 2 ** 23)),
]


@pytest.mark.parametrize(("a", "b", "want"), F32_CASES)
def test_ulp_distance_binary32(a: float, b: float, want: str) -> None:
    assert distance(a, b, F32_PARAMS) == want
    assert ops.ulp_distance(ops.F32, b32(a), b32(b)) == want
    assert ops.ulp_distance(ops.F32, b32(b), b32(a)) == want
    assert ops.ulp_distance(ops.F32, 0x7FC00000, b32(a)) == "nan"


@settings(max_examples=300, deadline=None)
@given(st.integers(0, (1 << 64) - 1), st.integers(0, (1 << 64) - 1))
def test_ulp_distance_binary64_any_patterns(a: int, b: int) -> None:
    assert ops.ulp_distance(ops.F64, a, b) == distance(f64(a), f64(b))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, (1 << 32) - 1), st.integers(0, (1 << 32) - 1))
def test_ulp_distance_binary32_any_patterns(a: int, b: int) -> None:
    assert ops.ulp_distance(ops.F32, a, b) == distance(f32(a), f32(b), F32_PARAMS)


# -- a fake probe --------------------------------------------------------------------------


class FakeProbe:
    """Stands in for ``TrackedProbe``: ``answer`` for every vector, except the ones in
    ``wrong`` (by position in an explicit batch, by index in a stream).  A stream's
    vector ``i`` is ``inputs(i)``; with ``flaky`` the re-run of a chunk is right."""

    def __init__(self, answer: Callable[[Sequence[int]], int] = hw_add, *,
                 inputs: Callable[[int], tuple[int, ...]] | None = None,
                 wrong: dict[int, int] | None = None, flaky: bool = False) -> None:
        self.answer, self.inputs, self.wrong, self.flaky = answer, inputs, wrong or {}, flaky
        self.batches: list[int] = []

    def _out(self, i: int, vec: Sequence[int], rerun: bool = False) -> int:
        if i in self.wrong and not (rerun and self.flaky):
            return self.wrong[i]
        return self.answer(vec)

    def run_values(self, op: ops.Op, vecs: Sequence[tuple[int, ...]]) -> list[int]:
        self.batches.append(len(vecs))
        return [self._out(i, v) for i, v in enumerate(vecs)]

    def _chunk(self, st: Stream, index: int, rerun: bool) -> tuple[list[tuple[int, ...]], list[int]]:
        assert self.inputs is not None
        start, n = st.chunk_span(index)
        ins = [self.inputs(i) for i in range(start, start + n)]
        return ins, [self._out(start + k, v, rerun) for k, v in enumerate(ins)]

    def stream_leaves(self, st: Stream, chunks: int) -> list[bytes]:
        return [leaf(self._chunk(st, c, False)[1]) for c in range(chunks)]

    def chunk(self, st: Stream, index: int) -> tuple[list[tuple[int, ...]], list[int]]:
        return self._chunk(st, index, True)


def tracked(probe: FakeProbe) -> TrackedProbe:
    return cast(TrackedProbe, probe)


# -- divergence ----------------------------------------------------------------------------


def test_divergence_records_the_vector_in_hex_and_the_real_distance() -> None:
    a, b = b64(1.0), b64(0.5)
    want = b64(1.5)
    d = judge.divergence(ADD, 7, (a, b), want, want + 3)
    assert d == {"index": 7, "inputs": ["3ff0000000000000", "3fe0000000000000"],
                 "expected": "3ff8000000000000", "got": "3ff8000000000003", "ulp": "3"}
    far = judge.divergence(ADD, 8, (a, b), want, want + 2 ** 40)
    assert far["ulp"] == str(2 ** 40) and far["got"] == f"{want + 2 ** 40:016x}"
    across = judge.divergence(ADD, 9, (b64(TINY), b64(-TINY)), b64(TINY), b64(-TINY))
    assert across["ulp"] == "2"  # through zero: the sign counts


def test_a_data_op_divergence_has_no_ulp() -> None:
    op = ops.get("i64.add")
    d = judge.divergence(op, 0, (1, 2), 3, 4)
    assert d == {"index": 0, "inputs": ["0000000000000001", "0000000000000002"], "expected": "0000000000000003",
                 "got": "0000000000000004", "ulp": None}


# -- explicit ------------------------------------------------------------------------------


def explicit_vectors() -> list[ExplicitVector]:
    """Three groups of vectors with their right answers (hardware addition)."""
    out = []
    tc = 0
    for group, pairs in (("specials", [(0.0, -0.0), (INF, 1.0), (-TINY, TINY)]),
                         ("ties", [(1.0, 2.0 ** -53), (1.0, 3 * 2.0 ** -53), (2.0 ** 53, 1.0)]),
                         ("random", [(0.1, 0.2), (1e300, 1e300), (-2.5, 1.25)])):
        for x, y in pairs:
            tc += 1
            vec = (b64(x), b64(y))
            out.append(ExplicitVector(group, tc, vec, hw_add(vec), (), f"{x!r} + {y!r}"))
    return out


def test_explicit_all_right() -> None:
    vecs = explicit_vectors()
    probe = FakeProbe()
    f = judge.explicit(tracked(probe), ADD, vecs)
    assert isinstance(f, judge.Finding)
    assert f.ok and f.message == "9 vectors match"
    root = leaf([v.expected for v in vecs]).hex()
    assert f.record == {"op": "f64.add.rne", "kind": "explicit", "vectors": 9, "failures": 0, "root": root,
                        "expected_root": root, "divergence": None}
    assert probe.batches == [9]  # one batch


@pytest.mark.parametrize("position", range(9))
def test_explicit_a_wrong_vector_in_any_group_fails(position: int) -> None:
    vecs = explicit_vectors()
    v = vecs[position]
    probe = FakeProbe(wrong={position: v.expected ^ 1})
    f = judge.explicit(tracked(probe), ADD, vecs)
    assert not f.ok
    got = [v.expected for v in vecs]
    got[position] ^= 1
    assert f.record["failures"] == 1
    assert f.record["root"] == leaf(got).hex() != f.record["expected_root"] == leaf([x.expected for x in vecs]).hex()
    assert f.record["divergence"]["index"] == v.tc_id
    assert f.message.startswith(f"1 of 9 vectors differ (groups: {v.group}); first tcId {v.tc_id} [{v.group}: ")
    assert f.record["message"] == f.message


def test_explicit_names_every_group_and_the_first_vector() -> None:
    vecs = explicit_vectors()
    probe = FakeProbe(wrong={7: vecs[7].expected + 3, 1: vecs[1].expected ^ 1, 8: vecs[8].expected + 2 ** 40})
    f = judge.explicit(tracked(probe), ADD, vecs)
    assert not f.ok and f.record["failures"] == 3
    assert "3 of 9 vectors differ (groups: random, specials); first tcId 2 [specials: inf + 1.0]" in f.message


def test_explicit_message_states_the_real_ulp_distance() -> None:
    vecs = explicit_vectors()
    three = FakeProbe(wrong={6: vecs[6].expected + 3})
    f = judge.explicit(tracked(three), ADD, vecs)
    x = vecs[6]
    assert f.message.endswith(
        f"first tcId 7 [random: 0.1 + 0.2]: f64.add.rne({x.inputs[0]:016x}, {x.inputs[1]:016x}) = "
        f"{x.expected + 3:016x}, expected {x.expected:016x} (3 ulp)")
    far = FakeProbe(wrong={6: vecs[6].expected + 2 ** 40})
    f = judge.explicit(tracked(far), ADD, vecs)
    assert f.message.endswith("(1099511627776 ulp)") and f.record["divergence"]["ulp"] == "1099511627776"
    flipped = FakeProbe(wrong={6: vecs[6].expected ^ ops.F64.sign_bit})
    f = judge.explicit(tracked(flipped), ADD, vecs)
    want = str(2 * position(f64(x.expected), F64_PARAMS))
    assert f.message.endswith(f"({want} ulp)")


def test_explicit_shortens_long_operands_in_the_message_only() -> None:
    op = ops.get("hash.sha256")
    msg = bytes(range(200))
    slot = int.from_bytes(msg.ljust(ops.HASH_MSG_BYTES, b"\0"), "big")
    want = int.from_bytes(hashlib.sha256(msg).digest(), "big")
    vecs = [ExplicitVector("long", 1, (len(msg), slot), want, (), "200 bytes")]
    probe = FakeProbe(lambda v: want, wrong={0: want ^ 1})
    f = judge.explicit(tracked(probe), op, vecs)
    assert not f.ok
    full = f"{slot:0{2 * ops.HASH_MSG_BYTES}x}"
    assert f"{full[:64]}...({ops.HASH_MSG_BYTES} bytes)" in f.message and full not in f.message
    assert f.record["divergence"]["inputs"][1] == full
    assert f.record["divergence"]["ulp"] is None and "ulp" not in f.message
    assert f"= {want ^ 1:064x}, expected {want:064x}" in f.message


# -- streams -------------------------------------------------------------------------------


def stream_input(i: int) -> tuple[int, int]:
    return b64(float(i) * 1.1 + 0.3), b64(1.0 / (i + 3))


def make_stream(count: int, chunk: int, *, root: bytes | None = None, op: ops.Op = ADD) -> Stream:
    leaves = []
    for start in range(0, count, chunk):
        leaves.append(leaf([hw_add(stream_input(i)) for i in range(start, min(count, start + chunk))]))
    return Stream(op, 1, count, chunk, root if root is not None else mth(leaves), tuple(leaves))


def test_stream_all_right() -> None:
    st_ = make_stream(150, 64)  # 3 chunks, the last of 22 vectors
    f = judge.stream(tracked(FakeProbe(inputs=stream_input)), st_, 3)
    assert f.ok
    assert f.record == {"op": "f64.add.rne", "kind": "stream", "vectors": 150, "root": mth(st_.leaves).hex(),
                        "expected_root": st_.root.hex(), "divergence": None, "failures": 0}
    assert f.message == f"150 vectors, root {mth(st_.leaves).hex()[:16]} matches"


def test_stream_a_full_run_states_the_committed_root() -> None:
    committed = hashlib.sha256(b"the root the set commits to").digest()
    st_ = make_stream(150, 64, root=committed)
    f = judge.stream(tracked(FakeProbe(inputs=stream_input)), st_, 3)
    assert f.record["expected_root"] == committed.hex()
    part = judge.stream(tracked(FakeProbe(inputs=stream_input)), st_, 2)
    assert part.ok and part.record["vectors"] == 128
    assert part.record["expected_root"] == part.record["root"] == mth(st_.leaves[:2]).hex()


@pytest.mark.parametrize(("index", "wrong_by"), [(0, 1), (63, 3), (64, 2 ** 40), (149, -1)])
def test_stream_finds_the_first_differing_vector(index: int, wrong_by: int) -> None:
    st_ = make_stream(150, 64)
    right = hw_add(stream_input(index))
    later = {149: hw_add(stream_input(149)) ^ 1} if index < 128 else {}  # a second bad chunk
    probe = FakeProbe(inputs=stream_input, wrong={**later, index: right + wrong_by})
    f = judge.stream(tracked(probe), st_, 3)
    assert not f.ok
    chunk = index // 64
    bad_chunks = sorted({chunk, *(i // 64 for i in later)})
    assert f.record["failures"] == len(bad_chunks)
    d = f.record["divergence"]
    ins = stream_input(index)
    assert d == {"index": index, "inputs": [f"{ins[0]:016x}", f"{ins[1]:016x}"], "expected": f"{right:016x}",
                 "got": f"{right + wrong_by:016x}", "ulp": str(abs(wrong_by))}
    assert f.message == (f"{len(bad_chunks)} of 3 chunks diverge; first in chunk {chunk}: vector {index}: "
                         f"f64.add.rne({ins[0]:016x}, {ins[1]:016x}) = {right + wrong_by:016x}, "
                         f"expected {right:016x} ({abs(wrong_by)} ulp)")
    assert f.record["message"] == f.message


def test_stream_only_the_chunks_asked_for() -> None:
    st_ = make_stream(150, 64)
    probe = FakeProbe(inputs=stream_input, wrong={140: 0})
    assert judge.stream(tracked(probe), st_, 2).ok  # the wrong vector is in chunk 2
    assert not judge.stream(tracked(probe), st_, 3).ok


def test_stream_a_probe_right_on_the_rerun_is_nondeterministic() -> None:
    st_ = make_stream(150, 64)
    probe = FakeProbe(inputs=stream_input, wrong={70: 0}, flaky=True)
    f = judge.stream(tracked(probe), st_, 3)
    assert not f.ok and f.record["divergence"] is None and f.record["failures"] == 1
    assert f.message == ("1 of 3 chunks diverge; first in chunk 1: vector ?: re-running the chunk gave the "
                         "golden outputs: nondeterministic probe")


# -- locate --------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 511, 512, 700, 1199])
def test_locate_searches_every_block_of_the_chunk(index: int) -> None:
    st_ = make_stream(2400, 1200)  # chunks of 1200 vectors: more than one 512-vector block
    right = hw_add(stream_input(1200 + index))
    probe = FakeProbe(inputs=stream_input, wrong={1200 + 1199: 0, 1200 + index: right + 3})  # a later one too
    d = judge.locate(tracked(probe), st_, 1)
    assert d is not None
    assert (d["index"], d["expected"], d["got"], d["ulp"]) == (1200 + index, f"{right:016x}", f"{right + 3:016x}", "3")


def test_locate_none_when_the_rerun_is_right() -> None:
    st_ = make_stream(150, 64)
    assert judge.locate(tracked(FakeProbe(inputs=stream_input)), st_, 1) is None
    assert judge.locate(tracked(FakeProbe(inputs=stream_input, wrong={65: 0}, flaky=True)), st_, 1) is None


def test_locate_binary32() -> None:
    def inputs(i: int) -> tuple[int, int]:
        return b32(1.0 + i / 8), b32(0.25)

    def add32(vec: Sequence[int]) -> int:
        # binary32 + from doubles: exact for these operands, then one rounding to binary32
        return b32(f32(vec[0]) + f32(vec[1]))

    leaves = [hashlib.sha256(b"\x00" + b"".join(struct.pack("<I", add32(inputs(i))) for i in range(16))).digest()]
    st_ = Stream(ADD32, 1, 16, 16, leaves[0], tuple(leaves))
    right = add32(inputs(5))
    probe = FakeProbe(add32, inputs=inputs, wrong={5: right ^ 0x80000000})
    d = judge.locate(tracked(probe), st_, 0)
    assert d is not None and d["index"] == 5 and d["expected"] == f"{right:08x}"
    assert d["ulp"] == str(2 * position(f32(right), F32_PARAMS))


def test_finding_is_plain_data() -> None:
    f = judge.Finding(True, "m", {"a": 1})
    assert (f.ok, f.message, f.record) == (True, "m", {"a": 1})
    assert f == judge.Finding(True, "m", {"a": 1}) and f != judge.Finding(False, "m", {"a": 1})


@pytest.mark.parametrize("op_id, want, got, ulp", [
    ("f64.to_f32.rne", 0x3F800000, 0x3F800001, "1"),             # one binary32 ulp, not 2^29 of binary64
    ("f32.to_f64", 0x3FF0000000000000, 0x3FF0000020000000, "536870912"),
])
def test_a_conversion_s_divergence_counts_ulps_of_its_result_format(op_id: str, want: int, got: int,
                                                                   ulp: str) -> None:
    op = ops.get(op_id)
    d = judge.divergence(op, 0, (0,), want, got)
    assert d["ulp"] == ulp and d["expected"] == op.out_hex(want)
