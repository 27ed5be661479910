"""What one cycle of ``teecert watch`` found: drift items and the cycle's summary.

Every value here is JSON-ready and float-free, because a cycle becomes one signed
record of the heartbeat log (canonical JSON, like the reports): durations are
integer milliseconds, ages integer seconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

#: The kinds of drift, in the order a cycle looks for them.
KINDS = ("fingerprint", "probe", "canary", "fpenv", "attestation", "expiry")

#: Longest message a drift item or a fault keeps: a record stays small however a
#: probe or a verifier words its errors.
MAX_MESSAGE = 500

#: Most drift items one record carries (the rest are counted): bounded records,
#: whatever breaks at once.
MAX_ITEMS = 64


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 3] + "..."


@dataclass(frozen=True)
class Drift:
    """One difference between the machine now and what the report certified.

    ``kind`` is one of :data:`KINDS`; ``field`` names what changed as precisely as
    it can be named (``variables.GLIBC_TUNABLES``, ``f64.div.rne``, ``tcb.snp``,
    ``report.not_after``); ``message`` is the one line a person reads; ``detail``
    carries the machine-readable facts (JSON, no floats)."""

    kind: str
    field: str
    message: str
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        return {"kind": self.kind, "field": clip(self.field, 200), "message": clip(self.message),
                **({"detail": self.detail} if self.detail else {})}


@dataclass
class CycleResult:
    """Everything one cycle established; ``outcome`` is ``ok``, ``drift`` or ``fault``."""

    time: str
    drift: list[Drift] = dataclasses.field(default_factory=list)
    fault: str | None = None
    #: per part of the cycle, what it checked (JSON-ready summaries)
    canary: dict[str, Any] = dataclasses.field(default_factory=dict)
    fpenv: dict[str, Any] = dataclasses.field(default_factory=dict)
    fingerprint: dict[str, Any] = dataclasses.field(default_factory=dict)
    probe: dict[str, Any] = dataclasses.field(default_factory=dict)
    attestation: dict[str, Any] = dataclasses.field(default_factory=dict)
    expiry: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: CPU time of this cycle, ms: the watch process, and the probe host child
    #: (None when the host is not a child of this process)
    cpu_ms: int = 0
    probe_cpu_ms: int | None = None
    wall_ms: int = 0
    #: sequence number of the heartbeat record written for it (None: no log)
    seq: int | None = None
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.fault is not None:
            return "fault"
        return "drift" if self.drift else "ok"

    def kinds(self) -> list[str]:
        return [k for k in KINDS if any(d.kind == k for d in self.drift)]

    def signature(self) -> tuple[tuple[str, str], ...]:
        """What changed, without the wording: two cycles that found the same drift
        have the same signature (the hook runs when it changes)."""
        return tuple(sorted({(d.kind, d.field) for d in self.drift})) + (
            (("fault", ""),) if self.fault is not None else ())

    def as_record(self) -> dict[str, Any]:
        """The body of the cycle's heartbeat record (without chain and signature)."""
        items = [d.as_record() for d in self.drift[:MAX_ITEMS]]
        return {
            "event": "cycle",
            "time": self.time,
            "outcome": self.outcome,
            "drift": items,
            "drift_omitted": max(0, len(self.drift) - MAX_ITEMS),
            "fault": None if self.fault is None else clip(self.fault),
            "canary": self.canary,
            "fpenv": self.fpenv,
            "fingerprint": self.fingerprint,
            "probe": self.probe,
            "attestation": self.attestation,
            "expiry": self.expiry,
            "cpu_ms": {"watch": self.cpu_ms, "probe_host": self.probe_cpu_ms},
            "wall_ms": self.wall_ms,
            "notes": [clip(n) for n in self.notes[:16]],
        }
