"""LS4 estimators: a latent state-space VAE (Zhou et al., ICML 2023) as a probabilistic forecaster
and its posterior encoder as a classifier."""

from __future__ import annotations

import math

import torch
from torch import nn

from tsrec._checks import check_dropout
from tsrec.errors import ParameterError
from tsrec.estimators._classifier import DeepClassifier
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._losses import StandardisedRows
from tsrec.estimators._params import check_choice, check_flag, check_float, check_int, seed_of
from tsrec.estimators._sample_paths import SamplePathForecasts
from tsrec.nn.ls4 import LS4, LS4Encoder
from tsrec.nn.s4 import S4_MODES
from tsrec.registry import register


def check_real_precision(precision: object) -> None:
    """LS4's S4 layers compute in complex numbers, for which torch has no bfloat16 type: with
    ``"bf16-true"`` (bfloat16 weights) they failed inside torch with a dtype message."""
    if str(precision) == "bf16-true":
        raise ParameterError(
            "precision='bf16-true' holds the weights in bfloat16, but LS4's S4 layers compute in complex numbers, "
            "and torch has no complex bfloat16 type; use 'bf16-mixed' (bfloat16 autocast, S4 in float32), '32-true' "
            "or '64-true'"
        )


def ls4_loss(network: nn.Module, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """LS4's objective on whole windows (lookback followed by horizon), and the number of windows."""
    x, y, _ = batch
    return network.loss(torch.cat([x, y], dim=1)), len(x)


def _check_d_state(value: object) -> None:
    """An even state size: the S4 layers hold ``d_state // 2`` complex modes (each with its
    conjugate), so an odd one built the network of the even size below it."""
    d_state = check_int("d_state", value, minimum=2)
    if d_state % 2:
        raise ParameterError(f"d_state must be even (the S4 layers hold d_state // 2 complex modes with their "
                             f"conjugates, so d_state={d_state} would build the network of {d_state - 1}); use "
                             f"{d_state - 1} or {d_state + 1}")


@register("forecaster")
class LS4Forecaster(SamplePathForecasts, DeepForecaster):
    """LS4: a sequence VAE whose prior, posterior and decoder are causal stacks of S4 layers.

    Each time step has a latent ``z_t``. The posterior ``q(z_t | x_<=t)`` encodes the series, the
    prior ``p(z_t | z_<t)`` predicts the next latent from the previous ones, and the decoder gives
    ``x_t ~ N(mean(z_<=t), sigma^2)``. Training maximises LS4's averaged ELBO on windows of
    ``lookback + horizon`` steps. To forecast, the posterior encodes the lookback, future latents
    are sampled from the prior one step at a time and decoded: ``n_samples`` sample paths. The point
    forecast is the mean of their decoder means (the paths without the observation noise, whose mean
    is zero, so it differs from the noisy paths' mean by sampling error only); the noisy paths'
    quantiles give ``predict_quantiles`` and ``predict_interval``. ``predict_var`` is the variance
    of the same paths (dividing by ``n_samples``), and with ``cov=True`` their covariance across the
    steps of ``fh`` in sktime's layout. ``predict_proba`` is sktime's Normal approximation: at each
    step and variate a Normal with ``predict``'s mean and ``predict_var``'s variance, not the paths'
    own (possibly skewed) distribution. The first steps of the paths do not depend on how many steps
    are asked for. Every step up to the furthest one in ``fh`` is sampled in turn, each running the
    prior and decoder stacks for all ``n_samples`` paths, so a forecast's time grows linearly with
    that step (``fh=[10_000]`` costs ten thousand steps, not one), and each call samples them all again (the
    same seeded draws, so calls agree). Memory
    does not: only the paths at the steps of ``fh`` are kept. The
    S4 layers are the paper's NPLR S4 (HiPPO-LegS); the prior and decoder see the lookback only
    through its latents (see :mod:`tsrec.nn.ls4`).

    Parameters
    ----------
    lookback : int, default=96
    horizon : int, default=96
        Length of the forecast part of the training windows; any number of steps can be sampled.
    z_dim : int, default=5
        Latent size per step (the paper's Monash configs: 5).
    d_model : int, default=64
    d_state : int, default=64
        Width of the S4 stacks and state size of each S4 channel (``d_state // 2`` complex modes).
    s4_mode : {"nplr", "diag"}, default="nplr"
        The S4 layers: LS4's normal-plus-low-rank S4 (HiPPO-LegS, Cauchy kernel) or diagonal S4D.
    n_layers : int, default=4
        (S4, feed-forward) block pairs in each of the three stacks.
    dropout : float, default=0.0
    sigma : float, default=0.1
        Fixed observation standard deviation, on the standardised scale; at least 1e-3.
    n_samples : int, default=100
        Sample paths per forecast.
    instance_norm : bool, default=False
        Standardise every window with the statistics of its lookback (not in the paper; helps
        when the level drifts away from the training data's).
    condition_on_x : bool, default=False
        Let the prior and the decoder also read the previous observation ``x_{t-1}`` (the
        paper's general model; the released configs leave it out). Sampling then feeds each
        sampled value back in.
    ema_decay : float or None, default=None
        Keep an exponential moving average of the weights with this decay, validate it and end
        with it (LS4's configs: 0.999, 0.99 for solar); None trains without one.
    ema_start_step : int, default=200
        Optimiser step from which the average starts (LS4's: 200); before it, it is the weights.
    max_epochs, batch_size, lr, weight_decay, patience, val_size
        Shared training parameters (see docs/parameters.md).
    accelerator, devices, precision, random_state, verbose, trainer_kwargs
        Shared run-time parameters (see docs/parameters.md): device and precision, the seed, the
        progress output, and other ``lightning.Trainer`` arguments. ``random_state`` also seeds
        the sampling, so forecasts and intervals are reproducible.
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
    >>> from tsrec.estimators import LS4Forecaster
    >>> y = pd.Series(np.sin(np.arange(200) / 4.0), index=pd.date_range("2024-01-01", periods=200, freq="h"))
    >>> est = LS4Forecaster(lookback=24, horizon=6, d_model=8, d_state=8, n_layers=1, n_samples=10,
    ...                     max_epochs=1).fit(y)
    >>> est.predict(fh=[1, 2, 3]).shape, est.predict_interval(fh=[1, 2], coverage=0.8).shape
    ((3,), (2, 2))
    """

    # the ELBO of windows standardised by their own lookback is in other units than without
    _loss_unit_params = ("instance_norm",)

    _tags = {"capability:pred_int": True, "capability:pred_int:insample": False}
    _feeds_back_past_horizon = False  # the prior keeps sampling latents for any number of steps
    _decoupled_weight_decay = True  # AdamW, as LS4's configs (at their weight decay 0, the same as Adam)
    _window_norm = "instance_norm"

    def __init__(
        self,
        lookback: int = 96,
        horizon: int = 96,
        z_dim: int = 5,
        d_model: int = 64,
        d_state: int = 64,
        s4_mode: str = "nplr",
        n_layers: int = 4,
        dropout: float = 0.0,
        sigma: float = 0.1,
        n_samples: int = 100,
        instance_norm: bool = False,
        condition_on_x: bool = False,
        ema_decay: float | None = None,
        ema_start_step: int = 200,
        max_epochs: int = 10,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        patience: int | None = 3,
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
        self.z_dim = z_dim
        self.d_model = d_model
        self.d_state = d_state
        self.s4_mode = s4_mode
        self.n_layers = n_layers
        self.dropout = dropout
        self.sigma = sigma
        self.n_samples = n_samples
        self.instance_norm = instance_norm
        self.condition_on_x = condition_on_x
        self.ema_decay = ema_decay
        self.ema_start_step = ema_start_step
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

    def _check_params(self) -> None:
        for name in ("lookback", "horizon", "z_dim", "d_model", "n_layers"):
            check_int(name, getattr(self, name))
        check_int("n_samples", self.n_samples, minimum=2)  # one path has no spread: zero-width intervals
        _check_d_state(self.d_state)
        check_choice("s4_mode", self.s4_mode, S4_MODES)
        check_dropout(self.dropout)
        # the data are standardised (scale 1): the loss's 1 / sigma^2 overflows far below that
        check_float("sigma", self.sigma, minimum=1e-3, hint="; the data are standardised, so 0.01 to 1 is usual")
        check_flag("instance_norm", self.instance_norm)
        check_flag("condition_on_x", self.condition_on_x)
        check_real_precision(self.precision)

    def _loss(self):
        return ls4_loss

    def _check_loss(self) -> None:
        """None to check: LS4 trains on its evidence lower bound (a likelihood, not a point loss)."""

    def _trivial_loss(self, rows: StandardisedRows) -> tuple[float, str] | None:
        if self.instance_norm:  # the loss reads each window scaled by its lookback's statistics, where a step
            # in the horizon reaches hundreds: a sound fit ended 40x above N(0, sigma^2)'s loss
            return None
        # standardised data decoded as N(0, sigma^2) with the prior as posterior (KL 0), each variate
        per_variate = 0.5 * math.log(2 * math.pi * self.sigma**2) + 0.5 * rows.mean_loss("mse") / self.sigma**2
        return self.n_channels_ * per_variate, "decoding every step as N(0, sigma^2)"

    def _build_network(self, n_channels: int, meta: dict) -> nn.Module:
        return LS4(n_channels, self.horizon, z_dim=self.z_dim, d_model=self.d_model, d_state=self.d_state,
                   n_layers=self.n_layers, dropout=self.dropout, sigma=self.sigma, n_samples=self.n_samples,
                   seed=self._sampling_seed(), instance_norm=self.instance_norm, lookback=self.lookback,
                   condition_on_x=self.condition_on_x, s4_mode=self.s4_mode)

    def _sampling_seed(self) -> int:
        return seed_of(self.random_state)

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Two tiny configurations for sktime's conformance suite."""
        return [
            {"lookback": 4, "horizon": 2, "z_dim": 2, "d_model": 4, "d_state": 4, "n_layers": 1, "n_samples": 8,
             "max_epochs": 1, "batch_size": 8},
            {"lookback": 6, "horizon": 3, "z_dim": 3, "d_model": 8, "d_state": 6, "n_layers": 1, "n_samples": 5,
             "sigma": 0.5, "instance_norm": True, "condition_on_x": True, "max_epochs": 1, "batch_size": 8,
             "val_size": 0.25, "random_state": 4, "scaling": "global"},
        ]


@register("classifier")
class LS4Classifier(DeepClassifier):
    """LS4's posterior encoder as a classifier: a causal S4 stack, the mean over time, a linear head.

    The series is embedded by a linear map, passed through ``n_layers`` pre-LayerNorm residual
    (S4, feed-forward) block pairs -- the stack that encodes ``q(z | x)`` in
    :class:`LS4Forecaster` -- averaged over time and classified by a linear layer. The paper has
    no classification setting; this head is [inferred]. (LS4's code carries a classifier option,
    off in every released config, that averages posterior samples of ``z`` over time and adds 100
    times the cross-entropy to the ELBO; a classifier here trains on the cross-entropy alone.)

    Parameters
    ----------
    d_model : int, default=64
    d_state : int, default=64
    s4_mode : {"nplr", "diag"}, default="nplr"
        NPLR S4 layers (HiPPO-LegS, their kernel defined over the training series' length) or
        diagonal S4D layers.
    n_layers : int, default=4
    dropout : float, default=0.0
    ema_decay : float or None, default=None
    ema_start_step : int, default=200
        Exponential moving average of the weights, as in :class:`LS4Forecaster`.
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
    >>> from tsrec.estimators import LS4Classifier
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (20, 2, 15)), rng.normal(2, 1, (20, 2, 15))])
    >>> y = np.array(["a"] * 20 + ["b"] * 20)
    >>> clf = LS4Classifier(d_model=16, d_state=8, n_layers=1, max_epochs=20, random_state=0).fit(X, y)
    >>> clf.predict(X[[0, 1, 38, 39]]).tolist()
    ['a', 'a', 'b', 'b']
    """

    def __init__(
        self,
        d_model: int = 64,
        d_state: int = 64,
        s4_mode: str = "nplr",
        n_layers: int = 4,
        dropout: float = 0.0,
        ema_decay: float | None = None,
        ema_start_step: int = 200,
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
        self.d_model = d_model
        self.d_state = d_state
        self.s4_mode = s4_mode
        self.n_layers = n_layers
        self.dropout = dropout
        self.ema_decay = ema_decay
        self.ema_start_step = ema_start_step
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

    _decoupled_weight_decay = True  # AdamW, as LS4's configs (at their weight decay 0, the same as Adam)

    def _check_params(self) -> None:
        for name in ("d_model", "n_layers"):
            check_int(name, getattr(self, name))
        _check_d_state(self.d_state)
        check_choice("s4_mode", self.s4_mode, S4_MODES)
        check_dropout(self.dropout)
        check_real_precision(self.precision)

    def _build_encoder(self, n_channels: int, n_timepoints: int):
        encoder = LS4Encoder(n_channels, self.d_model, self.n_layers, self.d_state, self.dropout, pool=True,
                             s4_mode=self.s4_mode, l_max=n_timepoints)
        return encoder, self.d_model

    # small and quick for the conformance suites (sklearn's blobs: lowest accuracy 0.917 over seeds 0-2; bar 0.83)
    _test_params = {"d_model": 8, "d_state": 8, "n_layers": 1, "max_epochs": 6, "lr": 0.01, "batch_size": 32}
