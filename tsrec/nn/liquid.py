"""Liquid networks for forecasting and classification: an LTC or CfC cell (:mod:`tsrec.nn.ltc`) run
over a window, its states summarised (:class:`LiquidEncoder`) or read out as a forecast
(:class:`LiquidForecaster`).
"""

from __future__ import annotations

import torch
from torch import nn

from tsrec.nn._checks import check_flag, check_input, check_ints
from tsrec.nn.heads import check_pool, pool_over_time
from tsrec.nn.ltc import make_cell
from tsrec.nn.normalization import InstanceNorm


class LiquidEncoder(nn.Module):
    """Run a liquid cell over (batch, time, features) from a zero state; summarise the states.

    Parameters
    ----------
    cell : nn.Module
        An :class:`LTCCell` or :class:`CfCCell` (anything with ``units`` and ``scan(x, h0)``).
    pool : {"last", "mean"}, default="last"
        The summary: the last state, or the mean of every state over time.
    elapsed_channel : bool, default=False
        The input's last channel is each step's length (the time since the previous step), not a
        feature: it is passed to the cell as ``elapsed``, and ``x`` has ``input_size + 1``
        channels. For a classifier reading irregularly sampled series as one tensor.

    Examples
    --------
    >>> import torch
    >>> from tsrec.nn import CfCCell
    >>> encoder = LiquidEncoder(CfCCell(input_size=2, units=6, backbone_units=8))
    >>> encoder(torch.randn(3, 10, 2)).shape
    torch.Size([3, 6])
    """

    def __init__(self, cell: nn.Module, pool: str = "last", elapsed_channel: bool = False) -> None:
        super().__init__()
        if not (isinstance(cell, nn.Module) and hasattr(cell, "scan") and hasattr(cell, "units")):
            raise TypeError("cell must be an LTCCell or a CfCCell (a module with units and scan(x, h0)), "
                            f"got {type(cell).__name__}: pass LTCCell(input_size, units) or "
                            "CfCCell(input_size, units) from tsrec.nn")
        self.cell, self.pool = cell, check_pool(pool)
        self.units, self.elapsed_channel = cell.units, check_flag("elapsed_channel", elapsed_channel)

    def states(self, x: torch.Tensor, elapsed: torch.Tensor | None = None) -> torch.Tensor:
        """All states (batch, time, units); the cell checks ``x`` (batch, time, input_size).

        Parameters
        ----------
        x : torch.Tensor
            Inputs, (batch, time, input_size); the cell starts from a zero state.
        elapsed : torch.Tensor or None, default=None
            Irregular sampling: the time since the previous step, (batch, time), each > 0.
            None: unit steps.

        Returns
        -------
        torch.Tensor
            The state after every step, (batch, time, units).
        """
        check_input("x", x, ("batch", "time", "features"))
        if self.elapsed_channel:
            if x.shape[-1] != self.cell.input_size + 1:
                raise ValueError(f"x must have {self.cell.input_size + 1} channels: the cell's input_size="
                                 f"{self.cell.input_size} features and, last, each step's length (elapsed_channel="
                                 f"True), got {x.shape[-1]}")
            if elapsed is not None:
                raise ValueError("this encoder reads each step's length from x's last channel (elapsed_channel=True); "
                                 "pass them there, not as elapsed")
            # the lengths are data, not differentiated: an x that requires grad (an upstream layer, input
            # attributions) must not make the cell refuse its own last channel as an elapsed that requires grad
            x, elapsed = x[..., :-1], x[..., -1].detach()
        h0 = x.new_zeros(x.shape[0], self.units)
        return self.cell.scan(x, h0) if elapsed is None else self.cell.scan(x, h0, elapsed)

    def forward(self, x: torch.Tensor, elapsed: torch.Tensor | None = None) -> torch.Tensor:
        """The summary (``pool``) of the states over ``x``: (batch, time, input_size) -> (batch, units).

        Parameters
        ----------
        x : torch.Tensor
            Inputs, (batch, time, input_size).
        elapsed : torch.Tensor or None, default=None
            Irregular sampling: the time since the previous step, (batch, time), each > 0.
            None: unit steps.

        Returns
        -------
        torch.Tensor
            The last state or the mean state over time, (batch, units).
        """
        return pool_over_time(self.states(x, elapsed), self.pool)


class LiquidForecaster(nn.Module):
    """Forecast ``horizon`` steps of every channel from the last state of a liquid encoder.

    The lookback window is normalised per sample and channel, read step by step (all channels
    of a step are one input vector), and a dense layer maps the final state to the whole
    horizon, as the LTC paper's dense read-out on the full state.

    Parameters
    ----------
    horizon : int
        Steps forecast per window.
    n_channels : int
        Variates of the series; every step's channels are one input vector of the cell.
    units : int, default=32
        State size of the cell (neurons).
    cell : {"ltc", "cfc"}, default="ltc"
        :class:`LTCCell` (fused ODE solver) or :class:`CfCCell` (closed form).
    ode_unfolds : int, default=6
        Solver steps per input step; LTC only.
    backbone_units : int, default=128
        Width of the CfC backbone layer; CfC only.
    mode : {"default", "no_gate", "pure"}, default="default"
        The CfC variant (see :class:`CfCCell`); CfC only.
    norm : bool, default=True
        Normalise each window per sample and channel (population variance) and undo it on the
        forecast. Ours, not the LTC paper's (it has no forecasting benchmark): the usual
        instance normalisation of the long-horizon benchmarks' models.

    Examples
    --------
    >>> import torch
    >>> net = LiquidForecaster(horizon=4, n_channels=2, units=6, cell="cfc", backbone_units=8)
    >>> net(torch.randn(3, 12, 2)).shape
    torch.Size([3, 4, 2])
    """

    uses_position = False

    def __init__(self, horizon: int, n_channels: int, units: int = 32, cell: str = "ltc", ode_unfolds: int = 6,
                 backbone_units: int = 128, mode: str = "default", norm: bool = True) -> None:
        super().__init__()
        horizon, n_channels, units = check_ints(horizon=horizon, n_channels=n_channels, units=units)
        self.horizon, self.n_channels, norm = horizon, n_channels, check_flag("norm", norm)
        self.encoder = LiquidEncoder(make_cell(cell, n_channels, units, ode_unfolds, backbone_units, mode))
        self.head = nn.Linear(units, horizon * n_channels)
        self.norm = InstanceNorm(unbiased=False, enabled=norm)

    def forward(self, x: torch.Tensor, position: torch.Tensor | None = None) -> torch.Tensor:
        """Forecast (batch, horizon, n_channels) from the window ``x`` (batch, time, n_channels).

        Parameters
        ----------
        x : torch.Tensor
            The lookback window, (batch, time, n_channels).
        position : torch.Tensor or None, default=None
            Ignored: the network reads no time positions (``uses_position`` is False).

        Returns
        -------
        torch.Tensor
            The forecast, (batch, horizon, n_channels).
        """
        check_input("x", x, ("batch", "time", ("channels", self.n_channels, "n_channels")), self.head.weight)
        x, stats = self.norm.normalize(x)
        out = self.head(self.encoder(x)).view(-1, self.horizon, self.n_channels)
        return self.norm.denormalize(out, stats)
