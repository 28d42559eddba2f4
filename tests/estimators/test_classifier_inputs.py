"""Classifier inputs refused with a message that names the problem (empty axes, missing labels, a
single class, NaN/inf, ragged lists, unreadable panels, series whose magnitude overflows the networks:
tsrec does not rescale a classifier's X) and inputs read as the same numpy array would be (sktime's
df-list, DataFrames of array cells, nested lists of univariate series)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sktime.datatypes import convert_to

from tsrec import all_estimators
from tsrec.estimators import ChimeraClassifier, PGNClassifier, SMambaClassifier
from tsrec.estimators.errors import InputError

CLASSIFIERS = all_estimators(kind="classifier")
IDS = [n for n, _ in CLASSIFIERS]
RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 1, 10))
Y = np.array(["a", "b"] * 6)


def tiny(cls, **params):
    """The class's own small test configuration, one epoch."""
    return cls(**{**getattr(cls, "_test_params", {}), "max_epochs": 1, "random_state": 0, **params})


# ---- empty axes ------------------------------------------------------------------------------


@pytest.mark.parametrize("name,cls", CLASSIFIERS, ids=IDS)
@pytest.mark.parametrize("shape,axes", [((12, 0, 10), "0 channel"), ((12, 1, 0), "1 channel\\(s\\) x 0 timepoints")])
def test_samples_without_channels_or_timepoints_are_refused(name, cls, shape, axes):
    with pytest.raises(InputError, match=f"X has {axes}.*at least one channel and one timepoint"):
        tiny(cls).fit(np.zeros(shape), Y)


# ---- missing labels --------------------------------------------------------------------------


@pytest.mark.parametrize("labels", [
    np.array(["a", "b"] * 5 + [None, "a"], dtype=object),
    pd.Series(["a", "b"] * 5 + [np.nan, "a"]),
    pd.Series(["a", "b"] * 5 + [pd.NA, "a"], dtype="string"),
    np.array([0.0, 1.0] * 5 + [np.nan, 0.0]),
], ids=["None", "nan among strings", "pd.NA", "nan among floats"])
def test_missing_labels_are_named_by_position(labels):
    with pytest.raises(InputError, match=r"1 missing label\(s\) \(None or NaN\) at position\(s\) 10; drop"):
        PGNClassifier(hidden=4, max_epochs=1).fit(X, labels)


def test_labels_of_types_that_do_not_sort_together_are_refused():
    labels = np.array(["a", 1] * 6, dtype=object)
    with pytest.raises(InputError, match=r"y mixes labels of types that do not sort together \(int, str\); .*astype"):
        PGNClassifier(hidden=4, max_epochs=1).fit(X, labels)
    # labels of one type that sklearn refuses were said to mix types
    with pytest.raises(InputError, match=r"y has bytes_ labels: Support for labels represented as bytes is not "
                                         r"supported\. Convert .* format, e\.g\. y = np\.asarray\(y\)\.astype\(str\)"):
        PGNClassifier(hidden=4, max_epochs=1).fit(X, np.array([b"a", b"b"] * 6))


def test_many_missing_labels_are_listed_up_to_ten():
    labels = np.array(["a", "b"] * 3 + [None] * 12 + ["a", "b"], dtype=object)
    with pytest.raises(InputError, match=r"12 missing label\(s\).* 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, \.\.\."):
        PGNClassifier(hidden=4, max_epochs=1).fit(RNG.normal(size=(20, 10)), labels)


# ---- magnitude -------------------------------------------------------------------------------


def test_overflow_inside_a_kernel_names_the_magnitude_of_x():
    # S-Mamba's LayerNorm overflows at |X| ~ 1e8: the scan kernel used to say "u contains NaN or inf"
    with pytest.raises(InputError, match=r"overflowed to NaN or inf while training; the largest \|X\| is 2\.33e\+08.*"
                                         r"standardise each channel"):
        tiny(SMambaClassifier).fit(X * 1e8, Y)


def test_a_network_trained_to_nan_is_refused_in_fit():
    # PGN trains at |X| ~ 1e20 without an error, to weights that predicted NaN probabilities
    with pytest.raises(InputError, match=r"overflowed to NaN or inf while training; the largest \|X\| is 2\.33e\+20"):
        PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X * 1e20, Y)


@pytest.mark.parametrize("cls,scale", [(PGNClassifier, 1e20), (SMambaClassifier, 1e8)])
def test_predict_proba_refuses_non_finite_probabilities(cls, scale):
    clf = tiny(cls).fit(X, Y)
    assert np.isfinite(clf.predict_proba(X)).all()
    for method in (clf.predict_proba, clf.predict):
        with pytest.raises(InputError, match=r"overflowed to NaN or inf at predict time; the largest \|X\| is 2\.33e"):
            method(X * scale)


# ---- formats read as the numpy array they hold -----------------------------------------------

X3 = RNG.normal(size=(12, 3, 10))


@pytest.fixture(scope="module")
def fitted3():
    return PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X3, Y)


def test_df_list_is_read_as_channels_by_time(fitted3):
    # each frame is (time, channels): it used to be stacked as 10 channels x 3 timepoints
    frames = convert_to(X3, to_type="df-list")
    clf = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(frames, Y)
    assert (clf.n_channels_, clf.n_timepoints_) == (3, 10)
    np.testing.assert_allclose(clf.predict_proba(X3), fitted3.predict_proba(X3), rtol=1e-6)
    np.testing.assert_array_equal(fitted3.predict_proba(frames), fitted3.predict_proba(X3))
    # channels line up with X[0]'s by column name, not by position
    shuffled = [frames[0], *(frame[frame.columns[::-1]] for frame in frames[1:])]
    np.testing.assert_array_equal(fitted3.predict_proba(shuffled), fitted3.predict_proba(X3))


def test_an_object_array_of_series_is_read_as_the_list_of_them():
    # it was refused as 1-D, with the advice X.reshape(1, -1): one sample of object cells
    cells = np.empty(len(X), dtype=object)
    cells[:] = list(X[:, 0])
    clf = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(cells, Y)
    reference = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(list(X[:, 0]), Y)
    np.testing.assert_array_equal(clf.predict_proba(cells), reference.predict_proba(list(X[:, 0])))


def test_df_list_of_unequal_lengths_or_channels_is_refused(fitted3):
    frames = convert_to(X3, to_type="df-list")
    with pytest.raises(InputError, match=r"different lengths \(8 to 10 timepoints\).*pad=\"last\""):
        fitted3.predict([*frames[:-1], frames[-1].iloc[:8]])
    with pytest.raises(InputError, match=r"X\[11\] has columns \[.*\] but X\[0\] has .*same channels"):
        fitted3.predict([*frames[:-1], frames[-1].iloc[:, :2]])


def test_a_dataframe_of_array_cells_is_read_as_nested_univ(fitted3):
    cells = pd.DataFrame({f"c{c}": list(X3[:, c]) for c in range(3)})
    np.testing.assert_array_equal(fitted3.predict_proba(cells), fitted3.predict_proba(X3))


NAMED = ["temp", "pressure", "wind"]


def named_panel(mtype: str, names: list) -> object:
    """X3 as an sktime panel whose channels (columns) are ``names``; in another order, the values
    are those of the named channels, so a panel reordered by name holds the same data."""
    def frame(panel):
        return panel.set_axis(NAMED, axis=1)[names]

    panel = convert_to(X3, to_type=mtype)
    return [frame(f) for f in panel] if mtype == "df-list" else frame(panel)


@pytest.mark.parametrize("mtype", ["pd-multiindex", "nested_univ", "df-list"])
def test_a_panels_channels_must_be_the_fitted_ones_by_name_and_in_order(tmp_path, mtype):
    import warnings

    import tsrec

    clf = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(named_panel(mtype, NAMED), Y)
    assert list(clf.feature_names_in_) == NAMED and clf.n_features_in_ == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names": they were checked
        proba = clf.predict_proba(named_panel(mtype, NAMED))
    with pytest.warns(UserWarning, match="X does not have valid feature names"):  # as scikit-learn warns
        np.testing.assert_array_equal(proba, clf.predict_proba(X3))
    for model in (clf, tsrec.load(clf.save(tmp_path / mtype))):
        with pytest.raises(InputError, match=r"channels are \['wind', 'temp', 'pressure'\], but .* fitted on channels "
                                             r"\['temp', 'pressure', 'wind'\], in that order; select and order"):
            model.predict(named_panel(mtype, ["wind", "temp", "pressure"]))
        renamed = named_panel(mtype, NAMED)
        renamed = [f.rename(columns={"wind": "gust"}) for f in renamed] if mtype == "df-list" else \
            renamed.rename(columns={"wind": "gust"})
        with pytest.raises(InputError, match="rename them as fitted"):
            model.predict(renamed)


def test_univariate_lists_are_brought_to_the_fitted_rank():
    X2 = X[:, 0]
    fitted2 = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X2, Y)
    np.testing.assert_array_equal(fitted2.predict_proba(X2[:, None].tolist()), fitted2.predict_proba(X2))
    fitted3d = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X2[:, None], Y)
    np.testing.assert_array_equal(fitted3d.predict_proba(X2.tolist()), fitted3d.predict_proba(X2))


# ---- inputs refused with the fix -------------------------------------------------------------


@pytest.mark.parametrize("samples", [
    [RNG.normal(size=8 + i % 3) for i in range(12)],
    [RNG.normal(size=(2, 8 + i % 3)) for i in range(12)],
    [[RNG.normal(size=10), RNG.normal(size=8 + i % 3)] for i in range(12)],
], ids=["1-D series", "(C, T) arrays", "channels of a sample"])
def test_lists_of_unequal_lengths_are_refused_with_the_fix(samples):
    with pytest.raises(InputError, match=r"different lengths \(8 to 10 timepoints\).*pad=\"last\""):
        PGNClassifier(hidden=4, max_epochs=1).fit(samples, Y)


def test_lists_of_samples_with_different_channels_are_refused():
    samples = [RNG.normal(size=(1 + i % 2, 10)) for i in range(12)]
    with pytest.raises(InputError, match=r"differ in their number of channels.*\(1,\), \(2,\)"):
        PGNClassifier(hidden=4, max_epochs=1).fit(samples, Y)


def test_read_only_arrays_are_read_without_a_torch_warning():
    # joblib hands GridSearchCV(n_jobs=2) workers read-only memory maps; a univariate X's time-major
    # view was passed to torch.from_numpy uncopied, and torch warned that it cannot share a read-only array
    import warnings

    frozen = np.array(X.astype(np.float32))
    frozen.setflags(write=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*not writable")
        clf = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(frozen, Y)
        proba = clf.predict_proba(frozen)
    np.testing.assert_array_equal(proba, clf.predict_proba(X.astype(np.float32)))


@pytest.mark.parametrize("order", ["by time", "in chunks"])
def test_a_panels_rows_may_come_in_any_instance_order(fitted3, order):
    # sktime's check accepts rows ordered by time, but its numpy3D conversion reshaped them as they
    # stood: each sample mixed the values of several instances (probabilities off by up to 0.65)
    panel = convert_to(X3, to_type="pd-multiindex")
    if order == "by time":
        rows = panel.sort_index(level=1, sort_remaining=True)
    else:  # each instance in two runs of rows: its first five timepoints, then (after the others') the rest
        first = panel.index.get_level_values(1) < 5
        rows = pd.concat([panel[first], panel[~first]])
    assert not rows.index.equals(panel.index)
    np.testing.assert_array_equal(fitted3.predict_proba(rows), fitted3.predict_proba(X3))
    refit = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(rows, Y)
    np.testing.assert_array_equal(refit.predict_proba(X3), fitted3.predict_proba(X3))


def test_samples_recorded_at_their_own_times_are_read_step_by_step(fitted3):
    # equal lengths, each sample on its own day: sktime's numpy3D converter failed ("cannot reshape")
    panel = convert_to(X3, to_type="pd-multiindex")
    sample, step = (panel.index.get_level_values(i) for i in (0, 1))
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(sample, unit="D") + pd.to_timedelta(step, unit="h")
    own_times = panel.set_axis(pd.MultiIndex.from_arrays([sample, stamps], names=["sample", "time"]))
    np.testing.assert_array_equal(fitted3.predict_proba(own_times), fitted3.predict_proba(X3))
    refit = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(own_times, Y)
    np.testing.assert_array_equal(refit.predict_proba(X3), fitted3.predict_proba(X3))


@pytest.mark.parametrize("change, message", [
    (lambda frame: frame.sample(frac=1, random_state=0),
     r"MultiIndex but is not a panel.*Use X\.sort_index\(\) to sort"),
    (lambda frame: pd.concat([frame, frame.iloc[:1]]), r"X has the row \(0, 0\) \(instance, time\) more than once"),
], ids=["unsorted", "duplicated row"])
def test_a_multiindex_frame_that_is_no_panel_says_why(change, message):
    # read as a flat table it failed with "inconsistent numbers of samples: [120, 12]"
    panel = change(convert_to(X3, to_type="pd-multiindex"))
    with pytest.raises(InputError, match=message):
        PGNClassifier(hidden=4, max_epochs=1).fit(panel, Y)


def test_nan_and_inf_are_counted_located_and_fixed_along_time(fitted3):
    bad = X3.copy()
    bad[3, 1, 9], bad[5, 0, 0], bad[6, 2, 4] = np.nan, np.nan, np.inf
    # scikit-learn's message recommended imputers and HistGradientBoosting, which take no 3-D series
    expected = (r"X contains 2 missing value\(s\) \(NaN\) and 1 infinite value\(s\).*the first at sample 3, "
                r"channel 1, timepoint 9; .*fill missing values along time.*interpolate")
    with pytest.raises(InputError, match=expected):
        PGNClassifier(hidden=4, max_epochs=1).fit(bad, Y)
    with pytest.raises(InputError, match=expected):
        fitted3.predict(bad)
    univariate = X[:, 0].copy()
    univariate[4, 2] = np.nan
    # one channel: the position names no channel
    with pytest.raises(InputError, match=r"1 missing value\(s\) \(NaN\), the first at sample 4, timepoint 2;"):
        PGNClassifier(hidden=4, max_epochs=1).fit(univariate, Y)


def test_values_beyond_float32_are_refused_without_numpys_overflow_warnings(fitted3):
    huge = X3 * 1e300  # float64: finite; cast to float32, numpy warned of overflows before the refusal
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for fit_or_predict in (lambda: PGNClassifier(hidden=4, max_epochs=1).fit(huge, Y),
                               lambda: fitted3.predict(huge)):
            # nothing is missing: the fix is to rescale, not the fill the message for NaN and inf leads with
            with pytest.raises(InputError, match=r"X has \d+ value\(s\) beyond the range of float32 \(largest "
                                                 r"3.4e\+38\), the first at sample 0, channel 0, timepoint 0, which "
                                                 r"the network computes in; the classifiers do not rescale X"):
                fit_or_predict()
        # float64 for the network: the training overflow is named, with no numpy warning of the squares before it
        with pytest.raises(InputError, match=r"the network's values overflowed to NaN or inf while training"):
            PGNClassifier(hidden=4, max_epochs=1, precision="64-true").fit(X3 * 1e200, Y)
    huge[1, 0, 2] = np.inf  # one value that is not finite in X itself: filled or replaced, as NaN and inf are
    with pytest.raises(InputError, match=r"X contains \d+ infinite value\(s\) \(inf, or beyond float32"):
        fitted3.predict(huge)


def test_a_single_class_is_printed_as_a_plain_value():
    with pytest.raises(InputError, match=r"y has only one class \('a'\); a classifier needs at least 2"):
        PGNClassifier(hidden=4, max_epochs=1).fit(X, np.array(["a"] * 12))


def test_a_panel_row_without_a_sample_id_is_refused(fitted3):
    # sktime's check accepted it; stacking then failed with numpy's "cannot reshape", or re-cut samples
    panel = convert_to(X3, to_type="pd-multiindex")
    ids = panel.index.get_level_values(0).to_numpy().astype(float)
    ids[ids == 3] = np.nan
    missing = panel.set_axis(pd.MultiIndex.from_arrays([ids, panel.index.get_level_values(1)]))
    for call in (lambda: fitted3.predict_proba(missing), lambda: PGNClassifier(max_epochs=1).fit(missing, Y)):
        with pytest.raises(InputError, match=r"X has \d+ row\(s\) whose series id .* is missing"):
            call()


def test_variation_that_float32_rounds_away_is_warned_of():
    # a level of 1e9 moving by 10: float32 steps by 64 there, and every sample became one
    rng = np.random.default_rng(0)
    X = 1e9 + np.r_[np.full(20, -10.0), np.full(20, 10.0)][:, None] + rng.normal(size=(40, 24))
    y = np.array([0] * 20 + [1] * 20)
    with pytest.warns(UserWarning, match=r"X's channel\(s\) \[0\] vary little for their size \(channel 0: standard "
                                         r"deviation 10.* at values up to 1e\+09\), and casting X to float32"):
        PGNClassifier(max_epochs=1, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        PGNClassifier(max_epochs=1, random_state=0).fit(X - 1e9, y)  # the fix the message gives
        PGNClassifier(max_epochs=1, random_state=0).fit(np.full((40, 24), 0.1), y)  # constant: nothing to lose
    with warnings.catch_warnings(record=True) as caught:  # float64 keeps the variation; the level stays far
        warnings.simplefilter("always")
        PGNClassifier(max_epochs=1, precision="64-true", random_state=0).fit(X, y)
    messages = [str(w.message) for w in caught]
    assert any("far from unit scale" in m for m in messages) and not any("vary little" in m for m in messages)


@pytest.mark.parametrize("cls", [SMambaClassifier, ChimeraClassifier])
def test_an_overflow_from_a_huge_lr_on_standardised_x_blames_the_lr(cls):
    # it told the user to scale X first, which was already of order 1 (degenerate-data audit)
    with pytest.raises(InputError, match=r"overflowed to NaN or inf while training; X is of moderate scale \(the "
                                         r"largest \|X\| is 2\.33\), so training diverged: lower lr$"):
        tiny(cls, lr=100.0, max_epochs=3).fit(X, Y)
