"""CycleNet: Residual Cycle Forecasting (Lin et al., NeurIPS 2024).

A learnable recurrent cycle ``Q`` (cycle_length x channels, initialised to zeros) is removed from
the normalised input window, a backbone shared over channels maps the residual lookback to the
residual horizon, and the cycle is added back. The phase of each window is the absolute position
of its first input step modulo the cycle length ("true phase" convention: the input window starts
at ``p mod W`` and the output window at ``(p + L) mod W``), or each step's own position modulo it
when every step's is given (wall-clock positions skip or repeat one at a daylight-saving change).
"""

from __future__ import annotations

import torch
from torch import nn

from tsrec.nn._checks import (check_choice, check_device, check_flag, check_input, check_int, check_ints,
                               check_position, position_steps)
from tsrec.nn.normalization import InstanceNorm


class RecurrentCycle(nn.Module):
    """A learnable cycle of ``length`` steps per channel, read out by modular gather.

    Parameters
    ----------
    length : int
        Steps ``W`` of one cycle; phases are taken modulo it.
    n_channels : int
        Channels; each has its own cycle (``data`` is (length, n_channels), initialised to zeros).

    Examples
    --------
    >>> import torch
    >>> cycle = RecurrentCycle(length=24, n_channels=3)
    >>> cycle(torch.tensor([0, 5]), 48).shape
    torch.Size([2, 48, 3])
    """

    def __init__(self, length: int, n_channels: int) -> None:
        super().__init__()
        length, n_channels = check_ints(length=length, n_channels=n_channels)
        self.length = length
        self.data = nn.Parameter(torch.zeros(length, n_channels))

    def forward(self, phase: torch.Tensor, n_steps: int) -> torch.Tensor:
        """Return the cycle values for windows starting at ``phase`` (batch,), shape (batch, n_steps, channels).

        Parameters
        ----------
        phase : torch.Tensor
            Integers: the absolute index of each window's first step, (batch,); or the index of
            each of its steps, (batch, >= n_steps).
        n_steps : int
            Steps per window to read, >= 1.

        Returns
        -------
        torch.Tensor
            The cycle values, (batch, n_steps, n_channels).
        """
        n_steps = check_int("n_steps", n_steps)
        check_position(phase, None, "phase", n_steps)
        if phase.device.type != "cpu":  # CPU indices index any device; others must be the cycle's
            check_device("phase", phase, self.data)
        return self.at(position_steps(phase, n_steps))

    def at(self, steps: torch.Tensor) -> torch.Tensor:
        """The cycle values at absolute step indices ``steps`` (batch, n), shape (batch, n, channels)."""
        return self.data[steps % self.length]


class CycleNet(nn.Module):
    """CycleNet network: instance norm, cycle removal, Linear or MLP backbone, cycle restoration.

    Parameters
    ----------
    lookback, horizon : int
        Input and output window lengths.
    n_channels : int
        Number of variates; ``Q`` has one column per variate.
    cycle_length : int
        Length ``W`` of the learned cycle.
    backbone : {"linear", "mlp"}, default="linear"
        ``linear``: one (lookback -> horizon) map; ``mlp``: two maps with a ReLU between.
    d_model : int, default=512
        Hidden width of the MLP backbone.
    use_revin : bool, default=True
        Per-window instance normalisation with the unbiased variance, as the paper's code.

    Examples
    --------
    >>> import torch
    >>> net = CycleNet(lookback=96, horizon=24, n_channels=7, cycle_length=24)
    >>> net(torch.randn(4, 96, 7), position=torch.arange(4)).shape
    torch.Size([4, 24, 7])
    """

    uses_position = True

    def __init__(
        self,
        lookback: int,
        horizon: int,
        n_channels: int,
        cycle_length: int,
        backbone: str = "linear",
        d_model: int = 512,
        use_revin: bool = True,
    ) -> None:
        super().__init__()
        lookback, horizon, n_channels, cycle_length, d_model = check_ints(
            lookback=lookback, horizon=horizon, n_channels=n_channels, cycle_length=cycle_length, d_model=d_model)
        check_choice("backbone", backbone, ("linear", "mlp"))
        use_revin = check_flag("use_revin", use_revin)
        self.lookback, self.horizon = lookback, horizon
        self.cycle = RecurrentCycle(cycle_length, n_channels)
        self.norm = InstanceNorm(unbiased=True, enabled=use_revin)
        if backbone == "linear":
            self.backbone = nn.Linear(lookback, horizon)
        else:
            self.backbone = nn.Sequential(nn.Linear(lookback, d_model), nn.ReLU(), nn.Linear(d_model, horizon))

    def forward(self, x: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        """Forecast (batch, horizon, channels) from ``x`` (batch, lookback, channels).

        Parameters
        ----------
        x : torch.Tensor
            The lookback window, (batch, lookback, n_channels).
        position : torch.Tensor
            (batch,) integers: the absolute index of each window's first input step, which sets
            the phase of the cycle; or (batch, lookback + horizon) indices of every step, input
            and output (wall-clock indices of zoned stamps skip or repeat one at a daylight-saving
            change).

        Returns
        -------
        torch.Tensor
            The forecast, (batch, horizon, n_channels).
        """
        first = self.backbone if isinstance(self.backbone, nn.Linear) else self.backbone[0]
        dims = ("batch", ("lookback", self.lookback, "lookback"), ("channels", self.cycle.data.shape[1], "n_channels"))
        width = self.lookback + self.horizon
        check_position(position, check_input("x", x, dims, first.weight).shape[0], n_steps=width)
        if position.device.type != "cpu":  # CPU indices index any device; others must be the cycle's
            check_device("position", position, first.weight)
        steps = position_steps(position, width)
        x, stats = self.norm.normalize(x)
        x = x - self.cycle.at(steps[:, : self.lookback])
        y = self.backbone(x.transpose(1, 2)).transpose(1, 2)
        y = y + self.cycle.at(steps[:, self.lookback :])
        return self.norm.denormalize(y, stats)
