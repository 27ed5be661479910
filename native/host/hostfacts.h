/*
 * Facts of the machine the probe host runs on, as a JSON object with the field
 * names and value formats of teecert.certify.facts.fingerprint.fingerprint() and
 * teecert.certify.judge.environment.extended_fingerprint() (docs/wire-protocol.md,
 * "Host facts"): a harness reaching the host over a socket, or running it under
 * qemu-user, records the machine the probe really ran on, not its own.
 */
#ifndef TEECERT_HOSTFACTS_H
#define TEECERT_HOSTFACTS_H

#include <stddef.h>

/* The facts as a NUL-terminated JSON object (malloc'd; the caller frees it), its
   length in *len; NULL when out of memory. */
char *hostfacts_json(size_t *len);

#endif
