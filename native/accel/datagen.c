/*
 * The data-op generator teecert-data-v1 in C.  harness/vectors/streams/data.py is
 * the specification (docs/vectors.md states the same rules in tables); this file
 * must agree with it bit for bit, which tests/vectors/test_data_generator_c.py
 * checks for every data op over several chunks and random spans.
 *
 * Integer code throughout, so the caller's FP environment cannot change it (the one
 * conversion, of integers |k| <= 1024 to floats, is exact).  The exact decimals of
 * f64.from_dec need integers of up to ~800 digits: no library in the accelerator's
 * reach does that without an allocation per value, so a small base-10^9
 * multiplication against tables of 2^k and 5^k is written out here (built once,
 * under pthread_once, since cffi calls run without the GIL).  Class (a) rounds the
 * same exact value to 1..17 digits, ties to even, as CPython's format(x, ".Ne")
 * does (and glibc's printf in the default rounding mode, against which it was
 * checked on ~10^7 doubles: halves of integers, powers of 2 and 10 and neighbours).
 *
 * Where it matters for speed, work is laid out so the compiler sees constants:
 * the integer rules are instantiated per rule and width, and with AVX-512 (chosen at
 * run time; TEECERT_ACCEL_SCALAR forces the portable code) eight vectors go through
 * each rule at once.  Both paths give the same bytes; the tests run both.
 */
#include "accel.h"
#include "splitmix.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DG_M48 ((UINT64_C(1) << 48) - 1)
#define DG_F64_EXP UINT64_C(0x7FF0000000000000)
#define DG_F64_SIGN (UINT64_C(1) << 63)
#define DG_HASH_MSG 512
#define DG_SORT_ITEMS 64
#define DG_DEC_TEXT 1024

/* d_0 .. d_{n-1} of the vector whose state is t: draw(t, k) = mix(t + (k+1) GAMMA). */
static inline void dg_material(uint64_t t, uint64_t *d, unsigned n)
{
    unsigned k;
    for (k = 0; k < n; k++) {
        t += TEECERT_GAMMA;
        d[k] = teecert_mix(t);
    }
}

static inline uint64_t dg_p16(uint64_t d) { return (d >> 32) & 0xFFFFu; }

static inline uint64_t dg_mask(unsigned w) { return w == 64 ? ~UINT64_C(0) : (UINT64_C(1) << w) - 1; }

/* Byte stores one by one are what GCC keeps of these loops when they are inlined
 * into the generator's loops, several times slower than one 8-byte store: on a
 * little-endian GCC or Clang target the words are stored whole. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DG_WHOLE_WORDS 1
#else
#define DG_WHOLE_WORDS 0
#endif

static inline void dg_le(unsigned char *o, uint64_t v, unsigned bytes)
{
    unsigned i;
#if DG_WHOLE_WORDS
    if (bytes == 8) {
        memcpy(o, &v, 8);
        return;
    }
    if (bytes == 4) {
        uint32_t w = (uint32_t)v;
        memcpy(o, &w, 4);
        return;
    }
#endif
    for (i = 0; i < bytes; i++)
        o[i] = (unsigned char)(v >> (8 * i));
}

static inline void dg_be(unsigned char *o, uint64_t v)
{
#if DG_WHOLE_WORDS
    v = __builtin_bswap64(v);
    memcpy(o, &v, 8);
#else
    int i;
    for (i = 0; i < 8; i++)
        o[i] = (unsigned char)(v >> (56 - 8 * i));
#endif
}

/* The long draws (a hash message, the sort items: 65 words a vector) eight words at a
 * time where the CPU has AVX-512 (chosen at run time, as mixgen.c's float generator
 * is, and with TEECERT_ACCEL_SCALAR set never): the same words as dg_material. */
#if TEECERT_HAVE_AVX512
#define DG_AVX512 __attribute__((target("avx512f,avx512dq")))
#define DG_S64(x) _mm512_set1_epi64((long long)(x))

/* Words mix(t + (k+1) GAMMA), k < n, big-endian at o: a hash message's bytes. */
DG_AVX512 static void dg_words_be_avx512(uint64_t t, unsigned char *o, unsigned n)
{
    __m512i z = _mm512_add_epi64(
        DG_S64(t), _mm512_set_epi64((long long)(8 * TEECERT_GAMMA), (long long)(7 * TEECERT_GAMMA),
                                    (long long)(6 * TEECERT_GAMMA), (long long)(5 * TEECERT_GAMMA),
                                    (long long)(4 * TEECERT_GAMMA), (long long)(3 * TEECERT_GAMMA),
                                    (long long)(2 * TEECERT_GAMMA), (long long)TEECERT_GAMMA));
    const __m512i even = DG_S64(UINT64_C(0x00FF00FF00FF00FF));
    unsigned k = 0;
    for (; k + 8 <= n; k += 8) {
        __m512i x = _mm512_xor_si512(z, _mm512_srli_epi64(z, 30));
        x = _mm512_mullo_epi64(x, DG_S64(UINT64_C(0xBF58476D1CE4E5B9)));
        x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 27));
        x = _mm512_mullo_epi64(x, DG_S64(UINT64_C(0x94D049BB133111EB)));
        x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 31));
        /* byte swap with AVX-512F alone: the halves, the quarters, then the bytes */
        x = _mm512_rol_epi64(x, 32);
        x = _mm512_rol_epi32(x, 16);
        x = _mm512_or_si512(_mm512_slli_epi64(_mm512_and_si512(x, even), 8),
                            _mm512_and_si512(_mm512_srli_epi64(x, 8), even));
        _mm512_storeu_si512((void *)(o + 8 * k), x);
        z = _mm512_add_epi64(z, DG_S64(8 * TEECERT_GAMMA));
    }
    _mm256_zeroupper();
    for (; k < n; k++)
        dg_be(o + 8 * k, teecert_mix(t + (uint64_t)(k + 1) * TEECERT_GAMMA));
}
#undef DG_S64

typedef void (*dg_words_be_fn)(uint64_t t, unsigned char *o, unsigned n);

static void dg_words_be_scalar(uint64_t t, unsigned char *o, unsigned n)
{
    unsigned k;
    for (k = 0; k < n; k++)
        dg_be(o + 8 * k, teecert_mix(t + (uint64_t)(k + 1) * TEECERT_GAMMA));
}

static int dg_use_avx512(void)
{
    /* Decided once; a race between two first callers stores the same value. */
    static int use = -1;
    if (use < 0) {
        __builtin_cpu_init();
        use = getenv("TEECERT_ACCEL_SCALAR") == 0 && __builtin_cpu_supports("avx512f") &&
              __builtin_cpu_supports("avx512dq");
    }
    return use;
}
#define DG_WORDS_BE_FN() (dg_use_avx512() ? dg_words_be_avx512 : dg_words_be_scalar)
#define DG_BLOCK_FN() (dg_use_avx512() ? dg_block_avx512 : dg_block_scalar)
#define DG_SORT_FN() (dg_use_avx512() ? dg_sort_items_avx512 : dg_sort_items_scalar)
#else
static void dg_words_be_scalar(uint64_t t, unsigned char *o, unsigned n)
{
    unsigned k;
    for (k = 0; k < n; k++)
        dg_be(o + 8 * k, teecert_mix(t + (uint64_t)(k + 1) * TEECERT_GAMMA));
}
#define DG_WORDS_BE_FN() dg_words_be_scalar
#define DG_BLOCK_FN() dg_block_scalar
#define DG_SORT_FN() dg_sort_items_scalar
#endif

/* ------------------------------------------------------------------ integers */

#if defined(__GNUC__) || defined(__clang__)
#define DG_INLINE __attribute__((always_inline)) inline
#else
#define DG_INLINE inline
#endif

/*
 * The operand rules below are called with a constant width from the stream loops,
 * so every `%` is by a compile-time constant (a multiply-high, or a mask for a power
 * of two), and they compute every class's candidate and pick one by index: the class
 * is uniformly random, so a branch on it would mispredict on a large share of the
 * vectors and cost more than all the arithmetic.
 */
static const uint64_t DG_BOUNDS64[8] = {0, 1, ~UINT64_C(0), UINT64_C(1) << 63,
                                        (UINT64_C(1) << 63) - 1, (UINT64_C(1) << 63) + 1,
                                        (UINT64_C(1) << 63) - 2, 2};
static const uint64_t DG_BOUNDS32[8] = {0, 1, UINT64_C(0xFFFFFFFF), UINT64_C(1) << 31,
                                        (UINT64_C(1) << 31) - 1, (UINT64_C(1) << 31) + 1,
                                        (UINT64_C(1) << 31) - 2, 2};
/* class >> 1 -> candidate of int_operand: uniform, small, table, 2^k +- 1, b bits */
static const unsigned char DG_INT_PICK[8] = {0, 0, 0, 0, 1, 2, 3, 4};

/* exactly b significant bits from m, b in 0 .. 64 (0 gives 0) */
static DG_INLINE uint64_t dg_bits(uint64_t b, uint64_t m)
{
    const uint64_t nz = UINT64_C(0) - (uint64_t)(b != 0);
    const uint64_t hb = (UINT64_C(1) << ((b - 1) & 63)) & nz;
    return (m | hb) & (hb + hb - 1) & nz;
}

static DG_INLINE uint64_t dg_neg_if(uint64_t v, uint64_t cond)
{
    const uint64_t s = UINT64_C(0) - cond;
    return (v ^ s) - s;
}

static DG_INLINE uint64_t dg_int_operand(const unsigned w, uint64_t c, uint64_t m)
{
    const uint64_t mask = dg_mask(w);
    const unsigned cls = (unsigned)(c >> 60);
    const uint64_t p = dg_p16(c);
    uint64_t cand[5], v;
    cand[0] = m & mask;
    cand[1] = (m % 65 - 32) & mask;
    cand[2] = (w == 64 ? DG_BOUNDS64 : DG_BOUNDS32)[p % 8];
    v = (UINT64_C(1) << (p % w)) - 1 + (p >> 8) % 3;
    cand[3] = dg_neg_if(v, (p >> 10) & 1) & mask;
    cand[4] = dg_neg_if(dg_bits(p % (w + 1), m), cls == 15) & mask;
    return cand[DG_INT_PICK[cls >> 1]];
}

static const uint64_t DG_SHIFT_TABLE64[8] = {UINT64_C(1) << 32, (UINT64_C(1) << 32) + 1,
                                             UINT64_C(1) << 63, ~UINT64_C(0), UINT64_C(0) - 64,
                                             2 * 64 + 1, 4 * 64, (UINT64_C(1) << 32) + 64 - 1};
static const uint64_t DG_SHIFT_TABLE32[8] = {UINT64_C(1) << 32, (UINT64_C(1) << 32) + 1,
                                             UINT64_C(1) << 63, ~UINT64_C(0), UINT64_C(0) - 32,
                                             2 * 32 + 1, 4 * 32, (UINT64_C(1) << 32) + 32 - 1};
/* class -> candidate of shift_count: 0 .. 2W+1, W-1 .. W+1, table, uniform */
static const unsigned char DG_SHIFT_PICK[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 3, 3};

static DG_INLINE uint64_t dg_shift_count(const unsigned w, uint64_t c, uint64_t m)
{
    uint64_t cand[4];
    cand[0] = m % (2 * w + 2);
    cand[1] = w - 1 + m % 3;
    cand[2] = (w == 64 ? DG_SHIFT_TABLE64 : DG_SHIFT_TABLE32)[dg_p16(c) % 8];
    cand[3] = m;
    return cand[DG_SHIFT_PICK[c >> 60]];
}

/* --------------------------------------------------------------- conversions */

/* SAT_BOUNDARIES (0.5, 1, 2^31, 2^32, 2^63, 2^64) as binary64 and binary32 patterns, and
   two unused entries: eight words for a vector register */
static const uint64_t DG_SAT_BITS64[8] = {
    UINT64_C(0x3FE0000000000000), UINT64_C(0x3FF0000000000000), UINT64_C(0x41E0000000000000),
    UINT64_C(0x41F0000000000000), UINT64_C(0x43E0000000000000), UINT64_C(0x43F0000000000000)};
static const uint64_t DG_SAT_BITS32[8] = {0x3F000000, 0x3F800000, 0x4F000000,
                                          0x4F800000, 0x5F000000, 0x5F800000};

static DG_INLINE uint64_t dg_sat_operand(const unsigned w, uint64_t c, uint64_t m)
{
    const uint64_t p = dg_p16(c);
    const uint64_t edge = ((w == 64 ? DG_SAT_BITS64 : DG_SAT_BITS32)[p % 6] + (p >> 8) % 7 - 3) |
                          (((p >> 11) & 1) << (w - 1));
    const uint64_t mixed = teecert_mix_value(w, c << 4, m);
    const uint64_t take = UINT64_C(0) - (uint64_t)(c >> 60 <= 11);
    return (mixed & take) | (edge & ~take);
}

/* int_source for any width, signedness and precision (the streams' own combinations
   go through dg_int_source_k with constants) */
static uint64_t dg_int_source(unsigned w, int is_signed, unsigned precision, const uint64_t *d)
{
    const uint64_t c = d[0], m = d[1], low = d[2], mask = dg_mask(w);
    const unsigned cls = (unsigned)(c >> 60);
    const uint64_t p = dg_p16(c);
    unsigned top, b, k;
    int neg;
    uint64_t mag;
    if (cls <= 3)
        return m & mask;
    top = is_signed ? w - 1 : w;
    neg = is_signed && ((p >> 10) & 1);
    if (cls <= 7 || top <= precision) {
        b = 1 + (unsigned)(p % top);
        mag = (UINT64_C(1) << (b - 1)) | (m & ((UINT64_C(1) << (b - 1)) - 1));
    } else {
        uint64_t half, s, mode;
        k = 1 + (unsigned)(p % (top - precision));
        half = UINT64_C(1) << (k - 1);
        s = (UINT64_C(1) << (precision - 1)) | (m & ((UINT64_C(1) << (precision - 1)) - 1));
        mode = (p >> 8) & 3;
        mag = (s << k) + half;
        if (mode == 2)
            mag |= low & (half - 1);
        else if (mode == 3)
            mag -= 1;
    }
    return (neg ? UINT64_C(0) - mag : mag) & mask;
}

/* The same as dg_int_source, branch-free, for constant arguments. */
static DG_INLINE uint64_t dg_int_source_k(const unsigned w, const int is_signed,
                                          const unsigned precision, uint64_t c, uint64_t m,
                                          uint64_t low)
{
    const uint64_t mask = dg_mask(w);
    const unsigned cls = (unsigned)(c >> 60);
    const uint64_t p = dg_p16(c);
    const unsigned top = is_signed ? w - 1 : w;
    const uint64_t neg = is_signed ? (p >> 10) & 1 : 0;
    uint64_t mag = dg_bits(1 + p % top, m);
    if (top > precision) {
        const unsigned span = top > precision ? top - precision : 1;
        const uint64_t k = 1 + p % span, half = UINT64_C(1) << (k - 1), mode = (p >> 8) & 3;
        const uint64_t s = (UINT64_C(1) << (precision - 1)) |
                           (m & ((UINT64_C(1) << (precision - 1)) - 1));
        uint64_t tie = (s << k) + half;
        tie |= low & (half - 1) & (UINT64_C(0) - (uint64_t)(mode == 2));
        tie -= (uint64_t)(mode == 3);
        mag = cls <= 7 ? mag : tie;
    }
    mag = dg_neg_if(mag, neg) & mask;
    return cls <= 3 ? m & mask : mag;
}

/* ------------------------------------------------- exact decimals (big integers) */

#define DG_BASE 1000000000u
#define DG_POW5_MAX 1075 /* 5^1075: the smallest exponent of a midpoint is -1075 */
#define DG_POW2_MAX 971  /* 2^971: the largest of LIMITS and of the midpoints */
#define DG_LIMBS 92      /* enough for 2^55 * 5^1075 (~770 digits) */
#define DG_DIGITS (9 * (DG_LIMBS + 2) + 16) /* room for the digits of any product */

/* The limbs (base 10^9, least significant first) of 5^k and 2^k, each table entry
   at its offset in one array without padding: a quarter of the memory of fixed-size
   rows (~240 KiB), which keeps the tables in the L2 cache. */
#define DG_POW_LIMBS 61731 /* sum of the lengths of 5^0 .. 5^1075 and 2^0 .. 2^971 */
static uint32_t dg_pow_limbs[DG_POW_LIMBS + DG_LIMBS];
static uint32_t dg_pow5_at[DG_POW5_MAX + 1];
static unsigned char dg_pow5_len[DG_POW5_MAX + 1];
static uint32_t dg_pow2_at[DG_POW2_MAX + 1];
static unsigned char dg_pow2_len[DG_POW2_MAX + 1];
static pthread_once_t dg_tables_once = PTHREAD_ONCE_INIT;

/* n * 2^k == limb[len-1 .. 0] (base 10^9) * 10^e, limb[len-1] != 0 */
struct dg_big {
    uint32_t limb[DG_LIMBS + 2];
    unsigned len;
    int e;
};

static const char DG_PAIRS[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* v < 10^9 as exactly nine digits.  v * ceil(2^57 / 10^8) is v / 10^8 in fixed point
   with 57 fraction bits, too large by less than v / 4 units; after s steps of *100
   that is below 10^(2s) * 10^9 / 4 / 2^57 < 10^(2s - 8) of bit 57's unit, less than
   the gap to the next digit pair, so each step brings the next two digits above
   bit 57 exactly (and a run over every v < 10^9 agrees). */
static inline void dg_nine(char *o, uint32_t v)
{
    const uint64_t frac = (UINT64_C(1) << 57) - 1;
    uint64_t y = (uint64_t)v * UINT64_C(1441151881);
    o[0] = (char)('0' + (y >> 57));
    y = (y & frac) * 100;
    memcpy(o + 1, DG_PAIRS + 2 * (y >> 57), 2);
    y = (y & frac) * 100;
    memcpy(o + 3, DG_PAIRS + 2 * (y >> 57), 2);
    y = (y & frac) * 100;
    memcpy(o + 5, DG_PAIRS + 2 * (y >> 57), 2);
    y = (y & frac) * 100;
    memcpy(o + 7, DG_PAIRS + 2 * (y >> 57), 2);
}

static inline unsigned dg_len9(uint32_t v)
{
    return 1u + (v >= 10) + (v >= 100) + (v >= 1000) + (v >= 10000) + (v >= 100000) +
           (v >= 1000000) + (v >= 10000000) + (v >= 100000000);
}

/* v < 10^9 without leading zeros; returns the number of digits nd.  The fixed point
   of dg_nine scaled to v's length, v * ceil(2^57 / 10^(nd-1)), then a digit per *10:
   the error bound holds for every nd <= 9 (10^(2 nd - 1) < 2^57). */
static inline unsigned dg_dec9(char *o, uint32_t v)
{
    static const uint64_t scale[10] = {
        0, UINT64_C(144115188075855872), UINT64_C(14411518807585588),
        UINT64_C(1441151880758559), UINT64_C(144115188075856), UINT64_C(14411518807586),
        UINT64_C(1441151880759), UINT64_C(144115188076), UINT64_C(14411518808),
        UINT64_C(1441151881)};
    const uint64_t frac = (UINT64_C(1) << 57) - 1;
    const unsigned nd = dg_len9(v);
    uint64_t y = (uint64_t)v * scale[nd];
    unsigned i;
    o[0] = (char)('0' + (y >> 57));
    for (i = 1; i < nd; i++) {
        y = (y & frac) * 10;
        o[i] = (char)('0' + (y >> 57));
    }
    return nd;
}

/* v < 10^19 as exactly nineteen digits */
static inline void dg_nineteen(char *o, uint64_t v)
{
    const uint64_t e18 = UINT64_C(1000000000000000000), r = v % e18;
    o[0] = (char)('0' + v / e18);
    dg_nine(o + 1, (uint32_t)(r / DG_BASE));
    dg_nine(o + 10, (uint32_t)(r % DG_BASE));
}

/* any 64-bit v without leading zeros */
static unsigned dg_dec64(char *o, uint64_t v)
{
    const uint64_t e18 = UINT64_C(1000000000000000000);
    unsigned nd;
    if (v < DG_BASE)
        return dg_dec9(o, (uint32_t)v);
    if (v < e18) {
        nd = dg_dec9(o, (uint32_t)(v / DG_BASE));
        dg_nine(o + nd, (uint32_t)(v % DG_BASE));
        return nd + 9;
    }
    nd = dg_dec9(o, (uint32_t)(v / e18));
    v %= e18;
    dg_nine(o + nd, (uint32_t)(v / DG_BASE));
    dg_nine(o + nd + 9, (uint32_t)(v % DG_BASE));
    return nd + 18;
}

static unsigned dg_mul_small(const uint32_t *a, unsigned n, uint32_t f, uint32_t *out)
{
    uint64_t carry = 0;
    unsigned i;
    for (i = 0; i < n; i++) {
        uint64_t x = (uint64_t)a[i] * f + carry;
        out[i] = (uint32_t)(x % DG_BASE);
        carry = x / DG_BASE;
    }
    while (carry) {
        out[n++] = (uint32_t)(carry % DG_BASE);
        carry /= DG_BASE;
    }
    return n;
}

static unsigned dg_big_digits(const struct dg_big *b, char *dig, int *e_out);
static void dg_exact(uint64_t n, int k, struct dg_big *b);

/* Class (d)'s eight values, whose digits are the same every time. */
static const struct { uint64_t n; int k; } DG_LIMITS[8] = {
    {(UINT64_C(1) << 53) - 1, 971}, {1, -1022}, {1, -1074}, {1, -1075},
    {(UINT64_C(1) << 54) - 1, 970}, {(UINT64_C(1) << 52) - 1, -1074},
    {(UINT64_C(1) << 53) - 1, -1075}, {3, -1075},
};
static char dg_limit_dig[8][DG_DIGITS];
static unsigned dg_limit_nd[8];
static int dg_limit_e[8];

static void dg_build_tables(void)
{
    unsigned k;
    struct dg_big b;
    uint32_t at = 0;
    /* the entries fill dg_pow_limbs[0 .. DG_POW_LIMBS-1] exactly; a row more is there
       only as a margin */
    dg_pow_limbs[at] = 1;
    dg_pow5_at[0] = at;
    dg_pow5_len[0] = 1;
    at += 1;
    for (k = 1; k <= DG_POW5_MAX; k++) {
        dg_pow5_at[k] = at;
        dg_pow5_len[k] = (unsigned char)dg_mul_small(dg_pow_limbs + dg_pow5_at[k - 1],
                                                     dg_pow5_len[k - 1], 5, dg_pow_limbs + at);
        at += dg_pow5_len[k];
    }
    dg_pow_limbs[at] = 1;
    dg_pow2_at[0] = at;
    dg_pow2_len[0] = 1;
    at += 1;
    for (k = 1; k <= DG_POW2_MAX; k++) {
        dg_pow2_at[k] = at;
        dg_pow2_len[k] = (unsigned char)dg_mul_small(dg_pow_limbs + dg_pow2_at[k - 1],
                                                     dg_pow2_len[k - 1], 2, dg_pow_limbs + at);
        at += dg_pow2_len[k];
    }
    for (k = 0; k < 8; k++) {
        dg_exact(DG_LIMITS[k].n, DG_LIMITS[k].k, &b);
        dg_limit_nd[k] = dg_big_digits(&b, dg_limit_dig[k], &dg_limit_e[k]);
    }
}

/* n * 2^k exactly, 0 < n < 10^18 (data.exact_decimal before the digits): the table's
   2^k or 5^-k times n's two limbs.  Each step's sum is below 2 * 10^18 + 2 * 10^9,
   and the divisions by 10^9 are multiplications.  The carry makes one step wait for
   the one before, so the two halves of the table entry go through two chains side
   by side, and the lower chain's last carry is added into the upper half after. */
static void dg_exact(uint64_t n, int k, struct dg_big *b)
{
    const uint32_t *pw;
    const uint64_t n0 = n % DG_BASE, n1 = n / DG_BASE;
    unsigned pn, i, len, h;
    uint32_t *prod = b->limb;
    uint64_t prev_lo = 0, carry_lo = 0, prev_hi, carry_hi = 0, acc, x;
    if (k >= 0) {
        pw = dg_pow_limbs + dg_pow2_at[k];
        pn = dg_pow2_len[k];
        b->e = 0;
    } else {
        pw = dg_pow_limbs + dg_pow5_at[-k];
        pn = dg_pow5_len[-k];
        b->e = k;
    }
    h = pn / 2; /* limbs 0 .. h-1 in the lower chain, h .. pn-1 in the upper */
    prev_hi = h ? pw[h - 1] : 0;
    for (i = 0; i < h; i++) {
        const uint64_t lo = pw[i], hi = pw[h + i];
        const uint64_t acc_lo = lo * n0 + prev_lo * n1 + carry_lo;
        const uint64_t acc_hi = hi * n0 + prev_hi * n1 + carry_hi;
        carry_lo = acc_lo / DG_BASE;
        carry_hi = acc_hi / DG_BASE;
        prod[i] = (uint32_t)(acc_lo - carry_lo * DG_BASE);
        prod[h + i] = (uint32_t)(acc_hi - carry_hi * DG_BASE);
        prev_lo = lo;
        prev_hi = hi;
    }
    for (i = 2 * h; i < pn; i++) { /* an odd length's last limb */
        const uint64_t hi = pw[i];
        acc = hi * n0 + prev_hi * n1 + carry_hi;
        carry_hi = acc / DG_BASE;
        prod[i] = (uint32_t)(acc - carry_hi * DG_BASE);
        prev_hi = hi;
    }
    acc = prev_hi * n1 + carry_hi;
    carry_hi = acc / DG_BASE;
    prod[pn] = (uint32_t)(acc - carry_hi * DG_BASE);
    prod[pn + 1] = (uint32_t)carry_hi;
    /* the product is below 10^(9 (pn + 2)): the carry stops by limb pn + 1 */
    for (i = h, x = carry_lo; x; i++) {
        const uint64_t sum = prod[i] + x;
        x = sum / DG_BASE;
        prod[i] = (uint32_t)(sum - x * DG_BASE);
    }
    len = pn + 2;
    while (len > 1 && prod[len - 1] == 0)
        len--;
    b->len = len;
}

#if TEECERT_HAVE_AVX512
/* dg_nine of limb[hi-1], limb[hi-2] .. limb[lo] at o, eight limbs at a time: the
   same fixed point, one digit per step, and *10 as (y << 3) + (y << 1). */
DG_AVX512 static void dg_nines_avx512(const uint32_t *limb, unsigned lo, unsigned hi, char *o)
{
    const __m512i frac = _mm512_set1_epi64((long long)((UINT64_C(1) << 57) - 1));
    unsigned i = hi, k, l;
    while (i - lo >= 8) {
        uint64_t first[8], rest[8];
        __m512i y, w = _mm512_setzero_si512();
        i -= 8; /* lane l: limb[i + l], printed at o + 9 (7 - l) */
        y = _mm512_mul_epu32(
            _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(const void *)(limb + i))),
            _mm512_set1_epi64(1441151881));
        _mm512_storeu_si512((void *)first,
                            _mm512_add_epi64(_mm512_srli_epi64(y, 57), _mm512_set1_epi64('0')));
        for (k = 0; k < 8; k++) {
            y = _mm512_and_si512(y, frac);
            y = _mm512_add_epi64(_mm512_slli_epi64(y, 3), _mm512_slli_epi64(y, 1));
            w = _mm512_or_si512(w, _mm512_sll_epi64(_mm512_srli_epi64(y, 57),
                                                    _mm_cvtsi32_si128((int)(8 * k))));
        }
        /* digits 1 .. 8 as the bytes of one little-endian word per lane */
        _mm512_storeu_si512((void *)rest,
                            _mm512_add_epi64(w, _mm512_set1_epi64((long long)UINT64_C(0x3030303030303030))));
        for (l = 0; l < 8; l++) {
            o[9 * (7 - l)] = (char)first[l];
            memcpy(o + 9 * (7 - l) + 1, &rest[l], 8);
        }
        o += 72;
    }
    _mm256_zeroupper();
    while (i > lo) {
        dg_nine(o, limb[--i]);
        o += 9;
    }
}
#endif

/* digits (no trailing zeros) and E of the value: data.exact_decimal.  Returns the
   number of digits; dig gets a NUL. */
static unsigned dg_big_digits(const struct dg_big *b, char *dig, int *e_out)
{
    unsigned lo = 0, i, nd;
    int e = b->e;
    while (b->limb[lo] == 0) /* the value is not zero: a limb is not */
        lo++;
    e += 9 * (int)lo;
    nd = dg_dec9(dig, b->limb[b->len - 1]);
#if TEECERT_HAVE_AVX512
    if (dg_use_avx512()) {
        dg_nines_avx512(b->limb, lo, b->len - 1, dig + nd);
        nd += 9 * (b->len - 1 - lo);
    } else
#endif
    {
        for (i = b->len - 1; i-- > lo;) {
            dg_nine(dig + nd, b->limb[i]);
            nd += 9;
        }
    }
    while (dig[nd - 1] == '0') { /* limb[lo] is not zero: the loop stops within its digits */
        nd--;
        e++;
    }
    dig[nd] = 0;
    *e_out = e;
    return nd;
}

/* the letter, the sign ('+' only with plus), at least `min` (1 or 2) digits of |x| */
static unsigned dg_exponent(char *o, char letter, int x, int plus, unsigned min)
{
    unsigned at = 0, a = (unsigned)(x < 0 ? -x : x);
    o[at++] = letter;
    if (x < 0)
        o[at++] = '-';
    else if (plus)
        o[at++] = '+';
    if (min == 2 && a < 10)
        o[at++] = '0';
    return at + dg_dec9(o + at, a);
}

/* A double as printf("%.*e", prec, value) and CPython's format(value, ".{prec}e"):
   the exact decimal value rounded to prec + 1 digits, ties to even.  Only the top
   limbs are printed; the ones below only tell whether anything non-zero follows. */
static unsigned dg_format_e(char *out, uint64_t bits, unsigned prec)
{
    const unsigned sig = prec + 1;
    const uint64_t x = bits & ~DG_F64_SIGN;
    char buf[64];
    unsigned at = 0, nd, i, lowest;
    int exp10 = 0;
    if (bits >> 63)
        out[at++] = '-';
    if (x == 0) {
        memset(buf, '0', sig);
    } else {
        const unsigned biased = (unsigned)(x >> 52);
        const uint64_t frac = x & ((UINT64_C(1) << 52) - 1);
        struct dg_big b;
        int sticky = 0;
        dg_exact(biased == 0 ? frac : frac | (UINT64_C(1) << 52),
                 biased == 0 ? -1074 : (int)biased - 1075, &b);
        lowest = b.len - 1;
        nd = dg_dec9(buf, b.limb[lowest]);
        exp10 = (int)(nd + 9 * lowest) - 1 + b.e;
        while (nd <= sig && lowest > 0) {
            dg_nine(buf + nd, b.limb[--lowest]);
            nd += 9;
        }
        for (i = 0; i < lowest && !sticky; i++)
            sticky = b.limb[i] != 0;
        if (nd > sig) {
            const char r = buf[sig];
            int up;
            for (i = sig + 1; i < nd && !sticky; i++)
                sticky = buf[i] != '0';
            /* '0' is even, so a digit's parity is its character's */
            up = r > '5' || (r == '5' && (sticky || (buf[sig - 1] & 1)));
            if (up) {
                i = sig;
                while (i > 0 && buf[i - 1] == '9')
                    buf[--i] = '0';
                if (i == 0) {
                    buf[0] = '1';
                    exp10++;
                } else {
                    buf[i - 1]++;
                }
            }
        } else {
            memset(buf + nd, '0', sig - nd); /* every limb printed: exact */
        }
    }
    out[at++] = buf[0];
    if (prec) {
        out[at++] = '.';
        memcpy(out + at, buf + 1, prec);
        at += prec;
    }
    return at + dg_exponent(out + at, 'e', exp10, 1, 2);
}

/* [-]D[.DDD]e(+|-)X of int(digits) * 10^E (data.scientific), in place: the digits
   are at out + neg + 1, and the first moves down one place for the point. */
static unsigned dg_scientific(char *out, int neg, unsigned nd, int e)
{
    char *const dig = out + neg + 1;
    unsigned at = (unsigned)neg + 1;
    if (neg)
        out[0] = '-';
    out[neg] = dig[0];
    if (nd > 1) {
        dig[0] = '.';
        at += nd;
    }
    return at + dg_exponent(out + at, 'e', e + (int)nd - 1, 1, 1);
}

/* int(digits) * 10^(z+1) +- 1, E - z - 1 (data.extend), in place: dig has room. */
static unsigned dg_extend(char *dig, unsigned nd, int *e, unsigned z, int up)
{
    unsigned i;
    if (up) {
        memset(dig + nd, '0', z);
        dig[nd + z] = '1';
        nd += z + 1;
    } else {
        i = nd;
        while (i > 0 && dig[i - 1] == '0')
            dig[--i] = '9';
        dig[i - 1]--; /* digits > 0, so a non-zero digit is found */
        if (dig[0] == '0') { /* only "1000..." minus one: drop the leading zero */
            memmove(dig, dig + 1, nd - 1);
            nd--;
        }
        memset(dig + nd, '9', z + 1);
        nd += z + 1;
    }
    dig[nd] = 0;
    *e -= (int)z + 1;
    return nd;
}

/* data.nudge: variant 0 as is, 1 truncated, 2 and 3 extended up and down. */
static unsigned dg_nudge(unsigned variant, char *dig, unsigned nd, int *e, uint64_t r)
{
    if (variant == 1) {
        unsigned t = nd > 17 ? 17 + (unsigned)(r % (nd - 17)) : (nd - 1 > 1 ? nd - 1 : 1);
        if (nd <= 1)
            t = 1;
        *e += (int)(nd - t);
        dig[t] = 0;
        return t;
    }
    if (variant >= 2)
        return dg_extend(dig, nd, e, (unsigned)(r % 192), variant == 2);
    return nd;
}

static uint64_t dg_finite(uint64_t bits)
{
    return (bits & DG_F64_EXP) == DG_F64_EXP ? bits & ~(UINT64_C(1) << 62) : bits;
}

/* exact decimal of the midpoint of a finite non-negative double and its successor */
static unsigned dg_midpoint(uint64_t bits, char *dig, int *e)
{
    const unsigned biased = (unsigned)((bits >> 52) & 0x7FF);
    const uint64_t frac = bits & ((UINT64_C(1) << 52) - 1);
    uint64_t mant = biased == 0 ? frac : frac | (UINT64_C(1) << 52);
    int q = biased == 0 ? -1074 : (int)biased - 1075;
    struct dg_big b;
    dg_exact(2 * mant + 1, q - 1, &b);
    return dg_big_digits(&b, dig, e);
}

static const char *const DG_MALFORMED[32] = {
    "", ".", "e5", "1e", "1e+", "+", "-", " 1",
    "1 ", "\t1", "1_000", "0x10", "infinity", "nan(1)", "1,5", "+-1",
    "--1", "1.2.3", "1e5.5", "1e+-3", "..1", ".e1", "1d5", "1.0f",
    "inf1", "-in", "nanq", "1e1e1", "\xd9\xa1", "\xef\xbc\x91", "1\n", "0.5E",
};

static const char *const DG_SPELLINGS[16] = {
    "inf", "-inf", "+INF", "Inf", "nan", "-nan", "NaN", "+nAn",
    "0", "-0", "+0.000e-999", "-.0", "1e99999999999999999999", "-1e-400",
    "+00012.500e0005", "9007199254740993",
};

/* The text of an f64.from_dec vector from d_0 .. d_5 (data.dec_text) written straight
   into its slot out; returns its length, and leaves bytes after it to the caller.
   The tables must be built.  Nothing is written past 1000 bytes: the longest
   product has 768 digits (2^55 * 5^1075), a nudge adds at most 192, and (h)'s texts
   have at most 864 digits, each with at most sign, point and "e-1234" besides. */
static unsigned dg_dec_text(const uint64_t *d, char *out)
{
    const unsigned sel = (unsigned)(d[0] >> 60);
    const uint64_t p = dg_p16(d[0]);
    const int neg = (p >> 6) & 1;
    char *const dig = out + neg + 1; /* see dg_scientific */
    unsigned nd;
    int e;
    if (sel <= 3) /* (a) a double printed with 1..17 significant digits */
        return dg_format_e(out, dg_finite(d[1]), (unsigned)(p % 17));
    if (sel <= 6) { /* (b) the midpoint of a double and its successor, nudged */
        uint64_t b = d[1] & ~DG_F64_SIGN;
        if (sel == 6)
            b = (b & ~DG_F64_EXP) | ((1003 + ((b >> 52) % 96)) << 52);
        nd = dg_midpoint(dg_finite(b), dig, &e);
        nd = dg_nudge((unsigned)((p >> 4) & 3), dig, nd, &e, d[2]);
        return dg_scientific(out, neg, nd, e);
    }
    if (sel <= 9) { /* (c) random digits, point, sign, exponent */
        static const char letters[4] = {0, 'e', 'E', 'e'};
        const uint64_t e19 = UINT64_C(10000000000000000000);
        char pool[3 * 19], body[64];
        unsigned n = 1 + (unsigned)(d[1] % 40), zeros = (p >> 2) & 1 ? (unsigned)(p & 3) : 0;
        unsigned blen, pos, at = 0, i;
        const unsigned sign = (unsigned)((p >> 3) & 3);
        const char letter = letters[(p >> 5) & 3];
        for (i = 0; i < 3; i++)
            dg_nineteen(pool + 19 * i, d[2 + i] >= e19 ? d[2 + i] - e19 : d[2 + i]);
        memset(body, '0', zeros);
        memcpy(body + zeros, pool, n);
        blen = zeros + n;
        pos = (unsigned)((d[1] >> 32) % (blen + 2));
        if (sign)
            out[at++] = sign == 1 ? '+' : '-';
        if (pos <= blen) {
            memcpy(out + at, body, pos);
            out[at + pos] = '.';
            memcpy(out + at + pos + 1, body + pos, blen - pos);
            at += blen + 1;
        } else {
            memcpy(out + at, body, blen);
            at += blen;
        }
        if (letter) {
            at += dg_exponent(out + at, letter, (int)(d[5] % 701) - 350, (int)((p >> 7) & 1), 1);
        }
        return at;
    }
    if (sel <= 11) { /* (d) the ends of the range, nudged */
        const unsigned which = (unsigned)(p % 8);
        nd = dg_limit_nd[which];
        e = dg_limit_e[which];
        memcpy(dig, dg_limit_dig[which], nd + 1);
        nd = dg_nudge((unsigned)((p >> 4) & 3), dig, nd, &e, d[1]);
        return dg_scientific(out, neg, nd, e);
    }
    if (sel == 12) { /* (e) malformed */
        const char *s = DG_MALFORMED[p % 32];
        const unsigned len = (unsigned)strlen(s);
        memcpy(out, s, len);
        return len;
    }
    if (sel == 13) { /* (f) integers near 2^53, 2^54, 2^63, 2^64 */
        static const unsigned shifts[4] = {53, 54, 63, 64};
        const unsigned sh = shifts[p % 4];
        const int64_t half = (int64_t)1 << (sh - 53);
        int64_t off = ((int64_t)(d[1] % 17) - 8) * half;
        unsigned at = 0;
        if ((p >> 2) & 1)
            off += (int64_t)((d[1] >> 32) % 3) - 1;
        if ((p >> 3) & 1)
            out[at++] = '-';
        if (sh < 64 || off < 0) { /* below 2^64: 2^64 + off is off mod 2^64 */
            const uint64_t base = sh < 64 ? UINT64_C(1) << sh : 0;
            return at + dg_dec64(out + at, base + (uint64_t)off);
        }
        /* 2^64 + off = 10^19 + (2^64 - 10^19 + off), the second part below 10^19 */
        out[at++] = '1';
        dg_nineteen(out + at, UINT64_C(8446744073709551616) + (uint64_t)off);
        return at + 19;
    }
    if (sel == 14) { /* (g) unusual spellings */
        const char *s = DG_SPELLINGS[p % 16];
        const unsigned len = (unsigned)strlen(s);
        memcpy(out, s, len);
        return len;
    }
    /* (h) a midpoint with one unit beyond the 800th significant digit, either way */
    nd = dg_midpoint(dg_finite(d[1] & ~DG_F64_SIGN), dig, &e);
    nd = dg_extend(dig, nd, &e, 800 - nd + (unsigned)(d[2] % 64), ((p >> 4) & 1) == 0);
    return dg_scientific(out, neg, nd, e);
}

/* -------------------------------------------------------------------- streams */

/* o[len .. DG_DEC_TEXT-1] = 0: the slot's padding.  In fixed 64- and 8-byte pieces,
   which compilers store with vector registers; a memset of a variable length is
   expanded inline into `rep stos`, whose start-up costs more than the stores. */
static void dg_zero_tail(unsigned char *o, unsigned len)
{
    unsigned k = len;
    while (k & 7)
        o[k++] = 0;
    for (; k + 64 <= DG_DEC_TEXT; k += 64)
        memset(o + k, 0, 64);
    for (; k < DG_DEC_TEXT; k += 8)
        memset(o + k, 0, 8);
}

static const uint64_t DG_SORT_ALPHABETS[7] = {1, 2, 3, 4, 8, 64, 65536};
static const unsigned DG_HASH_BOUNDARIES[15] = {0, 55, 56, 64, 111, 112, 128, 135, 136,
                                                192, 256, 272, 384, 408, 512};

static unsigned dg_hash_length(uint64_t d0)
{
    const uint64_t p = dg_p16(d0);
    int n;
    if (d0 >> 63 == 0)
        return (unsigned)(p % (DG_HASH_MSG + 1));
    n = (int)DG_HASH_BOUNDARIES[p % 15] + (int)((d0 & 0xFFFF) % 5) - 2;
    return n < 0 ? 0 : n > DG_HASH_MSG ? DG_HASH_MSG : (unsigned)n;
}

/*
 * The integer and conversion rules generate blocks of DG_BLOCK vectors: first the
 * material of the whole block, draw by draw (D[k * DG_BLOCK + j] is d_k of vector j;
 * eight vectors at a time with AVX-512), then the operands vector by vector.
 */
#define DG_BLOCK 64

typedef void (*dg_block_fn)(uint64_t s0, uint64_t first, unsigned nb, unsigned nd, uint64_t *D);

static void dg_block_scalar(uint64_t s0, uint64_t first, unsigned nb, unsigned nd, uint64_t *D)
{
    unsigned j, k;
    for (j = 0; j < nb; j++) {
        uint64_t t = teecert_mix(s0 + (first + j + 1) * TEECERT_GAMMA);
        for (k = 0; k < nd; k++) {
            t += TEECERT_GAMMA;
            D[k * DG_BLOCK + j] = teecert_mix(t);
        }
    }
}

#if TEECERT_HAVE_AVX512

/* D has room for whole groups of eight: the lanes past nb are written, not used. */
DG_AVX512 static void dg_block_avx512(uint64_t s0, uint64_t first, unsigned nb, unsigned nd,
                                      uint64_t *D)
{
    const __m512i lanes = _mm512_set_epi64(
        (long long)(7 * TEECERT_GAMMA), (long long)(6 * TEECERT_GAMMA), (long long)(5 * TEECERT_GAMMA),
        (long long)(4 * TEECERT_GAMMA), (long long)(3 * TEECERT_GAMMA), (long long)(2 * TEECERT_GAMMA),
        (long long)TEECERT_GAMMA, 0);
    const __m512i gamma = _mm512_set1_epi64((long long)TEECERT_GAMMA);
    unsigned j, k;
    for (j = 0; j < nb; j += 8) {
        __m512i t = teecert_mix8(_mm512_add_epi64(
            _mm512_set1_epi64((long long)(s0 + (first + j + 1) * TEECERT_GAMMA)), lanes));
        for (k = 0; k < nd; k++) {
            t = _mm512_add_epi64(t, gamma);
            _mm512_storeu_si512((void *)(D + k * DG_BLOCK + j), teecert_mix8(t));
        }
    }
    _mm256_zeroupper();
}

/* The 64 items of a sort vector whose state is t, big-endian at o: key mod alphabet
   is a mask, or for the alphabet 3 a multiply (q = key * 43691 >> 17 is key / 3 for
   every key below 2^16). */
DG_AVX512 static void dg_sort_items_avx512(uint64_t t, uint32_t alphabet, unsigned char *o)
{
    const __m512i even = _mm512_set1_epi64((long long)UINT64_C(0x00FF00FF00FF00FF));
    const __m512i m48 = _mm512_set1_epi64((long long)DG_M48);
    const __m512i amask = _mm512_set1_epi64((long long)(alphabet - 1));
    const int three = alphabet == 3;
    __m512i z = _mm512_add_epi64(
        _mm512_set1_epi64((long long)t),
        _mm512_set_epi64((long long)(9 * TEECERT_GAMMA), (long long)(8 * TEECERT_GAMMA),
                         (long long)(7 * TEECERT_GAMMA), (long long)(6 * TEECERT_GAMMA),
                         (long long)(5 * TEECERT_GAMMA), (long long)(4 * TEECERT_GAMMA),
                         (long long)(3 * TEECERT_GAMMA), (long long)(2 * TEECERT_GAMMA)));
    unsigned k;
    for (k = 0; k < DG_SORT_ITEMS; k += 8) {
        __m512i x = teecert_mix8(z), key = _mm512_srli_epi64(x, 48), r;
        if (three) {
            __m512i q = _mm512_srli_epi64(_mm512_mul_epu32(key, _mm512_set1_epi64(43691)), 17);
            r = _mm512_sub_epi64(key, _mm512_add_epi64(q, _mm512_add_epi64(q, q)));
        } else {
            r = _mm512_and_si512(key, amask);
        }
        x = _mm512_or_si512(_mm512_slli_epi64(r, 48), _mm512_and_si512(x, m48));
        x = _mm512_rol_epi64(x, 32);
        x = _mm512_rol_epi32(x, 16);
        x = _mm512_or_si512(_mm512_slli_epi64(_mm512_and_si512(x, even), 8),
                            _mm512_and_si512(_mm512_srli_epi64(x, 8), even));
        _mm512_storeu_si512((void *)(o + 8 * k), x);
        z = _mm512_add_epi64(z, _mm512_set1_epi64((long long)(8 * TEECERT_GAMMA)));
    }
    _mm256_zeroupper();
}
#endif

static void dg_sort_items_scalar(uint64_t t, uint32_t alphabet, unsigned char *o)
{
    unsigned k;
    for (k = 1; k <= DG_SORT_ITEMS; k++, o += 8) {
        const uint64_t x = teecert_mix(t + (uint64_t)(k + 1) * TEECERT_GAMMA);
        const uint32_t key = (uint32_t)(x >> 48);
        /* the alphabets are powers of two but 3: no division by a variable */
        const uint32_t r = alphabet == 3 ? key % 3 : key & (alphabet - 1);
        dg_be(o, ((uint64_t)r << 48) | (x & DG_M48));
    }
}

typedef void (*dg_sort_fn)(uint64_t t, uint32_t alphabet, unsigned char *o);

/* Operands of nb vectors of an integer or conversion rule from the block's material;
   returns the end of what was written. */
static DG_INLINE unsigned char *dg_int_block(const unsigned rule, const unsigned w,
                                             const uint64_t *D, unsigned nb, unsigned char *o)
{
    const unsigned wb = w / 8;
    const uint64_t *d0 = D, *d1 = D + DG_BLOCK, *d2 = D + 2 * DG_BLOCK, *d3 = D + 3 * DG_BLOCK,
                   *d4 = D + 4 * DG_BLOCK;
    unsigned j;
    for (j = 0; j < nb; j++) {
        switch (rule) {
        case TEECERT_DATA_UNARY:
            dg_le(o, dg_int_operand(w, d0[j], d1[j]), wb);
            o += wb;
            break;
        case TEECERT_DATA_SHIFT:
            dg_le(o, dg_int_operand(w, d0[j], d1[j]), wb);
            dg_le(o + wb, dg_shift_count(w, d2[j], d3[j]), 8);
            o += wb + 8;
            break;
        case TEECERT_DATA_DIVISION: {
            /* sel 2, 3, 4: a = 2^(W-1); sel 0, 3: b = 0; sel 1, 2: b = -1 */
            const unsigned sel = (unsigned)(d4[j] >> 60);
            const uint64_t top = UINT64_C(1) << (w - 1);
            const uint64_t a_top = UINT64_C(0) - (uint64_t)((0x1Cu >> sel) & 1);
            const uint64_t b_keep = UINT64_C(0) - (uint64_t)(((0xFFF0u >> sel) & 1));
            const uint64_t b_ones = UINT64_C(0) - (uint64_t)((0x6u >> sel) & 1);
            const uint64_t a = dg_int_operand(w, d0[j], d1[j]);
            const uint64_t b = dg_int_operand(w, d2[j], d3[j]);
            dg_le(o, (a & ~a_top) | (top & a_top), wb);
            dg_le(o + wb, ((b & b_keep) | b_ones) & dg_mask(w), wb);
            o += 2 * wb;
            break;
        }
        case TEECERT_DATA_PAIR:
            dg_le(o, dg_int_operand(w, d0[j], d1[j]), wb);
            dg_le(o + wb, dg_int_operand(w, d2[j], d3[j]), wb);
            o += 2 * wb;
            break;
        case TEECERT_DATA_SAT:
            dg_le(o, dg_sat_operand(w, d0[j], d1[j]), wb);
            o += wb;
            break;
        case TEECERT_DATA_TO_DEC:
            dg_le(o, teecert_mix_value(64, d0[j], d1[j]), 8);
            o += 8;
            break;
        default: /* TEECERT_DATA_RECORD */
            dg_le(o, d0[j], 8);
            dg_le(o + 8, d1[j], 8);
            dg_le(o + 16, d2[j], 8);
            dg_le(o + 24, teecert_mix_value(64, d3[j], d4[j]), 8);
            dg_le(o + 32, D[5 * DG_BLOCK + j], 8);
            o += 40;
            break;
        }
    }
    return o;
}

/* int -> float sources: the catalogue's combinations with constants, any other by
   the general code */
static unsigned char *dg_to_float_block(unsigned w, uint32_t arg, const uint64_t *D, unsigned nb,
                                        unsigned char *o)
{
    const uint64_t *d0 = D, *d1 = D + DG_BLOCK, *d2 = D + 2 * DG_BLOCK;
    const int is_signed = (arg >> 8) & 1;
    const unsigned precision = arg & 0xFF;
    unsigned j;
#define DG_TO_FLOAT(W, S, P)                                                              \
    if (w == (W) && is_signed == (S) && precision == (P)) {                               \
        for (j = 0; j < nb; j++, o += (W) / 8)                                            \
            dg_le(o, dg_int_source_k((W), (S), (P), d0[j], d1[j], d2[j]), (W) / 8);       \
        return o;                                                                         \
    }
    DG_TO_FLOAT(32, 1, 24)
    DG_TO_FLOAT(32, 1, 53)
    DG_TO_FLOAT(64, 1, 24)
    DG_TO_FLOAT(64, 1, 53)
    DG_TO_FLOAT(64, 0, 24)
    DG_TO_FLOAT(64, 0, 53)
#undef DG_TO_FLOAT
    for (j = 0; j < nb; j++, o += w / 8) {
        const uint64_t d[3] = {d0[j], d1[j], d2[j]};
        dg_le(o, dg_int_source(w, is_signed, precision, d), w / 8);
    }
    return o;
}

#if TEECERT_HAVE_AVX512
/*
 * The integer operand rules eight vectors at a time: the same arithmetic as the
 * scalar functions above, each class's candidate merged in under a compare mask.
 * Remainders by constants are of 16-bit numbers (a multiply of 32-bit halves and a
 * shift), and those of the 64-bit m by 65, 33 and 3 go through the sum of m's
 * 12-bit or 10-bit pieces first: 65 and 3 divide 2^12 - 1, 33 and 3 divide 2^10 - 1.
 */
#define DG_V(x) _mm512_set1_epi64((long long)(x))

/* x mod d, every lane x below 2^31, d a constant below 2^16.  With k = 32 +
   floor(log2 d) and M = ceil(2^k / d) < 2^32, x * M >> k is floor(x / d) for
   x < 2^k / d, which is at least 2^31. */
DG_AVX512 static DG_INLINE __m512i dg_mod_avx512(__m512i x, const uint32_t d)
{
    unsigned k;
    uint64_t mul;
    __m512i q;
    if ((d & (d - 1)) == 0)
        return _mm512_and_si512(x, DG_V(d - 1));
    k = 32 + (31 - (unsigned)__builtin_clz(d));
    mul = ((UINT64_C(1) << k) + d - 1) / d;
    q = _mm512_srl_epi64(_mm512_mul_epu32(x, DG_V(mul)), _mm_cvtsi32_si128((int)k));
    return _mm512_sub_epi64(x, _mm512_mul_epu32(q, DG_V(d)));
}

/* sum of the 12-bit pieces of m: congruent to m modulo 65 and 3, below 2^15 */
DG_AVX512 static DG_INLINE __m512i dg_sum12_avx512(__m512i m)
{
    const __m512i f = DG_V(0xFFF);
    __m512i s = _mm512_and_si512(m, f);
    s = _mm512_add_epi64(s, _mm512_and_si512(_mm512_srli_epi64(m, 12), f));
    s = _mm512_add_epi64(s, _mm512_and_si512(_mm512_srli_epi64(m, 24), f));
    s = _mm512_add_epi64(s, _mm512_and_si512(_mm512_srli_epi64(m, 36), f));
    s = _mm512_add_epi64(s, _mm512_and_si512(_mm512_srli_epi64(m, 48), f));
    return _mm512_add_epi64(s, _mm512_srli_epi64(m, 60));
}

/* sum of the 10-bit pieces of m: congruent to m modulo 33 and 3, below 2^13 */
DG_AVX512 static DG_INLINE __m512i dg_sum10_avx512(__m512i m)
{
    const __m512i f = DG_V(0x3FF);
    __m512i s = _mm512_and_si512(m, f);
    s = _mm512_add_epi64(s, _mm512_and_si512(_mm512_srli_epi64(m, 10), f));
    s = _mm512_add_epi64(s, _mm512_and_si512(_mm512_srli_epi64(m, 20), f));
    s = _mm512_add_epi64(s, _mm512_and_si512(_mm512_srli_epi64(m, 30), f));
    s = _mm512_add_epi64(s, _mm512_and_si512(_mm512_srli_epi64(m, 40), f));
    s = _mm512_add_epi64(s, _mm512_and_si512(_mm512_srli_epi64(m, 50), f));
    return _mm512_add_epi64(s, _mm512_srli_epi64(m, 60));
}

DG_AVX512 static DG_INLINE __m512i dg_p16_avx512(__m512i c)
{
    return _mm512_and_si512(_mm512_srli_epi64(c, 32), DG_V(0xFFFF));
}

/* dg_bits for lanes b in 1 .. 64 */
DG_AVX512 static DG_INLINE __m512i dg_bits_avx512(__m512i b, __m512i m)
{
    const __m512i hb = _mm512_sllv_epi64(DG_V(1), _mm512_sub_epi64(b, DG_V(1)));
    return _mm512_and_si512(_mm512_or_si512(m, hb),
                            _mm512_sub_epi64(_mm512_add_epi64(hb, hb), DG_V(1)));
}

DG_AVX512 static DG_INLINE __m512i dg_int_operand_avx512(const unsigned w, __m512i c, __m512i m)
{
    const __m512i zero = _mm512_setzero_si512(), one = DG_V(1);
    const __m512i p = dg_p16_avx512(c), g = _mm512_srli_epi64(c, 61); /* class >> 1 */
    const __m512i b = dg_mod_avx512(p, w + 1);
    __m512i r, v;
    /* 14, 15: exactly b bits (b = 0: none), 15 negated */
    r = _mm512_maskz_mov_epi64(_mm512_test_epi64_mask(b, b), dg_bits_avx512(b, m));
    r = _mm512_mask_sub_epi64(r, _mm512_cmpeq_epi64_mask(_mm512_srli_epi64(c, 60), DG_V(15)),
                              zero, r);
    /* 12, 13: +-(2^k - 1, 2^k, 2^k + 1) */
    v = _mm512_add_epi64(
        _mm512_sub_epi64(_mm512_sllv_epi64(one, _mm512_and_si512(p, DG_V(w - 1))), one),
        dg_mod_avx512(_mm512_srli_epi64(p, 8), 3));
    v = _mm512_mask_sub_epi64(v, _mm512_test_epi64_mask(p, DG_V(1 << 10)), zero, v);
    r = _mm512_mask_mov_epi64(r, _mm512_cmpeq_epi64_mask(g, DG_V(6)), v);
    /* 10, 11: the boundary table */
    r = _mm512_mask_mov_epi64(
        r, _mm512_cmpeq_epi64_mask(g, DG_V(5)),
        _mm512_permutexvar_epi64(p, _mm512_loadu_si512((const void *)(w == 64 ? DG_BOUNDS64
                                                                              : DG_BOUNDS32))));
    /* 8, 9: m mod 65 - 32 */
    r = _mm512_mask_mov_epi64(r, _mm512_cmpeq_epi64_mask(g, DG_V(4)),
                              _mm512_sub_epi64(dg_mod_avx512(dg_sum12_avx512(m), 65), DG_V(32)));
    /* 0 .. 7: uniform */
    r = _mm512_mask_mov_epi64(r, _mm512_cmplt_epu64_mask(g, DG_V(4)), m);
    return _mm512_and_si512(r, DG_V(dg_mask(w)));
}

DG_AVX512 static DG_INLINE __m512i dg_shift_count_avx512(const unsigned w, __m512i c, __m512i m)
{
    const __m512i cls = _mm512_srli_epi64(c, 60);
    const __m512i s = w == 64 ? dg_sum12_avx512(m) : dg_sum10_avx512(m);
    /* m mod 2(W+1): m mod W+1, then the parity of m (W+1 is odd) */
    const __m512i h = dg_mod_avx512(s, w + 1);
    const __m512i full = _mm512_add_epi64(
        h, _mm512_maskz_mov_epi64(_mm512_test_epi64_mask(_mm512_xor_si512(h, m), DG_V(1)),
                                  DG_V(w + 1)));
    __m512i r = m;
    r = _mm512_mask_mov_epi64(
        r, _mm512_cmpeq_epi64_mask(cls, DG_V(13)),
        _mm512_permutexvar_epi64(dg_p16_avx512(c),
                                 _mm512_loadu_si512((const void *)(w == 64 ? DG_SHIFT_TABLE64
                                                                          : DG_SHIFT_TABLE32))));
    r = _mm512_mask_mov_epi64(r, _mm512_cmplt_epu64_mask(_mm512_sub_epi64(cls, DG_V(10)), DG_V(3)),
                              _mm512_add_epi64(DG_V(w - 1), dg_mod_avx512(s, 3)));
    return _mm512_mask_mov_epi64(r, _mm512_cmple_epu64_mask(cls, DG_V(9)), full);
}

DG_AVX512 static DG_INLINE __m512i dg_int_source_avx512(const unsigned w, const int is_signed,
                                                        const unsigned precision, __m512i c,
                                                        __m512i m, __m512i low)
{
    const __m512i one = DG_V(1), cls = _mm512_srli_epi64(c, 60), p = dg_p16_avx512(c);
    const unsigned top = is_signed ? w - 1 : w;
    __m512i mag = dg_bits_avx512(_mm512_add_epi64(dg_mod_avx512(p, top), one), m);
    if (top > precision) {
        const __m512i k = _mm512_add_epi64(dg_mod_avx512(p, top > precision ? top - precision : 1),
                                           one);
        const __m512i half = _mm512_sllv_epi64(one, _mm512_sub_epi64(k, one));
        const __m512i mode = _mm512_and_si512(_mm512_srli_epi64(p, 8), DG_V(3));
        const __m512i s = _mm512_or_si512(
            _mm512_and_si512(m, DG_V((UINT64_C(1) << (precision - 1)) - 1)),
            DG_V(UINT64_C(1) << (precision - 1)));
        __m512i tie = _mm512_add_epi64(_mm512_sllv_epi64(s, k), half);
        tie = _mm512_mask_or_epi64(tie, _mm512_cmpeq_epi64_mask(mode, DG_V(2)), tie,
                                   _mm512_and_si512(low, _mm512_sub_epi64(half, one)));
        tie = _mm512_mask_sub_epi64(tie, _mm512_cmpeq_epi64_mask(mode, DG_V(3)), tie, one);
        mag = _mm512_mask_mov_epi64(mag, _mm512_cmpgt_epu64_mask(cls, DG_V(7)), tie);
    }
    if (is_signed)
        mag = _mm512_mask_sub_epi64(mag, _mm512_test_epi64_mask(p, DG_V(1 << 10)),
                                    _mm512_setzero_si512(), mag);
    mag = _mm512_mask_mov_epi64(mag, _mm512_cmple_epu64_mask(cls, DG_V(3)), m);
    return _mm512_and_si512(mag, DG_V(dg_mask(w)));
}

/* generator.value of teecert-mix-v1 (which mixgen.c has for the float streams) for
   sat_operand, to_dec and the record: the class 13 table, entries 5 and 6 built from
   m below. */
#define DG_SPECIALS(S, EXPM, Q, BIAS, F)                                                  \
    {0, S, EXPM, (S) | (EXPM), (EXPM) | (Q), 0, 0, (S) | (EXPM) | (Q),                    \
     (BIAS) << (F), (S) | ((BIAS) << (F)), (EXPM) - 1, (S) | ((EXPM) - 1),                \
     UINT64_C(1) << (F), 1, (S) | 1, (UINT64_C(1) << (F)) - 1}
static const uint64_t DG_SPECIAL64[16] = DG_SPECIALS(UINT64_C(1) << 63, UINT64_C(0x7FF0000000000000),
                                                     UINT64_C(1) << 51, UINT64_C(1023), 52);
static const uint64_t DG_SPECIAL32[16] = DG_SPECIALS(UINT64_C(1) << 31, UINT64_C(0x7F800000),
                                                     UINT64_C(1) << 22, UINT64_C(127), 23);
#undef DG_SPECIALS

DG_AVX512 static DG_INLINE __m512i dg_value_avx512(const unsigned w, __m512i c, __m512i m)
{
    const unsigned fb = w == 64 ? 52 : 23, eb = w == 64 ? 11 : 8;
    const uint64_t bias = (UINT64_C(1) << (eb - 1)) - 1, q = UINT64_C(1) << (fb - 1);
    const uint64_t *table = w == 64 ? DG_SPECIAL64 : DG_SPECIAL32;
    const __m512i zero = _mm512_setzero_si512(), one = DG_V(1);
    const __m512i cls = _mm512_srli_epi64(c, 60), p = dg_p16_avx512(c);
    const __m512i sign = _mm512_slli_epi64(_mm512_srli_epi64(m, 63), w - 1);
    const __m512i frac = _mm512_and_si512(m, DG_V((UINT64_C(1) << fb) - 1));
    const __m512i r4 = _mm512_and_si512(p, DG_V(3)), idx = _mm512_and_si512(p, DG_V(15));
    const __m512i nan = _mm512_or_si512(sign, DG_V(((UINT64_C(1) << eb) - 1) << fb));
    const __m512i pay = _mm512_and_si512(frac, DG_V(q - 1));
    const __mmask8 k15 = _mm512_cmpeq_epi64_mask(cls, DG_V(15));
    const __mmask8 kset = _mm512_test_epi64_mask(p, DG_V(1 << 15));
    __m512i e, fr, r, low, sp, s22, small;
    /* 6-12, 15: the exponent field near the bias, 0, smallest or largest binades */
    e = _mm512_add_epi64(DG_V(bias - 4), dg_mod_avx512(p, 9));
    e = _mm512_mask_mov_epi64(e, _mm512_cmpeq_epi64_mask(cls, DG_V(10)), zero);
    e = _mm512_mask_mov_epi64(e, _mm512_cmpeq_epi64_mask(cls, DG_V(11)), _mm512_add_epi64(one, r4));
    e = _mm512_mask_mov_epi64(e, _mm512_cmpeq_epi64_mask(cls, DG_V(12)),
                              _mm512_sub_epi64(DG_V((UINT64_C(1) << eb) - 2), r4));
    /* 15: the r low fraction bits all set or all clear */
    low = _mm512_sub_epi64(
        _mm512_sllv_epi64(one, dg_mod_avx512(_mm512_srli_epi64(p, 8), fb + 1)), one);
    fr = _mm512_mask_or_epi64(frac, k15 & kset, frac, low);
    fr = _mm512_mask_andnot_epi64(fr, k15 & (__mmask8)~kset, low, frac);
    r = _mm512_or_si512(_mm512_or_si512(sign, _mm512_slli_epi64(e, fb)), fr);
    /* 13: the special values */
    sp = _mm512_permutex2var_epi64(_mm512_loadu_si512((const void *)table), idx,
                                   _mm512_loadu_si512((const void *)(table + 8)));
    sp = _mm512_mask_mov_epi64(sp, _mm512_cmpeq_epi64_mask(idx, DG_V(5)),
                               _mm512_or_si512(nan, _mm512_or_si512(pay, DG_V(q))));
    sp = _mm512_mask_mov_epi64(sp, _mm512_cmpeq_epi64_mask(idx, DG_V(6)),
                               _mm512_or_si512(nan, _mm512_or_si512(pay, one)));
    r = _mm512_mask_mov_epi64(r, _mm512_cmpeq_epi64_mask(cls, DG_V(13)), sp);
    /* 14: the integer m mod 2049 - 1024; 2049 divides 2^22 - 1 */
    s22 = _mm512_add_epi64(
        _mm512_add_epi64(_mm512_and_si512(m, DG_V(0x3FFFFF)),
                         _mm512_and_si512(_mm512_srli_epi64(m, 22), DG_V(0x3FFFFF))),
        _mm512_srli_epi64(m, 44));
    small = _mm512_sub_epi64(dg_mod_avx512(s22, 2049), DG_V(1024));
    if (w == 64)
        small = _mm512_castpd_si512(_mm512_cvtepi64_pd(small)); /* exact: |k| <= 1024 */
    else
        small = _mm512_cvtepu32_epi64(_mm256_castps_si256(_mm512_cvtepi64_ps(small)));
    r = _mm512_mask_mov_epi64(r, _mm512_cmpeq_epi64_mask(cls, DG_V(14)), small);
    /* 0-5: any bit pattern */
    r = _mm512_mask_mov_epi64(r, _mm512_cmple_epu64_mask(cls, DG_V(5)), m);
    return _mm512_and_si512(r, DG_V(dg_mask(w)));
}

DG_AVX512 static DG_INLINE __m512i dg_sat_operand_avx512(const unsigned w, __m512i c, __m512i m)
{
    const __m512i p = dg_p16_avx512(c);
    __m512i edge = _mm512_permutexvar_epi64(
        dg_mod_avx512(p, 6),
        _mm512_loadu_si512((const void *)(w == 64 ? DG_SAT_BITS64 : DG_SAT_BITS32)));
    edge = _mm512_add_epi64(edge, _mm512_sub_epi64(dg_mod_avx512(_mm512_srli_epi64(p, 8), 7),
                                                   DG_V(3)));
    edge = _mm512_or_si512(
        edge, _mm512_slli_epi64(_mm512_and_si512(_mm512_srli_epi64(p, 11), DG_V(1)), w - 1));
    return _mm512_mask_mov_epi64(edge, _mm512_cmple_epu64_mask(_mm512_srli_epi64(c, 60), DG_V(11)),
                                 dg_value_avx512(w, _mm512_slli_epi64(c, 4), m));
}

/* Stores of eight vectors' operands: one word each (unary), two words side by side. */
DG_AVX512 static DG_INLINE void dg_store1_avx512(const unsigned w, unsigned char *o, __m512i a)
{
    if (w == 64)
        _mm512_storeu_si512((void *)o, a);
    else
        _mm256_storeu_si256((__m256i *)(void *)o, _mm512_cvtepi64_epi32(a));
}

DG_AVX512 static DG_INLINE void dg_store2_avx512(const unsigned w, unsigned char *o, __m512i a,
                                                 __m512i b)
{
    if (w == 64) {
        const __m512i lo = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
        const __m512i hi = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
        _mm512_storeu_si512((void *)o, _mm512_permutex2var_epi64(a, lo, b));
        _mm512_storeu_si512((void *)(o + 64), _mm512_permutex2var_epi64(a, hi, b));
    } else {
        _mm512_storeu_si512((void *)o, _mm512_or_si512(a, _mm512_slli_epi64(b, 32)));
    }
}

/* dg_int_block and dg_to_float_block eight vectors at a time, for the rules built
   from int_operand and int_source with the catalogue's arguments; returns NULL for
   the others.  A last group of fewer than eight goes through a buffer. */
DG_AVX512 static DG_INLINE unsigned char *dg_ops_avx512(const unsigned rule, const unsigned w,
                                                        const int is_signed,
                                                        const unsigned precision,
                                                        const uint64_t *D, unsigned nb,
                                                        unsigned char *o)
{
    unsigned j;
    const unsigned wb = w / 8;
    const unsigned bytes = rule == TEECERT_DATA_RECORD ? 40
                           : rule == TEECERT_DATA_UNARY || rule == TEECERT_DATA_TO_FLOAT ||
                                   rule == TEECERT_DATA_SAT || rule == TEECERT_DATA_TO_DEC
                               ? wb
                           : rule == TEECERT_DATA_SHIFT ? wb + 8
                                                        : 2 * wb;
    for (j = 0; j < nb; j += 8) {
        unsigned char tail[8 * 40];
        unsigned char *to = j + 8 <= nb ? o : tail;
        const __m512i d0 = _mm512_loadu_si512((const void *)(D + j));
        const __m512i d1 = _mm512_loadu_si512((const void *)(D + DG_BLOCK + j));
        if (rule == TEECERT_DATA_TO_FLOAT) {
            const __m512i d2 = _mm512_loadu_si512((const void *)(D + 2 * DG_BLOCK + j));
            dg_store1_avx512(w, to, dg_int_source_avx512(w, is_signed, precision, d0, d1, d2));
        } else if (rule == TEECERT_DATA_SAT) {
            dg_store1_avx512(w, to, dg_sat_operand_avx512(w, d0, d1));
        } else if (rule == TEECERT_DATA_TO_DEC) {
            dg_store1_avx512(64, to, dg_value_avx512(64, d0, d1));
        } else if (rule == TEECERT_DATA_RECORD) {
            uint64_t v[8];
            unsigned l;
            _mm512_storeu_si512((void *)v,
                                dg_value_avx512(64, _mm512_loadu_si512((const void *)(D + 3 * DG_BLOCK + j)),
                                                _mm512_loadu_si512((const void *)(D + 4 * DG_BLOCK + j))));
            for (l = 0; l < 8; l++) {
                dg_le(to + 40 * l, D[j + l], 8);
                dg_le(to + 40 * l + 8, D[DG_BLOCK + j + l], 8);
                dg_le(to + 40 * l + 16, D[2 * DG_BLOCK + j + l], 8);
                dg_le(to + 40 * l + 24, v[l], 8);
                dg_le(to + 40 * l + 32, D[5 * DG_BLOCK + j + l], 8);
            }
        } else if (rule == TEECERT_DATA_UNARY) {
            dg_store1_avx512(w, to, dg_int_operand_avx512(w, d0, d1));
        } else {
            const __m512i d2 = _mm512_loadu_si512((const void *)(D + 2 * DG_BLOCK + j));
            const __m512i d3 = _mm512_loadu_si512((const void *)(D + 3 * DG_BLOCK + j));
            __m512i a = dg_int_operand_avx512(w, d0, d1), b;
            if (rule == TEECERT_DATA_SHIFT) {
                b = dg_shift_count_avx512(w, d2, d3);
                if (w == 64) {
                    dg_store2_avx512(64, to, a, b);
                } else {
                    uint64_t aw[8], bw[8];
                    unsigned l;
                    _mm512_storeu_si512((void *)aw, a);
                    _mm512_storeu_si512((void *)bw, b);
                    for (l = 0; l < 8; l++) {
                        dg_le(to + 12 * l, aw[l], 4);
                        dg_le(to + 12 * l + 4, bw[l], 8);
                    }
                }
            } else {
                b = dg_int_operand_avx512(w, d2, d3);
                if (rule == TEECERT_DATA_DIVISION) {
                    /* sel 2, 3, 4: a = 2^(W-1); sel 0, 3: b = 0; sel 1, 2: b = -1 */
                    const __m512i sel =
                        _mm512_srli_epi64(_mm512_loadu_si512((const void *)(D + 4 * DG_BLOCK + j)), 60);
                    a = _mm512_mask_mov_epi64(
                        a, _mm512_test_epi64_mask(_mm512_srlv_epi64(DG_V(0x1C), sel), DG_V(1)),
                        DG_V(UINT64_C(1) << (w - 1)));
                    b = _mm512_maskz_mov_epi64(
                        _mm512_test_epi64_mask(_mm512_srlv_epi64(DG_V(0xFFF0), sel), DG_V(1)), b);
                    b = _mm512_mask_mov_epi64(
                        b, _mm512_test_epi64_mask(_mm512_srlv_epi64(DG_V(0x6), sel), DG_V(1)),
                        DG_V(dg_mask(w)));
                }
                dg_store2_avx512(w, to, a, b);
            }
        }
        if (to == tail) {
            memcpy(o, tail, (nb - j) * bytes);
            o += (nb - j) * bytes;
        } else {
            o += 8 * bytes;
        }
    }
    _mm256_zeroupper();
    return o;
}

DG_AVX512 static unsigned char *dg_rule_block_avx512(unsigned rule, unsigned w, uint32_t arg,
                                                     const uint64_t *D, unsigned nb,
                                                     unsigned char *o)
{
    const int is_signed = (arg >> 8) & 1;
    const unsigned precision = arg & 0xFF;
#define DG_RULE(R)                                                                        \
    case R:                                                                               \
        return w == 64 ? dg_ops_avx512(R, 64, 0, 0, D, nb, o)                             \
                       : dg_ops_avx512(R, 32, 0, 0, D, nb, o);
    switch (rule) {
        DG_RULE(TEECERT_DATA_UNARY)
        DG_RULE(TEECERT_DATA_SHIFT)
        DG_RULE(TEECERT_DATA_DIVISION)
        DG_RULE(TEECERT_DATA_PAIR)
        DG_RULE(TEECERT_DATA_SAT)
    case TEECERT_DATA_TO_DEC:
        return dg_ops_avx512(TEECERT_DATA_TO_DEC, 64, 0, 0, D, nb, o);
    case TEECERT_DATA_RECORD:
        return dg_ops_avx512(TEECERT_DATA_RECORD, 64, 0, 0, D, nb, o);
    case TEECERT_DATA_TO_FLOAT:
#define DG_TO_FLOAT(W, S, P)                                                              \
    if (w == (W) && is_signed == (S) && precision == (P))                                 \
        return dg_ops_avx512(TEECERT_DATA_TO_FLOAT, (W), (S), (P), D, nb, o);
        DG_TO_FLOAT(32, 1, 24)
        DG_TO_FLOAT(32, 1, 53)
        DG_TO_FLOAT(64, 1, 24)
        DG_TO_FLOAT(64, 1, 53)
        DG_TO_FLOAT(64, 0, 24)
        DG_TO_FLOAT(64, 0, 53)
#undef DG_TO_FLOAT
        return NULL;
    default:
        return NULL;
    }
#undef DG_RULE
}
#undef DG_V
#endif

static const unsigned char DG_DRAWS[TEECERT_DATA_RECORD + 1] = {0, 2, 4, 5, 4, 2, 3, 2, 6};

static unsigned char *dg_rule_block(unsigned rule, unsigned w, uint32_t arg, const uint64_t *D,
                                    unsigned nb, unsigned char *o)
{
    /* one instance per rule and width, each with its constants folded in */
#define DG_RULE(R)                                                                        \
    case R:                                                                               \
        return w == 64 ? dg_int_block(R, 64, D, nb, o) : dg_int_block(R, 32, D, nb, o);
    switch (rule) {
        DG_RULE(TEECERT_DATA_UNARY)
        DG_RULE(TEECERT_DATA_SHIFT)
        DG_RULE(TEECERT_DATA_DIVISION)
        DG_RULE(TEECERT_DATA_PAIR)
        DG_RULE(TEECERT_DATA_SAT)
    case TEECERT_DATA_TO_FLOAT:
        return dg_to_float_block(w, arg, D, nb, o);
    case TEECERT_DATA_TO_DEC:
        return dg_int_block(TEECERT_DATA_TO_DEC, 64, D, nb, o);
    default:
        return dg_int_block(TEECERT_DATA_RECORD, 64, D, nb, o);
    }
#undef DG_RULE
}

int teecert_gen_data(uint64_t s0, uint64_t start, uint64_t n, uint32_t rule, uint32_t width,
                     uint32_t arg, void *out)
{
    unsigned char *o = (unsigned char *)out;
    uint64_t i, t;
    if (rule < TEECERT_DATA_UNARY || rule > TEECERT_DATA_FROM_DEC)
        return -1;
    if (rule <= TEECERT_DATA_TO_FLOAT && width != 32 && width != 64)
        return -1;
    if (rule <= TEECERT_DATA_RECORD) {
        const dg_block_fn block = DG_BLOCK_FN();
        const unsigned nd = DG_DRAWS[rule];
        uint64_t D[6 * DG_BLOCK];
        for (i = 0; i < n; i += DG_BLOCK) {
            const unsigned nb = n - i < DG_BLOCK ? (unsigned)(n - i) : DG_BLOCK;
            unsigned char *next = NULL;
            block(s0, start + i, nb, nd, D);
#if TEECERT_HAVE_AVX512
            if (block == dg_block_avx512)
                next = dg_rule_block_avx512(rule, width, arg, D, nb, o);
#endif
            o = next ? next : dg_rule_block(rule, width, arg, D, nb, o);
        }
        return 0;
    }
    if (rule == TEECERT_DATA_SORT) {
        const dg_sort_fn items = DG_SORT_FN();
        for (i = 0; i < n; i++, o += 8 * DG_SORT_ITEMS) {
            t = teecert_mix(s0 + (start + i + 1) * TEECERT_GAMMA);
            items(t, (uint32_t)DG_SORT_ALPHABETS[dg_p16(teecert_mix(t + TEECERT_GAMMA)) % 7], o);
        }
        return 0;
    }
    if (rule == TEECERT_DATA_HASH) {
        void (*const words_be)(uint64_t, unsigned char *, unsigned) = DG_WORDS_BE_FN();
        for (i = 0; i < n; i++, o += 8 + DG_HASH_MSG) {
            /* d_0, then d_1 .. d_64 big-endian: the message slot */
            t = teecert_mix(s0 + (start + i + 1) * TEECERT_GAMMA);
            dg_le(o, dg_hash_length(teecert_mix(t + TEECERT_GAMMA)), 8);
            words_be(t + TEECERT_GAMMA, o + 8, DG_HASH_MSG / 8);
        }
        return 0;
    }
    pthread_once(&dg_tables_once, dg_build_tables);
    for (i = 0; i < n; i++, o += DG_DEC_TEXT) { /* TEECERT_DATA_FROM_DEC */
        uint64_t d[6];
        unsigned len;
        t = teecert_mix(s0 + (start + i + 1) * TEECERT_GAMMA);
        dg_material(t, d, 6);
        len = dg_dec_text(d, (char *)o);
        if (len > DG_DEC_TEXT)
            return -1; /* data.text_slot would refuse it (dg_dec_text's bound rules it out) */
        dg_zero_tail(o, len);
    }
    return 0;
}

/*
 * Input bytes per vector of the data stream (rule, width, arg), or -1 for a
 * combination the specification's ops do not use (harness/vectors/streams/data.py,
 * native_rule): what the probe host checks before it generates a stream a client
 * names, since the general code paths take any arg and width and are exercised
 * only for these.
 */
int64_t teecert_data_in_bytes(uint32_t rule, uint32_t width, uint32_t arg)
{
    const int64_t w = width / 8;
    if (rule >= TEECERT_DATA_UNARY && rule <= TEECERT_DATA_TO_FLOAT) {
        if (width != 32 && width != 64)
            return -1;
        if (rule == TEECERT_DATA_TO_FLOAT) {
            if ((arg >> 8) > 1 || ((arg & 0xFF) != 24 && (arg & 0xFF) != 53))
                return -1;
        } else if (arg != 0) {
            return -1;
        }
        switch (rule) {
        case TEECERT_DATA_SHIFT:
            return w + 8;
        case TEECERT_DATA_DIVISION:
        case TEECERT_DATA_PAIR:
            return 2 * w;
        default:
            return w;
        }
    }
    if (width != 0 || arg != 0)
        return -1;
    switch (rule) {
    case TEECERT_DATA_TO_DEC:
        return 8;
    case TEECERT_DATA_RECORD:
        return 40;
    case TEECERT_DATA_SORT:
        return 8 * DG_SORT_ITEMS;
    case TEECERT_DATA_HASH:
        return 8 + DG_HASH_MSG;
    case TEECERT_DATA_FROM_DEC:
        return DG_DEC_TEXT;
    default:
        return -1;
    }
}
