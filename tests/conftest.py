"""Shared fixtures of teecert's own tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def teecert_cli(args: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None,
                timeout: float = 600) -> CliResult:
    """Run the ``teecert`` command as a user would, in a child process."""
    full_env = {**os.environ, **(env or {})}
    p = subprocess.run([sys.executable, "-m", "teecert", *args], capture_output=True, text=True,
                       cwd=cwd, env=full_env, timeout=timeout, check=False)
    return CliResult(p.returncode, p.stdout, p.stderr)


@pytest.fixture(scope="module")
def probe() -> Any:
    """The reference probe, loaded in this process (the tests that compare a fast path
    of its code with an independent answer)."""
    from teecert.probe import build as probe_build
    from teecert.probe.library import load_probe

    return load_probe(str(probe_build.reference_probe_path()))


@pytest.fixture(scope="module")
def reference() -> Path:
    """The path of the reference probe library (for a probe host to serve)."""
    from teecert.probe import build as probe_build

    return probe_build.reference_probe_path()


@pytest.fixture(scope="module")
def host() -> str:
    """The probe host built with teecert, or the build ``TEECERT_SHM_TEST_HOST`` names (a
    mutated one, to see that the host's tests catch what each of its checks guards)."""
    from teecert.probe import build as probe_build

    return os.environ.get("TEECERT_SHM_TEST_HOST") or str(probe_build.host_path())


def first_difference(op: Any, got: bytes, want: bytes, start: int, n: int) -> str:
    """Where the C generator's inputs ``got`` first differ from the specification's
    ``want``, for vectors ``start .. start+n-1`` of ``op``'s stream."""
    g, w = op.unpack_inputs(got, n), op.unpack_inputs(want, n)
    for i, (a, b) in enumerate(zip(g, w, strict=True)):
        if a != b:
            return f"{op.id} vector {start + i}: C gives {a}, Python {b}"
    return f"{op.id}: same vectors, different bytes"


def _accel_lib() -> Any:
    from teecert._internal import accel  # the accelerator: only where it is built

    return accel.load()


#: this process's FP control state when the tests started (None: no accelerator)
_CLEAN_FP: list[int | None] = []


@pytest.fixture(autouse=True)
def _fp_state_given_back() -> Iterator[None]:
    """Start and end every test with this process's FP control state as it was when
    the tests started.  Tests load probes in process on purpose, some of them broken
    (FTZ set at load, a state left poisoned), also in module-scoped fixtures; what
    they leave behind would change what later tests in the same worker compute with
    Python floats and the C stream generator.  A certification never shares a
    process that way: each run's tests run in a fresh one."""
    lib = _accel_lib()
    if not _CLEAN_FP:
        _CLEAN_FP.append(int(lib.lib.teecert_accel_fpenv(lib.ffi.new("char[16]"))) if lib is not None else None)
    clean = _CLEAN_FP[0]
    if lib is not None and clean is not None:
        lib.lib.teecert_accel_fpenv_restore(clean)
    yield
    if lib is not None and clean is not None:
        lib.lib.teecert_accel_fpenv_restore(clean)


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from teecert.report import keys

    path = tmp_path_factory.mktemp("keys") / "run-key.pem"
    keys.write_public(Path(f"{path}.pub"), keys.generate(path).public_key())  # for --trust
    return path


@pytest.fixture(scope="session")
def quick_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The development profile with one chunk of each stream, for fast end-to-end runs."""
    from teecert.profile import load_profile

    doc = dict(load_profile("development").data)
    doc["id"] = "test-quick"
    doc["stream_scale"] = 6  # 1 of 16 chunks: 65,536 vectors per op
    # libm is advisory in development and costs seconds a run: tests/certify/test_libm_suite.py
    # runs it; a profile that does not name it skips it
    doc["suites"] = {k: v for k, v in doc["suites"].items() if k != "libm"}
    # glibc picks exp by CPU feature, so masking FMA changes it on an FMA machine: a
    # required failure (stress::test_libm_determinism) that
    # tests/certify/test_libm_suite.py shows; the runs here test other things
    # one stress process per perturbation: a fault that is not random shows in the first;
    # tests/certify/test_stress.py runs the profile's own counts where a fault is random
    doc["stress"] = {**doc["stress"], "processes": 1, "repeats": 1, "perturbations": [
        p for p in doc["stress"]["perturbations"] if p != "glibc_tunables"]}
    path = tmp_path_factory.mktemp("profiles") / "quick.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


@pytest.fixture(scope="session")
def quick_profile_stress(quick_profile: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick profile with the development profile's stress process counts (2 processes,
    2 repeats): for faults that show only in some processes, such as address dependence."""
    from teecert.profile import load_profile

    doc = json.loads(quick_profile.read_text())
    dev = load_profile("development").data["stress"]
    doc["stress"] = {**doc["stress"], "processes": dev["processes"], "repeats": dev["repeats"]}
    path = tmp_path_factory.mktemp("profiles") / "quick-stress.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


def cpu_has(*flags: str) -> bool:
    """Whether this CPU lists every one of ``flags`` in /proc/cpuinfo."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    words = set(next((ln for ln in text.splitlines() if ln.startswith("flags")), "").split())
    return all(f in words for f in flags)


#: the one reason the reference probe is NOT_CERTIFIED under the built-in profiles on an
#: FMA machine: glibc's exp changes when GLIBC_TUNABLES masks FMA (libm determinism)
GLIBC_FMA_REASON = "test_stress.py::test_libm_determinism[glibc_tunables]"


def no_traceback(text: str) -> bool:
    return "Traceback (most recent call last)" not in text


def run_report(probe: Path, profile: Path, key: Path, out: Path) -> tuple[int, dict[str, Any]]:
    """``teecert run --probe PROBE --profile PROFILE`` as a user runs it: the exit code
    and the predicate of the one report written to ``out`` (no traceback allowed)."""
    from teecert.certify.run import _statement_of

    res = teecert_cli(["run", "--probe", str(probe), "--profile", str(profile), "--key", str(key),
                       "--out", str(out)], timeout=300)
    assert no_traceback(res.err), res.err
    [report] = out.glob("teecert-report-*.json")
    return res.code, _statement_of(report)["predicate"]


#: Real attestation evidence captured on real hardware (tests/data/realworld/attestation,
#: see its SOURCES.md; ``TEECERT_REALWORLD=DIR`` uses another copy); tests that use it
#: skip cleanly where it is absent.
REALWORLD = Path(os.environ.get("TEECERT_REALWORLD")
                 or Path(__file__).resolve().parent / "data" / "realworld" / "attestation")


def invoke_subcommand(add_parser: Callable[[Any], None], argv: Sequence[str]) -> int:
    """Parse ``argv`` with one module's own subcommand parser (``add_render_parser``,
    ``add_compare_parser``) and run it in process, as ``teecert.cli.main.main`` does."""
    import argparse

    from teecert.cli.common import exit_code_of
    from teecert.errors import TeecertError

    parser = argparse.ArgumentParser(prog="teecert")
    add_parser(parser.add_subparsers(dest="cmd", required=True))
    args = parser.parse_args(list(argv))
    try:
        code: int = args.func(args)
    except TeecertError as e:
        print(f"teecert {args.cmd}: {e}")
        return exit_code_of(e)
    return code


def one_line(res: CliResult, cmd: str, *fragments: str) -> str:
    """Exit 2, no traceback, nothing on stdout and one line on stderr holding ``fragments``."""
    assert res.code == 2, (res.code, res.out[-2000:], res.err[-2000:])
    assert no_traceback(res.out + res.err), res.err
    assert res.out == "", res.out
    lines = res.err.splitlines()
    assert len(lines) == 1, res.err
    assert lines[0].startswith(f"teecert {cmd}: "), lines[0]
    for f in fragments:
        assert f in lines[0], f"{f!r} not in {lines[0]!r}"
    return lines[0]


def ok(res: CliResult, code: int = 0) -> CliResult:
    """Exit ``code`` and no traceback."""
    assert res.code == code, (res.code, res.out[-2000:], res.err[-2000:])
    assert no_traceback(res.out + res.err)
    return res


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state folder of the test's own (the newest revocation list seen per
    governance), never the user's real one: governance tests use it throughout."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"
