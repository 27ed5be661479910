"""Stream inputs: which generator makes a stream's inputs, and its packed probe-ABI
bytes for any span of vectors.

Three generators are specified in docs/vectors.md: ``teecert-mix-v1`` (``mix``) for
the float ops, ``teecert-libm-v1`` (``libm``) for libm functions and
``teecert-data-v1`` (``data``) for the integer, conversion and hash ops.  Their
Python modules are the specification; ``teecert._accel`` is the C implementation of
the first two, tested equal, and about a thousand times faster.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from ... import ops
from ..._internal import accel
from ...errors import UsageError
from ...ops import DATA_KINDS, Op
from . import data as data_streams
from . import libm as libm_streams
from . import mix

_accel: Any = accel.load()  # None in a source tree without `pip install -e .`

_warned = False


def have_accelerator() -> bool:
    """Whether the C generator is built."""
    return _accel is not None


def warn_slow() -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            "teecert._accel is not built: generating stream inputs in pure Python, "
            "about a thousand times slower (reinstall teecert with a C compiler present)",
            RuntimeWarning,
            stacklevel=3,
        )


def native_generator(op: Op, s0: int) -> Callable[[int, int, Any], None]:
    """``gen(start, n, buf)``: the C generator of ``op``'s stream (teecert-mix-v1, or
    teecert-libm-v1 for a libm function) writing vectors ``start .. start+n-1``."""
    lib = _accel.lib
    arity, width = op.arity, op.fmt.width
    if op.kind == "libm":
        dom = _accel.ffi.new("int32_t[]", [int(x) for d in libm_streams.domain(op.name, op.fmt)
                                          for x in d])

        def gen_libm(start: int, n: int, buf: Any) -> None:
            lib.teecert_gen_libm(s0, start, n, arity, width, dom, buf)

        return gen_libm

    def gen_mix(start: int, n: int, buf: Any) -> None:
        lib.teecert_gen(s0, start, n, arity, width, buf)

    return gen_mix


def vectors(op: Op, seed: int, start: int, count: int) -> list[tuple[int, ...]]:
    """Inputs of vectors ``start .. start+count-1`` of the stream ``(op, seed)``, from
    the generator that the op's kind names."""
    if op.kind == "libm":
        return libm_streams.vectors(op, seed, start, count)
    if op.kind in DATA_KINDS:
        return data_streams.vectors(op, seed, start, count)
    return mix.vectors(op, seed, start, count)


def pack_inputs(op: Op, vecs: list[tuple[int, ...]]) -> bytes:
    """The probe-ABI input buffer for these vectors: values little-endian, in order."""
    return op.pack_inputs(vecs)


@functools.lru_cache(maxsize=48)
def _data_chunk(op_id: str, seed: int, start: int, n: int) -> bytes:
    """A data op's chunk (teecert-data-v1, pure Python, a few ms to 0.2 s), kept:
    stress runs the same chunks in every round and process."""
    return data_streams.packed_inputs(ops.get(op_id), seed, start, n)


def chunk_inputs(op: Op, seed: int, start: int, n: int) -> bytes:
    """The packed probe-ABI inputs of vectors ``start .. start+n-1`` of a stream."""
    if n < 0 or start < 0:
        raise UsageError(f"stream {op.id}: bad chunk span start={start} n={n}")
    if op.kind in DATA_KINDS:
        return _data_chunk(op.id, seed, start, n)
    if _accel is None:
        warn_slow()
        return pack_inputs(op, vectors(op, seed, start, n))
    buf = _accel.ffi.new("unsigned char[]", n * op.in_bytes)
    native_generator(op, mix.initial_state(op.id, seed))(start, n, buf)
    return bytes(_accel.ffi.buffer(buf))


