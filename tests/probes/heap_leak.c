/*
 * Broken probe: leaks uninitialized heap memory into its outputs.  A NaN result of
 * f64.add.rne is "serialized" through a freshly allocated buffer whose low word is
 * never written: the high word is the canonical NaN's, the low word whatever the
 * allocator handed out.  In a fresh process glibc hands out fresh (zeroed) pages, so
 * every output is right and the ieee754 suite passes; under MALLOC_PERTURB_ the
 * allocator fills new memory with a byte pattern and the NaNs change.  Only the
 * stress suite's malloc_perturb perturbation finds it.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TEECERT_ZOO_SCRATCH (1u << 20)

/* glibc maps a request with mmap only when the heap top cannot hold it, and raises
   its threshold after the first free: with a fixed threshold and a MiB-sized
   request every scratch buffer is a fresh (zeroed) mapping. */
__attribute__((constructor)) static void teecert_zoo_fixed_mmap_threshold(void)
{
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
}

static uint64_t teecert_zoo_leaky_nan(void)
{
    unsigned char *scratch = malloc(TEECERT_ZOO_SCRATCH);
    uint32_t hi = UINT32_C(0x7ff80000), lo;
    uint64_t out;
    if (scratch == NULL)
        return UINT64_C(0x7ff8000000000000);
    memcpy(scratch + 4, &hi, 4); /* the bug: only the high word is written */
    memcpy(&lo, scratch, 4);
    out = ((uint64_t)hi << 32) | lo;
    free(scratch);
    return out;
}

#define TEECERT_RESULT_HOOK_F64(op, bits)                                                  \
    ((op)->kind == TEECERT_OP_ADD && (op)->rnd == TEECERT_RND_RNE &&                        \
     (bits) == UINT64_C(0x7ff8000000000000) ? teecert_zoo_leaky_nan() : (bits))
#define TEECERT_PROBE_NAME "teecert-zoo-heap-leak"

#include "probe.c"
