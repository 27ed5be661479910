"""One watch: the report it holds the machine to, and its cycles.

A cycle starts a fresh probe host (a child process serving the probe library, or a
new connection to ``--probe-url``), so that the facts the host reports in its
handshake are the machine's as they are now (a microcode or kernel update, a changed
variable), the library is hashed again, and a host that crashed or hung in the last
cycle is simply not there any more.  Then, in order: the probe's digest and the
fingerprint, the canary slice, the FP state, fresh attestation evidence; expiry
last, which needs no probe.  A ``ProbeError`` at any step (a crash, a call that
overran ``--probe-timeout``, a malformed answer) ends the probe part of the cycle as
a *fault*; what was found before it is kept.  The cycle's record is appended to the
heartbeat log, the metrics are set, and the hook runs when what drifted changed.

Memory does not grow with the number of cycles: a watch holds its plan (one small
entry per canary unit, about 1,200 for a full development report), the report's
facts, the explicit vectors of the fpenv tests and the metrics' bounded label sets;
each cycle's result is dropped once logged.  ``benchmarks/bench_watch.py`` measures
it over a simulated day.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from ..._internal import canonical
from ..._internal.timefmt import format_time
from ..._internal.version import __version__
from ...attestation import run_evidence
from ...errors import ProbeError, UsageError
from ...probe import hostkey
from ...probe.remote import connect, default_host_cmd, spawn
from ...vectors.store import VectorSet, load_set
from . import canary, checks
from .heartbeat import MAX_RECORD, HeartbeatLog
from .metrics import WatchMetrics
from .model import CycleResult, Drift, clip

DEFAULT_INTERVAL = 600.0
DEFAULT_COVER = 86400.0
#: Longest a hook may run before it is ended (with what it started).
HOOK_TIMEOUT = 60.0
#: Notes carried into the next record at most (start notes, hook failures).
MAX_NOTES = 16


@dataclass
class WatchConfig:
    """How to watch: the probe to reach, the pace, and where the findings go."""

    interval: float = DEFAULT_INTERVAL
    #: the period in which the canary checks every certified chunk once
    cover: float = DEFAULT_COVER
    probe_path: Path | None = None
    probe_cmd: str | None = None
    probe_url: str | None = None
    probe_timeout: float = 30.0
    token_file: Path | None = None
    #: collateral to verify fresh evidence with (else the report's)
    collateral: bytes | None = None
    expiry_warning: _dt.timedelta = field(default_factory=lambda: _dt.timedelta(days=7))
    hook: str | None = None
    hook_timeout: float = HOOK_TIMEOUT
    textfile: Path | None = None

    def __post_init__(self) -> None:
        if not self.interval > 0:
            raise UsageError(f"--interval must be positive, not {self.interval:g} s")
        if not self.cover > 0:
            raise UsageError(f"--cover must be positive, not {self.cover:g} s")
        if not self.probe_timeout > 0:
            raise UsageError(f"--probe-timeout must be positive, not {self.probe_timeout:g} s")
        if sum(x is not None for x in (self.probe_path, self.probe_cmd, self.probe_url)) > 1:
            raise UsageError("give one of --probe, --probe-cmd and --probe-url")


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


class Watcher:
    """Watches the machine against one verified report (its statement)."""

    def __init__(self, statement: Mapping[str, Any], config: WatchConfig, *, report_digest: bytes,
                 report_path: str, vector_set: VectorSet | None = None,
                 clock: Callable[[], _dt.datetime] = _utcnow,
                 log: HeartbeatLog | None = None, metrics: WatchMetrics | None = None,
                 opener: Callable[[], Any] | None = None,
                 nonce: Callable[[int], bytes] = os.urandom,
                 notes: list[str] | None = None) -> None:
        self.config = config
        self.clock = clock
        self.log = log
        self.metrics = metrics
        self._nonce = nonce
        pred = statement["predicate"]
        self._pred = pred
        self.report_digest = report_digest
        self.report_ref = {"id": pred["run"]["id"], "sha256": report_digest.hex(), "path": clip(report_path, 300)}
        vs = vector_set or load_set()
        if vs.digest != pred["vector_set"]["digest"]:
            raise UsageError(f"{report_path}: made with vector set {pred['vector_set']['digest'][:16]}, this "
                             f"teecert ships {vs.digest[:16]}: watch it with the teecert that made it")
        streams = vs.streams()
        self.plan = canary.build_plan(pred["results"], streams, interval=config.interval, cover=config.cover)
        self.streams = {u.op_id: streams[u.op_id] for u in self.plan.units}
        self.fpenv_cases, fpenv_notes = checks.fpenv_cases(pred["results"], vs)
        self.policy = run_evidence.profile_policy(pred["profile"]["document"], f"{report_path}: profile")
        self._expiry_cache: dict[str, Any] = {}
        self._last_signature: tuple[tuple[str, str], ...] = ()
        self.opener = opener or self._default_opener(report_path)
        self._notes = [
            f"watch started: teecert {__version__}, interval {config.interval:g} s, "
            f"{len(self.plan.units)} canary units ({self.plan.chunk_units} chunks checked by audit path) "
            f"in {len(self.plan.slices)} slices, {len(self.fpenv_cases)} fpenv tests",
            *(notes or []), *self.plan.notes, *fpenv_notes]
        if log is not None and log.recovered:
            self._notes.append(log.recovered)
        if metrics is not None:
            metrics.describe_report({
                "report_id": str(pred["run"]["id"]), "report_sha256": report_digest.hex(),
                "profile": str(pred["profile"]["id"]), "environment_digest": str(pred["environment"]["digest"]),
                "probe_digest": str(pred["probe"]["digest"]), "not_after": str(pred["validity"]["not_after"]),
                "teecert_version": __version__})
            if log is not None:
                metrics.records.set(log.seq)

    # ------------------------------------------------------------------ probe

    def _default_opener(self, report_path: str) -> Callable[[], Any]:
        cfg = self.config
        token = hostkey.load_token(cfg.token_file) if cfg.token_file is not None else None
        if cfg.probe_url:
            url = cfg.probe_url
            return lambda: connect(url, cfg.probe_timeout, token=token)
        if cfg.probe_cmd:
            argv = shlex.split(cfg.probe_cmd)
            if not argv:
                raise UsageError("--probe-cmd is empty")
            return lambda: spawn(argv, cfg.probe_timeout, token=token)
        path = cfg.probe_path
        if path is not None and not path.is_file():
            raise UsageError(f"--probe {path}: no such file")
        if path is None:
            if self._pred["run"]["transport"] in ("tcp", "unix", "vsock"):
                raise UsageError(f"{report_path}: its probe was reached at a probe host URL; pass --probe-url")
            path = Path(self._pred["probe"]["path"])
            if not path.is_file():
                raise UsageError(f"{report_path}: its probe {path} is not here; pass --probe LIB "
                                 "(or --probe-cmd, --probe-url)")
        argv = default_host_cmd(path)
        return lambda: spawn(argv, cfg.probe_timeout, token=token)

    @staticmethod
    def _probe_cpu_ms(probe: Any) -> int | None:
        pid = getattr(probe, "child_pid", None)
        if pid is None:
            return None
        try:
            t = psutil.Process(pid).cpu_times()
        except (psutil.Error, OSError):
            return None
        return int((t.user + t.system) * 1000)

    # ------------------------------------------------------------------ cycle

    def cycle(self) -> CycleResult:
        """Run one cycle; log it, set the metrics, run the hook.  Returns its result."""
        wall0, cpu0 = time.monotonic(), time.process_time()
        now = self.clock()
        result = CycleResult(time=format_time(now), attestation={"status": "unknown"})
        result.notes, self._notes = self._notes[:MAX_NOTES], []
        pred = self._pred
        evidence_until = None
        probe: Any = None
        step = "starting the probe"
        try:
            probe = self.opener()
            step = "fingerprint"
            result.probe, drift = checks.compare_probe(probe, pred)
            result.drift += drift
            fp = checks.current_fingerprint(probe, pred)
            result.fingerprint, drift = checks.compare_fingerprint(
                pred["environment"]["fingerprint"], fp, recorded_digest=pred["environment"]["digest"])
            result.drift += drift
            step = "canary"
            index = self.plan.slice_at(now.timestamp(), self.config.interval)
            result.canary, drift = canary.check_slice(probe, self.plan, index, self.streams)
            result.drift += drift
            step = "FP state"
            result.fpenv, drift = checks.check_fpenv(probe, self.fpenv_cases,
                                                     pred["probe"].get("characterization"))
            result.drift += drift
            step = "attestation"
            result.attestation, drift, evidence_until = checks.check_attestation(
                probe, recorded=pred.get("attestation"), policy=self.policy, now=now,
                nonce=self._nonce(32), report_digest=self.report_digest,
                collateral=self.config.collateral, expiry_cache=self._expiry_cache)
            result.drift += drift
        except ProbeError as exc:
            result.fault = f"probe fault during {step}: {exc}"
        finally:
            if probe is not None:
                result.probe_cpu_ms = self._probe_cpu_ms(probe)
                close = getattr(probe, "close", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        close()
        result.expiry, drift = checks.check_expiry(
            not_after=pred["validity"]["not_after"], evidence_until=evidence_until, now=now,
            warning=self.config.expiry_warning)
        result.drift += drift
        result.cpu_ms = int((time.process_time() - cpu0) * 1000)
        result.wall_ms = int((time.monotonic() - wall0) * 1000)
        if self.log is not None:
            body = {**result.as_record(), "report": self.report_ref}
            if len(canonical.dumps(body)) > MAX_RECORD // 2:
                # Details are for machines; the messages say it all: never lose a record.
                body["drift"] = [{k: v for k, v in d.items() if k != "detail"} for d in body["drift"]]
            result.seq = self.log.append(body)
        if self.metrics is not None:
            self.metrics.update(result, now.timestamp(), self.log.seq if self.log is not None else None)
            if self.config.textfile is not None:
                self.metrics.write_textfile(self.config.textfile)
        signature = result.signature()
        if result.outcome != "ok" and self.config.hook and signature != self._last_signature:
            failed = self.run_hook(result)
            if failed:
                self._notes.append(failed)
                if self.metrics is not None:
                    self.metrics.hook_failures.inc()
        self._last_signature = signature
        return result

    def run(self, cycles: int | None = None, sleep: Callable[[float], object] = time.sleep,
            on_cycle: Callable[[CycleResult], object] | None = None) -> CycleResult | None:
        """Cycles until ``cycles`` have run (None: for ever), each at the next multiple
        of the interval (by the clock), so consecutive cycles check consecutive slices."""
        done = 0
        last = None
        while cycles is None or done < cycles:
            last = self.cycle()
            done += 1
            if on_cycle is not None:
                on_cycle(last)
            if cycles is not None and done >= cycles:
                break
            now = self.clock().timestamp()
            sleep(self.config.interval - now % self.config.interval)
        return last

    # ------------------------------------------------------------------ hook

    def hook_environment(self, result: CycleResult) -> dict[str, str]:
        """What the hook is told, in ``TEECERT_WATCH_*`` variables."""
        def clean(text: str) -> str:
            return text.replace("\0", "")

        fields = [d.field for d in result.drift if d.kind == "fingerprint"]
        ops = sorted({d.field for d in result.drift if d.kind == "canary"}
                     | {d.field for d in result.drift if d.kind == "fpenv" and not d.field.startswith("characterization.")})
        return {
            "TEECERT_WATCH_EVENT": result.outcome,
            "TEECERT_WATCH_TIME": result.time,
            "TEECERT_WATCH_REPORT": clean(self.report_ref["path"]),
            "TEECERT_WATCH_REPORT_ID": str(self.report_ref["id"]),
            "TEECERT_WATCH_SUMMARY": clean(summary_line(result)),
            "TEECERT_WATCH_DRIFT": clean("\n".join(d.message for d in result.drift[:64])),
            "TEECERT_WATCH_DRIFT_JSON": clean(json.dumps([d.as_record() for d in result.drift[:64]])),
            "TEECERT_WATCH_KINDS": ",".join(result.kinds()),
            "TEECERT_WATCH_FIELDS": clean(",".join(fields)),
            "TEECERT_WATCH_OPS": ",".join(ops),
            "TEECERT_WATCH_FAULT": clean(result.fault or ""),
            "TEECERT_WATCH_SEQ": "" if result.seq is None else str(result.seq),
            "TEECERT_WATCH_LOG": "" if self.log is None else clean(str(self.log.path)),
        }

    def run_hook(self, result: CycleResult) -> str | None:
        """Run the hook (``/bin/sh -c HOOK``) for a cycle; a note when it failed."""
        assert self.config.hook is not None
        env = {**os.environ, **self.hook_environment(result)}
        try:
            proc = subprocess.Popen(["/bin/sh", "-c", self.config.hook], env=env, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        except OSError as exc:
            return f"hook could not start: {exc.strerror or exc}"
        try:
            code = proc.wait(timeout=self.config.hook_timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return f"hook did not finish within {self.config.hook_timeout:g} s and was ended"
        return None if code == 0 else f"hook exited with status {code}"


def summary_line(result: CycleResult) -> str:
    """One line on a cycle, as ``teecert watch`` prints it."""
    parts: list[str] = []
    c = result.canary
    if c:
        parts.append(f"canary {c['chunks']} chunks, {c['vectors']:,} vectors (slice {c['slice'] + 1} of {c['slices']})")
    if result.fpenv:
        parts.append(f"FP state {result.fpenv['cases']} poisoned-caller tests")
    if result.fingerprint:
        parts.append("fingerprint " + ("matches" if not result.fingerprint["fields"] else
                                       f"differs in {len(result.fingerprint['fields'])} fields"))
    status = result.attestation.get("status", "unknown")
    reason = result.attestation.get("reason")
    parts.append(f"attestation {status}" + (f" ({reason})" if reason else ""))
    seconds = result.expiry.get("report_seconds")
    if seconds is not None:
        parts.append(f"report valid {seconds / 86400:.1f} more days")
    head = {"ok": "ok", "drift": f"DRIFT ({len(result.drift)})", "fault": "PROBE FAULT"}[result.outcome]
    return f"{result.time} {head}: " + "; ".join(parts)


def drift_lines(result: CycleResult) -> list[str]:
    """The lines under the summary: the fault, then one per drift item."""
    lines = [f"  fault: {result.fault}"] if result.fault else []
    lines += [f"  {d.kind}: {d.message}" for d in result.drift]
    return lines


__all__ = ["CycleResult", "Drift", "WatchConfig", "Watcher", "drift_lines", "summary_line"]
