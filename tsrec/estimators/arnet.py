"""ARNetForecaster: sparse auto-regression fitted by SGD (Triebe et al., 2019)."""

from __future__ import annotations

import numbers

import numpy as np

from tsrec.errors import ParameterError
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._params import check_float, check_int, warn_unused
from tsrec.estimators._schedules import step_decay
from tsrec.nn.arnet import ARNet, sparsity_lambda
from tsrec.registry import register


class SparsityRamp:
    """AR-Net's regulariser weight: linear warm-up from 0 to ``strength`` over ``delay`` epochs.

    Called with a network and the training progress, it returns the weighted sparsity penalty
    ``weight(progress) * network.regularization(c1, c2)`` that is added to the loss.

    Parameters
    ----------
    strength : float
        Full regulariser weight lambda, reached after ``delay`` epochs.
    delay : float
        Epochs of the linear warm-up; ``delay <= 0`` applies the full ``strength`` from the start.
    c1, c2 : float, default=3.0
        Shape constants of the penalty ``mean(2 / (1 + exp(-c1 |w|^(1/c2))) - 1)``
        (:meth:`tsrec.nn.arnet.ARNet.regularization`).

    Examples
    --------
    >>> from tsrec.nn.arnet import ARNet
    >>> ramp = SparsityRamp(strength=0.2, delay=4.0)
    >>> ramp.weight(0.0), ramp.weight(2.0), ramp.weight(10.0)
    (0.0, 0.1, 0.2)
    >>> ramp(ARNet(n_lags=5, horizon=1), progress=2.0).shape
    torch.Size([])
    """

    def __init__(self, strength: float, delay: float, c1: float = 3.0, c2: float = 3.0) -> None:
        self.strength, self.delay, self.c1, self.c2 = strength, delay, c1, c2

    def weight(self, progress: float) -> float:
        """Regulariser weight after ``progress`` epochs (fractional)."""
        if self.delay <= 0:
            return self.strength
        return self.strength * min(1.0, progress / self.delay)

    def __call__(self, network: ARNet, progress: float):
        return self.weight(progress) * network.regularization(self.c1, self.c2)


@register("forecaster")
class ARNetForecaster(DeepForecaster):
    """AR-Net: an AR(p) model (optionally with hidden layers) trained by SGD, with sparsity.

    The linear AR-Net maps the last ``n_lags`` values of each variate to the next ``horizon``
    values with weights shared over variates; its weights are the AR coefficients. With
    ``sparsity`` set, the paper's regulariser R(w) = mean(2 / (1 + exp(-c1 |w|^(1/c2))) - 1)
    (c1 = c2 = 3) is added with weight lambda = 0.02 (1/sparsity - 1), ramped up linearly over
    the first ``lambda_delay`` epochs (growing with each batch). The defaults ``lr=0.01``,
    ``batch_size=32`` and 30 epochs are tsrec's, for series far shorter than the 125,000 samples
    that AR-Net's example trains on for 10 epochs at 2e-4 in batches of 128. As the rate falls x0.9
    an epoch, all epochs together move the weights about as far as ten epochs at the first rate,
    whatever ``max_epochs``; a short series gets enough steps for that only from small batches
    (``benchmarks/results/arnet_defaults.md``).

    Parameters
    ----------
    n_lags : int, default=10
        AR order ``p`` (the lookback).
    horizon : int, default=1
        Steps forecast directly; later steps are produced by feeding forecasts back in.
    hidden_layers : tuple of int, default=()
        Widths of hidden ReLU layers; () is the interpretable linear AR-Net.
    sparsity : float or None, default=None
        Expected fraction of non-zero lags in (0, 1]; None or 1 turns the regulariser off.
    reg_lambda : float or None, default=None
        Overrides the regulariser strength derived from ``sparsity``.
    lambda_delay : float or None, default=None
        Epochs of linear warm-up of the regulariser; None means half of ``max_epochs`` (set without
        a regulariser, a warning says it is unused).
    max_epochs, batch_size, lr, weight_decay, patience, val_size
        Shared training parameters (see docs/parameters.md). As in the paper, training runs a fixed
        number of epochs (``val_size=0``) with the learning rate x0.9 per epoch: selecting an
        early epoch on validation loss would undo the regulariser, which only reaches full
        strength after ``lambda_delay`` epochs.
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
    loss : {"mse", "mae", "huber"}, default="mse"
        The point loss trained and validated on (see docs/parameters.md): the mean squared error, the
        mean absolute error, or Huber's (squared within ``huber_delta``, linear beyond: far outliers
        in the training windows pull the weights no harder than an error of ``huber_delta``).
    huber_delta : float, default=1.0
        Huber's threshold, in the series' standardised units (their standard deviations, or robust
        ones with ``scaler="robust"``); smaller values come closer to the mean absolute error.

    Attributes
    ----------
    coef_ : numpy.ndarray
        AR coefficients in AR order (lag 1 first): shape (n_lags,) when horizon is 1, else
        (horizon, n_lags). Only for the linear AR-Net.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrec.estimators import ARNetForecaster
    >>> y = np.sin(np.arange(300) / 5.0)
    >>> est = ARNetForecaster(n_lags=5, max_epochs=2).fit(y)
    >>> est.coef_.shape
    (5,)
    """

    _window_norm = False  # a linear map of the lags: the level is one of its inputs

    def __init__(
        self,
        n_lags: int = 10,
        horizon: int = 1,
        hidden_layers: tuple = (),
        sparsity: float | None = None,
        reg_lambda: float | None = None,
        lambda_delay: float | None = None,
        max_epochs: int = 30,
        batch_size: int = 32,
        lr: float = 0.01,
        weight_decay: float = 0.0,
        patience: int | None = None,
        val_size: float | int = 0.0,
        accelerator: str = "auto",
        devices: object = "auto",
        precision: object = "32-true",
        random_state: int | None = None,
        verbose: bool = False,
        trainer_kwargs: dict | None = None,
        scaling: str = "series",
        scaler: str = "standard",
        loss: str = "mse",
        huber_delta: float = 1.0,
    ) -> None:
        self.n_lags = n_lags
        self.horizon = horizon
        self.hidden_layers = hidden_layers
        self.sparsity = sparsity
        self.reg_lambda = reg_lambda
        self.lambda_delay = lambda_delay
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
        self.loss = loss
        self.huber_delta = huber_delta
        super().__init__()

    _lookback_name = "n_lags"

    def _check_params(self) -> None:
        check_int("n_lags", self.n_lags)
        check_int("horizon", self.horizon)
        if not isinstance(self.hidden_layers, (tuple, list)):
            raise ParameterError(f"hidden_layers must be a tuple of ints, got {self.hidden_layers!r}: pass e.g. "
                                 "hidden_layers=(64,), or () for the linear AR-Net")
        for width in self.hidden_layers:
            check_int("hidden_layers entry", width)
        sparsity = self.sparsity
        if sparsity is not None and not (isinstance(sparsity, numbers.Real) and not isinstance(sparsity, bool)
                                         and 0.0 < sparsity <= 1.0):
            # one message for both ends of the range (0 was told "> 0", 2 got no fix)
            raise ParameterError(f"sparsity must be None or a number in (0, 1], got {sparsity!r}: the expected share "
                                 "of non-zero AR weights (e.g. 0.3); 1 or None trains without the sparsity regulariser")
        if self.reg_lambda is not None:
            check_float("reg_lambda", self.reg_lambda)
        if self.lambda_delay is not None:
            check_float("lambda_delay", self.lambda_delay)
        if self._strength() == 0.0:
            warn_unused(self, ("lambda_delay",), "without the sparsity regulariser; set sparsity < 1 or "
                        "reg_lambda > 0 to use it")

    def _build_network(self, n_channels: int, meta: dict) -> ARNet:
        return ARNet(self.n_lags, self.horizon, tuple(int(w) for w in self.hidden_layers))

    def _lr_lambda(self):
        return step_decay

    def _strength(self) -> float:
        return self.reg_lambda if self.reg_lambda is not None else sparsity_lambda(self.sparsity)

    def _penalty(self):
        strength = self._strength()
        if strength == 0.0:
            return None
        delay = self.lambda_delay if self.lambda_delay is not None else self.max_epochs / 2
        return SparsityRamp(strength, delay)

    @property
    def coef_(self) -> np.ndarray:
        """AR coefficients, lag 1 first (linear AR-Net only)."""
        self.check_is_fitted()
        coef = self.network_.coefficients().numpy().copy()
        return coef[0] if self.horizon == 1 else coef

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Two tiny configurations for sktime's conformance suite."""
        return [
            {"n_lags": 3, "horizon": 1, "max_epochs": 1, "batch_size": 8},
            {"scaling": "global", "scaler": "robust", "n_lags": 4, "horizon": 2, "hidden_layers": (4,),
             "sparsity": 0.5, "max_epochs": 2, "batch_size": 4, "random_state": 3},
        ]
