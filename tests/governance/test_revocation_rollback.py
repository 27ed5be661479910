"""Governance state cannot be rolled back: every attack on revocation lists is refused.

A governance of three keys with threshold 2.  The attacks: an older list replayed
after a newer one was accepted; an expired list; a list not yet issued; a second,
different list under a sequence number already used; a revoked governance key's
signature counted toward the threshold of a profile, a revocation list (its own
revocation, or a later list) or a decision; and a corrupt state file.  Each refusal
is exit 2 with one line naming the file and the field, as a user sees it.

Every test has its own state folder (``XDG_STATE_HOME``): none touches the real home.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert import profile as profiles
from teecert._internal import canonical, dsse
from teecert.errors import MalformedInput, NotAuthentic
from teecert.governance import profiles as governed
from teecert.governance import state
from teecert.governance import trust as governance
from teecert.report import keys
from teecert.verify import decision

import reportfactory as rf
from conftest import CliResult, ok, one_line, teecert_cli

AT = "2026-11-22T00:00:00Z"  # a day after the factory's reports were made
AT_T = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
ISSUED = "2026-11-01T00:00:00Z"
EXPIRES = "2027-01-01T00:00:00Z"


# Each test its own state folder: never the real home.
pytestmark = pytest.mark.usefixtures("state_home")


@dataclass
class Gov:
    dir: Path
    keys: list[Ed25519PrivateKey]
    key_files: list[Path]
    file: Path  # threshold 2 of the three keys

    def kid(self, i: int) -> str:
        return keys.keyid(self.keys[i].public_key())


@pytest.fixture(scope="module")
def gov(tmp_path_factory: pytest.TempPathFactory) -> Gov:
    d = tmp_path_factory.mktemp("gov")
    files = [d / f"gov{i}.pem" for i in range(3)]
    ks = [keys.generate(f) for f in files]
    for f, k in zip(files, ks, strict=True):
        keys.write_public(Path(f"{f}.pub"), k.public_key())
    ok(teecert_cli(["governance", "init", *(f"{f}.pub" for f in files), "--threshold", "2",
                    "--out", str(d / "gov.json")]))
    return Gov(d, ks, files, d / "gov.json")


def rev_doc(sequence: int, issued: str = ISSUED, expires: str = EXPIRES, **lists: Any) -> dict[str, Any]:
    return {"schema": "teecert-revocations/1", "sequence": sequence, "issued": issued, "expires": expires, **lists}


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=1))
    return path


def signed(gov: Gov, path: Path, doc: Any, *which: int,
           ptype: str = governance.REVOCATIONS_PAYLOAD_TYPE) -> Path:
    """``doc`` signed by governance keys ``which`` (default 1 and 2), with no checks."""
    return write(path, dsse.sign(ptype, canonical.dumps(doc), [gov.keys[i] for i in (which or (1, 2))]))


def revoke_key(gov: Gov, i: int, frm: str = "2026-11-15T00:00:00Z") -> list[dict[str, Any]]:
    return [{"keyid": gov.kid(i), "from": frm, "reason": "governance key lost"}]


def check_list(gov: Gov, path: Path, *extra: str) -> CliResult:
    return teecert_cli(["revocations", "verify", str(path), "--governance", str(gov.file), "--at", AT, *extra])


def profile_doc(version: int = 1) -> dict[str, Any]:
    doc = copy.deepcopy(profiles.load_profile("development").data)
    doc.update({"id": "acme", "version": version, "tier": "bootstrap", "activates": "2026-01-01T00:00:00Z",
                "expires": "2027-06-01T00:00:00Z"})
    doc["attestation"]["policy"]["formats"] = ["snp", "tdx", "sgx", "nitro"]
    return doc


def state_of(state_home: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((state_home / "teecert" / "revocations.json").read_text())
    return data


# -- rollback -------------------------------------------------------------------------------


def test_older_list_replayed_after_a_newer_one_is_refused(gov: Gov, state_home: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    old = signed(gov, tmp_path / "rev-1.json", rev_doc(1))
    new = signed(gov, tmp_path / "rev-2.json", rev_doc(2, platforms=[
        {"environment_digest": "ab" * 32, "from": ISSUED, "reason": "TCB recall"}]))
    ok(check_list(gov, old))  # the first list seen is taken as the newest
    res = ok(check_list(gov, new))
    assert res.out.startswith(f"{new}: revocation list sequence 2, issued {ISSUED}, expires {EXPIRES}"), res.out
    # what was recorded: the newest list, by governance key set, in a private file
    recorded = state_of(state_home)
    g = governance.load_governance(gov.file)
    assert recorded["schema"] == "teecert-state/1"
    assert g.keyset_id == canonical.sha256_hex(sorted(gov.kid(i) for i in range(3)))
    entry = recorded["governance"][g.keyset_id]
    assert (entry["sequence"], entry["issued"], entry["expires"]) == (2, ISSUED, EXPIRES)
    assert entry["digest"] == canonical.sha256_hex(rev_doc(2, platforms=[
        {"environment_digest": "ab" * 32, "from": ISSUED, "reason": "TCB recall"}]))
    assert stat.S_IMODE(os.stat(state_home / "teecert" / "revocations.json").st_mode) == 0o600
    # the attack: the older list (which does not recall the platform) handed over again
    one_line(check_list(gov, old), "revocations", str(old), "$.sequence 1 is below sequence 2",
             "an older list cannot replace a newer one")
    signed_profile = signed(gov, tmp_path / "acme.signed.json", profile_doc(), 0, 1,
                            ptype=profiles.PROFILE_PAYLOAD_TYPE)
    one_line(teecert_cli(["profile", "verify", str(signed_profile), "--governance", str(gov.file), "--at", AT,
                          "--revocations", str(old)]), "profile", str(old), "$.sequence 1")
    with pytest.raises(NotAuthentic, match=r"\$\.sequence 1 is below sequence 2"):
        governance.load_revocations(old, gov.file, AT_T)
    with pytest.raises(NotAuthentic, match=r"\$\.sequence 1 is below"):
        governed.load_governed(signed_profile, gov.file, AT_T, revocations=old)
    # the newest list keeps verifying, and a later one (numbers may skip) replaces it
    ok(check_list(gov, new))
    ok(check_list(gov, signed(gov, tmp_path / "rev-5.json", rev_doc(5))))
    one_line(check_list(gov, new), "revocations", "$.sequence 2 is below sequence 5")
    # the state is per governance key set: a new threshold (or new names) keeps the history
    pubs = [k.public_key() for k in gov.keys]
    stricter = governance.governance_from_document(governance.governance_document(pubs, 3), "stricter")
    all_three = signed(gov, tmp_path / "rev-4-all.json", rev_doc(4), 0, 1, 2)
    with pytest.raises(NotAuthentic, match=r"\$\.sequence 4 is below sequence 5"):
        governance.load_revocations(all_three, stricter, AT_T)
    # another state folder has seen nothing yet
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "elsewhere"))
    ok(check_list(gov, old))


def test_same_sequence_with_other_content_is_refused(gov: Gov, tmp_path: Path) -> None:
    first = signed(gov, tmp_path / "a.json", rev_doc(3))
    other = signed(gov, tmp_path / "b.json", rev_doc(3, keys=[{"keyid": "0" * 64, "from": ISSUED, "reason": "x"}]))
    ok(check_list(gov, first))
    one_line(check_list(gov, other), "revocations", str(other), "$.sequence 3 was already accepted",
             "two lists cannot share a sequence number")
    # the same list with one more signature is the same list (its digest is the payload's)
    ok(teecert_cli(["revocations", "sign", str(first), "--key", str(gov.key_files[0]), "--out", str(first)]))
    assert len(json.loads(first.read_text())["signatures"]) == 3
    ok(check_list(gov, first))


# -- dates ----------------------------------------------------------------------------------


def test_expired_list_is_refused(gov: Gov, signed_profile_report: tuple[Path, Path, Path], tmp_path: Path) -> None:
    expired = signed(gov, tmp_path / "expired.json", rev_doc(1, expires="2026-11-10T00:00:00Z"))
    one_line(check_list(gov, expired), "revocations", str(expired), "revocation list expired",
             "$.expires 2026-11-10T00:00:00Z is before the verification time 2026-11-22T00:00:00Z",
             f"issued {ISSUED}")
    profile, report, trust = signed_profile_report
    one_line(teecert_cli(["verify", str(report), "--profile", str(profile), "--trust", str(trust), "--at", AT,
                          "--governance", str(gov.file), "--revocations", str(expired)]), "verify",
             str(expired), "expired")
    one_line(teecert_cli(["decide", str(report), "--profile", str(profile), "--key", str(gov.key_files[0]),
                          "--out", str(tmp_path / "d.json"), "--at", AT, "--governance", str(gov.file),
                          "--revocations", str(expired)]), "decide", str(expired), "$.expires")
    assert not (tmp_path / "d.json").exists()
    # in date up to its last second; a refused list is never recorded
    ok(check_list(gov, expired, "--at", "2026-11-10T00:00:00Z"))
    with pytest.raises(NotAuthentic, match="revocation list expired"):
        governance.load_revocations(expired, gov.file, dt.datetime(2026, 11, 10, 0, 0, 1, tzinfo=dt.UTC))


def test_list_not_yet_issued_is_refused(gov: Gov, state_home: Path, tmp_path: Path) -> None:
    early = signed(gov, tmp_path / "early.json", rev_doc(9, issued="2026-12-01T00:00:00Z"))
    one_line(check_list(gov, early), "revocations", str(early), "revocation list not yet issued",
             "$.issued 2026-12-01T00:00:00Z is after the verification time 2026-11-22T00:00:00Z",
             f"expires {EXPIRES}")
    # refused, so not recorded: sequence 9 does not lock out a current list numbered below it
    assert not (state_home / "teecert" / "revocations.json").exists()
    ok(check_list(gov, signed(gov, tmp_path / "now.json", rev_doc(2))))
    ok(check_list(gov, early, "--at", "2026-12-01T00:00:00Z"))


def test_malformed_sequence_and_dates(gov: Gov, tmp_path: Path) -> None:
    backwards = write(tmp_path / "backwards.json", rev_doc(1, issued="2026-12-01T00:00:00Z",
                                                          expires="2026-11-30T00:00:00Z"))
    one_line(teecert_cli(["revocations", "sign", str(backwards), "--key", str(gov.key_files[0]),
                          "--out", str(tmp_path / "o.json")]), "revocations", str(backwards),
             "$.expires 2026-11-30T00:00:00Z is before $.issued 2026-12-01T00:00:00Z")
    assert not (tmp_path / "o.json").exists()
    forged = signed(gov, tmp_path / "backwards.signed.json", json.loads(backwards.read_text()))
    one_line(check_list(gov, forged), "revocations", str(forged), "$.expires", "before $.issued")
    cases = {
        "no-sequence": ({k: v for k, v in rev_doc(1).items() if k != "sequence"}, "'sequence'"),
        "no-expires": ({k: v for k, v in rev_doc(1).items() if k != "expires"}, "'expires'"),
        "zero": (rev_doc(0), "$.sequence"),
        "text": ({**rev_doc(1), "sequence": "2"}, "$.sequence"),
        "bad-time": (rev_doc(1, expires="2027-02-30T00:00:00Z"), "$.expires"),
    }
    for name, (doc, fragment) in cases.items():
        path = signed(gov, tmp_path / f"{name}.json", doc)
        one_line(check_list(gov, path), "revocations", str(path), fragment)
    with pytest.raises(MalformedInput, match=r"\$\.expires .* is before \$\.issued"):
        governance.revocations_from_document(rev_doc(1, expires="2026-10-01T00:00:00Z"), "r.json")


# -- revoked governance keys ------------------------------------------------------------------


def test_revoked_governance_key_does_not_count_for_a_profile(gov: Gov, tmp_path: Path) -> None:
    rev = signed(gov, tmp_path / "rev.json", rev_doc(1, keys=revoke_key(gov, 0)))  # by keys 1 and 2
    by_0_1 = signed(gov, tmp_path / "p01.json", profile_doc(), 0, 1, ptype=profiles.PROFILE_PAYLOAD_TYPE)
    by_1_2 = signed(gov, tmp_path / "p12.json", profile_doc(), 1, 2, ptype=profiles.PROFILE_PAYLOAD_TYPE)
    verify = ["profile", "verify", "--governance", str(gov.file), "--revocations", str(rev)]
    # before the revocation takes effect key 0 still counts
    ok(teecert_cli([*verify, str(by_0_1), "--at", "2026-11-14T23:59:59Z"]))
    one_line(teecert_cli([*verify, str(by_0_1), "--at", AT]), "profile", str(by_0_1),
             "signed by 1 of the 3 governance keys", f"not counting revoked key {gov.kid(0)[:16]}",
             f"revoked from 2026-11-15T00:00:00Z by {rev}", "2 distinct governance keys must sign")
    ok(teecert_cli([*verify, str(by_1_2), "--at", AT]))
    # once the list was accepted, the revocation holds without it being given again
    one_line(teecert_cli(["profile", "verify", str(by_0_1), "--governance", str(gov.file), "--at", AT]),
             "profile", str(by_0_1), f"not counting revoked key {gov.kid(0)[:16]}", "accepted before")
    with pytest.raises(NotAuthentic, match="not counting revoked key"):
        governed.load_governed(by_0_1, gov.file, AT_T)
    assert len(governed.load_governed(by_1_2, gov.file, AT_T).signers) == 2


def test_revoked_governance_key_does_not_count_for_a_revocation_list(gov: Gov, state_home: Path,
                                                                   tmp_path: Path) -> None:
    # a list revoking key 0 needs the threshold without key 0, from whatever time it revokes it
    self_signed = signed(gov, tmp_path / "self.json", rev_doc(1, keys=revoke_key(gov, 0, "2027-06-01T00:00:00Z")),
                         0, 1)
    one_line(check_list(gov, self_signed), "revocations", str(self_signed),
             "revocation list is signed by 1 of the 3 governance keys",
             f"not counting revoked key {gov.kid(0)[:16]} (revoked by this list, from 2027-06-01T00:00:00Z)")
    assert not (state_home / "teecert" / "revocations.json").exists()
    first = signed(gov, tmp_path / "first.json", rev_doc(1, keys=revoke_key(gov, 0)), 1, 2)
    ok(check_list(gov, first))
    g = governance.load_governance(gov.file)
    assert state_of(state_home)["governance"][g.keyset_id]["revoked_keys"] == {gov.kid(0): "2026-11-15T00:00:00Z"}
    # a later list that forgets the revocation is fine, but key 0 still does not count on it
    forgetful = signed(gov, tmp_path / "second-01.json", rev_doc(2), 0, 1)
    one_line(check_list(gov, forgetful), "revocations", str(forgetful), "signed by 1 of the 3 governance keys",
             f"not counting revoked key {gov.kid(0)[:16]} (revoked from 2026-11-15T00:00:00Z by a revocation list "
             "accepted before")
    second = signed(gov, tmp_path / "second-12.json", rev_doc(2), 1, 2)
    ok(check_list(gov, second))
    # a governance key once revoked stays revoked, though the newest list no longer names it
    assert state_of(state_home)["governance"][g.keyset_id]["revoked_keys"] == {gov.kid(0): "2026-11-15T00:00:00Z"}
    by_0_1 = signed(gov, tmp_path / "p01.json", profile_doc(), 0, 1, ptype=profiles.PROFILE_PAYLOAD_TYPE)
    one_line(teecert_cli(["profile", "verify", str(by_0_1), "--governance", str(gov.file), "--at", AT,
                          "--revocations", str(second)]), "profile", str(by_0_1), "not counting revoked key")


def test_revoked_governance_key_does_not_count_for_a_decision(gov: Gov, tmp_path: Path) -> None:
    pred = {
        "verifier": {"id": decision.VERIFIER_ID, "version": {"teecert": "0.1.0"}}, "timeVerified": AT,
        "resourceUri": "teecert:env:" + "a" * 64,
        "policy": {"uri": "teecert:profile:acme@1", "digest": {"sha256": "b" * 64}},
        "inputAttestations": [{"uri": "teecert:report:x", "digest": {"sha256": "c" * 64}}],
        "verificationResult": "FAILED", "verifiedLevels": [],
        "validity": {"not_before": "2026-11-16T00:00:00Z", "not_after": "2026-12-01T00:00:00Z"}, "caveats": [],
        "verdicts": [{"uri": "teecert:report:x", "result": "NOT_CERTIFIED", "reasons": 1, "waived": 0,
                      "not_after": "2026-12-01T00:00:00Z", "signer_pinned": True}]}
    st = {"_type": decision.STATEMENT_TYPE, "predicateType": decision.PREDICATE_TYPE, "predicate": pred,
          "subject": [{"name": "platform-environment", "digest": {"sha256": "a" * 64}}]}
    dec = signed(gov, tmp_path / "decision.json", st, 0, 1, ptype=governance.DECISION_PAYLOAD_TYPE)
    verify = ["verify", str(dec), "--governance", str(gov.file), "--at", AT]
    assert ok(teecert_cli(verify), 1).out.startswith(f"{dec}: decision FAILED")  # authentic: key 0 counts
    rev = signed(gov, tmp_path / "rev.json", rev_doc(1, keys=revoke_key(gov, 0)))
    one_line(teecert_cli([*verify, "--revocations", str(rev)]), "verify", str(dec),
             "decision is signed by 1 of the 3 governance keys", f"not counting revoked key {gov.kid(0)[:16]}")
    one_line(teecert_cli(verify), "verify", str(dec), "not counting revoked key")  # recorded from now on


# -- the state file -------------------------------------------------------------------------


def test_corrupt_state_file_is_one_line_naming_it(gov: Gov, state_home: Path, tmp_path: Path) -> None:
    rev = signed(gov, tmp_path / "rev.json", rev_doc(1))
    ok(check_list(gov, rev))
    path = state_home / "teecert" / "revocations.json"
    good = json.loads(path.read_text())
    (gid,) = good["governance"]
    cases = {
        "truncated": (path.read_text()[:40], "not valid JSON"),
        "empty": ("", "empty file"),
        "other schema": (json.dumps({**good, "schema": "teecert-state/0"}), "not a teecert-state/1 document"),
        "sequence": (json.dumps({**good, "governance": {gid: {**good["governance"][gid], "sequence": "9"}}}),
                     f"$.governance.{gid[:16]}.sequence"),
        "digest": (json.dumps({**good, "governance": {gid: {**good["governance"][gid], "digest": "x"}}}),
                   f"$.governance.{gid[:16]}.digest"),
        "revoked": (json.dumps({**good, "governance": {gid: {**good["governance"][gid],
                                                             "revoked_keys": {gov.kid(0): "soon"}}}}),
                    "revoked_keys"),
    }
    profile = signed(gov, tmp_path / "p.json", profile_doc(), 1, 2, ptype=profiles.PROFILE_PAYLOAD_TYPE)
    for name, (text, fragment) in cases.items():
        path.write_text(text)
        line = one_line(check_list(gov, rev), "revocations", str(path), "teecert state file is corrupt", fragment)
        assert "delete it" in line, name
        # profiles too: the governance keys revoked so far are in the state
        one_line(teecert_cli(["profile", "verify", str(profile), "--governance", str(gov.file), "--at", AT]),
                 "profile", str(path), "corrupt", fragment)
        with pytest.raises(MalformedInput, match="teecert state file is corrupt"):
            governance.load_revocations(rev, gov.file, AT_T)
    # a folder where the file should be is one line too
    path.unlink()
    path.mkdir()
    one_line(check_list(gov, rev), "revocations", str(path))


def test_state_folder_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state.state_file() == tmp_path / "xdg" / "teecert" / "revocations.json"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for unset in ("", "relative/state"):  # the XDG spec ignores a relative path
        monkeypatch.setenv("XDG_STATE_HOME", unset)
        assert state.state_dir() == tmp_path / "home" / ".local" / "state" / "teecert"


# -- a report verified under a list -----------------------------------------------------------


@pytest.fixture
def signed_profile_report(gov: Gov, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A signed profile, a report made under it, and its signer's public key."""
    acme = profiles.from_document(profile_doc(), "acme")
    report = rf.make_signed_report(tmp_path, profile=acme)
    profile = signed(gov, tmp_path / "acme.signed.json", profile_doc(), 1, 2, ptype=profiles.PROFILE_PAYLOAD_TYPE)
    return profile, report.path, report.pub


def test_report_verifies_under_the_newest_list_only(gov: Gov, signed_profile_report: tuple[Path, Path, Path],
                                                    tmp_path: Path) -> None:
    profile, report, trust = signed_profile_report
    verify = ["verify", str(report), "--profile", str(profile), "--trust", str(trust), "--at", AT,
              "--governance", str(gov.file)]
    old = signed(gov, tmp_path / "old.json", rev_doc(1))
    (signer,) = keys.load_trusted(trust)
    new = signed(gov, tmp_path / "new.json", rev_doc(2, keys=[
        {"keyid": signer, "from": ISSUED, "reason": "operator key leaked"}]))
    ok(teecert_cli([*verify, "--revocations", str(old)]))
    one_line(teecert_cli([*verify, "--revocations", str(new)]), "verify", str(report), "operator key leaked")
    # the operator whose key was revoked hands over the older list that does not revoke it
    one_line(teecert_cli([*verify, "--revocations", str(old)]), "verify", str(old), "$.sequence 1 is below sequence 2")
