/*
 * SHA-512, SHA3-256, Keccak-256 and BLAKE2b-512 for the teecert reference probe.
 * Portable C99, plus an AVX-512 path for batches on x86-64 (near the end, with its
 * own comment); see hashes.h for why these are hand-written and for the
 * TEECERT_KECCAK_DOMAIN seam.  tests/probe/test_hashes_c.py compares every function
 * with hashlib and with the independent Python sponge of teecert.reference.hashes;
 * tests/native/test_hash_lanes.py compares the batch paths with both and with a
 * build without the AVX-512 code.
 *
 * All functions are one-shot: the determinism suite hashes whole messages, so no
 * streaming context is kept.  Words are assembled from bytes explicitly (big-endian
 * for SHA-512, little-endian for Keccak and BLAKE2b) so the code never depends on
 * the host's byte order or on unaligned access; only the AVX-512 code, built for
 * x86-64 alone, loads whole words.
 */
#include "hashes.h"

#include <string.h>

#ifndef TEECERT_KECCAK_DOMAIN
#define TEECERT_KECCAK_DOMAIN 0x01
#endif

/* The padding byte is one octet whose low bits are the domain suffix followed by the
 * first bit of pad10*1; 0x80 is the last bit of the padding, so it must stay free. */
typedef char teecert_keccak_domain_is_valid[
    ((TEECERT_KECCAK_DOMAIN) >= 0x01 && (TEECERT_KECCAK_DOMAIN) <= 0x7f) ? 1 : -1];

/* Rotations with the count reduced and the complementary shift masked, so a count
 * of 0 (Keccak's lane (0,0)) is well defined. */
static uint64_t rotl64(uint64_t x, unsigned n)
{
    n &= 63u;
    return (x << n) | (x >> ((64u - n) & 63u));
}

static uint64_t rotr64(uint64_t x, unsigned n)
{
    n &= 63u;
    return (x >> n) | (x << ((64u - n) & 63u));
}

static uint64_t load_be64(const uint8_t *p)
{
    return ((uint64_t)p[0] << 56) | ((uint64_t)p[1] << 48) | ((uint64_t)p[2] << 40) |
           ((uint64_t)p[3] << 32) | ((uint64_t)p[4] << 24) | ((uint64_t)p[5] << 16) |
           ((uint64_t)p[6] << 8) | (uint64_t)p[7];
}

static void store_be64(uint8_t *p, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t load_le64(const uint8_t *p)
{
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) |
           ((uint64_t)p[3] << 24) | ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) |
           ((uint64_t)p[6] << 48) | ((uint64_t)p[7] << 56);
}

static void store_le64(uint8_t *p, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ------------------------------------------------------------------------------
 * SHA-512 (FIPS 180-4, sections 4.1.3, 4.2.3, 5.1.2, 5.3.5, 6.4)
 * ---------------------------------------------------------------------------- */

/* First 64 bits of the fractional parts of the cube roots of the first 80 primes. */
static const uint64_t K512[80] = {
    0x428a2f98d728ae22ull, 0x7137449123ef65cdull, 0xb5c0fbcfec4d3b2full, 0xe9b5dba58189dbbcull,
    0x3956c25bf348b538ull, 0x59f111f1b605d019ull, 0x923f82a4af194f9bull, 0xab1c5ed5da6d8118ull,
    0xd807aa98a3030242ull, 0x12835b0145706fbeull, 0x243185be4ee4b28cull, 0x550c7dc3d5ffb4e2ull,
    0x72be5d74f27b896full, 0x80deb1fe3b1696b1ull, 0x9bdc06a725c71235ull, 0xc19bf174cf692694ull,
    0xe49b69c19ef14ad2ull, 0xefbe4786384f25e3ull, 0x0fc19dc68b8cd5b5ull, 0x240ca1cc77ac9c65ull,
    0x2de92c6f592b0275ull, 0x4a7484aa6ea6e483ull, 0x5cb0a9dcbd41fbd4ull, 0x76f988da831153b5ull,
    0x983e5152ee66dfabull, 0xa831c66d2db43210ull, 0xb00327c898fb213full, 0xbf597fc7beef0ee4ull,
    0xc6e00bf33da88fc2ull, 0xd5a79147930aa725ull, 0x06ca6351e003826full, 0x142929670a0e6e70ull,
    0x27b70a8546d22ffcull, 0x2e1b21385c26c926ull, 0x4d2c6dfc5ac42aedull, 0x53380d139d95b3dfull,
    0x650a73548baf63deull, 0x766a0abb3c77b2a8ull, 0x81c2c92e47edaee6ull, 0x92722c851482353bull,
    0xa2bfe8a14cf10364ull, 0xa81a664bbc423001ull, 0xc24b8b70d0f89791ull, 0xc76c51a30654be30ull,
    0xd192e819d6ef5218ull, 0xd69906245565a910ull, 0xf40e35855771202aull, 0x106aa07032bbd1b8ull,
    0x19a4c116b8d2d0c8ull, 0x1e376c085141ab53ull, 0x2748774cdf8eeb99ull, 0x34b0bcb5e19b48a8ull,
    0x391c0cb3c5c95a63ull, 0x4ed8aa4ae3418acbull, 0x5b9cca4f7763e373ull, 0x682e6ff3d6b2b8a3ull,
    0x748f82ee5defb2fcull, 0x78a5636f43172f60ull, 0x84c87814a1f0ab72ull, 0x8cc702081a6439ecull,
    0x90befffa23631e28ull, 0xa4506cebde82bde9ull, 0xbef9a3f7b2c67915ull, 0xc67178f2e372532bull,
    0xca273eceea26619cull, 0xd186b8c721c0c207ull, 0xeada7dd6cde0eb1eull, 0xf57d4f7fee6ed178ull,
    0x06f067aa72176fbaull, 0x0a637dc5a2c898a6ull, 0x113f9804bef90daeull, 0x1b710b35131c471bull,
    0x28db77f523047d84ull, 0x32caab7b40c72493ull, 0x3c9ebe0a15c9bebcull, 0x431d67c49c100d4cull,
    0x4cc5d4becb3e42b6ull, 0x597f299cfc657e2aull, 0x5fcb6fab3ad6faecull, 0x6c44198c4a475817ull,
};

/* First 64 bits of the fractional parts of the square roots of the first 8 primes:
 * the SHA-512 initial hash value, which BLAKE2b also uses as its IV. */
static const uint64_t IV512[8] = {
    0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
    0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

static void sha512_block(uint64_t h[8], const uint8_t *p)
{
    uint64_t w[80];
    uint64_t a, b, c, d, e, f, g, hh;
    int t;

    for (t = 0; t < 16; t++)
        w[t] = load_be64(p + 8 * t);
    for (t = 16; t < 80; t++) {
        uint64_t s0 = rotr64(w[t - 15], 1) ^ rotr64(w[t - 15], 8) ^ (w[t - 15] >> 7);
        uint64_t s1 = rotr64(w[t - 2], 19) ^ rotr64(w[t - 2], 61) ^ (w[t - 2] >> 6);
        w[t] = s1 + w[t - 7] + s0 + w[t - 16];
    }
    a = h[0];
    b = h[1];
    c = h[2];
    d = h[3];
    e = h[4];
    f = h[5];
    g = h[6];
    hh = h[7];
    for (t = 0; t < 80; t++) {
        uint64_t S1 = rotr64(e, 14) ^ rotr64(e, 18) ^ rotr64(e, 41);
        uint64_t ch = (e & f) ^ (~e & g);
        uint64_t t1 = hh + S1 + ch + K512[t] + w[t];
        uint64_t S0 = rotr64(a, 28) ^ rotr64(a, 34) ^ rotr64(a, 39);
        uint64_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint64_t t2 = S0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

void teecert_sha512(const void *data, size_t len, uint8_t out[64])
{
    const uint8_t *p = (const uint8_t *)data;
    uint64_t h[8];
    uint8_t last[256]; /* the tail and its padding: one or two blocks */
    size_t rest = len % 128u, tail;
    uint64_t total = (uint64_t)len;
    int i;

    memcpy(h, IV512, sizeof h);
    for (; len >= 128u; len -= 128u, p += 128)
        sha512_block(h, p);

    /* Padding (5.1.2): 0x80, zeros, then the message length in bits as a 128-bit
     * big-endian integer, so the tail takes two blocks when more than 111 bytes
     * are left. */
    memset(last, 0, sizeof last);
    if (rest)
        memcpy(last, p, rest);
    last[rest] = 0x80;
    tail = rest < 112u ? 128u : 256u;
    store_be64(last + tail - 16, total >> 61);
    store_be64(last + tail - 8, total << 3);
    sha512_block(h, last);
    if (tail == 256u)
        sha512_block(h, last + 128);

    for (i = 0; i < 8; i++)
        store_be64(out + 8 * i, h[i]);
}

/* ------------------------------------------------------------------------------
 * Keccak-f[1600] and the sponge (FIPS 202, sections 3 to 5); lane (x, y) is a[x + 5y]
 * and lanes are little-endian in the byte string (FIPS 202 appendix B.1).
 * ---------------------------------------------------------------------------- */

/* iota's round constants, RC[i] from rc(t) of Algorithm 5 as in Algorithm 6. */
static const uint64_t KECCAK_RC[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull,
    0x000000000000808bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
    0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/* Keccak-f[1600] with the 25 lanes in locals and each round's steps written out, so
 * the state stays in registers: lane (x, y) is a<x + 5y>.  rho's offsets, lane by lane
 * in that order, are (t+1)(t+2)/2 mod 64 along the walk of Algorithm 2:
 * 0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2,
 * 61, 56, 14.  The loops and the modular lane indices of FIPS 202 are unrolled here
 * because the hash streams (a million messages of up to 512 bytes per hash) spend
 * nearly all their time in this function. */
static void keccak_f1600(uint64_t s[25])
{
    uint64_t a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12,
        a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24;
    uint64_t b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12,
        b13, b14, b15, b16, b17, b18, b19, b20, b21, b22, b23, b24;
    uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
    int round;

    a0 = s[0];
    a1 = s[1];
    a2 = s[2];
    a3 = s[3];
    a4 = s[4];
    a5 = s[5];
    a6 = s[6];
    a7 = s[7];
    a8 = s[8];
    a9 = s[9];
    a10 = s[10];
    a11 = s[11];
    a12 = s[12];
    a13 = s[13];
    a14 = s[14];
    a15 = s[15];
    a16 = s[16];
    a17 = s[17];
    a18 = s[18];
    a19 = s[19];
    a20 = s[20];
    a21 = s[21];
    a22 = s[22];
    a23 = s[23];
    a24 = s[24];
    for (round = 0; round < 24; round++) {
        /* theta: add the parities of the two neighbouring columns */
        c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
        c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
        c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
        c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
        c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
        d0 = c4 ^ rotl64(c1, 1);
        d1 = c0 ^ rotl64(c2, 1);
        d2 = c1 ^ rotl64(c3, 1);
        d3 = c2 ^ rotl64(c4, 1);
        d4 = c3 ^ rotl64(c0, 1);
        /* rho and pi: lane (x, y), rotated, moves to (y, 2x + 3y) */
        b0 = a0 ^ d0;
        b10 = rotl64(a1 ^ d1, 1);
        b20 = rotl64(a2 ^ d2, 62);
        b5 = rotl64(a3 ^ d3, 28);
        b15 = rotl64(a4 ^ d4, 27);
        b16 = rotl64(a5 ^ d0, 36);
        b1 = rotl64(a6 ^ d1, 44);
        b11 = rotl64(a7 ^ d2, 6);
        b21 = rotl64(a8 ^ d3, 55);
        b6 = rotl64(a9 ^ d4, 20);
        b7 = rotl64(a10 ^ d0, 3);
        b17 = rotl64(a11 ^ d1, 10);
        b2 = rotl64(a12 ^ d2, 43);
        b12 = rotl64(a13 ^ d3, 25);
        b22 = rotl64(a14 ^ d4, 39);
        b23 = rotl64(a15 ^ d0, 41);
        b8 = rotl64(a16 ^ d1, 45);
        b18 = rotl64(a17 ^ d2, 15);
        b3 = rotl64(a18 ^ d3, 21);
        b13 = rotl64(a19 ^ d4, 8);
        b14 = rotl64(a20 ^ d0, 18);
        b24 = rotl64(a21 ^ d1, 2);
        b9 = rotl64(a22 ^ d2, 61);
        b19 = rotl64(a23 ^ d3, 56);
        b4 = rotl64(a24 ^ d4, 14);
        /* chi: the only non-linear step, row by row */
        a0 = b0 ^ (~b1 & b2);
        a1 = b1 ^ (~b2 & b3);
        a2 = b2 ^ (~b3 & b4);
        a3 = b3 ^ (~b4 & b0);
        a4 = b4 ^ (~b0 & b1);
        a5 = b5 ^ (~b6 & b7);
        a6 = b6 ^ (~b7 & b8);
        a7 = b7 ^ (~b8 & b9);
        a8 = b8 ^ (~b9 & b5);
        a9 = b9 ^ (~b5 & b6);
        a10 = b10 ^ (~b11 & b12);
        a11 = b11 ^ (~b12 & b13);
        a12 = b12 ^ (~b13 & b14);
        a13 = b13 ^ (~b14 & b10);
        a14 = b14 ^ (~b10 & b11);
        a15 = b15 ^ (~b16 & b17);
        a16 = b16 ^ (~b17 & b18);
        a17 = b17 ^ (~b18 & b19);
        a18 = b18 ^ (~b19 & b15);
        a19 = b19 ^ (~b15 & b16);
        a20 = b20 ^ (~b21 & b22);
        a21 = b21 ^ (~b22 & b23);
        a22 = b22 ^ (~b23 & b24);
        a23 = b23 ^ (~b24 & b20);
        a24 = b24 ^ (~b20 & b21);
        /* iota */
        a0 ^= KECCAK_RC[round];
    }
    s[0] = a0;
    s[1] = a1;
    s[2] = a2;
    s[3] = a3;
    s[4] = a4;
    s[5] = a5;
    s[6] = a6;
    s[7] = a7;
    s[8] = a8;
    s[9] = a9;
    s[10] = a10;
    s[11] = a11;
    s[12] = a12;
    s[13] = a13;
    s[14] = a14;
    s[15] = a15;
    s[16] = a16;
    s[17] = a17;
    s[18] = a18;
    s[19] = a19;
    s[20] = a20;
    s[21] = a21;
    s[22] = a22;
    s[23] = a23;
    s[24] = a24;
}

/* The sponge with a rate of `rate` bytes (a multiple of 8, below 200), pad10*1
 * preceded by the domain suffix: `domain` holds the suffix bits followed by the
 * first padding 1 bit (0x06 for SHA3, 0x01 for original Keccak) and 0x80 is the
 * final padding bit, in the same byte when only one byte of the block is left. */
static void keccak_sponge(const uint8_t *p, size_t len, size_t rate, uint8_t domain,
                          uint8_t *out, size_t outlen)
{
    uint64_t a[25];
    uint8_t block[200];
    size_t i, n;

    memset(a, 0, sizeof a);
    for (; len >= rate; len -= rate, p += rate) {
        for (i = 0; i < rate / 8u; i++)
            a[i] ^= load_le64(p + 8 * i);
        keccak_f1600(a);
    }
    memset(block, 0, rate);
    if (len)
        memcpy(block, p, len);
    block[len] ^= domain;
    block[rate - 1] ^= 0x80;
    for (i = 0; i < rate / 8u; i++)
        a[i] ^= load_le64(block + 8 * i);
    keccak_f1600(a);

    for (;;) {
        n = outlen < rate ? outlen : rate;
        for (i = 0; i < n; i++)
            out[i] = (uint8_t)(a[i / 8u] >> (8u * (i % 8u)));
        out += n;
        outlen -= n;
        if (!outlen)
            break;
        keccak_f1600(a);
    }
}

void teecert_sha3_256(const void *data, size_t len, uint8_t out[32])
{
    keccak_sponge((const uint8_t *)data, len, 136u, 0x06, out, 32u);
}

void teecert_keccak256(const void *data, size_t len, uint8_t out[32])
{
    keccak_sponge((const uint8_t *)data, len, 136u, (uint8_t)(TEECERT_KECCAK_DOMAIN), out, 32u);
}

/* ------------------------------------------------------------------------------
 * BLAKE2b (RFC 7693), unkeyed, 64-byte digest
 * ---------------------------------------------------------------------------- */

/* The message word schedule of round i (RFC 7693 section 2.7); rounds 10 and 11
 * reuse rows 0 and 1. */
static const unsigned char BLAKE2B_SIGMA[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

/* The mixing function G (RFC 7693 section 3.1); a macro so that it is always inlined
 * and v, indexed by constants only, stays in registers. */
#define BLAKE2B_G(a, b, c, d, x, y)                                                        \
    do {                                                                                   \
        v[a] = v[a] + v[b] + (x);                                                          \
        v[d] = rotr64(v[d] ^ v[a], 32);                                                    \
        v[c] = v[c] + v[d];                                                                \
        v[b] = rotr64(v[b] ^ v[c], 24);                                                    \
        v[a] = v[a] + v[b] + (y);                                                          \
        v[d] = rotr64(v[d] ^ v[a], 16);                                                    \
        v[c] = v[c] + v[d];                                                                \
        v[b] = rotr64(v[b] ^ v[c], 63);                                                    \
    } while (0)

/* Round r of F: the column steps, then the diagonal steps. */
#define BLAKE2B_ROUND(r)                                                                   \
    do {                                                                                   \
        const unsigned char *s = BLAKE2B_SIGMA[(r) % 10];                                  \
        BLAKE2B_G(0, 4, 8, 12, m[s[0]], m[s[1]]);                                          \
        BLAKE2B_G(1, 5, 9, 13, m[s[2]], m[s[3]]);                                          \
        BLAKE2B_G(2, 6, 10, 14, m[s[4]], m[s[5]]);                                         \
        BLAKE2B_G(3, 7, 11, 15, m[s[6]], m[s[7]]);                                         \
        BLAKE2B_G(0, 5, 10, 15, m[s[8]], m[s[9]]);                                         \
        BLAKE2B_G(1, 6, 11, 12, m[s[10]], m[s[11]]);                                       \
        BLAKE2B_G(2, 7, 8, 13, m[s[12]], m[s[13]]);                                        \
        BLAKE2B_G(3, 4, 9, 14, m[s[14]], m[s[15]]);                                        \
    } while (0)

/* The compression function F (RFC 7693 section 3.2).  `t` is the number of message
 * bytes hashed including this block; a size_t cannot exceed the low 64 bits of the
 * 128-bit counter, so the high word is always 0. */
static void blake2b_compress(uint64_t h[8], const uint8_t block[128], uint64_t t, int last)
{
    uint64_t v[16], m[16];
    int i;

    for (i = 0; i < 16; i++)
        m[i] = load_le64(block + 8 * i);
    for (i = 0; i < 8; i++) {
        v[i] = h[i];
        v[i + 8] = IV512[i];
    }
    v[12] ^= t;
    /* v[13] ^= high word of t: 0 */
    if (last)
        v[14] = ~v[14];
    /* The twelve rounds written out: with the round a constant, every index into m
     * and v is one, so the compiler keeps both in registers. */
    BLAKE2B_ROUND(0);
    BLAKE2B_ROUND(1);
    BLAKE2B_ROUND(2);
    BLAKE2B_ROUND(3);
    BLAKE2B_ROUND(4);
    BLAKE2B_ROUND(5);
    BLAKE2B_ROUND(6);
    BLAKE2B_ROUND(7);
    BLAKE2B_ROUND(8);
    BLAKE2B_ROUND(9);
    BLAKE2B_ROUND(10);
    BLAKE2B_ROUND(11);
    for (i = 0; i < 8; i++)
        h[i] ^= v[i] ^ v[i + 8];
}

void teecert_blake2b512(const void *data, size_t len, uint8_t out[64])
{
    const uint8_t *p = (const uint8_t *)data;
    uint64_t h[8];
    uint64_t t = 0;
    uint8_t last[128];
    int i;

    memcpy(h, IV512, sizeof h);
    /* Parameter block word 0: digest length 64, no key, fanout 1, depth 1. */
    h[0] ^= 0x01010000ull ^ 64u;

    /* Every block but the last is compressed as it comes; the last one (possibly
     * full, zero-padded if partial, all zeros for the empty message) carries the
     * final flag, so a message of exactly n*128 bytes has no extra block. */
    while (len > 128u) {
        t += 128u;
        blake2b_compress(h, p, t, 0);
        p += 128;
        len -= 128u;
    }
    memset(last, 0, sizeof last);
    if (len)
        memcpy(last, p, len);
    t += (uint64_t)len;
    blake2b_compress(h, last, t, 1);

    for (i = 0; i < 8; i++)
        store_le64(out + 8 * i, h[i]);
}

/* ------------------------------------------------------------------------------
 * Eight messages at once with AVX-512 (x86-64 only, chosen at run time)
 *
 * SHA-512, Keccak-f[1600] and BLAKE2b all work on 64-bit words, so one 512-bit
 * register holds the same word of eight independent messages and every step above
 * runs on eight hashes for the price of about one.  Hand-written for the reason the
 * rest of this file is: the probe has no dependencies, and no library offers
 * multi-buffer hashing that could be linked into it anyway.
 *
 * A batch is cut into tiles; within a tile the messages are sorted (a counting
 * sort) by their number of compression blocks, padding included, so the eight
 * messages of one run always take the same number of blocks.  A group's last run
 * fills its empty lanes with copies of its first message and throws their digests
 * away; a single message left over goes to the portable code instead.  Message
 * blocks are read straight from the message slots and transposed into lanes; each
 * lane's last block or two, where the padding is, are built in a small buffer
 * first, exactly as the portable functions above build theirs.
 *
 * TEECERT_HASH_PORTABLE leaves this code out, so a build can compare the two.
 * ---------------------------------------------------------------------------- */

#if !defined(TEECERT_HASH_PORTABLE) && defined(__x86_64__) && \
    ((defined(__clang__) && __clang_major__ >= 5) ||          \
     (defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 6))
#define TEECERT_HAVE_HASH_X8 1
#else
#define TEECERT_HAVE_HASH_X8 0
#endif

/* Messages sorted per tile: the tile bounds the stack the sort needs (4 KiB of
 * indices), and each tile leaves at most seven padded lanes per group. */
#define X8_TILE 2048u
/* Block counts the lanes handle (512-byte messages take at most 5 blocks); longer
 * messages are hashed one by one. */
#define X8_MAX_BLOCKS 8u

#if TEECERT_HAVE_HASH_X8
#include <cpuid.h>
#include <immintrin.h>

/* Hashes the eight messages msg[i][0..len[i]), each `nblocks` blocks long once
 * padded, into out[i]. */
typedef void (*x8_fn)(const uint8_t *const msg[8], const uint64_t len[8], unsigned nblocks,
                      uint8_t *const out[8]);
/* The number of compression blocks of a `len`-byte message, padding included. */
typedef unsigned (*x8_blocks_fn)(uint64_t len);

static unsigned sha512_blocks(uint64_t len)
{
    return (unsigned)((len + 17u + 127u) / 128u);
}

static unsigned keccak_blocks(uint64_t len)
{
    return (unsigned)(len / 136u + 1u);
}

static unsigned blake2b_blocks(uint64_t len)
{
    return len ? (unsigned)((len + 127u) / 128u) : 1u;
}

/* Only these functions carry the target attribute, so the file builds with any
 * -march and the code runs only where cpuid says it may. */
#define X8_TARGET __attribute__((target("avx512f,avx512bw")))

/* AVX-512F and BW present, and the OS saves the opmask and ZMM state (XCR0 bits
 * 1, 2, 5, 6, 7).  cpuid rather than __builtin_cpu_supports: no libgcc helper to
 * link into the shared library, and the XCR0 check is explicit. */
static int cpu_has_avx512(void)
{
    unsigned int a, b, c, d, xcr0_lo, xcr0_hi;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) /* OSXSAVE */
        return 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    (void)xcr0_hi;
    if ((xcr0_lo & 0xe6u) != 0xe6u)
        return 0;
    if (__get_cpuid_max(0, 0) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return ((b >> 16) & 1u) && ((b >> 30) & 1u); /* AVX512F, AVX512BW */
}

/* Three-input logic of vpternlogq: the immediate is the truth table of
 * f(A, B, C) indexed by A*4 + B*2 + C. */
#define X8_XOR3(a, b, c) _mm512_ternarylogic_epi64((a), (b), (c), 0x96)
#define X8_CHI(a, b, c) _mm512_ternarylogic_epi64((a), (b), (c), 0xd2) /* a ^ (~b & c) */
#define X8_CH(e, f, g) _mm512_ternarylogic_epi64((e), (f), (g), 0xca)  /* e ? f : g */
#define X8_MAJ(a, b, c) _mm512_ternarylogic_epi64((a), (b), (c), 0xe8)
#define X8_ADD(a, b) _mm512_add_epi64((a), (b))
#define X8_ROL(x, n) _mm512_rol_epi64((x), (n))
#define X8_ROR(x, n) _mm512_ror_epi64((x), (n))
#define X8_SET1(v) _mm512_set1_epi64((long long)(v))

/* Word w of eight blocks whose addresses are the lanes of `addr` (Keccak's 17th word
 * of a block): the hardware adds the base (none) to each lane, so a lane may point
 * anywhere. */
#define X8_GATHER(addr, w) \
    _mm512_i64gather_epi64(_mm512_add_epi64((addr), X8_SET1(8 * (w))), (const void *)0, 1)

static X8_TARGET __m512i x8_addresses(const uint8_t *const p[8])
{
    return _mm512_set_epi64((long long)(uintptr_t)p[7], (long long)(uintptr_t)p[6],
                            (long long)(uintptr_t)p[5], (long long)(uintptr_t)p[4],
                            (long long)(uintptr_t)p[3], (long long)(uintptr_t)p[2],
                            (long long)(uintptr_t)p[1], (long long)(uintptr_t)p[0]);
}

/* Words 0..15 of the eight blocks at p[0..8): w[k] holds word k of block i in lane
 * i.  Each block is loaded as two rows of eight words and the two 8x8 matrices are
 * transposed (pairs, then 128-bit quarters twice); measured a little faster than
 * sixteen gathers. */
static X8_TARGET void x8_load16(const uint8_t *const p[8], __m512i w[16])
{
    int half, i;
    for (half = 0; half < 2; half++) {
        __m512i r[8], t[8], u[8];
        for (i = 0; i < 8; i++)
            r[i] = _mm512_loadu_si512((const void *)(p[i] + 64 * half));
        for (i = 0; i < 8; i += 2) {
            t[i] = _mm512_unpacklo_epi64(r[i], r[i + 1]);
            t[i + 1] = _mm512_unpackhi_epi64(r[i], r[i + 1]);
        }
        u[0] = _mm512_shuffle_i64x2(t[0], t[2], 0x88);
        u[1] = _mm512_shuffle_i64x2(t[1], t[3], 0x88);
        u[2] = _mm512_shuffle_i64x2(t[0], t[2], 0xdd);
        u[3] = _mm512_shuffle_i64x2(t[1], t[3], 0xdd);
        u[4] = _mm512_shuffle_i64x2(t[4], t[6], 0x88);
        u[5] = _mm512_shuffle_i64x2(t[5], t[7], 0x88);
        u[6] = _mm512_shuffle_i64x2(t[4], t[6], 0xdd);
        u[7] = _mm512_shuffle_i64x2(t[5], t[7], 0xdd);
        w[8 * half + 0] = _mm512_shuffle_i64x2(u[0], u[4], 0x88);
        w[8 * half + 1] = _mm512_shuffle_i64x2(u[1], u[5], 0x88);
        w[8 * half + 2] = _mm512_shuffle_i64x2(u[2], u[6], 0x88);
        w[8 * half + 3] = _mm512_shuffle_i64x2(u[3], u[7], 0x88);
        w[8 * half + 4] = _mm512_shuffle_i64x2(u[0], u[4], 0xdd);
        w[8 * half + 5] = _mm512_shuffle_i64x2(u[1], u[5], 0xdd);
        w[8 * half + 6] = _mm512_shuffle_i64x2(u[2], u[6], 0xdd);
        w[8 * half + 7] = _mm512_shuffle_i64x2(u[3], u[7], 0xdd);
    }
}

/* Lane i of words[0..nwords) becomes the bytes out[i][0..8 nwords), each word stored
 * little-endian (x86 is). */
static X8_TARGET void x8_store(const __m512i *words, unsigned nwords, uint8_t *const out[8])
{
    uint64_t t[8][8];
    unsigned w, i;
    for (w = 0; w < nwords; w++)
        _mm512_storeu_si512((void *)t[w], words[w]);
    for (i = 0; i < 8; i++)
        for (w = 0; w < nwords; w++)
            memcpy(out[i] + 8 * w, &t[w][i], 8);
}

/* -- Keccak-f[1600] x8: the same steps as keccak_f1600, on vectors ---------------- */

/* One plane of rho, pi and chi: the five lanes that pi moves into plane y of the
 * result (from (x, y) to (y, 2x + 3y)), theta's d added and rotated, then chi along
 * the plane, written to e<5y> .. e<5y + 4>. */
#define X8_PLANE(e0, e1, e2, e3, e4, s0, r0, d0, s1, r1, d1, s2, r2, d2, s3, r3, d3, s4, r4, d4) \
    do {                                                                                 \
        __m512i p0 = X8_ROL(_mm512_xor_si512(s0, d0), r0);                               \
        __m512i p1 = X8_ROL(_mm512_xor_si512(s1, d1), r1);                               \
        __m512i p2 = X8_ROL(_mm512_xor_si512(s2, d2), r2);                               \
        __m512i p3 = X8_ROL(_mm512_xor_si512(s3, d3), r3);                               \
        __m512i p4 = X8_ROL(_mm512_xor_si512(s4, d4), r4);                               \
        e0 = X8_CHI(p0, p1, p2);                                                         \
        e1 = X8_CHI(p1, p2, p3);                                                         \
        e2 = X8_CHI(p2, p3, p4);                                                         \
        e3 = X8_CHI(p3, p4, p0);                                                         \
        e4 = X8_CHI(p4, p0, p1);                                                         \
    } while (0)

/* A round from the lanes a<i> into the lanes e<i>.  Computing the result plane by
 * plane keeps about 35 vectors live (each source lane dies as its plane is done)
 * instead of the 50 of all rho-pi lanes at once, so the state stays in the 32
 * registers with few spills.  Lane (0, 0) is not rotated: rol by 0 is the lane. */
#define X8_KECCAK_ROUND(a, e, rc)                                                        \
    do {                                                                                 \
        __m512i c0 = X8_XOR3(X8_XOR3(a##0, a##5, a##10), a##15, a##20);                  \
        __m512i c1 = X8_XOR3(X8_XOR3(a##1, a##6, a##11), a##16, a##21);                  \
        __m512i c2 = X8_XOR3(X8_XOR3(a##2, a##7, a##12), a##17, a##22);                  \
        __m512i c3 = X8_XOR3(X8_XOR3(a##3, a##8, a##13), a##18, a##23);                  \
        __m512i c4 = X8_XOR3(X8_XOR3(a##4, a##9, a##14), a##19, a##24);                  \
        __m512i d0 = _mm512_xor_si512(c4, X8_ROL(c1, 1));                                \
        __m512i d1 = _mm512_xor_si512(c0, X8_ROL(c2, 1));                                \
        __m512i d2 = _mm512_xor_si512(c1, X8_ROL(c3, 1));                                \
        __m512i d3 = _mm512_xor_si512(c2, X8_ROL(c4, 1));                                \
        __m512i d4 = _mm512_xor_si512(c3, X8_ROL(c0, 1));                                \
        X8_PLANE(e##0, e##1, e##2, e##3, e##4, a##0, 0, d0, a##6, 44, d1, a##12, 43, d2, \
                 a##18, 21, d3, a##24, 14, d4);                                          \
        e##0 = _mm512_xor_si512(e##0, X8_SET1(rc));                                      \
        X8_PLANE(e##5, e##6, e##7, e##8, e##9, a##3, 28, d3, a##9, 20, d4, a##10, 3, d0, \
                 a##16, 45, d1, a##22, 61, d2);                                          \
        X8_PLANE(e##10, e##11, e##12, e##13, e##14, a##1, 1, d1, a##7, 6, d2, a##13, 25, \
                 d3, a##19, 8, d4, a##20, 18, d0);                                       \
        X8_PLANE(e##15, e##16, e##17, e##18, e##19, a##4, 27, d4, a##5, 36, d0, a##11,   \
                 10, d1, a##17, 15, d2, a##23, 56, d3);                                  \
        X8_PLANE(e##20, e##21, e##22, e##23, e##24, a##2, 62, d2, a##8, 55, d3, a##14,   \
                 39, d4, a##15, 41, d0, a##21, 2, d1);                                   \
    } while (0)

static X8_TARGET void keccak_f1600_x8(__m512i s[25])
{
    __m512i a0 = s[0], a1 = s[1], a2 = s[2], a3 = s[3], a4 = s[4], a5 = s[5], a6 = s[6],
            a7 = s[7], a8 = s[8], a9 = s[9], a10 = s[10], a11 = s[11], a12 = s[12],
            a13 = s[13], a14 = s[14], a15 = s[15], a16 = s[16], a17 = s[17], a18 = s[18],
            a19 = s[19], a20 = s[20], a21 = s[21], a22 = s[22], a23 = s[23], a24 = s[24];
    __m512i e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14, e15, e16, e17,
        e18, e19, e20, e21, e22, e23, e24;
    int round;

    /* Two rounds per turn, a into e and back, so no lane is copied. */
    for (round = 0; round < 24; round += 2) {
        X8_KECCAK_ROUND(a, e, KECCAK_RC[round]);
        X8_KECCAK_ROUND(e, a, KECCAK_RC[round + 1]);
    }
    s[0] = a0;
    s[1] = a1;
    s[2] = a2;
    s[3] = a3;
    s[4] = a4;
    s[5] = a5;
    s[6] = a6;
    s[7] = a7;
    s[8] = a8;
    s[9] = a9;
    s[10] = a10;
    s[11] = a11;
    s[12] = a12;
    s[13] = a13;
    s[14] = a14;
    s[15] = a15;
    s[16] = a16;
    s[17] = a17;
    s[18] = a18;
    s[19] = a19;
    s[20] = a20;
    s[21] = a21;
    s[22] = a22;
    s[23] = a23;
    s[24] = a24;
}

/* keccak_sponge with a rate of 136 bytes and a 32-byte output, for eight messages
 * of `nblocks` blocks each: nblocks - 1 whole blocks of message, then the block
 * holding the rest (0..135 bytes) and the padding. */
static X8_TARGET void keccak_rate136_x8(const uint8_t *const msg[8], const uint64_t len[8],
                                        unsigned nblocks, uint8_t domain, uint8_t *const out[8])
{
    uint8_t last[8][136];
    const uint8_t *p[8];
    __m512i a[25];
    unsigned i, k, w;

    for (i = 0; i < 8; i++) {
        size_t whole = 136u * (nblocks - 1u), rest = (size_t)len[i] - whole;
        memset(last[i], 0, sizeof last[i]);
        if (rest)
            memcpy(last[i], msg[i] + whole, rest);
        last[i][rest] ^= domain;
        last[i][135] ^= 0x80;
    }
    for (w = 0; w < 25; w++)
        a[w] = _mm512_setzero_si512();
    for (k = 0; k < nblocks; k++) {
        __m512i m[16];
        for (i = 0; i < 8; i++)
            p[i] = k + 1u < nblocks ? msg[i] + 136u * k : last[i];
        x8_load16(p, m);
        for (w = 0; w < 16; w++)
            a[w] = _mm512_xor_si512(a[w], m[w]);
        a[16] = _mm512_xor_si512(a[16], X8_GATHER(x8_addresses(p), 16));
        keccak_f1600_x8(a);
    }
    x8_store(a, 4, out);
}

static X8_TARGET void sha3_256_x8(const uint8_t *const msg[8], const uint64_t len[8],
                                  unsigned nblocks, uint8_t *const out[8])
{
    keccak_rate136_x8(msg, len, nblocks, 0x06, out);
}

static X8_TARGET void keccak_256_x8(const uint8_t *const msg[8], const uint64_t len[8],
                                    unsigned nblocks, uint8_t *const out[8])
{
    keccak_rate136_x8(msg, len, nblocks, (uint8_t)(TEECERT_KECCAK_DOMAIN), out);
}

/* -- SHA-512 x8 ------------------------------------------------------------------ */

/* One round of sha512_block; the caller rotates the names instead of the values. */
#define X8_SHA512_ROUND(a, b, c, d, e, f, g, h, t, w)                                   \
    do {                                                                               \
        __m512i t1 = X8_ADD(X8_ADD(h, X8_XOR3(X8_ROR(e, 14), X8_ROR(e, 18), X8_ROR(e, 41))), \
                            X8_ADD(X8_CH(e, f, g), X8_ADD(X8_SET1(K512[t]), w)));      \
        __m512i t2 = X8_ADD(X8_XOR3(X8_ROR(a, 28), X8_ROR(a, 34), X8_ROR(a, 39)),      \
                            X8_MAJ(a, b, c));                                          \
        d = X8_ADD(d, t1);                                                             \
        h = X8_ADD(t1, t2);                                                            \
    } while (0)

/* w[t] of the schedule over w[t - 16], which it replaces in the ring of 16. */
#define X8_SHA512_SCHEDULE(j)                                                           \
    do {                                                                               \
        __m512i x = w[((j) + 1) & 15], y = w[((j) + 14) & 15];                         \
        __m512i s0 = X8_XOR3(X8_ROR(x, 1), X8_ROR(x, 8), _mm512_srli_epi64(x, 7));     \
        __m512i s1 = X8_XOR3(X8_ROR(y, 19), X8_ROR(y, 61), _mm512_srli_epi64(y, 6));   \
        w[j] = X8_ADD(X8_ADD(w[j], s0), X8_ADD(w[((j) + 9) & 15], s1));                \
    } while (0)

/* Rounds t .. t + 7 with w[j .. j + 7]; with `more`, each round then replaces its
 * word with the one sixteen rounds on, so the schedule's work sits between the
 * rounds' long dependency chain instead of in a block of its own. */
#define X8_SHA512_EIGHT(t, j, more)                                                     \
    do {                                                                               \
        X8_SHA512_ROUND(a, b, c, d, e, f, g, h, (t) + 0, w[(j) + 0]);                  \
        if (more)                                                                      \
            X8_SHA512_SCHEDULE((j) + 0);                                               \
        X8_SHA512_ROUND(h, a, b, c, d, e, f, g, (t) + 1, w[(j) + 1]);                  \
        if (more)                                                                      \
            X8_SHA512_SCHEDULE((j) + 1);                                               \
        X8_SHA512_ROUND(g, h, a, b, c, d, e, f, (t) + 2, w[(j) + 2]);                  \
        if (more)                                                                      \
            X8_SHA512_SCHEDULE((j) + 2);                                               \
        X8_SHA512_ROUND(f, g, h, a, b, c, d, e, (t) + 3, w[(j) + 3]);                  \
        if (more)                                                                      \
            X8_SHA512_SCHEDULE((j) + 3);                                               \
        X8_SHA512_ROUND(e, f, g, h, a, b, c, d, (t) + 4, w[(j) + 4]);                  \
        if (more)                                                                      \
            X8_SHA512_SCHEDULE((j) + 4);                                               \
        X8_SHA512_ROUND(d, e, f, g, h, a, b, c, (t) + 5, w[(j) + 5]);                  \
        if (more)                                                                      \
            X8_SHA512_SCHEDULE((j) + 5);                                               \
        X8_SHA512_ROUND(c, d, e, f, g, h, a, b, (t) + 6, w[(j) + 6]);                  \
        if (more)                                                                      \
            X8_SHA512_SCHEDULE((j) + 6);                                               \
        X8_SHA512_ROUND(b, c, d, e, f, g, h, a, (t) + 7, w[(j) + 7]);                  \
        if (more)                                                                      \
            X8_SHA512_SCHEDULE((j) + 7);                                               \
    } while (0)

/* Each 64-bit lane's bytes reversed: the message words are big-endian. */
static X8_TARGET __m512i x8_bswap64(__m512i x)
{
    const __m512i rev = _mm512_set_epi64(
        0x08090a0b0c0d0e0fll, 0x0001020304050607ll, 0x08090a0b0c0d0e0fll, 0x0001020304050607ll,
        0x08090a0b0c0d0e0fll, 0x0001020304050607ll, 0x08090a0b0c0d0e0fll, 0x0001020304050607ll);
    return _mm512_shuffle_epi8(x, rev);
}

static X8_TARGET void sha512_block_x8(__m512i hv[8], const uint8_t *const p[8])
{
    __m512i w[16];
    __m512i a = hv[0], b = hv[1], c = hv[2], d = hv[3], e = hv[4], f = hv[5], g = hv[6],
            h = hv[7];
    int t, j;

    x8_load16(p, w);
    for (j = 0; j < 16; j++)
        w[j] = x8_bswap64(w[j]);
    for (t = 0; t < 64; t += 16) {
        X8_SHA512_EIGHT(t, 0, 1);
        X8_SHA512_EIGHT(t + 8, 8, 1);
    }
    X8_SHA512_EIGHT(64, 0, 0);
    X8_SHA512_EIGHT(72, 8, 0);
    hv[0] = X8_ADD(hv[0], a);
    hv[1] = X8_ADD(hv[1], b);
    hv[2] = X8_ADD(hv[2], c);
    hv[3] = X8_ADD(hv[3], d);
    hv[4] = X8_ADD(hv[4], e);
    hv[5] = X8_ADD(hv[5], f);
    hv[6] = X8_ADD(hv[6], g);
    hv[7] = X8_ADD(hv[7], h);
}

/* teecert_sha512 for eight messages of `nblocks` blocks each: the whole blocks of
 * message, then one or two blocks of rest and padding. */
static X8_TARGET void sha512_x8(const uint8_t *const msg[8], const uint64_t len[8],
                                unsigned nblocks, uint8_t *const out[8])
{
    uint8_t last[8][256];
    unsigned whole[8];
    const uint8_t *p[8];
    __m512i hv[8];
    unsigned i, k;

    for (i = 0; i < 8; i++) {
        size_t rest, tail;
        whole[i] = (unsigned)(len[i] / 128u);
        rest = (size_t)len[i] % 128u;
        tail = 128u * (nblocks - whole[i]);
        memset(last[i], 0, sizeof last[i]);
        if (rest)
            memcpy(last[i], msg[i] + 128u * whole[i], rest);
        last[i][rest] = 0x80;
        store_be64(last[i] + tail - 16, len[i] >> 61);
        store_be64(last[i] + tail - 8, len[i] << 3);
    }
    for (i = 0; i < 8; i++)
        hv[i] = X8_SET1(IV512[i]);
    for (k = 0; k < nblocks; k++) {
        for (i = 0; i < 8; i++)
            p[i] = k < whole[i] ? msg[i] + 128u * k : last[i] + 128u * (k - whole[i]);
        sha512_block_x8(hv, p);
    }
    for (i = 0; i < 8; i++)
        hv[i] = x8_bswap64(hv[i]);
    x8_store(hv, 8, out);
}

/* -- BLAKE2b-512 x8 -------------------------------------------------------------- */

#define X8_BLAKE2B_G(a, b, c, d, x, y)                                                  \
    do {                                                                               \
        v[a] = X8_ADD(X8_ADD(v[a], v[b]), (x));                                        \
        v[d] = X8_ROR(_mm512_xor_si512(v[d], v[a]), 32);                               \
        v[c] = X8_ADD(v[c], v[d]);                                                     \
        v[b] = X8_ROR(_mm512_xor_si512(v[b], v[c]), 24);                               \
        v[a] = X8_ADD(X8_ADD(v[a], v[b]), (y));                                        \
        v[d] = X8_ROR(_mm512_xor_si512(v[d], v[a]), 16);                               \
        v[c] = X8_ADD(v[c], v[d]);                                                     \
        v[b] = X8_ROR(_mm512_xor_si512(v[b], v[c]), 63);                               \
    } while (0)

#define X8_BLAKE2B_ROUND(r)                                                             \
    do {                                                                               \
        const unsigned char *s = BLAKE2B_SIGMA[(r) % 10];                              \
        X8_BLAKE2B_G(0, 4, 8, 12, m[s[0]], m[s[1]]);                                   \
        X8_BLAKE2B_G(1, 5, 9, 13, m[s[2]], m[s[3]]);                                   \
        X8_BLAKE2B_G(2, 6, 10, 14, m[s[4]], m[s[5]]);                                  \
        X8_BLAKE2B_G(3, 7, 11, 15, m[s[6]], m[s[7]]);                                  \
        X8_BLAKE2B_G(0, 5, 10, 15, m[s[8]], m[s[9]]);                                  \
        X8_BLAKE2B_G(1, 6, 11, 12, m[s[10]], m[s[11]]);                                \
        X8_BLAKE2B_G(2, 7, 8, 13, m[s[12]], m[s[13]]);                                 \
        X8_BLAKE2B_G(3, 4, 9, 14, m[s[14]], m[s[15]]);                                 \
    } while (0)

/* blake2b_compress on eight blocks; `t` holds each lane's byte counter. */
static X8_TARGET void blake2b_compress_x8(__m512i h[8], const uint8_t *const p[8], __m512i t,
                                           int last)
{
    __m512i v[16], m[16];
    int i;

    x8_load16(p, m);
    for (i = 0; i < 8; i++) {
        v[i] = h[i];
        v[i + 8] = X8_SET1(IV512[i]);
    }
    v[12] = _mm512_xor_si512(v[12], t);
    if (last)
        v[14] = _mm512_ternarylogic_epi64(v[14], v[14], v[14], 0x55); /* ~v[14] */
    X8_BLAKE2B_ROUND(0);
    X8_BLAKE2B_ROUND(1);
    X8_BLAKE2B_ROUND(2);
    X8_BLAKE2B_ROUND(3);
    X8_BLAKE2B_ROUND(4);
    X8_BLAKE2B_ROUND(5);
    X8_BLAKE2B_ROUND(6);
    X8_BLAKE2B_ROUND(7);
    X8_BLAKE2B_ROUND(8);
    X8_BLAKE2B_ROUND(9);
    X8_BLAKE2B_ROUND(10);
    X8_BLAKE2B_ROUND(11);
    for (i = 0; i < 8; i++)
        h[i] = X8_XOR3(h[i], v[i], v[i + 8]);
}

/* teecert_blake2b512 for eight messages of `nblocks` blocks each: nblocks - 1 whole
 * blocks, then the last one (1..128 bytes of message zero-padded, or all zeros for
 * the empty message) with the final flag and the message length as its counter. */
static X8_TARGET void blake2b512_x8(const uint8_t *const msg[8], const uint64_t len[8],
                                    unsigned nblocks, uint8_t *const out[8])
{
    uint8_t last[8][128];
    const uint8_t *p[8];
    __m512i h[8];
    unsigned i, k;

    for (i = 0; i < 8; i++) {
        size_t whole = 128u * (nblocks - 1u), rest = (size_t)len[i] - whole;
        memset(last[i], 0, sizeof last[i]);
        if (rest)
            memcpy(last[i], msg[i] + whole, rest);
    }
    for (i = 0; i < 8; i++)
        h[i] = X8_SET1(IV512[i]);
    h[0] = _mm512_xor_si512(h[0], X8_SET1(0x01010000ull ^ 64u));
    for (k = 0; k + 1u < nblocks; k++) {
        for (i = 0; i < 8; i++)
            p[i] = msg[i] + 128u * k;
        blake2b_compress_x8(h, p, X8_SET1(128u * (k + 1u)), 0);
    }
    for (i = 0; i < 8; i++)
        p[i] = last[i];
    blake2b_compress_x8(h, p, _mm512_loadu_si512((const void *)len), 1);
    x8_store(h, 8, out);
}
#endif /* TEECERT_HAVE_HASH_X8 */

/* ------------------------------------------------------------------------------
 * By name
 * ---------------------------------------------------------------------------- */

/* An array parameter is a pointer, so every hash function above has this type. */
typedef void (*hash_fn)(const void *data, size_t len, uint8_t *out);

struct hash_entry {
    const char *name;
    size_t size;
    hash_fn fn;
};

static const struct hash_entry HASHES[] = {
    {"sha256", 32u, teecert_sha256},
    {"sha512", TEECERT_SHA512_SIZE, teecert_sha512},
    {"sha3_256", TEECERT_SHA3_256_SIZE, teecert_sha3_256},
    {"keccak256", TEECERT_KECCAK256_SIZE, teecert_keccak256},
    {"blake2b512", TEECERT_BLAKE2B512_SIZE, teecert_blake2b512},
};

static const struct hash_entry *find_hash(const char *name)
{
    size_t i;
    if (!name)
        return NULL;
    for (i = 0; i < sizeof HASHES / sizeof HASHES[0]; i++)
        if (strcmp(name, HASHES[i].name) == 0)
            return &HASHES[i];
    return NULL;
}

size_t teecert_hash_size(const char *name)
{
    const struct hash_entry *e = find_hash(name);
    return e ? e->size : 0u;
}

int teecert_hash(const char *name, const unsigned char *msg, size_t len, unsigned char *out)
{
    const struct hash_entry *e = find_hash(name);
    if (!e)
        return -1;
    /* The functions never read or offset msg when len is 0, so NULL is fine then. */
    e->fn(msg, len, out);
    return 0;
}

#if TEECERT_HAVE_HASH_X8
/* The hashes with a lanes version (sha256 has its own instructions instead). */
struct x8_entry {
    hash_fn fn;
    x8_blocks_fn blocks;
    x8_fn x8;
};

static const struct x8_entry X8_HASHES[] = {
    {teecert_sha512, sha512_blocks, sha512_x8},
    {teecert_sha3_256, keccak_blocks, sha3_256_x8},
    {teecert_keccak256, keccak_blocks, keccak_256_x8},
    {teecert_blake2b512, blake2b_blocks, blake2b512_x8},
};

/* -1 until asked, then whether the CPU can run the lanes code; a race between two
 * first callers stores the same value. */
static int x8_usable = -1;

static const struct x8_entry *find_x8(const struct hash_entry *e)
{
    size_t i;
    if (x8_usable < 0)
        x8_usable = cpu_has_avx512();
    if (!x8_usable)
        return NULL;
    for (i = 0; i < sizeof X8_HASHES / sizeof X8_HASHES[0]; i++)
        if (X8_HASHES[i].fn == e->fn)
            return &X8_HASHES[i];
    return NULL;
}

/* The group of a `len`-byte message: its block count, or 0 if the lanes do not take
 * that many blocks. */
static unsigned x8_group(const struct x8_entry *x, uint64_t len)
{
    unsigned k = len <= 128u * (X8_MAX_BLOCKS - 1u) ? x->blocks(len) : 0u;
    return k <= X8_MAX_BLOCKS ? k : 0u;
}

/* teecert_hash_batch's lanes path; see the comment before the lanes code. */
static void batch_x8(const struct hash_entry *e, const struct x8_entry *x,
                     const unsigned char *in, size_t stride, size_t n, unsigned char *out,
                     size_t out_stride)
{
    uint16_t order[X8_TILE];
    size_t start[X8_MAX_BLOCKS + 2], next[X8_MAX_BLOCKS + 1];
    uint8_t sink[8][64]; /* the digests of the lanes that only fill a run */
    size_t base;

    for (base = 0; base < n; base += X8_TILE) {
        const unsigned char *tin = in + stride * base;
        unsigned char *tout = out + out_stride * base;
        size_t m = n - base < X8_TILE ? n - base : X8_TILE, i, at;
        unsigned b;

        /* Counting sort by block count; group 0 holds messages too long for the
         * lanes. */
        memset(start, 0, sizeof start);
        for (i = 0; i < m; i++)
            start[x8_group(x, load_le64(tin + stride * i)) + 1u]++;
        for (b = 1; b <= X8_MAX_BLOCKS + 1u; b++)
            start[b] += start[b - 1];
        memcpy(next, start, sizeof next);
        for (i = 0; i < m; i++)
            order[next[x8_group(x, load_le64(tin + stride * i))]++] = (uint16_t)i;

        for (at = start[0]; at < start[1]; at++) {
            const unsigned char *v = tin + stride * order[at];
            e->fn(v + 8, (size_t)load_le64(v), tout + out_stride * order[at]);
        }
        for (b = 1; b <= X8_MAX_BLOCKS; b++) {
            for (at = start[b]; at < start[b + 1]; at += 8) {
                const uint8_t *msg[8];
                uint64_t len[8];
                uint8_t *dst[8];
                size_t lanes = start[b + 1] - at < 8 ? start[b + 1] - at : 8, j;
                if (lanes == 1) { /* cheaper alone than as one of eight */
                    const unsigned char *v = tin + stride * order[at];
                    e->fn(v + 8, (size_t)load_le64(v), tout + out_stride * order[at]);
                    continue;
                }
                for (j = 0; j < 8; j++) {
                    const unsigned char *v = tin + stride * order[at + (j < lanes ? j : 0)];
                    msg[j] = v + 8;
                    len[j] = load_le64(v);
                    dst[j] = j < lanes ? tout + out_stride * order[at + j] : sink[j];
                }
                x->x8(msg, len, b, dst);
            }
        }
    }
}
#endif /* TEECERT_HAVE_HASH_X8 */

int teecert_hash_batch(const char *name, const unsigned char *in, size_t stride, size_t n,
                       unsigned char *out, size_t out_stride)
{
    const struct hash_entry *e = find_hash(name);
    size_t i;
#if TEECERT_HAVE_HASH_X8
    const struct x8_entry *x;
#endif
    if (!e || stride < 8u)
        return -1;
    for (i = 0; i < n; i++)
        if (load_le64(in + stride * i) > stride - 8u)
            return -2;
#if TEECERT_HAVE_HASH_X8
    x = find_x8(e);
    if (x) {
        batch_x8(e, x, in, stride, n, out, out_stride);
        return 0;
    }
#endif
    for (i = 0; i < n; i++) {
        const unsigned char *v = in + stride * i;
        e->fn(v + 8, (size_t)load_le64(v), out + out_stride * i);
    }
    return 0;
}

const char *teecert_hash_batch_impl(const char *name)
{
    const struct hash_entry *e = find_hash(name);
    if (!e)
        return NULL;
#if TEECERT_HAVE_HASH_X8
    if (find_x8(e))
        return "avx512";
#endif
    return "one at a time";
}
