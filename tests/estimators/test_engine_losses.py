"""What a fit's training loop records: float64 data under precision="64-true", each minibatch as a
step for a user's callback or logger, the best validation loss, and each epoch's training loss."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from tsrec.estimators import ARNetForecaster, CycleNetForecaster, PGNClassifier
from tsrec.estimators._batches import BatchGroup

SMALL = dict(lookback=24, horizon=6, cycle_length=10, max_epochs=2, val_size=0.2, random_state=0)


def _series(n: int = 200) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.sin(np.arange(n) / 5.0) + 0.1 * rng.standard_normal(n)



class FirstBatch(Callback):
    """Keep the inputs of the first training batch (one minibatch: a user's per-batch hook turns groups off)."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if not hasattr(self, "x"):
            assert not isinstance(batch, BatchGroup)
            self.x = batch[0]


@pytest.mark.parametrize("grouped", [True, False])
def test_64_true_trains_on_the_data_in_float64(monkeypatch, grouped):
    # the windows were held in float32 and promoted: every value rounded to float32 first; grouped
    # minibatches are cast by tsrec (Lightning casts a step's batch, not a group's), the others by Lightning
    from tsrec.estimators._engine import TrainingModule

    inputs, loss = [], TrainingModule._minibatch_loss
    monkeypatch.setattr(TrainingModule, "_minibatch_loss", lambda self, batch, *args: inputs.append(batch[0])
                        or loss(self, batch, *args))
    X, y = np.random.default_rng(0).standard_normal((20, 12)), np.repeat([0, 1], 10)
    for est, data in ((CycleNetForecaster(**SMALL), (_series(),)), (PGNClassifier(max_epochs=1), (X, y))):
        seen = FirstBatch()
        est.set_params(precision="64-true", trainer_kwargs={"callbacks": [] if grouped else [seen]}).fit(*data)
        x = inputs[0]
        assert x.dtype == torch.float64 and not torch.equal(x, x.float().double())
        assert grouped or x is seen.x
        inputs.clear()


def test_a_users_per_batch_callback_or_logger_sees_each_minibatch_as_a_step(tmp_path):
    # grouped, Lightning's per-batch hooks saw 8 minibatches as one step: a callback's `x, y, pos = batch`
    # failed, and a logger's step axis and a progress bar counted groups
    from lightning.pytorch.loggers import CSVLogger

    class Count(Callback):
        calls = 0

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            x, y, position = batch
            self.calls, self.per_epoch = self.calls + 1, trainer.num_training_batches

    count = Count()
    est = ARNetForecaster(n_lags=8, horizon=2, max_epochs=2, batch_size=16, val_size=0, patience=None,
                          trainer_kwargs={"callbacks": [count]}).fit(_series(200))
    assert count.per_epoch > 8 and count.calls == 2 * count.per_epoch and est.history_["epochs"] == 2
    logged = ARNetForecaster(n_lags=8, horizon=2, max_epochs=2, batch_size=16, val_size=0, patience=None,
                             trainer_kwargs={"logger": CSVLogger(tmp_path), "log_every_n_steps": 1}).fit(_series(200))
    steps = pd.read_csv(next(tmp_path.rglob("metrics.csv")))["step"].dropna()
    assert steps.max() == 2 * count.per_epoch - 1 and logged.history_["epochs"] == 2


def test_best_val_loss_is_the_best_epochs_loss_not_its_float32_log():
    # LS4's validation loss is a mean over several batches that float32 cannot hold; Lightning's
    # log of the loss (which the checkpoint ranks) is float32, the history keeps the loss itself
    from tsrec.estimators import LS4Forecaster

    est = LS4Forecaster(lookback=8, horizon=2, z_dim=2, d_model=4, d_state=4, n_layers=1, max_epochs=3,
                        random_state=0).fit(_series(400))
    history = est.history_
    assert any(float(np.float32(loss)) != loss for loss in history["val_loss"])
    assert history["best_val_loss"] == min(history["val_loss"])


def test_unrounded_score_takes_the_first_epoch_that_rounds_to_the_score():
    from tsrec.estimators._trainer import unrounded_score

    history = [0.5, 0.25 + 1e-12, 0.25 + 2e-12, 0.125 + 1e-12]
    assert unrounded_score(float(np.float32(0.25)), history) == 0.25 + 1e-12  # the checkpoint's epoch
    assert unrounded_score(0.3, history) == 0.3  # rounds to no epoch: unchanged
    assert np.isnan(unrounded_score(float("nan"), history))


class BatchLosses(Callback):
    """Each epoch's loss, recomputed here from every training minibatch before the step that takes it
    (a reference for ``history_["train_loss"]``: the windows' mean of the loss minimised)."""

    def __init__(self) -> None:
        self.epochs: list[list[tuple[float, int]]] = []
        self.logged = None

    def on_train_epoch_start(self, trainer, pl_module):
        self.epochs.append([])

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        # on one CPU tsrec hands Lightning groups of minibatches (read here, they are kept for the step); the
        # test keeps the weights still (a tiny lr), so that every minibatch of a group meets the weights seen here
        with torch.no_grad():
            for minibatch in batch if pl_module.grouping else [batch]:
                loss, count = pl_module.loss_fn(pl_module.network, minibatch)
                self.epochs[-1].append((float(loss), count))

    def on_train_end(self, trainer, pl_module):
        self.logged = float(trainer.callback_metrics["train_loss"])


@pytest.mark.parametrize(("lr", "extra"), [(1e-12, {}), (1e-2, {"gradient_clip_val": 1e9})],
                         ids=["grouped-minibatches", "lightning-automatic-loop"])
def test_history_holds_each_epochs_training_loss_as_the_mean_over_its_windows(lr, extra):
    reference = BatchLosses()
    # 3 epochs of 2 batches of 16 windows (a last partial batch is dropped)
    est = CycleNetForecaster(lookback=24, horizon=6, cycle_length=10, max_epochs=3, val_size=0.2, batch_size=16, lr=lr,
                             random_state=0, trainer_kwargs={"callbacks": [reference], **extra}).fit(_series(80))
    history = est.history_
    assert len(history["train_loss"]) == len(history["val_loss"]) == history["epochs"] == 3
    assert [[n for _, n in epoch] for epoch in reference.epochs] == [[16, 16]] * 3
    expected = [sum(loss * n for loss, n in epoch) / sum(n for _, n in epoch) for epoch in reference.epochs]
    np.testing.assert_allclose(history["train_loss"], expected, rtol=1e-6)
    if lr > 1e-6:
        assert history["train_loss"][-1] < history["train_loss"][0]  # it learns
    # also logged, for loggers and callbacks (the progress bar shows it with verbose=True)
    assert reference.logged == pytest.approx(history["train_loss"][-1], rel=1e-6)


def test_the_training_loss_weights_a_short_last_batch_by_its_windows():
    # classifiers keep a last partial batch: 10 samples in batches of 4, 4 and 2
    reference = BatchLosses()
    X = np.random.default_rng(0).normal(size=(10, 1, 12))
    y = np.array([0, 1] * 5)
    clf = PGNClassifier(max_epochs=2, batch_size=4, lr=1e-12, dropout=0.0, random_state=0,
                        trainer_kwargs={"callbacks": [reference]}).fit(X, y)
    assert sorted(n for _, n in reference.epochs[0]) == [2, 4, 4]
    expected = [sum(loss * n for loss, n in epoch) / sum(n for _, n in epoch) for epoch in reference.epochs]
    batch_means = [np.mean([loss for loss, _ in epoch]) for epoch in reference.epochs]
    np.testing.assert_allclose(clf.history_["train_loss"], expected, rtol=1e-6)
    assert not np.allclose(expected, batch_means, rtol=1e-6)  # the weighting shows
    assert clf.history_["val_loss"] == [] and clf.history_["best_val_loss"] is None


class ValidationBatchLosses(Callback):
    """Each validation minibatch's mean loss and window count, epoch by epoch."""

    def __init__(self):
        self.epochs: list[list[tuple[float, int]]] = []

    def on_validation_epoch_start(self, trainer, pl_module):
        self.epochs.append([])

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        with torch.no_grad():
            for minibatch in batch if pl_module.val_grouped else [batch]:
                loss, count = pl_module.loss_fn(pl_module.network, minibatch)
                self.epochs[-1].append((float(loss), count))


def test_history_holds_each_epochs_validation_loss_as_the_mean_over_its_windows():
    # validation keeps its last partial batch, which counts by its windows, not as one batch
    reference = ValidationBatchLosses()
    est = CycleNetForecaster(**{**SMALL, "val_size": 0.3, "batch_size": 8},
                             trainer_kwargs={"callbacks": [reference]}).fit(_series(120))
    assert [[n for _, n in epoch] for epoch in reference.epochs] == [[8, 8, 8, 7]] * 2
    expected = [sum(loss * n for loss, n in epoch) / sum(n for _, n in epoch) for epoch in reference.epochs]
    batch_means = [np.mean([loss for loss, _ in epoch]) for epoch in reference.epochs]
    np.testing.assert_allclose(est.history_["val_loss"], expected, rtol=1e-6)
    assert not np.allclose(expected, batch_means, rtol=1e-6)  # the weighting shows
