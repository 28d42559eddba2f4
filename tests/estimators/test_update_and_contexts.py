"""update() and new contexts: data that does not continue or match the fitted data is refused
before anything changes; data that does is used on the right time stamps and scale."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sktime.forecasting.base import ForecastingHorizon

import tsrec
from tsrec.estimators import ARNetForecaster, CycleNetForecaster, PGNForecaster, SMambaForecaster
from tsrec.estimators.errors import InputError

TINY = dict(lookback=8, horizon=4, max_epochs=1, batch_size=8, val_size=0.0, random_state=0)
HOURS = pd.date_range("2024-01-01", periods=200, freq="h")


def series(n: int = 60, index: pd.Index | None = None, scale: float = 1.0) -> pd.Series:
    index = HOURS[:n] if index is None else index
    return pd.Series((np.sin(np.arange(len(index)) / 3.0) + 2) * scale, index=index)


def cyclenet(y, **extra):
    return CycleNetForecaster(cycle_length=4, **TINY, **extra).fit(y, fh=[1, 2])


def panel(parts: dict) -> pd.DataFrame:
    return pd.concat({key: s.to_frame("v") for key, s in parts.items()}, names=["id", "time"])


def state(est) -> tuple:
    return list(est.cutoff), est._y.copy(), est.predict().to_numpy()


def assert_unchanged(est, before: tuple) -> None:
    cutoff, y, forecast = before
    assert list(est.cutoff) == cutoff
    pd.testing.assert_frame_equal(est._y, y)
    np.testing.assert_array_equal(est.predict().to_numpy(), forecast)


LAST = HOURS[59]
BAD_CHUNKS = {
    "a gap": (pd.date_range(LAST + pd.Timedelta("5h"), periods=2, freq="h"), "the 4 rows between"),
    "rows before the cutoff": (HOURS[:2] - pd.Timedelta("10h"), "before its last time stamp"),
    "another step": (pd.date_range(LAST + pd.Timedelta("1h"), periods=2, freq="D"), "not consecutive steps of h"),
    "an integer index": (pd.Index([1000, 1001]), "kind integer but the fitted data of kind date-time"),
    "tz-aware stamps": (pd.date_range(LAST + pd.Timedelta("1h"), periods=2, freq="h", tz="UTC"),
                        r"time zone UTC but the fitted data none \(naive\)"),
}


@pytest.mark.parametrize("update_params", [False, True])
@pytest.mark.parametrize("label", list(BAD_CHUNKS))
def test_update_refuses_rows_that_do_not_continue_the_series_and_changes_nothing(label, update_params):
    index, message = BAD_CHUNKS[label]
    est = cyclenet(series())
    before = state(est)
    with pytest.raises(InputError, match=message):
        est.update(pd.Series([1.0, 2.0], index=index), update_params=update_params)
    assert_unchanged(est, before)


def test_update_takes_overlapping_rows_that_reach_past_the_end():
    y = series(70)
    est = cyclenet(y.iloc[:60])
    est.update(y.iloc[50:65] + 1, update_params=False)  # as evaluate(strategy="update") passes windows
    assert est.cutoff[0] == y.index[64] and len(est._y) == 65
    np.testing.assert_array_equal(est._y.iloc[50:, 0].to_numpy(), y.iloc[50:65].to_numpy() + 1)


def test_update_with_numpy_rows_appends_them_after_the_last_stamp():
    y = series()
    stamped = cyclenet(y.iloc[:50])
    stamped.update(y.iloc[50:].to_numpy(), update_params=False)
    assert stamped.cutoff[0] == y.index[-1]
    np.testing.assert_array_equal(stamped._y.iloc[:, 0].to_numpy(), y.to_numpy())
    assert isinstance(stamped.predict(), np.ndarray)  # sktime answers in the container it saw last
    numbered = cyclenet(y.to_numpy()[:50])
    numbered.update(y.to_numpy()[50:], update_params=False)
    assert numbered.cutoff[0] == 59  # sktime alone would number the new rows 0, 1, ... over the first ones
    np.testing.assert_array_equal(numbered._y.iloc[:, 0].to_numpy(), y.to_numpy())


def test_panel_update_refuses_a_new_series_but_takes_some_of_the_known_ones():
    y = panel({"s0": series(40), "s1": series(40)})
    est = cyclenet(y)
    before = state(est)
    later = HOURS[40:60]
    with pytest.raises(InputError, match=r"series \['s2'\] that the forecaster was not fitted on"):
        est.update(panel({"s2": series(index=later)}), update_params=False)
    assert_unchanged(est, before)
    with pytest.raises(InputError, match="fitted on a panel"):
        est.update(series(index=later[:2]), update_params=False)
    est.update(panel({"s1": series(index=later[:1])}), update_params=False)
    assert est.predict().loc["s1"].index[0] == later[1]


@pytest.mark.parametrize("update_params", [False, True])
def test_an_update_of_some_series_keeps_the_latest_cutoff(update_params):
    # sktime set the cutoff from the update's rows alone: a series that ends earlier moved it back
    y = panel({"s0": series(40), "s1": series(30)})
    est = cyclenet(y)
    assert est.cutoff[0] == HOURS[39]
    est.update(panel({"s1": series(index=HOURS[30:32])}), update_params=update_params)
    assert est.cutoff[0] == HOURS[39]
    assert est.predict().loc["s1"].index[0] == HOURS[32] and est.predict().loc["s0"].index[0] == HOURS[40]


UNSORTED_IDS = ["b", "a", "c10", "c2"]  # not in sorted order: sktime's store of new rows sorts them


def unsorted_panel() -> pd.DataFrame:
    return panel({key: series(60, scale=1.0 + i) for i, key in enumerate(UNSORTED_IDS)})


@pytest.mark.parametrize("update_params", [False, True])
def test_update_keeps_the_series_in_the_fitted_order(update_params):
    full = unsorted_panel()
    first, later = full.groupby(level=0, sort=False).head(50), full.groupby(level=0, sort=False).tail(10)
    est = cyclenet(first)
    # the same windows in the same order as a fit on the whole panel: the same model
    expected = cyclenet(full).predict() if update_params else est.predict(fh=[1, 2], y=full)
    est.update(later, update_params=update_params)
    assert list(est._y.index.get_level_values(0).unique()) == UNSORTED_IDS
    pd.testing.assert_frame_equal(est.predict(), expected)


@pytest.mark.parametrize("layout", ["runs", "interleaved"])
def test_the_stored_order_is_each_series_first_appearance(layout):
    from tsrec.estimators._updates import in_stored_order

    stored = unsorted_panel().groupby(level=0, sort=False).head(50)
    if layout == "interleaved":  # rows by time, series alternating
        stored = stored.iloc[np.argsort(np.tile(np.arange(50), 4), kind="stable")]
    merged = unsorted_panel().sort_index()  # as sktime stores stored rows and new ones
    kept = in_stored_order(stored, merged)
    assert list(kept.index.get_level_values(0).unique()) == UNSORTED_IDS
    pd.testing.assert_frame_equal(kept.sort_index(), merged)  # the same rows, each series' in time order
    assert all(part.index.get_level_values(1).is_monotonic_increasing for _, part in kept.groupby(level=0))


def test_a_loaded_forecaster_refuses_to_refit_on_its_saved_context(tmp_path):
    y = series()
    est = cyclenet(y.iloc[:50])
    est.save(tmp_path / "model")
    loaded = tsrec.load(tmp_path / "model")
    with pytest.raises(InputError, match=r"restored by tsrec.load\(\).*update_params=False"):
        loaded.update(y.iloc[50:])
    assert list(loaded.cutoff) == list(est.cutoff)
    # update_params=False moves the cutoff and keeps the weights, as on the original
    loaded.update(y.iloc[50:], update_params=False)
    est.update(y.iloc[50:], update_params=False)
    np.testing.assert_array_equal(loaded.predict().to_numpy(), est.predict().to_numpy())
    loaded.fit(y, fh=[1, 2])  # a fit brings back the full data: updates may refit again
    loaded.update(series(index=HOURS[60:61]))


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


def test_an_array_fitted_model_takes_named_update_rows_as_its_numbered_columns():
    values = np.random.default_rng(0).normal(size=(40, 2))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(values[:30])
    est.update(pd.DataFrame(values[30:], columns=["a", "b"], index=pd.RangeIndex(30, 40)), update_params=False)
    assert list(est._y.columns) == [0, 1] and est._y.shape == (40, 2)
    assert est.predict(fh=[1]).shape == (1, 2)


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


@pytest.mark.parametrize("empty", [None, series(0), np.empty((0, 1))], ids=["None", "empty Series", "empty array"])
def test_an_empty_update_warns_and_changes_nothing_as_in_sktime(empty):
    est = cyclenet(series())
    before = state(est)
    with pytest.warns(UserWarning, match="empty y passed to update"):
        est.update(empty)
    assert_unchanged(est, before)
    with pytest.warns(UserWarning, match="empty y passed to update_predict"):
        forecast = est.update_predict_single(empty)
    np.testing.assert_array_equal(forecast.to_numpy(), before[2])
    assert_unchanged(est, before)


@pytest.mark.parametrize("empty", ["numpy3D", "df-list"])
def test_an_empty_panel_update_warns_and_changes_nothing(empty):
    # their len() counts series: sktime took them for rows, and update failed with fit's "y is empty"
    panel = np.stack([series().to_numpy()[None], series().to_numpy()[None] + 1])  # (2 series, 1 variate, time)
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(panel)
    forecast = est.predict(fh=[1, 2])
    rows = np.empty((2, 1, 0)) if empty == "numpy3D" else [pd.DataFrame({0: []}), pd.DataFrame({0: []})]
    with pytest.warns(UserWarning, match="empty y passed to update"):
        est.update(rows)
    np.testing.assert_array_equal(est.predict(fh=[1, 2]), forecast)
    with pytest.warns(UserWarning, match="empty y passed to update_predict"):
        np.testing.assert_array_equal(est.update_predict_single(rows, fh=[1, 2]), forecast)


def test_forecasters_refuse_sktimes_remember_data_false_which_would_drop_the_data_they_forecast_from():
    assert CycleNetForecaster().get_config()["remember_data"] is True  # whatever sktime's default
    est = CycleNetForecaster(cycle_length=4, **TINY).set_config(remember_data=False)
    with pytest.raises(ValueError, match=r"remember_data=False.*set_config\(remember_data=True\)"):
        est.fit(series(), fh=[1, 2])
    fitted = cyclenet(series())
    before = state(fitted)
    fitted.set_config(remember_data=False)
    with pytest.raises(ValueError, match="remember_data=False"):
        fitted.update(series(70).iloc[60:], update_params=False)
    assert_unchanged(fitted, before)


def test_a_series_near_1e300_standardises_without_numpy_overflow_warnings():
    # its variance overflows float64; the scaler's var_ line squared the scale outside the overflow guard
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        huge = cyclenet(series(scale=1e300))
    np.testing.assert_allclose(huge.predict(), 1e300 * cyclenet(series()).predict(), rtol=1e-5)


@pytest.mark.parametrize("value", ["False", "no", 0.0])
def test_update_params_that_is_no_bool_is_refused_before_anything_changes(value):
    # "False" read as True: the weights the caller meant to keep were refitted
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(series(40))
    weights = [p.detach().clone() for p in est.network_.parameters()]
    with pytest.raises(ValueError, match=rf"update_params must be True or False, got {value!r}"):
        est.update(series(60).iloc[40:], update_params=value)
    with pytest.raises(ValueError, match="reset_forecaster must be True or False"):
        est.update_predict(series(60).iloc[40:], update_params=False, reset_forecaster="no")
    assert est.cutoff[0] == HOURS[39] and all(torch.equal(a, b) for a, b in zip(weights, est.network_.parameters()))
