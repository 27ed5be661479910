/*
 * Characterization ops of the reference probe (hwchar.c): ids "hw.*", dispatched
 * from teecert_probe_run, never folded into the transcript.
 */
#ifndef TEECERT_HWCHAR_H
#define TEECERT_HWCHAR_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h" /* TEECERT_INTERNAL */

/* Run characterization op `op_id` over n vectors of 8-byte slots; status codes as
   teecert_probe_run (TEECERT_E_ARGS for an unknown hw op or wrong sizes,
   TEECERT_E_UNSUPPORTED where this build or CPU has no such instruction). */
TEECERT_INTERNAL int32_t teecert_hw_run(const char *op_id, const void *in, size_t in_bytes,
                                        void *out, size_t out_bytes, size_t n);

/* The ids this build and CPU can run: writes at most `cap` to ids, returns how many
   there are. */
TEECERT_INTERNAL size_t teecert_hw_ops(const char **ids, size_t cap);

#endif /* TEECERT_HWCHAR_H */
