"""The stream loop's C code hands back the vector registers clean.

Legacy-SSE code (the probe's op kernels, and SHA-NI, which has no VEX form) runs
about a fifth slower while the upper halves of the YMM/ZMM registers are left in use,
until the next VZEROUPPER.  The AVX-512 generator (native/accel/mixgen.c) once
returned without one, through a tail call GCC emits no VZEROUPPER before, and the
whole stream loop paid for it (benchmarks/bench_stream.py).  So: after
``teecert_gen`` on its AVX-512 path, and after the SHA-NI code of
native/probe/sha256.c (which starts with a VZEROUPPER where the CPU has AVX), the
upper state must be clean whatever it was before.  XGETBV with ECX=1 (XINUSE) says
which state components are in use: bit 2 the upper halves of YMM0-15, bit 6 those of
ZMM0-15.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from teecert.probe import build as probe_build

NATIVE = probe_build.native_dir()

#: Prints the code each part runs ("impl-gen avx512", "impl-sha256 sha-ni"), then
#: "name xinuse" lines: after dirtying the upper halves, and after each call under
#: test that started from a dirty state.
DRIVER = r"""
#include <cpuid.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "accel.h"
#include "sha256.h"

static unsigned long long xinuse(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
    return ((unsigned long long)hi << 32) | lo;
}

/* Upper halves of YMM1 in use, behind the compiler's back (no VZEROUPPER after). */
static void dirty(void)
{
    __asm__ volatile("vcmptrueps %%ymm1, %%ymm1, %%ymm1" ::: "xmm1");
}

int main(void)
{
    static uint64_t buf[3 * 1031];
    static unsigned char msg[1000];
    uint8_t out[64];
    const void *msgs[2];
    size_t lens[2] = {sizeof msg, sizeof msg - 1};
    static const uint8_t zero = 0;
    unsigned a, b, c, d;
    const unsigned long long counts[] = {1, 8, 1031};
    size_t i;

    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) || !(c & (1u << 28))) {
        printf("unsupported no-avx\n");
        return 0;
    }
    __cpuid_count(0xd, 1, a, b, c, d);
    if (!(a & 4u)) {
        printf("unsupported no-xgetbv1\n");
        return 0;
    }
    printf("impl-gen %s\nimpl-sha256 %s\n", teecert_gen_impl(), teecert_sha256_impl());
    dirty();
    printf("dirty %llx\n", xinuse());
    for (i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        dirty();
        teecert_gen(1, 5, counts[i], 3, 64, buf);
        printf("gen-f64-%llu %llx\n", counts[i], xinuse());
        dirty();
        teecert_gen(1, 5, counts[i], 1, 32, buf);
        printf("gen-f32-%llu %llx\n", counts[i], xinuse());
    }
    memset(msg, 0x5a, sizeof msg);
    dirty();
    teecert_sha256(msg, sizeof msg, out);
    printf("sha256 %llx\n", xinuse());
    msgs[0] = msgs[1] = msg;
    dirty();
    teecert_sha256_lanes(&zero, 1, msgs, lens, 2, out);
    printf("sha256-lanes %llx\n", xinuse());
    return 0;
}
"""

YMM_HI128, ZMM_HI256 = 1 << 2, 1 << 6


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if probe_build.native_arch() != "x86_64":
        pytest.skip("XINUSE is x86-64's")
    tmp = tmp_path_factory.mktemp("vector-state")
    src, exe = tmp / "driver.c", tmp / "driver"
    src.write_text(DRIVER, encoding="ascii")
    cmd = [*probe_build.find_compiler(), "-O2", "-Wall", "-Wextra", "-Werror",
           "-I", str(NATIVE), "-I", str(NATIVE / "accel"), "-I", str(NATIVE / "probe"),
           str(src), str(NATIVE / "accel" / "accel.c"), str(NATIVE / "accel" / "mixgen.c"),
           str(NATIVE / "probe" / "sha256.c"),
           "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=True).stdout
    found = dict(line.split(" ", 1) for line in out.splitlines())
    if "unsupported" in found:
        pytest.skip(f"cannot read XINUSE here: {found['unsupported']}")
    if not int(found["dirty"], 16) & YMM_HI128:
        pytest.skip("this CPU does not report the upper YMM state as in use after writing it")
    return found


def test_the_avx512_generator_returns_clean(states: dict[str, str]) -> None:
    if states["impl-gen"] != "avx512":
        pytest.skip(f"the generator runs its {states['impl-gen']} code here")
    gens = {k: int(v, 16) for k, v in states.items() if k.startswith("gen-")}
    assert len(gens) == 6
    for name, bits in gens.items():
        assert not bits & (YMM_HI128 | ZMM_HI256), f"{name}: upper vector state left in use ({bits:#x})"


def test_the_sha_ni_code_starts_clean(states: dict[str, str]) -> None:
    if states["impl-sha256"] != "sha-ni":
        pytest.skip(f"SHA-256 runs its {states['impl-sha256']} code here")
    for name in ("sha256", "sha256-lanes"):
        bits = int(states[name], 16)
        assert not bits & YMM_HI128, f"{name}: SHA-NI ran with the upper YMM state in use ({bits:#x})"
