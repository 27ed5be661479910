/*
 * Broken probe: round-to-integral with the ties mixed up.  f64.round_integral.rne
 * calls C's round(), which rounds halfway cases away from zero (2.5 -> 3, -0.5 ->
 * -1) rather than to even: the mix-up of "round to nearest" between C's round()
 * and IEEE 754's roundToIntegralTiesToEven (rint / nearbyint).  Every value that is
 * not a tie, and every other direction, is right.
 */
#include <math.h>

#define TEECERT_ROUND_INTEGRAL_F64(x, rnd)                                             \
    ((rnd) == TEECERT_RND_RNE ? round(x) : teecert_round_integral_f64((x), (rnd)))
#define TEECERT_PROBE_NAME "teecert-zoo-round-ties-away"

#include "probe.c"
