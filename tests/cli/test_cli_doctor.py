"""``teecert doctor`` as a validator types it: one line per check, exit 1 only when a
check fails that would make a run under the profile fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from teecert.certify import doctor

from conftest import no_traceback, teecert_cli

_REAL = doctor.Places()
_TEE_HERE = (_REAL.tsm_report.exists() or _REAL.sev_guest.exists() or _REAL.nsm.exists()
             or any(p.exists() for p in _REAL.tdx_guest))
#: a machine without a TEE, whatever the environment of the test run says
_NO_TEE = {"TEECERT_TSM_REPORT_DIR": "/nonexistent/tsm/report", "TEECERT_NSM_DEVICE": "/nonexistent/nsm"}
_STATUSES = ("ok", "warn", "fail", "n/a")


def _lines(out: str) -> dict[str, str]:
    """Check name → its line."""
    rows = {}
    for line in out.splitlines():
        status, _, rest = line.partition(" ")
        if status in _STATUSES:
            rows[rest.split()[0]] = line
    return rows


@pytest.mark.skipif(_TEE_HERE, reason="this machine is a TEE guest")
def test_doctor_here_says_not_a_tee_guest_with_the_fix() -> None:
    res = teecert_cli(["doctor"], env=_NO_TEE)
    assert no_traceback(res.err), res.err
    rows = _lines(res.out)
    assert set(rows) >= {"tee", "compiler", "clocksource", "isolation", "memlock", "locale", "libc",
                         "libm", "time"}
    assert rows["tee"].startswith("warn  tee ")
    assert ("not a TEE guest: no configfs-tsm, /dev/sev-guest, /dev/tdx_guest or /dev/nsm; fix: run "
            "inside a confidential VM or enclave to certify for admission; development profiles use "
            "simulated evidence") in rows["tee"]
    fails = [line for line in rows.values() if line.startswith("fail")]
    assert res.code == (1 if fails else 0), res.out
    assert res.out.splitlines()[-1].startswith("teecert doctor: ")


def test_doctor_strict_without_a_tee_exits_1() -> None:
    res = teecert_cli(["doctor", "--profile", "strict"], env=_NO_TEE)
    assert res.code == 1, (res.out, res.err)
    assert no_traceback(res.err)
    rows = _lines(res.out)
    assert rows["tee"].startswith("fail  tee ") and "accepts only real evidence" in rows["tee"]
    assert "would be NOT_CERTIFIED" in res.out.splitlines()[-1]


def test_doctor_sees_a_configfs_tsm_tree(tmp_path: Path) -> None:
    tsm = tmp_path / "tsm" / "report"
    tsm.mkdir(parents=True)
    res = teecert_cli(["doctor", "--json"], env={**_NO_TEE, "TEECERT_TSM_REPORT_DIR": str(tsm)})
    doc = json.loads(res.out)
    [tee] = [c for c in doc["checks"] if c["check"] == "tee"]
    assert tee["status"] == "ok" and tee["found"].startswith(f"TEE guest: configfs-tsm at {tsm}")
    assert doc["exit_code"] == res.code
    assert doc["profile"]["id"] == "development"


def test_doctor_with_a_bad_profile_is_one_line() -> None:
    res = teecert_cli(["doctor", "--profile", "/nonexistent/profile.json"])
    assert res.code == 2 and no_traceback(res.err)
    assert len(res.err.strip().splitlines()) == 1 and res.err.startswith("teecert doctor: ")
