"""native/probe/hashes.c: the batch hashing of the hash.* ops gives the bytes of the
one-message code, whichever path it takes.

teecert_hash_batch hashes SHA-512, SHA3-256, Keccak-256 and BLAKE2b-512 messages
eight at a time with AVX-512 on x86-64 CPUs that have it (messages grouped by their
number of compression blocks, each group's last few in padded lanes or, alone, by
the portable code), and one by one elsewhere or in a build with
-DTEECERT_HASH_PORTABLE.  Checked here through the reference probe's hash ops, in
process: every message length of a slot (all the block and padding boundaries of
the three block sizes, 128 and 136 bytes), random messages, and batches shaped so
that every group holds 0 to 17 messages (full runs of eight, leftovers of every
size, a lone leftover), against hashlib (and, for Keccak-256, which hashlib lacks,
the pure-Python sponge of teecert.reference.hashes) and against a portable-only
build of the probe.  A small driver over hashes.c alone covers what the probe's
512-byte slots cannot (longer messages, up to eight blocks and beyond) and says
which path it took, which must be the AVX-512 one on a CPU with AVX-512.
"""

from __future__ import annotations

import hashlib
import random
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import teecert.ops as ops
from teecert.probe import build as probe_build
from teecert.probe.library import Probe, ffi, load_probe
from teecert.reference import hashes as ref_hashes
from teecert.vectors.streams.inputs import have_accelerator, native_generator, stream_state

NATIVE = probe_build.native_dir()
SLOT = 512  # TEECERT_HASH_MSG_BYTES

#: name -> (one-message reference, block size, bytes of padding a message needs at least)
HASHES: dict[str, tuple[Callable[[bytes], bytes], int, int]] = {
    "sha512": (lambda m: hashlib.sha512(m).digest(), 128, 17),
    "sha3_256": (lambda m: hashlib.sha3_256(m).digest(), 136, 1),
    "keccak256": (lambda m: ref_hashes.digest("keccak256", m), 136, 1),
    "blake2b512": (lambda m: hashlib.blake2b(m, digest_size=64).digest(), 128, 0),
}
NAMES = list(HASHES)


def blocks(name: str, n: int) -> int:
    """Compression blocks of an ``n``-byte message, padding included: the groups of
    teecert_hash_batch."""
    _, size, pad = HASHES[name]
    return max(1, -(-(n + pad) // size))


def pack(msgs: list[bytes], rng: random.Random, slot: int = SLOT) -> bytes:
    """The probe's layout: u64le length, then the slot, its unused bytes random (the
    hashes must not read them)."""
    return b"".join(struct.pack("<Q", len(m)) + m + rng.randbytes(slot - len(m)) for m in msgs)


def cpu_has_avx512() -> bool:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split())
            return {"avx512f", "avx512bw"} <= flags
    return False



@pytest.fixture(scope="module")
def portable(tmp_path_factory: pytest.TempPathFactory) -> Probe:
    out = tmp_path_factory.mktemp("hash-lanes") / "portable.so"
    return load_probe(probe_build.build_probe(out, defines={"TEECERT_HASH_PORTABLE": None}))


def digests(p: Probe, name: str, msgs: list[bytes], rng: random.Random) -> list[bytes]:
    op = ops.get("hash." + name)
    out = p.run(op, pack(msgs, rng), len(msgs))
    size = op.out_bytes
    return [out[i * size:(i + 1) * size] for i in range(len(msgs))]


def check(p: Probe, name: str, msgs: list[bytes], rng: random.Random) -> None:
    want = HASHES[name][0]
    for i, (m, got) in enumerate(zip(msgs, digests(p, name, msgs, rng), strict=True)):
        assert got == want(m), f"hash.{name}: message {i} of {len(msgs)} ({len(m)} bytes)"


@pytest.mark.parametrize("name", NAMES)
def test_every_length_of_a_slot(probe: Probe, name: str) -> None:
    """Lengths 0..512 in one batch, shuffled, so every group is a mix of lengths."""
    rng = random.Random(512)
    msgs = [rng.randbytes(n) for n in range(SLOT + 1)]
    rng.shuffle(msgs)
    check(probe, name, msgs, rng)


@pytest.mark.parametrize("name", NAMES)
def test_every_length_alone_and_in_eights(probe: Probe, name: str) -> None:
    """Each length hashed alone (the portable code) and as eight messages of the same
    length (one full run of lanes), with patterned bytes, so a lane mix-up shows."""
    rng = random.Random(8)
    for n in range(SLOT + 1):
        msgs = [bytes((7 * k + i) & 0xFF for k in range(n)) for i in range(8)]
        check(probe, name, msgs[:1], rng)
        check(probe, name, msgs, rng)


@pytest.mark.parametrize("name", NAMES)
def test_every_group_size(probe: Probe, portable: Probe, name: str) -> None:
    """Batches where each block-count group holds c messages, c = 0..17 (runs of
    eight plus leftovers of every size), and one where the groups all differ."""
    rng = random.Random(17)
    by_blocks: dict[int, list[int]] = {}
    for n in range(SLOT + 1):
        by_blocks.setdefault(blocks(name, n), []).append(n)
    shapes = [{b: c for b in by_blocks} for c in range(18)]
    shapes.append({b: (3 * i + 1) % 18 for i, b in enumerate(sorted(by_blocks))})
    for shape in shapes:
        msgs = [rng.randbytes(rng.choice(by_blocks[b])) for b, c in shape.items() for _ in range(c)]
        rng.shuffle(msgs)
        if not msgs:
            continue
        check(probe, name, msgs, rng)
        assert digests(probe, name, msgs, rng) == digests(portable, name, msgs, rng)


@pytest.mark.parametrize("name", NAMES)
def test_random_batches_against_the_portable_build(probe: Probe, portable: Probe, name: str) -> None:
    """Random lengths, near-boundary lengths, batches of 1..9 and one longer than a
    tile of the lanes code (4096 messages)."""
    rng = random.Random(4096)
    _, size, pad = HASHES[name]
    edges = sorted({max(0, min(SLOT, k * size - pad + d)) for k in range(6) for d in (-1, 0, 1)})
    for count in [*range(1, 10), 64, 5000]:
        msgs = [rng.randbytes(rng.choice([rng.randint(0, SLOT), rng.choice(edges)]))
                for _ in range(count)]
        got = digests(probe, name, msgs, rng)
        assert got == digests(portable, name, msgs, rng), (name, count)
        if name != "keccak256" or count < 100:  # the Python sponge is slow
            for m, g in zip(msgs, got, strict=True):
                assert g == HASHES[name][0](m), (name, count, len(m))


@pytest.mark.parametrize("name", NAMES)
def test_the_stream_inputs_match_the_portable_build(probe: Probe, portable: Probe, name: str) -> None:
    """The op's own stream generator (its mix of random and boundary lengths, its
    slot contents) through both builds, chunk by chunk."""
    if not have_accelerator():
        pytest.skip("teecert._accel is not built (pip install -e .)")
    op = ops.get("hash." + name)
    gen = native_generator(op, stream_state(op, 11))
    n = 8192
    inbuf = probe.new_buffer(n * op.in_bytes)
    for start in (0, n):
        gen(start, n, inbuf)
        packed = bytes(ffi.buffer(inbuf))
        assert probe.run(op, packed, n) == portable.run(op, packed, n), (name, start)


def test_the_portable_build_has_no_lanes_code(portable: Probe) -> None:
    """The define reaches hashes.c: its probe still answers, one message at a time
    (same bytes as hashlib), so the comparisons above compare two different paths."""
    rng = random.Random(1)
    for name in ("sha512", "sha3_256", "blake2b512"):
        check(portable, name, [rng.randbytes(n) for n in (0, 1, 111, 112, 135, 136, 512)] * 3, rng)


# -- hashes.c alone: longer messages, and which path runs ---------------------------------

#: Reads (u32le name length, name, u32le stride, u32le n, n * stride bytes) on stdin;
#: prints teecert_hash_batch_impl(name), then per vector the digest from
#: teecert_hash_batch and from teecert_hash, in hex.
DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hashes.h"

static unsigned read_u32(void)
{
    unsigned char b[4];
    if (fread(b, 1, 4, stdin) != 4)
        exit(2);
    return (unsigned)b[0] | (unsigned)b[1] << 8 | (unsigned)b[2] << 16 | (unsigned)b[3] << 24;
}

static void hex(const unsigned char *d, size_t n)
{
    size_t i;
    printf(" ");
    for (i = 0; i < n; i++)
        printf("%02x", d[i]);
}

int main(void)
{
    char name[32];
    unsigned nl = read_u32(), stride, n, i;
    unsigned char *in, *out, one[64];
    size_t size;
    if (nl >= sizeof name || fread(name, 1, nl, stdin) != nl)
        return 2;
    name[nl] = 0;
    stride = read_u32();
    n = read_u32();
    size = teecert_hash_size(name);
    in = malloc((size_t)stride * n + 1);
    out = malloc(size * n + 1);
    if (!in || !out || fread(in, 1, (size_t)stride * n, stdin) != (size_t)stride * n)
        return 3;
    printf("%s\n", teecert_hash_batch_impl(name));
    if (teecert_hash_batch(name, in, stride, n, out, size) != 0)
        return 4;
    for (i = 0; i < n; i++) {
        const unsigned char *v = in + (size_t)stride * i;
        size_t len = 0;
        int k;
        for (k = 7; k >= 0; k--)
            len = len << 8 | v[k];
        teecert_hash(name, v + 8, len, one);
        hex(out + size * i, size);
        hex(one, size);
        printf("\n");
    }
    return 0;
}
"""


def _build_driver(out: Path, *defines: str) -> Path:
    src = out.with_suffix(".c")
    src.write_text(DRIVER, encoding="ascii")
    cmd = [*probe_build.find_compiler(), "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
           "-DTEECERT_INTERNAL=", *defines, "-I", str(NATIVE / "probe"), str(src),
           str(NATIVE / "probe" / "hashes.c"), str(NATIVE / "probe" / "sha256.c"), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    return out


@pytest.fixture(scope="module")
def drivers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("hash-lanes-driver")
    return {"native": _build_driver(tmp / "native"),
            "portable": _build_driver(tmp / "portable", "-DTEECERT_HASH_PORTABLE")}


def _run_driver(exe: Path, name: str, msgs: list[bytes], stride: int,
                runner: tuple[str, ...] = ()) -> tuple[str, list[list[str]]]:
    rng = random.Random(len(msgs))
    data = (struct.pack("<I", len(name)) + name.encode() + struct.pack("<II", stride, len(msgs))
            + pack(msgs, rng, stride - 8))
    proc = subprocess.run([*runner, str(exe)], input=data, capture_output=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    lines = proc.stdout.decode("ascii").splitlines()
    return lines[0], [ln.split() for ln in lines[1:]]


@pytest.mark.parametrize("path", ["native", "portable"])
@pytest.mark.parametrize("name", NAMES)
def test_longer_messages_and_the_path_taken(drivers: dict[str, Path], path: str, name: str) -> None:
    """Lengths 0..1100 in a wider slot: block counts up to nine, past what the lanes
    group (eight), each length twice and shuffled."""
    rng = random.Random(1100)
    msgs = [rng.randbytes(n) for n in range(1101)] * 2
    rng.shuffle(msgs)
    impl, rows = _run_driver(drivers[path], name, msgs, 8 + 1100)
    if path == "portable":
        assert impl == "one at a time"
    elif probe_build.native_arch() == "x86_64" and cpu_has_avx512():
        assert impl == "avx512"
    assert len(rows) == len(msgs)
    for m, (batch, one) in zip(msgs, rows, strict=True):
        assert batch == one, (name, path, len(m))
    for m, (batch, _) in list(zip(msgs, rows, strict=True))[:: 1 if name != "keccak256" else 7]:
        assert bytes.fromhex(batch) == HASHES[name][0](m), (name, path, len(m))


def test_sha256_stays_on_its_own_code(drivers: dict[str, Path]) -> None:
    """hash.sha256 is not in the lanes code (it has the SHA instructions)."""
    rng = random.Random(256)
    msgs = [rng.randbytes(n) for n in range(0, 300, 7)]
    impl, rows = _run_driver(drivers["native"], "sha256", msgs, 8 + 300)
    assert impl == "one at a time"
    for m, (batch, one) in zip(msgs, rows, strict=True):
        assert batch == one == hashlib.sha256(m).hexdigest()


@pytest.mark.parametrize("name", NAMES)
def test_a_cpu_without_avx512_takes_the_portable_path(drivers: dict[str, Path], name: str) -> None:
    """The run-time check: the same driver on an emulated CPU without AVX-512
    (qemu-user's Haswell) hashes one message at a time, to the same bytes."""
    qemu = probe_build.find_qemu("x86_64")
    if probe_build.native_arch() != "x86_64" or qemu is None:
        pytest.skip("needs x86-64 and qemu-x86_64 (Debian's qemu-user)")
    rng = random.Random(300)
    msgs = [rng.randbytes(n) for n in range(0, 600, 3)]
    impl, rows = _run_driver(drivers["native"], name, msgs, 8 + 600, (qemu, "-cpu", "Haswell"))
    assert impl == "one at a time"
    _, here = _run_driver(drivers["native"], name, msgs, 8 + 600)
    assert rows == here
