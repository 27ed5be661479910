/*
 * Facts of the host machine (see hostfacts.h).  Every value is computed the way the
 * harness computes it for its own machine, so that the two agree on one machine
 * (tests/probe/test_host_auth.py compares them):
 *
 *   /proc/cpuinfo   the first processor's block only, "key : value" with both sides
 *                   stripped, a later duplicate key winning (fingerprint._cpuinfo)
 *   cpu_model       "model name", else "uarch", else "CPU part", else ""
 *   cpu_flags       "flags", else "Features", else "isa", split on whitespace
 *   cpu_flags_digest SHA-256 hex of the flags sorted and joined by one space
 *   cores_logical   sysconf(_SC_NPROCESSORS_ONLN); cores_physical the distinct
 *                   topology/core_cpus_list (else thread_siblings_list) contents
 *                   (psutil's method), else the cpuinfo physical ids' "cpu cores"
 *   memory_bytes    MemTotal of /proc/meminfo in bytes, a decimal string
 *   kernel          uname sysname + " " + release; kernel_version uname version
 *   libc            confstr(_CS_GNU_LIBC_VERSION) ("glibc 2.36"), else ""
 *   hostname_digest SHA-256 hex of the uname nodename
 *   variables       the RELEVANT_VARIABLES of fingerprint.py that are set
 *   process         the serving process: name, CPU affinity, memory locked,
 *                   RLIMIT_MEMLOCK (judge.environment._process_facts)
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <glob.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "hostfacts.h"
#include "sha256.h"

/* fingerprint.RELEVANT_VARIABLES, in its order (the harness sorts them by name). */
static const char *const RELEVANT_VARIABLES[] = {
    "LC_ALL", "LANG", "TZ", "GLIBC_TUNABLES", "MALLOC_PERTURB_", "LD_PRELOAD", "LD_LIBRARY_PATH",
    "OMP_NUM_THREADS",
};

#define MAX_CPUINFO_KEYS 128
#define MAX_LINE 65536

struct kv {
    char *key, *value;
};

struct out {
    char *p;
    size_t len, cap;
    int failed;
};

static void put_raw(struct out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        char *q;
        while (o->len + n + 1 > cap)
            cap *= 2;
        q = realloc(o->p, cap);
        if (q == NULL) {
            o->failed = 1;
            return;
        }
        o->p = q;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void put(struct out *o, const char *s) { put_raw(o, s, strlen(s)); }

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if not valid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t k, i;
    uint32_t c;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        k = 2, c = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        k = 3, c = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        k = 4, c = s[0] & 0x07;
    else
        return 0;
    if (k > n)
        return 0;
    for (i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((k == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (k == 4 && (c < 0x10000 || c > 0x10ffff)))
        return 0;
    return k;
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD, as the harness reads text
   with errors="replace". */
static void put_str(struct out *o, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    put(o, "\"");
    while (i < n) {
        size_t k = utf8_len(u + i, n - i);
        if (k == 0) {
            put(o, "\xef\xbf\xbd");
            i++;
        } else if (k > 1) {
            put_raw(o, s + i, k);
            i += k;
        } else if (u[i] == '"' || u[i] == '\\') {
            char e[3] = {'\\', (char)u[i], 0};
            put(o, e);
            i++;
        } else if (u[i] < 0x20 || u[i] == 0x7f) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", u[i]);
            put(o, e);
            i++;
        } else {
            put_raw(o, s + i, 1);
            i++;
        }
    }
    put(o, "\"");
}

static void put_field(struct out *o, const char *name, const char *value)
{
    put_str(o, name);
    put(o, ":");
    put_str(o, value);
    put(o, ",");
}

static void put_int_field(struct out *o, const char *name, long long value)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", value);
    put_str(o, name);
    put(o, ":");
    put(o, num);
    put(o, ",");
}

static void hex(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const char *s, char out[65])
{
    uint8_t d[32];
    teecert_sha256(s, strlen(s), d);
    hex(d, 32, out);
}

/* Python's str.strip() for ASCII whitespace, in place. */
static char *strip(char *s)
{
    size_t n;
    while (*s && isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

struct cpuinfo {
    struct kv kv[MAX_CPUINFO_KEYS];
    size_t n;
};

static void cpuinfo_free(struct cpuinfo *ci)
{
    size_t i;
    for (i = 0; i < ci->n; i++) {
        free(ci->kv[i].key);
        free(ci->kv[i].value);
    }
    ci->n = 0;
}

static void cpuinfo_read(struct cpuinfo *ci)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char *line;
    ci->n = 0;
    if (f == NULL)
        return;
    line = malloc(MAX_LINE);
    while (line != NULL && fgets(line, MAX_LINE, f) != NULL) {
        char *colon, *key, *value;
        size_t i;
        if (*strip(line) == '\0')
            break; /* the first processor is enough: the fields are per model */
        colon = strchr(line, ':');
        if (colon != NULL)
            *colon = '\0';
        key = strip(line);
        value = colon != NULL ? strip(colon + 1) : (char *)"";
        for (i = 0; i < ci->n && strcmp(ci->kv[i].key, key) != 0; i++)
            ;
        if (i == ci->n) {
            if (ci->n == MAX_CPUINFO_KEYS)
                continue;
            ci->kv[i].key = strdup(key);
            ci->kv[i].value = NULL;
            ci->n++;
        }
        free(ci->kv[i].value);
        ci->kv[i].value = strdup(value);
        if (ci->kv[i].key == NULL || ci->kv[i].value == NULL) {
            /* out of memory: keep what is whole */
            free(ci->kv[i].key);
            free(ci->kv[i].value);
            ci->n--;
            break;
        }
    }
    free(line);
    fclose(f);
}

/* The value of key, or "" (Python's cpu.get(key, "")). */
static const char *cpu_get(const struct cpuinfo *ci, const char *key)
{
    size_t i;
    for (i = 0; i < ci->n; i++)
        if (strcmp(ci->kv[i].key, key) == 0)
            return ci->kv[i].value;
    return "";
}

/* The first of keys with a non-empty value (Python's `a or b or c`), else "". */
static const char *cpu_first(const struct cpuinfo *ci, const char *const *keys, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (cpu_get(ci, keys[i])[0] != '\0')
            return cpu_get(ci, keys[i]);
    return "";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "flags" split on whitespace, as a JSON list, and the digest of the sorted list. */
static void put_flags(struct out *o, const char *flags)
{
    char *copy = strdup(flags), *tok, *save = NULL, **words = NULL, *joined;
    size_t n = 0, cap = 0, i, total = 1;
    char digest[65];
    if (copy == NULL) {
        o->failed = 1;
        return;
    }
    for (tok = strtok_r(copy, " \t\n\v\f\r", &save); tok; tok = strtok_r(NULL, " \t\n\v\f\r", &save)) {
        if (n == cap) {
            char **w = realloc(words, (cap ? cap * 2 : 64) * sizeof *words);
            if (w == NULL) {
                o->failed = 1;
                free(words);
                free(copy);
                return;
            }
            words = w;
            cap = cap ? cap * 2 : 64;
        }
        words[n++] = tok;
        total += strlen(tok) + 1;
    }
    put_str(o, "cpu_flags");
    put(o, ":[");
    for (i = 0; i < n; i++) {
        if (i)
            put(o, ",");
        put_str(o, words[i]);
    }
    put(o, "],");
    if (n > 0)
        qsort(words, n, sizeof *words, cmp_str);
    joined = malloc(total);
    if (joined == NULL) {
        o->failed = 1;
    } else {
        joined[0] = '\0';
        for (i = 0; i < n; i++) {
            if (i)
                strcat(joined, " ");
            strcat(joined, words[i]);
        }
        sha256_hex(joined, digest);
        put_field(o, "cpu_flags_digest", digest);
        free(joined);
    }
    free(words);
    free(copy);
}

static char *read_small(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    size_t got;
    if (f == NULL)
        return NULL;
    buf = malloc(8192);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    got = fread(buf, 1, 8191, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

/* psutil.cpu_count(logical=False) on Linux, 0 for its None. */
static long cores_physical(void)
{
    glob_t g;
    char **seen = NULL;
    size_t n = 0, i, j;
    long result = 0;
    memset(&g, 0, sizeof g);
    if (glob("/sys/devices/system/cpu/cpu[0-9]*/topology/core_cpus_list", 0, NULL, &g) != 0) {
        globfree(&g);
        memset(&g, 0, sizeof g);
        if (glob("/sys/devices/system/cpu/cpu[0-9]*/topology/thread_siblings_list", 0, NULL, &g) != 0)
            g.gl_pathc = 0;
    }
    if (g.gl_pathc > 0)
        seen = calloc(g.gl_pathc, sizeof *seen);
    for (i = 0; seen != NULL && i < g.gl_pathc; i++) {
        char *text = read_small(g.gl_pathv[i]), *s;
        if (text == NULL)
            continue;
        s = strip(text);
        for (j = 0; j < n && strcmp(seen[j], s) != 0; j++)
            ;
        if (j == n)
            seen[n++] = strdup(s);
        free(text);
    }
    for (j = 0; j < n; j++)
        free(seen[j]);
    free(seen);
    globfree(&g);
    if (n > 0)
        return (long)n;
    {
        /* psutil's second method: "cpu cores" per distinct "physical id" */
        FILE *f = fopen("/proc/cpuinfo", "r");
        char line[512], phys[64] = "";
        long ids[256], cores[256], cur_cores = -1;
        size_t k = 0;
        int have_phys = 0;
        if (f == NULL)
            return 0;
        while (fgets(line, sizeof line, f) != NULL) {
            char *s = strip(line);
            if (*s == '\0') {
                if (have_phys && cur_cores >= 0) {
                    long id = strtol(phys, NULL, 10);
                    for (j = 0; j < k && ids[j] != id; j++)
                        ;
                    if (j == k && k < 256)
                        ids[k++] = id;
                    if (j < 256)
                        cores[j] = cur_cores;
                }
                have_phys = 0;
                cur_cores = -1;
            } else if (strncmp(s, "physical id\t:", 13) == 0) {
                snprintf(phys, sizeof phys, "%s", s + 13);
                have_phys = 1;
            } else if (strncmp(s, "cpu cores\t:", 11) == 0) {
                cur_cores = strtol(s + 11, NULL, 10);
            }
        }
        fclose(f);
        for (j = 0; j < k; j++)
            result += cores[j];
    }
    return result;
}

static char *memory_total(char *out, size_t len)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    snprintf(out, len, "0");
    if (f == NULL)
        return out;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long kb;
        if (sscanf(line, "MemTotal: %llu", &kb) == 1) {
            snprintf(out, len, "%llu", kb * 1024ULL);
            break;
        }
    }
    fclose(f);
    return out;
}

static void rlimit_text(rlim_t v, char *out, size_t len)
{
    if (v == RLIM_INFINITY)
        snprintf(out, len, "unlimited");
    else
        snprintf(out, len, "%llu", (unsigned long long)v);
}

/* judge.environment._process_facts for this process. */
static void put_process(struct out *o)
{
    char name[512] = "", *status, *cmdline;
    cpu_set_t set;
    struct rlimit rl;
    long locked_kb = 0;
    int cpu, first = 1;
    char *comm = read_small("/proc/self/comm");
    if (comm != NULL) {
        size_t n = strlen(comm);
        if (n > 0 && comm[n - 1] == '\n')
            comm[n - 1] = '\0';
        snprintf(name, sizeof name, "%s", comm);
        free(comm);
    }
    if (strlen(name) >= 15 && (cmdline = read_small("/proc/self/cmdline")) != NULL) {
        /* the kernel truncates comm to 15 bytes: psutil then takes argv[0]'s base name
           when it starts with the truncated name */
        const char *base = strrchr(cmdline, '/');
        base = base ? base + 1 : cmdline;
        if (strncmp(base, name, strlen(name)) == 0)
            snprintf(name, sizeof name, "%s", base);
        free(cmdline);
    }
    status = read_small("/proc/self/status");
    if (status != NULL) {
        char *at = strstr(status, "\nVmLck:");
        if (at != NULL)
            locked_kb = strtol(at + 7, NULL, 10);
        free(status);
    }
    put_str(o, "process");
    put(o, ":{");
    put_field(o, "name", name);
    put_str(o, "affinity");
    put(o, ":[");
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
            if (CPU_ISSET(cpu, &set)) {
                char num[16];
                snprintf(num, sizeof num, "%s%d", first ? "" : ",", cpu);
                put(o, num);
                first = 0;
            }
        }
    }
    put(o, "],");
    put_str(o, "memory_locked");
    put(o, locked_kb > 0 ? ":true," : ":false,");
    put_str(o, "rlimit_memlock");
    put(o, ":{");
    if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
        char soft[32], hard[32];
        rlimit_text(rl.rlim_cur, soft, sizeof soft);
        rlimit_text(rl.rlim_max, hard, sizeof hard);
        put_field(o, "soft", soft);
        put_str(o, "hard");
        put(o, ":");
        put_str(o, hard);
    }
    put(o, "}}");
}

char *hostfacts_json(size_t *len)
{
    static const char *const model_keys[] = {"model name", "uarch", "CPU part"};
    static const char *const flag_keys[] = {"flags", "Features", "isa"};
    static const char *const vendor_keys[] = {"vendor_id", "CPU implementer"};
    static const char *const family_keys[] = {"cpu family", "CPU architecture"};
    static const char *const number_keys[] = {"model", "CPU part"};
    static const char *const stepping_keys[] = {"stepping", "CPU revision"};
    struct out o = {NULL, 0, 0, 0};
    struct cpuinfo ci;
    struct utsname u;
    char buf[512], digest[65], *space;
    size_t i;
    int first = 1;
    long logical;
    memset(&u, 0, sizeof u);
    uname(&u);
    cpuinfo_read(&ci);
    put(&o, "{");
    put_field(&o, "arch", u.machine);
    put_field(&o, "cpu_model", cpu_first(&ci, model_keys, 3));
    put_flags(&o, cpu_first(&ci, flag_keys, 3));
    put_field(&o, "microcode", cpu_get(&ci, "microcode"));
    logical = sysconf(_SC_NPROCESSORS_ONLN);
    put_int_field(&o, "cores_logical", logical > 0 ? logical : 0);
    put_int_field(&o, "cores_physical", cores_physical());
    put_field(&o, "memory_bytes", memory_total(buf, sizeof buf));
    snprintf(buf, sizeof buf, "%s %s", u.sysname, u.release);
    put_field(&o, "kernel", buf);
    put_field(&o, "kernel_version", u.version);
    buf[0] = '\0';
#ifdef _CS_GNU_LIBC_VERSION
    if (confstr(_CS_GNU_LIBC_VERSION, buf, sizeof buf) == 0 || strlen(buf) >= sizeof buf - 1)
        buf[0] = '\0';
#endif
    put_field(&o, "libc", buf);
    space = strchr(buf, ' ');
    if (space != NULL) {
        *space = '\0';
        put_field(&o, "libc_name", buf);
        put_field(&o, "libc_version", strip(space + 1));
    } else {
        put_field(&o, "libc_name", buf);
        put_field(&o, "libc_version", "");
    }
    sha256_hex(u.nodename, digest);
    put_field(&o, "hostname_digest", digest);
    put_field(&o, "cpu_vendor", cpu_first(&ci, vendor_keys, 2));
    put_field(&o, "cpu_family", cpu_first(&ci, family_keys, 2));
    put_field(&o, "cpu_model_number", cpu_first(&ci, number_keys, 2));
    put_field(&o, "cpu_stepping", cpu_first(&ci, stepping_keys, 2));
    put_field(&o, "kernel_release", u.release);
    put_str(&o, "variables");
    put(&o, ":{");
    for (i = 0; i < sizeof RELEVANT_VARIABLES / sizeof RELEVANT_VARIABLES[0]; i++) {
        const char *v = getenv(RELEVANT_VARIABLES[i]);
        if (v == NULL)
            continue;
        if (!first)
            put(&o, ",");
        put_str(&o, RELEVANT_VARIABLES[i]);
        put(&o, ":");
        put_str(&o, v);
        first = 0;
    }
    put(&o, "},");
    put_process(&o);
    put(&o, "}");
    cpuinfo_free(&ci);
    if (o.failed) {
        free(o.p);
        return NULL;
    }
    *len = o.len;
    return o.p;
}
