"""``teecert doctor``: what a validator checks before a long certification run.

A certification can take minutes and end NOT_CERTIFIED for a reason visible before it
starts: no TEE to collect evidence from, a memory-lock limit the profile's isolation
cannot live with, the wrong C library for the profile's pins.  Each check here looks
at one such thing and gives one line: a status (``ok``, ``warn``, ``fail``, ``n/a``),
what it found, and the fix.  ``fail`` means a run under the profile would fail for
that reason (with the reference probe); ``warn`` means it may, or that the run would
be weaker than it could be; ``n/a`` that the profile does not ask for it.

The checks are functions of what they are shown (paths, command output, limits), so
that tests can point them at a fake tree; :func:`diagnose` gathers this machine's
facts and runs them all.
"""

from __future__ import annotations

import math
import os
import re
import resource
import stat
import subprocess
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BuildError
from ..probe.build import find_compiler, host_path, reference_probe_path
from ..profile import Profile
from ..vectors.store import Stream, load_set
from . import stress
from .judge import environment

OK, WARN, FAIL, NA = "ok", "warn", "fail", "n/a"


@dataclass(frozen=True)
class Check:
    """One check's line: its status, what it found and how to fix it."""

    name: str
    status: str
    found: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4}  {self.name:<11} {self.found}"
        return f"{text}; fix: {self.fix}" if self.fix else text

    def as_dict(self) -> dict[str, str]:
        return {"check": self.name, "status": self.status, "found": self.found, "fix": self.fix}


def _failing(required: bool) -> str:
    """``fail`` where the suite that would find the problem is required, else ``warn``."""
    return FAIL if required else WARN


# ------------------------------------------------------------------ places


@dataclass(frozen=True)
class Places:
    """Where the checks look: this machine's paths by default, a fake tree in tests."""

    tsm_report: Path = Path("/sys/kernel/config/tsm/report")
    configfs: Path = Path("/sys/kernel/config")
    sev_guest: Path = Path("/dev/sev-guest")
    #: the device's name before and after Linux 6.2 renamed it
    tdx_guest: tuple[Path, ...] = (Path("/dev/tdx_guest"), Path("/dev/tdx-guest"))
    nsm: Path = Path("/dev/nsm")
    sgx: Path = Path("/dev/sgx_enclave")
    clocksource: Path = Path("/sys/devices/system/clocksource/clocksource0")
    cmdline: Path = Path("/proc/cmdline")

    @classmethod
    def of_environment(cls, env: Mapping[str, str]) -> Places:
        """This machine's places, with the overrides the reference probe honours too
        (``TEECERT_TSM_REPORT_DIR``, ``TEECERT_NSM_DEVICE``): doctor looks where the
        run will look."""
        base = cls()
        tsm = env.get("TEECERT_TSM_REPORT_DIR") or ""
        nsm = env.get("TEECERT_NSM_DEVICE") or ""
        return cls(tsm_report=Path(tsm) if tsm else base.tsm_report,
                   nsm=Path(nsm) if nsm else base.nsm)


# ------------------------------------------------------------------ the profile


def suite_level(profile: Profile, suite: str) -> str | None:
    """``required``, ``advisory``, or None when the profile does not name ``suite``."""
    return profile.suites.get(suite)


def needs_real_evidence(profile: Profile) -> bool:
    """Whether a run under ``profile`` fails without evidence of a real TEE."""
    formats = ((profile.data.get("attestation") or {}).get("policy") or {}).get("formats") or []
    return profile.attestation_required or (
        suite_level(profile, "attestation") == "required" and "sim" not in formats)


# ------------------------------------------------------------------ TEE


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def _opens(path: Path) -> str | None:
    """None when ``path`` opens read-write, else why not."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as e:
        return e.strerror or type(e).__name__
    os.close(fd)
    return None


def check_tee(places: Places, *, needs_real: bool, profile_id: str) -> Check:
    """Is this a TEE guest, and can the probe collect evidence here (configfs-tsm for
    SEV-SNP and TDX, ``/dev/nsm`` for Nitro: what the reference probe reaches)?"""
    bad = _failing(needs_real)
    guest = []
    if places.sev_guest.exists():
        guest.append(f"SEV-SNP guest device {places.sev_guest}")
    guest += [f"TDX guest device {p}" for p in places.tdx_guest if p.exists()]
    also = f" ({', '.join(guest)})" if guest else ""
    if places.tsm_report.is_dir():
        if _writable_dir(places.tsm_report):
            return Check("tee", OK, f"TEE guest: configfs-tsm at {places.tsm_report}{also}; "
                                    "the probe collects evidence there")
        return Check("tee", bad, f"TEE guest: configfs-tsm at {places.tsm_report}{also}, but this "
                                 "user cannot write it, so the probe cannot collect evidence",
                     f"run teecert as root (each report is a folder made under {places.tsm_report})")
    if places.nsm.exists():
        why = "not a character device" if not stat.S_ISCHR(places.nsm.stat().st_mode) else _opens(places.nsm)
        if why is None:
            return Check("tee", OK, f"Nitro Enclave: {places.nsm} opens; the probe collects evidence there")
        return Check("tee", bad, f"Nitro Enclave: {places.nsm} exists but does not open ({why})",
                     f"run teecert as root, or give this user read-write access to {places.nsm}")
    if guest:
        where = ("configfs is mounted but has no tsm/report: load the guest driver "
                 "(modprobe sev-guest or tdx-guest) on Linux 6.7 or later"
                 if places.configfs.is_dir() else
                 "mount configfs (mount -t configfs none /sys/kernel/config) on Linux 6.7 or later")
        return Check("tee", bad, f"TEE guest ({', '.join(guest)}) but no configfs-tsm at "
                                 f"{places.tsm_report}: the probe collects evidence only through it",
                     f"{where}; or collect the evidence yourself: teecert run --print-report-data, "
                     "then teecert run --evidence FILE --pending PENDING")
    if places.sgx.exists():
        return Check("tee", bad, f"SGX enclave device {places.sgx}: evidence comes from a quoting "
                                 "enclave, which the probe does not drive",
                     "teecert run --print-report-data, quote the report data with your quoting enclave, "
                     "then teecert run --evidence QUOTE --pending PENDING")
    found = "not a TEE guest: no configfs-tsm, /dev/sev-guest, /dev/tdx_guest or /dev/nsm"
    fix = "run inside a confidential VM or enclave to certify for admission"
    if needs_real:
        found += f"; profile {profile_id} accepts only real evidence, so the run would be NOT_CERTIFIED"
    else:
        fix += "; development profiles use simulated evidence"
    return Check("tee", bad, found, fix)


# ------------------------------------------------------------------ compiler


def check_compiler(compiler: Sequence[str] | None, version: str, *, builds_ready: bool) -> Check:
    """A C compiler builds the probe and its host when their sources change (and
    ``teecert probe build``); without one, the builds already made must do."""
    if compiler:
        shown = " ".join(compiler) + (f": {version}" if version else "")
        return Check("compiler", OK, f"C compiler {shown} (builds probes and the probe host)")
    if builds_ready:
        return Check("compiler", WARN, "no C compiler (tried $CC, cc, gcc, clang): the reference probe "
                                       "and probe host already built serve the run, but nothing can be "
                                       "rebuilt (teecert probe build, a changed probe source)",
                     "install gcc (Debian: apt-get install gcc)")
    return Check("compiler", FAIL, "no C compiler (tried $CC, cc, gcc, clang) and no current build of "
                                   "the reference probe or probe host: the run cannot start",
                 "install gcc (Debian: apt-get install gcc)")


def _compiler_facts() -> tuple[list[str] | None, str]:
    try:
        cc = find_compiler()
    except BuildError:
        return None, ""
    try:
        out = subprocess.run([*cc, "--version"], capture_output=True, text=True, timeout=20,
                             check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    return cc, (out.splitlines() or [""])[0].strip()


def _builds_ready() -> bool:
    """Whether the probe and host a run uses exist without compiling (called only
    when no compiler is found, so that nothing is built here)."""
    try:
        reference_probe_path()
        host_path()
    except (BuildError, OSError):
        return False
    return True


# ------------------------------------------------------------------ clock source

#: Clock sources read in user space without a system call, from a counter that runs
#: at a constant rate: x86's TSC and Arm's generic timer.
GOOD_CLOCKSOURCES = ("tsc", "arch_sys_counter")


def check_clocksource(folder: Path) -> Check:
    """The kernel's clock source (``current_clocksource`` in ``folder``): the clocks
    suite's resolution and jitter thresholds assume a fast, steady one."""
    try:
        current = (folder / "current_clocksource").read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return Check("clocksource", NA, f"no clock source in {folder} (not Linux, or sysfs not mounted)")
    try:
        available = (folder / "available_clocksource").read_text(encoding="ascii", errors="replace").split()
    except OSError:
        available = []
    if current in GOOD_CLOCKSOURCES:
        return Check("clocksource", OK, f"clock source {current}")
    offered = f" (available: {' '.join(available)})" if available else ""
    found = (f"clock source {current}{offered}: slower or coarser to read than tsc, which can miss "
             "the clocks suite's resolution and jitter thresholds")
    good = [c for c in GOOD_CLOCKSOURCES if c in available]
    if good:
        fix = (f"as root: echo {good[0]} > {folder / 'current_clocksource'} (or boot with "
               f"clocksource={good[0]}{' tsc=reliable' if good[0] == 'tsc' else ''})")
    else:
        fix = "the kernel offers no tsc here: ask the VM's provider for an invariant TSC exposed to guests"
    return Check("clocksource", WARN, found, fix)


# ------------------------------------------------------------------ isolation

_CPU_RANGE = re.compile(r"(\d+)(?:-(\d+))?(?::\d+/\d+)?")


def cpu_list(text: str) -> set[int]:
    """The CPUs of a kernel CPU list (``2-3,6``), flags such as ``domain,managed_irq`` of
    ``isolcpus=`` left out."""
    cpus: set[int] = set()
    for part in text.split(","):
        m = _CPU_RANGE.fullmatch(part.strip())
        if m:
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.group(2) else lo
            cpus.update(range(lo, hi + 1))
    return cpus


def boot_isolation(cmdline: str) -> dict[str, set[int]]:
    """``isolcpus`` and ``nohz_full`` of a kernel command line, as CPU sets (the last
    of each wins, as in the kernel)."""
    out: dict[str, set[int]] = {}
    for word in cmdline.split():
        name, eq, value = word.partition("=")
        if eq and name in ("isolcpus", "nohz_full"):
            out[name] = cpu_list(value)
    return out


def check_isolation(cmdline: str, affinity: Collection[int], requirements: Mapping[str, Any], *,
                    required: bool, busy: Sequence[environment.BusyProcess] = ()) -> Check:
    """Cores for the consensus process (the probe host, which runs on the cores
    ``teecert run`` was started on): the profile's ``isolation.min_cores`` and
    ``dedicated_cores`` against ``affinity``, the boot's isolcpus and nohz_full, and
    the processes ``busy`` now."""
    boot = boot_isolation(cmdline)
    mine = environment.cores_text(affinity)
    shown = ", ".join(f"{k}={environment.cores_text(v) or '(none)'}" for k, v in sorted(boot.items())) \
        or "no isolcpus or nohz_full"
    if not requirements.get("dedicated_cores") and not requirements.get("min_cores"):
        return Check("isolation", NA, f"the profile asks for no dedicated cores ({shown}; this shell "
                                      f"may use cores {mine})")
    min_cores = int(requirements.get("min_cores") or 0)
    if min_cores and len(affinity) < min_cores:
        return Check("isolation", _failing(required),
                     f"this shell may use {len(affinity)} core(s) ({mine}), fewer than the {min_cores} "
                     "the profile requires for the probe host (isolation.min_cores)",
                     f"start the run on at least {min_cores} cores: taskset -c LIST teecert run ...")
    if not requirements.get("dedicated_cores"):
        return Check("isolation", OK, f"this shell may use {len(affinity)} core(s) ({mine}), at least "
                                      f"the {min_cores} required ({shown})")
    isolated = boot.get("isolcpus", set()) | boot.get("nohz_full", set())
    if busy:
        listed = "; ".join(b.describe() for b in busy[:4]) + ("; ..." if len(busy) > 4 else "")
        return Check("isolation", WARN,
                     f"{len(busy)} busy process(es) share this shell's cores {mine} now ({listed}): "
                     "the profile requires the probe host's cores to itself",
                     "stop them or move them off (taskset -p), ideally onto cores outside isolcpus, "
                     "and start the run on the isolated ones: taskset -c LIST teecert run ...")
    if not isolated:
        return Check("isolation", WARN,
                     f"no isolcpus or nohz_full: nothing keeps other work off the probe host's cores "
                     f"({mine}) during the run, and the profile requires them to itself",
                     "boot with isolcpus=LIST nohz_full=LIST and start the run on those cores: "
                     "taskset -c LIST teecert run ...")
    if not set(affinity) <= isolated:
        return Check("isolation", WARN, f"{shown}, but this shell may use cores {mine}",
                     f"start the run on the isolated cores: taskset -c "
                     f"{environment.cores_text(isolated)} teecert run ...")
    return Check("isolation", OK, f"this shell runs on isolated cores {mine} ({shown}), no busy "
                                  "process shares them now")


#: What the probe host's --mlock needs (native/host/probe_host.c): below this it does
#: not lock, and the profile's ``locked_memory`` fails.
MEMLOCK_NEEDED = 512 << 20


def _bytes_text(n: int) -> str:
    if n < 0 or n == resource.RLIM_INFINITY:
        return "unlimited"
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"


def check_memlock(soft: int, hard: int, *, privileged: bool, requirements: Mapping[str, Any],
                  required: bool) -> Check:
    """RLIMIT_MEMLOCK against the profile's ``isolation.locked_memory``: the probe host
    locks its memory (mlockall) only with at least 512 MiB, CAP_IPC_LOCK or root."""
    limits = f"RLIMIT_MEMLOCK soft {_bytes_text(soft)}, hard {_bytes_text(hard)}"
    if not requirements.get("locked_memory"):
        return Check("memlock", NA, f"the profile does not require locked memory ({limits})")
    unlimited = soft < 0 or soft == resource.RLIM_INFINITY
    if privileged:
        return Check("memlock", OK, f"{limits}; root or CAP_IPC_LOCK: the probe host can lock its memory")
    if unlimited or soft >= MEMLOCK_NEEDED:
        return Check("memlock", OK, f"{limits}: the probe host can lock its memory")
    hard_ok = hard < 0 or hard == resource.RLIM_INFINITY or hard >= MEMLOCK_NEEDED
    fix = ("ulimit -l unlimited in the shell that starts the run" if hard_ok else
           "raise the hard limit as root (a memlock line in /etc/security/limits.conf, or "
           "LimitMEMLOCK=infinity in a systemd unit), then ulimit -l unlimited")
    return Check("memlock", _failing(required),
                 f"{limits}: the probe host needs at least 512 MiB (or CAP_IPC_LOCK) to lock its "
                 "memory, which the profile requires (isolation.locked_memory)",
                 f"{fix}; or run as root")


def _privileged(status: Path = Path("/proc/self/status")) -> bool:
    """Root, or CAP_IPC_LOCK (bit 14) in the effective set."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return True
    try:
        for line in status.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> 14 & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


# ------------------------------------------------------------------ locales

_LOCALE_FIX = ("install glibc's locale sources so teecert can build one (Debian: apt-get install "
               "locales), or a decimal-comma locale: echo 'de_DE.UTF-8 UTF-8' >> /etc/locale.gen "
               "&& locale-gen")


def check_locales(choice: stress.LocaleChoice | None, *, required: bool) -> Check:
    """The decimal-comma locale the stress suite's ``locale`` perturbation runs probes
    under (``choice``: what ``stress.comma_locale`` found or built; None when the
    profile's stress plan does not vary the locale).  Without one the perturbation
    is skipped, which fails a run whose profile requires the stress suite."""
    if choice is None:
        return Check("locale", NA, "the profile's stress plan does not vary the locale")
    if choice.not_applicable is None:
        return Check("locale", OK, f"{choice.note}: the stress suite varies the locale with it "
                                   "(a decimal comma)")
    return Check("locale", FAIL if required else WARN,
                 f"the stress suite's locale perturbation would be skipped: {choice.not_applicable}"
                 + ("" if required else " (the profile's stress suite is advisory)"), _LOCALE_FIX)


def _stress_varies_locale(profile: Profile) -> bool:
    return (suite_level(profile, "stress") is not None
            and "locale" in (profile.data.get("stress") or {}).get("perturbations", []))


# ------------------------------------------------------------------ libc and libm

#: The fingerprint fields that name the C library (``docs/profile-format.md``).
LIBC_FIELDS = ("libc", "libc_name", "libc_version")


def libc_facts() -> dict[str, str]:
    """This process's C library as the report's fingerprint records it: ``libc``
    (``glibc 2.36``), ``libc_name``, ``libc_version``."""
    name, version = environment.libc_parts()
    return {"libc": f"{name} {version}".strip(), "libc_name": name, "libc_version": version}


def check_libc(facts: Mapping[str, str], pinned: Mapping[str, Any], *, required: bool) -> Check:
    """The C library (libm is part of it) against the libc fields the profile pins
    (``environment.pinned``)."""
    here = facts.get("libc") or "unknown C library"
    pins = {k: v for k, v in pinned.items() if k in LIBC_FIELDS}
    if not pins:
        return Check("libc", NA, f"{here} (its libm too); the profile pins no C library")
    findings = environment.check_pinned(facts, pins)
    failed = [f.message for f in findings if not f.passed]
    if not failed:
        return Check("libc", OK, f"{here}: " + "; ".join(f.message for f in findings))
    return Check("libc", _failing(required), f"{here}: " + "; ".join(failed),
                 "certify in the environment the profile was approved for: its C library (and so "
                 "its libm), or ask governance for a profile that pins this one")


def check_libm(facts: Mapping[str, str], profile: Profile) -> Check:
    """The libm suite: required without pinned digests, every function must be
    correctly rounded, which glibc's libm is not."""
    level = suite_level(profile, "libm")
    here = facts.get("libc") or "the C library"
    if level is None:
        return Check("libm", NA, "the profile does not run the libm suite")
    pins = (profile.data.get("libm") or {}).get("pinned") or {}
    if level != "required":
        return Check("libm", OK, f"libm of {here}: the libm suite is advisory (differences from "
                                 "correctly rounded are recorded, never fail)")
    if pins:
        return Check("libm", OK, f"the profile pins the libm digests of {len(pins)} function(s) "
                                 f"for its approved environment; the run compares {here}'s libm with them")
    if facts.get("libc_name") == "glibc":
        return Check("libm", FAIL, f"the libm suite is required with no pinned digests, so every "
                                   f"function must be correctly rounded, which {here}'s libm is not: "
                                   "with the reference probe the run would be NOT_CERTIFIED",
                     "use the profile your network pins this libm's digests in (libm.pinned), or "
                     "certify a probe whose libm is correctly rounded (e.g. CORE-MATH)")
    return Check("libm", WARN, f"the libm suite is required with no pinned digests: every function "
                               f"must be correctly rounded; whether {here}'s libm is, only the run tells",
                 "run it; or use a profile that pins this libm's digests (libm.pinned)")


# ------------------------------------------------------------------ time

#: How long the parts of a run took with the reference probe on a 2-core x86-64
#: machine shared with other work, where :func:`benchmark` scored REFERENCE_SCORE.
#: A rough model: the run's time is these costs times the profile's work, scaled by
#: how fast this machine runs the benchmark now.
REFERENCE_SCORE = 19000.0
FIXED_SECONDS = 4.0  # start-up, preflight, collection, the clocks suite, signing
STREAM_NS = 85.0  # per stream vector of the ieee754, integers and hashes suites
LIBM_NS = 2500.0  # per libm stream vector, correctly rounded results included
STRESS_PROCESS_SECONDS = 0.05  # per fresh probe process the stress plan starts
STRESS_CHUNK_SECONDS = 0.0012  # per chunk a stress process evaluates

_KIND_SUITE = {"float": "ieee754", "int": "integers", "hash": "hashes", "libm": "libm"}


def benchmark(seconds: float = 0.2) -> float:
    """Loops per second of a small floating-point loop run for ``seconds``: how fast
    this machine (and its load now) runs the harness's own work."""
    loops = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        x = 1.0
        for i in range(1, 1001):
            x = x * 1.0000001 + 0.5 / i
        loops += 1
    return loops / elapsed


@dataclass(frozen=True)
class Work:
    """What a run under a profile evaluates."""

    stream_vectors: int = 0
    libm_vectors: int = 0
    stress_processes: int = 0
    stress_chunks: int = 0
    parts: list[str] = field(default_factory=list)


def work_of(profile: Profile, streams: Mapping[str, Stream], cores: int,
            applicable: Callable[[str], bool] = lambda name: True) -> Work:
    """The stream vectors, libm vectors and stress processes of a run under ``profile``;
    ``applicable(name)`` says whether a stress perturbation applies here."""
    scale = profile.stream_scale
    plain = libm = 0
    for st in streams.values():
        suite = _KIND_SUITE.get(st.op.kind)
        if suite is None or suite_level(profile, suite) is None:
            continue
        chunks = max(1, -(-st.chunks * scale // 100))  # Session.stream_chunks
        n = min(st.count, chunks * st.chunk_size)
        if st.op.kind == "libm":
            libm += n
        else:
            plain += n
    processes = chunk_runs = 0
    if suite_level(profile, "stress") is not None and "stress" in profile.data:
        plan = stress.plan_from_profile(profile.data["stress"], streams, f"profile {profile.id}")
        per_process = sum(min(plan.chunks, st.chunks) for st in plan.streams)
        for name in plan.perturbations:
            if not applicable(name):
                continue
            width = 2 * cores if name == "threads" else plan.processes
            processes += plan.repeats * width
            chunk_runs += plan.repeats * width * per_process
    parts = [f"{plain / 1e6:.1f} million stream vectors"]
    if libm:
        parts.append(f"{libm / 1e6:.1f} million libm vectors")
    if processes:
        parts.append(f"{processes} fresh stress processes")
    return Work(plain, libm, processes, chunk_runs, parts)


def estimate_seconds(work: Work, score: float) -> float:
    """The rough wall-clock seconds of ``work`` on a machine scoring ``score``."""
    at_reference = (FIXED_SECONDS + work.stream_vectors * STREAM_NS * 1e-9
                    + work.libm_vectors * LIBM_NS * 1e-9
                    + work.stress_processes * STRESS_PROCESS_SECONDS
                    + work.stress_chunks * STRESS_CHUNK_SECONDS)
    return at_reference * REFERENCE_SCORE / max(score, 1.0)


def _duration_text(seconds: float) -> str:
    if seconds < 90:
        return f"{max(5, int(math.ceil(seconds / 5) * 5))} s"
    return f"{round(seconds / 60)} min"


def check_time(work: Work, score: float) -> Check:
    seconds = estimate_seconds(work, score)
    low, high = _duration_text(seconds * 0.6), _duration_text(seconds * 1.6)
    return Check("time", OK,
                 f"a run takes roughly {low} to {high} here (an estimate from the profile's work: "
                 f"{', '.join(work.parts)}; and a 0.2 s benchmark of this machine under its load now; "
                 "other work during the run makes it longer; -n auto spreads suites over cores)")


# ------------------------------------------------------------------ all together


def _stress_applicable(name: str) -> bool:
    return stress.perturbation(name, 0).not_applicable is None


def diagnose(profile: Profile, places: Places | None = None) -> list[Check]:
    """Every check, on this machine, for a run under ``profile``."""
    places = places or Places.of_environment(os.environ)
    checks = [check_tee(places, needs_real=needs_real_evidence(profile), profile_id=profile.id)]
    cc, version = _compiler_facts()
    checks.append(check_compiler(cc, version, builds_ready=cc is not None or _builds_ready()))
    checks.append(check_clocksource(places.clocksource))

    env_required = suite_level(profile, "environment") == "required"
    isolation = ((profile.data.get("environment") or {}).get("isolation")) or {}
    try:
        cmdline = places.cmdline.read_text(encoding="utf-8", errors="replace")
    except OSError:
        cmdline = ""
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        list(range(os.cpu_count() or 1))
    busy: list[environment.BusyProcess] = []
    if isolation.get("dedicated_cores"):
        threshold = int(isolation.get("busy_threshold_percent", environment.DEFAULT_BUSY_THRESHOLD_PERCENT))
        found, _unreadable = environment.busy_processes(threshold, window=0.2, exclude_pids={os.getpid()})
        busy = [b for b in found if set(b.cores) & set(affinity)]
    checks.append(check_isolation(cmdline, affinity, isolation, required=env_required, busy=busy))
    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    checks.append(check_memlock(soft, hard, privileged=_privileged(), requirements=isolation,
                                required=env_required))

    varies = _stress_varies_locale(profile)
    checks.append(check_locales(stress.comma_locale() if varies else None,
                                required="stress" in profile.required_suites()))
    facts = libc_facts()
    pinned = ((profile.data.get("environment") or {}).get("pinned")) or {}
    checks.append(check_libc(facts, pinned, required=env_required))
    checks.append(check_libm(facts, profile))

    streams = load_set().streams()
    work = work_of(profile, streams, os.cpu_count() or 1, _stress_applicable)
    checks.append(check_time(work, benchmark()))
    return checks


def summary(checks: Sequence[Check], profile: Profile) -> str:
    counts = {s: sum(c.status == s for c in checks) for s in (OK, WARN, FAIL, NA)}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if counts[FAIL]:
        return (f"teecert doctor: {tally}: a run under profile {profile.id} would be NOT_CERTIFIED "
                "or not start; fix the fail lines first")
    return f"teecert doctor: {tally}: ready for a run under profile {profile.id}"
