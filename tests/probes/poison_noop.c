/*
 * Broken probe: its fpenv_poison applies nothing but reports every bit applied, and
 * its entry sequence only sets the op's rounding direction, so the caller's FTZ/DAZ
 * leaks into its arithmetic.  A suite that let the probe poison itself would see a
 * clean environment and pass it; teecert poisons the state itself (FPSTATE, or its
 * accelerator in process) and reads what fpenv_poison really did.
 */
#include <fenv.h>

static int teecert_zoo_enter(fenv_t *saved, int rounding)
{
    if (fegetenv(saved) != 0)
        return -1;
    return fesetround(rounding); /* the bug: FTZ/DAZ of the caller stay in force */
}

#define TEECERT_ENTER_FPENV(saved, rounding) teecert_zoo_enter((saved), (rounding))
#define TEECERT_PROBE_NAME "teecert-zoo-poison-noop"
#define teecert_probe_fpenv_poison teecert_zoo_real_fpenv_poison

#include "probe.c"

#undef teecert_probe_fpenv_poison

/* the lie: "applied", and nothing applied */
__attribute__((visibility("default"))) uint32_t teecert_probe_fpenv_poison(uint32_t what)
{
    return what & (TEECERT_POISON_ROUND_UP | TEECERT_POISON_ROUND_ZERO | TEECERT_POISON_FTZ_DAZ);
}
