/*
 * Broken probe: f64.div.rne answered from a table.  The table holds the answers to
 * every f64.div.rne input of the fixed vector set the run uses (its explicit vectors
 * and the first chunk of its stream), loaded from the file $TEECERT_ZOO_TABLE:
 * records of three little-endian u64 (a, b, a / b), sorted by (a, b).  Any other
 * input gets a result one bit off.  On the fixed material the probe is perfect and
 * certifies; on a fresh challenge stream, which no table can hold, it is wrong
 * nearly everywhere.
 */
#include <fenv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *teecert_zoo_table;
static size_t teecert_zoo_rows;
static int teecert_zoo_loaded;

static uint64_t teecert_zoo_u64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void teecert_zoo_load(void)
{
    const char *path = getenv("TEECERT_ZOO_TABLE");
    FILE *f;
    long size;
    teecert_zoo_loaded = 1;
    if (path == NULL || (f = fopen(path, "rb")) == NULL)
        return;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && size % 24 == 0
        && fseek(f, 0, SEEK_SET) == 0 && (teecert_zoo_table = malloc((size_t)size)) != NULL) {
        if (fread(teecert_zoo_table, 1, (size_t)size, f) == (size_t)size)
            teecert_zoo_rows = (size_t)size / 24;
    }
    fclose(f);
}

static double teecert_zoo_div(double a, double b)
{
    uint64_t ka, kb, bits;
    size_t lo = 0, hi;
    double r = a / b;
    if (fegetround() != FE_TONEAREST)
        return r; /* only f64.div.rne is memorized */
    if (!teecert_zoo_loaded)
        teecert_zoo_load();
    memcpy(&ka, &a, 8);
    memcpy(&kb, &b, 8);
    hi = teecert_zoo_rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const unsigned char *row = teecert_zoo_table + 24 * mid;
        uint64_t ra = teecert_zoo_u64(row), rb = teecert_zoo_u64(row + 8);
        if (ra == ka && rb == kb) {
            bits = teecert_zoo_u64(row + 16);
            memcpy(&r, &bits, 8);
            return r;
        }
        if (ra < ka || (ra == ka && rb < kb))
            lo = mid + 1;
        else
            hi = mid;
    }
    memcpy(&bits, &r, 8);
    bits ^= 1; /* not in the table: a guess, one bit off */
    memcpy(&r, &bits, 8);
    return r;
}

#define TEECERT_DIV_F64(a, b) teecert_zoo_div((a), (b))
#define TEECERT_PROBE_NAME "teecert-zoo-table-div"

#include "probe.c"
