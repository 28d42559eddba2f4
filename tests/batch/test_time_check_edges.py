"""Time-stamp checks of batch inputs (_spacing.py, _times.py) at the edges a mutation round found untested:
two-row series across a clock change, mixed ISO precision, junk beside other-order dates, the first bad stamp
named, naive beside zoned files, Arrow-backed stamps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import read_series
from tsrec.estimators import InputError


def write(tmp_path, name: str, stamps, ids="shop1") -> str:
    """A long CSV as pandas writes it: zone-aware stamps with their offsets."""
    values = np.sin(np.arange(len(stamps)) / 3)
    pd.DataFrame({"unique_id": ids, "ds": stamps, "y": values}).to_csv(tmp_path / name, index=False)
    return str(tmp_path / name)


# --- belongs in tests/batch/test_one_offset_days.py -------------------------------------------------------

def test_a_two_row_series_across_a_change_is_kept(tmp_path):
    # a series of two rows has one step and nothing to compare it with, even where the change moves
    # its second stamp on Berlin's clocks (kills: `len(gaps) < 2` -> `< 1` in check_spacing)
    days = pd.to_datetime(["2024-03-31 00:00+01:00", "2024-04-01 00:00+01:00"])
    got = read_series(write(tmp_path, "in.csv", days, ids="b"), time_zone="Europe/Berlin")
    assert list(got.loc["b"].index) == list(days.tz_convert("Europe/Berlin"))


def test_days_at_several_utc_times_of_day_are_called_uneven_not_moved(tmp_path):
    # the last stamp is half a day late: the odd step is there, not at the change that moves the others'
    # clock time, so the message is the uneven-spacing one naming that step
    # (kills: dropping the one-UTC-time-of-day test in _moved_on_the_clock)
    days = pd.date_range("2024-03-25 00:00+00:00", periods=11, freq="D").append(
        pd.DatetimeIndex([pd.Timestamp("2024-04-05 12:00+00:00")]))
    path = write(tmp_path, "in.csv", days, ids="b")
    with pytest.raises(InputError, match=r"in\.csv: series 'b' has time stamps that are not evenly spaced "
                                         r"\(2024-04-04 02:00:00\+02:00 is followed by 2024-04-05 14:00:00\+02:00"):
        read_series(path, time_zone="Europe/Berlin")


# --- belongs in tests/batch/test_time_offsets.py ----------------------------------------------------------

def test_daily_stamps_with_changing_offsets_and_precision_keep_their_local_dates(tmp_path):
    # ISO 8601 stamps that vary in precision (one with seconds) read only as ISO 8601: their local
    # wall-clock times must be read so too, else the days fall back to UTC, 23 hours apart at the change
    # (kills: dropping format="ISO8601" from _wall_clock's tries)
    days = pd.date_range("2024-03-25", periods=12, freq="D", tz="Europe/Berlin")
    text = [d.isoformat(timespec="minutes") for d in days[:-1]] + [days[-1].isoformat()]
    assert text[0] == "2024-03-25T00:00+01:00" and text[-1] == "2024-04-05T00:00:00+02:00"
    pd.DataFrame({"unique_id": "b", "ds": text, "y": np.arange(12.0)}).to_csv(tmp_path / "in.csv", index=False)
    stamps = read_series(tmp_path / "in.csv").index.get_level_values("ds")
    assert stamps.tz is None and (stamps == days.tz_localize(None)).all()


# --- belongs in tests/batch/test_file_quirks.py -----------------------------------------------------------

def csv(tmp_path, name: str, stamps) -> str:
    pd.DataFrame({"unique_id": "a", "ds": stamps, "y": np.arange(len(stamps), dtype=float)}).to_csv(
        tmp_path / name, index=False)
    return str(tmp_path / name)


def test_junk_beside_dates_of_the_other_order_is_not_called_a_day_order_mistake(tmp_path):
    # 'xyz' reads in neither order: the column is simply not time stamps, not "read day-first"
    # (kills: `.any()` -> `.all()` in _check_other_order)
    path = csv(tmp_path, "in.csv", ["01/02/2024", "13/02/2024", "xyz"])
    with pytest.raises(InputError, match=r"values that are not time stamps") as info:
        read_series(path, dayfirst=False)
    assert "first" not in str(info.value).split("not time stamps")[0]


def test_the_first_unreadable_stamp_is_named(tmp_path):
    # two bad stamps: the message names the first one and its row (kills: rows[0] -> rows[-1])
    path = csv(tmp_path, "in.csv", ["2024-01-01", "junk1", "2024-01-03", "junk2"])
    with pytest.raises(InputError, match=r"not time stamps, e\.g\. 'junk1' \(data row 2\)"):
        read_series(path)


def test_day_or_month_first_dates_with_changing_offsets_are_refused(tmp_path):
    # read in UTC (the offsets differ), they still read both ways: refused like dates without offsets
    # (kills: utc=False in _check_day_month_order's second reading, which then fails and passes them)
    stamps = [f"{d:02d}/03/2024 00:00{'+01:00' if d < 6 else '+02:00'}" for d in range(1, 11)]
    with pytest.raises(InputError, match=r"read as well day-first as month-first"):
        read_series(csv(tmp_path, "in.csv", stamps))


def test_a_file_without_offsets_beside_one_with_offsets_is_refused_in_tsrec_terms(tmp_path):
    # naive and zoned stamps across files: the kinds are named, not a pandas TypeError
    # (kills: dropping `"None" in zones` in common_time_zone)
    naive = csv(tmp_path, "naive.csv", [f"2024-01-0{d} 00:00" for d in range(1, 6)])
    zoned = csv(tmp_path, "zoned.csv", [f"2024-01-0{d} 00:00+01:00" for d in range(1, 6)])
    with pytest.raises(InputError, match=r"different kinds of time stamps"):
        read_series([naive, zoned])


# --- belongs in tests/batch/test_io_details.py ------------------------------------------------------------

def test_arrow_backed_stamps_from_parquet_read_like_numpy_ones(tmp_path):
    # a Parquet file written from a pyarrow-backed frame comes back with Arrow stamps; they read as NumPy's
    # (kills: dropping the ArrowDtype conversion in parse_times)
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=6, freq="h"),
                          "y": np.arange(6.0)}).convert_dtypes(dtype_backend="pyarrow")
    frame.to_parquet(tmp_path / "in.parquet")
    want = read_series(csv(tmp_path, "in.csv", pd.date_range("2024-01-01", periods=6, freq="h")))
    pd.testing.assert_frame_equal(read_series(tmp_path / "in.parquet"), want, check_dtype=False)
