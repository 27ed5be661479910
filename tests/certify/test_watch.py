"""``teecert watch``: a certified machine watched against its report.

One report, made once for every xdist worker by ``teecert run`` under the
development profile (one chunk per stream, ``quick_profile``'s shape) with the zoo's
``wrong_after`` probe: the reference probe until ``TEECERT_ZOO_WRONG_AFTER`` is set in
its environment, after which it returns one wrong result per call.  So the same
certified report serves the clean watch (exit 0), the changed environment
(``GLIBC_TUNABLES``: the fingerprint's variables), and the probe that breaks after N
calls (the canary names the op and the vector).  The simulated day and the log's
tampering checks run in process, with a fake clock.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import tracemalloc
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from teecert.attestation import run_evidence
from teecert.attestation.testing import sim
from teecert.certify.watch import canary, checks
from teecert.certify.watch.heartbeat import HeartbeatLog, verify_log
from teecert.certify.watch.metrics import WatchMetrics
from teecert.certify.watch.model import CycleResult, Drift
from teecert.certify.watch.watcher import WatchConfig, Watcher
from teecert.cli.watch import load_report, parse_duration
from teecert.errors import NotAuthentic, UnsupportedOp, UsageError
from teecert.probe.remote import default_host_cmd, spawn
from teecert.profile import load_profile
from teecert.report import keys
from teecert.vectors.store import load_set

from conftest import CliResult, no_traceback, teecert_cli
from probezoo import build_faulty_probe, build_late_probe

WRONG_AFTER = "TEECERT_ZOO_WRONG_AFTER"


@pytest.fixture(scope="session")
def certified(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"report", "key", "pub", "probe"}`` of one CERTIFIED report, shared by the
    xdist workers (the first to take the lock makes it)."""
    base = tmp_path_factory.getbasetemp()
    # under xdist each worker has a folder of its own in the session's one
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "watch-certified"
    shared.mkdir(exist_ok=True)
    key, pub = shared / "run-key.pem", shared / "run-key.pem.pub"
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        reports = sorted(shared.glob("out/teecert-report-*.json"))
        probe = build_late_probe("wrong_after")
        if not reports:
            if not key.exists():
                keys.write_public(pub, keys.generate(key).public_key())
            doc = dict(load_profile("development").data)
            doc.update(id="test-watch", stream_scale=6)
            doc["suites"] = {k: v for k, v in doc["suites"].items() if k != "libm"}
            # glibc's exp changes with FMA masked (a failure in every profile,
            # tests/certify/test_libm_suite.py); these runs are about watching
            doc["stress"] = {**doc["stress"], "perturbations": [
                p for p in doc["stress"]["perturbations"] if p != "glibc_tunables"]}
            profile = shared / "profile.json"
            profile.write_text(json.dumps(doc, indent=1))
            env = {k: v for k, v in os.environ.items() if k != WRONG_AFTER}
            res = teecert_cli(["run", "--probe", str(probe), "--profile", str(profile), "--key", str(key),
                               "--out", str(shared / "out")], env=env, timeout=600)
            assert res.code == 0, res.out[-2000:] + res.err[-2000:]
            reports = sorted(shared.glob("out/teecert-report-*.json"))
    return {"report": reports[0], "key": key, "pub": pub, "probe": probe}


def watch(certified: dict[str, Path], *args: str, env: dict[str, str] | None = None) -> CliResult:
    res = teecert_cli(["watch", "--report", str(certified["report"]), "--trust", str(certified["pub"]), *args],
                      env={WRONG_AFTER: "", **(env or {})}, timeout=300)
    assert no_traceback(res.out + res.err), res.err
    return res


class FakeClock:
    """A clock that only the watch's sleep moves on: a day of cycles in fast time."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def make_watcher(certified: dict[str, Path], tmp_path: Path, *, statement: dict[str, Any] | None = None,
                 **kw: Any) -> tuple[Watcher, FakeClock, HeartbeatLog]:
    loaded, digest, notes = load_report(certified["report"], str(certified["pub"]))
    clock = FakeClock()
    log = HeartbeatLog(tmp_path / "watch.log", keys.load_private(certified["key"]))
    config = kw.pop("config", None) or WatchConfig()
    watcher = Watcher(statement or loaded, config, report_digest=digest, report_path=str(certified["report"]),
                      clock=clock, log=log, notes=notes, **kw)
    return watcher, clock, log


# -- the command, as a validator runs it ----------------------------------------------------


def test_once_on_the_certified_report_finds_no_drift(certified: dict[str, Path], tmp_path: Path) -> None:
    log, prom = tmp_path / "watch.log", tmp_path / "teecert_watch.prom"
    res = watch(certified, "--once", "--log", str(log), "--key", str(certified["key"]), "--textfile", str(prom))
    assert res.code == 0, res.out + res.err
    first = res.out.splitlines()[0]
    assert " ok: canary " in first and "fingerprint matches" in first and "attestation n/a" in first
    text = prom.read_text()
    assert 'teecert_watch_cycles_total{outcome="ok"} 1.0' in text
    assert "teecert_watch_drift 0.0" in text and "teecert_watch_identity_match 1.0" in text
    ver = teecert_cli(["watch", "verify", str(log), "--trust", str(certified["pub"])])
    assert ver.code == 0 and "1 records, chain and signatures verified" in ver.out, ver.out + ver.err


def test_glibc_tunables_is_drift_in_the_variables_field(certified: dict[str, Path], tmp_path: Path) -> None:
    seen = tmp_path / "hook.env"
    res = watch(certified, "--once", "--hook", f"env | grep '^TEECERT_WATCH_' > {seen}",
                env={"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA"})
    assert res.code == 1, res.out + res.err
    assert "DRIFT" in res.out.splitlines()[0]
    assert ("fingerprint variables.GLIBC_TUNABLES: unset -> 'glibc.cpu.hwcaps=-AVX2,-FMA'") in res.out
    told = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    assert told["TEECERT_WATCH_EVENT"] == "drift"
    assert told["TEECERT_WATCH_FIELDS"] == "variables.GLIBC_TUNABLES"
    assert told["TEECERT_WATCH_KINDS"] == "fingerprint"


def test_a_probe_that_breaks_after_n_calls_is_named_by_op_and_vector(certified: dict[str, Path]) -> None:
    # six slices of about twenty chunks: the fourth call of the cycle is a canary chunk
    res = watch(certified, "--once", "--cover", "1h", env={WRONG_AFTER: "3"})
    assert res.code == 1, res.out + res.err
    lines = [ln for ln in res.out.splitlines() if ln.startswith("  canary: ")]
    assert lines, res.out
    # the probe gets the result at index 7 of each call wrong: vector 7 of the canary's chunk
    m = re.search(r"canary: (\S+): chunk (\d+) of (\d+) \(vectors (\d+)\.\.\d+\) no longer gives the root .* "
                  r"first differing vector (\d+): \1\(", lines[0])
    assert m and int(m[2]) < int(m[3]) and int(m[5]) == int(m[4]) + 7, lines[0]


def test_the_cycle_in_which_the_probe_breaks_catches_it(certified: dict[str, Path], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WRONG_AFTER, raising=False)
    watcher, clock, log = make_watcher(certified, tmp_path, config=WatchConfig(cover=3600))
    outcomes: list[CycleResult] = []
    watcher.run(cycles=2, sleep=clock.sleep, on_cycle=outcomes.append)
    monkeypatch.setenv(WRONG_AFTER, "3")  # the next probe host breaks after three calls
    watcher.run(cycles=1, sleep=clock.sleep, on_cycle=outcomes.append)
    log.close()
    assert [r.outcome for r in outcomes] == ["ok", "ok", "drift"]
    found = [d for d in outcomes[-1].drift if d.kind == "canary"]
    # vector 7 of a chunk (8,192 vectors for a data op, 65,536 for a float op)
    assert found and found[0].detail["index"] % 8192 == 7 and found[0].detail["op"] == found[0].field
    fpenv = [d for d in outcomes[-1].drift if d.kind == "fpenv" and d.detail.get("tcId")]
    assert fpenv and f"first tcId {fpenv[0].detail['tcId']}: {fpenv[0].field}(" in fpenv[0].message
    assert outcomes[0].canary["slice"] != outcomes[1].canary["slice"]
    assert verify_log(tmp_path / "watch.log", {keys.keyid(k): k for k in
                                               [keys.load_private(certified["key"]).public_key()]}).records == 3


def test_a_crashing_probe_is_a_fault_and_the_next_cycle_starts_afresh(certified: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    segv = build_faulty_probe("run_segv")  # f64.div.rne segfaults: the fpenv tests run it
    hosts = [default_host_cmd(segv), default_host_cmd(certified["probe"])]
    opened: list[Any] = []

    def opener() -> Any:
        opened.append(spawn(hosts[min(len(opened), 1)], 30.0))
        return opened[-1]

    watcher, clock, log = make_watcher(certified, tmp_path, opener=opener)
    results: list[CycleResult] = []
    watcher.run(cycles=2, sleep=clock.sleep, on_cycle=results.append)
    log.close()
    assert [r.outcome for r in results] == ["fault", "ok"]
    assert "SIGSEGV" in (results[0].fault or "") and "f64.div.rne" in (results[0].fault or "")
    assert any(d.field == "probe.digest" for d in results[0].drift)  # found before the fault, kept
    summary = verify_log(tmp_path / "watch.log", None)
    assert summary.records == 2 and summary.outcomes == {"fault": 1, "ok": 1}


def test_once_exits_3_for_a_probe_fault(certified: dict[str, Path]) -> None:
    res = watch(certified, "--once", "--probe", str(build_faulty_probe("hang_after")), "--probe-timeout", "2")
    assert res.code == 3, res.out + res.err
    assert "PROBE FAULT" in res.out and "timed out after 2 s during f64.div.rne" in res.out


def test_metrics_are_scraped_over_http(certified: dict[str, Path], tmp_path: Path) -> None:
    metrics = WatchMetrics()
    port = metrics.serve(0)
    try:
        watcher, _clock, log = make_watcher(certified, tmp_path, metrics=metrics)
        assert watcher.cycle().outcome == "ok"
        log.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as r:
            text = r.read().decode()
    finally:
        metrics.close()
    assert 'teecert_watch_cycles_total{outcome="ok"} 1.0' in text
    assert 'teecert_watch_attestation{state="n/a"} 1.0' in text
    assert 'teecert_watch_drift_items{kind="canary"} 0.0' in text
    assert "teecert_watch_log_records 1.0" in text
    days = float(re.search(r"^teecert_watch_report_expiry_days (\S+)$", text, re.M).group(1))  # type: ignore[union-attr]
    assert 29 < days <= 30
    assert re.search(r'^teecert_watch_report_info\{.*report_id="[0-9a-f-]{36}"', text, re.M)


def test_a_simulated_day_covers_the_streams_in_constant_memory(certified: dict[str, Path],
                                                              tmp_path: Path) -> None:
    """A short day in fast time, over the float streams (the data ops' inputs are
    generated in Python, slow under tracemalloc): two rounds of four slices, each
    cycle's allocation peak against its twin's.  benchmarks/bench_watch.py does the
    full day."""
    statement, _d, _n = load_report(certified["report"], str(certified["pub"]))
    pred = statement["predicate"]
    rows = [r for r in pred["results"] if r["kind"] != "stream" or r["suite"] == "ieee754"]
    statement = {**statement, "predicate": {**pred, "results": rows}}
    watcher, clock, log = make_watcher(certified, tmp_path, statement=statement,
                                       config=WatchConfig(interval=600, cover=4 * 600))
    peaks: list[tuple[int, int]] = []
    covered: set[int] = set()

    def on_cycle(result: CycleResult) -> None:
        assert result.outcome == "ok", result.drift[:1] or result.fault
        covered.update(watcher.plan.slices[result.canary["slice"]])
        peaks.append((result.canary["slice"], tracemalloc.get_traced_memory()[1]))
        tracemalloc.reset_peak()

    tracemalloc.start()
    try:
        watcher.run(cycles=8, sleep=clock.sleep, on_cycle=on_cycle)
    finally:
        tracemalloc.stop()
        log.close()
    assert len(covered) == len(watcher.plan.units) == 75
    assert [s for s, _ in peaks[:4]] == [s for s, _ in peaks[4:]]
    for (_s, before), (_t, after) in list(zip(peaks[:4], peaks[4:], strict=True))[1:]:
        assert after <= before * 1.10 + 256 * 1024, peaks
    assert verify_log(tmp_path / "watch.log", None).records == 8


def test_a_long_running_watch_serves_metrics_and_stops_cleanly(certified: dict[str, Path],
                                                               tmp_path: Path) -> None:
    """Without --once: the metrics over HTTP from the command itself, then SIGTERM while
    it waits for the next cycle ends it with 143 and a log of whole records."""
    log = tmp_path / "watch.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "teecert", "watch", "--report", str(certified["report"]), "--trust",
         str(certified["pub"]), "--interval", "1h", "--metrics-port", "0", "--log", str(log), "--key",
         str(certified["key"])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, WRONG_AFTER: ""})
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []], daemon=True).start()
    try:
        announced = lines.get(timeout=240)
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/metrics", announced).group(1))  # type: ignore[union-attr]
        cycle = lines.get(timeout=240)
        assert " ok: " in cycle, cycle
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as r:
            assert 'teecert_watch_cycles_total{outcome="ok"} 1.0' in r.read().decode()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 143, proc.stderr.read() if proc.stderr else ""
    assert verify_log(log, None).records == 1


def test_bad_input_is_one_line_and_exit_2(certified: dict[str, Path], tmp_path: Path) -> None:
    env = json.loads(certified["report"].read_text())
    payload = bytearray(base64.b64decode(env["payload"]))
    payload[payload.index(b'"seed":"') + 8] ^= 1  # one digit of the seed
    env["payload"] = base64.b64encode(bytes(payload)).decode()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(env))
    for args in (["--report", str(forged), "--once"], ["--once"], ["--report", str(certified["report"]),
                                                                   "--interval", "soon"]):
        res = teecert_cli(["watch", *args])
        assert res.code == 2 and no_traceback(res.err), res.err
        assert len(res.err.strip().splitlines()) == 1, res.err


# -- the heartbeat log ----------------------------------------------------------------------


def _log(tmp_path: Path, n: int) -> tuple[Path, Any]:
    key = keys.generate(tmp_path / "k.pem")
    path = tmp_path / "hb.log"
    with HeartbeatLog(path, key) as log:
        for i in range(n):
            log.append({"event": "cycle", "time": f"2026-12-02T00:{i:02d}:00Z", "outcome": "ok", "drift": []})
    return path, key


def _trust(key: Any) -> dict[str, Any]:
    return {keys.keyid(key.public_key()): key.public_key()}


def test_verify_accepts_a_good_log_and_names_each_kind_of_damage(tmp_path: Path) -> None:
    path, key = _log(tmp_path, 5)
    good = path.read_bytes()
    assert verify_log(path, _trust(key)).records == 5
    lines = good.splitlines(keepends=True)

    path.write_bytes(b"".join([*lines[:2], lines[2].replace(b'"outcome":"ok"', b'"outcome":"drift"'), *lines[3:]]))
    with pytest.raises(NotAuthentic, match=r"line 3: the signature does not verify"):
        verify_log(path, _trust(key))
    path.write_bytes(b"".join([*lines[:2], *lines[3:]]))
    with pytest.raises(NotAuthentic, match=r"line 3: record number 3, expected 2"):
        verify_log(path, _trust(key))
    path.write_bytes(good[:-20])
    with pytest.raises(NotAuthentic, match=r"line 5: torn record"):
        verify_log(path, _trust(key))
    other = keys.generate(tmp_path / "other.pem")
    path.write_bytes(good)
    with pytest.raises(NotAuthentic, match=r"line 1: signed by key [0-9a-f]{16}, which --trust does not name"):
        verify_log(path, _trust(other))

    for damage, where in ((b"".join([*lines[:2], *lines[3:]]), "line 3"), (good[:-20], "line 5: torn")):
        path.write_bytes(damage)
        res = teecert_cli(["watch", "verify", str(path), "--trust", str(_pub(tmp_path, key))])
        assert res.code == 2 and where in res.err and no_traceback(res.err), res.err
    path.write_bytes(good)
    res = teecert_cli(["watch", "verify", str(path)])
    assert res.code == 0 and "5 records" in res.out and "not pinned" in res.out, res.out + res.err


def _pub(tmp_path: Path, key: Any) -> Path:
    return keys.write_public(tmp_path / "trusted.pub", key.public_key())


def test_a_torn_last_record_is_cut_off_and_the_chain_goes_on(tmp_path: Path) -> None:
    path, key = _log(tmp_path, 3)
    whole = path.stat().st_size
    torn = b'{"event":"cycle","format":"teecert-watch-log/1","seq":3,"pr'  # a crash mid-write
    with open(path, "ab") as f:
        f.write(torn)
    with HeartbeatLog(path, key) as log:
        assert log.torn_bytes == len(torn) and path.stat().st_size == whole
        assert log.recovered and "torn last record" in log.recovered and log.seq == 3
        log.append({"event": "cycle", "time": "2026-12-02T01:00:00Z", "outcome": "ok", "drift": []})
    assert verify_log(path, _trust(key)).records == 4


def test_one_log_one_writer_one_key(tmp_path: Path) -> None:
    path, key = _log(tmp_path, 1)
    with HeartbeatLog(path, key), pytest.raises(UsageError, match="in use by another teecert watch"):
        HeartbeatLog(path, key)
    with pytest.raises(UsageError, match="signed by key"):
        HeartbeatLog(path, keys.generate(tmp_path / "other.pem"))


# -- the parts ------------------------------------------------------------------------------


def test_durations() -> None:
    assert [parse_duration(t, "--interval") for t in ("600", "10m", "1.5h", "1d", "45s")] == \
        [600, 600, 5400, 86400, 45]
    for bad in ("", "10x", "-5m", "0", "m"):
        with pytest.raises(UsageError, match="--interval"):
            parse_duration(bad, "--interval")


def test_the_plan_checks_every_certified_chunk_once_per_period() -> None:
    vs = load_set()
    streams = vs.streams()
    rows = [{"id": f"t[{op}]", "kind": "stream", "op": op, "vectors": st.count,
             "root": st.root.hex()} for op, st in sorted(streams.items()) if st.op.kind != "libm"]
    libm = next(op for op, st in sorted(streams.items()) if st.op.kind == "libm" and st.chunks == 2)
    rows.append({"id": f"t[{libm}]", "kind": "stream", "op": libm, "vectors": streams[libm].count,
                 "root": "ab" * 32})  # not the golden root: checked whole
    plan = canary.build_plan(rows, streams, interval=600, cover=86400)
    assert len(plan.slices) == 144
    dealt = sorted(i for s in plan.slices for i in s)
    assert dealt == list(range(len(plan.units)))
    whole = [u for u in plan.units if u.chunk is None]
    assert [(u.op_id, u.chunks) for u in whole] == [(libm, 2)]
    assert plan.chunk_units == sum(streams[r["op"]].chunks for r in rows[:-1])
    t0 = 1_800_000_000 - 1_800_000_000 % 600
    assert [plan.slice_at(t0 + 600 * k, 600) for k in range(145)] == \
        [(t0 // 600 + k) % 144 for k in range(145)]


def test_expiry_is_drift_within_the_warning() -> None:
    now = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    week = dt.timedelta(days=7)
    summary, drift = checks.check_expiry(not_after="2026-12-30T00:00:00Z", evidence_until=None, now=now,
                                         warning=week)
    assert not drift and summary["report_seconds"] == 28 * 86400 and summary["evidence_seconds"] is None
    _s, drift = checks.check_expiry(not_after="2026-12-07T12:00:00Z", evidence_until=now + dt.timedelta(days=2),
                                    now=now, warning=week)
    assert [d.field for d in drift] == ["report.not_after", "evidence"]
    assert "expires in 5.5 days" in drift[0].message and "in 2.0 days" in drift[1].message
    _s, drift = checks.check_expiry(not_after="2026-11-30T00:00:00Z", evidence_until=None, now=now, warning=week)
    assert "expired 2.0 days ago" in drift[0].message


class _SimProbe:
    """A probe whose TEE is the simulated one, for the attestation check alone (a
    watch never simulates evidence itself: the probe's attest call gives it)."""

    def __init__(self, now: dt.datetime, *, other_data: bool = False, unsupported: bool = False) -> None:
        self.now, self.other_data, self.unsupported = now, other_data, unsupported

    def attest(self, rd: bytes) -> tuple[str, bytes]:
        if self.unsupported:
            raise UnsupportedOp("probe: reaches no attestation technology")
        data = bytes(64) if self.other_data else rd
        return "sim", sim.make(data, measurement=bytes(48), now=self.now, days=30)


def _attest(probe: Any, now: dt.datetime, recorded: dict[str, Any] | None = None,
            cache: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[Drift], Any]:
    policy = run_evidence.profile_policy(load_profile("development").data, "development")
    return checks.check_attestation(probe, recorded=recorded, policy=policy, now=now, nonce=bytes(32),
                                    report_digest=bytes(32), collateral=None,
                                    expiry_cache={} if cache is None else cache)


def test_fresh_evidence_is_verified_now_and_its_expiry_found() -> None:
    now = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)
    summary, drift, until = _attest(_SimProbe(now), now)
    assert summary["status"] == "ok" and not drift
    assert until is not None and dt.timedelta(days=29, hours=23) <= until - now <= dt.timedelta(days=30)
    assert "expired" in summary["expires"]
    summary, drift, _u = _attest(_SimProbe(now, other_data=True), now)
    assert summary["status"] == "failed" and [d.field for d in drift] == ["binding"]
    summary, drift, _u = _attest(_SimProbe(now, unsupported=True), now)
    assert summary["status"] == "n/a" and not drift
    real = {"source": "probe", "format": "snp", "verified": {"tcb": {"snp": 8}}}
    _s, drift, _u = _attest(_SimProbe(now, unsupported=True), now, real)
    assert [d.field for d in drift] == ["format"] and "now reaches no TEE" in drift[0].message


def test_tcb_drift_names_the_component() -> None:
    drift = checks._tcb_drift({"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115},
                              {"bootloader": 3, "tee": 0, "snp": 7, "microcode": 209})
    assert [(d.field, d.message) for d in drift] == [
        ("tcb.microcode", "TCB component microcode changed from 115 to 209 (a TCB update: re-certify)"),
        ("tcb.snp", "TCB component snp fell from 8 to 7")]
    assert checks._tcb_drift({"snp": 8}, {})[0].message == "TCB component snp fell out of the evidence (was 8)"


def test_fingerprint_fields_are_named() -> None:
    before = {"libc": "glibc 2.36", "microcode": "0xa0011d1", "cpu_flags": ["fma", "avx2", "sse2"],
              "variables": {"LANG": "C.UTF-8"}, "process": {"name": "a"}, "probe_digest": "1"}
    after = {"libc": "glibc 2.37", "microcode": "0xa0011d5", "cpu_flags": ["sse2", "fma"],
             "variables": {"LANG": "C.UTF-8", "TZ": "UTC"}, "process": {"name": "b"}, "probe_digest": "2"}
    summary, drift = checks.compare_fingerprint(before, after, recorded_digest="x")
    by = {d.field: d for d in drift}
    assert sorted(by) == ["cpu_flags", "libc", "microcode", "variables.TZ"]
    assert by["cpu_flags"].message.startswith("fingerprint cpu_flags: -avx2")
    assert "part of the platform identity" in by["libc"].message
    assert by["variables.TZ"].message == "fingerprint variables.TZ: unset -> 'UTC'"
    assert summary["identity_matches"] is False


def test_the_hook_is_told_and_bounded(certified: dict[str, Path], tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    config = WatchConfig(hook=f"echo \"$TEECERT_WATCH_OPS|$TEECERT_WATCH_SEQ\" >> {seen}; exit 4",
                         hook_timeout=30)
    watcher, _clock, log = make_watcher(certified, tmp_path, config=config)
    result = CycleResult(time="2026-12-02T00:00:00Z", seq=7,
                         drift=[Drift("canary", "f64.div.rne", "m", {"op": "f64.div.rne"})])
    assert watcher.run_hook(result) == "hook exited with status 4"
    assert seen.read_text() == "f64.div.rne|7\n"
    watcher.config.hook, watcher.config.hook_timeout = "sleep 30", 0.5
    assert "did not finish within 0.5 s" in (watcher.run_hook(result) or "")
    log.close()


def test_summary_and_record_of_a_fault() -> None:
    from teecert.certify.watch.watcher import drift_lines, summary_line

    result = CycleResult(time="2026-12-02T00:00:00Z", fault="probe crashed\nagain",
                         drift=[Drift("probe", "probe.digest", "changed")])
    assert summary_line(result).startswith("2026-12-02T00:00:00Z PROBE FAULT: ")
    assert drift_lines(result) == ["  fault: probe crashed\nagain", "  probe: changed"]
    record = result.as_record()
    assert record["fault"] == "probe crashed again" and record["outcome"] == "fault"

