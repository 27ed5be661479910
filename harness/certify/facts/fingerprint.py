"""The environment fingerprint: what this run stood on, and a digest identifying it.

The fingerprint records facts a reviewer needs (CPU, microcode, kernel, libc, the
probe's build); the identity digest covers only the facts that define the
platform-environment pair, so two runs on one unchanged machine share it while a
firmware, kernel, libc or probe-build change gives a new one.
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from typing import Any

import psutil

# The identity (which fields, and their digest) is the report's business: the
# verifier recomputes it from a recorded fingerprint.
from ...report.identity import IDENTITY_FIELDS as IDENTITY_FIELDS
from ...report.identity import identity_digest as identity_digest

#: Environment variables that can change what consensus code computes or how.
RELEVANT_VARIABLES = (
    "LC_ALL",
    "LANG",
    "TZ",
    "GLIBC_TUNABLES",
    "MALLOC_PERTURB_",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "OMP_NUM_THREADS",
)


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough: the fields are per model
                key, _, value = line.partition(":")
                info[key.strip()] = value.strip()
    except OSError:
        pass
    return info


def _libc() -> str:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        name, version = platform.libc_ver()
        return f"{name} {version}".strip()


def fingerprint(probe_description: dict[str, Any], probe_digest: str) -> dict[str, Any]:
    """Facts about this machine and the probe build; no floats (reports carry none)."""
    cpu = _cpuinfo()
    flags = cpu.get("flags") or cpu.get("Features") or cpu.get("isa") or ""
    uname = platform.uname()
    vm = psutil.virtual_memory()
    return {
        "arch": uname.machine,
        "cpu_model": cpu.get("model name") or cpu.get("uarch") or cpu.get("CPU part") or uname.processor,
        "cpu_flags": flags.split(),
        "cpu_flags_digest": hashlib.sha256(" ".join(sorted(flags.split())).encode()).hexdigest(),
        "microcode": cpu.get("microcode", ""),
        "cores_logical": psutil.cpu_count(logical=True) or 0,
        "cores_physical": psutil.cpu_count(logical=False) or 0,
        "memory_bytes": str(vm.total),
        "kernel": f"{uname.system} {uname.release}",
        "kernel_version": uname.version,
        "libc": _libc(),
        "python": sys.version.split()[0],
        "hostname_digest": hashlib.sha256(uname.node.encode()).hexdigest(),
        "variables": {k: os.environ[k] for k in RELEVANT_VARIABLES if k in os.environ},
        "probe_compiler": str(probe_description.get("compiler", "")),
        "probe_cflags": str(probe_description.get("cflags", "")),
        "probe_digest": probe_digest,
    }


def host_fingerprint(host_facts: dict[str, Any], probe_description: dict[str, Any],
                     probe_digest: str) -> dict[str, Any]:
    """The fingerprint of the machine a probe host runs on, from the facts it reported
    in its HELLO (docs/wire-protocol.md, "Host facts"; the same fields and formats as
    :func:`fingerprint`, computed there), plus the probe build.  The harness's own
    Python is not a fact of that machine and is left out."""
    fp = {k: v for k, v in host_facts.items() if k != "python"}
    fp["probe_compiler"] = str(probe_description.get("compiler", ""))
    fp["probe_cflags"] = str(probe_description.get("cflags", ""))
    fp["probe_digest"] = probe_digest
    return fp
