"""Clocks a probe can read: resolution, monotonicity and jitter, against a profile.

Consensus code inside a TEE that reads time must see a monotonic clock of bounded
resolution, and enclaves often have neither a trusted nor a fine-grained clock (SGX1
faults on ``rdtsc``, Nitro and SEV guests see a paravirtual clock).  The probe reads
each clock of ``native/probe/clocks.h`` n times in a tight loop; :func:`analyze`
turns the raw values into :class:`ClockStats` and :func:`check` holds them against
a profile's thresholds (:data:`PROFILE_SCHEMA`).  Like the ``hw.*`` ops this is
raw platform behaviour, never consensus.

Deltas are taken between consecutive samples.  Percentiles are *nearest-rank*
(the p-th percentile of N deltas is the ceil(p*N/100)-th smallest), so every
figure is one of the measured deltas and an integer: teecert reports carry no
floats.  Counter ticks are converted to nanoseconds with the frequency the
architecture reports, rounding magnitudes up so that no limit is passed by
rounding; where the frequency is unknown (the x86 TSC) the figures stay in ticks,
``unit`` says so, and a limit in nanoseconds cannot be checked against them.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cffi

from ..._internal import schema
from ...errors import ArgumentsRejected, MalformedInput, UnsupportedOp
from ...probe import build as probe_build
from ..facts.characterization import HW_OPS

#: Clock ids of clocks.h and their names.
CLOCKS: dict[int, str] = {
    0: "realtime",
    1: "monotonic",
    2: "monotonic_raw",
    3: "boottime",
    4: "process_cputime",
    5: "counter",
}

NS_PER_S = 1_000_000_000
_MAX_SAFE = 2**53 - 1

#: The rules a profile can set for one clock.
_CLOCK_RULES: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "required": {"type": "boolean", "description": "Unsupported or unmeasured fails."},
        "monotonic": {"type": "boolean", "description": "Any backward step fails."},
        "max_resolution_ns": {
            "type": "integer", "minimum": 1, "maximum": _MAX_SAFE,
            "description": "Limit on the observed resolution (smallest positive step).",
        },
        "max_jitter_ns": {
            "type": "integer", "minimum": 0, "maximum": _MAX_SAFE,
            "description": "Limit on p99 - median of the read-to-read deltas.",
        },
    },
}

#: JSON Schema (draft 2020-12) of a profile's clock thresholds: how many samples
#: to take of each clock and, per clock name, the rules it must meet.  Self-contained
#: (no $ref), so it can be embedded in a profile schema as it is.
PROFILE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://teecert.dev/schemas/clock-thresholds.json",
    "title": "teecert clock thresholds",
    "type": "object",
    "additionalProperties": False,
    "required": ["samples", "clocks"],
    "properties": {
        "samples": {
            "type": "integer", "minimum": 2, "maximum": 100_000_000,
            "description": "Consecutive reads taken of each clock; fewer fails a checked clock.",
        },
        "clocks": {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: _CLOCK_RULES for name in CLOCKS.values()},
        },
    },
}

#: The thresholds of a production profile: CLOCK_MONOTONIC must exist, tick at
#: 1 us or finer and read with at most 100 us of jitter; the clocks that promise
#: monotonicity must keep it.
DEFAULT_THRESHOLDS: dict[str, Any] = {
    "samples": 100_000,
    "clocks": {
        "monotonic": {"required": True, "monotonic": True, "max_resolution_ns": 1000,
                      "max_jitter_ns": 100_000},
        "monotonic_raw": {"monotonic": True},
        "boottime": {"monotonic": True},
    },
}


@dataclass(frozen=True)
class BackStep:
    """A backward step: sample ``index`` read ``value``, below ``previous``
    (raw values, in the clock's own unit)."""

    index: int
    previous: int
    value: int


@dataclass(frozen=True)
class ClockStats:
    """What n consecutive reads of one clock show.

    ``unit`` is ``"ns"``, or ``"ticks"`` for a counter of unknown frequency; the
    delta figures (``observed_resolution``, ``median_delta``, ``p99_delta``,
    ``max_delta``, ``jitter``) are in it, and None when there were fewer than two
    samples (``observed_resolution`` also when the clock never advanced).  The observed
    resolution is the finest step a reader can see: never below the clock's true
    granularity, but also never below the cost of one read."""

    clock: str
    samples: int = 0
    unit: str = "ns"
    resolution_ns: int | None = None  # reported by the platform (clock_getres)
    ticks_per_second: int | None = None
    observed_resolution: int | None = None  # smallest positive delta
    backward_steps: int = 0  # negative deltas: a monotonicity violation
    first_backward: BackStep | None = None
    equal_steps: int = 0  # zero deltas
    median_delta: int | None = None
    p99_delta: int | None = None
    max_delta: int | None = None
    jitter: int | None = None  # p99_delta - median_delta
    unsupported: bool = False


def unsupported(name: str) -> ClockStats:
    """The stats of a clock the platform does not give."""
    return ClockStats(name, unsupported=True)


def _rank(hist: Mapping[int, int], total: int, percent: int) -> int:
    """Nearest-rank percentile of a histogram {value: count} holding ``total`` values."""
    rank = max(1, -(-percent * total // 100))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    raise ValueError("empty histogram")


def analyze(name: str, samples: Iterable[int], resolution_ns: int | None = None,
            ticks_per_second: int | None = None) -> ClockStats:
    """Stats of consecutive raw reads of clock ``name``.

    ``samples`` is consumed once (any iterable, e.g. ``itertools.chain`` over chunks); memory
    grows with the number of *distinct* deltas, not of samples.  ``ticks_per_second``
    is the unit of the samples: 10**9 for nanoseconds, a counter's frequency, or
    None/0 when unknown (the figures then stay in ticks).  ``resolution_ns`` is what
    the platform reports (0 means unknown)."""
    tps = ticks_per_second or None
    hist: Counter[int] = Counter()
    count = backward = equal = 0
    first: BackStep | None = None
    prev = 0
    for value in samples:
        if count:
            delta = value - prev
            hist[delta] += 1
            if delta < 0:
                backward += 1
                if first is None:
                    first = BackStep(count, prev, value)
            elif delta == 0:
                equal += 1
        prev = value
        count += 1

    def ns(x: int | None) -> int | None:
        if x is None or tps is None or tps == NS_PER_S:
            return x
        mag = -(-abs(x) * NS_PER_S // tps)  # rounded up
        return mag if x >= 0 else -mag

    n = count - 1
    positive = [d for d in hist if d > 0]
    median = p99 = top = None
    if n > 0:
        median, p99, top = _rank(hist, n, 50), _rank(hist, n, 99), max(hist)
    return ClockStats(
        clock=name,
        samples=count,
        unit="ticks" if tps is None else "ns",
        resolution_ns=resolution_ns or None,
        ticks_per_second=tps,
        observed_resolution=ns(min(positive)) if positive else None,
        backward_steps=backward,
        first_backward=first,
        equal_steps=equal,
        median_delta=ns(median),
        p99_delta=ns(p99),
        max_delta=ns(top),
        jitter=ns(p99 - median) if p99 is not None and median is not None else None,
    )


# ------------------------------------------------------------------ thresholds


@dataclass(frozen=True)
class Finding:
    """One rule applied to one clock: what was measured, the limit, and whether the
    clock fails it.  ``measured`` and ``limit`` are integers (ns, counts) or short
    words ("unsupported", "none")."""

    clock: str
    rule: str
    measured: int | str
    limit: int | str
    failure: bool
    detail: str


@functools.cache
def _thresholds_check() -> Callable[[Any], bool] | None:
    """:data:`PROFILE_SCHEMA` compiled to a plain check (``_internal.schema``), once."""
    return schema.compile_check(PROFILE_SCHEMA)


def validate_thresholds(thresholds: Any, where: str = "clock thresholds") -> None:
    """Raise :class:`MalformedInput` (one line, naming the field) unless
    ``thresholds`` matches :data:`PROFILE_SCHEMA`."""
    check = _thresholds_check()
    if check is not None and check(thresholds):
        return
    import jsonschema  # ~0.03 s to import: only to word the error of invalid thresholds

    validator = jsonschema.Draft202012Validator(PROFILE_SCHEMA)
    best = jsonschema.exceptions.best_match(validator.iter_errors(thresholds))
    if best is not None:
        raise MalformedInput(f"{where}: {best.json_path}: {best.message}")


def _limit_finding(st: ClockStats, rule: str, value: int | None, limit: int,
                   what: str) -> Finding:
    if st.unit != "ns":
        return Finding(st.clock, rule, "unknown", limit, True,
                       f"{what} is in ticks of unknown frequency: a ns limit cannot be checked")
    if value is None:
        return Finding(st.clock, rule, "none", limit, True,
                       f"no {what}: the clock did not advance in {st.samples} samples")
    bad = value > limit
    return Finding(st.clock, rule, value, limit, bad,
                   f"{what} {value} ns {'exceeds' if bad else 'within'} {limit} ns")


def check(stats: Mapping[str, ClockStats], thresholds: Mapping[str, Any]) -> list[Finding]:
    """Every rule of ``thresholds`` applied to ``stats`` (by clock name), in the
    schema's clock order.  A clock missing from ``stats`` counts as unsupported.  A
    required clock that is unsupported fails; the rules of an unsupported clock that
    is not required give findings that do not fail."""
    validate_thresholds(thresholds)
    want = int(thresholds["samples"])
    rules_of: Mapping[str, Mapping[str, Any]] = thresholds["clocks"]
    out: list[Finding] = []
    for name in CLOCKS.values():
        rules = rules_of.get(name)
        if not rules:
            continue
        st = stats.get(name) or unsupported(name)
        required = bool(rules.get("required", False))
        if required:
            ok = not st.unsupported
            out.append(Finding(name, "required", "supported" if ok else "unsupported",
                               "supported", not ok,
                               "clock is readable" if ok else "required clock is unsupported"))
        checks = [r for r in ("monotonic", "max_resolution_ns", "max_jitter_ns") if r in rules]
        if rules.get("monotonic") is False:
            checks.remove("monotonic")
        if st.unsupported:
            for r in checks:
                limit = 0 if r == "monotonic" else int(rules[r])
                out.append(Finding(name, r, "unsupported", limit, False,
                                   "not measured: clock unsupported"
                                   + (" (failed as required)" if required else "")))
            continue
        if checks and st.samples < want:
            out.append(Finding(name, "samples", st.samples, want, True,
                               f"{st.samples} samples taken, the profile asks for {want}"))
        for r in checks:
            if r == "monotonic":
                out.append(_monotonic_finding(st))
            elif r == "max_resolution_ns":
                out.append(_limit_finding(st, r, st.observed_resolution, int(rules[r]),
                                          "observed resolution"))
            else:
                out.append(_limit_finding(st, r, st.jitter, int(rules[r]), "jitter (p99 - median)"))
    return out


def _monotonic_finding(st: ClockStats) -> Finding:
    if st.backward_steps == 0:
        return Finding(st.clock, "monotonic", 0, 0, False,
                       f"no backward step in {st.samples} samples")
    fb = st.first_backward
    first = "" if fb is None else (
        f"; first at index {fb.index}: {fb.previous} -> {fb.value} "
        f"({fb.value - fb.previous} {'ns' if st.ticks_per_second == NS_PER_S else 'ticks'})")
    return Finding(st.clock, "monotonic", st.backward_steps, 0, True,
                   f"{st.backward_steps} backward step(s) in {st.samples} samples{first}")


# ------------------------------------------------------------------ report


def _int(value: int) -> int | str:
    """An integer JSON can carry exactly everywhere, else its decimal string."""
    return value if -_MAX_SAFE <= value <= _MAX_SAFE else str(value)


def _entry(st: ClockStats) -> dict[str, Any]:
    if st.unsupported:
        return {"status": "unsupported"}
    e: dict[str, Any] = {"status": "supported", "samples": st.samples, "unit": st.unit}
    if st.resolution_ns is not None:
        e["reported_resolution_ns"] = _int(st.resolution_ns)
    if st.ticks_per_second is not None:
        e["ticks_per_second"] = _int(st.ticks_per_second)
    for key in ("observed_resolution", "median_delta", "p99_delta", "max_delta", "jitter"):
        v = getattr(st, key)
        if v is not None:
            e[key] = _int(v)
    e["backward_steps"] = st.backward_steps
    e["equal_steps"] = st.equal_steps
    if st.first_backward is not None:
        fb = st.first_backward
        # raw reads: realtime in ns is beyond 2**53, so always strings
        e["first_backward"] = {"index": fb.index, "previous": str(fb.previous),
                               "value": str(fb.value)}
    return e


def to_report(stats: Mapping[str, ClockStats],
              findings: Sequence[Finding] | None = None) -> dict[str, Any]:
    """JSON-ready form: integers (decimal strings beyond 2**53) and strings only.
    ``{"clocks": {name: {...}}}``, plus ``"findings"`` when given."""
    out: dict[str, Any] = {"clocks": {name: _entry(st) for name, st in stats.items()}}
    if findings is not None:
        out["findings"] = [
            {"clock": f.clock, "rule": f.rule,
             "measured": _int(f.measured) if isinstance(f.measured, int) else f.measured,
             "limit": _int(f.limit) if isinstance(f.limit, int) else f.limit,
             "result": "fail" if f.failure else "pass", "detail": f.detail}
            for f in findings
        ]
    return out


# ------------------------------------------------------------------ in process

_CDEF = """
int teecert_clock_sample(unsigned clock_id, uint64_t *out, size_t n);
int teecert_clock_info(unsigned clock_id, uint64_t *resolution_ns, uint64_t *ticks_per_second);
"""
_FLAGS = ("-std=c99", "-O2", "-fPIC", "-shared", "-DTEECERT_INTERNAL=")


@functools.cache
def _library() -> tuple[Any, Any]:
    """clocks.c built (once, into the cache, keyed by its sources) and loaded:
    (ffi, lib)."""

    nd = probe_build.native_dir()
    srcs = [nd / "probe" / "clocks.c", nd / "probe" / "clocks.h", nd / "probe" / "sha256.h",
            nd / "teecert_probe.h"]
    h = hashlib.sha256("\0".join(_FLAGS).encode())
    for p in srcs:
        h.update(p.read_bytes())
    target = probe_build.cache_dir() / f"libteecert_clocks-{h.hexdigest()[:24]}.so"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        probe_build._compile(probe_build.find_compiler(),
                             [*_FLAGS, "-I", str(nd), "-I", str(nd / "probe"), str(srcs[0])],
                             (), target)
    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    return ffi, ffi.dlopen(str(target))


def sample_in_process(n: int) -> dict[str, ClockStats]:
    """Read every clock ``n`` times through clocks.c in this process (tests and
    benchmarks; a certification run reads them through the probe)."""
    ffi, lib = _library()
    buf = ffi.new("uint64_t[]", max(n, 1))
    res, tps = ffi.new("uint64_t *"), ffi.new("uint64_t *")
    out: dict[str, ClockStats] = {}
    for cid, name in CLOCKS.items():
        if lib.teecert_clock_info(cid, res, tps) != 0 or lib.teecert_clock_sample(cid, buf, n) != 0:
            out[name] = unsupported(name)
            continue
        out[name] = analyze(name, ffi.unpack(buf, n), int(res[0]), int(tps[0]))
    return out


def measure(probe: Any, samples: int) -> dict[str, ClockStats]:
    """Every clock of :data:`CLOCKS` as ``probe`` (in process or behind a probe host)
    reads it, through the characterization ops ``hw.clock.info`` and
    ``hw.clock.sample`` (docs/ops.md); a clock the probe cannot read, or a probe
    without these ops, gives an unsupported entry."""

    out: dict[str, ClockStats] = {}
    for cid, name in CLOCKS.items():
        try:
            res, tps = probe.run_values(HW_OPS["hw.clock.info"], [(cid,), (cid,)])
            values = probe.run_values(HW_OPS["hw.clock.sample"], [(cid,)] * samples)
        except (UnsupportedOp, ArgumentsRejected):  # or a probe without hw.clock.*
            out[name] = unsupported(name)
            continue
        out[name] = analyze(name, values, res or None, tps or None)
    return out
