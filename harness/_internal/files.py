"""Reading the files users hand teecert: regular files only, never more than a cap.

A FIFO, a terminal or ``/dev/zero`` given as a report, key or profile would block or
read until memory runs out; each is refused with one line instead.  And where the
files teecert ships (schemas, profiles, vectors) are: ``package_dir``.
"""

from __future__ import annotations

import importlib
import os
import stat
from pathlib import Path

from ..errors import MalformedInput, UsageError


def package_dir(package: str) -> Path:
    """The folder of the teecert package ``package`` (``teecert``, ``teecert.vector_data``),
    which holds its data files; ``ModuleNotFoundError`` when there is none.

    teecert runs only from folders on disk (its native libraries cannot load from a
    zip), so a package's own path is where its data is.  ``importlib.resources``, which
    serves zips too, would cost a ``teecert verify`` process a tenth of its start-up
    (it imports tempfile, random and zipfile)."""
    return Path(next(iter(importlib.import_module(package).__path__)))


#: Larger than any report, profile, key, governance file or evidence teecert makes.
MAX_INPUT_BYTES = 64 << 20


def read_input(path: str | Path, what: str, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (a ``what``: "report", "profile", ...).

    ``UsageError`` when it does not exist, cannot be read or is not a regular file;
    ``MalformedInput`` when it is larger than ``limit``.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise UsageError(f"{p}: no such {what} file") from None
    except OSError as e:
        raise UsageError(f"{p}: cannot read the {what} ({e.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise UsageError(f"{p}: {kind}; give the {what} file")
    if st.st_size > limit:
        raise MalformedInput(f"{p}: {st.st_size} bytes, more than the {limit} a {what} may have")
    try:
        # O_NONBLOCK: should the path be swapped for a FIFO after the check, opening
        # it must not wait for a writer.
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise UsageError(f"{p}: cannot read the {what} ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise UsageError(f"{p}: not a regular file; give the {what} file")
        # The size stat gave, and one byte more to see a file that grew: read(limit + 1)
        # would allocate the whole limit (64 MiB) for every report of a batch.
        data = f.read(min(st.st_size, limit) + 1)
        if len(data) > st.st_size:
            data += f.read(limit + 1 - len(data))
    if len(data) > limit:
        raise MalformedInput(f"{p}: more than the {limit} bytes a {what} may have")
    return data
