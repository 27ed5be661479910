/*
 * Hash functions of the determinism suite: SHA-512 (FIPS 180-4), SHA3-256 and the
 * original Keccak-256 (FIPS 202's Keccak-f[1600] sponge; Keccak-256 is what Ethereum
 * calls keccak256), and BLAKE2b-512 (RFC 7693, unkeyed).  SHA-256 is sha256.h's.
 *
 * Hand-written on purpose, like sha256.c: the probe must be self-contained C99 that
 * also builds inside enclave SDKs and minimal guests, where OpenSSL or any other
 * crypto library is not available.  The one-message functions are portable code
 * (byte-wise loads and stores, so the result does not depend on the host's
 * endianness or alignment rules; no intrinsics; nothing from libc beyond string.h).
 * The hash streams are a million messages per hash, so teecert_hash_batch also has
 * an x86-64 AVX-512 path that hashes eight messages side by side; it is chosen at
 * run time and must give the portable code's bytes exactly.
 *
 * Compile-time seam: TEECERT_KECCAK_DOMAIN, if defined, replaces the padding domain
 * byte of Keccak-256 (default 0x01, original Keccak).  A broken probe of the test
 * zoo is built with -DTEECERT_KECCAK_DOMAIN=0x06, which turns its "Keccak-256" into
 * SHA3-256: the classic confusion of the two, which the suite must catch.
 *
 * Build switch: TEECERT_HASH_PORTABLE leaves out the AVX-512 batch code, so every
 * message goes through the portable functions (to compare the two paths).
 */
#ifndef TEECERT_HASHES_H
#define TEECERT_HASHES_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h" /* TEECERT_INTERNAL, teecert_sha256 */

#define TEECERT_SHA512_SIZE 64
#define TEECERT_SHA3_256_SIZE 32
#define TEECERT_KECCAK256_SIZE 32
#define TEECERT_BLAKE2B512_SIZE 64

TEECERT_INTERNAL void teecert_sha512(const void *data, size_t len, uint8_t out[64]);
TEECERT_INTERNAL void teecert_sha3_256(const void *data, size_t len, uint8_t out[32]);
/* Original Keccak-256 (padding domain byte 0x01, or TEECERT_KECCAK_DOMAIN). */
TEECERT_INTERNAL void teecert_keccak256(const void *data, size_t len, uint8_t out[32]);
TEECERT_INTERNAL void teecert_blake2b512(const void *data, size_t len, uint8_t out[64]);

/* Digest size in bytes of hash `name` ("sha256", "sha512", "sha3_256", "keccak256",
 * "blake2b512"), 0 if unknown (or NULL). */
TEECERT_INTERNAL size_t teecert_hash_size(const char *name);

/* Hash msg[0..len) with `name` into out (teecert_hash_size(name) bytes).  msg may be
 * NULL when len is 0.  Returns 0, or -1 for an unknown name (out untouched). */
TEECERT_INTERNAL int teecert_hash(const char *name, const unsigned char *msg, size_t len,
                                  unsigned char *out);

/* Hash n messages laid out like the probe's hash ops: vector i starts at
 * in + i * stride with the message length as a little-endian u64, then the message;
 * its digest goes to out + i * out_stride.  Each length must be at most stride - 8.
 * Gives exactly the bytes of teecert_hash on each vector; on x86-64 CPUs with
 * AVX-512 the SHA-512, SHA3-256, Keccak-256 and BLAKE2b-512 messages are hashed
 * eight at a time (hashes.c; -DTEECERT_HASH_PORTABLE leaves that code out).
 * Returns 0; -1 for an unknown name or a stride below 8; -2 when a length does not
 * fit its slot (nothing is written then). */
TEECERT_INTERNAL int teecert_hash_batch(const char *name, const unsigned char *in, size_t stride,
                                        size_t n, unsigned char *out, size_t out_stride);

/* "avx512" when teecert_hash_batch hashes `name` eight at a time on this CPU,
 * "one at a time" when it calls teecert_hash per message; NULL for an unknown name. */
TEECERT_INTERNAL const char *teecert_hash_batch_impl(const char *name);

#endif /* TEECERT_HASHES_H */
