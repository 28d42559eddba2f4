"""Panel formats a classifier reads as the numpy array they hold: sktime's dask_panel (it was read as a flat
table of rows), and pd-multiindex / df-list panels whose time stamps are floats (seconds), which sktime's
checks refuse though a classifier ignores the stamps; text stamps, whose order cannot be checked, are refused
with the fix; stamps out of time order are refused, nested cells' included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sktime.datatypes import convert_to

from tsrec.estimators import PGNClassifier
from tsrec.estimators.errors import InputError

# a panel with named channels predicted by a classifier fitted on numpy, or the reverse, is warned about
pytestmark = pytest.mark.filterwarnings("ignore:X (has|does not have valid) feature names:UserWarning")

RNG = np.random.default_rng(0)
X3 = RNG.normal(size=(12, 3, 11))  # more than 10 samples and steps: dask sorts '(10, 0)' first
Y = np.array(["a", "b"] * 6)


def pgn() -> PGNClassifier:
    return PGNClassifier(hidden=4, max_epochs=1, random_state=0)


@pytest.fixture(scope="module")
def fitted3() -> PGNClassifier:
    return pgn().fit(X3, Y)


def _with_time_level(panel: pd.DataFrame, stamps: pd.Index) -> pd.DataFrame:
    return panel.set_axis(pd.MultiIndex.from_arrays([panel.index.get_level_values(0), stamps],
                                                    names=["sample", "time"]))


# ---- dask_panel ------------------------------------------------------------------------------


def test_a_dask_panel_is_read_as_the_pd_multiindex_panel_it_holds(fitted3):
    pytest.importorskip("dask.dataframe")
    # it was read as a flat table: fit said "inconsistent numbers of samples: [132, 12]", predict raised
    # dask's TypeError, and fit with one label per row trained on the rows
    lazy = convert_to(convert_to(X3, to_type="pd-multiindex"), to_type="dask_panel")
    clf = pgn().fit(lazy, Y)
    assert (clf.n_channels_, clf.n_timepoints_) == (3, 11)
    np.testing.assert_array_equal(clf.predict_proba(X3), fitted3.predict_proba(X3))
    np.testing.assert_array_equal(fitted3.predict_proba(lazy), fitted3.predict_proba(X3))
    with pytest.raises(InputError, match=r"inconsistent numbers of samples: \[12, 132\]"):
        pgn().fit(lazy, np.arange(132) % 2)


# ---- float and text time stamps --------------------------------------------------------------


@pytest.mark.parametrize("own_times", [False, True], ids=["shared seconds", "own seconds"])
def test_a_panel_stamped_in_float_seconds_is_read_step_by_step(fitted3, own_times):
    # sktime refused the float level: "<class 'pandas.MultiIndex'> is not supported for X, use one of (RangeIndex..."
    panel = convert_to(X3, to_type="pd-multiindex")
    sample, step = (panel.index.get_level_values(i) for i in (0, 1))
    seconds = step * 0.5 + (sample * 3.25 if own_times else 0.0)
    stamped = _with_time_level(panel, pd.Index(seconds, dtype=float))
    np.testing.assert_array_equal(fitted3.predict_proba(stamped), fitted3.predict_proba(X3))
    np.testing.assert_array_equal(pgn().fit(stamped, Y).predict_proba(X3), fitted3.predict_proba(X3))


def test_a_float_stamped_panel_out_of_time_order_is_refused_as_an_integer_one_is():
    panel = convert_to(X3, to_type="pd-multiindex")
    stamped = _with_time_level(panel, panel.index.get_level_values(1) * 0.5).sample(frac=1, random_state=0)
    with pytest.raises(InputError, match=r"MultiIndex but is not a panel.*Use X\.sort_index\(\) to sort"):
        pgn().fit(stamped, Y)


def test_df_list_frames_with_a_float_index_are_read_step_by_step(fitted3):
    # sktime refused each frame: "<class 'pandas.Index'> is not supported for X"
    frames = [frame.set_axis(np.arange(11) * 0.5) for frame in convert_to(X3, to_type="df-list")]
    np.testing.assert_array_equal(fitted3.predict_proba(frames), fitted3.predict_proba(X3))
    np.testing.assert_array_equal(pgn().fit(frames, Y).predict_proba(X3), fitted3.predict_proba(X3))


@pytest.mark.parametrize("dtype", ["Float64", "Int64", "float64[pyarrow]"])
def test_df_list_frames_of_nullable_columns_are_read_and_a_missing_value_named(fitted3, dtype):
    # numpy's conversion of sktime's df-list met pd.NA as an object: "TypeError: float() argument must be a
    # string or a real number, not 'NAType'", where the other panel formats name the missing value
    if "pyarrow" in dtype:
        pytest.importorskip("pyarrow")
    X = X3.round() if dtype == "Int64" else X3
    frames = [frame.astype(dtype) for frame in convert_to(X, to_type="df-list")]
    np.testing.assert_array_equal(fitted3.predict_proba(frames), fitted3.predict_proba(X))
    frames[4].iloc[6, 2] = None
    match = r"X contains 1 missing value\(s\) \(NaN\), the first at sample 4, channel 2, timepoint 6"
    with pytest.raises(InputError, match=match):
        pgn().fit(frames, Y)
    with pytest.raises(InputError, match=match):
        fitted3.predict_proba(frames)


def test_text_time_stamps_are_refused_naming_their_dtype_and_the_fix():
    # "t10" sorts before "t2": their order cannot be checked as numbers' or dates' is
    panel = convert_to(X3, to_type="pd-multiindex")
    stamped = _with_time_level(panel, pd.Index([f"t{i}" for i in panel.index.get_level_values(1)], dtype=object))
    with pytest.raises(InputError, match=r"time level .* holds time stamps of text \(dtype .*groupby\(level=0\)"):
        pgn().fit(stamped, Y)


# ---- time order -----------------------------------------------------------------------------


@pytest.mark.parametrize("stamps", [np.arange(11)[::-1], np.r_[0, 0, np.arange(1, 10)], np.r_[1, 0, np.arange(2, 11)]],
                         ids=["newest first", "repeated stamp", "two swapped"])
def test_a_nested_cell_out_of_time_order_is_refused_not_read_as_stored(fitted3, stamps):
    # sktime's check and converter took the values in stored order, whatever their stamps
    nested = convert_to(X3, to_type="nested_univ")
    nested.iat[2, 1] = pd.Series(nested.iat[2, 1].to_numpy()[::-1], index=stamps)
    with pytest.raises(InputError, match=r"X\.iloc\[2, 1\] \(sample 2, channel .*not strictly increasing.*"
                                         r"X\.map\(lambda s: s\.sort_index\(\)\)"):
        fitted3.predict_proba(nested)


def test_nested_cells_on_their_own_increasing_stamps_are_read_step_by_step(fitted3):
    nested = convert_to(X3, to_type="nested_univ")
    nested.iat[0, 0] = nested.iat[0, 0].set_axis(np.arange(11) * 2 + 10)  # one channel recorded later
    np.testing.assert_array_equal(fitted3.predict_proba(nested), fitted3.predict_proba(X3))


@pytest.mark.parametrize("ids", [list("abcdefghijkl"), list("lkjihgfedcba")], ids=["ids in order", "ids descending"])
def test_sktimes_sort_index_fix_is_cautioned_where_it_would_reorder_the_samples(ids):
    panel = convert_to(X3, to_type="pd-multiindex")
    named = panel.set_axis(pd.MultiIndex.from_arrays(
        [np.repeat(ids, 11), panel.index.get_level_values(1)], names=["sample", "time"]))
    unsorted = named.iloc[np.r_[1, 0, 2:len(named)]]  # the first instance's first two rows swapped
    with pytest.raises(InputError, match=r"Use X\.sort_index\(\) to sort") as caught:
        pgn().fit(unsorted, Y)
    assert ("reorder y the same way" in str(caught.value)) == (ids[0] == "l")


def test_nested_cells_on_text_stamps_are_read_as_stored(fitted3):
    # "t10" sorts before "t2" as text: such cells were once refused as out of order, and sorting them reorders values
    nested = convert_to(X3, to_type="nested_univ").map(lambda s: s.set_axis([f"t{i}" for i in range(len(s))]))
    assert not nested.iat[0, 0].index.is_monotonic_increasing
    np.testing.assert_array_equal(fitted3.predict_proba(nested), fitted3.predict_proba(X3))


@pytest.mark.parametrize("at", [0, 5], ids=["first rows", "mid-sample"])
def test_a_pd_multiindex_row_given_twice_is_refused(at):
    # two rows at once on one (instance, time) passed sktime's check and were read as two steps
    panel = convert_to(X3, to_type="pd-multiindex")
    repeated = pd.concat([panel.iloc[:at + 1], panel.iloc[at:]])
    with pytest.raises(InputError, match=r"X has the row \(0, \d+\) \(instance, time\) more than once; .*"
                                         r"X\[~X\.index\.duplicated\(\)\]"):
        pgn().fit(repeated, Y)


def test_float_time_stamps_are_ranked_by_value_not_by_first_appearance():
    # instance 0 at 0.0, 1.0, 0.5 is out of order; instance 1 at 0.0, 0.5, 1.0 is sorted
    from tsrec.estimators._panel_formats import with_ranked_time_level

    index = pd.MultiIndex.from_arrays([[0, 0, 0, 1, 1, 1], [0.0, 1.0, 0.5, 0.0, 0.5, 1.0]])
    ranked = with_ranked_time_level(pd.DataFrame({"c": np.arange(6.0)}, index=index))
    assert ranked.index.get_level_values(-1).tolist() == [0, 2, 1, 0, 1, 2]


def test_a_slice_of_a_panel_is_read_as_the_samples_it_holds(fitted3):
    # .loc keeps the dropped instances in the index's levels: counting those would reshape the rows wrongly
    panel = convert_to(X3, to_type="pd-multiindex").loc[[0, 1, 3]]
    assert len(panel.index.levels[0]) == len(X3)
    np.testing.assert_array_equal(fitted3.predict_proba(panel), fitted3.predict_proba(X3[[0, 1, 3]]))


def test_channel_names_count_only_when_all_are_text():
    # scikit-learn records feature names only where every one is a string; mixed names are positions
    panel = convert_to(X3, to_type="pd-multiindex").set_axis(["a", 0, 1], axis=1)
    clf = pgn().fit(panel, Y)
    assert not hasattr(clf, "feature_names_in_")
    renamed = clf.predict_proba(panel.set_axis(["a", 5, 6], axis=1))
    np.testing.assert_array_equal(renamed, clf.predict_proba(X3))
