"""f64.to_dec in native/probe/intops.c: its 128-bit fast path and its exact fallback.

teecert_f64_to_dec finds floor(v * 10^p) (18 or 19 digits) from one product of the
significand with a 128-bit power of five, takes the rounding from that integer and
an exact test of whether v * 10^p is an integer, and falls back to big-integer
arithmetic only when the product cannot tell on which side of an integer the value
lies.  Every result here is checked against the Python reference
(``teecert.reference.data``: exact ``Fraction`` arithmetic, itself confirmed by
CPython's ``format(x, ".16e")``), which shares no code with the C:

- the first 300,000 vectors of the committed stream (and 60,000 through the build
  without the 128-bit type, 40,000 through the bignum alone);
- hand-made hard cases: every power of two, the doubles around every power of ten,
  subnormals, the ends of the range, integers around 2^53 and 10^17 .. 10^19, exact
  ties at the 18th digit, large doubles with 19 significant digits or fewer (their
  scaled value is an integer, which the truncated power of five puts just below it),
  and doubles whose expansion lies within about
  1e-12 of a tie or of a change of the 17th digit (found with continued fractions of
  the exact scale factor: the cases where an approximation of the product would
  decide wrongly);

both through the reference probe and through a probe built without the 128-bit
type (``-DTEECERT_NO_INT128``: the portable 64x64-bit product the 32-bit targets run),
and through one whose product is turned off (``-DTEECERT_TO_DEC_EXACT_ONLY``), which
tests the bignum fallback that no known input reaches otherwise.
"""

from __future__ import annotations

import random
import struct
from fractions import Fraction

import pytest

from teecert import ops
from teecert.probe import build as probe_build
from teecert.probe.library import Probe, load_probe
from teecert.reference import data as refdata
from teecert.vectors.store import load_set
from teecert.vectors.streams import data as streams

OP = ops.get("f64.to_dec")
DIGITS = 17
MIN_SUB = 0x0000000000000001
MAX_SUB = 0x000FFFFFFFFFFFFF
MIN_NORMAL = 0x0010000000000000
DBL_MAX = 0x7FEFFFFFFFFFFFFF



@pytest.fixture(scope="module")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> Probe:
    out = tmp_path_factory.mktemp("to-dec") / "no-int128.so"
    return load_probe(probe_build.build_probe(out, defines={"TEECERT_NO_INT128": None}))


def text(slot: int) -> bytes:
    return slot.to_bytes(ops.DEC_OUT_BYTES, "big").split(b"\0", 1)[0]


@pytest.fixture(scope="module")
def exact_only(tmp_path_factory: pytest.TempPathFactory) -> Probe:
    out = tmp_path_factory.mktemp("to-dec") / "exact-only.so"
    return load_probe(probe_build.build_probe(out, defines={"TEECERT_TO_DEC_EXACT_ONLY": None}))


def check_vecs(p: Probe, vecs: list[tuple[int, ...]], what: str) -> None:
    got = p.run_values(OP, vecs)
    want = refdata.evaluate_many(OP, vecs)
    bad = [(v[0], g, w) for v, g, w in zip(vecs, got, want, strict=True) if g != w]
    assert not bad, (
        f"{what}: {len(bad)} of {len(vecs)} differ, first {bad[0][0]:016x}: got "
        f"{text(bad[0][1])!r}, want {text(bad[0][2])!r}")


def check_bits(p: Probe, patterns: list[int], what: str) -> None:
    check_vecs(p, [(b,) for b in patterns], what)


# ------------------------------------------------------------------ the stream


def stream_vecs(count: int) -> list[tuple[int, ...]]:
    st = load_set().streams()["f64.to_dec"]
    vecs: list[tuple[int, ...]] = streams.vectors(st.op, st.seed, 0, count)
    return vecs


def test_stream_prefix(probe: Probe) -> None:
    check_vecs(probe, stream_vecs(300_000), "stream")


def test_stream_prefix_without_int128(narrow: Probe) -> None:
    check_vecs(narrow, stream_vecs(60_000), "stream, no int128")


# ------------------------------------------------------------------ hard cases


def bits_of(x: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", x))[0])


def value(bits: int) -> Fraction:
    biased, frac = (bits >> 52) & 0x7FF, bits & ((1 << 52) - 1)
    v = Fraction(frac, 1 << 1074) if biased == 0 else Fraction(frac | (1 << 52)) * Fraction(2) ** (biased - 1075)
    return -v if bits >> 63 else v


def nearest_double(x: Fraction) -> int:
    """The bits of the double nearest to x > 0 (float(Fraction) rounds correctly)."""
    return bits_of(float(x))


def around(b: int, n: int = 2) -> list[int]:
    return [c for c in range(b - n, b + n + 1) if 0 <= c <= DBL_MAX]


def powers_of_two() -> list[int]:
    out = [1 << i for i in range(52)]  # subnormal powers
    out += [e << 52 for e in range(1, 2047)]
    return out


def powers_of_ten() -> list[int]:
    out = []
    for k in range(-324, 309):
        out += around(nearest_double(Fraction(10) ** k), 3)
    return out


def integers() -> list[int]:
    out = []
    for n in (2**53 - 2, 2**53 - 1, 2**53, 2**53 + 2, 2**53 + 4, 2**54 - 2, 2**54 + 4, 2**63, 2**64):
        out.append(bits_of(float(n)))
    for d in (15, 16, 17, 18, 19, 20, 22, 23):
        out += around(nearest_double(Fraction(10) ** d), 5)
        out += around(nearest_double(Fraction(10) ** d - Fraction(1, 2)), 5)
    out += [bits_of(float(5**j)) for j in range(23)]  # multiples of powers of five
    out += [bits_of(float(5**j * 2**s)) for j in range(23) for s in (1, 40, 200)]
    out += [bits_of(float(10**j)) for j in range(23)]  # exact powers of ten
    return out


def subnormals() -> list[int]:
    rng = random.Random(17)
    out = [MIN_SUB, MIN_SUB + 1, 3, 5, 7, 10, 100, MAX_SUB, MAX_SUB - 1, MIN_NORMAL, MIN_NORMAL + 1]
    out += [(1 << i) - 1 for i in range(2, 53)]
    out += [rng.getrandbits(rng.randint(1, 52)) | 1 for _ in range(2000)]
    return out


def exact_scaled_integers() -> list[int]:
    """Doubles v >= 10^18 with at most 19 significant digits: v * 10^p is an integer
    X while the power 5^p of the product is truncated, so the product lands just below
    X.  X = o * 2^t (o odd) and v = X * 10^j need o * 5^j < 2^53; every last digit of
    X occurs, 6 among them (one below, it would round as a tie)."""
    rng = random.Random(21)
    out = []
    for j in range(1, 23):
        omax = (2**53 - 1) // 5**j
        for digits in (18, 19):
            for _ in range(40):
                x = 2 * rng.randint(0, (omax - 1) // 2) + 1  # odd, <= omax
                while x < 10 ** (digits - 1):
                    x <<= 1
                if x < 10**digits:
                    out.append(bits_of(float(x * 10**j)))
    # ending in 6 on purpose (an 18-digit X ending in 51 would be odd, above 2^53)
    for j in (1, 2, 5, 10, 20):
        omax = (2**53 - 1) // 5**j
        found = 0
        while found < 30:
            x = 2 * rng.randint(0, (omax - 1) // 2) + 1
            while x < 10**17:
                x <<= 1
            if x < 10**18 and x % 10 == 6:
                out.append(bits_of(float(x * 10**j)))
                found += 1
    return out


def exact_ties() -> list[int]:
    """Doubles n / 2^j (n odd) whose expansion has exactly 18 significant digits, the
    last a 5 (n * 5^j has them): an exact tie at 17 digits.  (There are no others: a
    tie's odd part is at least 10^17 / 2 > 2^53 unless the digits are fractional.)"""
    rng = random.Random(18)
    out = []
    for j in range(1, 26):
        f = 5**j
        lo, hi = -(-(10**17) // f), (10**18 - 1) // f
        for _ in range(60):
            n = rng.randint(lo, hi) | 1
            if n < 2**53 and lo <= n <= hi:
                out.append(bits_of(n / 2**j))  # exact: n < 2^53
                out.append(bits_of(n / 2**j) | (1 << 63))
    out.append(bits_of(100000000000000.125))
    out.append(bits_of(100000000000000.375))
    return out


def floor_log10(v: Fraction) -> int:
    k = (v.numerator.bit_length() - v.denominator.bit_length()) * 30103 // 100000
    while Fraction(10) ** k > v:
        k -= 1
    while Fraction(10) ** (k + 1) <= v:
        k += 1
    return k


def convergent_denominators(x: Fraction, limit: int) -> list[tuple[int, int]]:
    """(q, p) of the continued-fraction convergents p / q of x with q <= limit."""
    out = []
    p0, q0, p1, q1 = 0, 1, 1, 0
    num, den = x.numerator, x.denominator
    while den:
        a, rem = divmod(num, den)
        p0, q0, p1, q1 = p1, q1, a * p1 + p0, a * q1 + q0
        if q1 > limit:
            break
        out.append((q1, p1))
        num, den = den, rem
    return out


def binade_scale(biased: int) -> tuple[int, int, Fraction]:
    """(lowest m, highest m, 2^e * 10^p) for the doubles m * 2^e of a binade, p = 16 - k
    for the decimal exponent k of its lowest value (so the scaled value has 17 digits
    before the point there, 18 where the binade crosses a power of ten)."""
    if biased == 0:
        lo, hi, e = 1, (1 << 52) - 1, -1074
    else:
        lo, hi, e = 1 << 52, (1 << 53) - 1, biased - 1075
    k = floor_log10(Fraction(lo) * Fraction(2) ** e)
    return lo, hi, Fraction(2) ** e * Fraction(10) ** (DIGITS - 1 - k)


def near_integer_scaled(biased: int) -> list[int]:
    """Significands m of the binade for which m * scale lies very near an integer
    (just below or just above): multiples of the convergents' denominators."""
    lo, hi, scale = binade_scale(biased)
    out = []
    for q, _ in convergent_denominators(scale, hi)[-4:]:
        c = max(1, -(-lo // q))
        for cc in (c, c + 1, hi // q):
            m = cc * q
            if lo <= m <= hi:
                out.append(m)
    return out


def near_ties_scaled(biased: int, rng: random.Random) -> list[int]:
    """Significands m for which m * scale lies near a half-integer, i.e. the 18th digit
    on reads 4999... or 5000...: from a random start, steps of convergent denominators
    q (whose q * scale is nearly an integer) move m * scale towards the target."""
    lo, hi, scale = binade_scale(biased)
    convs = convergent_denominators(scale, hi)
    out = []
    for _ in range(3):
        m = rng.randint(lo, hi)
        for q, p in convs:
            delta = q * scale - p  # the signed distance of q * scale from an integer
            if delta == 0:
                continue
            frac = m * scale - (m * scale).numerator // (m * scale).denominator
            err = Fraction(1, 2) - frac
            c = round(err / delta)
            if c and lo <= m + c * q <= hi:
                m += c * q
        out.append(m)
    return out


def with_binade(biased: int, ms: list[int]) -> list[int]:
    return [(biased << 52) | (m & ((1 << 52) - 1)) for m in ms]


def tie_distance(bits: int) -> Fraction:
    """|v * 10^(16 - k) mod 1 - 1/2| for the exact value v = 0.d1d2... * 10^(k + 1)."""
    v = abs(value(bits))
    k = floor_log10(v)
    x = v * Fraction(10) ** (DIGITS - 1 - k)
    return abs(x - x.numerator // x.denominator - Fraction(1, 2))


def near_boundaries() -> tuple[list[int], list[int]]:
    rng = random.Random(19)
    ints, ties = [], []
    for biased in [*range(0, 2047, 3), 1, 2, 1021, 1022, 1023, 1024, 1075, 1076, 2045, 2046]:
        ints += with_binade(biased, near_integer_scaled(biased))
        ties += with_binade(biased, near_ties_scaled(biased, rng))
    return ints, ties


def test_near_tie_generator_finds_near_ties() -> None:
    _, ties = near_boundaries()
    close = [b for b in ties if tie_distance(b) < Fraction(1, 10**9)]
    assert len(close) > len(ties) // 4, (len(close), len(ties))


def hard_patterns() -> list[int]:
    ints, ties = near_boundaries()
    out = [0, 1 << 63, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000,
           0xFFF8000000000001, 0x7FF0000000000001, DBL_MAX, DBL_MAX - 1, MIN_NORMAL,
           bits_of(0.1), bits_of(1e23), 0x009C16C5C5253575]
    out += powers_of_two() + powers_of_ten() + integers() + subnormals() + exact_ties()
    out += exact_scaled_integers()
    out += ints + ties
    out += [b | (1 << 63) for b in out[::7]]
    return out


def test_hard_cases(probe: Probe, narrow: Probe) -> None:
    patterns = hard_patterns()
    assert len(patterns) > 15_000
    check_bits(probe, patterns, "hard cases")
    check_bits(narrow, patterns, "hard cases, no int128")


def test_exact_path_alone(exact_only: Probe) -> None:
    """The bignum fallback, which the product leaves no known input to, on its own."""
    check_bits(exact_only, hard_patterns(), "hard cases, bignum only")
    check_vecs(exact_only, stream_vecs(40_000), "stream, bignum only")


def test_exact_ties_are_ties() -> None:
    """The tie generator really produces ties (and the documented one rounds to even)."""
    ties = exact_ties()
    assert all(tie_distance(b) == 0 for b in ties), [hex(b) for b in ties if tie_distance(b)][:3]
    assert text(refdata.evaluate_many(OP, [(bits_of(100000000000000.125),)])[0]) \
        == b"1.0000000000000012e+14"


def test_every_binade_random(probe: Probe, narrow: Probe) -> None:
    rng = random.Random(20)
    patterns = [(b << 52) | rng.getrandbits(52) for b in range(2047) for _ in range(8)]
    patterns += [rng.getrandbits(64) for _ in range(20_000)]
    check_bits(probe, patterns, "random")
    check_bits(narrow, patterns[::4], "random, no int128")
