"""Arguments a newcomer swaps or turns: a classifier's labels given first, a forecaster's (variates,
time) array; each told what it looks like, not a fix that does not apply."""

from __future__ import annotations

import numpy as np
import pytest

from tsrec.estimators import CycleNetForecaster, InputError, PGNClassifier


def test_a_classifier_given_its_labels_first_is_told_the_order():
    # "X is 1-D ... X.reshape(1, -1)" made one sample of the labels
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 30)), np.array([0, 1] * 10)
    with pytest.raises(InputError, match=r"^X is 1-D and y is 2-D: the labels seem to come first; pass them in fit's "
                                         r"order, fit\(X, y\)$"):
        PGNClassifier(max_epochs=1).fit(y, X)
    with pytest.raises(InputError, match=r"X is 1-D but must be 2-D .*Reshape your data"):  # 1-D X alone: as before
        PGNClassifier(max_epochs=1).fit(X[0], y[:30])


@pytest.mark.filterwarnings("ignore:A column-vector y was passed:UserWarning")
def test_a_one_channel_panel_of_series_with_labels_in_one_column_is_no_swap():
    # a pd.Series of series is 1-D, as labels are: with y as a one-column frame (sktime's evaluate passes it so)
    # fit and tune said "the labels seem to come first"
    import pandas as pd

    from tsrec.tuning import tune

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 12)), np.array(["p", "q"] * 10)
    panel, column = pd.Series([pd.Series(row) for row in X]), pd.DataFrame({"label": y})
    fitted = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(panel, column)
    np.testing.assert_array_equal(fitted.predict_proba(X), PGNClassifier(hidden=4, max_epochs=1, random_state=0)
                                  .fit(X, y).predict_proba(X))
    result = tune(PGNClassifier(hidden=4, max_epochs=1, val_size=0.25), panel, column, n_trials=1,
                  space=lambda trial: {"lr": 0.01})
    assert result.best_params == {"lr": 0.01}


def test_a_forecaster_given_a_variates_by_time_array_is_told_to_transpose_it():
    y = np.random.default_rng(0).random((3, 200))
    with pytest.raises(InputError, match=r"y has 3 rows but needs at least lookback \+ horizon = 72; .*if its rows "
                                         r"are variates, pass y\.T$"):
        CycleNetForecaster(lookback=48, horizon=24, cycle_length=24, max_epochs=1).fit(y)
    with pytest.raises(InputError, match=r"y has 3 rows .*lookback/horizon$"):  # too few columns to be steps
        CycleNetForecaster(lookback=48, horizon=24, cycle_length=24, max_epochs=1).fit(y[:, :50])
    assert CycleNetForecaster(lookback=48, horizon=24, cycle_length=24, max_epochs=1).fit(y.T).n_channels_ == 3


@pytest.mark.parametrize("n_series", [1, 3])
def test_a_forecaster_given_a_darts_layout_panel_too_short_to_fit_is_told_its_transpose(n_series):
    # (series, time, variates) read as (series, variates, time): a panel of one series was told "pass y.T",
    # which turns it into 200 series of one step, and one of several series was told nothing
    y = np.random.default_rng(0).random((n_series, 200, 3))
    with pytest.raises(InputError, match=r"lookback \+ horizon = 72.*lookback/horizon; if it is \(series, time, "
                                         r"variates\), .* pass np\.transpose\(y, \(0, 2, 1\)\)$"):
        CycleNetForecaster(lookback=48, horizon=24, cycle_length=24, max_epochs=1).fit(y)
    fitted = CycleNetForecaster(lookback=48, horizon=24, cycle_length=24, max_epochs=1).fit(np.transpose(y, (0, 2, 1)))
    assert fitted.n_channels_ == 3
