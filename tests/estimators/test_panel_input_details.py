"""Behaviours of the one-pass panel forecasts (``_onepass``) and of classifier and context input
(``_panels``, ``_panel_formats``, ``_panel_shapes``, ``_panel_values``) that a mutation round found
unpinned: each is a value, a refusal or a warning a user would notice."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon

from tsrec.estimators import ARNetForecaster
from tsrec.estimators import _evaluate
from tsrec.estimators._onepass import forecast_runs
from tsrec.estimators.errors import InputError

from onepass_panels import hours, panel_of  # tests/estimators/onepass_panels.py

FITTED = {"a": hours("2024-01-01", 40), "b": hours("2024-01-03", 40)}


@pytest.fixture(scope="module")
def hourly():
    return ARNetForecaster(n_lags=4, horizon=3, max_epochs=1, random_state=0).fit(panel_of(FITTED))


@pytest.fixture(scope="module")
def integers():
    stamps = {"a": pd.Index(np.arange(40)), "b": pd.Index(np.arange(40))}
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(panel_of(stamps))


# ---- _onepass ---------------------------------------------------------------------------------


def test_a_forecast_ending_on_the_last_nanosecond_is_given_not_refused(hourly):
    """The one-pass path refused a stamp of exactly 2262-04-11 23:47:16.854775807, which the per-series
    path forecasts: only stamps past int64's largest have no room."""
    panel = panel_of({"x": pd.date_range(end=pd.Timestamp.max - pd.Timedelta("1h"), periods=8, freq="h")})
    fast = forecast_runs(hourly, panel, [1])
    assert fast is not None and fast.index[-1] == ("x", pd.Timestamp.max)
    pd.testing.assert_frame_equal(fast, _evaluate.predict_new_context(hourly, [1], panel), check_exact=True)


def test_a_constant_new_series_is_warned_of_on_the_one_pass_path(hourly):
    """A new series constant over its context is standardised to zeros: the per-series path warns, and
    so must the one-pass path, which forecast it silently."""
    panel = panel_of({"x": hours("2024-02-01", 12)})
    panel.iloc[:, 0] = 3.0
    with pytest.warns(RuntimeWarning, match=r"series 'x'\), not one the model was fitted on, is constant"):
        assert forecast_runs(hourly, panel, [1]) is not None


def test_relative_steps_built_with_another_freq_are_refused_for_a_panel(hourly):
    """fh=ForecastingHorizon([1, 2], freq="D") for an hourly panel is refused by the per-series path;
    the one-pass path forecast hours ahead instead."""
    panel = panel_of({"x": hours("2024-02-01", 12)})
    fh = ForecastingHorizon([1, 2], is_relative=True, freq="D")
    with pytest.raises(InputError, match="fh was built with freq='D', but y steps by 'h'"):
        hourly.predict(fh=fh, y=panel)


def test_unsigned_integer_stamps_are_forecast_with_integer_stamps(integers):
    """A panel whose time level is uint64 is left to the per-series path, whose forecast stamps are
    int64; read as a grid, the stamps came back as floats."""
    panel = panel_of({"x": pd.Index(np.arange(10, 20, dtype=np.uint64)),
                      "y": pd.Index(np.arange(5, 15, dtype=np.uint64))})
    got = integers.predict(fh=[1, 2], y=panel)
    pd.testing.assert_frame_equal(got, _evaluate.predict_new_context(integers, [1, 2], panel), check_exact=True)
    assert got.index.levels[-1].dtype == np.int64


def test_a_fitted_series_far_off_its_scale_is_refused_before_the_network(hourly):
    """A fitted series given at 1e300 times its level: the context is refused as too far from the
    training scale, as the per-series path refuses it, not blamed on the network's overflow."""
    panel = panel_of({"a": hours("2024-02-01", 12)})
    panel.iloc[:, 0] *= 1e300
    with pytest.raises(InputError, match=r"^the context's values \(series 'a'\) lie too far"):
        forecast_runs(hourly, panel, [1])


def test_a_fitted_series_far_above_its_level_is_warned_of_on_the_one_pass_path(hourly):
    """AR-Net reads the level as it is: a fitted series given 1000 above its training level is warned
    of on the one-pass path as on the per-series one."""
    panel = panel_of({"a": hours("2024-02-01", 12)}) + 1000.0
    with pytest.warns(RuntimeWarning, match=r"the context of series 'a' lies .* on average, far outside the levels"):
        assert forecast_runs(hourly, panel, [1]) is not None


def test_stamps_a_thousand_horizons_ahead_are_warned_of_on_the_one_pass_path(hourly):
    """fh as stamps 3000 hours after the data (1000 horizons of 3), a year mistyped say, warns as on
    the per-series path; relative steps so far do not (they are not slow)."""
    panel = panel_of({"x": hours("2024-02-01", 12)})
    far = pd.DatetimeIndex([panel.index[-1][1] + pd.Timedelta(hours=3000)])
    with pytest.warns(UserWarning, match="fh's stamps reach step 3,000 after the end of the data"):
        assert forecast_runs(hourly, panel, far) is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forecast_runs(hourly, panel, [3000])


def test_relative_steps_of_a_stored_panel_count_from_its_end_even_before_stamp_zero():
    """Stored series of integer stamps -40..-1: fh=[1, 2] is steps 1 and 2 (stamps 0 and 1), not the
    stamps 1 and 2, which the arrays' look for absolute stamps would read them as."""
    stamps = {"a": pd.Index(np.arange(-40, 0)), "b": pd.Index(np.arange(-40, 0))}
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(panel_of(stamps))
    got = est.predict(fh=[1, 2])
    assert got.index.get_level_values(-1).tolist() == [0, 1, 0, 1]


def test_one_row_series_at_a_coarser_unit_than_the_step_are_refused_as_too_short():
    """Series of one row each, stamped in seconds, for a model fitted at millisecond steps: the step
    is no whole number of seconds, and the per-series refusal (too short) comes, not a ValueError."""
    stamps = {"a": hours("2024-01-01", 40, freq="ms"), "b": hours("2024-01-02", 40, freq="ms")}
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(panel_of(stamps))
    one = panel_of({"x": hours("2024-02-01", 1, unit="s"), "y": hours("2024-02-02", 1, unit="s")})
    with pytest.raises(InputError, match="2 of the 2 series are shorter than n_lags = 4 rows"):
        est.predict(fh=[1], y=one)


# ---- classifiers' X: _panels, _panel_formats, _panel_shapes, _panel_values ----------------------


def test_a_nested_cell_with_boolean_stamps_is_read_as_stored():
    """Booleans are no time stamps: a cell indexed True, False is read in its stored order, as text
    stamps are, not refused as out of time order."""
    from tsrec.estimators._panels import as_stackable

    cell = pd.Series([1.0, 2.0], index=[True, False])
    stacked, _ = as_stackable(pd.DataFrame({"c": [cell, cell]}))
    np.testing.assert_array_equal(stacked, [[[1.0, 2.0]], [[1.0, 2.0]]])


def test_samples_keyed_by_a_date_with_date_time_stamps_are_not_taken_for_time_first():
    """An index (session date, time of the reading): both levels hold date-times, so the first is not
    told to be time stamps that should come last (no warning)."""
    from tsrec.estimators._panels import as_stackable

    index = pd.MultiIndex.from_product([pd.to_datetime(["2024-01-01", "2024-01-02"]),
                                        pd.date_range("2024-01-01 09:00", periods=5, freq="min")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stacked, _ = as_stackable(pd.DataFrame({"v": np.arange(10.0)}, index=index))
    assert stacked.shape == (2, 1, 5)


def test_a_missing_value_of_the_second_channel_is_located_by_channel():
    """Two channels: the message names the channel of the first NaN, which a univariate X leaves out."""
    from tsrec.estimators._panel_values import check_finite

    X = np.zeros((2, 2, 5))
    X[1, 1, 3] = np.nan
    with pytest.raises(InputError, match=r"the first at sample 1, channel 1, timepoint 3;"):
        check_finite(X)


def test_missing_values_given_as_none_in_an_object_array_are_refused_as_missing():
    """X given as an object array holding None (read as NaN by the cast): the refusal names the
    missing value, where comparing with the objects as given raised numpy's TypeError."""
    from tsrec.estimators._panel_values import check_finite

    given = np.zeros((2, 2, 5), dtype=object)
    given[1, 1, 3] = None
    with pytest.raises(InputError, match=r"^X contains 1 missing value\(s\) \(NaN\)"):
        check_finite(np.asarray(given, dtype=float), given)


def test_a_classifier_fitted_on_2d_names_the_2d_shape_to_pass_for_3d_input():
    """Fitted on (n_samples, n_timepoints): X of 2 channels is told to come as (n_samples, 8), the
    fitted rank, not (n_samples, 1, 8)."""
    from tsrec.estimators import PGNClassifier

    rng = np.random.default_rng(0)
    fitted = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(rng.normal(size=(20, 8)), ["a", "b"] * 10)
    with pytest.raises(InputError, match=r"pass X of shape \(n_samples, 8\) \("):
        fitted.predict(rng.normal(size=(4, 2, 8)))


# ---- forecasters' contexts: _panel_values ---------------------------------------------------------


def test_a_context_thousands_of_standard_deviations_off_is_warned_of_when_float32_rounds_it():
    """At 5,000 training standard deviations float32 rounds by about 3e-4, more than a thousandth of
    a variation of 0.1: warned of (the check starts at 1,000, not at 10,000)."""
    from tsrec.estimators._panel_values import warn_rounded_context

    context = (5000.0 + 0.1 * np.sin(np.arange(48) / 3.0)).reshape(1, 48, 1)
    with pytest.warns(UserWarning, match=r"the context of series 'x' lies 5e\+03 training standard deviations"):
        warn_rounded_context(context, True, ["x"])


def test_a_constant_context_far_off_is_not_told_its_variation_is_rounded_away():
    """A constant context has no variation for float32 to round away: no rounding warning, however far
    off (its rounding error is above 0, a thousandth of its spread is 0)."""
    from tsrec.estimators._panel_values import warn_rounded_context

    context = np.full((1, 48, 1), 1e9 + 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_rounded_context(context, True, ["x"])


def test_a_context_swinging_widely_about_the_training_mean_is_not_far_off(hourly):
    """A context swinging 20 standard deviations either side of the training mean lies at its level
    on average (its mean, not its mean distance, is what a level-reading network sees): no warning."""
    from tsrec.estimators._panel_values import warn_far_context

    context = (20.0 * np.sin(np.arange(48) * np.pi / 6)).reshape(1, 48, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_far_context(hourly, context, ["x"])


def test_a_context_eleven_standard_deviations_off_is_far(hourly):
    """The limit is 10 training standard deviations: a context 11 off is warned of."""
    from tsrec.estimators._panel_values import warn_far_context

    with pytest.warns(RuntimeWarning, match=r"the context of series 'x' lies 11 training standard deviations"):
        warn_far_context(hourly, np.full((1, 8, 1), 11.0), ["x"])


@pytest.fixture(scope="module")
def classifier_3d():
    from tsrec.estimators import PGNClassifier

    rng = np.random.default_rng(0)
    return PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(rng.normal(size=(20, 2, 8)), ["a", "b"] * 10)


def test_a_classifier_fitted_on_arrays_predicts_arrays_without_a_feature_names_warning(classifier_3d):
    """Fitted and predicting on numpy arrays: no channel names either time, so no warning that X has
    feature names (it was given, with "the channels None", for every array)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        classifier_3d.predict(np.random.default_rng(1).normal(size=(3, 2, 8)))


def test_two_instances_interleaved_by_time_are_regrouped_not_mixed():
    """Rows (a, 0), (b, 0), (a, 1), ...: each sample is its own instance's values in time order; two
    interleaved instances step back by one code only, which must not pass for grouped rows."""
    from tsrec.estimators._panels import as_stackable

    index = pd.MultiIndex.from_arrays([["a", "b"] * 3, [0, 0, 1, 1, 2, 2]])
    stacked, _ = as_stackable(pd.DataFrame({"v": [0.0, 10.0, 1.0, 11.0, 2.0, 12.0]}, index=index))
    np.testing.assert_array_equal(stacked, [[[0.0, 1.0, 2.0]], [[10.0, 11.0, 12.0]]])


def test_df_list_frames_with_as_many_but_other_channels_are_refused_by_name():
    """X[1] has channels a, c where X[0] has a, b: refused naming both, not a KeyError for 'b'."""
    from tsrec.estimators._panels import as_stackable

    frames = [pd.DataFrame({"a": np.arange(5.0), "b": np.arange(5.0)}),
              pd.DataFrame({"a": np.arange(5.0), "c": np.arange(5.0)})]
    with pytest.raises(InputError, match=r"^X\[1\] has columns \['a', 'c'\] but X\[0\] has \['a', 'b'\]"):
        as_stackable(frames)


def test_a_list_with_a_scalar_among_its_series_is_refused_as_another_layout():
    """A list of series with a bare number among them: named as samples of another layout, not left
    to numpy's "inhomogeneous shape"."""
    from tsrec.estimators import PGNClassifier

    with pytest.raises(InputError, match=r"^X's samples differ in their number of channels or dimensions"):
        PGNClassifier(hidden=4, max_epochs=1).fit([np.zeros(8), np.zeros(8), 3.0], ["a", "b", "a"])


def test_a_nested_panel_whose_second_channel_is_ragged_is_refused_with_its_lengths():
    """Channel a of equal lengths, channel b with a series of 4 among 5s: the refusal counts every
    channel's lengths, not the first channel's only (which left numpy's stacking error)."""
    from tsrec.estimators._panels import as_stackable

    equal = [pd.Series(np.arange(5.0))] * 3
    ragged = [pd.Series(np.arange(5.0)), pd.Series(np.arange(4.0)), pd.Series(np.arange(5.0))]
    with pytest.raises(InputError, match=r"^X holds series of different lengths \(4 to 5 timepoints\)"):
        as_stackable(pd.DataFrame({"a": equal, "b": ragged}))


def test_a_sparse_matrix_given_to_a_univariate_classifier_is_told_to_be_made_dense():
    """A univariate classifier fitted on 3-D X: a sparse 2-D X is left to scikit-learn's refusal
    (".toarray()"), not converted into an array of objects that fails on indexing."""
    import scipy.sparse as sp

    from tsrec.estimators import PGNClassifier

    rng = np.random.default_rng(0)
    fitted = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(rng.normal(size=(20, 1, 8)), ["a", "b"] * 10)
    with pytest.raises(TypeError, match=r"Sparse data was passed for X, but dense data is required"):
        fitted.predict(sp.csr_matrix(rng.normal(size=(3, 8))))
