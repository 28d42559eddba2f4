"""Details of the input fixes of stop 74: update_predict on rows without freq, the wall-clock in-sample check
of zoned stamps, nested_univ panels checked as their flat form, and the transpose advice. From a mutation
round: each test fails on a mutant the first tests let through."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster

UPDATE_HOURS = pd.date_range("2024-01-01", periods=60, freq="h")


def _load(n: int = 60) -> pd.Series:
    return pd.Series(np.sin(np.arange(n) / 3.0) + 3, index=UPDATE_HOURS[:n], name="load")


def _without_level_freq(panel: pd.DataFrame) -> pd.DataFrame:
    read = panel.copy()
    read.index = read.index.set_levels(pd.DatetimeIndex(list(read.index.levels[-1])), level=-1)
    return read


def test_update_predict_takes_a_panel_without_a_freq_fitted_on_one_without_a_freq():
    """Fitted on a panel read from a file (stamps without a freq), sktime's cutoff carried none: the
    cutoff takes the step every series was fitted with, and so do the stamps of new rows."""
    from sktime.split import ExpandingWindowSplitter

    panel = pd.concat({"a": _load(50), "b": 2 * _load(50)}).to_frame("load")
    later = panel.index.get_level_values(-1) >= UPDATE_HOURS[40]
    cv = ExpandingWindowSplitter(fh=[1, 2], initial_window=1)
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(panel[~later], fh=[1, 2])
    expected = est.update_predict(panel[later], cv=cv, update_params=False)
    read = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(
        _without_level_freq(panel[~later]), fh=[1, 2])
    assert read.cutoff.freq == "h"
    pd.testing.assert_frame_equal(read.update_predict(_without_level_freq(panel[later]), cv=cv, update_params=False),
                                  expected, check_freq=False)


def test_a_stamp_on_the_wall_clock_of_the_last_end_is_out_of_sample():
    """02:45 +01:00 reads on the wall clock as the end itself (02:45 +02:00), which sktime takes as
    in-sample: the wall-clock check must count "at" the end as well as before it."""
    from sktime.forecasting.base import ForecastingHorizon

    stamps = pd.date_range(end=pd.Timestamp("2024-10-27 00:45", tz="UTC"), periods=60, freq="15min")
    y = pd.Series(np.sin(np.arange(60) * 2 * np.pi / 24), index=stamps.tz_convert("Europe/Berlin"), name="load")
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y)
    stamp = pd.DatetimeIndex([pd.Timestamp("2024-10-27 02:45+01:00")]).tz_convert("Europe/Berlin")
    forecast = est.predict(fh=ForecastingHorizon(stamp, is_relative=False))
    np.testing.assert_array_equal(forecast.to_numpy(), est.predict(fh=[4]).to_numpy())


@pytest.mark.parametrize("case, match", [
    ("boolean", r"y has boolean columns \['y'\]; a forecaster needs numbers"),
    ("missing stamp", r"y series 'a' has missing time stamps \(NaT\) at rows \[39\]"),
    ("duplicate stamp", r"y has duplicate \(series, time\) rows; drop duplicates first"),
])
def test_a_nested_univ_panel_is_checked_as_its_flat_panel(case, match):
    """A nested_univ frame skips the check of its own index (series ids, not stamps): its flattened
    panel must get tsrec's checks instead, with their messages."""
    from sktime.datatypes import convert_to

    from tsrec.estimators.errors import InputError

    stamps = pd.date_range("2024-01-01", periods=40, freq="h")
    flat = pd.concat({"a": pd.Series(np.sin(np.arange(40) / 3), stamps),
                      "b": pd.Series(np.cos(np.arange(40) / 3), stamps)}).to_frame("y")
    nested = convert_to(flat, "nested_univ")
    if case == "boolean":
        cells = [s > 0 for s in nested["y"]]
    elif case == "missing stamp":
        cells = [s.set_axis(list(s.index[:-1]) + [pd.NaT]) for s in nested["y"]]
    else:
        cells = [s.set_axis(list(s.index[:-1]) + [s.index[0]]) for s in nested["y"]]
    with pytest.raises((InputError, TypeError), match=match):
        ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(nested.assign(y=cells), fh=[1, 2])


def test_a_list_of_wide_frames_with_one_short_series_is_not_told_to_transpose():
    """Transposing is advised only where every series is short (rows read as variates); a list of
    frames with one short series and many columns has its rows the right way round."""
    from tsrec.estimators.errors import InputError

    rng = np.random.default_rng(0)
    frames = [pd.DataFrame(rng.normal(size=(30, 6))), pd.DataFrame(rng.normal(size=(3, 6)))]
    with pytest.raises(InputError, match=r"has 3 rows but needs at least n_lags \+ horizon = 5; give a longer "
                                         r"series or lower n_lags/horizon$"):
        ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(frames, fh=[1, 2])


def test_a_variates_by_time_array_of_exactly_the_rows_needed_is_told_to_transpose():
    """The boundary: 5 steps of 3 variates given as (variates, time) with n_lags + horizon = 5; y.T has
    just enough rows, so the advice to transpose holds there too."""
    from tsrec.estimators.errors import InputError

    y = np.random.default_rng(0).normal(size=(3, 5))
    with pytest.raises(InputError, match=r"; if its rows are variates, pass y\.T$"):
        ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(y, fh=[1, 2])
    assert ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(y.T, fh=[1, 2]).n_channels_ == 3


def test_a_one_series_pandas_panel_too_short_is_not_told_to_pass_y_T():
    """y.T of a (series, time) panel is no panel: a short one-series panel with many columns gets the
    plain fix, as a panel of several series does."""
    from tsrec.estimators.errors import InputError

    index = pd.MultiIndex.from_product([["a"], pd.date_range("2024-01-01", periods=3, freq="h")])
    y = pd.DataFrame(np.random.default_rng(0).normal(size=(3, 6)), index=index)
    with pytest.raises(InputError, match=r"has 3 rows but needs at least n_lags \+ horizon = 5; give a longer "
                                         r"series or lower n_lags/horizon$"):
        ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(y, fh=[1, 2])


@pytest.mark.parametrize("y, error, match", [
    (pd.DataFrame(), "InputError", "y is empty; pass at least lookback"),
    (pd.DataFrame({"y": ["a"] * 30}, index=pd.date_range("2024", periods=30, freq="h")), "TypeError",
     r"y has non-numeric \(e\.g\. categorical or string\) columns \['y'\]"),
    (pd.DataFrame({"y": np.arange(30.0).astype(object)}, index=pd.date_range("2024", periods=30, freq="h")),
     "TypeError", r"y holds numbers as Python objects \(dtype object\) in columns \['y'\]"),
], ids=["empty", "strings", "numbers as objects"])
def test_frames_of_objects_that_are_not_series_are_no_nested_panel(y, error, match):
    """Only a frame whose cells hold Series is sktime's nested_univ: an empty frame or one of strings or
    numbers as objects keeps tsrec's own messages (the nested check must look at a cell, safely)."""
    from tsrec.estimators import errors

    with pytest.raises(getattr(errors, error, TypeError), match=match):
        ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(y, fh=[1, 2])


def test_a_list_of_variates_by_time_frames_is_told_to_transpose_each():
    """A list of frames laid out (variates, time): every series reads as 3 rows of 40 variates, and the
    fix is to transpose each frame (y.T of a list means nothing)."""
    from tsrec.estimators.errors import InputError

    rng = np.random.default_rng(0)
    frames = [pd.DataFrame(rng.normal(size=(3, 40))) for _ in range(2)]
    fix = r"; if the rows of its frames are variates, pass \[frame\.T for frame in y\]$"
    with pytest.raises(InputError, match=fix):
        ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(frames, fh=[1, 2])
    assert ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit([f.T for f in frames], fh=[1, 2]).n_channels_ == 3
