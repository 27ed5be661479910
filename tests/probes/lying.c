/*
 * Broken probe: computes correctly but its self-description lies about one fact
 * teecert can observe, chosen by TEECERT_ZOO_LIE:
 *   1  "arch": "aarch64" (built for x86-64)
 *   2  "fpenv_at_entry": all zero (not what the caller's state was)
 *   3  "compiler": a clang it was not built with
 *   4  "abi": 2 while teecert_probe_abi_version() returns 1
 */
#include <string.h>

#define teecert_probe_describe teecert_zoo_real_describe
#define TEECERT_PROBE_NAME "teecert-zoo-lying"

#include "probe.c"

#undef teecert_probe_describe

static char teecert_zoo_lie[8192 + 64];

/* The real description with the value of `key` replaced by `value` (JSON text). */
static const char *teecert_zoo_replace(const char *key, const char *value)
{
    const char *d = teecert_zoo_real_describe(), *at, *end;
    size_t head;
    at = strstr(d, key);
    if (at == NULL || strlen(d) + strlen(value) >= sizeof teecert_zoo_lie)
        return d;
    at += strlen(key);
    end = at;
    if (*end == '"') {
        end = strchr(end + 1, '"');
        end = end ? end + 1 : at;
    } else {
        while (*end && *end != ',' && *end != '}')
            end++;
    }
    head = (size_t)(at - d);
    memcpy(teecert_zoo_lie, d, head);
    strcpy(teecert_zoo_lie + head, value);
    strcat(teecert_zoo_lie, end);
    return teecert_zoo_lie;
}

__attribute__((visibility("default"))) const char *teecert_probe_describe(void)
{
#if TEECERT_ZOO_LIE == 1
    return teecert_zoo_replace("\"arch\": ", "\"aarch64\"");
#elif TEECERT_ZOO_LIE == 2
    return teecert_zoo_replace("\"fpenv_at_entry\": ", "\"0000000000000000\"");
#elif TEECERT_ZOO_LIE == 3
    return teecert_zoo_replace("\"compiler\": ", "\"Debian clang version 99.1.0\"");
#else
    return teecert_zoo_replace("\"abi\": ", "2");
#endif
}
