"""Saving in sktime's zip format (``est.save(path, serialization_format="pickle")``), atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tsrec._files import READ_FIX, hidden_stem, made_folders, os_error, refuse_folder, replace_keeping_mode
from tsrec.estimators._folder import refuse_inside_a_save

#: the members of sktime's model zip: an existing file holding other members is not replaced
SKTIME_ZIP_MEMBERS = {"_metadata", "_obj"}


def sktime_save(est, path, serialization_format: str | None):
    """sktime's zip file (or in-memory pair when ``path`` is None), loadable by ``sktime.base.load``.

    ``BaseObject.save`` only pickles ``est``, so it serves scikit-learn estimators as well. Here
    ``path`` may end in ``.zip`` or ``.ZIP`` (sktime would write ``model.zip.zip`` and then fail to
    open ``model.zip``) and hold other dots (``model.v2``), and the zip is written beside it and
    renamed into place, so an earlier zip is replaced whole or not at all.
    """
    from zipfile import ZipFile

    from sktime.base import BaseObject

    form = serialization_format or "pickle"
    if path is None:
        return BaseObject.save(est, None, serialization_format=form)
    given = Path(path)
    zipped = given if given.suffix.lower() == ".zip" else given.with_name(f"{given.name}.zip")
    zip_path = Path(os.path.realpath(zipped))  # a link is followed: the file it names is replaced, as folders are
    refuse_folder(zip_path, zipped)
    refuse_inside_a_save(zip_path, zipped)
    _refuse_other_file(zip_path, zipped)
    try:
        with made_folders(zip_path.parent):
            _zip_beside(est, zip_path, form)
    except OSError as err:
        raise os_error(err, f"cannot save to {path}") from None
    return ZipFile(zip_path)


def _zip_beside(est, zip_path: Path, form: str) -> None:
    """sktime's zip of ``est`` written in a hidden folder beside ``zip_path``, then renamed over it."""
    from sktime.base import BaseObject

    staging = Path(tempfile.mkdtemp(prefix=f".{hidden_stem(zip_path.stem)}.tsrec-zip-", dir=zip_path.parent))
    try:
        # a fixed name without dots: sktime 1.2 writes <name>.zip but then opens <stem of name>.zip
        BaseObject.save(est, staging / "model", serialization_format=form).close()
        replace_keeping_mode(staging / "model.zip", zip_path)  # an earlier zip's permissions stay
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _refuse_other_file(zip_path: Path, name: Path) -> None:
    """A FileExistsError when ``zip_path`` exists and is not a model zip of sktime's format: replacing
    it would lose a file of the user's (an archive, or any file named .zip) without a word."""
    from zipfile import BadZipFile, ZipFile

    if not zip_path.exists():
        return
    try:
        with ZipFile(zip_path) as archive:
            members = set(archive.namelist())
    except BadZipFile:
        members = None
    except OSError as err:  # e.g. not readable for this user: what it holds cannot be told
        raise os_error(err, f"cannot save to {name}: it exists and cannot be read to tell whether it is a saved "
                       "model", READ_FIX) from None
    if members != SKTIME_ZIP_MEMBERS:
        what = "a zip of other files" if members is not None else "not a zip file"
        raise FileExistsError(f"cannot save to {name}: it exists and is {what}, not a model saved in sktime's format "
                              "(which it would replace); choose another path, or move that file away")



def load_zip(cls: type, serial):
    """sktime's ``load_from_path``: the estimator pickled in the zip that ``sktime.base.load`` found.

    A folder that ``est.save(path)`` wrote is named with the call that loads it (``tsrec.load``),
    not with zipfile's bare ``IsADirectoryError``.

    Parameters
    ----------
    serial : str, os.PathLike or file-like
        The zip written by ``est.save(path, serialization_format="pickle")``.

    Returns
    -------
    object
        The unpickled estimator.
    """
    from sktime.base import BaseObject

    if isinstance(serial, (str, os.PathLike)) and Path(serial).is_dir():
        raise IsADirectoryError(
            f"{serial} is a folder, not an sktime zip; a folder written by est.save(path) loads with "
            f"tsrec.load({os.fspath(serial)!r}), a zip written by est.save(path, serialization_format='pickle') "
            "with sktime.base.load(path)"
        )
    return BaseObject.load_from_path.__func__(cls, serial)
