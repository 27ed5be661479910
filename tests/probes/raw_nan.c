/*
 * Broken probe: no NaN canonicalization.  NaN results come back as the hardware
 * makes them (x86: the "default NaN" fff8000000000000 / ffc00000 for invalid
 * operations, the first NaN operand's payload otherwise), which differ between
 * x86, AArch64 and RISC-V.  Everything else is the reference probe.
 */
#define TEECERT_CANONICALIZE 0
#define TEECERT_PROBE_NAME "teecert-zoo-raw-nan"

#include "probe.c"
