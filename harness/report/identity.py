"""The platform-environment identity: which fingerprint facts define the pair a
report certifies, and the digest over them (the statement's subject
``platform-environment``).  The run computes it when it writes a report and the
verifier recomputes it from the recorded fingerprint, so a report cannot name one
platform in its subject and describe another."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from .._internal import canonical

#: Fingerprint fields that make up the identity digest (see docs/report-format.md).
IDENTITY_FIELDS = (
    "arch",
    "cpu_model",
    "cpu_flags_digest",
    "microcode",
    "kernel",
    "libc",
    "probe_compiler",
    "probe_cflags",
    "probe_digest",
)


def identity_digest(fp: Mapping[str, Any]) -> str:
    """SHA-256 of the RFC 8785 form of the identity fields of ``fp`` (absent: "")."""
    ident = {k: fp.get(k, "") for k in IDENTITY_FIELDS}
    return hashlib.sha256(canonical.dumps(ident)).hexdigest()
