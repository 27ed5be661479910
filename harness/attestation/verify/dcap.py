"""Intel DCAP ECDSA quotes: SGX v3, TDX v4 and TDX v5, with optional collateral: authenticity.

The quote layout and the PCK certificate's SGX extension are decoded by ``abi.dcap``;
policy is ``validate.policy``.  The collateral is read here, because its JSON may be
believed only after its signature and issuer chain verify.

``verify(quote, collateral=..., roots=..., at=..., where=...)`` checks, at the explicit
time ``at``:

* that the quote parses (``abi.dcap.parse_quote``); bytes after the signature data are
  ignored (noted);
* the attestation-key signature over the signed part (v3/v4: header + body; v5: header +
  body type + body size + body);
* the QE report signature by the PCK key, and the QE report data binding the attestation
  key: REPORTDATA = SHA-256(attestation key || QE authentication data) || 32 zero bytes;
* the PCK chain (PCK -> Intel SGX PCK Platform CA or Processor CA -> Intel SGX Root CA),
  at ``at``, to a root pinned by SHA-256 fingerprint;
* with collateral (the JSON bundle described in docs/attestation-dcap.md): the TCB info
  and QE identity signatures and their issuer chains, both CRLs (signature, window,
  revocation of the PCK and of every intermediate), every validity window at ``at``, that
  the collateral is for this platform (FMSPC, PCE ID, SGX/TDX), the QE identity, TCB level
  matching (SGX components and PCESVN from the PCK certificate; TDX also TEE_TCB_SVN and the
  TDX module identity) and the advisories.

Without collateral only the quote signature, the QE report and binding and the PCK chain
are checked; ``tcb_status`` is then ``None`` and a note says so (the policy decides with
``require_collateral``).

Failures raise ``MalformedInput`` (not of the expected form: truncated, bad lengths,
unknown versions) or ``NotAuthentic`` (anything that does not verify), each one line that
starts with ``where``.

Certificate chains use ``x509chain.verify_chain``; the default trust anchor is the Intel SGX
Root CA from ``roots.bundled_roots()``, accepted only if its SHA-256 equals
``INTEL_SGX_ROOT_CA_SHA256``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ...errors import MalformedInput, NotAuthentic, UsageError
from ..abi import dcap as _abi
from ..model import Verified
from . import roots as _roots
from .x509chain import (
    ecdsa_raw_to_der,
    fingerprint,
    is_self_signed,
    load_certificates,
    require_utc,
    verify_chain,
)

__all__ = [
    "INTEL_SGX_ROOT_CA_SHA256",
    "TCB_NOT_SUPPORTED",
    "Platform",
    "collateral_platform",
    "evaluate_tcb_levels",
    "intel_sgx_root",
    "level_shortfall",
    "quote_platform",
    "status_reasons",
    "verify",
]

# ---------------------------------------------------------------------------------------
# Pinned root
# ---------------------------------------------------------------------------------------

#: SHA-256 of the DER of ``CN=Intel SGX Root CA`` (ECDSA P-256, 2018-05-21 .. 2049-12-31).
INTEL_SGX_ROOT_CA_SHA256 = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"


def intel_sgx_root() -> x509.Certificate:
    """The bundled Intel SGX Root CA (``roots.bundled_roots``), pinned by SHA-256."""
    for cert in _roots.bundled_roots():
        if fingerprint(cert) == INTEL_SGX_ROOT_CA_SHA256 and is_self_signed(cert):
            return cert
    raise NotAuthentic("bundled roots: no certificate matches the pinned Intel SGX Root CA")  # pragma: no cover


# ---------------------------------------------------------------------------------------
# Cryptography helpers
# ---------------------------------------------------------------------------------------

_MAX_CHAIN_CERTS = 8


def _p256_key(raw: bytes, where: str, what: str) -> ec.EllipticCurvePublicKey:
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw)
    except ValueError:
        raise NotAuthentic(f"{where}: {what} is not a valid P-256 point") from None


def _verify_raw_sig(key: Any, sig: bytes, data: bytes, where: str, what: str) -> None:
    """Verify a 64-byte r||s ECDSA P-256/SHA-256 signature."""
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise NotAuthentic(f"{where}: {what}: signing key is not ECDSA P-256")
    if len(sig) != 64:
        raise MalformedInput(f"{where}: {what}: signature must be 64 bytes (r||s), got {len(sig)}")
    der = ecdsa_raw_to_der(sig, f"{where}: {what}")
    try:
        key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise NotAuthentic(f"{where}: {what} does not verify") from None


def _load_pem_chain(pem: bytes, where: str, what: str) -> list[x509.Certificate]:
    data = pem.rstrip(b"\x00 \r\n\t")
    if data.count(b"-----BEGIN CERTIFICATE-----") > _MAX_CHAIN_CERTS:
        raise MalformedInput(f"{where}: {what}: more than {_MAX_CHAIN_CERTS} certificates")
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise MalformedInput(f"{where}: {what}: no PEM certificate")
    try:
        certs = load_certificates(data, f"{where} ({what})")
    except MalformedInput:
        raise
    except Exception as exc:  # e.g. x509.InvalidVersion, which is not a ValueError
        raise MalformedInput(f"{where}: {what}: not a certificate chain ({type(exc).__name__})") from None
    for i, cert in enumerate(certs):
        # cryptography parses names, extensions and keys lazily: force it here so that a
        # damaged certificate is reported as malformed, not as an exception elsewhere.
        try:
            _ = (cert.subject, cert.issuer, cert.not_valid_before_utc, cert.not_valid_after_utc)
            _ = (cert.extensions, cert.public_key(), cert.signature_hash_algorithm)
        except Exception as exc:  # cryptography raises ValueError, KeyError, ... on bad DER
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise MalformedInput(f"{where}: {what}: certificate {i} does not parse ({first[:120]})") from None
    return certs


def _cn(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = attrs[0].value if attrs else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _chain(certs: list[x509.Certificate], roots: Sequence[x509.Certificate], at: _dt.datetime,
           where: str, what: str) -> list[x509.Certificate]:
    """``x509chain.verify_chain`` from the first certificate; copies of a root are not intermediates."""
    root_fps = {fingerprint(r) for r in roots}
    inter = [c for c in certs[1:] if fingerprint(c) not in root_fps]
    return verify_chain(certs[0], inter, list(roots), at, f"{where} ({what})")


# ---------------------------------------------------------------------------------------
# PCK certificate SGX extension (OID 1.2.840.113741.1.13.1), decoded by abi.dcap
# ---------------------------------------------------------------------------------------

_SGX_EXT_OID = x509.ObjectIdentifier(_abi.SGX_EXTENSION_OID)


def _pck_sgx_extension(pck: x509.Certificate, where: str) -> dict[str, Any]:
    """FMSPC, PCE ID, TCB components, PCESVN and CPUSVN from the PCK certificate."""
    try:
        ext = pck.extensions.get_extension_for_oid(_SGX_EXT_OID).value
    except x509.ExtensionNotFound:
        raise NotAuthentic(f"{where}: PCK certificate has no SGX extension (1.2.840.113741.1.13.1)") from None
    raw = ext.value if isinstance(ext, x509.UnrecognizedExtension) else b""
    return _abi.parse_pck_extension(raw, where)


# ---------------------------------------------------------------------------------------
# Collateral (JSON bundle: see docs/attestation-dcap.md)
# ---------------------------------------------------------------------------------------

_STATUS_SEVERITY_OUT_OF_DATE = {
    "UpToDate": "OutOfDate",
    "SWHardeningNeeded": "OutOfDate",
    "ConfigurationNeeded": "OutOfDateConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded": "OutOfDateConfigurationNeeded",
}


def _converge(platform: str, other: str) -> str:
    """Intel's convergence of the platform status with the QE / TDX module status."""
    if other == "Revoked":
        return "Revoked"
    if other == "OutOfDate":
        return _STATUS_SEVERITY_OUT_OF_DATE.get(platform, platform)
    return platform


def _load_collateral(collateral: dict[str, Any] | bytes | str, where: str) -> dict[str, Any]:
    if isinstance(collateral, bytes | bytearray | str):
        try:
            doc = json.loads(collateral)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nesting too deep
            raise MalformedInput(f"{where}: collateral is not JSON ({exc})") from None
    else:
        doc = collateral
    if not isinstance(doc, dict):
        raise MalformedInput(f"{where}: collateral must be a JSON object")
    for key in ("tcb_info", "tcb_info_signature", "tcb_info_issuer_chain", "qe_identity",
                "qe_identity_signature", "qe_identity_issuer_chain", "root_ca_crl", "pck_crl"):
        if not isinstance(doc.get(key), str):
            raise MalformedInput(f"{where}: collateral.{key} is missing or not a string")
    if "pck_crl_issuer_chain" in doc and not isinstance(doc["pck_crl_issuer_chain"], str):
        raise MalformedInput(f"{where}: collateral.pck_crl_issuer_chain is not a string")
    for key, value in doc.items():
        # A "\ud800" escape parses to a lone surrogate, which no text is: refused here,
        # rather than where the field is encoded to check a signature or load a chain.
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise MalformedInput(f"{where}: collateral.{key} holds a lone UTF-16 surrogate, not text") from None
    return doc


def _hex(value: str, where: str, field: str) -> bytes:
    try:
        return bytes.fromhex(value.strip())
    except ValueError:
        raise MalformedInput(f"{where}: collateral.{field} is not hex") from None


def _load_crl(value: str, where: str, field: str) -> x509.CertificateRevocationList:
    raw = value.encode() if value.lstrip().startswith("-----BEGIN") else _hex(value, where, field)
    try:
        crl = x509.load_pem_x509_crl(raw) if raw.startswith(b"-----BEGIN") else x509.load_der_x509_crl(raw)
        # cryptography parses lazily: touch everything used later so that damage shows here.
        _ = (crl.issuer, crl.last_update_utc, crl.next_update_utc, crl.signature_hash_algorithm)
        _ = [r.serial_number for r in crl]
    except Exception as exc:  # ValueError, KeyError, x509.InvalidVersion, ...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MalformedInput(f"{where}: collateral.{field} is not a CRL ({first[:120]})") from None
    return crl


def _crl_signed(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        return crl.is_signature_valid(key)
    except Exception:  # an unsupported or damaged signature algorithm does not verify
        return False


def _parse_time(value: Any, where: str, field: str) -> _dt.datetime:
    if not isinstance(value, str):
        raise MalformedInput(f"{where}: collateral {field} is not a date-time string")
    try:
        t = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise MalformedInput(f"{where}: collateral {field} is not an ISO 8601 date-time: {value!r}") from None
    return t if t.tzinfo is not None else t.replace(tzinfo=_dt.UTC)


def _signed_json(doc: dict[str, Any], name: str, signer_cn: str, roots: Sequence[x509.Certificate],
                 at: _dt.datetime, where: str) -> tuple[dict[str, Any], list[x509.Certificate]]:
    """Verify ``doc[name]`` (exact JSON text) against its signature and issuer chain, then parse."""
    what = f"collateral.{name}_issuer_chain"
    path = _chain(_load_pem_chain(doc[f"{name}_issuer_chain"].encode(), where, what), roots, at, where, what)
    if _cn(path[0].subject) != signer_cn:
        raise NotAuthentic(f"{where}: collateral.{name} is signed by '{_cn(path[0].subject)}', not '{signer_cn}'")
    sig = _hex(doc[f"{name}_signature"], where, f"{name}_signature")
    _verify_raw_sig(path[0].public_key(), sig, doc[name].encode("utf-8"), where, f"collateral.{name} signature")
    try:
        body = json.loads(doc[name])
    except (ValueError, RecursionError) as exc:
        raise MalformedInput(f"{where}: collateral.{name} is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise MalformedInput(f"{where}: collateral.{name} is not a JSON object")
    return body, path


def _window(body: dict[str, Any], name: str, where: str) -> tuple[_dt.datetime, _dt.datetime]:
    issue = _parse_time(body.get("issueDate"), where, f"{name}.issueDate")
    nxt = _parse_time(body.get("nextUpdate"), where, f"{name}.nextUpdate")
    return issue, nxt


def _check_window(windows: list[tuple[str, _dt.datetime, _dt.datetime]], at: _dt.datetime, where: str) -> tuple[_dt.datetime, _dt.datetime]:
    start = max(w[1] for w in windows)
    end = min(w[2] for w in windows)
    first = max(windows, key=lambda w: w[1])
    last = min(windows, key=lambda w: w[2])
    if at > end:
        raise NotAuthentic(
            f"{where}: collateral expired: {last[0]} next update {end.isoformat()} is before "
            f"{at.isoformat()} (collateral valid {start.isoformat()} to {end.isoformat()})"
        )
    if at < start:
        raise NotAuthentic(
            f"{where}: collateral not yet valid: {first[0]} issued {start.isoformat()} after {at.isoformat()}"
        )
    return start, end


def _hexeq(a: Any, b: str) -> bool:
    return isinstance(a, str) and a.lower() == b.lower()


def _masked_eq(value_hex: str, expected_hex: Any, mask_hex: Any) -> bool:
    if not isinstance(expected_hex, str) or not isinstance(mask_hex, str):
        return False
    try:
        v, e, m = bytes.fromhex(value_hex), bytes.fromhex(expected_hex), bytes.fromhex(mask_hex)
    except ValueError:
        return False
    if not (len(v) == len(e) == len(m)):
        return False
    return all((x & k) == (y & k) for x, y, k in zip(v, e, m, strict=True))


def _svn(obj: Any, where: str, field: str) -> int:
    if not isinstance(obj, int) or isinstance(obj, bool):
        raise MalformedInput(f"{where}: collateral {field} is not an integer")
    return obj


def _levels(body: dict[str, Any], where: str, name: str) -> list[dict[str, Any]]:
    levels = body.get("tcbLevels")
    if not isinstance(levels, list) or not all(isinstance(x, dict) for x in levels):
        raise MalformedInput(f"{where}: collateral {name}.tcbLevels is not a list of objects")
    return levels


def _advisories(level: dict[str, Any]) -> list[str]:
    ids = level.get("advisoryIDs", [])
    return [x for x in ids if isinstance(x, str)] if isinstance(ids, list) else []


def _level_components(tcb: dict[str, Any], key: str, version: int, where: str) -> list[int]:
    if version >= 3:
        comps = tcb.get(key)
        if not isinstance(comps, list) or len(comps) != 16 or not all(isinstance(c, dict) for c in comps):
            raise MalformedInput(f"{where}: collateral tcb_info level {key} is not 16 components")
        return [_svn(c.get("svn"), where, f"tcb_info {key}.svn") for c in comps]
    return [_svn(tcb.get(f"sgxtcbcomp{i:02d}svn"), where, f"tcb_info sgxtcbcomp{i:02d}svn") for i in range(1, 17)]


def _check_collateral(q: _abi.Quote, pck_path: list[x509.Certificate], pck_ext: dict[str, Any],
                      doc: dict[str, Any], roots: Sequence[x509.Certificate], at: _dt.datetime,
                      where: str, v: Verified) -> None:
    root = pck_path[-1]
    pck, pck_ca = pck_path[0], pck_path[1] if len(pck_path) > 2 else pck_path[-1]

    # 1. Signatures and issuer chains (before anything in the JSON is believed).
    tcb_info, tcb_path = _signed_json(doc, "tcb_info", "Intel SGX TCB Signing", roots, at, where)
    qe_id, qe_path = _signed_json(doc, "qe_identity", "Intel SGX TCB Signing", roots, at, where)

    # 2. CRLs: the root CA CRL (intermediates) and the PCK CRL (PCK certificates).
    root_crl = _load_crl(doc["root_ca_crl"], where, "root_ca_crl")
    pck_crl = _load_crl(doc["pck_crl"], where, "pck_crl")
    crl_root = next((r for r in roots if r.subject == root_crl.issuer), None)
    if crl_root is None or not _crl_signed(root_crl, crl_root):
        raise NotAuthentic(f"{where}: collateral.root_ca_crl is not signed by the pinned root")
    if pck_crl.issuer != pck.issuer:
        raise NotAuthentic(
            f"{where}: collateral.pck_crl is issued by '{_cn(pck_crl.issuer)}', but the PCK by "
            f"'{_cn(pck.issuer)}' (collateral for another platform)"
        )
    if not _crl_signed(pck_crl, pck_ca):
        raise NotAuthentic(f"{where}: collateral.pck_crl signature does not verify with '{_cn(pck_ca.subject)}'")
    if "pck_crl_issuer_chain" in doc:
        what = "collateral.pck_crl_issuer_chain"
        _chain(_load_pem_chain(doc["pck_crl_issuer_chain"].encode(), where, what), roots, at, where, what)
    for cert in (pck,):
        if pck_crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise NotAuthentic(f"{where}: PCK certificate serial {cert.serial_number:x} is revoked (pck_crl)")
    for cert in [*pck_path[1:], *tcb_path[1:], *qe_path[1:]]:
        if fingerprint(cert) == fingerprint(root):
            continue
        if root_crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise NotAuthentic(f"{where}: '{_cn(cert.subject)}' serial {cert.serial_number:x} is revoked (root_ca_crl)")

    # 3. Validity windows at `at`.
    windows: list[tuple[str, _dt.datetime, _dt.datetime]] = [
        ("tcb_info", *_window(tcb_info, "tcb_info", where)),
        ("qe_identity", *_window(qe_id, "qe_identity", where)),
    ]
    for name, crl in (("root_ca_crl", root_crl), ("pck_crl", pck_crl)):
        nu = crl.next_update_utc
        if nu is None:
            raise MalformedInput(f"{where}: collateral.{name} has no nextUpdate")
        windows.append((name, crl.last_update_utc, nu))
    start, end = _check_window(windows, at, where)
    # How old the collateral is: what Intel's PCS reissues on a schedule (TCB info, QE
    # identity, PCK CRL); the root CA CRL is reissued about yearly and would make any
    # maximum age meaningless.
    v.collateral_issued = min(w[1] for w in windows if w[0] != "root_ca_crl")

    # 4. The collateral is for this platform and this TEE.
    want_id = "TDX" if q.tee == "tdx" else "SGX"
    tcb_id = tcb_info.get("id", "SGX")  # TCB info v2 has no id: SGX only
    if tcb_id != want_id:
        raise NotAuthentic(f"{where}: collateral tcb_info is for {tcb_id!r}, the quote is {want_id} (collateral for another platform)")
    if not _hexeq(tcb_info.get("fmspc"), pck_ext["fmspc"]):
        raise NotAuthentic(
            f"{where}: collateral tcb_info FMSPC {tcb_info.get('fmspc')!r} differs from the PCK's "
            f"{pck_ext['fmspc'].upper()} (collateral for another platform)"
        )
    if not _hexeq(tcb_info.get("pceId"), pck_ext["pceid"]):
        raise NotAuthentic(f"{where}: collateral tcb_info pceId {tcb_info.get('pceId')!r} differs from the PCK's")
    want_qe = "TD_QE" if q.tee == "tdx" else "QE"
    if qe_id.get("id", "QE") != want_qe:
        raise NotAuthentic(f"{where}: collateral qe_identity is for {qe_id.get('id')!r}, expected {want_qe!r} (collateral for another platform)")
    tcb_version = _svn(tcb_info.get("version"), where, "tcb_info.version")
    if tcb_version not in (2, 3) or (q.tee == "tdx" and tcb_version != 3):
        raise MalformedInput(f"{where}: collateral tcb_info version {tcb_version} is not supported for {want_id}")

    # 5. QE identity.
    qr = q.qe_report
    if not _hexeq(qe_id.get("mrsigner"), qr["mrsigner"]):
        raise NotAuthentic(f"{where}: QE report MRSIGNER does not match the QE identity")
    if qe_id.get("isvprodid") != qr["isvprodid"]:
        raise NotAuthentic(f"{where}: QE report ISVPRODID {qr['isvprodid']} does not match the QE identity")
    if not _masked_eq(f"{qr['miscselect']:08x}", qe_id.get("miscselect"), qe_id.get("miscselectMask")):
        # miscselect is a little-endian u32; the JSON writes it as big-endian hex.
        raise NotAuthentic(f"{where}: QE report MISCSELECT does not match the QE identity")
    if not _masked_eq(qr["attributes"], qe_id.get("attributes"), qe_id.get("attributesMask")):
        raise NotAuthentic(f"{where}: QE report ATTRIBUTES do not match the QE identity")
    qe_status, qe_adv, qe_date = "Revoked", [], None
    for level in _levels(qe_id, where, "qe_identity"):
        tcb = level.get("tcb")
        if isinstance(tcb, dict) and qr["isvsvn"] >= _svn(tcb.get("isvsvn"), where, "qe_identity isvsvn"):
            qe_status, qe_adv, qe_date = str(level.get("tcbStatus")), _advisories(level), level.get("tcbDate")
            break

    # 6. Platform TCB level: SGX components and PCESVN from the PCK; TDX also TEE_TCB_SVN.
    tee_svn = bytes.fromhex(q.body["tee_tcb_svn"]) if q.tee == "tdx" else b""
    platform = Platform(sgx=list(pck_ext["components"]), pcesvn=pck_ext["pcesvn"], tdx=list(tee_svn) or None,
                        tdx_from=2 if q.tee == "tdx" and tee_svn[1] != 0 else 0)
    levels = _levels(tcb_info, where, "tcb_info")
    matched, shortfall = evaluate_tcb_levels(levels, tcb_version, platform, where)
    advisories: list[str] = []
    if matched is None:
        status = TCB_NOT_SUPPORTED
        v.claims["platform_tcb_status"] = status
    else:
        status = str(matched.get("tcbStatus"))
        advisories = _advisories(matched)
        v.claims["platform_tcb_status"] = status
        v.claims["tcb_date"] = str(matched.get("tcbDate"))
        shortfall += status_reasons(status, advisories)

    # 7. TDX module identity (TEE_TCB_SVN[1] = module major version, [0] = module SVN).
    if q.tee == "tdx":
        status, mod_adv, mod_short = _tdx_module(q, tcb_info, tee_svn, status, where, v)
        advisories += mod_adv
        shortfall += mod_short

    v.claims["qe_identity_status"] = qe_status
    if qe_date is not None:
        v.claims["qe_tcb_date"] = str(qe_date)
    if qe_status != "UpToDate":
        shortfall += _qe_shortfall(qe_id, qr["isvsvn"], where)
    status = _converge(status, qe_status)
    advisories += qe_adv
    v.tcb_status = status
    v.advisories = list(dict.fromkeys(advisories))
    v.collateral = True
    v.claims["collateral_valid_from"] = start.isoformat()
    v.claims["collateral_valid_until"] = end.isoformat()
    v.claims["tcb_evaluation_data_number"] = tcb_info.get("tcbEvaluationDataNumber")
    v.claims["qe_identity_tcb_evaluation_data_number"] = qe_id.get("tcbEvaluationDataNumber")
    v.claims["tcb_type"] = tcb_info.get("tcbType")
    if status != "UpToDate":
        v.claims["tcb_shortfall"] = list(dict.fromkeys(shortfall))


# ---------------------------------------------------------------------------------------
# TCB levels: which one the platform reaches, and what it lacks for a better one
# ---------------------------------------------------------------------------------------

#: The status of a platform that reaches no TCB level of its collateral.  Authentic
#: evidence, but of a TCB Intel no longer (or not yet) evaluates: never acceptable, which
#: is why the policy schema offers no way to accept it.
TCB_NOT_SUPPORTED = "TCBNotSupported"

FIX_FIRMWARE = "BIOS/microcode update"
FIX_TDX_MODULE = "TDX module update"
FIX_PCE_QE = "PCE/QE update (the platform's SGX PSW / DCAP packages and driver)"


@dataclass(frozen=True)
class Platform:
    """What a quote shows of its platform's TCB: the PCK certificate's 16 SGX TCB
    components and PCESVN, and for TDX the quote's TEE_TCB_SVN (compared from
    ``tdx_from`` on: bytes 0 and 1 are the TDX module SVN and major version, judged
    by the module identities when the major version is not 0)."""

    sgx: list[int]
    pcesvn: int
    tdx: list[int] | None = None
    tdx_from: int = 0


def _component(tcb: dict[str, Any], key: str, i: int) -> dict[str, Any]:
    comps = tcb.get(key)
    comp = comps[i] if isinstance(comps, list) and i < len(comps) else None
    return dict(comp) if isinstance(comp, dict) else {}


def _fix_for(kind: str, comp: dict[str, Any]) -> str:
    """The class of update that raises a component, from the collateral's own
    ``category``/``type`` where it gives them (Intel names e.g. "SGX Late Microcode
    Update", "TXT SINIT", "TDX Module"): every SGX component and the TDX ones that are
    not the module come with firmware or microcode."""
    ctype = str(comp.get("type", ""))
    if kind == "TDX" and ctype == "TDX Module":
        return FIX_TDX_MODULE
    return FIX_FIRMWARE


def _describe(kind: str, comp: dict[str, Any], i: int) -> str:
    label = ": ".join(str(comp[k]) for k in ("category", "type") if isinstance(comp.get(k), str) and comp[k])
    return f"{kind} TCB component {i + 1:02d}" + (f" ({label})" if label else "")


def level_shortfall(level: dict[str, Any], version: int, platform: Platform, where: str) -> list[str]:
    """Every component of ``platform`` below what ``level`` needs: which, by how much,
    and the class of update that raises it; [] when the platform reaches the level."""
    tcb = level.get("tcb")
    if not isinstance(tcb, dict):
        raise MalformedInput(f"{where}: collateral tcb_info level without tcb")
    short: list[str] = []
    need = _level_components(tcb, "sgxtcbcomponents", version, where)
    for i, (have, want) in enumerate(zip(platform.sgx, need, strict=True)):
        if have < want:
            comp = _component(tcb, "sgxtcbcomponents", i)
            short.append(f"{_describe('SGX', comp, i)} has {have}, needs {want}: {_fix_for('SGX', comp)}")
    want_pce = _svn(tcb.get("pcesvn"), where, "tcb_info pcesvn")
    if platform.pcesvn < want_pce:
        short.append(f"PCESVN has {platform.pcesvn}, needs {want_pce}: {FIX_PCE_QE}")
    if platform.tdx is not None:
        need_tdx = _level_components(tcb, "tdxtcbcomponents", version, where)
        for i in range(platform.tdx_from, 16):
            if platform.tdx[i] < need_tdx[i]:
                comp = _component(tcb, "tdxtcbcomponents", i)
                short.append(f"{_describe('TDX', comp, i)} has {platform.tdx[i]}, needs {need_tdx[i]}: "
                             f"{_fix_for('TDX', comp)}")
    return short


def _level_name(level: dict[str, Any]) -> str:
    return f"{level.get('tcbStatus')} level of {str(level.get('tcbDate', '?'))[:10]}"


def evaluate_tcb_levels(levels: list[dict[str, Any]], version: int, platform: Platform,
                        where: str) -> tuple[dict[str, Any] | None, list[str]]:
    """(the first level ``platform`` reaches, or None; what it lacks, one line each).

    Intel lists levels newest first and a platform has the status of the first it
    reaches.  What it lacks is stated against the best level (the first UpToDate one,
    else the first) when it reaches a lower one, and against the closest level (fewest
    components short, newest first on a tie) when it reaches none."""
    results = [(level, level_shortfall(level, version, platform, where)) for level in levels]
    matched = next((level for level, short in results if not short), None)
    if matched is not None:
        best = next((lv for lv in levels if lv.get("tcbStatus") == "UpToDate"), levels[0])
        if best is matched:
            return matched, []
        short = next(s for lv, s in results if lv is best)
        return matched, [f"for the {_level_name(best)}: {s}" for s in short]
    if not results:
        return None, ["no TCB level of collateral tcb_info matches this platform: the collateral lists none"]
    closest, short = min(results, key=lambda r: len(r[1]))
    return None, [f"no TCB level of collateral tcb_info matches this platform; for the closest, the "
                  f"{_level_name(closest)}: {short[0]}", *short[1:]]


def status_reasons(status: str, advisories: list[str]) -> list[str]:
    """What a TCB status other than UpToDate asks of the operator, beyond versions."""
    named = f" named by {', '.join(advisories)}" if advisories else ""
    out: list[str] = []
    if "ConfigurationNeeded" in status or status == "ConfigurationAndSWHardeningNeeded":
        out.append(f"{status}: the platform needs the configuration change{named} (BIOS settings, "
                   "not an update)")
    if "SWHardening" in status:
        out.append(f"{status}: the enclave/TD software must carry the mitigations{named}; no platform "
                   "update changes this status")
    return out


def _qe_shortfall(qe_id: dict[str, Any], isvsvn: int, where: str) -> list[str]:
    levels = _levels(qe_id, where, "qe_identity")
    best = next((lv for lv in levels if lv.get("tcbStatus") == "UpToDate"), None)
    tcb = best.get("tcb") if best is not None else None
    if not isinstance(tcb, dict):
        return []
    want = _svn(tcb.get("isvsvn"), where, "qe_identity isvsvn")
    return [f"QE ISVSVN has {isvsvn}, needs {want}: {FIX_PCE_QE}"] if isvsvn < want else []


def _tdx_module(q: _abi.Quote, tcb_info: dict[str, Any], tee_svn: bytes, status: str, where: str,
                v: Verified) -> tuple[str, list[str], list[str]]:
    """(converged status, the module level's advisories, what the module lacks)."""
    mod_svn, mod_ver = tee_svn[0], tee_svn[1]
    if mod_ver == 0:
        module = tcb_info.get("tdxModule")
        if not isinstance(module, dict):
            raise MalformedInput(f"{where}: collateral tcb_info has no tdxModule")
        ident: dict[str, Any] = module
    else:
        idents = tcb_info.get("tdxModuleIdentities")
        want = f"TDX_{mod_ver:02X}"
        found = [m for m in idents if isinstance(m, dict) and m.get("id") == want] if isinstance(idents, list) else []
        v.claims["tdx_module_identity"] = want
        if not found:
            return TCB_NOT_SUPPORTED, [], [f"the collateral has no TDX module identity {want} (module major "
                                           f"version {mod_ver}): {FIX_TDX_MODULE}"]
        ident = found[0]
    if not _hexeq(ident.get("mrsigner"), q.body["mrsignerseam"]):
        raise NotAuthentic(f"{where}: quote MRSIGNERSEAM does not match the TDX module identity")
    if not _masked_eq(q.body["seam_attributes"], ident.get("attributes"), ident.get("attributesMask")):
        raise NotAuthentic(f"{where}: quote SEAM_ATTRIBUTES do not match the TDX module identity")
    if mod_ver == 0:
        return status, [], []
    levels = _levels(ident, where, "tdxModuleIdentities")
    best = next((lv for lv in levels if lv.get("tcbStatus") == "UpToDate"), None)
    best_tcb = best.get("tcb") if best is not None else None
    best_svn = _svn(best_tcb.get("isvsvn"), where, "tdx module isvsvn") if isinstance(best_tcb, dict) else None
    short = ([f"TDX module {want} SVN has {mod_svn}, needs {best_svn}: {FIX_TDX_MODULE}"]
             if best_svn is not None and mod_svn < best_svn else [])
    for level in levels:
        tcb = level.get("tcb")
        if isinstance(tcb, dict) and mod_svn >= _svn(tcb.get("isvsvn"), where, "tdx module isvsvn"):
            mod_status = str(level.get("tcbStatus"))
            v.claims["tdx_module_status"] = mod_status
            return _converge(status, mod_status), _advisories(level), short
    v.claims["tdx_module_status"] = TCB_NOT_SUPPORTED
    return TCB_NOT_SUPPORTED, [], short or [f"TDX module {want} SVN {mod_svn} is below every level: {FIX_TDX_MODULE}"]


# ---------------------------------------------------------------------------------------
# verify
# ---------------------------------------------------------------------------------------


def verify(
    quote: bytes,
    *,
    collateral: dict[str, Any] | bytes | str | None,
    roots: list[x509.Certificate] | None,
    at: _dt.datetime,
    where: str,
) -> Verified:
    """Verify an Intel DCAP quote (SGX v3, TDX v4/v5) at ``at``; see the module docstring."""
    at = require_utc(at, where)
    trusted = list(roots) if roots is not None else [intel_sgx_root()]
    if not trusted:
        raise UsageError(f"{where}: no trusted roots")

    q = _abi.parse_quote(quote, where)

    # Quote signature by the attestation key.
    att_key = _p256_key(q.att_key, where, "attestation key")
    _verify_raw_sig(att_key, q.signature, q.signed, where, "quote signature (attestation key)")

    # PCK chain, then the QE report signed by the PCK and its binding of the attestation key.
    certs = _load_pem_chain(q.pck_chain_pem, where, "PCK certificate chain")
    path = _chain(certs, trusted, at, where, "PCK chain")
    pck = path[0]
    _verify_raw_sig(pck.public_key(), q.qe_report_sig, q.qe_report_raw, where, "QE report signature (PCK)")
    expected = hashlib.sha256(q.att_key + q.qe_auth).digest() + bytes(32)
    if q.qe_report["report_data"] != expected.hex():
        raise NotAuthentic(f"{where}: QE report data does not bind the attestation key (SHA-256 mismatch)")
    pck_ext = _pck_sgx_extension(pck, where)

    body = q.body
    report_data = bytes.fromhex(body["report_data"])
    claims: dict[str, Any] = {f"header.{k}": val for k, val in q.header.items()}
    claims.update({k: val for k, val in body.items()})
    claims.update({f"qe_report.{k}": val for k, val in q.qe_report.items()})
    claims.update({
        "body_type": q.body_type,
        "qe_auth_data": q.qe_auth.hex(),
        "attestation_key": q.att_key.hex(),
        "pck.fmspc": pck_ext["fmspc"],
        "pck.pceid": pck_ext["pceid"],
        "pck.pcesvn": pck_ext["pcesvn"],
        "pck.cpusvn": pck_ext.get("cpusvn", ""),
        "pck.sgx_type": pck_ext.get("sgx_type", -1),
        "pck.serial": f"{pck.serial_number:x}",
        "root_sha256": fingerprint(path[-1]),
        "quote_bytes_used": q.used,
        "trailing_bytes": q.trailing,
    })
    tcb: dict[str, int] = {f"sgx_comp{i:02d}": c for i, c in enumerate(pck_ext["components"], 1)}
    tcb["pcesvn"] = pck_ext["pcesvn"]
    tcb["qesvn"] = q.qe_report["isvsvn"]
    if q.tee == "sgx":
        flags = int.from_bytes(bytes.fromhex(body["attributes"])[:8], "little")
        debug = bool(flags & 0x2)
        measurements = {"MRENCLAVE": body["mrenclave"], "MRSIGNER": body["mrsigner"]}
        claims["ISVPRODID"] = body["isvprodid"]
        claims["ISVSVN"] = body["isvsvn"]
    else:
        td_attr = int.from_bytes(bytes.fromhex(body["td_attributes"]), "little")
        debug = bool(td_attr & 0x1)
        names = ["mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "mrowner", "mrownerconfig"]
        if q.body_type == 3:
            names.append("mrservicetd")
        measurements = {n.upper(): body[n] for n in names}
        for i, b in enumerate(bytes.fromhex(body["tee_tcb_svn"])):
            tcb[f"tdx_comp{i + 1:02d}"] = b

    issuer_cn = _cn(pck.issuer)
    kind = "Platform CA" if "Platform" in issuer_cn else "Processor CA" if "Processor" in issuer_cn else issuer_cn
    v = Verified(
        format=q.tee,
        time=at,
        report_data=report_data,
        debug=debug,
        measurements=measurements,
        tcb=tcb,
        signer=f"PCK ({kind})",
        chain=[c.subject.rfc4514_string() for c in path],
        claims=claims,
    )
    if q.header["qe_vendor_id"] != _abi.INTEL_QE_VENDOR_ID:
        v.notes.append(f"QE vendor id {q.header['qe_vendor_id']} is not Intel's")
    if q.trailing:
        v.notes.append(f"{q.trailing} trailing bytes after the signature data were ignored")
    if collateral is None:
        v.notes.append("no collateral supplied: TCB status, QE identity and CRLs not evaluated")
        return v
    doc = _load_collateral(collateral, where)
    _check_collateral(q, path, pck_ext, doc, trusted, at, where, v)
    return v


# ---------------------------------------------------------------------------------------
# Which platform a quote or a collateral bundle is for (to pick collateral, not to trust)
# ---------------------------------------------------------------------------------------


def quote_platform(quote: bytes, where: str) -> tuple[str, str]:
    """("SGX" | "TDX", FMSPC in lower-case hex) of a quote, from its PCK certificate.
    Nothing is verified: this only chooses which collateral to verify the quote with."""
    q = _abi.parse_quote(quote, where)
    certs = _load_pem_chain(q.pck_chain_pem, where, "PCK certificate chain")
    ext = _pck_sgx_extension(certs[0], where)
    return ("TDX" if q.tee == "tdx" else "SGX"), str(ext["fmspc"]).lower()


def collateral_platform(collateral: bytes | str, where: str) -> tuple[str, str]:
    """("SGX" | "TDX", FMSPC in lower-case hex) a collateral bundle's TCB info names;
    unverified, like ``quote_platform``, and ``MalformedInput`` naming the field."""
    doc = _load_collateral(collateral, where)
    try:
        body = json.loads(doc["tcb_info"])
    except (ValueError, RecursionError) as exc:
        raise MalformedInput(f"{where}: collateral.tcb_info is not JSON ({exc})") from None
    if not isinstance(body, dict) or not isinstance(body.get("fmspc"), str):
        raise MalformedInput(f"{where}: collateral.tcb_info has no fmspc")
    tee = body.get("id", "SGX")
    if tee not in ("SGX", "TDX"):
        raise MalformedInput(f"{where}: collateral.tcb_info id {tee!r} is neither SGX nor TDX")
    return str(tee), body["fmspc"].lower()
