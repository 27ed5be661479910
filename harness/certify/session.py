"""What one certification session (one pytest process or xdist worker) holds.

The probe is loaded once per process and wrapped so that the harness keeps its own
copy of the probe's transcript: every batch the harness sends is folded in from the
outputs the harness itself received.  At the end the two transcripts must be equal,
which shows the probe's attested transcript describes exactly these results.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import ops
from .._internal import accel
from ..probe import hostkey
from ..probe.library import TRANSCRIPT_T0, Probe, set_call_timeout, transcript_step
from ..probe.remote import DEFAULT_TIMEOUT, RemoteProbe, open_probe, set_default_token
from ..probe.streams import chunk_outputs, evaluate_stream
from ..profile import Profile
from ..vectors import merkle
from ..vectors.generate import pack_outputs
from ..vectors.store import Stream, VectorSet
from ..vectors.streams.inputs import chunk_inputs
from .options import PROBE_FAULT_FILE_ENV


@dataclass
class TrackedProbe:
    """A probe plus the harness's own running transcript of what it returned."""

    probe: Probe | RemoteProbe
    transcript: bytes = TRANSCRIPT_T0
    calls: int = 0
    ops_run: dict[str, int] = field(default_factory=dict)

    @property
    def declared(self) -> frozenset[str]:
        return self.probe.ops

    def _fold(self, op: ops.Op, n: int, leaf: bytes) -> None:
        self.transcript = transcript_step(self.transcript, op.id, n, leaf)
        self.calls += 1
        self.ops_run[op.id] = self.ops_run.get(op.id, 0) + n

    def run_values(self, op: ops.Op, vecs: Sequence[tuple[int, ...]]) -> list[int]:
        outs = self.probe.run_values(op, list(vecs))
        self._fold(op, len(vecs), merkle.leaf_hash(pack_outputs(op, outs)))
        return outs

    def stream_leaves(self, stream: Stream, chunks: int) -> list[bytes]:
        """Leaves of the first ``chunks`` chunks of ``stream`` as the probe computes them."""
        count = min(stream.count, chunks * stream.chunk_size)
        leaves = evaluate_stream(self.probe, stream.op, stream.seed, count, stream.chunk_size)
        for i, leaf in enumerate(leaves):
            _start, n = stream.chunk_span(i)
            self._fold(stream.op, n, leaf)
        return leaves

    def chunk(self, stream: Stream, index: int) -> tuple[list[tuple[int, ...]], list[int]]:
        """Re-run one chunk, keeping inputs and outputs, to localize a divergence."""
        start, n = stream.chunk_span(index)
        inputs, outputs = chunk_outputs(self.probe, stream.op, stream.seed, start, n)
        self._fold(stream.op, n, merkle.leaf_hash(pack_outputs(stream.op, outputs)))
        return inputs, outputs

    def chunk_packed(self, stream: Stream, index: int) -> tuple[bytes, bytes]:
        """:meth:`chunk` as the probe ABI's buffers (inputs, outputs), no Python object
        per vector: for comparisons made in bulk."""
        start, n = stream.chunk_span(index)
        packed = chunk_inputs(stream.op, stream.seed, start, n)
        outputs = self.probe.run(stream.op, packed, n)
        self._fold(stream.op, n, merkle.leaf_hash(outputs))
        return packed, outputs

    def transcript_check(self) -> tuple[bool, str]:
        """Compare the probe's transcript with the harness's recomputation."""
        t, calls = self.probe.transcript()
        if t == self.transcript and calls == self.calls:
            return True, f"probe transcript {t.hex()} over {calls} calls matches the harness"
        return False, (
            f"probe transcript {t.hex()} ({calls} calls) differs from the harness's "
            f"recomputation {self.transcript.hex()} ({self.calls} calls)"
        )


def process_fpenv() -> tuple[str, int] | None:
    """The calling thread's raw FP control state, read without any probe (through the
    accelerator); None when the accelerator is not built."""
    _accel = accel.load()
    if _accel is None:
        return None
    arch = _accel.ffi.new("char[16]")
    value = int(_accel.lib.teecert_accel_fpenv(arch))
    return _accel.ffi.string(arch).decode(), value


@dataclass
class Session:
    """Everything a suite needs, opened once per process."""

    probe_path: Path | None
    profile: Profile
    vector_set: VectorSet
    seed: int
    # a probe host command (child process) or URL
    # (socket) instead of the in-process library at probe_path.
    probe_cmd: str | None = None
    probe_url: str | None = None
    probe_timeout: float = DEFAULT_TIMEOUT
    # the probe host's token file (else $TEECERT_HOST_TOKEN, if set)
    probe_token_file: Path | None = None
    _probe: TrackedProbe | None = None
    _streams: dict[str, Stream] | None = None
    #: the run's challenge (``vectors.challenge``), or None
    challenge: bytes | None = None
    #: the FP control state just before and just after the probe was loaded
    load_fpenv: tuple[tuple[str, int] | None, tuple[str, int] | None] = (None, None)

    def __post_init__(self) -> None:
        if self.probe_token_file is not None:
            # every connection this process opens proves it (the stress suites' too)
            set_default_token(hostkey.load_token(self.probe_token_file))
        if not self.probe_cmd and not self.probe_url:
            # In process, the run's deadline bounds every call into the library by
            # this process, loading included, and the report's own load of it too.
            set_call_timeout(self.probe_timeout, os.environ.get(PROBE_FAULT_FILE_ENV) or None)

    @property
    def probe(self) -> TrackedProbe:
        if self._probe is None:
            before = process_fpenv()
            opened = open_probe(path=self.probe_path, cmd=self.probe_cmd, url=self.probe_url,
                                timeout=self.probe_timeout, token_file=self.probe_token_file)
            self._probe = TrackedProbe(opened)
            if isinstance(opened, RemoteProbe):
                # The library was loaded by the probe host: its own reading counts.
                self.load_fpenv = opened.load_fpenv or (None, None)
            else:
                self.load_fpenv = (before, process_fpenv())
        return self._probe

    @property
    def streams(self) -> dict[str, Stream]:
        if self._streams is None:
            self._streams = self.vector_set.streams()
        return self._streams

    def stream_chunks(self, stream: Stream) -> int:
        """How many chunks of ``stream`` this profile evaluates (its ``stream_scale``)."""
        scale = int(self.profile.data.get("stream_scale", 100))
        return max(1, -(-stream.chunks * scale // 100))
