"""Assemble a run's signed report once its tests are done: the environment
fingerprint and characterization teecert observes, the results, attestation
evidence bound to all of it, then the signed statement (or a pending run that waits
for evidence obtained out of band).  Only the controller process does this, once."""

from __future__ import annotations

import base64
import datetime as _dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._internal.timefmt import format_time
from .._internal.version import __version__
from ..attestation import run_evidence
from ..probe import hostkey
from ..probe.remote import open_probe
from ..profile import Profile
from ..report import keys
from ..report import statement as report
from ..vectors.store import VectorSet
from . import pending
from .facts import fingerprint as environment
from .facts.characterization import characterize
from .judge import environment as environment_checks


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
    # how the tests reached the probe, when not in process: a host command or URL
    probe_cmd: str | None = None
    probe_url: str | None = None
    probe_timeout: float = 30.0
    # the file holding the probe host's token (else $TEECERT_HOST_TOKEN, if set)
    probe_token_file: Path | None = None
    #: the run's challenge (``vectors.challenge``), or None
    challenge: bytes | None = None




def now() -> str:
    """The current time as the report writes it."""
    return format_time(_dt.datetime.now(_dt.UTC))


@dataclass
class Hooks:
    """The plugin hooks assembling calls, so vendors' plugins can add facts and see
    the statement (hookspec.py)."""

    environment: Callable[[dict[str, Any]], None]
    report: Callable[[dict[str, Any]], None]


def write_report(state: RunState, hooks: Hooks) -> None:
    """Assemble, attest, sign and write the run's report (or its pending run) into
    ``state``; the report's probe is reached as the tests reached it."""
    probe = open_probe(path=state.probe_path, cmd=state.probe_cmd, url=state.probe_url,
                       timeout=state.probe_timeout, token_file=state.probe_token_file)
    try:
        _write_report_with(state, hooks, probe)
    finally:
        close = getattr(probe, "close", None)
        if close is not None:
            close()


def _write_report_with(state: RunState, hooks: Hooks, probe: Any) -> None:
    description = probe.description
    local = environment.fingerprint(description, probe.digest)
    host_facts = getattr(probe, "host_facts", None)
    host_key = getattr(probe, "host_public_key", None)
    harness_fp = None
    # The extended facts (core counts, libc version, the consensus process's affinity
    # and locked memory); the identity digest still covers IDENTITY_FIELDS only.
    if host_facts is not None:
        # A probe host reports the machine the probe runs on (another one behind a
        # socket, an emulated one under qemu-user): that is the platform certified.
        # The harness's own machine is recorded beside it, outside the identity.
        fp = environment_checks.extended_fingerprint(
            environment.host_fingerprint(host_facts, description, probe.digest), description,
            pid=getattr(probe, "child_pid", None))
        harness_fp = {"fingerprint": {k: v for k, v in environment_checks.extended_fingerprint(
            local, description).items() if not k.startswith("probe_")}}
    else:
        fp = environment_checks.extended_fingerprint(
            local, description, pid=getattr(probe, "child_pid", None) or os.getpid())
    hooks.environment(fp)
    # probe.host names the key the evidence commits to; a host built without OpenSSL
    # has none (its facts still make the fingerprint, and environment.harness says so).
    host: dict[str, Any] = {}
    if host_key is not None:
        host["public_key"] = base64.b64encode(host_key).decode("ascii")
        if host_facts is not None:
            host["facts_source"] = hostkey.FACTS_SOURCE
    key = keys.load_private(state.key_path) if state.key_path else keys.load_or_create_default()
    # A transcript signed by the key recorded in probe.host needs no key of its own.
    transcripts = sorted(({k: v for k, v in t.items()
                           if k != "host_public_key" or v != host.get("public_key")}
                          for t in state.transcripts), key=lambda t: t["worker"])
    parts: dict[str, Any] = {
        "harness": {"name": "teecert", "version": __version__, "source_digest": report.source_digest()},
        "run": {
            "id": state.run_id,
            "nonce": state.nonce,
            "seed": str(state.seed),
            "started": state.started,
            "finished": now(),
            "transport": getattr(probe, "transport", "in-process"),
            "workers": max(state.workers, 1),
            "command": state.command,
            **({"challenge": state.challenge.hex()} if state.challenge else {}),
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
            **({"host": host} if host else {}),
        },
        "environment": {"fingerprint": fp, "digest": environment.identity_digest(fp),
                        **({"harness": harness_fp} if harness_fp is not None else {})},
    }
    assert state.report_dir is not None
    rows = [state.results[k] for k in sorted(state.results) if k != run_evidence.RESULT_ID]
    if state.pending:
        # The evidence comes later, out of band, for this statement as it stands.
        unsigned = report.build_statement(**{**parts, "results": rows}, profile=state.profile,
                                          signer_pub=key.public_key(),
                                          attestation=run_evidence.blank_section("file"))
        state.pending_path, state.report_data = pending.write(
            state.report_dir, statement=unsigned, profile_doc=state.profile.data)
        return
    # Attestation comes last: its report data binds the whole statement as it stands
    # (everything but the evidence and what the evidence decides).
    unsigned = report.build_statement(**{**parts, "results": rows}, profile=state.profile,
                                      signer_pub=key.public_key(), attestation=run_evidence.blank_section("probe"))
    attestation, att_row = run_evidence.collect(
        probe=probe, profile_data=state.profile.data, statement=unsigned,
        now=_dt.datetime.now(_dt.UTC).replace(microsecond=0), measurement=bytes.fromhex(probe.digest),
    )
    state.results[att_row["id"]] = att_row
    statement = report.with_attestation(unsigned, attestation, att_row, state.profile)
    envelope = report.sign_statement(statement, key)
    state.report_path = report.write_report(state.report_dir, envelope, statement)
    state.statement = statement
    hooks.report(statement)


