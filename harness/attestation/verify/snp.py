"""AMD SEV-SNP attestation reports: authenticity.

The report's layout, TCB layouts and the encoding of AMD's certificate extensions are
``abi.snp``; policy is ``validate.policy``.  Here: signatures, the chain to a pinned
ARK, what the certificate states against what the report states, and AMD's CRL.

``verify(report, *, cert, roots=None, at, where, crl=None) -> Verified``
    Authenticity only (policy is ``policy.validate``):

    1. the report parses; SIGNATURE_ALGO is 1 (ECDSA P-384 with SHA-384); the report
       is signed (MASK_CHIP_KEY = 0, SIGNING_KEY is 0 = VCEK or 1 = VLEK);
    2. ``cert`` (DER or PEM; extra PEM blocks are used as intermediates) is a P-384
       VCEK (CN ``SEV-VCEK``) or VLEK (CN ``SEV-VLEK``) matching SIGNING_KEY, and its
       key verifies the signature (r and s are 72-byte little-endian fields at 0x2A0
       and 0x2E8) over bytes 0x000-0x29F;
    3. the certificate chains, at ``at``, VCEK → ASK ``SEV-<product>`` → ARK or
       VLEK → ASVK ``SEV-VLEK-<product>`` → ARK, with RSASSA-PSS, to a root that is
       pinned (``roots.PINNED``) and in ``roots`` (default: the bundled roots);
    4. the product (certificate extension 1.3.6.1.4.1.3704.1.2, e.g. ``Milan-B0``)
       names the ARK reached and, for v3+ reports, agrees with CPUID family/model;
    5. REPORTED_TCB, decoded with the product's TCB layout (Milan/Genoa:
       bootloader byte 0, tee 1, snp 6, microcode 7; Turin: fmc 0, bootloader 1,
       tee 2, snp 3, microcode 7), equals the certificate's TCB extensions
       1.3.6.1.4.1.3704.1.3.{1 bl, 2 tee, 3 snp, 8 ucode, 9 fmc};
    6. for a VCEK, the hwID extension 1.3.6.1.4.1.3704.1.4 equals CHIP_ID (Turin: the
       first 8 bytes); a VLEK carries no hwID;
    7. when ``crl`` is given (DER or PEM; AMD's KDS ``vcek/v1/{product}/crl``, or
       ``vlek/v1/{product}/crl`` for a VLEK): its issuer is the ARK the chain reached,
       its signature verifies under the ARK's key (RSASSA-PSS, SHA-384, MGF1-SHA-384,
       48-byte salt), ``at`` lies within [thisUpdate, nextUpdate], and neither the
       ASK/ASVK nor the VCEK/VLEK serial number is listed.

    A ``crl`` that does not decode is ``MalformedInput`` (checked before anything
    else).  Other failures are ``NotAuthentic`` (one line naming ``where``), e.g.
    ``revoked: <subject> serial <hex> since <date>``.  The ``Verified`` record carries
    REPORTED_TCB as ``tcb``, MEASUREMENT (and HOST_DATA, ID/AUTHOR key digests,
    FAMILY_ID, IMAGE_ID) as ``measurements``, POLICY bit 19 as ``debug``, VMPL and
    every parsed field in ``claims``; ``collateral`` is True exactly when a CRL was
    checked (otherwise a note says AMD revocation was not checked).
"""

from __future__ import annotations

import datetime as _dt
import warnings

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import SignatureAlgorithmOID

from ...errors import MalformedInput, NotAuthentic
from ..abi import snp as _abi
from ..model import Verified
from . import roots as _roots
from .x509chain import (
    load_certificates,
    require_utc,
    subject,
    verify_chain,
)


def _ext_bytes(cert: x509.Certificate, oid: str, where: str) -> bytes | None:
    try:
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid))
    except x509.ExtensionNotFound:
        return None
    except Exception as exc:  # extensions are decoded lazily (ValueError, DuplicateExtension, ...)
        raise MalformedInput(f"{where}: certificate {subject(cert)}: unparsable extensions ({exc})") from None
    val = ext.value
    if isinstance(val, x509.UnrecognizedExtension):
        return val.value
    return None


def _cert_product(cert: x509.Certificate, where: str) -> tuple[str, str]:
    raw = _ext_bytes(cert, _abi.OID_PRODUCT, where)
    if raw is None:
        raise NotAuthentic(f"{where}: certificate {subject(cert)} has no productName extension ({_abi.OID_PRODUCT})")
    name = _abi.der_string(raw)
    if name is None:
        raise NotAuthentic(f"{where}: certificate productName extension is not an IA5String")
    line = name.split("-", 1)[0]
    if line not in _abi.TCB_LAYOUT:
        raise NotAuthentic(f"{where}: certificate product {name!r} is not a known SEV-SNP product")
    return line, name


def _cn(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


# ---- AMD certificate revocation lists (KDS vcek/v1/{product}/crl, vlek/v1/{product}/crl) ----

# AMD signs its CRLs like its certificates: RSASSA-PSS, SHA-384, MGF1-SHA-384, 48-byte salt.
CRL_PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


def _iso(t: _dt.datetime) -> str:
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_crl(data: bytes, where: str) -> x509.CertificateRevocationList:
    """An AMD CRL (DER, or PEM ``X509 CRL``), fully decoded; ``MalformedInput`` if not."""
    what = f"{where}: AMD CRL (collateral)"
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedInput(f"{what} must be bytes")
    b = bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            crl = x509.load_pem_x509_crl(b) if b"-----BEGIN X509 CRL-----" in b else x509.load_der_x509_crl(b)
            # decode now what cryptography decodes lazily
            crl.issuer.rfc4514_string()
            _ = crl.last_update_utc, crl.next_update_utc, crl.signature, crl.tbs_certlist_bytes
            _ = crl.signature_algorithm_oid
            for ext in crl.extensions:
                _ = ext.value
            for entry in crl:
                _ = entry.serial_number, entry.revocation_date_utc
                for ext in entry.extensions:
                    _ = ext.value
        except Exception as exc:  # untrusted DER: ValueError and friends
            text = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
            raise MalformedInput(f"{what}: not a well-formed DER or PEM X.509 CRL ({text})") from None
    return crl


def check_crl(crl: x509.CertificateRevocationList, path: list[x509.Certificate], at: _dt.datetime,
              where: str) -> str:
    """Check ``crl`` against the verified ``path`` (leaf, ASK/ASVK, ARK) at ``at``;
    return a note describing the CRL.  ``NotAuthentic`` on any failure."""
    ark = path[-1]
    if crl.issuer != ark.subject:
        raise NotAuthentic(f"{where}: AMD CRL issuer {crl.issuer.rfc4514_string()} is not the ARK the chain "
                           f"reached ({subject(ark)})")
    key = ark.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise NotAuthentic(f"{where}: ARK {subject(ark)} key is not RSA: cannot check the AMD CRL signature")
    if crl.signature_algorithm_oid != SignatureAlgorithmOID.RSASSA_PSS:
        raise NotAuthentic(f"{where}: AMD CRL is not signed with RSASSA-PSS "
                           f"(signature algorithm {crl.signature_algorithm_oid.dotted_string})")
    try:
        key.verify(crl.signature, crl.tbs_certlist_bytes, CRL_PADDING, hashes.SHA384())
    except InvalidSignature:
        raise NotAuthentic(f"{where}: AMD CRL signature does not verify under {subject(ark)} "
                           "(RSASSA-PSS SHA-384)") from None
    this_update, next_update = crl.last_update_utc, crl.next_update_utc
    if at < this_update:
        raise NotAuthentic(f"{where}: AMD CRL not yet valid at {_iso(at)} (thisUpdate {_iso(this_update)})")
    if next_update is None:
        raise NotAuthentic(f"{where}: AMD CRL has no nextUpdate: its freshness cannot be judged")
    if at > next_update:
        raise NotAuthentic(f"{where}: AMD CRL expired (nextUpdate {_iso(next_update)}, "
                           f"verification time {_iso(at)})")
    for cert in (path[1], path[0]):
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None:
            raise NotAuthentic(f"{where}: revoked: {subject(cert)} serial {cert.serial_number:x} "
                               f"since {_iso(entry.revocation_date_utc)} (AMD CRL of {subject(ark)})")
    n = sum(1 for _ in crl)
    return (f"AMD CRL of {_cn(ark)} checked: {n} revoked serial(s), none in the chain "
            f"(thisUpdate {_iso(this_update)}, nextUpdate {_iso(next_update)})")


def verify(report: bytes, *, cert: bytes, roots: list[x509.Certificate] | None = None,
           at: _dt.datetime, where: str, crl: bytes | None = None) -> Verified:
    """Verify an SEV-SNP report signed by the VCEK/VLEK ``cert`` at time ``at``,
    and, when ``crl`` is given, that AMD has not revoked the chain."""
    at = require_utc(at, where)
    r = _abi.parse_report(report, where)
    revocations = None if crl is None else load_crl(crl, where)
    certs = load_certificates(cert, f"{where}: certificate")
    leaf, extra = certs[0], certs[1:]
    notes: list[str] = []

    # 1. Is the report signed at all, and by which kind of key?
    if r.mask_chip_key:
        raise NotAuthentic(f"{where}: report is not signed (MASK_CHIP_KEY=1, offset 0x048)")
    if r.signing_key not in (0, 1):
        raise NotAuthentic(f"{where}: report is not signed by a VCEK or VLEK "
                           f"(SIGNING_KEY={r.signing_key}, offset 0x048 bits 4:2)")
    signer = _abi.SIGNING_KEYS[r.signing_key]
    cn = _cn(leaf)
    has_csp = _ext_bytes(leaf, _abi.OID_CSP_ID, where) is not None
    leaf_kind = "VLEK" if cn == "SEV-VLEK" or has_csp else "VCEK" if cn == "SEV-VCEK" else None
    if leaf_kind is None:
        raise NotAuthentic(f"{where}: certificate {subject(leaf)} is neither a VCEK (CN=SEV-VCEK) nor a VLEK (CN=SEV-VLEK)")
    if leaf_kind != signer:
        raise NotAuthentic(f"{where}: report SIGNING_KEY says {signer} but the certificate is a {leaf_kind}")

    # 2. Signature over 0x000-0x29F with the certificate's P-384 key.
    try:
        key = leaf.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise MalformedInput(f"{where}: {signer} certificate public key does not parse") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        raise NotAuthentic(f"{where}: {signer} certificate key is not ECDSA P-384")
    if r.sig_r == 0 or r.sig_s == 0:
        raise NotAuthentic(f"{where}: report signature (offset 0x2A0) is zero")
    if r.sig_r.bit_length() > 384 or r.sig_s.bit_length() > 384:
        raise NotAuthentic(f"{where}: report signature r or s (offset 0x2A0/0x2E8) exceeds 384 bits")
    try:
        key.verify(encode_dss_signature(r.sig_r, r.sig_s), r.signed_part, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise NotAuthentic(f"{where}: report signature does not verify under the {signer} certificate") from None

    # 3. Chain to a pinned ARK.
    pool = _roots.bundled_roots() if roots is None else list(roots)
    anchors = _roots.anchors(pool)
    if not anchors:
        raise NotAuthentic(f"{where}: no pinned AMD root among the given roots")
    inter = [*extra, *_roots.intermediates(pool)]
    path = verify_chain(leaf, inter, anchors, at, where)
    if len(path) != 3:
        raise NotAuthentic(f"{where}: {signer} chain has {len(path)} certificates, expected {signer} → "
                           f"{'ASVK' if signer == 'VLEK' else 'ASK'} → ARK")

    # 4. Product: certificate, ARK and (v3+) CPUID agree.
    product, product_name = _cert_product(leaf, where)
    want_ark = f"ARK-{product}"
    want_mid = f"SEV-VLEK-{product}" if signer == "VLEK" else f"SEV-{product}"
    if _cn(path[-1]) != want_ark or _roots.pinned_name(path[-1]) != want_ark:
        raise NotAuthentic(f"{where}: {product_name} {signer} chains to {subject(path[-1])}, expected {want_ark}")
    if _cn(path[1]) != want_mid:
        raise NotAuthentic(f"{where}: {signer} is issued by {subject(path[1])}, expected CN={want_mid}")
    if r.cpuid_fam_id is not None and r.cpuid_mod_id is not None:
        if r.cpuid_fam_id == 0 and r.cpuid_mod_id == 0:
            notes.append("report v3+ carries no CPUID identification (all zero)")
        else:
            cpu_product = _abi.product_from_cpuid(r.cpuid_fam_id, r.cpuid_mod_id)
            if cpu_product is None:
                notes.append(f"CPUID family {r.cpuid_fam_id:#x} model {r.cpuid_mod_id:#x} is not a known product")
            elif cpu_product != product:
                raise NotAuthentic(f"{where}: report CPUID (family {r.cpuid_fam_id:#x}, model {r.cpuid_mod_id:#x}) "
                                   f"is {cpu_product} but the {signer} is for {product_name}")

    # 5. REPORTED_TCB equals the certificate's TCB.
    tcb = _abi.tcb_components(r.reported_tcb, product)
    for comp in tcb:
        raw = _ext_bytes(leaf, _abi.OID_TCB[comp], where)
        if raw is None:
            raise NotAuthentic(f"{where}: {signer} certificate has no {comp} TCB extension ({_abi.OID_TCB[comp]})")
        cert_val = _abi.der_integer(raw)
        if cert_val is None:
            raise NotAuthentic(f"{where}: certificate extension {_abi.OID_TCB[comp]} is not a small DER INTEGER")
        if cert_val != tcb[comp]:
            raise NotAuthentic(f"{where}: REPORTED_TCB {comp} (offset 0x180) = {tcb[comp]} but the {signer} "
                               f"certificate says {cert_val}: certificate is for another TCB")

    # 6. Hardware id (VCEK only).
    hwid = _ext_bytes(leaf, _abi.OID_HWID, where)
    if signer == "VCEK":
        if hwid is None:
            raise NotAuthentic(f"{where}: VCEK certificate has no hwID extension ({_abi.OID_HWID})")
        hwid = _abi.hwid_bytes(hwid)
        want = r.chip_id[:8] if product == "Turin" and len(hwid) == 8 else r.chip_id
        if not any(r.chip_id):
            notes.append("CHIP_ID is masked (all zero): VCEK hwID not compared; the signature still binds the chip")
        elif hwid != want:
            raise NotAuthentic(f"{where}: CHIP_ID (offset 0x1A0) does not match the VCEK hwID extension: "
                               "certificate is for another chip")
    else:
        csp = _ext_bytes(leaf, _abi.OID_CSP_ID, where)
        if csp is not None:
            notes.append(f"VLEK issued to CSP {_abi.der_string(csp) or csp.hex()}")

    claims = _abi.claims(r, product, product_name)
    measurements = {
        "MEASUREMENT": r.measurement.hex(),
        "HOST_DATA": r.host_data.hex(),
        "ID_KEY_DIGEST": r.id_key_digest.hex(),
        "AUTHOR_KEY_DIGEST": r.author_key_digest.hex(),
        "FAMILY_ID": r.family_id.hex(),
        "IMAGE_ID": r.image_id.hex(),
    }
    # 7. Revocation (AMD CRL signed by the ARK).
    if revocations is None:
        notes.append("AMD CRLs (ARK/ASK revocation) are not checked")
    else:
        notes.append(check_crl(revocations, path, at, where))
    return Verified(
        format="snp",
        time=at,
        report_data=r.report_data,
        debug=r.debug,
        measurements=measurements,
        tcb=tcb,
        tcb_status=None,
        vmpl=r.vmpl,
        signer=signer,
        chain=[subject(c) for c in path],
        collateral=revocations is not None,
        claims=claims,
        notes=notes,
    )
