"""The op catalogue: every consensus operation teecert knows, with a stable id.

An op id reads ``<format>.<name>.<rounding>``, e.g. ``f64.fma.rne``.  Values cross
every boundary (probe ABI, vector files, references, reports) as IEEE 754 bit
patterns held in unsigned integers, never as decimal text.  ``docs/ops.md`` states
the exact semantics of each op; this module is the machine-readable list.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import MalformedInput


@dataclass(frozen=True)
class FloatFormat:
    """An IEEE 754 binary interchange format."""

    name: str  # "f32" or "f64"
    width: int  # total bits
    exp_bits: int
    frac_bits: int  # trailing significand bits (precision - 1)

    @property
    def bytes(self) -> int:
        return self.width // 8

    @property
    def precision(self) -> int:
        return self.frac_bits + 1

    @property
    def bias(self) -> int:
        return (1 << (self.exp_bits - 1)) - 1

    @property
    def emax(self) -> int:
        return self.bias

    @property
    def emin(self) -> int:
        return 1 - self.bias

    @property
    def sign_bit(self) -> int:
        return 1 << (self.width - 1)

    @property
    def frac_mask(self) -> int:
        return (1 << self.frac_bits) - 1

    @property
    def exp_mask(self) -> int:
        return ((1 << self.exp_bits) - 1) << self.frac_bits

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1

    @property
    def quiet_bit(self) -> int:
        return 1 << (self.frac_bits - 1)

    @property
    def canonical_nan(self) -> int:
        """The one NaN a consensus op may return: positive, quiet, zero payload."""
        return self.exp_mask | self.quiet_bit

    @property
    def inf(self) -> int:
        return self.exp_mask

    @property
    def max_finite(self) -> int:
        return self.exp_mask - 1

    def is_nan(self, bits: int) -> bool:
        return (bits & self.exp_mask) == self.exp_mask and (bits & self.frac_mask) != 0

    def hex(self, bits: int) -> str:
        return format(bits, f"0{self.width // 4}x")

    def struct_code(self, count: int) -> str:
        """The ``struct`` format of ``count`` values, little-endian."""
        return f"<{count}{'Q' if self.width == 64 else 'I'}"


F32 = FloatFormat("f32", 32, 8, 23)
F64 = FloatFormat("f64", 64, 11, 52)
FORMATS = {"f32": F32, "f64": F64}

#: Rounding-direction attributes of IEEE 754-2019 section 4.3, by their short id.
ROUNDINGS = {
    "rne": "roundTiesToEven",
    "rtz": "roundTowardZero",
    "rup": "roundTowardPositive",
    "rdn": "roundTowardNegative",
}

#: Operation name -> (arity, one-line meaning).  Semantics in docs/ops.md.
FLOAT_OPS = {
    "add": (2, "a + b, one rounding"),
    "sub": (2, "a - b, one rounding"),
    "mul": (2, "a * b, one rounding"),
    "div": (2, "a / b, one rounding"),
    "sqrt": (1, "squareRoot(a), one rounding"),
    "fma": (3, "fusedMultiplyAdd(a, b, c) = a * b + c, one rounding"),
    "mul_add_unfused": (3, "(a * b) + c with two roundings, never contracted"),
}

#: Rounding-direction attributes of round-to-integral: the four of ``ROUNDINGS`` and
#: roundTiesToAway (IEEE 754-2019 section 5.9: roundToIntegralTiesToAway), which no
#: arithmetic op takes.
INTEGRAL_ROUNDINGS = {**ROUNDINGS, "rna": "roundTiesToAway"}

#: The other IEEE 754 ops of each format (docs/ops.md, "Rounding to integral,
#: conversions between the formats, minimum and maximum"): name -> (arity, meaning,
#: the rounding directions it exists in; ``("",)`` for an exact op, whose id has no
#: direction).  Conversions between the formats are in ``FORMAT_CONVERSIONS``.
FLOAT_EXTRA_OPS = {
    "round_integral": (1, "roundToIntegral in the direction of the id (no inexact flag)",
                       tuple(INTEGRAL_ROUNDINGS)),
    "minimum": (2, "IEEE 754-2019 minimum: NaN-propagating, -0 < +0", ("",)),
    "maximum": (2, "IEEE 754-2019 maximum: NaN-propagating, -0 < +0", ("",)),
}
#: Conversions between the binary formats: (source, destination, directions).  Narrowing
#: rounds, so it exists in every direction; widening is exact (no direction in its id).
FORMAT_CONVERSIONS = (("f64", "f32", tuple(ROUNDINGS)), ("f32", "f64", ("",)))

#: Elementary functions of the libm suite -> arity (docs/ops.md, "libm functions"):
#: correctly rounded to nearest is the golden value, round-to-nearest only.
LIBM_FUNCTIONS = {
    "exp": 1, "expm1": 1, "log": 1, "log1p": 1, "log2": 1, "log10": 1, "pow": 2,
    "sin": 1, "cos": 1, "tan": 1, "asin": 1, "acos": 1, "atan": 1, "atan2": 2,
    "sinh": 1, "cosh": 1, "tanh": 1, "cbrt": 1, "hypot": 2, "erf": 1,
}


@dataclass(frozen=True)
class Slot:
    """One value of an op's vector on the wire: ``size`` bytes.

    An *integer* slot holds an unsigned integer (a float's or an integer's bit
    pattern), little-endian like every number in teecert.  A *byte-string* slot
    (``octets``) holds bytes as they are (a hash message, a decimal text, a digest);
    in Python it is the int those bytes spell big-endian, so that its hex is the
    bytes in order, as in every hash test vector ever published."""

    size: int
    octets: bool = False

    @property
    def bits(self) -> int:
        return 8 * self.size

    def hex(self, value: int) -> str:
        return format(value, f"0{2 * self.size}x")

    def encode(self, value: int) -> bytes:
        return value.to_bytes(self.size, "big" if self.octets else "little")

    def decode(self, raw: bytes) -> int:
        return int.from_bytes(raw, "big" if self.octets else "little")


#: Kinds of the data ops: golden values from ``reference.data``, streams from
#: ``data_streams`` (teecert-data-v1).
DATA_KINDS = ("int", "hash")

#: Layout of the data ops of docs/ops-integers.md (kind "int" and "hash").
DEC_TEXT_BYTES = 1024  # f64.from_dec: the text, NUL-padded (ends at the first NUL)
DEC_OUT_BYTES = 32  # f64.to_dec: the text, NUL-padded
HASH_MSG_BYTES = 512  # hash.*: a u64 length, then the message slot
SORT_ITEMS = 64  # u64.sort_stable: 64 items, each 8 bytes big-endian
RECORD_OUT_BYTES = 24  # rec.serialize: 23 packed bytes and a zero byte

_W = {32: Slot(4), 64: Slot(8)}


@dataclass(frozen=True)
class Op:
    """One consensus op: a float operation in one format and rounding direction, a
    libm function, or a data op (integers, conversions, data model, hashes)."""

    id: str
    #: the IEEE 754 format of a float or libm op; None for a data op
    float_format: FloatFormat | None
    name: str
    rounding: str
    arity: int
    #: "float" (IEEE 754 arithmetic, bit-exact by definition), "libm" (an elementary
    #: function, golden = correctly rounded, judged by the libm suite), "int"
    #: (integers, conversions, data model) or "hash"
    kind: str = "float"
    #: the input slots and the output slot; derived from the format when not given
    inputs: tuple[Slot, ...] = ()
    output: Slot | None = None
    #: the format of the result when it is not ``float_format`` (the operands' format):
    #: the conversions between the binary formats
    result_format: FloatFormat | None = None

    def __post_init__(self) -> None:
        if not self.inputs:
            slot = _W[self.fmt.width]
            object.__setattr__(self, "inputs", (slot,) * self.arity)
            object.__setattr__(self, "output", _W[self.result_fmt.width])
        if len(self.inputs) != self.arity or self.output is None:
            raise ValueError(f"op {self.id}: {len(self.inputs)} input slots for arity {self.arity}")

    @property
    def fmt(self) -> FloatFormat:
        """The float format (float and libm ops only)."""
        if self.float_format is None:
            raise TypeError(f"{self.id} is an op of kind {self.kind!r}, not a floating-point one")
        return self.float_format

    @property
    def result_fmt(self) -> FloatFormat:
        """The float format of the result (float and libm ops only): the operands'
        format except for a conversion between the formats (``f64.to_f32.rne``)."""
        return self.result_format or self.fmt

    @property
    def out_slot(self) -> Slot:
        assert self.output is not None
        return self.output

    @property
    def in_bytes(self) -> int:
        """Bytes of input per vector (the slots back to back)."""
        return sum(s.size for s in self.inputs)

    @property
    def out_bytes(self) -> int:
        return self.out_slot.size

    @property
    def family(self) -> str:
        return self.name

    @property
    def _word(self) -> str | None:
        """The struct code when every slot is one little-endian word size."""
        sizes = {s.size for s in self.inputs} | {self.out_slot.size}
        if any(s.octets for s in self.inputs) or self.out_slot.octets or len(sizes) != 1:
            return None
        return {4: "I", 8: "Q"}.get(sizes.pop())

    def pack_inputs(self, vecs: Sequence[Sequence[int]]) -> bytes:
        """The probe-ABI input buffer of these vectors (slots in order, no padding)."""
        code = self._word
        if code is not None:
            return struct.pack(f"<{len(vecs) * self.arity}{code}", *(v for vec in vecs for v in vec))
        return b"".join(s.encode(v) for vec in vecs for s, v in zip(self.inputs, vec, strict=True))

    def unpack_inputs(self, raw: bytes, n: int) -> list[tuple[int, ...]]:
        code = self._word
        a = self.arity
        if code is not None:
            flat = struct.unpack(f"<{n * a}{code}", raw)
            return [tuple(flat[i : i + a]) for i in range(0, len(flat), a)]
        out = []
        pos = 0
        for _ in range(n):
            vec = []
            for s in self.inputs:
                vec.append(s.decode(raw[pos : pos + s.size]))
                pos += s.size
            out.append(tuple(vec))
        return out

    def pack_outputs(self, values: Sequence[int]) -> bytes:
        code = self._word
        if code is not None:
            return struct.pack(f"<{len(values)}{code}", *values)
        return b"".join(self.out_slot.encode(v) for v in values)

    def unpack_outputs(self, raw: bytes, n: int) -> list[int]:
        code = self._word
        if code is not None:
            return list(struct.unpack(f"<{n}{code}", raw))
        size = self.out_slot.size
        return [self.out_slot.decode(raw[i * size : (i + 1) * size]) for i in range(n)]

    def in_hex(self, values: Sequence[int]) -> list[str]:
        return [s.hex(v) for s, v in zip(self.inputs, values, strict=True)]

    def out_hex(self, value: int) -> str:
        return self.out_slot.hex(value)


#: Integer ops of docs/ops-integers.md: name -> (arity, whether the 2nd operand is a
#: 64-bit shift count).  Each exists as i32.<name> and i64.<name>.
INT_OPS = {
    "add": 2, "sub": 2, "mul": 2, "div_s": 2, "rem_s": 2, "div_u": 2, "rem_u": 2,
    "shl": 2, "shr_u": 2, "shr_s": 2, "clz": 1, "ctz": 1, "popcnt": 1,
}
SHIFTS = ("shl", "shr_u", "shr_s")
#: Saturating float -> int conversions: f64/f32 .to_<dst>_sat
SAT_DESTINATIONS = {"i32": 32, "i64": 64, "u32": 32, "u64": 64}
#: Integer -> float conversions: <src>.to_<dst>.<rounding>
INT_TO_FLOAT = {"i32": 32, "i64": 64, "u64": 64}
#: The hash ops: hash.<name> -> digest bytes.
HASH_OPS = {"sha256": 32, "sha512": 64, "sha3_256": 32, "keccak256": 32, "blake2b512": 64}


def _data_ops() -> list[Op]:
    out: list[Op] = []

    def data(op_id: str, name: str, rounding: str, kind: str, inputs: tuple[Slot, ...],
             output: Slot) -> None:
        out.append(Op(op_id, None, name, rounding, len(inputs), kind, inputs, output))

    for width in (32, 64):
        w = _W[width]
        for name, arity in INT_OPS.items():
            ins = (w, _W[64]) if name in SHIFTS else (w,) * arity
            data(f"i{width}.{name}", name, "", "int", ins, w)
    for src in (F32, F64):
        for dst, width in SAT_DESTINATIONS.items():
            data(f"{src.name}.to_{dst}_sat", f"to_{dst}_sat", "rtz", "int", (_W[src.width],), _W[width])
    for src_name, width in INT_TO_FLOAT.items():
        for dst_fmt in (F32, F64):
            for rnd in ROUNDINGS:
                data(f"{src_name}.to_{dst_fmt.name}.{rnd}", f"to_{dst_fmt.name}", rnd, "int",
                     (_W[width],), _W[dst_fmt.width])
    data("f64.to_dec", "to_dec", "rne", "int", (_W[64],), Slot(DEC_OUT_BYTES, True))
    data("f64.from_dec", "from_dec", "rne", "int", (Slot(DEC_TEXT_BYTES, True),), Slot(16))
    data("rec.serialize", "serialize", "", "int", (_W[64],) * 5, Slot(RECORD_OUT_BYTES, True))
    items = Slot(8 * SORT_ITEMS, True)
    data("u64.sort_stable", "sort_stable", "", "int", (items,), items)
    for name, size in HASH_OPS.items():
        data(f"hash.{name}", name, "", "hash", (_W[64], Slot(HASH_MSG_BYTES, True)), Slot(size, True))
    return out


def _build_catalogue() -> dict[str, Op]:
    ops: dict[str, Op] = {}
    for fmt in (F32, F64):
        for name, (arity, _meaning) in FLOAT_OPS.items():
            for rnd in ROUNDINGS:
                op_id = f"{fmt.name}.{name}.{rnd}"
                ops[op_id] = Op(op_id, fmt, name, rnd, arity)
    for fmt in (F32, F64):  # then the other IEEE ops, in the reference probe's order
        for name, (arity, _meaning, directions) in FLOAT_EXTRA_OPS.items():
            for rnd in directions:
                op_id = f"{fmt.name}.{name}.{rnd}" if rnd else f"{fmt.name}.{name}"
                ops[op_id] = Op(op_id, fmt, name, rnd, arity)
    for src, dst, directions in FORMAT_CONVERSIONS:
        for rnd in directions:
            name = f"to_{dst}"
            op_id = f"{src}.{name}.{rnd}" if rnd else f"{src}.{name}"
            ops[op_id] = Op(op_id, FORMATS[src], name, rnd, 1, result_format=FORMATS[dst])
    for fmt in (F32, F64):  # after every float op: the reference probe's order
        for name, arity in LIBM_FUNCTIONS.items():
            op_id = f"{fmt.name}.{name}.rne"
            ops[op_id] = Op(op_id, fmt, name, "rne", arity, "libm")
    for op in _data_ops():  # then the data ops, also in the probe's order
        ops[op.id] = op
    return ops


CATALOGUE: dict[str, Op] = _build_catalogue()


def get(op_id: str, where: str = "op") -> Op:
    """Return the op with this id, or raise ``MalformedInput`` naming ``where``."""
    try:
        return CATALOGUE[op_id]
    except (KeyError, TypeError):
        raise MalformedInput(f"{where}: unknown op {op_id!r} (see docs/ops.md)") from None


def ulp_distance(fmt: FloatFormat, a: int, b: int) -> str:
    """How many representable values lie between two bit patterns, as a decimal
    string ("nan" when exactly one is a NaN); +0 and -0 are 0 apart."""
    na, nb = fmt.is_nan(a), fmt.is_nan(b)
    if na or nb:
        return "0" if na and nb else "nan"

    def key(x: int) -> int:
        mag = x & ~fmt.sign_bit & fmt.mask
        return -mag if x & fmt.sign_bit else mag

    return str(abs(key(a) - key(b)))
