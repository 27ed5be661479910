/*
 * Hash functions of the determinism suite: SHA-512 (FIPS 180-4), SHA3-256 and the
 * original Keccak-256 (FIPS 202's Keccak-f[1600] sponge; Keccak-256 is what Ethereum
 * calls keccak256), and BLAKE2b-512 (RFC 7693, unkeyed).  SHA-256 is sha256.h's.
 *
 * Hand-written on purpose, like sha256.c: the probe must be self-contained C99 that
 * also builds inside enclave SDKs and minimal guests, where OpenSSL or any other
 * crypto library is not available.  Everything is portable code (byte-wise loads
 * and stores, so the result does not depend on the host's endianness or alignment
 * rules; no intrinsics; nothing from libc beyond string.h).  These hash the inputs
 * of determinism vectors, not the probe's transcript, so speed is secondary.
 *
 * Compile-time seam: TEECERT_KECCAK_DOMAIN, if defined, replaces the padding domain
 * byte of Keccak-256 (default 0x01, original Keccak).  A broken probe of the test
 * zoo is built with -DTEECERT_KECCAK_DOMAIN=0x06, which turns its "Keccak-256" into
 * SHA3-256: the classic confusion of the two, which the suite must catch.
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

#endif /* TEECERT_HASHES_H */
