"""The specialised paths of the C data generator (native/accel/datagen.c) against the
Python specification (harness/vectors/streams/data.py).

datagen.c generates the integer and conversion rules in blocks of 64 vectors (eight
at a time with AVX-512), with one code instance per rule, width and int -> float
argument, and a general one for arguments outside the catalogue; f64.from_dec prints
its digits with its own base-10^9 code and class (a) without printf.  These cases
cross block and group boundaries (spans of 0, 1, 7, 8, 9, 63, 64, 65 ... vectors at
odd starts), take every rule, width and argument, and run on both the AVX-512 and
the portable path (TEECERT_ACCEL_SCALAR), each compared with the specification.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from teecert import ops
from teecert.vectors.streams import data as data_streams
from teecert.vectors.streams import inputs

from conftest import first_difference

pytestmark = pytest.mark.skipif(not inputs.have_data_generator(),
                                reason="teecert._accel is built without datagen.c")

DATA_OPS = [op for op in ops.CATALOGUE.values() if op.kind in ops.DATA_KINDS]


def _representatives() -> list[ops.Op]:
    """One op per (rule, width, arg) of the catalogue: every specialised instance."""
    seen: dict[tuple[int, int, int], ops.Op] = {}
    for op in DATA_OPS:
        seen.setdefault(data_streams.native_rule(op), op)
    return list(seen.values())


REPRESENTATIVES = _representatives()

#: (start, n): empty and single vectors, the edges of the eight-vector groups and of
#: the 64-vector blocks, from odd starts and far out (the generator is counter based)
SPANS = [(0, 0), (5, 1), (1, 2), (3, 7), (9, 8), (17, 9), (63, 63), (64, 64), (101, 65),
         (8191, 130), ((1 << 40) + 3, 71), ((1 << 63) - 5, 11)]
#: the same for the ops that cost Python 20 to 50 us a vector
HEAVY_SPANS = [(0, 0), (5, 1), (3, 7), (17, 9), (101, 65), ((1 << 40) + 3, 33)]

#: int -> float arguments (width, signed, precision) outside the catalogue: the
#: general code
OTHER_TO_FLOAT = [(32, 0, 24), (32, 0, 53), (32, 1, 11), (64, 1, 11), (64, 0, 8),
                  (64, 1, 64), (32, 1, 31), (64, 0, 63)]


def _spans(op: ops.Op) -> list[tuple[int, int]]:
    return HEAVY_SPANS if op.in_bytes >= 512 else SPANS


def c_bytes(accel: Any, s0: int, start: int, n: int, rule: int, width: int, arg: int,
            size: int) -> bytes:
    buf = accel.ffi.new("unsigned char[]", max(1, n * size))
    rc = accel.lib.teecert_gen_data(s0, start, n, rule, width, arg, buf)
    assert rc == 0, f"teecert_gen_data({rule}, {width}, {arg}) returned {rc}"
    return bytes(accel.ffi.buffer(buf, n * size))


def spec_to_float(s0: int, start: int, n: int, width: int, signed: int, precision: int) -> bytes:
    out = bytearray()
    for i in range(start, start + n):
        d = data_streams.material(data_streams.generator.draw(s0, i), 3)
        v = data_streams.int_source(width, bool(signed), precision, d)
        out += v.to_bytes(width // 8, "little")
    return bytes(out)


@pytest.mark.parametrize("op", REPRESENTATIVES, ids=lambda op: op.id)
def test_every_instance_at_group_and_block_edges(op: ops.Op) -> None:
    accel = inputs._accel
    rule, width, arg = data_streams.native_rule(op)
    for seed in (1, 0xDEADBEEF):
        s0 = data_streams.initial_state(op.id, seed)
        for start, n in _spans(op):
            got = c_bytes(accel, s0, start, n, rule, width, arg, op.in_bytes)
            want = data_streams.packed_inputs(op, seed, start, n)
            assert got == want, first_difference(op, got, want, start, n)


@pytest.mark.parametrize(("width", "signed", "precision"), OTHER_TO_FLOAT)
def test_to_float_arguments_outside_the_catalogue(width: int, signed: int, precision: int) -> None:
    accel = inputs._accel
    rule = data_streams.NATIVE_RULES["to_float"]
    s0 = 0x0123456789ABCDEF
    for start, n in SPANS:
        got = c_bytes(accel, s0, start, n, rule, width, signed << 8 | precision, width // 8)
        assert got == spec_to_float(s0, start, n, width, signed, precision), (start, n)


def test_from_dec_texts_over_long_spans() -> None:
    """Every class and nudge many times over: (a) rounds the exact value to 1..17
    digits without printf, the others print up to ~870 digits."""
    op = ops.get("f64.from_dec")
    accel = inputs._accel
    rule, width, arg = data_streams.native_rule(op)
    for seed, start, n in ((2, 77, 1200), (3, (1 << 33) + 1, 1200)):
        got = c_bytes(accel, data_streams.initial_state(op.id, seed), start, n, rule, width, arg,
                      op.in_bytes)
        want = data_streams.packed_inputs(op, seed, start, n)
        assert got == want, first_difference(op, got, want, start, n)


def test_sort_items_of_every_alphabet() -> None:
    op = ops.get("u64.sort_stable")
    accel = inputs._accel
    rule, width, arg = data_streams.native_rule(op)
    s0 = data_streams.initial_state(op.id, 5)
    alphabets = set()
    for i in range(31, 31 + 300):
        d0 = data_streams.material(data_streams.generator.draw(s0, i), 1)[0]
        alphabets.add(data_streams.SORT_ALPHABETS[data_streams._p16(d0) % 7])
    assert alphabets == set(data_streams.SORT_ALPHABETS)
    got = c_bytes(accel, s0, 31, 300, rule, width, arg, op.in_bytes)
    want = data_streams.packed_inputs(op, 5, 31, 300)
    assert got == want, first_difference(op, got, want, 31, 300)


_SCALAR = """
import json, sys
from teecert.vectors.streams import inputs
accel = inputs._accel
out = []
for s0, start, n, rule, width, arg, size in json.loads(sys.argv[1]):
    buf = accel.ffi.new("unsigned char[]", max(1, n * size))
    assert accel.lib.teecert_gen_data(s0, start, n, rule, width, arg, buf) == 0
    out.append(bytes(accel.ffi.buffer(buf, n * size)).hex())
print(json.dumps(out))
"""


def test_the_portable_path_at_the_same_edges() -> None:
    """TEECERT_ACCEL_SCALAR: the portable code, the same cases, the specification's bytes."""
    cases: list[tuple[int, int, int, int, int, int, int]] = []
    want: list[bytes] = []
    for op in REPRESENTATIVES:
        rule, width, arg = data_streams.native_rule(op)
        s0 = data_streams.initial_state(op.id, 1)
        for start, n in _spans(op)[:8]:
            cases.append((s0, start, n, rule, width, arg, op.in_bytes))
            want.append(data_streams.packed_inputs(op, 1, start, n))
    for width, signed, precision in OTHER_TO_FLOAT[:4]:
        for start, n in SPANS[:8]:
            cases.append((7, start, n, data_streams.NATIVE_RULES["to_float"], width,
                          signed << 8 | precision, width // 8))
            want.append(spec_to_float(7, start, n, width, signed, precision))
    res = subprocess.run([sys.executable, "-c", _SCALAR, json.dumps(cases)], capture_output=True,
                         text=True, timeout=300, check=False,
                         env={**os.environ, "TEECERT_ACCEL_SCALAR": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    got = [bytes.fromhex(h) for h in json.loads(res.stdout)]
    for case, g, w in zip(cases, got, want, strict=True):
        assert g == w, f"portable path differs: (s0, start, n, rule, width, arg, size) = {case}"
