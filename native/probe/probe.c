/*
 * teecert reference probe: portable C99 implementing native/teecert_probe.h (ABI v1)
 * for the float ops of docs/ops.md with consensus semantics.
 *
 * Build it only with the flags of teecert.probe_build.REFERENCE_CFLAGS
 * (-std=c99 -O2 -ffp-contract=off -frounding-math -fno-fast-math
 * -fexcess-precision=standard ...): the C below is correct *because* of them.  The
 * broken probes of tests/probes/ are this same file built with other flags, or with
 * one of the seams below redefined, and the suites must tell each of them apart.
 *
 * Fault-injection seams (define before including this file; defaults in brackets):
 *   TEECERT_ENTER_FPENV(saved, rounding)  [save the caller's env, install FE_DFL_ENV,
 *                                          clear FTZ/DAZ, set the rounding direction;
 *                                          evaluates to 0 on success]
 *   TEECERT_LEAVE_FPENV(saved)            [fesetenv(saved)]
 *   TEECERT_CANONICALIZE                  [1: every NaN result becomes the canonical NaN]
 *   TEECERT_RESULT_HOOK_F32(op, bits)     [(bits): a uint32_t result about to be stored]
 *   TEECERT_RESULT_HOOK_F64(op, bits)     [(bits): a uint64_t result about to be stored]
 *   TEECERT_SORT_U64(items, n, scratch)   [teecert_sort_stable_u64: u64.sort_stable]
 *   TEECERT_SERIALIZE_RECORD(in, out)     [teecert_serialize_record: rec.serialize]
 *   TEECERT_F64_FROM_DEC(s, len, out)     [teecert_f64_from_dec: f64.from_dec]
 *   TEECERT_LIBM_EXP(x)                   [exp: f64.exp.*]
 *   TEECERT_DIV_F64(a, b)                 [a / b: f64.div.*]
 *   TEECERT_ABI_REPORTED                  [TEECERT_PROBE_ABI_VERSION]
 *   TEECERT_PROBE_NAME, TEECERT_PROBE_VERSION, TEECERT_CFLAGS (string literals)
 * The hooks receive `op`, a `const struct teecert_op_desc *` (width, kind, rnd below).
 * (hashes.c has one more: TEECERT_KECCAK_DOMAIN.)
 */

#include <fenv.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Only the ABI functions are exported; the build adds -fvisibility=hidden too. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif
#include "teecert_probe.h"
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#include "attest.h"
#include "hashes.h"
#include "hwchar.h"
#include "intops.h"
#include "sha256.h"

/* GCC ignores this pragma (and warns); it relies on -frounding-math instead. */
#if defined(__clang__)
#pragma STDC FENV_ACCESS ON
#endif

#if !defined(FE_TONEAREST) || !defined(FE_TOWARDZERO) || !defined(FE_UPWARD) || !defined(FE_DOWNWARD)
#error "a consensus probe needs all four IEEE 754 rounding directions in <fenv.h>"
#endif

#ifndef TEECERT_PROBE_NAME
#define TEECERT_PROBE_NAME "teecert-reference-probe"
#endif
#ifndef TEECERT_PROBE_VERSION
#define TEECERT_PROBE_VERSION "0.1.0"
#endif
#ifndef TEECERT_CFLAGS
#define TEECERT_CFLAGS "unknown"
#endif
#ifndef TEECERT_ABI_REPORTED
#define TEECERT_ABI_REPORTED TEECERT_PROBE_ABI_VERSION
#endif
#ifndef TEECERT_CANONICALIZE
#define TEECERT_CANONICALIZE 1
#endif
#ifndef TEECERT_RESULT_HOOK_F32
#define TEECERT_RESULT_HOOK_F32(op, bits) (bits)
#endif
#ifndef TEECERT_RESULT_HOOK_F64
#define TEECERT_RESULT_HOOK_F64(op, bits) (bits)
#endif

#define TEECERT_CANONICAL_NAN_F32 UINT32_C(0x7fc00000)
#define TEECERT_CANONICAL_NAN_F64 UINT64_C(0x7ff8000000000000)

/* ---------------------------------------------------------------- the op table */

enum teecert_op_kind {
    TEECERT_OP_ADD,
    TEECERT_OP_SUB,
    TEECERT_OP_MUL,
    TEECERT_OP_DIV,
    TEECERT_OP_SQRT,
    TEECERT_OP_FMA,
    TEECERT_OP_MUL_ADD_UNFUSED,
    TEECERT_OP_LIBM,
    TEECERT_OP_DATA, /* integers, conversions, data model: docs/ops-integers.md */
    TEECERT_OP_HASH,
    TEECERT_OP_ROUND_INTEGRAL, /* the other IEEE ops of docs/ops.md */
    TEECERT_OP_MINIMUM,
    TEECERT_OP_MAXIMUM,
    TEECERT_OP_CONVERT
};

/* The kernel function of a data op, by shape (u32_2: two u32 in, a u32 out ...). */
union teecert_data_fn {
    const void *none;
    uint32_t (*u32_2)(uint32_t, uint32_t);
    uint64_t (*u64_2)(uint64_t, uint64_t);
    uint32_t (*u32_sh)(uint32_t, uint64_t);
    uint32_t (*u32_1)(uint32_t);
    uint64_t (*u64_1)(uint64_t);
    uint32_t (*u64_to_u32)(uint64_t);
    uint64_t (*u32_to_u64)(uint32_t);
    uint64_t (*i32_to_f64)(uint32_t, int);
    uint64_t (*i64_to_f64)(uint64_t, int);
    uint32_t (*i32_to_f32)(uint32_t, int);
    uint32_t (*i64_to_f32)(uint64_t, int);
    const char *hash;
};

/* RNA (roundTiesToAway) exists only for round-to-integral; the environment it runs
   in is the default one (round to nearest), which it does not read. */
enum teecert_rounding { TEECERT_RND_RNE, TEECERT_RND_RTZ, TEECERT_RND_RUP, TEECERT_RND_RDN, TEECERT_RND_RNA };

struct teecert_op_desc;
typedef void (*teecert_kernel)(const struct teecert_op_desc *op, const unsigned char *in,
                               unsigned char *out, size_t n);

struct teecert_op_desc {
    const char *id;
    unsigned width; /* 32 or 64 */
    enum teecert_op_kind kind;
    enum teecert_rounding rnd;
    unsigned arity;
    teecert_kernel kernel; /* null: declared unsupported */
    /* Data ops: bytes per vector in and out (0 for a float op: width/8 per value). */
    size_t in_size, out_size;
    union teecert_data_fn fn; /* data ops: what the shape kernel calls */
};

static const int teecert_fe_rounding[5] = {FE_TONEAREST, FE_TOWARDZERO, FE_UPWARD, FE_DOWNWARD,
                                           FE_TONEAREST};

/* ------------------------------------------------------- FP environment access */

#include "fpenv.h"

#ifndef TEECERT_ENTER_FPENV
/* The consensus entry: whatever the caller left set (rounding mode, FTZ/DAZ, trap
   masks, sticky flags), compute in the default environment with the op's own
   rounding direction.  The caller's environment is saved first and restored on the
   way out (TEECERT_LEAVE_FPENV), so the probe is invisible to its caller. */
static int teecert_enter_fpenv_default(fenv_t *saved, int rounding)
{
    if (fegetenv(saved) != 0)
        return -1;
    if (fesetenv(FE_DFL_ENV) != 0)
        return -1;
    teecert_clear_flush_modes();
    if (fesetround(rounding) != 0) {
        fesetenv(saved);
        return -1;
    }
    return 0;
}
#define TEECERT_ENTER_FPENV(saved, rounding) teecert_enter_fpenv_default((saved), (rounding))
#endif
#ifndef TEECERT_LEAVE_FPENV
#define TEECERT_LEAVE_FPENV(saved) fesetenv(saved)
#endif

/* ------------------------------------------------------------------- kernels */

static float teecert_ld_f32(const unsigned char *p)
{
    float x;
    memcpy(&x, p, sizeof x);
    return x;
}

static double teecert_ld_f64(const unsigned char *p)
{
    double x;
    memcpy(&x, p, sizeof x);
    return x;
}

/*
 * NaN canonicalization uses isnan() on the result, the way consensus code would be
 * written.  That is deliberate: -ffast-math (-ffinite-math-only) lets the compiler
 * fold isnan() to false, so a fast-math build silently returns the hardware's NaN
 * (x86: fff8000000000000).  That is exactly the kind of build hazard the suites
 * must catch, and the zoo's fast-math probe shows they do.
 */
static void teecert_st_f32(const struct teecert_op_desc *op, unsigned char *p, float r)
{
    uint32_t bits;
    memcpy(&bits, &r, sizeof bits);
#if TEECERT_CANONICALIZE
    if (isnan(r))
        bits = TEECERT_CANONICAL_NAN_F32;
#endif
    bits = TEECERT_RESULT_HOOK_F32(op, bits);
    (void)op;
    memcpy(p, &bits, sizeof bits);
}

static void teecert_st_f64(const struct teecert_op_desc *op, unsigned char *p, double r)
{
    uint64_t bits;
    memcpy(&bits, &r, sizeof bits);
#if TEECERT_CANONICALIZE
    if (isnan(r))
        bits = TEECERT_CANONICAL_NAN_F64;
#endif
    bits = TEECERT_RESULT_HOOK_F64(op, bits);
    (void)op;
    memcpy(p, &bits, sizeof bits);
}

#define TEECERT_KERNEL1(NAME, T, SFX, EXPR)                                                \
    static void NAME(const struct teecert_op_desc *op, const unsigned char *in,           \
                     unsigned char *out, size_t n)                                        \
    {                                                                                     \
        size_t i;                                                                         \
        for (i = 0; i < n; i++) {                                                         \
            T a = teecert_ld_##SFX(in + i * sizeof(T));                                   \
            T r = (EXPR);                                                                 \
            teecert_st_##SFX(op, out + i * sizeof(T), r);                                 \
        }                                                                                 \
    }

#define TEECERT_KERNEL2(NAME, T, SFX, EXPR)                                                \
    static void NAME(const struct teecert_op_desc *op, const unsigned char *in,           \
                     unsigned char *out, size_t n)                                        \
    {                                                                                     \
        size_t i;                                                                         \
        for (i = 0; i < n; i++) {                                                         \
            const unsigned char *v = in + i * 2 * sizeof(T);                              \
            T a = teecert_ld_##SFX(v);                                                    \
            T b = teecert_ld_##SFX(v + sizeof(T));                                        \
            T r = (EXPR);                                                                 \
            teecert_st_##SFX(op, out + i * sizeof(T), r);                                 \
        }                                                                                 \
    }

#define TEECERT_KERNEL3(NAME, T, SFX, EXPR)                                                \
    static void NAME(const struct teecert_op_desc *op, const unsigned char *in,           \
                     unsigned char *out, size_t n)                                        \
    {                                                                                     \
        size_t i;                                                                         \
        for (i = 0; i < n; i++) {                                                         \
            const unsigned char *v = in + i * 3 * sizeof(T);                              \
            T a = teecert_ld_##SFX(v);                                                    \
            T b = teecert_ld_##SFX(v + sizeof(T));                                        \
            T c = teecert_ld_##SFX(v + 2 * sizeof(T));                                    \
            T r = (EXPR);                                                                 \
            teecert_st_##SFX(op, out + i * sizeof(T), r);                                 \
        }                                                                                 \
    }

TEECERT_KERNEL2(teecert_add_f32, float, f32, a + b)
TEECERT_KERNEL2(teecert_sub_f32, float, f32, a - b)
TEECERT_KERNEL2(teecert_mul_f32, float, f32, a * b)
TEECERT_KERNEL2(teecert_div_f32, float, f32, a / b)
TEECERT_KERNEL1(teecert_sqrt_f32, float, f32, sqrtf(a))
/* glibc's fmaf/fma are correctly rounded in every rounding direction. */
TEECERT_KERNEL3(teecert_fma_f32, float, f32, fmaf(a, b, c))
/* Two roundings, written as plainly as consensus code would write it.  Correct only
   because the build says -ffp-contract=off (no fusion into an FMA) and evaluates in
   SSE/NEON registers of the operand's format (FLT_EVAL_METHOD 0, no x87 excess
   precision): the zoo's contraction and x87 probes are this line built otherwise. */
TEECERT_KERNEL3(teecert_mul_add_unfused_f32, float, f32, a * b + c)

TEECERT_KERNEL2(teecert_add_f64, double, f64, a + b)
TEECERT_KERNEL2(teecert_sub_f64, double, f64, a - b)
TEECERT_KERNEL2(teecert_mul_f64, double, f64, a * b)
/* TEECERT_DIV_F64 is a seam for the broken-probe zoo (a division answered from a
   table of the fixed vectors). */
#ifndef TEECERT_DIV_F64
#define TEECERT_DIV_F64(a, b) ((a) / (b))
#endif
TEECERT_KERNEL2(teecert_div_f64, double, f64, TEECERT_DIV_F64(a, b))
TEECERT_KERNEL1(teecert_sqrt_f64, double, f64, sqrt(a))
TEECERT_KERNEL3(teecert_fma_f64, double, f64, fma(a, b, c))
/* See the f32 kernel above: correct only with -ffp-contract=off and SSE math. */
TEECERT_KERNEL3(teecert_mul_add_unfused_f64, double, f64, a * b + c)

/*
 * Round to integral, minimum and maximum, conversions between the formats
 * (docs/ops.md).  Seams for the zoo: TEECERT_ROUND_INTEGRAL_F64(x, rnd),
 * TEECERT_MINIMUM_F64(a, b), TEECERT_F64_TO_F32(x).
 *
 * roundToIntegral: nearbyint() rounds in the current direction, which the entry
 * installed from the op's (rne, rtz, rup, rdn); C99 round() rounds ties away from
 * zero whatever the direction (rna).  Both keep the sign of a zero result, as IEEE
 * 754 asks, and neither raises inexact (flags are not part of a result).
 */
static double teecert_round_integral_f64(double x, enum teecert_rounding rnd)
{
    return rnd == TEECERT_RND_RNA ? round(x) : nearbyint(x);
}

static float teecert_round_integral_f32(float x, enum teecert_rounding rnd)
{
    return rnd == TEECERT_RND_RNA ? roundf(x) : nearbyintf(x);
}

/* IEEE 754-2019 minimum and maximum: a NaN operand gives a NaN (the store makes it
   canonical) and -0 orders below +0.  Not C's fmin/fmax, which return the other
   operand of a NaN and either zero of (+0, -0). */
static double teecert_minimum_f64(double a, double b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a != b)
        return a < b ? a : b;
    return signbit(a) ? a : b; /* equal: only +0 and -0 differ */
}

static double teecert_maximum_f64(double a, double b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a != b)
        return a > b ? a : b;
    return signbit(a) ? b : a;
}

static float teecert_minimum_f32(float a, float b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a != b)
        return a < b ? a : b;
    return signbit(a) ? a : b;
}

static float teecert_maximum_f32(float a, float b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a != b)
        return a > b ? a : b;
    return signbit(a) ? b : a;
}

#ifndef TEECERT_ROUND_INTEGRAL_F64
#define TEECERT_ROUND_INTEGRAL_F64(x, rnd) teecert_round_integral_f64((x), (rnd))
#endif
#ifndef TEECERT_MINIMUM_F64
#define TEECERT_MINIMUM_F64(a, b) teecert_minimum_f64((a), (b))
#endif
/* One rounding, in the direction the entry installed: correct with SSE/NEON math
   (cvtsd2ss rounds once), and under x87 too (the double is exact in a register).
   A conversion that scales a tiny value into the normal range first, or goes through
   any precision between the two, rounds twice. */
#ifndef TEECERT_F64_TO_F32
#define TEECERT_F64_TO_F32(x) ((float)(x))
#endif

TEECERT_KERNEL1(teecert_round_integral_f32_k, float, f32, teecert_round_integral_f32(a, op->rnd))
TEECERT_KERNEL1(teecert_round_integral_f64_k, double, f64, TEECERT_ROUND_INTEGRAL_F64(a, op->rnd))
TEECERT_KERNEL2(teecert_minimum_f32_k, float, f32, teecert_minimum_f32(a, b))
TEECERT_KERNEL2(teecert_maximum_f32_k, float, f32, teecert_maximum_f32(a, b))
TEECERT_KERNEL2(teecert_minimum_f64_k, double, f64, TEECERT_MINIMUM_F64(a, b))
TEECERT_KERNEL2(teecert_maximum_f64_k, double, f64, teecert_maximum_f64(a, b))

static void teecert_f64_to_f32_k(const struct teecert_op_desc *op, const unsigned char *in,
                                 unsigned char *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double a = teecert_ld_f64(in + 8 * i);
        teecert_st_f32(op, out + 4 * i, TEECERT_F64_TO_F32(a));
    }
}

/* Exact: every binary32 value is a binary64 value (a signalling NaN comes back
   quiet, then canonical). */
static void teecert_f32_to_f64_k(const struct teecert_op_desc *op, const unsigned char *in,
                                 unsigned char *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float a = teecert_ld_f32(in + 4 * i);
        teecert_st_f64(op, out + 8 * i, (double)a);
    }
}

#define TEECERT_IEEE_EXTRA_OPS(FMT, W, SFX)                                                          \
    {FMT ".round_integral.rne", W, TEECERT_OP_ROUND_INTEGRAL, TEECERT_RND_RNE, 1, teecert_round_integral_##SFX##_k, 0, 0, {0}}, \
    {FMT ".round_integral.rtz", W, TEECERT_OP_ROUND_INTEGRAL, TEECERT_RND_RTZ, 1, teecert_round_integral_##SFX##_k, 0, 0, {0}}, \
    {FMT ".round_integral.rup", W, TEECERT_OP_ROUND_INTEGRAL, TEECERT_RND_RUP, 1, teecert_round_integral_##SFX##_k, 0, 0, {0}}, \
    {FMT ".round_integral.rdn", W, TEECERT_OP_ROUND_INTEGRAL, TEECERT_RND_RDN, 1, teecert_round_integral_##SFX##_k, 0, 0, {0}}, \
    {FMT ".round_integral.rna", W, TEECERT_OP_ROUND_INTEGRAL, TEECERT_RND_RNA, 1, teecert_round_integral_##SFX##_k, 0, 0, {0}}, \
    {FMT ".minimum", W, TEECERT_OP_MINIMUM, TEECERT_RND_RNE, 2, teecert_minimum_##SFX##_k, 0, 0, {0}},                         \
    {FMT ".maximum", W, TEECERT_OP_MAXIMUM, TEECERT_RND_RNE, 2, teecert_maximum_##SFX##_k, 0, 0, {0}}

/*
 * libm functions (docs/ops.md, "libm functions"): the platform's libm, called in the
 * default environment with round-to-nearest like every op, NaNs canonicalized.  This
 * suite measures the platform: glibc is not correctly rounded everywhere, and the
 * report says where.  TEECERT_LIBM_EXP is a seam for the broken-probe zoo (an exp
 * from another implementation).
 */
#ifndef TEECERT_LIBM_EXP
#define TEECERT_LIBM_EXP exp
#endif
#define TEECERT_LIBM1(NAME)                                                               \
    TEECERT_KERNEL1(teecert_##NAME##_f64, double, f64, NAME(a))                            \
    TEECERT_KERNEL1(teecert_##NAME##_f32, float, f32, NAME##f(a))
#define TEECERT_LIBM2(NAME)                                                               \
    TEECERT_KERNEL2(teecert_##NAME##_f64, double, f64, NAME(a, b))                         \
    TEECERT_KERNEL2(teecert_##NAME##_f32, float, f32, NAME##f(a, b))
TEECERT_KERNEL1(teecert_exp_f64, double, f64, TEECERT_LIBM_EXP(a))
TEECERT_KERNEL1(teecert_exp_f32, float, f32, expf(a))
TEECERT_LIBM1(expm1)
TEECERT_LIBM1(log)
TEECERT_LIBM1(log1p)
TEECERT_LIBM1(log2)
TEECERT_LIBM1(log10)
TEECERT_LIBM2(pow)
TEECERT_LIBM1(sin)
TEECERT_LIBM1(cos)
TEECERT_LIBM1(tan)
TEECERT_LIBM1(asin)
TEECERT_LIBM1(acos)
TEECERT_LIBM1(atan)
TEECERT_LIBM2(atan2)
TEECERT_LIBM1(sinh)
TEECERT_LIBM1(cosh)
TEECERT_LIBM1(tanh)
TEECERT_LIBM1(cbrt)
TEECERT_LIBM2(hypot)
TEECERT_LIBM1(erf)

#define TEECERT_LIBM_OPS(FMT, W, SFX)                                                     \
    {FMT ".exp.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_exp_##SFX, 0, 0, {0}},           \
    {FMT ".expm1.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_expm1_##SFX, 0, 0, {0}},       \
    {FMT ".log.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_log_##SFX, 0, 0, {0}},           \
    {FMT ".log1p.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_log1p_##SFX, 0, 0, {0}},       \
    {FMT ".log2.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_log2_##SFX, 0, 0, {0}},         \
    {FMT ".log10.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_log10_##SFX, 0, 0, {0}},       \
    {FMT ".pow.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 2, teecert_pow_##SFX, 0, 0, {0}},           \
    {FMT ".sin.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_sin_##SFX, 0, 0, {0}},           \
    {FMT ".cos.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_cos_##SFX, 0, 0, {0}},           \
    {FMT ".tan.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_tan_##SFX, 0, 0, {0}},           \
    {FMT ".asin.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_asin_##SFX, 0, 0, {0}},         \
    {FMT ".acos.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_acos_##SFX, 0, 0, {0}},         \
    {FMT ".atan.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_atan_##SFX, 0, 0, {0}},         \
    {FMT ".atan2.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 2, teecert_atan2_##SFX, 0, 0, {0}},       \
    {FMT ".sinh.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_sinh_##SFX, 0, 0, {0}},         \
    {FMT ".cosh.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_cosh_##SFX, 0, 0, {0}},         \
    {FMT ".tanh.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_tanh_##SFX, 0, 0, {0}},         \
    {FMT ".cbrt.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_cbrt_##SFX, 0, 0, {0}},         \
    {FMT ".hypot.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 2, teecert_hypot_##SFX, 0, 0, {0}},       \
    {FMT ".erf.rne", W, TEECERT_OP_LIBM, TEECERT_RND_RNE, 1, teecert_erf_##SFX, 0, 0, {0}}

#define TEECERT_OP4(FMT, W, NAME, KIND, ARITY, KERNEL)                           \
    {FMT "." NAME ".rne", W, KIND, TEECERT_RND_RNE, ARITY, KERNEL, 0, 0, {0}},             \
    {FMT "." NAME ".rtz", W, KIND, TEECERT_RND_RTZ, ARITY, KERNEL, 0, 0, {0}},             \
    {FMT "." NAME ".rup", W, KIND, TEECERT_RND_RUP, ARITY, KERNEL, 0, 0, {0}},             \
    {FMT "." NAME ".rdn", W, KIND, TEECERT_RND_RDN, ARITY, KERNEL, 0, 0, {0}}


/* ------------------------------------------------------------------ data ops */

/*
 * Integers, conversions, the data model and hashes (docs/ops-integers.md): the
 * kernels of intops.c and hashes.c over buffers of little-endian values, loaded
 * and stored byte by byte so that neither the host's byte order nor its alignment
 * rules can change a result.  Layouts (bytes per vector) are teecert.ops's.
 */
#define TEECERT_DEC_TEXT_BYTES 1024
#define TEECERT_HASH_MSG_BYTES 512
#define TEECERT_SORT_ITEMS 64

#ifndef TEECERT_SORT_U64
#define TEECERT_SORT_U64(items, n, scratch) teecert_sort_stable_u64((items), (n), (scratch))
#endif
#ifndef TEECERT_SERIALIZE_RECORD
#define TEECERT_SERIALIZE_RECORD(in, out) teecert_serialize_record((in), (out))
#endif

/* On a little-endian GCC or Clang target a whole 4- or 8-byte value is one unaligned
 * access (the byte loops compile to one access per byte there); the same bytes
 * either way. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TEECERT_LE_WORDS 1
#else
#define TEECERT_LE_WORDS 0
#endif

static uint64_t teecert_le_ld(const unsigned char *p, unsigned bytes)
{
    uint64_t v = 0;
    unsigned k;
#if TEECERT_LE_WORDS
    if (bytes == 8) {
        memcpy(&v, p, 8);
        return v;
    }
    if (bytes == 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        return w;
    }
#endif
    for (k = bytes; k-- > 0;)
        v = (v << 8) | p[k];
    return v;
}

static void teecert_le_st(unsigned char *p, uint64_t v, unsigned bytes)
{
    unsigned k;
#if TEECERT_LE_WORDS
    if (bytes == 8) {
        memcpy(p, &v, 8);
        return;
    }
    if (bytes == 4) {
        uint32_t w = (uint32_t)v;
        memcpy(p, &w, 4);
        return;
    }
#endif
    for (k = 0; k < bytes; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

/* The sort's 64 items a vector, in and out: where TEECERT_LE_WORDS holds, each is
 * one unaligned 8-byte access and a byte swap, with the same bytes either way. */
#define TEECERT_BE_WORDS TEECERT_LE_WORDS

static uint64_t teecert_be_ld64(const unsigned char *p)
{
#if TEECERT_BE_WORDS
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
#else
    uint64_t v = 0;
    unsigned k;
    for (k = 0; k < 8; k++)
        v = (v << 8) | p[k];
    return v;
#endif
}

static void teecert_be_st64(unsigned char *p, uint64_t v)
{
#if TEECERT_BE_WORDS
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
#else
    unsigned k;
    for (k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (56 - 8 * k));
#endif
}

/* One kernel per shape: IN_B and OUT_B bytes per value, CALL the function. */
#define TEECERT_DATA_KERNEL1(NAME, IN_B, OUT_B, CALL)                                       \
    static void NAME(const struct teecert_op_desc *op, const unsigned char *in,             \
                     unsigned char *out, size_t n)                                          \
    {                                                                                       \
        size_t i;                                                                           \
        for (i = 0; i < n; i++) {                                                           \
            uint64_t a = teecert_le_ld(in + i * (IN_B), (IN_B));                            \
            teecert_le_st(out + i * (OUT_B), (uint64_t)(CALL), (OUT_B));                    \
        }                                                                                   \
    }
#define TEECERT_DATA_KERNEL2(NAME, A_B, B_B, OUT_B, CALL)                                   \
    static void NAME(const struct teecert_op_desc *op, const unsigned char *in,             \
                     unsigned char *out, size_t n)                                          \
    {                                                                                       \
        size_t i;                                                                           \
        for (i = 0; i < n; i++) {                                                           \
            const unsigned char *v = in + i * ((A_B) + (B_B));                              \
            uint64_t a = teecert_le_ld(v, (A_B)), b = teecert_le_ld(v + (A_B), (B_B));      \
            teecert_le_st(out + i * (OUT_B), (uint64_t)(CALL), (OUT_B));                    \
        }                                                                                   \
    }

TEECERT_DATA_KERNEL2(teecert_k_u32_2, 4, 4, 4, op->fn.u32_2((uint32_t)a, (uint32_t)b))
TEECERT_DATA_KERNEL2(teecert_k_u64_2, 8, 8, 8, op->fn.u64_2(a, b))
TEECERT_DATA_KERNEL2(teecert_k_u32_sh, 4, 8, 4, op->fn.u32_sh((uint32_t)a, b))
TEECERT_DATA_KERNEL1(teecert_k_u32_1, 4, 4, op->fn.u32_1((uint32_t)a))
TEECERT_DATA_KERNEL1(teecert_k_u64_1, 8, 8, op->fn.u64_1(a))
TEECERT_DATA_KERNEL1(teecert_k_u64_to_u32, 8, 4, op->fn.u64_to_u32(a))
TEECERT_DATA_KERNEL1(teecert_k_u32_to_u64, 4, 8, op->fn.u32_to_u64((uint32_t)a))
TEECERT_DATA_KERNEL1(teecert_k_i32_to_f64, 4, 8, op->fn.i32_to_f64((uint32_t)a, (int)op->rnd))
TEECERT_DATA_KERNEL1(teecert_k_i64_to_f64, 8, 8, op->fn.i64_to_f64(a, (int)op->rnd))
TEECERT_DATA_KERNEL1(teecert_k_i32_to_f32, 4, 4, op->fn.i32_to_f32((uint32_t)a, (int)op->rnd))
TEECERT_DATA_KERNEL1(teecert_k_i64_to_f32, 8, 4, op->fn.i64_to_f32(a, (int)op->rnd))

/* f64.to_dec: the text, NUL-padded to 32 bytes. */
static void teecert_k_to_dec(const struct teecert_op_desc *op, const unsigned char *in,
                             unsigned char *out, size_t n)
{
    size_t i;
    (void)op;
    for (i = 0; i < n; i++) {
        char text[TEECERT_DEC_BUF];
        memset(text, 0, sizeof text);
        teecert_f64_to_dec(teecert_le_ld(in + 8 * i, 8), text);
        memcpy(out + TEECERT_DEC_BUF * i, text, TEECERT_DEC_BUF);
    }
}

/* f64.from_dec: the text ends at the first NUL of its 1024-byte slot; out is the
   binary64 pattern then the status (0, or 1 for a syntax error with bits 0).
   TEECERT_F64_FROM_DEC is a seam for the broken-probe zoo (a parser that asks the C
   library, whose decimal point follows the locale). */
#ifndef TEECERT_F64_FROM_DEC
#define TEECERT_F64_FROM_DEC teecert_f64_from_dec
#endif
static void teecert_k_from_dec(const struct teecert_op_desc *op, const unsigned char *in,
                               unsigned char *out, size_t n)
{
    size_t i;
    (void)op;
    for (i = 0; i < n; i++) {
        const char *s = (const char *)in + TEECERT_DEC_TEXT_BYTES * i;
        /* memchr: the texts average hundreds of bytes, a byte-wise scan costs as much
           as the conversion */
        const char *end = (const char *)memchr(s, '\0', TEECERT_DEC_TEXT_BYTES);
        size_t len = end ? (size_t)(end - s) : TEECERT_DEC_TEXT_BYTES;
        uint64_t bits = 0, status;
        status = (uint64_t)TEECERT_F64_FROM_DEC(s, len, &bits);
        if (status != TEECERT_DEC_OK)
            bits = 0;
        teecert_le_st(out + 16 * i, bits, 8);
        teecert_le_st(out + 16 * i + 8, status, 8);
    }
}

/* rec.serialize: five u64 slots in, 24 bytes out. */
static void teecert_k_serialize(const struct teecert_op_desc *op, const unsigned char *in,
                                unsigned char *out, size_t n)
{
    size_t i;
    unsigned k;
    (void)op;
    for (i = 0; i < n; i++) {
        uint64_t slots[5];
        for (k = 0; k < 5; k++)
            slots[k] = teecert_le_ld(in + 40 * i + 8 * k, 8);
        TEECERT_SERIALIZE_RECORD(slots, out + 24 * i);
    }
}

/* u64.sort_stable: 64 big-endian items in, the same sorted out. */
static void teecert_k_sort(const struct teecert_op_desc *op, const unsigned char *in,
                           unsigned char *out, size_t n)
{
    size_t i, k;
    (void)op;
    for (i = 0; i < n; i++) {
        uint64_t items[TEECERT_SORT_ITEMS], scratch[TEECERT_SORT_ITEMS];
        for (k = 0; k < TEECERT_SORT_ITEMS; k++)
            items[k] = teecert_be_ld64(in + 8 * (TEECERT_SORT_ITEMS * i + k));
        TEECERT_SORT_U64(items, TEECERT_SORT_ITEMS, scratch);
        for (k = 0; k < TEECERT_SORT_ITEMS; k++)
            teecert_be_st64(out + 8 * (TEECERT_SORT_ITEMS * i + k), items[k]);
    }
}

/* hash.*: a u64 length (at most 512, checked before the call), then the message slot;
   only the first `length` bytes are the message. */
static void teecert_k_hash(const struct teecert_op_desc *op, const unsigned char *in,
                           unsigned char *out, size_t n)
{
    /* The whole batch at once: hashes.c may then hash several messages side by side. */
    (void)teecert_hash_batch(op->fn.hash, in, 8 + TEECERT_HASH_MSG_BYTES, n, out, op->out_size);
}

static int teecert_hash_lengths_ok(const unsigned char *in, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (teecert_le_ld(in + (8 + TEECERT_HASH_MSG_BYTES) * i, 8) > TEECERT_HASH_MSG_BYTES)
            return 0;
    return 1;
}

/* The data ops, in the order of teecert.ops.CATALOGUE (width and arity unused).
   A build with TEECERT_NO_DATA_OPS leaves them out, like a probe written before
   they existed: it declares none of them (the zoo's no_data_ops). */
#ifdef TEECERT_NO_DATA_OPS
#define TEECERT_DATA_OPS
#else
#define TEECERT_DATA_OPS \
    {"i32.add", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_2, 8, 4, {.u32_2 = teecert_i32_add}}, \
    {"i32.sub", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_2, 8, 4, {.u32_2 = teecert_i32_sub}}, \
    {"i32.mul", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_2, 8, 4, {.u32_2 = teecert_i32_mul}}, \
    {"i32.div_s", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_2, 8, 4, {.u32_2 = teecert_i32_div_s}}, \
    {"i32.rem_s", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_2, 8, 4, {.u32_2 = teecert_i32_rem_s}}, \
    {"i32.div_u", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_2, 8, 4, {.u32_2 = teecert_i32_div_u}}, \
    {"i32.rem_u", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_2, 8, 4, {.u32_2 = teecert_i32_rem_u}}, \
    {"i32.shl", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_sh, 12, 4, {.u32_sh = teecert_i32_shl}}, \
    {"i32.shr_u", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_sh, 12, 4, {.u32_sh = teecert_i32_shr_u}}, \
    {"i32.shr_s", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_sh, 12, 4, {.u32_sh = teecert_i32_shr_s}}, \
    {"i32.clz", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_1, 4, 4, {.u32_1 = teecert_i32_clz}}, \
    {"i32.ctz", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_1, 4, 4, {.u32_1 = teecert_i32_ctz}}, \
    {"i32.popcnt", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u32_1, 4, 4, {.u32_1 = teecert_i32_popcnt}}, \
    {"i64.add", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_2, 16, 8, {.u64_2 = teecert_i64_add}}, \
    {"i64.sub", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_2, 16, 8, {.u64_2 = teecert_i64_sub}}, \
    {"i64.mul", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_2, 16, 8, {.u64_2 = teecert_i64_mul}}, \
    {"i64.div_s", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_2, 16, 8, {.u64_2 = teecert_i64_div_s}}, \
    {"i64.rem_s", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_2, 16, 8, {.u64_2 = teecert_i64_rem_s}}, \
    {"i64.div_u", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_2, 16, 8, {.u64_2 = teecert_i64_div_u}}, \
    {"i64.rem_u", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_2, 16, 8, {.u64_2 = teecert_i64_rem_u}}, \
    {"i64.shl", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_2, 16, 8, {.u64_2 = teecert_i64_shl}}, \
    {"i64.shr_u", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_2, 16, 8, {.u64_2 = teecert_i64_shr_u}}, \
    {"i64.shr_s", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_2, 16, 8, {.u64_2 = teecert_i64_shr_s}}, \
    {"i64.clz", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_1, 8, 8, {.u64_1 = teecert_i64_clz}}, \
    {"i64.ctz", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_1, 8, 8, {.u64_1 = teecert_i64_ctz}}, \
    {"i64.popcnt", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_u64_1, 8, 8, {.u64_1 = teecert_i64_popcnt}}, \
    {"f32.to_i32_sat", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_u32_1, 4, 4, {.u32_1 = teecert_f32_to_i32_sat}}, \
    {"f32.to_i64_sat", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_u32_to_u64, 4, 8, {.u32_to_u64 = teecert_f32_to_i64_sat}}, \
    {"f32.to_u32_sat", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_u32_1, 4, 4, {.u32_1 = teecert_f32_to_u32_sat}}, \
    {"f32.to_u64_sat", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_u32_to_u64, 4, 8, {.u32_to_u64 = teecert_f32_to_u64_sat}}, \
    {"f64.to_i32_sat", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_u64_to_u32, 8, 4, {.u64_to_u32 = teecert_f64_to_i32_sat}}, \
    {"f64.to_i64_sat", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_u64_1, 8, 8, {.u64_1 = teecert_f64_to_i64_sat}}, \
    {"f64.to_u32_sat", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_u64_to_u32, 8, 4, {.u64_to_u32 = teecert_f64_to_u32_sat}}, \
    {"f64.to_u64_sat", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_u64_1, 8, 8, {.u64_1 = teecert_f64_to_u64_sat}}, \
    {"i32.to_f32.rne", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_i32_to_f32, 4, 4, {.i32_to_f32 = teecert_i32_to_f32}}, \
    {"i32.to_f32.rtz", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_i32_to_f32, 4, 4, {.i32_to_f32 = teecert_i32_to_f32}}, \
    {"i32.to_f32.rup", 64, TEECERT_OP_DATA, TEECERT_RND_RUP, 0, teecert_k_i32_to_f32, 4, 4, {.i32_to_f32 = teecert_i32_to_f32}}, \
    {"i32.to_f32.rdn", 64, TEECERT_OP_DATA, TEECERT_RND_RDN, 0, teecert_k_i32_to_f32, 4, 4, {.i32_to_f32 = teecert_i32_to_f32}}, \
    {"i32.to_f64.rne", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_i32_to_f64, 4, 8, {.i32_to_f64 = teecert_i32_to_f64}}, \
    {"i32.to_f64.rtz", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_i32_to_f64, 4, 8, {.i32_to_f64 = teecert_i32_to_f64}}, \
    {"i32.to_f64.rup", 64, TEECERT_OP_DATA, TEECERT_RND_RUP, 0, teecert_k_i32_to_f64, 4, 8, {.i32_to_f64 = teecert_i32_to_f64}}, \
    {"i32.to_f64.rdn", 64, TEECERT_OP_DATA, TEECERT_RND_RDN, 0, teecert_k_i32_to_f64, 4, 8, {.i32_to_f64 = teecert_i32_to_f64}}, \
    {"i64.to_f32.rne", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_i64_to_f32, 8, 4, {.i64_to_f32 = teecert_i64_to_f32}}, \
    {"i64.to_f32.rtz", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_i64_to_f32, 8, 4, {.i64_to_f32 = teecert_i64_to_f32}}, \
    {"i64.to_f32.rup", 64, TEECERT_OP_DATA, TEECERT_RND_RUP, 0, teecert_k_i64_to_f32, 8, 4, {.i64_to_f32 = teecert_i64_to_f32}}, \
    {"i64.to_f32.rdn", 64, TEECERT_OP_DATA, TEECERT_RND_RDN, 0, teecert_k_i64_to_f32, 8, 4, {.i64_to_f32 = teecert_i64_to_f32}}, \
    {"i64.to_f64.rne", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_i64_to_f64, 8, 8, {.i64_to_f64 = teecert_i64_to_f64}}, \
    {"i64.to_f64.rtz", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_i64_to_f64, 8, 8, {.i64_to_f64 = teecert_i64_to_f64}}, \
    {"i64.to_f64.rup", 64, TEECERT_OP_DATA, TEECERT_RND_RUP, 0, teecert_k_i64_to_f64, 8, 8, {.i64_to_f64 = teecert_i64_to_f64}}, \
    {"i64.to_f64.rdn", 64, TEECERT_OP_DATA, TEECERT_RND_RDN, 0, teecert_k_i64_to_f64, 8, 8, {.i64_to_f64 = teecert_i64_to_f64}}, \
    {"u64.to_f32.rne", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_i64_to_f32, 8, 4, {.i64_to_f32 = teecert_u64_to_f32}}, \
    {"u64.to_f32.rtz", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_i64_to_f32, 8, 4, {.i64_to_f32 = teecert_u64_to_f32}}, \
    {"u64.to_f32.rup", 64, TEECERT_OP_DATA, TEECERT_RND_RUP, 0, teecert_k_i64_to_f32, 8, 4, {.i64_to_f32 = teecert_u64_to_f32}}, \
    {"u64.to_f32.rdn", 64, TEECERT_OP_DATA, TEECERT_RND_RDN, 0, teecert_k_i64_to_f32, 8, 4, {.i64_to_f32 = teecert_u64_to_f32}}, \
    {"u64.to_f64.rne", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_i64_to_f64, 8, 8, {.i64_to_f64 = teecert_u64_to_f64}}, \
    {"u64.to_f64.rtz", 64, TEECERT_OP_DATA, TEECERT_RND_RTZ, 0, teecert_k_i64_to_f64, 8, 8, {.i64_to_f64 = teecert_u64_to_f64}}, \
    {"u64.to_f64.rup", 64, TEECERT_OP_DATA, TEECERT_RND_RUP, 0, teecert_k_i64_to_f64, 8, 8, {.i64_to_f64 = teecert_u64_to_f64}}, \
    {"u64.to_f64.rdn", 64, TEECERT_OP_DATA, TEECERT_RND_RDN, 0, teecert_k_i64_to_f64, 8, 8, {.i64_to_f64 = teecert_u64_to_f64}}, \
    {"f64.to_dec", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_to_dec, 8, TEECERT_DEC_BUF, {.none = 0}}, \
    {"f64.from_dec", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_from_dec, TEECERT_DEC_TEXT_BYTES, 16, {.none = 0}}, \
    {"rec.serialize", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_serialize, 40, 24, {.none = 0}}, \
    {"u64.sort_stable", 64, TEECERT_OP_DATA, TEECERT_RND_RNE, 0, teecert_k_sort, 8 * TEECERT_SORT_ITEMS, 8 * TEECERT_SORT_ITEMS, {.none = 0}}, \
    {"hash.sha256", 64, TEECERT_OP_HASH, TEECERT_RND_RNE, 0, teecert_k_hash, 8 + TEECERT_HASH_MSG_BYTES, 32, {.hash = "sha256"}}, \
    {"hash.sha512", 64, TEECERT_OP_HASH, TEECERT_RND_RNE, 0, teecert_k_hash, 8 + TEECERT_HASH_MSG_BYTES, 64, {.hash = "sha512"}}, \
    {"hash.sha3_256", 64, TEECERT_OP_HASH, TEECERT_RND_RNE, 0, teecert_k_hash, 8 + TEECERT_HASH_MSG_BYTES, 32, {.hash = "sha3_256"}}, \
    {"hash.keccak256", 64, TEECERT_OP_HASH, TEECERT_RND_RNE, 0, teecert_k_hash, 8 + TEECERT_HASH_MSG_BYTES, 32, {.hash = "keccak256"}}, \
    {"hash.blake2b512", 64, TEECERT_OP_HASH, TEECERT_RND_RNE, 0, teecert_k_hash, 8 + TEECERT_HASH_MSG_BYTES, 64, {.hash = "blake2b512"}}
#endif

/* In the order of teecert.ops.CATALOGUE. */
static const struct teecert_op_desc teecert_ops[] = {
    TEECERT_OP4("f32", 32, "add", TEECERT_OP_ADD, 2, teecert_add_f32),
    TEECERT_OP4("f32", 32, "sub", TEECERT_OP_SUB, 2, teecert_sub_f32),
    TEECERT_OP4("f32", 32, "mul", TEECERT_OP_MUL, 2, teecert_mul_f32),
    TEECERT_OP4("f32", 32, "div", TEECERT_OP_DIV, 2, teecert_div_f32),
    TEECERT_OP4("f32", 32, "sqrt", TEECERT_OP_SQRT, 1, teecert_sqrt_f32),
    TEECERT_OP4("f32", 32, "fma", TEECERT_OP_FMA, 3, teecert_fma_f32),
    TEECERT_OP4("f32", 32, "mul_add_unfused", TEECERT_OP_MUL_ADD_UNFUSED, 3, teecert_mul_add_unfused_f32),
    TEECERT_OP4("f64", 64, "add", TEECERT_OP_ADD, 2, teecert_add_f64),
    TEECERT_OP4("f64", 64, "sub", TEECERT_OP_SUB, 2, teecert_sub_f64),
    TEECERT_OP4("f64", 64, "mul", TEECERT_OP_MUL, 2, teecert_mul_f64),
    TEECERT_OP4("f64", 64, "div", TEECERT_OP_DIV, 2, teecert_div_f64),
    TEECERT_OP4("f64", 64, "sqrt", TEECERT_OP_SQRT, 1, teecert_sqrt_f64),
    TEECERT_OP4("f64", 64, "fma", TEECERT_OP_FMA, 3, teecert_fma_f64),
    TEECERT_OP4("f64", 64, "mul_add_unfused", TEECERT_OP_MUL_ADD_UNFUSED, 3, teecert_mul_add_unfused_f64),
    TEECERT_IEEE_EXTRA_OPS("f32", 32, f32),
    TEECERT_IEEE_EXTRA_OPS("f64", 64, f64),
    {"f64.to_f32.rne", 64, TEECERT_OP_CONVERT, TEECERT_RND_RNE, 1, teecert_f64_to_f32_k, 8, 4, {0}},
    {"f64.to_f32.rtz", 64, TEECERT_OP_CONVERT, TEECERT_RND_RTZ, 1, teecert_f64_to_f32_k, 8, 4, {0}},
    {"f64.to_f32.rup", 64, TEECERT_OP_CONVERT, TEECERT_RND_RUP, 1, teecert_f64_to_f32_k, 8, 4, {0}},
    {"f64.to_f32.rdn", 64, TEECERT_OP_CONVERT, TEECERT_RND_RDN, 1, teecert_f64_to_f32_k, 8, 4, {0}},
    {"f32.to_f64", 32, TEECERT_OP_CONVERT, TEECERT_RND_RNE, 1, teecert_f32_to_f64_k, 4, 8, {0}},
    TEECERT_LIBM_OPS("f32", 32, f32),
    TEECERT_LIBM_OPS("f64", 64, f64),
    TEECERT_DATA_OPS
};

#define TEECERT_NOPS (sizeof teecert_ops / sizeof teecert_ops[0])

static const struct teecert_op_desc *teecert_find_op(const char *id)
{
    size_t i;
    for (i = 0; i < TEECERT_NOPS; i++)
        if (strcmp(teecert_ops[i].id, id) == 0)
            return &teecert_ops[i];
    return 0;
}

/* ---------------------------------------------------------------- transcript */

static uint8_t teecert_transcript_hash[32];
static uint64_t teecert_transcript_calls;
static int teecert_transcript_ready;

static void teecert_transcript_start(void)
{
    static const char label[] = "teecert-transcript-v1";
    teecert_sha256(label, sizeof label - 1, teecert_transcript_hash);
    teecert_transcript_calls = 0;
    teecert_transcript_ready = 1;
}

/* T = SHA-256(T || u32le(len(op)) || op || u64le(n) || SHA-256(0x00 || out)) */
static void teecert_transcript_fold(const char *op, size_t n, const void *out, size_t out_bytes)
{
    static const uint8_t leaf_prefix = 0x00;
    teecert_sha256_ctx ctx;
    uint8_t leaf[32], len_le[4], n_le[8];
    uint32_t op_len = (uint32_t)strlen(op);
    uint64_t n64 = (uint64_t)n;
    int i;

    if (!teecert_transcript_ready)
        teecert_transcript_start();
    teecert_sha256_init(&ctx);
    teecert_sha256_update(&ctx, &leaf_prefix, 1);
    teecert_sha256_update(&ctx, out, out_bytes);
    teecert_sha256_final(&ctx, leaf);

    for (i = 0; i < 4; i++)
        len_le[i] = (uint8_t)(op_len >> (8 * i));
    for (i = 0; i < 8; i++)
        n_le[i] = (uint8_t)(n64 >> (8 * i));
    teecert_sha256_init(&ctx);
    teecert_sha256_update(&ctx, teecert_transcript_hash, 32);
    teecert_sha256_update(&ctx, len_le, 4);
    teecert_sha256_update(&ctx, op, op_len);
    teecert_sha256_update(&ctx, n_le, 8);
    teecert_sha256_update(&ctx, leaf, 32);
    teecert_sha256_final(&ctx, teecert_transcript_hash);
    teecert_transcript_calls++;
}

void teecert_probe_transcript(uint8_t out[32], uint64_t *calls)
{
    if (!teecert_transcript_ready)
        teecert_transcript_start();
    if (out)
        memcpy(out, teecert_transcript_hash, 32);
    if (calls)
        *calls = teecert_transcript_calls;
}

void teecert_probe_transcript_reset(void)
{
    teecert_transcript_start();
}

/* ------------------------------------------------------------------ ABI calls */

uint32_t teecert_probe_abi_version(void)
{
    return TEECERT_ABI_REPORTED;
}

int32_t teecert_probe_run(const char *op_id, const void *in, size_t in_bytes, void *out,
                          size_t out_bytes, size_t n)
{
    const struct teecert_op_desc *op;
    fenv_t saved;
    size_t width, per_vector;

    if (op_id == 0)
        return TEECERT_E_ARGS;
    /* Characterization ops (hwchar.c): raw hardware behaviour, recorded per
       platform, never consensus, so never folded into the transcript. */
    if (strncmp(op_id, "hw.", 3) == 0)
        return teecert_hw_run(op_id, in, in_bytes, out, out_bytes, n);
    op = teecert_find_op(op_id);
    if (op == 0)
        return TEECERT_E_ARGS;
    if (op->kernel == 0)
        return TEECERT_E_UNSUPPORTED;
    width = op->out_size ? op->out_size : op->width / 8;
    per_vector = op->in_size ? op->in_size : (op->width / 8) * op->arity;
    /* The buffers must be exactly n vectors long: a size that does not match is a
       caller bug (or a different op than the caller thinks), never truncated. */
    if (n > SIZE_MAX / per_vector || in_bytes != n * per_vector || out_bytes != n * width)
        return TEECERT_E_ARGS;
    /* A hash message longer than its slot: the whole call is refused, not clipped. */
    if (op->kind == TEECERT_OP_HASH && n > 0 && in != 0 &&
        !teecert_hash_lengths_ok((const unsigned char *)in, n))
        return TEECERT_E_ARGS;
    if (n > 0 && (in == 0 || out == 0))
        return TEECERT_E_ARGS;

    if (TEECERT_ENTER_FPENV(&saved, teecert_fe_rounding[op->rnd]) != 0)
        return TEECERT_E_INTERNAL;
    if (n > 0)
        op->kernel(op, (const unsigned char *)in, (unsigned char *)out, n);
    if (TEECERT_LEAVE_FPENV(&saved) != 0)
        return TEECERT_E_INTERNAL;

    teecert_transcript_fold(op->id, n, out, out_bytes);
    return TEECERT_OK;
}

uint64_t teecert_probe_fpenv_read(char *arch)
{
    if (arch) {
        memcpy(arch, TEECERT_FPENV_ARCH, sizeof TEECERT_FPENV_ARCH);
    }
    return teecert_fpenv_raw();
}

uint32_t teecert_probe_fpenv_poison(uint32_t what)
{
    uint32_t applied = 0;
    /* One rounding direction can be in force: toward zero wins if both are asked. */
    if (what & TEECERT_POISON_ROUND_ZERO) {
        if (fesetround(FE_TOWARDZERO) == 0)
            applied |= TEECERT_POISON_ROUND_ZERO;
    } else if (what & TEECERT_POISON_ROUND_UP) {
        if (fesetround(FE_UPWARD) == 0)
            applied |= TEECERT_POISON_ROUND_UP;
    }
    if ((what & TEECERT_POISON_FTZ_DAZ) && teecert_set_flush_modes())
        applied |= TEECERT_POISON_FTZ_DAZ;
    /* TEECERT_POISON_TRAPS is reserved: unmasking traps would turn the suites'
       invalid-operation vectors into SIGFPE, so nothing is applied. */
    return applied;
}

void teecert_probe_fpenv_reset(void)
{
    fesetenv(FE_DFL_ENV);
    teecert_clear_flush_modes();
}

int32_t teecert_probe_attest(const uint8_t report_data[64], uint8_t *evidence, size_t cap,
                             size_t *len, char *format)
{
    if (report_data == 0 || len == 0 || format == 0)
        return TEECERT_E_ARGS;
    if (evidence == 0 && cap > 0) {
        *len = 0;
        format[0] = '\0';
        return TEECERT_E_ARGS;
    }
    /* configfs-tsm (TDX, SEV-SNP), then /dev/nsm (Nitro), else unsupported: the
       simulated platform is the harness's own.  Evidence formats: attest.h. */
    return teecert_attest_collect(report_data, evidence, cap, len, format);
}

/* ------------------------------------------------------------ self-description */

struct teecert_json {
    char *buf;
    size_t cap, len;
    int overflow;
};

static void teecert_json_raw(struct teecert_json *j, const char *s)
{
    size_t k = strlen(s);
    if (j->len + k + 1 > j->cap) {
        j->overflow = 1;
        return;
    }
    memcpy(j->buf + j->len, s, k + 1);
    j->len += k;
}

static void teecert_json_str(struct teecert_json *j, const char *s)
{
    char tmp[8];
    teecert_json_raw(j, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)ch;
            tmp[2] = '\0';
        } else if (ch < 0x20) {
            snprintf(tmp, sizeof tmp, "\\u%04x", ch);
        } else {
            tmp[0] = (char)ch;
            tmp[1] = '\0';
        }
        teecert_json_raw(j, tmp);
    }
    teecert_json_raw(j, "\"");
}

static void teecert_json_key(struct teecert_json *j, const char *key)
{
    teecert_json_raw(j, j->len > 1 ? ", " : "");
    teecert_json_str(j, key);
    teecert_json_raw(j, ": ");
}

static void teecert_json_int(struct teecert_json *j, long v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%ld", v);
    teecert_json_raw(j, tmp);
}

static const char *teecert_arch_name(void)
{
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__i386__)
    return "i386";
#elif defined(__aarch64__)
    return "aarch64";
#elif defined(__arm__)
    return "arm";
#elif defined(__riscv) && defined(__riscv_xlen) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__riscv)
    return "riscv32";
#elif defined(__powerpc64__)
    return "ppc64";
#elif defined(__s390x__)
    return "s390x";
#else
    return "unknown";
#endif
}

static int teecert_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

static char teecert_description[8192];

/* Rebuilt on every call so that fpenv_at_entry is the caller's environment now;
   the pointer stays valid while the library is loaded. */
const char *teecert_probe_describe(void)
{
    struct teecert_json j;
    char hex[24];
    size_t i;
    int first = 1;

    j.buf = teecert_description;
    j.cap = sizeof teecert_description;
    j.len = 0;
    j.overflow = 0;
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)teecert_fpenv_raw());

    teecert_json_raw(&j, "{");
    teecert_json_key(&j, "name");
    teecert_json_str(&j, TEECERT_PROBE_NAME);
    teecert_json_key(&j, "version");
    teecert_json_str(&j, TEECERT_PROBE_VERSION);
    teecert_json_key(&j, "abi");
    teecert_json_int(&j, (long)TEECERT_ABI_REPORTED);
    teecert_json_key(&j, "compiler");
#if defined(__VERSION__)
    teecert_json_str(&j, __VERSION__);
#else
    teecert_json_str(&j, "unknown");
#endif
    teecert_json_key(&j, "cflags");
    teecert_json_str(&j, TEECERT_CFLAGS);
    teecert_json_key(&j, "flt_eval_method");
    teecert_json_int(&j, (long)FLT_EVAL_METHOD);
    teecert_json_key(&j, "ldbl_mant_dig");
    teecert_json_int(&j, (long)LDBL_MANT_DIG);
    teecert_json_key(&j, "ldbl_bytes");
    teecert_json_int(&j, (long)sizeof(long double));
    teecert_json_key(&j, "char_signed");
    teecert_json_raw(&j, CHAR_MIN < 0 ? "true" : "false");
    teecert_json_key(&j, "byte_order");
    teecert_json_str(&j, teecert_little_endian() ? "little" : "big");
    teecert_json_key(&j, "arch");
    teecert_json_str(&j, teecert_arch_name());
    teecert_json_key(&j, "fpenv_at_entry");
    teecert_json_str(&j, hex);
    teecert_json_key(&j, "ops");
    teecert_json_raw(&j, "[");
    for (i = 0; i < TEECERT_NOPS; i++) {
        if (teecert_ops[i].kernel == 0)
            continue; /* declared, not faked: an op without a kernel is not listed */
        teecert_json_raw(&j, first ? "" : ", ");
        teecert_json_str(&j, teecert_ops[i].id);
        first = 0;
    }
    teecert_json_raw(&j, "]");
    teecert_json_key(&j, "characterization_ops");
    teecert_json_raw(&j, "[");
    {
        const char *hw[32];
        size_t k, nhw = teecert_hw_ops(hw, 32);
        for (k = 0; k < nhw && k < 32; k++) {
            teecert_json_raw(&j, k ? ", " : "");
            teecert_json_str(&j, hw[k]);
        }
    }
    teecert_json_raw(&j, "]");
    teecert_json_key(&j, "attestation");
    teecert_json_str(&j, teecert_attest_technology()); /* "configfs-tsm", "nsm", "none" */
    teecert_json_key(&j, "transcript_sha256");
    teecert_json_str(&j, teecert_sha256_impl());
    teecert_json_raw(&j, "}");
    if (j.overflow)
        return "{\"error\": \"self-description does not fit its buffer\"}";
    return teecert_description;
}
