/*
 * The reference probe with a stand-in for attestation, for the probe host's tests:
 * its "evidence" is the 64 bytes of report data it was asked to attest (format
 * "echo"), and each call appends those bytes to the file named by
 * TEECERT_TEST_ATTEST_LOG, so a test sees exactly what reached the probe, and that
 * nothing did for a client the host refused.
 */
#define teecert_probe_attest teecert_reference_probe_attest
#define TEECERT_PROBE_NAME "teecert-test-echo-attest"
#include "probe.c"
#undef teecert_probe_attest

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((visibility("default"))) int32_t teecert_probe_attest(const uint8_t report_data[64],
                                                                    uint8_t *evidence, size_t cap,
                                                                    size_t *len, char *format);

int32_t teecert_probe_attest(const uint8_t report_data[64], uint8_t *evidence, size_t cap, size_t *len,
                             char *format)
{
    const char *log = getenv("TEECERT_TEST_ATTEST_LOG");
    if (report_data == 0 || len == 0 || format == 0)
        return TEECERT_E_ARGS;
    if (log != 0) {
        FILE *f = fopen(log, "ab");
        if (f != 0) {
            fwrite(report_data, 1, 64, f);
            fclose(f);
        }
    }
    *len = 64;
    memcpy(format, "echo", 5);
    if (evidence == 0 || cap < 64)
        return TEECERT_E_ARGS;
    memcpy(evidence, report_data, 64);
    return TEECERT_OK;
}
