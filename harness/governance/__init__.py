"""Governance state: who may sign policy (the trust file), the profiles it signed,
what it withdrew (revocation lists), and the newest list this machine has accepted
(so that none can be rolled back).
"""
