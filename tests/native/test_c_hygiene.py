"""Native hygiene: every C source under native/ compiles warning-free.

Each ``native/**/*.c`` is compiled (``-c``, for this machine's architecture) with
``-Wall -Wextra -Werror`` on top of the flags of every build it is really part of:
the reference probe (harness/probe/build.py ``build_probe``), the probe host
(``build_host``), the accelerator (native/build_accel.py, compiled by setuptools),
the canonical-form check ``teecert._jcs`` (setup.py) and the stream benchmark
(benchmarks/bench_stream.py).  A source that none of them names yet is still compiled, with the reference probe's flags, so a new file is
covered the day it is added.  The probe ABI header must also compile alone as
pedantic C99: vendors include it from their own builds.
"""

from __future__ import annotations

import shlex
import subprocess
import sysconfig
from pathlib import Path

import pytest

from teecert.probe import build as probe_build

NATIVE = probe_build.native_dir()
WARNINGS = ("-Wall", "-Wextra", "-Werror")
SOURCES = sorted(NATIVE.rglob("*.c"))


def _compiler() -> list[str]:
    return probe_build.find_compiler()


def _probe_flags(compiler: list[str]) -> list[str]:
    """``build_probe``'s flags, compile-only (clang would call ``-shared`` unused)."""
    flags = [f for f in probe_build.reference_cflags(compiler) if f != "-shared"]
    return [*flags, "-I", str(NATIVE), "-I", str(NATIVE / "probe"),
            "-DTEECERT_CFLAGS=" + '"' + " ".join(flags) + '"']


def _host_flags(compiler: list[str]) -> list[str]:
    return [*probe_build.HOST_CFLAGS, "-I", str(NATIVE), "-I", str(NATIVE / "probe")]


def _accel_flags(compiler: list[str]) -> list[str]:
    """What setuptools compiles cffi sources with: the interpreter's CFLAGS and
    CCSHARED, then native/build_accel.py's ``extra_compile_args`` and include dirs."""
    py = shlex.split(sysconfig.get_config_var("CFLAGS") or "")
    shared = shlex.split(sysconfig.get_config_var("CCSHARED") or "")
    return [*py, *shared, "-O2", "-I", str(NATIVE / "accel"), "-I", str(NATIVE)]


def _jcs_flags(compiler: list[str]) -> list[str]:
    """setup.py's plain extension ``teecert._jcs``: as setuptools compiles it, with the
    interpreter's CFLAGS and CCSHARED, ``-O2`` and Python's headers."""
    py = shlex.split(sysconfig.get_config_var("CFLAGS") or "")
    shared = shlex.split(sysconfig.get_config_var("CCSHARED") or "")
    return [*py, *shared, "-O2", "-I", sysconfig.get_paths()["include"]]


def _bench_flags(compiler: list[str]) -> list[str]:
    """benchmarks/bench_stream.py: the reference flags for an executable."""
    flags = [f for f in probe_build.reference_cflags(compiler) if f not in ("-shared", "-fPIC")]
    return [*flags, "-I", str(NATIVE), "-I", str(NATIVE / "probe"), "-I", str(NATIVE / "accel"),
            "-DTEECERT_CFLAGS=" + '"' + " ".join(flags) + '"']


def _builds_of(src: Path) -> dict[str, list[str]]:
    """The builds ``src`` is compiled into, by name, with their flags."""
    compiler = _compiler()
    probe_srcs = {probe_build.reference_source(), *probe_build.support_sources()}
    bench_srcs = {NATIVE / "bench" / "stream_bench.c", NATIVE / "accel" / "accel.c",
                  NATIVE / "accel" / "mixgen.c",
                  NATIVE / "probe" / "probe.c", NATIVE / "probe" / "sha256.c"}
    builds: dict[str, list[str]] = {}
    if src in probe_srcs or src.parent == NATIVE / "probe":
        builds["probe"] = _probe_flags(compiler)
    if src in set(probe_build.host_sources()):
        builds["host"] = _host_flags(compiler)
    if src in (NATIVE / "accel" / "accel.c", NATIVE / "accel" / "mixgen.c"):
        builds["accel"] = _accel_flags(compiler)
    if src == NATIVE / "accel" / "jcs.c":
        builds["jcs"] = _jcs_flags(compiler)
    if src in bench_srcs:
        builds["bench"] = _bench_flags(compiler)
    if not builds:  # a source no build names yet: hold it to the reference probe's flags
        builds["new source"] = [*_probe_flags(compiler), "-I", str(src.parent)]
    return builds


def _compile(args: list[str], out: Path) -> subprocess.CompletedProcess[str]:
    cmd = [*_compiler(), *args, "-o", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def test_every_build_source_is_under_native() -> None:
    """The builds compile nothing this module would not discover."""
    named = {probe_build.reference_source(), *probe_build.support_sources(),
             *probe_build.host_sources()}
    assert named <= set(SOURCES), sorted(str(p) for p in named - set(SOURCES))


@pytest.mark.parametrize("src", SOURCES, ids=[str(p.relative_to(NATIVE)) for p in SOURCES])
def test_c_source_compiles_without_warnings(src: Path, tmp_path: Path) -> None:
    failures = []
    for name, flags in _builds_of(src).items():
        args = [*flags, *WARNINGS, "-c", str(src)]
        proc = _compile(args, tmp_path / f"{src.stem}-{name.replace(' ', '-')}.o")
        if proc.returncode != 0:
            failures.append(f"--- {name} build: {shlex.join([*_compiler(), *args])}\n{proc.stderr}")
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


def test_probe_abi_header_compiles_alone_as_pedantic_c99(tmp_path: Path) -> None:
    header = NATIVE / "teecert_probe.h"
    args = ["-std=c99", *WARNINGS, "-pedantic", "-x", "c", "-c", str(header)]
    proc = _compile(args, tmp_path / "teecert_probe.o")
    if proc.returncode != 0:
        pytest.fail(f"{shlex.join([*_compiler(), *args])}\n{proc.stderr}", pytrace=False)
