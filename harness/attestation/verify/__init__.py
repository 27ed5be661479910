"""Authenticity of attestation evidence: signatures, certificate chains to pinned vendor
roots, collateral and revocation, checked at an explicit time.  The formats themselves
are decoded by ``attestation.abi``; policy is ``attestation.validate``."""
