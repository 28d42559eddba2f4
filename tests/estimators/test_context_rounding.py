"""A new context far from the training data's level is warned of: where float32 rounds away its own variation,
and, for a network that reads each window's level as it is, where it lies beyond the levels fitted on."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster, CycleNetForecaster, LS4Forecaster, PGNForecaster


def _series(offset: float = 0.0, start: str = "2024-01-01") -> pd.Series:
    return pd.Series(np.sin(np.arange(60.0) / 3) + offset, index=pd.date_range(start, periods=60, freq="h"))


@pytest.mark.parametrize("precision", ["32-true", "64-true"])
def test_a_context_a_billion_standard_deviations_off_is_warned_of_in_float32(precision):
    # standardised, it varied by steps of 64 in float32: CycleNet's forecast came out 130 off, without a word
    est = CycleNetForecaster(lookback=8, horizon=2, cycle_length=4, max_epochs=1, random_state=0, precision=precision)
    est.fit(_series())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(fh=[1, 2], y=_series(10.0))  # fourteen training deviations off: nothing to say
        if precision == "64-true":
            est.predict(fh=[1, 2], y=_series(1e9))
            return
    with pytest.warns(UserWarning, match=r"^the context lies 1\.\d+e\+09 training standard deviations from the "
                                         r"training mean, where float32 .* rounds it by .*precision='64-true'"):
        est.predict(fh=[1, 2], y=_series(1e9))


def test_the_series_of_a_panels_context_is_named():
    est = ARNetForecaster(n_lags=8, horizon=2, max_epochs=1, random_state=0).fit(_series())
    panel = pd.concat({"near": _series().to_frame("v"), "far": _series(1e9).to_frame("v")})
    with pytest.warns(UserWarning, match=r"the context of series 'far' lies 1\.\d+e\+09 training standard deviations"):
        with pytest.warns(RuntimeWarning, match=r"the context of series 'far' lies 1\.\d+e\+09 .* far outside the "
                                                "levels ARNetForecaster was fitted on"):
            est.predict(fh=[1, 2], y=panel)


LEVEL_READERS = {  # whether each network reads a window's level as it is, by the flag that takes it away
    "ARNet": (lambda: ARNetForecaster(n_lags=8, horizon=2, max_epochs=1, random_state=0), "use a forecaster that"),
    "LS4": (lambda: LS4Forecaster(lookback=8, horizon=2, d_model=8, n_samples=4, max_epochs=1, random_state=0),
            "fit with instance_norm=True, which"),
    "PGN, norm=False": (lambda: PGNForecaster(lookback=8, horizon=2, period=2, norm=False, max_epochs=1,
                                              random_state=0), "fit with norm=True, which"),
}
LEVEL_REMOVERS = {
    "LS4, instance_norm": lambda: LS4Forecaster(lookback=8, horizon=2, d_model=8, n_samples=4, instance_norm=True,
                                                max_epochs=1, random_state=0),
    "PGN": lambda: PGNForecaster(lookback=8, horizon=2, period=2, max_epochs=1, random_state=0),
    "CycleNet": lambda: CycleNetForecaster(lookback=8, horizon=2, cycle_length=4, max_epochs=1, random_state=0),
}


@pytest.mark.parametrize("name", LEVEL_READERS)
def test_a_context_far_from_the_fitted_levels_is_warned_of_where_the_network_reads_the_level(name):
    # extreme-values audit: ARNet fitted on a unit sine forecast -53 for a context 50 higher, LS4 about 0, no word
    make, fix = LEVEL_READERS[name]
    est = make().fit(_series())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est.predict(fh=[1, 2], y=_series(5.0))  # seven training deviations: within reach
    with pytest.warns(RuntimeWarning, match=r"^the context lies (\d+\.\d|\d\d) training standard deviations from "
                                            r"the training mean on average, .*; fit on data that reaches this level, "
                                            rf"or {fix}"):
        est.predict(fh=[1, 2], y=_series(50.0))


@pytest.mark.parametrize("name", LEVEL_REMOVERS)
def test_networks_that_take_each_windows_level_away_are_not_warned_of(name):
    est = LEVEL_REMOVERS[name]().fit(_series())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est.predict(fh=[1, 2], y=_series(50.0))
