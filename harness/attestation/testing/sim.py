"""Simulated attestation, for development only.

When a run has no TEE to attest it (no configfs-tsm, no /dev/nsm), development
profiles may accept *simulated* evidence: an SEV-SNP attestation report (the real
1184-byte layout, written and read by ``abi.snp``) signed by a certificate chain
made up on the spot.  It exercises the same binding and verification paths as
real evidence, but proves nothing about hardware: its root is generated per run
and pinned nowhere.  Only profiles whose ``attestation.formats`` list ``"sim"``
accept it; ``teecert verify`` says "simulated" wherever it appears.

Container (all lengths unsigned 32-bit little-endian)::

    "TEECERT-SIM-v1\\0\\0" (16 bytes) | len | report (1184) | len | leaf DER | len | root DER
"""

from __future__ import annotations

import datetime as _dt
import struct

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from ...errors import MalformedInput, NotAuthentic
from ..abi import snp
from ..model import Verified
from ..verify.x509chain import load_certificates, require_utc

MAGIC = b"TEECERT-SIM-v1\x00\x00"
_MAX_PART = 64 * 1024
POLICY_NO_DEBUG = 0x30000  # ABI 0.0, SMT allowed, DEBUG=0 (the same policy word real guests use)


def is_sim(data: bytes) -> bool:
    return data[: len(MAGIC)] == MAGIC


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "teecert simulated platform")])


def make(report_data: bytes, *, measurement: bytes, now: _dt.datetime, days: int = 30) -> bytes:
    """Simulated evidence binding ``report_data`` (64 bytes), valid ``days`` from ``now``."""
    if len(report_data) != 64:
        raise ValueError("report data must be 64 bytes")
    root_key = ec.generate_private_key(ec.SECP384R1())
    leaf_key = ec.generate_private_key(ec.SECP384R1())
    start, end = now - _dt.timedelta(minutes=5), now + _dt.timedelta(days=days)
    root = (x509.CertificateBuilder().subject_name(_name("teecert simulated ARK")).issuer_name(_name("teecert simulated ARK"))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .sign(root_key, hashes.SHA384()))
    leaf = (x509.CertificateBuilder().subject_name(_name("teecert simulated VCEK")).issuer_name(root.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(root_key, hashes.SHA384()))
    unsigned = snp.encode_report(version=2, policy=POLICY_NO_DEBUG, vmpl=0, report_data=report_data,
                                 measurement=measurement[:48].ljust(48, b"\0"))
    r, s = decode_dss_signature(leaf_key.sign(unsigned[: snp.SIGNED_END], ec.ECDSA(hashes.SHA384())))
    parts = [snp.with_signature(unsigned, r, s), leaf.public_bytes(Encoding.DER), root.public_bytes(Encoding.DER)]
    return MAGIC + b"".join(struct.pack("<I", len(p)) + p for p in parts)


def _split(data: bytes, where: str) -> list[bytes]:
    if not is_sim(data):
        raise MalformedInput(f"{where}: not simulated evidence (no {MAGIC[:14].decode()} header)")
    parts, off = [], len(MAGIC)
    for what in ("report", "leaf certificate", "root certificate"):
        if off + 4 > len(data):
            raise MalformedInput(f"{where}: simulated evidence truncated before the {what} length (offset {off})")
        (n,) = struct.unpack_from("<I", data, off)
        off += 4
        if n > _MAX_PART or off + n > len(data):
            raise MalformedInput(f"{where}: simulated evidence {what} length {n} at offset {off - 4} runs past the end")
        parts.append(data[off : off + n])
        off += n
    if off != len(data):
        raise MalformedInput(f"{where}: {len(data) - off} bytes after the simulated evidence")
    return parts


def verify(data: bytes, *, at: _dt.datetime, where: str) -> Verified:
    """Internal consistency only: the report is signed by the leaf, the leaf by the
    (unpinned, made-up) root, both valid at ``at``."""
    at = require_utc(at, where)
    report, leaf_der, root_der = _split(bytes(data), where)
    r = snp.parse_report(report, where)
    leaf = load_certificates(leaf_der, f"{where}: simulated leaf")[0]
    root = load_certificates(root_der, f"{where}: simulated root")[0]
    for cert, what in ((leaf, "leaf"), (root, "root")):
        if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            raise NotAuthentic(f"{where}: simulated {what} certificate expired or not yet valid at {at:%Y-%m-%dT%H:%M:%SZ}")
    try:
        root.verify_directly_issued_by(root)
        leaf.verify_directly_issued_by(root)
        pub = leaf.public_key()
        if not isinstance(pub, ec.EllipticCurvePublicKey):
            raise NotAuthentic(f"{where}: simulated leaf key is not ECDSA")
        pub.verify(encode_dss_signature(r.sig_r, r.sig_s), r.signed_part, ec.ECDSA(hashes.SHA384()))
    except (InvalidSignature, ValueError, TypeError) as e:
        raise NotAuthentic(f"{where}: simulated evidence signature or chain does not verify ({type(e).__name__})") from None
    return Verified(
        format="sim",
        time=at,
        report_data=r.report_data,
        debug=r.debug,
        measurements={"MEASUREMENT": r.measurement.hex()},
        tcb={},
        vmpl=r.vmpl,
        signer="simulated VCEK (unpinned, generated for this run)",
        chain=["teecert simulated VCEK", "teecert simulated ARK"],
        claims={"version": r.version, "policy": r.policy, "vmpl": r.vmpl},
        notes=["simulated evidence: signed by a chain generated on the run's machine; proves nothing about hardware"],
    )
