/*
 * Broken probe: u64.sort_stable is a heapsort.  It sorts by the key correctly, so
 * every array of distinct keys comes out right, but heapsort is not stable: items
 * with equal keys leave in another order than they came.  Consensus code that sorts
 * (transactions by fee, validators by stake) and breaks ties by input order forks
 * on such a platform.  The integers suite must catch it.
 */
#include <stddef.h>
#include <stdint.h>

static void teecert_zoo_sift(uint64_t *a, size_t start, size_t end)
{
    size_t root = start;
    while (2 * root + 1 < end) {
        size_t child = 2 * root + 1;
        if (child + 1 < end && (a[child] >> 48) < (a[child + 1] >> 48))
            child++;
        if ((a[root] >> 48) >= (a[child] >> 48))
            return;
        {
            uint64_t t = a[root];
            a[root] = a[child];
            a[child] = t;
        }
        root = child;
    }
}

static void teecert_zoo_heapsort(uint64_t *a, size_t n, uint64_t *scratch)
{
    size_t i;
    (void)scratch;
    for (i = n / 2; i-- > 0;)
        teecert_zoo_sift(a, i, n);
    for (i = n; i-- > 1;) {
        uint64_t t = a[0];
        a[0] = a[i];
        a[i] = t;
        teecert_zoo_sift(a, 0, i);
    }
}

#define TEECERT_SORT_U64(items, n, scratch) teecert_zoo_heapsort((items), (n), (scratch))
#define TEECERT_PROBE_NAME "teecert-zoo-unstable-sort"

#include "probe.c"
