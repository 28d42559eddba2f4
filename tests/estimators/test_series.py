"""NaN advice that runs on the y it is given, and contexts whose memory layout is fixed."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators._scaling import Scales
from tsrec.estimators._series import check_raw_y, scaled_contexts, split_panel
from tsrec.estimators.errors import InputError

HOURS = pd.date_range("2024-01-01", periods=30, freq="h")


def _with_gaps(shape: tuple[int, ...], at: list[tuple[int, ...]]) -> np.ndarray:
    y = np.random.default_rng(0).normal(size=shape)
    for place in at:
        y[place] = np.nan
    return y


ARRAYS = {  # the first NaN at the start of a series too: a forward-only fill would leave it
    "1-D": _with_gaps((30,), [(0,), (7,)]),
    "2-D (time, variates)": _with_gaps((30, 2), [(0, 1), (7, 0)]),
    "3-D (series, variates, time)": _with_gaps((3, 2, 30), [(1, 0, 0), (2, 1, 7)]),
}


def _advised(message: str) -> str:
    """The code a NaN message advises, e.g. ``pd.Series(y).interpolate(...)``."""
    return re.search(r"e\.g\. (.*)\)$", message).group(1)


@pytest.mark.parametrize("name", list(ARRAYS))
def test_the_nan_fix_for_a_numpy_y_runs_and_fills_it(name):
    y = ARRAYS[name]
    with pytest.raises(InputError, match=r"contains NaN or inf \(2 NaN\)") as raised:
        check_raw_y(y)
    fixed = eval(_advised(str(raised.value)), {"np": np, "pd": pd, "y": y})  # noqa: S307 - the advice, run
    assert fixed.shape == y.shape and np.isfinite(fixed).all()
    assert np.array_equal(fixed[~np.isnan(y)], y[~np.isnan(y)])
    check_raw_y(fixed)


def test_the_nan_fix_for_a_list_of_frames_fills_each_frame():
    y = [pd.DataFrame({"a": np.arange(30.0), "b": 1.0}, index=HOURS) for _ in range(3)]
    y[1].iloc[[0, 4], 0] = np.nan
    with pytest.raises(InputError, match=r"the first at y\[1\], time 2024-01-01 00:00:00, column 'a'; .*within each "
                                         r"frame, e\.g\. y = \[part\.interpolate") as raised:
        check_raw_y(y)
    assert "groupby" not in str(raised.value)  # a MultiIndex panel's fix: a list has no groupby
    namespace = {"y": y}
    exec(_advised(str(raised.value)), namespace)  # noqa: S102 - the advice, run
    assert check_raw_y(namespace["y"]) == "df-list"


def test_the_nan_fix_for_a_pandas_y_fills_leading_values_and_sees_series_side_by_side():
    # "e.g. y.interpolate()" was advised, which leaves leading NaN: the same refusal followed
    one = pd.Series(np.arange(30.0), index=HOURS)
    one.iloc[[0, 1, 7]] = np.nan
    message = (r"\(3 NaN\), the first at time 2024-01-01 00:00:00; fill or drop missing values first \(e\.g\. "
               r"y\.interpolate\(limit_direction='both'\)\)$")
    with pytest.raises(InputError, match=message) as raised:
        check_raw_y(one)
    check_raw_y(eval(_advised(str(raised.value)), {"y": one}))  # noqa: S307 - the advice, run
    # series side by side in columns (darts' habit), one starting later: a panel, not a fill
    wide = pd.DataFrame({"a": np.arange(30.0), "b": np.r_[np.full(10, np.nan), np.arange(20.0)]}, index=HOURS)
    message = (r"column 'b'.*; the missing values only lead or trail columns: if these are series of their own .*, "
               r"give them as a panel of one variate, y = y\.stack\(\)\.dropna\(\)\.to_frame\('y'\)\.swaplevel\(\)"
               r"\.sort_index\(\)")
    with pytest.raises(InputError, match=message) as raised:
        check_raw_y(wide)
    namespace = {"y": wide}
    advice = re.search(r"a panel of one variate, (y = .*) \(one model", str(raised.value)).group(1)
    exec(advice, namespace)  # noqa: S102 - the advice, run
    panel = namespace["y"]
    assert check_raw_y(panel) == "pd-multiindex" and panel.loc["b"].shape == (20, 1) and panel.loc["a"].shape == (30, 1)
    wide.iloc[15, 0] = np.nan  # a gap inside a column: not series of other spans
    with pytest.raises(InputError) as raised:
        check_raw_y(wide)
    assert "lead or trail" not in str(raised.value)


def test_a_series_or_column_with_no_finite_value_is_told_to_go():
    # the fill advised left it as it was, and the same refusal followed
    panel = pd.concat({"A": pd.DataFrame({"y": np.arange(4.0)}, index=HOURS[:4]),
                       "B": pd.DataFrame({"y": np.full(4, np.nan)}, index=HOURS[:4])}, names=["id", "t"])
    with pytest.raises(InputError, match=r"; series 'B' has a variate with no finite value at all, which no fill can "
                                         r"mend: drop them, y = y\.drop\(index=\['B'\]\)$") as raised:
        check_raw_y(panel)
    assert check_raw_y(eval(str(raised.value).rsplit("y = ", 1)[1], {"y": panel})) == "pd-multiindex"  # noqa: S307
    wide = pd.DataFrame({"a": np.arange(30.0), "b": np.nan}, index=HOURS)
    with pytest.raises(InputError, match=r"; columns \['b'\] hold no finite value at all, which no fill can mend: "
                                         r"drop them, y = y\.drop\(columns=\['b'\]\)$") as raised:
        check_raw_y(wide)
    assert check_raw_y(eval(str(raised.value).rsplit("y = ", 1)[1], {"y": wide})) == "pd.DataFrame"  # noqa: S307
    with pytest.raises(InputError, match=r"; y holds no finite value at all, which no fill can mend$"):
        check_raw_y(wide["b"])
    # one column, leading NaN only: no note on series side by side
    with pytest.raises(InputError) as raised:
        check_raw_y(wide[["a"]].assign(a=np.r_[np.nan, np.arange(29.0)]))
    assert "no finite value" not in str(raised.value) and "side by side" not in str(raised.value)
    assert "lead or trail" not in str(raised.value)


def test_scaled_contexts_are_c_contiguous_whatever_pandas_layout():
    panel = pd.concat({key: pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)), index=HOURS,
                                         columns=["a", "b", "c"]) for key in "xyz"}, names=["id", "ds"])
    parts = split_panel(panel)
    scales = Scales(np.zeros((3, 3)), np.ones((3, 3)))
    contexts = scaled_contexts(scales, parts, lookback=8)
    assert contexts.shape == (3, 8, 3) and contexts.flags.c_contiguous
    np.testing.assert_array_equal(contexts, np.stack([df.to_numpy()[-8:] for _, df in parts]))


def _ragged_panel() -> pd.DataFrame:
    """Three series of other spans: one starts 5 hours late, one ends 6 hours early; no NaN."""
    spans = {"s0": HOURS, "s1": HOURS[5:], "s2": HOURS[:-6]}
    return pd.concat({key: pd.DataFrame({"v": 10 + np.sin(np.arange(len(t)) / 2)}, index=t)
                      for key, t in spans.items()}, names=["id", "time"])


def test_nan_that_only_pad_series_ends_are_said_to_be_padding_as_a_detrender_in_a_pipeline_makes():
    from sktime.forecasting.compose import TransformedTargetForecaster
    from sktime.transformations.series.detrend import Detrender

    from tsrec.estimators import ARNetForecaster

    pipeline = TransformedTargetForecaster([("detrend", Detrender()),
                                            ("f", ARNetForecaster(n_lags=4, horizon=2, max_epochs=1))])
    # the user's y has no NaN: the fix "fill y" changes nothing; the padding and its fixes are named
    with pytest.raises(InputError, match=r"contains NaN or inf \(11 NaN\).*; the missing values only pad series at "
                                         r"their start or end, as some sktime transformers do inside a pipeline "
                                         r"\(Detrender pads.*Differencer"):
        pipeline.fit(_ragged_panel(), fh=[1, 2])
    inside = _ragged_panel()
    inside.iloc[10, 0] = np.nan  # a gap within a series is the user's own
    with pytest.raises(InputError, match=r"contains NaN or inf \(1 NaN\)") as raised:
        check_raw_y(inside)
    assert "pad" not in str(raised.value)


@pytest.mark.parametrize(("inside", "counts"), [(np.nan, "2 NaN"), (np.inf, "1 NaN and 1 inf")])
def test_nan_padding_one_series_end_and_inside_another_is_not_called_padding(inside, counts):
    # _padding.padding_note: the note holds only where EVERY series' missing rows lead or trail it; an inf
    # inside a series is no padding either (no transformer pads with inf)
    panel = _ragged_panel()
    panel.iloc[0, 0] = np.nan  # s0's first row: padding-like
    panel.iloc[len(HOURS) + 10, 0] = inside  # inside s1: the user's own gap
    with pytest.raises(InputError, match=rf"contains NaN or inf \({counts}\)") as raised:
        check_raw_y(panel)
    assert "only pad series" not in str(raised.value)


def test_nan_at_the_ends_of_a_one_series_panel_are_not_called_padding():
    # one series has no other series' stamps to be padded to: the Detrender note would mislead
    one = _ragged_panel().loc[["s0"]]
    one.iloc[[0, -1], 0] = np.nan
    with pytest.raises(InputError, match=r"contains NaN or inf \(2 NaN\)") as raised:
        check_raw_y(one)
    assert "only pad series" not in str(raised.value)
