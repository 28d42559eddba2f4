"""Time-zone-aware data: the models read local wall-clock time, as from the same data without a
zone; new contexts must be naive or aware as the fitted data, and other zones name the same instants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sktime.forecasting.base import ForecastingHorizon

from tsrec.estimators import ARNetForecaster, CycleNetForecaster, PGNForecaster, SMambaForecaster
from tsrec.estimators._timeindex import positions, stamp_offset_ns
from tsrec.estimators.errors import InputError
from tsrec.nn.timefeatures import calendar_features

HOUR = 3600 * 10**9
TINY = dict(lookback=24, horizon=12, max_epochs=1, batch_size=16, val_size=0.0, random_state=0)
MODELS = {
    "PGN (calendar features)": lambda: PGNForecaster(period=12, hidden=4, **TINY),
    "CycleNet (cycle phase)": lambda: CycleNetForecaster(cycle_length=24, **TINY),
}


def local_hours(n: int = 24 * 6, tz: str | None = None, start: str = "2024-01-01") -> pd.Series:
    """A daily cycle in local time; with ``tz`` the same wall-clock times in that zone."""
    index = pd.date_range(start, periods=n, freq="h")
    values = np.sin(np.arange(n) * 2 * np.pi / 24) + 0.1 * np.random.default_rng(0).normal(size=n)
    return pd.Series(values, index=index if tz is None else index.tz_localize(tz), name="load")


@pytest.mark.parametrize("name", list(MODELS))
def test_aware_stamps_are_read_in_local_wall_clock_time(name):
    naive = MODELS[name]().fit(local_hours(), fh=[1, 2])
    tokyo = MODELS[name]().fit(local_hours(tz="Asia/Tokyo"), fh=[1, 2])
    np.testing.assert_array_equal(tokyo.predict().to_numpy(), naive.predict().to_numpy())
    assert tokyo.predict().index[0] == pd.Timestamp("2024-01-07 00:00", tz="Asia/Tokyo")


def test_the_hour_feature_follows_local_time_across_daylight_saving_time():
    index = pd.date_range("2024-03-20", "2024-04-10", freq="h", tz="Europe/Berlin")
    hours = []
    for stamp in ("2024-03-25 09:00", "2024-04-05 09:00"):  # winter (UTC+1), summer (UTC+2)
        at = index.get_loc(pd.Timestamp(stamp, tz="Europe/Berlin"))
        features = calendar_features(torch.as_tensor(positions(index, index.freq)[at:at + 1]), HOUR,
                                     stamp_offset_ns(index, HOUR))
        hours.append(round(float((features[0, 0] + 0.5) * 23)))
    assert hours == [9, 9]


@pytest.mark.parametrize("fitted_tz, context_tz, fix", [
    ("Asia/Tokyo", None, r"y.tz_localize\('Asia/Tokyo'\)"),
    (None, "Asia/Tokyo", r"y.tz_localize\(None\)"),
])
def test_a_context_naive_where_the_fit_was_aware_or_the_reverse_is_refused(fitted_tz, context_tz, fix):
    est = MODELS["PGN (calendar features)"]().fit(local_hours(tz=fitted_tz), fh=[1])
    context = local_hours(48, tz=context_tz, start="2024-02-01")
    with pytest.raises(InputError, match=f"the time stamps of y are .* but the fitted data's are .*; .*e.g. {fix}"):
        est.predict(y=context)
    panel = pd.concat({"a": context.to_frame()}, names=["id", "time"])
    with pytest.raises(InputError, match=f"series 'a' of y .*{fix[:-2]}, level=-1\\)"):
        est.predict(y=panel)


def test_naive_wall_clock_hours_across_a_daylight_saving_change_are_told_of_the_zone_not_of_spacing():
    # they skip 02:00 on 2024-03-31, and were refused as "not evenly spaced ... asfreq('h').interpolate()"
    index = pd.date_range("2024-03-01", "2024-04-10", freq="h", tz="Europe/Berlin")
    y = pd.Series(np.sin(np.arange(len(index)) * 2 * np.pi / 24), index=index, name="load")
    est = MODELS["PGN (calendar features)"]().fit(y.loc[:"2024-03-20"], fh=[1])
    context = y.loc["2024-03-29":"2024-04-03"].tz_localize(None)
    assert context.index.to_series().diff().max() == pd.Timedelta(2, "h")
    for given in (context, pd.concat({"a": context.to_frame()}, names=["id", "time"])):
        with pytest.raises(InputError, match=r"are naive \(no time zone\) but the fitted data's are in Europe/Berlin"):
            est.predict(y=given)


def test_naive_stamps_for_an_aware_fit_are_told_both_readings_not_only_wall_clock():
    # naive stamps are often UTC (tz_convert(None) gives them): localizing them in the fitted zone shifts them
    est = MODELS["PGN (calendar features)"]().fit(local_hours(tz="Europe/Berlin"), fh=[1])
    context = local_hours(48, tz="Europe/Berlin", start="2024-02-01").tz_convert(None)
    with pytest.raises(InputError, match=r"y\.tz_localize\('Europe/Berlin'\) if they are wall-clock times in "
                                         r"Europe/Berlin, or y\.tz_localize\('UTC'\)\.tz_convert\('Europe/Berlin'\) "
                                         r"if they are UTC$"):
        est.predict(y=context)
    with pytest.raises(InputError, match=r"tz_localize\('UTC', level=-1\)\.tz_convert\('Europe/Berlin', level=-1\)"):
        est.predict(y=pd.concat({"a": context.to_frame()}, names=["id", "time"]))


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Asia/Kolkata"])  # Kolkata: half an hour off UTC's hours
def test_a_context_in_another_zone_names_the_same_instants(zone):
    y = local_hours(tz=zone)
    est = MODELS["PGN (calendar features)"]().fit(y.iloc[:-48], fh=[1, 2])
    here, utc = est.predict(y=y.iloc[-48:]), est.predict(y=y.iloc[-48:].tz_convert("UTC"))
    np.testing.assert_array_equal(utc.to_numpy(), here.to_numpy())
    assert utc.index.equals(here.index.tz_convert("UTC"))


def test_daily_data_in_another_zone_is_read_on_the_fitted_zone_s_calendar():
    # Berlin midnights given in UTC step 23 or 25 hours at a change: update and predict(y=) refused them
    # as uneven (with a fix of asfreq('1410min')), and a context before the change was forecast 24 hours
    # apart, an hour off the zone's midnights after it
    from tsrec.estimators import ARNetForecaster, LS4Forecaster

    days = pd.date_range("2024-03-15", periods=40, freq="D", tz="Europe/Berlin")
    y = pd.Series(np.sin(np.arange(40) / 3) + 5, index=days, name="y")
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y[:10], fh=[1, 2, 3])
    before = est.predict(y=y[:16].tz_convert("UTC"))  # 16 March .. 30 March, then 31 March on
    assert before.index.equals(est.predict(y=y[:16]).index.tz_convert("UTC"))
    np.testing.assert_array_equal(before.to_numpy(), est.predict(y=y[:16]).to_numpy())
    assert est.predict(y=y.tz_convert("UTC")).index[0] == days[-1] + pd.Timedelta(days=1)
    est.update(y[10:].tz_convert("UTC"), update_params=False)
    assert est.cutoff[0] == days[-1] and str(est.cutoff.tz) == "Europe/Berlin"
    ls4 = LS4Forecaster(lookback=8, horizon=2, z_dim=2, d_model=4, d_state=4, n_layers=1, max_epochs=1,
                        n_samples=20, random_state=0).fit(y[:24], fh=[1, 2])
    interval = ls4.predict_interval(y=y[:16].tz_convert("UTC"), coverage=0.5)
    assert interval.index.equals(ls4.predict(y=y[:16]).index.tz_convert("UTC"))


def test_update_rows_and_stamps_across_a_daylight_saving_change_count_real_hours():
    index = pd.date_range("2024-03-29", periods=24 * 4, freq="h", tz="Europe/Berlin")  # 31 March has 23 hours
    y = pd.Series(np.sin(np.arange(len(index)) * 2 * np.pi / 24), index=index, name="load")
    est = MODELS["CycleNet (cycle phase)"]().fit(y.iloc[:50], fh=[1])  # ends before the change
    est.update(y.iloc[50:], update_params=False)
    assert est.cutoff[0] == index[-1]
    later = pd.date_range(index[-1], periods=3, freq="h")[1:]
    assert est.predict(fh=later).index.equals(later)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Asia/Kolkata"])
def test_forecast_windows_read_a_context_in_another_zone_in_the_fitted_zone(zone):
    y = local_hours(tz=zone)
    est = MODELS["PGN (calendar features)"]().fit(y.iloc[:-48], fh=[1, 2])
    here = est.forecast_windows(y.iloc[-48:])
    np.testing.assert_array_equal(est.forecast_windows(y.iloc[-48:].tz_convert("UTC")), here)
    # the first window is the forecast of predict(y=...) from the same rows
    first = est.predict(fh=range(1, 13), y=y.iloc[-48:-24].tz_convert("UTC")).to_numpy()
    np.testing.assert_allclose(here[0, :, 0], first, rtol=1e-5, atol=1e-6)


def wall_clock_hours(stamps: pd.DatetimeIndex) -> list[int]:
    """Hours since 1970 on the local wall clock: the positions a cycle phase or hour feature reads."""
    return (stamps.tz_localize(None).as_unit("ns").asi8 // HOUR).tolist()


@pytest.mark.parametrize("name", list(MODELS))
def test_every_step_reads_its_own_wall_clock_position_across_a_daylight_saving_change(name):
    # a window's first position advanced by whole steps read the steps after the spring change one
    # hour off (01:00, 02:00, ... where the stamps say 01:00, 03:00): in training, forecasts and windows
    index = pd.date_range("2024-03-25", periods=24 * 5, freq="h", tz="Europe/Berlin")  # 31 March 02:00 is skipped
    y = pd.Series(np.sin(np.arange(len(index)) * 2 * np.pi / 24), index=index, name="load")
    est = MODELS[name]().fit(y, fh=range(1, 37))
    seen = []
    network, forward = est.network_, est.network_.forward
    network.forward = lambda x, position: seen.append(position.clone()) or forward(x, position)
    context = y[: "2024-03-30 23:00"].iloc[-24:]
    est.predict(y=context)  # 36 steps: three horizons of 12, the change in the first
    future = pd.date_range(context.index[-1], periods=37, freq="h")[1:]
    stamps = context.index.append(future)
    assert [p[0].tolist()[: 24 + 12] for p in seen] == [wall_clock_hours(stamps[12 * i : 12 * i + 36])
                                                         for i in range(3)]
    assert 2 in np.diff(wall_clock_hours(stamps)).tolist()
    seen.clear()
    est.forecast_windows(y.iloc[48:96])
    assert seen[0][:, :36].tolist() == [wall_clock_hours(y.index[48 + i : 84 + i]) for i in range(13)]


@pytest.mark.parametrize("panel", [False, True], ids=["series", "panel"])
def test_update_rows_in_another_zone_name_the_same_instants(panel):
    # once refused ("put their stamps in the fitted zone"), while predict(y=...) and fh read other zones
    y = local_hours(tz="Europe/Berlin").to_frame()
    if panel:
        y = pd.concat({"a": y, "b": y * 2.0}, names=["id", "time"])
    head, tail = (y.groupby(level=0).head(100), y.groupby(level=0).tail(44)) if panel else (y.iloc[:100], y.iloc[100:])
    utc = tail.set_axis(tail.index.set_levels(tail.index.levels[-1].tz_convert("UTC"), level=-1)) if panel \
        else tail.tz_convert("UTC")
    here, there = (MODELS["PGN (calendar features)"]().fit(head, fh=[1, 2]) for _ in range(2))
    here.update(tail, update_params=False)
    there.update(utc, update_params=False)
    assert there.cutoff.equals(here.cutoff) and str(there.cutoff.tz) == "Europe/Berlin"
    pd.testing.assert_frame_equal(there.predict(), here.predict())


@pytest.mark.parametrize("make", [lambda: PGNForecaster(period=12, hidden=4, patience=None, **TINY),
                                  lambda: SMambaForecaster(d_model=8, d_ff=8, patience=None, **TINY)],
                         ids=["PGN", "S-Mamba"])
def test_stamps_between_multiples_of_the_step_hand_the_network_their_own_hours(make):
    # 2-hourly stamps at odd hours: positions count whole steps from 1970, so without the fitted
    # offset the calendar features would read 00:00, 02:00, ... for 01:00, 03:00, ...
    index = pd.date_range("2024-01-01 01:00", periods=12 * 10, freq="2h")
    y = pd.Series(np.sin(np.arange(len(index)) * 2 * np.pi / 12), index=index)
    est = make().fit(y, fh=[1])
    assert est.network_.offset_ns == HOUR
    marks, inner = [], est.network_.network.forward
    est.network_.network.forward = lambda x, x_mark: marks.append(x_mark) or inner(x, x_mark)
    est.predict()
    hours = (marks[0][0, :, 0].double().numpy() + 0.5) * 23  # the first feature of a sub-day step: the hour
    np.testing.assert_allclose(hours, index[-24:].hour, atol=1e-4)


def test_aware_stamps_at_whole_steps_of_local_time_have_no_offset():
    # 2-hourly at even Berlin hours: in UTC they are odd hours, yet the calendar reads local time, where the
    # stamps are whole steps from midnight
    index = pd.date_range("2024-01-01", periods=12 * 10, freq="2h", tz="Europe/Berlin")
    assert stamp_offset_ns(index, 2 * HOUR) == 0
    y = pd.Series(np.sin(np.arange(len(index)) * 2 * np.pi / 12), index=index)
    est = PGNForecaster(period=12, hidden=4, patience=None, **TINY).fit(y, fh=[1])
    assert est.network_meta_["offset_ns"] == 0 and est.network_.offset_ns == 0


@pytest.mark.parametrize("panel", [False, True])
def test_stamps_in_the_hour_repeated_in_autumn_are_out_of_sample(panel):
    # sktime reads zoned stamps as wall-clock periods: after the first 02:00 (+02:00) the next instants,
    # 02:00 to 02:45 +01:00, read as at or before the end and fit and predict refused them as in-sample
    from sktime.forecasting.base import ForecastingHorizon

    from tsrec.estimators import ARNetForecaster

    stamps = pd.date_range(end=pd.Timestamp("2024-10-27 00:45", tz="UTC"), periods=60, freq="15min")
    y = local_hours(60).set_axis(stamps.tz_convert("Europe/Berlin"))
    assert y.index[-1] == pd.Timestamp("2024-10-27 02:45+02:00")
    y = pd.concat({"a": y, "b": 2 * y}).to_frame() if panel else y
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y)
    steps = est.predict(fh=[1, 2, 3, 4, 5])
    ahead = steps.index.get_level_values(-1).unique()[[0, 4]]  # 02:00 and 03:00 +01:00
    assert list(ahead) == [pd.Timestamp("2024-10-27 02:00+01:00"), pd.Timestamp("2024-10-27 03:00+01:00")]
    fh = ForecastingHorizon(ahead, is_relative=False)
    forecast = est.predict(fh=fh)
    pd.testing.assert_index_equal(forecast.index.get_level_values(-1).unique(), ahead, check_exact=True)
    wanted = steps.index.get_level_values(-1).isin(ahead)
    np.testing.assert_array_equal(forecast.to_numpy().ravel(), steps.to_numpy()[wanted].ravel())
    fitted_with_fh = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=fh)
    np.testing.assert_array_equal(fitted_with_fh.predict().to_numpy(), forecast.to_numpy())


def test_a_stamp_after_the_autumn_change_is_each_series_own_step_when_the_series_end_apart():
    """Zoned series ending at different stamps inside the repeated autumn hour: a stamp after both ends is a
    different step for each series, and each must get the forecast for that stamp, not the first series' step."""
    stamps = pd.date_range(end=pd.Timestamp("2024-10-27 00:45", tz="UTC"), periods=60, freq="15min")
    a = pd.Series(np.sin(np.arange(60) / 3.0) + 3, index=stamps.tz_convert("Europe/Berlin"))
    y = pd.concat({"a": a, "b": 2 * a.iloc[:-1]}).to_frame("v")  # b ends one step (15 minutes) before a
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y)
    after = pd.Timestamp("2024-10-27 02:00+01:00").tz_convert("Europe/Berlin")
    forecast = est.predict(fh=ForecastingHorizon(pd.DatetimeIndex([after]), is_relative=False), y=y)
    assert forecast.index.get_level_values(-1).tolist() == [after, after]
    steps = est.predict(fh=[1, 2], y=y)  # 02:00+01:00 is a's first step and b's second
    np.testing.assert_array_equal(forecast.to_numpy().ravel(),
                                  steps.to_numpy().ravel()[steps.index.get_level_values(-1) == after])


def test_a_stored_panel_ending_apart_in_the_repeated_hour_forecasts_a_stamp_after_both_ends():
    """sktime reads zoned stamps on the wall clock: 02:00+01:00 after series ending at 02:30+02:00 and
    02:45+02:00 read as before them, and predict(fh) on the stored panel (and fit's fh) raised sktime's
    in-sample NotImplementedError, while predict(fh, y=y) forecast it."""
    stamps = pd.date_range(end=pd.Timestamp("2024-10-27 00:45", tz="UTC"), periods=60, freq="15min")
    a = pd.Series(np.sin(np.arange(60) / 3.0) + 3, index=stamps.tz_convert("Europe/Berlin"))
    y = pd.concat({"a": a, "b": 2 * a.iloc[:-1]}).to_frame("v")
    fh = ForecastingHorizon(pd.DatetimeIndex([pd.Timestamp("2024-10-27 02:00+01:00")]).tz_convert("Europe/Berlin"),
                            is_relative=False)
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y)
    expected = est.predict(fh=fh, y=y)
    pd.testing.assert_frame_equal(est.predict(fh=fh), expected)
    with_fh = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=fh)
    pd.testing.assert_frame_equal(with_fh.predict(), expected)
    assert est.get_tag("capability:insample") is False  # set for sktime's check only
    with pytest.raises(InputError, match=r"not after the end of series 'a'"):  # in-sample for a: still refused
        est.predict(fh=ForecastingHorizon(pd.DatetimeIndex([a.index[-1]]), is_relative=False))
