"""Signed run reports: genuine ones verify, forged ones are refused.

Every forgery below is re-signed where that matters, so the signature is valid and
only the checks after it can catch the lie: that is what an operator holding their
own run key can do.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teecert import profile as profiles
from teecert._internal import canonical, dsse
from teecert._internal.schema import make_validator
from teecert.errors import MalformedInput, NotAuthentic, UsageError
from teecert.report import keys, verdict
from teecert.report import statement as report
from teecert.verify.verifier import VerifyOutcome, error_to_json, outcome_to_json, verify_report

import reportfactory as rf

AT = rf.NOW + dt.timedelta(days=1)


def check(data: bytes, *, trusted: Any = None, profile: Any = None, at: dt.datetime = AT) -> VerifyOutcome:
    return verify_report(data, "r.json", trusted=trusted, profile=profile, at=at)


@pytest.fixture
def good(tmp_path: Path) -> rf.SignedReport:
    return rf.make_signed_report(tmp_path)


@pytest.fixture
def failing(tmp_path: Path) -> rf.SignedReport:
    return rf.make_signed_report(tmp_path, results=rf.make_results(len(rf.SUITES), 2))


def payload_of(data: bytes) -> dict[str, Any]:
    env = json.loads(data)
    doc: dict[str, Any] = json.loads(base64.b64decode(env["payload"]))
    return doc


# -- genuine reports ------------------------------------------------------------------------


def test_genuine_certified_report(good: rf.SignedReport) -> None:
    out = check(good.data, trusted=good.trusted, profile=profiles.load_profile("development"))
    assert out.authentic and out.verdict == {"result": "CERTIFIED", "reasons": []}
    assert out.claimed_verdict == out.verdict
    assert out.signer_pinned and out.profile_pinned and out.reasons == []
    assert out.signer_keyids == [keys.keyid(good.key.public_key())]
    assert out.statement == good.statement
    doc = outcome_to_json(out)
    json.dumps(doc)
    assert doc["verdict"]["result"] == "CERTIFIED" and doc["profile"]["pinned"]


def test_report_file_layout(good: rf.SignedReport) -> None:
    st_ = good.statement
    assert good.path.name == f"teecert-report-{st_['predicate']['run']['id']}.json"
    assert good.data.endswith(b"}\n")
    env = json.loads(good.data)
    assert set(env) == {"payload", "payloadType", "signatures"}
    assert env["payloadType"] == "application/vnd.in-toto+json"
    payload = base64.b64decode(env["payload"])
    assert payload == canonical.dumps(st_)  # the payload is the canonical statement
    assert st_["_type"] == "https://in-toto.io/Statement/v1"
    assert st_["predicateType"] == "https://teecert.dev/run-report/v1"
    pred = st_["predicate"]
    assert st_["subject"] == [
        {"name": "platform-environment", "digest": {"sha256": pred["environment"]["digest"]}},
        {"name": "probe", "digest": {"sha256": pred["probe"]["digest"]}},
    ]
    assert pred["validity"] == {"not_before": "2026-11-21T05:00:00Z", "not_after": "2026-12-21T05:00:00Z"}
    assert pred["signer"] == {"keyid": keys.keyid(good.key.public_key()),
                              "public_key": keys.public_raw_b64(good.key.public_key())}
    assert pred["profile"]["document"] == profiles.load_profile("development").data
    assert sorted(p.name for p in good.path.parent.iterdir()) == [good.path.name]  # no temp files


def test_genuine_not_certified_report_is_authentic(failing: rf.SignedReport) -> None:
    out = check(failing.data, trusted=failing.trusted)
    assert out.authentic and out.verdict["result"] == "NOT_CERTIFIED"
    assert [r["code"] for r in out.verdict["reasons"]] == ["TEST_FAILED", "TEST_FAILED"]
    assert out.verdict == failing.statement["predicate"]["verdict"]


def test_unpinned_signer_and_profile_are_said(tmp_path: Path) -> None:
    doc = dict(profiles.load_profile("development").data, id="lab-profile")
    path = tmp_path / "lab.json"
    path.write_text(json.dumps(doc))
    r = rf.make_signed_report(tmp_path, profile=profiles.load_profile(path))
    out = check(r.data)
    assert not out.signer_pinned and not out.profile_pinned
    assert out.reasons[0].startswith("signer not pinned")
    assert out.reasons[1].startswith("profile not pinned")
    assert out.verdict["result"] == "CERTIFIED"


def test_builtin_profile_is_used_when_digests_match(good: rf.SignedReport) -> None:
    out = check(good.data)
    assert out.profile_pinned and out.profile.builtin
    assert [n.split(":")[0] for n in out.reasons] == ["signer not pinned"]


def test_default_verification_time_is_now(tmp_path: Path) -> None:
    r = rf.make_signed_report(tmp_path, now=dt.datetime.now(dt.UTC))
    assert verify_report(r.data, "r.json", trusted=None, profile=None).authentic
    old = rf.make_signed_report(tmp_path, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
    with pytest.raises(NotAuthentic, match="expired"):
        verify_report(old.data, "r.json", trusted=None, profile=None)


# -- forged signatures and signers ---------------------------------------------------------------


def test_flipped_payload_byte(good: rf.SignedReport) -> None:
    env = json.loads(good.data)
    payload = bytearray(base64.b64decode(env["payload"]))
    i = payload.index(b"CERTIFIED")
    payload[i] ^= 0x20
    env["payload"] = base64.b64encode(bytes(payload)).decode()
    for trusted in (good.trusted, None):
        with pytest.raises(NotAuthentic, match="no valid signature"):
            check(json.dumps(env).encode(), trusted=trusted)


def test_flipped_signature_byte(good: rf.SignedReport) -> None:
    env = json.loads(good.data)
    sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    sig[0] ^= 1
    env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    with pytest.raises(NotAuthentic):
        check(json.dumps(env).encode(), trusted=good.trusted)


def test_wrong_trusted_key(good: rf.SignedReport) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(NotAuthentic, match="no valid signature by a trusted key"):
        check(good.data, trusted={keys.keyid(other): other})


def test_swapped_signer_public_key(good: rf.SignedReport) -> None:
    attacker = Ed25519PrivateKey.generate()

    def swap(s: dict[str, Any]) -> None:
        s["predicate"]["signer"] = {"keyid": keys.keyid(attacker.public_key()),
                                    "public_key": keys.public_raw_b64(attacker.public_key())}

    # Swapped, keeping the genuine signature: nothing verifies under the named key.
    st_ = copy.deepcopy(good.statement)
    swap(st_)
    env = json.loads(good.data)
    env["payload"] = base64.b64encode(canonical.dumps(st_)).decode()
    with pytest.raises(NotAuthentic):
        check(json.dumps(env).encode())
    # Swapped and re-signed by the attacker: a verifier pinning the real signer refuses it.
    forged = rf.forged(good, swap, key=attacker)
    with pytest.raises(NotAuthentic, match="no valid signature by a trusted key"):
        check(forged, trusted=good.trusted)
    # Unpinned, it verifies only as what it is: signed by the attacker, and said so.
    out = check(forged)
    assert out.signer_keyids == [keys.keyid(attacker.public_key())] and not out.signer_pinned


def test_trusted_signature_over_a_report_naming_another_signer(good: rf.SignedReport) -> None:
    other = Ed25519PrivateKey.generate().public_key()

    def rename(s: dict[str, Any]) -> None:
        s["predicate"]["signer"] = {"keyid": keys.keyid(other), "public_key": keys.public_raw_b64(other)}

    with pytest.raises(NotAuthentic, match=r"names signer .* but was signed by"):
        check(rf.forged(good, rename), trusted=good.trusted)


def test_signer_keyid_not_matching_its_key(good: rf.SignedReport) -> None:
    def bad(s: dict[str, Any]) -> None:
        s["predicate"]["signer"]["keyid"] = "0" * 64

    with pytest.raises(MalformedInput, match=r"signer.keyid is not the key id"):
        check(rf.forged(good, bad), trusted=good.trusted)


def test_second_untrusted_signature_does_not_help_or_hurt(good: rf.SignedReport) -> None:
    env = json.loads(good.data)
    payload = base64.b64decode(env["payload"])
    extra = dsse.sign(env["payloadType"], payload, [Ed25519PrivateKey.generate()])["signatures"][0]
    env["signatures"].append(extra)
    assert check(json.dumps(env).encode(), trusted=good.trusted).signer_keyids == sorted(good.trusted)


# -- forged content, validly re-signed ------------------------------------------------------------


def test_certified_claimed_over_failing_results(failing: rf.SignedReport) -> None:
    def claim(s: dict[str, Any]) -> None:
        s["predicate"]["verdict"] = {"result": "CERTIFIED", "reasons": []}

    with pytest.raises(NotAuthentic) as e:
        check(rf.forged(failing, claim), trusted=failing.trusted)
    assert str(e.value).startswith(
        "r.json: report claims CERTIFIED but its results give NOT_CERTIFIED: first reason TEST_FAILED ")


def test_failing_result_relabelled_passed_under_kept_verdict(failing: rf.SignedReport) -> None:
    def relabel(s: dict[str, Any]) -> None:
        for r in s["predicate"]["results"]:
            if r["outcome"] == "failed":
                r["outcome"] = "passed"

    with pytest.raises(NotAuthentic, match="claims NOT_CERTIFIED but its results give CERTIFIED"):
        check(rf.forged(failing, relabel), trusted=failing.trusted)


def test_failing_result_removed_and_verdict_upgraded(failing: rf.SignedReport) -> None:
    # The consistent lie: drop the failures and recompute verdict and summary.  The
    # signature and verdict now agree; only the signer's key says who told it.
    def drop(s: dict[str, Any]) -> None:
        p = s["predicate"]
        p["results"] = [r for r in p["results"] if r["outcome"] == "passed"]
        prof = profiles.load_profile("development")
        p["verdict"], p["summary"] = verdict.compute(p["results"], prof), verdict.summarize(p["results"], prof)

    attacker = Ed25519PrivateKey.generate()
    with pytest.raises(NotAuthentic):
        check(rf.forged(failing, drop, key=attacker), trusted=failing.trusted)


def test_reasons_edited_under_the_same_result(failing: rf.SignedReport) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["predicate"]["verdict"]["reasons"] = s["predicate"]["verdict"]["reasons"][:1]

    with pytest.raises(NotAuthentic, match="reasons differ"):
        check(rf.forged(failing, edit), trusted=failing.trusted)


def test_summary_edited(good: rf.SignedReport) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["predicate"]["summary"]["vectors"] += 1_000_000

    with pytest.raises(NotAuthentic, match="summary does not count"):
        check(rf.forged(good, edit), trusted=good.trusted)


def test_changed_vector_set_digest(good: rf.SignedReport) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["predicate"]["vector_set"]["digest"] = "ee" * 32

    for trusted in (good.trusted, None):
        with pytest.raises(NotAuthentic, match=r"vector set teecert-core .* is not the one profile development pins"):
            check(rf.forged(good, edit), trusted=trusted)


def test_report_under_development_refused_for_strict(good: rf.SignedReport) -> None:
    with pytest.raises(NotAuthentic, match=r"made under profile development v3 .*, not the required strict v3"):
        check(good.data, trusted=good.trusted, profile=profiles.load_profile("strict"))


def test_profile_document_weakened_under_a_builtin_name(tmp_path: Path) -> None:
    # A report made under "strict" with unsupported ops allowed: CERTIFIED under the
    # weakened document, NOT_CERTIFIED under the real strict profile.
    strict = profiles.load_profile("strict").data
    weak = dict(strict, unsupported_ops="allow", attestation={**strict["attestation"], "required": False})
    path = tmp_path / "weak.json"
    path.write_text(json.dumps(weak))
    attested = rf.result("test_attestation.py::test_probe_evidence_for_a_fresh_nonce", "attestation", "passed")
    r = rf.make_signed_report(tmp_path, profile=profiles.load_profile(path),
                              results=[*rf.make_results(len(rf.SUITES), n_unsupported=2), attested])
    assert r.statement["predicate"]["verdict"]["result"] == "CERTIFIED"
    with pytest.raises(NotAuthentic, match="not the required strict"):
        check(r.data, trusted=r.trusted, profile=profiles.load_profile("strict"))
    # unpinned, a built-in's name on another document is refused outright: reviewers read names
    with pytest.raises(NotAuthentic, match=r"carries the built-in name strict but not its document"):
        check(r.data, trusted=r.trusted)
    # the same document under a name of its own is judged by that document, and said so
    own = dict(weak, id="acme-relaxed")
    path.write_text(json.dumps(own))
    r2 = rf.make_signed_report(tmp_path / "own", profile=profiles.load_profile(path),
                               results=[*rf.make_results(len(rf.SUITES), n_unsupported=2), attested])
    out = check(r2.data, trusted=r2.trusted)
    assert not out.profile_pinned and "profile not pinned" in out.reasons[0]


def test_profile_document_not_matching_its_digest(good: rf.SignedReport) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["predicate"]["profile"]["document"]["unsupported_ops"] = "fail"

    with pytest.raises(MalformedInput, match=r"does not hash to predicate.profile.digest"):
        check(rf.forged(good, edit), trusted=good.trusted)


def test_profile_version_downgrade(good: rf.SignedReport) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["predicate"]["profile"]["version"] = 0

    with pytest.raises(MalformedInput, match=r"\$\.predicate\.profile\.version"):
        check(rf.forged(good, edit), trusted=good.trusted)


def test_replayed_for_another_platform(good: rf.SignedReport) -> None:
    def subject_only(s: dict[str, Any]) -> None:
        s["subject"][0]["digest"]["sha256"] = "aa" * 32

    with pytest.raises(MalformedInput, match="subject 'platform-environment' does not match"):
        check(rf.forged(good, subject_only), trusted=good.trusted)

    def probe_subject(s: dict[str, Any]) -> None:
        s["subject"][1]["digest"]["sha256"] = "bb" * 32

    with pytest.raises(MalformedInput, match="subject 'probe' does not match"):
        check(rf.forged(good, probe_subject), trusted=good.trusted)


# -- validity ----------------------------------------------------------------------------------


def test_expired_and_not_yet_valid(good: rf.SignedReport) -> None:
    end = dt.datetime(2026, 12, 21, 5, 0, 0, tzinfo=dt.UTC)
    assert check(good.data, at=end).authentic  # the last second still counts
    with pytest.raises(NotAuthentic, match="expired at 2026-12-21T05:00:00Z"):
        check(good.data, trusted=good.trusted, at=end + dt.timedelta(seconds=1))
    with pytest.raises(NotAuthentic, match="not valid before 2026-11-21T05:00:00Z"):
        check(good.data, at=rf.NOW - dt.timedelta(seconds=1))
    naive = dt.datetime(2026, 11, 22)  # taken as UTC
    assert check(good.data, at=naive).authentic


def test_validity_extended_beyond_the_profile(good: rf.SignedReport) -> None:
    def extend(s: dict[str, Any]) -> None:
        s["predicate"]["validity"]["not_after"] = "2036-11-21T05:00:00Z"

    with pytest.raises(NotAuthentic, match="exceeds the 30 days profile development allows"):
        check(rf.forged(good, extend), trusted=good.trusted, at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))


def test_build_refuses_validity_longer_than_the_profile() -> None:
    with pytest.raises(UsageError, match="allows 1 to 30 days"):
        rf.statement_for(Ed25519PrivateKey.generate(), validity_days=31)
    st_ = rf.statement_for(Ed25519PrivateKey.generate(), validity_days=7)
    assert st_["predicate"]["validity"]["not_after"] == "2026-11-28T05:00:00Z"


# -- malformed envelopes and payloads ------------------------------------------------------------


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d[: len(d) // 2],  # truncated
        lambda d: b"this is not json",
        lambda d: b"",
        lambda d: json.dumps({k: v for k, v in json.loads(d).items() if k != "signatures"}).encode(),
        lambda d: json.dumps({**json.loads(d), "note": "hi"}).encode(),
        lambda d: json.dumps({**json.loads(d), "signatures": []}).encode(),
        lambda d: d.replace(b'"payloadType"', b'"payloadType": "x", "payloadType"', 1),
    ],
)
def test_malformed_envelopes(good: rf.SignedReport, mangle: Any) -> None:
    with pytest.raises(MalformedInput) as e:
        check(mangle(good.data), trusted=good.trusted)
    assert str(e.value).startswith("r.json")


def _resign_bytes(payload: bytes, key: Ed25519PrivateKey, payload_type: str = report.PAYLOAD_TYPE) -> bytes:
    return json.dumps(dsse.sign(payload_type, payload, [key])).encode()


def test_wrong_payload_type(good: rf.SignedReport) -> None:
    data = _resign_bytes(canonical.dumps(good.statement), good.key, "application/json")
    with pytest.raises(MalformedInput, match="payloadType is 'application/json'"):
        check(data, trusted=good.trusted)


def test_non_canonical_payload(good: rf.SignedReport) -> None:
    data = _resign_bytes(json.dumps(good.statement, indent=1).encode(), good.key)
    with pytest.raises(MalformedInput, match="not in RFC 8785 canonical form"):
        check(data, trusted=good.trusted)


def test_duplicate_key_and_float_in_signed_payload(good: rf.SignedReport) -> None:
    payload = canonical.dumps(good.statement)
    dup = payload.replace(b'"verdict":{', b'"verdict":{"result":"CERTIFIED","reasons":[]},"verdict":{', 1)
    with pytest.raises(MalformedInput, match=r"duplicate key 'verdict' in \$\.predicate"):
        check(_resign_bytes(dup, good.key), trusted=good.trusted)
    flt = payload.replace(b'"abi_version":1', b'"abi_version":1.0', 1)
    with pytest.raises(MalformedInput, match=r"float 1\.0 at \$\.predicate\.probe\.abi_version"):
        check(_resign_bytes(flt, good.key), trusted=good.trusted)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s["predicate"].pop("verdict"), r"\$\.predicate: 'verdict' is a required property"),
        (lambda s: s["predicate"].update(waivers=[]), r"\$\.predicate: Additional properties"),
        (lambda s: s["predicate"]["results"][0].update(outcome="xfail"), r"\$\.predicate\.results\[0\]\.outcome"),
        (lambda s: s["predicate"]["results"][1].update(duration_ms=-1), r"\$\.predicate\.results\[1\]\.duration_ms"),
        (lambda s: s["predicate"]["run"].update(finished="2026-11-21 05:00:00"), r"\$\.predicate\.run\.finished"),
        (lambda s: s["predicate"]["run"].update(seed=12), r"\$\.predicate\.run\.seed"),
        (lambda s: s.update(predicateType="https://slsa.dev/provenance/v1"), "predicateType is"),
        (lambda s: s.update(_type="https://in-toto.io/Statement/v0.1"), "_type is"),
    ],
)
def test_schema_violations_name_the_field(good: rf.SignedReport, edit: Any, message: str) -> None:
    with pytest.raises(MalformedInput, match=message):
        check(rf.forged(good, edit), trusted=good.trusted)


def test_duplicate_test_ids(good: rf.SignedReport) -> None:
    def dup(s: dict[str, Any]) -> None:
        s["predicate"]["results"].append(dict(s["predicate"]["results"][0]))
        s["predicate"]["summary"] = verdict.summarize(s["predicate"]["results"], report.embedded_profile(s, "t"))

    with pytest.raises(MalformedInput, match="appears twice"):
        check(rf.forged(good, dup), trusted=good.trusted)


def test_error_to_json() -> None:
    doc = error_to_json(NotAuthentic("r.json: expired"), "r.json")
    assert doc == {"report": "r.json", "authentic": False, "error": "NotAuthentic",
                   "message": "r.json: expired"}  # the command line adds the exit code


# -- signing and writing refuse what verify would refuse --------------------------------------------


def test_sign_statement_refuses_inconsistent_statements() -> None:
    key = Ed25519PrivateKey.generate()
    st_ = rf.statement_for(key, results=rf.make_results(4, 1))
    claimed = copy.deepcopy(st_)
    claimed["predicate"]["verdict"] = {"result": "CERTIFIED", "reasons": []}
    with pytest.raises(UsageError, match="not the verdict of its results"):
        report.sign_statement(claimed, key)
    with pytest.raises(UsageError, match="names another key"):
        report.sign_statement(st_, Ed25519PrivateKey.generate())
    floaty = copy.deepcopy(st_)
    floaty["predicate"]["probe"]["description"]["clock_resolution"] = 1e-9
    with pytest.raises(MalformedInput, match=r"float at \$\.predicate\.probe\.description\.clock_resolution"):
        report.sign_statement(floaty, key)
    big = copy.deepcopy(st_)
    big["predicate"]["environment"]["fingerprint"]["memory_bytes"] = 2**60
    with pytest.raises(MalformedInput, match="beyond 2"):
        report.sign_statement(big, key)


def test_write_report_never_overwrites_and_leaves_no_partial_file(good: rf.SignedReport, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="already exists"):
        report.write_report(good.path.parent, good.envelope, good.statement)
    out = tmp_path / "out"
    other = copy.deepcopy(good.statement)
    other["predicate"]["run"]["id"] = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    with pytest.raises(UsageError, match="does not carry this statement"):
        report.write_report(out, good.envelope, other)
    broken = {**good.envelope, "signatures": [object()]}  # fails while serializing
    with pytest.raises(TypeError):
        report.write_report(out, broken, good.statement)
    assert not out.exists() or list(out.iterdir()) == []
    with pytest.raises(UsageError, match="not a UUID4"):
        report.report_filename("../../etc/passwd")


# -- schema shape and the fast row checks -------------------------------------------------------------


def test_schema_pins_every_object() -> None:
    # additionalProperties is false wherever the format is ours; the only open
    # objects are the ones that carry other parties' facts.
    open_ok = {"fingerprint", "description"}

    def walk(node: Any, name: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and name not in open_ok:
                assert node.get("additionalProperties") is False, name
            for k, v in node.items():
                walk(v, k if k not in ("properties", "$defs", "prefixItems", "anyOf", "items") else name)
        elif isinstance(node, list):
            for v in node:
                walk(v, name)

    schema = report.schema()
    walk(schema, "$")
    pred = schema["$defs"]["predicate"]
    assert set(pred["required"]) == set(pred["properties"]) - {"attestation"} == {
        "harness", "run", "profile", "vector_set", "probe", "environment", "results", "summary", "verdict",
        "validity", "signer"}
    assert pred["properties"]["attestation"]["additionalProperties"] is False


# Rows for the agreement tests: valid rows, and valid rows with one field replaced by
# junk (wrong types, near-miss strings, boundary lengths), one key dropped or one added.
_hex_ok = st.text("0123456789abcdef", min_size=1, max_size=8)
_count_ok = st.integers(0, 2**53 - 1)
_junk = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 2) | st.just(2**53 - 1) | st.just(2**53),
    st.text("0123456789abcdefG_Zn\n ", max_size=4), st.lists(_hex_ok, max_size=1), st.just({}),
    st.sampled_from(["a" * 200, "a" * 201, "a" * 1000, "a" * 1001, "m" * 2000, "m" * 2001, "0" * 2048,
                     "0" * 2049, "nan", "01", "probe", "probe\n", "Probe", "_x", "x_1", "explicit", "xfail",
                     "SUITE_MISSING", "NOPE"]),
)
_divergence_ok = st.fixed_dictionaries({
    "index": _count_ok, "inputs": st.lists(_hex_ok, max_size=3), "expected": _hex_ok, "got": _hex_ok,
    "ulp": st.sampled_from(["0", "1", "4372995238176751614", "nan", None]),
})
_row_ok = st.fixed_dictionaries({
    "id": st.text(min_size=1, max_size=5),
    "suite": st.sampled_from(["probe", "ieee754", "x_1", "9"]),
    "op": st.one_of(st.none(), st.text(min_size=1, max_size=5)),
    "kind": st.sampled_from(["explicit", "stream", "check"]),
    "outcome": st.sampled_from(["passed", "failed", "error", "skipped", "unsupported"]),
    "message": st.text(max_size=5),
    "vectors": _count_ok, "failures": _count_ok, "duration_ms": _count_ok,
    "root": st.one_of(st.none(), _hex_ok), "expected_root": st.one_of(st.none(), _hex_ok),
    "divergence": st.one_of(st.none(), _divergence_ok),
})
_reason_ok = st.fixed_dictionaries(
    {"code": st.sampled_from(["SUITE_MISSING", "TEST_FAILED", "TEST_SKIPPED", "OP_UNSUPPORTED"]),
     "suite": st.text(max_size=3)},
    optional={"test": st.text(max_size=3), "message": st.text(max_size=3),
              "op": st.one_of(st.none(), st.text(max_size=3))},
)


def _mutated(valid: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        row = draw(valid)
        how = draw(st.sampled_from(["none", "junk", "junk", "junk", "drop", "add", "nested"]))
        if how == "junk":
            row[draw(st.sampled_from(sorted(row)))] = draw(_junk)
        elif how == "drop":
            row.pop(draw(st.sampled_from(sorted(row))))
        elif how == "add":
            row[draw(st.sampled_from(["waived", "extra", "Suite"]))] = draw(_junk)
        elif how == "nested" and isinstance(row.get("divergence"), dict):
            d = row["divergence"]
            field_ = draw(st.sampled_from([*sorted(d), "extra"]))
            if field_ == "inputs" and draw(st.booleans()):
                d["inputs"] = [*d["inputs"], draw(_junk)]
            else:
                d[field_] = draw(_junk)
        return row

    return build()


rows = _mutated(_row_ok)
reasons = _mutated(_reason_ok)


@functools.cache
def def_validator(name: str) -> Any:
    """A validator for one of the run-report schema's $defs, with our pattern semantics."""
    schema = report.schema()
    return make_validator({"$schema": schema["$schema"], "$defs": schema["$defs"],
                                    "$ref": f"#/$defs/{name}"})


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_fast_result_check_agrees_with_the_schema(row: dict[str, Any]) -> None:
    assert report.result_row_ok(row) == def_validator("result").is_valid(row)


@settings(max_examples=500, deadline=None)
@given(reasons)
def test_fast_reason_check_agrees_with_the_schema(reason: dict[str, Any]) -> None:
    assert report.reason_ok(reason) == def_validator("reason").is_valid(reason)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(rows, _row_ok), max_size=6), st.randoms())
def test_rows_checked_by_column_agree_with_rows_checked_one_by_one(some: list[Any], rnd: Any) -> None:
    # Real rows with generated ones, valid or mutated, among them: the column-wise
    # path may only say yes when every row passes result_row_ok.
    mixed = [dict(r) for r in rf.make_results(4, 2)] + some
    rnd.shuffle(mixed)
    expected = all(report.result_row_ok(r) for r in mixed)
    assert report.results_ok(mixed) == expected
    if report._rows_by_column(mixed):
        assert expected


@pytest.mark.parametrize("edit", [
    lambda r: r.update(root=""), lambda r: r.update(root="AB"), lambda r: r.update(root="ab\n"),
    lambda r: r.update(root="ab" * 1025), lambda r: r.update(expected_root="0x"), lambda r: r.update(op=""),
    lambda r: r.update(op="o" * 201), lambda r: r.update(id=""), lambda r: r.update(id="i" * 1001),
    lambda r: r.update(message="m" * 2001), lambda r: r.update(vectors=True), lambda r: r.update(vectors=-1),
    lambda r: r.update(failures=2**53), lambda r: r.update(duration_ms=1.0), lambda r: r.update(kind="Check"),
    lambda r: r.update(outcome=["passed"]), lambda r: r.update(suite="Bad"), lambda r: r.update(suite=1),
    lambda r: r.pop("root"), lambda r: r.update(extra=1), lambda r: (r.pop("root"), r.update(extra=None)),
    lambda r: r.update(divergence={}), lambda r: r.update(root="\u00e9"), lambda r: r.update(message=None),
    lambda r: r.update(divergence={"index": 1, "inputs": ["0g"], "expected": "00", "got": "01", "ulp": None}),
], ids=[str(i) for i in range(25)])
def test_each_bad_field_is_refused_by_both_row_checks(edit: Any) -> None:
    rows_ = [dict(r) for r in rf.make_results(4, 2)]
    edit(rows_[-1])
    assert not report.result_row_ok(rows_[-1])
    assert not report._rows_by_column(rows_) and not report.results_ok(rows_)
    assert report._rows_by_column(rows_[:-1])


def test_fast_checks_accept_real_rows() -> None:
    # The generated rows above are mostly invalid; real ones must take the fast path.
    for row in rf.make_results(6, 3, n_skip=1, n_unsupported=1, n_error=1):
        assert report.result_row_ok(row) and def_validator("result").is_valid(row)
    st_ = rf.statement_for(Ed25519PrivateKey.generate(), results=rf.make_results(4, 4))
    assert report._without_rows(st_) is not st_


def test_source_digest_is_stable_and_covers_the_sources() -> None:
    d = report.source_digest()
    assert len(d) == 64 and d == report.source_digest()
    names = [rel for rel, _ in report._source_files()]
    assert names == sorted(names)
    assert {"report/statement.py", "verify/verifier.py", "schemas/run-report.schema.json",
            "profiles/strict.json", "suites/test_ieee754.py"} <= set(names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_the_schema_lists_every_characterization_case() -> None:
    from teecert.certify.facts.characterization import CASES

    char = report.schema()["$defs"]["predicate"]["properties"]["probe"]["properties"]["characterization"]
    assert set(char["properties"]["cases"]["properties"]) == {c.name for c in CASES}
