/*
 * SHA-256 (FIPS 180-4) for the teecert reference probe: a portable C99 block
 * function, plus an x86-64 SHA-NI block function chosen at run time.
 * See sha256.h for why this is hand-written.
 */
#include "sha256.h"

#include <string.h>

#if !defined(TEECERT_NO_SHA_NI) && defined(__x86_64__) && \
    ((defined(__GNUC__) && __GNUC__ >= 5) || defined(__clang__))
#define TEECERT_HAVE_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define TEECERT_HAVE_SHA_NI 0
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
 * SHA-NI: sha256rnds2 does two rounds on the state held as ABEF/CDGH; sha256msg1
 * and sha256msg2 extend the message schedule four words at a time.  Round group g
 * (rounds 4g .. 4g+3) uses schedule words M[g % 4]; groups 3..14 finish the words
 * of group g+1 and groups 1..12 start those of group g+3.
 */
#define SHANI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

#define SHANI_GROUP(g, Mg, Mnext, Mprev, Mplus3)                                         \
    do {                                                                               \
        msg = _mm_add_epi32(Mg, _mm_loadu_si128((const __m128i *)&K256[4 * (g)]));     \
        state1 = _mm_sha256rnds2_epu32(state1, state0, msg);                           \
        if ((g) >= 3 && (g) <= 14) {                                                   \
            tmp = _mm_alignr_epi8(Mg, Mprev, 4);                                       \
            Mnext = _mm_add_epi32(Mnext, tmp);                                         \
            Mnext = _mm_sha256msg2_epu32(Mnext, Mg);                                   \
        }                                                                              \
        msg = _mm_shuffle_epi32(msg, 0x0E);                                            \
        state0 = _mm_sha256rnds2_epu32(state0, state1, msg);                           \
        if ((g) >= 1 && (g) <= 12)                                                     \
            Mplus3 = _mm_sha256msg1_epu32(Mplus3, Mg);                                 \
    } while (0)

SHANI_TARGET static void blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i state0, state1, msg, tmp, m0, m1, m2, m3, abef, cdgh;

    tmp = _mm_loadu_si128((const __m128i *)&h[0]);    /* DCBA */
    state1 = _mm_loadu_si128((const __m128i *)&h[4]); /* HGFE */
    tmp = _mm_shuffle_epi32(tmp, 0xB1);               /* CDAB */
    state1 = _mm_shuffle_epi32(state1, 0x1B);         /* EFGH */
    state0 = _mm_alignr_epi8(tmp, state1, 8);         /* ABEF */
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);      /* CDGH */

    while (nblocks--) {
        abef = state0;
        cdgh = state1;
        m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
        m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
        m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
        m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);

        SHANI_GROUP(0, m0, m1, m3, m3);
        SHANI_GROUP(1, m1, m2, m0, m0);
        SHANI_GROUP(2, m2, m3, m1, m1);
        SHANI_GROUP(3, m3, m0, m2, m2);
        SHANI_GROUP(4, m0, m1, m3, m3);
        SHANI_GROUP(5, m1, m2, m0, m0);
        SHANI_GROUP(6, m2, m3, m1, m1);
        SHANI_GROUP(7, m3, m0, m2, m2);
        SHANI_GROUP(8, m0, m1, m3, m3);
        SHANI_GROUP(9, m1, m2, m0, m0);
        SHANI_GROUP(10, m2, m3, m1, m1);
        SHANI_GROUP(11, m3, m0, m2, m2);
        SHANI_GROUP(12, m0, m1, m3, m3);
        SHANI_GROUP(13, m1, m2, m0, m0);
        SHANI_GROUP(14, m2, m3, m1, m1);
        SHANI_GROUP(15, m3, m0, m2, m2);

        state0 = _mm_add_epi32(state0, abef);
        state1 = _mm_add_epi32(state1, cdgh);
        p += 64;
    }

    tmp = _mm_shuffle_epi32(state0, 0x1B);       /* FEBA */
    state1 = _mm_shuffle_epi32(state1, 0xB1);    /* DCHG */
    state0 = _mm_blend_epi16(tmp, state1, 0xF0); /* DCBA */
    state1 = _mm_alignr_epi8(state1, tmp, 8);    /* ABEF */
    _mm_storeu_si128((__m128i *)&h[0], state0);
    _mm_storeu_si128((__m128i *)&h[4], state1);
}

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
#endif /* TEECERT_HAVE_SHA_NI */

/* Chosen once; a race between two first callers stores the same value. */
static blocks_fn chosen_blocks;
static const char *chosen_name;

static blocks_fn pick_blocks(void)
{
    if (chosen_blocks == 0) {
#if TEECERT_HAVE_SHA_NI
        if (cpu_has_sha_ni()) {
            chosen_name = "sha-ni";
            chosen_blocks = blocks_shani;
            return chosen_blocks;
        }
#endif
        chosen_name = "portable";
        chosen_blocks = blocks_portable;
    }
    return chosen_blocks;
}

const char *teecert_sha256_impl(void)
{
    pick_blocks();
    return chosen_name;
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
    blocks_fn blocks = pick_blocks();
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
    blocks_fn blocks = pick_blocks();
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
