"""``teecert profile export``: a profile document that ``teecert profile sign`` accepts.

``profile show`` wraps the profile with its digest, so its output cannot be signed;
governance starts a profile of its own from a built-in with ``export``.  What comes
out must be exactly the built-in (same digest) when nothing is changed, carry the new
identity and window when given, and never be a changed document under a built-in's
name (verifiers refuse such a profile wherever a report names it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from teecert.cli.main import main
from teecert.governance import profiles as governed
from teecert.governance import trust as governance
from teecert.profile import load_profile
from teecert.report import keys

from conftest import no_traceback, teecert_cli


def export(*args: str) -> int:
    return main(["profile", "export", *args])


@pytest.fixture(autouse=True)
def _state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Governance remembers revocation lists under $XDG_STATE_HOME: keep the real one out."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_unchanged_export_is_the_builtin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "strict.json"
    assert export("strict", str(out)) == 0
    builtin = load_profile("strict")
    exported = load_profile(out)
    assert exported.digest == builtin.digest and exported.data == builtin.data
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{out}: profile strict v{builtin.version} ({builtin.digest[:16]}, strict)")


def test_new_identity_and_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "acme.json"
    assert export("bootstrap", str(out), "--id", "acme", "--version", "1",
                  "--activates", "2026-12-01T00:00:00Z", "--expires", "2027-06-01T00:00:00Z") == 0
    doc = json.loads(out.read_text())
    base = load_profile("bootstrap").data
    assert doc == {**base, "id": "acme", "version": 1, "activates": "2026-12-01T00:00:00Z",
                   "expires": "2027-06-01T00:00:00Z"}
    assert list(doc)[:4] == list(base)[:4]  # the built-in's layout, for a readable diff
    assert "profile acme v1" in capsys.readouterr().out


def test_export_is_signable_and_verifies(tmp_path: Path) -> None:
    """The whole point: export, sign with k of n, verify against the governance file."""
    out = tmp_path / "acme.json"
    assert export("bootstrap", str(out), "--id", "acme", "--version", "1") == 0
    alice = tmp_path / "alice.pem"
    bob = tmp_path / "bob.pem"
    pubs = [keys.generate(k).public_key() for k in (alice, bob)]
    gov_file = tmp_path / "gov.json"
    gov_file.write_text(json.dumps(governance.governance_document(pubs, 2)))
    signed = tmp_path / "acme.signed.json"
    assert main(["profile", "sign", str(out), "--key", str(alice), "--key", str(bob), "--out", str(signed)]) == 0
    gov = governance.load_governance(str(gov_file))
    prof = governed.verify_signed_profile(signed.read_bytes(), str(signed), gov,
                                          governance.resolve_at(None))
    assert prof.id == "acme" and prof.digest == load_profile(out).digest


def test_a_signed_profile_exports_without_its_signatures(tmp_path: Path) -> None:
    out = tmp_path / "acme.json"
    assert export("bootstrap", str(out), "--id", "acme", "--version", "1") == 0
    key = tmp_path / "k.pem"
    keys.generate(key)
    signed = tmp_path / "acme.signed.json"
    assert main(["profile", "sign", str(out), "--key", str(key), "--out", str(signed)]) == 0
    v2 = tmp_path / "acme-v2.json"
    assert export(str(signed), str(v2), "--version", "2") == 0
    assert json.loads(v2.read_text()) == {**json.loads(out.read_text()), "version": 2}


@pytest.mark.parametrize(("args", "message"), [
    (["--version", "7"], "needs an id of its own (--id NAME)"),  # not the built-in's version
    (["--id", "Not An Id"], "$.id"),
    (["--id", "x", "--version", "0"], "$.version"),
    (["--id", "x", "--activates", "2027-01-01T00:00:00Z", "--expires", "2026-01-01T00:00:00Z"],
     "is not after $.activates"),
    (["--id", "x", "--expires", "soon"], "soon"),
])
def test_refusals_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "p.json"
    res = teecert_cli(["profile", "export", "bootstrap", str(out), *args])
    assert res.code == 2 and no_traceback(res.err) and message in res.err, res.err
    assert len(res.err.strip().splitlines()) == 1
    assert not out.exists()


def test_existing_file_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    out.write_text("{}")
    res = teecert_cli(["profile", "export", "development", str(out)])
    assert res.code == 2 and "already exists" in res.err and out.read_text() == "{}"
    assert main(["profile", "export", "development", str(out), "--force"]) == 0
    assert load_profile(out).digest == load_profile("development").digest
