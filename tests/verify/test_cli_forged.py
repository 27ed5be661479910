"""Forged reports, refused by `teecert verify` as a user types it (DESIGN.md, Security).

One real report is made per module (`teecert run` under the quick profile, CERTIFIED)
and then forged the ways an attacker could: bytes flipped without re-signing, another
signer, a verdict its results do not support, another vector set, an expired or
non-canonical report, a swapped payload type or signer key, a replay under another
profile.  Forgeries that keep a valid signature are re-signed with the library, the
way a forger holding the key would, and verified with the original key pinned
(`--trust`), so that what refuses them is the check named in the test, not the trust
list.  Every refusal must be exit 2 (1 for an honest NOT_CERTIFIED) with a one-line
reason naming the report.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert._internal import canonical, dsse
from teecert._internal.timefmt import format_time, parse_time
from teecert.profile import load_profile
from teecert.report import keys, verdict
from teecert.report import statement as report
from teecert.report.identity import identity_digest

from conftest import no_traceback, teecert_cli


@dataclass(frozen=True)
class Real:
    """The module's one real report and what made it."""

    path: Path
    envelope: dict[str, Any]
    statement: dict[str, Any]
    key: Ed25519PrivateKey
    pub: Path  # the signer's public key, for --trust
    profile: Path  # the quick profile file it was made under


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory, quick_profile: Path) -> Real:
    d = tmp_path_factory.mktemp("real")
    key = d / "run-key.pem"
    gen = teecert_cli(["keys", "generate", str(key)])
    assert gen.code == 0, gen.err
    out = d / "out"
    res = teecert_cli(["run", "--profile", str(quick_profile), "--key", str(key), "--out", str(out)])
    assert no_traceback(res.out + res.err), res.err[-3000:]
    assert res.code == 0, res.out[-3000:] + res.err[-3000:]
    assert "teecert run: CERTIFIED" in res.out
    files = sorted(out.glob("teecert-report-*.json"))
    assert len(files) == 1, files
    env = json.loads(files[0].read_bytes())
    stmt = json.loads(base64.b64decode(env["payload"]))
    assert stmt["predicate"]["verdict"]["result"] == "CERTIFIED"
    return Real(files[0], env, stmt, keys.load_private(key), Path(str(key) + ".pub"), quick_profile)


# -- helpers ------------------------------------------------------------------------


def write_envelope(path: Path, env: dict[str, Any]) -> Path:
    path.write_text(json.dumps(env, indent=2) + "\n")
    return path


def sign_payload(payload: bytes, key: Ed25519PrivateKey, payload_type: str = report.PAYLOAD_TYPE) -> dict[str, Any]:
    return dsse.sign(payload_type, payload, [key])


def resigned(real: Real, edit: Callable[[dict[str, Any]], None], key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    """The real statement with ``edit`` applied, canonical and validly signed (by the
    original key unless another is given): no checks, as a forger would do it."""
    st = copy.deepcopy(real.statement)
    edit(st)
    return sign_payload(canonical.dumps(st), key or real.key)


def new_pub(tmp_path: Path, key: Ed25519PrivateKey, name: str) -> Path:
    return keys.write_public(tmp_path / name, key.public_key())


def set_signer(st: dict[str, Any], key: Ed25519PrivateKey) -> None:
    pub = key.public_key()
    st["predicate"]["signer"] = {"keyid": keys.keyid(pub), "public_key": keys.public_raw_b64(pub)}


def verify(real: Real, path: Path, *extra: str, profile: str | None = None) -> Any:
    res = teecert_cli(["verify", str(path), "--profile", profile or str(real.profile), *extra])
    assert no_traceback(res.out + res.err), res.err
    return res


def refused(real: Real, path: Path, *extra: str, profile: str | None = None) -> str:
    """Exit 2, nothing on stdout, and exactly one line on stderr naming the report;
    returns that line."""
    res = verify(real, path, *extra, profile=profile)
    assert res.code == 2, (res.code, res.out, res.err)
    assert res.out == ""
    lines = res.err.splitlines()
    assert len(lines) == 1, res.err
    assert lines[0].startswith(f"teecert verify: {path}: "), lines[0]
    return lines[0]


# -- the positive control --------------------------------------------------------------


def test_unmodified_report_verifies_with_its_signer_pinned(real: Real) -> None:
    res = verify(real, real.path, "--trust", str(real.pub), "--json")
    assert res.code == 0, res.out + res.err
    doc = json.loads(res.out)
    keyid = keys.keyid(real.key.public_key())
    assert doc["authentic"] is True and doc["exit_code"] == 0
    assert doc["verdict"]["result"] == "CERTIFIED"
    assert doc["signers"] == [keyid] and doc["signer_pinned"] is True
    assert doc["profile"]["pinned"] is True and doc["profile"]["id"] == "test-quick"
    text = verify(real, real.path, "--trust", str(real.pub))
    assert text.code == 0 and text.out.splitlines()[0] == f"{real.path}: CERTIFIED", text.out


# -- not re-signed: the signature no longer verifies -------------------------------------


@pytest.mark.parametrize("pinned", [True, False], ids=["trust", "no-trust"])
def test_flipped_payload_byte_is_refused(real: Real, tmp_path: Path, pinned: bool) -> None:
    payload = bytearray(base64.b64decode(real.envelope["payload"]))
    at = payload.index(b'"nonce":"') + len(b'"nonce":"')
    payload[at] ^= 0x01  # one hex digit of the nonce: still valid, canonical JSON
    env = {**real.envelope, "payload": base64.b64encode(bytes(payload)).decode()}
    path = write_envelope(tmp_path / "flipped-payload.json", env)
    line = refused(real, path, *(["--trust", str(real.pub)] if pinned else []))
    assert "no valid signature" in line


@pytest.mark.parametrize("pinned", [True, False], ids=["trust", "no-trust"])
def test_flipped_signature_byte_is_refused(real: Real, tmp_path: Path, pinned: bool) -> None:
    sig = bytearray(base64.b64decode(real.envelope["signatures"][0]["sig"]))
    sig[10] ^= 0x80
    env = copy.deepcopy(real.envelope)
    env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    path = write_envelope(tmp_path / "flipped-sig.json", env)
    line = refused(real, path, *(["--trust", str(real.pub)] if pinned else []))
    assert "no valid signature" in line


def test_changed_payload_type_without_resigning_is_refused(real: Real, tmp_path: Path) -> None:
    env = {**real.envelope, "payloadType": "application/json"}
    path = write_envelope(tmp_path / "type.json", env)
    assert "no valid signature" in refused(real, path, "--trust", str(real.pub))


# -- signers: who signed, and who is trusted ---------------------------------------------


def test_report_resigned_by_another_key_is_refused_under_the_original_trust(real: Real, tmp_path: Path) -> None:
    other = Ed25519PrivateKey.generate()
    def edit(st: dict[str, Any]) -> None:  # a consistent, unattested report by "other"
        set_signer(st, other)
        _strip_attestation(st["predicate"])
        _recount(st["predicate"], real.profile)

    env = resigned(real, edit, key=other)
    path = write_envelope(tmp_path / "other-signer.json", env)
    line = refused(real, path, "--trust", str(real.pub))
    assert "no valid signature by a trusted key" in line
    # ... and it is a well-formed report: trusting "other" accepts it, so the refusal above
    # is the trust list at work.
    ok = verify(real, path, "--trust", str(new_pub(tmp_path, other, "other.pub")))
    assert ok.code == 0, ok.out + ok.err


def test_trusting_another_key_refuses_the_original_report(real: Real, tmp_path: Path) -> None:
    other_pub = new_pub(tmp_path, Ed25519PrivateKey.generate(), "other.pub")
    line = refused(real, real.path, "--trust", str(other_pub))
    assert "no valid signature by a trusted key" in line


def test_swapped_signer_public_key_is_refused(real: Real, tmp_path: Path) -> None:
    """The report names another signer (key and key id) but the original key signed it."""
    env = resigned(real, lambda st: set_signer(st, Ed25519PrivateKey.generate()))
    path = write_envelope(tmp_path / "swapped-signer.json", env)
    # Unpinned, the signature is checked against the key the report names: it fails.
    assert "no valid signature" in refused(real, path)
    # Pinned to the real signer, the signature holds but the named signer is not it.
    line = refused(real, path, "--trust", str(real.pub))
    assert "names signer" in line and "signed by" in line


def test_swapped_signer_public_key_alone_is_refused(real: Real, tmp_path: Path) -> None:
    other = Ed25519PrivateKey.generate()

    def edit(st: dict[str, Any]) -> None:
        st["predicate"]["signer"]["public_key"] = keys.public_raw_b64(other.public_key())

    path = write_envelope(tmp_path / "swapped-key.json", resigned(real, edit))
    line = refused(real, path, "--trust", str(real.pub))
    assert "predicate.signer.keyid is not the key id of predicate.signer.public_key" in line


# -- validly signed by the original key, but lying ---------------------------------------


def _fail_one(st: dict[str, Any]) -> dict[str, Any]:
    pred = st["predicate"]
    row = next(r for r in pred["results"] if r["suite"] == "ieee754" and r["kind"] == "explicit")
    row["outcome"] = "failed"
    row["failures"] = 1
    row["message"] = "forged failure"
    pred["summary"] = verdict.summarize(pred["results"], report.embedded_profile(st, "t"))  # only the verdict lies
    return row


def test_certified_verdict_over_a_failing_result_is_refused(real: Real, tmp_path: Path) -> None:
    failed: list[dict[str, Any]] = []
    env = resigned(real, lambda st: failed.append(_fail_one(st)))
    path = write_envelope(tmp_path / "lying-verdict.json", env)
    line = refused(real, path, "--trust", str(real.pub))
    assert "claims CERTIFIED but its results give NOT_CERTIFIED" in line
    assert failed[0]["id"] in line


def _strip_attestation(pred: dict[str, Any]) -> None:
    """A report without attestation (the quick profile's attestation suite is advisory)."""
    pred.pop("attestation", None)
    pred["results"] = [r for r in pred["results"] if r["id"] != "attestation::evidence"]


def _recount(pred: dict[str, Any], profile: Path) -> None:
    pred["summary"] = verdict.summarize(pred["results"], load_profile(profile))
    pred["verdict"] = verdict.compute(pred["results"], load_profile(profile))


def test_honest_not_certified_report_is_authentic_and_rejected(real: Real, tmp_path: Path) -> None:
    failed: list[dict[str, Any]] = []

    def edit(st: dict[str, Any]) -> None:
        pred = st["predicate"]
        _strip_attestation(pred)  # editing attested results breaks the binding (tested below)
        failed.append(_fail_one(st))
        _recount(pred, real.profile)

    env = resigned(real, edit)
    path = write_envelope(tmp_path / "honest.json", env)
    res = verify(real, path, "--trust", str(real.pub))
    assert res.code == 1, res.out + res.err
    assert res.out.splitlines()[0] == f"{path}: NOT_CERTIFIED: TEST_FAILED {failed[0]['id']}"
    js = verify(real, path, "--trust", str(real.pub), "--json")
    doc = json.loads(js.out)
    assert js.code == 1 and doc["exit_code"] == 1 and doc["authentic"] is True
    assert doc["verdict"]["result"] == "NOT_CERTIFIED"


def test_changed_vector_set_digest_is_refused(real: Real, tmp_path: Path) -> None:
    def edit(st: dict[str, Any]) -> None:
        st["predicate"]["vector_set"]["digest"] = "0" * 64

    path = write_envelope(tmp_path / "vectors.json", resigned(real, edit))
    line = refused(real, path, "--trust", str(real.pub))
    assert "vector set teecert-core (0000000000000000) is not the one profile test-quick pins" in line


def test_verification_after_the_validity_period_is_refused(real: Real) -> None:
    not_after = parse_time(real.statement["predicate"]["validity"]["not_after"], "test")
    late = format_time(not_after + dt.timedelta(seconds=1))
    line = refused(real, real.path, "--trust", str(real.pub), "--at", late)
    assert f"expired at {format_time(not_after)}" in line
    # the last second of the period is still good
    ok = verify(real, real.path, "--trust", str(real.pub), "--at", format_time(not_after))
    assert ok.code == 0, ok.out + ok.err


def test_non_canonical_payload_is_refused(real: Real, tmp_path: Path) -> None:
    payload = json.dumps(real.statement, indent=2, sort_keys=True).encode()
    path = write_envelope(tmp_path / "indented.json", sign_payload(payload, real.key))
    line = refused(real, path, "--trust", str(real.pub))
    assert "payload is not in RFC 8785 canonical form" in line


def test_changed_payload_type_resigned_is_refused(real: Real, tmp_path: Path) -> None:
    env = sign_payload(canonical.dumps(real.statement), real.key, "application/json")
    path = write_envelope(tmp_path / "type-resigned.json", env)
    line = refused(real, path, "--trust", str(real.pub))
    assert "payloadType is 'application/json'" in line


def test_report_replayed_under_another_profile_is_refused(real: Real) -> None:
    line = refused(real, real.path, "--trust", str(real.pub), profile="strict")
    assert "made under profile test-quick" in line and "not the required strict" in line


# -- attestation binding: results, signer and evidence are tied together ----------------


def test_attested_results_edited_after_the_fact_are_refused(real: Real, tmp_path: Path) -> None:
    assert real.statement["predicate"]["attestation"]["source"] in ("probe", "simulated")

    def edit(st: dict[str, Any]) -> None:
        _fail_one(st)
        _recount(st["predicate"], real.profile)

    path = write_envelope(tmp_path / "edited.json", resigned(real, edit))
    assert "attestation binding does not match" in refused(real, path, "--trust", str(real.pub))


def test_attested_report_re_signed_by_another_key_is_refused(real: Real, tmp_path: Path) -> None:
    other = Ed25519PrivateKey.generate()
    path = write_envelope(tmp_path / "other.json", resigned(real, lambda st: set_signer(st, other), other))
    assert "attestation binding does not match" in refused(real, path, "--trust", str(new_pub(tmp_path, other, "o.pub")))


def test_evidence_replayed_from_another_run_is_refused(real: Real, tmp_path: Path, quick_profile: Path) -> None:
    out = tmp_path / "second"
    res = teecert_cli(["run", "--profile", str(quick_profile), "--key", str(real.pub).removesuffix(".pub"),
                       "--out", str(out)])
    assert res.code == 0, res.out[-2000:]
    (second,) = out.glob("teecert-report-*.json")
    other = json.loads(base64.b64decode(json.loads(second.read_bytes())["payload"]))["predicate"]["attestation"]

    def replay_all(st: dict[str, Any]) -> None:
        st["predicate"]["attestation"] = copy.deepcopy(other)

    def replay_evidence(st: dict[str, Any]) -> None:  # keep this run's report data, swap the evidence
        st["predicate"]["attestation"]["evidence"] = other["evidence"]

    p1 = write_envelope(tmp_path / "replay1.json", resigned(real, replay_all))
    assert "attestation binding does not match" in refused(real, p1, "--trust", str(real.pub))
    p2 = write_envelope(tmp_path / "replay2.json", resigned(real, replay_evidence))
    line = refused(real, p2, "--trust", str(real.pub))
    assert "another run" in line, line


def _relabel_platform(st: dict[str, Any]) -> None:
    # Another CPU, with the digest and subject made consistent: only the binding can tell.
    pred = st["predicate"]
    pred["environment"]["fingerprint"]["cpu_model"] = "Some Other CPU"
    pred["environment"]["digest"] = identity_digest(pred["environment"]["fingerprint"])
    st["subject"][0]["digest"]["sha256"] = pred["environment"]["digest"]


def _re_date(st: dict[str, Any]) -> None:
    # An expired report re-dated a month later, times kept consistent.
    pred = st["predicate"]
    for path in (("run", "started"), ("run", "finished"), ("validity", "not_before"), ("validity", "not_after")):
        node = pred[path[0]]
        node[path[1]] = format_time(parse_time(node[path[1]], "t") + dt.timedelta(days=30))


@pytest.mark.parametrize("name, edit", [
    ("relabelled platform", _relabel_platform),
    ("re-dated report", _re_date),
    ("harness version", lambda st: st["predicate"]["harness"].update(version="9.9.9")),
    ("harness source digest", lambda st: st["predicate"]["harness"].update(source_digest="ab" * 32)),
    ("run command", lambda st: st["predicate"]["run"].update(command=["teecert", "run", "--profile", "strict"])),
    ("probe self-description", lambda st: st["predicate"]["probe"]["description"].update(compiler="icc 1.0")),
    ("attestation suite row", lambda st: next(
        r for r in st["predicate"]["results"] if r["suite"] == "attestation" and r["id"] != "attestation::evidence"
    ).update(message="evidence from the vendor's lab machine")),
])
def test_anything_the_evidence_commits_to_cannot_be_edited(real: Real, tmp_path: Path, name: str,
                                                           edit: Callable[[dict[str, Any]], None]) -> None:
    def forge(st: dict[str, Any]) -> None:
        edit(st)
        _recount(st["predicate"], real.profile)

    path = write_envelope(tmp_path / "edited.json", resigned(real, forge))
    # the re-dated report is verified when it would be in date, so that only the binding can refuse it
    finished = parse_time(real.statement["predicate"]["run"]["finished"], "t")
    at = ["--at", format_time(finished + dt.timedelta(days=30, minutes=1))] if edit is _re_date else []
    line = refused(real, path, "--trust", str(real.pub), *at)
    assert "attestation binding does not match" in line, (name, line)


@pytest.mark.parametrize("field, value", [
    ("verified.debug", True),
    ("verified.tcb_status", "UpToDate"),
    ("verified.measurements", {"MEASUREMENT": "00" * 48}),
    ("source", "probe"),
    ("failures", ["nothing"]),
])
def test_recorded_attestation_outcome_is_rederived_not_believed(real: Real, tmp_path: Path, field: str,
                                                                 value: Any) -> None:
    assert real.statement["predicate"]["attestation"]["source"] == "simulated"

    def edit(st: dict[str, Any]) -> None:
        node = st["predicate"]["attestation"]
        *parents, last = field.split(".")
        for p in parents:
            node = node[p]
        node[last] = value

    path = write_envelope(tmp_path / "edited.json", resigned(real, edit))
    line = refused(real, path, "--trust", str(real.pub))
    assert f"predicate.attestation.{field.split('.')[0]}" in line and "differs from what the embedded evidence" in line, line


def test_environment_digest_is_recomputed_from_the_fingerprint(real: Real, tmp_path: Path) -> None:
    def edit(st: dict[str, Any]) -> None:  # a digest that names another platform
        st["predicate"]["environment"]["digest"] = "ab" * 32
        st["subject"][0]["digest"]["sha256"] = "ab" * 32

    path = write_envelope(tmp_path / "edited.json", resigned(real, edit))
    assert "is not the identity digest of predicate.environment.fingerprint" in refused(real, path, "--trust", str(real.pub))


def test_validity_starts_at_the_run_s_finish(real: Real, tmp_path: Path) -> None:
    def edit(st: dict[str, Any]) -> None:  # validity pushed a week later, within the profile's length
        v = st["predicate"]["validity"]
        v["not_before"] = format_time(parse_time(v["not_before"], "t") + dt.timedelta(days=7))

    path = write_envelope(tmp_path / "edited.json", resigned(real, edit))
    assert "not_before is not the run's finish" in refused(real, path, "--trust", str(real.pub))


# -- evidence a profile requires is never optional ---------------------------------------


def _requiring(tmp_path: Path, real: Real, *, suite_level: str) -> tuple[Path, Any]:
    """The quick profile, but requiring attestation (real formats only), with the
    attestation suite at ``suite_level``."""
    doc = copy.deepcopy(load_profile(real.profile).data)
    doc["id"] = "test-quick-attested"
    doc["tier"] = "bootstrap"
    doc["attestation"] = {"required": True, "policy": {"formats": ["snp", "tdx", "sgx", "nitro"]}}
    doc["suites"]["attestation"] = suite_level
    path = tmp_path / f"attested-{suite_level}.json"
    path.write_text(json.dumps(doc))
    return path, load_profile(path)


@pytest.mark.parametrize("suite_level", ["required", "advisory"])
def test_a_report_stripped_of_required_evidence_is_refused(real: Real, tmp_path: Path, suite_level: str) -> None:
    """The key holder removes the attestation section and its result, marks every
    result passed, claims CERTIFIED under a profile that requires attestation and
    re-signs: the recomputed verdict says the evidence is missing."""
    path_profile, prof = _requiring(tmp_path, real, suite_level=suite_level)

    def edit(st: dict[str, Any]) -> None:
        pred = st["predicate"]
        _strip_attestation(pred)
        for r in pred["results"]:
            r.update(outcome="passed", failures=0, message="")
        pred["profile"] = {**prof.identity(), "document": prof.data}
        pred["summary"] = verdict.summarize(pred["results"], prof)
        pred["verdict"] = {"result": "CERTIFIED", "reasons": []}

    path = write_envelope(tmp_path / "stripped.json", resigned(real, edit))
    line = refused(real, path, "--trust", str(real.pub), profile=str(path_profile))
    assert "claims CERTIFIED but its results give NOT_CERTIFIED: first reason ATTESTATION_MISSING" in line
    # and told honestly (the verdict recomputed), it is authentic but not certified
    def honest(st: dict[str, Any]) -> None:
        edit(st)
        st["predicate"]["verdict"] = verdict.compute(st["predicate"]["results"], prof)

    path = write_envelope(tmp_path / "honest.json", resigned(real, honest))
    res = verify(real, path, "--trust", str(real.pub), profile=str(path_profile))
    assert res.code == 1, res.out + res.err
    assert res.out.splitlines()[0] == f"{path}: NOT_CERTIFIED: ATTESTATION_MISSING attestation"


def test_failed_required_evidence_fails_even_where_its_suite_is_advisory(tmp_path: Path) -> None:
    import reportfactory as rf

    doc = copy.deepcopy(load_profile("development").data)
    doc.update(id="needs-evidence", tier="bootstrap", suites={"probe": "required", "attestation": "advisory"})
    doc["attestation"] = {"required": True, "policy": {"formats": ["snp"]}}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    prof = load_profile(path)
    rows = [rf.result("probe::abi", "probe"), rf.result("attestation::evidence", "attestation", "failed")]
    v = verdict.compute(rows, prof)
    assert v["result"] == "NOT_CERTIFIED"
    assert [(r["code"], r.get("test")) for r in v["reasons"]] == [("TEST_FAILED", "attestation::evidence")]
    rows[1] = rf.result("attestation::evidence", "attestation")
    assert verdict.compute(rows, prof)["reasons"] == []
    missing = verdict.compute(rows[:1], prof)["reasons"]
    assert [r["code"] for r in missing] == ["ATTESTATION_MISSING"]


# -- exit 0 needs a pinned signer and a pinned profile ------------------------------------


def test_certified_is_accepted_only_with_signer_and_profile_pinned(real: Real) -> None:
    path = str(real.path)
    both = teecert_cli(["verify", path, "--trust", str(real.pub), "--profile", str(real.profile)])
    assert both.code == 0 and both.out.splitlines()[0] == f"{path}: CERTIFIED", both.out + both.err
    no_signer = teecert_cli(["verify", path, "--profile", str(real.profile)])
    assert no_signer.code == 1, no_signer.out + no_signer.err
    assert no_signer.out.splitlines()[0] == f"{path}: CERTIFIED: not accepted, signer not pinned (pass --trust KEYS)"
    # the quick profile is no built-in: without --profile nothing pins it
    no_profile = teecert_cli(["verify", path, "--trust", str(real.pub)])
    assert no_profile.code == 1
    assert no_profile.out.splitlines()[0].endswith("not accepted, profile not pinned (pass --profile)")
    doc = json.loads(teecert_cli(["verify", path, "--json"]).out)
    assert doc["verdict"]["result"] == "CERTIFIED" and doc["accepted"] is False and doc["exit_code"] == 1
    assert not doc["signer_pinned"] and not doc["profile"]["pinned"]
    # an explicit opt-in, said in the line
    opted = teecert_cli(["verify", path, "--allow-unpinned"])
    assert opted.code == 0 and "accepted with --allow-unpinned" in opted.out.splitlines()[0]


def test_a_strangers_report_under_a_weakened_copy_of_strict_is_refused(real: Real, tmp_path: Path) -> None:
    """Anyone can sign a report naming their own key, under a document that calls
    itself strict with every suite advisory: refused, not CERTIFIED with a note."""
    stranger = Ed25519PrivateKey.generate()
    strict = load_profile("strict")
    weak = copy.deepcopy(strict.data)
    weak["suites"] = {s: "advisory" for s in weak["suites"]}
    weak["attestation"]["required"] = False
    weak_path = tmp_path / "weak-strict.json"
    weak_path.write_text(json.dumps(weak))
    prof = load_profile(weak_path)

    def edit(st: dict[str, Any]) -> None:
        pred = st["predicate"]
        _strip_attestation(pred)
        pred["profile"] = {**prof.identity(), "document": prof.data}
        set_signer(st, stranger)
        _recount(pred, weak_path)

    path = write_envelope(tmp_path / "stranger.json", resigned(real, edit, stranger))
    res = teecert_cli(["verify", str(path)])
    assert res.code == 2 and res.out == "", res.out + res.err
    (line,) = res.err.splitlines()
    assert "carries the built-in name strict but not its document" in line


def test_attestation_fields_that_are_not_base64_are_one_line(real: Real, tmp_path: Path) -> None:
    def edit(st: dict[str, Any]) -> None:
        st["predicate"]["attestation"]["evidence"] = "not base64!"

    path = write_envelope(tmp_path / "nonb64.json", resigned(real, edit))
    line = refused(real, path, "--trust", str(real.pub))
    assert "attestation.evidence is not base64" in line


def test_an_envelope_of_many_bogus_signatures_is_refused_at_once(real: Real, tmp_path: Path) -> None:
    """Each signature is tried against every trusted key: thousands of them are refused
    before any is checked."""
    env = copy.deepcopy(real.envelope)
    env["signatures"] = env["signatures"] * 1001
    path = write_envelope(tmp_path / "many.json", env)
    line = refused(real, path, "--trust", str(real.pub))
    assert "1001 signatures, more than the 1000" in line
