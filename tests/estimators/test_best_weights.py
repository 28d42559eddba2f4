"""The weights a fit keeps are its best validation epoch's, on one process as on several."""

from __future__ import annotations

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback

from tsrec.estimators import ARNetForecaster


def test_the_fitted_weights_are_the_best_epochs_not_the_last():
    # in one process the restore is the checkpoint's load_state_dict; without it the last epoch's
    # weights were kept, and only the multi-process tests noticed
    from tsrec.estimators import _engine

    class Snapshots(Callback):
        def __init__(self) -> None:
            self.weights = []

        def on_validation_epoch_end(self, trainer, pl_module) -> None:
            if not trainer.sanity_checking:
                self.weights.append({k: v.clone() for k, v in pl_module.network.state_dict().items()})

    y = np.sin(np.arange(200) / 4.0) + np.random.default_rng(0).normal(0, 0.3, 200)
    snapshots = Snapshots()
    with _engine.extra_callbacks([snapshots]):
        est = ARNetForecaster(n_lags=8, val_size=0.2, max_epochs=8, patience=20, lr=0.05, random_state=0).fit(y)
    losses = est.history_["val_loss"]
    best = int(np.argmin(losses))
    assert len(losses) == len(snapshots.weights) == 8 and best < 7  # the last epoch is not the best
    fitted = est.network_.state_dict()
    same = [all(torch.equal(fitted[k], w[k]) for k in fitted) for w in snapshots.weights]
    assert same == [epoch == best for epoch in range(8)]
    assert est.history_["best_val_loss"] == losses[best]
