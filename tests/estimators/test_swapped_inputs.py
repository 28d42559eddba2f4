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
