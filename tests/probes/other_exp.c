/*
 * Broken probe: an exp from a different implementation.  f64.exp.rne computes
 * 2^(x log2 e) with exp2 -- mathematically the same function, and within a few ULPs,
 * but the extra rounding of x * log2(e) makes many results differ from the
 * platform's exp (and from correctly rounded).  A validator fleet where some nodes
 * link another libm computes different bits; the libm suite finds it, against
 * correctly rounded and against the root a profile pins for the approved libm.
 */
#include <math.h>

static double teecert_zoo_exp(double x)
{
    return exp2(x * 1.4426950408889634);
}

#define TEECERT_LIBM_EXP teecert_zoo_exp
#define TEECERT_PROBE_NAME "teecert-zoo-other-exp"

#include "probe.c"
