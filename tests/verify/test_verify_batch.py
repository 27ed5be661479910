"""`teecert verify` of many reports at once: one line per report, a summary, the worst exit.

Governance verifies a fleet's reports in one command (REPORT..., a folder, ``--from``).
Each report must be judged exactly as on its own: a malformed or forged one is refused
on its own line and the others still verify, and the exit code is the worst report's
under the contract (2 over 1 over 0).  What the reports share (the profiles they were
made under) is parsed once and kept by content, so two reports naming different
profiles with the same id and version are each judged by their own.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert._internal.timefmt import format_time
from teecert.cli.main import main
from teecert.errors import NotAuthentic
from teecert.profile import Profile, from_document, load_profile
from teecert.report import keys
from teecert.verify import verifier

import reportfactory as rf
from conftest import no_traceback, ok, teecert_cli

AT = format_time(rf.NOW)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Reports of one signer: two CERTIFIED, one NOT_CERTIFIED, one whose bytes were
    changed after signing, one that is not JSON; and the signer's public key."""
    d = tmp_path_factory.mktemp("fleet")
    key = Ed25519PrivateKey.generate()
    pub = d / "signer.pub"
    keys.write_public(pub, key.public_key())
    signed1 = rf.make_signed_report(d / "a", key=key)
    good1 = signed1.path
    good2 = rf.make_signed_report(d / "b", key=key).path
    failing = rf.make_signed_report(d / "c", key=key, results=rf.make_results(3, 1, suites=("ieee754",))).path
    forged = d / "forged.json"  # good1's statement, signed by a key nobody trusts
    forged.write_bytes(rf.resign(signed1.statement, Ed25519PrivateKey.generate()))
    malformed = d / "malformed.json"
    malformed.write_text('{"payloadType": ')
    return {"good1": good1, "good2": good2, "failing": failing, "forged": forged, "malformed": malformed,
            "pub": pub}


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    """``teecert ARGS`` in this process: the exit code, the lines of standard output, standard error."""
    code = main(args)
    out, err = capsys.readouterr()
    assert no_traceback(out + err), out + err
    return code, out.splitlines(), err


def pins(fleet: dict[str, Path]) -> list[str]:
    return ["--trust", str(fleet["pub"]), "--profile", "development", "--at", AT]


def test_mixed_batch_gives_a_line_per_report_and_the_worst_exit(fleet: dict[str, Path],
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # The malformed report comes first: the others must still be verified after it.
    order = ["malformed", "good1", "forged", "failing", "good2"]
    code, lines, err = run(["verify", *(str(fleet[n]) for n in order), *pins(fleet)], capsys)
    assert code == 2, lines
    assert err == ""
    assert len(lines) == len(order) + 1, lines
    got = dict(zip(order, lines, strict=False))
    assert got["malformed"].startswith(f"{fleet['malformed']}: REFUSED: "), got
    assert "not valid JSON" in got["malformed"]
    assert got["good1"] == f"{fleet['good1']}: CERTIFIED"
    assert got["forged"].startswith(f"{fleet['forged']}: REFUSED: "), got
    assert "signature" in got["forged"]
    assert got["failing"].startswith(f"{fleet['failing']}: NOT_CERTIFIED: TEST_FAILED"), got
    assert got["good2"] == f"{fleet['good2']}: CERTIFIED"
    assert lines[-1] == ("verified 5 reports: 2 accepted, 1 not accepted, 2 refused "
                         "(not authentic, malformed or unreadable); exit 2")


@pytest.mark.parametrize(("names", "code"), [(["good1", "good2"], 0), (["good1", "failing", "good2"], 1),
                                             (["good1", "failing", "forged"], 2)])
def test_exit_code_is_the_worst_reports(fleet: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                        names: list[str], code: int) -> None:
    got, lines, _ = run(["verify", *(str(fleet[n]) for n in names), *pins(fleet)], capsys)
    assert got == code, lines
    assert lines[-1].endswith(f"; exit {code}")


def test_unpinned_certified_reports_are_not_accepted_in_a_batch(fleet: dict[str, Path],
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # Fail closed as for one report: without --trust nothing pins the signer.
    code, lines, _ = run(["verify", str(fleet["good1"]), str(fleet["good2"]), "--at", AT], capsys)
    assert code == 1, lines
    assert all(": CERTIFIED: not accepted, signer not pinned" in ln for ln in lines[:2]), lines
    code, lines, _ = run(["verify", str(fleet["good1"]), str(fleet["good2"]), "--at", AT, "--allow-unpinned"],
                         capsys)
    assert code == 0, lines


def test_json_lists_every_report(fleet: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    order = ["good1", "malformed", "failing"]
    code, lines, _ = run(["verify", *(str(fleet[n]) for n in order), *pins(fleet), "--json"], capsys)
    doc = json.loads("\n".join(lines))
    assert code == doc["exit_code"] == 2
    assert [r["report"] for r in doc["reports"]] == [str(fleet[n]) for n in order]
    good, bad, failing = doc["reports"]
    assert (good["accepted"], good["exit_code"], good["verdict"]["result"]) == (True, 0, "CERTIFIED")
    assert (bad["accepted"], bad["exit_code"], bad["error"], bad["authentic"]) == (False, 2, "MalformedInput", False)
    assert str(fleet["malformed"]) in bad["message"]
    assert (failing["accepted"], failing["exit_code"], failing["verdict"]["result"]) == (False, 1, "NOT_CERTIFIED")
    assert doc["summary"] == {"reports": 3, "accepted": 1, "rejected": 1, "refused": 1}


def test_folder_and_from_list(fleet: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in ("good1", "failing"):
        (folder / f"{n}.json").write_bytes(fleet[n].read_bytes())
    (folder / "notes.txt").write_text("not a report")  # only *.json files are reports
    code, lines, _ = run(["verify", str(folder), *pins(fleet)], capsys)
    assert code == 1, lines
    assert lines[:2] == [f"{folder / 'failing.json'}: NOT_CERTIFIED: TEST_FAILED " + lines[0].split("TEST_FAILED ")[1],
                         f"{folder / 'good1.json'}: CERTIFIED"]
    assert lines[-1].startswith("verified 2 reports: 1 accepted, 1 not accepted, 0 refused")
    listing = tmp_path / "list.txt"
    listing.write_text(f"# the fleet\n{fleet['good1']}\n\n{fleet['good2']}\n")
    code, lines, _ = run(["verify", "--from", str(listing), *pins(fleet)], capsys)
    assert code == 0, lines
    assert lines[:2] == [f"{fleet['good1']}: CERTIFIED", f"{fleet['good2']}: CERTIFIED"]
    # A single folder or --from with one report is still a batch: the summary says so.
    code, lines, _ = run(["verify", "--from", str(listing), str(fleet["forged"]), *pins(fleet)], capsys)
    assert code == 2
    assert lines[0].startswith(f"{fleet['forged']}: REFUSED: ")


def test_from_standard_input_as_a_user_types_it(fleet: dict[str, Path]) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "teecert", "verify", "--from", "-", *pins(fleet)],
                          input=f"{fleet['good1']}\n{fleet['malformed']}\n", capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert no_traceback(proc.stdout + proc.stderr)
    lines = proc.stdout.splitlines()
    assert lines[0] == f"{fleet['good1']}: CERTIFIED"
    assert lines[1].startswith(f"{fleet['malformed']}: REFUSED: ")
    assert len(lines) == 3


def test_nothing_to_verify_is_a_usage_error(tmp_path: Path, fleet: dict[str, Path]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (["verify", str(empty)], ["verify"]):
        res = ok(teecert_cli([*args, *pins(fleet)]), 2)
        assert res.out == ""
        assert len(res.err.splitlines()) == 1, res.err
        assert res.err.startswith("teecert verify: ")


def test_one_report_keeps_its_output(fleet: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    # One REPORT path is verified as before: its line, its notes, no summary.
    code, lines, _ = run(["verify", str(fleet["good1"]), *pins(fleet)], capsys)
    assert code == 0
    assert lines[0] == f"{fleet['good1']}: CERTIFIED"
    assert not any(ln.startswith("verified ") for ln in lines)


# -- the cache is by content ---------------------------------------------------------------


def _twin_profiles() -> tuple[Profile, Profile]:
    """Two profiles with one id and version that differ in one rule: libm is advisory
    in the first and required in the second."""
    base = copy.deepcopy(load_profile("development").data)
    base["id"] = "fleet"
    lenient = from_document(copy.deepcopy(base), "lenient")
    base["suites"]["libm"] = "required"
    strict = from_document(base, "strict")
    assert (lenient.id, lenient.version) == (strict.id, strict.version)
    assert lenient.digest != strict.digest
    return lenient, strict


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A report under each twin profile with the same failing libm test: CERTIFIED under
    the lenient one, NOT_CERTIFIED under the strict one, each as signed."""
    d = tmp_path_factory.mktemp("twins")
    key = Ed25519PrivateKey.generate()
    pub = d / "signer.pub"
    keys.write_public(pub, key.public_key())
    lenient, strict = _twin_profiles()
    out = {"pub": pub, "trusted": {keys.keyid(key.public_key()): key.public_key()}}
    for name, prof in (("lenient", lenient), ("strict", strict)):
        rows = rf.make_results(1, 1, suites=("libm",), profile=prof)
        assert rows[1]["suite"] == "libm" and rows[1]["outcome"] == "failed"
        out[name] = rf.make_signed_report(d / name, key=key, profile=prof, results=rows)
    assert out["lenient"].statement["predicate"]["verdict"]["result"] == "CERTIFIED"
    assert out["strict"].statement["predicate"]["verdict"]["result"] == "NOT_CERTIFIED"
    return out


@pytest.mark.parametrize("first", ["lenient", "strict"])
def test_cache_tells_same_named_profiles_apart(twins: dict[str, Any], first: str) -> None:
    # In either order: a cache keyed by id and version would judge the second report by
    # the first one's profile, recompute another verdict and refuse it as forged.
    second = "strict" if first == "lenient" else "lenient"
    cache = verifier.ReportCache()
    outcomes = {name: verifier.verify_report(twins[name].data, name, trusted=twins["trusted"], profile=None,
                                             at=rf.NOW, cache=cache)
                for name in (first, second)}
    assert outcomes["lenient"].verdict["result"] == "CERTIFIED"
    assert outcomes["strict"].verdict["result"] == "NOT_CERTIFIED"
    assert outcomes["lenient"].profile.digest == twins["lenient"].profile.digest
    assert outcomes["strict"].profile.digest == twins["strict"].profile.digest


def test_cache_shares_one_profile_per_content(twins: dict[str, Any]) -> None:
    # What the cache is for: the second report under one profile reuses the first's parse.
    cache = verifier.ReportCache()
    one = verifier.verify_report(twins["lenient"].data, "a", trusted=twins["trusted"], profile=None, at=rf.NOW,
                                 cache=cache)
    two = verifier.verify_report(twins["lenient"].data, "b", trusted=twins["trusted"], profile=None, at=rf.NOW,
                                 cache=cache)
    assert one.profile is two.profile


def test_batch_of_same_named_profiles_judges_each_by_its_own(twins: dict[str, Any],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = run(["verify", str(twins["strict"].path), str(twins["lenient"].path), "--trust",
                          str(twins["pub"]), "--at", AT, "--allow-unpinned"], capsys)
    assert code == 1, lines
    assert lines[0].startswith(f"{twins['strict'].path}: NOT_CERTIFIED: TEST_FAILED"), lines
    assert lines[1].startswith(f"{twins['lenient'].path}: CERTIFIED: accepted with --allow-unpinned"), lines


def test_a_report_replayed_under_its_twin_is_still_refused(twins: dict[str, Any]) -> None:
    # The cache must not make a forged profile claim pass either: the strict report's
    # results re-signed claiming the lenient verdict are refused, cached profile or not.
    cache = verifier.ReportCache()
    verifier.verify_report(twins["lenient"].data, "lenient", trusted=twins["trusted"], profile=None, at=rf.NOW,
                           cache=cache)

    def claim_certified(st: dict[str, Any]) -> None:
        st["predicate"]["verdict"] = copy.deepcopy(twins["lenient"].statement["predicate"]["verdict"])

    forged = rf.forged(twins["strict"], claim_certified)
    with pytest.raises(NotAuthentic, match="claims CERTIFIED"):
        verifier.verify_report(forged, "forged", trusted=twins["trusted"], profile=None, at=rf.NOW, cache=cache)


# -- the canonical-form check, which takes a quicker path for ASCII payloads ---------------


def _signed_bytes(payload: bytes, key: Ed25519PrivateKey) -> bytes:
    from teecert._internal import dsse
    from teecert.report import statement as report

    return json.dumps(dsse.sign(report.PAYLOAD_TYPE, payload, [key])).encode()


def _verify_payload(payload: bytes, key: Ed25519PrivateKey) -> str:
    """The refusal of a report whose signed payload is ``payload`` (the signer pinned)."""
    from teecert.errors import TeecertError

    trusted = {keys.keyid(key.public_key()): key.public_key()}
    with pytest.raises(TeecertError) as e:
        verifier.verify_report(_signed_bytes(payload, key), "r.json", trusted=trusted, profile=None, at=rf.NOW)
    return str(e.value)


@pytest.mark.parametrize("how", ["spaces", "escaped ascii", "unsorted", "code point order"])
def test_a_payload_not_in_canonical_form_is_refused(how: str, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    signed = rf.make_signed_report(tmp_path, key=key)
    st = copy.deepcopy(signed.statement)
    canonical_text = json.dumps(st, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if how == "spaces":
        payload = json.dumps(st, sort_keys=True).encode()
    elif how == "escaped ascii":  # "\u0041" for "A": the same string, not the canonical bytes
        payload = canonical_text.replace('"_type"', '"\\u005ftype"', 1).encode()
    elif how == "unsorted":
        payload = json.dumps(st, separators=(",", ":"), ensure_ascii=False).encode()
        assert payload != canonical_text.encode()
    else:
        # RFC 8785 orders member names by UTF-16 code units: U+1F600 (a surrogate pair,
        # D83D DE00) before U+E000, the reverse of Python's code point order.
        st["\ue000"] = 1
        st["\U0001f600"] = 2
        payload = json.dumps(st, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert "not in RFC 8785 canonical form" in _verify_payload(payload, key)


def test_a_canonical_payload_with_non_ascii_names_passes_the_canonical_check(tmp_path: Path) -> None:
    from teecert._internal import canonical

    key = Ed25519PrivateKey.generate()
    st = copy.deepcopy(rf.make_signed_report(tmp_path, key=key).statement)
    st["\ue000"] = 1
    st["\U0001f600"] = 2
    why = _verify_payload(canonical.dumps(st), key)  # refused later, by the schema, for the extra names
    assert "canonical form" not in why
    assert "Additional properties" in why or "additional" in why.lower(), why



def test_another_signed_document_in_a_batch_is_named(fleet: dict[str, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # A signed profile handed over with the reports: refused on its line as what it is.
    from teecert._internal import dsse
    from teecert.profile import PROFILE_PAYLOAD_TYPE

    signed = tmp_path / "profile.signed.json"
    signed.write_text(json.dumps(dsse.sign(PROFILE_PAYLOAD_TYPE, b"{}", [Ed25519PrivateKey.generate()])))
    code, lines, _ = run(["verify", str(signed), str(fleet["good1"]), *pins(fleet)], capsys)
    assert code == 2, lines
    assert lines[0] == (f"{signed}: REFUSED: a signed profile, not a run report; check it on its own with "
                        f"`teecert profile verify`")
    assert lines[1] == f"{fleet['good1']}: CERTIFIED"
