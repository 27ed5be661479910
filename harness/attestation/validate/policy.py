"""Attestation policy: what authentic evidence must show (validation, not verification).

``verify`` functions (``snp``, ``dcap``, ``nitro``) decide authenticity and return a
``Verified`` record; this module only judges that record against a policy, so the two
outcomes stay separate: not authentic (exit 2) versus authentic but rejected (exit 1).

``load(path) -> Policy``
    A policy file: strict JSON (duplicate keys, floats refused) checked against
    ``schemas/attestation-policy.schema.json``; ``MalformedInput`` names the file and
    the JSON path.

``from_document(doc, where) -> Policy``
    The same from an already parsed object (e.g. the policy section of a profile).

``load_policy(path)`` / ``default_policy()``
    Aliases: ``load`` and ``DEFAULT``.

``validate(verified, policy=None) -> list[str]``
    Every failed rule as a one-line string starting with the policy key; an empty
    list means the policy is met.  ``policy`` may be a ``Policy``, a mapping (checked
    against the schema first) or None (the default policy).

Keys (all optional; docs/attestation.md has the full text):

``formats``               evidence formats accepted (absent: snp, tdx, sgx, nitro; never sim)
``debug_allowed``         default false: debug TEEs are rejected
``accepted_tcb_statuses`` default ["UpToDate"]: Intel TCB status must be one of these
                          (checked when the evidence has a status)
``min_tcb``               {component: minimum}; a missing component fails
``allowed_measurements``  list of {NAME: hex}; one entry must match completely
``vmpl``                  exact SEV-SNP VMPL; evidence without a VMPL fails
``report_data``           hex prefix; the rest of the report data must be zero
``require_collateral``    default true for formats with collateral (sgx, tdx)
``max_collateral_age_days``  Intel collateral (TCB info, QE identity, PCK CRL) issued
                          longer ago than this before the verification time fails
``max_evidence_age_seconds`` evidence whose own time (Nitro's timestamp) lies further
                          than this from the verification time, either side, fails
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from ..._internal import canonical
from ..._internal.schema import load as load_schema
from ..._internal.schema import schema_error
from ..._internal.schema import validator as schema_validator
from ...errors import MalformedInput
from .. import REAL_FORMATS
from ..model import Verified

SCHEMA_ID = "teecert-attestation-policy/1"
COLLATERAL_FORMATS = frozenset({"sgx", "tdx"})

_DEBUG_WHAT = {
    "snp": "SEV-SNP POLICY bit 19 (DEBUG) is set",
    "sgx": "the SGX enclave DEBUG attribute is set",
    "tdx": "the TD DEBUG attribute is set",
    "nitro": "PCR0, PCR1, PCR2 and PCR8 are all zero (debug-mode enclave)",
}


@dataclass(frozen=True)
class Policy:
    """A schema-checked attestation policy with its defaults applied."""

    formats: tuple[str, ...] = REAL_FORMATS
    debug_allowed: bool = False
    accepted_tcb_statuses: tuple[str, ...] = ("UpToDate",)
    min_tcb: dict[str, int] = field(default_factory=dict)
    allowed_measurements: tuple[dict[str, str], ...] | None = None
    vmpl: int | None = None
    report_data: bytes | None = None
    require_collateral: bool | None = None  # None: true where the format has collateral
    max_collateral_age_days: int | None = None
    max_evidence_age_seconds: int | None = None
    source: str = "default policy"


DEFAULT = Policy()


def schema() -> dict[str, Any]:
    """The attestation policy JSON Schema (package data)."""
    return load_schema("attestation-policy")


def _validator() -> jsonschema.protocols.Validator:
    return schema_validator("attestation-policy")


def from_document(doc: Any, where: str) -> Policy:
    """Check a parsed policy document against the schema and apply the defaults."""
    if not isinstance(doc, Mapping):
        raise MalformedInput(f"{where}: an attestation policy is a JSON object")
    doc = dict(doc)
    err = schema_error(list(_validator().iter_errors(doc)), where)
    if err is not None:
        raise err
    am = doc.get("allowed_measurements")
    rd = doc.get("report_data")
    return Policy(
        formats=tuple(doc["formats"]) if "formats" in doc else REAL_FORMATS,
        debug_allowed=bool(doc.get("debug_allowed", False)),
        accepted_tcb_statuses=tuple(doc.get("accepted_tcb_statuses", ("UpToDate",))),
        min_tcb={str(k): int(v) for k, v in doc.get("min_tcb", {}).items()},
        allowed_measurements=None if am is None else tuple({k.upper(): v.lower() for k, v in e.items()} for e in am),
        vmpl=doc.get("vmpl"),
        report_data=None if rd is None else bytes.fromhex(rd),
        require_collateral=doc.get("require_collateral"),
        max_collateral_age_days=doc.get("max_collateral_age_days"),
        max_evidence_age_seconds=doc.get("max_evidence_age_seconds"),
        source=where,
    )


def load(path: str | Path) -> Policy:
    """Read and check a policy file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise MalformedInput(f"{p}: cannot read policy ({exc.strerror})") from None
    return from_document(canonical.loads(data, str(p)), str(p))


def _short(h: str) -> str:
    return h if len(h) <= 24 else f"{h[:16]}…{h[-8:]}"


def _measurement_match(entry: Mapping[str, str], have: Mapping[str, str]) -> bool:
    for name, want in entry.items():
        got = have.get(name)
        if got is None or got.lower() != want.lower():
            return False
    return True


def validate(verified: Verified, policy: Policy | Mapping[str, Any] | None = None) -> list[str]:
    """Every rule of ``policy`` that ``verified`` fails, one line each; [] = accepted."""
    if policy is None:
        pol = DEFAULT
    elif isinstance(policy, Policy):
        pol = policy
    else:
        pol = from_document(policy, "attestation policy")
    v = verified
    fails: list[str] = []

    if v.format not in pol.formats:
        fails.append(f"formats: evidence is {v.format}, the policy accepts only {', '.join(pol.formats)}")

    if v.debug and not pol.debug_allowed:
        what = _DEBUG_WHAT.get(v.format, "the evidence says debug")
        fails.append(f"debug_allowed: debug TEE: {what}, and debug_allowed is false")

    if v.tcb_status is not None and v.tcb_status not in pol.accepted_tcb_statuses:
        fails.append(f"accepted_tcb_statuses: TCB status {v.tcb_status} is not among "
                     f"{', '.join(pol.accepted_tcb_statuses)}")

    for comp, minimum in sorted(pol.min_tcb.items()):
        if comp not in v.tcb:
            comps = ", ".join(sorted(v.tcb)) or "none"
            fails.append(f"min_tcb.{comp}: the {v.format} evidence has no TCB component {comp!r} (has: {comps})")
        elif v.tcb[comp] < minimum:
            fails.append(f"min_tcb.{comp}: evidence has {v.tcb[comp]}, the minimum is {minimum}")

    if pol.allowed_measurements is not None:
        have = {k.upper(): h.lower() for k, h in v.measurements.items()}
        if not any(_measurement_match(e, have) for e in pol.allowed_measurements):
            names = sorted({n for e in pol.allowed_measurements for n in e})
            shown = ", ".join(f"{n}={_short(have[n])}" for n in names if n in have) or "none of " + ", ".join(names)
            fails.append(f"allowed_measurements: evidence ({shown}) matches none of the "
                         f"{len(pol.allowed_measurements)} allowed set(s)")

    if pol.vmpl is not None:
        if v.vmpl is None:
            fails.append(f"vmpl: the {v.format} evidence has no VMPL, the policy requires VMPL {pol.vmpl}")
        elif v.vmpl != pol.vmpl:
            fails.append(f"vmpl: evidence is at VMPL {v.vmpl}, the policy requires VMPL {pol.vmpl}")

    if pol.report_data is not None:
        want, got = pol.report_data, v.report_data
        ok = len(want) <= len(got) and got[: len(want)] == want and not any(got[len(want):])
        if not ok:
            fails.append(f"report_data: evidence report data {_short(got.hex()) or '(empty)'} is not the expected "
                         f"{_short(want.hex())} (followed by zeros)")

    if v.format in COLLATERAL_FORMATS or v.format == "snp":
        # Default: required where the format's authenticity depends on it (Intel TCB
        # status); for SEV-SNP the collateral is AMD's CRL, required only on request.
        required = (v.format in COLLATERAL_FORMATS) if pol.require_collateral is None else pol.require_collateral
        if required and not v.collateral:
            why = ("no AMD CRL was supplied and checked (ASK/VCEK revocation unknown)" if v.format == "snp"
                   else f"no collateral was supplied and checked for this {v.format} evidence (TCB status unknown)")
            fails.append(f"require_collateral: {why}")

    if pol.max_collateral_age_days is not None and v.collateral_issued is not None:
        age = v.time - v.collateral_issued
        if age > _dt.timedelta(days=pol.max_collateral_age_days):
            fails.append(f"max_collateral_age_days: collateral issued {_iso(v.collateral_issued)} is "
                         f"{age.days} days old at {_iso(v.time)}, over the {pol.max_collateral_age_days} allowed")

    if pol.max_evidence_age_seconds is not None and v.issued is not None:
        gap = abs((v.time - v.issued).total_seconds())
        if gap > pol.max_evidence_age_seconds:
            fails.append(f"max_evidence_age_seconds: evidence made {_iso(v.issued)} is {int(gap)} s from "
                         f"{_iso(v.time)}, over the {pol.max_evidence_age_seconds} allowed")
    return fails


def _iso(t: _dt.datetime) -> str:
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_policy(path: str | Path) -> Policy:
    """Alias of ``load`` (the name ``attest_cli`` uses)."""
    return load(path)


def default_policy() -> Policy:
    """The default policy: no debug, UpToDate only, collateral required where it exists."""
    return DEFAULT
