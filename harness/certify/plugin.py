"""The teecert pytest plugin: options, fixtures and the hooks that make a report.

Inert unless ``--teecert-probe`` is given, so it does not disturb other pytest
sessions in the same environment.  Tests attach what they found to their own test
report (``user_properties``), so it survives pytest-xdist workers; only the
controller assembles the results and signs the report, once.
"""

from __future__ import annotations

import base64
import functools
import os
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
from ..vectors import testplan
from ..vectors.store import load_set
from . import hookspec, preflight, results
from .assemble import Hooks, RunState, now, write_report
from .results import RESULT_PROPERTY
from .session import Session

_SET_BY_RUN = "(set by teecert run)"


STATE = pytest.StashKey[RunState]()
SESSION = pytest.StashKey[Session]()
#: result id -> suite of every test the run has to report (``vectors.testplan``)
EXPECTED = pytest.StashKey[dict[str, str]]()


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
    g.addoption("--teecert-probe-token-file", metavar="FILE", default=None,
                help="the probe host's token (default: $TEECERT_HOST_TOKEN)")


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
              "probe_timeout": config.getoption("teecert_probe_timeout") or profile.probe_timeout,
              "probe_token_file": (Path(config.getoption("teecert_probe_token_file"))
                                   if config.getoption("teecert_probe_token_file") else None)}
    try:
        config.stash[SESSION] = Session(probe_path, profile, vs, seed, **remote)
    except TeecertError as e:  # the token file
        raise pytest.UsageError(str(e)) from None
    if winput is not None:
        return
    rdir = config.getoption("teecert_report_dir")
    key = config.getoption("teecert_key")
    cmd = config.getoption("teecert_command")
    if rdir is not None:  # a run that writes a report is a certification
        try:
            preflight.check_pytest_options(lambda name: config.getoption(name, None),
                                           list(config.option.plugins or ()),
                                           list(config.getoption("override_ini", None) or ()),
                                           os.environ.get("PYTEST_PLUGINS"))
            _check_conftests(config)
        except TeecertError as e:
            raise pytest.UsageError(str(e)) from None
    config.stash[EXPECTED] = testplan.expected_tests(profile.data, vs)
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


# -- what runs: the suites teecert ships, and only they ---------------------------


@functools.cache
def _suites_dir() -> Path:
    return preflight.suites_path().resolve()


def _check_conftests(config: pytest.Config) -> None:
    """A conftest.py outside the suites folder is code the run did not ship: its
    fixtures and hooks could decide what a test finds."""
    suites = _suites_dir()
    for plugin in config.pluginmanager.get_plugins():
        f = getattr(plugin, "__file__", None)
        if isinstance(f, str) and Path(f).name == "conftest.py" and not Path(f).resolve().is_relative_to(suites):
            raise TeecertError(f"{f}: a conftest.py outside teecert's suites ({suites}) cannot be part "
                               f"of a certification run; run pytest from elsewhere, or with --rootdir {suites}")


def _item_result_id(item: pytest.Item, suites: Path) -> str | None:
    """The result id of ``item``: its node id relative to the suites folder, whichever
    folder pytest started from; None for a test whose module is not in the suites."""
    try:
        rel = item.path.resolve().relative_to(suites)
    except ValueError:
        return None
    return rel.as_posix() + "::" + item.nodeid.partition("::")[2]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Name every collected test by its result id, in the process that collects it
    (an xdist worker sends it with each of the test's reports), and refuse, before
    anything runs, tests that are not teecert's suites."""
    if not _active(config):
        return
    suites = _suites_dir()
    foreign = []
    for item in items:
        rid = _item_result_id(item, suites)
        item.user_properties.insert(0, (ID_PROPERTY, rid))
        if rid is None:
            foreign.append(f"{item.path}::{item.nodeid.partition('::')[2]}")
    if hasattr(config, "workerinput") or config.getoption("teecert_report_dir") is None:
        return
    try:
        if foreign:
            raise TeecertError(_foreign_message(foreign))
        _check_conftests(config)
    except TeecertError as e:
        raise pytest.UsageError(str(e)) from None


# -- collecting results (controller) ---------------------------------------------

#: the ``user_properties`` key under which each test carries its result id
ID_PROPERTY = "teecert_id"
_foreign: list[str] = []


def _foreign_message(tests: list[str]) -> str:
    more = f" ({len(tests)} such tests)" if len(tests) > 1 else ""
    return (f"{tests[0]}: a test from outside teecert's suites ({_suites_dir()}); a certification runs "
            f"those suites and nothing else{more}")


def _report_id(config: pytest.Config, report: pytest.TestReport) -> str | None:
    """The result id of the test ``report`` is about (None, noted, for a test outside
    the suites): the first id its collection gave it, which nothing that runs later
    can shadow."""
    for key, value in report.user_properties:
        if key == ID_PROPERTY:
            if not isinstance(value, str):
                where = f"{(config.rootpath / report.location[0]).resolve()}::{report.nodeid.partition('::')[2]}"
                if where not in _foreign:
                    _foreign.append(where)
                return None
            return value
    return _node_result_id(config, report.nodeid)


def _node_result_id(config: pytest.Config, nodeid: str) -> str:
    """The result id of a node that carries none (a collector): relative to the
    suites folder when it is in it, else its node id as it is."""
    return results.suite_relative(nodeid, config.rootpath, _suites_dir()) or nodeid


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = _controller_config
    if config is None:
        return
    state = config.stash.get(STATE, None)
    if state is None:
        return
    rid = _report_id(config, report)
    if rid is None:
        return
    row = results.row_of(report, state.results.get(rid), rid)
    if row is not None:
        state.results[rid] = row


def pytest_collectreport(report: pytest.CollectReport) -> None:
    config = _controller_config
    if config is None or report.outcome != "failed":
        return
    state = config.stash.get(STATE, None)
    if state is None:
        return
    row = results.collection_error_row(report, _node_result_id(config, report.nodeid))
    state.results[row["id"]] = row


_controller_config: pytest.Config | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    global _controller_config, _deselected
    _deselected = 0
    _controller_config = None
    _foreign.clear()
    if _active(session.config) and not hasattr(session.config, "workerinput"):
        _controller_config = session.config


def _worker_summary(session: pytest.Session) -> dict[str, Any] | None:
    sess = session.config.stash.get(SESSION, None)
    if sess is None or sess._probe is None:
        return None
    ok, message = sess.probe.transcript_check()
    probe = sess.probe.probe
    t, calls = probe.transcript()
    info: dict[str, Any] = {"ok": ok, "message": message, "hash": t.hex(), "calls": calls}
    # A probe host co-signs the transcript it served, with its key.
    sig, key = getattr(probe, "host_signature", None), getattr(probe, "host_signature_key", None)
    if sig is not None and key is not None:
        info["host_signature"] = base64.b64encode(sig).decode("ascii")
        info["host_public_key"] = base64.b64encode(key).decode("ascii")
    return info


def _transcript_entry(worker: str, info: dict[str, Any]) -> dict[str, Any]:
    """What the report records of one process's transcript."""
    entry = {"worker": worker, "hash": info["hash"], "calls": int(info["calls"])}
    for k in ("host_signature", "host_public_key"):
        if isinstance(info.get(k), str):
            entry[k] = info[k]
    return entry


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
        state.transcripts.append(_transcript_entry(worker, info))
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
        state.transcripts.append(_transcript_entry("main", info))
        state.results["transcript::main"] = results.transcript_row("main", info)
    if _deselected:
        _incomplete(state, f"{_deselected} tests deselected")
    if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR):
        _incomplete(state, f"pytest ended with {pytest.ExitCode(exitstatus).name}")
    if not state.results:
        _incomplete(state, "no test ran")
    refusal = _complete(state, config.stash[EXPECTED]) if state.report_dir is not None else None
    if refusal is not None or session.exitstatus == pytest.ExitCode.USAGE_ERROR:
        # what ran is not a certification run (or pytest refused the command line)
        if refusal is not None:
            config.stash[REPORT_ERROR] = refusal
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return
    if state.report_dir is not None:
        hooks = Hooks(environment=lambda fp: config.hook.pytest_teecert_environment(config=config, fingerprint=fp),
                      report=lambda st: config.hook.pytest_teecert_report(config=config, statement=st))
        try:
            write_report(state, hooks)
        except TeecertError as e:
            config.stash[REPORT_ERROR] = str(e)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR


REPORT_ERROR = pytest.StashKey[str]()


def _complete(state: RunState, expected: dict[str, str]) -> str | None:
    """Make the run's results complete: every test the profile and vector set ask
    for that has no row gets a skipped one, and the run is marked incomplete.  The
    reason to write no report at all when a test ran that is not one of those."""
    if _foreign:
        return _foreign_message(_foreign)
    found = testplan.gaps(state.results.values(), expected)
    if found.unexpected:
        more = f" ({len(found.unexpected)} such results)" if len(found.unexpected) > 1 else ""
        return f"{found.unexpected[0]}: not a test the profile and vector set ask for{more}"
    if found.relabelled:
        rid, claimed, suite = found.relabelled[0]
        return f"{rid}: recorded under suite {claimed}, but it is a test of suite {suite}"
    if found.missing:
        why = f"{len(found.missing)} of the {len(expected)} tests did not run, first {found.missing[0]}"
        for rid in found.missing:
            state.results[rid] = results.not_run_row(rid, expected[rid], "the run left it out or stopped early")
        prev = state.results.get(testplan.INCOMPLETE_ID)
        _incomplete(state, f"{prev['message'].removeprefix('incomplete run: ')}; {why}" if prev else why)
    return None


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
