"""Stress under perturbation: the same streams, in fresh probe processes, again and
again, under everything that should not change a consensus result.

A probe passes the ``ieee754`` suite in one process, under one environment.  Consensus
also needs it to give the *same* bits in every process of every validator: with
another heap layout (``MALLOC_PERTURB_``), another address-space layout (ASLR on or
off), another locale or time zone, busy loops competing for the cores (``cpu_load``,
``load_processes`` of them), more processes than cores, pinned
to another core, with glibc told to pretend CPU features are missing
(``GLIBC_TUNABLES``), or with the caller's FP state left poisoned.  This module runs
a profile's ``stress`` plan: for each perturbation, ``repeats`` rounds of
``processes`` probe hosts started fresh and run concurrently, each evaluating the first
``chunks`` chunks of the plan's streams.  Every output is compared with the golden
outputs, re-derived with MPFR and checked against the vector set's committed chunk
leaves, so a difference names the perturbation, the round, the process, the op and
the first differing vector with its expected value.

Perturbations that cannot be applied on this machine (ASLR switched off
system-wide, ``GLIBC_TUNABLES`` CPU masks on a non-x86 CPU, a process environment
behind ``--probe-url``) are reported as skipped, with the reason: a check that
compared nothing never reads as passed, so where the profile requires the stress
suite the run is not certified.  The ``locale`` perturbation uses a decimal-comma
locale, built privately with ``localedef`` when the system has none.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from .. import ops
from ..errors import MalformedInput, TeecertError
from ..probe.build import cache_dir
from ..probe.library import POISON_FTZ_DAZ, POISON_ROUND_UP, TRANSCRIPT_T0, transcript_step
from ..probe.remote import RemoteProbe, connect, default_host_cmd, spawn
from ..probe.streams import evaluate_stream
from ..vectors import merkle
from ..vectors.generate import pack_outputs
from ..vectors.store import Stream
from ..vectors.streams.inputs import chunk_inputs

#: Perturbation names a profile may list, with what each does (docs/profile-format.md).
PERTURBATIONS: dict[str, str] = {
    "fresh_processes": "fresh probe processes, run concurrently, nothing else changed",
    "cpu_load": "busy loops (the plan's load_processes) compete for the cores with the probe processes",
    "malloc_perturb": "MALLOC_PERTURB_ set: glibc fills allocated and freed memory with a byte",
    "aslr_on": "address-space layout randomization on (each process gets another layout)",
    "aslr_off": "address-space layout randomization off (setarch -R)",
    "locale": "LC_ALL set to a decimal-comma locale (built privately with localedef if none is installed)",
    "tz": "TZ set to a zone with an unusual offset (Pacific/Chatham, +12:45)",
    "threads": "twice as many concurrent probe processes as cores",
    "affinity": "each probe process pinned to one core (psutil)",
    "glibc_tunables": "GLIBC_TUNABLES masking AVX2, FMA and AVX-512 from glibc's ifunc selection",
    "fp_poison": "the probe thread's FP state poisoned (round-up, FTZ/DAZ) before its calls",
}

#: GLIBC_TUNABLES value of the ``glibc_tunables`` perturbation (x86-64 feature names
#: as glibc >= 2.26 spells them in glibc.cpu.hwcaps).
HWCAPS_MASK = "glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4,-AVX512F,-AVX512DQ,-AVX512VL,-AVX512BW"

#: Default plan values where a profile's ``stress`` object leaves them out.
DEFAULTS = {"load_processes": 1, "chunks": 1}


@dataclass(frozen=True)
class Perturbation:
    """How to start (and prepare) the probe processes of one perturbation."""

    name: str
    env: Mapping[str, str] = field(default_factory=dict)
    prefix: tuple[str, ...] = ()
    poison: int = 0
    pin: bool = False
    concurrency: int | None = None  # None: the plan's processes
    #: whether the plan's ``load_processes`` busy loops run beside the probe processes
    load: bool = False
    #: why it cannot be applied on this machine, or None
    not_applicable: str | None = None
    note: str = ""


def _aslr_setting() -> str | None:
    try:
        with open("/proc/sys/kernel/randomize_va_space", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return None


#: Decimal-comma locales the ``locale`` perturbation uses, in order of preference: a
#: comma is the classic strtod/printf hazard, so a locale whose decimal point is C's
#: would leave the perturbation vacuous.
COMMA_LOCALES = ("de_DE.UTF-8", "fr_FR.UTF-8", "ru_RU.UTF-8")


@dataclass(frozen=True)
class LocaleChoice:
    """The environment of the ``locale`` perturbation, or why there is none."""

    env: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    not_applicable: str | None = None


def _decimal_point(env: Mapping[str, str]) -> str | None:
    """The decimal point a C program sees under ``env`` (after setlocale(LC_ALL, ""),
    as the probe host does), read with ``locale -k``; None when it cannot be read."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "LOCPATH"))}
    full.update(env)
    try:
        out = subprocess.run(["locale", "-k", "decimal_point"], capture_output=True, text=True,
                             timeout=20, check=False, env=full)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0 or out.stderr.strip():
        return None  # glibc says "Cannot set LC_ALL" on stderr when the locale is missing
    value = out.stdout.strip().partition("=")[2].strip('"')
    return value or None


def locale_dir() -> Path:
    """Where teecert builds the comma-decimal locale a system without one lacks."""
    return cache_dir() / "locale"


def comma_locale() -> LocaleChoice:
    """A locale whose decimal point is a comma, for the ``locale`` perturbation: one
    the system has, else one teecert builds with ``localedef`` into a private
    ``LOCPATH`` (glibc's sources of locales ship with most systems even when no
    compiled locale does: minimal containers).  Checked, not assumed: the decimal
    point a program sees under the chosen environment must be a comma."""
    for name in COMMA_LOCALES:
        env = {"LC_ALL": name, "LANG": name}
        if _decimal_point(env) == ",":
            return LocaleChoice(env, f"LC_ALL={name}")
    if not shutil.which("localedef"):
        return LocaleChoice(not_applicable="no decimal-comma locale is installed and localedef "
                            "(glibc) is missing to build one: install the locales package")
    base = locale_dir()
    why = "glibc's locale sources (/usr/share/i18n) are missing: install the locales package"
    for name in COMMA_LOCALES:
        env = {"LC_ALL": name, "LANG": name, "LOCPATH": str(base)}
        if _decimal_point(env) == ",":
            return LocaleChoice(env, f"LC_ALL={name} built into LOCPATH={base}")
        lang, _, charmap = name.partition(".")
        tmp = base / f".{name}.{os.getpid()}.{threading.get_ident()}"
        try:
            base.mkdir(parents=True, exist_ok=True)
            res = subprocess.run(["localedef", "-i", lang, "-f", charmap, str(tmp)],
                                 capture_output=True, text=True, timeout=120, check=False)
            # localedef exits 1 for warnings with a usable locale; the check below decides
            if res.returncode in (0, 1) and tmp.is_dir():
                with contextlib.suppress(OSError):
                    os.rename(tmp, base / name)  # atomic; a concurrent builder may have won
            else:
                why = f"localedef -i {lang} -f {charmap} failed: " + (
                    res.stderr.strip().splitlines() or [f"exit status {res.returncode}"])[-1]
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = f"localedef -i {lang} -f {charmap} failed: {exc}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if _decimal_point(env) == ",":
            return LocaleChoice(env, f"LC_ALL={name} built into LOCPATH={base}")
    return LocaleChoice(not_applicable=f"no decimal-comma locale is installed and none could be "
                        f"built: {why}")


def perturbation(name: str, seed: int) -> Perturbation:
    """The perturbation ``name`` as it applies on this machine (``seed`` picks the
    MALLOC_PERTURB_ byte)."""
    if name not in PERTURBATIONS:
        raise MalformedInput(f"unknown perturbation {name!r} (known: {', '.join(PERTURBATIONS)})")
    if name == "malloc_perturb":
        # glibc fills new allocations with the byte's complement and freed memory with the
        # byte itself: 0 turns the perturbation off and 255 fills new memory with zeros,
        # the very contents fresh pages have, so neither is drawn.
        byte = 1 + seed % 254
        return Perturbation(name, env={"MALLOC_PERTURB_": str(byte)}, note=f"MALLOC_PERTURB_={byte}")
    if name in ("aslr_on", "aslr_off"):
        setting = _aslr_setting()
        if name == "aslr_on":
            if setting == "0":
                return Perturbation(name, not_applicable="ASLR is off system-wide "
                                    "(/proc/sys/kernel/randomize_va_space is 0)")
            return Perturbation(name, note=f"randomize_va_space={setting}")
        if not shutil.which("setarch"):
            return Perturbation(name, not_applicable="setarch (util-linux) is not installed")
        return Perturbation(name, prefix=("setarch", platform.machine(), "-R"),
                            note="setarch -R")
    if name == "locale":
        choice = comma_locale()
        return Perturbation(name, env=choice.env, note=choice.note,
                            not_applicable=choice.not_applicable)
    if name == "tz":
        tz = ":Pacific/Chatham" if os.path.exists("/usr/share/zoneinfo/Pacific/Chatham") else "CHAST-12:45"
        return Perturbation(name, env={"TZ": tz}, note=f"TZ={tz}")
    if name == "threads":
        n = 2 * (psutil.cpu_count(logical=True) or 1)
        return Perturbation(name, concurrency=n, note=f"{n} concurrent processes")
    if name == "affinity":
        return Perturbation(name, pin=True)
    if name == "cpu_load":
        return Perturbation(name, load=True)
    if name == "glibc_tunables":
        if platform.machine() not in ("x86_64", "AMD64", "amd64"):
            return Perturbation(name, not_applicable=f"the CPU-feature masks are x86-64's "
                                f"(this machine is {platform.machine()})")
        return Perturbation(name, env={"GLIBC_TUNABLES": HWCAPS_MASK}, note=HWCAPS_MASK)
    if name == "fp_poison":
        return Perturbation(name, poison=POISON_ROUND_UP | POISON_FTZ_DAZ,
                            note="round-up + FTZ/DAZ")
    return Perturbation(name)  # fresh_processes


@dataclass(frozen=True)
class Plan:
    """A profile's ``stress`` object, resolved against the vector set."""

    streams: tuple[Stream, ...]
    repeats: int
    processes: int
    load_processes: int
    chunks: int
    perturbations: tuple[str, ...]


def plan_from_profile(stress: Mapping[str, Any], streams: Mapping[str, Stream], where: str) -> Plan:
    """Check the semantic rules a schema cannot (ops of the vector set, chunks that
    exist) and build the plan; one-line ``MalformedInput`` naming ``where``."""
    op_ids = stress.get("ops") or sorted(streams)
    for op_id in op_ids:
        ops.get(op_id, f"{where}: field stress.ops")
        if op_id not in streams:
            raise MalformedInput(f"{where}: field stress.ops: the vector set has no stream for {op_id}")
    for name in stress["perturbations"]:
        if name not in PERTURBATIONS:
            raise MalformedInput(f"{where}: field stress.perturbations: unknown perturbation "
                                 f"{name!r} (known: {', '.join(PERTURBATIONS)})")
    chunks = int(stress.get("chunks", DEFAULTS["chunks"]))  # at most a stream's own
    load = int(stress.get("load_processes", DEFAULTS["load_processes"]))
    if load == 0 and "cpu_load" in stress["perturbations"]:
        raise MalformedInput(f"{where}: field stress.load_processes is 0, so the cpu_load "
                             "perturbation would load nothing: give it 1 or more, or drop cpu_load")
    return Plan(tuple(streams[o] for o in op_ids), int(stress["repeats"]), int(stress["processes"]),
                load, chunks, tuple(stress["perturbations"]))


def declared_by(plan: Plan, declared: Collection[str]) -> tuple[Plan, tuple[str, ...]]:
    """``plan`` without the ops the probe does not declare, and those ops' ids.  An
    undeclared op is the op suites' *unsupported* result, which the profile's
    ``unsupported_ops`` judges; stress has nothing of it to compare."""
    keep = tuple(st for st in plan.streams if st.op.id in declared)
    left_out = tuple(st.op.id for st in plan.streams if st.op.id not in declared)
    return dataclasses.replace(plan, streams=keep), left_out


# ------------------------------------------------------------------ golden chunks


@dataclass(eq=False)
class GoldenChunk:
    """One chunk every stress process runs, and what it must give: the Merkle leaf of
    the expected outputs.  A golden chunk's leaf is the committed one (it commits to
    the references' outputs), so agreeing processes are checked by hashing alone; the
    outputs themselves are re-derived (:meth:`expected`) only for a chunk some process
    got wrong, to name the first differing vector.

    The inputs are not held: every process generates them into its shared region as
    the stream loop does (:func:`teecert.probe.streams.evaluate_stream`), and
    :meth:`packed` generates them again for a chunk that differs.  Holding the inputs
    of every chunk of a strict plan would take some 200 MiB for the whole suite.

    The first outputs that hash to the leaf are kept in ``checked`` (a file, not
    memory), when the chunk has one: every later process's outputs are compared with
    them byte for byte, which costs less than hashing them (:meth:`known_leaf`)."""

    op: ops.Op
    index: int
    start: int
    n: int
    #: the stream's seed and chunk size: chunk ``index`` of the stream ``(op, seed)``
    seed: int
    chunk_size: int
    #: the expected outputs; None for a golden chunk until a process differs from it
    outputs: bytes | None
    #: "golden" (the references' outputs) or "baseline" (what a fresh, unperturbed
    #: probe process gave: libm functions, whose golden value the platform need not
    #: meet, must at least not change under a perturbation)
    reference: str = "golden"
    leaf: bytes = b""
    #: where outputs that hashed to the leaf are kept (shared by a plan's chunks)
    checked: CheckedOutputs | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not self.leaf:
            if self.outputs is None:
                raise TeecertError(f"stress chunk {self.index} of {self.op.id} has neither "
                                   "outputs nor a leaf")
            self.leaf = merkle.leaf_hash(self.outputs)

    def known_leaf(self, outputs: memoryview) -> bytes | None:
        """The leaf when ``outputs`` equal outputs already checked against it (held,
        or kept in ``checked``); None when there are none yet or they differ (the
        caller hashes them then)."""
        ref = (self.outputs if self.outputs is not None
               else self.checked.get(self) if self.checked is not None else None)
        if ref is not None and len(ref) == len(outputs) and bytes(outputs) == ref:
            return self.leaf
        return None

    def remember(self, outputs: memoryview) -> None:
        """Keep ``outputs``, which hashed to the leaf, for :meth:`known_leaf`."""
        if self.outputs is None and self.checked is not None:
            self.checked.put(self, outputs)

    def packed(self) -> bytes:
        """The chunk's inputs, packed (generated anew on each call)."""
        return chunk_inputs(self.op, self.seed, self.start, self.n)

    def expected(self) -> bytes:
        """The expected outputs, re-derived with the references (MPFR for the float
        ops) the first time they are needed and accepted only when they hash to the
        committed leaf."""
        with self._lock:
            if self.outputs is None:
                self.outputs = _derive(self.op, self.index, self.n, self.packed(), self.leaf)
            return self.outputs


class CheckedOutputs:
    """Outputs that hashed to their chunk's leaf, one copy per chunk, in an unnamed
    file in the cache folder: a strict plan's chunks hold some 90 MiB of outputs,
    which would nearly double the run's memory, while reading them back and comparing
    costs less than hashing them.  A copy is trusted only as what was hashed: it is
    written once, after its hash matched, and never changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._file: Any = None
        self._at: dict[GoldenChunk, tuple[int, int]] = {}
        self._end = 0

    def get(self, chunk: GoldenChunk) -> bytes | None:
        where = self._at.get(chunk)
        if where is None:
            return None
        try:
            return os.pread(self._file.fileno(), where[1], where[0])
        except (OSError, ValueError):
            return None

    def put(self, chunk: GoldenChunk, outputs: memoryview) -> None:
        with self._lock:
            if chunk in self._at:
                return
            try:
                if self._file is None:
                    folder = cache_dir()
                    folder.mkdir(parents=True, exist_ok=True)
                    self._file = tempfile.TemporaryFile(dir=folder, prefix="stress-")
                data = bytes(outputs)
                if os.pwrite(self._file.fileno(), data, self._end) != len(data):
                    return
            except OSError:
                return  # no copy: later processes hash, as without this
            self._at[chunk] = (self._end, len(data))  # by identity (eq=False)
            self._end += len(data)


def chunks_of(plan: Plan, kind: str) -> list[tuple[Stream, int]]:
    """(stream, chunk index) pairs of the plan's ``kind`` ops: "libm", or "golden" for
    every op with a golden value (float and data ops)."""
    return [(st, k) for st in plan.streams
            if (st.op.kind != "libm" if kind == "golden" else st.op.kind == kind)
            for k in range(min(plan.chunks, st.chunks))]


def baseline_chunks(pairs: Sequence[tuple[Stream, int]], host: Sequence[str] | str,
                    timeout: float) -> list[GoldenChunk]:
    """The outputs a fresh probe host gives with nothing perturbed (a command is
    started as it is; a URL gets a fresh connection)."""

    rp = connect(host, timeout=timeout) if isinstance(host, str) else spawn(host, timeout=timeout)
    try:
        out = []
        for st, k in pairs:
            start, n = st.chunk_span(k)
            packed = chunk_inputs(st.op, st.seed, start, n)
            out.append(GoldenChunk(st.op, k, start, n, st.seed, st.chunk_size,
                                   rp.run(st.op, packed, n), "baseline"))
        return out
    finally:
        rp.close()


def golden_chunk(st: Stream, index: int, checked: CheckedOutputs | None = None) -> GoldenChunk:
    """Chunk ``index`` of ``st``: its inputs and the committed leaf of its golden
    outputs.  The outputs are not derived here: re-deriving every chunk with MPFR and
    the data references cost most of a strict run's CPU, and the leaf already is the
    commitment a probe's outputs must hash to (:meth:`GoldenChunk.expected`)."""
    start, n = st.chunk_span(index)
    return GoldenChunk(st.op, index, start, n, st.seed, st.chunk_size, None, leaf=st.leaves[index],
                       checked=checked)


def _derive(op: ops.Op, index: int, n: int, packed: bytes, leaf: bytes) -> bytes:
    """The golden outputs of a chunk, with MPFR (float ops) or the data references,
    checked against its committed leaf."""
    from ..reference import (
        golden,  # the references import gmpy2 (~0.1 s): only golden values need them
    )

    outs = golden.evaluate_mpfr_many(op.id, op.unpack_inputs(packed, n))
    out = pack_outputs(op, outs)
    if merkle.leaf_hash(out) != leaf:
        what = "reference" if op.kind in ops.DATA_KINDS else "MPFR"
        raise TeecertError(f"the {what} outputs of chunk {index} of {op.id} do not hash to the "
                           "committed leaf: this host's reference arithmetic is faulty")
    return out


# ------------------------------------------------------------------------ running


@dataclass(frozen=True)
class Divergence:
    perturbation: str
    round: int
    process: int
    op: str
    index: int  # vector index in the stream
    inputs: tuple[int, ...]
    expected: int
    got: int
    error: str | None = None  # the probe failed instead of answering

    def message(self) -> str:
        where = f"{self.perturbation}, round {self.round + 1}, process {self.process + 1}"
        if self.error:
            return f"{where}: {self.error}"
        op = ops.get(self.op)
        d = self.record()
        assert d is not None
        args = ", ".join(x if len(x) <= 80 else f"{x[:64]}...({len(x) // 2} bytes)" for x in d["inputs"])
        what = "an unperturbed process gave" if op.kind == "libm" else "expected"
        ulp = f" ({d['ulp']} ulp)" if d["ulp"] is not None else ""
        return (f"{where}: {self.op} vector {self.index}: {self.op}({args}) = "
                f"{d['got']}, {what} {d['expected']}{ulp}")

    def record(self) -> dict[str, Any] | None:
        """The report's ``divergence`` object (None for a probe failure)."""
        if self.error:
            return None
        op = ops.get(self.op)
        return {"index": self.index, "inputs": op.in_hex(self.inputs),
                "expected": op.out_hex(self.expected), "got": op.out_hex(self.got),
                "ulp": (ops.ulp_distance(op.result_fmt, self.expected, self.got)
                        if op.float_format else None)}


@dataclass
class Outcome:
    perturbation: Perturbation
    runs: int = 0
    vectors: int = 0
    divergences: list[Divergence] = field(default_factory=list)


def _first_difference(g: GoldenChunk, got: bytes) -> tuple[int, tuple[int, ...], int, int]:
    w, a = g.op.out_bytes, g.op.in_bytes
    expected = g.expected()
    for i in range(g.n):
        if got[i * w : (i + 1) * w] != expected[i * w : (i + 1) * w]:
            (ins,) = g.op.unpack_inputs(g.packed()[i * a : (i + 1) * a], 1)
            (exp,) = g.op.unpack_outputs(expected[i * w : (i + 1) * w], 1)
            (out,) = g.op.unpack_outputs(got[i * w : (i + 1) * w], 1)
            return g.start + i, ins, exp, out
    raise AssertionError("outputs differ but no slot does")  # pragma: no cover


@contextlib.contextmanager
def cpu_load(processes: int) -> Iterator[None]:
    """``processes`` busy loops competing for the cores while the block runs."""
    # -I -S: no site, no user paths: the loop starts in a third of the time
    procs = [subprocess.Popen([sys.executable, "-I", "-S", "-c", "while True: pass"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(processes)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def over_url(p: Perturbation) -> Perturbation:
    """``p`` for a probe reached with ``--probe-url``: each connection is served by a
    fresh worker the listening host forks, so fresh processes, concurrency and FP
    poisoning apply; what changes a process's environment or placement cannot be
    done from here (the host's environment is the remote machine's)."""
    if p.not_applicable or not (p.env or p.prefix or p.pin or p.load or p.name == "aslr_on"):
        return p
    if p.load:
        return Perturbation(p.name, not_applicable="busy loops started here would load this "
                            "machine, not the remote one the host runs on")
    return Perturbation(p.name, not_applicable="a host reached by --probe-url runs in the remote "
                        "machine's environment: start the host there under this perturbation")


def _one_process(host: Sequence[str] | str, p: Perturbation, goldens: Sequence[GoldenChunk],
                 rnd: int, proc: int, timeout: float, cores: Sequence[int]) -> tuple[int, list[Divergence]]:

    found: list[Divergence] = []
    vectors = 0
    try:
        rp = (connect(host, timeout=timeout) if isinstance(host, str)
              else spawn([*p.prefix, *host], timeout=timeout, env=p.env or None))
    except TeecertError as exc:
        return 0, [Divergence(p.name, rnd, proc, "", 0, (), 0, 0, error=str(exc))]
    try:
        if p.pin and rp.child_pid is not None and cores:
            with contextlib.suppress(psutil.Error):
                psutil.Process(rp.child_pid).cpu_affinity([cores[(rnd + proc) % len(cores)]])
        if p.poison:
            # teecert's host installs the poisoned state itself: a probe whose own
            # fpenv_poison applies nothing must not decide what it is tested under
            rp.fp_state(p.poison)
        folded = TRANSCRIPT_T0
        calls = 0
        for group in _prefixes(goldens):
            n, failed, leaves = _check_group(rp, group, p.name, rnd, proc)
            vectors += n
            found.extend(failed)
            if any(d.error for d in failed):
                break  # the probe failed: what it would answer next says nothing more
            for g, leaf in zip(group, leaves, strict=True):
                folded = transcript_step(folded, g.op.id, g.n, leaf)
                calls += 1
        else:
            found.extend(_transcript_problem(rp, folded, calls, p.name, rnd, proc))
    finally:
        rp.close()
    return vectors, found


def _transcript_problem(rp: RemoteProbe, folded: bytes, calls: int, name: str, rnd: int,
                        proc: int) -> list[Divergence]:
    """The host's transcript against the one folded from the outputs read back: the
    outputs compared are the ones the probe computed, not bytes written over them
    (shared memory is shared) or a transcript that lies."""
    try:
        t, n = rp.transcript()
    except TeecertError as exc:
        return [Divergence(name, rnd, proc, "", 0, (), 0, 0, error=str(exc))]
    if (t, n) == (folded, calls):
        return []
    return [Divergence(name, rnd, proc, "", 0, (), 0, 0, error=(
        f"the host's transcript {t.hex()[:16]}... over {n} calls is not the one of the outputs "
        f"read back ({folded.hex()[:16]}... over {calls} calls): outputs were changed after the "
        "probe computed them, or its transcript is not of its outputs"))]


def _check_group(rp: RemoteProbe, group: Sequence[GoldenChunk], name: str, rnd: int,
                 proc: int) -> tuple[int, list[Divergence], list[bytes]]:
    """Vectors compared, divergences found and the leaves of the outputs read, over
    ``group`` (from :func:`_prefixes`)."""
    g0 = group[0]
    try:
        leaves, wrong = _run_group(rp, group)
    except TeecertError as exc:
        return 0, [Divergence(name, rnd, proc, g0.op.id, g0.start, (), 0, 0, error=str(exc))], []
    found = []
    for j, (g, leaf) in enumerate(zip(group, leaves, strict=True)):
        if leaf != g.leaf:
            idx, ins, exp, out = _first_difference(g, wrong[j])
            found.append(Divergence(name, rnd, proc, g.op.id, idx, ins, exp, out))
    return sum(g.n for g in group), found, leaves


def _prefixes(goldens: Sequence[GoldenChunk]) -> list[list[GoldenChunk]]:
    """``goldens`` in runs the stream loop evaluates in one go: the chunks 0, 1, ...
    of one stream, in order (a chunk that continues no run starts its own)."""
    groups: list[list[GoldenChunk]] = []
    for g in goldens:
        last = groups[-1][-1] if groups else None
        if (last is not None and last.op is g.op and last.seed == g.seed
                and last.chunk_size == g.chunk_size and g.index == last.index + 1):
            groups[-1].append(g)
        else:
            groups.append([g])
    return groups


def _run_group(rp: RemoteProbe, group: Sequence[GoldenChunk]) -> tuple[list[bytes], dict[int, bytes]]:
    """The leaves the probe's outputs of ``group`` (from :func:`_prefixes`) hash to,
    and the outputs of those that differ from their golden leaf (by position in
    ``group``).  A run of chunks from chunk 0 goes through the stream loop: inputs
    generated straight into the host's shared region, nothing copied through the
    pipes and no chunk held; any other chunk is sent inline."""
    g0 = group[0]
    wrong: dict[int, bytes] = {}
    if g0.index == 0:
        def keep(index: int, leaf: bytes, outputs: memoryview) -> None:
            if leaf != group[index].leaf:
                wrong[index] = bytes(outputs)
            else:
                group[index].remember(outputs)

        def known(index: int, outputs: memoryview) -> bytes | None:
            return group[index].known_leaf(outputs)

        last = group[-1]
        leaves = evaluate_stream(rp, g0.op, g0.seed, last.start + last.n, g0.chunk_size,
                                 on_outputs=keep, known=known)
        return leaves, wrong
    leaves = []
    for j, g in enumerate(group):
        got = rp.run(g.op, g.packed(), g.n)
        leaves.append(merkle.leaf_hash(got))
        if leaves[-1] != g.leaf:
            wrong[j] = got
    return leaves, wrong


def run(plan: Plan, p: Perturbation, host: Sequence[str] | str, goldens: Sequence[GoldenChunk],
        timeout: float) -> Outcome:
    """Run ``plan`` under ``p``: ``repeats`` rounds of concurrent fresh probe hosts,
    started with the command ``host`` (argv words), or fresh connections to the
    listening host at the URL ``host`` (a string; apply :func:`over_url` first)."""
    outcome = Outcome(p)
    if p.not_applicable:
        return outcome
    width = p.concurrency or plan.processes
    try:
        cores = sorted(psutil.Process().cpu_affinity() or [])
    except (psutil.Error, AttributeError):
        cores = []
    lock = threading.Lock()
    # Contention is a perturbation of its own, as the others are: loops beside every
    # perturbation would cost a core for the whole suite, and a fault that needs load
    # shows under load alone.
    loops = plan.load_processes if p.load else 0
    with cpu_load(loops), ThreadPoolExecutor(max_workers=width) as pool:
        for rnd in range(plan.repeats):
            futures = [pool.submit(_one_process, host, p, goldens, rnd, proc, timeout, cores)
                       for proc in range(width)]
            for f in futures:
                vectors, found = f.result()
                with lock:
                    outcome.runs += 1
                    outcome.vectors += vectors
                    outcome.divergences.extend(found)
    return outcome


# ------------------------------------------------------------------ for the suites


def host_of(session: Any) -> list[str] | str:
    """The command that starts a fresh probe host for ``session`` (a
    ``teecert.certify.session.Session``), or the URL of the listening one it uses."""


    if session.probe_cmd:
        return shlex.split(session.probe_cmd)
    if session.probe_url:
        return str(session.probe_url)
    return default_host_cmd(session.probe_path)


#: How a stress check ended: every process agreed, one differed, or nothing could be
#: compared (``not_applicable``: the perturbation cannot be applied here, or the plan
#: has no stream for the check; ``unsupported``: the probe declares none of the plan's
#: ops for it).  The suites report the last two as skipped rows with the reason, so
#: that a required check that checked nothing never reads as passed.
PASSED, FAILED, NOT_APPLICABLE, UNSUPPORTED = "passed", "failed", "not_applicable", "unsupported"


def check(plan: Plan, name: str, goldens: Sequence[GoldenChunk], session: Any,
          against: str, undeclared: Sequence[str] = (), what: str = "float and data"
          ) -> tuple[str, dict[str, Any]]:
    """Run ``plan`` under perturbation ``name`` against ``goldens`` (the chunks of the
    plan's ``what`` streams) and return how it ended (:data:`PASSED` ...) and the
    result record (fields of the report's result row).  ``undeclared``: the plan's ops
    the probe does not declare, named in the message."""
    status, record = _check(plan, name, goldens, session, against, undeclared, what)
    if undeclared and status != UNSUPPORTED:
        record["message"] += (f" (not declared by the probe, so not stressed: "
                              f"{', '.join(undeclared)})")
    return status, record


def _check(plan: Plan, name: str, goldens: Sequence[GoldenChunk], session: Any,
           against: str, undeclared: Sequence[str], what: str) -> tuple[str, dict[str, Any]]:
    record: dict[str, Any] = {"op": None, "kind": "check", "vectors": 0, "failures": 0,
                              "divergence": None}
    if not goldens:
        if undeclared:
            record["message"] = (f"{name}: unsupported: the probe declares none of the stress "
                                 f"plan's {what} ops ({', '.join(undeclared)})")
            return UNSUPPORTED, record
        record["message"] = (f"{name}: not applicable: the profile's stress plan has no {what} "
                             "streams, so nothing was compared")
        return NOT_APPLICABLE, record
    host = host_of(session)
    p = perturbation(name, session.seed)
    if p.load:
        p = dataclasses.replace(p, note=f"{plan.load_processes} busy loop"
                                + ("s" if plan.load_processes != 1 else ""))
    if isinstance(host, str):
        p = over_url(p)
    if p.not_applicable:
        record["message"] = f"{name}: not applicable here: {p.not_applicable}"
        return NOT_APPLICABLE, record
    out = run(plan, p, host, goldens, session.probe_timeout)
    header = (f"{name} ({p.note})" if p.note else name) + (
        f": {out.runs} fresh processes in {plan.repeats} rounds, {out.vectors} vectors over "
        f"{len({g.op.id for g in goldens})} {what} streams")
    record["vectors"] = out.vectors
    if not out.divergences:
        record["message"] = f"{header}: all identical to {against}"
        return PASSED, record
    first = out.divergences[0]
    bad_runs = len({(d.round, d.process) for d in out.divergences})
    record.update(op=first.op or None, failures=len(out.divergences), divergence=first.record(),
                  message=(f"{bad_runs} of {out.runs} processes differ under {name}; "
                           f"first: {first.message()}"))
    return FAILED, record
