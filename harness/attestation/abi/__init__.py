"""Binary formats of attestation evidence, parsed by explicit offsets: no signatures
checked and no policy applied here (that is ``verify`` and ``validate``)."""
