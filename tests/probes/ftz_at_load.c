/*
 * Broken probe: FTZ/DAZ switched on when the library is loaded, and the entry
 * sequence only sets the rounding direction (it does not install the default
 * environment).  Subnormal inputs are read as zero and subnormal results are
 * flushed to zero, as in a process that loaded a library built with -ffast-math
 * (crtfastmath.o) or an SDK that sets MXCSR for speed.
 * The suites must reject it: the subnormal vectors and streams give zeros.
 */
#include <fenv.h>

static int teecert_zoo_enter(fenv_t *saved, int rounding)
{
    if (fegetenv(saved) != 0)
        return -1;
    return fesetround(rounding); /* the bug: no fesetenv(FE_DFL_ENV), no FTZ/DAZ clear */
}

#define TEECERT_ENTER_FPENV(saved, rounding) teecert_zoo_enter((saved), (rounding))
#define TEECERT_PROBE_NAME "teecert-zoo-ftz-at-load"

#include "probe.c"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((constructor)) static void teecert_zoo_set_ftz_daz(void)
{
    unsigned int csr;
    __asm__ __volatile__("stmxcsr %0" : "=m"(csr));
    csr |= 0x8040u; /* FTZ | DAZ */
    __asm__ __volatile__("ldmxcsr %0" : : "m"(csr));
}
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((constructor)) static void teecert_zoo_set_ftz_daz(void)
{
    unsigned long fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    fpcr |= 1ul << 24; /* FZ */
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
}
#else
#error "ftz_at_load.c needs a CPU with a flush-to-zero mode (x86-64, AArch64)"
#endif
