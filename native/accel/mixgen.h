/*
 * The float stream generators teecert-mix-v1 and teecert-libm-v1 (mixgen.c), used by
 * the stream accelerator and by the probe host (RUN_GEN).  They must agree bit for
 * bit with harness/vectors/streams/mix.py and libm.py.
 */
#ifndef TEECERT_MIXGEN_H
#define TEECERT_MIXGEN_H

#include <stdint.h>

/*
 * Inputs of vectors start .. start+n-1 of the stream whose state is s0 (the
 * generator's initial_state(op, seed)), for an op of `arity` operands in a format
 * of `width` bits (32 or 64).  Writes n*arity values in probe-ABI layout (vector i
 * at out[i*arity .. i*arity+arity-1], native byte order): uint32_t for width 32,
 * uint64_t for width 64.  Any other width writes nothing.
 */
void teecert_gen(uint64_t s0, uint64_t start, uint64_t n, uint32_t arity, uint32_t width, void *out);

/* The same, always with the portable scalar code (tests compare the two). */
void teecert_gen_scalar(uint64_t s0, uint64_t start, uint64_t n, uint32_t arity, uint32_t width,
                        void *out);

/* Which code teecert_gen uses on this CPU: "avx512" or "scalar".  The AVX-512 path
   is chosen at run time (cpuid) unless TEECERT_ACCEL_SCALAR is set in the
   environment when the first chunk is generated. */
const char *teecert_gen_impl(void);

/* teecert-libm-v1 (harness/vectors/streams/libm.py): dom holds (lo, hi, signed) per argument,
   exponents clamped to the format's normal range. */
void teecert_gen_libm(uint64_t s0, uint64_t start, uint64_t n, uint32_t arity, uint32_t width,
                      const int32_t *dom, void *out);

/* generator.value of teecert-mix-v1 for a format of `width` bits (64 or 32), which
   datagen.c shares with the float generator. */
uint64_t teecert_mix_value(uint32_t width, uint64_t c, uint64_t m);

#endif /* TEECERT_MIXGEN_H */
