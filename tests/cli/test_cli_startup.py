"""`teecert` starts quickly: it imports only the command that runs, and packaged schemas
are checked here rather than in every process.

Governance verifies reports by the thousand, often one process each; importing every
command's library (jsonschema, x509, jinja2, the certification machinery) and checking
the packaged schemas against their meta-schemas cost each process half a second.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from teecert._internal import schema
from teecert._internal.timefmt import format_time
from teecert.cli import main as cli_main

import reportfactory as rf
from conftest import no_traceback

#: What no command's start-up needs, and what each names of the libraries a command imports.
HEAVY = ("jsonschema", "cryptography.x509", "jinja2", "teecert.profile", "teecert.verify",
         "teecert.certify", "teecert.probe", "teecert.attestation", "teecert.vectors", "teecert.governance",
         "teecert.report")


def imported_by(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    proc = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def heavy(modules: set[str], prefixes: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_importing_the_cli_imports_no_command() -> None:
    mods = imported_by("import teecert.cli.main")
    assert heavy(mods) == []
    assert heavy(mods, ("teecert.cli.run", "teecert.cli.verify", "teecert.cli.attest", "teecert.cli.governance",
                        "teecert.cli.watch", "teecert.cli.probe", "teecert.cli.vectors")) == []


def test_verify_imports_no_other_commands_library() -> None:
    # `teecert verify --help` builds only verify's parser: no other command's module,
    # and none of the libraries only other commands use.
    mods = imported_by("import sys\nfrom teecert.cli.main import main\n"
                       "try:\n    main(['verify', '--help'])\nexcept SystemExit:\n    pass")
    others = ("teecert.cli.run", "teecert.cli.attest", "teecert.cli.watch", "teecert.cli.probe",
              "teecert.cli.vectors", "teecert.cli.keys", "teecert.cli.doctor", "teecert.certify", "jinja2",
              "teecert.verify.render", "teecert.verify.compare", "teecert.verify.decision", "teecert.probe.library",
              "teecert.probe.build", "teecert.vectors.generate", "teecert.reference")
    assert heavy(mods, others) == []
    assert "teecert.cli.verify" in mods  # the command itself was registered


def test_importtime_of_verify_help_names_no_other_command() -> None:
    # The same, as `python -X importtime` shows it to someone profiling start-up.
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "teecert", "verify", "--help"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0 and no_traceback(proc.stderr), proc.stderr[-2000:]
    names = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "teecert.cli.verify" in names
    assert heavy(names, ("teecert.cli.run", "teecert.cli.attest", "teecert.certify", "jinja2",
                         "teecert.verify.render")) == []


def _choices(parser: argparse.ArgumentParser) -> list[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


def test_command_table_matches_the_parsers() -> None:
    # Every command is in the table, in `teecert --help`'s order, and building the parser
    # for one command registers its group's commands and no other.
    names = [n for group, *_ in cli_main.COMMANDS for n in group]
    assert _choices(cli_main.build_parser()) == sorted(names, key=_choices(cli_main.build_parser()).index)
    assert sorted(_choices(cli_main.build_parser())) == sorted(names)
    for group, module, _, _ in cli_main.COMMANDS:
        for name in group:
            got = _choices(cli_main.build_parser(name))
            assert name in got
            assert set(got) <= {n for g, m, *_ in cli_main.COMMANDS if m == module for n in g}


@pytest.mark.parametrize(("argv", "command"), [
    (["verify", "r.json"], "verify"),
    (["compare", "a", "b"], "compare"),
    (["profile", "show", "development"], "profile"),
    (["--version"], None),
    ([], None),
    (["frobnicate"], None),
    (["--", "verify"], None),
    (["-h", "trust"], "trust"),
])
def test_command_of(argv: list[str], command: str | None) -> None:
    assert cli_main.command_of(argv) == command


def test_unknown_command_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        cli_main.main(["frobnicate"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    for group, *_ in cli_main.COMMANDS:
        for name in group:
            assert f"'{name}'" in err


@pytest.mark.parametrize("name", schema.packaged())
def test_packaged_schema_is_valid(name: str) -> None:
    # The validators of packaged schemas skip the meta-schema check at run time; this is it.
    doc = schema.load(name)
    jsonschema.validators.validator_for(doc).check_schema(doc)
    assert schema.validator(name).is_valid({}) in (True, False)  # builds, resolving its references


def test_packaged_schemas_are_all_found() -> None:
    assert {"run-report", "profile", "governance", "revocations", "decision", "attestation-policy"} <= set(
        schema.packaged())


def test_a_schema_from_elsewhere_is_still_checked() -> None:
    with pytest.raises(jsonschema.SchemaError):
        schema.make_validator({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": 5})


def test_verifying_a_report_without_evidence_imports_no_evidence_parser_nor_jinja2(tmp_path: Path) -> None:
    # `teecert verify REPORT` and `teecert compare` (without --html) of reports that carry
    # no attestation evidence need neither the evidence formats nor the templates.
    r = rf.make_signed_report(tmp_path)
    args = [str(r.path), "--trust", str(r.pub), "--profile", "development", "--at", format_time(rf.NOW)]
    for argv in (["verify", *args], ["compare", *args]):
        mods = imported_by("from teecert.cli.main import main\n"
                           f"try:\n    main({argv!r})\nexcept SystemExit as e:\n    assert e.code == 0, e.code")
        assert "teecert.verify.verifier" in mods
        assert heavy(mods, ("jinja2", "teecert.attestation.run_evidence", "teecert.attestation.evidence",
                            "teecert.attestation.validate", "traceback")) == []
