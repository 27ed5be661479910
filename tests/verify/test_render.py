"""`teecert render`: only authentic reports are rendered, in the order a reviewer decides.

Reports come from ``reportfactory`` (signed exactly as a run signs them).  The command
is driven through its own ``add_parser`` on a small argparse parser, with the error
handling the CLI applies (a ``TeecertError`` becomes its exit code).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert._internal.timefmt import format_time
from teecert.cli import verify as cli_verify
from teecert.cli.common import parse_at
from teecert.errors import NotAuthentic
from teecert.report import keys
from teecert.verify import render
from teecert.verify.verifier import VerifyOutcome, verify_report

import reportfactory as rf
from conftest import invoke_subcommand

AT = "2026-11-22T00:00:00Z"
HOSTILE = "<script>alert('x')</script> & | `tick` **bold** [link](javascript:alert(1))"
HOSTILE_CPU = '"><img src=x onerror=alert(1)> Evil CPU'
#: Section markers in reading order, HTML and Markdown.
HTML_ORDER = ('class="banner"', 'aria-label="verdict"', 'id="identity"', 'id="validity"', 'id="signers"',
              'id="counts"', 'id="failures"', 'id="advisory"', 'id="waivers"', 'id="results"', 'id="environment"',
              'id="digests"', 'id="verify"')
MD_ORDER = ("The signed JSON report is authoritative", "## Verdict", "## Identity", "## Validity",
            "## Signers", "## Counts", "## Failures", "## Advisory results", "## Waivers", "## All results",
            "## Environment fingerprint", "## Digests and run", "## How to verify")


def invoke(argv: Sequence[str]) -> int:
    return invoke_subcommand(cli_verify.add_render_parser, argv)


def outcome_of(r: rf.SignedReport) -> VerifyOutcome:
    return verify_report(r.data, str(r.path), trusted=r.trusted, profile=None, at=rf.NOW)


def _hostile(st: dict[str, Any]) -> None:
    st["predicate"]["environment"]["fingerprint"]["cpu_model"] = HOSTILE_CPU


@pytest.fixture
def certified(tmp_path: Path) -> rf.SignedReport:
    return rf.make_signed_report(tmp_path)


@pytest.fixture
def failing(tmp_path: Path) -> rf.SignedReport:
    rows = rf.make_results(11, 2, n_skip=1)  # the failures land on a stream and an explicit set
    rows[0]["message"] = HOSTILE  # a passing probe check: its message is free text from the run
    return rf.make_signed_report(tmp_path, results=rows, mutate=_hostile)


def _pem(tmp_path: Path, key: Ed25519PrivateKey) -> Path:
    return keys.write_public(tmp_path / "signer.pem", key.public_key())


# -- the library API --------------------------------------------------------------------


def test_certified_report(certified: rf.SignedReport) -> None:
    o = outcome_of(certified)
    html = render.render_html(o)
    md = render.render_markdown(o)
    assert 'class="verdict ok"' in html and ">CERTIFIED<" in html
    verdict_html = html[html.index('aria-label="verdict"'):html.index('id="identity"')]
    assert "NOT_CERTIFIED" not in verdict_html and "**CERTIFIED**" in md and "**NOT_CERTIFIED**" not in md
    assert "The signed JSON report is authoritative; this page is a view of it." in html
    assert "No test failed or errored." in html and "*No test failed or errored.*" in md
    assert "No waivers were applied." in html and "*No waivers were applied.*" in md
    pred = certified.statement["predicate"]
    for digest in (pred["environment"]["digest"], pred["probe"]["digest"], pred["harness"]["source_digest"],
                   pred["profile"]["digest"], pred["vector_set"]["digest"], pred["signer"]["keyid"],
                   *(t["hash"] for t in pred["probe"]["transcripts"])):
        assert digest in html and digest in md
    for fact in ("AMD EPYC 7763 64-Core Processor", "Linux 6.8.0", "glibc 2.39", "teecert-reference 1.0",
                 pred["validity"]["not_before"], pred["validity"]["not_after"]):
        assert fact in html and fact in md


def test_not_certified_report_shows_failures_and_divergence(failing: rf.SignedReport) -> None:
    o = outcome_of(failing)
    html = render.render_html(o)
    md = render.render_markdown(o)
    assert 'class="verdict bad"' in html and ">NOT_CERTIFIED<" in html
    assert "**NOT_CERTIFIED**" in md
    failed = [r for r in failing.statement["predicate"]["results"] if r["outcome"] == "failed"]
    assert len(failed) == 2
    assert html.count('<tr class="failure">') == len(failed)
    failures_md = md[md.index("## Failures"):md.index("## Waivers")]
    rows = [line for line in failures_md.splitlines() if line.startswith("| `")]
    assert len(rows) == len(failed)
    for r in failed:
        d = r["divergence"]
        assert r["id"] in html
        for value in (d["expected"], d["got"], d["ulp"], " ".join(d["inputs"])):
            assert value in html and value in failures_md
        assert f"<td>{d['index']}</td>" in html
    # every verdict reason is named, by code and test
    for reason in o.verdict["reasons"]:
        assert reason["code"] in html and reason["test"] in html


def test_hostile_strings_are_escaped(failing: rf.SignedReport) -> None:
    o = outcome_of(failing)
    html = render.render_html(o)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; |" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt; Evil CPU" in html
    md = render.render_markdown(o)
    assert "<script" not in md and "&lt;script&gt;" in md and "&lt;img src=x" in md
    # Raw text appears only inside code spans, which Markdown shows literally.
    assert [line for line in md.splitlines() if "<img" in line] == [f"| `cpu_model` | `{HOSTILE_CPU}` |"]
    # the message stays one table cell: its pipe is escaped
    hostile_id = next(r["id"] for r in failing.statement["predicate"]["results"] if r["message"] == HOSTILE)
    row = next(line for line in md.splitlines() if hostile_id in line and "&lt;script" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 11 and "\\|" in row and "\\[link\\]" in row


class _Tags(HTMLParser):
    """Every start tag and its attributes, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_self_contained(html: str) -> None:
    """No scripts, no external resources, no links out: the page works offline and inert."""
    parser = _Tags()
    parser.feed(html)
    names = {t for t, _ in parser.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "base", "form"}, names
    for tag, attrs in parser.tags:
        assert "src" not in attrs and not any(a.startswith("on") for a in attrs), (tag, attrs)
        href = attrs.get("href")
        assert href is None or href.startswith("#"), (tag, attrs)
    assert not re.search(r"https?://", html)
    assert "@import" not in html and "url(" not in html
    assert "<style>" in html and "Content-Security-Policy" in html


def test_page_is_self_contained(failing: rf.SignedReport) -> None:
    assert_self_contained(render.render_html(outcome_of(failing)))
    md = render.render_markdown(outcome_of(failing))
    assert not re.search(r"https?://", md) and "![" not in md


def test_sections_in_reviewer_order(failing: rf.SignedReport) -> None:
    o = outcome_of(failing)
    html = render.render_html(o)
    md = render.render_markdown(o)
    html_pos = [html.index(m) for m in HTML_ORDER]
    md_pos = [md.index(m) for m in MD_ORDER]
    assert html_pos == sorted(html_pos)
    assert md_pos == sorted(md_pos)
    assert md.index("NOT_CERTIFIED") < md.index("## All results")


def test_how_to_verify_is_the_exact_command(certified: rf.SignedReport) -> None:
    md = render.render_markdown(outcome_of(certified), rf.NOW)
    cmd = f"teecert verify {certified.path} --trust SIGNER.pem --profile development --at 2026-11-21T05:00:00Z"
    assert cmd in md and cmd in render.render_html(outcome_of(certified), rf.NOW)


def test_rendering_is_deterministic(failing: rf.SignedReport) -> None:
    o = outcome_of(failing)
    assert render.render_html(o, rf.NOW) == render.render_html(o, rf.NOW)
    assert render.render_markdown(o, rf.NOW) == render.render_markdown(o, rf.NOW)


def test_md_helpers() -> None:
    assert render.md_code("a`b|c") == "``a`b\\|c``"
    assert render.md_code("`x`") == "`` `x` ``"
    assert render.md_text("a\nb <c> *d*") == "a b &lt;c&gt; \\*d\\*"
    assert render.flatten({"b": {"y": 1, "x": [1, 2]}, "a": None}) == {"a": "", "b.x": "1 2", "b.y": "1"}


# -- the command ----------------------------------------------------------------------------


def test_command_writes_both_views(failing: rf.SignedReport, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    html, md = tmp_path / "out" / "r.html", tmp_path / "out" / "r.md"
    html.parent.mkdir()
    pem = _pem(tmp_path, failing.key)
    code = invoke(["render", str(failing.path), "--html", str(html), "--md", str(md),
                   "--trust", str(pem), "--at", AT])
    assert code == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{failing.path}: NOT_CERTIFIED: ")
    assert "yes (in --trust)" in html.read_text() and "signer not pinned" not in html.read_text()
    assert ">NOT_CERTIFIED<" in html.read_text()
    assert "**NOT_CERTIFIED**" in md.read_text()
    assert "verified at</th><td>2026-11-22T00:00:00Z" in html.read_text()
    assert sorted(p.name for p in html.parent.iterdir()) == ["r.html", "r.md"]  # no temporary files left


def test_command_certified_exit_0(certified: rf.SignedReport, tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    assert invoke(["render", str(certified.path), "--html", str(html), "--at", AT]) == 0
    text = html.read_text()
    assert ">CERTIFIED<" in text and "signer not pinned" in text  # no --trust: said on the page


def test_command_markdown_to_stdout(certified: rf.SignedReport, capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke(["render", str(certified.path), "--at", AT]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("> **The signed JSON report is authoritative")
    assert captured.err.strip() == f"{certified.path}: CERTIFIED"


def test_forged_report_is_refused_and_nothing_written(failing: rf.SignedReport, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    def claim_certified(st: dict[str, Any]) -> None:
        st["predicate"]["verdict"] = {"result": "CERTIFIED", "reasons": []}

    forged = tmp_path / "forged.json"
    forged.write_bytes(rf.forged(failing, claim_certified))
    html, md = tmp_path / "forged.html", tmp_path / "forged.md"
    pem = _pem(tmp_path, failing.key)
    code = invoke(["render", str(forged), "--html", str(html), "--md", str(md), "--trust", str(pem), "--at", AT])
    assert code == 2
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1
    assert str(forged) in out and "claims CERTIFIED but its results give NOT_CERTIFIED" in out
    assert not html.exists() and not md.exists()


def test_tampered_signature_and_wrong_signer_are_refused(certified: rf.SignedReport, tmp_path: Path) -> None:
    env = json.loads(certified.data)
    env["payload"] = env["payload"][:-8] + ("A" if env["payload"][-8] != "A" else "B") + env["payload"][-7:]
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(env))
    out = tmp_path / "x.html"
    assert invoke(["render", str(bad), "--html", str(out), "--at", AT]) == 2
    other = keys.write_public(tmp_path / "other.pem", Ed25519PrivateKey.generate().public_key())
    assert invoke(["render", str(certified.path), "--html", str(out), "--trust", str(other), "--at", AT]) == 2
    assert not out.exists()


def test_expired_report_is_refused(certified: rf.SignedReport, tmp_path: Path) -> None:
    out = tmp_path / "x.md"
    with pytest.raises(NotAuthentic, match="expired"):
        cli_verify._cmd_render(argparse.Namespace(report=str(certified.path), html=None, md=str(out), trust=None,
                                      profile=None, at="2027-06-01T00:00:00Z"))
    assert not out.exists()


def test_usage_errors(certified: rf.SignedReport, tmp_path: Path) -> None:
    assert invoke(["render", str(tmp_path / "missing.json"), "--at", AT]) == 2
    assert invoke(["render", str(certified.path), "--at", "yesterday"]) == 2
    same = tmp_path / "same"
    assert invoke(["render", str(certified.path), "--html", str(same), "--md", str(same), "--at", AT]) == 2
    assert not same.exists()


def test_time_parsing() -> None:
    t = parse_at("2026-11-21T05:00:00Z")
    assert t is not None and format_time(t) == "2026-11-21T05:00:00Z"
    assert parse_at(None) is None


def test_characterization_is_shown_and_escaped(tmp_path: Path) -> None:
    def add(st: dict[str, Any]) -> None:
        st["predicate"]["probe"]["characterization"] = {
            "arch": "aarch64", "char_signed": False, "ldbl_mant_dig": 113,
            "fp_control": {"arch": "aarch64", "control": "0000000000000000"},
            "cases": {"f64 0/0": "7ff8000000000000", "(int32) nan": "<b>00000000</b>"}}

    o = outcome_of(rf.make_signed_report(tmp_path, mutate=add))
    html = render.render_html(o)
    assert 'id="characterization"' in html and "never judged" in html
    assert "<th>f64 0/0</th><td class=\"hex\">7ff8000000000000</td>" in html
    assert "&lt;b&gt;00000000&lt;/b&gt;" in html and "<b>" not in html
    md = render.render_markdown(o)
    assert "| f64 0/0 | `7ff8000000000000` |" in md and "| `fp_control.control` | `0000000000000000` |" in md
    # a report without it says so
    bare = render.render_html(outcome_of(rf.make_signed_report(tmp_path / "bare")))
    assert "The probe recorded no characterization." in bare


# -- grouped reasons and advisory results ---------------------------------------------------


def _failing_in(suite: str, n: int) -> list[dict[str, Any]]:
    return rf.make_results(0, n, suites=(suite,))


@pytest.fixture
def repeated(tmp_path: Path) -> rf.SignedReport:
    """Three failures in one required suite, one in another, and two advisory divergences
    (libm is advisory under the development profile)."""
    rows = _failing_in("ieee754", 3) + _failing_in("integers", 1) + _failing_in("libm", 2)
    return rf.make_signed_report(tmp_path, results=rows)


def _verdict_html(html: str) -> str:
    return html[html.index('aria-label="verdict"'):html.index('id="identity"')]


def test_repeated_reasons_are_grouped_by_code_and_suite(repeated: rf.SignedReport) -> None:
    o = outcome_of(repeated)
    reasons = o.verdict["reasons"]
    assert [(r["code"], r["suite"]) for r in reasons].count(("TEST_FAILED", "ieee754")) == 3
    html, md = render.render_html(o), render.render_markdown(o)
    box = _verdict_html(html)
    # one group, collapsible, with the count; its members inside it
    assert box.count("<details>") == 1
    assert "<summary><code>TEST_FAILED</code> in suite <strong>ieee754</strong>: 3 tests</summary>" in box
    group = box[box.index("<details>"):box.index("</details>")]
    for r in reasons:
        assert r["test"] in box
        assert (r["test"] in group) == (r["suite"] == "ieee754")
    # the lone reason stays one plain line
    lone = next(r for r in reasons if r["suite"] == "integers")
    assert f"<li><code>TEST_FAILED</code> <code>{lone['test']}</code>" in box
    verdict_md = md[md.index("## Verdict"):md.index("## Identity")]
    lines = verdict_md.splitlines()
    head = lines.index("- `TEST_FAILED` in suite **ieee754**: 3 tests")
    members = lines[head + 1:head + 4]
    assert all(line.startswith("  - `test_ieee754.py::") for line in members), members
    assert sum(1 for line in lines if line.startswith("- `TEST_FAILED`")) == 2


def test_advisory_divergences_are_not_failures(repeated: rf.SignedReport) -> None:
    o = outcome_of(repeated)
    results = repeated.statement["predicate"]["results"]
    advisory = [r for r in results if r["suite"] == "libm" and r["outcome"] == "failed"]
    required = [r for r in results if r["suite"] != "libm" and r["outcome"] == "failed"]
    assert len(advisory) == 2 and len(required) == 4
    assert {r["test"] for r in o.verdict["reasons"]} == {r["id"] for r in required}
    html, md = render.render_html(o), render.render_markdown(o)
    failures = html[html.index('id="failures"'):html.index('id="advisory"')]
    section = html[html.index('id="advisory"'):html.index('id="waivers"')]
    assert failures.count('<tr class="failure">') == len(required)
    for r in advisory:
        assert r["id"] not in failures and r["id"] in section
    assert section.count('<tr class="advisory-result">') == len(advisory)
    assert section.count('<td class="outcome-advisory nowrap">diverges (advisory)</td>') == len(advisory)
    # never labelled or styled as a failure (a message is the run's own words)
    assert 'class="outcome-failed"' not in section and ">failed<" not in section
    assert "failure" not in section.replace("not a failure", "")
    assert "<details open>" in section  # a short list is open
    assert '<tr class="advisory-suite"><td>libm</td><td>advisory</td>' in section
    # in the full table too: labelled and styled apart from failures
    table = html[html.index('id="results"'):html.index('id="environment"')]
    for r in advisory:
        row = table[table.index(r["id"]):]
        row = row[:row.index("</tr>")]
        assert '<td class="outcome-advisory">diverges (advisory)</td>' in row and "outcome-failed" not in row
    assert "are the 2 failed or error results of advisory suites, which the verdict does not count" in html
    failures_md = md[md.index("## Failures"):md.index("## Advisory results")]
    section_md = md[md.index("## Advisory results"):md.index("## Waivers")]
    for r in advisory:
        assert r["id"] not in failures_md and r["id"] in section_md
    assert section_md.count("| diverges \\(advisory\\) |") == len(advisory)
    assert "| libm | advisory | " in section_md


def test_certified_report_with_advisory_divergences(tmp_path: Path) -> None:
    o = outcome_of(rf.make_signed_report(tmp_path, results=_failing_in("libm", 3)))
    assert o.verdict["result"] == "CERTIFIED"
    html, md = render.render_html(o), render.render_markdown(o)
    assert 'class="verdict ok"' in html and "<details" not in _verdict_html(html)
    assert "No result that the verdict counts failed or errored (advisory results are below)." in html
    assert "*No result that the verdict counts failed or errored (advisory results are below).*" in md
    assert '<tr class="failure">' not in html and html.count('<tr class="advisory-result">') == 3
    assert 'class="outcome-failed"' not in html


def test_long_advisory_lists_are_collapsed(tmp_path: Path) -> None:
    n = render.ADVISORY_OPEN_MAX + 1
    html = render.render_html(outcome_of(rf.make_signed_report(tmp_path, results=_failing_in("libm", n))))
    section = html[html.index('id="advisory"'):html.index('id="waivers"')]
    assert "<details>" in section and "<details open>" not in section
    assert f"<summary>{n} advisory divergences, each with its first differing vector</summary>" in section
