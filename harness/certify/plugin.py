"""The teecert pytest plugin: options, fixtures and the hooks that make a report.

Inert unless ``--teecert-probe`` is given, so it does not disturb other pytest
sessions in the same environment.  Tests attach what they found to their own test
report (``user_properties``), so it survives pytest-xdist workers; only the
controller assembles the results and signs the report, once.
"""

from __future__ import annotations

import secrets
import sys
import uuid
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from .._internal.version import __version__
from ..errors import TeecertError
from ..profile import load_profile
from ..vectors.store import load_set
from . import hookspec, preflight, results
from .assemble import Hooks, RunState, now, write_report
from .results import RESULT_PROPERTY
from .session import Session

_SET_BY_RUN = "(set by teecert run)"


STATE = pytest.StashKey[RunState]()
SESSION = pytest.StashKey[Session]()


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
    # or reach the probe through a probe host instead of loading it in process
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
        preflight.check_pinned_vectors(profile, vs)
        preflight.check_profile_plan(profile, vs, f"profile {profile.id}")
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
    # a host command or URL replaces the in-process probe
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
        started=now(),
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


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = _controller_config
    if config is None:
        return
    state = config.stash.get(STATE, None)
    if state is None:
        return
    row = results.row_of(report, state.results.get(report.nodeid))
    if row is not None:
        state.results[report.nodeid] = row


def pytest_collectreport(report: pytest.CollectReport) -> None:
    config = _controller_config
    if config is None or report.outcome != "failed":
        return
    state = config.stash.get(STATE, None)
    if state is None:
        return
    row = results.collection_error_row(report)
    state.results[row["id"]] = row


_controller_config: pytest.Config | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    global _controller_config, _deselected
    _deselected = 0
    _controller_config = None
    if _active(session.config) and not hasattr(session.config, "workerinput"):
        _controller_config = session.config


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
            **results.transcript_row(worker, {"ok": False, "message": f"worker {worker} crashed: {error}"}),
            "id": f"worker::{worker}",
        }
    if info:
        state.transcripts.append({"worker": worker, "hash": info["hash"], "calls": int(info["calls"])})
        state.results[f"transcript::{worker}"] = results.transcript_row(worker, info)
    if out.get("teecert_deselected"):
        _incomplete(state, f"{out['teecert_deselected']} tests deselected on {worker}")


def _incomplete(state: RunState, why: str) -> None:
    state.results["session::complete"] = results.incomplete_row(why)


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
        state.results["transcript::main"] = results.transcript_row("main", info)
    if _deselected:
        _incomplete(state, f"{_deselected} tests deselected")
    if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR):
        _incomplete(state, f"pytest ended with {pytest.ExitCode(exitstatus).name}")
    if not state.results:
        _incomplete(state, "no test ran")
    if state.report_dir is not None:
        hooks = Hooks(environment=lambda fp: config.hook.pytest_teecert_environment(config=config, fingerprint=fp),
                      report=lambda st: config.hook.pytest_teecert_report(config=config, statement=st))
        try:
            write_report(state, hooks)
        except TeecertError as e:
            config.stash[REPORT_ERROR] = str(e)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR


REPORT_ERROR = pytest.StashKey[str]()


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
