"""Attestation evidence collection of the reference probe (native/probe/attest.c)
and ``Probe.attest``.

This machine is no TEE, so the real interfaces are exercised through their
environment overrides (``TEECERT_TSM_REPORT_DIR``, ``TEECERT_NSM_DEVICE``, read by
the probe at every call) and through a small C program that includes attest.c with
its test seam defined: a fake "kernel" that gives a plain directory the configfs-tsm
attributes.  The NSM CBOR request and response code is checked against CBOR written
out by hand here (RFC 8949), never against itself.
"""

from __future__ import annotations

import os
import platform
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from teecert.errors import ProbeError, UsageError
from teecert.probe import build as probe_build
from teecert.probe.library import ATTEST_FIRST_CAP, Probe, UnsupportedOp, load_probe

from probezoo import build_zoo_probe

IS_LINUX = platform.system() == "Linux"
linux_only = pytest.mark.skipif(not IS_LINUX, reason="configfs-tsm and /dev/nsm are Linux interfaces")

REAL_TSM = Path("/sys/kernel/config/tsm/report")
REAL_NSM = Path("/dev/nsm")
ENV_VARS = ("TEECERT_TSM_REPORT_DIR", "TEECERT_NSM_DEVICE")

SNP_REPORT_SIZE = 1184


@pytest.fixture(scope="module")
def ref() -> Probe:
    return load_probe(build_zoo_probe("reference"))


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def _only_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ------------------------------------------------------ the probe, no TEE here


@pytest.mark.skipif(REAL_TSM.exists() or REAL_NSM.exists(), reason="this machine has a TEE interface")
def test_no_tee_here_reports_none_and_attest_is_unsupported(ref: Probe) -> None:
    assert ref.describe()["attestation"] == "none"
    with pytest.raises(UnsupportedOp, match="reaches no attestation technology"):
        ref.attest(bytes(range(64)))


@pytest.mark.parametrize("data", [b"", bytes(63), bytes(65), bytes(128)])
def test_report_data_must_be_64_bytes(ref: Probe, data: bytes) -> None:
    with pytest.raises(UsageError, match=f"must be 64 bytes, not {len(data)}"):
        ref.attest(data)


def test_report_data_must_be_bytes(ref: Probe) -> None:
    not_bytes: Any = "x" * 64
    with pytest.raises(UsageError, match="must be bytes, not str"):
        ref.attest(not_bytes)


@linux_only
def test_plain_directory_as_tsm_root_is_cleaned_up_and_unsupported(
    ref: Probe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plain directory lacks configfs semantics: mkdir gives an empty entry, no
    # `generation` or `provider` appears.  The probe must notice, remove its entry
    # and create nothing (it opens inblob without O_CREAT).
    root = tmp_path / "report"
    root.mkdir()
    monkeypatch.setenv("TEECERT_TSM_REPORT_DIR", str(root))  # read by the probe per call
    assert ref.describe()["attestation"] == "configfs-tsm"
    for i in range(3):
        with pytest.raises(UnsupportedOp):
            ref.attest(bytes([i]) * 64)
        assert _only_files(root) == []


@linux_only
def test_missing_tsm_root_falls_through(ref: Probe, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEECERT_TSM_REPORT_DIR", str(tmp_path / "absent"))
    monkeypatch.setenv("TEECERT_NSM_DEVICE", str(tmp_path / "absent-nsm"))
    assert ref.describe()["attestation"] == "none"
    with pytest.raises(UnsupportedOp):
        ref.attest(bytes(64))
    assert _only_files(tmp_path) == []


@linux_only
@pytest.mark.parametrize("device", ["regular-file", "/dev/null"])
def test_nsm_device_that_is_not_nsm_is_unsupported(
    ref: Probe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, device: str
) -> None:
    if device == "regular-file":
        path = tmp_path / "nsm"
        path.write_bytes(b"not a device")
    else:
        path = Path(device)
        if not os.access(path, os.R_OK | os.W_OK):
            pytest.skip("/dev/null not usable")
    monkeypatch.setenv("TEECERT_TSM_REPORT_DIR", str(tmp_path / "absent"))
    monkeypatch.setenv("TEECERT_NSM_DEVICE", str(path))
    # It opens, so describe() names it; the NSM ioctl then fails (ENOTTY).
    assert ref.describe()["attestation"] == "nsm"
    with pytest.raises(UnsupportedOp):
        ref.attest(bytes(64))
    if device == "regular-file":
        assert path.read_bytes() == b"not a device"


# ------------------------------------------ attest.c through a C test program

# The test seam of attest.c: a fake configfs-tsm "kernel" over a plain directory.
# Commands:
#   encode                       hex of the NSM request for user_data 00 01 .. 3f
#   parse HEX                    "ok HEX" | "malformed" | "error"
#   tsm PROVIDER MODE CALL...    CALL = CAP:BYTE (report data = 64 x BYTE); prints
#                                "call STATUS LEN FORMAT HEX|-" per call, then
#                                "reports N" (reports generated), "inblob ok|bad",
#                                "left N" (entries left in the root)
#   tpm MODE CALL...             the same calls against a fake Azure vTPM (no configfs-tsm,
#                                no NSM); then "technology T", "defined N" (user-data
#                                index defined by the probe), "writes N" (user data written)
ATTEST_TEST_C = r"""
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stddef.h>
static void fake_hook(int stage, int rootfd, const char *name);
static int fake_tpm(int fd, const uint8_t *cmd, size_t n, uint8_t *rsp, size_t cap, size_t *got);
#define TEECERT_TSM_TEST_HOOK(stage, rootfd, name) fake_hook((stage), (rootfd), (name))
#define TEECERT_TPM_TRANSACT fake_tpm
#include "attest.c"

#include <dirent.h>

static const char *fake_provider;
static const char *fake_mode;
static int fake_reports;
static int fake_inblob_bad;

static int has_mode(const char *m) { return strstr(fake_mode, m) != 0; }

static void put(int dirfd, const char *attr, const void *data, size_t n)
{
    int fd = openat(dirfd, attr, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, n) != (ssize_t)n) { perror(attr); exit(90); }
    close(fd);
}

static void fake_hook(int stage, int rootfd, const char *name)
{
    int dirfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY);
    if (dirfd < 0) { perror(name); exit(91); }
    if (stage == 1 && !has_mode("nogen")) {
        put(dirfd, "generation", "7\n", 2);
        put(dirfd, "inblob", "", 0);
    } else if (stage == 2) {
        static unsigned char out[(1u << 20) + 1];
        unsigned char rd[64], extra;
        size_t outlen, i;
        int fd = openat(dirfd, "inblob", O_RDONLY);
        if (fd < 0 || read(fd, rd, 64) != 64) exit(92);
        if (read(fd, &extra, 1) != 0) fake_inblob_bad = 1; /* exactly 64 bytes written */
        close(fd);
        fake_reports++;
        if (!has_mode("noprovider")) {
            char text[64];
            snprintf(text, sizeof text, "%s\n", fake_provider);
            put(dirfd, "provider", text, strlen(text));
        }
        outlen = strcmp(fake_provider, "sev_guest") == 0 ? 1184 : 600;
        if (has_mode("shortsnp")) outlen = 1000;
        if (has_mode("oversize")) outlen = (1u << 20) + 1;
        /* report data first, then i * 7 + 1 */
        for (i = 0; i < outlen; i++) out[i] = (unsigned char)(i < 64 ? rd[i] : i * 7 + 1);
        put(dirfd, "outblob", out, outlen);
        if (!has_mode("noaux")) {
            if (has_mode("emptyaux")) put(dirfd, "auxblob", "", 0);
            else put(dirfd, "auxblob", "certificate-table", 17);
        }
        put(dirfd, "generation", has_mode("interfere") ? "9\n" : "8\n", 2);
    } else if (stage == 3) {
        static const char *attrs[] = {"generation", "inblob", "provider", "outblob", "auxblob"};
        size_t i;
        for (i = 0; i < sizeof attrs / sizeof attrs[0]; i++) unlinkat(dirfd, attrs[i], 0);
    }
    close(dirfd);
}

/* A fake Azure vTPM: NV index 0x01400001 holds an HCL report whose bytes 0x600.. are
   the user data last written to NV index 0x01400002 (what the paravisor does). */
#define FAKE_REPORT_SIZE 2000
static unsigned char fake_report[FAKE_REPORT_SIZE];
static int fake_user_defined, fake_defines, fake_writes;
static const char *fake_tmode = "";

static int tmode(const char *m) { return strstr(fake_tmode, m) != 0; }

static size_t fake_head(uint8_t *rsp, uint32_t tag, uint32_t rc)
{
    teecert_be16(rsp, tag);
    teecert_be32(rsp + 6, rc);
    return 10;
}

static int fake_lies;  /* the next response's size field is one too large */

static int fake_done(uint8_t *rsp, size_t len, size_t *got)
{
    teecert_be32(rsp + 2, (uint32_t)(fake_lies ? len + 1 : len));
    *got = len;
    return 0;
}

static int fake_tpm(int fd, const uint8_t *cmd, size_t n, uint8_t *rsp, size_t cap, size_t *got)
{
    uint32_t cc = teecert_rd32(cmd + 6);
    size_t len;
    (void)fd;
    if (n < 10 || teecert_rd32(cmd + 2) != n || cap < 2100) exit(80);
    if (cc == TEECERT_TPM_CC_NV_READ_PUBLIC) {
        uint32_t index = teecert_rd32(cmd + 10), size = 0;
        if (index == TEECERT_AZ_NV_REPORT && !tmode("noindex")) size = FAKE_REPORT_SIZE;
        if (index == TEECERT_AZ_NV_USER && fake_user_defined) size = 64;
        if (size == 0) return fake_done(rsp, fake_head(rsp, 0x8001, 0x18B), got);
        len = fake_head(rsp, 0x8001, 0);
        teecert_be16(rsp + len, 14);
        teecert_be32(rsp + len + 2, index);
        teecert_be16(rsp + len + 6, 0x000B);
        teecert_be32(rsp + len + 8, 0x00060006);
        teecert_be16(rsp + len + 12, 0);
        teecert_be16(rsp + len + 14, size);
        teecert_be16(rsp + len + 16, 0); /* name */
        return fake_done(rsp, len + 18, got);
    }
    /* commands with the empty password session: 1 or 2 handles, then 4 + 9 bytes of it */
    {
        size_t at = cc == TEECERT_TPM_CC_NV_DEFINE ? 14 : 18;
        if (teecert_rd16(cmd) != 0x8002 || teecert_rd32(cmd + at) != 9
            || teecert_rd32(cmd + at + 4) != TEECERT_TPM_RS_PW) exit(81);
    }
    if (cc == TEECERT_TPM_CC_NV_DEFINE) {
        /* owner; session; auth (empty); publicInfo: size 14, index, nameAlg, attributes, policy, dataSize */
        if (teecert_rd32(cmd + 10) != TEECERT_TPM_RH_OWNER || teecert_rd16(cmd + 29) != 14
            || teecert_rd32(cmd + 31) != TEECERT_AZ_NV_USER || teecert_rd16(cmd + 43) != 64) exit(82);
        fake_user_defined = 1;
        fake_defines++;
    } else if (cc == TEECERT_TPM_CC_NV_WRITE) {
        if (!fake_user_defined) return fake_done(rsp, fake_head(rsp, 0x8002, 0x18B), got);
        if (teecert_rd32(cmd + 14) != TEECERT_AZ_NV_USER || teecert_rd16(cmd + 31) != 64) exit(83);
        memcpy(fake_report + 0x600, cmd + 33, 64);
        fake_writes++;
    } else if (cc == TEECERT_TPM_CC_NV_READ) {
        uint32_t auth = teecert_rd32(cmd + 10), size = teecert_rd16(cmd + 31), off = teecert_rd16(cmd + 33);
        if (tmode("ownerauth") && auth != TEECERT_TPM_RH_OWNER)
            return fake_done(rsp, fake_head(rsp, 0x8002, 0x149), got);
        if (size > 1024 || off + size > FAKE_REPORT_SIZE) return fake_done(rsp, fake_head(rsp, 0x8002, 0x146), got);
        fake_lies = tmode("shortread") && off > 0;
        len = fake_head(rsp, 0x8002, 0);
        teecert_be32(rsp + len, 2 + size);
        teecert_be16(rsp + len + 4, size);
        memcpy(rsp + len + 6, fake_report + off, size);
        len += 6 + size;
        memset(rsp + len, 0, 5); /* the session's answer */
        return fake_done(rsp, len + 5, got);
    } else {
        exit(84);
    }
    len = fake_head(rsp, 0x8002, 0);
    teecert_be32(rsp + len, 0);
    memset(rsp + len + 4, 0, 5);
    return fake_done(rsp, len + 9, got);
}

static void hex(const unsigned char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) printf("%02x", p[i]);
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "encode") == 0) {
        unsigned char ud[64], out[200];
        size_t i, n;
        for (i = 0; i < 64; i++) ud[i] = (unsigned char)i;
        if (teecert_nsm_encode_request(ud, out, TEECERT_NSM_REQUEST_SIZE - 1) != 0) return 3;
        n = teecert_nsm_encode_request(ud, out, sizeof out);
        hex(out, n);
        printf("\n");
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "parse") == 0) {
        size_t n = strlen(argv[2]) / 2, i, doc_len = 0;
        /* exactly n bytes on the heap, so a read past the end is a real overread */
        unsigned char *buf = malloc(n ? n : 1);
        const uint8_t *doc = 0;
        int r;
        for (i = 0; i < n; i++)
            buf[i] = (unsigned char)(hexval(argv[2][2 * i]) * 16 + hexval(argv[2][2 * i + 1]));
        r = teecert_nsm_parse_response(buf, n, &doc, &doc_len);
        if (r == TEECERT_NSM_PARSE_OK) {
            if (doc < buf || doc + doc_len > buf + n) return 4;
            printf("ok ");
            hex(doc, doc_len);
            printf("\n");
        } else {
            printf(r == TEECERT_NSM_PARSE_ERROR ? "error\n" : "malformed\n");
        }
        free(buf);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "tpm") == 0) {
        int k;
        uint32_t type;
        fake_tmode = argv[2];
        type = strstr(argv[2], "tdx") ? 4 : strstr(argv[2], "badtype") ? 7 : 2;
        setenv("TEECERT_TSM_REPORT_DIR", "/nonexistent-tsm", 1);
        setenv("TEECERT_NSM_DEVICE", "/nonexistent-nsm", 1);
        setenv("TEECERT_TPM_DEVICE", "/dev/null", 1);
        memcpy(fake_report, "HCLA", 4);
        fake_report[0x4C8] = (unsigned char)type;
        fake_user_defined = !tmode("undefined");
        printf("technology %s\n", teecert_attest_technology());
        for (k = 3; k < argc; k++) {
            unsigned long cap = 0, byte = 0;
            unsigned char rd[64], *ev;
            size_t len = 12345;
            char fmt[16];
            int32_t st;
            if (sscanf(argv[k], "%lu:%lu", &cap, &byte) != 2) return 5;
            memset(rd, (int)byte, sizeof rd);
            memset(fmt, 'x', sizeof fmt);
            ev = cap ? malloc(cap) : 0;
            st = teecert_attest_collect(rd, ev, cap, &len, fmt);
            printf("call %d %lu %s ", (int)st, (unsigned long)len, st == TEECERT_OK ? fmt : "-");
            if (st == TEECERT_OK) hex(ev, len); else printf("-");
            printf("\n");
            free(ev);
        }
        printf("defined %d\nwrites %d\n", fake_defines, fake_writes);
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "tsm") == 0) {
        const char *root = getenv("TEECERT_TSM_REPORT_DIR");
        int k, left = 0;
        DIR *d;
        struct dirent *e;
        fake_provider = argv[2];
        fake_mode = argv[3];
        for (k = 4; k < argc; k++) {
            unsigned long cap = 0, byte = 0;
            unsigned char rd[64], *ev;
            size_t len = 12345;
            char fmt[16];
            int32_t st;
            if (sscanf(argv[k], "%lu:%lu", &cap, &byte) != 2) return 5;
            memset(rd, (int)byte, sizeof rd);
            memset(fmt, 'x', sizeof fmt);
            ev = cap ? malloc(cap) : 0;
            st = teecert_attest_collect(rd, ev, cap, &len, fmt);
            printf("call %d %lu %s ", (int)st, (unsigned long)len, fmt[0] ? fmt : "-");
            if (st == TEECERT_OK) hex(ev, len); else printf("-");
            printf("\n");
            free(ev);
        }
        printf("reports %d\ninblob %s\n", fake_reports, fake_inblob_bad ? "bad" : "ok");
        d = opendir(root);
        if (d == 0) return 6;
        while ((e = readdir(d)) != 0)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) left++;
        closedir(d);
        printf("left %d\n", left);
        return 0;
    }
    return 2;
}
"""


@pytest.fixture(scope="module")
def attest_tool(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., list[str]]:
    if not IS_LINUX:
        pytest.skip("the attest.c test program uses Linux interfaces")
    compiler = probe_build.find_compiler()
    nd = probe_build.native_dir()
    base = tmp_path_factory.mktemp("attest-tool")
    src = base / "attest_test.c"
    src.write_text(ATTEST_TEST_C, encoding="utf-8")
    exe = base / "attest_test"
    proc = subprocess.run(
        [*compiler, "-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
         "-I", str(nd), "-I", str(nd / "probe"), str(src), "-o", str(exe)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr

    def run(*args: str, root: Path | None = None) -> list[str]:
        env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
        if root is not None:
            env["TEECERT_TSM_REPORT_DIR"] = str(root)
        p = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env,
                           timeout=60, check=False)
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        return p.stdout.splitlines()

    return run


def test_nsm_request_is_the_hand_written_cbor(attest_tool: Callable[..., list[str]]) -> None:
    user_data = bytes(range(64))
    want = (
        bytes([0xA1, 0x6B]) + b"Attestation"   # map(1), text(11)
        + bytes([0xA3, 0x69]) + b"user_data"   # map(3), text(9)
        + bytes([0x58, 0x40]) + user_data      # bytes(64)
        + bytes([0x65]) + b"nonce" + bytes([0xF6])             # text(5), null
        + bytes([0x6A]) + b"public_key" + bytes([0xF6])        # text(10), null
    )
    assert len(want) == 109
    assert attest_tool("encode") == [want.hex()]


def _text(s: str) -> bytes:
    b = s.encode()
    assert len(b) < 24
    return bytes([0x60 | len(b)]) + b


DOC = bytes(range(256)) * 2 + b"cose"  # 516 bytes: a bstr with a 2-byte length


def _bstr(b: bytes) -> bytes:
    assert 256 <= len(b) < 65536
    return bytes([0x59]) + struct.pack(">H", len(b)) + b


ATTESTATION_OK = bytes([0xA1]) + _text("Attestation") + bytes([0xA1]) + _text("document") + _bstr(DOC)


@pytest.mark.parametrize(
    ("response", "want"),
    [
        pytest.param(ATTESTATION_OK, "ok " + DOC.hex(), id="document"),
        # another field first (skipped), and a 1-byte-length document
        pytest.param(bytes([0xA1]) + _text("Attestation") + bytes([0xA2])
                     + _text("extra") + bytes([0x82, 0x01, 0x40])     # [1, h'']
                     + _text("document") + bytes([0x58, 0x03]) + b"abc",
                     "ok " + b"abc".hex(), id="extra-field"),
        pytest.param(bytes([0xA1]) + _text("Error") + _text("InvalidArgument"), "error",
                     id="error"),
        pytest.param(ATTESTATION_OK[:-1], "malformed", id="truncated-document"),
        pytest.param(ATTESTATION_OK[:14], "malformed", id="truncated-head"),
        pytest.param(b"", "malformed", id="empty"),
        # a 4-byte length claiming 4 GiB, and an 8-byte one claiming 2^64-1
        pytest.param(bytes([0xA1]) + _text("Attestation") + bytes([0xA1]) + _text("document")
                     + bytes([0x5A, 0xFF, 0xFF, 0xFF, 0xF0]) + b"abc", "malformed",
                     id="oversized-length"),
        pytest.param(bytes([0xA1]) + _text("Attestation") + bytes([0xA1]) + _text("document")
                     + bytes([0x5B]) + b"\xff" * 8 + b"abc", "malformed", id="oversized-length-64"),
        # a map claiming more entries than bytes, and an indefinite-length document
        pytest.param(bytes([0xA1]) + _text("Attestation") + bytes([0xBA, 0x7F, 0xFF, 0xFF, 0xFF]),
                     "malformed", id="oversized-map"),
        pytest.param(bytes([0xA1]) + _text("Attestation") + bytes([0xA1]) + _text("document")
                     + bytes([0x5F, 0x41, 0x61, 0xFF]), "malformed", id="indefinite"),
        pytest.param(bytes([0xA1]) + _text("Attestation") + bytes([0xA1]) + _text("document")
                     + _text("not-bytes"), "malformed", id="document-not-bytes"),
        pytest.param(bytes([0xA1]) + _text("Attestation") + bytes([0xA1]) + _text("nonce")
                     + bytes([0xF6]), "malformed", id="no-document"),
        pytest.param(bytes([0xA1]) + _text("Describe") + bytes([0xA0]), "malformed",
                     id="other-response"),
    ],
)
def test_nsm_response_parser(attest_tool: Callable[..., list[str]], response: bytes,
                             want: str) -> None:
    assert attest_tool("parse", response.hex()) == [want]


def _fake_outblob(byte: int, n: int) -> bytes:
    # the fake kernel's outblob: the report data, then (i * 7 + 1) mod 256
    return bytes([byte]) * 64 + bytes((i * 7 + 1) & 0xFF for i in range(64, n))


def _calls(lines: list[str]) -> list[tuple[int, int, str, str]]:
    out = []
    for ln in lines:
        if ln.startswith("call "):
            _, st, n, fmt, ev = ln.split(" ")
            out.append((int(st), int(n), fmt, ev))
    return out


def _tail(lines: list[str]) -> dict[str, str]:
    return dict(ln.split(" ", 1) for ln in lines if not ln.startswith("call "))


def test_tsm_snp_size_protocol_and_cache(attest_tool: Callable[..., list[str]],
                                         tmp_path: Path) -> None:
    want = _fake_outblob(0x11, SNP_REPORT_SIZE) + b"certificate-table"
    lines = attest_tool("tsm", "sev_guest", "normal",
                        "0:17", "100:17", f"{len(want)}:17",   # too small twice, then fits
                        f"{len(want)}:17",                     # delivered: a new report
                        "0:17", f"{len(want)}:34",             # other report data: new report
                        root=tmp_path)
    calls = _calls(lines)
    assert calls[0] == (2, len(want), "snp", "-")
    assert calls[1] == (2, len(want), "snp", "-")
    assert calls[2] == (0, len(want), "snp", want.hex())
    assert calls[3] == (0, len(want), "snp", want.hex())
    assert calls[4] == (2, len(want), "snp", "-")
    want34 = _fake_outblob(0x22, SNP_REPORT_SIZE) + b"certificate-table"
    assert calls[5] == (0, len(want34), "snp", want34.hex())
    # one report for the first three calls, then one each for calls 4, 5 and 6
    assert _tail(lines) == {"reports": "4", "inblob": "ok", "left": "0"}


@pytest.mark.parametrize("mode", ["noaux", "emptyaux"])
def test_tsm_snp_without_certificates_is_the_bare_report(
    attest_tool: Callable[..., list[str]], tmp_path: Path, mode: str
) -> None:
    want = _fake_outblob(0x05, SNP_REPORT_SIZE)
    lines = attest_tool("tsm", "sev_guest", mode, "65536:5", root=tmp_path)
    assert _calls(lines) == [(0, SNP_REPORT_SIZE, "snp", want.hex())]
    assert _tail(lines)["left"] == "0"


def test_tsm_tdx_is_the_quote(attest_tool: Callable[..., list[str]], tmp_path: Path) -> None:
    want = _fake_outblob(0x07, 600)  # the auxblob is not part of TDX evidence
    lines = attest_tool("tsm", "tdx_guest", "normal", "65536:7", root=tmp_path)
    assert _calls(lines) == [(0, 600, "tdx", want.hex())]
    assert _tail(lines) == {"reports": "1", "inblob": "ok", "left": "0"}


def test_tsm_arm_cca_is_the_token(attest_tool: Callable[..., list[str]], tmp_path: Path) -> None:
    want = _fake_outblob(0x0C, 600)  # the fake kernel's outblob stands for a realm's CCA token
    lines = attest_tool("tsm", "arm_cca_guest", "normal", "65536:12", root=tmp_path)
    assert _calls(lines) == [(0, 600, "cca", want.hex())]
    assert _tail(lines) == {"reports": "1", "inblob": "ok", "left": "0"}


def _hcl(report_type: int, user: bytes) -> bytes:
    """The fake vTPM's HCL report after the user data ``user`` was written."""
    raw = bytearray(2000)
    raw[0:4] = b"HCLA"
    raw[0x4C8] = report_type
    raw[0x600:0x640] = user
    return bytes(raw)


@pytest.mark.parametrize("mode, report_type, fmt, defines", [
    ("normal", 2, "azure-snp-hcl", 0),
    ("tdx", 4, "azure-tdx-hcl", 0),
    ("undefined", 2, "azure-snp-hcl", 1),       # the user-data index is defined first
    ("ownerauth", 2, "azure-snp-hcl", 0),       # a report index only the owner may read
])
def test_azure_vtpm_gives_the_hcl_report_made_for_the_report_data(
        attest_tool: Callable[..., list[str]], mode: str, report_type: int, fmt: str, defines: int) -> None:
    lines = attest_tool("tpm", mode, "65536:9", "65536:10")
    assert lines[0] == "technology azure-vtpm"
    assert _calls(lines[1:]) == [(0, 2000, fmt, _hcl(report_type, bytes([9]) * 64).hex()),
                                 (0, 2000, fmt, _hcl(report_type, bytes([10]) * 64).hex())]
    tail = _tail(lines[1:])
    assert (tail["defined"], tail["writes"]) == (str(defines), "2")


@pytest.mark.parametrize("mode, status, technology", [
    ("noindex", 1, "none"),       # a TPM, but no HCL report index: not an Azure CVM
    ("badtype", 3, "azure-vtpm"),  # a report type that is neither SNP (2) nor TDX (4)
    ("shortread", 3, "azure-vtpm"),  # a read (after the first) whose size field lies
])
def test_azure_vtpm_failures(attest_tool: Callable[..., list[str]], mode: str, status: int,
                             technology: str) -> None:
    lines = attest_tool("tpm", mode, "65536:9")
    assert lines[0] == f"technology {technology}"
    assert _calls(lines[1:]) == [(status, 0, "-", "-")]


@pytest.mark.parametrize(
    ("provider", "mode", "status"),
    [
        ("sev_guest", "interfere", 3),       # generation moved by 2: another writer
        ("tdx_guest", "oversize", 3),        # outblob over 1 MiB: refused
        ("sev_guest", "shortsnp", 3),        # an SNP outblob that is not 1184 bytes
        ("efi_secret", "normal", 1),         # a provider without a teecert format
        ("sev_guest", "noprovider", 1),      # no provider registered
        ("sev_guest", "nogen", 1),           # no configfs attributes at all
    ],
)
def test_tsm_failures_clean_up(attest_tool: Callable[..., list[str]], tmp_path: Path,
                               provider: str, mode: str, status: int) -> None:
    lines = attest_tool("tsm", provider, mode, "65536:1", "65536:1", root=tmp_path)
    assert _calls(lines) == [(status, 0, "-", "-")] * 2  # failures are not cached
    assert _tail(lines)["left"] == "0"
    assert _only_files(tmp_path) == []


# ---------------------------------------------------- Probe.attest, size protocol

FAKE_ATTEST_PROBE_C = r"""
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#pragma GCC visibility push(default)
#include "teecert_probe.h"
#pragma GCC visibility pop

static unsigned calls;
uint32_t teecert_probe_abi_version(void) { return 1; }
const char *teecert_probe_describe(void) { return "{\"name\": \"fake-attest\", \"ops\": []}"; }
int32_t teecert_probe_run(const char *op, const void *in, size_t in_bytes, void *out,
                          size_t out_bytes, size_t n)
{ (void)op; (void)in; (void)in_bytes; (void)out; (void)out_bytes; (void)n; return 1; }
uint64_t teecert_probe_fpenv_read(char *arch) { if (arch) strcpy(arch, "generic"); return 0; }
uint32_t teecert_probe_fpenv_poison(uint32_t what) { (void)what; return 0; }
void teecert_probe_fpenv_reset(void) {}
void teecert_probe_transcript(uint8_t out[32], uint64_t *calls_out)
{ memset(out, 0, 32); if (calls_out) *calls_out = 0; }
void teecert_probe_transcript_reset(void) {}

/* FAKE_ATTEST: "big" 100000 bytes (size protocol), "internal", "greedy" (always wants
   more), "weird" (status 7), "noformat" (OK without a format name). */
int32_t teecert_probe_attest(const uint8_t report_data[64], uint8_t *evidence, size_t cap,
                             size_t *len, char *format)
{
    const char *mode = getenv("FAKE_ATTEST");
    size_t need = 100000, i;
    calls++;
    if (mode == 0) return 1;
    if (strcmp(mode, "internal") == 0) return 3;
    if (strcmp(mode, "weird") == 0) return 7;
    if (strcmp(mode, "greedy") == 0) { *len = cap + 1; return 2; }
    if (strcmp(mode, "noformat") == 0) { *len = 1; evidence[0] = 0; format[0] = 0; return 0; }
    *len = need;
    strcpy(format, "sim");
    if (cap < need) return 2;
    for (i = 0; i < need; i++) evidence[i] = report_data[i % 64];
    evidence[0] = (uint8_t)calls;
    return 0;
}
"""


@pytest.fixture(scope="module")
def fake_attest(tmp_path_factory: pytest.TempPathFactory) -> Probe:
    base = tmp_path_factory.mktemp("fake-attest")
    src = base / "fake_attest.c"
    src.write_text(FAKE_ATTEST_PROBE_C, encoding="utf-8")
    return load_probe(probe_build.build_probe(base / "fake_attest.so", source=src))


def test_attest_retries_once_with_the_size_asked(fake_attest: Probe,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert ATTEST_FIRST_CAP < 100000
    monkeypatch.setenv("FAKE_ATTEST", "big")
    rd = bytes(range(100, 164))
    fmt, ev = fake_attest.attest(rd)
    assert fmt == "sim"
    assert len(ev) == 100000
    calls = ev[0]
    assert ev[1:64] == rd[1:] and ev[64:128] == rd
    fmt, ev = fake_attest.attest(rd)
    assert ev[0] == calls + 2  # two calls each time: too small, then exactly right


@pytest.mark.parametrize(
    ("mode", "exc", "match"),
    [
        (None, UnsupportedOp, "reaches no attestation technology"),
        ("internal", ProbeError, "evidence collection failed inside the probe"),
        ("weird", ProbeError, "unknown status 7"),
        ("greedy", ProbeError, "larger buffer twice"),
        ("noformat", ProbeError, "format name is empty"),
    ],
)
def test_attest_failures(fake_attest: Probe, monkeypatch: pytest.MonkeyPatch, mode: str | None,
                         exc: type[Exception], match: str) -> None:
    if mode is None:
        monkeypatch.delenv("FAKE_ATTEST", raising=False)
    else:
        monkeypatch.setenv("FAKE_ATTEST", mode)
    with pytest.raises(exc, match=match) as info:
        fake_attest.attest(bytes(64))
    if exc is ProbeError:
        assert not isinstance(info.value, UnsupportedOp)
        assert str(info.value).startswith(f"probe {fake_attest.path}: ")
        assert "\n" not in str(info.value)
