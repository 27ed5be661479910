"""Pinned vendor roots.

``PINNED`` maps each vendor root's name to the SHA-256 of its DER encoding (the
values stated in ``../shared/realworld/attestation/SOURCES.md``; the Nitro value is
the one AWS publishes for its G1 root).  A certificate is a root here only if its
fingerprint is in ``PINNED``: nothing is trusted because a file says so.

Copies of the public vendor root files ship as package data in ``roots/``.  The AMD
files also hold AMD's intermediate signing keys (ASK ``SEV-<product>`` and ASVK
``SEV-VLEK-<product>``), which reports do not carry; these are accepted only because
their signatures verify under a pinned ARK in the same load (they still go through
the full chain check at verification time).

``bundled_roots() -> list[Certificate]``
    The pinned roots and their AMD intermediates shipped with teecert (deduplicated).

``load_roots(path) -> list[Certificate]``
    The certificates in a PEM/DER file, or in every ``*.pem``, ``*.crt``, ``*.cer`` and
    ``*.der`` file of a directory.  A self-signed certificate whose fingerprint is not
    pinned, or a non-self-signed one that no pinned root in the load (or bundled)
    signed, is refused with ``NotAuthentic``; unreadable or unparsable files give
    ``MalformedInput``.

``is_pinned(cert) -> bool`` / ``pinned_name(cert) -> str | None``
    Whether (and as which root) a certificate is pinned.

``anchors(certs) -> list[Certificate]`` / ``intermediates(certs)``
    Split a list into pinned self-signed roots and the rest.
"""

from __future__ import annotations

import functools
from pathlib import Path

from cryptography import x509

from ..._internal.files import package_dir
from ...errors import MalformedInput, NotAuthentic
from .x509chain import (
    fingerprint,
    is_self_signed,
    load_certificates,
    subject,
)

PINNED: dict[str, str] = {
    "ARK-Milan": "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
    "ARK-Genoa": "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
    "ARK-Turin": "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
    "Intel SGX Root CA": "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3",
    "AWS Nitro Enclaves G1": "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b",
}

_BY_FP = {fp: name for name, fp in PINNED.items()}

BUNDLED_FILES = (
    "amd_ask_ark_milan.pem",
    "amd_ask_ark_asvk_milan.pem",
    "amd_ask_ark_genoa.pem",
    "amd_ask_ark_turin.pem",
    "intel_sgx_root_ca.pem",
    "aws_nitro_enclaves_g1.pem",
)

_SUFFIXES = {".pem", ".crt", ".cer", ".der"}


def pinned_name(cert: x509.Certificate) -> str | None:
    """The ``PINNED`` name of ``cert``, or None."""
    return _BY_FP.get(fingerprint(cert))


def is_pinned(cert: x509.Certificate) -> bool:
    """Whether ``cert``'s SHA-256 fingerprint is pinned."""
    return fingerprint(cert) in _BY_FP


def anchors(certs: list[x509.Certificate]) -> list[x509.Certificate]:
    """The pinned, self-signed certificates of ``certs``."""
    return [c for c in certs if is_pinned(c) and is_self_signed(c)]


def intermediates(certs: list[x509.Certificate]) -> list[x509.Certificate]:
    """The certificates of ``certs`` that are not pinned roots."""
    return [c for c in certs if not (is_pinned(c) and is_self_signed(c))]


def _dedup(certs: list[x509.Certificate]) -> list[x509.Certificate]:
    seen: set[str] = set()
    out = []
    for c in certs:
        fp = fingerprint(c)
        if fp not in seen:
            seen.add(fp)
            out.append(c)
    return out


def _vet(certs: list[x509.Certificate], where: str, extra_roots: list[x509.Certificate]) -> list[x509.Certificate]:
    roots = [c for c in certs if is_self_signed(c)]
    for r in roots:
        if not is_pinned(r):
            raise NotAuthentic(f"{where}: root {subject(r)} (SHA-256 {fingerprint(r)}) is not a pinned vendor root")
    trusted = [*roots, *extra_roots]
    for c in certs:
        if c in roots:
            continue
        if not any(c.issuer == r.subject and _verifies(c, r) for r in trusted):
            raise NotAuthentic(f"{where}: certificate {subject(c)} (SHA-256 {fingerprint(c)}) is neither a pinned "
                               "root nor signed by one")
    return _dedup(certs)


def _verifies(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # any failure means "not signed by this root"
        return False
    return True


@functools.cache
def _bundled() -> tuple[x509.Certificate, ...]:
    pkg = package_dir("teecert.attestation") / "roots"
    certs: list[x509.Certificate] = []
    for name in BUNDLED_FILES:
        certs.extend(load_certificates((pkg / name).read_bytes(), f"bundled root {name}"))
    return tuple(_vet(certs, "bundled roots", []))


def bundled_roots() -> list[x509.Certificate]:
    """Pinned vendor roots (and AMD ASK/ASVK intermediates) shipped with teecert."""
    return list(_bundled())


def load_roots(path: str | Path) -> list[x509.Certificate]:
    """Certificates from a file or directory, each pinned or signed by a pinned root."""
    p = Path(path)
    where = str(p)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in _SUFFIXES)
        if not files:
            raise MalformedInput(f"{where}: no certificate files (*.pem, *.crt, *.cer, *.der) in directory")
    elif p.is_file():
        files = [p]
    else:
        raise MalformedInput(f"{where}: no such file or directory")
    certs: list[x509.Certificate] = []
    for f in files:
        try:
            data = f.read_bytes()
        except OSError as exc:
            raise MalformedInput(f"{f}: cannot read ({exc.strerror})") from None
        certs.extend(load_certificates(data, str(f)))
    return _vet(certs, where, anchors(bundled_roots()))
