"""One 2-D selective SSM of Chimera over (time, variate); see :mod:`tsrec.nn.chimera` for the design.

The step ranges of the trend and seasonal heads and of the variate axis live here with the
module that draws its initial steps from them.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from tsrec.kernels import scan2d
from tsrec.nn._checks import check_dt_range, check_flag, check_input, check_ints
from tsrec.nn.chimera_lti import causal_conv_2d, impulse_response_2d
from tsrec.nn.smamba import step_bias

TREND_DT = (1e-3, 1e-2)
SEASONAL_DT = (1e-2, 1e-1)
VARIATE_DT = (0.1, 1.0)


def _floored_step_bias(bias: torch.Tensor, floor: float) -> torch.Tensor:
    """``bias`` (steps ``softplus(bias)``) re-expressed for steps ``floor + softplus(new)``, the same steps.

    Steps at the floor itself are nudged 1% above it (the softplus never reaches 0).
    """
    excess = (F.softplus(bias) - floor).clamp(min=0.01 * floor)
    return excess + torch.log(-torch.expm1(-excess))


def _check_range(name: str, value: object) -> tuple[float, float]:
    """A step range ``(low, high)`` with ``0 < low <= high``, as floats."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a pair (low, high) of initial step sizes, got {value!r}: "
                         f"pass e.g. {name}={TREND_DT}")
    try:
        return check_dt_range(*value)
    except ValueError as err:  # name the pair, not check_dt_range's dt_min / dt_max
        raise ValueError(f"{name}={tuple(value)!r} is not a step range: "
                         f"{str(err).replace('dt_min', 'low').replace('dt_max', 'high')}") from None


class Chimera2DSSM(nn.Module):
    """One 2-D SSM over (batch, time, variates, d_model), one variate direction.

    Input-dependent (selective) by default; with ``selective=False`` its ``B``, ``C`` and steps
    are learned constants and it runs as one global 2-D convolution (:mod:`tsrec.nn.chimera_lti`).

    Parameters
    ----------
    d_model : int
        Channels.
    d_state : int
        State size ``N`` of each of the two states.
    dt1_range, dt2_range : tuple of float
        Initial ranges ``(low, high)`` of the time-axis and variate-axis steps, ``0 < low <= high``.
    reverse_variates : bool
        Carry the variate state from the last variate down.
    selective : bool, default=True
        ``B1, B2, C1, C2`` and the steps computed from each cell's input (Mamba's selection);
        False learns them as constants (``B``, ``C`` of size ``N`` and a step per channel), the
        paper's input-independent mode.

    Examples
    --------
    >>> import torch
    >>> Chimera2DSSM(d_model=8, d_state=4)(torch.randn(2, 10, 3, 8)).shape
    torch.Size([2, 10, 3, 8])
    >>> Chimera2DSSM(d_model=8, d_state=4, selective=False)(torch.randn(2, 10, 3, 8)).shape
    torch.Size([2, 10, 3, 8])
    """

    def __init__(self, d_model: int, d_state: int = 16, dt1_range: tuple[float, float] = TREND_DT,
                 dt2_range: tuple[float, float] = VARIATE_DT, reverse_variates: bool = False,
                 selective: bool = True) -> None:
        super().__init__()
        d_model, d_state = check_ints(d_model=d_model, d_state=d_state)
        dt1_range, dt2_range = _check_range("dt1_range", dt1_range), _check_range("dt2_range", dt2_range)
        self.d_state, self.reverse_variates = d_state, check_flag("reverse_variates", reverse_variates)
        self.selective = check_flag("selective", selective)
        # the time step never goes below its range (module notes); a buffer, so that a network saved
        # before the floor existed loads without it and forecasts as it was trained to
        self.register_buffer("dt1_floor", torch.tensor(float(dt1_range[0])))
        if selective:
            self._init_selection(d_model, d_state, dt1_range, dt2_range)
        else:
            self._init_constants(d_model, d_state, dt1_range, dt2_range)
        s4d = torch.log(torch.arange(1, d_state + 1, dtype=torch.get_default_dtype())).repeat(d_model, 1)
        self.A1_log = nn.Parameter(s4d.clone())
        self.A2_log = nn.Parameter(torch.log((4.0 + torch.arange(1, d_state + 1.0)) / dt1_range[0]).repeat(d_model, 1))
        self.A3_log = nn.Parameter(s4d.clone())
        self.A4_log = nn.Parameter(s4d.clone())
        self.D = nn.Parameter(torch.ones(d_model))

    def _init_selection(self, d_model: int, d_state: int, dt1_range: tuple, dt2_range: tuple) -> None:
        self.dt_rank = math.ceil(d_model / 16)
        self.x_proj = nn.Linear(d_model, 2 * self.dt_rank + 4 * d_state, bias=False)
        self.dt1_proj = nn.Linear(self.dt_rank, d_model)
        self.dt2_proj = nn.Linear(self.dt_rank, d_model)
        with torch.no_grad():
            for proj, (low, high) in ((self.dt1_proj, dt1_range), (self.dt2_proj, dt2_range)):
                nn.init.uniform_(proj.weight, -self.dt_rank**-0.5, self.dt_rank**-0.5)
                proj.bias.copy_(step_bias(d_model, low, high))
            self.dt1_proj.bias.copy_(_floored_step_bias(self.dt1_proj.bias, dt1_range[0]))

    def _init_constants(self, d_model: int, d_state: int, dt1_range: tuple, dt2_range: tuple) -> None:
        # [inferred] B, C drawn with the spread the selective projections give at the start
        # (a kaiming-uniform row of width d_model on unit-variance input: variance 1/3)
        self.BC = nn.Parameter(torch.randn(4, d_state) / math.sqrt(3.0))
        self.dt1_bias = nn.Parameter(_floored_step_bias(step_bias(d_model, *dt1_range), dt1_range[0]))
        self.dt2_bias = nn.Parameter(step_bias(d_model, *dt2_range))

    _version = 2  # torch stores it with each state dict: from 2 on, a saved network carries the floor

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args, **kwargs) -> None:
        # this module's weights saved before the floor existed: no floor. A file (safetensors) keeps no
        # version; its tensors are plain ones, where a dict of parameters (a partial load, such as
        # dict(named_parameters())) holds nn.Parameter objects and must keep the floor, listed as missing
        weights = state_dict.get(prefix + "A1_log")
        if local_metadata.get("version", 1) < 2 and weights is not None and not isinstance(weights, nn.Parameter):
            state_dict.setdefault(prefix + "dt1_floor", self.D.new_zeros(()))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args, **kwargs)

    def __setstate__(self, state: dict) -> None:
        # pickled before the floor and the input-independent mode: no floor, selective
        super().__setstate__({"selective": True, **state})
        self._buffers.setdefault("dt1_floor", self.D.new_zeros(()))  # the network's dtype and device

    def transitions(self) -> tuple[torch.Tensor, ...]:
        """``(A1, A2, A3, A4)``, each (d_model, N), negative."""
        return tuple(-torch.exp(a) for a in (self.A1_log, self.A2_log, self.A3_log, self.A4_log))

    def selective_params(self, u: torch.Tensor) -> dict[str, torch.Tensor]:
        """The scan's inputs for ``u`` (batch, time, variates, d_model): steps, A's, B's, C's, D."""
        r, n = self.dt_rank, self.d_state
        r1, r2, B1, B2, C1, C2 = self.x_proj(u).split([r, r, n, n, n, n], dim=-1)
        A1, A2, A3, A4 = self.transitions()
        return {
            "delta1": self.dt1_floor + F.softplus(self.dt1_proj(r1)), "delta2": F.softplus(self.dt2_proj(r2)),
            "A1": A1, "A2": A2, "A3": A3, "A4": A4, "B1": B1, "B2": B2, "C1": C1, "C2": C2, "D": self.D,
        }

    def kernel(self, time: int, variates: int) -> torch.Tensor:
        """The input-independent mode's convolution kernel (time, variates, d_model)."""
        steps = (self.dt1_floor + F.softplus(self.dt1_bias), F.softplus(self.dt2_bias))
        return impulse_response_2d(time, variates, steps, self.transitions(), tuple(self.BC))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """(batch, time, variates, d_model) -> the same shape."""
        d_model = ("d_model", self.D.shape[0], "d_model")
        check_input("u", u, ("batch", "time", "variates", d_model), self.D)
        if not self.selective:
            return causal_conv_2d(u, self.kernel(u.shape[1], u.shape[2]), self.D, self.reverse_variates)
        p = self.selective_params(u)
        y, _ = scan2d(u, p["delta1"], p["delta2"], p["A1"], p["A2"], p["A3"], p["A4"], p["B1"], p["B2"],
                      p["C1"], p["C2"], D=p["D"], reverse_variates=self.reverse_variates)
        return y
