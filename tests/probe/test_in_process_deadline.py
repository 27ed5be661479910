"""Bounds on a probe loaded in process: every call has a deadline, and a library that
crashes or hangs while it is loaded or describes itself can be checked in a child.

A call into C cannot be interrupted, so an overdue call ends the process: each test
that makes one runs it in a child Python and looks at how that child ended.  Timing
is never asserted beyond generous bounds (a loaded two-core machine must pass).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from teecert import ops
from teecert.errors import ProbeError, UsageError
from teecert.probe import build as probe_build
from teecert.probe.library import OVERDUE_EXIT, describe_in_child, load_probe, set_call_timeout

from conftest import no_traceback
from probezoo import build_faulty_probe, build_zoo_probe

#: Generous: the deadline of the hanging calls below is 2 s.
BOUND = 60.0

DIV = ops.get("f64.div.rne")
ONE = 0x3FF0000000000000


def _python(code: str, tmp_path: Path, **env: str) -> tuple[int, str, str, float]:
    """Run ``code`` in a child Python: ``(exit code, stdout, stderr, seconds)``."""
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                       cwd=tmp_path, env={**os.environ, **env}, timeout=BOUND * 2, check=False)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def _one_clean_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for noise in ("Fatal Python error", "Traceback", "Current thread"):
        assert noise not in err
    return lines[0]


# ------------------------------------------------------------------ in process


def test_an_overdue_op_ends_the_process_with_one_line_naming_probe_op_and_deadline(tmp_path: Path) -> None:
    lib = build_faulty_probe("hang_after")
    code, out, err, took = _python(f"""
        from teecert import ops
        from teecert.probe.library import load_probe
        p = load_probe({str(lib)!r}, timeout=2)
        div = ops.get("f64.div.rne")
        print(p.run_values(div, [({ONE}, {ONE})]), flush=True)  # the first call returns
        p.run_values(div, [({ONE}, {ONE})])
        print("returned", flush=True)
    """, tmp_path)
    assert took < BOUND
    assert code == OVERDUE_EXIT, err
    assert out.split() == [f"[{ONE}]"]  # the first call's answer, and nothing after the hang
    line = _one_clean_line(err)
    assert line.startswith(f"teecert: probe {lib}: f64.div.rne did not return within 2 s")


def test_the_line_goes_to_the_fault_file_when_one_is_set(tmp_path: Path) -> None:
    lib = build_faulty_probe("hang_after")
    fault = tmp_path / "fault"
    code, _out, err, took = _python(f"""
        from teecert import ops
        from teecert.probe.library import load_probe, set_call_timeout
        set_call_timeout(2, {str(fault)!r})
        p = load_probe({str(lib)!r})  # the process's deadline
        div = ops.get("f64.div.rne")
        for _ in range(2):
            p.run_values(div, [({ONE}, {ONE})])
    """, tmp_path)
    assert took < BOUND
    assert code == OVERDUE_EXIT and err == ""
    [line] = fault.read_text().splitlines()
    assert line == f"probe {lib}: f64.div.rne did not return within 2 s (in-process call)"


@pytest.mark.parametrize(("name", "call"), [("describe_hang", "describe()"), ("load_hang", "dlopen()")])
def test_a_library_that_never_finishes_loading_is_bounded(name: str, call: str, tmp_path: Path) -> None:
    lib = build_faulty_probe(name)
    code, _out, err, took = _python(f"""
        from teecert.probe.library import load_probe
        load_probe({str(lib)!r}, timeout=2)
    """, tmp_path)
    assert took < BOUND
    assert code == OVERDUE_EXIT
    assert f"probe {lib}: {call} did not return within 2 s" in _one_clean_line(err)


def test_calls_that_return_in_time_are_never_cut_short(tmp_path: Path) -> None:
    """The deadline is per call: many quick calls add up past it and nothing happens."""
    lib = build_zoo_probe("reference")
    code, out, err, _took = _python(f"""
        import time
        from teecert import ops
        from teecert.probe.library import load_probe
        p = load_probe({str(lib)!r}, timeout=1)
        div = ops.get("f64.div.rne")
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            assert p.run_values(div, [({ONE}, {ONE})]) == [{ONE}]
            p.describe(), p.fpenv_read(), p.transcript()
        print("survived", flush=True)
    """, tmp_path)
    assert code == 0, err
    assert out.strip() == "survived" and no_traceback(err)


def test_a_probe_loaded_with_a_deadline_carries_it() -> None:
    p = load_probe(build_zoo_probe("reference"), timeout=7)
    assert p.timeout == 7
    assert p.run_values(DIV, [(ONE, ONE)]) == [ONE]


@pytest.mark.parametrize("bad", [0, -1.5])
def test_a_deadline_must_be_positive(bad: float) -> None:
    with pytest.raises(UsageError, match="must be positive"):
        set_call_timeout(bad)
    with pytest.raises(UsageError, match="must be positive"):
        load_probe(build_zoo_probe("reference"), timeout=bad)
    with pytest.raises(UsageError, match="must be positive"):
        describe_in_child(build_zoo_probe("reference"), bad)


# ------------------------------------------------------------------ in a child


@pytest.mark.parametrize(("name", "want"), [
    ("describe_segv", "describe() crashed (SIGSEGV)"),
    ("load_segv", "dlopen() crashed (SIGSEGV)"),
    ("describe_hang", "describe() did not return within 2 s"),
    ("load_hang", "dlopen() did not return within 2 s"),
])
def test_a_library_that_crashes_or_hangs_while_loading_is_one_line(name: str, want: str) -> None:
    lib = build_faulty_probe(name)
    t0 = time.monotonic()
    with pytest.raises(ProbeError) as info:
        describe_in_child(lib, 2)
    assert time.monotonic() - t0 < BOUND
    assert str(info.value) == f"probe {lib}: {want}"


def test_a_child_check_says_what_load_probe_says(tmp_path: Path) -> None:
    wrong = build_zoo_probe("wrong_abi")
    with pytest.raises(ProbeError) as in_process:
        load_probe(wrong)
    with pytest.raises(ProbeError) as in_child:
        describe_in_child(wrong, 5)
    assert str(in_child.value) == str(in_process.value)
    missing = tmp_path / "nope.so"
    with pytest.raises(ProbeError, match=rf"^probe {missing}: no such file$"):
        describe_in_child(missing, 5)
    text = tmp_path / "text.so"
    text.write_text("not a library\n")
    with pytest.raises(ProbeError, match="not a loadable shared library"):
        describe_in_child(text, 5)


def test_a_child_check_of_a_good_probe_gives_its_identity() -> None:
    lib = build_zoo_probe("reference")
    info = describe_in_child(lib, 30)
    probe = load_probe(lib)
    assert (info.path, info.digest, info.abi_version) == (lib, probe.digest, probe.abi_version)
    assert info.description["name"] == probe.description["name"]
    assert info.description["ops"] == probe.description["ops"]


def test_what_the_library_prints_does_not_confuse_the_child_check(tmp_path: Path) -> None:
    """A constructor that writes to standard output cannot forge the child's answer."""
    src = tmp_path / "chatty.c"
    src.write_text('#include <stdio.h>\n'
                   '__attribute__((constructor)) static void chatter(void)\n'
                   '{ printf("error \\"forged\\"\\nok {}\\n"); fflush(stdout); }\n'
                   '#include "probe.c"\n')
    lib = probe_build.build_probe(tmp_path / "chatty.so", source=src)
    assert describe_in_child(lib, 30).description["name"] == "teecert-reference-probe"
