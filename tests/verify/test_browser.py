"""A real browser: the rendered report and the compare page, opened in headless Chromium.

Two real runs (the reference probe: CERTIFIED; the zoo probe ``one_ulp``:
NOT_CERTIFIED, under a profile that makes the stress suite advisory) are rendered
with ``teecert render`` and ``teecert compare``, and each page is loaded from a
``file://`` URL by Debian's ``chromium`` with its background networking switched
off.  The DOM Chromium built must show the verdict first, its repeated reasons
grouped, then the failure table with the failing test, the op and the differing bit
patterns, and the advisory divergences in a section of their own that is neither
labelled nor coloured as failures; screenshots must show the verdict in the first
screen and the advisory section on the page; the compare page must say first that
the reports' profiles differ and that nothing pinned their signers; and the browser's NetLog must
record no request made by the page (the pages are self-contained, with a
Content-Security-Policy forbidding any load).  A control test injects markup that
would fetch from a local server and shows that the CSP blocks it and that the NetLog
check would see it without the CSP.

``.ci/run`` installs ``chromium``; where it is absent the tests skip.
"""

from __future__ import annotations

import base64
import http.server
import json
import re
import shutil
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from teecert.report import keys

from conftest import no_traceback, teecert_cli
from probezoo import build_zoo_probe

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not found: install Debian's `chromium` package (.ci/run does)")

#: The flags of a quiet, offline headless Chromium (/usr/bin/chromium, run as root in CI).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
#: NetLog's initiator of the browser's own requests (time sync, updates, accounts);
#: a request made by a ``file://`` page has the initiator ``null`` (its opaque origin).
BROWSER_INITIATED = "not an origin"
VERDICT_RED = (0xCF, 0x22, 0x2E)  # .verdict.bad / .outcome.bad in the templates
ADVISORY_BLUE = (0xDD, 0xF4, 0xFF)  # .advisory in report.html.j2
CAVEAT_ORANGE = (0xFF, 0xF1, 0xE5)  # .caveats in compare.html.j2


# -- headless Chromium --------------------------------------------------------------------


@dataclass
class Loaded:
    dom: str
    page_requests: list[tuple[str, str]]  # (initiator, url) of requests not made by the browser itself


def page_requests(netlog: Path) -> list[tuple[str, str]]:
    """Requests in a Chromium NetLog that a page made (initiator other than the browser)."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    out = []
    for e in log["events"]:
        p = e.get("params") or {}
        if e["type"] == start and "url" in p and p.get("initiator") != BROWSER_INITIATED:
            out.append((str(p.get("initiator")), str(p["url"])))
    return out


def chromium(tmp: Path, page: Path, *extra: str) -> Loaded:
    """Load ``page`` in a fresh headless Chromium profile; its DOM and the page's requests."""
    assert CHROMIUM is not None
    n = len(list(tmp.glob("chromium-*")))
    work = tmp / f"chromium-{n}"
    (work / "profile").mkdir(parents=True)
    netlog = work / "netlog.json"
    p = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={work / 'profile'}", f"--log-net-log={netlog}",
                        *extra, page.as_uri()],
                       capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == 0, f"chromium exited {p.returncode}: {p.stderr[-2000:]}"
    return Loaded(p.stdout, page_requests(netlog))


def screenshot(tmp: Path, page: Path, width: int = 1280, height: int = 900) -> Path:
    """The first screen of ``page`` as a PNG (kept in ``tmp`` for a human to look at)."""
    shot = tmp / f"{page.stem}.png"
    loaded = chromium(tmp, page, f"--screenshot={shot}", f"--window-size={width},{height}")
    assert loaded.page_requests == []
    assert shot.is_file()
    return shot


def png_rows(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered RGB(A) rows of an 8-bit, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    w, h, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(h):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line) if bpp == 3 else bytes(x for i, x in enumerate(line) if i % 4 != 3))
        prev = line
    return w, h, rows


def colour_rows(path: Path, rgb: tuple[int, int, int], min_share: float = 0.5) -> list[int]:
    """The rows of a screenshot at least ``min_share`` of whose pixels are ``rgb``."""
    w, _h, rows = png_rows(path)
    return [y for y, row in enumerate(rows)
            if sum(1 for px in zip(row[0::3], row[1::3], row[2::3], strict=True) if px == rgb) >= min_share * w]


def count_pixels(rows: list[bytes], rgb: tuple[int, int, int]) -> int:
    return sum(1 for row in rows for px in zip(row[0::3], row[1::3], row[2::3], strict=True) if px == rgb)


# -- what a reader sees in the DOM --------------------------------------------------------


class Page(HTMLParser):
    """The visible text of a DOM in reading order, with the text of marked parts."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.sections: dict[str, str] = {}  # aria-label -> text
        self.rows: dict[str, list[list[str]]] = {}  # <tr class> -> rows of cells
        self.headings: list[str] = []  # h2 ids in order
        self.summaries: list[str] = []  # the text of every <details>' <summary>, always shown
        self.cells: list[tuple[str, str]] = []  # (class, text) of every cell
        self._summary: list[str] | None = None
        self._cell_class = ""
        self._skip = 0
        self._section: str | None = None
        self._row: list[str] | None = None
        self._row_class = ""
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        assert "hidden" not in a and "display:none" not in (a.get("style") or "").replace(" ", "")
        if tag in ("head", "style", "title", "script"):
            self._skip += 1
        elif tag == "section":
            self._section = a.get("aria-label") or ""
            self.sections[self._section] = ""
        elif tag == "tr":
            self._row, self._row_class = [], a.get("class") or ""
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._cell_class = a.get("class") or ""
        elif tag == "summary":
            self._summary = []
        elif tag == "h2":
            self.headings.append(a.get("id") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "style", "title", "script"):
            self._skip -= 1
        elif tag == "section":
            self._section = None
        elif tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self.cells.append((self._cell_class, self._row[-1]))
            self._cell = None
        elif tag == "summary" and self._summary is not None:
            self.summaries.append(" ".join("".join(self._summary).split()))
            self._summary = None
        elif tag == "tr" and self._row is not None:
            self.rows.setdefault(self._row_class, []).append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._section is not None:
            self.sections[self._section] += data
        if self._cell is not None:
            self._cell.append(data)
        if self._summary is not None:
            self._summary.append(data)

    def reading(self) -> str:
        return " ".join("".join(self.text).split())


def read_dom(dom: str) -> Page:
    page = Page()
    page.feed(dom)
    page.close()
    return page


# -- the runs -------------------------------------------------------------------------------


def statement(report: Path) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(json.loads(report.read_text())["payload"])))


@dataclass
class Pages:
    dir: Path
    bad_report: Path
    bad: dict[str, Any]  # the NOT_CERTIFIED statement
    report_html: Path
    certified_html: Path
    compare_html: Path


#: The suite the one_ulp run's profile makes advisory: one_ulp diverges in every
#: stress perturbation, which then must read as advisory, never as failures.
ADVISORY_SUITE = "stress"


@pytest.fixture(scope="module")
def advisory_profile(tmp_path_factory: pytest.TempPathFactory, quick_profile: Path) -> Path:
    doc = json.loads(quick_profile.read_text())
    doc["id"] = "test-quick-advisory-stress"
    doc["suites"][ADVISORY_SUITE] = "advisory"
    path = tmp_path_factory.mktemp("profiles") / "quick-advisory.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, key_file: Path, quick_profile: Path,
          advisory_profile: Path) -> Pages:
    d = tmp_path_factory.mktemp("browser")
    reports = {}
    profile = {"certified": quick_profile, "one_ulp": advisory_profile}
    for name, probe, code in (("certified", None, 0), ("one_ulp", build_zoo_probe("one_ulp"), 1)):
        args = ["run", "--profile", str(profile[name]), "--key", str(key_file), "--out", str(d / name)]
        if probe is not None:
            args += ["--probe", str(probe)]
        res = teecert_cli(args)
        assert res.code == code and no_traceback(res.err), res.out[-2000:] + res.err[-2000:]
        (reports[name],) = (d / name).glob("teecert-report-*.json")
    pub = d / "signer.pub"
    keys.write_public(pub, keys.load_private(key_file).public_key())
    out = {}
    for name, code in (("certified", 0), ("one_ulp", 1)):
        out[name] = d / f"{name}.html"
        res = teecert_cli(["render", str(reports[name]), "--trust", str(pub), "--profile", str(profile[name]),
                           "--html", str(out[name])])
        assert res.code == code, res.out + res.err
    # no --trust and no --profile, as a hasty reviewer might: the page must say so
    compare = d / "compare.html"
    res = teecert_cli(["compare", str(reports["certified"]), str(reports["one_ulp"]), "--html", str(compare)])
    assert res.code == 1, res.out + res.err  # the two diverge on f64.div.rne
    return Pages(d, reports["one_ulp"], statement(reports["one_ulp"]), out["one_ulp"], out["certified"], compare)


def failures(stmt: dict[str, Any], *, advisory: bool = False) -> list[dict[str, Any]]:
    """The failed or errored results of the suites the report's profile requires (with
    ``advisory``: of the others, which the verdict does not count)."""
    suites = stmt["predicate"]["profile"]["document"]["suites"]
    return [r for r in stmt["predicate"]["results"]
            if r["outcome"] in ("failed", "error") and (suites.get(r["suite"]) != "required") == advisory]


# -- the tests --------------------------------------------------------------------------------


def test_not_certified_report_reads_verdict_first_then_the_failures(pages: Pages, tmp_path: Path) -> None:
    loaded = chromium(tmp_path, pages.report_html, "--dump-dom")
    assert loaded.page_requests == [], "the report page made network requests"
    page = read_dom(loaded.dom)
    text = page.reading()
    # verdict first: right after the banner that says the JSON is authoritative
    assert text.index("authoritative") < text.index("NOT_CERTIFIED") < text.index("Identity")
    assert page.sections["verdict"].split()[0] == "NOT_CERTIFIED"
    assert page.headings[:7] == ["identity", "validity", "signers", "counts", "failures", "advisory", "waivers"]
    bad = failures(pages.bad)
    assert bad and {r["op"] for r in bad} == {"f64.div.rne"}
    rows = {cells[0]: cells for cells in page.rows.get("failure", [])}
    assert set(rows) == {r["id"] for r in bad}
    stream = next(r for r in bad if r["kind"] == "stream")
    assert stream["id"] == "test_ieee754.py::test_stream[f64.div.rne]"
    for r in bad:
        _test, _suite, op, counts, index, inputs, expected, got, ulp = rows[r["id"]]
        d = r["divergence"]
        assert op == "f64.div.rne" and counts == f"{r['failures']} / {r['vectors']}"
        assert (index, inputs, expected, got, ulp) == (str(d["index"]), " ".join(d["inputs"]), d["expected"],
                                                       d["got"], d["ulp"])
        assert r["id"] in page.sections["verdict"]  # every failure is a reason in the verdict box
    d = stream["divergence"]
    assert int(d["got"], 16) == int(d["expected"], 16) + 1 and d["ulp"] == "1"


def test_repeated_reasons_are_grouped_in_the_verdict(pages: Pages, tmp_path: Path) -> None:
    page = read_dom(chromium(tmp_path, pages.report_html, "--dump-dom").dom)
    reasons = pages.bad["predicate"]["verdict"]["reasons"]
    by_suite: dict[str, int] = {}
    for r in reasons:
        by_suite[r["suite"]] = by_suite.get(r["suite"], 0) + 1
    repeated = {suite: n for suite, n in by_suite.items() if n > 1}
    assert repeated, f"one_ulp should fail more than one test of a suite: {by_suite}"
    verdict = " ".join(page.sections["verdict"].split())
    for suite, n in repeated.items():
        summary = f"TEST_FAILED in suite {suite}: {n} tests"
        assert summary in page.summaries and summary in verdict
        assert verdict.count(f"in suite {suite}:") == 1  # the code and suite are said once
    assert ADVISORY_SUITE not in by_suite  # advisory divergences never become reasons


def test_advisory_divergences_have_their_own_section(pages: Pages, tmp_path: Path) -> None:
    page = read_dom(chromium(tmp_path, pages.report_html, "--dump-dom").dom)
    advisory = failures(pages.bad, advisory=True)
    assert len([r for r in advisory if r["suite"] == ADVISORY_SUITE]) >= 2, \
        "one_ulp should diverge under the stress perturbations"
    section = " ".join(page.sections["advisory results"].split())
    assert section.startswith("Advisory results")
    rows = {cells[0]: cells for cells in page.rows.get("advisory-result", [])}
    assert set(rows) == {r["id"] for r in advisory}
    for r in advisory:
        assert rows[r["id"]][3] == "diverges (advisory)"
        assert r["id"] not in {cells[0] for cells in page.rows.get("failure", [])}
    (suite_row,) = [c for c in page.rows["advisory-suite"] if c[0] == ADVISORY_SUITE]
    assert suite_row[1] == "advisory"
    assert suite_row[4] == str(sum(1 for r in advisory if r["suite"] == ADVISORY_SUITE and r["outcome"] == "failed"))
    # neither labelled nor styled as failures, anywhere on the page
    labels = {text for css, text in page.cells if "outcome-advisory" in css.split()}
    assert labels == {"diverges (advisory)"}
    ids = {r["id"] for r in advisory}
    for cells in page.rows.get("", []):
        if cells and cells[0] in ids:
            assert "failed" not in cells, cells
    # the section is on screen: its blue box, with no failure red inside it
    shot = tmp_path / "tall.png"
    loaded = chromium(tmp_path, pages.report_html, f"--screenshot={shot}", "--window-size=1100,2600")
    assert loaded.page_requests == []
    blue = colour_rows(shot, ADVISORY_BLUE)
    assert len(blue) >= 40, "no advisory box in the first 2600 pixels of the page"
    _w, _h, pixels = png_rows(shot)
    assert count_pixels(pixels[blue[0]:blue[-1] + 1], VERDICT_RED) == 0
    # while the verdict box, with its reasons grouped, fits the first screen
    verdict = colour_rows(shot, VERDICT_RED)
    assert verdict and verdict[-1] < 900 and verdict[-1] < blue[0]


def test_screenshot_shows_the_verdict_in_the_first_screen(pages: Pages, tmp_path: Path) -> None:
    shot = screenshot(tmp_path, pages.report_html)
    w, h, _rows = png_rows(shot)
    assert (w, h) == (1280, 900)
    red = colour_rows(shot, VERDICT_RED)
    assert len(red) >= 60, "no NOT_CERTIFIED box in the first screen"
    assert red[0] < 300, f"the verdict box starts at y={red[0]}: something pushes it down"
    # a CERTIFIED page has no red box at all
    assert colour_rows(screenshot(tmp_path, pages.certified_html), VERDICT_RED) == []


def test_compare_page_shows_the_divergence(pages: Pages, tmp_path: Path) -> None:
    loaded = chromium(tmp_path, pages.compare_html, "--dump-dom")
    assert loaded.page_requests == [], "the compare page made network requests"
    page = read_dom(loaded.dom)
    text = page.reading()
    assert page.sections["outcome"].split()[0] == "DIVERGE"
    assert text.index("DIVERGE") < text.index("Agreement classes") < text.index("Consistency matrix")
    stream = next(r for r in failures(pages.bad) if r["kind"] == "stream")
    d = stream["divergence"]
    assert stream["id"] in text and pages.bad_report.name in text
    assert f"expected {d['expected']}, got {d['got']}, 1 ULP" in text
    shot = screenshot(tmp_path, pages.compare_html)
    assert colour_rows(shot, VERDICT_RED), "no DIVERGE box in the first screen"


def test_compare_page_says_first_what_weakens_it(pages: Pages, tmp_path: Path) -> None:
    """Two profiles, no --trust, no --profile: said right after the outcome, in the first screen."""
    page = read_dom(chromium(tmp_path, pages.compare_html, "--dump-dom").dom)
    text = page.reading()
    caveats = " ".join(page.sections["caveats"].split())
    assert text.index("DIVERGE") < text.index("Read this before relying on the comparison") \
        < text.index("Agreement classes")
    assert "made under 2 different profiles" in caveats
    assert "signer not pinned for every report (pass --trust KEYS)" in caveats
    assert "profile not pinned for every report" in caveats
    assert {text for css, text in page.cells if css == "unpinned"} >= {"not pinned"}
    orange = colour_rows(screenshot(tmp_path, pages.compare_html), CAVEAT_ORANGE)
    assert orange and orange[0] < 600, "the caveats are not in the first screen"


# -- the network check is a real check ------------------------------------------------------


@pytest.fixture
def local_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_csp_blocks_loads_that_the_netlog_would_see(pages: Pages, tmp_path: Path,
                                                   local_server: tuple[str, list[str]]) -> None:
    """Markup that escaped escaping cannot fetch: the CSP blocks it.  Without the CSP the
    same markup fetches, and both the server and the NetLog check see it."""
    base, hits = local_server
    html = pages.report_html.read_text()
    csp = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')
    assert csp.search(html), "the report page has no CSP"
    leak = f'<img src="{base}/leak.png"><link rel="stylesheet" href="{base}/leak.css">'
    with_csp = tmp_path / "with-csp.html"
    with_csp.write_text(html.replace("<body>", "<body>" + leak, 1))
    assert chromium(tmp_path, with_csp, "--dump-dom").page_requests == [] and hits == []
    without = tmp_path / "without-csp.html"
    without.write_text(csp.sub("", html).replace("<body>", "<body>" + leak, 1))
    seen = chromium(tmp_path, without, "--dump-dom").page_requests
    assert {url for _i, url in seen} == {f"{base}/leak.png", f"{base}/leak.css"}
    assert sorted(hits) == ["/leak.css", "/leak.png"]
