"""``tsrec.load``: rebuild any saved tsrec estimator from its folder."""

from __future__ import annotations

import os

from tsrec.estimators._persistence import load_forecaster, read_folder
from tsrec.estimators.errors import LoadError
from tsrec.registry import all_estimators


def load(path: str | os.PathLike):
    """Load an estimator saved with ``est.save(path)``.

    The class is looked up by name among tsrec's registered estimators; nothing is unpickled and
    no code from the folder runs. A missing, truncated or modified file raises ``LoadError``.

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
    config, tensors = read_folder(path)
    classes = dict(all_estimators())
    name = config.get("class")
    if name not in classes:
        raise LoadError(f"{path}: unknown estimator class {name!r}; known: {sorted(classes)}")
    cls = classes[name]
    loader = getattr(cls, "_load_from_folder", None)
    if loader is not None:
        return loader(config, tensors)
    return load_forecaster(cls, config, tensors)
