"""Prometheus metrics of a watch: served over HTTP (``/metrics``) or written for
node-exporter's textfile collector.

Every metric is in a registry of its own (not the process-wide default), and every
labelled one has a bounded label set: drift kinds, fingerprint field names and op
ids, only those of the last cycle (the others are removed), so a watch running for
months exports as many series as its last cycle needs.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Info, generate_latest
from prometheus_client.exposition import start_http_server

from ..._internal.atomic import write_atomic
from ...errors import UsageError
from .model import KINDS, CycleResult

#: States of the ``teecert_watch_attestation`` state set.
ATTESTATION_STATES = ("ok", "failed", "n/a", "unknown")


class WatchMetrics:
    """The metrics, updated after each cycle (:meth:`update`)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry()
        p = "teecert_watch_"
        self.info = Info(p + "report", "The report watched", registry=r)
        self.cycles = Counter(p + "cycles", "Cycles run, by outcome (ok, drift, fault)", ["outcome"], registry=r)
        for outcome in ("ok", "drift", "fault"):
            self.cycles.labels(outcome)
        self.last_time = Gauge(p + "last_cycle_timestamp_seconds", "When the last cycle ran (Unix time)",
                               registry=r)
        self.drift = Gauge(p + "drift", "1 when the last cycle found drift", registry=r)
        self.fault = Gauge(p + "probe_fault", "1 when the probe faulted in the last cycle", registry=r)
        self.drift_items = Gauge(p + "drift_items", "Drift items of the last cycle, by kind", ["kind"], registry=r)
        self.field_drift = Gauge(p + "fingerprint_field_drift",
                                 "1 for each fingerprint field that differs from the report's", ["field"],
                                 registry=r)
        self.op_diverged = Gauge(p + "op_diverged",
                                 "1 for each op whose outputs no longer match the report's roots", ["op"],
                                 registry=r)
        self.identity = Gauge(p + "identity_match",
                              "1 when the platform-environment identity digest equals the report's", registry=r)
        self.chunks = Counter(p + "canary_chunks", "Stream chunks computed and checked by the canary", registry=r)
        self.vectors = Counter(p + "canary_vectors", "Vectors computed and checked by the canary", registry=r)
        self.slice = Gauge(p + "canary_slice", "The canary slice of the last cycle", registry=r)
        self.slices = Gauge(p + "canary_slices", "Slices in one round of the canary (the coverage period)",
                            registry=r)
        self.attestation = Gauge(p + "attestation", "Fresh attestation evidence of the last cycle: 1 for its "
                                 "state (ok, failed, n/a: the probe reaches no TEE)", ["state"], registry=r)
        self.report_days = Gauge(p + "report_expiry_days", "Days until the report's not_after", registry=r)
        self.evidence_days = Gauge(p + "evidence_expiry_days",
                                   "Days until fresh evidence stops verifying (NaN: no evidence)", registry=r)
        self.cpu = Gauge(p + "cycle_cpu_seconds", "CPU time of the last cycle, by process (watch, probe_host)",
                         ["process"], registry=r)
        self.wall = Gauge(p + "cycle_duration_seconds", "Wall-clock time of the last cycle", registry=r)
        self.records = Gauge(p + "log_records", "Records in the heartbeat log", registry=r)
        self.hook_failures = Counter(p + "hook_failures", "Drift hooks that failed or timed out", registry=r)
        self._server: Any = None
        self._lock = threading.Lock()
        self.attestation_state("unknown")
        self.evidence_days.set(math.nan)

    def describe_report(self, facts: Mapping[str, str]) -> None:
        self.info.info(dict(facts))

    def attestation_state(self, state: str) -> None:
        for s in ATTESTATION_STATES:
            self.attestation.labels(s).set(1 if s == state else 0)

    def update(self, result: CycleResult, epoch_seconds: float, records: int | None) -> None:
        """Set every metric from one cycle's result."""
        with self._lock:
            self.cycles.labels(result.outcome).inc()
            self.last_time.set(epoch_seconds)
            self.drift.set(1 if result.drift else 0)
            self.fault.set(1 if result.fault is not None else 0)
            for kind in KINDS:
                self.drift_items.labels(kind).set(sum(d.kind == kind for d in result.drift))
            self.field_drift.clear()
            for d in result.drift:
                if d.kind == "fingerprint":
                    self.field_drift.labels(d.field).set(1)
            self.op_diverged.clear()
            for d in result.drift:
                if d.kind == "canary" or (d.kind == "fpenv" and not d.field.startswith("characterization.")):
                    self.op_diverged.labels(d.field).set(1)
            if "identity_matches" in result.fingerprint:
                self.identity.set(1 if result.fingerprint["identity_matches"] else 0)
            self.chunks.inc(int(result.canary.get("chunks", 0)))
            self.vectors.inc(int(result.canary.get("vectors", 0)))
            if "slice" in result.canary:
                self.slice.set(result.canary["slice"])
                self.slices.set(result.canary["slices"])
            self.attestation_state(str(result.attestation.get("status", "unknown")))
            seconds = result.expiry.get("report_seconds")
            if seconds is not None:
                self.report_days.set(seconds / 86400)
            ev = result.expiry.get("evidence_seconds")
            self.evidence_days.set(math.nan if ev is None else ev / 86400)
            self.cpu.labels("watch").set(result.cpu_ms / 1000)
            if result.probe_cpu_ms is not None:
                self.cpu.labels("probe_host").set(result.probe_cpu_ms / 1000)
            self.wall.set(result.wall_ms / 1000)
            if records is not None:
                self.records.set(records)

    def exposition(self) -> bytes:
        """The text exposition format, as ``/metrics`` serves it."""
        return bytes(generate_latest(self.registry))

    def write_textfile(self, path: str | Path) -> None:
        """Write the metrics for node-exporter's textfile collector, atomically (a
        scrape never reads half a file)."""
        write_atomic(path, self.exposition(), 0o644)

    def serve(self, port: int, addr: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` over HTTP on ``addr:port`` (0: any free port) in a daemon
        thread; returns the port."""
        try:
            server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        except OSError as exc:
            raise UsageError(f"--metrics-port {port}: cannot listen on {addr} ({exc.strerror or exc})") from None
        self._server = server
        return int(server.server_port)

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
