"""The data-op stream generator ``teecert-data-v1`` (``teecert.vectors.streams.data``):
slots, determinism, counter-based chunks, the edge cases each rule must produce,
the references accepting every op's inputs, and a pin against an independent
re-implementation of the spec (docs/vectors.md)."""

from __future__ import annotations

import hashlib
import itertools
from fractions import Fraction

import pytest

from teecert import ops
from teecert.ops import F64
from teecert.reference import data, integers
from teecert.vectors.streams import data as ds

DATA_OPS = [op for op in ops.CATALOGUE.values() if op.kind in ("int", "hash")]
CHUNK = 2048  # a sample the properties below are stated for (the chunk size was 2048)


def chunk(op_id: str, seed: int = 1, count: int = CHUNK) -> list[tuple[int, ...]]:
    return ds.vectors(ops.get(op_id), seed, 0, count)


def width_of(op_id: str) -> int:
    return 32 if op_id.startswith("i32.") else 64


def test_catalogue_has_the_data_ops() -> None:
    assert len(DATA_OPS) == 67
    for op in DATA_OPS:
        assert ds.count_of(op) % CHUNK == 0


def test_counts() -> None:
    # docs/vectors.md: a million vectors per data op
    for op_id in ("i32.add", "f32.to_u64_sat", "u64.to_f32.rdn", "rec.serialize", "f64.to_dec",
                  "f64.from_dec", "u64.sort_stable", "hash.sha256", "hash.blake2b512",
                  "hash.keccak256", "hash.sha3_256"):
        assert ds.count_of(ops.get(op_id)) == 1_048_576, op_id
    with pytest.raises(ValueError):
        ds.count_of(ops.get("f64.add.rne"))
    with pytest.raises(ValueError):
        ds.vectors(ops.get("f64.exp.rne"), 1, 0, 1)


def test_initial_state_is_sha256_of_the_stream_name() -> None:
    want = int.from_bytes(hashlib.sha256(b"teecert-data-v1:i64.add:1").digest()[:8], "little")
    assert ds.initial_state("i64.add", 1) == want
    assert ds.GENERATOR == "teecert-data-v1"


@pytest.mark.parametrize("op", DATA_OPS, ids=lambda op: op.id)
def test_values_fit_deterministic_and_counter_based(op: ops.Op) -> None:
    whole = ds.vectors(op, 5, 0, 300)
    assert len(whole) == 300
    for vec in whole:
        data.check_vector(op, vec)
    assert ds.vectors(op, 5, 0, 300) == whole  # deterministic
    assert ds.vectors(op, 5, 170, 130) == whole[170:]  # a chunk alone
    assert ds.vectors(op, 5, 299, 1) == whole[299:]
    assert ds.vectors(op, 6, 0, 20) != whole[:20]  # the seed matters
    raw = ds.packed_inputs(op, 5, 10, 7)
    assert raw == op.pack_inputs(whole[10:17])
    assert len(raw) == 7 * op.in_bytes
    if op.id == "f64.from_dec":  # at most 1023 bytes: the slot always ends in NUL
        assert all(vec[0] & 0xFF == 0 for vec in whole)


# ------------------------------------------------------------- integer ops


@pytest.mark.parametrize("op_id", [f"i{w}.{n}" for w in (32, 64)
                                   for n in ("div_s", "rem_s", "div_u", "rem_u")])
def test_divisions_hit_zero_minus_one_and_min(op_id: str) -> None:
    w = width_of(op_id)
    mask, top = (1 << w) - 1, 1 << (w - 1)
    vecs = chunk(op_id)
    divisors = [b for _a, b in vecs]
    assert divisors.count(0) >= CHUNK // 16
    assert divisors.count(mask) >= CHUNK // 16
    assert sum(a == top for a, _b in vecs) >= CHUNK // 16
    assert (top, mask) in vecs and (top, 0) in vecs
    assert len(set(divisors)) > CHUNK // 2  # still mostly varied


@pytest.mark.parametrize("op_id", [f"i{w}.{n}" for w in (32, 64) for n in ("shl", "shr_u", "shr_s")])
def test_shift_counts_reach_and_pass_the_width(op_id: str) -> None:
    w = width_of(op_id)
    counts = [c for _a, c in chunk(op_id)]
    small = [c for c in counts if c < w]
    assert len(small) > CHUNK // 3
    assert {w - 1, w, w + 1, 2 * w + 1} <= set(counts)
    assert any(c >= 1 << 32 for c in counts)
    assert 2**64 - 1 in counts and 2**32 + 1 in counts
    assert set(range(2 * w + 2)) <= set(counts)


@pytest.mark.parametrize("w", [32, 64])
def test_integer_operands_cover_the_boundaries(w: int) -> None:
    mask, top = (1 << w) - 1, 1 << (w - 1)
    values = {v for vec in chunk(f"i{w}.add") for v in vec}
    assert {0, 1, 2, mask, top, top - 1, top + 1, top - 2} <= values
    assert {x & mask for x in range(-32, 33)} <= values
    assert {1 << k for k in range(w)} & values and {(1 << k) + 1 for k in range(2, w)} & values
    clz = {w - v.bit_length() for v in (vec[0] for vec in chunk(f"i{w}.clz"))}
    assert len(clz) > w // 2  # random bit lengths: many leading-zero counts
    ctz = {(v & -v).bit_length() for v in (vec[0] for vec in chunk(f"i{w}.ctz"))}
    assert len(ctz) > w // 2


# ------------------------------------------------------------- conversions


def test_saturating_sources_hit_the_boundaries() -> None:
    srcs = {vec[0] for vec in chunk("f64.to_i64_sat")}
    two63 = 0x43E0000000000000
    assert any(two63 - 3 <= s <= two63 + 3 for s in srcs)
    assert any(s ^ F64.sign_bit in range(two63 - 3, two63 + 4) for s in srcs)
    assert any(F64.is_nan(s) for s in srcs)
    # and the conversion saturates, and does not, both ways
    out = data.evaluate_many(ops.get("f64.to_i64_sat"), [(s,) for s in srcs])
    assert {(1 << 63) - 1, 1 << 63} <= set(out)
    srcs32 = {vec[0] for vec in chunk("f32.to_u32_sat")}
    assert any(0x4F800000 - 3 <= s <= 0x4F800000 + 3 for s in srcs32)  # 2^32 in f32


@pytest.mark.parametrize("op_id", [f"{s}.to_{d}" for s in ops.INT_TO_FLOAT for d in ("f32", "f64")
                                   if (s, d) != ("i32", "f64")])
def test_int_to_float_sources_separate_the_roundings(op_id: str) -> None:
    src, dst = op_id.split(".to_")
    results = [[integers.int_to_float(src, v[0], dst, r) for r in integers.ROUNDING_CODES]
               for v in chunk(f"{op_id}.rne", count=1024)]
    for i, j in itertools.combinations(range(4), 2):
        if src == "u64" and (i, j) == (1, 3):
            continue  # toward zero is downward for a non-negative source
        assert any(res[i] != res[j] for res in results), (integers.ROUNDING_CODES[i],
                                                           integers.ROUNDING_CODES[j])
    # exact ties, broken both ways by ties-to-even
    ties = [r for r in results if r[0] != r[1] or r[0] != r[3]]
    assert len(ties) > 20


# ------------------------------------------------------------- decimal texts


def _value(text: bytes) -> Fraction | None:
    parsed = integers.parse_decimal(text)
    if not isinstance(parsed, tuple):
        return None
    neg, digits, e10 = parsed
    if abs(e10 + len(digits)) > 400:  # 0 or inf (and 10^(10^20) would never finish)
        return None
    v = Fraction(int(digits or "0")) * Fraction(10) ** e10
    return -v if neg else v


def _is_tie(v: Fraction) -> bool:
    """Is ``|v|`` exactly halfway between two adjacent finite doubles?"""
    v = abs(v)
    if v == 0:
        return False
    lo = integers.round_ratio(F64, False, v.numerator, v.denominator, "rdn")
    hi = integers.round_ratio(F64, False, v.numerator, v.denominator, "rup")
    if lo == hi or hi == F64.inf:
        return False
    return 2 * v == integers.f64_fraction(lo) + integers.f64_fraction(hi)


def test_from_dec_texts_have_teeth() -> None:
    texts = [data.dec_text(v[0]) for v in chunk("f64.from_dec")]
    assert max(map(len, texts)) <= 1023
    errors = [t for t in texts if integers.f64_from_dec(t) is None]
    assert len(errors) > CHUNK // 32
    assert len(set(errors)) > 16
    assert sum(len(t) > 100 for t in texts) > CHUNK // 8
    assert sum(len(t) > 850 for t in texts) > 0  # a unit beyond digit 800
    assert any(t.isdigit() and int(t) > 2**64 for t in texts)
    ties = []
    for t in texts:
        v = _value(t)
        if v is not None and _is_tie(v):
            ties.append((t, v))
    assert len(ties) > 20
    # broken by ties-to-even: sometimes up, sometimes down
    directions = set()
    for t, v in ties:
        bits = integers.f64_from_dec(t)
        assert bits is not None
        directions.add(abs(integers.f64_fraction(bits)) > abs(v))
        assert bits & 1 == 0  # the even neighbour
    assert directions == {True, False}
    # texts one unit away from a midpoint, far down: just above and just below
    near = [v for t in texts if (v := _value(t)) is not None and len(t) > 200]
    assert len(near) > 50


def test_tables_are_what_they_say() -> None:
    assert len(ds.MALFORMED) == 32 and len(ds.SPELLINGS) == 16
    for t in ds.MALFORMED:
        assert integers.f64_from_dec(t) is None, t
        assert b"\0" not in t
    for t in ds.SPELLINGS:
        assert integers.f64_from_dec(t) is not None, t
    for (n, k), want in zip(ds.LIMITS[:3], (F64.max_finite, 1 << 52, 1), strict=True):
        assert Fraction(n) * Fraction(2) ** k == integers.f64_fraction(want)
    # the longest text the rules can make: the longest midpoint plus 192 digits
    digits, e = ds.exact_decimal((1 << 54) - 1, -1075)
    assert len(digits) == 768
    assert len(ds.scientific(True, *ds.extend(digits, e, 191, True))) == 967


def test_exact_decimal_and_scientific() -> None:
    assert ds.exact_decimal(3, -1) == ("15", -1)
    assert ds.exact_decimal(5, 1) == ("1", 1)
    assert ds.scientific(True, "15", -1) == b"-1.5e+0"
    assert ds.scientific(False, "5", -324) == b"5e-324"
    assert ds.nudge(1, "123456789012345678901", 0, 2) == ("1234567890123456789", 2)
    assert ds.nudge(2, "15", -1, 2) == ("15001", -4)  # 1.5 + 0.0001
    assert ds.nudge(3, "15", -1, 0) == ("149", -2)  # 1.5 - 0.01


# ------------------------------------------------------------- data model, hashes


def test_sort_vectors_repeat_keys() -> None:
    distinct = []
    for (slot,) in chunk("u64.sort_stable", count=512):
        keys = [x >> 48 for x in data.sort_items(slot)]
        distinct.append(len(set(keys)))
    assert 1 in distinct  # one key for all 64 items
    assert {2, 3, 4} <= set(distinct)
    assert sum(d < 64 for d in distinct) > 300
    assert any(d >= 60 for d in distinct)


def test_record_prices_include_nans() -> None:
    prices = [vec[3] for vec in chunk("rec.serialize")]
    assert any(F64.is_nan(p) and p != F64.canonical_nan for p in prices)
    assert F64.sign_bit in prices  # -0


def test_hash_lengths_hit_the_block_boundaries() -> None:
    vecs = chunk("hash.sha3_256")
    lengths = [n for n, _slot in vecs]
    assert {0, 512, 135, 136, 55, 56, 111, 112} <= set(lengths)
    assert len(set(lengths)) > 300
    assert all(0 <= n <= 512 for n in lengths)
    # the bytes after the message are garbage, not zeros
    assert any(n < 500 and slot.to_bytes(512, "big")[n:] != bytes(512 - n) for n, slot in vecs)


# ------------------------------------------------------------- the references


@pytest.mark.parametrize("op", DATA_OPS, ids=lambda op: op.id)
def test_references_accept_a_chunk(op: ops.Op) -> None:
    vecs = ds.vectors(op, 1, 0, CHUNK)
    out = data.evaluate_many(op, vecs)
    assert len(out) == CHUNK
    assert all(0 <= x < 1 << op.out_slot.bits for x in out)


# ------------------------------------------------------------- a pin


def _splitmix(state: int, k: int) -> int:
    m = (1 << 64) - 1
    z = (state + (k + 1) * 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def _operand64(c: int, m: int) -> int:
    """The integer-operand table of docs/vectors.md, written out for W = 64."""
    mask = (1 << 64) - 1
    cls, p = c >> 60, (c >> 32) & 0xFFFF
    if cls < 8:
        return m
    if cls < 10:
        return (m % 65 - 32) & mask
    if cls < 12:
        return [0, 1, mask, 1 << 63, (1 << 63) - 1, (1 << 63) + 1, (1 << 63) - 2, 2][p % 8]
    if cls < 14:
        v = 2 ** (p % 64) + (p >> 8) % 3 - 1
        return (-v if p & 1024 else v) & mask
    b = p % 65
    v = 0 if b == 0 else 2 ** (b - 1) + m % 2 ** (b - 1)
    return (-v if cls == 15 else v) & mask


def test_golden_pin_against_an_independent_implementation() -> None:
    s0 = int.from_bytes(hashlib.sha256(b"teecert-data-v1:i64.add:1").digest()[:8], "little")
    t0 = _splitmix(s0, 0)
    d = [_splitmix(t0, k) for k in range(4)]
    want = (_operand64(d[0], d[1]), _operand64(d[2], d[3]))
    got = ds.vectors(ops.get("i64.add"), 1, 0, 1)
    assert got == [want]
    assert got == [(0x49448BDF7104792D, 0x0000007FFFFFFFFF)]  # pinned: the spec must not drift
    # and a few more vectors, to reach every class of the table
    more = ds.vectors(ops.get("i64.add"), 1, 0, 400)
    for i, vec in enumerate(more):
        t = _splitmix(s0, i)
        d = [_splitmix(t, k) for k in range(4)]
        assert vec == (_operand64(d[0], d[1]), _operand64(d[2], d[3]))
    assert {_splitmix(_splitmix(s0, i), 0) >> 60 for i in range(400)} == set(range(16))
