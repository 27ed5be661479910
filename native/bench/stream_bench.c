/*
 * The stream loop in plain C, as the yardstick for teecert.probe.streams: the same
 * generator (native/accel/mixgen.c), the same op code and transcript (the reference
 * probe's source, linked in), and the same leaf hash SHA-256(0x00 || chunk outputs),
 * two chunks side by side as the Python loop does it (teecert_leaves), with no
 * Python in between.  benchmarks/bench_stream.py builds and runs it.
 *
 *   stream_bench OP SEED COUNT CHUNK
 *
 * prints one JSON line: vectors, wall and CPU seconds of the loop, the SHA-256 code
 * in use, and the SHA-256 of the concatenated leaves, so the Python side can check
 * both did the same work.
 */
#define _POSIX_C_SOURCE 199309L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accel.h"
#include "sha256.h"
#include "teecert_probe.h"

/* Chunks whose leaves are hashed together, as harness/vectors/streams/inputs.py's
   LEAF_LANES. */
#define LANES 2

static double now(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int op_shape(const char *op, unsigned *arity, unsigned *width)
{
    static const struct { const char *name; unsigned arity; } names[] = {
        {"add", 2}, {"sub", 2}, {"mul", 2}, {"div", 2}, {"sqrt", 1}, {"fma", 3}, {"mul_add_unfused", 3},
    };
    size_t i, len;
    if (strncmp(op, "f32.", 4) == 0)
        *width = 32;
    else if (strncmp(op, "f64.", 4) == 0)
        *width = 64;
    else
        return -1;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        len = strlen(names[i].name);
        if (strncmp(op + 4, names[i].name, len) == 0 && op[4 + len] == '.') {
            *arity = names[i].arity;
            return 0;
        }
    }
    return -1;
}

/* Chunk `start` of the stream into out; its vector count, or 0 after a failure. */
static unsigned long long run_chunk(const char *op, uint64_t s0, unsigned arity, unsigned width,
                                    unsigned long long start, unsigned long long count,
                                    unsigned long long chunk, unsigned char *in, unsigned char *out)
{
    unsigned long long n = count - start < chunk ? count - start : chunk;
    size_t in_bytes = (size_t)n * arity * (width / 8), out_bytes = (size_t)n * (width / 8);
    teecert_gen(s0, start, n, arity, width, in);
    if (teecert_probe_run(op, in, in_bytes, out, out_bytes, (size_t)n) != TEECERT_OK) {
        fprintf(stderr, "stream_bench: %s failed\n", op);
        return 0;
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *op;
    unsigned long long seed, count, chunk, start;
    unsigned arity, width, i, k;
    char label[256];
    uint8_t digest[32], leaves[32 * LANES];
    uint64_t s0 = 0;
    unsigned char *in, *out[LANES];
    const void *bufs[LANES];
    size_t lens[LANES];
    teecert_sha256_ctx all;
    double t0, t1, c0, c1;

    if (argc != 5) {
        fprintf(stderr, "usage: %s OP SEED COUNT CHUNK\n", argv[0]);
        return 2;
    }
    op = argv[1];
    seed = strtoull(argv[2], 0, 10);
    count = strtoull(argv[3], 0, 10);
    chunk = strtoull(argv[4], 0, 10);
    if (op_shape(op, &arity, &width) != 0 || chunk == 0) {
        fprintf(stderr, "stream_bench: unknown op %s or zero chunk\n", op);
        return 2;
    }
    /* s0: the first 8 bytes, little-endian, of SHA-256("teecert-mix-v1:" op ":" seed) */
    snprintf(label, sizeof label, "teecert-mix-v1:%s:%llu", op, seed);
    teecert_sha256(label, strlen(label), digest);
    for (i = 0; i < 8; i++)
        s0 |= (uint64_t)digest[i] << (8 * i);

    in = malloc((size_t)chunk * arity * (width / 8));
    if (!in)
        return 3;
    for (k = 0; k < LANES; k++) {
        bufs[k] = out[k] = malloc((size_t)chunk * (width / 8));
        if (!out[k])
            return 3;
    }
    teecert_sha256_init(&all);

    t0 = now(CLOCK_MONOTONIC);
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (start = 0; start < count; start += LANES * chunk) {
        for (k = 0; k < LANES && start + k * chunk < count; k++) {
            unsigned long long n = run_chunk(op, s0, arity, width, start + k * chunk, count, chunk,
                                             in, out[k]);
            if (n == 0)
                return 1;
            lens[k] = (size_t)n * (width / 8);
        }
        teecert_leaves(bufs, lens, k, leaves);
        teecert_sha256_update(&all, leaves, 32 * (size_t)k);
    }
    c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    t1 = now(CLOCK_MONOTONIC);

    teecert_sha256_final(&all, digest);
    printf("{\"vectors\": %llu, \"seconds\": \"%.6f\", \"cpu_seconds\": \"%.6f\", \"sha256\": \"%s\", "
           "\"leaves_sha256\": \"", count, t1 - t0, c1 - c0, teecert_sha256_impl());
    for (i = 0; i < 32; i++)
        printf("%02x", digest[i]);
    printf("\"}\n");
    free(in);
    for (k = 0; k < LANES; k++)
        free(out[k]);
    return 0;
}
