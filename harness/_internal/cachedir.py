"""The user's cache folder and its entries.

Everything in it is something teecert can make again: probes and hosts compiled from
their sources, vector files parsed from their bytes, libm tallies, the built locale.
Each entry is named by a digest of what it was made from, so a changed input never
finds a stale entry, and an entry that cannot be read is made again.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/teecert``, or ``~/.cache/teecert``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "teecert"


def put(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (a temporary file renamed over
    it, so concurrent workers race safely), without the flushes to disk of
    ``atomic.write_atomic``: an entry lost in a crash is only made again.  A cache
    that cannot be written is no error."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
