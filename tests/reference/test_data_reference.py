"""The data-op references confirm themselves: each cross-check is there and refuses.

``teecert.reference.data`` computes every data op once from first principles
(``integers``, ``hashes``) and, where a second answer exists, once more by other
means (``float()``, ``format``, ``struct``, ``sorted``, the hand-written sponge).
These tests make one side wrong at a time, through ``monkeypatch``, and require
``DataReferenceDisagreement``: a cross-check that was deleted, or that compares the
wrong things, lets the wrong value through and fails here.  The right answers are
known answers written here (bit patterns, texts, published digests), never taken
from the code under test.
"""

from __future__ import annotations

import hashlib
import struct
import types
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from teecert import ops
from teecert.errors import MalformedInput
from teecert.ops import DEC_TEXT_BYTES, HASH_MSG_BYTES, SORT_ITEMS
from teecert.reference import data, hashes, integers

FROM_DEC = ops.get("f64.from_dec")
TO_DEC = ops.get("f64.to_dec")
SERIALIZE = ops.get("rec.serialize")
SORT = ops.get("u64.sort_stable")
SHA3 = ops.get("hash.sha3_256")
KECCAK = ops.get("hash.keccak256")


def text_slot(text: bytes, size: int) -> int:
    return int.from_bytes(text.ljust(size, b"\0"), "big")


def one(op: ops.Op, *vec: int) -> int:
    [out] = data.evaluate_many(op, [tuple(vec)])
    return out


# -- decimal parse: integers.f64_from_dec against float() ----------------------------------

#: decimal text -> the nearest binary64, as published bit patterns
FROM_DEC_KNOWN = {
    b"0.1": 0x3FB999999999999A,
    b"1e23": 0x44B52D02C7E14AF6,  # a classic halfway-looking case
    b"-2.5": 0xC004000000000000,
    b"4.9406564584124654e-324": 0x0000000000000001,
}


@pytest.mark.parametrize(("text", "bits"), sorted(FROM_DEC_KNOWN.items()))
def test_from_dec_known_answers(text: bytes, bits: int) -> None:
    assert one(FROM_DEC, text_slot(text, DEC_TEXT_BYTES)) == bits  # status 0 in the high half


def test_from_dec_refuses_when_the_first_principles_parse_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    real = integers.f64_from_dec

    def one_ulp_off(text: str | bytes) -> int | None:
        bits = real(text)
        return None if bits is None else bits ^ 1

    monkeypatch.setattr(integers, "f64_from_dec", one_ulp_off)
    with pytest.raises(data.DataReferenceDisagreement, match=r"f64\.from_dec"):
        one(FROM_DEC, text_slot(b"0.1", DEC_TEXT_BYTES))


def test_from_dec_refuses_when_float_disagrees(monkeypatch: pytest.MonkeyPatch) -> None:
    # the confirmation is Python's float(), looked up in the module's namespace
    monkeypatch.setattr(data, "float", lambda s: float(s) * 2, raising=False)
    with pytest.raises(data.DataReferenceDisagreement, match=r"f64\.from_dec"):
        one(FROM_DEC, text_slot(b"0.1", DEC_TEXT_BYTES))


def test_from_dec_nan_texts_agree_whatever_the_payload(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both sides give a NaN; their payloads may differ and that is no disagreement.
    other_nan = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000123))[0]
    monkeypatch.setattr(data, "float", lambda s: other_nan if "nan" in s.lower() else float(s), raising=False)
    out = one(FROM_DEC, text_slot(b"nan", DEC_TEXT_BYTES))
    bits = out & ((1 << 64) - 1)
    assert out >> 64 == 0  # status 0: parsed
    assert bits & 0x7FF0000000000000 == 0x7FF0000000000000 and bits & 0x000FFFFFFFFFFFFF
    assert bits != 0x7FF8000000000123  # the golden value is the first-principles one


def test_from_dec_a_nan_on_one_side_only_is_a_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    nan = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000000))[0]
    monkeypatch.setattr(data, "float", lambda s: nan, raising=False)
    with pytest.raises(data.DataReferenceDisagreement, match=r"f64\.from_dec"):
        one(FROM_DEC, text_slot(b"0.1", DEC_TEXT_BYTES))
    monkeypatch.setattr(data, "float", float, raising=False)
    monkeypatch.setattr(integers, "f64_from_dec", lambda text: 0x7FF8000000000000)
    with pytest.raises(data.DataReferenceDisagreement, match=r"f64\.from_dec"):
        one(FROM_DEC, text_slot(b"0.1", DEC_TEXT_BYTES))


# -- decimal print: integers.f64_to_dec against format(x, ".16e") --------------------------

TO_DEC_KNOWN = {
    0x3FB999999999999A: b"1.0000000000000001e-01",
    0x3FF0000000000000: b"1.0000000000000000e+00",
    0xC004000000000000: b"-2.5000000000000000e+00",
    0x7FF0000000000000: b"inf",
}


@pytest.mark.parametrize(("bits", "text"), sorted(TO_DEC_KNOWN.items()))
def test_to_dec_known_answers(bits: int, text: bytes) -> None:
    out = one(TO_DEC, bits)
    assert out.to_bytes(TO_DEC.out_slot.size, "big").rstrip(b"\0") == text


def test_to_dec_refuses_when_the_first_principles_print_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(integers, "f64_to_dec", lambda bits: "1.0000000000000000e-01")
    with pytest.raises(data.DataReferenceDisagreement, match=r"f64\.to_dec"):
        one(TO_DEC, 0x3FB999999999999A)


def test_to_dec_refuses_when_format_disagrees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "format", lambda x, spec: format(x, ".15e") + "0", raising=False)
    with pytest.raises(data.DataReferenceDisagreement, match=r"f64\.to_dec"):
        one(TO_DEC, 0x3FB999999999999A)


# -- record layout: integers.serialize_record against struct --------------------------------

RECORD = (0x07, 0x0102030405060708, 0xFFFFFFFE, 0x3FF8000000000000, 0xBEEF)
#: the record by hand: u8, u64, i32, f64, u16 little-endian, no padding, one zero byte
RECORD_BYTES = (b"\x07" + bytes.fromhex("0807060504030201") + bytes.fromhex("feffffff")
                + bytes.fromhex("000000000000f83f") + bytes.fromhex("efbe") + b"\x00")


def test_serialize_known_answer() -> None:
    assert one(SERIALIZE, *RECORD) == int.from_bytes(RECORD_BYTES, "big")


def test_serialize_refuses_when_the_first_principles_layout_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    real = integers.serialize_record
    monkeypatch.setattr(integers, "serialize_record", lambda slots: real(slots)[:-1] + b"\x01")
    with pytest.raises(data.DataReferenceDisagreement, match=r"rec\.serialize"):
        one(SERIALIZE, *RECORD)


def test_serialize_refuses_when_struct_disagrees(monkeypatch: pytest.MonkeyPatch) -> None:
    def pack(fmt: str, *values: Any) -> bytes:
        return struct.pack(fmt.replace("<", ">"), *values)  # big-endian: every field reversed

    monkeypatch.setattr(data, "struct", types.SimpleNamespace(pack=pack, unpack=struct.unpack))
    with pytest.raises(data.DataReferenceDisagreement, match=r"rec\.serialize"):
        one(SERIALIZE, *RECORD)


# -- stable sort: integers.sort_stable_u64 against sorted() ----------------------------------


def items_slot(items: Sequence[int]) -> int:
    return int.from_bytes(b"".join(x.to_bytes(8, "big") for x in items), "big")


#: Pairs of equal keys (the top 16 bits) in both orders, so any unstable sort shows.
SORT_INPUT = [((SORT_ITEMS - i) % 7 << 48) | i for i in range(SORT_ITEMS)]
#: stable by key, by hand: for each key in increasing order, the items in input order
SORT_OUTPUT = [x for key in range(7) for x in SORT_INPUT if x >> 48 == key]


def test_sort_known_answer() -> None:
    assert one(SORT, items_slot(SORT_INPUT)) == items_slot(SORT_OUTPUT)


def _unstable(items: Sequence[int]) -> list[int]:
    """Sorted by key, equal keys in reverse input order."""
    indexed = sorted(enumerate(items), key=lambda p: (p[1] >> 48, -p[0]))
    return [v for _i, v in indexed]


def test_sort_refuses_when_the_first_principles_sort_is_unstable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(integers, "sort_stable_u64", _unstable)
    with pytest.raises(data.DataReferenceDisagreement, match=r"u64\.sort_stable"):
        one(SORT, items_slot(SORT_INPUT))


def test_sort_refuses_when_the_confirmation_is_unstable(monkeypatch: pytest.MonkeyPatch) -> None:
    def reversed_ties(triples: Any) -> list[Any]:
        return sorted(triples, key=lambda t: (t[0], -t[1]))

    monkeypatch.setattr(data, "sorted", reversed_ties, raising=False)
    with pytest.raises(data.DataReferenceDisagreement, match=r"u64\.sort_stable"):
        one(SORT, items_slot(SORT_INPUT))


# -- SHA3-256: hashlib against the hand-written sponge --------------------------------------

#: FIPS 202 example value of SHA3-256("abc")
SHA3_ABC = bytes.fromhex("3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")


def msg_slot(msg: bytes) -> tuple[int, int]:
    return len(msg), int.from_bytes(msg.ljust(HASH_MSG_BYTES, b"\0"), "big")


def test_sha3_known_answer() -> None:
    assert one(SHA3, *msg_slot(b"abc")) == int.from_bytes(SHA3_ABC, "big")


def _wrong_for(name: str, real: Callable[[str, bytes], bytes]) -> Callable[[str, bytes], bytes]:
    def digest(n: str, msg: bytes) -> bytes:
        out = real(n, msg)
        return bytes([out[0] ^ 1]) + out[1:] if n == name else out
    return digest


def test_sha3_refuses_when_hashlib_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashes, "digest", _wrong_for("sha3_256", hashes.digest))
    with pytest.raises(data.DataReferenceDisagreement, match=r"hash\.sha3_256"):
        one(SHA3, *msg_slot(b"abc"))


def test_sha3_refuses_when_the_sponge_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    real = hashes.keccak_sponge

    def sponge(msg: bytes, rate: int, domain: int, out_len: int) -> bytes:
        out = real(msg, rate, domain, out_len)
        return out[:-1] + bytes([out[-1] ^ 0x80])

    monkeypatch.setattr(hashes, "keccak_sponge", sponge)
    with pytest.raises(data.DataReferenceDisagreement, match=r"hash\.sha3_256"):
        one(SHA3, *msg_slot(b"abc"))


def test_the_sponge_confirms_sha3_with_sha3_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int, int]] = []
    real = hashes.keccak_sponge

    def spy(msg: bytes, rate: int, domain: int, out_len: int) -> bytes:
        calls.append((rate, domain, out_len))
        return real(msg, rate, domain, out_len)

    monkeypatch.setattr(hashes, "keccak_sponge", spy)
    assert one(SHA3, *msg_slot(b"abc")) == int.from_bytes(hashlib.sha3_256(b"abc").digest(), "big")
    assert calls == [(136, 0x06, 32)]  # SHA3-256: rate 136 bytes, FIPS 202 domain bits 01


def test_other_hashes_are_not_confirmed_by_the_sha3_sponge(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(msg: bytes, rate: int, domain: int, out_len: int) -> bytes:
        raise AssertionError("only SHA3-256 has the sponge as its second answer")

    monkeypatch.setattr(hashes, "_DIGESTERS", {**hashes._DIGESTERS, "keccak256": lambda m: b"\x11" * 32})
    monkeypatch.setattr(hashes, "keccak_sponge", broken)
    assert one(KECCAK, *msg_slot(b"abc")) == int.from_bytes(b"\x11" * 32, "big")
    assert one(ops.get("hash.sha256"), *msg_slot(b"abc")) == int.from_bytes(hashlib.sha256(b"abc").digest(), "big")


# -- malformed vectors ---------------------------------------------------------------------


@pytest.mark.parametrize(("op", "vec"), [
    (SORT, (1 << 4096,)),  # too wide for its slot
    (SORT, (-1,)),
    (SORT, (1, 2)),  # arity
    (SERIALIZE, (1, 2, 3, 4, True)),  # not an int
])
def test_vectors_that_are_not_bit_patterns_are_refused(op: ops.Op, vec: tuple[Any, ...]) -> None:
    with pytest.raises(MalformedInput):
        data.evaluate_many(op, [vec])


# ------------------------------------------------------------ integer ops and conversions

INT_OPS = sorted(o for o, op in ops.CATALOGUE.items()
                 if op.kind == "int" and o not in ("f64.to_dec", "f64.from_dec", "rec.serialize",
                                                    "u64.sort_stable"))
I32_MIN, I64_MIN = 0x80000000, 0x8000000000000000

#: known answers of docs/ops-integers.md, written out by hand
INT_KNOWN = [
    ("i32.add", (0xFFFFFFFF, 1), 0),
    ("i64.sub", (0, 1), 0xFFFFFFFFFFFFFFFF),
    ("i32.mul", (0x10000, 0x10000), 0),
    ("i32.div_s", (I32_MIN, 0xFFFFFFFF), I32_MIN),      # MIN / -1 = MIN
    ("i32.div_s", (7, 0), 0xFFFFFFFF),                  # x / 0 = -1
    ("i32.div_s", (0xFFFFFFF9, 2), 0xFFFFFFFD),         # -7 / 2 = -3 (toward zero)
    ("i32.rem_s", (0xFFFFFFF9, 2), 0xFFFFFFFF),         # -7 % 2 = -1 (dividend's sign)
    ("i64.rem_s", (I64_MIN, 0xFFFFFFFFFFFFFFFF), 0),    # MIN % -1 = 0
    ("i64.rem_u", (5, 0), 5),                           # x % 0 = x
    ("i64.div_u", (5, 0), 0xFFFFFFFFFFFFFFFF),
    ("i32.shl", (1, 32), 0),                            # the count is never masked
    ("i32.shr_s", (I32_MIN, 1 << 40), 0xFFFFFFFF),
    ("i64.shr_u", (I64_MIN, 63), 1),
    ("i32.clz", (0,), 32),
    ("i64.ctz", (I64_MIN,), 63),
    ("i64.popcnt", (0xF0F0,), 8),
    ("f64.to_i32_sat", (0x41F0000000000000,), 0x7FFFFFFF),   # 2^32 saturates
    ("f64.to_i32_sat", (0xC1E0000000200000,), 0x80000000),   # -(2^31 + 1) saturates
    ("f32.to_u32_sat", (0xBF800000,), 0),                    # -1.0 clamps to 0
    ("f64.to_i64_sat", (0x7FF8000000000000,), 0),            # NaN gives 0
    ("f64.to_i64_sat", (0xC00C000000000000,), 0xFFFFFFFFFFFFFFFD),  # -3.5 truncates to -3
    ("u64.to_f32.rne", (0xFFFFFFFFFFFFFFFF,), 0x5F800000),   # 2^64
    ("u64.to_f32.rtz", (0xFFFFFFFFFFFFFFFF,), 0x5F7FFFFF),
    ("i64.to_f64.rne", (0x0020000000000001,), 0x4340000000000000),  # 2^53 + 1 ties to even
    ("i64.to_f64.rup", (0x0020000000000001,), 0x4340000000000001),
    ("i32.to_f32.rdn", (0xFEFFFFFF,), 0xCB800001),           # -(2^24 + 1) rounds down
    ("i32.to_f64.rtz", (0,), 0),                             # zero is +0
]


@pytest.mark.parametrize("op_id, vec, want", INT_KNOWN)
def test_integer_known_answers(op_id: str, vec: tuple[int, ...], want: int) -> None:
    assert one(ops.get(op_id), *vec) == want


def _edges(bits: int) -> list[int]:
    top = 1 << (bits - 1)
    return [0, 1, 2, 3, top - 1, top, top + 1, (1 << bits) - 1, (1 << bits) - 2]


@pytest.mark.parametrize("op_id", INT_OPS)
def test_both_answers_agree_on_edges_and_random_operands(op_id: str) -> None:
    """Every integer op and conversion has its second answer (a disagreement raises)."""
    import random

    op = ops.get(op_id)
    rng = random.Random(op_id)
    columns = [_edges(s.bits) + [rng.getrandbits(s.bits) >> rng.randrange(s.bits) for _ in range(60)]
               for s in op.inputs]
    vecs = [tuple(col[(i * (k + 7)) % len(col)] for k, col in enumerate(columns))
            for i in range(max(len(c) for c in columns) * 3)]
    assert len(data.evaluate_many(op, vecs)) == len(vecs)


@pytest.mark.parametrize("name, wrong", [
    ("div_s", lambda w, a, b: integers.from_signed(w, integers.to_signed(w, a) // integers.to_signed(w, b))
     if b else (1 << w) - 1),                                        # floors instead of truncating
    ("rem_s", lambda w, a, b: integers.from_signed(w, integers.to_signed(w, a) % integers.to_signed(w, b))
     if b else a),                                                   # the divisor's sign
    ("shl", lambda w, a, c: (a << (c % w)) & ((1 << w) - 1)),        # masks the count, like x86
    ("clz", lambda w, a: w - a.bit_length() if a else w - 1),
])
def test_integer_ops_refuse_when_the_first_principles_answer_is_wrong(
        monkeypatch: pytest.MonkeyPatch, name: str, wrong: Callable[..., int]) -> None:
    monkeypatch.setattr(integers, name, wrong)
    op = ops.get(f"i32.{name}")
    vec = {"div_s": (0xFFFFFFF9, 2), "rem_s": (0xFFFFFFF9, 2), "shl": (1, 33), "clz": (0,)}[name]
    with pytest.raises(data.DataReferenceDisagreement, match=f"i32.{name}"):
        data.evaluate_many(op, [vec])


def test_conversions_refuse_when_either_answer_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    from teecert.reference import intcheck

    sat, to_f = ops.get("f64.to_i32_sat"), ops.get("u64.to_f32.rne")
    with monkeypatch.context() as m:
        m.setattr(integers, "float_to_int_sat", lambda src, bits, dst: 0)
        with pytest.raises(data.DataReferenceDisagreement, match=r"f64\.to_i32_sat"):
            data.evaluate_many(sat, [(0x4059000000000000,)])  # 100.0
    with monkeypatch.context() as m:
        m.setattr(intcheck, "int_to_float", lambda src, bits, dst, rnd: 0x5F7FFFFF)  # truncates
        with pytest.raises(data.DataReferenceDisagreement, match=r"u64\.to_f32\.rne"):
            data.evaluate_many(to_f, [(0xFFFFFFFFFFFFFFFF,)])
