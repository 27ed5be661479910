"""Binding a run report to attestation evidence.

The 64 bytes of report data the TEE attests are

    SHA-512( RFC 8785 JSON of {
        "binding": "teecert-binding-v1",
        "nonce": <run nonce, hex>,
        "results": <SHA-256 hex of the RFC 8785 JSON of the results list,
                    without the attestation suite's own results>,
        "signer": <base64 of the raw Ed25519 public key that signs the report>,
        "transcripts": [<{"calls", "hash", "worker"} of every probe session, by worker>]
    })

so evidence commits to this run (nonce), to exactly these results and the probe's
transcripts of them, and to the key that signs the report: a verifier recomputes it
from the report and compares it with the report data inside the evidence.  Edited
results, a report signed by another key, or evidence replayed from another run all
give other bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from .._internal import canonical

BINDING = "teecert-binding-v1"
ATTESTATION_SUITE = "attestation"


def results_digest(results: Iterable[Mapping[str, Any]]) -> str:
    rows = sorted((dict(r) for r in results if r.get("suite") != ATTESTATION_SUITE), key=lambda r: str(r.get("id")))
    return hashlib.sha256(canonical.dumps(rows)).hexdigest()


def report_data(*, nonce: str, results: Iterable[Mapping[str, Any]], signer_public_key: str,
                transcripts: Iterable[Mapping[str, Any]]) -> bytes:
    """The 64 bytes of report data for a run (see the module docstring)."""
    doc = {
        "binding": BINDING,
        "nonce": nonce,
        "results": results_digest(results),
        "signer": signer_public_key,
        "transcripts": sorted(
            ({"calls": int(t["calls"]), "hash": str(t["hash"]), "worker": str(t["worker"])} for t in transcripts),
            key=lambda t: str(t["worker"]),
        ),
    }
    return hashlib.sha512(canonical.dumps(doc)).digest()
