"""LS4 estimators: a latent state-space VAE (Zhou et al., ICML 2023) as a probabilistic forecaster
and its posterior encoder as a classifier."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsrec.estimators._classifier import DeepClassifier
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._horizon import check_output_size
from tsrec.estimators._params import check_choice, check_dropout, check_flag, check_float, check_int, seed_of
from tsrec.estimators._series import join_panel, split_panel
from tsrec.estimators._timeindex import future_index
from tsrec.errors import InputError
from tsrec.nn.ls4 import LS4, LS4Encoder
from tsrec.nn.s4 import S4_MODES
from tsrec.registry import register

if TYPE_CHECKING:
    from sktime.forecasting.base import ForecastingHorizon

    from tsrec.estimators._scaling import Scales


def ls4_loss(network: nn.Module, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """LS4's objective on whole windows (lookback followed by horizon), and the number of windows."""
    x, y, _ = batch
    return network.loss(torch.cat([x, y], dim=1)), len(x)


@register("forecaster")
class LS4Forecaster(DeepForecaster):
    """LS4: a sequence VAE whose prior, posterior and decoder are causal stacks of S4 layers.

    Each time step has a latent ``z_t``. The posterior ``q(z_t | x_<=t)`` encodes the series,
    the prior ``p(z_t | z_<t)`` predicts the next latent from the previous ones, and the decoder
    gives ``x_t ~ N(mean(z_<=t), sigma^2)``. Training maximises LS4's averaged ELBO on windows of
    ``lookback + horizon`` steps. To forecast, the posterior encodes the lookback, future latents
    are sampled from the prior one step at a time and decoded: ``n_samples`` sample paths, whose
    mean is the point forecast and whose quantiles give ``predict_quantiles`` and
    ``predict_interval``. ``predict_var`` is the variance of the same paths (dividing by
    ``n_samples``), and with ``cov=True`` their covariance across the steps of ``fh`` in sktime's
    layout. ``predict_proba`` is sktime's Normal approximation: at each step and variate a
    Normal with ``predict``'s mean and ``predict_var``'s variance, not the paths' own
    (possibly skewed) distribution. The first steps of the paths do not depend on how many
    steps are asked for. The S4 layers are the paper's NPLR S4 (HiPPO-LegS); the prior and
    decoder see the lookback only through its latents (see :mod:`tsrec.nn.ls4`).

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
        Fixed observation standard deviation, on the standardised scale.
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
        Shared training parameters (see the README).
    accelerator, devices, precision, random_state, verbose, trainer_kwargs
        Shared run-time parameters (see the README): device and precision, the seed, the
        progress output, and other ``lightning.Trainer`` arguments. ``random_state`` also seeds
        the sampling, so forecasts and intervals are reproducible.
    scaling : {"series", "global"}, default="series"
        How a panel's series are standardised (see the README): each by the mean and standard
        deviation of its own training rows, or all by one scaler fitted on every series' training
        rows. One series has one scaler either way.

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

    _tags = {"capability:pred_int": True, "capability:pred_int:insample": False}
    _feeds_back_past_horizon = False  # the prior keeps sampling latents for any number of steps
    _decoupled_weight_decay = True  # AdamW, as LS4's configs (at their weight decay 0, the same as Adam)

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
        super().__init__()

    def _check_params(self) -> None:
        for name in ("lookback", "horizon", "z_dim", "d_model", "n_layers", "n_samples"):
            check_int(name, getattr(self, name))
        check_int("d_state", self.d_state, minimum=2)
        check_choice("s4_mode", self.s4_mode, S4_MODES)
        check_dropout(self.dropout)
        check_float("sigma", self.sigma, strict=True)
        check_flag("instance_norm", self.instance_norm)
        check_flag("condition_on_x", self.condition_on_x)

    def _loss(self):
        return ls4_loss

    def _build_network(self, n_channels: int, meta: dict) -> nn.Module:
        return LS4(n_channels, self.horizon, z_dim=self.z_dim, d_model=self.d_model, d_state=self.d_state,
                   n_layers=self.n_layers, dropout=self.dropout, sigma=self.sigma, n_samples=self.n_samples,
                   seed=self._sampling_seed(), instance_norm=self.instance_norm, lookback=self.lookback,
                   condition_on_x=self.condition_on_x, s4_mode=self.s4_mode)

    def _sampling_seed(self) -> int:
        return seed_of(self.random_state)

    # ---- sampling --------------------------------------------------------------------------------
    def sample_paths(self, n_steps: int, noise: bool = True) -> np.ndarray:
        """``n_samples`` sample paths of the ``n_steps`` after the training data, on the data scale.

        Parameters
        ----------
        n_steps : int
            Steps to sample, >= 1 (NumPy integers too).
        noise : bool, default=True
            Draws of the observation model ``N(decoder mean, sigma^2)``, else the decoder means.

        Returns
        -------
        numpy.ndarray
            Shape (n_samples, n_series, n_steps, variates). Path ``s`` of every series comes from
            the same random draws (a series' paths do not depend on the others in the panel), so
            paths of different series are not independent: do not sum them across series.
        """
        self.check_is_fitted()
        # int(n_steps) would truncate 2.7 and take "3"; 0 or less failed inside torch
        n_steps = check_int("n_steps", n_steps, minimum=1)
        noise = check_flag("noise", noise)
        parts = split_panel(self._y)
        self._check_roll_out_size(len(parts), n_steps)
        x, _, _, scales = self._contexts(parts, self.position_offset_)
        return scales.unscaled(self._scaled_paths(x, n_steps, noise).numpy(), series_axis=1)

    def _check_roll_out_size(self, n_series: int, last_step: int) -> None:
        check_output_size(n_series * self.n_samples, last_step, self.n_channels_, "sample paths",
                          "ask for fewer steps or lower n_samples")

    def _scaled_paths(self, x: torch.Tensor, n_steps: int, noise: bool) -> torch.Tensor:
        network = self.network_
        network.eval()
        return network.sample(x, n_steps, self.n_samples, network.generator(x.device), noise=noise)

    def _forecast_path(self, x: torch.Tensor, position: torch.Tensor, n_steps: int) -> torch.Tensor:
        # the mean of the same seeded paths that the quantiles come from (without their noise,
        # whose mean is zero): every step is sampled, none is fed back. Summed in float64, as the
        # quantiles are, so the first steps do not depend on how many follow (a float32 mean's
        # reduction order changes with the path length)
        return self._scaled_paths(x, n_steps, noise=False).double().mean(dim=0)

    def _noisy_paths(self, fh: ForecastingHorizon) -> tuple[torch.Tensor, list, list[np.ndarray], list, Scales]:
        """The seeded sample paths that quantiles and variances read (float64, standardised scale,
        (n_samples, series, steps, variates)), with the series, their steps in ``fh``, steps, and
        the statistics that standardised them."""
        parts = split_panel(self._y)
        steps = self._steps_per_series(fh, parts)
        last = int(max(k.max() for k in steps))
        self._check_roll_out_size(len(parts), last)
        x, _, freqs, scales = self._contexts(parts, self.position_offset_)
        paths = self._scaled_paths(x, last, noise=True).double()
        return paths, parts, steps, freqs, scales

    def _per_series(self, rows: list[np.ndarray], parts: list, steps: list[np.ndarray], freqs: list,
                    columns: pd.Index) -> pd.DataFrame:
        """Each series' ``rows`` (one per step of ``fh``) at its stamps, joined as ``y`` was."""
        frames = [pd.DataFrame(r, columns=columns, index=future_index(df.index, f, k))
                  for r, (_, df), f, k in zip(rows, parts, freqs, steps)]
        return join_panel([k for k, _ in parts], frames, list(self._y.index.names))

    def _predict_quantiles(self, fh, X, alpha: list[float]) -> pd.DataFrame:
        paths, parts, steps, freqs, scales = self._noisy_paths(fh)
        levels = torch.quantile(paths, torch.tensor(alpha, dtype=paths.dtype), dim=0).numpy()  # (A, B, S, C)
        # a standard scaler is increasing and affine, so it maps quantiles to quantiles
        levels = scales.unscaled(levels, series_axis=1).transpose(1, 2, 3, 0)  # (B, S, C, A)
        columns = self._get_columns(method="predict_quantiles", alpha=alpha)  # variate-major, then alpha
        rows = [levels[b, k - 1].reshape(len(k), -1) for b, k in enumerate(steps)]
        return self._per_series(rows, parts, steps, freqs, columns)

    def _predict_var(self, fh, X=None, cov: bool = False) -> pd.DataFrame:
        """Variances of the sample paths' empirical distribution, whose quantiles
        ``predict_quantiles`` gives; with ``cov`` their covariances across the steps of ``fh``.

        With ``cov=True`` the layout is sktime's: a column (variate, stamp) per variate and stamp
        of ``fh``, a row per stamp (under the series' keys for a panel), and no covariances
        between variates. A panel needs every series to forecast the same stamps (one set of
        columns).
        """
        cov = check_flag("cov", cov)
        paths, parts, steps, freqs, scales = self._noisy_paths(fh)
        scale2 = torch.as_tensor(np.ascontiguousarray(scales.scale), dtype=paths.dtype)[:, None] ** 2  # (B, 1, C)
        names = self._get_columns(method="predict_var")
        if not cov:  # dividing by n_samples, as the variance of that empirical distribution does
            variances = (paths.var(dim=0, correction=0) * scale2).numpy()
            return self._per_series([variances[b, k - 1] for b, k in enumerate(steps)], parts, steps, freqs, names)
        stamps = [future_index(df.index, f, k) for (_, df), f, k in zip(parts, freqs, steps)]
        if any(not s.equals(stamps[0]) for s in stamps[1:]):
            raise InputError("predict_var(cov=True) on a panel needs every series to forecast the same time "
                             "stamps, as the columns are one set of stamps; these series end at different times "
                             "or have different steps: ask for cov=False, or for one series at a time")
        # a row per series and step of covariances with every step up to the last
        check_output_size(len(parts), paths.shape[2], self.n_channels_ * paths.shape[2], "series' covariance",
                          "ask for cov=False, or for fewer steps")
        centred = paths - paths.mean(dim=0)
        # (B, S, C, T) times each series' variance per variate
        covs = (torch.einsum("nbsc,nbtc->bsct", centred, centred) / len(paths) * scale2[..., None]).numpy()
        rows = [covs[b][np.ix_(k - 1, range(covs.shape[2]), k - 1)].reshape(len(k), -1) for b, k in enumerate(steps)]
        return self._per_series(rows, parts, steps, freqs, pd.MultiIndex.from_product([names, stamps[0]]))

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
        Shared training parameters (see the README). By default all training samples are used
        for a fixed number of epochs (``val_size=0``).
    accelerator, devices, precision, random_state, verbose, trainer_kwargs
        Shared run-time parameters (see the README): device and precision, the seed, the
        progress output, and other ``lightning.Trainer`` arguments.

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

    _decoupled_weight_decay = True  # AdamW, as LS4's configs (at their weight decay 0, the same as Adam)

    def _check_params(self) -> None:
        for name in ("d_model", "n_layers"):
            check_int(name, getattr(self, name))
        check_int("d_state", self.d_state, minimum=2)
        check_choice("s4_mode", self.s4_mode, S4_MODES)
        check_dropout(self.dropout)

    def _build_encoder(self, n_channels: int, n_timepoints: int):
        encoder = LS4Encoder(n_channels, self.d_model, self.n_layers, self.d_state, self.dropout, pool=True,
                             s4_mode=self.s4_mode, l_max=n_timepoints)
        return encoder, self.d_model

    _test_params = {"d_model": 8, "d_state": 8, "n_layers": 1}  # small for the conformance suites
