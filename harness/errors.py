"""The errors teecert raises, under a single root.

Only the command line turns these into exit codes (``teecert.cli.common``):
``Rejected`` gives 1, every other one 2.  Every message is one line that names the
file and the field where it can.  Errors that are also the user's mistake subclass
the matching builtin (``ValueError``).
"""

from __future__ import annotations


class TeecertError(Exception):
    """Root of every error teecert raises on purpose."""


class UsageError(TeecertError, ValueError):
    """The command line or an API call was given options that do not fit together."""


class MalformedInput(TeecertError, ValueError):
    """A file (vector set, profile, report, key, evidence) is not of the expected form.

    The message names the file and the field and says what was expected.
    """


class NotAuthentic(TeecertError):
    """A signature, digest or chain does not verify: the input cannot be trusted."""


class Rejected(TeecertError):
    """The input is authentic but does not meet the policy (e.g. NOT_CERTIFIED)."""


class ProbeError(TeecertError):
    """The probe could not be loaded, lies about its ABI, or failed during a call."""


class ArgumentsRejected(ProbeError):
    """The probe answered ``TEECERT_E_ARGS``: wrong sizes, or an op id it does not
    know at all (an older probe asked for an optional ``hw.*`` op)."""


class UnsupportedOp(ProbeError):
    """The probe declares that it does not implement this op (or attestation).

    Unsupported ops are declared, not faked: the profile decides whether a missing
    op fails the run.
    """


class BuildError(TeecertError):
    """A native build (reference probe, accelerator) could not be done."""
