"""PGN (Parallel Gated Network; Jia et al., NeurIPS 2024, arXiv 2409.17703); its forecaster TPGN is in
:mod:`tsrec.nn.tpgn`.

PGN replaces the recurrence of a GRU by a parallel summary of the whole history. For an input
``X`` of shape (time, features), with ``x_t`` the step at time ``t``:

* HIE (Historical Information Extraction): ``H_t = b_h + sum_{k=1}^{K} W_h[k] x_{t-k}``, a linear map
  over every strictly earlier step (``x_{<0} = 0``), ``K = max_len - 1``. It is a causal convolution
  whose kernel spans the longest sequence, so every output sees the whole history in one step
  (information path O(1), no recurrence).
* gated fusion: ``G = sigmoid(W_g [x_t, H_t] + b_g)``, ``C = tanh(W_c [x_t, H_t] + b_c)``,
  ``out_t = G * H_t + (1 - G) * C``.

TPGN reshapes a look-back window of ``L = R * P`` steps into ``R`` rows of one period ``P``, runs
PGN down the rows (long-term, across periods) and linear maps over each row (short-term, within a
period), and maps both to the horizon. All TPGN weights are per variable (no sharing across channels).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tsrec.nn._checks import check_dropout, check_input, check_int, check_ints
from tsrec.nn.heads import check_pool, pool_over_time

__all__ = ["PGNEncoder", "PGNLayer"]


# Up to this many steps HIE runs as one dense block-Toeplitz matmul per group instead of conv1d
# (PGNLayer._dense_history): over a handful of steps (TPGN's HIE runs down lookback / period rows)
# grouped conv1d is slower on a CPU, forward and backward; the dense weight grows with time**2,
# and at 150 steps (GunPoint's series, PGNClassifier) it is slower than the convolution.
_DENSE_HIE_MAX_LEN = 32


class GroupedLinear(nn.Module):
    """Independent linear maps per group: [..., G, in] -> [..., G, out] (per-variable weights, used by
    :class:`~tsrec.nn.tpgn.TPGN` too)."""

    def __init__(self, groups: int, in_features: int, out_features: int) -> None:
        super().__init__()
        # Same uniform(+-1/sqrt(fan_in)) scale as torch.nn.Linear, per group.
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(groups, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(groups, out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...gi,gio->...go", x, self.weight) + self.bias


class PGNLayer(nn.Module):
    """One Parallel Gated Network layer (paper Eq. 1): full-history HIE + single-gate fusion.

    Parameters
    ----------
    in_features : int
        Channels of the input, ``(batch, time, in_features)``.
    hidden : int
        Channels of the output (the paper's ``d_m``).
    max_len : int
        Longest sequence the layer accepts. The HIE kernel has ``max_len - 1`` taps (lags
        ``1 .. max_len - 1``), fixed at construction as in the reference.
    groups : int, default=1
        Split the channels into independent groups with their own weights (TPGN uses one group
        per variable). ``in_features`` and ``hidden`` must be multiples of ``groups``.

    Notes
    -----
    Inputs shorter than ``max_len`` use only the first ``time - 1`` lags of the kernel (the kernel
    is truncated causally). That equals running the full kernel on the input left-padded with zeros,
    so the outputs at the real steps do not depend on ``max_len``. Inputs longer than ``max_len``
    raise a ValueError: the layer would no longer see the full history.

    The output at step ``t`` depends only on ``x_0 .. x_t`` (causal); step 0 sees no history, so
    its ``H`` is the HIE bias alone.

    Examples
    --------
    >>> import torch
    >>> layer = PGNLayer(in_features=3, hidden=16, max_len=50)
    >>> layer(torch.randn(4, 50, 3)).shape
    torch.Size([4, 50, 16])
    >>> layer(torch.randn(4, 20, 3)).shape  # shorter input: kernel truncated causally
    torch.Size([4, 20, 16])
    """

    def __init__(self, in_features: int, hidden: int, max_len: int, groups: int = 1) -> None:
        super().__init__()
        in_features, hidden, groups = check_ints(in_features=in_features, hidden=hidden, groups=groups)
        max_len = check_int("max_len", max_len, minimum=2)
        if in_features % groups or hidden % groups:
            raise ValueError(f"in_features={in_features} and hidden={hidden} must both be multiples of groups={groups}")
        self.in_features, self.hidden, self.max_len, self.groups = in_features, hidden, max_len, groups
        # HIE: weight [hidden, in_features/groups, max_len-1]; tap j holds lag max_len-1-j.
        self.hie = nn.Conv1d(in_features, hidden, kernel_size=max_len - 1, groups=groups)
        g_in, g_hid = in_features // groups, hidden // groups
        # Gate and candidate from one map of [x_t, H_t], split afterwards (2 * d_m outputs).
        self.gate = GroupedLinear(groups, g_in + g_hid, 2 * g_hid)

    def history(self, x: torch.Tensor) -> torch.Tensor:
        """HIE summary ``H`` of the steps before each one.

        Parameters
        ----------
        x : torch.Tensor
            Inputs of shape (batch, time, in_features), with ``1 <= time <= max_len``, checked as
            :meth:`forward` checks them (a longer input would reuse the longest lag's weight).

        Returns
        -------
        torch.Tensor
            ``H`` of shape (batch, time, hidden); ``H_t`` depends on ``x_{<t}`` only.
        """
        self._check(x)
        return self._history(x)

    def _history(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`history` of a checked ``x``."""
        batch, time, _ = x.shape
        if time == 1:
            return self.hie.bias.expand(batch, 1, self.hidden)
        if time <= _DENSE_HIE_MAX_LEN:
            return self._dense_history(x)
        taps = time - 1
        # The last `taps` kernel entries are lags 1..taps; longer lags would only meet zero padding.
        weight = self.hie.weight[..., -taps:]
        # Drop the current step and left-pad so output t sees x_{t-taps} .. x_{t-1}.
        past = F.pad(x.transpose(1, 2)[..., :-1], (taps, 0))
        return F.conv1d(past, weight, self.hie.bias, groups=self.groups).transpose(1, 2)

    def _dense_history(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`history` of a short sequence as one batched matmul per group.

        The same sums as the causal convolution: ``W[g]`` maps the whole window ``(T * in/g)`` to
        every output step ``(T * hidden/g)``, holding kernel tap ``K - (t - s)`` (lag ``t - s``)
        where input step ``s`` is earlier than output step ``t`` and zeros elsewhere.
        """
        batch, time, _ = x.shape
        g, kernel = self.groups, self.hie.weight.shape[-1]
        g_in, g_hid = self.in_features // g, self.hidden // g
        steps = torch.arange(time, device=x.device)
        lag = steps[None, :] - steps[:, None]  # [s, t]: output t reads input s at lag t - s
        # tap j holds lag K - j; lags < 1 (s >= t) index a clamped tap and are zeroed just below
        weight = self.hie.weight.view(g, g_hid, g_in, kernel)[..., (kernel - lag).clamp(0, kernel - 1)]
        weight = weight * (lag > 0).to(weight.dtype)  # [g, o, i, s, t]
        weight = weight.permute(0, 3, 2, 4, 1).reshape(g, time * g_in, time * g_hid)
        xg = x.reshape(batch, time, g, g_in).permute(2, 0, 1, 3).reshape(g, batch, time * g_in)
        h = torch.bmm(xg, weight).view(g, batch, time, g_hid).permute(1, 2, 0, 3)
        return h.reshape(batch, time, self.hidden) + self.hie.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the layer: [B, T, in_features] -> [B, T, hidden].

        Parameters
        ----------
        x : torch.Tensor
            Inputs, (batch, time, in_features), with ``1 <= time <= max_len``.

        Returns
        -------
        torch.Tensor
            The layer's output at every step, (batch, time, hidden); causal in time.
        """
        self._check(x)
        return self._fuse(x, self._history(x))

    def last_step(self, x: torch.Tensor) -> torch.Tensor:
        """The layer's output at the final step only, ``forward(x)[:, -1:]`` computed alone.

        Parameters
        ----------
        x : torch.Tensor
            The whole sequence, as :meth:`forward` takes it: every earlier step enters the last HIE.

        Returns
        -------
        torch.Tensor
            (batch, 1, hidden): the final step's HIE is one product of the taps with the earlier steps.
        """
        self._check(x)
        batch, time, _ = x.shape
        if time == 1:
            history = self.hie.bias.expand(batch, 1, self.hidden)
        else:  # the causal convolution's last output: no padding, the kernel's last time - 1 taps
            past = x.transpose(1, 2)[..., :-1]
            history = F.conv1d(past, self.hie.weight[..., 1 - time:], self.hie.bias, groups=self.groups)
            history = history.transpose(1, 2)
        return self._fuse(x[:, -1:], history)

    def _check(self, x: torch.Tensor) -> None:
        features = ("features", self.in_features, "in_features", lambda n: n % self.groups == 0)
        check_input("x", x, ("batch", "time", features), self.hie.weight)
        if not 1 <= x.shape[1] <= self.max_len:
            raise ValueError(
                f"sequence length {x.shape[1]} is outside 1..max_len={self.max_len}; "
                f"build the layer with max_len >= {x.shape[1]}"
            )

    def _fuse(self, x: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
        """The single gate of Eq. 1 over each step's input and HIE summary."""
        batch, time, _ = x.shape
        xg, hg = x.reshape(batch, time, self.groups, -1), history.reshape(batch, time, self.groups, -1)
        gate, cand = self.gate(torch.cat([xg, hg], dim=-1)).chunk(2, dim=-1)
        gate = torch.sigmoid(gate)
        out = gate * hg + (1.0 - gate) * torch.tanh(cand)
        return out.reshape(batch, time, self.hidden)


class PGNEncoder(nn.Module):
    """Stacked PGN layers pooled to one vector per sequence, for classification.

    Layer 1 maps ``in_features -> hidden``; later layers are residual (``h + PGN(h)``). Each layer is
    followed by dropout and LayerNorm (not BatchNorm, so a batch of one sample works).

    Parameters
    ----------
    in_features : int
        Channels of the input, ``(batch, time, in_features)``.
    hidden : int
        Width of every layer and of the returned vector.
    max_len : int
        Longest sequence accepted (see :class:`PGNLayer`).
    n_layers : int, default=1
        Number of PGN layers (the paper uses a single PGN layer).
    dropout : float, default=0.1
        Dropout after each layer (our choice; the paper has no classification setting).
    pool : {"last", "mean"}, default="last"
        ``"last"`` takes the output at the final step, the PGN analogue of a GRU's final state: it
        is the only step whose HIE sees the whole sequence. ``"mean"`` averages over time. The paper
        evaluates PGN only for forecasting, so this choice is ours.

    Examples
    --------
    >>> import torch
    >>> enc = PGNEncoder(in_features=6, hidden=32, max_len=100)
    >>> enc(torch.randn(1, 100, 6)).shape
    torch.Size([1, 32])
    """

    def __init__(
        self,
        in_features: int,
        hidden: int,
        max_len: int,
        *,
        n_layers: int = 1,
        dropout: float = 0.1,
        pool: str = "last",
    ) -> None:
        super().__init__()
        n_layers, dropout = check_int("n_layers", n_layers), check_dropout(dropout)
        check_pool(pool)
        widths = [in_features] + [hidden] * n_layers
        self.layers = nn.ModuleList(PGNLayer(a, hidden, max_len) for a in widths[:-1])
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(n_layers))
        self.dropout = nn.Dropout(dropout)
        self.pool = pool
        self.hidden = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode: [B, T, in_features] -> [B, hidden].

        Parameters
        ----------
        x : torch.Tensor
            Sequences, (batch, time, in_features), with ``1 <= time <= max_len``.

        Returns
        -------
        torch.Tensor
            One vector per sequence, (batch, hidden), pooled over time as ``pool`` says.
        """
        h = x
        for i, (layer, norm) in enumerate(zip(self.layers, self.norms, strict=True)):
            if self.pool == "last" and i == len(self.layers) - 1:
                # only the final step is read: computing every step made a training step 5x slower
                out = self.dropout(layer.last_step(h))
                h = norm(out if i == 0 else h[:, -1:] + out)
            else:
                out = self.dropout(layer(h))
                h = norm(out if i == 0 else h + out)
        return pool_over_time(h, self.pool)
