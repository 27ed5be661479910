"""The three user guides run as written: their commands, in order, in a fresh folder.

Each guide says at its top, in an HTML comment, how it is tested; in short, a fenced
``sh`` block is preceded by a marker comment:

- ``<!-- runs -->``: each command of the block runs with bash and must exit 0, or
  the code its trailing ``# exit N`` comment states;
- ``<!-- runs, exit N: WHY -->`` / ``<!-- runs, exits N M ...: WHY -->``: the codes of
  the block's commands (one for all, or one each);
- ``<!-- not run: WHY -->``: shown to readers, never run, for the reason given;

and a ``json`` block after ``<!-- file: NAME -->`` is written to NAME when the test
reaches it.  Every ``sh`` block must carry a marker, so a command added to a guide is
run, or says why not.  The comment also lists the guide's placeholders (report paths
with ``…``, the stand-ins for files others send), which ``PLACEHOLDERS`` below
provides; the two lists must match.

Commands run in a temporary folder with ``HOME`` and the XDG folders in temporary
folders (the real home, its run key and its record of revocation lists are never
touched), ``teecert`` of this interpreter first on ``PATH``, and no ``TEECERT_*`` or
``PYTEST_*`` variables from the test's own environment.  A command ending in ``&``
starts in the background; the test waits for its first line of output and stops it
(and its process group) at the end.  The guides keep long commands (strict runs, runs
behind each transport, installs) out with a reason, so that the three together take
about a minute on two cores, most of it the validator's one development run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teecert.profile import load_profile
from teecert.report import keys

import reportfactory as rf

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDES = ("guide-validator.md", "guide-vendor.md", "guide-governance.md")

_MARKER = re.compile(r"^<!--\s*(.*?)\s*-->$")
_RUNS = re.compile(r"^runs(?:,\s*exits?\s+(?P<codes>\d+(?:\s+\d+)*))?(?::\s*(?P<why>.+))?$")
_NOT_RUN = re.compile(r"^not run:\s*(?P<why>\S.*)$")
_FILE = re.compile(r"^file:\s*(?P<name>\S+)$")
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)\s*$")
_EXIT = re.compile(r"(?:^|\s)#\s*exit\s+(\d+)\b")
_PLACEHOLDER = re.compile(r"^- (`[^`]+`(?:,\s*`[^`]+`)*):", re.M)


# -- reading a guide ------------------------------------------------------------------------


@dataclass
class Block:
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    marker: str | None  # the marker comment right before the fence, without <!-- -->


@dataclass
class Command:
    line: int
    text: str
    expect: int


@dataclass
class Guide:
    name: str
    header: str  # the first HTML comment: how the guide is tested, and its placeholders
    blocks: list[Block]

    @property
    def placeholders(self) -> set[str]:
        out: set[str] = set()
        for names in _PLACEHOLDER.findall(self.header):
            out.update(re.findall(r"`([^`]+)`", names))
        return out


def read_guide(name: str) -> Guide:
    lines = (DOCS / name).read_text(encoding="utf-8").splitlines()
    header = ""
    blocks: list[Block] = []
    i = 0
    previous = ""  # the last non-blank line outside blocks
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("<!--") and "-->" not in stripped:  # a comment of many lines
            j = i
            while "-->" not in lines[j]:
                j += 1
            if not header:
                header = "\n".join(lines[i:j + 1])
            previous, i = "", j + 1
            continue
        fence = _FENCE.match(line)
        if fence:
            indent = len(fence["indent"])
            j = i + 1
            while not lines[j].strip().startswith("```"):
                j += 1
            body = "\n".join(x[indent:] if x[:indent].isspace() else x.lstrip() for x in lines[i + 1:j])
            marker = _MARKER.match(previous)
            blocks.append(Block(i + 1, fence["lang"], body, marker[1] if marker else None))
            previous, i = "", j + 1
            continue
        if stripped:
            previous = stripped
        i += 1
    return Guide(name, header, blocks)


def commands(block: Block) -> list[Command]:
    """The block's commands: continuation lines joined, comment lines left out, each
    with the exit code it must give."""
    runs = _RUNS.match(block.marker or "")
    assert runs, f"line {block.line}: not a block that runs: {block.marker!r}"
    out: list[Command] = []
    pending: list[str] = []
    start = 0
    for n, raw in enumerate(block.text.splitlines(), block.line + 1):
        if not pending and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if not pending:
            start = n
        pending.append(raw.rstrip())
        if raw.rstrip().endswith("\\"):
            continue
        text = "\n".join(pending)
        pending = []
        own = _EXIT.search(text)
        out.append(Command(start, text, int(own[1]) if own else 0))
    codes = [int(c) for c in (runs["codes"] or "").split()]
    if len(codes) == 1:
        for c in out:
            c.expect = codes[0] if not _EXIT.search(c.text) else c.expect
    elif codes:
        assert len(codes) == len(out), f"line {block.line}: {len(codes)} exit codes for {len(out)} commands"
        for c, code in zip(out, codes, strict=True):
            c.expect = code
    return out


# -- the stand-ins and placeholders -----------------------------------------------------------


@dataclass
class Context:
    """One guide's run: its folder, environment, and what the placeholders made."""

    work: Path
    env: dict[str, str]
    made: dict[str, str] = field(default_factory=dict)
    background: list[subprocess.Popen[str]] = field(default_factory=list)
    keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)

    def key(self, name: str) -> Ed25519PrivateKey:
        if name not in self.keys:
            self.keys[name] = Ed25519PrivateKey.generate()
        return self.keys[name]


def _newest_report(ctx: Context) -> str:
    found = sorted((ctx.work / "reports" / "local").glob("teecert-report-*.json"), key=lambda p: p.stat().st_mtime)
    assert found, "no report in reports/local: the guide's development run wrote none"
    return str(found[-1].relative_to(ctx.work))


def _free_port(ctx: Context) -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def _diverging(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``results`` with the first stream giving another root, as a platform that
    computes one op differently reports it."""
    out = [dict(r) for r in results]
    stream = next(r for r in out if r["kind"] == "stream")
    stream.update(outcome="failed", failures=1, root="ab" * 32, message="1 of 16 chunks diverge",
                  divergence={"index": 14, "inputs": ["000cecaa01794cc5", "4079400000000000"],
                              "expected": "000008309447e77a", "got": "000008309447e77b", "ulp": "1"})
    return out


def _report(ctx: Context, folder: str, name: str | None, key: Ed25519PrivateKey, *, profile: Any,
            now: dt.datetime, host: str, diverge: bool = False) -> str:
    prof = load_profile(profile) if isinstance(profile, str | Path) else profile
    results = rf.complete(rf.make_results(profile=prof), prof)

    def machine(stmt: dict[str, Any]) -> None:
        stmt["predicate"]["environment"]["fingerprint"]["hostname_digest"] = rf._hex(host)

    (ctx.work / folder).mkdir(parents=True, exist_ok=True)
    signed = rf.make_signed_report(ctx.work / folder, key=key, profile=prof, now=now, mutate=machine,
                                   results=_diverging(results) if diverge else results)
    path = signed.path
    if name is not None:
        path = path.rename(ctx.work / folder / name)
    return str(path.relative_to(ctx.work))


def _vendor_platforms(ctx: Context) -> None:
    """milan.json, genoa.json, sapphire-rapids.json: signed with the guide's vendor-key.pem."""
    if "platforms" in ctx.made:
        return
    key = keys.load_private(ctx.work / "vendor-key.pem")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    for name, diverge in (("milan.json", False), ("genoa.json", False), ("sapphire-rapids.json", True)):
        _report(ctx, ".", name, key, profile="development", now=now, host=name, diverge=diverge)
    ctx.made["platforms"] = "made"


def _operator_keys(ctx: Context) -> str:
    folder = ctx.work / "keys"
    folder.mkdir(exist_ok=True)
    for name in ("operator-1", "operator-2"):
        keys.write_public(folder / f"{name}.pem", ctx.key(name).public_key())
    return "keys/"


def _submitted(ctx: Context) -> str:
    return _report(ctx, "submitted", None, ctx.key("operator-1"), profile="strict", now=rf.NOW, host="node-3")


def _fleet(ctx: Context) -> str:
    for i, diverge in enumerate((False, False, True)):
        _report(ctx, "reports", None, ctx.key(f"operator-{1 + i % 2}"), profile="strict", now=rf.NOW,
                host=f"node-{i + 1}", diverge=diverge)
    return "reports/*.json"


NODE7_TIME = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.UTC)


def _node7(ctx: Context) -> str:
    acme = ctx.work / "acme.signed.json"
    assert acme.is_file(), "node 7's reports are made under acme.signed.json, which section 5 signs"
    prof = load_profile(acme)
    for run in range(2):
        _report(ctx, "node-7", None, ctx.key("node-7"), profile=prof, now=NODE7_TIME + dt.timedelta(hours=run),
                host="node-7")
    return "node-7/*.json"


def _node7_one(ctx: Context) -> str:
    return str(sorted((ctx.work / "node-7").glob("teecert-report-*.json"))[0].relative_to(ctx.work))


def _operators(ctx: Context) -> str:
    (ctx.work / "operators").mkdir(exist_ok=True)
    keys.write_public(ctx.work / "operators" / "node-7.pem", ctx.key("node-7").public_key())
    return "operators/"


def _same(provide: Callable[[Context], Any]) -> Callable[[Context], str]:
    """A placeholder that names a real path, which the test provides before it is used."""
    def run(ctx: Context) -> str:
        provide(ctx)
        return ""
    return run


#: Per guide: placeholder -> what stands for it (called once, when a command first
#: needs it; an empty string keeps the placeholder's own text, a path made for it).
PLACEHOLDERS: dict[str, dict[str, Callable[[Context], str]]] = {
    "guide-validator.md": {
        "reports/local/teecert-report-3f0c2a9e-….json": _newest_report,
    },
    "guide-vendor.md": {
        "7000": _free_port,
        "milan.json": _same(_vendor_platforms),
        "genoa.json": _same(_vendor_platforms),
        "sapphire-rapids.json": _same(_vendor_platforms),
    },
    "guide-governance.md": {
        "teecert-report-3f0c….json": _submitted,
        "keys/": _same(_operator_keys),
        "reports/*.json": _same(_fleet),
        "node-7/*.json": _same(_node7),
        "node-7/teecert-report-….json": _node7_one,
        "operators/": _same(_operators),
        "9f3a…": lambda ctx: keys.keyid(ctx.key("leaked").public_key()),
        "cda9…": lambda ctx: hashlib.sha256(b"a recalled platform-environment").hexdigest(),
    },
}


def substitute(text: str, guide: str, ctx: Context) -> str:
    for placeholder in sorted(PLACEHOLDERS[guide], key=len, reverse=True):
        if placeholder not in text:
            continue
        if placeholder not in ctx.made:
            ctx.made[placeholder] = PLACEHOLDERS[guide][placeholder](ctx) or placeholder
        text = text.replace(placeholder, ctx.made[placeholder])
    return text


# -- running ----------------------------------------------------------------------------------


def environment(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEECERT_", "PYTEST_"))}
    home = tmp / "home"
    for name, path in (("HOME", home), ("XDG_CONFIG_HOME", home / ".config"), ("XDG_STATE_HOME", home / ".state"),
                       ("XDG_CACHE_HOME", home / ".cache"), ("XDG_DATA_HOME", home / ".local" / "share")):
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def start_background(ctx: Context, text: str, where: str) -> None:
    proc = subprocess.Popen(["bash", "-c", text], cwd=ctx.work, env=ctx.env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    ctx.background.append(proc)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    first = proc.stdout.readline() if ready else ""
    assert first, f"{where}: `{text}` printed nothing within 30 s (exit {proc.poll()})"


def stop_background(ctx: Context) -> None:
    for proc in ctx.background:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def run_guide(name: str, ctx: Context) -> int:
    """Run the guide's blocks in order; how many commands ran."""
    guide = read_guide(name)
    ran = 0
    for block in guide.blocks:
        marker = block.marker or ""
        if block.lang == "json" and _FILE.match(marker):
            (ctx.work / _FILE.match(marker)["name"]).write_text(substitute(block.text, name, ctx) + "\n")
            continue
        if block.lang != "sh" or _NOT_RUN.match(marker):
            continue
        for cmd in commands(block):
            where = f"{name}:{cmd.line}"
            text = substitute(cmd.text, name, ctx)
            ran += 1
            if re.search(r"&\s*(#.*)?$", text):
                start_background(ctx, re.sub(r"&\s*(#.*)?$", "", text), where)
                continue
            p = subprocess.run(["bash", "-c", text], cwd=ctx.work, env=ctx.env, capture_output=True, text=True,
                               timeout=600, check=False)
            assert p.returncode == cmd.expect, (
                f"{where}: `{text}` exited {p.returncode}, the guide says {cmd.expect}\n"
                f"--- stdout\n{p.stdout[-3000:]}\n--- stderr\n{p.stderr[-3000:]}")
            assert "Traceback (most recent call last)" not in p.stderr, f"{where}: {p.stderr[-3000:]}"
    return ran


@pytest.fixture
def context(tmp_path: Path) -> Iterator[Context]:
    work = tmp_path / "work"
    work.mkdir()
    # The guides are run from the top of a checkout; the files they name there are
    # read, never written.
    for name in ("tests", "native"):
        (work / name).symlink_to(ROOT / name)
    ctx = Context(work, environment(tmp_path))
    try:
        yield ctx
    finally:
        stop_background(ctx)


# -- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GUIDES)
def test_every_shell_block_says_whether_it_runs(name: str) -> None:
    guide = read_guide(name)
    assert "tests/test_guides.py" in guide.header, f"{name}: no header comment saying how it is tested"
    sh = [b for b in guide.blocks if b.lang == "sh"]
    assert sh, name
    for b in sh:
        assert b.marker is not None and (_RUNS.match(b.marker) or _NOT_RUN.match(b.marker)), \
            f"{name}:{b.line}: a sh block without a runs / not run marker (marker: {b.marker!r})"
        if _RUNS.match(b.marker):
            assert commands(b), f"{name}:{b.line}: a block that runs no command"
    for b in guide.blocks:
        if b.marker and _FILE.match(b.marker):
            assert b.lang == "json", f"{name}:{b.line}: a file block is json"
    assert any(_RUNS.match(b.marker or "") for b in sh), f"{name}: runs nothing"


@pytest.mark.parametrize("name", GUIDES)
def test_placeholders_are_documented_and_provided(name: str) -> None:
    guide = read_guide(name)
    assert guide.placeholders == set(PLACEHOLDERS[name])
    used = "\n".join(b.text for b in guide.blocks
                     if (b.lang == "sh" and _RUNS.match(b.marker or "")) or _FILE.match(b.marker or ""))
    for placeholder in PLACEHOLDERS[name]:
        assert placeholder in used, f"{name}: placeholder {placeholder!r} is in no block that runs"


def test_the_marker_rules() -> None:
    block = Block(1, "sh", "a\n# output\nb \\\n  --x   # exit 2\nc", "runs")
    assert [(c.text, c.expect) for c in commands(block)] == [("a", 0), ("b \\\n  --x   # exit 2", 2), ("c", 0)]
    block.marker = "runs, exit 1: stand-ins"
    assert [c.expect for c in commands(block)] == [1, 2, 1]
    block.marker = "runs, exits 0 3 1: each"
    assert [c.expect for c in commands(block)] == [0, 3, 1]
    block.marker = "runs, exits 0 1: too few"
    with pytest.raises(AssertionError, match="2 exit codes for 3 commands"):
        commands(block)


@pytest.mark.parametrize("name", GUIDES)
def test_guide_runs_as_written(name: str, context: Context) -> None:
    if name == "guide-vendor.md" and shutil.which("base64") is None:
        pytest.skip("the vendor guide makes a host token with coreutils' base64")
    assert run_guide(name, context) > 0, name
