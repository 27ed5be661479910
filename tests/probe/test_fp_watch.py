"""teecert's own FP-state control and watch, the self-description cross-check and
the ABI argument checks, through the probe host (FPSTATE, CONFORM) and in process
(the accelerator, a forked child), with the judgements of
``teecert.certify.judge.probe_checks`` on their own.

Golden values are the architecture manuals' encodings, never this code's output:
MXCSR rounding control is bits 13-14 (00 nearest, 01 down, 10 up, 11 toward zero),
FTZ bit 15, DAZ bit 6; the x87 control word's rounding control is bits 10-11 and
its precision control bits 8-9 (00: 24 bits); AArch64 FPCR.RMode is bits 22-23
(01 toward +inf) and FPCR.FZ bit 24.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from teecert import ops
from teecert.certify.judge import probe_checks as pc
from teecert.errors import ProbeError
from teecert.probe import build as probe_build
from teecert.probe.library import CONFORMANCE_CASES, E_ARGS, OK, Conformance, FpWatch, load_probe
from teecert.probe.remote import default_host_cmd, spawn

from probezoo import IS_X86_64, PROBES_DIR, build_zoo_probe

ADD = ops.get("f64.add.rne")
x86_only = pytest.mark.skipif(not IS_X86_64, reason="x86-64 register layout")


@pytest.fixture(scope="module")
def leaves_rounding(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference probe but its exit leaves rounding toward zero set: it changes
    its caller's state during every call."""
    return probe_build.build_probe(
        tmp_path_factory.mktemp("leaves") / "leaves_rounding.so",
        defines={"TEECERT_LEAVE_FPENV(saved)": "(fesetenv(saved), fesetround(FE_TOWARDZERO))",
                 "TEECERT_PROBE_NAME": '"teecert-test-leaves-rounding"'})


@pytest.fixture(scope="module")
def trusts_null(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return probe_build.build_probe(tmp_path_factory.mktemp("null") / "trusts_null.so",
                                   source=PROBES_DIR / "trusts_null.c")


# ------------------------------------------------------------ the judgements


@x86_only
def test_decode_x86_by_the_manual() -> None:
    assert pc.decode_fpenv("x86_64", 0x037F_0000_1F80) == pc.FpMode("nearest", False)
    assert pc.decode_fpenv("x86_64", 0x1F80 | 2 << 13 | 0x8000 | 0x40) == pc.FpMode("up", True)
    assert pc.decode_fpenv("x86_64", 0x1F80 | 3 << 13) == pc.FpMode("zero", False)
    assert pc.decode_fpenv("x86_64", 0x1F80 | 1 << 13 | 0x40) == pc.FpMode("down", True)
    assert pc.decode_fpenv("aarch64", 1 << 22 | 1 << 24) == pc.FpMode("up", True)
    assert pc.decode_fpenv("riscv64", 1 << 5) == pc.FpMode("zero", False)


def test_poison_claim_judges_what_was_read() -> None:
    up_ftz = 0x1F80 | 2 << 13 | 0x8040
    assert pc.poison_claim("x86_64", 0x5, 0x5, up_ftz) is None
    lie = pc.poison_claim("x86_64", 0x5, 0x5, 0x1F80)
    assert lie is not None and "claims rounding toward +inf and claims FTZ/DAZ" in lie and "nothing" in lie
    assert pc.poison_claim("x86_64", 0x2, 0x2, 0x1F80 | 2 << 13) is not None  # up, not toward zero
    assert "not asked for" in (pc.poison_claim("x86_64", 0x1, 0x5, up_ftz) or "")
    # a probe that applies less and says so is honest
    assert pc.poison_claim("riscv64", 0x5, 0x1, 3 << 5) is None


def _desc(**over: object) -> dict[str, object]:
    d: dict[str, object] = {"arch": "x86_64", "byte_order": "little", "abi": 1,
                            "fpenv_at_entry": "0000037f00001f80", "char_signed": True, "ldbl_mant_dig": 64,
                            "compiler": "12.2.0"}
    d.update(over)
    return d


def _obs() -> pc.Observed:
    return pc.Observed(arch="x86_64", byte_order="little", abi_version=1, fpenv_first=("x86_64", 0x037F00001FA0),
                       char_signed=(True, "cc"), ldbl_mant_dig=(64, "cc"),
                       compiler_comments=["GCC: (Debian 12.2.0-14) 12.2.0"])


def test_cross_check_passes_the_truth_and_names_each_lie() -> None:
    ok = pc.cross_check(_desc(), _obs())
    assert ok.lies == [] and ok.unverified == []
    assert set(ok.verified) == {"arch", "byte_order", "abi", "fpenv_at_entry", "char_signed", "ldbl_mant_dig",
                                "compiler"}
    for key, value, words in [("arch", "aarch64", "arch is 'aarch64'"), ("byte_order", "big", "byte_order"),
                              ("abi", 2, "abi is 2"), ("fpenv_at_entry", "0000000000000000", "fpenv_at_entry"),
                              ("fpenv_at_entry", "37f", "16 lower-case hex"), ("char_signed", False, "char_signed"),
                              ("ldbl_mant_dig", 113, "ldbl_mant_dig"), ("compiler", "clang version 12.2.0", "compiler")]:
        res = pc.cross_check(_desc(**{key: value}), _obs())
        assert len(res.lies) == 1 and words in res.lies[0], (key, res.lies)


def test_what_teecert_cannot_observe_is_unverified_not_passed() -> None:
    res = pc.cross_check(_desc(), pc.Observed())
    assert res.lies == [] and res.verified == []
    assert len(res.unverified) == 7 and "unverified" in res.message()
    stripped = _obs()
    stripped.compiler_comments = []
    res = pc.cross_check(_desc(), stripped)
    assert "compiler" not in res.verified and any("no ELF .comment" in u for u in res.unverified)


def test_compiler_matches_family_and_version() -> None:
    gcc = ["GCC: (Debian 12.2.0-14) 12.2.0"]
    clang = ["GCC: (Debian 12.2.0-14) 12.2.0", "Debian clang version 14.0.6"]
    assert pc.compiler_matches("12.2.0", gcc)
    assert not pc.compiler_matches("13.1.0", gcc)
    assert not pc.compiler_matches("Debian Clang 12.2.0", gcc)
    assert pc.compiler_matches("Debian Clang 14.0.6", clang)
    assert not pc.compiler_matches("unknown", gcc)


def test_elf_comments_of_a_real_library_and_of_garbage(tmp_path: Path) -> None:
    comments = pc.elf_comments(probe_build.reference_probe_path())
    assert comments and any(c.startswith(("GCC:", "clang")) or "clang" in c for c in comments)
    junk = tmp_path / "junk.so"
    junk.write_bytes(b"\x7fELF" + b"\x02\x01" + b"\xff" * 10)
    assert pc.elf_comments(junk) is None
    assert pc.elf_comments(tmp_path / "missing.so") is None
    truncated = tmp_path / "truncated.so"
    truncated.write_bytes(probe_build.reference_probe_path().read_bytes()[:200])
    assert pc.elf_comments(truncated) in ([], None)


def test_byte_order_of_machine_names() -> None:
    assert pc.byte_order_of("x86_64") == "little" and pc.byte_order_of("ppc64le") == "little"
    assert pc.byte_order_of("aarch64_be") == "big" and pc.byte_order_of("s390x") == "big"


def test_conformance_problems_name_each_case_and_a_crash() -> None:
    good = tuple(want for _name, want in CONFORMANCE_CASES)
    assert pc.conformance_problems(Conformance("f64.add.rne", good, 0)) == []
    lenient = (OK,) + (OK,) * (len(CONFORMANCE_CASES) - 1)
    probs = pc.conformance_problems(Conformance("f64.add.rne", lenient, 0))
    assert len(probs) == len(CONFORMANCE_CASES) - 1 and "TEECERT_OK, the ABI requires TEECERT_E_ARGS" in probs[0]
    crashed = pc.conformance_problems(Conformance("f64.add.rne", good[:5], 1, 11))
    assert crashed == [f"{CONFORMANCE_CASES[5][0]}: the probe crashed with SIGSEGV instead of refusing"]


def test_fp_watch_problem_names_the_call() -> None:
    w = FpWatch("x86_64", 0, 0, 9, 2, 1, 7, 0x1F80, 0x7F80, "f64.div.rne")
    assert w.problem() == ("the FP control state changed between calls, found before call 7 (f64.div.rne): "
                           "x86_64 0x1f80 set by teecert, 0x7f80 found (2 change(s) in 9 calls)")
    assert FpWatch("x86_64", 0, 0, 9, 0, 0, 0, 0, 0, "").problem() is None


# ---------------------------------------------------- through the probe host


@x86_only
def test_host_poisons_its_own_state_by_the_manual() -> None:
    with spawn(default_host_cmd()) as p:
        clean = p.fp_state(0)
        assert pc.decode_fpenv(clean.arch, clean.state) == pc.FpMode("nearest", False)
        st = p.fp_state(0x1 | 0x4 | 0x10)
        assert st.applied == 0x15
        assert (st.state >> 13) & 3 == 2 and st.state & 0x8040 == 0x8040  # MXCSR: up, FTZ, DAZ
        assert (st.state >> 42) & 3 == 2 and (st.state >> 40) & 3 == 0  # x87: up, 24-bit precision
        assert p.run_values(ADD, [(0x3FF0000000000000, 0x3CA0000000000000)]) == [0x3FF0000000000000]
        after = p.fp_state()
        assert after.violations == 0 and after.state == st.state and after.calls >= 2
        zero = p.fp_state(0x2)
        assert (zero.state >> 13) & 3 == 3 and zero.state & 0x8040 == 0


def test_host_refuses_a_malformed_fpstate() -> None:
    with spawn(default_host_cmd()) as p:
        with pytest.raises(ProbeError, match="FPSTATE action 7"):
            p._call(0x0020, [bytes([7, 0, 0, 0, 0, 0, 0, 0])], "fp_state")


def test_host_names_the_call_that_changed_its_state(leaves_rounding: Path) -> None:
    with spawn(default_host_cmd(leaves_rounding)) as p:
        p.fp_state(0)
        p.run_values(ADD, [(1, 2)])
        w = p.fp_state()
    assert w.violations >= 1 and w.kind == 2 and w.what == "f64.add.rne"
    assert "changed during call" in (w.problem() or "")


@x86_only
def test_host_sees_an_asynchronous_change_between_calls() -> None:
    with spawn(default_host_cmd(build_zoo_probe("fp_async"))) as p:
        deadline = time.monotonic() + 60
        while p.fp_state().violations == 0 and time.monotonic() < deadline:
            p.run_values(ADD, [(1, 2)])
            time.sleep(0.03)
        w = p.fp_state()
    assert w.kind == 1 and "between calls" in (w.problem() or ""), w


def test_host_argument_checks() -> None:
    want = tuple(s for _n, s in CONFORMANCE_CASES)
    with spawn(default_host_cmd()) as p:
        assert p.conformance(ADD) == Conformance(ADD.id, want, 0)
    with spawn(default_host_cmd(build_zoo_probe("lenient_args"))) as p:
        conf = p.conformance(ADD)
        assert conf.outcome == 0 and conf.statuses[1] == OK and conf.statuses[5] == E_ARGS
        # the host is still there after its child ran the checks
        assert p.run_values(ADD, [(0x3FF0000000000000, 0x3FF0000000000000)]) == [0x4000000000000000]


def test_host_survives_a_probe_that_crashes_in_the_checks(trusts_null: Path) -> None:
    with spawn(default_host_cmd(trusts_null)) as p:
        conf = p.conformance(ADD)
        assert conf.outcome == 1 and conf.signal == 11 and len(conf.statuses) == 5
        assert "null input with n = 1: the probe crashed with SIGSEGV" in pc.conformance_problems(conf)[0]
        assert p.run_values(ADD, [(0x3FF0000000000000, 0x3FF0000000000000)]) == [0x4000000000000000]


# ------------------------------------------------------------------ in process


@x86_only
def test_in_process_poison_and_watch_need_no_probe(leaves_rounding: Path) -> None:
    p = load_probe(build_zoo_probe("poison_noop"))
    try:
        st = p.fp_state(0x1 | 0x4)
        assert (st.state >> 13) & 3 == 2 and st.state & 0x8040 == 0x8040
    finally:
        p.fp_state(0)
    q = load_probe(leaves_rounding)
    try:
        q.run_values(ADD, [(1, 2)])
        w = q.fp_state()
    finally:
        q.fp_state(0)
    assert w.kind == 2 and w.what == "f64.add.rne" and w.violations == 1
    assert pc.decode_fpenv(w.arch, w.state) == pc.FpMode("nearest", False)  # put back


def test_in_process_argument_checks_run_in_a_child(trusts_null: Path) -> None:
    want = tuple(s for _n, s in CONFORMANCE_CASES)
    assert load_probe(probe_build.reference_probe_path()).conformance(ADD) == Conformance(ADD.id, want, 0)
    lenient = load_probe(build_zoo_probe("lenient_args")).conformance(ADD)
    assert lenient.statuses[1] == OK and lenient.statuses[7] == E_ARGS
    crashed = load_probe(trusts_null).conformance(ADD)
    assert crashed.outcome == 1 and crashed.signal == 11 and len(crashed.statuses) == 5
