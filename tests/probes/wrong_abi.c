/*
 * Broken probe: claims ABI version 2.  The loader must refuse it before any call,
 * with a message naming the library and the version.
 */
#define TEECERT_ABI_REPORTED 2u
#define TEECERT_PROBE_NAME "teecert-zoo-wrong-abi"

#include "probe.c"
