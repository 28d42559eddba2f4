"""``loss`` and ``huber_delta``: the point loss a forecaster trains and validates on.

The defining behaviour: outliers in the training windows pull a fit on the mean absolute error, or
on Huber's loss with a small threshold, far less than one on the mean squared error.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch

import tsrec
from tsrec.estimators import ARNetForecaster, LS4Forecaster, SpaceTimeForecaster
from tsrec.estimators._losses import POINT_LOSSES, StandardisedRows, elementwise_losses, forecast_loss, point_loss
from tsrec.registry import all_estimators

#: the forecasters trained on their paper's own criterion (SpaceTime's RMSE terms, LS4's ELBO)
OWN_CRITERION = {SpaceTimeForecaster, LS4Forecaster}


def noisy_wave_with_outliers(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A daily-cycle sine with noise of 0.3, 1% of its ``n`` training rows moved by +-20; 300 clean
    rows after them, and the sine alone over those."""
    rng = np.random.default_rng(seed)
    wave = np.sin(2 * np.pi * np.arange(n + 300) / 24)
    noisy = wave + 0.3 * rng.standard_normal(len(wave))
    y = noisy[:n].copy()
    rows = rng.choice(n, n // 100, replace=False)
    y[rows] += rng.choice([-1.0, 1.0], len(rows)) * 20
    return y, noisy[n:], wave[n:]


def window_error(y: np.ndarray, test: np.ndarray, wave: np.ndarray, **params) -> tuple[float, np.ndarray]:
    """The RMSE against the sine of every 24-step forecast from the clean rows, and the forecasts."""
    est = ARNetForecaster(n_lags=24, horizon=24, max_epochs=20, random_state=0, scaling="global", **params).fit(y)
    forecasts = est.forecast_windows(test)[..., 0]
    targets = np.stack([wave[start + 24:start + 48] for start in range(len(forecasts))])
    return float(np.sqrt(np.mean((forecasts - targets) ** 2))), forecasts


def test_outliers_in_the_training_windows_pull_absolute_and_huber_fits_far_less():
    data = noisy_wave_with_outliers()
    mse, _ = window_error(*data)
    mae, _ = window_error(*data, loss="mae")
    huber, _ = window_error(*data, loss="huber", huber_delta=0.1)
    # measured: 0.31, 0.195, 0.196 (0.22 to 0.33, 0.16 to 0.22, 0.17 to 0.23 over seeds 0 to 3)
    assert mae < 0.75 * mse and huber < 0.75 * mse


def test_huber_with_a_far_threshold_trains_as_the_mean_squared_error():
    # every error within the threshold: half the squared error, which Adam's step does not see
    data = noisy_wave_with_outliers(n=300)
    _, mse = window_error(*data)
    _, far = window_error(*data, loss="huber", huber_delta=1e6)
    _, near = window_error(*data, loss="huber", huber_delta=0.1)
    np.testing.assert_allclose(far, mse, rtol=1e-4, atol=1e-5)
    assert np.abs(near - mse).max() > 0.05


@pytest.mark.parametrize("loss", POINT_LOSSES)
def test_the_torch_losses_are_their_float64_specification(loss):
    rng = np.random.default_rng(0)
    forecast, target = rng.normal(size=(2, 64, 6, 2)) * 3
    expected = elementwise_losses(loss, forecast - target, delta=0.7).mean()
    got = point_loss(loss, torch.tensor(forecast), torch.tensor(target), delta=0.7)
    assert got.item() == pytest.approx(expected, rel=1e-12)


def test_the_specification_of_each_loss():
    errors = np.array([-3.0, -0.5, 0.0, 0.25, 2.0])
    np.testing.assert_array_equal(elementwise_losses("mse", errors), errors**2)
    np.testing.assert_array_equal(elementwise_losses("mae", errors), np.abs(errors))
    # squared (halved) within the threshold, linear beyond, meeting at it with the same slope
    np.testing.assert_array_equal(elementwise_losses("huber", errors, delta=1.0), [2.5, 0.125, 0.0, 0.03125, 1.5])
    np.testing.assert_array_equal(elementwise_losses("huber", errors, delta=0.5), [1.375, 0.125, 0.0, 0.03125, 0.875])


def test_a_far_error_pulls_the_huber_loss_no_harder_than_an_error_of_the_threshold():
    forecast = torch.tensor([0.0, 0.0, 0.0], dtype=torch.float64, requires_grad=True)
    point_loss("huber", forecast, torch.tensor([0.3, 1e6, -1e6], dtype=torch.float64), delta=0.3).backward()
    np.testing.assert_allclose(forecast.grad.numpy() * 3, [-0.3, -0.3, 0.3])


class _Identity(torch.nn.Module):
    uses_position = False

    def forward(self, x):
        return x[:, :2]


def test_each_windows_loss_is_the_chosen_one():
    x = torch.tensor([[[0.0], [0.0]], [[0.0], [0.0]]])
    y = torch.tensor([[[2.0], [0.5]], [[-2.0], [0.0]]])
    batch = (x, y, None)
    assert forecast_loss(_Identity(), batch)[0].item() == pytest.approx((4 + 0.25 + 4) / 4)
    assert forecast_loss(_Identity(), batch, "mae")[0].item() == pytest.approx(4.5 / 4)
    assert forecast_loss(_Identity(), batch, "huber", 1.0) == (pytest.approx((1.5 + 0.125 + 1.5) / 4), 2)


def test_a_fit_trains_and_validates_on_its_loss(monkeypatch):
    from tsrec.estimators import _engine

    seen = []
    original = _engine.TrainingModule.__init__

    def spy(self, network, loss_fn, *args, **kwargs):
        seen.append(loss_fn.keywords)
        original(self, network, loss_fn, *args, **kwargs)

    monkeypatch.setattr(_engine.TrainingModule, "__init__", spy)
    y = np.sin(np.arange(120) / 4.0)
    ARNetForecaster(n_lags=8, max_epochs=1, loss="huber", huber_delta=0.25, val_size=0.2).fit(y)
    ARNetForecaster(n_lags=8, max_epochs=1).fit(y)
    assert seen == [{"loss": "huber", "delta": 0.25}, {"loss": "mse", "delta": 1.0}]


def test_the_trivial_loss_a_fit_is_judged_by_is_in_its_loss():
    rows = StandardisedRows((np.array([[3.0], [-1.0]]), np.array([[0.5, 0.0]])), "standard")
    assert ARNetForecaster()._trivial_loss(rows)[0] == 1.0  # a standard scaler's mean square
    assert ARNetForecaster(loss="mae")._trivial_loss(rows)[0] == pytest.approx(4.5 / 4)
    huber = ARNetForecaster(loss="huber", huber_delta=1.0)._trivial_loss(rows)[0]
    assert huber == pytest.approx((2.5 + 0.5 + 0.125 + 0.0) / 4)


def test_a_diverged_mae_fit_is_still_told():
    y = np.sin(np.arange(200) / 4.0)  # standardised, a sine's mean absolute value is 2 sqrt(2) / pi
    with pytest.warns(RuntimeWarning, match=r"over 10 times the 0\.90\d of forecasting the training mean"):
        ARNetForecaster(n_lags=8, max_epochs=2, lr=1e4, random_state=0, loss="mae").fit(y)


@pytest.mark.parametrize("params, message", [
    ({"loss": "l1"}, r"loss must be one of \('mse', 'mae', 'huber'\), got 'l1'"),
    ({"loss": None}, r"loss must be one of"),
    ({"loss": "huber", "huber_delta": 0}, r"huber_delta must be a finite number > 0.0, got 0 \(in the series' "),
    ({"loss": "huber", "huber_delta": float("inf")}, r"huber_delta must be a finite number > 0"),
    ({"huber_delta": "1"}, r"huber_delta must be a finite number > 0"),
])
def test_a_bad_loss_is_refused_before_the_data_is_read(params, message):
    with pytest.raises(ValueError, match=message):
        ARNetForecaster(**params).fit(np.array([np.nan]))  # the data alone would be refused too


def test_a_threshold_without_huber_is_named_unused():
    y = np.sin(np.arange(120) / 4.0)
    with pytest.warns(UserWarning, match=r"huber_delta=0\.5 has no effect with loss='mae'; set loss='huber'"):
        ARNetForecaster(n_lags=8, max_epochs=1, loss="mae", huber_delta=0.5).fit(y)


def test_every_forecaster_without_its_own_criterion_takes_a_loss():
    forecasters = {cls for _, cls in all_estimators("forecaster")}
    assert len(forecasters) >= 8
    for cls in forecasters - OWN_CRITERION:
        params = cls().get_params()
        assert (params["loss"], params["huber_delta"]) == ("mse", 1.0), cls.__name__
    for cls in OWN_CRITERION:
        assert "loss" not in cls().get_params()


@pytest.mark.parametrize("name", sorted(name for name, cls in all_estimators("forecaster") if cls not in OWN_CRITERION))
def test_every_such_forecaster_fits_on_each_loss(name):
    cls = dict(all_estimators("forecaster"))[name]
    y = np.sin(np.arange(160) / 4.0)
    params = cls.get_test_params()[0]
    forecasts = {}
    for loss in POINT_LOSSES:
        est = cls(**{**params, "loss": loss, "huber_delta": 0.5 if loss == "huber" else 1.0, "random_state": 0})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # one epoch may end far from the baseline
            forecasts[loss] = np.asarray(est.fit(y).predict(fh=[1, 2])).ravel()
        assert np.isfinite(forecasts[loss]).all() and np.isfinite(est.history_["train_loss"]).all()
    assert not np.array_equal(forecasts["mse"], forecasts["mae"])  # the loss reached the training


def test_save_load_and_pickle_keep_the_loss(tmp_path):
    y = np.sin(np.arange(160) / 4.0)
    est = ARNetForecaster(n_lags=8, max_epochs=2, loss="huber", huber_delta=0.3, random_state=0).fit(y)
    for back in (tsrec.load(est.save(tmp_path / "m")), pickle.loads(pickle.dumps(est))):
        assert (back.loss, back.huber_delta) == ("huber", 0.3)
        np.testing.assert_array_equal(back.predict(fh=[1, 2]), est.predict(fh=[1, 2]))
    old = pickle.loads(pickle.dumps(est))
    del old.__dict__["loss"], old.__dict__["huber_delta"]  # pickled before the loss could be chosen
    back = pickle.loads(pickle.dumps(old))
    assert (back.loss, back.huber_delta) == ("mse", 1.0)
