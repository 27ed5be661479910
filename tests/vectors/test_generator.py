"""The stream generator: SplitMix64 known answers and the value classes of the spec."""

from __future__ import annotations

import struct

from teecert import ops
from teecert.vectors.streams import inputs as stream_inputs
from teecert.vectors.streams import mix as generator


def test_splitmix64_known_answers() -> None:
    # SplitMix64 seeded with 0 (Steele, Lea and Flood 2014; the sequence every
    # implementation publishes): e220a8397b1dcdaf, 6e789e6aa1b965f4, 06c45d188009454f.
    assert [generator.draw(0, k) for k in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_initial_state_is_sha256_of_the_stream_name() -> None:
    import hashlib

    want = int.from_bytes(hashlib.sha256(b"teecert-mix-v1:f64.add.rne:1").digest()[:8], "little")
    assert generator.initial_state("f64.add.rne", 1) == want


def test_counter_based_chunks_equal_the_sequential_stream() -> None:
    op = ops.get("f64.fma.rne")
    whole = stream_inputs.vectors(op, 3, 0, 40)
    assert stream_inputs.vectors(op, 3, 25, 15) == whole[25:]


def test_every_class_appears_and_has_its_shape() -> None:
    fmt = ops.F64
    seen = set()
    for k in range(0, 4000, 2):
        c, m = generator.draw(11, k), generator.draw(11, k + 1)
        cls = c >> 60
        v = generator.value(fmt, c, m)
        seen.add(cls)
        e = (v >> 52) & 0x7FF
        p = (c >> 32) & 0xFFFF
        if 6 <= cls <= 9:
            assert e == 1023 - 4 + p % 9
        elif cls == 10:
            assert e == 0
        elif cls == 12:
            assert e == 2046 - p % 4
        elif cls == 14:
            x = struct.unpack("<d", struct.pack("<Q", v))[0]
            assert x == (m % 2049) - 1024
    assert seen == set(range(16))


def test_f32_values_fit_in_32_bits() -> None:
    op = ops.get("f32.sqrt.rtz")
    assert all(v[0] >> 32 == 0 for v in stream_inputs.vectors(op, 5, 0, 500))
