/*
 * Broken probe: rec.serialize leaks a byte of uninitialized memory.  The record is
 * first filled into a heap-allocated C struct (natural alignment: padding after
 * `kind`, `delta` and `flags`), then written out field by field; the 24th byte,
 * which docs/ops-integers.md fixes as zero, is copied from the struct's tail
 * padding, which nothing ever writes.  In a fresh process glibc hands out fresh
 * (zeroed) pages, so every output is right and the integers suite passes; under
 * MALLOC_PERTURB_ the allocator fills new memory with a byte pattern and the last
 * byte changes.  Only the stress suite's malloc_perturb perturbation finds it.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct teecert_zoo_record {
    uint8_t kind;
    uint64_t amount;
    int32_t delta;
    double price;
    uint16_t flags;
};

#define TEECERT_ZOO_SCRATCH (1u << 20)

/* A MiB-sized request with a fixed mmap threshold: every buffer is a fresh mapping
   (zeroed pages) unless MALLOC_PERTURB_ fills it. */
__attribute__((constructor)) static void teecert_zoo_fixed_mmap_threshold(void)
{
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
}

static void teecert_zoo_le(unsigned char *p, uint64_t v, unsigned bytes)
{
    unsigned k;
    for (k = 0; k < bytes; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static void teecert_zoo_serialize(const uint64_t in[5], unsigned char out[24])
{
    struct teecert_zoo_record *r = malloc(TEECERT_ZOO_SCRATCH);
    uint64_t price = in[3];
    if (r == NULL) {
        teecert_serialize_record(in, out);
        return;
    }
    r->kind = (uint8_t)in[0];
    r->amount = in[1];
    r->delta = (int32_t)(uint32_t)in[2];
    if ((price & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000) &&
        (price & UINT64_C(0x000fffffffffffff)) != 0)
        price = UINT64_C(0x7ff8000000000000);
    memcpy(&r->price, &price, 8);
    r->flags = (uint16_t)in[4];
    out[0] = r->kind;
    teecert_zoo_le(out + 1, r->amount, 8);
    teecert_zoo_le(out + 9, (uint32_t)r->delta, 4);
    memcpy(&price, &r->price, 8);
    teecert_zoo_le(out + 13, price, 8);
    teecert_zoo_le(out + 21, r->flags, 2);
    /* the bug: "the rest of the struct" is copied, i.e. its tail padding */
    memcpy(out + 23, (unsigned char *)&r->flags + sizeof r->flags, 1);
    free(r);
}

#define TEECERT_SERIALIZE_RECORD(in, out) teecert_zoo_serialize((in), (out))
#define TEECERT_PROBE_NAME "teecert-zoo-padding-leak"

#include "probe.c"
