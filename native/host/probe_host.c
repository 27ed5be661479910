/*
 * teecert probe host: serve one probe library over the teecert wire protocol.
 *
 *   teecert-probe-host [--probe LIB.so] [--listen stdio|tcp:HOST:PORT|unix:PATH|vsock:CID:PORT]
 *                      [--mlock] [--token-file FILE | --insecure-no-auth] [--max-workers N]
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
 *
 * Nor is the host an oracle for whoever reaches it: with a token (--token-file, or
 * TEECERT_HOST_TOKEN; never on the command line, which /proc shows to everyone) a
 * client must answer the host's challenge before HELLO, and TCP and vsock listeners
 * refuse to start without one unless told --insecure-no-auth; a Unix socket is
 * created 0600 and, without a token, serves only the host's own uid and root
 * (SO_PEERCRED).  At most --max-workers connections are served at once.  The host
 * makes an Ed25519 key when it starts (hostkey.h): evidence it collects commits to
 * that key and never to the client's 64 bytes alone, and it signs the transcripts
 * it serves, so a report can show that this host served those results.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
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
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
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

#include "accel/accel.h"
#include "fpenv.h"
#include "hostfacts.h"
#include "hostkey.h"
#include "sha256.h"
#include "teecert_probe.h"

#define HOST_VERSION "0.1.0"

/* ---------------------------------------------------------------- protocol */

#define WIRE_PROTOCOL_VERSION 3u
/* Version 2 clients are still served, without shared memory (they do not ask). */
#define WIRE_PROTOCOL_MIN 2u
#define WIRE_MAX_FRAME (64u << 20) /* type + payload, bytes */
#define WIRE_MAX_ITEMS 4096u
#define WIRE_MAX_OP_LEN 255u
#define WIRE_MAX_EVIDENCE (16u << 20)
#define WIRE_ATTEST_FIRST_CAP (64u << 10)
#define FRAME_TIMEOUT_MS 30000
/* A socket peer must finish the handshake (CHALLENGE, HELLO) this fast, so that
   idle connections cannot hold the worker slots. */
#define HANDSHAKE_TIMEOUT_MS 10000
#define DEFAULT_MAX_WORKERS 8
#define MAX_MAX_WORKERS 1024
#define TOKEN_MIN 32u
#define TOKEN_MAX 4096u
#define NONCE_BYTES 32u
#define PRE_HELLO_MAX_FRAME 4096u
/* Shared memory (SHM_ATTACH, RUN_SHM): the largest region a client may attach. */
#define SHM_MIN_BYTES 4096u
#define SHM_MAX_BYTES ((uint64_t)1 << 30)
/* memfd seals (Linux 3.17); older C libraries lack the names. */
#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_SHRINK
#define F_SEAL_SHRINK 0x0002
#endif

/* Domain-separation labels of docs/wire-protocol.md: the attest and transcript
   labels are used with their terminating NUL, the auth label without it.
   teecert.probe.hostkey computes the same messages independently. */
static const char AUTH_LABEL[] = "teecert-host-auth-v1";
static const char ATTEST_LABEL[] = "teecert-host-attest-v1"; /* + NUL */
static const char TRANSCRIPT_LABEL[] = "teecert-host-transcript-v1"; /* + NUL */

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
    MSG_CHALLENGE = 0x000B,
    MSG_FPSTATE = 0x0020,
    MSG_CONFORM = 0x0021,
    MSG_SHM_ATTACH = 0x0030,
    MSG_RUN_SHM = 0x0031,
    MSG_RUN_GEN = 0x0032,
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
    ERR_INTERNAL = 7,
    ERR_AUTH = 8,
    ERR_BUSY = 9
};

/* HELLO request flags */
#define HELLO_AUTH_PROOF 1u
#define HELLO_WANT_SHM 0x100u /* protocol 3: the client would attach shared memory */
/* HELLO reply flags */
#define HELLO_LIBRARY_DIGEST 1u
#define HELLO_LOAD_FPENV 2u
#define HELLO_HOST_KEY 4u
#define HELLO_HOST_FACTS 8u
#define HELLO_SHM 0x100u /* SHM_ATTACH is served in this session */
#define HELLO_GEN 0x200u /* and RUN_GEN: the host makes a float stream's inputs */
/* CHALLENGE reply flags */
#define CHALLENGE_TOKEN_REQUIRED 1u
/* ATTEST reply flags */
#define ATTEST_WRAPPED 1u

/* Who may use this host (set once in main, before any fork). */
static struct {
    unsigned char token[TOKEN_MAX];
    size_t token_len; /* 0: no token configured */
    int socket_session; /* a socket session: the handshake has a deadline */
    int check_peer_uid; /* a Unix socket without a token: only our uid and root */
} AUTH;

/* Shared memory with the client (docs/wire-protocol.md, "Shared memory").  The
   region is hostile-writable: the client can change any byte of it at any time, so
   the host reads a request's offsets only from the frame (its own memory), checks
   every range against `size`, copies inputs out before the probe sees them and
   copies outputs in after the probe (and its transcript) is done with them. */
enum { SHM_NONE = 0, SHM_BY_NUMBER = 1, SHM_BY_SCM_RIGHTS = 2 };
static struct {
    int how;             /* how a region reaches this session (set in main) */
    int offered;         /* HELLO asked for it and it was offered */
    int passed_fd;       /* a descriptor that came with the current frame, or -1 */
    unsigned char *base; /* the mapping, or NULL */
    size_t size;
} SHM = {SHM_NONE, 0, -1, NULL, 0};

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

/* The host's own watch over its FP control state (docs/wire-protocol.md, FPSTATE):
   the probe's fpenv_* functions are recorded, never relied on.  `expected` is the
   control state the host last installed (or the state after dlopen); it is read
   before each call into the probe, to catch asynchronous changes between calls
   (a signal handler editing the saved context), and after it, to catch a probe that
   does not give the caller's state back.  The first difference is kept with the
   call that showed it; the state is then put back so one fault does not cascade. */
static struct {
    uint64_t expected;
    uint64_t calls;
    uint32_t violations;
    uint32_t kind; /* 0 none, 1 changed between calls, 2 changed by a call */
    uint64_t call_no, want, seen;
    char what[64];
} W;

static void watch_check(const char *what, uint32_t kind)
{
    uint64_t now = teecert_fpenv_raw();
    if (((now ^ W.expected) & TEECERT_FPENV_CONTROL_MASK) == 0)
        return;
    if (W.violations++ == 0) {
        W.kind = kind;
        W.call_no = W.calls;
        W.want = W.expected;
        W.seen = now;
        snprintf(W.what, sizeof W.what, "%s", what);
    }
    teecert_fpenv_set_raw((now & ~TEECERT_FPENV_CONTROL_MASK) | (W.expected & TEECERT_FPENV_CONTROL_MASK));
}

/* Bracket every call into the probe: WATCH_BEFORE before it, WATCH_AFTER after it. */
#define WATCH_BEFORE(what) (W.calls++, watch_check((what), 1))
#define WATCH_AFTER(what) watch_check((what), 2)

static int32_t watched_run(const char *op, const void *in, size_t in_bytes, void *out, size_t out_bytes,
                           size_t n)
{
    int32_t status;
    WATCH_BEFORE(op);
    status = P.run(op, in, in_bytes, out, out_bytes, n);
    WATCH_AFTER(op);
    return status;
}

static const char *watched_describe(void)
{
    const char *d;
    WATCH_BEFORE("describe()");
    d = P.describe();
    WATCH_AFTER("describe()");
    return d;
}

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
    W.expected = P.load_fpenv_after;
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

/* read(), except on a Unix socket serving shared memory, where a descriptor may come
   with the bytes (SCM_RIGHTS): the first one is kept in SHM.passed_fd for the frame
   being read, any other is closed at once.  With read() the kernel would drop it. */
static ssize_t read_some(int fd, void *buf, size_t n)
{
    union {
        struct cmsghdr align;
        unsigned char space[CMSG_SPACE(4 * sizeof(int))];
    } control;
    struct msghdr msg;
    struct iovec iov;
    struct cmsghdr *c;
    ssize_t k;
    if (SHM.how != SHM_BY_SCM_RIGHTS)
        return read(fd, buf, n);
    memset(&msg, 0, sizeof msg);
    iov.iov_base = buf;
    iov.iov_len = n;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.space;
    msg.msg_controllen = sizeof control.space;
    k = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (k < 0)
        return k;
    for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        size_t i, cnt;
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < cnt; i++) {
            int got;
            memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
            if (SHM.passed_fd < 0)
                SHM.passed_fd = got;
            else
                close(got);
        }
    }
    return k;
}

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
        k = read_some(fd, p + got, n - got);
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

/* buf_reserve for a buffer whose contents need not survive (the shared-memory
   loop's private copies), at a cache line: the generator's 64-byte vector stores
   would otherwise each straddle two lines. */
static int buf_reserve_lines(struct buf *b, size_t n)
{
    void *q;
    if (n <= b->cap)
        return 0;
    if (posix_memalign(&q, 64, n) != 0)
        return -1;
    free(b->p);
    b->p = q;
    b->cap = n;
    return 0;
}

/* The session's authentication state: the nonce of the last CHALLENGE, if any. */
struct session_auth {
    unsigned char nonce[NONCE_BYTES];
    int have_nonce;
};

static int handle_challenge(int out, size_t len, struct session_auth *sa)
{
    unsigned char r[NONCE_BYTES + 8];
    if (len != 0)
        return send_error(out, ERR_MALFORMED, "CHALLENGE payload of %zu bytes, need 0", len);
    if (hostkey_random(sa->nonce, NONCE_BYTES) != 0)
        return send_error(out, ERR_INTERNAL, "no random bytes for a challenge");
    sa->have_nonce = 1;
    memcpy(r, sa->nonce, NONCE_BYTES);
    st32(r + NONCE_BYTES, AUTH.token_len ? CHALLENGE_TOKEN_REQUIRED : 0u);
    st32(r + NONCE_BYTES + 4, 0);
    return send_frame(out, MSG_CHALLENGE | MSG_REPLY, r, sizeof r);
}

/* 1 when the HELLO request proves the token: HMAC-SHA256(token, nonce || AUTH_LABEL)
   over this session's last challenge, compared in constant time.  The nonce is used
   once, whatever the outcome. */
static int proof_ok(const unsigned char *proof, struct session_auth *sa)
{
    unsigned char msg[NONCE_BYTES + sizeof AUTH_LABEL], mac[32];
    int had = sa->have_nonce, ok;
    sa->have_nonce = 0;
    if (!had)
        return 0;
    memcpy(msg, sa->nonce, NONCE_BYTES);
    memcpy(msg + NONCE_BYTES, AUTH_LABEL, sizeof AUTH_LABEL - 1);
    if (hostkey_hmac_sha256(AUTH.token, AUTH.token_len, msg, NONCE_BYTES + sizeof AUTH_LABEL - 1, mac) != 0)
        return 0;
    ok = hostkey_equal(mac, proof, 32);
    memset(mac, 0, sizeof mac);
    return ok;
}

/* HELLO: returns 0 when the session may go on, 1 when it must end (after an ERROR
   the client was sent), -1 on a write error. */
static int handle_hello(int out, const unsigned char *req, size_t len, struct session_auth *sa)
{
    const char *desc;
    char *facts = NULL;
    size_t dlen, plen = strlen(P.path), flen = 0, total, off;
    unsigned char *r;
    int rc, keyed = hostkey_available();
    uint32_t want, flags = 0, rflags;
    if (len != 8 && len != 8 + 32)
        return send_error(out, ERR_MALFORMED, "HELLO payload of %zu bytes, need 8 (or 40 with a proof)", len) < 0
                   ? -1 : 1;
    want = ld32(req);
    flags = ld32(req + 4);
    if ((flags & HELLO_AUTH_PROOF) != (len == 40 ? HELLO_AUTH_PROOF : 0u) ||
        (flags & ~(HELLO_AUTH_PROOF | HELLO_WANT_SHM)))
        return send_error(out, ERR_MALFORMED, "HELLO flags 0x%x do not match its %zu bytes", flags, len) < 0
                   ? -1 : 1;
    /* Authentication first: a client without the token learns nothing more. */
    if (AUTH.token_len) {
        if (!(flags & HELLO_AUTH_PROOF)) {
            sa->have_nonce = 0;
            return send_error(out, ERR_AUTH, "authentication required: this host serves only clients "
                              "that hold its token") < 0 ? -1 : 1;
        }
        if (!proof_ok(req + 8, sa))
            return send_error(out, ERR_AUTH, "authentication failed") < 0 ? -1 : 1;
    }
    sa->have_nonce = 0;
    if (want < WIRE_PROTOCOL_MIN || want > WIRE_PROTOCOL_VERSION)
        return send_error(out, ERR_VERSION, "host speaks wire protocol %u to %u, the client asked for %u",
                          WIRE_PROTOCOL_MIN, WIRE_PROTOCOL_VERSION, want) < 0 ? -1 : 1;
    /* Shared memory only where a descriptor can reach this process (a child's
       inherited fd, SCM_RIGHTS on a Unix socket), never over TCP or vsock. */
    SHM.offered = want >= 3u && (flags & HELLO_WANT_SHM) && SHM.how != SHM_NONE;
    desc = watched_describe();
    if (desc == NULL)
        desc = "";
    dlen = strnlen(desc, 1u << 20);
    facts = hostfacts_json(&flen);
    total = 56 + dlen + plen + 32 + (keyed ? HOSTKEY_PUBLIC_BYTES : 0) + (facts ? 4 + flen : 0);
    r = calloc(1, total);
    if (r == NULL) {
        free(facts);
        return send_error(out, ERR_INTERNAL, "out of memory") < 0 ? -1 : 1;
    }
    rflags = HELLO_LIBRARY_DIGEST | HELLO_LOAD_FPENV | (keyed ? HELLO_HOST_KEY : 0u) |
             (facts ? HELLO_HOST_FACTS : 0u) | (SHM.offered ? HELLO_SHM | HELLO_GEN : 0u);
    st32(r, want);
    st32(r + 4, P.abi_version());
    st32(r + 8, WIRE_MAX_FRAME);
    st32(r + 12, rflags);
    memcpy(r + 16, P.digest, 32);
    st32(r + 48, (uint32_t)dlen);
    st32(r + 52, (uint32_t)plen);
    memcpy(r + 56, desc, dlen);
    memcpy(r + 56 + dlen, P.path, plen);
    off = 56 + dlen + plen;
    /* char[16] arch (NUL-padded), u64 before dlopen, u64 after */
    memcpy(r + off, TEECERT_FPENV_ARCH, strlen(TEECERT_FPENV_ARCH));
    st64(r + off + 16, P.load_fpenv_before);
    st64(r + off + 24, P.load_fpenv_after);
    off += 32;
    if (keyed) {
        memcpy(r + off, hostkey_public(), HOSTKEY_PUBLIC_BYTES);
        off += HOSTKEY_PUBLIC_BYTES;
    }
    if (facts) {
        st32(r + off, (uint32_t)flen);
        memcpy(r + off + 4, facts, flen);
        free(facts);
    }
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
            status = watched_run(op, in, (size_t)in_bytes, o, (size_t)out_bytes, (size_t)n);
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

/* Forget the attached region (a new SHM_ATTACH replaces it, a failed one too). */
static void shm_detach(void)
{
    if (SHM.base != NULL)
        munmap(SHM.base, SHM.size);
    SHM.base = NULL;
    SHM.size = 0;
}

/*
 * SHM_ATTACH request: u32 fd, u32 0, u64 size.  On stdio `fd` is the number of a
 * descriptor the host inherited; on a Unix socket it is 0xFFFFFFFF and the
 * descriptor comes with the frame (SCM_RIGHTS).  It must be a memfd sealed against
 * shrinking (F_SEAL_SHRINK): otherwise the client could truncate it under the
 * mapping and a copy would die from SIGBUS.  Reply: u64 the bytes mapped.
 */
static int handle_shm_attach(int out, const unsigned char *req, size_t len, int in_fd, int out_fd)
{
    uint32_t named;
    uint64_t size;
    int fd, seals, rc;
    struct stat st;
    void *map;
    unsigned char r[8];
    if (!SHM.offered)
        return send_error(out, ERR_STATE, "SHM_ATTACH without shared memory offered in HELLO");
    if (len != 16)
        return send_error(out, ERR_MALFORMED, "SHM_ATTACH payload of %zu bytes, need 16", len);
    named = ld32(req);
    size = ld64(req + 8);
    shm_detach();
    if (SHM.how == SHM_BY_SCM_RIGHTS) {
        if (named != 0xFFFFFFFFu || SHM.passed_fd < 0)
            return send_error(out, ERR_MALFORMED, "SHM_ATTACH on a Unix socket must carry its descriptor "
                              "(SCM_RIGHTS) and name fd 0xffffffff");
        fd = SHM.passed_fd;
        SHM.passed_fd = -1;
    } else {
        if (named <= 2u || named > (uint32_t)INT_MAX || (int)named == in_fd || (int)named == out_fd)
            return send_error(out, ERR_MALFORMED, "SHM_ATTACH names fd %u, not an inherited memfd", named);
        fd = (int)named;
    }
    rc = 0;
    if (size < SHM_MIN_BYTES || size > SHM_MAX_BYTES)
        rc = send_error(out, ERR_MALFORMED, "SHM_ATTACH of %llu bytes (%u to %llu allowed)",
                        (unsigned long long)size, SHM_MIN_BYTES, (unsigned long long)SHM_MAX_BYTES);
    else if ((seals = fcntl(fd, F_GET_SEALS)) < 0 || !(seals & F_SEAL_SHRINK))
        rc = send_error(out, ERR_MALFORMED, "SHM_ATTACH: fd %u is not a memfd sealed against shrinking", named);
    else if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < size)
        rc = send_error(out, ERR_MALFORMED, "SHM_ATTACH of %llu bytes: the memfd is smaller",
                        (unsigned long long)size);
    else if ((map = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
        rc = send_error(out, ERR_INTERNAL, "SHM_ATTACH: cannot map %llu bytes: %s", (unsigned long long)size,
                        strerror(errno));
    else {
        SHM.base = map;
        SHM.size = (size_t)size;
        st64(r, size);
        rc = send_frame(out, MSG_SHM_ATTACH | MSG_REPLY, r, sizeof r);
    }
    /* The mapping keeps the memory, so the descriptor goes.  On stdio a number that
       failed the checks is left alone: it may be one of the host's own. */
    if (SHM.how == SHM_BY_SCM_RIGHTS || SHM.base != NULL)
        close(fd);
    return rc;
}

/* 1 when [off, off + len) lies inside the attached region (no overflow). */
static int shm_range_ok(uint64_t off, uint64_t len)
{
    return off <= SHM.size && len <= SHM.size - off;
}

/* The head of a RUN_SHM or RUN_GEN request (`name`): an attached region and 1 to
   WIRE_MAX_ITEMS items.  0 and *count when the request may go on; else 1, with *rc
   what sending the ERROR returned. */
static int shm_batch_refused(int out, const unsigned char *req, size_t len, const char *name, uint32_t *count,
                             int *rc)
{
    if (SHM.base == NULL)
        *rc = send_error(out, ERR_STATE, "%s without an attached region (SHM_ATTACH first)", name);
    else if (len < 8)
        *rc = send_error(out, ERR_MALFORMED, "%s payload of %zu bytes, need 8", name, len);
    else if ((*count = ld32(req)) == 0 || *count > WIRE_MAX_ITEMS)
        *rc = send_error(out, ERR_MALFORMED, "%s with %u items (1..%u allowed)", name, *count, WIRE_MAX_ITEMS);
    else
        return 0;
    return 1;
}

/* The reply of `count` items and the host's own input and output buffers, at least
   in_max and out_max bytes (cache-line aligned); the reply's head written. */
static int shm_batch_buffers(struct buf *resp, struct buf *in_copy, struct buf *out_copy, uint32_t count,
                             size_t in_max, size_t out_max)
{
    if (buf_reserve(resp, 8 + 16 * (size_t)count) < 0 || buf_reserve_lines(in_copy, in_max ? in_max : 1) < 0 ||
        buf_reserve_lines(out_copy, out_max ? out_max : 1) < 0)
        return -1;
    st32(resp->p, count);
    st32(resp->p + 4, 0);
    return 0;
}

/* One call of a RUN_SHM or RUN_GEN request from inputs in the host's own memory: the
   probe computes into the host's output buffer, where it folds its transcript, and
   only then are the outputs copied to the region; its reply item goes to r.  A call
   refused before it ran (`status` not TEECERT_OK) only gets its reply item. */
static void shm_batch_call(int32_t status, const char *op, const void *in, size_t in_bytes, struct buf *out_copy,
                           uint64_t out_off, uint64_t out_bytes, uint64_t n, unsigned char *r)
{
    if (status == TEECERT_OK) {
        status = watched_run(op, in, in_bytes, out_copy->p, (size_t)out_bytes, (size_t)n);
        if (status == TEECERT_OK)
            memcpy(SHM.base + out_off, out_copy->p, (size_t)out_bytes);
    }
    st32(r, (uint32_t)status);
    st32(r + 4, 0);
    st64(r + 8, status == TEECERT_OK ? out_bytes : 0);
}

/*
 * RUN_SHM request: u32 count, u32 0, then per item (8-aligned):
 *   u32 op_len, u32 0, u64 n, u64 in_off, u64 in_bytes, u64 out_off, u64 out_bytes, op (padded to 8)
 * RUN_SHM reply: u32 count, u32 0, then per item: i32 status, u32 0, u64 out_len.
 * Inputs are read from the region and outputs written to it; each item is copied
 * into the host's own buffers first, so the probe (and the transcript it folds)
 * sees bytes the client can no longer change.
 */
static int handle_run_shm(int out, const unsigned char *req, size_t len, struct buf *resp,
                          struct buf *in_copy, struct buf *out_copy)
{
    uint32_t count, i;
    size_t off = 8, in_max = 0, out_max = 0;
    char op[WIRE_MAX_OP_LEN + 1];
    int rc;
    if (shm_batch_refused(out, req, len, "RUN_SHM", &count, &rc))
        return rc;
    /* Pass 1: every item against the frame and the region, before anything runs. */
    for (i = 0; i < count; i++) {
        uint32_t op_len;
        uint64_t in_off, in_bytes, out_off, out_bytes;
        if (len - off < 48)
            return send_error(out, ERR_MALFORMED, "RUN_SHM item %u: header runs past the frame", i);
        op_len = ld32(req + off);
        in_off = ld64(req + off + 16);
        in_bytes = ld64(req + off + 24);
        out_off = ld64(req + off + 32);
        out_bytes = ld64(req + off + 40);
        if (op_len == 0 || op_len > WIRE_MAX_OP_LEN)
            return send_error(out, ERR_MALFORMED, "RUN_SHM item %u: op id of %u bytes", i, op_len);
        off += 48;
        if (len - off < pad8(op_len))
            return send_error(out, ERR_MALFORMED, "RUN_SHM item %u: op id runs past the frame", i);
        off += pad8(op_len);
        if (!shm_range_ok(in_off, in_bytes))
            return send_error(out, ERR_MALFORMED, "RUN_SHM item %u: inputs at %llu+%llu outside the %zu-byte "
                              "region", i, (unsigned long long)in_off, (unsigned long long)in_bytes, SHM.size);
        if (!shm_range_ok(out_off, out_bytes))
            return send_error(out, ERR_MALFORMED, "RUN_SHM item %u: outputs at %llu+%llu outside the %zu-byte "
                              "region", i, (unsigned long long)out_off, (unsigned long long)out_bytes, SHM.size);
        if (in_bytes > WIRE_MAX_FRAME || out_bytes > WIRE_MAX_FRAME)
            return send_error(out, ERR_TOO_LARGE, "RUN_SHM item %u: more than %u bytes in or out", i,
                              WIRE_MAX_FRAME);
        if (in_bytes > in_max)
            in_max = (size_t)in_bytes;
        if (out_bytes > out_max)
            out_max = (size_t)out_bytes;
    }
    if (off != len)
        return send_error(out, ERR_MALFORMED, "RUN_SHM: %zu trailing bytes after %u items", len - off, count);
    if (shm_batch_buffers(resp, in_copy, out_copy, count, in_max, out_max) < 0)
        return send_error(out, ERR_INTERNAL, "out of memory for RUN_SHM buffers");
    /* Pass 2: run, reading the (private) frame again, never the region's metadata. */
    off = 8;
    for (i = 0; i < count; i++) {
        uint32_t op_len = ld32(req + off);
        uint64_t n = ld64(req + off + 8), in_off = ld64(req + off + 16), in_bytes = ld64(req + off + 24);
        uint64_t out_off = ld64(req + off + 32), out_bytes = ld64(req + off + 40);
        int32_t status = TEECERT_OK;
        off += 48;
        memcpy(op, req + off, op_len);
        op[op_len] = '\0';
        off += pad8(op_len);
        if (strlen(op) != op_len || n > SIZE_MAX)
            status = TEECERT_E_ARGS;
        else
            memcpy(in_copy->p, SHM.base + in_off, (size_t)in_bytes);
        shm_batch_call(status, op, in_copy->p, (size_t)in_bytes, out_copy, out_off, out_bytes, n,
                       resp->p + 8 + 16 * (size_t)i);
    }
    return send_frame(out, MSG_RUN_SHM | MSG_REPLY, resp->p, 8 + 16 * (size_t)count);
}

/* RUN_GEN generators (docs/vectors.md): teecert-mix-v1, teecert-libm-v1, teecert-data-v1. */
#define GEN_MIX 1u
#define GEN_LIBM 2u
#define GEN_DATA 3u
#define GEN_MAX_ARITY 4u
#define GEN_PARAMS 14u
#define GEN_ITEM_HEAD (48u + 4u * GEN_PARAMS)

/* Input bytes per vector of the stream that generator `gen` makes with the
   parameters p[0 .. GEN_PARAMS-1], or 0 and *why when they name none: for the float
   generators arity and width, and for teecert-libm-v1 a domain per argument whose
   exponents lie in the format's normal range (teecert_gen_libm divides by its span
   and builds the exponent field from it); for teecert-data-v1 one of the
   specification's (rule, width, arg).  Unused parameters must be 0. */
static uint64_t gen_in_per(uint32_t gen, const unsigned char *p, const char **why)
{
    uint32_t j, used = gen == GEN_DATA ? 3 : gen == GEN_LIBM ? 2 + 3 * GEN_MAX_ARITY : 2;
    uint32_t arity = ld32(p), width = ld32(p + 4);
    int32_t emin = width == 64 ? -1022 : -126, emax = width == 64 ? 1023 : 127;
    if (gen != GEN_MIX && gen != GEN_LIBM && gen != GEN_DATA) {
        *why = "unknown generator (1 teecert-mix-v1, 2 teecert-libm-v1, 3 teecert-data-v1)";
        return 0;
    }
    for (j = used; j < GEN_PARAMS; j++) {
        if (ld32(p + 4 * j) != 0) {
            *why = "a parameter this generator does not take is not 0";
            return 0;
        }
    }
    if (gen == GEN_DATA) {
        int64_t per = teecert_data_in_bytes(arity, width, ld32(p + 8));
        if (per <= 0)
            *why = "not a (rule, width, arg) of the specification's data streams";
        return per > 0 ? (uint64_t)per : 0;
    }
    if (arity == 0 || arity > GEN_MAX_ARITY) {
        *why = "arity outside 1..4";
        return 0;
    }
    if (width != 32 && width != 64) {
        *why = "width is neither 32 nor 64";
        return 0;
    }
    for (j = 0; gen == GEN_LIBM && j < GEN_MAX_ARITY; j++) {
        const unsigned char *d = p + 8 + 12 * j;
        int32_t lo = (int32_t)ld32(d), hi = (int32_t)ld32(d + 4);
        uint32_t sgn = ld32(d + 8);
        if (j >= arity ? (lo != 0 || hi != 0 || sgn != 0) : (lo < emin || hi > emax || lo > hi || sgn > 1)) {
            *why = j >= arity ? "a domain past the arity" : "a libm domain outside the format's normal exponents";
            return 0;
        }
    }
    return (uint64_t)arity * (width / 8);
}

/*
 * RUN_GEN request: u32 count, u32 0, then per item (8-aligned):
 *   u32 op_len, u32 generator, u64 n, u64 s0, u64 start, u64 out_off, u64 out_bytes,
 *   u32 params[14] (docs/wire-protocol.md), op (padded to 8)
 * Reply as RUN_SHM's.  The host makes vectors start .. start+n-1 of the stream whose
 * state is s0 itself, in its own buffer, runs the probe on them and writes the
 * outputs to the region: the inputs never cross from the client, which names a
 * stream but can neither write its bytes nor change them under the probe, and they
 * are never copied.
 */
static int handle_run_gen(int out, const unsigned char *req, size_t len, struct buf *resp,
                          struct buf *in_copy, struct buf *out_copy)
{
    uint32_t count, i;
    size_t off = 8, in_max = 0, out_max = 0;
    char op[WIRE_MAX_OP_LEN + 1];
    int rc;
    if (shm_batch_refused(out, req, len, "RUN_GEN", &count, &rc))
        return rc;
    /* Pass 1: every item against the frame, the region and the generators. */
    for (i = 0; i < count; i++) {
        uint32_t op_len, gen;
        uint64_t n, out_off, out_bytes, per;
        const char *why = NULL;
        if (len - off < GEN_ITEM_HEAD)
            return send_error(out, ERR_MALFORMED, "RUN_GEN item %u: header runs past the frame", i);
        op_len = ld32(req + off);
        gen = ld32(req + off + 4);
        n = ld64(req + off + 8);
        out_off = ld64(req + off + 32);
        out_bytes = ld64(req + off + 40);
        if (op_len == 0 || op_len > WIRE_MAX_OP_LEN)
            return send_error(out, ERR_MALFORMED, "RUN_GEN item %u: op id of %u bytes", i, op_len);
        if ((per = gen_in_per(gen, req + off + 48, &why)) == 0)
            return send_error(out, ERR_MALFORMED, "RUN_GEN item %u: generator %u with parameters %u, %u, %u: %s",
                              i, gen, ld32(req + off + 48), ld32(req + off + 52), ld32(req + off + 56), why);
        off += GEN_ITEM_HEAD;
        if (len - off < pad8(op_len))
            return send_error(out, ERR_MALFORMED, "RUN_GEN item %u: op id runs past the frame", i);
        off += pad8(op_len);
        if (n > WIRE_MAX_FRAME / per || out_bytes > WIRE_MAX_FRAME)
            return send_error(out, ERR_TOO_LARGE, "RUN_GEN item %u: more than %u bytes in or out", i,
                              WIRE_MAX_FRAME);
        if (!shm_range_ok(out_off, out_bytes))
            return send_error(out, ERR_MALFORMED, "RUN_GEN item %u: outputs at %llu+%llu outside the %zu-byte "
                              "region", i, (unsigned long long)out_off, (unsigned long long)out_bytes, SHM.size);
        if (n * per > in_max)
            in_max = (size_t)(n * per);
        if (out_bytes > out_max)
            out_max = (size_t)out_bytes;
    }
    if (off != len)
        return send_error(out, ERR_MALFORMED, "RUN_GEN: %zu trailing bytes after %u items", len - off, count);
    if (shm_batch_buffers(resp, in_copy, out_copy, count, in_max, out_max) < 0)
        return send_error(out, ERR_INTERNAL, "out of memory for RUN_GEN buffers");
    /* Pass 2: generate, run, write the outputs to the region. */
    off = 8;
    for (i = 0; i < count; i++) {
        uint32_t op_len = ld32(req + off), gen = ld32(req + off + 4), j;
        uint64_t n = ld64(req + off + 8), s0 = ld64(req + off + 16), start = ld64(req + off + 24);
        uint64_t out_off = ld64(req + off + 32), out_bytes = ld64(req + off + 40), per;
        uint32_t prm[GEN_PARAMS];
        const char *why = NULL;
        int32_t status = TEECERT_OK;
        for (j = 0; j < GEN_PARAMS; j++)
            prm[j] = ld32(req + off + 48 + 4 * (size_t)j);
        per = gen_in_per(gen, req + off + 48, &why);
        off += GEN_ITEM_HEAD;
        memcpy(op, req + off, op_len);
        op[op_len] = '\0';
        off += pad8(op_len);
        if (strlen(op) != op_len) {
            status = TEECERT_E_ARGS;
        } else if (gen == GEN_MIX) {
            teecert_gen(s0, start, n, prm[0], prm[1], in_copy->p);
        } else if (gen == GEN_LIBM) {
            int32_t dom[3 * GEN_MAX_ARITY];
            for (j = 0; j < 3 * GEN_MAX_ARITY; j++)
                dom[j] = (int32_t)prm[2 + j];
            teecert_gen_libm(s0, start, n, prm[0], prm[1], dom, in_copy->p);
        } else if (teecert_gen_data(s0, start, n, prm[0], prm[1], prm[2], in_copy->p) != 0) {
            status = TEECERT_E_INTERNAL; /* never expected: a half-written buffer is not run */
        }
        shm_batch_call(status, op, in_copy->p, (size_t)(n * per), out_copy, out_off, out_bytes, n,
                       resp->p + 8 + 16 * (size_t)i);
    }
    return send_frame(out, MSG_RUN_GEN | MSG_REPLY, resp->p, 8 + 16 * (size_t)count);
}

/* What the host asks the probe to attest: SHA-512(ATTEST_LABEL NUL || host public
   key || the client's 64 bytes), so the evidence commits to this host's key. */
static int wrap_report_data(const unsigned char client[64], unsigned char out[64])
{
    unsigned char msg[sizeof ATTEST_LABEL + HOSTKEY_PUBLIC_BYTES + 64];
    memcpy(msg, ATTEST_LABEL, sizeof ATTEST_LABEL); /* with its NUL */
    memcpy(msg + sizeof ATTEST_LABEL, hostkey_public(), HOSTKEY_PUBLIC_BYTES);
    memcpy(msg + sizeof ATTEST_LABEL + HOSTKEY_PUBLIC_BYTES, client, 64);
    return hostkey_sha512(msg, sizeof msg, out);
}

/* ATTEST reply: i32 status, u32 length, char[16] format, u32 flags, u32 0,
   u8[64] the report data attested, evidence. */
#define ATTEST_HEAD 96u

static int handle_attest(int out, const unsigned char *req, size_t len)
{
    size_t cap = WIRE_ATTEST_FIRST_CAP, need = 0;
    unsigned char *r = NULL, wrapped[64];
    char fmt[16];
    int32_t status;
    int tries, rc;
    if (len != 64)
        return send_error(out, ERR_MALFORMED, "ATTEST payload of %zu bytes, need 64", len);
    /* The host never attests the client's bytes directly: that would make it an
       oracle for evidence over anything. */
    if (!hostkey_available())
        return send_error(out, ERR_STATE, "this host was built without OpenSSL: it has no key for the "
                          "evidence to commit to, so it attests nothing");
    if (wrap_report_data(req, wrapped) != 0)
        return send_error(out, ERR_INTERNAL, "SHA-512 failed");
    for (tries = 0; tries < 2; tries++) {
        unsigned char *q = realloc(r, ATTEST_HEAD + cap);
        if (q == NULL) {
            free(r);
            return send_error(out, ERR_INTERNAL, "out of memory");
        }
        r = q;
        memset(fmt, 0, sizeof fmt);
        need = 0;
        WATCH_BEFORE("attest()");
        status = P.attest(wrapped, r + ATTEST_HEAD, cap, &need, fmt);
        WATCH_AFTER("attest()");
        if (status == TEECERT_E_ARGS && need > cap && need <= WIRE_MAX_EVIDENCE && tries == 0) {
            cap = need;
            continue;
        }
        break;
    }
    st32(r, (uint32_t)status);
    st32(r + 4, (uint32_t)(need > 0xffffffffu ? 0xffffffffu : need));
    memcpy(r + 8, fmt, 16);
    st32(r + 24, ATTEST_WRAPPED);
    st32(r + 28, 0);
    memcpy(r + 32, wrapped, 64);
    rc = send_frame(out, MSG_ATTEST | MSG_REPLY, r,
                    ATTEST_HEAD + (status == TEECERT_OK && need <= cap ? need : 0));
    free(r);
    return rc;
}

/* TRANSCRIPT reply: u8[32] hash, u64 calls, and with a host key u8[64] its Ed25519
   signature of TRANSCRIPT_LABEL NUL || hash || calls (u64 LE). */
static int handle_transcript(int out)
{
    unsigned char r[40 + HOSTKEY_SIGNATURE_BYTES], msg[sizeof TRANSCRIPT_LABEL + 40];
    uint64_t calls = 0;
    WATCH_BEFORE("transcript()");
    P.transcript(r, &calls);
    WATCH_AFTER("transcript()");
    st64(r + 32, calls);
    if (!hostkey_available())
        return send_frame(out, MSG_TRANSCRIPT | MSG_REPLY, r, 40);
    memcpy(msg, TRANSCRIPT_LABEL, sizeof TRANSCRIPT_LABEL); /* with its NUL */
    memcpy(msg + sizeof TRANSCRIPT_LABEL, r, 40);
    if (hostkey_sign(msg, sizeof msg, r + 40) != 0)
        return send_error(out, ERR_INTERNAL, "the host key could not sign the transcript");
    return send_frame(out, MSG_TRANSCRIPT | MSG_REPLY, r, sizeof r);
}

/*
 * FPSTATE request: u32 action (0 read, 1 set), u32 poison bits (TEECERT_POISON_*, and
 * 0x10 for x87 precision).  "set" installs the host's own state before dlopen with
 * those bits applied, and watches for that state from then on.
 * FPSTATE reply (128 bytes): u64 state read by the host now, char[16] arch, u32 bits
 * applied, u32 violations, u64 calls watched, u32 kind (0 none, 1 changed between
 * calls, 2 changed by a call), u32 0, u64 call number, u64 state expected, u64 state
 * seen, char[56] the call (op id or function name), NUL-padded.
 */
#define FPSTATE_REPLY 128u

static int handle_fpstate(int out, const unsigned char *req, size_t len)
{
    unsigned char r[FPSTATE_REPLY];
    uint32_t action, bits, applied = 0;
    if (len != 8)
        return send_error(out, ERR_MALFORMED, "FPSTATE payload of %zu bytes, need 8", len);
    action = ld32(req);
    bits = ld32(req + 4);
    if (action > 1 || (bits & ~(0x7u | TEECERT_FPENV_POISON_X87_PC)))
        return send_error(out, ERR_MALFORMED, "FPSTATE action %u with bits 0x%x", action, bits);
    if (action == 1) {
        uint64_t want = teecert_fpenv_poisoned(P.load_fpenv_before, bits, &applied);
        uint64_t now = teecert_fpenv_raw();
        teecert_fpenv_set_raw((now & ~TEECERT_FPENV_CONTROL_MASK) | (want & TEECERT_FPENV_CONTROL_MASK));
        W.expected = teecert_fpenv_raw();
    }
    memset(r, 0, sizeof r);
    st64(r, teecert_fpenv_raw());
    memcpy(r + 8, TEECERT_FPENV_ARCH, strlen(TEECERT_FPENV_ARCH));
    st32(r + 24, applied);
    st32(r + 28, W.violations);
    st64(r + 32, W.calls);
    st32(r + 40, W.kind);
    st64(r + 48, W.call_no);
    st64(r + 56, W.want);
    st64(r + 64, W.seen);
    memcpy(r + 72, W.what, strnlen(W.what, 55));
    return send_frame(out, MSG_FPSTATE | MSG_REPLY, r, sizeof r);
}

/*
 * CONFORM: the probe ABI's argument checks (docs/probe-abi.md, "Argument checks"),
 * run in a forked child so that a probe which trusts a null pointer or an overflowing
 * size crashes only the child.  Request: u32 op_len, u32 input bytes per vector,
 * u32 output bytes per vector, u32 0, op id (op_len bytes).  Reply: u32 cases, u32
 * outcome (0 every case answered, 1 the child died by signal u32, 2 no answer within
 * CONFORM_DEADLINE_MS, 3 no child could be made), u32 signal, u32 cases answered,
 * then one i32 status per case (those answered).  The order of the cases is fixed:
 * teecert.probe.remote.CONFORMANCE_CASES names them.
 */
static long ms_left(const struct timespec *until);

#define CONFORM_CASES 11u
#define CONFORM_DEADLINE_MS 10000

static void conform_child(int wfd, const char *op, size_t isz, size_t osz)
{
    /* room for 4 vectors and more: a lenient probe writing past a short size lands
       in this slack, not in the allocator's bookkeeping */
    size_t room = 4 * (isz > osz ? isz : osz) + 4096;
    unsigned char *in = calloc(1, room), *o = calloc(1, room);
    size_t huge = SIZE_MAX / isz + 2; /* n * isz wraps around SIZE_MAX */
    int32_t st[CONFORM_CASES];
    unsigned k;
    if (in == NULL || o == NULL)
        _exit(3);
    for (k = 0; k < CONFORM_CASES; k++) {
        switch (k) {
        case 0: st[k] = P.run(op, NULL, 0, NULL, 0, 0); break;                 /* n = 0, no buffers */
        case 1: st[k] = P.run(op, in, isz, o, 2 * osz, 2); break;              /* input one vector short */
        case 2: st[k] = P.run(op, in, 2 * isz + 1, o, 2 * osz, 2); break;      /* input one byte long */
        case 3: st[k] = P.run(op, in, 2 * isz, o, osz, 2); break;              /* output one vector short */
        case 4: st[k] = P.run(op, in, 2 * isz, o, 2 * osz + 1, 2); break;      /* output one byte long */
        case 5: st[k] = P.run(op, NULL, isz, o, osz, 1); break;                /* null input, n = 1 */
        case 6: st[k] = P.run(op, in, isz, NULL, osz, 1); break;               /* null output, n = 1 */
        case 7: st[k] = P.run(NULL, in, isz, o, osz, 1); break;                /* null op id */
        case 8: st[k] = P.run("teecert.no-such-op", in, isz, o, osz, 1); break; /* unknown op id */
        case 9: st[k] = P.run(op, in, huge * isz, o, huge * osz, huge); break; /* sizes overflow size_t */
        default: st[k] = P.run(op, in, isz, o, osz, 0); break;                 /* n = 0, sizes of one vector */
        }
        if (write(wfd, &st[k], sizeof st[k]) != (ssize_t)sizeof st[k])
            _exit(4);
    }
    _exit(0);
}

static int handle_conform(int out, const unsigned char *req, size_t len)
{
    unsigned char r[16 + 4 * CONFORM_CASES];
    char op[WIRE_MAX_OP_LEN + 1];
    uint32_t op_len, isz, osz, outcome = 0, sig = 0, done = 0;
    int pfd[2], status = 0;
    pid_t child;
    struct timespec until;
    if (len < 16)
        return send_error(out, ERR_MALFORMED, "CONFORM payload of %zu bytes, need at least 16", len);
    op_len = ld32(req);
    isz = ld32(req + 4);
    osz = ld32(req + 8);
    if (op_len == 0 || op_len > WIRE_MAX_OP_LEN || len != 16 + (size_t)op_len || isz == 0 || osz == 0 ||
        isz > (1u << 20) || osz > (1u << 20))
        return send_error(out, ERR_MALFORMED, "CONFORM: op id of %u bytes in %zu, sizes %u and %u", op_len,
                          len, isz, osz);
    memcpy(op, req + 16, op_len);
    op[op_len] = '\0';
    if (strlen(op) != op_len)
        return send_error(out, ERR_MALFORMED, "CONFORM: op id with a NUL byte");
    memset(r, 0, sizeof r);
    if (pipe(pfd) != 0) {
        outcome = 3;
    } else if ((child = fork()) < 0) {
        close(pfd[0]);
        close(pfd[1]);
        outcome = 3;
    } else if (child == 0) {
        close(pfd[0]);
        conform_child(pfd[1], op, isz, osz);
    } else {
        close(pfd[1]);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += CONFORM_DEADLINE_MS / 1000;
        while (done < CONFORM_CASES) {
            struct pollfd p1;
            int32_t v;
            long left = ms_left(&until);
            ssize_t k;
            p1.fd = pfd[0];
            p1.events = POLLIN;
            p1.revents = 0;
            if (left <= 0 || poll(&p1, 1, (int)left) == 0) {
                outcome = 2;
                break;
            }
            k = read(pfd[0], &v, sizeof v);
            if (k < 0 && errno == EINTR)
                continue;
            if (k != (ssize_t)sizeof v)
                break; /* the child is gone: waitpid says how */
            st32(r + 16 + 4 * done, (uint32_t)v);
            done++;
        }
        close(pfd[0]);
        if (outcome == 2)
            kill(child, SIGKILL);
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
            ;
        if (outcome == 0 && done < CONFORM_CASES) {
            if (WIFSIGNALED(status)) {
                outcome = 1;
                sig = (uint32_t)WTERMSIG(status);
            } else {
                outcome = 2;
            }
        }
    }
    st32(r, CONFORM_CASES);
    st32(r + 4, outcome);
    st32(r + 8, sig);
    st32(r + 12, done);
    return send_frame(out, MSG_CONFORM | MSG_REPLY, r, 16 + 4 * (size_t)done);
}

/* Serve one session on (in, out).  Returns 0 at a clean end (EOF, BYE). */
static int serve(int in, int out)
{
    struct buf req = {NULL, 0}, resp = {NULL, 0}, shm_in = {NULL, 0}, shm_out = {NULL, 0};
    struct session_auth sa;
    int hello = 0, rc = 0;
    memset(&sa, 0, sizeof sa);
    for (;;) {
        unsigned char hdr[6], small[48];
        uint32_t flen;
        uint16_t type;
        size_t plen;
        int r;
        if (!hello && AUTH.socket_session) {
            struct pollfd pfd;
            pfd.fd = in;
            pfd.events = POLLIN;
            pfd.revents = 0;
            while ((r = poll(&pfd, 1, HANDSHAKE_TIMEOUT_MS)) < 0 && errno == EINTR)
                ;
            if (r == 0) {
                send_error(out, ERR_AUTH, "no handshake within %d s", HANDSHAKE_TIMEOUT_MS / 1000);
                rc = 1;
                break;
            }
        }
        r = read_full(in, hdr, 4, 1);
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
        if (!hello && flen > PRE_HELLO_MAX_FRAME) {
            /* Before the handshake nobody is trusted with a big allocation. */
            send_error(out, ERR_TOO_LARGE, "frame of %u bytes before HELLO (limit %u)", flen,
                       PRE_HELLO_MAX_FRAME);
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
        if (!hello && type != MSG_HELLO && type != MSG_CHALLENGE) {
            r = send_error(out, ERR_STATE, "expected HELLO first, got message type 0x%04x", type);
            rc = 1;
            break;
        }
        switch (type) {
        case MSG_CHALLENGE:
            if (hello)
                r = send_error(out, ERR_STATE, "CHALLENGE after HELLO: the session is already open");
            else
                r = handle_challenge(out, plen, &sa);
            break;
        case MSG_HELLO:
            if (hello) {
                r = send_error(out, ERR_STATE, "a second HELLO in one session");
                break;
            }
            r = handle_hello(out, req.p, plen, &sa);
            if (r == 0)
                hello = 1;
            break;
        case MSG_RUN:
            r = handle_run(out, req.p, plen, &resp);
            break;
        case MSG_SHM_ATTACH:
            r = handle_shm_attach(out, req.p, plen, in, out);
            break;
        case MSG_RUN_SHM:
            r = handle_run_shm(out, req.p, plen, &resp, &shm_in, &shm_out);
            break;
        case MSG_RUN_GEN:
            r = handle_run_gen(out, req.p, plen, &resp, &shm_in, &shm_out);
            break;
        case MSG_FPENV_READ: {
            char arch[16];
            memset(arch, 0, sizeof arch);
            WATCH_BEFORE("fpenv_read()");
            st64(small, P.fpenv_read(arch));
            WATCH_AFTER("fpenv_read()");
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
            /* The one call allowed to change the state: the host takes what it left
               (FPSTATE shows it) as the state to watch from now on. */
            WATCH_BEFORE("fpenv_poison()");
            st32(small, P.fpenv_poison(ld32(req.p)));
            W.expected = teecert_fpenv_raw();
            r = send_frame(out, type | MSG_REPLY, small, 4);
            break;
        case MSG_FPENV_RESET:
            WATCH_BEFORE("fpenv_reset()");
            P.fpenv_reset();
            W.expected = teecert_fpenv_raw();
            r = send_frame(out, type | MSG_REPLY, NULL, 0);
            break;
        case MSG_TRANSCRIPT:
            r = handle_transcript(out);
            break;
        case MSG_TRANSCRIPT_RESET:
            WATCH_BEFORE("transcript_reset()");
            P.transcript_reset();
            WATCH_AFTER("transcript_reset()");
            r = send_frame(out, type | MSG_REPLY, NULL, 0);
            break;
        case MSG_ATTEST:
            r = handle_attest(out, req.p, plen);
            break;
        case MSG_DESCRIBE: {
            const char *d = watched_describe();
            r = send_frame(out, type | MSG_REPLY, d ? d : "", d ? strnlen(d, 1u << 20) : 0);
            break;
        }
        case MSG_FPSTATE:
            r = handle_fpstate(out, req.p, plen);
            break;
        case MSG_CONFORM:
            r = handle_conform(out, req.p, plen);
            break;
        case MSG_BYE:
            send_frame(out, type | MSG_REPLY, NULL, 0);
            free(req.p);
            free(resp.p);
            free(shm_in.p);
            free(shm_out.p);
            return 0;
        default:
            r = send_error(out, ERR_UNKNOWN_TYPE, "unknown message type 0x%04x", type);
            break;
        }
        /* A descriptor that came with any frame but SHM_ATTACH is not kept. */
        if (SHM.passed_fd >= 0) {
            close(SHM.passed_fd);
            SHM.passed_fd = -1;
        }
        if (r != 0) {
            rc = r < 0 ? 1 : 0;
            break;
        }
    }
    free(req.p);
    free(resp.p);
    free(shm_in.p);
    free(shm_out.p);
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
        mode_t old_mask;
        int bound;
        if (strlen(path) == 0 || strlen(path) >= sizeof sa.sun_path)
            die("--listen %s: Unix socket path empty or longer than %zu bytes", spec, sizeof sa.sun_path - 1);
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            unlink(path);
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            die("--listen %s: cannot make a socket: %s", spec, strerror(errno));
        /* Created 0600 from the start: no window in which others may connect. */
        old_mask = umask(077);
        bound = bind(fd, (struct sockaddr *)&sa, sizeof sa);
        umask(old_mask);
        if (bound != 0)
            die("--listen %s: cannot bind: %s", spec, strerror(errno));
        if (chmod(path, 0600) != 0)
            die("--listen %s: cannot make the socket 0600: %s", spec, strerror(errno));
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

/* Read and drop what the peer sends until it closes or `ms` pass: closing a socket
   with unread data would reset the connection, and the peer could lose the ERROR
   frame it was sent. */
static void drain(int fd, int ms)
{
    unsigned char sink[4096];
    for (;;) {
        struct pollfd pfd;
        ssize_t k;
        pfd.fd = fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, ms) <= 0)
            return;
        k = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            return;
    }
}

/* Answer a connection that will not be served with one ERROR frame and close it. */
static void refuse(int conn, uint32_t code, const char *message)
{
    send_error(conn, code, "%s", message);
    shutdown(conn, SHUT_WR);
    drain(conn, 2000);
    close(conn);
}

/* 0 when the peer of a Unix socket connection may use this host: without a token,
   only the host's own uid and root (SO_PEERCRED; the socket file is 0600 too, but
   its mode can be changed and a descriptor can be passed on). */
static int peer_refused(int conn, char *why, size_t why_len)
{
#ifdef SO_PEERCRED
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (!AUTH.check_peer_uid)
        return 0;
    if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
        snprintf(why, why_len, "the peer's credentials are unknown (%s)", strerror(errno));
        return 1;
    }
    if (cred.uid == getuid() || cred.uid == 0)
        return 0;
    snprintf(why, why_len, "uid %u may not use this host (it serves uid %u and root; give the host "
             "a token to serve others)", (unsigned)cred.uid, (unsigned)getuid());
    return 1;
#else
    (void)conn;
    if (!AUTH.check_peer_uid)
        return 0;
    snprintf(why, why_len, "this host cannot check a Unix socket peer's uid: give it a token");
    return 1;
#endif
}

/* One connection: a worker serves it; this supervisor reports the worker's death
   by a signal to the client and kills a worker hung after the client left. */
static void supervise(int conn)
{
    pid_t w;
    int status = 0, one = 1;
    char why[256];
    signal(SIGCHLD, SIG_DFL);
    setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly off TCP */
    if (peer_refused(conn, why, sizeof why)) {
        /* the peer's first frame is read and dropped by refuse() */
        refuse(conn, ERR_AUTH, why);
        _exit(0);
    }
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

/* The listening process: at most `max_workers` supervisors at once (each serving one
   connection), reaped as they end; a connection beyond that gets ERROR BUSY. */
static int child_pipe[2] = {-1, -1};

static void on_child(int sig)
{
    int saved = errno;
    (void)sig;
    if (write(child_pipe[1], "", 1) < 0) {
        /* the pipe is full: a wake-up is already pending */
    }
    errno = saved;
}

#define MAX_LINGERING 64
#define LINGER_MS 2000

struct lingering {
    int fd;
    struct timespec until;
};

static long ms_left(const struct timespec *until)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(until->tv_sec - now.tv_sec) * 1000 + (until->tv_nsec - now.tv_nsec) / 1000000;
}

static void serve_listening(int lfd, int max_workers)
{
    struct lingering lin[MAX_LINGERING];
    struct pollfd pfds[2 + MAX_LINGERING];
    struct sigaction act;
    int active = 0, nlin = 0, i;
    if (pipe(child_pipe) != 0)
        die("cannot make a pipe: %s", strerror(errno));
    for (i = 0; i < 2; i++) {
        fcntl(child_pipe[i], F_SETFL, fcntl(child_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(child_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    memset(&act, 0, sizeof act);
    act.sa_handler = on_child;
    act.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&act.sa_mask);
    sigaction(SIGCHLD, &act, NULL);
    for (;;) {
        long wait_ms = -1;
        int n = 2, k;
        pid_t s;
        while ((s = waitpid(-1, NULL, WNOHANG)) > 0)
            active--;
        pfds[0].fd = child_pipe[0];
        pfds[0].events = POLLIN;
        pfds[1].fd = lfd;
        pfds[1].events = POLLIN;
        for (i = 0; i < nlin; i++) {
            long left = ms_left(&lin[i].until);
            pfds[n].fd = lin[i].fd;
            pfds[n].events = POLLIN;
            n++;
            if (wait_ms < 0 || left < wait_ms)
                wait_ms = left < 0 ? 0 : left;
        }
        for (i = 0; i < n; i++)
            pfds[i].revents = 0;
        k = poll(pfds, (nfds_t)n, (int)wait_ms);
        if (k < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        if (k > 0 && pfds[0].revents) {
            char sink[64];
            while (read(child_pipe[0], sink, sizeof sink) > 0)
                ;
        }
        /* Refused connections: drop what they send until they close or time is up. */
        for (i = nlin - 1; i >= 0; i--) {
            int done = ms_left(&lin[i].until) <= 0;
            if (!done && k > 0 && pfds[2 + i].revents) {
                char sink[4096];
                ssize_t got = recv(lin[i].fd, sink, sizeof sink, MSG_DONTWAIT);
                done = got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
            }
            if (done) {
                close(lin[i].fd);
                lin[i] = lin[--nlin];
            }
        }
        if (k > 0 && pfds[1].revents) {
            int conn = accept(lfd, NULL, NULL);
            if (conn < 0) {
                if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN || errno == EMFILE ||
                    errno == ENFILE)
                    continue;
                die("accept: %s", strerror(errno));
            }
            if (active >= max_workers) {
                /* Not served: the ERROR is sent without blocking the listener, and the
                   connection lingers until the peer closes, so the frame is not lost. */
                fcntl(conn, F_SETFL, fcntl(conn, F_GETFL) | O_NONBLOCK);
                send_error(conn, ERR_BUSY, "busy: already serving %d connections (--max-workers %d)",
                           active, max_workers);
                shutdown(conn, SHUT_WR);
                if (nlin == MAX_LINGERING) {
                    close(lin[0].fd);
                    lin[0] = lin[--nlin];
                }
                lin[nlin].fd = conn;
                clock_gettime(CLOCK_MONOTONIC, &lin[nlin].until);
                lin[nlin].until.tv_sec += LINGER_MS / 1000;
                nlin++;
                continue;
            }
            s = fork();
            if (s == 0) {
                close(lfd);
                close(child_pipe[0]);
                close(child_pipe[1]);
                for (i = 0; i < nlin; i++)
                    close(lin[i].fd);
                supervise(conn);
            }
            if (s < 0)
                send_error(conn, ERR_INTERNAL, "cannot fork: %s", strerror(errno));
            else
                active++;
            close(conn);
        }
    }
}

static void usage(FILE *f)
{
    fputs("usage: teecert-probe-host [--probe LIB.so] [--listen stdio|tcp:HOST:PORT|unix:PATH|vsock:CID:PORT]\n"
          "                          [--mlock] [--token-file FILE | --insecure-no-auth] [--max-workers N]\n"
          "Serve a teecert probe over the teecert wire protocol v3 (and v2; docs/wire-protocol.md).\n"
          "Without --probe, loads libteecert_probe.so from this executable's directory.\n"
          "--token-file FILE (or $TEECERT_HOST_TOKEN): clients must prove this secret (at least 32\n"
          "bytes); tcp and vsock listeners need one unless --insecure-no-auth is given.\n"
          "--max-workers N: serve at most N connections at once (default 8); more get ERROR BUSY.\n",
          f);
}

/* The token: trailing CR and LF are not part of it (a file written by `echo` ends
   with one).  Exits with one line when it is too short or too long. */
static void set_token(const unsigned char *data, size_t len, const char *where)
{
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len < TOKEN_MIN)
        die("%s: the token has %zu bytes, at least %u are needed", where, len, TOKEN_MIN);
    if (len > TOKEN_MAX)
        die("%s: the token has %zu bytes, at most %u are allowed", where, len, TOKEN_MAX);
    memcpy(AUTH.token, data, len);
    AUTH.token_len = len;
}

static void load_token_file(const char *path)
{
    unsigned char buf[TOKEN_MAX + 3];
    struct stat st;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        die("--token-file %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        die("--token-file %s: not a regular file", path);
    /* The same rule as teecert's signing keys: a secret others can read is not one. */
    if (st.st_mode & 077)
        die("--token-file %s: readable by others (mode %04o): chmod 600 it", path, (unsigned)(st.st_mode & 07777));
    if (st.st_size > (off_t)(TOKEN_MAX + 2))
        die("--token-file %s: %lld bytes, a token has at most %u", path, (long long)st.st_size, TOKEN_MAX);
    while (got < sizeof buf) {
        ssize_t k = read(fd, buf + got, sizeof buf - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            die("--token-file %s: %s", path, strerror(errno));
        if (k == 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    set_token(buf, got, path);
    memset(buf, 0, sizeof buf);
}

int main(int argc, char **argv)
{
    const char *probe = NULL, *listen_spec = "stdio", *token_file = NULL;
    int i, lock = 0, insecure = 0, max_workers = DEFAULT_MAX_WORKERS;
    char err[256];
    /* Adopt the environment's locale, as the applications that embed consensus code
     * usually do: a probe whose results follow LC_NUMERIC (strtod, printf) then shows
     * it, here and under the stress suite's locale perturbation. */
    setlocale(LC_ALL, "");
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--probe") == 0 && i + 1 < argc)
            probe = argv[++i];
        else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen_spec = argv[++i];
        else if (strcmp(argv[i], "--mlock") == 0)
            lock = 1;
        else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc)
            token_file = argv[++i];
        else if (strcmp(argv[i], "--insecure-no-auth") == 0)
            insecure = 1;
        else if (strcmp(argv[i], "--max-workers") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*argv[i] == '\0' || *end != '\0' || v < 1 || v > MAX_MAX_WORKERS) {
                fprintf(stderr, "teecert-probe-host: --max-workers %s: expected a number from 1 to %d\n",
                        argv[i], MAX_MAX_WORKERS);
                return 2;
            }
            max_workers = (int)v;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("teecert-probe-host %s (wire protocol %u and %u, probe ABI %u, host key: %s)\n",
                   HOST_VERSION, WIRE_PROTOCOL_MIN, WIRE_PROTOCOL_VERSION, TEECERT_PROBE_ABI_VERSION,
                   hostkey_backend());
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
    if (token_file != NULL) {
        load_token_file(token_file);
    } else {
        const char *env = getenv("TEECERT_HOST_TOKEN");
        if (env != NULL && env[0] != '\0')
            set_token((const unsigned char *)env, strlen(env), "TEECERT_HOST_TOKEN");
    }
    /* Nothing the host starts, nor the probe, needs to see the token. */
    unsetenv("TEECERT_HOST_TOKEN");
    if (insecure && AUTH.token_len)
        die("--insecure-no-auth and a token do not go together: drop one");
    if (strncmp(listen_spec, "tcp:", 4) == 0 || strncmp(listen_spec, "vsock:", 6) == 0) {
        if (!AUTH.token_len && !insecure)
            die("--listen %s: refusing to serve without client authentication: give --token-file FILE "
                "(or TEECERT_HOST_TOKEN), or --insecure-no-auth", listen_spec);
        if (insecure)
            fprintf(stderr, "teecert-probe-host: warning: --insecure-no-auth: anyone who reaches %s can run "
                    "the probe and ask for attestation evidence\n", listen_spec);
    }
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
    /* The key exists before any worker does: every connection is served with it. */
    if (hostkey_init(err, sizeof err) != 0)
        die("%s", err);
    load_probe(probe);
    if (strcmp(listen_spec, "stdio") == 0) {
        /* The protocol owns stdout: anything the probe prints goes to stderr. */
        int out = dup(1);
        if (out < 0 || dup2(2, 1) < 0)
            die("cannot set up stdio: %s", strerror(errno));
        SHM.how = SHM_BY_NUMBER;
        return serve(0, out);
    } else {
        char shown[1200] = "";
        int lfd = listen_on(listen_spec, shown, sizeof shown);
        AUTH.socket_session = 1;
        AUTH.check_peer_uid = strncmp(listen_spec, "unix:", 5) == 0 && !AUTH.token_len;
        SHM.how = strncmp(listen_spec, "unix:", 5) == 0 ? SHM_BY_SCM_RIGHTS : SHM_NONE;
        printf("listening %s\n", shown[0] ? shown : listen_spec);
        fflush(stdout);
        serve_listening(lfd, max_workers);
    }
    return 0;
}
