"""Learning-rate schedules run each epoch at the rate the models' reference repositories use.

Those repositories call ``adjust_learning_rate(optimizer, epoch + 1, args)`` after each epoch: the
rate computed for 1-based epoch k trains epoch k + 1. ``reference_rates`` replays that loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lightning.pytorch.callbacks import Callback
import torch
from sklearn.base import ClassifierMixin

from tsrec.estimators import (ARNetForecaster, CycleNetForecaster, LS4Forecaster, PGNForecaster, SMambaForecaster,
                              SpaceTimeClassifier, SpaceTimeForecaster)
from tsrec.estimators._engine import extra_callbacks
from tsrec.estimators._schedules import step_decay, type1_schedule, type3_schedule, type4_schedule

RULES = {  # the repositories' adjust_learning_rate rules, factor for 1-based epoch k
    "type1": lambda k: 0.5 ** ((k - 1) // 1),  # S-Mamba
    "type3": lambda k: 1.0 if k < 3 else 0.8 ** ((k - 3) // 1),  # CycleNet
    "type4": lambda k: 0.9 ** ((k - 1) // 1),  # TPGN
}


def reference_rates(rule, epochs: int) -> list[float]:
    rates, current = [], 1.0
    for epoch in range(epochs):
        rates.append(current)
        current = rule(epoch + 1)  # set after the epoch, used by the next one
    return rates


@pytest.mark.parametrize("name,schedule", [("type1", type1_schedule), ("type3", type3_schedule),
                                           ("type4", type4_schedule)])
def test_schedule_matches_the_reference_training_loop(name, schedule):
    expected = reference_rates(RULES[name], 12)
    assert [schedule(e) for e in range(12)] == pytest.approx(expected, rel=1e-12)


def test_cyclenet_runs_four_epochs_at_the_full_rate():
    assert [type3_schedule(e) for e in range(6)] == pytest.approx([1, 1, 1, 1, 0.8, 0.64])


def test_arnet_step_lr_decays_from_the_second_epoch():
    # torch's StepLR(step_size=1, gamma=0.9) stepped after each epoch, as in AR-Net v0.1
    assert [step_decay(e) for e in range(4)] == pytest.approx([1, 0.9, 0.81, 0.729])


class RateRecorder(Callback):
    def __init__(self) -> None:
        self.rates: list[float] = []
        self.optimizer_types: list[type] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.rates.append(trainer.optimizers[0].param_groups[0]["lr"])
        self.optimizer_types.append(type(trainer.optimizers[0]))


@pytest.mark.parametrize("estimator,schedule", [
    (SMambaForecaster(lookback=8, horizon=2, d_model=8, d_ff=8, lr=0.01), type1_schedule),
    (CycleNetForecaster(lookback=8, horizon=2, cycle_length=4, lr=0.01), type3_schedule),
    (PGNForecaster(lookback=8, horizon=4, period=4, hidden=2, lr=0.01), type4_schedule),
    (ARNetForecaster(n_lags=4, lr=0.01), step_decay),
])
def test_each_estimator_trains_at_its_schedule(estimator, schedule):
    y = pd.Series(np.sin(np.arange(120) / 3.0), index=pd.date_range("2024-01-01", periods=120, freq="h"))
    recorder = RateRecorder()
    with extra_callbacks([recorder]):
        estimator.set_params(max_epochs=6, patience=10, val_size=0.0, random_state=0).fit(y)
    assert recorder.rates == pytest.approx([0.01 * schedule(e) for e in range(6)], rel=1e-9)


@pytest.mark.parametrize("estimator,optimizer", [
    (SpaceTimeForecaster(lookback=4, horizon=2, width=4, n_kernels=2, kernel_dim=3), torch.optim.AdamW),
    (SpaceTimeClassifier(width=4, n_kernels=2, kernel_dim=3), torch.optim.AdamW),
    (LS4Forecaster(lookback=4, horizon=2, z_dim=2, d_model=4, d_state=4, n_layers=1), torch.optim.AdamW),
    (CycleNetForecaster(lookback=8, horizon=2, cycle_length=4), torch.optim.Adam),
])
def test_each_estimator_trains_with_its_papers_optimiser(estimator, optimizer):
    # SpaceTime's code defaults to AdamW (decoupled weight decay, 1e-4 in its ETT commands) and
    # LS4's configs use AdamW; the other papers' code uses Adam
    rng = np.random.default_rng(0)
    recorder = RateRecorder()
    with extra_callbacks([recorder]):
        if isinstance(estimator, ClassifierMixin):
            estimator.set_params(max_epochs=1, random_state=0).fit(rng.normal(size=(8, 12)), np.arange(8) % 2)
        else:
            y = pd.Series(np.sin(np.arange(200) / 3.0), index=pd.date_range("2024-01-01", periods=200, freq="h"))
            estimator.set_params(max_epochs=1, random_state=0).fit(y)
    assert recorder.optimizer_types == [optimizer]
