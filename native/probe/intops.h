/*
 * Integer, conversion and data-model kernels of the teecert reference probe, with
 * the consensus semantics of docs/ops-integers.md: one exactly defined result for
 * every input, whatever the hardware does and whatever C leaves undefined.
 *
 * Values are bit patterns in unsigned integers, as everywhere in teecert: an i32 is
 * its two's-complement pattern in a uint32_t, an f64 its IEEE 754 binary64 pattern
 * in a uint64_t.  Nothing here reads or changes the floating-point environment
 * except the float -> int conversions, whose result does not depend on it (they
 * truncate; no rounding direction applies).  Integer -> float conversions and the
 * decimal conversions are done in integer arithmetic only.
 *
 * Portable C99; no compiler builtins, no locale, no libc conversion routines.
 */
#ifndef TEECERT_INTOPS_H
#define TEECERT_INTOPS_H

#include <stddef.h>
#include <stdint.h>

/* Internal to the probe: never exported from the shared library.  The same
   definition as sha256.h (an identical redefinition is allowed); a build that
   wants the kernels exported (the tests do) defines TEECERT_INTERNAL as empty. */
#ifndef TEECERT_INTERNAL
#if defined(__GNUC__) || defined(__clang__)
#define TEECERT_INTERNAL __attribute__((visibility("hidden")))
#else
#define TEECERT_INTERNAL
#endif
#endif

/* Rounding codes of the int -> float conversions: the order of probe.c's
   enum teecert_rounding.  Any other value is treated as TEECERT_INTOPS_RNE. */
#define TEECERT_INTOPS_RNE 0 /* roundTiesToEven */
#define TEECERT_INTOPS_RTZ 1 /* roundTowardZero */
#define TEECERT_INTOPS_RUP 2 /* roundTowardPositive */
#define TEECERT_INTOPS_RDN 3 /* roundTowardNegative */

/* Return codes of teecert_f64_from_dec. */
#define TEECERT_DEC_OK 0
#define TEECERT_DEC_SYNTAX 1   /* not in the grammar of docs/ops-integers.md */
#define TEECERT_DEC_INTERNAL 2 /* a bound of the fixed-size arithmetic was hit: a bug */

/* Size of teecert_f64_to_dec's buffer; the longest output is 24 chars plus NUL. */
#define TEECERT_DEC_BUF 32

/* ---- wrapping two's-complement arithmetic (modulo 2^32 / 2^64) */
TEECERT_INTERNAL uint32_t teecert_i32_add(uint32_t a, uint32_t b);
TEECERT_INTERNAL uint32_t teecert_i32_sub(uint32_t a, uint32_t b);
TEECERT_INTERNAL uint32_t teecert_i32_mul(uint32_t a, uint32_t b);
TEECERT_INTERNAL uint64_t teecert_i64_add(uint64_t a, uint64_t b);
TEECERT_INTERNAL uint64_t teecert_i64_sub(uint64_t a, uint64_t b);
TEECERT_INTERNAL uint64_t teecert_i64_mul(uint64_t a, uint64_t b);

/* ---- division, RISC-V M semantics: x/0 = all ones, x%0 = x, MIN/-1 = MIN,
        MIN%-1 = 0; otherwise truncation toward zero, remainder with the
        dividend's sign */
TEECERT_INTERNAL uint32_t teecert_i32_div_s(uint32_t a, uint32_t b);
TEECERT_INTERNAL uint32_t teecert_i32_rem_s(uint32_t a, uint32_t b);
TEECERT_INTERNAL uint32_t teecert_i32_div_u(uint32_t a, uint32_t b);
TEECERT_INTERNAL uint32_t teecert_i32_rem_u(uint32_t a, uint32_t b);
TEECERT_INTERNAL uint64_t teecert_i64_div_s(uint64_t a, uint64_t b);
TEECERT_INTERNAL uint64_t teecert_i64_rem_s(uint64_t a, uint64_t b);
TEECERT_INTERNAL uint64_t teecert_i64_div_u(uint64_t a, uint64_t b);
TEECERT_INTERNAL uint64_t teecert_i64_rem_u(uint64_t a, uint64_t b);

/* ---- shifts by a full 64-bit count, never masked: a count >= width shifts every
        bit out (0 for shl and shr_u, the sign bit repeated for shr_s) */
TEECERT_INTERNAL uint32_t teecert_i32_shl(uint32_t a, uint64_t count);
TEECERT_INTERNAL uint32_t teecert_i32_shr_u(uint32_t a, uint64_t count);
TEECERT_INTERNAL uint32_t teecert_i32_shr_s(uint32_t a, uint64_t count);
TEECERT_INTERNAL uint64_t teecert_i64_shl(uint64_t a, uint64_t count);
TEECERT_INTERNAL uint64_t teecert_i64_shr_u(uint64_t a, uint64_t count);
TEECERT_INTERNAL uint64_t teecert_i64_shr_s(uint64_t a, uint64_t count);

/* ---- bit counts; clz(0) = ctz(0) = width */
TEECERT_INTERNAL uint32_t teecert_i32_clz(uint32_t a);
TEECERT_INTERNAL uint32_t teecert_i32_ctz(uint32_t a);
TEECERT_INTERNAL uint32_t teecert_i32_popcnt(uint32_t a);
TEECERT_INTERNAL uint64_t teecert_i64_clz(uint64_t a);
TEECERT_INTERNAL uint64_t teecert_i64_ctz(uint64_t a);
TEECERT_INTERNAL uint64_t teecert_i64_popcnt(uint64_t a);

/* ---- saturating float -> int: truncate toward zero, NaN -> 0, out of range ->
        MIN or MAX of the destination.  Argument: the float's bit pattern. */
TEECERT_INTERNAL uint32_t teecert_f64_to_i32_sat(uint64_t bits);
TEECERT_INTERNAL uint64_t teecert_f64_to_i64_sat(uint64_t bits);
TEECERT_INTERNAL uint32_t teecert_f64_to_u32_sat(uint64_t bits);
TEECERT_INTERNAL uint64_t teecert_f64_to_u64_sat(uint64_t bits);
TEECERT_INTERNAL uint32_t teecert_f32_to_i32_sat(uint32_t bits);
TEECERT_INTERNAL uint64_t teecert_f32_to_i64_sat(uint32_t bits);
TEECERT_INTERNAL uint32_t teecert_f32_to_u32_sat(uint32_t bits);
TEECERT_INTERNAL uint64_t teecert_f32_to_u64_sat(uint32_t bits);

/* ---- int -> float, correctly rounded in direction rnd (TEECERT_INTOPS_*),
        computed in integer arithmetic: independent of the caller's FP state */
TEECERT_INTERNAL uint64_t teecert_i32_to_f64(uint32_t a, int rnd);
TEECERT_INTERNAL uint64_t teecert_i64_to_f64(uint64_t a, int rnd);
TEECERT_INTERNAL uint64_t teecert_u64_to_f64(uint64_t a, int rnd);
TEECERT_INTERNAL uint32_t teecert_i32_to_f32(uint32_t a, int rnd);
TEECERT_INTERNAL uint32_t teecert_i64_to_f32(uint64_t a, int rnd);
TEECERT_INTERNAL uint32_t teecert_u64_to_f32(uint64_t a, int rnd);

/* ---- decimal <-> binary64, locale-free and exact (see intops.c) */

/* Writes the NUL-terminated text of docs/ops-integers.md ("-1.2345678901234567e+89",
   "inf", "-inf", "nan") into out and returns its length (3 to 24). */
TEECERT_INTERNAL int teecert_f64_to_dec(uint64_t bits, char out[TEECERT_DEC_BUF]);

/* Parses the len bytes at s (no NUL needed; a NUL byte is a syntax error) and stores
   the correctly rounded (ties to even) binary64 in *out.  Returns TEECERT_DEC_OK, or
   TEECERT_DEC_SYNTAX / TEECERT_DEC_INTERNAL without writing *out. */
TEECERT_INTERNAL int teecert_f64_from_dec(const char *s, size_t len, uint64_t *out);

/* ---- data model */

/* struct record { uint8_t kind; uint64_t amount; int32_t delta; double price;
   uint16_t flags; } from its five fields, each in the low bits of a u64 slot
   (higher bits ignored), as 23 packed little-endian bytes plus one zero byte; a NaN
   price is written as 0x7ff8000000000000. */
TEECERT_INTERNAL void teecert_serialize_record(const uint64_t in[5], unsigned char out[24]);

/* Stable sort of items[0..n) by the key item >> 48 (bottom-up merge sort, O(n log n)
   time, no allocation); scratch must hold n items and must not overlap items. */
TEECERT_INTERNAL void teecert_sort_stable_u64(uint64_t *items, size_t n, uint64_t *scratch);

#endif /* TEECERT_INTOPS_H */
