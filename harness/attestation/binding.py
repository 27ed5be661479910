"""Binding a run report to attestation evidence.

The 64 bytes of report data the TEE attests are

    SHA-512( RFC 8785 JSON of the *bound view* of the run's in-toto statement )

where the bound view is the whole statement with only what the evidence itself
decides left out:

* ``predicate.attestation`` becomes ``{"binding": "teecert-binding-v2",
  "collection": "probe" | "file"}`` (how the evidence was to be obtained: from the
  probe during the run, or out of band for a pending run); the evidence, its
  certificates and collateral, the verified record, the failures and the error are
  left out, because they do not exist before the report data does;
* the result row ``attestation::evidence`` is left out (its outcome is the outcome
  of that evidence);
* ``predicate.summary`` and ``predicate.verdict`` are left out (they count and judge
  the results, that row included).

Everything else is bound: the subjects, the environment fingerprint and its digest,
the probe and its transcripts, the run (nonce, times), the validity period, the
profile document, the vector set, the harness version and source digest, every other
result row and the signer's key.  A verifier recomputes the view from the report and
compares; the parts left out are not believed either: the verifier re-derives them
from the embedded evidence (``run_evidence.check_report``) and from the results
(``verify``), and refuses a report whose recorded values differ.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from typing import Any

from .._internal import canonical, hostattest
from . import EVIDENCE_RESULT_ID

BINDING = "teecert-binding-v2"
ATTESTATION_SUITE = "attestation"
COLLECTIONS = ("probe", "file")

# Result rows, summary and verdict are derived by the verifier; the rest of the
# attestation section comes from the evidence.
_DERIVED = ("summary", "verdict")


def collection_of(attestation: Mapping[str, Any]) -> str:
    """How an attestation section's evidence was to be obtained."""
    return "file" if attestation.get("source") == "file" else "probe"


def bound_view(statement: Mapping[str, Any], collection: str) -> dict[str, Any]:
    """The part of ``statement`` the report data commits to (module docstring)."""
    if collection not in COLLECTIONS:
        raise ValueError(f"collection must be one of {COLLECTIONS}")
    view = copy.deepcopy(dict(statement))
    pred = dict(view["predicate"])
    for k in _DERIVED:
        pred.pop(k, None)
    pred["results"] = [r for r in pred["results"] if r.get("id") != EVIDENCE_RESULT_ID]
    pred["attestation"] = {"binding": BINDING, "collection": collection}
    view["predicate"] = pred
    return view


def report_data(statement: Mapping[str, Any], collection: str) -> bytes:
    """The 64 bytes of report data binding ``statement`` (module docstring)."""
    return hashlib.sha512(canonical.dumps(bound_view(statement, collection))).digest()


HOST_ATTEST_CONTEXT = hostattest.ATTEST_LABEL


def host_report_data(host_public_key: bytes, report_data: bytes) -> bytes:
    """What a probe host attests for ``report_data``: it never attests a client's
    64 bytes as they are, but ``SHA-512(context || host key || report data)``, so the
    evidence also commits to the key the host signs its transcripts with and a peer
    cannot use the host as an oracle for arbitrary report data."""
    return hostattest.wrap_report_data(host_public_key, report_data)
