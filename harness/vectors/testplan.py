"""The tests a complete certification run reports, from its profile and its vector
set alone, so that the run itself and any verifier can tell a run that left tests
out (deselected, ignored, stopped early) from a complete one.

The suites (``teecert.suites``) parametrize their tests over the vector set's ops
and the profile's stress perturbations; everything else they run is fixed by their
own code.  This module states that enumeration as data, as the result ids a run
writes: pytest node ids relative to the suites folder
(``test_ieee754.py::test_explicit[f64.add.rne]``).  It lives below both
``certify`` (the plugin fills in what did not run) and ``verify`` (a report
missing rows is refused), which may not import each other.  Whenever a suite's
parametrization changes, this module changes with it:
``tests/certify/test_direct_pytest.py`` collects the suites under every built-in
profile and requires exactly this set.

Besides the tests, a run's results hold rows the harness adds: one
``transcript::WORKER`` per probe transcript, ``worker::WORKER`` for a worker that
crashed, ``session::complete`` for a run that did not run everything, a row per
module that failed to collect, and ``attestation::evidence``.  Only the transcript
and evidence rows can pass; the others always fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import ops
from . import challenge
from .store import VectorSet

#: ids of the rows the harness adds to a run's results (``certify.results``)
TRANSCRIPT_PREFIX = "transcript::"
WORKER_PREFIX = "worker::"
INCOMPLETE_ID = "session::complete"
EVIDENCE_ID = "attestation::evidence"

#: pytest's parameter id of the single (skipped) test an empty parametrization gives
EMPTY_PARAMETERS = "NOTSET"

#: suites/test_fpenv.py: ``OPS`` and ``sorted(POISONS)`` (``test_poisoned_caller``), and
#: ``sorted(POISONS)`` alone (``test_probe_poison_claims``)
FPENV_OPS = ("f64.add.rne", "f64.mul.rne", "f64.div.rne", "f64.fma.rne", "f32.mul.rne", "f32.sqrt.rne",
             "f64.sub.rdn")
FPENV_POISONS = ("round-toward-zero", "round-up+ftz-daz")
#: suites/test_contraction.py: the ids pytest gives its two parameter sets
CONTRACTION_CASES = ("f64.mul_add_unfused.rne-vector0-verdicts0", "f32.mul_add_unfused.rne-vector1-verdicts1")
#: the tests that take no parameters, by suite
FIXED = {
    "probe": ("test_abi_version", "test_description", "test_transcript_step", "test_loading_keeps_fp_environment",
              "test_self_description_matches", "test_abi_conformance", "test_fp_state_watched"),
    "clocks": ("test_clocks",),
    "environment": ("test_pinned_environment", "test_consensus_isolation"),
    "attestation": ("test_probe_evidence_for_a_fresh_nonce",),
}
#: op family (``ops.Op.kind``) -> (suite, test of its explicit vectors, test of its streams)
FAMILIES = {
    "float": ("ieee754", "test_explicit", "test_stream"),
    "int": ("integers", "test_explicit", "test_stream"),
    "hash": ("hashes", "test_explicit", "test_stream"),
    "libm": ("libm", "test_libm_explicit", "test_libm_stream"),
}
#: every suite module, by suite name (``test_<suite>.py``)
SUITES = ("attestation", "challenge", "clocks", "contraction", "environment", "fpenv", "hashes", "ieee754",
          "integers", "libm", "probe", "stress")
#: the challenge suite's module: collected only in a run given a challenge
CHALLENGE_MODULE = "test_challenge.py"


def challenge_ops(vs: VectorSet) -> list[str]:
    """The ops a challenge covers: those of the vector set's streams that
    ``vectors.challenge`` challenges, in id order."""
    return [o for o in vs.stream_ops() if challenge.challenged(ops.get(o))]


def _parametrized(suite: str, test: str, params: Iterable[str]) -> dict[str, str]:
    ids = [f"test_{suite}.py::{test}[{p}]" for p in params]
    return dict.fromkeys(ids or [f"test_{suite}.py::{test}[{EMPTY_PARAMETERS}]"], suite)


def expected_tests(profile_doc: Mapping[str, Any], vs: VectorSet, *,
                   challenged: bool = False) -> dict[str, str]:
    """Result id -> suite of every test a complete run under the profile document
    ``profile_doc`` with the vector set ``vs`` reports (the harness's own rows aside).

    A test reports a row whatever happens to it: passed, failed, skipped because the
    profile does not use its suite, or unsupported because the probe lacks its op.
    A run given a challenge (``challenged``) reports the challenge suite's tests too.
    """
    out: dict[str, str] = {}
    for suite, tests in FIXED.items():
        out.update(dict.fromkeys((f"test_{suite}.py::{t}" for t in tests), suite))
    explicit = vs.explicit_ops()
    streams = vs.stream_ops()
    for family, (suite, explicit_test, stream_test) in FAMILIES.items():
        out.update(_parametrized(suite, explicit_test, (o for o in explicit if ops.get(o).kind == family)))
        out.update(_parametrized(suite, stream_test, (o for o in streams if ops.get(o).kind == family)))
    out.update(_parametrized("contraction", "test_contraction_vector", CONTRACTION_CASES))
    out.update(_parametrized("fpenv", "test_poisoned_caller", (f"{o}-{p}" for o in FPENV_OPS for p in FPENV_POISONS)))
    out.update(_parametrized("fpenv", "test_probe_poison_claims", FPENV_POISONS))
    stress = profile_doc.get("stress")
    perturbations = list(stress["perturbations"]) if isinstance(stress, Mapping) else []
    out.update(_parametrized("stress", "test_perturbation", perturbations))
    out.update(_parametrized("stress", "test_libm_determinism", perturbations))
    if challenged:
        out.update(_parametrized("challenge", "test_challenge_stream", challenge_ops(vs)))
    return out


def harness_row_suite(result_id: str) -> str | None:
    """The suite of the harness's row ``result_id`` (a transcript, a crashed worker, an
    incomplete run, the attestation evidence, a suite module or the suites folder
    that failed to collect), or None when ``result_id`` names no such row."""
    if result_id.startswith((TRANSCRIPT_PREFIX, WORKER_PREFIX)) or result_id in (INCOMPLETE_ID, "collection", "."):
        return "probe"
    if result_id == EVIDENCE_ID:
        return "attestation"
    if result_id.startswith("test_") and result_id.endswith(".py") and result_id[5:-3] in SUITES:
        return result_id[5:-3]
    return None


@dataclass(frozen=True)
class Gaps:
    """How a run's results differ from the tests it had to run."""

    missing: list[str]  # expected tests with no row, sorted
    unexpected: list[str]  # rows that are neither an expected test nor a harness row, sorted
    relabelled: list[tuple[str, str, str]]  # (id, suite the row claims, suite of the test)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.relabelled)


def gaps(rows: Iterable[Mapping[str, Any]], tests: Mapping[str, str]) -> Gaps:
    """Compare result ``rows`` with the ``tests`` of ``expected_tests``.

    A row that is not a test must be one of the harness's rows, in its suite; only
    a transcript or the attestation evidence (each checked on its own) may pass, the
    others record a failure.  A row claiming another suite than its test's could
    move a failure out of a required suite.
    """
    seen: set[str] = set()
    unexpected: list[str] = []
    relabelled: list[tuple[str, str, str]] = []
    for r in rows:
        rid = str(r["id"])
        seen.add(rid)
        suite = tests.get(rid) or harness_row_suite(rid)
        if suite is None:
            unexpected.append(rid)
            continue
        if r["suite"] != suite:
            relabelled.append((rid, str(r["suite"]), suite))
        if (rid not in tests and not rid.startswith(TRANSCRIPT_PREFIX) and rid != EVIDENCE_ID
                and r["outcome"] not in ("failed", "error")):
            unexpected.append(rid)
    return Gaps(sorted(set(tests) - seen), sorted(unexpected), sorted(relabelled))
