"""Run fuzz cases against one or more targets and count what escapes.

    python -m tests.fuzz.run --target report --cases 100000 --seed 1 [--jobs 2]
    python -m tests.fuzz.run --target all --cases 10000
    python -m tests.fuzz.run --target wire --seed 1 --case 4711 [--dump DIR]   # replay one case

Case ``i`` of target ``t`` under seed ``s`` draws every choice from
``random.Random("teecert-fuzz/s/t/i")``, so ``--case i`` replays it exactly (the seeds
themselves come from the cache named in the output; simulated evidence is the only
seed made with fresh keys).

What counts, per case:

* an **escape**: anything but a ``TeecertError`` left the call (``KeyError``,
  ``RecursionError``, ``MemoryError``, ...), or the case ran past the deadline (a hang:
  a ``SIGALRM`` after ``--deadline`` seconds, 10 by default);
* a **finding**: a ``TeecertError`` that breaks the one-line rule (a line break in the
  message), names none of the case's inputs (file or probe host), or is a
  ``UsageError`` (a caller's mistake, never the data's fault).

The output gives the cases per second, the escapes and findings, and the first of
each distinct kind with its traceback and the command that replays it.  The exit
status is 1 when anything escaped (findings are listed, and fail with ``--strict``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import signal
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teecert.errors import TeecertError, UsageError

from . import azure_hcl_fuzz, target_cca
from . import targets as tg

azure_hcl_fuzz.register()  # the Azure HCL evidence target lives in its own module
target_cca.register()  # the Arm CCA token target lives in its own module

DEFAULT_DEADLINE = 10.0
CHUNK = 200
KEEP = 5  # problems kept per distinct signature


class Hang(BaseException):
    """A case ran past the deadline (raised by SIGALRM)."""


@dataclass
class Problem:
    what: str  # "escape" or "finding"
    signature: str  # what groups problems of one cause
    target: str
    seed: int
    index: int
    kind: str
    summary: str
    trace: str

    def reproducer(self) -> str:
        return f"python -m tests.fuzz.run --target {self.target} --seed {self.seed} --case {self.index}"


@dataclass
class Tally:
    target: str
    cases: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    slowest_index: int = -1
    outcomes: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    escapes: int = 0
    findings: int = 0
    problems: dict[str, list[Problem]] = field(default_factory=dict)
    signature_counts: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.cases += other.cases
        if other.slowest > self.slowest:
            self.slowest, self.slowest_index = other.slowest, other.slowest_index
        self.outcomes.update(other.outcomes)
        self.kinds.update(other.kinds)
        self.escapes += other.escapes
        self.findings += other.findings
        self.signature_counts.update(other.signature_counts)
        for sig, probs in other.problems.items():
            mine = self.problems.setdefault(sig, [])
            mine.extend(probs[: max(0, KEEP - len(mine))])

    def record(self, p: Problem) -> None:
        if p.what == "escape":
            self.escapes += 1
        else:
            self.findings += 1
        self.signature_counts[p.signature] += 1
        probs = self.problems.setdefault(p.signature, [])
        if len(probs) < KEEP:
            probs.append(p)


def _on_alarm(signum: int, frame: Any) -> None:
    raise Hang("the case ran past the deadline")


def _where_raised(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if "/harness/" in f.filename or "/teecert/" in f.filename] or list(tb)
    if not frames:
        return "?"
    f = frames[-1]
    return f"{Path(f.filename).name}:{f.lineno}"


def run_case(target: str, seed: int, index: int, deadline: float, tally: Tally) -> None:
    """Make and run case ``index``; count its outcome and any problem in ``tally``."""
    rng = tg.case_rng(seed, target, index)
    old = signal.signal(signal.SIGALRM, _on_alarm)
    t0 = time.perf_counter()
    kind = "?"
    problem: Problem | None = None
    case: tg.Case | None = None
    running = False  # whether teecert has the input yet (before: a bug of the fuzzer's own)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, deadline)
            case = tg.MAKERS[target](rng)
            running = True
            out = case.run()
        finally:  # no alarm while the outcome is looked at
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
            kind = case.kind if case is not None else "?"  # a target may name the mutation once it ran
    except TeecertError as e:
        out = "refused:" + type(e).__name__
        msg = str(e)
        why = None
        if "\n" in msg or "\r" in msg:
            why = "multi-line message"
        elif case is not None and case.names and not any(n in msg for n in case.names):
            why = "message names no input"
        elif isinstance(e, UsageError):
            why = "UsageError for bad data"
        if why:
            problem = Problem("finding", f"{why}: {type(e).__name__} at {_where_raised(e)}", target, seed,
                              index, kind, f"{type(e).__name__}: {msg[:300]!r}", traceback.format_exc())
    except tg.MessageProblem as e:
        out = "finding"
        cause = e.__cause__ or e
        problem = Problem("finding", f"{str(e).split(':')[0]} at {_where_raised(cause)}", target, seed,
                          index, kind, str(e)[:300], "".join(traceback.format_exception(cause)))
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # everything else escaped, a Hang included
        out = "escape"
        where = _where_raised(e) if running else f"{_where_raised(e)} (making the case: a fuzzer bug)"
        problem = Problem("escape", f"{type(e).__name__} at {where}", target, seed, index, kind,
                          f"{type(e).__name__}: {str(e)[:300]!r}", traceback.format_exc())
    spent = time.perf_counter() - t0
    tally.cases += 1
    if spent > tally.slowest:
        tally.slowest, tally.slowest_index = spent, index
    tally.outcomes[out] += 1
    tally.kinds[kind.split(":")[0].split("+")[0]] += 1
    if problem is not None:
        tally.record(problem)


def run_range(target: str, seed: int, start: int, stop: int, deadline: float) -> Tally:
    tally = Tally(target)
    for i in range(start, stop):
        run_case(target, seed, i, deadline, tally)
    return tally


def _chunk(args: tuple[str, int, int, int, float]) -> Tally:
    return run_range(*args)


def _cap_address_space(extra_gb: float = 3.0) -> None:
    """A runaway allocation becomes a MemoryError (an escape) instead of swapping."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
        limit = pages * os.sysconf("SC_PAGE_SIZE") + int(extra_gb * 2**30)
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or limit < hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        pass


def fuzz(target: str, cases: int, seed: int = 1, *, jobs: int = 1, deadline: float = DEFAULT_DEADLINE,
         progress: bool = False, start: int = 0) -> Tally:
    """Run cases ``start`` .. ``start + cases - 1`` of ``target``."""
    tg.prepare(target)
    total = Tally(target)
    t0 = time.monotonic()
    last = t0
    chunks = [(target, seed, a, min(a + CHUNK, start + cases), deadline) for a in range(start, start + cases, CHUNK)]
    if jobs <= 1:
        results = map(_chunk, chunks)
        pool = None
    else:
        pool = multiprocessing.get_context("fork").Pool(jobs)
        results = pool.imap(_chunk, chunks)
    try:
        for t in results:
            total.add(t)
            now = time.monotonic()
            if progress and now - last > 30:
                last = now
                print(f"[{target}] {total.cases}/{cases} cases, {now - t0:.0f} s, "
                      f"{total.cases / (now - t0):.1f} cases/s, {total.escapes} escapes, "
                      f"{total.findings} findings", flush=True)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    total.seconds = time.monotonic() - t0
    return total


def summary_line(t: Tally) -> str:
    rate = t.cases / t.seconds if t.seconds else 0.0
    return (f"{t.target}: {t.cases} cases in {t.seconds:.1f} s ({rate:.1f} cases/s), {t.escapes} escapes, "
            f"{t.findings} findings, slowest case {t.slowest:.2f} s (#{t.slowest_index})")


def report(t: Tally, *, traces: int = 3, file: Any = sys.stdout) -> None:
    print(summary_line(t), file=file)
    for why in dict.fromkeys(tg.SEED_PROBLEMS):
        print(f"  WARNING: {why}", file=file)
    top = ", ".join(f"{k}={v}" for k, v in t.outcomes.most_common(8))
    print(f"  outcomes: {top}", file=file)
    print(f"  mutations: {', '.join(f'{k}={v}' for k, v in t.kinds.most_common(12))}", file=file)
    for sig, n in t.signature_counts.most_common():
        first = t.problems[sig][0]
        print(f"  {first.what.upper()} x{n}: {sig}\n    e.g. case {first.index} ({first.kind}): {first.summary}\n"
              f"    replay: {first.reproducer()}", file=file)
    shown = 0
    for sig, _n in t.signature_counts.most_common():
        if shown >= traces:
            break
        first = t.problems[sig][0]
        print(f"\n--- {first.what} {sig} (case {first.index}, {first.kind})\n{first.trace}", file=file)
        shown += 1


def replay(target: str, seed: int, index: int, dump: Path | None, deadline: float) -> int:
    tg.prepare(target)
    rng = tg.case_rng(seed, target, index)
    case = tg.MAKERS[target](rng)
    if dump is not None and case.data is not None:
        dump.mkdir(parents=True, exist_ok=True)
        out = dump / f"{target}-{seed}-{index}.bin"
        out.write_bytes(case.data)
        print(f"input written to {out}")
    print(f"seed cache: {tg.cache_dir()}")
    tally = Tally(target)
    run_case(target, seed, index, deadline, tally)
    print(f"case {index} ({case.kind}): {next(iter(tally.outcomes))}")
    for probs in tally.problems.values():
        for p in probs:
            print(f"{p.what}: {p.summary}\n{p.trace}")
    return 1 if tally.escapes else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--target", action="append", required=True, choices=[*tg.TARGETS, "all"])
    p.add_argument("--cases", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=int, default=0, help="first case index")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE, help="seconds a case may take")
    p.add_argument("--case", type=int, help="replay this one case and print what it did")
    p.add_argument("--dump", type=Path, help="with --case: write the mutated input here")
    p.add_argument("--traces", type=int, default=3, help="tracebacks printed per target")
    p.add_argument("--strict", action="store_true", help="findings fail the run too")
    a = p.parse_args(argv)
    names = list(tg.TARGETS) if "all" in a.target else a.target
    if a.case is not None:
        return max(replay(n, a.seed, a.case, a.dump, a.deadline) for n in names)
    _cap_address_space()
    print(f"seed cache: {tg.cache_dir()}", flush=True)
    bad = 0
    tallies = []
    for n in names:
        t = fuzz(n, a.cases, a.seed, jobs=a.jobs, deadline=a.deadline, progress=True, start=a.start)
        tallies.append(t)
        report(t, traces=a.traces)
        bad += t.escapes + (t.findings if a.strict else 0)
        sys.stdout.flush()
    if len(tallies) > 1:
        print("\nper target:")
        for t in tallies:
            print("  " + summary_line(t))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
