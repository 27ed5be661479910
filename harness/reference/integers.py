"""Reference of the integer, conversion and data-model ops of ``docs/ops-integers.md``.

Each function computes the consensus result from first principles on Python
integers (and ``fractions.Fraction`` for the decimal conversions): Python's integers
are unbounded, its ``//`` floors and its ``>>`` is arithmetic, so the definitions
below spell out every wrap, truncation and saturation explicitly instead of
inheriting them from a machine.  No host float arithmetic is used, so the FP
environment of the process cannot change a result.

Values are bit patterns in non-negative ints, as everywhere in teecert: an ``i32``
is its two's-complement pattern in ``[0, 2^32)``, an ``f64`` its binary64 pattern.
A pattern out of its range is a caller bug and raises ``MalformedInput``.

The C kernels of ``native/probe/intops.c`` implement the same semantics;
``tests/probe/test_intops.py`` checks that the two agree, and checks both against
independent answers (hand-written tables, ``float()``, ``format()``, ``struct``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fractions import Fraction

from ..errors import MalformedInput
from ..ops import F64, FORMATS, FloatFormat

#: Integer widths of the integer ops.
WIDTHS = (32, 64)

#: Integer types of the conversions: name -> (width, signed).
INT_TYPES: dict[str, tuple[int, bool]] = {
    "i32": (32, True),
    "i64": (64, True),
    "u32": (32, False),
    "u64": (64, False),
}

#: Sources of the int -> float conversions, and their destinations.
INT_TO_FLOAT_SOURCES = ("i32", "i64", "u64")

#: Rounding directions by the code the C kernels take (0..3).
ROUNDING_CODES = ("rne", "rtz", "rup", "rdn")

#: Significant digits of ``f64_to_dec``.
DEC_DIGITS = 17

#: Size of a serialized record, and of the op's output (one zero byte appended).
RECORD_BYTES = 23
RECORD_OUT_BYTES = 24

#: The sort key of ``sort_stable_u64``: the top 16 bits of each item.
SORT_KEY_SHIFT = 48


def _check_width(width: int) -> int:
    if width not in WIDTHS:
        raise MalformedInput(f"integer width must be 32 or 64, got {width!r}")
    return (1 << width) - 1


def _check_bits(value: int, width: int, what: str = "operand") -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < (1 << width):
        raise MalformedInput(f"{what} must be a {width}-bit pattern, got {value!r}")


def to_signed(width: int, bits: int) -> int:
    """The two's-complement value of a ``width``-bit pattern."""
    _check_width(width)
    _check_bits(bits, width)
    return bits - (1 << width) if bits >> (width - 1) else bits


def from_signed(width: int, value: int) -> int:
    """The ``width``-bit two's-complement pattern of ``value`` (modulo 2^width)."""
    return value & _check_width(width)


# ------------------------------------------------------------ wrapping arithmetic


def _operands(width: int, *values: int) -> int:
    mask = _check_width(width)
    for v in values:
        _check_bits(v, width)
    return mask


def add(width: int, a: int, b: int) -> int:
    """``a + b`` modulo 2^width."""
    return (a + b) & _operands(width, a, b)


def sub(width: int, a: int, b: int) -> int:
    """``a - b`` modulo 2^width."""
    return (a - b) & _operands(width, a, b)


def mul(width: int, a: int, b: int) -> int:
    """``a * b`` modulo 2^width (the low half of the product: the same pattern for
    signed and unsigned operands)."""
    return (a * b) & _operands(width, a, b)


# -------------------------------------------------------------------- division


def div_s(width: int, a: int, b: int) -> int:
    """Signed quotient truncated toward zero; ``x / 0 = -1``; ``MIN / -1 = MIN``."""
    mask = _operands(width, a, b)
    if b == 0:
        return mask
    sa, sb = to_signed(width, a), to_signed(width, b)
    q = abs(sa) // abs(sb)
    if (sa < 0) != (sb < 0):
        q = -q
    return q & mask  # MIN / -1 = 2^(width-1) wraps to MIN


def rem_s(width: int, a: int, b: int) -> int:
    """Signed remainder with the dividend's sign; ``x % 0 = x``; ``MIN % -1 = 0``."""
    mask = _operands(width, a, b)
    if b == 0:
        return a
    sa, sb = to_signed(width, a), to_signed(width, b)
    r = abs(sa) % abs(sb)
    return (-r if sa < 0 else r) & mask


def div_u(width: int, a: int, b: int) -> int:
    """Unsigned quotient; ``x / 0 = 2^width - 1``."""
    mask = _operands(width, a, b)
    return mask if b == 0 else a // b


def rem_u(width: int, a: int, b: int) -> int:
    """Unsigned remainder; ``x % 0 = x``."""
    _operands(width, a, b)
    return a if b == 0 else a % b


# ---------------------------------------------------------------------- shifts


def _shift_operands(width: int, a: int, count: int) -> int:
    mask = _operands(width, a)
    _check_bits(count, 64, "shift count")
    return mask


def shl(width: int, a: int, count: int) -> int:
    """``a << count``; a count >= width gives 0 (the count is never masked)."""
    mask = _shift_operands(width, a, count)
    return 0 if count >= width else (a << count) & mask


def shr_u(width: int, a: int, count: int) -> int:
    """Logical right shift; a count >= width gives 0."""
    _shift_operands(width, a, count)
    return 0 if count >= width else a >> count


def shr_s(width: int, a: int, count: int) -> int:
    """Arithmetic right shift; a count >= width gives 0 or -1 by the sign of ``a``."""
    mask = _shift_operands(width, a, count)
    return (to_signed(width, a) >> min(count, width)) & mask


# ------------------------------------------------------------------ bit counts


def clz(width: int, a: int) -> int:
    """Leading zero bits; ``clz(0) = width``."""
    _operands(width, a)
    return width - a.bit_length()


def ctz(width: int, a: int) -> int:
    """Trailing zero bits; ``ctz(0) = width``."""
    _operands(width, a)
    return width if a == 0 else (a & -a).bit_length() - 1


def popcnt(width: int, a: int) -> int:
    """Set bits."""
    _operands(width, a)
    return bin(a).count("1")


# ----------------------------------------------------------- float <-> integer


def _format(name: str) -> FloatFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise MalformedInput(f"float format must be f32 or f64, got {name!r}") from None


def _int_type(name: str) -> tuple[int, bool]:
    try:
        return INT_TYPES[name]
    except KeyError:
        raise MalformedInput(
            f"integer type must be one of {', '.join(INT_TYPES)}, got {name!r}"
        ) from None


def _int_range(name: str) -> tuple[int, int]:
    width, signed = _int_type(name)
    if signed:
        return -(1 << (width - 1)), (1 << (width - 1)) - 1
    return 0, (1 << width) - 1


def _finite_parts(fmt: FloatFormat, bits: int) -> tuple[int, int, int]:
    """(sign, m, e) of a finite pattern: the value is ``(-1)^sign * m * 2^e``."""
    sign = bits >> (fmt.width - 1)
    biased = (bits & fmt.exp_mask) >> fmt.frac_bits
    frac = bits & fmt.frac_mask
    qmin = fmt.emin - fmt.frac_bits
    if biased == 0:
        return sign, frac, qmin
    return sign, frac | (1 << fmt.frac_bits), qmin + biased - 1


def float_to_int_sat(src: str, bits: int, dst: str) -> int:
    """Saturating conversion (Rust ``as``, Wasm ``trunc_sat``): the value truncated
    toward zero, clamped to the destination's range; NaN gives 0.  Returns the
    destination's bit pattern."""
    fmt = _format(src)
    _check_bits(bits, fmt.width)
    lo, hi = _int_range(dst)
    mask = (1 << INT_TYPES[dst][0]) - 1
    if fmt.is_nan(bits):
        return 0
    sign = bits >> (fmt.width - 1)
    if bits & ~fmt.sign_bit == fmt.inf:
        return (lo if sign else hi) & mask
    sign, m, e = _finite_parts(fmt, bits)
    t = m << e if e >= 0 else m >> -e  # |value| truncated
    value = -t if sign else t
    return min(max(value, lo), hi) & mask


def _overflow(fmt: FloatFormat, neg: bool, rounding: str) -> int:
    to_inf = {"rne": True, "rtz": False, "rup": not neg, "rdn": neg}[rounding]
    mag = fmt.inf if to_inf else fmt.max_finite
    return (fmt.sign_bit if neg else 0) | mag


def round_ratio(fmt: FloatFormat, neg: bool, num: int, den: int, rounding: str) -> int:
    """The bit pattern of ``(-1)^neg * num / den`` (``num, den > 0``) rounded once to
    ``fmt`` in direction ``rounding``, with gradual underflow and the overflow rule of
    docs/ops.md."""
    if rounding not in ROUNDING_CODES:
        raise MalformedInput(
            f"rounding must be one of {', '.join(ROUNDING_CODES)}, got {rounding!r}"
        )
    if num <= 0 or den <= 0:
        raise MalformedInput("round_ratio needs a positive ratio")
    p = fmt.precision
    qmin = fmt.emin - fmt.frac_bits
    # e = floor(log2(num / den))
    e = num.bit_length() - den.bit_length()
    if (num << -e if e < 0 else num) < (den << e if e > 0 else den):
        e -= 1
    q = max(e - (p - 1), qmin)  # weight of the result's last significand bit
    if q >= 0:
        d = den << q
        sig, rem = divmod(num, d)
    else:
        d = den
        sig, rem = divmod(num << -q, d)
    if rem:
        if rounding == "rne":
            up = 2 * rem > d or (2 * rem == d and sig & 1 == 1)
        elif rounding == "rtz":
            up = False
        elif rounding == "rup":
            up = not neg
        else:
            up = neg
        sig += up
    bits = ((q - qmin) << fmt.frac_bits) + sig
    if bits >= fmt.inf:
        return _overflow(fmt, neg, rounding)
    return (fmt.sign_bit if neg else 0) | bits


def int_to_float(src: str, bits: int, dst: str, rounding: str) -> int:
    """The integer of type ``src`` (a bit pattern) as a float of format ``dst``,
    correctly rounded in direction ``rounding``; zero is +0 in every direction."""
    if src not in INT_TO_FLOAT_SOURCES:
        raise MalformedInput(
            f"int -> float source must be one of {', '.join(INT_TO_FLOAT_SOURCES)}, got {src!r}"
        )
    width, signed = _int_type(src)
    _check_bits(bits, width)
    fmt = _format(dst)
    value = to_signed(width, bits) if signed else bits
    if rounding not in ROUNDING_CODES:
        raise MalformedInput(
            f"rounding must be one of {', '.join(ROUNDING_CODES)}, got {rounding!r}"
        )
    if value == 0:
        return 0
    return round_ratio(fmt, value < 0, abs(value), 1, rounding)


# ------------------------------------------------------------ decimal <-> f64


def f64_fraction(bits: int) -> Fraction:
    """The exact value of a finite binary64 pattern (-0 gives 0)."""
    _check_bits(bits, 64)
    if bits & F64.exp_mask == F64.exp_mask:
        raise MalformedInput(f"{bits:016x} is not finite")
    sign, m, e = _finite_parts(F64, bits)
    v = Fraction(m << e) if e >= 0 else Fraction(m, 1 << -e)
    return -v if sign else v


def _floor_log10(v: Fraction) -> int:
    """floor(log10(v)) for v > 0."""
    k = len(str(v.numerator)) - len(str(v.denominator))
    while Fraction(10) ** k > v:
        k -= 1
    while Fraction(10) ** (k + 1) <= v:
        k += 1
    return k


def f64_to_dec(bits: int) -> str:
    """The value rounded to 17 significant digits (ties to even on the exact binary
    value), as ``[-]d.dddddddddddddddde<sign><2 or 3 digits>``; ``inf``, ``-inf``,
    ``nan`` (any NaN); ``-0.0000000000000000e+00`` for -0."""
    _check_bits(bits, 64)
    if F64.is_nan(bits):
        return "nan"
    neg = bits >> 63 == 1
    sign = "-" if neg else ""
    if bits & ~F64.sign_bit == F64.inf:
        return sign + "inf"
    v = abs(f64_fraction(bits))
    if v == 0:
        return sign + "0." + "0" * (DEC_DIGITS - 1) + "e+00"
    k = _floor_log10(v)
    q = round(v * Fraction(10) ** (DEC_DIGITS - 1 - k))  # Fraction rounds ties to even
    if q == 10**DEC_DIGITS:
        q //= 10
        k += 1
    digits = str(q)
    return f"{sign}{digits[0]}.{digits[1:]}e{'-' if k < 0 else '+'}{abs(k):02d}"


# sign, then digits [ "." [digits] ] or "." digits, then an optional exponent
_DECIMAL = re.compile(r"([+-]?)(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([+-]?)([0-9]+))?")

#: Exponents beyond this many digits are all "huge" (the value is 0 or inf).
_EXP_DIGITS = 25
#: Decimal exponents of the leading digit beyond which the result needs no arithmetic.
_P10_INF = 400
_P10_ZERO = -400


def _int_of_digits(digits: str) -> int:
    """int(digits) without Python's limit on the length of a converted string."""
    value = 0
    for i in range(0, len(digits), 4000):
        chunk = digits[i : i + 4000]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def parse_decimal(text: str | bytes) -> tuple[bool, str, int] | str | None:
    """The grammar of ``f64_from_dec``: ``None`` if ``text`` is not in it; ``"inf"``,
    ``"-inf"`` or ``"nan"``; else ``(negative, digits, E)``: the value is the integer
    ``digits`` (significant digits, no leading or trailing zeros; ``""`` for a zero)
    times ``10^E``.  An exponent of more than 25 digits counts as 10^25."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            return None
    if not text.isascii():
        return None
    body = text[1:] if text.startswith(("+", "-")) else text
    word = body.lower()
    if word == "inf":
        return "-inf" if text.startswith("-") else "inf"
    if word == "nan":
        return "nan"
    match = _DECIMAL.fullmatch(text)
    if match is None:
        return None
    sign, int_part, frac_part, frac_only, exp_sign, exp_digits = match.groups()
    fraction = frac_part if frac_part is not None else (frac_only or "")
    digits = ((int_part or "") + fraction).lstrip("0")
    significant = digits.rstrip("0")
    if not significant:
        return sign == "-", "", 0
    e10 = len(digits) - len(significant) - len(fraction)
    if exp_digits is not None:
        exp_digits = exp_digits.lstrip("0") or "0"
        exponent = 10**_EXP_DIGITS if len(exp_digits) > _EXP_DIGITS else int(exp_digits)
        e10 += -exponent if exp_sign == "-" else exponent
    return sign == "-", significant, e10


def f64_from_dec(text: str | bytes) -> int | None:
    """The binary64 pattern nearest (ties to even) to the decimal ``text``, or
    ``None`` if ``text`` is not in the grammar of docs/ops-integers.md."""
    parsed = parse_decimal(text)
    if parsed is None:
        return None
    if parsed == "nan":
        return F64.canonical_nan
    if parsed == "inf":
        return F64.inf
    if parsed == "-inf":
        return F64.sign_bit | F64.inf
    assert isinstance(parsed, tuple)
    neg, digits, e10 = parsed
    sign = F64.sign_bit if neg else 0
    if not digits:
        return sign
    p10 = e10 + len(digits) - 1  # the value lies in [10^p10, 10^(p10 + 1))
    if p10 > _P10_INF:
        return sign | F64.inf
    if p10 < _P10_ZERO:
        return sign
    d = _int_of_digits(digits)
    if e10 >= 0:
        return round_ratio(F64, neg, d * 10**e10, 1, "rne")
    return round_ratio(F64, neg, d, 10**-e10, "rne")


# ------------------------------------------------------------------ data model


def serialize_record(slots: Sequence[int]) -> bytes:
    """``struct record { u8 kind; u64 amount; i32 delta; f64 price; u16 flags; }`` from
    its five u64 slots (each field in the low bits of its slot), packed little-endian
    with no padding, NaN prices canonical, plus one zero byte: 24 bytes."""
    if len(slots) != 5:
        raise MalformedInput(f"a record has 5 slots, got {len(slots)}")
    for s in slots:
        _check_bits(s, 64, "record slot")
    kind, amount, delta, price, flags = slots
    if F64.is_nan(price):
        price = F64.canonical_nan
    return b"".join(
        (
            (kind & 0xFF).to_bytes(1, "little"),
            amount.to_bytes(8, "little"),
            (delta & 0xFFFF_FFFF).to_bytes(4, "little"),
            price.to_bytes(8, "little"),
            (flags & 0xFFFF).to_bytes(2, "little"),
            b"\x00",
        )
    )


def sort_stable_u64(items: Iterable[int]) -> list[int]:
    """The items sorted by ``item >> 48``, equal keys in their input order."""
    out = list(items)
    for v in out:
        _check_bits(v, 64, "item")
    return sorted(out, key=lambda v: v >> SORT_KEY_SHIFT)
