"""``teecert keys``: the Ed25519 keys that sign run reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import TeecertError, UsageError
from .common import printable


def _cmd_generate(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..report import keys

    path = Path(a.file)
    pub = keys.generate(path).public_key()
    pub_path = keys.write_public(keys.public_path_of(path), pub)
    print(f"{path}: Ed25519 key {keys.keyid(pub)} (public key for --trust: {pub_path})")
    return 0


def _cmd_show(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..report import keys

    if a.key is not None:
        path = Path(a.key)
    else:
        path = keys.default_key_path()
        if not path.exists():
            raise UsageError(f"{path}: no default run key yet; `teecert run` creates it on first use, "
                             f"or create it now with `teecert keys generate {path}`")
    pubs, private = keys.public_keys_of(path)
    if private:
        pub = pubs[0]
        beside = keys.public_path_of(path)
        print(printable(f"key: {path} (Ed25519 private key; only its public half is shown)"))
        print(f"key id: {keys.keyid(pub)}")
        print(printable(f"public key file: {_state_of(beside, pub)}"))
        sys.stdout.write(keys.public_pem(pub).decode("ascii"))
        return 0
    for i, pub in enumerate(pubs):
        if i:
            print()
        print(printable(f"key: {path} (Ed25519 public key" + (f" {i + 1} of {len(pubs)})" if len(pubs) > 1 else ")")))
        print(f"key id: {keys.keyid(pub)}")
        print(printable(f"public key file: {path}"))
        sys.stdout.write(keys.public_pem(pub).decode("ascii"))
    return 0


def _state_of(beside: Path, pub: Any) -> str:
    """What the ``.pub`` beside a private key holds, as the line that names it says it."""
    # imported when the command runs, so that `teecert` starts without it
    from ..report import keys

    if not beside.exists():
        return f"none ({beside} does not exist; save the PEM below there to hand it over)"
    try:
        there = keys.load_trusted(beside)
    except TeecertError as e:
        return f"{beside} is not a public key file ({e}); save the PEM below there instead"
    if list(there) != [keys.keyid(pub)]:
        return f"{beside} holds another key ({', '.join(there)}); do not hand it over: save the PEM below there"
    return str(beside)


def add_parsers(sub: Any) -> None:
    """Register ``teecert keys``."""
    k = sub.add_parser("keys", help="manage signing keys")
    ksub = k.add_subparsers(dest="keys_cmd", required=True)
    kg = ksub.add_parser("generate", help="create an Ed25519 signing key (0600)")
    kg.add_argument("file", metavar="FILE")
    kg.set_defaults(func=_cmd_generate)
    ks = ksub.add_parser("show", help="print a key's id and public key (PEM): what governance pins")
    ks.add_argument("key", metavar="KEY", nargs="?",
                    help="private or public key file (default: the default run key, "
                         "$TEECERT_KEY or ~/.config/teecert/run-key.pem)")
    ks.set_defaults(func=_cmd_show)
