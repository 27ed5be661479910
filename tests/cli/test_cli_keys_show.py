"""``teecert keys show``: the key id and public key a validator hands governance.

The key id must be the one reports carry (``keys.keyid``); it is checked here against
an independent computation, SHA-256 of the raw 32 public key bytes, so that the two
cannot drift apart together.  Nothing private may ever be printed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from teecert.report import keys

from conftest import no_traceback, teecert_cli


def _independent_keyid(private: Path) -> str:
    """SHA-256 of the raw public key, computed with cryptography alone."""
    key = load_pem_private_key(private.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _field(out: str, name: str) -> str:
    [line] = [ln for ln in out.splitlines() if ln.startswith(f"{name}: ")]
    return line.removeprefix(f"{name}: ")


def _pem_of(out: str) -> bytes:
    start = out.index("-----BEGIN PUBLIC KEY-----")
    end = out.index("-----END PUBLIC KEY-----") + len("-----END PUBLIC KEY-----")
    return out[start:end].encode() + b"\n"


def test_keys_show_private_key_prints_keyid_pub_path_and_pem(tmp_path: Path) -> None:
    key = tmp_path / "validator.pem"
    gen = teecert_cli(["keys", "generate", str(key)])
    assert gen.code == 0, gen.err
    res = teecert_cli(["keys", "show", str(key)])
    assert res.code == 0, res.err
    assert no_traceback(res.err)
    expected = _independent_keyid(key)
    assert _field(res.out, "key id") == expected
    assert expected in gen.out  # what `keys generate` printed
    assert keys.keyid(keys.load_private(key).public_key()) == expected
    assert _field(res.out, "public key file") == f"{key}.pub"
    assert _pem_of(res.out) == Path(f"{key}.pub").read_bytes()
    pub = load_pem_public_key(_pem_of(res.out))
    assert hashlib.sha256(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest() == expected
    assert "PRIVATE" not in res.out and "PRIVATE" not in res.err
    private_body = "".join(key.read_text().splitlines()[1:-1])
    assert private_body not in res.out.replace("\n", "")


def test_keys_show_public_key_file(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    keys.write_public(Path(f"{key}.pub"), keys.generate(key).public_key())
    res = teecert_cli(["keys", "show", f"{key}.pub"])
    assert res.code == 0, res.err
    assert _field(res.out, "key id") == _independent_keyid(key)
    assert _field(res.out, "public key file") == f"{key}.pub"


def test_keys_show_default_key_and_its_pub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default run key, created as `teecert run` creates it, has its .pub beside
    it; `keys show` without an argument shows that key."""
    config = tmp_path / "config"
    env = {"XDG_CONFIG_HOME": str(config), "TEECERT_KEY": ""}
    missing = teecert_cli(["keys", "show"], env=env)
    assert missing.code == 2 and no_traceback(missing.err)
    path = config / "teecert" / "run-key.pem"
    assert str(path) in missing.err and "keys generate" in missing.err
    assert len(missing.err.strip().splitlines()) == 1
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.delenv("TEECERT_KEY", raising=False)
    keys.load_or_create_default()
    assert Path(f"{path}.pub").is_file()
    res = teecert_cli(["keys", "show"], env=env)
    assert res.code == 0, res.err
    assert _field(res.out, "key id") == _independent_keyid(path)
    assert _field(res.out, "public key file") == f"{path}.pub"


def test_keys_show_says_when_the_pub_beside_is_missing_or_another_key(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    keys.generate(key)
    res = teecert_cli(["keys", "show", str(key)])
    assert res.code == 0, res.err
    assert "does not exist" in _field(res.out, "public key file")
    other = tmp_path / "other.pem"
    keys.write_public(Path(f"{key}.pub"), keys.generate(other).public_key())
    res = teecert_cli(["keys", "show", str(key)])
    assert res.code == 0, res.err
    assert "holds another key" in _field(res.out, "public key file")
    assert _field(res.out, "key id") == _independent_keyid(key)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_keys_show_refuses_a_key_others_can_read(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    key.write_bytes(Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                               NoEncryption()))
    key.chmod(0o644)
    res = teecert_cli(["keys", "show", str(key)])
    assert res.code == 2 and no_traceback(res.err)
    assert "too open" in res.err and "PRIVATE" not in res.out


def test_run_says_which_key_signed(tmp_path: Path, quick_profile: Path, key_file: Path) -> None:
    """The run's one signer line names the key id keys show prints, the one in the
    report's signature, and the .pub to pin."""
    out = tmp_path / "out"
    res = teecert_cli(["run", "--profile", str(quick_profile), "--key", str(key_file), "--out", str(out)],
                      timeout=600)
    assert res.code in (0, 1), res.err[-2000:]
    [line] = [x for x in res.out.splitlines() if x.startswith("signed by:")]
    keyid = _independent_keyid(key_file)
    assert line == f"signed by: Ed25519 key {keyid} (public key for --trust: {key_file}.pub)"
    [report] = out.glob("teecert-report-*.json")
    assert [s["keyid"] for s in json.loads(report.read_text())["signatures"]] == [keyid]
    shown = teecert_cli(["keys", "show", str(key_file)])
    assert _field(shown.out, "key id") == keyid
