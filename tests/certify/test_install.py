"""`pip install .` (not editable) into a fresh virtual environment gives a working
`teecert run` and `teecert verify` from any directory: suites, vectors, schemas,
profiles, the reference probe and the accelerator all travel with the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import GLIBC_FMA_REASON, cpu_has

REPO = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.so",
                              ".mypy_cache", ".ruff_cache", ".hypothesis", "reports", "teecert-reports")


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="needs a C compiler")
def test_non_editable_install_runs_from_any_directory(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=SKIP)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    pip = subprocess.run([str(py), "-m", "pip", "install", "-q", str(src)], capture_output=True, text=True,
                         timeout=900, check=False)
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-4000:]
    shutil.rmtree(src)  # nothing may depend on the source tree any more
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["HOME"] = str(tmp_path / "home")  # a first-time user: the key is created on first use
    env["XDG_CONFIG_HOME"] = str(tmp_path / "home" / ".config")
    teecert = str(env_dir / "bin" / "teecert")
    run = subprocess.run([teecert, "run", "--out", "reports"], cwd=elsewhere, capture_output=True, text=True,
                         env=env, timeout=600, check=False)
    # on an FMA machine, glibc's exp under GLIBC_TUNABLES is the one reason for NOT_CERTIFIED
    want = 1 if cpu_has("fma", "avx2") else 0
    assert run.returncode == want, run.stdout[-3000:] + run.stderr[-3000:]
    assert ("teecert run: CERTIFIED" in run.stdout) == (want == 0)
    assert want == 0 or GLIBC_FMA_REASON in run.stdout
    key = tmp_path / "home" / ".config" / "teecert" / "run-key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    (report,) = (elsewhere / "reports").glob("teecert-report-*.json")
    # the default key's public key is written beside it: what the validator hands over
    ver = subprocess.run([teecert, "verify", str(report), "--trust", f"{key}.pub"], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=120, check=False)
    assert ver.returncode == want, ver.stdout + ver.stderr
    assert sys.executable != str(py)
