/*
 * Broken probe: a one-ULP error in one op.  f64.div.rne results whose magnitude is
 * subnormal (exponent field 0, not zero) come back one ULP larger in magnitude;
 * every other op and every other quotient is correct.  The kind of error a
 * hand-written division routine or a microcode erratum makes, and only a stream
 * of many vectors, or the subnormal group of the explicit vectors, will find.
 */
#include <stdint.h>

#define TEECERT_ZOO_SUBNORMAL_F64(bits)                                           \
    (((bits) & UINT64_C(0x7ff0000000000000)) == 0 && ((bits) & UINT64_C(0x000fffffffffffff)) != 0)

/* +1 on the bit pattern adds one ULP to the magnitude, whatever the sign. */
#define TEECERT_RESULT_HOOK_F64(op, bits)                                          \
    (((op)->kind == TEECERT_OP_DIV && (op)->rnd == TEECERT_RND_RNE &&               \
      TEECERT_ZOO_SUBNORMAL_F64(bits)) ? (bits) + 1 : (bits))
#define TEECERT_PROBE_NAME "teecert-zoo-one-ulp"

#include "probe.c"
