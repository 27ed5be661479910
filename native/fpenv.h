/*
 * Raw access to the CPU's floating-point control state, shared by the reference
 * probe and the harness accelerator (which reads it before and after a probe is
 * loaded, to catch libraries that change the process's FP state when loaded, such
 * as -ffast-math builds linking crtfastmath.o).
 *
 * teecert_fpenv_raw(): x86-64: MXCSR in bits 0..31, x87 control word in 32..47;
 * AArch64: FPCR; RISC-V: fcsr; otherwise fegetround().  TEECERT_FPENV_ARCH names
 * which.  teecert_fpenv_set_raw() installs such a value, teecert_fpenv_poisoned()
 * computes a poisoned one, TEECERT_FPENV_CONTROL_MASK selects its control bits
 * (what the probe host watches across calls).  Static inline functions only: each includer gets its own copy, and no
 * warning for the ones it does not use.
 */
#ifndef TEECERT_FPENV_H
#define TEECERT_FPENV_H

#include <fenv.h>
#include <stdint.h>

/* A poison bit of teecert's own (never passed to a probe): x87 precision control
   reduced to 24 bits, where the CPU has an x87 unit.  Bits 0x1, 0x2 and 0x4 are the
   TEECERT_POISON_* bits of teecert_probe.h. */
#define TEECERT_FPENV_POISON_X87_PC 0x10u

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

/* Which bits of teecert_fpenv_raw() are control (rounding, flush modes, exception
   masks, x87 precision) rather than sticky status flags: the flags change whenever
   anything computes, the control bits only when someone sets them. */
#define TEECERT_FPENV_CONTROL_MASK (~UINT64_C(0x3F))

/* Install a raw state as teecert_fpenv_raw() reads it (MXCSR and x87 control word). */
static inline void teecert_fpenv_set_raw(uint64_t v)
{
    unsigned short cw = (unsigned short)(v >> 32);
    teecert_set_mxcsr((unsigned int)v);
    __asm__ __volatile__("fldcw %0" : : "m"(cw));
}

/* `base` with the TEECERT_POISON_* bits (and TEECERT_FPENV_POISON_X87_PC) applied, as
   teecert's probe host and accelerator poison the caller's state themselves; *applied
   receives the bits that have an effect here.  MXCSR RC (bits 13-14) and x87 RC (bits
   10-11) share one encoding: 00 nearest, 01 down, 10 up, 11 toward zero. */
static inline uint64_t teecert_fpenv_poisoned(uint64_t base, uint32_t what, uint32_t *applied)
{
    uint64_t v = base;
    uint32_t got = 0;
    uint64_t rc = 0;
    if (what & 0x2u) {
        rc = 3;
        got |= 0x2u;
    } else if (what & 0x1u) {
        rc = 2;
        got |= 0x1u;
    }
    v = (v & ~(UINT64_C(3) << 13) & ~(UINT64_C(3) << (32 + 10))) | (rc << 13) | (rc << (32 + 10));
    if (what & 0x4u) {
        v |= TEECERT_MXCSR_FTZ | TEECERT_MXCSR_DAZ;
        got |= 0x4u;
    } else {
        v &= ~(uint64_t)(TEECERT_MXCSR_FTZ | TEECERT_MXCSR_DAZ);
    }
    /* x87 precision control (bits 8-9) to 24 bits, as some graphics runtimes leave it;
       the default is 11 (64-bit significand). */
    if (what & TEECERT_FPENV_POISON_X87_PC) {
        v &= ~(UINT64_C(3) << (32 + 8));
        got |= TEECERT_FPENV_POISON_X87_PC;
    } else {
        v |= UINT64_C(3) << (32 + 8);
    }
    if (applied)
        *applied = got;
    return v;
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

/* FPCR holds control only (the flags are in FPSR). */
#define TEECERT_FPENV_CONTROL_MASK (~UINT64_C(0))

static inline void teecert_fpenv_set_raw(uint64_t v)
{
    teecert_set_fpcr(v);
}

/* FPCR.RMode (bits 22-23): 00 nearest, 01 toward +inf, 10 toward -inf, 11 toward
   zero; FPCR.FZ (bit 24). */
static inline uint64_t teecert_fpenv_poisoned(uint64_t base, uint32_t what, uint32_t *applied)
{
    uint64_t v = base & ~(UINT64_C(3) << 22), rm = 0;
    uint32_t got = 0;
    if (what & 0x2u) {
        rm = 3;
        got |= 0x2u;
    } else if (what & 0x1u) {
        rm = 1;
        got |= 0x1u;
    }
    v |= rm << 22;
    if (what & 0x4u) {
        v |= TEECERT_FPCR_FZ;
        got |= 0x4u;
    } else {
        v &= ~TEECERT_FPCR_FZ;
    }
    if (applied)
        *applied = got;
    return v;
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

/* fcsr: fflags in bits 0-4, frm in bits 5-7. */
#define TEECERT_FPENV_CONTROL_MASK (~UINT64_C(0x1F))

static inline void teecert_fpenv_set_raw(uint64_t v)
{
    unsigned long x = (unsigned long)v;
    __asm__ __volatile__("fscsr %0" : : "r"(x));
}

/* frm: 000 nearest-even, 001 toward zero, 010 down, 011 up. */
static inline uint64_t teecert_fpenv_poisoned(uint64_t base, uint32_t what, uint32_t *applied)
{
    uint64_t v = base & ~(UINT64_C(7) << 5), rm = 0;
    uint32_t got = 0;
    if (what & 0x2u) {
        rm = 1;
        got |= 0x2u;
    } else if (what & 0x1u) {
        rm = 3;
        got |= 0x1u;
    }
    if (applied)
        *applied = got;
    return v | (rm << 5);
}

#else
#define TEECERT_FPENV_ARCH "generic"

/* Without a known control register, report what C99 can see: the rounding mode. */
static inline uint64_t teecert_fpenv_raw(void)
{
    return (uint64_t)(unsigned int)fegetround();
}

static inline void teecert_clear_flush_modes(void) {}
static inline int teecert_set_flush_modes(void) { return 0; }

#define TEECERT_FPENV_CONTROL_MASK (~UINT64_C(0))

static inline void teecert_fpenv_set_raw(uint64_t v)
{
    fesetround((int)v);
}

static inline uint64_t teecert_fpenv_poisoned(uint64_t base, uint32_t what, uint32_t *applied)
{
    uint32_t got = 0;
    uint64_t v = (uint64_t)(unsigned int)FE_TONEAREST;
    (void)base;
#ifdef FE_TOWARDZERO
    if (what & 0x2u) {
        v = (uint64_t)(unsigned int)FE_TOWARDZERO;
        got |= 0x2u;
    }
#endif
#ifdef FE_UPWARD
    if (!(got & 0x2u) && (what & 0x1u)) {
        v = (uint64_t)(unsigned int)FE_UPWARD;
        got |= 0x1u;
    }
#endif
    if (applied)
        *applied = got;
    return v;
}
#endif

#endif /* TEECERT_FPENV_H */
