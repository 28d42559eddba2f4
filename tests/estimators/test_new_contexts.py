"""New contexts and panels: the fitted step and stamps, short contexts read at the fitted step, values out of range."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sktime.forecasting.base import ForecastingHorizon

from tsrec.estimators import ARNetForecaster, CycleNetForecaster, PGNForecaster, SMambaForecaster
from tsrec.estimators.errors import InputError, MixedStepsWarning

from context_series import HOURS, TINY, cyclenet, panel, series  # tests/estimators/context_series.py


def two_hourly(start: str, n: int = 60) -> pd.Series:
    return series(index=pd.date_range(start, periods=n, freq="2h"))


CALENDAR = {
    "PGN": lambda: PGNForecaster(period=4, hidden=4, **TINY),
    "SMamba": lambda: SMambaForecaster(d_model=4, d_ff=4, e_layers=1, **TINY),
    "CycleNet": lambda: CycleNetForecaster(cycle_length=4, **TINY),
}


@pytest.mark.parametrize("name", list(CALENDAR))
def test_models_that_read_the_stamps_refuse_a_panel_of_mixed_steps(name):
    mixed = panel({"hourly": series(), "two_hourly": two_hourly("2024-01-01")})
    with pytest.raises(InputError, match="series 'two_hourly' of y has a step of 2h but the first series a step of h"):
        CALENDAR[name]().fit(mixed, fh=[1])


def test_models_that_do_not_read_the_stamps_take_mixed_steps():
    mixed = panel({"hourly": series(), "two_hourly": two_hourly("2024-01-01")})
    with pytest.warns(MixedStepsWarning, match="the series of y step differently"):  # see test_mixed_steps.py
        est = SMambaForecaster(d_model=4, d_ff=4, e_layers=1, time_features=False, **TINY).fit(mixed, fh=[1, 2])
    forecast = est.predict()
    assert list(forecast.index.names) == ["id", "time"] and list(forecast.columns) == ["v"]
    for key, step in (("hourly", "1h"), ("two_hourly", "2h")):  # each series steps on from its own end
        last = mixed.loc[key].index[-1]
        assert forecast.loc[key].index.tolist() == [last + pd.Timedelta(step), last + 2 * pd.Timedelta(step)]
    assert np.isfinite(forecast.to_numpy()).all()


def test_calendar_features_refuse_stamps_elsewhere_within_a_step():
    odd = panel({"even": two_hourly("2024-01-01 00:00"), "odd": two_hourly("2024-01-01 01:00")})
    with pytest.raises(InputError, match="series 'odd' of y lie 1h past a multiple of the 2h step"):
        CALENDAR["SMamba"]().fit(odd, fh=[1])
    est = CALENDAR["SMamba"]().fit(odd.loc["even"], fh=[1])
    with pytest.raises(InputError, match="lie 1h past .* those of the fitted data 0"):
        est.predict(y=odd.loc["odd"])


@pytest.mark.parametrize("name", list(CALENDAR))
def test_a_new_context_must_have_the_fitted_step_and_stamps(name):
    est = CALENDAR[name]().fit(series(96, pd.date_range("2024-01-01", periods=96, freq="h")), fh=[1])
    daily = series(index=pd.date_range("2024-01-01", periods=20, freq="D"))
    with pytest.raises(InputError, match="y has a step of D but the fitted data a step of h"):
        est.predict(y=daily)
    for unstamped in (daily.to_numpy(), daily.reset_index(drop=True)):
        with pytest.raises(InputError, match="no time stamps .* freq='h'"):
            est.predict(y=unstamped)
    est.predict(y=series(20))


def test_values_too_large_for_the_network_are_refused_and_any_finite_magnitude_standardises():
    # the scaler's variance overflowed float64 near 1e155 (and fit refused); a panel's scales did not
    est = cyclenet(series())
    big = cyclenet(series(scale=1e160))
    np.testing.assert_allclose(big.predict(), 1e160 * est.predict(), rtol=1e-5)
    with pytest.raises(InputError, match="the context's values lie too far from the training data's scale"):
        est.predict(y=series(scale=1e39))
    with pytest.raises(InputError, match="update's y's values lie too far"):
        est.update(series(index=HOURS[60:61], scale=1e39))


def test_a_forecast_that_overflows_inside_the_network_is_refused(monkeypatch):
    est = cyclenet(series())
    monkeypatch.setattr(est, "_forecast_path", lambda x, position, n: torch.full((1, 4, 1), float("inf")))
    with pytest.raises(InputError, match="the forecast is not finite"):
        est.predict()


def test_a_panel_context_or_forecast_out_of_range_names_its_series(monkeypatch):
    five = panel({k: series() for k in "abcde"})
    est = cyclenet(five)
    big = five.copy()
    big.loc[("d", HOURS[59]), "v"] = 1e39
    with pytest.raises(InputError, match=r"the context's values \(series 'd'\) lie too far"):
        est.predict(y=big)
    inf = torch.full((5, 4, 1), 1.0)
    inf[[0, 1, 2, 4], 2] = float("inf")
    monkeypatch.setattr(est, "_forecast_path", lambda x, position, n: inf)
    with pytest.raises(InputError, match=r"the forecast \(series 'a', 'b', 'c' and 1 more\) is not finite"):
        est.predict()


def test_a_missing_time_stamp_is_reported_as_such():
    index = HOURS.copy().to_series()
    index.iloc[30] = pd.NaT
    with pytest.raises(InputError, match=r"missing time stamps \(NaT\) at rows \[30\]"):
        cyclenet(series(index=pd.DatetimeIndex(index)))


def test_a_context_whose_step_is_spelled_differently_is_the_same_step():
    # "24h" and "D" (a CSV read back without its freq), month periods and month-start stamps
    y = pd.Series(np.sin(np.arange(80) * 2 * np.pi / 7), index=pd.date_range("2024-01-01", periods=80, freq="24h"))
    est = CycleNetForecaster(lookback=14, horizon=7, cycle_length=7, max_epochs=1, val_size=0.0,
                             random_state=0).fit(y.iloc[:60], fh=[1])
    unset = y.iloc[40:].set_axis(pd.DatetimeIndex(y.index[40:].to_numpy()))
    np.testing.assert_array_equal(est.predict(fh=[1], y=unset).to_numpy(),
                                  est.predict(fh=[1], y=y.iloc[40:]).to_numpy())
    monthly = pd.Series(np.sin(np.arange(60) * 2 * np.pi / 12), index=pd.period_range("2000-01", periods=60, freq="M"))
    est = CycleNetForecaster(lookback=24, horizon=3, cycle_length=12, max_epochs=1, val_size=0.0,
                             random_state=0).fit(monthly, fh=[1])
    starts = monthly.iloc[-30:].set_axis(monthly.index[-30:].to_timestamp(how="start"))
    np.testing.assert_array_equal(est.predict(fh=[1], y=starts).to_numpy(),
                                  est.predict(fh=[1], y=monthly.iloc[-30:]).to_numpy())


def test_daily_calendar_features_take_tz_aware_series_of_another_daylight_saving_season():
    rng = np.random.default_rng(0)

    def daily(start):
        return pd.Series(rng.normal(size=40), index=pd.date_range(start, periods=40, freq="D", tz="Europe/Berlin"))

    winter, summer = daily("2024-01-01"), daily("2024-06-01")
    params = dict(lookback=14, horizon=7, period=7, hidden=4, max_epochs=1, val_size=0.0, random_state=0)
    est = PGNForecaster(**params).fit(winter, fh=[1])
    assert np.isfinite(est.predict(fh=[1], y=summer).to_numpy()).all()
    PGNForecaster(**params).fit(pd.concat({"a": winter.to_frame(), "b": summer.to_frame()}), fh=[1])


def test_an_fh_given_to_fit_in_another_time_zone_names_the_same_instants():
    y = pd.Series(np.sin(np.arange(60) / 3),
                  index=pd.date_range("2024-03-30", periods=60, freq="h", tz="Europe/Berlin"))
    target = y.index[-1] + pd.Timedelta("2h")
    fh = ForecastingHorizon(pd.DatetimeIndex([target]).tz_convert("UTC"), is_relative=False)
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=fh)
    assert est.predict().index.tolist() == [target]


# ---- a context of a few rows is read at the fitted step --------------------------------------------


def from_a_file(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The stamps without their freq, as read from a CSV file."""
    return pd.DatetimeIndex(index.to_numpy())


BUSINESS = series(index=from_a_file(pd.bdate_range("2024-01-01", periods=60)))  # ends on a Friday
MONTHS = series(index=from_a_file(pd.date_range("2020-01-01", periods=40, freq="MS")))


@pytest.mark.parametrize("y, lookback", [(BUSINESS, 5), (MONTHS, 2), (BUSINESS, 1)],
                         ids=["business days, Monday to Friday", "two month starts", "one business day"])
def test_a_short_context_on_the_fitted_grid_is_read_at_the_fitted_step(y, lookback):
    est = ARNetForecaster(n_lags=lookback, horizon=2, max_epochs=1, random_state=0).fit(y)
    whole, tail = est.predict(fh=[1, 2, 3], y=y), est.predict(fh=[1, 2, 3], y=y.iloc[-lookback:])
    pd.testing.assert_series_equal(tail, whole)
    assert tail.index.equals(est.predict(fh=[1, 2, 3]).index)  # what the fitted model itself stamps
    at_stamps = ForecastingHorizon(whole.index, is_relative=False)
    pd.testing.assert_series_equal(est.predict(fh=at_stamps, y=y.iloc[-lookback:]), whole)


def test_models_that_read_the_stamps_take_a_short_context_on_the_fitted_grid():
    est = CycleNetForecaster(lookback=5, horizon=2, cycle_length=5, max_epochs=1, val_size=0.0,
                             random_state=0).fit(BUSINESS, fh=[1, 2])
    pd.testing.assert_series_equal(est.predict(y=BUSINESS.iloc[-5:]), est.predict(y=BUSINESS))
    # forecast_windows: the last window of the whole series is the only one of its last 7 rows
    np.testing.assert_array_equal(est.forecast_windows(BUSINESS.iloc[-7:]), est.forecast_windows(BUSINESS)[-1:])


def test_a_short_context_off_the_fitted_grid_is_refused_naming_both_steps():
    est = ARNetForecaster(n_lags=2, horizon=2, max_epochs=1, random_state=0).fit(MONTHS)
    mid_month = MONTHS.iloc[-2:].set_axis(pd.DatetimeIndex(["2023-03-15", "2023-04-15"]))
    stamps = r"\(2023-03-15 00:00:00, 2023-04-15 00:00:00, 31 days 00:00:00 apart\)"
    with pytest.raises(InputError, match=rf"the time stamps of y {stamps} are not consecutive steps of the fitted "
                                         r"step MS, and 2 stamps are too few.*at least 3 rows"):
        est.predict(fh=[1], y=mid_month)
    panel_context = panel({"a": MONTHS.iloc[-2:], "b": mid_month})
    with pytest.raises(InputError, match=r"series 'b' of y \(.*fitted step MS"):
        est.predict(fh=[1], y=panel_context)
    saturday = BUSINESS.iloc[-1:].set_axis(pd.DatetimeIndex(["2024-03-23"]))
    one_day = ARNetForecaster(n_lags=1, horizon=2, max_epochs=1, random_state=0).fit(BUSINESS)
    with pytest.raises(InputError, match=r"\(2024-03-23 00:00:00\) are not consecutive steps of the fitted step B, "
                                         r"and 1 stamp is too few"):
        one_day.predict(fh=[1], y=saturday)


def test_a_longer_context_at_its_own_step_keeps_it_or_the_stamp_readers_message():
    daily = series(index=from_a_file(pd.date_range("2024-01-01", periods=20, freq="D")))
    est = ARNetForecaster(n_lags=5, horizon=2, max_epochs=1, random_state=0).fit(BUSINESS)
    assert est.predict(fh=[1, 2], y=daily).index.tolist() == list(pd.date_range("2024-01-21", periods=2, freq="D"))
    reader = CycleNetForecaster(lookback=5, horizon=2, cycle_length=5, max_epochs=1, random_state=0).fit(BUSINESS)
    with pytest.raises(InputError, match="y has a step of D but the fitted data a step of B"):
        reader.predict(fh=[1], y=daily)


def test_a_series_near_1e300_standardises_without_numpy_overflow_warnings():
    # its variance overflows float64; the scaler's var_ line squared the scale outside the overflow guard
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        huge = cyclenet(series(scale=1e300))
    np.testing.assert_allclose(huge.predict(), 1e300 * cyclenet(series()).predict(), rtol=1e-5)


def test_a_daily_context_at_another_time_of_day_is_forecast_at_its_own_time():
    # a daily step's calendar features read whole days: a context at noon is no different from one at midnight
    index = pd.date_range("2024-01-01", periods=120, freq="D")
    y = pd.Series(np.sin(np.arange(120) / 3.0), index=index, name="y")
    est = PGNForecaster(period=7, hidden=4, lookback=28, horizon=7, max_epochs=1, batch_size=16, val_size=0.0,
                        patience=None, random_state=0).fit(y, fh=[1])
    noon = pd.Series(y.to_numpy()[-40:], index=pd.date_range("2024-06-01 12:00", periods=40, freq="D"), name="y")
    got = est.predict(fh=[1], y=noon)
    assert list(got.index) == [pd.Timestamp("2024-07-11 12:00")]
    midnight = pd.Series(noon.to_numpy(), index=noon.index.normalize(), name="y")
    np.testing.assert_array_equal(got.to_numpy(), est.predict(fh=[1], y=midnight).to_numpy())
