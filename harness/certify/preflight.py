"""Checks made before a certification run starts, so that whatever a user can get
wrong (probe, profile, vector set, key, options) is one clear line and no report.

``teecert run`` calls them before it starts pytest; the plugin calls the vector-set
ones again when pytest is started by hand."""

from __future__ import annotations

import shlex
from importlib import resources
from pathlib import Path

from .. import ops
from ..errors import MalformedInput, UsageError
from ..probe.build import reference_probe_path
from ..probe.library import load_probe
from ..probe.remote import default_host_cmd, open_probe
from ..profile import Profile
from ..vectors.store import VectorSet
from .options import ProbeTarget
from .stress import plan_from_profile


def check_pinned_vectors(profile: Profile, vs: VectorSet) -> None:
    """A run under a profile uses exactly the vector set the profile pins."""
    if vs.name != profile.vector_set_name or vs.digest != profile.vector_digest:
        raise UsageError(
            f"vector set {vs.name} ({vs.path}, digest {vs.digest[:16]}...) is not the one profile "
            f"{profile.id} pins ({profile.vector_set_name}, digest {profile.vector_digest[:16]}...)"
        )


def check_profile_plan(profile: Profile, vs: VectorSet, where: str) -> None:
    """What a profile asks of the vector set beyond its schema: the stress plan's ops
    and chunks, and libm pins naming libm functions; one line naming ``where``."""
    if "stress" in profile.data:
        plan_from_profile(profile.data["stress"], vs.streams(), where)
    for op_id in profile.data.get("libm", {}).get("pinned", {}):
        op = ops.get(op_id, f"{where}: field libm.pinned")
        if op.kind != "libm":
            raise MalformedInput(f"{where}: field libm.pinned: {op_id} is not a libm function")


def check_vector_contents(vs: VectorSet) -> None:
    """Parse every file of the set (about 0.25 s for the shipped one), so a malformed
    file is one line naming it and its field, before the run, rather than test
    failures blamed on the probe in a NOT_CERTIFIED report."""
    for op_id in vs.explicit_ops():
        vs.explicit(op_id)
    vs.streams()


#: pytest options ``teecert run -- ARGS`` passes on: they change what is printed or
#: written beside the report, never which tests run or how the plugin is set up.
_PYTEST_OUTPUT_OPTIONS = ("--junitxml", "--junit-xml", "--junit-prefix", "--tb", "--color", "--durations",
                          "--showlocals", "--full-trace", "--capture", "-r", "-v", "-q", "-s", "-l")


def check_pytest_args(args: tuple[str, ...]) -> None:
    """Refuse pytest options that could leave tests out, or configure the plugin past
    the checks made here (another profile, no governance): a certification runs
    every test its profile asks for."""
    expects_value = {"--junitxml", "--junit-xml", "--junit-prefix", "--tb", "--color", "--durations",
                     "--capture", "-r"}
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0]
        short = arg[:2] if arg.startswith("-") and not arg.startswith("--") else None
        if name in _PYTEST_OUTPUT_OPTIONS or (short in ("-r", "-v", "-q") and set(arg[1:]) <= set(arg[1] + "vqs")):
            i += 2 if (name in expects_value and "=" not in arg and len(arg) == len(name)) else 1
            continue
        if short == "-r":
            i += 1
            continue
        raise UsageError(f"-- {arg}: teecert run passes on only pytest's output options "
                         f"({', '.join(o for o in _PYTEST_OUTPUT_OPTIONS if o.startswith('--'))}, -v, -q, -r, -s): "
                         "a certification runs every test its profile asks for, under the checked profile")


def check_workers(workers: str | None) -> None:
    if workers is not None and workers != "auto" and not (workers.isdigit() and 1 <= int(workers) <= 1024):
        raise UsageError(f"-n {workers}: the number of workers must be 'auto' or 1 to 1024")


def resolve_probe(target: ProbeTarget, profile: Profile) -> ProbeTarget:
    """The probe as the run's tests will reach it, checked now with one line.

    Certification runs reach even a library through a probe host in a child process:
    a probe that crashes, aborts or hangs fails its tests instead of taking the
    harness down (docs/wire-protocol.md).  A profile that requires the consensus
    process's memory locked gets a host started with --mlock.
    """
    target.check()
    timeout = target.timeout or profile.probe_timeout
    if target.in_process:
        path = target.path.resolve() if target.path else reference_probe_path()
        load_probe(path)  # fails here, with one line, for a bad probe
        return ProbeTarget(path=path, timeout=target.timeout, in_process=True)
    cmd, url = target.cmd, target.url
    if cmd is None and url is None:
        if target.path is not None and not target.path.exists():
            raise UsageError(f"--probe {target.path}: no such file")
        words = default_host_cmd(target.path)
        if profile.data.get("environment", {}).get("isolation", {}).get("locked_memory"):
            words.append("--mlock")
        cmd = shlex.join(words)
    open_probe(cmd=cmd, url=url, timeout=timeout).close()  # the handshake, checked now
    return ProbeTarget(cmd=cmd, url=url, timeout=target.timeout)


def suites_path() -> Path:
    return Path(str(resources.files("teecert.suites")))
