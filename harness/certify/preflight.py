"""Checks made before a certification run starts, so that whatever a user can get
wrong (probe, profile, vector set, key, options) is one clear line and no report.

``teecert run`` calls them before it starts pytest; the plugin calls the vector-set
ones, and the check of pytest's options, again when pytest is started by hand."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from .. import ops
from ..errors import MalformedInput, UsageError
from ..probe.build import reference_probe_path
from ..probe.library import describe_in_child
from ..probe.remote import default_host_cmd, open_probe
from ..profile import Profile
from ..vectors.store import VectorSet, explicit_parsed
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
    """Parse every file of the set, so a malformed file is one line naming it and its
    field, before the run, rather than test failures blamed on the probe in a
    NOT_CERTIFIED report.  Explicit files whose exact bytes parsed before (a cache
    entry, ``store.explicit_parsed``) are not parsed again: about 0.6 s of CPU."""
    for op_id in vs.explicit_ops():
        if not explicit_parsed(vs, op_id):
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


#: pytest options that leave tests out, stop a run early or change what an outcome
#: means, by the name pytest parses them into (``config.getoption``).  A run that
#: writes a report refuses any of them set, however it was set (command line,
#: ``addopts`` of an ini file, ``PYTEST_ADDOPTS``): under ``teecert run`` the
#: plugin checks them again after ``check_pytest_args``.
SELECTION_OPTIONS = {
    "keyword": "-k", "markexpr": "-m", "deselect": "--deselect", "ignore": "--ignore",
    "ignore_glob": "--ignore-glob", "maxfail": "-x/--maxfail", "lf": "--lf", "stepwise": "--sw",
    "stepwise_skip": "--sw-skip", "runxfail": "--runxfail", "collectonly": "--collect-only",
    "setuponly": "--setup-only", "setupplan": "--setup-plan", "doctestmodules": "--doctest-modules",
    "noconftest": "--noconftest", "usepdb": "--pdb", "trace": "--trace", "reruns": "--reruns",
}
#: ``-p no:NAME`` a run may give: plugins that only print, cache or spread the work
_PLUGINS_OFF = frozenset({"cacheprovider", "pastebin", "junitxml", "faulthandler", "warnings", "xdist"})
#: ``-p NAME`` a run may give: any other plugin is code that could change what a test finds
_PLUGINS_ON = frozenset({"teecert", "teecert.certify.plugin", "xdist", "xdist.plugin", "cacheprovider"})
#: ``-o NAME=VALUE`` a run may give: ini options of pytest's output
_INI_OUTPUT = ("junit_", "log_", "console_output_style", "verbosity_", "truncation_limit_")


def check_pytest_options(option: Callable[[str], Any], plugins: Sequence[str], overrides: Sequence[str],
                         env_plugins: str | None) -> None:
    """Refuse, with one line, a pytest run of the plugin that writes a report while
    it leaves tests out or lets other code decide outcomes: ``option(name)`` is
    pytest's parsed value (None when no plugin defines it), ``plugins`` the ``-p``
    values, ``overrides`` the ``-o`` values and ``env_plugins`` ``$PYTEST_PLUGINS``.

    The same rule as ``check_pytest_args`` gives ``teecert run -- ARGS``; a run that
    gets past it and still misses a test is made complete with the missing tests as
    skipped (never CERTIFIED where the suite is required)."""
    why = "a certification runs every test its profile asks for, with nothing but teecert deciding outcomes"
    for name, flag in SELECTION_OPTIONS.items():
        if option(name):
            raise UsageError(f"{flag}: not allowed in a teecert certification run ({why})")
    for p in plugins:
        off = p[3:] if p.startswith("no:") else None
        if (off is not None and off not in _PLUGINS_OFF) or (off is None and p not in _PLUGINS_ON):
            raise UsageError(f"-p {p}: not allowed in a teecert certification run ({why})")
    for o in overrides:
        if not o.split("=", 1)[0].startswith(_INI_OUTPUT):
            raise UsageError(f"-o {o}: only pytest's output ini options are allowed in a teecert "
                             f"certification run ({why})")
    if env_plugins:
        raise UsageError(f"PYTEST_PLUGINS={env_plugins}: not allowed in a teecert certification run ({why})")


def check_workers(workers: str | None) -> None:
    if workers is not None and workers != "auto" and not (workers.isdigit() and 1 <= int(workers) <= 1024):
        raise UsageError(f"-n {workers}: the number of workers must be 'auto' or 1 to 1024")


def resolve_probe(target: ProbeTarget, profile: Profile) -> ProbeTarget:
    """The probe as the run's tests will reach it, checked now with one line.

    Certification runs reach even a library through a probe host in a child process:
    a probe that crashes, aborts or hangs fails its tests instead of taking the
    harness down (docs/wire-protocol.md).  A profile that requires the consensus
    process's memory locked gets a host started with --mlock.  A library for
    ``--in-process`` is checked in a child process too: this process never runs a
    probe's code, so one that crashes or hangs while it loads or describes itself is
    one line, not a dead command.
    """
    target.check()
    timeout = target.timeout or profile.probe_timeout
    if target.in_process:
        path = target.path.resolve() if target.path else reference_probe_path()
        describe_in_child(path, timeout)  # fails here, with one line, for a bad probe
        return ProbeTarget(path=path, timeout=target.timeout, in_process=True)
    cmd, url = target.cmd, target.url
    if cmd is None and url is None:
        if target.path is not None and not target.path.exists():
            raise UsageError(f"--probe {target.path}: no such file")
        words = default_host_cmd(target.path)
        if profile.data.get("environment", {}).get("isolation", {}).get("locked_memory"):
            words.append("--mlock")
        cmd = shlex.join(words)
    # the handshake (and the token, if the host asks for one), checked now
    open_probe(cmd=cmd, url=url, timeout=timeout, token_file=target.token_file).close()
    return ProbeTarget(cmd=cmd, url=url, timeout=target.timeout, token_file=target.token_file)


def suites_path() -> Path:
    return Path(str(resources.files("teecert.suites")))
