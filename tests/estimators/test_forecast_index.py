"""Forecasts land on the right time stamps, in float64, and new data must match what was fitted."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon
from sktime.forecasting.naive import NaiveForecaster

import tsrec

from tsrec.estimators import CycleNetForecaster, PGNForecaster, SMambaForecaster
from tsrec.estimators.errors import InputError, InSampleError

SMALL = dict(lookback=24, horizon=6, max_epochs=1, random_state=0)


def panel_ending_apart(hourly_frame: pd.DataFrame) -> pd.DataFrame:
    """Series "a" ends 180 hours before series "b"."""
    frame = hourly_frame[["a"]]
    return pd.concat({"a": frame.iloc[:300], "b": frame.iloc[100:]}, names=["id", "time"])


def test_an_absolute_fh_names_the_same_stamps_for_every_series_of_a_panel(hourly_frame):
    panel = panel_ending_apart(hourly_frame)
    wanted = pd.date_range(hourly_frame.index[-1] + pd.Timedelta("1h"), periods=2, freq="h")
    fh = ForecastingHorizon(wanted, is_relative=False)
    est = CycleNetForecaster(**SMALL).fit(panel)
    expected = NaiveForecaster().fit(panel).predict(fh=fh).index
    for forecast in (est.predict(fh=fh), est.predict(fh=fh, y=panel)):
        assert forecast.index.equals(expected)
    # series "a" is 180 steps behind: its stamps are steps 181 and 182 of a relative forecast
    far = est.predict(fh=[181, 182]).loc["a"]
    np.testing.assert_allclose(est.predict(fh=fh).loc["a"].to_numpy(), far.to_numpy())


def test_an_absolute_fh_on_an_integer_index_with_a_step(hourly_frame):
    y = pd.Series(hourly_frame["a"].to_numpy(), index=np.arange(0, 2 * len(hourly_frame), 2))
    # sktime's composites would label the forecasts last + 1, last + 2, ...: fit says so
    with pytest.warns(UserWarning, match=r"integer time index steps by 2: .* index y by step numbers \(y.index // 2\)"):
        est = CycleNetForecaster(cycle_length=24, **SMALL).fit(y)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*integer time index")
        CycleNetForecaster(cycle_length=24, **SMALL).fit(y.reset_index(drop=True))
    after = int(y.index[-1])
    absolute = est.predict(fh=ForecastingHorizon([after + 2, after + 4, after + 6], is_relative=False))
    relative = est.predict(fh=[1, 2, 3])
    assert absolute.index.tolist() == relative.index.tolist() == [after + 2, after + 4, after + 6]
    np.testing.assert_array_equal(absolute.to_numpy(), relative.to_numpy())
    with pytest.raises(InputError, match="not on the time grid"):
        est.predict(fh=ForecastingHorizon([after + 3], is_relative=False))
    with pytest.raises(InSampleError, match="not after the end of y"):
        est.predict(fh=ForecastingHorizon([after], is_relative=False), y=y)


def test_forecasts_are_float64_and_keep_the_frequency(hourly_frame):
    big = hourly_frame["a"] * 10 + 1e9  # float32 steps are 64 apart near 1e9
    forecast = CycleNetForecaster(**SMALL).fit(big).predict(fh=[1, 2, 3, 4])
    assert forecast.dtype == np.float64
    assert len(np.unique(forecast.to_numpy())) == 4
    assert forecast.index.freq == "h"


def test_new_data_must_hold_the_fitted_variates_by_name(hourly_frame):
    est = CycleNetForecaster(**SMALL).fit(hourly_frame.iloc[:300])
    swapped = hourly_frame[["b", "a"]]
    with pytest.raises(InputError, match=r"variates \['b', 'a'\] but the forecaster was fitted on \['a', 'b'\]"):
        est.predict(fh=[1], y=swapped)
    with pytest.raises(InputError, match=r"variates \['b', 'a'\]"):
        est.update(swapped.iloc[300:320], update_params=False)
    with pytest.raises(InputError, match="y has 1 variates but the forecaster was fitted on 2"):
        est.update(hourly_frame[["a"]].iloc[300:320], update_params=False)
    with pytest.raises(InputError, match="NaN or inf"):
        est.update(hourly_frame.iloc[300:320].replace(hourly_frame.iloc[310, 0], np.inf), update_params=False)
    est.update(hourly_frame.iloc[300:320], update_params=False)  # the right variates still update
    assert est.cutoff[0] == hourly_frame.index[319]
    # numpy input has no names to compare, only the number of variates (for a model that does not
    # read the time stamps: CycleNet's cycle phase needs them)
    blind = SMambaForecaster(d_model=8, d_ff=8, e_layers=1, time_features=False, **SMALL).fit(hourly_frame.iloc[:300])
    blind.predict(fh=[1], y=hourly_frame.to_numpy()[:100])


def test_integer_column_names_are_compared_too(hourly_frame):
    numbered = hourly_frame.set_axis([1, 0], axis=1)
    est = CycleNetForecaster(**SMALL).fit(numbered.iloc[:300])
    with pytest.raises(InputError, match=r"variates \[0, 1\] but the forecaster was fitted on \[1, 0\]"):
        est.predict(fh=[1], y=numbered[[0, 1]])
    # columns 0, 1 (a frame made from an array) are names too when the new columns are the same numbers
    ordered = CycleNetForecaster(**SMALL).fit(hourly_frame.set_axis([0, 1], axis=1).iloc[:300])
    with pytest.raises(InputError, match=r"variates \[1, 0\] but the forecaster was fitted on \[0, 1\]"):
        ordered.predict(fh=[1], y=hourly_frame.set_axis([1, 0], axis=1))
    ordered.predict(fh=[1], y=hourly_frame)  # other names: an array's numbers say nothing to compare


@pytest.mark.parametrize("name", ["load", None])
def test_a_series_keeps_its_name_from_a_new_context_and_after_loading(hourly_frame, tmp_path, name):
    y = hourly_frame["a"].rename(name)
    est = CycleNetForecaster(**SMALL).fit(y.iloc[:300])
    assert est.predict(fh=[1], y=y.iloc[:350]).name == name
    est.save(tmp_path / "model")
    assert tsrec.load(tmp_path / "model").predict(fh=[1]).name == name


def test_messages_name_what_is_needed(hourly_frame):
    est = CycleNetForecaster(**SMALL).fit(hourly_frame["a"].iloc[:300])
    with pytest.raises(InputError, match="needs at least lookback = 24"):
        est.predict(fh=[1], y=hourly_frame["a"].iloc[:10])
    with pytest.raises(InputError, match="use lookback=48$"):
        PGNForecaster(lookback=25, horizon=24, max_epochs=1).fit(hourly_frame["a"])
    with pytest.raises(InputError, match=r"duplicate column names \['a'\]"):
        CycleNetForecaster(**SMALL).fit(hourly_frame.set_axis(["a", "a"], axis=1))
    gappy = hourly_frame["a"].drop(hourly_frame.index[200])
    with pytest.raises(InputError,
                       match="^y: .*not evenly spaced .* 2024-01-09 07:00:00 is followed by 2024-01-09 09:00:00"):
        CycleNetForecaster(**SMALL).fit(gappy)
    with pytest.raises(InputError, match="^y series 'b': .*not evenly spaced"):
        est.predict(fh=[1], y=pd.concat({"a": hourly_frame["a"], "b": gappy}).to_frame())



UNEVEN = {  # stamps with one row missing, the step in words and the resampling the message advises
    "daily": (pd.date_range("2024-01-01", periods=40, freq="D"), "1 day", "D"),
    "business days": (pd.bdate_range("2024-01-01", periods=40), "1 business day", "B"),
    "month starts": (pd.date_range("2020-01-01", periods=40, freq="MS"), "1 month", "MS"),
    # asfreq('MS') would empty month ends (it once was the advice for every monthly series)
    "month ends": (pd.date_range("2020-01-31", periods=40, freq="ME"), "1 month", "ME"),
    "quarter ends": (pd.date_range("2015-02-28", periods=40, freq="QE-FEB"), "1 quarter", "QE-FEB"),
    "year starts": (pd.date_range("1970-07-01", periods=40, freq="YS-JUL"), "1 year", "YS-JUL"),
    "15 minutes, Berlin": (pd.date_range("2024-03-30", periods=200, freq="15min", tz="Europe/Berlin"), "15 minutes",
                           "15min"),
}


@pytest.mark.parametrize("name", list(UNEVEN))
def test_the_uneven_stamps_message_advises_the_datas_own_step(name):
    index, words, alias = UNEVEN[name]
    gappy = pd.Series(np.sin(np.arange(len(index)) / 3.0), index=index).drop(index[10])
    # the gap of the missing row, not a weekend or a short month
    pattern = (rf"^y: .*not evenly spaced \(e\.g\. {re.escape(str(index[9]))} is followed by "
               rf"{re.escape(str(index[11]))}, but the usual step is {words}\)"
               rf".*y\.asfreq\('{alias}'\)\.interpolate\(\)$")
    with pytest.raises(InputError, match=pattern):
        CycleNetForecaster(**SMALL).fit(gappy)


def test_the_advised_resampling_keeps_every_row_of_the_data():
    for name, (index, _, alias) in UNEVEN.items():
        gappy = pd.Series(1.0, index=index).drop(index[10])
        assert gappy.asfreq(alias).isna().sum() == 1, name


MID_MONTH = pd.DatetimeIndex([f"{2020 + m // 12}-{m % 12 + 1:02d}-15" for m in range(30)])  # billing dates


def test_stamps_on_the_15th_of_each_month_are_told_to_move_to_month_starts():
    # pandas infers no frequency for them, so they are refused; they are even, though, and
    # asfreq('MS') would leave nothing of them
    move = re.escape("y.index = y.index.to_period('M').to_timestamp()")
    with pytest.raises(InputError, match=rf"^y: the time stamps are whole calendar periods apart but pandas has no "
                                         rf"frequency for stamps on day 15 of each month, .*e\.g\. {move}$"):
        CycleNetForecaster(**SMALL).fit(pd.Series(np.arange(30.0), index=MID_MONTH))
    with pytest.raises(InputError, match=rf"not evenly spaced .*1 month\).*day 15 of each month.*{move}, then "
                                         rf"y\.asfreq\('MS'\)\.interpolate\(\)$"):
        CycleNetForecaster(**SMALL).fit(pd.Series(np.arange(29.0), index=MID_MONTH.delete(10)))
    moved = pd.Series(np.arange(29.0), index=MID_MONTH.delete(10))
    moved.index = moved.index.to_period("M").to_timestamp()  # the advice, followed
    assert moved.asfreq("MS").interpolate().notna().all() and len(moved.asfreq("MS")) == 30


def test_daily_stamps_that_a_daylight_saving_change_moves_are_named_as_such():
    # Tokyo midnights are 24 hours apart, but on Berlin's clocks 16:00 becomes 17:00 on 31 March;
    # pandas steps days in local time, so no frequency fits (the message once quoted two stamps
    # exactly one day apart as the uneven pair)
    index = pd.date_range("2024-03-01", periods=60, freq="D", tz="Asia/Tokyo").tz_convert("Europe/Berlin")
    pattern = (r"evenly spaced in absolute time but not on the clocks of their time zone Europe/Berlin "
               r"\(2024-03-30 16:00:00\+01:00 is followed by 2024-03-31 17:00:00\+02:00\)")
    with pytest.raises(InputError, match=pattern):
        CycleNetForecaster(**SMALL).fit(pd.Series(np.arange(60.0), index=index))


def test_calendar_features_see_stamps_between_multiples_of_the_step(hourly_frame):
    def forecast(start: str) -> np.ndarray:
        y = pd.Series(hourly_frame["a"].to_numpy(), index=pd.date_range(start, periods=len(hourly_frame), freq="2h"))
        est = SMambaForecaster(d_model=8, d_ff=8, e_layers=1, **SMALL).fit(y)
        return est.predict(fh=[1, 2]).to_numpy()

    # the same values one hour later are different hours of the day, so different inputs
    assert not np.array_equal(forecast("2024-01-01 00:00"), forecast("2024-01-01 01:00"))


def test_a_network_trained_in_float64_forecasts_and_loads_in_float64(hourly_frame, tmp_path):
    est = CycleNetForecaster(**SMALL, precision="64-true").fit(hourly_frame.iloc[:200])
    forecast = est.predict(fh=[1, 2])
    assert np.isfinite(forecast.to_numpy()).all()
    assert est.forecast_windows(hourly_frame.iloc[200:260]).shape == (31, 6, 2)
    est.save(tmp_path / "model")
    pd.testing.assert_frame_equal(tsrec.load(tmp_path / "model").predict(fh=[1, 2]), forecast)


def test_an_absolute_fh_of_periods_or_stamps_names_the_same_steps(hourly_frame):
    y = hourly_frame["a"].iloc[:300]
    stamps = pd.date_range(y.index[-1] + pd.Timedelta("1h"), periods=3, freq="h")
    on_stamps = CycleNetForecaster(**SMALL).fit(y)
    on_periods = CycleNetForecaster(**SMALL).fit(y.to_period("h"))
    expected = on_stamps.predict(fh=[1, 2, 3])
    for est, fh in ((on_stamps, stamps.to_period("h")), (on_periods, stamps)):
        absolute = ForecastingHorizon(fh, is_relative=False)
        for forecast in (est.predict(fh=absolute), est.predict(fh=absolute, y=y)):
            np.testing.assert_array_equal(forecast.to_numpy(), expected.to_numpy())
    assert on_periods.predict(fh=ForecastingHorizon(stamps, is_relative=False)).index.equals(stamps.to_period("h"))
    with pytest.raises(InputError, match="fh names integer time points .* date-time time index"):
        on_stamps.predict(fh=ForecastingHorizon(pd.Index([400]), is_relative=False))
    with pytest.raises(InputError, match="fh names periods of 'D' but y has steps of 'h'"):
        on_stamps.predict(fh=ForecastingHorizon(pd.period_range("2024-02-01", periods=1, freq="D"), is_relative=False))
    # a stamp inside an hour names that hour; two inside one hour name it twice
    within = on_periods.predict(fh=ForecastingHorizon(stamps + pd.Timedelta("30min"), is_relative=False))
    np.testing.assert_array_equal(within.to_numpy(), expected.to_numpy())
    twice = stamps[:1].append(stamps[:1] + pd.Timedelta("59min"))
    with pytest.raises(InputError, match="lie in the same 'h' period, as y's time points are; name each period once"):
        on_periods.predict(fh=ForecastingHorizon(twice, is_relative=False))


@pytest.mark.parametrize("step, period", [("ME", "M"), ("QE", "Q"), ("W-SUN", "W-SUN"), ("MS", "M"), ("BME", "M")])
def test_a_period_names_the_stamp_of_the_grid_it_holds(step, period):
    # month-end data asked for by monthly periods: January names the 31st, not the 1st (sktime's own
    # forecasters accept both); a week ending on Sunday names its Sunday
    from tsrec.estimators import ARNetForecaster

    y = pd.Series(np.sin(np.arange(48) / 3.0), index=pd.date_range("2018-01-31", periods=48, freq=step))
    est = ARNetForecaster(n_lags=6, horizon=3, max_epochs=1, random_state=0).fit(y)
    periods = pd.period_range(y.index[-1].to_period(period) + 1, periods=2, freq=period)
    by_periods = est.predict(fh=periods)
    np.testing.assert_array_equal(by_periods.to_numpy(), est.predict(fh=[1, 2]).to_numpy())
    assert by_periods.index.equals(pd.DatetimeIndex([periods[0].end_time, periods[1].end_time]).normalize()
                                   if step != "MS" else periods.to_timestamp(how="start"))
    # and the reverse: the same data as periods, asked for by the stamps
    on_periods = ARNetForecaster(n_lags=6, horizon=3, max_epochs=1, random_state=0).fit(y.to_period(period))
    by_stamps = on_periods.predict(fh=ForecastingHorizon(by_periods.index, is_relative=False))
    assert by_stamps.index.equals(periods)
    np.testing.assert_array_equal(by_stamps.to_numpy(), by_periods.to_numpy())


def test_a_period_of_fixed_steps_names_the_stamp_at_the_datas_phase(hourly_frame):
    y = hourly_frame["a"].iloc[:300].copy()
    y.index = y.index + pd.Timedelta("30min")  # readings at half past each hour
    est = CycleNetForecaster(**SMALL).fit(y)
    hours = pd.period_range(y.index[-1].to_period("h") + 1, periods=2, freq="h")
    forecast = est.predict(fh=hours)
    assert forecast.index.equals(hours.to_timestamp() + pd.Timedelta("30min"))
    np.testing.assert_array_equal(forecast.to_numpy(), est.predict(fh=[1, 2]).to_numpy())


def test_a_period_that_holds_no_stamp_of_the_grid_is_named():
    from tsrec.estimators._fh_stamps import _grid_stamps_in

    quarter_ends = pd.date_range("2020-03-31", periods=4, freq="QE")
    with pytest.raises(InputError, match=r"fh's periods \[Period\('2021-01', 'M'\), Period\('2021-02', 'M'\)\] hold no "
                                         r"time stamp of y's grid "
                                         r"\(step 'QE-DEC', last stamp 2020-12-31"):
        _grid_stamps_in(pd.period_range("2021-01", periods=3, freq="M"), quarter_ends, quarter_ends.freq, "y")


def test_an_absolute_fh_in_another_time_zone_names_the_same_instants(hourly_frame):
    y = hourly_frame["a"].tz_localize("UTC").tz_convert("Europe/Berlin")
    est = CycleNetForecaster(**SMALL).fit(y)
    nxt = pd.DatetimeIndex([y.index[-1] + pd.Timedelta("1h")])
    expected = est.predict(fh=[1])
    for stamps in (nxt, nxt.tz_convert("UTC"), nxt.tz_convert("America/New_York")):
        fh = ForecastingHorizon(stamps, is_relative=False)
        for forecast in (est.predict(fh=fh), est.predict(fh=fh, y=y)):
            pd.testing.assert_series_equal(forecast, expected, check_freq=False)
    with pytest.raises(InputError, match="are naive but y's are in Europe/Berlin"):
        est.predict(fh=ForecastingHorizon(nxt.tz_localize(None), is_relative=False))


def test_an_absolute_fh_in_the_past_is_an_in_sample_error(hourly_frame):
    y = hourly_frame["a"].iloc[:300]
    est = CycleNetForecaster(**SMALL).fit(y)
    for fh in (ForecastingHorizon(y.index[-1:], is_relative=False),
               ForecastingHorizon(y.index[-3:-1], is_relative=False),
               y.index[-2:]):  # a bare DatetimeIndex is absolute too
        with pytest.raises(InSampleError, match="not after the end of y"):
            est.predict(fh=fh)


def test_a_context_at_a_step_no_fitted_series_has_is_forecast_with_a_warning():
    from tsrec.estimators import ARNetForecaster

    hourly = pd.Series(np.sin(np.arange(60) / 3.0), index=pd.date_range("2024-01-01", periods=60, freq="h"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(hourly)
    daily = pd.Series(hourly.to_numpy()[:10], index=pd.date_range("2024-01-01", periods=10, freq="D"))
    with pytest.warns(UserWarning, match=r"^y has a step of D, which no series the model was fitted on has \(h\)"):
        forecast = est.predict(fh=[1], y=daily)
    assert forecast.index[0] == pd.Timestamp("2024-01-11")  # at its own step, as the warning says
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fitted step, also written as 60 minutes: no warning
        est.predict(fh=[1], y=hourly.iloc[-10:].set_axis(pd.date_range("2024-01-03", periods=10, freq="60min")))


@pytest.mark.parametrize("fitted, context", [
    (pd.period_range("2015Q1", periods=30, freq="Q"), pd.date_range("2015-01-01", periods=30, freq="QS")),
    (pd.date_range("2015-03-31", periods=30, freq="QE"), pd.date_range("2015-01-01", periods=30, freq="QS-OCT")),
    (pd.date_range("1990-12-31", periods=30, freq="YE"), pd.date_range("1990-01-01", periods=30, freq="YS")),
])
def test_quarter_and_year_starts_are_the_fitted_quarter_and_year_ends_step(fitted, context):
    # "y has a step of QS-OCT, which no series the model was fitted on has (QE-DEC)": the same calendar quarters
    import warnings

    from tsrec.estimators import ARNetForecaster

    values = np.sin(np.arange(30) / 3.0)
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(pd.Series(values, index=fitted), fh=[1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forecast = est.predict(y=pd.Series(values, index=pd.DatetimeIndex(list(context))))
    assert forecast.index[0] == pd.date_range(context[-1], periods=2, freq=context.freq)[1]


def test_no_step_warning_where_either_side_has_integer_steps():
    import warnings

    from tsrec.estimators import ARNetForecaster

    hourly = pd.Series(np.sin(np.arange(60) / 3.0), index=pd.date_range("2024-01-01", periods=60, freq="h"))
    on_array = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(hourly.to_numpy())
    on_dates = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(hourly)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an array model knows no duration; positions tell none
        on_array.predict(fh=[1], y=hourly.iloc[-10:])
        on_dates.predict(fh=[1], y=pd.Series(hourly.to_numpy()[:10]))


@pytest.mark.parametrize("tz", [None, "Europe/Berlin"])
def test_stamps_beyond_the_nanosecond_range_are_refused_with_a_fix(hourly_frame, tz):
    far = pd.date_range("9999-12-30", periods=40, freq="h", unit="s", tz=tz)  # a year-9999 placeholder
    y = pd.Series(np.arange(40.0), index=far)
    with pytest.raises(InputError, match=r"y's time stamps run from 9999-12-30.*beyond 1677-09-21 \.\. 2262-04-11.*"
                                         r"subtract pd.DateOffset"):
        CycleNetForecaster(**SMALL).fit(y)
    est = CycleNetForecaster(**SMALL).fit(hourly_frame["a"].iloc[:300].set_axis(hourly_frame.index[:300].as_unit("s")))
    with pytest.raises(InputError, match="time stamps run from 9999"):
        est.predict(fh=[1], y=y.tz_localize(None) if tz else y)


def test_a_period_index_with_missing_periods_is_refused_at_fit_and_in_new_contexts():
    y = pd.Series(np.sin(np.arange(80) / 3.0) + 3, index=pd.period_range("2024-01-01", periods=80, freq="h"))
    gappy = y.drop(y.index[50])
    pattern = r"^y: the PeriodIndex is not evenly spaced \(2024-01-03 01:00 is followed by 2024-01-03 03:00, .*'h'\)"
    with pytest.raises(InputError, match=pattern):
        CycleNetForecaster(**SMALL).fit(gappy)
    est = CycleNetForecaster(**SMALL).fit(y)
    with pytest.raises(InputError, match=pattern):
        est.predict(fh=[1], y=gappy)
    with pytest.raises(InputError, match=r"^y series 'b': the PeriodIndex is not evenly spaced"):
        CycleNetForecaster(**SMALL).fit(pd.concat({"a": y, "b": gappy}).to_frame())
    fix = re.search(r"e\.g\. (.*)$", str(pytest.raises(InputError, est.predict, fh=[1], y=gappy).value)).group(1)
    filled = eval(fix, {"pd": pd, "y": gappy})  # noqa: S307 - the advice is code; it must run
    assert filled.index.equals(y.index)


def test_an_uneven_integer_index_is_named_with_its_series_and_where():
    even = pd.Series(np.sin(np.arange(80) / 3.0), index=np.arange(0, 160, 2))
    uneven = even.set_axis(np.r_[np.arange(0, 60, 2), np.arange(64, 164, 2)])
    pattern = (r"^y series 'b': the integer time index is not evenly spaced \(58 is followed by 64, but the usual "
               r"step is 2\); .*t\.reindex\(range\(t\.index\[0\], t\.index\[-1\] \+ 1, 2\)\)")  # each series' own
    with pytest.raises(InputError, match=pattern):
        CycleNetForecaster(**SMALL).fit(pd.concat({"a": even, "b": uneven}).to_frame())


def test_a_short_context_asks_for_rows_not_a_lower_horizon(hourly_frame):
    est = CycleNetForecaster(**SMALL).fit(hourly_frame["a"].iloc[:300])
    with pytest.raises(InputError, match=r"needs at least lookback = 24; give 24 rows or more \(a shorter context "
                                         r"needs a model fitted with a lower lookback\)$"):
        est.predict(fh=[1], y=hourly_frame["a"].iloc[:10])


def test_business_day_periods_forecast_without_pandas_deprecation_warnings_of_their_own():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # making the user's periods warns once here
        y = pd.Series(np.sin(np.arange(60) / 3.0), index=pd.period_range("2024-01-01", periods=60, freq="B"))
    est = CycleNetForecaster(lookback=8, horizon=2, cycle_length=5, max_epochs=1, random_state=0).fit(y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pred = est.predict(fh=[1, 2])
    assert [str(w.message) for w in caught if issubclass(w.category, FutureWarning)] == []
    assert pred.index.equals(pd.PeriodIndex([y.index[-1] + 1, y.index[-1] + 2]))


@pytest.fixture(scope="module")
def ls4_by_step() -> dict:
    """LS4 at its cheapest, fitted on a daily and an hourly series (one fit per step, shared)."""
    from tsrec.estimators import LS4Forecaster

    fitted = {}
    for freq in ("D", "h"):
        y = pd.Series(np.sin(np.arange(60) / 3) + 5, index=pd.date_range("2024-01-01", periods=60, freq=freq))
        fitted[freq] = y, LS4Forecaster(**LS4Forecaster.get_test_params()[0], random_state=0).fit(y)
    return fitted


@pytest.mark.parametrize("freq", ["D", "h"])
@pytest.mark.parametrize("fh", [[1], [2], [1, 3], [2, 3]])
def test_forecasts_carry_the_frequency_sktimes_own_forecasters_give_a_single_stamp_too(ls4_by_step, freq, fh):
    # one stamp lost its freq (a guard asked for two consecutive steps); NaiveForecaster keeps it
    y, est = ls4_by_step[freq]
    expected = NaiveForecaster().fit(y).predict(fh=fh).index
    for index in (est.predict(fh=fh).index, est.predict_interval(fh=fh).index, est.predict_var(fh=fh).index):
        assert index.equals(expected) and index.freq == expected.freq, (index, expected)
    assert (expected.freq is None) == (fh == [1, 3])  # a gap has no freq, in sktime as in tsrec


def test_periods_of_another_step_on_period_data_are_named_as_such():
    from tsrec.estimators import ARNetForecaster

    months = pd.Series(np.sin(np.arange(48) / 3.0), index=pd.period_range("2018-01", periods=48, freq="M"))
    est = ARNetForecaster(n_lags=6, horizon=3, max_epochs=1, random_state=0).fit(months)
    with pytest.raises(InputError, match="fh names periods of 'Q-DEC' but y has periods of 'M'; pass periods of the "
                                         r"data's step, time stamps, or steps \(1, 2, ...\)"):
        est.predict(fh=pd.period_range("2022Q1", periods=1, freq="Q"))
    bimonthly = months.iloc[:24].set_axis(pd.period_range("2018-01", periods=24, freq="2M"))
    twice = ARNetForecaster(n_lags=6, horizon=3, max_epochs=1, random_state=0).fit(bimonthly)
    with pytest.raises(InputError, match=r"not on the time grid of y \(step '2M', last stamp 2021-11\)"):
        twice.predict(fh=pd.period_range("2021-12", periods=1, freq="2M"))


def test_a_stamp_far_before_an_integer_index_is_in_sample_not_an_overflow():
    # int64's least + 5 minus the end wraps round to a huge positive count of steps
    from tsrec.estimators._fh_stamps import steps_to

    index = pd.Index(np.arange(10, dtype=np.int64))
    with pytest.raises(InSampleError, match="not after the end"):
        steps_to(index, 1, pd.Index([np.iinfo(np.int64).min + 5]), "y")
