"""SpaceTime estimators: companion state-space layers and a closed-loop decoder (Zhang et al., 2023)."""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
import torch
from torch import nn

from tsrec._checks import check_dropout
from tsrec._warn import warn_user
from tsrec.errors import ParameterError
from tsrec.estimators._classifier import DeepClassifier
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._params import check_int
from tsrec.estimators._losses import StandardisedRows, forecast_loss
from tsrec.nn.spacetime import SpaceTime, SpaceTimeEncoder
from tsrec.registry import register

# timm CosineLRScheduler as in the paper's configs: cosine from lr to 1e-5 over 300 epochs
COSINE_EPOCHS, MIN_LR, WARMUP_LR = 300, 1e-5, 1e-6
WARMUP_EPOCHS = 10  # the paper's, and the forecaster's default


def warmup_cosine(epoch: int, lr: float, warmup_epochs: int) -> float:
    """Learning-rate factor of epoch ``epoch``: linear warm-up from 1e-6, then cosine to 1e-5 at 300.

    As timm's scheduler without warm-up prefix, the cosine is measured from epoch 0, so it
    continues where the warm-up line meets it. SpaceTime's training loop calls
    ``scheduler.step(epoch)`` *after* epoch ``epoch``, so epoch e >= 1 trains at the scheduler's
    rate for e - 1 (epochs 0 and 1 both at the first rate), as here.
    """
    epoch = max(epoch - 1, 0)
    if epoch < warmup_epochs:
        rate = WARMUP_LR + epoch * (lr - WARMUP_LR) / warmup_epochs
    elif epoch < COSINE_EPOCHS:
        rate = MIN_LR + 0.5 * (lr - MIN_LR) * (1.0 + math.cos(math.pi * epoch / COSINE_EPOCHS))
    else:
        rate = MIN_LR
    return rate / lr


def spacetime_loss(
    network: SpaceTime, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor], weights: tuple[float, float, float]
) -> tuple[torch.Tensor, int]:
    """Training: weighted sum of SpaceTime's three RMSE terms; evaluation: MSE of the closed-loop forecast.

    The early-stopping metric is therefore the forecast error alone, as the paper's validation.
    """
    if not network.training:
        return forecast_loss(network, batch)
    x, y, _ = batch
    # the official weights (1, 1, 0) leave the next-input term out: computing it cost a fifth of a step
    terms = network.loss_terms(x, y, next_input=weights[2] != 0)
    return (terms * terms.new_tensor(weights)).sum(), len(x)


def _check_weights(weights: object) -> tuple[float, float, float]:
    ok = isinstance(weights, (tuple, list)) and len(weights) == 3 and all(
        isinstance(w, numbers.Real) and not isinstance(w, bool) and 0 <= w < math.inf for w in weights
    )
    if not ok or not any(weights):
        # a tuple or list: parameters are saved as JSON, which holds no array
        fix = str(tuple(weights.tolist())) if isinstance(weights, np.ndarray) and weights.ndim == 1 else "(1, 1, 0)"
        raise ParameterError(
            "criterion_weights must be a tuple or list of three finite numbers >= 0, not all zero (closed-loop "
            f"forecast, open-loop next step, decoder next input), e.g. {fix}; got {weights!r}"
        )
    return tuple(float(w) for w in weights)


def _check_architecture(est) -> None:
    for name in ("width", "n_kernels", "kernel_dim", "n_blocks"):
        check_int(name, getattr(est, name))
    check_int("norm_order", est.norm_order, minimum=0)
    check_dropout(est.dropout)
    if est.width % est.n_kernels:
        divisors = [k for k in range(1, est.width + 1) if est.width % k == 0]
        nearest = " or ".join(map(str, sorted(sorted(divisors, key=lambda k: (abs(k - est.n_kernels), k))[:2])))
        wider = est.n_kernels * -(-est.width // est.n_kernels)  # the next multiple of n_kernels
        raise ParameterError(f"width ({est.width}) must be a multiple of n_kernels ({est.n_kernels}); use n_kernels="
                             f"{nearest}, or width={wider}")


@register("forecaster")
class SpaceTimeForecaster(DeepForecaster):
    """SpaceTime: companion state-space layers and a decoder that rolls its own state forward.

    The lookback window (minus its mean) is copied to ``width`` channels; the first encoder block
    filters them with fixed differencing and moving-average-residual kernels, then a bank of
    companion SSMs (``A`` = shift plus a learned last column, so each layer can express AR(p) and
    ARIMA-like filters) and an MLP with residuals. The decoder is a closed-loop companion SSM: it
    consumes the encoded window into a state ``s``, predicts its own next input ``u = k^T x``
    and so forecasts ``c^T (A + b k^T)^i s`` for ``i < horizon`` without reading further input.
    Training minimises the weighted RMSE of the closed-loop forecast and of the same layer's
    next-step (open-loop) predictions over the lookback; a third term, the decoder's predicted
    inputs, has weight 0 by default, as in the official training step (``criterion_weights``).

    Variates are modelled independently: each one is a separate univariate sample through the
    shared network (the paper's runs are univariate; its code fails on several variates).

    Parameters
    ----------
    lookback : int, default=336
    horizon : int, default=96
        Steps of the training target. Forecasts past it continue the decoder's closed loop
        (its state keeps rolling; nothing is fed back in as an input).
    width : int, default=128
        Channels of the encoder and the decoder (the paper's 128).
    n_kernels : int, default=16
        Distinct SSMs of the first encoder block, each shared by ``width // n_kernels`` channels.
    kernel_dim : int, default=64
        State size of every companion SSM.
    n_blocks : int, default=1
        Encoder blocks (later blocks have one SSM per channel and no fixed pre-processing).
    dropout : float, default=0.25
        Dropout on the outputs of the encoder MLPs and of the output head (the official placement).
    norm_order : int, default=1
        The encoder's ``a`` and the decoder's ``a, b, c, k`` are divided by their norm of this order
        (0: none). Order 1 keeps the roots of every ``A`` in the unit disc, so the encoder's kernels
        stay bounded; the decoder rolls ``A + b k^T`` over the horizon, which the separate norms do
        not bound (at ``kernel_dim=8``, 2% of freshly drawn channels grow; none at 64). With 0 the
        standard normal start of ``a`` has roots outside the unit disc, so the kernels grow
        exponentially and overflow within a few dozen steps (the official code accepts 0 too):
        use it only with weights of your own.
    criterion_weights : tuple of 3 floats, default=(1.0, 1.0, 0.0)
        Weights of the closed-loop forecast, open-loop next-step and decoder next-input RMSE
        terms. The official training step computes only the first two (its third term is
        commented out, so the paper's ``--criterion_weights 1 1 1`` trains on those two); the
        third, which pulls the encoder's output towards what the decoder predicts, is off by
        default.
    warmup_epochs : int, default=10
        Linear warm-up of the learning rate from 1e-6; then cosine decay to 1e-5 at epoch 300.
        With ``max_epochs <= warmup_epochs + 1`` the rate never reaches ``lr`` (``fit`` warns when
        ``warmup_epochs`` was set away from its default).
    max_epochs, batch_size, lr, weight_decay, patience, val_size
        Shared training parameters (see docs/parameters.md). Defaults follow the paper's ETT commands
        (batch 50, learning rate 1e-3, weight decay 1e-4, 500 epochs, patience 20). The optimiser
        is AdamW (decoupled weight decay), the default of the paper's code.
    accelerator, devices, precision, random_state, verbose, trainer_kwargs
        Shared run-time parameters (see docs/parameters.md): device and precision, the seed, the
        progress output, and other ``lightning.Trainer`` arguments.
    scaling : {"series", "global"}, default="series"
        How a panel's series are standardised (see docs/parameters.md): each by the mean and standard
        deviation of its own training rows, or all by one scaler fitted on every series' training
        rows. One series has one scaler either way.
    scaler : {"standard", "robust"}, default="standard"
        The statistics that standardise (see docs/parameters.md): the mean and standard deviation,
        or the median and the interquartile range in a normal distribution's standard deviations
        (scikit-learn's ``RobustScaler(unit_variance=True)``), which a few outliers do not set.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tsrec.estimators import SpaceTimeForecaster
    >>> y = pd.Series(np.sin(np.arange(300) / 4.0), index=pd.date_range("2024-01-01", periods=300, freq="h"))
    >>> est = SpaceTimeForecaster(lookback=24, horizon=6, width=8, n_kernels=4, kernel_dim=8, max_epochs=2).fit(y)
    >>> est.predict(fh=[1, 2, 3]).shape
    (3,)
    """

    def __init__(
        self,
        lookback: int = 336,
        horizon: int = 96,
        width: int = 128,
        n_kernels: int = 16,
        kernel_dim: int = 64,
        n_blocks: int = 1,
        dropout: float = 0.25,
        norm_order: int = 1,
        criterion_weights: tuple = (1.0, 1.0, 0.0),
        warmup_epochs: int = WARMUP_EPOCHS,
        max_epochs: int = 500,
        batch_size: int = 50,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        patience: int | None = 20,
        val_size: float | int = 0.2,
        accelerator: str = "auto",
        devices: object = "auto",
        precision: object = "32-true",
        random_state: int | None = None,
        verbose: bool = False,
        trainer_kwargs: dict | None = None,
        scaling: str = "series",
        scaler: str = "standard",
    ) -> None:
        self.lookback = lookback
        self.horizon = horizon
        self.width = width
        self.n_kernels = n_kernels
        self.kernel_dim = kernel_dim
        self.n_blocks = n_blocks
        self.dropout = dropout
        self.norm_order = norm_order
        self.criterion_weights = criterion_weights
        self.warmup_epochs = warmup_epochs
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.val_size = val_size
        self.accelerator = accelerator
        self.devices = devices
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.trainer_kwargs = trainer_kwargs
        self.scaling = scaling
        self.scaler = scaler
        super().__init__()

    _feeds_back_past_horizon = False  # the closed loop rolls its own state for any number of steps
    _decoupled_weight_decay = True  # AdamW, the paper code's default optimiser

    def _check_params(self) -> None:
        for name in ("lookback", "horizon"):
            check_int(name, getattr(self, name))
        check_int("warmup_epochs", self.warmup_epochs, minimum=0)
        _check_architecture(self)
        _check_weights(self.criterion_weights)

    def _build_network(self, n_channels: int, meta: dict) -> nn.Module:
        return SpaceTime(self.lookback, self.horizon, self.width, self.n_kernels, self.kernel_dim, self.n_blocks,
                         self.dropout, self.norm_order)

    def _loss(self):
        return functools.partial(spacetime_loss, weights=_check_weights(self.criterion_weights))

    def _check_loss(self) -> None:
        """None to check: SpaceTime trains on its paper's RMSE terms (``criterion_weights``)."""

    def _trivial_loss(self, rows: StandardisedRows) -> tuple[float, str]:
        # each RMSE term of standardised targets scores the root of their mean square (1 under standard scaling)
        # for the training mean or median
        rmse, centre = math.sqrt(rows.mean_loss("mse")), "median" if self.scaler == "robust" else "mean"
        return (sum(_check_weights(self.criterion_weights)) * rmse,
                f"forecasting the training {centre} (an RMSE of {rmse:.3g} a term)")

    def _lr_lambda(self):
        warmup = int(self.warmup_epochs)
        # read after training_config has checked max_epochs; the default warm-up (the paper's) stays silent.
        # Epoch e trains at the schedule's rate for e - 1 (see warmup_cosine), so the ramp ends at warmup + 1;
        # without a warm-up (0) epoch 0 trains at lr
        if warmup not in (0, WARMUP_EPOCHS) and self.max_epochs <= warmup + 1:
            last = self.lr * warmup_cosine(self.max_epochs - 1, float(self.lr), warmup)
            warn_user(f"{type(self).__name__}: warmup_epochs={warmup} with max_epochs={self.max_epochs} ends "
                      f"training inside the warm-up, so the learning rate never reaches lr={self.lr} (the last "
                      f"epoch trains at {last:.3g}); lower warmup_epochs or raise max_epochs")
        return functools.partial(warmup_cosine, lr=float(self.lr), warmup_epochs=warmup)

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Two tiny configurations for sktime's conformance suite."""
        return [
            {"lookback": 4, "horizon": 2, "width": 4, "n_kernels": 2, "kernel_dim": 3, "max_epochs": 1,
             "batch_size": 8},
            {"lookback": 6, "horizon": 3, "width": 8, "n_kernels": 8, "kernel_dim": 4, "n_blocks": 2, "dropout": 0.0,
             "criterion_weights": (1.0, 0.5, 0.0), "max_epochs": 2, "batch_size": 4, "val_size": 0.25,
             "random_state": 4, "scaling": "global"},
        ]


@register("classifier")
class SpaceTimeClassifier(DeepClassifier):
    """SpaceTime's encoder as a classifier: companion SSM blocks, mean over time, linear head.

    The channels are embedded linearly to ``width`` channels, the encoder blocks of
    :class:`SpaceTimeForecaster` (fixed differencing / moving-average-residual filters, companion
    SSMs, MLPs with residuals) run over time, and the time-average of the last block's
    layer-normalised steps feeds a linear layer. The paper classifies ECG and speech series with
    its encoder; the linear embedding, the normalised mean pooling and the learning rate are this
    package's choice (the reference does not state them; without the normalisation the pooled
    features hardly differ between z-normalised series and ArrowHead trains to 0.5 accuracy).

    Parameters
    ----------
    width : int, default=128
    n_kernels : int, default=16
    kernel_dim : int, default=64
    n_blocks : int, default=1
    dropout : float, default=0.25
    norm_order : int, default=1
        See :class:`SpaceTimeForecaster`.
    max_epochs, batch_size, lr, weight_decay, patience, val_size
        Shared training parameters (see docs/parameters.md). By default all training samples are used
        for a fixed number of epochs (``val_size=0``). The optimiser is AdamW, as for the
        forecaster.
    accelerator, devices, precision, random_state, verbose, trainer_kwargs
        Shared run-time parameters (see docs/parameters.md): device and precision, the seed, the
        progress output, and other ``lightning.Trainer`` arguments.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the training and validation loss, as scikit-learn's classifiers take
        them (see docs/parameters.md): None weighs every sample alike; ``"balanced"`` weighs each class
        by the inverse of its frequency in ``y``, so that rare classes count as much as common ones; a
        dict maps labels to weights (a label it leaves out weighs 1).

    Attributes
    ----------
    classes_ : ndarray
        The class labels.
    n_features_in_ : int
        Timepoints (2-D X) or channels (3-D X) seen in fit.
    network_ : torch.nn.Module
        The trained network.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrec.estimators import SpaceTimeClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (20, 2, 15)), rng.normal(2, 1, (20, 2, 15))])
    >>> y = np.array(["a"] * 20 + ["b"] * 20)
    >>> clf = SpaceTimeClassifier(width=16, n_kernels=4, kernel_dim=8, max_epochs=20, random_state=0).fit(X, y)
    >>> clf.predict(X[[0, 1, 38, 39]]).tolist()
    ['a', 'a', 'b', 'b']
    """

    def __init__(
        self,
        width: int = 128,
        n_kernels: int = 16,
        kernel_dim: int = 64,
        n_blocks: int = 1,
        dropout: float = 0.25,
        norm_order: int = 1,
        max_epochs: int = 100,
        batch_size: int = 16,
        lr: float = 1e-2,
        weight_decay: float = 1e-4,
        patience: int | None = None,
        val_size: float | int = 0.0,
        accelerator: str = "auto",
        devices: object = "auto",
        precision: object = "32-true",
        random_state: int | None = None,
        verbose: bool = False,
        trainer_kwargs: dict | None = None,
        class_weight: dict | str | None = None,
    ) -> None:
        self.width = width
        self.n_kernels = n_kernels
        self.kernel_dim = kernel_dim
        self.n_blocks = n_blocks
        self.dropout = dropout
        self.norm_order = norm_order
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.val_size = val_size
        self.accelerator = accelerator
        self.devices = devices
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.trainer_kwargs = trainer_kwargs
        self.class_weight = class_weight

    _decoupled_weight_decay = True  # AdamW, the paper code's default optimiser

    def _check_params(self) -> None:
        _check_architecture(self)

    def _build_encoder(self, n_channels: int, n_timepoints: int):
        encoder = SpaceTimeEncoder(n_channels, self.width, self.n_kernels, self.kernel_dim, self.n_blocks,
                                   self.dropout, self.norm_order, pool=True)
        return encoder, self.width

    # small and quick for the conformance suites (sklearn's blobs: lowest accuracy 0.920 over seeds 0-2; bar 0.83)
    _test_params = {"width": 8, "n_kernels": 2, "kernel_dim": 4, "max_epochs": 6, "lr": 0.01, "batch_size": 32}
