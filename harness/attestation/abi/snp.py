"""AMD SEV-SNP binary formats: the ATTESTATION_REPORT, its TCB_VERSION layouts, the
values AMD encodes in VCEK/VLEK certificate extensions, and the certificate table of
an extended guest request.  Decoding only: whether a report is authentic is
``verify.snp``, whether it is acceptable is ``validate.policy``.

``parse_report(data, where) -> Report``
    The 1184-byte (0x4A0) report, versions 2 to 5, read field by field at the offsets
    of the SEV-SNP firmware ABI specification (all integers little-endian).
    ``MalformedInput`` names the field and its offset.

``encode_report(...)`` / ``with_signature(report, r, s)``
    The inverse for the few fields a test double sets (``testing.sim``).

``split_snp(data, where) -> (report, [certificate, ...])``
    A report followed by configfs-tsm's certificate table (auxblob).
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from typing import Any

from ...errors import MalformedInput, NotAuthentic

REPORT_SIZE = 0x4A0
SIGNED_END = 0x2A0
SUPPORTED_VERSIONS = (2, 3, 4, 5)
SIG_ALGO_ECDSA_P384_SHA384 = 1

POLICY_DEBUG_BIT = 19

# X.509 extensions of AMD's VCEK/VLEK certificates (AMD KDS interface specification).
OID_PRODUCT = "1.3.6.1.4.1.3704.1.2"
OID_HWID = "1.3.6.1.4.1.3704.1.4"
OID_CSP_ID = "1.3.6.1.4.1.3704.1.5"
OID_TCB = {
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


def encode_report(*, version: int, policy: int, vmpl: int, report_data: bytes, measurement: bytes,
                  guest_svn: int = 0) -> bytes:
    """An unsigned ATTESTATION_REPORT holding these fields, SIGNATURE_ALGO 1 (ECDSA
    P-384/SHA-384), SIGNING_KEY 0 (VCEK) and zeros elsewhere.  Sign ``[:SIGNED_END]``
    and add the signature with ``with_signature``."""
    if len(report_data) != 64:
        raise ValueError("REPORT_DATA must be 64 bytes")
    if len(measurement) != 48:
        raise ValueError("MEASUREMENT must be 48 bytes")
    rep = bytearray(REPORT_SIZE)
    struct.pack_into("<IIQ", rep, 0x000, version, guest_svn, policy)
    struct.pack_into("<II", rep, 0x030, vmpl, SIG_ALGO_ECDSA_P384_SHA384)
    rep[0x050:0x090] = report_data
    rep[0x090:0x0C0] = measurement
    return bytes(rep)


def with_signature(report: bytes, r: int, s: int) -> bytes:
    """``report`` with SIGNATURE r and s (72-byte little-endian fields at 0x2A0 and 0x2E8)."""
    rep = bytearray(report)
    rep[0x2A0:0x2E8] = r.to_bytes(72, "little")
    rep[0x2E8:0x330] = s.to_bytes(72, "little")
    return bytes(rep)


def tcb_components(raw: int, product: str) -> dict[str, int]:
    """A TCB_VERSION value split into named components with ``product``'s layout."""
    layout = TCB_LAYOUT.get(product)
    if layout is None:
        # The product comes from the signing certificate: one AMD never issued for a
        # known product line cannot be the key of a genuine report.
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


# ---- values of AMD's certificate extensions (raw extension bytes in, value out) ----

def der_integer(raw: bytes) -> int | None:
    """A TCB extension's value: AMD encodes it as a DER INTEGER (tag 0x02, short
    length).  None when ``raw`` is not one."""
    if len(raw) < 3 or raw[0] != 0x02 or raw[1] != len(raw) - 2 or raw[1] > 8:
        return None
    return int.from_bytes(raw[2:], "big", signed=True)


def der_string(raw: bytes) -> str | None:
    """An IA5String (0x16) or UTF8String (0x0C) with a short length, as ASCII; None if not one."""
    if len(raw) >= 2 and raw[0] in (0x16, 0x0C) and raw[1] == len(raw) - 2:
        try:
            return raw[2:].decode("ascii")
        except UnicodeDecodeError:
            return None
    return None


def hwid_bytes(raw: bytes) -> bytes:
    """The hwID extension's value: the raw CHIP_ID bytes, also when they come wrapped
    in an OCTET STRING (tolerated)."""
    if len(raw) == 66 and raw[:2] == b"\x04\x40":
        return raw[2:]
    return raw


def claims(r: Report, product: str, product_name: str) -> dict[str, Any]:
    """Every field of ``r`` for ``Verified.claims``: bytes as hex, POLICY and
    PLATFORM_INFO bits by name, TCB values split with ``product``'s layout."""
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
        "family_id": r.family_id.hex(),
        "image_id": r.image_id.hex(),
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
        "report_data": r.report_data.hex(),
        "measurement": r.measurement.hex(),
        "host_data": r.host_data.hex(),
        "id_key_digest": r.id_key_digest.hex(),
        "author_key_digest": r.author_key_digest.hex(),
        "report_id": r.report_id.hex(),
        "report_id_ma": r.report_id_ma.hex(),
        "reported_tcb": tcb_components(r.reported_tcb, layout_product),
        "reported_tcb_raw": f"{r.reported_tcb:016x}",
        "chip_id": r.chip_id.hex(),
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


# ---- certificate table of an extended guest request (configfs-tsm auxblob) ----

# GHCB specification, extended guest request.
_SNP_CERT_GUIDS = {
    uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd"): "VCEK",
    uuid.UUID("a8074bc2-a25a-483e-aae6-39c045a0b8a1"): "VLEK",
    uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782"): "ASK",
    uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae"): "ARK",
}


def split_snp(data: bytes, where: str) -> tuple[bytes, list[bytes]]:
    """The reference probe's SNP container: the 1184-byte report, then the
    certificate table of configfs-tsm's auxblob (GUID, offset, length entries ending
    with a zero GUID; offsets from the table's start).  VCEK/VLEK first."""
    report, table = data[:REPORT_SIZE], data[REPORT_SIZE:]
    certs: list[tuple[int, bytes]] = []
    off = 0
    while table and off + 24 <= len(table):
        guid = uuid.UUID(bytes_le=table[off : off + 16])
        c_off, c_len = struct.unpack_from("<II", table, off + 16)
        off += 24
        if guid.int == 0:
            break
        if c_off + c_len > len(table):
            raise MalformedInput(f"{where}: SNP certificate table entry {guid} runs past the table")
        kind = _SNP_CERT_GUIDS.get(guid)
        if kind:
            certs.append((0 if kind in ("VCEK", "VLEK") else 1, table[c_off : c_off + c_len]))
    return report, [c for _, c in sorted(certs, key=lambda x: x[0])]
