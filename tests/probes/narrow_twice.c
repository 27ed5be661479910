/*
 * Broken probe: binary64 -> binary32 that rounds twice.  A value below the binary32
 * normal range is scaled up by 2^64, narrowed (rounded to 24 bits as a normal
 * number), then scaled back (rounded again, to the subnormal grid): the classic
 * soft-float pattern of "normalize, round, denormalize".  A value just off a tie
 * between two binary32 subnormals is first rounded onto the tie, then the tie goes
 * to even: the wrong neighbour in round-to-nearest.  Every normal result is right.
 */
#include <math.h>

static float teecert_zoo_narrow_twice(double x)
{
    if (fabs(x) < 0x1p-126) {
        volatile float scaled = (float)(x * 0x1p64);
        return scaled * 0x1p-64f;
    }
    return (float)x;
}

#define TEECERT_F64_TO_F32(x) teecert_zoo_narrow_twice(x)
#define TEECERT_PROBE_NAME "teecert-zoo-narrow-twice"

#include "probe.c"
