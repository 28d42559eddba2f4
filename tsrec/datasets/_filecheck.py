"""Checks every loader runs on a data file's bytes: packed files (compressed, LFS pointers) and published digests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tsrec._files import READ_FIX, os_error
from tsrec._warn import warn_user
from tsrec.errors import InputError, UnpublishedDataWarning

# magic bytes of a compressed file -> (what it is, the suffix its tool expects, the tool that unpacks it)
_PACKED = {
    b"\x1f\x8b": ("gzip-compressed", "gz", "gunzip"),
    b"PK\x03\x04": ("a zip archive", "zip", "unzip"),
    b"BZh": ("bzip2-compressed", "bz2", "bunzip2"),
    b"\xfd7zXZ\x00": ("xz-compressed", "xz", "unxz"),
    b"\x28\xb5\x2f\xfd": ("zstd-compressed", "zst", "unzstd"),
}
_LFS_POINTER = b"version https://git-lfs"
# (resolved path, size, mtime in ns) -> SHA-256 hex digest: a file unchanged since the last load is not re-hashed
_DIGESTS: dict[tuple[str, int, int], str] = {}
# (resolved path, digest) already warned about: one warning per changed copy, not one per load
_WARNED: set[tuple[str, str]] = set()


def refuse_packed(path: Path, what: str) -> None:
    """Refuse a compressed file or a Git LFS pointer saved under the data file's name, with the command that unpacks it.

    Parsers would otherwise report their first odd byte (a UTF-8 error, a missing column) and advise the wrong fix.

    Parameters
    ----------
    path : Path
        The data file.
    what : str
        What the file should be, e.g. ``"a .ts text file"``, for the message.

    Raises
    ------
    InputError
        The file starts with the magic bytes of gzip, zip, bzip2, xz or zstd, or is a Git LFS pointer.
    """
    try:  # the loaders' first read of the file: an unreadable one is named here, with the fix
        with open(path, "rb") as fh:
            head = fh.read(len(_LFS_POINTER))
    except PermissionError as err:
        raise os_error(err, f"cannot read {path}", READ_FIX) from None
    for magic, (kind, suffix, tool) in _PACKED.items():
        if head.startswith(magic):
            # unzip extracts the archive's members under their own names, which may differ from the data file's
            moved = " and put the file it holds in its place" if suffix == "zip" else ""
            raise InputError(
                f"{path} is {kind}, not {what}; unpack it first, e.g. "
                f"mv {path.name} {path.name}.{suffix} && {tool} {path.name}.{suffix}{moved}"
            )
    if head.startswith(_LFS_POINTER):
        raise InputError(
            f"{path} is a Git LFS pointer file, not {what}: the data was never fetched; "
            "run 'git lfs pull' in the repository it came from, or download the real file"
        )


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of the file, cached per (path, inode, size, modification and change times).

    Parameters
    ----------
    path : Path
        The file to hash.

    Returns
    -------
    str
        64 lower-case hex digits.
    """
    stat = path.stat()
    # the change time too: an edit that keeps the size and puts the modification time back (cp -p, rsync -a,
    # os.utime) changes it, and was read as the published file it had been
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def warn_if_unpublished(path: Path, published: str, what: str) -> None:
    """Warn once per changed copy when the file's digest is not the published one.

    A digest alone does not refuse the file: a copy with other line endings or a re-encoded header holds the
    same numbers, and the structural checks (header, stamps, case counts) refuse the damage that matters.

    Parameters
    ----------
    path : Path
        The data file.
    published : str
        SHA-256 hex digest of the published file.
    what : str
        The file's name in the benchmark, e.g. ``"ETTm1"`` or ``"GunPoint train"``.
    """
    digest = file_sha256(path)
    seen = (str(path.resolve()), digest)
    if digest == published or seen in _WARNED:
        return
    _WARNED.add(seen)
    warn_user(
        f"{path} (SHA-256 {digest}) is not byte-identical to the published {what} file (SHA-256 {published}); "
        "it passed the structural checks, but scores on it may not compare with published numbers. "
        "Re-download the published file if they must",
        UnpublishedDataWarning,
    )
