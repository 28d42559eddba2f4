"""update() and update_predict_single(): rows named otherwise continue the fitted variates and
levels, and a refused call leaves the forecaster exactly as it was."""

from __future__ import annotations

import re

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
    assert (forecast.index.get_level_values("time").unique().tolist()
            == list(pd.date_range(HOURS[59], periods=3, freq="h")[1:]))
    assert np.isfinite(forecast.to_numpy()).all()


def snapshot(est) -> tuple:
    return list(est.cutoff), est._y.copy(), est._y_metadata["mtype"], est.predict().to_numpy()


def assert_as_before(est, before: tuple) -> None:
    cutoff, y, mtype, forecast = before
    assert list(est.cutoff) == cutoff and est._y_metadata["mtype"] == mtype
    pd.testing.assert_frame_equal(est._y, y)
    np.testing.assert_array_equal(est.predict().to_numpy(), forecast)


@pytest.mark.parametrize("update_params", [False, True])
def test_update_predict_single_refuses_rows_off_the_grid_and_changes_nothing(update_params):
    y = load()
    est = arnet(y.iloc[:40])
    before = snapshot(est)
    with pytest.raises(InputError, match="the 5 rows between"):
        est.update_predict_single(y.iloc[45:50], update_params=update_params)  # rows 40..44 missing
    assert_as_before(est, before)


def test_update_predict_single_that_fails_to_forecast_changes_nothing():
    y = load()
    est = arnet(y.iloc[:40])
    before = snapshot(est)
    with pytest.raises(InputError, match="in-sample"):
        est.update_predict_single(y.iloc[40:45], fh=[0, 1], update_params=False)
    assert_as_before(est, before)


def test_update_predict_single_takes_numpy_rows_after_the_last_stamp_as_update_does():
    y = load()
    est = arnet(y.iloc[:40])
    forecast = est.update_predict_single(y.to_numpy()[40:45], update_params=False)
    assert est.cutoff[0] == HOURS[44] and isinstance(forecast, np.ndarray)
    expected = arnet(y.iloc[:40]).update(y.iloc[40:45], update_params=False).predict().to_numpy()
    np.testing.assert_array_equal(forecast.ravel(), expected)
    numbered = arnet(y.to_numpy()[:40])
    numbered.update_predict_single(y.to_numpy()[40:45], update_params=False)
    assert numbered.cutoff[0] == 44 and len(numbered._y) == 45


@pytest.mark.parametrize("update_params", [False, True])
def test_update_predict_runs_the_checked_update_for_every_window(update_params):
    from sktime.forecasting.model_selection import ExpandingWindowSplitter

    y = load()
    est = arnet(y.iloc[:40])
    before = snapshot(est)
    cv = ExpandingWindowSplitter(fh=[1, 2], initial_window=40, step_length=5)
    forecasts = est.update_predict(y, cv=cv, update_params=update_params)
    assert_as_before(est, before)  # sktime runs the windows on a copy
    manual = arnet(y.iloc[:40])
    expected = [manual.update(y.iloc[:end], update_params=update_params).predict() for end in (40, 45, 50, 55)]
    by_cutoff = forecasts.to_numpy().T.ravel()  # a column of forecasts per cutoff, NaN elsewhere
    np.testing.assert_array_equal(by_cutoff[~np.isnan(by_cutoff)], pd.concat(expected).to_numpy())


@pytest.mark.parametrize("bad_window", ["first", "later"])
def test_update_predict_on_the_forecaster_itself_changes_nothing_when_refused(bad_window):
    from sktime.forecasting.model_selection import ExpandingWindowSplitter

    y = load()
    y.iloc[42 if bad_window == "first" else 52] = 1e300  # beyond float32 once standardised: refused
    est = arnet(y.iloc[:40])
    before = snapshot(est)
    cv = ExpandingWindowSplitter(fh=[1, 2], initial_window=40, step_length=5)
    with pytest.raises(InputError, match="too far from the training data's scale"):
        est.update_predict(y, cv=cv, update_params=False, reset_forecaster=False)
    assert_as_before(est, before)  # sktime had moved the cutoff back and stored the windows before it


@pytest.mark.parametrize("reset_forecaster", [True, False])
def test_update_predict_names_a_missing_value_as_update_does(reset_forecaster):
    from sktime.split import ExpandingWindowSplitter

    y = load()
    y.iloc[47] = np.nan
    est = arnet(y.iloc[:40])
    before = snapshot(est)
    cv = ExpandingWindowSplitter(fh=[1, 2], initial_window=40, step_length=5)
    # sktime's "cannot handle missing data (nans)" said neither where nor how to fill it
    message = r"y contains NaN or inf \(1 NaN\), the first at .*2024-01-02 23:00.*interpolate"
    with pytest.raises(InputError, match=message):
        est.update_predict(y, cv=cv, reset_forecaster=reset_forecaster)
    assert_as_before(est, before)


def test_an_update_whose_refit_fails_keeps_the_old_rows_cutoff_and_weights(monkeypatch):
    y = load()
    est = arnet(y.iloc[:40])
    before, network = snapshot(est), est.network_

    def broken(*args):
        raise RuntimeError("refit failed")

    monkeypatch.setattr(est, "_train", broken)
    with pytest.raises(RuntimeError, match="refit failed"):
        est.update(y.iloc[40:])  # sktime has stored the rows and moved the cutoff by then
    assert est.network_ is network
    assert_as_before(est, before)


@pytest.mark.parametrize("gap, message", [(1, r"the 1 row between \(steps of M\) is missing; give it"),
                                          (5, r"the 5 rows between \(steps of M\) are missing; give them")])
def test_a_gap_in_monthly_periods_is_named_in_periods(gap, message):
    # the message named the periods' offset, "ME" (a month-end date-time code), and "the 1 rows"
    y = pd.Series(np.sin(np.arange(40) / 3), index=pd.period_range("1955-01", periods=40, freq="M"))
    est = arnet(y)
    new = pd.Series([1.0, 2.0], index=pd.period_range(y.index[-1] + 1 + gap, periods=2, freq="M"))
    with pytest.raises(InputError, match=rf"start at {new.index[0]} but the stored ones end at 1958-04: {message}"):
        est.update(new)


def test_update_rows_at_another_step_are_named_so():
    # two-hourly rows for an hourly series: "the 1 row between (steps of h) is missing"
    est = arnet(load(40))
    two_hourly = pd.Series([1.0, 2.0, 3.0], index=pd.date_range(HOURS[41], periods=3, freq="2h"))
    with pytest.raises(InputError, match=r"the new rows of y are 2 steps of h apart, where the stored rows are one; "
                                         r"give a row per step of h \(resample them\)$"):
        est.update(two_hourly, update_params=False)
    assert est.cutoff[0] == HOURS[39]


def _without_freq(index: pd.Index) -> pd.Index:
    """Stamps as read from a file: the same instants, no freq."""
    return pd.DatetimeIndex(list(index))


@pytest.mark.parametrize("n_new", [1, 2])
def test_update_predict_takes_one_or_two_rows_without_a_freq(n_new):
    from sktime.split import ExpandingWindowSplitter

    y = load(40 + n_new)
    est = arnet(y.iloc[:40])
    cv = ExpandingWindowSplitter(fh=[1], initial_window=0)
    # sktime moves the cutoff one step before the first new row by the rows' freq, which it infers only
    # from three stamps: pandas' NullFrequencyError "Cannot shift with no freq"
    forecasts = est.update_predict(y.iloc[40:].set_axis(_without_freq(y.index[40:])), cv=cv, update_params=False)
    expected = est.update_predict(y.iloc[40:], cv=cv, update_params=False)  # a date_range's rows keep its freq
    pd.testing.assert_series_equal(forecasts, expected, check_freq=False)
    assert len(forecasts) == n_new


def test_update_predict_takes_a_panel_whose_stamps_carry_no_freq():
    from sktime.split import ExpandingWindowSplitter

    panel = pd.concat({"a": load(50), "b": 2 * load(50)}).to_frame("load")
    later = panel.index.get_level_values(-1) >= HOURS[40]
    est = arnet(panel[~later])
    cv = ExpandingWindowSplitter(fh=[1, 2], initial_window=1)
    expected = est.update_predict(panel[later], cv=cv, update_params=False)
    read = panel[later].copy()
    read.index = read.index.set_levels(_without_freq(read.index.levels[-1]), level=-1)
    pd.testing.assert_frame_equal(est.update_predict(read, cv=cv, update_params=False), expected)


@pytest.mark.parametrize("stamps", [[HOURS[40], HOURS[42]], [HOURS[41], HOURS[42]]], ids=["apart", "after-a-gap"])
def test_update_predict_names_rows_off_the_fitted_step_as_update_does(stamps):
    # two rows without a freq, not one step apart or not next to the stored ones: sktime shifted them
    # by their (no) freq first, pandas' NullFrequencyError "Cannot shift with no freq"
    from sktime.split import ExpandingWindowSplitter

    est = arnet(load(40))
    rows = pd.Series([1.0, 2.0], index=_without_freq(pd.DatetimeIndex(stamps)))
    with pytest.raises(InputError) as refused:
        est.update(rows, update_params=False)
    with pytest.raises(InputError, match=f"^{re.escape(refused.value.args[0])}$"):
        est.update_predict(rows, cv=ExpandingWindowSplitter(fh=[1], initial_window=0), update_params=False)
    assert est.cutoff[0] == HOURS[39]


def test_update_rows_between_the_grid_stamps_are_named_with_the_stamps_expected():
    est = arnet(load(40))
    half_past = HOURS[40] + pd.Timedelta(minutes=30)
    with pytest.raises(InputError, match=rf"the new row of y at {half_past} is off its time grid \(steps of h\): "
                                         rf"{HOURS[40]} was expected next; give the row at a stamp on the grid$"):
        est.update(pd.Series([1.0], index=[half_past]), update_params=False)
    rows = pd.Series([1.0, 2.0], index=pd.date_range(half_past, periods=2, freq="h"))
    with pytest.raises(InputError, match=rf"they run from {half_past} to {rows.index[-1]} \(2 rows\) where "
                                         rf"{HOURS[40]} to {HOURS[41]} was expected; give one row per step"):
        est.update(rows, update_params=False)
    assert est.cutoff[0] == HOURS[39]


def test_update_predict_takes_the_next_row_of_each_series_of_a_panel_whose_series_end_apart():
    # tests/estimators/test_update_rows_in_fitted_terms.py: update takes these rows; update_predict failed with
    # pandas' NullFrequencyError "Cannot shift with no freq" (the level [01-31, 02-04] does not conform to D)
    from sktime.split import ExpandingWindowSplitter

    y = pd.concat({k: pd.DataFrame({"y": np.sin(np.arange(30.0)) + i}, index=pd.date_range(start, periods=30, freq="D"))
                   for i, (k, start) in enumerate(zip("ab", ["2024-01-01", "2024-01-05"]))})
    est = ARNetForecaster(n_lags=4, horizon=1, max_epochs=1, random_state=0).fit(y, fh=[1])
    new = pd.DataFrame({"y": [0.5, 0.6]}, index=pd.MultiIndex.from_tuples([("a", pd.Timestamp("2024-01-31")),
                                                                           ("b", pd.Timestamp("2024-02-04"))]))
    est.update_predict(new, cv=ExpandingWindowSplitter(fh=[1], initial_window=0), update_params=False)
