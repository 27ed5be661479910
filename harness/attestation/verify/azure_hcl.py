"""Azure confidential VM evidence (HCL reports): authenticity.

The layout is ``abi.azure_hcl``; policy is ``validate.policy``.

``verify(data, *, certs, collateral, roots, at, where) -> Verified``
    ``data`` is a raw HCL report (what NV index 0x01400001 of the vTPM holds) or the
    JSON evidence bundle (``abi.azure_hcl.parse_bundle``).  In order:

    1. the HCL report parses (``MalformedInput`` names the field and offset);
    2. the hardware report is authentic:

       * SEV-SNP: the embedded ATTESTATION_REPORT through ``verify.snp`` (ECDSA P-384,
         VCEK/VLEK → ASK/ASVK → pinned ARK at ``at``, TCB and hwID against the
         certificate; ``collateral`` is AMD's CRL).  The VCEK comes from ``certs`` or
         the bundle's ``vcek`` (Azure serves it from its THIM/IMDS endpoint);
       * TDX: the bundle's ``td_quote`` through ``verify.dcap`` (quote, QE report and
         PCK chain to the pinned Intel root; ``collateral`` as for any TD quote), and
         the quote body must be the TD report the HCL report carries (TEE_TCB_INFO,
         TDINFO, REPORTDATA).  A TDREPORT is only MAC'd for the local platform, so a
         raw HCL report without its quote cannot be verified and is refused;

    3. the hardware REPORT_DATA starts with the ``hash_type`` hash of the runtime
       claims bytes (otherwise ``NotAuthentic``: the claims are not the ones the
       hardware report binds);
    4. when the bundle has a ``tpm_quote``: its RSASSA-PKCS1-v1_5/SHA-256 signature
       verifies under the claims' ``HCLAkPub`` key and its PCR digest is the SHA-256
       of the PCR values given for the selection.

    The record's ``report_data`` is the claims' ``user-data`` (64 bytes the guest wrote
    to NV index 0x01400002 before asking for the report), not the hardware
    REPORT_DATA: on Azure the guest cannot choose the hardware report data, the
    paravisor sets it to the claims' hash, so whatever a caller binds goes through the
    user data.  Claims without user data give empty report data, which binds nothing.
    ``measurements`` are the hardware report's (SNP MEASUREMENT, HOST_DATA, ...; TDX
    MRTD, RTMRs, ...), which on Azure measure the paravisor, not the guest image; they
    also carry ``AKPUB_SHA256`` (SHA-256 of the vTPM attestation key's DER
    SubjectPublicKeyInfo) and, when a verified vTPM quote was asked over the same user
    data, the quoted PCRs as ``PCR<n>`` (the guest's own boot measurements).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ...errors import MalformedInput, NotAuthentic, UsageError
from ..abi import azure_hcl as _abi
from ..abi import dcap as _dcap_abi
from ..model import Verified
from . import dcap, snp

PARAVISOR_NOTE = ("Azure: the hardware measurements attest the paravisor (HCL) firmware, not the guest image; "
                  "the guest's boot is measured in the vTPM PCRs")


def _ak_key(claims: dict[str, Any], where: str) -> rsa.RSAPublicKey | None:
    numbers = _abi.ak_public_numbers(claims, where)
    if numbers is None:
        return None
    n, e = numbers
    if n.bit_length() < 2048 or e < 3 or e % 2 == 0:
        raise MalformedInput(f"{where}: runtime claims: {_abi.AK_KEY_ID} is not a usable RSA key "
                             f"({n.bit_length()} bits, e={e})")
    return rsa.RSAPublicNumbers(e, n).public_key()


def _check_tpm_quote(bundle: _abi.Bundle, ak: rsa.RSAPublicKey | None, where: str) -> _abi.TpmQuote:
    assert bundle.tpm_message is not None and bundle.tpm_signature is not None
    quote = _abi.parse_tpm_quote(bundle.tpm_message, where)
    if ak is None:
        raise NotAuthentic(f"{where}: tpm_quote: the runtime claims carry no {_abi.AK_KEY_ID} key to check it with")
    try:
        ak.verify(bundle.tpm_signature, bundle.tpm_message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise NotAuthentic(f"{where}: tpm_quote: signature does not verify under the vTPM attestation key "
                           f"({_abi.AK_KEY_ID}) of the runtime claims") from None
    selected: list[int] = []
    for alg, pcrs in quote.selection:
        if alg != _abi.TPM_ALG_SHA256:
            raise NotAuthentic(f"{where}: tpm_quote: PCR bank {alg:#06x} is not SHA-256, the only one checked")
        selected += pcrs
    if any(i >= len(bundle.tpm_pcrs) for i in selected):
        raise MalformedInput(f"{where}: tpm_quote.pcrs has {len(bundle.tpm_pcrs)} values, the quote selects "
                             f"PCR {max(selected)}")
    digest = hashlib.sha256(b"".join(bundle.tpm_pcrs[i] for i in selected)).digest()
    if not hmac.compare_digest(digest, quote.pcr_digest):
        raise NotAuthentic(f"{where}: tpm_quote: the PCR values given are not the ones the quote's pcrDigest signs")
    return quote


def _td_body_from_report(td: bytes) -> bytes:
    """The 584 bytes of a TD quote body (TDX 1.0 layout) that a TDREPORT determines."""
    tee_tcb = td[_abi.TD_TEE_TCB_INFO + 8:_abi.TD_TEE_TCB_INFO + 128]  # tee_tcb_svn .. seam attributes
    tdinfo = td[_abi.TD_TDINFO:_abi.TD_TDINFO + 16 + 8 * 48]  # attributes, xfam, mrtd .. rtmr3
    off, n = _abi.TD_REPORTDATA
    return tee_tcb + tdinfo + td[off:off + n]


def verify(data: bytes, *, certs: list[bytes] | None = None, collateral: bytes | None = None,
           roots: list[x509.Certificate] | None = None, at: _dt.datetime, where: str,
           fmt: str | None = None) -> Verified:
    """Verify Azure HCL evidence at ``at``; see the module docstring.  ``fmt``, when
    given, is the format the caller expects (``azure-snp-hcl`` or ``azure-tdx-hcl``)."""
    is_bundle = _abi.looks_like_bundle(data)
    if is_bundle:
        bundle = _abi.parse_bundle(data, where)
        hcl = _abi.parse_report(bundle.hcl_report, f"{where}: hcl_report")
    else:
        bundle = _abi.Bundle(hcl_report=bytes(data))
        hcl = _abi.parse_report(bundle.hcl_report, where)
    if fmt is not None and hcl.format != fmt:
        raise MalformedInput(f"{where}: request_data.report_type (offset 0x4C8) makes this {hcl.format} evidence, "
                             f"not {fmt}")

    if hcl.tee == "snp":
        cert = certs[0] if certs else bundle.vcek
        if cert is None:
            if is_bundle:  # the bundle is incomplete: the data's fault, not the caller's
                raise MalformedInput(f"{where}: the Azure SEV-SNP evidence bundle has no vcek (and no --cert was given)")
            raise UsageError(f"{where}: Azure SEV-SNP evidence needs the VCEK: pass --cert, or a bundle with vcek")
        hw = snp.verify(hcl.hw_report, cert=cert, roots=roots, at=at, where=f"{where}: SEV-SNP report", crl=collateral)
    else:
        if bundle.td_quote is None:
            if is_bundle:
                raise MalformedInput(f"{where}: the Azure TDX evidence bundle has no td_quote (a TDREPORT is only "
                                     "MAC'd for the local platform, the quote is what is signed)")
            raise UsageError(f"{where}: Azure TDX evidence needs its TD quote (a TDREPORT is only MAC'd for the "
                             "local platform): pass the JSON bundle with td_quote")
        hw = dcap.verify(bundle.td_quote, collateral=collateral, roots=roots, at=at, where=f"{where}: td_quote")
        if hw.format != "tdx":
            raise NotAuthentic(f"{where}: td_quote is a {hw.format} quote, not a TD quote")
        expected = _td_body_from_report(hcl.hw_report)
        # parsed again only for the body bytes: verify.dcap has checked the quote
        quoted = _dcap_abi.parse_quote(bundle.td_quote, f"{where}: td_quote").body_raw[:len(expected)]
        if not hmac.compare_digest(quoted, expected):
            raise NotAuthentic(f"{where}: the TD report in the HCL report is not the one the TD quote signs")

    digest = hcl.claims_digest()
    if not hmac.compare_digest(hcl.hw_report_data[:hcl.hash_len], digest):
        raise NotAuthentic(f"{where}: runtime claims (offset 0x4D4): their {hcl.hash_name} {digest.hex()[:16]}... is "
                           f"not the hardware report data {hcl.hw_report_data[:8].hex()}...: the claims are not the "
                           "ones the hardware report binds")

    ud = _abi.user_data(hcl.claims, where)
    ak = _ak_key(hcl.claims, where)
    measurements = dict(hw.measurements)
    # the hardware report's claims keep their names (policy rules read them); Azure's are under azure.
    claims: dict[str, Any] = dict(hw.claims)
    vm = hcl.claims.get("vm-configuration", {})
    claims.update({
        "azure.hcl.version": hcl.version,
        "azure.hcl.request_type": hcl.request_type,
        "azure.hcl.hash_type": hcl.hash_name,
        "azure.hcl.runtime_claims_digest": digest.hex(),
        "azure.hcl.hw_report_data": hcl.hw_report_data.hex(),
        "azure.user_data": None if ud is None else ud.hex(),
    })
    for k, val in sorted(vm.items()):
        if isinstance(val, bool | int | str):
            claims[f"azure.vm-configuration.{k}"] = val
    notes = [*hw.notes, PARAVISOR_NOTE]
    if ak is not None:
        spki = ak.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        claims["azure.akpub_sha256"] = hashlib.sha256(spki).hexdigest()
        measurements["AKPUB_SHA256"] = claims["azure.akpub_sha256"]
    if ud is None:
        notes.append("the runtime claims carry no user-data: this evidence binds no caller data")
    if bundle.tpm_message is not None:
        quote = _check_tpm_quote(bundle, ak, where)
        claims["azure.tpm_quote.nonce"] = quote.extra_data.hex()
        claims["azure.tpm_quote.reset_count"] = quote.reset_count
        claims["azure.tpm_quote.restart_count"] = quote.restart_count
        pcrs = {f"PCR{i}": bundle.tpm_pcrs[i].hex() for _, sel in quote.selection for i in sel}
        claims.update({f"azure.tpm_quote.{k}": v for k, v in pcrs.items()})
        if ud is not None and hmac.compare_digest(quote.extra_data, ud):
            measurements.update(pcrs)
            notes.append("vTPM quote by the attestation key verified over the user data: PCRs are measurements")
        else:
            notes.append(f"vTPM quote verified, but over nonce {quote.extra_data.hex()[:32]} rather than the user "
                         "data: its PCRs are recorded as claims, not as measurements (they may be stale)")
    return Verified(
        format=hcl.format,
        time=hw.time,
        report_data=ud if ud is not None else b"",
        debug=hw.debug,
        measurements=measurements,
        tcb=dict(hw.tcb),
        tcb_status=hw.tcb_status,
        advisories=list(hw.advisories),
        vmpl=hw.vmpl,
        signer=f"{hw.signer} via Azure HCL",
        chain=list(hw.chain),
        collateral=hw.collateral,
        collateral_issued=hw.collateral_issued,
        claims=claims,
        notes=notes,
    )

