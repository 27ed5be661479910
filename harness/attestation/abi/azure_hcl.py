"""Azure confidential VM evidence: the HCL (paravisor) attestation report, the evidence
bundle it travels in, and the TPM2 quote of the VM's vTPM.  Decoding only: whether the
evidence is authentic is ``verify.azure_hcl``, whether it is acceptable is
``validate.policy``.

On Azure, SEV-SNP and TDX guests do not ask the hardware for a report themselves: the
paravisor (Microsoft's HCL, running below the guest at VMPL 0 on SNP or as the TD's
L1 on TDX) does, and writes the result to the vTPM NV index 0x01400001.  The guest
may first write 64 bytes of user data to NV index 0x01400002; the paravisor then puts
their hex into the runtime claims.  The layout (all integers little-endian), from
Microsoft's published IGVM attestation structures:

======  ====  =========================================================================
offset  size  field
======  ====  =========================================================================
0x000   4     header.signature, ``HCLA``
0x004   4     header.version (1 or 2)
0x008   4     header.report_size: bytes used, 0x4D4 + variable_data_size
0x00C   4     header.request_type (2: key release / attestation request)
0x010   4     header.status (0)
0x014   12    header.reserved (zero)
0x020   1184  hardware report: the SEV-SNP ATTESTATION_REPORT, or the 1024-byte TDX
              TDREPORT followed by 160 zero bytes
0x4C0   4     request_data.data_size: 20 + variable_data_size
0x4C4   4     request_data.version (1)
0x4C8   4     request_data.report_type (2 SEV-SNP, 4 TDX)
0x4CC   4     request_data.hash_type (1 SHA-256, 2 SHA-384, 3 SHA-512)
0x4D0   4     request_data.variable_data_size
0x4D4   n     the runtime claims, UTF-8 JSON; the NV index pads the rest with zeros
======  ====  =========================================================================

The hardware report's REPORT_DATA starts with the hash (``hash_type``) of the runtime
claims bytes and is zero after it; that is what ties the claims (the vTPM's attestation
key, the VM configuration, the user data) to the hardware.

``parse_report(data, where) -> HclReport``
    The HCL report; ``MalformedInput`` names the field and its offset.

``parse_bundle(data, where) -> Bundle``
    The JSON evidence bundle (the form the az-cvm-vtpm tooling and trustee use):
    ``hcl_report`` (base64 or base64url), for SEV-SNP ``vcek`` (base64 DER or PEM),
    for TDX ``td_quote`` (base64 or base64url), optionally ``tpm_quote``
    (``message`` TPMS_ATTEST hex, ``signature`` hex, ``pcrs`` list of hex) and
    ``version`` (1).  Unknown keys are refused.

``parse_tpm_quote(message, where) -> TpmQuote``
    A TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE (TPM 2.0 Part 2, 10.12.12).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass, field
from typing import Any

from ..._internal import canonical
from ...errors import MalformedInput
from . import snp as snp_abi

MAGIC = b"HCLA"
HEADER_SIZE = 0x20
HW_REPORT_OFFSET = 0x20
HW_REPORT_AREA = 1184  # the larger of the two hardware reports
TD_REPORT_SIZE = 1024
REQUEST_DATA_OFFSET = HW_REPORT_OFFSET + HW_REPORT_AREA  # 0x4C0
REQUEST_DATA_FIXED = 20
CLAIMS_OFFSET = REQUEST_DATA_OFFSET + REQUEST_DATA_FIXED  # 0x4D4
HEADER_VERSIONS = (1, 2)
REQUEST_DATA_VERSION = 1
REPORT_TYPE_SNP = 2
REPORT_TYPE_TDX = 4
REPORT_TYPES = {REPORT_TYPE_SNP: "snp", REPORT_TYPE_TDX: "tdx"}
HASH_TYPES = {1: ("sha256", 32), 2: ("sha384", 48), 3: ("sha512", 64)}
#: An NV index holds a few KiB; anything far larger is not an HCL report.
MAX_REPORT = 64 * 1024
MAX_BUNDLE = 256 * 1024
MAX_CLAIMS = 32 * 1024

# TDREPORT_STRUCT (Intel TDX module ABI): REPORTMACSTRUCT, TEE_TCB_INFO, TDINFO.
TD_REPORT_TYPE_TDX = 0x81
TD_REPORTDATA = (128, 64)
TD_TEE_TCB_INFO = 256
TD_TDINFO = 512

AK_KEY_ID = "HCLAkPub"
USER_DATA_SIZE = 64

FORMAT_NAMES = {"snp": "azure-snp-hcl", "tdx": "azure-tdx-hcl"}


@dataclass(frozen=True)
class HclReport:
    """A parsed HCL report; ``claims`` is the runtime-claims JSON, parsed strictly."""

    raw: bytes
    version: int
    report_size: int
    request_type: int
    tee: str  # "snp" | "tdx"
    hw_report: bytes  # 1184 bytes (SNP) or 1024 (TDX)
    hash_name: str
    hash_len: int
    claims_bytes: bytes
    claims: dict[str, Any]

    @property
    def format(self) -> str:
        return FORMAT_NAMES[self.tee]

    @property
    def hw_report_data(self) -> bytes:
        if self.tee == "snp":
            return self.hw_report[0x50:0x90]
        off, n = TD_REPORTDATA
        return self.hw_report[off:off + n]

    def claims_digest(self) -> bytes:
        return hashlib.new(self.hash_name, self.claims_bytes).digest()


@dataclass(frozen=True)
class TpmQuote:
    """A TPMS_ATTEST of type quote."""

    raw: bytes
    qualified_signer: bytes
    extra_data: bytes  # the nonce the quote was asked over
    clock: int
    reset_count: int
    restart_count: int
    safe: bool
    firmware_version: int
    selection: list[tuple[int, list[int]]]  # (hash algorithm, [PCR indices])
    pcr_digest: bytes


@dataclass
class Bundle:
    """The JSON evidence bundle, decoded."""

    hcl_report: bytes
    vcek: bytes | None = None
    td_quote: bytes | None = None
    tpm_message: bytes | None = None
    tpm_signature: bytes | None = None
    tpm_pcrs: list[bytes] = field(default_factory=list)


def _u32(b: bytes, off: int) -> int:
    return int(struct.unpack_from("<I", b, off)[0])


def parse_report(data: bytes, where: str) -> HclReport:
    """Parse an HCL report by explicit offsets; every length is checked before a read."""
    buf = bytes(data)
    if len(buf) > MAX_REPORT:
        raise MalformedInput(f"{where}: HCL report is {len(buf)} bytes, over the {MAX_REPORT} an NV index can hold")
    if len(buf) < CLAIMS_OFFSET:
        raise MalformedInput(f"{where}: truncated HCL report: {len(buf)} bytes, the header, hardware report and "
                             f"request data need {CLAIMS_OFFSET} (0x{CLAIMS_OFFSET:X})")
    if buf[0:4] != MAGIC:
        raise MalformedInput(f"{where}: header.signature at offset 0x0 is {buf[0:4].hex()}, expected 'HCLA'")
    version = _u32(buf, 4)
    if version not in HEADER_VERSIONS:
        raise MalformedInput(f"{where}: header.version {version} at offset 0x4 is not a known HCL version (1, 2)")
    report_size = _u32(buf, 8)
    request_type = _u32(buf, 12)
    status = _u32(buf, 16)
    if status != 0:
        raise MalformedInput(f"{where}: header.status at offset 0x10 is {status:#x}: the paravisor reported a failure")
    if any(buf[20:HEADER_SIZE]):
        raise MalformedInput(f"{where}: header.reserved (offset 0x14-0x1F) must be zero")

    data_size = _u32(buf, REQUEST_DATA_OFFSET)
    rd_version = _u32(buf, REQUEST_DATA_OFFSET + 4)
    report_type = _u32(buf, REQUEST_DATA_OFFSET + 8)
    hash_type = _u32(buf, REQUEST_DATA_OFFSET + 12)
    var_size = _u32(buf, REQUEST_DATA_OFFSET + 16)
    if rd_version != REQUEST_DATA_VERSION:
        raise MalformedInput(f"{where}: request_data.version {rd_version} at offset 0x4C4 is not 1")
    if report_type not in REPORT_TYPES:
        raise MalformedInput(f"{where}: request_data.report_type {report_type} at offset 0x4C8 is not 2 (SEV-SNP) "
                             "or 4 (TDX)")
    if hash_type not in HASH_TYPES:
        raise MalformedInput(f"{where}: request_data.hash_type {hash_type} at offset 0x4CC is not 1 (SHA-256), "
                             "2 (SHA-384) or 3 (SHA-512)")
    if var_size == 0 or var_size > MAX_CLAIMS:
        raise MalformedInput(f"{where}: request_data.variable_data_size {var_size} at offset 0x4D0 is not "
                             f"1..{MAX_CLAIMS} (the runtime claims)")
    if data_size != REQUEST_DATA_FIXED + var_size:
        raise MalformedInput(f"{where}: request_data.data_size {data_size} at offset 0x4C0 is not 20 + "
                             f"variable_data_size ({REQUEST_DATA_FIXED + var_size})")
    end = CLAIMS_OFFSET + var_size
    if report_size != end:
        raise MalformedInput(f"{where}: header.report_size {report_size} at offset 0x8 is not 0x4D4 + "
                             f"variable_data_size ({end})")
    if len(buf) < end:
        raise MalformedInput(f"{where}: truncated HCL report: the runtime claims (offset 0x4D4, {var_size} bytes) "
                             f"need {end} bytes, the report has {len(buf)}")
    if any(buf[end:]):
        raise MalformedInput(f"{where}: bytes after the runtime claims (offset {end:#x} on) must be zero padding")

    tee = REPORT_TYPES[report_type]
    area = buf[HW_REPORT_OFFSET:REQUEST_DATA_OFFSET]
    if tee == "snp":
        hw = area
        version_snp = _u32(hw, 0)
        if version_snp not in snp_abi.SUPPORTED_VERSIONS:
            raise MalformedInput(f"{where}: hardware report (offset 0x20): SEV-SNP report version {version_snp} "
                                 "is not supported (2-5)")
    else:
        hw = area[:TD_REPORT_SIZE]
        if any(area[TD_REPORT_SIZE:]):
            raise MalformedInput(f"{where}: bytes after the TD report (offset 0x420-0x4BF) must be zero")
        if hw[0] != TD_REPORT_TYPE_TDX:
            raise MalformedInput(f"{where}: hardware report (offset 0x20): TDREPORT type {hw[0]:#x} is not 0x81 (TDX)")

    hash_name, hash_len = HASH_TYPES[hash_type]
    hw_rd = hw[0x50:0x90] if tee == "snp" else hw[TD_REPORTDATA[0]:TD_REPORTDATA[0] + TD_REPORTDATA[1]]
    if any(hw_rd[hash_len:]):
        raise MalformedInput(f"{where}: hardware report data after the {hash_name} of the runtime claims must be zero")

    claims_bytes = buf[CLAIMS_OFFSET:end]
    claims = canonical.loads(claims_bytes, f"{where}: runtime claims (offset 0x4D4)")
    if not isinstance(claims, dict):
        raise MalformedInput(f"{where}: runtime claims (offset 0x4D4) are not a JSON object")
    _check_claims(claims, where)
    return HclReport(raw=buf[:end], version=version, report_size=report_size, request_type=request_type, tee=tee,
                     hw_report=hw, hash_name=hash_name, hash_len=hash_len, claims_bytes=claims_bytes, claims=claims)


def _check_claims(claims: dict[str, Any], where: str) -> None:
    w = f"{where}: runtime claims"
    keys = claims.get("keys", [])
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise MalformedInput(f"{w}: keys is not a list of JSON web keys")
    vm = claims.get("vm-configuration", {})
    if not isinstance(vm, dict):
        raise MalformedInput(f"{w}: vm-configuration is not an object")
    ud = claims.get("user-data")
    if ud is not None and not isinstance(ud, str):
        raise MalformedInput(f"{w}: user-data is not a string")


def user_data(claims: dict[str, Any], where: str) -> bytes | None:
    """The 64 bytes of the claims' ``user-data`` (hex, any case), or None when absent."""
    ud = claims.get("user-data")
    if ud is None:
        return None
    try:
        raw = bytes.fromhex(ud)
    except ValueError:
        raise MalformedInput(f"{where}: runtime claims: user-data is not hex") from None
    if len(raw) != USER_DATA_SIZE:
        raise MalformedInput(f"{where}: runtime claims: user-data is {len(raw)} bytes, expected {USER_DATA_SIZE}")
    return raw


def _b64url_int(value: Any, where: str, name: str) -> int:
    if not isinstance(value, str) or not value:
        raise MalformedInput(f"{where}: {name} is not a base64url string")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise MalformedInput(f"{where}: {name} is not base64url") from None
    return int.from_bytes(raw, "big")


def ak_public_numbers(claims: dict[str, Any], where: str) -> tuple[int, int] | None:
    """(n, e) of the vTPM attestation key (``kid`` HCLAkPub, RSA) in the claims, or None."""
    found = [k for k in claims.get("keys", []) if k.get("kid") == AK_KEY_ID]
    if not found:
        return None
    if len(found) > 1:
        raise MalformedInput(f"{where}: runtime claims name {AK_KEY_ID} {len(found)} times")
    k = found[0]
    if k.get("kty") != "RSA":
        raise MalformedInput(f"{where}: runtime claims: {AK_KEY_ID} kty {k.get('kty')!r} is not RSA")
    n = _b64url_int(k.get("n"), where, f"runtime claims: {AK_KEY_ID}.n")
    e = _b64url_int(k.get("e"), where, f"runtime claims: {AK_KEY_ID}.e")
    return n, e


def _b64_any(value: Any, where: str, name: str) -> bytes:
    """Standard or URL-safe base64, padding optional, whitespace refused."""
    if not isinstance(value, str) or not value:
        raise MalformedInput(f"{where}: {name} is not a base64 string")
    text = value.rstrip("=")
    alphabet = "-_" if ("-" in text or "_" in text) else "+/"
    if ("+" in text or "/" in text) and alphabet == "-_":
        raise MalformedInput(f"{where}: {name} mixes the base64 and base64url alphabets")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=alphabet.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedInput(f"{where}: {name} is not base64") from None


def _hex(value: Any, where: str, name: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedInput(f"{where}: {name} is not a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise MalformedInput(f"{where}: {name} is not hex") from None


_BUNDLE_KEYS = {"version", "hcl_report", "vcek", "td_quote", "tpm_quote"}


def looks_like_bundle(data: bytes) -> bool:
    """A JSON object that names an hcl_report: cheap detection, no parsing."""
    head = bytes(data[:4096]).lstrip()
    return head.startswith(b"{") and b'"hcl_report"' in bytes(data[:MAX_BUNDLE])


def parse_bundle(data: bytes, where: str) -> Bundle:
    if len(data) > MAX_BUNDLE:
        raise MalformedInput(f"{where}: evidence bundle is {len(data)} bytes, over {MAX_BUNDLE}")
    doc = canonical.loads(bytes(data), where)
    if not isinstance(doc, dict):
        raise MalformedInput(f"{where}: an Azure evidence bundle is a JSON object")
    unknown = sorted(set(doc) - _BUNDLE_KEYS)
    if unknown:
        raise MalformedInput(f"{where}: unknown key {unknown[0]!r} in the Azure evidence bundle "
                             f"(known: {', '.join(sorted(_BUNDLE_KEYS))})")
    if doc.get("version", 1) != 1:
        raise MalformedInput(f"{where}: version {doc.get('version')!r} of the Azure evidence bundle is not 1")
    if "hcl_report" not in doc:
        raise MalformedInput(f"{where}: the Azure evidence bundle has no hcl_report")
    b = Bundle(hcl_report=_b64_any(doc["hcl_report"], where, "hcl_report"))
    if "vcek" in doc:
        v = doc["vcek"]
        b.vcek = v.encode() if isinstance(v, str) and v.lstrip().startswith("-----BEGIN") else _b64_any(v, where, "vcek")
    if "td_quote" in doc:
        b.td_quote = _b64_any(doc["td_quote"], where, "td_quote")
    if "tpm_quote" in doc:
        tq = doc["tpm_quote"]
        if not isinstance(tq, dict) or set(tq) != {"message", "signature", "pcrs"}:
            raise MalformedInput(f"{where}: tpm_quote must be an object with exactly message, signature and pcrs")
        b.tpm_message = _hex(tq["message"], where, "tpm_quote.message")
        b.tpm_signature = _hex(tq["signature"], where, "tpm_quote.signature")
        pcrs = tq["pcrs"]
        if not isinstance(pcrs, list) or len(pcrs) > 24:
            raise MalformedInput(f"{where}: tpm_quote.pcrs must be a list of at most 24 hex values")
        b.tpm_pcrs = [_hex(p, where, f"tpm_quote.pcrs[{i}]") for i, p in enumerate(pcrs)]
        if any(len(p) != 32 for p in b.tpm_pcrs):
            raise MalformedInput(f"{where}: tpm_quote.pcrs must be SHA-256 values (32 bytes each)")
    return b


TPM_GENERATED_VALUE = 0xFF544347
TPM_ST_ATTEST_QUOTE = 0x8018
TPM_ALG_SHA256 = 0x000B


class _Cursor:
    def __init__(self, buf: bytes, where: str) -> None:
        self.buf, self.off, self.where = buf, 0, where

    def take(self, n: int, name: str) -> bytes:
        if self.off + n > len(self.buf):
            raise MalformedInput(f"{self.where}: truncated TPMS_ATTEST: {name} at offset {self.off} needs {n} bytes")
        out = self.buf[self.off:self.off + n]
        self.off += n
        return out

    def uint(self, n: int, name: str) -> int:
        return int.from_bytes(self.take(n, name), "big")

    def tpm2b(self, name: str) -> bytes:
        return self.take(self.uint(2, f"{name}.size"), name)


def parse_tpm_quote(message: bytes, where: str) -> TpmQuote:
    """TPMS_ATTEST (big-endian, TPM 2.0 Part 2) of type TPM_ST_ATTEST_QUOTE."""
    w = f"{where}: tpm_quote.message"
    c = _Cursor(bytes(message), w)
    if c.uint(4, "magic") != TPM_GENERATED_VALUE:
        raise MalformedInput(f"{w}: magic at offset 0 is not TPM_GENERATED_VALUE (0xff544347)")
    if c.uint(2, "type") != TPM_ST_ATTEST_QUOTE:
        raise MalformedInput(f"{w}: type at offset 4 is not TPM_ST_ATTEST_QUOTE (0x8018)")
    signer = c.tpm2b("qualifiedSigner")
    extra = c.tpm2b("extraData")
    clock = c.uint(8, "clockInfo.clock")
    reset = c.uint(4, "clockInfo.resetCount")
    restart = c.uint(4, "clockInfo.restartCount")
    safe = c.uint(1, "clockInfo.safe")
    fw = c.uint(8, "firmwareVersion")
    count = c.uint(4, "pcrSelect.count")
    if count > 16:
        raise MalformedInput(f"{w}: pcrSelect.count {count} is implausible (at most 16 banks)")
    selection: list[tuple[int, list[int]]] = []
    for i in range(count):
        alg = c.uint(2, f"pcrSelect[{i}].hash")
        size = c.uint(1, f"pcrSelect[{i}].sizeofSelect")
        bits = c.take(size, f"pcrSelect[{i}].pcrSelect")
        selection.append((alg, [8 * j + b for j in range(size) for b in range(8) if bits[j] >> b & 1]))
    digest = c.tpm2b("pcrDigest")
    if c.off != len(c.buf):
        raise MalformedInput(f"{w}: {len(c.buf) - c.off} bytes after the quote information")
    return TpmQuote(raw=bytes(message), qualified_signer=signer, extra_data=extra, clock=clock, reset_count=reset,
                    restart_count=restart, safe=bool(safe), firmware_version=fw, selection=selection,
                    pcr_digest=digest)


def detect_format(data: bytes) -> str | None:
    """``azure-snp-hcl`` / ``azure-tdx-hcl`` for a raw HCL report or an evidence
    bundle, None for anything else.  A bundle that does not parse is called SNP here;
    verifying it then raises the parse error that names the field."""
    raw: bytes | None = None
    if bytes(data[:4]) == MAGIC:
        raw = bytes(data)
    elif looks_like_bundle(data):
        try:
            raw = parse_bundle(data, "evidence").hcl_report
        except MalformedInput:
            return FORMAT_NAMES["snp"]
    if raw is None:
        return None
    off = REQUEST_DATA_OFFSET + 8
    kind = _u32(raw, off) if len(raw) >= off + 4 else REPORT_TYPE_SNP
    return FORMAT_NAMES["tdx"] if kind == REPORT_TYPE_TDX else FORMAT_NAMES["snp"]
