/*
 * Clocks a probe can read (clocks.h): n consecutive reads of one clock as raw
 * 64-bit values, and what the platform says about the clock's resolution.  The
 * analysis (resolution, monotonicity, jitter) is the harness's: this file only
 * reads, in a loop as tight as the clock allows, so that what is measured is the
 * clock and not the probe.
 */
#define _POSIX_C_SOURCE 200809L

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "clocks.h"
#include "teecert_probe.h"

/* Seam for the broken-probe zoo (tests/probezoo.py): a function-like macro applied
   to every sample, e.g. -D'TEECERT_CLOCK_HOOK(v)=((v)/4000000*4000000)' for a
   4 ms clock.  The reference probe leaves samples as read. */
#ifndef TEECERT_CLOCK_HOOK
#define TEECERT_CLOCK_HOOK(v) (v)
#endif

#if !defined(TEECERT_NO_COUNTER) && (defined(__GNUC__) || defined(__clang__))
#if defined(__x86_64__)
#define CLK_X86 1
#include <cpuid.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#elif defined(__aarch64__)
#define CLK_ARM 1
#elif defined(__riscv) && defined(__riscv_xlen) && __riscv_xlen == 64
#define CLK_RISCV 1
#endif
#endif

#define NS_PER_S 1000000000u

/* The clockid_t of a POSIX clock id; 0 for the counter or an unknown id. */
static int posix_clock(unsigned clock_id, clockid_t *id)
{
    switch (clock_id) {
    case TEECERT_CLOCK_REALTIME: *id = CLOCK_REALTIME; return 1;
    case TEECERT_CLOCK_MONOTONIC: *id = CLOCK_MONOTONIC; return 1;
#ifdef CLOCK_MONOTONIC_RAW
    case TEECERT_CLOCK_MONOTONIC_RAW: *id = CLOCK_MONOTONIC_RAW; return 1;
#endif
#ifdef CLOCK_BOOTTIME
    case TEECERT_CLOCK_BOOTTIME: *id = CLOCK_BOOTTIME; return 1;
#endif
#ifdef CLOCK_PROCESS_CPUTIME_ID
    case TEECERT_CLOCK_PROCESS_CPUTIME: *id = CLOCK_PROCESS_CPUTIME_ID; return 1;
#endif
    default: return 0;
    }
}

static uint64_t ns_of(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * NS_PER_S + (uint64_t)ts->tv_nsec;
}

static int sample_posix(clockid_t id, uint64_t *out, size_t n)
{
    struct timespec ts;
    size_t i;
    int bad = 0;

    if (clock_gettime(id, &ts) != 0)
        return TEECERT_E_UNSUPPORTED;
    for (i = 0; i < n; i++) {
        bad |= clock_gettime(id, &ts);
        out[i] = TEECERT_CLOCK_HOOK(ns_of(&ts));
    }
    return bad ? TEECERT_E_UNSUPPORTED : TEECERT_OK;
}

/* ------------------------------------------------------------------ the counter */

/* 1 when this build, CPU and kernel let user code read the counter. */
static int counter_available(void)
{
#if CLK_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1u, &a, &b, &c, &d) || !((d >> 4) & 1u)) /* CPUID.1:EDX.TSC */
        return 0;
#if defined(__linux__) && defined(PR_GET_TSC) && defined(PR_TSC_ENABLE)
    {
        int mode = 0;
        /* Linux can make rdtsc fault for this process; PR_GET_TSC says so. */
        if (prctl(PR_GET_TSC, &mode, 0, 0, 0) == 0 && mode != PR_TSC_ENABLE)
            return 0;
    }
#endif
    return 1;
#elif CLK_ARM || CLK_RISCV
    return 1;
#else
    return 0;
#endif
}

#if CLK_X86 || CLK_ARM || CLK_RISCV
static uint64_t counter_read(void)
{
#if CLK_X86
    uint32_t lo, hi;
    __asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return (uint64_t)hi << 32 | lo;
#elif CLK_ARM
    uint64_t v;
    __asm__ __volatile__("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
#else
    uint64_t v;
    __asm__ __volatile__("rdtime %0" : "=r"(v) : : "memory");
    return v;
#endif
}
#endif

/* Counter ticks per second where the architecture tells it, else 0. */
static uint64_t counter_frequency(void)
{
#if CLK_ARM
    uint64_t f;
    __asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(f));
    return f & 0xffffffffu; /* bits 63:32 are RES0 */
#else
    return 0;
#endif
}

static int sample_counter(uint64_t *out, size_t n)
{
#if CLK_X86 || CLK_ARM || CLK_RISCV
    size_t i;
    if (!counter_available())
        return TEECERT_E_UNSUPPORTED;
    for (i = 0; i < n; i++)
        out[i] = TEECERT_CLOCK_HOOK(counter_read());
    return TEECERT_OK;
#else
    (void)out;
    (void)n;
    return TEECERT_E_UNSUPPORTED;
#endif
}

/* ------------------------------------------------------------------ entry points */

int teecert_clock_sample(unsigned clock_id, uint64_t *out, size_t n)
{
    clockid_t id;

    if (out == NULL && n > 0)
        return TEECERT_E_ARGS;
    if (clock_id == TEECERT_CLOCK_COUNTER)
        return sample_counter(out, n);
    if (!posix_clock(clock_id, &id))
        return TEECERT_E_UNSUPPORTED;
    return sample_posix(id, out, n);
}

int teecert_clock_info(unsigned clock_id, uint64_t *resolution_ns, uint64_t *ticks_per_second)
{
    clockid_t id;
    struct timespec ts;

    if (resolution_ns == NULL || ticks_per_second == NULL)
        return TEECERT_E_ARGS;
    if (clock_id == TEECERT_CLOCK_COUNTER) {
        uint64_t f;
        if (!counter_available())
            return TEECERT_E_UNSUPPORTED;
        f = counter_frequency();
        *ticks_per_second = f;
        *resolution_ns = f ? (NS_PER_S + f - 1) / f : 0;
        return TEECERT_OK;
    }
    if (!posix_clock(clock_id, &id) || clock_getres(id, &ts) != 0)
        return TEECERT_E_UNSUPPORTED;
    *resolution_ns = ns_of(&ts);
    *ticks_per_second = NS_PER_S;
    return TEECERT_OK;
}
