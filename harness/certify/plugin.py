"""The teecert pytest plugin: options, fixtures and the hooks that make a report.

Inert unless ``--teecert-probe`` is given, so it does not disturb other pytest
sessions in the same environment.  Tests attach what they found to their own test
report (``user_properties``), so it survives pytest-xdist workers; only the
controller assembles the results and signs the report, once.
"""

from __future__ import annotations

import datetime as _dt
import os
import secrets
import sys
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .. import __version__
from ..attestation import run_evidence
from ..errors import TeecertError
from ..probe.remote import open_probe
from ..profile import Profile, load_profile
from ..report import keys
from ..report import statement as report
from ..vectors.store import VectorSet, load_set
from . import hookspec, pending
from .facts import fingerprint as environment
from .facts.characterization import characterize
from .judge import environment as environment_checks
from .session import Session

RESULT_PROPERTY = "teecert"
_SET_BY_RUN = "(set by teecert run)"


@dataclass
class RunState:
    """Controller-side state of one certification run."""

    probe_path: Path | None
    profile: Profile
    vector_set: VectorSet
    run_id: str
    nonce: str
    seed: int
    started: str
    report_dir: Path | None
    key_path: Path | None
    command: list[str]
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    transcripts: list[dict[str, Any]] = field(default_factory=list)
    workers: int = 0
    report_path: Path | None = None
    statement: dict[str, Any] | None = None
    pending: bool = False
    pending_path: Path | None = None
    report_data: bytes | None = None
    # Transport wiring (issue 3): the probe host command or URL, when not in process.
    probe_cmd: str | None = None
    probe_url: str | None = None
    probe_timeout: float = 30.0


STATE = pytest.StashKey[RunState]()
SESSION = pytest.StashKey[Session]()


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("teecert", "teecert certification run")
    g.addoption("--teecert-probe", metavar="PATH", help="probe library to certify (enables the plugin)")
    g.addoption("--teecert-profile", metavar="NAME|FILE", default="development", help="certification profile")
    g.addoption("--teecert-vectors", metavar="DIR", default=None, help="vector set folder (default: built in)")
    g.addoption("--teecert-report-dir", metavar="DIR", default=None, help="write the signed report here")
    g.addoption("--teecert-key", metavar="FILE", default=None, help="Ed25519 signing key (default: created on first use)")
    g.addoption("--teecert-run-id", default=None, help=_SET_BY_RUN)
    g.addoption("--teecert-nonce", default=None, help=_SET_BY_RUN)
    g.addoption("--teecert-seed", default=None, type=int, help="seed for the run's random choices")
    g.addoption("--teecert-command", default=None, help=_SET_BY_RUN)
    g.addoption("--teecert-print-report-data", action="store_true", default=False,
                help="do not attest through the probe: write a pending run and print the report data to attest")
    # Transport wiring (issue 3): reach the probe through the probe host instead.
    g.addoption("--teecert-probe-cmd", metavar="CMD", default=None,
                help="probe host command serving the probe on its stdio (enables the plugin)")
    g.addoption("--teecert-probe-url", metavar="URL", default=None,
                help="listening probe host: tcp://HOST:PORT, unix:PATH, vsock://CID:PORT (enables the plugin)")
    g.addoption("--teecert-probe-timeout", metavar="SECONDS", type=float, default=None,
                help="deadline of each call to a probe host (default: the profile's "
                     "probe_timeout, else 30)")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:

    pluginmanager.add_hookspecs(hookspec)


def _active(config: pytest.Config) -> bool:
    return bool(config.getoption("teecert_probe", None) or config.getoption("teecert_probe_cmd", None)
                or config.getoption("teecert_probe_url", None))


def pytest_configure(config: pytest.Config) -> None:
    if not _active(config):
        return
    config.addinivalue_line("markers", "teecert_suite(name): the suite a test belongs to")
    winput = getattr(config, "workerinput", None)
    try:
        profile = load_profile(config.getoption("teecert_profile"))
        vdir = config.getoption("teecert_vectors")
        vs = load_set(Path(vdir) if vdir else None)
        from .run import check_pinned_vectors

        check_pinned_vectors(profile, vs)
        from .run import check_profile_plan

        check_profile_plan(profile, vs, f"profile {profile.id}")
    except TeecertError as e:
        raise pytest.UsageError(str(e)) from None
    if winput is not None:  # an xdist worker: the controller chose seed and ids
        seed = int(winput["teecert_seed"])
    else:
        seed = config.getoption("teecert_seed")
        if seed is None:
            seed = secrets.randbits(63)
    given = config.getoption("teecert_probe")
    probe_path = Path(given).resolve() if given else None
    # Transport wiring (issue 3): a host command or URL replaces the in-process probe.
    remote = {"probe_cmd": config.getoption("teecert_probe_cmd"),
              "probe_url": config.getoption("teecert_probe_url"),
              "probe_timeout": config.getoption("teecert_probe_timeout") or profile.probe_timeout}
    config.stash[SESSION] = Session(probe_path, profile, vs, seed, **remote)
    if winput is not None:
        return
    rdir = config.getoption("teecert_report_dir")
    key = config.getoption("teecert_key")
    cmd = config.getoption("teecert_command")
    config.stash[STATE] = RunState(
        probe_path=probe_path,
        profile=profile,
        vector_set=vs,
        run_id=config.getoption("teecert_run_id") or str(uuid.uuid4()),
        nonce=config.getoption("teecert_nonce") or secrets.token_hex(32),
        seed=seed,
        started=_now(),
        report_dir=Path(rdir) if rdir else None,
        key_path=Path(key) if key else None,
        command=cmd.split("\x1f") if cmd else ["pytest", *sys.argv[1:]],
        pending=bool(config.getoption("teecert_print_report_data")),
        **remote,
    )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: hand the run's seed to every worker."""
    state = node.config.stash.get(STATE, None)
    if state is not None:
        node.workerinput["teecert_seed"] = str(state.seed)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if not _active(config) or STATE not in config.stash:
        return None
    st = config.stash[STATE]
    return [
        f"teecert {__version__}: probe {st.probe_cmd or st.probe_url or st.probe_path}",
        f"profile {st.profile.id} v{st.profile.version} ({st.profile.digest[:16]}), "
        f"vectors {st.vector_set.name} ({st.vector_set.digest[:16]}), seed {st.seed}, run {st.run_id}",
    ]


# -- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="session")
def teecert_session(pytestconfig: pytest.Config) -> Session:
    if SESSION not in pytestconfig.stash:
        pytest.skip("not a teecert run: pass --teecert-probe (or use `teecert run`)")
    return pytestconfig.stash[SESSION]


@pytest.fixture
def teecert_record(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``teecert_record(op=..., kind=..., vectors=..., ...)``: what this test found."""

    def record(**fields: Any) -> None:
        props = request.node.user_properties
        for i, (k, v) in enumerate(props):
            if k == RESULT_PROPERTY:
                props[i] = (k, {**v, **fields})
                return
        props.append((RESULT_PROPERTY, dict(fields)))

    return record


# -- collecting results (controller) ---------------------------------------------


def _suite_of(nodeid: str) -> str:
    name = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    if name.endswith(".py"):
        name = name[:-3]
    return name[5:] if name.startswith("test_") else name


def _message(rep: pytest.TestReport) -> str:
    crash = getattr(rep.longrepr, "reprcrash", None)
    if crash is not None:
        text = str(crash.message)
    elif isinstance(rep.longrepr, tuple) and len(rep.longrepr) == 3:
        text = str(rep.longrepr[2])  # skip: (file, line, reason)
    else:
        text = str(rep.longrepr or "")
    text = text.strip().splitlines()[0] if text.strip() else ""
    for prefix in ("Failed: ", "Skipped: "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text[:500]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = _controller_config
    if config is None:
        return
    state = config.stash.get(STATE, None)
    if state is None:
        return
    props = dict(report.user_properties).get(RESULT_PROPERTY, {})
    if not isinstance(props, dict):
        props = {}
    outcome: str
    if report.when == "call":
        outcome = report.outcome
    elif report.when == "setup" and report.outcome != "passed":
        outcome = "error" if report.outcome == "failed" else "skipped"
    elif report.when == "teardown" and report.outcome == "failed":
        outcome = "error"
    else:
        return
    if outcome == "skipped" and props.get("unsupported"):
        outcome = "unsupported"
    prev = state.results.get(report.nodeid)
    msg = props.get("message") or ("" if outcome == "passed" else _message(report))
    entry = {
        "id": report.nodeid,
        "suite": props.get("suite") or _suite_of(report.nodeid),
        "op": props.get("op"),
        "kind": props.get("kind", "check"),
        "outcome": outcome,
        "message": str(msg)[:500],
        "vectors": int(props.get("vectors", 0)),
        "failures": int(props.get("failures", 0)),
        "root": props.get("root"),
        "expected_root": props.get("expected_root"),
        "divergence": props.get("divergence"),
        "duration_ms": int(report.duration * 1000) + (prev["duration_ms"] if prev else 0),
    }
    if prev is not None and report.when == "teardown":
        entry = {**prev, "outcome": "error", "message": entry["message"], "duration_ms": entry["duration_ms"]}
    state.results[report.nodeid] = entry


def pytest_collectreport(report: pytest.CollectReport) -> None:
    config = _controller_config
    if config is None or report.outcome != "failed":
        return
    state = config.stash.get(STATE, None)
    if state is None:
        return
    nodeid = report.nodeid or "collection"
    state.results[nodeid] = {
        "id": nodeid,
        "suite": _suite_of(nodeid) if nodeid.endswith(".py") else "probe",
        "op": None,
        "kind": "check",
        "outcome": "error",
        "message": ("collection failed: " + str(report.longrepr).strip().splitlines()[-1])[:500],
        "vectors": 0,
        "failures": 0,
        "root": None,
        "expected_root": None,
        "divergence": None,
        "duration_ms": 0,
    }


_controller_config: pytest.Config | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    global _controller_config, _deselected
    _deselected = 0
    _controller_config = None
    if _active(session.config) and not hasattr(session.config, "workerinput"):
        _controller_config = session.config


def _transcript_entry(worker: str, info: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"transcript::{worker}",
        "suite": "probe",
        "op": None,
        "kind": "check",
        "outcome": "passed" if info["ok"] else "failed",
        "message": info["message"][:500],
        "vectors": 0,
        "failures": 0 if info["ok"] else 1,
        "root": None,
        "expected_root": None,
        "divergence": None,
        "duration_ms": 0,
    }


def _worker_summary(session: pytest.Session) -> dict[str, Any] | None:
    sess = session.config.stash.get(SESSION, None)
    if sess is None or sess._probe is None:
        return None
    ok, message = sess.probe.transcript_check()
    t, calls = sess.probe.probe.transcript()
    return {"ok": ok, "message": message, "hash": t.hex(), "calls": calls}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    config = node.config
    state = config.stash.get(STATE, None)
    if state is None:
        return
    worker = str(node.gateway.id)
    state.workers += 1
    out = getattr(node, "workeroutput", {}) or {}
    info = out.get("teecert_transcript")
    if error:
        state.results[f"worker::{worker}"] = {
            **_transcript_entry(worker, {"ok": False, "message": f"worker {worker} crashed: {error}"}),
            "id": f"worker::{worker}",
        }
    if info:
        state.transcripts.append({"worker": worker, "hash": info["hash"], "calls": int(info["calls"])})
        state.results[f"transcript::{worker}"] = _transcript_entry(worker, info)
    if out.get("teecert_deselected"):
        _mark_incomplete(state, f"{out['teecert_deselected']} tests deselected on {worker}")


def _mark_incomplete(state: RunState, why: str) -> None:
    state.results["session::complete"] = {
        **_transcript_entry("session", {"ok": False, "message": f"incomplete run: {why}"}),
        "id": "session::complete",
    }


_deselected = 0


def pytest_deselected(items: list[pytest.Item]) -> None:
    global _deselected
    _deselected += len(items)


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Generator[None, None, None]:
    config = session.config
    if not _active(config):
        yield
        return
    winput = getattr(config, "workerinput", None)
    if winput is not None:  # xdist worker: hand the transcript to the controller
        info = _worker_summary(session)
        if info:
            config.workeroutput["teecert_transcript"] = info  # type: ignore[attr-defined]
        if _deselected:
            config.workeroutput["teecert_deselected"] = _deselected  # type: ignore[attr-defined]
        yield
        return
    yield
    state = config.stash.get(STATE, None)
    if state is None:
        return
    info = _worker_summary(session)
    if info:
        state.workers = max(state.workers, 1)
        state.transcripts.append({"worker": "main", "hash": info["hash"], "calls": int(info["calls"])})
        state.results["transcript::main"] = _transcript_entry("main", info)
    if _deselected:
        _mark_incomplete(state, f"{_deselected} tests deselected")
    if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR):
        _mark_incomplete(state, f"pytest ended with {pytest.ExitCode(exitstatus).name}")
    if not state.results:
        _mark_incomplete(state, "no test ran")
    if state.report_dir is not None:
        try:
            _write_report(config, state)
        except TeecertError as e:
            config.stash[REPORT_ERROR] = str(e)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR


REPORT_ERROR = pytest.StashKey[str]()


def _write_report(config: pytest.Config, state: RunState) -> None:
    # Transport wiring (issue 3): the report's probe is reached as the tests reached it.

    probe = open_probe(path=state.probe_path, cmd=state.probe_cmd, url=state.probe_url,
                       timeout=state.probe_timeout)
    try:
        _write_report_with(config, state, probe)
    finally:
        close = getattr(probe, "close", None)
        if close is not None:
            close()


def _write_report_with(config: pytest.Config, state: RunState, probe: Any) -> None:
    description = probe.description
    fp = environment.fingerprint(description, probe.digest)
    # The extended facts (core counts, libc version, the consensus process's affinity
    # and locked memory); the identity digest still covers IDENTITY_FIELDS only.
    fp = environment_checks.extended_fingerprint(
        fp, description, pid=getattr(probe, "child_pid", None) or os.getpid())
    config.hook.pytest_teecert_environment(config=config, fingerprint=fp)
    key = keys.load_private(state.key_path) if state.key_path else keys.load_or_create_default()
    transcripts = sorted(state.transcripts, key=lambda t: t["worker"])
    parts: dict[str, Any] = {
        "harness": {"name": "teecert", "version": __version__, "source_digest": report.source_digest()},
        "run": {
            "id": state.run_id,
            "nonce": state.nonce,
            "seed": str(state.seed),
            "started": state.started,
            "finished": _now(),
            "transport": getattr(probe, "transport", "in-process"),
            "workers": max(state.workers, 1),
            "command": state.command,
        },
        "vector_set": {"name": state.vector_set.name, "version": state.vector_set.version,
                       "digest": state.vector_set.digest},
        "probe": {
            "path": str(probe.path),
            "digest": probe.digest,
            "abi_version": probe.abi_version,
            "description": description,
            "transcripts": transcripts,
            "characterization": characterize(probe),
        },
        "environment": {"fingerprint": fp, "digest": environment.identity_digest(fp)},
        "results": [state.results[k] for k in sorted(state.results)],
    }
    pub_b64 = keys.public_raw_b64(key.public_key())
    assert state.report_dir is not None
    if state.pending:
        state.pending_path, state.report_data = pending.write(
            state.report_dir, parts=parts, profile_doc=state.profile.data, signer_public_key=pub_b64)
        return
    # Attestation comes last: its report data binds the final results and transcripts.
    attestation, att_row = run_evidence.collect(
        probe=probe, profile_data=state.profile.data, nonce=state.nonce, results=parts["results"],
        signer_public_key=pub_b64, transcripts=transcripts,
        now=_dt.datetime.now(_dt.UTC).replace(microsecond=0), measurement=bytes.fromhex(probe.digest),
    )
    state.results[att_row["id"]] = att_row
    statement = report.build_statement(
        **{**parts, "results": [state.results[k] for k in sorted(state.results)]},
        profile=state.profile,
        signer_pub=key.public_key(),
        attestation=attestation,
    )
    envelope = report.sign_statement(statement, key)
    state.report_path = report.write_report(state.report_dir, envelope, statement)
    state.statement = statement
    config.hook.pytest_teecert_report(config=config, statement=statement)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None:
        return
    tr = terminalreporter
    err = config.stash.get(REPORT_ERROR, None)
    if err:
        tr.write_line(f"teecert: no report written: {err}", red=True)
        return
    if state.pending_path is not None and state.report_data is not None:
        tr.write_sep("=", "teecert: waiting for attestation evidence")
        tr.write_line(f"report data: {state.report_data.hex()}")
        tr.write_line(f"pending run: {state.pending_path}")
        return
    if state.statement is None:
        return
    verdict = state.statement["predicate"]["verdict"]
    tr.write_sep("=", f"teecert verdict: {verdict['result']}", green=verdict["result"] == "CERTIFIED",
                 red=verdict["result"] != "CERTIFIED")
    for reason in verdict["reasons"][:20]:
        tr.write_line(f"  {reason.get('code')}: {reason.get('test') or reason.get('suite')}: {reason.get('message', '')}"[:200])
    if len(verdict["reasons"]) > 20:
        tr.write_line(f"  ... and {len(verdict['reasons']) - 20} more reasons (see the report)")
    tr.write_line(f"signed report: {state.report_path}")
