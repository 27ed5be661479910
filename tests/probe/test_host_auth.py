"""Who may use a probe host, and what it vouches for (docs/wire-protocol.md,
"Authentication", "Worker cap", "The host key", "Host facts").

The host must not be an open attestation oracle: TCP and vsock listeners need a
token (or an explicit --insecure-no-auth), a client proves the token by answering a
challenge, and one that does not is refused before it reaches the probe; a Unix
socket serves only its own uid and root; at most --max-workers connections are
served at once.  Its Ed25519 key is checked against ``teecert.probe.hostkey``, an
independent implementation of the same formulas, and the facts it reports of its
machine against ``teecert.certify.facts.fingerprint`` on this machine.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from teecert import ops
from teecert.certify.facts import fingerprint as environment
from teecert.certify.judge import environment as environment_checks
from teecert.errors import BuildError, NotAuthentic, ProbeError, UnsupportedOp, UsageError
from teecert.probe import build as probe_build
from teecert.probe import hostkey
from teecert.probe import remote as transport

from conftest import no_traceback, teecert_cli
from probezoo import zoo_dir

ADD = ops.get("f64.add.rne")
ONE = 0x3FF0000000000000
TOKEN = b"a-probe-host-token-for-tests-" + b"t" * 40
HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def echo_probe() -> Path:
    """The reference probe whose attestation echoes the report data it was given
    (tests/probe/echo_attest.c), so a test sees what the host asked it to attest."""
    src = HERE / "echo_attest.c"
    key = hashlib.sha256(src.read_bytes() + probe_build.reference_build_key().encode()).hexdigest()[:16]
    out = zoo_dir() / f"echo-attest-{key}.so"
    if out.is_file():
        return out
    return probe_build.build_probe(out, source=src)


def write_token(path: Path, token: bytes = TOKEN, mode: int = 0o600) -> Path:
    path.write_bytes(token + b"\n")
    path.chmod(mode)
    return path


def frame(mtype: int, payload: bytes = b"") -> bytes:
    return struct.pack("<IH", len(payload) + 2, mtype) + payload


def read_frame(s: socket.socket) -> tuple[int, bytes] | None:
    """The next frame, or None when the peer closed (or reset) the connection."""
    data = b""
    try:
        while len(data) < 6:
            chunk = s.recv(6 - len(data))
            if not chunk:
                return None
            data += chunk
        length, mtype = struct.unpack("<IH", data)
        body = b""
        while len(body) < length - 2:
            chunk = s.recv(length - 2 - len(body))
            if not chunk:
                return None
            body += chunk
    except ConnectionResetError:
        return None
    return mtype, body


def error_code(fr: tuple[int, bytes] | None) -> tuple[int, str]:
    assert fr is not None and fr[0] == transport.ERROR, fr
    return struct.unpack_from("<I", fr[1])[0], fr[1][4:].decode()


HELLO_PLAIN = frame(transport.HELLO, struct.pack("<II", transport.PROTOCOL_VERSION, 0))


def hello_with_proof(s: socket.socket, token: bytes) -> tuple[int, bytes] | None:
    """CHALLENGE, then HELLO answering it with ``token``: the answer to HELLO."""
    s.sendall(frame(transport.CHALLENGE))
    got = read_frame(s)
    assert got is not None and got[0] == transport.CHALLENGE | transport.REPLY, got
    proof = hostkey.auth_proof(token, got[1][:32])
    s.sendall(frame(transport.HELLO, struct.pack("<II", transport.PROTOCOL_VERSION, 1) + proof))
    return read_frame(s)


class Listening:
    """``teecert-probe-host --listen SPEC ...`` in the background."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "listening", self.proc.stderr.read()
        shown = line[1]
        self.url = "tcp://" + shown[4:] if shown.startswith("tcp:") else shown

    def address(self) -> tuple[str, int]:
        h, _, p = self.url[len("tcp://"):].rpartition(":")
        return h, int(p)

    def raw(self) -> socket.socket:
        if self.url.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.url[5:])
        else:
            s = socket.create_connection(self.address())
        s.settimeout(30)
        return s

    def children(self) -> list[tuple[int, str]]:
        """(pid, state) of this host's child processes."""
        out = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.proc.pid:
                    out.append((int(d.name), fields[0]))
        return out

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


@pytest.fixture
def listen(host: str, reference: Path) -> Iterator[Callable[..., Listening]]:
    started: list[Listening] = []

    def start(spec: str, *extra: str, lib: Path | None = None, env: dict[str, str] | None = None) -> Listening:
        h = Listening([host, "--probe", str(lib or reference), "--listen", spec, *extra], env=env)
        started.append(h)
        return h

    yield start
    for h in started:
        h.stop()


def run_host(host: str, reference: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([host, "--probe", str(reference), *args], capture_output=True, text=True,
                          timeout=30, check=False)


# ------------------------------------------------------- listeners and tokens


@pytest.mark.parametrize("spec", ["tcp:127.0.0.1:0", "vsock:1:5000"])
def test_tcp_and_vsock_refuse_to_listen_without_a_token(host: str, reference: Path, spec: str) -> None:
    p = run_host(host, reference, "--listen", spec)
    assert p.returncode == 3 and p.stdout == ""
    [line] = p.stderr.strip().splitlines()
    assert "refusing to serve without client authentication" in line and "--token-file" in line


def test_insecure_no_auth_serves_with_a_warning(listen: Callable[..., Listening]) -> None:
    h = listen("tcp:127.0.0.1:0", "--insecure-no-auth")
    with transport.connect(h.url, timeout=30) as rp:
        assert rp.run_values(ADD, [(ONE, ONE)]) == [0x4000000000000000]


def test_insecure_no_auth_warning_line(host: str, reference: Path) -> None:
    p = subprocess.Popen([host, "--probe", str(reference), "--listen", "tcp:127.0.0.1:0",
                          "--insecure-no-auth"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None and p.stdout.readline().startswith("listening tcp:")
    finally:
        p.kill()
        _, err = p.communicate(timeout=10)
    [line] = err.strip().splitlines()
    assert line.startswith("teecert-probe-host: warning: --insecure-no-auth")


@pytest.mark.parametrize("content,mode,words", [
    (b"short\n", 0o600, "the token has 5 bytes, at least 32 are needed"),
    (TOKEN, 0o644, "readable by others (mode 0644)"),
    (b"x" * 5000, 0o600, "a token has at most 4096"),
])
def test_a_bad_token_file_stops_the_host_with_one_line(host: str, reference: Path, tmp_path: Path,
                                                       content: bytes, mode: int, words: str) -> None:
    token = tmp_path / "token"
    token.write_bytes(content)
    token.chmod(mode)
    p = run_host(host, reference, "--listen", "tcp:127.0.0.1:0", "--token-file", str(token))
    assert p.returncode == 3
    [line] = p.stderr.strip().splitlines()
    assert words in line and str(token) in line


def test_a_token_never_goes_on_the_command_line(host: str, reference: Path) -> None:
    p = run_host(host, reference, "--token", "x" * 40)
    assert p.returncode == 2 and "--token-file FILE" in p.stderr


@pytest.fixture
def guarded(listen: Callable[..., Listening], echo_probe: Path, tmp_path: Path) -> tuple[Listening, Path]:
    """A TCP host with a token serving the echo-attest probe, and the file in which the
    probe logs every report data it is asked to attest."""
    log = tmp_path / "attested.bin"
    env = {**os.environ, "TEECERT_TEST_ATTEST_LOG": str(log)}
    env.pop(hostkey.TOKEN_ENV, None)
    h = listen("tcp:127.0.0.1:0", "--token-file", str(write_token(tmp_path / "token")), lib=echo_probe,
               env=env)
    return h, log


def test_a_client_without_the_token_is_refused_before_the_probe(guarded: tuple[Listening, Path]) -> None:
    h, log = guarded
    # No proof at all.
    with h.raw() as s:
        s.sendall(HELLO_PLAIN + frame(transport.ATTEST, b"\1" * 64))
        code, msg = error_code(read_frame(s))
        assert (code, msg.startswith("authentication required")) == (8, True), msg
        assert read_frame(s) is None  # closed: the ATTEST was never answered
    # A wrong token.
    with h.raw() as s:
        code, msg = error_code(hello_with_proof(s, b"w" * 40))
        assert (code, msg) == (8, "authentication failed")
        s.sendall(frame(transport.ATTEST, b"\2" * 64))
        assert read_frame(s) is None
    # A proof for another challenge (a replayed HELLO).
    with h.raw() as s:
        s.sendall(frame(transport.CHALLENGE))
        assert read_frame(s) is not None
        stale = hostkey.auth_proof(TOKEN, b"\0" * 32)
        s.sendall(frame(transport.HELLO, struct.pack("<II", transport.PROTOCOL_VERSION, 1) + stale))
        assert error_code(read_frame(s)) == (8, "authentication failed")
    # Anything but CHALLENGE or HELLO first.
    with h.raw() as s:
        s.sendall(frame(transport.ATTEST, b"\3" * 64))
        assert error_code(read_frame(s))[0] == 5
        assert read_frame(s) is None
    assert not log.exists(), "a refused client reached the probe's attestation"
    # The client library says so in one line.
    with pytest.raises(ProbeError) as err:
        transport.connect(h.url, timeout=30, token=b"w" * 40)
    assert str(err.value) == f"probe host at {h.url} refused the client: authentication failed"
    with pytest.raises(ProbeError, match=r"refused the client: authentication required.*--probe-token-file"):
        transport.RemoteProbe(lambda: transport._open_socket(h.url, 30), h.url, "tcp", 30, token=None)
    assert not log.exists()


def test_the_right_token_is_served(guarded: tuple[Listening, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    h, _log = guarded
    with transport.connect(h.url, timeout=30, token=TOKEN) as rp:
        assert rp.run_values(ADD, [(ONE, ONE)]) == [0x4000000000000000]
    monkeypatch.setenv(hostkey.TOKEN_ENV, TOKEN.decode())  # the client's default
    with transport.connect(h.url, timeout=30) as rp:
        assert rp.run_values(ADD, [(ONE, ONE)]) == [0x4000000000000000]


def test_the_token_from_the_environment(listen: Callable[..., Listening], tmp_path: Path) -> None:
    env = {**os.environ, hostkey.TOKEN_ENV: TOKEN.decode()}
    h = listen("tcp:127.0.0.1:0", env=env)
    with h.raw() as s:
        s.sendall(HELLO_PLAIN)
        assert error_code(read_frame(s))[0] == 8
    with transport.connect(h.url, timeout=30, token=TOKEN) as rp:
        assert rp.abi_version == 1
        # the host keeps the token to itself: the probe's process does not see it
        assert hostkey.TOKEN_ENV not in rp.host_facts["variables"]


def test_teecert_run_with_a_wrong_token_is_one_line(guarded: tuple[Listening, Path], tmp_path: Path,
                                                    key_file: Path, quick_profile: Path) -> None:
    h, log = guarded
    wrong = write_token(tmp_path / "wrong", b"z" * 40)
    res = teecert_cli(["run", "--probe-url", h.url, "--probe-token-file", str(wrong), "--profile",
                       str(quick_profile), "--key", str(key_file), "--out", str(tmp_path / "out")],
                      timeout=120)
    assert res.code == 2 and no_traceback(res.err)
    assert res.err.strip().splitlines() == [
        f"teecert run: probe host at {h.url} refused the client: authentication failed"]
    assert not list(tmp_path.rglob("teecert-report-*.json"))
    loose = write_token(tmp_path / "loose", TOKEN, mode=0o644)
    res = teecert_cli(["run", "--probe-url", h.url, "--probe-token-file", str(loose), "--profile",
                       str(quick_profile), "--key", str(key_file), "--out", str(tmp_path / "out")])
    assert res.code == 2 and "readable by others" in res.err.strip().splitlines()[-1]
    assert not log.exists()


def test_client_token_files_are_checked(tmp_path: Path) -> None:
    assert hostkey.load_token(write_token(tmp_path / "ok")) == TOKEN
    with pytest.raises(UsageError, match="at least 32"):
        hostkey.load_token(write_token(tmp_path / "short", b"abc"))
    with pytest.raises(UsageError, match="readable by others"):
        hostkey.load_token(write_token(tmp_path / "loose", mode=0o640))
    with pytest.raises(UsageError, match="cannot read"):
        hostkey.load_token(tmp_path / "missing")
    assert hostkey.load_token(None, environ={}) is None
    assert hostkey.load_token(None, environ={hostkey.TOKEN_ENV: TOKEN.decode() + "\n"}) == TOKEN


# ------------------------------------------------------------- Unix sockets


def test_a_unix_socket_is_0600_and_serves_its_own_uid(listen: Callable[..., Listening],
                                                      tmp_path: Path) -> None:
    path = tmp_path / "h.sock"
    h = listen(f"unix:{path}")
    assert (path.stat().st_mode & 0o777) == 0o600
    with transport.connect(h.url, timeout=30) as rp:
        assert rp.run_values(ADD, [(ONE, ONE)]) == [0x4000000000000000]


# What another uid runs: connect, HELLO (with a proof when TOKEN is set), and print
# the answer's type and error code.
_OTHER_UID_CLIENT = r"""
import hashlib, hmac, os, socket, struct, sys
def frame(t, p=b""): return struct.pack("<IH", len(p) + 2, t) + p
def read(s):
    d = b""
    while len(d) < 6:
        c = s.recv(6 - len(d))
        if not c: return None
        d += c
    n, t = struct.unpack("<IH", d)
    b = b""
    while len(b) < n - 2:
        c = s.recv(n - 2 - len(b))
        if not c: return None
        b += c
    return t, b
s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sys.argv[1])
token = os.environ.get("TOKEN", "").encode()
flags, proof = 0, b""
if token:
    s.sendall(frame(0x000B)); t, b = read(s)
    flags, proof = 1, hmac.new(token, b[:32] + b"teecert-host-auth-v1", hashlib.sha256).digest()
s.sendall(frame(0x0001, struct.pack("<II", PROTOCOL, flags) + proof))
r = read(s)
print("closed" if r is None else "%04x %d" % (r[0], struct.unpack_from("<I", r[1])[0] if r[0] == 0xFFFF else 0))
""".replace("PROTOCOL", str(transport.PROTOCOL_VERSION))


@pytest.fixture
def world_dir() -> Iterator[Path]:
    """A folder another uid may enter (pytest's own temporary folders are 0700)."""
    d = Path(tempfile.mkdtemp(prefix="teecert-peer-", dir="/tmp"))
    d.chmod(0o711)
    yield d
    for p in d.iterdir():
        p.unlink()
    d.rmdir()


def _as_nobody(sock: Path, token: bytes | None = None) -> str:
    env = {"PATH": "/usr/bin:/bin"}
    if token:
        env["TOKEN"] = token.decode()
    p = subprocess.run(["/usr/bin/python3", "-I", "-c", _OTHER_UID_CLIENT, str(sock)], user=65534,
                       group=65534, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


@pytest.mark.skipif(os.geteuid() != 0, reason="connecting as another uid needs root (setuid to nobody)")
@pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="no /usr/bin/python3 for the other uid")
def test_another_uid_is_refused_without_a_token_even_if_the_socket_is_opened_up(
        listen: Callable[..., Listening], world_dir: Path) -> None:
    sock = world_dir / "h.sock"
    listen(f"unix:{sock}")
    sock.chmod(0o666)  # the file mode is not the only guard: SO_PEERCRED is checked
    assert _as_nobody(sock) == "ffff 8"


@pytest.mark.skipif(os.geteuid() != 0, reason="connecting as another uid needs root (setuid to nobody)")
@pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="no /usr/bin/python3 for the other uid")
def test_another_uid_with_the_token_is_served(listen: Callable[..., Listening], world_dir: Path,
                                              tmp_path: Path) -> None:
    sock = world_dir / "h.sock"
    listen(f"unix:{sock}", "--token-file", str(write_token(tmp_path / "token")))
    sock.chmod(0o666)
    assert _as_nobody(sock, TOKEN) == f"{transport.HELLO | transport.REPLY:04x} 0"
    assert _as_nobody(sock, b"n" * 40) == "ffff 8"


# --------------------------------------------------------------- worker cap


def test_beyond_max_workers_a_connection_gets_busy_and_children_are_reaped(
        listen: Callable[..., Listening], tmp_path: Path) -> None:
    h = listen("tcp:127.0.0.1:0", "--max-workers", "2", "--token-file", str(write_token(tmp_path / "t")))
    held = [h.raw(), h.raw()]
    for s in held:
        got = hello_with_proof(s, TOKEN)
        assert got is not None and got[0] == transport.HELLO | transport.REPLY
    with h.raw() as s:
        s.sendall(frame(transport.CHALLENGE))
        code, msg = error_code(read_frame(s))
        assert code == 9 and "--max-workers 2" in msg, msg
        assert read_frame(s) is None
    with pytest.raises(ProbeError, match=rf"^probe host at {h.url} refused the client: busy"):
        transport.connect(h.url, timeout=30, token=TOKEN)
    held.pop().close()
    # Once the supervisor of the closed connection is reaped, a slot is free again.
    deadline = time.monotonic() + 60
    while True:
        try:
            with transport.connect(h.url, timeout=30, token=TOKEN) as rp:
                assert rp.run_values(ADD, [(ONE, ONE)]) == [0x4000000000000000]
            break
        except ProbeError as e:
            assert "busy" in str(e) and time.monotonic() < deadline, e
            time.sleep(0.2)
    held.pop().close()
    while h.children() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert h.children() == [], "supervisors left behind (not reaped)"


def test_max_workers_must_be_a_sane_number(host: str, reference: Path) -> None:
    for bad in ("0", "-1", "x", "100000"):
        p = run_host(host, reference, "--max-workers", bad)
        assert p.returncode == 2 and "--max-workers" in p.stderr


# ----------------------------------------------------------------- host key


def test_hello_carries_a_32_byte_ed25519_key_one_per_host(host: str, reference: Path,
                                                          listen: Callable[..., Listening],
                                                          tmp_path: Path) -> None:
    h = listen(f"unix:{tmp_path / 'k.sock'}")
    with transport.connect(h.url, timeout=30) as a, transport.connect(h.url, timeout=30) as b:
        assert a.host_public_key is not None and len(a.host_public_key) == 32
        Ed25519PublicKey.from_public_bytes(a.host_public_key)
        assert a.host_public_key == b.host_public_key  # made before the workers were forked
    with transport.spawn([host, "--probe", str(reference)]) as c:
        assert c.host_public_key is not None and c.host_public_key != a.host_public_key


def test_attest_commits_to_the_host_key(host: str, echo_probe: Path, tmp_path: Path) -> None:
    log = tmp_path / "attested.bin"
    data = bytes(range(64))
    with transport.spawn([host, "--probe", str(echo_probe)], timeout=30,
                         env={"TEECERT_TEST_ATTEST_LOG": str(log)}) as rp:
        assert rp.host_public_key is not None
        fmt, evidence = rp.attest(data)
        want = hostkey.wrap_report_data(rp.host_public_key, data)
        assert fmt == "echo"
        assert evidence == want == rp.attested_report_data
        assert evidence != data
    assert log.read_bytes() == want  # the probe never saw the client's bytes
    assert want == hashlib.sha512(b"teecert-host-attest-v1\0" + rp.host_public_key + data).digest()


def test_a_host_that_attests_other_data_is_caught(host: str, echo_probe: Path) -> None:
    with transport.spawn([host, "--probe", str(echo_probe)], timeout=30) as rp:
        real = rp.host_public_key
        assert real is not None
        rp.host_public_key = bytes(32)  # as if the host had announced another key
        with pytest.raises(ProbeError, match="attested other report data"):
            rp.attest(bytes(64))
        rp.host_public_key = real


def test_the_transcript_signature_verifies_and_a_flipped_byte_does_not(host: str, reference: Path) -> None:
    with transport.spawn([host, "--probe", str(reference)], timeout=30) as rp:
        rp.run_values(ADD, [(ONE, ONE)] * 3)
        t, calls = rp.transcript()
        assert calls == 1 and rp.host_signature is not None and rp.host_public_key is not None
        assert rp.host_signature_key == rp.host_public_key
        pub = base64.b64encode(rp.host_public_key).decode()
        entry = {"worker": "main", "hash": t.hex(), "calls": calls,
                 "host_signature": base64.b64encode(rp.host_signature).decode()}
    hostkey.verify_transcript_signature(pub, entry, "test")
    msg = hostkey.transcript_message(t.hex(), calls)
    assert msg == b"teecert-host-transcript-v1\0" + t + struct.pack("<Q", calls)
    sig = bytearray(rp.host_signature)
    sig[5] ^= 1
    for bad in ({**entry, "host_signature": base64.b64encode(bytes(sig)).decode()},
                {**entry, "hash": (bytes([t[0] ^ 1]) + t[1:]).hex()},
                {**entry, "calls": calls + 1}):
        with pytest.raises(NotAuthentic, match=r"^test: the probe host's signature of the transcript"):
            hostkey.verify_transcript_signature(pub, bad, "test")
    with pytest.raises(NotAuthentic, match="host_signature is missing"):
        hostkey.verify_transcript_signature(pub, {"hash": t.hex(), "calls": calls}, "test")


def test_check_report_host() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def raw(k: Ed25519PrivateKey) -> str:
        return base64.b64encode(k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()

    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()

    def entry(worker: str, k: Ed25519PrivateKey, own: bool = False) -> dict[str, object]:
        h = hashlib.sha256(worker.encode()).hexdigest()
        e: dict[str, object] = {"worker": worker, "hash": h, "calls": 7, "host_signature":
                                base64.b64encode(k.sign(hostkey.transcript_message(h, 7))).decode()}
        if own:
            e["host_public_key"] = raw(k)
        return e

    def pred(transcripts: list[dict[str, object]], transport_name: str = "tcp",
             host: dict[str, object] | None = None) -> dict[str, object]:
        return {"run": {"transport": transport_name},
                "probe": {"transcripts": transcripts,
                          **({"host": host} if host is not None else {})}}

    host = {"public_key": raw(key), "facts_source": "probe-host"}
    notes = hostkey.check_report_host(pred([entry("gw0", key), entry("gw1", key)], host=host), "r")
    assert any("2 transcripts co-signed" in n for n in notes)
    assert hostkey.check_report_host(pred([{"worker": "main", "hash": "0" * 64, "calls": 0}]), "r") == []
    with pytest.raises(NotAuthentic, match="gw1: no probe host signature"):
        hostkey.check_report_host(pred([entry("gw0", key), {"worker": "gw1", "hash": "0" * 64, "calls": 1}],
                                       host=host), "r")
    with pytest.raises(NotAuthentic, match="another probe host key"):
        hostkey.check_report_host(pred([entry("gw0", other, own=True)], host=host), "r")
    # child-process: each harness process started its own host
    notes = hostkey.check_report_host(pred([entry("gw0", other, own=True)], "child-process", host), "r")
    assert any("child-process" in n for n in notes)
    with pytest.raises(NotAuthentic, match="worker gw0: the probe host's signature"):
        bad = entry("gw0", key)
        bad["calls"] = 8
        hostkey.check_report_host(pred([bad], host=host), "r")
    with pytest.raises(NotAuthentic, match=r"probe\.host is missing"):
        hostkey.check_report_host(pred([entry("gw0", key)]), "r")


# ------------------------------------------------------------- host facts


def test_host_facts_equal_the_harness_fingerprint_on_the_same_machine(host: str, reference: Path) -> None:
    with transport.spawn([host, "--probe", str(reference)], timeout=30) as rp:
        facts = rp.host_facts
        assert facts is not None
        local = environment_checks.extended_fingerprint(
            environment.fingerprint(rp.description, rp.digest), rp.description, pid=rp.child_pid)
        pid_facts = local["process"]
        probe_fp = environment.host_fingerprint(facts, rp.description, rp.digest)
    for field in ("arch", "cpu_model", "cpu_flags", "cpu_flags_digest", "microcode", "kernel",
                  "kernel_version", "libc", "cores_logical", "cores_physical", "memory_bytes",
                  "hostname_digest", "variables", *environment_checks.EXTENDED_FIELDS):
        assert facts[field] == local[field], field
    assert isinstance(facts["cpu_flags"], list) and facts["libc"] == (os.confstr("CS_GNU_LIBC_VERSION") or "")
    assert facts["process"] == pid_facts
    assert set(facts) >= set(local) - {"python", "probe_compiler", "probe_cflags", "probe_digest"}
    assert environment.identity_digest(probe_fp) == environment.identity_digest(local)


def test_host_facts_report_the_hosts_own_variables(host: str, reference: Path) -> None:
    with transport.spawn([host, "--probe", str(reference)], timeout=30,
                         env={"TZ": "Pacific/Chatham", "LC_ALL": "C"}) as rp:
        assert rp.host_facts is not None
        assert rp.host_facts["variables"]["TZ"] == "Pacific/Chatham"
        assert rp.host_facts["variables"]["LC_ALL"] == "C"


def _facts_json(**changes: object) -> bytes:
    import json

    base: dict[str, object] = {
        "arch": "x86_64", "cpu_model": "m", "cpu_flags": ["a"], "cpu_flags_digest": "0" * 64,
        "microcode": "", "cores_logical": 1, "cores_physical": 1, "memory_bytes": "1", "kernel": "k",
        "kernel_version": "v", "libc": "glibc 2.36", "libc_name": "glibc", "libc_version": "2.36",
        "hostname_digest": "1" * 64, "cpu_vendor": "", "cpu_family": "", "cpu_model_number": "",
        "cpu_stepping": "", "kernel_release": "r", "variables": {}}
    base.update(changes)
    return json.dumps(base).encode()


def test_host_facts_are_checked() -> None:
    assert transport.parse_host_facts(_facts_json(), "h")["arch"] == "x86_64"
    for changes, words in (
        ({"cpu_model": "evil\x1b[2J"}, "host fact cpu_model contains control characters"),
        ({"kernel": "two\nlines"}, "host fact kernel contains control characters"),
        ({"arch": 5}, "host fact arch is a int, not a string"),
        ({"cpu_model": "m" * 300}, "host fact cpu_model has 300 characters"),
        ({"cores_logical": -1}, "host fact cores_logical is not a count"),
        ({"memory_bytes": "1.5"}, "host fact memory_bytes is not a decimal number"),
        ({"hostname_digest": "x"}, "host fact hostname_digest is not 64 lower-case hex digits"),
        ({"variables": {"TZ": "a\x00b"}}, "host fact variables.TZ contains control characters"),
        ({"cpu_flags": "sse"}, "host fact cpu_flags is not a list"),
    ):
        with pytest.raises(ProbeError) as err:
            transport.parse_host_facts(_facts_json(**changes), "probe host h")
        assert str(err.value) == f"probe host h: {words}" or str(err.value).startswith(f"probe host h: {words}")
        assert "\n" not in str(err.value)
    with pytest.raises(ProbeError, match="not valid JSON"):
        transport.parse_host_facts(b'{"arch": 1.5}', "h")
    with pytest.raises(ProbeError, match="not valid JSON"):
        transport.parse_host_facts(b'{"arch": "a", "arch": "b"}', "h")


# ------------------------------------------------------------ keyless hosts


@pytest.fixture(scope="module")
def keyless_host(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The host built as for a cross target without OpenSSL (hostkey_none.c)."""
    out = tmp_path_factory.mktemp("keyless") / "teecert-probe-host"
    return str(probe_build.build_host(out, crypto=False))


def test_a_keyless_host_authenticates_but_neither_signs_nor_attests(
        keyless_host: str, echo_probe: Path, tmp_path: Path) -> None:
    v = subprocess.run([keyless_host, "--version"], capture_output=True, text=True, timeout=30, check=True)
    assert "host key: none" in v.stdout
    h = Listening([keyless_host, "--probe", str(echo_probe), "--listen", "tcp:127.0.0.1:0",
                   "--token-file", str(write_token(tmp_path / "t"))])
    try:
        with pytest.raises(ProbeError, match="authentication failed"):
            transport.connect(h.url, timeout=30, token=b"q" * 40)
        # the portable HMAC-SHA256 agrees with Python's
        with transport.connect(h.url, timeout=30, token=TOKEN) as rp:
            assert rp.host_public_key is None and rp.host_facts is not None
            rp.transcript()
            assert rp.host_signature is None
            with pytest.raises(UnsupportedOp, match=r"no key \(built without OpenSSL\)"):
                rp.attest(bytes(64))
        # asked anyway, the host refuses
        with h.raw() as s:
            got = hello_with_proof(s, TOKEN)
            assert got is not None and got[0] == transport.HELLO | transport.REPLY
            s.sendall(frame(transport.ATTEST, bytes(64)))
            code, msg = error_code(read_frame(s))
            assert code == 5 and "built without OpenSSL" in msg
    finally:
        h.stop()


def test_without_openssl_headers_the_host_build_says_what_to_install(tmp_path: Path) -> None:
    # asked for a keyed host (crypto=True), the build names the package to install
    sysroot = tmp_path / "empty-sysroot"
    sysroot.mkdir()
    cc = probe_build.find_compiler()
    with pytest.raises(BuildError) as err:
        probe_build.build_host(tmp_path / "h", cc=f"{cc[0]} --sysroot={sysroot}", crypto=True)
    msg = str(err.value)
    assert "\n" not in msg and "install Debian's libssl-dev" in msg


def test_without_openssl_the_host_builds_keyless_and_attests_nothing(
        tmp_path: Path, reference: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    # A machine with only Python, gcc and pip may lack OpenSSL's headers: the default
    # build still gives a host, but one whose evidence commits to no key, so it attests
    # nothing; asking for OpenSSL explicitly stays an error naming the package.
    monkeypatch.setattr(probe_build, "_has_openssl", lambda compiler: "openssl/evp.h: No such file")
    with pytest.raises(BuildError, match="needs OpenSSL's libcrypto to build: install Debian's libssl-dev"):
        probe_build.build_host(tmp_path / "strict-host", crypto=True)
    host = probe_build.build_host(tmp_path / "host")
    assert "building the probe host without a key" in capfd.readouterr().err
    rp = transport.spawn([str(host), "--probe", str(reference)], timeout=30)
    try:
        assert rp.host_public_key is None
        with pytest.raises(UnsupportedOp, match="has no key"):
            rp.attest(bytes(64))
    finally:
        rp.close()
