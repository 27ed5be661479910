"""The explicit edge-case vectors: which inputs each op is tested on, and why.

One module per kind of op (``floats``, ``libm``, ``data``); ``groups_for`` picks it.
"""

from __future__ import annotations

from ...ops import DATA_KINDS, Op
from . import data, floats, libm
from .common import Group


def groups_for(op: Op) -> list[Group]:
    """All explicit groups of one op."""
    if op.kind in DATA_KINDS:
        return data.groups_for(op)
    if op.kind == "libm":
        return libm.groups_for(op)
    return floats.groups_for(op)
