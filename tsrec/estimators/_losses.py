"""The point losses a forecaster trains and validates on: ``loss="mse"``, ``"mae"`` or ``"huber"``.

The series are standardised before training, so every loss reads errors in the series' own scales
(standard deviations, or interquartile ranges over 1.349 with ``scaler="robust"``), and Huber's
threshold ``huber_delta`` (:data:`HUBER_DELTA`, one such unit, by default) is read in them: errors
within it are squared, larger ones count linearly, so a far outlier pulls the weights no harder
than an error of ``huber_delta``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from tsrec._checks import check_float
from tsrec.estimators._params import check_choice

#: the point losses: mean squared error (the papers'), mean absolute error, Huber's
POINT_LOSSES = ("mse", "mae", "huber")
#: Huber's default threshold in standardised units: neuralforecast's and PyTorch's, and the
#: smooth-L1 loss (beta = 1) of AR-Net's fastai code
HUBER_DELTA = 1.0


def check_loss(value: object) -> str:
    """``loss`` is one of :data:`POINT_LOSSES`."""
    return check_choice("loss", value, POINT_LOSSES)


def check_huber_delta(value: object) -> float:
    """``huber_delta`` is a finite number above 0."""
    return check_float("huber_delta", value, strict=True, hint=" (in the series' standardised units; 1 is usual)")


def point_loss(loss: str, forecast: torch.Tensor, target: torch.Tensor, delta: float = HUBER_DELTA) -> torch.Tensor:
    """The mean ``loss`` of ``forecast`` against ``target`` over every value (``delta``: Huber's threshold)."""
    if loss == "mae":
        return F.l1_loss(forecast, target)
    if loss == "huber":
        return F.huber_loss(forecast, target, delta=delta)
    return F.mse_loss(forecast, target)


def forecast_loss(network: torch.nn.Module, batch, loss: str = "mse", delta: float = HUBER_DELTA
                  ) -> tuple[torch.Tensor, int]:
    """The mean ``loss`` of one batch of windows' forecasts, and the number of windows in it."""
    x, y, position = batch
    forecast = network(x, position) if network.uses_position else network(x)
    return point_loss(loss, forecast, y, delta), len(x)


def elementwise_losses(loss: str, errors: np.ndarray, delta: float = HUBER_DELTA) -> np.ndarray:
    """Each value's ``loss`` for the forecast errors ``errors``, in float64: the specification
    :func:`point_loss` means."""
    errors = np.abs(np.asarray(errors, dtype=np.float64))
    if loss == "mae":
        return errors
    if loss == "huber":
        return np.where(errors <= delta, 0.5 * errors**2, delta * (errors - 0.5 * delta))
    return errors**2


@dataclass(frozen=True)
class StandardisedRows:
    """The standardised training rows of a fit (one array for each series), and the scaler that
    standardised them: what a trivial forecast's loss, the yardstick of a diverged fit, is computed from."""

    series: tuple[np.ndarray, ...]
    scaler: str

    def mean_loss(self, loss: str = "mse", delta: float = HUBER_DELTA) -> float:
        """The mean ``loss`` of forecasting 0 for every value: the training mean (or median) once standardised."""
        count = sum(values.size for values in self.series)
        if (loss == "mse" and self.scaler == "standard") or not count:
            # a standard scaler's rows have a mean square of 1 up to rounding; with no training rows, 1 is
            # the mean square of standardised data and bounds their other losses
            return 1.0
        return sum(float(elementwise_losses(loss, values, delta).sum()) for values in self.series) / count
