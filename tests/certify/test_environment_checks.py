"""Environment checks: pinned fingerprint fields, isolation of the consensus process, drift.

Isolation is tested on real processes: a ``sleep`` stands for the consensus process, a
Python busy loop for a noisy neighbour, both pinned with ``cpu_affinity``; memory
locking with small ctypes programs that call mlockall/mlock.  Every child is killed
by the ``spawn`` fixture, whatever the test does.
"""

from __future__ import annotations

import os
import platform
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jsonschema
import psutil
import pytest

from teecert._internal import canonical
from teecert.certify.facts import fingerprint as environment
from teecert.certify.judge import environment as ec

WINDOW = 0.3  # seconds of CPU sampling per isolation check
BUSY = [sys.executable, "-c", "while True: pass"]
SLEEP = ["sleep", "30"]

Spawn = Callable[..., subprocess.Popen[str]]

HAS_AFFINITY = hasattr(psutil.Process, "cpu_affinity") and hasattr(os, "sched_getaffinity")
needs_affinity = pytest.mark.skipif(not HAS_AFFINITY, reason="no CPU affinity on this platform")
needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/status"),
                                reason="no /proc/PID/status on this platform")


def _cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start a child (optionally pinned to ``cores``); every child is killed at teardown."""
    children: list[subprocess.Popen[str]] = []

    def start(argv: Sequence[str], cores: Sequence[int] | None = None,
              stdout: int | None = subprocess.DEVNULL) -> subprocess.Popen[str]:
        p = subprocess.Popen(list(argv), stdout=stdout, stderr=subprocess.DEVNULL, text=True)
        children.append(p)
        if cores is not None:
            psutil.Process(p.pid).cpu_affinity(list(cores))
        return p

    try:
        yield start
    finally:
        for p in children:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
            if p.stdout is not None:
                p.stdout.close()


def _line(p: subprocess.Popen[str], timeout: float = 10) -> str:
    assert p.stdout is not None
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    assert ready, "child did not answer"
    return p.stdout.readline().strip()


def _one(findings: list[ec.Finding], field: str) -> ec.Finding:
    [f] = [f for f in findings if f.field == field]
    return f


def _floats(value: Any) -> list[Any]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list | tuple):
        return [f for v in value for f in _floats(v)]
    return []


# -- pinned ---------------------------------------------------------------------------------

FP: dict[str, Any] = {
    "arch": "x86_64",
    "cpu_model": "AMD EPYC 7R13 Processor",
    "microcode": "0xa0011d1",
    "libc": "glibc 2.36",
    "kernel": "Linux 6.1.0-18-cloud-amd64",
    "cores_logical": 8,
    "cpu_flags": ["fpu", "sse2"],
    "variables": {"TZ": "UTC"},
}


def test_pinned_exact_values_pass_and_a_mismatch_is_named() -> None:
    pinned: dict[str, object] = {"cpu_model": "AMD EPYC 7R13 Processor", "microcode": "0xa0011d2",
                                 "libc": "glibc 2.36"}
    findings = ec.check_pinned(FP, pinned)
    assert [f.field for f in findings] == ["cpu_model", "libc", "microcode"]
    assert [f.passed for f in findings] == [True, True, False]
    bad = _one(findings, "microcode")
    assert (bad.expected, bad.actual) == ("0xa0011d2", "0xa0011d1")
    assert "microcode" in bad.message and "0xa0011d1" in bad.message and "0xa0011d2" in bad.message
    assert "\n" not in bad.message


def test_pinned_prefix_and_one_of() -> None:
    findings = ec.check_pinned(FP, {
        "kernel": {"prefix": "Linux 6.1.0-"},
        "cpu_model": {"one_of": ["AMD EPYC 7R13 Processor", "AMD EPYC 9R14 Processor"]},
        "libc": {"prefix": "glibc 2.37"},
        "arch": {"one_of": ["aarch64", "riscv64"]},
    })
    assert {f.field: f.passed for f in findings} == {
        "kernel": True, "cpu_model": True, "libc": False, "arch": False}
    assert "aarch64" in _one(findings, "arch").message
    assert "glibc 2.37" in _one(findings, "libc").message
    # A prefix is not a substring match, and one_of is not a prefix match.
    assert not ec.check_pinned(FP, {"kernel": {"prefix": "6.1.0"}})[0].passed
    assert not ec.check_pinned(FP, {"arch": {"one_of": ["x86"]}})[0].passed


def test_pinned_missing_field_fails_naming_it() -> None:
    findings = ec.check_pinned(FP, {"cpu_vendor": "AuthenticAMD", "variables.LC_ALL": "C",
                                    "variables.TZ": "UTC"})
    vendor = _one(findings, "cpu_vendor")
    assert not vendor.passed and vendor.actual is None
    assert "cpu_vendor" in vendor.message and "no such field" in vendor.message
    lc_all = _one(findings, "variables.LC_ALL")
    assert not lc_all.passed and "not set" in lc_all.message
    assert _one(findings, "variables.TZ").passed


def test_pinned_integers_compare_as_text_and_lists_cannot_match() -> None:
    assert ec.check_pinned(FP, {"cores_logical": "8"})[0].passed
    assert not ec.check_pinned(FP, {"cores_logical": "16"})[0].passed
    flags = ec.check_pinned(FP, {"cpu_flags": "fpu sse2"})[0]
    assert not flags.passed and "not a single value" in flags.message


def test_malformed_pin_raises() -> None:
    for spec in ({"regex": ".*"}, {"one_of": "x"}, {"prefix": "a", "one_of": ["a"]}, 5):
        with pytest.raises(ValueError, match="pinned value"):
            ec.check_pinned(FP, {"arch": spec})


def test_own_fingerprint_meets_pins_of_its_own_values() -> None:
    fp = ec.extended_fingerprint(environment.fingerprint({}, "0" * 64), {})
    pins: dict[str, object] = {}
    for field in ec.PINNABLE_FIELDS:
        head, _, name = field.partition(".")
        if head == "variables" and name not in fp["variables"]:
            continue
        pins[field] = str(fp[head][name] if name else fp[field])
    findings = ec.check_pinned(fp, pins)
    assert len(findings) == len(pins) and all(f.passed for f in findings), \
        [f.message for f in findings if not f.passed]


# -- isolation: dedicated cores --------------------------------------------------------------


@needs_affinity
def test_busy_process_on_the_same_core_fails_and_is_named(spawn: Spawn) -> None:
    core = _cores()[0]
    target = spawn(SLEEP, [core])
    busy = spawn(BUSY, [core])
    findings = ec.check_isolation(target.pid, {"dedicated_cores": True}, window=WINDOW)
    f = _one(findings, "isolation.dedicated_cores")
    assert not f.passed
    [mine] = [c for c in f.actual if c["pid"] == busy.pid]
    assert mine["cores"] == [core]
    assert mine["name"].startswith("python")
    assert mine["percent"].isdigit() and int(mine["percent"]) >= 5
    assert f"pid {busy.pid} " in f.message and f"pid {target.pid} (sleep)" in f.message
    assert all(c["pid"] != target.pid for c in f.actual)


@needs_affinity
def test_busy_process_on_another_core_passes(spawn: Spawn) -> None:
    cores = _cores()
    if len(cores) < 2:
        pytest.skip(f"disjoint affinity needs 2 cores; this process may use only {cores}")
    target = spawn(SLEEP, [cores[1]])
    busy = spawn(BUSY, [cores[0]])
    idle_neighbour = spawn(SLEEP, [cores[1]])
    # Restricted to our own processes: the machine is shared, and other people's busy
    # processes may legitimately share every core.
    f = _one(ec.check_isolation(target.pid, {"dedicated_cores": True}, window=WINDOW,
                                candidates=[target.pid, busy.pid, idle_neighbour.pid]),
             "isolation.dedicated_cores")
    assert f.passed and f.actual == [], f.message
    # The full scan may find others, but never the busy child on the other core.
    full = _one(ec.check_isolation(target.pid, {"dedicated_cores": True}, window=WINDOW),
                "isolation.dedicated_cores")
    assert all(c["pid"] != busy.pid for c in full.actual)
    # Same candidates, the busy child moved onto the target's core: now it fails.
    psutil.Process(busy.pid).cpu_affinity([cores[1]])
    moved = _one(ec.check_isolation(target.pid, {"dedicated_cores": True}, window=WINDOW,
                                    candidates=[target.pid, busy.pid]),
                 "isolation.dedicated_cores")
    assert not moved.passed and [c["pid"] for c in moved.actual] == [busy.pid]


@needs_affinity
def test_threshold_decides_what_is_busy(spawn: Spawn) -> None:
    core = _cores()[0]
    target = spawn(SLEEP, [core])
    busy = spawn(BUSY, [core])
    # A busy loop shares its core with at most a few others here, so it stays far above 5%;
    # an idle sleep never reaches 1%.
    idle = spawn(SLEEP, [core])
    f = _one(ec.check_isolation(target.pid, {"dedicated_cores": True, "busy_threshold_percent": 1},
                                window=WINDOW, candidates=[busy.pid, idle.pid]),
             "isolation.dedicated_cores")
    assert [c["pid"] for c in f.actual] == [busy.pid]


@needs_affinity
def test_descendants_of_the_target_and_excluded_pids_do_not_count(spawn: Spawn) -> None:
    core = _cores()[0]
    # The target starts its own busy worker (inheriting the target's affinity).
    code = ("import subprocess, sys, time; "
            "w = subprocess.Popen([sys.executable, '-c', 'while True: pass']); "
            "print(w.pid, flush=True); time.sleep(30)")
    target = spawn([sys.executable, "-c", code], [core], stdout=subprocess.PIPE)
    worker = int(_line(target))
    try:
        helper = spawn(BUSY, [core])
        f = _one(ec.check_isolation(target.pid, {"dedicated_cores": True}, window=WINDOW,
                                    exclude_pids=[helper.pid],
                                    candidates=[target.pid, worker, helper.pid]),
                 "isolation.dedicated_cores")
        assert f.passed, f.message
        # Without the exclusion the helper is a conflict; the worker never is.
        g = _one(ec.check_isolation(target.pid, {"dedicated_cores": True}, window=WINDOW,
                                    candidates=[target.pid, worker, helper.pid]),
                 "isolation.dedicated_cores")
        assert [c["pid"] for c in g.actual] == [helper.pid]
    finally:
        try:
            psutil.Process(worker).kill()
        except psutil.NoSuchProcess:
            pass


@needs_affinity
def test_process_vanishing_during_the_scan_does_not_raise(spawn: Spawn) -> None:
    core = _cores()[0]
    target = spawn(SLEEP, [core])
    doomed = [spawn(BUSY, [core]) for _ in range(2)]
    survivor = spawn(BUSY, [core])

    def kill_soon() -> None:
        time.sleep(WINDOW / 3)
        for p in doomed:
            p.kill()
            p.wait()  # reaped: the PID is gone, not a zombie

    killer = threading.Thread(target=kill_soon)
    killer.start()
    try:
        f = _one(ec.check_isolation(target.pid, {"dedicated_cores": True}, window=WINDOW),
                 "isolation.dedicated_cores")
    finally:
        killer.join()
    pids = {c["pid"] for c in f.actual}
    assert survivor.pid in pids
    assert not pids & {p.pid for p in doomed}


@needs_affinity
def test_vanishing_and_unreadable_processes_after_sampling(spawn: Spawn,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    core = _cores()[0]
    target = spawn(SLEEP, [core])
    vanishing, hidden, seen = (spawn(BUSY, [core]) for _ in range(3))
    dead = spawn(["true"])
    dead.wait()
    real_affinity = psutil.Process.cpu_affinity

    def affinity(self: psutil.Process, *args: Any) -> Any:
        if self.pid == vanishing.pid:
            raise psutil.NoSuchProcess(self.pid)
        if self.pid == hidden.pid:
            raise psutil.AccessDenied(self.pid)
        return real_affinity(self, *args)

    monkeypatch.setattr(psutil.Process, "cpu_affinity", affinity)
    f = _one(ec.check_isolation(target.pid, {"dedicated_cores": True}, window=WINDOW,
                                candidates=[dead.pid, vanishing.pid, hidden.pid, seen.pid]),
             "isolation.dedicated_cores")
    assert [c["pid"] for c in f.actual] == [seen.pid]
    assert "1 processes could not be read" in f.message


def test_missing_target_fails_every_requested_check(spawn: Spawn) -> None:
    p = spawn(["true"])
    p.wait()
    findings = ec.check_isolation(p.pid, {"dedicated_cores": True, "locked_memory": True,
                                          "min_cores": 1, "busy_threshold_percent": 5})
    assert [f.field for f in findings] == ["isolation.dedicated_cores", "isolation.locked_memory",
                                           "isolation.min_cores"]
    assert all(not f.passed and "no such process" in f.message for f in findings)


@needs_affinity
def test_target_exiting_during_the_scan_fails(spawn: Spawn) -> None:
    target = spawn(["sleep", "0.1"])
    f = _one(ec.check_isolation(target.pid, {"dedicated_cores": True}, window=WINDOW,
                                candidates=[target.pid]),
             "isolation.dedicated_cores")
    assert not f.passed and "exited during the scan" in f.message


def test_unknown_requirement_raises() -> None:
    with pytest.raises(ValueError, match="dedicated_core"):
        ec.check_isolation(os.getpid(), {"dedicated_core": True})


def test_false_requirements_give_no_findings() -> None:
    assert ec.check_isolation(os.getpid(), {"dedicated_cores": False, "locked_memory": False}) == []


@needs_affinity
def test_min_cores(spawn: Spawn) -> None:
    cores = _cores()
    target = spawn(SLEEP, [cores[0]])
    ok = _one(ec.check_isolation(target.pid, {"min_cores": 1}), "isolation.min_cores")
    assert ok.passed and ok.actual == 1
    bad = _one(ec.check_isolation(target.pid, {"min_cores": 2}), "isolation.min_cores")
    assert not bad.passed and (bad.expected, bad.actual) == (2, 1) and "fewer than" in bad.message


# -- isolation: locked memory ----------------------------------------------------------------

# mlockall flags: 1 and 2 on most architectures, 0x2000 and 0x4000 on powerpc, sparc, alpha.
_OLD_MCL = platform.machine().startswith(("ppc", "powerpc", "sparc", "alpha"))
MCL_CURRENT, MCL_FUTURE = (0x2000, 0x4000) if _OLD_MCL else (1, 2)

LOCKER = """
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if sys.argv[1] == "all":
    rc = libc.mlockall(int(sys.argv[2]))
else:
    page = 4096
    buf = ctypes.create_string_buffer(4 * page)
    start = (ctypes.addressof(buf) + page - 1) // page * page
    rc = libc.mlock(ctypes.c_void_p(start), ctypes.c_size_t(page))
print("ok" if rc == 0 else "errno %d" % ctypes.get_errno(), flush=True)
time.sleep(30)
"""


@needs_proc
def test_unlocked_process_fails_locked_memory(spawn: Spawn) -> None:
    target = spawn(SLEEP)
    f = _one(ec.check_isolation(target.pid, {"locked_memory": True}), "isolation.locked_memory")
    assert not f.passed
    assert f.actual["locked_bytes"] == "0"
    assert "no locked memory" in f.message and "VmLck 0 kB" in f.message
    assert "RLIMIT_MEMLOCK" in f.message


@needs_proc
def test_mlockall_process_passes_locked_memory(spawn: Spawn) -> None:
    target = spawn([sys.executable, "-c", LOCKER, "all", str(MCL_CURRENT | MCL_FUTURE)],
                   stdout=subprocess.PIPE)
    answer = _line(target)
    if answer != "ok":
        soft, hard = psutil.Process(target.pid).rlimit(psutil.RLIMIT_MEMLOCK)
        pytest.skip(f"mlockall(MCL_CURRENT | MCL_FUTURE) failed with {answer} (RLIMIT_MEMLOCK soft {soft}, "
                    f"hard {hard}; a Python process needs more without CAP_IPC_LOCK)")
    f = _one(ec.check_isolation(target.pid, {"locked_memory": True}), "isolation.locked_memory")
    assert f.passed, f.message
    assert int(f.actual["locked_bytes"]) > 0
    if f.actual["mappings"] is not None:
        assert "all its memory locked" in f.message
    fp = ec.extended_fingerprint({}, {}, pid=target.pid)
    assert fp["process"]["memory_locked"] is True


@needs_proc
def test_partial_mlock_passes_and_says_partial(spawn: Spawn) -> None:
    target = spawn([sys.executable, "-c", LOCKER, "page"], stdout=subprocess.PIPE)
    answer = _line(target)
    if answer != "ok":
        pytest.skip(f"mlock of one page failed with {answer}")
    f = _one(ec.check_isolation(target.pid, {"locked_memory": True}), "isolation.locked_memory")
    assert f.passed, f.message
    assert f.actual["locked_bytes"] == str(os.sysconf("SC_PAGE_SIZE"))
    assert "part of its memory" in f.message


# -- profile schema --------------------------------------------------------------------------

VALID: dict[str, Any] = {
    "pinned": {
        "cpu_model": "AMD EPYC 7R13 Processor",
        "microcode": {"one_of": ["0xa0011d1", "0xa0011d3"]},
        "kernel": {"prefix": "Linux 6.1.0-"},
        "variables.TZ": "UTC",
    },
    "isolation": {"dedicated_cores": True, "busy_threshold_percent": 5, "locked_memory": True,
                  "min_cores": 1},
}


def test_schema_is_valid_2020_12_and_accepts_a_full_section() -> None:
    jsonschema.Draft202012Validator.check_schema(ec.PROFILE_SCHEMA)
    assert ec.schema_errors(VALID) == []
    assert ec.schema_errors({}) == []
    assert "$ref" not in repr(ec.PROFILE_SCHEMA)  # embeddable as it is


def _with(path: Sequence[str], value: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"pinned": dict(VALID["pinned"]), "isolation": dict(VALID["isolation"])}
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@pytest.mark.parametrize(("path", "value", "where"), [
    (("extra",), {}, "$.environment"),
    (("pinned", "cpu_modle"), "x", "$.environment.pinned"),
    (("pinned", "cpu_flags"), "fpu", "$.environment.pinned"),
    (("pinned", "variables.HOME"), "/root", "$.environment.pinned"),
    (("isolation", "dedicated_core"), True, "$.environment.isolation"),
    (("pinned", "arch"), {"prefix": "x86", "extra": 1}, "$.environment.pinned.arch"),
    (("pinned", "arch"), {"one_of": []}, "$.environment.pinned.arch"),
    (("pinned", "arch"), {"one_of": ["x86_64", 5]}, "$.environment.pinned.arch"),
    (("pinned", "arch"), {"one_of": ["a", "a"]}, "$.environment.pinned.arch"),
    (("pinned", "arch"), {"prefix": ""}, "$.environment.pinned.arch"),
    (("pinned", "arch"), {"regex": "x86.*"}, "$.environment.pinned.arch"),
    (("pinned", "cores_logical"), 8, "$.environment.pinned.cores_logical"),
    (("pinned",), ["arch"], "$.environment.pinned"),
    (("isolation", "dedicated_cores"), "yes", "$.environment.isolation.dedicated_cores"),
    (("isolation", "locked_memory"), 1, "$.environment.isolation.locked_memory"),
    (("isolation", "busy_threshold_percent"), 0, "$.environment.isolation.busy_threshold_percent"),
    (("isolation", "busy_threshold_percent"), 101, "$.environment.isolation.busy_threshold_percent"),
    (("isolation", "busy_threshold_percent"), 5.5, "$.environment.isolation.busy_threshold_percent"),
    (("isolation", "busy_threshold_percent"), "5", "$.environment.isolation.busy_threshold_percent"),
    (("isolation", "min_cores"), 0, "$.environment.isolation.min_cores"),
])
def test_schema_rejects_unknown_keys_and_wrong_types(path: Sequence[str], value: Any,
                                                     where: str) -> None:
    errors = ec.schema_errors(_with(path, value))
    assert errors and all(e.startswith(where + ":") for e in errors), errors


def test_schema_pins_exactly_the_fingerprint_scalars() -> None:
    fields = set(ec.PROFILE_SCHEMA["properties"]["pinned"]["properties"])
    assert fields == set(ec.PINNABLE_FIELDS)
    fp = ec.extended_fingerprint(environment.fingerprint({}, "0" * 64), {})
    scalars = {k for k, v in fp.items() if isinstance(v, str | int)}
    top = {f for f in fields if not f.startswith("variables.")}
    assert top == scalars
    assert {f.removeprefix("variables.") for f in fields - top} == set(environment.RELEVANT_VARIABLES)


# -- extended fingerprint ---------------------------------------------------------------------

DESCRIPTION = {"compiler": "12.2.0", "cflags": "-O2 -ffp-contract=off", "name": "ref"}


@needs_affinity
def test_extended_fingerprint_is_stable_float_free_and_keeps_the_base(spawn: Spawn) -> None:
    target = spawn(SLEEP, [_cores()[0]])
    base = environment.fingerprint(DESCRIPTION, "ab" * 32)
    snapshot = dict(base)
    one = ec.extended_fingerprint(base, DESCRIPTION, pid=target.pid)
    time.sleep(0.05)
    two = ec.extended_fingerprint(environment.fingerprint(DESCRIPTION, "ab" * 32), DESCRIPTION,
                                  pid=target.pid)
    assert one == two
    assert base == snapshot  # the argument is not modified
    assert {k: one[k] for k in base} == base  # the existing fields keep their values
    assert _floats(one) == []
    canonical.dumps(one)  # refuses floats and integers beyond 2**53 - 1
    assert set(ec.EXTENDED_FIELDS) <= set(one)
    assert (one["probe_compiler"], one["probe_cflags"]) == ("12.2.0", "-O2 -ffp-contract=off")
    assert one["libc"] == f"{one['libc_name']} {one['libc_version']}".strip()
    assert one["kernel"].endswith(one["kernel_release"])
    assert list(one["variables"]) == sorted(one["variables"])
    proc = one["process"]
    assert proc["name"] == "sleep" and proc["affinity"] == [_cores()[0]]
    assert proc["memory_locked"] is False
    assert set(proc["rlimit_memlock"]) == {"soft", "hard"}
    assert all(v == "unlimited" or v.isdigit() for v in proc["rlimit_memlock"].values())
    assert ec.extended_fingerprint(base, DESCRIPTION) == {k: v for k, v in one.items()
                                                          if k != "process"}


def test_extended_fingerprint_fills_in_what_the_base_lacks(spawn: Spawn) -> None:
    gone = spawn(["true"])
    gone.wait()
    fp = ec.extended_fingerprint({"cpu_model": "given"}, DESCRIPTION, pid=gone.pid)
    assert fp["cpu_model"] == "given"
    assert fp["probe_compiler"] == "12.2.0"
    assert isinstance(fp["cores_logical"], int) and fp["memory_bytes"].isdigit()
    assert fp["process"] == {"error": "no such process"}


# -- drift ------------------------------------------------------------------------------------


def test_drift_lists_exactly_the_changed_fields() -> None:
    a = ec.extended_fingerprint(environment.fingerprint(DESCRIPTION, "ab" * 32), DESCRIPTION)
    assert ec.drift(a, dict(a)) == []
    b = dict(a)
    b["microcode"] = "0xdeadbeef"
    b["variables"] = {**a["variables"], "TZ": "Europe/Berlin"}
    b["process"] = {"affinity": [2, 3]}
    del b["python"]
    assert ec.drift(a, b) == sorted([
        ("microcode", a["microcode"], "0xdeadbeef"),
        ("process.affinity", None, [2, 3]),
        ("python", a["python"], None),
        ("variables.TZ", a["variables"].get("TZ"), "Europe/Berlin"),
    ])
    assert [d[0] for d in ec.drift(b, a)] == ["microcode", "process.affinity", "python",
                                              "variables.TZ"]


def test_cores_text() -> None:
    assert ec.cores_text([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8"
    assert ec.cores_text([3]) == "3" and ec.cores_text([]) == ""
