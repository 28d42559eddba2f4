"""future_index's vectorised path for fixed-duration steps gives what one Timestamp per step gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators._timeindex import future_index, infer_freq
from tsrec.estimators.errors import InputError


def stamp_by_stamp(index: pd.DatetimeIndex, freq, steps: np.ndarray) -> pd.DatetimeIndex:
    """The reference: ``last + k * freq`` one Timestamp at a time, then the freq where consecutive
    (a single step too, as sktime)."""
    stamps = pd.DatetimeIndex([index[-1] + int(k) * freq for k in steps], name=index.name)
    if len(steps) and np.all(np.diff(steps) == 1):
        try:
            stamps = pd.DatetimeIndex(stamps, freq=freq)
        except ValueError:
            pass
    return stamps


INDEXES = {
    "hourly": pd.date_range("2020-01-01", periods=50, freq="h", name="t"),
    "15 min, Berlin, across DST": pd.date_range("2020-03-28", periods=50, freq="15min", tz="Europe/Berlin"),
    "hourly in seconds": pd.date_range("2020-01-01", periods=50, freq="h", unit="s"),
    "10 s in milliseconds": pd.date_range("2020-01-01", periods=50, freq="10s", unit="ms"),
    "500 ms in microseconds, Tokyo": pd.date_range("2020-01-01", periods=50, freq="500ms", unit="us", tz="Asia/Tokyo"),
    "daily, Berlin, across DST": pd.date_range("2020-10-20", periods=50, freq="D", tz="Europe/Berlin"),
    "nanoseconds": pd.date_range("2020-01-01", periods=50, freq="7ns"),
}
STEPS = {"1..96": np.arange(1, 97), "gappy": np.array([1, 5, 300]), "single": np.array([3])}


@pytest.mark.parametrize("steps", list(STEPS))
@pytest.mark.parametrize("name", list(INDEXES))
def test_the_fast_path_equals_one_stamp_per_step(name, steps):
    index = INDEXES[name]
    freq = infer_freq(index)
    got, want = future_index(index, freq, STEPS[steps]), stamp_by_stamp(index, freq, STEPS[steps])
    assert got.equals(want)
    assert (got.dtype, got.freq, got.name) == (want.dtype, want.freq, want.name)
    np.testing.assert_array_equal(got.asi8, want.asi8)


def test_a_step_finer_than_the_stamps_unit_refines_the_unit():
    index = pd.date_range("2020-01-01", periods=3, freq="s", unit="s")
    freq = pd.offsets.Milli(250)
    got, want = future_index(index, freq, np.arange(1, 5)), stamp_by_stamp(index, freq, np.arange(1, 5))
    assert got.equals(want) and got.dtype == want.dtype == "datetime64[ms]"


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
def test_roll_outs_are_bounded_by_the_stamps_own_unit(unit):
    # the room was counted with Timestamp.value, nanoseconds whatever the unit: from 1700, a step
    # count past int64 in the unit wrapped to a stamp 288,527 years BC without a word; from 2024,
    # stamps that fit were refused
    step, largest = pd.Timedelta("2000h"), int(np.iinfo(np.int64).max)
    per_step = step // pd.Timedelta(1, unit=unit)
    for start in ("1700-01-01", "2024-01-01"):
        index = pd.date_range(start, periods=3, freq="2000h", unit=unit)
        room = (largest - int(index.asi8[-1])) // per_step  # the most steps whose stamp fits
        got = future_index(index, infer_freq(index), np.array([1, room]))
        assert got.asi8.tolist() == [int(index.asi8[-1]) + k * per_step for k in (1, room)]
        with pytest.raises(InputError, match=f"would run past .* datetime64\\[{unit}\\] index holds"):
            future_index(index, infer_freq(index), np.array([room + 1]))
