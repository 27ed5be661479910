"""Benchmark: wall time, CPU time and peak memory of a whole default `teecert run`.

Runs ``teecert run`` (development profile: 58.7 million float and libm stream vectors,
about 62 million of the data ops) as a user would, with one process and with ``-n 2``,
and measures

* wall time;
* CPU time of the whole process tree (user + system): the ``RUSAGE_CHILDREN`` of this
  script, which counts every descendant that was waited for (the controller, pytest,
  xdist workers, probe hosts, stress processes and their load loops);
* peak memory: the proportional set size (PSS) of the process tree, sampled every
  20 ms.

Cold and warm.  The runs use a private cache folder (``XDG_CACHE_HOME``), so that
nothing here touches ~/.cache/teecert.  *Cold* is the first run with that folder
holding only builds (the reference probe and probe host, the clocks library, the
compiled decimal-comma locale), copied from ~/.cache/teecert when present: no cached
results, such as the libm suite's tallies of diverging chunks (``libm/``).  *Warm* is every
later run, with what the earlier runs cached (libm tallies, parsed explicit vector
files).  A build missing from ~/.cache/teecert is built by the first run and counts in
its figures.

Bytecode as installed: ``pip install`` compiles the package's modules, and a checkout
writes its bytecode on first import, but not under ``PYTHONDONTWRITEBYTECODE`` (set in
some containers), where every run would compile every module again (about 0.2 s of
CPU per Python process).  So the benchmark first compiles the package and the suites
(``compileall``), as an install does.

    python benchmarks/bench_run.py [--repeat 2] [--profile development|strict] [--workers 1]
    python benchmarks/bench_run.py --quick

Each configuration runs ``--repeat`` cold runs (the cache emptied of results before
each) and ``--repeat`` warm ones, and prints min and median of each figure.  After
each configuration it also prints, from the last run's report, the time the tests of
each suite took (summed over tests, so with -n 2 the sum exceeds the wall time).

``--quick`` runs once cold and once warm, in one process, a tiny copy of the profile,
written to a temporary folder: one chunk of each stream (``stream_scale`` 1) and no
libm suite, as the tests' quick profile (tests/conftest.py); a check that the benchmark
still runs, not a figure.

Prints figures; asserts nothing (figures go in the issue notes, not in tests), except
that every run wrote its report: a run that exits 2 or dies (nothing written) makes
the benchmark exit 1 with the run's last line of standard error.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def _memory(p: psutil.Process) -> int:
    """A process's proportional set size (PSS): pages shared with other processes
    count in fractions.  Summed RSS would count a forked child's copy-on-write pages
    twice: a 300 MiB pytest forking to start a probe host would briefly look like
    600 MiB.  RSS only where PSS cannot be read (not Linux)."""
    try:
        return int(p.memory_full_info().pss)
    except (AttributeError, psutil.AccessDenied):
        return int(p.memory_info().rss)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure(args: list[str], log: Path, env: dict[str, str] | None = None
            ) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds of the tree, peak tree PSS in bytes, exit code) of
    one command; its standard error goes to ``log``.  Commands run one at a time, so
    the growth of this process's RUSAGE_CHILDREN is theirs alone."""
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    with log.open("wb") as err:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, env=env)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += _memory(p)
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        peak = max(peak, total)
        time.sleep(0.02)
    return time.perf_counter() - t0, _children_cpu() - cpu0, peak, proc.returncode


#: What a cold cache keeps: builds, not results (see the module's docstring).
BUILDS = ("libteecert_probe-*.so", "teecert-probe-host-*", "libteecert_clocks-*.so", "locale")


def cold_cache(xdg: Path) -> None:
    """Empty ``xdg``/teecert of everything but the builds, copying the builds from the
    user's cache when there are some."""
    mine = xdg / "teecert"
    shutil.rmtree(mine, ignore_errors=True)
    mine.mkdir(parents=True)
    home = Path(os.path.expanduser("~")) / ".cache" / "teecert"
    for pattern in BUILDS:
        for src in home.glob(pattern):
            if src.is_dir():
                shutil.copytree(src, mine / src.name, symlinks=True)
            else:
                shutil.copy2(src, mine / src.name)


def figures(label: str, runs: list[tuple[float, float, int, int]]) -> str:
    walls, cpus, peaks = [r[0] for r in runs], [r[1] for r in runs], [r[2] / 2**20 for r in runs]
    return (f"  {label:22s} wall min {min(walls):6.2f} median {statistics.median(walls):6.2f} s, "
            f"CPU min {min(cpus):6.2f} median {statistics.median(cpus):6.2f} s, "
            f"peak PSS min {min(peaks):6.1f} median {statistics.median(peaks):6.1f} MiB "
            f"({len(runs)} runs)")


def quick_profile(name: str, folder: Path) -> Path:
    """A copy of profile ``name`` with one chunk of each stream and without the libm
    suite (as tests/conftest.py's quick_profile), written into ``folder``."""
    from teecert.profile import load_profile

    doc = dict(load_profile(name).data)
    doc["id"] = f"{doc['id']}-quick"
    doc["stream_scale"] = 1  # the first chunk of each stream
    doc["suites"] = {k: v for k, v in doc["suites"].items() if k != "libm"}
    path = folder / f"{doc['id']}.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def compile_bytecode() -> None:
    """Compile teecert's modules and the suites, as ``pip install`` does (see the
    module's docstring)."""
    import compileall

    import teecert
    from teecert.certify.preflight import suites_path

    for folder in (Path(teecert.__file__).parent, suites_path()):
        compileall.compile_dir(str(folder), quiet=1)


def last_line(log: Path) -> str:
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return lines[-1] if lines else "(nothing on standard error)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2, help="cold runs and warm runs each")
    ap.add_argument("--profile", default="development")
    ap.add_argument("--workers", action="append", help="worker counts to try (default: one "
                    "process and -n 2; with --quick, one process)")
    ap.add_argument("--quick", action="store_true",
                    help="once, in one process, a tiny copy of the profile: checks that it runs")
    if ap.parse_known_args(argv)[0].quick:  # explicit options still win
        ap.set_defaults(repeat=1)
    a = ap.parse_args(argv)
    if a.quick and not a.workers:
        a.workers = ["1"]
    failed: list[str] = []
    compile_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key.pem"
        subprocess.run([sys.executable, "-m", "teecert", "keys", "generate", str(key)], check=True,
                       stdout=subprocess.DEVNULL)
        profile = str(quick_profile(a.profile, Path(tmp))) if a.quick else a.profile
        shown = f"{a.profile} (quick copy: stream_scale 1, no libm)" if a.quick else a.profile
        print(f"teecert run --profile {shown}: {psutil.cpu_count()} logical cores")
        xdg = Path(tmp) / "cache"
        env = {**os.environ, "XDG_CACHE_HOME": str(xdg)}
        for workers in ([None if w == "1" else w for w in a.workers] if a.workers else (None, "2")):
            out = Path(tmp) / f"out-{workers}"
            log = Path(tmp) / f"stderr-{workers}.txt"
            cmd = [sys.executable, "-m", "teecert", "run", "--profile", profile, "--key", str(key),
                   "--out", str(out)]
            if workers:
                cmd += ["-n", workers]
            cold = []
            for _ in range(a.repeat):
                cold_cache(xdg)
                cold.append(measure(cmd, log, env))
            warm = [measure(cmd, log, env) for _ in range(a.repeat)]
            codes = sorted({r[3] for r in cold + warm})
            label = f"-n {workers}" if workers else "one process"
            print(figures(f"{label}, cold", cold))
            print(figures(f"{label}, warm", warm))
            print(f"    exit codes {codes}; " + suite_times(out))
            # 0 CERTIFIED and 1 NOT_CERTIFIED are outcomes of a run; anything else
            # (2: nothing written, negative: killed) means there was no run to measure.
            if any(c not in (0, 1) for c in codes):
                failed.append(f"{label}: exit codes {codes}: {last_line(log)}")
    for line in failed:
        print(f"teecert run failed, {line}", file=sys.stderr)
    return 1 if failed else 0


def suite_times(out: Path) -> str:
    """Seconds the tests of each suite took in the newest report of ``out``."""
    reports = sorted(out.glob("teecert-report-*.json"), key=lambda p: p.stat().st_mtime)
    if not reports:
        return "no report"
    env = json.loads(reports[-1].read_bytes())
    pred = json.loads(base64.b64decode(env["payload"]))["predicate"]
    per: dict[str, int] = {}
    for r in pred["results"]:
        per[r["suite"]] = per.get(r["suite"], 0) + int(r["duration_ms"])
    return ", ".join(f"{s} {ms / 1000:.1f} s" for s, ms in sorted(per.items()))


if __name__ == "__main__":
    sys.exit(main())
