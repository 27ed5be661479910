"""The optional C accelerator ``teecert._accel`` (cffi API mode, built by ``pip install``
from native/accel/): the stream generators in C, the stream loop's Merkle leaves
(native/probe/sha256.c on the CPU's SHA instructions), a reader of the process's FP
control state and candidate correctly rounded libm outputs in long double
(native/accel/libm_cr.c, for ``reference.libm.cr_candidates``).  A bare source tree
has no build of it; callers fall back or say so."""

from __future__ import annotations

import functools
import importlib
from typing import Any


@functools.cache
def load() -> Any | None:
    """The accelerator module, or None when it is not built."""
    try:
        # By name: it is a compiled extension of the package root, which no module
        # below the root may import as a package (that would make an import cycle).
        return importlib.import_module("teecert._accel")
    except ImportError:
        return None
