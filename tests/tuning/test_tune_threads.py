"""tune called from several threads at once leaves the process's warning filters and loggers as it found them."""

from __future__ import annotations

import logging
import threading
import warnings

from tsrec.datasets import make_ar
from tsrec.estimators import ARNetForecaster
from tsrec.tuning import tune


def test_tunes_in_threads_leave_no_warning_filter_or_logger_level_behind():
    # warnings.catch_warnings is process-wide: interleaved, one thread restored the filters another had
    # changed, which left ('ignore', Warning) behind, hiding every later warning of the process
    y = make_ar((0.5, -0.3), n_samples=300)
    est = ARNetForecaster(n_lags=4, max_epochs=2, val_size=0.25, random_state=1)

    def space(trial):
        return {"lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True)}

    alone = {seed: tune(est, y, n_trials=2, space=space, random_state=seed).best_params for seed in (0, 1, 2)}
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    filters, level = list(warnings.filters), logger.level
    found = {}
    threads = [threading.Thread(target=lambda s=seed: found.update({s: tune(est, y, n_trials=2, space=space,
                                                                             random_state=s).best_params}))
               for seed in (0, 1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == alone
    assert warnings.filters == filters and logger.level == level
