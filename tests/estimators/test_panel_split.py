"""Panels are split by slicing runs of rows (not groupby, which was slow for many short series):
the parts must be groupby's, and a panel's forecasts those of its series one by one; rows without a
series id, which groupby drops, are refused."""

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster
from tsrec.estimators._series import split_panel
from tsrec.estimators.errors import InputError


def _groupby_split(y):
    levels = list(range(y.index.nlevels - 1))
    by = levels[0] if len(levels) == 1 else levels
    return [(key, part.droplevel(levels)) for key, part in y.groupby(level=by, sort=False)]


def _panel(layout):
    t = pd.date_range("2021-01-01", periods=4, freq="D")
    if layout == "level_with_freq":  # a time level with a freq: each series' part keeps it, as in droplevel
        index = pd.MultiIndex(levels=[["a", "b"], t], codes=[[0] * 4 + [1] * 4, [0, 1, 2, 3] * 2], names=["id", "t"])
        return pd.DataFrame({"v": np.arange(8.0)}, index=index)
    if layout == "runs":  # ids not in sorted order: groupby(sort=False) keeps their order
        ids, stamps = ["b"] * 4 + ["a"] * 4, t.take([0, 1, 2, 3] * 2)
    else:  # update's rows come after all stored ones
        ids, stamps = ["b", "a"] * 4, t.repeat(2)
    index = pd.MultiIndex.from_arrays([ids, stamps], names=["id", "t"])
    return pd.DataFrame({"v": np.arange(8.0), "n": np.arange(8, dtype=np.int32)}, index=index)


@pytest.mark.parametrize("layout", ["runs", "interleaved", "level_with_freq"])
def test_split_gives_groupbys_parts(layout):
    y = _panel(layout)
    ours, theirs = split_panel(y), _groupby_split(y)
    assert [key for key, _ in ours] == [key for key, _ in theirs]
    for (_, a), (_, b) in zip(ours, theirs):
        pd.testing.assert_frame_equal(a, b)
        assert a.index.freq == b.index.freq  # infer_freq reads it first


@pytest.mark.filterwarnings("ignore::tsrec.errors.MixedStepsWarning")  # steps mixed on purpose
def test_a_panel_of_mixed_steps_and_zones_forecasts_each_series_as_alone():
    rng = np.random.default_rng(0)
    stamps = [pd.date_range("2021-03-27", periods=30, freq="h", tz="Europe/Berlin"),
              pd.date_range("2021-03-27", periods=30, freq="2h", tz="Europe/Berlin"),
              pd.date_range("2021-03-20", periods=30, freq="D", tz="Europe/Berlin")]
    y = pd.concat([pd.DataFrame({"y": rng.normal(size=30).cumsum()},
                                index=pd.MultiIndex.from_arrays([[f"s{i}"] * 30, t], names=["id", "t"]))
                   for i, t in enumerate(stamps)])
    est = ARNetForecaster(n_lags=6, horizon=3, max_epochs=1, random_state=0).fit(y)
    together = est.predict(fh=[1, 2, 3, 4, 5])
    for key in ["s0", "s1", "s2"]:
        alone = est.predict(fh=[1, 2, 3, 4, 5], y=y.loc[[key]])
        pd.testing.assert_frame_equal(together.loc[[key]], alone, check_exact=False, rtol=1e-6)
        assert together.loc[key].index.equals(alone.loc[key].index)


def _panel_with_ids(ids, start="2020-01-01"):
    t = pd.date_range(start, periods=len(ids) // 2, freq="D")
    values = np.r_[np.sin(np.arange(len(t))), 10 + np.cos(np.arange(len(t)))]
    return pd.DataFrame({"v": values}, index=pd.MultiIndex.from_arrays([ids, t.append(t)], names=["id", "t"]))


@pytest.mark.parametrize("missing", [np.nan, None, pd.NaT])
def test_a_series_without_an_id_is_refused_not_dropped(missing):
    # groupby dropped the rows of a NaN id: that series was left out of training and forecasts
    # (the rest fitted as a one-series model), and all-missing ids failed with an IndexError
    bad = _panel_with_ids([missing] * 40 + ["b"] * 40)
    message = r"y has 40 row\(s\) whose series id \(index level 0, 'id'\) is missing .* first at row 0; give every"
    with pytest.raises(InputError, match=message):
        ARNetForecaster(n_lags=8, max_epochs=1).fit(bad)
    est = ARNetForecaster(n_lags=8, max_epochs=1, random_state=0).fit(_panel_with_ids(["a"] * 40 + ["b"] * 40))
    before = est.predict(fh=[1])
    with pytest.raises(InputError, match=message):
        est.predict(fh=[1], y=bad)
    with pytest.raises(InputError, match=message):
        est.forecast_windows(bad)
    later = _panel_with_ids([missing, "b"], start="2020-02-10")
    with pytest.raises(InputError, match=r"1 row\(s\) whose series id .* first at row 0"):
        est.update(later)
    pd.testing.assert_frame_equal(est.predict(fh=[1]), before)


def test_an_id_held_as_a_nan_level_value_is_refused_too():
    # pd.concat keeps a NaN key as a level value, not a missing code: such a panel fitted, forecast a
    # series called nan, and saved a folder that tsrec.load then refused as damaged
    t = pd.date_range("2020-01-01", periods=40, freq="D")
    frames = {"a": pd.Series(np.sin(np.arange(40.0)), t), np.nan: pd.Series(np.cos(np.arange(40.0)), t)}
    bad = pd.concat(frames, names=["id", "t"]).to_frame("v")
    assert (bad.index.codes[0] >= 0).all() and bad.index.levels[0].hasnans
    with pytest.raises(InputError, match=r"y has 40 row\(s\) whose series id \(index level 0, 'id'\) is missing"):
        ARNetForecaster(n_lags=8, max_epochs=1).fit(bad)
    est = ARNetForecaster(n_lags=8, max_epochs=1, random_state=0).fit(
        pd.concat({"a": frames["a"]}, names=["id", "t"]).to_frame("v"))
    with pytest.raises(InputError, match="whose series id .* is missing .* first at row 40"):
        est.predict(fh=[1], y=bad)
