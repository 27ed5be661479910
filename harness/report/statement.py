"""Run reports: build the in-toto Statement, sign it into a DSSE envelope, write it.

The statement's predicate records everything a verifier needs to recompute the
verdict (results and the full profile document) and to know what was certified
(environment and probe digests, which are also the statement's subjects).  The
verdict and summary are always computed here from the results and the profile,
never taken from the caller, and ``sign_statement`` re-checks them before signing,
so teecert cannot sign a report whose verdict its own results do not support.
``docs/report-format.md`` specifies every field.
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import functools
import hashlib
import json
import operator
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import profile as profiles
from .._internal import canonical, dsse
from .._internal.atomic import write_atomic
from .._internal.files import package_dir
from .._internal.schema import is_valid as schema_is_valid
from .._internal.schema import load as load_schema
from .._internal.schema import schema_error
from .._internal.schema import validator as schema_validator
from .._internal.timefmt import format_time, parse_time
from ..errors import MalformedInput, UsageError
from ..profile import Profile
from . import keys, verdict
from .identity import identity_digest

if TYPE_CHECKING:
    import jsonschema

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://teecert.dev/run-report/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
SUBJECT_ENVIRONMENT = "platform-environment"
SUBJECT_PROBE = "probe"
_RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

# Files that make up teecert's source for ``source_digest``.  Vector data and native
# sources are left out on purpose: the report pins the vector set and the probe by
# their own digests, and native build products differ from machine to machine.
_SOURCE_SUFFIXES = frozenset({".py", ".json", ".ini", ".j2", ".html", ".css", ".md", ".txt", ".typed"})
_SOURCE_EXCLUDE_DIRS = frozenset({"__pycache__", "vector_data", "native"})
_SOURCE_SUBPACKAGES = ("suites",)


# -- time ---------------------------------------------------------------------------


# -- the harness's own identity ---------------------------------------------------------


def _source_files() -> list[tuple[str, Path]]:
    root = Path(__file__).resolve().parent.parent  # the package's root, harness/ in a checkout
    files: dict[str, Path] = {}

    def walk(base: Path, prefix: str) -> None:
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(base)
            if any(part in _SOURCE_EXCLUDE_DIRS or part.startswith(".") for part in rel.parts):
                continue
            if p.is_file() and p.suffix in _SOURCE_SUFFIXES:
                files[prefix + rel.as_posix()] = p

    walk(root, "")
    # In a source checkout the subpackages live outside harness/; installed, they are
    # inside it.  Either way they are hashed under the same relative paths.
    for sub in _SOURCE_SUBPACKAGES:
        if (root / sub).is_dir():
            continue
        try:
            sub_root = package_dir(f"teecert.{sub}")
        except ModuleNotFoundError:
            # harness/ imported directly from a checkout: the subpackage is its sibling.
            sub_root = root.parent / sub
            if not (root.parent / "pyproject.toml").is_file():
                continue
        if sub_root.is_dir():
            walk(sub_root, f"{sub}/")
    return sorted(files.items())


@functools.cache
def source_digest() -> str:
    """SHA-256 over teecert's source files: for each, in sorted relative-path order,
    the path (UTF-8), a NUL byte and the file's SHA-256 (32 raw bytes)."""
    h = hashlib.sha256()
    for rel, path in _source_files():
        h.update(rel.encode("utf-8"))
        h.update(b"\x00")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


# -- schema --------------------------------------------------------------------------


def schema() -> dict[str, Any]:
    """The run-report JSON Schema (package data)."""
    return load_schema("run-report")


def _validator() -> jsonschema.protocols.Validator:
    return schema_validator("run-report")


# A report holds hundreds of result rows and the generic validator spends about
# 150 microseconds on each, which is most of the time ``verify`` takes.  These checks
# restate $defs/result and $defs/reason of the schema in plain Python; when every row
# passes them the rows are left out of the generic validation.  When any row fails,
# the generic validator runs on everything, so errors read the same.
# tests/report/test_report.py checks that both agree on generated rows.
_RESULT_KEYS = frozenset({"id", "suite", "op", "kind", "outcome", "message", "vectors", "failures", "root",
                          "expected_root", "divergence", "duration_ms"})
_DIVERGENCE_KEYS = frozenset({"index", "inputs", "expected", "got", "ulp"})
_REASON_KEYS = frozenset({"code", "suite", "test", "message", "op"})
_KINDS = frozenset({"explicit", "stream", "check"})
_OUTCOMES = frozenset({"passed", "failed", "error", "skipped", "unsupported"})
_CODES = frozenset({"SUITE_MISSING", "TEST_FAILED", "TEST_SKIPPED", "OP_UNSUPPORTED", "ATTESTATION_MISSING"})
_SUITE = re.compile(r"[a-z0-9][a-z0-9_]*\Z")
_HEX = re.compile(r"[0-9a-f]+\Z")
_ULP = re.compile(r"(0|[1-9][0-9]*|nan)\Z")


def _count(x: Any) -> bool:
    return type(x) is int and 0 <= x <= canonical.MAX_SAFE_INTEGER


def _hex(x: Any) -> bool:
    return isinstance(x, str) and len(x) <= 2048 and _HEX.match(x) is not None


def _divergence_ok(d: Any) -> bool:
    """Whether ``d``, not None, fits the ``divergence`` of ``$defs/result``."""
    return (
        isinstance(d, dict) and d.keys() == _DIVERGENCE_KEYS
        and _count(d["index"]) and isinstance(d["inputs"], list) and all(_hex(x) for x in d["inputs"])
        and _hex(d["expected"]) and _hex(d["got"])
        and (d["ulp"] is None or (isinstance(d["ulp"], str) and _ULP.match(d["ulp"]) is not None))
    )


def result_row_ok(r: Any) -> bool:
    """Whether ``r`` fits ``$defs/result`` of the run-report schema (fast path)."""
    if not isinstance(r, dict) or r.keys() != _RESULT_KEYS:
        return False
    op, d = r["op"], r["divergence"]
    if not (
        isinstance(r["id"], str) and 1 <= len(r["id"]) <= 1000
        and isinstance(r["suite"], str) and _SUITE.match(r["suite"])
        and (op is None or (isinstance(op, str) and 1 <= len(op) <= 200))
        and isinstance(r["kind"], str) and r["kind"] in _KINDS
        and isinstance(r["outcome"], str) and r["outcome"] in _OUTCOMES
        and isinstance(r["message"], str) and len(r["message"]) <= 2000
        and _count(r["vectors"]) and _count(r["failures"]) and _count(r["duration_ms"])
        and (r["root"] is None or _hex(r["root"]))
        and (r["expected_root"] is None or _hex(r["expected_root"]))
    ):
        return False
    return d is None or _divergence_ok(d)


_COLUMNS = operator.itemgetter("id", "suite", "op", "kind", "outcome", "message", "vectors", "failures",
                               "duration_ms", "root", "expected_root", "divergence")
_STR = frozenset({str})
_INT = frozenset({int})
_DICT = frozenset({dict})
_TWELVE = {len(_RESULT_KEYS)}
_STR_OR_NONE = frozenset({str, type(None)})
_DICT_OR_NONE = frozenset({dict, type(None)})


def _types(column: Iterable[Any]) -> set[type]:
    return set(map(type, column))


_not_none = functools.partial(operator.is_not, None)
_ID = operator.itemgetter("id")


def _lengths_within(strings: Iterable[str], low: int, high: int) -> bool:
    """Every string of ``strings`` is ``low`` to ``high`` characters long."""
    lengths = list(map(len, strings))
    return not lengths or (min(lengths) >= low and max(lengths) <= high)


def _counts(column: tuple[Any, ...]) -> bool:
    return _types(column) <= _INT and min(column) >= 0 and max(column) <= canonical.MAX_SAFE_INTEGER


_HEX_DIGITS = b"0123456789abcdef"


def _roots(column: tuple[Any, ...]) -> bool:
    # Each string is hex if and only if their concatenation is, given none is empty;
    # deleting the hex digits from its bytes is ten times faster than the pattern.
    if not (_types(column) <= _STR_OR_NONE and _lengths_within(filter(_not_none, column), 1, 2048)):
        return False
    joined = "".join(filter(_not_none, column))
    return joined.isascii() and not joined.encode("ascii").translate(None, _HEX_DIGITS)


def _rows_by_column(rows: list[Any]) -> bool:
    """True only if ``result_row_ok`` holds for every row, checked a field at a time
    over all rows (builtins over columns instead of a dozen calls a row); False when
    that cannot be shown this way, which then ``result_row_ok`` decides row by row.
    Values of exact JSON types only: anything else is left to ``result_row_ok``."""
    if not rows:
        return True
    # Twelve members, each of them one of the twelve names: exactly the names.
    if not (_types(rows) <= _DICT and set(map(len, rows)) == _TWELVE):
        return False
    try:
        columns = list(zip(*map(_COLUMNS, rows), strict=True))
    except KeyError:
        return False
    ids, suites, ops, kinds, outcomes, messages, vectors, failures, durations, roots, expected_roots, divergences = (
        columns)
    return (
        _types(ids) <= _STR and _lengths_within(ids, 1, 1000)
        and _types(suites) <= _STR and all(_SUITE.match(s) for s in set(suites))
        and _types(ops) <= _STR_OR_NONE and _lengths_within(filter(_not_none, ops), 1, 200)
        and _types(kinds) <= _STR and set(kinds) <= _KINDS
        and _types(outcomes) <= _STR and set(outcomes) <= _OUTCOMES
        and _types(messages) <= _STR and _lengths_within(messages, 0, 2000)
        and _counts(vectors) and _counts(failures) and _counts(durations)
        and _roots(roots) and _roots(expected_roots)
        and _types(divergences) <= _DICT_OR_NONE and all(_divergence_ok(d) for d in divergences if d is not None)
    )


def results_ok(rows: list[Any]) -> bool:
    """``all(result_row_ok(r) for r in rows)``, by columns when it can (``_rows_by_column``)."""
    return _rows_by_column(rows) or all(result_row_ok(r) for r in rows)


def reason_ok(r: Any) -> bool:
    """Whether ``r`` fits ``$defs/reason`` of the run-report schema (fast path)."""
    if not isinstance(r, dict) or not {"code", "suite"} <= r.keys() <= _REASON_KEYS:
        return False
    return bool(
        isinstance(r["code"], str) and r["code"] in _CODES and isinstance(r["suite"], str)
        and isinstance(r.get("test", ""), str) and isinstance(r.get("message", ""), str)
        and (r.get("op") is None or isinstance(r["op"], str))
    )


def _without_rows(statement: Any) -> Any:
    """``statement`` with results and reasons emptied if they all pass the fast checks."""
    if not isinstance(statement, dict):
        return statement
    pred = statement.get("predicate")
    if not isinstance(pred, dict):
        return statement
    results, verd = pred.get("results"), pred.get("verdict")
    if not (isinstance(results, list) and isinstance(verd, dict) and isinstance(verd.get("reasons"), list)):
        return statement
    if not (results_ok(results) and all(reason_ok(r) for r in verd["reasons"])):
        return statement
    return {**statement, "predicate": {**pred, "results": [], "verdict": {**verd, "reasons": []}}}


def validate_schema(statement: Any, where: str) -> None:
    """``MalformedInput`` naming ``where`` and the JSON path unless ``statement`` fits the schema.

    The rest of a statement whose rows pass the fast checks is checked by the
    schema's compiled check (``_internal.schema.is_valid``); a statement that fails
    anything is validated again by jsonschema, whose most relevant error is the message.
    """
    light = _without_rows(statement)
    if light is not statement and schema_is_valid("run-report", light):
        return
    err = schema_error(list(_validator().iter_errors(statement)), where)
    if err is not None:
        raise err


def check_consistency(statement: Mapping[str, Any], where: str) -> None:
    """Facts the schema cannot express: subjects match the predicate, the signer's key
    id matches its key, run times are ordered, test ids are unique, and the recorded
    profile document hashes to the recorded digest.  ``MalformedInput`` otherwise."""
    pred = statement["predicate"]
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    if subjects.get(SUBJECT_ENVIRONMENT) != pred["environment"]["digest"]:
        raise MalformedInput(f"{where}: subject {SUBJECT_ENVIRONMENT!r} does not match predicate.environment.digest")
    if subjects.get(SUBJECT_PROBE) != pred["probe"]["digest"]:
        raise MalformedInput(f"{where}: subject {SUBJECT_PROBE!r} does not match predicate.probe.digest")
    pub = keys.public_from_raw_b64(pred["signer"]["public_key"], f"{where}: predicate.signer.public_key")
    if keys.keyid(pub) != pred["signer"]["keyid"]:
        raise MalformedInput(f"{where}: predicate.signer.keyid is not the key id of predicate.signer.public_key")
    run = pred["run"]
    finished = parse_time(run["finished"], where)
    if finished < parse_time(run["started"], where):
        raise MalformedInput(f"{where}: predicate.run.finished is before predicate.run.started")
    validity = pred["validity"]
    not_after = parse_time(validity["not_after"], where)  # parsed in the order errors were always named
    not_before = parse_time(validity["not_before"], where)
    if not_after < not_before:
        raise MalformedInput(f"{where}: predicate.validity.not_after is before not_before")
    if not_before != finished:
        raise MalformedInput(f"{where}: predicate.validity.not_before is not the run's finish "
                             "(predicate.run.finished): a report is valid from when its run ended")
    env = pred["environment"]
    if identity_digest(env["fingerprint"]) != env["digest"]:
        raise MalformedInput(f"{where}: predicate.environment.digest is not the identity digest of "
                             "predicate.environment.fingerprint")
    ids = list(map(_ID, pred["results"]))
    if len(set(ids)) != len(ids):  # then find the first repeat, to name it
        seen: set[str] = set()
        for i, rid in enumerate(ids):
            if rid in seen:
                raise MalformedInput(f"{where}: $.predicate.results[{i}]: test id {rid!r} appears twice")
            seen.add(rid)
    prof = pred["profile"]
    doc = prof["document"]
    if canonical.sha256_hex(doc) != prof["digest"]:
        raise MalformedInput(f"{where}: predicate.profile.document does not hash to predicate.profile.digest")
    if doc["id"] != prof["id"] or doc["version"] != prof["version"]:
        raise MalformedInput(f"{where}: predicate.profile id/version differ from its document's")


def embedded_profile(statement: Mapping[str, Any], where: str) -> Profile:
    """The profile document recorded in a (schema-valid, consistent) statement."""
    return profiles.from_document(copy.deepcopy(statement["predicate"]["profile"]["document"]),
                                  f"{where}: predicate.profile.document")


# -- building and signing ------------------------------------------------------------------


def build_statement(
    *,
    harness: Mapping[str, Any],
    run: Mapping[str, Any],
    profile: Profile,
    vector_set: Mapping[str, Any],
    probe: Mapping[str, Any],
    environment: Mapping[str, Any],
    results: Iterable[Mapping[str, Any]],
    signer_pub: Ed25519PublicKey,
    validity_days: int | None = None,
    attestation: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The in-toto Statement of one run; summary, verdict and validity are computed here.

    ``validity_days`` may shorten the profile's ``report_validity_days``, never
    lengthen it.  The validity period starts when the run finished
    (``run["finished"]``): a report is not a free-standing claim its signer dates.
    """
    days = profile.validity_days if validity_days is None else validity_days
    if not 1 <= days <= profile.validity_days:
        raise UsageError(
            f"validity of {days} days: profile {profile.id} allows 1 to {profile.validity_days} days"
        )
    start = parse_time(run["finished"], "run report: run.finished")
    rows = sorted((dict(r) for r in results), key=lambda r: str(r.get("id")))
    predicate: dict[str, Any] = {
        "harness": dict(harness),
        "run": dict(run),
        "profile": {**profile.identity(), "document": copy.deepcopy(profile.data)},
        "vector_set": dict(vector_set),
        "probe": dict(probe),
        "environment": dict(environment),
        "results": rows,
        "summary": verdict.summarize(rows, profile),
        "verdict": verdict.compute(rows, profile, at=start),
        "validity": {
            "not_before": format_time(start),
            "not_after": format_time(start + _dt.timedelta(days=days)),
        },
        "signer": {"keyid": keys.keyid(signer_pub), "public_key": keys.public_raw_b64(signer_pub)},
    }
    if attestation is not None:
        predicate["attestation"] = copy.deepcopy(dict(attestation))
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": SUBJECT_ENVIRONMENT, "digest": {"sha256": environment.get("digest")}},
            {"name": SUBJECT_PROBE, "digest": {"sha256": probe.get("digest")}},
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }


def with_attestation(statement: Mapping[str, Any], attestation: Mapping[str, Any], row: Mapping[str, Any],
                     profile: Profile) -> dict[str, Any]:
    """``statement`` completed with its attestation section and result row; the summary
    and verdict are recomputed (the row counts like any other)."""
    out = copy.deepcopy(dict(statement))
    pred = out["predicate"]
    rows = sorted([*(r for r in pred["results"] if r["id"] != row["id"]), dict(row)], key=lambda r: str(r["id"]))
    pred["results"] = rows
    pred["attestation"] = copy.deepcopy(dict(attestation))
    pred["summary"] = verdict.summarize(rows, profile)
    pred["verdict"] = verdict.compute(rows, profile, at=parse_time(pred["validity"]["not_before"], "statement"))
    return out


def sign_statement(statement: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """Check ``statement`` (schema, consistency, verdict) and sign it into a DSSE envelope."""
    where = "run report"
    payload = canonical.dumps(statement)  # refuses floats and unsafe integers first
    validate_schema(statement, where)
    check_consistency(statement, where)
    pred = statement["predicate"]
    if pred["signer"]["keyid"] != keys.keyid(private_key.public_key()):
        raise UsageError("run report: predicate.signer names another key than the one signing")
    prof = embedded_profile(statement, where)
    run_time = parse_time(pred["validity"]["not_before"], where)
    if verdict.compute(pred["results"], prof, at=run_time) != pred["verdict"]:
        raise UsageError("run report: predicate.verdict is not the verdict of its results under its profile")
    if verdict.summarize(pred["results"], prof) != pred["summary"]:
        raise UsageError("run report: predicate.summary does not count its results")
    return dsse.sign(PAYLOAD_TYPE, payload, [private_key])


def report_filename(run_id: str) -> str:
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise UsageError(f"run id {run_id!r} is not a UUID4; it names the report file")
    return f"teecert-report-{run_id}.json"


def write_report(out_dir: Path, envelope: Mapping[str, Any], statement: Mapping[str, Any]) -> Path:
    """Write ``envelope`` to ``out_dir/teecert-report-<run id>.json`` atomically; never overwrite."""
    name = report_filename(statement["predicate"]["run"]["id"])
    if base64.b64decode(envelope["payload"]) != canonical.dumps(statement):
        raise UsageError("write_report: the envelope does not carry this statement")
    data = (json.dumps(envelope, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"{out}: cannot create the report folder ({e.strerror})") from None
    return write_atomic(out / name, data, 0o644, overwrite=False)
