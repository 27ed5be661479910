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
 * So both directions are exact big-integer arithmetic on a small fixed-size bignum
 * (32-bit limbs, no allocation) and are checked against Python's exact
 * fractions.Fraction and float()/format() by tests/test_intops.py.
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
 * first, on the stack.  The largest numbers are those of teecert_f64_from_dec:
 * 10^1123 (3731 bits) and a dividend of 3731 + 63 bits, i.e. 119 limbs.  An
 * operation that would not fit sets `overflow` instead of writing past the array;
 * the conversions report that as an internal error (it cannot happen within the
 * bounds above, and the tests drive both conversions to those bounds).
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

static unsigned long teecert_bn_bitlen(const teecert_bn *x)
{
    if (x->n == 0)
        return 0;
    return (unsigned long)(x->n - 1) * 32 + teecert_io_bitlen64(x->d[x->n - 1]);
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

/*
 * *q = floor(u / v) for a quotient below 2^64 (Knuth's algorithm D with 32-bit
 * digits: estimate each quotient digit from the two leading digits of the remainder
 * and the normalized divisor's leading digit, refine it with the next digit, then
 * multiply-subtract and add back if the estimate was still one too large).
 * Returns whether the remainder is non-zero, or -1 if v is zero or the quotient
 * does not fit 64 bits.
 */
static int teecert_bn_div_q64(const teecert_bn *u, const teecert_bn *v, uint64_t *q)
{
    uint32_t un[TEECERT_BN_LIMBS + 1], vn[TEECERT_BN_LIMBS];
    uint32_t qd[2] = {0, 0};
    size_t n = v->n, m, i, j;
    unsigned s;

    if (n == 0)
        return -1;
    if (u->n < n) {
        *q = 0;
        return u->n != 0;
    }
    m = u->n - n;
    if (n == 1) {
        uint64_t r = 0;
        for (j = u->n; j-- > 0;) {
            uint64_t t = (r << 32) | u->d[j];
            uint64_t qq = t / v->d[0];
            r = t % v->d[0];
            if (j >= 2) {
                if (qq)
                    return -1;
            } else {
                qd[j] = (uint32_t)qq;
            }
        }
        *q = ((uint64_t)qd[1] << 32) | qd[0];
        return r != 0;
    }

    s = teecert_io_clz64(v->d[n - 1]) - 32; /* normalize: top bit of vn[n - 1] set */
    if (s == 0) {
        memcpy(vn, v->d, n * sizeof vn[0]);
        memcpy(un, u->d, u->n * sizeof un[0]);
        un[u->n] = 0;
    } else {
        for (i = n - 1; i > 0; i--)
            vn[i] = (v->d[i] << s) | (v->d[i - 1] >> (32 - s));
        vn[0] = v->d[0] << s;
        un[u->n] = u->d[u->n - 1] >> (32 - s);
        for (i = u->n - 1; i > 0; i--)
            un[i] = (u->d[i] << s) | (u->d[i - 1] >> (32 - s));
        un[0] = u->d[0] << s;
    }

    for (j = m + 1; j-- > 0;) {
        uint64_t num = ((uint64_t)un[j + n] << 32) | un[j + n - 1];
        uint64_t qhat = num / vn[n - 1];
        uint64_t rhat = num % vn[n - 1];
        uint64_t carry = 0, borrow = 0, t;
        /* qhat <= 2^32 + 1 here; the product is formed only once qhat < 2^32 */
        while (qhat > TEECERT_U32_ALL || qhat * vn[n - 2] > ((rhat << 32) | un[j + n - 2])) {
            qhat--;
            rhat += vn[n - 1];
            if (rhat > TEECERT_U32_ALL)
                break;
        }
        for (i = 0; i < n; i++) {
            uint64_t p = qhat * vn[i] + carry;
            carry = p >> 32;
            t = (uint64_t)un[i + j] - (p & TEECERT_U32_ALL) - borrow;
            un[i + j] = (uint32_t)t;
            borrow = t >> 63; /* the difference lies in [-2^32, 2^32): wrapped iff negative */
        }
        t = (uint64_t)un[j + n] - carry - borrow;
        un[j + n] = (uint32_t)t;
        if (t >> 63) { /* qhat was one too large: add the divisor back */
            qhat--;
            carry = 0;
            for (i = 0; i < n; i++) {
                uint64_t sum = (uint64_t)un[i + j] + vn[i] + carry;
                un[i + j] = (uint32_t)sum;
                carry = sum >> 32;
            }
            un[j + n] = (uint32_t)(un[j + n] + carry);
        }
        if (j >= 2) {
            if (qhat)
                return -1;
        } else {
            qd[j] = (uint32_t)qhat;
        }
    }
    *q = ((uint64_t)qd[1] << 32) | qd[0];
    for (i = 0; i < n; i++)
        if (un[i])
            return 1;
    return 0;
}

/* -------------------------------------------------------------- f64 -> decimal */

#define TEECERT_E16 UINT64_C(10000000000000000)
#define TEECERT_E17 UINT64_C(100000000000000000)

/* floor(n * log10(2)) for |n| <= 1200 (315653 / 2^20 is close enough to log10(2)
   for the floor to be exact over that range; the tests convert every binade). */
static long teecert_io_floor_log10_pow2(long n)
{
    if (n >= 0)
        return (n * 315653L) >> 20;
    return -(((-n) * 315653L + ((1L << 20) - 1)) >> 20);
}

static int teecert_io_put(char *out, int pos, const char *s)
{
    size_t k = strlen(s);
    memcpy(out + pos, s, k + 1);
    return pos + (int)k;
}

/*
 * Let v = m * 2^e > 0 (exact) and k = floor(log10 v), found from the binary
 * exponent.  Then floor(v * 10^(17 - k)) has 18 digits and is computed exactly
 * with the bignum: m * 2^e * 10^(17 - k) is an integer times 2^min(e, 0) divided by
 * 10^max(k - 17, 0), and at most one of the two divisors is not 1 (e < 0 means
 * v < 2^53, so k <= 15).  A sticky flag records a non-zero remainder.  The last
 * digit is then dropped, and decides (with the sticky flag) the rounding to 17
 * digits, ties to even.  A carry to 10^17 gives 1.0000000000000000e(k + 1).
 */
int teecert_f64_to_dec(uint64_t bits, char out[TEECERT_DEC_BUF])
{
    int neg = (int)(bits >> 63), pos = 0, i, sticky, g, up;
    unsigned bexp = (unsigned)((bits >> 52) & 0x7ff);
    uint64_t m = bits & UINT64_C(0x000fffffffffffff), q;
    long e, k, p, exp10;
    teecert_bn r;
    char digits[17];

    if (bexp == 0x7ff) {
        if (m != 0)
            return teecert_io_put(out, 0, "nan");
        return teecert_io_put(out, 0, neg ? "-inf" : "inf");
    }
    if (neg)
        out[pos++] = '-';
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
    teecert_bn_set_u64(&r, m);
    if (e > 0)
        teecert_bn_shl(&r, (unsigned long)e);
    if (p > 0)
        teecert_bn_mul_pow10(&r, (unsigned long)p);
    if (e < 0 && p < 0)
        return -1; /* impossible: see above */
    if (e < 0) {
        q = teecert_bn_bits64(&r, (unsigned long)-e);
        sticky = teecert_bn_any_below(&r, (unsigned long)-e);
    } else if (p < 0) {
        sticky = teecert_bn_div_pow10(&r, (unsigned long)-p);
        q = teecert_bn_bits64(&r, 0);
    } else {
        q = teecert_bn_bits64(&r, 0);
        sticky = 0;
    }
    if (r.overflow || q < TEECERT_E17) {
        out[0] = '\0';
        return -1; /* internal error: not reached */
    }

    /* q has 18 or 19 digits (10^19 > 2^64 > q): drop to 17, remembering the last
       digit dropped and whether anything below it was non-zero */
    g = 0;
    exp10 = 16 - p;
    while (q >= TEECERT_E17) {
        sticky |= g != 0;
        g = (int)(q % 10);
        q /= 10;
        exp10++;
    }
    up = g > 5 || (g == 5 && (sticky || (q & 1)));
    q += (uint64_t)up;
    if (q == TEECERT_E17) {
        q = TEECERT_E16;
        exp10++;
    }

    for (i = 16; i >= 0; i--) {
        digits[i] = (char)('0' + (int)(q % 10));
        q /= 10;
    }
    out[pos++] = digits[0];
    out[pos++] = '.';
    memcpy(out + pos, digits + 1, 16);
    pos += 16;
    out[pos++] = 'e';
    out[pos++] = exp10 < 0 ? '-' : '+';
    if (exp10 < 0)
        exp10 = -exp10;
    if (exp10 >= 100)
        out[pos++] = (char)('0' + (int)(exp10 / 100));
    out[pos++] = (char)('0' + (int)(exp10 / 10 % 10));
    out[pos++] = (char)('0' + (int)(exp10 % 10));
    out[pos] = '\0';
    return pos;
}

/* -------------------------------------------------------------- decimal -> f64 */

/*
 * Significant digits kept exactly; any further digit only sets a sticky flag.
 *
 * Why that is exact: the result is decided by where the value lies relative to the
 * rounding boundaries near it (binary64 values and the midpoints between them).
 * Each boundary is a multiple of 2^(qe - 1), qe >= -1074 being the quantum of the
 * binade, so its decimal expansion ends at or above the digit of weight 10^(qe - 1);
 * at most 768 significant digits (the worst case is a midpoint next to the smallest
 * normal numbers).  If the 800th significant digit of the input has weight 10^t,
 * every boundary near the value is therefore a multiple of 10^t.  The kept digits
 * D (a multiple of 10^t) and the true value D + tail, 0 < tail < 10^t, thus have no
 * boundary in (D, D + tail]: the value rounds as "D plus something positive and
 * smaller than any distance to the next boundary", which is what the sticky flag
 * says to teecert_io_round.  (For a value above the binary64 range the boundary is
 * an integer; below 10^-324 the result is zero however the digits continue.)
 */
#define TEECERT_DEC_MAX_DIGITS 800
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

int teecert_f64_from_dec(const char *s, size_t len, uint64_t *out)
{
    unsigned char dig[TEECERT_DEC_MAX_DIGITS];
    size_t i = 0, nd = 0, k;
    int neg = 0, any_digit = 0, nonzero_seen = 0, sticky = 0, after_point, exp_neg = 0, rc;
    int64_t e10 = 0, ex = 0, p10;
    uint64_t sign, q;
    long x;
    teecert_bn d, v;

    if (s == 0 || len == 0)
        return TEECERT_DEC_SYNTAX;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
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

    /* digits [ "." digits ]: value = D * 10^e10 (+ sticky tail) */
    for (after_point = 0; after_point < 2; after_point++) {
        if (after_point) {
            if (i >= len || s[i] != '.')
                break;
            i++;
        }
        for (; i < len && teecert_io_is_digit(s[i]); i++) {
            unsigned char c = (unsigned char)(s[i] - '0');
            any_digit = 1;
            if (!nonzero_seen && c == 0) { /* a leading zero */
                e10 -= after_point;
                continue;
            }
            nonzero_seen = 1;
            if (nd < TEECERT_DEC_MAX_DIGITS) {
                dig[nd++] = c;
                e10 -= after_point;
            } else {
                sticky |= c != 0;
                e10 += !after_point;
            }
        }
    }
    if (!any_digit)
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

    while (nd > 0 && dig[nd - 1] == 0) { /* trailing zeros: a smaller D */
        nd--;
        e10++;
    }
    if (nd == 0) {
        *out = sign; /* a signed zero */
        return TEECERT_DEC_OK;
    }
    e10 += exp_neg ? -ex : ex;
    p10 = e10 + (int64_t)nd - 1; /* value in [10^p10, 10^(p10 + 1)) */
    if (p10 > 308) {
        *out = sign | UINT64_C(0x7ff0000000000000);
        return TEECERT_DEC_OK;
    }
    if (p10 < -324) { /* value < 10^-324 < 2^-1075: below half the smallest subnormal */
        *out = sign;
        return TEECERT_DEC_OK;
    }

    /* D, nine digits at a time */
    teecert_bn_set_u64(&d, 0);
    for (k = 0; k < nd;) {
        uint32_t chunk = 0;
        size_t c = nd - k < 9 ? nd - k : 9, j;
        for (j = 0; j < c; j++)
            chunk = chunk * 10 + dig[k + j];
        teecert_bn_mul_add_small(&d, teecert_io_pow10_u32[c], chunk);
        k += c;
    }

    if (e10 >= 0) {
        /* an integer below 10^309: its leading 64 bits and a sticky rest */
        unsigned long n;
        teecert_bn_mul_pow10(&d, (unsigned long)e10);
        n = teecert_bn_bitlen(&d);
        if (n > 64) {
            q = teecert_bn_bits64(&d, n - 64);
            sticky |= teecert_bn_any_below(&d, n - 64);
            x = (long)(n - 64);
        } else {
            q = teecert_bn_bits64(&d, 0);
            x = 0;
        }
        if (d.overflow)
            return TEECERT_DEC_INTERNAL;
    } else {
        /* D / 10^F, F <= 1123: scale by 2^t so that the quotient lies in [2^62, 2^64) */
        long bd, bf, t;
        teecert_bn_set_u64(&v, 1);
        teecert_bn_mul_pow10(&v, (unsigned long)-e10);
        bd = (long)teecert_bn_bitlen(&d);
        bf = (long)teecert_bn_bitlen(&v);
        t = bf - bd + 63;
        if (t >= 0)
            teecert_bn_shl(&d, (unsigned long)t);
        else
            teecert_bn_shl(&v, (unsigned long)-t);
        if (d.overflow || v.overflow)
            return TEECERT_DEC_INTERNAL;
        rc = teecert_bn_div_q64(&d, &v, &q);
        if (rc < 0 || q == 0)
            return TEECERT_DEC_INTERNAL;
        sticky |= rc;
        x = -t;
    }
    *out = teecert_io_round(&teecert_io_binary64, neg, q, x, sticky, TEECERT_INTOPS_RNE);
    return TEECERT_DEC_OK;
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
