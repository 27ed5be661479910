"""``teecert.certify.judge.libm``, without a probe: the libm suite's comparisons.

The op is ``f64.cbrt.rne`` on exact cubes (``±n³·2^(3k)``), whose correctly rounded
cube root ``±n·2^k`` is known without any reference; a fake probe answers those,
except where a test makes it wrong.  Errors in ULPs are computed here with
``fractions`` (the exact value is representable, so the error of an output is its
distance to it over the spacing of the format at it), leaves and roots by RFC 6962
with ``hashlib``: nothing expected comes from the code under test.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import cast

import pytest

from teecert import ops
from teecert.certify.judge import libm as judge
from teecert.certify.judge.vectors import Finding
from teecert.certify.session import TrackedProbe
from teecert.reference import golden
from teecert.vectors.store import ExplicitVector, Stream

CBRT = ops.get("f64.cbrt.rne")


def b64(x: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", x))[0])


def f64(bits: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


def leaf(outputs: Sequence[int]) -> bytes:
    return hashlib.sha256(b"\x00" + b"".join(struct.pack("<Q", o) for o in outputs)).digest()


def mth(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def cube(i: int) -> tuple[float, float]:
    """Vector ``i``: (an exact cube, its cube root)."""
    n, k, sign = 3 + i % 41, (i * 7) % 60 - 30, -1.0 if i % 3 == 0 else 1.0
    root = sign * n * 2.0 ** k
    return sign * float(n ** 3) * 2.0 ** (3 * k), root


#: input bits -> the correctly rounded cube root's bits
ROOTS = {b64(c): b64(r) for c, r in (cube(i) for i in range(2000))}


def cbrt(vec: Sequence[int]) -> int:
    return ROOTS[vec[0]]


def ulp_error(want: int, got: int) -> float:
    """|got - v| / ulp(v) for the representable exact value v = want (binary64, normal)."""
    v = f64(want)
    _m, e = math.frexp(v)
    spacing = Fraction(2) ** (e - 1 - 52)
    return float(abs(Fraction(f64(got)) - Fraction(v)) / spacing)


class FakeProbe:
    """Stands in for ``TrackedProbe`` (see tests/certify/test_judge_vectors.py)."""

    def __init__(self, wrong: dict[int, int] | None = None, flaky: bool = False) -> None:
        self.wrong, self.flaky = wrong or {}, flaky
        self.reruns: list[int] = []

    def _out(self, i: int, vec: Sequence[int], rerun: bool = False) -> int:
        if i in self.wrong and not (rerun and self.flaky):
            return self.wrong[i]
        return cbrt(vec)

    def run_values(self, op: ops.Op, vecs: Sequence[tuple[int, ...]]) -> list[int]:
        return [self._out(i, v) for i, v in enumerate(vecs)]

    def _chunk(self, st: Stream, index: int, rerun: bool) -> tuple[list[tuple[int, ...]], list[int]]:
        start, n = st.chunk_span(index)
        ins = [(b64(cube(i)[0]),) for i in range(start, start + n)]
        return ins, [self._out(start + j, v, rerun) for j, v in enumerate(ins)]

    def stream_leaves(self, st: Stream, chunks: int) -> list[bytes]:
        return [leaf(self._chunk(st, c, False)[1]) for c in range(chunks)]

    def chunk(self, st: Stream, index: int) -> tuple[list[tuple[int, ...]], list[int]]:
        self.reruns.append(index)
        return self._chunk(st, index, True)


def tracked(probe: FakeProbe) -> TrackedProbe:
    return cast(TrackedProbe, probe)


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The chunk tallies are cached under the user's cache folder: a fresh one per test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "teecert" / "libm"


def test_the_fixture_roots_are_right() -> None:
    for c, r in (cube(i) for i in range(0, 2000, 37)):
        assert r ** 3 == c  # exact: n^3 < 2^53 and powers of two
        assert golden.evaluate("f64.cbrt.rne", (b64(c),)) == b64(r)


# -- pinned_for ----------------------------------------------------------------------------


def test_pinned_for() -> None:
    pins = {"f64.cbrt.rne": {"explicit": "aa" * 32, "stream": "bb" * 32}, "f64.exp.rne": {"stream": "cc" * 32},
            "f64.log.rne": "dd" * 32}
    assert judge.pinned_for(pins, "f64.cbrt.rne", "explicit") == "aa" * 32
    assert judge.pinned_for(pins, "f64.cbrt.rne", "stream") == "bb" * 32
    assert judge.pinned_for(pins, "f64.exp.rne", "explicit") is None
    assert judge.pinned_for(pins, "f64.exp.rne", "stream") == "cc" * 32
    assert judge.pinned_for(pins, "f64.log.rne", "stream") is None  # not an entry of the right shape
    assert judge.pinned_for(pins, "f32.sin.rne", "stream") is None
    assert judge.pinned_for({}, "f64.cbrt.rne", "explicit") is None


# -- Tally ---------------------------------------------------------------------------------


def test_an_empty_tally() -> None:
    t = judge.Tally(vectors=12)
    assert (t.vectors, t.differ, t.max_ulp, t.first) == (12, 0, 0.0, None)
    assert t.describe() == "0 of 12 outputs differ from correctly rounded (max error 0.000 ulp)"


def test_tally_counts_keeps_the_worst_and_the_first() -> None:
    t = judge.Tally(vectors=100)
    adds = [(5, 3), (9, 1), (11, 2 ** 20), (12, 2)]
    for i, by in adds:
        c, r = cube(i)
        t.add(CBRT, i, (b64(c),), b64(r), b64(r) + by)
    assert t.differ == 4
    assert t.max_ulp == ulp_error(b64(cube(11)[1]), b64(cube(11)[1]) + 2 ** 20) == 2.0 ** 20
    c5, r5 = cube(5)
    assert t.first == {"index": 5, "inputs": [f"{b64(c5):016x}"], "expected": f"{b64(r5):016x}",
                       "got": f"{b64(r5) + 3:016x}", "ulp": "3"}
    assert t.describe() == "4 of 100 outputs differ from correctly rounded (max error 1048576.000 ulp)"


def test_tally_measures_fractions_of_an_ulp_and_infinity() -> None:
    t = judge.Tally(vectors=3)
    c, r = cube(4)  # 7 * 2^-2: the error of r plus one ulp, against the exact value
    t.add(CBRT, 4, (b64(c),), b64(r), b64(r) - 1)
    assert t.max_ulp == 1.0
    t.add(CBRT, 5, (b64(cube(5)[0]),), b64(cube(5)[1]), 0x7FF8000000000000)  # a NaN for a number
    assert t.max_ulp == math.inf
    assert t.describe() == "2 of 3 outputs differ from correctly rounded (max error inf ulp)"


# -- explicit ------------------------------------------------------------------------------


def hard_cases() -> list[ExplicitVector]:
    return [ExplicitVector("exact", i + 1, (b64(cube(i)[0]),), b64(cube(i)[1]), (), f"cube {i}") for i in range(10)]


def test_explicit_bit_exact() -> None:
    vecs = hard_cases()
    f = judge.explicit(tracked(FakeProbe()), CBRT, vecs, {})
    assert isinstance(f, Finding) and f.ok
    root = leaf([v.expected for v in vecs]).hex()
    msg = "10 hard cases: 0 of 10 outputs differ from correctly rounded (max error 0.000 ulp)"
    assert f.message == msg
    assert f.record == {"op": "f64.cbrt.rne", "kind": "explicit", "vectors": 10, "failures": 0, "root": root,
                        "expected_root": root, "divergence": None, "message": msg}


def test_explicit_wrong_outputs_fail_and_name_the_first() -> None:
    vecs = hard_cases()
    wrong = {2: vecs[2].expected + 3, 7: vecs[7].expected - 2}
    f = judge.explicit(tracked(FakeProbe(wrong)), CBRT, vecs, {})
    assert not f.ok
    got = [wrong.get(i, v.expected) for i, v in enumerate(vecs)]
    assert f.record["root"] == leaf(got).hex() and f.record["expected_root"] == leaf([v.expected for v in vecs]).hex()
    assert f.record["failures"] == 2 and f.record["divergence"]["index"] == 3  # tcId of position 2
    v = vecs[2]
    assert f.message == (f"10 hard cases: 2 of 10 outputs differ from correctly rounded (max error 3.000 ulp); "
                         f"first: f64.cbrt.rne({v.inputs[0]:016x}) = {v.expected + 3:016x}, "
                         f"expected {v.expected:016x}")
    assert f.record["message"] == f.message


@pytest.mark.parametrize("position", range(10))
def test_explicit_a_wrong_output_anywhere_is_counted(position: int) -> None:
    vecs = hard_cases()
    v = vecs[position]
    f = judge.explicit(tracked(FakeProbe({position: v.expected + 2})), CBRT, vecs, {})
    assert not f.ok and f.record["failures"] == 1 and f.record["divergence"]["index"] == v.tc_id
    assert f.message.startswith("10 hard cases: 1 of 10 outputs differ from correctly rounded (max error 2.000 ulp)")


def test_explicit_the_pinned_root_of_the_approved_environment_passes() -> None:
    vecs = hard_cases()
    wrong = {4: vecs[4].expected + 1}
    got_root = leaf([wrong.get(i, v.expected) for i, v in enumerate(vecs)]).hex()
    f = judge.explicit(tracked(FakeProbe(wrong)), CBRT, vecs, {"f64.cbrt.rne": {"explicit": got_root}})
    assert f.ok and f.record["failures"] == 1
    assert f.message.endswith("(max error 1.000 ulp); equal to the root the profile pins for its approved "
                              "environment")
    # pinned for the stream only, or another root: no pass
    for pins in ({"f64.cbrt.rne": {"stream": got_root}}, {"f64.cbrt.rne": {"explicit": "ab" * 32}}):
        f = judge.explicit(tracked(FakeProbe(wrong)), CBRT, vecs, pins)
        assert not f.ok
    assert f.message.endswith("; not the pinned root abababababababab either")


# -- stream --------------------------------------------------------------------------------


def make_stream(count: int, chunk: int, *, root: bytes | None = None,
                leaves: Sequence[bytes] | None = None) -> Stream:
    if leaves is None:
        leaves = [leaf([b64(cube(i)[1]) for i in range(s, min(count, s + chunk))]) for s in range(0, count, chunk)]
    return Stream(CBRT, 1, count, chunk, root if root is not None else mth(leaves), tuple(leaves))


def test_stream_bit_exact_reruns_nothing() -> None:
    st = make_stream(100, 32)  # 4 chunks, the last of 4 vectors
    probe = FakeProbe()
    f = judge.stream(tracked(probe), st, {})
    assert f.ok and probe.reruns == []
    assert f.message == "100 stream vectors: 0 of 100 outputs differ from correctly rounded (max error 0.000 ulp)"
    assert f.record["root"] == f.record["expected_root"] == st.root.hex()
    part = judge.stream(tracked(probe), st, {}, chunks=2)
    assert part.ok and part.record["vectors"] == 64 and part.record["expected_root"] == mth(st.leaves[:2]).hex()


def test_stream_states_the_committed_root_of_a_full_run() -> None:
    committed = hashlib.sha256(b"committed").digest()
    f = judge.stream(tracked(FakeProbe()), make_stream(100, 32, root=committed), {})
    assert f.record["expected_root"] == committed.hex() and not f.ok


def test_stream_counts_and_measures_the_differing_outputs() -> None:
    st = make_stream(100, 32)
    wrong = {40: b64(cube(40)[1]) + 5, 45: b64(cube(45)[1]) - 1, 97: b64(cube(97)[1]) + 2 ** 30}
    probe = FakeProbe(wrong)
    f = judge.stream(tracked(probe), st, {})
    assert not f.ok and probe.reruns == [1, 3]  # only the chunks whose leaf differs
    assert f.record["failures"] == 3
    c, r = cube(40)
    assert f.record["divergence"] == {"index": 40, "inputs": [f"{b64(c):016x}"], "expected": f"{b64(r):016x}",
                                      "got": f"{b64(r) + 5:016x}", "ulp": "5"}
    assert f.message == (f"100 stream vectors: 3 of 100 outputs differ from correctly rounded (max error "
                         f"{2.0 ** 30:.3f} ulp); first: f64.cbrt.rne({b64(c):016x}) = {b64(r) + 5:016x}, "
                         f"expected {b64(r):016x}")
    got_root = mth(FakeProbe(wrong).stream_leaves(st, 4)).hex()
    pinned = judge.stream(tracked(FakeProbe(wrong)), st, {"f64.cbrt.rne": {"stream": got_root}})
    assert pinned.ok and pinned.record["failures"] == 3 and pinned.message.endswith("approved environment")


@pytest.mark.parametrize("worst_chunk", range(4))
def test_stream_the_worst_error_of_any_chunk_is_kept(worst_chunk: int) -> None:
    st = make_stream(100, 32)
    # a small error in every chunk, a large one in one of them
    wrong = {32 * c + 1: b64(cube(32 * c + 1)[1]) + (2 ** 12 if c == worst_chunk else 3) for c in range(4)}
    f = judge.stream(tracked(FakeProbe(wrong)), st, {})
    assert f.record["failures"] == 4
    assert "4 of 100 outputs differ from correctly rounded (max error 4096.000 ulp)" in f.message
    assert f.record["divergence"]["index"] == 1


def test_stream_chunk_tallies_are_cached_and_a_bad_cache_entry_is_recomputed(
        cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    st = make_stream(100, 32)
    wrong = {33: b64(cube(33)[1]) + 7}
    first = judge.stream(tracked(FakeProbe(wrong)), st, {})
    [entry] = cache_home.iterdir()
    assert entry.name.startswith("f64.cbrt.rne-1-")
    cached = json.loads(entry.read_text())
    assert cached["differ"] == 1 and float(cached["max_ulp"]) == 7.0

    def no_mpfr(*_a: object) -> list[int]:
        raise AssertionError("a cached chunk is not recomputed")

    with monkeypatch.context() as m:
        m.setattr(golden, "evaluate_mpfr_many", no_mpfr)
        again = judge.stream(tracked(FakeProbe(wrong)), st, {})
    assert (again.ok, again.message, again.record) == (first.ok, first.message, first.record)
    entry.write_text('{"differ": 1}')  # not a tally: recomputed
    assert judge.stream(tracked(FakeProbe(wrong)), st, {}).message == first.message
    assert json.loads(entry.read_text()) == cached
    entry.write_text("not json")
    assert judge.stream(tracked(FakeProbe(wrong)), st, {}).message == first.message


def test_stream_a_probe_that_changes_its_answer_is_not_deterministic() -> None:
    st = make_stream(100, 32)
    probe = FakeProbe({50: 0}, flaky=True)
    with pytest.raises(AssertionError, match="chunk 1 gave other outputs when run again"):
        judge.stream(tracked(probe), st, {})


def test_stream_refuses_a_committed_leaf_mpfr_does_not_reproduce() -> None:
    good = make_stream(100, 32)
    leaves = list(good.leaves)
    leaves[2] = hashlib.sha256(b"not the golden outputs").digest()
    with pytest.raises(AssertionError, match="MPFR does not reproduce the committed leaf of chunk 2"):
        judge.stream(tracked(FakeProbe()), make_stream(100, 32, leaves=leaves), {})
