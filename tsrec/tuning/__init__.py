"""Tuning: Optuna search spaces for the registered estimators and :func:`tune` with pruning.

Examples
--------
>>> from tsrec.tuning import TuneResult, search_space, tune
>>> callable(tune) and callable(search_space)
True
"""

from tsrec._warn import import_lightning

import_lightning()  # before the modules below import it: the user's warning filters stay ahead of Lightning's

from tsrec.tuning.spaces import search_space  # noqa: E402
from tsrec.tuning.tune import TuneResult, tune  # noqa: E402

__all__ = ["TuneResult", "search_space", "tune"]
