"""Atomic file output shared by the demo and batch forecasting."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, flush it to disk, rename it over ``path``.

    Readers see the old file or the new one, never half of one; when ``write`` fails, ``path``
    is left as it was and the temporary file is removed. Missing folders are created.

    Examples
    --------
    >>> import tempfile
    >>> out = atomic_write(tempfile.mkdtemp() + "/a.txt", lambda tmp: tmp.write_text("done"))
    >>> out.read_text()
    'done'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # same folder as the target: os.replace is only atomic within one file system
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
