"""``teecert doctor``: check this machine before a long certification run."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import ACCEPTED, REJECTED, printable


def _cmd_doctor(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..certify import doctor
    from ..profile import load_profile

    profile = load_profile(a.profile)
    checks = doctor.diagnose(profile)
    failed = any(c.status == doctor.FAIL for c in checks)
    code = REJECTED if failed else ACCEPTED
    if a.json:
        print(json.dumps({"profile": profile.identity(), "checks": [c.as_dict() for c in checks],
                          "exit_code": code}, indent=2))
        return code
    print(printable(f"teecert doctor: profile {profile.id} (tier {profile.tier}), "
                    f"{len(checks)} checks; status, check, what was found; fix"))
    for c in checks:
        print(printable(c.line()))
    print(printable(doctor.summary(checks, profile)))
    return code


def add_parsers(sub: Any) -> None:
    """Register ``teecert doctor``."""
    d = sub.add_parser("doctor", help="check this machine before a certification run (TEE, compiler, "
                                      "clock, isolation, locales, libc, time)")
    d.add_argument("--profile", default="development", metavar="NAME|FILE",
                   help="the profile the run will use (default: development)")
    d.add_argument("--json", action="store_true", help="the checks as JSON")
    d.set_defaults(func=_cmd_doctor)
