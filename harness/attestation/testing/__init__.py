"""Test doubles for attestation: a simulated platform whose evidence exercises the real
binding and verification paths, accepted only by development profiles."""
