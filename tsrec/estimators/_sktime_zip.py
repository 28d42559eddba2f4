"""Saving in sktime's zip format (``est.save(path, serialization_format="pickle")``), atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tsrec._files import fsync_path, hidden_stem, made_folders, os_error, refuse_folder


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
        os.replace(staging / "model.zip", zip_path)
        fsync_path(zip_path.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
