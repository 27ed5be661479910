"""The op catalogue: every consensus operation teecert knows, with a stable id.

An op id reads ``<format>.<name>.<rounding>``, e.g. ``f64.fma.rne``.  Values cross
every boundary (probe ABI, vector files, references, reports) as IEEE 754 bit
patterns held in unsigned integers, never as decimal text.  ``docs/ops.md`` states
the exact semantics of each op; this module is the machine-readable list.
"""

from __future__ import annotations

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

#: Elementary functions of the libm suite -> arity (docs/ops.md, "libm functions"):
#: correctly rounded to nearest is the golden value, round-to-nearest only.
LIBM_FUNCTIONS = {
    "exp": 1, "expm1": 1, "log": 1, "log1p": 1, "log2": 1, "log10": 1, "pow": 2,
    "sin": 1, "cos": 1, "tan": 1, "asin": 1, "acos": 1, "atan": 1, "atan2": 2,
    "sinh": 1, "cosh": 1, "tanh": 1, "cbrt": 1, "hypot": 2, "erf": 1,
}


@dataclass(frozen=True)
class Op:
    """One consensus op: a float operation in one format and rounding direction."""

    id: str
    fmt: FloatFormat
    name: str
    rounding: str
    arity: int
    #: "float" (IEEE 754 arithmetic, bit-exact by definition) or "libm" (an
    #: elementary function, golden = correctly rounded, judged by the libm suite)
    kind: str = "float"

    @property
    def in_bytes(self) -> int:
        """Bytes of input per vector (arity values, little-endian, back to back)."""
        return self.arity * self.fmt.bytes

    @property
    def out_bytes(self) -> int:
        return self.fmt.bytes

    @property
    def family(self) -> str:
        return self.name


def _build_catalogue() -> dict[str, Op]:
    ops: dict[str, Op] = {}
    for fmt in (F32, F64):
        for name, (arity, _meaning) in FLOAT_OPS.items():
            for rnd in ROUNDINGS:
                op_id = f"{fmt.name}.{name}.{rnd}"
                ops[op_id] = Op(op_id, fmt, name, rnd, arity)
    for fmt in (F32, F64):  # after every float op: the reference probe's order
        for name, arity in LIBM_FUNCTIONS.items():
            op_id = f"{fmt.name}.{name}.rne"
            ops[op_id] = Op(op_id, fmt, name, "rne", arity, "libm")
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
