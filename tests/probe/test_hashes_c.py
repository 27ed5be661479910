"""The probe's C hashes (``native/probe/hashes.c``) against hashlib and the Python
Keccak of ``teecert.reference.hashes``.

The C is compiled here into a throwaway shared library (exported with
``-DTEECERT_INTERNAL=``: in the probe these functions are hidden) and called
through cffi in ABI mode.  Every length 0..1100 covers each padding position of
the 64-, 128- and 136-byte blocks of the five hashes several times over; contents
are random, inputs are also passed at odd addresses, and a 1 MiB message
exercises long inputs.  A second build with ``-DTEECERT_KECCAK_DOMAIN=0x06`` is
the broken probe of the test zoo: its "Keccak-256" is SHA3-256, and the reference
must tell them apart.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from teecert.probe import build as probe_build
from teecert.reference import hashes

cffi = pytest.importorskip("cffi")

NAMES = ("sha256", "sha512", "sha3_256", "keccak256", "blake2b512")
WARNINGS = ("-Wall", "-Wextra", "-pedantic")

CDEF = """
size_t teecert_hash_size(const char *name);
int teecert_hash(const char *name, const unsigned char *msg, size_t len, unsigned char *out);
void teecert_sha256(const void *data, size_t len, uint8_t out[32]);
void teecert_sha512(const void *data, size_t len, uint8_t out[64]);
void teecert_sha3_256(const void *data, size_t len, uint8_t out[32]);
void teecert_keccak256(const void *data, size_t len, uint8_t out[32]);
void teecert_blake2b512(const void *data, size_t len, uint8_t out[64]);
"""


def probe_dir() -> Path:
    return Path(probe_build.native_dir()) / "probe"


class CHashes:
    """A build of hashes.c + sha256.c loaded with cffi, and the compiler's stderr."""

    def __init__(self, path: Path, stderr: str) -> None:
        self.ffi = cffi.FFI()
        self.ffi.cdef(CDEF)
        self.lib: Any = self.ffi.dlopen(str(path))
        self.stderr = stderr

    def hash(self, name: str, msg: bytes, offset: int = 0) -> bytes:
        """``teecert_hash(name, msg)``, with msg placed ``offset`` bytes into a buffer."""
        size = hashes.HASHES[name]
        buf = self.ffi.from_buffer("unsigned char[]", bytearray(offset) + msg)
        out = self.ffi.new("unsigned char[]", size)
        assert self.lib.teecert_hash(name.encode(), buf + offset, len(msg), out) == 0
        return bytes(self.ffi.buffer(out, size))

    def direct(self, name: str, msg: bytes) -> bytes:
        """The individual function, ``teecert_<name>(msg)``."""
        size = hashes.HASHES[name]
        out = self.ffi.new("uint8_t[]", size)
        getattr(self.lib, f"teecert_{name}")(self.ffi.from_buffer(msg), len(msg), out)
        return bytes(self.ffi.buffer(out, size))


def build(out: Path, *defines: str) -> CHashes:
    compiler = probe_build.find_compiler()
    pd = probe_dir()
    cmd = [*compiler, "-std=c99", "-O2", "-fPIC", "-shared", *WARNINGS, "-I", str(pd),
           "-DTEECERT_INTERNAL=", *defines, str(pd / "hashes.c"), str(pd / "sha256.c"),
           "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return CHashes(out, proc.stderr)


@pytest.fixture(scope="module")
def chash(tmp_path_factory: pytest.TempPathFactory) -> CHashes:
    return build(tmp_path_factory.mktemp("hashes") / "libhashes.so")


@pytest.fixture(scope="module")
def chash_sha3_domain(tmp_path_factory: pytest.TempPathFactory) -> CHashes:
    return build(tmp_path_factory.mktemp("hashes06") / "libhashes06.so",
                 "-DTEECERT_KECCAK_DOMAIN=0x06")


def reference(name: str) -> Callable[[bytes], bytes]:
    """hashlib where it has the hash (not teecert's own code), else the Python sponge."""
    if name == "keccak256":
        return lambda m: hashes.keccak_sponge(m, 136, 0x01, 32)
    if name == "blake2b512":
        return lambda m: hashlib.blake2b(m, digest_size=64).digest()
    return lambda m: hashlib.new(name, m).digest()


def test_builds_without_warnings(chash: CHashes, chash_sha3_domain: CHashes) -> None:
    assert chash.stderr == "" and chash_sha3_domain.stderr == ""


def test_sizes_by_name(chash: CHashes) -> None:
    for name in NAMES:
        assert chash.lib.teecert_hash_size(name.encode()) == hashes.HASHES[name]
    for bad in (b"", b"SHA256", b"sha3-256", b"keccak", b"blake2b", b"sha256 "):
        assert chash.lib.teecert_hash_size(bad) == 0
    assert chash.lib.teecert_hash_size(chash.ffi.NULL) == 0


def test_unknown_name_is_an_error_and_leaves_out_alone(chash: CHashes) -> None:
    out = chash.ffi.new("unsigned char[]", [0xAA] * 64)
    for bad in (b"sha3-256", b"", b"keccak-256"):
        assert chash.lib.teecert_hash(bad, b"abc", 3, out) == -1
    assert chash.lib.teecert_hash(chash.ffi.NULL, b"abc", 3, out) == -1
    assert bytes(chash.ffi.buffer(out)) == b"\xaa" * 64


def test_null_message_of_length_zero_is_the_empty_message(chash: CHashes) -> None:
    for name in NAMES:
        out = chash.ffi.new("unsigned char[]", 64)
        assert chash.lib.teecert_hash(name.encode(), chash.ffi.NULL, 0, out) == 0
        assert bytes(chash.ffi.buffer(out, hashes.HASHES[name])) == reference(name)(b"")


@pytest.mark.parametrize("name", NAMES)
def test_every_length_0_to_1100(chash: CHashes, name: str) -> None:
    rng = random.Random(f"hashes-c-{name}")
    ref = reference(name)
    for n in range(1101):
        msg = rng.randbytes(n)
        want = ref(msg)
        assert chash.hash(name, msg, offset=n % 8) == want, (name, n)
        assert chash.direct(name, msg) == want, (name, n)


@pytest.mark.parametrize("name", NAMES)
def test_one_mebibyte(chash: CHashes, name: str) -> None:
    msg = random.Random(f"hashes-c-1m-{name}").randbytes(1 << 20)
    assert chash.hash(name, msg) == reference(name)(msg)


def test_published_keccak256_answers(chash: CHashes) -> None:
    assert chash.hash("keccak256", b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
    assert chash.hash("keccak256", b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")


def test_sha3_domain_build_is_the_zoo_fault(chash: CHashes, chash_sha3_domain: CHashes) -> None:
    """Built with -DTEECERT_KECCAK_DOMAIN=0x06, "keccak256" is SHA3-256: the reference
    (and the correct build) disagree with it on every message, the rest is intact."""
    rng = random.Random("hashes-c-zoo")
    for n in (0, 1, 3, 135, 136, 137, 1000):
        msg = rng.randbytes(n)
        broken = chash_sha3_domain.hash("keccak256", msg)
        assert broken == hashlib.sha3_256(msg).digest()
        assert broken != hashes.digest("keccak256", msg)
        assert broken != chash.hash("keccak256", msg)
        for name in NAMES:
            if name != "keccak256":
                assert chash_sha3_domain.hash(name, msg) == chash.hash(name, msg)


@pytest.mark.parametrize("cross", ["aarch64-linux-gnu-gcc", "riscv64-linux-gnu-gcc"])
def test_cross_compiles_without_warnings(cross: str, tmp_path: Path) -> None:
    if shutil.which(cross) is None:
        pytest.skip(f"{cross} not installed")
    pd = probe_dir()
    for extra in ((), ("-DTEECERT_KECCAK_DOMAIN=0x06",)):
        proc = subprocess.run(
            [cross, "-std=c99", "-O2", *WARNINGS, "-I", str(pd), *extra, "-c",
             str(pd / "hashes.c"), "-o", str(tmp_path / "hashes.o")],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_an_invalid_domain_seam_does_not_compile(tmp_path: Path) -> None:
    """0x80 would collide with the final padding bit: the build must stop."""
    compiler = probe_build.find_compiler()
    pd = probe_dir()
    proc = subprocess.run(
        [*compiler, "-std=c99", "-I", str(pd), "-DTEECERT_KECCAK_DOMAIN=0x80", "-c",
         str(pd / "hashes.c"), "-o", str(tmp_path / "bad.o")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode != 0


#: A freestanding big-endian AArch64 program (no libc: there is no big-endian glibc
#: here, so the three string.h functions hashes.c uses are supplied, and output is
#: one write(2) per digest).  It hashes the messages of ``lcg_bytes`` at every length
#: 0..LEN_MAX from offsets 0..6, and prints one hex digest per line.
BE_DRIVER = r"""
#include <stddef.h>
#include <stdint.h>
#include "hashes.h"

void *memcpy(void *d, const void *s, size_t n)
{ unsigned char *a = d; const unsigned char *b = s; while (n--) *a++ = *b++; return d; }
void *memset(void *d, int c, size_t n)
{ unsigned char *a = d; while (n--) *a++ = (unsigned char)c; return d; }
int strcmp(const char *a, const char *b)
{ while (*a && *a == *b) { a++; b++; } return (unsigned char)*a - (unsigned char)*b; }

static long sys3(long nr, long a0, long a1, long a2)
{
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a0;
    register long x1 __asm__("x1") = a1;
    register long x2 __asm__("x2") = a2;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}

static unsigned char msg[LEN_MAX + 8], line[129];
static const char *const names[] = {"sha256", "sha512", "sha3_256", "keccak256", "blake2b512"};

void _start(void)
{
    uint32_t s = 12345u;
    size_t n, i, k, size;
    unsigned char d[64];
    for (i = 0; i < sizeof msg; i++) {
        s = s * 1103515245u + 12345u;
        msg[i] = (unsigned char)(s >> 16);
    }
    for (n = 0; n <= LEN_MAX; n++)
        for (k = 0; k < 5; k++) {
            size = teecert_hash_size(names[k]);
            if (teecert_hash(names[k], msg + n % 7, n, d) != 0)
                sys3(93, 1, 0, 0);
            for (i = 0; i < size; i++) {
                line[2 * i] = "0123456789abcdef"[d[i] >> 4];
                line[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
            }
            line[2 * size] = '\n';
            sys3(64, 1, (long)line, (long)(2 * size + 1));
        }
    sys3(93, 0, 0, 0);
    for (;;) {}
}
"""


def lcg_bytes(n: int) -> bytes:
    """The driver's message bytes."""
    s, out = 12345, bytearray()
    for _ in range(n):
        s = (s * 1103515245 + 12345) & 0xFFFFFFFF
        out.append((s >> 16) & 0xFF)
    return bytes(out)


def test_big_endian_aarch64_under_qemu(tmp_path: Path) -> None:
    """The same digests on a big-endian machine: the byte-wise loads and stores
    really make the code independent of the host's byte order."""
    cross, qemu = "aarch64-linux-gnu-gcc", "qemu-aarch64_be"
    if shutil.which(cross) is None or shutil.which(qemu) is None:
        pytest.skip(f"needs {cross} and {qemu}")
    len_max = 600  # every padding position of 64-, 128- and 136-byte blocks, and more
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "string.h").write_text(
        "#include <stddef.h>\n"
        "void *memcpy(void *, const void *, size_t);\n"
        "void *memset(void *, int, size_t);\n"
        "int strcmp(const char *, const char *);\n"
    )
    (tmp_path / "driver.c").write_text(BE_DRIVER)
    gcc_include = subprocess.run([cross, "-print-file-name=include"], capture_output=True,
                                 text=True, check=True).stdout.strip()
    pd = probe_dir()
    exe = tmp_path / "driver"
    proc = subprocess.run(
        [cross, "-mbig-endian", "-std=c99", "-O2", "-ffreestanding", "-fno-builtin", "-nostdinc",
         "-isystem", gcc_include, "-I", str(tmp_path / "inc"), "-I", str(pd), "-nostdlib",
         "-static", f"-DLEN_MAX={len_max}", str(tmp_path / "driver.c"), str(pd / "hashes.c"),
         str(pd / "sha256.c"), "-o", str(exe)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"no big-endian AArch64 toolchain: {proc.stderr.strip().splitlines()[-1:]}")
    run = subprocess.run([qemu, str(exe)], capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.split()
    assert len(lines) == (len_max + 1) * len(NAMES)
    msg = lcg_bytes(len_max + 8)
    it = iter(lines)
    for n in range(len_max + 1):
        for name in NAMES:
            assert next(it) == reference(name)(msg[n % 7 : n % 7 + n]).hex(), (name, n)
