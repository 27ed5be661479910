"""`teecert compare`: agreement classes over consensus roots, divergences, drift.

Reports come from ``reportfactory``; a "diverging platform" is one whose report gives
another root (and a first differing vector) for one stream.  The command is driven
through its own ``add_parser`` with the error handling the CLI applies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from test_render import assert_self_contained

from teecert.cli import verify as cli_verify
from teecert.errors import TeecertError
from teecert.report import keys, verdict
from teecert.report import statement as report
from teecert.verify import compare, verifier
from teecert.verify.verifier import VerifyOutcome, verify_report

import reportfactory as rf
from conftest import invoke_subcommand

AT = "2026-11-22T00:00:00Z"
STREAM = "test_ieee754.py::test_stream[f64.mul.rtz]"
EXTRA = "test_ieee754.py::test_stream[f64.add.rne]"
DIVERGENCE = {"index": 1181, "inputs": ["3ff0000000000001", "3fefffffffffffff"],
              "expected": "000b6e6b8c0f1c3a", "got": "000b6e6b8c0f1c3b", "ulp": "1"}


def invoke(argv: Sequence[str]) -> int:
    return invoke_subcommand(cli_verify.add_compare_parser, argv)


def rows(*, diverge: str | None = None) -> list[dict[str, Any]]:
    """A complete run's results, all passing; with ``diverge``, that stream gives another
    root and fails."""
    out = rf.complete(rf.make_results(len(rf.SUITES)))
    for r in out:
        if r["id"] == diverge:
            r.update(outcome="failed", failures=1, root="ab" * 32, divergence=dict(DIVERGENCE),
                     message="1 of 16 chunks diverge")
    return out


def drop_extra(stmt: dict[str, Any]) -> None:
    """The report without a row for the stream ``EXTRA``."""
    pred = stmt["predicate"]
    pred["results"] = [r for r in pred["results"] if r["id"] != EXTRA]
    pred["summary"] = verdict.summarize(pred["results"], report.embedded_profile(stmt, "t"))


#: the rows of a complete run that carry a root (explicit sets and streams)
N_ROOTED = sum(1 for r in rows() if r["root"] is not None)


@pytest.fixture
def partial_reports_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports whose sets of results differ, as reports under profiles with other test
    sets do; verification's completeness rule (tests/verify/test_completeness.py) is
    set aside so that one profile's factory can stand for two."""
    monkeypatch.setattr(verifier, "check_complete", lambda *a, **k: None)


def host(name: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def edit(stmt: dict[str, Any]) -> None:
        fp = stmt["predicate"]["environment"]["fingerprint"]
        fp["hostname_digest"] = rf._hex(name)
        fp.update(fields)
    return edit


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def make(tmp_path: Path, key: Ed25519PrivateKey, **kwargs: Any) -> rf.SignedReport:
    return rf.make_signed_report(tmp_path, key=key, **kwargs)


def outcomes(reports: Sequence[rf.SignedReport]) -> list[VerifyOutcome]:
    return [verify_report(r.data, str(r.path), trusted=r.trusted, profile=None, at=rf.NOW) for r in reports]


@pytest.fixture
def three(tmp_path: Path, key: Ed25519PrivateKey) -> list[rf.SignedReport]:
    """a and b agree; c gives another root for one stream."""
    return [make(tmp_path, key, results=rows(), mutate=host("a")),
            make(tmp_path, key, results=rows(), mutate=host("b")),
            make(tmp_path, key, results=rows(diverge=STREAM), mutate=host("c", cpu_model="Intel Xeon 8480+"))]


def test_one_diverging_platform(three: list[rf.SignedReport]) -> None:
    cmp = compare.compare(outcomes(three))
    assert not cmp.agree
    assert cmp.classes == [[0, 1], [2]]
    assert [r.id for r in cmp.diverging] == [STREAM]
    res = cmp.diverging[0]
    assert [g.platforms for g in res.groups] == [[0, 1], [2]]  # majority root first
    assert res.groups[1].root == "ab" * 32 and res.groups[1].divergences == {2: DIVERGENCE}
    assert cmp.platforms[2].label == f"{three[2].statement['predicate']['environment']['digest'][:12]} " \
                                     f"Intel Xeon 8480+ ({three[2].path.name})"
    assert len(cmp.results) == N_ROOTED  # the checks carry no root: not consensus results
    assert not cmp.partial and not cmp.drift


def test_command_names_the_diverging_result(three: list[rf.SignedReport], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    pem = keys.write_public(tmp_path / "signer.pem", three[0].key.public_key())
    html = tmp_path / "cmp.html"
    code = invoke(["compare", *(str(r.path) for r in three), "--trust", str(pem), "--at", AT, "--html", str(html)])
    assert code == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"reports diverge: 1 of {N_ROOTED} consensus results differ; 3 reports in 2 agreement classes"
    diverging = [line for line in lines if line.startswith("DIVERGES ")]
    assert len(diverging) == 1 and diverging[0].startswith(f"DIVERGES {STREAM}: ")
    assert three[2].path.name in diverging[0]
    assert "vector 1181: inputs 3ff0000000000001 3fefffffffffffff, expected 000b6e6b8c0f1c3a, " \
           "got 000b6e6b8c0f1c3b (1 ulp)" in diverging[0]
    assert [line.split(":")[0] for line in lines if line.startswith("class ")] == ["class A", "class B"]
    page = html.read_text()
    assert ">DIVERGE<" in page and STREAM in page and "000b6e6b8c0f1c3b" in page
    assert_self_contained(page)


def test_all_agree(tmp_path: Path, key: Ed25519PrivateKey, capsys: pytest.CaptureFixture[str]) -> None:
    reports = [make(tmp_path, key, mutate=host(name)) for name in "abc"]
    cmp = compare.compare(outcomes(reports))
    assert cmp.agree and cmp.classes == [[0, 1, 2]] and not cmp.diverging
    assert invoke(["compare", *(str(r.path) for r in reports), "--at", AT]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"reports agree: 3 reports, {N_ROOTED} consensus results, 1 agreement class"
    assert not any(line.startswith("DIVERGES") for line in out)


def test_invalid_report_exits_2_naming_it(three: list[rf.SignedReport], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    def claim_certified(stmt: dict[str, Any]) -> None:
        stmt["predicate"]["verdict"] = {"result": "CERTIFIED", "reasons": []}

    forged = tmp_path / "forged.json"
    forged.write_bytes(rf.forged(three[2], claim_certified))
    html = tmp_path / "cmp.html"
    code = invoke(["compare", str(three[0].path), str(forged), "--at", AT, "--html", str(html), "--json"])
    assert code == 2
    out = capsys.readouterr().out
    assert out.startswith(f"teecert compare: {forged}: report claims CERTIFIED")
    assert not html.exists()
    # a report that is not a report at all
    junk = tmp_path / "junk.json"
    junk.write_text("{}")
    assert invoke(["compare", str(three[0].path), str(junk), "--at", AT]) == 2
    assert str(junk) in capsys.readouterr().out
    # expired at the verification time
    assert invoke(["compare", str(three[0].path), "--at", "2027-06-01T00:00:00Z"]) == 2


def test_json_structure(three: list[rf.SignedReport], capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke(["compare", *(str(r.path) for r in three), "--at", AT, "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == sorted(doc)
    assert set(doc) == {"agree", "caveats", "classes", "counts", "diverging", "drift", "exit_code", "missing",
                        "notes", "reports"}
    paths = [str(r.path) for r in three]
    assert doc["agree"] is False and doc["exit_code"] == 1
    assert doc["counts"] == {"classes": 2, "consensus_results": N_ROOTED, "diverging": 1, "missing_from_some": 0,
                             "reports": 3}
    assert doc["classes"] == [{"name": "A", "reports": paths[:2]}, {"name": "B", "reports": paths[2:]}]
    assert [r["class"] for r in doc["reports"]] == ["A", "A", "B"]
    assert set(doc["reports"][0]) == {"class", "cpu_model", "environment_digest", "label", "probe_digest",
                                      "profile", "profile_digest", "profile_pinned", "report", "signer_pinned",
                                      "vector_set_digest", "verdict"}
    # no --trust: nothing pinned the signers, and every output says so first
    assert [r["signer_pinned"] for r in doc["reports"]] == [False] * 3
    assert [r["profile_pinned"] for r in doc["reports"]] == [True] * 3  # the built-in, by its digest
    (caveat,) = doc["caveats"]
    assert caveat.startswith("signer not pinned for every report (pass --trust KEYS)")
    assert [r["verdict"] for r in doc["reports"]] == ["CERTIFIED", "CERTIFIED", "NOT_CERTIFIED"]
    (div,) = doc["diverging"]
    assert div["id"] == STREAM and div["op"] == "f64.mul.rtz" and div["kind"] == "stream"
    assert [g["reports"] for g in div["roots"]] == [paths[:2], paths[2:]]
    assert div["roots"][1]["divergences"] == [{"report": paths[2], **DIVERGENCE}]
    assert div["missing"] == [] and doc["missing"] == [] and doc["drift"] == []
    # the library gives the same document (the command line adds the exit code)
    as_given = [verify_report(r.data, str(r.path), trusted=None, profile=None, at=rf.NOW) for r in three]
    assert {**compare.comparison_to_json(compare.compare(as_given)), "exit_code": 1} == doc


@pytest.mark.usefixtures("partial_reports_verify")
def test_missing_results_are_listed_not_divergent(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    reports = [make(tmp_path, key, results=rows()), make(tmp_path, key, results=rows(), mutate=drop_extra)]
    cmp = compare.compare(outcomes(reports))
    assert cmp.agree and cmp.classes == [[0, 1]]
    assert [(r.id, r.missing) for r in cmp.partial] == [(EXTRA, [1])]
    lines = compare.comparison_lines(cmp)
    assert any(line.startswith(f"MISSING {EXTRA}: in 1 of 2 reports") for line in lines)


@pytest.mark.usefixtures("partial_reports_verify")
def test_classes_respect_pairwise_agreement(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    # b lacks the extra stream; a and c disagree on it: a and c cannot share a class,
    # while b agrees with both on everything it carries.
    def other_root(rs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for r in rs:
            if r["id"] == EXTRA:
                r["root"] = r["expected_root"] = "cd" * 32
        return rs

    reports = [make(tmp_path, key, results=rows()), make(tmp_path, key, results=rows(), mutate=drop_extra),
               make(tmp_path, key, results=other_root(rows()))]
    cmp = compare.compare(outcomes(reports))
    assert not cmp.agree
    assert cmp.classes == [[0, 1], [2]]
    (res,) = cmp.diverging
    assert res.id == EXTRA and res.missing == [1]


def _naive_classes(signatures: list[dict[str, str]]) -> list[list[int]]:
    """The grouping rule stated plainly: distinct signatures in report order, each into
    the first class whose merged roots it does not contradict."""
    distinct: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for i, sig in enumerate(signatures):
        distinct.setdefault(tuple(sorted(sig.items())), []).append(i)
    classes: list[tuple[dict[str, str], list[int]]] = []
    for key, members in distinct.items():
        sig = dict(key)
        for merged, cls in classes:
            if all(merged.get(k, v) == v for k, v in sig.items()):
                merged.update(sig)
                cls.extend(members)
                break
        else:
            classes.append((sig, list(members)))
    return sorted((sorted(c) for _, c in classes), key=lambda c: (-len(c), c[0]))


@given(st.lists(st.dictionaries(st.sampled_from("abcd"), st.sampled_from("xyz"), min_size=0, max_size=4),
                min_size=1, max_size=12))
@settings(max_examples=400, deadline=None)
def test_class_grouping_rule(signatures: list[dict[str, str]]) -> None:
    classes = compare._classes(signatures)
    assert classes == _naive_classes(signatures)
    assert sorted(i for c in classes for i in c) == list(range(len(signatures)))
    for c in classes:  # within a class, every two reports agree on every result both carry
        for i in c:
            for j in c:
                assert all(signatures[j].get(k, v) == v for k, v in signatures[i].items())


def test_environment_drift_between_reports_of_one_machine(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    reports = [make(tmp_path, key, mutate=host("m1")),
               make(tmp_path, key, mutate=host("m1", kernel="Linux 6.9.2", microcode="0xa0011d5",
                                               variables={"TZ": "UTC"})),
               make(tmp_path, key, mutate=host("m2", kernel="Linux 5.15.0"))]
    cmp = compare.compare(outcomes(reports))
    (drift,) = cmp.drift
    assert drift.kind == "machine" and drift.digest == rf._hex("m1") and drift.platforms == [0, 1]
    assert drift.fields == {"kernel": ["Linux 6.8.0", "Linux 6.9.2"], "microcode": ["0xa0011d1", "0xa0011d5"],
                            "variables.TZ": [None, "UTC"]}
    assert any(line.startswith("drift on machine ") and "kernel, microcode, variables.TZ" in line
               for line in compare.comparison_lines(cmp))
    doc = compare.comparison_to_json(cmp)
    assert doc["drift"][0]["fields"][0] == {
        "field": "kernel", "values": [{"report": str(reports[0].path), "value": "Linux 6.8.0"},
                                      {"report": str(reports[1].path), "value": "Linux 6.9.2"}]}


def test_same_run_twice_is_noted(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    r = make(tmp_path, key)
    cmp = compare.compare(outcomes([r, r]))
    assert cmp.agree and any("same run" in n for n in cmp.notes)


def test_hostile_strings_are_escaped_in_html(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    reports = [make(tmp_path, key, mutate=host("a", cpu_model="<script>alert(1)</script>")),
               make(tmp_path, key, results=rows(diverge=STREAM), mutate=host("a"))]
    page = compare.render_compare_html(compare.compare(outcomes(reports)), rf.NOW)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert_self_contained(page)


def test_no_reports_is_a_usage_error() -> None:
    with pytest.raises(TeecertError):
        compare.compare([])


def test_class_names() -> None:
    assert [compare.class_name(n) for n in (0, 1, 25, 26, 27, 701, 702)] == ["A", "B", "Z", "AA", "AB", "ZZ", "AAA"]


# -- caveats: what makes an agreement worth less than it looks --------------------------


def test_pinned_reports_under_one_profile_have_no_caveats(three: list[rf.SignedReport]) -> None:
    cmp = compare.compare(outcomes(three))
    assert cmp.caveats == []
    page = compare.render_compare_html(cmp, rf.NOW)
    assert 'aria-label="caveats"' not in page and "not pinned" not in page


def test_different_profiles_are_said_first(tmp_path: Path, key: Ed25519PrivateKey,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    dev = make(tmp_path, key, mutate=host("a"))
    strict = make(tmp_path, key, profile="strict", mutate=host("b"))
    cmp = compare.compare(outcomes([dev, strict]))
    (caveat,) = cmp.caveats
    assert caveat.startswith("the reports were made under 2 different profiles (development v")
    assert f"strict v{strict.profile.version} ({strict.profile.digest[:12]}): 1 report" in caveat
    pem = keys.write_public(tmp_path / "signer.pem", key.public_key())
    html = tmp_path / "cmp.html"
    code = invoke(["compare", str(dev.path), str(strict.path), "--trust", str(pem), "--at", AT, "--html", str(html)])
    lines = capsys.readouterr().out.splitlines()
    assert code in (0, 1) and lines[1] == f"caveat: {caveat}"  # right after the outcome line
    page = html.read_text()
    # on the page: in its own box, right after the outcome and before the classes
    assert page.index('aria-label="outcome"') < page.index('aria-label="caveats"') < page.index('id="classes"')
    assert "2 different profiles" in page[page.index('aria-label="caveats"'):page.index('id="classes"')]
    assert_self_contained(page)


def test_unpinned_signers_and_profiles_are_said_first(tmp_path: Path, key: Ed25519PrivateKey,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    a, b = make(tmp_path, key, mutate=host("a")), make(tmp_path, key, mutate=host("b"))
    unpinned = [verify_report(r.data, str(r.path), trusted=None, profile=None, at=rf.NOW) for r in (a, b)]
    unpinned[1].profile_pinned = False  # as a report under a profile file that --profile does not name
    cmp = compare.compare(unpinned)
    signer, profile = cmp.caveats
    assert signer == (f"signer not pinned for every report (pass --trust KEYS): a signature was checked against "
                      f"the key its report names, which anyone can make: {a.path.name}, {b.path.name}")
    assert profile.startswith("profile not pinned for 1 of 2 reports (pass --profile NAME|FILE")
    assert profile.endswith(b.path.name)
    page = compare.render_compare_html(cmp, rf.NOW)
    box = page[page.index('aria-label="caveats"'):page.index('id="classes"')]
    assert "signer not pinned for every report" in box and "profile not pinned for 1 of 2 reports" in box
    assert page.count('<td class="unpinned">not pinned</td>') == 2
    # the command without --trust: the text output says it on its second line
    assert invoke(["compare", str(a.path), str(b.path), "--at", AT]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("caveat: signer not pinned for every report")


def _given(o: VerifyOutcome, value: str, roots: dict[str, str]) -> None:
    """Add a challenge and challenge rows (op -> root) to a verified outcome's statement:
    what compare reads (the challenge rows themselves are verify's, tested elsewhere)."""
    pred = o.statement["predicate"]
    pred["run"]["challenge"] = value
    for op, root in roots.items():
        pred["results"].append({**pred["results"][0], "id": f"test_challenge.py::test_challenge_stream[{op}]",
                                "suite": "challenge", "op": op, "kind": "stream", "root": root,
                                "divergence": None})


def test_challenge_results_are_compared_within_their_challenge(three: list[rf.SignedReport],
                                                               tmp_path: Path, key: Ed25519PrivateKey) -> None:
    """Reports given one challenge must agree on its fresh roots; reports given another
    challenge (other streams, other roots) neither contradict them nor lack them."""
    outs = outcomes([*three[:2], make(tmp_path, key, results=rows(), mutate=host("d"))])
    _given(outs[0], "aa" * 32, {"f64.div.rne": "11" * 32, "i64.mul": "22" * 32})
    _given(outs[1], "aa" * 32, {"f64.div.rne": "11" * 32, "i64.mul": "22" * 32})
    _given(outs[2], "bb" * 32, {"f64.div.rne": "33" * 32, "i64.mul": "44" * 32})
    cmp = compare.compare(outs)
    assert cmp.agree and cmp.classes == [[0, 1, 2]] and not cmp.partial
    fresh = [r for r in cmp.results if r.suite == "challenge"]
    assert [(r.id, [g.platforms for g in r.groups]) for r in fresh] == [
        (f"test_challenge.py::test_challenge_stream[f64.div.rne] @ challenge {'aa' * 32}", [[0, 1]]),
        (f"test_challenge.py::test_challenge_stream[f64.div.rne] @ challenge {'bb' * 32}", [[2]]),
        (f"test_challenge.py::test_challenge_stream[i64.mul] @ challenge {'aa' * 32}", [[0, 1]]),
        (f"test_challenge.py::test_challenge_stream[i64.mul] @ challenge {'bb' * 32}", [[2]])]
    assert any("2 of 3 reports given challenge aaaaaaaa" in n for n in cmp.notes)
    # one platform of the same challenge with another fresh root: divergence, and lacking one: partial
    outs[1].statement["predicate"]["results"][-2]["root"] = "99" * 32
    outs[1].statement["predicate"]["results"].pop()
    cmp = compare.compare(outs)
    assert [r.id for r in cmp.diverging] == [
        f"test_challenge.py::test_challenge_stream[f64.div.rne] @ challenge {'aa' * 32}"]
    assert [(r.id, r.missing) for r in cmp.partial] == [
        (f"test_challenge.py::test_challenge_stream[i64.mul] @ challenge {'aa' * 32}", [1])]
    assert cmp.classes == [[0, 2], [1]]
