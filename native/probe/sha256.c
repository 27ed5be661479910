/*
 * SHA-256 (FIPS 180-4) for the teecert reference probe: a portable C99 block
 * function, plus block functions on the CPU's SHA instructions (x86-64 SHA-NI,
 * Armv8 SHA2), chosen at run time.  See sha256.h for why this is hand-written and
 * how to build the portable code only.
 */
#include "sha256.h"

#include <stdint.h>
#include <string.h>

#if defined(TEECERT_SHA256_PORTABLE) || defined(TEECERT_NO_SHA_NI)
#define TEECERT_SHA256_ONLY_PORTABLE 1
#else
#define TEECERT_SHA256_ONLY_PORTABLE 0
#endif

/* x86-64: the SHA-NI functions carry their own target attribute, so the file builds
   with any -march and the code runs only where cpuid says the CPU has them. */
#if !TEECERT_SHA256_ONLY_PORTABLE && defined(__x86_64__) && \
    ((defined(__GNUC__) && __GNUC__ >= 5) || defined(__clang__))
#define TEECERT_HAVE_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define TEECERT_HAVE_SHA_NI 0
#endif
#if TEECERT_HAVE_SHA_NI && !defined(TEECERT_SHA256_NO_VZEROUPPER)
#define TEECERT_SHA_NI_CLEAN 1 /* the SHA-NI functions behind a VZEROUPPER where AVX is */
#else
#define TEECERT_SHA_NI_CLEAN 0
#endif

/* AArch64: with GCC the SHA2 function gets a target attribute and runs where the
   kernel's hwcaps say so; with another compiler only when the build already targets
   a CPU with SHA2 (__ARM_FEATURE_SHA2), since its attribute spelling is untested. */
#if !TEECERT_SHA256_ONLY_PORTABLE && defined(__aarch64__) && \
    (defined(__ARM_FEATURE_SHA2) || (defined(__linux__) && defined(__GNUC__) && \
                                     !defined(__clang__) && __GNUC__ >= 6))
#define TEECERT_HAVE_ARMV8_SHA2 1
#include <arm_neon.h>
#if defined(__ARM_FEATURE_SHA2)
#define ARMSHA_TARGET
#else
/* GCC's arm_neon.h declares the SHA intrinsics under "+crypto" (SHA2 and AES). */
#define ARMSHA_TARGET __attribute__((target("+crypto")))
#include <sys/auxv.h>
#ifndef HWCAP_SHA2
#define HWCAP_SHA2 (1UL << 6) /* Linux arch/arm64 uapi hwcap.h */
#endif
#endif
#else
#define TEECERT_HAVE_ARMV8_SHA2 0
#endif

/* First 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t K256[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

/* First 32 bits of the fractional parts of the square roots of the first 8 primes. */
static const uint32_t H0[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

typedef void (*blocks_fn)(uint32_t h[8], const uint8_t *p, size_t nblocks);
/* Lane i: state h[i], message p[i]; every lane runs the same number of blocks. */
typedef void (*lanes_fn)(uint32_t *const h[], const uint8_t *const p[], size_t nblocks);

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void blocks_portable(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    uint32_t w[64];
    while (nblocks--) {
        uint32_t a, b, c, d, e, f, g, hh;
        int t;
        for (t = 0; t < 16; t++)
            w[t] = load_be32(p + 4 * t);
        for (t = 16; t < 64; t++) {
            uint32_t s0 = ROTR(w[t - 15], 7) ^ ROTR(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = ROTR(w[t - 2], 17) ^ ROTR(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        a = h[0]; b = h[1]; c = h[2]; d = h[3];
        e = h[4]; f = h[5]; g = h[6]; hh = h[7];
        for (t = 0; t < 64; t++) {
            uint32_t S1 = ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25);
            uint32_t ch = (e & f) ^ (~e & g);
            uint32_t t1 = hh + S1 + ch + K256[t] + w[t];
            uint32_t S0 = ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22);
            uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            uint32_t t2 = S0 + maj;
            hh = g; g = f; f = e; e = d + t1;
            d = c; c = b; b = a; a = t1 + t2;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d;
        h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
        p += 64;
    }
}

#if TEECERT_HAVE_SHA_NI
/*
 * SHA-NI (Intel SHA extensions): sha256rnds2 does two rounds on the state held as
 * ABEF/CDGH; sha256msg1 and sha256msg2 extend the message schedule four words at a
 * time.  Round group g (rounds 4g .. 4g+3) uses schedule words M[g % 4]; groups
 * 3..14 finish the words of group g+1 and groups 1..12 start those of group g+3
 * (held in M[(g+3) % 4], the same register as M[(g-1) % 4]).
 */
#define SHANI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

#define SHANI_GROUP(g, k, S0, S1, MSG, Mg, Mnext, Mprev)                                \
    do {                                                                               \
        MSG = _mm_add_epi32(Mg, k);                                                    \
        S1 = _mm_sha256rnds2_epu32(S1, S0, MSG);                                       \
        if ((g) >= 3 && (g) <= 14)                                                     \
            Mnext = _mm_sha256msg2_epu32(_mm_add_epi32(Mnext, _mm_alignr_epi8(Mg, Mprev, 4)), \
                                         Mg);                                          \
        MSG = _mm_shuffle_epi32(MSG, 0x0E);                                            \
        S0 = _mm_sha256rnds2_epu32(S0, S1, MSG);                                       \
        if ((g) >= 1 && (g) <= 12)                                                     \
            Mprev = _mm_sha256msg1_epu32(Mprev, Mg);                                   \
    } while (0)

#define SHANI_K(g) _mm_loadu_si128((const __m128i *)&K256[4 * (g)])

/* Lane L's group g: its registers are L##s0, L##s1, L##msg, L##m0 .. L##m3. */
#define SHANI_LANE(g, L, a, b, c)                                                       \
    SHANI_GROUP(g, k, L##s0, L##s1, L##msg, L##m##a, L##m##b, L##m##c)
#define SHANI_X(g, a, b, c) SHANI_LANE(g, x, a, b, c)
#define SHANI_XY(g, a, b, c) SHANI_LANE(g, x, a, b, c); SHANI_LANE(g, y, a, b, c)

/* all 16 groups, each with its schedule registers: M[g%4], M[(g+1)%4], M[(g+3)%4] */
#define SHANI_ROUNDS(G)                                                                 \
    k = SHANI_K(0);  G(0, 0, 1, 3);  k = SHANI_K(1);  G(1, 1, 2, 0);                    \
    k = SHANI_K(2);  G(2, 2, 3, 1);  k = SHANI_K(3);  G(3, 3, 0, 2);                    \
    k = SHANI_K(4);  G(4, 0, 1, 3);  k = SHANI_K(5);  G(5, 1, 2, 0);                    \
    k = SHANI_K(6);  G(6, 2, 3, 1);  k = SHANI_K(7);  G(7, 3, 0, 2);                    \
    k = SHANI_K(8);  G(8, 0, 1, 3);  k = SHANI_K(9);  G(9, 1, 2, 0);                    \
    k = SHANI_K(10); G(10, 2, 3, 1); k = SHANI_K(11); G(11, 3, 0, 2);                   \
    k = SHANI_K(12); G(12, 0, 1, 3); k = SHANI_K(13); G(13, 1, 2, 0);                   \
    k = SHANI_K(14); G(14, 2, 3, 1); k = SHANI_K(15); G(15, 3, 0, 2)

/* h[0..7] (A..H) as the ABEF and CDGH registers sha256rnds2 works on, and back. */
SHANI_TARGET static inline void shani_load(const uint32_t h[8], __m128i *abef, __m128i *cdgh)
{
    __m128i dcba = _mm_loadu_si128((const __m128i *)&h[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&h[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    *abef = _mm_alignr_epi8(cdab, efgh, 8);
    *cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
}

SHANI_TARGET static inline void shani_store(uint32_t h[8], __m128i abef, __m128i cdgh)
{
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, dchg, 0xF0)); /* DCBA */
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(dchg, feba, 8));    /* HGFE */
}

/* Message block words, big-endian, as four registers of W[4i .. 4i+3]. */
#define SHANI_LOAD_MSG(L, p)                                                            \
    do {                                                                               \
        L##m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((p) + 0)), bswap);   \
        L##m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((p) + 16)), bswap);  \
        L##m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((p) + 32)), bswap);  \
        L##m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((p) + 48)), bswap);  \
    } while (0)

SHANI_TARGET static void blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i k, xs0, xs1, xmsg, xm0, xm1, xm2, xm3, abef, cdgh;

    shani_load(h, &xs0, &xs1);
    while (nblocks--) {
        abef = xs0;
        cdgh = xs1;
        SHANI_LOAD_MSG(x, p);
        SHANI_ROUNDS(SHANI_X);
        xs0 = _mm_add_epi32(xs0, abef);
        xs1 = _mm_add_epi32(xs1, cdgh);
        p += 64;
    }
    shani_store(h, xs0, xs1);
}

/*
 * Two messages at once.  One message is bound by the latency of its chain of
 * sha256rnds2 instructions, not by their throughput, so a second, independent chain
 * interleaved with it costs little: two messages take about 1.4 times as long as one
 * (on the AMD EPYC measured).  This is how the harness's Merkle leaves of two chunks
 * are hashed.
 * Four lanes were measured too: faster alone, but slower in the stream loop (they
 * need more than the 16 XMM registers, and twice the chunk buffers in cache).
 */
#define SHANI_LANE_VARS(L) __m128i L##s0, L##s1, L##msg, L##m0, L##m1, L##m2, L##m3, L##abef, L##cdgh
#define SHANI_LANE_START(L) L##abef = L##s0; L##cdgh = L##s1
#define SHANI_LANE_END(L)                                                               \
    L##s0 = _mm_add_epi32(L##s0, L##abef);                                              \
    L##s1 = _mm_add_epi32(L##s1, L##cdgh)

SHANI_TARGET static void lanes2_shani(uint32_t *const h[], const uint8_t *const p[], size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    const uint8_t *px = p[0], *py = p[1];
    __m128i k;
    SHANI_LANE_VARS(x);
    SHANI_LANE_VARS(y);

    shani_load(h[0], &xs0, &xs1);
    shani_load(h[1], &ys0, &ys1);
    while (nblocks--) {
        SHANI_LANE_START(x);
        SHANI_LANE_START(y);
        SHANI_LOAD_MSG(x, px);
        SHANI_LOAD_MSG(y, py);
        SHANI_ROUNDS(SHANI_XY);
        SHANI_LANE_END(x);
        SHANI_LANE_END(y);
        px += 64;
        py += 64;
    }
    shani_store(h[0], xs0, xs1);
    shani_store(h[1], ys0, ys1);
}

/*
 * The same functions behind a VZEROUPPER, for CPUs with AVX.  sha256rnds2, msg1 and
 * msg2 exist only in the legacy SSE encoding, and legacy SSE code that runs while a
 * caller has left the upper halves of the YMM/ZMM registers in use is slowed down
 * until the next VZEROUPPER: by about a fifth on the AMD EPYC measured, which is what
 * the stream loop lost after AVX-512 code that returned without one.  Whoever calls
 * (the probe's own code, the harness, any program that loads the probe), these start
 * clean.  The digests are the same: the SHA-NI code itself is unchanged.
 */
#if TEECERT_SHA_NI_CLEAN
#define SHANI_AVX_TARGET __attribute__((target("avx,sha,sse4.1,ssse3")))

SHANI_AVX_TARGET static void blocks_shani_clean(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    _mm256_zeroupper();
    blocks_shani(h, p, nblocks);
}

SHANI_AVX_TARGET static void lanes2_shani_clean(uint32_t *const h[], const uint8_t *const p[],
                                                size_t nblocks)
{
    _mm256_zeroupper();
    lanes2_shani(h, p, nblocks);
}
#endif /* TEECERT_SHA_NI_CLEAN */

static int cpu_has_sha_ni(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (!(c & (1u << 9)) || !(c & (1u << 19))) /* SSSE3, SSE4.1 */
        return 0;
    if (__get_cpuid_max(0, 0) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 29) & 1u; /* SHA */
}

#if TEECERT_SHA_NI_CLEAN
/* AVX usable: the CPU has it (and XSAVE enabled by the OS), and the OS saves the YMM
   state (XCR0 bits 1 and 2); only then may VZEROUPPER run. */
static int cpu_has_avx(void)
{
    unsigned int a, b, c, d, xcr0_lo, xcr0_hi;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28))) /* OSXSAVE, AVX */
        return 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    (void)xcr0_hi;
    return (xcr0_lo & 6u) == 6u;
}
#endif /* TEECERT_SHA_NI_CLEAN */
#endif /* TEECERT_HAVE_SHA_NI */

#if TEECERT_HAVE_ARMV8_SHA2
/*
 * Armv8 Cryptographic Extension: SHA256H / SHA256H2 do four rounds on the state held
 * as ABCD and EFGH (H2 needs ABCD as it was before those rounds); SHA256SU0 and
 * SHA256SU1 extend the message schedule four words at a time.  Group g (rounds
 * 4g .. 4g+3) uses M[g % 4], and groups 0..11 then replace it with the words of
 * group g+4: W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16].
 */
#define ARM_GROUP(g, Mg, M1, M2, M3)                                                    \
    do {                                                                               \
        wk = vaddq_u32(Mg, vld1q_u32(&K256[4 * (g)]));                                 \
        if ((g) < 12)                                                                  \
            Mg = vsha256su1q_u32(vsha256su0q_u32(Mg, M1), M2, M3);                     \
        prev = abcd;                                                                   \
        abcd = vsha256hq_u32(abcd, efgh, wk);                                          \
        efgh = vsha256h2q_u32(efgh, prev, wk);                                         \
    } while (0)

ARMSHA_TARGET static void blocks_armv8(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    uint32x4_t abcd = vld1q_u32(&h[0]), efgh = vld1q_u32(&h[4]);
    uint32x4_t abcd0, efgh0, m0, m1, m2, m3, wk, prev;

    while (nblocks--) {
        abcd0 = abcd;
        efgh0 = efgh;
        /* the words are big-endian: reverse the bytes of each */
        m0 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 0)));
        m1 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 16)));
        m2 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 32)));
        m3 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 48)));
        ARM_GROUP(0, m0, m1, m2, m3);
        ARM_GROUP(1, m1, m2, m3, m0);
        ARM_GROUP(2, m2, m3, m0, m1);
        ARM_GROUP(3, m3, m0, m1, m2);
        ARM_GROUP(4, m0, m1, m2, m3);
        ARM_GROUP(5, m1, m2, m3, m0);
        ARM_GROUP(6, m2, m3, m0, m1);
        ARM_GROUP(7, m3, m0, m1, m2);
        ARM_GROUP(8, m0, m1, m2, m3);
        ARM_GROUP(9, m1, m2, m3, m0);
        ARM_GROUP(10, m2, m3, m0, m1);
        ARM_GROUP(11, m3, m0, m1, m2);
        ARM_GROUP(12, m0, m1, m2, m3);
        ARM_GROUP(13, m1, m2, m3, m0);
        ARM_GROUP(14, m2, m3, m0, m1);
        ARM_GROUP(15, m3, m0, m1, m2);
        abcd = vaddq_u32(abcd, abcd0);
        efgh = vaddq_u32(efgh, efgh0);
        p += 64;
    }
    vst1q_u32(&h[0], abcd);
    vst1q_u32(&h[4], efgh);
}

static int cpu_has_armv8_sha2(void)
{
#if defined(__ARM_FEATURE_SHA2)
    return 1; /* the whole build already assumes it */
#else
    return (getauxval(AT_HWCAP) & HWCAP_SHA2) != 0;
#endif
}
#endif /* TEECERT_HAVE_ARMV8_SHA2 */

/* The one-message code, lane after lane: where there are no multi-lane functions. */
#define LANES_ONE_BY_ONE(NAME, BLOCKS, K)                                               \
    static void NAME(uint32_t *const h[], const uint8_t *const p[], size_t nblocks)    \
    {                                                                                  \
        int i;                                                                         \
        for (i = 0; i < (K); i++)                                                      \
            BLOCKS(h[i], p[i], nblocks);                                               \
    }

struct sha256_impl {
    const char *name;
    blocks_fn blocks;
    lanes_fn lanes2; /* two messages side by side */
};

LANES_ONE_BY_ONE(lanes2_portable, blocks_portable, 2)
static const struct sha256_impl IMPL_PORTABLE = {"portable", blocks_portable, lanes2_portable};
#if TEECERT_HAVE_SHA_NI
static const struct sha256_impl IMPL_SHA_NI = {"sha-ni", blocks_shani, lanes2_shani};
#if TEECERT_SHA_NI_CLEAN
/* the same code and the same name: only the vector state it starts from differs */
static const struct sha256_impl IMPL_SHA_NI_CLEAN = {"sha-ni", blocks_shani_clean, lanes2_shani_clean};
#endif
#endif
#if TEECERT_HAVE_ARMV8_SHA2
LANES_ONE_BY_ONE(lanes2_armv8, blocks_armv8, 2)
static const struct sha256_impl IMPL_ARMV8 = {"armv8-sha2", blocks_armv8, lanes2_armv8};
#endif

/* Chosen once, as one pointer; a race between two first callers stores the same value. */
static const struct sha256_impl *chosen;

static const struct sha256_impl *pick(void)
{
    if (chosen == 0) {
#if TEECERT_HAVE_SHA_NI
        if (cpu_has_sha_ni()) {
#if TEECERT_SHA_NI_CLEAN
            chosen = cpu_has_avx() ? &IMPL_SHA_NI_CLEAN : &IMPL_SHA_NI;
#else
            chosen = &IMPL_SHA_NI;
#endif
            return chosen;
        }
#endif
#if TEECERT_HAVE_ARMV8_SHA2
        if (cpu_has_armv8_sha2()) {
            chosen = &IMPL_ARMV8;
            return chosen;
        }
#endif
        chosen = &IMPL_PORTABLE;
    }
    return chosen;
}

const char *teecert_sha256_impl(void)
{
    return pick()->name;
}

void teecert_sha256_init(teecert_sha256_ctx *ctx)
{
    memcpy(ctx->h, H0, sizeof H0);
    ctx->total = 0;
    ctx->fill = 0;
}

void teecert_sha256_update(teecert_sha256_ctx *ctx, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    blocks_fn blocks = pick()->blocks;
    if (len == 0)
        return;
    ctx->total += len;
    if (ctx->fill) {
        size_t take = 64 - ctx->fill;
        if (take > len)
            take = len;
        memcpy(ctx->buf + ctx->fill, p, take);
        ctx->fill += take;
        p += take;
        len -= take;
        if (ctx->fill < 64)
            return;
        blocks(ctx->h, ctx->buf, 1);
        ctx->fill = 0;
    }
    if (len >= 64) {
        size_t nb = len / 64;
        blocks(ctx->h, p, nb);
        p += nb * 64;
        len -= nb * 64;
    }
    if (len) {
        memcpy(ctx->buf, p, len);
        ctx->fill = len;
    }
}

void teecert_sha256_final(teecert_sha256_ctx *ctx, uint8_t out[32])
{
    uint64_t bits = ctx->total * 8u;
    blocks_fn blocks = pick()->blocks;
    int i;
    ctx->buf[ctx->fill++] = 0x80;
    if (ctx->fill > 56) {
        memset(ctx->buf + ctx->fill, 0, 64 - ctx->fill);
        blocks(ctx->h, ctx->buf, 1);
        ctx->fill = 0;
    }
    memset(ctx->buf + ctx->fill, 0, 56 - ctx->fill);
    for (i = 0; i < 8; i++)
        ctx->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    blocks(ctx->h, ctx->buf, 1);
    for (i = 0; i < 8; i++)
        store_be32(out + 4 * i, ctx->h[i]);
    memset(ctx, 0, sizeof *ctx);
}

void teecert_sha256(const void *data, size_t len, uint8_t out[32])
{
    teecert_sha256_ctx ctx;
    teecert_sha256_init(&ctx);
    teecert_sha256_update(&ctx, data, len);
    teecert_sha256_final(&ctx, out);
}

/* One or two messages; the whole blocks both have run side by side. */
static void sha256_group(const void *prefix, size_t prefix_len, const void *const msgs[],
                         const size_t lens[], size_t k, uint8_t *out)
{
    teecert_sha256_ctx ctx[2];
    const uint8_t *p[2];
    uint32_t *h[2];
    size_t left[2], head, nb = SIZE_MAX, i;

    for (i = 0; i < k; i++) {
        teecert_sha256_init(&ctx[i]);
        teecert_sha256_update(&ctx[i], prefix, prefix_len);
        p[i] = (const uint8_t *)msgs[i];
        left[i] = lens[i];
        h[i] = ctx[i].h;
    }
    /* Every context holds the same partial block: complete it from each message;
       then the whole blocks that every message still has go side by side. */
    head = (64 - ctx[0].fill) % 64;
    for (i = 0; i < k; i++) {
        size_t take = left[i] < head ? left[i] : head;
        teecert_sha256_update(&ctx[i], p[i], take);
        p[i] += take;
        left[i] -= take;
        if (ctx[i].fill != 0) /* too short to complete it */
            nb = 0;
        else if (left[i] / 64 < nb)
            nb = left[i] / 64;
    }
    if (k == 2 && nb > 0) {
        pick()->lanes2(h, p, nb);
        for (i = 0; i < k; i++) {
            ctx[i].total += nb * 64;
            p[i] += nb * 64;
            left[i] -= nb * 64;
        }
    }
    for (i = 0; i < k; i++) {
        teecert_sha256_update(&ctx[i], p[i], left[i]);
        teecert_sha256_final(&ctx[i], out + 32 * i);
    }
}

void teecert_sha256_lanes(const void *prefix, size_t prefix_len, const void *const msgs[],
                          const size_t lens[], size_t k, uint8_t *out)
{
    size_t done;
    for (done = 0; done + 2 <= k; done += 2)
        sha256_group(prefix, prefix_len, msgs + done, lens + done, 2, out + 32 * done);
    if (done < k)
        sha256_group(prefix, prefix_len, msgs + done, lens + done, 1, out + 32 * done);
}
