"""``teecert keys``: the Ed25519 keys that sign run reports."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _cmd_keys(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..report import keys

    path = Path(a.file)
    pub = keys.generate(path).public_key()
    pub_path = keys.write_public(Path(str(path) + ".pub"), pub)
    print(f"{path}: Ed25519 key {keys.keyid(pub)} (public key for --trust: {pub_path})")
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``teecert keys``."""
    k = sub.add_parser("keys", help="manage signing keys")
    ksub = k.add_subparsers(dest="keys_cmd", required=True)
    kg = ksub.add_parser("generate", help="create an Ed25519 signing key (0600)")
    kg.add_argument("file", metavar="FILE")
    k.set_defaults(func=_cmd_keys)

