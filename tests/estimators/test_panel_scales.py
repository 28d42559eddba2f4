"""A panel whose series differ by orders of magnitude in spread warns at fit, with a fix that works.

One global scaler squeezed a series of spread 0.07 next to one of 7e5 to near-constant values: a
global CycleNet forecast it 66 away on average, silently (numerical robustness audit). The fix
the warning gives, ``scaling="series"`` (now the default), is tested in test_series_scaling.py.
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


def panel(big: float, small: float, level: float = 0.0) -> pd.DataFrame:
    frames = {"big": pd.DataFrame({"v": level + big * DAILY[:400]}, index=HOURS),
              "small": pd.DataFrame({"v": 1 + small * DAILY[:400]}, index=HOURS)}
    return pd.concat(frames, names=["id", "time"])


def cyclenet(epochs: int = 1, scaling: str = "global") -> CycleNetForecaster:
    return CycleNetForecaster(lookback=48, horizon=24, max_epochs=epochs, random_state=0, scaling=scaling)


def test_a_series_far_narrower_than_the_panel_warns_naming_it_and_the_fix():
    with pytest.warns(RuntimeWarning, match=r"series 'small' of y has a spread \(std 0\.07\d+ in variate 'v'\) "
                                            r"7\.07e\+06 times below that of all series together \(5\.0\d+e\+05\).*"
                                            r"standardise each series on its own with scaling='series'"):
        cyclenet().fit(panel(1e6, 0.1))


def test_series_of_the_same_spread_far_apart_in_level_warn_too():
    # the global scale is the gap between the levels (5e5), which squeezes both series alike
    with pytest.warns(RuntimeWarning, match=r"series '(big|small)' of y \(and 1 more\) has a spread \(std 0\.07\d+"):
        cyclenet().fit(panel(0.1, 0.1, level=1e6))


def test_the_spreads_are_exact_at_a_large_level():
    from tsrec.estimators._scaling import warn_mixed_scales

    # std 0.707 and 7.07e-4 at a level of 1e9, where x**2 - mean**2 would cancel to noise
    rows = np.concatenate([1e9 + DAILY[:400], 1e9 + 1e-3 * DAILY[:400]])[:, None]
    narrow = f"{np.std(1e-3 * DAILY[:400]):.3g}"  # computed away from the level
    with pytest.warns(RuntimeWarning, match=rf"series 'b' of y has a spread \(std {narrow} in variate 0\) 1e\+03 "
                                            r"times below that of all series together \(0\.707\)"):
        warn_mixed_scales(rows, ["a", "b"], [400, 400], [0], np.array([0.707]))


def test_the_narrowest_series_is_named_and_a_constant_one_is_not_squeezed():
    from tsrec.estimators._scaling import warn_mixed_scales

    wave = DAILY[:400]
    # of two narrow series, the narrower is named (the first of them was free to be), the other counted
    rows = np.concatenate([1e3 * wave, wave, 1e-2 * wave])[:, None]
    with pytest.warns(RuntimeWarning, match=r"^series 'narrowest' of y \(and 1 more\) has a spread \(std 0\.007"):
        warn_mixed_scales(rows, ["wide", "narrow", "narrowest"], [400] * 3, ["v"], rows.std(0))
    # a constant series has no spread to squeeze: no warning ("0 ... inf times below" without the spread > 0 test)
    rows = np.concatenate([100 * wave, np.full(400, 3.0)])[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warn_mixed_scales(rows, ["wave", "flat"], [400, 400], ["v"], rows.std(0))


def test_series_of_comparable_spread_fit_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        cyclenet().fit(panel(5.0, 0.1))  # 50-fold: under the threshold
        cyclenet().fit(panel(1e6, 0.1).loc[["big"]])  # one series
        cyclenet(scaling="series").fit(panel(1e6, 0.1))  # each series scaled on its own


def test_sktimes_per_series_scaling_pipeline_also_forecasts_the_narrow_series():
    pipe = TransformedTargetForecaster([("scale", TabularToSeriesAdaptor(StandardScaler())),
                                        ("forecast", cyclenet(20, "global"))])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # each series reaches tsrec standardised
        forecast = pipe.fit(panel(1e6, 0.1)).predict(fh=range(1, 25))
    truth = 1 + 0.1 * DAILY[400:]
    assert np.abs(forecast.loc["small"]["v"].to_numpy() - truth).mean() < 0.05  # the spread is 0.07
