"""Clocks (``native/probe/clocks.c``, ``teecert.certify.judge.clocks``): the analysis on synthetic
samples with known answers, the threshold schema and checks, and a real
measurement through the C on this machine and, under qemu-user, on AArch64 and
RISC-V.

The C is compiled here into a throwaway shared library exported with
``-DTEECERT_INTERNAL=`` (in the probe these functions are hidden) and called
through cffi in ABI mode, as tests/probe/test_hashes_c.py does.
"""

from __future__ import annotations

import copy
import json
import platform
import random
import shutil
import subprocess
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from teecert.certify.judge import clocks
from teecert.errors import MalformedInput
from teecert.probe import build as probe_build

cffi = pytest.importorskip("cffi")

WARNINGS = ("-Wall", "-Wextra", "-pedantic")
NS = clocks.NS_PER_S


def probe_dir() -> Path:
    return Path(probe_build.native_dir()) / "probe"


def from_deltas(deltas: list[int], start: int = 1_000_000) -> list[int]:
    return list(accumulate(deltas, initial=start))


def rules(**clock_rules: dict[str, Any]) -> dict[str, Any]:
    return {"samples": 2, "clocks": clock_rules}


def failures(findings: list[clocks.Finding]) -> list[clocks.Finding]:
    return [f for f in findings if f.failure]


# ------------------------------------------------------------------ analysis


def test_a_single_backward_step_is_counted_and_located() -> None:
    samples = [100, 110, 120, 115, 125, 135, 135, 140]
    st = clocks.analyze("monotonic", samples, 1, NS)
    assert st.backward_steps == 1
    assert st.first_backward == clocks.BackStep(index=3, previous=120, value=115)
    assert st.equal_steps == 1
    assert st.observed_resolution == 5
    [fail] = failures(clocks.check({"monotonic": st}, rules(monotonic={"monotonic": True})))
    assert (fail.clock, fail.rule, fail.measured, fail.limit) == ("monotonic", "monotonic", 1, 0)
    assert "index 3: 120 -> 115 (-5 ns)" in fail.detail


def test_only_the_first_of_several_backward_steps_is_named() -> None:
    st = clocks.analyze("boottime", [0, 10, 5, 20, 3, 30], 1, NS)
    assert st.backward_steps == 2
    assert st.first_backward == clocks.BackStep(2, 10, 5)
    [fail] = failures(clocks.check({"boottime": st}, rules(boottime={"monotonic": True})))
    assert fail.measured == 2 and "2 backward step(s)" in fail.detail


def test_realtime_may_step_back_unless_the_profile_says_otherwise() -> None:
    st = clocks.analyze("realtime", [50, 60, 40, 70], 1, NS)
    assert st.backward_steps == 1
    assert clocks.check({"realtime": st}, rules(realtime={"monotonic": False})) == []
    assert failures(clocks.check({"realtime": st}, rules(realtime={"monotonic": True})))


def test_a_coarse_clock_with_4ms_steps_fails_1us_resolution() -> None:
    # a jiffies clock read in a tight loop: many equal reads, then a 4 ms step
    samples = [t for t in range(0, 40_000_000, 4_000_000) for _ in range(1000)]
    st = clocks.analyze("monotonic", samples, 4_000_000, NS)
    assert st.observed_resolution == 4_000_000
    assert st.equal_steps == 9990 and st.backward_steps == 0
    assert st.median_delta == 0 and st.p99_delta == 0 and st.max_delta == 4_000_000
    found = clocks.check({"monotonic": st}, rules(monotonic={"max_resolution_ns": 1000}))
    assert [(f.rule, f.measured, f.limit, f.failure) for f in found] == [
        ("max_resolution_ns", 4_000_000, 1000, True)]
    ok = clocks.check({"monotonic": st}, rules(monotonic={"max_resolution_ns": 4_000_000}))
    assert failures(ok) == []


def test_percentiles_are_nearest_rank() -> None:
    # ten deltas: sorted 1..9, 100.  Median: rank ceil(5) = 5 -> 5; p99: rank
    # ceil(9.9) = 10 -> 100; jitter 95.
    st = clocks.analyze("monotonic", from_deltas([5, 1, 3, 2, 4, 100, 6, 7, 8, 9]), 1, NS)
    assert (st.median_delta, st.p99_delta, st.max_delta, st.jitter) == (5, 100, 100, 95)
    assert st.samples == 11 and st.observed_resolution == 1
    # 200 deltas 1..200 shuffled: median rank 100 -> 100, p99 rank 198 -> 198
    deltas = list(range(1, 201))
    random.Random("clocks").shuffle(deltas)
    st = clocks.analyze("monotonic", from_deltas(deltas), 1, NS)
    assert (st.median_delta, st.p99_delta, st.max_delta, st.jitter) == (100, 198, 200, 98)


def test_jitter_limit() -> None:
    st = clocks.analyze("monotonic", from_deltas([20] * 98 + [5000, 5000]), 1, NS)
    assert (st.median_delta, st.p99_delta, st.jitter) == (20, 5000, 4980)
    [f] = clocks.check({"monotonic": st}, rules(monotonic={"max_jitter_ns": 4979}))
    assert (f.rule, f.measured, f.limit, f.failure) == ("max_jitter_ns", 4980, 4979, True)
    [f] = clocks.check({"monotonic": st}, rules(monotonic={"max_jitter_ns": 4980}))
    assert not f.failure


def test_analyze_streams_a_generator_once() -> None:
    def gen() -> Iterator[int]:
        yield from range(0, 3_000_000, 3)

    st = clocks.analyze("monotonic", gen(), 1, NS)
    assert st.samples == 1_000_000 and st.observed_resolution == 3 and st.jitter == 0


def test_too_few_samples() -> None:
    for samples in ([], [7]):
        st = clocks.analyze("monotonic", samples, 1, NS)
        assert st.samples == len(samples)
        assert st.observed_resolution is st.median_delta is st.jitter is None
    st = clocks.analyze("monotonic", [7, 7, 7], 1, NS)  # never advanced
    assert st.observed_resolution is None and st.equal_steps == 2 and st.jitter == 0
    [f] = clocks.check({"monotonic": st}, rules(monotonic={"max_resolution_ns": 1000}))
    assert f.failure and f.measured == "none"
    thresholds = {"samples": 100, "clocks": {"monotonic": {"monotonic": True}}}
    found = clocks.check({"monotonic": st}, thresholds)
    assert [(f.rule, f.measured, f.limit, f.failure) for f in found] == [
        ("samples", 3, 100, True), ("monotonic", 0, 0, False)]


def test_counter_ticks_convert_with_a_known_frequency_rounding_up() -> None:
    # 24 MHz: one tick is 41.67 ns
    st = clocks.analyze("counter", from_deltas([1, 1, 2, 1, 3]), 42, 24_000_000)
    assert st.unit == "ns" and st.ticks_per_second == 24_000_000
    assert (st.observed_resolution, st.median_delta, st.max_delta) == (42, 42, 125)
    assert st.jitter == 84  # 3 - 1 = 2 ticks = 83.3 ns
    back = clocks.analyze("counter", [10, 9], 42, 24_000_000)
    assert back.backward_steps == 1 and back.median_delta == -42  # magnitude rounded up


def test_counter_of_unknown_frequency_stays_in_ticks_and_cannot_pass_ns_limits() -> None:
    st = clocks.analyze("counter", from_deltas([26, 52, 52]), None, None)
    assert st.unit == "ticks" and st.observed_resolution == 26 and st.resolution_ns is None
    found = clocks.check({"counter": st}, rules(counter={"max_resolution_ns": 1000,
                                                         "max_jitter_ns": 1000}))
    assert [(f.measured, f.failure) for f in found] == [("unknown", True), ("unknown", True)]
    assert "ticks of unknown frequency" in found[0].detail
    [ok] = clocks.check({"counter": st}, rules(counter={"monotonic": True}))
    assert not ok.failure


# ------------------------------------------------------------------ thresholds


def test_an_unsupported_required_clock_fails() -> None:
    found = clocks.check({"monotonic": clocks.unsupported("monotonic")},
                         clocks.DEFAULT_THRESHOLDS)
    required = [f for f in found if f.rule == "required"]
    assert [(f.clock, f.measured, f.limit, f.failure) for f in required] == [
        ("monotonic", "unsupported", "supported", True)]
    # a missing measurement counts as unsupported
    assert failures(clocks.check({}, clocks.DEFAULT_THRESHOLDS)) == required


def test_an_unsupported_optional_clock_does_not_fail() -> None:
    st = clocks.analyze("monotonic", from_deltas([20] * 200_000), 1, NS)
    stats = {"monotonic": st, "monotonic_raw": clocks.unsupported("monotonic_raw")}
    found = clocks.check(stats, clocks.DEFAULT_THRESHOLDS)
    assert failures(found) == []
    raw = [f for f in found if f.clock == "monotonic_raw"]
    assert [(f.rule, f.measured) for f in raw] == [("monotonic", "unsupported")]


def test_the_schema_is_valid_and_closed_everywhere() -> None:
    jsonschema.Draft202012Validator.check_schema(clocks.PROFILE_SCHEMA)

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if node.get("type") == "object":
                yield node
            for v in node.values():
                yield from walk(v)

    objects = list(walk(clocks.PROFILE_SCHEMA))
    assert len(objects) == 2 + len(clocks.CLOCKS)
    assert all(o.get("additionalProperties") is False for o in objects)
    clocks.validate_thresholds(clocks.DEFAULT_THRESHOLDS)
    clocks.validate_thresholds({"samples": 2, "clocks": {}})


@pytest.mark.parametrize("path, value", [
    (("extra",), 1),                                       # unknown top-level key
    (("clocks", "sundial"), {"monotonic": True}),          # unknown clock
    (("clocks", "monotonic", "max_resolution"), 1000),     # unknown rule
    (("samples",), "100000"),                              # wrong types
    (("samples",), True),
    (("samples",), 1),
    (("clocks",), ["monotonic"]),
    (("clocks", "monotonic", "required"), "yes"),
    (("clocks", "monotonic", "monotonic"), 1),
    (("clocks", "monotonic", "max_resolution_ns"), "1000"),
    (("clocks", "monotonic", "max_resolution_ns"), 0),
    (("clocks", "monotonic", "max_jitter_ns"), 1.5),
    (("clocks", "monotonic", "max_jitter_ns"), -1),
    (("clocks", "monotonic", "max_jitter_ns"), True),
])
def test_the_schema_rejects_unknown_keys_and_wrong_types(path: tuple[str, ...], value: Any) -> None:
    doc = copy.deepcopy(clocks.DEFAULT_THRESHOLDS)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert not jsonschema.Draft202012Validator(clocks.PROFILE_SCHEMA).is_valid(doc)
    with pytest.raises(MalformedInput, match=r"clock thresholds: \$"):
        clocks.check({}, doc)


def test_missing_keys_are_rejected() -> None:
    for key in ("samples", "clocks"):
        doc = copy.deepcopy(clocks.DEFAULT_THRESHOLDS)
        del doc[key]
        with pytest.raises(MalformedInput):
            clocks.validate_thresholds(doc)


# ------------------------------------------------------------------ report


def assert_json_ready(node: Any) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            assert isinstance(k, str)
            assert_json_ready(v)
    elif isinstance(node, list):
        for v in node:
            assert_json_ready(v)
    else:
        assert type(node) in (int, str), node
        if type(node) is int:
            assert abs(node) <= 2**53 - 1


def test_report_has_ints_and_strings_only() -> None:
    realtime_now = 1_700_000_000_000_000_000
    stats = {
        "realtime": clocks.analyze("realtime", [realtime_now, realtime_now - 7, realtime_now + 9],
                                   1, NS),
        "counter": clocks.analyze("counter", [1, 27, 79], None, None),
        "boottime": clocks.unsupported("boottime"),
    }
    findings = clocks.check(stats, rules(realtime={"monotonic": True, "required": True},
                                         boottime={"monotonic": True}))
    rep = clocks.to_report(stats, findings)
    assert_json_ready(rep)
    assert json.loads(json.dumps(rep)) == rep
    rt = rep["clocks"]["realtime"]
    assert rt["first_backward"] == {"index": 1, "previous": str(realtime_now),
                                    "value": str(realtime_now - 7)}
    assert rt["unit"] == "ns" and rt["backward_steps"] == 1
    assert rep["clocks"]["counter"]["unit"] == "ticks"
    assert "ticks_per_second" not in rep["clocks"]["counter"]
    assert rep["clocks"]["boottime"] == {"status": "unsupported"}
    assert [(f["clock"], f["rule"], f["result"]) for f in rep["findings"]] == [
        ("realtime", "required", "pass"), ("realtime", "monotonic", "fail"),
        ("boottime", "monotonic", "pass")]
    assert "findings" not in clocks.to_report(stats)


# ------------------------------------------------------------------ the C


CDEF = """
int teecert_clock_sample(unsigned clock_id, uint64_t *out, size_t n);
int teecert_clock_info(unsigned clock_id, uint64_t *resolution_ns, uint64_t *ticks_per_second);
"""


class CClocks:
    def __init__(self, path: Path, stderr: str) -> None:
        self.ffi = cffi.FFI()
        self.ffi.cdef(CDEF)
        self.lib: Any = self.ffi.dlopen(str(path))
        self.stderr = stderr

    def sample(self, clock_id: int, n: int) -> tuple[int, list[int]]:
        buf = self.ffi.new("uint64_t[]", max(n, 1))
        rc = self.lib.teecert_clock_sample(clock_id, buf, n)
        return rc, list(self.ffi.unpack(buf, n))

    def info(self, clock_id: int) -> tuple[int, int, int]:
        res, tps = self.ffi.new("uint64_t *"), self.ffi.new("uint64_t *")
        rc = self.lib.teecert_clock_info(clock_id, res, tps)
        return rc, int(res[0]), int(tps[0])


@pytest.fixture(scope="module")
def cclocks(tmp_path_factory: pytest.TempPathFactory) -> CClocks:
    nd = probe_build.native_dir()
    out = tmp_path_factory.mktemp("clocks") / "libclocks.so"
    cmd = [*probe_build.find_compiler(), "-std=c99", "-O2", "-fPIC", "-shared", *WARNINGS,
           "-I", str(nd), "-I", str(probe_dir()), "-DTEECERT_INTERNAL=",
           str(probe_dir() / "clocks.c"), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return CClocks(out, proc.stderr)


def test_builds_without_warnings(cclocks: CClocks) -> None:
    assert cclocks.stderr == ""


def test_unknown_ids_and_bad_arguments(cclocks: CClocks) -> None:
    for bad in (6, 7, 1 << 31):
        assert cclocks.sample(bad, 4)[0] == 1
        assert cclocks.info(bad)[0] == 1
    ffi, lib = cclocks.ffi, cclocks.lib
    assert lib.teecert_clock_sample(1, ffi.NULL, 3) == 2
    assert lib.teecert_clock_sample(1, ffi.NULL, 0) == 0
    assert lib.teecert_clock_info(1, ffi.NULL, ffi.new("uint64_t *")) == 2


def test_posix_clocks_on_this_machine(cclocks: CClocks) -> None:
    for cid in range(5):
        rc, res, tps = cclocks.info(cid)
        assert rc == 0 and tps == NS and res >= 1, clocks.CLOCKS[cid]
    rc, mono = cclocks.sample(1, 20_000)
    st = clocks.analyze("monotonic", mono, cclocks.info(1)[1], NS)
    assert rc == 0 and st.samples == 20_000
    assert st.backward_steps == 0
    assert st.observed_resolution is not None and st.observed_resolution < 1000
    # the two clocks agree to within a second: nanoseconds, not some other unit
    rc, raw = cclocks.sample(2, 1)
    assert rc == 0 and abs(raw[0] - mono[-1]) < NS
    rc, real = cclocks.sample(0, 1)
    assert rc == 0 and real[0] > 1_500_000_000 * NS  # after 2017


def test_the_counter_on_this_machine(cclocks: CClocks) -> None:
    rc, ticks = cclocks.sample(5, 20_000)
    if platform.machine() not in ("x86_64", "AMD64", "aarch64", "arm64", "riscv64"):
        assert rc == 1
        return
    assert rc == 0
    st = clocks.analyze("counter", ticks, None, None)
    assert st.backward_steps == 0 and st.observed_resolution is not None
    assert ticks[-1] > ticks[0]
    rc, res, tps = cclocks.info(5)
    assert rc == 0
    if platform.machine() in ("x86_64", "AMD64"):
        assert (res, tps) == (0, 0)  # the TSC frequency is not architecturally readable


def test_sample_in_process_meets_the_default_profile() -> None:
    stats = clocks.sample_in_process(20_000)
    assert list(stats) == list(clocks.CLOCKS.values())
    for name in ("realtime", "monotonic", "monotonic_raw", "boottime", "process_cputime"):
        assert not stats[name].unsupported and stats[name].unit == "ns", name
    mono = stats["monotonic"]
    assert mono.backward_steps == 0 and mono.observed_resolution is not None
    assert mono.observed_resolution < 1000
    if platform.machine() in ("x86_64", "AMD64"):
        assert not stats["counter"].unsupported and stats["counter"].unit == "ticks"
        assert stats["counter"].backward_steps == 0
    thresholds = dict(clocks.DEFAULT_THRESHOLDS, samples=20_000)
    assert failures(clocks.check(stats, thresholds)) == []
    assert_json_ready(clocks.to_report(stats))


CROSS = ("aarch64-linux-gnu", "riscv64-linux-gnu")


@pytest.mark.parametrize("target", CROSS)
def test_cross_compiles_without_warnings(target: str, tmp_path: Path) -> None:
    cross = f"{target}-gcc"
    if shutil.which(cross) is None:
        pytest.skip(f"{cross} not installed")
    nd = probe_build.native_dir()
    for extra in ((), ("-DTEECERT_NO_COUNTER",)):
        proc = subprocess.run(
            [cross, "-std=c99", "-O2", *WARNINGS, "-I", str(nd), "-I", str(probe_dir()), *extra,
             "-c", str(probe_dir() / "clocks.c"), "-o", str(tmp_path / "clocks.o")],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr


#: Prints, per clock id 0..6: sample rc, info rc, resolution_ns, ticks_per_second,
#: backward steps and the smallest positive step over 2000 reads.
DRIVER = r"""
#include <stdio.h>
#include "clocks.h"
static uint64_t s[2000];
int main(void)
{
    unsigned id;
    size_t i;
    for (id = 0; id < 7; id++) {
        uint64_t res = 0, tps = 0, back = 0, step = 0;
        int r = teecert_clock_sample(id, s, 2000), q = teecert_clock_info(id, &res, &tps);
        for (i = 1; r == 0 && i < 2000; i++) {
            if (s[i] < s[i - 1])
                back++;
            else if (s[i] > s[i - 1] && (step == 0 || s[i] - s[i - 1] < step))
                step = s[i] - s[i - 1];
        }
        printf("%d %d %llu %llu %llu %llu\n", r, q, (unsigned long long)res,
               (unsigned long long)tps, (unsigned long long)back, (unsigned long long)step);
    }
    return 0;
}
"""


@pytest.mark.parametrize("target", CROSS)
def test_clocks_under_qemu(target: str, tmp_path: Path) -> None:
    """The counter's inline assembly really reads a counter on AArch64 (with its
    frequency) and RISC-V; qemu-user emulates both."""
    cross = f"{target}-gcc"
    runner, missing = probe_build.runner_prefix(target)
    if shutil.which(cross) is None or missing:
        pytest.skip(missing or f"{cross} not installed")
    (tmp_path / "driver.c").write_text(DRIVER)
    exe = tmp_path / "driver"
    nd = probe_build.native_dir()
    proc = subprocess.run(
        [cross, "-std=c99", "-O2", "-I", str(nd), "-I", str(probe_dir()),
         str(tmp_path / "driver.c"), str(probe_dir() / "clocks.c"), "-o", str(exe)],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    run = subprocess.run([*runner, str(exe)], capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 0, run.stderr
    rows = [[int(w) for w in line.split()] for line in run.stdout.splitlines()]
    assert len(rows) == 7
    for cid in range(5):
        r, q, res, tps, back, step = rows[cid]
        assert (r, q, tps) == (0, 0, NS) and res >= 1 and step > 0, clocks.CLOCKS[cid]
        if cid != 0:
            assert back == 0, clocks.CLOCKS[cid]
    r, q, res, tps, back, step = rows[5]
    assert (r, q, back) == (0, 0, 0) and step > 0
    if target.startswith("aarch64"):
        assert tps > 0 and res == -(-NS // tps)  # cntfrq_el0
    else:
        assert (res, tps) == (0, 0)  # the timebase is in the device tree
    assert rows[6][:2] == [1, 1]
