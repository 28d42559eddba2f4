"""``tsrec.load``: rebuild any saved tsrec estimator from its folder."""

from __future__ import annotations

import os
from pathlib import Path

from tsrec.estimators._classifier import DeepClassifier
from tsrec.estimators._folder import CONFIG, estimator_class, read_folder
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._persistence import checked_path, load_forecaster
from tsrec.estimators.errors import LoadError

# what a config that parses and checks out but does not describe a buildable estimator raises
# (missing keys, wrong types or values, shapes that do not match); each becomes a LoadError
_STRUCTURAL = (KeyError, IndexError, TypeError, ValueError, AttributeError, RuntimeError, ArithmeticError)


def load(path: str | os.PathLike) -> DeepForecaster | DeepClassifier:
    """Load an estimator saved with ``est.save(path)``.

    The class is looked up by name among tsrec's registered estimators; nothing is unpickled and
    no code from the folder runs. A missing, truncated, modified or inconsistent file raises
    ``LoadError`` naming it.

    Parameters
    ----------
    path : str or os.PathLike
        The folder that ``est.save(path)`` wrote (``config.json`` and ``weights.safetensors``).

    Returns
    -------
    DeepForecaster or DeepClassifier
        A fitted estimator of the saved class, with the saved parameters and weights: it
        predicts as the saved one did.

    Raises
    ------
    TypeError
        ``path`` is not a str or os.PathLike.
    LoadError
        The folder or one of its files is missing, truncated, modified or inconsistent, or names
        a class that is not a registered tsrec estimator. A ``ValueError``.
    OSError
        The folder or a file in it cannot be read (a ``PermissionError`` for a folder this user may
        not read); the message names the folder and how to fix it.

    Examples
    --------
    >>> import tempfile, numpy as np, tsrec
    >>> from tsrec.estimators import ARNetForecaster
    >>> est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(np.sin(np.arange(60.0)))
    >>> folder = tempfile.mkdtemp() + "/model"
    >>> _ = est.save(folder)
    >>> np.allclose(tsrec.load(folder).predict(fh=[1, 2]), est.predict(fh=[1, 2]))
    True
    """
    path = checked_path(path, "tsrec.load")  # before Path(path) in read_folder: a TypeError naming path
    config, tensors = read_folder(path)
    config_file = Path(path) / CONFIG
    cls = estimator_class(config_file, config["class"])
    try:
        return _rebuild(cls, config, tensors)
    except LoadError as err:
        raise LoadError(f"{Path(path) / getattr(err, 'file', CONFIG)}: {err}") from None
    except _STRUCTURAL as err:
        raise LoadError(
            f"{config_file} does not describe a loadable {cls.__name__} ({type(err).__name__}: {err}); "
            "the save is damaged or from an incompatible tsrec version: save the model again"
        ) from err


def _rebuild(cls: type, config: dict, tensors: dict):
    loader = getattr(cls, "_load_from_folder", None)
    if loader is not None:
        return loader(config, tensors)
    return load_forecaster(cls, config, tensors)
