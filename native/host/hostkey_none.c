/*
 * The probe host without libcrypto (see hostkey.h): for a cross build whose target
 * has no OpenSSL.  Clients still authenticate (HMAC-SHA256 over the portable
 * SHA-256 of the probe), but the host has no key: it signs nothing, and since
 * evidence must commit to a host key it attests nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "hostkey.h"
#include "sha256.h"

static const uint8_t no_public[HOSTKEY_PUBLIC_BYTES];

int hostkey_init(char *err, size_t err_len)
{
    (void)err;
    (void)err_len;
    return 0;
}

int hostkey_available(void) { return 0; }

const uint8_t *hostkey_public(void) { return no_public; }

int hostkey_sign(const uint8_t *msg, size_t len, uint8_t sig[HOSTKEY_SIGNATURE_BYTES])
{
    (void)msg;
    (void)len;
    (void)sig;
    return -1;
}

int hostkey_sha512(const uint8_t *msg, size_t len, uint8_t out[64])
{
    (void)msg;
    (void)len;
    (void)out;
    return -1;
}

/* RFC 2104 over SHA-256 (64-byte blocks). */
int hostkey_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len,
                        uint8_t out[32])
{
    uint8_t k[64], pad[64], inner[32];
    teecert_sha256_ctx ctx;
    size_t i;
    memset(k, 0, sizeof k);
    if (key_len > sizeof k) {
        teecert_sha256_init(&ctx);
        teecert_sha256_update(&ctx, key, key_len);
        teecert_sha256_final(&ctx, k);
    } else if (key_len > 0) {
        memcpy(k, key, key_len);
    }
    for (i = 0; i < sizeof pad; i++)
        pad[i] = (uint8_t)(k[i] ^ 0x36);
    teecert_sha256_init(&ctx);
    teecert_sha256_update(&ctx, pad, sizeof pad);
    teecert_sha256_update(&ctx, msg, len);
    teecert_sha256_final(&ctx, inner);
    for (i = 0; i < sizeof pad; i++)
        pad[i] = (uint8_t)(k[i] ^ 0x5c);
    teecert_sha256_init(&ctx);
    teecert_sha256_update(&ctx, pad, sizeof pad);
    teecert_sha256_update(&ctx, inner, sizeof inner);
    teecert_sha256_final(&ctx, out);
    return 0;
}

int hostkey_random(uint8_t *out, size_t n)
{
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (got < n) {
        ssize_t k = read(fd, out + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            close(fd);
            return -1;
        }
        got += (size_t)k;
    }
    close(fd);
    return 0;
}

int hostkey_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    volatile uint8_t diff = 0;
    size_t i;
    for (i = 0; i < n; i++)
        diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

const char *hostkey_backend(void) { return "none"; }
