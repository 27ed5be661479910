"""Golden vector sets: the explicit edge cases (``design``), the stream generators
(``streams``), the format on disk and its one loader (``store``), Merkle
commitments, and generating or re-checking a set.
"""
