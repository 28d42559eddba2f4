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

from tsrec.kernels import closed_loop_rollout, companion_kernel, fft_conv
from tsrec.kernels.ssm_kernels.companion import companion_matrix, krylov

N_DIFFERENCES = 4  # differencing orders 0..3
N_MOVING_AVERAGES = 4  # moving-average residual kernels
MA_WINDOWS = (4, 64)  # window sizes drawn uniformly from [4, 64) at construction


def normalize(v: torch.Tensor, order: int) -> torch.Tensor:
    """Divide each row of ``v`` by its L``order`` norm (no-op for order 0 or a near-zero mean norm).

    Dividing ``a`` by its L1 norm keeps every root of ``z^d - sum_i a_i z^i`` in the closed unit
    disc, so the kernel cannot blow up; the official code skips the division when the mean norm
    over kernels is below 1e-4 (e.g. a frozen ``a = 0``).
    """
    if order == 0:
        return v
    norm = torch.linalg.vector_norm(v, ord=order, dim=-1, keepdim=True)
    # chosen on the device: an `if` on the mean would make a GPU wait for it on every forward
    skip = norm.detach().mean() < 1e-4
    return v / torch.where(skip, torch.ones_like(norm), norm)


def kernel_method(order: int) -> str:
    """:func:`companion_kernel`'s method for ``a`` normalised by its L``order`` norm.

    An L1-normalised ``a`` keeps the kernel bounded, where the FFT path is accurate (and, at large
    ``d``, the faster); any other ``a`` may grow, which only Krylov doubling keeps accurate. Named
    here, it spares ``method="auto"`` its host read of ``a`` (a GPU wait on every forward).
    """
    return "fft" if order == 1 else "krylov"


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
    kinds = [c % (N_DIFFERENCES + N_MOVING_AVERAGES) for c in range(width)]
    windows = iter(torch.randint(*MA_WINDOWS, (sum(k >= N_DIFFERENCES for k in kinds),), generator=generator).tolist())
    kernels = [difference_kernel(k) if k < N_DIFFERENCES else ma_residual_kernel(next(windows)) for k in kinds]
    taps = MA_WINDOWS[1] - 1
    return torch.stack([F.pad(k, (0, taps - len(k))) for k in kernels]).to(torch.get_default_dtype())


class PreprocessSSM(nn.Module):
    """Fixed (non-trainable) FIR pre-processing, one kernel per channel, by causal convolution."""

    def __init__(self, width: int) -> None:
        super().__init__()
        # a buffer, so saved weights restore the drawn moving-average windows
        self.register_buffer("kernel", preprocessing_bank(width))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return fft_conv(u, self.kernel.to(u.dtype))


class CompanionSSM(nn.Module):
    """Open-loop companion SSM layer on (batch, time, width): ``n_kernels`` SSMs, each shared by
    ``width // n_kernels`` consecutive channels, plus a per-channel skip ``D`` (initialised to ones).

    Only ``a`` is divided by its norm: that bounds the roots of the companion polynomial, which
    is all stability needs; ``b`` and ``c`` only scale the kernel (as in the official encoder).

    Parameters
    ----------
    width : int
        Channels of the input and output (the last axis).
    n_kernels : int
        Distinct SSMs, each with its own ``a``, ``b``, ``c``; ``width`` must be a multiple of it,
        otherwise a ``ValueError`` is raised.
    state_dim : int
        State size ``d`` of every SSM (the length of ``a``, ``b`` and ``c``).
    norm_order : int, default=1
        Norm dividing each ``a`` (0: no division).
    skip : bool, default=True
        Add the skip term ``D u`` (one learned weight per channel, initialised to ones).

    Examples
    --------
    >>> import torch
    >>> CompanionSSM(width=8, n_kernels=4, state_dim=6)(torch.randn(2, 30, 8)).shape
    torch.Size([2, 30, 8])
    """

    def __init__(self, width: int, n_kernels: int, state_dim: int, norm_order: int = 1, skip: bool = True) -> None:
        super().__init__()
        if width % n_kernels:
            raise ValueError(f"width ({width}) must be a multiple of n_kernels ({n_kernels})")
        self.repeats, self.norm_order = width // n_kernels, norm_order
        self.a, self.b, self.c = (nn.Parameter(torch.randn(n_kernels, state_dim)) for _ in range(3))
        self.D = nn.Parameter(torch.ones(width)) if skip else None

    def abc(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(normalised a, b, c)``, each ``(n_kernels, state_dim)``."""
        return normalize(self.a, self.norm_order), self.b, self.c

    def kernel(self, length: int) -> torch.Tensor:
        """``K_j = c^T A^j b`` for ``j < length``, repeated to one row per channel: ``(width, length)``."""
        kernel = companion_kernel(*self.abc(), length, method=kernel_method(self.norm_order))
        return kernel.repeat_interleave(self.repeats, dim=0)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return fft_conv(u, self.kernel(u.shape[1]), D=self.D)


class SpaceTimeBlock(nn.Module):
    """``z = preprocess(u)``; ``y = SSM(z)``; ``out = z + Dropout(y + Linear(GELU(y)))``."""

    def __init__(self, width: int, n_kernels: int, state_dim: int, dropout: float, norm_order: int,
                 preprocess: bool) -> None:
        super().__init__()
        self.preprocess = PreprocessSSM(width) if preprocess else nn.Identity()
        self.ssm = CompanionSSM(width, n_kernels, state_dim, norm_order)
        self.mlp = nn.Sequential(nn.GELU(), nn.Linear(width, width))
        self.dropout = nn.Dropout(dropout)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        z = self.preprocess(u)
        y = self.ssm(z)
        return z + self.dropout(y + self.mlp(y))

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
        self.width, self.pool = width, pool
        self.pool_norm = nn.LayerNorm(width) if pool else None
        self.embed = None if in_features is None else nn.Linear(in_features, width)
        self.blocks = nn.ModuleList(
            SpaceTimeBlock(width, n_kernels if i == 0 else width, state_dim, dropout, norm_order, preprocess=i == 0)
            for i in range(n_blocks)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.expand(-1, -1, self.width) if self.embed is None else self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.pool_norm(h).mean(dim=1) if self.pool else h


class ClosedLoopSSM(nn.Module):
    """SpaceTime's decoder: ``width`` companion SSMs that also predict their next input ``k^T x``.

    ``forward(u, horizon)`` consumes the lag window ``u`` (batch, lag, width) into the state
    ``s = sum_j A^{lag-1-j} b u_j`` and rolls ``y_i = c^T (A + b k^T)^i s``: no input is read
    after the lag. :meth:`open_loop` gives the same layer's next-step outputs over the lag,
    ``c^T x_{t+1}`` and ``k^T x_{t+1}`` at position ``t`` (for the training losses).

    Parameters
    ----------
    width : int
        Channels; each has its own SSM (``a``, ``b``, ``c`` and the next-input map ``k``).
    state_dim : int
        State size ``d`` of every SSM.
    norm_order : int, default=1
        Norm dividing each of ``a``, ``b``, ``c`` and ``k`` (0: no division).

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> decoder = ClosedLoopSSM(width=8, state_dim=6)
    >>> u = torch.randn(2, 30, 8)
    >>> forecast = decoder(u, horizon=5)
    >>> forecast.shape
    torch.Size([2, 5, 8])
    >>> y_next, u_next = decoder.open_loop(u)
    >>> y_next.shape, u_next.shape
    (torch.Size([2, 30, 8]), torch.Size([2, 30, 8]))

    The first closed-loop step is the open-loop prediction after the last input:

    >>> torch.allclose(forecast[:, 0], y_next[:, -1], atol=1e-5)
    True
    """

    def __init__(self, width: int, state_dim: int, norm_order: int = 1) -> None:
        super().__init__()
        self.norm_order = norm_order
        self.a, self.b, self.c, self.k = (nn.Parameter(torch.randn(width, state_dim)) for _ in range(4))

    def abck(self) -> tuple[torch.Tensor, ...]:
        return tuple(normalize(v, self.norm_order) for v in (self.a, self.b, self.c, self.k))

    def final_state(self, u: torch.Tensor) -> torch.Tensor:
        """State after the last input, ``(batch, width, state_dim)``: ``sum_j A^{lag-1-j} b u_j``.

        The basis kernel ``[b, Ab, ..., A^{lag-1} b]`` comes from the kernels' Krylov doubling
        (6x faster here than ``d`` scalar kernels ``e_i^T A^j b`` by FFT).
        """
        a, b, _, _ = self.abck()
        basis = krylov(companion_matrix(a), b, u.shape[1]).flip(-1)  # [w, :, j] = A^{lag-1-j} b
        return torch.einsum("btw,wdt->bwd", u, basis.to(u.dtype))

    def forward(self, u: torch.Tensor, horizon: int) -> torch.Tensor:
        a, b, c, k = self.abck()
        return closed_loop_rollout(a, b, c, k, self.final_state(u), horizon)

    def open_loop(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b, c, k = self.abck()
        lag = u.shape[1]
        method = kernel_method(self.norm_order)
        kernels = torch.stack([companion_kernel(a, b, v, lag, method=method) for v in (c, k)])
        out = fft_conv(u, kernels)  # (batch, lag, 2, width)
        return out[:, :, 0], out[:, :, 1]


class SpaceTime(nn.Module):
    """SpaceTime forecaster network: (batch, lookback, channels) -> (batch, horizon, channels).

    Channel-independent: every variate is a separate univariate sample of the same network, as
    the paper's (univariate) model.

    Parameters
    ----------
    lookback, horizon : int
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
        Norm dividing the encoder's ``a`` and the decoder's ``a, b, c, k`` (0: none).

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
        self.horizon = horizon
        self.skip = max(min(kernel_dim - 1, lookback - 1), 0)  # open-loop positions left out of the loss
        self.encoder = SpaceTimeEncoder(None, width, n_kernels, kernel_dim, n_blocks, dropout, norm_order)
        self.decoder = ClosedLoopSSM(width, kernel_dim, norm_order)
        self.head = nn.Sequential(nn.GELU(), nn.Linear(width, 1), nn.Dropout(dropout))

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-variate samples (batch*channels, lag, 1) -> (encoded, lag mean)."""
        u = x.transpose(1, 2).reshape(-1, x.shape[1], 1)
        mean = u.mean(dim=1, keepdim=True)
        return self.encoder(u - mean), mean

    def _to_channels(self, out: torch.Tensor, batch: int) -> torch.Tensor:
        return out.reshape(batch, -1, out.shape[1]).transpose(1, 2)

    def forward(self, x: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        """Forecast ``steps`` (default ``horizon``) steps; the closed loop rolls on for any number."""
        z, mean = self._encode(x)
        return self._forecast(z, mean, steps or self.horizon, x.shape[0])

    def _forecast(self, z: torch.Tensor, mean: torch.Tensor, steps: int, batch: int) -> torch.Tensor:
        out = self.head(self.decoder(z, steps)) + mean
        return self._to_channels(out[..., 0], batch)

    def loss_terms(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """RMSE of (closed-loop forecast, open-loop next step over the lag, decoder next input)."""
        z, mean = self._encode(x)
        forecast = self._forecast(z, mean, self.horizon, x.shape[0])
        y_open, u_next = self.decoder.open_loop(z)
        y_open = self._to_channels((self.head(y_open) + mean)[..., 0], x.shape[0])
        s = self.skip
        # position t of the open loop predicts t + 1: lag values s+1.. and the first target
        series = torch.cat([x, y[:, :1]], dim=1)
        terms = [_rmse(forecast, y), _rmse(y_open[:, s:], series[:, s + 1 :])]
        terms.append(_rmse(u_next[:, s:-1], z[:, s + 1 :]) if z.shape[1] > s + 1 else forecast.new_zeros(()))
        return torch.stack(terms)


def _rmse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(torch.mean((pred - target) ** 2))
