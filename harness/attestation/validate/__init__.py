"""Attestation policy: what authentic evidence (a ``Verified`` record) must show to be
accepted.  Nothing here checks a signature; that is ``attestation.verify``."""
