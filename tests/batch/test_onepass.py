"""The batch's up-front checks in one pass over the panel: they must read each series as ``predict``
does (``context_steps`` and ``scales_of`` on a frame per series, the specification)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tsrec.batch._checks as checks
from tsrec.estimators._onepass import fitted_grid, panel_runs, scaled_last_rows
from tsrec.batch import forecast_panel
from tsrec.estimators import ARNetForecaster
from tsrec.estimators._scaling import scales_of
from tsrec.estimators._series import scaled_contexts, split_panel
from tsrec.estimators._steps import context_steps
from tsrec.estimators.errors import InputError, MixedStepsWarning


def panel_of(stamps: dict) -> pd.DataFrame:
    """A long panel with one series per key, valued by position."""
    frames = {key: pd.DataFrame({"y": np.sin(np.arange(len(t)) / 3.0)}, index=pd.Index(t))
              for key, t in stamps.items()}
    return pd.concat(frames, names=["unique_id", "ds"])


def hours(start: str, n: int, freq: str = "h") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq=freq)


@pytest.fixture(scope="module")
def hourly():
    """Fitted on two hourly series and one two-hourly one: held steps differ by series."""
    fitted = panel_of({"a": hours("2024-01-01", 30), "b": hours("2024-01-03", 30), "c": hours("2024-01-01", 30, "2h")})
    with pytest.warns(MixedStepsWarning):  # mixed on purpose
        return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(fitted)


@pytest.fixture(scope="module")
def integers():
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(40.0)))


ON_GRID = {
    "hourly, new keys": {"x": hours("2024-02-01", 12), "y": hours("2024-05-01 07:00", 9)},
    "fitted hourly keys and a single row": {"a": hours("2024-03-01", 6), "z": hours("2024-03-01", 1)},
    "seconds resolution": {"x": pd.date_range("2024-01-01", periods=5, freq="h", unit="s")},
}
OFF_GRID = {
    "a two-hourly fitted key": {"c": hours("2024-02-01", 8, "2h"), "x": hours("2024-02-01", 8)},
    "a half-hour step": {"x": hours("2024-02-01", 8), "y": hours("2024-02-01", 8, "30min")},
    "a gap": {"x": hours("2024-02-01", 8).delete(3)},
    "two stamps off the grid": {"x": hours("2024-02-01", 8), "y": pd.DatetimeIndex(["2024-01-01", "2024-01-02"])},
    "daily stamps": {"x": hours("2024-02-01", 8, "D")},
}


def grid_of(est, panel: pd.DataFrame):
    return fitted_grid(est, panel, panel_runs(panel))


def read_as_predict(est, panel: pd.DataFrame) -> list | str:
    """The steps ``predict`` reads, or its refusal."""
    try:
        with warnings.catch_warnings():  # of steps no fitted series had: expected here
            warnings.simplefilter("ignore")
            return context_steps(est, split_panel(panel))
    except InputError as err:
        return str(err)


@pytest.mark.parametrize("case", list(ON_GRID))
def test_series_on_the_fitted_grid_are_read_at_the_fitted_step_in_one_pass(hourly, case):
    panel = panel_of(ON_GRID[case])
    grid = grid_of(hourly, panel)
    assert grid is not None, "the one-pass check should take this panel"
    assert read_as_predict(hourly, panel) == [grid.step] * len(ON_GRID[case])
    lasts = [t[-1] for t in ON_GRID[case].values()]
    assert grid.last.tolist() == [pd.DatetimeIndex(lasts).as_unit(panel.index.levels[-1].unit).asi8.tolist()][0]


@pytest.mark.parametrize("case", list(OFF_GRID))
def test_series_off_the_grid_are_left_to_the_check_of_each_series(hourly, case):
    panel = panel_of(OFF_GRID[case])
    assert grid_of(hourly, panel) is None
    read = read_as_predict(hourly, panel)
    assert isinstance(read, str) or read != [hourly._fit_step] * len(OFF_GRID[case])


def test_integer_stamps_on_their_step_and_off_it(integers):
    on = panel_of({"x": np.arange(5, 15), "y": np.arange(-3, 2)})
    grid = grid_of(integers, on)
    assert grid is not None and grid.step == 1 and grid.last.tolist() == [14, 1]
    assert read_as_predict(integers, on) == [1, 1]
    off = panel_of({"x": np.arange(0, 20, 2)})
    assert grid_of(integers, off) is None and read_as_predict(integers, off) == [2]


def test_the_usual_panel_is_checked_without_a_frame_per_series(hourly, monkeypatch):
    # a frame per series cost 0.4 s of a 2.8 s run of 8000 series, and the chunks split again
    panel = panel_of({f"s{k}": hours("2024-02-01", 10) for k in range(5)})
    expected = forecast_panel(hourly, panel)
    monkeypatch.setattr(checks, "split_panel", lambda *args: pytest.fail("a frame per series was built"))
    pd.testing.assert_frame_equal(forecast_panel(hourly, panel), expected, check_exact=True)


def test_integer_room_on_the_grid_names_the_first_series_without_room(integers):
    largest = int(np.iinfo(np.int64).max)
    ends = {"a": 9, "b": largest, "c": largest - 1}  # int64 stamps: arange up to largest + 1 would be float
    panel = panel_of({key: np.arange(-9, 1, dtype=np.int64) + end for key, end in ends.items()})
    assert grid_of(integers, panel) is not None
    with pytest.raises(InputError, match=rf"would run to {largest + 2}, .*\(last stamp {largest}, step 1\)"):
        checks.check_panel(integers, panel, [1, 2])
    checks.check_panel(integers, panel.drop(index="b", level=0), [1])  # c ends one short of the largest
    with pytest.raises(InputError, match=r"last stamp 9, step 1"):  # steps so far ahead that every series overflows
        checks.check_panel(integers, panel, [2**62, 2**63])


def test_date_times_past_their_unit_are_refused_before_any_chunk_off_the_grid_too():
    # off the grid (month ends) the chunk holding the series refused it, after earlier chunks ran
    def month_ends(**where):
        return pd.date_range(periods=30, freq="ME", unit="ns", **where)

    monthly = ARNetForecaster(n_lags=4, horizon=3, max_epochs=1, random_state=0).fit(
        panel_of({"a": month_ends(start="2000-01-31")}))
    late = panel_of({"a": month_ends(start="2000-01-31"), "b": month_ends(end="2262-03-31")})
    assert grid_of(monthly, late) is None
    with pytest.raises(InputError, match="^the input: the forecast's time stamps would run past 2262-04-11"):
        checks.check_panel(monthly, late, [2])
    checks.check_panel(monthly, late.drop(index="b", level=0), [2])


@pytest.mark.parametrize("case", [*ON_GRID, *OFF_GRID])
def test_scaled_last_rows_are_the_contexts_predict_standardises(hourly, case):
    stamps = {**ON_GRID, **OFF_GRID}[case]
    panel = panel_of(stamps) * 50 + 7  # off the fitted scale: the new series' own statistics matter
    parts = split_panel(panel)
    expected = scaled_contexts(scales_of(hourly, parts), parts, 1)
    np.testing.assert_array_equal(scaled_last_rows(hourly, panel, panel_runs(panel), 1), expected)
    # fitted keys keep their fitted statistics, new keys take those of all their rows
    assert scales_of(hourly, parts).centre[:, 0].tolist() != [7.0] * len(parts)


def test_interleaved_series_are_no_runs():
    panel = panel_of({"x": hours("2024-02-01", 4), "y": hours("2024-02-01", 4)})
    assert panel_runs(panel) is not None
    assert panel_runs(panel.iloc[[0, 4, 1, 5, 2, 6, 3, 7]]) is None
