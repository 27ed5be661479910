"""Bad input on the command line: one clear line, exit 2, no traceback, no report.

DESIGN.md (Reliability, Command line): malformed vectors, profiles, reports and keys
get a clear error naming the file (and the field); `teecert run` checks its probe,
profile, vector set and key before anything runs and writes no report when one is
wrong.  Every case here runs the real `teecert` command in a child process.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest

import teecert.vectors.store
from teecert.report import keys

from conftest import CliResult, no_traceback, teecert_cli
from probezoo import build_zoo_probe
from reportfactory import make_signed_report

OP = "f64.add.rne"
EXPLICIT = f"explicit/{OP}.json"


def first_error(res: CliResult, *fragments: str, out: Path | None = None, prefix: str = "") -> str:
    """Exit 2, no traceback anywhere, the first stderr line holds every fragment (and
    starts with ``prefix``), and no report was written to ``out``.  Returns that line."""
    assert res.code == 2, (res.code, res.out[-2000:], res.err[-2000:])
    assert no_traceback(res.out) and no_traceback(res.err), res.err
    assert res.err.strip(), "no reason on stderr"
    line = res.err.splitlines()[0]
    assert line.startswith(prefix), line
    for f in fragments:
        assert f in line, f"{f!r} not in {line!r}"
    if out is not None:
        assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())
    return line


# -- vector sets ----------------------------------------------------------------------


def copy_vectors(tmp_path: Path) -> Path:
    dst = tmp_path / "v"
    shutil.copytree(teecert.vectors.store.default_path(), dst,
                    ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return dst


def flip_expected(vdir: Path, fname: str = EXPLICIT) -> None:
    """Change one hex digit of the first expected result in ``fname``."""
    p = vdir / fname
    text = p.read_text()
    at = text.index('"expected":"') + len('"expected":"')
    text = text[:at] + ("1" if text[at] != "1" else "2") + text[at + 1:]
    p.write_text(text)


def manifest(vdir: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads((vdir / "manifest.json").read_text())
    return doc


def write_manifest(vdir: Path, doc: dict[str, object], *, set_digest: bool) -> None:
    if set_digest:
        files = doc["files"]
        assert isinstance(files, dict)
        doc["digest"] = teecert.vectors.store.set_digest(str(doc["name"]), str(doc["version"]), files)
    (vdir / "manifest.json").write_text(json.dumps(doc, indent=1) + "\n")


def redigest(vdir: Path, fname: str, *, set_digest: bool) -> None:
    """Record ``fname``'s new SHA-256 in the manifest (and the set digest if asked)."""
    doc = manifest(vdir)
    files = doc["files"]
    assert isinstance(files, dict)
    files[fname] = hashlib.sha256((vdir / fname).read_bytes()).hexdigest()
    write_manifest(vdir, doc, set_digest=set_digest)


def run(tmp_path: Path, key: Path, profile: Path | str, *extra: str) -> tuple[CliResult, Path]:
    out = tmp_path / "out"
    return teecert_cli(["run", "--profile", str(profile), "--key", str(key), "--out", str(out), *extra]), out


def run_vectors(tmp_path: Path, key: Path, profile: Path, vdir: Path) -> tuple[CliResult, Path]:
    return run(tmp_path, key, profile, "--vectors", str(vdir))


def test_run_corrupt_explicit_file_names_the_file(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    vdir = copy_vectors(tmp_path)
    flip_expected(vdir)
    res, out = run_vectors(tmp_path, key_file, quick_profile, vdir)
    first_error(res, str(vdir / EXPLICIT), "does not match the manifest", out=out, prefix="teecert run: ")


def test_run_file_redigested_but_not_the_set_names_the_manifest(tmp_path: Path, key_file: Path,
                                                                quick_profile: Path) -> None:
    vdir = copy_vectors(tmp_path)
    flip_expected(vdir)
    redigest(vdir, EXPLICIT, set_digest=False)
    res, out = run_vectors(tmp_path, key_file, quick_profile, vdir)
    first_error(res, str(vdir / "manifest.json"), "'digest'", "does not match", out=out)


def test_run_manifest_listing_a_missing_file_names_it(tmp_path: Path, key_file: Path,
                                                      quick_profile: Path) -> None:
    vdir = copy_vectors(tmp_path)
    doc = manifest(vdir)
    files = doc["files"]
    assert isinstance(files, dict)
    files["explicit/f64.nothing.rne.json"] = "0" * 64
    write_manifest(vdir, doc, set_digest=True)
    res, out = run_vectors(tmp_path, key_file, quick_profile, vdir)
    first_error(res, str(vdir / "explicit/f64.nothing.rne.json"), "listed in the manifest",
                "cannot be read", out=out)


@pytest.mark.parametrize("name", ["explicit/f64.nul\x00.json", "explicit/line\nbreak.json", ""])
def test_run_manifest_listing_an_impossible_file_name_names_it(tmp_path: Path, key_file: Path,
                                                              quick_profile: Path, name: str) -> None:
    vdir = copy_vectors(tmp_path)
    doc = manifest(vdir)
    files = doc["files"]
    assert isinstance(files, dict)
    files[name] = "0" * 64
    write_manifest(vdir, doc, set_digest=True)
    res, out = run_vectors(tmp_path, key_file, quick_profile, vdir)
    line = first_error(res, str(vdir / "manifest.json"), "is not a file name", out=out)
    assert "\x00" not in line and "\n" not in line


def unknown_op_set(tmp_path: Path) -> Path:
    """A vector set whose f64.add.rne file claims an op teecert does not know, with a
    manifest re-digested to match: consistent, but not the set the profiles pin."""
    vdir = copy_vectors(tmp_path)
    p = vdir / EXPLICIT
    text = p.read_text()
    assert f'"op":"{OP}"' in text
    p.write_text(text.replace(f'"op":"{OP}"', '"op":"f64.bogus.rne"', 1))
    redigest(vdir, EXPLICIT, set_digest=True)
    return vdir


def test_run_unknown_op_in_a_redigested_set_is_not_the_pinned_set(tmp_path: Path, key_file: Path,
                                                                  quick_profile: Path) -> None:
    vdir = unknown_op_set(tmp_path)
    res, out = run_vectors(tmp_path, key_file, quick_profile, vdir)
    first_error(res, f"({vdir}, digest", "is not the one profile test-quick pins", out=out)


def test_run_unknown_op_in_the_pinned_set_names_the_file_and_field(tmp_path: Path, key_file: Path,
                                                                   quick_profile: Path) -> None:
    """A profile that pins the broken set itself: the file's contents are still checked
    before anything runs (and not blamed on the probe in a NOT_CERTIFIED report)."""
    vdir = unknown_op_set(tmp_path)
    doc = json.loads(quick_profile.read_text())
    doc["id"] = "pins-broken-set"
    doc["vector_set"]["digest"] = manifest(vdir)["digest"]
    profile = tmp_path / "pins-broken-set.json"
    profile.write_text(json.dumps(doc))
    res, out = run_vectors(tmp_path, key_file, profile, vdir)
    first_error(res, str(vdir / EXPLICIT), "field 'op'", "f64.bogus.rne", out=out)


# -- probes -------------------------------------------------------------------------


def test_run_probe_that_is_not_a_library(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    probe = tmp_path / "libnotaprobe.so"
    probe.write_text("this is a text file, not a shared library\n")
    res, out = run(tmp_path, key_file, quick_profile, "--probe", str(probe))
    first_error(res, f"probe {probe.resolve()}", "not a loadable shared library", out=out)


def test_run_probe_that_does_not_exist(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    probe = tmp_path / "no-such-probe.so"
    res, out = run(tmp_path, key_file, quick_profile, "--probe", str(probe))
    first_error(res, f"probe {probe.resolve()}", "no such file", out=out)


def test_run_probe_with_the_wrong_abi_version(tmp_path: Path, key_file: Path, quick_profile: Path) -> None:
    probe = build_zoo_probe("wrong_abi")
    res, out = run(tmp_path, key_file, quick_profile, "--probe", str(probe))
    first_error(res, f"probe {probe.resolve()}", "ABI version 2", "speaks 1", out=out)


# -- profiles -----------------------------------------------------------------------


def profile_doc(quick_profile: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads(quick_profile.read_text())
    return doc


@pytest.mark.parametrize(
    ("name", "edit", "fragments"),
    [
        ("not-json", None, ("not valid JSON",)),
        ("unknown-field", ("colour", "blue"), ("$:", "'colour' was unexpected")),
        ("wrong-type", ("stream_scale", "six"), ("$.stream_scale", "'six' is not of type 'integer'")),
    ],
)
def test_run_bad_profile_file(tmp_path: Path, key_file: Path, quick_profile: Path, name: str,
                              edit: tuple[str, str] | None, fragments: Sequence[str]) -> None:
    profile = tmp_path / f"{name}.json"
    if edit is None:
        profile.write_text(quick_profile.read_text()[:-20])  # cut short
    else:
        doc = profile_doc(quick_profile)
        doc[edit[0]] = edit[1]
        profile.write_text(json.dumps(doc))
    res, out = run(tmp_path, key_file, profile)
    first_error(res, f"{profile}: ", *fragments, out=out, prefix="teecert run: ")


def test_run_wrong_type_deep_in_a_profile_names_the_json_path(tmp_path: Path, key_file: Path,
                                                              quick_profile: Path) -> None:
    doc = profile_doc(quick_profile)
    vs = doc["vector_set"]
    assert isinstance(vs, dict)
    vs["digest"] = 5
    profile = tmp_path / "deep.json"
    profile.write_text(json.dumps(doc))
    res, out = run(tmp_path, key_file, profile)
    first_error(res, str(profile), "$.vector_set.digest", "is not of type 'string'", out=out)


# -- keys ---------------------------------------------------------------------------


def test_run_key_readable_by_others_is_refused(tmp_path: Path, quick_profile: Path) -> None:
    key = tmp_path / "open.pem"
    keys.generate(key)
    key.chmod(0o644)
    res, out = run(tmp_path, key, quick_profile)
    first_error(res, str(key), "permissions 0644", f"chmod 600 {key}", out=out)


def test_run_key_with_garbage_contents_is_refused(tmp_path: Path, quick_profile: Path) -> None:
    key = tmp_path / "garbage.pem"
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n")
    key.chmod(0o600)
    res, out = run(tmp_path, key, quick_profile)
    first_error(res, str(key), "not a PEM private key", out=out)


def test_keys_generate_refuses_an_existing_file(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    keys.generate(key)
    before = key.read_bytes()
    res = teecert_cli(["keys", "generate", str(key)])
    first_error(res, str(key), "already exists", prefix="teecert keys: ")
    assert key.read_bytes() == before
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not Path(str(key) + ".pub").exists()


def test_keys_generate_writes_a_0600_key_and_its_public_key(tmp_path: Path) -> None:
    key = tmp_path / "new" / "k.pem"
    res = teecert_cli(["keys", "generate", str(key)])
    assert res.code == 0 and no_traceback(res.out + res.err), res.err
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    pub = Path(str(key) + ".pub")
    trusted = keys.load_trusted(pub)
    kid = keys.keyid(keys.load_private(key).public_key())
    assert list(trusted) == [kid]
    assert kid in res.out and str(pub) in res.out


# -- verify -------------------------------------------------------------------------


@pytest.fixture
def real_report(tmp_path: Path) -> Path:
    return make_signed_report(tmp_path / "signed").path


def _dup_key(data: bytes) -> bytes:
    env = json.loads(data)
    text = json.dumps(env)
    return (text[:-1] + ', "payloadType": "application/json"}').encode()


@pytest.mark.parametrize(
    ("name", "make", "fragments"),
    [
        ("not-json", lambda _d: b"this is not JSON\n", ("not valid JSON",)),
        ("truncated", lambda d: d[: len(d) // 2], ("not valid JSON",)),
        ("duplicate-key", _dup_key, ("duplicate key 'payloadType'",)),
        ("empty", lambda _d: b"", ("empty file",)),
    ],
)
def test_verify_malformed_report(tmp_path: Path, real_report: Path, name: str, make: object,
                                 fragments: Sequence[str]) -> None:
    assert callable(make)
    bad = tmp_path / f"{name}.json"
    bad.write_bytes(make(real_report.read_bytes()))
    res = teecert_cli(["verify", str(bad)])
    first_error(res, f"teecert verify: {bad}: ", *fragments)
    assert res.out == ""


def test_verify_missing_report(tmp_path: Path) -> None:
    path = tmp_path / "nothing-here.json"
    first_error(teecert_cli(["verify", str(path)]), str(path), "no such report file")


def test_verify_garbage_time(real_report: Path) -> None:
    res = teecert_cli(["verify", str(real_report), "--at", "next tuesday"])
    first_error(res, "--at", "'next tuesday'", "RFC 3339")


def test_verify_json_on_a_malformed_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = teecert_cli(["verify", str(bad), "--json"])
    line = first_error(res, str(bad), "not valid JSON")
    doc = json.loads(res.out)
    assert doc["authentic"] is False and doc["exit_code"] == 2
    assert doc["report"] == str(bad) and doc["error"] == "MalformedInput"
    assert line == f"teecert verify: {doc['message']}"


# -- vectors check --------------------------------------------------------------------


def test_vectors_check_on_a_corrupted_copy(tmp_path: Path) -> None:
    vdir = copy_vectors(tmp_path)
    flip_expected(vdir)
    res = teecert_cli(["vectors", "check", "--path", str(vdir), "--sample", "10", "--chunks", "0"])
    first_error(res, str(vdir / EXPLICIT), "does not match the manifest", prefix="teecert vectors: ")


def test_vectors_check_recomputes_a_redigested_wrong_golden(tmp_path: Path) -> None:
    """The manifest is consistent again; only recomputing the vector catches it."""
    vdir = copy_vectors(tmp_path)
    flip_expected(vdir)
    redigest(vdir, EXPLICIT, set_digest=True)
    # every explicit vector (about 50,000, under a second), so the edited one is among them;
    # --json keeps progress lines off stderr
    res = teecert_cli(["vectors", "check", "--path", str(vdir), "--sample", "1000000", "--chunks", "0", "--json"])
    first_error(res, str(vdir / EXPLICIT), "tcId 1 expects", "both references give")


@pytest.mark.parametrize("extra", [
    ["-o", "python_functions=nothing_matches"],  # collects no test at all
    ["--ignore-glob=*ieee754*"],  # leaves a suite out
    ["-p", "no:teecert.certify.plugin"],  # no plugin, no checks
    ["--teecert-profile", "weak.json"],  # another profile than the one checked (and governed)
    ["-k", "probe"],
    ["-x"],  # stops at the first failure, advisory or not
])
def test_run_refuses_pytest_options_that_change_what_runs(tmp_path: Path, key_file: Path, quick_profile: Path,
                                                         extra: list[str]) -> None:
    """A certification runs every test its profile asks for: `teecert run -- ARGS`
    passes on only pytest's output options."""
    out = tmp_path / "out"
    res = teecert_cli(["run", "--profile", str(quick_profile), "--key", str(key_file), "--out", str(out),
                       "--", *extra])
    first_error(res, f"-- {extra[0]}", "only pytest's output options", out=out, prefix="teecert run: ")


def _fifo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("where", ["report", "trust", "profile", "evidence"])
def test_a_fifo_or_a_device_is_refused_not_read_for_ever(tmp_path: Path, real_report: Path, where: str) -> None:
    """Nothing writes to the FIFO and /dev/zero never ends: one line, exit 2, at once."""
    for special in (_fifo(tmp_path, f"{where}.fifo"), Path("/dev/zero")):
        args = {"report": ["verify", str(special)],
                "trust": ["verify", str(real_report), "--trust", str(special)],
                "profile": ["verify", str(real_report), "--profile", str(special)],
                "evidence": ["attest", "verify", str(special), "--at", "2026-01-01T00:00:00Z"]}[where]
        res = teecert_cli(args, timeout=60)
        line = first_error(res, str(special))
        assert "not a regular file" in line, line


def test_a_folder_as_report_is_one_line(tmp_path: Path) -> None:
    first_error(teecert_cli(["verify", str(tmp_path)]), str(tmp_path), "a folder")


def test_control_characters_from_a_report_cannot_forge_output_lines(tmp_path: Path) -> None:
    """A test id carrying a newline and a terminal escape is printed escaped in the one
    refusal line (no such test exists): the reader never sees a forged CERTIFIED line."""
    import reportfactory as rf

    evil = "x\n" + "REPORT.json: CERTIFIED\x1b[2K"
    r = rf.make_signed_report(tmp_path, results=[*rf.make_results(len(rf.SUITES)),
                                                 rf.result(evil, "probe", "failed")])
    res = teecert_cli(["verify", str(r.path), "--trust", str(r.pub), "--profile", "development"])
    assert res.code == 2, res.out + res.err
    assert res.out == "" and len(res.err.splitlines()) == 1, res.err
    assert "result x\\nREPORT.json: CERTIFIED\\x1b[2K is not a test" in res.err
    assert "\x1b" not in res.err and not any(line.endswith(": CERTIFIED") for line in res.err.splitlines())


@pytest.mark.parametrize("kind", ["file", "dangling symlink"])
def test_run_out_that_cannot_be_a_folder_is_one_line(tmp_path: Path, key_file: Path, quick_profile: Path,
                                                    kind: str) -> None:
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("not a folder")
    else:
        out.symlink_to(tmp_path / "nowhere" / "deeper")
    res = teecert_cli(["run", "--profile", str(quick_profile), "--key", str(key_file), "--out", str(out)])
    first_error(res, f"--out {out}", "cannot make the report folder", prefix="teecert run: ")
