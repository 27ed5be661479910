"""The integer, conversion and data-model kernels (``native/probe/intops.c``) against
their Python reference (``teecert.reference.integers``), and both against
independent answers.

The C is built here, with the reference probe's own flags, into a shared library
whose kernels are made visible (``-DTEECERT_INTERNAL=...``), and loaded with cffi
in ABI mode; a second build adds UBSan (``-fsanitize=undefined``, aborting on the
first report) where the compiler has it, so that C undefined behaviour on any
tested input fails the run instead of going unnoticed.

Independent answers: hand-written tables for the RISC-V division semantics, the
unmasked shifts, bit counts and the saturating conversions; CPython's ``float()``
(correctly rounded decimal parsing), ``format(x, '.16e')`` (correctly rounded
formatting) and ``struct`` for the decimal conversions and the record layout;
the sandwich property with exact ``Fraction`` arithmetic for the directed
int -> float roundings; ``sorted`` for the stable sort.
"""

from __future__ import annotations

import math
import random
import re
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import cffi
import pytest

from teecert.ops import F32, F64, FloatFormat
from teecert.probe import build as probe_build
from teecert.reference import integers as ref

NATIVE = probe_build.native_dir()
SOURCE = NATIVE / "probe" / "intops.c"
HEADER = NATIVE / "probe" / "intops.h"

M32 = (1 << 32) - 1
M64 = (1 << 64) - 1
ROUNDINGS = ref.ROUNDING_CODES

# A test-only helper compiled into the library: poisons the caller's FP environment
# (rounding direction, FTZ/DAZ) and restores the default one.
HELPER_C = r"""
#include <fenv.h>
#include <stdint.h>
#include "fpenv.h"
#define EXPORT __attribute__((visibility("default")))
EXPORT int teecert_test_poison(int rounding, int flush)
{
    static const int modes[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_UPWARD, FE_DOWNWARD};
    int rc = fesetround(modes[rounding & 3]);
    if (flush)
        teecert_set_flush_modes();
    return rc;
}
EXPORT void teecert_test_reset(void)
{
    fesetenv(FE_DFL_ENV);
    teecert_clear_flush_modes();
}
"""


def _cdef() -> str:
    """The prototypes of intops.h, as cffi reads them."""
    text = HEADER.read_text()
    protos = re.findall(r"^TEECERT_INTERNAL (.+?;)$", text, re.M)
    assert len(protos) > 40
    body = "\n".join(protos).replace("[TEECERT_DEC_BUF]", "[32]")
    return body + "\nint teecert_test_poison(int, int);\nvoid teecert_test_reset(void);\n"


ffi = cffi.FFI()
ffi.cdef(_cdef())


def _build(out_dir: Path, extra: list[str]) -> Path:
    cc = probe_build.find_compiler()
    helper = out_dir / "helper.c"
    helper.write_text(HELPER_C)
    lib = out_dir / "libintops.so"
    cmd = [
        *cc,
        *probe_build.reference_cflags(cc),
        '-DTEECERT_INTERNAL=__attribute__((visibility("default")))',
        f"-I{NATIVE}",
        f"-I{NATIVE / 'probe'}",
        *extra,
        "-o",
        str(lib),
        str(SOURCE),
        str(helper),
        "-lm",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{proc.stderr}")
    return lib


@pytest.fixture(scope="module", params=["reference", "ubsan"])
def lib(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp(f"intops-{request.param}")
    if request.param == "reference":
        path = _build(out, [])
    else:
        try:
            path = _build(out, ["-fsanitize=undefined", "-fno-sanitize-recover=undefined"])
            handle = ffi.dlopen(str(path))
        except (RuntimeError, OSError) as exc:
            pytest.skip(f"no UBSan build here: {str(exc).splitlines()[-1]}")
        return handle
    return ffi.dlopen(str(path))


# ------------------------------------------------------------------- helpers


def f64_bits(x: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", x))[0])


def bits_f64(b: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", b))[0])


def f32_bits(x: float) -> int:
    return int(struct.unpack("<I", struct.pack("<f", x))[0])


def int_edges(width: int) -> list[int]:
    """0, +-1, MIN, MAX, every power of two and its neighbours, and a few others."""
    mask = (1 << width) - 1
    vals = {
        0,
        1,
        2,
        3,
        mask,
        mask - 1,
        1 << (width - 1),
        (1 << (width - 1)) - 1,
        0x5A5A5A5A5A5A5A5A & mask,
    }
    for k in range(width):
        vals |= {
            1 << k,
            (1 << k) - 1,
            ((1 << k) + 1) & mask,
            (-(1 << k)) & mask,
            (-(1 << k) - 1) & mask,
        }
    for v in (7, -7, 2, -2, 10, -10, 3, -3):
        vals.add(v & mask)
    return sorted(vals)


def random_ints(rng: random.Random, width: int, n: int) -> Iterator[int]:
    """Uniform bit patterns, and values of random bit length (small magnitudes
    matter for division)."""
    for i in range(n):
        if i % 2:
            yield rng.getrandbits(width)
        else:
            v = rng.getrandbits(rng.randint(1, width))
            yield (-v if rng.random() < 0.5 else v) & ((1 << width) - 1)


def check_all(
    name: str,
    got: Callable[..., int],
    want: Callable[..., int],
    cases: Sequence[tuple[int, ...]],
) -> None:
    """C against the reference on every case; reports the first few mismatches."""
    bad = [(c, g, w) for c in cases if (g := got(*c)) != (w := want(*c))]
    first = [(tuple(map(hex, c)), hex(g), hex(w)) for c, g, w in bad[:5]]
    assert not bad, f"{name}: {len(bad)} mismatches, first: {first}"


# --------------------------------------------------------------------- build


def test_build_is_warning_clean_and_cross_compiles() -> None:
    flags = [
        "-std=c99",
        "-O2",
        "-Wall",
        "-Wextra",
        "-pedantic",
        "-c",
        "-o",
        "/dev/null",
        str(SOURCE),
    ]
    compilers = [
        c for c in ("gcc", "aarch64-linux-gnu-gcc", "riscv64-linux-gnu-gcc") if shutil.which(c)
    ]
    if not compilers:
        pytest.skip("no gcc")
    for cc in compilers:
        proc = subprocess.run(
            [cc, *flags], capture_output=True, text=True, timeout=120, check=False
        )
        assert proc.returncode == 0 and proc.stderr == "", f"{cc}:\n{proc.stderr}"


# ------------------------------------------------------- wrapping arithmetic


@pytest.mark.parametrize("width", [32, 64])
def test_wrapping_arithmetic(lib: Any, width: int) -> None:
    rng = random.Random(1000 + width)
    edges = int_edges(width)
    cases = [(a, b) for a in edges[::3] for b in edges[::3]]
    cases += list(zip(random_ints(rng, width, 3000), random_ints(rng, width, 3000), strict=True))
    w = f"i{width}"
    for op in ("add", "sub", "mul"):
        c_fn = getattr(lib, f"teecert_{w}_{op}")
        py_fn = getattr(ref, op)
        check_all(f"{w}.{op}", c_fn, lambda a, b, f=py_fn: f(width, a, b), cases)
    mask = (1 << width) - 1
    top = 1 << (width - 1)
    # known answers: overflow wraps
    add, sub, mul = (getattr(lib, f"teecert_{w}_{op}") for op in ("add", "sub", "mul"))
    assert add(top - 1, 1) == top
    assert sub(top, 1) == top - 1
    assert sub(0, 1) == mask
    assert mul(top, mask) == top  # MIN * -1 = MIN
    assert mul(1 << (width // 2), 1 << (width // 2)) == 0
    assert ref.mul(width, mask, mask) == 1


# ------------------------------------------------------------------ division

# (a, b) -> (div_s, rem_s, div_u, rem_u), as signed Python ints / unsigned ints
DIV_KNOWN_32 = [
    ((7, 2), (3, 1, 3, 1)),
    ((-7, 2), (-3, -1, 0x7FFFFFFC, 1)),
    ((7, -2), (-3, 1, 0, 7)),
    ((-7, -2), (3, -1, 0, 0xFFFFFFF9)),
    ((5, 0), (-1, 5, 0xFFFFFFFF, 5)),
    ((-5, 0), (-1, -5, 0xFFFFFFFF, 0xFFFFFFFB)),
    ((0, 0), (-1, 0, 0xFFFFFFFF, 0)),
    ((-(2**31), -1), (-(2**31), 0, 0, 0x80000000)),
    ((-(2**31), 1), (-(2**31), 0, 0x80000000, 0)),
    ((-(2**31), 0), (-1, -(2**31), 0xFFFFFFFF, 0x80000000)),
    ((2**31 - 1, -1), (-(2**31 - 1), 0, 0, 2**31 - 1)),
    ((-1, -(2**31)), (0, -1, 1, 0x7FFFFFFF)),
    ((-(2**31), -(2**31)), (1, 0, 1, 0)),
]


@pytest.mark.parametrize("width", [32, 64])
def test_division_known_answers(lib: Any, width: int) -> None:
    mask = (1 << width) - 1
    w = f"i{width}"
    table: list[tuple[tuple[int, int], tuple[int, int, int, int]]] = []
    if width == 32:
        table = DIV_KNOWN_32
    else:
        mn = -(2**63)
        table = [
            ((7, 2), (3, 1, 3, 1)),
            ((-7, 2), (-3, -1, (2**64 - 7) // 2, 1)),
            ((5, 0), (-1, 5, M64, 5)),
            ((mn, -1), (mn, 0, 0, 2**63)),
            ((mn, 0), (-1, mn, M64, 2**63)),
            ((mn, 2), (mn // 2, 0, 2**62, 0)),
            ((2**63 - 1, 2**63 - 1), (1, 0, 1, 0)),
            ((-1, 2), (0, -1, 2**63 - 1, 1)),
        ]
    for (a, b), (qs, rs, qu, ru) in table:
        ua, ub = a & mask, b & mask
        for op, want in (("div_s", qs & mask), ("rem_s", rs & mask), ("div_u", qu), ("rem_u", ru)):
            got = getattr(lib, f"teecert_{w}_{op}")(ua, ub)
            assert got == want, f"{w}.{op}({a}, {b}) = {got:#x}, want {want:#x}"
            assert getattr(ref, op)(width, ua, ub) == want, f"reference {w}.{op}({a}, {b})"


@pytest.mark.parametrize("width", [32, 64])
def test_division_matches_reference(lib: Any, width: int) -> None:
    rng = random.Random(2000 + width)
    edges = int_edges(width)
    cases = [(a, b) for a in edges[::2] for b in edges[::4]]
    cases += list(zip(random_ints(rng, width, 4000), random_ints(rng, width, 4000), strict=True))
    w = f"i{width}"
    for op in ("div_s", "rem_s", "div_u", "rem_u"):
        py_fn = getattr(ref, op)
        check_all(
            f"{w}.{op}",
            getattr(lib, f"teecert_{w}_{op}"),
            lambda a, b, f=py_fn: f(width, a, b),
            cases,
        )
    # the identity a = q * b + r wherever b != 0
    for a, b in cases[:2000]:
        if b:
            for d, r in (("div_s", "rem_s"), ("div_u", "rem_u")):
                q = getattr(ref, d)(width, a, b)
                assert (q * b + getattr(ref, r)(width, a, b)) & ((1 << width) - 1) == a


# -------------------------------------------------------------------- shifts

SHIFT_COUNTS = [
    0,
    1,
    2,
    7,
    15,
    16,
    30,
    31,
    32,
    33,
    62,
    63,
    64,
    65,
    127,
    128,
    255,
    256,
    2**31,
    2**32 - 1,
    2**32,
    2**32 + 1,
    2**32 + 31,
    2**63,
    2**63 + 1,
    2**64 - 1,
]


@pytest.mark.parametrize("width", [32, 64])
def test_shifts_known_answers(lib: Any, width: int) -> None:
    mask = (1 << width) - 1
    w = f"i{width}"
    shl, shr_u, shr_s = (getattr(lib, f"teecert_{w}_{op}") for op in ("shl", "shr_u", "shr_s"))
    neg = 1 << (width - 1) | 0x1234  # negative
    pos = 0x1234
    for count in (width, width + 1, 2 * width, 2**32, 2**32 + 1, 2**63, 2**64 - 1):
        # never masked: x86/AArch64/RISC-V/Wasm would shift by count % width here
        assert shl(neg, count) == 0 and shl(pos, count) == 0
        assert shr_u(neg, count) == 0 and shr_u(pos, count) == 0
        assert shr_s(neg, count) == mask and shr_s(pos, count) == 0
    assert shl(1, width - 1) == 1 << (width - 1)
    assert shl(3, width - 1) == 1 << (width - 1)
    assert shr_u(mask, width - 1) == 1
    assert shr_s(1 << (width - 1), width - 1) == mask
    assert shr_s(1 << (width - 1), 1) == (3 << (width - 2))
    assert shr_s((1 << (width - 1)) - 1, width - 1) == 0
    for x in (0, 1, neg, pos, mask):
        assert shl(x, 0) == x and shr_u(x, 0) == x and shr_s(x, 0) == x


@pytest.mark.parametrize("width", [32, 64])
def test_shifts_match_reference(lib: Any, width: int) -> None:
    rng = random.Random(3000 + width)
    counts = SHIFT_COUNTS + list(range(width + 3))
    values = int_edges(width)[::3] + list(random_ints(rng, width, 60))
    cases = [(a, c) for a in values for c in counts]
    cases += [
        (rng.getrandbits(width), rng.getrandbits(rng.choice((3, 6, 7, 33, 64))))
        for _ in range(3000)
    ]
    w = f"i{width}"
    for op in ("shl", "shr_u", "shr_s"):
        py_fn = getattr(ref, op)
        check_all(
            f"{w}.{op}",
            getattr(lib, f"teecert_{w}_{op}"),
            lambda a, c, f=py_fn: f(width, a, c),
            cases,
        )


# ---------------------------------------------------------------- bit counts


@pytest.mark.parametrize("width", [32, 64])
def test_bit_counts(lib: Any, width: int) -> None:
    mask = (1 << width) - 1
    w = f"i{width}"
    clz, ctz, popcnt = (getattr(lib, f"teecert_{w}_{op}") for op in ("clz", "ctz", "popcnt"))
    assert clz(0) == width and ctz(0) == width and popcnt(0) == 0
    assert clz(mask) == 0 and ctz(mask) == 0 and popcnt(mask) == width
    for k in range(width):
        assert clz(1 << k) == width - 1 - k and ctz(1 << k) == k and popcnt(1 << k) == 1
        assert clz((1 << k) - 1 if k else 0) == width - k
        assert ctz(mask << k & mask) == k and popcnt(mask << k & mask) == width - k
    rng = random.Random(4000 + width)
    cases = [(a,) for a in int_edges(width) + list(random_ints(rng, width, 3000))]
    for op in ("clz", "ctz", "popcnt"):
        py_fn = getattr(ref, op)
        check_all(
            f"{w}.{op}", getattr(lib, f"teecert_{w}_{op}"), lambda a, f=py_fn: f(width, a), cases
        )


# ---------------------------------------------------- saturating float -> int

INT_RANGE = {
    name: ((-(1 << (w - 1)), (1 << (w - 1)) - 1) if s else (0, (1 << w) - 1))
    for name, (w, s) in ref.INT_TYPES.items()
}

# f64 value -> (i32, i64, u32, u64), as Python ints
F2I_KNOWN: list[tuple[float, tuple[int, int, int, int]]] = [
    (0.0, (0, 0, 0, 0)),
    (-0.0, (0, 0, 0, 0)),
    (5e-324, (0, 0, 0, 0)),
    (-5e-324, (0, 0, 0, 0)),
    (0.9999999999999999, (0, 0, 0, 0)),
    (-0.9999999999999999, (0, 0, 0, 0)),
    (1.5, (1, 1, 1, 1)),
    (-1.5, (-1, -1, 0, 0)),
    (-1.0, (-1, -1, 0, 0)),
    (2147483647.9999998, (2147483647, 2147483647, 2147483647, 2147483647)),
    (2147483648.0, (2147483647, 2147483648, 2147483648, 2147483648)),
    # "-2147483648.9999998" would round to -2147483649.0: this is the double just above it
    (-2147483649.0 + 2.0**-21, (-2147483648, -2147483648, 0, 0)),
    (-2147483649.0, (-2147483648, -2147483649, 0, 0)),
    (4294967295.9999995, (2147483647, 4294967295, 4294967295, 4294967295)),
    (4294967296.0, (2147483647, 4294967296, 4294967295, 4294967296)),
    (9223372036854774784.0, (2147483647, 9223372036854774784, 4294967295, 9223372036854774784)),
    (9223372036854775808.0, (2147483647, 2**63 - 1, 4294967295, 2**63)),
    (-9223372036854775808.0, (-(2**31), -(2**63), 0, 0)),
    (-9223372036854777856.0, (-(2**31), -(2**63), 0, 0)),
    (18446744073709549568.0, (2147483647, 2**63 - 1, 4294967295, 18446744073709549568)),
    (18446744073709551616.0, (2147483647, 2**63 - 1, 4294967295, 2**64 - 1)),
    (1e300, (2147483647, 2**63 - 1, 4294967295, 2**64 - 1)),
    (-1e300, (-(2**31), -(2**63), 0, 0)),
    (math.inf, (2147483647, 2**63 - 1, 4294967295, 2**64 - 1)),
    (-math.inf, (-(2**31), -(2**63), 0, 0)),
    (math.nan, (0, 0, 0, 0)),
]
NAN_PATTERNS_64 = [
    0x7FF8000000000000,
    0xFFF8000000000000,
    0x7FF0000000000001,
    0xFFFFFFFFFFFFFFFF,
    0x7FF4000000000000,
]
NAN_PATTERNS_32 = [0x7FC00000, 0xFFC00000, 0x7F800001, 0xFFFFFFFF, 0x7FA00000]
DSTS = ("i32", "i64", "u32", "u64")


def float_edges(fmt: FloatFormat) -> list[int]:
    """Specials, zeros, subnormals, and every value next to the integer ranges."""
    sgn = fmt.sign_bit
    vals = {
        0,
        sgn,
        1,
        sgn | 1,
        fmt.frac_mask,
        fmt.inf,
        sgn | fmt.inf,
        fmt.max_finite,
        sgn | fmt.max_finite,
    }
    vals |= set(NAN_PATTERNS_64 if fmt is F64 else NAN_PATTERNS_32)
    for e in (0, 1, 31, 32, 52, 53, 63, 64, 65):
        for s in (1, -1):
            x = s * float(2**e)
            b = f64_bits(x) if fmt is F64 else f32_bits(x)
            vals |= {b - 1, b, b + 1}
    for x in (0.5, 0.9999, 1.0, 1.5, 2.5, 100.75):
        for s in (1, -1):
            vals.add(f64_bits(s * x) if fmt is F64 else f32_bits(s * x))
    return sorted(v & fmt.mask for v in vals)


def _host_sat(x: float, dst: str) -> int:
    """A second model: CPython's int() of the host float, clamped."""
    lo, hi = INT_RANGE[dst]
    if math.isnan(x):
        return 0
    if math.isinf(x):
        return lo if x < 0 else hi
    return int(min(max(int(x), lo), hi))


def test_float_to_int_known_answers(lib: Any) -> None:
    for x, wants in F2I_KNOWN:
        b = f64_bits(x)
        for dst, want in zip(DSTS, wants, strict=True):
            width = ref.INT_TYPES[dst][0]
            want_bits = want & ((1 << width) - 1)
            got = getattr(lib, f"teecert_f64_to_{dst}_sat")(b)
            assert got == want_bits, f"f64 {x!r} -> {dst}: {got:#x}, want {want_bits:#x}"
            assert ref.float_to_int_sat("f64", b, dst) == want_bits
    for nan in NAN_PATTERNS_64:
        for dst in DSTS:
            assert getattr(lib, f"teecert_f64_to_{dst}_sat")(nan) == 0
    for nan in NAN_PATTERNS_32:
        for dst in DSTS:
            assert getattr(lib, f"teecert_f32_to_{dst}_sat")(nan) == 0
    # binary32: the largest float below 2^31 and the one above -2^31 - 1
    assert lib.teecert_f32_to_i32_sat(f32_bits(2147483520.0)) == 2147483520
    assert lib.teecert_f32_to_i32_sat(f32_bits(2147483648.0)) == 0x7FFFFFFF
    assert lib.teecert_f32_to_i32_sat(f32_bits(-2147483648.0)) == 0x80000000
    assert lib.teecert_f32_to_i32_sat(f32_bits(-2147483904.0)) == 0x80000000
    assert lib.teecert_f32_to_u64_sat(f32_bits(18446742974197923840.0)) == 18446742974197923840
    assert lib.teecert_f32_to_u64_sat(f32_bits(18446744073709551616.0)) == M64


@pytest.mark.parametrize("src", ["f64", "f32"])
def test_float_to_int_matches_reference(lib: Any, src: str) -> None:
    fmt = F64 if src == "f64" else F32
    rng = random.Random(5000 + fmt.width)
    values = float_edges(fmt)
    values += [rng.getrandbits(fmt.width) for _ in range(2000)]
    # random values of magnitude 2^-2 .. 2^66, where the ranges end
    for _ in range(2000):
        x = rng.uniform(1, 2) * 2.0 ** rng.randint(-2, 66) * rng.choice((1, -1))
        values.append(f64_bits(x) if fmt is F64 else f32_bits(x))
    to_host = (
        bits_f64 if fmt is F64 else (lambda b: float(struct.unpack("<f", struct.pack("<I", b))[0]))
    )
    for dst in DSTS:
        mask = (1 << ref.INT_TYPES[dst][0]) - 1
        c_fn = getattr(lib, f"teecert_{src}_to_{dst}_sat")
        check_all(
            f"{src}->{dst}",
            c_fn,
            lambda b, d=dst: ref.float_to_int_sat(src, b, d),
            [(v,) for v in values],
        )
        for v in values:
            assert ref.float_to_int_sat(src, v, dst) == _host_sat(to_host(v), dst) & mask, (
                src,
                dst,
                hex(v),
            )


# ----------------------------------------------------------------- int -> float

I2F_SOURCES = {"i32": 32, "i64": 64, "u64": 64}
I2F_KNOWN = [  # (src, value, dst) -> (rne, rtz, rup, rdn)
    (
        "i64",
        2**53 + 1,
        "f64",
        (0x4340000000000000, 0x4340000000000000, 0x4340000000000001, 0x4340000000000000),
    ),
    (
        "i64",
        2**53 + 3,
        "f64",
        (0x4340000000000002, 0x4340000000000001, 0x4340000000000002, 0x4340000000000001),
    ),
    (
        "i64",
        -(2**53) - 1,
        "f64",
        (0xC340000000000000, 0xC340000000000000, 0xC340000000000000, 0xC340000000000001),
    ),
    ("i64", -(2**63), "f64", (0xC3E0000000000000,) * 4),
    (
        "i64",
        2**63 - 1,
        "f64",
        (0x43E0000000000000, 0x43DFFFFFFFFFFFFF, 0x43E0000000000000, 0x43DFFFFFFFFFFFFF),
    ),
    (
        "u64",
        2**64 - 1,
        "f64",
        (0x43F0000000000000, 0x43EFFFFFFFFFFFFF, 0x43F0000000000000, 0x43EFFFFFFFFFFFFF),
    ),
    ("u64", 0, "f64", (0, 0, 0, 0)),
    ("i32", -1, "f64", (0xBFF0000000000000,) * 4),
    ("i32", -(2**31), "f64", (0xC1E0000000000000,) * 4),
    ("i32", 2**24 + 1, "f32", (0x4B800000, 0x4B800000, 0x4B800001, 0x4B800000)),
    ("i32", 2**24 + 3, "f32", (0x4B800002, 0x4B800001, 0x4B800002, 0x4B800001)),
    ("i32", -(2**24) - 1, "f32", (0xCB800000, 0xCB800000, 0xCB800000, 0xCB800001)),
    ("i32", 2**31 - 1, "f32", (0x4F000000, 0x4EFFFFFF, 0x4F000000, 0x4EFFFFFF)),
    ("i32", 0, "f32", (0, 0, 0, 0)),
    ("i64", 2**63 - 1, "f32", (0x5F000000, 0x5EFFFFFF, 0x5F000000, 0x5EFFFFFF)),
    ("u64", 2**64 - 1, "f32", (0x5F800000, 0x5F7FFFFF, 0x5F800000, 0x5F7FFFFF)),
    # through double, rne would round twice: to 2^60 + 2^36 (a tie in binary32), then to even
    ("u64", 2**60 + 2**36 + 1, "f32", (0x5D800001, 0x5D800000, 0x5D800001, 0x5D800000)),
]


def _value(fmt: FloatFormat, bits: int) -> Fraction:
    sign = bits >> (fmt.width - 1)
    mag = bits & ~fmt.sign_bit & fmt.mask
    biased, frac = mag >> fmt.frac_bits, mag & fmt.frac_mask
    qmin = fmt.emin - fmt.frac_bits
    m, e = (frac, qmin) if biased == 0 else (frac | (1 << fmt.frac_bits), qmin + biased - 1)
    v = Fraction(m << e) if e >= 0 else Fraction(m, 1 << -e)
    return -v if sign else v


def _check_rounding(fmt: FloatFormat, v: int, rounding: str, r: int) -> None:
    """Independent check of one correctly rounded result: the sandwich property."""
    if v == 0:
        assert r == 0
        return
    assert (r >> (fmt.width - 1)) == (v < 0), "sign"
    mag = r & ~fmt.sign_bit & fmt.mask
    assert mag < fmt.inf
    lo, hi = abs(_value(fmt, mag)), abs(_value(fmt, mag + 1))  # |r| and the next value up
    lower = abs(_value(fmt, mag - 1)) if mag else Fraction(0)
    av = Fraction(abs(v))
    toward_zero = (
        rounding == "rtz" or (rounding == "rup" and v < 0) or (rounding == "rdn" and v > 0)
    )
    if rounding == "rne":
        assert (lo + lower) / 2 <= av <= (lo + hi) / 2
        if av in ((lo + lower) / 2, (lo + hi) / 2):
            assert mag & 1 == 0, "tie not to even"
    elif toward_zero:
        assert lo <= av < hi
    else:
        assert lower < av <= lo


def test_int_to_float_known_answers(lib: Any) -> None:
    for src, value, dst, wants in I2F_KNOWN:
        width = I2F_SOURCES[src]
        b = value & ((1 << width) - 1)
        for code, want in enumerate(wants):
            got = getattr(lib, f"teecert_{src}_to_{dst}")(b, code)
            assert got == want, (
                f"{src} {value} -> {dst}.{ROUNDINGS[code]}: {got:#x}, want {want:#x}"
            )
            assert ref.int_to_float(src, b, dst, ROUNDINGS[code]) == want


@pytest.mark.parametrize("src", list(I2F_SOURCES))
def test_int_to_float_matches_reference(lib: Any, src: str) -> None:
    width = I2F_SOURCES[src]
    signed = src != "u64"
    rng = random.Random(6000 + width + signed)
    values = int_edges(width) + list(random_ints(rng, width, 1500))
    # ties and near-ties of both formats: a random significand and a few low bits
    for _ in range(500):
        sh = rng.randint(1, width - 25)
        v = (rng.getrandbits(25) | 1 << 24) << sh
        v |= rng.choice((0, 1, (1 << (sh - 1)), (1 << (sh - 1)) + 1, (1 << (sh - 1)) - 1))
        values.append(v & ((1 << width) - 1) if (not signed or v >> (width - 1) == 0) else v >> 1)
    for dst, fmt in (("f64", F64), ("f32", F32)):
        for code, rounding in enumerate(ROUNDINGS):
            c_fn = getattr(lib, f"teecert_{src}_to_{dst}")
            check_all(
                f"{src}->{dst}.{rounding}",
                lambda b, f=c_fn, c=code: f(b, c),
                lambda b, d=dst, r=rounding: ref.int_to_float(src, b, d, r),
                [(v,) for v in values],
            )
            for b in values[:: 7 if dst == "f64" else 5]:
                v = ref.to_signed(width, b) if signed else b
                _check_rounding(fmt, v, rounding, ref.int_to_float(src, b, dst, rounding))
    for b in values:  # CPython's int -> float conversion is correctly rounded, ties to even
        v = ref.to_signed(width, b) if signed else b
        assert ref.int_to_float(src, b, "f64", "rne") == f64_bits(float(v))
    # a rounding code outside 0..3 is rne
    v, want = (2**24 + 1, 0x4B800000) if width == 32 else (2**53 + 1, 0x4340000000000000)
    dst = "f32" if width == 32 else "f64"
    for code in (4, 7, -1, 2**31 - 1):
        assert getattr(lib, f"teecert_{src}_to_{dst}")(v, code) == want


def test_results_ignore_callers_fp_environment(lib: Any) -> None:
    rng = random.Random(7)
    ints = [rng.getrandbits(64) for _ in range(300)] + [2**53 + 1, 2**64 - 1, 2**63 + 1]
    floats = float_edges(F64) + [rng.getrandbits(64) for _ in range(300)]
    decs = [
        b"2.2250738585072011e-308",
        b"4.9406564584124654e-324",
        b"1e23",
        b"0.1",
        b"9007199254740993",
    ]

    def snapshot() -> list[int | bytes]:
        out: list[int | bytes] = []
        buf = ffi.new("char[32]")
        res = ffi.new("uint64_t *")
        for v in ints:
            for code in range(4):
                out += [lib.teecert_u64_to_f64(v, code), lib.teecert_i64_to_f32(v, code)]
        for b in floats:
            out += [
                lib.teecert_f64_to_i32_sat(b),
                lib.teecert_f64_to_u64_sat(b),
                lib.teecert_f32_to_i64_sat(b & M32),
            ]
            lib.teecert_f64_to_dec(b, buf)
            out.append(ffi.string(buf))
        for s in decs:
            assert lib.teecert_f64_from_dec(s, len(s), res) == 0
            out.append(res[0])
        return out

    clean = snapshot()
    try:
        for rounding in range(4):
            for flush in (0, 1):
                assert lib.teecert_test_poison(rounding, flush) == 0
                poisoned = snapshot()
                lib.teecert_test_reset()
                assert poisoned == clean, f"rounding code {rounding}, flush {flush}"
    finally:
        lib.teecert_test_reset()


# --------------------------------------------------------- decimal <-> binary


def c_to_dec(lib: Any, bits: int) -> str:
    buf = ffi.new("char[32]")
    n = lib.teecert_f64_to_dec(bits, buf)
    s = str(ffi.string(buf).decode("ascii"))
    assert n == len(s), (hex(bits), n, s)
    return s


def c_from_dec(lib: Any, text: str | bytes) -> int | None:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    res = ffi.new("uint64_t *", 0xDEAD)
    rc = lib.teecert_f64_from_dec(raw, len(raw), res)
    if rc == 1:
        assert res[0] == 0xDEAD, "an invalid string must not write the result"
        return None
    assert rc == 0, f"internal error on {raw[:80]!r}"
    return int(res[0])


TO_DEC_KNOWN = [
    (0x0000000000000000, "0.0000000000000000e+00"),
    (0x8000000000000000, "-0.0000000000000000e+00"),
    (0x3FF0000000000000, "1.0000000000000000e+00"),
    (0xBFF0000000000000, "-1.0000000000000000e+00"),
    (0x3FB999999999999A, "1.0000000000000001e-01"),  # 0.1
    (0x0000000000000001, "4.9406564584124654e-324"),
    (0x000FFFFFFFFFFFFF, "2.2250738585072009e-308"),
    (0x0010000000000000, "2.2250738585072014e-308"),
    (0x7FEFFFFFFFFFFFFF, "1.7976931348623157e+308"),
    (0x4340000000000000, "9.0071992547409920e+15"),
    (0x44B52D02C7E14AF6, "9.9999999999999992e+22"),  # 1e23
    (0x7FF0000000000000, "inf"),
    (0xFFF0000000000000, "-inf"),
    (0x7FF8000000000000, "nan"),
    (0xFFF8000000000001, "nan"),
    (0x7FF0000000000001, "nan"),
]


def test_to_dec_known_answers(lib: Any) -> None:
    for bits, want in TO_DEC_KNOWN:
        assert c_to_dec(lib, bits) == want, hex(bits)
        assert ref.f64_to_dec(bits) == want, hex(bits)
    # an exact tie at the 18th digit: 100000000000000.125 -> ...12|5 -> even 2
    b = f64_bits(100000000000000.125)
    assert c_to_dec(lib, b) == ref.f64_to_dec(b) == "1.0000000000000012e+14"
    b = f64_bits(100000000000000.375)  # ...37|5 -> even 8
    assert c_to_dec(lib, b) == "1.0000000000000038e+14"
    # the largest double below 1e-305 is 9.99999999999999996...e-306: the rounding
    # carries into the exponent
    assert c_to_dec(lib, 0x009C16C5C5253575) == "1.0000000000000000e-305"
    carries = 0
    for k in range(-323, 309):
        b = ref.f64_from_dec(f"1e{k}")
        assert b is not None
        if ref.f64_fraction(b) >= Fraction(10) ** k:
            b -= 1  # the largest double below 10^k
        want = format(bits_f64(b), ".16e")
        assert c_to_dec(lib, b) == want, hex(b)
        carries += want.startswith("1.0000000000000000e")
    assert carries >= 10


def test_to_dec_every_binade(lib: Any) -> None:
    """Both ends of every binade, and a random value in each: also pins the
    exponent estimate of the C code, which is exact only over this range."""
    rng = random.Random(8)
    patterns = []
    for biased in range(0, 2047):
        base = biased << 52
        patterns += [base, base | 1, base | ((1 << 52) - 1), base | rng.getrandbits(52)]
    patterns += [p | (1 << 63) for p in patterns[::9]]
    for b in patterns:
        want = format(bits_f64(b), ".16e")
        got = c_to_dec(lib, b)
        assert got == want, f"{b:016x}: {got} != {want}"
    for b in patterns[::5]:
        assert ref.f64_to_dec(b) == format(bits_f64(b), ".16e"), hex(b)


def test_to_dec_random_and_round_trip(lib: Any) -> None:
    rng = random.Random(9)
    patterns = [rng.getrandbits(64) for _ in range(3000)]
    patterns += [rng.getrandbits(rng.randint(1, 52)) for _ in range(300)]  # subnormals
    patterns += [f64_bits(float(rng.randint(1, 10**18))) for _ in range(300)]  # integers
    for b in patterns:
        s = c_to_dec(lib, b)
        assert s == format(bits_f64(b), ".16e"), hex(b)
        if s != "nan":
            # 17 significant digits always round-trip
            assert c_from_dec(lib, s) == b, (hex(b), s)
    for b in patterns[::10]:
        assert ref.f64_to_dec(b) == c_to_dec(lib, b)


# (string, bit pattern): each verified with float() below, so a typo cannot pass
FROM_DEC_KNOWN = [
    ("2.2250738585072011e-308", 0x000FFFFFFFFFFFFF),
    ("2.2250738585072012e-308", 0x0010000000000000),
    ("9007199254740993", 0x4340000000000000),
    ("9007199254740995", 0x4340000000000002),
    ("4.9406564584124654e-324", 0x0000000000000001),
    ("2.4703282292062327e-324", 0x0000000000000000),
    ("2.4703282292062328e-324", 0x0000000000000001),
    ("1e23", 0x44B52D02C7E14AF6),
    ("8.533e+68", 0x4E3FA69165A8EEA2),
    ("4.1006e-184", 0x19DBE0D1C7EA60C9),
    ("9.998e+307", 0x7FE1CC0A350CA87B),
    ("9.9538452227e-280", 0x0602117AE45CDE43),
    ("6.47660115e-260", 0x0A1FDD9E333BADAD),
    ("7.4e+47", 0x49E033D7ECA0ADEF),
    ("5.92e+48", 0x4A1033D7ECA0ADEF),
    ("7.35e+66", 0x4DD172B70EABABA9),
    ("8.32116e+55", 0x4B8B2628393E02CD),
    ("1.7976931348623157e308", 0x7FEFFFFFFFFFFFFF),
    ("1.7976931348623158e308", 0x7FEFFFFFFFFFFFFF),
    ("1.7976931348623159e308", 0x7FF0000000000000),
    ("0.1", 0x3FB999999999999A),
    ("-0", 0x8000000000000000),
    ("-0.0e-99999", 0x8000000000000000),
    ("1e-400", 0x0000000000000000),
    ("-1e-400", 0x8000000000000000),
    ("1e400", 0x7FF0000000000000),
    ("-1e400", 0xFFF0000000000000),
    ("1e99999999999999999999999999999", 0x7FF0000000000000),
    ("1e-99999999999999999999999999999", 0x0000000000000000),
    ("0e99999999999999999999999999999", 0x0000000000000000),
]

GRAMMAR_VALID = [
    ("1", 0x3FF0000000000000),
    ("+1", 0x3FF0000000000000),
    ("-1", 0xBFF0000000000000),
    ("1.", 0x3FF0000000000000),
    (".5", 0x3FE0000000000000),
    ("-.5", 0xBFE0000000000000),
    ("1.5e3", f64_bits(1500.0)),
    ("1.5E-3", f64_bits(0.0015)),
    ("1e+0", 0x3FF0000000000000),
    ("00012.5000", f64_bits(12.5)),
    ("0.000", 0),
    ("-0.0e0", 0x8000000000000000),
    ("1e0000000000000000000000000000000000000000005", f64_bits(1e5)),
    ("inf", 0x7FF0000000000000),
    ("INF", 0x7FF0000000000000),
    ("+Inf", 0x7FF0000000000000),
    ("-iNf", 0xFFF0000000000000),
    ("nan", 0x7FF8000000000000),
    ("NaN", 0x7FF8000000000000),
    ("-nan", 0x7FF8000000000000),
    ("+NAN", 0x7FF8000000000000),
]
GRAMMAR_INVALID: list[str | bytes] = [
    "",
    "+",
    "-",
    ".",
    "-.",
    "e5",
    ".e5",
    "1e",
    "1e+",
    "1e-",
    "1.5.2",
    " 1",
    "1 ",
    "\t1",
    "1\n",
    "1_000",
    "0x10",
    "0x1p3",
    "infinity",
    "-infinity",
    "nan(1)",
    "snan",
    "in",
    "na",
    "infx",
    "--1",
    "+-1",
    "1e5.5",
    "1e+-5",
    "1,5",
    "1..",
    "..1",
    "e",
    "E",
    "+e1",
    "1d5",
    "1f",
    "\u0661",
    "\uff11",
    "1\u00b2",
    "\u0130nf",
    b"1\x00",
    b"\x001",
    b"1\xff",
    b"\xc3\xa9",
]


def test_from_dec_known_answers(lib: Any) -> None:
    for text, want in FROM_DEC_KNOWN:
        assert f64_bits(float(text)) == want, f"table entry {text}"  # the table itself
        assert c_from_dec(lib, text) == want, text
        assert ref.f64_from_dec(text) == want, text


def test_from_dec_grammar(lib: Any) -> None:
    for text, want in GRAMMAR_VALID:
        assert c_from_dec(lib, text) == want, text
        assert ref.f64_from_dec(text) == want, text
    for bad in GRAMMAR_INVALID:
        assert c_from_dec(lib, bad) is None, bad
        assert ref.f64_from_dec(bad) is None, bad
    # a NUL ends nothing: the length does
    res = ffi.new("uint64_t *")
    assert lib.teecert_f64_from_dec(b"12", 1, res) == 0 and res[0] == 0x3FF0000000000000
    assert lib.teecert_f64_from_dec(ffi.NULL, 0, res) == 1


def _random_decimal(rng: random.Random) -> str:
    nd = rng.choice((1, 2, 5, 10, 15, 16, 17, 18, 19, 20, 25, 40))
    digits = "".join(rng.choice("0123456789") for _ in range(nd))
    point = rng.randint(0, nd)
    mant = digits[:point] + "." + digits[point:] if rng.random() < 0.7 else digits
    if mant in (".",):
        mant = "0"
    exp = rng.randint(-345, 330)
    sign = rng.choice(("", "-", "+"))
    e = rng.choice(("e", "E"))
    return f"{sign}{mant}{e}{exp:+d}" if rng.random() < 0.9 else f"{sign}{mant}"


def test_from_dec_random(lib: Any) -> None:
    rng = random.Random(10)
    for _ in range(4000):
        s = _random_decimal(rng)
        want = f64_bits(float(s))
        assert c_from_dec(lib, s) == want, s
    for _ in range(600):
        s = _random_decimal(rng)
        assert ref.f64_from_dec(s) == f64_bits(float(s)), s


def _exact_decimal(num: int, pow2: int) -> tuple[int, int]:
    """num * 2^pow2 as (D, E) with value D * 10^E exactly."""
    if pow2 >= 0:
        return num << pow2, 0
    return num * 5**-pow2, pow2


def _halfway_strings(rng: random.Random, n: int) -> list[str]:
    """Exact midpoints between adjacent doubles (up to ~770 digits), and the same
    nudged up or down by one unit far beyond the 800th digit."""
    out = []
    for i in range(n):
        if i % 3 == 0:
            biased = rng.randint(0, 3)  # subnormal / smallest normal: the longest expansions
        elif i % 3 == 1:
            biased = rng.randint(1, 2046)
        else:
            biased = rng.choice((2045, 2046, 1, 2, 1075, 1076))
        frac = rng.getrandbits(52)
        if biased == 0:
            m, e = frac, -1074
        else:
            m, e = frac | 1 << 52, biased - 1075
        d, e10 = _exact_decimal(2 * m + 1, e - 1)  # the midpoint above m * 2^e
        ds = str(d)
        zeros = rng.choice((0, 5, 50, 300))
        out.append(f"{ds}e{e10}")
        out.append(f"{ds}{'0' * zeros}1e{e10 - zeros - 1}")
        out.append(f"{d - 1}{'9' * (zeros + 1)}e{e10 - zeros - 1}")
        # the same digits as a plain decimal with a point
        if e10 < 0 and len(ds) > -e10:
            out.append(f"{ds[:e10]}.{ds[e10:]}")
    return out


def test_from_dec_halfway_and_long_inputs(lib: Any) -> None:
    rng = random.Random(11)
    strings = _halfway_strings(rng, 240)
    # 2^-1075 (half the smallest subnormal) exactly, and a hair either side
    d, e10 = _exact_decimal(1, -1075)
    strings += [f"{d}e{e10}", f"{d}{'0' * 900}1e{e10 - 901}", f"{d - 1}{'9' * 901}e{e10 - 901}"]
    # the overflow threshold 2^1024 - 2^970 exactly, and a hair either side
    top = 2**1024 - 2**970
    strings += [str(top), f"{top}.{'0' * 900}1", f"{top - 1}.{'9' * 900}"]
    # long inputs at the extremes of the bignum: 800+ digits at 1e-324 and 1e308
    strings += [
        "1" * 900 + "e-1224",
        "9" * 1200 + "e-1524",
        "9" * 850 + "e-542",
        "1" * 820 + "e-1143",
        "4" * 1000 + "e-1324",
        "1" * 1000 + "e-1324",
        "2" * 1000 + "e-1324",
        "1" * 800 + "e-492",
        "1.797693134862315708" + "9" * 1000 + "e308",
        "0." + "0" * 5000 + "1e5000",
        "1" + "0" * 5000 + "e-5000",
        "1" * 5000 + "e-5000",
    ]
    for s in strings:
        want = f64_bits(float(s))
        assert c_from_dec(lib, s) == want, s[:60]
    for s in strings[::4]:
        assert ref.f64_from_dec(s) == f64_bits(float(s)), s[:60]


# -------------------------------------------------------------------- data model


def c_record(lib: Any, slots: list[int]) -> bytes:
    inp = ffi.new("uint64_t[5]", slots)
    out = ffi.new("unsigned char[24]", b"\xaa" * 24)
    lib.teecert_serialize_record(inp, out)
    return bytes(ffi.buffer(out))


def test_serialize_record(lib: Any) -> None:
    rng = random.Random(12)
    one = c_record(lib, [0x01, 0x0203040506070809, 0xFFFFFFFE, f64_bits(1.5), 0xBEEF])
    assert one == bytes.fromhex("010908070605040302feffffff000000000000f83fefbe00")
    assert len(one) == ref.RECORD_OUT_BYTES
    for nan in NAN_PATTERNS_64:
        rec = c_record(lib, [0, 0, 0, nan, 0])
        assert rec[13:21] == (0x7FF8000000000000).to_bytes(8, "little")
    assert c_record(lib, [0, 0, 0, 0x8000000000000000, 0])[13:21] == b"\0" * 7 + b"\x80"  # -0 kept
    for _ in range(2000):
        kind, amount, delta, flags = (
            rng.getrandbits(8),
            rng.getrandbits(64),
            rng.getrandbits(32),
            rng.getrandbits(16),
        )
        price = rng.choice(
            (rng.getrandbits(64), f64_bits(rng.uniform(-1e6, 1e6)), 0x7FF0000000000000)
        )
        slots = [kind, amount, delta, price, flags]
        want = (
            struct.pack(
                "<BQiQH",
                kind,
                amount,
                delta - (1 << 32) if delta >> 31 else delta,
                0x7FF8000000000000 if F64.is_nan(price) else price,
                flags,
            )
            + b"\0"
        )
        assert struct.calcsize("<BQiQH") == ref.RECORD_BYTES
        assert c_record(lib, slots) == want == ref.serialize_record(slots)
        # high bits of a narrow field's slot are ignored
        noisy = [
            kind | rng.getrandbits(56) << 8,
            amount,
            delta | rng.getrandbits(32) << 32,
            price,
            flags | rng.getrandbits(48) << 16,
        ]
        assert c_record(lib, noisy) == want == ref.serialize_record(noisy)


def c_sort(lib: Any, items: list[int]) -> list[int]:
    n = len(items)
    arr = ffi.new("uint64_t[]", items) if n else ffi.NULL
    scratch = ffi.new("uint64_t[]", n) if n else ffi.NULL
    lib.teecert_sort_stable_u64(arr, n, scratch)
    return [int(arr[i]) for i in range(n)]


def test_sort_stable(lib: Any) -> None:
    rng = random.Random(13)
    assert c_sort(lib, []) == []
    for n in (1, 2, 3, 15, 16, 17, 31, 32, 33, 100, 257, 1000, 4099):
        for nkeys in (1, 2, 7, 1000):
            # the low 48 bits number the items: a stable sort keeps them increasing per key
            keys = [rng.randrange(nkeys) for _ in range(n)]
            items = [(k << 48) | i for i, k in enumerate(keys)]
            got = c_sort(lib, items)
            assert got == ref.sort_stable_u64(items) == sorted(items, key=lambda v: v >> 48)
            assert got == sorted(items)  # key then input index: stability, independently
        items = [rng.getrandbits(64) for _ in range(n)]
        assert c_sort(lib, items) == sorted(items, key=lambda v: v >> 48)
    desc = [((5000 - i) // 3 << 48) | i for i in range(5000)]
    assert c_sort(lib, desc) == sorted(desc)


# ------------------------------------------------------------ reference argument checks


def test_reference_rejects_out_of_range_patterns() -> None:
    from teecert.errors import MalformedInput

    with pytest.raises(MalformedInput):
        ref.add(32, 1 << 32, 0)
    with pytest.raises(MalformedInput):
        ref.shl(64, 1, 1 << 64)
    with pytest.raises(MalformedInput):
        ref.div_s(16, 1, 1)
    with pytest.raises(MalformedInput):
        ref.int_to_float("u32", 1, "f64", "rne")
    with pytest.raises(MalformedInput):
        ref.float_to_int_sat("f64", -1, "i32")
    with pytest.raises(MalformedInput):
        ref.serialize_record([0, 0, 0, 0])
