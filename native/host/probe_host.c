/*
 * teecert probe host: serve one probe library over the teecert wire protocol.
 *
 *   teecert-probe-host [--probe LIB.so] [--listen stdio|tcp:HOST:PORT|unix:PATH|vsock:CID:PORT]
 *                      [--mlock]
 *
 * --mlock locks the host's memory (mlockall, current and future pages) before the
 * probe is loaded, as a consensus process should run; when the kernel refuses
 * (RLIMIT_MEMLOCK, no CAP_IPC_LOCK) the host says so on stderr and goes on unlocked,
 * and a profile that requires locked memory fails the run naming it.
 *
 * The probe is dlopen()ed from --probe; without it, from libteecert_probe.so in the
 * directory of this executable (where `pip install` puts both).  The protocol is
 * docs/wire-protocol.md: little-endian u32 length, u16 type, payload; every request
 * gets exactly one answer, of type (request | 0x8000) or ERROR.
 *
 * stdio (the default) serves one session on stdin/stdout and exits at EOF or BYE.
 * Socket modes accept connections forever; each connection is served by a fresh
 * worker process (fork) watched by a supervisor process, so a probe that crashes
 * takes only its connection down, and the supervisor tells the client which signal
 * killed it (an ERROR frame, code CRASHED) before closing.
 *
 * Nothing here trusts the peer: lengths are checked against the frame before use,
 * a frame longer than TEECERT_WIRE_MAX_FRAME is refused before any allocation, and
 * a peer that stalls in the middle of a frame is dropped after FRAME_TIMEOUT_MS.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<linux/vm_sockets.h>)
#include <linux/vm_sockets.h>
#define HAVE_VSOCK 1
#endif
#endif
#ifndef HAVE_VSOCK
#define HAVE_VSOCK 0
#endif

#include "fpenv.h"
#include "sha256.h"
#include "teecert_probe.h"

#define HOST_VERSION "0.1.0"

/* ---------------------------------------------------------------- protocol */

#define WIRE_PROTOCOL_VERSION 1u
#define WIRE_MAX_FRAME (64u << 20) /* type + payload, bytes */
#define WIRE_MAX_ITEMS 4096u
#define WIRE_MAX_OP_LEN 255u
#define WIRE_MAX_EVIDENCE (16u << 20)
#define WIRE_ATTEST_FIRST_CAP (64u << 10)
#define FRAME_TIMEOUT_MS 30000

enum {
    MSG_HELLO = 0x0001,
    MSG_RUN = 0x0002,
    MSG_FPENV_READ = 0x0003,
    MSG_FPENV_POISON = 0x0004,
    MSG_FPENV_RESET = 0x0005,
    MSG_TRANSCRIPT = 0x0006,
    MSG_TRANSCRIPT_RESET = 0x0007,
    MSG_ATTEST = 0x0008,
    MSG_DESCRIBE = 0x0009,
    MSG_BYE = 0x000A,
    MSG_REPLY = 0x8000,
    MSG_ERROR = 0xFFFF
};

enum {
    ERR_MALFORMED = 1,
    ERR_UNKNOWN_TYPE = 2,
    ERR_TOO_LARGE = 3,
    ERR_VERSION = 4,
    ERR_STATE = 5,
    ERR_CRASHED = 6,
    ERR_INTERNAL = 7
};

/* ------------------------------------------------------------------- probe */

struct probe {
    /* The host's own FP control state just before and just after dlopen(): a
       library whose constructors change it (crtfastmath.o, FTZ/DAZ) is caught
       exactly as the in-process harness catches it (HELLO flag bit 1). */
    uint64_t load_fpenv_before, load_fpenv_after;
    uint32_t (*abi_version)(void);
    const char *(*describe)(void);
    int32_t (*run)(const char *, const void *, size_t, void *, size_t, size_t);
    uint64_t (*fpenv_read)(char *);
    uint32_t (*fpenv_poison)(uint32_t);
    void (*fpenv_reset)(void);
    void (*transcript)(uint8_t *, uint64_t *);
    void (*transcript_reset)(void);
    int32_t (*attest)(const uint8_t *, uint8_t *, size_t, size_t *, char *);
    char path[PATH_MAX];
    uint8_t digest[32];
};

static struct probe P;

static void vnote(const char *fmt, va_list ap)
{
    fputs("teecert-probe-host: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(fmt, ap);
    va_end(ap);
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(fmt, ap);
    va_end(ap);
    exit(3);
}

static void *sym(void *lib, const char *name)
{
    void *p = dlsym(lib, name);
    if (p == NULL)
        die("%s: missing symbol %s", P.path, name);
    return p;
}

static void hash_file(const char *path, uint8_t out[32])
{
    teecert_sha256_ctx ctx;
    unsigned char buf[65536];
    size_t got;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("%s: cannot read: %s", path, strerror(errno));
    teecert_sha256_init(&ctx);
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        teecert_sha256_update(&ctx, buf, got);
    if (ferror(f))
        die("%s: read error", path);
    fclose(f);
    teecert_sha256_final(&ctx, out);
}

static void load_probe(const char *given)
{
    char guess[PATH_MAX];
    void *lib;
    const char *path = given;
    if (path == NULL) {
        /* Default: the reference probe installed next to this executable. */
        ssize_t k = readlink("/proc/self/exe", guess, sizeof guess - 32);
        char *slash;
        if (k <= 0)
            die("no --probe given and the host's own path is unknown");
        guess[k] = '\0';
        slash = strrchr(guess, '/');
        if (slash == NULL)
            die("no --probe given and the host's own path is unknown");
        strcpy(slash + 1, "libteecert_probe.so");
        path = guess;
    }
    if (realpath(path, P.path) == NULL)
        die("%s: %s", path, strerror(errno));
    hash_file(P.path, P.digest);
    P.load_fpenv_before = teecert_fpenv_raw();
    lib = dlopen(P.path, RTLD_NOW | RTLD_LOCAL);
    P.load_fpenv_after = teecert_fpenv_raw();
    if (lib == NULL)
        die("%s: not a loadable shared library (%s)", P.path, dlerror());
    /* POSIX allows converting dlsym's void * to a function pointer; memcpy keeps
       -Wpedantic quiet about it. */
#define LOAD(field, name)                                   \
    do {                                                    \
        void *p_ = sym(lib, name);                          \
        memcpy(&P.field, &p_, sizeof p_);                   \
    } while (0)
    LOAD(abi_version, "teecert_probe_abi_version");
    LOAD(describe, "teecert_probe_describe");
    LOAD(run, "teecert_probe_run");
    LOAD(fpenv_read, "teecert_probe_fpenv_read");
    LOAD(fpenv_poison, "teecert_probe_fpenv_poison");
    LOAD(fpenv_reset, "teecert_probe_fpenv_reset");
    LOAD(transcript, "teecert_probe_transcript");
    LOAD(transcript_reset, "teecert_probe_transcript_reset");
    LOAD(attest, "teecert_probe_attest");
#undef LOAD
}

/* --------------------------------------------------------------------- I/O */

static uint16_t ld16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t ld32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t ld64(const unsigned char *p) { return (uint64_t)ld32(p) | ((uint64_t)ld32(p + 4) << 32); }
static void st16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void st32(unsigned char *p, uint32_t v)
{
    int i;
    for (i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void st64(unsigned char *p, uint64_t v)
{
    st32(p, (uint32_t)v);
    st32(p + 4, (uint32_t)(v >> 32));
}
static size_t pad8(size_t n) { return (n + 7u) & ~(size_t)7u; }

/* Read exactly n bytes.  Returns 0 on success, 1 on EOF before the first byte
   (only when `eof_ok`), -1 on error, EOF in the middle, or a stall of more than
   FRAME_TIMEOUT_MS once the first byte has arrived. */
static int read_full(int fd, void *buf, size_t n, int eof_ok)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t k;
        if (got > 0 || !eof_ok) {
            struct pollfd pfd;
            int r;
            pfd.fd = fd;
            pfd.events = POLLIN;
            pfd.revents = 0;
            r = poll(&pfd, 1, FRAME_TIMEOUT_MS);
            if (r < 0 && errno == EINTR)
                continue;
            if (r == 0) {
                note("peer stalled in the middle of a frame; closing");
                return -1;
            }
        }
        k = read(fd, p + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            return (got == 0 && eof_ok) ? 1 : -1;
        got += (size_t)k;
    }
    return 0;
}

static int write_all_iov(int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t k = writev(fd, iov, cnt);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        while (cnt > 0 && (size_t)k >= iov->iov_len) {
            k -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + k;
            iov->iov_len -= (size_t)k;
        }
    }
    return 0;
}

static int send_frame(int fd, uint16_t type, const void *payload, size_t len)
{
    unsigned char hdr[6];
    struct iovec iov[2];
    if (len > WIRE_MAX_FRAME - 2)
        return -1;
    st32(hdr, (uint32_t)(len + 2));
    st16(hdr + 4, type);
    iov[0].iov_base = hdr;
    iov[0].iov_len = sizeof hdr;
    iov[1].iov_base = (void *)payload;
    iov[1].iov_len = len;
    return write_all_iov(fd, iov, len ? 2 : 1);
}

static int send_error(int fd, uint32_t code, const char *fmt, ...)
{
    unsigned char buf[1024];
    va_list ap;
    int k;
    st32(buf, code);
    va_start(ap, fmt);
    k = vsnprintf((char *)buf + 4, sizeof buf - 4, fmt, ap);
    va_end(ap);
    if (k < 0)
        k = 0;
    if ((size_t)k > sizeof buf - 5)
        k = (int)(sizeof buf - 5);
    return send_frame(fd, MSG_ERROR, buf, 4 + (size_t)k);
}

/* ---------------------------------------------------------------- handlers */

/* A growable, 8-aligned buffer (malloc alignment), bounded by WIRE_MAX_FRAME. */
struct buf {
    unsigned char *p;
    size_t cap;
};

static int buf_reserve(struct buf *b, size_t n)
{
    unsigned char *q;
    if (n <= b->cap)
        return 0;
    q = realloc(b->p, n);
    if (q == NULL)
        return -1;
    b->p = q;
    b->cap = n;
    return 0;
}

static int handle_hello(int out, const unsigned char *req, size_t len)
{
    const char *desc = P.describe();
    size_t dlen, plen = strlen(P.path), total;
    unsigned char *r;
    int rc;
    uint32_t want;
    if (len < 4)
        return send_error(out, ERR_MALFORMED, "HELLO payload of %zu bytes, need 4", len);
    want = ld32(req);
    if (want != WIRE_PROTOCOL_VERSION)
        return send_error(out, ERR_VERSION, "host speaks wire protocol %u, the client asked for %u",
                          WIRE_PROTOCOL_VERSION, want) < 0 ? -1 : 1;
    if (desc == NULL)
        desc = "";
    dlen = strnlen(desc, 1u << 20);
    total = 56 + dlen + plen + 32;
    r = calloc(1, total);
    if (r == NULL)
        return send_error(out, ERR_INTERNAL, "out of memory");
    st32(r, WIRE_PROTOCOL_VERSION);
    st32(r + 4, P.abi_version());
    st32(r + 8, WIRE_MAX_FRAME);
    /* flags: bit 0, library digest present; bit 1, load-time FP state follows */
    st32(r + 12, 3u);
    memcpy(r + 16, P.digest, 32);
    st32(r + 48, (uint32_t)dlen);
    st32(r + 52, (uint32_t)plen);
    memcpy(r + 56, desc, dlen);
    memcpy(r + 56 + dlen, P.path, plen);
    /* char[16] arch (NUL-padded), u64 before dlopen, u64 after */
    memcpy(r + 56 + dlen + plen, TEECERT_FPENV_ARCH, strlen(TEECERT_FPENV_ARCH));
    st64(r + 56 + dlen + plen + 16, P.load_fpenv_before);
    st64(r + 56 + dlen + plen + 24, P.load_fpenv_after);
    rc = send_frame(out, MSG_HELLO | MSG_REPLY, r, total);
    free(r);
    return rc;
}

/*
 * RUN request:  u32 count, u32 0, then per item (8-aligned):
 *   u32 op_len, u32 0, u64 n, u64 in_bytes, u64 out_bytes, op (padded to 8), in (padded to 8)
 * RUN reply:    u32 count, u32 0, then per item: i32 status, u32 0, u64 out_len, out (padded to 8)
 */
static int handle_run(int out, const unsigned char *req, size_t len, struct buf *resp)
{
    uint32_t count, i;
    size_t off = 8, rlen = 8;
    char op[WIRE_MAX_OP_LEN + 1];
    if (len < 8)
        return send_error(out, ERR_MALFORMED, "RUN payload of %zu bytes, need 8", len);
    count = ld32(req);
    if (count == 0 || count > WIRE_MAX_ITEMS)
        return send_error(out, ERR_MALFORMED, "RUN with %u items (1..%u allowed)", count, WIRE_MAX_ITEMS);
    /* Pass 1: validate every item against the frame and size the reply. */
    for (i = 0; i < count; i++) {
        uint32_t op_len;
        uint64_t in_bytes, out_bytes;
        if (len - off < 32)
            return send_error(out, ERR_MALFORMED, "RUN item %u: header runs past the frame", i);
        op_len = ld32(req + off);
        in_bytes = ld64(req + off + 16);
        out_bytes = ld64(req + off + 24);
        if (op_len == 0 || op_len > WIRE_MAX_OP_LEN)
            return send_error(out, ERR_MALFORMED, "RUN item %u: op id of %u bytes", i, op_len);
        off += 32;
        if (len - off < pad8(op_len))
            return send_error(out, ERR_MALFORMED, "RUN item %u: op id runs past the frame", i);
        off += pad8(op_len);
        if (in_bytes > len - off || pad8((size_t)in_bytes) > len - off)
            return send_error(out, ERR_MALFORMED, "RUN item %u: %llu input bytes run past the frame",
                              i, (unsigned long long)in_bytes);
        off += pad8((size_t)in_bytes);
        if (out_bytes > WIRE_MAX_FRAME || rlen + 16 + pad8((size_t)out_bytes) > WIRE_MAX_FRAME - 2)
            return send_error(out, ERR_TOO_LARGE, "RUN item %u: the reply would exceed the %u-byte frame limit",
                              i, WIRE_MAX_FRAME);
        rlen += 16 + pad8((size_t)out_bytes);
    }
    if (off != len)
        return send_error(out, ERR_MALFORMED, "RUN: %zu trailing bytes after %u items", len - off, count);
    if (buf_reserve(resp, rlen) < 0)
        return send_error(out, ERR_INTERNAL, "out of memory for a %zu-byte reply", rlen);
    /* Pass 2: run. */
    st32(resp->p, count);
    st32(resp->p + 4, 0);
    off = 8;
    rlen = 8;
    for (i = 0; i < count; i++) {
        uint32_t op_len = ld32(req + off);
        uint64_t n = ld64(req + off + 8), in_bytes = ld64(req + off + 16), out_bytes = ld64(req + off + 24);
        const unsigned char *in;
        unsigned char *o = resp->p + rlen + 16;
        int32_t status;
        off += 32;
        memcpy(op, req + off, op_len);
        op[op_len] = '\0';
        off += pad8(op_len);
        in = req + off;
        off += pad8((size_t)in_bytes);
        if (strlen(op) != op_len || n > SIZE_MAX)
            status = TEECERT_E_ARGS;
        else
            status = P.run(op, in, (size_t)in_bytes, o, (size_t)out_bytes, (size_t)n);
        st32(resp->p + rlen, (uint32_t)status);
        st32(resp->p + rlen + 4, 0);
        st64(resp->p + rlen + 8, status == TEECERT_OK ? out_bytes : 0);
        if (status == TEECERT_OK) {
            memset(o + out_bytes, 0, pad8((size_t)out_bytes) - (size_t)out_bytes);
            rlen += 16 + pad8((size_t)out_bytes);
        } else {
            rlen += 16;
        }
    }
    return send_frame(out, MSG_RUN | MSG_REPLY, resp->p, rlen);
}

static int handle_attest(int out, const unsigned char *req, size_t len)
{
    size_t cap = WIRE_ATTEST_FIRST_CAP, need = 0;
    unsigned char *r = NULL;
    char fmt[16];
    int32_t status;
    int tries, rc;
    if (len != 64)
        return send_error(out, ERR_MALFORMED, "ATTEST payload of %zu bytes, need 64", len);
    for (tries = 0; tries < 2; tries++) {
        unsigned char *q = realloc(r, 24 + cap);
        if (q == NULL) {
            free(r);
            return send_error(out, ERR_INTERNAL, "out of memory");
        }
        r = q;
        memset(fmt, 0, sizeof fmt);
        need = 0;
        status = P.attest(req, r + 24, cap, &need, fmt);
        if (status == TEECERT_E_ARGS && need > cap && need <= WIRE_MAX_EVIDENCE && tries == 0) {
            cap = need;
            continue;
        }
        break;
    }
    st32(r, (uint32_t)status);
    st32(r + 4, (uint32_t)(need > 0xffffffffu ? 0xffffffffu : need));
    memcpy(r + 8, fmt, 16);
    rc = send_frame(out, MSG_ATTEST | MSG_REPLY, r, 24 + (status == TEECERT_OK && need <= cap ? need : 0));
    free(r);
    return rc;
}

/* Serve one session on (in, out).  Returns 0 at a clean end (EOF, BYE). */
static int serve(int in, int out)
{
    struct buf req = {NULL, 0}, resp = {NULL, 0};
    int hello = 0, rc = 0;
    for (;;) {
        unsigned char hdr[6], small[48];
        uint32_t flen;
        uint16_t type;
        size_t plen;
        int r = read_full(in, hdr, 4, 1);
        if (r == 1)
            break;
        if (r < 0 || read_full(in, hdr + 4, 2, 0) < 0) {
            if (r == 0)
                note("peer closed the stream in the middle of a frame header");
            rc = 1;
            break;
        }
        flen = ld32(hdr);
        type = ld16(hdr + 4);
        if (flen < 2) {
            send_error(out, ERR_MALFORMED, "frame length %u is shorter than its type field", flen);
            rc = 1;
            break;
        }
        if (flen > WIRE_MAX_FRAME) {
            /* Refused before any allocation; the stream cannot be resynchronised. */
            send_error(out, ERR_TOO_LARGE, "frame of %u bytes exceeds the %u-byte limit", flen, WIRE_MAX_FRAME);
            rc = 1;
            break;
        }
        plen = flen - 2;
        if (buf_reserve(&req, plen ? plen : 1) < 0) {
            send_error(out, ERR_INTERNAL, "out of memory for a %zu-byte frame", plen);
            rc = 1;
            break;
        }
        if (plen && read_full(in, req.p, plen, 0) < 0) {
            note("peer closed the stream in the middle of a %u-byte frame", flen);
            rc = 1;
            break;
        }
        if (!hello && type != MSG_HELLO) {
            r = send_error(out, ERR_STATE, "expected HELLO first, got message type 0x%04x", type);
            rc = 1;
            break;
        }
        switch (type) {
        case MSG_HELLO:
            r = handle_hello(out, req.p, plen);
            if (r == 0)
                hello = 1;
            break;
        case MSG_RUN:
            r = handle_run(out, req.p, plen, &resp);
            break;
        case MSG_FPENV_READ: {
            char arch[16];
            memset(arch, 0, sizeof arch);
            st64(small, P.fpenv_read(arch));
            arch[15] = '\0';
            memcpy(small + 8, arch, 16);
            r = send_frame(out, type | MSG_REPLY, small, 24);
            break;
        }
        case MSG_FPENV_POISON:
            if (plen != 4) {
                r = send_error(out, ERR_MALFORMED, "FPENV_POISON payload of %zu bytes, need 4", plen);
                break;
            }
            st32(small, P.fpenv_poison(ld32(req.p)));
            r = send_frame(out, type | MSG_REPLY, small, 4);
            break;
        case MSG_FPENV_RESET:
            P.fpenv_reset();
            r = send_frame(out, type | MSG_REPLY, NULL, 0);
            break;
        case MSG_TRANSCRIPT: {
            uint64_t calls = 0;
            P.transcript(small, &calls);
            st64(small + 32, calls);
            r = send_frame(out, type | MSG_REPLY, small, 40);
            break;
        }
        case MSG_TRANSCRIPT_RESET:
            P.transcript_reset();
            r = send_frame(out, type | MSG_REPLY, NULL, 0);
            break;
        case MSG_ATTEST:
            r = handle_attest(out, req.p, plen);
            break;
        case MSG_DESCRIBE: {
            const char *d = P.describe();
            r = send_frame(out, type | MSG_REPLY, d ? d : "", d ? strnlen(d, 1u << 20) : 0);
            break;
        }
        case MSG_BYE:
            send_frame(out, type | MSG_REPLY, NULL, 0);
            free(req.p);
            free(resp.p);
            return 0;
        default:
            r = send_error(out, ERR_UNKNOWN_TYPE, "unknown message type 0x%04x", type);
            break;
        }
        if (r != 0) {
            rc = r < 0 ? 1 : 0;
            break;
        }
    }
    free(req.p);
    free(resp.p);
    return rc;
}

/* ------------------------------------------------------------------ sockets */

static int listen_on(const char *spec, char *shown, size_t shown_len)
{
    int fd = -1, one = 1;
    if (strncmp(spec, "tcp:", 4) == 0) {
        char host[256];
        const char *port = strrchr(spec + 4, ':');
        struct addrinfo hints, *ai = NULL, *a;
        int e;
        if (port == NULL || (size_t)(port - spec - 4) >= sizeof host)
            die("--listen %s: expected tcp:HOST:PORT", spec);
        memcpy(host, spec + 4, (size_t)(port - spec - 4));
        host[port - spec - 4] = '\0';
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            memmove(host, host + 1, strlen(host));
            host[strlen(host) - 1] = '\0';
        }
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE;
        e = getaddrinfo(host[0] ? host : NULL, port + 1, &hints, &ai);
        if (e != 0)
            die("--listen %s: %s", spec, gai_strerror(e));
        for (a = ai; a != NULL; a = a->ai_next) {
            fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
            if (fd < 0)
                continue;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (bind(fd, a->ai_addr, a->ai_addrlen) == 0)
                break;
            close(fd);
            fd = -1;
        }
        freeaddrinfo(ai);
        if (fd < 0)
            die("--listen %s: cannot bind: %s", spec, strerror(errno));
        {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            char h[NI_MAXHOST], s[NI_MAXSERV];
            getsockname(fd, (struct sockaddr *)&ss, &sl);
            if (getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, s, sizeof s, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
                snprintf(shown, shown_len, "tcp:%s%s%s:%s", strchr(h, ':') ? "[" : "", h, strchr(h, ':') ? "]" : "", s);
        }
    } else if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sa;
        struct stat st;
        const char *path = spec + 5;
        if (strlen(path) == 0 || strlen(path) >= sizeof sa.sun_path)
            die("--listen %s: Unix socket path empty or longer than %zu bytes", spec, sizeof sa.sun_path - 1);
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            unlink(path);
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
            die("--listen %s: cannot bind: %s", spec, strerror(errno));
        snprintf(shown, shown_len, "unix:%s", path);
    } else if (strncmp(spec, "vsock:", 6) == 0) {
#if HAVE_VSOCK
        struct sockaddr_vm sa;
        unsigned long cid, port;
        char *end;
        const char *colon = strchr(spec + 6, ':');
        if (colon == NULL)
            die("--listen %s: expected vsock:CID:PORT", spec);
        cid = strtoul(spec + 6, &end, 10);
        if (end != colon)
            die("--listen %s: CID is not a number", spec);
        port = strtoul(colon + 1, &end, 10);
        if (*end != '\0' || port > 0xffffffffUL || cid > 0xffffffffUL)
            die("--listen %s: PORT is not a 32-bit number", spec);
        memset(&sa, 0, sizeof sa);
        sa.svm_family = AF_VSOCK;
        sa.svm_cid = (unsigned int)cid;
        sa.svm_port = (unsigned int)port;
        fd = socket(AF_VSOCK, SOCK_STREAM, 0);
        if (fd < 0)
            die("--listen %s: this kernel has no AF_VSOCK sockets (%s)", spec, strerror(errno));
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
            die("--listen %s: cannot bind: %s", spec, strerror(errno));
        snprintf(shown, shown_len, "vsock:%lu:%lu", cid, port);
#else
        die("--listen %s: this host was built without AF_VSOCK support (no <linux/vm_sockets.h>)", spec);
#endif
    } else {
        die("--listen %s: expected stdio, tcp:HOST:PORT, unix:PATH or vsock:CID:PORT", spec);
    }
    if (listen(fd, 16) != 0)
        die("--listen %s: %s", spec, strerror(errno));
    return fd;
}

static const char *signal_name(int sig)
{
    static char other[24];
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    default:
        snprintf(other, sizeof other, "signal %d", sig);
        return other;
    }
}

/* One connection: a worker serves it; this supervisor reports the worker's death
   by a signal to the client and kills a worker hung after the client left. */
static void supervise(int conn)
{
    pid_t w;
    int status = 0, one = 1;
    signal(SIGCHLD, SIG_DFL);
    setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly off TCP */
    w = fork();
    if (w < 0) {
        send_error(conn, ERR_INTERNAL, "cannot fork a worker: %s", strerror(errno));
        _exit(1);
    }
    if (w == 0)
        _exit(serve(conn, conn));
    for (;;) {
        struct pollfd pfd;
        pid_t r = waitpid(w, &status, WNOHANG);
        if (r == w)
            break;
        pfd.fd = conn;
        pfd.events = POLLRDHUP;
        pfd.revents = 0;
        if (poll(&pfd, 1, 100) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
            /* The client left; a healthy worker sees EOF and exits at once. */
            int k;
            for (k = 0; k < 20 && waitpid(w, &status, WNOHANG) == 0; k++)
                usleep(50000);
            if (waitpid(w, &status, WNOHANG) == 0) {
                kill(w, SIGKILL);
                waitpid(w, &status, 0);
                note("killed a worker still busy after its client left");
                _exit(0);
            }
            break;
        }
    }
    if (WIFSIGNALED(status)) {
        send_error(conn, ERR_CRASHED, "probe crashed with %s", signal_name(WTERMSIG(status)));
    }
    _exit(0);
}

static void serve_listening(int lfd)
{
    signal(SIGCHLD, SIG_IGN); /* supervisors are reaped automatically */
    for (;;) {
        pid_t s;
        int conn = accept(lfd, NULL, NULL);
        if (conn < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            die("accept: %s", strerror(errno));
        }
        s = fork();
        if (s == 0) {
            close(lfd);
            supervise(conn);
        }
        if (s < 0)
            send_error(conn, ERR_INTERNAL, "cannot fork: %s", strerror(errno));
        close(conn);
    }
}

static void usage(FILE *f)
{
    fputs("usage: teecert-probe-host [--probe LIB.so] [--listen stdio|tcp:HOST:PORT|unix:PATH|vsock:CID:PORT] [--mlock]\n"
          "Serve a teecert probe over the teecert wire protocol v1 (docs/wire-protocol.md).\n"
          "Without --probe, loads libteecert_probe.so from this executable's directory.\n",
          f);
}

int main(int argc, char **argv)
{
    const char *probe = NULL, *listen_spec = "stdio";
    int i, lock = 0;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--probe") == 0 && i + 1 < argc)
            probe = argv[++i];
        else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen_spec = argv[++i];
        else if (strcmp(argv[i], "--mlock") == 0)
            lock = 1;
        else if (strcmp(argv[i], "--version") == 0) {
            printf("teecert-probe-host %s (wire protocol %u, probe ABI %u)\n", HOST_VERSION,
                   WIRE_PROTOCOL_VERSION, TEECERT_PROBE_ABI_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (lock) {
        /* With MCL_FUTURE every later page counts against RLIMIT_MEMLOCK: a small
           limit would make the host's own buffers fail later, so lock only when the
           limit is generous (or ignored: CAP_IPC_LOCK, which root has). */
        struct rlimit rl;
        const rlim_t need = (rlim_t)512 << 20;
        if (geteuid() != 0 && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            rl.rlim_cur < need)
            note("--mlock: memory not locked: RLIMIT_MEMLOCK is %llu bytes, at least %llu needed "
                 "(ulimit -l, or CAP_IPC_LOCK)", (unsigned long long)rl.rlim_cur,
                 (unsigned long long)need);
        else if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
            note("--mlock: memory not locked: %s", strerror(errno));
    }
    load_probe(probe);
    if (strcmp(listen_spec, "stdio") == 0) {
        /* The protocol owns stdout: anything the probe prints goes to stderr. */
        int out = dup(1);
        if (out < 0 || dup2(2, 1) < 0)
            die("cannot set up stdio: %s", strerror(errno));
        return serve(0, out);
    } else {
        char shown[1200] = "";
        int lfd = listen_on(listen_spec, shown, sizeof shown);
        printf("listening %s\n", shown[0] ? shown : listen_spec);
        fflush(stdout);
        serve_listening(lfd);
    }
    return 0;
}
