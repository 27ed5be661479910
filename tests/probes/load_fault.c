/*
 * Broken probes for the checks made before a run: the reference probe, except that
 * loading it or asking its self-description goes wrong the way TEECERT_ZOO_LOAD_FAULT
 * says:
 *   1 teecert_probe_describe() segfaults (a store through a null pointer)
 *   2 teecert_probe_describe() never returns (it sleeps, for ten minutes at most)
 *   3 a constructor dies of SIGSEGV while the library is loaded (in dlopen); it
 *     raises the signal, since GCC drops a constructor that only stores through null
 *   4 a constructor never returns (it sleeps, for ten minutes at most): dlopen hangs
 * Whoever loads such a library dies or hangs with it, so the command line must never
 * load it in its own process: the check is one line naming the call that failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdint.h>
#include <time.h>

#ifndef TEECERT_ZOO_LOAD_FAULT
#define TEECERT_ZOO_LOAD_FAULT 1
#endif

#define TEECERT_PROBE_NAME "teecert-zoo-load-fault"
/* The reference self-description, under another name: the exported one below
   replaces it. */
#define teecert_probe_describe teecert_zoo_reference_describe
#include "probe.c"
#undef teecert_probe_describe

__attribute__((visibility("default"))) const char *teecert_probe_describe(void);

const char *teecert_probe_describe(void)
{
#if TEECERT_ZOO_LOAD_FAULT == 1
    *(volatile int *)(uintptr_t)0 = 1;
#elif TEECERT_ZOO_LOAD_FAULT == 2
    time_t start = time(0);
    struct timespec tick = {0, 10 * 1000 * 1000};
    while (time(0) - start < 600)
        nanosleep(&tick, 0);
#endif
    return teecert_zoo_reference_describe();
}

#if TEECERT_ZOO_LOAD_FAULT == 3
__attribute__((constructor)) static void teecert_zoo_crash_at_load(void)
{
    raise(SIGSEGV);
}
#endif

#if TEECERT_ZOO_LOAD_FAULT == 4
__attribute__((constructor)) static void teecert_zoo_hang_at_load(void)
{
    time_t start = time(0);
    struct timespec tick = {0, 10 * 1000 * 1000};
    while (time(0) - start < 600)
        nanosleep(&tick, 0);
}
#endif
