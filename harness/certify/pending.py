"""A run waiting for attestation evidence obtained out of band.

``teecert run --print-report-data`` runs the suites, then, instead of asking the
probe for evidence, writes the unsigned report parts here (mode 0600) and states the
64 bytes of report data they bind (``attestation.binding``).  The operator has the
TEE attest those bytes by whatever means the platform offers, and
``teecert run --evidence FILE --pending PENDING`` finishes the report: the evidence
is verified and validated against the same binding, then the report is signed with
the same key and written; the pending file is removed.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .._internal import canonical
from .._internal.atomic import write_atomic
from .._internal.timefmt import format_time
from ..attestation import binding, run_evidence
from ..errors import MalformedInput, UsageError
from ..profile import from_document
from ..report import keys
from ..report import statement as report

FORMAT = "teecert-pending/1"
PARTS = ("harness", "run", "vector_set", "probe", "environment", "results")


def write(out_dir: Path, *, parts: dict[str, Any], profile_doc: dict[str, Any], signer_public_key: str) -> tuple[Path, bytes]:
    """Write the pending run; return its path and the report data to attest."""
    rd = binding.report_data(nonce=parts["run"]["nonce"], results=parts["results"],
                             signer_public_key=signer_public_key, transcripts=parts["probe"]["transcripts"])
    doc = {"format": FORMAT, "parts": parts, "profile": profile_doc, "signer_public_key": signer_public_key,
           "report_data": rd.hex()}
    path = out_dir / f"teecert-pending-{parts['run']['id']}.json"
    write_atomic(path, canonical.dumps(doc), mode=0o600)
    return path, rd


def load(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot read the pending run ({e.strerror})") from None
    doc = canonical.loads(raw, str(path))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise MalformedInput(f"{path}: not a pending teecert run (field 'format' must be {FORMAT!r})")
    for k in ("parts", "profile", "signer_public_key", "report_data"):
        if k not in doc:
            raise MalformedInput(f"{path}: missing field {k!r}")
    if not isinstance(doc["parts"], dict) or any(p not in doc["parts"] for p in PARTS):
        raise MalformedInput(f"{path}: field 'parts' must hold {', '.join(PARTS)}")
    return doc


def finish(path: Path, *, key: Ed25519PrivateKey, data: bytes, fmt: str, certs: list[bytes],
           collateral: bytes | None, out_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Verify out-of-band evidence against a pending run and write the signed report."""
    doc = load(path)
    pub = keys.public_raw_b64(key.public_key())
    if pub != doc["signer_public_key"]:
        raise UsageError(f"{path}: the pending run is bound to another signing key; pass the --key it was run with")
    parts = doc["parts"]
    rd = binding.report_data(nonce=parts["run"]["nonce"], results=parts["results"], signer_public_key=pub,
                             transcripts=parts["probe"]["transcripts"])
    if rd.hex() != doc["report_data"]:
        raise MalformedInput(f"{path}: field 'report_data' is not the binding of its parts (edited?)")
    profile = from_document(doc["profile"], f"{path}: profile")
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    att, row = run_evidence.from_evidence(profile_data=profile.data, report_data=rd, data=data, fmt=fmt,
                                          certs=certs, collateral=collateral, now=now)
    results = [r for r in parts["results"] if r["id"] != row["id"]] + [row]
    statement = report.build_statement(
        harness=parts["harness"], run={**parts["run"], "finished": format_time(now)}, profile=profile,
        vector_set=parts["vector_set"], probe=parts["probe"], environment=parts["environment"],
        results=results, signer_pub=key.public_key(), attestation=att, now=now,
    )
    out = report.write_report(out_dir, report.sign_statement(statement, key), statement)
    path.unlink()
    return out, statement
