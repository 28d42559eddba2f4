"""A refused forecast changes nothing: the steps later forecasts make, and what ``save`` writes, stay
those of the last forecast that succeeded (sktime stores the new fh before it checks X)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators import ARNetForecaster, LS4Forecaster

HOURS = pd.date_range("2020", periods=120, freq="h")
Y = pd.Series(np.sin(np.arange(120) / 3.0), index=HOURS)


@pytest.fixture(scope="module")
def ar_net():
    return ARNetForecaster(n_lags=8, horizon=4, max_epochs=1, random_state=0).fit(Y, fh=[1, 2])


@pytest.fixture(scope="module")
def ls4():
    params = dict(lookback=8, horizon=3, z_dim=2, d_model=4, d_state=4, n_layers=1, n_samples=8, max_epochs=1,
                  random_state=0)
    return LS4Forecaster(**params).fit(Y, fh=[1, 2])


METHODS = {
    "predict": lambda est, **kw: est.predict(**kw),
    "predict_interval": lambda est, **kw: est.predict_interval(**kw),
    "predict_quantiles": lambda est, **kw: est.predict_quantiles(**kw),
    "predict_var": lambda est, **kw: est.predict_var(**kw),
    "predict_proba": lambda est, **kw: est.predict_proba(**kw),
}


@pytest.mark.parametrize("method", list(METHODS))
def test_a_forecast_refusing_its_x_leaves_the_steps_of_later_forecasts(request, method, tmp_path):
    est = request.getfixturevalue("ar_net" if method == "predict" else "ls4")
    before = est.predict()
    with pytest.raises(TypeError):
        METHODS[method](est, fh=[1, 2, 3], X="not a frame")
    pd.testing.assert_series_equal(est.predict(), before)
    assert list(est.fh) == [1, 2]
    pd.testing.assert_series_equal(tsrec.load(est.save(tmp_path / "m")).predict(), before)


def test_a_forecast_that_succeeds_still_becomes_the_default():
    est = ARNetForecaster(n_lags=8, horizon=4, max_epochs=1, random_state=0).fit(Y, fh=[1, 2])
    est.predict(fh=[1, 2, 3])
    assert len(est.predict()) == 3 and list(est.fh) == [1, 2, 3]
