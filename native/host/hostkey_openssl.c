/*
 * The probe host's cryptography with OpenSSL's libcrypto (see hostkey.h).  The key
 * pair is generated once, before the host forks any worker, and never leaves memory.
 */
#if defined(__has_include)
#if !__has_include(<openssl/evp.h>)
#error "teecert-probe-host needs OpenSSL's libcrypto headers (<openssl/evp.h>): install libssl-dev"
#endif
#endif

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>

#include "hostkey.h"

static EVP_PKEY *host_key;
static uint8_t host_public[HOSTKEY_PUBLIC_BYTES];

int hostkey_init(char *err, size_t err_len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    size_t len = sizeof host_public;
    int ok = ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &host_key) == 1 &&
             EVP_PKEY_get_raw_public_key(host_key, host_public, &len) == 1 && len == sizeof host_public;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(host_key);
        host_key = NULL;
        if (err_len > 0) {
            strncpy(err, "OpenSSL could not generate an Ed25519 key", err_len - 1);
            err[err_len - 1] = '\0';
        }
        return -1;
    }
    return 0;
}

int hostkey_available(void) { return host_key != NULL; }

const uint8_t *hostkey_public(void) { return host_public; }

int hostkey_sign(const uint8_t *msg, size_t len, uint8_t sig[HOSTKEY_SIGNATURE_BYTES])
{
    EVP_MD_CTX *md;
    size_t sig_len = HOSTKEY_SIGNATURE_BYTES;
    int ok;
    if (host_key == NULL)
        return -1;
    md = EVP_MD_CTX_new();
    /* Ed25519 is a one-shot signature: no digest is named. */
    ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, host_key) == 1 &&
         EVP_DigestSign(md, sig, &sig_len, msg, len) == 1 && sig_len == HOSTKEY_SIGNATURE_BYTES;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

int hostkey_sha512(const uint8_t *msg, size_t len, uint8_t out[64])
{
    unsigned int out_len = 0;
    return EVP_Digest(msg, len, out, &out_len, EVP_sha512(), NULL) == 1 && out_len == 64 ? 0 : -1;
}

int hostkey_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len,
                        uint8_t out[32])
{
    unsigned int out_len = 0;
    if (key_len > 0x7fffffff)
        return -1;
    return HMAC(EVP_sha256(), key, (int)key_len, msg, len, out, &out_len) != NULL && out_len == 32 ? 0 : -1;
}

int hostkey_random(uint8_t *out, size_t n)
{
    if (n > 0x7fffffff)
        return -1;
    return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

int hostkey_equal(const uint8_t *a, const uint8_t *b, size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

const char *hostkey_backend(void) { return OPENSSL_VERSION_TEXT; }
