"""A panel whose series differ by orders of magnitude in spread warns at fit, with a fix that works.

One global scaler squeezed a series of spread 0.07 next to one of 7e5 to near-constant values: a
global CycleNet forecast it 66 away on average, silently (numerical robustness audit).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler
from sktime.forecasting.compose import TransformedTargetForecaster
from sktime.transformations.series.adapt import TabularToSeriesAdaptor

from tsrec.estimators import CycleNetForecaster

HOURS = pd.date_range("2024-01-01", periods=400, freq="h")
DAILY = np.sin(2 * np.pi * np.arange(424) / 24)


def panel(big: float, small: float) -> pd.DataFrame:
    frames = {"big": pd.DataFrame({"v": big * DAILY[:400]}, index=HOURS),
              "small": pd.DataFrame({"v": 1 + small * DAILY[:400]}, index=HOURS)}
    return pd.concat(frames, names=["id", "time"])


def cyclenet(epochs: int = 1) -> CycleNetForecaster:
    return CycleNetForecaster(lookback=48, horizon=24, max_epochs=epochs, random_state=0)


def test_series_spreads_far_apart_warn_naming_them_and_the_fix():
    with pytest.warns(RuntimeWarning, match=r"differ 1e\+07-fold in spread \(variate 'v': series 'small' std 0\.07\d+, "
                                            r"series 'big' std 7\.0\d+e\+05\).*TabularToSeriesAdaptor\(StandardScaler"):
        cyclenet().fit(panel(1e6, 0.1))


def test_series_of_comparable_spread_fit_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        cyclenet().fit(panel(50.0, 0.1))  # 500-fold: under the threshold
        cyclenet().fit(panel(1e6, 0.1).loc[["big"]])  # one series


def test_the_advised_per_series_scaling_forecasts_the_narrow_series():
    pipe = TransformedTargetForecaster([("scale", TabularToSeriesAdaptor(StandardScaler())), ("forecast", cyclenet(20))])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # each series reaches tsrec standardised
        forecast = pipe.fit(panel(1e6, 0.1)).predict(fh=range(1, 25))
    truth = 1 + 0.1 * DAILY[400:]
    assert np.abs(forecast.loc["small"]["v"].to_numpy() - truth).mean() < 0.05  # the spread is 0.07
