/*
 * Integer, conversion and data-model kernels of the teecert reference probe: the
 * consensus semantics of docs/ops-integers.md in portable C99.
 *
 * Every function is written so that C's undefined and implementation-defined
 * behaviour never decides a result:
 *   - signed arithmetic is done on unsigned types (two's-complement wrapping is
 *     then defined), and a signed value is never produced by converting an
 *     out-of-range unsigned one: division works on magnitudes and signs;
 *   - a shift count is checked against the width before it reaches the `<<` or
 *     `>>` operator, and a negative value is never right-shifted;
 *   - bit counts use no builtins (__builtin_clz(0) is undefined);
 *   - a float is converted to an integer type only once exact comparisons have
 *     shown that its truncation fits (an out-of-range conversion is undefined);
 *   - int -> float and the decimal conversions use integer arithmetic only, so
 *     neither the caller's rounding mode, nor FTZ/DAZ, nor excess precision can
 *     change them.
 *
 * Why the decimal conversions are hand-written rather than strtod/snprintf:
 *   - locale: LC_NUMERIC changes the decimal point both functions read and write
 *     ("1,5" under de_DE), and a host application may call setlocale();
 *   - correctness: the C standard only asks strtod to be correctly rounded for up
 *     to DECIMAL_DIG significant digits and lets printf's rounding of the last digit
 *     be whatever the library does; some libcs get hard cases (long halfway inputs,
 *     subnormals) wrong, and the probe must not inherit their answers;
 *   - availability: enclave and trusted-OS libcs (the SGX SDK's trusted libc, OP-TEE's
 *     libutils, unikernel libcs) are minimal; their floating-point conversions, where
 *     present at all, are not the host's.
 * So both directions are exact integer arithmetic on small fixed-size bignums (no
 * allocation; from_dec first tries a 128-bit product with a table of powers of five)
 * and are checked against Python's exact fractions.Fraction and float()/format() by
 * tests/probe/test_intops.py and tests/native/test_from_dec_fast.py.
 */

#include <float.h>
#include <string.h>

#include "intops.h"

#if FLT_RADIX != 2 || DBL_MANT_DIG != 53 || DBL_MAX_EXP != 1024 || FLT_MANT_DIG != 24 || FLT_MAX_EXP != 128
#error "the float -> int kernels need IEEE 754 binary32 float and binary64 double"
#endif

#define TEECERT_U32_ALL UINT32_C(0xffffffff)
#define TEECERT_U64_ALL UINT64_C(0xffffffffffffffff)

/* ------------------------------------------------------------ wrapping arithmetic */

/* uint32_t operands are widened to uint64_t before a multiplication: were int wider
   than 32 bits, a uint32_t * uint32_t would be a signed (overflowing) product. */
uint32_t teecert_i32_add(uint32_t a, uint32_t b) { return (uint32_t)(a + b); }
uint32_t teecert_i32_sub(uint32_t a, uint32_t b) { return (uint32_t)(a - b); }
uint32_t teecert_i32_mul(uint32_t a, uint32_t b) { return (uint32_t)((uint64_t)a * (uint64_t)b); }
uint64_t teecert_i64_add(uint64_t a, uint64_t b) { return a + b; }
uint64_t teecert_i64_sub(uint64_t a, uint64_t b) { return a - b; }
uint64_t teecert_i64_mul(uint64_t a, uint64_t b) { return a * b; }

/* ---------------------------------------------------------------------- division */

/*
 * Signed division on magnitudes: |q| = |a| / |b| truncates toward zero, q is
 * negative when the signs differ, r takes the dividend's sign.  MIN / -1 needs no
 * special case: |MIN| = 2^(N-1) as an unsigned magnitude, divided by 1 and not
 * negated (both signs negative) it is the bit pattern of MIN again, which is the
 * RISC-V result; MIN % -1 = 0.  Only the division by zero is a special case.
 */
uint32_t teecert_i32_div_s(uint32_t a, uint32_t b)
{
    uint32_t na = a >> 31, nb = b >> 31, ma, mb, q;
    if (b == 0)
        return TEECERT_U32_ALL; /* -1 */
    ma = na ? (uint32_t)(0u - a) : a;
    mb = nb ? (uint32_t)(0u - b) : b;
    q = ma / mb;
    return (na ^ nb) ? (uint32_t)(0u - q) : q;
}

uint32_t teecert_i32_rem_s(uint32_t a, uint32_t b)
{
    uint32_t na = a >> 31, nb = b >> 31, ma, mb, r;
    if (b == 0)
        return a;
    ma = na ? (uint32_t)(0u - a) : a;
    mb = nb ? (uint32_t)(0u - b) : b;
    r = ma % mb;
    return na ? (uint32_t)(0u - r) : r;
}

uint32_t teecert_i32_div_u(uint32_t a, uint32_t b) { return b == 0 ? TEECERT_U32_ALL : a / b; }
uint32_t teecert_i32_rem_u(uint32_t a, uint32_t b) { return b == 0 ? a : a % b; }

uint64_t teecert_i64_div_s(uint64_t a, uint64_t b)
{
    uint64_t na = a >> 63, nb = b >> 63, ma, mb, q;
    if (b == 0)
        return TEECERT_U64_ALL;
    ma = na ? (uint64_t)0 - a : a;
    mb = nb ? (uint64_t)0 - b : b;
    q = ma / mb;
    return (na ^ nb) ? (uint64_t)0 - q : q;
}

uint64_t teecert_i64_rem_s(uint64_t a, uint64_t b)
{
    uint64_t na = a >> 63, nb = b >> 63, ma, mb, r;
    if (b == 0)
        return a;
    ma = na ? (uint64_t)0 - a : a;
    mb = nb ? (uint64_t)0 - b : b;
    r = ma % mb;
    return na ? (uint64_t)0 - r : r;
}

uint64_t teecert_i64_div_u(uint64_t a, uint64_t b) { return b == 0 ? TEECERT_U64_ALL : a / b; }
uint64_t teecert_i64_rem_u(uint64_t a, uint64_t b) { return b == 0 ? a : a % b; }

/* ------------------------------------------------------------------------ shifts */

/* C leaves `x << n` undefined for n >= width (x86 and AArch64 registers mask the
   count instead); the count is compared first.  shr_s of a negative value is done as
   ~(~a >> n): no implementation-defined right shift of a negative number. */
uint32_t teecert_i32_shl(uint32_t a, uint64_t count)
{
    return count >= 32 ? 0 : (uint32_t)(a << count);
}

uint32_t teecert_i32_shr_u(uint32_t a, uint64_t count)
{
    return count >= 32 ? 0 : (uint32_t)(a >> count);
}

uint32_t teecert_i32_shr_s(uint32_t a, uint64_t count)
{
    uint32_t inv;
    if (!(a >> 31))
        return count >= 32 ? 0 : (uint32_t)(a >> count);
    if (count >= 32)
        return TEECERT_U32_ALL;
    inv = (uint32_t)~a;
    return (uint32_t)~(uint32_t)(inv >> count);
}

uint64_t teecert_i64_shl(uint64_t a, uint64_t count) { return count >= 64 ? 0 : a << count; }
uint64_t teecert_i64_shr_u(uint64_t a, uint64_t count) { return count >= 64 ? 0 : a >> count; }

uint64_t teecert_i64_shr_s(uint64_t a, uint64_t count)
{
    if (!(a >> 63))
        return count >= 64 ? 0 : a >> count;
    if (count >= 64)
        return TEECERT_U64_ALL;
    return ~(~a >> count);
}

/* -------------------------------------------------------------------- bit counts */

/* The compilers' builtins where there are some (one instruction: bsr/lzcnt, clz); the
   portable versions below branch on the data, which random operands mispredict: they
   cost the int -> float conversions, which normalize with clz, about 20 ns a vector. */
#if defined(__GNUC__) || defined(__clang__)
static unsigned teecert_io_clz64(uint64_t x)
{
    return x == 0 ? 64u : (unsigned)__builtin_clzll((unsigned long long)x);
}

static unsigned teecert_io_ctz64(uint64_t x)
{
    return x == 0 ? 64u : (unsigned)__builtin_ctzll((unsigned long long)x);
}
#else
static unsigned teecert_io_clz64(uint64_t x)
{
    unsigned n = 0;
    if (x == 0)
        return 64;
    if (!(x >> 32)) { n += 32; x <<= 32; }
    if (!(x >> 48)) { n += 16; x <<= 16; }
    if (!(x >> 56)) { n += 8; x <<= 8; }
    if (!(x >> 60)) { n += 4; x <<= 4; }
    if (!(x >> 62)) { n += 2; x <<= 2; }
    if (!(x >> 63)) { n += 1; }
    return n;
}

static unsigned teecert_io_ctz64(uint64_t x)
{
    unsigned n = 0;
    if (x == 0)
        return 64;
    if (!(x & UINT64_C(0xffffffff))) { n += 32; x >>= 32; }
    if (!(x & UINT64_C(0xffff))) { n += 16; x >>= 16; }
    if (!(x & UINT64_C(0xff))) { n += 8; x >>= 8; }
    if (!(x & UINT64_C(0xf))) { n += 4; x >>= 4; }
    if (!(x & UINT64_C(0x3))) { n += 2; x >>= 2; }
    if (!(x & UINT64_C(0x1))) { n += 1; }
    return n;
}
#endif

static unsigned teecert_io_popcnt64(uint64_t x)
{
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

static unsigned teecert_io_bitlen64(uint64_t x) { return 64 - teecert_io_clz64(x); }

uint32_t teecert_i32_clz(uint32_t a) { return teecert_io_clz64(a) - 32; }
uint32_t teecert_i32_ctz(uint32_t a) { return a == 0 ? 32 : teecert_io_ctz64(a); }
uint32_t teecert_i32_popcnt(uint32_t a) { return teecert_io_popcnt64(a); }
uint64_t teecert_i64_clz(uint64_t a) { return teecert_io_clz64(a); }
uint64_t teecert_i64_ctz(uint64_t a) { return teecert_io_ctz64(a); }
uint64_t teecert_i64_popcnt(uint64_t a) { return teecert_io_popcnt64(a); }

/* ------------------------------------------------------- saturating float -> int */

/*
 * Each bound is a power of two (or a power of two plus one below -2^31), exactly
 * representable in binary64, and a binary32 argument is widened to double exactly,
 * so every comparison is exact.  Only a value whose truncation fits reaches the
 * cast, which then truncates toward zero whatever the rounding mode.  The NaN test
 * x != x is the one consensus code would write; -ffinite-math-only may fold it, and
 * catching such a build is the point of the suites.
 */
static double teecert_io_f64_of(uint64_t bits)
{
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static double teecert_io_f32_of(uint32_t bits)
{
    float x;
    memcpy(&x, &bits, sizeof x);
    return (double)x;
}

static uint32_t teecert_io_sat_i32(double x)
{
    if (x != x)
        return 0;
    if (x <= -2147483649.0) /* truncation below -2^31 */
        return UINT32_C(0x80000000);
    if (x >= 2147483648.0)
        return UINT32_C(0x7fffffff);
    return (uint32_t)(int32_t)x; /* int32_t -> uint32_t: the two's-complement pattern */
}

static uint64_t teecert_io_sat_i64(double x)
{
    if (x != x)
        return 0;
    if (x < -9223372036854775808.0) /* the next double below -2^63 is -2^63 - 2048 */
        return UINT64_C(0x8000000000000000);
    if (x >= 9223372036854775808.0)
        return UINT64_C(0x7fffffffffffffff);
    return (uint64_t)(int64_t)x;
}

static uint32_t teecert_io_sat_u32(double x)
{
    if (x != x || x < 1.0) /* negative, or truncates to 0 (including -0.99...) */
        return 0;
    if (x >= 4294967296.0)
        return TEECERT_U32_ALL;
    return (uint32_t)x;
}

static uint64_t teecert_io_sat_u64(double x)
{
    if (x != x || x < 1.0)
        return 0;
    if (x >= 18446744073709551616.0)
        return TEECERT_U64_ALL;
    return (uint64_t)x;
}

uint32_t teecert_f64_to_i32_sat(uint64_t bits) { return teecert_io_sat_i32(teecert_io_f64_of(bits)); }
uint64_t teecert_f64_to_i64_sat(uint64_t bits) { return teecert_io_sat_i64(teecert_io_f64_of(bits)); }
uint32_t teecert_f64_to_u32_sat(uint64_t bits) { return teecert_io_sat_u32(teecert_io_f64_of(bits)); }
uint64_t teecert_f64_to_u64_sat(uint64_t bits) { return teecert_io_sat_u64(teecert_io_f64_of(bits)); }
uint32_t teecert_f32_to_i32_sat(uint32_t bits) { return teecert_io_sat_i32(teecert_io_f32_of(bits)); }
uint64_t teecert_f32_to_i64_sat(uint32_t bits) { return teecert_io_sat_i64(teecert_io_f32_of(bits)); }
uint32_t teecert_f32_to_u32_sat(uint32_t bits) { return teecert_io_sat_u32(teecert_io_f32_of(bits)); }
uint64_t teecert_f32_to_u64_sat(uint32_t bits) { return teecert_io_sat_u64(teecert_io_f32_of(bits)); }

/* ------------------------------------------------------- rounding to a float format */

struct teecert_io_fmt {
    unsigned prec;      /* significand bits, implicit bit included */
    unsigned frac_bits; /* prec - 1 */
    long qmin;          /* weight 2^qmin of the last bit of a subnormal */
    long qmax;          /* weight of the last bit of the largest binade */
    uint64_t inf, max_finite, sign;
};

static const struct teecert_io_fmt teecert_io_binary64 = {
    53, 52, -1074, 971, UINT64_C(0x7ff0000000000000), UINT64_C(0x7fefffffffffffff),
    UINT64_C(0x8000000000000000)};
static const struct teecert_io_fmt teecert_io_binary32 = {
    24, 23, -149, 104, UINT64_C(0x7f800000), UINT64_C(0x7f7fffff), UINT64_C(0x80000000)};

/*
 * The bit pattern of (-1)^neg * (q + f) * 2^x rounded to the format in direction
 * rnd, where q > 0 and 0 <= f < 1 with f != 0 exactly when sticky is set.
 *
 * q is first normalized to 64 bits, so that at least 64 - prec >= 11 bits fall below
 * the result's last bit and a sticky fraction always lies below the rounding bit.
 * The result's quantum is qe = max(x + 64 - prec, qmin): the clamp gives gradual
 * underflow.  The encoding bits = ((qe - qmin) << frac_bits) + sig holds for
 * subnormals (qe = qmin, sig < 2^frac_bits) and normal numbers alike (the implicit
 * bit of sig adds one to the exponent field), and a rounding carry to 2^prec moves
 * into the next binade, or to the infinity's pattern, by itself.
 */
static uint64_t teecert_io_round(const struct teecert_io_fmt *fmt, int neg, uint64_t q, long x,
                                 int sticky, int rnd)
{
    unsigned n = teecert_io_bitlen64(q);
    uint64_t sig, half, rest, bits, sign = neg ? fmt->sign : 0;
    long qe;
    unsigned long sh;
    int inexact, up;

    if (n < 64) {
        q <<= 64 - n;
        x -= (long)(64 - n);
    }
    qe = x + 64 - (long)fmt->prec;
    if (qe < fmt->qmin)
        qe = fmt->qmin;
    sh = (unsigned long)(qe - x);
    if (sh > 64) { /* below half the smallest subnormal */
        sig = 0;
        half = 0;
        rest = 1;
    } else if (sh == 64) {
        sig = 0;
        half = q >> 63;
        rest = q & ~(UINT64_C(1) << 63);
    } else {
        sig = q >> sh;
        half = (q >> (sh - 1)) & 1;
        rest = q & ((UINT64_C(1) << (sh - 1)) - 1);
    }
    inexact = half || rest || sticky;
    switch (rnd) {
    case TEECERT_INTOPS_RTZ:
        up = 0;
        break;
    case TEECERT_INTOPS_RUP:
        up = inexact && !neg;
        break;
    case TEECERT_INTOPS_RDN:
        up = inexact && neg;
        break;
    default: /* TEECERT_INTOPS_RNE */
        up = half && (rest || sticky || (sig & 1));
        break;
    }
    sig += (uint64_t)up;
    if (qe > fmt->qmax)
        goto overflow;
    bits = ((uint64_t)(qe - fmt->qmin) << fmt->frac_bits) + sig;
    if (bits >= fmt->inf)
        goto overflow;
    return bits | sign;
overflow:
    switch (rnd) {
    case TEECERT_INTOPS_RTZ:
        return fmt->max_finite | sign;
    case TEECERT_INTOPS_RUP:
        return (neg ? fmt->max_finite : fmt->inf) | sign;
    case TEECERT_INTOPS_RDN:
        return (neg ? fmt->inf : fmt->max_finite) | sign;
    default:
        return fmt->inf | sign;
    }
}

/* ---------------------------------------------------------------- int -> float */

static uint64_t teecert_io_from_int(const struct teecert_io_fmt *fmt, int neg, uint64_t mag, int rnd)
{
    if (mag == 0)
        return 0; /* an integer zero is +0 in every direction */
    if (rnd < TEECERT_INTOPS_RNE || rnd > TEECERT_INTOPS_RDN)
        rnd = TEECERT_INTOPS_RNE;
    return teecert_io_round(fmt, neg, mag, 0, 0, rnd);
}

static uint64_t teecert_io_mag32(uint32_t a) { return (a >> 31) ? (uint64_t)(uint32_t)(0u - a) : a; }
static uint64_t teecert_io_mag64(uint64_t a) { return (a >> 63) ? (uint64_t)0 - a : a; }

uint64_t teecert_i32_to_f64(uint32_t a, int rnd)
{
    return teecert_io_from_int(&teecert_io_binary64, (int)(a >> 31), teecert_io_mag32(a), rnd);
}

uint64_t teecert_i64_to_f64(uint64_t a, int rnd)
{
    return teecert_io_from_int(&teecert_io_binary64, (int)(a >> 63), teecert_io_mag64(a), rnd);
}

uint64_t teecert_u64_to_f64(uint64_t a, int rnd)
{
    return teecert_io_from_int(&teecert_io_binary64, 0, a, rnd);
}

uint32_t teecert_i32_to_f32(uint32_t a, int rnd)
{
    return (uint32_t)teecert_io_from_int(&teecert_io_binary32, (int)(a >> 31), teecert_io_mag32(a),
                                         rnd);
}

uint32_t teecert_i64_to_f32(uint64_t a, int rnd)
{
    return (uint32_t)teecert_io_from_int(&teecert_io_binary32, (int)(a >> 63), teecert_io_mag64(a),
                                         rnd);
}

uint32_t teecert_u64_to_f32(uint64_t a, int rnd)
{
    return (uint32_t)teecert_io_from_int(&teecert_io_binary32, 0, a, rnd);
}

/* ------------------------------------------------------------------------ bignum */

/*
 * Unsigned big integers of up to TEECERT_BN_LIMBS 32-bit limbs, least significant
 * first, on the stack, for the exact fallback of teecert_f64_to_dec (further down,
 * after f64.from_dec, whose powers of five it uses; f64.from_dec has its own big
 * integers).  The largest numbers are m * 10^341 for a subnormal m, below 2^1186 (38
 * limbs); the array has room to spare.  An operation that would not fit sets
 * `overflow` instead of writing past the array; the conversion reports that as an
 * internal error (it cannot happen within the bound above, and the tests convert
 * every binade).
 */
#define TEECERT_BN_LIMBS 128

typedef struct {
    uint32_t d[TEECERT_BN_LIMBS];
    size_t n;     /* limbs in use: d[n - 1] != 0, or n == 0 for zero */
    int overflow; /* a result did not fit */
} teecert_bn;

static const uint32_t teecert_io_pow10_u32[10] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u};

static void teecert_bn_set_u64(teecert_bn *x, uint64_t v)
{
    x->d[0] = (uint32_t)v;
    x->d[1] = (uint32_t)(v >> 32);
    x->n = x->d[1] ? 2 : x->d[0] ? 1 : 0;
    x->overflow = 0;
}

static void teecert_bn_trim(teecert_bn *x)
{
    while (x->n > 0 && x->d[x->n - 1] == 0)
        x->n--;
}

/* x = x * m + add */
static void teecert_bn_mul_add_small(teecert_bn *x, uint32_t m, uint32_t add)
{
    uint64_t carry = add;
    size_t i;
    for (i = 0; i < x->n; i++) {
        uint64_t t = (uint64_t)x->d[i] * m + carry;
        x->d[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry) {
        if (x->n == TEECERT_BN_LIMBS) {
            x->overflow = 1;
            return;
        }
        x->d[x->n++] = (uint32_t)carry;
    }
}

static void teecert_bn_mul_pow10(teecert_bn *x, unsigned long p)
{
    for (; p >= 9; p -= 9)
        teecert_bn_mul_add_small(x, 1000000000u, 0);
    if (p > 0)
        teecert_bn_mul_add_small(x, teecert_io_pow10_u32[p], 0);
}

/* x = x / dv; returns the remainder */
static uint32_t teecert_bn_div_small(teecert_bn *x, uint32_t dv)
{
    uint64_t rem = 0;
    size_t i = x->n;
    while (i-- > 0) {
        uint64_t t = (rem << 32) | x->d[i];
        x->d[i] = (uint32_t)(t / dv);
        rem = t % dv;
    }
    teecert_bn_trim(x);
    return (uint32_t)rem;
}

/* x = x / 10^p; returns whether the remainder is non-zero */
static int teecert_bn_div_pow10(teecert_bn *x, unsigned long p)
{
    int sticky = 0;
    for (; p >= 9; p -= 9)
        sticky |= teecert_bn_div_small(x, 1000000000u) != 0;
    if (p > 0)
        sticky |= teecert_bn_div_small(x, teecert_io_pow10_u32[p]) != 0;
    return sticky;
}

static void teecert_bn_shl(teecert_bn *x, unsigned long bits)
{
    size_t limbs = (size_t)(bits / 32), i;
    unsigned b = (unsigned)(bits % 32);
    size_t n = x->n;
    if (n == 0)
        return;
    if (n + limbs + 1 > TEECERT_BN_LIMBS) {
        x->overflow = 1;
        return;
    }
    if (b == 0) {
        x->d[n + limbs] = 0;
        for (i = n; i-- > 0;)
            x->d[i + limbs] = x->d[i];
    } else {
        x->d[n + limbs] = x->d[n - 1] >> (32 - b);
        for (i = n - 1; i > 0; i--)
            x->d[i + limbs] = (x->d[i] << b) | (x->d[i - 1] >> (32 - b));
        x->d[limbs] = x->d[0] << b;
    }
    for (i = 0; i < limbs; i++)
        x->d[i] = 0;
    x->n = n + limbs + 1;
    teecert_bn_trim(x);
}

static uint32_t teecert_bn_limb(const teecert_bn *x, size_t i) { return i < x->n ? x->d[i] : 0; }

/* bits [pos, pos + 64) of x */
static uint64_t teecert_bn_bits64(const teecert_bn *x, unsigned long pos)
{
    size_t li = (size_t)(pos / 32);
    unsigned off = (unsigned)(pos % 32);
    uint64_t lo = teecert_bn_limb(x, li) | ((uint64_t)teecert_bn_limb(x, li + 1) << 32);
    uint64_t hi = teecert_bn_limb(x, li + 2);
    return off ? (lo >> off) | (hi << (64 - off)) : lo;
}

/* whether any of the bits [0, pos) of x is set */
static int teecert_bn_any_below(const teecert_bn *x, unsigned long pos)
{
    size_t li = (size_t)(pos / 32), i;
    unsigned off = (unsigned)(pos % 32);
    for (i = 0; i < li && i < x->n; i++)
        if (x->d[i])
            return 1;
    return off && li < x->n && (x->d[li] & ((UINT32_C(1) << off) - 1)) != 0;
}

/* -------------------------------------------------------------- decimal -> f64 */

/*
 * teecert_f64_from_dec works in three exact stages; each later stage runs only when
 * the earlier one cannot decide.  Everything is integer arithmetic, so neither the
 * caller's rounding mode, nor FTZ/DAZ, nor x87 excess precision can change a result
 * (which is also why there is no "Clinger" path multiplying doubles: the exact
 * integer product below costs about the same and does not depend on the FPU).
 * Hand-written rather than strtod for the reasons at the top of this file: strtod
 * reads the locale's decimal point and is libc-dependent on exactly the hard inputs.
 *
 * Let the significant digits (leading and trailing zeros dropped) be the integer D
 * with nd digits, the value D * 10^e10 with its leading digit of weight 10^p10.
 *
 * 1. A value with p10 > 308 is infinite, one with p10 < -324 rounds to zero.
 *
 * 2. w = the first min(nd, 19) digits (w < 10^19 < 2^64), the value W * 10^q with
 *    W = w when nd <= 19, w < W < w + 1 otherwise (the last digit is non-zero), and
 *    -342 <= q <= 308.  With 5^q = M * 2^b5(q), M in [2^127, 2^128), the table holds
 *    m = floor(M) (exact for 0 <= q <= 55), so the value is W * M * 2^(q + b5(q))
 *    and lies in [w * m, (w + t) * (m + i)] * 2^(q + b5(q)), t and i being 1 where W
 *    or M is inexact.  Both ends are 192-bit integers, rounded exactly; rounding is
 *    monotonic, so if they round to the same double, so does the value (when t = i = 0
 *    the ends coincide and the rounding is simply exact).  This is Eisel and Lemire's
 *    128-bit-product method with the test for "undecidable" made an exact interval.
 *
 * 3. Otherwise the interval is narrow (relative width below 2^-59, against a spacing
 *    of 2^-53 between rounding boundaries), so it holds exactly one boundary and the
 *    two ends round to adjacent doubles b and b + 1 (as bit patterns); the boundary is
 *    their midpoint h = M2 * 2^g, M2 odd.  The value is compared with h exactly:
 *    h is a multiple of 10^c, c = min(g, 0), so only digits of weight >= 10^c matter
 *    as digits: with A the value cut below that weight, A < h gives value < h and
 *    A > h gives value > h (both multiples of 10^c, the rest < 10^c), and A = h gives
 *    value > h exactly when a non-zero digit was cut.  At most 769 digits remain (the
 *    worst case is next to the smallest normal numbers; cf. the 768-digit bound of
 *    docs/ops-integers.md), and A * 10^(-c) against M2 * 2^g * 10^(-c) is one
 *    big-integer comparison after moving the powers of 2 and 5 to the side where
 *    they are integers.
 */

/* ---------------------------------------------------- 64 x 64 -> 128-bit products */

#if defined(__SIZEOF_INT128__) && !defined(TEECERT_NO_INT128)
#define TEECERT_HAVE_U128 1
__extension__ typedef unsigned __int128 teecert_u128;
#endif

/* the low 64 bits of a * b; the high 64 bits in *hi */
static uint64_t teecert_mul64(uint64_t a, uint64_t b, uint64_t *hi)
{
#ifdef TEECERT_HAVE_U128
    teecert_u128 p = (teecert_u128)a * b;
    *hi = (uint64_t)(p >> 64);
    return (uint64_t)p;
#else
    uint64_t al = a & TEECERT_U32_ALL, ah = a >> 32, bl = b & TEECERT_U32_ALL, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & TEECERT_U32_ALL) + (hl & TEECERT_U32_ALL);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return (mid << 32) | (ll & TEECERT_U32_ALL);
#endif
}

/* ---------------------------------------------------------- powers of five, 128 bits */

#define TEECERT_DEC_QMIN (-342)
#define TEECERT_DEC_QMAX 308

/*
 * teecert_dec_pow5[q + 342] = {high, low} 64 bits of floor(5^q * 2^-b5(q)), which
 * lies in [2^127, 2^128), for q = -342 .. 308; b5(q) = floor(q * log2(5)) - 127.
 * Generated with:
 *   python3 -c 'for q in range(-342,309): v=5**abs(q); b=v.bit_length(); m=(v<<(128-b)
 *   if b<=128 else v>>(b-128)) if q>=0 else (1<<(b+127))//v; print("    {UINT64_C(0x%016x),
 *   UINT64_C(0x%016x)}," % (m>>64, m&(2**64-1)))'
 * (for q < 0, 5^q = 1/v with v in [2^(b-1), 2^b), so 2^(b+127)/v lies in (2^127, 2^128)).
 */
static const uint64_t teecert_dec_pow5[TEECERT_DEC_QMAX - TEECERT_DEC_QMIN + 1][2] = {
    {UINT64_C(0xeef453d6923bd65a), UINT64_C(0x113faa2906a13b3f)},
    {UINT64_C(0x9558b4661b6565f8), UINT64_C(0x4ac7ca59a424c507)},
    {UINT64_C(0xbaaee17fa23ebf76), UINT64_C(0x5d79bcf00d2df649)},
    {UINT64_C(0xe95a99df8ace6f53), UINT64_C(0xf4d82c2c107973dc)},
    {UINT64_C(0x91d8a02bb6c10594), UINT64_C(0x79071b9b8a4be869)},
    {UINT64_C(0xb64ec836a47146f9), UINT64_C(0x9748e2826cdee284)},
    {UINT64_C(0xe3e27a444d8d98b7), UINT64_C(0xfd1b1b2308169b25)},
    {UINT64_C(0x8e6d8c6ab0787f72), UINT64_C(0xfe30f0f5e50e20f7)},
    {UINT64_C(0xb208ef855c969f4f), UINT64_C(0xbdbd2d335e51a935)},
    {UINT64_C(0xde8b2b66b3bc4723), UINT64_C(0xad2c788035e61382)},
    {UINT64_C(0x8b16fb203055ac76), UINT64_C(0x4c3bcb5021afcc31)},
    {UINT64_C(0xaddcb9e83c6b1793), UINT64_C(0xdf4abe242a1bbf3d)},
    {UINT64_C(0xd953e8624b85dd78), UINT64_C(0xd71d6dad34a2af0d)},
    {UINT64_C(0x87d4713d6f33aa6b), UINT64_C(0x8672648c40e5ad68)},
    {UINT64_C(0xa9c98d8ccb009506), UINT64_C(0x680efdaf511f18c2)},
    {UINT64_C(0xd43bf0effdc0ba48), UINT64_C(0x0212bd1b2566def2)},
    {UINT64_C(0x84a57695fe98746d), UINT64_C(0x014bb630f7604b57)},
    {UINT64_C(0xa5ced43b7e3e9188), UINT64_C(0x419ea3bd35385e2d)},
    {UINT64_C(0xcf42894a5dce35ea), UINT64_C(0x52064cac828675b9)},
    {UINT64_C(0x818995ce7aa0e1b2), UINT64_C(0x7343efebd1940993)},
    {UINT64_C(0xa1ebfb4219491a1f), UINT64_C(0x1014ebe6c5f90bf8)},
    {UINT64_C(0xca66fa129f9b60a6), UINT64_C(0xd41a26e077774ef6)},
    {UINT64_C(0xfd00b897478238d0), UINT64_C(0x8920b098955522b4)},
    {UINT64_C(0x9e20735e8cb16382), UINT64_C(0x55b46e5f5d5535b0)},
    {UINT64_C(0xc5a890362fddbc62), UINT64_C(0xeb2189f734aa831d)},
    {UINT64_C(0xf712b443bbd52b7b), UINT64_C(0xa5e9ec7501d523e4)},
    {UINT64_C(0x9a6bb0aa55653b2d), UINT64_C(0x47b233c92125366e)},
    {UINT64_C(0xc1069cd4eabe89f8), UINT64_C(0x999ec0bb696e840a)},
    {UINT64_C(0xf148440a256e2c76), UINT64_C(0xc00670ea43ca250d)},
    {UINT64_C(0x96cd2a865764dbca), UINT64_C(0x380406926a5e5728)},
    {UINT64_C(0xbc807527ed3e12bc), UINT64_C(0xc605083704f5ecf2)},
    {UINT64_C(0xeba09271e88d976b), UINT64_C(0xf7864a44c633682e)},
    {UINT64_C(0x93445b8731587ea3), UINT64_C(0x7ab3ee6afbe0211d)},
    {UINT64_C(0xb8157268fdae9e4c), UINT64_C(0x5960ea05bad82964)},
    {UINT64_C(0xe61acf033d1a45df), UINT64_C(0x6fb92487298e33bd)},
    {UINT64_C(0x8fd0c16206306bab), UINT64_C(0xa5d3b6d479f8e056)},
    {UINT64_C(0xb3c4f1ba87bc8696), UINT64_C(0x8f48a4899877186c)},
    {UINT64_C(0xe0b62e2929aba83c), UINT64_C(0x331acdabfe94de87)},
    {UINT64_C(0x8c71dcd9ba0b4925), UINT64_C(0x9ff0c08b7f1d0b14)},
    {UINT64_C(0xaf8e5410288e1b6f), UINT64_C(0x07ecf0ae5ee44dd9)},
    {UINT64_C(0xdb71e91432b1a24a), UINT64_C(0xc9e82cd9f69d6150)},
    {UINT64_C(0x892731ac9faf056e), UINT64_C(0xbe311c083a225cd2)},
    {UINT64_C(0xab70fe17c79ac6ca), UINT64_C(0x6dbd630a48aaf406)},
    {UINT64_C(0xd64d3d9db981787d), UINT64_C(0x092cbbccdad5b108)},
    {UINT64_C(0x85f0468293f0eb4e), UINT64_C(0x25bbf56008c58ea5)},
    {UINT64_C(0xa76c582338ed2621), UINT64_C(0xaf2af2b80af6f24e)},
    {UINT64_C(0xd1476e2c07286faa), UINT64_C(0x1af5af660db4aee1)},
    {UINT64_C(0x82cca4db847945ca), UINT64_C(0x50d98d9fc890ed4d)},
    {UINT64_C(0xa37fce126597973c), UINT64_C(0xe50ff107bab528a0)},
    {UINT64_C(0xcc5fc196fefd7d0c), UINT64_C(0x1e53ed49a96272c8)},
    {UINT64_C(0xff77b1fcbebcdc4f), UINT64_C(0x25e8e89c13bb0f7a)},
    {UINT64_C(0x9faacf3df73609b1), UINT64_C(0x77b191618c54e9ac)},
    {UINT64_C(0xc795830d75038c1d), UINT64_C(0xd59df5b9ef6a2417)},
    {UINT64_C(0xf97ae3d0d2446f25), UINT64_C(0x4b0573286b44ad1d)},
    {UINT64_C(0x9becce62836ac577), UINT64_C(0x4ee367f9430aec32)},
    {UINT64_C(0xc2e801fb244576d5), UINT64_C(0x229c41f793cda73f)},
    {UINT64_C(0xf3a20279ed56d48a), UINT64_C(0x6b43527578c1110f)},
    {UINT64_C(0x9845418c345644d6), UINT64_C(0x830a13896b78aaa9)},
    {UINT64_C(0xbe5691ef416bd60c), UINT64_C(0x23cc986bc656d553)},
    {UINT64_C(0xedec366b11c6cb8f), UINT64_C(0x2cbfbe86b7ec8aa8)},
    {UINT64_C(0x94b3a202eb1c3f39), UINT64_C(0x7bf7d71432f3d6a9)},
    {UINT64_C(0xb9e08a83a5e34f07), UINT64_C(0xdaf5ccd93fb0cc53)},
    {UINT64_C(0xe858ad248f5c22c9), UINT64_C(0xd1b3400f8f9cff68)},
    {UINT64_C(0x91376c36d99995be), UINT64_C(0x23100809b9c21fa1)},
    {UINT64_C(0xb58547448ffffb2d), UINT64_C(0xabd40a0c2832a78a)},
    {UINT64_C(0xe2e69915b3fff9f9), UINT64_C(0x16c90c8f323f516c)},
    {UINT64_C(0x8dd01fad907ffc3b), UINT64_C(0xae3da7d97f6792e3)},
    {UINT64_C(0xb1442798f49ffb4a), UINT64_C(0x99cd11cfdf41779c)},
    {UINT64_C(0xdd95317f31c7fa1d), UINT64_C(0x40405643d711d583)},
    {UINT64_C(0x8a7d3eef7f1cfc52), UINT64_C(0x482835ea666b2572)},
    {UINT64_C(0xad1c8eab5ee43b66), UINT64_C(0xda3243650005eecf)},
    {UINT64_C(0xd863b256369d4a40), UINT64_C(0x90bed43e40076a82)},
    {UINT64_C(0x873e4f75e2224e68), UINT64_C(0x5a7744a6e804a291)},
    {UINT64_C(0xa90de3535aaae202), UINT64_C(0x711515d0a205cb36)},
    {UINT64_C(0xd3515c2831559a83), UINT64_C(0x0d5a5b44ca873e03)},
    {UINT64_C(0x8412d9991ed58091), UINT64_C(0xe858790afe9486c2)},
    {UINT64_C(0xa5178fff668ae0b6), UINT64_C(0x626e974dbe39a872)},
    {UINT64_C(0xce5d73ff402d98e3), UINT64_C(0xfb0a3d212dc8128f)},
    {UINT64_C(0x80fa687f881c7f8e), UINT64_C(0x7ce66634bc9d0b99)},
    {UINT64_C(0xa139029f6a239f72), UINT64_C(0x1c1fffc1ebc44e80)},
    {UINT64_C(0xc987434744ac874e), UINT64_C(0xa327ffb266b56220)},
    {UINT64_C(0xfbe9141915d7a922), UINT64_C(0x4bf1ff9f0062baa8)},
    {UINT64_C(0x9d71ac8fada6c9b5), UINT64_C(0x6f773fc3603db4a9)},
    {UINT64_C(0xc4ce17b399107c22), UINT64_C(0xcb550fb4384d21d3)},
    {UINT64_C(0xf6019da07f549b2b), UINT64_C(0x7e2a53a146606a48)},
    {UINT64_C(0x99c102844f94e0fb), UINT64_C(0x2eda7444cbfc426d)},
    {UINT64_C(0xc0314325637a1939), UINT64_C(0xfa911155fefb5308)},
    {UINT64_C(0xf03d93eebc589f88), UINT64_C(0x793555ab7eba27ca)},
    {UINT64_C(0x96267c7535b763b5), UINT64_C(0x4bc1558b2f3458de)},
    {UINT64_C(0xbbb01b9283253ca2), UINT64_C(0x9eb1aaedfb016f16)},
    {UINT64_C(0xea9c227723ee8bcb), UINT64_C(0x465e15a979c1cadc)},
    {UINT64_C(0x92a1958a7675175f), UINT64_C(0x0bfacd89ec191ec9)},
    {UINT64_C(0xb749faed14125d36), UINT64_C(0xcef980ec671f667b)},
    {UINT64_C(0xe51c79a85916f484), UINT64_C(0x82b7e12780e7401a)},
    {UINT64_C(0x8f31cc0937ae58d2), UINT64_C(0xd1b2ecb8b0908810)},
    {UINT64_C(0xb2fe3f0b8599ef07), UINT64_C(0x861fa7e6dcb4aa15)},
    {UINT64_C(0xdfbdcece67006ac9), UINT64_C(0x67a791e093e1d49a)},
    {UINT64_C(0x8bd6a141006042bd), UINT64_C(0xe0c8bb2c5c6d24e0)},
    {UINT64_C(0xaecc49914078536d), UINT64_C(0x58fae9f773886e18)},
    {UINT64_C(0xda7f5bf590966848), UINT64_C(0xaf39a475506a899e)},
    {UINT64_C(0x888f99797a5e012d), UINT64_C(0x6d8406c952429603)},
    {UINT64_C(0xaab37fd7d8f58178), UINT64_C(0xc8e5087ba6d33b83)},
    {UINT64_C(0xd5605fcdcf32e1d6), UINT64_C(0xfb1e4a9a90880a64)},
    {UINT64_C(0x855c3be0a17fcd26), UINT64_C(0x5cf2eea09a55067f)},
    {UINT64_C(0xa6b34ad8c9dfc06f), UINT64_C(0xf42faa48c0ea481e)},
    {UINT64_C(0xd0601d8efc57b08b), UINT64_C(0xf13b94daf124da26)},
    {UINT64_C(0x823c12795db6ce57), UINT64_C(0x76c53d08d6b70858)},
    {UINT64_C(0xa2cb1717b52481ed), UINT64_C(0x54768c4b0c64ca6e)},
    {UINT64_C(0xcb7ddcdda26da268), UINT64_C(0xa9942f5dcf7dfd09)},
    {UINT64_C(0xfe5d54150b090b02), UINT64_C(0xd3f93b35435d7c4c)},
    {UINT64_C(0x9efa548d26e5a6e1), UINT64_C(0xc47bc5014a1a6daf)},
    {UINT64_C(0xc6b8e9b0709f109a), UINT64_C(0x359ab6419ca1091b)},
    {UINT64_C(0xf867241c8cc6d4c0), UINT64_C(0xc30163d203c94b62)},
    {UINT64_C(0x9b407691d7fc44f8), UINT64_C(0x79e0de63425dcf1d)},
    {UINT64_C(0xc21094364dfb5636), UINT64_C(0x985915fc12f542e4)},
    {UINT64_C(0xf294b943e17a2bc4), UINT64_C(0x3e6f5b7b17b2939d)},
    {UINT64_C(0x979cf3ca6cec5b5a), UINT64_C(0xa705992ceecf9c42)},
    {UINT64_C(0xbd8430bd08277231), UINT64_C(0x50c6ff782a838353)},
    {UINT64_C(0xece53cec4a314ebd), UINT64_C(0xa4f8bf5635246428)},
    {UINT64_C(0x940f4613ae5ed136), UINT64_C(0x871b7795e136be99)},
    {UINT64_C(0xb913179899f68584), UINT64_C(0x28e2557b59846e3f)},
    {UINT64_C(0xe757dd7ec07426e5), UINT64_C(0x331aeada2fe589cf)},
    {UINT64_C(0x9096ea6f3848984f), UINT64_C(0x3ff0d2c85def7621)},
    {UINT64_C(0xb4bca50b065abe63), UINT64_C(0x0fed077a756b53a9)},
    {UINT64_C(0xe1ebce4dc7f16dfb), UINT64_C(0xd3e8495912c62894)},
    {UINT64_C(0x8d3360f09cf6e4bd), UINT64_C(0x64712dd7abbbd95c)},
    {UINT64_C(0xb080392cc4349dec), UINT64_C(0xbd8d794d96aacfb3)},
    {UINT64_C(0xdca04777f541c567), UINT64_C(0xecf0d7a0fc5583a0)},
    {UINT64_C(0x89e42caaf9491b60), UINT64_C(0xf41686c49db57244)},
    {UINT64_C(0xac5d37d5b79b6239), UINT64_C(0x311c2875c522ced5)},
    {UINT64_C(0xd77485cb25823ac7), UINT64_C(0x7d633293366b828b)},
    {UINT64_C(0x86a8d39ef77164bc), UINT64_C(0xae5dff9c02033197)},
    {UINT64_C(0xa8530886b54dbdeb), UINT64_C(0xd9f57f830283fdfc)},
    {UINT64_C(0xd267caa862a12d66), UINT64_C(0xd072df63c324fd7b)},
    {UINT64_C(0x8380dea93da4bc60), UINT64_C(0x4247cb9e59f71e6d)},
    {UINT64_C(0xa46116538d0deb78), UINT64_C(0x52d9be85f074e608)},
    {UINT64_C(0xcd795be870516656), UINT64_C(0x67902e276c921f8b)},
    {UINT64_C(0x806bd9714632dff6), UINT64_C(0x00ba1cd8a3db53b6)},
    {UINT64_C(0xa086cfcd97bf97f3), UINT64_C(0x80e8a40eccd228a4)},
    {UINT64_C(0xc8a883c0fdaf7df0), UINT64_C(0x6122cd128006b2cd)},
    {UINT64_C(0xfad2a4b13d1b5d6c), UINT64_C(0x796b805720085f81)},
    {UINT64_C(0x9cc3a6eec6311a63), UINT64_C(0xcbe3303674053bb0)},
    {UINT64_C(0xc3f490aa77bd60fc), UINT64_C(0xbedbfc4411068a9c)},
    {UINT64_C(0xf4f1b4d515acb93b), UINT64_C(0xee92fb5515482d44)},
    {UINT64_C(0x991711052d8bf3c5), UINT64_C(0x751bdd152d4d1c4a)},
    {UINT64_C(0xbf5cd54678eef0b6), UINT64_C(0xd262d45a78a0635d)},
    {UINT64_C(0xef340a98172aace4), UINT64_C(0x86fb897116c87c34)},
    {UINT64_C(0x9580869f0e7aac0e), UINT64_C(0xd45d35e6ae3d4da0)},
    {UINT64_C(0xbae0a846d2195712), UINT64_C(0x8974836059cca109)},
    {UINT64_C(0xe998d258869facd7), UINT64_C(0x2bd1a438703fc94b)},
    {UINT64_C(0x91ff83775423cc06), UINT64_C(0x7b6306a34627ddcf)},
    {UINT64_C(0xb67f6455292cbf08), UINT64_C(0x1a3bc84c17b1d542)},
    {UINT64_C(0xe41f3d6a7377eeca), UINT64_C(0x20caba5f1d9e4a93)},
    {UINT64_C(0x8e938662882af53e), UINT64_C(0x547eb47b7282ee9c)},
    {UINT64_C(0xb23867fb2a35b28d), UINT64_C(0xe99e619a4f23aa43)},
    {UINT64_C(0xdec681f9f4c31f31), UINT64_C(0x6405fa00e2ec94d4)},
    {UINT64_C(0x8b3c113c38f9f37e), UINT64_C(0xde83bc408dd3dd04)},
    {UINT64_C(0xae0b158b4738705e), UINT64_C(0x9624ab50b148d445)},
    {UINT64_C(0xd98ddaee19068c76), UINT64_C(0x3badd624dd9b0957)},
    {UINT64_C(0x87f8a8d4cfa417c9), UINT64_C(0xe54ca5d70a80e5d6)},
    {UINT64_C(0xa9f6d30a038d1dbc), UINT64_C(0x5e9fcf4ccd211f4c)},
    {UINT64_C(0xd47487cc8470652b), UINT64_C(0x7647c3200069671f)},
    {UINT64_C(0x84c8d4dfd2c63f3b), UINT64_C(0x29ecd9f40041e073)},
    {UINT64_C(0xa5fb0a17c777cf09), UINT64_C(0xf468107100525890)},
    {UINT64_C(0xcf79cc9db955c2cc), UINT64_C(0x7182148d4066eeb4)},
    {UINT64_C(0x81ac1fe293d599bf), UINT64_C(0xc6f14cd848405530)},
    {UINT64_C(0xa21727db38cb002f), UINT64_C(0xb8ada00e5a506a7c)},
    {UINT64_C(0xca9cf1d206fdc03b), UINT64_C(0xa6d90811f0e4851c)},
    {UINT64_C(0xfd442e4688bd304a), UINT64_C(0x908f4a166d1da663)},
    {UINT64_C(0x9e4a9cec15763e2e), UINT64_C(0x9a598e4e043287fe)},
    {UINT64_C(0xc5dd44271ad3cdba), UINT64_C(0x40eff1e1853f29fd)},
    {UINT64_C(0xf7549530e188c128), UINT64_C(0xd12bee59e68ef47c)},
    {UINT64_C(0x9a94dd3e8cf578b9), UINT64_C(0x82bb74f8301958ce)},
    {UINT64_C(0xc13a148e3032d6e7), UINT64_C(0xe36a52363c1faf01)},
    {UINT64_C(0xf18899b1bc3f8ca1), UINT64_C(0xdc44e6c3cb279ac1)},
    {UINT64_C(0x96f5600f15a7b7e5), UINT64_C(0x29ab103a5ef8c0b9)},
    {UINT64_C(0xbcb2b812db11a5de), UINT64_C(0x7415d448f6b6f0e7)},
    {UINT64_C(0xebdf661791d60f56), UINT64_C(0x111b495b3464ad21)},
    {UINT64_C(0x936b9fcebb25c995), UINT64_C(0xcab10dd900beec34)},
    {UINT64_C(0xb84687c269ef3bfb), UINT64_C(0x3d5d514f40eea742)},
    {UINT64_C(0xe65829b3046b0afa), UINT64_C(0x0cb4a5a3112a5112)},
    {UINT64_C(0x8ff71a0fe2c2e6dc), UINT64_C(0x47f0e785eaba72ab)},
    {UINT64_C(0xb3f4e093db73a093), UINT64_C(0x59ed216765690f56)},
    {UINT64_C(0xe0f218b8d25088b8), UINT64_C(0x306869c13ec3532c)},
    {UINT64_C(0x8c974f7383725573), UINT64_C(0x1e414218c73a13fb)},
    {UINT64_C(0xafbd2350644eeacf), UINT64_C(0xe5d1929ef90898fa)},
    {UINT64_C(0xdbac6c247d62a583), UINT64_C(0xdf45f746b74abf39)},
    {UINT64_C(0x894bc396ce5da772), UINT64_C(0x6b8bba8c328eb783)},
    {UINT64_C(0xab9eb47c81f5114f), UINT64_C(0x066ea92f3f326564)},
    {UINT64_C(0xd686619ba27255a2), UINT64_C(0xc80a537b0efefebd)},
    {UINT64_C(0x8613fd0145877585), UINT64_C(0xbd06742ce95f5f36)},
    {UINT64_C(0xa798fc4196e952e7), UINT64_C(0x2c48113823b73704)},
    {UINT64_C(0xd17f3b51fca3a7a0), UINT64_C(0xf75a15862ca504c5)},
    {UINT64_C(0x82ef85133de648c4), UINT64_C(0x9a984d73dbe722fb)},
    {UINT64_C(0xa3ab66580d5fdaf5), UINT64_C(0xc13e60d0d2e0ebba)},
    {UINT64_C(0xcc963fee10b7d1b3), UINT64_C(0x318df905079926a8)},
    {UINT64_C(0xffbbcfe994e5c61f), UINT64_C(0xfdf17746497f7052)},
    {UINT64_C(0x9fd561f1fd0f9bd3), UINT64_C(0xfeb6ea8bedefa633)},
    {UINT64_C(0xc7caba6e7c5382c8), UINT64_C(0xfe64a52ee96b8fc0)},
    {UINT64_C(0xf9bd690a1b68637b), UINT64_C(0x3dfdce7aa3c673b0)},
    {UINT64_C(0x9c1661a651213e2d), UINT64_C(0x06bea10ca65c084e)},
    {UINT64_C(0xc31bfa0fe5698db8), UINT64_C(0x486e494fcff30a62)},
    {UINT64_C(0xf3e2f893dec3f126), UINT64_C(0x5a89dba3c3efccfa)},
    {UINT64_C(0x986ddb5c6b3a76b7), UINT64_C(0xf89629465a75e01c)},
    {UINT64_C(0xbe89523386091465), UINT64_C(0xf6bbb397f1135823)},
    {UINT64_C(0xee2ba6c0678b597f), UINT64_C(0x746aa07ded582e2c)},
    {UINT64_C(0x94db483840b717ef), UINT64_C(0xa8c2a44eb4571cdc)},
    {UINT64_C(0xba121a4650e4ddeb), UINT64_C(0x92f34d62616ce413)},
    {UINT64_C(0xe896a0d7e51e1566), UINT64_C(0x77b020baf9c81d17)},
    {UINT64_C(0x915e2486ef32cd60), UINT64_C(0x0ace1474dc1d122e)},
    {UINT64_C(0xb5b5ada8aaff80b8), UINT64_C(0x0d819992132456ba)},
    {UINT64_C(0xe3231912d5bf60e6), UINT64_C(0x10e1fff697ed6c69)},
    {UINT64_C(0x8df5efabc5979c8f), UINT64_C(0xca8d3ffa1ef463c1)},
    {UINT64_C(0xb1736b96b6fd83b3), UINT64_C(0xbd308ff8a6b17cb2)},
    {UINT64_C(0xddd0467c64bce4a0), UINT64_C(0xac7cb3f6d05ddbde)},
    {UINT64_C(0x8aa22c0dbef60ee4), UINT64_C(0x6bcdf07a423aa96b)},
    {UINT64_C(0xad4ab7112eb3929d), UINT64_C(0x86c16c98d2c953c6)},
    {UINT64_C(0xd89d64d57a607744), UINT64_C(0xe871c7bf077ba8b7)},
    {UINT64_C(0x87625f056c7c4a8b), UINT64_C(0x11471cd764ad4972)},
    {UINT64_C(0xa93af6c6c79b5d2d), UINT64_C(0xd598e40d3dd89bcf)},
    {UINT64_C(0xd389b47879823479), UINT64_C(0x4aff1d108d4ec2c3)},
    {UINT64_C(0x843610cb4bf160cb), UINT64_C(0xcedf722a585139ba)},
    {UINT64_C(0xa54394fe1eedb8fe), UINT64_C(0xc2974eb4ee658828)},
    {UINT64_C(0xce947a3da6a9273e), UINT64_C(0x733d226229feea32)},
    {UINT64_C(0x811ccc668829b887), UINT64_C(0x0806357d5a3f525f)},
    {UINT64_C(0xa163ff802a3426a8), UINT64_C(0xca07c2dcb0cf26f7)},
    {UINT64_C(0xc9bcff6034c13052), UINT64_C(0xfc89b393dd02f0b5)},
    {UINT64_C(0xfc2c3f3841f17c67), UINT64_C(0xbbac2078d443ace2)},
    {UINT64_C(0x9d9ba7832936edc0), UINT64_C(0xd54b944b84aa4c0d)},
    {UINT64_C(0xc5029163f384a931), UINT64_C(0x0a9e795e65d4df11)},
    {UINT64_C(0xf64335bcf065d37d), UINT64_C(0x4d4617b5ff4a16d5)},
    {UINT64_C(0x99ea0196163fa42e), UINT64_C(0x504bced1bf8e4e45)},
    {UINT64_C(0xc06481fb9bcf8d39), UINT64_C(0xe45ec2862f71e1d6)},
    {UINT64_C(0xf07da27a82c37088), UINT64_C(0x5d767327bb4e5a4c)},
    {UINT64_C(0x964e858c91ba2655), UINT64_C(0x3a6a07f8d510f86f)},
    {UINT64_C(0xbbe226efb628afea), UINT64_C(0x890489f70a55368b)},
    {UINT64_C(0xeadab0aba3b2dbe5), UINT64_C(0x2b45ac74ccea842e)},
    {UINT64_C(0x92c8ae6b464fc96f), UINT64_C(0x3b0b8bc90012929d)},
    {UINT64_C(0xb77ada0617e3bbcb), UINT64_C(0x09ce6ebb40173744)},
    {UINT64_C(0xe55990879ddcaabd), UINT64_C(0xcc420a6a101d0515)},
    {UINT64_C(0x8f57fa54c2a9eab6), UINT64_C(0x9fa946824a12232d)},
    {UINT64_C(0xb32df8e9f3546564), UINT64_C(0x47939822dc96abf9)},
    {UINT64_C(0xdff9772470297ebd), UINT64_C(0x59787e2b93bc56f7)},
    {UINT64_C(0x8bfbea76c619ef36), UINT64_C(0x57eb4edb3c55b65a)},
    {UINT64_C(0xaefae51477a06b03), UINT64_C(0xede622920b6b23f1)},
    {UINT64_C(0xdab99e59958885c4), UINT64_C(0xe95fab368e45eced)},
    {UINT64_C(0x88b402f7fd75539b), UINT64_C(0x11dbcb0218ebb414)},
    {UINT64_C(0xaae103b5fcd2a881), UINT64_C(0xd652bdc29f26a119)},
    {UINT64_C(0xd59944a37c0752a2), UINT64_C(0x4be76d3346f0495f)},
    {UINT64_C(0x857fcae62d8493a5), UINT64_C(0x6f70a4400c562ddb)},
    {UINT64_C(0xa6dfbd9fb8e5b88e), UINT64_C(0xcb4ccd500f6bb952)},
    {UINT64_C(0xd097ad07a71f26b2), UINT64_C(0x7e2000a41346a7a7)},
    {UINT64_C(0x825ecc24c873782f), UINT64_C(0x8ed400668c0c28c8)},
    {UINT64_C(0xa2f67f2dfa90563b), UINT64_C(0x728900802f0f32fa)},
    {UINT64_C(0xcbb41ef979346bca), UINT64_C(0x4f2b40a03ad2ffb9)},
    {UINT64_C(0xfea126b7d78186bc), UINT64_C(0xe2f610c84987bfa8)},
    {UINT64_C(0x9f24b832e6b0f436), UINT64_C(0x0dd9ca7d2df4d7c9)},
    {UINT64_C(0xc6ede63fa05d3143), UINT64_C(0x91503d1c79720dbb)},
    {UINT64_C(0xf8a95fcf88747d94), UINT64_C(0x75a44c6397ce912a)},
    {UINT64_C(0x9b69dbe1b548ce7c), UINT64_C(0xc986afbe3ee11aba)},
    {UINT64_C(0xc24452da229b021b), UINT64_C(0xfbe85badce996168)},
    {UINT64_C(0xf2d56790ab41c2a2), UINT64_C(0xfae27299423fb9c3)},
    {UINT64_C(0x97c560ba6b0919a5), UINT64_C(0xdccd879fc967d41a)},
    {UINT64_C(0xbdb6b8e905cb600f), UINT64_C(0x5400e987bbc1c920)},
    {UINT64_C(0xed246723473e3813), UINT64_C(0x290123e9aab23b68)},
    {UINT64_C(0x9436c0760c86e30b), UINT64_C(0xf9a0b6720aaf6521)},
    {UINT64_C(0xb94470938fa89bce), UINT64_C(0xf808e40e8d5b3e69)},
    {UINT64_C(0xe7958cb87392c2c2), UINT64_C(0xb60b1d1230b20e04)},
    {UINT64_C(0x90bd77f3483bb9b9), UINT64_C(0xb1c6f22b5e6f48c2)},
    {UINT64_C(0xb4ecd5f01a4aa828), UINT64_C(0x1e38aeb6360b1af3)},
    {UINT64_C(0xe2280b6c20dd5232), UINT64_C(0x25c6da63c38de1b0)},
    {UINT64_C(0x8d590723948a535f), UINT64_C(0x579c487e5a38ad0e)},
    {UINT64_C(0xb0af48ec79ace837), UINT64_C(0x2d835a9df0c6d851)},
    {UINT64_C(0xdcdb1b2798182244), UINT64_C(0xf8e431456cf88e65)},
    {UINT64_C(0x8a08f0f8bf0f156b), UINT64_C(0x1b8e9ecb641b58ff)},
    {UINT64_C(0xac8b2d36eed2dac5), UINT64_C(0xe272467e3d222f3f)},
    {UINT64_C(0xd7adf884aa879177), UINT64_C(0x5b0ed81dcc6abb0f)},
    {UINT64_C(0x86ccbb52ea94baea), UINT64_C(0x98e947129fc2b4e9)},
    {UINT64_C(0xa87fea27a539e9a5), UINT64_C(0x3f2398d747b36224)},
    {UINT64_C(0xd29fe4b18e88640e), UINT64_C(0x8eec7f0d19a03aad)},
    {UINT64_C(0x83a3eeeef9153e89), UINT64_C(0x1953cf68300424ac)},
    {UINT64_C(0xa48ceaaab75a8e2b), UINT64_C(0x5fa8c3423c052dd7)},
    {UINT64_C(0xcdb02555653131b6), UINT64_C(0x3792f412cb06794d)},
    {UINT64_C(0x808e17555f3ebf11), UINT64_C(0xe2bbd88bbee40bd0)},
    {UINT64_C(0xa0b19d2ab70e6ed6), UINT64_C(0x5b6aceaeae9d0ec4)},
    {UINT64_C(0xc8de047564d20a8b), UINT64_C(0xf245825a5a445275)},
    {UINT64_C(0xfb158592be068d2e), UINT64_C(0xeed6e2f0f0d56712)},
    {UINT64_C(0x9ced737bb6c4183d), UINT64_C(0x55464dd69685606b)},
    {UINT64_C(0xc428d05aa4751e4c), UINT64_C(0xaa97e14c3c26b886)},
    {UINT64_C(0xf53304714d9265df), UINT64_C(0xd53dd99f4b3066a8)},
    {UINT64_C(0x993fe2c6d07b7fab), UINT64_C(0xe546a8038efe4029)},
    {UINT64_C(0xbf8fdb78849a5f96), UINT64_C(0xde98520472bdd033)},
    {UINT64_C(0xef73d256a5c0f77c), UINT64_C(0x963e66858f6d4440)},
    {UINT64_C(0x95a8637627989aad), UINT64_C(0xdde7001379a44aa8)},
    {UINT64_C(0xbb127c53b17ec159), UINT64_C(0x5560c018580d5d52)},
    {UINT64_C(0xe9d71b689dde71af), UINT64_C(0xaab8f01e6e10b4a6)},
    {UINT64_C(0x9226712162ab070d), UINT64_C(0xcab3961304ca70e8)},
    {UINT64_C(0xb6b00d69bb55c8d1), UINT64_C(0x3d607b97c5fd0d22)},
    {UINT64_C(0xe45c10c42a2b3b05), UINT64_C(0x8cb89a7db77c506a)},
    {UINT64_C(0x8eb98a7a9a5b04e3), UINT64_C(0x77f3608e92adb242)},
    {UINT64_C(0xb267ed1940f1c61c), UINT64_C(0x55f038b237591ed3)},
    {UINT64_C(0xdf01e85f912e37a3), UINT64_C(0x6b6c46dec52f6688)},
    {UINT64_C(0x8b61313bbabce2c6), UINT64_C(0x2323ac4b3b3da015)},
    {UINT64_C(0xae397d8aa96c1b77), UINT64_C(0xabec975e0a0d081a)},
    {UINT64_C(0xd9c7dced53c72255), UINT64_C(0x96e7bd358c904a21)},
    {UINT64_C(0x881cea14545c7575), UINT64_C(0x7e50d64177da2e54)},
    {UINT64_C(0xaa242499697392d2), UINT64_C(0xdde50bd1d5d0b9e9)},
    {UINT64_C(0xd4ad2dbfc3d07787), UINT64_C(0x955e4ec64b44e864)},
    {UINT64_C(0x84ec3c97da624ab4), UINT64_C(0xbd5af13bef0b113e)},
    {UINT64_C(0xa6274bbdd0fadd61), UINT64_C(0xecb1ad8aeacdd58e)},
    {UINT64_C(0xcfb11ead453994ba), UINT64_C(0x67de18eda5814af2)},
    {UINT64_C(0x81ceb32c4b43fcf4), UINT64_C(0x80eacf948770ced7)},
    {UINT64_C(0xa2425ff75e14fc31), UINT64_C(0xa1258379a94d028d)},
    {UINT64_C(0xcad2f7f5359a3b3e), UINT64_C(0x096ee45813a04330)},
    {UINT64_C(0xfd87b5f28300ca0d), UINT64_C(0x8bca9d6e188853fc)},
    {UINT64_C(0x9e74d1b791e07e48), UINT64_C(0x775ea264cf55347d)},
    {UINT64_C(0xc612062576589dda), UINT64_C(0x95364afe032a819d)},
    {UINT64_C(0xf79687aed3eec551), UINT64_C(0x3a83ddbd83f52204)},
    {UINT64_C(0x9abe14cd44753b52), UINT64_C(0xc4926a9672793542)},
    {UINT64_C(0xc16d9a0095928a27), UINT64_C(0x75b7053c0f178293)},
    {UINT64_C(0xf1c90080baf72cb1), UINT64_C(0x5324c68b12dd6338)},
    {UINT64_C(0x971da05074da7bee), UINT64_C(0xd3f6fc16ebca5e03)},
    {UINT64_C(0xbce5086492111aea), UINT64_C(0x88f4bb1ca6bcf584)},
    {UINT64_C(0xec1e4a7db69561a5), UINT64_C(0x2b31e9e3d06c32e5)},
    {UINT64_C(0x9392ee8e921d5d07), UINT64_C(0x3aff322e62439fcf)},
    {UINT64_C(0xb877aa3236a4b449), UINT64_C(0x09befeb9fad487c2)},
    {UINT64_C(0xe69594bec44de15b), UINT64_C(0x4c2ebe687989a9b3)},
    {UINT64_C(0x901d7cf73ab0acd9), UINT64_C(0x0f9d37014bf60a10)},
    {UINT64_C(0xb424dc35095cd80f), UINT64_C(0x538484c19ef38c94)},
    {UINT64_C(0xe12e13424bb40e13), UINT64_C(0x2865a5f206b06fb9)},
    {UINT64_C(0x8cbccc096f5088cb), UINT64_C(0xf93f87b7442e45d3)},
    {UINT64_C(0xafebff0bcb24aafe), UINT64_C(0xf78f69a51539d748)},
    {UINT64_C(0xdbe6fecebdedd5be), UINT64_C(0xb573440e5a884d1b)},
    {UINT64_C(0x89705f4136b4a597), UINT64_C(0x31680a88f8953030)},
    {UINT64_C(0xabcc77118461cefc), UINT64_C(0xfdc20d2b36ba7c3d)},
    {UINT64_C(0xd6bf94d5e57a42bc), UINT64_C(0x3d32907604691b4c)},
    {UINT64_C(0x8637bd05af6c69b5), UINT64_C(0xa63f9a49c2c1b10f)},
    {UINT64_C(0xa7c5ac471b478423), UINT64_C(0x0fcf80dc33721d53)},
    {UINT64_C(0xd1b71758e219652b), UINT64_C(0xd3c36113404ea4a8)},
    {UINT64_C(0x83126e978d4fdf3b), UINT64_C(0x645a1cac083126e9)},
    {UINT64_C(0xa3d70a3d70a3d70a), UINT64_C(0x3d70a3d70a3d70a3)},
    {UINT64_C(0xcccccccccccccccc), UINT64_C(0xcccccccccccccccc)},
    {UINT64_C(0x8000000000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xa000000000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xc800000000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xfa00000000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0x9c40000000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xc350000000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xf424000000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0x9896800000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xbebc200000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xee6b280000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0x9502f90000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xba43b74000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xe8d4a51000000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0x9184e72a00000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xb5e620f480000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xe35fa931a0000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0x8e1bc9bf04000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xb1a2bc2ec5000000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xde0b6b3a76400000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0x8ac7230489e80000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xad78ebc5ac620000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xd8d726b7177a8000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0x878678326eac9000), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xa968163f0a57b400), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xd3c21bcecceda100), UINT64_C(0x0000000000000000)},
    {UINT64_C(0x84595161401484a0), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xa56fa5b99019a5c8), UINT64_C(0x0000000000000000)},
    {UINT64_C(0xcecb8f27f4200f3a), UINT64_C(0x0000000000000000)},
    {UINT64_C(0x813f3978f8940984), UINT64_C(0x4000000000000000)},
    {UINT64_C(0xa18f07d736b90be5), UINT64_C(0x5000000000000000)},
    {UINT64_C(0xc9f2c9cd04674ede), UINT64_C(0xa400000000000000)},
    {UINT64_C(0xfc6f7c4045812296), UINT64_C(0x4d00000000000000)},
    {UINT64_C(0x9dc5ada82b70b59d), UINT64_C(0xf020000000000000)},
    {UINT64_C(0xc5371912364ce305), UINT64_C(0x6c28000000000000)},
    {UINT64_C(0xf684df56c3e01bc6), UINT64_C(0xc732000000000000)},
    {UINT64_C(0x9a130b963a6c115c), UINT64_C(0x3c7f400000000000)},
    {UINT64_C(0xc097ce7bc90715b3), UINT64_C(0x4b9f100000000000)},
    {UINT64_C(0xf0bdc21abb48db20), UINT64_C(0x1e86d40000000000)},
    {UINT64_C(0x96769950b50d88f4), UINT64_C(0x1314448000000000)},
    {UINT64_C(0xbc143fa4e250eb31), UINT64_C(0x17d955a000000000)},
    {UINT64_C(0xeb194f8e1ae525fd), UINT64_C(0x5dcfab0800000000)},
    {UINT64_C(0x92efd1b8d0cf37be), UINT64_C(0x5aa1cae500000000)},
    {UINT64_C(0xb7abc627050305ad), UINT64_C(0xf14a3d9e40000000)},
    {UINT64_C(0xe596b7b0c643c719), UINT64_C(0x6d9ccd05d0000000)},
    {UINT64_C(0x8f7e32ce7bea5c6f), UINT64_C(0xe4820023a2000000)},
    {UINT64_C(0xb35dbf821ae4f38b), UINT64_C(0xdda2802c8a800000)},
    {UINT64_C(0xe0352f62a19e306e), UINT64_C(0xd50b2037ad200000)},
    {UINT64_C(0x8c213d9da502de45), UINT64_C(0x4526f422cc340000)},
    {UINT64_C(0xaf298d050e4395d6), UINT64_C(0x9670b12b7f410000)},
    {UINT64_C(0xdaf3f04651d47b4c), UINT64_C(0x3c0cdd765f114000)},
    {UINT64_C(0x88d8762bf324cd0f), UINT64_C(0xa5880a69fb6ac800)},
    {UINT64_C(0xab0e93b6efee0053), UINT64_C(0x8eea0d047a457a00)},
    {UINT64_C(0xd5d238a4abe98068), UINT64_C(0x72a4904598d6d880)},
    {UINT64_C(0x85a36366eb71f041), UINT64_C(0x47a6da2b7f864750)},
    {UINT64_C(0xa70c3c40a64e6c51), UINT64_C(0x999090b65f67d924)},
    {UINT64_C(0xd0cf4b50cfe20765), UINT64_C(0xfff4b4e3f741cf6d)},
    {UINT64_C(0x82818f1281ed449f), UINT64_C(0xbff8f10e7a8921a4)},
    {UINT64_C(0xa321f2d7226895c7), UINT64_C(0xaff72d52192b6a0d)},
    {UINT64_C(0xcbea6f8ceb02bb39), UINT64_C(0x9bf4f8a69f764490)},
    {UINT64_C(0xfee50b7025c36a08), UINT64_C(0x02f236d04753d5b4)},
    {UINT64_C(0x9f4f2726179a2245), UINT64_C(0x01d762422c946590)},
    {UINT64_C(0xc722f0ef9d80aad6), UINT64_C(0x424d3ad2b7b97ef5)},
    {UINT64_C(0xf8ebad2b84e0d58b), UINT64_C(0xd2e0898765a7deb2)},
    {UINT64_C(0x9b934c3b330c8577), UINT64_C(0x63cc55f49f88eb2f)},
    {UINT64_C(0xc2781f49ffcfa6d5), UINT64_C(0x3cbf6b71c76b25fb)},
    {UINT64_C(0xf316271c7fc3908a), UINT64_C(0x8bef464e3945ef7a)},
    {UINT64_C(0x97edd871cfda3a56), UINT64_C(0x97758bf0e3cbb5ac)},
    {UINT64_C(0xbde94e8e43d0c8ec), UINT64_C(0x3d52eeed1cbea317)},
    {UINT64_C(0xed63a231d4c4fb27), UINT64_C(0x4ca7aaa863ee4bdd)},
    {UINT64_C(0x945e455f24fb1cf8), UINT64_C(0x8fe8caa93e74ef6a)},
    {UINT64_C(0xb975d6b6ee39e436), UINT64_C(0xb3e2fd538e122b44)},
    {UINT64_C(0xe7d34c64a9c85d44), UINT64_C(0x60dbbca87196b616)},
    {UINT64_C(0x90e40fbeea1d3a4a), UINT64_C(0xbc8955e946fe31cd)},
    {UINT64_C(0xb51d13aea4a488dd), UINT64_C(0x6babab6398bdbe41)},
    {UINT64_C(0xe264589a4dcdab14), UINT64_C(0xc696963c7eed2dd1)},
    {UINT64_C(0x8d7eb76070a08aec), UINT64_C(0xfc1e1de5cf543ca2)},
    {UINT64_C(0xb0de65388cc8ada8), UINT64_C(0x3b25a55f43294bcb)},
    {UINT64_C(0xdd15fe86affad912), UINT64_C(0x49ef0eb713f39ebe)},
    {UINT64_C(0x8a2dbf142dfcc7ab), UINT64_C(0x6e3569326c784337)},
    {UINT64_C(0xacb92ed9397bf996), UINT64_C(0x49c2c37f07965404)},
    {UINT64_C(0xd7e77a8f87daf7fb), UINT64_C(0xdc33745ec97be906)},
    {UINT64_C(0x86f0ac99b4e8dafd), UINT64_C(0x69a028bb3ded71a3)},
    {UINT64_C(0xa8acd7c0222311bc), UINT64_C(0xc40832ea0d68ce0c)},
    {UINT64_C(0xd2d80db02aabd62b), UINT64_C(0xf50a3fa490c30190)},
    {UINT64_C(0x83c7088e1aab65db), UINT64_C(0x792667c6da79e0fa)},
    {UINT64_C(0xa4b8cab1a1563f52), UINT64_C(0x577001b891185938)},
    {UINT64_C(0xcde6fd5e09abcf26), UINT64_C(0xed4c0226b55e6f86)},
    {UINT64_C(0x80b05e5ac60b6178), UINT64_C(0x544f8158315b05b4)},
    {UINT64_C(0xa0dc75f1778e39d6), UINT64_C(0x696361ae3db1c721)},
    {UINT64_C(0xc913936dd571c84c), UINT64_C(0x03bc3a19cd1e38e9)},
    {UINT64_C(0xfb5878494ace3a5f), UINT64_C(0x04ab48a04065c723)},
    {UINT64_C(0x9d174b2dcec0e47b), UINT64_C(0x62eb0d64283f9c76)},
    {UINT64_C(0xc45d1df942711d9a), UINT64_C(0x3ba5d0bd324f8394)},
    {UINT64_C(0xf5746577930d6500), UINT64_C(0xca8f44ec7ee36479)},
    {UINT64_C(0x9968bf6abbe85f20), UINT64_C(0x7e998b13cf4e1ecb)},
    {UINT64_C(0xbfc2ef456ae276e8), UINT64_C(0x9e3fedd8c321a67e)},
    {UINT64_C(0xefb3ab16c59b14a2), UINT64_C(0xc5cfe94ef3ea101e)},
    {UINT64_C(0x95d04aee3b80ece5), UINT64_C(0xbba1f1d158724a12)},
    {UINT64_C(0xbb445da9ca61281f), UINT64_C(0x2a8a6e45ae8edc97)},
    {UINT64_C(0xea1575143cf97226), UINT64_C(0xf52d09d71a3293bd)},
    {UINT64_C(0x924d692ca61be758), UINT64_C(0x593c2626705f9c56)},
    {UINT64_C(0xb6e0c377cfa2e12e), UINT64_C(0x6f8b2fb00c77836c)},
    {UINT64_C(0xe498f455c38b997a), UINT64_C(0x0b6dfb9c0f956447)},
    {UINT64_C(0x8edf98b59a373fec), UINT64_C(0x4724bd4189bd5eac)},
    {UINT64_C(0xb2977ee300c50fe7), UINT64_C(0x58edec91ec2cb657)},
    {UINT64_C(0xdf3d5e9bc0f653e1), UINT64_C(0x2f2967b66737e3ed)},
    {UINT64_C(0x8b865b215899f46c), UINT64_C(0xbd79e0d20082ee74)},
    {UINT64_C(0xae67f1e9aec07187), UINT64_C(0xecd8590680a3aa11)},
    {UINT64_C(0xda01ee641a708de9), UINT64_C(0xe80e6f4820cc9495)},
    {UINT64_C(0x884134fe908658b2), UINT64_C(0x3109058d147fdcdd)},
    {UINT64_C(0xaa51823e34a7eede), UINT64_C(0xbd4b46f0599fd415)},
    {UINT64_C(0xd4e5e2cdc1d1ea96), UINT64_C(0x6c9e18ac7007c91a)},
    {UINT64_C(0x850fadc09923329e), UINT64_C(0x03e2cf6bc604ddb0)},
    {UINT64_C(0xa6539930bf6bff45), UINT64_C(0x84db8346b786151c)},
    {UINT64_C(0xcfe87f7cef46ff16), UINT64_C(0xe612641865679a63)},
    {UINT64_C(0x81f14fae158c5f6e), UINT64_C(0x4fcb7e8f3f60c07e)},
    {UINT64_C(0xa26da3999aef7749), UINT64_C(0xe3be5e330f38f09d)},
    {UINT64_C(0xcb090c8001ab551c), UINT64_C(0x5cadf5bfd3072cc5)},
    {UINT64_C(0xfdcb4fa002162a63), UINT64_C(0x73d9732fc7c8f7f6)},
    {UINT64_C(0x9e9f11c4014dda7e), UINT64_C(0x2867e7fddcdd9afa)},
    {UINT64_C(0xc646d63501a1511d), UINT64_C(0xb281e1fd541501b8)},
    {UINT64_C(0xf7d88bc24209a565), UINT64_C(0x1f225a7ca91a4226)},
    {UINT64_C(0x9ae757596946075f), UINT64_C(0x3375788de9b06958)},
    {UINT64_C(0xc1a12d2fc3978937), UINT64_C(0x0052d6b1641c83ae)},
    {UINT64_C(0xf209787bb47d6b84), UINT64_C(0xc0678c5dbd23a49a)},
    {UINT64_C(0x9745eb4d50ce6332), UINT64_C(0xf840b7ba963646e0)},
    {UINT64_C(0xbd176620a501fbff), UINT64_C(0xb650e5a93bc3d898)},
    {UINT64_C(0xec5d3fa8ce427aff), UINT64_C(0xa3e51f138ab4cebe)},
    {UINT64_C(0x93ba47c980e98cdf), UINT64_C(0xc66f336c36b10137)},
    {UINT64_C(0xb8a8d9bbe123f017), UINT64_C(0xb80b0047445d4184)},
    {UINT64_C(0xe6d3102ad96cec1d), UINT64_C(0xa60dc059157491e5)},
    {UINT64_C(0x9043ea1ac7e41392), UINT64_C(0x87c89837ad68db2f)},
    {UINT64_C(0xb454e4a179dd1877), UINT64_C(0x29babe4598c311fb)},
    {UINT64_C(0xe16a1dc9d8545e94), UINT64_C(0xf4296dd6fef3d67a)},
    {UINT64_C(0x8ce2529e2734bb1d), UINT64_C(0x1899e4a65f58660c)},
    {UINT64_C(0xb01ae745b101e9e4), UINT64_C(0x5ec05dcff72e7f8f)},
    {UINT64_C(0xdc21a1171d42645d), UINT64_C(0x76707543f4fa1f73)},
    {UINT64_C(0x899504ae72497eba), UINT64_C(0x6a06494a791c53a8)},
    {UINT64_C(0xabfa45da0edbde69), UINT64_C(0x0487db9d17636892)},
    {UINT64_C(0xd6f8d7509292d603), UINT64_C(0x45a9d2845d3c42b6)},
    {UINT64_C(0x865b86925b9bc5c2), UINT64_C(0x0b8a2392ba45a9b2)},
    {UINT64_C(0xa7f26836f282b732), UINT64_C(0x8e6cac7768d7141e)},
    {UINT64_C(0xd1ef0244af2364ff), UINT64_C(0x3207d795430cd926)},
    {UINT64_C(0x8335616aed761f1f), UINT64_C(0x7f44e6bd49e807b8)},
    {UINT64_C(0xa402b9c5a8d3a6e7), UINT64_C(0x5f16206c9c6209a6)},
    {UINT64_C(0xcd036837130890a1), UINT64_C(0x36dba887c37a8c0f)},
    {UINT64_C(0x802221226be55a64), UINT64_C(0xc2494954da2c9789)},
    {UINT64_C(0xa02aa96b06deb0fd), UINT64_C(0xf2db9baa10b7bd6c)},
    {UINT64_C(0xc83553c5c8965d3d), UINT64_C(0x6f92829494e5acc7)},
    {UINT64_C(0xfa42a8b73abbf48c), UINT64_C(0xcb772339ba1f17f9)},
    {UINT64_C(0x9c69a97284b578d7), UINT64_C(0xff2a760414536efb)},
    {UINT64_C(0xc38413cf25e2d70d), UINT64_C(0xfef5138519684aba)},
    {UINT64_C(0xf46518c2ef5b8cd1), UINT64_C(0x7eb258665fc25d69)},
    {UINT64_C(0x98bf2f79d5993802), UINT64_C(0xef2f773ffbd97a61)},
    {UINT64_C(0xbeeefb584aff8603), UINT64_C(0xaafb550ffacfd8fa)},
    {UINT64_C(0xeeaaba2e5dbf6784), UINT64_C(0x95ba2a53f983cf38)},
    {UINT64_C(0x952ab45cfa97a0b2), UINT64_C(0xdd945a747bf26183)},
    {UINT64_C(0xba756174393d88df), UINT64_C(0x94f971119aeef9e4)},
    {UINT64_C(0xe912b9d1478ceb17), UINT64_C(0x7a37cd5601aab85d)},
    {UINT64_C(0x91abb422ccb812ee), UINT64_C(0xac62e055c10ab33a)},
    {UINT64_C(0xb616a12b7fe617aa), UINT64_C(0x577b986b314d6009)},
    {UINT64_C(0xe39c49765fdf9d94), UINT64_C(0xed5a7e85fda0b80b)},
    {UINT64_C(0x8e41ade9fbebc27d), UINT64_C(0x14588f13be847307)},
    {UINT64_C(0xb1d219647ae6b31c), UINT64_C(0x596eb2d8ae258fc8)},
    {UINT64_C(0xde469fbd99a05fe3), UINT64_C(0x6fca5f8ed9aef3bb)},
    {UINT64_C(0x8aec23d680043bee), UINT64_C(0x25de7bb9480d5854)},
    {UINT64_C(0xada72ccc20054ae9), UINT64_C(0xaf561aa79a10ae6a)},
    {UINT64_C(0xd910f7ff28069da4), UINT64_C(0x1b2ba1518094da04)},
    {UINT64_C(0x87aa9aff79042286), UINT64_C(0x90fb44d2f05d0842)},
    {UINT64_C(0xa99541bf57452b28), UINT64_C(0x353a1607ac744a53)},
    {UINT64_C(0xd3fa922f2d1675f2), UINT64_C(0x42889b8997915ce8)},
    {UINT64_C(0x847c9b5d7c2e09b7), UINT64_C(0x69956135febada11)},
    {UINT64_C(0xa59bc234db398c25), UINT64_C(0x43fab9837e699095)},
    {UINT64_C(0xcf02b2c21207ef2e), UINT64_C(0x94f967e45e03f4bb)},
    {UINT64_C(0x8161afb94b44f57d), UINT64_C(0x1d1be0eebac278f5)},
    {UINT64_C(0xa1ba1ba79e1632dc), UINT64_C(0x6462d92a69731732)},
    {UINT64_C(0xca28a291859bbf93), UINT64_C(0x7d7b8f7503cfdcfe)},
    {UINT64_C(0xfcb2cb35e702af78), UINT64_C(0x5cda735244c3d43e)},
    {UINT64_C(0x9defbf01b061adab), UINT64_C(0x3a0888136afa64a7)},
    {UINT64_C(0xc56baec21c7a1916), UINT64_C(0x088aaa1845b8fdd0)},
    {UINT64_C(0xf6c69a72a3989f5b), UINT64_C(0x8aad549e57273d45)},
    {UINT64_C(0x9a3c2087a63f6399), UINT64_C(0x36ac54e2f678864b)},
    {UINT64_C(0xc0cb28a98fcf3c7f), UINT64_C(0x84576a1bb416a7dd)},
    {UINT64_C(0xf0fdf2d3f3c30b9f), UINT64_C(0x656d44a2a11c51d5)},
    {UINT64_C(0x969eb7c47859e743), UINT64_C(0x9f644ae5a4b1b325)},
    {UINT64_C(0xbc4665b596706114), UINT64_C(0x873d5d9f0dde1fee)},
    {UINT64_C(0xeb57ff22fc0c7959), UINT64_C(0xa90cb506d155a7ea)},
    {UINT64_C(0x9316ff75dd87cbd8), UINT64_C(0x09a7f12442d588f2)},
    {UINT64_C(0xb7dcbf5354e9bece), UINT64_C(0x0c11ed6d538aeb2f)},
    {UINT64_C(0xe5d3ef282a242e81), UINT64_C(0x8f1668c8a86da5fa)},
    {UINT64_C(0x8fa475791a569d10), UINT64_C(0xf96e017d694487bc)},
    {UINT64_C(0xb38d92d760ec4455), UINT64_C(0x37c981dcc395a9ac)},
    {UINT64_C(0xe070f78d3927556a), UINT64_C(0x85bbe253f47b1417)},
    {UINT64_C(0x8c469ab843b89562), UINT64_C(0x93956d7478ccec8e)},
    {UINT64_C(0xaf58416654a6babb), UINT64_C(0x387ac8d1970027b2)},
    {UINT64_C(0xdb2e51bfe9d0696a), UINT64_C(0x06997b05fcc0319e)},
    {UINT64_C(0x88fcf317f22241e2), UINT64_C(0x441fece3bdf81f03)},
    {UINT64_C(0xab3c2fddeeaad25a), UINT64_C(0xd527e81cad7626c3)},
    {UINT64_C(0xd60b3bd56a5586f1), UINT64_C(0x8a71e223d8d3b074)},
    {UINT64_C(0x85c7056562757456), UINT64_C(0xf6872d5667844e49)},
    {UINT64_C(0xa738c6bebb12d16c), UINT64_C(0xb428f8ac016561db)},
    {UINT64_C(0xd106f86e69d785c7), UINT64_C(0xe13336d701beba52)},
    {UINT64_C(0x82a45b450226b39c), UINT64_C(0xecc0024661173473)},
    {UINT64_C(0xa34d721642b06084), UINT64_C(0x27f002d7f95d0190)},
    {UINT64_C(0xcc20ce9bd35c78a5), UINT64_C(0x31ec038df7b441f4)},
    {UINT64_C(0xff290242c83396ce), UINT64_C(0x7e67047175a15271)},
    {UINT64_C(0x9f79a169bd203e41), UINT64_C(0x0f0062c6e984d386)},
    {UINT64_C(0xc75809c42c684dd1), UINT64_C(0x52c07b78a3e60868)},
    {UINT64_C(0xf92e0c3537826145), UINT64_C(0xa7709a56ccdf8a82)},
    {UINT64_C(0x9bbcc7a142b17ccb), UINT64_C(0x88a66076400bb691)},
    {UINT64_C(0xc2abf989935ddbfe), UINT64_C(0x6acff893d00ea435)},
    {UINT64_C(0xf356f7ebf83552fe), UINT64_C(0x0583f6b8c4124d43)},
    {UINT64_C(0x98165af37b2153de), UINT64_C(0xc3727a337a8b704a)},
    {UINT64_C(0xbe1bf1b059e9a8d6), UINT64_C(0x744f18c0592e4c5c)},
    {UINT64_C(0xeda2ee1c7064130c), UINT64_C(0x1162def06f79df73)},
    {UINT64_C(0x9485d4d1c63e8be7), UINT64_C(0x8addcb5645ac2ba8)},
    {UINT64_C(0xb9a74a0637ce2ee1), UINT64_C(0x6d953e2bd7173692)},
    {UINT64_C(0xe8111c87c5c1ba99), UINT64_C(0xc8fa8db6ccdd0437)},
    {UINT64_C(0x910ab1d4db9914a0), UINT64_C(0x1d9c9892400a22a2)},
    {UINT64_C(0xb54d5e4a127f59c8), UINT64_C(0x2503beb6d00cab4b)},
    {UINT64_C(0xe2a0b5dc971f303a), UINT64_C(0x2e44ae64840fd61d)},
    {UINT64_C(0x8da471a9de737e24), UINT64_C(0x5ceaecfed289e5d2)},
    {UINT64_C(0xb10d8e1456105dad), UINT64_C(0x7425a83e872c5f47)},
    {UINT64_C(0xdd50f1996b947518), UINT64_C(0xd12f124e28f77719)},
    {UINT64_C(0x8a5296ffe33cc92f), UINT64_C(0x82bd6b70d99aaa6f)},
    {UINT64_C(0xace73cbfdc0bfb7b), UINT64_C(0x636cc64d1001550b)},
    {UINT64_C(0xd8210befd30efa5a), UINT64_C(0x3c47f7e05401aa4e)},
    {UINT64_C(0x8714a775e3e95c78), UINT64_C(0x65acfaec34810a71)},
    {UINT64_C(0xa8d9d1535ce3b396), UINT64_C(0x7f1839a741a14d0d)},
    {UINT64_C(0xd31045a8341ca07c), UINT64_C(0x1ede48111209a050)},
    {UINT64_C(0x83ea2b892091e44d), UINT64_C(0x934aed0aab460432)},
    {UINT64_C(0xa4e4b66b68b65d60), UINT64_C(0xf81da84d5617853f)},
    {UINT64_C(0xce1de40642e3f4b9), UINT64_C(0x36251260ab9d668e)},
    {UINT64_C(0x80d2ae83e9ce78f3), UINT64_C(0xc1d72b7c6b426019)},
    {UINT64_C(0xa1075a24e4421730), UINT64_C(0xb24cf65b8612f81f)},
    {UINT64_C(0xc94930ae1d529cfc), UINT64_C(0xdee033f26797b627)},
    {UINT64_C(0xfb9b7cd9a4a7443c), UINT64_C(0x169840ef017da3b1)},
    {UINT64_C(0x9d412e0806e88aa5), UINT64_C(0x8e1f289560ee864e)},
    {UINT64_C(0xc491798a08a2ad4e), UINT64_C(0xf1a6f2bab92a27e2)},
    {UINT64_C(0xf5b5d7ec8acb58a2), UINT64_C(0xae10af696774b1db)},
    {UINT64_C(0x9991a6f3d6bf1765), UINT64_C(0xacca6da1e0a8ef29)},
    {UINT64_C(0xbff610b0cc6edd3f), UINT64_C(0x17fd090a58d32af3)},
    {UINT64_C(0xeff394dcff8a948e), UINT64_C(0xddfc4b4cef07f5b0)},
    {UINT64_C(0x95f83d0a1fb69cd9), UINT64_C(0x4abdaf101564f98e)},
    {UINT64_C(0xbb764c4ca7a4440f), UINT64_C(0x9d6d1ad41abe37f1)},
    {UINT64_C(0xea53df5fd18d5513), UINT64_C(0x84c86189216dc5ed)},
    {UINT64_C(0x92746b9be2f8552c), UINT64_C(0x32fd3cf5b4e49bb4)},
    {UINT64_C(0xb7118682dbb66a77), UINT64_C(0x3fbc8c33221dc2a1)},
    {UINT64_C(0xe4d5e82392a40515), UINT64_C(0x0fabaf3feaa5334a)},
    {UINT64_C(0x8f05b1163ba6832d), UINT64_C(0x29cb4d87f2a7400e)},
    {UINT64_C(0xb2c71d5bca9023f8), UINT64_C(0x743e20e9ef511012)},
    {UINT64_C(0xdf78e4b2bd342cf6), UINT64_C(0x914da9246b255416)},
    {UINT64_C(0x8bab8eefb6409c1a), UINT64_C(0x1ad089b6c2f7548e)},
    {UINT64_C(0xae9672aba3d0c320), UINT64_C(0xa184ac2473b529b1)},
    {UINT64_C(0xda3c0f568cc4f3e8), UINT64_C(0xc9e5d72d90a2741e)},
    {UINT64_C(0x8865899617fb1871), UINT64_C(0x7e2fa67c7a658892)},
    {UINT64_C(0xaa7eebfb9df9de8d), UINT64_C(0xddbb901b98feeab7)},
    {UINT64_C(0xd51ea6fa85785631), UINT64_C(0x552a74227f3ea565)},
    {UINT64_C(0x8533285c936b35de), UINT64_C(0xd53a88958f87275f)},
    {UINT64_C(0xa67ff273b8460356), UINT64_C(0x8a892abaf368f137)},
    {UINT64_C(0xd01fef10a657842c), UINT64_C(0x2d2b7569b0432d85)},
    {UINT64_C(0x8213f56a67f6b29b), UINT64_C(0x9c3b29620e29fc73)},
    {UINT64_C(0xa298f2c501f45f42), UINT64_C(0x8349f3ba91b47b8f)},
    {UINT64_C(0xcb3f2f7642717713), UINT64_C(0x241c70a936219a73)},
    {UINT64_C(0xfe0efb53d30dd4d7), UINT64_C(0xed238cd383aa0110)},
    {UINT64_C(0x9ec95d1463e8a506), UINT64_C(0xf4363804324a40aa)},
    {UINT64_C(0xc67bb4597ce2ce48), UINT64_C(0xb143c6053edcd0d5)},
    {UINT64_C(0xf81aa16fdc1b81da), UINT64_C(0xdd94b7868e94050a)},
    {UINT64_C(0x9b10a4e5e9913128), UINT64_C(0xca7cf2b4191c8326)},
    {UINT64_C(0xc1d4ce1f63f57d72), UINT64_C(0xfd1c2f611f63a3f0)},
    {UINT64_C(0xf24a01a73cf2dccf), UINT64_C(0xbc633b39673c8cec)},
    {UINT64_C(0x976e41088617ca01), UINT64_C(0xd5be0503e085d813)},
    {UINT64_C(0xbd49d14aa79dbc82), UINT64_C(0x4b2d8644d8a74e18)},
    {UINT64_C(0xec9c459d51852ba2), UINT64_C(0xddf8e7d60ed1219e)},
    {UINT64_C(0x93e1ab8252f33b45), UINT64_C(0xcabb90e5c942b503)},
    {UINT64_C(0xb8da1662e7b00a17), UINT64_C(0x3d6a751f3b936243)},
    {UINT64_C(0xe7109bfba19c0c9d), UINT64_C(0x0cc512670a783ad4)},
    {UINT64_C(0x906a617d450187e2), UINT64_C(0x27fb2b80668b24c5)},
    {UINT64_C(0xb484f9dc9641e9da), UINT64_C(0xb1f9f660802dedf6)},
    {UINT64_C(0xe1a63853bbd26451), UINT64_C(0x5e7873f8a0396973)},
    {UINT64_C(0x8d07e33455637eb2), UINT64_C(0xdb0b487b6423e1e8)},
    {UINT64_C(0xb049dc016abc5e5f), UINT64_C(0x91ce1a9a3d2cda62)},
    {UINT64_C(0xdc5c5301c56b75f7), UINT64_C(0x7641a140cc7810fb)},
    {UINT64_C(0x89b9b3e11b6329ba), UINT64_C(0xa9e904c87fcb0a9d)},
    {UINT64_C(0xac2820d9623bf429), UINT64_C(0x546345fa9fbdcd44)},
    {UINT64_C(0xd732290fbacaf133), UINT64_C(0xa97c177947ad4095)},
    {UINT64_C(0x867f59a9d4bed6c0), UINT64_C(0x49ed8eabcccc485d)},
    {UINT64_C(0xa81f301449ee8c70), UINT64_C(0x5c68f256bfff5a74)},
    {UINT64_C(0xd226fc195c6a2f8c), UINT64_C(0x73832eec6fff3111)},
    {UINT64_C(0x83585d8fd9c25db7), UINT64_C(0xc831fd53c5ff7eab)},
    {UINT64_C(0xa42e74f3d032f525), UINT64_C(0xba3e7ca8b77f5e55)},
    {UINT64_C(0xcd3a1230c43fb26f), UINT64_C(0x28ce1bd2e55f35eb)},
    {UINT64_C(0x80444b5e7aa7cf85), UINT64_C(0x7980d163cf5b81b3)},
    {UINT64_C(0xa0555e361951c366), UINT64_C(0xd7e105bcc332621f)},
    {UINT64_C(0xc86ab5c39fa63440), UINT64_C(0x8dd9472bf3fefaa7)},
    {UINT64_C(0xfa856334878fc150), UINT64_C(0xb14f98f6f0feb951)},
    {UINT64_C(0x9c935e00d4b9d8d2), UINT64_C(0x6ed1bf9a569f33d3)},
    {UINT64_C(0xc3b8358109e84f07), UINT64_C(0x0a862f80ec4700c8)},
    {UINT64_C(0xf4a642e14c6262c8), UINT64_C(0xcd27bb612758c0fa)},
    {UINT64_C(0x98e7e9cccfbd7dbd), UINT64_C(0x8038d51cb897789c)},
    {UINT64_C(0xbf21e44003acdd2c), UINT64_C(0xe0470a63e6bd56c3)},
    {UINT64_C(0xeeea5d5004981478), UINT64_C(0x1858ccfce06cac74)},
    {UINT64_C(0x95527a5202df0ccb), UINT64_C(0x0f37801e0c43ebc8)},
    {UINT64_C(0xbaa718e68396cffd), UINT64_C(0xd30560258f54e6ba)},
    {UINT64_C(0xe950df20247c83fd), UINT64_C(0x47c6b82ef32a2069)},
    {UINT64_C(0x91d28b7416cdd27e), UINT64_C(0x4cdc331d57fa5441)},
    {UINT64_C(0xb6472e511c81471d), UINT64_C(0xe0133fe4adf8e952)},
    {UINT64_C(0xe3d8f9e563a198e5), UINT64_C(0x58180fddd97723a6)},
    {UINT64_C(0x8e679c2f5e44ff8f), UINT64_C(0x570f09eaa7ea7648)},
};

/* floor(q * log2(5)) for -342 <= q <= 308 (152170 / 2^16 is close enough to log2(5)
   for the floor to be exact over that range; checked for every q when generated) */
static long teecert_dec_floor_log2_pow5(long q)
{
    if (q >= 0)
        return (q * 152170L) >> 16;
    return -(((-q) * 152170L + 65535L) >> 16);
}

/* r = w * m + add as 192 bits, r[0] most significant; m = {high, low}.  The callers
   keep add <= w < 2^64, so the sum is below (w + 1) * 2^128 <= 2^192. */
static void teecert_dec_mul192(uint64_t w, const uint64_t m[2], uint64_t add, uint64_t r[3])
{
    uint64_t h0, l0 = teecert_mul64(w, m[1], &h0);
    uint64_t h1, l1 = teecert_mul64(w, m[0], &h1);
    uint64_t mid = h0 + l1, carry = mid < h0;
    l0 += add;
    if (l0 < add) {
        mid++;
        carry += mid == 0;
    }
    r[0] = h1 + carry;
    r[1] = mid;
    r[2] = l0;
}

/* the non-negative binary64 pattern of the non-zero r * 2^x, to nearest, ties to even */
static uint64_t teecert_dec_round192(const uint64_t r[3], long x)
{
    uint64_t a2 = r[0], a1 = r[1], a0 = r[2], top;
    unsigned s;
    if (a2 == 0) {
        a2 = a1;
        a1 = a0;
        a0 = 0;
        x -= 64;
    }
    s = teecert_io_clz64(a2); /* < 64: a2 != 0 for every product formed here */
    if (s) {
        top = (a2 << s) | (a1 >> (64 - s));
        a1 = (a1 << s) | (a0 >> (64 - s));
        a0 <<= s;
    } else {
        top = a2;
    }
    return teecert_io_round(&teecert_io_binary64, 0, top, x + 128 - (long)s, (a1 | a0) != 0,
                            TEECERT_INTOPS_RNE);
}

/* ------------------------------------------------ big integers for the comparison */

/*
 * Unsigned integers of up to TEECERT_DN_LIMBS limbs, least significant first, on the
 * stack: 64-bit limbs where the compiler has a 128-bit type, else 32-bit limbs with
 * 64-bit products.  The largest numbers compared are below 2^2560 (see stage 3); an
 * operation that would not fit sets `overflow` (reported as an internal error).
 */
#ifdef TEECERT_HAVE_U128
typedef uint64_t teecert_limb;
typedef teecert_u128 teecert_dlimb;
#define TEECERT_LIMB_BITS 64
#define TEECERT_LIMB_DIGITS 19 /* 10^19 < 2^64 */
#define TEECERT_LIMB_POW5 27   /* 5^27 < 2^64 */
#else
typedef uint32_t teecert_limb;
typedef uint64_t teecert_dlimb;
#define TEECERT_LIMB_BITS 32
#define TEECERT_LIMB_DIGITS 9 /* 10^9 < 2^32 */
#define TEECERT_LIMB_POW5 13  /* 5^13 < 2^32 */
#endif
#define TEECERT_DN_LIMBS (2816 / TEECERT_LIMB_BITS)
/* digits kept for stage 3, at most 769 (see above); more would be a bug */
#define TEECERT_DEC_CMP_DIGITS 780

typedef struct {
    teecert_limb d[TEECERT_DN_LIMBS];
    size_t n;     /* limbs in use: d[n - 1] != 0, or n == 0 for zero */
    int overflow; /* a result did not fit */
} teecert_dn;

static const uint64_t teecert_dec_pow10[20] = {
    UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
    UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
    UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
    UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
    UINT64_C(1000000000000000), UINT64_C(10000000000000000),
    UINT64_C(100000000000000000), UINT64_C(1000000000000000000),
    UINT64_C(10000000000000000000)};

/* 5^k for k <= 27 (5^27 < 2^63) */
static const uint64_t teecert_dec_pow5_small[28] = {
    UINT64_C(1), UINT64_C(5), UINT64_C(25), UINT64_C(125), UINT64_C(625), UINT64_C(3125),
    UINT64_C(15625), UINT64_C(78125), UINT64_C(390625), UINT64_C(1953125),
    UINT64_C(9765625), UINT64_C(48828125), UINT64_C(244140625), UINT64_C(1220703125),
    UINT64_C(6103515625), UINT64_C(30517578125), UINT64_C(152587890625),
    UINT64_C(762939453125), UINT64_C(3814697265625), UINT64_C(19073486328125),
    UINT64_C(95367431640625), UINT64_C(476837158203125), UINT64_C(2384185791015625),
    UINT64_C(11920928955078125), UINT64_C(59604644775390625),
    UINT64_C(298023223876953125), UINT64_C(1490116119384765625),
    UINT64_C(7450580596923828125)};

static void teecert_dn_set_u64(teecert_dn *x, uint64_t v)
{
    x->n = 0;
    x->overflow = 0;
    while (v) {
        x->d[x->n++] = (teecert_limb)v;
        v = (v >> (TEECERT_LIMB_BITS / 2)) >> (TEECERT_LIMB_BITS / 2);
    }
}

/* x = x * m + add */
static void teecert_dn_mul_add(teecert_dn *x, teecert_limb m, teecert_limb add)
{
    teecert_limb carry = add;
    size_t i, n = x->n;
    for (i = 0; i < n; i++) {
        teecert_dlimb t = (teecert_dlimb)x->d[i] * m + carry;
        x->d[i] = (teecert_limb)t;
        carry = (teecert_limb)(t >> TEECERT_LIMB_BITS);
    }
    if (carry) {
        if (n == TEECERT_DN_LIMBS) {
            x->overflow = 1;
            return;
        }
        x->d[n] = carry;
        x->n = n + 1;
    }
}

/*
 * 5^(128 k) for k = 1 .. 8, 64-bit limbs, least significant first; power k starts at
 * teecert_dec_pow5_big_at[k - 1].  With them the large powers of 5 of stage 3 (up to
 * 5^1075) cost one product instead of forty passes of a small multiplier.
 * Generated with:
 *   python3 -c 'for k in range(1,9):
 *    v=5**(128*k); l=["UINT64_C(0x%016x)," % (v>>64*i&2**64-1) for i in range(-(-v.bit_length()//64))]
 *    print("    / * 5^%d * /" % (128*k)); [print("    "+" ".join(l[i:i+3])) for i in range(0,len(l),3)]'
 * (with the comment delimiters closed up).
 */
static const uint64_t teecert_dec_pow5_big[] = {
    /* 5^128 */
    UINT64_C(0x03df99092e953e01), UINT64_C(0x2374e42f0f1538fd), UINT64_C(0xc404dc08d3cff5ec),
    UINT64_C(0xa6337f19bccdb0da), UINT64_C(0x0000024ee91f2603),
    /* 5^256 */
    UINT64_C(0xbed3875b982e7c01), UINT64_C(0x12152f87d8d99f72), UINT64_C(0xcf4a6e706bde50c6),
    UINT64_C(0x26b2716ed595d80f), UINT64_C(0x1d153624adc666b0), UINT64_C(0x63ff540e3c42d35a),
    UINT64_C(0x65f9ef17cc5573c0), UINT64_C(0x80dcc7f755bc28f2), UINT64_C(0x5fdcefcef46eeddc),
    UINT64_C(0x00000000000553f7),
    /* 5^384 */
    UINT64_C(0x60e1989634cbba01), UINT64_C(0x3347f75de297de35), UINT64_C(0x4cff3c6c0892aa8f),
    UINT64_C(0x61c2dbb109169857), UINT64_C(0x34a8e6d6997d980d), UINT64_C(0x23303863b92d6f55),
    UINT64_C(0x6e921a29949e1b66), UINT64_C(0xfc363385867b782d), UINT64_C(0xe9cd9bd7f1b92377),
    UINT64_C(0xcba53571ac20aee4), UINT64_C(0x99c34cce922010ba), UINT64_C(0x4e117befa6fab7d1),
    UINT64_C(0x71027fff56784f44), UINT64_C(0x0c4c5e310aef8aa1),
    /* 5^512 */
    UINT64_C(0x77f27267fc6cf801), UINT64_C(0x5d96976f8f9546dc), UINT64_C(0xc31e1ad9b83a8a97),
    UINT64_C(0x94e6574746c40513), UINT64_C(0x4475b579c88976c1), UINT64_C(0xaa1da1bf28f8733b),
    UINT64_C(0x1e25cfea703ed321), UINT64_C(0xbc51fb2eb21a2f22), UINT64_C(0xbfa3edac96e14f5d),
    UINT64_C(0xe7fc7153329c57ae), UINT64_C(0x85a91924c3fc0695), UINT64_C(0xb2908ee0f95f635e),
    UINT64_C(0x1366732a93abade4), UINT64_C(0x69be5b0e9449775c), UINT64_C(0xb099bc817343afac),
    UINT64_C(0xa269974845a71d46), UINT64_C(0x8a0b1f138cb07303), UINT64_C(0xc1d238d98cab8a97),
    UINT64_C(0x0000001c633415d4),
    /* 5^640 */
    UINT64_C(0x8175728fe7123601), UINT64_C(0x8f56e9704614b2ea), UINT64_C(0xb74c2d82eb29568b),
    UINT64_C(0x2449c10948b18d05), UINT64_C(0xda875aa3563cc566), UINT64_C(0x7754276de41a70ad),
    UINT64_C(0xe0fc3ffe374addea), UINT64_C(0x25885dc13dbd8bfc), UINT64_C(0x5f4c1be52bd1086c),
    UINT64_C(0xeda30080352f8464), UINT64_C(0x24b6f2141aff9f2f), UINT64_C(0x8dd5451d952a2187),
    UINT64_C(0xe31a17fccc8fb19a), UINT64_C(0xb0014c47db79ee7c), UINT64_C(0x0e368726ce5411bf),
    UINT64_C(0x79c1d4a4dde7f250), UINT64_C(0x4347c0799934d6d6), UINT64_C(0x483f5ad215f46840),
    UINT64_C(0xcbe05d0034a679fe), UINT64_C(0x96c70ea63990dbb0), UINT64_C(0x3a93e88ea735c868),
    UINT64_C(0x56457178530e974e), UINT64_C(0x7bc8f2a54e8e4b72), UINT64_C(0x0000000000004186),
    /* 5^768 */
    UINT64_C(0x8c448edcecbb7401), UINT64_C(0xcca2ba7a9eb710db), UINT64_C(0x7a4ce4de1f6387f2),
    UINT64_C(0x74269c7ab3172816), UINT64_C(0xcd00c670f4bf365f), UINT64_C(0x86d9582669e1b7e9),
    UINT64_C(0x1b59b9a31371f8ae), UINT64_C(0x32b304b89e54d463), UINT64_C(0xe35d8a93d1493ca6),
    UINT64_C(0xcc27030764597e3b), UINT64_C(0x1c0327448f28e71a), UINT64_C(0x4451c6eee349bfe2),
    UINT64_C(0x7fed8a55fcd28d3a), UINT64_C(0x5edf1c46e9de83ee), UINT64_C(0x93909c541485f9df),
    UINT64_C(0x6c1e29bad03661bb), UINT64_C(0x57104362749594d7), UINT64_C(0x3f150b6e3177669a),
    UINT64_C(0xa522c4f7ef1410dd), UINT64_C(0x54ccec040ff24f6f), UINT64_C(0x6f8a2c7dc42b346b),
    UINT64_C(0x76fef8bcb0c43b21), UINT64_C(0x834d963d164f3474), UINT64_C(0x55790955debadbbb),
    UINT64_C(0x4d7ced4bde6b3671), UINT64_C(0xe6b0d7ba42677734), UINT64_C(0x8c6c8d3fca02ca6d),
    UINT64_C(0x00973f9ca8cd00a6),
    /* 5^896 */
    UINT64_C(0x6ac8352e0568b201), UINT64_C(0x6d4599ebb283884a), UINT64_C(0xd4cddcc87803ea56),
    UINT64_C(0xe5ca53a6b643ae54), UINT64_C(0x80d5be23a44f98f0), UINT64_C(0x730e7bb3c220c809),
    UINT64_C(0x634ed4ab924144fe), UINT64_C(0x4ff943c6408284a5), UINT64_C(0x3d997c46fe42f7d6),
    UINT64_C(0x32f4ecd196338703), UINT64_C(0x6a94d4a462dc9965), UINT64_C(0x0ce0d0dfeefdf9ed),
    UINT64_C(0x2f3fd4f6763d53f4), UINT64_C(0xdbeed7938f5e6e5f), UINT64_C(0x9f4e6abeb5dbe572),
    UINT64_C(0xd0e543f80108754a), UINT64_C(0xa00366776580f387), UINT64_C(0x6e2da2cc62cf2f91),
    UINT64_C(0xfbe78146b7043012), UINT64_C(0x950ccd8c82a2c274), UINT64_C(0x7ff483cff7838279),
    UINT64_C(0x9f9abc1434b595c6), UINT64_C(0xf286d493d3f99fb0), UINT64_C(0xad6a7724af02efaf),
    UINT64_C(0x5376c2ba5b41c92e), UINT64_C(0x6fccee380d5825f4), UINT64_C(0x6a79b9fa5ad3a514),
    UINT64_C(0x26878a5efff15cd6), UINT64_C(0xbbe0dd0d76a9fce8), UINT64_C(0x55fa6abde916a26e),
    UINT64_C(0x473b1e6a825fd3ce), UINT64_C(0xc7abb7d30e151b0e), UINT64_C(0x000000015d1e5659),
    /* 5^1024 */
    UINT64_C(0xf55b2b722919f001), UINT64_C(0x1ec29f866e7c215b), UINT64_C(0x15c51a88991c4e87),
    UINT64_C(0x4c7d1e1a140ac535), UINT64_C(0x0ed1440ecc2cd819), UINT64_C(0x7de16cfb896634ee),
    UINT64_C(0x9fce837d1e43f61f), UINT64_C(0x233e55c7231d2b9c), UINT64_C(0xf451218b65dc60d7),
    UINT64_C(0xc96359861c5cd134), UINT64_C(0xa7e89431922bbb9f), UINT64_C(0x62be695a9f9f2a07),
    UINT64_C(0x045b7a748e1042c4), UINT64_C(0x8ad822a51abe1de3), UINT64_C(0xd814b505ba34c411),
    UINT64_C(0x8fc51a16bf3fdeb3), UINT64_C(0xf56deeecb1b896bc), UINT64_C(0xb6f4654b31fb6bfd),
    UINT64_C(0x6b7595fb101a3616), UINT64_C(0x80d98089dc1a47fe), UINT64_C(0x9a20288280bda5a5),
    UINT64_C(0xfc8f1f9031eb0f66), UINT64_C(0xe26a7b7e976a3310), UINT64_C(0x3ce3a0b8df68368a),
    UINT64_C(0x75a351a28e4262ce), UINT64_C(0x445975836cb0b6c9), UINT64_C(0xc356e38a31b5653f),
    UINT64_C(0x0190fba035faaba6), UINT64_C(0x88bc491b9fc4ed52), UINT64_C(0x005b80411640114a),
    UINT64_C(0x1e8d4649f4f3235e), UINT64_C(0x73c5534936a8de06), UINT64_C(0xc1a6970ca7e6bd2a),
    UINT64_C(0xd2db49ef47187094), UINT64_C(0xae6209d4926c3f5b), UINT64_C(0x34f4a3c62d433949),
    UINT64_C(0xd9d61a05d4305d94), UINT64_C(0x0000000000000325),
};
static const unsigned short teecert_dec_pow5_big_at[9] = {0, 5, 15, 29, 48, 72, 100, 133, 171};

/* limb j of 5^(128 k) */
static teecert_limb teecert_dec_pow5_big_limb(unsigned k, size_t j)
{
    uint64_t v = teecert_dec_pow5_big[teecert_dec_pow5_big_at[k - 1] + j / (64 / TEECERT_LIMB_BITS)];
    return (teecert_limb)(v >> (TEECERT_LIMB_BITS * (j % (64 / TEECERT_LIMB_BITS))));
}

/* x = x * 5^(128 k), 1 <= k <= 8 (schoolbook) */
static void teecert_dn_mul_pow5_big(teecert_dn *x, unsigned k)
{
    teecert_limb r[TEECERT_DN_LIMBS];
    size_t tn = (size_t)(teecert_dec_pow5_big_at[k] - teecert_dec_pow5_big_at[k - 1]) *
                (64 / TEECERT_LIMB_BITS), n = x->n, i, j;
    while (tn > 0 && teecert_dec_pow5_big_limb(k, tn - 1) == 0)
        tn--;
    if (n == 0)
        return;
    if (n + tn > TEECERT_DN_LIMBS) {
        x->overflow = 1;
        return;
    }
    for (j = 0; j < n + tn; j++)
        r[j] = 0;
    for (i = 0; i < n; i++) {
        teecert_limb carry = 0, xi = x->d[i];
        for (j = 0; j < tn; j++) {
            teecert_dlimb t = (teecert_dlimb)xi * teecert_dec_pow5_big_limb(k, j) + r[i + j] + carry;
            r[i + j] = (teecert_limb)t;
            carry = (teecert_limb)(t >> TEECERT_LIMB_BITS);
        }
        r[i + tn] = carry;
    }
    n += tn;
    while (n > 0 && r[n - 1] == 0)
        n--;
    memcpy(x->d, r, n * sizeof r[0]);
    x->n = n;
}

static void teecert_dn_mul_pow5(teecert_dn *x, unsigned long p)
{
    unsigned big = 0;
    if (p >= 128) {
        big = (unsigned)(p / 128);
        p %= 128;
        if (big > 8) {
            x->overflow = 1;
            return;
        }
    }
    for (; p >= TEECERT_LIMB_POW5; p -= TEECERT_LIMB_POW5)
        teecert_dn_mul_add(x, (teecert_limb)teecert_dec_pow5_small[TEECERT_LIMB_POW5], 0);
    if (p > 0)
        teecert_dn_mul_add(x, (teecert_limb)teecert_dec_pow5_small[p], 0);
    if (big)
        teecert_dn_mul_pow5_big(x, big);
}

static void teecert_dn_shl(teecert_dn *x, unsigned long bits)
{
    size_t limbs = (size_t)(bits / TEECERT_LIMB_BITS), i, n = x->n;
    unsigned b = (unsigned)(bits % TEECERT_LIMB_BITS);
    if (n == 0)
        return;
    if (n + limbs + 1 > TEECERT_DN_LIMBS) {
        x->overflow = 1;
        return;
    }
    if (b == 0) {
        for (i = n; i-- > 0;)
            x->d[i + limbs] = x->d[i];
        x->d[n + limbs] = 0;
    } else {
        x->d[n + limbs] = x->d[n - 1] >> (TEECERT_LIMB_BITS - b);
        for (i = n - 1; i > 0; i--)
            x->d[i + limbs] = (teecert_limb)(x->d[i] << b) | (x->d[i - 1] >> (TEECERT_LIMB_BITS - b));
        x->d[limbs] = (teecert_limb)(x->d[0] << b);
    }
    for (i = 0; i < limbs; i++)
        x->d[i] = 0;
    n += limbs + 1;
    while (n > 0 && x->d[n - 1] == 0)
        n--;
    x->n = n;
}

static int teecert_dn_cmp(const teecert_dn *a, const teecert_dn *b)
{
    size_t i;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (i = a->n; i-- > 0;)
        if (a->d[i] != b->d[i])
            return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}

/*
 * The significant digits of the input: digit k is sig[k], or sig[k + 1] once k >= gap
 * (gap = the number of significant digits before the decimal point, or (size_t)-1).
 */
struct teecert_dec_digits {
    const char *sig;
    size_t gap;
};

/* eight characters, p[0] in the low byte whatever the host's byte order */
static uint64_t teecert_dec_load8(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint64_t)u[0] | ((uint64_t)u[1] << 8) | ((uint64_t)u[2] << 16) |
           ((uint64_t)u[3] << 24) | ((uint64_t)u[4] << 32) | ((uint64_t)u[5] << 40) |
           ((uint64_t)u[6] << 48) | ((uint64_t)u[7] << 56);
}

/* whether all eight bytes are ASCII digits: each high nibble is 3, and so is that of
   the byte plus 6 (a byte above '9' would reach 4; a carry between bytes needs a
   byte >= 0xfa, whose own high nibble already fails) */
static int teecert_dec_eight_digits(uint64_t v)
{
    const uint64_t hi = UINT64_C(0xf0f0f0f0f0f0f0f0);
    return ((v & hi) | (((v + UINT64_C(0x0606060606060606)) & hi) >> 4)) ==
           UINT64_C(0x3333333333333333);
}

/* the value of eight ASCII digits loaded by teecert_dec_load8: pairs of digits,
   then pairs of pairs, in place (no product carries into a neighbouring field) */
static uint64_t teecert_dec_value8(uint64_t v)
{
    const uint64_t mask = UINT64_C(0x000000ff000000ff);
    v -= UINT64_C(0x3030303030303030);
    v = v * 10 + (v >> 8); /* bytes 0, 2, 4, 6: the two-digit groups, first to last */
    return ((v & mask) * (100 + (UINT64_C(1000000) << 32)) +
            ((v >> 16) & mask) * (1 + (UINT64_C(10000) << 32))) >> 32;
}

/* the end of the run of ASCII digits starting at s[i] */
static size_t teecert_dec_skip_digits(const char *s, size_t i, size_t len)
{
    while (len - i >= 8 && teecert_dec_eight_digits(teecert_dec_load8(s + i)))
        i += 8;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* the value of the c <= 19 consecutive digits at p */
static uint64_t teecert_dec_run_value(const char *p, size_t c)
{
    uint64_t v = 0;
    for (; c >= 8; c -= 8, p += 8)
        v = v * 100000000u + teecert_dec_value8(teecert_dec_load8(p));
    for (; c > 0; c--)
        v = v * 10 + (uint64_t)(*p++ - '0');
    return v;
}

/* the value of the significant digits k .. k + c - 1, c <= 19 */
static uint64_t teecert_dec_digits_value(const struct teecert_dec_digits *g, size_t k, size_t c)
{
    size_t before;
    if (k + c <= g->gap)
        return teecert_dec_run_value(g->sig + k, c);
    if (k >= g->gap)
        return teecert_dec_run_value(g->sig + k + 1, c);
    before = g->gap - k; /* the decimal point lies inside */
    return teecert_dec_run_value(g->sig + k, before) * teecert_dec_pow10[c - before] +
           teecert_dec_run_value(g->sig + g->gap + 1, c - before);
}

/* x = the integer of the first cnt significant digits, a limb's worth at a time */
static void teecert_dn_from_digits(teecert_dn *x, const struct teecert_dec_digits *g, size_t cnt)
{
    size_t k = 0, c;
    x->n = 0;
    x->overflow = 0;
    for (; k < cnt; k += c) {
        c = cnt - k < TEECERT_LIMB_DIGITS ? cnt - k : TEECERT_LIMB_DIGITS;
        teecert_dn_mul_add(x, (teecert_limb)teecert_dec_pow10[c],
                           (teecert_limb)teecert_dec_digits_value(g, k, c));
    }
}

/* ------------------------------------------------------------------ the parser */

/* The exponent after 'e' stops growing here (|value| >= 10^309 is inf, < 10^-324 is 0);
   a clamp this far out cannot change a result for any input shorter than 10^16 bytes. */
#define TEECERT_DEC_EXP_CLAMP INT64_C(100000000000000000)

static int teecert_io_is_digit(char c) { return c >= '0' && c <= '9'; }

static int teecert_io_lower(char c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

static int teecert_io_word(const char *s, size_t len, const char *word)
{
    size_t i;
    if (len != strlen(word))
        return 0;
    for (i = 0; i < len; i++)
        if (teecert_io_lower(s[i]) != word[i])
            return 0;
    return 1;
}

/*
 * Stage 3: b and b + 1 are the non-negative patterns the ends of stage 2's interval
 * round to; the value (the digits `g`, nd of them, times 10^e10, the first of weight
 * 10^p10) rounds to one of them.  Stores it in *out and returns 0, or -1 for an
 * internal error.
 */
static int teecert_dec_compare_midpoint(const struct teecert_dec_digits *dg, size_t nd,
                                        int64_t e10, int64_t p10, uint64_t b, uint64_t *out)
{
    uint64_t frac = b & UINT64_C(0x000fffffffffffff), m2;
    long be = (long)(b >> 52), g, c, p2;
    int64_t cnt;
    int sticky = 0, cmp;
    teecert_dn lhs, rhs;

    /* h = m2 * 2^g, the midpoint of b and b + 1 */
    if (be == 0) {
        m2 = 2 * frac + 1;
        g = -1075;
    } else {
        m2 = 2 * (frac | (UINT64_C(1) << 52)) + 1;
        g = be - 1076;
    }
    c = g < 0 ? g : 0;
    cnt = p10 - c + 1; /* digits of weight >= 10^c */
    if (cnt < (int64_t)nd) {
        if (cnt < 0)
            cnt = 0;
        e10 = c;
        sticky = 1; /* the last digit, beyond the cut, is non-zero */
    } else {
        cnt = (int64_t)nd;
    }
    if (cnt > TEECERT_DEC_CMP_DIGITS)
        return -1;

    /* digits * 10^e10 against m2 * 2^g: the powers of 5 and 2 on the integer sides */
    teecert_dn_from_digits(&lhs, dg, (size_t)cnt);
    teecert_dn_set_u64(&rhs, m2);
    if (e10 > 0)
        teecert_dn_mul_pow5(&lhs, (unsigned long)e10);
    else
        teecert_dn_mul_pow5(&rhs, (unsigned long)-e10);
    p2 = (long)e10 - g;
    if (p2 > 0)
        teecert_dn_shl(&lhs, (unsigned long)p2);
    else
        teecert_dn_shl(&rhs, (unsigned long)-p2);
    if (lhs.overflow || rhs.overflow)
        return -1;
    cmp = teecert_dn_cmp(&lhs, &rhs);
    if (cmp < 0)
        *out = b;
    else if (cmp > 0 || sticky || (b & 1))
        *out = b + 1;
    else
        *out = b; /* a tie, to the even pattern */
    return 0;
}

int teecert_f64_from_dec(const char *s, size_t len, uint64_t *out)
{
    size_t i = 0, i0, i1, f0, f1, fz, lz, nd, nw;
    int neg = 0, exp_neg = 0, exact;
    int64_t ex = 0, pw, ew, p10, e10, q;
    uint64_t sign, w, r[3], bits, hi_bits, t;
    long x;
    struct teecert_dec_digits dg;

    if (s == 0 || len == 0)
        return TEECERT_DEC_SYNTAX;
    if (s[i] == '+' || s[i] == '-') {
        neg = s[i] == '-';
        i++;
    }
    sign = neg ? UINT64_C(0x8000000000000000) : 0;
    if (teecert_io_word(s + i, len - i, "inf")) {
        *out = sign | UINT64_C(0x7ff0000000000000);
        return TEECERT_DEC_OK;
    }
    if (teecert_io_word(s + i, len - i, "nan")) {
        *out = UINT64_C(0x7ff8000000000000); /* canonical, whatever the sign */
        return TEECERT_DEC_OK;
    }

    /* digits [ "." digits ] [exponent]: the integer digits are s[i0, i1), the fraction
       digits s[f0, f1) (f0 = f1 = i1 without a point) */
    i0 = i;
    i = teecert_dec_skip_digits(s, i, len);
    i1 = f0 = f1 = i;
    if (i < len && s[i] == '.') {
        f0 = ++i;
        i = teecert_dec_skip_digits(s, i, len);
        f1 = i;
    }
    if (i1 == i0 && f1 == f0)
        return TEECERT_DEC_SYNTAX;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            exp_neg = s[i] == '-';
            i++;
        }
        if (i >= len || !teecert_io_is_digit(s[i]))
            return TEECERT_DEC_SYNTAX;
        for (; i < len && teecert_io_is_digit(s[i]); i++)
            if (ex < TEECERT_DEC_EXP_CLAMP)
                ex = ex * 10 + (s[i] - '0');
    }
    if (i != len)
        return TEECERT_DEC_SYNTAX;

    /* the first and last non-zero digits, fz and lz */
    fz = i0;
    while (fz < i1 && s[fz] == '0')
        fz++;
    if (fz == i1) {
        fz = f0;
        while (fz < f1 && s[fz] == '0')
            fz++;
        if (fz == f1) {
            *out = sign; /* a signed zero */
            return TEECERT_DEC_OK;
        }
    }
    lz = f1;
    while (lz > f0 && s[lz - 1] == '0')
        lz--;
    if (lz == f0) {
        lz = i1;
        while (s[lz - 1] == '0') /* stops: a non-zero digit exists */
            lz--;
    }
    lz--;

    /* weights: the digit at position p has weight 10^(i1 - 1 - p) before the point,
       10^-(p - f0 + 1) after it */
    pw = fz < i1 ? (int64_t)(i1 - 1 - fz) : -(int64_t)(fz - f0 + 1);
    ew = lz < i1 ? (int64_t)(i1 - 1 - lz) : -(int64_t)(lz - f0 + 1);
    nd = (size_t)(pw - ew + 1);
    p10 = pw + (exp_neg ? -ex : ex);
    e10 = ew + (exp_neg ? -ex : ex);
    if (p10 > 308) {
        *out = sign | UINT64_C(0x7ff0000000000000);
        return TEECERT_DEC_OK;
    }
    if (p10 < -324) { /* value < 10^-324 < 2^-1075: below half the smallest subnormal */
        *out = sign;
        return TEECERT_DEC_OK;
    }
    dg.sig = s + fz;
    dg.gap = fz < i1 ? i1 - fz : (size_t)-1;

    /* stage 2 */
    nw = nd < 19 ? nd : 19;
    w = teecert_dec_digits_value(&dg, 0, nw);
    q = p10 - (int64_t)(nw - 1);
    x = (long)q + teecert_dec_floor_log2_pow5((long)q) - 127;
    exact = nd <= 19 && q >= 0 && q <= 55;
    teecert_dec_mul192(w, teecert_dec_pow5[q - TEECERT_DEC_QMIN], 0, r);
    bits = teecert_dec_round192(r, x);
    if (!exact) {
        t = w + (nd > 19);
        teecert_dec_mul192(t, teecert_dec_pow5[q - TEECERT_DEC_QMIN], (q >= 0 && q <= 55) ? 0 : t, r);
        hi_bits = teecert_dec_round192(r, x);
        if (hi_bits != bits) {
            /* stage 3 */
            if (hi_bits != bits + 1 ||
                teecert_dec_compare_midpoint(&dg, nd, e10, p10, bits, &bits) != 0)
                return TEECERT_DEC_INTERNAL;
        }
    }
    *out = bits | sign;
    return TEECERT_DEC_OK;
}

/* -------------------------------------------------------------- f64 -> decimal */

/*
 * Let v = m * 2^e > 0 (exact) and k = floor(log10 v), found from the binary exponent
 * (or one less: see teecert_f64_to_dec).  With p = 17 - k, X = v * 10^p lies in
 * [10^17, 10^19) and its integer part Q has 18 or 19 digits.  Dropping the last d
 * of them (d = 1 or 2) leaves the remainder r = Q mod 10^d, and X rounds up to 17
 * digits exactly when r + (X - Q) is above half of 10^d, or equal to it with
 * Q / 10^d odd (ties to even).  As X - Q is in [0, 1), r and whether X is an integer
 * decide: up when r > 10^d / 2, or r = 10^d / 2 and (X is not an integer or Q / 10^d
 * is odd).
 *
 * Q comes from one 64 x 128-bit product with the 128-bit powers of five of
 * f64.from_dec (teecert_todec_floor), exact whenever it answers, and from the exact
 * bignum (teecert_todec_exact) when it cannot.  Whether X is an integer follows
 * exactly from m, e and p (teecert_todec_is_int), and is asked only for a remainder
 * of exactly half or a product just below an integer.  All integer arithmetic, as in
 * f64.from_dec: no result depends on the FPU's modes.
 */

#define TEECERT_E16 UINT64_C(10000000000000000)
#define TEECERT_E17 UINT64_C(100000000000000000)
#define TEECERT_E18 UINT64_C(1000000000000000000)

/* -DTEECERT_TO_DEC_EXACT_ONLY turns the product off, for the tests of the bignum */
#ifdef TEECERT_TO_DEC_EXACT_ONLY
#define TEECERT_TODEC_FAST 0
#else
#define TEECERT_TODEC_FAST 1
#endif

/* the largest p: 17 - floor(log10 2^-1074) = 17 + 324 */
#define TEECERT_TODEC_PMAX 341

/*
 * 5^q for q = 309 .. 341 in the form of teecert_dec_pow5, which ends at the 308 that
 * f64.from_dec needs, while the subnormals and the smallest normal numbers here take
 * p up to 341.  Generated with:
 *   python3 -c 'for q in range(309,342): v=5**q; m=v>>(v.bit_length()-128);
 *   print("    {UINT64_C(0x%016x), UINT64_C(0x%016x)}," % (m>>64, m&(2**64-1)))'
 */
static const uint64_t teecert_todec_pow5_tail[TEECERT_TODEC_PMAX - TEECERT_DEC_QMAX][2] = {
    {UINT64_C(0xb201833b35d63f73), UINT64_C(0x2cd2cc6551e513da)},
    {UINT64_C(0xde81e40a034bcf4f), UINT64_C(0xf8077f7ea65e58d1)},
    {UINT64_C(0x8b112e86420f6191), UINT64_C(0xfb04afaf27faf782)},
    {UINT64_C(0xadd57a27d29339f6), UINT64_C(0x79c5db9af1f9b563)},
    {UINT64_C(0xd94ad8b1c7380874), UINT64_C(0x18375281ae7822bc)},
    {UINT64_C(0x87cec76f1c830548), UINT64_C(0x8f2293910d0b15b5)},
    {UINT64_C(0xa9c2794ae3a3c69a), UINT64_C(0xb2eb3875504ddb22)},
    {UINT64_C(0xd433179d9c8cb841), UINT64_C(0x5fa60692a46151eb)},
    {UINT64_C(0x849feec281d7f328), UINT64_C(0xdbc7c41ba6bcd333)},
    {UINT64_C(0xa5c7ea73224deff3), UINT64_C(0x12b9b522906c0800)},
    {UINT64_C(0xcf39e50feae16bef), UINT64_C(0xd768226b34870a00)},
    {UINT64_C(0x81842f29f2cce375), UINT64_C(0xe6a1158300d46640)},
    {UINT64_C(0xa1e53af46f801c53), UINT64_C(0x60495ae3c1097fd0)},
    {UINT64_C(0xca5e89b18b602368), UINT64_C(0x385bb19cb14bdfc4)},
    {UINT64_C(0xfcf62c1dee382c42), UINT64_C(0x46729e03dd9ed7b5)},
    {UINT64_C(0x9e19db92b4e31ba9), UINT64_C(0x6c07a2c26a8346d1)},
    {UINT64_C(0xc5a05277621be293), UINT64_C(0xc7098b7305241885)},
    {UINT64_C(0xf70867153aa2db38), UINT64_C(0xb8cbee4fc66d1ea7)},
    {UINT64_C(0x9a65406d44a5c903), UINT64_C(0x737f74f1dc043328)},
    {UINT64_C(0xc0fe908895cf3b44), UINT64_C(0x505f522e53053ff2)},
    {UINT64_C(0xf13e34aabb430a15), UINT64_C(0x647726b9e7c68fef)},
    {UINT64_C(0x96c6e0eab509e64d), UINT64_C(0x5eca783430dc19f5)},
    {UINT64_C(0xbc789925624c5fe0), UINT64_C(0xb67d16413d132072)},
    {UINT64_C(0xeb96bf6ebadf77d8), UINT64_C(0xe41c5bd18c57e88f)},
    {UINT64_C(0x933e37a534cbaae7), UINT64_C(0x8e91b962f7b6f159)},
    {UINT64_C(0xb80dc58e81fe95a1), UINT64_C(0x723627bbb5a4adb0)},
    {UINT64_C(0xe61136f2227e3b09), UINT64_C(0xcec3b1aaa30dd91c)},
    {UINT64_C(0x8fcac257558ee4e6), UINT64_C(0x213a4f0aa5e8a7b1)},
    {UINT64_C(0xb3bd72ed2af29e1f), UINT64_C(0xa988e2cd4f62d19d)},
    {UINT64_C(0xe0accfa875af45a7), UINT64_C(0x93eb1b80a33b8605)},
    {UINT64_C(0x8c6c01c9498d8b88), UINT64_C(0xbc72f130660533c3)},
    {UINT64_C(0xaf87023b9bf0ee6a), UINT64_C(0xeb8fad7c7f8680b4)},
    {UINT64_C(0xdb68c2ca82ed2a05), UINT64_C(0xa67398db9f6820e1)},
};

/*
 * Whether v * 10^p = m * 5^p * 2^(e + p) is an integer, m != 0: the power of two must
 * be one or be absorbed by m's trailing zeros, and for p < 0, m must be a multiple of
 * 5^-p, impossible beyond 5^22 since m < 2^53 < 5^23.
 */
static int teecert_todec_is_int(uint64_t m, long e, long p)
{
    uint64_t f = 1;
    long i;
    if (e + p < 0 && (e + p < -52 || (m & ((UINT64_C(1) << -(e + p)) - 1)) != 0))
        return 0;
    if (p < -22)
        return 0;
    for (i = p; i < 0; i++)
        f *= 5;
    return m % f == 0;
}

/* floor(p * log2(5)) for |p| <= 342, as teecert_dec_floor_log2_pow5 but without a
   branch on the sign (offset by 795 * 2^16 to stay non-negative) */
static long teecert_todec_floor_log2_pow5(long p)
{
    return ((p * 152170L + (795L << 16)) >> 16) - 795;
}

/*
 * floor(v * 10^p) for v = m * 2^e, m != 0, given that v * 10^p lies in
 * [10^17, 10^19) and -342 <= p <= 341; 0 (never a valid result) when the product
 * cannot decide it.
 *
 * With m' = m * 2^s in [2^63, 2^64) and 5^p = M * 2^b, M in [2^127, 2^128), the table
 * holds M_t = floor(M) (equal to M for 0 <= p <= 55), and v * 10^p = m' * M / 2^sh
 * with sh = s - e - p - b.  R = m' * M_t is an exact 192-bit product, and
 * m' * M = R + m' * (M - M_t) lies in [R, R + 2^64), and in (R, R + 2^64) when M is
 * inexact.  So floor(v * 10^p) is floor(R / 2^sh) unless R mod 2^sh is within 2^64
 * of 2^sh, that is unless the bits 64 .. sh - 1 of R are all ones (impossible when M
 * is exact).  Then v * 10^p lies within 2^-63 of the next integer N above
 * floor(R / 2^sh), below or at it: if it is an integer (teecert_todec_is_int), it is
 * N (the common case: integers v with few digits, 10^20, 3 * 10^22, whose v * 10^p
 * is exact while 5^p is not); otherwise the product cannot tell and the caller
 * computes floor(v * 10^p) exactly (no input is known to get there: the tests force
 * that path with -DTEECERT_TO_DEC_EXACT_ONLY).  R is in [2^190, 2^192) and the result
 * in [2^56.4, 2^63.2), so sh is 127 .. 135.
 */
static uint64_t teecert_todec_floor(uint64_t m, long e, long p)
{
    unsigned s = teecert_io_clz64(m), u;
    const uint64_t *pow5 = p <= TEECERT_DEC_QMAX ? teecert_dec_pow5[p - TEECERT_DEC_QMIN]
                                                 : teecert_todec_pow5_tail[p - TEECERT_DEC_QMAX - 1];
    long sh = (long)s - e - p - (teecert_todec_floor_log2_pow5(p) - 127);
    int exact = p >= 0 && p <= 55;
    uint64_t r[3], lo, ones, q;

    if (sh < 127 || sh > 135)
        return 0; /* not reached: see above */
    teecert_dec_mul192(m << s, pow5, 0, r);
    /* with u = sh - 127 in 0 .. 8 and lo = bits 127 .. 190 of R: Q = R >> sh is
       r[0] >> u above its lowest bit, which is bit u of lo; the bits 64 .. sh - 1
       are bits 0 .. 62 of r[1] and the u lowest bits of lo */
    u = (unsigned)(sh - 127);
    lo = (r[0] << 1) | (r[1] >> 63);
    ones = (UINT64_C(1) << u) - 1;
    q = ((r[0] >> u) << 1) | ((lo >> u) & 1);
    if (((r[1] | (UINT64_C(1) << 63)) == ~UINT64_C(0)) & ((lo & ones) == ones) & !exact)
        return teecert_todec_is_int(m, e, p) ? q + 1 : 0;
    return q;
}

/*
 * floor(v * 10^p) with the bignum, exactly, and in *sticky whether the part cut off
 * is non-zero; -1 on an internal error.  m * 2^e * 10^p is an integer times
 * 2^min(e, 0) divided by 10^max(-p, 0), and at most one of the two divisors is not 1
 * (e < 0 means v < 2^53, so k <= 15 and p > 0).
 */
static int teecert_todec_exact(uint64_t m, long e, long p, uint64_t *q, int *sticky)
{
    teecert_bn r;
    teecert_bn_set_u64(&r, m);
    if (e > 0)
        teecert_bn_shl(&r, (unsigned long)e);
    if (p > 0)
        teecert_bn_mul_pow10(&r, (unsigned long)p);
    if (e < 0 && p < 0)
        return -1; /* impossible: see above */
    if (e < 0) {
        *q = teecert_bn_bits64(&r, (unsigned long)-e);
        *sticky = teecert_bn_any_below(&r, (unsigned long)-e);
    } else if (p < 0) {
        *sticky = teecert_bn_div_pow10(&r, (unsigned long)-p);
        *q = teecert_bn_bits64(&r, 0);
    } else {
        *q = teecert_bn_bits64(&r, 0);
        *sticky = 0;
    }
    return r.overflow ? -1 : 0;
}

/* floor(n * log10(2)) for |n| <= 1200 (315653 / 2^20 is close enough to log10(2)
   for the floor to be exact over that range; the tests convert every binade).  The
   offset of 362 * 2^20 keeps the shifted number non-negative (a right shift of a
   negative number is implementation-defined) without a branch on the sign, which
   random inputs would mispredict. */
static long teecert_io_floor_log10_pow2(long n)
{
    return ((n * 315653L + (362L << 20)) >> 20) - 362;
}

static int teecert_io_put(char *out, int pos, const char *s)
{
    size_t k = strlen(s);
    memcpy(out + pos, s, k + 1);
    return pos + (int)k;
}

static const char teecert_todec_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* the eight decimal digits of x < 10^8, two at a time (one division per pair rather
   than per digit) */
static void teecert_todec_put8(char *d, uint32_t x)
{
    uint32_t a = x / 10000u, b = x % 10000u;
    memcpy(d, teecert_todec_pairs + 2 * (a / 100u), 2);
    memcpy(d + 2, teecert_todec_pairs + 2 * (a % 100u), 2);
    memcpy(d + 4, teecert_todec_pairs + 2 * (b / 100u), 2);
    memcpy(d + 6, teecert_todec_pairs + 2 * (b % 100u), 2);
}

int teecert_f64_to_dec(uint64_t bits, char out[TEECERT_DEC_BUF])
{
    int neg = (int)(bits >> 63), pos, sticky = -1, up;
    unsigned bexp = (unsigned)((bits >> 52) & 0x7ff);
    uint64_t m = bits & UINT64_C(0x000fffffffffffff), q, r, rem, sel, half;
    uint32_t lead;
    int big;
    long e, k, p, exp10;

    if (bexp == 0x7ff) {
        if (m != 0)
            return teecert_io_put(out, 0, "nan");
        return teecert_io_put(out, 0, neg ? "-inf" : "inf");
    }
    out[0] = '-';
    pos = neg; /* kept only for a negative number */
    if (bexp == 0 && m == 0)
        return teecert_io_put(out, pos, "0.0000000000000000e+00");
    if (bexp == 0) {
        e = -1074;
    } else {
        m |= UINT64_C(1) << 52;
        e = (long)bexp - 1075;
    }

    /* v in [2^(b - 1), 2^b) with b = bitlen(m) + e, so k is floor((b - 1) log10 2)
       or one more; p = 17 - k_est gives 18 or 19 digits. */
    k = teecert_io_floor_log10_pow2((long)teecert_io_bitlen64(m) + e - 1);
    p = 17 - k;
    q = TEECERT_TODEC_FAST ? teecert_todec_floor(m, e, p) : 0;
    if ((q == 0 && teecert_todec_exact(m, e, p, &q, &sticky) != 0) || q < TEECERT_E17) {
        out[0] = '\0';
        return -1; /* internal error: not reached */
    }

    /* q has 18 or 19 digits (10^19 > 2^64 > q): drop to 17, keeping the remainder
       (both quotients formed and one chosen: which one is data-dependent, a branch
       the CPU would mispredict) */
    big = q >= TEECERT_E18;
    sel = (uint64_t)0 - (uint64_t)big;
    r = ((q / 10) & ~sel) | ((q / 100) & sel);
    rem = q - r * (10 + (90 & sel));
    half = 5 + (45 & sel);
    exp10 = 17 + big - p;
    q = r;
    r = rem;
    up = r > half; /* a flag, not a branch: its value is random */
    if (r == half)
        up = (q & 1) || (sticky >= 0 ? sticky : !teecert_todec_is_int(m, e, p));
    q += (uint64_t)up;
    if (q == TEECERT_E17) {
        q = TEECERT_E16;
        exp10++;
    }

    /* the leading digit, then two blocks of eight */
    lead = (uint32_t)(q / TEECERT_E16);
    q -= lead * TEECERT_E16;
    out[pos++] = (char)('0' + (int)lead);
    out[pos++] = '.';
    teecert_todec_put8(out + pos, (uint32_t)(q / 100000000u));
    teecert_todec_put8(out + pos + 8, (uint32_t)(q % 100000000u));
    pos += 16;
    out[pos++] = 'e';
    big = exp10 < 0;
    out[pos++] = (char)('+' + 2 * big); /* '-' is '+' + 2 in ASCII */
    exp10 = big ? -exp10 : exp10;
    /* the hundreds digit is written always and kept only from 100 on (the buffer has
       room), the next digit overwriting it otherwise */
    out[pos] = (char)('0' + (int)(exp10 / 100));
    pos += exp10 >= 100;
    out[pos++] = (char)('0' + (int)(exp10 / 10 % 10));
    out[pos++] = (char)('0' + (int)(exp10 % 10));
    out[pos] = '\0';
    return pos;
}

/* ---------------------------------------------------------------- data model */

static void teecert_io_le(unsigned char *p, uint64_t v, unsigned bytes)
{
    unsigned i;
    for (i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Written field by field, never by copying a C struct: a struct has padding (the
   compiler's choice of bytes, often stale stack contents) and host byte order. */
void teecert_serialize_record(const uint64_t in[5], unsigned char out[24])
{
    uint64_t price = in[3];
    if ((price & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000) &&
        (price & UINT64_C(0x000fffffffffffff)) != 0)
        price = UINT64_C(0x7ff8000000000000);
    teecert_io_le(out + 0, in[0] & 0xff, 1);                   /* kind   u8  */
    teecert_io_le(out + 1, in[1], 8);                          /* amount u64 */
    teecert_io_le(out + 9, in[2] & UINT64_C(0xffffffff), 4);   /* delta  i32 */
    teecert_io_le(out + 13, price, 8);                         /* price  f64 */
    teecert_io_le(out + 21, in[4] & 0xffff, 2);                /* flags  u16 */
    out[23] = 0;
}

/* A least-significant-digit radix sort on the key (the top 16 bits), four bits per
   pass: each pass is a counting sort, which is stable, so the whole is.  A pass whose
   digit every item shares changes nothing and is skipped: the keys of a stream's
   vectors come from small alphabets, so most take one or two passes.  Branch-free
   per item, unlike a comparison sort, whose comparisons of random keys the CPU
   mispredicts half the time. */
#define TEECERT_SORT_DIGIT 4

void teecert_sort_stable_u64(uint64_t *items, size_t n, uint64_t *scratch)
{
    uint64_t *src = items, *dst = scratch, *tmp;
    uint64_t any = 0, all = ~UINT64_C(0);
    size_t i, sum, count[1u << TEECERT_SORT_DIGIT];
    const uint64_t mask = (UINT64_C(1) << TEECERT_SORT_DIGIT) - 1;
    unsigned shift, d;

    for (i = 0; i < n; i++) {
        any |= items[i];
        all &= items[i];
    }
    for (shift = 48; shift < 64; shift += TEECERT_SORT_DIGIT) {
        if ((((any ^ all) >> shift) & mask) == 0)
            continue; /* every item has this digit */
        memset(count, 0, sizeof count);
        for (i = 0; i < n; i++)
            count[(src[i] >> shift) & mask]++;
        for (d = 0, sum = 0; d <= mask; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & mask]++] = src[i];
        tmp = src;
        src = dst;
        dst = tmp;
    }
    if (src != items)
        memcpy(items, src, n * sizeof items[0]);
}
