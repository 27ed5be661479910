"""Evidence of any supported format: recognize it, verify it, then validate it.

``teecert attest verify`` and the report verifier go through here, so that every
caller gets the same two separate outcomes: authenticity (``verify``: an exception
when the evidence is not authentic at the given time) and policy (``validate``: the
list of rules the authentic evidence does not meet).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import MalformedInput, UsageError
from .abi import azure_hcl as azure_abi
from .abi import cca as cca_abi
from .abi import dcap as dcap_abi
from .abi import nitro as nitro_abi
from .abi import snp as snp_abi
from .model import Verified
from .validate.policy import validate

if TYPE_CHECKING:
    from cryptography import x509

FORMATS = ("snp", "tdx", "sgx", "nitro", "cca", "sim", "azure-snp-hcl", "azure-tdx-hcl")
AZURE_FORMATS = ("azure-snp-hcl", "azure-tdx-hcl")


def _maybe_base64(data: bytes) -> bytes | None:
    text = data.strip()
    if not text or any(c not in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n" for c in text):
        return None
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return None


def detect(data: bytes, where: str) -> str:
    """The evidence format by its own structure (never by file name)."""
    from .testing.sim import is_sim  # the simulator imports X.509: only evidence needs it

    if is_sim(data):
        return "sim"
    azure = azure_abi.detect_format(data)  # an HCL report ("HCLA") or its JSON bundle
    if azure is not None:
        return azure
    if cca_abi.is_cca(data):
        return "cca"
    if len(data) >= 6 and data[0] in nitro_abi.FIRST_BYTES:
        return "nitro"
    if len(data) >= dcap_abi.HEADER_LEN:
        version = int.from_bytes(data[0:2], "little")
        key_type = int.from_bytes(data[2:4], "little")
        tee = int.from_bytes(data[4:8], "little")
        if (version in dcap_abi.QUOTE_VERSIONS and key_type == dcap_abi.ATT_KEY_TYPE_ECDSA_P256
                and tee in (dcap_abi.TEE_TYPE_SGX, dcap_abi.TEE_TYPE_TDX)):
            return "tdx" if tee == dcap_abi.TEE_TYPE_TDX else "sgx"
    if len(data) >= snp_abi.REPORT_SIZE and int.from_bytes(data[0:4], "little") in snp_abi.SUPPORTED_VERSIONS:
        return "snp"
    decoded = _maybe_base64(data)
    if decoded and decoded[0] in nitro_abi.FIRST_BYTES:
        return "nitro"
    raise MalformedInput(f"{where}: not a recognized evidence format (SEV-SNP report, DCAP quote, Nitro document, "
                         "CCA token, Azure HCL report); "
                         "pass --format")


@dataclass
class Outcome:
    """The result of verify + validate."""

    verified: Verified
    failures: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.failures


def verify(
    data: bytes,
    where: str,
    *,
    fmt: str = "auto",
    certs: list[bytes] | None = None,
    collateral: bytes | None = None,
    roots: list[x509.Certificate] | None = None,
    at: _dt.datetime | None,
) -> Verified:
    """Authenticity only.  ``at`` None means "the evidence's own time" and is
    accepted only for formats that carry one (Nitro); the others need a time."""
    if fmt == "auto":
        fmt = detect(data, where)
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: expected auto or one of {', '.join(FORMATS)}")
    # The formats' verifiers (the simulator's too) import X.509, CBOR and COSE: every
    # command and report that verifies no evidence needs none of them.
    from .testing import sim
    from .verify import azure_hcl, cca, dcap, nitro, snp

    if fmt == "nitro":
        return nitro.verify(data, roots=roots, at=at, where=where)
    if at is None:
        raise UsageError(f"{where}: {fmt} evidence carries no time of its own: pass --at (verification time)")
    if fmt == "sim":
        return sim.verify(data, at=at, where=where)
    if fmt in AZURE_FORMATS:
        # the VCEK may come with --cert or inside the bundle; collateral as for SNP or TDX
        return azure_hcl.verify(data, certs=certs, collateral=collateral, roots=roots, at=at, where=where, fmt=fmt)
    if fmt == "cca":
        # CCA has no vendor root: the platform key (CPAK) is given like a certificate
        return cca.verify(data, platform_key=certs[0] if certs else None, at=at, where=where)
    if fmt == "snp":
        if not certs:
            raise UsageError(f"{where}: SEV-SNP evidence needs the VCEK or VLEK certificate: pass --cert")
        # SEV-SNP collateral is AMD's CRL (KDS vcek/v1/{product}/crl or vlek/v1/{product}/crl)
        return snp.verify(data, cert=certs[0], roots=roots, at=at, where=where, crl=collateral)
    return dcap.verify(data, collateral=collateral, roots=roots, at=at, where=where)


def verify_and_validate(data: bytes, where: str, *, policy: Any, **kw: Any) -> Outcome:
    verified = verify(data, where, **kw)
    return Outcome(verified, validate(verified, policy))


def _iso(t: _dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def verified_to_json(v: Verified) -> dict[str, Any]:
    return {
        "format": v.format,
        "time": v.time.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "signer": v.signer,
        "chain": list(v.chain),
        "debug": v.debug,
        "report_data": v.report_data.hex(),
        "measurements": dict(v.measurements),
        "tcb": dict(v.tcb),
        "tcb_status": v.tcb_status,
        "advisories": list(v.advisories),
        "vmpl": v.vmpl,
        "collateral": v.collateral,
        "collateral_issued": _iso(v.collateral_issued),
        "issued": _iso(v.issued),
        "notes": list(v.notes),
    }
