"""Atomic file writes for reports, keys and profiles.

A reader (or a crash) must see either the old file or the complete new one, never a
half-written report or key.  The data goes to a temporary file in the destination's
own directory (``os.replace`` is only atomic within one file system), is flushed to
disk, gets its final mode, and is then renamed over the destination.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from ..errors import UsageError


def _fsync_dir(directory: Path) -> None:
    # The rename is only durable once the directory entry itself is on disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # e.g. Windows, where directories cannot be opened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike[str], data: bytes, mode: int = 0o644, *,
                 overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically with permissions ``mode``.

    With ``overwrite=False`` an existing file is never replaced, not even one created
    by another process while this one was writing (the final step is a hard link,
    which fails if the name exists).  Returns the path written.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"write_atomic needs bytes, not {type(data).__name__}")
    dest = Path(path)
    directory = dest.parent if str(dest.parent) else Path(".")
    if not overwrite and dest.exists():
        raise UsageError(f"{dest}: already exists; refusing to overwrite it")
    # Imported here: with the random it imports, tempfile is a twentieth of what a
    # `teecert verify` process imports, and verify writes only when asked to.
    import tempfile

    try:
        # mkstemp creates the file 0600, so secret data is never readable by others,
        # not even for the moment before fchmod.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise UsageError(f"{dest}: cannot write here ({e.strerror})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
        if overwrite:
            os.replace(tmp, dest)
        else:
            try:
                os.link(tmp, dest)
            except FileExistsError:
                raise UsageError(f"{dest}: already exists; refusing to overwrite it") from None
            except OSError:
                # File systems without hard links: fall back to a checked rename; the
                # window between the check and the rename is the best we can do there.
                if dest.exists():
                    raise UsageError(f"{dest}: already exists; refusing to overwrite it") from None
                os.replace(tmp, dest)
    except OSError as e:
        raise UsageError(f"{dest}: cannot write ({e.strerror})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(directory)
    return dest


def remove_stale_temporaries(path: str | os.PathLike[str], *, older_than: float = 60.0) -> list[Path]:
    """Remove what a killed ``write_atomic`` of ``path`` left behind: its temporary files
    not touched for ``older_than`` seconds (a younger one may be another process's write
    in progress).  A run killed while creating its key would otherwise leave a complete
    private key in a file nobody looks after."""
    dest = Path(path)
    removed: list[Path] = []
    try:
        candidates = list(dest.parent.glob(f".{dest.name}.*.tmp"))
    except OSError:
        return removed
    now = time.time()
    for tmp in candidates:
        try:
            if tmp.is_file() and not tmp.is_symlink() and now - tmp.stat().st_mtime > older_than:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue
    return removed

