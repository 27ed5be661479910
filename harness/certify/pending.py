"""A run waiting for attestation evidence obtained out of band.

``teecert run --print-report-data`` runs the suites, then, instead of asking the
probe for evidence, writes the unsigned statement here (mode 0600) and states the
64 bytes of report data it binds (``attestation.binding``).  The operator has the
TEE attest those bytes by whatever means the platform offers, and
``teecert run --evidence FILE --pending PENDING`` finishes the report: the evidence
is verified and validated against the same binding, then the report is signed with
the same key and written; the pending file is removed.  The report is dated by the
run's finish, not by when the evidence came; evidence that comes later than the
profile's maximum evidence age is refused.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .._internal import canonical
from .._internal.atomic import write_atomic
from .._internal.files import read_input
from .._internal.timefmt import format_time, parse_time
from ..attestation import run_evidence
from ..errors import MalformedInput, UsageError
from ..profile import from_document
from ..report import keys
from ..report import statement as report

FORMAT = "teecert-pending/2"


def write(out_dir: Path, *, statement: dict[str, Any], profile_doc: dict[str, Any]) -> tuple[Path, bytes]:
    """Write the pending run (its unsigned statement); return its path and the report
    data the evidence must carry."""
    rd = run_evidence.evidence_report_data(statement, run_evidence.pending_report_data(statement), "pending run")
    doc = {"format": FORMAT, "statement": statement, "profile": profile_doc, "report_data": rd.hex()}
    path = out_dir / f"teecert-pending-{statement['predicate']['run']['id']}.json"
    write_atomic(path, canonical.dumps(doc), mode=0o600)
    return path, rd


def load(path: Path) -> dict[str, Any]:
    raw = read_input(path, "pending run")
    doc = canonical.loads(raw, str(path))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise MalformedInput(f"{path}: not a pending teecert run (field 'format' must be {FORMAT!r})")
    for k in ("statement", "profile", "report_data"):
        if k not in doc:
            raise MalformedInput(f"{path}: missing field {k!r}")
    st = doc["statement"]
    if not (isinstance(st, dict) and isinstance(st.get("predicate"), dict)):
        raise MalformedInput(f"{path}: field 'statement' must be an unsigned run statement")
    return doc


def finish(path: Path, *, key: Ed25519PrivateKey, data: bytes, fmt: str, certs: list[bytes],
           collateral: bytes | None, out_dir: Path,
           now: _dt.datetime | None = None) -> tuple[Path, dict[str, Any]]:
    """Verify out-of-band evidence against a pending run and write the signed report."""
    doc = load(path)
    statement = doc["statement"]
    profile = from_document(doc["profile"], f"{path}: profile")
    if canonical.sha256_hex(profile.data) != statement["predicate"].get("profile", {}).get("digest"):
        raise MalformedInput(f"{path}: field 'profile' is not the profile its statement was made under (edited?)")
    pub = keys.public_raw_b64(key.public_key())
    if pub != statement["predicate"].get("signer", {}).get("public_key"):
        raise UsageError(f"{path}: the pending run is bound to another signing key; pass the --key it was run with")
    rd = run_evidence.evidence_report_data(statement, run_evidence.pending_report_data(statement), str(path))
    if rd.hex() != doc["report_data"]:
        raise MalformedInput(f"{path}: field 'report_data' is not the binding of its statement (edited?)")
    # The evidence is judged at the run's finish; the operator's side refuses evidence
    # obtained so long after it that the report would describe a machine as it was.
    finished = parse_time(statement["predicate"]["run"]["finished"], f"{path}: statement.predicate.run.finished")
    current = (now or _dt.datetime.now(_dt.UTC)).replace(microsecond=0)
    limit = run_evidence.profile_policy(profile.data, str(path)).max_evidence_age_seconds
    if limit is not None and (current - finished).total_seconds() > limit:
        raise UsageError(f"{path}: the run finished at {format_time(finished)}, "
                         f"{int((current - finished).total_seconds())} s ago, over the {limit} s profile "
                         f"{profile.id} allows between a run and its evidence: run again")
    att, row = run_evidence.from_evidence(profile_data=profile.data, statement=statement, data=data, fmt=fmt,
                                          certs=certs, collateral=collateral)
    signed_statement = report.with_attestation(statement, att, row, profile)
    out = report.write_report(out_dir, report.sign_statement(signed_statement, key), signed_statement)
    path.unlink()
    return out, signed_statement
