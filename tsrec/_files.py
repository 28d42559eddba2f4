"""Atomic file output shared by the demo, batch forecasting and saved estimators' folders."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

Writer = Callable[[Path], object]

# how to fix the usual reasons a write fails; the OS's own words say only what went wrong
_FIXES = {
    errno.ENOSPC: "free space on that disk or write elsewhere",
    errno.EACCES: "choose a location you may write to, or change its permissions",
    errno.EPERM: "choose a location you may write to, or change its permissions",
    errno.EROFS: "the file system is read-only: choose another location",
    errno.ENOTDIR: "a folder on the path is a file: choose another location",
    errno.ENAMETOOLONG: "shorten it (a file or folder name holds at most 255 bytes)",
}
# how to fix a file or folder this user may not read
READ_FIX = "make it readable for this user (chmod u+r, or u+rx for a folder) or copy it somewhere readable"


# a temporary name beside a target adds a dot, a tag and random letters to the target's name: the
# name part is cut to this many bytes, so that any legal name (up to 255 bytes) gives a legal one
_NAME_BYTES_KEPT = 200


def hidden_stem(name: str) -> str:
    """``name`` cut to at most 200 bytes (at a character boundary), to build temporary names beside it.

    Examples
    --------
    >>> len(hidden_stem("m" * 240)), hidden_stem("model")
    (200, 'model')
    """
    encoded = os.fsencode(name)
    if len(encoded) <= _NAME_BYTES_KEPT:
        return name
    return os.fsdecode(encoded[:_NAME_BYTES_KEPT].decode("utf-8", "ignore").encode("utf-8"))


def atomic_write(path: str | os.PathLike, write: Writer) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, flush it to disk, rename it over ``path``.

    Readers see the old file or the new one, never half of one; when ``write`` fails, ``path``
    is left as it was and the temporary file is removed. Missing folders are created, and
    removed again when the write fails, so that a failure leaves no trace. A symbolic link is
    followed: its file is replaced and the link kept; an existing file's permissions are kept.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    write : callable
        Writes the whole file to the path it is given.

    Returns
    -------
    pathlib.Path
        ``path`` as a Path.

    Raises
    ------
    OSError
        Writing fails: the error keeps its type and errno and its message names ``path`` (not the
        temporary file) and a fix.

    Examples
    --------
    >>> import tempfile
    >>> out = atomic_write(tempfile.mkdtemp() + "/a.txt", lambda tmp: tmp.write_text("done"))
    >>> out.read_text()
    'done'
    """
    return atomic_write_all({path: write})[0]


def atomic_write_all(writes: Mapping[str | os.PathLike, Writer]) -> list[Path]:
    """Write several files as :func:`atomic_write` does, replacing none of them unless all are written.

    Every file is written to its temporary name and flushed first; only then are they renamed into
    place, so that a failed write (a full disk, a failing renderer) leaves each file as it was. A
    target that is a folder is refused before anything is written. Residual window: a rename that
    fails after an earlier one succeeded (the disk removed) leaves the earlier file new.

    Parameters
    ----------
    writes : mapping of path to callable
        Each file and the function that writes it, as ``atomic_write``'s ``path`` and ``write``.

    Returns
    -------
    list of pathlib.Path
        The paths, in the order given.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> [p.name for p in atomic_write_all({folder + "/a.txt": lambda t: t.write_text("a"),
    ...                                    folder + "/b.txt": lambda t: t.write_text("b")})]
    ['a.txt', 'b.txt']
    """
    names = [Path(p) for p in writes]
    # a link's own file is replaced, not the link (save() follows links too)
    targets = [Path(os.path.realpath(p)) for p in names]
    # same folder as the target: os.replace is only atomic within one file system
    temps = [t.with_name(f".{hidden_stem(t.name)}.{uuid.uuid4().hex[:12]}.tmp") for t in targets]
    for name, target in zip(names, targets):
        refuse_folder(target, name)  # a rename onto it would fail after others had succeeded
    with made_folders(*(t.parent for t in targets)):
        try:
            for name, tmp, write in zip(names, temps, writes.values()):
                with _naming(name):
                    _write_temp(tmp, write)
            for name, tmp, target in zip(names, temps, targets):
                with _naming(name):
                    replace_keeping_mode(tmp, target)
        finally:
            for tmp in temps:
                # a path through a file fails here too (ENOTDIR): keep the error that names the output
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
    return names


def refuse_folder(target: Path, name: str | os.PathLike) -> None:
    """An IsADirectoryError naming ``name`` when the file to write, ``target``, is an existing folder."""
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"cannot write {name}: it is a folder; remove it or choose another name")


def _write_temp(tmp: Path, write: Writer) -> None:
    write(tmp)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())  # the data is on disk before a rename makes it visible


def replace_keeping_mode(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` over ``target``, keeping ``target``'s permissions, and make the rename durable."""
    try:
        os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
    except FileNotFoundError:  # a new file: the umask decides, as for any file the user makes
        pass
    os.replace(tmp, target)
    fsync_folder(target.parent)  # without it a crash can undo the rename


def fsync_path(path: str | os.PathLike) -> None:
    """Flush the file or folder ``path`` to disk; a folder's flush makes the renames in it durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def user_path(path: str | os.PathLike) -> Path:
    """``path`` with a leading ``~`` as the home folder, as pandas and the shell read it: taken as is, a
    save to ``~/model`` made a folder named ``~`` in the working folder."""
    return Path(os.path.expanduser(os.fspath(path)))


def fsync_folder(path: str | os.PathLike) -> None:
    """Flush the folder ``path`` where the file system allows: some platforms and file systems (FUSE,
    network mounts) refuse to fsync a folder, which would fail a write that is complete."""
    try:
        fsync_path(path)
    except OSError:
        pass


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Re-raise an OSError with ``path`` in its message: the OS names the hidden temporary file, or nothing."""
    try:
        yield
    except OSError as err:
        raise os_error(err, f"cannot write {path}") from err


def os_error(err: OSError, message: str, fix: str | None = None) -> OSError:
    """``err``'s type and errno with the message ``message: reason; fix``.

    ``fix`` defaults to the usual fix for ``err``'s errno, if there is one.
    """
    fix = fix or _FIXES.get(err.errno)
    text = f"{message}: {err.strerror or str(err) or type(err).__name__}" + (f"; {fix}" if fix else "")
    try:
        return type(err)(err.errno, text) if err.errno is not None else type(err)(text)
    except TypeError:  # a subclass with a constructor of its own
        return OSError(err.errno, text)


def check_writable(folder: str | os.PathLike, output: str | os.PathLike, fix: str) -> None:
    """Raise the OSError of creating a file in ``folder``, naming ``output`` and ``fix``.

    A missing ``folder`` is probed at its nearest existing parent, where it would be made.
    Called before slow work, so that an output that cannot be written fails at once, not after it.
    """
    existing = nearest_existing(Path(folder))
    try:
        handle, probe = tempfile.mkstemp(prefix=".tsrec-probe-", suffix=".tmp", dir=existing)
    except OSError as err:
        raise os_error(err, f"cannot write {output} (creating a file in {existing} failed)", fix) from None
    os.close(handle)
    os.unlink(probe)


def nearest_existing(path: Path) -> Path:
    """``path`` or the nearest of its parents that exists."""
    return next((p for p in (path, *path.parents) if os.path.exists(p)), Path(path.anchor or "."))


def same_file(a: Path, b: Path) -> bool:
    """The same file by name (after symlinks and ..) or by inode (hard links)."""
    if a.resolve() == b.resolve():
        return True
    return a.exists() and b.exists() and os.path.samefile(a, b)


@contextlib.contextmanager
def made_folders(*folders: Path) -> Iterator[None]:
    """Create the missing ``folders`` and their parents; when the block fails, remove those made again."""
    created: list[Path] = []
    try:
        for folder in folders:
            _make_folders(folder, created)
        yield
    except BaseException:
        _remove_folders(created)
        raise


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
    """Remove the folders made, innermost first; one that something else filled meanwhile stays."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:  # something else wrote there meanwhile: it stays
            continue
