"""How the engine steps the optimiser: grouped Lightning steps and direct backward change nothing."""

from __future__ import annotations

import numpy as np
import pytest
from lightning.pytorch.callbacks import Callback

from tsrec.datasets import make_ar
from tsrec.estimators import ARNetForecaster, PGNClassifier, _engine


class CountSteps(Callback):
    """Lightning steps (batch hooks), optimiser steps and backward hooks seen during a fit."""

    def __init__(self) -> None:
        self.lightning_steps, self.optimizer_steps = 0, 0

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.optimizer_steps += 1

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.lightning_steps += 1


class CountBackward(CountSteps):
    def __init__(self) -> None:
        super().__init__()
        self.backward_calls = 0

    def on_after_backward(self, trainer, pl_module) -> None:
        self.backward_calls += 1


@pytest.fixture(scope="module")
def ar_series() -> np.ndarray:
    return make_ar((0.2, 0.3, -0.5), n_samples=1_500, noise=0.1, random_state=0)


# 1,500 rows, 300 for validation: 1,200 - (10 lags + 1 target) + 1 = 1,190 training windows,
# 18 full minibatches of 64 per epoch: not a multiple of the group size
MINIBATCHES_PER_EPOCH = 18


def fit_arnet(y: np.ndarray, **kwargs) -> ARNetForecaster:
    # the sparsity ramp reads the fractional epoch of every minibatch
    return ARNetForecaster(n_lags=10, sparsity=0.3, lambda_delay=2.0, max_epochs=3, batch_size=64,
                           val_size=0.2, patience=None, random_state=0, **kwargs).fit(y)


def test_grouped_steps_give_the_weights_of_single_steps(ar_series, monkeypatch):
    grouped = fit_arnet(ar_series)
    monkeypatch.setattr(_engine, "BATCHES_PER_STEP", 1)
    single = fit_arnet(ar_series)
    np.testing.assert_array_equal(grouped.coef_, single.coef_)
    assert grouped.history_["val_loss"] == single.history_["val_loss"]


def test_grouped_steps_keep_dropout_draws_in_order(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 1, 24)).astype(np.float32)
    y = (X[:, 0, :12].mean(axis=1) > 0).astype(int)
    params = dict(hidden=8, dropout=0.3, max_epochs=2, batch_size=8, val_size=0.2, random_state=0)
    grouped = PGNClassifier(**params).fit(X, y).predict_proba(X)
    monkeypatch.setattr(_engine, "BATCHES_PER_STEP", 1)
    single = PGNClassifier(**params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(grouped, single)


def test_each_minibatch_is_one_optimiser_step_in_groups(ar_series):
    counter = CountSteps()
    with _engine.extra_callbacks([counter]):
        fit_arnet(ar_series)
    assert counter.optimizer_steps == 3 * MINIBATCHES_PER_EPOCH
    assert counter.lightning_steps == 3 * -(-MINIBATCHES_PER_EPOCH // _engine.BATCHES_PER_STEP)


@pytest.mark.parametrize(
    "kwargs,lightning_steps,optimizer_steps",
    [
        ({"max_steps": 5}, 5, 5),
        ({"fast_dev_run": 3}, 3, 3),  # grouped, it took 8 optimiser steps and validated nothing
        ({"limit_train_batches": 4}, 3 * 4, 3 * 4),
        ({"accumulate_grad_batches": 2}, 3 * MINIBATCHES_PER_EPOCH, 3 * MINIBATCHES_PER_EPOCH // 2),
    ],
)
def test_options_that_count_steps_see_every_minibatch(ar_series, kwargs, lightning_steps, optimizer_steps):
    counter = CountSteps()
    with _engine.extra_callbacks([counter]):
        fit_arnet(ar_series, trainer_kwargs=kwargs)
    assert (counter.lightning_steps, counter.optimizer_steps) == (lightning_steps, optimizer_steps)


def test_backward_hooks_still_fire_when_a_callback_listens(ar_series):
    listener = CountBackward()
    with _engine.extra_callbacks([listener]):
        fit_arnet(ar_series)
    assert listener.backward_calls == listener.optimizer_steps > 0


def test_direct_backward_only_without_listeners():
    from tsrec.nn import ARNet

    module = _engine.TrainingModule(ARNet(n_lags=3, horizon=1), lambda network, batch: None,
                                    _engine.TrainingConfig(accelerator="cpu", devices=1))
    plain = _engine.make_trainer(module.config, [], has_val=False)
    assert _engine._backward_is_plain(module, plain)
    listening = _engine.make_trainer(module.config, [CountBackward()], has_val=False)
    assert not _engine._backward_is_plain(module, listening)
    mixed = _engine.make_trainer(_engine.TrainingConfig(accelerator="cpu", devices=1, precision="bf16-mixed"), [],
                                 has_val=False)
    assert not _engine._backward_is_plain(module, mixed)
