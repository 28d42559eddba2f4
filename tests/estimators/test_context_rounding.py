"""A new context so far from the training data's level that float32 rounds away its own variation is warned of."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster


def _series(offset: float = 0.0, start: str = "2024-01-01") -> pd.Series:
    return pd.Series(np.sin(np.arange(60.0) / 3) + offset, index=pd.date_range(start, periods=60, freq="h"))


@pytest.mark.parametrize("precision", ["32-true", "64-true"])
def test_a_context_a_billion_standard_deviations_off_is_warned_of_in_float32(precision):
    # standardised, it varied by steps of 64 in float32: CycleNet's forecast came out 130 off, without a word
    est = ARNetForecaster(n_lags=8, horizon=2, max_epochs=1, random_state=0, precision=precision).fit(_series())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(fh=[1, 2], y=_series(10.0))  # ten training deviations off: nothing to say
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
        est.predict(fh=[1, 2], y=panel)
