/*
 * The probe host's own cryptography: its Ed25519 key, the digests that bind
 * attestation evidence to that key, and the client authentication of
 * docs/wire-protocol.md ("Authentication", "The host key").
 *
 * hostkey_openssl.c implements it with OpenSSL's libcrypto (EVP).  hostkey_none.c
 * is for a cross build whose target has no libcrypto: authentication still works
 * (HMAC over the portable SHA-256), but there is no key, so such a host signs
 * nothing and attests nothing (hostkey_available() is 0).
 */
#ifndef TEECERT_HOSTKEY_H
#define TEECERT_HOSTKEY_H

#include <stddef.h>
#include <stdint.h>

#define HOSTKEY_PUBLIC_BYTES 32
#define HOSTKEY_SIGNATURE_BYTES 64

/* Make the key pair (in memory only).  0 on success; else a message in err. */
int hostkey_init(char *err, size_t err_len);

/* 1 when this host has a key (and can sign and attest), else 0. */
int hostkey_available(void);

/* The raw 32-byte Ed25519 public key (valid after hostkey_init succeeded). */
const uint8_t *hostkey_public(void);

/* Ed25519 signature of msg.  0 on success. */
int hostkey_sign(const uint8_t *msg, size_t len, uint8_t sig[HOSTKEY_SIGNATURE_BYTES]);

/* SHA-512 of msg.  0 on success. */
int hostkey_sha512(const uint8_t *msg, size_t len, uint8_t out[64]);

/* HMAC-SHA256(key, msg).  0 on success. */
int hostkey_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len,
                        uint8_t out[32]);

/* n bytes from the system's cryptographic random source.  0 on success. */
int hostkey_random(uint8_t *out, size_t n);

/* 1 when a and b (n bytes each) are equal; the time taken does not depend on where
   they differ. */
int hostkey_equal(const uint8_t *a, const uint8_t *b, size_t n);

/* What this build uses, for --version: "OpenSSL 3.0.x ..." or "none". */
const char *hostkey_backend(void);

#endif
