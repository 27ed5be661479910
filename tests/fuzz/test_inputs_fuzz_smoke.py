"""A short run of every input fuzz target (``tests/fuzz/``) in the default tests.

Each target (report, attestation, description, wire, profile, governance, vectors)
runs a couple of hundred cases from ``python -m tests.fuzz.run``'s generator: none may
end in anything but a ``TeecertError`` (no ``KeyError``, ``RecursionError``, ...) or
take longer than the deadline.  Findings (a refusal of more than one line, naming no
input, or a ``UsageError`` for bad data) are listed by the long run and in
``tests/fuzz/README.md``; the smoke run asserts only what is fixed: no escapes.
"""

from __future__ import annotations

import os

import pytest

from . import mutators, run, targets

SMOKE_CASES = int(os.environ.get("TEECERT_FUZZ_SMOKE_CASES", "200"))
#: Cases with a per-target share: report and attestation verify a full report per case.
SHARE = {"report": 0.4, "attestation": 0.4}


@pytest.mark.parametrize("target", targets.TARGETS)
def test_fuzz_smoke(target: str) -> None:
    cases = max(20, int(SMOKE_CASES * SHARE.get(target, 1.0)))
    # A generous deadline: the default test run shares two cores with other tests.
    tally = run.fuzz(target, cases, seed=7, deadline=20.0)
    assert tally.escapes == 0, "\n".join(
        f"{p.summary}\n{p.reproducer()}\n{p.trace}" for probs in tally.problems.values() for p in probs
        if p.what == "escape")
    assert tally.cases == cases, run.summary_line(tally)


def test_a_case_replays_exactly() -> None:
    """Case i of a target under a seed is the same input every time (the reproducer
    printed with an escape is enough to see it again)."""
    for target in ("report", "wire", "profile"):
        first = targets.MAKERS[target](targets.case_rng(3, target, 11))
        again = targets.MAKERS[target](targets.case_rng(3, target, 11))
        assert first.kind == again.kind and first.data == again.data


def test_document_mutations_change_the_document() -> None:
    """The structural mutator does mutate (a mutator that silently does nothing would
    leave every target fuzzing only the seeds)."""
    doc = {"a": [1, 2, {"b": "text"}], "c": {"d": None, "e": 3}}
    changed = skipped = 0
    for i in range(200):
        kind, out = mutators.mutate_doc(doc, targets.case_rng(1, "mutators", i))
        changed += mutators.serialize(out) != mutators.serialize(doc)
        skipped += "skipped" in kind
    assert changed > 150 and skipped < 20, (changed, skipped)
    assert doc == {"a": [1, 2, {"b": "text"}], "c": {"d": None, "e": 3}}  # the seed itself untouched
