"""Padding in detail: only whole rows of NaN at the ends are padding (a mutation round's findings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators._series import check_raw_y
from tsrec.estimators.errors import InputError

HOURS = pd.date_range("2024-01-01", periods=30, freq="h")


def _ragged_panel(columns=("v",)) -> pd.DataFrame:
    """Three series of other spans: one starts 5 hours late, one ends 6 hours early; no NaN."""
    spans = {"s0": HOURS, "s1": HOURS[5:], "s2": HOURS[:-6]}
    return pd.concat({key: pd.DataFrame({c: 10 + np.sin(np.arange(len(t)) / 2) for c in columns}, index=t)
                      for key, t in spans.items()}, names=["id", "time"])


def test_a_gap_in_one_variate_inside_a_series_is_not_called_padding():
    # _padding.padding_note: a row is missing where ANY of its variates is; a NaN in one variate inside s1
    # is the user's own gap, even though s0's padding-like first row is NaN in every variate
    panel = _ragged_panel(columns=("v", "w"))
    panel.iloc[0, :] = np.nan  # s0's first row, both variates: padding-like
    panel.iloc[len(HOURS) + 10, 1] = np.nan  # inside s1, variate w only
    with pytest.raises(InputError, match=r"contains NaN or inf \(3 NaN\)") as raised:
        check_raw_y(panel)
    assert "only pad series" not in str(raised.value)


def test_a_series_missing_a_value_in_every_row_but_no_whole_variate_is_not_called_padding():
    # _padding._at_ends on a series with no complete row (every row bad) while each variate still has finite
    # values (so empty_parts_note says nothing): no padding, and no IndexError from good[0]
    panel = _ragged_panel(columns=("v", "w"))
    s1 = np.flatnonzero(panel.index.get_level_values("id") == "s1")
    panel.iloc[s1[::2], 0] = np.nan  # s1: v missing in even rows,
    panel.iloc[s1[1::2], 1] = np.nan  # w in odd rows
    with pytest.raises(InputError, match=r"contains NaN or inf \(25 NaN\)") as raised:
        check_raw_y(panel)
    assert "only pad series" not in str(raised.value) and "no finite value" not in str(raised.value)


HOURS = pd.date_range("2024-01-01", periods=30, freq="h")


def _panel(columns: dict[str, dict[str, np.ndarray]], names=("id", "t")) -> pd.DataFrame:
    return pd.concat({key: pd.DataFrame(values, index=HOURS[:4]) for key, values in columns.items()}, names=names)


def test_a_series_with_one_empty_variate_among_others_is_told_to_go():
    """A series whose variate w holds no finite value while v does: no fill can mend w, so the message
    must say so (and how to drop the series), whatever the series' other variates hold."""
    panel = _panel({"A": {"v": np.arange(4.0), "w": np.arange(4.0)},
                    "B": {"v": np.arange(4.0), "w": np.full(4, np.nan)}})
    with pytest.raises(InputError, match=r"; series 'B' has a variate with no finite value at all, which no fill can "
                                         r"mend: drop them, y = y\.drop\(index=\['B'\]\)$"):
        check_raw_y(panel)


def test_several_series_with_no_finite_value_are_named_with_a_plural_verb():
    """Two empty series are listed together, with a verb that agrees with them."""
    panel = _panel({"A": {"y": np.arange(4.0)}, "B": {"y": np.full(4, np.nan)}, "C": {"y": np.full(4, np.nan)}})
    with pytest.raises(InputError, match=r"; series 'B', 'C' have a variate with no finite value at all, which no "
                                         r"fill can mend: drop them, y = y\.drop\(index=\['B', 'C'\]\)$"):
        check_raw_y(panel)


def test_an_empty_series_of_a_nested_panel_gets_drop_code_that_works():
    """In a panel of several key levels the series are tuples; drop(index=[...]) matches them on the
    leading levels, so the advised code runs as given."""
    panel = _panel({("r", "A"): {"y": np.arange(4.0)}, ("r", "B"): {"y": np.full(4, np.nan)}}, names=("g", "id", "t"))
    with pytest.raises(InputError, match=r"; series \('r', 'B'\) has a variate with no finite value at all, which no "
                                         r"fill can mend: drop them, y = y\.drop\(index=\[\('r', 'B'\)\]\)$"):
        check_raw_y(panel)
    assert panel.drop(index=[("r", "B")]).index.droplevel(-1).unique().tolist() == [("r", "A")]
