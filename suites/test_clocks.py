"""Clocks the probe can read: resolution, monotonicity and jitter against the
profile's ``clocks`` thresholds (``teecert.certify.judge.clocks``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from teecert.certify.judge import clocks
from teecert.certify.session import Session


def test_clocks(teecert_session: Session, teecert_record: Callable[..., None]) -> None:
    thresholds = teecert_session.profile.data.get("clocks")
    if thresholds is None:
        pytest.skip("the profile sets no clock thresholds")
    stats = clocks.measure(teecert_session.probe.probe, int(thresholds["samples"]))
    findings = clocks.check(stats, thresholds)
    summary = "; ".join(
        f"{st.clock}: unsupported" if st.unsupported else
        f"{st.clock}: step {st.observed_resolution} {st.unit}, jitter {st.jitter}, "
        f"{st.backward_steps} backward"
        for st in stats.values())
    bad = [f for f in findings if f.failure]
    teecert_record(op=None, kind="check", vectors=0, failures=len(bad),
                   message=(("; ".join(f"{f.clock} {f.rule}: {f.detail}" for f in bad) + " | ")
                            if bad else "") + summary)
    if bad:
        pytest.fail("; ".join(f"{f.clock} {f.rule}: {f.detail}" for f in bad), pytrace=False)
