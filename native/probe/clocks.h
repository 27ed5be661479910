/*
 * Clocks a probe can read: raw samples for characterizing their resolution,
 * monotonicity and jitter (harness/clocks.py analyzes them and checks a profile's
 * thresholds).  Like the hw.* ops of hwchar.c this is raw platform behaviour, never
 * consensus: consensus code that reads time must be shown a monotonic clock of
 * bounded resolution, and enclaves often have no trusted or no fine-grained clock
 * (SGX1 faults on rdtsc, Nitro and SEV guests see a paravirtual clock).
 *
 * Clock ids:
 *   0  TEECERT_CLOCK_REALTIME         clock_gettime(CLOCK_REALTIME): wall time, may step
 *   1  TEECERT_CLOCK_MONOTONIC        clock_gettime(CLOCK_MONOTONIC)
 *   2  TEECERT_CLOCK_MONOTONIC_RAW    clock_gettime(CLOCK_MONOTONIC_RAW): not slewed by NTP
 *   3  TEECERT_CLOCK_BOOTTIME         clock_gettime(CLOCK_BOOTTIME): counts suspend
 *   4  TEECERT_CLOCK_PROCESS_CPUTIME  clock_gettime(CLOCK_PROCESS_CPUTIME_ID)
 *   5  TEECERT_CLOCK_COUNTER          the CPU's counter, read in user mode:
 *        x86-64   rdtsc (after lfence, so successive reads cannot pass each other);
 *                 unsupported without the TSC cpuid bit or when the kernel makes it
 *                 fault (prctl PR_SET_TSC).
 *        AArch64  cntvct_el0 (after isb, as the kernel's vDSO reads it), frequency
 *                 from cntfrq_el0.
 *        RISC-V   rdtime (RV64 only).
 *        elsewhere unsupported.
 *      Linux grants user-mode access to cntvct_el0 and the time CSR (its vDSO reads
 *      them); a build for an environment that does not (or an SGX1 enclave, where
 *      rdtsc faults) defines TEECERT_NO_COUNTER to report the counter unsupported.
 *
 * The POSIX clocks are sampled as nanoseconds, tv_sec * 1000000000 + tv_nsec (modulo
 * 2^64); the counter as raw ticks.
 *
 * Proposed characterization-op layout for the integrator (hwchar.c, 8-byte slots):
 *   hw.clock.sample  arity 1: n input slots all holding the clock id, n output slots
 *                    receive teecert_clock_sample(id, out, n).
 *   hw.clock.info    arity 1, n == 2: both input slots hold the clock id; out[0] =
 *                    resolution_ns, out[1] = ticks_per_second.
 * Return codes map directly onto the status codes below.
 */
#ifndef TEECERT_CLOCKS_H
#define TEECERT_CLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h" /* TEECERT_INTERNAL */

#define TEECERT_CLOCK_REALTIME 0u
#define TEECERT_CLOCK_MONOTONIC 1u
#define TEECERT_CLOCK_MONOTONIC_RAW 2u
#define TEECERT_CLOCK_BOOTTIME 3u
#define TEECERT_CLOCK_PROCESS_CPUTIME 4u
#define TEECERT_CLOCK_COUNTER 5u
#define TEECERT_CLOCK_COUNT 6u

/* Read clock `clock_id` n times in a tight loop into out[0..n).  Returns TEECERT_OK
   (0); TEECERT_E_UNSUPPORTED (1) for an unknown id, a counter this architecture or
   kernel does not give, or a clock_gettime that fails (out is then undefined);
   TEECERT_E_ARGS (2) when out is NULL and n > 0. */
TEECERT_INTERNAL int teecert_clock_sample(unsigned clock_id, uint64_t *out, size_t n);

/* What the platform says about clock `clock_id`.  The POSIX clocks: clock_getres in
   ns, and 1000000000 ticks per second.  The counter: its frequency where the
   architecture tells it (AArch64 cntfrq_el0; 0 if firmware left it unprogrammed)
   and one tick in ns rounded up; 0 and 0 (unknown) elsewhere: the x86 TSC frequency
   is not architecturally readable (cpuid leaf 0x15 is optional and often zero,
   hypervisors report what they like), and the RISC-V timebase frequency lives in
   the device tree, not in a CSR.  Returns as teecert_clock_sample (E_ARGS for a
   NULL pointer). */
TEECERT_INTERNAL int teecert_clock_info(unsigned clock_id, uint64_t *resolution_ns,
                                        uint64_t *ticks_per_second);

#endif /* TEECERT_CLOCKS_H */
