"""Atomic file output shared by the demo and batch forecasting."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, flush it to disk, rename it over ``path``.

    Readers see the old file or the new one, never half of one; when ``write`` fails, ``path``
    is left as it was and the temporary file is removed. Missing folders are created, and
    removed again when the write fails, so that a failure leaves no trace.

    Examples
    --------
    >>> import tempfile
    >>> out = atomic_write(tempfile.mkdtemp() + "/a.txt", lambda tmp: tmp.write_text("done"))
    >>> out.read_text()
    'done'
    """
    target = Path(path)
    created: list[Path] = []
    try:
        _make_folders(target.parent, created)
        _write_and_replace(target, write)
    except BaseException:
        _remove_folders(created)
        raise
    return target


def _write_and_replace(target: Path, write: Callable[[Path], object]) -> None:
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


def _make_folders(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, appending each one made to ``created`` (outermost first)."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for child in reversed(missing):
        try:
            child.mkdir()
        except FileExistsError:  # made by someone else meanwhile: not ours to remove
            continue
        created.append(child)


def _remove_folders(created: list[Path]) -> None:
    """Remove the folders this write made, innermost first; one that something else filled meanwhile stays."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            return
