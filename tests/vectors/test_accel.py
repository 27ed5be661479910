"""The C generator (``teecert._accel``) against the pure-Python specification
(``teecert.vectors.streams.mix``): bit for bit, for every arity and width of the catalogue,
over many seeds and chunk offsets."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teecert import ops
from teecert.vectors.streams import inputs as stream_inputs
from teecert.vectors.streams import mix as generator

_accel = pytest.importorskip("teecert._accel", reason="teecert._accel is not built (pip install -e .)")

#: One op per (arity, width) shape; the generator depends on nothing else of the op.
FLOAT_OPS = [op for op in ops.CATALOGUE.values() if op.kind == "float"]  # libm: test_libm_suite
SHAPES = sorted({(op.arity, op.fmt.width): op.id for op in FLOAT_OPS}.items())
SHAPE_OPS = [ops.get(op_id) for _shape, op_id in SHAPES]


def c_vectors(op: ops.Op, seed: int, start: int, n: int, scalar: bool = False) -> bytes:
    buf = _accel.ffi.new("unsigned char[]", n * op.in_bytes)
    gen = _accel.lib.teecert_gen_scalar if scalar else _accel.lib.teecert_gen
    gen(generator.initial_state(op.id, seed), start, n, op.arity, op.fmt.width, buf)
    return bytes(_accel.ffi.buffer(buf))


def impl() -> str:
    return str(_accel.ffi.string(_accel.lib.teecert_gen_impl()).decode())


def py_vectors(op: ops.Op, seed: int, start: int, n: int) -> bytes:
    return stream_inputs.pack_inputs(op, stream_inputs.vectors(op, seed, start, n))


def test_the_catalogue_has_the_expected_shapes() -> None:
    assert [shape for shape, _ in SHAPES] == [(1, 32), (1, 64), (2, 32), (2, 64), (3, 32), (3, 64)]


@pytest.mark.parametrize("op", SHAPE_OPS, ids=[op.id for op in SHAPE_OPS])
def test_a_long_chunk_covers_every_class_and_agrees(op: ops.Op) -> None:
    """4096 vectors: every value class and every special-table entry occurs many times."""
    seed, n = 20240611, 4096
    s0 = generator.initial_state(op.id, seed)
    classes, specials = set(), set()
    for k in range(0, 2 * op.arity * n, 2):
        c = generator.draw(s0, k)
        classes.add(c >> 60)
        if c >> 60 == 13:
            specials.add(((c >> 32) & 0xFFFF) % 16)
    assert classes == set(range(16)) and specials == set(range(16))
    want = py_vectors(op, seed, 0, n)
    assert c_vectors(op, seed, 0, n) == want
    assert c_vectors(op, seed, 0, n, scalar=True) == want


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.sampled_from(SHAPE_OPS),
    seed=st.integers(min_value=0, max_value=2**64),
    start=st.one_of(st.integers(0, 10**7), st.integers(0, 2**64 - 1)),
    n=st.integers(0, 40),
)
def test_random_chunks_agree(shape: ops.Op, seed: int, start: int, n: int) -> None:
    # Starts up to 2**64 make the draw counter wrap: both sides compute mod 2**64.
    # n up to 40 covers the vector path's whole blocks of 8 values and its scalar tail.
    want = py_vectors(shape, seed, start, n)
    assert c_vectors(shape, seed, start, n) == want
    assert c_vectors(shape, seed, start, n, scalar=True) == want


def test_the_implementation_is_named() -> None:
    assert impl() in ("avx512", "scalar")


def test_vector_and_scalar_paths_agree_on_a_million_values() -> None:
    """The vector path's multiply-shift divisions are exact only over input ranges;
    a long run through every class and field value checks them against the scalar
    code (itself checked against the specification above)."""
    for op in SHAPE_OPS:
        n = (1 << 20) // op.arity + 3  # not a multiple of 8: the tail runs too
        assert c_vectors(op, 77, 12345, n) == c_vectors(op, 77, 12345, n, scalar=True), op.id


@pytest.mark.parametrize("op", SHAPE_OPS, ids=[op.id for op in SHAPE_OPS])
def test_chunks_are_slices_of_the_whole(op: ops.Op) -> None:
    whole = c_vectors(op, 5, 0, 300)
    per = op.in_bytes
    for start, n in ((0, 1), (1, 7), (128, 64), (299, 1), (17, 283)):
        assert c_vectors(op, 5, start, n) == whole[start * per : (start + n) * per]


def test_an_unknown_width_writes_nothing() -> None:
    buf = _accel.ffi.new("unsigned char[]", 64)
    _accel.lib.teecert_gen(1, 0, 4, 2, 16, buf)
    assert bytes(_accel.ffi.buffer(buf)) == bytes(64)


def test_every_catalogue_op_agrees_on_its_own_stream() -> None:
    """The state depends on the op id, so check the first chunk of every float stream."""
    for op in FLOAT_OPS:
        assert c_vectors(op, 1, 1000, 24) == py_vectors(op, 1, 1000, 24), op.id


def test_scalar_can_be_forced_from_the_environment() -> None:
    import os
    import subprocess
    import sys

    code = "from teecert import _accel; print(_accel.ffi.string(_accel.lib.teecert_gen_impl()).decode())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "TEECERT_ACCEL_SCALAR": "1"}).stdout.strip()
    assert out == "scalar"
