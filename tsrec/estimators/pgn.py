"""PGN estimators (Jia et al., NeurIPS 2024): PGNClassifier and the TPGN forecaster."""

from __future__ import annotations

from torch import nn

from tsrec._checks import check_dropout
from tsrec.estimators._classifier import DeepClassifier
from tsrec.estimators._cycles import cycle_length_from_freq
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._params import check_choice, check_flag, check_int
from tsrec.estimators._schedules import type4_schedule
from tsrec.estimators._timeindex import step_nanoseconds
from tsrec.estimators.errors import InputError
from tsrec.nn.heads import POOLS
from tsrec.nn.pgn import PGNEncoder
from tsrec.nn.timefeatures import with_calendar
from tsrec.nn.tpgn import TPGN
from tsrec.registry import register


@register("classifier")
class PGNClassifier(DeepClassifier):
    """Parallel Gated Network classifier: PGN layers over the series, pooled, then a linear head.

    Each PGN layer reads the whole history of every step in one parallel map (Historical
    Information Extraction) and fuses it with the current step through a gate, so information
    from the first step reaches the last in one hop instead of through a recurrence.

    Parameters
    ----------
    hidden : int, default=64
        Width of the PGN layers.
    n_layers : int, default=1
        Number of stacked PGN layers (later ones residual).
    dropout : float, default=0.1
    pool : {"last", "mean"}, default="last"
        The sequence summary fed to the head: the last step (which has seen the whole series) or
        the mean over steps. In the classification benchmark (3 seeds) the mean scored 1.000 on
        BasicMotions where the last step scored 0.800, and less on three of the other four sets
        (``docs/benchmarks.md``).
    max_epochs, batch_size, lr, weight_decay, patience, val_size
        Shared training parameters (see docs/parameters.md). By default all training samples are used
        for a fixed number of epochs (``val_size=0``).
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
    >>> from tsrec.estimators import PGNClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (20, 30)), rng.normal(2, 1, (20, 30))])
    >>> y = np.array(["a"] * 20 + ["b"] * 20)
    >>> clf = PGNClassifier(hidden=16, max_epochs=30, random_state=0).fit(X, y)
    >>> clf.predict(X[[0, 1, 38, 39]]).tolist()
    ['a', 'a', 'b', 'b']
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        hidden: int = 64,
        n_layers: int = 1,
        dropout: float = 0.1,
        pool: str = "last",
        max_epochs: int = 100,
        batch_size: int = 16,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
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
        self.hidden = hidden
        self.n_layers = n_layers
        self.dropout = dropout
        self.pool = pool
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

    def _check_params(self) -> None:
        check_int("hidden", self.hidden)
        check_int("n_layers", self.n_layers)
        check_dropout(self.dropout)
        check_choice("pool", self.pool, POOLS)

    def _build_encoder(self, n_channels: int, n_timepoints: int):
        encoder = PGNEncoder(
            # a one-step series has no history; PGN still needs a kernel of at least one lag
            n_channels, self.hidden, max_len=max(n_timepoints, 2), n_layers=self.n_layers,
            dropout=self.dropout, pool=self.pool,
        )
        return encoder, self.hidden

    # small and quick for the conformance suites (sklearn's blobs: lowest accuracy 0.917 over seeds 0-2; bar 0.83)
    _test_params = {"hidden": 8, "max_epochs": 6, "lr": 0.01, "batch_size": 32}


@register("forecaster")
class PGNForecaster(DeepForecaster):
    """TPGN: the PGN forecasting framework with a long-term and a short-term branch.

    The lookback window is reshaped into rows of one period; a PGN runs down the rows (the
    long-term branch, across periods) and linear maps read each row (the short-term branch,
    within a period); both are fused and mapped to the horizon, with per-variate weights.

    Parameters
    ----------
    lookback : int, default=168
        Input window; a multiple of ``period`` and at least two periods.
    horizon : int, default=168
        Steps forecast in one pass; a multiple of ``period``. Later steps are fed back in.
    period : int or None, default=None
        Row length of the 2-D reshape. None infers one day (or week, or year) from the frequency
        like CycleNet's cycle (one day for any hourly or minute step that divides a day,
        e.g. 24 hourly or 144 at 10 minutes; 7 daily, 5 business-daily, 52 weekly, 12 monthly, 4
        quarterly). The paper's code has no inference: it uses 24 in every
        experiment, which on hourly data is the same; pass ``period=24`` to follow it on
        sub-hourly data (its Weather runs, where 24 steps of 10 minutes are 4 hours).
    hidden : int, default=32
        Width ``d`` of both branches (the paper tunes it per data set between 2 and 256).
    norm : bool, default=True
        Per-window normalisation (detached mean, biased variance), undone on the output. TPGN's
        hyperparameter table (in its repository's README) sets it per dataset (on for ETTh1 and
        Traffic, off for ECL, ETTh2 and Weather; ``run.py``'s default is off); on is tsrec's
        default, as for ETTh1.
    time_features : bool, default=True
        Feed the calendar features of every input step beside its value, as the paper does
        (its ``timeF`` encoding: minute of hour for sub-hourly steps, hour of day for sub-daily
        steps, then day of week, day of month and day of year, each scaled to [-0.5, 0.5]).
        Only date-time indices with a fixed step (minutes, hours, days) have them; integer,
        weekly and monthly indices are fitted without.
    max_epochs, batch_size, lr, weight_decay, patience, val_size
        Shared training parameters (see docs/parameters.md). Defaults follow the paper's ``run.py``: Adam
        at 1e-3, batch 32, 25 epochs, patience 5, learning rate x0.9 after every epoch from
        the second (``lradj='type4'`` as the code applies it).
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

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tsrec.estimators import PGNForecaster
    >>> index = pd.date_range("2024-01-01", periods=500, freq="h")
    >>> y = pd.Series(np.sin(2 * np.pi * np.arange(500) / 24), index=index)
    >>> est = PGNForecaster(lookback=48, horizon=24, hidden=8, max_epochs=2).fit(y)
    >>> est.predict(fh=[1, 2, 3]).shape
    (3,)
    """

    _window_norm = "norm"

    def __init__(
        self,
        lookback: int = 168,
        horizon: int = 168,
        period: int | None = None,
        hidden: int = 32,
        norm: bool = True,
        time_features: bool = True,
        max_epochs: int = 25,
        batch_size: int = 32,
        lr: float = 1e-3,
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
        self.period = period
        self.hidden = hidden
        self.norm = norm
        self.time_features = time_features
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
        check_int("period", self.period, allow_none=True)
        check_int("hidden", self.hidden)
        check_flag("time_features", self.time_features)
        check_flag("norm", self.norm)

    def _network_meta(self, freq: object, n_channels: int) -> dict:
        period = self.period if self.period is not None else cycle_length_from_freq(freq, "period")
        for name, value, least in (("lookback", self.lookback, 2 * period), ("horizon", self.horizon, period)):
            if value % period:
                lower, upper = value // period * period, (value // period + 1) * period
                hint = f"{lower} or {upper}" if lower >= least else f"{max(upper, least)}"
                raise InputError(f"{name}={value} is not a multiple of period={period}; use {name}={hint}")
        if self.lookback < 2 * period:
            raise InputError(f"lookback={self.lookback} must cover at least two periods; use lookback={2 * period}")
        return {"period": int(period), "step_ns": step_nanoseconds(freq) if self.time_features else None}

    def _lr_lambda(self):
        return type4_schedule

    def _build_network(self, n_channels: int, meta: dict) -> nn.Module:
        def tpgn(n_marks: int) -> nn.Module:
            return TPGN(self.lookback, self.horizon, n_channels, meta["period"], hidden=self.hidden, norm=self.norm,
                        n_time_features=n_marks)

        return with_calendar(tpgn, self.lookback, meta.get("step_ns"), meta.get("offset_ns", 0))

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Two tiny configurations for sktime's conformance suite."""
        return [
            {"lookback": 4, "horizon": 2, "period": 2, "hidden": 4, "max_epochs": 1, "batch_size": 8},
            {"scaling": "global", "lookback": 6, "horizon": 3, "period": 3, "hidden": 3, "norm": False, "max_epochs": 2,
             "batch_size": 4, "val_size": 0.25, "random_state": 2, "loss": "huber"},
        ]
