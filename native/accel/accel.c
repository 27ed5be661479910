/*
 * The stream accelerator's leaves and FP-state helpers.  Its generators are in
 * mixgen.c (teecert-mix-v1, teecert-libm-v1) and datagen.c (teecert-data-v1).
 */
#include "accel.h"
#include "fpenv.h"
#include "../probe/sha256.h" /* the probe's SHA-256, for the leaves */

#include <string.h>

/*
 * Merkle leaves SHA-256(0x00 || chunk outputs) for the stream loop.  hashlib is as
 * fast per byte (OpenSSL also uses the SHA instructions), but one message at a time
 * is bound by the latency of those instructions; two chunks hashed side by side
 * (teecert_sha256_lanes) finish in much less time than one after another.
 */
void teecert_leaves(const void *const *bufs, const size_t *lens, size_t k, unsigned char *out)
{
    static const uint8_t leaf_prefix = 0x00;
    teecert_sha256_lanes(&leaf_prefix, 1, bufs, lens, k, out);
}

const char *teecert_leaf_impl(void)
{
    return teecert_sha256_impl();
}

uint64_t teecert_accel_fpenv(char *arch)
{
    if (arch)
        memcpy(arch, TEECERT_FPENV_ARCH, sizeof TEECERT_FPENV_ARCH);
    return teecert_fpenv_raw();
}

uint64_t teecert_accel_fpenv_set(uint32_t what, uint64_t base, uint32_t *applied)
{
    uint64_t want = teecert_fpenv_poisoned(base, what, applied);
    uint64_t now = teecert_fpenv_raw();
    teecert_fpenv_set_raw((now & ~TEECERT_FPENV_CONTROL_MASK) | (want & TEECERT_FPENV_CONTROL_MASK));
    return teecert_fpenv_raw();
}

uint64_t teecert_accel_fpenv_control_mask(void)
{
    return TEECERT_FPENV_CONTROL_MASK;
}

void teecert_accel_fpenv_restore(uint64_t v)
{
    uint64_t now = teecert_fpenv_raw();
    teecert_fpenv_set_raw((now & ~TEECERT_FPENV_CONTROL_MASK) | (v & TEECERT_FPENV_CONTROL_MASK));
}
