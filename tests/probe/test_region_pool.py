"""Shared regions of finished child sessions are reused, and never carry anything over.

A fresh memfd's pages are allocated and zeroed by the kernel as they are first
touched, which costs a stress process more than its own work; so a region whose
host said goodbye and exited cleanly goes back to a small pool.  What these tests
pin: it comes back zeroed where it was used, only after a clean exit, and a region
of a host that crashed or was killed is never reused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from teecert import ops
from teecert.probe import build as probe_build
from teecert.probe import remote
from teecert.probe.remote import default_host_cmd, spawn
from teecert.probe.streams import evaluate_stream

from probezoo import misbehaving_probe

ADD = ops.get("f64.add.rne")


@pytest.fixture(autouse=True)
def empty_pool() -> Iterator[None]:
    with remote._POOL_LOCK:
        kept = list(remote._POOL)
        remote._POOL.clear()
    yield
    with remote._POOL_LOCK:
        for r in remote._POOL:
            r.close()
        remote._POOL[:] = kept


def _cmd() -> list[str]:
    return default_host_cmd(probe_build.reference_probe_path())


def test_a_clean_session_gives_its_region_back_zeroed_where_used() -> None:
    rp = spawn(_cmd(), timeout=30)
    region = rp.shared_region()
    assert region is not None
    leaves = evaluate_stream(rp, ADD, 1, 4 * 65536, 65536)
    used = region.used
    assert used > 0 and any(region.view[:used])
    rp.close()
    assert remote._POOL == [region]
    assert region.used == 0 and not any(region.view[:used])
    # the next session gets it, and computes the same
    rp2 = spawn(_cmd(), timeout=30)
    try:
        assert rp2.shared_region() is region and not remote._POOL
        assert evaluate_stream(rp2, ADD, 1, 4 * 65536, 65536) == leaves
    finally:
        rp2.close()
    assert remote._POOL == [region]


def test_the_region_of_a_crashed_host_is_not_reused() -> None:
    rp = spawn(default_host_cmd(misbehaving_probe("segv")), timeout=5)
    region = rp.shared_region()
    with pytest.raises(Exception, match="SIGSEGV"):
        evaluate_stream(rp, ops.get("f64.div.rne"), 1, 65536, 65536)
    rp.close()
    assert region not in remote._POOL


def test_the_pool_keeps_at_most_its_limit() -> None:
    probes = [spawn(_cmd(), timeout=30) for _ in range(remote.POOL_MAX + 2)]
    for rp in probes:
        assert rp.shared_region() is not None
    for rp in probes:
        rp.close()
    assert len(remote._POOL) == remote.POOL_MAX
    assert len({id(r) for r in remote._POOL}) == remote.POOL_MAX


def test_the_region_of_a_host_that_exits_with_an_error_is_not_reused() -> None:
    # the host runs under a shell that exits 3 after it: goodbye said, exit not clean
    cmd = ["sh", "-c", '"$@"; exit 3', "sh", *_cmd()]
    rp = spawn(cmd, timeout=30)
    region = rp.shared_region()
    assert region is not None
    evaluate_stream(rp, ADD, 1, 65536, 65536)
    rp.close()
    assert region not in remote._POOL
