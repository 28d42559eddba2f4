"""TPGN, the PGN forecaster (Jia et al., NeurIPS 2024, arXiv 2409.17703): a look-back window reshaped
into rows of one period, :class:`~tsrec.nn.pgn.PGNLayer` down the rows (long-term) and linear maps over
each row (short-term), both mapped to the horizon; see :mod:`tsrec.nn.pgn` for PGN itself."""

from __future__ import annotations

import torch
from torch import nn

from tsrec.nn._checks import check_flag, check_input, check_int, check_ints, check_marks
from tsrec.nn.pgn import GroupedLinear, PGNLayer

__all__ = ["TPGN"]


def _multiple_error(name: str, value: int, period: int, minimum: int = 1) -> ValueError:
    """A ValueError that names the nearest valid multiples of ``period`` (those at least ``minimum``)."""
    lower, upper = (value // period) * period, max((value // period + 1) * period, minimum)
    options = f"{lower} or {upper}" if lower >= minimum else f"{upper}"
    return ValueError(f"{name}={value} is not a multiple of period={period}; use {name}={options}")


class TPGN(nn.Module):
    """TPGN forecaster: 2-D period reshape, PGN long-term branch, patch short-term branch.

    With ``R = lookback / period`` rows and ``R_f = horizon / period`` output rows, per variable:

    1. optional normalisation per window: subtract the (detached) mean over time and divide by
       ``sqrt(biased variance + 1e-5)``; undone on the output. No affine parameters.
    2. reshape to ``R`` rows x ``period`` columns; row ``r``, column ``p`` is time ``r*period + p``.
       Optional time features are appended to every variable's value (``1 + n_time_features``).
    3. long-term branch: PGN down the rows of each column (HIE over all earlier rows), then a linear
       map of the ``R * hidden`` row outputs to ``hidden``, shared across columns -> (period, hidden).
    4. short-term branch: each row (a patch of one period) -> ``hidden``, shared across rows; then
       the ``R * hidden`` row vectors -> one global ``hidden`` vector, copied to every column.
    5. head: ``[short, long]`` (``2 * hidden``) per column -> ``R_f`` values; element ``(r_f, p)`` is
       forecast step ``r_f*period + p``.

    Every map has its own weights per variable (channel-independent), as in the reference.

    Parameters
    ----------
    lookback : int
        Input length ``L``; a multiple of ``period`` spanning at least 2 periods (the reference's
        HIE kernel has ``R - 1`` taps, so ``R = 1`` is invalid there too).
    horizon : int
        Forecast length; a multiple of ``period``.
    n_channels : int
        Number of variables ``C`` (the paper's experiments are univariate, ``C = 1``).
    period : int
        Natural period ``P`` (24 in every experiment of the paper, for hourly data).
    hidden : int, default=32
        ``d_m``. The paper tunes it per task (2 to 256, Table B); 32 is its ECL value.
    norm : bool, default=True
        Per-window normalisation (the paper's ``norm`` flag, tuned per dataset).
    n_time_features : int, default=0
        Width ``c_t`` of the optional time-feature input ``x_mark`` (4 for hourly ``timeF``).

    Notes
    -----
    The reference has no dropout in TPGN, so neither does this module.

    Examples
    --------
    >>> import torch
    >>> model = TPGN(lookback=168, horizon=48, n_channels=1, period=24)
    >>> model(torch.randn(8, 168, 1)).shape
    torch.Size([8, 48, 1])
    """

    uses_position = False  # forecasting networks tell the engine whether they read time positions

    def __init__(
        self,
        lookback: int,
        horizon: int,
        n_channels: int,
        period: int,
        *,
        hidden: int = 32,
        norm: bool = True,
        n_time_features: int = 0,
    ) -> None:
        super().__init__()
        lookback, horizon, n_channels, period, hidden = check_ints(
            lookback=lookback, horizon=horizon, n_channels=n_channels, period=period, hidden=hidden)
        n_time_features = check_int("n_time_features", n_time_features, minimum=0)
        for name, value, minimum in [("lookback", lookback, 2 * period), ("horizon", horizon, 1)]:
            if value % period:
                raise _multiple_error(name, value, period, minimum)
        if lookback < 2 * period:
            raise ValueError(
                f"lookback={lookback} spans fewer than 2 periods of {period}; TPGN's long-term branch "
                f"needs at least 2 rows, use lookback={2 * period} or more"
            )
        self.lookback, self.horizon, self.n_channels, self.period = lookback, horizon, n_channels, period
        self.hidden, self.norm, self.n_time_features = hidden, check_flag("norm", norm), n_time_features
        rows, out_rows, feats, c = lookback // period, horizon // period, 1 + n_time_features, n_channels
        self.rows, self.out_rows = rows, out_rows
        self.pgn = PGNLayer(c * feats, c * hidden, max_len=rows, groups=c)
        self.linear_long = GroupedLinear(c, rows * hidden, hidden)
        self.linear_row = GroupedLinear(c, period * feats, hidden)
        self.linear_col = GroupedLinear(c, rows * hidden, hidden)
        self.head = GroupedLinear(c, 2 * hidden, out_rows)

    def _check_inputs(self, x: torch.Tensor, x_mark: torch.Tensor | None) -> None:
        """Raise a ValueError (a TypeError for a dtype) naming the expected shapes."""
        lookback = ("lookback", self.lookback, "lookback", lambda n: n % self.period == 0 and n >= 2 * self.period)
        check_input("x", x, ("batch", lookback, ("channels", self.n_channels, "n_channels")), self.head.weight)
        check_marks(x_mark, x, self.lookback, self.n_time_features)

    def _long_term(self, z: torch.Tensor) -> torch.Tensor:
        """[B, R, P, C, F] -> [B, P, C, d]: PGN down the rows of each column, then rows -> d."""
        b, r, p, c, f = z.shape
        seq = z.permute(0, 2, 1, 3, 4).reshape(b * p, r, c * f)  # one row-sequence per column
        out = self.pgn(seq).reshape(b, p, r, c, self.hidden)
        flat = out.permute(0, 1, 3, 2, 4).reshape(b, p, c, r * self.hidden)
        return self.linear_long(flat)

    def _short_term(self, z: torch.Tensor) -> torch.Tensor:
        """[B, R, P, C, F] -> [B, P, C, d]: each period-row -> d, all rows -> one global vector."""
        b, r, p, c, f = z.shape
        patches = z.permute(0, 1, 3, 2, 4).reshape(b, r, c, p * f)
        rows = self.linear_row(patches)  # [B, R, C, d]
        glob = self.linear_col(rows.permute(0, 2, 1, 3).reshape(b, c, r * self.hidden))
        return glob.unsqueeze(1).expand(b, p, c, self.hidden)

    @staticmethod
    def _normalize(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``((x - mean) / std, mean, std)`` over time: the mean detached, the biased variance not.

        Two passes (the mean, then the squares about it) rather than ``Tensor.var``, whose
        reduction over the time axis is much slower on a CPU than mean and sum.
        """
        mean = x.mean(dim=1, keepdim=True).detach()
        centered = x - mean
        std = torch.sqrt(centered.square().mean(dim=1, keepdim=True) + 1e-5)
        return centered / std, mean, std

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        """Forecast: x [B, lookback, C] (x_mark [B, lookback, c_t]) -> [B, horizon, C].

        Parameters
        ----------
        x : torch.Tensor
            The lookback window, (batch, lookback, n_channels).
        x_mark : torch.Tensor or None, default=None
            Time features of the lookback steps, (batch, lookback, n_time_features): required
            when built with ``n_time_features > 0``, refused when with 0.

        Returns
        -------
        torch.Tensor
            The forecast, (batch, horizon, n_channels).
        """
        self._check_inputs(x, x_mark)
        b, c = x.shape[0], self.n_channels
        if self.norm:
            x, mean, std = self._normalize(x)
        z = x.unsqueeze(-1)  # [B, L, C, 1]
        if x_mark is not None:
            z = torch.cat([z, x_mark.unsqueeze(2).expand(-1, -1, c, -1)], dim=-1)
        z = z.reshape(b, self.rows, self.period, c, -1)  # row r, column p = time r*P + p
        both = torch.cat([self._short_term(z), self._long_term(z)], dim=-1)  # [B, P, C, 2d]
        out = self.head(both)  # [B, P, C, R_f]
        out = out.permute(0, 3, 1, 2).reshape(b, self.horizon, c)  # (r_f, p) -> step r_f*P + p
        if self.norm:
            out = out * std + mean
        return out
