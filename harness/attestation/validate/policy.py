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
``cca_platform_keys``     Arm CCA: SHA-256 of the trusted platform keys (CPAKs); absent:
                          no CCA token is accepted (CCA has no vendor root)
``cca_lifecycles``        Arm CCA: accepted platform lifecycle states (default secured;
                          the debug states too when debug_allowed)
``cca_sw_components``     Arm CCA: platform software components that must be present
``azure_vm_configuration``  Azure HCL evidence: {flag: bool} the runtime claims'
                          vm-configuration must show (secure-boot, tpm-enabled, ...); other
                          formats fail it

Intel DCAP (sgx, tdx) only; evidence that cannot show what the key needs fails:

``tcb_update``            "standard" (default) or "early"; early needs
                          ``min_tcb_evaluation_data_number`` (TCB info names no update kind)
``min_tcb_evaluation_data_number``  TCB info and QE identity at least this number
``allowed_fmspcs``        the PCK certificate's FMSPC is one of these
``allowed_tdx_module_identities``  list of {id, mrsigner, attributes}; one must match
``allowed_advisories``    every advisory of the evidence is one of these
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

from ..._internal import canonical
from ..._internal.schema import load as load_schema
from ..._internal.schema import schema_error
from ..._internal.schema import validator as schema_validator
from ...errors import MalformedInput
from .. import REAL_FORMATS
from ..model import Verified

SCHEMA_ID = "teecert-attestation-policy/1"
COLLATERAL_FORMATS = frozenset({"sgx", "tdx", "azure-tdx-hcl"})  # Azure TDX evidence carries a TD quote
#: Formats whose SEV-SNP report is checked against AMD's CRL (the collateral), on request.
SNP_FORMATS = frozenset({"snp", "azure-snp-hcl"})
AZURE_FORMATS = frozenset({"azure-snp-hcl", "azure-tdx-hcl"})

_DEBUG_WHAT = {
    "snp": "SEV-SNP POLICY bit 19 (DEBUG) is set",
    "sgx": "the SGX enclave DEBUG attribute is set",
    "tdx": "the TD DEBUG attribute is set",
    "azure-snp-hcl": "SEV-SNP POLICY bit 19 (DEBUG) of the paravisor's report is set",
    "azure-tdx-hcl": "the TD DEBUG attribute of the TD quote is set",
    "nitro": "PCR0, PCR1, PCR2 and PCR8 are all zero (debug-mode enclave)",
    "cca": "the CCA platform lifecycle is a debug state (0x4000-0x50ff)",
}

#: Arm CCA platform lifecycle states (``abi.cca.LIFECYCLES``); debug ones only with debug_allowed.
CCA_DEBUG_LIFECYCLES = ("non_cca_platform_rot_debug", "recoverable_cca_platform_rot_debug")


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
    tcb_update: str = "standard"
    min_tcb_evaluation_data_number: int | None = None
    allowed_fmspcs: tuple[str, ...] | None = None
    allowed_tdx_module_identities: tuple[dict[str, str], ...] | None = None
    allowed_advisories: tuple[str, ...] | None = None
    cca_platform_keys: tuple[str, ...] | None = None  # SHA-256 of the CPAK's SubjectPublicKeyInfo
    cca_lifecycles: tuple[str, ...] = ("secured",)
    cca_sw_components: tuple[dict[str, str], ...] = ()
    azure_vm_configuration: dict[str, bool] = field(default_factory=dict)  # runtime claims vm-configuration
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
    if doc.get("tcb_update") == "early" and doc.get("min_tcb_evaluation_data_number") is None:
        # TCB info carries no update kind (tcbType is the level comparison method): early
        # collateral differs from standard only in its newer evaluation data number.
        raise MalformedInput(f"{where}: tcb_update is early, but min_tcb_evaluation_data_number is not set: "
                             "early TCB info is recognised only by its evaluation data number")
    fm = doc.get("allowed_fmspcs")
    mods = doc.get("allowed_tdx_module_identities")
    adv = doc.get("allowed_advisories")
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
        tcb_update=doc.get("tcb_update", "standard"),
        min_tcb_evaluation_data_number=doc.get("min_tcb_evaluation_data_number"),
        allowed_fmspcs=None if fm is None else tuple(f.lower() for f in fm),
        allowed_tdx_module_identities=None if mods is None else tuple(
            {k: (val.upper() if k == "id" else val.lower()) for k, val in m.items()} for m in mods),
        allowed_advisories=None if adv is None else tuple(a.upper() for a in adv),
        cca_platform_keys=None if "cca_platform_keys" not in doc else tuple(
            k.lower() for k in doc["cca_platform_keys"]),
        cca_lifecycles=tuple(doc.get("cca_lifecycles", ("secured",))),
        cca_sw_components=tuple({k: (val if k in ("type", "version") else val.lower()) for k, val in c.items()}
                                for c in doc.get("cca_sw_components", ())),
        azure_vm_configuration={str(k): bool(val) for k, val in doc.get("azure_vm_configuration", {}).items()},
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
        short = [str(s) for s in v.claims.get("tcb_shortfall") or []]
        if v.tcb_status == "TCBNotSupported":
            fails.append(f"accepted_tcb_statuses: TCB not supported: {'; '.join(short) or 'no TCB level matches'}")
        else:
            fails.append(f"accepted_tcb_statuses: TCB status {v.tcb_status} is not among "
                         f"{', '.join(pol.accepted_tcb_statuses)}" + (f": {'; '.join(short)}" if short else ""))

    if v.format in COLLATERAL_FORMATS:
        fails += _dcap_rules(v, pol)

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

    for key, want_flag in sorted(pol.azure_vm_configuration.items()):
        if v.format not in AZURE_FORMATS:
            fails.append(f"azure_vm_configuration.{key}: the {v.format} evidence carries no Azure runtime claims")
            continue
        have_flag = v.claims.get(f"azure.vm-configuration.{key}")
        if have_flag is not want_flag:
            fails.append(f"azure_vm_configuration.{key}: the runtime claims say "
                         f"{'nothing' if have_flag is None else have_flag}, the policy requires {want_flag}")

    if pol.report_data is not None:
        want, got = pol.report_data, v.report_data
        ok = len(want) <= len(got) and got[: len(want)] == want and not any(got[len(want):])
        if not ok:
            fails.append(f"report_data: evidence report data {_short(got.hex()) or '(empty)'} is not the expected "
                         f"{_short(want.hex())} (followed by zeros)")

    if v.format in COLLATERAL_FORMATS or v.format in SNP_FORMATS:
        # Default: required where the format's authenticity depends on it (Intel TCB
        # status); for SEV-SNP the collateral is AMD's CRL, required only on request.
        required = (v.format in COLLATERAL_FORMATS) if pol.require_collateral is None else pol.require_collateral
        if required and not v.collateral:
            why = ("no AMD CRL was supplied and checked (ASK/VCEK revocation unknown)" if v.format in SNP_FORMATS
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
    if v.format == "cca":
        fails += _cca_rules(v, pol)
    return fails


def _dcap_rules(v: Verified, pol: Policy) -> list[str]:
    """The keys only Intel DCAP evidence can answer; evidence that cannot show what a
    key needs (no collateral, a TCB info without the field) fails it."""
    fails: list[str] = []
    if pol.min_tcb_evaluation_data_number is not None:
        want = pol.min_tcb_evaluation_data_number
        nums: dict[str, int] = {}
        for k in ("tcb_evaluation_data_number", "qe_identity_tcb_evaluation_data_number"):
            n = v.claims.get(k)
            if isinstance(n, int) and not isinstance(n, bool):
                nums[k] = n
        if not v.collateral or len(nums) != 2:
            fails.append(f"min_tcb_evaluation_data_number: the collateral shows no tcbEvaluationDataNumber "
                         f"(TCB info and QE identity), the policy needs at least {want}")
        else:
            for name, n in nums.items():
                if n < want:
                    what = "TCB info" if name == "tcb_evaluation_data_number" else "QE identity"
                    update = " (standard collateral where early is required)" if pol.tcb_update == "early" else ""
                    fails.append(f"min_tcb_evaluation_data_number: collateral {what} has tcbEvaluationDataNumber "
                                 f"{n}, the policy needs at least {want}{update}: fetch newer collateral")
    if pol.allowed_fmspcs is not None:
        fmspc = str(v.claims.get("pck.fmspc", "")).lower()
        if fmspc not in pol.allowed_fmspcs:
            fails.append(f"allowed_fmspcs: the PCK certificate's FMSPC {fmspc.upper() or '(none)'} is not among "
                         f"{', '.join(f.upper() for f in pol.allowed_fmspcs)}")
    if pol.allowed_tdx_module_identities is not None and v.format in ("tdx", "azure-tdx-hcl"):
        have = {"id": str(v.claims.get("tdx_module_identity", "")).upper(),
                "mrsigner": str(v.claims.get("mrsignerseam", "")).lower(),
                "attributes": str(v.claims.get("seam_attributes", "")).lower()}
        if not any(all(have[k] == want for k, want in m.items()) for m in pol.allowed_tdx_module_identities):
            fails.append(f"allowed_tdx_module_identities: TDX module {have['id'] or '(no identity: major version 0)'} "
                         f"MRSIGNERSEAM {_short(have['mrsigner'])} SEAM_ATTRIBUTES {have['attributes']} matches none "
                         f"of the {len(pol.allowed_tdx_module_identities)} allowed")
    if pol.allowed_advisories is not None:
        if v.tcb_status is None:
            fails.append("allowed_advisories: no collateral was checked, so the advisories are unknown")
        extra = [a for a in v.advisories if a.upper() not in pol.allowed_advisories]
        if extra:
            fails.append(f"allowed_advisories: the platform is affected by {', '.join(extra)}, not in the allow-list")
    return fails


def _cca_rules(v: Verified, pol: Policy) -> list[str]:
    """Arm CCA: the platform key pin, the lifecycle and the software components.  CCA
    has no vendor root, so a platform key nobody pinned is never trusted."""
    fails: list[str] = []
    fp = str(v.claims.get("platform_key_sha256", ""))
    if pol.cca_platform_keys is None:
        fails.append(f"cca_platform_keys: no CCA platform key is pinned, so the key that signed this platform "
                     f"token (sha256 {fp}) is trusted by nobody: list its SHA-256 in cca_platform_keys")
    elif fp not in pol.cca_platform_keys:
        fails.append(f"cca_platform_keys: the platform token was signed by the key sha256 {fp}, which is not "
                     f"among the {len(pol.cca_platform_keys)} pinned")
    state = str(v.claims.get("lifecycle_state", "invalid"))
    allowed = set(pol.cca_lifecycles) | (set(CCA_DEBUG_LIFECYCLES) if pol.debug_allowed else set())
    if state not in allowed:
        lc = v.claims.get("lifecycle")
        fails.append(f"cca_lifecycles: platform lifecycle {lc:#06x} ({state}) is not among "
                     f"{', '.join(sorted(allowed))}" if isinstance(lc, int) else
                     f"cca_lifecycles: platform lifecycle unknown, allowed: {', '.join(sorted(allowed))}")
    have = v.claims.get("sw_components") or []
    for want in pol.cca_sw_components:
        if not any(all(str(c.get(k) or "") == val for k, val in want.items()) for c in have):
            shown = ", ".join(f"{k}={_short(val)}" for k, val in sorted(want.items()))
            fails.append(f"cca_sw_components: no platform software component matches {shown}")
    return fails


def _iso(t: _dt.datetime) -> str:
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_policy(path: str | Path) -> Policy:
    """Alias of ``load`` (the name ``attest_cli`` uses)."""
    return load(path)


def default_policy() -> Policy:
    """The default policy: no debug, UpToDate only, collateral required where it exists."""
    return DEFAULT
