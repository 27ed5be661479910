"""End to end: `teecert run` -> signed report -> `teecert verify`, as a user types it.

The reference probe must be CERTIFIED (also under pytest-xdist, with one report);
every probe of the zoo must end NOT_CERTIFIED for the reason it is broken, and the
report must say which test, op and vector.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from teecert._internal.timefmt import parse_time
from teecert.certify import pending as pending_run
from teecert.errors import UsageError
from teecert.report import keys

from conftest import GLIBC_FMA_REASON, CliResult, cpu_has, no_traceback, teecert_cli
from probezoo import IS_X86_64, build_zoo_probe


def _report(out: Path) -> tuple[Path, dict[str, Any]]:
    files = sorted(out.glob("teecert-report-*.json"))
    assert len(files) == 1, f"expected exactly one report in {out}, found {files}"
    env = json.loads(files[0].read_text())
    return files[0], json.loads(base64.b64decode(env["payload"]))


def certify(tmp_path: Path, key: Path, profile: Path | str, probe: Path | None = None,
            *extra: str) -> tuple[CliResult, Path, dict[str, Any]]:
    out = tmp_path / "out"
    args = ["run", "--out", str(out), "--key", str(key), "--profile", str(profile), *extra]
    if probe is not None:
        args[1:1] = ["--probe", str(probe)]
    res = teecert_cli(args)
    assert no_traceback(res.err + res.out), res.err[-3000:]
    path, stmt = _report(out)
    return res, path, stmt


def failing(stmt: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in stmt["predicate"]["results"] if r["outcome"] in ("failed", "error")}


def test_reference_probe_is_certified_and_verifies(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    res, path, stmt = certify(tmp_path, key_file, quick_profile)
    assert res.code == 0, res.out[-3000:] + res.err[-3000:]
    pred = stmt["predicate"]
    assert pred["verdict"] == {"result": "CERTIFIED", "reasons": []}
    kinds = {(r["suite"], r["kind"]) for r in pred["results"]}
    assert {("ieee754", "explicit"), ("ieee754", "stream"), ("contraction", "explicit"),
            ("fpenv", "explicit"), ("probe", "check")} <= kinds
    streams = [r for r in pred["results"] if r["kind"] == "stream"]
    assert len([r for r in streams if r["suite"] == "ieee754"]) == 75
    assert len([r for r in streams if r["suite"] in ("integers", "hashes")]) == 67
    assert all(r["root"] == r["expected_root"] for r in streams)
    assert pred["probe"]["transcripts"] and pred["results"]
    ver = teecert_cli(["verify", str(path), "--profile", str(quick_profile), "--trust", f"{key_file}.pub", "--json"])
    assert ver.code == 0, ver.out + ver.err
    assert json.loads(ver.out)["exit_code"] == 0


def test_default_run_is_the_full_stream_set(tmp_path: Path, key_file: Path) -> None:
    """The README's run: development profile, every stream at full length.  On an FMA
    machine glibc's exp changes when GLIBC_TUNABLES masks FMA, and that one failure
    (libm determinism, in every profile) makes it NOT_CERTIFIED."""
    res, path, stmt = certify(tmp_path, key_file, "development")
    reasons = [r.get("test") for r in stmt["predicate"]["verdict"]["reasons"]]
    if cpu_has("fma", "avx2"):
        assert res.code == 1 and reasons == [GLIBC_FMA_REASON], res.out[-3000:]
    else:
        assert res.code == 0, res.out[-3000:]
    streams = [r for r in stmt["predicate"]["results"] if r["kind"] == "stream"]
    assert sum(r["vectors"] for r in streams if r["suite"] == "ieee754") == 75 * 1048576
    assert sum(r["vectors"] for r in streams if r["suite"] == "libm") == 20 * 3 * 65536
    # every data op at a million vectors: a fault after the first ten thousand is caught
    assert all(r["vectors"] == 1048576 for r in streams if r["suite"] in ("integers", "hashes"))
    assert teecert_cli(["verify", str(path), "--trust", f"{key_file}.pub"]).code == res.code



def test_xdist_writes_one_report_with_every_worker_transcript(tmp_path: Path, key_file: Path,
                                                             quick_profile: Path) -> None:
    res, _path, stmt = certify(tmp_path, key_file, quick_profile, None, "-n", "2")
    assert res.code == 0, res.out[-3000:]
    pred = stmt["predicate"]
    assert pred["run"]["workers"] == 2
    assert sorted(t["worker"] for t in pred["probe"]["transcripts"]) == ["gw0", "gw1"]
    assert {r["id"] for r in pred["results"]} >= {"transcript::gw0", "transcript::gw1"}


# zoo probe -> (a test id fragment that must fail, a fragment of its message)
ZOO_EXPECT: dict[str, list[tuple[str, str]]] = {
    "contraction": [("test_contraction_vector[f64.mul_add_unfused.rne", "fused into an FMA"),
                    ("test_explicit[f64.mul_add_unfused.rne]", "contraction")],
    "fast_math": [("test_explicit[f64.add.rne]", "nan")],
    "x87": [("test_contraction_vector[f64.mul_add_unfused.rne", "x87 80-bit")],
    "ftz_at_load": [("test_loading_keeps_fp_environment", "changed the process FP environment"),
                    ("test_poisoned_caller[f64.mul.rne-round-up+ftz-daz]", "subnormal")],
    "raw_nan": [("test_explicit[f64.add.rne]", "nan"), ("test_stream[f32.add.rne]", "chunks diverge")],
    "one_ulp": [("test_explicit[f64.div.rne]", "1 ulp"), ("test_stream[f64.div.rne]", "1 ulp")],
}


@pytest.mark.parametrize("name", sorted(ZOO_EXPECT))
def test_broken_probe_is_not_certified_for_its_fault(name: str, tmp_path: Path, key_file: Path,
                                                     quick_profile: Path) -> None:
    if name in ("contraction", "x87") and not IS_X86_64:
        pytest.skip("x86-64 build flags")
    probe = build_zoo_probe(name)
    res, path, stmt = certify(tmp_path, key_file, quick_profile, probe)
    assert res.code == 1, res.out[-3000:]
    pred = stmt["predicate"]
    assert pred["verdict"]["result"] == "NOT_CERTIFIED"
    bad = failing(stmt)
    reasons = {r.get("test") for r in pred["verdict"]["reasons"]}
    for fragment, text in ZOO_EXPECT[name]:
        hits = [r for tid, r in bad.items() if fragment in tid]
        assert hits, f"{name}: no failing test matches {fragment!r}; failing: {sorted(bad)[:20]}"
        assert any(text.lower() in r["message"].lower() for r in hits), [r["message"] for r in hits]
        assert any(fragment in (t or "") for t in reasons)
    if name == "one_ulp":
        # exactly one op is wrong: nothing else may fail
        assert {r["op"] for r in bad.values()} == {"f64.div.rne"}, sorted(bad)
        div = [r for r in bad.values() if r["kind"] == "stream"]
        if div:
            d = div[0]["divergence"]
            assert d["ulp"] == "1" and int(d["got"], 16) == int(d["expected"], 16) + 1
    ver = teecert_cli(["verify", str(path), "--profile", str(quick_profile)])
    assert ver.code == 1, ver.out + ver.err
    assert ver.out.splitlines()[0].startswith(str(path) + ": NOT_CERTIFIED")


def test_strict_profile_needs_real_attestation(tmp_path: Path, key_file: Path) -> None:
    """Strict accepts no simulated evidence: with no TEE here, the run is NOT_CERTIFIED
    for the missing evidence, for the platform's libm where it is not correctly
    rounded (strict requires libm; glibc is not) or changes with the CPU's features
    (glibc's exp with FMA masked), and for nothing else."""
    res, path, stmt = certify(tmp_path, key_file, "strict")
    pred = stmt["predicate"]
    if pred["attestation"]["source"] == "probe":
        pytest.skip("this machine has a real TEE")
    assert res.code == 1, res.out[-3000:]
    assert pred["attestation"]["source"] == "none" and pred["attestation"]["evidence"] is None
    reasons = pred["verdict"]["reasons"]
    assert {(r["code"], r["suite"]) for r in reasons} <= {("TEST_SKIPPED", "attestation"),
                                                          ("TEST_FAILED", "libm"), ("TEST_FAILED", "stress")}
    assert {r["test"] for r in reasons if r["suite"] == "stress"} <= {
        "test_stress.py::test_libm_determinism[glibc_tunables]"}
    assert ("TEST_SKIPPED", "attestation") in {(r["code"], r["suite"]) for r in reasons}
    assert "attestation::evidence" in {r["test"] for r in reasons}
    assert teecert_cli(["verify", str(path), "--profile", "strict"]).code == 1


def test_development_run_is_bound_to_simulated_evidence(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    res, _path, stmt = certify(tmp_path, key_file, quick_profile)
    att = stmt["predicate"]["attestation"]
    if att["source"] == "probe":
        pytest.skip("this machine has a real TEE")
    assert res.code == 0 and att["source"] == "simulated" and att["format"] == "sim"
    row = next(r for r in stmt["predicate"]["results"] if r["id"] == "attestation::evidence")
    assert row["outcome"] == "passed" and "simulated" in row["message"]
    # through the probe host the evidence carries the report data wrapped with its key
    host_key = base64.b64decode(stmt["predicate"]["probe"]["host"]["public_key"])
    wrapped = hashlib.sha512(b"teecert-host-attest-v1\0" + host_key + bytes.fromhex(att["report_data"])).digest()
    assert att["verified"]["report_data"] == wrapped.hex()


@pytest.fixture(scope="module")
def attested_profile(tmp_path_factory: pytest.TempPathFactory, quick_profile: Path) -> Path:
    """The quick profile with the attestation suite required (simulated evidence allowed)."""
    doc = json.loads(quick_profile.read_text())
    doc["id"] = "test-quick-attested"
    doc["suites"]["attestation"] = "required"
    path = tmp_path_factory.mktemp("profiles") / "attested.json"
    path.write_text(json.dumps(doc))
    return path


def test_evidence_obtained_out_of_band(tmp_path: Path, key_file: Path, attested_profile: Path) -> None:
    out = tmp_path / "out"
    first = teecert_cli(["run", "--profile", str(attested_profile), "--key", str(key_file), "--out", str(out),
                         "--print-report-data"])
    assert first.code == 0, first.out[-2000:] + first.err[-2000:]
    assert not list(out.glob("teecert-report-*.json"))
    (pending,) = out.glob("teecert-pending-*.json")
    assert pending.stat().st_mode & 0o777 == 0o600
    rd = json.loads(pending.read_text())["report_data"]
    assert f"report data {rd}" in first.out

    # evidence for other report data (another run's) is refused by the binding
    wrong = tmp_path / "wrong.bin"
    assert teecert_cli(["attest", "simulate", "--report-data", "ab" * 64, "--out", str(wrong)]).code == 0
    saved = pending.read_bytes()
    copy = tmp_path / "pending-copy.json"
    copy.write_bytes(saved)
    bad = teecert_cli(["run", "--evidence", str(wrong), "--pending", str(copy), "--key", str(key_file),
                       "--out", str(tmp_path / "bad")])
    assert bad.code == 1, bad.out + bad.err
    (bad_report,) = (tmp_path / "bad").glob("teecert-report-*.json")
    stmt = json.loads(base64.b64decode(json.loads(bad_report.read_text())["payload"]))
    row = next(r for r in stmt["predicate"]["results"] if r["id"] == "attestation::evidence")
    assert row["outcome"] == "failed" and "another run" in row["message"]

    good = tmp_path / "good.bin"
    assert teecert_cli(["attest", "simulate", "--report-data", rd, "--out", str(good)]).code == 0

    # evidence brought in later than the maximum evidence age after the run's finish is
    # refused: the report would describe the machine as it was, dated as it is
    late = tmp_path / "pending-late.json"
    late.write_bytes(saved)
    finished = parse_time(json.loads(saved)["statement"]["predicate"]["run"]["finished"], "t")
    with pytest.raises(UsageError, match=r"s ago, over the 3600 s profile .* allows between a run and its evidence"):
        pending_run.finish(late, key=keys.load_private(key_file), data=good.read_bytes(), fmt="auto", certs=[],
                       collateral=None, out_dir=tmp_path / "late", now=finished + dt.timedelta(seconds=3601))
    assert late.exists() and not (tmp_path / "late").exists()
    done = teecert_cli(["run", "--evidence", str(good), "--pending", str(pending), "--key", str(key_file),
                        "--out", str(out)])
    assert done.code == 0, done.out + done.err
    assert not pending.exists()
    (report_path,) = out.glob("teecert-report-*.json")
    stmt = json.loads(base64.b64decode(json.loads(report_path.read_text())["payload"]))
    assert stmt["predicate"]["attestation"]["source"] == "file"
    assert teecert_cli(["verify", str(report_path), "--profile", str(attested_profile),
                        "--trust", f"{key_file}.pub"]).code == 0
    # the key must be the one the pending run was bound to
    other = tmp_path / "other.pem"
    assert teecert_cli(["keys", "generate", str(other)]).code == 0
    copy.write_bytes(saved)
    again = teecert_cli(["run", "--evidence", str(good), "--pending", str(copy), "--key", str(other),
                         "--out", str(tmp_path / "o")])
    assert again.code == 2 and "another signing key" in again.err
