"""f64.from_dec in native/probe/intops.c: its fast paths and its exact comparison.

teecert_f64_from_dec decides most inputs from the first 19 significant digits and a
128-bit power of five (an exact interval, rounded at both ends), and only the rest
by comparing the decimal with the midpoint between two adjacent doubles in big-integer
arithmetic (64-bit limbs with a 128-bit type, 32-bit limbs without one).  Every
result here is checked against the Python reference (``teecert.reference.data``:
exact ``Fraction`` arithmetic, itself confirmed by CPython's ``float()``), which shares
no code with the C:

- the first 200,000 vectors of the committed stream, and 50,000 of two other seeds;
- hand-made hard cases: the documented table, exact midpoints and the same moved by
  one unit at digit 17, 18, 19, 20, 40, 767, 768, 769, 800 (and beyond), the
  subnormal and overflow boundaries, significands of 19 and 20 digits whose first 19
  digits are a tie, the decimal point at every position of a long input, grammar
  edges at the 8-byte boundaries of the digit scanner;

both through the reference probe and through a probe built without the 128-bit
type (``-DTEECERT_NO_INT128``: 32-bit limbs and the portable 64x64-bit product, the
code the 32-bit targets run).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable
from decimal import Decimal

import pytest

from teecert import ops
from teecert.probe import build as probe_build
from teecert.probe.library import Probe, load_probe
from teecert.reference import data as refdata
from teecert.vectors.store import load_set
from teecert.vectors.streams import data as streams

OP = ops.get("f64.from_dec")
TEXT_BYTES = ops.DEC_TEXT_BYTES
SYNTAX = 1 << 64  # status 1, bits 0



@pytest.fixture(scope="module")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> Probe:
    out = tmp_path_factory.mktemp("from-dec") / "no-int128.so"
    return load_probe(probe_build.build_probe(out, defines={"TEECERT_NO_INT128": None}))


def expected(texts: list[bytes]) -> list[int]:
    out: list[int] = refdata.evaluate_many(OP, [(refdata.text_slot(t),) for t in texts])
    return out


def check_texts(p: Probe, texts: Iterable[bytes]) -> None:
    texts = list(texts)
    for t in texts:
        assert len(t) <= TEXT_BYTES and b"\0" not in t, t[:80]
    got = p.run_values(OP, [(refdata.text_slot(t),) for t in texts])
    want = expected(texts)
    bad = [(t, hex(g), hex(w)) for t, g, w in zip(texts, got, want, strict=True) if g != w]
    assert not bad, f"{len(bad)} of {len(texts)} differ, first: {bad[0][0][:120]!r} " \
                    f"got {bad[0][1]} want {bad[0][2]}"


def check_stream(p: Probe, seed: int, count: int) -> None:
    vecs = streams.vectors(OP, seed, 0, count)
    got = p.run_values(OP, vecs)
    want = refdata.evaluate_many(OP, vecs)
    bad = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    assert not bad, f"seed {seed}: {len(bad)} differ, first vector {bad[0]}: " \
                    f"{refdata.dec_text(vecs[bad[0]][0])[:120]!r}"


# ------------------------------------------------------------------ the stream


def test_stream_prefix(probe: Probe) -> None:
    seed = load_set().streams()["f64.from_dec"].seed
    check_stream(probe, seed, 200_000)


@pytest.mark.parametrize("seed", [7, 0x5EED_F00D])
def test_other_seeds(probe: Probe, seed: int) -> None:
    check_stream(probe, seed, 50_000)


def test_stream_prefix_without_int128(narrow: Probe) -> None:
    seed = load_set().streams()["f64.from_dec"].seed
    check_stream(narrow, seed, 50_000)


# ------------------------------------------------------------------ hard cases


def exact(n: int, k: int) -> tuple[str, int]:
    """(digits, E): n * 2^k == int(digits) * 10^E, no trailing zeros."""
    digits, e = streams.exact_decimal(n, k)
    return str(digits), int(e)


def sci(digits: str, e: int, neg: bool = False) -> bytes:
    return bytes(streams.scientific(neg, digits, e))


def parts(bits: int) -> tuple[int, int]:
    biased, frac = (bits >> 52) & 0x7FF, bits & ((1 << 52) - 1)
    return (frac, -1074) if biased == 0 else (frac | (1 << 52), biased - 1075)


def midpoint(bits: int) -> tuple[str, int]:
    """The exact decimal of the midpoint of a finite non-negative double and the next."""
    m, q = parts(bits)
    return exact(2 * m + 1, q - 1)


def bits_of(x: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", x))[0])


#: Doubles whose midpoints (with the next double) are hard: near the smallest normal
#: (the longest midpoints, 767 digits), subnormals, the largest finite (the overflow
#: threshold), 2^53, 1.0, and some in between.
HARD_DOUBLES = [
    0x0000000000000000, 0x0000000000000001, 0x0000000000000002, 0x000FFFFFFFFFFFFE,
    0x000FFFFFFFFFFFFF, 0x0010000000000000, 0x0010000000000001, 0x001FFFFFFFFFFFFF,
    0x0008000000000000, 0x3FEFFFFFFFFFFFFF, 0x3FF0000000000000, 0x433FFFFFFFFFFFFF,
    0x4340000000000000, 0x43DFFFFFFFFFFFFF, 0x43EFFFFFFFFFFFFF, 0x7FEFFFFFFFFFFFFF,
    0x7FEFFFFFFFFFFFFE, 0x44B52D02C7E14AF6, 0x000123456789ABCD, 0x0123456789ABCDEF,
    0x2345678901234567, 0x3456789ABCDEF012, 0x5FEDCBA987654321, 0x7E00000000000001,
    bits_of(1e23), bits_of(1e-300), bits_of(2.2250738585072014e-308), bits_of(1e-320),
]

UNIT_DIGITS = [1, 2, 16, 17, 18, 19, 20, 21, 38, 39, 40, 41, 767, 768, 769, 770, 799, 800, 801]


def nudged(digits: str, e: int, k: int, up: bool) -> tuple[str, int]:
    """int(digits) * 10^e plus or minus one unit of its k-th significant digit."""
    n = len(digits)
    if k <= n:
        unit = 10 ** (n - k)
        d, ee = int(digits) + (unit if up else -unit), e
    else:
        d, ee = int(digits) * 10 ** (k - n) + (1 if up else -1), e - (k - n)
    s = str(d)
    stripped = s.rstrip("0") or "0"
    return stripped, ee + len(s) - len(stripped)


def hard_texts() -> list[bytes]:
    out: list[bytes] = []
    for b in HARD_DOUBLES:
        digits, e = midpoint(b)
        out.append(sci(digits, e))
        out.append(sci(digits, e, neg=True))
        for k in UNIT_DIGITS:
            for up in (True, False):
                d, ee = nudged(digits, e, k, up)
                if d != "0" and len(d) <= 1000:
                    out.append(sci(d, ee))
            if k < len(digits):  # truncated to k digits
                out.append(sci(digits[:k].rstrip("0") or "0", e + len(digits) - k))
        # the double itself, exactly and with 17 digits
        m, q = parts(b)
        if m:
            d, ee = exact(m, q)
            if len(d) < 1000:
                out.append(sci(d, ee))
            out.append(format(struct.unpack("<d", b.to_bytes(8, "little"))[0], ".16e").encode())
    return out


def test_midpoints_and_units(probe: Probe, narrow: Probe) -> None:
    texts = hard_texts()
    assert len(texts) > 1200
    check_texts(probe, texts)
    check_texts(narrow, texts)


def limit_texts() -> list[bytes]:
    """The ends of the range, exactly and moved by a unit far down (cf. class (d))."""
    out = []
    for n, k in streams.LIMITS:
        digits, e = exact(n, k)
        out.append(sci(digits, e))
        for z in (0, 1, 17, 100, 191, 250):
            for up in (True, False):
                d, ee = streams.extend(digits, e, z, up)
                if len(d) < 1000:
                    out.append(sci(d, ee))
    return out


def test_range_limits(probe: Probe, narrow: Probe) -> None:
    check_texts(probe, limit_texts())
    check_texts(narrow, limit_texts())


KNOWN = [
    (b"2.2250738585072011e-308", 0x000FFFFFFFFFFFFF),
    (b"2.2250738585072012e-308", 0x0010000000000000),
    (b"9007199254740993", 0x4340000000000000),
    (b"4.9406564584124654e-324", 0x0000000000000001),
    (b"2.4703282292062327e-324", 0x0000000000000000),
    (b"2.4703282292062328e-324", 0x0000000000000001),
    (b"1e23", 0x44B52D02C7E14AF6),
    (b"8.533e+68", 0x4E3FA69165A8EEA2),
    (b"4.1006e-184", 0x19DBE0D1C7EA60C9),
    (b"9.998e+307", 0x7FE1CC0A350CA87B),
    (b"9.9538452227e-280", 0x0602117AE45CDE43),
    (b"6.47660115e-260", 0x0A1FDD9E333BADAD),
    (b"7.4e+47", 0x49E033D7ECA0ADEF),
    (b"5.92e+48", 0x4A1033D7ECA0ADEF),
    (b"7.35e+66", 0x4DD172B70EABABA9),
    (b"8.32116e+55", 0x4B8B2628393E02CD),
    (b"1.7976931348623158e308", 0x7FEFFFFFFFFFFFFF),
    (b"1.7976931348623159e308", 0x7FF0000000000000),
]


def test_documented_table(probe: Probe, narrow: Probe) -> None:
    texts = [t for t, _ in KNOWN]
    for p in (probe, narrow):
        assert p.run_values(OP, [(refdata.text_slot(t),) for t in texts]) == [b for _, b in KNOWN]


def short_texts() -> list[bytes]:
    """Significands of up to 21 digits around the fast paths' limits."""
    out = [
        # 2^53 + 1 (a tie) written with 16..21 digits, exact and nudged past digit 19
        b"9007199254740993", b"9007199254740993000", b"9007199254740993.0000",
        b"90071992547409930001e-4", b"90071992547409929999e-4", b"9007199254740993.0000001",
        b"9007199254740992.9999999", b"900719925474099300000000000000000000001e-22",
        b"9007199254740995", b"9007199254740995.00000000000000000000000000000001",
        b"18014398509481985", b"18014398509481986", b"18014398509481987",
        b"9223372036854775808", b"9223372036854776832", b"9223372036854776833",
        b"9223372036854776831", b"18446744073709551615", b"18446744073709551616",
        b"18446744073709553664", b"18446744073709553665", b"184467440737095536640",
        b"1844674407370955366400000000000000001e-17",
        # exponents at the ends of the table and of the range
        b"1e-342", b"1e-325", b"1e-324", b"2e-324", b"2.4e-324", b"2.5e-324", b"3e-324",
        b"4.9e-324", b"7.4e-324", b"7.5e-324", b"9999999999999999999e-343",
        b"9999999999999999999e-342", b"1e308", b"1.7976931348623157e308", b"9.99e308",
        b"1e309", b"9999999999999999999e289", b"9999999999999999999e290",
        b"1797693134862315708145274237317043567980705675258449965989174768031572607800285387605895586327668781715404589535143824642343213268894641827684675467035375169860499105765512820762454900903893289440758685084551339423045832369032229481658085593321233482747978262041447231687381771809192998812504040261841248583680",
        b"1797693134862315807937289714053034150799341327710527863015120346125166123025612771856683378051478049519694834047337007648046005698153826047766823138545937393113543050547138618216849447208946466003302519302626436232213087386066003766216931226931240389289120209548062463640453346063051005003213312385004306989056",
        # small exact values, with the decimal point and zeros in odd places
        b"0.1", b"0.2", b"0.3", b"1.5", b".5", b"5.", b"-0.0", b"+0e-999", b"00000000000001",
        b"0.000000000000000000000000000001", b"1000000000000000000000000000000e-30",
        b"12345678.12345678", b"1234567.812345678", b"123456789012345678.9",
        b"1234567890123456789.01234567890123456789", b"0.1234567890123456789012345",
        b"4503599627370496.5", b"4503599627370497.5", b"45035996273704965e-1",
        b"2251799813685248.25", b"2251799813685248.75", b"1152921504606846976e-60",
        b"1" + b"0" * 900 + b"e-900", b"0." + b"0" * 900 + b"1e901",
    ]
    rng = random.Random(1234)
    for _ in range(3000):  # random doubles with 1..21 digits and random scales
        x = struct.unpack("<d", rng.getrandbits(63).to_bytes(8, "little"))[0]
        if x != x or x in (float("inf"),):
            continue
        n = rng.randint(1, 21)
        out.append(format(Decimal(x), f".{n - 1}e").encode())
    return out


def test_short_significands(probe: Probe, narrow: Probe) -> None:
    check_texts(probe, short_texts())
    check_texts(narrow, short_texts())


def test_decimal_point_everywhere(probe: Probe, narrow: Probe) -> None:
    """One long midpoint (and its neighbours one unit beyond) with the decimal point
    moved to every position, the exponent compensating: the value never changes."""
    texts = []
    for b in (0x000FFFFFFFFFFFFF, 0x0010000000000000, 0x3FF0000000000000, 0x7FEFFFFFFFFFFFFF):
        digits, e = midpoint(b)
        for d in (digits, str(int(digits) * 10 + 1), str(int(digits) * 10 - 1)):
            ee = e - (len(d) - len(digits))
            for pos in range(0, len(d) + 1, 1 if len(d) < 80 else 7):
                body = d[:pos] + "." + d[pos:] if pos else "0." + d
                x = ee + len(d) - pos
                texts.append(f"{body}e{x}".encode())
    for p in (probe, narrow):
        check_texts(p, texts)


def test_random_midpoints(probe: Probe) -> None:
    """Midpoints of random doubles, moved by a unit at a random digit or kept."""
    rng = random.Random(99)
    texts = []
    for _ in range(3000):
        b = rng.getrandbits(63)
        if (b >> 52) == 0x7FF:
            continue
        digits, e = midpoint(b)
        k = rng.choice([*UNIT_DIGITS, rng.randint(1, len(digits) + 40)])
        d, ee = nudged(digits, e, k, rng.random() < 0.5) if rng.random() < 0.8 else (digits, e)
        if d != "0" and len(d) < 1000:
            texts.append(sci(d, ee, neg=rng.random() < 0.5))
    check_texts(probe, texts)


GRAMMAR = [
    b"", b".", b"e5", b"1e", b"1e+", b"+", b"-", b" 1", b"1 ", b"1_000", b"0x10", b"infinity",
    b"nan(1)", b"1,5", b"+-1", b"1.2.3", b"1e5.5", b"..1", b".e1", b"inf1", b"-in", b"nanq",
    b"1e1e1", b"0.5E", b"INF", b"-Inf", b"nAn", b"-nan", b"+0", b"-.0", b"1.", b".1",
    b"1e99999999999999999999", b"-1e-99999999999999999999", b"1e-400", b"-1e-400",
]


def test_grammar_at_scanner_boundaries(probe: Probe, narrow: Probe) -> None:
    """A non-digit byte at each position of a run of 1..25 digits (the scanner reads
    eight at a time), in the integer part, the fraction and the exponent."""
    texts = list(GRAMMAR)
    for n in range(1, 26):
        base = "".join(str((i * 7 + 3) % 10) for i in range(n))
        for pos in range(n):
            for bad in (b"/", b":", b"\x7f", b"\xfa", b"\xff", b"0", b".", b"e"):
                raw = base.encode()
                texts.append(raw[:pos] + bad + raw[pos + 1:])
                texts.append(b"0." + raw[:pos] + bad + raw[pos + 1:])
                texts.append(b"1e" + raw[:pos] + bad + raw[pos + 1:])
    texts = [t for t in texts if b"\0" not in t]
    for p in (probe, narrow):
        check_texts(p, texts)
