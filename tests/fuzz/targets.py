"""The fuzz targets: one per kind of input teecert reads, with their seeds.

Every target turns a ``random.Random`` into one ``Case``: a mutated input and the call
that feeds it to teecert the way teecert itself reads it.  Seeds are made through the
public functions (``tests/reportfactory.py``, ``report.build_statement``,
``trust.governance_document``, the vector store's writers, ...), never written by hand,
so that the fuzzer follows the formats as they change; what cannot be made
deterministically (simulated evidence has fresh keys) is made once and cached in a
temporary folder named after the harness's source digest.

Targets::

    report       the signed report file through ``verify_report`` (statement mutations
                 re-signed with the run key, envelope and byte mutations), then the views
    attestation  ``predicate.attestation`` of an attested report (re-signed), and raw
                 evidence through ``evidence.verify`` (simulated, and the real-world
                 samples of tests/attestation/fuzz_attestation.py where present)
    description  a probe's self-description as the harness parses and uses it
    wire         a probe host's replies, through ``RemoteProbe`` over a socket pair
    profile      profile files, documents and signed profiles, and the plans they hold
    governance   governance files, revocation lists (and the state file), decisions
    vectors      vector-set manifests and vector files through ``vectors.store``
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import copy
import datetime as dt
import functools
import hashlib
import inspect
import json
import os
import random
import shlex
import shutil
import socket
import struct
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert import ops
from teecert import profile as profiles
from teecert._internal import canonical, dsse
from teecert._internal.schema import load as load_schema
from teecert.attestation import binding, evidence, run_evidence
from teecert.attestation.validate import policy
from teecert.certify import preflight
from teecert.certify.facts import fingerprint
from teecert.certify.facts.characterization import characterize
from teecert.certify.judge import clocks, environment
from teecert.errors import MalformedInput, TeecertError, UnsupportedOp
from teecert.governance import profiles as governed
from teecert.governance import trust
from teecert.probe import remote
from teecert.probe.build import reference_probe_path
from teecert.probe.library import ffi, load_probe, parse_description
from teecert.report import keys, verdict
from teecert.report import statement as report
from teecert.vectors import store
from teecert.verify import compare, decision, render
from teecert.verify.verifier import outcome_to_json, verify_report

from . import mutators as mu

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import reportfactory as rf  # noqa: E402

TARGETS = ("report", "attestation", "description", "wire", "profile", "governance", "vectors")


def _key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"teecert fuzz {name}".encode()).digest())


RUN_KEY = _key("run key")
OTHER_KEY = _key("another run key")
GOV_KEYS = (_key("governance key 0"), _key("governance key 1"), _key("governance key 2"))
RUN_ID = "0f0e0d0c-0b0a-4908-8706-050403020100"


@dataclass
class Case:
    """One input and the call that reads it."""

    kind: str  # the mutation, for the counts
    run: Callable[[], str]  # feeds the input to teecert; returns an outcome name
    names: tuple[str, ...] = ()  # an error message must name one of these (the input)
    data: bytes | None = None  # the mutated input, for --dump


# -- the seed cache ---------------------------------------------------------------------------


@functools.cache
def cache_dir() -> Path:
    """A folder of seeds for this harness source and these seed builders."""
    h = hashlib.sha256(report.source_digest().encode())
    for f in (Path(__file__), Path(__file__).with_name("mutators.py"), TESTS / "reportfactory.py"):
        h.update(f.read_bytes())
    base = Path(os.environ.get("TEECERT_FUZZ_CACHE") or tempfile.gettempdir())
    d = base / f"teecert-fuzz-{h.hexdigest()[:16]}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def cached(name: str, build: Callable[[], bytes]) -> bytes:
    path = cache_dir() / name
    if path.is_file():
        return path.read_bytes()
    data = build()
    tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return data


@functools.cache
def scratch() -> Path:
    """A folder of this process's own (mutated inputs written as files, state)."""
    d = Path(tempfile.mkdtemp(prefix=f"teecert-fuzz-{os.getpid()}-"))
    atexit.register(shutil.rmtree, d, True)
    return d


@contextlib.contextmanager
def isolated_state() -> Iterator[None]:
    """Governance state (the newest revocation list seen) in a fresh folder of this
    process, never the user's, and empty at the start of every case so that a case
    does not depend on the ones before it."""
    d = scratch() / "state"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(d)
    try:
        yield
    finally:
        if old is None:
            del os.environ["XDG_STATE_HOME"]
        else:
            os.environ["XDG_STATE_HOME"] = old


def _write(name: str, data: bytes) -> Path:
    p = scratch() / name
    p.write_bytes(data)
    return p


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


# -- seeds: reports ------------------------------------------------------------------------------


class _NoTee:
    """A probe that reaches no TEE: development profiles then take simulated evidence."""

    def attest(self, report_data: bytes) -> tuple[str, bytes]:
        raise UnsupportedOp("fuzz probe: reaches no attestation technology")


def _fixed(st: dict[str, Any]) -> dict[str, Any]:
    """The run id and nonce fixed, so a seed is the same bytes every time it is made."""
    st["predicate"]["run"]["id"] = RUN_ID
    st["predicate"]["run"]["nonce"] = hashlib.sha256(b"teecert fuzz nonce").hexdigest()
    return st


def _rejudge(st: dict[str, Any], prof: profiles.Profile) -> None:
    pred = st["predicate"]
    pred["results"] = sorted(pred["results"], key=lambda r: str(r.get("id")))
    pred["summary"] = verdict.summarize(pred["results"], prof)
    pred["verdict"] = verdict.compute(pred["results"], prof, at=_parse_time(pred["validity"]["not_before"]))


def _attested(st: dict[str, Any], prof: profiles.Profile) -> dict[str, Any]:
    """``st`` with the attestation a run without a TEE gets under a development profile."""
    pred = st["predicate"]
    params = inspect.signature(run_evidence.collect).parameters
    measurement = bytes.fromhex(pred["probe"]["digest"])
    now = _parse_time(pred["run"]["finished"])
    if "statement" in params:
        blank = getattr(run_evidence, "blank_section", None)
        if blank is not None:
            pred["attestation"] = blank("probe")
        att, row = run_evidence.collect(probe=_NoTee(), profile_data=prof.data, statement=st, now=now,
                                        measurement=measurement)
    else:  # the binding of the results, nonce, transcripts and signer only
        att, row = run_evidence.collect(probe=_NoTee(), profile_data=prof.data, nonce=pred["run"]["nonce"],
                                        results=pred["results"], signer_public_key=pred["signer"]["public_key"],
                                        transcripts=pred["probe"]["transcripts"], now=now,
                                        measurement=measurement)
    pred["attestation"] = att
    pred["results"] = [*pred["results"], row]
    _rejudge(st, prof)
    return st


def _lab_profile() -> profiles.Profile:
    """A profile of the development tier with waivers and an activation window (not a
    built-in: reports under it take the 'profile not pinned' path)."""
    doc = copy.deepcopy(profiles.builtin("development").data)
    doc.update(id="fuzz-lab", version=3, activates="2026-01-01T00:00:00Z", expires="2027-06-01T00:00:00Z")
    doc["suites"] = {**doc["suites"], "libm": "required"}
    doc["waivers"] = [{"tests": ["test_ieee754.py::*", "test_hashes.py::test_stream[[]f64.add*"],
                       "reason": "fuzz waiver", "tracking": "https://example.invalid/1",
                       "expires": "2027-01-01T00:00:00Z"}]
    return profiles.from_document(doc, "fuzz-lab profile")


def _complete(st: dict[str, Any], prof: profiles.Profile, fail_every: int = 0) -> dict[str, Any]:
    """``st`` with a row for every test its profile and vector set ask for, and for
    every transcript, when this teecert's verifier checks completeness
    (``vectors.testplan``); every ``fail_every``-th test fails, skips or errors."""
    try:
        from teecert.vectors import testplan  # only where the verifier checks completeness
    except ImportError:
        return st
    pred = st["predicate"]
    vs = shipped_set()
    pred["vector_set"] = {"name": vs.name, "version": vs.version, "digest": vs.digest}
    rows = []
    bad = ("failed", "skipped", "error", "unsupported")
    for i, (tid, suite) in enumerate(sorted(testplan.expected_tests(prof.data, vs).items())):
        op = tid.split("[", 1)[1].rstrip("]") if "[" in tid else None
        op = op if op in ops.CATALOGUE else None
        outcome = bad[(i // fail_every) % len(bad)] if fail_every and i % fail_every == 0 else "passed"
        kind = "check" if op is None else ("stream" if "stream" in tid else "explicit")
        rows.append(rf.result(tid, suite, outcome, op=op, kind=kind, vectors=0 if op is None else 64))
    rows += [rf.result(f"{testplan.TRANSCRIPT_PREFIX}{t['worker']}", "probe", "passed")
             for t in pred["probe"]["transcripts"]]
    pred["results"] = rows
    _rejudge(st, prof)
    return st


@functools.cache
def shipped_set() -> Any:
    return store.load_set()


def _signed_file(st: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    env = report.sign_statement(st, key)
    return (json.dumps(env, indent=2, ensure_ascii=False) + "\n").encode()


#: Complete reports (a row for every test their run had to run: a few hundred), and the
#: same reports with a dozen rows ("-small"), which the verifier refuses as incomplete
#: but only after the envelope, signature, canonical form, schema and consistency
#: checks: ten times faster to fuzz those with.
COMPLETE_SEEDS = ("plain", "mixed", "lab", "attested")
REPORT_SEEDS = (*COMPLETE_SEEDS, *(f"{n}-small" for n in COMPLETE_SEEDS))


def _build_report(name: str) -> bytes:
    if name.endswith("-small"):
        base = name.removesuffix("-small")
        prof = _lab_profile() if base == "lab" else profiles.builtin("strict" if base == "mixed" else "development")
        results = rf.make_results(20, 3, n_skip=2, n_unsupported=2, n_error=1) if base == "mixed" else None
        st = _fixed(rf.statement_for(RUN_KEY, profile=prof, results=results))
        _rejudge(st, prof)
        return _signed_file(_attested(st, prof) if base == "attested" else st, RUN_KEY)
    if name == "plain":
        st = _complete(_fixed(rf.statement_for(RUN_KEY)), profiles.builtin("development"))
        return _signed_file(st, RUN_KEY)
    if name == "mixed":
        strict = profiles.builtin("strict")
        st = _fixed(rf.statement_for(RUN_KEY, profile="strict",
                                     results=rf.make_results(20, 3, n_skip=2, n_unsupported=2, n_error=1)))
        return _signed_file(_complete(st, strict, fail_every=37), RUN_KEY)
    if name == "lab":
        prof = _lab_profile()
        st = _fixed(rf.statement_for(RUN_KEY, profile=prof, results=rf.make_results(14, 3, n_skip=1)))
        _rejudge(st, prof)
        return _signed_file(_complete(st, prof, fail_every=29), RUN_KEY)
    prof = profiles.builtin("development")
    st = _complete(_fixed(rf.statement_for(RUN_KEY)), prof)
    return _signed_file(_attested(st, prof), RUN_KEY)


@dataclass
class ReportSeed:
    name: str
    data: bytes
    statement: dict[str, Any]
    profile: profiles.Profile
    at: dt.datetime  # a verification time inside the validity period
    outcome: Any = None  # the seed's own VerifyOutcome


@functools.cache
def report_seeds() -> dict[str, ReportSeed]:
    out = {}
    for name in REPORT_SEEDS:
        data = cached(f"report-{name}.json", lambda n=name: _build_report(n))
        _, payload, _ = dsse.parse_envelope(data, name)
        st = canonical.loads(payload, name)
        prof = report.embedded_profile(st, name)
        at = _parse_time(st["predicate"]["validity"]["not_before"]) + dt.timedelta(hours=1)
        seed = ReportSeed(name, data, st, prof, at)
        try:
            seed.outcome = verify_report(data, f"seed {name}", trusted=_trusted(RUN_KEY), profile=None, at=at)
        except TeecertError as e:  # the fuzz still runs, but less of the verifier is reached
            SEED_PROBLEMS.append(f"seed report {name!r} does not verify: {e}")
        out[name] = seed
    return out


#: Why a seed is not what it should be (printed with the results: fewer cases get far).
SEED_PROBLEMS: list[str] = []


def _trusted(*ks: Ed25519PrivateKey) -> dict[str, Any]:
    return {keys.keyid(k.public_key()): k.public_key() for k in ks}


# -- seeds: governance ---------------------------------------------------------------------------


@functools.cache
def governance_doc() -> dict[str, Any]:
    return trust.governance_document([k.public_key() for k in GOV_KEYS], 2, ["alice", "bob", "carol"])


@functools.cache
def governance() -> trust.Governance:
    return trust.governance_from_document(governance_doc(), "fuzz-governance.json")


def example(schema: dict[str, Any], root: dict[str, Any], depth: int = 0) -> Any:
    """A plausible instance of ``schema`` (a subset of JSON Schema: enough for teecert's own)."""
    if "$ref" in schema and schema["$ref"].startswith("#/$defs/"):
        return example(root["$defs"][schema["$ref"].split("/")[-1]], root, depth)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if t == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: example(v, root, depth + 1) for k, v in props.items()
                if k in schema.get("required", ()) or depth < 2}
    if t == "array":
        items = schema.get("items")
        return [example(items, root, depth + 1)] if isinstance(items, dict) and depth < 3 else []
    if t == "integer":
        return int(schema.get("minimum", 1))
    if t == "boolean":
        return False
    if t == "string":
        pattern = schema.get("pattern", "")
        if "T[0-9]{2}" in pattern:
            return "2027-01-01T00:00:00Z"
        if "{64}" in pattern:
            return "ab" * 32
        if pattern.startswith("^[a-z0-9]"):
            return "acme"
        return "x" * max(1, int(schema.get("minLength", 1)))
    return None


@functools.cache
def revocations_doc() -> dict[str, Any]:
    """A revocation list with every list filled, and any field the schema has that this
    builder does not know made up from the schema (so new fields get fuzzed too)."""
    seeds = report_seeds()
    pred = seeds["plain"].statement["predicate"]
    doc: dict[str, Any] = {
        "schema": trust.REVOCATIONS_SCHEMA,
        "issued": "2026-11-01T00:00:00Z",
        "profiles": [{"id": "fuzz-lab", "min_version": 4, "from": "2027-06-01T00:00:00Z"},
                     {"id": "development", "min_version": 1, "from": "2026-01-01T00:00:00Z"}],
        "vector_sets": [{"digest": "ab" * 32, "revoked_from": "2026-01-01T00:00:00Z", "reason": "fuzz"}],
        "keys": [{"keyid": keys.keyid(OTHER_KEY.public_key()), "from": "2026-01-01T00:00:00Z", "reason": "leaked"}],
        "platforms": [{"environment_digest": pred["environment"]["digest"], "from": "2030-01-01T00:00:00Z",
                       "reason": "TCB recall"}],
    }
    sch = load_schema("revocations")
    for k, v in sch.get("properties", {}).items():
        if k not in doc:
            doc[k] = example(v, sch)
    if "expires" in doc:
        doc["expires"] = "2027-12-31T00:00:00Z"
    trust.revocations_from_document(doc, "fuzz revocations")
    return doc


def sign_bytes(payload_type: str, payload: bytes, ks: tuple[Ed25519PrivateKey, ...]) -> bytes:
    return json.dumps(dsse.sign(payload_type, payload, list(ks)), indent=2).encode()


@functools.cache
def decision_seed() -> bytes:
    seed = report_seeds()["plain"]
    st = decision.build([(seed.data, "fuzz-report.json")], seed.profile, trusted=_trusted(RUN_KEY), at=seed.at)
    return json.dumps(decision.sign(st, GOV_KEYS[:2]), indent=2).encode()


# -- seeds: profiles ---------------------------------------------------------------------------------


@functools.cache
def profile_docs() -> dict[str, dict[str, Any]]:
    """The built-ins as shipped, and one with every optional field the schema takes."""
    out = {n: canonical.loads(profiles.builtin_path(n).read_bytes(), n) for n in profiles.BUILTIN}
    full = copy.deepcopy(_lab_profile().data)
    extras: dict[str, Any] = {
        "libm": {"pinned": {"f64.exp.rne": {"explicit": "00" * 32, "stream": "11" * 32}}},
        "environment": {"pinned": {"cpu_model": "AMD EPYC 7763", "microcode": {"one_of": ["0x1", "0x2"]},
                                   "kernel_release": {"prefix": "6."}},
                        "isolation": {"dedicated_cores": True, "busy_threshold_percent": 5,
                                      "locked_memory": False, "min_cores": 1}},
        "probe_timeout": 12,
    }
    for k, v in extras.items():
        trial = {**full, k: v}
        try:
            profiles.from_document(trial, "fuzz profile")
        except TeecertError:
            continue
        full = trial
    out["full"] = full
    return out


class _Streams:
    """A vector set as ``check_profile_plan`` sees it: its streams, loaded once."""

    def __init__(self, streams: dict[str, Any]) -> None:
        self._streams = streams

    def streams(self) -> dict[str, Any]:
        return self._streams


@functools.cache
def shipped_streams() -> _Streams:
    return _Streams(store.load_set().streams())


# -- seeds: probe ---------------------------------------------------------------------------------------


def _reference_description() -> bytes:
    try:

        probe = load_probe(reference_probe_path())
        return bytes(ffi.string(probe._lib.teecert_probe_describe()))
    except Exception:  # no reference probe built here: a description of the same shape
        return json.dumps({"name": "teecert-reference-probe", "version": "0.1.0", "abi": 1, "compiler": "12.2.0",
                           "cflags": "-O2", "flt_eval_method": 0, "ldbl_mant_dig": 64, "ldbl_bytes": 16,
                           "char_signed": True, "byte_order": "little", "arch": "x86_64",
                           "fpenv_at_entry": "0000037f00001fa0", "ratio": 0.5,
                           "ops": sorted(ops.CATALOGUE)[:40]}).encode()


@functools.cache
def description_seeds() -> tuple[bytes, ...]:
    ref = cached("description.json", _reference_description)
    small = b'{"name":"p","version":"1","abi":1,"ops":["f64.add.rne"],"x":1.5e3,"nan":NaN}'
    return ref, small


# -- seeds: vectors --------------------------------------------------------------------------------------

VECTOR_FILES_MAX_TESTS = 4


@functools.cache
def small_vector_set() -> Path:
    """A vector set of a few ops (cut from the shipped one, written by the store's own
    writers), in the seed cache."""
    d = cache_dir() / "vectors-small"
    if (d / store.MANIFEST).is_file():
        return d
    tmp = Path(tempfile.mkdtemp(prefix=".vectors-", dir=cache_dir()))
    shipped = store.load_set()
    files: dict[str, str] = {}
    explicit = ["f64.add.rne", "f32.sqrt.rne", "f64.exp.rne"]
    data_ops = [o for o in shipped.explicit_ops() if ops.get(o).kind in ops.DATA_KINDS]
    explicit += data_ops[:2]
    (tmp / "explicit").mkdir()
    for op_id in explicit:
        name = f"explicit/{op_id}.json"
        doc = canonical.loads((shipped.path / name).read_bytes(), name)
        for g in doc["testGroups"]:
            g["tests"] = g["tests"][:VECTOR_FILES_MAX_TESTS]
        doc["numberOfTests"] = sum(len(g["tests"]) for g in doc["testGroups"])
        text = json.dumps(doc, separators=(",", ":")) + "\n"
        (tmp / name).write_text(text)
    for fname in (store.STREAMS, store.LIBM_STREAMS, store.DATA_STREAMS):
        if fname not in shipped.files:
            continue
        doc = canonical.loads((shipped.path / fname).read_bytes(), fname)
        doc["streams"] = doc["streams"][:2]
        (tmp / fname).write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    for p in sorted(tmp.rglob("*.json")):
        files[p.relative_to(tmp).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    (tmp / store.MANIFEST).write_text(store.manifest_text(files))
    store.load_set(tmp)
    try:
        os.replace(tmp, d)
    except OSError:  # another process made it first
        shutil.rmtree(tmp, ignore_errors=True)
    return d


# -- shared case pieces -------------------------------------------------------------------------------------


def _pick_time(rng: random.Random, at: dt.datetime, *, naive: bool = True) -> dt.datetime:
    """``at`` mostly, else another time (a naive one only where the API takes one)."""
    r = rng.random()
    if r < 0.85:
        return at
    times = [at - dt.timedelta(days=1), at + dt.timedelta(days=29), at + dt.timedelta(days=400),
             dt.datetime(1970, 1, 1, tzinfo=dt.UTC), dt.datetime(9999, 12, 31, tzinfo=dt.UTC)]
    if naive:
        times.append(at.replace(tzinfo=None))
    return rng.choice(times)


def _mutate_envelope(env_bytes: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Mutations of a DSSE envelope's own members (the signed payload left as it is)."""
    env = json.loads(env_bytes)
    kind = rng.randrange(8)
    if kind == 0:  # the payload's base64 in another (non-canonical or URL-safe) spelling
        p = env["payload"]
        env["payload"] = rng.choice((p.rstrip("="), p.replace("+", "-").replace("/", "_"), p + "=", p + "\n",
                                     " " + p, p[:-2] + ("A" if p[-2:-1] != "A" else "B") + p[-1:], p.lower()))
        return "envelope-b64", mu.serialize(env)
    if kind == 1:  # signatures: many, none, broken, duplicated
        sigs = env["signatures"]
        choice = rng.randrange(6)
        if choice == 0:
            env["signatures"] = sigs * rng.choice((2, 1001))
        elif choice == 1:
            env["signatures"] = []
        elif choice == 2:
            env["signatures"] = [{**sigs[0], "sig": base64.b64encode(rng.randbytes(rng.choice((0, 63, 64, 65)))).decode()}]
        elif choice == 3:
            env["signatures"] = [{"sig": sigs[0]["sig"]}, {"keyid": None, "sig": sigs[0]["sig"]}]
        elif choice == 4:
            env["signatures"] = [{**sigs[0], "keyid": mu.interesting_value(rng)}]
        else:
            env["signatures"] = [dict(sigs[0], extra=1)]
        return "envelope-sigs", mu.serialize(env)
    if kind == 2:
        env["payloadType"] = rng.choice(("", "application/json", "application/vnd.in-toto+json ",
                                         trust.REVOCATIONS_PAYLOAD_TYPE, profiles.PROFILE_PAYLOAD_TYPE,
                                         trust.DECISION_PAYLOAD_TYPE, "application/vnd.in-toto+json",
                                         mu.interesting_string(rng)))
        return "envelope-type", mu.serialize(env)
    if kind == 3:
        what, env = mu.mutate_doc(env, rng)
        return "envelope-" + what, mu.serialize(env)
    if kind == 4:  # a payload that is not the document at all
        env["payload"] = base64.b64encode(rng.choice((b"", b"null", b"[]", b"{}", b"\xff\xfe", rng.randbytes(64),
                                                      b'{"a":1,"a":2}', b"1e400", b"[" * 5000))).decode()
        return "envelope-payload", mu.serialize(env)
    if kind == 5:
        return "envelope-noncanonical", mu.serialize(env, rng, canonical_form=False)
    if kind == 6:
        return "envelope-top", rng.choice((b"[]", b"null", b"{}", b'"x"', b"1", mu.serialize([env])))
    return "envelope-dupkey", mu.encode_text(mu.write_json(mu.Pairs([*env.items(), ("payload", "AAAA")])))


def _payload_bytes(doc: Any, rng: random.Random) -> tuple[str, bytes]:
    """The bytes a forger would sign for ``doc``: canonical mostly, sometimes not."""
    if rng.random() < 0.1:
        return "+noncanonical", mu.serialize(doc, rng, canonical_form=False)
    return "", mu.serialize(doc)


def _file_mutation(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """A JSON file mutated: structurally (if it parses), by layout, or byte by byte."""
    r = rng.random()
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    if doc is not None and r < 0.6:
        kind, doc = mu.mutate_doc(doc, rng)
        return kind, mu.serialize(doc)
    if doc is not None and r < 0.7:
        return "noncanonical", mu.serialize(doc, rng, canonical_form=False)
    return mu.mutate_bytes(data, rng)


# -- target: report --------------------------------------------------------------------------------------


def _fixups(st: Any, rng: random.Random, seed: ReportSeed) -> None:
    """Repair what a mutation broke that the mutation was not about, so that it gets
    past the early checks: digests, the verdict and summary, the binding.  Each one
    is the fuzzer's own work and gives up quietly on what it cannot repair."""
    if not isinstance(st, dict) or rng.random() < 0.2:
        return
    pred = st.get("predicate")
    if not isinstance(pred, dict):
        return
    with contextlib.suppress(Exception):
        doc = pred["profile"]["document"]
        pred["profile"]["digest"] = canonical.sha256_hex(doc)
        if rng.random() < 0.8:
            pred["profile"]["id"], pred["profile"]["version"] = doc["id"], doc["version"]
    with contextlib.suppress(Exception):
        st["subject"][0]["digest"]["sha256"] = pred["environment"]["digest"]
        st["subject"][1]["digest"]["sha256"] = pred["probe"]["digest"]
    with contextlib.suppress(Exception):
        if rng.random() < 0.8:
            _rejudge(st, report.embedded_profile(st, "fixup"))
    with contextlib.suppress(Exception):
        att = pred["attestation"]
        if rng.random() < 0.9 and isinstance(att, dict):
            if "collection" in inspect.signature(binding.report_data).parameters:
                rd = binding.report_data(st, binding.collection_of(att))
            else:
                rd = binding.report_data(nonce=pred["run"]["nonce"], results=pred["results"],
                                         signer_public_key=pred["signer"]["public_key"],
                                         transcripts=pred["probe"]["transcripts"])
            att["report_data"] = rd.hex()


def _after_verify(outcome: Any, seed: ReportSeed, rng: random.Random) -> None:
    """What a reviewer does with a verified report: JSON, the views, a comparison."""
    outcome_to_json(outcome)
    r = rng.random()
    if r < 0.15:
        render.render_markdown(outcome, seed.at)
    elif r < 0.25:
        render.render_html(outcome, seed.at)
    elif r < 0.45 and seed.outcome is not None:
        cmp = compare.compare([seed.outcome, outcome])
        compare.comparison_lines(cmp)
        compare.comparison_to_json(cmp)


def _verify_case(data: bytes, seed: ReportSeed, rng: random.Random, where: str,
                 revocations: Any = None) -> Callable[[], str]:
    trusted = _trusted(RUN_KEY) if rng.random() < 0.8 else None
    if trusted is not None and rng.random() < 0.1:
        trusted = _trusted(RUN_KEY, OTHER_KEY)
    prof = seed.profile if rng.random() < 0.3 else None
    at = _pick_time(rng, seed.at)
    after = rng.random() < 0.5

    def run() -> str:
        with isolated_state() if revocations is not None else contextlib.nullcontext():
            revs = revocations() if callable(revocations) else revocations
            out = verify_report(data, where, trusted=trusted, profile=prof, at=at, revocations=revs)
            if after:
                _after_verify(out, seed, rng)
            return "verified:" + out.verdict["result"]
    return run


def _statement_mutation(seed: ReportSeed, rng: random.Random, under: tuple[Any, ...] = ()) -> tuple[str, bytes]:
    kind, st = mu.mutate_doc(seed.statement, rng, under=under)
    _fixups(st, rng, seed)
    extra, payload = _payload_bytes(st, rng)
    key = RUN_KEY if rng.random() < 0.95 else OTHER_KEY
    env = dsse.sign(report.PAYLOAD_TYPE, payload, [key])
    return kind + extra, (json.dumps(env, indent=2) + "\n").encode()


def make_report(rng: random.Random) -> Case:
    names = COMPLETE_SEEDS if rng.random() < 0.25 else REPORT_SEEDS[len(COMPLETE_SEEDS):]
    seed = report_seeds()[rng.choice(names)]
    where = "fuzz-report.json"
    r = rng.random()
    if r < 0.6:
        kind, data = _statement_mutation(seed, rng)
        kind = "statement:" + kind
    elif r < 0.75:
        kind, data = _mutate_envelope(seed.data, rng)
    else:
        kind, data = mu.mutate_bytes(seed.data, rng)
        kind = "bytes:" + kind
    revs = _revocations_object if rng.random() < 0.1 else None
    return Case(kind, _verify_case(data, seed, rng, where, revs), (where,), data)


def _revocations_object() -> trust.Revocations:
    return trust.revocations_from_document(copy.deepcopy(revocations_doc()), "fuzz-revocations.json")


# -- target: attestation ----------------------------------------------------------------------------------

EVIDENCE_FORMATS = ("sim", "snp", "tdx", "sgx", "nitro", "auto", None, "", "bogus", "SIM")


@functools.cache
def sim_evidence() -> bytes:
    att = report_seeds()["attested"].statement["predicate"]["attestation"]
    return base64.b64decode(att["evidence"])


@functools.cache
def realworld_seeds() -> list[Any]:
    """The real-world samples' seeds of the attestation fuzzer, when present."""
    try:
        sys.path.insert(0, str(TESTS / "attestation"))
        import fuzz_attestation as fz  # beside this package's parent: on sys.path only now

        if not fz.REALWORLD.is_dir():
            return []
        return [s for t in fz.build_targets().values() for s in t.seeds]
    except Exception:
        return []


def _attestation_in_report(rng: random.Random, seed_name: str = "attested") -> tuple[str, bytes, ReportSeed]:
    seed = report_seeds()[seed_name]
    st = mu._copy(seed.statement)
    att = st["predicate"]["attestation"]
    r = rng.random()
    if r < 0.5:  # half of them keep each value's type, to get past the schema more often
        kinds = ("edit", "edit", "edit", "delete", "dup_item", "swap") if rng.random() < 0.5 else mu.MUTATIONS
        kind, st = mu.mutate_doc(st, rng, under=("predicate", "attestation"), kinds=kinds)
    elif r < 0.75:  # the evidence itself mutated, still base64 in the report
        kind, raw = mu.mutate_bytes(sim_evidence(), rng)
        att["evidence"] = base64.b64encode(raw).decode()
        kind = "evidence:" + kind
    else:  # another format's evidence, certificates or collateral
        kind = "format"
        att["format"] = rng.choice(EVIDENCE_FORMATS)
        sim_parts = _sim_parts(sim_evidence())
        choice = rng.randrange(5)
        if choice == 0 and sim_parts:
            att["evidence"] = base64.b64encode(sim_parts[0]).decode()
            att["certs"] = [base64.b64encode(p).decode() for p in sim_parts[1:]][: rng.randrange(3)]
        elif choice == 1:
            rw = realworld_seeds()
            if rw:
                s = rng.choice(rw)
                att["evidence"] = base64.b64encode(s.data).decode()
        elif choice == 2:
            att["collateral"] = base64.b64encode(rng.choice((b"{}", b"[]", b"\x00" * 10, rng.randbytes(100)))).decode()
        elif choice == 3:
            att["certs"] = [mu.interesting_string(rng) for _ in range(rng.randrange(1, 3))]
        else:
            att["evidence"] = None
            att["error"] = rng.choice((None, "", "probe crashed", mu.interesting_string(rng)))
    # The binding leaves the attestation section out: the seed's report data still
    # holds unless a mutation reached beyond the section (it could, when the section
    # itself was replaced).
    if not isinstance(st.get("predicate", {}).get("attestation"), dict) or rng.random() < 0.1:
        _fixups(st, rng, seed)
    if rng.random() < 0.5:  # the recorded outcome, sometimes the one the evidence gives
        with contextlib.suppress(Exception):
            row = next(r for r in st["predicate"]["results"] if r["id"] == run_evidence.RESULT_ID)
            row["outcome"] = rng.choice(("passed", "failed", "skipped"))
            _rejudge(st, seed.profile)
    extra, payload = _payload_bytes(st, rng)
    env = dsse.sign(report.PAYLOAD_TYPE, payload, [RUN_KEY])
    return "report:" + kind + extra, (json.dumps(env) + "\n").encode(), seed


def _sim_parts(data: bytes) -> list[bytes]:
    off, parts = 16, []
    for _ in range(3):
        (n,) = struct.unpack_from("<I", data, off)
        parts.append(data[off + 4 : off + 4 + n])
        off += 4 + n
    return parts


def _raw_evidence(rng: random.Random) -> Case:
    where = "fuzz-evidence.bin"
    rw = realworld_seeds()
    at = report_seeds()["attested"].at
    if rw and rng.random() < 0.4:
        s = rng.choice(rw)
        kind, data = mu.mutate_bytes(s.data, rng)

        def run_rw() -> str:
            v = s.call(data)
            policy.validate(v, None)
            evidence.verified_to_json(v)
            return "verified"
        return Case(f"evidence:{s.name}:{kind}", run_rw, ("fuzz",), data)
    kind, data = mu.mutate_bytes(sim_evidence(), rng)
    fmt = rng.choice(("auto", "auto", "sim", "snp", "tdx", "sgx", "nitro"))
    parts = _sim_parts(sim_evidence())
    certs = [parts[1]] if fmt == "snp" else None
    if fmt == "snp" and rng.random() < 0.5:
        data = mu.mutate_bytes(parts[0], rng)[1]
    when = _pick_time(rng, at, naive=False)

    def run() -> str:
        v = evidence.verify(data, where, fmt=fmt, certs=certs, at=when)
        policy.validate(v, None)
        evidence.verified_to_json(v)
        return "verified"
    return Case(f"evidence:sim:{fmt}:{kind}", run, (where,), data)


def _verifier_steps(data: bytes, seed: ReportSeed, where: str) -> Callable[[], str]:
    """The verifier's own steps up to and including the attestation check, without the
    completeness, validity and verdict steps between (a report of a dozen rows)."""
    def run() -> str:
        _ptype, payload, sigs = dsse.parse_envelope(data, where)
        dsse.verify_signatures(_ptype, payload, sigs, _trusted(RUN_KEY), where)
        st = canonical.loads(payload, f"{where}: payload")
        report.validate_schema(st, f"{where}: payload")
        report.check_consistency(st, where)
        params = inspect.signature(run_evidence.check_report).parameters
        first = st if "statement" in params else st["predicate"]
        notes = run_evidence.check_report(first, seed.profile.data, where)
        return "attested" if notes else "no-attestation"
    return run


def make_attestation(rng: random.Random) -> Case:
    if rng.random() < 0.5:
        return _raw_evidence(rng)
    where = "fuzz-attested-report.json"
    if rng.random() < 0.85:
        kind, data, seed = _attestation_in_report(rng, "attested-small")
        return Case("steps:" + kind, _verifier_steps(data, seed, where), (where,), data)
    kind, data, seed = _attestation_in_report(rng)
    return Case(kind, _verify_case(data, seed, rng, where), (where,), data)


# -- target: description -----------------------------------------------------------------------------------


class _DescribedProbe:
    """A probe that only describes itself (what characterization asks of it is unsupported)."""

    def __init__(self, description: dict[str, Any]) -> None:
        self.description = description

    def fpenv_read(self) -> tuple[str, int]:
        raise UnsupportedOp("fuzz probe: no fpenv_read")

    def run_values(self, op: Any, vecs: Any) -> list[int]:
        raise UnsupportedOp("fuzz probe: no ops")


def _description_report(desc: dict[str, Any], fp: dict[str, Any], digest: str) -> bytes:
    def put(st: dict[str, Any]) -> None:
        pred = st["predicate"]
        pred["probe"]["description"] = desc
        pred["probe"]["characterization"] = characterize(_DescribedProbe(desc))
        pred["environment"] = {"fingerprint": fp, "digest": env_digest(fp)}
        st["subject"][0]["digest"]["sha256"] = pred["environment"]["digest"]
    st = _fixed(rf.statement_for(RUN_KEY))
    put(st)
    return _signed_file(st, RUN_KEY)


def env_digest(fp: dict[str, Any]) -> str:
    return str(fingerprint.identity_digest(fp))


def make_description(rng: random.Random) -> Case:
    raw = rng.choice(description_seeds())
    r = rng.random()
    if r < 0.55:
        doc = json.loads(raw)
        kind, doc = mu.mutate_doc(doc, rng)
        data = mu.serialize(doc) if rng.random() < 0.8 else mu.serialize(doc, rng, canonical_form=False)
        kind = "doc:" + kind
    elif r < 0.9:
        kind, data = mu.mutate_bytes(raw, rng)
        kind = "bytes:" + kind
    else:
        kind = "top"
        data = rng.choice((b"", b"null", b"[]", b"1", b'"x"', b"\xef\xbb\xbf{}", b"{}", b"[" * 100000,
                           b'{"a":' * 3000 + b"0" + b"}" * 3000, raw + b"\x00garbage", raw.replace(b"{", b"{\n", 1),
                           b'{"ops":[' + b'"f64.add.rne",' * 20000 + b'"x"]}', b'{"a":1e999999}', b'{"a":-0.0}'))
    where = "probe host fuzz-probe"
    report_too = rng.random() < 0.3

    def run() -> str:
        desc = parse_description(data, where)
        ops_declared = desc.get("ops")
        frozenset(o for o in (ops_declared if isinstance(ops_declared, list) else []) if isinstance(o, str))
        digest = hashlib.sha256(data).hexdigest()
        fp = fingerprint.fingerprint(desc, digest)
        fp = environment.extended_fingerprint(fp, desc, pid=None)
        env_digest(fp)
        if report_too:
            signed = _description_report(desc, fp, digest)
            verify_report(signed, "fuzz-description-report.json", trusted=_trusted(RUN_KEY), profile=None,
                          at=report_seeds()["plain"].at)
            return "reported"
        return "parsed"
    return Case(kind, run, (where, "fuzz-description-report.json"), data)


# -- target: wire -----------------------------------------------------------------------------------------------

HELLO, RUN, FPENV_READ, FPENV_POISON, FPENV_RESET = 0x0001, 0x0002, 0x0003, 0x0004, 0x0005
TRANSCRIPT, TRANSCRIPT_RESET, ATTEST, DESCRIBE, BYE = 0x0006, 0x0007, 0x0008, 0x0009, 0x000A
REPLY, ERROR = 0x8000, 0xFFFF
MAX_FRAME = 64 << 20


def frame(mtype: int, payload: bytes) -> bytes:
    return struct.pack("<IH", len(payload) + 2, mtype) + payload


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 8)


def hello_payload(desc: bytes, *, proto: int = 1, abi: int = 1, flags: int = 3, path: bytes = b"/opt/probe.so",
                  digest: bytes = b"\x11" * 32, ext: bytes | None = None) -> bytes:
    body = struct.pack("<IIII", proto, abi, MAX_FRAME, flags) + digest + struct.pack("<II", len(desc), len(path))
    body += desc + path
    if flags & 2:
        body += ext if ext is not None else b"x86_64".ljust(16, b"\0") + struct.pack("<QQ", 0x1F80, 0x1F80)
    return body


def run_reply(items: list[tuple[int, bytes]]) -> bytes:
    out = struct.pack("<II", len(items), 0)
    for status, output in items:
        out += struct.pack("<iIQ", status, 0, len(output)) + _pad(output)
    return out


@dataclass
class WireCall:
    name: str
    call: Callable[[Any], Any]
    mtype: int
    reply: bytes  # a valid reply payload, for a host that could not be recorded


def _wire_calls() -> list[WireCall]:
    f64add, f32add = ops.get("f64.add.rne"), ops.get("f32.add.rne")
    one = struct.pack("<dd", 1.0, 2.0)
    evidence_bytes = sim_evidence()
    return [
        WireCall("run", lambda p: p.run(f64add, one * 2, 2), RUN, run_reply([(0, b"\0" * 16)])),
        WireCall("run_batch", lambda p: p.run_batch(f64add, [(p.new_buffer(16), p.new_buffer(8), 1),
                                                             (p.new_buffer(48), p.new_buffer(24), 3)]),
                 RUN, run_reply([(0, b"\1" * 8), (0, b"\2" * 24)])),
        WireCall("run_f32", lambda p: p.run(f32add, b"\0" * 8, 1), RUN, run_reply([(0, b"\0" * 4)])),
        WireCall("fpenv_read", lambda p: p.fpenv_read(), FPENV_READ,
                 struct.pack("<Q", 0x1F80) + b"x86_64".ljust(16, b"\0")),
        WireCall("fpenv_poison", lambda p: p.fpenv_poison(3), FPENV_POISON, struct.pack("<I", 3)),
        WireCall("fpenv_reset", lambda p: p.fpenv_reset(), FPENV_RESET, b""),
        WireCall("transcript", lambda p: p.transcript(), TRANSCRIPT, b"\x22" * 32 + struct.pack("<Q", 5)),
        WireCall("transcript_reset", lambda p: p.transcript_reset(), TRANSCRIPT_RESET, b""),
        WireCall("attest", lambda p: p.attest(b"\x33" * 64), ATTEST,
                 struct.pack("<iI", 0, len(evidence_bytes)) + b"sim".ljust(16, b"\0") + evidence_bytes),
        WireCall("describe", lambda p: p.describe(), DESCRIBE, description_seeds()[0]),
        WireCall("run_values", lambda p: p.run_values(f64add, [(0x3FF0000000000000, 0x4000000000000000)]), RUN,
                 run_reply([(0, b"\0" * 8)])),
    ]


@functools.cache
def wire_calls() -> list[WireCall]:
    return _wire_calls()


def split_frames(stream: bytes) -> list[bytes]:
    out, off = [], 0
    while off + 6 <= len(stream):
        (length,) = struct.unpack_from("<I", stream, off)
        out.append(stream[off : off + 4 + length])
        off += 4 + length
    return out


@dataclass
class WireSeed:
    """The replies of one session: to the handshake, to each call, to BYE (frames)."""

    handshake: list[bytes]
    calls: list[list[bytes]]
    close: list[bytes]
    source: str


def _record_host() -> bytes:
    """Every reply the installed probe host gives to the calls of ``wire_calls`` (one
    session, the replies to each call apart), as JSON of hex frames."""


    cmd = remote.default_host_cmd()
    if not Path(cmd[0]).is_file():
        return b"null"
    streams: list[bytearray] = [bytearray() for _ in range(len(wire_calls()) + 2)]
    current = [0]

    class Recorder(remote._ChildChannel):
        def recv_into(self, view: memoryview, deadline: float) -> None:
            super().recv_into(view, deadline)
            streams[current[0]] += bytes(view)

    probe = remote.RemoteProbe(lambda: Recorder(cmd), shlex.join(cmd), "child-process", 30.0)
    for i, c in enumerate(wire_calls()):
        current[0] = i + 1
        with contextlib.suppress(TeecertError):
            c.call(probe)
    current[0] = len(streams) - 1
    probe.close()
    if probe.restarts:
        return b"null"  # a call broke the session: the recording is not one session
    return json.dumps([[f.hex() for f in split_frames(bytes(s))] for s in streams]).encode()


@functools.cache
def wire_seed() -> WireSeed:
    try:
        recorded = json.loads(cached("wire-session.json", _record_host))
    except Exception:  # no host to record here (not built, or it failed): replies made up
        recorded = None
    if recorded:
        frames = [[bytes.fromhex(f) for f in s] for s in recorded]
        return WireSeed(frames[0], frames[1:-1], frames[-1], "recorded from the installed probe host")
    return WireSeed([frame(HELLO | REPLY, hello_payload(description_seeds()[0]))],
                    [[frame(c.mtype | REPLY, c.reply)] for c in wire_calls()], [frame(BYE | REPLY, b"")],
                    "made up")


def _hello_parts(payload: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(head, description, path, the rest) of a HELLO reply."""
    dlen, plen = struct.unpack_from("<II", payload, 48)
    return payload[:56], payload[56 : 56 + dlen], payload[56 + dlen : 56 + dlen + plen], payload[56 + dlen + plen:]


def _hello_join(head: bytes, desc: bytes, path: bytes, rest: bytes) -> bytes:
    return head[:48] + struct.pack("<II", len(desc), len(path)) + desc + path + rest


def _mutate_json_bytes(raw: bytes, rng: random.Random) -> tuple[str, bytes]:
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    if doc is None or rng.random() < 0.2:
        return mu.mutate_bytes(raw, rng)
    kind, doc = mu.mutate_doc(doc, rng)
    return kind, mu.serialize(doc)


def _mutate_hello(payload: bytes, rng: random.Random, big: int) -> tuple[str, bytes]:
    b = bytearray(payload)
    field_ = rng.choice(("proto", "abi", "max", "flags", "dlen", "plen", "desc", "desc", "path", "rest",
                         "facts", "facts"))
    if field_ in ("desc", "path", "rest", "facts"):
        head, desc, path, rest = _hello_parts(payload)
        flags = struct.unpack_from("<I", head, 12)[0]
        if field_ == "desc":
            kind, desc = _mutate_json_bytes(desc, rng)
        elif field_ == "path":
            kind, path = "path", rng.choice((b"", b"\xff\xfe", b"a\nb", b"\x00" * 10, b"/x" * 3000, "é".encode()))
        elif field_ == "facts" and flags & 8:
            at = (32 if flags & 2 else 0) + (32 if flags & 4 else 0)
            (n,) = struct.unpack_from("<I", rest, at)
            kind, facts = _mutate_json_bytes(rest[at + 4 : at + 4 + n], rng)
            rest = rest[:at] + struct.pack("<I", len(facts)) + facts + rest[at + 4 + n:]
        else:
            kind, rest = mu.mutate_bytes(rest, rng)
        return f"hello-{field_}-{kind}", _hello_join(head, desc, path, rest)
    off = {"proto": 0, "abi": 4, "max": 8, "flags": 12, "dlen": 48, "plen": 52}[field_]
    if field_ == "flags" and rng.random() < 0.7:
        value = struct.unpack_from("<I", b, 12)[0] ^ (1 << rng.randrange(5))
    else:
        value = big if rng.random() < 0.7 else rng.randrange(2**32)
    struct.pack_into("<I", b, off, value & 0xFFFFFFFF)
    return f"hello-{field_}", bytes(b)


def _mutate_payload(mtype: int, payload: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Field-aware mutations of a reply payload (the framing left intact)."""
    b = bytearray(payload)

    def put(fmt: str, off: int, value: int) -> None:
        if off + struct.calcsize(fmt) <= len(b):  # signed fields written as their two's complement
            struct.pack_into(fmt.upper(), b, off, value & ((1 << (8 * struct.calcsize(fmt))) - 1))

    big = rng.choice((0, 1, 2, 7, 8, 9, 255, 4096, 4097, 2**31, 2**32 - 1, 2**63, 2**64 - 1, len(payload),
                      len(payload) + 1, MAX_FRAME))
    if mtype == HELLO | REPLY and len(payload) >= 56:
        try:
            return _mutate_hello(payload, rng, big)
        except struct.error:
            return mu.mutate_bytes(payload, rng)
    if mtype == RUN | REPLY:
        field_ = rng.choice(("count", "status", "out_len", "short", "long"))
        if field_ == "count":
            put("<I", 0, big)
        elif field_ == "status":
            put("<i", 8, rng.choice((-1, 1, 2, 3, 4, 99, -(2**31), 2**31 - 1)))
        elif field_ == "out_len":
            put("<Q", 16, big)
        elif field_ == "short":
            del b[rng.randrange(8, len(b) + 1):]
        else:
            b += rng.randbytes(rng.choice((1, 8, 16, 100)))
        return f"run-{field_}", bytes(b)
    if mtype == ATTEST | REPLY:
        field_ = rng.choice(("status", "needed", "format", "evidence", "short", "ok"))
        if field_ == "ok":  # an answer with evidence, whatever the recorded probe said
            ev = sim_evidence() if rng.random() < 0.5 else mu.mutate_bytes(sim_evidence(), rng)[1]
            b = bytearray(struct.pack("<iI", 0, len(ev)) + b"sim".ljust(16, b"\0") + ev)
        elif field_ == "status":
            put("<i", 0, rng.choice((-1, 1, 2, 3, 4, 99, -(2**31))))
        elif field_ == "needed":
            put("<I", 4, big)
            put("<i", 0, rng.choice((0, 2)))
        elif field_ == "format":
            b[8:24] = rng.choice((b"x" * 16, b"\0" * 16, b"\xff" * 15 + b"\0", b"snp".ljust(16, b"\0"),
                                  b"nitro".ljust(16, b"\0"), b"s\0im".ljust(16, b"\0")))
        elif field_ == "evidence":
            del b[24:]
            if rng.random() < 0.5:
                b += mu.mutate_bytes(sim_evidence(), rng)[1]
        else:
            del b[rng.randrange(0, min(len(b), 24) + 1):]
        return f"attest-{field_}", bytes(b)
    if mtype == DESCRIBE | REPLY:
        kind, out = _mutate_json_bytes(payload, rng)
        return f"describe-{kind}", out
    kind, out = mu.mutate_bytes(payload, rng)
    return f"payload-{kind}", out


def _error_frame(rng: random.Random) -> bytes:
    code = rng.choice((0, 1, 2, 3, 4, 5, 6, 7, 8, 2**32 - 1))
    msg = rng.choice((b"", b"bad", b"probe crashed with SIGSEGV", b"a\nb", b"\xff\xfe", b"x" * 5000,
                      b"\x1b[31mred", b"\0\0", "é".encode()))
    payload = struct.pack("<I", code) + msg if rng.random() < 0.9 else rng.randbytes(rng.randrange(4))
    return frame(ERROR, payload)


def mutate_frame(raw: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One reply frame, mutated in its framing or its payload."""
    if len(raw) < 6:
        return mu.mutate_bytes(raw, rng)
    _length, mtype = struct.unpack_from("<IH", raw)
    payload = raw[6:]
    r = rng.random()
    if r < 0.4:
        kind, p = _mutate_payload(mtype, payload, rng)
        return kind, frame(mtype, p)
    if r < 0.52:
        return "error-frame", _error_frame(rng)
    if r < 0.6:
        t = rng.choice((0, 1, mtype & ~REPLY, REPLY, (mtype + 1) | REPLY, 0x7FFF, 0xFFFE, rng.randrange(65536)))
        return "type", frame(t, payload)
    if r < 0.75:
        length = rng.choice((0, 1, 2, 3, len(payload), len(payload) + 1, len(payload) + 3, max(0, len(payload) - 1),
                             MAX_FRAME, MAX_FRAME + 1, MAX_FRAME + 2, 2**32 - 1))
        return "length", struct.pack("<IH", length, mtype) + payload
    if r < 0.85:
        kind, p = mu.mutate_bytes(payload, rng)
        return f"payload-{kind}", frame(mtype, p)
    kind, out = mu.mutate_bytes(raw, rng)
    return f"frame-{kind}", out


class _Host:
    """The far end of every connection a ``RemoteProbe`` opens: a socket pair whose
    other side already holds the replies (to the handshake, to the calls still to
    come in the order they will come, to BYE; some mutated), then end of stream, or
    silence (``stall``)."""

    def __init__(self, rng: random.Random, seed: WireSeed, order: list[int], stall: bool) -> None:
        self.rng, self.seed, self.order, self.stall = rng, seed, order, stall
        self.position = 0  # index into ``order`` of the next call
        self.peers: list[socket.socket] = []
        self.kinds: list[str] = []
        self.sessions = 0

    def script(self) -> bytes:
        rng = self.rng
        first = self.sessions == 0
        self.sessions += 1
        # The first session carries at least one mutation; restarts mostly serve well.
        p = rng.choice((0.05, 0.2, 1.0)) if first else rng.choice((0.0, 0.0, 0.1))
        pending = [*self.seed.handshake]
        for i in self.order[self.position:]:
            pending += self.seed.calls[i]
        pending += self.seed.close
        forced = rng.randrange(len(pending)) if first else -1
        frames: list[bytes] = []
        for i, f in enumerate(pending):
            if i != forced and rng.random() >= p:
                frames.append(f)
                continue
            op = rng.random()
            if op < 0.05:
                self.kinds.append("drop")
                continue
            if op < 0.1:
                self.kinds.append("garbage")
                frames.append(rng.randbytes(rng.randrange(1, 64)))
            kind, m = mutate_frame(f, rng)
            self.kinds.append(kind)
            frames.append(m)
            if op > 0.95:
                frames.append(m)
        return b"".join(frames)

    def open(self) -> Any:
        if self.sessions > 12:
            raise TeecertError("fuzz-host: too many reconnections")
        ours, theirs = socket.socketpair()
        for s in (ours, theirs):
            with contextlib.suppress(OSError):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.peers.append(ours)
        data = self.script()
        ours.setblocking(False)
        sent = 0
        while sent < len(data):  # more than the buffers take: the rest is lost, as in a crash
            try:
                sent += ours.send(data[sent : sent + (1 << 20)])
            except BlockingIOError:
                break
        if not self.stall:
            ours.shutdown(socket.SHUT_WR)
        return remote._SocketChannel(theirs, "unix")

    def close(self) -> None:
        for s in self.peers:
            with contextlib.suppress(OSError):
                s.close()


def make_wire(rng: random.Random) -> Case:
    calls = wire_calls()
    order = list(range(len(calls)))
    if rng.random() < 0.3:
        rng.shuffle(order)
    stall = rng.random() < 0.05
    host = _Host(rng, wire_seed(), order, stall)
    timeout = 0.05 if stall else 5.0
    name = "fuzz-host"
    case = Case("wire", lambda: "", (name,), None)

    def run() -> str:
        outcomes: list[str] = []
        try:
            try:
                probe = remote.RemoteProbe(host.open, name, "unix", timeout)
            except TeecertError as e:
                _check_message(e, name)
                outcomes.append("refused:" + type(e).__name__)
            else:
                for pos, i in enumerate(order):
                    host.position = pos
                    try:
                        calls[i].call(probe)
                        outcomes.append("ok")
                    except TeecertError as e:
                        _check_message(e, name)
                        outcomes.append(type(e).__name__)
                host.position = len(order)
                probe.close()
        finally:
            host.close()
            case.kind = "+".join(sorted(set(host.kinds))[:3]) or "none"
        return ",".join(sorted(set(outcomes)))

    case.run = run
    return case


class MessageProblem(Exception):
    """A refusal that breaks the one-line rule or names no input (checked inside a
    case whose own refusals are counted, like the wire target's calls)."""


def _check_message(e: TeecertError, name: str) -> None:
    msg = str(e)
    if "\n" in msg or "\r" in msg:
        raise MessageProblem(f"multi-line {type(e).__name__}: {msg!r}") from e
    if name not in msg:
        raise MessageProblem(f"{type(e).__name__} names no input: {msg!r}") from e


# -- target: profile --------------------------------------------------------------------------------------------


def exercise_profile(prof: profiles.Profile, where: str) -> None:
    """What a run and a verifier read from a loaded profile."""

    prof.identity()
    _ = (prof.probe_timeout, prof.tier, prof.suites, prof.required_suites(), prof.advisory_suites(),
         prof.unsupported_ops_fail, prof.validity_days, prof.stream_scale, prof.vector_set_name,
         prof.vector_digest, prof.certification_tier, prof.activates, prof.expires, prof.waivers,
         prof.attestation_required)
    with contextlib.suppress(TeecertError):
        prof.check_in_force(rf.NOW, where)
    run_evidence.profile_policy(prof.data, where)
    preflight.check_profile_plan(prof, shipped_streams(), where)  # type: ignore[arg-type]
    if "clocks" in prof.data:
        clocks.validate_thresholds(prof.data["clocks"], f"{where}: clocks")
    if "environment" in prof.data:
        errs = environment.schema_errors(prof.data["environment"], f"{where}: $.environment")
        if errs:
            raise MalformedInput(errs[0])
    verdict.compute(rf.make_results(12, 2, n_skip=1, n_unsupported=1), prof, at=rf.NOW)


def make_profile(rng: random.Random) -> Case:
    name = rng.choice((*profiles.BUILTIN, "full", "full"))
    doc = profile_docs()[name]
    where_file = str(scratch() / "fuzz-profile.json")
    mode = rng.random()
    if mode < 0.35:  # a profile file
        kind, data = _file_mutation(mu.serialize(doc, rng, canonical_form=rng.random() < 0.5), rng)

        def run_file() -> str:
            path = _write("fuzz-profile.json", data)
            prof = profiles.load_profile(path)
            exercise_profile(prof, where_file)
            return "loaded"
        return Case("file:" + kind, run_file, (where_file,), data)
    if mode < 0.55:  # a parsed document
        kind, mdoc = mu.mutate_doc(doc, rng)
        where = "fuzz profile document"

        def run_doc() -> str:
            prof = profiles.from_document(mdoc, where)
            exercise_profile(prof, where)
            return "loaded"
        return Case("doc:" + kind, run_doc, (where,), None)
    # a signed profile: the document mutated and signed by governance keys
    kind, mdoc = mu.mutate_doc(doc, rng) if rng.random() < 0.8 else ("none", copy.deepcopy(doc))
    extra, payload = _payload_bytes(mdoc, rng)
    signers = GOV_KEYS[: rng.choice((2, 2, 2, 3, 1))]
    data = sign_bytes(profiles.PROFILE_PAYLOAD_TYPE, payload, signers)
    if rng.random() < 0.25:
        k2, data = _mutate_envelope(data, rng) if rng.random() < 0.6 else mu.mutate_bytes(data, rng)
        kind += "+" + k2
    at = _pick_time(rng, rf.NOW)
    how = rng.randrange(3)
    with_revs = rng.random() < 0.2

    def run_signed() -> str:
        with isolated_state():
            path = _write("fuzz-profile.json", data)
            revs = _write("fuzz-revocations.json", sign_bytes(trust.REVOCATIONS_PAYLOAD_TYPE,
                                                             canonical.dumps(revocations_doc()), GOV_KEYS[:2])) \
                if with_revs else None
            if how == 0:
                prof = governed.verify_signed_profile(data, where_file, governance(), at, revocations=revs)
            elif how == 1:
                prof = governed.load_governed(path, governance(), at, revocations=revs)
            else:
                env = governed.sign_profile(data, where_file, [OTHER_KEY])
                return "cosigned" if env else "?"
            exercise_profile(prof, where_file)
            return "verified"
    return Case("signed:" + kind + extra, run_signed, (where_file, "fuzz-revocations.json"), data)


# -- target: governance -----------------------------------------------------------------------------------------


def make_governance(rng: random.Random) -> Case:
    which = rng.random()
    gov_file = str(scratch() / "fuzz-governance.json")
    rev_file = str(scratch() / "fuzz-revocations.json")
    dec_file = str(scratch() / "fuzz-decision.json")
    if which < 0.25:  # the governance file
        kind, data = _file_mutation(mu.serialize(governance_doc()), rng)

        def run_gov() -> str:
            path = _write("fuzz-governance.json", data)
            gov = trust.load_governance(path)
            gov.describe(gov.keys)
            return "loaded"
        return Case("governance:" + kind, run_gov, (gov_file,), data)
    if which < 0.6:  # a revocation list, signed
        r = rng.random()
        if r < 0.65:
            kind, doc = mu.mutate_doc(revocations_doc(), rng)
            extra, payload = _payload_bytes(doc, rng)
            data = sign_bytes(trust.REVOCATIONS_PAYLOAD_TYPE, payload, GOV_KEYS[: rng.choice((2, 2, 3, 1))])
            kind = "doc:" + kind + extra
        else:
            base = sign_bytes(trust.REVOCATIONS_PAYLOAD_TYPE, canonical.dumps(revocations_doc()), GOV_KEYS[:2])
            kind, data = _mutate_envelope(base, rng) if r < 0.85 else mu.mutate_bytes(base, rng)
        seed = report_seeds()[rng.choice(REPORT_SEEDS)]
        at = _pick_time(rng, seed.at)
        state_data = None
        if rng.random() < 0.15:  # the state file of the lists seen before, mutated too
            state_data = _state_file_bytes(rng)
        how = rng.randrange(4)

        def run_rev() -> str:
            with isolated_state():
                path = _write("fuzz-revocations.json", data)
                if state_data is not None:
                    _write_state(state_data)
                if how == 3:
                    env = trust.sign_revocations(data, rev_file, [OTHER_KEY])
                    return "cosigned" if env else "?"
                rev = _load_revocations(path, at)
                _ = (rev.issued, rev.source)
                aware = at if at.tzinfo else at.replace(tzinfo=dt.UTC)  # as verify_report hands it on
                rev.check_profile(seed.profile.id, seed.profile.version, aware, rev_file)
                rev.check_report(seed.statement["predicate"], [keys.keyid(RUN_KEY.public_key())], aware, rev_file)
                if how == 2:
                    verify_report(seed.data, "fuzz-report.json", trusted=_trusted(RUN_KEY), profile=None,
                                  at=at, revocations=rev)
                return "accepted"
        return Case("revocations:" + kind, run_rev, (str(scratch()), "fuzz-report.json"), data)
    # a decision
    r = rng.random()
    if r < 0.65:
        env = json.loads(decision_seed())
        st = canonical.loads(base64.b64decode(env["payload"]), "decision")
        kind, st = mu.mutate_doc(st, rng)
        extra, payload = _payload_bytes(st, rng)
        data = sign_bytes(trust.DECISION_PAYLOAD_TYPE, payload, GOV_KEYS[: rng.choice((2, 2, 3, 1))])
        kind = "doc:" + kind + extra
    else:
        kind, data = _mutate_envelope(decision_seed(), rng) if r < 0.85 else mu.mutate_bytes(decision_seed(), rng)
    at = _pick_time(rng, report_seeds()["plain"].at)
    how = rng.randrange(3)

    def run_dec() -> str:
        with isolated_state():
            if how == 0:
                out = decision.verify(data, dec_file, governance(), at)
                out.to_json()
                return "verified:" + out.result
            if how == 1:
                decision.cosign(data, dec_file, [OTHER_KEY])
                return "cosigned"
            _ptype, payload, _sigs = dsse.parse_envelope(data, dec_file)
            decision.check(canonical.loads(payload, dec_file), dec_file)
            return "checked"
    return Case("decision:" + kind, run_dec, (dec_file,), data)


def _load_revocations(path: Path, at: dt.datetime) -> trust.Revocations:
    params = inspect.signature(trust.load_revocations).parameters
    if "at" in params:
        return trust.load_revocations(path, governance(), at)
    return trust.load_revocations(path, governance())


def _state_file_bytes(rng: random.Random) -> bytes:
    doc = {"schema": "teecert-state/1", "governance": {
        getattr(governance(), "keyset_id", "ab" * 32): {
            "sequence": 1, "digest": "cd" * 32, "issued": "2026-11-01T00:00:00Z", "expires": "2027-12-31T00:00:00Z",
            "source": "/x/revocations.json",
            "revoked_keys": {keys.keyid(GOV_KEYS[2].public_key()): "2026-01-01T00:00:00Z"}}}}
    return _file_mutation(mu.serialize(doc), rng)[1] if rng.random() < 0.8 else mu.serialize(doc)


def _write_state(data: bytes) -> None:
    d = Path(os.environ["XDG_STATE_HOME"]) / "teecert"
    d.mkdir(parents=True, exist_ok=True)
    (d / "revocations.json").write_bytes(data)


# -- target: vectors ------------------------------------------------------------------------------------------


@functools.cache
def _vector_files() -> dict[str, bytes]:
    root = small_vector_set()
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.json"))}


@functools.cache
def _vector_workdir() -> Path:
    d = scratch() / "vectors"
    shutil.copytree(small_vector_set(), d)
    return d


def make_vectors(rng: random.Random) -> Case:
    files = _vector_files()
    names = sorted(files)
    target = store.MANIFEST if rng.random() < 0.25 else rng.choice([n for n in names if n != store.MANIFEST])
    kind, data = _file_mutation(files[target], rng)
    new = {target: data}
    if target != store.MANIFEST and rng.random() < 0.85:  # listed under its new digest
        listing = {n: hashlib.sha256(new.get(n, files[n])).hexdigest() for n in names if n != store.MANIFEST}
        new[store.MANIFEST] = store.manifest_text(listing).encode()
    root = _vector_workdir()

    def run() -> str:
        try:
            for n, b in new.items():
                (root / n).write_bytes(b)
            vs = store.load_set(root)
            for op_id in vs.explicit_ops():
                vs.explicit(op_id)
            vs.streams()
            return "loaded"
        finally:
            for n in new:
                (root / n).write_bytes(files[n])
    return Case(f"{target}:{kind}", run, (str(root),), data)


# -- the registry --------------------------------------------------------------------------------------------

MAKERS: dict[str, Callable[[random.Random], Case]] = {
    "report": make_report,
    "attestation": make_attestation,
    "description": make_description,
    "wire": make_wire,
    "profile": make_profile,
    "governance": make_governance,
    "vectors": make_vectors,
}


def prepare(target: str) -> None:
    """Build (or read from the cache) everything a target's cases start from."""
    report_seeds()
    if target in ("attestation",):
        sim_evidence()
        realworld_seeds()
    if target in ("description", "wire"):
        description_seeds()
        wire_calls()
        wire_seed()
    if target == "profile":
        profile_docs()
        shipped_streams()
        revocations_doc()
    if target == "governance":
        revocations_doc()
        decision_seed()
    if target == "vectors":
        _vector_workdir()
        _vector_files()


def case_rng(seed: int, target: str, index: int) -> random.Random:
    return random.Random(f"teecert-fuzz/{seed}/{target}/{index}")
