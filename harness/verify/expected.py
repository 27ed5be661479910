"""Completeness: a report must carry a row for every test its run had to run.

The verdict is recomputed from the rows a report has; a run that left tests out
(``-k``, ``--deselect``, ``--ignore``, a subset of the suites, a run stopped at the
first failure) would otherwise be judged on what it chose to keep.  Which tests a
run has follows from the profile and the vector set alone
(``teecert.vectors.testplan``): the same rule the run applies when it fills in what
did not run.  The vector set is the one shipped with this teecert, used only when
its digest is the one the report names; a report made with another vector set cannot
be checked here and is refused (fail closed).

The rule is that of this teecert's suites: a report made by a teecert whose suites
test another set (an older or newer release) is refused too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import NotAuthentic, UsageError
from ..profile import Profile
from ..vectors import testplan
from ..vectors.store import VectorSet, default_path, load_set
from . import challenge as challenge_check

_SETS: dict[str, VectorSet] = {}
_EXPECTED: dict[tuple[str, str, bool], dict[str, str]] = {}


def _shipped_set(vector_set: Mapping[str, Any], where: str) -> VectorSet:
    """The vector set the report names, if it is the one shipped with teecert."""
    digest = str(vector_set["digest"])
    if not _SETS:
        # The manifest alone: only the stream files are read here, each checked
        # against it when read.
        shipped = load_set(default_path(), check_files=False)
        _SETS[shipped.digest] = shipped
    vs = _SETS.get(digest)
    if vs is not None and (vs.name, vs.version) != (vector_set["name"], vector_set["version"]):
        raise NotAuthentic(f"{where}: names vector set {vector_set['name']} v{vector_set['version']} with the "
                           f"digest of {vs.name} v{vs.version} ({digest[:16]})")
    if vs is None:
        raise UsageError(
            f"{where}: made with vector set {vector_set['name']} v{vector_set['version']} ({digest[:16]}), "
            f"which this teecert does not ship, so the tests the run had to run cannot be known; "
            f"verify it with the teecert release that ships that vector set"
        )
    return vs


def expected_ids(profile: Profile, vs: VectorSet, challenged: bool = False) -> dict[str, str]:
    """Result id -> suite of every test a complete run under ``profile`` with ``vs``
    (and a challenge, if ``challenged``) reports; the harness's own rows
    (transcripts, attestation evidence) aside."""
    key = (profile.digest, vs.digest, challenged)
    if key not in _EXPECTED:
        _EXPECTED[key] = testplan.expected_tests(profile.data, vs, challenged=challenged)
    return _EXPECTED[key]


def check_complete(pred: Mapping[str, Any], profile: Profile, where: str) -> None:
    """``NotAuthentic`` (one line naming ``where``) unless the predicate ``pred`` has a
    result for every test its profile and vector set ask for, no result that is not
    one of them or of the harness's own rows, every result in its test's suite, and
    a ``transcript::WORKER`` row for each probe transcript and no other.

    ``UsageError`` when the report's vector set is not the one shipped here.
    """
    vs = _shipped_set(pred["vector_set"], where)
    value = pred["run"].get("challenge")
    tests = expected_ids(profile, vs, challenged=value is not None)
    rows = pred["results"]
    found = testplan.gaps(rows, tests)
    what = f"profile {profile.id} and vector set {vs.name} ({vs.digest[:16]})"
    if found.missing:
        raise NotAuthentic(f"{where}: incomplete: {len(found.missing)} of the {len(tests)} tests that {what} "
                           f"ask for have no result, first {found.missing[0]}")
    if found.unexpected:
        raise NotAuthentic(f"{where}: result {found.unexpected[0]} is not a test {what} ask for"
                           + (f" (and {len(found.unexpected) - 1} more)" if len(found.unexpected) > 1 else ""))
    if found.relabelled:
        rid, claimed, suite = found.relabelled[0]
        raise NotAuthentic(f"{where}: result {rid} claims suite {claimed}, but it is a test of suite {suite}")
    workers = {str(t["worker"]) for t in pred["probe"]["transcripts"]}
    rows_of = {str(r["id"])[len(testplan.TRANSCRIPT_PREFIX):] for r in rows
               if str(r["id"]).startswith(testplan.TRANSCRIPT_PREFIX)}
    if workers != rows_of:
        odd = sorted(workers ^ rows_of)[0]
        side = "a probe transcript without its result" if odd in workers else "a result without its probe transcript"
        raise NotAuthentic(f"{where}: {side}: {testplan.TRANSCRIPT_PREFIX}{odd}")
    if value is not None:
        challenge_check.check(rows, bytes.fromhex(value), vs, where)
