/*
 * Broken probe: computes in the caller's rounding mode.  It installs the op's
 * rounding direction only when the caller left round-to-nearest, which is what a
 * caller almost always leaves -- so a plain run passes -- and keeps whatever else it
 * finds (and any FTZ/DAZ).  The stress suite's fp_poison perturbation (and the fpenv
 * suite) find it.
 */
#include <fenv.h>

static int teecert_zoo_enter(fenv_t *saved, int rounding)
{
    if (fegetenv(saved) != 0)
        return -1;
    if (fegetround() == FE_TONEAREST)
        return fesetround(rounding);
    return 0;
}

#define TEECERT_ENTER_FPENV(saved, rounding) teecert_zoo_enter((saved), (rounding))
#define TEECERT_PROBE_NAME "teecert-zoo-caller-rounding"

#include "probe.c"
