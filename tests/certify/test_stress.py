"""The stress suite: what each perturbation catches, and bad stress plans.

Each broken probe below passes a plain run in one process; the stress suite must
catch it under the perturbation that exposes it (and the control perturbation,
fresh processes with nothing else changed, must not, where the fault is not random).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from teecert.certify import stress
from teecert.errors import MalformedInput

from conftest import run_report, teecert_cli
from probezoo import build_zoo_probe, misbehaving_probe


def _stress_rows(pred: dict[str, Any], test: str = "test_perturbation") -> dict[str, dict[str, Any]]:
    return {r["id"].split("[", 1)[1].rstrip("]"): r for r in pred["results"]
            if r["id"].startswith(f"test_stress.py::{test}[")}


def test_reference_probe_is_identical_under_every_perturbation(tmp_path: Path, key_file: Path,
                                                               quick_profile: Path) -> None:
    code, pred = run_report(build_zoo_probe("reference"), quick_profile, key_file, tmp_path)
    assert code == 0
    for test in ("test_perturbation", "test_libm_determinism"):
        rows = _stress_rows(pred, test)
        assert set(rows) == set(stress.PERTURBATIONS) - {"glibc_tunables"}  # see quick_profile
        for row in rows.values():
            assert row["outcome"] == "passed" and row["vectors"] > 0, row
    # the locale perturbation ran under a decimal-comma locale (built if none is installed)
    assert any(f"LC_ALL={loc}" in _stress_rows(pred)["locale"]["message"]
               for loc in stress.COMMA_LOCALES)


def test_heap_leak_is_caught_by_malloc_perturb_only(tmp_path: Path, key_file: Path,
                                                    quick_profile: Path) -> None:
    code, pred = run_report(build_zoo_probe("heap_leak"), quick_profile, key_file, tmp_path)
    assert code == 1
    failed = {r["id"] for r in pred["results"] if r["outcome"] == "failed"}
    assert failed == {"test_stress.py::test_perturbation[malloc_perturb]"}, failed
    row = _stress_rows(pred)["malloc_perturb"]
    assert "differ under malloc_perturb" in row["message"]
    d = row["divergence"]
    assert d["expected"] == "7ff8000000000000" and d["got"].startswith("7ff80000") and d["got"] != d["expected"]


def test_address_dependence_is_caught_in_fresh_processes(tmp_path: Path, key_file: Path,
                                                         quick_profile_stress: Path) -> None:
    code, pred = run_report(build_zoo_probe("aslr"), quick_profile_stress, key_file, tmp_path)
    assert code == 1
    rows = _stress_rows(pred)
    randomized = [n for n in rows if n != "aslr_off"]
    # Half of all processes draw the bad address: with 4+ processes in each of 9
    # perturbations, missing it everywhere has probability below 2^-36.
    assert any(rows[n]["outcome"] == "failed" for n in randomized)
    bad = next(rows[n] for n in randomized if rows[n]["outcome"] == "failed")
    assert "f64.div.rne vector 14" in bad["message"] and "(1 ulp)" in bad["message"]
    # With ASLR off every process has the same layout: all right or all wrong.
    msg = rows["aslr_off"]["message"]
    assert rows["aslr_off"]["outcome"] == "passed" or msg.startswith("4 of 4 processes"), msg


def test_caller_rounding_is_caught_by_fp_poison(tmp_path: Path, key_file: Path,
                                                quick_profile: Path) -> None:
    code, pred = run_report(build_zoo_probe("caller_rounding"), quick_profile, key_file, tmp_path)
    assert code == 1
    rows = _stress_rows(pred)
    assert rows["fp_poison"]["outcome"] == "failed"
    assert "differ under fp_poison" in rows["fp_poison"]["message"]
    assert rows["fresh_processes"]["outcome"] == "passed"


def _profile_with(tmp_path: Path, base: Path, **stress_fields: Any) -> Path:
    doc = json.loads(base.read_text())
    doc["stress"] = {**doc["stress"], **stress_fields}
    out = tmp_path / "p.json"
    out.write_text(json.dumps(doc))
    return out


@pytest.mark.parametrize("fields, words", [
    ({"perturbations": ["fresh_processes", "moon_phase"]}, "stress"),
    ({"ops": ["f64.frobnicate.rne"]}, "field stress.ops: unknown op 'f64.frobnicate.rne'"),
    ({"chunks": 17}, "stress"),
    ({"processes": 0}, "stress"),
    ({"repeats": 1000}, "stress"),
])
def test_bad_stress_plans_are_one_line(tmp_path: Path, key_file: Path, quick_profile: Path,
                                       fields: dict[str, Any], words: str) -> None:
    prof = _profile_with(tmp_path, quick_profile, **fields)
    res = teecert_cli(["run", "--profile", str(prof), "--key", str(key_file), "--out",
                       str(tmp_path / "out")])
    assert res.code == 2, res.out[-500:] + res.err
    [line] = res.err.strip().splitlines()
    assert words in line and str(prof) in line
    assert not list((tmp_path / "out").glob("teecert-report-*")) if (tmp_path / "out").exists() else True


@pytest.mark.parametrize("workers", ["0", "-3", "lots", "5000"])
def test_impossible_worker_counts_are_refused(tmp_path: Path, key_file: Path, workers: str) -> None:
    res = teecert_cli(["run", "-n", workers, "--key", str(key_file), "--out", str(tmp_path)])
    assert res.code == 2
    assert f"-n {workers}" in res.err and "1 to 1024" in res.err
    assert not list(tmp_path.glob("teecert-report-*"))


def test_unknown_perturbation_and_unknown_op_in_the_api() -> None:
    with pytest.raises(MalformedInput, match="unknown perturbation 'x'"):
        stress.perturbation("x", 1)
    with pytest.raises(MalformedInput, match=r"the vector set has no stream for f64\.add\.rne"):
        stress.plan_from_profile({"repeats": 1, "processes": 1, "perturbations": ["tz"],
                                  "ops": ["f64.add.rne"]}, {}, "p")


def test_no_seed_draws_a_malloc_perturb_byte_that_changes_nothing() -> None:
    # glibc fills new memory with the byte's complement: 255 would fill it with the zeros a
    # fresh page holds anyway, and 0 turns the perturbation off.
    bytes_drawn = {int(stress.perturbation("malloc_perturb", seed).env["MALLOC_PERTURB_"])
                   for seed in range(4 * 256)}
    assert bytes_drawn == set(range(1, 255))


def test_a_crashing_probe_fails_each_perturbation_naming_the_crash(tmp_path: Path, key_file: Path,
                                                                   quick_profile: Path) -> None:

    code, pred = run_report(misbehaving_probe("segv"), quick_profile, key_file, tmp_path)
    assert code == 1
    rows = _stress_rows(pred)
    applied = [r for r in rows.values() if "not applicable" not in r["message"]]
    assert applied and all(r["outcome"] == "failed" for r in applied)
    for r in applied:
        assert "probe crashed with SIGSEGV during f64.div.rne" in r["message"], r["message"]


def test_over_a_url_only_what_a_connection_can_vary_applies() -> None:
    kept = {n for n in stress.PERTURBATIONS
            if not stress.over_url(stress.perturbation(n, 7)).not_applicable}
    assert kept == {"fresh_processes", "threads", "fp_poison"}
    assert "load this machine" in str(stress.over_url(stress.perturbation("cpu_load", 7)).not_applicable)


def _loops_per_perturbation(monkeypatch: pytest.MonkeyPatch, load_processes: int) -> dict[str, int]:
    """How many busy loops ``stress.run`` starts under each perturbation (no probe runs:
    the processes are stubbed)."""
    started: dict[str, int] = {}
    current: list[str] = []
    real = stress.cpu_load

    def loops(n: int) -> Any:
        started[current[-1]] = n
        return real(n)

    monkeypatch.setattr(stress, "cpu_load", loops)
    monkeypatch.setattr(stress, "_one_process", lambda *a, **k: (1, []))
    plan = stress.Plan((), repeats=1, processes=1, load_processes=load_processes, chunks=1,
                       perturbations=tuple(stress.PERTURBATIONS))
    for name in stress.PERTURBATIONS:
        current.append(name)
        p = stress.perturbation(name, 7)
        if not p.not_applicable:
            stress.run(plan, p, ["unused"], [], 1.0)
    return started


def test_busy_loops_run_under_cpu_load_and_under_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    started = _loops_per_perturbation(monkeypatch, load_processes=3)
    assert started.pop("cpu_load") == 3
    assert started and set(started.values()) == {0}


def test_cpu_load_runs_real_busy_loops_for_the_block() -> None:
    me = psutil.Process()
    before = {c.pid for c in me.children()}
    with stress.cpu_load(2):
        loops = [c for c in me.children() if c.pid not in before]
        assert len(loops) == 2
        assert all(c.status() in (psutil.STATUS_RUNNING, psutil.STATUS_SLEEPING) for c in loops)
        # each one really spins (CPU time grows), whatever else loads this machine
        t0 = [c.cpu_times().user for c in loops]
        deadline = time.monotonic() + 30
        while (any(c.cpu_times().user <= t for c, t in zip(loops, t0, strict=True))
               and time.monotonic() < deadline):
            time.sleep(0.05)
        assert all(c.cpu_times().user > t for c, t in zip(loops, t0, strict=True))
    assert all(not c.is_running() or c.status() == psutil.STATUS_ZOMBIE for c in loops)


def test_a_plan_with_cpu_load_and_no_loops_is_refused() -> None:
    with pytest.raises(MalformedInput, match=r"^p: field stress\.load_processes is 0, so the cpu_load"):
        stress.plan_from_profile({"repeats": 1, "processes": 1, "load_processes": 0,
                                  "perturbations": ["cpu_load"]}, {}, "p")
    plan = stress.plan_from_profile({"repeats": 1, "processes": 1, "load_processes": 0,
                                     "perturbations": ["tz"]}, {}, "p")
    assert plan.load_processes == 0


# ------------------------------------------------------------------ determinism and locales


def _small_profile(tmp_path: Path, base: Path, perturbations: list[str], **changes: Any) -> Path:
    doc = json.loads(base.read_text())
    doc["id"] = "test-stress-small"
    doc["stress"] = {**doc["stress"], "perturbations": perturbations, "repeats": 1}
    doc.update(changes)
    out = tmp_path / "small.json"
    out.write_text(json.dumps(doc))
    return out


def test_a_locale_dependent_parser_is_caught_under_a_comma_locale(tmp_path: Path, key_file: Path,
                                                                  quick_profile: Path) -> None:
    """The probe passes in the C locale; under a decimal-comma locale (one the system
    has, or one teecert builds into a private LOCPATH) its f64.from_dec changes."""
    if stress.comma_locale().not_applicable:
        pytest.fail(f"this machine cannot give the locale perturbation a comma locale: "
                    f"{stress.comma_locale().not_applicable}")
    prof = _small_profile(tmp_path, quick_profile, ["fresh_processes", "locale"])
    code, pred = run_report(build_zoo_probe("locale_decimal"), prof, key_file, tmp_path / "out")
    assert code == 1
    failed = {r["id"] for r in pred["results"] if r["outcome"] in ("failed", "error")}
    assert failed == {"test_stress.py::test_perturbation[locale]"}, failed
    row = _stress_rows(pred)["locale"]
    assert "f64.from_dec vector" in row["message"] and "differ under locale" in row["message"]


def test_libm_that_follows_the_caller_is_a_failure_even_where_libm_is_advisory(
        tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    """Correct rounding may be advisory; results that change with the caller's FP
    state may not: with the libm and stress suites both advisory, the run fails."""
    suites = {**json.loads(quick_profile.read_text())["suites"], "libm": "advisory", "stress": "advisory"}
    prof = _small_profile(tmp_path, quick_profile, ["fresh_processes", "fp_poison"], suites=suites)
    code, pred = run_report(build_zoo_probe("libm_caller_rounding"), prof, key_file, tmp_path / "out")
    assert code == 1
    reasons = [r for r in pred["verdict"]["reasons"]]
    assert [r.get("test") for r in reasons] == ["test_stress.py::test_libm_determinism[fp_poison]"], reasons
    row = _stress_rows(pred, "test_libm_determinism")["fp_poison"]
    assert row["op"] == "f64.exp.rne" and "an unperturbed process gave" in row["message"]
    assert _stress_rows(pred, "test_libm_determinism")["fresh_processes"]["outcome"] == "passed"
    assert _stress_rows(pred)["fp_poison"]["outcome"] == "passed"  # its basic ops are right


def test_a_check_that_compared_nothing_is_skipped_with_its_reason(tmp_path: Path, key_file: Path,
                                                                  quick_profile: Path) -> None:
    """A stress plan without libm ops leaves the libm determinism checks nothing to
    compare: skipped with the reason, which fails the run where stress is required."""
    doc = json.loads(quick_profile.read_text())
    float_ops = [o for o in doc["stress"]["ops"] if o in ("f64.add.rne", "f64.div.rne")]
    prof = _small_profile(tmp_path, quick_profile, ["fresh_processes"],
                          stress={**doc["stress"], "ops": float_ops, "perturbations": ["fresh_processes"],
                                  "repeats": 1})
    code, pred = run_report(build_zoo_probe("reference"), prof, key_file, tmp_path / "out")
    assert code == 1
    row = _stress_rows(pred, "test_libm_determinism")["fresh_processes"]
    assert row["outcome"] == "skipped" and "not applicable" in row["message"], row
    assert "no libm streams" in row["message"]
    assert _stress_rows(pred)["fresh_processes"]["outcome"] == "passed"
    assert {r["code"] for r in pred["verdict"]["reasons"]} == {"TEST_SKIPPED"}


def test_the_locale_perturbation_builds_a_comma_locale_when_none_is_installed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(stress, "COMMA_LOCALES", ("fr_FR.UTF-8",))
    if stress._decimal_point({"LC_ALL": "fr_FR.UTF-8"}) == ",":
        pytest.skip("fr_FR.UTF-8 is installed system-wide here: nothing to build")
    choice = stress.comma_locale()
    assert choice.not_applicable is None, choice
    assert choice.env["LOCPATH"] == str(tmp_path / "teecert" / "locale")
    assert stress._decimal_point(choice.env) == ","
    assert (tmp_path / "teecert" / "locale" / "fr_FR.UTF-8").is_dir()
    assert not [p for p in (tmp_path / "teecert" / "locale").iterdir() if p.name.startswith(".")]


def test_without_localedef_the_locale_perturbation_is_not_applicable(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(stress, "COMMA_LOCALES", ("xx_NOWHERE.UTF-8",))
    monkeypatch.setattr(stress.shutil, "which", lambda name: None)
    p = stress.perturbation("locale", 0)
    assert p.not_applicable and "localedef" in p.not_applicable and not p.env


def test_unknown_locale_sources_say_why_nothing_was_built(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(stress, "COMMA_LOCALES", ("xx_NOWHERE.UTF-8",))
    choice = stress.comma_locale()
    assert choice.not_applicable and "localedef -i xx_NOWHERE -f UTF-8 failed" in choice.not_applicable


def test_empty_plans_and_unsupported_ops_never_pass() -> None:
    plan = stress.Plan((), 1, 1, 0, 1, ("fresh_processes",))
    status, record = stress.check(plan, "fresh_processes", [], object(), "golden", (), "libm")
    assert status == stress.NOT_APPLICABLE and "no libm streams" in record["message"]
    status, record = stress.check(plan, "fp_poison", [], object(), "golden", ("f64.exp.rne",), "libm")
    assert status == stress.UNSUPPORTED and "f64.exp.rne" in record["message"]


# ------------------------------------------------------------------ checked outputs


def _data_stream(op_id: str = "f64.add.rne") -> Any:
    from teecert.vectors.store import load_set
    return load_set().streams()[op_id]


def test_a_checked_copy_spares_the_hash_only_of_identical_outputs() -> None:
    st = _data_stream()
    store = stress.CheckedOutputs()
    g = stress.golden_chunk(st, 0, store)
    good = bytes(8 * 4)  # stands for outputs already checked against g.leaf
    assert g.known_leaf(memoryview(good)) is None  # nothing kept yet
    g.remember(memoryview(good))
    assert g.known_leaf(memoryview(good)) == g.leaf
    assert g.known_leaf(memoryview(good[:-1] + b"\x01")) is None  # one bit off
    assert g.known_leaf(memoryview(good[:-8])) is None  # shorter
    g.remember(memoryview(b"\x07" * 32))  # the first copy stays
    assert g.known_leaf(memoryview(good)) == g.leaf
    # another chunk of the same store has its own copy
    h = stress.golden_chunk(st, 1, store)
    assert h.known_leaf(memoryview(good)) is None
    # without a store nothing is kept
    lone = stress.golden_chunk(st, 0)
    lone.remember(memoryview(good))
    assert lone.known_leaf(memoryview(good)) is None


def test_later_processes_compare_with_the_checked_copy_and_still_catch_a_difference(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from teecert.probe import build as probe_build
    from teecert.probe import streams as probe_streams
    from teecert.probe.remote import default_host_cmd, spawn

    st = _data_stream()
    store = stress.CheckedOutputs()
    group = [stress.golden_chunk(st, k, store) for k in range(2)]
    hashed: list[int] = []
    real = probe_streams.span_leaves

    def counting(spans: Any) -> list[bytes]:
        hashed.append(sum(n for _p, n in spans))
        return real(spans)

    monkeypatch.setattr(probe_streams, "span_leaves", counting)
    cmd = default_host_cmd(probe_build.reference_probe_path())
    outputs_bytes = sum(g.n for g in group) * st.op.out_bytes

    def one_process() -> int:
        """Bytes hashed by a fresh process that ran the group and agreed."""
        hashed.clear()
        rp = spawn(cmd, timeout=30)
        try:
            leaves, wrong = stress._run_group(rp, group)
        finally:
            rp.close()
        assert leaves == [g.leaf for g in group] and not wrong
        return sum(hashed)

    # the first process hashes everything; the second compares with its copy
    assert one_process() == outputs_bytes
    assert one_process() == 0
    # A copy that is not what the probe gives (standing for a probe that now answers
    # otherwise): the bytes differ, so they are hashed, and the leaf is the true one.
    for g in group:
        where = store._at[g]
        os.pwrite(store._file.fileno(), b"\xff" * 8, where[0])
    assert one_process() == outputs_bytes


def test_a_stress_process_whose_outputs_are_not_its_transcript_fails(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Outputs changed in the shared region after the probe computed them (by a
    process that kept it mapped) show as a transcript that is not of the outputs
    read back."""
    from teecert.probe import build as probe_build
    from teecert.probe.remote import RemoteProbe, default_host_cmd

    st = _data_stream()
    group = [stress.golden_chunk(st, k, stress.CheckedOutputs()) for k in range(2)]
    cmd = default_host_cmd(probe_build.reference_probe_path())
    p = stress.perturbation("fresh_processes", 1)
    vectors, found = stress._one_process(cmd, p, group, 0, 0, 30.0, [])
    assert vectors == sum(g.n for g in group) and found == []
    real = RemoteProbe.transcript

    def other(self: RemoteProbe) -> tuple[bytes, int]:
        _t, n = real(self)
        return bytes(32), n

    monkeypatch.setattr(RemoteProbe, "transcript", other)
    _vectors, found = stress._one_process(cmd, p, group, 0, 0, 30.0, [])
    assert len(found) == 1 and found[0].error is not None
    assert "is not the one of the outputs read back" in found[0].error
