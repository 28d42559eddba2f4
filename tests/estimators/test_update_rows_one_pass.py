"""update's one-pass check of a panel's new rows agrees with the series-by-series check: it never
passes rows that the per-series check refuses, and it passes the usual updates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster, _newdata
from tsrec.estimators.errors import InputError


def _panel(series: dict) -> pd.DataFrame:
    """{id: stamps} as a one-column panel, the series in the given order."""
    frames = [pd.DataFrame({"y": np.arange(len(stamps), dtype=float)}, index=pd.Index(stamps))
              for stamps in series.values()]
    return pd.concat(frames, keys=list(series), names=["id", "t"])


def _slow(stored, new, steps) -> bool:
    """The series-by-series check's verdict."""
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_newdata, "all_series_continue", lambda *args: False)
            _newdata.check_update_rows(stored, new, steps)
    except InputError:
        return False
    return True


H = pd.Timedelta("1h")
USUAL = {
    "hourly, next rows": ({"b": pd.date_range("2024-01-01", periods=5, freq="h"),
                           "a": pd.date_range("2024-01-02", periods=5, freq="h")},
                          {"b": pd.date_range("2024-01-01 05:00", periods=3, freq="h"),
                           "a": pd.date_range("2024-01-02 05:00", periods=2, freq="h")}),
    "overlapping rows, one series": ({"b": pd.date_range("2024-01-01", periods=5, freq="30min"),
                                      "a": pd.date_range("2024-01-01", periods=5, freq="30min")},
                                     {"a": pd.date_range("2024-01-01 01:00", periods=4, freq="30min")}),
    "integers at step 5": ({1: pd.Index(np.arange(0, 50, 5)), 0: pd.Index(np.arange(10, 60, 5))},
                           {1: pd.Index(np.arange(50, 65, 5)), 0: pd.Index(np.arange(60, 65, 5))}),
    "months": ({"x": pd.period_range("2020-01", periods=6, freq="M"),
                "y": pd.period_range("2021-01", periods=6, freq="M")},
               {"x": pd.period_range("2020-07", periods=2, freq="M"),
                "y": pd.period_range("2021-07", periods=1, freq="M")}),
}


@pytest.mark.parametrize("case", list(USUAL))
def test_usual_updates_pass_in_one_pass(case):
    stored, new = (_panel(s) for s in USUAL[case])
    steps = {key: _newdata.infer_freq(part.index) for key, part in _newdata.split_panel(stored)}
    assert _newdata.all_series_continue(stored.index, new.index, steps)
    _newdata.check_update_rows(stored, new, steps)


def _random_case(rng: np.random.Generator):
    kind = rng.choice(["hours", "ints"])
    ids = ["a", "b", "c"][: rng.integers(1, 4)]
    stored, new, steps = {}, {}, {}
    for key in ids:
        step = int(rng.choice([1, 2, 3]))
        start, length = int(rng.integers(0, 20)), int(rng.integers(3, 8))
        grid = np.arange(start, start + step * length, step)
        k = int(rng.integers(1, 5))
        first = int(rng.integers(-length - 1, 3))  # before, overlapping, next or after a gap
        later = start + step * (length - 1 + first) + step * np.arange(k)
        shake = rng.random()
        if shake < 0.1:
            later = later + 1  # off the grid
        elif shake < 0.2 and k > 2:
            later = np.delete(later, 1)  # a gap inside
        elif shake < 0.3:
            later = later[::-1]  # unsorted
        if kind == "hours":
            stored[key] = pd.DatetimeIndex(pd.Timestamp("2024-01-01") + H * grid)
            steps[key] = pd.tseries.frequencies.to_offset(f"{step}h")
            values = pd.DatetimeIndex(pd.Timestamp("2024-01-01") + H * later)
        else:
            stored[key], steps[key], values = pd.Index(grid), step, pd.Index(later)
        if rng.random() > 0.2:
            new["z" if rng.random() < 0.05 else key] = values
    if not new:
        new[ids[0]] = stored[ids[0]][-1:]
    return _panel(stored), _panel(new), steps


def test_the_one_pass_check_never_passes_what_the_series_check_refuses():
    rng = np.random.default_rng(0)
    verdicts = []
    for _ in range(400):
        stored, new, steps = _random_case(rng)
        fast, slow = _newdata.all_series_continue(stored.index, new.index, steps), _slow(stored, new, steps)
        assert slow or not fast, (stored, new)
        verdicts.append((fast, slow))
    # both kinds of verdict occur, and most passing updates need no series-by-series check
    assert sum(not slow for _, slow in verdicts) > 50
    passing = [fast for fast, slow in verdicts if slow]
    assert len(passing) > 50 and np.mean(passing) > 0.9


def test_a_refused_update_still_names_its_series():
    stored = _panel({"a": pd.date_range("2024-01-01", periods=5, freq="h"),
                     "b": pd.date_range("2024-01-01", periods=5, freq="h")})
    new = _panel({"a": pd.date_range("2024-01-01 05:00", periods=2, freq="h"),
                  "b": pd.date_range("2024-01-01 07:00", periods=2, freq="h")})
    steps = {"a": pd.tseries.frequencies.to_offset("h"), "b": pd.tseries.frequencies.to_offset("h")}
    with pytest.raises(InputError, match="series 'b' of y start at .* rows between"):
        _newdata.check_update_rows(stored, new, steps)


def test_a_series_the_forecaster_was_not_fitted_on_is_refused():
    hours = pd.date_range("2024-01-01", periods=5, freq="h")
    stored = _panel({"a": hours, "b": hours})
    new = _panel({"a": hours[-1:] + pd.Timedelta("1h"), "z": hours[-1:] + pd.Timedelta("1h")})  # z would continue b
    steps = {"a": pd.tseries.frequencies.to_offset("h"), "b": pd.tseries.frequencies.to_offset("h")}
    assert not _newdata.all_series_continue(stored.index, new.index, steps)
    with pytest.raises(InputError, match=r"series \['z'\] that the forecaster was not fitted on"):
        _newdata.check_update_rows(stored, new, steps)


@pytest.mark.parametrize("stored_stamps, new_stamps, step", [
    # ordinals of "2M" periods count months: one month on is off the grid, not the next step
    (pd.period_range("2020-01", periods=6, freq="2M"), pd.period_range("2020-12", periods=1, freq="2M"), "2ME"),
    # uint64 stamps that would wrap round to 0 in int64
    (pd.Index(np.arange(2**64 - 5, 2**64, dtype=np.uint64)), pd.Index(np.array([0], dtype=np.uint64)), 1),
], ids=["2M periods", "uint64"])
def test_steps_the_one_pass_check_cannot_count_are_left_to_the_series_check(stored_stamps, new_stamps, step):
    stored, new = _panel({"a": stored_stamps}), _panel({"a": new_stamps})
    steps = {"a": pd.tseries.frequencies.to_offset(step) if isinstance(step, str) else step}
    assert not _newdata.all_series_continue(stored.index, new.index, steps)


def test_stamps_past_the_nanosecond_range_continue_a_series_and_update_names_the_range():
    # positions count in the stamps' own unit (they went through nanoseconds, and the series check
    # failed on them); update's range check, which runs first, still refuses rows past 2262
    hours = pd.date_range("2262-04-10 00:00", periods=48, freq="h", unit="us")
    stored, new = _panel({"a": hours}), _panel({"a": pd.DatetimeIndex(["2262-04-12 00:00"]).as_unit("us")})
    _newdata.check_update_rows(stored, new, {"a": pd.tseries.frequencies.to_offset("h")})
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(stored, fh=[1])
    with pytest.raises(InputError, match=r"beyond 1677-09-21 .. 2262-04-11, the range in which tsrec counts"):
        est.update(new, update_params=False)
