"""Attestation evidence, in four parts kept apart (the split go-sev-guest makes).

``abi`` decodes the vendors' binary formats; ``verify`` decides authenticity
(signatures, certificate chains to pinned vendor roots, collateral and revocation, at
an explicit time) and returns a ``model.Verified`` record; ``validate`` applies an
attestation policy to that record; ``testing`` is the simulated platform for
development.  Nothing here reads the wall clock on its own: the verification time is
an input.  ``evidence`` ties the steps together for callers.
"""

#: The result row that records a run's attestation outcome (suite ``attestation``):
#: what a verifier recomputes from the embedded evidence, and what a profile that
#: requires attestation requires.
EVIDENCE_RESULT_ID = "attestation::evidence"

#: The evidence formats of real TEEs: what a policy accepts when it names none.
#: ``sim`` is never among them; only a development profile may name it.
REAL_FORMATS = ("snp", "tdx", "sgx", "nitro")

