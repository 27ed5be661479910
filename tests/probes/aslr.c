/*
 * Broken probe: an output that depends on where the library was mapped.  The
 * magnitude of a subnormal f64.div.rne quotient is one ULP larger when bit 12 of
 * the address of a variable in the library is set -- the kind of bug that hashing
 * or ordering by pointer value puts into real code.  With ASLR each process draws
 * another address, so half of all processes are wrong; with ASLR off (setarch -R)
 * every process is the same.  The stress suite's fresh processes find it.
 */
#include <stdint.h>

static const char teecert_zoo_anchor[1] = {0};

#define TEECERT_ZOO_SUBNORMAL_F64(bits)                                           \
    (((bits) & UINT64_C(0x7ff0000000000000)) == 0 && ((bits) & UINT64_C(0x000fffffffffffff)) != 0)
#define TEECERT_ZOO_ADDRESS_BIT (((uintptr_t)(const void *)teecert_zoo_anchor >> 12) & 1u)

#define TEECERT_RESULT_HOOK_F64(op, bits)                                          \
    (((op)->kind == TEECERT_OP_DIV && (op)->rnd == TEECERT_RND_RNE &&               \
      TEECERT_ZOO_SUBNORMAL_F64(bits)) ? (bits) + TEECERT_ZOO_ADDRESS_BIT : (bits))
#define TEECERT_PROBE_NAME "teecert-zoo-aslr"

#include "probe.c"
