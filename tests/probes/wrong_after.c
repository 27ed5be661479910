/*
 * Broken probe for teecert watch: the reference probe until it has been called
 * TEECERT_ZOO_WRONG_AFTER times in its process (a count read from the environment
 * when it is first called; unset or empty: never).  Every later run call, of any
 * op, comes back with one wrong result: the lowest bit of the result at index
 * min(7, n-1) flipped.  A machine that degrades after hours of correct service
 * gives this kind of fault, and the certification run made before it cannot see
 * it: only a check repeated later, against the roots that run recorded, can.
 */
#include <stdint.h>
#include <stdlib.h>

#define TEECERT_PROBE_NAME "teecert-zoo-wrong-after"
/* The reference run, under another name: the exported one below wraps it. */
#define teecert_probe_run teecert_zoo_reference_run
#include "probe.c"
#undef teecert_probe_run

__attribute__((visibility("default"))) int32_t teecert_probe_run(
    const char *op_id, const void *in, size_t in_bytes, void *out, size_t out_bytes, size_t n);

int32_t teecert_probe_run(const char *op_id, const void *in, size_t in_bytes, void *out,
                          size_t out_bytes, size_t n)
{
    static int known;
    static long after = -1;
    static unsigned long calls;
    int32_t status = teecert_zoo_reference_run(op_id, in, in_bytes, out, out_bytes, n);

    if (!known) {
        const char *text = getenv("TEECERT_ZOO_WRONG_AFTER");
        after = (text != 0 && *text != '\0') ? strtol(text, 0, 10) : -1;
        known = 1;
    }
    if (status == 0 && n > 0 && after >= 0 && ++calls > (unsigned long)after) {
        size_t width = out_bytes / n;
        size_t at = (n > 7 ? 7 : n - 1) * width;
        ((unsigned char *)out)[at] ^= 1u;
    }
    return status;
}
