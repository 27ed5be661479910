"""Profiles: the built-ins, schema errors that name the file and field, digest pinning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from teecert import profile as profiles
from teecert._internal import canonical
from teecert.errors import MalformedInput, UsageError

SUITES = {"probe", "ieee754", "integers", "hashes", "contraction", "fpenv", "stress", "clocks", "environment"}


def test_builtins_have_the_documented_policy() -> None:
    dev, strict = profiles.load_profile("development"), profiles.load_profile("strict")
    assert (dev.id, dev.tier, dev.validity_days, dev.unsupported_ops_fail) == ("development", "development", 30, False)
    assert (strict.id, strict.tier, strict.validity_days, strict.unsupported_ops_fail) == ("strict", "strict", 90, True)
    assert set(dev.required_suites()) == SUITES and dev.advisory_suites() == ["attestation", "libm"]
    assert set(strict.required_suites()) == SUITES | {"attestation", "libm"}
    assert strict.advisory_suites() == []
    # development accepts simulated evidence; strict only real, non-debug, up-to-date TEEs
    assert dev.data["attestation"]["required"] is False and "sim" in dev.data["attestation"]["policy"]["formats"]
    spol = strict.data["attestation"]["policy"]
    assert strict.data["attestation"]["required"] is True and "sim" not in spol["formats"]
    assert spol["debug_allowed"] is False and spol["accepted_tcb_statuses"] == ["UpToDate"]
    for p in (dev, strict):
        assert p.builtin and p.version >= 1
        assert p.stream_scale == 100
        assert p.vector_set_name == "teecert-core"
        assert p.digest == canonical.sha256_hex(p.data)
        assert p.identity() == {"id": p.id, "version": p.version, "digest": p.digest}


def test_builtin_files_are_schema_valid_and_shipped_as_package_data() -> None:
    for name in profiles.BUILTIN:
        path = profiles.builtin_path(name)
        assert path.is_file()
        assert profiles.load_profile(path).digest == profiles.load_profile(name).digest


def test_builtin_is_a_private_copy() -> None:
    p = profiles.load_profile("strict")
    p.data["suites"]["ieee754"] = "advisory"
    assert profiles.load_profile("strict").data["suites"]["ieee754"] == "required"


def _write(tmp_path: Path, doc: Any, name: str = "p.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _doc() -> dict[str, Any]:
    return dict(json.loads(profiles.builtin_path("development").read_text()))


def test_profile_from_file(tmp_path: Path) -> None:
    doc = _doc()
    doc.update(id="acme-bootstrap", tier="bootstrap", suites={"probe": "required", "fpenv": "advisory"})
    doc["attestation"]["policy"]["formats"] = ["snp", "tdx"]
    p = profiles.load_profile(_write(tmp_path, doc))
    assert (p.id, p.builtin, p.required_suites(), p.advisory_suites()) == (
        "acme-bootstrap", False, ["probe"], ["fpenv"])
    assert p.source.endswith("p.json")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(unsupported_ops="maybe"), r"p\.json: \$\.unsupported_ops: 'maybe' is not one of"),
        (lambda d: d["suites"].update(ieee754="sometimes"), r"p\.json: \$\.suites\.ieee754: 'sometimes' is not one of"),
        (lambda d: d.update(extra=True), r"p\.json: \$: Additional properties are not allowed \('extra'"),
        (lambda d: d.pop("report_validity_days"), r"p\.json: \$: 'report_validity_days' is a required property"),
        (lambda d: d["vector_set"].update(digest="0" * 63), r"p\.json: \$\.vector_set\.digest: "),
        (lambda d: d["vector_set"].update(digest="0" * 64 + "\n"), r"p\.json: \$\.vector_set\.digest: "),
        (lambda d: d.update(version="1"), r"p\.json: \$\.version: '1' is not of type 'integer'"),
        (lambda d: d.update(stream_scale=0), r"p\.json: \$\.stream_scale: 0 is less than the minimum"),
        (lambda d: d.update(schema="teecert-profile/2"), r"p\.json: \$\.schema: "),
        (lambda d: d["attestation"].update(required="no"), r"p\.json: \$\.attestation\.required: "),
        (lambda d: d["attestation"].update(policy={"formats": ["bogus"]}),
         r"p\.json: \$\.attestation\.policy\.formats\[0\]: 'bogus' is not one of"),
    ],
)
def test_schema_errors_name_file_and_field(tmp_path: Path, edit: Any, message: str) -> None:
    doc = _doc()
    edit(doc)
    with pytest.raises(MalformedInput, match=message) as e:
        profiles.load_profile(_write(tmp_path, doc))
    assert "\n" not in str(e.value)


def test_strict_json_in_profiles(tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text('{"id": "a", "id": "b"}')
    with pytest.raises(MalformedInput, match=r"dup\.json: duplicate key 'id' in \$"):
        profiles.load_profile(path)
    path.write_text('{"version": 1.0}')
    with pytest.raises(MalformedInput, match=r"float 1\.0 at \$\.version"):
        profiles.load_profile(path)


def test_unknown_profile_name() -> None:
    with pytest.raises(UsageError, match="unknown profile 'paranoid': not a built-in"):
        profiles.load_profile("paranoid")


def test_update_pinned_vector_digest(tmp_path: Path) -> None:
    for name in profiles.BUILTIN:
        shutil.copy(profiles.builtin_path(name), tmp_path / f"{name}.json")
    before = {n: profiles.load_profile(tmp_path / f"{n}.json") for n in profiles.BUILTIN}
    digest = "ab" * 32
    written = profiles.update_pinned_vector_digest(tmp_path, digest)
    assert sorted(p.name for p in written) == ["bootstrap.json", "development.json", "strict.json"]
    for name in profiles.BUILTIN:
        after = profiles.load_profile(tmp_path / f"{name}.json")
        assert after.vector_digest == digest
        assert after.digest != before[name].digest
        # Only the digest changed, and the key order was kept.
        expected = dict(before[name].data, vector_set={**before[name].data["vector_set"], "digest": digest})
        assert list(after.data) == list(before[name].data) and after.data == expected
        assert (tmp_path / f"{name}.json").read_text().endswith("}\n")
    assert profiles.update_pinned_vector_digest(tmp_path, digest) == []  # already pinned
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bootstrap.json", "development.json", "strict.json"]


def test_update_pinned_vector_digest_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not 64 lowercase hex"):
        profiles.update_pinned_vector_digest(tmp_path, "AB" * 32)
    shutil.copy(profiles.builtin_path("development"), tmp_path / "development.json")
    before = (tmp_path / "development.json").read_bytes()
    with pytest.raises(UsageError, match=r"strict\.json: missing"):
        profiles.update_pinned_vector_digest(tmp_path, "cd" * 32)
    assert (tmp_path / "development.json").read_bytes() == before  # all or nothing


@pytest.mark.parametrize("tier", ["bootstrap", "strict"])
def test_simulated_evidence_only_in_development_profiles(tmp_path: Path, tier: str) -> None:
    """Evidence anyone can make must not pass a certification tier's policy."""
    doc = _doc()
    doc.update(id=f"acme-{tier}", tier=tier)
    doc["attestation"] = {"required": True, "policy": {"formats": ["snp", "sim"]}}
    with pytest.raises(MalformedInput, match=rf"p\.json: \$\.attestation\.policy\.formats: 'sim' .* not tier '{tier}'"):
        profiles.load_profile(_write(tmp_path, doc))
    doc["tier"] = "development"
    assert "sim" in profiles.load_profile(_write(tmp_path, doc)).data["attestation"]["policy"]["formats"]


def test_a_document_the_schema_takes_but_canonical_json_does_not_names_it() -> None:
    """A document built in Python may hold 2.0 where the schema wants an integer
    (JSON Schema counts it as one); its digest cannot be computed: one line naming
    the document and the field, not an error without either."""
    doc = profiles.builtin("development").data
    doc["stress"]["load_processes"] = 2.0
    with pytest.raises(MalformedInput, match=r"^lab profile: float at \$\.stress\.load_processes"):
        profiles.from_document(doc, "lab profile")
