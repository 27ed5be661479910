/*
 * Broken probe: its basic ops compute in the default environment as they must, but
 * its exp runs in whatever rounding mode the caller left set (a libm wrapper that
 * "respects the caller's mode").  A caller almost always leaves round-to-nearest, so
 * a plain run gives glibc's exp and passes; with the caller's state poisoned, exp
 * changes.  The libm suite may be advisory (exp need not be correctly rounded), but
 * results that change with the caller's state are the stress suite's
 * test_libm_determinism, a failure in every profile.
 */
#include <fenv.h>
#include <math.h>

static int teecert_zoo_caller_round = FE_TONEAREST;

static int teecert_zoo_enter(fenv_t *saved, int rounding)
{
    if (fegetenv(saved) != 0)
        return -1;
    teecert_zoo_caller_round = fegetround();
    if (fesetenv(FE_DFL_ENV) != 0)
        return -1;
    return fesetround(rounding);
}

static double teecert_zoo_exp(double x)
{
    int mode = fegetround();
    double y;
    fesetround(teecert_zoo_caller_round);
    y = exp(x);
    fesetround(mode);
    return y;
}

#define TEECERT_ENTER_FPENV(saved, rounding) teecert_zoo_enter((saved), (rounding))
#define TEECERT_LIBM_EXP teecert_zoo_exp
#define TEECERT_PROBE_NAME "teecert-zoo-libm-caller-rounding"

#include "probe.c"
