"""What a certification run is asked to do: which probe, under which policy, and
where its report goes (the options of ``teecert run``, as the library takes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError

DEFAULT_OUT = Path("teecert-reports")

#: The environment variable through which ``teecert run`` tells the test processes of
#: an in-process run where to write the one line that ends them when a probe call
#: overruns its deadline, so that the line is the run's only message.
PROBE_FAULT_FILE_ENV = "TEECERT_PROBE_FAULT_FILE"

#: The plugin's option through which ``teecert run`` names the file where its test
#: process reports the suites' progress, one JSON event a line
#: (``summary.RunProgress``); the run then prints the summary itself.
PROGRESS_OPTION = "--teecert-progress"


@dataclass(frozen=True)
class ProbeTarget:
    """Which probe a run certifies and how it is reached: a library (``path``, the
    reference probe when None), served by a probe host in a child process unless
    ``in_process``; a probe host command serving it on its stdio (``cmd``); or a
    listening probe host (``url``).  ``timeout`` bounds each call, over every
    transport (None: the profile's ``probe_timeout``)."""

    path: Path | None = None
    cmd: str | None = None
    url: str | None = None
    timeout: float | None = None
    in_process: bool = False
    #: the file holding a probe host's token (else ``$TEECERT_HOST_TOKEN``, if set)
    token_file: Path | None = None

    def check(self) -> None:
        """Refuse combinations that do not fit together, with the fix in one line."""
        if sum(x is not None for x in (self.path, self.cmd, self.url)) > 1:
            raise UsageError("give one of --probe, --probe-cmd and --probe-url")
        if self.in_process and (self.cmd or self.url):
            raise UsageError("--in-process loads a library: it does not go with --probe-cmd or --probe-url")
        if self.token_file is not None and self.in_process:
            raise UsageError("--probe-token-file is for a probe host: it does not go with --in-process")
        if self.timeout is not None and not self.timeout > 0:
            raise UsageError(f"--probe-timeout must be positive, not {self.timeout}")


@dataclass(frozen=True)
class RunOptions:
    """One ``teecert run``: the probe, the profile (a built-in name or a file) and what
    pins it (a governance file, a revocation list), the vector set (built in when
    None), where the signed report goes and which key signs it (the default key when
    None), pytest-xdist workers, the seed of the run's random choices, and whether to
    stop at a pending run whose report data is attested out of band, and where
    pytest's own output goes."""

    probe: ProbeTarget = field(default_factory=ProbeTarget)
    profile: str = "development"
    governance: Path | None = None
    revocations: Path | None = None
    vectors: Path | None = None
    out: Path = DEFAULT_OUT
    key: Path | None = None
    workers: str | None = None
    seed: int | None = None
    #: a fresh challenge in hex (``vectors.challenge``): adds the challenge suite
    challenge: str | None = None
    print_report_data: bool = False
    pytest_args: tuple[str, ...] = ()
    #: the command line as the user typed it, recorded in the report
    argv: tuple[str, ...] = ("teecert", "run")
    #: where the test process's own output (pytest's) goes: ``captured`` (kept from
    #: the reader; a run that writes no report says why in its error), ``stdout`` or
    #: ``stderr``
    pytest_output: str = "captured"
    #: put the run's JUnit file and output in a staging folder in ``out`` for its
    #: results bundle (``RunOutcome.staging``; ``certify.bundle.complete`` finishes it,
    #: ``Staging.discard`` drops it)
    bundle: bool = False
