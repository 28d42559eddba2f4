"""CycleNetForecaster: residual cycle forecasting (Lin et al., NeurIPS 2024)."""

from __future__ import annotations

import numpy as np

from tsrec._warn import warn_user
from tsrec.errors import ParameterError
from tsrec.estimators._cycles import cycle_length_from_freq
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._params import check_flag, check_int, warn_unused
from tsrec.estimators._schedules import type3_schedule
from tsrec.estimators._training import TrainingConfig
from tsrec.nn.cyclenet import CycleNet
from tsrec.registry import register


#: learning rates of CycleNet's scripts by backbone, at lookbacks 96, 336 and 720 (ETT, Weather)
CYCLENET_LR = {"linear": (0.01, 0.005, 0.005), "mlp": (0.005, 0.002, 0.0005)}


@register("forecaster")
class CycleNetForecaster(DeepForecaster):
    """CycleNet: a learnable recurrent cycle plus a Linear or MLP backbone shared over channels.

    The cycle ``Q`` (cycle_length x variates, initialised to zeros) is removed from each
    normalised lookback window according to the window's phase in the time index, the residual
    is forecast by the backbone, and the cycle is added back.

    Parameters
    ----------
    lookback : int, default=96
        Input window length.
    horizon : int, default=96
        Steps forecast in one pass; later steps are produced by feeding forecasts back in.
    cycle_length : int or None, default=None
        Cycle length ``W``. None infers it from the frequency: one day for any hourly or minute
        step that divides a day (24 hourly, 12 two-hourly, 96 at 15 minutes, 144 at 10
        minutes), 7 daily, 5 business-daily, 52 weekly, 12 monthly, 4 quarterly; other
        frequencies need it given. The frequency cannot tell a weekly pattern in hourly data: the
        paper sets ``W = 168`` for Electricity and Traffic (on Traffic its MSE was 0.480 at 168
        against 0.618 at 24), so give ``cycle_length=168`` for such series.
    backbone : {"linear", "mlp"}, default="linear"
    d_model : int, default=512
        Hidden width of the MLP backbone (set with the linear backbone, a warning says it is unused).
    use_revin : bool, default=True
        Per-window instance normalisation (the paper's ``use_revin``).
    max_epochs, batch_size
        Shared training parameters (see docs/parameters.md). Defaults follow the paper's scripts:
        30 epochs, batch 256.
    lr : float or None, default=None
        Adam's learning rate, with CycleNet's per-epoch decay. None takes the rate of the paper's
        scripts for the backbone and lookback (ETT and Weather rows; :data:`CYCLENET_LR`): Linear
        0.01 at lookback 96, 0.005 at 336 and 720; MLP 0.005, 0.002 and 0.0005. Other lookbacks
        take the rate of the next longer one of the three (at most 96, at most 336, longer) [inferred].
    weight_decay, patience, val_size
        Shared training parameters (see docs/parameters.md); ``patience=5`` follows the paper's scripts.
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
    network_ : torch.nn.Module
        The trained network; ``network_.cycle.data`` is the learned cycle (W, variates).
    cycle_ : numpy.ndarray
        The learned cycle in the network's normalised units, rows in phase order.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tsrec.estimators import CycleNetForecaster
    >>> index = pd.date_range("2024-01-01", periods=400, freq="h")
    >>> y = pd.Series(np.sin(2 * np.pi * np.arange(400) / 24), index=index)
    >>> est = CycleNetForecaster(lookback=48, horizon=24, max_epochs=2).fit(y)
    >>> est.predict(fh=[1, 2, 3]).shape
    (3,)
    """

    _window_norm = "use_revin"

    def __init__(
        self,
        lookback: int = 96,
        horizon: int = 96,
        cycle_length: int | None = None,
        backbone: str = "linear",
        d_model: int = 512,
        use_revin: bool = True,
        max_epochs: int = 30,
        batch_size: int = 256,
        lr: float | None = None,
        weight_decay: float = 0.0,
        patience: int | None = 5,
        val_size: float | int = 0.2,
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
        self.lookback = lookback
        self.horizon = horizon
        self.cycle_length = cycle_length
        self.backbone = backbone
        self.d_model = d_model
        self.use_revin = use_revin
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

    def _check_params(self) -> None:
        check_int("lookback", self.lookback)
        check_int("horizon", self.horizon)
        check_int("cycle_length", self.cycle_length, allow_none=True)
        check_int("d_model", self.d_model)
        check_flag("use_revin", self.use_revin)
        if self.backbone not in ("linear", "mlp"):
            raise ParameterError(f"backbone must be 'linear' or 'mlp', got {self.backbone!r}")
        if self.backbone == "linear":
            warn_unused(self, ("d_model",), "with backbone='linear'; set backbone='mlp' to use it")

    def _network_meta(self, freq: object, n_channels: int) -> dict:
        length = self.cycle_length if self.cycle_length is not None else cycle_length_from_freq(freq)
        return {"cycle_length": int(length)}

    def _train(self, parts: list, meta: dict, config: TrainingConfig) -> None:
        longest, length = max(len(df) for _, df in parts), meta["cycle_length"]
        if length > longest:  # the cycle starts at zeros and only the phases of training rows move
            untrained = (f"phase {longest} of the cycle is never trained and stays" if length == longest + 1 else
                         f"phases {longest} to {length - 1} of the cycle are never trained and stay")
            warn_user(
                f"cycle_length={length} is longer than the training data ({longest} rows): {untrained} 0, and "
                "forecasts past the data read them; give at least cycle_length rows, or a shorter cycle_length"
            )
        super()._train(parts, meta, config)

    def _build_network(self, n_channels: int, meta: dict) -> CycleNet:
        return CycleNet(
            self.lookback, self.horizon, n_channels, meta["cycle_length"],
            backbone=self.backbone, d_model=self.d_model, use_revin=self.use_revin,
        )

    def _lr_lambda(self):
        return type3_schedule

    def _lr_when_none(self) -> float:
        rates = CYCLENET_LR[self.backbone]
        return rates[0] if self.lookback <= 96 else rates[1] if self.lookback <= 336 else rates[2]

    @property
    def cycle_(self) -> np.ndarray:
        """The learned cycle (cycle_length, variates) in phase order (row p = phase p)."""
        self.check_is_fitted()
        return self.network_.cycle.data.detach().numpy().copy()

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Two tiny configurations for sktime's conformance suite."""
        return [
            {"lookback": 4, "horizon": 3, "cycle_length": 2, "max_epochs": 1, "batch_size": 8, "scaler": "robust"},
            {"scaling": "global", "lookback": 6, "horizon": 2, "cycle_length": 3, "backbone": "mlp", "d_model": 8,
             "max_epochs": 2, "batch_size": 4, "val_size": 0.25, "random_state": 1},
        ]
