/*
 * The data-op generator teecert-data-v1 in C.  harness/vectors/streams/data.py is
 * the specification (docs/vectors.md states the same rules in tables); this file
 * must agree with it bit for bit, which tests/vectors/test_data_generator_c.py
 * checks for every data op over several chunks and random spans.
 *
 * Pure integer code except for class (a) of f64.from_dec, which prints a double with
 * snprintf("%.*e"): glibc prints the exact decimal value correctly rounded, as
 * CPython's format(x, ".Ne") does; the test compares the two on every such vector.
 * The exact decimals of classes (b), (d) and (h) need integers of up to ~800 digits:
 * no library in the accelerator's reach does that without an allocation per value,
 * so a small base-10^9 multiplication against tables of 2^k and 5^k is written out
 * here (built once, under pthread_once, since cffi calls run without the GIL).
 */
#include "accel.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(TEECERT_ACCEL_NO_AVX512) && defined(__x86_64__) && \
    ((defined(__GNUC__) && __GNUC__ >= 7) || (defined(__clang__) && __clang_major__ >= 8))
#define DG_HAVE_AVX512 1
#include <immintrin.h>
#else
#define DG_HAVE_AVX512 0
#endif

#define DG_GAMMA UINT64_C(0x9E3779B97F4A7C15)
#define DG_M48 ((UINT64_C(1) << 48) - 1)
#define DG_F64_EXP UINT64_C(0x7FF0000000000000)
#define DG_F64_SIGN (UINT64_C(1) << 63)
#define DG_HASH_MSG 512
#define DG_SORT_ITEMS 64
#define DG_DEC_TEXT 1024

static inline uint64_t dg_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* d_0 .. d_{n-1} of the vector whose state is t: draw(t, k) = mix(t + (k+1) GAMMA). */
static inline void dg_material(uint64_t t, uint64_t *d, unsigned n)
{
    unsigned k;
    for (k = 0; k < n; k++) {
        t += DG_GAMMA;
        d[k] = dg_mix(t);
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
 * time where the CPU has AVX-512 (chosen at run time, as accel.c's float generator
 * is, and with TEECERT_ACCEL_SCALAR set never): the same words as dg_material. */
#if DG_HAVE_AVX512
#define DG_AVX512 __attribute__((target("avx512f,avx512dq")))
#define DG_S64(x) _mm512_set1_epi64((long long)(x))

DG_AVX512 static void dg_material_avx512(uint64_t t, uint64_t *d, unsigned n)
{
    __m512i z = _mm512_add_epi64(
        DG_S64(t), _mm512_set_epi64((long long)(8 * DG_GAMMA), (long long)(7 * DG_GAMMA),
                                    (long long)(6 * DG_GAMMA), (long long)(5 * DG_GAMMA),
                                    (long long)(4 * DG_GAMMA), (long long)(3 * DG_GAMMA),
                                    (long long)(2 * DG_GAMMA), (long long)DG_GAMMA));
    unsigned k = 0;
    for (; k + 8 <= n; k += 8) {
        __m512i x = _mm512_xor_si512(z, _mm512_srli_epi64(z, 30));
        x = _mm512_mullo_epi64(x, DG_S64(UINT64_C(0xBF58476D1CE4E5B9)));
        x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 27));
        x = _mm512_mullo_epi64(x, DG_S64(UINT64_C(0x94D049BB133111EB)));
        _mm512_storeu_si512((void *)(d + k), _mm512_xor_si512(x, _mm512_srli_epi64(x, 31)));
        z = _mm512_add_epi64(z, DG_S64(8 * DG_GAMMA));
    }
    /* clean upper halves before the scalar code runs (see accel.c's generator) */
    _mm256_zeroupper();
    for (; k < n; k++)
        d[k] = dg_mix(t + (uint64_t)(k + 1) * DG_GAMMA);
}

/* Words mix(t + (k+1) GAMMA), k < n, big-endian at o: a hash message's bytes. */
DG_AVX512 static void dg_words_be_avx512(uint64_t t, unsigned char *o, unsigned n)
{
    __m512i z = _mm512_add_epi64(
        DG_S64(t), _mm512_set_epi64((long long)(8 * DG_GAMMA), (long long)(7 * DG_GAMMA),
                                    (long long)(6 * DG_GAMMA), (long long)(5 * DG_GAMMA),
                                    (long long)(4 * DG_GAMMA), (long long)(3 * DG_GAMMA),
                                    (long long)(2 * DG_GAMMA), (long long)DG_GAMMA));
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
        z = _mm512_add_epi64(z, DG_S64(8 * DG_GAMMA));
    }
    _mm256_zeroupper();
    for (; k < n; k++)
        dg_be(o + 8 * k, dg_mix(t + (uint64_t)(k + 1) * DG_GAMMA));
}
#undef DG_S64

static void dg_material_scalar(uint64_t t, uint64_t *d, unsigned n) { dg_material(t, d, n); }

typedef void (*dg_words_be_fn)(uint64_t t, unsigned char *o, unsigned n);

static void dg_words_be_scalar(uint64_t t, unsigned char *o, unsigned n)
{
    unsigned k;
    for (k = 0; k < n; k++)
        dg_be(o + 8 * k, dg_mix(t + (uint64_t)(k + 1) * DG_GAMMA));
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
#define DG_LONG_MATERIAL_FN() (dg_use_avx512() ? dg_material_avx512 : dg_material_scalar)
#define DG_WORDS_BE_FN() (dg_use_avx512() ? dg_words_be_avx512 : dg_words_be_scalar)
#else
static void dg_material_scalar(uint64_t t, uint64_t *d, unsigned n) { dg_material(t, d, n); }
static void dg_words_be_scalar(uint64_t t, unsigned char *o, unsigned n)
{
    unsigned k;
    for (k = 0; k < n; k++)
        dg_be(o + 8 * k, dg_mix(t + (uint64_t)(k + 1) * DG_GAMMA));
}
#define DG_LONG_MATERIAL_FN() dg_material_scalar
#define DG_WORDS_BE_FN() dg_words_be_scalar
#endif

/* ------------------------------------------------------------------ integers */

static uint64_t dg_int_operand(unsigned w, uint64_t c, uint64_t m)
{
    const uint64_t mask = dg_mask(w), top = UINT64_C(1) << (w - 1);
    const unsigned cls = (unsigned)(c >> 60);
    const uint64_t p = dg_p16(c);
    uint64_t v, b;
    if (cls <= 7)
        return m & mask;
    if (cls <= 9)
        return (uint64_t)((int64_t)(m % 65) - 32) & mask;
    if (cls <= 11) {
        const uint64_t table[8] = {0, 1, mask, top, top - 1, top + 1, top - 2, 2};
        return table[p % 8];
    }
    if (cls <= 13) {
        v = (UINT64_C(1) << (p % w)) - 1 + (p >> 8) % 3;
        return (((p >> 10) & 1) ? UINT64_C(0) - v : v) & mask;
    }
    b = p % (w + 1);
    v = b == 0 ? 0 : (UINT64_C(1) << (b - 1)) | (m & ((UINT64_C(1) << (b - 1)) - 1));
    return (cls == 15 ? UINT64_C(0) - v : v) & mask;
}

static uint64_t dg_shift_count(unsigned w, uint64_t c, uint64_t m)
{
    const unsigned cls = (unsigned)(c >> 60);
    if (cls <= 9)
        return m % (2 * w + 2);
    if (cls <= 12)
        return w - 1 + m % 3;
    if (cls == 13) {
        const uint64_t table[8] = {UINT64_C(1) << 32, (UINT64_C(1) << 32) + 1, UINT64_C(1) << 63,
                                   ~UINT64_C(0), UINT64_C(0) - w, 2 * w + 1, 4 * w,
                                   (UINT64_C(1) << 32) + w - 1};
        return table[dg_p16(c) % 8];
    }
    return m;
}

/* --------------------------------------------------------------- conversions */

static const double DG_SAT_F64[6] = {0.5, 1.0, 2147483648.0, 4294967296.0, 9223372036854775808.0,
                                     18446744073709551616.0};

static uint64_t dg_sat_bits(unsigned w, unsigned i)
{
    if (w == 64) {
        uint64_t b;
        memcpy(&b, &DG_SAT_F64[i], 8);
        return b;
    } else {
        float f = (float)DG_SAT_F64[i]; /* all six are exact in binary32 */
        uint32_t b;
        memcpy(&b, &f, 4);
        return b;
    }
}

static uint64_t dg_sat_operand(unsigned w, uint64_t c, uint64_t m)
{
    uint64_t p, bits;
    if (c >> 60 <= 11)
        return teecert_mix_value(w, c << 4, m);
    p = dg_p16(c);
    bits = dg_sat_bits(w, (unsigned)(p % 6)) + (p >> 8) % 7 - 3;
    return bits | (((p >> 11) & 1) << (w - 1));
}

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

/* ------------------------------------------------- exact decimals (big integers) */

#define DG_BASE 1000000000u
#define DG_POW5_MAX 1075 /* 5^1075: the smallest exponent of a midpoint is -1075 */
#define DG_POW2_MAX 971  /* 2^971: the largest of LIMITS and of the midpoints */
#define DG_LIMBS 92      /* enough for 2^55 * 5^1075 (~770 digits) */

/* Table entry k: limbs (base 10^9, least significant first) of 5^k or 2^k. */
static uint32_t dg_pow5[DG_POW5_MAX + 1][DG_LIMBS];
static unsigned char dg_pow5_len[DG_POW5_MAX + 1];
static uint32_t dg_pow2[DG_POW2_MAX + 1][DG_LIMBS];
static unsigned char dg_pow2_len[DG_POW2_MAX + 1];
static pthread_once_t dg_tables_once = PTHREAD_ONCE_INIT;

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

static void dg_build_tables(void)
{
    unsigned k;
    dg_pow5[0][0] = 1;
    dg_pow5_len[0] = 1;
    for (k = 1; k <= DG_POW5_MAX; k++)
        dg_pow5_len[k] = (unsigned char)dg_mul_small(dg_pow5[k - 1], dg_pow5_len[k - 1], 5, dg_pow5[k]);
    dg_pow2[0][0] = 1;
    dg_pow2_len[0] = 1;
    for (k = 1; k <= DG_POW2_MAX; k++)
        dg_pow2_len[k] = (unsigned char)dg_mul_small(dg_pow2[k - 1], dg_pow2_len[k - 1], 2, dg_pow2[k]);
}

/* digits (no trailing zeros) and E of n * 2^k == int(digits) * 10^E, n > 0
   (data.exact_decimal).  Returns the number of digits; dig gets a NUL. */
static unsigned dg_exact_decimal(uint64_t n, int k, char *dig, int *e_out)
{
    const uint32_t *pw;
    unsigned pn, i, len, nd;
    uint32_t prod[DG_LIMBS + 3];
    uint64_t nl[2];
    int e;
    pthread_once(&dg_tables_once, dg_build_tables);
    if (k >= 0) {
        pw = dg_pow2[k];
        pn = dg_pow2_len[k];
        e = 0;
    } else {
        pw = dg_pow5[-k];
        pn = dg_pow5_len[-k];
        e = k;
    }
    nl[0] = n % DG_BASE;
    nl[1] = n / DG_BASE; /* n < 2^55, so below 10^18: two limbs */
    memset(prod, 0, sizeof prod);
    {
        uint64_t carry = 0;
        for (i = 0; i < pn + 2; i++) {
            uint64_t acc = carry;
            if (i < pn)
                acc += (uint64_t)pw[i] * nl[0];
            if (i >= 1 && i - 1 < pn)
                acc += (uint64_t)pw[i - 1] * nl[1];
            prod[i] = (uint32_t)(acc % DG_BASE);
            carry = acc / DG_BASE;
        }
    }
    len = pn + 2;
    while (len > 1 && prod[len - 1] == 0)
        len--;
    nd = (unsigned)sprintf(dig, "%u", prod[len - 1]);
    for (i = len - 1; i-- > 0;) { /* nine digits per limb; sprintf costs more than all the rest */
        uint32_t v = prod[i];
        int j;
        for (j = 8; j >= 0; j--) {
            dig[nd + (unsigned)j] = (char)('0' + v % 10);
            v /= 10;
        }
        nd += 9;
    }
    while (nd > 1 && dig[nd - 1] == '0') {
        nd--;
        e++;
    }
    dig[nd] = 0;
    *e_out = e;
    return nd;
}

/* [-]D[.DDD]e(+|-)X of int(digits) * 10^E (data.scientific) */
static unsigned dg_scientific(char *out, int neg, const char *dig, unsigned nd, int e)
{
    unsigned at = 0;
    int x = e + (int)nd - 1;
    if (neg)
        out[at++] = '-';
    out[at++] = dig[0];
    if (nd > 1) {
        out[at++] = '.';
        memcpy(out + at, dig + 1, nd - 1);
        at += nd - 1;
    }
    at += (unsigned)sprintf(out + at, "e%c%d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    return at;
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
    return dg_exact_decimal(2 * mant + 1, q - 1, dig, e);
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

static const struct { uint64_t n; int k; } DG_LIMITS[8] = {
    {(UINT64_C(1) << 53) - 1, 971}, {1, -1022}, {1, -1074}, {1, -1075},
    {(UINT64_C(1) << 54) - 1, 970}, {(UINT64_C(1) << 52) - 1, -1074},
    {(UINT64_C(1) << 53) - 1, -1075}, {3, -1075},
};

/* The text of an f64.from_dec vector from d_0 .. d_5 (data.dec_text) into out
   (room for 2 * DG_DEC_TEXT); returns its length. */
static unsigned dg_dec_text(const uint64_t *d, char *out)
{
    const unsigned sel = (unsigned)(d[0] >> 60);
    const uint64_t p = dg_p16(d[0]);
    const int neg = (p >> 6) & 1;
    char dig[2 * DG_DEC_TEXT];
    unsigned nd;
    int e;
    if (sel <= 3) { /* (a) a double printed with 1..17 significant digits */
        uint64_t x = dg_finite(d[1]);
        double value;
        memcpy(&value, &x, 8);
        return (unsigned)sprintf(out, "%.*e", (int)(p % 17), value);
    }
    if (sel <= 6) { /* (b) the midpoint of a double and its successor, nudged */
        uint64_t b = d[1] & ~DG_F64_SIGN;
        if (sel == 6)
            b = (b & ~DG_F64_EXP) | ((1003 + ((b >> 52) % 96)) << 52);
        nd = dg_midpoint(dg_finite(b), dig, &e);
        nd = dg_nudge((unsigned)((p >> 4) & 3), dig, nd, &e, d[2]);
        return dg_scientific(out, neg, dig, nd, e);
    }
    if (sel <= 9) { /* (c) random digits, point, sign, exponent */
        static const char *const signs[4] = {"", "+", "-", "-"};
        static const char letters[4] = {0, 'e', 'E', 'e'};
        char pool[3 * 19 + 1], body[64];
        unsigned n = 1 + (unsigned)(d[1] % 40), zeros = (p >> 2) & 1 ? (unsigned)(p & 3) : 0;
        unsigned blen, pos, at = 0, i;
        char letter = letters[(p >> 5) & 3];
        for (i = 0; i < 3; i++)
            sprintf(pool + 19 * i, "%019llu", (unsigned long long)(d[2 + i] % UINT64_C(10000000000000000000)));
        memset(body, '0', zeros);
        memcpy(body + zeros, pool, n);
        blen = zeros + n;
        pos = (unsigned)((d[1] >> 32) % (blen + 2));
        at = (unsigned)sprintf(out, "%s", signs[(p >> 3) & 3]);
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
            int x = (int)(d[5] % 701) - 350;
            at += (unsigned)sprintf(out + at, "%c%s%d", letter,
                                    x < 0 ? "-" : ((p >> 7) & 1) ? "+" : "", x < 0 ? -x : x);
        }
        return at;
    }
    if (sel <= 11) { /* (d) the ends of the range, nudged */
        nd = dg_exact_decimal(DG_LIMITS[p % 8].n, DG_LIMITS[p % 8].k, dig, &e);
        nd = dg_nudge((unsigned)((p >> 4) & 3), dig, nd, &e, d[1]);
        return dg_scientific(out, neg, dig, nd, e);
    }
    if (sel == 12) { /* (e) malformed */
        const char *s = DG_MALFORMED[p % 32];
        strcpy(out, s);
        return (unsigned)strlen(s);
    }
    if (sel == 13) { /* (f) integers near 2^53, 2^54, 2^63, 2^64 */
        static const unsigned shifts[4] = {53, 54, 63, 64};
        const unsigned sh = shifts[p % 4];
        const unsigned __int128 base = (unsigned __int128)1 << sh;
        const int64_t half = (int64_t)1 << (sh - 53);
        int64_t off = ((int64_t)(d[1] % 17) - 8) * half;
        unsigned __int128 v;
        char rev[48];
        unsigned nr = 0, at = 0;
        if ((p >> 2) & 1)
            off += (int64_t)((d[1] >> 32) % 3) - 1;
        v = off < 0 ? base - (unsigned __int128)(-off) : base + (unsigned __int128)off;
        do {
            rev[nr++] = (char)('0' + (unsigned)(v % 10));
            v /= 10;
        } while (v);
        if ((p >> 3) & 1)
            out[at++] = '-';
        while (nr)
            out[at++] = rev[--nr];
        out[at] = 0;
        return at;
    }
    if (sel == 14) { /* (g) unusual spellings */
        const char *s = DG_SPELLINGS[p % 16];
        strcpy(out, s);
        return (unsigned)strlen(s);
    }
    /* (h) a midpoint with one unit beyond the 800th significant digit, either way */
    nd = dg_midpoint(dg_finite(d[1] & ~DG_F64_SIGN), dig, &e);
    nd = dg_extend(dig, nd, &e, 800 - nd + (unsigned)(d[2] % 64), ((p >> 4) & 1) == 0);
    return dg_scientific(out, neg, dig, nd, e);
}

/* -------------------------------------------------------------------- streams */

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

int teecert_gen_data(uint64_t s0, uint64_t start, uint64_t n, uint32_t rule, uint32_t width,
                     uint32_t arg, void *out)
{
    unsigned char *o = (unsigned char *)out;
    const unsigned w = width, wb = width / 8;
    uint64_t i, d[1 + DG_HASH_MSG / 8], t;
    unsigned k;
    void (*const long_material)(uint64_t, uint64_t *, unsigned) = DG_LONG_MATERIAL_FN();
    void (*const words_be)(uint64_t, unsigned char *, unsigned) = DG_WORDS_BE_FN();
    if (rule < TEECERT_DATA_UNARY || rule > TEECERT_DATA_FROM_DEC)
        return -1;
    if (rule <= TEECERT_DATA_TO_FLOAT && w != 32 && w != 64)
        return -1;
    for (i = 0; i < n; i++) {
        t = dg_mix(s0 + (start + i + 1) * DG_GAMMA);
        switch (rule) {
        case TEECERT_DATA_UNARY:
            dg_material(t, d, 2);
            dg_le(o, dg_int_operand(w, d[0], d[1]), wb);
            o += wb;
            break;
        case TEECERT_DATA_SHIFT:
            dg_material(t, d, 4);
            dg_le(o, dg_int_operand(w, d[0], d[1]), wb);
            dg_le(o + wb, dg_shift_count(w, d[2], d[3]), 8);
            o += wb + 8;
            break;
        case TEECERT_DATA_DIVISION: {
            const uint64_t mask = dg_mask(w);
            uint64_t a, b;
            unsigned sel;
            dg_material(t, d, 5);
            a = dg_int_operand(w, d[0], d[1]);
            b = dg_int_operand(w, d[2], d[3]);
            sel = (unsigned)(d[4] >> 60);
            if (sel >= 2 && sel <= 4)
                a = UINT64_C(1) << (w - 1);
            if (sel == 0 || sel == 3)
                b = 0;
            else if (sel == 1 || sel == 2)
                b = mask;
            dg_le(o, a, wb);
            dg_le(o + wb, b, wb);
            o += 2 * wb;
            break;
        }
        case TEECERT_DATA_PAIR:
            dg_material(t, d, 4);
            dg_le(o, dg_int_operand(w, d[0], d[1]), wb);
            dg_le(o + wb, dg_int_operand(w, d[2], d[3]), wb);
            o += 2 * wb;
            break;
        case TEECERT_DATA_SAT:
            dg_material(t, d, 2);
            dg_le(o, dg_sat_operand(w, d[0], d[1]), wb);
            o += wb;
            break;
        case TEECERT_DATA_TO_FLOAT:
            dg_material(t, d, 3);
            dg_le(o, dg_int_source(w, (arg >> 8) & 1, arg & 0xFF, d), wb);
            o += wb;
            break;
        case TEECERT_DATA_TO_DEC:
            dg_material(t, d, 2);
            dg_le(o, teecert_mix_value(64, d[0], d[1]), 8);
            o += 8;
            break;
        case TEECERT_DATA_RECORD:
            dg_material(t, d, 6);
            dg_le(o, d[0], 8);
            dg_le(o + 8, d[1], 8);
            dg_le(o + 16, d[2], 8);
            dg_le(o + 24, teecert_mix_value(64, d[3], d[4]), 8);
            dg_le(o + 32, d[5], 8);
            o += 40;
            break;
        case TEECERT_DATA_SORT: {
            /* keys below 2^16 and alphabets up to 2^16: 32-bit remainders suffice */
            uint32_t alphabet;
            long_material(t, d, 1 + DG_SORT_ITEMS);
            alphabet = (uint32_t)DG_SORT_ALPHABETS[dg_p16(d[0]) % 7];
            for (k = 1; k <= DG_SORT_ITEMS; k++, o += 8)
                dg_be(o, ((uint64_t)((uint32_t)(d[k] >> 48) % alphabet) << 48) | (d[k] & DG_M48));
            break;
        }
        case TEECERT_DATA_HASH:
            /* d_0, then d_1 .. d_64 big-endian: the message slot */
            dg_le(o, dg_hash_length(dg_mix(t + DG_GAMMA)), 8);
            words_be(t + DG_GAMMA, o + 8, DG_HASH_MSG / 8);
            o += 8 + DG_HASH_MSG;
            break;
        default: { /* TEECERT_DATA_FROM_DEC */
            char text[2 * DG_DEC_TEXT + 64];
            unsigned len;
            dg_material(t, d, 6);
            len = dg_dec_text(d, text);
            if (len > DG_DEC_TEXT)
                return -1; /* data.text_slot refuses it too */
            memcpy(o, text, len);
            memset(o + len, 0, DG_DEC_TEXT - len);
            o += DG_DEC_TEXT;
            break;
        }
        }
    }
    return 0;
}
