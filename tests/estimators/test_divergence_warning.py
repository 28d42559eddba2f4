"""A fit that diverged without overflowing warns, measured against a trivial predictor's loss.

Before, AR-Net at lr=30 ended with a training MSE of 260 on standardised data (forecasting the
mean scores about 1) and said nothing; an overflow to NaN was already an error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tsrec.datasets import make_ar
from tsrec.estimators import ARNetForecaster, InputError, LS4Forecaster, PGNClassifier, SpaceTimeForecaster
from tsrec.estimators._divergence import DIVERGED, _advice
from tsrec.estimators._engine import TrainingConfig

SETTINGS = TrainingConfig(lr=0.1)


@pytest.fixture(scope="module")
def series() -> np.ndarray:
    return make_ar((0.5, -0.3), n_samples=400, random_state=0)


def test_a_forecaster_whose_training_loss_ends_far_above_the_mean_forecast_warns(series):
    with pytest.warns(RuntimeWarning, match=r"training ended at a training loss of ([\d.]+), over 10 times the 1 of "
                                            r"forecasting the training mean: .*lower lr \(it is 30\)") as caught:
        est = ARNetForecaster(n_lags=8, max_epochs=10, batch_size=128, lr=30.0, random_state=0).fit(series)
    last = est.history_["train_loss"][-1]
    assert last >= DIVERGED and f"{last:.4g}" in str(caught[0].message)


def test_a_sound_forecaster_fit_does_not_warn(series):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for lr in (0.003, 0.3, 3.0):  # 3.0 is erratic but ends near the mean forecast's loss
            ARNetForecaster(n_lags=8, max_epochs=10, batch_size=128, lr=lr, random_state=0).fit(series)


def test_a_classifier_far_above_the_uniform_guess_warns():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 1, 20)), np.array([0] * 20 + [1] * 20)
    X[20:] += 1.0
    with pytest.warns(RuntimeWarning, match=r"over 10 times the 0\.693 of guessing every class alike.*it is 10\)"):
        PGNClassifier(max_epochs=10, lr=10.0, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        PGNClassifier(max_epochs=10, lr=0.01, random_state=0).fit(X, y)


def test_the_uniform_guess_counts_every_class():
    # three classes: guessing each alike scores log 3 = 1.1, not the 0.693 of two
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)
    X = rng.normal(size=(30, 1, 12)) + y[:, None, None]
    with pytest.warns(RuntimeWarning, match=r"over 10 times the 1\.1 of guessing every class alike"):
        PGNClassifier(hidden=8, max_epochs=3, lr=10.0, random_state=0).fit(X, y)


def test_a_training_loss_that_ended_nan_warns():
    # NaN >= 10 is False: a fit whose weights went NaN after its best epoch (whose weights are
    # kept) said nothing
    from tsrec.estimators._divergence import warn_far_above_baseline
    from tsrec.estimators._engine import TrainingResult

    result = TrainingResult(4, [1.2, 0.9, float("nan"), float("nan")], [1.1, 0.8, float("nan"), float("nan")], 0.8, 1.0)
    with pytest.warns(RuntimeWarning, match=r"training ended at a training loss of nan, over 10 times the 1 of "
                                            r"forecasting the training mean"):
        warn_far_above_baseline(result, 1.0, "forecasting the training mean", SETTINGS)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warn_far_above_baseline(TrainingResult(2, [1.2, 0.9], [1.1, 0.8], 0.8, 1.0), 1.0, "the mean", SETTINGS)


@pytest.mark.parametrize("make, trivial", [  # losses that are not an MSE: once no warning at all
    (lambda: SpaceTimeForecaster(lookback=24, horizon=6, max_epochs=3, lr=1e3, random_state=0),
     r"the 2 of forecasting the training mean \(an RMSE of 1 a term\): .*lower lr \(it is 1000\)"),
    (lambda: LS4Forecaster(lookback=24, horizon=6, max_epochs=3, d_model=8, n_samples=4, lr=10.0, random_state=0),
     r"the 48\.6 of decoding every step as N\(0, sigma\^2\): .*lower lr \(it is 10\)"),
])
def test_forecasters_with_their_own_losses_warn_against_their_own_trivial_loss(series, make, trivial):
    with pytest.warns(RuntimeWarning, match="training ended at a training loss of .* over 10 times " + trivial):
        make().fit(series[:300], fh=[1, 2])


def test_sound_spacetime_and_ls4_fits_do_not_warn(series):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        SpaceTimeForecaster(lookback=24, horizon=6, max_epochs=1, random_state=0).fit(series[:300])
        for sigma in (0.01, 1.0):
            LS4Forecaster(lookback=24, horizon=6, max_epochs=1, d_model=8, n_samples=4, sigma=sigma,
                          random_state=0).fit(series[:300])


def test_ls4_with_instance_norm_does_not_blame_lr_for_a_step_in_the_series():
    # its loss reads each window scaled by its lookback alone: where a step of 100 lookback spreads falls in the
    # horizon, a sound fit (forecasting the new level within 0.3%) ended 40x above N(0, sigma^2)'s loss and
    # was told to lower lr
    step = np.r_[np.zeros(100), np.full(100, 10.0)] + 0.1 * np.random.default_rng(0).standard_normal(200)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = LS4Forecaster(lookback=16, horizon=4, max_epochs=5, d_model=8, d_state=4, n_layers=1, n_samples=4,
                            z_dim=4, instance_norm=True, random_state=0).fit(step)
    assert est.history_["train_loss"][-1] > 10 * 48.6  # far above the baseline that does not apply here


def test_a_divergence_with_a_huge_weight_decay_names_it(series):
    est = LS4Forecaster(lookback=24, horizon=6, max_epochs=2, d_model=8, n_samples=4, weight_decay=1e9, random_state=0)
    with pytest.raises(InputError, match=r"lower lr \(it is 0\.001\) or weight_decay \(it is 1e\+09\)"):
        est.fit(series[:300])


def test_the_advice_names_a_weight_decay_from_one():
    assert "weight_decay (it is 1)" in _advice(TrainingConfig(weight_decay=1.0))
    assert "weight_decay" not in _advice(TrainingConfig(weight_decay=0.5))  # Adam's usual values are far below


def test_an_ls4_sigma_far_below_the_data_scale_is_refused(series):
    # 1e-30 overflowed the loss's 1 / sigma^2, and the error blamed lr
    with pytest.raises(ValueError, match=r"sigma must be a finite number >= 0\.001, got 1e-30; the data are standard"):
        LS4Forecaster(sigma=1e-30, max_epochs=1).fit(series)
