"""forecast_windows / window_targets: the data checks of predict(y=...) and their own arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster, CycleNetForecaster
from tsrec.estimators.errors import InputError

N = 60
INDEX = pd.date_range("2024-01-01", periods=N, freq="h")
FRAME = pd.DataFrame({"a": 100 + 10 * np.sin(np.arange(N) / 3.0), "b": np.cos(np.arange(N) / 5.0)}, index=INDEX)


@pytest.fixture(scope="module")
def est():
    return CycleNetForecaster(lookback=8, horizon=4, cycle_length=4, backbone="linear", max_epochs=1,
                              val_size=0.0, random_state=0).fit(FRAME)


def test_columns_selected_from_a_frame_in_another_order_are_evaluated(est):
    stored = FRAME[["b", "a"]].copy()  # e.g. read from a file that keeps another order
    selected = stored[est.columns_]  # the README's fix; its values have a negative stride
    np.testing.assert_array_equal(est.window_targets(selected), est.window_targets(FRAME))
    np.testing.assert_array_equal(est.forecast_windows(selected), est.forecast_windows(FRAME))


@pytest.mark.parametrize("columns", [["b", "a"], ["a", "c"]], ids=["swapped", "renamed"])
@pytest.mark.parametrize("method", ["forecast_windows", "window_targets"])
def test_other_variates_are_refused_as_by_predict(est, columns, method):
    other = FRAME.set_axis(columns, axis=1) if columns == ["a", "c"] else FRAME[columns]
    with pytest.raises(InputError, match=r"y has the variates .* fitted on \['a', 'b'\].*y\[est.columns_\]"):
        est.predict(fh=[1], y=other)
    with pytest.raises(InputError, match=r"y has the variates .* fitted on \['a', 'b'\].*y\[est.columns_\]"):
        getattr(est, method)(other)


@pytest.mark.parametrize("method", ["forecast_windows", "window_targets"])
def test_another_number_of_variates_is_refused(est, method):
    with pytest.raises(InputError, match=r"y has 1 variates but the forecaster was fitted on 2"):
        getattr(est, method)(FRAME[["a"]])


def test_an_array_is_taken_in_the_fitted_order():
    # a model that does not read the stamps (CycleNet's cycle phase needs them)
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(FRAME)
    np.testing.assert_array_equal(est.forecast_windows(FRAME.to_numpy()), est.forecast_windows(FRAME))


def test_windows_at_another_step_or_without_stamps_are_refused(est):
    daily = FRAME.set_axis(pd.date_range("2024-01-01", periods=N, freq="D"))
    with pytest.raises(InputError, match="y has a step of D but the fitted data a step of h"):
        est.forecast_windows(daily)
    with pytest.raises(InputError, match="y has no time stamps .* but the model was fitted on date-time stamps"):
        est.forecast_windows(FRAME.to_numpy())


def test_values_far_off_the_training_scale_are_refused(est):
    with pytest.raises(InputError, match="y's values lie too far from the training data's scale"):
        est.forecast_windows(FRAME * 1e40)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "8", True])
def test_batch_size_must_be_a_positive_integer(batch_size):
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(FRAME["b"])
    with pytest.raises(ValueError, match=f"batch_size must be an integer >= 1, got {batch_size!r}"):
        est.forecast_windows(FRAME["b"], batch_size=batch_size)
    one_by_one = est.forecast_windows(FRAME["b"], batch_size=np.int64(1))
    np.testing.assert_allclose(one_by_one, est.forecast_windows(FRAME["b"]), rtol=1e-5, atol=1e-6)  # float32 batches


def test_a_series_too_short_for_one_window_is_named_as_predict_names_it(est):
    y = pd.DataFrame(np.random.default_rng(0).normal(size=(5, 2)), columns=["a", "b"],
                     index=pd.date_range("2024-01-01", periods=5, freq="h"))
    with pytest.raises(InputError, match=r"^y has 5 rows; a window needs lookback \+ horizon"):
        est.forecast_windows(y)
    panel = pd.concat({"p": y, "q": y}, names=["id", "time"])
    with pytest.raises(InputError, match=r"^series 'p' of y has 5 rows"):
        est.forecast_windows(panel)


def test_exactly_one_window_of_rows_gives_it_and_each_windows_targets_follow_its_lookback(est):
    # lookback 8 + horizon 4: 12 rows hold one window (a `<=` refused them); window i's targets are rows
    # i + 8 to i + 11, the rows its forecast is scored against
    one = FRAME.iloc[:12]
    np.testing.assert_array_equal(est.forecast_windows(one), est.forecast_windows(FRAME)[:1])
    np.testing.assert_allclose(est.window_targets(one), FRAME.to_numpy()[None, 8:12])
    targets = est.window_targets(FRAME)
    assert targets.shape == (N - 11, 4, 2)
    np.testing.assert_allclose(targets[5], FRAME.to_numpy()[13:17])


def test_forecasts_of_many_windows_take_about_their_own_size_in_memory(est):
    # the batches are unscaled into the result, not collected and concatenated (3x its size at peak)
    import tracemalloc

    long = pd.DataFrame(np.random.default_rng(0).normal(size=(20000, 2)), columns=["a", "b"],
                        index=pd.date_range("2024-01-01", periods=20000, freq="h"))
    batched = est.forecast_windows(long, batch_size=64)
    tracemalloc.start()
    try:
        again = est.forecast_windows(long, batch_size=64)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(again, batched)
    assert peak < 1.6 * again.nbytes, (peak, again.nbytes)
    np.testing.assert_array_equal(est.forecast_windows(long.iloc[:300], batch_size=1000), batched[:289])


def test_window_cutoffs_label_each_window_of_a_series(est):
    cutoffs = est.window_cutoffs(FRAME)
    forecasts, targets = est.forecast_windows(FRAME), est.window_targets(FRAME)
    assert cutoffs.name == "cutoff" and len(cutoffs) == len(forecasts) == len(targets) == N - 8 - 4 + 1
    for i in (0, 17, len(cutoffs) - 1):
        # each window's forecast is predict's after the context that ends at its cutoff
        context = FRAME.loc[: cutoffs[i]].iloc[-8:]
        np.testing.assert_allclose(est.predict(fh=[1, 2, 3, 4], y=context).to_numpy(), forecasts[i], rtol=1e-6)
        np.testing.assert_array_equal(FRAME.loc[cutoffs[i]:].iloc[1:5].to_numpy(), targets[i])


def test_window_cutoffs_of_a_panel_name_the_series_levels():
    panel = pd.concat({"x": FRAME.iloc[:30], "y": FRAME.iloc[10:]}, names=["site", "time"])
    fitted = ARNetForecaster(n_lags=6, horizon=2, max_epochs=1, random_state=0).fit(panel)
    cutoffs = fitted.window_cutoffs(panel)
    assert list(cutoffs.names) == ["site", "cutoff"] and len(cutoffs) == len(fitted.forecast_windows(panel))
    assert (cutoffs.get_level_values("site") == "x").sum() == 30 - 6 - 2 + 1
    assert cutoffs[0] == ("x", INDEX[5]) and cutoffs[-1] == ("y", INDEX[N - 3])


def test_window_cutoffs_of_an_array_are_row_positions():
    fitted = ARNetForecaster(n_lags=6, horizon=2, max_epochs=1, random_state=0).fit(FRAME["b"].to_numpy())
    cutoffs = fitted.window_cutoffs(FRAME["b"].to_numpy())
    assert list(cutoffs) == list(range(5, N - 2))


def test_window_cutoffs_check_their_series_as_forecast_windows_does(est):
    with pytest.raises(InputError, match=r"has 11 rows; a window needs lookback \+ horizon = 12"):
        est.window_cutoffs(FRAME.iloc[:11])
