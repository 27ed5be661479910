/*
 * Attestation evidence collection for the teecert reference probe: Linux
 * configfs-tsm (TDX, SEV-SNP, Arm CCA), the AWS Nitro Enclaves NSM device and an
 * Azure confidential VM's vTPM (the HCL report).  The
 * contract, the order in which the technologies are tried and the evidence
 * containers are described in attest.h and docs/probe-abi.md.
 *
 * This file alone is compiled as POSIX.1-2008 (openat, mkdirat, O_CLOEXEC,
 * O_DIRECTORY); the arithmetic of probe.c stays plain C99.
 *
 * Test seam (define before including this file; default: nothing):
 *   TEECERT_TSM_TEST_HOOK(stage, rootfd, name)
 *     called with the report root's fd and the entry name at stage 1 (entry
 *     created), 2 (inblob written and closed) and 3 (just before the rmdir).  A test
 *     program that #includes attest.c defines it to emulate, in a plain directory,
 *     the attributes configfs creates and the kernel fills in.
 *   TEECERT_TPM_TRANSACT(fd, cmd, n, rsp, cap, got)
 *     sends one TPM 2.0 command and reads its response (default: write() then read()
 *     on the resource manager's device); a test program defines it to emulate a vTPM.
 */
#define _POSIX_C_SOURCE 200809L

#include "attest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teecert_probe.h"

#ifndef TEECERT_TSM_TEST_HOOK
#define TEECERT_TSM_TEST_HOOK(stage, rootfd, name) ((void)0)
#endif

/* ------------------------------------------------------------ NSM request CBOR */

/*
 * The NSM speaks CBOR (RFC 8949).  The probe must stay self-contained C with no
 * libraries beyond libc (it also builds inside enclave SDKs and minimal guests), and
 * it only ever sends one fixed-shape request and reads one field of the answer, so
 * both are written by hand here instead of pulling in a CBOR library.
 */

/* A text string shorter than 24 bytes: head 0x60 | length, then the bytes. */
static uint8_t *teecert_cbor_short_text(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    *p++ = (uint8_t)(0x60u | (unsigned)n);
    memcpy(p, s, n);
    return p + n;
}

/*
 * {"Attestation": {"user_data": h'<64 bytes>', "nonce": null, "public_key": null}},
 * the request the AWS NSM library (serde_cbor) sends, fields in its order:
 *   a1                       map(1)
 *   6b "Attestation"         text(11)
 *   a3                       map(3)
 *   69 "user_data"           text(9)
 *   58 40 <64 bytes>         bytes(64)
 *   65 "nonce"   f6          text(5), null
 *   6a "public_key" f6       text(10), null
 */
size_t teecert_nsm_encode_request(const uint8_t user_data[64], uint8_t *out, size_t cap)
{
    uint8_t *p = out;
    if (user_data == 0 || out == 0 || cap < TEECERT_NSM_REQUEST_SIZE)
        return 0;
    *p++ = 0xa1;
    p = teecert_cbor_short_text(p, "Attestation");
    *p++ = 0xa3;
    p = teecert_cbor_short_text(p, "user_data");
    *p++ = 0x58;
    *p++ = 64;
    memcpy(p, user_data, 64);
    p += 64;
    p = teecert_cbor_short_text(p, "nonce");
    *p++ = 0xf6;
    p = teecert_cbor_short_text(p, "public_key");
    *p++ = 0xf6;
    return (size_t)(p - out);
}

/* ----------------------------------------------------------- NSM response CBOR */

struct teecert_cbor_in {
    const uint8_t *p, *end;
};

static size_t teecert_cbor_left(const struct teecert_cbor_in *in)
{
    return (size_t)(in->end - in->p);
}

/* One item head: major type and argument (length, count or value). */
static int teecert_cbor_head(struct teecert_cbor_in *in, unsigned *major, uint64_t *arg)
{
    unsigned ai, nbytes, i;
    if (teecert_cbor_left(in) < 1)
        return -1;
    *major = (unsigned)(*in->p >> 5);
    ai = (unsigned)(*in->p & 0x1fu);
    in->p++;
    if (ai < 24) {
        *arg = ai;
        return 0;
    }
    if (ai > 27)
        return -1; /* reserved, or indefinite length: the NSM never sends them */
    nbytes = 1u << (ai - 24);
    if (teecert_cbor_left(in) < nbytes)
        return -1;
    *arg = 0;
    for (i = 0; i < nbytes; i++)
        *arg = (*arg << 8) | *in->p++;
    return 0;
}

/* `n` bytes of payload, refused when fewer are present. */
static int teecert_cbor_take(struct teecert_cbor_in *in, uint64_t n, const uint8_t **bytes)
{
    if (n > (uint64_t)teecert_cbor_left(in))
        return -1;
    *bytes = in->p;
    in->p += (size_t)n;
    return 0;
}

/* Skip one complete item (nested at most 8 deep). */
static int teecert_cbor_skip(struct teecert_cbor_in *in, int depth)
{
    unsigned major;
    uint64_t arg, i;
    const uint8_t *bytes;
    if (depth > 8 || teecert_cbor_head(in, &major, &arg) != 0)
        return -1;
    switch (major) {
    case 0: /* unsigned */
    case 1: /* negative */
    case 7: /* simple values and floats: the head carried them */
        return 0;
    case 2: /* bytes */
    case 3: /* text */
        return teecert_cbor_take(in, arg, &bytes);
    case 4: /* array */
    case 5: /* map: two items per entry */
        if (major == 5) {
            if (arg > UINT64_MAX / 2)
                return -1;
            arg *= 2;
        }
        if (arg > (uint64_t)teecert_cbor_left(in)) /* every item takes a byte at least */
            return -1;
        for (i = 0; i < arg; i++)
            if (teecert_cbor_skip(in, depth + 1) != 0)
                return -1;
        return 0;
    case 6: /* tag: one item follows */
        return teecert_cbor_skip(in, depth + 1);
    default:
        return -1;
    }
}

/* A text string item; the bytes point into the input. */
static int teecert_cbor_text(struct teecert_cbor_in *in, const uint8_t **s, size_t *n)
{
    unsigned major;
    uint64_t arg;
    if (teecert_cbor_head(in, &major, &arg) != 0 || major != 3)
        return -1;
    if (teecert_cbor_take(in, arg, s) != 0)
        return -1;
    *n = (size_t)arg;
    return 0;
}

static int teecert_cbor_eq(const uint8_t *s, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(s, want, n) == 0;
}

int teecert_nsm_parse_response(const uint8_t *resp, size_t len, const uint8_t **doc,
                               size_t *doc_len)
{
    struct teecert_cbor_in in;
    unsigned major;
    uint64_t entries, i, n;
    const uint8_t *key, *bytes;
    size_t key_len;

    if (resp == 0 || doc == 0 || doc_len == 0)
        return TEECERT_NSM_PARSE_MALFORMED;
    in.p = resp;
    in.end = resp + len;
    /* {"Attestation": {...}} or {"Error": "<ErrorCode>"} */
    if (teecert_cbor_head(&in, &major, &entries) != 0 || major != 5 || entries != 1)
        return TEECERT_NSM_PARSE_MALFORMED;
    if (teecert_cbor_text(&in, &key, &key_len) != 0)
        return TEECERT_NSM_PARSE_MALFORMED;
    if (teecert_cbor_eq(key, key_len, "Error"))
        return TEECERT_NSM_PARSE_ERROR;
    if (!teecert_cbor_eq(key, key_len, "Attestation"))
        return TEECERT_NSM_PARSE_MALFORMED;
    if (teecert_cbor_head(&in, &major, &entries) != 0 || major != 5)
        return TEECERT_NSM_PARSE_MALFORMED;
    if (entries > (uint64_t)teecert_cbor_left(&in))
        return TEECERT_NSM_PARSE_MALFORMED;
    for (i = 0; i < entries; i++) {
        if (teecert_cbor_text(&in, &key, &key_len) != 0)
            return TEECERT_NSM_PARSE_MALFORMED;
        if (!teecert_cbor_eq(key, key_len, "document")) {
            if (teecert_cbor_skip(&in, 1) != 0)
                return TEECERT_NSM_PARSE_MALFORMED;
            continue;
        }
        if (teecert_cbor_head(&in, &major, &n) != 0 || major != 2 || n == 0)
            return TEECERT_NSM_PARSE_MALFORMED;
        if (teecert_cbor_take(&in, n, &bytes) != 0)
            return TEECERT_NSM_PARSE_MALFORMED;
        *doc = bytes;
        *doc_len = (size_t)n;
        return TEECERT_NSM_PARSE_OK;
    }
    return TEECERT_NSM_PARSE_MALFORMED; /* no document */
}

/* ------------------------------------------------------------------- Linux */

#if defined(__linux__)

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *teecert_env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v != 0 && v[0] != '\0' ? v : fallback;
}

/* Read at every call, so a test can point the probe elsewhere after loading it. */
static const char *teecert_tsm_root(void)
{
    return teecert_env_or("TEECERT_TSM_REPORT_DIR", TEECERT_TSM_REPORT_ROOT);
}

static const char *teecert_nsm_path(void)
{
    return teecert_env_or("TEECERT_NSM_DEVICE", TEECERT_NSM_DEVICE_PATH);
}

static int teecert_tsm_reachable(const char *root)
{
    struct stat st;
    return stat(root, &st) == 0 && S_ISDIR(st.st_mode) && access(root, W_OK | X_OK) == 0;
}

static int teecert_nsm_opens(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/*
 * The whole content of attribute `attr` of the directory `dirfd` into a malloc'd
 * buffer (the caller frees *buf, also on failure).  Returns 0; -1 with errno set;
 * -2 when the attribute holds more than `max` bytes.
 */
static int teecert_tsm_read(int dirfd, const char *attr, size_t max, uint8_t **buf, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *b, *grown;
    ssize_t r;
    int fd, err;

    *buf = 0;
    *len = 0;
    fd = openat(dirfd, attr, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (cap > max + 1)
        cap = max + 1;
    b = (uint8_t *)malloc(cap);
    if (b == 0) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        if (n == cap) {
            if (cap > max)
                break; /* max + 1 bytes read: too long */
            cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
            grown = (uint8_t *)realloc(b, cap);
            if (grown == 0) {
                free(b);
                close(fd);
                errno = ENOMEM;
                return -1;
            }
            b = grown;
        }
        r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            free(b);
            close(fd);
            errno = err;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = n;
    return n > max ? -2 : 0;
}

/* A short text attribute ("generation", "provider"), trailing newline removed. */
static int teecert_tsm_read_text(int dirfd, const char *attr, char *out, size_t outsz)
{
    uint8_t *b;
    size_t n;
    int r = teecert_tsm_read(dirfd, attr, outsz - 1, &b, &n);
    if (r != 0) {
        free(b);
        return -1;
    }
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == ' ' || b[n - 1] == '\0'))
        n--;
    memcpy(out, b, n);
    out[n] = '\0';
    free(b);
    return 0;
}

static int teecert_parse_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
            return -1;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *v = x;
    return 0;
}

static int teecert_tsm_generation(int dirfd, uint64_t *gen)
{
    char text[32];
    if (teecert_tsm_read_text(dirfd, "generation", text, sizeof text) != 0)
        return -1;
    return teecert_parse_u64(text, gen);
}

static int teecert_tsm_write(int dirfd, const char *attr, const uint8_t *data, size_t n)
{
    ssize_t r;
    int err, fd = openat(dirfd, attr, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (n > 0) {
        r = write(fd, data, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            close(fd);
            errno = err;
            return -1;
        }
        data += r;
        n -= (size_t)r;
    }
    /* configfs passes a binary attribute's bytes to the kernel when the file is
       closed: the provider's verdict on them is close()'s result. */
    return close(fd) == 0 ? 0 : -1;
}

static int teecert_errno_absent(int err)
{
    if (err == ENOENT || err == ENOTTY || err == ENXIO)
        return 1;
#ifdef ENODATA
    if (err == ENODATA)
        return 1;
#endif
#ifdef EOPNOTSUPP
    if (err == EOPNOTSUPP)
        return 1;
#endif
    return 0;
}

/* One configfs-tsm report, see attest.h. */
static int32_t teecert_tsm_collect(const char *root, const uint8_t report_data[64], uint8_t **out,
                                   size_t *out_len, char *format)
{
    static unsigned long counter;
    char name[64], text[64];
    int rootfd, entryfd = -1, tries, snp;
    const char *fmt;
    int32_t status = TEECERT_E_INTERNAL;
    uint64_t gen0, gen1;
    uint8_t *blob = 0, *aux = 0;
    size_t blob_len = 0, aux_len = 0;
    int r;

    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return TEECERT_E_UNSUPPORTED;
    for (tries = 0;; tries++) {
        snprintf(name, sizeof name, "teecert-%ld-%lu", (long)getpid(), ++counter);
        if (mkdirat(rootfd, name, 0700) == 0)
            break;
        if (errno != EEXIST || tries >= 64) {
            close(rootfd);
            return TEECERT_E_INTERNAL;
        }
    }
    TEECERT_TSM_TEST_HOOK(1, rootfd, name);

    entryfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (entryfd < 0)
        goto done;
    /* No generation attribute in the new entry: not configfs-tsm (a plain
       directory, or the subsystem without its attributes). */
    if (teecert_tsm_generation(entryfd, &gen0) != 0) {
        status = TEECERT_E_UNSUPPORTED;
        goto done;
    }
    if (teecert_tsm_write(entryfd, "inblob", report_data, 64) != 0) {
        status = errno == ENOENT ? TEECERT_E_UNSUPPORTED : TEECERT_E_INTERNAL;
        goto done;
    }
    TEECERT_TSM_TEST_HOOK(2, rootfd, name);
    /* No provider registered: the kernel refuses to read the attribute. */
    if (teecert_tsm_read_text(entryfd, "provider", text, sizeof text) != 0) {
        status = TEECERT_E_UNSUPPORTED;
        goto done;
    }
    if (strcmp(text, "sev_guest") == 0) {
        snp = 1;
        fmt = "snp";
    } else if (strcmp(text, "tdx_guest") == 0) {
        snp = 0;
        fmt = "tdx";
    } else if (strcmp(text, "arm_cca_guest") == 0) {
        snp = 0; /* the Arm CCA token (platform and realm token), as is */
        fmt = "cca";
    } else {
        status = TEECERT_E_UNSUPPORTED; /* a provider teecert has no verifier for */
        goto done;
    }
    /* Reading outblob makes the provider generate the report. */
    r = teecert_tsm_read(entryfd, "outblob", TEECERT_TSM_MAX_BLOB, &blob, &blob_len);
    if (r != 0 || blob_len == 0)
        goto done;
    if (snp) {
        /* The container splits at the report size: anything else is not a report. */
        if (blob_len != TEECERT_SNP_REPORT_SIZE)
            goto done;
        r = teecert_tsm_read(entryfd, "auxblob", TEECERT_TSM_MAX_BLOB, &aux, &aux_len);
        if (r == -1 && teecert_errno_absent(errno)) {
            aux_len = 0; /* no certificate table from the host */
        } else if (r != 0) {
            goto done;
        }
    }
    /* Exactly our one write since the first read: nobody else wrote inblob (or an
       option) in between, so outblob answers our report data. */
    if (teecert_tsm_generation(entryfd, &gen1) != 0 || gen1 != gen0 + 1)
        goto done;

    *out = (uint8_t *)malloc(blob_len + aux_len);
    if (*out == 0)
        goto done;
    memcpy(*out, blob, blob_len);
    if (aux_len > 0)
        memcpy(*out + blob_len, aux, aux_len);
    *out_len = blob_len + aux_len;
    memcpy(format, fmt, 4);
    status = TEECERT_OK;

done:
    free(blob);
    free(aux);
    if (entryfd >= 0)
        close(entryfd);
    TEECERT_TSM_TEST_HOOK(3, rootfd, name);
    /* Always: configfs keeps the entry (and its report) until it is removed. */
    unlinkat(rootfd, name, AT_REMOVEDIR);
    close(rootfd);
    return status;
}

/*
 * The NSM driver's raw message (linux/nsm.h: struct nsm_raw of two {u64 addr, u64
 * len}), which is struct iovec on the 64-bit platforms Nitro Enclaves run on.  On
 * return the driver has set response.iov_len to the response's length.
 */
struct teecert_nsm_message {
    struct iovec request;
    struct iovec response;
};

#define TEECERT_NSM_IOCTL _IOWR(0x0A, 0, struct teecert_nsm_message)

static int32_t teecert_nsm_collect(const char *path, const uint8_t report_data[64], uint8_t **out,
                                   size_t *out_len, char *format)
{
    uint8_t request[TEECERT_NSM_REQUEST_SIZE];
    uint8_t *response;
    const uint8_t *doc;
    size_t request_len, doc_len;
    struct teecert_nsm_message msg;
    int fd, r, err;

    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return TEECERT_E_UNSUPPORTED;
    response = (uint8_t *)malloc(TEECERT_NSM_RESPONSE_MAX);
    request_len = teecert_nsm_encode_request(report_data, request, sizeof request);
    if (response == 0 || request_len == 0) {
        free(response);
        close(fd);
        return TEECERT_E_INTERNAL;
    }
    memset(&msg, 0, sizeof msg);
    msg.request.iov_base = request;
    msg.request.iov_len = request_len;
    msg.response.iov_base = response;
    msg.response.iov_len = TEECERT_NSM_RESPONSE_MAX;
    do {
        r = ioctl(fd, TEECERT_NSM_IOCTL, &msg);
    } while (r < 0 && errno == EINTR);
    err = errno;
    close(fd);
    if (r < 0) {
        free(response);
        /* Not an NSM device (a regular file, another driver): no attestation here. */
        if (err == ENOTTY || err == EINVAL || err == ENOSYS || teecert_errno_absent(err))
            return TEECERT_E_UNSUPPORTED;
        return TEECERT_E_INTERNAL;
    }
    if (msg.response.iov_len > TEECERT_NSM_RESPONSE_MAX ||
        teecert_nsm_parse_response(response, msg.response.iov_len, &doc, &doc_len) !=
            TEECERT_NSM_PARSE_OK) {
        free(response); /* an {"Error": ...} answer, or one we cannot read */
        return TEECERT_E_INTERNAL;
    }
    *out = (uint8_t *)malloc(doc_len);
    if (*out == 0) {
        free(response);
        return TEECERT_E_INTERNAL;
    }
    memcpy(*out, doc, doc_len);
    *out_len = doc_len;
    memcpy(format, "nitro", 6);
    free(response);
    return TEECERT_OK;
}

/* ------------------------------------------------- Azure vTPM (the HCL report) */

/*
 * An Azure confidential VM's paravisor keeps its attestation report (the HCL report:
 * header, the SNP or TD report, the runtime claims) in vTPM NV index 0x01400001, and
 * regenerates it with the user data the guest writes to NV index 0x01400002 (defined
 * by the guest when absent).  TPM 2.0 commands (TPM 2.0 Library, Part 3: NV_ReadPublic,
 * NV_DefineSpace, NV_Write, NV_Read) are marshalled by hand: four fixed-shape commands
 * with the empty password session, in a probe that links nothing beyond libc.
 */
#define TEECERT_AZ_NV_REPORT 0x01400001u
#define TEECERT_AZ_NV_USER 0x01400002u
#define TEECERT_TPM_RH_OWNER 0x40000001u
#define TEECERT_TPM_RS_PW 0x40000009u
#define TEECERT_TPM_CC_NV_DEFINE 0x0000012Au
#define TEECERT_TPM_CC_NV_WRITE 0x00000137u
#define TEECERT_TPM_CC_NV_READ 0x0000014Eu
#define TEECERT_TPM_CC_NV_READ_PUBLIC 0x00000169u
#define TEECERT_TPM_ST_NO_SESSIONS 0x8001u
#define TEECERT_TPM_ST_SESSIONS 0x8002u
#define TEECERT_TPM_CHUNK 512u     /* at most TPM2_PT_NV_BUFFER_MAX on every TPM seen */
#define TEECERT_TPM_MAX_NV 16384u  /* an HCL report is a few KiB */
#define TEECERT_TPM_RSP_MAX 4096u
#define TEECERT_HCL_REPORT_TYPE_OFFSET 0x4C8u

static const char *teecert_tpm_path(void)
{
    return teecert_env_or("TEECERT_TPM_DEVICE", "/dev/tpmrm0");
}

#ifndef TEECERT_TPM_TRANSACT
static int teecert_tpm_transact_dev(int fd, const uint8_t *cmd, size_t n, uint8_t *rsp, size_t cap,
                                    size_t *got)
{
    ssize_t r;
    if (write(fd, cmd, n) != (ssize_t)n)
        return -1;
    r = read(fd, rsp, cap);
    if (r < 0)
        return -1;
    *got = (size_t)r;
    return 0;
}

#define TEECERT_TPM_TRANSACT teecert_tpm_transact_dev
#endif

static uint8_t *teecert_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static uint8_t *teecert_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static uint32_t teecert_rd16(const uint8_t *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

static uint32_t teecert_rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* The empty password session (TPM_RS_PW, no nonce, no attributes, empty auth). */
static uint8_t *teecert_tpm_pw_session(uint8_t *p)
{
    p = teecert_be32(p, 9);
    p = teecert_be32(p, TEECERT_TPM_RS_PW);
    p = teecert_be16(p, 0);
    *p++ = 0;
    return teecert_be16(p, 0);
}

/*
 * Send the command in cmd[0..end) after filling in its size, and check the response:
 * its size field equals what was read and its code is 0.  On success *body points
 * past the 10-byte header (and, for a command with sessions, past the 4-byte
 * parameter size), with *body_len bytes.  Returns 0, or -1 (any failure).
 */
static int teecert_tpm_call(int fd, uint8_t *cmd, uint8_t *end, int sessions, uint8_t *rsp,
                            const uint8_t **body, size_t *body_len)
{
    size_t n = (size_t)(end - cmd), got = 0, skip = sessions ? 14 : 10;
    teecert_be32(cmd + 2, (uint32_t)n);
    if (TEECERT_TPM_TRANSACT(fd, cmd, n, rsp, TEECERT_TPM_RSP_MAX, &got) != 0 || got < 10
        || teecert_rd32(rsp + 2) != got || teecert_rd32(rsp + 6) != 0 || got < skip)
        return -1;
    if (sessions && 14 + (size_t)teecert_rd32(rsp + 10) > got)
        return -1;
    *body = rsp + skip;
    *body_len = sessions ? teecert_rd32(rsp + 10) : got - skip;
    return 0;
}

/* NV_ReadPublic: the index's data size, or -1 when it does not exist (or anything fails). */
static long teecert_tpm_nv_size(int fd, uint32_t index)
{
    uint8_t cmd[14], rsp[TEECERT_TPM_RSP_MAX], *p = cmd;
    const uint8_t *b;
    size_t bl;
    uint32_t pub, policy;
    p = teecert_be16(p, TEECERT_TPM_ST_NO_SESSIONS);
    p = teecert_be32(p, 0);
    p = teecert_be32(p, TEECERT_TPM_CC_NV_READ_PUBLIC);
    p = teecert_be32(p, index);
    if (teecert_tpm_call(fd, cmd, p, 0, rsp, &b, &bl) != 0 || bl < 2)
        return -1;
    /* TPM2B_NV_PUBLIC: size, nvIndex, nameAlg, attributes, authPolicy (TPM2B), dataSize */
    pub = teecert_rd16(b);
    if (pub < 14 || 2 + (size_t)pub > bl || teecert_rd32(b + 2) != index)
        return -1;
    policy = teecert_rd16(b + 12);
    if (14 + (size_t)policy + 2 > 2 + (size_t)pub)
        return -1;
    return (long)teecert_rd16(b + 14 + policy);
}

/* NV_DefineSpace of the 64-byte user-data index, by the owner (empty owner auth). */
static int teecert_tpm_nv_define_user(int fd)
{
    uint8_t cmd[64], rsp[TEECERT_TPM_RSP_MAX], *p = cmd;
    const uint8_t *b;
    size_t bl;
    /* OWNERWRITE | AUTHWRITE | OWNERREAD | AUTHREAD | NO_DA, an ordinary index */
    uint32_t attrs = (1u << 1) | (1u << 2) | (1u << 17) | (1u << 18) | (1u << 25);
    p = teecert_be16(p, TEECERT_TPM_ST_SESSIONS);
    p = teecert_be32(p, 0);
    p = teecert_be32(p, TEECERT_TPM_CC_NV_DEFINE);
    p = teecert_be32(p, TEECERT_TPM_RH_OWNER);
    p = teecert_tpm_pw_session(p);
    p = teecert_be16(p, 0);                  /* auth: empty */
    p = teecert_be16(p, 14);                 /* publicInfo size */
    p = teecert_be32(p, TEECERT_AZ_NV_USER);
    p = teecert_be16(p, 0x000B);             /* nameAlg SHA-256 */
    p = teecert_be32(p, attrs);
    p = teecert_be16(p, 0);                  /* authPolicy: empty */
    p = teecert_be16(p, 64);                 /* dataSize */
    return teecert_tpm_call(fd, cmd, p, 1, rsp, &b, &bl);
}

/* NV_Write of the 64 bytes of user data (authorized by the index's empty auth). */
static int teecert_tpm_nv_write_user(int fd, const uint8_t data[64])
{
    uint8_t cmd[128], rsp[TEECERT_TPM_RSP_MAX], *p = cmd;
    const uint8_t *b;
    size_t bl;
    p = teecert_be16(p, TEECERT_TPM_ST_SESSIONS);
    p = teecert_be32(p, 0);
    p = teecert_be32(p, TEECERT_TPM_CC_NV_WRITE);
    p = teecert_be32(p, TEECERT_AZ_NV_USER);
    p = teecert_be32(p, TEECERT_AZ_NV_USER);
    p = teecert_tpm_pw_session(p);
    p = teecert_be16(p, 64);
    memcpy(p, data, 64);
    p += 64;
    p = teecert_be16(p, 0);                  /* offset */
    return teecert_tpm_call(fd, cmd, p, 1, rsp, &b, &bl);
}

/* NV_Read of `n` bytes at `offset` into out, authorized by `auth` (the index or the owner). */
static int teecert_tpm_nv_read(int fd, uint32_t auth, uint32_t index, uint32_t offset, uint32_t n,
                               uint8_t *out)
{
    uint8_t cmd[64], rsp[TEECERT_TPM_RSP_MAX], *p = cmd;
    const uint8_t *b;
    size_t bl;
    p = teecert_be16(p, TEECERT_TPM_ST_SESSIONS);
    p = teecert_be32(p, 0);
    p = teecert_be32(p, TEECERT_TPM_CC_NV_READ);
    p = teecert_be32(p, auth);
    p = teecert_be32(p, index);
    p = teecert_tpm_pw_session(p);
    p = teecert_be16(p, n);
    p = teecert_be16(p, offset);
    if (teecert_tpm_call(fd, cmd, p, 1, rsp, &b, &bl) != 0 || bl < 2 || teecert_rd16(b) != n
        || 2 + (size_t)n > bl)
        return -1;
    memcpy(out, b + 2, n);
    return 0;
}

static int teecert_tpm_open(void)
{
    return open(teecert_tpm_path(), O_RDWR | O_CLOEXEC);
}

/* Whether this is an Azure confidential VM's vTPM: the HCL report index exists. */
static int teecert_vtpm_reachable(void)
{
    int fd = teecert_tpm_open(), ok;
    if (fd < 0)
        return 0;
    ok = teecert_tpm_nv_size(fd, TEECERT_AZ_NV_REPORT) > 0;
    close(fd);
    return ok;
}

static int32_t teecert_vtpm_collect(const uint8_t report_data[64], uint8_t **out, size_t *out_len,
                                    char *format)
{
    int fd = teecert_tpm_open();
    long size;
    uint32_t off, type, auth = TEECERT_AZ_NV_REPORT;
    uint8_t *buf;
    if (fd < 0)
        return TEECERT_E_UNSUPPORTED;
    size = teecert_tpm_nv_size(fd, TEECERT_AZ_NV_REPORT);
    if (size <= 0) {
        close(fd);
        return TEECERT_E_UNSUPPORTED; /* a TPM, but not an Azure paravisor's */
    }
    if (size < (long)TEECERT_HCL_REPORT_TYPE_OFFSET + 4 || size > (long)TEECERT_TPM_MAX_NV
        || (teecert_tpm_nv_size(fd, TEECERT_AZ_NV_USER) != 64
            && teecert_tpm_nv_define_user(fd) != 0)
        || teecert_tpm_nv_write_user(fd, report_data) != 0) {
        close(fd);
        return TEECERT_E_INTERNAL;
    }
    buf = (uint8_t *)malloc((size_t)size);
    if (buf == 0) {
        close(fd);
        return TEECERT_E_INTERNAL;
    }
    for (off = 0; off < (uint32_t)size;) {
        uint32_t n = (uint32_t)size - off < TEECERT_TPM_CHUNK ? (uint32_t)size - off : TEECERT_TPM_CHUNK;
        if (teecert_tpm_nv_read(fd, auth, TEECERT_AZ_NV_REPORT, off, n, buf + off) != 0) {
            if (off == 0 && auth != TEECERT_TPM_RH_OWNER) {
                auth = TEECERT_TPM_RH_OWNER; /* an index readable by the owner only */
                continue;
            }
            free(buf);
            close(fd);
            return TEECERT_E_INTERNAL;
        }
        off += n;
    }
    close(fd);
    /* "HCLA", then the request data's report type (little-endian): 2 SEV-SNP, 4 TDX */
    type = (uint32_t)buf[TEECERT_HCL_REPORT_TYPE_OFFSET] | ((uint32_t)buf[TEECERT_HCL_REPORT_TYPE_OFFSET + 1] << 8)
           | ((uint32_t)buf[TEECERT_HCL_REPORT_TYPE_OFFSET + 2] << 16)
           | ((uint32_t)buf[TEECERT_HCL_REPORT_TYPE_OFFSET + 3] << 24);
    if (memcmp(buf, "HCLA", 4) != 0 || (type != 2 && type != 4)) {
        free(buf);
        return TEECERT_E_INTERNAL;
    }
    *out = buf;
    *out_len = (size_t)size;
    memcpy(format, type == 2 ? "azure-snp-hcl" : "azure-tdx-hcl", 14);
    return TEECERT_OK;
}

static int32_t teecert_attest_generate(const uint8_t report_data[64], uint8_t **out,
                                       size_t *out_len, char *format)
{
    const char *root = teecert_tsm_root();
    int32_t status;
    if (teecert_tsm_reachable(root))
        return teecert_tsm_collect(root, report_data, out, out_len, format);
    status = teecert_nsm_collect(teecert_nsm_path(), report_data, out, out_len, format);
    if (status != TEECERT_E_UNSUPPORTED)
        return status;
    return teecert_vtpm_collect(report_data, out, out_len, format);
}

const char *teecert_attest_technology(void)
{
    if (teecert_tsm_reachable(teecert_tsm_root()))
        return "configfs-tsm";
    if (teecert_nsm_opens(teecert_nsm_path()))
        return "nsm";
    if (teecert_vtpm_reachable())
        return "azure-vtpm";
    return "none";
}

#else /* not Linux: no configfs-tsm, no NSM */

static int32_t teecert_attest_generate(const uint8_t report_data[64], uint8_t **out,
                                       size_t *out_len, char *format)
{
    (void)report_data;
    (void)out;
    (void)out_len;
    (void)format;
    return TEECERT_E_UNSUPPORTED;
}

const char *teecert_attest_technology(void)
{
    return "none";
}

#endif

/* ------------------------------------------------------- size protocol, cache */

/* Evidence generated for a call whose buffer was too small, kept for the retry. */
static struct {
    int valid;
    uint8_t report_data[64];
    char format[16];
    uint8_t *evidence;
    size_t len;
} teecert_attest_cache;

static void teecert_attest_cache_drop(void)
{
    free(teecert_attest_cache.evidence);
    memset(&teecert_attest_cache, 0, sizeof teecert_attest_cache);
}

int32_t teecert_attest_collect(const uint8_t report_data[64], uint8_t *evidence, size_t cap,
                               size_t *len, char *format)
{
    if (!teecert_attest_cache.valid ||
        memcmp(teecert_attest_cache.report_data, report_data, 64) != 0) {
        uint8_t *buf = 0;
        size_t n = 0;
        char fmt[16];
        int32_t status;

        teecert_attest_cache_drop();
        memset(fmt, 0, sizeof fmt);
        status = teecert_attest_generate(report_data, &buf, &n, fmt);
        if (status != TEECERT_OK) {
            free(buf);
            *len = 0;
            format[0] = '\0';
            return status;
        }
        teecert_attest_cache.valid = 1;
        memcpy(teecert_attest_cache.report_data, report_data, 64);
        memcpy(teecert_attest_cache.format, fmt, sizeof fmt);
        teecert_attest_cache.evidence = buf;
        teecert_attest_cache.len = n;
    }
    *len = teecert_attest_cache.len;
    memcpy(format, teecert_attest_cache.format, sizeof teecert_attest_cache.format);
    if (cap < teecert_attest_cache.len || evidence == 0)
        return TEECERT_E_ARGS; /* kept: the retry with *len bytes gets this evidence */
    memcpy(evidence, teecert_attest_cache.evidence, teecert_attest_cache.len);
    teecert_attest_cache_drop();
    return TEECERT_OK;
}
