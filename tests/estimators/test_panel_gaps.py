"""A panel whose series have gaps, or several of which are too short, is told a fix that runs on the
panel: one series' fix (y.asfreq, y.reindex) failed on the (id, time) index with a TypeError or a dtype
mismatch, and short series were named one failed fit at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster, InputError

HOURS = pd.date_range("2020", periods=80, freq="h")
STAMPS = {"dates": HOURS, "integers": pd.Index(range(0, 160, 2)), "periods": HOURS.to_period("h")}


def _panel(stamps: pd.Index, ids: list) -> pd.DataFrame:
    index = pd.MultiIndex.from_product([*ids, stamps])
    return pd.DataFrame({"y": np.sin(np.arange(len(index), dtype=float))}, index=index)


@pytest.mark.parametrize("ids", [[["a", "b"]], [["r1", "r2"], ["a", "b"]]], ids=["one id level", "two id levels"])
@pytest.mark.parametrize("kind", list(STAMPS))
def test_the_fix_for_uneven_stamps_in_a_panel_runs_on_the_panel(kind, ids):
    y = _panel(STAMPS[kind], ids)
    y = y.drop(y.index[[85, 86, 87]])  # three rows out of the second series
    with pytest.raises(InputError, match="not evenly spaced") as info:
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
    fix = str(info.value).rsplit("e.g. ", 1)[1]
    regridded = eval(fix, {"pd": pd}, {"y": y})  # noqa: S307 - the message's own code, as a user would paste it
    assert regridded.shape == (len(y) + 3, 1) and not regridded.isna().any().any()
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(regridded)


@pytest.mark.parametrize("keys", [["a", "b", "c", "d"], [("r1", "a"), ("r1", "b"), ("r2", "a"), ("r2", "b")]],
                         ids=["one id level", "two id levels"])
def test_several_short_series_are_counted_and_told_the_filter_that_leaves_them_out(keys):
    lengths = dict(zip(keys, [80, 5, 3, 80]))
    y = pd.concat({key: pd.DataFrame({"y": np.sin(np.arange(n, dtype=float))}, index=HOURS[:n])
                   for key, n in lengths.items()})
    with pytest.raises(InputError, match=r"2 of the 4 series are shorter than n_lags \+ horizon = 6 rows, e\.g\. "
                                         r".*\(5 rows\), .*\(3 rows\)") as info:
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
    kept = eval(str(info.value).rsplit("y = ", 1)[1], {}, {"y": y})  # noqa: S307 - the message's own code
    assert kept.index.droplevel(-1).unique().tolist() == [keys[0], keys[3]]
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(kept)


def test_the_filter_is_offered_only_where_it_runs_and_leaves_a_series():
    # on a list of frames it failed ("'list' object has no attribute 'groupby'"); with every series short it
    # left y empty
    frames = [pd.DataFrame({"y": np.sin(np.arange(n, dtype=float))}, index=HOURS[:n]) for n in (80, 5, 3)]
    every_short = pd.concat({key: frame.iloc[:4] for key, frame in zip("abc", frames)})
    for y in (frames, every_short):
        with pytest.raises(InputError, match=r"of the 3 series are shorter than") as info:
            ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
        assert "leave them out" not in str(info.value)


def test_monthly_stamps_on_the_15th_in_a_panel_are_told_a_move_that_runs_on_the_panel():
    # y.index = y.index.to_period('M')... failed on the (id, time) index: "'MultiIndex' object has no attribute"
    days = pd.DatetimeIndex([f"2020-{month:02d}-15" for month in range(1, 13)])
    y = pd.concat({key: pd.DataFrame({"y": np.sin(np.arange(12.0) + i)}, index=days) for i, key in enumerate("ab")})
    with pytest.raises(InputError, match="no frequency for stamps on day 15 of each month") as info:
        ARNetForecaster(n_lags=2, horizon=1, max_epochs=1).fit(y)
    namespace = {"pd": pd, "y": y}
    exec(str(info.value).rsplit("e.g. ", 1)[1], namespace)  # noqa: S102 - the message's own code
    assert namespace["y"].index.get_level_values(-1)[:2].tolist() == [pd.Timestamp("2020-01-01"),
                                                                       pd.Timestamp("2020-02-01")]
    ARNetForecaster(n_lags=2, horizon=1, max_epochs=1).fit(namespace["y"])


def test_a_panel_of_stamps_uneven_on_the_local_clock_is_told_the_level_to_convert():
    days = pd.date_range("2020-03-20", periods=20, freq="D", tz="UTC").tz_convert("Europe/Berlin")
    y = pd.concat({key: pd.DataFrame({"y": np.arange(20.0)}, index=days) for key in "ab"})
    with pytest.raises(InputError, match=r"y\.tz_convert\('Asia/Tokyo', level=-1\)"):
        ARNetForecaster(n_lags=2, horizon=1, max_epochs=1).fit(y)
    ARNetForecaster(n_lags=2, horizon=1, max_epochs=1).fit(y.tz_convert("UTC", level=-1))


@pytest.mark.filterwarnings("ignore::tsrec.errors.MixedStepsWarning")  # steps mixed on purpose
@pytest.mark.parametrize("kind", ["dates", "integers"])
def test_the_regrid_of_one_series_leaves_a_series_on_another_step_whole(kind):
    # the fix gave series 'b''s step of 2 to every series: hourly 'a' lost every other row, silently
    a_stamps = HOURS[:12] if kind == "dates" else pd.Index(range(12))
    b_stamps = HOURS[:26:2].delete(5) if kind == "dates" else pd.Index(range(0, 26, 2)).delete(5)
    y = pd.concat({"a": pd.DataFrame({"y": np.arange(12.0)}, index=a_stamps),
                   "b": pd.DataFrame({"y": np.arange(12.0)}, index=b_stamps)})
    with pytest.raises(InputError, match="y series 'b'") as info:
        ARNetForecaster(n_lags=2, horizon=1, max_epochs=1).fit(y)
    fixed = eval(str(info.value).rsplit("e.g. ", 1)[1], {"pd": pd}, {"y": y})  # noqa: S307 - the message's code
    assert fixed.loc["a"].equals(y.loc["a"]) and len(fixed.loc["b"]) == 13
    ARNetForecaster(n_lags=2, horizon=1, max_epochs=1).fit(fixed)


def test_stamps_off_the_grid_are_told_a_regrid_that_keeps_their_values():
    # asfreq and reindex kept only the stamps on the grid: after a shift of half a step every value was
    # replaced by the last one before it ([0, 1, 2, 2, 2, 2, 2, 2]), silently
    shifted = pd.DatetimeIndex(["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 02:00", "2020-01-01 03:30",
                                "2020-01-01 04:30", "2020-01-01 05:30", "2020-01-01 06:30", "2020-01-01 07:30"])
    for stamps, want in ((shifted, np.arange(8.0)), (pd.Index([0, 2, 4, 6, 7, 9, 11, 13]),
                                                     [0.0, 1.0, 2.0, 3.0, 4.5, 5.5, 6.5])):
        y = pd.DataFrame({"y": np.arange(8.0)}, index=stamps)
        with pytest.raises(InputError, match="not evenly spaced") as info:
            ARNetForecaster(n_lags=2, horizon=1, max_epochs=1).fit(y)
        fixed = eval(str(info.value).rsplit("e.g. ", 1)[1], {"pd": pd}, {"y": y})  # noqa: S307 - the message's code
        np.testing.assert_allclose(fixed["y"].to_numpy(), want)
        ARNetForecaster(n_lags=2, horizon=1, max_epochs=1).fit(fixed)


def test_the_regrid_advice_for_off_grid_steps_keeps_the_last_observation():
    # steps 0, 2, 4, 5, 8, 10: the advised grid must run to 10, or the newest value is lost
    from tsrec.estimators._regrid_messages import uneven_steps

    y = pd.Series([1.0, 2, 3, 4, 5, 6], index=[0, 2, 4, 5, 8, 10])
    code = uneven_steps(y.index).split("e.g. ")[-1]
    fixed = eval(code, {"y": y, "pd": pd, "np": np})  # noqa: S307 - the advice, run
    assert fixed.index[0] == 0 and fixed.index[-1] == 10 and np.isfinite(fixed.to_numpy()).all()
