"""Fuzz target ``azure``: Azure confidential VM evidence (HCL reports and their bundles).

Seeds are the real samples of ``tests/data/realworld/attestation/azure`` (an SEV-SNP
and a TDX bundle, and the raw SNP HCL report with its VCEK given separately).  A case
mutates one of them and runs ``evidence.verify_and_validate`` with auto-detection, the
way ``teecert attest verify`` and a run's evidence check do:

* ``bytes``: the whole input, byte by byte (``mutators.mutate_bytes``);
* ``bundle``: the bundle's JSON structure (``mutators.mutate_doc``);
* ``hcl``: the HCL report inside a bundle, byte by byte, re-encoded;
* ``claims``: the runtime-claims JSON inside the HCL report, with the sizes fixed up
  so that parsing reaches the binding check;
* ``td_quote`` / ``tpm``: the TD quote or the vTPM quote message inside a bundle.

Registered with ``tests.fuzz.run`` by importing this module (``register()``).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import os
import random
import struct
from pathlib import Path
from typing import Any

from teecert.attestation import evidence
from teecert.attestation.validate import policy

from . import mutators
from . import targets as tg

TARGET = "azure"
WHERE = "fuzz-azure-evidence.json"
AT = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
HCL_CLAIMS = 0x4D4
#: as tests/conftest.py's REALWORLD (this package does not import conftest)
REALWORLD = Path(os.environ.get("TEECERT_REALWORLD")
                 or Path(__file__).resolve().parents[1] / "data" / "realworld" / "attestation")


@functools.cache
def _policy() -> policy.Policy:
    return policy.from_document({"formats": ["azure-snp-hcl", "azure-tdx-hcl"], "require_collateral": False,
                                 "azure_vm_configuration": {"secure-boot": True}}, "fuzz policy")


def _b64url(s: str) -> bytes:
    s = s.rstrip("=")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


@functools.cache
def seeds() -> dict[str, dict[str, Any]]:
    """name -> {"doc": bundle object, "hcl": raw HCL bytes, "vcek": DER or None}."""
    folder = REALWORLD / "azure"
    out: dict[str, dict[str, Any]] = {}
    for tee in ("snp", "tdx"):
        doc = json.loads((folder / f"trustee_az_{tee}_vtpm_evidence_v1.json").read_text())
        out[tee] = {"doc": doc, "hcl": _b64url(doc["hcl_report"]),
                    "vcek": _b64url(doc["vcek"]) if "vcek" in doc else None}
    return out


def _bundle(doc: dict[str, Any], **repl: Any) -> bytes:
    d = dict(doc)
    d.update(repl)
    return json.dumps(d).encode()


def _enc(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _with_claims(hcl: bytes, claims: bytes) -> bytes:
    """``hcl`` with other runtime claims and every size field made to fit them."""
    b = bytearray(hcl[:HCL_CLAIMS])
    struct.pack_into("<I", b, 8, HCL_CLAIMS + len(claims))
    struct.pack_into("<I", b, 0x4C0, 20 + len(claims))
    struct.pack_into("<I", b, 0x4D0, len(claims))
    return bytes(b) + claims


def _mutate(rng: random.Random) -> tuple[str, bytes, list[bytes]]:
    s = seeds()[rng.choice(("snp", "tdx"))]
    doc, hcl = s["doc"], s["hcl"]
    how = rng.choice(("bytes", "raw", "bundle", "hcl", "hcl", "claims", "claims", "td_quote", "tpm"))
    if how == "raw" and s["vcek"] is not None:
        kind, data = mutators.mutate_bytes(hcl, rng)
        return f"raw:{kind}", data, [s["vcek"]]
    if how == "bundle":
        kind, out = mutators.mutate_doc(doc, rng)
        return f"bundle:{kind}", mutators.serialize(out, rng), []
    if how == "hcl":
        kind, data = mutators.mutate_bytes(hcl, rng)
        return f"hcl:{kind}", _bundle(doc, hcl_report=_enc(data)), []
    if how == "claims":
        end = HCL_CLAIMS + struct.unpack_from("<I", hcl, 0x4D0)[0]
        claims = hcl[HCL_CLAIMS:end]
        if rng.random() < 0.5:
            kind, new = mutators.mutate_bytes(claims, rng)
        else:
            kind, obj = mutators.mutate_doc(json.loads(claims), rng)
            new = mutators.serialize(obj, rng)
        return f"claims:{kind}", _bundle(doc, hcl_report=_enc(_with_claims(hcl, new))), []
    if how == "td_quote" and "td_quote" in doc:
        kind, data = mutators.mutate_bytes(_b64url(doc["td_quote"]), rng)
        return f"td_quote:{kind}", _bundle(doc, td_quote=_enc(data)), []
    if how == "tpm":
        tq = dict(doc["tpm_quote"])
        field = rng.choice(("message", "signature"))
        kind, data = mutators.mutate_bytes(bytes.fromhex(tq[field]), rng)
        tq[field] = data.hex()
        return f"tpm:{field}:{kind}", _bundle(doc, tpm_quote=tq), []
    kind, data = mutators.mutate_bytes(_bundle(doc), rng)
    return f"bytes:{kind}", data, []


def make_azure(rng: random.Random) -> tg.Case:
    kind, data, certs = _mutate(rng)

    def run() -> str:
        out = evidence.verify_and_validate(data, WHERE, policy=_policy(), certs=certs, at=AT)
        return "accepted" if out.accepted else "rejected"

    return tg.Case(kind, run, (WHERE,), data)


def register() -> None:
    """Make ``azure`` a target of ``tests.fuzz.run`` (and of the smoke test that lists them)."""
    if TARGET not in tg.MAKERS:
        tg.MAKERS[TARGET] = make_azure
        tg.TARGETS = (*tg.TARGETS, TARGET)
