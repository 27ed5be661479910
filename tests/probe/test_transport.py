"""The probe host and its transports (docs/wire-protocol.md, harness/transport.py).

The reference probe gives the same stream leaves through every transport as in
process; a probe that crashes, hangs, aborts, raises SIGFPE or exits under the host
fails the tests that reach the op, with a one-line reason naming it, and the run
goes on to a NOT_CERTIFIED report; malformed frames in either direction are a clear
error, never a hang.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import shlex
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from teecert import ops
from teecert.certify.run import _statement_of
from teecert.errors import ProbeError
from teecert.probe import build as probe_build
from teecert.probe import hostkey
from teecert.probe import remote as transport
from teecert.probe.library import load_probe
from teecert.probe.streams import evaluate_stream

from conftest import no_traceback, teecert_cli
from probezoo import build_zoo_probe, misbehaving_probe

DIV = ops.get("f64.div.rne")
ADD = ops.get("f64.add.rne")
ONE = 0x3FF0000000000000


TOKEN = b"teecert-test-token-" + b"k" * 40


def write_token(path: Path, token: bytes = TOKEN) -> Path:
    """A token file only its owner can read, as the host and the client demand."""
    path.write_bytes(token + b"\n")
    path.chmod(0o600)
    return path


class ListeningHost:
    """``teecert-probe-host --listen SPEC`` in the background; ``url`` to reach it.  A
    TCP host gets a token (``token_file``): it refuses to listen without one."""

    def __init__(self, host: str, lib: Path, spec: str, token_file: Path | None = None,
                 extra: tuple[str, ...] = ()) -> None:
        self.token_file = token_file
        argv = [host, "--probe", str(lib), "--listen", spec, *extra]
        if token_file is not None:
            argv += ["--token-file", str(token_file)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "listening", self.proc.stderr.read() if self.proc.stderr else ""
        shown = line[1]
        self.url = "tcp://" + shown[4:] if shown.startswith("tcp:") else shown

    @property
    def token(self) -> bytes | None:
        return TOKEN if self.token_file is not None else None

    @property
    def cli_args(self) -> list[str]:
        """How ``teecert run`` reaches it."""
        extra = ["--probe-token-file", str(self.token_file)] if self.token_file is not None else []
        return ["--probe-url", self.url, *extra]

    def connect(self, timeout: float = transport.DEFAULT_TIMEOUT) -> transport.RemoteProbe:
        return transport.connect(self.url, timeout, token=self.token)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


@pytest.fixture
def listening(host: str, tmp_path: Path) -> Iterator[Callable[[Path, str], ListeningHost]]:
    started: list[ListeningHost] = []

    def start(lib: Path, kind: str) -> ListeningHost:
        spec = "tcp:127.0.0.1:0" if kind == "tcp" else f"unix:{tmp_path / 'host.sock'}"
        token = write_token(tmp_path / "host.token") if kind == "tcp" else None
        h = ListeningHost(host, lib, spec, token_file=token)
        started.append(h)
        return h

    yield start
    for h in started:
        h.stop()


# --------------------------------------------------------------- same results


def test_reference_probe_gives_the_same_leaves_over_every_transport(
        host: str, reference: Path, listening: Callable[[Path, str], ListeningHost]) -> None:
    local = load_probe(reference)
    remotes = [
        transport.spawn([host, "--probe", str(reference)]),
        listening(reference, "tcp").connect(),
        listening(reference, "unix").connect(),
    ]
    try:
        assert [r.transport for r in remotes] == ["child-process", "tcp", "unix"]
        for r in remotes:
            assert r.digest == local.digest  # the host hashes the library file it loaded
            assert r.abi_version == 1 and r.ops == local.ops and r.path == local.path
        for op_id, chunk in (("f64.div.rne", 65536), ("f32.fma.rtz", 4096), ("f64.sqrt.rup", 1000),
                             ("f32.mul_add_unfused.rdn", 65536)):
            op = ops.get(op_id)
            want = evaluate_stream(local, op, 11, 3 * chunk + 17, chunk)
            for r in remotes:
                assert evaluate_stream(r, op, 11, 3 * chunk + 17, chunk) == want, (op_id, r.transport)
        for r in remotes:
            t, calls = r.transcript()
            assert calls > 0 and len(t) == 32
            assert r.fpenv_read()[0] == local.fpenv_read()[0]
            assert r.run_values(ADD, [(ONE, ONE)]) == local.run_values(ADD, [(ONE, ONE)])
    finally:
        for r in remotes:
            r.close()


@pytest.fixture(scope="module")
def url_profile(quick_profile: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick profile with the perturbations a probe host reached by URL can be put
    under from here (fresh connections, concurrency, teecert's poisoned FP state): the
    others change the process environment of a host that runs elsewhere, so they are
    skipped there, and a required skip fails the run."""
    doc = json.loads(quick_profile.read_text())
    doc["id"] = "test-quick-url"
    doc["stress"] = {**doc["stress"], "perturbations": ["fresh_processes", "threads", "fp_poison"]}
    path = tmp_path_factory.mktemp("profiles") / "url.json"
    path.write_text(json.dumps(doc))
    return path


def _certify(where: list[str], out: Path, key_file: Path, profile: Path) -> dict[str, Any]:
    res = teecert_cli(["run", *where, "--profile", str(profile), "--key", str(key_file),
                       "--out", str(out)], timeout=120)
    assert res.code == 0, res.out[-2000:] + res.err[-2000:]
    assert "CERTIFIED" in res.out
    [report] = out.glob("teecert-report-*.json")
    pred: dict[str, Any] = _statement_of(report)["predicate"]
    return pred


def _outcomes(pred: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """Every result's outcome and (for streams) root, by test id."""
    return {r["id"]: (r["outcome"], r.get("root")) for r in pred["results"]}


@pytest.mark.parametrize("kind", ["child", "tcp", "unix"])
def test_a_run_through_every_transport_passes_the_same_suites_as_in_process(
        host: str, reference: Path, tmp_path: Path, key_file: Path, url_profile: Path, kind: str,
        listening: Callable[[Path, str], ListeningHost]) -> None:
    quick_profile = url_profile  # the same plan for every transport, so that the rows compare
    local = _certify(["--in-process", "--probe", str(reference)], tmp_path / "local", key_file,
                     quick_profile)
    assert local["run"]["transport"] == "in-process"
    where = (["--probe-cmd", shlex.join([host, "--probe", str(reference)])] if kind == "child"
             else listening(reference, kind).cli_args)
    pred = _certify(where, tmp_path / kind, key_file, quick_profile)
    assert pred["run"]["transport"] == {"child": "child-process"}.get(kind, kind)
    assert pred["probe"]["digest"] == load_probe(reference).digest
    assert _outcomes(pred) == _outcomes(local)
    assert pred["probe"]["characterization"] == local["probe"]["characterization"]
    # The host reported its machine (this one) and co-signed every transcript it served.
    host = pred["probe"]["host"]
    assert host["facts_source"] == "probe-host" and len(base64.b64decode(host["public_key"])) == 32
    assert all("host_signature" in t for t in pred["probe"]["transcripts"])
    assert hostkey.check_report_host(pred, "report")
    assert pred["environment"]["digest"] == local["environment"]["digest"]
    assert (pred["environment"]["harness"]["fingerprint"]["hostname_digest"]
            == pred["environment"]["fingerprint"]["hostname_digest"])
    assert "host" not in local["probe"] and "harness" not in local["environment"]


# ------------------------------------------------------------------ isolation


@pytest.fixture(scope="module")
def isolation_profile(quick_profile: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick profile without the stress suite: a hanging probe would otherwise
    hang once in every fresh process of every perturbation (tests/certify/test_stress.py
    covers the stress suite's own handling of a failing probe)."""
    doc = json.loads(quick_profile.read_text())
    doc["id"] = "test-isolation"
    doc.pop("stress")
    doc["suites"].pop("stress")
    path = tmp_path_factory.mktemp("profiles") / "isolation.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("kind", ["child", "tcp"])
@pytest.mark.parametrize("misbehaviour,reason", [
    ("segv", "probe crashed with SIGSEGV"),
    ("abort", "probe crashed with SIGABRT"),
    ("sigfpe", "probe crashed with SIGFPE"),
    ("hang", "probe timed out after 1 s"),
    ("exit", ""),
])
def test_a_misbehaving_probe_fails_the_call_naming_op_and_batch_and_restarts(
        host: str, kind: str, misbehaviour: str, reason: str,
        listening: Callable[[Path, str], ListeningHost]) -> None:
    lib = misbehaving_probe(misbehaviour)
    rp = (transport.spawn([host, "--probe", str(lib)], timeout=1.0) if kind == "child"
          else listening(lib, "tcp").connect(timeout=1.0))
    try:
        t0 = time.monotonic()
        with pytest.raises(ProbeError) as err:
            evaluate_stream(rp, DIV, 1, 65536, 65536)
        assert time.monotonic() - t0 < 5
        msg = str(err.value)
        assert "\n" not in msg
        assert msg.startswith(reason)
        assert "during f64.div.rne (batch of 65536)" in msg
        if misbehaviour == "exit":
            assert "exited with status 0" in msg or "closed the stream" in msg
        # The next call gets a fresh host; other ops still work.
        assert rp.run_values(ADD, [(ONE, ONE)]) == [0x4000000000000000]
        assert rp.restarts == 1
    finally:
        rp.close()


@pytest.mark.parametrize("kind", ["child", "tcp", "unix"])
@pytest.mark.parametrize("misbehaviour", ["segv", "hang", "lie"])
def test_a_run_with_a_misbehaving_probe_ends_not_certified_naming_the_op(
        host: str, kind: str, misbehaviour: str, tmp_path: Path, key_file: Path, isolation_profile: Path,
        listening: Callable[[Path, str], ListeningHost]) -> None:
    # "lie": answers promptly and well-formed, one ULP off on subnormal f64.div.rne
    # quotients (the zoo's one_ulp probe).
    lib = build_zoo_probe("one_ulp") if misbehaviour == "lie" else misbehaving_probe(misbehaviour)
    where = (["--probe-cmd", shlex.join([host, "--probe", str(lib)])] if kind == "child"
             else listening(lib, kind).cli_args)
    t0 = time.monotonic()
    res = teecert_cli(["run", *where, "--probe-timeout", "1", "--profile", str(isolation_profile),
                       "--key", str(key_file), "--out", str(tmp_path)], timeout=120)
    assert time.monotonic() - t0 < 60
    assert res.code == 1, res.out[-2000:] + res.err[-2000:]
    assert no_traceback(res.err)
    [report] = tmp_path.glob("teecert-report-*.json")
    pred = _statement_of(report)["predicate"]
    assert pred["verdict"]["result"] == "NOT_CERTIFIED"
    assert pred["run"]["transport"] == {"child": "child-process"}.get(kind, kind)
    failed = {r["id"]: r["message"] for r in pred["results"] if r["outcome"] in ("failed", "error")}
    stream = [m for i, m in failed.items() if i.endswith("test_stream[f64.div.rne]")]
    assert stream, failed
    want = {"segv": "probe crashed with SIGSEGV", "hang": "probe timed out after 1 s",
            "lie": "= 000008309447e77b, expected 000008309447e77a (1 ulp)"}[misbehaviour]
    assert want in stream[0], stream[0]
    if misbehaviour != "lie":
        assert "during f64.div.rne (batch of" in stream[0]
    # Only the op that misbehaves (and the transcript, reset by the restart) fail.
    assert all("f64.div.rne" in i or i.startswith("transcript::") for i in failed), failed
    passed = [r for r in pred["results"] if r["outcome"] == "passed"]
    assert len(passed) > 100


def test_wrong_abi_through_the_host_is_refused_naming_the_version(
        host: str, tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    lib = build_zoo_probe("wrong_abi")
    with pytest.raises(ProbeError, match="exports ABI version 2, this teecert speaks 1"):
        transport.spawn([host, "--probe", str(lib)], timeout=5)
    res = teecert_cli(["run", "--probe-cmd", shlex.join([host, "--probe", str(lib)]), "--profile",
                       str(quick_profile), "--key", str(key_file), "--out", str(tmp_path)], timeout=60)
    assert res.code == 2 and "ABI version 2" in res.err.splitlines()[0]
    assert not list(tmp_path.glob("teecert-report-*.json"))


def test_a_host_that_cannot_load_its_probe_is_one_line(host: str, tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match=r"probe host exited with status 3 .*no-such\.so"):
        transport.spawn([host, "--probe", str(tmp_path / "no-such.so")], timeout=5)
    with pytest.raises(ProbeError, match="cannot start"):
        transport.spawn([str(tmp_path / "no-such-host")], timeout=5)


def test_bad_urls_are_usage_errors() -> None:
    from teecert.errors import UsageError

    for url in ("http://x", "tcp://nohost", "vsock://a:b", "unix:"):
        with pytest.raises(UsageError):
            transport.connect(url)


def test_vsock_listen_is_served_or_a_clear_error(host: str, reference: Path) -> None:
    p = subprocess.run([host, "--probe", str(reference), "--listen", "vsock:1:notaport"],
                       capture_output=True, text=True, timeout=10, check=False)
    assert p.returncode != 0 and "vsock:1:notaport" in p.stderr


def test_probe_build_host(tmp_path: Path) -> None:
    out = tmp_path / "host"
    res = teecert_cli(["probe", "build", "--host", "--out", str(out)], timeout=120)
    assert res.code == 0, res.err
    v = subprocess.run([str(out), "--version"], capture_output=True, text=True, timeout=10, check=True)
    assert "wire protocol 2" in v.stdout


# ------------------------------------------------ the host under sanitizers
#
# The malformed-frame tests below run against the host as installed and against the
# same sources built with AddressSanitizer and UndefinedBehaviorSanitizer (the
# probe it dlopen()s stays unsanitized): a parser that reads past a frame, or
# overflows while sizing a reply, fails them even when its answer looks right.

#: added to the flags of ``build_host`` for the sanitized host
SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer", "-g")
#: exit status of a sanitized host that reported a bug (the host's own are 0 to 3)
SANITIZER_EXIT = 86
#: what a sanitizer report contains; the host's stderr must never contain one
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer")


@dataclass(frozen=True)
class FuzzHost:
    """A probe host to feed malformed frames: its path and the environment to run it in
    (None: this process's)."""

    path: str
    env: Mapping[str, str] | None = None


def _sanitizer_env(detect_leaks: bool) -> dict[str, str]:
    # Any report ends the host at once with SANITIZER_EXIT and the report on stderr.
    common = f"halt_on_error=1:abort_on_error=0:exitcode={SANITIZER_EXIT}"
    return {**os.environ,
            "ASAN_OPTIONS": f"{common}:detect_leaks={int(detect_leaks)}",
            "UBSAN_OPTIONS": f"{common}:print_stacktrace=1"}


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() or "cannot find" in ln]
    return (errors or lines or ["no output"])[0]


def _build_sanitized_host(compiler: list[str], work: Path) -> dict[str, Any]:
    """Build ``work/teecert-probe-host-asan``; ``{"skip": reason}`` where this toolchain
    cannot, else ``{"detect_leaks": bool}``."""
    (work / "tiny.c").write_text("int main(void) { return 0; }\n")
    tiny = subprocess.run([*compiler, *SANITIZE, str(work / "tiny.c"), "-o", str(work / "tiny")],
                          capture_output=True, text=True, timeout=120, check=False)
    if tiny.returncode != 0:
        missing = [lib for lib, mark in (("libasan", "asan"), ("libubsan", "ubsan"))
                   if mark in tiny.stderr.lower()] or ["the ASan/UBSan runtime"]
        return {"skip": f"sanitized host: {compiler[0]} cannot link {' and '.join(missing)} "
                        f"({_first_line(tiny.stderr)})"}
    # LeakSanitizer needs ptrace-like powers some sandboxes deny: check it can run.
    detect_leaks = True
    for _ in range(2):
        run = subprocess.run([str(work / "tiny")], env=_sanitizer_env(detect_leaks),
                             capture_output=True, text=True, timeout=60, check=False)
        if run.returncode == 0 or not detect_leaks or "LeakSanitizer" not in run.stderr:
            break
        detect_leaks = False
    if run.returncode != 0:
        return {"skip": f"sanitized host: a sanitized program cannot run here ({_first_line(run.stderr)})"}
    nd = probe_build.native_dir()
    out = work / "teecert-probe-host-asan"
    cmd = [*compiler, *probe_build.HOST_CFLAGS, *SANITIZE, "-I", str(nd), "-I", str(nd / "probe"),
           *(str(s) for s in probe_build.host_sources()), "-o", str(out), *probe_build.HOST_LDLIBS]
    built = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, shlex.join(cmd) + "\n" + built.stderr
    return {"detect_leaks": detect_leaks}


@pytest.fixture(scope="session")
def sanitized_host(tmp_path_factory: pytest.TempPathFactory) -> FuzzHost:
    """native/host/probe_host.c built as ``build_host`` builds it, plus SANITIZE; skips
    (naming what is missing) where the toolchain has no ASan/UBSan runtime.  Built once
    per run: pytest-xdist workers share it through their common temporary folder."""
    compiler = probe_build.find_compiler()
    key = hashlib.sha256("\0".join([probe_build.host_build_key(), *compiler, *SANITIZE])
                         .encode()).hexdigest()[:16]
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    work = root / f"sanitized-host-{key}"
    work.mkdir(exist_ok=True)
    with open(work / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = work / "result.json"
        if not done.is_file():
            done.write_text(json.dumps(_build_sanitized_host(compiler, work)))
        result = json.loads(done.read_text())
    if "skip" in result:
        pytest.skip(result["skip"])
    out = work / "teecert-probe-host-asan"
    env = _sanitizer_env(result["detect_leaks"])
    version = subprocess.run([str(out), "--version"], env=env, capture_output=True, text=True,
                             timeout=60, check=False)
    assert version.returncode == 0 and "wire protocol 2" in version.stdout, version.stderr
    return FuzzHost(str(out), env)


@pytest.fixture(params=["plain", "asan+ubsan"])
def fuzz_host(request: pytest.FixtureRequest, host: str) -> FuzzHost:
    """The installed host, then the sanitized one."""
    if request.param == "plain":
        return FuzzHost(host)
    sanitized: FuzzHost = request.getfixturevalue("sanitized_host")
    return sanitized


def assert_no_sanitizer_report(stderr: str, status: int) -> None:
    reports = [m for m in SANITIZER_REPORTS if m in stderr]
    assert not reports and status != SANITIZER_EXIT, f"host exited {status}:\n{stderr[-6000:]}"


# ---------------------------------------------------- fuzz: client -> host


def frame(mtype: int, payload: bytes = b"") -> bytes:
    return struct.pack("<IH", len(payload) + 2, mtype) + payload


HELLO_REQ = frame(transport.HELLO, struct.pack("<II", transport.PROTOCOL_VERSION, 0))


def hello_with_token(s: socket.socket, token: bytes) -> tuple[int, bytes]:
    """CHALLENGE, then HELLO with the proof, over a raw socket: the HELLO answer."""
    s.sendall(frame(transport.CHALLENGE))
    mtype, body = read_frame(s)
    assert mtype == transport.CHALLENGE | transport.REPLY, body
    proof = hostkey.auth_proof(token, body[:32])
    s.sendall(frame(transport.HELLO, struct.pack("<II", transport.PROTOCOL_VERSION, 1) + proof))
    return read_frame(s)


def run_item(op: str, n: int, data: bytes, out_bytes: int, in_bytes: int | None = None) -> bytes:
    opb = op.encode()
    return (struct.pack("<IIQQQ", len(opb), 0, n, len(data) if in_bytes is None else in_bytes, out_bytes)
            + opb + b"\0" * (-len(opb) % 8) + data + b"\0" * (-len(data) % 8))


def talk(host: str, lib: Path, data: bytes, close: bool = True,
         env: Mapping[str, str] | None = None) -> tuple[list[tuple[int, bytes]], int]:
    """Send ``data`` to a stdio host, close its stdin; the frames it answered and its
    exit status (within 10 s, or the test fails).  A sanitizer report on the host's
    stderr fails the test, showing the report."""
    p = subprocess.Popen([host, "--probe", str(lib)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    out, err = p.communicate(data, timeout=10)
    assert_no_sanitizer_report(err.decode(errors="replace"), p.returncode)
    frames = []
    while len(out) >= 6:
        length, mtype = struct.unpack_from("<IH", out, 0)
        frames.append((mtype, out[6 : 4 + length]))
        out = out[4 + length :]
    assert out == b""
    return frames, p.returncode


def error_of(fr: tuple[int, bytes]) -> tuple[int, str]:
    assert fr[0] == transport.ERROR, fr
    return struct.unpack_from("<I", fr[1])[0], fr[1][4:].decode()


@pytest.mark.parametrize("data,code,words,continues", [
    (frame(transport.RUN, b"\0" * 8), 5, "expected HELLO first", False),
    (HELLO_REQ + struct.pack("<IH", 1, 0), 1, "shorter than its type field", False),
    (HELLO_REQ + struct.pack("<IH", 0xFFFFFFFF, 2), 3, "exceeds the 67108864-byte limit", False),
    (HELLO_REQ + frame(0x1234), 2, "unknown message type 0x1234", True),
    (HELLO_REQ + frame(transport.RUN, struct.pack("<II", 0, 0)), 1, "RUN with 0 items", True),
    (HELLO_REQ + frame(transport.RUN, struct.pack("<II", 1, 0) + b"\0" * 10), 1, "header runs past", True),
    (HELLO_REQ + frame(transport.RUN, struct.pack("<II", 1, 0) + run_item("f64.add.rne", 1, b"\0" * 16, 8,
                                                                        in_bytes=1 << 40)),
     1, "input bytes run past the frame", True),
    (HELLO_REQ + frame(transport.RUN, struct.pack("<II", 1, 0) + run_item("f64.add.rne", 1, b"\0" * 16, 1 << 30)),
     3, "exceed the 67108864-byte frame limit", True),
    (HELLO_REQ + frame(transport.FPENV_POISON, b"\1"), 1, "FPENV_POISON payload of 1 bytes", True),
    (HELLO_REQ + frame(transport.ATTEST, b"\0" * 3), 1, "ATTEST payload of 3 bytes", True),
    (frame(transport.HELLO, struct.pack("<II", 9, 0)), 4, "the client asked for 9", False),
])
def test_malformed_frames_get_a_clear_error_and_no_hang(
        fuzz_host: FuzzHost, reference: Path, data: bytes, code: int, words: str, continues: bool) -> None:
    frames, status = talk(fuzz_host.path, reference, data + frame(transport.TRANSCRIPT), env=fuzz_host.env)
    errors = [f for f in frames if f[0] == transport.ERROR]
    assert len(errors) == 1, frames
    got_code, message = error_of(errors[0])
    assert (got_code, words in message) == (code, True), message
    # Framing intact: the host answers the next request; otherwise it has closed.
    assert (frames[-1][0] == transport.TRANSCRIPT | transport.REPLY) == continues
    assert status in (0, 1)


def test_unknown_op_and_wrong_sizes_are_statuses_not_errors(fuzz_host: FuzzHost, reference: Path) -> None:
    body = struct.pack("<II", 2, 0) + run_item("f64.nope.rne", 1, b"\0" * 16, 8) + \
        run_item("f64.add.rne", 1, b"\0" * 16, 16)
    frames, status = talk(fuzz_host.path, reference, HELLO_REQ + frame(transport.RUN, body),
                          env=fuzz_host.env)
    assert status == 0 and frames[-1][0] == transport.RUN | transport.REPLY
    reply = frames[-1][1]
    assert struct.unpack_from("<II", reply, 0)[0] == 2
    assert struct.unpack_from("<iIQ", reply, 8) == (2, 0, 0)
    assert struct.unpack_from("<iIQ", reply, 24) == (2, 0, 0)


@pytest.mark.parametrize("cut", [2, 5, 6 + 3])
def test_a_peer_that_disconnects_mid_frame_ends_the_host(fuzz_host: FuzzHost, reference: Path,
                                                         cut: int) -> None:
    req = frame(transport.FPENV_POISON, struct.pack("<I", 1))
    frames, status = talk(fuzz_host.path, reference, HELLO_REQ + req[:cut], env=fuzz_host.env)
    assert [f[0] for f in frames] == [transport.HELLO | transport.REPLY]
    assert status == 1


def test_a_socket_peer_that_stalls_is_dropped_when_it_leaves(
        reference: Path, listening: Callable[[Path, str], ListeningHost]) -> None:
    h = listening(reference, "tcp")
    host_port = h.url[len("tcp://"):].rsplit(":", 1)
    with socket.create_connection((host_port[0], int(host_port[1])), timeout=5) as s:
        assert h.token is not None
        assert hello_with_token(s, h.token)[0] == transport.HELLO | transport.REPLY
        s.sendall(struct.pack("<IH", 1000, transport.RUN) + b"\0" * 10)
    # The server is still there for the next client.
    rp = h.connect(timeout=5)
    assert rp.run_values(ADD, [(ONE, ONE)]) == [0x4000000000000000]
    rp.close()


# ---------------------------------------------------- fuzz: host -> client


def hello_reply(proto: int = transport.PROTOCOL_VERSION, abi: int = 1, desc: bytes | None = None, flags: int = 1) -> bytes:
    d = desc if desc is not None else json.dumps({"name": "fake", "abi": 1, "ops": ["f64.add.rne"]}).encode()
    path = b"/fake/lib.so"
    return frame(transport.HELLO | transport.REPLY,
                 struct.pack("<IIII", proto, abi, 1 << 26, flags) + b"\x11" * 32
                 + struct.pack("<II", len(d), len(path)) + d + path)


def fake_host(script: Callable[[socket.socket], None], timeout: float = 1.0) -> transport.RemoteProbe:
    """A RemoteProbe talking to ``script`` over a socketpair."""
    a, b = socket.socketpair()

    def serve() -> None:
        try:
            script(b)
        except OSError:
            pass
        finally:
            b.close()

    threading.Thread(target=serve, daemon=True).start()
    used: list[bool] = []

    def opener() -> transport._Channel:
        if used:
            raise ProbeError("fake host: no restart")
        used.append(True)
        return transport._SocketChannel(a, "unix")

    return transport.RemoteProbe(opener, "fake", "unix", timeout)


def read_frame(s: socket.socket) -> tuple[int, bytes]:
    head = b""
    while len(head) < 6:
        chunk = s.recv(6 - len(head))
        if not chunk:
            raise OSError("closed")
        head += chunk
    length, mtype = struct.unpack("<IH", head)
    body = b""
    while len(body) < length - 2:
        chunk = s.recv(length - 2 - len(body))
        if not chunk:
            raise OSError("closed")
        body += chunk
    return mtype, body


def then_on_run(reply: bytes | None, close: bool = True) -> Callable[[socket.socket], None]:
    def script(s: socket.socket) -> None:
        read_frame(s)
        s.sendall(hello_reply())
        read_frame(s)
        if reply is not None:
            s.sendall(reply)
        if close:
            s.shutdown(socket.SHUT_WR)
        else:
            time.sleep(3)

    return script


def run_reply(status: int, out: bytes, out_len: int | None = None) -> bytes:
    n = len(out) if out_len is None else out_len
    return frame(transport.RUN | transport.REPLY,
                 struct.pack("<II", 1, 0) + struct.pack("<iIQ", status, 0, n) + out + b"\0" * (-len(out) % 8))


@pytest.mark.parametrize("reply,close,words", [
    (run_reply(0, b"\0" * 4, out_len=4), True, "short output: 4 bytes, expected 8"),
    (run_reply(0, b"\0" * 16), True, "oversized output: 16 bytes, expected 8"),
    (struct.pack("<IH", 0xFFFFFFF0, transport.RUN | transport.REPLY), True, "frame of 4294967280 bytes"),
    (struct.pack("<IH", 1, 0), True, "frame of 1 bytes"),
    (frame(transport.FPENV_READ | transport.REPLY, b"\0" * 24), True, "answered RUN with message type 0x8003"),
    (run_reply(0, b"\0" * 8)[:20], True, "probe closed the stream"),
    (None, True, "probe closed the stream"),
    (None, False, "probe timed out after 1 s"),
    (frame(transport.RUN | transport.REPLY, struct.pack("<II", 3, 0)), True, "RUN reply for 3 calls"),
    (frame(transport.ERROR, struct.pack("<I", 6) + b"probe crashed with SIGBUS"), True,
     "probe crashed with SIGBUS during f64.add.rne (batch of 1)"),
    # the host's own text cannot forge a second line or a terminal escape
    (frame(transport.ERROR, struct.pack("<I", 6) + b"crashed\nteecert run: CERTIFIED\x1b[2K"), True,
     "crashed\\nteecert run: CERTIFIED\\x1b[2K during f64.add.rne"),
])
def test_a_lying_host_is_a_clear_probe_error(reply: bytes | None, close: bool, words: str) -> None:
    rp = fake_host(then_on_run(reply, close))
    t0 = time.monotonic()
    with pytest.raises(ProbeError) as err:
        rp.run_values(ADD, [(ONE, ONE)])
    assert time.monotonic() - t0 < 3
    assert words in str(err.value) and "f64.add.rne" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("hello,words", [
    (hello_reply(proto=transport.PROTOCOL_VERSION + 1), f"speaks wire protocol {transport.PROTOCOL_VERSION + 1}"),
    (hello_reply(abi=7), "exports ABI version 7"),
    (hello_reply(desc=b"[1]"), "self-description is a JSON list"),
    (hello_reply(desc=b"[" * 200_000 + b"]" * 200_000), "self-description nests too deep"),
    (hello_reply(desc=b'{"a": ' * 100_000 + b"1" + b"}" * 100_000), "self-description nests too deep"),
    (hello_reply()[:30], "probe closed the stream during handshake"),
    (frame(transport.HELLO | transport.REPLY, b"\0" * 10), "HELLO reply of 10 bytes"),
])
def test_a_bad_handshake_is_a_clear_probe_error(hello: bytes, words: str) -> None:
    def script(s: socket.socket) -> None:
        read_frame(s)
        s.sendall(hello)
        s.shutdown(socket.SHUT_WR)

    with pytest.raises(ProbeError, match=words):
        fake_host(script)


def test_digest_without_a_library_digest_is_of_the_description() -> None:
    desc = json.dumps({"name": "fake", "abi": 1, "ops": []}).encode()

    def script(s: socket.socket) -> None:
        read_frame(s)
        s.sendall(hello_reply(desc=desc, flags=0))
        time.sleep(0.2)

    rp = fake_host(script)
    assert rp.digest == hashlib.sha256(desc).hexdigest()
    assert rp.library_digest is None


def test_no_stray_hosts_are_left(host: str) -> None:
    """Every child spawned above was reaped (the kernel shows no zombies of ours)."""
    mine = os.getpid()
    zombies = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] == "Z" and int(fields[1]) == mine:
                zombies.append(d.name)
    assert not zombies


def test_an_in_process_crash_says_how_to_isolate_the_probe(tmp_path: Path, key_file: Path,
                                                           quick_profile: Path) -> None:
    lib = misbehaving_probe("segv")
    res = teecert_cli(["run", "--in-process", "--probe", str(lib), "--profile", str(quick_profile),
                       "--key", str(key_file), "--out", str(tmp_path)], timeout=120)
    assert res.code != 0 and res.code != 1
    last = res.err.strip().splitlines()[-1]
    assert "died from SIGSEGV" in last and "run without --in-process" in last
    assert not list(tmp_path.glob("teecert-report-*.json"))


def test_the_profiles_probe_timeout_bounds_a_hang(host: str, tmp_path: Path, key_file: Path,
                                                  isolation_profile: Path) -> None:
    doc = json.loads(isolation_profile.read_text())
    doc["probe_timeout"] = 1
    prof = tmp_path / "timeout.json"
    prof.write_text(json.dumps(doc))
    lib = misbehaving_probe("hang")
    t0 = time.monotonic()
    res = teecert_cli(["run", "--probe", str(lib), "--profile", str(prof), "--key", str(key_file),
                       "--out", str(tmp_path / "out")], timeout=120)
    assert res.code == 1 and time.monotonic() - t0 < 60, res.out[-2000:] + res.err
    [report] = (tmp_path / "out").glob("teecert-report-*.json")
    failed = [r["message"] for r in _statement_of(report)["predicate"]["results"]
              if r["id"].endswith("test_stream[f64.div.rne]")]
    assert failed and "probe timed out after 1 s" in failed[0]


@pytest.mark.parametrize("value", [0, -1, "30", 7200])
def test_a_bad_probe_timeout_in_a_profile_is_one_line(tmp_path: Path, key_file: Path,
                                                      isolation_profile: Path, value: object) -> None:
    doc = json.loads(isolation_profile.read_text())
    doc["probe_timeout"] = value
    prof = tmp_path / "bad.json"
    prof.write_text(json.dumps(doc))
    res = teecert_cli(["run", "--profile", str(prof), "--key", str(key_file), "--out", str(tmp_path)])
    assert res.code == 2
    [line] = res.err.strip().splitlines()
    assert "probe_timeout" in line and str(prof) in line
    assert not list(tmp_path.glob("teecert-report-*.json"))
