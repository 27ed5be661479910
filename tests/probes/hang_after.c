/*
 * Broken probe for the deadline of in-process calls: the reference probe, except
 * that once TEECERT_ZOO_HANG_OP (default f64.div.rne) has been run
 * TEECERT_ZOO_HANG_AFTER times (default 1), every later run of it never returns.
 * Loading, describing and every other op behave, so the hang comes in the middle of
 * a run, after tests have passed.  Nothing can interrupt such a call; the harness
 * must end the process with one line naming the op and the deadline.  (The loop
 * sleeps, and gives up after ten minutes, so a harness that fails to end it does
 * not keep a core busy, nor a stray process, for ever.)
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <time.h>

#ifndef TEECERT_ZOO_HANG_OP
#define TEECERT_ZOO_HANG_OP "f64.div.rne"
#endif
#ifndef TEECERT_ZOO_HANG_AFTER
#define TEECERT_ZOO_HANG_AFTER 1
#endif

#define TEECERT_PROBE_NAME "teecert-zoo-hang-after"
/* The reference run, under another name: the exported one below wraps it. */
#define teecert_probe_run teecert_zoo_reference_run
#include "probe.c"
#undef teecert_probe_run

__attribute__((visibility("default"))) int32_t teecert_probe_run(
    const char *op_id, const void *in, size_t in_bytes, void *out, size_t out_bytes, size_t n);

int32_t teecert_probe_run(const char *op_id, const void *in, size_t in_bytes, void *out,
                          size_t out_bytes, size_t n)
{
    static unsigned long runs;

    if (op_id != 0 && strcmp(op_id, TEECERT_ZOO_HANG_OP) == 0 && ++runs > TEECERT_ZOO_HANG_AFTER) {
        time_t start = time(0);
        struct timespec tick = {0, 10 * 1000 * 1000};
        while (time(0) - start < 600)
            nanosleep(&tick, 0);
    }
    return teecert_zoo_reference_run(op_id, in, in_bytes, out, out_bytes, n);
}
