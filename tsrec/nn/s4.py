"""S4 layers (diagonal S4D here, NPLR S4 in :mod:`tsrec.nn.s4_nplr`) and causal residual stacks of them.

One S4D layer maps ``H`` channels to ``H`` channels, each channel with ``N`` complex modes
(conjugate pairs implied by taking twice the real part), zero-order hold:

    h_l = exp(dt A) h_{l-1} + B_bar u_l,   B_bar = (exp(dt A) - 1) / A,
    y_l = 2 Re(C h_l) + D u_l.

In training the whole sequence is one causal convolution ``y = K * u + D u`` with the kernel of
:func:`tsrec.kernels.s4d_kernel` applied by :func:`tsrec.kernels.fft_conv`; for sampling the same
system runs one step at a time from the state the convolution ends in (``forward(...,
return_state=True)``), which is what ancestral sampling of a latent path needs.

Initialisation (S4D-Lin): ``A_n = -0.5 + i pi n``, ``log dt ~ U[log 1e-3, log 1e-1]``, ``C``
complex normal with variance 1/2 per part, ``D ~ N(0, 1)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from tsrec.kernels import fft_conv, s4d_kernel
from tsrec.nn._checks import check_choice, check_dropout, check_dt_range, check_input, check_ints
from tsrec.nn.s4_nplr import S4NPLR, check_complex_ready, check_step

State = list  # one recurrent state per S4 layer, as its ``forward(..., return_state=True)`` returns it

#: ``mode`` of an S4 layer: the paper's normal-plus-low-rank S4 or the diagonal S4D
S4_MODES = ("nplr", "diag")


class S4D(nn.Module):
    """The linear S4D system of the module docstring on (batch, time, channels).

    Parameters
    ----------
    channels : int
        Channels ``H`` of the input and output, each with its own SSM.
    d_state : int, default=64
        State size: each channel has ``d_state // 2`` complex modes (at least one).
    dt_min, dt_max : float, default=1e-3, 1e-1
        Range of the initial step sizes, drawn log-uniformly per channel.

    Examples
    --------
    >>> import torch
    >>> S4D(channels=3, d_state=8)(torch.randn(2, 10, 3)).shape
    torch.Size([2, 10, 3])
    """

    def __init__(self, channels: int, d_state: int = 64, dt_min: float = 1e-3, dt_max: float = 1e-1) -> None:
        super().__init__()
        channels, d_state = check_ints(channels=channels, d_state=d_state)
        dt_min, dt_max = check_dt_range(dt_min, dt_max)
        modes = max(1, d_state // 2)
        log_dt = torch.rand(channels) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        self.log_dt = nn.Parameter(log_dt)
        self.log_A_real = nn.Parameter(torch.full((channels, modes), math.log(0.5)))
        self.A_imag = nn.Parameter(math.pi * torch.arange(modes, dtype=torch.get_default_dtype()).repeat(channels, 1))
        self.C = nn.Parameter(torch.randn(channels, modes, 2) * math.sqrt(0.5))  # real and imaginary parts
        self.D = nn.Parameter(torch.randn(channels))

    def ssm_parameters(self) -> list[nn.Parameter]:
        """Step size and ``A``: trained at S4's capped learning rate (:mod:`tsrec.nn.optim`)."""
        return [self.log_dt, self.log_A_real, self.A_imag]

    def _discrete(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(dt A, B_bar, C) as complex tensors of shape (channels, modes); A_bar = exp(dt A)."""
        check_complex_ready(self.A_imag)
        A = torch.complex(-torch.exp(self.log_A_real), self.A_imag)
        dtA = torch.exp(self.log_dt).unsqueeze(-1) * A
        return dtA, torch.expm1(dtA) / A, torch.view_as_complex(self.C)

    def forward(self, u: torch.Tensor, return_state: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``y`` of shape (batch, time, channels); with ``return_state`` also the state after the last step."""
        check_input("u", u, ("batch", "time", ("channels", self.D.shape[0], "channels")))
        check_complex_ready(self.A_imag)
        kernel = s4d_kernel(self.log_dt, -torch.exp(self.log_A_real), self.A_imag, torch.view_as_complex(self.C),
                            u.shape[1])
        y = fft_conv(u, kernel, D=self.D)
        if not return_state:
            return y
        dtA, B_bar, _ = self._discrete()
        # h_L = sum_j A_bar^(L-1-j) B_bar u_j: the state the recurrence reaches after the prefix
        lags = torch.arange(u.shape[1] - 1, -1, -1, device=u.device, dtype=dtA.real.dtype)
        powers = torch.exp(dtA.unsqueeze(-1) * lags) * B_bar.unsqueeze(-1)  # (H, N, L)
        state = torch.einsum("blh,hnl->bhn", u.to(powers.dtype), powers)
        return y, state

    def step(self, u: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step of the recurrence: ``u`` (batch, channels) -> (y, new state)."""
        check_step(u, state, self.D.shape[0], self.C.shape[1])
        dtA, B_bar, C = self._discrete()
        state = torch.exp(dtA) * state + B_bar * u.unsqueeze(-1)
        return 2.0 * (C * state).sum(-1).real + self.D * u, state


def s4_layer(channels: int, d_state: int, mode: str = "nplr", l_max: int = 1024) -> nn.Module:
    """An :class:`~tsrec.nn.s4_nplr.S4NPLR` (``mode="nplr"``, kernel length ``l_max``) or an :class:`S4D`."""
    if check_choice("mode", mode, S4_MODES) == "nplr":
        return S4NPLR(channels, d_state, l_max=l_max)
    return S4D(channels, d_state)


class S4Unit(nn.Module):
    """An S4 layer, GELU, then ``Linear(H -> 2H)`` and GLU back to ``H`` (the layer with its output map).

    On (batch, time, channels); ``forward(..., return_state=True)`` also returns the S4 layer's
    state after the last step, from which :meth:`step` continues one step at a time.

    Parameters
    ----------
    channels : int
        Channels ``H`` of the input and output.
    d_state : int
        State size of each channel's SSM.
    mode : {"nplr", "diag"}, default="nplr"
        The S4 layer: NPLR S4 or diagonal S4D (see :func:`s4_layer`).
    l_max : int, default=1024
        Length that the NPLR layer's ``C_tilde`` is defined relative to (ignored by S4D).

    Examples
    --------
    >>> import torch
    >>> unit = S4Unit(channels=4, d_state=4)
    >>> y, state = unit(torch.randn(2, 6, 4), return_state=True)
    >>> y.shape
    torch.Size([2, 6, 4])
    >>> y_t, state = unit.step(torch.randn(2, 4), state)
    >>> y_t.shape
    torch.Size([2, 4])
    """

    def __init__(self, channels: int, d_state: int, mode: str = "nplr", l_max: int = 1024) -> None:
        super().__init__()
        self.ssm = s4_layer(channels, d_state, mode, l_max)
        self.out = nn.Linear(channels, 2 * channels)

    def _post(self, y: torch.Tensor) -> torch.Tensor:
        return F.glu(self.out(F.gelu(y)), dim=-1)

    def forward(
        self, u: torch.Tensor, return_state: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor | tuple[torch.Tensor, tuple]]:
        """The S4 layer, GELU and the GLU output map over a whole sequence.

        Parameters
        ----------
        u : torch.Tensor
            Inputs, (batch, time, channels).
        return_state : bool, default=False
            Also return the S4 layer's state after the last step, from which :meth:`step` continues.

        Returns
        -------
        torch.Tensor or tuple
            The output, (batch, time, channels); with ``return_state``, the pair ``(output, state)``.
        """
        if return_state:
            y, state = self.ssm(u, return_state=True)
            return self._post(y), state
        return self._post(self.ssm(u))

    def step(
        self, u: torch.Tensor, state: torch.Tensor | tuple[torch.Tensor, tuple]
    ) -> tuple[torch.Tensor, torch.Tensor | tuple[torch.Tensor, tuple]]:
        """One time step of :meth:`forward` from the S4 layer's ``state``.

        Parameters
        ----------
        u : torch.Tensor
            One input step, (batch, channels).
        state : torch.Tensor or tuple
            The state that ``forward(..., return_state=True)`` or an earlier :meth:`step` returned.

        Returns
        -------
        output : torch.Tensor
            The step's output, (batch, channels).
        state : torch.Tensor or tuple
            The state after the step.
        """
        y, state = self.ssm.step(u, state)
        return self._post(y), state


class S4Stack(nn.Module):
    """``n_layers`` pairs of pre-LayerNorm residual blocks (S4 unit, feed-forward), then a LayerNorm.

    ``mode`` and ``l_max`` choose the S4 layers (see :func:`s4_layer`).

    ``x <- x + Dropout(S4Unit(LN(x)))``; ``x <- x + Dropout(FF(LN(x)))`` with
    ``FF = Linear(H -> expand H) -> GELU -> Linear(expand H -> H)``. Causal in time.

    Parameters
    ----------
    d_model : int
        Width ``H`` of the input and output.
    n_layers : int
        Number of (S4 unit, feed-forward) block pairs.
    d_state : int
        State size of each S4 channel.
    dropout : float, default=0.0
        Dropout on the output of every residual block.
    expand : int, default=2
        Hidden width of the feed-forward blocks, as a multiple of ``d_model``.
    mode : {"nplr", "diag"}, default="nplr"
        The S4 layers: NPLR S4 or diagonal S4D.
    l_max : int, default=1024
        Length that the NPLR layers' ``C_tilde`` is defined relative to (ignored by S4D).

    Examples
    --------
    >>> import torch
    >>> S4Stack(d_model=8, n_layers=2, d_state=4)(torch.randn(2, 6, 8)).shape
    torch.Size([2, 6, 8])
    """

    def __init__(self, d_model: int, n_layers: int, d_state: int, dropout: float = 0.0, expand: int = 2,
                 mode: str = "nplr", l_max: int = 1024) -> None:
        super().__init__()
        d_model, n_layers, expand = check_ints(d_model=d_model, n_layers=n_layers, expand=expand)
        dropout = check_dropout(dropout)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(2 * n_layers))
        self.units = nn.ModuleList(S4Unit(d_model, d_state, mode, l_max) for _ in range(n_layers))
        self.ffs = nn.ModuleList(
            nn.Sequential(nn.Linear(d_model, expand * d_model), nn.GELU(), nn.Linear(expand * d_model, d_model))
            for _ in range(n_layers)
        )
        self.drop = nn.Dropout(dropout)
        self.final = nn.LayerNorm(d_model)

    def _check(self, x: torch.Tensor, dims: tuple) -> None:
        d_model = ("d_model", self.final.normalized_shape[0], "d_model")
        check_input("x", x, (*dims, d_model), self.final.weight)

    def forward(self, x: torch.Tensor, return_state: bool = False) -> torch.Tensor | tuple[torch.Tensor, State]:
        """(batch, time, d_model) -> the same shape; with ``return_state`` also the per-layer states."""
        self._check(x, ("batch", "time"))
        states: State = []
        for i, (unit, ff) in enumerate(zip(self.units, self.ffs)):
            if return_state:
                y, state = unit(self.norms[2 * i](x), return_state=True)
                states.append(state)
            else:
                y = unit(self.norms[2 * i](x))
            x = x + self.drop(y)
            x = x + self.drop(ff(self.norms[2 * i + 1](x)))
        x = self.final(x)
        return (x, states) if return_state else x

    def step(self, x: torch.Tensor, states: State) -> tuple[torch.Tensor, State]:
        """One time step (batch, d_model) from the per-layer states; returns the new states.

        ``states`` is the list that ``forward(..., return_state=True)`` or ``step`` returns, one
        state per layer; each layer checks its own.
        """
        self._check(x, ("batch",))
        n = len(self.units)
        if not isinstance(states, (list, tuple)) or len(states) != n:
            error = ValueError if isinstance(states, (list, tuple)) else TypeError
            got = f"{len(states)} states" if error is ValueError else type(states).__name__
            raise error(f"states must be the list of {n} per-layer states that forward(x, return_state=True) "
                        f"or step returns, got {got}: pass the states those calls return")
        new: State = []
        for i, (unit, ff) in enumerate(zip(self.units, self.ffs)):
            y, state = unit.step(self.norms[2 * i](x), states[i])
            new.append(state)
            x = x + self.drop(y)
            x = x + self.drop(ff(self.norms[2 * i + 1](x)))
        return self.final(x), new
