"""Stream inputs: which generator makes a stream's inputs, and its packed probe-ABI
bytes for any span of vectors.

Three generators are specified in docs/vectors.md: ``teecert-mix-v1`` (``mix``) for
the float ops, ``teecert-libm-v1`` (``libm``) for libm functions and
``teecert-data-v1`` (``data``) for the integer, conversion and hash ops.  Their
Python modules are the specification; ``teecert._accel`` is the C implementation of
all three (native/accel/datagen.c for the third), tested equal, and a hundred to a
thousand times faster.  The accelerator
also hashes the stream loop's Merkle leaves (:func:`leaf_hasher`).
"""

from __future__ import annotations

import functools
import hashlib
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import cffi

from ... import ops
from ..._internal import accel
from ...errors import UsageError
from ...ops import DATA_KINDS, Op
from . import data as data_streams
from . import libm as libm_streams
from . import mix

_accel: Any = accel.load()  # None in a source tree without `pip install -e .`

#: to view native buffers from any FFI (cffi's buffers work across FFI instances)
_VIEW_FFI = cffi.FFI()

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


def have_data_generator() -> bool:
    """Whether the C generator of teecert-data-v1 is built (a build older than
    native/accel/datagen.c has only the float ones)."""
    return _accel is not None and hasattr(_accel.lib, "teecert_gen_data")


def stream_state(op: Op, seed: int) -> int:
    """The initial state ``s0`` of the stream ``(op, seed)`` that
    :func:`native_generator` takes: each generator names itself in it."""
    if op.kind in DATA_KINDS:
        return data_streams.initial_state(op.id, seed)
    return mix.initial_state(op.id, seed)


def native_generator(op: Op, s0: int) -> Callable[[int, int, Any], None]:
    """``gen(start, n, buf)``: the C generator of ``op``'s stream (teecert-mix-v1,
    teecert-libm-v1 for a libm function, teecert-data-v1 for a data op) writing
    vectors ``start .. start+n-1``; ``s0`` is :func:`stream_state`."""
    lib = _accel.lib
    if op.kind in DATA_KINDS:
        rule, dwidth, arg = data_streams.native_rule(op)
        c_gen_data = lib.teecert_gen_data

        def gen_data(start: int, n: int, buf: Any) -> None:
            if c_gen_data(s0, start, n, rule, dwidth, arg, buf) != 0:
                # only a build out of step with data.py gets here: fail, never run on
                # a half-written buffer
                raise UsageError(f"{data_streams.GENERATOR}: the C generator refused {op.id} "
                                 f"vectors {start}..{start + n - 1} (rebuild teecert._accel)")

        return gen_data
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


#: Chunks whose leaves are hashed together in the stream loop (:func:`leaf_hasher`).
LEAF_LANES = 2


def leaf_hasher(bufs: Sequence[Any]) -> Callable[[Sequence[int]], list[bytes]]:
    """``leaves(lens)``: the Merkle leaves SHA-256(0x00 || bytes) of the first
    ``len(lens)`` native buffers (cdata) of ``bufs``, ``lens[i]`` bytes of each.

    With the accelerator: native/probe/sha256.c on the CPU's SHA instructions, two
    buffers side by side, which costs much less than one after another (one SHA-256
    is bound by the latency of those instructions; hashlib is no faster per byte).  Without it, or with a build older than teecert_leaves: hashlib, one by
    one.  Both give the same bytes (tests/native/test_sha256_paths.py)."""
    lib = getattr(_accel, "lib", None)
    if lib is not None and hasattr(lib, "teecert_leaves"):
        ffi = _accel.ffi
        ptrs = ffi.new("const void *[]", list(bufs))
        sizes = ffi.new("size_t[]", len(bufs))
        out = ffi.new("unsigned char[]", 32 * len(bufs))
        got = ffi.buffer(out)
        c_leaves = lib.teecert_leaves

        def leaves(lens: Sequence[int]) -> list[bytes]:
            k = len(lens)
            if k > len(bufs):
                raise UsageError(f"{k} leaves asked of {len(bufs)} buffers")
            sizes[0:k] = lens
            c_leaves(ptrs, sizes, k, out)
            raw = got[0 : 32 * k]
            return [raw[32 * i : 32 * i + 32] for i in range(k)]

        return leaves

    view = _VIEW_FFI.buffer

    def leaves_hashlib(lens: Sequence[int]) -> list[bytes]:
        out = []
        for buf, nbytes in zip(bufs, lens, strict=False):
            h = hashlib.sha256(b"\x00")
            h.update(view(buf, nbytes))
            out.append(h.digest())
        return out

    return leaves_hashlib


def span_leaves(spans: Sequence[tuple[Any, int]]) -> list[bytes]:
    """The Merkle leaves SHA-256(0x00 || bytes) of native spans ``(pointer, nbytes)``
    (cdata pointers, say into a shared region), two side by side with the
    accelerator as :func:`leaf_hasher`'s; hashlib one by one without it."""
    lib = getattr(_accel, "lib", None)
    if not spans:
        return []
    if lib is not None and hasattr(lib, "teecert_leaves"):
        ffi = _accel.ffi
        k = len(spans)
        out = ffi.new("unsigned char[]", 32 * k)
        lib.teecert_leaves(ffi.new("const void *[]", [p for p, _n in spans]),
                           ffi.new("size_t[]", [n for _p, n in spans]), k, out)
        raw = ffi.buffer(out)[:]
        return [raw[32 * i : 32 * i + 32] for i in range(k)]
    view = _VIEW_FFI.buffer
    leaves = []
    for p, n in spans:
        h = hashlib.sha256(b"\x00")
        h.update(view(p, n))
        leaves.append(h.digest())
    return leaves


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
    """A data op's chunk in pure Python (teecert-data-v1 without its C generator, a
    few ms to 0.2 s), kept: stress runs the same chunks in every round and process."""
    return data_streams.packed_inputs(ops.get(op_id), seed, start, n)


def chunk_inputs(op: Op, seed: int, start: int, n: int) -> bytes:
    """The packed probe-ABI inputs of vectors ``start .. start+n-1`` of a stream."""
    if n < 0 or start < 0:
        raise UsageError(f"stream {op.id}: bad chunk span start={start} n={n}")
    if op.kind in DATA_KINDS and not have_data_generator():
        return _data_chunk(op.id, seed, start, n)
    if _accel is None:
        warn_slow()
        return pack_inputs(op, vectors(op, seed, start, n))
    buf = _accel.ffi.new("unsigned char[]", n * op.in_bytes)
    native_generator(op, stream_state(op, seed))(start, n, buf)
    return bytes(_accel.ffi.buffer(buf))


