"""Validation that trainer_kwargs thin out or cut short: patience still counts epochs, a fit that
never validated says so, and a user's checkpoint never stands in for tsrec's best epoch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from lightning.pytorch.callbacks import ModelCheckpoint

from tsrec.estimators import ARNetForecaster
from tsrec.estimators._engine import extra_callbacks

SERIES = np.sin(np.arange(400) / 3.0) + 0.1 * np.random.RandomState(0).randn(400)
# lr ~ 0: the first validation stays the best, so early stopping ends the fit after `patience` epochs
FROZEN = dict(n_lags=8, horizon=4, val_size=0.2, lr=1e-12, max_epochs=20, random_state=0)


@pytest.mark.parametrize(("patience", "every", "epochs"), [(4, 1, 5), (4, 2, 6), (3, 2, 6)])
def test_patience_counts_epochs_when_validation_runs_every_n_epochs(patience, every, epochs):
    # patience=4 with a validation every 2 epochs waited 4 validations (8 epochs), stopping at 10;
    # patience=3 waits two validations (4 epochs), not one: a partial wait rounds up, never short of patience
    est = ARNetForecaster(patience=patience, trainer_kwargs={"check_val_every_n_epoch": every}, **FROZEN).fit(SERIES)
    assert est.history_["epochs"] == epochs
    assert len(est.history_["val_loss"]) == epochs // every


@pytest.mark.parametrize("limit", [{"check_val_every_n_epoch": 5}, {"max_steps": 3}])
def test_a_fit_that_never_validated_says_so_in_tsrecs_terms(limit):
    params = {**FROZEN, "max_epochs": 3, "patience": 2, "lr": 1e-3, "batch_size": 4}  # ~77 batches an epoch
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = ARNetForecaster(trainer_kwargs=limit, **params).fit(SERIES)
    messages = [str(w.message) for w in caught]
    assert est.history_["val_loss"] == [] and est.history_["best_val_loss"] is None
    assert any(f"before any validation ran (trainer_kwargs {sorted(limit)})" in m for m in messages), messages
    assert not any("could not find the monitored key" in m for m in messages), messages  # Lightning's hint


def test_an_epoch_that_max_steps_cuts_short_has_a_train_loss_but_no_val_loss():
    # ~77 steps an epoch: 100 steps end the second epoch a quarter through, before its validation
    params = {**FROZEN, "max_epochs": 3, "lr": 1e-3, "batch_size": 4}
    cut = ARNetForecaster(trainer_kwargs={"max_steps": 100}, **params).fit(SERIES).history_
    longer = ARNetForecaster(trainer_kwargs={"max_steps": 120}, **params).fit(SERIES).history_
    assert cut["epochs"] == 2 and len(cut["train_loss"]) == 2 and len(cut["val_loss"]) == 1
    assert cut["best_val_loss"] == cut["val_loss"][0]
    assert cut["train_loss"][0] == longer["train_loss"][0]  # the full first epoch, alike
    assert cut["train_loss"][1] != longer["train_loss"][1]  # the mean over the windows each trained


def test_a_users_checkpoint_among_extra_callbacks_neither_fails_nor_replaces_the_best_epoch(tmp_path):
    # with val_size=0 Lightning refused it ("enable_checkpointing=False but found ModelCheckpoint"),
    # blamed on the device settings; with validation, the first checkpoint found was restored
    with extra_callbacks([ModelCheckpoint(monitor="train_loss", dirpath=tmp_path / "a")]):
        ARNetForecaster(n_lags=8, max_epochs=2, val_size=0.0).fit(SERIES)
    assert list((tmp_path / "a").glob("*.ckpt"))
    user = ModelCheckpoint(monitor="train_loss", dirpath=tmp_path / "b")
    with extra_callbacks([user]):
        est = ARNetForecaster(n_lags=8, max_epochs=4, val_size=0.2, random_state=0).fit(SERIES)
    assert est.history_["best_val_loss"] == pytest.approx(min(est.history_["val_loss"]), rel=1e-12)
    assert est.history_["best_val_loss"] != pytest.approx(float(user.best_model_score), rel=1e-6)
