/*
 * SHA-256 (FIPS 180-4) for the teecert reference probe.
 *
 * Hand-written on purpose: the probe must be self-contained C99 that also builds
 * inside enclave SDKs and minimal guests, where OpenSSL or any other crypto library
 * is not available.  A portable implementation is always present; the CPU's SHA
 * instructions are used where it has them (x86-64 SHA-NI, found with cpuid; Armv8
 * SHA2, found with the Linux hwcaps) because the probe hashes every output it
 * returns for its transcript, and at tens of millions of results per second the
 * portable code would dominate the stream loop.  All give the same digest;
 * tests/native/test_sha256_paths.py compares each with hashlib.
 *
 * On x86-64 CPUs with AVX the SHA-NI functions start with a VZEROUPPER, so that a
 * caller that left the upper halves of the vector registers in use does not slow
 * them down (sha256.c says why); TEECERT_SHA256_NO_VZEROUPPER leaves it out, which
 * only the tests need (they compare both with hashlib).
 *
 * Define TEECERT_SHA256_PORTABLE (or the older TEECERT_NO_SHA_NI) to build the
 * portable implementation only.  That is a build-time choice on purpose, not an
 * environment variable: what a probe computes, and what it says about itself
 * (teecert_sha256_impl() is in its self-description), must follow from the library
 * alone, never from the environment of whoever loads it.
 */
#ifndef TEECERT_SHA256_H
#define TEECERT_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* Internal to the probe: never exported from the shared library.  Only defined if
 * not already defined, so a test build can say -DTEECERT_INTERNAL= to export these
 * functions and call them directly. */
#ifndef TEECERT_INTERNAL
#if defined(__GNUC__) || defined(__clang__)
#define TEECERT_INTERNAL __attribute__((visibility("hidden")))
#else
#define TEECERT_INTERNAL
#endif
#endif

typedef struct {
    uint32_t h[8];
    uint64_t total;     /* bytes hashed so far */
    uint8_t buf[64];    /* pending partial block */
    size_t fill;        /* bytes used in buf */
} teecert_sha256_ctx;

TEECERT_INTERNAL void teecert_sha256_init(teecert_sha256_ctx *ctx);
TEECERT_INTERNAL void teecert_sha256_update(teecert_sha256_ctx *ctx, const void *data, size_t len);
TEECERT_INTERNAL void teecert_sha256_final(teecert_sha256_ctx *ctx, uint8_t out[32]);
TEECERT_INTERNAL void teecert_sha256(const void *data, size_t len, uint8_t out[32]);

/* out[32i .. 32i+31] = SHA-256(prefix || msgs[i][0 .. lens[i]-1]) for i < k: the
   messages hashed two by two side by side, which on SHA-NI costs much less than one
   after another (the harness's Merkle leaves of chunks, prefix 0x00). */
TEECERT_INTERNAL void teecert_sha256_lanes(const void *prefix, size_t prefix_len,
                                           const void *const msgs[], const size_t lens[],
                                           size_t k, uint8_t *out);

/* "sha-ni", "armv8-sha2" or "portable": the block function in use (chosen on first
   use, from what the CPU has). */
TEECERT_INTERNAL const char *teecert_sha256_impl(void);

#endif /* TEECERT_SHA256_H */
