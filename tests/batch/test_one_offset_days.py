"""Steps of a day or more at one UTC time of day, read in a zone with daylight saving time: its clocks
move them by an hour at the change, and the forecasters count such steps in local dates, so they are
refused while reading, naming the series, its file(s) and the fix (a mutation round's killing tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import forecast_files, read_series
from tsrec.estimators import ARNetForecaster, InputError

BERLIN_DAYS = pd.date_range("2024-03-01", periods=60, freq="D", tz="Europe/Berlin")  # DST from 31 March
MOVED = r"at one UTC time of day, which a daylight-saving change moves on the clocks of Europe/Berlin"


def write(tmp_path, name: str, stamps, ids="shop1") -> str:
    """A long CSV as pandas writes it: zone-aware stamps with their offsets."""
    values = np.sin(np.arange(len(stamps)) / 3)
    pd.DataFrame({"unique_id": ids, "ds": stamps, "y": values}).to_csv(tmp_path / name, index=False)
    return str(tmp_path / name)


def test_an_uneven_series_of_three_rows_is_refused(tmp_path):
    # two steps are enough to be uneven: only a series of one or two rows has nothing to compare
    path = write(tmp_path, "in.csv", pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 03:00"]))
    with pytest.raises(InputError, match=r"in\.csv: series 'shop1' has time stamps that are not evenly spaced "
                                         r"\(2024-01-01 01:00:00 is followed by 2024-01-01 03:00:00"):
        read_series(path)


def test_daily_rows_even_on_the_zone_s_clocks_are_kept_beside_a_series_across_a_change(tmp_path):
    # January's days keep +01:00 all along: even in absolute time and on Berlin's clocks. Beside a series
    # across the change the column holds both offsets, yet January is not refused for it
    january = pd.date_range("2024-01-01", periods=20, freq="D", tz="Europe/Berlin")
    path = tmp_path / "in.csv"
    pd.concat([pd.read_csv(write(tmp_path, "a.csv", BERLIN_DAYS, ids="spring")),
               pd.read_csv(write(tmp_path, "b.csv", january, ids="january"))]).to_csv(path, index=False)
    got = read_series(path, time_zone="Europe/Berlin")
    assert (got.loc["january"].index == january).all() and (got.loc["spring"].index == BERLIN_DAYS).all()


def test_a_change_at_the_last_step_of_one_offset_s_days_is_refused(tmp_path):
    # the odd step is the very last one: 31 March 00:00 -> 1 April 01:00 on Berlin's clocks
    days = pd.date_range("2024-03-20 00:00+01:00", "2024-04-01 00:00+01:00", freq="D")
    path = write(tmp_path, "fixed.csv", days, ids="b")
    with pytest.raises(InputError, match=rf"fixed\.csv: series 'b' has time stamps 1 day apart {MOVED} "
                                         r"\(2024-03-31 00:00:00\+01:00 is followed by 2024-04-01 01:00:00\+02:00\)"):
        read_series(path, time_zone="Europe/Berlin")


def test_one_offset_s_days_split_at_the_change_name_both_files(tmp_path):
    # the two stamps around the odd step lie in different files: the message names both
    days = pd.date_range("2024-03-01 00:00+01:00", periods=60, freq="D")
    winter = write(tmp_path, "winter.csv", days[:31], ids="b")  # to 31 March
    summer = write(tmp_path, "summer.csv", days[31:], ids="b")  # from 1 April
    with pytest.raises(InputError, match=rf"summer\.csv, .*winter\.csv: series 'b' has time stamps 1 day apart "
                                         rf"{MOVED}"):
        read_series([winter, summer], time_zone="Europe/Berlin")


def test_steps_shorter_than_a_day_are_not_taken_for_local_dates(tmp_path):
    # 23 hours is sub-daily: counted in absolute time, so the change that moves it on the clocks is fine
    stamps = pd.date_range("2024-03-25", periods=20, freq="23h", tz="Europe/Berlin")
    got = read_series(write(tmp_path, "in.csv", stamps), time_zone="Europe/Berlin")
    assert (got.index.get_level_values("ds") == stamps).all()


def test_one_offset_s_days_beside_an_hourly_file_met_in_utc_are_refused(tmp_path):
    # an hourly file whose offsets change puts every file in UTC (in_utc); read in Berlin, the other file's
    # days at +01:00 still move on its clocks at the change
    hourly = write(tmp_path, "hourly.csv", pd.date_range("2024-03-30", periods=72, freq="h", tz="Europe/Berlin"),
                   ids="h")
    fixed = write(tmp_path, "fixed.csv", pd.date_range("2024-03-01 00:00+01:00", periods=60, freq="D"), ids="b")
    with pytest.raises(InputError, match=rf"fixed\.csv: series 'b' has time stamps 1 day apart {MOVED}"):
        read_series([hourly, fixed], time_zone="Europe/Berlin")


def test_the_refusal_names_the_file_of_a_later_series_and_its_usual_step(tmp_path):
    # series 'z' sorts after 'a' of another file: its own rows' file is named. Its first step crosses the
    # change (25 hours on Berlin's clocks), but the step named is the absolute one
    changing = write(tmp_path, "local.csv", BERLIN_DAYS, ids="a")
    fixed = write(tmp_path, "fixed.csv", pd.date_range("2024-03-31 00:00+01:00", periods=10, freq="D"), ids="z")
    with pytest.raises(InputError, match=rf"/fixed\.csv: series 'z' has time stamps 1 day apart {MOVED} "
                                         r"\(2024-03-31 00:00:00\+01:00 is followed by 2024-04-01 01:00:00\+02:00\)"):
        read_series([changing, fixed], time_zone="Europe/Berlin")


def test_month_starts_at_one_offset_are_refused_and_at_local_midnight_kept(tmp_path):
    # months are not even in absolute time, so only the clock check sees them: read as 00:00 in winter and
    # 01:00 in summer, they were forecast at 01:00+02:00, off the model's midnights, without a word
    months = pd.date_range("2023-01-01", periods=40, freq="MS")
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(
        pd.Series(np.sin(np.arange(40) / 3), index=months.tz_localize("Europe/Berlin")))
    fixed = write(tmp_path, "fixed.csv", months.tz_localize("+01:00"), ids="m")
    with pytest.raises(InputError, match=rf"fixed\.csv: series 'm' has time stamps 1 month apart {MOVED} "
                                         r"\(2023-03-01 00:00:00\+01:00 is followed by 2023-04-01 01:00:00\+02:00\)"):
        forecast_files(est, fixed, tmp_path / "out.csv")
    local = write(tmp_path, "local.csv", months.tz_localize("Europe/Berlin"), ids="m")
    got = forecast_files(est, local, tmp_path / "out.csv")
    assert got["ds"].dt.hour.eq(0).all() and len(got) == 2
