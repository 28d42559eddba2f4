"""Business month/quarter/year, semi-month and custom business-day steps: one step per period,
counted as pandas steps them, so every forecaster takes them (as sktime's own forecasters do)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon

from tsrec.estimators import ARNetForecaster, CycleNetForecaster
from tsrec.estimators._timeindex import positions, step_positions
from tsrec.estimators.errors import InputError, InSampleError

HOLIDAYS = pd.offsets.CustomBusinessDay(holidays=["2020-01-06", "2020-02-14"], weekmask="Mon Tue Wed Thu")
FREQS = ["BME", "BMS", "BQE", "BQS-JAN", "BYE", "BYS", "2BME", "SME", "SMS", "CBME", HOLIDAYS]


def series(freq, n: int = 40) -> pd.Series:
    return pd.Series(np.sin(np.arange(n) / 3.0) + 3, index=pd.date_range("2020-01-01", periods=n, freq=freq), name="v")


@pytest.mark.parametrize("freq", FREQS, ids=str)
def test_steps_are_consecutive_from_one_stamp_to_the_next(freq):
    index = pd.date_range("1965-01-01", periods=400, freq=freq)
    for count in (positions, step_positions):
        assert (np.diff(count(index, index.freq)) == 1).all()


@pytest.mark.parametrize("freq", FREQS, ids=str)
def test_forecasters_take_the_steps(freq):
    y = series(freq)
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y.iloc[:36], fh=[1, 2])
    forecast = est.predict()
    # the stamps pandas steps to (sktime's NaiveForecaster drops a custom week mask: Friday for Mon-Thu)
    assert forecast.index.equals(y.index[36:38]) and forecast.index.freq == y.index.freq
    stamps = ForecastingHorizon(y.index[36:38], is_relative=False)
    np.testing.assert_array_equal(est.predict(fh=stamps).to_numpy(), forecast.to_numpy())
    with pytest.raises(InputError, match="the 1 row between .* is missing"):
        est.update(y.iloc[37:], update_params=False)
    est.update(y.iloc[36:], update_params=False)
    assert est.cutoff[0] == y.index[-1]


def test_a_business_month_is_its_calendar_month_for_a_cycle():
    business, calendar = (pd.date_range("2020-01-01", periods=30, freq="BME"),
                          pd.date_range("2020-01-01", periods=30, freq="ME"))
    np.testing.assert_array_equal(positions(business, business.freq), positions(calendar, calendar.freq))
    y = series("BME", 60)
    est = CycleNetForecaster(lookback=12, horizon=3, cycle_length=12, max_epochs=1, val_size=0.0, random_state=0)
    month_ends = y.iloc[-24:].set_axis(pd.date_range(y.index[-24], periods=24, freq="ME"))
    est.fit(y.iloc[:-24], fh=[1])
    np.testing.assert_array_equal(est.predict(y=month_ends).to_numpy(), est.predict(y=y.iloc[-24:]).to_numpy())


@pytest.mark.parametrize("freq", ["bh", "WOM-1MON"])
def test_steps_that_cannot_be_counted_are_refused_clearly(freq):
    with pytest.raises(InputError, match=f"steps of '{freq}' cannot be counted .* resample them"):
        ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(series(freq))
    # before a setting read off the step: "pass cycle_length" came first, and its fix led to this refusal
    with pytest.raises(InputError, match=f"steps of '{freq}' cannot be counted .* resample them"):
        CycleNetForecaster(lookback=6, horizon=2, max_epochs=1).fit(series(freq))


@pytest.mark.parametrize("freq", ["BME", HOLIDAYS], ids=str)
def test_stamps_given_to_fit_stay_those_stamps_after_an_update(freq):
    # sktime cannot place these stamps, so tsrec hands it steps; an update must not shift them
    y = series(freq)
    est = ARNetForecaster(n_lags=3, horizon=3, max_epochs=1, random_state=0)
    est.fit(y.iloc[:34], fh=ForecastingHorizon(y.index[36:38], is_relative=False))
    est.update(y.iloc[34:35], update_params=False)
    assert est.predict().index.equals(y.index[36:38])
    est.update(y.iloc[35:37], update_params=False)  # the first stamp is now in the data
    with pytest.raises(InSampleError, match="not after the end"):
        est.predict()
    stamps = ForecastingHorizon(y.index[38:40], is_relative=False)
    assert est.predict(fh=stamps).index.equals(y.index[38:40])
    assert est.predict().index.equals(y.index[38:40])  # the last fh given, as sktime keeps it


def test_panel_stamps_at_other_steps_after_each_series_end_are_refused():
    # _horizon._as_steps: stamps without pandas periods become one list of steps for the whole
    # panel; series ending on other business month ends reach them at other steps: refuse
    a, b = series("BME").iloc[:30], series("BME").iloc[:32]
    y = pd.concat({"a": a, "b": b}).to_frame()
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    stamps = ForecastingHorizon(series("BME").index[33:35], is_relative=False)
    with pytest.raises(InputError, match="other steps after the ends"):
        est.predict(fh=stamps)
