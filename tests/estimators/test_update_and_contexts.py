"""update(): rows that do not continue or match the fitted data are refused before anything changes;
rows that do extend each series in the fitted order (new contexts: test_new_contexts.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import tsrec
from tsrec.estimators import ARNetForecaster, CycleNetForecaster
from tsrec.estimators.errors import InputError

from context_series import HOURS, TINY, cyclenet, panel, series  # tests/estimators/context_series.py


def state(est) -> tuple:
    return list(est.cutoff), est._y.copy(), est.predict().to_numpy()


def assert_unchanged(est, before: tuple) -> None:
    cutoff, y, forecast = before
    assert list(est.cutoff) == cutoff
    pd.testing.assert_frame_equal(est._y, y)
    np.testing.assert_array_equal(est.predict().to_numpy(), forecast)


LAST = HOURS[59]
BAD_CHUNKS = {
    "a gap": (pd.date_range(LAST + pd.Timedelta("5h"), periods=2, freq="h"), "the 4 rows between"),
    "rows before the cutoff": (HOURS[:2] - pd.Timedelta("10h"), "before the stored ones. last stamp"),
    "another step": (pd.date_range(LAST + pd.Timedelta("1h"), periods=2, freq="D"),
                     "are 24 steps of h apart, where the stored rows are one"),
    "an integer index": (pd.Index([1000, 1001]), "kind integer but the fitted data of kind date-time"),
    "tz-aware stamps": (pd.date_range(LAST + pd.Timedelta("1h"), periods=2, freq="h", tz="UTC"),
                        r"time zone UTC but the fitted data none \(naive\)"),
}


@pytest.mark.parametrize("update_params", [False, True])
@pytest.mark.parametrize("label", list(BAD_CHUNKS))
def test_update_refuses_rows_that_do_not_continue_the_series_and_changes_nothing(label, update_params):
    index, message = BAD_CHUNKS[label]
    est = cyclenet(series())
    before = state(est)
    with pytest.raises(InputError, match=message):
        est.update(pd.Series([1.0, 2.0], index=index), update_params=update_params)
    assert_unchanged(est, before)


def test_update_takes_overlapping_rows_that_reach_past_the_end():
    y = series(70)
    est = cyclenet(y.iloc[:60])
    est.update(y.iloc[50:65] + 1, update_params=False)  # as evaluate(strategy="update") passes windows
    assert est.cutoff[0] == y.index[64] and len(est._y) == 65
    np.testing.assert_array_equal(est._y.iloc[50:, 0].to_numpy(), y.iloc[50:65].to_numpy() + 1)


def test_update_with_numpy_rows_appends_them_after_the_last_stamp():
    y = series()
    stamped = cyclenet(y.iloc[:50])
    stamped.update(y.iloc[50:].to_numpy(), update_params=False)
    assert stamped.cutoff[0] == y.index[-1]
    np.testing.assert_array_equal(stamped._y.iloc[:, 0].to_numpy(), y.to_numpy())
    assert isinstance(stamped.predict(), np.ndarray)  # sktime answers in the container it saw last
    numbered = cyclenet(y.to_numpy()[:50])
    numbered.update(y.to_numpy()[50:], update_params=False)
    assert numbered.cutoff[0] == 59  # sktime alone would number the new rows 0, 1, ... over the first ones
    np.testing.assert_array_equal(numbered._y.iloc[:, 0].to_numpy(), y.to_numpy())


def test_panel_update_refuses_a_new_series_but_takes_some_of_the_known_ones():
    y = panel({"s0": series(40), "s1": series(40)})
    est = cyclenet(y)
    before = state(est)
    later = HOURS[40:60]
    with pytest.raises(InputError, match=r"series \['s2'\] that the forecaster was not fitted on"):
        est.update(panel({"s2": series(index=later)}), update_params=False)
    assert_unchanged(est, before)
    with pytest.raises(InputError, match="fitted on a panel"):
        est.update(series(index=later[:2]), update_params=False)
    est.update(panel({"s1": series(index=later[:1])}), update_params=False)
    assert est.predict().loc["s1"].index[0] == later[1]


@pytest.mark.parametrize("update_params", [False, True])
def test_an_update_of_some_series_keeps_the_latest_cutoff(update_params):
    # sktime set the cutoff from the update's rows alone: a series that ends earlier moved it back
    y = panel({"s0": series(40), "s1": series(30)})
    est = cyclenet(y)
    assert est.cutoff[0] == HOURS[39]
    est.update(panel({"s1": series(index=HOURS[30:32])}), update_params=update_params)
    assert est.cutoff[0] == HOURS[39]
    assert est.predict().loc["s1"].index[0] == HOURS[32] and est.predict().loc["s0"].index[0] == HOURS[40]


UNSORTED_IDS = ["b", "a", "c10", "c2"]  # not in sorted order: sktime's store of new rows sorts them


def unsorted_panel() -> pd.DataFrame:
    return panel({key: series(60, scale=1.0 + i) for i, key in enumerate(UNSORTED_IDS)})


@pytest.mark.parametrize("update_params", [False, True])
def test_update_keeps_the_series_in_the_fitted_order(update_params):
    full = unsorted_panel()
    first, later = full.groupby(level=0, sort=False).head(50), full.groupby(level=0, sort=False).tail(10)
    est = cyclenet(first)
    # the same windows in the same order as a fit on the whole panel: the same model
    expected = cyclenet(full).predict() if update_params else est.predict(fh=[1, 2], y=full)
    est.update(later, update_params=update_params)
    assert list(est._y.index.get_level_values(0).unique()) == UNSORTED_IDS
    pd.testing.assert_frame_equal(est.predict(), expected)


@pytest.mark.parametrize("layout", ["runs", "interleaved"])
def test_the_stored_order_is_each_series_first_appearance(layout):
    from tsrec.estimators._updates import in_stored_order

    stored = unsorted_panel().groupby(level=0, sort=False).head(50)
    if layout == "interleaved":  # rows by time, series alternating
        stored = stored.iloc[np.argsort(np.tile(np.arange(50), 4), kind="stable")]
    merged = unsorted_panel().sort_index()  # as sktime stores stored rows and new ones
    kept = in_stored_order(stored, merged)
    assert list(kept.index.get_level_values(0).unique()) == UNSORTED_IDS
    pd.testing.assert_frame_equal(kept.sort_index(), merged)  # the same rows, each series' in time order
    assert all(part.index.get_level_values(1).is_monotonic_increasing for _, part in kept.groupby(level=0))


def test_a_loaded_forecaster_refuses_to_refit_on_its_saved_context(tmp_path):
    y = series()
    est = cyclenet(y.iloc[:50])
    est.save(tmp_path / "model")
    loaded = tsrec.load(tmp_path / "model")
    with pytest.raises(InputError, match=r"restored by tsrec.load\(\).*update_params=False"):
        loaded.update(y.iloc[50:])
    assert list(loaded.cutoff) == list(est.cutoff)
    # update_params=False moves the cutoff and keeps the weights, as on the original
    loaded.update(y.iloc[50:], update_params=False)
    est.update(y.iloc[50:], update_params=False)
    np.testing.assert_array_equal(loaded.predict().to_numpy(), est.predict().to_numpy())
    loaded.fit(y, fh=[1, 2])  # a fit brings back the full data: updates may refit again
    loaded.update(series(index=HOURS[60:61]))


def test_an_array_fitted_model_takes_named_update_rows_as_its_numbered_columns():
    values = np.random.default_rng(0).normal(size=(40, 2))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(values[:30])
    est.update(pd.DataFrame(values[30:], columns=["a", "b"], index=pd.RangeIndex(30, 40)), update_params=False)
    assert list(est._y.columns) == [0, 1] and est._y.shape == (40, 2)
    assert est.predict(fh=[1]).shape == (1, 2)


@pytest.mark.parametrize("empty", [None, series(0), np.empty((0, 1))], ids=["None", "empty Series", "empty array"])
def test_an_empty_update_warns_and_changes_nothing_as_in_sktime(empty):
    est = cyclenet(series())
    before = state(est)
    with pytest.warns(UserWarning, match="empty y passed to update"):
        est.update(empty)
    assert_unchanged(est, before)
    with pytest.warns(UserWarning, match="empty y passed to update_predict"):
        forecast = est.update_predict_single(empty)
    np.testing.assert_array_equal(forecast.to_numpy(), before[2])
    assert_unchanged(est, before)


@pytest.mark.parametrize("empty", ["numpy3D", "df-list"])
def test_an_empty_panel_update_warns_and_changes_nothing(empty):
    # their len() counts series: sktime took them for rows, and update failed with fit's "y is empty"
    panel = np.stack([series().to_numpy()[None], series().to_numpy()[None] + 1])  # (2 series, 1 variate, time)
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(panel)
    forecast = est.predict(fh=[1, 2])
    rows = np.empty((2, 1, 0)) if empty == "numpy3D" else [pd.DataFrame({0: []}), pd.DataFrame({0: []})]
    with pytest.warns(UserWarning, match="empty y passed to update"):
        est.update(rows)
    np.testing.assert_array_equal(est.predict(fh=[1, 2]), forecast)
    with pytest.warns(UserWarning, match="empty y passed to update_predict"):
        np.testing.assert_array_equal(est.update_predict_single(rows, fh=[1, 2]), forecast)


def test_forecasters_refuse_sktimes_remember_data_false_which_would_drop_the_data_they_forecast_from():
    assert CycleNetForecaster().get_config()["remember_data"] is True  # whatever sktime's default
    est = CycleNetForecaster(cycle_length=4, **TINY).set_config(remember_data=False)
    with pytest.raises(ValueError, match=r"remember_data=False.*set_config\(remember_data=True\)"):
        est.fit(series(), fh=[1, 2])
    fitted = cyclenet(series())
    before = state(fitted)
    fitted.set_config(remember_data=False)
    with pytest.raises(ValueError, match="remember_data=False"):
        fitted.update(series(70).iloc[60:], update_params=False)
    assert_unchanged(fitted, before)


@pytest.mark.parametrize("value", ["False", "no", 0.0])
def test_update_params_that_is_no_bool_is_refused_before_anything_changes(value):
    # "False" read as True: the weights the caller meant to keep were refitted
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(series(40))
    weights = [p.detach().clone() for p in est.network_.parameters()]
    with pytest.raises(ValueError, match=rf"update_params must be True or False, got {value!r}"):
        est.update(series(60).iloc[40:], update_params=value)
    with pytest.raises(ValueError, match="reset_forecaster must be True or False"):
        est.update_predict(series(60).iloc[40:], update_params=False, reset_forecaster="no")
    assert est.cutoff[0] == HOURS[39] and all(torch.equal(a, b) for a, b in zip(weights, est.network_.parameters()))


def test_update_rows_of_another_period_frequency_are_told_to_be_resampled():
    y = pd.Series(np.sin(np.arange(48) / 3.0), index=pd.period_range("2018-01", periods=48, freq="M"), name="y")
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y)
    quarters = pd.Series([0.1, 0.2], index=pd.period_range("2022-01", periods=2, freq="Q"))
    with pytest.raises(InputError, match=r"the new rows of y are periods of 'Q-DEC' but the fitted data of 'M'; "
                                         r"resample them to the fitted step"):
        est.update(quarters, update_params=False)
