"""AMD's VCEK and VLEK certificates have serial number 0, which RFC 5280 forbids.

``cryptography`` loads them today with a ``CryptographyDeprecationWarning`` ("Parsed
a serial number which wasn't positive ... will cause an exception in a future
release"), and teecert's chain loader (``attestation/verify/x509chain.py``) relies on
that.  pyproject.toml bounds ``cryptography`` below its next major version; these
tests turn the warning into an error on real certificates, so that the release which
changes the behaviour fails here, saying what to do, instead of somewhere deep in SNP
verification (or, were the warning simply dropped, not at all).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cryptography
import pytest
from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from conftest import REALWORLD

#: The real VCEK and VLEK certificates shipped with the SEV-SNP samples (SOURCES.md).
CERTS = sorted((REALWORLD / "snp").glob("*.der"))
pytestmark = pytest.mark.skipif(not CERTS, reason=f"no real SEV-SNP certificates under {REALWORLD / 'snp'}")


def _serial_from_der(der: bytes) -> int:
    """The serial number read straight from the DER (Certificate -> TBSCertificate ->
    [0] version -> INTEGER serial), without cryptography."""

    def header(pos: int) -> tuple[int, int, int]:  # tag, content start, content length
        tag, first = der[pos], der[pos + 1]
        if first < 0x80:
            return tag, pos + 2, first
        n = first & 0x7F
        return tag, pos + 2 + n, int.from_bytes(der[pos + 2:pos + 2 + n], "big")

    tag, pos, _ = header(0)
    assert tag == 0x30  # Certificate
    tag, pos, _ = header(pos)
    assert tag == 0x30  # TBSCertificate
    tag, start, length = header(pos)
    if tag == 0xA0:  # explicit version
        tag, start, length = header(start + length)
    assert tag == 0x02  # INTEGER
    return int.from_bytes(der[start:start + length], "big", signed=True)


@pytest.mark.parametrize("cert", CERTS, ids=lambda p: p.name)
def test_amd_certificates_have_serial_zero(cert: Path) -> None:
    assert _serial_from_der(cert.read_bytes()) <= 0


@pytest.mark.parametrize("cert", CERTS, ids=lambda p: p.name)
def test_cryptography_still_loads_them_with_a_deprecation_warning(cert: Path) -> None:
    der = cert.read_bytes()
    version = cryptography.__version__
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", CryptographyDeprecationWarning)
            x509.load_der_x509_certificate(der)
    except CryptographyDeprecationWarning as w:
        assert "serial number" in str(w), str(w)
    except ValueError as e:
        pytest.fail(f"cryptography {version} refuses AMD's serial-0 certificate {cert.name} ({e}): SEV-SNP "
                    f"verification cannot load VCEK/VLEK certificates with it. Keep the upper bound on "
                    f"cryptography in pyproject.toml below this version until x509chain reads them another way.")
    else:
        pytest.fail(f"cryptography {version} loads AMD's serial-0 certificate {cert.name} without the "
                    f"deprecation warning: read its changelog for what it does with non-positive serials now, "
                    f"then update this test and the bound in pyproject.toml.")
    # and with the warning shown, as teecert's loader meets it, the certificate is usable
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        loaded = x509.load_der_x509_certificate(der)
        serial = loaded.serial_number  # read lazily, with the same warning again
    assert seen and {w.category for w in seen} == {CryptographyDeprecationWarning}
    assert serial == _serial_from_der(der)
    assert loaded.public_key() is not None
