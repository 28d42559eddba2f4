"""Forms of fh that sktime accepts: tsrec answers them, or refuses them with its own message,
before sktime's handling sees them."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon

from tsrec.estimators import ARNetForecaster
from tsrec.estimators.errors import InputError

HOURS = pd.date_range("2024-01-01", periods=48, freq="h")


def arnet(y, fh=None) -> ARNetForecaster:
    return ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y, fh=fh)


def hourly(n: int = 48) -> pd.Series:
    return pd.Series(np.sin(np.arange(n) / 3.0) + 3, index=HOURS[:n], name="v")


def absolute(stamps) -> ForecastingHorizon:
    return ForecastingHorizon(stamps, is_relative=False)


HALF_HOURS = pd.date_range(HOURS[-1] + pd.Timedelta("30min"), periods=3, freq="30min")
OFF_GRID = {
    "half hours with their freq": HALF_HOURS,
    "half hours without a freq": pd.DatetimeIndex(list(HALF_HOURS)),
}


@pytest.mark.parametrize("label", list(OFF_GRID))
def test_stamps_off_the_grid_get_tsrecs_message_in_predict_fit_and_new_contexts(label):
    y = hourly()
    est = arnet(y)
    fh = absolute(OFF_GRID[label])
    for call in (lambda: est.predict(fh=fh), lambda: est.predict(fh=fh, y=y), lambda: arnet(y, fh=fh)):
        with pytest.raises(InputError, match="not on the time grid of y"):
            call()


def test_quarter_ends_are_off_the_grid_of_quarter_starts():
    y = pd.Series(np.arange(20.0), index=pd.date_range("2015-01-01", periods=20, freq="QS-JAN"))
    with pytest.raises(InputError, match="not on the time grid of y"):
        arnet(y).predict(fh=absolute(pd.date_range("2020-03-31", periods=2, freq="QE-DEC")))


def test_stamps_on_the_grid_with_a_freq_of_their_own_are_forecast():
    y = hourly()
    est = arnet(y)
    every_other = pd.date_range(HOURS[-1] + pd.Timedelta("1h"), periods=3, freq="2h")
    forecast = est.predict(fh=absolute(every_other))
    assert forecast.index.equals(every_other)
    np.testing.assert_array_equal(forecast.to_numpy(), est.predict(fh=[1, 3, 5]).to_numpy())


@pytest.mark.parametrize("dtypes", [("int64", "uint64"), ("uint64", "int64")], ids=["uint64 stamps", "uint64 data"])
def test_integer_stamps_of_the_other_signedness_are_forecast(dtypes):
    # sktime subtracts the cutoff: uint64 and int64 make floats, which it refused as no fh
    data, stamps = dtypes
    y = pd.Series(np.sin(np.arange(30) / 3.0), index=pd.Index(np.arange(30), dtype=data))
    est = arnet(y)
    forecast = est.predict(fh=absolute(pd.Index([31, 33], dtype=stamps)))
    assert forecast.index.tolist() == [31, 33]
    np.testing.assert_array_equal(forecast.to_numpy(), est.predict(fh=[2, 4]).to_numpy())
    if data == "int64":  # as int64 these would wrap to negative stamps: "not on the time grid" named no cause
        with pytest.raises(InputError, match=r"integer time points \[18446744073709551615\] past 9223372036854775807"):
            est.predict(fh=absolute(pd.Index([31, 2**64 - 1], dtype="uint64")))



def test_time_spans_of_whole_steps_are_those_steps_in_predict_fit_and_new_contexts():
    y = hourly()
    est = arnet(y)
    spans = ForecastingHorizon(pd.to_timedelta([1, 3], unit="h"))
    expected = est.predict(fh=[1, 3])
    for forecast in (est.predict(fh=spans), est.predict(fh=spans, y=y), arnet(y, fh=spans).predict()):
        assert forecast.index.equals(expected.index)
        np.testing.assert_array_equal(forecast.to_numpy(), expected.to_numpy())


def test_time_spans_that_are_not_whole_steps_are_refused_clearly():
    y = hourly()
    est = arnet(y)
    with pytest.raises(InputError,
                       match=r"time spans \['0 days 01:30:00'\] but y has a step of h, which is 0 days 01:00:00"):
        est.predict(fh=ForecastingHorizon(pd.to_timedelta([90], unit="min")))
    monthly = pd.Series(np.arange(30.0), index=pd.date_range("2020-01-31", periods=30, freq="ME"))
    with pytest.raises(InputError, match=r"y has a step of ME, which is not a fixed duration"):
        arnet(monthly).predict(fh=ForecastingHorizon(pd.to_timedelta([31], unit="D")))
    # monthly periods by their period name (the step's offset is named "ME", which names no period)
    with pytest.raises(InputError, match=r"y has a step of M, which is not a fixed duration"):
        arnet(monthly.to_period("M")).predict(fh=ForecastingHorizon(pd.to_timedelta([31], unit="D")))
    with pytest.raises(InputError, match=r"y has a step of 1, which is not a fixed duration"):
        arnet(y.to_numpy()).predict(fh=ForecastingHorizon(pd.to_timedelta([1], unit="h")))


def test_a_point_forecaster_says_it_makes_no_intervals_and_names_the_model_that_does():
    est = arnet(hourly())
    # sktime's own message told users to "open an issue on sktime"; its type is kept for its checks
    # with sktime's words for each, which its conformance checks match
    calls = ((est.predict_interval, "prediction intervals"), (est.predict_quantiles, "quantile predictions"),
             (est.predict_var, "variance predictions"), (est.predict_proba, "probabilistic predictions"))
    for method, words in calls:
        with pytest.raises(NotImplementedError, match=f"ARNetForecaster makes point forecasts only: .*{words}.*LS4"):
            method(fh=[1])
    with pytest.raises(NotImplementedError, match="point forecasts only"):  # before the fitted check, as sktime's
        ARNetForecaster().predict_interval(fh=[1])
    # the way out it names for any forecaster gives intervals
    from sktime.forecasting.conformal import ConformalIntervals

    y = hourly()
    conformal = ConformalIntervals(ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0),
                                   initial_window=len(y) - 20, sample_frac=0.5).fit(y, fh=[1, 2])
    with pytest.raises(NotImplementedError, match=r"ConformalIntervals\(ARNetForecaster\(\.\.\.\)\)"):
        est.predict_interval(fh=[1])
    bounds = conformal.predict_interval(coverage=0.8).to_numpy()
    assert bounds.shape == (2, 2) and (bounds[:, 0] < bounds[:, 1]).all()


def test_exogenous_x_is_declared_unused_and_changes_nothing():
    import tsrec

    for name, cls in tsrec.all_estimators(kind="forecaster"):
        assert cls.get_class_tag("capability:exogenous") is False, name
    y = hourly()
    X = pd.DataFrame({"price": np.r_[np.zeros(44), 100 * np.ones(6)]},
                     index=pd.date_range(HOURS[0], periods=50, freq="h"))
    with_x = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y, X=X.iloc[:48], fh=[1, 2])
    np.testing.assert_array_equal(with_x.predict(X=X.iloc[48:]).to_numpy(), arnet(y, fh=[1, 2]).predict().to_numpy())


def test_exogenous_x_with_unknown_future_rows_is_ignored_by_every_method():
    # sktime checked X for NaN before dropping it, so unknown future values of an ignored X were refused
    from sktime.forecasting.model_evaluation import evaluate
    from sktime.split import ExpandingWindowSplitter

    y = hourly()
    X = pd.DataFrame({"price": np.r_[np.arange(40.0), np.full(10, np.nan)]},
                     index=pd.date_range(HOURS[0], periods=50, freq="h"))
    with_x = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y.iloc[:44], X=X.iloc[:44])
    plain = arnet(y.iloc[:44])
    np.testing.assert_array_equal(with_x.predict(fh=[1, 2], X=X.iloc[44:46]), plain.predict(fh=[1, 2]))
    with_x.update(y.iloc[44:46], X=X.iloc[44:46], update_params=False)
    plain.update(y.iloc[44:46], update_params=False)
    np.testing.assert_array_equal(
        with_x.update_predict_single(y.iloc[46:47], fh=[1, 2], X=X.iloc[46:49], update_params=False),
        plain.update_predict_single(y.iloc[46:47], fh=[1, 2], update_params=False))
    cv = ExpandingWindowSplitter(fh=[1, 2], initial_window=44, step_length=2)
    scores = evaluate(ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0), cv, y, X=X.iloc[:48],
                      strategy="update")
    assert len(scores) == 2 and np.isfinite(scores.iloc[:, 0]).all()
    unknown = np.array([[1.0]] * 44 + [[None]] * 4, dtype=object)  # None in an object array
    ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(y, X=unknown)
    with pytest.raises(TypeError, match="type"):  # what X is still matters to sktime's checks
        ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(y, X=["f", "o", "o"])


@pytest.mark.parametrize("index", [pd.period_range("2024-01-01", periods=48, freq="h"), pd.Index(np.arange(0, 96, 2))],
                         ids=["period", "integer step 2"])
def test_predict_residuals_forecasts_ys_stamps_and_leaves_the_fh_as_it_was(index):
    y = pd.Series(np.sin(np.arange(48) / 3.0) + 3, index=index)
    est = arnet(y[:40], fh=[1, 2, 3])
    before = est.predict()
    # more rows than the fh: sktime's method used to leave its own fh in force for later forecasts
    residuals = est.predict_residuals(y[40:45])
    assert residuals.index.equals(y.index[40:45]) and not residuals.isna().any()
    np.testing.assert_allclose(residuals.iloc[:3].to_numpy(), (y[40:43] - before).to_numpy(), rtol=1e-6)
    after = est.predict()
    assert after.index.equals(before.index) and list(est.fh) == [1, 2, 3]


@pytest.mark.parametrize("shape", ["1-D", "2-D", "numpy3D panel"])
def test_predict_residuals_of_an_array_reads_its_rows_as_following_the_cutoff(shape):
    """As ``update`` does: sktime numbered them 0, 1, ..., in-sample steps, and every call failed."""
    values = np.sin(np.arange(48) / 3.0) + 3
    fitted, later = {
        "1-D": (values[:40], values[40:43]),
        "2-D": (np.c_[values, -values][:40], np.c_[values, -values][40:43]),
        "numpy3D panel": (np.stack([values, values + 1])[:, None, :40], np.stack([values, values + 1])[:, None, 40:43]),
    }[shape]
    est = arnet(fitted, fh=[1, 2])
    forecast = est.predict(fh=[1, 2, 3])
    residuals = est.predict_residuals(later)
    assert isinstance(residuals, np.ndarray) and residuals.shape == later.shape
    np.testing.assert_allclose(residuals, later - np.asarray(forecast).reshape(later.shape), rtol=1e-6)
    assert list(est.fh) == [1, 2, 3]  # the last fh stays in force


def _panel(values: np.ndarray) -> pd.DataFrame:
    shifts = {"a": 0, "b": 5}
    frames = {key: pd.DataFrame({"v": values + shift}, index=HOURS[:len(values)]) for key, shift in shifts.items()}
    return pd.concat(frames, names=["id", "time"])


@pytest.mark.parametrize("form", ["multiindex", "df-list"])
def test_predict_residuals_of_a_panel_forecasts_each_series_at_its_stamps(form):
    """sktime made an fh of the (id, time) index and failed with its TypeError."""
    y = _panel(np.sin(np.arange(48) / 3.0) * np.linspace(1, 2, 48))
    times = y.index.get_level_values("time")
    fitted, later = y[times < HOURS[40]], y[(times >= HOURS[40]) & (times < HOURS[43])]
    if form == "df-list":  # sktime numbers a df-list's series 0, 1, ...: fitted as one, given as one
        fitted, later = (frame.rename(index={"a": 0, "b": 1}) for frame in (fitted, later))
    est = arnet(fitted if form == "multiindex" else [fitted.loc[key] for key in (0, 1)], fh=[1, 2])
    forecast = est.predict(fh=[1, 2, 3])
    forecast = forecast if form == "multiindex" else pd.concat(forecast)
    given = later if form == "multiindex" else [later.loc[key] for key in (0, 1)]
    residuals = est.predict_residuals(given)
    expected = later.to_numpy() - forecast.to_numpy()
    if form == "multiindex":
        assert residuals.index.equals(later.index)
        np.testing.assert_allclose(residuals.to_numpy(), expected, rtol=1e-6)
    else:
        assert isinstance(residuals, list) and residuals[1].index.equals(later.loc[1].index)
        np.testing.assert_allclose(np.concatenate([part.to_numpy() for part in residuals]), expected, rtol=1e-6)
    with pytest.raises(InputError, match="not fitted on"):
        est.predict_residuals(later.rename(index={later.index[-1][0]: "new"}))


def test_panel_residuals_of_series_that_end_apart_read_each_series_end():
    """One fh of every stamp was refused where another series (given or not) ended later."""
    y = _panel(np.sin(np.arange(48) / 3.0) * np.linspace(1, 2, 48))
    times = y.index.get_level_values("time")
    fitted = y[(times < HOURS[40]) | ((y.index.get_level_values("id") == "b") & (times < HOURS[44]))]
    est = arnet(fitted, fh=[1, 2])
    forecast = est.predict(fh=[1, 2])  # a's at hours 40, 41; b's at 44, 45
    later_a = y.loc[[("a", HOURS[40]), ("a", HOURS[41])]]
    np.testing.assert_allclose(est.predict_residuals(later_a).to_numpy(),
                               later_a.to_numpy() - forecast.loc[["a"]].to_numpy(), rtol=1e-6)
    both = y.loc[[("a", HOURS[41]), ("b", HOURS[45])]]  # step 2 of each
    residuals = est.predict_residuals(both)
    assert residuals.index.equals(both.index)
    np.testing.assert_allclose(residuals.to_numpy(), both.to_numpy() - forecast.iloc[[1, 3]].to_numpy(), rtol=1e-6)


def test_panel_residuals_far_ahead_warn_before_the_roll_out(monkeypatch):
    # each series at its own stamps: the long roll-out warning of absolute stamps comes first
    minutes = pd.date_range("2024-01-01", periods=40, freq="min")
    y = pd.concat({key: pd.DataFrame({"v": np.sin(np.arange(40) / 3.0) + shift}, index=minutes)
                   for key, shift in (("a", 0), ("b", 5))}, names=["id", "time"])
    est = arnet(y, fh=[1, 2])
    far = pd.MultiIndex.from_tuples([("a", minutes[-1] + pd.Timedelta(minutes=3_000_000))], names=["id", "time"])

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop  # the roll-out itself would take minutes

    monkeypatch.setattr(est, "_forecast", stop)
    with pytest.warns(UserWarning, match=r"fh's stamps reach step 3,000,000 after the end of the data"):
        with pytest.raises(Stop):
            est.predict_residuals(pd.DataFrame({"v": [1.0]}, index=far))


@pytest.mark.parametrize("y", [np.arange(5.0), _panel(np.arange(5.0))], ids=["array", "panel"])
def test_predict_residuals_before_fit_says_so(y):
    from sktime.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="has not been fitted yet"):
        ARNetForecaster().predict_residuals(y)


@pytest.mark.parametrize("rows", ["at and after the cutoff", "before the cutoff", "frame", "none"])
def test_predict_residuals_in_sample_gives_tsrecs_one_line_error(rows):
    # the series paths handed these to sktime, whose message printed every stamp of the horizon
    from tsrec.estimators.errors import InSampleError

    y = hourly(48)
    est = arnet(y[:40], fh=[1])
    given = {"at and after the cutoff": y[38:42], "before the cutoff": y[30:33], "frame": y[35:37].to_frame(),
             "none": None}[rows]
    with pytest.raises(InSampleError) as err:
        est.predict_residuals(given)
    assert "in-sample" in str(err.value) and len(str(err.value)) < 250
    assert list(est.fh) == [1]


def test_a_horizon_built_with_another_frequency_is_refused_with_the_fix():
    # sktime's "Frequencies from two sources do not coincide" named neither fh nor a fix
    daily = pd.Series(np.sin(np.arange(40) / 3.0), index=pd.date_range("2020-01-01", periods=40, freq="D"))
    est = arnet(daily)
    hourly_fh = ForecastingHorizon([1, 2], freq="h")
    message = r"fh was built with freq='h', but y steps by 'D'; build it with freq='D', or without freq"
    with pytest.raises(InputError, match=message):
        est.predict(fh=hourly_fh)
    with pytest.raises(InputError, match=message):
        ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(daily, fh=hourly_fh)
    panel = pd.concat({"a": daily, "b": daily}).to_frame()
    with pytest.raises(InputError, match=message):
        ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(panel, fh=hourly_fh)
    same = est.predict(fh=ForecastingHorizon([1, 2], freq="D"))
    pd.testing.assert_series_equal(same, est.predict(fh=[1, 2]))


def test_a_horizon_of_the_wrong_kind_is_told_in_plain_english():
    with pytest.raises(InputError, match="but y has an integer time index"):
        arnet(pd.Series(np.arange(40.0))).predict(fh=absolute(pd.DatetimeIndex(["2020-02-10"])))


def test_a_panel_context_refuses_a_horizon_of_another_frequency_too():
    # the one-pass path for panel contexts took it and answered daily stamps without a word
    days = pd.date_range("2020-01-01", periods=40, freq="D")
    panel = pd.concat({k: pd.Series(np.sin(np.arange(40) / 3.0 + i), index=days)
                       for i, k in enumerate("ab")}).to_frame("v")
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(panel)
    with pytest.raises(InputError, match="fh was built with freq='h', but y steps by 'D'"):
        est.predict(fh=ForecastingHorizon([1, 2], freq="h"), y=panel)
    same = est.predict(fh=ForecastingHorizon([1, 2], freq="D"), y=panel)
    pd.testing.assert_frame_equal(same, est.predict(fh=[1, 2], y=panel))


@pytest.mark.parametrize("steps", [24, 2.0, range(1, 3), [1, 2], (1, 2)])
def test_steps_given_as_x_are_told_to_be_passed_as_fh(steps):
    # fit(y, 24) fills X, the second argument: sktime listed every data format X may take
    with pytest.raises(TypeError, match=rf"X={re.escape(repr(steps))} looks like forecast steps, no type of data X "
                                        rf"takes \(X, the second argument, is exogenous data, which tsrec's "
                                        rf"forecasters ignore\); pass the steps by name: fh={re.escape(repr(steps))}$"):
        ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(hourly(), steps)
    est = arnet(hourly())
    with pytest.raises(TypeError, match="looks like forecast steps"):
        est.predict([1], steps)
    for empty in ([], ()):  # sktime failed on them with a bare IndexError
        with pytest.raises(TypeError, match=rf"^X is an empty {type(empty).__name__}, no type of data X takes; leave "
                                            r"X out"):
            ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(hourly(), empty)
    for other in (True, [1, "a"]):  # booleans and lists of more than numbers stay sktime's to refuse
        with pytest.raises(TypeError, match="type"):
            ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(hourly(), other)


def test_fh_counted_from_zero_is_told_to_count_from_one():
    # range(24), the likeliest slip, was told only that in-sample forecasts are not supported
    from tsrec.errors import InSampleError

    est = arnet(hourly())
    with pytest.raises(InSampleError, match=r"got \[0, 1, 2\]; in-sample forecasts are not supported; steps count "
                                            r"from 1, the first after the end: fh=range\(1, 4\)$"):
        est.predict(fh=range(3))
    with pytest.raises(InSampleError, match=r"got \[0, 2\]; in-sample forecasts are not supported$"):
        est.predict(fh=[0, 2])  # not the first steps counted from 0: no guess
    with pytest.raises(InSampleError, match=r"got \[0\]; .*the first after the end: fh=\[1\]$"):
        est.predict(fh=0)
    assert len(est.predict(fh=range(1, 4))) == 3
