"""SpaceTime (Zhang et al., "Effectively Modeling Time Series with Simple Discrete State Spaces", ICLR 2023).

Every layer is a bank of companion SSMs ``x_{k+1} = A x_k + b u_k``, ``y_k = c^T x_k + D u_k``
with ``A = S + a e_d^T`` (shift plus a learned last column), run as a causal convolution with the
kernel ``K_j = c^T A^j b`` (:func:`tsrec.kernels.companion_kernel`, :func:`tsrec.kernels.fft_conv`).
The forecaster is: instance "mean" transform -> ``repeat`` embedding of the scalar to ``width``
channels -> encoder blocks (fixed pre-processing FIR SSM in the first block, companion SSM, GELU /
Linear MLP with residuals) -> a closed-loop companion decoder that predicts its own next input
``u = k^T x`` and so rolls ``(A + b k^T)^i s`` over the horizon
(:func:`tsrec.kernels.closed_loop_rollout`) -> GELU / Linear head. As in the official code, dropout
acts on the outputs of the MLPs (``Dropout(y + Linear(GELU(y)))`` and ``Dropout(Linear(GELU(h)))``),
and the pre-processing channel layout, the encoder's normalisation of ``a`` alone and its skip
``D`` initialised to ones follow the official modules where the reference notes summarise them
differently.

Design choices the reference does not settle, marked [inferred]:

- The closed-loop initial state ``s`` uses the normalised ``b`` like every other path (the
  official code uses the un-normalised ``b`` there); then the closed loop at step 0 equals the
  open-loop next-step prediction of the same layer.
- ``n_blocks`` counts encoder blocks (the official code's 1 and 2 both give one block).
- Pre-processing channel ``c`` gets FIR kernel ``c % 8`` (the official ``(repeat, kernel)`` channel
  order), so each encoder SSM, shared by consecutive channels, sees all eight filtered signals;
  every moving-average channel draws its own window. Widths below 8 use the first ``width`` kernels.
- The closed-loop decoder divides ``a, b, c, k`` by their norms (the reference's reading; the
  official decoder changed how it normalises across versions).
- :meth:`SpaceTime.loss_terms` also gives the RMSE of the decoder's predicted next
  input against the encoder output, which the reference notes list as a third training term;
  the official training step has that term commented out, so the estimator weights it 0 by
  default.
- For lookbacks not longer than ``kernel_dim`` the open-loop terms skip ``lookback - 1``
  positions instead of ``kernel_dim - 1``, so they are never empty.
- The classifier's encoder embeds the channels with a linear map (``repeat`` needs one channel)
  and averages the last block's output over time after a LayerNorm of each step's channels
  (plain mean pooling of these nearly linear blocks hardly separates z-normalised series).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from tsrec.kernels import fft_conv
from tsrec.nn._checks import check_dropout, check_flag, check_input, check_int, check_ints, check_steps
from tsrec.nn.companion_ssm import ClosedLoopSSM, CompanionSSM  # also keeps pickles that name them here loading

N_DIFFERENCES = 4  # differencing orders 0..3
N_MOVING_AVERAGES = 4  # moving-average residual kernels
MA_WINDOWS = (4, 64)  # window sizes drawn uniformly from [4, 64) at construction


def difference_kernel(order: int) -> torch.Tensor:
    """float64 taps of ``(1 - z)^order``: ``[1]``, ``[1, -1]``, ``[1, -2, 1]``, ``[1, -3, 3, -1]``, ..."""
    return torch.tensor([(-1.0) ** j * math.comb(order, j) for j in range(order + 1)], dtype=torch.float64)


def ma_residual_kernel(window: int) -> torch.Tensor:
    """float64 taps of ``u_t - mean(u_{t-w+1..t})``: ``1 - 1/w`` then ``w - 1`` taps of ``-1/w``."""
    taps = torch.full((window,), -1.0 / window, dtype=torch.float64)
    taps[0] += 1.0
    return taps


def preprocessing_bank(width: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """The fixed FIR kernels of the first encoder block, one per channel: ``(width, 63)``.

    Channel ``c`` gets kernel type ``c % 8``: types 0-3 difference the input (orders 0-3), types
    4-7 subtract a moving average, each such channel with its own window drawn from ``[4, 64)``.
    """
    taps = MA_WINDOWS[1] - 1
    if torch.get_default_device().type == "meta":  # an outline of the network: shapes, no values to draw
        return torch.empty(width, taps)
    kinds = [c % (N_DIFFERENCES + N_MOVING_AVERAGES) for c in range(width)]
    windows = iter(torch.randint(*MA_WINDOWS, (sum(k >= N_DIFFERENCES for k in kinds),), generator=generator).tolist())
    kernels = [difference_kernel(k) if k < N_DIFFERENCES else ma_residual_kernel(next(windows)) for k in kinds]
    return torch.stack([F.pad(k, (0, taps - len(k))) for k in kernels]).to(torch.get_default_dtype())


class PreprocessSSM(nn.Module):
    """Fixed (non-trainable) FIR pre-processing, one kernel per channel, by causal convolution.

    Parameters
    ----------
    width : int
        Channels; channel ``c`` gets kernel ``c % 8`` of :func:`preprocessing_bank`.

    Examples
    --------
    >>> PreprocessSSM(width=8)(torch.randn(2, 30, 8)).shape
    torch.Size([2, 30, 8])
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        width = check_int("width", width)
        # a buffer, so saved weights restore the drawn moving-average windows
        self.register_buffer("kernel", preprocessing_bank(width))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """(batch, time, width) -> the same shape; any floating dtype (the kernel is cast to it)."""
        check_input("u", u, ("batch", "time", ("width", self.kernel.shape[0], "width")))
        kernel = self.kernel.to(u.dtype)
        if u.shape[-1] > 1 and u.stride(-1) == 0:  # one series repeated (the encoder's expanded input):
            # filter it once with every kernel rather than each copy with its own (a 4% faster step)
            return fft_conv(u[..., :1], kernel.unsqueeze(1)).squeeze(-1)
        return fft_conv(u, kernel)


class SpaceTimeBlock(nn.Module):
    """``z = preprocess(u)``; ``y = SSM(z)``; ``out = z + Dropout(y + Linear(GELU(y)))``.

    Parameters
    ----------
    width, n_kernels, state_dim, norm_order : int
        Channels, and the :class:`CompanionSSM` arguments of the same names.
    dropout : float
        Dropout on ``y + Linear(GELU(y))``.
    preprocess : bool
        Apply :class:`PreprocessSSM` first (the first encoder block); otherwise the identity.

    Examples
    --------
    >>> SpaceTimeBlock(8, 4, 6, dropout=0.0, norm_order=1, preprocess=True)(torch.randn(2, 30, 8)).shape
    torch.Size([2, 30, 8])
    """

    def __init__(self, width: int, n_kernels: int, state_dim: int, dropout: float, norm_order: int,
                 preprocess: bool) -> None:
        super().__init__()
        dropout, preprocess = check_dropout(dropout), check_flag("preprocess", preprocess)
        self.preprocess = PreprocessSSM(width) if preprocess else nn.Identity()
        self.ssm = CompanionSSM(width, n_kernels, state_dim, norm_order)
        self.mlp = nn.Sequential(nn.GELU(), nn.Linear(width, width))
        self.dropout = nn.Dropout(dropout)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """``z + Dropout(y + Linear(GELU(y)))`` with ``z = preprocess(u)`` and ``y = SSM(z)``.

        Parameters
        ----------
        u : torch.Tensor
            Inputs, (batch, time, width).

        Returns
        -------
        torch.Tensor
            The block's output, (batch, time, width).
        """
        z = self.preprocess(u)
        if isinstance(self.preprocess, PreprocessSSM) and u.shape[-1] > 1 and u.stride(-1) == 0:
            y = self._filtered_ssm(u[..., :1])  # the encoder's one series repeated to every channel
        else:
            y = self.ssm(z)
        return z + self.dropout(y + self.mlp(y))

    def _filtered_ssm(self, series: torch.Tensor) -> torch.Tensor:
        """``self.ssm(self.preprocess(u))`` for ``u`` one series (batch, time, 1) repeated to every channel.

        Channel ``c`` of the SSM's output is ``(K_c + D_c delta) * f_c * u`` with ``f_c`` its FIR
        pre-processing kernel; causal convolutions associate (and the first ``time`` outputs need only
        the first ``time`` taps), so the two kernels are convolved first, ``(width, time)``, and the
        one series is filtered with every composite kernel: one small transform of the input instead
        of one per channel, no separate skip term, and in the backward no conjugated copy of every
        channel's spectrum (about 12% of a training step at the forecaster's defaults on ETTh1, one CPU
        thread). Equal to the two-stage path to rounding (float64: 1e-15 where the kernels stay bounded,
        as at the defaults; kernels that grow to 1e6 are rounded by both paths' FFTs, by about 1e-8 of
        their size against direct sums, the composite one no worse). ``self.ssm``'s own
        ``forward`` (and any hook on it) is not called on this path.
        """
        time = series.shape[1]
        ssm_kernel = self.ssm.kernel(time)
        if self.ssm.D is not None:  # the skip D u is tap 0 of the kernel
            ssm_kernel = torch.cat([ssm_kernel[:, :1] + self.ssm.D.unsqueeze(1), ssm_kernel[:, 1:]], dim=1)
        fir = self.preprocess.kernel.to(ssm_kernel.dtype)
        # (1, time, width) filtered channel by channel with its FIR kernel: the composite kernels, time first
        composite = fft_conv(ssm_kernel.t().unsqueeze(0), fir)[0].t()
        return fft_conv(series, composite.unsqueeze(1)).squeeze(-1)

    def __setstate__(self, state: dict) -> None:
        if "dropout" not in state.get("_modules", {}):
            # pickled before the official layout: its filters, normalisation and dropout differ
            raise RuntimeError(
                "this SpaceTime network was pickled by an earlier tsrec, whose encoder layout differs from the "
                "current one; fit the estimator again (and save it with est.save(folder) to keep it)"
            )
        super().__setstate__(state)


class SpaceTimeEncoder(nn.Module):
    """Embedding and encoder blocks: (batch, time, in_features) -> (batch, time, width).

    ``in_features=None`` is the forecaster's ``repeat`` embedding of one scalar series; an int
    embeds that many channels with a linear map. The first block pre-processes its input with the
    fixed FIR bank and uses ``n_kernels`` SSMs; later blocks have one SSM per channel and no
    pre-processing. ``pool=True`` layer-normalises every step's channels and averages over time
    (the classifier's summary): the blocks are nearly linear filters, and the time mean of a linear
    filter of a zero-mean series is nearly the same for every series, so the per-step
    normalisation is what makes the mean informative.

    Parameters
    ----------
    in_features : int or None
        Channels of the input; ``None`` for one scalar series repeated to ``width`` channels.
    width : int, default=128
        Channels of the encoder blocks.
    n_kernels : int, default=16
        Distinct SSMs of the first block (``width`` must be a multiple of it).
    state_dim : int, default=64
        State size ``d`` of every companion SSM.
    n_blocks : int, default=1
        Encoder blocks.
    dropout : float, default=0.25
        Dropout on each block's ``y + Linear(GELU(y))`` before the residual sum.
    norm_order : int, default=1
        Norm dividing each SSM's ``a`` (0: no division).
    pool : bool, default=False
        Return the time mean of the layer-normalised last block, ``(batch, width)``, instead of
        every step.

    Examples
    --------
    >>> import torch
    >>> SpaceTimeEncoder(3, width=8, n_kernels=4, state_dim=6, pool=True)(torch.randn(2, 30, 3)).shape
    torch.Size([2, 8])
    """

    def __init__(self, in_features: int | None, width: int = 128, n_kernels: int = 16, state_dim: int = 64,
                 n_blocks: int = 1, dropout: float = 0.25, norm_order: int = 1, pool: bool = False) -> None:
        super().__init__()
        width, n_kernels, state_dim, n_blocks = check_ints(width=width, n_kernels=n_kernels, state_dim=state_dim,
                                                           n_blocks=n_blocks)
        in_features = None if in_features is None else check_int("in_features", in_features, hint=" or None")
        norm_order, dropout = check_int("norm_order", norm_order, minimum=0), check_dropout(dropout)
        self.width, self.pool = width, check_flag("pool", pool)
        self.pool_norm = nn.LayerNorm(width) if pool else None
        self.embed = None if in_features is None else nn.Linear(in_features, width)
        self.blocks = nn.ModuleList(
            SpaceTimeBlock(width, n_kernels if i == 0 else width, state_dim, dropout, norm_order, preprocess=i == 0)
            for i in range(n_blocks)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, in_features, or 1 without) -> (batch, time, width), or (batch, width) pooled.

        Parameters
        ----------
        x : torch.Tensor
            Inputs, (batch, time, in_features); (batch, time, 1) when built with
            ``in_features=None``.

        Returns
        -------
        torch.Tensor
            The last block's output, (batch, time, width), or with ``pool`` its layer-normalised
            time mean, (batch, width).
        """
        first = self.blocks[0].mlp[1] if self.embed is None else self.embed
        n_in = 1 if self.embed is None else self.embed.in_features
        check_input("x", x, ("batch", "time", ("features", n_in, "in_features")), first.weight)
        h = x.expand(-1, -1, self.width) if self.embed is None else self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.pool_norm(h).mean(dim=1) if self.pool else h


class SpaceTime(nn.Module):
    """SpaceTime forecaster network: (batch, lookback, channels) -> (batch, horizon, channels).

    Channel-independent: every variate is a separate univariate sample of the same network, as
    the paper's (univariate) model.

    Parameters
    ----------
    lookback : int
        Lookback of the training windows. It fixes no input length (any number of steps works:
        the encoder convolves over time and the decoder rolls on from the last state); it only
        sets how many leading positions the open-loop terms of :meth:`loss_terms` leave out,
        ``min(kernel_dim, lookback) - 1`` (see the notes in the module docstring).
    horizon : int
        Steps that ``forward`` forecasts by default and that ``y`` of :meth:`loss_terms` holds.
    width : int, default=128
        Channels of the encoder and decoder.
    n_kernels : int, default=16
        Distinct SSMs of the first encoder block (``width`` must be a multiple).
    kernel_dim : int, default=64
        State size ``d`` of every companion SSM.
    n_blocks : int, default=1
        Encoder blocks.
    dropout : float, default=0.25
    norm_order : int, default=1
        Norm dividing the encoder's ``a`` and the decoder's ``a, b, c, k`` (0: none, whose random
        start overflows within a few dozen steps: see :class:`~tsrec.estimators.SpaceTimeForecaster`).

    Examples
    --------
    >>> import torch
    >>> net = SpaceTime(lookback=24, horizon=6, width=8, n_kernels=4, kernel_dim=8)
    >>> net(torch.randn(4, 24, 2)).shape
    torch.Size([4, 6, 2])
    """

    uses_position = False

    def __init__(self, lookback: int, horizon: int, width: int = 128, n_kernels: int = 16, kernel_dim: int = 64,
                 n_blocks: int = 1, dropout: float = 0.25, norm_order: int = 1) -> None:
        super().__init__()
        lookback, horizon, kernel_dim = check_ints(lookback=lookback, horizon=horizon, kernel_dim=kernel_dim)
        self.horizon = horizon
        self.skip = max(min(kernel_dim - 1, lookback - 1), 0)  # open-loop positions left out of the loss
        self.encoder = SpaceTimeEncoder(None, width, n_kernels, kernel_dim, n_blocks, dropout, norm_order)
        self.decoder = ClosedLoopSSM(width, kernel_dim, norm_order)
        self.head = nn.Sequential(nn.GELU(), nn.Linear(width, 1), nn.Dropout(dropout))

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-variate samples (batch*channels, lag, 1) -> (encoded, lag mean)."""
        check_input("x", x, ("batch", "time", "channels"), self.head[1].weight)
        u = x.transpose(1, 2).reshape(-1, x.shape[1], 1)
        mean = u.mean(dim=1, keepdim=True)
        return self.encoder(u - mean), mean

    def _to_channels(self, out: torch.Tensor, batch: int) -> torch.Tensor:
        return out.reshape(batch, -1, out.shape[1]).transpose(1, 2)

    def forward(self, x: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        """Forecast ``steps`` (default ``horizon``) steps; the closed loop rolls on for any number.

        Parameters
        ----------
        x : torch.Tensor
            The lookback window, (batch, time, channels); each channel is forecast as a
            separate univariate series.
        steps : int or None, default=None
            Steps to forecast, >= 1; None forecasts ``horizon``.

        Returns
        -------
        torch.Tensor
            The forecast, (batch, steps, channels).
        """
        steps = check_steps(steps, self.horizon)
        z, mean = self._encode(x)
        return self._forecast(z, mean, steps, x.shape[0])

    def _forecast(self, z: torch.Tensor, mean: torch.Tensor, steps: int, batch: int) -> torch.Tensor:
        out = self.head(self.decoder(z, steps)) + mean
        return self._to_channels(out[..., 0], batch)

    def loss_terms(self, x: torch.Tensor, y: torch.Tensor, next_input: bool = True) -> torch.Tensor:
        """RMSE of (closed-loop forecast, open-loop next step over the lag, decoder next input).

        Parameters
        ----------
        x : torch.Tensor
            The lookback window, (batch, time, channels).
        y : torch.Tensor
            The true next ``horizon`` steps, (batch, horizon, channels).
        next_input : bool, default=True
            Compute the third term; False (for a weight of 0) leaves it 0 and skips its work.

        Returns
        -------
        torch.Tensor
            The three RMSEs, shape (3,); the last is 0 when the lag is too short for it.
        """
        next_input = check_flag("next_input", next_input)
        z, mean = self._encode(x)
        # in the parameters' dtype and on their device, as x: a float64 y made the loss float64
        check_input("y", y, (("batch", x.shape[0]), ("horizon", self.horizon, "horizon"), ("channels", x.shape[2])),
                    self.head[1].weight)
        forecast = self._forecast(z, mean, self.horizon, x.shape[0])
        y_open, u_next = self.decoder.open_loop(z, next_input)
        y_open = self._to_channels((self.head(y_open) + mean)[..., 0], x.shape[0])
        # a window shorter than the lookback's skip (any length works) keeps at least its last open-loop
        # position, which predicts the first target: an empty slice made this term a silent NaN
        s = min(self.skip, x.shape[1] - 1)
        # position t of the open loop predicts t + 1: lag values s+1.. and the first target
        series = torch.cat([x, y[:, :1]], dim=1)
        terms = [_rmse(forecast, y), _rmse(y_open[:, s:], series[:, s + 1 :])]
        has_next = next_input and z.shape[1] > s + 1
        terms.append(_rmse(u_next[:, s:-1], z[:, s + 1 :]) if has_next else forecast.new_zeros(()))
        return torch.stack(terms)


def _rmse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(torch.mean((pred - target) ** 2))
