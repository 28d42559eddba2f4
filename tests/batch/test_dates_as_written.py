"""Dates as files write them: day order, offsets, numbers that look like dates, patterns for names, and
stamps written back (from a mutation round over the 2026-12-06 changes)."""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import read_series
from tsrec.batch.io import check_output_path
from tsrec.estimators import InputError


def _offset_text(stamps, layout):
    return [d.strftime(layout) + d.strftime("%z")[:3] + ":" + d.strftime("%z")[3:] for d in stamps]


def _read_day_first(path, stamps) -> pd.Index:
    """``stamps`` written day first with their offsets to ``path``, read back with dayfirst=True."""
    text = _offset_text(stamps, "%d/%m/%Y %H:%M")
    pd.DataFrame({"unique_id": "a", "ds": text, "y": np.arange(float(len(stamps)))}).to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_series(path, dayfirst=True).index.get_level_values(1)


@pytest.mark.parametrize("values", [[22000101, 22000102, 22000104], [18500101, 18500102, 18500104]])
def test_integers_outside_1900_2199_are_no_yyyymmdd_dates(tmp_path, values):
    # year 2200 or 1850 parse as dates, but the hint is for YYYYMMDD between 1900 and 2199 only
    (tmp_path / "in.csv").write_text("unique_id,ds,y\n" + "".join(f"a,{v},{i}\n" for i, v in enumerate(values)))
    with pytest.raises(InputError, match="not evenly spaced") as info:
        read_series(tmp_path / "in.csv")
    assert "YYYYMMDD" not in str(info.value)


@pytest.mark.parametrize("values", [[19000101, 19000102, 19000104], [21991228, 21991229, 21991231]])
def test_integers_at_the_ends_of_1900_2199_get_the_yyyymmdd_hint(tmp_path, values):
    # both bounds are inclusive: the first day of 1900 and the last of 2199 are dates written as numbers
    (tmp_path / "in.csv").write_text("unique_id,ds,y\n" + "".join(f"a,{v},{i}\n" for i, v in enumerate(values)))
    with pytest.raises(InputError, match=r"\(YYYYMMDD\): write them as dates"):
        read_series(tmp_path / "in.csv")


@pytest.mark.parametrize("values, pattern, form", [
    ([2024013122, 2024013123, 2024020100], "YYYYMMDDHH", "%Y%m%d%H"),
    ([202401312345, 202401312350, 202401312355, 202402010000], "YYYYMMDDHHMM", "%Y%m%d%H%M"),
    ([20240131235958, 20240131235959, 20240201000000], "YYYYMMDDHHMMSS", "%Y%m%d%H%M%S"),
])
def test_hours_minutes_and_seconds_written_as_numbers_get_their_format(tmp_path, values, pattern, form):
    # 2024013123 then 2024020100 are 77 apart as integers: the stamps of a compact log format, not steps
    (tmp_path / "in.csv").write_text("unique_id,ds,y\n" + "".join(f"a,{v},{i}\n" for i, v in enumerate(values)))
    with pytest.raises(InputError, match=rf"\({pattern}\): write them as dates") as info:
        read_series(tmp_path / "in.csv")
    assert f"format='{form}'" in str(info.value)
    text = pd.Series(values).astype(str)
    assert pd.to_datetime(text, format=form).diff().dropna().nunique() == 1  # the advice makes them even


def test_integers_in_range_that_are_no_dates_get_no_date_hint(tmp_path):
    # 20241301 has month 13: in the 1900..2199 range, but no date
    (tmp_path / "in.csv").write_text("unique_id,ds,y\na,20241299,1\na,20241300,2\na,20241301,3\na,20241303,4\n")
    with pytest.raises(InputError, match=r"not evenly spaced .*reindex each series to integer steps of 1") as info:
        read_series(tmp_path / "in.csv")
    assert "YYYYMMDD" not in str(info.value)


@pytest.mark.parametrize("name", ["part_?.csv", "part_[12].csv"])
def test_pattern_hint_for_question_mark_and_brackets(tmp_path, name):
    with pytest.raises(FileNotFoundError, match=r"file not found; check the path \(it is read as one file name, "
                                                r"not as a pattern"):
        read_series(tmp_path / name)


def test_no_pattern_hint_for_a_plain_missing_name(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv: file not found; check the path$"):
        read_series(tmp_path / "nope.csv")


def test_dayfirst_false_is_not_overridden_by_a_day_first_retry(tmp_path):
    # 01/02/2024 .. 15/02/2024 written day first; dayfirst=False must not end up reading them day-first
    days = pd.date_range("2024-02-01", periods=15, freq="D")
    pd.DataFrame({"unique_id": "a", "ds": days.strftime("%d/%m/%Y"), "y": np.arange(15.0)}).to_csv(
        tmp_path / "feb.csv", index=False)
    with pytest.raises(InputError):
        read_series(tmp_path / "feb.csv", dayfirst=False)


def test_dayfirst_with_offsets_that_change(tmp_path):
    # daily local noon in Paris across the spring change: offsets +01:00 then +02:00, read day-first
    stamps = _read_day_first(tmp_path / "noon.csv",
                             pd.date_range("2024-03-29 12:00", periods=6, freq="D", tz="Europe/Paris"))
    assert stamps[0].day == 29 and stamps[0].month == 3 and len(stamps) == 6


def test_first_stamp_is_checked_in_its_own_offset_not_in_utc(tmp_path):
    # 31/03/2024 00:30+01:00 is 30 March 23:30 in UTC; its day order must be judged as written
    stamps = _read_day_first(tmp_path / "night.csv",
                             pd.date_range("2024-03-31 00:30", periods=6, freq="h", tz="Europe/Paris"))
    assert len(stamps) == 6


def test_a_column_with_a_fraction_of_a_second_keeps_it(tmp_path):
    # one stamp at midnight, one not: left to pandas, which writes the fraction
    from tsrec.batch import write_forecasts

    stamps = pd.to_datetime(["2024-01-02 00:00:00", "2024-01-02 00:00:00.500"], format="ISO8601")
    frame = pd.DataFrame({"ds": stamps, "y_hat": [1.0, 2.0]})
    text = write_forecasts(frame, tmp_path / "f.csv").read_text()
    assert text.splitlines() == ["ds,y_hat", "2024-01-02 00:00:00.000,1.0", "2024-01-02 00:00:00.500,2.0"]


def test_dayfirst_true_reads_the_local_hours_of_changing_offsets_day_first_too(tmp_path):
    # daily noon in New York across the November change, written day first (01/11/2024 12:00-04:00 ...)
    days = pd.date_range("2024-11-01 12:00", periods=8, freq="D", tz="America/New_York")
    stamps = _read_day_first(tmp_path / "ny.csv", days)
    assert stamps.equals(pd.DatetimeIndex(days.tz_localize(None), name="ds"))


def test_parquet_output_with_fastparquet_alone_is_not_refused(tmp_path, monkeypatch):
    # pandas' engine="auto" writes with fastparquet where pyarrow is missing
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # an import of it raises ImportError
    monkeypatch.setitem(sys.modules, "fastparquet", types.ModuleType("fastparquet"))
    assert check_output_path(tmp_path / "out.parquet") == tmp_path / "out.parquet"


def test_the_date_hint_writes_the_hour_out(tmp_path):
    # YYYYMMDDHH: the example shows the hour (2024-01-31 23:00), not a day alone
    values = [2024013122, 2024013123, 2024020100]
    (tmp_path / "in.csv").write_text("unique_id,ds,y\n" + "".join(f"a,{v},{i}\n" for i, v in enumerate(values)))
    with pytest.raises(InputError, match=r"\(YYYYMMDDHH\): write them as dates \(2024-01-31 23:00\), e\.g\."):
        read_series(tmp_path / "in.csv")


def test_a_column_with_one_number_that_is_no_date_gets_no_date_hint(tmp_path):
    # 20240199 (day 99) among dates: not every stamp reads as a date, so they are integer steps
    values = [20240130, 20240131, 20240199, 20240201]
    (tmp_path / "in.csv").write_text("unique_id,ds,y\n" + "".join(f"a,{v},{i}\n" for i, v in enumerate(values)))
    with pytest.raises(InputError, match="not evenly spaced") as info:
        read_series(tmp_path / "in.csv")
    assert "YYYYMMDD" not in str(info.value)
