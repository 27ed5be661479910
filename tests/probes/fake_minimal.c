/*
 * Not a probe: a minimal stand-in that exports the ABI with canned answers, to
 * test how the loader treats libraries that lie.  Configured with -D:
 *   FAKE_ABI            version it claims (default 1)
 *   FAKE_DESCRIPTION    its self-description, a C string (default a valid object)
 *   FAKE_NULL_DESCRIPTION  describe() returns NULL
 *   FAKE_RUN_STATUS     status every run returns (default 0, outputs zeroed)
 *   FAKE_OMIT_RUN       do not define teecert_probe_run (a missing symbol)
 */
#include <string.h>

#pragma GCC visibility push(default)
#include "teecert_probe.h"
#pragma GCC visibility pop

#ifndef FAKE_ABI
#define FAKE_ABI 1u
#endif
#ifndef FAKE_DESCRIPTION
#define FAKE_DESCRIPTION "{\"name\": \"fake\", \"ops\": [\"f64.add.rne\"]}"
#endif
#ifndef FAKE_RUN_STATUS
#define FAKE_RUN_STATUS 0
#endif

uint32_t teecert_probe_abi_version(void) { return FAKE_ABI; }

const char *teecert_probe_describe(void)
{
#ifdef FAKE_NULL_DESCRIPTION
    return 0;
#else
    return FAKE_DESCRIPTION;
#endif
}

#ifndef FAKE_OMIT_RUN
int32_t teecert_probe_run(const char *op, const void *in, size_t in_bytes, void *out,
                          size_t out_bytes, size_t n)
{
    (void)op; (void)in; (void)in_bytes; (void)n;
    if (out && out_bytes)
        memset(out, 0, out_bytes);
    return FAKE_RUN_STATUS;
}
#endif

uint64_t teecert_probe_fpenv_read(char *arch)
{
    if (arch)
        memcpy(arch, "generic", 8);
    return 0;
}

uint32_t teecert_probe_fpenv_poison(uint32_t what) { (void)what; return 0; }
void teecert_probe_fpenv_reset(void) {}

void teecert_probe_transcript(uint8_t out[32], uint64_t *calls)
{
    memset(out, 0, 32);
    if (calls)
        *calls = 0;
}

void teecert_probe_transcript_reset(void) {}

int32_t teecert_probe_attest(const uint8_t report_data[64], uint8_t *evidence, size_t cap,
                             size_t *len, char *format)
{
    (void)report_data; (void)evidence; (void)cap; (void)len; (void)format;
    return TEECERT_E_UNSUPPORTED;
}
