"""Forecasts land on the right time stamps (absolute fh, periods, time zones, the frequency), in float64."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon
from sktime.forecasting.naive import NaiveForecaster

import tsrec

from tsrec.estimators import CycleNetForecaster, SMambaForecaster
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
        with pytest.raises(InSampleError, match="not after the end of y") as raised:
            est.predict(fh=fh)
        assert "given to fit" not in str(raised.value)  # this fh was given here


def test_fits_stamps_that_an_update_moved_past_are_told_to_be_fits():
    # predict() with no fh forecast fit's stamps; after update they are in the past, and the refusal named
    # only "fh", which the user had not passed to predict
    y = pd.Series(np.sin(np.arange(60.0)), index=pd.period_range("1950-01", periods=60, freq="M"))
    est = CycleNetForecaster(**SMALL).fit(y.iloc[:50], fh=y.index[50:52])
    est.update(y.iloc[50:52])
    message = (r"not after the end of y \(1954-04\); in-sample forecasts are not supported; these are the stamps of "
               r"the fh given to fit or an earlier forecast, and the data now ends later \(update\): pass predict a "
               r"new fh$")
    with pytest.raises(InSampleError, match=message):
        est.predict()
    assert est.predict(fh=[1]).index.equals(y.index[52:53])


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


def test_zoned_stamps_on_period_data_are_refused_not_stripped_of_their_zone():
    # pandas would drop the zone (with a UserWarning) and read the stamps' wall-clock dates
    from tsrec.estimators._fh_stamps import steps_to

    months = pd.period_range("2024-01", periods=12, freq="M")
    stamps = pd.DatetimeIndex(["2025-01-15", "2025-02-15"]).tz_localize("Asia/Tokyo")
    with pytest.raises(InputError, match=r"have a time zone but y has periods, which have none; pass naive stamps "
                                         r"\(.tz_localize\(None\)\) or periods"):
        steps_to(months, months.freq, stamps, "y")
    assert list(steps_to(months, months.freq, stamps.tz_localize(None), "y")) == [1, 2]


@pytest.mark.parametrize("hour, why", [("2024-03-31 02:00", "does not exist"), ("2024-10-27 02:00", "happens twice")])
def test_an_hour_period_that_is_no_single_instant_in_the_datas_zone_is_refused(hour, why):
    # Berlin's clocks skip 02:00-03:00 in March and repeat it in October: moving the period to a
    # neighbouring hour would forecast another step than the one asked for
    from tsrec.estimators._fh_stamps import steps_to

    hours = pd.date_range(pd.Timestamp(hour) - pd.Timedelta("1D"), periods=24, freq="h", tz="Europe/Berlin")
    with pytest.raises(InputError, match=rf"fh's periods \[Period\('{hour}', 'h'\)\] are not single instants in "
                                         "Europe/Berlin"):
        steps_to(hours, hours.freq, pd.period_range(hour, periods=1, freq="h"), "y")
    later = pd.period_range(pd.Timestamp(hour) + pd.Timedelta("2h"), periods=1, freq="h")
    assert len(steps_to(hours, hours.freq, later, "y")) == 1, why


def test_periods_of_a_multiple_step_are_counted_in_steps():
    # 2-month periods: one step is two months of the PeriodIndex's ordinals, so an absolute fh of the forecast's
    # own periods and the next two rows of y both continue the series
    from tsrec.estimators import ARNetForecaster

    y = pd.Series(np.sin(np.arange(30) / 3.0), index=pd.period_range("2020-01", periods=30, freq="2M"), name="y")
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y.iloc[:25])
    relative = est.predict(fh=[1, 2])
    assert list(relative.index) == list(y.index[25:27])
    pd.testing.assert_series_equal(est.predict(fh=ForecastingHorizon(relative.index, is_relative=False)), relative)
    est.update(y.iloc[25:27], update_params=False)
    assert est.cutoff[0] == y.index[26]
