"""Ed25519 signing keys for run reports, and the trusted keys a verifier pins.

A run key is an unencrypted PKCS#8 PEM file with mode 0600: it is created on first
use inside the machine being certified, so there is nobody to type a passphrase, and
the file permissions are its protection.  That is why a key readable or writable by
anyone but its owner is refused rather than used.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from .._internal import dsse
from .._internal.atomic import remove_stale_temporaries, write_atomic
from .._internal.files import read_input
from ..errors import MalformedInput, UsageError

ENV_KEY = "TEECERT_KEY"
_PEM_PUBLIC = b"-----BEGIN PUBLIC KEY-----"
_PEM_END_PUBLIC = b"-----END PUBLIC KEY-----"


def keyid(pub: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the raw 32-byte public key: the key id in envelopes and reports."""
    return dsse.keyid_of(pub)


def public_raw_b64(pub: Ed25519PublicKey) -> str:
    """The raw 32-byte public key in standard base64 (the report's ``signer.public_key``)."""
    return base64.b64encode(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def public_from_raw_b64(text: str, where: str) -> Ed25519PublicKey:
    """The inverse of ``public_raw_b64``; ``MalformedInput`` naming ``where`` otherwise."""
    raw = dsse.b64decode(text, where)
    if len(raw) != 32:
        raise MalformedInput(f"{where}: an Ed25519 public key is 32 bytes, not {len(raw)}")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise MalformedInput(f"{where}: not an Ed25519 public key") from None


def public_pem(pub: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of ``pub``, the format ``load_trusted`` reads."""
    return pub.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def write_public(path: Path, pub: Ed25519PublicKey) -> Path:
    """Write ``pub`` as PEM (mode 0644) for others to pin with ``--trust``."""
    return write_atomic(path, public_pem(pub), 0o644)


def public_path_of(path: Path) -> Path:
    """``KEY.pub``: where the public half of the key file ``path`` goes (``keys generate``,
    the default run key) for a verifier to pin with ``--trust``."""
    return Path(str(path) + ".pub")


def public_keys_of(path: Path) -> tuple[list[Ed25519PublicKey], bool]:
    """The public key(s) of a key file, and whether the file held a private key.

    A private key is loaded as ``load_private`` loads a run key (0600, Ed25519, not
    encrypted), so what ``teecert keys show`` prints is the key a run would sign with;
    a public key file may hold several PEM blocks, as a trust list does.  Only public
    material leaves this function.
    """
    data = read_input(path, "key", limit=1 << 20)
    if b"PRIVATE KEY-----" in data:
        return [load_private(path).public_key()], True
    return list(_load_public_file(path).values()), False


def default_key_path() -> Path:
    """``$TEECERT_KEY``, else ``$XDG_CONFIG_HOME/teecert/run-key.pem`` (``~/.config`` by default)."""
    env = os.environ.get(ENV_KEY)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "teecert" / "run-key.pem"


def generate(path: Path, *, overwrite: bool = False) -> Ed25519PrivateKey:
    """Create a new Ed25519 key at ``path`` (PKCS#8 PEM, unencrypted, mode 0600).

    An existing file is refused unless ``overwrite``: replacing a key silently would
    orphan every report it signed.  Missing parent folders are created 0700.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise UsageError(f"{path}: already exists; refusing to overwrite a key")
    if not path.parent.exists():
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"{path.parent}: cannot create the key folder ({e.strerror})") from None
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    write_atomic(path, pem, 0o600, overwrite=overwrite)
    return key


def load_private(path: Path) -> Ed25519PrivateKey:
    """Load a run key, refusing one that others can read or write, or that is not Ed25519."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such key file; create one with `teecert keys generate {path}`") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read the key ({e.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{path}: not a regular file")
    mode = stat.S_IMODE(st.st_mode)
    if os.name == "posix" and mode & 0o077:
        raise UsageError(f"{path}: permissions {mode:04o} are too open; chmod 600 {path}")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot read the key ({e.strerror})") from None
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:
        raise MalformedInput(f"{path}: the key is encrypted; teecert run keys are unencrypted PEM") from None
    except ValueError:
        raise MalformedInput(f"{path}: not a PEM private key") from None
    except UnsupportedAlgorithm:
        raise MalformedInput(f"{path}: a private key of an unsupported type; teecert signs with Ed25519") from None
    if not isinstance(key, Ed25519PrivateKey):
        kind = type(key).__name__.removeprefix("_").removesuffix("PrivateKey")
        raise MalformedInput(f"{path}: an {kind} key, not Ed25519; teecert signs with Ed25519")
    return key


def load_or_create_default() -> Ed25519PrivateKey:
    """The default run key, created (0600) on first use, with its public key beside it
    (``run-key.pem.pub``: what a verifier pins with ``--trust``)."""
    path = default_key_path()
    remove_stale_temporaries(path)
    if not path.exists():
        try:
            key = generate(path)
        except UsageError:
            if not path.exists():
                raise
            # Another run created it between our check and our write: use theirs.
        else:
            write_public(public_path_of(path), key.public_key())
            return key
    key = load_private(path)
    pub = public_path_of(path)
    if not pub.exists():
        write_public(pub, key.public_key())
    return key


def _pem_blocks(data: bytes) -> list[bytes]:
    blocks: list[bytes] = []
    rest = data
    while True:
        start = rest.find(_PEM_PUBLIC)
        if start < 0:
            return blocks
        end = rest.find(_PEM_END_PUBLIC, start)
        if end < 0:
            blocks.append(rest[start:])  # let the loader report the truncated block
            return blocks
        end += len(_PEM_END_PUBLIC)
        blocks.append(rest[start:end] + b"\n")
        rest = rest[end:]


def _load_public_file(path: Path) -> dict[str, Ed25519PublicKey]:
    data = read_input(path, "trusted key", limit=1 << 20)
    if b"PRIVATE KEY-----" in data:
        raise UsageError(f"{path}: holds a private key; trust lists take public keys only")
    blocks = _pem_blocks(data)
    if not blocks:
        raise MalformedInput(f"{path}: no PEM public key (-----BEGIN PUBLIC KEY-----) found")
    out: dict[str, Ed25519PublicKey] = {}
    for i, block in enumerate(blocks):
        try:
            pub = load_pem_public_key(block)
        except ValueError:
            raise MalformedInput(f"{path}: public key #{i + 1} is not valid PEM") from None
        except UnsupportedAlgorithm:
            raise MalformedInput(f"{path}: public key #{i + 1} is of an unsupported type") from None
        if not isinstance(pub, Ed25519PublicKey):
            raise MalformedInput(f"{path}: public key #{i + 1} is not Ed25519")
        out[keyid(pub)] = pub
    return out


def load_trusted(path: Path) -> dict[str, Ed25519PublicKey]:
    """Trusted signer keys: a PEM file (one or more keys) or a folder of such files.

    In a folder every regular, non-hidden file is read, in name order; a file that
    is not a public key is an error rather than skipped, so a typo cannot silently
    shrink the trust list.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise UsageError(f"{path}: folder holds no public key files")
    elif path.exists():
        files = [path]  # read_input refuses anything but a regular file
    else:
        raise UsageError(f"{path}: no such file or folder of trusted keys")
    trusted: dict[str, Ed25519PublicKey] = {}
    for f in files:
        trusted.update(_load_public_file(f))
    return trusted

