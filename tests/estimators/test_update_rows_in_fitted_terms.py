"""update() and update_predict_single(): rows named otherwise continue the fitted variates and
levels, and a refused call leaves the forecaster exactly as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster
from tsrec.estimators.errors import InputError

HOURS = pd.date_range("2024-01-01", periods=60, freq="h")


def arnet(y) -> ARNetForecaster:
    return ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])


def load(n: int = 60, name: object = "load") -> pd.Series:
    return pd.Series(np.sin(np.arange(n) / 3.0) + 3, index=HOURS[:n], name=name)


@pytest.mark.parametrize("update_params", [False, True])
@pytest.mark.parametrize("name", [None, "other", 0])
def test_a_univariate_update_named_otherwise_continues_the_fitted_variate(name, update_params):
    y = load()
    est = arnet(y.iloc[:40])
    est.update(y.iloc[40:].rename(name), update_params=update_params)
    assert list(est._y.columns) == ["load"] and est._y.shape == (60, 1)
    forecast = est.predict()
    assert isinstance(forecast, pd.Series) and forecast.name == "load"  # the fitted name, as fit's forecasts
    assert forecast.index[0] == HOURS[-1] + pd.Timedelta("1h") and np.isfinite(forecast).all()
    same = arnet(y.iloc[:40]).update(y.iloc[40:], update_params=update_params)
    np.testing.assert_array_equal(forecast.to_numpy(), same.predict().to_numpy())


def test_a_frame_update_of_a_series_fitted_model_answers_in_frames_with_the_fitted_column():
    y = load()
    est = arnet(y.iloc[:40]).update(y.iloc[40:].to_frame("renamed"), update_params=False)
    forecast = est.predict()
    assert isinstance(forecast, pd.DataFrame) and list(forecast.columns) == ["load"]


def test_a_panel_update_with_other_level_names_continues_the_fitted_series():
    frames = {key: load(40).to_frame("v") + shift for key, shift in (("a", 0.0), ("b", 1.0))}
    later = {key: load(60).iloc[40:].to_frame("v") + shift for key, shift in (("a", 0.0), ("b", 1.0))}
    est = arnet(pd.concat(frames, names=["id", "time"]))
    est.update(pd.concat(later), update_params=False)  # levels unnamed, as pd.concat(dict) leaves them
    assert est.cutoff[0] == HOURS[59] and list(est._y.index.names) == ["id", "time"] and len(est._y) == 120
    forecast = est.predict()
    assert list(forecast.index.names) == ["id", "time"]
    assert forecast.index.get_level_values("time").unique().tolist() == list(pd.date_range(HOURS[59], periods=3, freq="h")[1:])
    assert np.isfinite(forecast.to_numpy()).all()
