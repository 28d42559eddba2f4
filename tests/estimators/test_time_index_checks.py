"""New data must match the fitted variates and step; uneven or out-of-range time stamps are refused with a fix."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import tsrec

from tsrec.estimators import CycleNetForecaster, PGNForecaster, SMambaForecaster
from tsrec.estimators.errors import InputError

SMALL = dict(lookback=24, horizon=6, max_epochs=1, random_state=0)


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
    # a missing Wednesday (2 days) was less odd by time than every weekend (3): a Friday and Monday were named
    "business days, midweek": (pd.bdate_range("2024-01-03", periods=40), "1 business day", "B"),
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


def test_business_days_with_a_stray_weekend_day_are_told_to_drop_it():
    # taken for calendar days with weekends missing: the advice asfreq('D') added every weekend
    stamps = pd.bdate_range("2021-03-01", periods=9).append(pd.DatetimeIndex(["2021-03-13"]))
    y = pd.Series(np.arange(10.0), index=stamps)
    fix = "y[y.index.dayofweek < 5].asfreq('B').interpolate()"
    with pytest.raises(InputError, match=rf"^y: the time stamps are business days \(Monday to Friday\) but 1 falls "
                                         rf"on a weekend \(e\.g\. 2021-03-13 00:00:00, a Saturday\)"
                                         rf".*{re.escape(fix)}$"):
        CycleNetForecaster(**SMALL).fit(y)
    assert pd.infer_freq(eval(fix).index) == "B"


def test_of_two_skipped_business_days_the_first_is_named():
    index = pd.bdate_range("2024-01-03", periods=40)
    gappy = pd.Series(np.sin(np.arange(40) / 3.0), index=index).drop([index[10], index[25]])
    with pytest.raises(InputError, match=rf"e\.g\. {re.escape(str(index[9]))} is followed by "
                                         rf"{re.escape(str(index[11]))}, but the usual step is 1 business day"):
        CycleNetForecaster(**SMALL).fit(gappy)


def test_many_weekend_days_or_no_weekend_skip_are_not_called_business_days():
    # 40 business days and 8 Saturdays (17 %): not a few stray rows on a weekend
    index = pd.bdate_range("2024-01-01", periods=40)
    saturdays = pd.DatetimeIndex([d for d in pd.date_range(index[0], index[-1]) if d.dayofweek == 5][:8])
    # Monday to Thursday and one Saturday: no Friday-to-Monday skip, so no business days either
    days = pd.date_range("2024-01-01", periods=70, freq="D")
    four_day_weeks = days[days.dayofweek < 4].append(pd.DatetimeIndex(["2024-01-13"]))
    for stamps in (index.append(saturdays).sort_values(), four_day_weeks.sort_values()):
        with pytest.raises(InputError) as caught:
            CycleNetForecaster(**SMALL).fit(pd.Series(np.arange(float(len(stamps))), index=stamps))
        assert "business days (Monday to Friday) but" not in str(caught.value)


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
