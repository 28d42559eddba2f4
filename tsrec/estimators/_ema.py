"""Exponential moving average of the weights, as LS4 trains (decay 0.999 from step 200).

Lightning's :class:`~lightning.pytorch.callbacks.EMAWeightAveraging` keeps the average, swaps
it in for validation and copies it into the model when training ends. Before its first update
the average holds the weights the fit *started* with, so a fit shorter than the start step
would end with untrained weights, and the validation losses before it score them. LS4's EMA
(like the common ``ema_pytorch`` one) instead follows the weights exactly until the start step;
:class:`WarmStartEMA` does that by re-copying the weights every step before it.
"""

from __future__ import annotations

from lightning.pytorch.callbacks import EMAWeightAveraging, WeightAveraging


class WarmStartEMA(EMAWeightAveraging):
    """EMA of the weights that equals the weights themselves before ``update_starting_at_step``.

    Parameters
    ----------
    decay : float
        Weight of the old average in each update, in (0, 1).
    start_step : int
        First optimiser step (zero-based) that averages; earlier steps copy.
    """

    def __init__(self, decay: float, start_step: int) -> None:
        super().__init__(decay=decay, update_starting_at_step=start_step)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # noqa: D102
        step_idx = trainer.global_step - 1
        if step_idx < self.update_starting_at_step and trainer.global_step > self._latest_update_step:
            self._average_model.n_averaged.zero_()  # an AveragedModel copies on its first update
            self._average_model.update_parameters(pl_module)
            self._latest_update_step = trainer.global_step
            return
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)


def averages_weights(callbacks: list) -> bool:
    """Whether any callback keeps a weight average (it must then see every optimiser step)."""
    return any(isinstance(c, WeightAveraging) for c in callbacks)
