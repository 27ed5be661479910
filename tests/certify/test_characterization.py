"""Characterization is recorded, never judged: a probe without the optional hw.*
ops, or one that fails them, or one whose self-description has the wrong types,
still gives a characterization the report schema accepts."""

from __future__ import annotations

from typing import Any

from teecert.certify.facts.characterization import CASES, UNSUPPORTED, characterize
from teecert.errors import ArgumentsRejected, ProbeError, UnsupportedOp
from teecert.report import statement as report


class _Stub:
    def __init__(self, description: dict[str, Any], fail: type[Exception] | None) -> None:
        self.description = description
        self.fail = fail

    def fpenv_read(self) -> tuple[str, int]:
        return "x86_64", 0x0000037F00001FA5  # control bits plus sticky flags

    def run_values(self, op: Any, vecs: list[tuple[int, ...]]) -> list[int]:
        if self.fail is not None:
            raise self.fail(f"stub: {op.id} failed")
        return [0xFFF8000000000000] * len(vecs)


def _schema_ok(char: dict[str, Any]) -> None:
    import jsonschema

    probe_schema = report.schema()["$defs"]["predicate"]["properties"]["probe"]
    jsonschema.validate(char, probe_schema["properties"]["characterization"])


def test_a_probe_without_hw_ops_records_unsupported() -> None:
    for fail in (ArgumentsRejected, UnsupportedOp):
        char = characterize(_Stub({"arch": "x86_64"}, fail))
        assert set(char["cases"]) == {c.name for c in CASES}
        assert set(char["cases"].values()) == {UNSUPPORTED}
        _schema_ok(char)


def test_a_failing_probe_is_recorded_not_raised() -> None:
    char = characterize(_Stub({}, ProbeError))
    assert all(v.startswith("error: stub:") for v in char["cases"].values())
    _schema_ok(char)


def test_flags_are_masked_and_wrong_types_dropped() -> None:
    desc = {"arch": "x86_64", "char_signed": "yes", "ldbl_mant_dig": True, "ldbl_bytes": 16}
    char = characterize(_Stub(desc, None))
    assert char["fp_control"] == {"arch": "x86_64", "control": "0000037f00001f80"}
    assert "char_signed" not in char and "ldbl_mant_dig" not in char and char["ldbl_bytes"] == 16
    # values are shown at the case's width: the low 32 bits of the slot for binary32
    assert char["cases"]["f64 0/0"] == "fff8000000000000" and char["cases"]["f32 0/0"] == "00000000"
    _schema_ok(char)
