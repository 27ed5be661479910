/*
 * Characterization ops of the reference probe: raw hardware behaviour behind the
 * consensus semantics (docs/ops.md, "Characterization ops").
 *
 * Consensus ops hide what the hardware does: NaNs are canonicalized, conversions
 * are defined.  These ops show it, so that a report records how each platform
 * differs underneath: which NaN 0/0 gives, which operand's payload survives an
 * operation on two NaNs, what a float-to-int conversion instruction returns for
 * NaN and out-of-range values, what count-leading-zeros gives for 0.  Their results
 * are recorded per platform and are never part of a consensus root or of the
 * probe's transcript.
 *
 * Every value travels in an 8-byte slot (binary32 values and 32-bit integers in its
 * low half, zero-extended).  The operations are written as inline assembly on
 * x86-64, AArch64 and RISC-V so that the compiler can neither fold them nor swap
 * the operands of a commutative operation (which operand's NaN survives is the
 * point); elsewhere they fall back to plain C on volatile operands, except the
 * conversions and clz, whose C forms are undefined for the inputs that matter and
 * are reported unsupported instead.
 */
#include <fenv.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clocks.h"
#include "fpenv.h"
#include "hwchar.h"
#include "teecert_probe.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HW_X86 1
#include <cpuid.h>
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define HW_ARM 1
#elif defined(__riscv) && defined(__riscv_flen) && __riscv_flen >= 64 && __riscv_xlen == 64 && \
    (defined(__GNUC__) || defined(__clang__))
#define HW_RISCV 1
#endif

enum hw_kind { HW_ADD, HW_MUL, HW_DIV, HW_SQRT, HW_TO_I32, HW_TO_I64, HW_CLZ32, HW_CLOCK_SAMPLE,
               HW_CLOCK_INFO };

struct hw_op {
    const char *id;
    enum hw_kind kind;
    unsigned width; /* of the floating-point operands: 32 or 64; 0 for integer ops */
    unsigned arity;
};

static const struct hw_op hw_ops[] = {
    {"hw.f64.add", HW_ADD, 64, 2},    {"hw.f64.mul", HW_MUL, 64, 2},
    {"hw.f64.div", HW_DIV, 64, 2},    {"hw.f64.sqrt", HW_SQRT, 64, 1},
    {"hw.f32.add", HW_ADD, 32, 2},    {"hw.f32.div", HW_DIV, 32, 2},
    {"hw.f64.to_i32", HW_TO_I32, 64, 1}, {"hw.f64.to_i64", HW_TO_I64, 64, 1},
    {"hw.u32.clz", HW_CLZ32, 0, 1},
    /* clocks.c: every input slot holds the clock id; sample fills the n outputs with
       n consecutive reads, info (n == 2) gives resolution_ns and ticks_per_second */
    {"hw.clock.sample", HW_CLOCK_SAMPLE, 0, 1}, {"hw.clock.info", HW_CLOCK_INFO, 0, 1},
};
#define HW_NOPS (sizeof hw_ops / sizeof hw_ops[0])

static double f64_of(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static uint64_t bits_of_f64(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static float f32_of(uint64_t slot)
{
    uint32_t b = (uint32_t)slot;
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static uint64_t bits_of_f32(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

#if HW_X86
static int hw_has_lzcnt(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000001u, &a, &b, &c, &d))
        return 0;
    return (c >> 5) & 1u; /* ABM / LZCNT */
}
#endif

/* 1 when this build and CPU can run the op. */
static int hw_available(const struct hw_op *op)
{
    switch (op->kind) {
    case HW_TO_I32:
    case HW_TO_I64:
#if HW_X86 || HW_ARM || HW_RISCV
        return 1;
#else
        return 0;
#endif
    case HW_CLZ32:
#if HW_X86
        return hw_has_lzcnt();
#elif HW_ARM
        return 1;
#elif HW_RISCV && defined(__riscv_zbb)
        return 1;
#else
        return 0;
#endif
    default:
        return 1;
    }
}

static uint64_t hw_f64(enum hw_kind k, uint64_t x, uint64_t y)
{
    double a = f64_of(x), b = f64_of(y);
#if HW_X86
    switch (k) {
    case HW_ADD: __asm__ __volatile__("addsd %1, %0" : "+x"(a) : "x"(b)); break;
    case HW_MUL: __asm__ __volatile__("mulsd %1, %0" : "+x"(a) : "x"(b)); break;
    case HW_DIV: __asm__ __volatile__("divsd %1, %0" : "+x"(a) : "x"(b)); break;
    default: __asm__ __volatile__("sqrtsd %1, %0" : "=x"(a) : "x"(a)); break;
    }
#elif HW_ARM
    switch (k) {
    case HW_ADD: __asm__ __volatile__("fadd %d0, %d1, %d2" : "=w"(a) : "w"(a), "w"(b)); break;
    case HW_MUL: __asm__ __volatile__("fmul %d0, %d1, %d2" : "=w"(a) : "w"(a), "w"(b)); break;
    case HW_DIV: __asm__ __volatile__("fdiv %d0, %d1, %d2" : "=w"(a) : "w"(a), "w"(b)); break;
    default: __asm__ __volatile__("fsqrt %d0, %d1" : "=w"(a) : "w"(a)); break;
    }
#elif HW_RISCV
    switch (k) {
    case HW_ADD: __asm__ __volatile__("fadd.d %0, %1, %2, rne" : "=f"(a) : "f"(a), "f"(b)); break;
    case HW_MUL: __asm__ __volatile__("fmul.d %0, %1, %2, rne" : "=f"(a) : "f"(a), "f"(b)); break;
    case HW_DIV: __asm__ __volatile__("fdiv.d %0, %1, %2, rne" : "=f"(a) : "f"(a), "f"(b)); break;
    default: __asm__ __volatile__("fsqrt.d %0, %1, rne" : "=f"(a) : "f"(a)); break;
    }
#else
    {
        volatile double va = a, vb = b;
        switch (k) {
        case HW_ADD: a = va + vb; break;
        case HW_MUL: a = va * vb; break;
        case HW_DIV: a = va / vb; break;
        default: a = sqrt(va); break; /* the platform's sqrt, as it comes */
        }
        }
    }
#endif
    return bits_of_f64(a);
}

static uint64_t hw_f32(enum hw_kind k, uint64_t x, uint64_t y)
{
    float a = f32_of(x), b = f32_of(y);
#if HW_X86
    if (k == HW_ADD)
        __asm__ __volatile__("addss %1, %0" : "+x"(a) : "x"(b));
    else
        __asm__ __volatile__("divss %1, %0" : "+x"(a) : "x"(b));
#elif HW_ARM
    if (k == HW_ADD)
        __asm__ __volatile__("fadd %s0, %s1, %s2" : "=w"(a) : "w"(a), "w"(b));
    else
        __asm__ __volatile__("fdiv %s0, %s1, %s2" : "=w"(a) : "w"(a), "w"(b));
#elif HW_RISCV
    if (k == HW_ADD)
        __asm__ __volatile__("fadd.s %0, %1, %2, rne" : "=f"(a) : "f"(a), "f"(b));
    else
        __asm__ __volatile__("fdiv.s %0, %1, %2, rne" : "=f"(a) : "f"(a), "f"(b));
#else
    {
        volatile float va = a, vb = b;
        a = (k == HW_ADD) ? va + vb : va / vb;
    }
#endif
    return bits_of_f32(a);
}

static uint64_t hw_to_int(enum hw_kind k, uint64_t x)
{
    double a = f64_of(x);
#if HW_X86
    if (k == HW_TO_I32) {
        int32_t r;
        __asm__ __volatile__("cvttsd2si %1, %0" : "=r"(r) : "x"(a));
        return (uint32_t)r;
    } else {
        int64_t r;
        __asm__ __volatile__("cvttsd2si %1, %0" : "=r"(r) : "x"(a));
        return (uint64_t)r;
    }
#elif HW_ARM
    if (k == HW_TO_I32) {
        int32_t r;
        __asm__ __volatile__("fcvtzs %w0, %d1" : "=r"(r) : "w"(a));
        return (uint32_t)r;
    } else {
        int64_t r;
        __asm__ __volatile__("fcvtzs %x0, %d1" : "=r"(r) : "w"(a));
        return (uint64_t)r;
    }
#elif HW_RISCV
    if (k == HW_TO_I32) {
        long r;
        __asm__ __volatile__("fcvt.w.d %0, %1, rtz" : "=r"(r) : "f"(a));
        return (uint32_t)r;
    } else {
        long r;
        __asm__ __volatile__("fcvt.l.d %0, %1, rtz" : "=r"(r) : "f"(a));
        return (uint64_t)r;
    }
#else
    (void)k;
    (void)a;
    return 0; /* not reached: hw_available() says unsupported */
#endif
}

static uint64_t hw_clz32(uint64_t x)
{
    uint32_t v = (uint32_t)x, r = 0;
#if HW_X86
    __asm__ __volatile__("lzcnt %1, %0" : "=r"(r) : "r"(v));
#elif HW_ARM
    __asm__ __volatile__("clz %w0, %w1" : "=r"(r) : "r"(v));
#elif HW_RISCV && defined(__riscv_zbb)
    {
        unsigned long t;
        __asm__ __volatile__("clzw %0, %1" : "=r"(t) : "r"((unsigned long)v));
        r = (uint32_t)t;
    }
#else
    (void)v;
#endif
    return r;
}

static const struct hw_op *hw_find(const char *id)
{
    size_t i;
    for (i = 0; i < HW_NOPS; i++)
        if (strcmp(hw_ops[i].id, id) == 0)
            return &hw_ops[i];
    return 0;
}

static uint64_t ld_slot(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

int32_t teecert_hw_run(const char *op_id, const void *in, size_t in_bytes, void *out,
                       size_t out_bytes, size_t n)
{
    const struct hw_op *op = hw_find(op_id);
    const unsigned char *src = in;
    unsigned char *dst = out;
    fenv_t saved;
    size_t i;

    if (op == 0)
        return TEECERT_E_ARGS;
    if (!hw_available(op))
        return TEECERT_E_UNSUPPORTED;
    if (n > SIZE_MAX / (8u * op->arity) || in_bytes != n * 8u * op->arity || out_bytes != n * 8u)
        return TEECERT_E_ARGS;
    if (n > 0 && (in == 0 || out == 0))
        return TEECERT_E_ARGS;
    if (op->kind == HW_CLOCK_SAMPLE || op->kind == HW_CLOCK_INFO) {
        uint64_t id = n > 0 ? ld_slot(src) : 0, v[2];
        int rc;
        if (n == 0 || id > 0xffffu)
            return n == 0 ? TEECERT_OK : TEECERT_E_UNSUPPORTED;
        if (op->kind == HW_CLOCK_SAMPLE) {
            uint64_t *tmp = malloc(n * sizeof *tmp);
            if (tmp == 0)
                return TEECERT_E_INTERNAL;
            rc = teecert_clock_sample((unsigned)id, tmp, n);
            if (rc == TEECERT_OK)
                memcpy(dst, tmp, n * sizeof *tmp);
            free(tmp);
            return rc;
        }
        if (n != 2)
            return TEECERT_E_ARGS;
        rc = teecert_clock_info((unsigned)id, &v[0], &v[1]);
        if (rc == TEECERT_OK)
            memcpy(dst, v, sizeof v);
        return rc;
    }
    /* The default environment, as for consensus ops: what is characterized is the
       hardware, not whatever mode the caller left behind. */
    if (fegetenv(&saved) != 0 || fesetenv(FE_DFL_ENV) != 0)
        return TEECERT_E_INTERNAL;
    teecert_clear_flush_modes();
    for (i = 0; i < n; i++) {
        uint64_t x = ld_slot(src + i * 8u * op->arity);
        uint64_t y = op->arity > 1 ? ld_slot(src + i * 8u * op->arity + 8u) : 0;
        uint64_t r;
        switch (op->kind) {
        case HW_TO_I32:
        case HW_TO_I64: r = hw_to_int(op->kind, x); break;
        case HW_CLZ32: r = hw_clz32(x); break;
        default: r = op->width == 32 ? hw_f32(op->kind, x, y) : hw_f64(op->kind, x, y); break;
        }
        memcpy(dst + i * 8u, &r, sizeof r);
    }
    if (fesetenv(&saved) != 0)
        return TEECERT_E_INTERNAL;
    return TEECERT_OK;
}

size_t teecert_hw_ops(const char **ids, size_t cap)
{
    size_t i, k = 0;
    for (i = 0; i < HW_NOPS; i++) {
        if (!hw_available(&hw_ops[i]))
            continue;
        if (k < cap)
            ids[k] = hw_ops[i].id;
        k++;
    }
    return k;
}
