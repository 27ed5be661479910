"""Governance state: who may sign policy (the trust file), the profiles it signed,
and what it withdrew (revocation lists).
"""
