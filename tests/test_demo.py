"""The demo's baselines and its forecasts file, on small arrays (the whole job runs in test_cli.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from tsrec import demo

WINDOW = np.arange(48.0).reshape(1, 48, 1)  # one window: 0, 1, ..., 47


def test_repeat_last_repeats_each_windows_last_value():
    np.testing.assert_array_equal(demo.repeat_last(WINDOW, 3)[0, :, 0], [47, 47, 47])


def test_seasonal_naive_repeats_the_last_full_cycle():
    forecast = demo.seasonal_naive(WINDOW, 30, 24)[0, :, 0]  # past one cycle: the cycle again
    np.testing.assert_array_equal(forecast, np.r_[np.arange(24, 48), np.arange(24, 30)])


def test_the_forecasts_file_holds_data_units_at_the_steps_after_each_origin():
    index = pd.date_range("2020-01-01", periods=demo.LOOKBACK + demo.HORIZON + 1, freq="h")
    test = pd.DataFrame({"OT": np.arange(len(index), dtype=float)}, index=index)
    scaler = StandardScaler().fit(np.array([[0.0], [10.0]]))  # mean 5, scale 5
    pred = np.zeros((2, demo.HORIZON, 1))  # two windows, each the mean on the standardised scale
    frame = demo._forecast_frame(pred, test, scaler)
    assert len(frame) == 2 * demo.HORIZON and (frame["OT"] == 5.0).all()
    assert (frame["date"] - frame["origin"] == pd.to_timedelta(frame["step"], unit="h")).all()
    assert list(frame["origin"].unique()) == list(index[demo.LOOKBACK - 1 : demo.LOOKBACK + 1])
