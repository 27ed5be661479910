/*
 * Broken probe: trusts n.  It takes the buffer sizes from n and the op instead of
 * checking the sizes the caller gave, so a short buffer is read or written past its
 * end and a long one silently truncated -- where the ABI requires TEECERT_E_ARGS.
 * Every call with the right sizes (all of a normal run) is computed correctly.
 */
#include <string.h>

#define teecert_probe_run teecert_zoo_real_run
#define TEECERT_PROBE_NAME "teecert-zoo-lenient-args"

#include "probe.c"

#undef teecert_probe_run

__attribute__((visibility("default"))) int32_t teecert_probe_run(const char *op_id, const void *in,
                                                                 size_t in_bytes, void *out,
                                                                 size_t out_bytes, size_t n)
{
    const struct teecert_op_desc *op = op_id ? teecert_find_op(op_id) : 0;
    if (op != 0 && op->kernel != 0) {
        size_t width = op->out_size ? op->out_size : op->width / 8;
        size_t per_vector = op->in_size ? op->in_size : (op->width / 8) * op->arity;
        in_bytes = n * per_vector; /* the bug: the caller's sizes are not checked */
        out_bytes = n * width;
    }
    return teecert_zoo_real_run(op_id, in, in_bytes, out, out_bytes, n);
}
