"""``teecert.certify.doctor``: each preflight check against fake trees and given facts.

The checks are functions of paths and values, so a test can show them a TEE guest, a
VM with a slow clock source or a profile that requires isolation on any machine.
"""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path
from typing import Any

import pytest

from teecert.certify import doctor, stress
from teecert.certify.facts import fingerprint
from teecert.certify.judge import environment
from teecert.profile import Profile, load_profile
from teecert.vectors.store import load_set


def _places(root: Path, **overrides: Any) -> doctor.Places:
    """A machine with nothing: every place under ``root``, none of them there."""
    base = dict(tsm_report=root / "sys/kernel/config/tsm/report", configfs=root / "sys/kernel/config",
                sev_guest=root / "dev/sev-guest", tdx_guest=(root / "dev/tdx_guest", root / "dev/tdx-guest"),
                nsm=root / "dev/nsm", sgx=root / "dev/sgx_enclave",
                clocksource=root / "sys/devices/system/clocksource/clocksource0",
                cmdline=root / "proc/cmdline")
    base.update(overrides)
    return doctor.Places(**base)


def _profile(tmp_path: Path, name: str = "development", **changes: Any) -> Profile:
    doc = dict(load_profile(name).data)
    doc.update(changes)
    doc["id"] = f"test-{name}"
    path = tmp_path / f"{doc['id']}.json"
    path.write_text(json.dumps(doc))
    return load_profile(str(path))


# -- TEE ---------------------------------------------------------------------------------


def test_a_configfs_tsm_folder_is_a_tee_guest(tmp_path: Path) -> None:
    places = _places(tmp_path)
    places.tsm_report.mkdir(parents=True)
    (tmp_path / "dev").mkdir()
    places.sev_guest.touch()
    c = doctor.check_tee(places, needs_real=True, profile_id="strict")
    assert c.status == doctor.OK
    assert c.found.startswith("TEE guest: configfs-tsm at ")
    assert "SEV-SNP" in c.found and not c.fix


def test_nothing_there_is_not_a_tee_guest_with_the_fix(tmp_path: Path) -> None:
    dev = doctor.check_tee(_places(tmp_path), needs_real=False, profile_id="development")
    assert dev.status == doctor.WARN
    assert dev.found == "not a TEE guest: no configfs-tsm, /dev/sev-guest, /dev/tdx_guest or /dev/nsm"
    assert dev.fix == ("run inside a confidential VM or enclave to certify for admission; "
                       "development profiles use simulated evidence")
    assert dev.line().startswith("warn  tee ")
    assert "not a TEE guest" in dev.line() and "; fix: run inside a confidential VM" in dev.line()
    strict = doctor.check_tee(_places(tmp_path), needs_real=True, profile_id="strict")
    assert strict.status == doctor.FAIL
    assert "profile strict accepts only real evidence" in strict.found


def test_a_guest_device_without_configfs_tsm_says_how_to_collect(tmp_path: Path) -> None:
    places = _places(tmp_path)
    (tmp_path / "dev").mkdir()
    places.tdx_guest[0].touch()
    c = doctor.check_tee(places, needs_real=True, profile_id="strict")
    assert c.status == doctor.FAIL
    assert "TDX guest device" in c.found and "no configfs-tsm" in c.found
    assert "mount -t configfs" in c.fix and "--print-report-data" in c.fix
    places.configfs.mkdir(parents=True)
    assert "modprobe" in doctor.check_tee(places, needs_real=False, profile_id="development").fix


def test_an_nsm_path_that_is_no_device_is_no_nitro_enclave(tmp_path: Path) -> None:
    places = _places(tmp_path)
    (tmp_path / "dev").mkdir()
    places.nsm.touch()
    c = doctor.check_tee(places, needs_real=True, profile_id="strict")
    assert c.status == doctor.FAIL and "not a character device" in c.found


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_configfs_tsm_folder_this_user_cannot_write(tmp_path: Path) -> None:
    places = _places(tmp_path)
    places.tsm_report.mkdir(parents=True)
    places.tsm_report.chmod(0o500)
    try:
        c = doctor.check_tee(places, needs_real=True, profile_id="strict")
    finally:
        places.tsm_report.chmod(0o700)
    assert c.status == doctor.FAIL and "cannot write" in c.found and "root" in c.fix


def test_places_follow_the_probes_overrides(tmp_path: Path) -> None:
    p = doctor.Places.of_environment({"TEECERT_TSM_REPORT_DIR": str(tmp_path / "tsm"),
                                      "TEECERT_NSM_DEVICE": str(tmp_path / "nsm")})
    assert p.tsm_report == tmp_path / "tsm" and p.nsm == tmp_path / "nsm"
    assert doctor.Places.of_environment({}) == doctor.Places()


def test_which_profiles_need_real_evidence() -> None:
    assert not doctor.needs_real_evidence(load_profile("development"))
    assert doctor.needs_real_evidence(load_profile("strict"))
    assert doctor.needs_real_evidence(load_profile("bootstrap"))


# -- compiler, clock source ---------------------------------------------------------------


def test_compiler() -> None:
    assert doctor.check_compiler(["cc"], "cc (Debian 12.2.0) 12.2.0", builds_ready=False).status == doctor.OK
    assert doctor.check_compiler(None, "", builds_ready=True).status == doctor.WARN
    missing = doctor.check_compiler(None, "", builds_ready=False)
    assert missing.status == doctor.FAIL and "install gcc" in missing.fix


def test_clocksource(tmp_path: Path) -> None:
    folder = tmp_path / "clocksource0"
    assert doctor.check_clocksource(folder).status == doctor.NA
    folder.mkdir()
    (folder / "current_clocksource").write_text("tsc\n")
    (folder / "available_clocksource").write_text("tsc kvm-clock acpi_pm \n")
    assert doctor.check_clocksource(folder).status == doctor.OK
    (folder / "current_clocksource").write_text("kvm-clock\n")
    slow = doctor.check_clocksource(folder)
    assert slow.status == doctor.WARN and "kvm-clock" in slow.found
    assert f"echo tsc > {folder / 'current_clocksource'}" in slow.fix
    (folder / "available_clocksource").write_text("kvm-clock\n")
    assert "no tsc" in doctor.check_clocksource(folder).fix


# -- isolation, memory locking -------------------------------------------------------------


def test_boot_isolation_reads_isolcpus_with_flags_and_nohz_full() -> None:
    got = doctor.boot_isolation("ro quiet isolcpus=domain,managed_irq,2-3,6 nohz_full=2-3 rcu_nocbs=2-3")
    assert got == {"isolcpus": {2, 3, 6}, "nohz_full": {2, 3}}
    assert doctor.boot_isolation("console=ttyS0") == {}


def test_isolation_against_the_profile() -> None:
    assert doctor.check_isolation("", [0, 1], {}, required=True).status == doctor.NA
    few = doctor.check_isolation("", [0, 1], {"min_cores": 4}, required=True)
    assert few.status == doctor.FAIL and "fewer than the 4" in few.found and "taskset" in few.fix
    assert doctor.check_isolation("", [0, 1], {"min_cores": 4}, required=False).status == doctor.WARN
    assert doctor.check_isolation("", [0, 1], {"min_cores": 2}, required=True).status == doctor.OK
    bare = doctor.check_isolation("quiet", [0, 1], {"dedicated_cores": True}, required=True)
    assert bare.status == doctor.WARN and "isolcpus=LIST" in bare.fix
    boot = "isolcpus=2-3 nohz_full=2-3"
    assert doctor.check_isolation(boot, [2, 3], {"dedicated_cores": True}, required=True).status == doctor.OK
    outside = doctor.check_isolation(boot, [0, 1, 2, 3], {"dedicated_cores": True}, required=True)
    assert outside.status == doctor.WARN and "taskset -c 2-3" in outside.fix
    busy = [environment.BusyProcess(4242, "miner", (2, 3), 97)]
    shared = doctor.check_isolation(boot, [2, 3], {"dedicated_cores": True}, required=True, busy=busy)
    assert shared.status == doctor.WARN and "pid 4242 miner" in shared.found


def test_memlock_against_the_profile() -> None:
    need = {"locked_memory": True}
    small = doctor.check_memlock(8 << 20, 8 << 20, privileged=False, requirements=need, required=True)
    assert small.status == doctor.FAIL and "512 MiB" in small.found and "limits.conf" in small.fix
    raise_soft = doctor.check_memlock(8 << 20, resource.RLIM_INFINITY, privileged=False,
                                      requirements=need, required=True)
    assert "ulimit -l unlimited" in raise_soft.fix
    inf = resource.RLIM_INFINITY
    assert doctor.check_memlock(inf, inf, privileged=False, requirements=need, required=True).status == doctor.OK
    assert doctor.check_memlock(1 << 30, 1 << 30, privileged=False, requirements=need,
                                required=True).status == doctor.OK
    assert doctor.check_memlock(0, 0, privileged=True, requirements=need, required=True).status == doctor.OK
    assert doctor.check_memlock(0, 0, privileged=False, requirements={}, required=True).status == doctor.NA


# -- locales --------------------------------------------------------------------------------


def test_locales() -> None:
    built = stress.LocaleChoice({"LC_ALL": "de_DE.UTF-8"}, "LC_ALL=de_DE.UTF-8 built into LOCPATH=/x")
    good = doctor.check_locales(built, required=True)
    assert good.status == doctor.OK and "built into LOCPATH" in good.found
    missing = stress.LocaleChoice(not_applicable="localedef (glibc) is missing")
    bad = doctor.check_locales(missing, required=True)
    assert bad.status == doctor.FAIL and "skipped" in bad.found and "locales" in bad.fix
    assert doctor.check_locales(missing, required=False).status == doctor.WARN
    assert doctor.check_locales(None, required=True).status == doctor.NA


def test_doctor_reports_the_locale_the_stress_suite_uses() -> None:
    """What doctor calls good is what stress uses: the same choice, a comma checked."""
    choice = stress.comma_locale()
    picked = stress.perturbation("locale", 0)
    assert picked.env == choice.env and picked.not_applicable == choice.not_applicable
    if choice.not_applicable is None:
        assert stress._decimal_point(choice.env) == ","
        assert choice.note in doctor.check_locales(choice, required=True).found


# -- libc and libm ---------------------------------------------------------------------------


def test_libc_facts_are_the_fingerprints() -> None:
    facts = doctor.libc_facts()
    assert facts["libc"] == fingerprint.fingerprint({}, "")["libc"]
    ext = environment.extended_fingerprint({}, {})
    assert (facts["libc_name"], facts["libc_version"]) == (ext["libc_name"], ext["libc_version"])


def test_libc_against_the_profiles_pins() -> None:
    facts = {"libc": "glibc 2.36", "libc_name": "glibc", "libc_version": "2.36"}
    assert doctor.check_libc(facts, {}, required=True).status == doctor.NA
    assert doctor.check_libc(facts, {"cpu_model": "x"}, required=True).status == doctor.NA
    ok = doctor.check_libc(facts, {"libc_version": {"one_of": ["2.36", "2.37"]}}, required=True)
    assert ok.status == doctor.OK
    bad = doctor.check_libc(facts, {"libc_version": "2.31", "libc_name": "glibc"}, required=True)
    assert bad.status == doctor.FAIL and "'2.36' does not match pinned '2.31'" in bad.found
    assert doctor.check_libc(facts, {"libc_version": "2.31"}, required=False).status == doctor.WARN


def test_libm_against_the_profile(tmp_path: Path) -> None:
    glibc = {"libc": "glibc 2.36", "libc_name": "glibc", "libc_version": "2.36"}
    strict = doctor.check_libm(glibc, load_profile("strict"))
    assert strict.status == doctor.FAIL and "not" in strict.found and "libm.pinned" in strict.fix
    assert doctor.check_libm(glibc, load_profile("development")).status == doctor.OK
    musl = {"libc": "musl 1.2", "libc_name": "musl", "libc_version": "1.2"}
    assert doctor.check_libm(musl, load_profile("strict")).status == doctor.WARN
    suites = {k: v for k, v in load_profile("development").suites.items() if k != "libm"}
    assert doctor.check_libm(glibc, _profile(tmp_path, suites=suites)).status == doctor.NA


# -- time -------------------------------------------------------------------------------------


def test_the_estimate_follows_the_profiles_work(tmp_path: Path) -> None:
    streams = load_set().streams()
    dev = doctor.work_of(load_profile("development"), streams, cores=2)
    strict = doctor.work_of(load_profile("strict"), streams, cores=2)
    boot = doctor.work_of(load_profile("bootstrap"), streams, cores=2)
    assert dev.stream_vectors == strict.stream_vectors > 50_000_000
    assert boot.stream_vectors < dev.stream_vectors  # stream_scale 25
    assert dev.libm_vectors > 0
    assert strict.stress_chunks > dev.stress_chunks > 0
    score = 20000.0
    assert doctor.estimate_seconds(strict, score) > doctor.estimate_seconds(dev, score)
    assert doctor.estimate_seconds(dev, 2 * score) < doctor.estimate_seconds(dev, score)
    fewer = doctor.work_of(load_profile("development"), streams, cores=2,
                           applicable=lambda name: name != "threads")
    assert fewer.stress_processes < dev.stress_processes
    line = doctor.check_time(dev, score).line()
    assert line.startswith("ok    time ") and "roughly" in line and "estimate" in line
    assert doctor.benchmark(0.05) > 0
