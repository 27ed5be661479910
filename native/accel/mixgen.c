/*
 * The generators teecert-mix-v1 and teecert-libm-v1 (harness/vectors/streams/mix.py
 * and libm.py are the specification, and docs/vectors.md describes them) in C.  Pure
 * integer code apart from the exact conversion of small integers, so the caller's FP
 * environment cannot change it.  Two programs compile it: the stream accelerator
 * (teecert._accel), which generates inputs in the harness, and the probe host, which
 * generates a stream's inputs itself for RUN_GEN (docs/wire-protocol.md).
 *
 * Two implementations: portable scalar C, and on x86-64 CPUs with AVX-512 F and DQ
 * an eight-lane one chosen at run time (define TEECERT_ACCEL_NO_AVX512 to leave it
 * out, or set TEECERT_ACCEL_SCALAR in the environment to not use it).  Generation
 * is the largest cost of the stream loop after hashing, which is why both exist.
 */
#include "mixgen.h"
#include "splitmix.h"

#include <stdlib.h>
#include <string.h>

/* The exactly representable integer k (|k| <= 1024) as a bit pattern. */
static TEECERT_ALWAYS_INLINE uint64_t teecert_small_int(unsigned width, int64_t k)
{
    if (width == 64) {
        double d = (double)k;
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return bits;
    } else {
        float f = (float)k;
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        return bits;
    }
}

/*
 * Per-class selection masks (all ones or zero), one row per class 0..15.
 * The class is uniformly random, so a switch on it mispredicts on most values and
 * the generator would cost more than the op it feeds; instead every candidate value
 * is computed and the class's row picks one.  (GCC turns ?: chains back into
 * branches; plain mask arithmetic it leaves alone.)  One table of rows, not one
 * array per mask, so that a single base register addresses them all.
 */
struct teecert_class_row {
    uint64_t raw;     /* 0-5: the material's bits as they are */
    uint64_t normal;  /* 6-12, 15: sign | exponent field | fraction */
    uint64_t special; /* 13: the special-value table */
    uint64_t integer; /* 14: a small integer */
    uint64_t e_near;  /* exponent field near the bias (6-9, 15); 10 has none set: 0 */
    uint64_t e_low;   /* 11: the smallest normal binades */
    uint64_t e_high;  /* 12: the largest finite binades */
    uint64_t run;     /* 15: low fraction bits all set or all clear */
};

#define ON (~UINT64_C(0))
static const struct teecert_class_row CLASS_ROWS[16] = {
    {ON, 0, 0, 0, 0, 0, 0, 0}, {ON, 0, 0, 0, 0, 0, 0, 0}, {ON, 0, 0, 0, 0, 0, 0, 0},
    {ON, 0, 0, 0, 0, 0, 0, 0}, {ON, 0, 0, 0, 0, 0, 0, 0}, {ON, 0, 0, 0, 0, 0, 0, 0},
    {0, ON, 0, 0, ON, 0, 0, 0}, {0, ON, 0, 0, ON, 0, 0, 0}, {0, ON, 0, 0, ON, 0, 0, 0},
    {0, ON, 0, 0, ON, 0, 0, 0},
    {0, ON, 0, 0, 0, 0, 0, 0},  /* 10: exponent field 0 */
    {0, ON, 0, 0, 0, ON, 0, 0}, /* 11 */
    {0, ON, 0, 0, 0, 0, ON, 0}, /* 12 */
    {0, 0, ON, 0, 0, 0, 0, 0},  /* 13 */
    {0, 0, 0, ON, 0, 0, 0, 0},  /* 14 */
    {0, ON, 0, 0, ON, 0, 0, ON}, /* 15 */
};
/* entries 5 and 6 of the special table depend on m */
static const uint64_t SEL_SP5[16] = {0, 0, 0, 0, 0, ON, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint64_t SEL_SP6[16] = {0, 0, 0, 0, 0, 0, ON, 0, 0, 0, 0, 0, 0, 0, 0, 0};
#undef ON

#define SPECIALS(S, EXPM, Q, BIAS, F, FM)                                             \
    {0, S, EXPM, (S) | (EXPM), (EXPM) | (Q), 0, 0, (S) | (EXPM) | (Q),                \
     (BIAS) << (F), (S) | ((BIAS) << (F)), (EXPM) - 1, (S) | ((EXPM) - 1),            \
     UINT64_C(1) << (F), 1, (S) | 1, FM}
static const uint64_t SPECIAL_F64[16] = SPECIALS(UINT64_C(1) << 63, UINT64_C(0x7FF0000000000000),
                                                 UINT64_C(1) << 51, UINT64_C(1023), 52,
                                                 (UINT64_C(1) << 52) - 1);
static const uint64_t SPECIAL_F32[16] = SPECIALS(UINT64_C(1) << 31, UINT64_C(0x7F800000),
                                                 UINT64_C(1) << 22, UINT64_C(127), 23,
                                                 (UINT64_C(1) << 23) - 1);
#undef SPECIALS

/*
 * One input value from the class draw c and the material draw m (generator.value).
 * Called with constant format parameters so that each width gets its own code.
 */
static TEECERT_ALWAYS_INLINE uint64_t teecert_value(unsigned width, unsigned exp_bits,
                                                    unsigned frac_bits, uint64_t c, uint64_t m)
{
    const uint64_t frac_mask = (UINT64_C(1) << frac_bits) - 1;
    const uint64_t mask = width == 64 ? ~UINT64_C(0) : (UINT64_C(1) << width) - 1;
    const uint64_t s = UINT64_C(1) << (width - 1);
    const uint64_t exp_mask = ((UINT64_C(1) << exp_bits) - 1) << frac_bits;
    const uint64_t q = UINT64_C(1) << (frac_bits - 1);
    const uint64_t bias = (UINT64_C(1) << (exp_bits - 1)) - 1;
    const uint64_t *specials = width == 64 ? SPECIAL_F64 : SPECIAL_F32;
    const struct teecert_class_row *row = &CLASS_ROWS[c >> 60];
    const uint64_t p = (c >> 32) & 0xFFFFu;
    const uint64_t sign = m >> 63;
    const uint64_t frac = m & frac_mask;
    const uint64_t r4 = p % 4;
    const uint64_t idx = p % 16;
    uint64_t e, fr, low, all_set, normal, special;
    unsigned r;

    /* classes 6-12 and 15: sign, an exponent field chosen by the class, fraction
       (class 10 selects no exponent candidate: field 0, subnormal or zero) */
    e = ((bias - 4 + p % 9) & row->e_near)
        | ((1 + r4) & row->e_low)
        | ((((UINT64_C(1) << exp_bits) - 2) - r4) & row->e_high);
    /* 15: the r low fraction bits all set (p bit 15) or all clear */
    r = (unsigned)((p >> 8) % (frac_bits + 1));
    low = (UINT64_C(1) << r) - 1;
    all_set = UINT64_C(0) - ((p >> 15) & 1u);
    fr = ((frac | low) & all_set) | ((frac & ~low & frac_mask) & ~all_set);
    fr = (fr & row->run) | (frac & ~row->run);
    normal = (sign << (width - 1)) | (e << frac_bits) | fr;

    /* 13: the special-value table */
    special = specials[idx]
              | (((sign * s) | exp_mask | q | (frac & (q - 1))) & SEL_SP5[idx])
              | (((sign * s) | exp_mask | ((frac & (q - 1)) | 1)) & SEL_SP6[idx]);

    return ((m & mask) & row->raw) /* any bit pattern, NaNs included */
           | (normal & row->normal)
           | (special & row->special)
           | (teecert_small_int(width, (int64_t)(m % 2049) - 1024) & row->integer);
}

/* teecert_value for the data generator (native/accel/datagen.c). */
uint64_t teecert_mix_value(uint32_t width, uint64_t c, uint64_t m)
{
    return width == 64 ? teecert_value(64, 11, 52, c, m) : teecert_value(32, 8, 23, c, m);
}

/* Values [0, count) of a chunk whose first value's class draw is at state z. */
static void teecert_gen_values_scalar(uint64_t z, uint64_t count, uint32_t width, void *out)
{
    uint64_t i;
    if (width == 64) {
        uint64_t *o = (uint64_t *)out;
        for (i = 0; i < count; i++) {
            uint64_t c = teecert_mix(z);
            uint64_t m = teecert_mix(z + TEECERT_GAMMA);
            z += 2 * TEECERT_GAMMA;
            o[i] = teecert_value(64, 11, 52, c, m);
        }
    } else if (width == 32) {
        uint32_t *o = (uint32_t *)out;
        for (i = 0; i < count; i++) {
            uint64_t c = teecert_mix(z);
            uint64_t m = teecert_mix(z + TEECERT_GAMMA);
            z += 2 * TEECERT_GAMMA;
            o[i] = (uint32_t)teecert_value(32, 8, 23, c, m);
        }
    }
}

/* Draw k is mix(s0 + (k+1)*GAMMA); vector i starts at draw 2*arity*i, and a chunk's
   draws are consecutive, so the state just advances by GAMMA (mod 2^64). */
static uint64_t teecert_first_state(uint64_t s0, uint64_t start, uint32_t arity)
{
    return s0 + (2 * (uint64_t)arity * start + 1) * TEECERT_GAMMA;
}

void teecert_gen_scalar(uint64_t s0, uint64_t start, uint64_t n, uint32_t arity, uint32_t width,
                        void *out)
{
    teecert_gen_values_scalar(teecert_first_state(s0, start, arity), n * arity, width, out);
}

#if TEECERT_HAVE_AVX512
/*
 * AVX-512 (F + DQ): eight values at a time, the same computation in 64-bit lanes.
 * The scalar code is instruction bound (~120 instructions a value); here a class
 * selects with mask registers, the special table is one permute, and the divisions
 * by small constants are multiply-shifts exact over their input ranges:
 *   p / 9        = (p * 58255) >> 19   for p < 2^16
 *   x / 53       = (x * 1237) >> 16    for x < 2^8  (binary64: F + 1 = 53)
 *   x / 24       = (x * 2731) >> 16    for x < 2^8  (binary32: F + 1 = 24)
 *   m mod 2049   = the alternating sum of m's 11-bit digits (2^11 = -1 mod 2049),
 *                  offset by 3 * 2049 into [0, 6 * 2049) and reduced with
 *   s / 2049     = (s * 2096129) >> 32 for s < 2^15.
 * tests/test_accel.py checks both paths against the Python specification.
 */
#define S64(x) _mm512_set1_epi64((long long)(x))

TEECERT_AVX512 static TEECERT_ALWAYS_INLINE __m512i teecert_value8(
    unsigned width, unsigned exp_bits, unsigned frac_bits, __m512i c, __m512i m,
    __m512i specials_lo, __m512i specials_hi)
{
    const uint64_t frac_mask = (UINT64_C(1) << frac_bits) - 1;
    const uint64_t mask = width == 64 ? ~UINT64_C(0) : (UINT64_C(1) << width) - 1;
    const uint64_t exp_mask = ((UINT64_C(1) << exp_bits) - 1) << frac_bits;
    const uint64_t q = UINT64_C(1) << (frac_bits - 1);
    const uint64_t bias = (UINT64_C(1) << (exp_bits - 1)) - 1;
    const __m512i cls = _mm512_srli_epi64(c, 60);
    const __m512i p = _mm512_and_si512(_mm512_srli_epi64(c, 32), S64(0xFFFF));
    const __m512i sign_bit = _mm512_slli_epi64(_mm512_srli_epi64(m, 63), width - 1);
    const __m512i frac = _mm512_and_si512(m, S64(frac_mask));
    const __m512i r4 = _mm512_and_si512(p, S64(3));
    const __m512i idx = _mm512_and_si512(p, S64(15));
    __m512i t, e, x, r, low, fr, normal, special, digits, rem, k, v;

    /* exponent field: near one (6-9, 15), 0 (10), low (11), high (12) */
    t = _mm512_srli_epi64(_mm512_mul_epu32(p, S64(58255)), 19); /* p / 9 */
    e = _mm512_add_epi64(S64(bias - 4),
                         _mm512_sub_epi64(p, _mm512_add_epi64(_mm512_slli_epi64(t, 3), t)));
    e = _mm512_mask_mov_epi64(e, _mm512_cmpeq_epu64_mask(cls, S64(10)), _mm512_setzero_si512());
    e = _mm512_mask_mov_epi64(e, _mm512_cmpeq_epu64_mask(cls, S64(11)), _mm512_add_epi64(S64(1), r4));
    e = _mm512_mask_mov_epi64(e, _mm512_cmpeq_epu64_mask(cls, S64(12)),
                              _mm512_sub_epi64(S64((UINT64_C(1) << exp_bits) - 2), r4));

    /* class 15: r = (p >> 8) mod (F + 1) low fraction bits all set or all clear */
    x = _mm512_srli_epi64(p, 8);
    t = _mm512_srli_epi64(_mm512_mul_epu32(x, S64(frac_bits == 52 ? 1237 : 2731)), 16);
    r = _mm512_sub_epi64(x, _mm512_mul_epu32(t, S64(frac_bits + 1)));
    low = _mm512_sub_epi64(_mm512_sllv_epi64(S64(1), r), S64(1));
    fr = _mm512_mask_mov_epi64(_mm512_andnot_si512(low, frac),
                               _mm512_test_epi64_mask(p, S64(0x8000)),
                               _mm512_or_si512(frac, low));
    fr = _mm512_mask_mov_epi64(frac, _mm512_cmpeq_epu64_mask(cls, S64(15)), fr);
    normal = _mm512_or_si512(_mm512_or_si512(sign_bit, _mm512_slli_epi64(e, frac_bits)), fr);

    /* class 13: the special table; entries 5 and 6 carry m's sign and payload */
    special = _mm512_permutex2var_epi64(specials_lo, idx, specials_hi);
    t = _mm512_or_si512(sign_bit, S64(exp_mask));
    special = _mm512_mask_mov_epi64(
        special, _mm512_cmpeq_epu64_mask(idx, S64(5)),
        _mm512_or_si512(_mm512_or_si512(t, S64(q)), _mm512_and_si512(frac, S64(q - 1))));
    special = _mm512_mask_mov_epi64(
        special, _mm512_cmpeq_epu64_mask(idx, S64(6)),
        _mm512_or_si512(t, _mm512_or_si512(_mm512_and_si512(frac, S64(q - 1)), S64(1))));

    /* class 14: the integer (m mod 2049) - 1024, converted exactly */
    digits = _mm512_and_si512(m, S64(2047));
    digits = _mm512_sub_epi64(digits, _mm512_and_si512(_mm512_srli_epi64(m, 11), S64(2047)));
    digits = _mm512_add_epi64(digits, _mm512_and_si512(_mm512_srli_epi64(m, 22), S64(2047)));
    digits = _mm512_sub_epi64(digits, _mm512_and_si512(_mm512_srli_epi64(m, 33), S64(2047)));
    digits = _mm512_add_epi64(digits, _mm512_and_si512(_mm512_srli_epi64(m, 44), S64(2047)));
    digits = _mm512_sub_epi64(digits, _mm512_srli_epi64(m, 55));
    digits = _mm512_add_epi64(digits, S64(3 * 2049));
    t = _mm512_srli_epi64(_mm512_mul_epu32(digits, S64(2096129)), 32);
    rem = _mm512_sub_epi64(digits, _mm512_mul_epu32(t, S64(2049)));
    k = _mm512_sub_epi64(rem, S64(1024));
    if (width == 64)
        k = _mm512_castpd_si512(_mm512_cvtepi64_pd(k));
    else
        k = _mm512_cvtepu32_epi64(_mm256_castps_si256(_mm512_cvtepi64_ps(k)));

    v = _mm512_mask_mov_epi64(normal, _mm512_cmple_epu64_mask(cls, S64(5)), _mm512_and_si512(m, S64(mask)));
    v = _mm512_mask_mov_epi64(v, _mm512_cmpeq_epu64_mask(cls, S64(13)), special);
    return _mm512_mask_mov_epi64(v, _mm512_cmpeq_epu64_mask(cls, S64(14)), k);
}

/*
 * Leaves the upper halves of the vector registers clean (VZEROUPPER) before it
 * returns or hands the remainder to the scalar code.  GCC emits no VZEROUPPER before
 * a tail call, and with them dirty every legacy-SSE instruction run afterwards pays
 * for it: the probe's op kernels and SHA-NI (which has no VEX form) ran about a fifth
 * slower in the stream loop until the next VZEROUPPER (AMD EPYC, bench_stream.py).
 */
TEECERT_AVX512 static void teecert_gen_values_avx512(uint64_t z, uint64_t count, uint32_t width,
                                                     void *out)
{
    const __m512i g = S64(TEECERT_GAMMA);
    const __m512i step = S64(16 * TEECERT_GAMMA);
    const uint64_t *specials = width == 64 ? SPECIAL_F64 : SPECIAL_F32;
    const __m512i lo = _mm512_loadu_si512((const void *)specials);
    const __m512i hi = _mm512_loadu_si512((const void *)(specials + 8));
    __m512i zc = _mm512_add_epi64(
        S64(z), _mm512_set_epi64((long long)(14 * TEECERT_GAMMA), (long long)(12 * TEECERT_GAMMA),
                                 (long long)(10 * TEECERT_GAMMA), (long long)(8 * TEECERT_GAMMA),
                                 (long long)(6 * TEECERT_GAMMA), (long long)(4 * TEECERT_GAMMA),
                                 (long long)(2 * TEECERT_GAMMA), 0));
    uint64_t i = 0;

    if (width == 64) {
        uint64_t *o = (uint64_t *)out;
        for (; i + 8 <= count; i += 8) {
            __m512i c = teecert_mix8(zc), m = teecert_mix8(_mm512_add_epi64(zc, g));
            zc = _mm512_add_epi64(zc, step);
            _mm512_storeu_si512((void *)(o + i), teecert_value8(64, 11, 52, c, m, lo, hi));
        }
        _mm256_zeroupper(); /* see teecert_gen_values_avx512 */
        teecert_gen_values_scalar(z + 2 * i * TEECERT_GAMMA, count - i, width, o + i);
    } else if (width == 32) {
        uint32_t *o = (uint32_t *)out;
        for (; i + 8 <= count; i += 8) {
            __m512i c = teecert_mix8(zc), m = teecert_mix8(_mm512_add_epi64(zc, g));
            zc = _mm512_add_epi64(zc, step);
            _mm256_storeu_si256((__m256i *)(void *)(o + i),
                                _mm512_cvtepi64_epi32(teecert_value8(32, 8, 23, c, m, lo, hi)));
        }
        _mm256_zeroupper(); /* see teecert_gen_values_avx512 */
        teecert_gen_values_scalar(z + 2 * i * TEECERT_GAMMA, count - i, width, o + i);
    }
}
#undef S64

static int teecert_cpu_has_avx512(void)
{
    /* __builtin_cpu_supports also checks that the OS saves the ZMM state. */
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}
#endif /* TEECERT_HAVE_AVX512 */

typedef void (*teecert_values_fn)(uint64_t z, uint64_t count, uint32_t width, void *out);

static teecert_values_fn teecert_pick(void)
{
    /* Chosen once; a race between two first callers stores the same value. */
    static teecert_values_fn chosen;
    if (chosen == 0) {
#if TEECERT_HAVE_AVX512
        if (getenv("TEECERT_ACCEL_SCALAR") == 0 && teecert_cpu_has_avx512())
            chosen = teecert_gen_values_avx512;
        else
#endif
            chosen = teecert_gen_values_scalar;
    }
    return chosen;
}

const char *teecert_gen_impl(void)
{
#if TEECERT_HAVE_AVX512
    if (teecert_pick() == teecert_gen_values_avx512)
        return "avx512";
#endif
    teecert_pick();
    return "scalar";
}

void teecert_gen(uint64_t s0, uint64_t start, uint64_t n, uint32_t arity, uint32_t width, void *out)
{
    teecert_pick()(teecert_first_state(s0, start, arity), n * arity, width, out);
}

/*
 * teecert-libm-v1 (harness/vectors/streams/libm.py): per argument j, with dom[3j..3j+2] =
 * (lowest exponent, highest exponent, signed) already clamped to the format's normal
 * range: a class draw with top nibble 0 gives a teecert-mix-v1 value from (c << 4);
 * any other gives a value of a binade in the domain.  Values [0, count) of a chunk
 * whose first value (argument 0 of a vector) has its class draw at state z.
 */
static void teecert_gen_libm_scalar(uint64_t z, uint64_t count, uint32_t arity, uint32_t width,
                                    const int32_t *dom, void *out)
{
    const unsigned frac_bits = width == 64 ? 52 : 23;
    const int64_t bias = width == 64 ? 1023 : 127;
    const uint64_t frac_mask = (UINT64_C(1) << frac_bits) - 1;
    uint64_t i;
    uint32_t j = 0;
    for (i = 0; i < count; i++) {
        uint64_t c = teecert_mix(z), m = teecert_mix(z + TEECERT_GAMMA), v;
        z += 2 * TEECERT_GAMMA;
        if ((c >> 60) == 0) {
            v = width == 64 ? teecert_value(64, 11, 52, c << 4, m) : teecert_value(32, 8, 23, c << 4, m);
        } else {
            int64_t lo = dom[3 * j], hi = dom[3 * j + 1];
            uint64_t span = (uint64_t)(hi - lo + 1);
            int64_t e = lo + (int64_t)(((c >> 32) & 0xFFFFu) % span);
            uint64_t sign = dom[3 * j + 2] ? (m >> 63) : 0;
            v = (sign << (width - 1)) | ((uint64_t)(e + bias) << frac_bits) | (m & frac_mask);
        }
        if (width == 64)
            ((uint64_t *)out)[i] = v;
        else
            ((uint32_t *)out)[i] = (uint32_t)v;
        if (++j == arity)
            j = 0;
    }
}

#if TEECERT_HAVE_AVX512
/*
 * Eight values at a time: lane k holds argument k mod arity (arity divides 8), so
 * each lane keeps its argument's domain.  p mod span is p - span * floor(p * M / 2^32)
 * with M = ceil(2^32 / span), exact for p < 2^16 and span < 2^16 (the error term
 * p * (M - 2^32 / span) / 2^32 stays below 1 / span).  The mix values of the lanes
 * whose class nibble is 0 come from teecert_value8, as teecert_gen's do.
 */
TEECERT_AVX512 static void teecert_gen_libm_avx512(uint64_t z, uint64_t count, uint32_t arity, uint32_t width,
                                                   const int32_t *dom, void *out)
{
    const unsigned frac_bits = width == 64 ? 52 : 23;
    const uint64_t bias = width == 64 ? 1023 : 127;
    const uint64_t *specials = width == 64 ? SPECIAL_F64 : SPECIAL_F32;
    const __m512i sp_lo = _mm512_loadu_si512((const void *)specials);
    const __m512i sp_hi = _mm512_loadu_si512((const void *)(specials + 8));
    const __m512i g = _mm512_set1_epi64((long long)TEECERT_GAMMA);
    const __m512i step = _mm512_set1_epi64((long long)(16 * TEECERT_GAMMA));
    const __m512i frac_mask = _mm512_set1_epi64((long long)((UINT64_C(1) << frac_bits) - 1));
    uint64_t lo_l[8], span_l[8], magic_l[8], sign_l[8], i = 0;
    __m512i lo, span, magic, sign_ok, zc;
    unsigned k;
    for (k = 0; k < 8; k++) {
        const int32_t *d = dom + 3 * (k % arity);
        span_l[k] = (uint64_t)((int64_t)d[1] - d[0] + 1);
        magic_l[k] = ((UINT64_C(1) << 32) + span_l[k] - 1) / span_l[k];
        lo_l[k] = (uint64_t)((int64_t)d[0] + (int64_t)bias); /* the biased lowest exponent */
        sign_l[k] = d[2] ? ~UINT64_C(0) : 0;
    }
    lo = _mm512_loadu_si512((const void *)lo_l);
    span = _mm512_loadu_si512((const void *)span_l);
    magic = _mm512_loadu_si512((const void *)magic_l);
    sign_ok = _mm512_loadu_si512((const void *)sign_l);
    zc = _mm512_add_epi64(_mm512_set1_epi64((long long)z),
                          _mm512_set_epi64((long long)(14 * TEECERT_GAMMA), (long long)(12 * TEECERT_GAMMA),
                                           (long long)(10 * TEECERT_GAMMA), (long long)(8 * TEECERT_GAMMA),
                                           (long long)(6 * TEECERT_GAMMA), (long long)(4 * TEECERT_GAMMA),
                                           (long long)(2 * TEECERT_GAMMA), 0));
    for (; i + 8 <= count; i += 8) {
        __m512i c = teecert_mix8(zc), m = teecert_mix8(_mm512_add_epi64(zc, g));
        __m512i p = _mm512_and_si512(_mm512_srli_epi64(c, 32), _mm512_set1_epi64(0xFFFF));
        __m512i q = _mm512_srli_epi64(_mm512_mullo_epi64(p, magic), 32);
        __m512i e = _mm512_add_epi64(lo, _mm512_sub_epi64(p, _mm512_mullo_epi64(q, span)));
        __m512i sign = _mm512_and_si512(_mm512_srli_epi64(m, 63), sign_ok);
        __m512i v = _mm512_or_si512(_mm512_slli_epi64(sign, width - 1),
                                    _mm512_or_si512(_mm512_slli_epi64(e, frac_bits), _mm512_and_si512(m, frac_mask)));
        __mmask8 mixed = _mm512_cmpeq_epu64_mask(_mm512_srli_epi64(c, 60), _mm512_setzero_si512());
        zc = _mm512_add_epi64(zc, step);
        if (mixed) {
            __m512i cm = _mm512_slli_epi64(c, 4);
            v = _mm512_mask_mov_epi64(v, mixed, width == 64 ? teecert_value8(64, 11, 52, cm, m, sp_lo, sp_hi)
                                                            : teecert_value8(32, 8, 23, cm, m, sp_lo, sp_hi));
        }
        if (width == 64)
            _mm512_storeu_si512((void *)((uint64_t *)out + i), v);
        else
            _mm256_storeu_si256((__m256i *)(void *)((uint32_t *)out + i), _mm512_cvtepi64_epi32(v));
    }
    _mm256_zeroupper(); /* see teecert_gen_values_avx512 */
    /* i is a multiple of 8, so the tail starts at argument 0 */
    teecert_gen_libm_scalar(z + 2 * i * TEECERT_GAMMA, count - i, arity, width, dom,
                            width == 64 ? (void *)((uint64_t *)out + i) : (void *)((uint32_t *)out + i));
}
#endif

void teecert_gen_libm(uint64_t s0, uint64_t start, uint64_t n, uint32_t arity, uint32_t width,
                      const int32_t *dom, void *out)
{
    uint64_t z = teecert_first_state(s0, start, arity);
    if (width != 32 && width != 64)
        return;
#if TEECERT_HAVE_AVX512
    if (arity != 0 && 8 % arity == 0 && teecert_pick() == teecert_gen_values_avx512) {
        teecert_gen_libm_avx512(z, n * arity, arity, width, dom, out);
        return;
    }
#endif
    teecert_gen_libm_scalar(z, n * arity, arity, width, dom, out);
}
