"""Attestation evidence: verify (authenticity) then validate (policy), kept apart.

``verify_*`` functions check signatures, certificate chains to pinned vendor roots,
collateral and revocation at an explicit time, and return a ``Verified`` record;
``policy.validate`` then applies an attestation policy to that record.  Neither
ever reads the wall clock on its own: the verification time is an input.
"""
