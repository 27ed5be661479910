"""The teecert pytest plugin: options, fixtures and the hooks that make a report.

Inert unless ``--teecert-probe`` (``--teecert-probe-cmd``, ``--teecert-probe-url``, or
the ini key of the same name) is given, so it does not disturb other pytest sessions
in the same environment; given no test paths it runs the suites teecert ships.  Tests
attach what they found to their own test report (``user_properties``), so it
survives pytest-xdist workers; only the controller assembles the results and signs
the report, once.  A test of an advisory suite that diverges is reported to pytest
as an expected failure (xfail, with the divergence as its reason), so it fails
neither the session nor a JUnit file; its result row still records it as failed.
The session's exit status is the verdict's: 0 CERTIFIED, 1 NOT_CERTIFIED.
"""

from __future__ import annotations

import argparse
import base64
import functools
import gc
import json
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
from ..profile import BUILTIN as BUILTIN_PROFILES
from ..profile import load_profile
from ..report import verdict as verdicts
from ..vectors import challenge, testplan
from ..vectors.store import load_set
from . import hookspec, preflight, results, summary
from .assemble import Hooks, RunState, now, write_report
from .options import PROGRESS_OPTION
from .results import RESULT_PROPERTY
from .session import Session

#: Options only ``teecert run`` passes to its test process are left out of ``--help``.
_SET_BY_RUN = argparse.SUPPRESS

#: ini keys (pytest.ini, ``[tool.pytest.ini_options]``) that give the option of the
#: same name (``teecert_probe``: ``--teecert-probe``) its default: how the value is
#: read (a relative path is relative to the ini file), and what it is.
_INI = {
    "teecert_probe": ("path", "the probe library (enables the plugin)"),
    "teecert_probe_cmd": ("text", "probe host command (enables the plugin)"),
    "teecert_probe_url": ("text", "listening probe host (enables the plugin)"),
    "teecert_probe_timeout": ("seconds", "deadline of each call into the probe"),
    "teecert_probe_token_file": ("path", "the probe host's token file"),
    "teecert_profile": ("profile", "certification profile, a built-in name or a file"),
    "teecert_vectors": ("path", "vector set folder"),
    "teecert_report_dir": ("path", "folder of the signed report"),
    "teecert_key": ("path", "Ed25519 signing key"),
}


STATE = pytest.StashKey[RunState]()
SESSION = pytest.StashKey[Session]()
#: result id -> suite of every test the run has to report (``vectors.testplan``)
EXPECTED = pytest.StashKey[dict[str, str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("teecert", "teecert certification run")
    g.addoption("--teecert-probe", metavar="PATH", help="probe library to certify (enables the plugin)")
    g.addoption("--teecert-profile", metavar="NAME|FILE", default=None,
                help="certification profile (default: development)")
    g.addoption("--teecert-vectors", metavar="DIR", default=None, help="vector set folder (default: built in)")
    g.addoption("--teecert-report-dir", metavar="DIR", default=None, help="write the signed report here")
    g.addoption("--teecert-key", metavar="FILE", default=None, help="Ed25519 signing key (default: created on first use)")
    g.addoption("--teecert-run-id", default=None, help=_SET_BY_RUN)
    g.addoption("--teecert-nonce", default=None, help=_SET_BY_RUN)
    g.addoption("--teecert-seed", metavar="N", default=None, type=int, help="seed for the run's random choices")
    g.addoption("--teecert-challenge", metavar="HEX", default=None,
                help="a fresh challenge (16 to 64 bytes, e.g. a published block hash): adds the "
                     "challenge suite, streams derived from it")
    g.addoption("--teecert-command", default=None, help=_SET_BY_RUN)
    g.addoption(PROGRESS_OPTION, default=None, help=_SET_BY_RUN)
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
    for name, (_kind, what) in _INI.items():
        parser.addini(name, f"default of --{name.replace('_', '-')}: {what}", default="")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspec)


def _active(config: pytest.Config) -> bool:
    return bool(config.getoption("teecert_probe", None) or config.getoption("teecert_probe_cmd", None)
                or config.getoption("teecert_probe_url", None))


def _apply_ini(config: pytest.Config) -> None:
    """Options the command line left unset take the value of the ini key of their
    name, so a project's pytest.ini or ``[tool.pytest.ini_options]`` can name the
    probe and profile once."""
    base = config.inipath.parent if config.inipath else config.rootpath
    for name, (kind, _what) in _INI.items():
        if getattr(config.option, name, None) is not None:
            continue
        raw = str(config.getini(name) or "").strip()
        if not raw:
            continue
        value: Any = raw
        if kind == "path" or (kind == "profile" and raw not in BUILTIN_PROFILES):
            value = str(base / Path(raw).expanduser())
        elif kind == "seconds":
            try:
                value = float(raw)
            except ValueError:
                raise pytest.UsageError(f"{config.inipath}: {name} = {raw}: not a number of seconds") from None
        setattr(config.option, name, value)


def _suites_given(config: pytest.Config) -> bool:
    """Whether the command line named test paths (else pytest took an ini file's
    testpaths or the current folder)."""
    return config.args_source == pytest.Config.ArgsSource.ARGS


def pytest_configure(config: pytest.Config) -> None:
    _apply_ini(config)
    if not _active(config):
        return
    if not _suites_given(config):
        # No test paths on the command line: the suites teecert ships, not the
        # current folder's tests (or an ini file's testpaths).
        config.args = [str(_suites_dir())]
    config.addinivalue_line("markers", "teecert_suite(name): the suite a test belongs to")
    winput = getattr(config, "workerinput", None)
    try:
        profile = load_profile(config.getoption("teecert_profile") or "development")
        vdir = config.getoption("teecert_vectors")
        vs = load_set(Path(vdir) if vdir else None)
        preflight.check_pinned_vectors(profile, vs)
        preflight.check_profile_plan(profile, vs, f"profile {profile.id}")
    except TeecertError as e:
        raise pytest.UsageError(str(e)) from None
    try:
        given_challenge = config.getoption("teecert_challenge")
        value = challenge.parse(given_challenge, "--teecert-challenge") if given_challenge else None
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
        config.stash[SESSION] = Session(probe_path, profile, vs, seed, challenge=value, **remote)
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
    config.stash[EXPECTED] = testplan.expected_tests(profile.data, vs, challenged=value is not None)
    config.stash[STATE] = RunState(
        probe_path=probe_path,
        profile=profile,
        vector_set=vs,
        run_id=config.getoption("teecert_run_id") or str(uuid.uuid4()),
        nonce=config.getoption("teecert_nonce") or secrets.token_hex(32),
        seed=seed,
        challenge=value,
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


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The challenge suite exists only in a run given a challenge."""
    if (_active(config) and collection_path.name == testplan.CHALLENGE_MODULE
            and not config.getoption("teecert_challenge")
            and collection_path.resolve().parent == _suites_dir()):
        return True
    return None


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


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what start-up and collection made (modules, the vector set, the test
    items: all of it lives to the end of the run) out of the cyclic collector's
    generations, which otherwise walks it again at every full collection."""
    if _active(session.config):
        gc.collect()
        gc.freeze()


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """A phase of an advisory suite's test that failed is told to pytest as an expected
    failure, with the divergence as its reason: the profile reports it without failing
    the run, so neither the session's exit status nor a JUnit file may call it a
    failure.  The phase's own outcome stays on the report for its result row."""
    rep: pytest.TestReport = yield
    sess = item.config.stash.get(SESSION, None)
    if sess is None or not rep.failed or hasattr(rep, "wasxfail"):
        return rep
    rid = dict(rep.user_properties).get(ID_PROPERTY)
    props = dict(rep.user_properties).get(RESULT_PROPERTY)
    suite = props.get("suite") if isinstance(props, dict) and props.get("suite") else None
    suite = suite or (results.suite_of(rid) if isinstance(rid, str) else None)
    if suite is None or sess.profile.suites.get(suite) != "advisory":
        return rep
    why = (props.get("message") if isinstance(props, dict) else None) or results.message_of(rep)
    rep.user_properties = [*rep.user_properties, (results.ADVISORY_PROPERTY, rep.outcome)]
    rep.outcome = "skipped"
    rep.wasxfail = f"advisory divergence (suite {suite} is advisory under profile {sess.profile.id}): {why}"
    return rep


def _as_json(value: Any) -> Any:
    """A property value as pytest's JUnit XML writes it (``str()``): what is
    structured goes as JSON, never as a Python repr."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return value


@pytest.hookimpl(wrapper=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> Generator[None, None, None]:
    """The controller records the test's result row first; the other plugins (JUnit
    XML) then see the test's properties with structured values as JSON."""
    config = _controller_config
    state = config.stash.get(STATE, None) if config is not None else None
    if config is None or state is None:
        return (yield)
    rid = _report_id(config, report)
    if rid is not None:
        row = results.row_of(report, state.results.get(rid), rid)
        if row is not None:
            state.results[rid] = row
            _progress({"id": rid, "suite": row["suite"], "outcome": row["outcome"], "vectors": row["vectors"]})
    original = report.user_properties
    report.user_properties = [(k, _as_json(v)) for k, v in original]
    try:
        return (yield)
    finally:
        report.user_properties = original


def pytest_collectreport(report: pytest.CollectReport) -> None:
    config = _controller_config
    if config is None or report.outcome != "failed":
        return
    state = config.stash.get(STATE, None)
    if state is None:
        return
    row = results.collection_error_row(report, _node_result_id(config, report.nodeid))
    state.results[row["id"]] = row
    _progress({"id": row["id"], "suite": row["suite"], "outcome": row["outcome"], "vectors": 0})


_controller_config: pytest.Config | None = None
#: ``teecert run``'s progress file (PROGRESS_OPTION), open on the controller
_progress_file: Any = None


def _progress(event: dict[str, Any]) -> None:
    """One progress event for ``teecert run`` (nothing when pytest runs on its own)."""
    if _progress_file is None:
        return
    try:
        _progress_file.write(json.dumps(event, separators=(",", ":")) + "\n")
        _progress_file.flush()
    except (OSError, ValueError):
        pass  # progress is a courtesy: the report decides, never this file


def _close_progress() -> None:
    global _progress_file
    if _progress_file is not None:
        try:
            _progress_file.close()
        except OSError:
            pass
        _progress_file = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    global _controller_config, _deselected, _progress_file
    _deselected = 0
    _controller_config = None
    _foreign.clear()
    _close_progress()
    if _active(session.config) and not hasattr(session.config, "workerinput"):
        _controller_config = session.config
        where = session.config.getoption("teecert_progress", None)
        if where:
            try:
                _progress_file = open(where, "a", encoding="utf-8")  # open for the whole session
            except OSError as e:
                raise pytest.UsageError(f"{PROGRESS_OPTION} {where}: {e.strerror}") from None
            plan: dict[str, int] = {}
            for suite in session.config.stash.get(EXPECTED, {}).values():
                plan[suite] = plan.get(suite, 0) + 1
            _progress({"plan": plan})


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
    try:
        _finish(session, state)
    finally:
        _close_progress()


def _finish(session: pytest.Session, state: RunState) -> None:
    """Write the report (or judge the run that writes none), and make the session's
    exit status the verdict's."""
    config = session.config
    refusal = _complete(state, config.stash[EXPECTED]) if state.report_dir is not None else None
    if refusal is not None or session.exitstatus == pytest.ExitCode.USAGE_ERROR:
        # what ran is not a certification run (or pytest refused the command line)
        if refusal is not None:
            config.stash[REPORT_ERROR] = refusal
            _progress({"error": refusal})
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return
    if state.report_dir is None:
        partial = _partial(state, config.stash[EXPECTED])
        if partial is not None:
            # A run narrowed down by hand (-k, -x, some paths) judges nothing: a
            # verdict without the tests it left out would have no reasons to give.
            config.stash[PARTIAL] = partial
            return
        verdict = verdicts.compute(state.results.values(), state.profile)
        config.stash[VERDICT] = verdict
    else:
        hooks = Hooks(environment=lambda fp: config.hook.pytest_teecert_environment(config=config, fingerprint=fp),
                      report=lambda st: config.hook.pytest_teecert_report(config=config, statement=st))
        try:
            write_report(state, hooks)
        except TeecertError as e:
            config.stash[REPORT_ERROR] = str(e)
            _progress({"error": str(e)})
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        if state.statement is None:
            _progress({"pending": str(state.pending_path)})
            return
        verdict = state.statement["predicate"]["verdict"]
        _progress({"report": str(state.report_path), "verdict": verdict["result"]})
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED):
        certified = verdict["result"] == verdicts.CERTIFIED
        session.exitstatus = pytest.ExitCode.OK if certified else pytest.ExitCode.TESTS_FAILED


REPORT_ERROR = pytest.StashKey[str]()
#: the verdict of a run that writes no report but ran every test
VERDICT = pytest.StashKey[dict[str, Any]]()
#: why a run that writes no report gives no verdict
PARTIAL = pytest.StashKey[str]()


def _partial(state: RunState, expected: dict[str, str]) -> str | None:
    """Why the results are not those of a whole run (None when they are)."""
    if _foreign:
        return f"it ran tests from outside the suites, first {_foreign[0]}"
    prev = state.results.get(testplan.INCOMPLETE_ID)
    if prev is not None:
        return str(prev["message"]).removeprefix("incomplete run: ")
    found = testplan.gaps(state.results.values(), expected)
    if found.missing:
        ran = len(expected) - len(found.missing)
        return f"only {ran} of the {len(expected)} tests ran"
    if found.unexpected:
        return f"{found.unexpected[0]} is not a test the profile and vector set ask for"
    if found.relabelled:
        rid, claimed, suite = found.relabelled[0]
        return f"{rid} was recorded under suite {claimed}, but it is a test of suite {suite}"
    return None


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
    if config.getoption("teecert_progress", None):
        return  # teecert run prints the summary itself
    partial = config.stash.get(PARTIAL, None)
    if partial is not None:
        tr.write_sep("=", "teecert: partial run, no verdict")
        tr.write_line(f"{partial}: a verdict needs every test the profile asks for "
                      "(run without -k, -x or test paths)")
        return
    if state.statement is not None:
        verdict = state.statement["predicate"]["verdict"]
        rows = state.statement["predicate"]["results"]
    elif VERDICT in config.stash:
        verdict, rows = config.stash[VERDICT], list(state.results.values())
    else:
        return
    suites = verdicts.summarize_suites(rows, state.profile)
    text = summary.verdict_text(verdict, suites, state.profile)
    tr.write_sep("=", ("teecert verdict: " if state.statement else "teecert verdict, no report written: ") + text,
                 green=verdict["result"] == verdicts.CERTIFIED, red=verdict["result"] != verdicts.CERTIFIED)
    for line in summary.suite_table(suites):
        tr.write_line(line)
    for line in summary.reason_lines(verdict["reasons"]):
        tr.write_line(line)
    tr.write_line(summary.profile_line(state.profile))
    if state.statement is not None:
        tr.write_line(f"signed report: {state.report_path}")
    else:
        tr.write_line("no report written: pass --teecert-report-dir DIR for a signed one")
