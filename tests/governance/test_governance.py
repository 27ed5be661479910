"""Governance: every attack on signed profiles, revocations, decisions and waivers is refused.

A governance of three keys with threshold 2 signs a bootstrap-tier profile.  Then the
attacks: a profile signed by k-1 keys, by one key twice, by an untrusted key; an
expired or not yet active profile; a superseded (downgraded) version; a revoked
report key, platform or vector set; a decision over a forged report; a decision
signed below the threshold; waivers used after expiry or on a test they do not name.
Refusals are exit 2 with one line naming the file, as a user sees them.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert import profile as profiles
from teecert._internal import canonical, dsse
from teecert.errors import MalformedInput, NotAuthentic, UsageError
from teecert.governance import profiles as governed
from teecert.governance import trust as governance
from teecert.report import keys, verdict
from teecert.verify import decision
from teecert.verify.verifier import verify_report

import reportfactory as rf
from conftest import CliResult, ok, one_line, teecert_cli

AT = "2026-11-22T00:00:00Z"  # a day after the factory's reports were made
ACTIVATES = "2026-01-01T00:00:00Z"
EXPIRES = "2027-06-01T00:00:00Z"
WAIVER_ID = "test_ieee754.py::test_explicit[f64.mul.rtz]"


# Each test its own state folder: never the real home.
pytestmark = pytest.mark.usefixtures("state_home")


@dataclass
class Gov:
    dir: Path
    keys: list[Ed25519PrivateKey]
    key_files: list[Path]
    file: Path  # threshold 2 of the three keys
    outsider: Path  # a key governance does not list

    def k(self, *which: int) -> list[str]:
        out: list[str] = []
        for i in which:
            out += ["--key", str(self.key_files[i])]
        return out


@pytest.fixture(scope="module")
def gov(tmp_path_factory: pytest.TempPathFactory) -> Gov:
    d = tmp_path_factory.mktemp("gov")
    files = [d / f"gov{i}.pem" for i in range(3)]
    ks = [keys.generate(f) for f in files]
    for f, k in zip(files, ks, strict=True):
        keys.write_public(Path(f"{f}.pub"), k.public_key())
    outsider = d / "outsider.pem"
    keys.generate(outsider)
    res = teecert_cli(["governance", "init", *(f"{f}.pub" for f in files), "--threshold", "2",
                       "--out", str(d / "gov.json")])
    ok(res)
    return Gov(d, ks, files, d / "gov.json", outsider)


def profile_doc(version: int = 1, **extra: Any) -> dict[str, Any]:
    """A bootstrap-tier profile reports from the factory can meet (attestation advisory,
    real evidence formats only: simulated evidence is for development profiles)."""
    doc = copy.deepcopy(profiles.load_profile("development").data)
    doc.update({"id": "acme", "version": version, "tier": "bootstrap", "activates": ACTIVATES, "expires": EXPIRES,
                **extra})
    doc["attestation"]["policy"]["formats"] = ["snp", "tdx", "sgx", "nitro"]
    return doc


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=1))
    return path


def sign_env(doc: Any, signers: list[Ed25519PrivateKey], ptype: str = profiles.PROFILE_PAYLOAD_TYPE) -> dict[str, Any]:
    """Sign with no checks at all, as a forger holding keys would."""
    return dsse.sign(ptype, canonical.dumps(doc), signers)


@pytest.fixture(scope="module")
def signed_profile(gov: Gov) -> Path:
    src = write(gov.dir / "acme.json", profile_doc())
    out = gov.dir / "acme.signed.json"
    ok(teecert_cli(["profile", "sign", str(src), *gov.k(0), "--out", str(out)]))
    ok(teecert_cli(["profile", "sign", str(out), *gov.k(1), "--out", str(out)]))  # co-sign in place
    return out


def verify_profile(gov: Gov, path: Path, *extra: str) -> CliResult:
    return teecert_cli(["profile", "verify", str(path), "--governance", str(gov.file), "--at", AT, *extra])


# -- signed profiles ---------------------------------------------------------------------


def test_profile_signed_by_the_threshold_verifies(gov: Gov, signed_profile: Path) -> None:
    env = json.loads(signed_profile.read_text())
    assert env["payloadType"] == "application/vnd.teecert.profile+json" and len(env["signatures"]) == 2
    res = ok(verify_profile(gov, signed_profile, "--json"))
    doc = json.loads(res.out)
    assert doc["authentic"] and doc["id"] == "acme" and doc["threshold"] == 2 and len(doc["signers"]) == 2
    assert doc["digest"] == canonical.sha256_hex(profile_doc())  # signatures do not change the identity
    # `profile show` and `verify --profile` read a signed profile too
    shown = ok(teecert_cli(["profile", "show", str(signed_profile)]))
    assert json.loads(shown.out)["digest"] == doc["digest"]


def test_cosigning_with_a_key_that_already_signed_is_refused(gov: Gov, signed_profile: Path, tmp_path: Path) -> None:
    res = teecert_cli(["profile", "sign", str(signed_profile), *gov.k(0), "--out", str(tmp_path / "x.json")])
    one_line(res, "profile", "already signed")


def test_profile_signed_by_k_minus_1_keys_is_refused(gov: Gov, tmp_path: Path) -> None:
    path = write(tmp_path / "one.json", sign_env(profile_doc(), [gov.keys[0]]))
    one_line(verify_profile(gov, path), "profile", str(path), "signed by 1 of the 3 governance keys",
             "2 distinct governance keys must sign")


def test_profile_signed_twice_by_the_same_key_is_refused(gov: Gov, tmp_path: Path) -> None:
    env = sign_env(profile_doc(), [gov.keys[0]])
    env["signatures"].append(dict(env["signatures"][0]))  # the same signature again
    env["signatures"].append({"sig": env["signatures"][0]["sig"]})  # and once more without a key id
    path = write(tmp_path / "twice.json", env)
    one_line(verify_profile(gov, path), "profile", "signed by 1 of the 3 governance keys")
    # the CLI never adds a key twice either
    src = write(tmp_path / "p.json", profile_doc())
    out = tmp_path / "s.json"
    ok(teecert_cli(["profile", "sign", str(src), *gov.k(0, 0), "--out", str(out)]))
    assert len(json.loads(out.read_text())["signatures"]) == 1
    one_line(verify_profile(gov, out), "profile", "signed by 1 of the 3")


def test_profile_signed_by_an_untrusted_key_is_refused(gov: Gov, tmp_path: Path) -> None:
    outsider = keys.load_private(gov.outsider)
    path = write(tmp_path / "outsider.json", sign_env(profile_doc(), [gov.keys[0], outsider]))
    one_line(verify_profile(gov, path), "profile", "signed by 1 of the 3 governance keys")
    only = write(tmp_path / "only-outsider.json", sign_env(profile_doc(), [outsider]))
    one_line(verify_profile(gov, only), "profile", "no valid signature by a governance key")


def test_profile_outside_its_activation_window_is_refused(gov: Gov, signed_profile: Path) -> None:
    one_line(verify_profile(gov, signed_profile, "--at", "2027-06-01T00:00:01Z"), "profile",
             "expired at 2027-06-01T00:00:00Z")
    one_line(verify_profile(gov, signed_profile, "--at", "2025-12-31T23:59:59Z"), "profile",
             "not active before 2026-01-01T00:00:00Z")
    ok(verify_profile(gov, signed_profile, "--at", EXPIRES))  # the last second still counts


def test_payload_swapped_between_document_kinds_is_refused(gov: Gov, tmp_path: Path) -> None:
    env = sign_env(profile_doc(), gov.keys[:2], governance.REVOCATIONS_PAYLOAD_TYPE)
    path = write(tmp_path / "swapped.json", env)
    one_line(verify_profile(gov, path), "profile", "payloadType is 'application/vnd.teecert.revocations+json'")


def revocations_doc(sequence: int = 1, **lists: Any) -> dict[str, Any]:
    return {"schema": "teecert-revocations/1", "sequence": sequence, "issued": "2026-11-01T00:00:00Z",
            "expires": "2027-01-01T00:00:00Z", **lists}


def signed_revocations(gov: Gov, path: Path, doc: dict[str, Any], *which: int) -> Path:
    src = write(path.with_suffix(".doc.json"), doc)
    ok(teecert_cli(["revocations", "sign", str(src), *gov.k(*(which or (0, 2))), "--out", str(path)]))
    return path


def test_superseded_profile_version_is_refused(gov: Gov, signed_profile: Path, tmp_path: Path) -> None:
    rev = signed_revocations(gov, tmp_path / "rev.json",
                             revocations_doc(profiles=[{"id": "acme", "min_version": 2, "from": "2026-11-21T12:00:00Z"}]))
    ok(teecert_cli(["revocations", "verify", str(rev), "--governance", str(gov.file)]))
    one_line(verify_profile(gov, signed_profile, "--revocations", str(rev)), "profile",
             "profile acme v1 is superseded by v2 from 2026-11-21T12:00:00Z")
    ok(verify_profile(gov, signed_profile, "--revocations", str(rev), "--at", "2026-11-21T11:59:59Z"))
    # the newer version is not affected
    v2 = write(tmp_path / "v2.json", sign_env(profile_doc(version=2), gov.keys[1:]))
    ok(verify_profile(gov, v2, "--revocations", str(rev)))


def test_revocation_list_below_threshold_is_refused(gov: Gov, tmp_path: Path) -> None:
    rev = signed_revocations(gov, tmp_path / "rev1.json", revocations_doc(), 1)
    one_line(teecert_cli(["revocations", "verify", str(rev), "--governance", str(gov.file)]), "revocations",
             "revocation list is signed by 1 of the 3 governance keys")


# -- load_governed: what `teecert run --governance` enforces --------------------------------


def test_load_governed(gov: Gov, signed_profile: Path, tmp_path: Path) -> None:
    at = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    prof = governed.load_governed(signed_profile, gov.file, at)
    assert prof.id == "acme" and len(prof.signers) == 2 and prof.certification_tier
    unsigned = write(tmp_path / "unsigned.json", profile_doc())
    for p in (unsigned, "strict", "bootstrap"):
        with pytest.raises(NotAuthentic, match=r"unsigned (bootstrap|strict) profile .*signed by governance"):
            governed.load_governed(p, gov.file, at)
    assert governed.load_governed("development", gov.file, at).id == "development"  # may stay unsigned
    under = write(tmp_path / "under.json", sign_env(profile_doc(), [gov.keys[2]]))
    with pytest.raises(NotAuthentic, match="signed by 1 of the 3"):
        governed.load_governed(under, gov.file, at)
    with pytest.raises(NotAuthentic, match="expired"):
        governed.load_governed(signed_profile, gov.file, dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
    rev = signed_revocations(gov, tmp_path / "rev.json",
                             revocations_doc(profiles=[{"id": "acme", "min_version": 2, "from": ACTIVATES}]))
    with pytest.raises(NotAuthentic, match="superseded"):
        governed.load_governed(signed_profile, gov.file, at, revocations=rev)
    # without governance: the old behaviour (signatures not judged)
    assert governed.load_governed(signed_profile, None).digest == prof.digest
    assert governed.load_governed("strict").id == "strict"


def test_bootstrap_builtin() -> None:
    b, strict = profiles.load_profile("bootstrap"), profiles.load_profile("strict")
    assert (b.tier, b.validity_days, b.data["attestation"]["required"]) == ("bootstrap", 30, True)
    # strict's suites, but stress, clocks and libm only advisory, and a quarter of each stream
    relaxed = {"stress", "clocks", "libm"}
    assert {k: v for k, v in b.suites.items() if k not in relaxed} == {
        k: v for k, v in strict.suites.items() if k not in relaxed}
    assert all(b.suites[k] == "advisory" for k in relaxed) and b.stream_scale < strict.stream_scale
    assert b.data["attestation"]["policy"] == strict.data["attestation"]["policy"]


def test_profile_times_are_checked(tmp_path: Path) -> None:
    with pytest.raises(MalformedInput, match=r"\$\.expires .* is not after \$\.activates"):
        profiles.from_document(profile_doc(expires=ACTIVATES), "p.json")
    with pytest.raises(MalformedInput, match=r"\$\.activates"):
        profiles.from_document(profile_doc(activates="2026-02-30T00:00:00Z"), "p.json")
    with pytest.raises(MalformedInput, match=r"\$\.expires.*does not match"):
        profiles.from_document(profile_doc(expires="2027-06-01T00:00:00+00:00"), "p.json")


# -- reports under revocations ------------------------------------------------------------


@pytest.fixture(scope="module")
def acme(gov: Gov) -> profiles.Profile:
    return profiles.from_document(profile_doc(), "acme")


def verify_cli(gov: Gov, report: Path, signed_profile: Path, *extra: str) -> CliResult:
    trust = report.with_name(report.name + ".signer.pub")
    return teecert_cli(["verify", str(report), "--profile", str(signed_profile), "--at", AT,
                        "--governance", str(gov.file), *(["--trust", str(trust)] if trust.exists() else []),
                        *extra])


def test_revoked_key_platform_vector_set_and_version(gov: Gov, signed_profile: Path, acme: profiles.Profile,
                                                     tmp_path: Path) -> None:
    good = rf.make_signed_report(tmp_path, profile=acme)
    assert good.pub.exists()
    pred = good.statement["predicate"]
    ok(verify_cli(gov, good.path, signed_profile))
    cases = {
        "key": (revocations_doc(keys=[{"keyid": pred["signer"]["keyid"], "from": "2026-11-21T06:00:00Z",
                                       "reason": "key leaked"}]), "signing key", "key leaked"),
        "platform": (revocations_doc(platforms=[{"environment_digest": pred["environment"]["digest"],
                                                 "from": "2026-11-21T06:00:00Z", "reason": "TCB recall"}]),
                     "platform-environment", "TCB recall"),
        "vectors": (revocations_doc(vector_sets=[{"digest": pred["vector_set"]["digest"],
                                                  "revoked_from": "2026-11-21T06:00:00Z"}]), "vector set", "revoked"),
        "version": (revocations_doc(profiles=[{"id": "acme", "min_version": 2, "from": "2026-11-21T06:00:00Z"}]),
                    "superseded by v2", "acme v1"),
    }
    for sequence, (name, (doc, *fragments)) in enumerate(cases.items(), 1):
        # each a newer list than the one before: an older or a different list under one
        # sequence number would be refused as a rollback
        rev = signed_revocations(gov, tmp_path / f"rev-{name}.json", {**doc, "sequence": sequence})
        one_line(verify_cli(gov, good.path, signed_profile, "--revocations", str(rev)), "verify",
                 str(good.path), *fragments)
        # before the revocation takes effect the report still verifies
        ok(verify_cli(gov, good.path, signed_profile, "--revocations", str(rev), "--at", "2026-11-21T05:59:59Z"))
    # an unrelated list changes nothing, and --revocations needs --governance
    other = signed_revocations(gov, tmp_path / "rev-other.json",
                               revocations_doc(len(cases) + 1,
                                               keys=[{"keyid": "0" * 64, "from": ACTIVATES, "reason": "x"}]))
    ok(verify_cli(gov, good.path, signed_profile, "--revocations", str(other)))
    res = teecert_cli(["verify", str(good.path), "--at", AT, "--revocations", str(other)])
    one_line(res, "verify", "--revocations needs --governance")


def test_report_made_outside_the_profile_window_is_refused(tmp_path: Path) -> None:
    late = profiles.from_document(profile_doc(expires="2026-11-01T00:00:00Z", activates="2026-10-01T00:00:00Z"), "p")
    r = rf.make_signed_report(tmp_path, profile=late)
    with pytest.raises(NotAuthentic, match="after profile acme v1 expired"):
        verify_report(r.data, str(r.path), trusted=r.trusted, profile=late, at=rf.NOW)
    early = profiles.from_document(profile_doc(activates="2026-12-01T00:00:00Z"), "p")
    r2 = rf.make_signed_report(tmp_path, profile=early)
    with pytest.raises(NotAuthentic, match="before profile acme v1 activates"):
        verify_report(r2.data, str(r2.path), trusted=r2.trusted, profile=early, at=rf.NOW)


# -- decisions ----------------------------------------------------------------------------


def decide(gov: Gov, reports: list[Path], signed_profile: Path, out: Path, *keys_: int, extra: tuple[str, ...] = ()) -> CliResult:
    return teecert_cli(["decide", *map(str, reports), "--profile", str(signed_profile), *gov.k(*(keys_ or (0,))),
                        "--out", str(out), "--at", AT, "--governance", str(gov.file), *extra])


def test_decision_needs_the_threshold_and_then_verifies(gov: Gov, signed_profile: Path, acme: profiles.Profile,
                                                       tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    reports = [rf.make_signed_report(tmp_path, profile=acme, key=key) for _ in range(2)]
    pub = keys.write_public(tmp_path / "signer.pub", key.public_key())
    out = tmp_path / "decision.json"
    ok(decide(gov, [r.path for r in reports], signed_profile, out, extra=("--trust", str(pub))))
    # without --trust nothing pins the reports' signer: an authentic FAILED decision, saying why
    unpinned = tmp_path / "unpinned.json"
    res = decide(gov, [r.path for r in reports], signed_profile, unpinned)
    assert res.code == 1, res.out + res.err
    upred = json.loads(base64.b64decode(json.loads(unpinned.read_text())["payload"]))["predicate"]
    assert upred["verificationResult"] == "FAILED" and upred["verifiedLevels"] == []
    assert any("signer not pinned" in c for c in upred["caveats"])
    assert {v["signer_pinned"] for v in upred["verdicts"]} == {False}
    env = json.loads(out.read_text())
    assert env["payloadType"] == "application/vnd.teecert.verify.decision+json"
    st = json.loads(base64.b64decode(env["payload"]))
    pred = st["predicate"]
    env_digest = reports[0].statement["predicate"]["environment"]["digest"]
    assert st["_type"] == "https://in-toto.io/Statement/v1" and st["subject"][0]["digest"]["sha256"] == env_digest
    assert pred["resourceUri"] == f"teecert:env:{env_digest}"
    assert pred["verificationResult"] == "PASSED" and pred["verifiedLevels"] == ["TEECERT_CERTIFIED_BOOTSTRAP"]
    assert pred["policy"] == {"uri": "teecert:profile:acme@1", "digest": {"sha256": acme.digest}}
    assert pred["verifier"]["id"] and pred["timeVerified"] == AT
    assert len(pred["inputAttestations"]) == 2 and {v["result"] for v in pred["verdicts"]} == {"CERTIFIED"}
    assert pred["validity"]["not_after"] == min(r.statement["predicate"]["validity"]["not_after"] for r in reports)
    # one signature is below the threshold of 2
    verify = ["verify", str(out), "--governance", str(gov.file), "--at", AT]
    one_line(teecert_cli(verify), "verify", str(out), "decision is signed by 1 of the 3 governance keys")
    # the same key co-signing again changes nothing; a second key makes it authentic
    one_line(teecert_cli(["decide", "--cosign", str(out), *gov.k(0), "--out", str(out)]), "decide", "already signed")
    ok(teecert_cli(["decide", "--cosign", str(out), *gov.k(2), "--out", str(out)]))
    res = ok(teecert_cli([*verify, "--json"]))
    doc = json.loads(res.out)
    assert doc["verificationResult"] == "PASSED" and len(doc["signers"]) == 2
    assert ok(teecert_cli(verify)).out.startswith(f"{out}: decision PASSED (TEECERT_CERTIFIED_BOOTSTRAP)")
    # a decision is verified against governance, not report keys; and it expires
    one_line(teecert_cli(["verify", str(out), "--at", AT]), "verify", "pass --governance")
    one_line(teecert_cli([*verify[:-2], "--at", "2027-01-01T00:00:00Z"]), "verify", "decision expired at")
    # a co-signature by an outsider does not count
    lone = tmp_path / "lone.json"
    ok(decide(gov, [reports[0].path], signed_profile, lone, 1, extra=("--trust", str(pub))))
    ok(teecert_cli(["decide", "--cosign", str(lone), "--key", str(gov.outsider), "--out", str(lone)]))
    one_line(teecert_cli(["verify", str(lone), "--governance", str(gov.file), "--at", AT]), "verify",
             "signed by 1 of the 3")


def test_decision_over_a_forged_report_is_refused(gov: Gov, signed_profile: Path, acme: profiles.Profile,
                                                  tmp_path: Path) -> None:
    good = rf.make_signed_report(tmp_path, profile=acme, results=rf.make_results(len(rf.SUITES), 1))

    def lie(st: dict[str, Any]) -> None:  # claims CERTIFIED over a failing result
        st["predicate"]["verdict"] = {"result": "CERTIFIED", "reasons": []}

    forged = tmp_path / "forged.json"
    forged.write_bytes(rf.forged(good, lie))
    out = tmp_path / "d.json"
    one_line(decide(gov, [forged], signed_profile, out), "decide", str(forged), "claims CERTIFIED")
    assert not out.exists()
    # the honest NOT_CERTIFIED report gives an authentic FAILED decision (exit 1)
    res = decide(gov, [good.path], signed_profile, out, 0, 1)
    assert res.code == 1, res.err
    res = teecert_cli(["verify", str(out), "--governance", str(gov.file), "--at", AT])
    assert res.code == 1 and "decision FAILED (no level)" in res.out, res.out + res.err


def test_decision_refuses_unsigned_certification_profile_and_mixed_platforms(
        gov: Gov, signed_profile: Path, acme: profiles.Profile, tmp_path: Path) -> None:
    r1 = rf.make_signed_report(tmp_path, profile=acme)
    r2 = rf.make_signed_report(tmp_path, profile=acme, microcode="0xdeadbeef")
    out = tmp_path / "d.json"
    one_line(decide(gov, [r1.path, r2.path], signed_profile, out), "decide", "2 platform-environments")
    unsigned = write(tmp_path / "acme.json", acme.data)
    one_line(decide(gov, [r1.path], unsigned, out), "decide", "unsigned bootstrap profile")
    assert not out.exists()


def test_forged_decision_statement_is_refused(gov: Gov, tmp_path: Path) -> None:
    pred = {
        "verifier": {"id": decision.VERIFIER_ID, "version": {"teecert": "0.1.0"}}, "timeVerified": AT,
        "resourceUri": "teecert:env:" + "a" * 64, "policy": {"uri": "teecert:profile:acme@1", "digest": {"sha256": "b" * 64}},
        "inputAttestations": [{"uri": "teecert:report:x", "digest": {"sha256": "c" * 64}}],
        "verificationResult": "PASSED", "verifiedLevels": ["TEECERT_CERTIFIED_STRICT"],
        "validity": {"not_before": AT, "not_after": "2026-12-01T00:00:00Z"}, "caveats": [],
        "verdicts": [{"uri": "teecert:report:x", "result": "NOT_CERTIFIED", "reasons": 1, "waived": 0,
                      "not_after": "2026-12-01T00:00:00Z", "signer_pinned": True}]}
    st = {"_type": decision.STATEMENT_TYPE, "subject": [{"name": "platform-environment", "digest": {"sha256": "a" * 64}}],
          "predicateType": decision.PREDICATE_TYPE, "predicate": pred}
    path = write(tmp_path / "lying.json", sign_env(st, gov.keys[:2], governance.DECISION_PAYLOAD_TYPE))
    one_line(teecert_cli(["verify", str(path), "--governance", str(gov.file), "--at", AT]), "verify",
             "verificationResult PASSED is not what the recorded verdicts give")
    # CERTIFIED, but over a signer the decider did not pin: no PASSED either
    pred["verdicts"][0].update(result="CERTIFIED", reasons=0, signer_pinned=False)
    path1 = write(tmp_path / "unpinned.json", sign_env(st, gov.keys[:2], governance.DECISION_PAYLOAD_TYPE))
    one_line(teecert_cli(["verify", str(path1), "--governance", str(gov.file), "--at", AT]), "verify",
             "verificationResult PASSED is not what the recorded verdicts give")
    pred["verificationResult"], pred["verifiedLevels"], pred["extra"] = "FAILED", [], 1
    path2 = write(tmp_path / "extra.json", sign_env(st, gov.keys[:2], governance.DECISION_PAYLOAD_TYPE))
    one_line(teecert_cli(["verify", str(path2), "--governance", str(gov.file), "--at", AT]), "verify",
             "$.predicate", "'extra'")


# -- waivers ------------------------------------------------------------------------------


def waived_profile(tests: list[str], expires: str = "2027-01-01T00:00:00Z") -> profiles.Profile:
    w = {"tests": tests, "reason": "libm rounding bug in vendor SDK", "tracking": "https://example.org/issues/7",
         "expires": expires}
    return profiles.from_document(profile_doc(waivers=[w]), "waived")


def failing_rows() -> list[dict[str, Any]]:
    rows = [r for r in rf.make_results(len(rf.SUITES), 0) if r["id"] != WAIVER_ID]
    rows.append(rf.result(WAIVER_ID, "ieee754", "failed", op="f64.mul.rtz", kind="explicit"))
    return rows


def test_no_waivers_keep_the_verdict_identical() -> None:
    rows = failing_rows()
    plain = profiles.from_document(profile_doc(), "plain")
    v = verdict.compute(rows, plain)
    assert set(v) == {"result", "reasons"} and v["result"] == "NOT_CERTIFIED"
    assert verdict.compute(rows, plain, at=rf.NOW) == v


def test_valid_waiver_turns_a_failure_into_waived() -> None:
    at = rf.NOW
    for tests in ([WAIVER_ID], ["test_ieee754.py::test_explicit[[]f64.mul.*"], ["*f64.mul.rtz]"]):
        v = verdict.compute(failing_rows(), waived_profile(tests), at=at)
        assert v["result"] == "CERTIFIED" and v["reasons"] == []
        (w,) = v["waived"]
        assert (w["code"], w["test"], w["failure"], w["tracking"]) == (
            "WAIVED", WAIVER_ID, "TEST_FAILED", "https://example.org/issues/7")


def test_waiver_after_expiry_or_on_another_test_has_no_effect() -> None:
    rows = failing_rows()
    expired = verdict.compute(rows, waived_profile([WAIVER_ID], "2026-11-21T04:59:59Z"), at=rf.NOW)
    assert expired == verdict.compute(rows, profiles.from_document(profile_doc(), "p"))
    assert "waived" not in expired and expired["reasons"][0]["test"] == WAIVER_ID
    other = verdict.compute(rows, waived_profile(["test_ieee754.py::test_explicit[f64.add.rne#0]"]), at=rf.NOW)
    assert other["result"] == "NOT_CERTIFIED" and "waived" not in other
    # a waiver cannot cover a missing suite
    no_suite = [r for r in rows if r["suite"] != "fpenv"]
    v = verdict.compute(no_suite, waived_profile(["*"]), at=rf.NOW)
    assert [r["code"] for r in v["reasons"]] == ["SUITE_MISSING"] and len(v["waived"]) == 1


def _waived_report(tmp_path: Path, prof: profiles.Profile) -> rf.SignedReport:
    key = Ed25519PrivateKey.generate()
    st = rf.statement_for(key, profile=prof, results=failing_rows())
    st["predicate"]["verdict"] = verdict.compute(st["predicate"]["results"], prof, at=rf.NOW)
    data = rf.resign(st, key)
    path = tmp_path / "waived.json"
    path.write_bytes(data)
    return rf.SignedReport(path, data, json.loads(data), st, key, prof)


def test_report_with_a_waiver_verifies_until_the_waiver_expires(tmp_path: Path) -> None:
    prof = waived_profile([WAIVER_ID], "2026-11-25T00:00:00Z")
    r = _waived_report(tmp_path, prof)
    assert r.statement["predicate"]["verdict"]["result"] == "CERTIFIED"
    out = verify_report(r.data, str(r.path), trusted=r.trusted, profile=prof, at=dt.datetime(2026, 11, 22, tzinfo=dt.UTC))
    assert out.verdict["result"] == "CERTIFIED" and out.verdict["waived"][0]["test"] == WAIVER_ID
    later = verify_report(r.data, str(r.path), trusted=r.trusted, profile=prof,
                          at=dt.datetime(2026, 11, 26, tzinfo=dt.UTC))
    assert later.verdict["result"] == "NOT_CERTIFIED"
    assert any("waiver" in n and "expired" in n for n in later.reasons)
    # a report claiming a waiver the profile does not grant is refused
    plain = profiles.from_document(profile_doc(), "plain")
    st = copy.deepcopy(r.statement)
    st["predicate"]["profile"] = {**plain.identity(), "document": plain.data}
    forged = rf.resign(st, r.key)
    with pytest.raises(NotAuthentic, match="claims CERTIFIED but its results give NOT_CERTIFIED"):
        verify_report(forged, "forged", trusted=r.trusted, profile=plain, at=rf.NOW)


# -- bad input ------------------------------------------------------------------------------


def test_bad_governance_files(gov: Gov, signed_profile: Path, tmp_path: Path) -> None:
    good = json.loads(gov.file.read_text())
    cases: dict[str, tuple[str, tuple[str, ...]]] = {
        "not-json": ('{"schema": "teecert-governance/1",', ("not valid JSON",)),
        "duplicate": ('{"schema": "teecert-governance/1", "threshold": 1, "threshold": 2, "keys": []}',
                      ("duplicate key 'threshold'",)),
        "unknown": (json.dumps({**good, "quorum": 2}), ("'quorum'",)),
        "too-high": (json.dumps({**good, "threshold": 4}), ("$.threshold 4 exceeds the 3 keys",)),
        "twice": (json.dumps({**good, "keys": [good["keys"][0]] * 2}), ("listed twice",)),
        "keyid": (json.dumps({**good, "keys": [{**good["keys"][0], "keyid": good["keys"][1]["keyid"]}]}),
                  ("$.keys[0].keyid is not the key id",)),
    }
    for name, (text, fragments) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        res = teecert_cli(["profile", "verify", str(signed_profile), "--governance", str(path), "--at", AT])
        one_line(res, "profile", str(path), *fragments)


def test_bad_signed_documents(gov: Gov, signed_profile: Path, tmp_path: Path) -> None:
    two = gov.keys[:2]
    env = json.loads(signed_profile.read_text())
    truncated = tmp_path / "truncated.json"
    truncated.write_text(signed_profile.read_text()[:150])
    no_sigs = write(tmp_path / "nosigs.json", {**env, "signatures": []})
    extra_env = write(tmp_path / "extra-env.json", {**env, "note": "x"})
    unknown = write(tmp_path / "unknown.json", sign_env({**profile_doc(), "quorum": 1}, two))
    dup_payload = b'{"id":"acme","id":"evil"}'
    dup = write(tmp_path / "dup.json", dsse.sign(profiles.PROFILE_PAYLOAD_TYPE, dup_payload, two))
    noncanon = write(tmp_path / "noncanon.json", dsse.sign(profiles.PROFILE_PAYLOAD_TYPE,
                                                           json.dumps(profile_doc(), indent=1).encode(), two))
    cases = [
        (truncated, ("not valid JSON",)), (no_sigs, ("'signatures' must be a non-empty list",)),
        (extra_env, ("unknown envelope field 'note'",)), (unknown, ("'quorum'",)),
        (dup, ("duplicate key 'id'",)), (noncanon, ("not in RFC 8785 canonical form",)),
    ]
    for path, fragments in cases:
        one_line(verify_profile(gov, path), "profile", str(path), *fragments)
    # revocation lists and decisions: unknown fields, truncation
    rev = write(tmp_path / "rev-unknown.json",
                sign_env(revocations_doc(hosts=[]), two, governance.REVOCATIONS_PAYLOAD_TYPE))
    one_line(teecert_cli(["revocations", "verify", str(rev), "--governance", str(gov.file)]), "revocations",
             "'hosts'")
    bad_entry = write(tmp_path / "rev-entry.json", sign_env(
        revocations_doc(keys=[{"keyid": "0" * 64, "from": AT, "reason": "r", "severity": 1}]), two,
        governance.REVOCATIONS_PAYLOAD_TYPE))
    one_line(teecert_cli(["revocations", "verify", str(bad_entry), "--governance", str(gov.file)]),
             "revocations", "$.keys[0]", "'severity'")
    one_line(teecert_cli(["revocations", "verify", str(truncated), "--governance", str(gov.file)]),
             "revocations", "not valid JSON")
    # signing refuses a document that is not a valid profile / list, naming the field
    bad = write(tmp_path / "bad-profile.json", {**profile_doc(), "tier": "gold"})
    one_line(teecert_cli(["profile", "sign", str(bad), *gov.k(0), "--out", str(tmp_path / "o.json")]), "profile",
             "$.tier")
    one_line(teecert_cli(["profile", "sign", str(bad), "--out", str(tmp_path / "o.json")]), "profile", "--key")
    assert not (tmp_path / "o.json").exists()


def test_governance_library_errors(gov: Gov) -> None:
    pubs = [k.public_key() for k in gov.keys]
    with pytest.raises(UsageError, match="threshold 0"):
        governance.governance_document(pubs, 0)
    doc = governance.governance_document([*pubs, pubs[0]], 3)  # a key given twice is listed once
    assert len(doc["keys"]) == 3
    g = governance.governance_from_document(doc, "g")
    env = governance.sign_document(profiles.PROFILE_PAYLOAD_TYPE, profile_doc(), gov.keys)
    _, signers = governance.verify_signed(env, "p", g, profiles.PROFILE_PAYLOAD_TYPE, "profile")
    assert len(signers) == 3


def test_run_under_governance(gov: Gov, tmp_path: Path) -> None:
    """`teecert run --governance` refuses an unsigned certification profile before any
    test runs, and runs under one signed by the threshold."""
    now = dt.datetime.now(dt.UTC)
    doc = profile_doc(activates=(now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      expires=(now + dt.timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ"), stream_scale=6)
    # glibc's exp changes with FMA masked on an FMA machine, a failure in every profile
    # (tests/certify/test_libm_suite.py): this run is about the signatures
    doc["stress"]["perturbations"] = [p for p in doc["stress"]["perturbations"] if p != "glibc_tunables"]
    src = write(tmp_path / "live.json", doc)
    key = tmp_path / "run.pem"
    keys.write_public(Path(f"{key}.pub"), keys.generate(key).public_key())
    unsigned = teecert_cli(["run", "--profile", str(src), "--governance", str(gov.file), "--key", str(key),
                            "--out", str(tmp_path / "u")])
    assert unsigned.code == 2 and "sign" in unsigned.err.splitlines()[0], unsigned.err
    assert not (tmp_path / "u").exists() or not any((tmp_path / "u").iterdir())
    signed = tmp_path / "live.signed.json"
    ok(teecert_cli(["profile", "sign", str(src), *gov.k(0, 2), "--out", str(signed)]))
    res = teecert_cli(["run", "--profile", str(signed), "--governance", str(gov.file), "--key", str(key),
                       "--out", str(tmp_path / "s")])
    assert res.code == 0, res.out[-2000:] + res.err[-2000:]
    (report,) = (tmp_path / "s").glob("teecert-report-*.json")
    assert teecert_cli(["verify", str(report), "--profile", str(signed), "--trust", f"{key}.pub"]).code == 0
