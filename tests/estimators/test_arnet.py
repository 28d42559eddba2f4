"""AR-Net: coefficient recovery, sparsity, and its regulariser."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec.datasets import make_ar
from tsrec.estimators import ARNetForecaster
from tsrec.estimators.arnet import SparsityRamp
from tsrec.nn.arnet import sparsity_lambda, sparsity_penalty

TRUE = np.array([0.2, 0.3, -0.5])


def test_recovers_sparse_ar3_from_ten_lags():
    y = make_ar(tuple(TRUE), n_samples=10_000, noise=0.1, random_state=0)
    est = ARNetForecaster(n_lags=10, sparsity=0.3, random_state=0).fit(y)
    coef = est.coef_
    assert coef.shape == (10,)
    np.testing.assert_allclose(coef[:3], TRUE, atol=0.05)
    assert np.abs(coef[3:]).max() < 0.02, coef


def test_defaults_reach_the_least_squares_coefficients_on_a_short_series():
    # the learning rate falls x0.9 an epoch: at batch 128 and lr 0.003 a 1000-step series stopped
    # 0.49 away from least squares, whatever max_epochs
    y = np.asarray(make_ar(tuple(TRUE), n_samples=1000, random_state=0), dtype=float)
    z = (y - y.mean()) / y.std()
    lags = np.stack([z[2:-1], z[1:-2], z[:-3], np.ones(len(z) - 3)], axis=1)
    least_squares = np.linalg.lstsq(lags, z[3:], rcond=None)[0][:3]
    est = ARNetForecaster(n_lags=3, random_state=0).fit(y)
    np.testing.assert_allclose(est.coef_, least_squares, atol=0.03)


def test_coefficients_are_in_ar_order_lag_one_first():
    from tsrec.nn import ARNet

    net = ARNet(n_lags=3, horizon=1)
    with torch.no_grad():
        net.first_layer.weight.copy_(torch.tensor([[0.1, 0.2, 0.7]]))  # columns oldest first
        net.first_layer.bias.zero_()
    assert net.coefficients().tolist()[0] == pytest.approx([0.7, 0.2, 0.1])
    x = torch.tensor([[[1.0], [0.0], [0.0]]])  # only the oldest value (lag 3) is non-zero
    assert float(net(x)) == pytest.approx(0.1)


def test_penalty_maps_zero_to_zero_and_saturates():
    assert float(sparsity_penalty(torch.zeros(5))) == 0.0
    big = float(sparsity_penalty(torch.full((5,), 100.0)))
    assert 0.99 < big <= 1.0
    small, large = sparsity_penalty(torch.tensor([0.01])), sparsity_penalty(torch.tensor([0.5]))
    assert 0 < float(small) < float(large)


def test_lambda_rule_and_linear_ramp():
    assert sparsity_lambda(None) == 0.0 and sparsity_lambda(1.0) == 0.0
    assert sparsity_lambda(0.3) == pytest.approx(0.02 * (1 / 0.3 - 1))
    ramp = SparsityRamp(strength=1.0, delay=10)
    assert [ramp.weight(p) for p in (0, 5, 10, 20)] == [0.0, 0.5, 1.0, 1.0]
    assert SparsityRamp(strength=0.2, delay=0.0).weight(0.0) == 0.2  # no warm-up: full weight from the start



def test_the_ramp_starts_at_zero_and_meets_the_papers_weight_at_each_epoch_start(monkeypatch):
    # AR-Net's code weighs epoch e by e / lambda_delay: none in epoch 0. The ramp was a batch ahead
    # (and so reached full weight an epoch early)
    seen = []
    ramp_call = SparsityRamp.__call__
    monkeypatch.setattr(SparsityRamp, "__call__", lambda self, net, progress: seen.append(progress) or
                        ramp_call(self, net, progress))
    y = make_ar((0.5,), n_samples=203, random_state=0)  # 200 windows of 3 lags: 4 batches of 50
    ARNetForecaster(n_lags=3, sparsity=0.5, lambda_delay=2.0, max_epochs=3, batch_size=50).fit(y)
    assert seen == pytest.approx([e + i / 4 for e in range(3) for i in range(4)])
    assert SparsityRamp(strength=1.0, delay=2.0).weight(seen[0]) == 0.0


def test_coef_needs_the_linear_model():
    y = make_ar((0.5,), n_samples=500, random_state=0)
    est = ARNetForecaster(n_lags=3, hidden_layers=(4,), max_epochs=1).fit(y)
    with pytest.raises(AttributeError, match="linear"):
        _ = est.coef_


@pytest.mark.parametrize("params,match", [
    ({"sparsity": 0.0}, "sparsity"),
    ({"hidden_layers": (0,)}, "hidden_layers"),
    ({"n_lags": 0}, "n_lags"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        ARNetForecaster(max_epochs=1, **params).fit(make_ar((0.5,), n_samples=200))


def test_the_sparsity_ramp_has_the_paper_codes_shape_and_a_half_run_warm_up():
    # v0.1 (the paper's code): c1 = c2 = 3 (fastai's later default is 2); the ramp reaches full strength
    # halfway through the epochs unless lambda_delay says otherwise; reg_lambda overrides sparsity's strength
    ramp = ARNetForecaster(sparsity=0.3, max_epochs=4)._penalty()
    assert (ramp.delay, ramp.c1, ramp.c2) == (2.0, 3.0, 3.0)
    assert ARNetForecaster(sparsity=0.3, max_epochs=4, lambda_delay=1.0)._penalty().delay == 1.0
    assert ARNetForecaster(reg_lambda=0.5, sparsity=0.9)._penalty().strength == 0.5
