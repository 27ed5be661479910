"""X.509 helpers shared by the attestation verifiers (SEV-SNP, DCAP, Nitro).

The API is small on purpose:

``load_certificates(data, where) -> list[x509.Certificate]``
    Every certificate in ``data``: one DER certificate, or one or more PEM blocks, each
    fully decoded (names, validity, extensions, public key).  ``MalformedInput`` (naming
    ``where``) when there is none or one does not decode.

``fingerprint(cert) -> str``
    Lower-case hex SHA-256 of the certificate's DER encoding (how roots are pinned).

``is_self_signed(cert) -> bool``
    Subject equals issuer and the certificate's own key verifies its signature.

``verify_chain(leaf, intermediates, roots, at, where) -> list[x509.Certificate]``
    Builds a path from ``leaf`` through ``intermediates`` to one of ``roots`` (trust
    anchors, compared by DER bytes) and checks it at the time ``at`` (UTC-aware):
    every signature (RSA PKCS#1 v1.5, RSASSA-PSS with the parameters the certificate
    states, ECDSA), every validity window (root included), ``basicConstraints``
    CA:TRUE and any ``pathLenConstraint`` on every issuer, and ``keyCertSign`` where an
    issuer has a ``keyUsage``.  Returns the path leaf first, anchor last.  Raises
    ``NotAuthentic`` with one line naming ``where`` and the certificate at fault
    ("... has expired ...", "... not yet valid ...", "no issuer ..."), or
    ``UsageError`` when ``at`` is naive.  Pinning is the caller's business: pass only
    pinned anchors (see ``roots.load_roots``).

``ecdsa_raw_to_der(sig, where) -> bytes``
    A fixed-width big-endian ``r || s`` signature (COSE, DCAP) as DER for
    ``cryptography``; ``NotAuthentic`` if it has an odd length or a zero half.

``subject(cert) -> str``, ``name_text(name) -> str``
    The RFC 4514 form of the subject (of any name), control characters escaped, for
    messages and ``Verified.chain``.

``require_utc(at, where) -> datetime``
    ``at`` converted to UTC; ``UsageError`` if it carries no time zone.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import warnings

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ...errors import MalformedInput, NotAuthentic, UsageError

MAX_DEPTH = 8

__all__ = [
    "ecdsa_raw_to_der",
    "fingerprint",
    "is_self_signed",
    "load_certificates",
    "require_utc",
    "subject",
    "verify_chain",
]


def require_utc(at: _dt.datetime, where: str) -> _dt.datetime:
    """``at`` in UTC; a naive datetime is refused (the verification time is explicit)."""
    if not isinstance(at, _dt.datetime):
        raise UsageError(f"{where}: the verification time must be a datetime, not {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise UsageError(f"{where}: the verification time {at.isoformat()} has no time zone")
    return at.astimezone(_dt.UTC)


def _iso(t: _dt.datetime) -> str:
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def name_text(name: x509.Name) -> str:
    """RFC 4514 string of ``name``, control characters escaped: certificate text ends up
    in one-line messages, and a forged certificate may carry a line break."""
    text = name.rfc4514_string()
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def subject(cert: x509.Certificate) -> str:
    """RFC 4514 subject string (``name_text``)."""
    return name_text(cert.subject)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER encoding, lower-case hex."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def load_certificates(data: bytes, where: str) -> list[x509.Certificate]:
    """Every certificate in ``data`` (DER, or PEM with one or more blocks)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedInput(f"{where}: certificate data must be bytes")
    data = bytes(data)
    # AMD's VCEK/VLEK certificates have serial number 0, which cryptography accepts
    # with a deprecation warning; the chain check is what makes them trustworthy.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                certs = x509.load_pem_x509_certificates(data)
            else:
                certs = [x509.load_der_x509_certificate(data)]
            for cert in certs:
                _decode_all(cert)
        except Exception as exc:  # untrusted DER: ValueError, InvalidVersion, KeyError, TypeError, ...
            raise MalformedInput(f"{where}: not a well-formed DER or PEM X.509 certificate ({_short(exc)})") from None
    if not certs:
        raise MalformedInput(f"{where}: no certificate found")
    return certs


def _decode_all(cert: x509.Certificate) -> None:
    """Decode now every part that ``cryptography`` decodes lazily, so that a garbled
    certificate is refused here and not by a surprise exception later."""
    cert.subject.rfc4514_string()
    cert.issuer.rfc4514_string()
    _ = cert.not_valid_before_utc, cert.not_valid_after_utc, cert.serial_number
    for ext in cert.extensions:
        _ = ext.value
    cert.public_key()


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Names chain and ``issuer``'s key verifies ``cert``'s signature (PSS included)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    """Subject equals issuer and the certificate's own key verifies it."""
    return _signed_by(cert, cert)


def ecdsa_raw_to_der(sig: bytes, where: str) -> bytes:
    """Fixed-width big-endian ``r || s`` to a DER ECDSA signature."""
    if len(sig) == 0 or len(sig) % 2:
        raise NotAuthentic(f"{where}: ECDSA signature has odd or zero length {len(sig)}")
    half = len(sig) // 2
    r = int.from_bytes(sig[:half], "big")
    s = int.from_bytes(sig[half:], "big")
    if r == 0 or s == 0:
        raise NotAuthentic(f"{where}: ECDSA signature has a zero r or s")
    return encode_dss_signature(r, s)


def _check_validity(cert: x509.Certificate, at: _dt.datetime, where: str) -> None:
    nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
    if at < nb:
        raise NotAuthentic(f"{where}: certificate {subject(cert)} is not yet valid at {_iso(at)} "
                           f"(valid {_iso(nb)} to {_iso(na)})")
    if at > na:
        raise NotAuthentic(f"{where}: certificate {subject(cert)} has expired (not after {_iso(na)}, "
                           f"verification time {_iso(at)})")


def _check_issuer(issuer: x509.Certificate, cas_below: int, where: str) -> None:
    try:
        bc = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise NotAuthentic(f"{where}: issuer {subject(issuer)} has no basicConstraints (not a CA)") from None
    except Exception as exc:  # decoded lazily: ValueError, DuplicateExtension, ...
        raise NotAuthentic(f"{where}: issuer {subject(issuer)} has unparsable extensions ({_short(exc)})") from None
    if not bc.ca:
        raise NotAuthentic(f"{where}: issuer {subject(issuer)} is not a CA (basicConstraints CA:FALSE)")
    if bc.path_length is not None and cas_below > bc.path_length:
        raise NotAuthentic(f"{where}: issuer {subject(issuer)} has pathlen {bc.path_length} "
                           f"but {cas_below} CA certificates below it")
    try:
        ku = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    except Exception as exc:
        raise NotAuthentic(f"{where}: issuer {subject(issuer)} has unparsable extensions ({_short(exc)})") from None
    if not ku.key_cert_sign:
        raise NotAuthentic(f"{where}: issuer {subject(issuer)} keyUsage lacks keyCertSign")


def _build(cert: x509.Certificate, pool: list[x509.Certificate], anchors: set[bytes],
           path: list[x509.Certificate]) -> list[x509.Certificate] | None:
    if _der(cert) in anchors:
        return path
    if len(path) > MAX_DEPTH:
        return None
    used = {_der(c) for c in path}
    for cand in pool:
        d = _der(cand)
        if d in used or not _signed_by(cert, cand):
            continue
        found = _build(cand, pool, anchors, [*path, cand])
        if found is not None:
            return found
    return None


def verify_chain(leaf: x509.Certificate, intermediates: list[x509.Certificate],
                 roots: list[x509.Certificate], at: _dt.datetime, where: str) -> list[x509.Certificate]:
    """Path leaf → intermediates → one of ``roots``, checked at ``at``; leaf first."""
    at = require_utc(at, where)
    if not roots:
        raise NotAuthentic(f"{where}: no trust anchors given")
    anchors = {_der(r) for r in roots}
    pool = [*intermediates, *roots]
    path = _build(leaf, pool, anchors, [leaf])
    if path is None:
        raise NotAuthentic(f"{where}: no chain from {subject(leaf)} (issuer {name_text(leaf.issuer)}) "
                           "to a trusted root: issuer missing or signature invalid")
    root = path[-1]
    if not is_self_signed(root):
        raise NotAuthentic(f"{where}: trust anchor {subject(root)} is not a valid self-signed certificate")
    for cert in path:
        _check_validity(cert, at, where)
    # CAs strictly between the issuer and the leaf (RFC 5280: the leaf and a
    # self-issued root do not count against pathLenConstraint).
    for i in range(1, len(path)):
        _check_issuer(path[i], max(0, i - 1), where)
    return path
