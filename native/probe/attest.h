/*
 * Attestation evidence collection for the teecert reference probe (attest.c).
 *
 * teecert_probe_attest() in probe.c checks its arguments and calls
 * teecert_attest_collect(), which reaches, in this order:
 *
 *  1. Linux configfs-tsm (TDX and SEV-SNP guests, no vendor SDK), when its root
 *     directory exists and is writable.  Root: /sys/kernel/config/tsm/report, or
 *     $TEECERT_TSM_REPORT_DIR (read at every call; for tests).  One report:
 *       mkdir <root>/teecert-<pid>-<counter>, read `generation`, write the 64 bytes
 *       of report data to `inblob`, read `provider`, read `outblob` (and `auxblob`
 *       for SNP), re-read `generation` (must be exactly one more, else another
 *       writer interfered: TEECERT_E_INTERNAL), rmdir the entry (always).
 *     provider "sev_guest" -> format "snp", "tdx_guest" -> "tdx", "arm_cca_guest"
 *     -> "cca", anything else -> TEECERT_E_UNSUPPORTED.  A root without the configfs-tsm attributes (no
 *     `generation` appears in the new entry) is TEECERT_E_UNSUPPORTED.
 *  2. AWS Nitro Enclaves' NSM device, when /dev/nsm (or $TEECERT_NSM_DEVICE)
 *     opens: one NSM Attestation request over the raw ioctl.  An ioctl the device
 *     does not know (not an NSM device) is TEECERT_E_UNSUPPORTED; an NSM "Error"
 *     response is TEECERT_E_INTERNAL.
 *  3. An Azure confidential VM's vTPM, when /dev/tpmrm0 (or $TEECERT_TPM_DEVICE)
 *     has NV index 0x01400001: the report data is written to NV index 0x01400002
 *     (defined first when missing), then the HCL report is read from 0x01400001;
 *     format "azure-snp-hcl" or "azure-tdx-hcl" by its report type.
 *  4. Otherwise TEECERT_E_UNSUPPORTED (the harness provides the simulated
 *     platform itself, in Python).
 *
 * Evidence containers (the bytes the ABI returns, by format):
 *   "snp"   the 1184-byte SEV-SNP ATTESTATION_REPORT (configfs-tsm `outblob`)
 *           immediately followed by the certificate table of the extended guest
 *           request (`auxblob`: GUID/offset/length entries, a zero entry, then the
 *           certificates; VCEK or VLEK, ASK, ARK).  The table may be absent: then the
 *           evidence is exactly the report.  Split at byte 1184.
 *   "tdx"   the TDX quote (`outblob`, a DCAP quote v4 or v5) as is.
 *   "cca"   the Arm CCA attestation token (`outblob`: the CBOR collection of the
 *           platform and realm tokens, tag 399) as is.
 *   "nitro" the attestation document: a COSE_Sign1 structure (CBOR), as is.
 * Each blob read from configfs-tsm is refused beyond TEECERT_TSM_MAX_BLOB bytes.
 *
 * Size protocol: when `cap` is too small the evidence is kept and
 * TEECERT_E_ARGS returned with *len set to the size needed; a retry with the same
 * report data is served from that copy (no second report is generated), which
 * is then dropped once delivered.  Other report data generates a new report.
 *
 * Only POSIX/Linux interfaces are used (attest.c is compiled as POSIX.1-2008 C99);
 * other operating systems get TEECERT_E_UNSUPPORTED and "none".
 */
#ifndef TEECERT_ATTEST_H
#define TEECERT_ATTEST_H

#include <stddef.h>
#include <stdint.h>

/* Internal to the probe: never exported from the shared library. */
#ifndef TEECERT_INTERNAL
#if defined(__GNUC__) || defined(__clang__)
#define TEECERT_INTERNAL __attribute__((visibility("hidden")))
#else
#define TEECERT_INTERNAL
#endif
#endif

#define TEECERT_TSM_REPORT_ROOT "/sys/kernel/config/tsm/report"
#define TEECERT_NSM_DEVICE_PATH "/dev/nsm"
#define TEECERT_TSM_MAX_BLOB ((size_t)1 << 20) /* 1 MiB per configfs-tsm blob */
#define TEECERT_SNP_REPORT_SIZE 1184u
#define TEECERT_NSM_RESPONSE_MAX 0x3000u /* the NSM driver's response limit */
#define TEECERT_NSM_REQUEST_SIZE 109u    /* teecert_nsm_encode_request's output */

/* Status of teecert_nsm_parse_response(). */
#define TEECERT_NSM_PARSE_OK 0
#define TEECERT_NSM_PARSE_MALFORMED (-1) /* not CBOR of the expected shape, truncated */
#define TEECERT_NSM_PARSE_ERROR (-2)     /* an {"Error": ...} response */

/*
 * The body of teecert_probe_attest (arguments already checked: report_data, len and
 * format non-null, `evidence` non-null when cap > 0).  Same contract as the ABI
 * call; `format` receives at most 16 bytes including the NUL.
 */
TEECERT_INTERNAL int32_t teecert_attest_collect(const uint8_t report_data[64], uint8_t *evidence,
                                                size_t cap, size_t *len, char *format);

/*
 * The attestation technology the environment offers, by the same checks
 * teecert_attest_collect makes, without generating evidence: "configfs-tsm",
 * "nsm" or "none".
 */
TEECERT_INTERNAL const char *teecert_attest_technology(void);

/*
 * The CBOR of the NSM request {"Attestation": {"user_data": <64 bytes>,
 * "nonce": null, "public_key": null}} into `out`; returns its length
 * (TEECERT_NSM_REQUEST_SIZE), or 0 when `cap` is too small.
 */
TEECERT_INTERNAL size_t teecert_nsm_encode_request(const uint8_t user_data[64], uint8_t *out,
                                                   size_t cap);

/*
 * Find the attestation document in an NSM response {"Attestation": {"document":
 * bstr, ...}}.  On TEECERT_NSM_PARSE_OK *doc and *doc_len point into `resp`.
 * Every length is checked against the bytes present.
 */
TEECERT_INTERNAL int teecert_nsm_parse_response(const uint8_t *resp, size_t len,
                                                const uint8_t **doc, size_t *doc_len);

#endif /* TEECERT_ATTEST_H */
