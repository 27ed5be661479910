/*
 * teecert stream accelerator: the stream generators of harness/vectors/streams/ (the
 * specification) in C, and the stream loop's leaves.  The two must agree bit for
 * bit; tests/vectors/test_accel.py checks it.
 */
#ifndef TEECERT_ACCEL_H
#define TEECERT_ACCEL_H

#include <stddef.h>
#include <stdint.h>

/* teecert_gen, teecert_gen_scalar, teecert_gen_impl, teecert_gen_libm and
   teecert_mix_value: the float generators, shared with the probe host. */
#include "mixgen.h"

/* The Merkle leaves SHA-256(0x00 || bufs[i][0 .. lens[i]-1]) of k buffers into
   out[32i .. 32i+31] (the harness's leaves of chunk outputs, harness/merkle.py),
   two by two side by side: with SHA-NI much faster than one by one. */
void teecert_leaves(const void *const *bufs, const size_t *lens, size_t k, unsigned char *out);

/* The SHA-256 code the leaves use: "sha-ni", "armv8-sha2" or "portable"
   (native/probe/sha256.c, chosen from what the CPU has). */
const char *teecert_leaf_impl(void);

/* The calling thread's raw FP control state (see native/fpenv.h); `arch` receives
   the architecture name, at most 16 bytes with the NUL.  The harness reads it
   before and after loading a probe: loading must not change it. */
uint64_t teecert_accel_fpenv(char *arch);

/* Poison the calling thread's FP control state by teecert itself, never through a
   probe: `base` (a state read earlier) with the TEECERT_POISON_* bits `what` (and
   0x10, x87 precision) applied (native/fpenv.h, teecert_fpenv_poisoned); *applied
   receives the bits that have an effect on this CPU.  Returns the state now. */
uint64_t teecert_accel_fpenv_set(uint32_t what, uint64_t base, uint32_t *applied);

/* The control bits of teecert_accel_fpenv()'s value (the rest are sticky flags). */
uint64_t teecert_accel_fpenv_control_mask(void);

/* Install the control bits of `v` (a value read earlier), keeping the sticky flags. */
void teecert_accel_fpenv_restore(uint64_t v);

/* ---- teecert-data-v1 (native/accel/datagen.c; harness/vectors/streams/data.py is the
   specification).  Rules: which input rule of data.py a data op uses. */
#define TEECERT_DATA_UNARY 1    /* int_operand: clz, ctz, popcnt */
#define TEECERT_DATA_SHIFT 2    /* int_operand, then a 64-bit shift_count */
#define TEECERT_DATA_DIVISION 3 /* int_operand pair with the division selectors */
#define TEECERT_DATA_PAIR 4     /* two int_operands */
#define TEECERT_DATA_SAT 5      /* sat_operand of a float of `width` bits */
#define TEECERT_DATA_TO_FLOAT 6 /* int_source; arg = signed << 8 | precision */
#define TEECERT_DATA_TO_DEC 7   /* a teecert-mix-v1 binary64 value */
#define TEECERT_DATA_RECORD 8   /* rec.serialize's five words */
#define TEECERT_DATA_SORT 9     /* 64 items, big-endian */
#define TEECERT_DATA_HASH 10    /* length word, 512-byte message slot */
#define TEECERT_DATA_FROM_DEC 11 /* a decimal text, NUL-padded to 1024 bytes */

/* Inputs of vectors start .. start+n-1 of the data stream whose state is s0
   (data.initial_state(op, seed)) in probe-ABI layout.  `width` is the integer (or
   float) width of the rule's operands.  Returns 0, or -1 (and a partial buffer the
   caller must discard) for an unknown rule or width, or a text longer than its slot. */
int teecert_gen_data(uint64_t s0, uint64_t start, uint64_t n, uint32_t rule, uint32_t width,
                     uint32_t arg, void *out);

/* Input bytes per vector of the data stream (rule, width, arg), or -1 for a
   combination the specification's ops do not use. */
int64_t teecert_data_in_bytes(uint32_t rule, uint32_t width, uint32_t arg);

#endif /* TEECERT_ACCEL_H */
