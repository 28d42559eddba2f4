"""Tuning: Optuna search spaces for the registered estimators and :func:`tune` with pruning.

Examples
--------
>>> from tsrec.tuning import TuneResult, search_space, tune
>>> callable(tune) and callable(search_space)
True
"""

from tsrec.tuning.spaces import search_space
from tsrec.tuning.tune import TuneResult, tune

__all__ = ["TuneResult", "search_space", "tune"]
