"""Attestation evidence, in four parts kept apart (the split go-sev-guest makes).

``abi`` decodes the vendors' binary formats; ``verify`` decides authenticity
(signatures, certificate chains to pinned vendor roots, collateral and revocation, at
an explicit time) and returns a ``model.Verified`` record; ``validate`` applies an
attestation policy to that record; ``testing`` is the simulated platform for
development.  Nothing here reads the wall clock on its own: the verification time is
an input.  ``evidence`` ties the steps together for callers.
"""
