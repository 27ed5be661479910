"""AMD SEV-SNP attestation reports: parse (ABI spec, ATTESTATION_REPORT) and verify.

``parse_report(data, where) -> Report``
    The 1184-byte (0x4A0) report, versions 2 to 5, read field by field at the offsets
    of the SEV-SNP firmware ABI specification (all integers little-endian).
    ``MalformedInput`` names the field and its offset.

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
import struct
import warnings
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import SignatureAlgorithmOID

from ...errors import MalformedInput, NotAuthentic
from ..model import Verified
from . import roots as _roots
from .x509chain import (
    load_certificates,
    require_utc,
    subject,
    verify_chain,
)

REPORT_SIZE = 0x4A0
SIGNED_END = 0x2A0
SUPPORTED_VERSIONS = (2, 3, 4, 5)
SIG_ALGO_ECDSA_P384_SHA384 = 1

POLICY_DEBUG_BIT = 19

_OID_PRODUCT = "1.3.6.1.4.1.3704.1.2"
_OID_HWID = "1.3.6.1.4.1.3704.1.4"
_OID_CSP_ID = "1.3.6.1.4.1.3704.1.5"
_OID_TCB = {
    "bootloader": "1.3.6.1.4.1.3704.1.3.1",
    "tee": "1.3.6.1.4.1.3704.1.3.2",
    "snp": "1.3.6.1.4.1.3704.1.3.3",
    "microcode": "1.3.6.1.4.1.3704.1.3.8",
    "fmc": "1.3.6.1.4.1.3704.1.3.9",
}

# TCB_VERSION byte positions per product (ABI spec "TCB_VERSION Structure").
TCB_LAYOUT: dict[str, dict[str, int]] = {
    "Milan": {"bootloader": 0, "tee": 1, "snp": 6, "microcode": 7},
    "Genoa": {"bootloader": 0, "tee": 1, "snp": 6, "microcode": 7},
    "Turin": {"fmc": 0, "bootloader": 1, "tee": 2, "snp": 3, "microcode": 7},
}

SIGNING_KEYS = {0: "VCEK", 1: "VLEK", 7: "none"}


@dataclass(frozen=True)
class Report:
    """A parsed ATTESTATION_REPORT; byte fields are raw, ``raw`` is the whole report."""

    raw: bytes
    version: int
    guest_svn: int
    policy: int
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb: int
    platform_info: int
    author_key_en: bool
    mask_chip_key: bool
    signing_key: int
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    report_id_ma: bytes
    reported_tcb: int
    cpuid_fam_id: int | None
    cpuid_mod_id: int | None
    cpuid_step: int | None
    chip_id: bytes
    committed_tcb: int
    current_version: tuple[int, int, int]  # major, minor, build
    committed_version: tuple[int, int, int]
    launch_tcb: int
    launch_mit_vector: int | None
    current_mit_vector: int | None
    sig_r: int
    sig_s: int

    @property
    def signed_part(self) -> bytes:
        return self.raw[:SIGNED_END]

    @property
    def debug(self) -> bool:
        return bool(self.policy >> POLICY_DEBUG_BIT & 1)


def _u32(b: bytes, off: int) -> int:
    v: int = struct.unpack_from("<I", b, off)[0]
    return v


def _u64(b: bytes, off: int) -> int:
    v: int = struct.unpack_from("<Q", b, off)[0]
    return v


def parse_report(data: bytes, where: str) -> Report:
    """Parse an ATTESTATION_REPORT (structure checks only; nothing is trusted yet)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedInput(f"{where}: an SEV-SNP report must be bytes")
    b = bytes(data)
    if len(b) != REPORT_SIZE:
        what = "truncated" if len(b) < REPORT_SIZE else "too long"
        raise MalformedInput(f"{where}: SEV-SNP report {what}: {len(b)} bytes, expected {REPORT_SIZE} (0x4A0)")
    version = _u32(b, 0x000)
    if version not in SUPPORTED_VERSIONS:
        raise MalformedInput(f"{where}: VERSION (offset 0x000) = {version}, expected one of "
                             f"{', '.join(map(str, SUPPORTED_VERSIONS))}")
    vmpl = _u32(b, 0x030)
    if vmpl > 3:
        raise MalformedInput(f"{where}: VMPL (offset 0x030) = {vmpl:#x}, expected 0..3")
    sig_algo = _u32(b, 0x034)
    if sig_algo != SIG_ALGO_ECDSA_P384_SHA384:
        raise MalformedInput(f"{where}: SIGNATURE_ALGO (offset 0x034) = {sig_algo}, expected 1 (ECDSA P-384/SHA-384)")
    if any(b[0x330:REPORT_SIZE]):
        raise MalformedInput(f"{where}: SIGNATURE reserved bytes (offset 0x330-0x49F) must be zero")
    flags = _u32(b, 0x048)
    v3 = version >= 3
    v5 = version >= 5
    return Report(
        raw=b,
        version=version,
        guest_svn=_u32(b, 0x004),
        policy=_u64(b, 0x008),
        family_id=b[0x010:0x020],
        image_id=b[0x020:0x030],
        vmpl=vmpl,
        signature_algo=sig_algo,
        current_tcb=_u64(b, 0x038),
        platform_info=_u64(b, 0x040),
        author_key_en=bool(flags & 1),
        mask_chip_key=bool(flags >> 1 & 1),
        signing_key=flags >> 2 & 0x7,
        report_data=b[0x050:0x090],
        measurement=b[0x090:0x0C0],
        host_data=b[0x0C0:0x0E0],
        id_key_digest=b[0x0E0:0x110],
        author_key_digest=b[0x110:0x140],
        report_id=b[0x140:0x160],
        report_id_ma=b[0x160:0x180],
        reported_tcb=_u64(b, 0x180),
        cpuid_fam_id=b[0x188] if v3 else None,
        cpuid_mod_id=b[0x189] if v3 else None,
        cpuid_step=b[0x18A] if v3 else None,
        chip_id=b[0x1A0:0x1E0],
        committed_tcb=_u64(b, 0x1E0),
        current_version=(b[0x1EA], b[0x1E9], b[0x1E8]),
        committed_version=(b[0x1EE], b[0x1ED], b[0x1EC]),
        launch_tcb=_u64(b, 0x1F0),
        launch_mit_vector=_u64(b, 0x1F8) if v5 else None,
        current_mit_vector=_u64(b, 0x200) if v5 else None,
        sig_r=int.from_bytes(b[0x2A0:0x2E8], "little"),
        sig_s=int.from_bytes(b[0x2E8:0x330], "little"),
    )


def tcb_components(raw: int, product: str) -> dict[str, int]:
    """A TCB_VERSION value split into named components with ``product``'s layout."""
    layout = TCB_LAYOUT.get(product)
    if layout is None:
        raise NotAuthentic(f"unknown SEV-SNP product {product!r}")
    b = raw.to_bytes(8, "little")
    return {name: b[pos] for name, pos in layout.items()}


def product_from_cpuid(family: int, model: int) -> str | None:
    """The product line of a v3+ report's CPUID family/model (None if unknown)."""
    if family == 0x19 and model <= 0x0F:
        return "Milan"
    if family == 0x19 and (0x10 <= model <= 0x1F or 0xA0 <= model <= 0xAF):
        return "Genoa"
    if family == 0x1A and model <= 0x11:
        return "Turin"
    return None


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


def _der_integer(raw: bytes, what: str, where: str) -> int:
    # AMD encodes the TCB extensions as a DER INTEGER (tag 0x02, short length).
    if len(raw) < 3 or raw[0] != 0x02 or raw[1] != len(raw) - 2 or raw[1] > 8:
        raise NotAuthentic(f"{where}: certificate extension {what} is not a small DER INTEGER")
    return int.from_bytes(raw[2:], "big", signed=True)


def _der_string(raw: bytes) -> str | None:
    # IA5String (0x16) or UTF8String (0x0C) with a short length.
    if len(raw) >= 2 and raw[0] in (0x16, 0x0C) and raw[1] == len(raw) - 2:
        try:
            return raw[2:].decode("ascii")
        except UnicodeDecodeError:
            return None
    return None


def _cert_product(cert: x509.Certificate, where: str) -> tuple[str, str]:
    raw = _ext_bytes(cert, _OID_PRODUCT, where)
    if raw is None:
        raise NotAuthentic(f"{where}: certificate {subject(cert)} has no productName extension ({_OID_PRODUCT})")
    name = _der_string(raw)
    if name is None:
        raise NotAuthentic(f"{where}: certificate productName extension is not an IA5String")
    line = name.split("-", 1)[0]
    if line not in TCB_LAYOUT:
        raise NotAuthentic(f"{where}: certificate product {name!r} is not a known SEV-SNP product")
    return line, name


def _cn(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def _hex(b: bytes) -> str:
    return b.hex()


def _claims(r: Report, product: str, product_name: str) -> dict[str, Any]:
    layout_product = product
    c: dict[str, Any] = {
        "version": r.version,
        "guest_svn": r.guest_svn,
        "policy": r.policy,
        "policy_abi_minor": r.policy & 0xFF,
        "policy_abi_major": r.policy >> 8 & 0xFF,
        "policy_smt": bool(r.policy >> 16 & 1),
        "policy_migrate_ma": bool(r.policy >> 18 & 1),
        "policy_debug": r.debug,
        "policy_single_socket": bool(r.policy >> 20 & 1),
        "family_id": _hex(r.family_id),
        "image_id": _hex(r.image_id),
        "vmpl": r.vmpl,
        "signature_algo": r.signature_algo,
        "current_tcb": tcb_components(r.current_tcb, layout_product),
        "current_tcb_raw": f"{r.current_tcb:016x}",
        "platform_info": r.platform_info,
        "platform_info_smt_en": bool(r.platform_info & 1),
        "platform_info_tsme_en": bool(r.platform_info >> 1 & 1),
        "author_key_en": r.author_key_en,
        "mask_chip_key": r.mask_chip_key,
        "signing_key": SIGNING_KEYS.get(r.signing_key, str(r.signing_key)),
        "report_data": _hex(r.report_data),
        "measurement": _hex(r.measurement),
        "host_data": _hex(r.host_data),
        "id_key_digest": _hex(r.id_key_digest),
        "author_key_digest": _hex(r.author_key_digest),
        "report_id": _hex(r.report_id),
        "report_id_ma": _hex(r.report_id_ma),
        "reported_tcb": tcb_components(r.reported_tcb, layout_product),
        "reported_tcb_raw": f"{r.reported_tcb:016x}",
        "chip_id": _hex(r.chip_id),
        "committed_tcb": tcb_components(r.committed_tcb, layout_product),
        "committed_tcb_raw": f"{r.committed_tcb:016x}",
        "current_version": "{}.{}.{}".format(*r.current_version),
        "committed_version": "{}.{}.{}".format(*r.committed_version),
        "launch_tcb": tcb_components(r.launch_tcb, layout_product),
        "launch_tcb_raw": f"{r.launch_tcb:016x}",
        "product": product,
        "product_name": product_name,
    }
    if r.cpuid_fam_id is not None:
        c["cpuid_fam_id"] = r.cpuid_fam_id
        c["cpuid_mod_id"] = r.cpuid_mod_id
        c["cpuid_step"] = r.cpuid_step
    if r.launch_mit_vector is not None:
        c["launch_mit_vector"] = r.launch_mit_vector
        c["current_mit_vector"] = r.current_mit_vector
    return c


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
    r = parse_report(report, where)
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
    signer = SIGNING_KEYS[r.signing_key]
    cn = _cn(leaf)
    has_csp = _ext_bytes(leaf, _OID_CSP_ID, where) is not None
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
            cpu_product = product_from_cpuid(r.cpuid_fam_id, r.cpuid_mod_id)
            if cpu_product is None:
                notes.append(f"CPUID family {r.cpuid_fam_id:#x} model {r.cpuid_mod_id:#x} is not a known product")
            elif cpu_product != product:
                raise NotAuthentic(f"{where}: report CPUID (family {r.cpuid_fam_id:#x}, model {r.cpuid_mod_id:#x}) "
                                   f"is {cpu_product} but the {signer} is for {product_name}")

    # 5. REPORTED_TCB equals the certificate's TCB.
    tcb = tcb_components(r.reported_tcb, product)
    for comp in tcb:
        raw = _ext_bytes(leaf, _OID_TCB[comp], where)
        if raw is None:
            raise NotAuthentic(f"{where}: {signer} certificate has no {comp} TCB extension ({_OID_TCB[comp]})")
        cert_val = _der_integer(raw, _OID_TCB[comp], where)
        if cert_val != tcb[comp]:
            raise NotAuthentic(f"{where}: REPORTED_TCB {comp} (offset 0x180) = {tcb[comp]} but the {signer} "
                               f"certificate says {cert_val}: certificate is for another TCB")

    # 6. Hardware id (VCEK only).
    hwid = _ext_bytes(leaf, _OID_HWID, where)
    if signer == "VCEK":
        if hwid is None:
            raise NotAuthentic(f"{where}: VCEK certificate has no hwID extension ({_OID_HWID})")
        if len(hwid) == 66 and hwid[:2] == b"\x04\x40":  # tolerate an OCTET STRING wrapper
            hwid = hwid[2:]
        want = r.chip_id[:8] if product == "Turin" and len(hwid) == 8 else r.chip_id
        if not any(r.chip_id):
            notes.append("CHIP_ID is masked (all zero): VCEK hwID not compared; the signature still binds the chip")
        elif hwid != want:
            raise NotAuthentic(f"{where}: CHIP_ID (offset 0x1A0) does not match the VCEK hwID extension: "
                               "certificate is for another chip")
    else:
        csp = _ext_bytes(leaf, _OID_CSP_ID, where)
        if csp is not None:
            notes.append(f"VLEK issued to CSP {_der_string(csp) or csp.hex()}")

    claims = _claims(r, product, product_name)
    measurements = {
        "MEASUREMENT": _hex(r.measurement),
        "HOST_DATA": _hex(r.host_data),
        "ID_KEY_DIGEST": _hex(r.id_key_digest),
        "AUTHOR_KEY_DIGEST": _hex(r.author_key_digest),
        "FAMILY_ID": _hex(r.family_id),
        "IMAGE_ID": _hex(r.image_id),
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
