"""Panels whose series step differently: one global network reads every row as one step, so fit warns;
a model that reads settings off the step refuses them, whichever series comes first."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster, CycleNetForecaster, PGNForecaster, SMambaForecaster
from tsrec.estimators.errors import InputError, MixedStepsWarning

from context_series import TINY, panel, series  # tests/estimators/context_series.py


def stepping(freq: str, n: int = 40) -> pd.Series:
    return series(index=pd.date_range("2024-01-07", periods=n, freq=freq))


def arnet() -> ARNetForecaster:
    return ARNetForecaster(n_lags=8, horizon=4, max_epochs=1, batch_size=8, val_size=0.0, random_state=0)


def test_a_panel_of_mixed_steps_warns_and_forecasts_each_series_at_its_own_step():
    mixed = panel({"hourly": stepping("h"), "quarter_hourly": stepping("15min")})
    with pytest.warns(MixedStepsWarning, match=r"^the series of y step differently \(series 'hourly' of y steps by "
                                               r"h, series 'quarter_hourly' of y by 15min\): the one global network "
                                               r"reads each row as one step.*resample them to one step or fit a model"):
        est = arnet().fit(mixed, fh=[1, 2])
    forecast = est.predict()
    for key, step in (("hourly", "1h"), ("quarter_hourly", "15min")):
        last = mixed.loc[key].index[-1]
        assert forecast.loc[key].index.tolist() == [last + pd.Timedelta(step), last + 2 * pd.Timedelta(step)]


@pytest.mark.filterwarnings("ignore:y's integer time index steps by 5")
def test_integer_steps_of_1_and_5_warn_too():
    mixed = panel({"a": series(40, pd.RangeIndex(0, 40)), "b": series(40, pd.RangeIndex(0, 200, 5))})
    with pytest.warns(MixedStepsWarning, match=r"series 'a' of y steps by 1, series 'b' of y by 5"):
        arnet().fit(mixed, fh=[1])


def test_series_of_one_step_do_not_warn_and_the_warning_filters_by_category():
    with warnings.catch_warnings():
        warnings.simplefilter("error", MixedStepsWarning)
        arnet().fit(panel({"a": stepping("D"), "b": stepping("D", 50)}), fh=[1])  # other spans, one step
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", category=MixedStepsWarning)
        arnet().fit(panel({"a": stepping("D"), "b": stepping("W")}), fh=[1])


@pytest.mark.parametrize("order", [("D", "W"), ("W", "D")])
def test_calendar_features_refuse_days_and_weeks_whichever_comes_first(order):
    # weeks have no calendar features: with weeks first, the days' went unread and the panel fitted
    mixed = panel({"a": stepping(order[0]), "b": stepping(order[1])})
    with pytest.raises(InputError, match=r"series 'b' of y has a step of .* but the first series a step of "):
        SMambaForecaster(d_model=4, d_ff=4, e_layers=1, **TINY).fit(mixed, fh=[1])
    with pytest.raises(InputError, match=r"calendar features at D, none at W-SUN; time_features=False turns them off"
                       if order[0] == "W" else r"the model reads the time stamps \(calendar features\)"):
        PGNForecaster(period=4, hidden=4, **TINY).fit(mixed, fh=[1])
    with pytest.warns(MixedStepsWarning):
        SMambaForecaster(d_model=4, d_ff=4, e_layers=1, time_features=False, **TINY).fit(mixed, fh=[1])


@pytest.mark.parametrize("order", [("h", "2h"), ("2h", "h")])
def test_a_period_inferred_from_the_step_refuses_series_of_another_step(order):
    # it was read off the first series: 24 (a day of hours) for two-hourly series too, or 12 for hourly ones
    mixed = panel({"a": stepping(order[0], 80), "b": stepping(order[1], 80)})
    (first, other), periods = order, {"h": 24, "2h": 12}
    with pytest.raises(InputError, match=rf"has a step of {other} but the first series a step of {first}, and the "
                                         rf"model reads settings off the step \(period={periods[first]} at {first}, "
                                         rf"{periods[other]} at {other}; pass period=\.\.\. to set it"):
        PGNForecaster(lookback=48, horizon=24, max_epochs=1, time_features=False).fit(mixed, fh=[1])
    with pytest.warns(MixedStepsWarning):  # a period given holds for every series
        PGNForecaster(period=4, hidden=4, time_features=False, **TINY).fit(mixed, fh=[1])


def test_a_period_that_another_step_cannot_take_is_refused_with_its_reason():
    mixed = panel({"a": stepping("h", 80), "b": stepping("15min", 80)})
    with pytest.raises(InputError, match=r"the model reads settings off the step \(at 15min: lookback=48 is not a "
                                         r"multiple of period=96; use lookback=192\)"):
        PGNForecaster(lookback=48, horizon=24, max_epochs=1, time_features=False).fit(mixed, fh=[1])


@pytest.mark.filterwarnings("ignore:y's integer time index steps by 5")
def test_a_cycle_read_at_integer_steps_refuses_another_step_naming_an_integer_index():
    # "resample it to 1" read as a count, not as an index that steps by 1
    mixed = panel({"a": series(40, pd.RangeIndex(0, 40)), "b": series(40, pd.RangeIndex(0, 200, 5))})
    with pytest.raises(InputError, match=r"series 'b' of y has a step of 5 but the first series a step of 1; .*"
                                         r"resample it to an integer index that steps by 1 or fit a model on its step"):
        CycleNetForecaster(lookback=8, horizon=2, cycle_length=4, max_epochs=1).fit(mixed, fh=[1])
