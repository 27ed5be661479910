"""Signing keys (0600, Ed25519 only), trusted-key lists, and atomic writes."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from teecert._internal import atomic
from teecert.errors import MalformedInput, UsageError
from teecert.report import keys

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# -- generate / load_private -------------------------------------------------------------


@posix_only
def test_generate_writes_unencrypted_pkcs8_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "key.pem"
    key = keys.generate(path)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    text = path.read_text()
    assert text.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, not encrypted
    loaded = keys.load_private(path)
    assert keys.keyid(loaded.public_key()) == keys.keyid(key.public_key())
    assert [p.name for p in path.parent.iterdir()] == ["key.pem"]  # no temp file left


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    first = keys.generate(path)
    with pytest.raises(UsageError, match="already exists; refusing to overwrite a key"):
        keys.generate(path)
    assert keys.keyid(keys.load_private(path).public_key()) == keys.keyid(first.public_key())
    second = keys.generate(path, overwrite=True)
    assert keys.keyid(keys.load_private(path).public_key()) == keys.keyid(second.public_key())


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o660])
def test_load_private_refuses_keys_others_can_access(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "key.pem"
    keys.generate(path)
    path.chmod(mode)
    with pytest.raises(UsageError) as e:
        keys.load_private(path)
    assert str(e.value) == f"{path}: permissions {mode:04o} are too open; chmod 600 {path}"


@posix_only
def test_load_private_accepts_0400(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    keys.generate(path)
    path.chmod(0o400)
    keys.load_private(path)


def _write_0600(path: Path, data: bytes) -> Path:
    atomic.write_atomic(path, data, 0o600)
    return path


def test_load_private_refuses_other_key_types_and_garbage(tmp_path: Path) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = ec_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    with pytest.raises(MalformedInput, match=r"ec\.pem: an EC key, not Ed25519"):
        keys.load_private(_write_0600(tmp_path / "ec.pem", pem))
    with pytest.raises(MalformedInput, match=r"junk\.pem: not a PEM private key"):
        keys.load_private(_write_0600(tmp_path / "junk.pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n"))
    enc = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                     BestAvailableEncryption(b"pw"))
    with pytest.raises(MalformedInput, match=r"enc\.pem: the key is encrypted"):
        keys.load_private(_write_0600(tmp_path / "enc.pem", enc))
    with pytest.raises(UsageError, match="no such key file"):
        keys.load_private(tmp_path / "missing.pem")


def test_default_key_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEECERT_KEY", str(tmp_path / "k.pem"))
    assert keys.default_key_path() == tmp_path / "k.pem"
    monkeypatch.delenv("TEECERT_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert keys.default_key_path() == tmp_path / "cfg" / "teecert" / "run-key.pem"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert keys.default_key_path() == tmp_path / "home" / ".config" / "teecert" / "run-key.pem"


@posix_only
def test_load_or_create_default_creates_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TEECERT_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    first = keys.load_or_create_default()
    path = tmp_path / "teecert" / "run-key.pem"
    assert _mode(path) == 0o600
    assert keys.keyid(keys.load_or_create_default().public_key()) == keys.keyid(first.public_key())
    # the public key a verifier pins (--trust) is written beside it
    assert keys.keyid(next(iter(keys.load_trusted(Path(f"{path}.pub")).values()))) == keys.keyid(first.public_key())


@posix_only
def test_a_key_left_by_a_killed_first_run_is_cleaned_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A run killed while writing its new key leaves the whole private key in a
    temporary file; the next start removes it (a young one may be another run's write)."""
    monkeypatch.delenv("TEECERT_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    folder = tmp_path / "teecert"
    folder.mkdir()
    stale = folder / ".run-key.pem.k1ll3d.tmp"
    young = folder / ".run-key.pem.wr1t1n.tmp"
    for f in (stale, young):
        f.write_bytes(Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    keys.load_or_create_default()
    assert not stale.exists() and young.exists()
    assert (folder / "run-key.pem").exists()


# -- public keys -------------------------------------------------------------------------


def test_public_key_encodings() -> None:
    pub = Ed25519PrivateKey.generate().public_key()
    raw = pub.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert keys.keyid(pub) == hashlib.sha256(raw).hexdigest()
    b64 = keys.public_raw_b64(pub)
    assert base64.b64decode(b64) == raw and len(b64) == 44
    assert keys.keyid(keys.public_from_raw_b64(b64, "r")) == keys.keyid(pub)
    with pytest.raises(MalformedInput, match="32 bytes, not 31"):
        keys.public_from_raw_b64(base64.b64encode(raw[:31]).decode(), "r")


def test_load_trusted_file_with_two_keys_and_folder(tmp_path: Path) -> None:
    a, b, c = (Ed25519PrivateKey.generate().public_key() for _ in range(3))
    both = tmp_path / "both.pem"
    both.write_bytes(b"# governance signers\n" + keys.public_pem(a) + keys.public_pem(b))
    assert set(keys.load_trusted(both)) == {keys.keyid(a), keys.keyid(b)}
    folder = tmp_path / "trust"
    folder.mkdir()
    keys.write_public(folder / "a.pem", a)
    keys.write_public(folder / "c.pem", c)
    (folder / ".hidden").write_text("ignored")
    assert set(keys.load_trusted(folder)) == {keys.keyid(a), keys.keyid(c)}


def test_load_trusted_refuses_what_is_not_an_ed25519_public_key(tmp_path: Path) -> None:
    priv = tmp_path / "priv.pem"
    keys.generate(priv)
    with pytest.raises(UsageError, match="holds a private key"):
        keys.load_trusted(priv)
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    with pytest.raises(MalformedInput, match="no PEM public key"):
        keys.load_trusted(empty)
    ec_pub = tmp_path / "ec.pem"
    ec_pub.write_bytes(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(MalformedInput, match=r"ec\.pem: public key #1 is not Ed25519"):
        keys.load_trusted(ec_pub)
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    with pytest.raises(MalformedInput, match="not valid PEM"):
        keys.load_trusted(broken)
    with pytest.raises(UsageError, match="no such file"):
        keys.load_trusted(tmp_path / "nope")


# -- atomic writes -------------------------------------------------------------------------


@posix_only
def test_write_atomic_mode_and_no_leftovers(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    atomic.write_atomic(path, b"one", 0o644)
    atomic.write_atomic(path, b"two", 0o640)
    assert path.read_bytes() == b"two"
    assert _mode(path) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_write_atomic_without_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    atomic.write_atomic(path, b"one", overwrite=False)
    with pytest.raises(UsageError, match="already exists"):
        atomic.write_atomic(path, b"two", overwrite=False)
    assert path.read_bytes() == b"one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.json"
    atomic.write_atomic(path, b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(UsageError, match="cannot write"):
        atomic.write_atomic(path, b"new data that never lands")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_write_atomic_refuses_non_bytes(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        atomic.write_atomic(tmp_path / "x", "text")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
