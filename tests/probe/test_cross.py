"""Other architectures: the reference probe cross-built for AArch64 and RISC-V, run
under qemu-user through the child-process transport, certifies with the same
consensus roots as x86-64, while the characterization differs as the hardware does.

Needs Debian's cross compilers and qemu-user (``native/cross/install-deps.sh``,
which ``.ci/run`` runs); without them these tests skip, saying what is missing.

The expected characterization comes from the architecture manuals, not from the
probe: x86-64 SSE returns the "QNaN floating-point indefinite" (sign set,
``fff8000000000000``) for an invalid operation and 0x80000000 / 0x8000000000000000
("integer indefinite") from ``cvttsd2si`` for NaN and out-of-range inputs; AArch64
returns the default NaN ``7ff8000000000000`` and ``fcvtzs`` saturates, NaN giving 0;
RISC-V returns the canonical NaN ``7ff8000000000000`` for every NaN result and
``fcvt.w.d`` gives 2^31-1 for NaN.  ``char`` is signed on x86-64 and unsigned on
AArch64 and RISC-V Linux; ``long double`` is the x87 80-bit format (64-bit
significand) on x86-64 and IEEE binary128 (113) on the other two.
"""

from __future__ import annotations

import base64
import json
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest

from teecert.probe.build import find_qemu, native_arch, target_arch
from teecert.profile import load_profile

from conftest import teecert_cli

TARGETS = ("aarch64-linux-gnu", "riscv64-linux-gnu")

#: Per architecture: characterization cases and data-model facts from the manuals.
EXPECTED: dict[str, dict[str, Any]] = {
    "x86_64": {"f64 0/0": "fff8000000000000", "f32 0/0": "ffc00000",
               "f64 qnan(1)+qnan(2)": "7ff8000000000001", "(int32) nan": "80000000",
               "(int32) 3e9": "80000000", "(int64) nan": "8000000000000000",
               "char_signed": True, "ldbl_mant_dig": 64},
    "aarch64": {"f64 0/0": "7ff8000000000000", "f32 0/0": "7fc00000",
                "f64 qnan(1)+qnan(2)": "7ff8000000000001",
                "f64 qnan(1)+snan(2)": "7ff8000000000002",  # a signalling NaN wins
                "(int32) nan": "00000000", "(int32) 3e9": "7fffffff",
                "(int64) nan": "0000000000000000", "clz32(0)": "00000020",
                "char_signed": False, "ldbl_mant_dig": 113},
    "riscv64": {"f64 0/0": "7ff8000000000000", "f32 0/0": "7fc00000",
                "f64 qnan(1)+qnan(2)": "7ff8000000000000",  # never propagates a payload
                "(int32) nan": "7fffffff", "(int32) 3e9": "7fffffff",
                "(int64) nan": "7fffffffffffffff",
                "char_signed": False, "ldbl_mant_dig": 113},
}

#: ELF e_machine of each architecture.
ELF_MACHINE = {"aarch64": 183, "riscv64": 243, "x86_64": 62}


def _missing(target: str) -> str | None:
    arch = target_arch(target)
    if not shutil.which(f"{target}-gcc"):
        return f"{target}-gcc is not installed (run native/cross/install-deps.sh)"
    if arch != native_arch() and find_qemu(arch) is None:
        return f"qemu-{arch} is not installed (run native/cross/install-deps.sh)"
    return None


@pytest.fixture(scope="module", params=TARGETS)
def cross_cmd(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(target, --probe-cmd) of a cross build made with ``teecert probe build --target``."""
    target = request.param
    why = _missing(target)
    if why:
        pytest.skip(why)
    out = tmp_path_factory.mktemp(f"build-{target}")
    res = teecert_cli(["probe", "build", "--target", target, "--out", str(out)])
    assert res.code == 0, res.err
    return target, res.out.strip().splitlines()[-1]


def test_build_prints_the_probe_cmd_last(cross_cmd: tuple[str, str]) -> None:
    target, line = cross_cmd
    arch = target_arch(target)
    words = shlex.split(line)
    assert Path(words[0]).name.startswith(f"qemu-{arch}")
    assert words[1:3] == ["-L", f"/usr/{target}"]
    host, lib = Path(words[3]), Path(words[5])
    assert words[4] == "--probe"
    for built in (host, lib):
        head = built.read_bytes()[:20]
        assert head[:4] == b"\x7fELF"
        assert int.from_bytes(head[18:20], "little") == ELF_MACHINE[arch], built


def _statement(report: Path) -> dict[str, Any]:
    env = json.loads(report.read_bytes())
    stmt: dict[str, Any] = json.loads(base64.b64decode(env["payload"]))
    return stmt


def _profile(folder: Path) -> Path:
    """The development profile without ``glibc_tunables`` (glibc's exp changes when FMA
    is masked on an FMA machine, a failure in every profile that
    tests/certify/test_libm_suite.py shows; these runs compare architectures), over a
    quarter of each stream."""
    path = folder / "profile.json"
    if not path.exists():
        doc = json.loads(json.dumps(load_profile("development").data))
        doc["id"] = "test-cross"
        doc["stress"]["perturbations"] = [p for p in doc["stress"]["perturbations"] if p != "glibc_tunables"]
        # a quarter of every stream: under qemu a million vectors of each data op cost
        # minutes, and a quarter already crosses every code path of every op
        doc["stream_scale"] = 25
        path.write_text(json.dumps(doc))
    return path


def _run(args: list[str], out: Path, key: Path) -> dict[str, Any]:
    res = teecert_cli(["run", *args, "--out", str(out), "--key", str(key),
                       "--profile", str(_profile(key.parent))], timeout=900)
    assert res.code == 0, res.out[-3000:] + res.err
    assert "teecert run: CERTIFIED" in res.out
    (report,) = out.glob("teecert-report-*.json")
    return _statement(report)["predicate"]


@pytest.fixture(scope="module")
def native_run(tmp_path_factory: pytest.TempPathFactory, key_file: Path) -> dict[str, Any]:
    """The default certification run on this machine (reference probe, probe host),
    under the development profile without ``glibc_tunables`` (``_profile``)."""
    return _run([], tmp_path_factory.mktemp("native"), key_file)


def _roots(pred: dict[str, Any], suite: str = "ieee754") -> dict[str, str]:
    return {r["op"]: r["root"] for r in pred["results"]
            if r.get("kind") == "stream" and r["suite"] == suite}


def test_full_suites_under_qemu_match_native(cross_cmd: tuple[str, str], native_run: dict[str, Any],
                                             tmp_path_factory: pytest.TempPathFactory,
                                             key_file: Path) -> None:
    target, line = cross_cmd
    arch = target_arch(target)
    pred = _run(["--probe-cmd", line], tmp_path_factory.mktemp(f"run-{target}"), key_file)
    assert pred["run"]["transport"] == "child-process"
    assert native_run["run"]["transport"] == "child-process"
    assert pred["probe"]["description"]["arch"] == arch
    # The platform identity is the (emulated) machine the probe ran on, as its host
    # reported it; the harness machine is recorded beside it.
    assert pred["environment"]["fingerprint"]["arch"] == arch
    assert (pred["environment"]["harness"]["fingerprint"]["arch"]
            == native_run["environment"]["fingerprint"]["arch"])
    assert pred["environment"]["digest"] != native_run["environment"]["digest"]

    # Consensus: every op's stream root is identical on both machines, and is the
    # root the vector set commits to (computed by the references, not by a probe).
    roots, native_roots = _roots(pred), _roots(native_run)
    assert len(roots) == 75
    assert roots == native_roots
    for r in pred["results"]:
        if r.get("kind") == "stream" and r["suite"] == "ieee754":
            assert r["root"] == r["expected_root"], r["op"]
    # The same for the data ops (integers, conversions, data model, hashes): the
    # portable C gives the committed roots on all three architectures.
    for suite, count in (("integers", 62), ("hashes", 5)):
        data_roots = _roots(pred, suite)
        assert len(data_roots) == count and data_roots == _roots(native_run, suite)
    for r in pred["results"]:
        if r.get("kind") == "stream" and r["suite"] in ("integers", "hashes"):
            assert r["root"] == r["expected_root"], r["op"]
    # The platform's libm is another matter: glibc on another architecture computes
    # some functions differently (the libm suite is advisory in development).
    assert len(_roots(pred, "libm")) == 40

    # Characterization: differs as the two architectures' manuals say it must.
    here, there = native_run["probe"]["characterization"], pred["probe"]["characterization"]
    for char, arch_name in ((here, native_run["probe"]["description"]["arch"]), (there, arch)):
        assert char["arch"] == arch_name
        for key, want in EXPECTED.get(arch_name, {}).items():
            got = char.get(key, char["cases"].get(key))
            assert got == want, f"{arch_name}: {key} = {got}, the manual says {want}"
    if native_arch() == "x86_64":
        assert here["cases"]["f64 0/0"] == "fff8000000000000"
        assert there["cases"]["f64 0/0"] == "7ff8000000000000"
        assert here["cases"] != there["cases"]


@pytest.mark.parametrize("target, message", [
    ("foo", "not a Linux target triple"),
    ("zz80-linux-gnu", "zz80-linux-gnu-gcc not found: install Debian's gcc-zz80-linux-gnu"),
])
def test_bad_target_is_one_line(tmp_path: Path, target: str, message: str) -> None:
    res = teecert_cli(["probe", "build", "--target", target, "--out", str(tmp_path / "out")])
    assert res.code == 2
    assert message in res.err
    assert len(res.err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
