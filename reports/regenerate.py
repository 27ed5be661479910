"""Regenerate the example reports in ``reports/``: ``python reports/regenerate.py``.

Two real runs of ``teecert run`` under ``reports/example-profile.json``, the built-in
development profile without its ``glibc_tunables`` perturbation (on an x86-64 machine with
FMA, glibc's ``exp`` gives other bits when GLIBC_TUNABLES masks FMA, which fails the
reference probe in every profile: an honest finding about glibc, which the examples are
not about), signed by a throwaway key made for this regeneration (its private half is
deleted at the end, its public half is kept as ``reports/example-signer.pub`` so that
readers can ``--trust`` it):

- the reference probe, which must be CERTIFIED (exit 0);
- the zoo probe ``one_ulp`` from ``tests/probes/one_ulp.c`` (the reference probe with
  ``f64.div.rne`` one ULP too large on subnormal quotients), which must be
  NOT_CERTIFIED (exit 1) with real failures naming that op.

Each report is then verified and rendered to HTML and Markdown, and the two are
compared (``reports/example-compare.html``).  Any unexpected exit code stops the script
with exit 2 and leaves the previous examples in place.  Needs a checkout (it builds the
zoo probe from ``tests/``), an installed teecert and gcc; takes a few minutes.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: the profile file, written next to the examples (and into the runs' folder, so that the
#: run command the reports record names it by a relative path)
PROFILE = "example-profile.json"
PROFILE_REL = f"reports/{PROFILE}"
#: example name -> (zoo probe or None for the reference probe, expected exit code)
RUNS: dict[str, tuple[str | None, int]] = {
    "certified": (None, 0),
    "not-certified": ("one_ulp", 1),
}


def teecert(*args: str, cwd: Path, expect: int) -> str:
    """Run ``teecert ARGS`` in ``cwd``; stop unless it exits ``expect``."""
    print("$ teecert " + " ".join(args), flush=True)
    p = subprocess.run([sys.executable, "-m", "teecert", *args], cwd=cwd, text=True,
                       capture_output=True, check=False)
    sys.stdout.write(p.stdout[-2000:])
    if p.returncode != expect:
        sys.stderr.write(p.stderr[-4000:])
        sys.exit(f"regenerate: `teecert {' '.join(args)}` exited {p.returncode}, expected {expect}")
    return p.stdout


def finished(report: Path) -> str:
    """``run.finished`` of a signed report (read, not verified: verify does that)."""
    env = json.loads(report.read_text())
    return str(json.loads(base64.b64decode(env["payload"]))["predicate"]["run"]["finished"])


def main() -> int:
    sys.path.insert(0, str(ROOT / "tests"))
    from probezoo import build_zoo_probe

    with tempfile.TemporaryDirectory(prefix="teecert-examples-") as tmp:
        work = Path(tmp)
        # Relative paths only: the run command is recorded in the signed report.
        teecert("keys", "generate", "example-key.pem", cwd=work, expect=0)
        write_profile(work / PROFILE)
        staged: dict[str, Path] = {}
        for name, (zoo, code) in RUNS.items():
            args = ["run", "--profile", PROFILE, "--key", "example-key.pem", "--out", name]
            if zoo is not None:
                probe = work / f"libteecert-zoo-{zoo}.so"
                shutil.copyfile(build_zoo_probe(zoo), probe)
                args[1:1] = ["--probe", probe.name]
            teecert(*args, cwd=work, expect=code)
            (report,) = sorted((work / name).glob("teecert-report-*.json"))
            staged[name] = report

        # Replace the examples only once both runs gave the expected verdicts.
        shutil.copyfile(work / "example-key.pem.pub", HERE / "example-signer.pub")
        shutil.copyfile(work / PROFILE, HERE / PROFILE)
        for name, report in staged.items():
            shutil.copyfile(report, HERE / f"example-{name}.json")
    # ``work`` and the private key are gone; everything below reads the kept files.
    trust = ["--trust", "reports/example-signer.pub", "--profile", PROFILE_REL]
    times = {}
    for name, (_zoo, code) in RUNS.items():
        rel = f"reports/example-{name}.json"
        times[name] = at = finished(ROOT / rel)
        teecert("verify", rel, *trust, "--at", at, cwd=ROOT, expect=code)
        teecert("render", rel, *trust, "--at", at, "--html", f"reports/example-{name}.html",
                "--md", f"reports/example-{name}.md", cwd=ROOT, expect=code)
    # Both reports are valid at the later finish time (validity: 30 days).
    teecert("compare", "reports/example-certified.json", "reports/example-not-certified.json", *trust,
            "--at", max(times.values()), "--html", "reports/example-compare.html", cwd=ROOT, expect=1)
    write_readme(times)
    print("regenerated:", ", ".join(sorted(p.name for p in HERE.glob("example-*"))), "and README.md")
    return 0


README = """\
# Example reports

Made by `python reports/regenerate.py` (from a checkout, with teecert installed and gcc):
two real runs of `teecert run` on one machine under `example-profile.json`: the built-in
**development** profile without its `glibc_tunables` perturbation. (On an x86-64 machine
with FMA, glibc's `exp` gives other bits when `GLIBC_TUNABLES` masks FMA; a libm whose
results change under a perturbation fails in every profile, so the reference probe, which
calls the platform's libm, is NOT_CERTIFIED under the built-in development profile there.
That is a finding about glibc, which these examples are not about.) They are signed by a
throwaway Ed25519 key made for the occasion. Its private half was deleted;
its public half is `example-signer.pub`, so you can check that these files are exactly
what that key signed. Regenerating replaces every file here (new key, new runs).

| file | what |
| --- | --- |
| `example-certified.json` | the reference probe: **CERTIFIED** (exit 0) |
| `example-not-certified.json` | the zoo probe `one_ulp` (`tests/probes/one_ulp.c`: `f64.div.rne` one ULP too large on subnormal quotients): **NOT_CERTIFIED** (exit 1), each failing test with its first differing vector |
| `example-certified.html`, `.md`; `example-not-certified.html`, `.md` | `teecert render` of each report (a view; the signed JSON is authoritative) |
| `example-compare.html` | `teecert compare` of the two: they diverge on the `f64.div.rne` results only |
| `example-signer.pub` | the public key that signed both; pin it with `--trust` |
| `example-profile.json` | the profile of both runs; pin it with `--profile` |

## Verify them

A report is valid for a limited period after its run: 30 days under the development
profile (`predicate.validity`). `teecert verify` checks validity at the verification
time, which is now unless you give `--at`; once the period is over, verifying these
examples without `--at` exits 2 (expired). Give a time inside the period, such as each
run's own finish time (`predicate.run.finished`):

```sh
teecert verify reports/example-certified.json --trust reports/example-signer.pub --profile reports/example-profile.json --at {certified}      # exit 0: CERTIFIED
teecert verify reports/example-not-certified.json --trust reports/example-signer.pub --profile reports/example-profile.json --at {not_certified}  # exit 1: NOT_CERTIFIED
teecert compare reports/example-certified.json reports/example-not-certified.json --trust reports/example-signer.pub --profile reports/example-profile.json --at {latest}  # exit 1: diverge
```

Runs: certified finished {certified}, not-certified finished {not_certified}; both are
valid for 30 days from their start. The profile pins the vector set: once teecert ships
another one, verify refuses the examples (a downgrade check) and `python
reports/regenerate.py` makes them again.

Your own reports go to `teecert run --out DIR` (the README uses `reports/local/`, which
git ignores).
"""


def write_profile(path: Path) -> None:
    """The development profile without ``glibc_tunables`` (see the module docstring)."""
    from teecert.profile import load_profile

    doc = json.loads(json.dumps(load_profile("development").data))
    doc["id"] = "example-development"
    doc["stress"]["perturbations"] = [p for p in doc["stress"]["perturbations"] if p != "glibc_tunables"]
    path.write_text(json.dumps(doc, indent=2) + "\n")


def write_readme(times: dict[str, str]) -> None:
    text = README.format(certified=times["certified"], not_certified=times["not-certified"],
                         latest=max(times.values()))
    (HERE / "README.md").write_text(text)


if __name__ == "__main__":
    sys.exit(main())
