"""Classifier input that scikit-learn, numpy or sktime reported without a fix (classifier audit),
and predict_log_proba."""

from __future__ import annotations

import copy
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sktime.datatypes import convert_to

from tsrec.estimators import PGNClassifier
from tsrec.estimators.errors import InputError

RNG = np.random.default_rng(0)
X3 = RNG.normal(size=(20, 2, 8))
Y = np.array(["a", "b"] * 10)


def clf() -> PGNClassifier:
    return PGNClassifier(hidden=4, max_epochs=1, random_state=0)


@pytest.fixture(scope="module")
def fitted_3d():
    return clf().fit(X3, Y)


def nested(X: np.ndarray) -> pd.DataFrame:
    return convert_to(X, to_type="nested_univ")


def with_text_column(values) -> pd.DataFrame:
    return pd.DataFrame({**{f"t{i}": X3[:, 0, i] for i in range(7)}, "s": values})


def renamed(frame: pd.DataFrame, columns: list) -> pd.DataFrame:
    frame.columns = columns
    return frame


def with_cell(frame: pd.DataFrame, value) -> pd.DataFrame:
    frame.iat[19, 0] = value
    return frame


@pytest.mark.parametrize("X, match", [
    (lambda: renamed(nested(X3), ["a", "a"]), r"duplicate column names \['a'\]; give each column"),
    (lambda: pd.DataFrame(X3[:, 0], columns=["c"] * 8), r"duplicate column names \['c'\]"),
    (lambda: with_cell(nested(X3), np.nan), r"X.iloc\[19, 0\] \(sample 19, channel 'var_0'\) is nan, not a series"),
    (lambda: pd.DataFrame({"c": [np.zeros((3, 4))] * 20}), r"holds arrays of shape \(3, 4\); a nested panel needs"),
    (lambda: np.array([["a"] * 8] * 20), "holds values that are not numbers .*encode them as numbers"),
    (lambda: with_text_column(["x"] * 20), "column 's' holds values that are not numbers"),
    (lambda: with_text_column(pd.Categorical(["x"] * 20)), "column 's' holds values that are not numbers"),
    (lambda: None, "X is None; pass the series as an array"),
    (lambda: X3[:, 0] + 1j, "complex numbers; a classifier reads real values"),
    # numpy cast them to counts of their unit (hours since 1970 here) and the fit went on
    (lambda: np.datetime64("2024-01-01") + np.arange(20 * 8).reshape(20, 8).astype("timedelta64[h]"),
     r"X holds date-times \(dtype datetime64\[h\]\), not .* \(X - X.min\(\)\) / np.timedelta64\(1, 's'\)"),
    (lambda: np.ones((20, 8), dtype="timedelta64[s]"),
     r"X holds durations \(dtype timedelta64\[s\]\), .* X / np.timedelta64"),
])
def test_bad_x_names_the_problem_and_the_fix(X, match):
    with pytest.raises(InputError, match=match):
        clf().fit(X(), Y)


def test_numbers_stored_as_objects_and_a_series_of_arrays_are_read():
    expected = clf().fit(X3[:, 0], Y).predict_proba(X3[:3, 0])
    np.testing.assert_array_equal(clf().fit(pd.DataFrame(X3[:, 0]).astype(object), Y).predict_proba(X3[:3, 0]),
                                  expected)
    series = pd.Series(list(X3[:, 0]))  # one series per cell: a nested panel of one channel
    np.testing.assert_array_equal(clf().fit(series, Y).predict_proba(series.iloc[:3]), expected)


UCR_LENGTH = r"; UCR/UEA data: give both splits one length, load_ucr\(name, split, pad=\"last\", length=\.\.\.\)"


@pytest.mark.parametrize("shape, fix", [
    ((2, 3, 8), r"\(pass the 2 channel\(s\) it was fitted on\)"),
    ((2, 2, 7), r"\(resample or pad the series to 8 timepoints" + UCR_LENGTH + r"\)"),
    ((2, 2, 9), r"\(truncate or resample the series to 8 timepoints, or fit on series of this length" + UCR_LENGTH),
    ((2, 3, 9), r"\(pass the 2 channel\(s\) it was fitted on; truncate or resample the series to 8 timepoints"),
    ((3, 8), r"^X has shape \(3, 8\) \(1 channel\(s\) x 8 timepoints per sample\) .*\(pass the 2 channel\(s\) it was "
             r"fitted on\)$"),
    ((2, 8, 2), r"the axes look swapped"),
])
def test_a_shape_unlike_the_fitted_one_names_the_axis_to_fix(fitted_3d, shape, fix):
    with pytest.raises(InputError, match=fix):
        fitted_3d.predict(RNG.normal(size=shape))


def test_one_multichannel_sample_without_its_sample_axis_is_told_to_add_it(fitted_3d):
    pattern = (r"^X has shape \(2, 8\) .*fitted on; if X is one sample, add the sample axis: "
               r"X\[None\], shape \(1, 2, 8\)\)$")
    with pytest.raises(InputError, match=pattern):
        fitted_3d.predict(X3[0])
    assert fitted_3d.predict(X3[0][None]).shape == (1,)


def test_a_univariate_classifier_names_the_shape_as_given():
    fitted = clf().fit(X3[:, :1], Y)
    with pytest.raises(InputError, match=r"^X has shape \(4, 20\) \(1 channel\(s\) x 20 timepoints"):
        fitted.predict(RNG.normal(size=(4, 20)))


@pytest.mark.parametrize("column, match", [
    (lambda n: np.full(n, 1j), r"^Complex data not supported: X's column 'extra' holds complex numbers"),
    (lambda n: pd.date_range("2024-01-01", periods=n, freq="h"), r"^X's column 'extra' holds values that are not nu"),
    (lambda n: np.array(["a", "b"])[np.arange(n) % 2], r"^X's column 'extra' holds values that are not numbers"),
])
def test_a_long_panels_complex_date_or_text_channel_is_refused_by_name(fitted_3d, column, match):
    long = convert_to(X3, to_type="pd-multiindex")
    long["extra"] = column(len(long))
    with pytest.raises(InputError, match=match):
        clf().fit(long, Y)
    with pytest.raises(InputError, match=match):
        fitted_3d.predict(long)


def test_a_long_table_indexed_as_told_is_told_to_pivot_not_to_drop_its_other_channels(fitted_3d):
    # indexed by (id, time), as the long-table fix says, sktime's pd-long repeats each pair once per channel: the
    # fix named was "drop the repeats, X[~X.index.duplicated()]", which keeps the first channel only
    long = convert_to(convert_to(X3, to_type="pd-multiindex"), to_type="pd-long").set_index(["instances", "timepoints"])
    fix = "X.set_index('variable', append=True)['value'].unstack('variable')"
    with pytest.raises(InputError, match=r"more than once; .*row per channel \(its column 'variable' naming the "
                                         r"channel\), pivot it to a column per channel, " + re.escape(fix) + "$"):
        clf().fit(long, Y)
    pivoted = long.set_index("variable", append=True)["value"].unstack("variable")
    np.testing.assert_array_equal(clf().fit(pivoted, Y).predict_proba(X3), clf().fit(X3, Y).predict_proba(X3))


def test_a_complex_df_list_frame_is_refused_by_name():
    frames = convert_to(X3, to_type="df-list")
    frames[3] = frames[3] + 1j
    with pytest.raises(InputError, match=r"^Complex data not supported: X\[3\]'s column 'var_0' holds complex"):
        clf().fit(frames, Y)


def test_named_channels_given_to_a_classifier_fitted_without_names_warn_as_scikit_learn_does(fitted_3d):
    frames = convert_to(X3[:4], to_type="df-list")
    with pytest.warns(UserWarning, match=r"X has feature names, but PGNClassifier was fitted without feature names"):
        fitted_3d.predict(frames)


def test_predict_log_proba_is_the_log_of_predict_proba_and_stays_finite(fitted_3d):
    log_proba = fitted_3d.predict_log_proba(X3)
    assert log_proba.shape == (20, 2) and log_proba.dtype == np.float64
    np.testing.assert_allclose(np.exp(log_proba), fitted_3d.predict_proba(X3), rtol=1e-12)
    confident = copy.deepcopy(fitted_3d)
    with torch.no_grad():  # logits 800 apart: class a's probability rounds to 0, its log does not
        confident.network_.head.bias.copy_(torch.tensor([0.0, 800.0]))
    assert (confident.predict_proba(X3)[:, 0] == 0).all()
    log_proba = confident.predict_log_proba(X3)
    assert np.isfinite(log_proba).all() and (log_proba[:, 0] < -700).all()


def test_a_single_series_given_to_fit_is_told_to_reshape_to_one_row():
    with pytest.raises(InputError, match=r"X is 1-D .*X.reshape\(1, -1\) if it is a single series"):
        clf().fit(X3[0, 0], Y[:1])


def test_time_major_samples_are_told_to_transpose(fitted_3d):
    X = np.ascontiguousarray(X3[:3].transpose(0, 2, 1))  # (n, T, C) with C != T
    with pytest.raises(InputError, match=r"the axes look swapped: .*X.transpose\(0, 2, 1\)"):
        fitted_3d.predict(X)


def test_channels_laid_end_to_end_are_told_to_reshape(fitted_3d):
    flat = X3[:3].reshape(3, -1)  # sktime's numpyflat: (n, channels * timepoints)
    with pytest.raises(InputError, match=r"laid end to end .*X.reshape\(len\(X\), 2, 8\)") as caught:
        fitted_3d.predict(flat)
    assert "truncate" not in str(caught.value)  # truncating would drop the second channel


@pytest.mark.parametrize("step", ["fit", "predict", "long"])
def test_a_long_table_is_told_to_set_its_id_and_time_as_the_index(fitted_3d, step):
    panel = convert_to(X3, to_type="pd-multiindex")
    table = panel.reset_index() if step != "long" else convert_to(panel, to_type="pd-long")
    with pytest.raises(InputError, match=r"long table .*X.set_index\(\[id, time\]\)"):
        fitted_3d.predict(table) if step == "predict" else clf().fit(table, Y)


def test_labels_that_do_not_match_the_samples_are_told_how_many_to_give():
    # scikit-learn's "inconsistent numbers of samples: [20, 5]" named no fix
    with pytest.raises(InputError, match=r"^Found input variables with inconsistent numbers of samples: \[20, 5\]; "
                                         r"give one label per sample: y needs 20 labels, one for each of X's 20 "
                                         r"samples \(its first axis\), in the same order$"):
        clf().fit(X3, Y[:5])


@pytest.mark.parametrize("X", [X3[:0], X3[:0, 0]])
def test_no_samples_at_fit_say_what_to_pass(X):
    # scikit-learn's sentence stays first: its check_estimator may match it
    with pytest.raises(InputError, match=r"^Found array with 0 sample\(s\) .* required by PGNClassifier. X has no "
                                         r"samples; pass at least one series of each of 2 classes or more, as X of "
                                         r"shape \(n_samples, n_timepoints\) or \(n_samples, n_channels, "
                                         r"n_timepoints\)$"):
        clf().fit(X, Y[:0])


def test_no_samples_at_predict_say_what_to_pass(fitted_3d):
    with pytest.raises(InputError, match=r"^Found array with 0 sample\(s\) .* X has no samples; pass the series to "
                                         r"classify, as X of shape"):
        fitted_3d.predict(X3[:0])


def test_a_nested_panel_with_too_few_labels_is_not_told_it_is_a_long_table():
    nested = convert_to(X3, to_type="nested_univ")  # already one row per sample
    with pytest.raises(InputError, match=r"give one label per sample: y needs 20 labels") as caught:
        clf().fit(nested, Y[:-1])
    assert "long table" not in str(caught.value)


@pytest.mark.parametrize("y, fix", [
    (np.array([1, 2] * 10, dtype=object), "astype(int)"),
    (np.array([1, "a"] * 10, dtype=object), "astype(str)"),
    (np.array([1.5, 2.5] * 10, dtype=object), "astype(str)"),  # astype(int) would merge classes
    (np.array([True, False] * 10, dtype=object), "astype(bool)"),  # astype(int) gave classes 0 and 1
    (np.array([np.True_, np.False_] * 10, dtype=object), "astype(bool)"),  # after dropna of an object column
    (np.array([0.0, 1.0] * 10, dtype=object), "astype(float)"),  # astype(str) gave classes '0.0' and '1.0'
], ids=["integers as objects", "integers and text", "floats as objects", "bools as objects", "numpy bools",
        "whole floats as objects"])
def test_object_labels_scikit_learn_cannot_read_are_given_a_type_not_told_of_regression(y, fix):
    # scikit-learn's hint was "Maybe you are trying to fit a classifier ... on a regression target"
    from sklearn.utils.multiclass import type_of_target

    with pytest.raises(InputError, match=r"^Unknown label type: unknown: y is an object array of .* labels") as caught:
        clf().fit(X3, y)
    assert str(caught.value).endswith(f"y = np.asarray(y).{fix}") and "regression" not in str(caught.value)
    fixed = eval(f"np.asarray(y).{fix}")  # the fix keeps every class, as one the classifier reads
    assert type_of_target(fixed) == "binary" and len(np.unique(fixed)) == len(set(y.tolist()))
    if fix != "astype(str)":
        assert set(fixed.tolist()) == set(y.tolist())


def test_other_refusals_of_object_labels_keep_scikit_learns_message():
    y = np.empty(20, dtype=object)
    y[:] = [(0, 1), (1,)] * 10  # the legacy multi-label format, not a type problem
    with pytest.raises(ValueError, match=r"multilabel-indicator|legacy multi-label") as caught:
        clf().fit(X3, y)
    assert "astype" not in str(caught.value)


def test_a_table_with_a_row_multiindex_is_said_to_be_read_as_a_panel_with_the_fix_for_one_row_per_sample():
    # a table indexed by (subject, trial), a series per row, is sktime's pd-multiindex panel: its 12 rows
    # are 4 samples of 8 channels; the message named only 4 samples and y's 12 labels
    rows = RNG.normal(size=(12, 8))
    index = pd.MultiIndex.from_product([["s1", "s2", "s3", "s4"], [0, 1, 2]], names=["subject", "trial"])
    table = pd.DataFrame(rows, index=index, columns=[f"t{i}" for i in range(8)])
    read_as = (r"X, a table with a row MultiIndex, is read as an sktime pd-multiindex panel, a row per sample and "
               r"time point: its 12 rows are 4 samples of 8 channel\(s\); if each row is one sample's series, pass "
               r"X\.reset_index\(drop=True\) or X\.to_numpy\(\)")
    labels = np.array(["a", "b"] * 6)
    with pytest.raises(InputError, match=r"inconsistent numbers of samples: \[4, 12\]; " + read_as):
        clf().fit(table, labels)
    fitted = clf().fit(rows, labels)
    with pytest.raises(InputError, match=r"X has shape \(4, 8, 3\) .*; " + read_as):
        fitted.predict(table)
    np.testing.assert_array_equal(fitted.predict(table.reset_index(drop=True)), fitted.predict(rows))


@pytest.mark.parametrize("shift, scale, warned", [(30.0, 1.0, True), (0.0, 1e-4, True), (5.0, 1.0, False),
                                                  (0.0, 1e5, False)])
def test_a_training_channel_far_from_unit_scale_is_warned_of_with_the_fix(shift, scale, warned):
    # at a level of 30 standard deviations, or scaled by 1e-4, PGN and S-Mamba stayed at chance on a task they
    # solve standardised, with no word: X is not rescaled
    X = RNG.normal(size=(20, 2, 8))
    X[:, 1] = X[:, 1] * scale + shift
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = clf().fit(X, Y)
        fitted.predict(X)  # the training data's scale is what matters: predict does not warn again
    far = [str(w.message) for w in caught if "far from unit scale" in str(w.message)]
    assert len(far) == int(warned)
    if warned:
        assert re.search(r"X's channel\(s\) \[1\] lie far from unit scale \(channel 1: mean .*standardise each "
                         r"channel by its mean and standard deviation over the training samples", far[0])
