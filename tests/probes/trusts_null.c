/*
 * Broken probe for the argument checks: it dereferences its input pointer before
 * checking it, so a null input with n > 0 crashes it (SIGSEGV) where the ABI
 * requires TEECERT_E_ARGS.  teecert must run those checks where a crash cannot
 * take it down, and report the crash as the failure.
 */
#include <stdint.h>

#define teecert_probe_run teecert_zoo_real_run
#define TEECERT_PROBE_NAME "teecert-zoo-trusts-null"

#include "probe.c"

#undef teecert_probe_run

__attribute__((visibility("default"))) int32_t teecert_probe_run(const char *op_id, const void *in,
                                                                 size_t in_bytes, void *out,
                                                                 size_t out_bytes, size_t n)
{
    volatile const unsigned char *first = (volatile const unsigned char *)in;
    if (n > 0 && first[0] == 0xA5u) /* the bug: reads before it checks */
        n = n + 0;
    return teecert_zoo_real_run(op_id, in, in_bytes, out, out_bytes, n);
}
