"""Chimera estimators: 2-D selective state spaces over time and variates (Behrouz et al., 2024)."""

from __future__ import annotations

import numpy as np
from torch import nn

from tsrec._checks import check_dropout
from tsrec.errors import ParameterError
from tsrec.estimators._classifier import DeepClassifier
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._params import check_choice, check_flag, check_int, warn_unused
from tsrec.estimators._scan_memory import RECOMPUTE_CHOICES, plan_chimera_training_memory
from tsrec.nn.chimera import DECODERS, Chimera, ChimeraEncoder, recompute_scans
from tsrec.registry import register


def _check_chimera_params(est) -> None:
    for name in ("d_model", "d_state", "d_ff", "e_layers"):
        check_int(name, getattr(est, name))
    check_dropout(est.dropout)
    check_flag("selective", est.selective)
    choice = est.gradient_checkpointing
    if not (isinstance(choice, (bool, np.bool_)) or (isinstance(choice, str) and choice == "auto")):
        raise ParameterError(f"gradient_checkpointing must be one of {RECOMPUTE_CHOICES}, got {choice!r}")
    if not est.selective:
        warn_unused(est, ("gradient_checkpointing",), "with selective=False (2-D convolutions: no scans to recompute)")


@register("forecaster")
class ChimeraForecaster(DeepForecaster):
    """Chimera: input-dependent 2-D state space models over the (time, variate) grid.

    Every value of the window (one time step of one variate) is projected to ``d_model``
    channels, and each layer runs 2-D selective scans over the grid: a state carried along time
    and a state carried along the variates, with input-dependent ``B``, ``C`` and step sizes.
    Two heads differ in their time step (a small-step *trend* head with long memory, a
    larger-step *seasonal* head), each scans the variates forwards and backwards, and a
    data-dependent gate mixes the result; a residual MLP follows. A linear map from each
    variate's encoded lookback gives its horizon, or, with ``decoder="closed_loop"``, the
    paper's closed-loop decoder: companion SSMs that roll their own state past the lookback and
    forecast any number of steps without feeding forecasts back. The paper's hyperparameters are
    unknown; see :mod:`tsrec.nn.chimera` for the design choices that are ours.

    Parameters
    ----------
    lookback : int, default=96
    horizon : int, default=96
        Steps forecast in one pass and trained on; with the linear decoder later steps are fed
        back in, the closed loop rolls on.
    d_model : int, default=16
        Channels per grid cell (not the paper's value, which is unknown; kept small because the
        CPU scan costs ``O(lookback * variates * d_model * d_state)`` per head: with the defaults
        one ETTh1 epoch, 8545 windows of 96 x 7, took about 2 minutes on one CPU thread in
        ``benchmarks/ltsf.py``, see docs/forecasting.md).
    d_state : int, default=8
        State size of each of the two 2-D SSM states.
    d_ff : int, default=32
        Width of the MLP after each 2-D SSM block.
    e_layers : int, default=1
        Stacked Chimera layers (the paper gives no number; one, like the small ``d_model``, keeps
        a CPU epoch affordable; ``tsrec.nn.chimera.Chimera`` itself defaults to 2).
    dropout : float, default=0.1
    norm : bool, default=True
        Instance normalisation of each variate's window, undone on the forecast.
    decoder : {"linear", "closed_loop"}, default="linear"
        Forecasting head: a linear map from the encoded lookback, or the closed-loop decoder (the
        paper's, in our reading). The linear head is the default because it scored better here:
        ETTh1, lookback 96, horizon 96, 3 epochs, MSE 0.383 against 0.415
        (``benchmarks/results/ltsf.md``).
    decoder_dim : int, default=64
        State size of each closed-loop companion SSM (only used by ``"closed_loop"``; set with the
        linear head, a warning says so).
    selective : bool, default=True
        Input-dependent (selective) 2-D SSMs. False learns ``B``, ``C`` and the steps as constants,
        the paper's input-independent mode, which runs each 2-D SSM as one global convolution
        (its impulse response, by FFT): 2.75x faster forward and backward at 7 variates, 1.44x at
        321, on one CPU thread (lookback 96; ``benchmarks/results/chimera_modes.md``), but the
        SSMs no longer select by input.
    gradient_checkpointing : {"auto", True, False}, default="auto"
        Recompute each selective 2-D SSM in the backward pass instead of keeping its state grids
        (:func:`tsrec.nn.chimera.recompute_scans`): one head's grids live at a time instead of
        four a layer, for one more forward pass of the scans; the trained weights are the same.
        ``"auto"`` recomputes where keeping them would likely not fit the training device's
        memory (twice the lower bound the fit checks above it). One batch at the defaults took
        1.9-2.5x less memory (2.5 GiB instead of 4.9 at 100 variates) for 1.1-1.8x the time of its
        forward and backward pass (``benchmarks/results/chimera_memory.md``, one thread).
    max_epochs, batch_size, lr, weight_decay, patience, val_size
        Shared training parameters (see docs/parameters.md). Adam at 1e-3, batch 32, 10 epochs,
        patience 3: our choices, the paper's are unknown.
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
    >>> from tsrec.estimators import ChimeraForecaster
    >>> index = pd.date_range("2024-01-01", periods=200, freq="h")
    >>> y = pd.DataFrame({"a": np.sin(np.arange(200) / 4.0), "b": np.cos(np.arange(200) / 4.0)}, index=index)
    >>> est = ChimeraForecaster(lookback=24, horizon=6, d_model=8, d_state=4, max_epochs=2).fit(y)
    >>> est.predict(fh=[1, 2, 3]).shape
    (3, 2)
    """

    _window_norm = "norm"

    def __init__(
        self,
        lookback: int = 96,
        horizon: int = 96,
        d_model: int = 16,
        d_state: int = 8,
        d_ff: int = 32,
        e_layers: int = 1,
        dropout: float = 0.1,
        norm: bool = True,
        decoder: str = "linear",
        decoder_dim: int = 64,
        selective: bool = True,
        gradient_checkpointing: bool | str = "auto",
        max_epochs: int = 10,
        batch_size: int = 32,
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
        loss: str = "mse",
        huber_delta: float = 1.0,
    ) -> None:
        self.lookback = lookback
        self.horizon = horizon
        self.d_model = d_model
        self.d_state = d_state
        self.d_ff = d_ff
        self.e_layers = e_layers
        self.dropout = dropout
        self.norm = norm
        self.decoder = decoder
        self.decoder_dim = decoder_dim
        self.selective = selective
        self.gradient_checkpointing = gradient_checkpointing
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

    def __setstate__(self, state: dict) -> None:
        state.setdefault("selective", True)  # pickled before the input-independent mode
        state.setdefault("gradient_checkpointing", "auto")  # pickled before it existed
        super().__setstate__(state)

    def _check_params(self) -> None:
        for name in ("lookback", "horizon"):
            check_int(name, getattr(self, name))
        _check_chimera_params(self)
        check_flag("norm", self.norm)
        check_choice("decoder", self.decoder, DECODERS)
        check_int("decoder_dim", self.decoder_dim)
        if self.decoder == "linear":
            warn_unused(self, ("decoder_dim",), "with decoder='linear'; set decoder='closed_loop' to use it")

    def _check_training_memory(self, config, n_variates: int, length: int, batch: int) -> None:
        # the plan is read by the network built next (a load builds it without: nothing to train)
        self._recompute_scans = plan_chimera_training_memory(self, config, n_variates, length, batch)

    def _build_network(self, n_channels: int, meta: dict) -> nn.Module:
        network = Chimera(self.lookback, self.horizon, d_model=self.d_model, d_state=self.d_state, d_ff=self.d_ff,
                          e_layers=self.e_layers, dropout=self.dropout, norm=self.norm, decoder=self.decoder,
                          decoder_dim=self.decoder_dim, selective=self.selective)
        return recompute_scans(network, getattr(self, "_recompute_scans", False))

    @property
    def _feeds_back_past_horizon(self) -> bool:
        return self.decoder != "closed_loop"  # the closed loop rolls its own state instead

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Two tiny configurations for sktime's conformance suite."""
        return [
            {"lookback": 4, "horizon": 2, "d_model": 4, "d_state": 2, "d_ff": 4, "max_epochs": 1, "batch_size": 8},
            {"lookback": 6, "horizon": 3, "d_model": 4, "d_state": 3, "d_ff": 6, "dropout": 0.0, "norm": False,
             "decoder": "closed_loop", "decoder_dim": 4, "selective": False, "max_epochs": 1, "batch_size": 8,
             "val_size": 0.25,
             "random_state": 4, "scaling": "global"},
        ]


@register("classifier")
class ChimeraClassifier(DeepClassifier):
    """Chimera's encoder as a classifier: 2-D selective SSMs over (time, channel), mean-pooled.

    Each value of each channel is a grid cell; the Chimera layers of :class:`ChimeraForecaster`
    (trend and seasonal 2-D SSM heads, both variate directions, a gate, a residual MLP) encode
    the grid, the features are averaged over time and channels, and a linear layer gives the
    class logits. The paper classifies (ECG, speech) but its head is not described; this is
    our choice.

    Parameters
    ----------
    d_model : int, default=16
    d_state : int, default=8
    d_ff : int, default=32
    e_layers : int, default=1
        Stacked Chimera layers (as the forecaster's).
    dropout : float, default=0.1
    selective : bool, default=True
        Input-dependent (selective) 2-D SSMs. False learns ``B``, ``C`` and the steps as constants,
        the paper's input-independent mode, which runs each 2-D SSM as one global convolution
        (its impulse response, by FFT): 2.75x faster forward and backward at 7 variates, 1.44x at
        321, on one CPU thread (lookback 96; ``benchmarks/results/chimera_modes.md``), but the
        SSMs no longer select by input.
    gradient_checkpointing : {"auto", True, False}, default="auto"
        Recompute each selective 2-D SSM in the backward pass instead of keeping its state grids
        (:func:`tsrec.nn.chimera.recompute_scans`): one head's grids live at a time instead of
        four a layer, for one more forward pass of the scans; the trained weights are the same.
        ``"auto"`` recomputes where keeping them would likely not fit the training device's
        memory (twice the lower bound the fit checks above it). One batch at the defaults took
        1.9-2.5x less memory (2.5 GiB instead of 4.9 at 100 variates) for 1.1-1.8x the time of its
        forward and backward pass (``benchmarks/results/chimera_memory.md``, one thread).
    max_epochs, batch_size, lr, weight_decay, patience, val_size
        Shared training parameters (see docs/parameters.md). By default all training samples are used
        for a fixed number of epochs (``val_size=0``): 300, three times the other classifiers',
        because at 100 the network had not fitted small training sets (ArrowHead, 36 series, three
        batches an epoch: training accuracy 0.64 after 100 epochs, 0.83 after 300).
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
    >>> from tsrec.estimators import ChimeraClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (20, 2, 15)), rng.normal(2, 1, (20, 2, 15))])
    >>> y = np.array(["a"] * 20 + ["b"] * 20)
    >>> clf = ChimeraClassifier(d_model=8, d_state=4, max_epochs=20, random_state=0).fit(X, y)
    >>> clf.predict(X[[0, 1, 38, 39]]).tolist()
    ['a', 'a', 'b', 'b']
    """

    def __init__(
        self,
        d_model: int = 16,
        d_state: int = 8,
        d_ff: int = 32,
        e_layers: int = 1,
        dropout: float = 0.1,
        selective: bool = True,
        gradient_checkpointing: bool | str = "auto",
        max_epochs: int = 300,
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
        self.d_ff = d_ff
        self.e_layers = e_layers
        self.dropout = dropout
        self.selective = selective
        self.gradient_checkpointing = gradient_checkpointing
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

    def __setstate__(self, state: dict) -> None:
        state.setdefault("selective", True)  # pickled before the input-independent mode
        state.setdefault("gradient_checkpointing", "auto")  # pickled before it existed
        super().__setstate__(state)

    def _check_params(self) -> None:
        _check_chimera_params(self)

    def _check_training_memory(self, config, n_variates: int, length: int, batch: int) -> None:
        # the plan is read by the network built next (a load builds it without: nothing to train)
        self._recompute_scans = plan_chimera_training_memory(self, config, n_variates, length, batch)

    def _build_encoder(self, n_channels: int, n_timepoints: int):
        encoder = ChimeraEncoder(self.d_model, self.d_state, self.d_ff, self.e_layers, self.dropout, pool=True,
                                 selective=self.selective)
        return recompute_scans(encoder, getattr(self, "_recompute_scans", False)), self.d_model

    # small and quick (sklearn's blobs: lowest accuracy 0.915 over seeds 0-2, against its bar of 0.83; width 4
    # misses it)
    _test_params = {"d_model": 8, "d_state": 2, "d_ff": 8, "max_epochs": 8, "lr": 0.01, "batch_size": 32}
