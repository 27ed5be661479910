"""The C generator of teecert-data-v1 (native/accel/datagen.c) against its Python
specification (harness/vectors/streams/data.py): the same bytes for every data op,
over several chunks and random spans, and every from_dec text class."""

from __future__ import annotations

import random
from typing import Any

import pytest

from teecert import ops
from teecert.errors import UsageError
from teecert.vectors.streams import data as data_streams
from teecert.vectors.streams import inputs

from conftest import first_difference

DATA_OPS = [op for op in ops.CATALOGUE.values() if op.kind in ops.DATA_KINDS]

pytestmark = pytest.mark.skipif(not inputs.have_data_generator(),
                                reason="teecert._accel is built without datagen.c")


def c_inputs(accel: Any, op: ops.Op, seed: int, start: int, n: int) -> bytes:
    """Vectors start .. start+n-1 from the C generator of the module ``accel``."""
    rule, width, arg = data_streams.native_rule(op)
    buf = accel.ffi.new("unsigned char[]", max(1, n * op.in_bytes))
    rc = accel.lib.teecert_gen_data(data_streams.initial_state(op.id, seed), start, n,
                                    rule, width, arg, buf)
    assert rc == 0, f"{op.id}: teecert_gen_data returned {rc}"
    return bytes(accel.ffi.buffer(buf, n * op.in_bytes))


def spans(op: ops.Op) -> list[tuple[int, int, int]]:
    """(seed, start, n): chunk starts of the committed stream, an odd span across a
    chunk boundary, and random ones far out (the generator is counter based)."""
    rng = random.Random(f"data-generator-c:{op.id}")
    # Python costs 2 to 50 us a vector: fewer of the heavy ones, more of the cheap
    n = 96 if op.in_bytes >= 512 else 400
    size = data_streams.CHUNK_SIZE
    out = [(1, 0, n), (1, size, n), (1, 3 * size - n // 2, n), (7, 12345, 33)]
    out += [(rng.randrange(1 << 32), rng.randrange(1 << 44), 1 + rng.randrange(n)) for _ in range(2)]
    return out


@pytest.mark.parametrize("op", DATA_OPS, ids=lambda op: op.id)
def test_c_generator_equals_python(op: ops.Op) -> None:
    accel = inputs._accel
    for seed, start, n in spans(op):
        got = c_inputs(accel, op, seed, start, n)
        want = data_streams.packed_inputs(op, seed, start, n)
        assert got == want, first_difference(op, got, want, start, n)
    # and chunk_inputs, which the hot loop and the golden leaves use, takes the C path
    assert inputs.chunk_inputs(op, 1, 5, 7) == data_streams.packed_inputs(op, 1, 5, 7)


def test_every_from_dec_class_agrees() -> None:
    """f64.from_dec has eight text classes with big-integer decimals and printf: a
    longer span, so that each class and nudge variant occurs many times."""
    op = ops.get("f64.from_dec")
    accel = inputs._accel
    classes: set[int] = set()
    s0 = data_streams.initial_state(op.id, 1)
    start, n = 40000, 1500
    for i in range(start, start + n):
        d0 = data_streams.material(data_streams.generator.draw(s0, i), 1)[0]
        classes.add(d0 >> 60)
    assert classes == set(range(16))
    got = c_inputs(accel, op, 1, start, n)
    want = data_streams.packed_inputs(op, 1, start, n)
    assert got == want, first_difference(op, got, want, start, n)


def test_unknown_rule_is_refused() -> None:
    accel = inputs._accel
    buf = accel.ffi.new("unsigned char[]", 64)
    assert accel.lib.teecert_gen_data(1, 0, 1, 0, 64, 0, buf) == -1
    assert accel.lib.teecert_gen_data(1, 0, 1, 99, 64, 0, buf) == -1
    assert accel.lib.teecert_gen_data(1, 0, 1, data_streams.NATIVE_RULES["pair"], 16, 0, buf) == -1


def test_refusal_raises_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build out of step with data.py (the C side refuses the rule) stops the
    stream with a reason instead of running the probe on a half-written buffer."""
    op = ops.get("i64.mul")
    monkeypatch.setattr(data_streams, "native_rule", lambda _op: (99, 64, 0))
    with pytest.raises(UsageError, match=r"i64\.mul vectors 0\.\.3.*rebuild"):
        inputs.chunk_inputs(op, 1, 0, 4)


_SCALAR_INPUTS = """
import json, sys
from teecert import ops
from teecert.vectors.streams import data as data_streams
from teecert.vectors.streams import inputs
accel = inputs._accel
out = {}
for op_id, seed, start, n in json.loads(sys.argv[1]):
    op = ops.get(op_id)
    rule, width, arg = data_streams.native_rule(op)
    buf = accel.ffi.new("unsigned char[]", max(1, n * op.in_bytes))
    assert accel.lib.teecert_gen_data(data_streams.initial_state(op_id, seed), start, n,
                                      rule, width, arg, buf) == 0
    out[f"{op_id}/{seed}/{start}/{n}"] = bytes(accel.ffi.buffer(buf, n * op.in_bytes)).hex()
print(json.dumps(out))
"""


def test_the_scalar_generator_gives_the_vector_units_bytes() -> None:
    # The generator picks AVX-512 for some rules at run time; TEECERT_ACCEL_SCALAR makes
    # it take the portable path, which must give the same bytes (and the Python
    # specification's) on a machine where the vector path is the default.
    import json
    import os
    import subprocess
    import sys

    cases = [(op.id, seed, start, min(n, 64)) for op in DATA_OPS for seed, start, n in spans(op)[:3]]
    res = subprocess.run([sys.executable, "-c", _SCALAR_INPUTS, json.dumps(cases)], capture_output=True,
                         text=True, timeout=300, check=False,
                         env={**os.environ, "TEECERT_ACCEL_SCALAR": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    scalar = json.loads(res.stdout)
    for op_id, seed, start, n in cases:
        op = ops.get(op_id)
        got = bytes.fromhex(scalar[f"{op_id}/{seed}/{start}/{n}"])
        assert got == c_inputs(inputs._accel, op, seed, start, n), f"{op_id} {seed} {start} {n}"
        want = data_streams.packed_inputs(op, seed, start, n)
        assert got == want, first_difference(op, got, want, start, n)
