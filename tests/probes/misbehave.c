/*
 * Broken probes for the transport tests: the reference probe, except that computing
 * f64.div.rne misbehaves the way TEECERT_ZOO_MISBEHAVE says:
 *   1 segfault (a store through a null pointer)   2 hang forever
 *   3 abort()                                     4 SIGFPE
 *   5 exit(0): the host process ends, closing its stream without a word
 * Only a probe behind the probe host can be survived; in process, each of these
 * would take the harness with it.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef TEECERT_ZOO_MISBEHAVE
#define TEECERT_ZOO_MISBEHAVE 1
#endif

static uint64_t teecert_zoo_misbehave(uint64_t bits)
{
#if TEECERT_ZOO_MISBEHAVE == 1
    *(volatile int *)(uintptr_t)0 = 1;
#elif TEECERT_ZOO_MISBEHAVE == 2
    for (;;)
        pause();
#elif TEECERT_ZOO_MISBEHAVE == 3
    abort();
#elif TEECERT_ZOO_MISBEHAVE == 4
    raise(SIGFPE);
#elif TEECERT_ZOO_MISBEHAVE == 5
    _exit(0);
#endif
    return bits;
}

#define TEECERT_RESULT_HOOK_F64(op, bits)                                              \
    (((op)->kind == TEECERT_OP_DIV && (op)->rnd == TEECERT_RND_RNE)                     \
         ? teecert_zoo_misbehave(bits) : (bits))
#define TEECERT_PROBE_NAME "teecert-zoo-misbehave"

#include "probe.c"
