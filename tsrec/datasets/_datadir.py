"""The one data-folder lookup of every loader: ``data_dir``, else ``$TSREC_DATA``, else ``../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path

from tsrec._warn import warn_user
from tsrec.errors import InputFileNotFoundError

ENV_VAR = "TSREC_DATA"
# what data_dir=None does, in messages (the benchmark scripts say "drop --data-dir" for "None")
_DEFAULT_SEARCH = f"or None to search ${ENV_VAR} and the checkout's ../shared/data"


def _dev_data(module_file: Path) -> Path | None:
    """``../shared/data`` beside the repository root when ``module_file`` lies in a checkout, else None.

    tsrec/datasets/_datadir.py -> the repository root is two levels above the package folder; a
    development checkout keeps the benchmark files beside it. Installed, that folder would be
    site-packages, whose neighbour is nobody's data folder: only a root holding pyproject.toml counts.
    """
    root = module_file.resolve().parents[2]
    return root.parent / "shared" / "data" if (root / "pyproject.toml").is_file() else None


DEV_DATA: Path | None = _dev_data(Path(__file__))


def data_roots(data_dir: str | os.PathLike[str] | None) -> list[Path]:
    """Folders to search, in order: ``data_dir`` alone when given, else ``$TSREC_DATA`` and ``DEV_DATA`` (if any)."""
    if data_dir is not None:
        return [_checked_dir(data_dir)]
    roots = []
    env = os.environ.get(ENV_VAR, "")
    if env:  # an empty TSREC_DATA counts as unset, not as the current folder
        roots.append(Path(env).expanduser())
        if not roots[0].is_dir():  # a typo would otherwise fall through to another folder unnoticed
            warn_user(
                f"{ENV_VAR}={env!r} is not a folder, so no data file is found there; "
                "set it to the folder that holds the data files"
            )
    # TSREC_DATA may name the checkout's own data folder: searched (and listed in messages) once
    if DEV_DATA is not None and DEV_DATA.is_dir() and not any(_same_folder(root, DEV_DATA) for root in roots):
        roots.append(DEV_DATA)
    return roots


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:  # a TSREC_DATA that does not exist (warned about above)
        return False


def _checked_dir(data_dir: object) -> Path:
    """``data_dir`` as a Path to an existing folder; refuse other types and the empty string (the current folder)."""
    if not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be a folder path (str or os.PathLike) or None, got {type(data_dir).__name__}")
    if not os.fspath(data_dir):
        raise ValueError(f"data_dir is empty; pass the folder that holds the data files, {_DEFAULT_SEARCH}")
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():  # a file or a typo would otherwise read as "no data here", or list nothing
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise InputFileNotFoundError(
            f"data_dir {str(folder)!r} {what}; pass the folder that holds the data files, {_DEFAULT_SEARCH}"
        )
    return folder


def first_file(tried: list[Path], what: str, where_to_put: str, data_dir: object = None,
               fix: str | None = None) -> Path:
    """The first existing file of ``tried``, or an InputFileNotFoundError listing every path tried.

    The error is both a ``FileNotFoundError`` and a ``ValueError`` (tsrec's ``InputError``), the
    class :func:`tsrec.batch.read_series` raises for a missing input file. ``fix``, when given,
    replaces the advice to put the file in a folder (e.g. the right spelling of a name).
    """
    for path in tried:
        if path.is_file():
            return path
    listing = "\n  ".join(f"{p}{_not_a_file(p)}" for p in tried) or _no_folder()
    if fix is None:
        # with data_dir only that folder is searched: TSREC_DATA would not be read
        where = (f" (data_dir={os.fspath(data_dir)!r} is the only folder searched when given; pass data_dir=None to "
                 f"search {ENV_VAR} and the data folders)" if data_dir is not None else
                 f" and pass data_dir=<folder> or set the environment variable {ENV_VAR}=<folder>")
        fix = f"{where_to_put}{where}."
    raise InputFileNotFoundError(f"{what} not found. Searched:\n  {listing}\n{fix}")


def _not_a_file(path: Path) -> str:
    """Why a searched path that exists in some form is no file to read: the listing alone read as missing."""
    if path.is_dir():
        return " (a folder, not a file)"
    if path.is_symlink():  # a link whose target is gone
        return f" (a link to {os.readlink(path)}, which does not exist)"
    return ""


def _no_folder() -> str:
    """Why nothing was searched; the development folder is named only in a checkout, where it applies."""
    dev = f", no {DEV_DATA}" if DEV_DATA is not None else ""
    return f"(no folder to search: no data_dir, {ENV_VAR} unset{dev})"


def warn_if_fallback(path: Path, data_dir: str | os.PathLike[str] | None) -> None:
    """Warn when ``$TSREC_DATA`` is set but ``path`` was found in a later folder of the search.

    A user who set the variable believes the files come from there; a file missing there and read from
    the checkout's or sktime's folder may be another copy. With ``data_dir`` only that folder is searched.
    """
    env = os.environ.get(ENV_VAR, "")
    root = Path(env).expanduser()
    if data_dir is not None or not env or not root.is_dir():  # unset, or not a folder: data_roots warned
        return
    # as found (a data folder of links to a shared store holds its files) or where its links lead
    found_there = Path(os.path.abspath(path)).is_relative_to(os.path.abspath(root))
    if not (found_there or path.resolve().is_relative_to(root.resolve())):
        warn_user(
            f"{path.name} is not in {ENV_VAR}={env!r}, so it was read from {path.parent} further down the "
            f"search; put the file in {env} (or pass data_dir=) to read your own copy"
        )

