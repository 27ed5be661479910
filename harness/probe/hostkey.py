"""The probe host's key and token, computed independently of the host's C
(``native/host/hostkey_openssl.c``), so tests can hold one against the other and a
verifier can check what a report says the host signed (docs/wire-protocol.md,
"Authentication" and "The host key").

* Authentication: the client answers the host's 32-byte challenge with
  ``HMAC-SHA256(token, nonce || "teecert-host-auth-v1")`` (:func:`auth_proof`).
* Attestation: a host never attests the client's 64 bytes directly but
  ``SHA-512("teecert-host-attest-v1\\0" || host public key (32) || report data (64))``
  (:func:`wrap_report_data`), so the evidence commits to the host's key.
* Transcripts: the host signs ``"teecert-host-transcript-v1\\0" || hash (32) ||
  calls (u64 LE)`` (:func:`transcript_message`) with its Ed25519 key; a report keeps
  the signature next to each transcript (:func:`check_report_host`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .._internal import hostattest
from ..errors import MalformedInput, NotAuthentic, UsageError

AUTH_LABEL = b"teecert-host-auth-v1"
ATTEST_LABEL = hostattest.ATTEST_LABEL
TRANSCRIPT_LABEL = b"teecert-host-transcript-v1\0"

#: Bytes of a host's challenge, of an Ed25519 public key and signature.
NONCE_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES = 32, 32, 64

#: A token's length, in bytes, after trailing CR and LF are dropped.
TOKEN_MIN, TOKEN_MAX = 32, 4096

#: The environment variable both the host and the client read a token from.
TOKEN_ENV = "TEECERT_HOST_TOKEN"

#: ``probe.host.facts_source`` of a report whose environment fingerprint the probe
#: host reported.
FACTS_SOURCE = "probe-host"


# ----------------------------------------------------------------------- token


def _token_of(data: bytes, where: str) -> bytes:
    token = data.rstrip(b"\r\n")
    if len(token) < TOKEN_MIN:
        raise UsageError(f"{where}: the token has {len(token)} bytes, at least {TOKEN_MIN} are needed")
    if len(token) > TOKEN_MAX:
        raise UsageError(f"{where}: the token has {len(token)} bytes, at most {TOKEN_MAX} are allowed")
    return token


def load_token(path: str | os.PathLike[str] | None = None,
               environ: Mapping[str, str] | None = None) -> bytes | None:
    """The probe host token: the file ``path`` (a regular file others cannot read,
    like teecert's keys), else ``$TEECERT_HOST_TOKEN``, else None.  Trailing CR and
    LF are not part of it; it must have 32 to 4096 bytes."""
    if path is not None:
        p = Path(path)
        where = f"--probe-token-file {p}"
        try:
            fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            raise UsageError(f"{where}: cannot read ({e.strerror or type(e).__name__})") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise UsageError(f"{where}: not a regular file")
            if os.name == "posix" and stat.S_IMODE(st.st_mode) & 0o077:
                raise UsageError(f"{where}: readable by others (mode {stat.S_IMODE(st.st_mode):04o}): "
                                 "chmod 600 it")
            if st.st_size > TOKEN_MAX + 2:
                raise UsageError(f"{where}: {st.st_size} bytes, a token has at most {TOKEN_MAX}")
            data = os.read(fd, TOKEN_MAX + 3)
        finally:
            os.close(fd)
        return _token_of(data, where)
    env = os.environ if environ is None else environ
    value = env.get(TOKEN_ENV)
    if not value:
        return None
    return _token_of(value.encode("utf-8", "surrogateescape"), TOKEN_ENV)


def auth_proof(token: bytes, nonce: bytes) -> bytes:
    """The client's answer to a host challenge: HMAC-SHA256(token, nonce || label)."""
    if len(nonce) != NONCE_BYTES:
        raise UsageError(f"a host challenge has {NONCE_BYTES} bytes, not {len(nonce)}")
    return hmac.new(token, bytes(nonce) + AUTH_LABEL, hashlib.sha256).digest()


# ------------------------------------------------------------------- formulas


def wrap_report_data(host_public_key_raw: bytes, report_data: bytes) -> bytes:
    """The 64 bytes a probe host attests for a client's ``report_data``:
    SHA-512("teecert-host-attest-v1\\0" || host public key || report data)."""
    if len(host_public_key_raw) != PUBLIC_KEY_BYTES:
        raise UsageError(f"a host public key has {PUBLIC_KEY_BYTES} bytes, not {len(host_public_key_raw)}")
    if len(report_data) != 64:
        raise UsageError(f"report data must be 64 bytes, not {len(report_data)}")
    return hostattest.wrap_report_data(bytes(host_public_key_raw), bytes(report_data))


def transcript_message(hash_hex: str, calls: int) -> bytes:
    """What a probe host signs for a transcript: the label, the 32 raw bytes of the
    transcript hash, the number of calls as u64 little-endian."""
    try:
        raw = bytes.fromhex(hash_hex)
    except (ValueError, TypeError):
        raise MalformedInput(f"transcript hash {hash_hex!r} is not hex") from None
    if len(raw) != 32:
        raise MalformedInput(f"transcript hash has {len(raw)} bytes, not 32")
    if not isinstance(calls, int) or isinstance(calls, bool) or not 0 <= calls < 1 << 64:
        raise MalformedInput(f"transcript calls {calls!r} is not a u64")
    return TRANSCRIPT_LABEL + raw + calls.to_bytes(8, "little")


def _b64(value: Any, size: int, what: str, where: str) -> bytes:
    if not isinstance(value, str):
        raise NotAuthentic(f"{where}: {what} is missing or not a string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise NotAuthentic(f"{where}: {what} is not base64") from None
    if len(raw) != size:
        raise NotAuthentic(f"{where}: {what} has {len(raw)} bytes, not {size}")
    return raw


def public_key_of(public_key_b64: str, where: str) -> Ed25519PublicKey:
    """The Ed25519 public key of its base64 raw form, or NotAuthentic naming ``where``."""
    raw = _b64(public_key_b64, PUBLIC_KEY_BYTES, "probe host public key", where)
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise NotAuthentic(f"{where}: probe host public key is not an Ed25519 key") from None


def verify_transcript_signature(public_key_b64: str, transcript: Mapping[str, Any], where: str) -> None:
    """Check ``transcript["host_signature"]`` (base64) over ``transcript["hash"]`` and
    ``transcript["calls"]`` with the host key; NotAuthentic, one line naming ``where``."""
    key = public_key_of(public_key_b64, where)
    sig = _b64(transcript.get("host_signature"), SIGNATURE_BYTES, "host_signature", where)
    try:
        message = transcript_message(transcript.get("hash"), transcript.get("calls"))  # type: ignore[arg-type]
    except MalformedInput as e:
        raise NotAuthentic(f"{where}: {e}") from None
    try:
        key.verify(sig, message)
    except InvalidSignature:
        raise NotAuthentic(f"{where}: the probe host's signature of the transcript does not verify") from None


# --------------------------------------------------------------------- reports


def check_report_host(pred: Mapping[str, Any], where: str) -> list[str]:
    """Check the probe host's co-signatures of a report predicate's transcripts and
    return notes for a reader.

    With ``probe.host.public_key``, every transcript must carry a ``host_signature``
    that verifies under its ``host_public_key`` when it has one (a child-process
    transport starts one host, with its own key, per harness process), else under
    ``probe.host.public_key``; a transcript signed by another key than
    ``probe.host.public_key`` is accepted only for the child-process transport.
    Without ``probe.host`` (an in-process probe, or a report from before host keys),
    no transcript may claim a host signature.  Raises NotAuthentic, one line naming
    ``where`` and the worker.
    """
    probe = pred.get("probe")
    if not isinstance(probe, Mapping):
        raise NotAuthentic(f"{where}: predicate.probe is missing")
    transcripts = probe.get("transcripts")
    if not isinstance(transcripts, list):
        raise NotAuthentic(f"{where}: predicate.probe.transcripts is missing")
    host = probe.get("host")
    signed = [t for t in transcripts if isinstance(t, Mapping) and "host_signature" in t]
    if host is None:
        if signed:
            raise NotAuthentic(f"{where}: transcripts claim a probe host signature but "
                               "predicate.probe.host is missing")
        return []
    if not isinstance(host, Mapping):
        raise NotAuthentic(f"{where}: predicate.probe.host is not an object")
    notes = []
    if host.get("facts_source") == FACTS_SOURCE:
        notes.append("environment facts reported by the probe host (the machine the probe ran on); "
                     "the harness machine's are in environment.harness")
    public = host.get("public_key")
    if public is None:
        if signed:
            raise NotAuthentic(f"{where}: transcripts claim a probe host signature but the probe "
                               "host has no public key")
        notes.append("the probe host has no key (built without OpenSSL): its transcripts are not co-signed")
        return notes
    public_key_of(public, f"{where}: predicate.probe.host")
    run = pred.get("run")
    transport = run.get("transport") if isinstance(run, Mapping) else None
    own_keys = 0
    for i, t in enumerate(transcripts):
        if not isinstance(t, Mapping):
            raise NotAuthentic(f"{where}: predicate.probe.transcripts[{i}] is not an object")
        at = f"{where}: transcript of worker {t.get('worker', i)}"
        if "host_signature" not in t:
            raise NotAuthentic(f"{at}: no probe host signature (the report names a probe host key)")
        key = t.get("host_public_key", public)
        if key != public:
            if transport != "child-process":
                raise NotAuthentic(f"{at}: signed by another probe host key than "
                                   "predicate.probe.host.public_key")
            own_keys += 1
        verify_transcript_signature(key, t, at)
    if own_keys:
        notes.append(f"{len(transcripts)} transcripts co-signed by their probe hosts; {own_keys} by a "
                     "host of their own harness process (child-process transport), not the host "
                     "whose key the evidence commits to")
    else:
        notes.append(f"{len(transcripts)} transcripts co-signed by the probe host key "
                     f"{public[:16]}...")
    return notes
