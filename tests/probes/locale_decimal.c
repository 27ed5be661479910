/*
 * Broken probe: f64.from_dec double-checks its parse with the C library.  Text the
 * reference parser accepts must also be consumed whole by strtod, or the probe calls
 * it a syntax error.  In the C locale that is always so, and the probe passes; under
 * a decimal-comma locale strtod stops at the '.', and "1.5" becomes a syntax error.
 * The probe host adopts the environment's locale (setlocale(LC_ALL, "")), as the
 * applications that embed consensus code do; the stress suite's locale perturbation
 * finds it.
 */
#include <stdlib.h>
#include <string.h>

#include "intops.h"

static int teecert_zoo_from_dec(const char *s, size_t len, uint64_t *out)
{
    char text[1025];
    char *end = NULL;
    int status = teecert_f64_from_dec(s, len, out);
    if (status != TEECERT_DEC_OK || len >= sizeof text)
        return status;
    memcpy(text, s, len);
    text[len] = '\0';
    (void)strtod(text, &end);
    return end == text + len ? status : TEECERT_DEC_SYNTAX;
}

#define TEECERT_F64_FROM_DEC(s, len, out) teecert_zoo_from_dec((s), (len), (out))
#define TEECERT_PROBE_NAME "teecert-zoo-locale-decimal"

#include "probe.c"
