/*
 * Broken probe: f64.minimum is C's fmin().  fmin is IEEE 754-2008 minNum: given one
 * NaN it returns the other operand (minimum(NaN, 1) must be NaN), and for (+0, -0)
 * it may return either zero.  The obvious library call for "minimum", and the wrong
 * one under IEEE 754-2019.
 */
#include <math.h>

#define TEECERT_MINIMUM_F64(a, b) fmin((a), (b))
#define TEECERT_PROBE_NAME "teecert-zoo-minimum-fmin"

#include "probe.c"
