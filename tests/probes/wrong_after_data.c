/*
 * Broken probe: the reference probe, except that i64.mul goes wrong once it has
 * multiplied 10,000 vectors in its process: from then on every product comes back
 * with its lowest bit flipped.  A lookup table or a cache that overflows, a counter
 * that wraps, a slow leak that finally corrupts a buffer: faults of this shape hide
 * behind any test shorter than the threshold.
 *
 * In a development run the i64.mul vectors through one probe process are its 194
 * explicit vectors and its stream, evaluated once (the development stress suite
 * does not stress i64.mul).  With the former 8,192-vector data streams that is
 * 8,386 vectors, below the threshold: the probe was certified.  With streams of
 * 1,048,576 vectors the stream crosses it in its second chunk of 8,192.
 */
#include <stdint.h>
#include <string.h>

#define TEECERT_PROBE_NAME "teecert-zoo-wrong-after-data"
/* The reference run, under another name: the exported one below wraps it. */
#define teecert_probe_run teecert_zoo_reference_run
#include "probe.c"
#undef teecert_probe_run

#define WRONG_AFTER 10000u

__attribute__((visibility("default"))) int32_t teecert_probe_run(
    const char *op_id, const void *in, size_t in_bytes, void *out, size_t out_bytes, size_t n);

int32_t teecert_probe_run(const char *op_id, const void *in, size_t in_bytes, void *out,
                          size_t out_bytes, size_t n)
{
    static unsigned long long seen; /* i64.mul vectors multiplied in this process */
    int32_t status = teecert_zoo_reference_run(op_id, in, in_bytes, out, out_bytes, n);
    size_t i;

    if (status != 0 || op_id == 0 || strcmp(op_id, "i64.mul") != 0)
        return status;
    for (i = 0; i < n; i++, seen++) {
        if (seen >= WRONG_AFTER)
            ((unsigned char *)out)[i * 8] ^= 1u; /* little-endian: bit 0 of product i */
    }
    return status;
}
