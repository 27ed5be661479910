"""teecert: conformance tests and signed certification reports for consensus TEEs.

The public surface is small and stable; everything else is teecert's own machinery,
laid out in docs/architecture.md.

* ``certify(RunOptions(...)) -> RunOutcome``: one certification run, as ``teecert run``.
* ``verify_report(data, where, ...)`` and ``verify_report_file(path, ...)`` ->
  ``VerifyOutcome``: check a signed report and recompute its verdict, as ``teecert verify``.
* ``load_profile(name_or_path) -> Profile`` and ``load_vector_set(path=None) -> VectorSet``.
* The errors, under one root ``TeecertError``.

Names are imported on first use, so that ``import teecert`` (and so every
command) stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._internal.version import __version__
from .errors import MalformedInput, NotAuthentic, ProbeError, Rejected, TeecertError, UsageError

if TYPE_CHECKING:
    from .certify.options import ProbeTarget, RunOptions
    from .certify.run import RunOutcome
    from .certify.run import run as certify
    from .profile import Profile, load_profile
    from .vectors.store import VectorSet
    from .vectors.store import load_set as load_vector_set
    from .verify.verifier import VerifyOutcome, verify_report, verify_report_file

_LAZY = {
    "certify": ("teecert.certify.run", "run"),
    "RunOptions": ("teecert.certify.options", "RunOptions"),
    "ProbeTarget": ("teecert.certify.options", "ProbeTarget"),
    "RunOutcome": ("teecert.certify.run", "RunOutcome"),
    "verify_report": ("teecert.verify.verifier", "verify_report"),
    "verify_report_file": ("teecert.verify.verifier", "verify_report_file"),
    "VerifyOutcome": ("teecert.verify.verifier", "VerifyOutcome"),
    "load_profile": ("teecert.profile", "load_profile"),
    "Profile": ("teecert.profile", "Profile"),
    "load_vector_set": ("teecert.vectors.store", "load_set"),
    "VectorSet": ("teecert.vectors.store", "VectorSet"),
}

__all__ = [
    "MalformedInput",
    "NotAuthentic",
    "ProbeError",
    "ProbeTarget",
    "Profile",
    "Rejected",
    "RunOptions",
    "RunOutcome",
    "TeecertError",
    "UsageError",
    "VectorSet",
    "VerifyOutcome",
    "__version__",
    "certify",
    "load_profile",
    "load_vector_set",
    "verify_report",
    "verify_report_file",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'teecert' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
