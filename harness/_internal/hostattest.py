"""What a probe host attests for a client's report data, in one place: the host
(probe.hostkey, on the client side) and the report verifier (attestation.binding)
must compute the same bytes, and neither layer may import the other."""

from __future__ import annotations

import hashlib

ATTEST_LABEL = b"teecert-host-attest-v1\x00"


def wrap_report_data(host_public_key: bytes, report_data: bytes) -> bytes:
    """SHA-512(label || 32-byte host public key || 64 bytes of report data)."""
    if len(host_public_key) != 32 or len(report_data) != 64:
        raise ValueError("a host key is 32 bytes and report data 64")
    return hashlib.sha512(ATTEST_LABEL + bytes(host_public_key) + bytes(report_data)).digest()
