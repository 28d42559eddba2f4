"""ltsf_split refuses frames whose rows would silently move the papers' borders, and says how to fix them."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from numpydoc.docscrape import NumpyDocString

from tsrec.datasets import load_ett, load_ltsf, ltsf_borders, ltsf_split
from tsrec.errors import InputError


def _lengths(parts: tuple) -> list[int]:
    return [len(part) for part in parts]


def _weekly(n: int) -> pd.DataFrame:
    """``n`` rows on illness's weekly grid."""
    return pd.DataFrame({"OT": range(n)}, index=pd.date_range("2002-01-01", periods=n, freq="W-TUE"), dtype=float)


def test_a_lookback_of_all_the_training_rows_is_accepted_and_one_more_refused() -> None:
    train_end, _, _ = ltsf_borders("illness", 966)
    train, val, _ = ltsf_split(_weekly(966), "illness", lookback=train_end)
    assert len(train) == train_end and val.index[0] == _weekly(966).index[0]  # validation's context: all of train
    with pytest.raises(ValueError, match=rf"lookback must be in \[1, {train_end}\]"):
        ltsf_split(_weekly(966), "illness", lookback=train_end + 1)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_a_frame_too_short_for_a_row_in_every_part_is_refused(n: int) -> None:
    # 4 rows gave a test part of lookback context alone, no target row, and no error
    with pytest.raises(ValueError, match="too few for the 70/10/20 split"):
        ltsf_split(_weekly(n), "illness", lookback=1)


@pytest.mark.parametrize("kind", ["datetime", "period"])
def test_missing_rows_are_refused_naming_the_first_gap(kind: str) -> None:
    df = load_ett("ETTh1")
    gappy = df.drop(df.index[100:110]).drop(df.index[500:501])  # two gaps: the first is named
    gappy = gappy.to_period("h") if kind == "period" else gappy
    assert kind == "period" or pd.infer_freq(gappy.index) is None  # the case the step check skipped
    with pytest.raises(InputError) as info:
        ltsf_split(gappy, "ETTh1", 96)
    message = str(info.value)
    before, after = gappy.index[99], gappy.index[100]
    assert f"{before} is followed by {after}" in message, message
    assert "step of ETTh1 is h" in message and str(gappy.index[499]) not in message
    regrid = "df.asfreq('h')" if kind == "datetime" else "pd.period_range(df.index[0], df.index[-1], freq='h')"
    assert "load_ltsf('ETTh1')" in message and regrid in message


def test_missing_rows_of_a_weekly_set_are_refused(data_dir) -> None:
    df = load_ltsf("illness", data_dir)
    gappy = df.drop(df.index[300])
    with pytest.raises(InputError, match=re.escape(f"{df.index[299]} is followed by {df.index[301]}")):
        ltsf_split(gappy, "illness", 24)


@pytest.mark.parametrize("kind", ["datetime", "period"])
def test_an_ett_frame_that_starts_late_is_refused(kind: str) -> None:
    # ETT's borders are 12/4/4 months from 2016-07-01: a day dropped at the start moved each by a day, silently
    df = load_ett("ETTh1")
    df = df.to_period("h") if kind == "period" else df
    with pytest.raises(InputError, match=r"df starts at 2016-07-02 00:00(:00)?, but ETTh1's split borders are fixed "
                                         r"times counted from its first stamp, 2016-07-01 00:00:00.*load_ltsf"):
        ltsf_split(df.iloc[24:], "ETTh1", 96)
    assert _lengths(ltsf_split(df, "ETTh1", 96)) == [8640, 2976, 2976]


def test_a_regular_index_without_freq_still_splits() -> None:
    df = load_ett("ETTh1")
    no_freq = df.set_axis(pd.DatetimeIndex(list(df.index), name="date"))
    assert no_freq.index.freq is None
    assert _lengths(ltsf_split(no_freq, "ETTh1", 96)) == _lengths(ltsf_split(df, "ETTh1", 96))


def test_stacked_series_are_refused_with_the_per_series_split() -> None:
    df = load_ett("ETTh1")
    stacked = pd.concat({"a": df, "b": df})
    with pytest.raises(InputError, match="MultiIndex.*split each series on its own") as info:
        ltsf_split(stacked, "ETTh1", 96)
    assert "df.xs(key)" in str(info.value)
    # the suggested per-series split gives each series the split of the series alone
    parts = {key: ltsf_split(stacked.xs(key), "ETTh1", 96) for key in stacked.index.unique(level=0)}
    for key in ("a", "b"):
        for got, want in zip(parts[key], ltsf_split(df, "ETTh1", 96)):
            pd.testing.assert_frame_equal(got, want)


def test_repeated_stamps_point_to_load_ltsf_not_to_dropping_rows(data_dir) -> None:
    df = load_ltsf("weather", data_dir)
    raw = pd.read_csv(data_dir / "weather" / "weather.csv", usecols=["date"], encoding_errors="replace")
    file_stamps = df.set_axis(pd.DatetimeIndex(pd.to_datetime(raw["date"]), name="date"))
    with pytest.raises(InputError, match=r"repeat .*load_ltsf\('weather'\)") as info:
        ltsf_split(file_stamps, "weather", 96)
    assert "duplicated" not in str(info.value)


def test_a_frame_without_columns_is_not_called_empty_of_rows() -> None:
    with pytest.raises(InputError, match="df has no columns") as info:
        ltsf_split(load_ett("ETTh1").iloc[:, :0], "ETTh1", 96)
    assert "no rows" not in str(info.value)


@pytest.mark.parametrize("stamps", ["datetime", "text"])
def test_a_date_column_is_refused_with_set_index(stamps: str) -> None:
    df = load_ett("ETTh1")
    flat = df.reset_index()
    if stamps == "text":
        flat["date"] = flat["date"].astype(str)
    with pytest.raises(InputError, match=r"column 'date' is not numeric.*df\.set_index\('date'\)"):
        ltsf_split(flat, "ETTh1", 96)
    fixed = flat.set_index(pd.to_datetime(flat.pop("date")))  # the fix the message gives
    assert _lengths(ltsf_split(fixed, "ETTh1", 96)) == _lengths(ltsf_split(df, "ETTh1", 96))


def test_a_text_value_column_is_refused() -> None:
    with pytest.raises(InputError, match=r"column 'note' is not numeric.*df\.drop\(columns='note'\)"):
        ltsf_split(load_ett("ETTh1").assign(note="x"), "ETTh1", 96)


def test_load_ltsf_documents_type_error_under_raises() -> None:
    doc = NumpyDocString(load_ltsf.__doc__)
    raised = {entry.type for entry in doc["Raises"]}  # numpydoc keeps an exception in .type
    warned = {entry.type for entry in doc["Warns"]}
    assert "TypeError" in raised and "TypeError" not in warned


def test_an_ett_frame_one_row_short_of_the_test_border_is_refused() -> None:
    """Not split with a test part one row short (a mutant of the border check lived)."""
    short = load_ett("ETTh1").iloc[:14399]
    with pytest.raises(ValueError, match=r"ETTh1 split needs 14400 rows but the frame has 14399"):
        ltsf_split(short, "ETTh1", lookback=96)
