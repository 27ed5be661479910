/*
 * teecert._jcs: whether a byte string is, exactly, the canonical JSON form that
 * harness/_internal/canonical.py's parse_canonical accepts.
 *
 * That is the ASCII text Python's json.dumps(value, sort_keys=True,
 * separators=(",", ":"), ensure_ascii=False) writes for some document holding no
 * float, no NaN or infinity, no integer beyond 2**53 - 1 in magnitude, and no more
 * than MAX_DEPTH nested arrays and objects (for ASCII member names this is the RFC
 * 8785 form).  The Python path parses the text and serializes the parse again to
 * compare; this one pass over the bytes gives the same answer in a tenth of the
 * time, which is most of what verifying a fleet's reports costs.  No library
 * checks a text for canonical form without building and re-encoding the document,
 * hence this file.  tests/report/test_canonical_fast.py holds the two to the same
 * answer on generated texts and every edge case of the grammar.
 *
 * The grammar accepted, with no whitespace anywhere outside strings:
 *   value   = object / array / string / integer / "true" / "false" / "null"
 *   object  = "{" [ string ":" value *( "," string ":" value ) ] "}"
 *             member names in strictly increasing order of their decoded
 *             characters (a repeated name is refused, as its parse keeps one)
 *   array   = "[" [ value *( "," value ) ] "]"
 *   integer = "0" / [ "-" ] digit1-9 *digit, at most 9007199254740991 in magnitude
 *   string  = '"' *char '"', where char is a byte 0x20-0x7f other than '"' and
 *             '\', or one of the escapes \" \\ \b \f \n \r \t, or \u00XX in lower
 *             case for the other characters below 0x20 (what json.dumps writes).
 * Only the text is checked; the caller parses it with json.loads.
 */
#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

/* canonical.MAX_DEPTH: nesting of arrays and objects, the outermost counting 1. */
#define MAX_DEPTH 64
/* 2**53 - 1, the largest integer a JSON number carries exactly everywhere. */
static const char MAX_SAFE[] = "9007199254740991";

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
} cursor;

static int is_value(cursor *c, int depth);

static int lower_hex(unsigned char b) {
    if (b >= '0' && b <= '9')
        return b - '0';
    if (b >= 'a' && b <= 'f')
        return b - 'a' + 10;
    return -1;
}

/* A string at c->p (its opening quote); on success c->p is past the closing one. */
static int is_string(cursor *c) {
    const unsigned char *p = c->p + 1, *end = c->end;
    for (;;) {
        if (p >= end)
            return 0;
        unsigned char b = *p++;
        if (b == '"') {
            c->p = p;
            return 1;
        }
        if (b < 0x20 || b >= 0x80)
            return 0; /* a raw control character is not JSON; non-ASCII is not tried */
        if (b != '\\')
            continue;
        if (p >= end)
            return 0;
        switch (*p++) {
        case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
            break;
        case 'u': {
            /* Only \u0000-\u001f, lower case, and not those with a short escape:
               every other character is written as itself. */
            if (end - p < 4 || p[0] != '0' || p[1] != '0' || (p[2] != '0' && p[2] != '1'))
                return 0;
            int lo = lower_hex(p[3]);
            if (lo < 0)
                return 0;
            int v = (p[2] - '0') * 16 + lo;
            if (v == '\b' || v == '\t' || v == '\n' || v == '\f' || v == '\r')
                return 0;
            p += 4;
            break;
        }
        default:
            return 0; /* \/ and anything else */
        }
    }
}

/* The next character of a string already checked by is_string, decoded. */
static unsigned next_char(const unsigned char **pp) {
    const unsigned char *p = *pp;
    unsigned b = *p++;
    if (b == '\\') {
        switch (*p++) {
        case 'b': b = '\b'; break;
        case 'f': b = '\f'; break;
        case 'n': b = '\n'; break;
        case 'r': b = '\r'; break;
        case 't': b = '\t'; break;
        case 'u': b = (unsigned)((p[2] - '0') * 16 + lower_hex(p[3])); p += 4; break;
        default: b = p[-1]; break; /* \" and \\ */
        }
    }
    *pp = p;
    return b;
}

/* Compare two checked strings (each at its opening quote) by their decoded
   characters, as Python orders str: <0, 0 or >0. */
static int compare_names(const unsigned char *a, const unsigned char *b) {
    a++;
    b++;
    for (;;) {
        int a_done = *a == '"', b_done = *b == '"';
        if (a_done || b_done)
            return a_done - b_done ? (a_done ? -1 : 1) : 0;
        unsigned ca = next_char(&a), cb = next_char(&b);
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
}

static int is_integer(cursor *c) {
    const unsigned char *p = c->p, *end = c->end;
    int negative = *p == '-';
    if (negative)
        p++;
    if (p >= end)
        return 0;
    if (*p == '0') {
        if (negative)
            return 0; /* -0 parses to 0, written "0" */
        p++;
    } else if (*p >= '1' && *p <= '9') {
        const unsigned char *digits = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        size_t n = (size_t)(p - digits);
        if (n > 16 || (n == 16 && memcmp(digits, MAX_SAFE, 16) > 0))
            return 0;
    } else {
        return 0;
    }
    /* A fraction or an exponent makes a float; a digit after "0" is not JSON. The
       caller refuses whatever else follows unless it ends the value. */
    c->p = p;
    return 1;
}

static int is_literal(cursor *c, const char *word, size_t n) {
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

static int is_array(cursor *c, int depth) {
    if (depth > MAX_DEPTH)
        return 0;
    c->p++;
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return 1;
    }
    for (;;) {
        if (!is_value(c, depth) || c->p >= c->end)
            return 0;
        unsigned char b = *c->p++;
        if (b == ']')
            return 1;
        if (b != ',')
            return 0;
    }
}

static int is_object(cursor *c, int depth) {
    if (depth > MAX_DEPTH)
        return 0;
    c->p++;
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 1;
    }
    const unsigned char *previous = NULL;
    for (;;) {
        if (c->p >= c->end || *c->p != '"')
            return 0;
        const unsigned char *name = c->p;
        if (!is_string(c))
            return 0;
        if (previous != NULL && compare_names(previous, name) >= 0)
            return 0; /* out of order, or a repeated name */
        previous = name;
        if (c->p >= c->end || *c->p != ':')
            return 0;
        c->p++;
        if (!is_value(c, depth) || c->p >= c->end)
            return 0;
        unsigned char b = *c->p++;
        if (b == '}')
            return 1;
        if (b != ',')
            return 0;
    }
}

static int is_value(cursor *c, int depth) {
    if (c->p >= c->end)
        return 0;
    switch (*c->p) {
    case '"': return is_string(c);
    case '{': return is_object(c, depth + 1);
    case '[': return is_array(c, depth + 1);
    case 't': return is_literal(c, "true", 4);
    case 'f': return is_literal(c, "false", 5);
    case 'n': return is_literal(c, "null", 4);
    default: return is_integer(c);
    }
}

static PyObject *jcs_is_canonical(PyObject *self, PyObject *arg) {
    (void)self;
    char *data;
    Py_ssize_t n;
    if (PyBytes_AsStringAndSize(arg, &data, &n) < 0)
        return NULL; /* not bytes: TypeError */
    cursor c = {(const unsigned char *)data, (const unsigned char *)data + n};
    int ok = is_value(&c, 0) && c.p == c.end;
    return PyBool_FromLong(ok);
}

static PyMethodDef jcs_methods[] = {
    {"is_canonical", jcs_is_canonical, METH_O,
     "is_canonical(data: bytes) -> bool\n\nWhether data is the canonical JSON text "
     "teecert._internal.canonical.parse_canonical accepts (see native/accel/jcs.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef jcs_module = {
    PyModuleDef_HEAD_INIT, "teecert._jcs",
    "Canonical JSON form check in one pass (native/accel/jcs.c).", -1, jcs_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__jcs(void) { return PyModule_Create(&jcs_module); }
