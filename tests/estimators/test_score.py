"""``score`` compares the forecast with observations at its own stamps, never other rows by position."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon
from sktime.performance_metrics.forecasting import mean_absolute_percentage_error

from tsrec.estimators import ARNetForecaster
from tsrec.estimators.errors import InputError

Y = pd.Series(2.0 + np.sin(np.arange(120) / 3.0), index=pd.date_range("2024-01-01", periods=120, freq="h"))


@pytest.fixture
def est():  # each its own: a forecast at other stamps makes them the next default, as in predict
    return ARNetForecaster(n_lags=8, horizon=3, max_epochs=1, random_state=0).fit(Y.iloc[:80], fh=[1, 2, 3])


def test_the_score_is_the_mape_of_the_forecast_at_its_stamps(est):
    truth = Y.iloc[80:83]
    expected = mean_absolute_percentage_error(truth, est.predict(), symmetric=False)
    assert est.score(truth) == expected > 0
    assert est.score(truth.to_numpy()) == expected  # an array: in the forecast's order
    later = Y.iloc[100:103]  # other stamps, forecast there
    assert est.score(later, fh=ForecastingHorizon(later.index, is_relative=False)) != expected


@pytest.mark.parametrize("rows", [slice(100, 103), slice(80, 86)], ids=["other stamps", "more rows"])
def test_observations_at_other_stamps_are_refused(est, rows):
    # sktime compared them with the forecast row by row: a plausible score of the wrong rows
    with pytest.raises(InputError, match=r"score's y has \d rows \(2024-01-0.* but the forecast is at 3 stamps "
                                         r"\(2024-01-04 08:00:00 to 2024-01-04 10:00:00\).*is_relative=False"):
        est.score(Y.iloc[rows])


def test_an_array_of_another_length_is_refused(est):
    with pytest.raises(InputError, match=r"score's y has 2 rows but the forecast has 3, one per step of fh"):
        est.score(Y.iloc[80:82].to_numpy())


def test_a_panels_refusal_gives_a_fix_that_works():
    # the series' advice, fh=ForecastingHorizon(y.index, ...), fails on a panel's (id, time) pairs in sktime
    panel = pd.concat({key: Y.to_frame("v") + shift for key, shift in (("a", 0.0), ("b", 1.0))}, names=["id", "t"])
    times = panel.index.get_level_values("t")
    est = ARNetForecaster(n_lags=8, horizon=3, max_epochs=1, random_state=0).fit(panel[times < Y.index[80]], fh=[1, 2])
    later = panel[(times >= Y.index[81]) & (times < Y.index[83])]
    with pytest.raises(InputError, match=r"get_level_values\(-1\)\.unique\(\), is_relative=False\) with rows of every "
                                         r"fitted series.*predict_residuals") as err:
        est.score(later)
    fix = err.value.args[0].split("forecast at y's: fh=")[1].split(" with rows")[0]
    fh = eval(fix, {"ForecastingHorizon": ForecastingHorizon, "y": later})
    expected = mean_absolute_percentage_error(later, est.predict(fh=[2, 3]), symmetric=False)
    assert est.score(later, fh=fh) == pytest.approx(expected) and expected > 0
    only_a = later.loc[["a"]]
    residuals = est.predict_residuals(only_a)
    np.testing.assert_allclose(residuals.to_numpy(), (only_a - est.predict(fh=[2, 3]).loc[["a"]]).to_numpy(), rtol=1e-6)
