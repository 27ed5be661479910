/*
 * Raw access to the CPU's floating-point control state, shared by the reference
 * probe and the harness accelerator (which reads it before and after a probe is
 * loaded, to catch libraries that change the process's FP state when loaded, such
 * as -ffast-math builds linking crtfastmath.o).
 *
 * teecert_fpenv_raw(): x86-64: MXCSR in bits 0..31, x87 control word in 32..47;
 * AArch64: FPCR; RISC-V: fcsr; otherwise fegetround().  TEECERT_FPENV_ARCH names
 * which.  Static inline functions only: each includer gets its own copy, and no
 * warning for the ones it does not use.
 */
#ifndef TEECERT_FPENV_H
#define TEECERT_FPENV_H

#include <fenv.h>
#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TEECERT_FPENV_ARCH "x86_64"
#define TEECERT_MXCSR_FTZ 0x8000u
#define TEECERT_MXCSR_DAZ 0x0040u

static inline unsigned int teecert_get_mxcsr(void)
{
    unsigned int v;
    __asm__ __volatile__("stmxcsr %0" : "=m"(v));
    return v;
}

static inline void teecert_set_mxcsr(unsigned int v)
{
    __asm__ __volatile__("ldmxcsr %0" : : "m"(v));
}

static inline uint64_t teecert_fpenv_raw(void)
{
    unsigned short cw;
    __asm__ __volatile__("fnstcw %0" : "=m"(cw));
    return ((uint64_t)cw << 32) | teecert_get_mxcsr();
}

/* glibc's FE_DFL_ENV clears FTZ/DAZ, but not every libc (enclave SDK libcs
   included) documents that it does: clear them explicitly. */
static inline void teecert_clear_flush_modes(void)
{
    teecert_set_mxcsr(teecert_get_mxcsr() & ~(TEECERT_MXCSR_FTZ | TEECERT_MXCSR_DAZ));
}

static inline int teecert_set_flush_modes(void)
{
    /* Every x86-64 CPU has DAZ (it predates AMD64), so MXCSR accepts both bits. */
    teecert_set_mxcsr(teecert_get_mxcsr() | TEECERT_MXCSR_FTZ | TEECERT_MXCSR_DAZ);
    return 1;
}

#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define TEECERT_FPENV_ARCH "aarch64"
#define TEECERT_FPCR_FZ (UINT64_C(1) << 24)

static inline uint64_t teecert_get_fpcr(void)
{
    uint64_t v;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
    return v;
}

static inline void teecert_set_fpcr(uint64_t v)
{
    __asm__ __volatile__("msr fpcr, %0" : : "r"(v));
}

static inline uint64_t teecert_fpenv_raw(void)
{
    return teecert_get_fpcr();
}

static inline void teecert_clear_flush_modes(void)
{
    teecert_set_fpcr(teecert_get_fpcr() & ~TEECERT_FPCR_FZ);
}

/* FPCR.FZ flushes subnormal inputs and results alike (FTZ and DAZ in one bit). */
static inline int teecert_set_flush_modes(void)
{
    teecert_set_fpcr(teecert_get_fpcr() | TEECERT_FPCR_FZ);
    return 1;
}

#elif defined(__riscv) && (defined(__GNUC__) || defined(__clang__)) && defined(__riscv_flen)
#define TEECERT_FPENV_ARCH "riscv64"

static inline uint64_t teecert_fpenv_raw(void)
{
    unsigned long v;
    __asm__ __volatile__("frcsr %0" : "=r"(v));
    return (uint64_t)v;
}

/* RISC-V F/D have no flush-to-zero mode: subnormals are always gradual. */
static inline void teecert_clear_flush_modes(void) {}
static inline int teecert_set_flush_modes(void) { return 0; }

#else
#define TEECERT_FPENV_ARCH "generic"

/* Without a known control register, report what C99 can see: the rounding mode. */
static inline uint64_t teecert_fpenv_raw(void)
{
    return (uint64_t)(unsigned int)fegetround();
}

static inline void teecert_clear_flush_modes(void) {}
static inline int teecert_set_flush_modes(void) { return 0; }
#endif

#endif /* TEECERT_FPENV_H */
