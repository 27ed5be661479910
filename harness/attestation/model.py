"""The record every verifier returns, whatever the technology."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Verified:
    """Authentic evidence, parsed.  Produced only after every signature, chain,
    collateral and revocation check passed at ``time``."""

    format: str  # "snp" | "tdx" | "sgx" | "nitro" | "cca" | "sim" | "azure-snp-hcl" | "azure-tdx-hcl" | ...
    time: _dt.datetime  # the verification time that was used (UTC-aware)
    report_data: bytes  # the bytes the evidence binds: SNP/DCAP 64 bytes; Nitro user_data, else nonce, full length;
    # Azure HCL: the runtime claims' user-data (the hardware report data is their hash)
    debug: bool  # the technology's debug indication (SNP policy bit 19, SGX/TDX DEBUG attribute, Nitro all-zero PCRs)
    measurements: dict[str, str] = field(default_factory=dict)  # e.g. {"MEASUREMENT": hex}, {"MRTD": hex, "RTMR0": hex}, {"PCR0": hex}
    tcb: dict[str, int] = field(default_factory=dict)  # per component, e.g. {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
    tcb_status: str | None = None  # Intel: "UpToDate", "SWHardeningNeeded", ...; None where the format has none
    advisories: list[str] = field(default_factory=list)
    vmpl: int | None = None  # SEV-SNP only
    signer: str = ""  # e.g. "VCEK", "VLEK", "PCK (Platform CA)", "AWS Nitro"
    chain: list[str] = field(default_factory=list)  # certificate subjects, leaf first
    collateral: bool = False  # whether collateral was supplied and checked
    collateral_issued: _dt.datetime | None = None  # the oldest issue date of the checked collateral
    issued: _dt.datetime | None = None  # the evidence's own time, where it carries one (Nitro)
    claims: dict[str, Any] = field(default_factory=dict)  # every parsed field (hex strings, ints, bools; no floats)
    notes: list[str] = field(default_factory=list)
