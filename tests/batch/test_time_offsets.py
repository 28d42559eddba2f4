"""Stamps whose UTC offsets change (daylight saving time), and the message for unevenly spaced stamps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import forecast_files, forecast_panel, read_series
from tsrec.estimators import ARNetForecaster, CycleNetForecaster, InputError

BERLIN_DAYS = pd.date_range("2024-03-01", periods=60, freq="D", tz="Europe/Berlin")  # DST from 31 March


def write(tmp_path, name: str, stamps, ids="shop1") -> str:
    """A long CSV as pandas writes it: zone-aware stamps with their offsets (+01:00, then +02:00)."""
    values = np.sin(np.arange(len(stamps)) / 3)
    pd.DataFrame({"unique_id": ids, "ds": stamps, "y": values}).to_csv(tmp_path / name, index=False)
    return str(tmp_path / name)


def test_daily_stamps_keep_their_local_dates(tmp_path):
    path = write(tmp_path, "in.csv", BERLIN_DAYS)
    assert "+01:00" in open(path).read() and "+02:00" in open(path).read()
    stamps = read_series(path).index.get_level_values("ds")
    # in UTC they would be 23:00/22:00 of the day before, 23 hours apart at the change
    assert stamps.tz is None and (stamps == BERLIN_DAYS.tz_localize(None)).all()
    # one offset per file (winter, summer) reads the same
    frame = pd.read_csv(path)
    winter = frame["ds"].str.endswith("+01:00")
    frame[winter].to_csv(tmp_path / "winter.csv", index=False)
    frame[~winter].to_csv(tmp_path / "summer.csv", index=False)
    pd.testing.assert_frame_equal(read_series([tmp_path / "winter.csv", tmp_path / "summer.csv"]), read_series(path))


def test_daily_csv_forecasts_like_the_zoned_data(tmp_path):
    panel = pd.concat({"shop1": pd.DataFrame({"y": np.sin(np.arange(60) / 3)}, index=BERLIN_DAYS)},
                      names=["unique_id", "ds"])
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(panel)
    panel.reset_index().to_parquet(tmp_path / "in.parquet")
    zoned = forecast_files(est, tmp_path / "in.parquet", tmp_path / "zoned.csv")
    got = forecast_files(est, write(tmp_path, "in.csv", BERLIN_DAYS), tmp_path / "out.csv")
    # read as local dates, then in the model's zone: the same stamps as from the zoned Parquet file
    assert got["ds"].tolist() == [pd.Timestamp("2024-04-30", tz="Europe/Berlin"),
                                  pd.Timestamp("2024-05-01", tz="Europe/Berlin")]
    assert (got["ds"] == zoned["ds"]).all()
    np.testing.assert_allclose(got["y_hat"], zoned["y_hat"], rtol=1e-6)


def test_a_file_of_one_offset_before_a_change_forecasts_the_zone_model_s_days_after_it(tmp_path):
    # the last rows before 31 March carry +01:00 only: read as that fixed offset, a day was 24 hours and the
    # forecasts fell on 01:00 in summer, an hour off the model's Berlin midnights
    days = pd.date_range("2024-03-01", periods=30, freq="D", tz="Europe/Berlin")
    panel = pd.concat({"shop1": pd.DataFrame({"y": np.sin(np.arange(30) / 3)}, index=days)}, names=["unique_id", "ds"])
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(panel)
    path = write(tmp_path, "winter.csv", days)
    assert "+02:00" not in open(path).read()
    got = forecast_files(est, path, tmp_path / "out.csv", fh=3)
    assert got["ds"].tolist() == list(pd.date_range("2024-03-31", periods=3, freq="D", tz="Europe/Berlin"))
    np.testing.assert_allclose(got["y_hat"], est.predict(fh=[1, 2, 3])["y"], rtol=1e-6)


def test_stamps_even_in_utc_stay_in_utc(tmp_path):
    # every 24 hours at 23:00 UTC: the local clock shows 00:00, then 01:00 in summer
    stamps = pd.date_range("2024-03-01 23:00", periods=60, freq="D", tz="UTC").tz_convert("Europe/Berlin")
    index = read_series(write(tmp_path, "in.csv", stamps)).index.get_level_values("ds")
    assert str(index.tz) == "UTC" and (index == stamps).all()


@pytest.mark.parametrize(
    "stamps, message",
    [
        (BERLIN_DAYS.delete(40), r"2024-04-09 00:00:00 is followed by 2024-04-11 00:00:00, but the usual step is "
         r"1 day\); put each series on a regular grid, e\.g\. df\.asfreq\('D'\)"),
        (pd.date_range("2024-03-30", periods=60, freq="h", tz="Europe/Berlin").delete(40),
         r"usual step is 1 hour\); the stamps' UTC offsets differ \(e\.g\. daylight saving time\), so they "
         r"were read in UTC; .*df\.asfreq\('h'\)"),
        (pd.date_range("2024-01-01", periods=12, freq="MS", tz="Europe/Berlin").delete(5),
         r"2024-05-01 00:00:00 is followed by 2024-07-01 00:00:00, but the usual step is 1 month\).*asfreq\('MS'\)"),
        (pd.date_range("2023-01-31", periods=12, freq="ME").delete(5),
         r"2023-05-31 00:00:00 is followed by 2023-07-31 00:00:00, but the usual step is 1 month\).*asfreq\('ME'\)"),
        (pd.DatetimeIndex([f"2024-{m:02d}-15" for m in range(1, 12)]).delete(5),
         r"1 month\); .*no frequency for stamps on day 15 of each month, so move them to the start of each "
         r"month, e\.g\. df\['ds'\] = pd\.to_datetime\(df\['ds'\]\)\.dt\.to_period\('M'\)\.dt\.to_timestamp\(\), "
         r"then df\.asfreq\('MS'\)"),
        (pd.bdate_range("2024-01-01", periods=30).delete(10),
         r"2024-01-12 00:00:00 is followed by 2024-01-16 00:00:00, but the usual step is 1 business day\).*'B'"),
        ([0, 10, 20, 40, 50],
         r"20 is followed by 40, but the usual step is 10\); reindex each series to integer steps"),
    ],
)
def test_uneven_stamps_name_the_file_and_a_fix_for_their_step(tmp_path, stamps, message):
    path = write(tmp_path, "gaps.csv", stamps)
    with pytest.raises(InputError, match=r"gaps\.csv: series 'shop1' has time stamps that are not evenly spaced \("):
        read_series(path)
    with pytest.raises(InputError, match=message):
        read_series(path)


def test_monthly_stamps_on_the_15th_are_called_even_and_told_to_move(tmp_path):
    path = write(tmp_path, "bills.csv", pd.DatetimeIndex([f"2024-{m:02d}-15" for m in range(1, 12)]))
    with pytest.raises(InputError, match=r"bills\.csv: series 'shop1' has time stamps whole calendar periods "
                                         r"apart, but pandas has no frequency for stamps on day 15 of each month"):
        read_series(path)


def test_an_uneven_series_split_over_files_names_both(tmp_path):
    stamps = pd.date_range("2024-01-01", periods=10, freq="h")
    first = write(tmp_path, "a.csv", stamps[:5])
    second = write(tmp_path, "b.csv", stamps[6:])
    with pytest.raises(InputError, match=r"a\.csv, .*b\.csv: series 'shop1' .*04:00:00 is followed by .*06:00:00"):
        read_series([first, second])


def test_naive_stamps_that_do_not_exist_in_the_model_zone_are_refused(tmp_path):
    hours = pd.date_range("2024-03-30", periods=60, freq="h", tz="Europe/Berlin")
    panel = pd.concat({"shop1": pd.DataFrame({"y": np.sin(np.arange(60) / 3)}, index=hours)}, names=["unique_id", "ds"])
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(panel)
    # 02:00 on 2024-03-31 does not exist in Berlin: a naive file naming it is ambiguous about the instant
    naive = pd.date_range("2024-03-31 00:00", periods=6, freq="h")
    write(tmp_path, "in.csv", naive)
    with pytest.raises(InputError, match=r"in\.csv: the stamps carry no time zone and are read in Europe/Berlin.*UTC "
                                         r"offsets"):
        forecast_files(est, tmp_path / "in.csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
    with pytest.raises(InputError, match=r"no time zone and the model was fitted in Europe/Berlin.*UTC offsets"):
        forecast_panel(est, read_series(tmp_path / "in.csv"))


def test_naive_local_stamps_across_a_daylight_saving_change_read_in_the_model_zone(tmp_path):
    # 01:00 is followed by 03:00 in Berlin on 2024-03-31: the spacing check ran on the naive stamps,
    # before they were put in the model's zone, and refused them (its asfreq('h') fix adds 02:00,
    # which does not exist there)
    hours = pd.date_range("2024-03-20", periods=200, freq="h", tz="Europe/Berlin")
    panel = pd.concat({"shop1": pd.DataFrame({"y": np.sin(np.arange(200) / 3)}, index=hours)},
                      names=["unique_id", "ds"])
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(panel)
    local = pd.date_range("2024-03-31", periods=10, freq="h", tz="Europe/Berlin")
    write(tmp_path, "in.csv", local.tz_localize(None))
    got = forecast_files(est, tmp_path / "in.csv", tmp_path / "out.csv")
    expected = forecast_panel(est, pd.concat({"shop1": pd.DataFrame({"y": np.sin(np.arange(10) / 3)}, index=local)},
                                             names=["unique_id", "ds"]))
    pd.testing.assert_frame_equal(got, expected)
    with pytest.raises(InputError, match=r"01:00:00 is followed by 2024-03-31 03:00:00"):  # uneven without a zone
        read_series(tmp_path / "in.csv")


def test_stamps_with_offsets_for_a_model_fitted_without_a_zone_are_refused_in_file_terms(tmp_path):
    hours = pd.date_range("2024-01-01", periods=60, freq="h")
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(pd.Series(np.sin(np.arange(60) / 3), index=hours))
    path = write(tmp_path, "in.csv", hours.tz_localize("Asia/Tokyo"))
    with pytest.raises(InputError, match=r"the time stamps are in UTC\+09:00 \(they carry UTC offsets\) but the "
                                         r"model was fitted on stamps without a time zone; write them as the "
                                         r"local times") as info:
        forecast_files(est, path, tmp_path / "out.csv")
    assert "tz_localize" not in str(info.value)  # no pandas call a command-line user could not make
    assert not (tmp_path / "out.csv").exists()
    # across a daylight-saving change local hours skip one: the advice for a model that reads no stamps is UTC
    assert str(info.value).endswith("the model reads no stamps, so write them in UTC without offsets (e.g. "
                                    "2024-07-05 11:00 for 13:00+02:00)")
    cycle = CycleNetForecaster(lookback=8, horizon=2, max_epochs=1).fit(pd.Series(np.sin(np.arange(60) / 3),
                                                                                  index=hours))
    with pytest.raises(InputError, match=r"the model reads the phase of its cycle from the local hours it was fitted "
                                         r"on; fit it on stamps with their time zone, and it reads these files as they "
                                         r"are$"):
        forecast_files(cycle, path, tmp_path / "out.csv")


@pytest.mark.parametrize("zone", ["Europe/Berln", 5, "", b"UTC"])
def test_a_time_zone_that_is_not_one_is_refused(tmp_path, zone):
    path = write(tmp_path, "in.csv", pd.date_range("2024-01-01", periods=5, freq="h"))
    with pytest.raises(InputError, match=r"time_zone must be None, a tzinfo or a time zone name .* got "):
        read_series(path, time_zone=zone)
    assert read_series(path, time_zone="Asia/Tokyo").index.get_level_values(-1).tz is not None


def test_daily_stamps_with_changing_offsets_beside_hourly_ones_are_named(tmp_path):
    hours = pd.date_range("2024-03-29", periods=96, freq="h", tz="Europe/Berlin")
    days = write(tmp_path, "daily.csv", BERLIN_DAYS, ids="daily")
    with pytest.raises(InputError, match=r"series 'daily' steps by a day or more and its UTC offsets change .* "
                                         r"forecast the daily and the sub-daily series in separate runs"):
        read_series([days, write(tmp_path, "hourly.csv", hours, ids="hourly")])
    # a day missing from a daily series beside hourly ones is a gap in the data, refused as such
    gap = write(tmp_path, "gap.csv", pd.date_range("2024-01-01", periods=20, freq="D", tz="Europe/Berlin").delete(5),
                ids="daily")
    winter = write(tmp_path, "winter.csv", pd.date_range("2024-01-01", periods=48, freq="h", tz="Europe/Berlin"),
                   ids="hourly")
    with pytest.raises(InputError) as info:
        read_series([gap, winter, write(tmp_path, "summer.csv", hours, ids="summer")])
    assert "separate runs" not in str(info.value)


@pytest.mark.parametrize("freq", ["h", "15min"])
def test_naive_local_stamps_across_the_autumn_change_read_evenly_spaced(tmp_path, freq):
    # 02:00 comes twice in Berlin on 2024-10-27 (+02:00, then +01:00): it was refused as ambiguous
    stamps = pd.date_range("2024-10-26 12:00", periods=120, freq=freq, tz="Europe/Berlin")
    frame = pd.DataFrame({"unique_id": ["a", "b"] * 120, "ds": np.repeat(stamps.tz_localize(None), 2),
                          "y": np.arange(240.0)})
    frame.astype({"ds": str}).to_csv(tmp_path / "in.csv", index=False)
    got = read_series(tmp_path / "in.csv", time_zone="Europe/Berlin")
    for key, values in [("a", np.arange(0.0, 240, 2)), ("b", np.arange(1.0, 240, 2))]:
        assert (got.loc[key].index == stamps).all()  # the first of two rows at a repeated time is the earlier
        np.testing.assert_array_equal(got.loc[key, "y"].to_numpy(), values)


def test_a_repeated_autumn_time_held_once_is_refused_in_tsrec_terms(tmp_path):
    stamps = pd.date_range("2024-10-26 12:00", periods=30, freq="h", tz="Europe/Berlin")
    # one of the two 02:00 rows is missing: which instant the other one is cannot be told
    write(tmp_path, "in.csv", stamps.delete(15).tz_localize(None), ids="shop1")
    with pytest.raises(InputError, match=r"in\.csv: the stamps carry no time zone and are read in Europe/Berlin, but "
                                         r"series 'shop1' holds 2024-10-27 02:00:00 once, .*; write the stamps with "
                                         r"their UTC offsets .* or in UTC") as info:
        read_series(tmp_path / "in.csv", time_zone="Europe/Berlin")
    assert "ambiguous" not in str(info.value)  # pandas' advice names an argument tsrec does not offer


def test_a_zoned_model_forecasts_naive_stamps_across_the_autumn_change(tmp_path):
    hours = pd.date_range("2024-10-20", periods=200, freq="h", tz="Europe/Berlin")
    panel = pd.concat({"shop1": pd.DataFrame({"y": np.sin(np.arange(200) / 3)}, index=hours)},
                      names=["unique_id", "ds"])
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(panel).save(tmp_path / "model")
    local = pd.date_range("2024-10-26 20:00", periods=10, freq="h", tz="Europe/Berlin")
    write(tmp_path, "in.csv", local.tz_localize(None))
    got = forecast_files(tmp_path / "model", tmp_path / "in.csv", tmp_path / "out.csv")
    expected = forecast_panel(tmp_path / "model", pd.concat(
        {"shop1": pd.DataFrame({"y": np.sin(np.arange(10) / 3)}, index=local)}, names=["unique_id", "ds"]))
    pd.testing.assert_frame_equal(got, expected)
    assert got["ds"].tolist() == [pd.Timestamp("2024-10-27 05:00", tz="Europe/Berlin"),
                                  pd.Timestamp("2024-10-27 06:00", tz="Europe/Berlin")]


def test_stamps_of_one_fixed_offset_are_read_in_the_zone_asked(tmp_path):
    # exported in CET all year: +01:00 on every row, also after the spring change; the same instants,
    # shown on Berlin's clock (03:00+02:00 where the file says 02:00+01:00)
    stamps = pd.date_range("2024-03-29", periods=72, freq="h", tz="+01:00")
    path = write(tmp_path, "cet.csv", stamps)
    assert "+02:00" not in open(path).read()
    index = read_series(path, time_zone="Europe/Berlin").index.get_level_values("ds")
    assert str(index.tz) == "Europe/Berlin" and (index == stamps).all()
    berlin = pd.Series(np.sin(np.arange(72) / 3), index=pd.date_range("2024-03-01", periods=72, freq="h",
                                                                     tz="Europe/Berlin"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(berlin)
    got = forecast_files(est, path, tmp_path / "out.csv")
    assert got["ds"].tolist() == list(pd.date_range("2024-04-01 01:00", periods=2, freq="h", tz="Europe/Berlin"))


def test_a_repeated_autumn_time_held_once_in_a_panel_is_refused_with_its_series(tmp_path):
    # each series ends at the first 02:00 of 27 October: which of the two instants is unknown, for each
    hours = pd.date_range("2024-10-01", periods=60, freq="h", tz="Europe/Berlin")
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(
        pd.Series(np.sin(np.arange(60) / 4), index=hours))
    naive = pd.date_range("2024-10-26 18:00", "2024-10-27 02:00", freq="h")
    panel = pd.concat({key: pd.DataFrame({"y": np.sin(np.arange(len(naive)) / s)}, index=naive)
                       for key, s in [("a", 3), ("b", 5)]}, names=["unique_id", "ds"])
    with pytest.raises(InputError, match=r"the model was fitted in Europe/Berlin, but series 'a' holds 2024-10-27 "
                                         r"02:00:00 once, a time the clocks repeat"):
        forecast_panel(est, panel)


@pytest.mark.parametrize("first", ["2024-03-01 00:00+01:00", "2024-02-29 23:00+00:00"])
def test_daily_rows_of_one_offset_across_a_change_are_refused_alone_and_beside_other_files(tmp_path, first):
    # midnight at +01:00 is 01:00 on Berlin clocks in summer (and 23:00 UTC is 00:00, then 01:00): not the
    # model's days. Beside a file whose offsets change, every file was read as its own wall clock, and the
    # same rows were taken as Berlin midnights without a word
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(
        pd.Series(np.sin(np.arange(60) / 3), index=BERLIN_DAYS))
    days = pd.date_range(first, periods=60, freq="D")  # Berlin's midnights in winter, at one offset all along
    fixed = write(tmp_path, "fixed.csv", days, ids="b")
    changing = write(tmp_path, "local.csv", BERLIN_DAYS, ids="c")
    message = (r"fixed\.csv: series 'b' has time stamps 1 day apart at one UTC time of day, which a daylight-saving "
               r"change moves on the clocks of Europe/Berlin \(2024-03-31 00:00:00\+01:00 is followed by 2024-04-01 "
               r"01:00:00\+02:00\), .*write them at one local time of day: as local dates without a zone, or with "
               r"Europe/Berlin's own offsets")
    for files in ([fixed], [changing, fixed], [fixed, changing]):
        with pytest.raises(InputError, match=message):
            forecast_files(est, files, tmp_path / "out.csv")
        with pytest.raises(InputError, match=message):
            read_series(files, time_zone="Europe/Berlin")
    assert not (tmp_path / "out.csv").exists()
    # without a zone to read them in, one offset's days are even: a file alone keeps them, beside the other
    # file they keep their own dates
    assert read_series(fixed).index.get_level_values("ds").tz is not None
    both = read_series([changing, fixed]).loc["b"].index
    assert both.tz is None and (both == days.tz_localize(None)).all()
    # the changing file alone is Berlin's days, as before
    assert forecast_files(est, changing, tmp_path / "out.csv")["ds"].dt.hour.eq(0).all()
