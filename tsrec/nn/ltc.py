"""Liquid time-constant networks (Hasani, Lechner et al., AAAI-21) and closed-form CfC cells.

:class:`LTCCell` is the conductance-based LTC neuron with fully connected wiring, stepped by the
paper's fused ODE solver (Eq. 3): ``ode_unfolds`` semi-implicit Euler steps per input step, each

    v_j <- (c_j v_j + g_j V_j + sum_i a_ij E_ij + sum_k b_kj F_kj) / (c_j + g_j + sum_i a_ij + sum_k b_kj + eps)

with c = C / (elapsed / ode_unfolds), synaptic activations a_ij = w_ij s(sigma_ij (v_i - mu_ij)) of
the state and b_kj = w'_kj s(sigma'_kj (x_k - mu'_kj)) of the (affinely mapped) input. Every weight
in the ratio is positive, so each step is a convex combination of the state, the leak potentials
V and the reversal potentials E, F: the state never leaves their range (the paper's Theorem 2).
Positive parameters (C, g, w, w') are kept positive by a softplus, as ``ncps``'s ``LTC`` does by
default. We follow ``ncps``'s time scale (c = C * ode_unfolds for unit steps).

:class:`CfCCell` is the closed-form continuous-time cell (Hasani et al., 2022), ``ncps``'s modes
``"default"`` (gated interpolation of two heads by a learned time gate), ``"no_gate"`` and
``"pure"`` (the direct closed-form approximation of the LTC solution).

The LTC solver runs on :func:`tsrec.kernels.ltc_scan` (a torch loop on CPU, one fused Triton
kernel on a GPU); the default CfC cell on :func:`tsrec.kernels.cfc_scan` (fused Triton kernels) on
a GPU and on the CPU (there a loop with the input part and the heads batched: ``_fused_heads_loop``
in ``tsrec.kernels.recurrent.cfc``), its other modes on :func:`tsrec.kernels.recurrent_scan`, the
shared loop for nonlinear cells.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from tsrec.kernels import cfc_scan, ltc_scan, recurrent_scan
from tsrec.kernels.recurrent.cfc import lecun_tanh
from tsrec.nn._checks import (
    check_choice,
    check_device,
    check_float,
    check_input,
    check_int,
    check_ints,
    check_positive,
    check_shape,
)

CELL_KINDS = ("ltc", "cfc")
CFC_MODES = ("default", "no_gate", "pure")


def _uniform(shape: tuple[int, ...], low: float, high: float) -> nn.Parameter:
    return nn.Parameter(torch.empty(shape).uniform_(low, high))


def _polarity(shape: tuple[int, ...]) -> torch.Tensor:
    """Synapse signs: +1 with probability 2/3, -1 otherwise (ncps's ``FullyConnected`` wiring)."""
    return torch.where(torch.rand(shape) < 1.0 / 3.0, -1.0, 1.0)


class LTCCell(nn.Module):
    """One fully connected layer of LTC neurons (state = membrane potentials, ``units`` wide).

    Parameters
    ----------
    input_size : int
        Features per input step.
    units : int
        Number of neurons N (the state size).
    ode_unfolds : int, default=6
        Fused-solver steps per input step (the paper: solver step 1/6 of the sampling period).
    epsilon : float, default=1e-8
        Added to the denominator of the fused step, >= 0.

    Examples
    --------
    >>> import torch
    >>> cell = LTCCell(input_size=3, units=5)
    >>> cell(torch.randn(4, 3), torch.zeros(4, 5)).shape
    torch.Size([4, 5])
    """

    def __init__(self, input_size: int, units: int, ode_unfolds: int = 6, epsilon: float = 1e-8) -> None:
        super().__init__()
        input_size, units, ode_unfolds = check_ints(input_size=input_size, units=units, ode_unfolds=ode_unfolds)
        # the denominator is > 0 without it (cm, gleak > 0), so 0 is allowed, as ltc_scan allows it
        epsilon = check_float("epsilon", epsilon, 0.0, hint=" (added to the solver's denominator)")
        self.input_size, self.units, self.ode_unfolds, self.epsilon = input_size, units, ode_unfolds, epsilon
        n, m = units, input_size
        # initial ranges of ncps's LTCCell; raw values of positive parameters pass through softplus
        self.gleak = _uniform((n,), 0.001, 1.0)
        self.vleak = _uniform((n,), -0.2, 0.2)
        self.cm = _uniform((n,), 0.4, 0.6)
        self.w = _uniform((n, n), 0.001, 1.0)
        self.sigma = _uniform((n, n), 3.0, 8.0)
        self.mu = _uniform((n, n), 0.3, 0.8)
        self.erev = nn.Parameter(_polarity((n, n)))
        self.sensory_w = _uniform((m, n), 0.001, 1.0)
        self.sensory_sigma = _uniform((m, n), 3.0, 8.0)
        self.sensory_mu = _uniform((m, n), 0.3, 0.8)
        self.sensory_erev = nn.Parameter(_polarity((m, n)))
        self.input_w = nn.Parameter(torch.ones(m))
        self.input_b = nn.Parameter(torch.zeros(m))

    def extra_repr(self) -> str:
        """The constructor's arguments, for the module's repr.

        Returns
        -------
        str
            ``name=value`` pairs, as torch's own layers print them.
        """
        return (f"input_size={self.input_size}, units={self.units}, ode_unfolds={self.ode_unfolds}, "
                f"epsilon={self.epsilon}")

    def forward(self, x_t: torch.Tensor, v: torch.Tensor, elapsed: float = 1.0) -> torch.Tensor:
        """The state after one input step ``x_t`` (batch, input_size) from ``v`` (batch, units).

        Parameters
        ----------
        x_t : torch.Tensor
            One input step, (batch, input_size).
        v : torch.Tensor
            The state (membrane potentials) before the step, (batch, units).
        elapsed : float or torch.Tensor, default=1.0
            Time since the previous step in sampling periods, > 0, for the whole batch or one per
            sample, (batch,); the solver's step is ``elapsed / ode_unfolds``.

        Returns
        -------
        torch.Tensor
            The state after the step, (batch, units).
        """
        elapsed = _check_step(self, x_t, v, elapsed, self.input_w)
        terms = self._input_terms(x_t)[:, None]
        if isinstance(elapsed, torch.Tensor):  # one length per sample: the kernel's (batch, 1 step)
            return ltc_scan(terms, v, *self._solver_params(1.0), ode_unfolds=self.ode_unfolds,
                            epsilon=self.epsilon, elapsed=elapsed)[:, 0]
        return ltc_scan(terms, v, *self._solver_params(elapsed), ode_unfolds=self.ode_unfolds,
                        epsilon=self.epsilon)[:, 0]

    def scan(self, x: torch.Tensor, v0: torch.Tensor, elapsed: torch.Tensor | None = None) -> torch.Tensor:
        """All states (batch, time, units) over the inputs ``x`` (batch, time, input_size).

        The input synapses and the parameter transforms are computed once for the whole sequence
        rather than at every step (about a fifth of the fwd+bwd time of a step-by-step loop), and
        :func:`tsrec.kernels.ltc_scan` runs the solver: a torch loop on CPU, one fused Triton
        kernel (forward and adjoint) on a GPU.

        Parameters
        ----------
        x : torch.Tensor
            Inputs, (batch, time, input_size).
        v0 : torch.Tensor
            Initial state, (batch, units).
        elapsed : torch.Tensor or None, default=None
            Irregular sampling: the time since the previous step, (batch, time), each > 0, in
            sampling periods (the first step's: since the state ``v0``). None: unit steps.

        Returns
        -------
        torch.Tensor
            The state after every step, (batch, time, units).
        """
        elapsed = _check_sequence(self, x, v0, self.input_w, elapsed)
        return ltc_scan(self._input_terms(x), v0, *self._solver_params(1.0), ode_unfolds=self.ode_unfolds,
                        epsilon=self.epsilon, elapsed=elapsed)

    def _input_terms(self, x: torch.Tensor) -> torch.Tensor:
        """The input synapses' share of the fused step's numerator and denominator, ``[..., 2 units]``.

        The input is constant during a step, so these stay out of the unfolds (and, over a
        sequence, out of the time loop).
        """
        x = x * self.input_w + self.input_b
        sensory = F.softplus(self.sensory_w) * torch.sigmoid(self.sensory_sigma * (x[..., None] - self.sensory_mu))
        return torch.cat([(sensory * self.sensory_erev).sum(dim=-2), sensory.sum(dim=-2)], dim=-1)

    def _solver_params(self, elapsed: float) -> tuple[torch.Tensor, ...]:
        """``(cm_t, leak_num, leak_den, w, w_erev, sigma, mu)``: the positive parameters transformed once.

        ``sigma * (v - mu)`` stays in this form inside the solver: ``sigma * v - sigma * mu``
        trained worse in float32 (ItalyPowerDemand, units 16, 50 epochs, 6 seeds: 0.856 against
        0.916), likely the cancellation near the sigmoid's centre.
        """
        cm_t = F.softplus(self.cm) / (elapsed / self.ode_unfolds)
        gleak = F.softplus(self.gleak)
        w = F.softplus(self.w)
        return cm_t, gleak * self.vleak, cm_t + gleak, w, w * self.erev, self.sigma, self.mu


class CfCCell(nn.Module):
    """Closed-form continuous-time cell: a backbone on [x_t, h], heads ff1, ff2 and a time gate.

    Parameters
    ----------
    input_size : int
        Features per input step.
    units : int
        State size.
    backbone_units : int, default=128
        Width of each backbone layer (LeCun tanh).
    backbone_layers : int, default=1
        Backbone depth; 0 feeds [x_t, h] to the heads directly.
    mode : {"default", "no_gate", "pure"}, default="default"
        ``"default"``: h = ff1 (1 - g) + g ff2 with g = sigmoid(t_a * elapsed + t_b);
        ``"no_gate"``: h = ff1 + g ff2; ``"pure"``: h = -A exp(-elapsed (|w_tau| + |ff1|)) ff1 + A.

    Examples
    --------
    >>> import torch
    >>> cell = CfCCell(input_size=3, units=5, backbone_units=8)
    >>> cell(torch.randn(4, 3), torch.zeros(4, 5)).shape
    torch.Size([4, 5])
    """

    def __init__(self, input_size: int, units: int, backbone_units: int = 128, backbone_layers: int = 1,
                 mode: str = "default") -> None:
        super().__init__()
        input_size, units, backbone_units = check_ints(input_size=input_size, units=units,
                                                       backbone_units=backbone_units)
        backbone_layers = check_int("backbone_layers", backbone_layers, minimum=0)
        self.mode, self.units = check_choice("mode", mode, CFC_MODES), units
        widths = [input_size + units] + [backbone_units] * backbone_layers
        self.backbone = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.ff1 = nn.Linear(widths[-1], units)
        if mode == "pure":
            # drawn as ncps draws them: it declares both as (1, units) matrices, which its Xavier
            # loop over 2-D weights redraws. The reference notes' w_tau = 0 never trains: the
            # gradient of |w_tau| at 0 is 0
            self.w_tau = nn.Parameter(nn.init.xavier_uniform_(torch.empty(1, units))[0])
            self.A = nn.Parameter(nn.init.xavier_uniform_(torch.empty(1, units))[0])
        else:
            self.ff2 = nn.Linear(widths[-1], units)
            self.time_a = nn.Linear(widths[-1], units)
            self.time_b = nn.Linear(widths[-1], units)
        for name, parameter in self.named_parameters():
            if parameter.dim() == 2:  # ncps: Xavier for every weight matrix, default biases
                nn.init.xavier_uniform_(parameter)

    @property
    def input_size(self) -> int:
        """Features per input step (the backbone's, or the heads', input less the state)."""
        return (self.backbone[0] if len(self.backbone) else self.ff1).in_features - self.units

    def forward(self, x_t: torch.Tensor, h: torch.Tensor, elapsed: float = 1.0) -> torch.Tensor:
        """The state after one input step ``x_t`` (batch, input_size) from ``h`` (batch, units).

        Parameters
        ----------
        x_t : torch.Tensor
            One input step, (batch, input_size).
        h : torch.Tensor
            The state before the step, (batch, units).
        elapsed : float or torch.Tensor, default=1.0
            Time since the previous step, > 0, for the whole batch or one per sample, (batch,): it
            scales the time gate (``"default"``, ``"no_gate"``) or the decay (``"pure"``).

        Returns
        -------
        torch.Tensor
            The state after the step, (batch, units).
        """
        elapsed = _check_step(self, x_t, h, elapsed, self.ff1.weight)
        return self._step(x_t, h, elapsed)

    def _step(self, x_t: torch.Tensor, h: torch.Tensor, elapsed: float | torch.Tensor = 1.0) -> torch.Tensor:
        z = torch.cat([x_t, h], dim=1)
        for layer in self.backbone:
            z = lecun_tanh(layer(z))
        ff1 = self.ff1(z)
        if self.mode == "pure":
            return -self.A * torch.exp(-elapsed * (self.w_tau.abs() + ff1.abs())) * ff1 + self.A
        ff1, ff2 = torch.tanh(ff1), torch.tanh(self.ff2(z))
        gate = torch.sigmoid(self.time_a(z) * elapsed + self.time_b(z))
        if self.mode == "no_gate":
            return ff1 + gate * ff2
        return ff1 * (1.0 - gate) + gate * ff2

    def scan(self, x: torch.Tensor, h0: torch.Tensor, elapsed: torch.Tensor | None = None) -> torch.Tensor:
        """All states (batch, time, units) over the inputs ``x`` (batch, time, input_size).

        With unit steps the default cell (one backbone layer, gated mode) runs as
        :func:`tsrec.kernels.cfc_scan`: the backbone's input part for all steps at once
        (:meth:`fused_scan_args`), then fused Triton kernels on a GPU, or on the CPU a loop with
        the three heads in one product per step; the other modes and depths, and steps of
        different lengths, as a loop over :meth:`forward`. All compute the same function
        (tests/kernels/test_cfc_scan.py, tests/nn/test_ltc.py), up to float rounding.

        Parameters
        ----------
        x : torch.Tensor
            Inputs, (batch, time, input_size).
        h0 : torch.Tensor
            Initial state, (batch, units).
        elapsed : torch.Tensor or None, default=None
            Irregular sampling: the time since the previous step, (batch, time), each > 0 (the
            first step's: since the state ``h0``). None: unit steps.

        Returns
        -------
        torch.Tensor
            The state after every step, (batch, time, units).
        """
        elapsed = _check_sequence(self, x, h0, self.ff1.weight, elapsed)
        if elapsed is not None:  # each step's length rides along as the input's last column
            n_in = x.shape[-1]
            return recurrent_scan(lambda xe, h: self._step(xe[:, :n_in], h, xe[:, n_in:]),
                                  torch.cat([x, elapsed[..., None]], dim=-1), h0)
        if self.mode == "default" and len(self.backbone) == 1:
            xz, *params = self.fused_scan_args(x)
            return cfc_scan(xz, h0, *params)
        return recurrent_scan(self._step, x, h0)  # x checked once here, not at every step

    def fused_scan_args(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``(xz, W_h, W1, b1, W2, b2, Wt, bt)`` of :func:`tsrec.kernels.cfc_scan` for this cell.

        Only for the default mode with one backbone layer: the backbone's input part for every
        step at once, its state part, the heads, and the time gate at unit steps (``W_a + W_b``).

        Parameters
        ----------
        x : torch.Tensor
            Inputs, (batch, time, input_size); not checked here (:meth:`scan` checks them).

        Returns
        -------
        tuple of torch.Tensor
            The arguments of :func:`tsrec.kernels.cfc_scan` after ``h0``, in its order.
        """
        layer, n_in = self.backbone[0], x.shape[-1]
        xz = F.linear(x, layer.weight[:, :n_in], layer.bias)
        return (xz, layer.weight[:, n_in:].T, self.ff1.weight.T, self.ff1.bias, self.ff2.weight.T, self.ff2.bias,
                (self.time_a.weight + self.time_b.weight).T, self.time_a.bias + self.time_b.bias)


def make_cell(kind: str, input_size: int, units: int, ode_unfolds: int = 6, backbone_units: int = 128,
              mode: str = "default") -> nn.Module:
    """An :class:`LTCCell` (``"ltc"``) or a :class:`CfCCell` (``"cfc"``); the other kind's arguments are checked too."""
    check_choice("cell", kind, CELL_KINDS)
    check_ints(ode_unfolds=ode_unfolds, backbone_units=backbone_units)
    check_choice("mode", mode, CFC_MODES)
    if kind == "ltc":
        return LTCCell(input_size, units, ode_unfolds=ode_unfolds)
    return CfCCell(input_size, units, backbone_units=backbone_units, mode=mode)


def _check_step(cell: nn.Module, x_t: torch.Tensor, h: torch.Tensor, elapsed: object,
                ref: torch.Tensor) -> float | torch.Tensor:
    """One step's input ``x_t`` (batch, input_size), state (batch, units) and ``elapsed``: a number > 0 (a
    0-dim tensor too), or one per sample, (batch,), returned as (batch, 1).

    A tensor ``elapsed`` must be (batch,): one per sample broadcast against the units was silently
    wrong for CfC when batch == units (the ncps timespan bug).
    """
    check_input("x_t", x_t, ("batch", ("features", cell.input_size, "input_size")), ref)
    _check_state(cell, h, x_t.shape[0], ref)
    if isinstance(elapsed, torch.Tensor) and elapsed.ndim == 0:  # one number for the batch, as a float is
        if elapsed.requires_grad or elapsed.is_meta:  # refused as (batch,) is; a meta one has no value to read
            elapsed = elapsed.expand(x_t.shape[0])
        else:
            elapsed = elapsed.item()
    if isinstance(elapsed, torch.Tensor):
        return _check_lengths(elapsed, (("batch", x_t.shape[0]),), ref)[:, None]
    return check_positive("elapsed", elapsed, " (the time since the previous step)")


def _check_sequence(cell: nn.Module, x: torch.Tensor, h0: torch.Tensor, ref: torch.Tensor,
                    elapsed: torch.Tensor | None = None) -> torch.Tensor | None:
    """Inputs ``x`` (batch, time, input_size), the initial state (batch, units) and the steps' lengths
    (batch, time) or None; returns the lengths in ``ref``'s dtype."""
    x = check_input("x", x, ("batch", "time", ("features", cell.input_size, "input_size")), ref)
    _check_state(cell, h0, x.shape[0], ref)
    return None if elapsed is None else _check_lengths(elapsed, (("batch", x.shape[0]), ("time", x.shape[1])), ref)


def _check_lengths(elapsed: object, dims: tuple, ref: torch.Tensor) -> torch.Tensor:
    """Steps' lengths of the shape ``dims`` describes, finite and > 0 (read: a length <= 0 would run
    the solver backwards), on ``ref``'s device, as data in ``ref``'s dtype."""
    check_shape("elapsed", elapsed, dims)
    if elapsed.requires_grad:  # as the kernel refuses it: a silently dropped gradient would read as zero
        raise ValueError("elapsed requires grad, but the liquid cells do not differentiate the steps' lengths (they "
                         "are data: the time between observations); pass elapsed.detach()")
    if elapsed.dtype == torch.bool or elapsed.is_complex():
        raise TypeError(f"elapsed must hold real numbers (the time since each previous step), got dtype "
                        f"{elapsed.dtype}")
    check_device("elapsed", elapsed, ref)
    if not elapsed.is_meta and not bool(((elapsed > 0) & torch.isfinite(elapsed)).all()):
        bad = elapsed[~((elapsed > 0) & torch.isfinite(elapsed))][0].item()
        raise ValueError(f"elapsed must hold finite lengths > 0 (the time since each previous step), got {bad}; "
                         "drop or merge repeated time stamps, and fill or drop missing ones")
    return elapsed.to(ref.dtype)


def _check_state(cell: nn.Module, h: torch.Tensor, batch: int, ref: torch.Tensor) -> None:
    name = "v" if isinstance(cell, LTCCell) else "h"
    check_input(name, h, (("batch", batch), ("units", cell.units, "units")), ref)


def __getattr__(name: str) -> object:
    # the encoder and forecaster moved to tsrec.nn.liquid; pickles that name them here still load
    if name in ("LiquidEncoder", "LiquidForecaster"):
        from tsrec.nn import liquid

        return getattr(liquid, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
