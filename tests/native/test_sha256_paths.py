"""native/probe/sha256.c: every code path gives the bytes hashlib gives.

The probe's transcript and the harness's Merkle leaves are hashed with
native/probe/sha256.c, which picks its block function at run time: SHA-NI on x86-64
CPUs that have it, the Armv8 SHA2 instructions on AArch64 CPUs that have them, the
portable C otherwise (or when built with -DTEECERT_SHA256_PORTABLE); where the CPU
also has AVX the SHA-NI code runs behind a VZEROUPPER (-DTEECERT_SHA256_NO_VZEROUPPER
leaves it out).  A small driver is built here once per path (the machine's own, SHA-NI
without the VZEROUPPER, the portable one, and AArch64 with Debian's cross compiler,
run under qemu-user) and fed messages: the FIPS 180-4
examples, every length 0..300 (all the block and padding boundaries), and random
ones (hypothesis).  For each message it prints the digest from one call, from two
updates split anywhere, and from teecert_sha256_lanes (messages hashed side by side,
with and without the leaf prefix 0x00), and each must equal hashlib's.
"""

from __future__ import annotations

import hashlib
import os
import random
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teecert.errors import BuildError
from teecert.probe import build as probe_build
from teecert.probe.library import load_probe
from teecert.vectors.streams import inputs as stream_inputs

NATIVE = probe_build.native_dir()
AARCH64 = "aarch64-linux-gnu"

#: Reads records (u32le length, u32le split, bytes) on stdin.  Prints the SHA-256 code
#: in use, then per record i (j = the next record, cyclically) seven hex digests: one
#: call; two updates split at `split`; teecert_sha256_lanes over (i, j) with the
#: prefix 0x00 (two digests); and over (i, j, i) with no prefix (three digests).
DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sha256.h"

static void hex(const uint8_t *d, int n)
{
    int i, k;
    for (k = 0; k < n; k++) {
        printf(" ");
        for (i = 0; i < 32; i++)
            printf("%02x", d[32 * k + i]);
    }
}

int main(void)
{
    size_t cap = 1 << 16, len = 0, n = 0, i, at;
    unsigned char *all = malloc(cap);
    size_t *off, *ln, *sp;
    static const uint8_t zero = 0;
    if (!all)
        return 3;
    for (;;) {
        size_t got;
        if (len == cap) {
            cap *= 2;
            if (!(all = realloc(all, cap)))
                return 3;
        }
        got = fread(all + len, 1, cap - len, stdin);
        if (got == 0)
            break;
        len += got;
    }
    off = malloc(sizeof *off * (len / 8 + 1));
    ln = malloc(sizeof *ln * (len / 8 + 1));
    sp = malloc(sizeof *sp * (len / 8 + 1));
    if (!off || !ln || !sp)
        return 3;
    for (at = 0; at + 8 <= len; n++) {
        uint32_t l = 0, s = 0;
        int k;
        for (k = 0; k < 4; k++) {
            l |= (uint32_t)all[at + k] << (8 * k);
            s |= (uint32_t)all[at + 4 + k] << (8 * k);
        }
        if (at + 8 + l > len || s > l)
            return 2;
        off[n] = at + 8;
        ln[n] = l;
        sp[n] = s;
        at += 8 + (size_t)l;
    }
    printf("%s\n", teecert_sha256_impl());
    for (i = 0; i < n; i++) {
        size_t j = (i + 1) % n;
        const void *msgs[3];
        size_t lens[3];
        uint8_t d[96];
        teecert_sha256_ctx ctx;
        msgs[0] = msgs[2] = all + off[i];
        msgs[1] = all + off[j];
        lens[0] = lens[2] = ln[i];
        lens[1] = ln[j];
        printf("%u", (unsigned)i);
        teecert_sha256(all + off[i], ln[i], d);
        hex(d, 1);
        teecert_sha256_init(&ctx);
        teecert_sha256_update(&ctx, all + off[i], sp[i]);
        teecert_sha256_update(&ctx, all + off[i] + sp[i], ln[i] - sp[i]);
        teecert_sha256_final(&ctx, d);
        hex(d, 1);
        teecert_sha256_lanes(&zero, 1, msgs, lens, 2, d);
        hex(d, 2);
        teecert_sha256_lanes(&zero, 0, msgs, lens, 3, d);
        hex(d, 3);
        printf("\n");
    }
    return 0;
}
"""

#: FIPS 180-4 / NIST CSRC "SHA-256" example messages and their published digests.
NIST = [
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",  # 448 bits
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    (b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
     b"klmnopqrlmnopqrsmnopqrstnopqrstu",  # 896 bits
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    (b"a" * 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
]


@dataclass(frozen=True)
class Driver:
    name: str
    argv: list[str]
    #: the block code it must report using
    impl: str


def _cpu_has_sha_ni() -> bool:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and "sha_ni" in line.split() for line in text.splitlines())


def _build(compiler: list[str], out: Path, *defines: str) -> Path:
    src = out.with_suffix(".c")
    src.write_text(DRIVER, encoding="ascii")
    cmd = [*compiler, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-DTEECERT_INTERNAL=",
           *defines, "-I", str(NATIVE / "probe"), str(src), str(NATIVE / "probe" / "sha256.c"),
           "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    return out


@pytest.fixture(scope="module")
def drivers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Driver | str]:
    """Each path's driver, or why it cannot run here."""
    tmp = tmp_path_factory.mktemp("sha256-drivers")
    cc = probe_build.find_compiler()
    arch = probe_build.native_arch()
    own = "sha-ni" if arch == "x86_64" and _cpu_has_sha_ni() else "portable"
    found: dict[str, Driver | str] = {
        "native": Driver("native", [str(_build(cc, tmp / "native"))], own),
        "portable": Driver("portable", [str(_build(cc, tmp / "portable", "-DTEECERT_SHA256_PORTABLE"))],
                           "portable"),
    }
    # On a CPU with AVX the native driver runs the SHA-NI code behind a VZEROUPPER;
    # this one runs it without (as on a CPU with SHA-NI and no AVX).
    if own == "sha-ni":
        found["sha-ni-plain"] = Driver(
            "sha-ni-plain", [str(_build(cc, tmp / "sha-ni-plain", "-DTEECERT_SHA256_NO_VZEROUPPER"))],
            "sha-ni")
    else:
        found["sha-ni-plain"] = "this CPU has no SHA-NI"
    if arch == "aarch64":
        found["aarch64"] = found["native"]
        return found
    try:
        cross = probe_build.cross_compiler(AARCH64)
    except BuildError as exc:
        found["aarch64"] = str(exc)
        return found
    prefix, missing = probe_build.runner_prefix(AARCH64)
    if missing:
        found["aarch64"] = missing
        return found
    exe = _build(cross, tmp / "aarch64")
    # qemu-user emulates a CPU with the SHA2 instructions ("max"), so the run-time
    # check must choose them.
    found["aarch64"] = Driver("aarch64", [*prefix, str(exe)], "armv8-sha2")
    return found


def _driver(drivers: dict[str, Driver | str], name: str) -> Driver:
    d = drivers[name]
    if isinstance(d, str):
        pytest.skip(f"{name} SHA-256 path not testable here: {d}")
    return d


def _check(driver: Driver, msgs: list[bytes], splits: list[int]) -> None:
    """Run ``driver`` on the messages; every digest it prints must be hashlib's."""
    data = b"".join(struct.pack("<II", len(m), s) + m for m, s in zip(msgs, splits, strict=True))
    proc = subprocess.run(driver.argv, input=data, capture_output=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    lines = proc.stdout.decode("ascii").splitlines()
    assert lines[0] == driver.impl, f"{driver.name}: uses {lines[0]}, not {driver.impl}"
    assert len(lines) == 1 + len(msgs)
    for i, line in enumerate(lines[1:]):
        words = line.split()
        assert int(words[0]) == i
        m, mj = msgs[i], msgs[(i + 1) % len(msgs)]
        plain, leaf = hashlib.sha256(m).hexdigest(), hashlib.sha256(b"\x00" + m).hexdigest()
        want = [plain, plain, leaf, hashlib.sha256(b"\x00" + mj).hexdigest(),
                plain, hashlib.sha256(mj).hexdigest(), plain]
        what = ["one call", f"split at {splits[i]}", "lanes (i, j) prefixed: i", "lanes (i, j) prefixed: j",
                "lanes (i, j, i): i", "lanes (i, j, i): j", "lanes (i, j, i): third"]
        for got, exp, label in zip(words[1:], want, what, strict=True):
            assert got == exp, (f"{driver.name}: message {i} ({len(m)} bytes, next {len(mj)} bytes), "
                                f"{label}: {got} != hashlib {exp}")


PATHS = ["native", "sha-ni-plain", "portable", "aarch64"]


@pytest.mark.parametrize("path", PATHS)
def test_nist_examples(drivers: dict[str, Driver | str], path: str) -> None:
    driver = _driver(drivers, path)
    for msg, digest in NIST:  # the published digests, not hashlib's word for it
        assert hashlib.sha256(msg).hexdigest() == digest
    msgs = [m for m, _ in NIST]
    _check(driver, msgs, [len(m) // 3 for m in msgs])


@pytest.mark.parametrize("path", PATHS)
def test_every_length_to_300(drivers: dict[str, Driver | str], path: str) -> None:
    """Every length 0..300 (each next to one a byte longer, for the side-by-side
    hashing of unequal messages), split at every kind of point."""
    rng = random.Random(180_4)
    msgs = [rng.randbytes(n) for n in range(301)]
    splits = [rng.choice([0, n, n // 2, min(n, 55), min(n, 64), rng.randint(0, n)]) for n in range(301)]
    _check(_driver(drivers, path), msgs, splits)


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_messages(drivers: dict[str, Driver | str], path: str, data: st.DataObject) -> None:
    msgs = data.draw(st.lists(st.binary(max_size=300), min_size=1, max_size=12), label="messages")
    long = data.draw(st.lists(st.integers(64, 4096), max_size=2), label="long lengths")
    msgs += [os.urandom(n) for n in long]
    splits = [data.draw(st.integers(0, len(m)), label="split") for m in msgs]
    _check(_driver(drivers, path), msgs, splits)


def test_the_portable_define_reaches_the_probe(tmp_path: Path) -> None:
    """-DTEECERT_SHA256_PORTABLE is how a probe is built without the SHA instructions
    (a build-time choice, not the environment: see sha256.h).  That probe says so in
    its self-description and keeps the same transcript as the default build."""
    import teecert.ops as ops

    portable = load_probe(probe_build.build_probe(tmp_path / "portable.so",
                                                  defines={"TEECERT_SHA256_PORTABLE": None}))
    # a copy of its own: resetting the transcript of the shared one would touch others
    default = load_probe(probe_build.build_probe(tmp_path / "default.so"))
    assert portable.description["transcript_sha256"] == "portable"
    want = "sha-ni" if probe_build.native_arch() == "x86_64" and _cpu_has_sha_ni() else None
    if want:
        assert default.description["transcript_sha256"] == want
    op = ops.get("f64.mul.rne")
    rng = random.Random(7)
    for p in (portable, default):
        p.transcript_reset()
    for n in (0, 1, 7, 8, 9, 1000):  # outputs of 0 .. 8000 bytes: every padding case
        packed = rng.randbytes(n * op.in_bytes)
        assert portable.run(op, packed, n) == default.run(op, packed, n)
    assert portable.transcript() == default.transcript()


def test_the_accelerator_leaves_are_hashlib_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    """teecert._accel's teecert_leaves (the stream loop's leaves, two chunks side by
    side) against hashlib, and so is leaf_hasher's fallback for an accelerator built
    before teecert_leaves existed."""
    if not stream_inputs.have_accelerator():
        pytest.skip("teecert._accel is not built (pip install -e .)")
    from teecert._internal import accel

    mod = accel.load()
    assert hasattr(mod.lib, "teecert_leaves"), "teecert._accel predates teecert_leaves: rebuild it"
    rng = random.Random(3)
    for lens in ([0], [1, 0], [8 * 4096, 8 * 4096], [63, 64], [65, 64 * 9 + 5], [4095, 4097], [1000]):
        bufs = [mod.ffi.new("unsigned char[]", max(1, n)) for n in lens]
        blobs = [rng.randbytes(n) for n in lens]
        for b, blob in zip(bufs, blobs, strict=True):
            mod.ffi.buffer(b)[: len(blob)] = blob
        want = [hashlib.sha256(b"\x00" + blob).digest() for blob in blobs]
        assert stream_inputs.leaf_hasher(bufs)(lens) == want, lens
        assert stream_inputs.leaf_hasher(bufs)(lens[:1]) == want[:1], lens
        with monkeypatch.context() as m:
            m.setattr(stream_inputs, "_accel", SimpleNamespace(lib=SimpleNamespace(), ffi=mod.ffi))
            assert stream_inputs.leaf_hasher(bufs)(lens) == want, ("hashlib fallback", lens)
    impl = mod.ffi.string(mod.lib.teecert_leaf_impl()).decode()
    if probe_build.native_arch() == "x86_64" and _cpu_has_sha_ni():
        assert impl == "sha-ni"
