/*
 * teecert probe ABI, version 1.
 *
 * A probe is a shared library that stands in for a consensus runtime's arithmetic.
 * The harness loads it (cffi, in process) or reaches it through the probe host.
 * Every call is batch oriented: one call runs one op over N vectors.
 *
 * Conventions
 *  - Values are IEEE 754 bit patterns in the machine's native byte order in memory
 *    (the harness only supports little-endian hosts in process; the wire protocol
 *    fixes little-endian).  f32 values are uint32_t, f64 values are uint64_t.
 *  - Inputs are "array of structures": vector i of an op with arity A occupies
 *    in[i*A + 0 .. i*A + A-1].  Outputs: out[i].
 *  - Op ids are the strings of docs/ops.md ("f64.fma.rne").
 *  - The probe keeps no pointer to caller memory after a call returns.
 *  - Every function may be called from one thread at a time (the harness serializes).
 *
 * The full description, with the JSON schema of teecert_probe_describe(), is in
 * docs/probe-abi.md.
 */
#ifndef TEECERT_PROBE_H
#define TEECERT_PROBE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TEECERT_PROBE_ABI_VERSION 1u

/* Status codes returned by teecert_probe_run / teecert_probe_attest. */
#define TEECERT_OK 0
#define TEECERT_E_UNSUPPORTED 1 /* op not implemented by this probe (declared, not faked) */
#define TEECERT_E_ARGS 2        /* null pointer, bad size, unknown op string */
#define TEECERT_E_INTERNAL 3    /* the probe failed; the outputs are undefined */

/* FP environment poison bits for teecert_probe_fpenv_poison(). */
#define TEECERT_POISON_ROUND_UP 0x1u   /* rounding direction toward +inf */
#define TEECERT_POISON_ROUND_ZERO 0x2u /* rounding direction toward zero */
#define TEECERT_POISON_FTZ_DAZ 0x4u    /* flush-to-zero and denormals-are-zero where the CPU has them */
#define TEECERT_POISON_TRAPS 0x8u      /* reserved: unmask no traps, recorded only */

/* ABI version the probe was built against; the harness refuses anything but 1. */
uint32_t teecert_probe_abi_version(void);

/*
 * Self-description: a NUL-terminated UTF-8 JSON object that lives as long as the
 * library is loaded.  Keys (docs/probe-abi.md): "name", "version", "abi", "compiler",
 * "cflags", "flt_eval_method", "ldbl_mant_dig", "char_signed", "byte_order",
 * "fpenv_at_entry" (hex string), "ops" (array of op ids), "attestation" (string).
 */
const char *teecert_probe_describe(void);

/*
 * Run op `op` over `n` vectors.  `in` holds n*arity values, `out` receives n values.
 * in_bytes / out_bytes are the sizes of the two buffers; the probe checks them
 * against n and the op and returns TEECERT_E_ARGS on mismatch (a size one byte off,
 * n whose sizes overflow size_t, sizes given with n = 0), for a null `in`/`out` with
 * n > 0, a null `op` and an id not in docs/ops.md.  n = 0 with null buffers and zero
 * sizes is TEECERT_OK.  docs/probe-abi.md, "Argument checks", lists the calls
 * teecert makes to check this.
 * Whatever the caller's FP environment, the op is computed in the default
 * environment with the op's rounding direction, and the caller's environment is
 * restored before returning.
 */
int32_t teecert_probe_run(const char *op, const void *in, size_t in_bytes, void *out,
                          size_t out_bytes, size_t n);

/*
 * Read the FP environment as the probe sees it on entry to this call: the raw
 * control/status register(s) of the CPU (x86-64: MXCSR in bits 0..31 and the x87
 * control word in bits 32..47; AArch64: FPCR; RISC-V: fcsr; other: fegetround()).
 * `arch` receives a short NUL-terminated name ("x86_64", "aarch64", "riscv64",
 * "generic"), at most 16 bytes including the NUL.
 */
uint64_t teecert_probe_fpenv_read(char *arch);

/*
 * Poison the calling thread's FP environment with the TEECERT_POISON_* bits, as a
 * careless caller would leave it.  Returns the bits actually applied (FTZ/DAZ is not
 * applied where the CPU has no such mode).  teecert_probe_fpenv_reset() restores
 * the default environment.  teecert does not rely on these two: it poisons and reads
 * the state itself, and fails a probe whose claimed bits are not what it reads.
 */
uint32_t teecert_probe_fpenv_poison(uint32_t what);
void teecert_probe_fpenv_reset(void);

/*
 * Transcript: a running SHA-256 of everything the probe computed in this session.
 *   T0 = SHA-256("teecert-transcript-v1")
 *   after each successful teecert_probe_run:
 *   T  = SHA-256(T || u32le(len(op)) || op || u64le(n) || SHA-256(0x00 || out))
 * The 32-byte T is written to `out`; `calls` (if non-null) receives the number of
 * successful runs folded in.  teecert_probe_transcript_reset() restarts at T0.
 */
void teecert_probe_transcript(uint8_t out[32], uint64_t *calls);
void teecert_probe_transcript_reset(void);

/*
 * Attestation evidence over 64 bytes of report data.  Writes at most `cap` bytes
 * into `evidence` and the size it needed into *len; returns TEECERT_E_ARGS when
 * `cap` is too small (call again with *len), TEECERT_E_UNSUPPORTED when no
 * attestation technology is reachable.  `format` receives a short name
 * ("snp", "tdx", "nitro", "sim"), at most 16 bytes including the NUL.
 */
int32_t teecert_probe_attest(const uint8_t report_data[64], uint8_t *evidence, size_t cap,
                             size_t *len, char *format);

#ifdef __cplusplus
}
#endif

#endif /* TEECERT_PROBE_H */
