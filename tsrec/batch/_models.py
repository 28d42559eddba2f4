"""Fitted forecasters for batch forecasting: a saved model is loaded once per process (each Dask
worker keeps its own), re-loaded when its files change."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from tsrec._files import READ_FIX, os_error, user_path
from tsrec.batch._checks import check_model
from tsrec.batch.io import PathLike
from tsrec.estimators._folder import sktime_zip_hint
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._persistence import checked_path
from tsrec.estimators.errors import LoadError, ModelNotFoundError
from tsrec.persistence import load

# models loaded by workers, keyed by folder and file times: each process loads a folder once
_CACHE: OrderedDict[tuple, DeepForecaster] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def _cache_key(path: str) -> tuple:
    folder = Path(path).resolve()
    try:
        stamps = tuple(f.stat().st_mtime_ns for f in sorted(folder.iterdir()) if f.is_file())
    except PermissionError as err:
        raise os_error(err, f"cannot read the saved model {path}", READ_FIX) from None
    return str(folder), stamps


def load_cached(path: PathLike) -> DeepForecaster:
    """Load the forecaster saved at ``path`` once per process (re-loaded when the files change).

    Models are cached by resolved folder and the modification times of its files; the cache
    holds the four most recently used, and one lock makes threads share a single load.

    Parameters
    ----------
    path : str or os.PathLike
        A folder written by ``est.save(path)`` holding a fitted tsrec forecaster.

    Returns
    -------
    DeepForecaster
        The fitted forecaster; the same object on every call while the folder is unchanged (it
        is shared: refit or update a copy, not it).

    Raises
    ------
    LoadError
        ``path`` is not a folder, or the save in it is missing, damaged or inconsistent.
    TypeError
        ``path`` is not a str or os.PathLike, or the saved estimator is a classifier, not a forecaster.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from tsrec.estimators import ARNetForecaster
    >>> folder = tempfile.mkdtemp() + "/model"
    >>> _ = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(np.sin(np.arange(60.0))).save(folder)
    >>> load_cached(folder) is load_cached(folder)
    True
    """
    path = checked_path(path, "tsrec.batch.load_cached")  # before Path(path): None failed inside pathlib
    if not Path(path).is_dir():
        exists = Path(path).exists()
        error = LoadError if exists or sktime_zip_hint(path) else ModelNotFoundError
        raise error(f"{path} is not a saved tsrec estimator: {'a file, not a folder' if exists else 'no such folder'}; "
                    f"pass a folder written by est.save (CLI: --model){sktime_zip_hint(path)}")
    key = _cache_key(str(path))
    # one lock for the whole load: threads of one worker must not load the same folder twice
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = check_model(load(path), path)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        _CACHE.move_to_end(key)
        return _CACHE[key]


def resolve_model(model: DeepForecaster | PathLike) -> tuple[DeepForecaster, str | None]:
    """The fitted forecaster, and its folder when ``model`` is a path."""
    if isinstance(model, (str, os.PathLike)):
        path = str(user_path(model).resolve())
        return load_cached(path), path
    return check_model(model, "model"), None
