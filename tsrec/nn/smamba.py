"""S-Mamba (Wang et al., "Is Mamba Effective for Time Series Forecasting?", 2024).

Each variate's whole lookback series becomes one token (one shared ``Linear(lookback ->
d_model)``), calendar-feature series join as extra tokens, and encoder layers mix the tokens with
a bidirectional Mamba (two independent Mamba-1 blocks, one over the reversed token order, summed)
and a per-token feed-forward network, post-norm. A linear map per token gives the horizon. The
selective scan runs over the *variate* axis, on :func:`tsrec.kernels.selective_scan`.

Mamba block as in mamba_ssm 1.2.0 with S-Mamba's settings (``d_conv=2``, ``expand=1``):
``[x, z] = W_in h``; ``x = silu(causal depthwise conv(x))``; ``(delta, B, C) = W_x x``;
``Delta = softplus(W_dt delta + b_dt)``; ``h_t = exp(Delta A) h_{t-1} + Delta x B``,
``y = C h + D x``; ``out = W_out (y * silu(z))``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from tsrec.kernels import selective_scan
from tsrec.nn._checks import (check_dropout, check_dt_range, check_flag, check_input, check_int, check_ints,
                              check_marks, check_positive)
from tsrec.nn.normalization import InstanceNorm


def step_bias(size: int, dt_min: float, dt_max: float, dt_floor: float = 1e-4) -> torch.Tensor:
    """Mamba's step-size bias: steps drawn log-uniformly in ``[dt_min, dt_max]`` (at least
    ``dt_floor``), returned through the softplus inverse so that ``softplus(bias)`` gives them."""
    dt = torch.exp(torch.rand(size) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
    dt = dt.clamp(min=dt_floor)
    return dt + torch.log(-torch.expm1(-dt))


class MambaBlock(nn.Module):
    """One Mamba-1 block over (batch, length, d_model), with mamba_ssm's initialisation.

    The step-size projection has rank ``ceil(d_model / 16)`` (mamba_ssm's ``dt_rank="auto"``).

    Parameters
    ----------
    d_model : int
        Width of the input and output.
    d_state : int, default=16
        State size N of each inner channel (``A`` starts at ``-(1, 2, ..., N)``).
    d_conv : int, default=2
        Kernel size of the causal depthwise convolution (S-Mamba: 2; mamba_ssm's default: 4).
    expand : int, default=1
        Inner width ``expand * d_model`` (S-Mamba: 1; mamba_ssm's default: 2).
    dt_min, dt_max : float, default=1e-3, 0.1
        Range of the initial step sizes, drawn log-uniformly.
    dt_floor : float, default=1e-4
        Smallest initial step size.

    Examples
    --------
    >>> import torch
    >>> MambaBlock(d_model=16, d_state=4)(torch.randn(2, 5, 16)).shape
    torch.Size([2, 5, 16])
    """

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 2, expand: int = 1,
                 dt_min: float = 1e-3, dt_max: float = 0.1, dt_floor: float = 1e-4) -> None:
        super().__init__()
        d_model, d_state, d_conv, expand = check_ints(d_model=d_model, d_state=d_state, d_conv=d_conv, expand=expand)
        dt_min, dt_max = check_dt_range(dt_min, dt_max)
        dt_floor = check_positive("dt_floor", dt_floor)
        d_inner = expand * d_model
        self.dt_rank = math.ceil(d_model / 16)
        self.d_state = d_state
        self.in_proj = nn.Linear(d_model, 2 * d_inner, bias=False)
        self.conv = nn.Conv1d(d_inner, d_inner, d_conv, groups=d_inner, padding=d_conv - 1)
        self.x_proj = nn.Linear(d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, d_inner)
        self.out_proj = nn.Linear(d_inner, d_model, bias=False)
        nn.init.uniform_(self.dt_proj.weight, -self.dt_rank**-0.5, self.dt_rank**-0.5)
        with torch.no_grad():
            self.dt_proj.bias.copy_(step_bias(d_inner, dt_min, dt_max, dt_floor))
        # S4D-real: A = -(1, 2, ..., N) for every channel
        self.A_log = nn.Parameter(
            torch.log(torch.arange(1, d_state + 1, dtype=torch.get_default_dtype())).repeat(d_inner, 1))
        self.D = nn.Parameter(torch.ones(d_inner))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(batch, length, d_model) -> the same shape.

        Parameters
        ----------
        h : torch.Tensor
            Input sequence, (batch, length, d_model).

        Returns
        -------
        torch.Tensor
            The block's output, (batch, length, d_model).
        """
        check_input("h", h, ("batch", "length", ("d_model", self.in_proj.in_features, "d_model")), self.in_proj.weight)
        length = h.shape[1]
        x, z = self.in_proj(h).chunk(2, dim=-1)
        x = F.silu(self.conv(x.transpose(1, 2))[..., :length].transpose(1, 2))  # causal: drop the right pad
        delta, B, C = self.x_proj(x).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        delta = F.linear(delta, self.dt_proj.weight)  # the bias goes in as delta_bias, before softplus
        y = selective_scan(x, delta, -torch.exp(self.A_log), B, C, D=self.D, z=z,
                           delta_bias=self.dt_proj.bias, delta_softplus=True)
        return self.out_proj(y)


class BidirectionalMamba(nn.Module):
    """``M_f(x) + flip(M_b(flip(x)))`` over the token axis, two blocks without shared weights.

    On (batch, tokens, d_model); ``M_f`` and ``M_b`` are :class:`MambaBlock` modules with their
    default (S-Mamba) settings.

    Parameters
    ----------
    d_model : int
        Token width (input and output).
    d_state : int
        State size ``N`` of each Mamba block.

    Examples
    --------
    >>> import torch
    >>> BidirectionalMamba(d_model=8, d_state=2)(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 8])
    """

    def __init__(self, d_model: int, d_state: int) -> None:
        super().__init__()
        self.forward_block = MambaBlock(d_model, d_state)
        self.backward_block = MambaBlock(d_model, d_state)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The forward block's output plus the backward block's, run on the reversed tokens.

        Parameters
        ----------
        x : torch.Tensor
            Tokens, (batch, tokens, d_model).

        Returns
        -------
        torch.Tensor
            The summed outputs, (batch, tokens, d_model).
        """
        return self.forward_block(x) + self.backward_block(x.flip(1)).flip(1)


class SMambaLayer(nn.Module):
    """Post-norm encoder layer: bidirectional Mamba over tokens, then a per-token FFN.

    ``x <- LN(x + BiMamba(x))``; ``x <- LN(x + FFN(x))`` on (batch, tokens, d_model), with
    ``FFN = Linear(d_model -> d_ff) -> GELU -> Dropout -> Linear(d_ff -> d_model) -> Dropout``.

    Parameters
    ----------
    d_model : int
        Token width (input and output).
    d_ff : int
        Hidden width of the feed-forward network.
    d_state : int
        State size ``N`` of the Mamba blocks.
    dropout : float
        Dropout inside the feed-forward network (after the GELU and on its output).

    Examples
    --------
    >>> import torch
    >>> SMambaLayer(d_model=8, d_ff=16, d_state=2, dropout=0.0)(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 8])
    """

    def __init__(self, d_model: int, d_ff: int, d_state: int, dropout: float) -> None:
        super().__init__()
        d_model, d_ff, d_state = check_ints(d_model=d_model, d_ff=d_ff, d_state=d_state)
        dropout = check_dropout(dropout)
        self.mixer = BidirectionalMamba(d_model, d_state)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.ffn = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model),
                                 nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, tokens, d_model) -> the same shape."""
        d_model = ("d_model", self.norm1.normalized_shape[0], "d_model")
        check_input("x", x, ("batch", "tokens", d_model), self.mixer.forward_block.in_proj.weight)
        x = self.norm1(x + self.mixer(x))
        return self.norm2(x + self.ffn(x))


class SMambaTokens(nn.Module):
    """Embed each series of (batch, length, series) as a token and run the S-Mamba layers over them.

    Returns the final-normed tokens (batch, series, d_model); ``pool=True`` averages them into one
    vector per sample (the sequence summary of :class:`tsrec.nn.heads.SequenceClassifier`).

    Parameters
    ----------
    length : int
        Time steps of each series (the lookback): the input size of the token embedding.
    d_model : int, default=256
        Token width.
    d_ff : int, default=256
        Hidden width of each layer's feed-forward network.
    d_state : int, default=2
        Mamba state size N.
    e_layers : int, default=2
        Number of encoder layers (bidirectional Mamba, then feed-forward, post-norm).
    dropout : float, default=0.1
        Dropout after the embedding and inside the feed-forward networks.
    pool : bool, default=False
        Return the mean of the tokens (batch, d_model) instead of every token.

    Examples
    --------
    >>> import torch
    >>> SMambaTokens(length=20, d_model=8, d_ff=8, pool=True)(torch.randn(4, 20, 3)).shape
    torch.Size([4, 8])
    """

    def __init__(self, length: int, d_model: int = 256, d_ff: int = 256, d_state: int = 2, e_layers: int = 2,
                 dropout: float = 0.1, pool: bool = False) -> None:
        super().__init__()
        length, d_model, d_ff, d_state, e_layers = check_ints(length=length, d_model=d_model, d_ff=d_ff,
                                                              d_state=d_state, e_layers=e_layers)
        dropout, self.pool = check_dropout(dropout), check_flag("pool", pool)
        self.embed = nn.Sequential(nn.Linear(length, d_model), nn.Dropout(dropout))
        self.layers = nn.ModuleList(SMambaLayer(d_model, d_ff, d_state, dropout) for _ in range(e_layers))
        self.final_norm = nn.LayerNorm(d_model)

    def forward(self, series: torch.Tensor) -> torch.Tensor:
        """Embed each series of ``series`` (batch, length, n_series) as a token and encode the tokens.

        Parameters
        ----------
        series : torch.Tensor
            The series, (batch, length, n_series); any number of series.

        Returns
        -------
        torch.Tensor
            The final-normed tokens (batch, n_series, d_model), or their mean (batch, d_model)
            with ``pool``.
        """
        embed = self.embed[0]
        check_input("series", series, ("batch", ("length", embed.in_features, "length"), "series"), embed.weight)
        tokens = self.embed(series.transpose(1, 2))  # (batch, series, d_model)
        for layer in self.layers:
            tokens = layer(tokens)
        tokens = self.final_norm(tokens)
        return tokens.mean(dim=1) if self.pool else tokens


class SMamba(nn.Module):
    """S-Mamba forecaster network: (batch, lookback, channels) -> (batch, horizon, channels).

    Parameters
    ----------
    lookback, horizon, n_channels : int
        Window sizes and number of variates.
    d_model, d_ff : int, default=256
        Token width and feed-forward width (the ETTh1 scripts: 256 and 256).
    d_state : int, default=2
        Mamba state size N (the ETT scripts: 2).
    e_layers : int, default=2
        Number of encoder layers over the variate tokens (bidirectional Mamba, then feed-forward,
        post-norm; see :class:`SMambaLayer`).
    dropout : float, default=0.1
        Dropout after the token embedding and inside each layer's feed-forward network.
    n_time_features : int, default=0
        Calendar-feature series passed as ``x_mark`` (batch, lookback, n_time_features); each is
        one more token (not normalised), as in the paper's code.
    norm : bool, default=True
        Per-window normalisation (population variance; the mean detached, the std not, as in the
        official code), undone on the output.

    Examples
    --------
    >>> import torch
    >>> net = SMamba(lookback=24, horizon=6, n_channels=3, d_model=16, d_ff=16, n_time_features=2)
    >>> net(torch.randn(4, 24, 3), torch.rand(4, 24, 2) - 0.5).shape
    torch.Size([4, 6, 3])
    """

    uses_position = False

    def __init__(self, lookback: int, horizon: int, n_channels: int, d_model: int = 256, d_ff: int = 256,
                 d_state: int = 2, e_layers: int = 2, dropout: float = 0.1, n_time_features: int = 0,
                 norm: bool = True) -> None:
        super().__init__()
        lookback, horizon, n_channels = check_ints(lookback=lookback, horizon=horizon, n_channels=n_channels)
        n_time_features = check_int("n_time_features", n_time_features, minimum=0)
        self.n_channels, self.n_time_features = n_channels, n_time_features
        self.norm = InstanceNorm(unbiased=False, detach_mean=True, enabled=check_flag("norm", norm))
        self.encoder = SMambaTokens(lookback, d_model, d_ff, d_state, e_layers, dropout)
        self.project = nn.Linear(d_model, horizon)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        """Forecast from ``x`` (batch, lookback, n_channels) and, when built with time features, ``x_mark``.

        Parameters
        ----------
        x : torch.Tensor
            The lookback window, (batch, lookback, n_channels).
        x_mark : torch.Tensor or None, default=None
            Calendar features (batch, lookback, n_time_features): required when the network was
            built with ``n_time_features > 0``, refused when with 0.

        Returns
        -------
        torch.Tensor
            The forecast, (batch, horizon, n_channels).
        """
        embed = self.encoder.embed[0]
        dims = ("batch", ("lookback", embed.in_features, "lookback"), ("channels", self.n_channels, "n_channels"))
        check_marks(x_mark, check_input("x", x, dims, embed.weight), embed.in_features, self.n_time_features)
        x, stats = self.norm.normalize(x)
        series = x if x_mark is None or not self.n_time_features else torch.cat([x, x_mark], dim=2)
        out = self.project(self.encoder(series)).transpose(1, 2)[..., : self.n_channels]
        return self.norm.denormalize(out, stats)
