"""Build realistic signed run reports for tests and benchmarks, without running a probe.

``make_signed_report`` goes through the same ``report.build_statement`` /
``sign_statement`` / ``write_report`` path as a real run, with plausible results for
every suite of the profile.  ``resign`` signs an arbitrary (possibly forged)
statement with no checks at all, the way an attacker holding a key would.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert import ops
from teecert._internal import canonical, dsse
from teecert._internal.timefmt import format_time
from teecert.profile import Profile, load_profile
from teecert.report import keys
from teecert.report import statement as report
from teecert.report.identity import identity_digest
from teecert.vectors import testplan
from teecert.vectors.store import default_path, load_set

#: A fixed "now" so reports made in tests have known validity periods.
NOW = dt.datetime(2026, 11, 21, 5, 0, 0, tzinfo=dt.UTC)
SUITES = ("probe", "ieee754", "integers", "hashes", "contraction", "fpenv", "stress", "clocks", "libm",
          "environment")
_OPS = ("f64.add.rne", "f64.mul.rtz", "f64.fma.rne", "f32.div.rup", "f32.sqrt.rdn", "f64.sub.rne")


def _hex(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def result(test_id: str, suite: str, outcome: str = "passed", *, op: str | None = None,
           kind: str = "check", message: str = "", vectors: int = 0) -> dict[str, Any]:
    """One result row as the plugin records it."""
    failures = 1 if outcome == "failed" else 0
    root = _hex(test_id) if kind != "check" else None
    divergence = None
    if outcome == "failed" and kind != "check":
        divergence = {"index": 17, "inputs": ["3ff0000000000001", "3fefffffffffffff"],
                      "expected": "0000000000000000", "got": "3c9ffffffffffffe", "ulp": "4372995238176751614"}
    return {
        "id": test_id,
        "suite": suite,
        "op": op,
        "kind": kind,
        "outcome": outcome,
        "message": message or ("" if outcome == "passed" else f"{outcome}: {test_id}"),
        "vectors": vectors,
        "failures": failures,
        "root": root,
        "expected_root": (root if outcome == "passed" else _hex("golden " + test_id)) if root else None,
        "divergence": divergence,
        "duration_ms": 3,
    }


@functools.cache
def _plan(profile_doc_json: str) -> dict[str, str]:
    """Result id -> suite of every test a complete run under the profile reports."""
    return testplan.expected_tests(json.loads(profile_doc_json), load_set(default_path()))


def plan(profile: Profile | str = "development") -> dict[str, str]:
    prof = load_profile(profile) if isinstance(profile, str) else profile
    return _plan(json.dumps(prof.data, sort_keys=True))


def _op_of(test_id: str) -> str | None:
    if "[" not in test_id:
        return None
    param = test_id[test_id.index("[") + 1:-1]
    return param if param in _KNOWN_OPS else None


_KNOWN_OPS = frozenset(ops.CATALOGUE)


def _row_for(test_id: str, suite: str, outcome: str) -> dict[str, Any]:
    op = _op_of(test_id)
    kind = "stream" if "stream" in test_id.split("::")[1].split("[")[0] else ("explicit" if op else "check")
    message = f"probe does not declare {op}" if outcome == "unsupported" and op else ""
    return result(test_id, suite, outcome, op=op, kind=kind, message=message,
                  vectors=(65536 if kind == "stream" else 120) if kind != "check" else 0)


def make_results(n_pass: int = len(SUITES), n_fail: int = 0, *, n_skip: int = 0, n_unsupported: int = 0,
                 n_error: int = 0, suites: Sequence[str] = SUITES,
                 profile: Profile | str = "development") -> list[dict[str, Any]]:
    """Rows with the given outcomes, on real test ids of the profile's plan, spread
    round-robin over ``suites`` (a suite that runs out of tests lends the turn to
    ieee754); ``statement_for`` completes them with passes for every other test."""
    outcomes = (["passed"] * n_pass + ["failed"] * n_fail + ["error"] * n_error
                + ["skipped"] * n_skip + ["unsupported"] * n_unsupported)
    by_suite: dict[str, list[str]] = {}
    for tid, suite in sorted(plan(profile).items()):
        # unsupported rows need an op; keep op-less checks for the other outcomes first
        by_suite.setdefault(suite, []).append(tid)
    used: set[str] = set()
    rows = []
    for i, outcome in enumerate(outcomes):
        suite = suites[i % len(suites)]
        pool = [t for t in by_suite.get(suite, []) if t not in used and (outcome != "unsupported" or _op_of(t))]
        if not pool:
            suite = "ieee754"
            pool = [t for t in by_suite[suite] if t not in used]
        tid = pool[0]
        used.add(tid)
        rows.append(_row_for(tid, suite, outcome))
    return rows


TRANSCRIPTS = ({"worker": "gw0", "hash": _hex("t0"), "calls": 120}, {"worker": "gw1", "hash": _hex("t1"), "calls": 98})


def complete(rows: Sequence[dict[str, Any]], profile: Profile | str = "development") -> list[dict[str, Any]]:
    """``rows`` plus a passed row for every planned test they leave out and a row per
    probe transcript: what a complete run reports."""
    have = {r["id"] for r in rows}
    out = list(rows)
    out += [_row_for(tid, suite, "passed") for tid, suite in sorted(plan(profile).items()) if tid not in have]
    out += [result(f"{testplan.TRANSCRIPT_PREFIX}{t['worker']}", "probe", "passed") for t in TRANSCRIPTS
            if f"{testplan.TRANSCRIPT_PREFIX}{t['worker']}" not in have]
    return out


def statement_for(
    key: Ed25519PrivateKey,
    *,
    profile: Profile | str = "development",
    results: list[dict[str, Any]] | None = None,
    now: dt.datetime = NOW,
    validity_days: int | None = None,
    microcode: str = "0xa0011d1",
    vector_digest: str | None = None,
) -> dict[str, Any]:
    """A statement built by ``report.build_statement`` with realistic fields."""
    prof = load_profile(profile) if isinstance(profile, str) else profile
    probe_digest = _hex("probe library")
    fp = {"arch": "x86_64", "cpu_model": "AMD EPYC 7763 64-Core Processor", "microcode": microcode,
          "kernel": "Linux 6.8.0", "libc": "glibc 2.39", "cores_logical": 2, "memory_bytes": "8589934592",
          "probe_digest": probe_digest}
    return report.build_statement(
        harness={"name": "teecert", "version": "0.1.0", "source_digest": _hex("source")},
        run={
            "id": str(uuid.uuid4()),
            "nonce": _hex(str(uuid.uuid4())),
            "seed": "9007199254740993",
            "started": format_time(now - dt.timedelta(minutes=1)),
            "finished": format_time(now),
            "transport": "in-process",
            "workers": 2,
            "command": ["teecert", "run", "--profile", prof.id],
        },
        profile=prof,
        vector_set={"name": prof.vector_set_name, "version": load_set(default_path()).version,
                    "digest": vector_digest or prof.vector_digest},
        probe={
            "path": "/opt/teecert/libteecert_probe.so",
            "digest": probe_digest,
            "abi_version": 1,
            "description": {"name": "teecert-reference", "version": "1.0", "compiler": "gcc 12.2.0",
                            "cflags": "-O2 -ffp-contract=off", "FLT_EVAL_METHOD": 0, "LDBL_MANT_DIG": 64},
            "transcripts": [dict(t) for t in TRANSCRIPTS],
        },
        environment={"fingerprint": fp, "digest": identity_digest(fp)},
        results=complete(make_results(profile=prof) if results is None else results, prof),
        signer_pub=key.public_key(),
        validity_days=validity_days,
    )


@dataclass
class SignedReport:
    path: Path
    data: bytes
    envelope: dict[str, Any]
    statement: dict[str, Any]
    key: Ed25519PrivateKey
    profile: Profile

    @property
    def trusted(self) -> dict[str, Any]:
        pub = self.key.public_key()
        return {dsse.keyid_of(pub): pub}

    @property
    def pub(self) -> Path:
        """The signer's public key as a file beside the report, for ``--trust``."""
        path = self.path.with_name(self.path.name + ".signer.pub")
        if not path.exists():
            keys.write_public(path, self.key.public_key())
        return path


def refresh_identity(statement: dict[str, Any]) -> None:
    """Make the environment digest and its subject follow the (edited) fingerprint,
    as a run that observed that fingerprint would have written them."""
    env = statement["predicate"]["environment"]
    env["digest"] = identity_digest(env["fingerprint"])
    for s in statement["subject"]:
        if s["name"] == report.SUBJECT_ENVIRONMENT:
            s["digest"]["sha256"] = env["digest"]


def make_signed_report(tmp_path: Path, *, key: Ed25519PrivateKey | None = None,
                       mutate: Callable[[dict[str, Any]], None] | None = None,
                       **kwargs: Any) -> SignedReport:
    """A report written to ``tmp_path`` as ``teecert run`` would write it.

    ``mutate`` edits the statement after it is built and before it is signed (the
    environment digest then follows the fingerprint); the statement then goes
    through ``sign_statement``'s checks like any other.
    """
    key = key or Ed25519PrivateKey.generate()
    statement = statement_for(key, **kwargs)
    if mutate is not None:
        mutate(statement)
        refresh_identity(statement)
    envelope = report.sign_statement(statement, key)
    path = report.write_report(tmp_path, envelope, statement)
    prof = report.embedded_profile(statement, "test")
    return SignedReport(path, path.read_bytes(), envelope, statement, key, prof)


def resign(statement: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """Sign ``statement`` as it is, with no checks: what a forger with a key can do."""
    env = dsse.sign(report.PAYLOAD_TYPE, canonical.dumps(statement), [key])
    return json.dumps(env).encode()


def forged(signed: SignedReport, edit: Callable[[dict[str, Any]], None],
           key: Ed25519PrivateKey | None = None) -> bytes:
    """A copy of ``signed``'s statement with ``edit`` applied, re-signed (by its own key
    unless another is given) so that the signature is valid."""
    st = copy.deepcopy(signed.statement)
    edit(st)
    return resign(st, key or signed.key)


def bench_verify(n: int = 1000, results_per_report: int = 200) -> float:
    """Seconds to verify ``n`` distinct signed reports (the ``verify``/``compare`` scale
    target is a thousand reports in seconds).  Not a timed test: run this file."""
    import tempfile
    import time

    from teecert.verify.verifier import verify_report

    with tempfile.TemporaryDirectory() as tmp:
        key = Ed25519PrivateKey.generate()
        reports = [make_signed_report(Path(tmp), key=key, results=make_results(results_per_report - 3, 2, n_skip=1))
                   for _ in range(n)]
        trusted = reports[0].trusted
        start = time.perf_counter()
        for r in reports:
            verify_report(r.data, str(r.path), trusted=trusted, profile=None, at=NOW)
        return time.perf_counter() - start


if __name__ == "__main__":
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    secs = bench_verify(count, per)
    print(f"verified {count} reports of {per} results in {secs:.2f} s ({1000 * secs / count:.2f} ms each)")
