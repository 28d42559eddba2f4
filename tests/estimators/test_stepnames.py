"""Names of a usual time step: calendar periods only for stamps whole calendar periods apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators._stepnames import describe_step, odd_gap, period_start_fix, regular_periods, usual_gap


def _usual(index: pd.DatetimeIndex) -> pd.Timedelta:
    return pd.Timedelta(int(np.median(np.diff(index.asi8))), unit=index.unit)


FIXED = {  # a fixed number of days drifts through the months: moved to months, some stamps would merge
    "28 days": (pd.date_range("2024-01-05", periods=30, freq="28D"), "28D", "28 days"),
    "30 days": (pd.date_range("2024-01-15", periods=30, freq="30D"), "30D", "30 days"),
    "91 days": (pd.date_range("2024-01-01", periods=20, freq="91D"), "91D", "91 days"),
    "365 days": (pd.date_range("2021-01-01", periods=8, freq="365D"), "365D", "365 days"),
}


@pytest.mark.parametrize("name", list(FIXED))
def test_a_fixed_step_of_days_is_named_in_days_not_as_a_calendar_period(name):
    index, alias, words = FIXED[name]
    gappy = index.delete(10 if len(index) > 10 else 4)
    assert describe_step(_usual(gappy), gappy) == (alias, words)
    assert period_start_fix(_usual(gappy), gappy, "{period}") is None
    assert not regular_periods(_usual(index), index)
    assert gappy.to_period(alias).is_unique and len(pd.Series(1.0, index=gappy).asfreq(alias)) == len(index)


CALENDAR = {  # stamps of whole calendar periods, each with one missing
    "month starts": (pd.date_range("2020-01-01", periods=40, freq="MS"), ("MS", "1 month")),
    "month ends": (pd.date_range("2020-01-31", periods=40, freq="ME"), ("ME", "1 month")),
    "business month starts": (pd.date_range("2020-01-01", periods=40, freq="BMS"), (None, "1 month")),
    "business month ends": (pd.date_range("2020-01-01", periods=40, freq="BME"), (None, "1 month")),
    "mid-month": (pd.DatetimeIndex([f"{2020 + m // 12}-{m % 12 + 1:02d}-15" for m in range(30)]), (None, "1 month")),
    "quarter ends": (pd.date_range("2015-02-28", periods=40, freq="QE-FEB"), ("QE-FEB", "1 quarter")),
    "year starts": (pd.date_range("1970-07-01", periods=40, freq="YS-JUL"), ("YS-JUL", "1 year")),
}


@pytest.mark.parametrize("name", list(CALENDAR))
def test_stamps_whole_calendar_periods_apart_are_named_as_periods(name):
    index, named = CALENDAR[name]
    gappy = index.delete(10)
    assert describe_step(_usual(gappy), gappy) == named
    if named[0] is None:  # moved to their periods' starts, no two stamps merge
        assert "to_period('M')" in period_start_fix(_usual(gappy), gappy, "to_period('{period}')")
        assert gappy.to_period("M").is_unique


def test_the_usual_gap_is_the_lower_median_and_a_few_weekdays_are_days():
    # of gaps 1 and 2 the usual one is 1, so a 1 -> 2 gap is the odd one, as the docstring says
    assert usual_gap(np.array([1.0, 2.0])) == 1.0 and odd_gap(np.array([1.0, 2.0, 1.0, 2.0])) == 1
    # four weekdays a day apart hold no weekend to skip: daily, not business days
    assert describe_step(pd.Timedelta("1D"), pd.date_range("2024-01-01", periods=4, freq="D")) == ("D", "1 day")
