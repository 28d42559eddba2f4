"""sktime's ``pretrain`` is refused: its no-op let ``evaluate(cv_global=...)`` score per-series fits
as the global model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold
from sktime.forecasting.model_evaluation import evaluate
from sktime.split import ExpandingWindowSplitter

from tsrec.estimators import ARNetForecaster
from tsrec.registry import all_estimators

DAYS = pd.date_range("2020-01-01", periods=40, freq="D")
PANEL = pd.concat({f"s{i}": pd.DataFrame({"v": np.sin(np.arange(40) / 3 + i)}, index=DAYS) for i in range(4)},
                  names=["id", "t"])


@pytest.mark.parametrize("name, cls", all_estimators("forecaster"))
def test_every_forecaster_refuses_pretrain_and_names_the_global_fit(name, cls):
    est = cls()
    with pytest.raises(NotImplementedError, match=rf"{name}\.pretrain is not supported: .*est\.fit\(panel\), then "
                                                  r".*est\.predict\(fh, y=series\)"):
        est.pretrain(PANEL)
    assert est.state == "new"


def test_global_evaluation_fails_rather_than_scoring_per_series_fits():
    est = ARNetForecaster(n_lags=6, horizon=2, max_epochs=1, random_state=0)
    cv = ExpandingWindowSplitter(fh=[1, 2], initial_window=30, step_length=5)
    with pytest.raises(NotImplementedError, match="cv_global cannot run that; pass cv alone"):
        evaluate(est, cv, PANEL, cv_global=KFold(2), error_score="raise")
    scores = evaluate(est, cv, PANEL, error_score="raise")  # the temporal evaluation of the global model runs
    assert len(scores) == 2 and np.isfinite(scores.iloc[:, 0]).all()
