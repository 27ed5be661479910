"""Intel DCAP ECDSA quotes, by explicit offsets: SGX v3, TDX v4 and TDX v5.

Decoding only (authenticity is ``verify.dcap``, policy ``validate.policy``).  The layouts
are the Intel SGX ECDSA Quote Library API, appendix A (v3) and the Intel TDX DCAP
Quoting Library API, appendix A (v4, v5); every length is bounded by the buffer before
a read, and ``MalformedInput`` names the field and its offset.

``parse_quote(quote, where) -> Quote``
    Header, report body (SGX REPORT, TD 1.0 or TD 1.5), signature, attestation key, QE
    report and its signature, QE authentication data and the PEM PCK chain (as bytes:
    loading and checking the certificates is verification).

``parse_pck_extension(raw, where) -> dict``
    The value of the PCK certificate's SGX extension (OID 1.2.840.113741.1.13.1):
    FMSPC, PCE ID, PPID, SGX type, the 16 TCB components, PCESVN and CPUSVN.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

from ...errors import MalformedInput, UsageError

# Offsets in bytes; integers little-endian.
HEADER_LEN = 48
SGX_REPORT_LEN = 384
TD10_REPORT_LEN = 584
TD15_REPORT_LEN = 648
ATT_KEY_TYPE_ECDSA_P256 = 2
TEE_TYPE_SGX = 0x00000000
TEE_TYPE_TDX = 0x00000081
CERT_TYPE_PCK_CHAIN = 5
CERT_TYPE_QE_REPORT = 6
QUOTE_VERSIONS = (3, 4, 5)
BODY_TYPE_LEN = {1: SGX_REPORT_LEN, 2: TD10_REPORT_LEN, 3: TD15_REPORT_LEN}
INTEL_QE_VENDOR_ID = "939a7233f79c4ca9940a0db3957f0607"

# (name, offset, length) inside an SGX REPORT body (also the QE report).
_SGX_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("cpusvn", 0, 16),
    ("miscselect", 16, 4),
    ("isv_ext_prod_id", 32, 16),
    ("attributes", 48, 16),
    ("mrenclave", 64, 32),
    ("mrsigner", 128, 32),
    ("config_id", 192, 64),
    ("isvprodid", 256, 2),
    ("isvsvn", 258, 2),
    ("config_svn", 260, 2),
    ("isv_family_id", 304, 16),
    ("report_data", 320, 64),
)
# (name, offset, length) inside a TD report body: TD 1.0 then the TD 1.5 additions.
_TD10_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("tee_tcb_svn", 0, 16),
    ("mrseam", 16, 48),
    ("mrsignerseam", 64, 48),
    ("seam_attributes", 112, 8),
    ("td_attributes", 120, 8),
    ("xfam", 128, 8),
    ("mrtd", 136, 48),
    ("mrconfigid", 184, 48),
    ("mrowner", 232, 48),
    ("mrownerconfig", 280, 48),
    ("rtmr0", 328, 48),
    ("rtmr1", 376, 48),
    ("rtmr2", 424, 48),
    ("rtmr3", 472, 48),
    ("report_data", 520, 64),
)
_TD15_FIELDS: tuple[tuple[str, int, int], ...] = (
    *_TD10_FIELDS,
    ("tee_tcb_svn2", 584, 16),
    ("mrservicetd", 600, 48),
)
_INT_FIELDS = {"miscselect", "isvprodid", "isvsvn", "config_svn"}


class _Reader:
    """Bounded reads from one region of the quote; every failure names the field and offset."""

    def __init__(self, buf: bytes, where: str, base: int = 0, region: str = "quote") -> None:
        self.buf = buf
        self.where = where
        self.base = base  # offset of buf[0] inside the whole quote, for messages
        self.region = region

    def bytes_at(self, off: int, n: int, field: str) -> bytes:
        if off < 0 or n < 0 or off + n > len(self.buf):
            raise MalformedInput(
                f"{self.where}: truncated {self.region}: {field} needs {n} bytes at offset "
                f"{self.base + off}, only {max(0, len(self.buf) - off)} available"
            )
        return self.buf[off : off + n]

    def u16(self, off: int, field: str) -> int:
        return int(struct.unpack("<H", self.bytes_at(off, 2, field))[0])

    def u32(self, off: int, field: str) -> int:
        return int(struct.unpack("<I", self.bytes_at(off, 4, field))[0])


def _parse_fields(raw: bytes, fields: Iterable[tuple[str, int, int]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, off, n in fields:
        chunk = raw[off : off + n]
        out[name] = int.from_bytes(chunk, "little") if name in _INT_FIELDS else chunk.hex()
    return out


class Quote:
    """The parsed parts of a quote that verification needs."""

    def __init__(self) -> None:
        self.version = 0
        self.tee = ""  # "sgx" | "tdx"
        self.header: dict[str, Any] = {}
        self.body_type = 0  # 1 SGX, 2 TD 1.0, 3 TD 1.5
        self.body_raw = b""
        self.body: dict[str, Any] = {}
        self.signed = b""
        self.signature = b""  # r || s
        self.att_key = b""  # x || y
        self.qe_report_raw = b""
        self.qe_report: dict[str, Any] = {}
        self.qe_report_sig = b""
        self.qe_auth = b""
        self.pck_chain_pem = b""
        self.used = 0
        self.trailing = 0


def parse_quote(quote: bytes, where: str) -> Quote:
    """Parse a DCAP quote by explicit offsets; lengths are checked before any read."""
    if not isinstance(quote, bytes | bytearray | memoryview):
        raise UsageError(f"{where}: quote must be bytes")
    buf = bytes(quote)
    r = _Reader(buf, where)
    q = Quote()
    q.version = r.u16(0, "header.version")
    att_key_type = r.u16(2, "header.att_key_type")
    tee_type = r.u32(4, "header.tee_type")
    r.bytes_at(0, HEADER_LEN, "header")
    q.header = {
        "version": q.version,
        "att_key_type": att_key_type,
        "tee_type": tee_type,
        "qe_svn": r.u16(8, "header.qe_svn"),
        "pce_svn": r.u16(10, "header.pce_svn"),
        "qe_vendor_id": r.bytes_at(12, 16, "header.qe_vendor_id").hex(),
        "user_data": r.bytes_at(28, 20, "header.user_data").hex(),
    }
    if q.version not in QUOTE_VERSIONS:
        raise MalformedInput(f"{where}: unsupported quote version {q.version} at offset 0 (expected 3, 4 or 5)")
    if att_key_type != ATT_KEY_TYPE_ECDSA_P256:
        raise MalformedInput(
            f"{where}: unsupported attestation key type {att_key_type} at offset 2 (expected 2, ECDSA P-256)"
        )
    if q.version == 3:
        # In v3 these 4 bytes are reserved; a v3 quote is always SGX.
        if tee_type != TEE_TYPE_SGX:
            raise MalformedInput(f"{where}: v3 quote with non-zero bytes at offset 4 (tee_type {tee_type:#x})")
    elif tee_type not in (TEE_TYPE_SGX, TEE_TYPE_TDX):
        raise MalformedInput(f"{where}: unknown tee_type {tee_type:#x} at offset 4 (expected 0x0 or 0x81)")
    q.tee = "tdx" if tee_type == TEE_TYPE_TDX else "sgx"

    if q.version == 5:
        q.body_type = r.u16(HEADER_LEN, "body_descriptor.type")
        body_size = r.u32(HEADER_LEN + 2, "body_descriptor.size")
        if q.body_type not in BODY_TYPE_LEN:
            raise MalformedInput(f"{where}: unknown v5 body type {q.body_type} at offset {HEADER_LEN} (expected 1, 2 or 3)")
        if body_size != BODY_TYPE_LEN[q.body_type]:
            raise MalformedInput(
                f"{where}: v5 body size {body_size} at offset {HEADER_LEN + 2} does not fit body type "
                f"{q.body_type} (expected {BODY_TYPE_LEN[q.body_type]})"
            )
        if (q.body_type == 1) != (q.tee == "sgx"):
            raise MalformedInput(f"{where}: v5 body type {q.body_type} does not match tee_type {tee_type:#x}")
        body_off = HEADER_LEN + 6
    else:
        q.body_type = 1 if q.tee == "sgx" else 2
        body_size = BODY_TYPE_LEN[q.body_type]
        body_off = HEADER_LEN
    q.body_raw = r.bytes_at(body_off, body_size, "report body")
    fields = {1: _SGX_FIELDS, 2: _TD10_FIELDS, 3: _TD15_FIELDS}[q.body_type]
    q.body = _parse_fields(q.body_raw, fields)
    signed_len = body_off + body_size
    q.signed = buf[:signed_len]

    sig_len = r.u32(signed_len, "signature_data_len")
    sig_off = signed_len + 4
    sig_data = r.bytes_at(sig_off, sig_len, "signature data")
    q.used = sig_off + sig_len
    q.trailing = len(buf) - q.used
    s = _Reader(sig_data, where, sig_off, "signature data")
    q.signature = s.bytes_at(0, 64, "quote_signature")
    q.att_key = s.bytes_at(64, 64, "attestation_key")
    if q.version == 3:
        _parse_qe_section(q, s, 128, v3=True)
    else:
        cd_type = s.u16(128, "certification_data.type")
        cd_size = s.u32(130, "certification_data.size")
        if cd_type != CERT_TYPE_QE_REPORT:
            raise MalformedInput(
                f"{where}: certification data type {cd_type} at offset {sig_off + 128} (expected 6, QE report)"
            )
        inner = s.bytes_at(134, cd_size, "certification_data")
        _parse_qe_section(q, _Reader(inner, where, sig_off + 134, "QE report certification data"), 0, v3=False)
    return q


def _parse_qe_section(q: Quote, s: _Reader, off: int, *, v3: bool) -> None:
    q.qe_report_raw = s.bytes_at(off, SGX_REPORT_LEN, "qe_report")
    q.qe_report = _parse_fields(q.qe_report_raw, _SGX_FIELDS)
    q.qe_report_sig = s.bytes_at(off + 384, 64, "qe_report_signature")
    auth_len = s.u16(off + 448, "qe_auth_data.size")
    q.qe_auth = s.bytes_at(off + 450, auth_len, "qe_auth_data")
    c = off + 450 + auth_len
    cert_type = s.u16(c, "pck_certification_data.type")
    cert_size = s.u32(c + 2, "pck_certification_data.size")
    if cert_type != CERT_TYPE_PCK_CHAIN:
        raise MalformedInput(
            f"{s.where}: PCK certification data type {cert_type} at offset {s.base + c} "
            f"(expected 5, PEM PCK chain)"
        )
    q.pck_chain_pem = s.bytes_at(c + 6, cert_size, "pck_certification_data")


# ---- the PCK certificate's SGX extension: a minimal bounded DER reader ----

SGX_EXTENSION_OID = "1.2.840.113741.1.13.1"


def _der_tlvs(buf: bytes, where: str) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    i = 0
    while i < len(buf):
        if i + 2 > len(buf):
            raise MalformedInput(f"{where}: PCK SGX extension: truncated DER at {i}")
        tag, n = buf[i], buf[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            if k == 0 or k > 4 or i + k > len(buf):
                raise MalformedInput(f"{where}: PCK SGX extension: bad DER length at {i - 1}")
            n = int.from_bytes(buf[i : i + k], "big")
            i += k
        if i + n > len(buf):
            raise MalformedInput(f"{where}: PCK SGX extension: DER value overruns at {i}")
        out.append((tag, buf[i : i + n]))
        i += n
    return out


def _der_oid(raw: bytes) -> str:
    if not raw:
        return ""
    arcs = [raw[0] // 40, raw[0] % 40] if raw[0] < 80 else [2, raw[0] - 80]
    v = 0
    for b in raw[1:]:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(v)
            v = 0
    return ".".join(str(a) for a in arcs)


def parse_pck_extension(raw: bytes, where: str) -> dict[str, Any]:
    """FMSPC, PCE ID, TCB components, PCESVN and CPUSVN from the DER value of the PCK
    certificate's SGX extension."""
    top = _der_tlvs(raw, where)
    if len(top) != 1 or top[0][0] != 0x30:
        raise MalformedInput(f"{where}: PCK SGX extension is not a SEQUENCE")
    base = SGX_EXTENSION_OID
    out: dict[str, Any] = {}
    comps: dict[int, int] = {}
    for tag, item in _der_tlvs(top[0][1], where):
        parts = _der_tlvs(item, where) if tag == 0x30 else []
        if len(parts) != 2 or parts[0][0] != 0x06:
            continue
        oid, (vtag, val) = _der_oid(parts[0][1]), parts[1]
        if oid == base + ".4" and vtag == 0x04:
            out["fmspc"] = val.hex()
        elif oid == base + ".3" and vtag == 0x04:
            out["pceid"] = val.hex()
        elif oid == base + ".1" and vtag == 0x04:
            out["ppid"] = val.hex()
        elif oid == base + ".5" and vtag == 0x0A:
            out["sgx_type"] = int.from_bytes(val, "big")
        elif oid == base + ".2" and vtag == 0x30:
            for ttag, titem in _der_tlvs(val, where):
                tparts = _der_tlvs(titem, where) if ttag == 0x30 else []
                if len(tparts) != 2 or tparts[0][0] != 0x06:
                    continue
                toid, (ttag2, tval) = _der_oid(tparts[0][1]), tparts[1]
                sub = toid.removeprefix(base + ".2.")
                if sub == toid or not sub.isdigit():
                    continue
                idx = int(sub)
                if 1 <= idx <= 16 and ttag2 == 0x02 and len(tval) <= 4:
                    comps[idx] = int.from_bytes(tval, "big", signed=True)
                elif idx == 17 and ttag2 == 0x02 and len(tval) <= 4:
                    out["pcesvn"] = int.from_bytes(tval, "big", signed=True)
                elif idx == 18 and ttag2 == 0x04:
                    out["cpusvn"] = tval.hex()
    if sorted(comps) != list(range(1, 17)) or "pcesvn" not in out or "fmspc" not in out or "pceid" not in out:
        raise MalformedInput(f"{where}: PCK SGX extension lacks FMSPC, PCE ID or the TCB components")
    out["components"] = [comps[i] for i in range(1, 17)]
    return out
