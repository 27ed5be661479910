/*
 * Candidate correctly rounded libm results, for the libm suite's tally of a chunk that
 * diverges (harness/certify/judge/libm.py).
 *
 * Each binary64 function is evaluated in long double, which on x86-64 has a 64-bit
 * significand (11 bits more than binary64) and whose glibc functions (expl, sinl,
 * powl, ...) are accurate to a few units of it; each binary32 one in double (29 bits
 * more).  The wide result is rounded to the target format (subnormal, overflowed and
 * NaN results included); a vector is flagged *ambiguous* whenever that rounding could
 * differ from the correct one: the wide result lies within 2^MARGIN_BITS units of its
 * last place of a rounding midpoint (or of the overflow threshold), or an operand is
 * not finite (where special rules of each function decide, which are MPFR's
 * business).  The caller computes the ambiguous ones exactly (MPFR) and trusts none
 * of it: the merged outputs must hash to the committed Merkle leaf of the correctly
 * rounded outputs, or are thrown away.  Where long double is not wide enough for
 * binary64 (LDBL_MANT_DIG too close to 53, e.g. where long double is double) the
 * functions say so and compute nothing.
 *
 * The caller's floating-point environment (rounding mode, x87 precision control,
 * FTZ/DAZ, sticky flags) is saved, the default one installed for the computation, and
 * the caller's put back: a caller's rounding mode or flush-to-zero would change the
 * wide results, and the computation must leave no flags behind.
 */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef long double wide;
#define WIDE_DIG LDBL_MANT_DIG

/* Units of the wide last place between a wide result and a rounding midpoint below
   which the rounding is left to MPFR.  glibc's long double functions are documented
   within 4 units (libm-test-ulps), and measured within 2.2 on the libm streams; a
   rounding decided wrongly costs a fallback to MPFR, never a wrong result. */
#define MARGIN_BITS 4
/* The same for the error approximations of teecert_libm_diff (and their binade),
   which nothing checks but their own bound: wider. */
#define ERR_MARGIN_BITS 6

enum {
    F_EXP, F_EXPM1, F_LOG, F_LOG1P, F_LOG2, F_LOG10, F_SIN, F_COS, F_TAN, F_ASIN,
    F_ACOS, F_ATAN, F_SINH, F_COSH, F_TANH, F_CBRT, F_ERF, F_POW, F_ATAN2, F_HYPOT,
    F_COUNT
};

static const char *const NAMES[F_COUNT] = {
    "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan", "asin",
    "acos", "atan", "sinh", "cosh", "tanh", "cbrt", "erf", "pow", "atan2", "hypot",
};

static int fn_index(const char *name)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strcmp(name, NAMES[i]) == 0)
            return i;
    return -1;
}

static int arity_of(int f) { return f >= F_POW ? 2 : 1; }

static wide eval(int f, wide x, wide y)
{
    switch (f) {
    case F_EXP: return expl(x);
    case F_EXPM1: return expm1l(x);
    case F_LOG: return logl(x);
    case F_LOG1P: return log1pl(x);
    case F_LOG2: return log2l(x);
    case F_LOG10: return log10l(x);
    case F_SIN: return sinl(x);
    case F_COS: return cosl(x);
    case F_TAN: return tanl(x);
    case F_ASIN: return asinl(x);
    case F_ACOS: return acosl(x);
    case F_ATAN: return atanl(x);
    case F_SINH: return sinhl(x);
    case F_COSH: return coshl(x);
    case F_TANH: return tanhl(x);
    case F_CBRT: return cbrtl(x);
    case F_ERF: return erfl(x);
    case F_POW: return powl(x, y);
    case F_ATAN2: return atan2l(x, y);
    case F_HYPOT: return hypotl(x, y);
    default: return NAN;
    }
}

/* binary32 is evaluated in double: its 29 extra bits are as good a margin as long
   double's, and glibc's double functions (within a unit or two of double) are several
   times faster than the long double ones. */
static double eval_double(int f, double x, double y)
{
    switch (f) {
    case F_EXP: return exp(x);
    case F_EXPM1: return expm1(x);
    case F_LOG: return log(x);
    case F_LOG1P: return log1p(x);
    case F_LOG2: return log2(x);
    case F_LOG10: return log10(x);
    case F_SIN: return sin(x);
    case F_COS: return cos(x);
    case F_TAN: return tan(x);
    case F_ASIN: return asin(x);
    case F_ACOS: return acos(x);
    case F_ATAN: return atan(x);
    case F_SINH: return sinh(x);
    case F_COSH: return cosh(x);
    case F_TANH: return tanh(x);
    case F_CBRT: return cbrt(x);
    case F_ERF: return erf(x);
    case F_POW: return pow(x, y);
    case F_ATAN2: return atan2(x, y);
    case F_HYPOT: return hypot(x, y);
    default: return NAN;
    }
}

/* Significand bits of the type a target of `width` bits is evaluated in. */
static int digits_of(uint32_t width) { return width == 32 ? DBL_MANT_DIG : WIDE_DIG; }

/* Target format of `width` bits: its precision, and whether the type it is evaluated
   in has room for the margins between the target's midpoints (0 when it has not). */
static int precision_of(uint32_t width)
{
    int p = width == 64 ? DBL_MANT_DIG : width == 32 ? FLT_MANT_DIG : 0;
    return p != 0 && digits_of(width) - p >= ERR_MARGIN_BITS + 4 ? p : 0;
}

static wide operand(uint32_t width, const unsigned char *in, uint64_t i, int k, int arity,
                    int *finite)
{
    if (width == 64) {
        double d;
        memcpy(&d, in + 8 * (i * (uint64_t)arity + (uint64_t)k), 8);
        *finite &= isfinite(d) != 0;
        return d;
    }
    float s;
    memcpy(&s, in + 4 * (i * (uint64_t)arity + (uint64_t)k), 4);
    *finite &= isfinite(s) != 0;
    return s;
}

/* The wide value of vector i; 0 in *finite when an operand is not finite. */
static wide value_at(int f, uint32_t width, const unsigned char *in, uint64_t i, int *finite)
{
    int arity = arity_of(f);
    *finite = 1;
    wide x = operand(width, in, i, 0, arity, finite);
    wide y = arity == 2 ? operand(width, in, i, 1, arity, finite) : 0;
    return width == 32 ? eval_double(f, (double)x, (double)y) : eval(f, x, y);
}

/* One unit in the last place of v (finite, non-zero) in the type that a target of
   `width` bits is evaluated in. */
static wide wide_unit(uint32_t width, wide v)
{
    return ldexpl(1.0L, ilogbl(v) - (digits_of(width) - 1));
}

static void store(uint32_t width, unsigned char *out, uint64_t i, wide r)
{
    if (width == 64) {
        double d = (double)r;
        memcpy(out + 8 * i, &d, 8);
    } else {
        float s = (float)r;
        memcpy(out + 4 * i, &s, 4);
    }
}

/* Round v, the wide value at finite operands, to the target of precision p; 1 when
   the rounding is ambiguous (nothing stored then).  A NaN is a domain error (the
   canonical NaN), an infinity an exact infinity or an overflow beyond even the wide
   range; an overflow or underflow of the target is decided here, with its own
   thresholds, rather than left to the conversion. */
static int round_to(uint32_t width, int p, wide v, unsigned char *out, uint64_t i)
{
    if (isnan(v)) {
        if (width == 64) {
            uint64_t nan = UINT64_C(0x7ff8000000000000);
            memcpy(out + 8 * i, &nan, 8);
        } else {
            uint32_t nan = UINT32_C(0x7fc00000);
            memcpy(out + 4 * i, &nan, 4);
        }
        return 0;
    }
    if (isinf(v)) {
        store(width, out, i, v);
        return 0;
    }
    int emin = width == 64 ? DBL_MIN_EXP - 1 : FLT_MIN_EXP - 1;
    int emax = width == 64 ? DBL_MAX_EXP - 1 : FLT_MAX_EXP - 1;
    int qmin = emin - (p - 1);
    wide av = fabsl(v);
    wide margin = v == 0 ? 0 : ldexpl(wide_unit(width, v), MARGIN_BITS);
    if (av < ldexpl(1.0L, emin + 1)) {
        /* the grid of the subnormals and of the smallest binade: multiples of 2^qmin */
        wide r = ldexpl(av, -qmin);
        wide k = floorl(r);
        if (fabsl(r - (k + 0.5L)) <= ldexpl(margin, -qmin))
            return 1;
        if (r > k + 0.5L)
            k += 1;
        store(width, out, i, copysignl(ldexpl(k, qmin), v));
        return 0;
    }
    wide top = width == 64 ? (wide)DBL_MAX : (wide)FLT_MAX;
    if (av > top) {
        /* beyond the largest finite value: the overflow threshold (2 - 2^-p) 2^emax */
        wide t = ldexpl(2.0L - ldexpl(1.0L, -p), emax);
        if (fabsl(av - t) <= margin)
            return 1;
        store(width, out, i, copysignl(av > t ? (wide)INFINITY : top, v));
        return 0;
    }
    wide mid;
    if (width == 64) {
        double d = (double)v;
        wide r = v - (wide)d; /* exact: both on v's wide grid, |r| below a target ulp */
        if (r == 0) {
            memcpy(out + 8 * i, &d, 8);
            return 0;
        }
        /* exact: one bit more than binary64 */
        mid = ((wide)d + (wide)nextafter(d, r > 0 ? INFINITY : -INFINITY)) / 2;
    } else {
        float s = (float)v;
        wide r = v - (wide)s;
        if (r == 0) {
            memcpy(out + 4 * i, &s, 4);
            return 0;
        }
        mid = ((wide)s + (wide)nextafterf(s, r > 0 ? INFINITY : -INFINITY)) / 2;
    }
    if (fabsl(v - mid) <= margin)
        return 1;
    store(width, out, i, v);
    return 0;
}

/*
 * Candidate correctly rounded outputs of function `name` over n vectors of `in`
 * (probe-ABI layout: the operands of each vector back to back, native byte order,
 * uint32_t for width 32, uint64_t for width 64) into `out` (n outputs, same layout);
 * the indices of the ambiguous vectors, whose outputs are left untouched, go to
 * amb[0 .. k-1].  Returns k, or -1 for an unknown function or width, or when long
 * double is not wide enough for the width.
 */
int64_t teecert_libm_cr(const char *name, uint32_t width, const void *in, uint64_t n,
                        void *out, uint32_t *amb)
{
    int f = fn_index(name);
    int p = precision_of(width);
    if (f < 0 || p == 0)
        return -1;
    fenv_t saved;
    fegetenv(&saved);
    fesetenv(FE_DFL_ENV);
    int64_t k = 0;
    for (uint64_t i = 0; i < n; i++) {
        int finite;
        wide v = value_at(f, width, in, i, &finite);
        /* special operands follow rules of their own (pow(x, 0) = 1 for a NaN x, ...) */
        if (!finite || round_to(width, p, v, out, i))
            amb[k++] = (uint32_t)i;
    }
    fesetenv(&saved);
    return k;
}

/*
 * The vectors whose outputs `a` and `b` (n outputs each, width bits) differ bit for
 * bit: their indices into idx[0 .. k-1] and, in err[0 .. k-1], an approximation of
 * the error of b's output in ULPs of the exact value v of `name` (the definition of
 * harness/reference/libm.py: ulp_error): |b - v| / 2^(floor(log2|v|) - (p - 1)), v
 * evaluated as teecert_libm_cr evaluates it.  NaN where the approximation is not
 * reliable: an operand or b's output not finite, v not finite, zero, near the
 * subnormal range or overflow, or within the margin of a power of two (where
 * floor(log2|v|) is in doubt).  Its
 * error is at most teecert_libm_err_bound(width) + err * 2^-50.  Returns k, or -1 as
 * teecert_libm_cr.
 */
int64_t teecert_libm_diff(const char *name, uint32_t width, const void *in, const void *a,
                          const void *b, uint64_t n, uint32_t *idx, double *err)
{
    int f = fn_index(name);
    int p = precision_of(width);
    if (f < 0 || p == 0)
        return -1;
    const unsigned char *pa = a, *pb = b;
    size_t size = width / 8;
    fenv_t saved;
    fegetenv(&saved);
    fesetenv(FE_DFL_ENV);
    int64_t k = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (memcmp(pa + size * i, pb + size * i, size) == 0)
            continue;
        int finite;
        wide v = value_at(f, width, in, i, &finite);
        wide av = fabsl(v);
        /* twice the smallest normal, half the largest finite value: within these the
           ULP is the binade's, and the rounding in no doubt about the binade */
        wide tiny = width == 64 ? 2 * (wide)DBL_MIN : 2 * (wide)FLT_MIN;
        wide huge = width == 64 ? (wide)DBL_MAX / 2 : (wide)FLT_MAX / 2;
        int ok = finite && isfinite(v) && av >= tiny && av <= huge;
        wide got;
        if (width == 64) {
            double d;
            memcpy(&d, pb + 8 * i, 8);
            got = d;
        } else {
            float s;
            memcpy(&s, pb + 4 * i, 4);
            got = s;
        }
        double e = NAN;
        if (ok && isfinite(got)) {
            int ex = ilogbl(v);
            wide margin = ldexpl(wide_unit(width, v), ERR_MARGIN_BITS);
            if (av - ldexpl(1.0L, ex) > margin && ldexpl(1.0L, ex + 1) - av > margin)
                e = (double)ldexpl(fabsl(got - v), -(ex - (p - 1)));
        }
        idx[k] = (uint32_t)i;
        err[k] = e;
        k++;
    }
    fesetenv(&saved);
    return k;
}

/* The absolute part of teecert_libm_diff's error bound, in target ULPs:
   2^ERR_MARGIN_BITS units of v in the type it is evaluated in; -1 where that is not
   wide enough for the width. */
double teecert_libm_err_bound(uint32_t width)
{
    int p = precision_of(width);
    return p == 0 ? -1.0 : ldexp(1.0, ERR_MARGIN_BITS + p - digits_of(width));
}
