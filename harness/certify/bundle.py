"""A run's results bundle: one folder in ``--out`` with everything a reviewer needs.

``<platform>-<yyyymmddThhmmssZ>-<run id[:8]>/`` holds the signed report (a hard link
of the one directly in ``--out``), ``signer.pub`` (the public half of the key that
signed it), ``report.html`` and ``report.md`` (the report verified with that key
pinned, then rendered), ``junit.xml`` and ``run.log`` (the test process's JUnit file
and output) and ``summary.json`` (what ``teecert run --json`` prints).  ``latest``
in ``--out`` points at the newest bundle; ``<bundle>.tar.gz`` beside it on request.

The bundle is put together in a hidden staging folder in ``--out`` (the test process
writes its JUnit file and output there while it runs) and renamed into place at the
end, so a run that writes no report leaves no bundle, and none half written.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import secrets
import shutil
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._internal.atomic import write_atomic
from ..errors import TeecertError

SIGNER_PUB = "signer.pub"
REPORT_HTML = "report.html"
REPORT_MD = "report.md"
JUNIT = "junit.xml"
RUN_LOG = "run.log"
SUMMARY = "summary.json"
LATEST = "latest"
#: the files of a bundle besides the report itself
FILES = (SIGNER_PUB, REPORT_HTML, REPORT_MD, JUNIT, RUN_LOG, SUMMARY)

#: words of a CPU model that say nothing about which CPU it is
_NOISE = re.compile(r"\((?:r|tm|c)\)|@.*$|\b\d+-core\b|\bprocessor\b|\bcpu\b")
_PLATFORM_WIDTH = 48


def platform_slug(fingerprint: Mapping[str, Any]) -> str:
    """``x86-64-amd-epyc-7763``: the machine's arch and CPU model, [a-z0-9-] only (so
    ``x86_64`` is ``x86-64``)."""
    model = _NOISE.sub(" ", str(fingerprint.get("cpu_model") or "").lower())
    slug = re.sub(r"[^a-z0-9]+", "-", f"{fingerprint.get('arch') or 'unknown'} {model}".lower())
    slug = slug.strip("-")[:_PLATFORM_WIDTH].strip("-")
    return slug or "unknown"


def name_of(statement: Mapping[str, Any]) -> str:
    """The bundle folder's name: ``<platform>-<finished, yyyymmddThhmmssZ>-<run id[:8]>``."""
    pred = statement["predicate"]
    run = pred["run"]
    when = re.sub(r"[^0-9TZ]", "", str(run["finished"]))[:15] + "Z"
    return f"{platform_slug(pred['environment']['fingerprint'])}-{when}-{str(run['id'])[:8]}"


def staging_path(out: Path, run_id: str) -> Path:
    """The hidden folder in ``out`` where a run's bundle is put together."""
    return out / f".teecert-bundle-{run_id}.tmp"


class Staging:
    """The folder a run's bundle is put together in, until ``complete`` renames it."""

    def __init__(self, out: Path, run_id: str) -> None:
        self.out = out
        self.path = staging_path(out, run_id)
        try:
            self.path.mkdir(mode=0o755)
        except OSError as e:
            raise TeecertError(f"--out {out}: cannot make the bundle folder "
                               f"({e.strerror or type(e).__name__})") from None
        self.junit = self.path / JUNIT
        self.log = self.path / RUN_LOG

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def complete(staging: Staging, *, report: Path, name: str, public_pem: bytes, pages: Mapping[str, bytes],
             user_junit: Path | None = None, tar: bool = False) -> Path:
    """Put the report, ``signer.pub`` and ``pages`` (``report.html``, ``report.md``,
    ``summary.json``) beside the test process's JUnit file and output, rename the
    folder to ``name`` in ``--out``, write ``name.tar.gz`` beside it when ``tar``, and
    point ``latest`` at it; returns the bundle folder.  ``user_junit``: the JUnit file
    the user asked pytest for (``-- --junitxml=FILE``), copied in instead."""
    out, tmp = staging.out, staging.path
    final = out / name
    try:
        if final.exists():
            raise TeecertError(f"{final}: a bundle of that name is already there")
        if user_junit is not None:
            shutil.copyfile(user_junit, staging.junit)
        for f in (staging.junit, staging.log):
            if not f.is_file():
                raise TeecertError(f"{f.name}: the test process did not write it; no bundle was made")
        try:
            os.link(report, tmp / report.name)
        except OSError:  # a file system without hard links
            shutil.copy2(report, tmp / report.name)
        write_atomic(tmp / SIGNER_PUB, public_pem, 0o644)
        for file, data in pages.items():
            write_atomic(tmp / file, data, 0o644)
        archive = _tar(tmp, name) if tar else None
        os.rename(tmp, final)
    except BaseException:
        staging.discard()
        raise
    if archive is not None:
        write_atomic(out / f"{name}.tar.gz", archive, 0o644)
    point_latest(out, name)
    return final


def _tar(folder: Path, name: str) -> bytes:
    """``folder``'s files as a gzipped tar under ``name/``, in name order, with no
    owner and the files' own times: the same files give the same archive."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tf:
        top = tarfile.TarInfo(name)
        top.type, top.mode = tarfile.DIRTYPE, 0o755
        tf.addfile(top)
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            data = path.read_bytes()
            info = tarfile.TarInfo(f"{name}/{path.name}")
            info.size, info.mode, info.mtime = len(data), 0o644, int(path.stat().st_mtime)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def point_latest(out: Path, name: str) -> None:
    """Make ``out/latest`` a symlink to ``name``, replacing the old one atomically."""
    tmp = out / f".{LATEST}.{secrets.token_hex(6)}.tmp"
    try:
        os.symlink(name, tmp)
        os.replace(tmp, out / LATEST)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise TeecertError(f"{out / LATEST}: cannot point it at {name} ({e.strerror or type(e).__name__})") from None
